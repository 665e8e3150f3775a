/*
 * Interaction files: separators, quoted fields, header lines, chosen columns,
 * timestamps (numbers or ISO-8601) and gzip input.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "common/gzip.h"
#include "common/limits.h"
#include "common/params.h"
#include "ranker_internal.h"

/* Files (and their decompressed contents) above this size are refused rather than read whole. */
#define LOAD_MAX_BYTES ((size_t)1 << 34)
/* Columns are numbered below this; fields past the last column read are not split. */
#define LOAD_MAX_COLUMNS 256
#define LOAD_MAX_SEPARATOR 8

enum { COL_USER, COL_ITEM, COL_VALUE, COL_TIME, COLS };

static const prism_interactions_load_params load_defaults = {
  sizeof(prism_interactions_load_params),
  NULL,
  PRISM_INTERACTIONS_HEADER_AUTO,
  PRISM_UNSET,
  PRISM_UNSET,
  PRISM_UNSET,
  PRISM_UNSET,
};
#define LOAD_V1_SIZE PRISM__LAYOUT_SIZE(prism_interactions_load_params, timestamp_column)

int prism_interactions_load_params_init(prism_interactions_load_params *params, size_t struct_size)
{
  return PRISM__PARAMS_INIT(params, struct_size, &load_defaults, LOAD_V1_SIZE, __func__);
}

typedef struct loader {
  prism_interactions *d;
  const char *name; /* the file, for messages */
  char sep[LOAD_MAX_SEPARATOR + 1];
  size_t sep_len;
  int quotes;    /* fields may be double-quoted (any separator but a tab) */
  int trim;      /* spaces around fields are dropped (any separator but a space) */
  int col[COLS]; /* -1: not read */
  int fields;    /* fields split per line: one past the last column read */
} loader;

/* ---- numbers and times */

/* A finite number written in decimal ("3", "-1.5", "2e3"): no words, no hex, nothing after it. */
static int parse_number(const char *s, double *out)
{
  char *end;
  if (!((*s >= '0' && *s <= '9') || *s == '-' || *s == '+' || *s == '.') || strpbrk(s, "xX"))
    return -1;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno == ERANGE || !isfinite(v))
    return -1;
  *out = v;
  return 0;
}

