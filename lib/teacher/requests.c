/*
 * Teacher requests: for each (history, item, evidence) the teacher's prompt and
 * the student's, rendered from the same entries; filled one at a time, from a
 * pipeline result, or from the JSON Lines a set writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "common/params.h"
#include "common/rng.h"
#include "common/utf8.h"
#include "teacher_internal.h"

#define FORMAT_V1_SIZE PRISM__LAYOUT_SIZE(prism_prompt_format, max_value_bytes)
#define PARAMS_V1_SIZE PRISM__LAYOUT_SIZE(prism_teacher_params, student_format)
#define REQUEST_V1_SIZE PRISM__LAYOUT_SIZE(prism_teacher_request, evidence_count)

/* The faithfulness-constrained instruction of the Prism paper's teacher, in our own words. */
static const char teacher_template[] =
    "Explain to the user, in one or two sentences, why they may like the recommended item. Base "
    "the explanation solely on the user's interaction history shown here: link features of the "
    "recommended item to patterns in that history. Mention only items listed below, and state "
    "nothing that is not shown.\n"
    "History, oldest first: {history}\n"
    "History items that led to the recommendation: {evidence}\n"
    "Recommended item: {item} ({item_features})\n"
    "Explanation:";

PRISM_API int prism_teacher_format_init(prism_prompt_format *format, size_t struct_size)
{
  prism_prompt_format f;
  int rc = prism_prompt_format_init(&f, sizeof f);
  if (rc != PRISM_OK)
    return rc;
  f.template_text = teacher_template;
  return PRISM__PARAMS_INIT(format, struct_size, &f, FORMAT_V1_SIZE, __func__);
}

static const prism_teacher_params params_defaults = { sizeof(prism_teacher_params), NULL, NULL };

PRISM_API int prism_teacher_params_init(prism_teacher_params *params, size_t struct_size)
{
  return PRISM__PARAMS_INIT(params, struct_size, &params_defaults, PARAMS_V1_SIZE, __func__);
}

/* ---- formats ------------------------------------------------------------------------------ */

static void format_free(prism__teacher_format *f)
{
  for (int i = 0; i < 5; i++)
    prism__free(f->text[i]);
}

/* A copy of `src` (NULL: the default) whose strings the set owns, checked by one dry render. */
static int format_copy(prism__teacher_format *dst, const prism_prompt_format *src, int teacher,
                       const char *which)
{
  static const prism_prompt_item probe = { "title", "features" };
  prism_prompt_format defaults;
  const char **field[5];
  size_t len;
  int rc = teacher ? prism_teacher_format_init(&defaults, sizeof defaults)
                   : prism_prompt_format_init(&defaults, sizeof defaults);
  if (rc == PRISM_OK)
    rc = PRISM__PARAMS_READ(&dst->f, src, &defaults, FORMAT_V1_SIZE, which);
  if (rc != PRISM_OK)
    return rc;
  field[0] = &dst->f.template_text;
  field[1] = &dst->f.entry_template;
  field[2] = &dst->f.separator;
  field[3] = &dst->f.empty_list;
  field[4] = &dst->f.empty_value;
  for (int i = 0; i < 5; i++) {
    if (!*field[i])
      return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                          "%s: every string must be set (prism_prompt_format_init sets them)",
                          which);
    if (!(dst->text[i] = prism__strdup(*field[i])))
      return PRISM_ERR_NO_MEMORY;
    *field[i] = dst->text[i];
  }
  if ((rc = prism_prompt_render(NULL, 0, &len, &dst->f, &probe, 1, &probe, &probe, 1)) != PRISM_OK)
    return prism__error_prefix("%s: ", which);
  return PRISM_OK;
}

/* ---- the set ------------------------------------------------------------------------------ */

static void request_free(prism__teacher_request *q)
{
  prism__free(q->id);
  prism__free(q->prompt);
  prism__free(q->source);
  prism__free(q->user);
  prism__free(q->item_id);
  prism__free(q->item.title);
  prism__free(q->item.features);
}

