/*
 * Implicit ALS (Hu, Koren, Volinsky 2008) with the conjugate-gradient solver
 * of Takacs et al. as used by benfred/implicit. An interaction with value v
 * has confidence 1 + alpha*|v| and preference 1 when v > 0, 0 otherwise;
 * every unobserved pair has confidence 1 and preference 0. Each half step
 * solves  (Y'Y + reg*I + sum_j alpha|v_j| y_j y_j') x = sum_j (1 + alpha v_j) p_j y_j
 * for every row, where Y'Y comes from one BLAS syrk shared by all rows.
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/pool.h"
#include "linalg/linalg.h"
#include "ranker_internal.h"

/*
 * Rows are solved in blocks of ALS_BLOCK with aligned starts, so a row's block
 * (and its arithmetic) is the same on any thread count; within a block every
 * dense product with the Gram matrix is one GEMM, and the CG steps run in
 * lockstep with a per-row stop once converged.
 */
#define ALS_BLOCK 32

void prism__ranker_als_gram(float *gram, const float *Y, int32_t rows, int factors, float reg)
{
  prism__linalg_ssyrk_t((size_t)factors, (size_t)rows, 1.0f, Y, (size_t)factors, 0.0f, gram,
                        (size_t)factors);
  for (int k = 0; k < factors; k++)
    gram[k * factors + k] += reg;
}

typedef struct als_job {
  float *X;
  const float *Y, *gram;
  const prism__ranker_csr *m;
  int factors, cg_steps;
  float alpha;
  double *row_loss; /* per row, NULL when no loss is wanted */
  atomic_int failed;
  atomic_int *non_finite; /* set when a residual becomes NaN or infinity: the system diverged */
} als_job;

/* Scratch of one block: residuals, directions, products, squared norms. */
typedef struct als_scratch {
  float *R, *P, *AP;
  float rs[ALS_BLOCK];
  int active[ALS_BLOCK];
} als_scratch;

/*
 * v += sum over row u's interactions of (b_j + sign * c_j y_j.x) y_j with
 * c_j = alpha|v_j| and b_j = [v_j > 0](1 + c_j) when with_b: sign -1 and b for
 * the residual b - A x, sign +1 without b for the sparse part of A p.
 */
static void add_sparse(const als_job *j, int32_t u, const float *x, float *v, float sign,
                       int with_b)
{
  int F = j->factors;
  for (int64_t e = j->m->ptr[u]; e < j->m->ptr[u + 1]; e++) {
    const float *y = j->Y + (size_t)j->m->index[e] * F;
    float val = j->m->value[e], c = j->alpha * fabsf(val);
    float b = with_b && val > 0 ? 1.0f + c : 0.0f;
    prism__linalg_saxpy(v, b + sign * c * prism__linalg_dot(y, x, F), y, (size_t)F);
  }
}

/* R = b - A X for the block, P = R; rows already at the solution stay inactive. */
static void block_residual(const als_job *j, size_t b0, size_t nb, als_scratch *s)
{
  int F = j->factors;
  float *X = j->X + b0 * F;
  prism__linalg_sgemm_nn(nb, (size_t)F, (size_t)F, -1.0f, X, (size_t)F, j->gram, (size_t)F, 0.0f,
                         s->R, (size_t)F);
  for (size_t i = 0; i < nb; i++) {
    float *r = s->R + i * F;
    add_sparse(j, (int32_t)(b0 + i), X + i * F, r, -1.0f, 1);
    memcpy(s->P + i * F, r, (size_t)F * sizeof *r);
    s->rs[i] = prism__linalg_dot(r, r, F);
    s->active[i] = s->rs[i] >= 1e-20f;
    if (!isfinite(s->rs[i]))
      atomic_store(j->non_finite, 1);
  }
}

