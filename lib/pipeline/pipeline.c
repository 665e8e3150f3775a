/*
 * The pipeline: users -> recommendations -> evidence -> prompts -> one
 * batched explanation. A composition layer: it reaches the ranker, the prompt
 * renderer and the explainer only through their public headers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/params.h"
#include "pipeline_internal.h"

#define PARAMS_V1_SIZE PRISM__LAYOUT_SIZE(prism_pipeline_params, generate)
#define FORMAT_V1_SIZE PRISM__LAYOUT_SIZE(prism_prompt_format, max_value_bytes)

static const prism_pipeline_params params_defaults = { sizeof params_defaults, 3, 3, NULL, NULL };

enum { FORMAT_STRINGS = 5 };

struct prism_pipeline {
  const prism_ranker *ranker;
  const prism_catalog *catalog;
  const prism_interactions *histories; /* may be NULL */
  prism_explainer *explainer;          /* may be NULL */
  prism_prompt_format format;          /* its strings point into `text` */
  char *text[FORMAT_STRINGS];
  /* per ranker item and per histories item: catalog index and missing-id index, or -1 */
  int32_t *ranker_entry, *ranker_missing;
  int32_t *history_entry, *history_missing;
  prism__idmap missing;  /* the distinct item ids the catalog lacks */
  int32_t history_users; /* users of the histories when the pipeline was made */
  size_t *history_start; /* [history_users + 1] into history_order */
  size_t *history_order; /* interaction positions, each user's oldest first */
};

PRISM_API int prism_pipeline_params_init(prism_pipeline_params *params, size_t struct_size)
{
  return PRISM__PARAMS_INIT(params, struct_size, &params_defaults, PARAMS_V1_SIZE,
                            "prism_pipeline_params_init");
}

PRISM_API void prism_pipeline_free(prism_pipeline *p)
{
  if (!p)
    return;
  for (int i = 0; i < FORMAT_STRINGS; i++)
    prism__free(p->text[i]);
  prism__free(p->ranker_entry);
  prism__free(p->ranker_missing);
  prism__free(p->history_entry);
  prism__free(p->history_missing);
  prism__idmap_free(&p->missing);
  prism__free(p->history_start);
  prism__free(p->history_order);
  prism__free(p);
}

/* A ranker item's id: its string id, or the decimal index for a ranker without an id map. */
static const char *ranker_item_id(const prism_ranker *r, int32_t item, char buf[16])
{
  const char *id = prism_ranker_item_id(r, item);
  if (id)
    return id;
  snprintf(buf, 16, "%d", (int)item);
  return buf;
}

/* The copy of the caller's format (any released struct_size), with owned strings. */
static int copy_format(prism_pipeline *p, const prism_prompt_format *format)
{
  prism_prompt_format defaults;
  const char **field[FORMAT_STRINGS];
  int rc = prism_prompt_format_init(&defaults, sizeof defaults);
  if (rc == PRISM_OK)
    rc = PRISM__PARAMS_READ(&p->format, format, &defaults, FORMAT_V1_SIZE, "prism_pipeline_create");
  if (rc != PRISM_OK)
    return rc;
  field[0] = &p->format.template_text;
  field[1] = &p->format.entry_template;
  field[2] = &p->format.separator;
  field[3] = &p->format.empty_list;
  field[4] = &p->format.empty_value;
  for (int i = 0; i < FORMAT_STRINGS; i++) {
    if (!*field[i])
      return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                          "every string of the format must be set (prism_prompt_format_init "
                          "sets them)");
    if (!(p->text[i] = prism__strdup(*field[i])))
      return PRISM_ERR_NO_MEMORY;
    *field[i] = p->text[i];
  }
  return PRISM_OK;
}

/* For each of n item ids: its catalog index, or -1 and the index of the id among the missing. */
static int map_items(prism_pipeline *p, int32_t n,
                     const char *(*id_of)(const void *, int32_t, char[16]), const void *owner,
                     int32_t **entry, int32_t **missing)
{
  char buf[16];
  *entry = prism__mallocn(n ? (size_t)n : 1, sizeof **entry);
  *missing = prism__mallocn(n ? (size_t)n : 1, sizeof **missing);
  if (!*entry || !*missing)
    return PRISM_ERR_NO_MEMORY;
  for (int32_t i = 0; i < n; i++) {
    const char *id = id_of(owner, i, buf);
    int rc;
    (*missing)[i] = -1;
    (*entry)[i] = prism__pipeline_catalog_find(p->catalog, id);
    if ((*entry)[i] < 0 && (rc = prism__idmap_intern(&p->missing, id, &(*missing)[i])) != PRISM_OK)
      return rc;
  }
  return PRISM_OK;
}