static void entry_free(prism__teacher_entry *e)
{
  prism__free(e->title);
  prism__free(e->features);
}

PRISM_API void prism_teacher_requests_free(prism_teacher_requests *r)
{
  if (!r)
    return;
  for (size_t i = 0; i < r->n; i++)
    request_free(&r->items[i]);
  for (size_t i = 0; i < r->n_entries; i++)
    entry_free(&r->entries[i]);
  prism__free(r->items);
  prism__free(r->entries);
  prism__idmap_free(&r->ids);
  format_free(&r->teacher);
  format_free(&r->student);
  prism__free(r);
}

PRISM_API int prism_teacher_requests_create(prism_teacher_requests **out,
                                            const prism_teacher_params *params)
{
  prism_teacher_params p;
  prism_teacher_requests *r;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  rc = PRISM__PARAMS_READ(&p, params, &params_defaults, PARAMS_V1_SIZE, __func__);
  if (rc != PRISM_OK)
    return rc;
  if (!(r = prism__calloc(1, sizeof *r)))
    return prism__error_at(__func__, PRISM_ERR_NO_MEMORY);
  rc = format_copy(&r->teacher, p.teacher_format, 1, "teacher_format");
  if (rc == PRISM_OK)
    rc = format_copy(&r->student, p.student_format, 0, "student_format");
  if (rc != PRISM_OK) {
    prism_teacher_requests_free(r);
    return prism__error_at(__func__, rc);
  }
  *out = r;
  return PRISM_OK;
}

PRISM_API size_t prism_teacher_requests_count(const prism_teacher_requests *r)
{
  return r ? r->n : 0;
}

const prism__teacher_request *prism__teacher_find(const prism_teacher_requests *r, const char *id)
{
  int32_t i = prism__idmap_find(&r->ids, id);
  return i >= 0 && (size_t)i < r->n ? &r->items[i] : NULL;
}

/* Make the id map again from the requests (after a sample or a rollback); on failure the old
 * map stays. */
static int reindex(prism_teacher_requests *r)
{
  prism__idmap ids;
  memset(&ids, 0, sizeof ids);
  for (size_t i = 0; i < r->n; i++) {
    int32_t at;
    int rc = prism__idmap_intern(&ids, r->items[i].id, &at);
    if (rc != PRISM_OK) {
      prism__idmap_free(&ids);
      return rc;
    }
  }
  prism__idmap_free(&r->ids);
  r->ids = ids;
  return PRISM_OK;
}

/* Drop the requests from index n and the entries from n_entries on: a failed call's part. */
static void truncate_to(prism_teacher_requests *r, size_t n, size_t n_entries)
{
  int had = r->n != n;
  while (r->n > n)
    request_free(&r->items[--r->n]);
  while (r->n_entries > n_entries)
    entry_free(&r->entries[--r->n_entries]);
  /* Without memory for a new map the old one stays: its extra ids only refuse them again. */
  if (had)
    (void)reindex(r);
}

static char *dup_text(const char *s)
{
  return prism__strdup(s ? s : "");
}

static int check_text(const char *s, const char *what)
{
  size_t n = s ? strlen(s) : 0;
  if (s && prism__utf8_check((const unsigned char *)s, n) != n)
    return prism__error(PRISM_ERR_INVALID_UTF8, "%s is not valid UTF-8 (byte %zu)", what,
                        prism__utf8_check((const unsigned char *)s, n));
  return PRISM_OK;
}

static int grow(void **array, size_t *cap, size_t need, size_t size)
{
  size_t n = *cap ? *cap : 64;
  void *grown;
  if (need <= *cap)
    return PRISM_OK;
  while (n < need)
    n *= 2;
  if (!(grown = prism__realloc(*array, n * size)))
    return PRISM_ERR_NO_MEMORY;
  *array = grown;
  *cap = n;
  return PRISM_OK;
}