/* One lockstep CG step; returns how many rows are still active. */
static size_t block_cg_step(const als_job *j, size_t b0, size_t nb, als_scratch *s)
{
  int F = j->factors;
  size_t live = 0;
  prism__linalg_sgemm_nn(nb, (size_t)F, (size_t)F, 1.0f, s->P, (size_t)F, j->gram, (size_t)F, 0.0f,
                         s->AP, (size_t)F);
  for (size_t i = 0; i < nb; i++) {
    if (!s->active[i])
      continue;
    float *x = j->X + (b0 + i) * F, *r = s->R + i * F, *p = s->P + i * F, *ap = s->AP + i * F;
    add_sparse(j, (int32_t)(b0 + i), p, ap, 1.0f, 0);
    float a = s->rs[i] / prism__linalg_dot(p, ap, F);
    prism__linalg_saxpy(x, a, p, (size_t)F);
    prism__linalg_saxpy(r, -a, ap, (size_t)F);
    float rsnew = prism__linalg_dot(r, r, F);
    for (int k = 0; k < F; k++)
      p[k] = r[k] + (rsnew / s->rs[i]) * p[k];
    s->rs[i] = rsnew;
    s->active[i] = rsnew >= 1e-20f;
    if (!isfinite(rsnew))
      atomic_store(j->non_finite, 1);
    live += (size_t)s->active[i];
  }
  return live;
}

/*
 * Weighted squared error of each row over all columns, using
 * sum_all c (p - s)^2 = x'Y'Yx + sum_observed [(1 + c)(p - s)^2 - s^2]; with
 * the regularised gram this also adds reg*|x|^2.
 */
static void block_loss(const als_job *j, size_t b0, size_t nb, als_scratch *s)
{
  int F = j->factors;
  const float *X = j->X + b0 * F;
  prism__linalg_sgemm_nn(nb, (size_t)F, (size_t)F, 1.0f, X, (size_t)F, j->gram, (size_t)F, 0.0f,
                         s->AP, (size_t)F);
  for (size_t i = 0; i < nb; i++) {
    int32_t u = (int32_t)(b0 + i);
    const float *x = X + i * F;
    double loss = prism__linalg_dot(s->AP + i * F, x, F);
    for (int64_t e = j->m->ptr[u]; e < j->m->ptr[u + 1]; e++) {
      float v = j->m->value[e], c = j->alpha * fabsf(v);
      double sc = prism__linalg_dot(j->Y + (size_t)j->m->index[e] * F, x, F),
             d = (v > 0 ? 1.0 : 0.0) - sc;
      loss += (1.0 + c) * d * d - sc * sc;
    }
    j->row_loss[u] = loss;
  }
}

static void als_range(void *ctx, size_t begin, size_t end)
{
  als_job *j = ctx;
  size_t F = (size_t)j->factors, rows = (size_t)j->m->rows;
  als_scratch s;
  s.R = prism__mallocn(ALS_BLOCK * F, sizeof(float));
  s.P = prism__mallocn(ALS_BLOCK * F, sizeof(float));
  s.AP = prism__mallocn(ALS_BLOCK * F, sizeof(float));
  if (!s.R || !s.P || !s.AP)
    atomic_store(&j->failed, 1);
  for (size_t blk = begin; blk < end && s.R && s.P && s.AP; blk++) {
    size_t b0 = blk * ALS_BLOCK, nb = rows - b0 < ALS_BLOCK ? rows - b0 : ALS_BLOCK;
    block_residual(j, b0, nb, &s);
    for (int it = 0; it < j->cg_steps && block_cg_step(j, b0, nb, &s) > 0; it++)
      ;
    if (j->row_loss)
      block_loss(j, b0, nb, &s);
  }
  prism__free(s.R);
  prism__free(s.P);
  prism__free(s.AP);
}

