/*
 * Top-k recommendation. All paths go through rank_rows: user vectors are
 * scored against the eligible items tile by tile with one GEMM per tile
 * (bounded scratch, whatever the item count), and each user keeps a k-sized
 * heap, so a single user, a batch and a folded-in history share one code path.
 */
#include <stdatomic.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/params.h"
#include "common/pool.h"
#include "linalg/linalg.h"
#include "ranker_internal.h"

#define TILE_USERS PRISM__RANKER_TILE_USERS
#define TILE_ITEMS 4096

#define FILTER_V1_SIZE PRISM__LAYOUT_SIZE(prism_ranker_filter, candidate_count)

static const prism_ranker_filter filter_defaults = {
  .struct_size = sizeof(prism_ranker_filter),
  .exclude_seen = 1,
};

int prism_ranker_filter_init(prism_ranker_filter *filter, size_t struct_size)
{
  return PRISM__PARAMS_INIT(filter, struct_size, &filter_defaults, FILTER_V1_SIZE, __func__);
}

int prism__ranker_filter_read(prism_ranker_filter *out, const prism_ranker_filter *in,
                              const char *fn)
{
  return PRISM__PARAMS_READ(out, in, &filter_defaults, FILTER_V1_SIZE, fn);
}

static int check_items(const prism_ranker *r, const int32_t *items, size_t n, const char *what)
{
  if (n && !items)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "the filter's %s list is NULL but its count is %zu", what, n);
  for (size_t i = 0; i < n; i++)
    if (items[i] < 0 || items[i] >= r->num_items)
      return prism__error(PRISM_ERR_OUT_OF_RANGE,
                          "the filter's %s list holds item %d (entry %zu), which is out of range "
                          "(the model has %d items)",
                          what, items[i], i, r->num_items);
  return PRISM_OK;
}

int prism__ranker_filter_check(const prism_ranker *r, const prism_ranker_filter *f)
{
  int rc = check_items(r, f->exclude, f->exclude_count, "exclude");
  return rc == PRISM_OK ? check_items(r, f->candidates, f->candidate_count, "candidates") : rc;
}

/* Rows to rank: either users of the model or explicit vectors with their own seen lists. */
typedef struct rank_rows {
  size_t n;
  const int32_t *users;          /* model users, or NULL */
  const float *factors;          /* explicit [n x F] when users is NULL */
  const float *bias;             /* explicit user biases (may be NULL) */
  const prism__ranker_csr *seen; /* row i's seen items: users[i]'s row, or row i */
} rank_rows;

/* The eligible item set: all items minus a mask, or a sorted pool with packed factors. */
typedef struct item_set {
  unsigned char *excluded; /* per item, when pool is NULL */
  int32_t *pool;           /* sorted eligible items, or NULL for all items */
  float *packed;           /* pool's factors [pool_count x F] */
  size_t count;            /* items scanned */
} item_set;

typedef struct rank_job {
  const prism_ranker *r;
  const rank_rows *rows;
  const item_set *set;
  int exclude_seen;
  size_t k;
  int32_t *items;
  float *scores;
  size_t *counts;
  atomic_int failed;
} rank_job;

static int32_t item_at(const item_set *s, size_t j)
{
  return s->pool ? s->pool[j] : (int32_t)j;
}

/* Push tile scores of one row into its heap, skipping masked and seen items. */
static void select_row(const rank_job *job, size_t row, const float *tile, size_t j0, size_t nj,
                       int64_t *seen_pos, int64_t seen_end, const int32_t *seen_index)
{
  const item_set *s = job->set;
  prism__ranker_topk h = { job->items + row * job->k, job->scores + row * job->k, job->counts[row],
                           job->k };
  for (size_t j = 0; j < nj; j++) {
    /* Most scores lose to the heap's worst: reject them before any other work. */
    if (h.size == h.k && tile[j] < h.scores[0])
      continue;
    int32_t item = item_at(s, j0 + j);
    if (!s->pool && s->excluded && s->excluded[item])
      continue;
    if (job->exclude_seen) {
      while (*seen_pos < seen_end && seen_index[*seen_pos] < item)
        (*seen_pos)++;
      if (*seen_pos < seen_end && seen_index[*seen_pos] == item)
        continue;
    }
    prism__ranker_topk_push(&h, item, tile[j]);
  }
  job->counts[row] = h.size;
}

static void row_vector(const rank_job *job, size_t i, float *dst, float *bias)
{
  const prism_ranker *r = job->r;
  const rank_rows *rows = job->rows;
  size_t F = (size_t)r->hp.factors;
  if (rows->users) {
    int32_t u = rows->users[i];
    memcpy(dst, r->user_factors + (size_t)u * F, F * sizeof *dst);
    *bias = r->user_bias ? r->user_bias[u] : 0.0f;
  } else {
    memcpy(dst, rows->factors + i * F, F * sizeof *dst);
    *bias = rows->bias ? rows->bias[i] : 0.0f;
  }
}

