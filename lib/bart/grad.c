/*
 * The building blocks only training needs: attention that keeps its
 * probabilities, dropout, and the backward pass of every forward block.
 *
 * Results never depend on the thread count: work is split into tasks whose
 * outputs no other task writes, and every sum over rows (bias and LayerNorm
 * gradients, embedding rows) is taken by one task in row order.
 */
#include <math.h>
#include <string.h>

#include "bart_internal.h"
#include "common/pool.h"
#include "common/rng.h"
#include "linalg/linalg.h"

/* Column blocks of the row reductions: fixed, so the summation order is too. */
#define COL_BLOCK 64

/* Elements a pool part should have at least: smaller work runs on the caller alone. */
#define PAR_MIN 32768

/* ---- Linear ------------------------------------------------------------------------------ */

typedef struct colsum_job {
  float *dst;
  const float *a, *b; /* dst[j] += sum_i a[i,j] (* b[i,j]) */
  size_t rows, cols;
} colsum_job;

static void colsum_range(void *ctx, size_t begin, size_t end)
{
  const colsum_job *job = ctx;
  double acc[COL_BLOCK];
  for (size_t blk = begin; blk < end; blk++) {
    size_t j0 = blk * COL_BLOCK, j1 = j0 + COL_BLOCK < job->cols ? j0 + COL_BLOCK : job->cols;
    memset(acc, 0, sizeof acc);
    for (size_t i = 0; i < job->rows; i++) {
      const float *a = job->a + i * job->cols, *b = job->b ? job->b + i * job->cols : NULL;
      for (size_t j = j0; j < j1; j++)
        acc[j - j0] += b ? (double)a[j] * b[j] : (double)a[j];
    }
    for (size_t j = j0; j < j1; j++)
      job->dst[j] += (float)acc[j - j0];
  }
}

/* dst[j] += sum over rows of a[i, j] (times b[i, j] when b is non-NULL). */
void prism__bart_colsum(float *dst, const float *a, const float *b, size_t rows, size_t cols)
{
  colsum_job job = { dst, a, b, rows, cols };
  prism__parallel_for((cols + COL_BLOCK - 1) / COL_BLOCK, 1 + PAR_MIN / (rows * COL_BLOCK + 1),
                      colsum_range, &job);
}

void prism__bart_linear_bwd(const prism__bart_linear *l, const float *x, const float *dy, size_t n,
                            float *dx, float dx_beta, float *gw, float *gb)
{
  if (dx)
    prism__linalg_gemm_tiles(0, 0, n, l->in, l->out, 1.0f, dy, l->out, l->w, l->in, dx_beta, dx,
                             l->in);
  prism__linalg_gemm_tiles(1, 0, l->out, l->in, n, 1.0f, dy, l->out, x, l->in, 1.0f, gw, l->in);
  prism__bart_colsum(gb, dy, NULL, n, l->out);
}

/* ---- LayerNorm --------------------------------------------------------------------------- */

typedef struct norm_job {
  float *dx;
  const float *dy, *xhat, *rstd, *w;
  size_t d;
} norm_job;

static void norm_range(void *ctx, size_t begin, size_t end)
{
  const norm_job *job = ctx;
  size_t d = job->d;
  for (size_t i = begin; i < end; i++) {
    const float *dy = job->dy + i * d, *xh = job->xhat + i * d;
    float *dx = job->dx + i * d;
    double m1 = 0.0, m2 = 0.0;
    float a, b;
    for (size_t j = 0; j < d; j++) {
      double g = (double)dy[j] * job->w[j];
      m1 += g;
      m2 += g * xh[j];
    }
    a = (float)(m1 / (double)d);
    b = (float)(m2 / (double)d);
    for (size_t j = 0; j < d; j++)
      dx[j] = job->rstd[i] * (dy[j] * job->w[j] - a - xh[j] * b);
  }
}

void prism__bart_norm_bwd(const float *dy, const float *xhat, const float *rstd, size_t n, size_t d,
                          const prism__bart_norm *norm, float *dx, float *gw, float *gb)
{
  norm_job job = { dx, dy, xhat, rstd, norm->w, d };
  /* The parameter sums read dy before an in-place dx overwrites it. */
  prism__bart_colsum(gw, dy, xhat, n, d);
  prism__bart_colsum(gb, dy, NULL, n, d);
  prism__parallel_for(n, 1 + PAR_MIN / d, norm_range, &job);
}

/* ---- dropout ----------------------------------------------------------------------------- */