/* Exactly n decimal digits at *s (advanced past them). */
static int digits(const char **s, int n, int *out)
{
  int v = 0;
  for (int i = 0; i < n; i++) {
    char c = (*s)[i];
    if (c < '0' || c > '9')
      return -1;
    v = v * 10 + (c - '0');
  }
  *s += n;
  *out = v;
  return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Hinnant's algorithm). */
static long days_from_civil(long y, int m, int d)
{
  y -= m <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  long yoe = y - era * 400;
  long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
  static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

/* "+02:00", "-0530", "+02" or "Z" at the end of a date-time: its offset in seconds. */
static int parse_zone(const char *s, long *offset)
{
  int h, m = 0;
  *offset = 0;
  if (!*s)
    return 0;
  if ((*s == 'Z' || *s == 'z') && !s[1])
    return 0;
  if (*s != '+' && *s != '-')
    return -1;
  int sign = *s++ == '-' ? -1 : 1;
  if (digits(&s, 2, &h) || h > 23)
    return -1;
  if (*s == ':')
    s++;
  if (*s && (digits(&s, 2, &m) || m > 59))
    return -1;
  if (*s)
    return -1;
  *offset = sign * (h * 3600L + m * 60L);
  return 0;
}

/*
 * An ISO-8601 date ("2024-01-31") or date-time ("2024-01-31T12:34:56.5+02:00",
 * "2024-01-31 12:34"), seconds since the epoch; without a zone: UTC.
 */
static int parse_iso8601(const char *s, double *out)
{
  int y, mo, d, h = 0, mi = 0, sec = 0;
  double frac = 0.0;
  long offset = 0;
  if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' || digits(&s, 2, &d))
    return -1;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
    return -1;
  if (*s == 'T' || *s == 't' || *s == ' ') {
    s++;
    if (digits(&s, 2, &h) || h > 23 || *s++ != ':' || digits(&s, 2, &mi) || mi > 59)
      return -1;
    if (*s == ':') {
      s++;
      if (digits(&s, 2, &sec) || sec > 60) /* 60: a leap second */
        return -1;
      if (*s == '.' || *s == ',') {
        double scale = 0.1;
        if (*++s < '0' || *s > '9')
          return -1;
        for (; *s >= '0' && *s <= '9'; s++, scale /= 10)
          frac += (*s - '0') * scale;
      }
    }
    if (parse_zone(s, &offset))
      return -1;
  } else if (*s) {
    return -1;
  }
  *out = (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600.0 + mi * 60.0 + sec + frac -
         (double)offset;
  return 0;
}

static int parse_time(const char *s, double *out)
{
  if (strlen(s) >= 10 && s[4] == '-' && s[7] == '-')
    return parse_iso8601(s, out);
  return parse_number(s, out);
}

/* ---- fields */

static char *trim_spaces(char *s)
{
  while (*s == ' ')
    s++;
  size_t n = strlen(s);
  while (n > 0 && s[n - 1] == ' ')
    s[--n] = '\0';
  return s;
}

/*
 * Split a line in place into at most `max` fields. Returns the number found;
 * -1 when a quoted field is malformed (*bad set to a description).
 */
static int split(const loader *L, char *line, char **field, int max, const char **bad)
{
  int n = 0;
  char *p = line;
  while (n < max) {
    char *start = p;
    if (L->trim)
      while (*start == ' ')
        start++;
    if (L->quotes && *start == '"') {
      char *in = start + 1, *o = start;
      for (;; in++) {
        if (!*in) {
          *bad = "a quoted field has no closing quote";
          return -1;
        }
        if (*in == '"' && in[1] == '"')
          *o++ = *in++;
        else if (*in == '"')
          break;
        else
          *o++ = *in;
      }
      in++;
      while (L->trim && *in == ' ')
        in++;
      field[n++] = start;
      if (!*in) {
        *o = '\0';
        return n;
      }
      if (strncmp(in, L->sep, L->sep_len) != 0) {
        *bad = "text follows a closing quote";
        return -1;
      }
      *o = '\0';
      p = in + L->sep_len;
      continue;
    }
    char *next = L->sep_len == 1 ? strchr(start, L->sep[0]) : strstr(start, L->sep);
    if (next) {
      *next = '\0';
      p = next + L->sep_len;
    }
    field[n++] = L->trim ? trim_spaces(start) : start;
    if (!next)
      return n;
  }
  return n;
}

/* ---- the header */

static int names_column(const char *field, int col)
{
  static const char *const names[COLS][12] = {
    { "user", "user_id", "userid", "user id", "uid", "customer_id", "visitor_id", NULL },
    { "item", "item_id", "itemid", "item id", "iid", "movie", "movie_id", "movieid", "product_id",
      "productid", "book_id", NULL },
    { "value", "rating", "ratings", "score", "weight", "count", "preference", NULL },
    { "timestamp", "time", "ts", "date", "datetime", "time_stamp", NULL },
  };
  for (int i = 0; names[col][i]; i++)
    if (strcasecmp(field, names[col][i]) == 0)
      return 1;
  return 0;
}

/* The separator a file uses, from its first line, when the caller gave none. */
static void detect_separator(loader *L, const char *first_line)
{
  const char *sep = "\t";
  if (!strchr(first_line, '\t')) {
    if (strstr(first_line, "::"))
      sep = "::";
    else if (strchr(first_line, ','))
      sep = ",";
    else if (strchr(first_line, ';'))
      sep = ";";
  }
  strcpy(L->sep, sep);
  L->sep_len = strlen(sep);
}

/*
 * Settle the columns from the params and the first line; *is_header tells
 * whether that line is a header to skip.
 */
static int settle_columns(loader *L, const prism_interactions_load_params *p, char *first_line,
                          int *is_header)
{
  char *field[LOAD_MAX_COLUMNS];
  const char *bad = NULL;
  const int asked[COLS] = { p->user_column, p->item_column, p->value_column, p->timestamp_column };
  int named[COLS] = { -1, -1, -1, -1 };
  int n = split(L, first_line, field, LOAD_MAX_COLUMNS, &bad);
  for (int i = 0; i < n; i++)
    for (int c = 0; c < COLS; c++)
      if (named[c] < 0 && names_column(field[i], c))
        named[c] = i;
  int names_both = named[COL_USER] >= 0 && named[COL_ITEM] >= 0;
  *is_header = p->header == PRISM_INTERACTIONS_HEADER_PRESENT ||
               (p->header == PRISM_INTERACTIONS_HEADER_AUTO && names_both);
  L->fields = 0;
  for (int c = 0; c < COLS; c++) {
    if (asked[c] != PRISM_UNSET)
      L->col[c] = asked[c];
    else if (*is_header && names_both)
      L->col[c] = named[c];
    else
      L->col[c] = c;
    if (L->col[c] + 1 > L->fields)
      L->fields = L->col[c] + 1;
  }
  return PRISM_OK;
}

/* ---- lines */

static const char *separator_name(const loader *L)
{
  return strcmp(L->sep, "\t") == 0 ? "tab" : L->sep;
}

static int check_line_id(const loader *L, const char *id, const char *what, size_t lineno)
{
  int rc = prism__ranker_check_id(id, what);
  if (rc == PRISM_OK)
    return rc;
  prism__error_prefix("%s:%zu: ", L->name, lineno);
  return rc == PRISM_ERR_INVALID_UTF8 ? rc : PRISM_ERR_FORMAT;
}

static int parse_line(loader *L, char *line, size_t lineno)
{
  char *f[LOAD_MAX_COLUMNS];
  const char *bad = NULL;
  int n = split(L, line, f, L->fields, &bad);
  float value = 1.0f;
  double time = NAN, v;

  if (n < 0)
    return prism__error(PRISM_ERR_FORMAT, "%s:%zu: %s", L->name, lineno, bad);
  if (n <= L->col[COL_USER] || n <= L->col[COL_ITEM])
    return prism__error(
        PRISM_ERR_FORMAT,
        "%s:%zu: expected at least %d fields separated by \"%s\" (the user in "
        "column %d, the item in column %d), got %d",
        L->name, lineno,
        (L->col[COL_USER] > L->col[COL_ITEM] ? L->col[COL_USER] : L->col[COL_ITEM]) + 1,
        separator_name(L), L->col[COL_USER], L->col[COL_ITEM], n);
  const char *user = f[L->col[COL_USER]], *item = f[L->col[COL_ITEM]];
  int rc = check_line_id(L, user, "user", lineno);
  if (rc == PRISM_OK)
    rc = check_line_id(L, item, "item", lineno);
  if (rc != PRISM_OK)
    return rc;
  if (L->col[COL_VALUE] >= 0 && n > L->col[COL_VALUE]) {
    const char *s = f[L->col[COL_VALUE]];
    if (parse_number(s, &v) || fabs(v) > 3.0e38)
      return prism__error(PRISM_ERR_FORMAT, "%s:%zu: value \"%s\" is not a finite number", L->name,
                          lineno, s);
    value = (float)v;
  }
  if (L->col[COL_TIME] >= 0 && n > L->col[COL_TIME] && *f[L->col[COL_TIME]]) {
    const char *s = f[L->col[COL_TIME]];
    if (parse_time(s, &time))
      return prism__error(PRISM_ERR_FORMAT,
                          "%s:%zu: timestamp \"%s\" is neither a number of seconds nor an "
                          "ISO-8601 date or date-time",
                          L->name, lineno, s);
  }
  rc = prism__ranker_interactions_append(L->d, user, item, value, time);
  return rc == PRISM_OK ? rc : prism__error_prefix("%s:%zu: ", L->name, lineno);
}

/* The next line of text[*pos .. end) in place, NUL-terminated, without its line break. */
static char *next_line(char *text, size_t end, size_t *pos, size_t *len)
{
  char *line = text + *pos, *nl = memchr(line, '\n', end - *pos);
  *len = (size_t)((nl ? nl : text + end) - line);
  *pos = nl ? (size_t)(nl - text) + 1 : end;
  if (*len > 0 && line[*len - 1] == '\r')
    (*len)--;
  line[*len] = '\0';
  return line;
}

static int blank(const char *s)
{
  return s[strspn(s, " ")] == '\0';
}

/* Parse a mutable, NUL-terminated text of `size` bytes. */
static int parse_text(loader *L, const prism_interactions_load_params *p, char *text, size_t size)
{
  size_t pos = 0, len, lineno = 0;
  int rc = PRISM_OK, settled = 0;
  if (size >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
    pos = 3; /* a UTF-8 byte order mark, as spreadsheets write */
  while (rc == PRISM_OK && pos < size) {
    char *line = next_line(text, size, &pos, &len);
    lineno++;
    if (memchr(line, '\0', len))
      return prism__error(PRISM_ERR_FORMAT, "%s:%zu: NUL byte in line", L->name, lineno);
    if (blank(line))
      continue;
    if (!settled) {
      int is_header;
      char *copy = prism__strndup(line, len);
      if (!copy)
        return PRISM_ERR_NO_MEMORY;
      if (!L->sep_len)
        detect_separator(L, copy);
      L->quotes = strcmp(L->sep, "\t") != 0;
      L->trim = strcmp(L->sep, " ") != 0;
      rc = settle_columns(L, p, copy, &is_header);
      prism__free(copy);
      settled = 1;
      if (rc != PRISM_OK || is_header)
        continue;
    }
    rc = parse_line(L, line, lineno);
  }
  return rc;
}

static int check_params(const prism_interactions_load_params *p)
{
  if (p->separator) {
    size_t n = strlen(p->separator);
    if (n < 1 || n > LOAD_MAX_SEPARATOR || strpbrk(p->separator, "\r\n\""))
      return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                          "the separator must be 1 to %d bytes without quotes or line breaks",
                          LOAD_MAX_SEPARATOR);
  }
  if (p->header < PRISM_INTERACTIONS_HEADER_AUTO || p->header > PRISM_INTERACTIONS_HEADER_PRESENT)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "header must be PRISM_INTERACTIONS_HEADER_AUTO, _NONE or _PRESENT, not %d",
                        p->header);
  const int col[COLS] = { p->user_column, p->item_column, p->value_column, p->timestamp_column };
  static const char *const what[COLS] = { "user_column", "item_column", "value_column",
                                          "timestamp_column" };
  for (int c = 0; c < COLS; c++) {
    int none_ok = c >= COL_VALUE && col[c] == PRISM_INTERACTIONS_NO_COLUMN;
    if (col[c] != PRISM_UNSET && !none_ok && (col[c] < 0 || col[c] >= LOAD_MAX_COLUMNS))
      return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s must be in [0, %d)%s, not %d", what[c],
                          LOAD_MAX_COLUMNS, c >= COL_VALUE ? ", PRISM_INTERACTIONS_NO_COLUMN" : "",
                          col[c]);
  }
  if (col[COL_USER] != PRISM_UNSET && col[COL_USER] == col[COL_ITEM])
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "user_column and item_column must differ, not both %d", col[COL_USER]);
  return PRISM_OK;
}

