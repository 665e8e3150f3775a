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
#include "linalg/linalg.h"
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
  /* Training only: HF's dropout probabilities, LayerDrop and the std of _init_weights. */
  double dropout, attention_dropout, activation_dropout;
  double encoder_layerdrop, decoder_layerdrop;
  double init_std;
} prism__bart_config;

/* A configuration file as loaded: its text (kept for <prism/generate.h>) and where it came from. */
typedef struct prism__bart_text {
  char *text; /* NULL when the model has no such file */
  size_t len;
  char *source;
} prism__bart_text;

/*
 * A PyTorch Linear: w [out, in], b [out]. `packed` is its reduced-precision
 * copy (bfloat16 or Q8, made at load) when packed.data is non-NULL; inference
 * then never reads w, whose pages were released.
 */
typedef struct prism__bart_linear {
  const float *w, *b;
  prism__linalg_weight packed;
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

/* Longest tensor name the walk produces (without "model."). */
#define PRISM__BART_NAME_MAX 128

/* What a weight is; HF's Trainer decays Linear weights and embeddings, not biases or LayerNorms. */
typedef enum prism__bart_wkind {
  PRISM__BART_W_LINEAR,
  PRISM__BART_W_BIAS,
  PRISM__BART_W_NORM_GAIN,
  PRISM__BART_W_NORM_BIAS,
  PRISM__BART_W_EMBEDDING, /* the tied embedding and the position tables */
  PRISM__BART_W_BUFFER,    /* final_logits_bias: a buffer, never trained */
} prism__bart_wkind;

/* One weight slot of a model, as prism__bart_walk visits it. */
typedef struct prism__bart_slot {
  const float **ptr;        /* the model's pointer to the weight */
  const char *const *names; /* HF names without "model." (aliases of the tied embedding) */
  size_t n_names;
  int ndim;
  uint64_t shape[2];
  prism__bart_wkind kind;
  size_t index; /* position in the walk */
} prism__bart_slot;

typedef int (*prism__bart_slot_fn)(void *ctx, const prism__bart_slot *slot);

#include "bart.h" /* prism__bart_param */

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
  /* PRISM_BART_LOAD_BF16_WEIGHTS / _INT8_WEIGHTS: every packed weight lives here. */
  void *packed;
  prism__linalg_weight lm_head; /* its packed copy, or data NULL: the float32 `shared` */
  /* Trainable models (params.c): every parameter in one writable float32 arena. */
  float *arena;
  size_t arena_count;
  prism__bart_param *params; /* the parameter table, in walk order */
  size_t n_params;
};

/* The position table holds max_position_embeddings + 2 rows; position t reads row t + 2. */
#define PRISM__BART_POSITION_OFFSET 2

/* config.c: a JSON text that must be an object (errors name `what`). */
int prism__bart_json_object(const char *text, size_t len, const char *what, json_t **root);

/* config.c: the architecture and special ids of config.json (`what` names the file). */
int prism__bart_parse_config(const char *config_json, size_t config_len, const char *what,
                             prism__bart_config *cfg);

/*
 * weights.c: every weight slot of `m` in one fixed order (the tied embedding,
 * final_logits_bias, then the encoder and decoder stacks), laying out the
 * layer arrays and dimensions from m->cfg on the way. Stops at the first
 * nonzero return of fn.
 */
int prism__bart_walk(prism_bart *m, prism__bart_slot_fn fn, void *ctx);

/* load.c: keep a configuration file's text and where it came from. */
int prism__bart_keep_text(prism__bart_text *t, const char *text, size_t len, const char *source);

/* load.c: bind every weight from the model's shards, checking shapes against cfg. */
int prism__bart_bind_weights(prism_bart *model, const char *what);

/*
 * weights.c: the reduced-precision copies of PRISM_BART_LOAD_BF16_WEIGHTS or
 * PRISM_BART_LOAD_INT8_WEIGHTS (`flags`), and the release of the float32
 * pages they replace.
 */
int prism__bart_pack(prism_bart *model, unsigned flags);

/* The scratch bytes a product of `rows` rows with any of the model's weights needs. */
size_t prism__bart_scratch_bytes(const prism_bart *model, size_t rows);

/* ---- kernels.h ---- */
/*
 * Internal: the building blocks of the BART forward pass. All matrices are
 * row-major float32 with `d` (or the layer's width) floats per row.
 */
