#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* ---- options: one table per command drives parsing and --help ---- */

static size_t option_count(const cli_command *cmd)
{
  size_t n = 0;
  while (cmd->options && cmd->options[n].name)
    n++;
  return n;
}

static int option_index(const cli_command *cmd, const char *name, size_t name_len)
{
  for (size_t i = 0; i < option_count(cmd); i++)
    if (strlen(cmd->options[i].name) == name_len &&
        strncmp(cmd->options[i].name, name, name_len) == 0)
      return (int)i;
  return -1;
}

/* The table entry of an option the command's code asks for: a name outside it is a bug. */
static int lookup(const cli_args *args, const char *name)
{
  int i = option_index(args->cmd, name, strlen(name));
  if (i < 0) {
    fprintf(stderr, "prism: internal error: %s reads %s, which its option table lacks\n",
            args->cmd->name, name);
    abort();
  }
  return i;
}

/* What the help says when the option is absent. */
static const char *default_text(const cli_option *o)
{
  if (o->required)
    return NULL;
  if (o->def_text)
    return o->def_text;
  if (o->def)
    return o->def;
  return o->kind == CLI_FLAG ? "off" : "none";
}

#define HELP_COLUMNS 100
#define NBSP '\x01'

/* Print `text` from column `col`, wrapped at spaces to HELP_COLUMNS, continuing at `indent`. */
static void print_wrapped(FILE *out, const char *text, size_t col, size_t indent)
{
  while (*text) {
    size_t len = strcspn(text, " ");
    if (col > indent && col + 1 + len > HELP_COLUMNS) {
      fprintf(out, "\n%*s", (int)indent, "");
      col = indent;
    } else if (col > indent) {
      fputc(' ', out);
      col++;
    }
    for (size_t i = 0; i < len; i++) /* NBSP: a space that does not break the line */
      fputc(text[i] == NBSP ? ' ' : text[i], out);
    col += len;
    text += len;
    text += strspn(text, " ");
  }
  fputc('\n', out);
}

void cli_print_help(FILE *out, const cli_command *cmd)
{
  size_t n = option_count(cmd), width = strlen("--help");
  int optional = 0;

  fprintf(out, "usage: prism %s", cmd->name);
  for (size_t i = 0; i < n; i++) {
    const cli_option *o = &cmd->options[i];
    size_t w = strlen(o->name) + (o->arg ? strlen(o->arg) + 1 : 0);
    width = w > width ? w : width;
    if (o->required)
      fprintf(out, " %s %s", o->name, o->arg);
    optional |= !o->required;
  }
  fprintf(out, "%s%s%s\n\n%s\n", optional ? " [OPTIONS]" : "", cmd->input ? " " : "",
          cmd->input ? cmd->input : "", cmd->summary);
  if (cmd->details)
    fprintf(out, "\n%s", cmd->details);
  fprintf(out, "\noptions:\n");
  for (size_t i = 0; i < n; i++) {
    const cli_option *o = &cmd->options[i];
    char spec[64], text[512];
    snprintf(spec, sizeof spec, "%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    if (o->required)
      snprintf(text, sizeof text, "%s (required)", o->help);
    else
      snprintf(text, sizeof text, "%s (default:%c%s)", o->help, NBSP, default_text(o));
    fprintf(out, "  %-*s  ", (int)width, spec);
    print_wrapped(out, text, width + 4, width + 4);
  }
  fprintf(out, "  %-*s  print this help and exit\n", (int)width, "--help");
  fprintf(out, "\nexample:\n  %s\n", cmd->example);
}

static void parse_fatal(const cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void parse_fatal(const cli_command *cmd, const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "prism: error: %s: ", cmd->name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, " (see prism %s --help)\n", cmd->name);
  exit(1);
}

static int parse_long(const char *s, long *out)
{
  char *end;
  errno = 0;
  *out = strtol(s, &end, 10);
  return !errno && end != s && !*end;
}

/* Check one value against its option's kind; fatal when it does not fit. */
static void check_value(const cli_command *cmd, const cli_option *o, const char *v)
{
  struct stat st;
  long l;
  double d;
  char *end;

  switch (o->kind) {
  case CLI_FLAG:
  case CLI_TEXT:
  case CLI_LIST:
    return;
  case CLI_DIR:
    if (stat(v, &st) != 0)
      parse_fatal(cmd, "option %s: %s: no such directory", o->name, v);
    if (!S_ISDIR(st.st_mode))
      parse_fatal(cmd, "option %s: %s is not a directory", o->name, v);
    return;
  case CLI_INT:
    if (!parse_long(v, &l) || l < o->lo || l > o->hi)
      parse_fatal(cmd, "option %s: expected an integer from %ld to %ld, got \"%s\"", o->name, o->lo,
                  o->hi, v);
    return;
  case CLI_REAL:
    errno = 0;
    d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d))
      parse_fatal(cmd, "option %s: expected a finite number, got \"%s\"", o->name, v);
    return;
  case CLI_THREADS:
    if (!parse_long(v, &l) || l < 0)
      parse_fatal(cmd,
                  "option %s: expected a number of threads (0 = one per online CPU), got \"%s\"",
                  o->name, v);
    if (l > PRISM_MAX_THREADS)
      parse_fatal(cmd, "option %s: at most %d worker threads (PRISM_MAX_THREADS), got %ld", o->name,
                  PRISM_MAX_THREADS, l);
    return;
  }
}

