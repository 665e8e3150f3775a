#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *cli_opt(cli_args *args, const char *name)
{
  size_t len = strlen(name);
  for (int i = 1; i < args->argc; i++) {
    if (strcmp(args->argv[i], name) == 0) {
      if (i + 1 >= args->argc)
        cli_fatal("option %s needs a value", name);
      args->used[i] = args->used[i + 1] = 1;
      return args->argv[i + 1];
    }
    if (strncmp(args->argv[i], name, len) == 0 && args->argv[i][len] == '=') {
      args->used[i] = 1;
      return args->argv[i] + len + 1;
    }
  }
  return NULL;
}

int cli_flag(cli_args *args, const char *name)
{
  for (int i = 1; i < args->argc; i++)
    if (strcmp(args->argv[i], name) == 0) {
      args->used[i] = 1;
      return 1;
    }
  return 0;
}

long cli_opt_long(cli_args *args, const char *name, long def, long lo, long hi)
{
  const char *s = cli_opt(args, name);
  char *end;
  long v;
  if (!s)
    return def;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi)
    cli_fatal("option %s: expected an integer in [%ld, %ld], got \"%s\"", name, lo, hi, s);
  return v;
}

double cli_opt_double(cli_args *args, const char *name, double def)
{
  const char *s = cli_opt(args, name);
  char *end;
  double v;
  if (!s)
    return def;
  errno = 0;
  v = strtod(s, &end);
  if (errno || end == s || *end || v != v)
    cli_fatal("option %s: expected a number, got \"%s\"", name, s);
  return v;
}

void cli_no_extra(cli_args *args)
{
  for (int i = 1; i < args->argc; i++)
    if (!args->used[i])
      cli_fatal("unexpected argument \"%s\" (see prism --help)", args->argv[i]);
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

void cli_emit_error(int status, const char *message)
{
  cli_emit(
      json_pack("{s:{s:s,s:s}}", "error", "code", prism_status_name(status), "message", message));
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

    lineno++;
    while (i < (size_t)len &&
           (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
      i++;
    if (i == (size_t)len)
      continue;
    value = json_loadb(line, (size_t)len, JSON_ALLOW_NUL, &err);
    if (!value || !json_is_object(value)) {
      if (value)
        snprintf(msg, sizeof msg, "line %ld: expected a JSON object", lineno);
      else
        snprintf(msg, sizeof msg, "line %ld: invalid JSON at column %d: %s", lineno, err.column,
                 err.text);
      json_decref(value);
      cli_emit_error(PRISM_ERR_FORMAT, msg);
      continue;
    }
    fn(value, ctx);
    json_decref(value);
  }
  free(line);
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
