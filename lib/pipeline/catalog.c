/*
 * The catalog: item id -> title and features, from a catalog TSV (the common
 * reader, common/tsv.h) or added one by one.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/params.h"
#include "common/tsv.h"
#include "common/utf8.h"
#include "pipeline_internal.h"

/* Catalog files above this size are refused rather than read whole. */
#define CATALOG_MAX_BYTES ((size_t)1 << 32)
#define PARAMS_V1_SIZE PRISM__LAYOUT_SIZE(prism_catalog_params, feature_separator)

static const prism_catalog_params catalog_defaults = { sizeof catalog_defaults, NULL, ", " };

PRISM_API int prism_catalog_params_init(prism_catalog_params *params, size_t struct_size)
{
  return PRISM__PARAMS_INIT(params, struct_size, &catalog_defaults, PARAMS_V1_SIZE,
                            "prism_catalog_params_init");
}

PRISM_API int prism_catalog_create(prism_catalog **out)
{
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = prism__calloc(1, sizeof **out);
  return prism__error_at(__func__, *out ? PRISM_OK : PRISM_ERR_NO_MEMORY);
}

PRISM_API void prism_catalog_free(prism_catalog *c)
{
  if (!c)
    return;
  for (int32_t i = 0; i < c->ids.count; i++) {
    prism__free(c->title[i]);
    prism__free(c->features[i]);
  }
  prism__free(c->title);
  prism__free(c->features);
  prism__idmap_free(&c->ids);
  prism__free(c);
}

int32_t prism__pipeline_catalog_find(const prism_catalog *c, const char *item)
{
  return prism__idmap_find(&c->ids, item);
}

static int check_text(const char *s, const char *what)
{
  size_t n = strlen(s), bad = prism__utf8_check((const unsigned char *)s, n);
  if (bad != n)
    return prism__error(PRISM_ERR_INVALID_UTF8, "the %s is not valid UTF-8 (byte %zu)", what,
                        bad + 1);
  return PRISM_OK;
}

/* Add a checked item; features is a new string the catalog takes over (also on failure). */
static int add_owned(prism_catalog *c, const char *item, const char *title, char *features)
{
  int32_t index;
  char *t = NULL;
  int rc = PRISM_OK;
  if (prism__idmap_find(&c->ids, item) >= 0)
    rc = prism__error(PRISM_ERR_INVALID_ARGUMENT, "item \"%s\" is already in the catalog", item);
  if (rc == PRISM_OK && (size_t)c->ids.count == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 64;
    char **tt = prism__realloc(c->title, cap * sizeof *tt), **ff;
    if (tt)
      c->title = tt;
    ff = tt ? prism__realloc(c->features, cap * sizeof *ff) : NULL;
    if (ff) {
      c->features = ff;
      c->cap = cap;
    }
    rc = ff ? PRISM_OK : PRISM_ERR_NO_MEMORY;
  }
  if (rc == PRISM_OK && !(t = prism__strdup(title)))
    rc = PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK)
    rc = prism__idmap_intern(&c->ids, item, &index);
  if (rc != PRISM_OK) {
    prism__free(t);
    prism__free(features);
    return rc;
  }
  c->title[index] = t;
  c->features[index] = features;
  return PRISM_OK;
}

static int add(prism_catalog *c, const char *item, const char *title, const char *features)
{
  char *f;
  int rc = PRISM_OK;
  if (!*item)
    rc = prism__error(PRISM_ERR_INVALID_ARGUMENT, "the item id is empty");
  else if (strpbrk(item, "\t\r\n"))
    rc = prism__error(PRISM_ERR_INVALID_ARGUMENT,
                      "the item id \"%s\" contains a tab or a line break", item);
  else if (!*title)
    rc = prism__error(PRISM_ERR_INVALID_ARGUMENT, "the title of item \"%s\" is empty", item);
  if (rc == PRISM_OK && (rc = check_text(item, "item id")) == PRISM_OK &&
      (rc = check_text(title, "title")) == PRISM_OK)
    rc = check_text(features, "features text");
  if (rc != PRISM_OK)
    return rc;
  if (!(f = prism__strdup(features)))
    return PRISM_ERR_NO_MEMORY;
  return add_owned(c, item, title, f);
}

PRISM_API int prism_catalog_add(prism_catalog *catalog, const char *item, const char *title,
                                const char *features)
{
  PRISM__CHECK_ARG(catalog != NULL, "catalog must not be NULL");
  PRISM__CHECK_ARG(item != NULL, "item must not be NULL");
  PRISM__CHECK_ARG(title != NULL, "title must not be NULL");
  return prism__error_at(__func__, add(catalog, item, title, features ? features : ""));
}

/* ---- the TSV ---- */

typedef struct layout {
  size_t id, title;
  size_t *features; /* header columns joined into the features text */
  size_t n_features;
  const char *separator;
} layout;

static int header_column(const prism__tsv *t, const char *name, size_t len, size_t *out)
{
  for (size_t i = 0; i < t->columns; i++)
    if (strlen(t->header[i]) == len && memcmp(t->header[i], name, len) == 0) {
      *out = i;
      return PRISM_OK;
    }
  return prism__error(PRISM_ERR_FORMAT, "%s:1: the header has no column named \"%.*s\"", t->path,
                      (int)len, name);
}

