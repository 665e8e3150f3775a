/*
 * Explicit biased matrix factorisation (Koren's SVD as in Surprise):
 * r_ui ~ mu + b_u + b_i + p_u.q_i fitted by SGD over the ratings in a seeded
 * shuffled order each epoch. One sequence of updates, so a seed gives the
 * same model on any thread count.
 */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "linalg/linalg.h"
#include "ranker_internal.h"

static void shuffle(prism__rng *g, int64_t *order, int64_t n)
{
  for (int64_t i = n - 1; i > 0; i--) {
    int64_t j = (int64_t)prism__rng_below(g, (uint64_t)i + 1), t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}

static double mf_epoch(prism_ranker *r, const prism__ranker_csr *ui, const int32_t *row,
                       const int64_t *order, int64_t nnz)
{
  const prism__ranker_hyper *hp = &r->hp;
  int F = hp->factors;
  float lr = hp->learning_rate, reg = hp->regularization;
  double sse = 0.0;
  for (int64_t s = 0; s < nnz; s++) {
    int64_t e = order[s];
    int32_t u = row[e], i = ui->index[e];
    float *p = r->user_factors + (size_t)u * F, *q = r->item_factors + (size_t)i * F;
    float pred = r->global_bias + r->user_bias[u] + r->item_bias[i] + prism__linalg_dot(p, q, F);
    float err = ui->value[e] - pred;
    sse += (double)err * err;
    r->user_bias[u] += lr * (err - reg * r->user_bias[u]);
    r->item_bias[i] += lr * (err - reg * r->item_bias[i]);
    for (int k = 0; k < F; k++) {
      float pk = p[k];
      p[k] += lr * (err * q[k] - reg * pk);
      q[k] += lr * (err * pk - reg * q[k]);
    }
  }
  return nnz ? sqrt(sse / (double)nnz) : 0.0;
}

int prism__ranker_mf_fit(prism_ranker *r, const prism__ranker_csr *ui,
                         const prism_ranker_params *params)
{
  const prism__ranker_hyper *hp = &r->hp;
  int64_t nnz = ui->ptr[ui->rows];
  int64_t *order = prism__mallocn(nnz ? (size_t)nnz : 1, sizeof *order);
  int32_t *row = prism__mallocn(nnz ? (size_t)nnz : 1, sizeof *row);
  prism__rng g;
  int rc = PRISM_OK;

  if (!order || !row) {
    prism__free(order);
    prism__free(row);
    return PRISM_ERR_NO_MEMORY;
  }
  double sum = 0.0;
  for (int32_t u = 0; u < ui->rows; u++)
    for (int64_t e = ui->ptr[u]; e < ui->ptr[u + 1]; e++) {
      row[e] = u;
      sum += ui->value[e];
    }
  r->global_bias = nnz ? (float)(sum / (double)nnz) : 0.0f;
  for (int64_t e = 0; e < nnz; e++)
    order[e] = e;
  prism__rng_seed(&g, hp->seed, PRISM__RANKER_STREAM_MF);
  for (int it = 1; it <= hp->iterations && rc == PRISM_OK; it++) {
    shuffle(&g, order, nnz);
    double rmse = mf_epoch(r, ui, row, order, nnz);
    rc = prism__ranker_check_diverged(r, it);
    if (rc == PRISM_OK && params->progress &&
        !params->progress(it, hp->iterations, rmse, params->progress_payload))
      rc = prism__error(PRISM_ERR_CANCELLED, "MF training cancelled after iteration %d", it);
  }
  prism__free(order);
  prism__free(row);
  return rc;
}

/*
 * Fold-in: the regularised least squares of the residual ratings
 * r - mu - b_i over [p; b_u] with features [q_i; 1], solved exactly. SGD
 * applies the penalty once per rating, so the penalty here is reg * n.
 */
int prism__ranker_mf_fold_in(const prism_ranker *r, const prism__ranker_csr *hist, float *x,
                             float *bias)
{
  int F = r->hp.factors, D = F + 1;
  float *A = prism__calloc((size_t)D * D, sizeof *A), *b = prism__calloc((size_t)D, sizeof *b);
  float *f = prism__mallocn((size_t)D, sizeof *f);
  int rc = A && b && f ? PRISM_OK : PRISM_ERR_NO_MEMORY;
  for (int k = 0; rc == PRISM_OK && k < D; k++)
    A[k * D + k] = r->hp.regularization * (float)hist->ptr[1];
  for (int64_t e = 0; rc == PRISM_OK && e < hist->ptr[1]; e++) {
    int32_t i = hist->index[e];
    memcpy(f, r->item_factors + (size_t)i * F, (size_t)F * sizeof *f);
    f[F] = 1.0f;
    float t = hist->value[e] - r->global_bias - r->item_bias[i];
    for (int a = 0; a < D; a++) {
      b[a] += t * f[a];
      for (int c = 0; c < D; c++)
        A[a * D + c] += f[a] * f[c];
    }
  }
  if (rc == PRISM_OK && prism__linalg_cholesky(A, D) != 0)
    rc = prism__error(PRISM_ERR_INTERNAL, "the MF fold-in system is not positive definite");
  if (rc == PRISM_OK) {
    prism__linalg_cholesky_solve(A, D, b);
    memcpy(x, b, (size_t)F * sizeof *x);
    *bias = b[F];
  }
  prism__free(A);
  prism__free(b);
  prism__free(f);
  return rc;
}
