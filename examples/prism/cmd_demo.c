#include <stdio.h>

#include "cli.h"

int cli_cmd_demo(cli_args *args)
{
  cli_no_extra(args);
  printf("libprism %s — rank-and-explain demo\n", prism_version_string());
  printf("cpu features: %s; threads: %d\n",
         *prism_cpu_features() ? prism_cpu_features() : "portable", prism_get_num_threads());
  printf("modules available: common\n");
  return 0;
}
