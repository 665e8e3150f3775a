/* Interaction sets: the TSV loader and the public prism_interactions_* calls. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "common/utf8.h"
#include "ranker_internal.h"

/* Interaction files above this size are refused rather than read whole. */
#define TSV_MAX_BYTES ((size_t)1 << 34)

int prism_interactions_create(prism_interactions **out)
{
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = prism__calloc(1, sizeof **out);
  return prism__error_at(__func__, *out ? PRISM_OK : PRISM_ERR_NO_MEMORY);
}

void prism_interactions_free(prism_interactions *data)
{
  if (!data)
    return;
  prism__ranker_idmap_free(&data->users);
  prism__ranker_idmap_free(&data->items);
  prism__free(data->user);
  prism__free(data->item);
  prism__free(data->value);
  prism__free(data);
}

static int reserve(prism_interactions *d)
{
  if (d->count < d->cap)
    return PRISM_OK;
  size_t cap = d->cap ? d->cap * 2 : 1024;
  int32_t *u = prism__realloc(d->user, cap * sizeof *u);
  if (!u)
    return PRISM_ERR_NO_MEMORY;
  d->user = u;
  int32_t *i = prism__realloc(d->item, cap * sizeof *i);
  if (!i)
    return PRISM_ERR_NO_MEMORY;
  d->item = i;
  float *v = prism__realloc(d->value, cap * sizeof *v);
  if (!v)
    return PRISM_ERR_NO_MEMORY;
  d->value = v;
  d->cap = cap;
  return PRISM_OK;
}

/* Validated ids and value; a failed add leaves the set as it was, except for interned ids. */
static int add_checked(prism_interactions *d, const char *user, const char *item, float value)
{
  int32_t u, i;
  int rc = reserve(d);
  if (rc == PRISM_OK)
    rc = prism__ranker_idmap_intern(&d->users, user, &u);
  if (rc == PRISM_OK)
    rc = prism__ranker_idmap_intern(&d->items, item, &i);
  if (rc != PRISM_OK)
    return rc;
  d->user[d->count] = u;
  d->item[d->count] = i;
  d->value[d->count] = value;
  d->count++;
  return PRISM_OK;
}

static int check_id(const char *id, const char *what)
{
  size_t n = strlen(id);
  if (n == 0)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "the %s id is empty", what);
  if (strpbrk(id, "\t\r\n"))
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "the %s id \"%s\" contains a tab or a line break", what, id);
  size_t bad = prism__utf8_check((const unsigned char *)id, n);
  if (bad < n)
    return prism__error(PRISM_ERR_INVALID_UTF8, "the %s id is not valid UTF-8 (byte %zu)", what,
                        bad);
  return PRISM_OK;
}

static int add(prism_interactions *data, const char *user, const char *item, float value)
{
  int rc = check_id(user, "user");
  if (rc == PRISM_OK)
    rc = check_id(item, "item");
  if (rc == PRISM_OK && !isfinite(value))
    rc = prism__error(PRISM_ERR_INVALID_ARGUMENT, "the value of (\"%s\", \"%s\") is not finite",
                      user, item);
  return rc == PRISM_OK ? add_checked(data, user, item, value) : rc;
}

int prism_interactions_add(prism_interactions *data, const char *user, const char *item,
                           float value)
{
  PRISM__CHECK_ARG(data != NULL, "data must not be NULL");
  PRISM__CHECK_ARG(user != NULL, "user must not be NULL");
  PRISM__CHECK_ARG(item != NULL, "item must not be NULL");
  return prism__error_at(__func__, add(data, user, item, value));
}

/* Split `line` (NUL-terminated, no newline) on tabs into at most 4 fields. */
static int split_fields(char *line, char **field)
{
  int n = 0;
  for (char *p = line;;) {
    if (n == 4)
      return 5;
    field[n++] = p;
    p = strchr(p, '\t');
    if (!p)
      return n;
    *p++ = '\0';
  }
}

