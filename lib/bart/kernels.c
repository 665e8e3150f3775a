#include <math.h>
#include <string.h>

#include "common/pool.h"
#include "bart_internal.h"
#include "linalg/linalg.h"

#define LAYER_NORM_EPS 1e-5

void prism__bart_linear_fwd(const prism__bart_linear *l, const float *x, size_t n, float scale,
                            float *y, unsigned flags, void *scratch)
{
  if (l->packed.data)
    prism__linalg_matmul(n, x, l->in, &l->packed, l->b, y, l->out, 0, scratch);
  else
    prism__linalg_linear(n, l->out, l->in, x, l->in, l->w, l->in, l->b, y, l->out, flags);
  if (scale != 1.0f)
    for (size_t i = 0; i < n * l->out; i++)
      y[i] *= scale;
}

/*
 * LayerNorm of one row in place (mean and variance in double, as BART's
 * reference); xhat and rstd, when non-NULL, keep the normalised row and 1/std
 * for the backward pass. Both paths round identically.
 */
static void layer_norm_row(float *x, size_t d, const prism__bart_norm *norm, float *xhat,
                           float *rstd)
{
  double mean = 0.0, var = 0.0;
  float inv;
  for (size_t j = 0; j < d; j++)
    mean += x[j];
  mean /= (double)d;
  for (size_t j = 0; j < d; j++)
    var += ((double)x[j] - mean) * ((double)x[j] - mean);
  inv = (float)(1.0 / sqrt(var / (double)d + LAYER_NORM_EPS));
  if (rstd)
    *rstd = inv;
  for (size_t j = 0; j < d; j++) {
    float h = (x[j] - (float)mean) * inv;
    if (xhat)
      xhat[j] = h;
    x[j] = h * norm->w[j] + norm->b[j];
  }
}

typedef struct norm_job {
  float *x;
  const float *add;
  size_t d;
  const prism__bart_norm *norm;
  float *xhat, *rstd;
} norm_job;

static void norm_range(void *ctx, size_t begin, size_t end)
{
  const norm_job *job = ctx;
  size_t d = job->d;
  for (size_t i = begin; i < end; i++) {
    float *row = job->x + i * d;
    if (job->add)
      for (size_t j = 0; j < d; j++)
        row[j] += job->add[i * d + j];
    layer_norm_row(row, d, job->norm, job->xhat ? job->xhat + i * d : NULL,
                   job->rstd ? job->rstd + i : NULL);
  }
}

/* Rows are independent: split over the pool when there are enough, the same result either way. */
void prism__bart_add_norm(float *x, const float *add, size_t n, size_t d,
                          const prism__bart_norm *norm, float *xhat, float *rstd)
{
  norm_job job = { x, add, d, norm, xhat, rstd };
  if (n * d < 16384)
    norm_range(&job, 0, n);
  else
    prism__parallel_for(n, 16384 / d + 1, norm_range, &job);
}

/* The activations, one element each (GELU runs vectorised: prism__linalg_gelu). */
static inline float gelu_new_inner(float x)
{
  return 0.7978845608028654f * (x + 0.044715f * x * x * x);
}

static inline float gelu_new(float x)
{
  return 0.5f * x * (1.0f + tanhf(gelu_new_inner(x)));
}

static inline float silu(float x)
{
  return x / (1.0f + expf(-x));
}

typedef struct gelu_job {
  float *x;
} gelu_job;

static void gelu_range(void *ctx, size_t begin, size_t end)
{
  prism__linalg_gelu(((gelu_job *)ctx)->x + begin, end - begin);
}

void prism__bart_activate(float *x, size_t count, prism__bart_act act)
{
  switch (act) {
  case PRISM__BART_ACT_GELU: { /* vectorised erf: the same bits for any split of x */
    gelu_job job = { x };
    prism__parallel_for(count, 32768, gelu_range, &job);
    break;
  }
  case PRISM__BART_ACT_RELU:
    for (size_t i = 0; i < count; i++)
      x[i] = x[i] > 0.0f ? x[i] : 0.0f;
    break;
  case PRISM__BART_ACT_GELU_NEW:
    for (size_t i = 0; i < count; i++)
      x[i] = gelu_new(x[i]);
    break;
  case PRISM__BART_ACT_SILU:
    for (size_t i = 0; i < count; i++)
      x[i] = silu(x[i]);
    break;
  }
}

