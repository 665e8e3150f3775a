/* The ranker handle: parameters, training entry points, accessors, fold-in, explain. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/params.h"
#include "linalg/linalg.h"
#include "ranker_internal.h"

#define PARAMS_V1_SIZE PRISM__LAYOUT_SIZE(prism_ranker_params, progress_payload)

static const prism_ranker_params param_defaults = {
  .struct_size = sizeof(prism_ranker_params),
  .algorithm = PRISM_RANKER_ALS,
};

int prism_ranker_params_init(prism_ranker_params *params, size_t struct_size)
{
  return PRISM__PARAMS_INIT(params, struct_size, &param_defaults, PARAMS_V1_SIZE, __func__);
}

int prism__ranker_params_read(prism_ranker_params *out, const prism_ranker_params *in,
                              const char *fn)
{
  return PRISM__PARAMS_READ(out, in, &param_defaults, PARAMS_V1_SIZE, fn);
}

static float pick(float value, float als, float bpr, float mf, int algorithm)
{
  if (value != 0.0f)
    return value;
  return algorithm == PRISM_RANKER_ALS ? als : algorithm == PRISM_RANKER_BPR ? bpr : mf;
}

static int positive(float v)
{
  return v > 0.0f && isfinite(v);
}

int prism__ranker_check_hyper(const prism__ranker_hyper *hp, int status)
{
  if (hp->factors < 1 || hp->factors > PRISM__RANKER_MAX_FACTORS)
    return prism__error(status, "factors must be between 1 and %d, not %d",
                        PRISM__RANKER_MAX_FACTORS, hp->factors);
  if (hp->iterations < 1 || hp->iterations > 1000000)
    return prism__error(status, "iterations must be between 1 and 1000000, not %d", hp->iterations);
  if (hp->cg_steps < 1 || hp->cg_steps > 1000)
    return prism__error(status, "cg_steps must be between 1 and 1000, not %d", hp->cg_steps);
  if (!positive(hp->regularization))
    return prism__error(status, "regularization must be a finite number above 0, not %g",
                        (double)hp->regularization);
  if (!positive(hp->alpha))
    return prism__error(status, "alpha must be a finite number above 0, not %g", (double)hp->alpha);
  if (!positive(hp->learning_rate))
    return prism__error(status, "learning_rate must be a finite number above 0, not %g",
                        (double)hp->learning_rate);
  if (!isfinite(hp->rating_min) || !isfinite(hp->rating_max) || hp->rating_min > hp->rating_max)
    return prism__error(status,
                        "the rating range (rating_min %g, rating_max %g) must be finite, "
                        "its minimum not above its maximum",
                        (double)hp->rating_min, (double)hp->rating_max);
  return PRISM_OK;
}

int prism__ranker_resolve_hyper(prism__ranker_hyper *hp, const prism_ranker_params *p)
{
  int a = p->algorithm;
  if (a != PRISM_RANKER_ALS && a != PRISM_RANKER_BPR && a != PRISM_RANKER_MF)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "algorithm must be PRISM_RANKER_ALS, PRISM_RANKER_BPR or PRISM_RANKER_MF, "
                        "not %d",
                        a);
  hp->algorithm = a;
  hp->factors = p->factors ? p->factors : 64;
  hp->iterations = p->iterations           ? p->iterations
                   : a == PRISM_RANKER_ALS ? 15
                   : a == PRISM_RANKER_BPR ? 100
                                           : 20;
  hp->cg_steps = p->cg_steps ? p->cg_steps : 3;
  hp->regularization = pick(p->regularization, 0.05f, 0.01f, 0.02f, a);
  hp->alpha = p->alpha != 0.0f ? p->alpha : 1.0f;
  hp->learning_rate = pick(p->learning_rate, 0.01f, 0.01f, 0.005f, a);
  hp->rating_min = p->rating_min;
  hp->rating_max = p->rating_max;
  hp->seed = p->seed;
  return prism__ranker_check_hyper(hp, PRISM_ERR_INVALID_ARGUMENT);
}

int prism__ranker_alloc(prism_ranker **out, const prism__ranker_hyper *hp, int32_t users,
                        int32_t items)
{
  prism_ranker *r = prism__calloc(1, sizeof *r);
  size_t F = (size_t)hp->factors;
  if (!r)
    return PRISM_ERR_NO_MEMORY;
  r->hp = *hp;
  r->num_users = users;
  r->num_items = items;
  r->user_factors = prism__calloc((size_t)users * F + 1, sizeof(float));
  r->item_factors = prism__calloc((size_t)items * F + 1, sizeof(float));
  r->item_norms = prism__calloc((size_t)items + 1, sizeof(float));
  int ok = r->user_factors && r->item_factors && r->item_norms;
  if (ok && hp->algorithm != PRISM_RANKER_ALS)
    ok = (r->item_bias = prism__calloc((size_t)items + 1, sizeof(float))) != NULL;
  if (ok && hp->algorithm == PRISM_RANKER_MF)
    ok = (r->user_bias = prism__calloc((size_t)users + 1, sizeof(float))) != NULL;
  if (ok && hp->algorithm == PRISM_RANKER_ALS)
    ok = (r->item_gram = prism__mallocn(F * F, sizeof(float))) != NULL;
  if (!ok) {
    prism_ranker_free(r);
    return PRISM_ERR_NO_MEMORY;
  }
  *out = r;
  return PRISM_OK;
}

void prism_ranker_free(prism_ranker *r)
{
  if (!r)
    return;
  prism__free(r->user_factors);
  prism__free(r->item_factors);
  prism__free(r->user_bias);
  prism__free(r->item_bias);
  prism__free(r->item_gram);
  prism__free(r->item_norms);
  prism__ranker_csr_free(&r->seen);
  prism__idmap_free(&r->user_ids);
  prism__idmap_free(&r->item_ids);
  prism__free(r);
}

static int all_finite(const float *a, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!isfinite(a[i]))
      return 0;
  return 1;
}

/* Which of r's parameters hold NaN or infinity, or NULL when all are finite. */
static const char *non_finite_part(const prism_ranker *r)
{
  int F = r->hp.factors;
  if (!all_finite(r->user_factors, (size_t)r->num_users * F))
    return "user factors";
  if (!all_finite(r->item_factors, (size_t)r->num_items * F))
    return "item factors";
  if (r->user_bias && !all_finite(r->user_bias, (size_t)r->num_users))
    return "user biases";
  if (r->item_bias && !all_finite(r->item_bias, (size_t)r->num_items))
    return "item biases";
  return isfinite(r->global_bias) ? NULL : "global bias";
}