static void rank_tile(const rank_job *job, size_t u0, size_t nu, float *A, float *ub, float *C)
{
  const prism_ranker *r = job->r;
  const item_set *s = job->set;
  size_t F = (size_t)r->hp.factors;
  int64_t pos[TILE_USERS], end[TILE_USERS];
  for (size_t i = 0; i < nu; i++) {
    row_vector(job, u0 + i, A + i * F, &ub[i]);
    int32_t srow = job->rows->users ? job->rows->users[u0 + i] : (int32_t)(u0 + i);
    pos[i] = job->rows->seen->ptr[srow];
    end[i] = job->rows->seen->ptr[srow + 1];
    job->counts[u0 + i] = 0;
  }
  for (size_t j0 = 0; j0 < s->count; j0 += TILE_ITEMS) {
    size_t nj = s->count - j0 < TILE_ITEMS ? s->count - j0 : TILE_ITEMS;
    const float *B = s->pool ? s->packed + j0 * F : r->item_factors + j0 * F;
    prism__linalg_sgemm_nt(nu, nj, F, 1.0f, A, F, B, F, 0.0f, C, nj);
    for (size_t i = 0; i < nu; i++) {
      float *c = C + i * nj;
      for (size_t j = 0; j < nj; j++) {
        int32_t item = item_at(s, j0 + j);
        c[j] += ub[i] + r->global_bias + (r->item_bias ? r->item_bias[item] : 0.0f);
      }
      select_row(job, u0 + i, c, j0, nj, &pos[i], end[i], job->rows->seen->index);
    }
  }
}

static void rank_range(void *ctx, size_t begin, size_t end)
{
  rank_job *job = ctx;
  size_t F = (size_t)job->r->hp.factors;
  float *A = prism__mallocn(TILE_USERS * F, sizeof *A);
  float *ub = prism__mallocn(TILE_USERS, sizeof *ub);
  float *C = prism__mallocn((size_t)TILE_USERS * TILE_ITEMS, sizeof *C);
  if (!A || !ub || !C) {
    atomic_store(&job->failed, 1);
  } else {
    for (size_t t = begin; t < end; t++) {
      size_t u0 = t * TILE_USERS, n = job->rows->n;
      rank_tile(job, u0, n - u0 < TILE_USERS ? n - u0 : TILE_USERS, A, ub, C);
    }
  }
  prism__free(A);
  prism__free(ub);
  prism__free(C);
}

/* Build the eligible set from a resolved filter. */
static int item_set_build(const prism_ranker *r, const prism_ranker_filter *f, item_set *s)
{
  size_t F = (size_t)r->hp.factors;
  memset(s, 0, sizeof *s);
  s->excluded = prism__calloc((size_t)r->num_items, 1);
  if (!s->excluded)
    return PRISM_ERR_NO_MEMORY;
  for (size_t i = 0; i < f->exclude_count; i++)
    s->excluded[f->exclude[i]] = 1;
  if (!f->candidates) {
    s->count = (size_t)r->num_items;
    return PRISM_OK;
  }
  /* Mark candidates (2) over exclusions (1), then collect them in index order. */
  size_t n = 0;
  for (size_t i = 0; i < f->candidate_count; i++)
    if (!s->excluded[f->candidates[i]]) {
      s->excluded[f->candidates[i]] = 2;
      n++;
    }
  s->pool = prism__mallocn(n ? n : 1, sizeof *s->pool);
  s->packed = prism__mallocn(n ? n * F : 1, sizeof *s->packed);
  if (!s->pool || !s->packed)
    return PRISM_ERR_NO_MEMORY;
  for (int32_t i = 0; i < r->num_items; i++)
    if (s->excluded[i] == 2) {
      memcpy(s->packed + s->count * F, r->item_factors + (size_t)i * F, F * sizeof(float));
      s->pool[s->count++] = i;
    }
  return PRISM_OK;
}

static void item_set_free(item_set *s)
{
  prism__free(s->excluded);
  prism__free(s->pool);
  prism__free(s->packed);
}

/* Rank the rows with a read and checked filter. */
static int rank_rows_run(int32_t *items, float *scores, size_t *counts, const prism_ranker *r,
                         const rank_rows *rows, int k, const prism_ranker_filter *f)
{
  item_set set;
  int rc = item_set_build(r, f, &set);
  if (rc == PRISM_OK) {
    rank_job job = { r, rows, &set, f->exclude_seen, (size_t)k, items, scores, counts, 0 };
    size_t tiles = (rows->n + TILE_USERS - 1) / TILE_USERS;
    prism__parallel_for(tiles, 1, rank_range, &job);
    if (atomic_load(&job.failed))
      rc = prism__error(PRISM_ERR_NO_MEMORY, "out of memory for score tiles");
    for (size_t i = 0; rc == PRISM_OK && i < rows->n; i++) {
      prism__ranker_topk h = { items + i * (size_t)k, scores + i * (size_t)k, counts[i],
                               (size_t)k };
      prism__ranker_topk_finish(&h);
    }
  }
  item_set_free(&set);
  return rc;
}

