/*
 * Implicit ALS (Hu, Koren, Volinsky 2008) with the conjugate-gradient solver
 * of Takacs et al. as used by benfred/implicit. An interaction with value v
 * has confidence 1 + alpha*|v| and preference 1 when v > 0, 0 otherwise;
 * every unobserved pair has confidence 1 and preference 0. Each half step
 * solves  (Y'Y + reg*I + sum_j alpha|v_j| y_j y_j') x = sum_j (1 + alpha v_j) p_j y_j
 * for every row, where Y'Y comes from one BLAS syrk shared by all rows.
 */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/pool.h"
#include "linalg/linalg.h"
#include "ranker_internal.h"

/* Rows per parallel chunk: small enough to balance, large enough to amortise dispatch. */
#define ALS_GRAIN 64

static float dot(const float *a, const float *b, int n)
{
  float s = 0.0f;
  for (int k = 0; k < n; k++)
    s += a[k] * b[k];
  return s;
}

static void axpy(float *y, float a, const float *x, int n)
{
  for (int k = 0; k < n; k++)
    y[k] += a * x[k];
}

/* out = G v for a symmetric [n x n] G. */
static void symv(float *out, const float *G, const float *v, int n)
{
  for (int i = 0; i < n; i++)
    out[i] = dot(G + (size_t)i * n, v, n);
}

void prism__als_gram(float *gram, const float *Y, int32_t rows, int factors, float reg)
{
  prism__ssyrk_t((size_t)factors, (size_t)rows, 1.0f, Y, (size_t)factors, 0.0f, gram,
                 (size_t)factors);
  for (int k = 0; k < factors; k++)
    gram[k * factors + k] += reg;
}

typedef struct als_job {
  float *X;
  const float *Y, *gram;
  const prism__csr *m;
  int factors, cg_steps;
  float alpha;
  double *row_loss; /* per row, NULL when no loss is wanted */
} als_job;

/* r = b - A x for row `u` (see the file comment for A and b). */
static void residual(const als_job *j, int32_t u, const float *x, float *r)
{
  int F = j->factors;
  symv(r, j->gram, x, F);
  for (int k = 0; k < F; k++)
    r[k] = -r[k];
  for (int64_t e = j->m->ptr[u]; e < j->m->ptr[u + 1]; e++) {
    const float *y = j->Y + (size_t)j->m->index[e] * F;
    float v = j->m->value[e], c = j->alpha * fabsf(v);
    axpy(r, (v > 0 ? 1.0f + c : 0.0f) - c * dot(y, x, F), y, F);
  }
}

static void solve_row(const als_job *j, int32_t u, float *r, float *p, float *ap)
{
  int F = j->factors;
  float *x = j->X + (size_t)u * F;
  residual(j, u, x, r);
  memcpy(p, r, (size_t)F * sizeof *p);
  float rsold = dot(r, r, F);
  for (int it = 0; it < j->cg_steps && rsold >= 1e-20f; it++) {
    symv(ap, j->gram, p, F);
    for (int64_t e = j->m->ptr[u]; e < j->m->ptr[u + 1]; e++) {
      const float *y = j->Y + (size_t)j->m->index[e] * F;
      axpy(ap, j->alpha * fabsf(j->m->value[e]) * dot(y, p, F), y, F);
    }
    float a = rsold / dot(p, ap, F);
    axpy(x, a, p, F);
    axpy(r, -a, ap, F);
    float rsnew = dot(r, r, F);
    for (int k = 0; k < F; k++)
      p[k] = r[k] + (rsnew / rsold) * p[k];
    rsold = rsnew;
  }
}

/*
 * Weighted squared error of row u over all columns, using
 * sum_all (p - s)^2 = x'Y'Yx + sum_observed [(1 + c)(p - s)^2 - s^2]; with the
 * regularised gram this also adds reg*|x|^2.
 */
static double row_loss(const als_job *j, int32_t u, float *tmp)
{
  int F = j->factors;
  const float *x = j->X + (size_t)u * F;
  symv(tmp, j->gram, x, F);
  double loss = dot(tmp, x, F);
  for (int64_t e = j->m->ptr[u]; e < j->m->ptr[u + 1]; e++) {
    float v = j->m->value[e], c = j->alpha * fabsf(v);
    double s = dot(j->Y + (size_t)j->m->index[e] * F, x, F), d = (v > 0 ? 1.0 : 0.0) - s;
    loss += (1.0 + c) * d * d - s * s;
  }
  return loss;
}

static void als_range(void *ctx, size_t begin, size_t end)
{
  const als_job *j = ctx;
  float r[PRISM_RANKER_MAX_FACTORS], p[PRISM_RANKER_MAX_FACTORS], ap[PRISM_RANKER_MAX_FACTORS];
  for (size_t u = begin; u < end; u++) {
    solve_row(j, (int32_t)u, r, p, ap);
    if (j->row_loss)
      j->row_loss[u] = row_loss(j, (int32_t)u, r);
  }
}

static void solve_rows(float *X, const float *Y, const float *gram, const prism__csr *m,
                       int factors, float alpha, int cg_steps, double *loss)
{
  als_job j = {X, Y, gram, m, factors, cg_steps, alpha, loss};
  prism__parallel_for((size_t)m->rows, ALS_GRAIN, als_range, &j);
}

void prism__als_solve_cg(float *X, const float *Y, const float *gram, const prism__csr *m,
                         int factors, float alpha, int cg_steps)
{
  solve_rows(X, Y, gram, m, factors, alpha, cg_steps, NULL);
}

void prism__als_user_system(float *W, float *b, const float *Y, const float *gram,
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
      axpy(W + (size_t)a * F, c * y[a], y, F);
    if (v > 0)
      axpy(b, 1.0f + c, y, F);
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
int prism__als_fit(prism_ranker *r, const prism__csr *ui, const prism__csr *iu,
                   const prism_ranker_params *params)
{
  const prism__rk_hyper *hp = &r->hp;
  int F = hp->factors;
  float *gram = prism__mallocn((size_t)F * F, sizeof *gram);
  double *loss = params->progress ? prism__calloc((size_t)ui->rows + 1, sizeof *loss) : NULL;
  if (!gram || (params->progress && !loss)) {
    prism__free(gram);
    return PRISM_ERR_NO_MEMORY;
  }
  int rc = PRISM_OK;
  for (int it = 1; it <= hp->iterations && rc == PRISM_OK; it++) {
    prism__als_gram(gram, r->user_factors, ui->rows, F, hp->regularization);
    solve_rows(r->item_factors, r->user_factors, gram, iu, F, hp->alpha, hp->cg_steps, NULL);
    prism__als_gram(gram, r->item_factors, iu->rows, F, hp->regularization);
    solve_rows(r->user_factors, r->item_factors, gram, ui, F, hp->alpha, hp->cg_steps, loss);
    if (!params->progress)
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