/* Copies of a list's entries appended to the set's entries. */
static int store_entries(prism_teacher_requests *r, const prism_prompt_item *list, size_t n,
                         const char *what)
{
  char name[48];
  int rc = grow((void **)&r->entries, &r->cap_entries, r->n_entries + n, sizeof *r->entries);
  for (size_t i = 0; rc == PRISM_OK && i < n; i++) {
    prism__teacher_entry *e = &r->entries[r->n_entries];
    snprintf(name, sizeof name, "%s[%zu].title", what, i);
    if ((rc = check_text(list[i].title, name)) != PRISM_OK)
      break;
    snprintf(name, sizeof name, "%s[%zu].features", what, i);
    if ((rc = check_text(list[i].features, name)) != PRISM_OK)
      break;
    e->title = dup_text(list[i].title);
    e->features = dup_text(list[i].features);
    if (!e->title || !e->features) {
      entry_free(e);
      return PRISM_ERR_NO_MEMORY;
    }
    r->n_entries++;
  }
  return rc;
}

/* What one request holds, borrowed, before the set copies it. */
typedef struct request_in {
  const char *id, *prompt, *source, *user, *item_id;
  const prism_prompt_item *item, *history, *evidence;
  size_t n_history, n_evidence;
} request_in;

/* Copy a request into the set; on failure nothing of it stays. */
static int store(prism_teacher_requests *r, const request_in *in)
{
  size_t n_entries = r->n_entries;
  prism__teacher_request q;
  char number[24];
  const char *id = in->id;
  int32_t at;
  int rc;
  if (!id) {
    snprintf(number, sizeof number, "%zu", r->n + 1);
    id = number;
  }
  if (!*id)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "the id is empty");
  if ((rc = check_text(id, "the id")) != PRISM_OK)
    return rc;
  if (prism__idmap_find(&r->ids, id) >= 0)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "the id \"%.200s\" is already in the set", id);
  if (!in->item->title || !*in->item->title)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "the recommended item has no title");
  if ((rc = check_text(in->item->title, "item.title")) != PRISM_OK ||
      (rc = check_text(in->item->features, "item.features")) != PRISM_OK ||
      (rc = check_text(in->user, "the user")) != PRISM_OK ||
      (rc = check_text(in->item_id, "the item id")) != PRISM_OK)
    return rc;
  memset(&q, 0, sizeof q);
  q.history = r->n_entries;
  q.n_history = in->n_history;
  rc = store_entries(r, in->history, in->n_history, "history");
  q.evidence = r->n_entries;
  q.n_evidence = in->n_evidence;
  if (rc == PRISM_OK)
    rc = store_entries(r, in->evidence, in->n_evidence, "evidence");
  if (rc == PRISM_OK)
    rc = grow((void **)&r->items, &r->cap, r->n + 1, sizeof *r->items);
  if (rc == PRISM_OK) {
    q.id = prism__strdup(id);
    q.prompt = prism__strdup(in->prompt);
    q.source = prism__strdup(in->source);
    q.user = in->user ? prism__strdup(in->user) : NULL;
    q.item_id = in->item_id ? prism__strdup(in->item_id) : NULL;
    q.item.title = dup_text(in->item->title);
    q.item.features = dup_text(in->item->features);
    if (!q.id || !q.prompt || !q.source || (in->user && !q.user) || (in->item_id && !q.item_id) ||
        !q.item.title || !q.item.features)
      rc = PRISM_ERR_NO_MEMORY;
  }
  if (rc == PRISM_OK)
    rc = prism__idmap_intern(&r->ids, q.id, &at);
  if (rc != PRISM_OK) {
    request_free(&q);
    truncate_to(r, r->n, n_entries);
    return rc;
  }
  r->items[r->n++] = q;
  return PRISM_OK;
}