int prism__ranker_diverged(const prism_ranker *r, int iteration, const char *part)
{
  static const char *const names[] = { "ALS", "BPR", "MF" };
  static const char *const advice[] = {
    "a larger regularization, a smaller alpha or smaller values",
    "a lower learning_rate or a larger regularization",
    "a lower learning_rate or a larger regularization",
  };
  int a = r->hp.algorithm;
  return prism__error(PRISM_ERR_NUMERIC,
                      "%s training diverged at iteration %d: the %s are no longer finite "
                      "numbers (try %s)",
                      names[a], iteration, part, advice[a]);
}

int prism__ranker_check_diverged(const prism_ranker *r, int iteration)
{
  const char *part = non_finite_part(r);
  return part ? prism__ranker_diverged(r, iteration, part) : PRISM_OK;
}

int prism__ranker_finish(prism_ranker *r, const char *what)
{
  const char *part = non_finite_part(r);
  int F = r->hp.factors;
  if (part)
    return prism__error(PRISM_ERR_FORMAT, "%s: the %s are not finite", what, part);
  for (int32_t i = 0; i < r->num_items; i++) {
    const float *y = r->item_factors + (size_t)i * F;
    double s = 0.0;
    for (int k = 0; k < F; k++)
      s += (double)y[k] * y[k];
    r->item_norms[i] = (float)sqrt(s);
  }
  if (r->item_gram)
    prism__ranker_als_gram(r->item_gram, r->item_factors, r->num_items, F, r->hp.regularization);
  return PRISM_OK;
}

