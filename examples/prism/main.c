/* prism — command-line front end to libprism (see docs/cli.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Every command, in the order prism --help lists them. */
static const cli_command *const commands[] = {
  &cli_cmd_demo,           &cli_cmd_run,        &cli_cmd_explain,         &cli_cmd_generate,
  &cli_cmd_tokenize,       &cli_cmd_detokenize, &cli_cmd_tokenizer_train, &cli_cmd_rank_train,
  &cli_cmd_rank_recommend, &cli_cmd_rank_eval,  &cli_cmd_eval_text,       &cli_cmd_teacher_prompts,
  &cli_cmd_teacher_import, &cli_cmd_train,      &cli_cmd_version,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static int is_help(const char *word)
{
  return strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0;
}

/* Commands whose name starts with `group` (all of them for NULL). */
static void list_commands(FILE *out, const char *group)
{
  for (size_t i = 0; i < N_COMMANDS; i++) {
    const char *name = commands[i]->name;
    if (group && (strncmp(name, group, strlen(group)) != 0 || name[strlen(group)] != ' '))
      continue;
    fprintf(out, "  %-16s %s\n", name, commands[i]->summary);
  }
}

static void usage(FILE *out)
{
  fprintf(out, "usage: prism COMMAND [OPTIONS]\n\ncommands:\n");
  list_commands(out, NULL);
  fprintf(out,
          "\n'prism COMMAND --help' shows a command's options, their defaults and an example.\n"
          "JSON Lines in on stdin, one JSON line out per input line; see docs/cli.md.\n");
}

/* Words of the command's name that argv (after "prism") starts with: 0 when it does not match. */
static int matches(const cli_command *cmd, int argc, char **argv)
{
  const char *name = cmd->name;
  int words = 0;
  while (*name) {
    size_t len = strcspn(name, " ");
    if (words >= argc || strlen(argv[words]) != len || strncmp(argv[words], name, len) != 0)
      return 0;
    words++;
    name += len + (name[len] == ' ');
  }
  return words;
}

/* Is `word` the first word of a command with subcommands ("rank")? */
static int is_group(const char *word)
{
  for (size_t i = 0; i < N_COMMANDS; i++) {
    const char *name = commands[i]->name;
    if (strncmp(name, word, strlen(word)) == 0 && name[strlen(word)] == ' ')
      return 1;
  }
  return 0;
}

int main(int argc, char **argv)
{
  cli_args args;

  if (argc < 2 || is_help(argv[1])) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "--version") == 0)
    argv[1] = "version";
  for (size_t i = 0; i < N_COMMANDS; i++) {
    int words = matches(commands[i], argc - 1, argv + 1);
    if (!words)
      continue;
    cli_parse(&args, commands[i], argc - 1 - words, argv + 1 + words);
    cli_apply_limits(&args);
    return commands[i]->run(&args);
  }
  if (is_group(argv[1])) {
    FILE *out = argc > 2 && is_help(argv[2]) ? stdout : stderr;
    if (argc == 2)
      fprintf(stderr, "prism: error: %s: a subcommand is needed\n\n", argv[1]);
    else if (out == stderr)
      fprintf(stderr, "prism: error: %s: unknown subcommand \"%s\"\n\n", argv[1], argv[2]);
    fprintf(out, "usage: prism %s SUBCOMMAND [OPTIONS]\n\nsubcommands:\n", argv[1]);
    list_commands(out, argv[1]);
    fprintf(out, "\n'prism %s SUBCOMMAND --help' shows its options.\n", argv[1]);
    return out == stdout ? 0 : 2;
  }
  fprintf(stderr, "prism: error: unknown command \"%s\"\n\n", argv[1]);
  usage(stderr);
  return 2;
}