static const char *ranker_id_of(const void *ranker, int32_t item, char buf[16])
{
  return ranker_item_id(ranker, item, buf);
}

static const char *history_id_of(const void *data, int32_t item, char buf[16])
{
  (void)buf;
  return prism_interactions_item_id(data, item);
}

typedef struct timed {
  double time;
  size_t pos;
} timed;

static int by_time(const void *a, const void *b)
{
  const timed *x = a, *y = b;
  if (x->time != y->time)
    return x->time < y->time ? -1 : 1;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Sort one user's positions by timestamp when every one of them has a timestamp. */
static int order_user(const prism_interactions *h, size_t *pos, size_t n, timed *scratch)
{
  for (size_t i = 0; i < n; i++) {
    scratch[i].pos = pos[i];
    scratch[i].time = prism_interactions_timestamp(h, pos[i]);
    if (isnan(scratch[i].time))
      return PRISM_OK; /* a user without timestamps keeps insertion order */
  }
  qsort(scratch, n, sizeof *scratch, by_time);
  for (size_t i = 0; i < n; i++)
    pos[i] = scratch[i].pos;
  return PRISM_OK;
}

/* Each user's interaction positions, oldest first. */
static int order_histories(prism_pipeline *p)
{
  const prism_interactions *h = p->histories;
  size_t count = prism_interactions_count(h), users = (size_t)prism_interactions_num_users(h);
  p->history_users = (int32_t)users;
  size_t *fill = prism__calloc(users + 1, sizeof *fill);
  timed *scratch = NULL;
  int rc = PRISM_OK;

  p->history_start = prism__calloc(users + 1, sizeof *p->history_start);
  p->history_order = prism__mallocn(count ? count : 1, sizeof *p->history_order);
  if (!fill || !p->history_start || !p->history_order)
    rc = PRISM_ERR_NO_MEMORY;
  for (size_t i = 0; rc == PRISM_OK && i < count; i++) {
    int32_t u;
    if ((rc = prism_interactions_get(&u, NULL, NULL, h, i)) == PRISM_OK)
      p->history_start[u + 1]++;
  }
  for (size_t u = 0; rc == PRISM_OK && u < users; u++) {
    p->history_start[u + 1] += p->history_start[u];
    fill[u] = p->history_start[u];
  }
  for (size_t i = 0; rc == PRISM_OK && i < count; i++) {
    int32_t u;
    if ((rc = prism_interactions_get(&u, NULL, NULL, h, i)) == PRISM_OK)
      p->history_order[fill[u]++] = i;
  }
  if (rc == PRISM_OK) {
    if (!(scratch = prism__mallocn(count ? count : 1, sizeof *scratch)))
      rc = PRISM_ERR_NO_MEMORY;
    for (size_t u = 0; rc == PRISM_OK && u < users; u++)
      rc = order_user(h, p->history_order + p->history_start[u],
                      p->history_start[u + 1] - p->history_start[u], scratch);
  }
  prism__free(scratch);
  prism__free(fill);
  return rc;
}

/* Encode `text`: a failure or an <unk> means the model cannot read it. */
static int encode_check(const prism_tokenizer *tok, const char *text, int32_t **ids, size_t *cap)
{
  int32_t unk = prism_tokenizer_special_id(tok, PRISM_TOKENIZER_UNK);
  size_t len = 0;
  int rc =
      prism_tokenizer_encode(*ids, *cap, &len, tok, text, strlen(text), PRISM_TOKENIZER_NO_SPECIAL);
  if (rc == PRISM_ERR_BUFFER_TOO_SMALL) {
    int32_t *grown = prism__realloc(*ids, len * sizeof *grown);
    if (!grown)
      return PRISM_ERR_NO_MEMORY;
    *ids = grown;
    *cap = len;
    rc = prism_tokenizer_encode(*ids, *cap, &len, tok, text, strlen(text),
                                PRISM_TOKENIZER_NO_SPECIAL);
  }
  for (size_t i = 0; rc == PRISM_OK && unk >= 0 && i < len; i++)
    if ((*ids)[i] == unk)
      rc =
          prism__error(PRISM_ERR_NOT_FOUND, "it has characters the vocabulary only reads as <unk>");
  return rc;
}

/*
 * The format must render (an unknown placeholder is refused here), and with a tokenizer every
 * catalog text and the format's own text must encode in its vocabulary: a model folder that
 * cannot read the prompts is refused before any run.
 */
static int check_prompts(const prism_pipeline *p, const prism_tokenizer *tok)
{
  const prism_catalog *c = p->catalog;
  static const prism_prompt_item probe_item = { "x", "x" };
  prism_prompt_item probe = probe_item;
  size_t cap = 256, len;
  int32_t *ids = prism__mallocn(cap, sizeof *ids);
  char *prompt = NULL;
  int rc = ids ? PRISM_OK : PRISM_ERR_NO_MEMORY;

  for (int32_t i = 0; rc == PRISM_OK && tok && i < c->ids.count; i++) {
    const char *what = "title";
    if ((rc = encode_check(tok, c->title[i], &ids, &cap)) == PRISM_OK) {
      what = "features";
      rc = encode_check(tok, c->features[i], &ids, &cap);
    }
    if (rc != PRISM_OK)
      prism__error_prefix("the model's vocabulary cannot encode the %s of catalog item \"%s\": ",
                          what, prism__idmap_name(&c->ids, i));
  }
  if (rc == PRISM_OK)
    rc = prism_prompt_render(NULL, 0, &len, &p->format, &probe, 1, &probe, &probe, 1);
  if (rc == PRISM_OK && !(prompt = prism__malloc(len + 1)))
    rc = PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK)
    rc = prism_prompt_render(prompt, len + 1, &len, &p->format, &probe, 1, &probe, &probe, 1);
  if (rc == PRISM_OK && tok && (rc = encode_check(tok, prompt, &ids, &cap)) != PRISM_OK)
    prism__error_prefix("the model's vocabulary cannot encode the prompt format's text: ");
  prism__free(prompt);
  prism__free(ids);
  return rc;
}