static void init_factors(prism_ranker *r)
{
  prism__rng g;
  int a = r->hp.algorithm, F = r->hp.factors;
  size_t nu = (size_t)r->num_users * F, ni = (size_t)r->num_items * F;
  prism__rng_seed(&g, r->hp.seed, PRISM__RANKER_STREAM_INIT);
  for (size_t k = 0; k < nu + ni; k++) {
    float *x = k < nu ? r->user_factors + k : r->item_factors + (k - nu);
    if (a == PRISM_RANKER_ALS)
      *x = (float)(prism__rng_uniform(&g) * 0.01);
    else if (a == PRISM_RANKER_BPR)
      *x = (float)((prism__rng_uniform(&g) - 0.5) / F);
    else
      *x = (float)(prism__rng_normal(&g) * 0.1);
  }
}

static void rating_range(prism__ranker_hyper *hp, const prism__ranker_csr *ui)
{
  int64_t nnz = ui->ptr[ui->rows];
  if (hp->rating_min != 0.0f || hp->rating_max != 0.0f || nnz == 0)
    return;
  hp->rating_min = hp->rating_max = ui->value[0];
  for (int64_t e = 1; e < nnz; e++) {
    hp->rating_min = fminf(hp->rating_min, ui->value[e]);
    hp->rating_max = fmaxf(hp->rating_max, ui->value[e]);
  }
}

static int fit(prism_ranker *r, const prism__ranker_csr *ui, const prism_ranker_params *params)
{
  if (r->hp.algorithm == PRISM_RANKER_BPR)
    return prism__ranker_bpr_fit(r, ui, params);
  if (r->hp.algorithm == PRISM_RANKER_MF)
    return prism__ranker_mf_fit(r, ui, params);
  prism__ranker_csr iu;
  int rc = prism__ranker_csr_transpose(&iu, ui);
  if (rc == PRISM_OK)
    rc = prism__ranker_als_fit(r, ui, &iu, params);
  prism__ranker_csr_free(&iu);
  return rc;
}

/* Train on `ui` (taken over: freed on failure, kept as the seen matrix on success). */
static int train_owned(prism_ranker **out, prism__ranker_csr *ui, prism__ranker_hyper hp,
                       const prism_ranker_params *p)
{
  prism_ranker *r = NULL;
  int rc = ui->ptr[ui->rows] == 0
               ? prism__error(PRISM_ERR_INVALID_ARGUMENT, "no interactions to train on")
               : PRISM_OK;
  if (rc == PRISM_OK) {
    rating_range(&hp, ui);
    rc = prism__ranker_alloc(&r, &hp, ui->rows, ui->cols);
  }
  if (rc == PRISM_OK) {
    init_factors(r);
    rc = fit(r, ui, p);
  }
  if (rc == PRISM_OK) {
    r->seen = *ui;
    memset(ui, 0, sizeof *ui);
    rc = prism__ranker_finish(r, "the trained model");
  }
  if (rc != PRISM_OK) {
    prism_ranker_free(r);
    prism__ranker_csr_free(ui);
    return rc;
  }
  *out = r;
  return PRISM_OK;
}

static int train_coo(prism_ranker **out, int32_t num_users, int32_t num_items, size_t count,
                     const int32_t *users, const int32_t *items, const float *values,
                     const prism_ranker_params *p)
{
  prism__ranker_hyper hp;
  prism__ranker_csr ui;
  int rc = prism__ranker_resolve_hyper(&hp, p);
  if (rc == PRISM_OK && (num_users < 1 || num_items < 1))
    rc = prism__error(PRISM_ERR_INVALID_ARGUMENT,
                      "a model needs at least one user and one item, not %d users and %d items",
                      num_users, num_items);
  if (rc == PRISM_OK)
    rc = prism__ranker_csr_from_coo(&ui, num_users, num_items, count, users, items, values,
                                    "interaction");
  return rc == PRISM_OK ? train_owned(out, &ui, hp, p) : rc;
}