typedef struct mask_job {
  uint8_t *mask;
  size_t cols;
  float p;
  uint64_t seed, stream;
} mask_job;

static void mask_range(void *ctx, size_t begin, size_t end)
{
  const mask_job *job = ctx;
  /* Each row draws from its own stream: masks do not depend on how rows are split. */
  uint64_t threshold = (uint64_t)((double)job->p * 18446744073709551616.0);
  for (size_t i = begin; i < end; i++) {
    prism__rng rng;
    prism__rng_seed(&rng, job->seed, job->stream * 0x9e3779b97f4a7c15ull + i);
    for (size_t j = 0; j < job->cols; j++)
      job->mask[i * job->cols + j] = prism__rng_next(&rng) >= threshold;
  }
}

void prism__bart_dropout_mask(uint8_t *mask, size_t rows, size_t cols, float p, uint64_t seed,
                              uint64_t stream)
{
  mask_job job = { mask, cols, p, seed, stream };
  prism__parallel_for(rows, 1 + PAR_MIN / (cols + 1), mask_range, &job);
}

void prism__bart_dropout_apply(float *x, const uint8_t *mask, size_t count, float p)
{
  float scale = 1.0f / (1.0f - p);
  for (size_t i = 0; i < count; i++)
    x[i] = mask[i] ? x[i] * scale : 0.0f;
}

/* ---- attention --------------------------------------------------------------------------- */

/*
 * Each (batch row, head) is one task; its six products go to SGEMM on the
 * thread that runs the task (OpenBLAS on one thread, see prism__bart_train_step),
 * with K in fixed blocks, so no result depends on the thread count.
 */

static int allowed(const prism__bart_attn_train *job, size_t b, size_t i, size_t j)
{
  return (!job->key_mask || job->key_mask[b * job->tk + j]) && (!job->causal || j <= i);
}

/* Scratch floats one task uses: the dropped-out probabilities and the gradient of them. */
size_t prism__bart_attention_scratch(size_t tq, size_t tk, size_t head_dim)
{
  (void)head_dim;
  return 2 * tq * tk;
}