static int create(prism_pipeline *p, const prism_prompt_format *format)
{
  int rc = copy_format(p, format);
  if (rc == PRISM_OK)
    rc = map_items(p, prism_ranker_num_items(p->ranker), ranker_id_of, p->ranker, &p->ranker_entry,
                   &p->ranker_missing);
  if (rc == PRISM_OK && p->histories)
    rc = map_items(p, prism_interactions_num_items(p->histories), history_id_of, p->histories,
                   &p->history_entry, &p->history_missing);
  if (rc == PRISM_OK && p->histories)
    rc = order_histories(p);
  if (rc == PRISM_OK)
    rc = check_prompts(p, p->explainer ? prism_explainer_tokenizer(p->explainer) : NULL);
  return rc;
}

PRISM_API int prism_pipeline_create(prism_pipeline **out, const prism_ranker *ranker,
                                    const prism_catalog *catalog,
                                    const prism_interactions *histories, prism_explainer *explainer,
                                    const prism_prompt_format *format)
{
  prism_pipeline *p;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  PRISM__CHECK_ARG(ranker != NULL, "ranker must not be NULL");
  PRISM__CHECK_ARG(catalog != NULL, "catalog must not be NULL");
  if (!(p = prism__calloc(1, sizeof *p)))
    return prism__error_at(__func__, PRISM_ERR_NO_MEMORY);
  p->ranker = ranker;
  p->catalog = catalog;
  p->histories = histories;
  p->explainer = explainer;
  if ((rc = create(p, format)) != PRISM_OK) {
    prism_pipeline_free(p);
    return prism__error_at(__func__, rc);
  }
  *out = p;
  return PRISM_OK;
}

/* ---- a run ---- */

typedef struct run {
  prism_pipeline *p;
  prism_pipeline_result *r;
  const prism_pipeline_params *params;
  uint32_t *seen, stamp;    /* per missing id: the user (stamp) that listed it */
  prism_prompt_item *shown; /* the present entries of a list, for the prompt */
  size_t shown_cap;
  const char **prompts; /* [n_prompts] in the result's arena */
  size_t *prompt_item;  /* the result item each prompt belongs to */
  size_t n_prompts, prompts_cap;
  int32_t *evidence; /* prism_ranker_explain's outputs */
  float *weight;
  size_t evidence_cap;
} run;

/* List a missing id for the current user once. */
static int note_missing(run *x, prism__pipeline_user *u, int32_t missing)
{
  int rc;
  if (missing < 0 || x->seen[missing] == x->stamp)
    return PRISM_OK;
  x->seen[missing] = x->stamp;
  if ((rc = prism__pipeline_result_add_missing(x->r, prism__idmap_name(&x->p->missing, missing))) !=
      PRISM_OK)
    return rc;
  u->missing_count++;
  return PRISM_OK;
}

