/*
 * Binding checkpoint tensors to the model: every tensor the config implies
 * must be present with exactly that shape. F32 tensors are used in place
 * (zero-copy from the mapping); F16, BF16 and misaligned F32 are converted once.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bart_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/pool.h"
#include "linalg/linalg.h"

#define NAME_MAX_LEN 256

typedef struct binder {
  prism_bart *m;
  const char *what; /* the weights file or index, for "missing" messages */
  size_t owned_cap;
} binder;

/* Tensor names appear with the "model." prefix (BartForConditionalGeneration) or without (BartModel). */
static const prism__st_tensor *find(const prism_bart *m, const char *name, const char **file)
{
  char prefixed[NAME_MAX_LEN + 8];
  snprintf(prefixed, sizeof prefixed, "model.%s", name);
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < m->n_shards; i++) {
      const prism__st_tensor *t = prism__st_find(&m->shards[i], pass == 0 ? prefixed : name);
      if (t) {
        *file = m->shards[i].what;
        return t;
      }
    }
  }
  return NULL;
}

static void format_shape(char *buf, size_t size, int ndim, const uint64_t *shape)
{
  size_t used = (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < ndim && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%llu", i ? ", " : "",
                             (unsigned long long)shape[i]);
  if (used < size)
    snprintf(buf + used, size - used, "]");
}

static int check_tensor(const prism__st_tensor *t, const char *file, int ndim,
                        const uint64_t *shape)
{
  char have[128], want[128];
  if (t->dtype != PRISM__ST_F32 && t->dtype != PRISM__ST_F16 && t->dtype != PRISM__ST_BF16)
    return prism__error(PRISM_ERR_UNSUPPORTED,
                        "%s: tensor %s has dtype %s; BART weights must be F32, F16 or BF16", file,
                        t->name, prism__st_dtype_name(t->dtype));
  if (t->ndim == ndim && memcmp(t->shape, shape, (size_t)ndim * sizeof *shape) == 0)
    return PRISM_OK;
  format_shape(have, sizeof have, t->ndim, t->shape);
  format_shape(want, sizeof want, ndim, shape);
  return prism__error(PRISM_ERR_FORMAT, "%s: tensor %s has shape %s, config.json implies %s", file,
                      t->name, have, want);
}

/* F32 data aligned for float access is used in place; anything else gets a converted copy. */
static int to_float(binder *b, const prism__st_tensor *t, const float **out)
{
  float *copy;
  int rc;
  if (t->dtype == PRISM__ST_F32 && (uintptr_t)t->data % sizeof(float) == 0) {
    *out = (const float *)(const void *)t->data;
    return PRISM_OK;
  }
  if (b->m->n_owned == b->owned_cap)
    return prism__error(PRISM_ERR_INTERNAL, "bart: more converted tensors than bound tensors");
  copy = prism__mallocn((size_t)t->numel ? (size_t)t->numel : 1, sizeof *copy);
  if (!copy)
    return PRISM_ERR_NO_MEMORY;
  rc = prism__st_to_f32(t, copy);
  if (rc != PRISM_OK) {
    prism__free(copy);
    return rc;
  }
  b->m->owned[b->m->n_owned++] = copy;
  *out = copy;
  return PRISM_OK;
}

/* Bind the tensor named by one of `names` (first found wins) with the given shape. */
static int bind_any(binder *b, const float **out, int optional, int ndim, const uint64_t *shape,
                    const char *const *names, size_t n_names)
{
  const prism__st_tensor *t = NULL;
  const char *file = NULL;
  int rc;
  for (size_t i = 0; i < n_names && !t; i++)
    t = find(b->m, names[i], &file);
  if (!t) {
    if (optional) {
      *out = NULL;
      return PRISM_OK;
    }
    return prism__error(PRISM_ERR_NOT_FOUND, "%s: tensor model.%s is missing", b->what, names[0]);
  }
  rc = check_tensor(t, file, ndim, shape);
  return rc == PRISM_OK ? to_float(b, t, out) : rc;
}

static int bind(binder *b, const float **out, uint64_t d0, uint64_t d1, const char *fmt, ...)
    PRISM__PRINTF(5, 6);

