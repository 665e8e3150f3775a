#include <stdio.h>

#include "cli.h"

int cli_cmd_version(cli_args *args)
{
  cli_no_extra(args);
  printf("libprism %s (header %s)\n", prism_version_string(), PRISM_VERSION_STRING);
  printf("cpu features: %s\n", *prism_cpu_features() ? prism_cpu_features() : "portable");
  printf("threads: %d\n", prism_get_num_threads());
  return 0;
}