int prism_ranker_train_coo(prism_ranker **out, int32_t num_users, int32_t num_items, size_t count,
                           const int32_t *users, const int32_t *items, const float *values,
                           const prism_ranker_params *params)
{
  prism_ranker_params p;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  PRISM__CHECK_ARG(count == 0 || (users && items),
                   "users and items must not be NULL when count is above 0");
  int rc = prism__ranker_params_read(&p, params, __func__);
  if (rc != PRISM_OK)
    return rc;
  return prism__error_at(__func__,
                         train_coo(out, num_users, num_items, count, users, items, values, &p));
}

/* CSR rows to COO: the row of every entry, once the row pointer is known to be sound. */
static int train_csr(prism_ranker **out, int32_t num_users, int32_t num_items,
                     const int64_t *indptr, const int32_t *indices, const float *values,
                     const prism_ranker_params *p)
{
  if (num_users < 1)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "a model needs at least one user, not %d users",
                        num_users);
  if (indptr[0] != 0)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "indptr must start at 0, not %lld",
                        (long long)indptr[0]);
  for (int32_t u = 0; u < num_users; u++)
    if (indptr[u + 1] < indptr[u])
      return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                          "indptr must never decrease, but it does after row %d", u);
  size_t nnz = (size_t)indptr[num_users];
  if (nnz > 0 && !indices)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "indices must not be NULL when indptr counts %zu entries", nnz);
  int32_t *rows = prism__mallocn(nnz ? nnz : 1, sizeof *rows);
  if (!rows)
    return PRISM_ERR_NO_MEMORY;
  for (int32_t u = 0; u < num_users; u++)
    for (int64_t e = indptr[u]; e < indptr[u + 1]; e++)
      rows[e] = u;
  int rc = train_coo(out, num_users, num_items, nnz, rows, indices, values, p);
  prism__free(rows);
  return rc;
}

int prism_ranker_train_csr(prism_ranker **out, int32_t num_users, int32_t num_items,
                           const int64_t *indptr, const int32_t *indices, const float *values,
                           const prism_ranker_params *params)
{
  prism_ranker_params p;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  PRISM__CHECK_ARG(indptr != NULL, "indptr must not be NULL");
  int rc = prism__ranker_params_read(&p, params, __func__);
  if (rc != PRISM_OK)
    return rc;
  return prism__error_at(__func__,
                         train_csr(out, num_users, num_items, indptr, indices, values, &p));
}

/* Train on an interactions set and keep its string ids. */
static int train_data(prism_ranker **out, const prism_interactions *data,
                      const prism_ranker_params *p)
{
  prism_ranker *r = NULL;
  if (data->count == 0)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "no interactions to train on (the set is empty)");
  int rc = train_coo(&r, data->users.count, data->items.count, data->count, data->user, data->item,
                     data->value, p);
  if (rc == PRISM_OK) {
    rc = prism__idmap_copy(&r->user_ids, &data->users);
    if (rc == PRISM_OK)
      rc = prism__idmap_copy(&r->item_ids, &data->items);
    r->has_ids = 1;
  }
  if (rc != PRISM_OK) {
    prism_ranker_free(r);
    return rc;
  }
  *out = r;
  return PRISM_OK;
}

int prism_ranker_train(prism_ranker **out, const prism_interactions *data,
                       const prism_ranker_params *params)
{
  prism_ranker_params p;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  PRISM__CHECK_ARG(data != NULL, "data must not be NULL");
  int rc = prism__ranker_params_read(&p, params, __func__);
  if (rc != PRISM_OK)
    return rc;
  return prism__error_at(__func__, train_data(out, data, &p));
}

/* ---- accessors ---- */

int prism_ranker_algorithm_of(const prism_ranker *r)
{
  return r ? r->hp.algorithm : -1;
}

int32_t prism_ranker_num_users(const prism_ranker *r)
{
  return r ? r->num_users : 0;
}

int32_t prism_ranker_num_items(const prism_ranker *r)
{
  return r ? r->num_items : 0;
}

int prism_ranker_num_factors(const prism_ranker *r)
{
  return r ? r->hp.factors : 0;
}

const float *prism_ranker_user_factors(const prism_ranker *r)
{
  return r ? r->user_factors : NULL;
}

const float *prism_ranker_item_factors(const prism_ranker *r)
{
  return r ? r->item_factors : NULL;
}