/* Parse `data`, gzip or text, through a NUL-terminated copy the parser splits in place. */
static int load_bytes(prism_interactions **out, const unsigned char *data, size_t size,
                      const char *name, const prism_interactions_load_params *p)
{
  loader L;
  unsigned char *text = NULL;
  size_t text_size = 0;
  size_t max = (size_t)prism__cap(LOAD_MAX_BYTES, prism__limits().max_file_bytes);
  int rc;

  memset(&L, 0, sizeof L);
  L.name = name;
  if (p->separator) {
    strcpy(L.sep, p->separator);
    L.sep_len = strlen(p->separator);
  }
  if (prism__gzip_is(data, size)) {
    rc = prism__gzip_inflate(&text, &text_size, data, size, max, name);
  } else if (size > max) {
    rc = prism__error(PRISM_ERR_LIMIT, "%s: %zu bytes, above the limit of %zu", name, size, max);
  } else {
    text = prism__malloc(size + 1);
    rc = text ? PRISM_OK : PRISM_ERR_NO_MEMORY;
    if (text) {
      memcpy(text, data, size);
      text[size] = '\0';
      text_size = size;
    }
  }
  if (rc == PRISM_OK) {
    L.d = prism__calloc(1, sizeof *L.d);
    rc = L.d ? parse_text(&L, p, (char *)text, text_size) : PRISM_ERR_NO_MEMORY;
  }
  prism__free(text);
  if (rc != PRISM_OK) {
    prism_interactions_free(L.d);
    return rc;
  }
  *out = L.d;
  return PRISM_OK;
}