/* One option word, --name or --name=value, at argv[i]: its table index, its value (NULL for a
 * flag) and the words it takes (the value may be the next word). Fatal when malformed. */
static int option_at(const cli_command *cmd, int argc, char **argv, int i, const char **value,
                     int *words)
{
  const char *word = argv[i], *eq = strchr(word, '=');
  size_t len = eq ? (size_t)(eq - word) : strlen(word);
  int k = option_index(cmd, word, len);
  const cli_option *o = k >= 0 ? &cmd->options[k] : NULL;

  if (!o)
    parse_fatal(cmd, "unknown option %.*s", (int)len, word);
  *words = 1;
  *value = eq ? eq + 1 : NULL;
  if (o->kind == CLI_FLAG && eq)
    parse_fatal(cmd, "option %s takes no value", o->name);
  if (o->kind != CLI_FLAG && !eq) {
    if (i + 1 >= argc)
      parse_fatal(cmd, "option %s needs a value (%s)", o->name, o->arg);
    *value = argv[i + 1];
    *words = 2;
  }
  return k;
}

/* Record one option word (and its value word); returns the words used. */
static int parse_option(cli_args *args, int argc, char **argv, int i)
{
  const char *value;
  int words, k = option_at(args->cmd, argc, argv, i, &value, &words);
  const cli_option *o = &args->cmd->options[k];

  if (args->given[k] && o->kind != CLI_LIST)
    parse_fatal(args->cmd, "option %s is given twice", o->name);
  args->given[k]++;
  args->value[k] = o->kind == CLI_FLAG ? "1" : value;
  return words;
}

void cli_parse(cli_args *args, const cli_command *cmd, int argc, char **argv)
{
  size_t n = option_count(cmd);
  int help = 0;

  if (n > CLI_MAX_OPTIONS) {
    fprintf(stderr, "prism: internal error: %s has more than %d options\n", cmd->name,
            CLI_MAX_OPTIONS);
    abort();
  }
  memset(args, 0, sizeof *args);
  args->cmd = cmd;
  args->argc = argc;
  args->argv = argv;
  for (int i = 0; i < argc;) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      help = 1;
      i++;
    } else if (strncmp(argv[i], "--", 2) == 0) {
      i += parse_option(args, argc, argv, i);
    } else {
      parse_fatal(cmd, "unexpected argument \"%s\"", argv[i]);
    }
  }
  if (help) {
    cli_print_help(stdout, cmd);
    exit(0);
  }
  for (size_t k = 0; k < n; k++) {
    const cli_option *o = &cmd->options[k];
    if (!args->given[k])
      args->value[k] = o->kind == CLI_FLAG ? NULL : o->def;
    if (!args->value[k] && o->required)
      parse_fatal(cmd, "option %s %s is required", o->name, o->arg);
    if (args->value[k])
      check_value(cmd, o, args->value[k]);
  }
}

