/*
 * Faithfulness: which catalog titles an explanation names, and whether its
 * prompt showed them. Titles and texts are compared in caseless form
 * (prism__unicode_fold); a byte trie over the folded titles finds, at each
 * word start, the longest title that ends on a word boundary, and scanning
 * resumes after it, so a title inside a longer one is not named.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/params.h"
#include "common/tsv.h"
#include "common/unicode.h"
#include "common/utf8.h"
#include "metrics_internal.h"

/* Catalog files above this size are refused rather than read whole. */
#define CATALOG_MAX_BYTES ((size_t)1 << 32)

enum { STARTS_WORD = 1, ENDS_WORD = 2 };

struct prism_faithfulness {
  prism__metrics_words folded; /* caseless titles -> index */
  char **title;                /* each index's first spelling */
  size_t title_cap;
  uint8_t *edge; /* STARTS_WORD | ENDS_WORD per title */

  /* the trie: node 0 is the root; children in a hash table on (node, byte) */
  uint32_t *accept; /* per node: title index + 1, or 0 */
  size_t nodes, nodes_cap;
  uint64_t *child_key; /* (node << 8 | byte) + 1, 0 empty */
  uint32_t *child;
  size_t child_cap; /* power of two */

  uint64_t *seen, *shown, stamp; /* per title: the add call that named / showed it */
  uint64_t count, titles_named, titles_grounded, items_named, hallucinated;

  char *buf, *tbuf; /* folded explanation, folded title */
  size_t buf_cap, tbuf_cap;
  size_t *named;
  size_t named_cap;
};

static size_t child_slot(const prism_faithfulness *f, uint64_t key)
{
  return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 24) & (f->child_cap - 1);
}

/* The child of `node` on `byte`, or 0 (the root is nobody's child). */
static uint32_t child_of(const prism_faithfulness *f, uint32_t node, unsigned char byte)
{
  uint64_t key = ((uint64_t)node << 8 | byte) + 1;
  for (size_t j = child_slot(f, key);; j = (j + 1) & (f->child_cap - 1)) {
    if (f->child_key[j] == key)
      return f->child[j];
    if (f->child_key[j] == 0)
      return 0;
  }
}

static int grow_children(prism_faithfulness *f)
{
  size_t old_cap = f->child_cap, cap = old_cap ? 2 * old_cap : 1024;
  uint64_t *keys = prism__calloc(cap, sizeof *keys), *old_keys = f->child_key;
  uint32_t *child = prism__calloc(cap, sizeof *child), *old_child = f->child;
  if (!keys || !child) {
    prism__free(keys);
    prism__free(child);
    return PRISM_ERR_NO_MEMORY;
  }
  f->child_key = keys;
  f->child = child;
  f->child_cap = cap;
  for (size_t i = 0; i < old_cap; i++) {
    if (!old_keys[i])
      continue;
    size_t j = child_slot(f, old_keys[i]);
    while (keys[j])
      j = (j + 1) & (cap - 1);
    keys[j] = old_keys[i];
    child[j] = old_child[i];
  }
  prism__free(old_keys);
  prism__free(old_child);
  return PRISM_OK;
}

static int new_node(prism_faithfulness *f, uint32_t *id)
{
  if (f->nodes == f->nodes_cap) {
    size_t cap = f->nodes_cap ? 2 * f->nodes_cap : 256;
    uint32_t *a = prism__realloc(f->accept, cap * sizeof *a);
    if (!a)
      return PRISM_ERR_NO_MEMORY;
    f->accept = a;
    f->nodes_cap = cap;
  }
  if (f->nodes >= UINT32_MAX - 1)
    return prism__error(PRISM_ERR_LIMIT, "the catalog's titles are too long in total");
  f->accept[f->nodes] = 0;
  *id = (uint32_t)f->nodes++;
  return PRISM_OK;
}

static int trie_insert(prism_faithfulness *f, const char *s, size_t n, size_t title)
{
  uint32_t node = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char b = (unsigned char)s[i];
    uint32_t next = child_of(f, node, b);
    if (!next) {
      uint64_t key = ((uint64_t)node << 8 | b) + 1;
      size_t j;
      if (2 * (f->nodes + 1) > f->child_cap && grow_children(f) != PRISM_OK)
        return PRISM_ERR_NO_MEMORY;
      if (new_node(f, &next) != PRISM_OK)
        return prism_last_error_status();
      for (j = child_slot(f, key); f->child_key[j]; j = (j + 1) & (f->child_cap - 1))
        ;
      f->child_key[j] = key;
      f->child[j] = next;
    }
    node = next;
  }
  f->accept[node] = (uint32_t)title + 1;
  return PRISM_OK;
}