/* A history or evidence entry in the result; *shown receives what the prompt shows of it. */
static int add_entry(run *x, prism__pipeline_user *u, const char *id, int32_t entry,
                     int32_t missing, float weight, int *shown)
{
  const prism_catalog *c = x->p->catalog;
  prism__pipeline_entry *e;
  size_t at;
  int rc = prism__pipeline_result_add_entry(x->r, &at);
  if (rc != PRISM_OK)
    return rc;
  e = &x->r->entries[at];
  e->weight = weight;
  if (!(e->item = prism__pipeline_result_strdup(x->r, id)))
    return PRISM_ERR_NO_MEMORY;
  *shown = entry >= 0;
  if (entry < 0)
    return note_missing(x, u, missing);
  e->title = prism__pipeline_result_strdup(x->r, c->title[entry]);
  e->features = prism__pipeline_result_strdup(x->r, c->features[entry]);
  return e->title && e->features ? PRISM_OK : PRISM_ERR_NO_MEMORY;
}

static int show(run *x, size_t n, const prism__pipeline_entry *e)
{
  if (n == x->shown_cap) {
    size_t cap = x->shown_cap ? 2 * x->shown_cap : 64;
    prism_prompt_item *grown = prism__realloc(x->shown, cap * sizeof *grown);
    if (!grown)
      return PRISM_ERR_NO_MEMORY;
    x->shown = grown;
    x->shown_cap = cap;
  }
  x->shown[n].title = e->title;
  x->shown[n].features = e->features;
  return PRISM_OK;
}

/* The user's history entries, oldest first; the present ones become x->shown[0 .. *n). */
static int add_history(run *x, prism__pipeline_user *u, size_t *n)
{
  const prism_pipeline *p = x->p;
  int32_t hu;
  *n = 0;
  u->history = x->r->n_entries;
  /* A user added to the histories after the pipeline was made has none in it. */
  if (!p->histories || prism_interactions_find_user(&hu, p->histories, u->user) != PRISM_OK ||
      hu >= p->history_users)
    return PRISM_OK; /* no history: the prompt says so */
  for (size_t k = p->history_start[hu]; k < p->history_start[hu + 1]; k++) {
    int32_t item;
    float value;
    int shown, rc = prism_interactions_get(NULL, &item, &value, p->histories, p->history_order[k]);
    if (rc == PRISM_OK)
      rc = add_entry(x, u, prism_interactions_item_id(p->histories, item), p->history_entry[item],
                     p->history_missing[item], value, &shown);
    if (rc == PRISM_OK && shown)
      rc = show(x, (*n)++, &x->r->entries[x->r->n_entries - 1]);
    if (rc != PRISM_OK)
      return rc;
    u->history_count++;
  }
  return PRISM_OK;
}

static int add_prompt(run *x, const char *prompt, size_t item)
{
  if (x->n_prompts == x->prompts_cap) {
    size_t cap = x->prompts_cap ? 2 * x->prompts_cap : 64;
    const char **pp = prism__realloc(x->prompts, cap * sizeof *pp);
    size_t *pi;
    if (!pp)
      return PRISM_ERR_NO_MEMORY;
    x->prompts = pp;
    if (!(pi = prism__realloc(x->prompt_item, cap * sizeof *pi)))
      return PRISM_ERR_NO_MEMORY;
    x->prompt_item = pi;
    x->prompts_cap = cap;
  }
  x->prompts[x->n_prompts] = prompt;
  x->prompt_item[x->n_prompts++] = item;
  return PRISM_OK;
}

/* Render the prompt of result item `at` from the shown history [0, n_history) and evidence. */
static int render(run *x, size_t at, size_t n_history, size_t n_shown)
{
  prism__pipeline_item *it = &x->r->items[at];
  prism_prompt_item item = { it->title, it->features };
  const prism_prompt_format *f = &x->p->format;
  /* Empty lists go as NULL: x->shown is NULL until something was shown. */
  const prism_prompt_item *history = n_history ? x->shown : NULL;
  const prism_prompt_item *evidence = n_shown > n_history ? x->shown + n_history : NULL;
  size_t len;
  char *text;
  int rc = prism_prompt_render(NULL, 0, &len, f, history, n_history, &item, evidence,
                               n_shown - n_history);
  if (rc != PRISM_OK)
    return rc;
  if (!(text = prism__pipeline_result_alloc(x->r, len + 1)))
    return PRISM_ERR_NO_MEMORY;
  rc = prism_prompt_render(text, len + 1, &len, f, history, n_history, &item, evidence,
                           n_shown - n_history);
  it->prompt = text;
  return rc == PRISM_OK ? add_prompt(x, text, at) : rc;
}