/* A prompt rendered into a new string. */
static int render(char **out, const prism_prompt_format *f, const request_in *in)
{
  size_t len;
  int rc = prism_prompt_render(NULL, 0, &len, f, in->history, in->n_history, in->item, in->evidence,
                               in->n_evidence);
  if (rc != PRISM_OK)
    return rc;
  if (!(*out = prism__malloc(len + 1)))
    return PRISM_ERR_NO_MEMORY;
  return prism_prompt_render(*out, len + 1, &len, f, in->history, in->n_history, in->item,
                             in->evidence, in->n_evidence);
}

/* Render both prompts from the entries the student's format shows, and store the request. */
static int add_rendered(prism_teacher_requests *r, request_in *in)
{
  const prism_prompt_format *s = &r->student.f;
  char *teacher = NULL, *student = NULL;
  int rc;
  if (s->max_history && in->n_history > s->max_history) {
    in->history += in->n_history - s->max_history;
    in->n_history = s->max_history;
  }
  if (s->max_evidence && in->n_evidence > s->max_evidence)
    in->n_evidence = s->max_evidence;
  rc = render(&teacher, &r->teacher.f, in);
  if (rc == PRISM_OK)
    rc = render(&student, s, in);
  in->prompt = teacher;
  in->source = student;
  if (rc == PRISM_OK)
    rc = store(r, in);
  prism__free(teacher);
  prism__free(student);
  return rc;
}

PRISM_API int prism_teacher_requests_add(prism_teacher_requests *requests, const char *id,
                                         const prism_prompt_item *history, size_t n_history,
                                         const prism_prompt_item *item,
                                         const prism_prompt_item *evidence, size_t n_evidence)
{
  request_in in;
  PRISM__CHECK_ARG(requests != NULL, "requests must not be NULL");
  PRISM__CHECK_ARG(item != NULL, "item must not be NULL");
  PRISM__CHECK_ARG(history != NULL || n_history == 0, "history must not be NULL");
  PRISM__CHECK_ARG(evidence != NULL || n_evidence == 0, "evidence must not be NULL");
  memset(&in, 0, sizeof in);
  in.id = id;
  in.item = item;
  in.history = history;
  in.n_history = n_history;
  in.evidence = evidence;
  in.n_evidence = n_evidence;
  return prism__error_at(__func__, add_rendered(requests, &in));
}

/* ---- from a pipeline result ---------------------------------------------------------------- */

typedef struct list_buf {
  prism_prompt_item *items;
  size_t n, cap;
} list_buf;

static int list_push(list_buf *b, const char *title, const char *features)
{
  int rc = grow((void **)&b->items, &b->cap, b->n + 1, sizeof *b->items);
  if (rc == PRISM_OK) {
    b->items[b->n].title = title;
    b->items[b->n++].features = features;
  }
  return rc;
}

/* The user's history entries the catalog knows, oldest first, into `h`. */
static int result_history(list_buf *h, const prism_pipeline_result *res, size_t u, size_t count)
{
  h->n = 0;
  for (size_t j = 0; j < count; j++) {
    prism_pipeline_entry e = { .struct_size = sizeof e };
    int rc = prism_pipeline_result_history(&e, res, u, j);
    if (rc == PRISM_OK && e.title)
      rc = list_push(h, e.title, e.features);
    if (rc != PRISM_OK)
      return rc;
  }
  return PRISM_OK;
}