const char *cli_str(const cli_args *args, const char *name)
{
  return args->value[lookup(args, name)];
}

int cli_given(const cli_args *args, const char *name)
{
  return args->given[lookup(args, name)];
}

const char **cli_list(const cli_args *args, const char *name, size_t *n)
{
  int want = lookup(args, name);
  const char **out = calloc((size_t)args->argc + 1, sizeof *out);
  if (!out)
    cli_fatal("out of memory");
  *n = 0;
  for (int i = 0, words; i < args->argc; i += words) {
    const char *value;
    words = 1;
    if (strcmp(args->argv[i], "--help") == 0 || strcmp(args->argv[i], "-h") == 0)
      continue;
    if (option_at(args->cmd, args->argc, args->argv, i, &value, &words) == want)
      out[(*n)++] = value;
  }
  return out;
}

int cli_flag(const cli_args *args, const char *name)
{
  return cli_str(args, name) != NULL;
}

long cli_int(const cli_args *args, const char *name)
{
  const char *v = cli_str(args, name);
  long l = 0;
  if (!v || !parse_long(v, &l)) {
    fprintf(stderr, "prism: internal error: %s: %s has no integer value\n", args->cmd->name, name);
    abort();
  }
  return l;
}

double cli_real(const cli_args *args, const char *name)
{
  const char *v = cli_str(args, name);
  if (!v) {
    fprintf(stderr, "prism: internal error: %s: %s has no value\n", args->cmd->name, name);
    abort();
  }
  return strtod(v, NULL);
}

void cli_set_threads(const cli_args *args)
{
  prism_set_num_threads((int)cli_int(args, "--threads"));
}

/* The value of a --limit-* option when the command takes it and it was given. */
static int given_limit(const cli_args *args, const char *name, long *out)
{
  for (size_t k = 0; args->cmd->options[k].name; k++)
    if (strcmp(args->cmd->options[k].name, name) == 0 && args->given[k]) {
      *out = cli_int(args, name);
      return 1;
    }
  return 0;
}

/* A 32-bit cap: a value past UINT32_MAX is no cap in practice, so it saturates. */
static void limit32(const cli_args *args, const char *name, uint32_t *field)
{
  long v;
  if (given_limit(args, name, &v))
    *field = v > (long)UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* A 64-bit cap. */
static void limit64(const cli_args *args, const char *name, uint64_t *field)
{
  long v;
  if (given_limit(args, name, &v))
    *field = (uint64_t)v;
}

void cli_apply_limits(const cli_args *args)
{
  prism_limits lim;
  int rc = prism_limits_init_safe(&lim, sizeof lim);
  if (rc == PRISM_OK) {
    limit64(args, "--limit-file-bytes", &lim.max_file_bytes);
    limit64(args, "--limit-text-bytes", &lim.max_text_bytes);
    limit32(args, "--limit-batch", &lim.max_batch);
    limit32(args, "--limit-new-tokens", &lim.max_new_tokens);
    limit32(args, "--limit-beams", &lim.max_beams);
    limit32(args, "--limit-return-sequences", &lim.max_return_sequences);
    limit32(args, "--limit-decoder-rows", &lim.max_decoder_rows);
    limit64(args, "--limit-decoder-tokens", &lim.max_decoder_tokens);
    rc = prism_limits_set(&lim);
  }
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "setting the safety limits");
}

uint32_t cli_load_flags(const cli_args *args)
{
  int bf16 = cli_flag(args, "--bf16-weights"), int8 = cli_flag(args, "--int8-weights");
  if (bf16 && int8)
    cli_fatal("--bf16-weights and --int8-weights exclude each other");
  return (bf16 ? PRISM_BART_LOAD_BF16_WEIGHTS : 0u) | (int8 ? PRISM_BART_LOAD_INT8_WEIGHTS : 0u);
}