/* Which header columns hold the id, the title and the features. */
static int read_header(const prism__tsv *t, const prism_catalog_params *p, layout *l)
{
  const char *spec = p->feature_columns;
  int rc;
  for (size_t i = 0; i < t->columns; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp(t->header[i], t->header[j]) == 0)
        return prism__error(PRISM_ERR_FORMAT, "%s:1: the column \"%s\" is named twice", t->path,
                            t->header[i]);
  if ((rc = header_column(t, "item_id", 7, &l->id)) != PRISM_OK ||
      (rc = header_column(t, "title", 5, &l->title)) != PRISM_OK)
    return rc;
  l->features = prism__calloc(t->columns, sizeof *l->features);
  if (!l->features)
    return PRISM_ERR_NO_MEMORY;
  l->separator = p->feature_separator ? p->feature_separator : "";
  if (!spec) {
    for (size_t i = 0; i < t->columns && !l->n_features; i++)
      if (i != l->id && i != l->title)
        l->features[l->n_features++] = i;
    return PRISM_OK;
  }
  while (*spec) {
    size_t len = strcspn(spec, ","), col = 0;
    if (len == 0)
      return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                          "feature_columns \"%s\" has an empty column name", p->feature_columns);
    if ((rc = header_column(t, spec, len, &col)) != PRISM_OK)
      return rc;
    if (l->n_features == t->columns)
      return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                          "feature_columns \"%s\" names more columns than the header has",
                          p->feature_columns);
    l->features[l->n_features++] = col;
    spec += len + (spec[len] == ',');
  }
  return PRISM_OK;
}

/* The features text of the current line: its feature columns joined by the separator. */
static char *join_features(const prism__tsv *t, const layout *l)
{
  size_t n = 1, sep = strlen(l->separator), at = 0;
  char *s;
  for (size_t i = 0; i < l->n_features; i++)
    n += strlen(t->field[l->features[i]]) + (i ? sep : 0);
  if (!(s = prism__malloc(n)))
    return NULL;
  for (size_t i = 0; i < l->n_features; i++) {
    const char *v = t->field[l->features[i]];
    if (i) {
      memcpy(s + at, l->separator, sep);
      at += sep;
    }
    memcpy(s + at, v, strlen(v));
    at += strlen(v);
  }
  s[at] = '\0';
  return s;
}

static int load_lines(prism_catalog *c, prism__tsv *t, const layout *l)
{
  int rc;
  while ((rc = prism__tsv_next(t)) == 1) {
    const char *id = t->field[l->id], *title = t->field[l->title];
    char *features;
    if (!*id)
      return prism__error(PRISM_ERR_FORMAT, "%s:%zu: the item id is empty", t->path, t->line);
    if (!*title)
      return prism__error(PRISM_ERR_FORMAT, "%s:%zu: the title of item \"%s\" is empty", t->path,
                          t->line, id);
    if (prism__idmap_find(&c->ids, id) >= 0)
      return prism__error(PRISM_ERR_FORMAT, "%s:%zu: item \"%s\" is listed a second time", t->path,
                          t->line, id);
    if (!(features = join_features(t, l)) || (rc = add_owned(c, id, title, features)) != PRISM_OK)
      return features ? prism__error_prefix("%s:%zu: ", t->path, t->line) : PRISM_ERR_NO_MEMORY;
  }
  return rc;
}

static int load_tsv(prism_catalog **out, const char *path, const prism_catalog_params *params)
{
  prism_catalog_params p;
  prism__tsv t;
  layout l = { 0, 0, NULL, 0, NULL };
  prism_catalog *c = NULL;
  int rc =
      PRISM__PARAMS_READ(&p, params, &catalog_defaults, PARAMS_V1_SIZE, "prism_catalog_load_tsv");
  if (rc != PRISM_OK || (rc = prism__tsv_open(&t, path, CATALOG_MAX_BYTES, PRISM__TSV_EXACT)))
    return rc;
  if ((rc = read_header(&t, &p, &l)) == PRISM_OK) {
    c = prism__calloc(1, sizeof *c);
    rc = c ? load_lines(c, &t, &l) : PRISM_ERR_NO_MEMORY;
  }
  prism__free(l.features);
  prism__tsv_close(&t);
  if (rc != PRISM_OK) {
    prism_catalog_free(c);
    return rc;
  }
  *out = c;
  return PRISM_OK;
}

PRISM_API int prism_catalog_load_tsv(prism_catalog **out, const char *path,
                                     const prism_catalog_params *params)
{
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  PRISM__CHECK_ARG(path != NULL, "path must not be NULL");
  return prism__error_at(__func__, load_tsv(out, path, params));
}

PRISM_API size_t prism_catalog_count(const prism_catalog *catalog)
{
  return catalog ? (size_t)catalog->ids.count : 0;
}

PRISM_API int prism_catalog_find(prism_prompt_item *out, const prism_catalog *catalog,
                                 const char *item)
{
  int32_t i;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(catalog != NULL, "catalog must not be NULL");
  PRISM__CHECK_ARG(item != NULL, "item must not be NULL");
  if ((i = prism__idmap_find(&catalog->ids, item)) < 0)
    return prism__error(PRISM_ERR_NOT_FOUND, "%s: item \"%s\" is not in the catalog", __func__,
                        item);
  out->title = catalog->title[i];
  out->features = catalog->features[i];
  return PRISM_OK;
}

PRISM_API int prism_catalog_get(const char **item, prism_prompt_item *entry,
                                const prism_catalog *catalog, size_t index)
{
  PRISM__CHECK_ARG(catalog != NULL, "catalog must not be NULL");
  if (index >= (size_t)catalog->ids.count)
    return prism__error(PRISM_ERR_OUT_OF_RANGE, "%s: index %zu is out of range (%d items)",
                        __func__, index, (int)catalog->ids.count);
  if (item)
    *item = prism__idmap_name(&catalog->ids, (int32_t)index);
  if (entry) {
    entry->title = catalog->title[index];
    entry->features = catalog->features[index];
  }
  return PRISM_OK;
}