static int result_item(prism_teacher_requests *r, const prism_pipeline_result *res, size_t u,
                       size_t k, const char *user, const list_buf *h, list_buf *ev)
{
  prism_pipeline_item it = { .struct_size = sizeof it };
  prism_prompt_item item;
  request_in in;
  char *id;
  size_t len;
  int rc = prism_pipeline_result_item(&it, res, u, k);
  if (rc != PRISM_OK || !it.prompt)
    return rc; /* the catalog lacks the item: no prompt, no request */
  ev->n = 0;
  for (size_t j = 0; rc == PRISM_OK && j < it.evidence_count; j++) {
    prism_pipeline_entry e = { .struct_size = sizeof e };
    rc = prism_pipeline_result_evidence(&e, res, u, k, j);
    if (rc == PRISM_OK && e.title)
      rc = list_push(ev, e.title, e.features);
  }
  if (rc != PRISM_OK)
    return rc;
  len = strlen(user) + strlen(it.item) + 2;
  if (!(id = prism__malloc(len)))
    return PRISM_ERR_NO_MEMORY;
  snprintf(id, len, "%s/%s", user, it.item);
  item.title = it.title;
  item.features = it.features;
  memset(&in, 0, sizeof in);
  in.id = id;
  in.user = user;
  in.item_id = it.item;
  in.item = &item;
  in.history = h->items;
  in.n_history = h->n;
  in.evidence = ev->items;
  in.n_evidence = ev->n;
  rc = add_rendered(r, &in);
  prism__free(id);
  return rc;
}

static int add_result(prism_teacher_requests *r, const prism_pipeline_result *res)
{
  list_buf h = { NULL, 0, 0 }, ev = { NULL, 0, 0 };
  int rc = PRISM_OK;
  for (size_t u = 0; rc == PRISM_OK && u < prism_pipeline_result_count(res); u++) {
    prism_pipeline_user pu = { .struct_size = sizeof pu };
    rc = prism_pipeline_result_user(&pu, res, u);
    if (rc != PRISM_OK || pu.status != PRISM_OK)
      continue;
    rc = result_history(&h, res, u, pu.history_count);
    for (size_t k = 0; rc == PRISM_OK && k < pu.item_count; k++)
      rc = result_item(r, res, u, k, pu.user, &h, &ev);
  }
  prism__free(h.items);
  prism__free(ev.items);
  return rc;
}

PRISM_API int prism_teacher_requests_add_result(prism_teacher_requests *requests,
                                                const prism_pipeline_result *result)
{
  size_t n, n_entries;
  int rc;
  PRISM__CHECK_ARG(requests != NULL, "requests must not be NULL");
  PRISM__CHECK_ARG(result != NULL, "result must not be NULL");
  n = requests->n;
  n_entries = requests->n_entries;
  if ((rc = add_result(requests, result)) != PRISM_OK)
    truncate_to(requests, n, n_entries);
  return prism__error_at(__func__, rc);
}

/* ---- JSON Lines ---------------------------------------------------------------------------- */

/* [title, features] */
static int json_entry(prism_prompt_item *out, const json_t *v, const char *what, size_t j)
{
  if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_string(json_array_get(v, 0)) ||
      !json_is_string(json_array_get(v, 1)))
    return prism__error(PRISM_ERR_FORMAT, "%s[%zu] must be [title, features], two strings", what,
                        j);
  out->title = json_string_value(json_array_get(v, 0));
  out->features = json_string_value(json_array_get(v, 1));
  return PRISM_OK;
}

/* An optional list of entries; *out is allocated (NULL when empty). */
static int json_list(prism_prompt_item **out, size_t *n, const json_t *line, const char *key)
{
  const json_t *v = json_object_get(line, key);
  *out = NULL;
  *n = 0;
  if (!v || json_is_null(v))
    return PRISM_OK;
  if (!json_is_array(v))
    return prism__error(PRISM_ERR_FORMAT, "\"%s\" must be a list of [title, features]", key);
  if (json_array_size(v) == 0)
    return PRISM_OK;
  if (!(*out = prism__mallocn(json_array_size(v), sizeof **out)))
    return PRISM_ERR_NO_MEMORY;
  for (size_t j = 0; j < json_array_size(v); j++) {
    int rc = json_entry(&(*out)[j], json_array_get(v, j), key, j);
    if (rc != PRISM_OK)
      return rc;
  }
  *n = json_array_size(v);
  return PRISM_OK;
}

