/*
 * prism tokenizer-train — learn a byte-level BPE vocabulary (vocab.json +
 * merges.txt) from plain-text or JSON Lines files. See docs/cli.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define DEFAULT_SPECIALS "<s>,<pad>,</s>,<unk>,<mask>"
#define DEFAULT_FIELDS "source,target"

/* Split a comma-separated list into a NULL-terminated array of copies. */
static char **split_list(const char *list, size_t *n)
{
  size_t count = *list ? 1 : 0, i = 0;
  char *copy = strdup(list), *save = NULL, *tok;
  char **out;

  for (const char *p = list; *p; p++)
    count += *p == ',';
  out = calloc(count + 1, sizeof *out);
  if (!copy || !out)
    cli_fatal("out of memory");
  for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
    if (!(out[i++] = strdup(tok)))
      cli_fatal("out of memory");
  free(copy);
  *n = i;
  return out;
}

static void free_list(char **list)
{
  for (size_t i = 0; list && list[i]; i++)
    free(list[i]);
  free(list);
}

/* One line per stage start and per tenth of it. */
static int on_progress(int stage, uint64_t done, uint64_t total, void *payload)
{
  int *last_tenth = payload, tenth = total ? (int)(done * 10 / total) : 10;
  if (done != 0 && tenth == last_tenth[stage])
    return 1;
  last_tenth[stage] = tenth;
  fprintf(stderr, "%s %llu/%llu\n", stage == PRISM_TOKENIZER_TRAINER_WORDS ? "words" : "merges",
          (unsigned long long)done, (unsigned long long)total);
  return 1;
}

static void make_dir(const char *dir)
{
  struct stat st;
  if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
    return;
  if (mkdir(dir, 0777) != 0)
    cli_fatal("cannot create %s: %s", dir, strerror(errno));
}

static void feed_all(prism_tokenizer_trainer *t, const char **files, size_t n,
                     const char *const *fields, size_t n_fields)
{
  for (size_t i = 0; i < n; i++) {
    int rc = prism_tokenizer_trainer_feed_file(t, files[i], fields, n_fields);
    if (rc != PRISM_OK)
      cli_fatal_status(rc, "cannot read the input");
    fprintf(stderr, "read %s\n", files[i]);
  }
}

static int run(const cli_args *args)
{
  prism_tokenizer_trainer_params p;
  prism_tokenizer_trainer_stats stats = { sizeof stats, 0, 0, 0, 0, 0 };
  prism_tokenizer_trainer *t;
  size_t n_text, n_jsonl, n_specials, n_fields;
  const char *out = cli_str(args, "--out");
  const char **text_files, **jsonl_files;
  char **special_list, **field_list;
  int rc, last_tenth[2] = { -1, -1 };

  prism_tokenizer_trainer_params_init(&p, sizeof p);
  text_files = cli_list(args, "--input", &n_text);
  jsonl_files = cli_list(args, "--jsonl", &n_jsonl);
  if (cli_given(args, "--vocab-size"))
    p.vocab_size = (int32_t)cli_int(args, "--vocab-size");
  if (cli_given(args, "--min-frequency"))
    p.min_frequency = (int32_t)cli_int(args, "--min-frequency");
  p.limit_alphabet = cli_given(args, "--limit-alphabet")
                         ? (int32_t)cli_int(args, "--limit-alphabet")
                         : PRISM_UNSET;
  p.corpus_alphabet = cli_flag(args, "--corpus-alphabet");
  if (n_text + n_jsonl == 0)
    cli_fatal("tokenizer-train needs --input FILE or --jsonl FILE (see --help)");
  if (cli_given(args, "--fields") && n_jsonl == 0)
    cli_fatal("--fields applies to --jsonl files only");

  special_list = split_list(cli_str(args, "--special-tokens"), &n_specials);
  field_list = split_list(cli_str(args, "--fields"), &n_fields);
  if (n_fields == 0)
    cli_fatal("--fields needs at least one field name");
  p.special_tokens = (const char *const *)special_list;
  p.n_special_tokens = n_specials;
  cli_set_threads(args);
  if ((rc = prism_tokenizer_trainer_create(&t, &p)) != PRISM_OK)
    cli_fatal_status(rc, "invalid settings");
  feed_all(t, text_files, n_text, NULL, 0);
  feed_all(t, jsonl_files, n_jsonl, (const char *const *)field_list, n_fields);
  make_dir(out);
  rc = prism_tokenizer_trainer_train(&stats, t, out, on_progress, last_tenth);
  prism_tokenizer_trainer_free(t);
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "training failed");
  fprintf(stderr,
          "%llu words (%llu distinct); %d tokens (%d byte symbols) and %d merges written to %s\n",
          (unsigned long long)stats.words, (unsigned long long)stats.unique_words,
          (int)stats.vocab_size, (int)stats.alphabet_size, (int)stats.merges, out);
  free_list(special_list);
  free_list(field_list);
  free(text_files);
  free(jsonl_files);
  return 0;
}

static const cli_option options[] = {
  { "--input", CLI_LIST, "FILE", NULL, NULL,
    "plain text: each line, with its line ending, is one text (HF train(files)); repeatable", 0, 0,
    0 },
  { "--jsonl", CLI_LIST, "FILE", NULL, NULL,
    "JSON Lines: the --fields of each object are the texts; repeatable", 0, 0, 0 },
  { "--fields", CLI_TEXT, "A,B", DEFAULT_FIELDS, NULL, "string fields read from --jsonl lines", 0,
    0, 0 },
  { "--out", CLI_TEXT, "DIR", NULL, NULL, "output folder, created when missing", 0, 0, 1 },
  { "--vocab-size", CLI_INT, "N", NULL, "30000", "special tokens + alphabet + merges", 1, 1L << 24,
    0 },
  { "--min-frequency", CLI_INT, "N", NULL, "2", "never merge a pair seen fewer times", 0, INT32_MAX,
    0 },
  { "--special-tokens", CLI_TEXT, "LIST", DEFAULT_SPECIALS, NULL,
    "comma-separated, ids 0.. in this order; \"\" for none", 0, 0, 0 },
  { "--limit-alphabet", CLI_INT, "N", NULL, "no limit",
    "keep at most N byte symbols, dropping the rarest", 0, INT32_MAX, 0 },
  { "--corpus-alphabet", CLI_FLAG, NULL, NULL, "off: all 256",
    "only the byte symbols the texts contain", 0, 0, 0 },
  CLI_OPTION_THREADS,
  CLI_OPTIONS_END,
};

const cli_command cli_cmd_tokenizer_train = {
  "tokenizer-train",
  "learn a byte-level BPE vocabulary (vocab.json + merges.txt) from text files",
  NULL,
  "  HuggingFace BpeTrainer's rules; writes DIR/vocab.json and DIR/merges.txt. Give --input\n"
  "  or --jsonl files (or both). Progress and a summary go to stderr; the files do not\n"
  "  depend on --threads.\n",
  "prism tokenizer-train --jsonl pairs.jsonl --vocab-size 8000 --out student/",
  options,
  run,
};
