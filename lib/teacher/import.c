/*
 * The teacher's answers made into training pairs: matched to requests by id,
 * counted by what became of them, optionally filtered for titles their prompt
 * did not show (the faithfulness matcher of <prism/metrics.h>).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "common/params.h"
#include "prism/metrics.h"
#include "teacher_internal.h"

#define PARAMS_V1_SIZE PRISM__LAYOUT_SIZE(prism_teacher_import_params, n_titles)
#define STATS_V1_SIZE PRISM__LAYOUT_SIZE(prism_teacher_import_stats, hallucinated)
#define PAIR_V1_SIZE PRISM__LAYOUT_SIZE(prism_teacher_pair, hallucinated)
#define DROP_V1_SIZE PRISM__LAYOUT_SIZE(prism_teacher_drop, text)

static const prism_teacher_import_params params_defaults = {
  sizeof(prism_teacher_import_params), NULL, 0, NULL, 0,
};

PRISM_API int prism_teacher_import_params_init(prism_teacher_import_params *params,
                                               size_t struct_size)
{
  return PRISM__PARAMS_INIT(params, struct_size, &params_defaults, PARAMS_V1_SIZE, __func__);
}

typedef struct drop {
  char *id, *text;
  int verdict;
  size_t line;
} drop;

struct prism_teacher_import {
  const prism_teacher_requests *requests;
  size_t n_requests; /* the set's count when the import was made */
  char *answer_key;
  int drop_hallucinated;
  prism_faithfulness *faith;
  const char **grounded; /* scratch: a request's titles */
  char **answer;         /* per request: the kept answer, or NULL */
  unsigned char *hallucinated;
  size_t *pairs; /* requests with a kept answer, in order */
  size_t n_pairs;
  drop *drops;
  size_t n_drops, cap_drops;
  prism_teacher_import_stats stats;
};

PRISM_API const char *prism_teacher_verdict_name(int verdict)
{
  static const char *const names[] = { "kept",       "failed",    "empty",
                                       "unknown_id", "duplicate", "hallucinated" };
  return verdict >= 0 && verdict <= PRISM_TEACHER_HALLUCINATED ? names[verdict] : "unknown";
}

PRISM_API void prism_teacher_import_free(prism_teacher_import *m)
{
  if (!m)
    return;
  for (size_t i = 0; m->answer && i < m->n_requests; i++)
    prism__free(m->answer[i]);
  for (size_t i = 0; i < m->n_drops; i++) {
    prism__free(m->drops[i].id);
    prism__free(m->drops[i].text);
  }
  prism__free(m->answer);
  prism__free(m->hallucinated);
  prism__free(m->pairs);
  prism__free(m->drops);
  prism__free(m->grounded);
  prism__free(m->answer_key);
  prism_faithfulness_free(m->faith);
  prism__free(m);
}

/* Every title the check knows: the caller's, then the requests' items and entries (non-empty). */
static int make_matcher(prism_teacher_import *m, const prism_teacher_import_params *p)
{
  const prism_teacher_requests *r = m->requests;
  size_t n = 0, cap = p->n_titles + r->n + r->n_entries;
  const char **titles = prism__mallocn(cap ? cap : 1, sizeof *titles);
  int rc;
  if (!titles)
    return PRISM_ERR_NO_MEMORY;
  for (size_t i = 0; i < p->n_titles; i++)
    if (p->titles[i] && *p->titles[i])
      titles[n++] = p->titles[i];
  for (size_t i = 0; i < r->n; i++)
    titles[n++] = r->items[i].item.title; /* never empty */
  for (size_t i = 0; i < r->n_entries; i++)
    if (*r->entries[i].title)
      titles[n++] = r->entries[i].title;
  rc = n ? prism_faithfulness_create(&m->faith, titles, n) : PRISM_OK;
  prism__free(titles);
  return rc;
}

static int create(prism_teacher_import *m, const prism_teacher_import_params *p)
{
  const prism_teacher_requests *r = m->requests;
  size_t most = 0, n = r->n ? r->n : 1;
  for (size_t i = 0; i < r->n; i++)
    if (r->items[i].n_history + r->items[i].n_evidence > most)
      most = r->items[i].n_history + r->items[i].n_evidence;
  m->n_requests = r->n;
  m->drop_hallucinated = p->drop_hallucinated != 0;
  m->answer_key = prism__strdup(p->answer_key ? p->answer_key : "explanation");
  m->answer = prism__calloc(n, sizeof *m->answer);
  m->hallucinated = prism__calloc(n, 1);
  m->pairs = prism__mallocn(n, sizeof *m->pairs);
  m->grounded = prism__mallocn(most ? most : 1, sizeof *m->grounded);
  if (!m->answer_key || !m->answer || !m->hallucinated || !m->pairs || !m->grounded)
    return PRISM_ERR_NO_MEMORY;
  if (!*m->answer_key)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "answer_key must not be empty");
  if (p->n_titles && !p->titles)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "titles must not be NULL when n_titles > 0");
  m->stats.struct_size = sizeof m->stats;
  m->stats.requests = r->n;
  m->stats.unanswered = r->n;
  return make_matcher(m, p);
}