/* The first or last code point of valid UTF-8 s[0, n), n > 0. */
static uint32_t first_cp(const char *s, size_t n)
{
  uint32_t cp;
  prism__utf8_next((const unsigned char *)s, n, &cp);
  return cp;
}

static uint32_t last_cp(const char *s, size_t n)
{
  size_t i = n - 1;
  while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
    i--;
  return first_cp(s + i, n - i);
}

/*
 * Add one title; `label` names it in errors ("titles[3]", "catalog.tsv:4:
 * the title") and `bad` is the status of a bad title (empty, invalid UTF-8).
 */
static int add_title(prism_faithfulness *f, const char *title, const char *label, int bad)
{
  size_t len = strlen(title), n, index, at = prism__utf8_check((const unsigned char *)title, len);
  int rc;
  if (at != len)
    return prism__error(bad, "%s is not valid UTF-8 (byte %zu)", label, at);
  rc = prism__unicode_fold(&f->tbuf, &f->tbuf_cap, &n, title, len);
  if (rc != PRISM_OK)
    return rc;
  if (n == 0)
    return prism__error(bad, "%s is empty", label);
  if (prism__metrics_words_find(&f->folded, f->tbuf, n) != SIZE_MAX)
    return PRISM_OK; /* the same title in another case or spacing */
  if (f->folded.count == f->title_cap) {
    size_t cap = f->title_cap ? 2 * f->title_cap : 16;
    char **t = prism__realloc(f->title, cap * sizeof *t);
    uint8_t *e;
    if (!t)
      return PRISM_ERR_NO_MEMORY;
    f->title = t;
    if (!(e = prism__realloc(f->edge, cap)))
      return PRISM_ERR_NO_MEMORY;
    f->edge = e;
    f->title_cap = cap;
  }
  if (!(f->title[f->folded.count] = prism__strdup(title)))
    return PRISM_ERR_NO_MEMORY;
  rc = prism__metrics_words_add(&f->folded, f->tbuf, n, &index);
  if (rc != PRISM_OK) {
    prism__free(f->title[f->folded.count]);
    return rc;
  }
  f->edge[index] = (uint8_t)((prism__unicode_is_word(first_cp(f->tbuf, n)) ? STARTS_WORD : 0) |
                             (prism__unicode_is_word(last_cp(f->tbuf, n)) ? ENDS_WORD : 0));
  return trie_insert(f, f->tbuf, n, index);
}

/* Marks sized to the titles (after the catalog is complete). */
static int finish_catalog(prism_faithfulness *f)
{
  f->seen = prism__calloc(f->folded.count + 1, sizeof *f->seen);
  f->shown = prism__calloc(f->folded.count + 1, sizeof *f->shown);
  return f->seen && f->shown ? PRISM_OK : PRISM_ERR_NO_MEMORY;
}

static int new_matcher(prism_faithfulness **out)
{
  uint32_t root;
  *out = prism__calloc(1, sizeof **out);
  if (!*out)
    return PRISM_ERR_NO_MEMORY;
  if (grow_children(*out) != PRISM_OK || new_node(*out, &root) != PRISM_OK) {
    prism_faithfulness_free(*out);
    *out = NULL;
    return PRISM_ERR_NO_MEMORY;
  }
  return PRISM_OK;
}

PRISM_API int prism_faithfulness_create(prism_faithfulness **out, const char *const *titles,
                                        size_t count)
{
  prism_faithfulness *f;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(titles != NULL || count == 0, "titles must not be NULL");
  for (size_t i = 0; i < count; i++)
    if (!titles[i])
      return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: titles[%zu] is NULL", __func__, i);
  if (new_matcher(&f) != PRISM_OK)
    return prism__error_prefix("%s: ", __func__);
  rc = PRISM_OK;
  for (size_t i = 0; i < count && rc == PRISM_OK; i++) {
    char label[40];
    snprintf(label, sizeof label, "titles[%zu]", i);
    rc = add_title(f, titles[i], label, PRISM_ERR_INVALID_ARGUMENT);
  }
  if (rc == PRISM_OK)
    rc = finish_catalog(f);
  if (rc != PRISM_OK) {
    prism_faithfulness_free(f);
    prism__error_prefix("%s: ", __func__);
    return rc;
  }
  *out = f;
  return PRISM_OK;
}

