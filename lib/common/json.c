#include <string.h>

#include "error.h"
#include "json.h"

int prism__json_parse(const void *buf, size_t len, size_t flags, const char *what, json_t **out)
{
  json_error_t err;
  /* A key given twice is refused everywhere: which of the two counts differs between readers. */
  json_t *root = json_loadb(buf, len, flags | JSON_REJECT_DUPLICATES, &err);
  if (!root) {
    if (json_error_code(&err) == json_error_out_of_memory)
      return prism__error(PRISM_ERR_NO_MEMORY, "%s: out of memory parsing JSON", what);
    if (json_error_code(&err) == json_error_duplicate_key)
      return prism__error(PRISM_ERR_FORMAT,
                          "%s: invalid JSON at line %d, column %d (byte %d): a key given twice "
                          "in one object (duplicate key)",
                          what, err.line, err.column, err.position);
    return prism__error(PRISM_ERR_FORMAT, "%s: invalid JSON at line %d, column %d (byte %d): %s",
                        what, err.line, err.column, err.position, err.text);
  }
  *out = root;
  return PRISM_OK;
}

/* 2.0 counts as an integer; the range test comes first because converting an
 * out-of-range double (1e300) to long long is undefined behaviour. */
static int is_integral(double d)
{
  return d >= -0x1p63 && d < 0x1p63 && d == (double)(long long)d;
}

static int lookup(const json_t *obj, const char *key, const char *what, int required,
                  json_t **value)
{
  *value = json_is_object(obj) ? json_object_get(obj, key) : NULL;
  if (*value && !json_is_null(*value))
    return PRISM_OK;
  if (required)
    return prism__error(PRISM_ERR_FORMAT, "%s: missing required field \"%s\"", what, key);
  return PRISM_ERR_NOT_FOUND;
}

int prism__json_int(const json_t *obj, const char *key, const char *what, int required,
                    long long lo, long long hi, long long *out)
{
  json_t *v;
  long long x;
  int rc = lookup(obj, key, what, required, &v);
  if (rc != PRISM_OK)
    return rc;
  if (json_is_integer(v)) {
    x = json_integer_value(v);
  } else if (json_is_real(v) && is_integral(json_real_value(v))) {
    x = (long long)json_real_value(v);
  } else {
    return prism__error(PRISM_ERR_FORMAT, "%s: field \"%s\" must be an integer", what, key);
  }
  if (x < lo || x > hi)
    return prism__error(PRISM_ERR_FORMAT, "%s: field \"%s\" = %lld is outside [%lld, %lld]", what,
                        key, x, lo, hi);
  *out = x;
  return PRISM_OK;
}

int prism__json_real(const json_t *obj, const char *key, const char *what, int required,
                     double *out)
{
  json_t *v;
  int rc = lookup(obj, key, what, required, &v);
  if (rc != PRISM_OK)
    return rc;
  if (!json_is_number(v))
    return prism__error(PRISM_ERR_FORMAT, "%s: field \"%s\" must be a number", what, key);
  *out = json_number_value(v);
  return PRISM_OK;
}

int prism__json_bool(const json_t *obj, const char *key, const char *what, int required, int *out)
{
  json_t *v;
  int rc = lookup(obj, key, what, required, &v);
  if (rc != PRISM_OK)
    return rc;
  if (!json_is_boolean(v))
    return prism__error(PRISM_ERR_FORMAT, "%s: field \"%s\" must be true or false", what, key);
  *out = json_is_true(v);
  return PRISM_OK;
}

int prism__json_str(const json_t *obj, const char *key, const char *what, int required,
                    const char **out)
{
  json_t *v;
  int rc = lookup(obj, key, what, required, &v);
  if (rc != PRISM_OK)
    return rc;
  if (!json_is_string(v))
    return prism__error(PRISM_ERR_FORMAT, "%s: field \"%s\" must be a string", what, key);
  *out = json_string_value(v);
  return PRISM_OK;
}

static int json_line(const char *text, size_t len, size_t line_no, prism__json_line_fn fn,
                     void *ctx)
{
  json_error_t err;
  json_t *line = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
  int rc;
  if (!line) {
    if (json_error_code(&err) == json_error_out_of_memory)
      return prism__error(PRISM_ERR_NO_MEMORY, "out of memory parsing JSON");
    if (json_error_code(&err) == json_error_duplicate_key)
      return prism__error(PRISM_ERR_FORMAT,
                          "invalid JSON at column %d: a key given twice in one object", err.column);
    return prism__error(PRISM_ERR_FORMAT, "invalid JSON at column %d: %s", err.column, err.text);
  }
  rc = json_is_object(line) ? fn(line, line_no, ctx)
                            : prism__error(PRISM_ERR_FORMAT, "expected a JSON object");
  json_decref(line);
  return rc;
}

int prism__json_lines(const char *data, size_t len, const char *what, prism__json_line_fn fn,
                      void *ctx)
{
  size_t line_no = 0, pos = 0;
  while (pos < len) {
    const char *nl = memchr(data + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - data) : len, i = pos;
    line_no++;
    while (i < end && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r'))
      i++;
    if (i < end) {
      int rc = json_line(data + pos, end - pos, line_no, fn, ctx);
      if (rc != PRISM_OK)
        return prism__error_prefix("%s line %zu: ", what, line_no);
    }
    pos = end + 1;
  }
  return PRISM_OK;
}