const char *prism_ranker_user_id(const prism_ranker *r, int32_t user)
{
  return r && r->has_ids ? prism__idmap_name(&r->user_ids, user) : NULL;
}

const char *prism_ranker_item_id(const prism_ranker *r, int32_t item)
{
  return r && r->has_ids ? prism__idmap_name(&r->item_ids, item) : NULL;
}

/* Without an id map a model names its rows by their decimal index. */
int32_t prism__ranker_lookup(const prism_ranker *r, int items, const char *id)
{
  if (r->has_ids)
    return prism__idmap_find(items ? &r->item_ids : &r->user_ids, id);
  char *end;
  long v = strtol(id, &end, 10);
  if (end == id || *end || v < 0 || v >= (items ? r->num_items : r->num_users))
    return -1;
  return (int32_t)v;
}

static int find_index(int32_t *out, const prism_ranker *r, int items, const char *id)
{
  int32_t i = prism__ranker_lookup(r, items, id);
  if (i < 0 && r->has_ids)
    return prism__error(PRISM_ERR_NOT_FOUND, "unknown %s id \"%s\"", items ? "item" : "user", id);
  if (i < 0)
    return prism__error(PRISM_ERR_NOT_FOUND,
                        "unknown %s id \"%s\" (the model has no id map: its ids are the indices "
                        "0 to %d)",
                        items ? "item" : "user", id, (items ? r->num_items : r->num_users) - 1);
  *out = i;
  return PRISM_OK;
}

int prism_ranker_find_user(int32_t *out, const prism_ranker *ranker, const char *id)
{
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(ranker != NULL, "ranker must not be NULL");
  PRISM__CHECK_ARG(id != NULL, "id must not be NULL");
  return prism__error_at(__func__, find_index(out, ranker, 0, id));
}

int prism_ranker_find_item(int32_t *out, const prism_ranker *ranker, const char *id)
{
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(ranker != NULL, "ranker must not be NULL");
  PRISM__CHECK_ARG(id != NULL, "id must not be NULL");
  return prism__error_at(__func__, find_index(out, ranker, 1, id));
}

/* ---- scores, fold-in, explain ---- */

float prism__ranker_score(const prism_ranker *r, const float *u, float user_bias, int32_t item)
{
  const float *y = r->item_factors + (size_t)item * r->hp.factors;
  return user_bias + r->global_bias + (r->item_bias ? r->item_bias[item] : 0.0f) +
         prism__linalg_dot(u, y, r->hp.factors);
}

int prism__ranker_check_index(const prism_ranker *r, int items, int32_t index)
{
  int32_t count = items ? r->num_items : r->num_users;
  if (index < 0 || index >= count)
    return prism__error(PRISM_ERR_OUT_OF_RANGE, "%s %d is out of range (the model has %d %ss)",
                        items ? "item" : "user", index, count, items ? "item" : "user");
  return PRISM_OK;
}

static int check_pair(const prism_ranker *r, int32_t user, int32_t item)
{
  int rc = prism__ranker_check_index(r, 0, user);
  return rc == PRISM_OK ? prism__ranker_check_index(r, 1, item) : rc;
}

float prism__ranker_predict(const prism_ranker *r, int32_t user, int32_t item)
{
  float s = prism__ranker_score(r, r->user_factors + (size_t)user * r->hp.factors,
                                r->user_bias ? r->user_bias[user] : 0.0f, item);
  if (r->hp.algorithm == PRISM_RANKER_MF)
    s = fminf(fmaxf(s, r->hp.rating_min), r->hp.rating_max);
  return s;
}

int prism_ranker_predict(float *out, const prism_ranker *ranker, int32_t user, int32_t item)
{
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(ranker != NULL, "ranker must not be NULL");
  int rc = check_pair(ranker, user, item);
  if (rc != PRISM_OK)
    return prism__error_at(__func__, rc);
  *out = prism__ranker_predict(ranker, user, item);
  return PRISM_OK;
}