/* The titles of a catalog TSV (common/tsv.h): its `title` column, every other column ignored. */
static int load_catalog(prism_faithfulness *f, const char *path)
{
  prism__tsv t;
  size_t column;
  int rc = prism__tsv_open(&t, path, CATALOG_MAX_BYTES, 0);
  if (rc != PRISM_OK)
    return rc;
  column = prism__tsv_column(&t, "title");
  if (column == SIZE_MAX)
    rc = prism__error(PRISM_ERR_FORMAT, "%s:1: the header line has no \"title\" column", path);
  while (rc == PRISM_OK && (rc = prism__tsv_next(&t)) == 1) {
    if (t.count <= column)
      rc = prism__error(PRISM_ERR_FORMAT, "%s:%zu: no field %zu (\"title\")", path, t.line,
                        column + 1);
    else if ((rc = add_title(f, t.field[column], "the title", PRISM_ERR_FORMAT)) != PRISM_OK)
      prism__error_prefix("%s:%zu: ", path, t.line);
  }
  prism__tsv_close(&t);
  return rc;
}

PRISM_API int prism_faithfulness_load_catalog(prism_faithfulness **out, const char *path)
{
  prism_faithfulness *f;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(path != NULL, "path must not be NULL");
  rc = new_matcher(&f);
  if (rc == PRISM_OK) {
    rc = load_catalog(f, path);
    if (rc == PRISM_OK)
      rc = finish_catalog(f);
    if (rc != PRISM_OK)
      prism_faithfulness_free(f);
  }
  if (rc != PRISM_OK)
    return prism__error_at(__func__, rc);
  *out = f;
  return PRISM_OK;
}

PRISM_API void prism_faithfulness_free(prism_faithfulness *f)
{
  if (!f)
    return;
  for (size_t i = 0; i < f->folded.count; i++)
    prism__free(f->title[i]);
  prism__metrics_words_free(&f->folded);
  prism__free(f->title);
  prism__free(f->edge);
  prism__free(f->accept);
  prism__free(f->child_key);
  prism__free(f->child);
  prism__free(f->seen);
  prism__free(f->shown);
  prism__free(f->buf);
  prism__free(f->tbuf);
  prism__free(f->named);
  prism__free(f);
}

PRISM_API size_t prism_faithfulness_title_count(const prism_faithfulness *f)
{
  return f ? f->folded.count : 0;
}

PRISM_API const char *prism_faithfulness_title(const prism_faithfulness *f, size_t index)
{
  return f && index < f->folded.count ? f->title[index] : NULL;
}

/* The catalog index of a title given by the caller, or PRISM_ERR_NOT_FOUND. */
static int lookup(prism_faithfulness *f, const char *title, const char *what, size_t *index)
{
  size_t len = strlen(title), n;
  int rc;
  if (prism__utf8_check((const unsigned char *)title, len) != len)
    return prism__error(PRISM_ERR_INVALID_UTF8, "the %s title is not valid UTF-8", what);
  rc = prism__unicode_fold(&f->tbuf, &f->tbuf_cap, &n, title, len);
  if (rc != PRISM_OK)
    return rc;
  *index = prism__metrics_words_find(&f->folded, f->tbuf, n);
  if (*index == SIZE_MAX)
    return prism__error(PRISM_ERR_NOT_FOUND, "the %s \"%.200s\" is not a catalog title", what,
                        title);
  return PRISM_OK;
}

/*
 * The title that starts at text[i] (a word start, or a non-word character)
 * and ends on a word boundary, the longest one; *end receives its end.
 */
static size_t match_at(const prism_faithfulness *f, const char *text, size_t len, size_t i,
                       size_t *end)
{
  size_t best = SIZE_MAX;
  uint32_t node = 0, cp;
  for (size_t j = i; j < len; j++) {
    node = child_of(f, node, (unsigned char)text[j]);
    if (!node)
      break;
    if (f->accept[node]) {
      size_t t = f->accept[node] - 1;
      int boundary = j + 1 == len || !(f->edge[t] & ENDS_WORD);
      if (!boundary) {
        prism__utf8_next((const unsigned char *)text + j + 1, len - j - 1, &cp);
        boundary = !prism__unicode_is_word(cp);
      }
      if (boundary) {
        best = t;
        *end = j + 1;
      }
    }
  }
  return best;
}

/* The distinct titles named in folded `text`, in order of first mention, into f->named. */
static int scan(prism_faithfulness *f, const char *text, size_t len, size_t *named)
{
  size_t i = 0, end, t;
  int prev_word = 0;
  uint32_t cp;
  *named = 0;
  while (i < len) {
    size_t n = prism__utf8_next((const unsigned char *)text + i, len - i, &cp);
    int word = prism__unicode_is_word(cp);
    if (!(prev_word && word) && (t = match_at(f, text, len, i, &end)) != SIZE_MAX) {
      if (f->seen[t] != f->stamp) {
        if (*named == f->named_cap) {
          size_t cap = f->named_cap ? 2 * f->named_cap : 16;
          size_t *p = prism__realloc(f->named, cap * sizeof *p);
          if (!p)
            return PRISM_ERR_NO_MEMORY;
          f->named = p;
          f->named_cap = cap;
        }
        f->seen[t] = f->stamp;
        f->named[(*named)++] = t;
      }
      prev_word = (f->edge[t] & ENDS_WORD) != 0;
      i = end;
      continue;
    }
    prev_word = word;
    i += n;
  }
  return PRISM_OK;
}

