/* prism — command-line front end to libprism (see docs/cli.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct {
  const char *name;
  cli_command_fn fn;
  const char *help;
} commands[] = {
  { "demo", cli_cmd_demo, "run the rank-and-explain demo" },
  { "detokenize", cli_cmd_detokenize, "ids to text: {\"ids\": [int]} -> {\"text\": S}" },
  { "eval-text", cli_cmd_eval_text, "score explanations: BLEU, ROUGE, USR, DIV, faithfulness" },
  { "explain", cli_cmd_explain, "explain: {\"text\": S} -> {\"explanations\": [S]} (JSONL)" },
  { "generate", cli_cmd_generate, "generate token ids with a BART model (JSONL)" },
  { "rank", cli_cmd_rank, "train, apply and evaluate a ranker (train|recommend|eval)" },
  { "tokenize", cli_cmd_tokenize, "text to ids: {\"text\": S} -> {\"ids\": [int]}" },
  { "tokenizer-train", cli_cmd_tokenizer_train,
    "learn a byte-level BPE vocabulary (vocab.json + merges.txt) from text files" },
  { "version", cli_cmd_version, "print the library version and build facts" },
};

static void usage(FILE *out)
{
  fprintf(out, "usage: prism COMMAND [OPTIONS]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-16s %s\n", commands[i].name, commands[i].help);
  fprintf(out, "\nJSON Lines in on stdin, one JSON line out per input line; see docs/cli.md.\n");
}

int main(int argc, char **argv)
{
  cli_args args;
  int rc;

  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "--version") == 0)
    argv[1] = "version";
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(argv[1], commands[i].name) != 0)
      continue;
    args.argc = argc - 1;
    args.argv = argv + 1;
    args.used = calloc((size_t)argc, sizeof *args.used);
    if (!args.used)
      cli_fatal("out of memory");
    rc = commands[i].fn(&args);
    free(args.used);
    return rc;
  }
  fprintf(stderr, "prism: error: unknown command \"%s\"\n\n", argv[1]);
  usage(stderr);
  return 2;
}