/* A caller's history as a sorted 1-row CSR (duplicates summed), validated against r. */
static int history_csr(prism__ranker_csr *out, const prism_ranker *r, const int32_t *items,
                       const float *values, size_t n)
{
  if (n == 0)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "the history is empty (history_count is 0): there is nothing to fold in");
  int32_t *zeros = prism__calloc(n, sizeof *zeros);
  if (!zeros)
    return PRISM_ERR_NO_MEMORY;
  int rc =
      prism__ranker_csr_from_coo(out, 1, r->num_items, n, zeros, items, values, "history entry");
  prism__free(zeros);
  return rc;
}

/* Exact ALS solve of one history: x = W^-1 b; W's Cholesky factor returned in L when non-NULL. */
static int als_solve_history(const prism_ranker *r, const prism__ranker_csr *h, float *x,
                             float *L_out)
{
  int F = r->hp.factors;
  float *W = L_out ? L_out : prism__mallocn((size_t)F * F, sizeof *W);
  if (!W)
    return PRISM_ERR_NO_MEMORY;
  prism__ranker_als_user_system(W, x, r->item_factors, r->item_gram, h->index, h->value,
                                (size_t)h->ptr[1], F, r->hp.alpha);
  int rc = PRISM_OK;
  if (prism__linalg_cholesky(W, F) != 0)
    rc = prism__error(PRISM_ERR_INTERNAL, "the ALS user system is not positive definite");
  else
    prism__linalg_cholesky_solve(W, F, x);
  if (!L_out)
    prism__free(W);
  return rc;
}

static int fold_in_csr(const prism_ranker *r, const prism__ranker_csr *h, float *x, float *bias)
{
  *bias = 0.0f;
  if (r->hp.algorithm == PRISM_RANKER_ALS)
    return als_solve_history(r, h, x, NULL);
  if (r->hp.algorithm == PRISM_RANKER_BPR)
    return prism__ranker_bpr_fold_in(r, h, x);
  return prism__ranker_mf_fold_in(r, h, x, bias);
}

int prism__ranker_fold_in(float *factors, float *bias, prism__ranker_csr *h_out,
                          const prism_ranker *r, const int32_t *history, const float *values,
                          size_t n)
{
  prism__ranker_csr h = { 0, 0, NULL, NULL, NULL };
  int rc = history_csr(&h, r, history, values, n);
  if (rc == PRISM_OK)
    rc = fold_in_csr(r, &h, factors, bias);
  if (rc == PRISM_OK && h_out)
    *h_out = h;
  else
    prism__ranker_csr_free(&h);
  return rc;
}

int prism_ranker_fold_in(float *factors, float *bias, const prism_ranker *ranker,
                         const int32_t *history, const float *values, size_t history_count)
{
  float x[PRISM__RANKER_MAX_FACTORS], b;
  PRISM__CHECK_ARG(factors != NULL, "factors must not be NULL");
  PRISM__CHECK_ARG(ranker != NULL, "ranker must not be NULL");
  PRISM__CHECK_ARG(history != NULL || history_count == 0, "history must not be NULL");
  int rc = prism__ranker_fold_in(x, &b, NULL, ranker, history, values, history_count);
  if (rc != PRISM_OK)
    return prism__error_at(__func__, rc);
  memcpy(factors, x, (size_t)ranker->hp.factors * sizeof *x);
  if (bias)
    *bias = b;
  return PRISM_OK;
}

/* ALS contributions: c_j p_j * (W_u^-1 y_item) . y_j for the user's stored history. */
static int als_contributions(const prism_ranker *r, int32_t user, int32_t item, float *out)
{
  int F = r->hp.factors;
  prism__ranker_csr h = { 1, r->num_items, NULL, NULL, NULL };
  int64_t row[2] = { 0, r->seen.ptr[user + 1] - r->seen.ptr[user] };
  h.ptr = row;
  h.index = r->seen.index + r->seen.ptr[user];
  h.value = r->seen.value + r->seen.ptr[user];
  float *L = prism__mallocn((size_t)F * F, sizeof *L), *x = prism__mallocn((size_t)F, sizeof *x);
  int rc = L && x ? als_solve_history(r, &h, x, L) : PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK) {
    memcpy(x, r->item_factors + (size_t)item * F, (size_t)F * sizeof *x);
    prism__linalg_cholesky_solve(L, F, x);
    for (int64_t e = 0; e < row[1]; e++) {
      float v = h.value[e];
      float c = v > 0 ? 1.0f + r->hp.alpha * v : 0.0f;
      const float *y = r->item_factors + (size_t)h.index[e] * F;
      double d = 0.0;
      for (int k = 0; k < F; k++)
        d += (double)x[k] * y[k];
      out[e] = (float)(c * d);
    }
  }
  prism__free(L);
  prism__free(x);
  return rc;
}

