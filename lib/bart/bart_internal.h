/*
 * Internal to lib/bart: the model's configuration and weight layout, and the
 * pieces shared by the loader (load.c, config.c, weights.c) and the forward
 * pass (kernels.c, session.c). Other modules reach a model only through
 * <prism/bart.h>.
 */
#ifndef PRISM__BART_INTERNAL_H
#define PRISM__BART_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/json.h"
#include "common/safetensors.h"
#include "prism/bart.h"

typedef enum prism__bart_act {
  PRISM__BART_ACT_GELU, /* exact erf GELU */
  PRISM__BART_ACT_RELU,
  PRISM__BART_ACT_GELU_NEW, /* tanh approximation */
  PRISM__BART_ACT_SILU,
} prism__bart_act;

/* Everything in config.json that changes inference. */
typedef struct prism__bart_config {
  int32_t vocab_size, d_model;
  int32_t encoder_layers, decoder_layers;
  int32_t encoder_heads, decoder_heads;
  int32_t encoder_ffn_dim, decoder_ffn_dim;
  int32_t max_position_embeddings;
  int scale_embedding;
  prism__bart_act activation;
  const char *activation_name;                                              /* static string */
  int32_t pad_token_id, bos_token_id, eos_token_id, decoder_start_token_id; /* -1: null */
} prism__bart_config;

/* A configuration file as loaded: its text (kept for <prism/generate.h>) and where it came from. */
typedef struct prism__bart_text {
  char *text; /* NULL when the model has no such file */
  size_t len;
  char *source;
} prism__bart_text;

/* A PyTorch Linear: w [out, in], b [out]; w16 its bfloat16 copy or NULL. */
typedef struct prism__bart_linear {
  const float *w, *b;
  const uint16_t *w16;
  size_t out, in;
} prism__bart_linear;

typedef struct prism__bart_norm {
  const float *w, *b;
} prism__bart_norm;

typedef struct prism__bart_attn {
  prism__bart_linear q, k, v, o;
  size_t heads, head_dim;
} prism__bart_attn;

typedef struct prism__bart_layer {
  prism__bart_attn self_attn;
  prism__bart_norm self_attn_ln;
  prism__bart_attn cross_attn; /* decoder layers only */
  prism__bart_norm cross_attn_ln;
  prism__bart_linear fc1, fc2;
  prism__bart_norm final_ln;
} prism__bart_layer;

typedef struct prism__bart_stack {
  const float *positions; /* [max_position_embeddings + 2, d_model] */
  prism__bart_norm ln_embedding;
  prism__bart_layer *layers;
  size_t n_layers;
} prism__bart_stack;

struct prism_bart {
  prism__bart_config cfg;
  prism__bart_text config, generation; /* config.json, generation_config.json */
  const float *shared;                 /* [vocab, d_model]: embeddings and the tied LM head */
  const float *final_logits_bias;      /* [vocab] or NULL (zeros) */
  prism__bart_stack encoder, decoder;
  prism__st_file *shards; /* the safetensors images the weights point into */
  size_t n_shards;
  float **owned; /* converted (F16/BF16/unaligned) tensors */
  size_t n_owned;
  uint16_t *bf16;            /* PRISM_BART_LOAD_BF16_WEIGHTS: every w16 points here */
  const uint16_t *lm_head16; /* the LM head in bf16, or NULL */
};

/* The position table holds max_position_embeddings + 2 rows; position t reads row t + 2. */
#define PRISM__BART_POSITION_OFFSET 2

/* config.c: a JSON text that must be an object (errors name `what`). */
int prism__bart_json_object(const char *text, size_t len, const char *what, json_t **root);

/* config.c: the architecture and special ids of config.json (`what` names the file). */
int prism__bart_parse_config(const char *config_json, size_t config_len, const char *what,
                             prism__bart_config *cfg);

/* load.c: bind every weight from the model's shards, checking shapes against cfg. */
int prism__bart_bind_weights(prism_bart *model, const char *what);

/* weights.c: the bfloat16 copies of PRISM_BART_LOAD_BF16_WEIGHTS. */
int prism__bart_pack_bf16(prism_bart *model);

/* ---- kernels.h ---- */
/*
 * Internal: the building blocks of the BART forward pass. All matrices are
 * row-major float32 with `d` (or the layer's width) floats per row.
 */
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
