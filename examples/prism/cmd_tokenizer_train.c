/*
 * prism tokenizer-train — learn a byte-level BPE vocabulary (vocab.json +
 * merges.txt) from plain-text or JSON Lines files. See docs/cli.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define DEFAULT_SPECIALS "<s>,<pad>,</s>,<unk>,<mask>"
#define DEFAULT_FIELDS "source,target"

static const char usage[] =
    "usage: prism tokenizer-train (--input FILE... | --jsonl FILE... [--fields A,B]) --out DIR\n"
    "                             [--vocab-size N] [--min-frequency N] [--special-tokens LIST]\n"
    "                             [--limit-alphabet N] [--corpus-alphabet] [--threads N]\n"
    "\n"
    "Learn a byte-level BPE vocabulary with HuggingFace BpeTrainer's rules and write\n"
    "DIR/vocab.json and DIR/merges.txt (DIR is created when missing).\n"
    "\n"
    "  --input FILE          plain text; each line, with its line ending, is one text\n"
    "                        (HF train(files)); repeat for more files\n"
    "  --jsonl FILE          JSON Lines; the --fields of each object are the texts; repeat\n"
    "  --fields A,B          string fields read from --jsonl lines (default " DEFAULT_FIELDS ")\n"
    "  --out DIR             output folder (required)\n"
    "  --vocab-size N        special tokens + alphabet + merges (default 30000)\n"
    "  --min-frequency N     never merge a pair seen fewer times (default 2)\n"
    "  --special-tokens L    comma-separated, ids 0.. in this order; \"\" for none\n"
    "                        (default " DEFAULT_SPECIALS ")\n"
    "  --limit-alphabet N    keep at most N byte symbols, dropping the rarest (default: no limit)\n"
    "  --corpus-alphabet     only the byte symbols the texts contain (default: all 256)\n"
    "  --threads N           worker threads for counting (default: all online CPUs)\n"
    "  --help                this text\n"
    "\n"
    "Progress goes to stderr. Example:\n"
    "  prism tokenizer-train --jsonl pairs.jsonl --vocab-size 8000 --out student/\n";

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

/* Every value of a repeatable option, in order (NULL-terminated, borrowed from argv). */
static const char **opt_all(cli_args *args, const char *name, size_t *n)
{
  const char **out = calloc((size_t)args->argc + 1, sizeof *out);
  size_t len = strlen(name);
  if (!out)
    cli_fatal("out of memory");
  *n = 0;
  for (int i = 1; i < args->argc; i++) {
    if (strcmp(args->argv[i], name) == 0) {
      if (i + 1 >= args->argc)
        cli_fatal("option %s needs a value", name);
      args->used[i] = args->used[i + 1] = 1;
      out[(*n)++] = args->argv[++i];
    } else if (strncmp(args->argv[i], name, len) == 0 && args->argv[i][len] == '=') {
      args->used[i] = 1;
      out[(*n)++] = args->argv[i] + len + 1;
    }
  }
  return out;
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

int cli_cmd_tokenizer_train(cli_args *args)
{
  prism_tokenizer_trainer_params p;
  prism_tokenizer_trainer_stats stats = { sizeof stats, 0, 0, 0, 0, 0 };
  prism_tokenizer_trainer *t;
  size_t n_text, n_jsonl, n_specials, n_fields;
  const char *out, *specials, *fields_opt;
  const char **text_files, **jsonl_files;
  char **special_list, **field_list;
  int rc, threads, last_tenth[2] = { -1, -1 };

  if (cli_flag(args, "--help") || cli_flag(args, "-h")) {
    fputs(usage, stdout);
    return 0;
  }
  prism_tokenizer_trainer_params_init(&p, sizeof p);
  text_files = opt_all(args, "--input", &n_text);
  jsonl_files = opt_all(args, "--jsonl", &n_jsonl);
  out = cli_opt(args, "--out");
  fields_opt = cli_opt(args, "--fields");
  specials = cli_opt(args, "--special-tokens");
  p.vocab_size = (int32_t)cli_opt_long(args, "--vocab-size", p.vocab_size, 1, 1L << 24);
  p.min_frequency = (int32_t)cli_opt_long(args, "--min-frequency", p.min_frequency, 0, INT32_MAX);
  p.limit_alphabet = (int32_t)cli_opt_long(args, "--limit-alphabet", PRISM_UNSET, 0, INT32_MAX);
  p.corpus_alphabet = cli_flag(args, "--corpus-alphabet");
  threads = (int)cli_opt_long(args, "--threads", 0, 0, 1024);
  cli_no_extra(args);
  if (!out)
    cli_fatal("tokenizer-train needs --out DIR (see prism tokenizer-train --help)");
  if (n_text + n_jsonl == 0)
    cli_fatal("tokenizer-train needs --input FILE or --jsonl FILE (see --help)");
  if (fields_opt && n_jsonl == 0)
    cli_fatal("--fields applies to --jsonl files only");

  special_list = split_list(specials ? specials : DEFAULT_SPECIALS, &n_specials);
  field_list = split_list(fields_opt ? fields_opt : DEFAULT_FIELDS, &n_fields);
  if (n_fields == 0)
    cli_fatal("--fields needs at least one field name");
  p.special_tokens = (const char *const *)special_list;
  p.n_special_tokens = n_specials;
  prism_set_num_threads(threads);
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