static int check_sample(prism_faithfulness *f, const char *explanation, const char *item,
                        const char *const *grounded, size_t grounded_count, size_t *named,
                        size_t *item_index)
{
  size_t len = strlen(explanation), folded_len, g, bad;
  int rc;
  bad = prism__utf8_check((const unsigned char *)explanation, len);
  if (bad != len)
    return prism__error(PRISM_ERR_INVALID_UTF8, "the explanation is not valid UTF-8 (byte %zu)",
                        bad);
  f->stamp++;
  if ((rc = lookup(f, item, "item", item_index)) != PRISM_OK)
    return rc;
  f->shown[*item_index] = f->stamp;
  for (size_t i = 0; i < grounded_count; i++) {
    if (!grounded[i])
      return prism__error(PRISM_ERR_INVALID_ARGUMENT, "grounded[%zu] is NULL", i);
    if ((rc = lookup(f, grounded[i], "grounded", &g)) != PRISM_OK)
      return rc;
    f->shown[g] = f->stamp;
  }
  if ((rc = prism__unicode_fold(&f->buf, &f->buf_cap, &folded_len, explanation, len)) != PRISM_OK)
    return rc;
  return scan(f, f->buf, folded_len, named);
}

PRISM_API int prism_faithfulness_add(prism_faithfulness_sample *out, size_t *titles,
                                     size_t capacity, prism_faithfulness *faithfulness,
                                     const char *explanation, const char *item,
                                     const char *const *grounded, size_t grounded_count)
{
  prism_faithfulness *f = faithfulness;
  prism_faithfulness_sample s;
  size_t named = 0, item_index = 0;
  int rc;
  PRISM__CHECK_ARG(f != NULL, "faithfulness must not be NULL");
  PRISM__CHECK_ARG(explanation != NULL, "explanation must not be NULL");
  PRISM__CHECK_ARG(item != NULL, "item must not be NULL");
  PRISM__CHECK_ARG(grounded != NULL || grounded_count == 0, "grounded must not be NULL");
  rc = check_sample(f, explanation, item, grounded, grounded_count, &named, &item_index);
  if (rc != PRISM_OK) {
    prism__error_prefix("%s: ", __func__);
    return rc;
  }
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  s.titles_named = named;
  for (size_t i = 0; i < named; i++)
    s.titles_grounded += f->shown[f->named[i]] == f->stamp;
  s.names_item = f->seen[item_index] == f->stamp;
  s.hallucinated = s.titles_grounded < named;
  if (out && (rc = PRISM__PARAMS_WRITE(out, &s, PRISM__METRICS_SAMPLE_V1_SIZE, __func__)))
    return rc;
  if (titles && capacity < named)
    return prism__error(PRISM_ERR_BUFFER_TOO_SMALL,
                        "%s: the explanation names %zu titles, but `titles` has room for %zu",
                        __func__, named, capacity);
  if (titles && named)
    memcpy(titles, f->named, named * sizeof *titles);
  f->count++;
  f->titles_named += named;
  f->titles_grounded += s.titles_grounded;
  f->items_named += (uint64_t)s.names_item;
  f->hallucinated += (uint64_t)s.hallucinated;
  return PRISM_OK;
}

PRISM_API int prism_faithfulness_finish(prism_faithfulness_result *out,
                                        const prism_faithfulness *faithfulness)
{
  const prism_faithfulness *f = faithfulness;
  prism_faithfulness_result r;
  PRISM__CHECK_ARG(f != NULL, "faithfulness must not be NULL");
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  if (f->count == 0)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: no explanation was added, so there is nothing to score", __func__);
  memset(&r, 0, sizeof r);
  r.struct_size = sizeof r;
  r.count = f->count;
  r.titles_named = f->titles_named;
  r.titles_grounded = f->titles_grounded;
  r.items_named = f->items_named;
  r.hallucinated = f->hallucinated;
  r.titles_per_explanation = (double)f->titles_named / (double)f->count;
  r.grounded_share = f->titles_named ? (double)f->titles_grounded / (double)f->titles_named : NAN;
  r.item_named_rate = (double)f->items_named / (double)f->count;
  r.hallucination_rate = (double)f->hallucinated / (double)f->count;
  return PRISM__PARAMS_WRITE(out, &r, PRISM__METRICS_FAITH_V1_SIZE, __func__);
}