/* C = op(A) op(B) (beta 0), row-major with leading dimensions. */
static void gemm(int ta, int tb, size_t m, size_t n, size_t k, const float *a, size_t lda,
                 const float *b, size_t ldb, float *c, size_t ldc)
{
  prism__linalg_sgemm_fixed(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}

/* The probabilities the context used: p, or p * mask / (1 - pdrop) with attention dropout. */
static const float *used_probs(const prism__bart_attn_train *job, size_t task, float *buf)
{
  size_t n = job->tq * job->tk;
  const float *p = job->p + task * n;
  const uint8_t *mask = job->pmask ? job->pmask + task * n : NULL;
  float scale = 1.0f / (1.0f - job->pdrop);
  if (!mask)
    return p;
  for (size_t i = 0; i < n; i++)
    buf[i] = mask[i] ? p[i] * scale : 0.0f;
  return buf;
}

/* Scores to probabilities in place, row by row (no key allowed: uniform, as HF's additive mask). */
static void softmax_rows(const prism__bart_attn_train *job, size_t b, float *p)
{
  size_t tk = job->tk;
  for (size_t i = 0; i < job->tq; i++) {
    float *row = p + i * tk, max = -INFINITY, sum = 0.0f;
    int any = 0;
    for (size_t j = 0; j < tk; j++)
      if (allowed(job, b, i, j)) {
        max = row[j] > max ? row[j] : max;
        any = 1;
      }
    for (size_t j = 0; j < tk; j++) {
      row[j] = any ? (allowed(job, b, i, j) ? expf(row[j] - max) : 0.0f) : 1.0f;
      sum += row[j];
    }
    for (size_t j = 0; j < tk; j++)
      row[j] /= sum;
  }
}

static void attn_fwd_range(void *ctx, size_t begin, size_t end)
{
  const prism__bart_attn_train *job = ctx;
  size_t d = job->d, hd = job->head_dim, tq = job->tq, tk = job->tk;
  for (size_t task = begin; task < end; task++) {
    size_t b = task / job->heads, h = task % job->heads;
    size_t off_q = b * tq * d + h * hd, off_k = b * tk * d + h * hd;
    float *p = job->p + task * tq * tk;
    float *scratch = job->scratch + task * prism__bart_attention_scratch(tq, tk, hd);
    gemm(0, 1, tq, tk, hd, job->q + off_q, d, job->k + off_k, d, p, tk); /* scores */
    softmax_rows(job, b, p);
    gemm(0, 0, tq, hd, tk, used_probs(job, task, scratch), tk, job->v + off_k, d, job->ctx + off_q,
         d);
  }
}

void prism__bart_attention_train(const prism__bart_attn_train *job)
{
  prism__parallel_for(job->batch * job->heads, 1, attn_fwd_range, (void *)job);
}

/* dS = P * (dP - rowsum(P * dP)) in place over dP, dP first taken through the dropout mask. */
static void softmax_bwd(const prism__bart_attn_train *job, size_t task, float *dp)
{
  size_t tq = job->tq, tk = job->tk;
  const float *p = job->p + task * tq * tk;
  const uint8_t *mask = job->pmask ? job->pmask + task * tq * tk : NULL;
  float scale = 1.0f / (1.0f - job->pdrop);
  for (size_t i = 0; i < tq; i++) {
    float *row = dp + i * tk;
    const float *pr = p + i * tk;
    double c = 0.0;
    for (size_t j = 0; j < tk; j++) {
      if (mask)
        row[j] = mask[i * tk + j] ? row[j] * scale : 0.0f;
      c += (double)pr[j] * row[j];
    }
    for (size_t j = 0; j < tk; j++)
      row[j] = pr[j] * (row[j] - (float)c);
  }
}

static void attn_bwd_range(void *ctx, size_t begin, size_t end)
{
  const prism__bart_attn_train *job = ctx;
  size_t d = job->d, hd = job->head_dim, tq = job->tq, tk = job->tk;
  for (size_t task = begin; task < end; task++) {
    size_t b = task / job->heads, h = task % job->heads;
    size_t off_q = b * tq * d + h * hd, off_k = b * tk * d + h * hd;
    float *s1 = job->scratch + task * prism__bart_attention_scratch(tq, tk, hd), *s2 = s1 + tq * tk;
    const float *dc = job->dctx + off_q;
    gemm(1, 0, tk, hd, tq, used_probs(job, task, s1), tk, dc, d, job->dv + off_k, d); /* P'^T dC */
    gemm(0, 1, tq, tk, hd, dc, d, job->v + off_k, d, s2, tk);                         /* dC V^T */
    softmax_bwd(job, task, s2);
    gemm(0, 0, tq, hd, tk, s2, tk, job->k + off_k, d, job->dq + off_q, d); /* dS K */
    gemm(1, 0, tk, hd, tq, s2, tk, job->q + off_q, d, job->dk + off_k, d); /* dS^T Q */
  }
}

void prism__bart_attention_bwd(const prism__bart_attn_train *job)
{
  prism__parallel_for(job->batch * job->heads, 1, attn_bwd_range, (void *)job);
}

/* ---- embeddings -------------------------------------------------------------------------- */

typedef struct embed_job {
  float *gtok, *gpos;
  const float *de;
  const int32_t *ids;
  size_t n, len, d;
  int32_t skip; /* padding_idx: its row gets no gradient from lookups */
  float scale;
} embed_job;

static void embed_range(void *ctx, size_t begin, size_t end)
{
  const embed_job *job = ctx;
  size_t d = job->d;
  for (size_t blk = begin; blk < end; blk++) {
    size_t j0 = blk * COL_BLOCK, j1 = j0 + COL_BLOCK < d ? j0 + COL_BLOCK : d;
    for (size_t i = 0; i < job->n; i++) {
      const float *de = job->de + i * d;
      float *pos = job->gpos + (i % job->len + PRISM__BART_POSITION_OFFSET) * d;
      for (size_t j = j0; j < j1; j++)
        pos[j] += de[j];
      if (job->ids[i] == job->skip)
        continue;
      float *tok = job->gtok + (size_t)job->ids[i] * d;
      for (size_t j = j0; j < j1; j++)
        tok[j] += de[j] * job->scale;
    }
  }
}

void prism__bart_embed_bwd(const prism_bart *m, const int32_t *ids, size_t n, size_t len,
                           const float *de, float *gtok, float *gpos)
{
  embed_job job = { gtok,
                    gpos,
                    de,
                    ids,
                    n,
                    len,
                    (size_t)m->cfg.d_model,
                    m->cfg.pad_token_id,
                    prism__bart_embed_scale(m) };
  prism__parallel_for((job.d + COL_BLOCK - 1) / COL_BLOCK, 1 + PAR_MIN / (n * COL_BLOCK + 1),
                      embed_range, &job);
}