/* One recommendation: the item, its evidence and, when the catalog has the item, its prompt. */
static int add_item(run *x, prism__pipeline_user *u, int32_t user, int32_t item, float score,
                    size_t n_history)
{
  const prism_pipeline *p = x->p;
  char buf[16];
  size_t at, n_ev = 0, n_shown = n_history;
  int shown, rc = prism__pipeline_result_add_item(x->r, &at);
  prism__pipeline_item *it;
  if (rc != PRISM_OK)
    return rc;
  it = &x->r->items[at];
  it->score = score;
  if (!(it->item = prism__pipeline_result_strdup(x->r, ranker_item_id(p->ranker, item, buf))))
    return PRISM_ERR_NO_MEMORY;
  if (p->ranker_entry[item] >= 0) {
    it->title = prism__pipeline_result_strdup(x->r, p->catalog->title[p->ranker_entry[item]]);
    it->features = prism__pipeline_result_strdup(x->r, p->catalog->features[p->ranker_entry[item]]);
    if (!it->title || !it->features)
      return PRISM_ERR_NO_MEMORY;
  } else if ((rc = note_missing(x, u, p->ranker_missing[item])) != PRISM_OK) {
    return rc;
  }
  if (x->params->evidence > 0)
    rc = prism_ranker_explain(x->evidence, x->weight, &n_ev, p->ranker, user, item,
                              x->params->evidence);
  it = &x->r->items[at];
  it->evidence = x->r->n_entries;
  for (size_t j = 0; rc == PRISM_OK && j < n_ev; j++) {
    int32_t e = x->evidence[j];
    rc = add_entry(x, u, ranker_item_id(p->ranker, e, buf), p->ranker_entry[e],
                   p->ranker_missing[e], x->weight[j], &shown);
    if (rc == PRISM_OK && shown)
      rc = show(x, n_shown++, &x->r->entries[x->r->n_entries - 1]);
  }
  if (rc != PRISM_OK)
    return rc;
  x->r->items[at].evidence_count = n_ev;
  return x->r->items[at].title ? render(x, at, n_history, n_shown) : PRISM_OK;
}

static int add_user(run *x, prism__pipeline_user *u, int32_t user, const int32_t *items,
                    const float *scores, size_t count)
{
  size_t n_history;
  int rc;
  x->stamp++;
  u->missing = x->r->n_missing;
  if ((rc = add_history(x, u, &n_history)) != PRISM_OK)
    return rc;
  u->items = x->r->n_items;
  for (size_t j = 0; j < count; j++) {
    if ((rc = add_item(x, u, user, items[j], scores[j], n_history)) != PRISM_OK)
      return rc;
    u->item_count++;
  }
  return PRISM_OK;
}

/* Every prompt of the call in one prism_explainer_run; the first text of each is kept. */
static int explain(run *x)
{
  prism_text_batch *texts = NULL;
  size_t per;
  int rc;
  if (!x->p->explainer || x->n_prompts == 0)
    return PRISM_OK;
  rc = prism_explainer_run(&texts, x->p->explainer, x->prompts, x->n_prompts, x->params->generate,
                           NULL, NULL);
  per = rc == PRISM_OK ? prism_text_batch_count(texts) / x->n_prompts : 0;
  for (size_t i = 0; rc == PRISM_OK && i < x->n_prompts; i++) {
    size_t len;
    const char *text = prism_text_batch_get(texts, i * per, &len);
    char *copy = text ? prism__pipeline_result_strndup(x->r, text, len) : NULL;
    if (!copy)
      rc = text ? PRISM_ERR_NO_MEMORY : PRISM_ERR_INTERNAL;
    else
      x->r->items[x->prompt_item[i]].explanation = copy;
  }
  prism_text_batch_free(texts);
  return rc;
}