/* Bind one tensor: shape [d0] when d1 is 0, else [d0, d1]. */
static int bind(binder *b, const float **out, uint64_t d0, uint64_t d1, const char *fmt, ...)
{
  char name[NAME_MAX_LEN];
  const char *names[1] = { name };
  uint64_t shape[2] = { d0, d1 };
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  return bind_any(b, out, 0, d1 ? 2 : 1, shape, names, 1);
}

static int bind_linear(binder *b, prism__bart_linear *l, const char *prefix, size_t out, size_t in)
{
  int rc = bind(b, &l->w, out, in, "%s.weight", prefix);
  if (rc == PRISM_OK)
    rc = bind(b, &l->b, out, 0, "%s.bias", prefix);
  l->out = out;
  l->in = in;
  return rc;
}

static int bind_norm(binder *b, prism__bart_norm *n, const char *prefix, size_t d)
{
  int rc = bind(b, &n->w, d, 0, "%s.weight", prefix);
  return rc == PRISM_OK ? bind(b, &n->b, d, 0, "%s.bias", prefix) : rc;
}

static int bind_attn(binder *b, prism__bart_attn *a, const char *prefix, size_t d, size_t heads)
{
  static const char *const proj[4] = { "q_proj", "k_proj", "v_proj", "out_proj" };
  prism__bart_linear *lin[4] = { &a->q, &a->k, &a->v, &a->o };
  char name[NAME_MAX_LEN];
  int rc = PRISM_OK;
  for (int i = 0; i < 4 && rc == PRISM_OK; i++) {
    snprintf(name, sizeof name, "%s.%s", prefix, proj[i]);
    rc = bind_linear(b, lin[i], name, d, d);
  }
  a->heads = heads;
  a->head_dim = d / heads;
  return rc;
}

/* One layer "encoder.layers.N" or "decoder.layers.N" (the latter with cross-attention). */
static int bind_layer(binder *b, prism__bart_layer *layer, const char *stack, size_t index,
                      int is_decoder)
{
  const prism__bart_config *c = &b->m->cfg;
  size_t d = (size_t)c->d_model;
  size_t heads = (size_t)(is_decoder ? c->decoder_heads : c->encoder_heads);
  size_t ffn = (size_t)(is_decoder ? c->decoder_ffn_dim : c->encoder_ffn_dim);
  char prefix[64], name[NAME_MAX_LEN];
  int rc;
  snprintf(prefix, sizeof prefix, "%s.layers.%zu", stack, index);
#define SUB(s) (snprintf(name, sizeof name, "%s.%s", prefix, (s)), name)
  rc = bind_attn(b, &layer->self_attn, SUB("self_attn"), d, heads);
  if (rc == PRISM_OK)
    rc = bind_norm(b, &layer->self_attn_ln, SUB("self_attn_layer_norm"), d);
  if (rc == PRISM_OK && is_decoder)
    rc = bind_attn(b, &layer->cross_attn, SUB("encoder_attn"), d, heads);
  if (rc == PRISM_OK && is_decoder)
    rc = bind_norm(b, &layer->cross_attn_ln, SUB("encoder_attn_layer_norm"), d);
  if (rc == PRISM_OK)
    rc = bind_linear(b, &layer->fc1, SUB("fc1"), ffn, d);
  if (rc == PRISM_OK)
    rc = bind_linear(b, &layer->fc2, SUB("fc2"), d, ffn);
  if (rc == PRISM_OK)
    rc = bind_norm(b, &layer->final_ln, SUB("final_layer_norm"), d);
#undef SUB
  return rc;
}

static int bind_stack(binder *b, prism__bart_stack *s, const char *name, size_t n_layers,
                      int is_decoder)
{
  const prism__bart_config *c = &b->m->cfg;
  char prefix[NAME_MAX_LEN];
  int rc;
  s->layers = prism__calloc(n_layers ? n_layers : 1, sizeof *s->layers);
  if (!s->layers)
    return PRISM_ERR_NO_MEMORY;
  s->n_layers = n_layers;
  rc = bind(b, &s->positions, (uint64_t)c->max_position_embeddings + PRISM__BART_POSITION_OFFSET,
            (uint64_t)c->d_model, "%s.embed_positions.weight", name);
  snprintf(prefix, sizeof prefix, "%s.layernorm_embedding", name);
  if (rc == PRISM_OK)
    rc = bind_norm(b, &s->ln_embedding, prefix, (size_t)c->d_model);
  for (size_t i = 0; i < n_layers && rc == PRISM_OK; i++)
    rc = bind_layer(b, &s->layers[i], name, i, is_decoder);
  return rc;
}