PRISM_API int prism_teacher_import_create(prism_teacher_import **out,
                                          const prism_teacher_requests *requests,
                                          const prism_teacher_import_params *params)
{
  prism_teacher_import_params p;
  prism_teacher_import *m;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  PRISM__CHECK_ARG(requests != NULL, "requests must not be NULL");
  rc = PRISM__PARAMS_READ(&p, params, &params_defaults, PARAMS_V1_SIZE, __func__);
  if (rc != PRISM_OK)
    return rc;
  if (!(m = prism__calloc(1, sizeof *m)))
    return prism__error_at(__func__, PRISM_ERR_NO_MEMORY);
  m->requests = requests;
  if ((rc = create(m, &p)) != PRISM_OK) {
    prism_teacher_import_free(m);
    return prism__error_at(__func__, rc);
  }
  *out = m;
  return PRISM_OK;
}

/* ---- one answer ---------------------------------------------------------------------------- */

static int is_space(char c)
{
  return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Does the answer name a catalog title that request `q` neither recommends nor shows? */
static int names_unshown(prism_teacher_import *m, const prism__teacher_request *q, const char *text,
                         int *out)
{
  const prism_teacher_requests *r = m->requests;
  prism_faithfulness_sample s = { .struct_size = sizeof s };
  size_t n = 0;
  int rc;
  for (size_t j = q->history; j < q->evidence + q->n_evidence; j++)
    if (*r->entries[j].title)
      m->grounded[n++] = r->entries[j].title;
  rc = prism_faithfulness_add(&s, NULL, 0, m->faith, text, q->item.title, m->grounded, n);
  *out = rc == PRISM_OK && s.hallucinated;
  return rc;
}

static int note_drop(prism_teacher_import *m, const char *id, const char *text, size_t len,
                     int verdict, size_t line)
{
  drop *d;
  if (m->n_drops == m->cap_drops) {
    size_t cap = m->cap_drops ? 2 * m->cap_drops : 16;
    drop *grown = prism__realloc(m->drops, cap * sizeof *grown);
    if (!grown)
      return PRISM_ERR_NO_MEMORY;
    m->drops = grown;
    m->cap_drops = cap;
  }
  d = &m->drops[m->n_drops];
  d->id = prism__strdup(id);
  d->text = text ? prism__strndup(text, len) : NULL;
  d->verdict = verdict;
  d->line = line;
  if (!d->id || (text && !d->text)) {
    prism__free(d->id);
    prism__free(d->text);
    return PRISM_ERR_NO_MEMORY;
  }
  m->n_drops++;
  m->stats.dropped++;
  return PRISM_OK;
}

/* Keep the answer of request i: its copy, and its place among the pairs (request order). */
static int keep(prism_teacher_import *m, size_t i, const char *text, size_t len, int hallucinated)
{
  size_t at = m->n_pairs;
  if (!(m->answer[i] = prism__strndup(text, len)))
    return PRISM_ERR_NO_MEMORY;
  m->hallucinated[i] = (unsigned char)hallucinated;
  while (at > 0 && m->pairs[at - 1] > i)
    at--;
  memmove(m->pairs + at + 1, m->pairs + at, (m->n_pairs - at) * sizeof *m->pairs);
  m->pairs[at] = i;
  m->n_pairs++;
  m->stats.pairs++;
  m->stats.unanswered--;
  return PRISM_OK;
}

static int add_answer(prism_teacher_import *m, const char *id, const char *text, size_t line,
                      int *verdict)
{
  const prism__teacher_request *q = prism__teacher_find(m->requests, id);
  size_t i = q ? (size_t)(q - m->requests->items) : 0, len = 0;
  int v = PRISM_TEACHER_KEPT, unshown = 0, rc = PRISM_OK;
  if (text) { /* trimmed */
    while (is_space(*text))
      text++;
    len = strlen(text);
    while (len > 0 && is_space(text[len - 1]))
      len--;
  }
  if (!q || i >= m->n_requests)
    v = PRISM_TEACHER_UNKNOWN_ID;
  else if (!text)
    v = PRISM_TEACHER_FAILED;
  else if (!len)
    v = PRISM_TEACHER_EMPTY;
  else if (m->answer[i])
    v = PRISM_TEACHER_DUPLICATE;
  if (v == PRISM_TEACHER_KEPT && m->faith) {
    char *copy = prism__strndup(text, len);
    rc = copy ? names_unshown(m, q, copy, &unshown) : PRISM_ERR_NO_MEMORY;
    prism__free(copy);
    if (rc != PRISM_OK)
      return rc;
    m->stats.hallucinated += (uint64_t)unshown;
    if (unshown && m->drop_hallucinated)
      v = PRISM_TEACHER_HALLUCINATED;
  }
  if (v == PRISM_TEACHER_KEPT)
    rc = keep(m, i, text, len, unshown);
  else
    rc = note_drop(m, id, text, len, v, line);
  if (rc != PRISM_OK)
    return rc;
  m->stats.answers++;
  m->stats.failed += v == PRISM_TEACHER_FAILED;
  m->stats.empty += v == PRISM_TEACHER_EMPTY;
  m->stats.unknown_id += v == PRISM_TEACHER_UNKNOWN_ID;
  m->stats.duplicate += v == PRISM_TEACHER_DUPLICATE;
  if (verdict)
    *verdict = v;
  return PRISM_OK;
}

PRISM_API int prism_teacher_import_add(int *verdict, prism_teacher_import *import, const char *id,
                                       const char *text)
{
  PRISM__CHECK_ARG(import != NULL, "import must not be NULL");
  PRISM__CHECK_ARG(id != NULL, "id must not be NULL");
  return prism__error_at(__func__, add_answer(import, id, text, 0, verdict));
}

/* ---- answer files: every line is read first, then added -------------------------------------- */

typedef struct answer_line {
  char *id;     /* owned */
  json_t *line; /* holds the text */
  const char *text;
  size_t line_no;
} answer_line;

typedef struct answer_lines {
  const char *key;
  answer_line *items;
  size_t n, cap;
} answer_lines;

static int answer_id(char **out, const json_t *line)
{
  const json_t *id = json_object_get(line, "id");
  char number[32];
  if (json_is_string(id) && *json_string_value(id)) {
    *out = prism__strdup(json_string_value(id));
  } else if (json_is_integer(id)) {
    snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
    *out = prism__strdup(number);
  } else {
    return prism__error(PRISM_ERR_FORMAT, "\"id\" must be a non-empty string or an integer");
  }
  return *out ? PRISM_OK : PRISM_ERR_NO_MEMORY;
}

static int read_line(const json_t *line, size_t line_no, void *ctx)
{
  answer_lines *a = ctx;
  const json_t *text = json_object_get(line, a->key);
  answer_line *l;
  int rc;
  if (text && !json_is_null(text) && !json_is_string(text))
    return prism__error(PRISM_ERR_FORMAT, "\"%s\" must be a string", a->key);
  if ((!text || json_is_null(text)) && !json_object_get(line, "error"))
    return prism__error(PRISM_ERR_FORMAT, "neither \"%s\" nor \"error\"", a->key);
  if (a->n == a->cap) {
    size_t cap = a->cap ? 2 * a->cap : 256;
    answer_line *grown = prism__realloc(a->items, cap * sizeof *grown);
    if (!grown)
      return PRISM_ERR_NO_MEMORY;
    a->items = grown;
    a->cap = cap;
  }
  l = &a->items[a->n];
  if ((rc = answer_id(&l->id, line)) != PRISM_OK)
    return rc;
  l->line = json_incref((json_t *)line);
  l->text = json_is_string(text) ? json_string_value(text) : NULL;
  l->line_no = line_no;
  a->n++;
  return PRISM_OK;
}

/* Undo a failed call: its kept answers (requests added[0 .. n_added)), drops and counts. */
static void roll_back(prism_teacher_import *m, const size_t *added, size_t n_added, size_t n_drops,
                      const prism_teacher_import_stats *before)
{
  for (size_t k = 0; k < n_added; k++) {
    size_t i = added[k], at = 0;
    while (m->pairs[at] != i)
      at++;
    memmove(m->pairs + at, m->pairs + at + 1, (m->n_pairs - at - 1) * sizeof *m->pairs);
    m->n_pairs--;
    prism__free(m->answer[i]);
    m->answer[i] = NULL;
    m->hallucinated[i] = 0;
  }
  while (m->n_drops > n_drops) {
    m->n_drops--;
    prism__free(m->drops[m->n_drops].id);
    prism__free(m->drops[m->n_drops].text);
  }
  m->stats = *before;
}

static int add_lines(prism_teacher_import *m, const char *data, size_t len, const char *what)
{
  answer_lines a = { m->answer_key, NULL, 0, 0 };
  prism_teacher_import_stats before = m->stats;
  size_t n_drops = m->n_drops, *added = NULL, n_added = 0;
  int rc = prism__json_lines(data, len, what, read_line, &a);
  if (rc == PRISM_OK && a.n && !(added = prism__mallocn(a.n, sizeof *added)))
    rc = PRISM_ERR_NO_MEMORY;
  for (size_t k = 0; rc == PRISM_OK && k < a.n; k++) {
    int v;
    rc = add_answer(m, a.items[k].id, a.items[k].text, a.items[k].line_no, &v);
    if (rc == PRISM_OK && v == PRISM_TEACHER_KEPT)
      added[n_added++] =
          (size_t)(prism__teacher_find(m->requests, a.items[k].id) - m->requests->items);
  }
  if (rc != PRISM_OK) /* out of memory while adding: nothing of this call stays */
    roll_back(m, added, n_added, n_drops, &before);
  for (size_t k = 0; k < a.n; k++) {
    prism__free(a.items[k].id);
    json_decref(a.items[k].line);
  }
  prism__free(a.items);
  prism__free(added);
  return rc;
}

PRISM_API int prism_teacher_import_parse(prism_teacher_import *import, const char *data, size_t len,
                                         const char *what)
{
  PRISM__CHECK_ARG(import != NULL, "import must not be NULL");
  PRISM__CHECK_ARG(data != NULL || len == 0, "data must not be NULL unless len is 0");
  return prism__error_at(__func__, add_lines(import, data, len, what ? what : "answers"));
}

PRISM_API int prism_teacher_import_load(prism_teacher_import *import, const char *path)
{
  prism__file f;
  int rc;
  PRISM__CHECK_ARG(import != NULL, "import must not be NULL");
  PRISM__CHECK_ARG(path != NULL, "path must not be NULL");
  if ((rc = prism__file_read(path, 0, &f)) != PRISM_OK)
    return prism__error_at(__func__, rc);
  rc = add_lines(import, (const char *)f.data, f.size, path);
  prism__file_close(&f);
  return prism__error_at(__func__, rc);
}

/* ---- reading ------------------------------------------------------------------------------- */

PRISM_API int prism_teacher_import_get_stats(prism_teacher_import_stats *out,
                                             const prism_teacher_import *import)
{
  PRISM__CHECK_ARG(import != NULL, "import must not be NULL");
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  return PRISM__PARAMS_WRITE(out, &import->stats, STATS_V1_SIZE, __func__);
}

PRISM_API size_t prism_teacher_import_count(const prism_teacher_import *import)
{
  return import ? import->n_pairs : 0;
}

static int pair_at(const prism_teacher_import *m, size_t index, const char *fn, size_t *request)
{
  if (!m)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: import must not be NULL", fn);
  if (index >= m->n_pairs)
    return prism__error(PRISM_ERR_OUT_OF_RANGE, "%s: pair %zu of %zu", fn, index, m->n_pairs);
  *request = m->pairs[index];
  return PRISM_OK;
}

PRISM_API int prism_teacher_import_pair(prism_teacher_pair *out, const prism_teacher_import *import,
                                        size_t index)
{
  prism_teacher_pair p;
  size_t i = 0;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  if ((rc = pair_at(import, index, __func__, &i)) != PRISM_OK)
    return rc;
  memset(&p, 0, sizeof p);
  p.struct_size = sizeof p;
  p.id = import->requests->items[i].id;
  p.source = import->requests->items[i].source;
  p.target = import->answer[i];
  p.hallucinated = import->hallucinated[i];
  return PRISM__PARAMS_WRITE(out, &p, PAIR_V1_SIZE, __func__);
}

PRISM_API int prism_teacher_import_pair_line(char *buf, size_t capacity, size_t *len,
                                             const prism_teacher_import *import, size_t index)
{
  size_t i = 0;
  int rc;
  PRISM__CHECK_ARG(len != NULL, "len must not be NULL");
  PRISM__CHECK_ARG(buf != NULL || capacity == 0, "buf may be NULL only with capacity 0");
  if ((rc = pair_at(import, index, __func__, &i)) != PRISM_OK)
    return rc;
  return prism__teacher_line_out(buf, capacity, len,
                                 json_pack("{s:s, s:s, s:s}", "id", import->requests->items[i].id,
                                           "source", import->requests->items[i].source, "target",
                                           import->answer[i]),
                                 __func__);
}

PRISM_API size_t prism_teacher_import_drop_count(const prism_teacher_import *import)
{
  return import ? import->n_drops : 0;
}

PRISM_API int prism_teacher_import_drop(prism_teacher_drop *out, const prism_teacher_import *import,
                                        size_t index)
{
  prism_teacher_drop d;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(import != NULL, "import must not be NULL");
  if (index >= import->n_drops)
    return prism__error(PRISM_ERR_OUT_OF_RANGE, "%s: dropped answer %zu of %zu", __func__, index,
                        import->n_drops);
  memset(&d, 0, sizeof d);
  d.struct_size = sizeof d;
  d.id = import->drops[index].id;
  d.verdict = import->drops[index].verdict;
  d.line = import->drops[index].line;
  d.text = import->drops[index].text;
  return PRISM__PARAMS_WRITE(out, &d, DROP_V1_SIZE, __func__);
}
