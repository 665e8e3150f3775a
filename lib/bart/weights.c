/*
 * Binding checkpoint tensors to the model: every tensor the config implies
 * must be present with exactly that shape. F32 tensors are used in place
 * (zero-copy from the mapping); F16, BF16 and misaligned F32 are converted once.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bart_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "common/pool.h"
#include "linalg/linalg.h"

typedef struct binder {
  prism_bart *m;
  const char *what; /* the weights file or index, for "missing" messages */
  size_t owned_cap;
} binder;

/* Tensor names appear with the "model." prefix (BartForConditionalGeneration) or without (BartModel). */
static const prism__st_tensor *find(const prism_bart *m, const char *name, const char **file)
{
  char prefixed[PRISM__BART_NAME_MAX + 8];
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

/* ---- the walk: every weight slot of a model in one fixed order ------------------------ */

typedef struct walker {
  prism_bart *m;
  prism__bart_slot_fn fn;
  void *ctx;
  size_t index;
} walker;

static int visit(walker *w, const float **ptr, prism__bart_wkind kind, uint64_t d0, uint64_t d1,
                 const char *const *names, size_t n_names)
{
  prism__bart_slot slot;
  slot.ptr = ptr;
  slot.names = names;
  slot.n_names = n_names;
  slot.ndim = d1 ? 2 : 1;
  slot.shape[0] = d0;
  slot.shape[1] = d1;
  slot.kind = kind;
  slot.index = w->index++;
  return w->fn(w->ctx, &slot);
}

static int visit_named(walker *w, const float **ptr, prism__bart_wkind kind, uint64_t d0,
                       uint64_t d1, const char *fmt, ...) PRISM__PRINTF(6, 7);

/* One tensor named by a format: shape [d0] when d1 is 0, else [d0, d1]. */
static int visit_named(walker *w, const float **ptr, prism__bart_wkind kind, uint64_t d0,
                       uint64_t d1, const char *fmt, ...)
{
  char name[PRISM__BART_NAME_MAX];
  const char *names[1] = { name };
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  return visit(w, ptr, kind, d0, d1, names, 1);
}

static int walk_linear(walker *w, prism__bart_linear *l, const char *prefix, size_t out, size_t in)
{
  int rc;
  l->out = out;
  l->in = in;
  rc = visit_named(w, &l->w, PRISM__BART_W_LINEAR, out, in, "%s.weight", prefix);
  return rc == PRISM_OK ? visit_named(w, &l->b, PRISM__BART_W_BIAS, out, 0, "%s.bias", prefix) : rc;
}

static int walk_norm(walker *w, prism__bart_norm *n, const char *prefix, size_t d)
{
  int rc = visit_named(w, &n->w, PRISM__BART_W_NORM_GAIN, d, 0, "%s.weight", prefix);
  return rc == PRISM_OK ? visit_named(w, &n->b, PRISM__BART_W_NORM_BIAS, d, 0, "%s.bias", prefix)
                        : rc;
}

static int walk_attn(walker *w, prism__bart_attn *a, const char *prefix, size_t d, size_t heads)
{
  static const char *const proj[4] = { "q_proj", "k_proj", "v_proj", "out_proj" };
  prism__bart_linear *lin[4] = { &a->q, &a->k, &a->v, &a->o };
  char name[PRISM__BART_NAME_MAX];
  int rc = PRISM_OK;
  a->heads = heads;
  a->head_dim = d / heads;
  for (int i = 0; i < 4 && rc == PRISM_OK; i++) {
    snprintf(name, sizeof name, "%s.%s", prefix, proj[i]);
    rc = walk_linear(w, lin[i], name, d, d);
  }
  return rc;
}

/* One layer "encoder.layers.N" or "decoder.layers.N" (the latter with cross-attention). */
static int walk_layer(walker *w, prism__bart_layer *layer, const char *stack, size_t index,
                      int is_decoder)
{
  const prism__bart_config *c = &w->m->cfg;
  size_t d = (size_t)c->d_model;
  size_t heads = (size_t)(is_decoder ? c->decoder_heads : c->encoder_heads);
  size_t ffn = (size_t)(is_decoder ? c->decoder_ffn_dim : c->encoder_ffn_dim);
  char prefix[64], name[PRISM__BART_NAME_MAX];
  int rc;
  snprintf(prefix, sizeof prefix, "%s.layers.%zu", stack, index);
#define SUB(s) (snprintf(name, sizeof name, "%s.%s", prefix, (s)), name)
  rc = walk_attn(w, &layer->self_attn, SUB("self_attn"), d, heads);
  if (rc == PRISM_OK)
    rc = walk_norm(w, &layer->self_attn_ln, SUB("self_attn_layer_norm"), d);
  if (rc == PRISM_OK && is_decoder)
    rc = walk_attn(w, &layer->cross_attn, SUB("encoder_attn"), d, heads);
  if (rc == PRISM_OK && is_decoder)
    rc = walk_norm(w, &layer->cross_attn_ln, SUB("encoder_attn_layer_norm"), d);
  if (rc == PRISM_OK)
    rc = walk_linear(w, &layer->fc1, SUB("fc1"), ffn, d);
  if (rc == PRISM_OK)
    rc = walk_linear(w, &layer->fc2, SUB("fc2"), d, ffn);
  if (rc == PRISM_OK)
    rc = walk_norm(w, &layer->final_ln, SUB("final_layer_norm"), d);
#undef SUB
  return rc;
}

static int walk_stack(walker *w, prism__bart_stack *s, const char *name, size_t n_layers,
                      int is_decoder)
{
  const prism__bart_config *c = &w->m->cfg;
  char prefix[PRISM__BART_NAME_MAX];
  int rc;
  if (!s->layers && !(s->layers = prism__calloc(n_layers ? n_layers : 1, sizeof *s->layers)))
    return PRISM_ERR_NO_MEMORY;
  s->n_layers = n_layers;
  rc = visit_named(w, &s->positions, PRISM__BART_W_EMBEDDING,
                   (uint64_t)c->max_position_embeddings + PRISM__BART_POSITION_OFFSET,
                   (uint64_t)c->d_model, "%s.embed_positions.weight", name);
  snprintf(prefix, sizeof prefix, "%s.layernorm_embedding", name);
  if (rc == PRISM_OK)
    rc = walk_norm(w, &s->ln_embedding, prefix, (size_t)c->d_model);
  for (size_t i = 0; i < n_layers && rc == PRISM_OK; i++)
    rc = walk_layer(w, &s->layers[i], name, i, is_decoder);
  return rc;
}

int prism__bart_walk(prism_bart *m, prism__bart_slot_fn fn, void *ctx)
{
  /* The tied embedding / LM head may be stored under any one of its aliases. */
  static const char *const shared[] = {
    "shared.weight",
    "encoder.embed_tokens.weight",
    "decoder.embed_tokens.weight",
    "lm_head.weight",
  };
  static const char *const bias[] = { "final_logits_bias" };
  const prism__bart_config *c = &m->cfg;
  walker w = { m, fn, ctx, 0 };
  int rc = visit(&w, &m->shared, PRISM__BART_W_EMBEDDING, (uint64_t)c->vocab_size,
                 (uint64_t)c->d_model, shared, 4);
  if (rc == PRISM_OK)
    rc =
        visit(&w, &m->final_logits_bias, PRISM__BART_W_BUFFER, 1, (uint64_t)c->vocab_size, bias, 1);
  if (rc == PRISM_OK)
    rc = walk_stack(&w, &m->encoder, "encoder", (size_t)c->encoder_layers, 0);
  if (rc == PRISM_OK)
    rc = walk_stack(&w, &m->decoder, "decoder", (size_t)c->decoder_layers, 1);
  return rc;
}

/* ---- binding checkpoint tensors --------------------------------------------------------- */

/* Bind the tensor named by one of the slot's names (first found wins); final_logits_bias is optional. */
static int bind_slot(void *ctx, const prism__bart_slot *slot)
{
  binder *b = ctx;
  const prism__st_tensor *t = NULL;
  const char *file = NULL;
  int rc;
  for (size_t i = 0; i < slot->n_names && !t; i++)
    t = find(b->m, slot->names[i], &file);
  if (!t) {
    if (slot->kind == PRISM__BART_W_BUFFER) {
      *slot->ptr = NULL;
      return PRISM_OK;
    }
    return prism__error(PRISM_ERR_NOT_FOUND, "%s: tensor model.%s is missing", b->what,
                        slot->names[0]);
  }
  rc = check_tensor(t, file, slot->ndim, slot->shape);
  return rc == PRISM_OK ? to_float(b, t, slot->ptr) : rc;
}

/* An upper bound on the tensors bound: each may need a converted copy. */
static size_t tensor_count(const prism__bart_config *c)
{
  return 2 + 2 * 3 + 16 * (size_t)c->encoder_layers + 26 * (size_t)c->decoder_layers;
}

int prism__bart_bind_weights(prism_bart *model, const char *what)
{
  binder b = { model, what, tensor_count(&model->cfg) };
  model->owned = prism__calloc(b.owned_cap, sizeof *model->owned);
  if (!model->owned)
    return PRISM_ERR_NO_MEMORY;
  return prism__bart_walk(model, bind_slot, &b);
}

/* ---- PRISM_BART_LOAD_BF16_WEIGHTS and PRISM_BART_LOAD_INT8_WEIGHTS ------------------------ */

/*
 * Every Linear weight and the LM head get a packed copy, so that neither an
 * encoder pass nor a decode step reads their float32 pages, which are then
 * released. The embedding lookups still read rows of the float32 table (one
 * page per token), and biases, layer norms and positions stay float32.
 */

/* What int8 mode stores the LM head as: see docs/performance.md, "int8 weights: quality". */
#define INT8_LM_HEAD PRISM__LINALG_W_Q8

#define PACK_ALIGN 64

typedef struct packer {
  prism_bart *m;
  unsigned flags;
  size_t bytes; /* first walk: the arena's size */
  char *next;   /* second walk: where the next matrix goes */
} packer;

static prism__linalg_wtype pack_type(const packer *p, int lm_head)
{
  if (!(p->flags & PRISM_BART_LOAD_INT8_WEIGHTS))
    return PRISM__LINALG_W_BF16;
  return lm_head ? INT8_LM_HEAD : PRISM__LINALG_W_Q8;
}

static size_t align_up(size_t n)
{
  return (n + PACK_ALIGN - 1) / PACK_ALIGN * PACK_ALIGN;
}

static size_t packed_bytes(prism__linalg_wtype type, size_t N, size_t K)
{
  if (type == PRISM__LINALG_W_Q8)
    return align_up(N * prism__linalg_q8_ld(K)) + align_up(N * sizeof(float)) +
           align_up(N * sizeof(int32_t));
  return align_up(N * K * sizeof(uint16_t));
}

typedef struct {
  const float *src;
  size_t K;
  prism__linalg_weight *dst;
  atomic_int *failed;
} pack_job;

static void pack_range(void *ctx, size_t begin, size_t end)
{
  const pack_job *job = ctx;
  const prism__linalg_weight *w = job->dst;
  if (w->type == PRISM__LINALG_W_BF16) {
    prism__linalg_bf16_from_f32((uint16_t *)w->data + begin * w->ld, job->src + begin * job->K,
                                (end - begin) * job->K);
    return;
  }
  if (prism__linalg_q8_quantize((int8_t *)w->data + begin * w->ld, w->ld, (float *)w->scale + begin,
                                (int32_t *)w->rowsum + begin, job->src + begin * job->K, job->K,
                                end - begin, job->K) != 0)
    atomic_store(job->failed, 1);
}

/* Convert src [N, K] into the arena at p->next as `type`; rows in parallel. */
static int pack_one(packer *p, prism__linalg_weight *out, prism__linalg_wtype type,
                    const float *src, size_t N, size_t K, const char *name)
{
  atomic_int failed = 0;
  pack_job job = { src, K, out, &failed };
  char *base = p->next;
  if (type == PRISM__LINALG_W_Q8) {
    *out = prism__linalg_weight_q8((const int8_t *)base,
                                   (const float *)(base + align_up(N * prism__linalg_q8_ld(K))),
                                   (const int32_t *)(base + align_up(N * prism__linalg_q8_ld(K)) +
                                                     align_up(N * sizeof(float))),
                                   N, K);
  } else {
    prism__linalg_weight w = { PRISM__LINALG_W_BF16, N, K, base, K, NULL, NULL };
    *out = w;
  }
  p->next += packed_bytes(type, N, K);
  prism__parallel_for(N, 1 + ((size_t)1 << 16) / (K ? K : 1), pack_range, &job);
  if (atomic_load(&failed))
    return prism__error(PRISM_ERR_FORMAT,
                        "tensor model.%s holds NaN or infinity, which int8 weights cannot "
                        "represent",
                        name);
  return PRISM_OK;
}

/* The float32 pages of a replaced tensor leave the process (a mapped file's pages only). */
static void release(const prism_bart *m, const float *src, size_t count)
{
  for (size_t i = 0; i < m->n_shards; i++)
    prism__file_release(&m->shards[i].file, src, count * sizeof *src);
}

static int pack_slot(void *ctx, const prism__bart_slot *slot)
{
  packer *p = ctx;
  prism_bart *m = p->m;
  size_t N = (size_t)slot->shape[0], K = (size_t)slot->shape[1];
  int lm_head = slot->ptr == &m->shared;
  prism__linalg_wtype type = pack_type(p, lm_head);
  prism__linalg_weight *out;
  int rc;
  if (slot->kind != PRISM__BART_W_LINEAR && !lm_head)
    return PRISM_OK;
  if (!p->next) {
    p->bytes += packed_bytes(type, N, K);
    return PRISM_OK;
  }
  /* A Linear slot is the `w` of its prism__bart_linear. */
  out = lm_head
            ? &m->lm_head
            : &((prism__bart_linear *)(void *)((char *)slot->ptr - offsetof(prism__bart_linear, w)))
                   ->packed;
  rc = pack_one(p, out, type, *slot->ptr, N, K, slot->names[0]);
  if (rc == PRISM_OK)
    release(m, *slot->ptr, N * K);
  return rc;
}

int prism__bart_pack(prism_bart *m, unsigned flags)
{
  packer p = { m, flags, 0, NULL };
  int rc = prism__bart_walk(m, pack_slot, &p);
  if (rc != PRISM_OK)
    return rc;
  m->packed = prism__aligned_alloc(p.bytes ? p.bytes : PACK_ALIGN);
  if (!m->packed)
    return PRISM_ERR_NO_MEMORY;
  p.next = m->packed;
  return prism__bart_walk(m, pack_slot, &p);
}

static size_t max_in(const prism_bart *m)
{
  const prism__bart_config *c = &m->cfg;
  size_t k = (size_t)c->d_model;
  if ((size_t)c->encoder_ffn_dim > k)
    k = (size_t)c->encoder_ffn_dim;
  if ((size_t)c->decoder_ffn_dim > k)
    k = (size_t)c->decoder_ffn_dim;
  return k;
}

size_t prism__bart_scratch_bytes(const prism_bart *m, size_t rows)
{
  prism__linalg_weight w = { PRISM__LINALG_W_Q8, 1, max_in(m), NULL, 0, NULL, NULL };
  size_t q8, bf16;
  if (!m->packed)
    return 0;
  q8 = prism__linalg_matmul_scratch(rows, &w);
  w.type = PRISM__LINALG_W_BF16;
  bf16 = prism__linalg_matmul_scratch(rows, &w);
  return q8 > bf16 ? q8 : bf16;
}