/* The users the ranker knows get their index in known[]; the others their status. */
static int find_users(run *x, const char *const *users, size_t n, int32_t *index, size_t *known,
                      size_t *n_known)
{
  *n_known = 0;
  for (size_t i = 0; i < n; i++) {
    prism__pipeline_user *u = &x->r->users[i];
    char msg[160];
    if (!(u->user = prism__pipeline_result_strdup(x->r, users[i])))
      return PRISM_ERR_NO_MEMORY;
    if (prism_ranker_find_user(&index[*n_known], x->p->ranker, users[i]) == PRISM_OK) {
      known[(*n_known)++] = i;
      continue;
    }
    snprintf(msg, sizeof msg, "unknown user \"%.100s\": the ranker has no such user", users[i]);
    u->status = PRISM_ERR_NOT_FOUND;
    if (!(u->error = prism__pipeline_result_strdup(x->r, msg)))
      return PRISM_ERR_NO_MEMORY;
  }
  return PRISM_OK;
}

static int run_users(run *x, const char *const *users, size_t n)
{
  int32_t num_items = prism_ranker_num_items(x->p->ranker);
  int32_t k = x->params->k < num_items ? x->params->k : num_items;
  size_t n_known = 0, *known = prism__mallocn(n, sizeof *known), *counts = NULL;
  int32_t *index = prism__mallocn(n, sizeof *index), *items = NULL;
  float *scores = NULL;
  int rc = known && index ? PRISM_OK : PRISM_ERR_NO_MEMORY;

  if (rc == PRISM_OK)
    rc = find_users(x, users, n, index, known, &n_known);
  if (rc == PRISM_OK && n_known && k > 0) {
    items = prism__mallocn(n_known * (size_t)k, sizeof *items);
    scores = prism__mallocn(n_known * (size_t)k, sizeof *scores);
    counts = prism__mallocn(n_known, sizeof *counts);
    rc = items && scores && counts ? PRISM_OK : PRISM_ERR_NO_MEMORY;
    if (rc == PRISM_OK)
      rc = prism_ranker_recommend_batch(items, scores, counts, x->p->ranker, index, n_known, k,
                                        x->params->filter);
  }
  for (size_t i = 0; rc == PRISM_OK && i < n_known; i++)
    rc = add_user(x, &x->r->users[known[i]], index[i], items + i * (size_t)k,
                  scores + i * (size_t)k, k > 0 ? counts[i] : 0);
  if (rc == PRISM_OK)
    rc = explain(x);
  prism__free(known);
  prism__free(index);
  prism__free(items);
  prism__free(scores);
  prism__free(counts);
  return rc;
}

static int run_call(prism_pipeline *p, prism_pipeline_result **out, const char *const *users,
                    size_t n, const prism_pipeline_params *params)
{
  run x;
  int32_t num_items = prism_ranker_num_items(p->ranker);
  int rc;
  memset(&x, 0, sizeof x);
  x.p = p;
  x.params = params;
  x.evidence_cap = (size_t)(params->evidence < num_items ? params->evidence : num_items);
  x.seen = prism__calloc((size_t)p->missing.count + 1, sizeof *x.seen);
  x.evidence = prism__mallocn(x.evidence_cap + 1, sizeof *x.evidence);
  x.weight = prism__mallocn(x.evidence_cap + 1, sizeof *x.weight);
  rc = x.seen && x.evidence && x.weight ? prism__pipeline_result_new(&x.r, n) : PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK)
    rc = run_users(&x, users, n);
  prism__free(x.seen);
  prism__free(x.shown);
  prism__free(x.prompts);
  prism__free(x.prompt_item);
  prism__free(x.evidence);
  prism__free(x.weight);
  if (rc != PRISM_OK) {
    prism_pipeline_result_free(x.r);
    return rc;
  }
  *out = x.r;
  return PRISM_OK;
}

PRISM_API int prism_pipeline_run(prism_pipeline_result **out, prism_pipeline *pipeline,
                                 const char *const *users, size_t n_users,
                                 const prism_pipeline_params *params)
{
  prism_pipeline_params p;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  PRISM__CHECK_ARG(pipeline != NULL, "pipeline must not be NULL");
  PRISM__CHECK_ARG(users != NULL || n_users == 0, "users must not be NULL");
  for (size_t i = 0; i < n_users; i++)
    if (!users[i])
      return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: users[%zu] is NULL", __func__, i);
  if ((rc = PRISM__PARAMS_READ(&p, params, &params_defaults, PARAMS_V1_SIZE, __func__)) != PRISM_OK)
    return rc;
  if (p.k < 1)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: k must be at least 1, not %d", __func__,
                        (int)p.k);
  if (p.evidence < 0)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: evidence must not be negative, not %d",
                        __func__, (int)p.evidence);
  return prism__error_at(__func__, run_call(pipeline, out, users, n_users, &p));
}