int cli_explainer_load(cli_explainer *out, const cli_args *args, const char *model_dir,
                       const prism_explainer_params *params)
{
  prism_bart_load_params load;
  int rc;
  memset(out, 0, sizeof *out);
  prism_bart_load_params_init(&load, sizeof load);
  load.flags = cli_load_flags(args);
  if ((rc = prism_tokenizer_load(&out->tok, model_dir, NULL)) != PRISM_OK ||
      (rc = prism_bart_load(&out->model, model_dir, &load)) != PRISM_OK ||
      (rc = prism_explainer_create(&out->ex, out->tok, out->model, params)) != PRISM_OK)
    cli_explainer_free(out);
  return rc;
}

void cli_explainer_free(cli_explainer *e)
{
  prism_explainer_free(e->ex);
  prism_bart_free(e->model);
  prism_tokenizer_free(e->tok);
  memset(e, 0, sizeof *e);
}

void cli_fatal(const char *fmt, ...)
{
  va_list ap;
  fputs("prism: error: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

void cli_fatal_status(int status, const char *what)
{
  cli_fatal("%s: %s (%s)", what, prism_last_error(), prism_status_name(status));
}

void cli_emit(json_t *value)
{
  char *s = json_dumps(value, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(9));
  json_decref(value);
  if (!s)
    cli_fatal("out of memory writing output");
  fputs(s, stdout);
  fputc('\n', stdout);
  fflush(stdout);
  free(s);
}

/* The input line being answered (1-based), 0 outside cli_each_line. */
static long current_line;

void cli_emit_error(int status, const char *message)
{
  char *text = NULL;
  if (current_line > 0 && asprintf(&text, "line %ld: %s", current_line, message) < 0)
    text = NULL;
  cli_emit(json_pack("{s:{s:s,s:s}}", "error", "code", prism_status_name(status), "message",
                     text ? text : message));
  free(text);
}

void cli_emit_last_error(int status)
{
  cli_emit_error(status, prism_last_error());
}

void cli_each_line(void (*fn)(json_t *line, void *ctx), void *ctx)
{
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  long lineno = 0;

  while ((len = getline(&line, &cap, stdin)) >= 0) {
    json_error_t err;
    json_t *value;
    char msg[256];
    size_t i = 0;

    current_line = ++lineno;
    while (i < (size_t)len &&
           (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
      i++;
    if (i == (size_t)len)
      continue;
    /* A key given twice is refused: JSON parsers disagree on which of the two counts. */
    value = json_loadb(line, (size_t)len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &err);
    if (!value || !json_is_object(value)) {
      if (value)
        snprintf(msg, sizeof msg, "expected a JSON object");
      else if (json_error_code(&err) == json_error_duplicate_key)
        snprintf(msg, sizeof msg, "invalid JSON at column %d: a key is given twice", err.column);
      else
        snprintf(msg, sizeof msg, "invalid JSON at column %d: %s", err.column, err.text);
      json_decref(value);
      cli_emit_error(PRISM_ERR_FORMAT, msg);
      continue;
    }
    fn(value, ctx);
    json_decref(value);
  }
  current_line = 0;
  free(line);
}

int cli_check_keys(const json_t *line, const char *const *allowed, char *err, size_t err_size)
{
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)line, key, value)
  {
    size_t k = 0, used;
    while (allowed[k] && strcmp(allowed[k], key) != 0)
      k++;
    if (allowed[k])
      continue;
    used = (size_t)snprintf(err, err_size, "unknown key \"%s\" (expected", key);
    for (k = 0; allowed[k] && used < err_size; k++)
      used += (size_t)snprintf(err + used, err_size - used, "%s \"%s\"", k ? "," : "", allowed[k]);
    if (used < err_size)
      snprintf(err + used, err_size - used, ")");
    return -1;
  }
  return 0;
}

int cli_int_array(const json_t *array, int **out, size_t *count, char *err, size_t err_size)
{
  size_t n, i;
  int *v;
  if (!json_is_array(array)) {
    snprintf(err, err_size, "expected an array of integers");
    return -1;
  }
  n = json_array_size(array);
  v = malloc((n ? n : 1) * sizeof *v);
  if (!v) {
    snprintf(err, err_size, "out of memory");
    return -1;
  }
  for (i = 0; i < n; i++) {
    json_t *x = json_array_get(array, i);
    if (!json_is_integer(x) || json_integer_value(x) < INT_MIN || json_integer_value(x) > INT_MAX) {
      snprintf(err, err_size, "element %zu is not a 32-bit integer", i);
      free(v);
      return -1;
    }
    v[i] = (int)json_integer_value(x);
  }
  *out = v;
  *count = n;
  return 0;
}

int cli_generate_params(const json_t *value, prism_generate_params *p)
{
  char *text;
  int rc;
  prism_generate_params_init(p, sizeof *p);
  if (!value)
    return PRISM_OK;
  text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
  if (!text)
    return PRISM_ERR_NO_MEMORY;
  rc = prism_generate_params_parse(p, text, strlen(text));
  free(text);
  return rc;
}

/* ---- --users ---- */

static void users_add(cli_user_list *l, const char *id, size_t len, json_t *seen)
{
  char *copy = strndup(id, len);
  if (!copy)
    cli_fatal("out of memory");
  if (!*copy || json_object_get(seen, copy)) { /* blank, or given before: once is enough */
    if (*copy)
      fprintf(stderr, "prism: user \"%s\" is listed twice; it is taken once\n", copy);
    free(copy);
    return;
  }
  json_object_set_new(seen, copy, json_true());
  if (l->count == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 256;
    l->ids = realloc(l->ids, l->cap * sizeof *l->ids);
    if (!l->ids)
      cli_fatal("out of memory");
  }
  l->ids[l->count++] = copy;
}

void cli_users_read(cli_user_list *l, const char *spec, const prism_ranker *ranker)
{
  json_t *seen = json_object();
  memset(l, 0, sizeof *l);
  if (strcmp(spec, "all") == 0) {
    for (int32_t u = 0; u < prism_ranker_num_users(ranker); u++) {
      char buf[16];
      const char *id = prism_ranker_user_id(ranker, u);
      if (!id)
        snprintf(buf, sizeof buf, "%d", (int)u);
      users_add(l, id ? id : buf, strlen(id ? id : buf), seen);
    }
  } else if (spec[0] == '@') {
    FILE *f = fopen(spec + 1, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    if (!f)
      cli_fatal("--users %s: cannot open: %s", spec, strerror(errno));
    while ((n = getline(&line, &cap, f)) >= 0)
      users_add(l, line, strcspn(line, "\r\n"), seen);
    free(line);
    fclose(f);
  } else {
    for (const char *p = spec; *p;) {
      size_t len = strcspn(p, ",");
      users_add(l, p, len, seen);
      p += len + (p[len] == ',');
    }
  }
  json_decref(seen);
  if (l->count == 0)
    cli_fatal("--users %s: no users to run", spec);
}

void cli_users_free(cli_user_list *l)
{
  for (size_t i = 0; i < l->count; i++)
    free(l->ids[i]);
  free(l->ids);
  memset(l, 0, sizeof *l);
}

/* ---- whole files ---- */

char *cli_read_all(const char *path, size_t *len)
{
  int is_stdin = strcmp(path, "-") == 0;
  FILE *f = is_stdin ? stdin : fopen(path, "rb");
  const char *name = is_stdin ? "standard input" : path;
  size_t cap = 1 << 16, n = 0, got;
  char *buf = malloc(cap + 1);
  if (!f)
    cli_fatal("cannot open %s: %s", path, strerror(errno));
  if (!buf)
    cli_fatal("out of memory");
  while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      char *grown = cap < ((size_t)1 << 40) ? realloc(buf, (cap *= 2) + 1) : NULL;
      if (!grown)
        cli_fatal("%s is too large to read into memory", name);
      buf = grown;
    }
  }
  if (ferror(f))
    cli_fatal("cannot read %s", name);
  if (!is_stdin)
    fclose(f);
  buf[n] = '\0';
  *len = n;
  return buf;
}
