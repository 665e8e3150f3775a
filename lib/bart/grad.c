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
  prism__parallel_for((cols + COL_BLOCK - 1) / COL_BLOCK, 1, colsum_range, &job);
}

void prism__bart_linear_bwd(const prism__bart_linear *l, const float *x, const float *dy, size_t n,
                            float *dx, float dx_beta, float *gw, float *gb)
{
  if (dx)
    prism__linalg_sgemm_fixed(0, 0, n, l->in, l->out, 1.0f, dy, l->out, l->w, l->in, dx_beta, dx,
                              l->in);
  prism__linalg_sgemm_fixed(1, 0, l->out, l->in, n, 1.0f, dy, l->out, x, l->in, 1.0f, gw, l->in);
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
  prism__parallel_for(n, 16, norm_range, &job);
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
  prism__parallel_for(rows, 16, mask_range, &job);
}

void prism__bart_dropout_apply(float *x, const uint8_t *mask, size_t count, float p)
{
  float scale = 1.0f / (1.0f - p);
  for (size_t i = 0; i < count; i++)
    x[i] = mask[i] ? x[i] * scale : 0.0f;
}

/* ---- attention --------------------------------------------------------------------------- */

static int allowed(const prism__bart_attn_train *job, size_t b, size_t i, size_t j)
{
  return (!job->key_mask || job->key_mask[b * job->tk + j]) && (!job->causal || j <= i);
}

/* The dropped-out probability the context used. */
static float kept(const prism__bart_attn_train *job, size_t at, float p)
{
  if (!job->pmask)
    return p;
  return job->pmask[at] ? p * (1.0f / (1.0f - job->pdrop)) : 0.0f;
}

/* softmax over the allowed keys of one query row (all masked: uniform, as HF's additive mask). */
static void softmax_row(const prism__bart_attn_train *job, size_t b, size_t h, size_t i,
                        const float *q, float *p)
{
  size_t hd = job->head_dim, d = job->d;
  const float *k = job->k + b * job->tk * d + h * hd;
  float max = -INFINITY, sum = 0.0f;
  int any = 0;
  for (size_t j = 0; j < job->tk; j++) {
    if (!allowed(job, b, i, j))
      continue;
    p[j] = prism__linalg_dot(q, k + j * d, hd);
    max = p[j] > max ? p[j] : max;
    any = 1;
  }
  for (size_t j = 0; j < job->tk; j++) {
    float e = any ? (allowed(job, b, i, j) ? expf(p[j] - max) : 0.0f) : 1.0f;
    p[j] = e;
    sum += e;
  }
  for (size_t j = 0; j < job->tk; j++)
    p[j] /= sum;
}

static void attn_fwd_range(void *ctx, size_t begin, size_t end)
{
  const prism__bart_attn_train *job = ctx;
  size_t d = job->d, hd = job->head_dim, tq = job->tq, tk = job->tk;
  for (size_t task = begin; task < end; task++) {
    size_t b = task / job->heads, h = task % job->heads;
    for (size_t i = 0; i < tq; i++) {
      size_t row = (task * tq + i) * tk;
      const float *q = job->q + (b * tq + i) * d + h * hd;
      const float *v = job->v + b * tk * d + h * hd;
      float *p = job->p + row, *out = job->ctx + (b * tq + i) * d + h * hd;
      softmax_row(job, b, h, i, q, p);
      memset(out, 0, hd * sizeof *out);
      for (size_t j = 0; j < tk; j++) {
        float w = kept(job, row + j, p[j]);
        if (w != 0.0f)
          prism__linalg_saxpy(out, w, v + j * d, hd);
      }
    }
  }
}

void prism__bart_attention_train(const prism__bart_attn_train *job)
{
  prism__parallel_for(job->batch * job->heads, 1, attn_fwd_range, (void *)job);
}

static void attn_bwd_range(void *ctx, size_t begin, size_t end)
{
  const prism__bart_attn_train *job = ctx;
  size_t d = job->d, hd = job->head_dim, tq = job->tq, tk = job->tk;
  for (size_t task = begin; task < end; task++) {
    size_t b = task / job->heads, h = task % job->heads;
    const float *k = job->k + b * tk * d + h * hd, *v = job->v + b * tk * d + h * hd;
    float *dk = job->dk + b * tk * d + h * hd, *dv = job->dv + b * tk * d + h * hd;
    float *dp = job->scratch + task * tk;
    for (size_t j = 0; j < tk; j++) {
      memset(dk + j * d, 0, hd * sizeof *dk);
      memset(dv + j * d, 0, hd * sizeof *dv);
    }
    for (size_t i = 0; i < tq; i++) {
      size_t row = (task * tq + i) * tk;
      const float *p = job->p + row, *q = job->q + (b * tq + i) * d + h * hd;
      const float *dc = job->dctx + (b * tq + i) * d + h * hd;
      float *dq = job->dq + (b * tq + i) * d + h * hd;
      double c = 0.0;
      for (size_t j = 0; j < tk; j++) {
        float w = kept(job, row + j, p[j]);
        if (p[j] == 0.0f) {
          dp[j] = 0.0f;
          continue;
        }
        dp[j] = prism__linalg_dot(dc, v + j * d, hd);
        if (w != 0.0f)
          prism__linalg_saxpy(dv + j * d, w, dc, hd);
        dp[j] = kept(job, row + j, dp[j]); /* through the dropout mask, as the probability */
        c += (double)p[j] * dp[j];
      }
      memset(dq, 0, hd * sizeof *dq);
      for (size_t j = 0; j < tk; j++) {
        float ds = p[j] * (dp[j] - (float)c);
        if (ds == 0.0f)
          continue;
        prism__linalg_saxpy(dq, ds, k + j * d, hd);
        prism__linalg_saxpy(dk + j * d, ds, q, hd);
      }
    }
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
  prism__parallel_for((job.d + COL_BLOCK - 1) / COL_BLOCK, 1, embed_range, &job);
}