int prism__ranker_rank_users(int32_t *items, float *scores, size_t *counts, const prism_ranker *r,
                             const int32_t *users, size_t n, int k,
                             const prism_ranker_filter *filter)
{
  rank_rows rows = { n, users, NULL, NULL, &r->seen };
  return n ? rank_rows_run(items, scores, counts, r, &rows, k, filter) : PRISM_OK;
}

/* Users checked one by one, so a bad one is named by its position in the request. */
static int recommend_users(int32_t *items, float *scores, size_t *counts, const prism_ranker *r,
                           const int32_t *users, size_t n, int k, const prism_ranker_filter *f)
{
  for (size_t i = 0; i < n; i++)
    if (prism__ranker_check_index(r, 0, users[i]) != PRISM_OK)
      return n == 1 ? prism_last_error_status() : prism__error_prefix("users[%zu]: ", i);
  int rc = prism__ranker_filter_check(r, f);
  return rc == PRISM_OK ? prism__ranker_rank_users(items, scores, counts, r, users, n, k, f) : rc;
}

int prism_ranker_recommend_batch(int32_t *items, float *scores, size_t *counts,
                                 const prism_ranker *ranker, const int32_t *users, size_t num_users,
                                 int k, const prism_ranker_filter *filter)
{
  prism_ranker_filter f;
  PRISM__CHECK_ARG(num_users == 0 || (items && scores && counts),
                   "items, scores and counts must not be NULL");
  PRISM__CHECK_ARG(ranker != NULL, "ranker must not be NULL");
  PRISM__CHECK_ARG(num_users == 0 || users != NULL, "users must not be NULL");
  PRISM__CHECK_ARG(k > 0, "k must be at least 1");
  int rc = prism__ranker_filter_read(&f, filter, __func__);
  if (rc != PRISM_OK)
    return rc;
  return prism__error_at(__func__,
                         recommend_users(items, scores, counts, ranker, users, num_users, k, &f));
}

int prism_ranker_recommend(int32_t *items, float *scores, size_t *count, const prism_ranker *ranker,
                           int32_t user, int k, const prism_ranker_filter *filter)
{
  prism_ranker_filter f;
  PRISM__CHECK_ARG(items && scores && count, "items, scores and count must not be NULL");
  PRISM__CHECK_ARG(ranker != NULL, "ranker must not be NULL");
  PRISM__CHECK_ARG(k > 0, "k must be at least 1");
  int rc = prism__ranker_filter_read(&f, filter, __func__);
  if (rc != PRISM_OK)
    return rc;
  return prism__error_at(__func__, recommend_users(items, scores, count, ranker, &user, 1, k, &f));
}

static int recommend_history(int32_t *items, float *scores, size_t *count, const prism_ranker *r,
                             const int32_t *history, const float *values, size_t history_count,
                             int k, const prism_ranker_filter *f)
{
  prism__ranker_csr h;
  float bias;
  int rc = prism__ranker_filter_check(r, f);
  if (rc != PRISM_OK)
    return rc;
  float *x = prism__mallocn((size_t)r->hp.factors, sizeof *x);
  if (!x)
    return PRISM_ERR_NO_MEMORY;
  rc = prism__ranker_fold_in(x, &bias, &h, r, history, values, history_count);
  if (rc == PRISM_OK) {
    rank_rows rows = { 1, NULL, x, &bias, &h };
    rc = rank_rows_run(items, scores, count, r, &rows, k, f);
    prism__ranker_csr_free(&h);
  }
  prism__free(x);
  return rc;
}

int prism_ranker_recommend_history(int32_t *items, float *scores, size_t *count,
                                   const prism_ranker *ranker, const int32_t *history,
                                   const float *values, size_t history_count, int k,
                                   const prism_ranker_filter *filter)
{
  prism_ranker_filter f;
  PRISM__CHECK_ARG(items && scores && count, "items, scores and count must not be NULL");
  PRISM__CHECK_ARG(ranker != NULL, "ranker must not be NULL");
  PRISM__CHECK_ARG(history != NULL || history_count == 0, "history must not be NULL");
  PRISM__CHECK_ARG(k > 0, "k must be at least 1");
  int rc = prism__ranker_filter_read(&f, filter, __func__);
  if (rc != PRISM_OK)
    return rc;
  return prism__error_at(__func__, recommend_history(items, scores, count, ranker, history, values,
                                                     history_count, k, &f));
}
