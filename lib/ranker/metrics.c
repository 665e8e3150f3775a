/*
 * Evaluation with Microsoft recommenders' definitions (binary relevance):
 *   precision@k = hits / k
 *   recall@k    = hits / |relevant|
 *   NDCG@k      = sum over hit ranks r (1-based) of 1/log2(r + 1), divided by
 *                 the same sum over ranks 1 .. min(|relevant|, k)
 *   MAP@k       = sum over hit ranks r of (hits within the first r) / r,
 *                 divided by min(|relevant|, k)
 * each averaged over the evaluated users; RMSE and MAE over rated pairs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/params.h"
#include "ranker_internal.h"

#define METRICS_V1_SIZE PRISM__LAYOUT_SIZE(prism_ranker_metrics, users)

/*
 * Evaluation ranks this many result entries (users x min(k, items)) per batch,
 * in whole GEMM tiles of users, so memory stays bounded whatever k is.
 */
#define EVAL_ENTRIES ((size_t)1 << 20)

static int cmp_i32(const void *a, const void *b)
{
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

/* Metrics of one list against a sorted relevant set. */
static void list_metrics(const int32_t *rec, size_t n, const int32_t *rel, size_t n_rel, size_t k,
                         prism_ranker_metrics *m)
{
  double dcg = 0.0, idcg = 0.0, ap = 0.0;
  size_t hits = 0, limit = n < k ? n : k, ideal = n_rel < k ? n_rel : k;
  for (size_t r = 0; r < limit; r++)
    if (bsearch(&rec[r], rel, n_rel, sizeof *rel, cmp_i32)) {
      hits++;
      dcg += 1.0 / log2((double)r + 2.0);
      ap += (double)hits / (double)(r + 1);
    }
  for (size_t r = 0; r < ideal; r++)
    idcg += 1.0 / log2((double)r + 2.0);
  m->precision = (double)hits / (double)k;
  m->recall = n_rel ? (double)hits / (double)n_rel : 0.0;
  m->ndcg = idcg > 0.0 ? dcg / idcg : 0.0;
  m->map = ideal ? ap / (double)ideal : 0.0;
  m->users = 1;
}

int prism_ranker_metrics_list(prism_ranker_metrics *out, const int32_t *recommended,
                              size_t recommended_count, const int32_t *relevant,
                              size_t relevant_count, int k)
{
  prism_ranker_metrics m = { .struct_size = sizeof m };
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(recommended_count == 0 || recommended,
                   "recommended must not be NULL when recommended_count is above 0");
  PRISM__CHECK_ARG(relevant_count == 0 || relevant,
                   "relevant must not be NULL when relevant_count is above 0");
  PRISM__CHECK_ARG(k > 0, "k must be at least 1");
  int32_t *rel = prism__mallocn(relevant_count ? relevant_count : 1, sizeof *rel);
  if (!rel)
    return prism__error_at(__func__, PRISM_ERR_NO_MEMORY);
  if (relevant_count)
    memcpy(rel, relevant, relevant_count * sizeof *rel);
  qsort(rel, relevant_count, sizeof *rel, cmp_i32);
  list_metrics(recommended, recommended_count, rel, relevant_count, (size_t)k, &m);
  prism__free(rel);
  return PRISM__PARAMS_WRITE(out, &m, METRICS_V1_SIZE, __func__);
}

/*
 * Relevant sets per test user, in the test set's user order: relevant item
 * ids are model item indices, or -1 - (test item index) for items the model
 * does not know (distinct, never recommended).
 */
typedef struct test_sets {
  prism__ranker_csr rel; /* test user x relevant (sorted, may hold negatives) */
  int32_t *model_user;   /* per test user: model index or -1 */
} test_sets;

static int test_sets_build(const prism_ranker *r, const prism_interactions *test, test_sets *t)
{
  int32_t nu = test->users.count;
  size_t n = test->count;
  int32_t *row = prism__mallocn(n ? n : 1, sizeof *row),
          *col = prism__mallocn(n ? n : 1, sizeof *col);
  int32_t *item_map =
      prism__mallocn(test->items.count ? (size_t)test->items.count : 1, sizeof *item_map);
  int rc = row && col && item_map ? PRISM_OK : PRISM_ERR_NO_MEMORY;
  t->model_user = prism__mallocn(nu ? (size_t)nu : 1, sizeof *t->model_user);
  if (!t->model_user)
    rc = PRISM_ERR_NO_MEMORY;
  for (int32_t i = 0; rc == PRISM_OK && i < test->items.count; i++) {
    item_map[i] = prism__ranker_lookup(r, 1, test->items.names[i]);
    if (item_map[i] < 0)
      item_map[i] = -1 - i;
  }
  for (int32_t u = 0; rc == PRISM_OK && u < nu; u++)
    t->model_user[u] = prism__ranker_lookup(r, 0, test->users.names[u]);
  /* Shift ids so negatives sort too: column c stores item + items_count. */
  int32_t shift = test->items.count;
  for (size_t e = 0; rc == PRISM_OK && e < n; e++) {
    row[e] = test->user[e];
    col[e] = item_map[test->item[e]] + shift;
  }
  if (rc == PRISM_OK)
    rc = prism__ranker_csr_from_coo(&t->rel, nu, r->num_items + shift, n, row, col, NULL,
                                    "test interaction");
  for (int64_t e = 0; rc == PRISM_OK && e < t->rel.ptr[nu]; e++)
    t->rel.index[e] -= shift;
  prism__free(row);
  prism__free(col);
  prism__free(item_map);
  return rc;
}

static void test_sets_free(test_sets *t)
{
  prism__ranker_csr_free(&t->rel);
  prism__free(t->model_user);
}

/*
 * Users ranked per batch: whole tiles (so every user is ranked in the same
 * tile as in one big batch) holding about EVAL_ENTRIES result entries.
 */
static size_t eval_batch(size_t width)
{
  size_t tiles = EVAL_ENTRIES / ((size_t)PRISM__RANKER_TILE_USERS * width);
  return (tiles ? tiles : 1) * PRISM__RANKER_TILE_USERS;
}

/* Sum the metrics of ranked rows (width entries apart) into out, in row order. */
static void add_rows(prism_ranker_metrics *out, const test_sets *t, const int32_t *rows, size_t n,
                     const int32_t *items, const size_t *counts, size_t width, int k)
{
  for (size_t i = 0; i < n; i++) {
    prism_ranker_metrics m;
    int64_t b = t->rel.ptr[rows[i]];
    list_metrics(items + i * width, counts[i], t->rel.index + b,
                 (size_t)(t->rel.ptr[rows[i] + 1] - b), (size_t)k, &m);
    out->precision += m.precision;
    out->recall += m.recall;
    out->ndcg += m.ndcg;
    out->map += m.map;
  }
}

/*
 * Recommend for the known test users batch by batch and average their
 * metrics. No list is longer than the item count, so the result buffers are
 * min(k, items) wide whatever k is; precision still divides by k.
 */
static int evaluate_sets(prism_ranker_metrics *out, size_t *skipped, const prism_ranker *r,
                         const test_sets *t, int k, const prism_ranker_filter *filter)
{
  int32_t nu = t->rel.rows;
  size_t n = 0, width = k < r->num_items ? (size_t)k : (size_t)r->num_items;
  int32_t *users = prism__mallocn(nu ? (size_t)nu : 1, sizeof *users);
  int32_t *rows = prism__mallocn(nu ? (size_t)nu : 1, sizeof *rows);
  int rc = users && rows ? PRISM_OK : PRISM_ERR_NO_MEMORY;
  for (int32_t u = 0; rc == PRISM_OK && u < nu; u++)
    if (t->model_user[u] >= 0 && t->rel.ptr[u + 1] > t->rel.ptr[u]) {
      users[n] = t->model_user[u];
      rows[n++] = u;
    }
  size_t batch = n < eval_batch(width) ? n : eval_batch(width);
  int32_t *items = prism__mallocn(batch * width + 1, sizeof *items);
  float *scores = prism__mallocn(batch * width + 1, sizeof *scores);
  size_t *counts = prism__mallocn(batch + 1, sizeof *counts);
  if (rc == PRISM_OK && !(items && scores && counts))
    rc = PRISM_ERR_NO_MEMORY;
  memset(out, 0, sizeof *out);
  out->struct_size = sizeof *out;
  for (size_t b = 0; rc == PRISM_OK && b < n; b += batch) {
    size_t m = n - b < batch ? n - b : batch;
    rc = prism__ranker_rank_users(items, scores, counts, r, users + b, m, (int)width, filter);
    if (rc == PRISM_OK)
      add_rows(out, t, rows + b, m, items, counts, width, k);
  }
  if (rc == PRISM_OK && n) {
    out->precision /= (double)n;
    out->recall /= (double)n;
    out->ndcg /= (double)n;
    out->map /= (double)n;
  }
  out->users = n;
  *skipped = (size_t)nu - n;
  prism__free(users);
  prism__free(rows);
  prism__free(items);
  prism__free(scores);
  prism__free(counts);
  return rc;
}

static int evaluate(prism_ranker_metrics *out, size_t *skipped, const prism_ranker *r,
                    const prism_interactions *test, int k, const prism_ranker_filter *filter)
{
  test_sets t = { { 0 }, NULL };
  int rc = prism__ranker_filter_check(r, filter);
  if (rc == PRISM_OK)
    rc = test_sets_build(r, test, &t);
  if (rc == PRISM_OK)
    rc = evaluate_sets(out, skipped, r, &t, k, filter);
  test_sets_free(&t);
  return rc;
}

int prism_ranker_evaluate(prism_ranker_metrics *out, size_t *skipped_users,
                          const prism_ranker *ranker, const prism_interactions *test, int k,
                          const prism_ranker_filter *filter)
{
  prism_ranker_filter f;
  prism_ranker_metrics m;
  size_t skipped = 0;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(ranker != NULL, "ranker must not be NULL");
  PRISM__CHECK_ARG(test != NULL, "test must not be NULL");
  PRISM__CHECK_ARG(k > 0, "k must be at least 1");
  int rc = prism__ranker_filter_read(&f, filter, __func__);
  if (rc != PRISM_OK)
    return rc;
  rc = prism__error_at(__func__, evaluate(&m, &skipped, ranker, test, k, &f));
  if (rc == PRISM_OK)
    rc = PRISM__PARAMS_WRITE(out, &m, METRICS_V1_SIZE, __func__);
  if (rc == PRISM_OK && skipped_users)
    *skipped_users = skipped;
  return rc;
}

int prism_ranker_evaluate_ratings(double *rmse, double *mae, size_t *pairs,
                                  const prism_ranker *ranker, const prism_interactions *test)
{
  PRISM__CHECK_ARG(rmse && mae, "rmse and mae must not be NULL");
  PRISM__CHECK_ARG(ranker != NULL, "ranker must not be NULL");
  PRISM__CHECK_ARG(test != NULL, "test must not be NULL");
  double se = 0.0, ae = 0.0;
  size_t n = 0;
  for (size_t e = 0; e < test->count; e++) {
    int32_t u = prism__ranker_lookup(ranker, 0, test->users.names[test->user[e]]);
    int32_t i = prism__ranker_lookup(ranker, 1, test->items.names[test->item[e]]);
    if (u < 0 || i < 0)
      continue;
    double d = (double)prism__ranker_predict(ranker, u, i) - test->value[e];
    se += d * d;
    ae += fabs(d);
    n++;
  }
  *rmse = n ? sqrt(se / (double)n) : 0.0;
  *mae = n ? ae / (double)n : 0.0;
  if (pairs)
    *pairs = n;
  return PRISM_OK;
}