static int json_text(const char **out, const json_t *line, const char *key, int required)
{
  const json_t *v = json_object_get(line, key);
  *out = NULL;
  if (!v || json_is_null(v)) {
    if (required)
      return prism__error(PRISM_ERR_FORMAT, "\"%s\" is missing", key);
    return PRISM_OK;
  }
  if (!json_is_string(v) || (required && !*json_string_value(v)))
    return prism__error(PRISM_ERR_FORMAT, "\"%s\" must be a%s string", key,
                        required ? " non-empty" : "");
  *out = json_string_value(v);
  return PRISM_OK;
}

static int parse_line(const json_t *line, size_t line_no, void *ctx)
{
  prism_teacher_requests *r = ctx;
  prism_prompt_item item, *history = NULL, *evidence = NULL;
  request_in in;
  int rc;
  (void)line_no;
  if (json_object_get(line, "error") && !json_object_get(line, "prompt"))
    return prism__error(PRISM_ERR_FORMAT, "an error line (the request could not be made): fix "
                                          "its input or remove the line");
  memset(&in, 0, sizeof in);
  rc = json_text(&in.id, line, "id", 1);
  if (rc == PRISM_OK)
    rc = json_text(&in.prompt, line, "prompt", 1);
  if (rc == PRISM_OK)
    rc = json_text(&in.source, line, "source", 1);
  if (rc == PRISM_OK)
    rc = json_text(&in.user, line, "user", 0);
  if (rc == PRISM_OK)
    rc = json_text(&in.item_id, line, "item_id", 0);
  if (rc == PRISM_OK && !json_object_get(line, "item"))
    rc = prism__error(PRISM_ERR_FORMAT, "\"item\" is missing");
  if (rc == PRISM_OK)
    rc = json_entry(&item, json_object_get(line, "item"), "item", 0);
  if (rc == PRISM_OK)
    rc = json_list(&history, &in.n_history, line, "history");
  if (rc == PRISM_OK)
    rc = json_list(&evidence, &in.n_evidence, line, "evidence");
  if (rc == PRISM_OK) {
    in.item = &item;
    in.history = history;
    in.evidence = evidence;
    rc = store(r, &in);
  }
  prism__free(history);
  prism__free(evidence);
  return rc;
}

static int parse_all(prism_teacher_requests *r, const char *data, size_t len, const char *what)
{
  size_t n = r->n, n_entries = r->n_entries;
  int rc = prism__json_lines(data, len, what, parse_line, r);
  if (rc != PRISM_OK)
    truncate_to(r, n, n_entries);
  return rc;
}

PRISM_API int prism_teacher_requests_parse(prism_teacher_requests *requests, const char *data,
                                           size_t len, const char *what)
{
  PRISM__CHECK_ARG(requests != NULL, "requests must not be NULL");
  PRISM__CHECK_ARG(data != NULL || len == 0, "data must not be NULL unless len is 0");
  return prism__error_at(__func__, parse_all(requests, data, len, what ? what : "requests"));
}

PRISM_API int prism_teacher_requests_load(prism_teacher_requests *requests, const char *path)
{
  prism__file f;
  int rc;
  PRISM__CHECK_ARG(requests != NULL, "requests must not be NULL");
  PRISM__CHECK_ARG(path != NULL, "path must not be NULL");
  if ((rc = prism__file_read(path, 0, &f)) != PRISM_OK)
    return prism__error_at(__func__, rc);
  rc = parse_all(requests, (const char *)f.data, f.size, path);
  prism__file_close(&f);
  return prism__error_at(__func__, rc);
}

/* ---- sampling ------------------------------------------------------------------------------ */