static float cosine(const prism_ranker *r, int32_t a, int32_t b)
{
  int F = r->hp.factors;
  const float *x = r->item_factors + (size_t)a * F, *y = r->item_factors + (size_t)b * F;
  double n = (double)r->item_norms[a] * r->item_norms[b];
  return n > 0.0 ? (float)(prism__linalg_dot(x, y, F) / n) : 0.0f;
}

static void similarity_shares(const prism_ranker *r, int32_t user, int32_t item, float *out)
{
  int64_t begin = r->seen.ptr[user], n = r->seen.ptr[user + 1] - begin;
  double total = 0.0;
  for (int64_t e = 0; e < n; e++) {
    out[e] = cosine(r, item, r->seen.index[begin + e]);
    total += fabsf(out[e]);
  }
  for (int64_t e = 0; e < n; e++)
    out[e] = total > 0.0 ? (float)(out[e] / total) : 0.0f;
}

/* The n largest contributions of user's history to item's score (n: the heap's capacity only). */
static int explain(int32_t *items, float *contributions, size_t *count, const prism_ranker *r,
                   int32_t user, int32_t item, int n)
{
  int rc = check_pair(r, user, item);
  if (rc != PRISM_OK)
    return rc;
  int64_t begin = r->seen.ptr[user], len = r->seen.ptr[user + 1] - begin;
  if (len == 0)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "user %d has an empty history: no training interaction explains a score",
                        user);
  float *share = prism__mallocn((size_t)len, sizeof *share);
  if (!share)
    return PRISM_ERR_NO_MEMORY;
  if (r->hp.algorithm == PRISM_RANKER_ALS)
    rc = als_contributions(r, user, item, share);
  else
    similarity_shares(r, user, item, share);
  if (rc == PRISM_OK) {
    prism__ranker_topk h = { items, contributions, 0, (size_t)n };
    for (int64_t e = 0; e < len; e++)
      prism__ranker_topk_push(&h, r->seen.index[begin + e], share[e]);
    prism__ranker_topk_finish(&h);
    *count = h.size;
  }
  prism__free(share);
  return rc;
}

int prism_ranker_explain(int32_t *items, float *contributions, size_t *count,
                         const prism_ranker *ranker, int32_t user, int32_t item, int n)
{
  PRISM__CHECK_ARG(items && contributions && count,
                   "items, contributions and count must not be NULL");
  PRISM__CHECK_ARG(ranker != NULL, "ranker must not be NULL");
  PRISM__CHECK_ARG(n > 0, "n must be at least 1");
  return prism__error_at(__func__, explain(items, contributions, count, ranker, user, item, n));
}

int prism_ranker_similar_items(int32_t *items, float *scores, size_t *count,
                               const prism_ranker *ranker, int32_t item, int k)
{
  PRISM__CHECK_ARG(items && scores && count, "items, scores and count must not be NULL");
  PRISM__CHECK_ARG(ranker != NULL, "ranker must not be NULL");
  PRISM__CHECK_ARG(k > 0, "k must be at least 1");
  int rc = prism__ranker_check_index(ranker, 1, item);
  if (rc != PRISM_OK)
    return prism__error_at(__func__, rc);
  prism__ranker_topk h = { items, scores, 0, (size_t)k };
  for (int32_t j = 0; j < ranker->num_items; j++)
    if (j != item)
      prism__ranker_topk_push(&h, j, cosine(ranker, item, j));
  prism__ranker_topk_finish(&h);
  *count = h.size;
  return PRISM_OK;
}