static int solve_rows(float *X, const float *Y, const float *gram, const prism__ranker_csr *m,
                      int factors, float alpha, int cg_steps, double *loss)
{
  atomic_int non_finite = 0;
  als_job j = { X, Y, gram, m, factors, cg_steps, alpha, loss, 0, &non_finite };
  size_t blocks = ((size_t)m->rows + ALS_BLOCK - 1) / ALS_BLOCK;
  prism__parallel_for(blocks, 2, als_range, &j);
  if (atomic_load(&j.failed))
    return prism__error(PRISM_ERR_NO_MEMORY, "out of memory for the ALS solver's scratch");
  return atomic_load(&non_finite) ? PRISM_ERR_NUMERIC : PRISM_OK;
}

int prism__ranker_als_solve_cg(float *X, const float *Y, const float *gram,
                               const prism__ranker_csr *m, int factors, float alpha, int cg_steps)
{
  return solve_rows(X, Y, gram, m, factors, alpha, cg_steps, NULL);
}

void prism__ranker_als_user_system(float *W, float *b, const float *Y, const float *gram,
                                   const int32_t *items, const float *values, size_t n, int factors,
                                   float alpha)
{
  int F = factors;
  memcpy(W, gram, (size_t)F * F * sizeof *W);
  memset(b, 0, (size_t)F * sizeof *b);
  for (size_t e = 0; e < n; e++) {
    const float *y = Y + (size_t)items[e] * F;
    float v = values ? values[e] : 1.0f, c = alpha * fabsf(v);
    for (int a = 0; a < F; a++)
      prism__linalg_saxpy(W + (size_t)a * F, c * y[a], y, (size_t)F);
    if (v > 0)
      prism__linalg_saxpy(b, 1.0f + c, y, (size_t)F);
  }
}

static double sum_squares(const float *a, size_t n)
{
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += (double)a[i] * a[i];
  return s;
}

/* Items first, then users, so the final user factors answer to the final item factors. */
int prism__ranker_als_fit(prism_ranker *r, const prism__ranker_csr *ui, const prism__ranker_csr *iu,
                          const prism_ranker_params *params)
{
  const prism__ranker_hyper *hp = &r->hp;
  int F = hp->factors;
  float *gram = prism__mallocn((size_t)F * F, sizeof *gram);
  double *loss = params->progress ? prism__calloc((size_t)ui->rows + 1, sizeof *loss) : NULL;
  if (!gram || (params->progress && !loss)) {
    prism__free(gram);
    return PRISM_ERR_NO_MEMORY;
  }
  int rc = PRISM_OK;
  for (int it = 1; it <= hp->iterations && rc == PRISM_OK; it++) {
    prism__ranker_als_gram(gram, r->user_factors, ui->rows, F, hp->regularization);
    rc = solve_rows(r->item_factors, r->user_factors, gram, iu, F, hp->alpha, hp->cg_steps, NULL);
    prism__ranker_als_gram(gram, r->item_factors, iu->rows, F, hp->regularization);
    if (rc == PRISM_OK)
      rc = solve_rows(r->user_factors, r->item_factors, gram, ui, F, hp->alpha, hp->cg_steps, loss);
    if (rc == PRISM_ERR_NUMERIC)
      rc = prism__ranker_diverged(r, it, "conjugate-gradient residuals");
    else if (rc == PRISM_OK)
      rc = prism__ranker_check_diverged(r, it);
    if (rc != PRISM_OK || !params->progress)
      continue;
    double total = hp->regularization * sum_squares(r->item_factors, (size_t)iu->rows * F);
    for (int32_t u = 0; u < ui->rows; u++)
      total += loss[u];
    double nnz = ui->ptr[ui->rows] > 0 ? (double)ui->ptr[ui->rows] : 1.0;
    if (!params->progress(it, hp->iterations, total / nnz, params->progress_payload))
      rc = prism__error(PRISM_ERR_CANCELLED, "ALS training cancelled after iteration %d", it);
  }
  prism__free(gram);
  prism__free(loss);
  return rc;
}
