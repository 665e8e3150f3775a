/* The reader of tab-separated text with a header line (tsv.h). */
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "tsv.h"
#include "utf8.h"

/* The next line of the text without its \n or \r\n, NUL-terminated in place; 0 at the end. */
static int next_line(prism__tsv *t, char **line, size_t *len)
{
  char *start, *nl;
  if (t->at >= t->size)
    return 0;
  start = t->text + t->at;
  nl = memchr(start, '\n', t->size - t->at);
  *len = nl ? (size_t)(nl - start) : t->size - t->at;
  t->at += *len + 1;
  if (*len && start[*len - 1] == '\r')
    (*len)--;
  start[*len] = '\0';
  *line = start;
  t->line++;
  return 1;
}

/* Check the line and cut it into t->field. */
static int split(prism__tsv *t, char *line, size_t len)
{
  size_t bad = prism__utf8_check((const unsigned char *)line, len), n = 1;
  if (bad != len)
    return prism__error(PRISM_ERR_FORMAT, "%s:%zu: not valid UTF-8 (byte %zu of the line)", t->path,
                        t->line, bad + 1);
  if (memchr(line, '\0', len))
    return prism__error(PRISM_ERR_FORMAT, "%s:%zu: a NUL byte in the line", t->path, t->line);
  for (size_t i = 0; i < len; i++)
    n += line[i] == '\t';
  if (n > t->cap) {
    char **grown = prism__realloc(t->field, n * sizeof *grown);
    if (!grown)
      return PRISM_ERR_NO_MEMORY;
    t->field = grown;
    t->cap = n;
  }
  t->count = 0;
  for (char *p = line;;) {
    char *tab = strchr(p, '\t');
    t->field[t->count++] = p;
    if (!tab)
      break;
    *tab = '\0';
    p = tab + 1;
  }
  return PRISM_OK;
}

int prism__tsv_open(prism__tsv *t, const char *path, size_t max_bytes, unsigned flags)
{
  char *line;
  size_t len;
  int rc;

  memset(t, 0, sizeof *t);
  t->path = path;
  t->flags = flags;
  if ((rc = prism__file_read(path, max_bytes, &t->file)) != PRISM_OK)
    return rc;
  t->text = (char *)t->file.owned;
  t->size = t->file.size;
  if (t->size >= 3 && memcmp(t->text, "\xEF\xBB\xBF", 3) == 0)
    t->at = 3; /* a UTF-8 byte order mark */
  if (!next_line(t, &line, &len) || len == 0)
    rc = prism__error(PRISM_ERR_FORMAT, "%s:1: expected a header line naming the columns", path);
  else
    rc = split(t, line, len);
  if (rc == PRISM_OK) {
    t->header = t->field;
    t->columns = t->count;
    t->field = NULL;
    t->cap = 0;
    t->count = 0;
  } else {
    prism__tsv_close(t);
  }
  return rc;
}

int prism__tsv_next(prism__tsv *t)
{
  char *line;
  size_t len;
  int rc;
  do {
    if (!next_line(t, &line, &len))
      return 0;
  } while (len == 0);
  if ((rc = split(t, line, len)) != PRISM_OK)
    return rc;
  if ((t->flags & PRISM__TSV_EXACT) && t->count != t->columns)
    return prism__error(PRISM_ERR_FORMAT,
                        "%s:%zu: %zu tab-separated fields, but the header names %zu columns",
                        t->path, t->line, t->count, t->columns);
  return 1;
}

size_t prism__tsv_column(const prism__tsv *t, const char *name)
{
  for (size_t i = 0; i < t->columns; i++)
    if (strcmp(t->header[i], name) == 0)
      return i;
  return SIZE_MAX;
}

void prism__tsv_close(prism__tsv *t)
{
  if (!t)
    return;
  prism__file_close(&t->file);
  prism__free(t->header);
  prism__free(t->field);
  memset(t, 0, sizeof *t);
}