/* keep[] of n requests drawn uniformly without replacement (a partial Fisher-Yates shuffle). */
static int draw(unsigned char *keep, size_t total, size_t n, uint64_t seed)
{
  size_t *pick = prism__mallocn(total, sizeof *pick);
  prism__rng rng;
  if (!pick)
    return PRISM_ERR_NO_MEMORY;
  prism__rng_seed(&rng, seed, 0);
  for (size_t i = 0; i < total; i++)
    pick[i] = i;
  for (size_t i = 0; i < n; i++) {
    size_t j = i + (size_t)prism__rng_below(&rng, total - i), t = pick[i];
    pick[i] = pick[j];
    pick[j] = t;
    keep[pick[i]] = 1;
  }
  prism__free(pick);
  return PRISM_OK;
}

/* Everything that can fail comes first (the draw, the new id map, the new entries array). */
static int sample(prism_teacher_requests *r, size_t n, uint64_t seed)
{
  unsigned char *keep = prism__calloc(r->n, 1);
  prism__teacher_entry *entries = prism__mallocn(r->n_entries ? r->n_entries : 1, sizeof *entries);
  prism__idmap ids;
  size_t kept = 0, kept_entries = 0;
  int rc = keep && entries ? draw(keep, r->n, n, seed) : PRISM_ERR_NO_MEMORY;
  memset(&ids, 0, sizeof ids);
  for (size_t i = 0; rc == PRISM_OK && i < r->n; i++) {
    int32_t at;
    if (keep[i])
      rc = prism__idmap_intern(&ids, r->items[i].id, &at);
  }
  if (rc != PRISM_OK) {
    prism__idmap_free(&ids);
    prism__free(keep);
    prism__free(entries);
    return rc;
  }
  for (size_t i = 0; i < r->n; i++) {
    prism__teacher_request *q = &r->items[i];
    size_t count = q->n_history + q->n_evidence; /* evidence follows history */
    if (!keep[i]) {
      for (size_t j = q->history; j < q->history + count; j++)
        entry_free(&r->entries[j]);
      request_free(q);
      continue;
    }
    if (count) /* r->entries is NULL while the set has no entries */
      memcpy(entries + kept_entries, r->entries + q->history, count * sizeof *entries);
    q->history = kept_entries;
    q->evidence = kept_entries + q->n_history;
    kept_entries += count;
    r->items[kept++] = *q;
  }
  prism__free(r->entries);
  prism__idmap_free(&r->ids);
  r->entries = entries;
  r->cap_entries = r->n_entries ? r->n_entries : 1;
  r->n_entries = kept_entries;
  r->n = kept;
  r->ids = ids;
  prism__free(keep);
  return PRISM_OK;
}

PRISM_API int prism_teacher_requests_sample(prism_teacher_requests *requests, size_t n,
                                            uint64_t seed)
{
  PRISM__CHECK_ARG(requests != NULL, "requests must not be NULL");
  if (n >= requests->n)
    return PRISM_OK;
  return prism__error_at(__func__, sample(requests, n, seed));
}

/* ---- reading ------------------------------------------------------------------------------- */

static int request_at(const prism_teacher_requests *r, size_t index, const char *fn,
                      const prism__teacher_request **out)
{
  if (!r)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: requests must not be NULL", fn);
  if (index >= r->n)
    return prism__error(PRISM_ERR_OUT_OF_RANGE, "%s: request %zu of %zu", fn, index, r->n);
  *out = &r->items[index];
  return PRISM_OK;
}

PRISM_API int prism_teacher_requests_get(prism_teacher_request *out,
                                         const prism_teacher_requests *requests, size_t index)
{
  const prism__teacher_request *q = NULL;
  prism_teacher_request v;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  if ((rc = request_at(requests, index, __func__, &q)) != PRISM_OK)
    return rc;
  memset(&v, 0, sizeof v);
  v.struct_size = sizeof v;
  v.id = q->id;
  v.prompt = q->prompt;
  v.source = q->source;
  v.user = q->user;
  v.item_id = q->item_id;
  v.item.title = q->item.title;
  v.item.features = q->item.features;
  v.history_count = q->n_history;
  v.evidence_count = q->n_evidence;
  return PRISM__PARAMS_WRITE(out, &v, REQUEST_V1_SIZE, __func__);
}