static int parse_line(prism_interactions *d, char *line, const char *path, size_t lineno)
{
  char *f[4] = { NULL, NULL, NULL, NULL }, *end;
  int n = split_fields(line, f);
  float value = 1.0f;

  if (n < 2 || n > 4)
    return prism__error(PRISM_ERR_FORMAT, "%s:%zu: expected 2 to 4 tab-separated fields, got %s",
                        path, lineno, n > 4 ? "more than 4" : "1");
  if (!*f[0] || !*f[1])
    return prism__error(PRISM_ERR_FORMAT, "%s:%zu: empty %s id", path, lineno,
                        *f[0] ? "item" : "user");
  for (int k = 0; k < 2; k++) {
    size_t len = strlen(f[k]);
    if (prism__utf8_check((const unsigned char *)f[k], len) < len)
      return prism__error(PRISM_ERR_INVALID_UTF8, "%s:%zu: invalid UTF-8 in the %s id", path,
                          lineno, k ? "item" : "user");
  }
  if (n >= 3) {
    errno = 0;
    double v = strtod(f[2], &end);
    if (end == f[2] || *end || errno == ERANGE || !isfinite(v) || fabs(v) > 3.0e38)
      return prism__error(PRISM_ERR_FORMAT, "%s:%zu: value \"%s\" is not a finite number", path,
                          lineno, f[2]);
    value = (float)v;
  }
  if (n == 4) {
    errno = 0;
    (void)strtoll(f[3], &end, 10);
    if (end == f[3] || *end || errno == ERANGE)
      return prism__error(PRISM_ERR_FORMAT, "%s:%zu: timestamp \"%s\" is not an integer", path,
                          lineno, f[3]);
  }
  int rc = add_checked(d, f[0], f[1], value);
  return rc == PRISM_OK ? rc : prism__error_prefix("%s:%zu: ", path, lineno);
}

static int load_tsv(prism_interactions **out, const char *path)
{
  prism__file file;
  prism_interactions *d;
  int rc = prism__file_read(path, TSV_MAX_BYTES, &file);
  if (rc != PRISM_OK)
    return rc;
  d = prism__calloc(1, sizeof *d);
  rc = d ? PRISM_OK : PRISM_ERR_NO_MEMORY;
  char *text = (char *)file.data, *end = text + file.size;
  size_t lineno = 0;
  for (char *line = text; rc == PRISM_OK && line < end;) {
    char *nl = memchr(line, '\n', (size_t)(end - line));
    size_t len = (size_t)((nl ? nl : end) - line);
    lineno++;
    if (len > 0 && line[len - 1] == '\r')
      len--;
    line[len] = '\0';
    if (memchr(line, '\0', len))
      rc = prism__error(PRISM_ERR_FORMAT, "%s:%zu: NUL byte in line", path, lineno);
    else if (len > 0)
      rc = parse_line(d, line, path, lineno);
    line = nl ? nl + 1 : end;
  }
  prism__file_close(&file);
  if (rc != PRISM_OK) {
    prism_interactions_free(d);
    return rc;
  }
  *out = d;
  return PRISM_OK;
}

int prism_interactions_load_tsv(prism_interactions **out, const char *path)
{
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  PRISM__CHECK_ARG(path != NULL, "path must not be NULL");
  return prism__error_at(__func__, load_tsv(out, path));
}

size_t prism_interactions_count(const prism_interactions *data)
{
  return data ? data->count : 0;
}

int32_t prism_interactions_num_users(const prism_interactions *data)
{
  return data ? data->users.count : 0;
}

int32_t prism_interactions_num_items(const prism_interactions *data)
{
  return data ? data->items.count : 0;
}

int prism_interactions_get(int32_t *user, int32_t *item, float *value,
                           const prism_interactions *data, size_t i)
{
  PRISM__CHECK_ARG(data != NULL, "data must not be NULL");
  if (i >= data->count)
    return prism__error(PRISM_ERR_OUT_OF_RANGE,
                        "%s: interaction %zu is out of range (the set has %zu interactions)",
                        __func__, i, data->count);
  if (user)
    *user = data->user[i];
  if (item)
    *item = data->item[i];
  if (value)
    *value = data->value[i];
  return PRISM_OK;
}

const char *prism_interactions_user_id(const prism_interactions *data, int32_t user)
{
  return data ? prism__ranker_idmap_name(&data->users, user) : NULL;
}

const char *prism_interactions_item_id(const prism_interactions *data, int32_t item)
{
  return data ? prism__ranker_idmap_name(&data->items, item) : NULL;
}

int prism_interactions_find_user(int32_t *out, const prism_interactions *data, const char *id)
{
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(data != NULL, "data must not be NULL");
  PRISM__CHECK_ARG(id != NULL, "id must not be NULL");
  return prism__error_at(__func__, prism__ranker_idmap_lookup(&data->users, id, "user", out));
}

int prism_interactions_find_item(int32_t *out, const prism_interactions *data, const char *id)
{
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(data != NULL, "data must not be NULL");
  PRISM__CHECK_ARG(id != NULL, "id must not be NULL");
  return prism__error_at(__func__, prism__ranker_idmap_lookup(&data->items, id, "item", out));
}
