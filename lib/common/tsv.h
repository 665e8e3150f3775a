/*
 * Internal: tab-separated text with a header line — the catalog format
 * (`item_id<TAB>title<TAB>features...`, examples/demo/catalog.tsv) that the
 * pipeline's catalog and the faithfulness check both read. One reader, so the
 * format has one set of rules:
 *
 * - the file is read whole, up to a size cap;
 * - a UTF-8 byte order mark before the header is skipped;
 * - lines end in \n or \r\n; empty lines are skipped; a line is valid UTF-8
 *   without NUL bytes;
 * - fields are split on every tab (no quoting: a field holds no tab);
 * - with PRISM__TSV_EXACT every line has as many fields as the header.
 *
 * Errors read "<path>:<line>: <what was wrong>"; the public caller puts its
 * name in front.
 */
#ifndef PRISM__COMMON_TSV_H
#define PRISM__COMMON_TSV_H

#include <stddef.h>

#include "file.h"

/* Every line has the header's number of fields. */
#define PRISM__TSV_EXACT 1u

typedef struct prism__tsv {
  const char *path; /* borrowed, for messages */
  prism__file file;
  char *text; /* the file's bytes, cut into fields in place */
  size_t size, at;
  unsigned flags;
  size_t line;    /* 1-based number of the current line (1: the header) */
  char **header;  /* the header's fields */
  size_t columns; /* their count */
  char **field;   /* the current line's fields, NUL-terminated */
  size_t count;   /* their count */
  size_t cap;     /* room in `field` */
} prism__tsv;

/*
 * Read `path` (at most max_bytes; 0: only the process-wide file limit) and its
 * header line. An empty file, or a header that is not valid UTF-8, is
 * PRISM_ERR_FORMAT. On failure nothing is left to close.
 */
int prism__tsv_open(prism__tsv *t, const char *path, size_t max_bytes, unsigned flags);

/* The next non-empty line: 1 with its fields in t->field, 0 at the end, or a negative status. */
int prism__tsv_next(prism__tsv *t);

/* The index of the header column named `name`, or (size_t)-1 when there is none. */
size_t prism__tsv_column(const prism__tsv *t, const char *name);

void prism__tsv_close(prism__tsv *t);

#endif
