/* prism version: the library, the CPU features its kernels use, threads, the Unicode tables. */
#include <stdio.h>

#include "cli.h"

static const cli_option options[] = { CLI_OPTIONS_END };

static int run(const cli_args *args)
{
  (void)args;
  printf("libprism %s (header %s)\n", prism_version_string(), PRISM_VERSION_STRING);
  printf("cpu features: %s\n", *prism_cpu_features() ? prism_cpu_features() : "portable");
  printf("threads: %d\n", prism_get_num_threads());
  /* The tokenizer classifies characters with the system utf8proc's tables. */
  printf("unicode: %s (tokenizer character classes, from utf8proc)\n",
         prism_tokenizer_unicode_version());
  return 0;
}

const cli_command cli_cmd_version = {
  "version",
  "print the library version and build facts",
  NULL,
  "  The library and header versions, the CPU features the kernels dispatch on, the worker\n"
  "  thread count and the Unicode version of the tokenizer's character tables (utf8proc).\n",
  "prism version",
  options,
  run,
};