/* The tied embedding / LM head may be stored under any one of its aliases. */
static int bind_shared(binder *b)
{
  static const char *const aliases[] = {
    "shared.weight",
    "encoder.embed_tokens.weight",
    "decoder.embed_tokens.weight",
    "lm_head.weight",
  };
  const prism__bart_config *c = &b->m->cfg;
  uint64_t shape[2] = { (uint64_t)c->vocab_size, (uint64_t)c->d_model };
  uint64_t bias_shape[2] = { 1, (uint64_t)c->vocab_size };
  static const char *const bias[] = { "final_logits_bias" };
  int rc = bind_any(b, &b->m->shared, 0, 2, shape, aliases, 4);
  return rc == PRISM_OK ? bind_any(b, &b->m->final_logits_bias, 1, 2, bias_shape, bias, 1) : rc;
}

/* An upper bound on the tensors bound: each may need a converted copy. */
static size_t tensor_count(const prism__bart_config *c)
{
  return 2 + 2 * 3 + 16 * (size_t)c->encoder_layers + 26 * (size_t)c->decoder_layers;
}

int prism__bart_bind_weights(prism_bart *model, const char *what)
{
  binder b = { model, what, tensor_count(&model->cfg) };
  int rc;
  model->owned = prism__calloc(b.owned_cap, sizeof *model->owned);
  if (!model->owned)
    return PRISM_ERR_NO_MEMORY;
  rc = bind_shared(&b);
  if (rc == PRISM_OK)
    rc = bind_stack(&b, &model->encoder, "encoder", (size_t)model->cfg.encoder_layers, 0);
  if (rc == PRISM_OK)
    rc = bind_stack(&b, &model->decoder, "decoder", (size_t)model->cfg.decoder_layers, 1);
  return rc;
}

/* ---- PRISM_BART_LOAD_BF16_WEIGHTS ------------------------------------------------------- */

typedef struct {
  const float *src;
  uint16_t *dst;
} bf16_job;

static void bf16_range(void *ctx, size_t begin, size_t end)
{
  const bf16_job *job = ctx;
  prism__linalg_bf16_from_f32(job->dst + begin, job->src + begin, end - begin);
}

static uint16_t *bf16_copy(uint16_t **next, const float *src, size_t count)
{
  bf16_job job = { src, *next };
  prism__parallel_for(count, (size_t)1 << 16, bf16_range, &job);
  *next += count;
  return job.dst;
}

/* The decoder Linear layers a decode step runs (cross-attention K/V run once per request). */
static size_t step_linears(prism__bart_layer *layer, prism__bart_linear **out)
{
  prism__bart_linear *all[] = { &layer->self_attn.q, &layer->self_attn.k,  &layer->self_attn.v,
                                &layer->self_attn.o, &layer->cross_attn.q, &layer->cross_attn.o,
                                &layer->fc1,         &layer->fc2 };
  memcpy(out, all, sizeof all);
  return sizeof all / sizeof *all;
}

int prism__bart_pack_bf16(prism_bart *m)
{
  size_t vocab_d = (size_t)m->cfg.vocab_size * (size_t)m->cfg.d_model, total = vocab_d;
  prism__bart_linear *lin[8];
  uint16_t *next;
  for (size_t l = 0; l < m->decoder.n_layers; l++)
    for (size_t i = 0, n = step_linears(&m->decoder.layers[l], lin); i < n; i++)
      total += lin[i]->out * lin[i]->in;
  m->bf16 = prism__mallocn(total, sizeof *m->bf16);
  if (!m->bf16)
    return PRISM_ERR_NO_MEMORY;
  next = m->bf16;
  m->lm_head16 = bf16_copy(&next, m->shared, vocab_d);
  for (size_t l = 0; l < m->decoder.n_layers; l++)
    for (size_t i = 0, n = step_linears(&m->decoder.layers[l], lin); i < n; i++)
      lin[i]->w16 = bf16_copy(&next, lin[i]->w, lin[i]->out * lin[i]->in);
  return PRISM_OK;
}