/*
 * y[n, out] = x[n, in] W^T + b, optionally times `scale` after the bias (q_proj);
 * through the packed copy of W when there is one (scratch: the bytes
 * prism__bart_scratch_bytes gives for n rows; NULL when nothing is packed).
 * flags: PRISM__LINALG_* (training passes PRISM__LINALG_FIXED).
 */
void prism__bart_linear_fwd(const prism__bart_linear *l, const float *x, size_t n, float scale,
                            float *y, unsigned flags, void *scratch);

/*
 * x[i] = LayerNorm(x[i] + add[i]) over rows of d (add may be NULL); eps 1e-5 as
 * BART. For training, xhat [n, d] and rstd [n] (when non-NULL) keep the
 * normalised rows and 1/std; the result is the same either way.
 */
void prism__bart_add_norm(float *x, const float *add, size_t n, size_t d,
                          const prism__bart_norm *norm, float *xhat, float *rstd);

void prism__bart_activate(float *x, size_t count, prism__bart_act act);

/* The same activation, and deriv[i] = act'(x[i]) of the input (training). */
void prism__bart_activate_grad(float *x, float *deriv, size_t count, prism__bart_act act);

/*
 * x[i] = shared[ids[i]] * scale + positions[pos(i) + 2], then layernorm_embedding,
 * where pos(i) = first + (period ? i % period : 0); xhat and rstd as in
 * prism__bart_add_norm.
 */
void prism__bart_embed(const prism_bart *m, const prism__bart_stack *stack, const int32_t *ids,
                       size_t n, size_t first, size_t period, float *x, float *xhat, float *rstd);

/* sqrt(d_model) when scale_embedding, else 1. */
float prism__bart_embed_scale(const prism_bart *m);

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

/* ---- grad.c: what only training needs ---- */

/*
 * Attention over a padded batch that keeps its probabilities for the backward
 * pass: queries [batch * tq, d], keys and values [batch * tk, d] (head h in
 * columns h * head_dim ...), q already scaled; probabilities p [batch, heads,
 * tq, tk]. Key j of row b is skipped when key_mask[b * tk + j] == 0 or, with
 * causal, when j > i. pmask (or NULL) is the attention dropout mask over p.
 */
typedef struct prism__bart_attn_train {
  const float *q, *k, *v;
  float *p, *ctx;
  const uint8_t *key_mask, *pmask;
  float pdrop;
  int causal;
  size_t batch, tq, tk, d, heads, head_dim;
  float *scratch; /* batch * heads * prism__bart_attention_scratch(tq, tk, head_dim) */
  /* Backward: dctx in; dq [batch * tq, d], dk and dv [batch * tk, d] out (overwritten). */
  const float *dctx;
  float *dq, *dk, *dv;
} prism__bart_attn_train;

size_t prism__bart_attention_scratch(size_t tq, size_t tk, size_t head_dim);

void prism__bart_attention_train(const prism__bart_attn_train *job);
void prism__bart_attention_bwd(const prism__bart_attn_train *job);

/* dst[j] += sum over rows of a[i, j] (times b[i, j] when b is non-NULL), in row order. */
void prism__bart_colsum(float *dst, const float *a, const float *b, size_t rows, size_t cols);

/*
 * Backward of y = x W^T + b over n rows: dx = dy W + dx_beta * dx (dx may be
 * NULL), gw += dy^T x, gb += column sums of dy.
 */
void prism__bart_linear_bwd(const prism__bart_linear *l, const float *x, const float *dy, size_t n,
                            float *dx, float dx_beta, float *gw, float *gb);

/* Backward of LayerNorm over rows (dx may be dy): gw += sum dy * xhat, gb += sum dy. */
void prism__bart_norm_bwd(const float *dy, const float *xhat, const float *rstd, size_t n, size_t d,
                          const prism__bart_norm *norm, float *dx, float *gw, float *gb);

/* A dropout mask (1 = keep, with probability 1 - p) of rows x cols, a function of (seed, stream). */
void prism__bart_dropout_mask(uint8_t *mask, size_t rows, size_t cols, float p, uint64_t seed,
                              uint64_t stream);

/* x = mask ? x / (1 - p) : 0 (also the backward). */
void prism__bart_dropout_apply(float *x, const uint8_t *mask, size_t count, float p);

/*
 * Backward of prism__bart_embed's sum (de: the gradient of the sum before
 * layernorm_embedding): token rows (except padding_idx) get de * scale, position
 * rows (i % len) + 2 get de.
 */
void prism__bart_embed_bwd(const prism_bart *m, const int32_t *ids, size_t n, size_t len,
                           const float *de, float *gtok, float *gpos);

#endif
