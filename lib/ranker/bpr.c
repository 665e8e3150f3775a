/*
 * BPR (Rendle et al. 2009): SGD on ln sigmoid(x_ui - x_uj) with x_ui = u.i + b_i,
 * positives drawn uniformly from the interactions and negatives uniformly
 * from the items the user has not interacted with. The updates run in one
 * sequence from one seeded generator, so a seed gives the same model on any
 * thread count.
 */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "linalg/linalg.h"
#include "ranker_internal.h"

/* Draws of a negative before giving up on a sample (users who saw nearly everything). */
#define BPR_NEGATIVE_TRIES 32

static int row_contains(const prism__ranker_csr *m, int32_t row, int32_t col)
{
  int64_t lo = m->ptr[row], hi = m->ptr[row + 1];
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (m->index[mid] < col)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < m->ptr[row + 1] && m->index[lo] == col;
}

static int32_t draw_negative(prism__rng *g, const prism__ranker_csr *m, int32_t u)
{
  if (m->ptr[u + 1] - m->ptr[u] >= m->cols)
    return -1;
  for (int t = 0; t < BPR_NEGATIVE_TRIES; t++) {
    int32_t j = (int32_t)prism__rng_below(g, (uint64_t)m->cols);
    if (!row_contains(m, u, j))
      return j;
  }
  return -1;
}

/* One SGD step on (u, i, j); returns -ln sigmoid(x_uij). `uvec` may be a private copy. */
static double bpr_step(float *uvec, float *yi, float *yj, float *bi, float *bj, int F, float lr,
                       float reg, int update_items)
{
  float x =
      (bi ? *bi - *bj : 0.0f) + prism__linalg_dot(uvec, yi, F) - prism__linalg_dot(uvec, yj, F);
  float z = 1.0f / (1.0f + expf(x));
  for (int k = 0; k < F; k++) {
    float uk = uvec[k];
    uvec[k] += lr * (z * (yi[k] - yj[k]) - reg * uk);
    if (update_items) {
      yi[k] += lr * (z * uk - reg * yi[k]);
      yj[k] += lr * (-z * uk - reg * yj[k]);
    }
  }
  if (bi && update_items) {
    *bi += lr * (z - reg * *bi);
    *bj += lr * (-z - reg * *bj);
  }
  return x > 0 ? log1p(exp(-(double)x)) : -(double)x + log1p(exp((double)x));
}

int prism__ranker_bpr_fit(prism_ranker *r, const prism__ranker_csr *ui,
                          const prism_ranker_params *params)
{
  const prism__ranker_hyper *hp = &r->hp;
  int F = hp->factors;
  int64_t nnz = ui->ptr[ui->rows];
  int32_t *row = prism__mallocn((size_t)nnz, sizeof *row);
  prism__rng g;
  int rc = PRISM_OK;

  if (!row)
    return PRISM_ERR_NO_MEMORY;
  for (int32_t u = 0; u < ui->rows; u++)
    for (int64_t e = ui->ptr[u]; e < ui->ptr[u + 1]; e++)
      row[e] = u;
  prism__rng_seed(&g, hp->seed, PRISM__RANKER_STREAM_BPR);
  for (int it = 1; it <= hp->iterations && rc == PRISM_OK; it++) {
    double loss = 0.0;
    int64_t used = 0;
    for (int64_t s = 0; s < nnz; s++) {
      int64_t e = (int64_t)prism__rng_below(&g, (uint64_t)nnz);
      int32_t u = row[e], i = ui->index[e], j = draw_negative(&g, ui, u);
      if (j < 0)
        continue;
      loss += bpr_step(r->user_factors + (size_t)u * F, r->item_factors + (size_t)i * F,
                       r->item_factors + (size_t)j * F, r->item_bias + i, r->item_bias + j, F,
                       hp->learning_rate, hp->regularization, 1);
      used++;
    }
    rc = prism__ranker_check_diverged(r, it);
    if (rc == PRISM_OK && params->progress &&
        !params->progress(it, hp->iterations, used ? loss / (double)used : 0.0,
                          params->progress_payload))
      rc = prism__error(PRISM_ERR_CANCELLED, "BPR training cancelled after iteration %d", it);
  }
  prism__free(row);
  return rc;
}

/* Fold-in: the same SGD on the user vector alone, over the given (sorted) history. */
int prism__ranker_bpr_fold_in(const prism_ranker *r, const prism__ranker_csr *hist, float *x)
{
  const prism__ranker_hyper *hp = &r->hp;
  int F = hp->factors;
  int64_t n = hist->ptr[1];
  prism__rng g;

  prism__rng_seed(&g, hp->seed, PRISM__RANKER_STREAM_BPR_FOLD_IN);
  for (int k = 0; k < F; k++)
    x[k] = (float)((prism__rng_uniform(&g) - 0.5) / F);
  for (int it = 0; it < hp->iterations; it++)
    for (int64_t s = 0; s < n; s++) {
      int32_t i = hist->index[prism__rng_below(&g, (uint64_t)n)], j = draw_negative(&g, hist, 0);
      if (j < 0)
        continue;
      bpr_step(x, r->item_factors + (size_t)i * F, r->item_factors + (size_t)j * F,
               r->item_bias + i, r->item_bias + j, F, hp->learning_rate, hp->regularization, 0);
    }
  return PRISM_OK;
}