static int entry_at(prism_prompt_item *out, const prism_teacher_requests *r, size_t index, size_t j,
                    int evidence, const char *fn)
{
  const prism__teacher_request *q = NULL;
  size_t n, first;
  int rc;
  if (!out)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: out must not be NULL", fn);
  if ((rc = request_at(r, index, fn, &q)) != PRISM_OK)
    return rc;
  n = evidence ? q->n_evidence : q->n_history;
  first = evidence ? q->evidence : q->history;
  if (j >= n)
    return prism__error(PRISM_ERR_OUT_OF_RANGE, "%s: entry %zu of %zu", fn, j, n);
  out->title = r->entries[first + j].title;
  out->features = r->entries[first + j].features;
  return PRISM_OK;
}

PRISM_API int prism_teacher_requests_history(prism_prompt_item *out,
                                             const prism_teacher_requests *requests, size_t index,
                                             size_t j)
{
  return entry_at(out, requests, index, j, 0, __func__);
}

PRISM_API int prism_teacher_requests_evidence(prism_prompt_item *out,
                                              const prism_teacher_requests *requests, size_t index,
                                              size_t j)
{
  return entry_at(out, requests, index, j, 1, __func__);
}

/* Entries [first, first + n) of the set as [[title, features], ...] (entries may be NULL: none). */
static json_t *json_entries(const prism_teacher_requests *r, size_t first, size_t n)
{
  const prism__teacher_entry *e = n ? r->entries + first : NULL;
  json_t *list = json_array();
  for (size_t j = 0; list && j < n; j++)
    if (json_array_append_new(list, json_pack("[s, s]", e[j].title, e[j].features)) != 0) {
      json_decref(list);
      return NULL;
    }
  return list;
}

int prism__teacher_line_out(char *buf, size_t capacity, size_t *len, json_t *obj, const char *fn)
{
  char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
  size_t n;
  json_decref(obj);
  if (!text)
    return prism__error(PRISM_ERR_NO_MEMORY, "%s: out of memory writing JSON", fn);
  n = strlen(text);
  *len = n;
  if (buf && n >= capacity) {
    free(text);
    return prism__error(PRISM_ERR_BUFFER_TOO_SMALL,
                        "%s: %zu bytes needed (NUL included), "
                        "capacity %zu",
                        fn, n + 1, capacity);
  }
  if (buf)
    memcpy(buf, text, n + 1);
  free(text);
  return PRISM_OK;
}

PRISM_API int prism_teacher_requests_line(char *buf, size_t capacity, size_t *len,
                                          const prism_teacher_requests *requests, size_t index)
{
  const prism__teacher_request *q = NULL;
  json_t *o;
  int rc;
  PRISM__CHECK_ARG(len != NULL, "len must not be NULL");
  PRISM__CHECK_ARG(buf != NULL || capacity == 0, "buf may be NULL only with capacity 0");
  if ((rc = request_at(requests, index, __func__, &q)) != PRISM_OK)
    return rc;
  o = json_pack("{s:s}", "id", q->id);
  if (o && q->user)
    json_object_set_new(o, "user", json_string(q->user));
  if (o && q->item_id)
    json_object_set_new(o, "item_id", json_string(q->item_id));
  if (o &&
      (json_object_set_new(o, "prompt", json_string(q->prompt)) ||
       json_object_set_new(o, "source", json_string(q->source)) ||
       json_object_set_new(o, "item", json_pack("[s, s]", q->item.title, q->item.features)) ||
       json_object_set_new(o, "history", json_entries(requests, q->history, q->n_history)) ||
       json_object_set_new(o, "evidence", json_entries(requests, q->evidence, q->n_evidence)))) {
    json_decref(o);
    o = NULL;
  }
  return prism__teacher_line_out(buf, capacity, len, o, __func__);
}
