/*
 * Internal: the building blocks of the BART forward pass. All matrices are
 * row-major float32 with `d` (or the layer's width) floats per row.
 */
#ifndef PRISM__BART_KERNELS_H
#define PRISM__BART_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "bart_internal.h"

/*
 * y[n, out] = x[n, in] W^T + b, optionally times `scale` after the bias (q_proj);
 * through the bfloat16 copy of W when there is one and n is a skinny product.
 */
void prism__bart_linear_fwd(const prism__bart_linear *l, const float *x, size_t n, float scale,
                            float *y);

/* x[i] = LayerNorm(x[i] + add[i]) over rows of d (add may be NULL); eps 1e-5 as BART. */
void prism__bart_add_norm(float *x, const float *add, size_t n, size_t d,
                          const prism__bart_norm *norm);

void prism__bart_activate(float *x, size_t count, prism__bart_act act);

/*
 * x[i] = shared[ids[i]] * scale + positions[pos(i) + 2], then layernorm_embedding,
 * where pos(i) = first + (period ? i % period : 0).
 */
void prism__bart_embed(const prism_bart *m, const prism__bart_stack *stack, const int32_t *ids,
                       size_t n, size_t first, size_t period, float *x);

/*
 * Multi-head attention of n query rows against keys and values kept per
 * "source" (an encoder row, or a cache slot). Query row r reads source
 * slot ? slot[r] : r / group; head h of source s starts at
 * k + s * src_stride + h * head_stride, its keys key_stride floats apart.
 * Keys j with mask[s * mask_stride + j] == 0 are skipped (mask may be NULL).
 */
typedef struct prism__bart_attn_job {
  const float *q; /* [n, d], already scaled */
  float *out;     /* [n, d] */
  size_t n, d, heads, head_dim;
  const float *k, *v;
  const int32_t *slot;
  size_t group, src_stride, head_stride, key_stride, n_keys;
  const uint8_t *mask;
  size_t mask_stride;
} prism__bart_attn_job;

void prism__bart_attention(const prism__bart_attn_job *job);

#endif