/* The forward values are the expressions of the functions above, with erf/tanh/exp taken once. */
void prism__bart_activate_grad(float *x, float *deriv, size_t count, prism__bart_act act)
{
  switch (act) {
  case PRISM__BART_ACT_GELU:
    for (size_t i = 0; i < count; i++) {
      float v = x[i], e = erff(v * (float)M_SQRT1_2);
      deriv[i] = 0.5f * (1.0f + e) + v * 0.3989422804014327f * expf(-0.5f * v * v);
      x[i] = 0.5f * v * (1.0f + e);
    }
    break;
  case PRISM__BART_ACT_RELU:
    for (size_t i = 0; i < count; i++) {
      deriv[i] = x[i] > 0.0f ? 1.0f : 0.0f;
      x[i] = x[i] > 0.0f ? x[i] : 0.0f;
    }
    break;
  case PRISM__BART_ACT_GELU_NEW:
    for (size_t i = 0; i < count; i++) {
      float v = x[i], t = tanhf(gelu_new_inner(v));
      deriv[i] = 0.5f * (1.0f + t) +
                 0.5f * v * (1.0f - t * t) * 0.7978845608028654f * (1.0f + 0.134145f * v * v);
      x[i] = 0.5f * v * (1.0f + t);
    }
    break;
  case PRISM__BART_ACT_SILU:
    for (size_t i = 0; i < count; i++) {
      float v = x[i], e = expf(-v), sig = 1.0f / (1.0f + e);
      deriv[i] = sig * (1.0f + v * (1.0f - sig));
      x[i] = v / (1.0f + e);
    }
    break;
  }
}

void prism__bart_embed(const prism_bart *m, const prism__bart_stack *stack, const int32_t *ids,
                       size_t n, size_t first, size_t period, float *x, float *xhat, float *rstd)
{
  size_t d = (size_t)m->cfg.d_model;
  float scale = prism__bart_embed_scale(m);
  for (size_t i = 0; i < n; i++) {
    size_t pos = first + (period ? i % period : 0) + PRISM__BART_POSITION_OFFSET;
    const float *tok = m->shared + (size_t)ids[i] * d;
    const float *p = stack->positions + pos * d;
    for (size_t j = 0; j < d; j++)
      x[i * d + j] = tok[j] * scale + p[j];
  }
  prism__bart_add_norm(x, NULL, n, d, &stack->ln_embedding, xhat, rstd);
}

float prism__bart_embed_scale(const prism_bart *m)
{
  return m->cfg.scale_embedding ? sqrtf((float)m->cfg.d_model) : 1.0f;
}

/* Keys scored at a time: a chunk's scores live on the stack. */
#define ATTN_CHUNK 256

/*
 * out = softmax(q K^T) V, keys taken ATTN_CHUNK at a time: a chunk's scores,
 * their exponentials in one vector pass, then the weighted sum of its values;
 * when a later chunk raises the maximum, the partial sums are rescaled. No
 * score matrix is kept. Masked keys weigh exactly 0.
 */
static void attend_one(const float *q, const float *k, const float *v, size_t key_stride,
                       size_t n_keys, const uint8_t *mask, size_t hd, float *out)
{
  float w[ATTN_CHUNK], max = -INFINITY, sum = 0.0f;
  memset(out, 0, hd * sizeof *out);
  for (size_t j0 = 0; j0 < n_keys; j0 += ATTN_CHUNK) {
    size_t n = n_keys - j0 < ATTN_CHUNK ? n_keys - j0 : ATTN_CHUNK;
    float top = max;
    for (size_t j = 0; j < n; j++) {
      w[j] =
          mask && !mask[j0 + j] ? -INFINITY : prism__linalg_dot(q, k + (j0 + j) * key_stride, hd);
      top = w[j] > top ? w[j] : top;
    }
    if (top == -INFINITY)
      continue; /* every key of the chunk masked (so far) */
    if (top > max && max != -INFINITY) {
      float shrink = expf(max - top);
      sum *= shrink;
      for (size_t i = 0; i < hd; i++)
        out[i] *= shrink;
    }
    max = top;
    for (size_t j = 0; j < n; j++)
      w[j] -= max;
    prism__linalg_exp(w, w, n);
    for (size_t j = 0; j < n; j++) {
      if (mask && !mask[j0 + j])
        continue;
      sum += w[j];
      prism__linalg_saxpy(out, w[j], v + (j0 + j) * key_stride, hd);
    }
  }
  if (sum == 0.0f && n_keys) {
    /* Every key masked: HF's additive mask makes the weights uniform. */
    memset(out, 0, hd * sizeof *out);
    for (size_t j = 0; j < n_keys; j++)
      for (size_t i = 0; i < hd; i++)
        out[i] += v[j * key_stride + i];
    sum = (float)n_keys;
  }
  for (size_t i = 0; i < hd; i++)
    out[i] /= sum;
}

static void attention_range(void *ctx, size_t begin, size_t end)
{
  const prism__bart_attn_job *job = ctx;
  for (size_t task = begin; task < end; task++) {
    size_t r = task / job->heads, h = task % job->heads;
    size_t src = job->slot ? (size_t)job->slot[r] : r / job->group;
    size_t off = src * job->src_stride + h * job->head_stride;
    const uint8_t *mask = job->mask ? job->mask + src * job->mask_stride : NULL;
    attend_one(job->q + r * job->d + h * job->head_dim, job->k + off, job->v + off, job->key_stride,
               job->n_keys, mask, job->head_dim, job->out + r * job->d + h * job->head_dim);
  }
}

void prism__bart_attention(const prism__bart_attn_job *job)
{
  size_t work = job->n_keys * job->head_dim;
  size_t grain = work >= 4096 ? 1 : 4096 / (work ? work : 1);
  prism__parallel_for(job->n * job->heads, grain, attention_range, (void *)job);
}