static int load_file(prism_interactions **out, const char *path,
                     const prism_interactions_load_params *p)
{
  prism__file file;
  int rc = prism__file_map(path, LOAD_MAX_BYTES, &file);
  if (rc != PRISM_OK)
    return rc;
  rc = load_bytes(out, file.data, file.size, path, p);
  prism__file_close(&file);
  return rc;
}

int prism_interactions_load(prism_interactions **out, const char *path,
                            const prism_interactions_load_params *params)
{
  prism_interactions_load_params p;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  PRISM__CHECK_ARG(path != NULL, "path must not be NULL");
  int rc = PRISM__PARAMS_READ(&p, params, &load_defaults, LOAD_V1_SIZE, __func__);
  if (rc == PRISM_OK)
    rc = check_params(&p);
  if (rc == PRISM_OK)
    rc = load_file(out, path, &p);
  return prism__error_at(__func__, rc);
}

int prism_interactions_load_memory(prism_interactions **out, const void *data, size_t size,
                                   const char *name, const prism_interactions_load_params *params)
{
  prism_interactions_load_params p;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  PRISM__CHECK_ARG(data != NULL || size == 0, "data must not be NULL when size is above 0");
  int rc = PRISM__PARAMS_READ(&p, params, &load_defaults, LOAD_V1_SIZE, __func__);
  if (rc == PRISM_OK)
    rc = check_params(&p);
  if (rc == PRISM_OK)
    rc = load_bytes(out, data ? data : "", size, name ? name : "<memory>", &p);
  return prism__error_at(__func__, rc);
}

int prism_interactions_load_tsv(prism_interactions **out, const char *path)
{
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  PRISM__CHECK_ARG(path != NULL, "path must not be NULL");
  return prism__error_at(__func__, load_file(out, path, &load_defaults));
}
