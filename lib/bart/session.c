/*
 * A BART session: encoder states, cross-attention K/V, the self-attention KV
 * cache and scratch, all reserved at creation so the decode loop allocates
 * nothing.
 *
 * Cache layouts keep every attention read contiguous per (row, head):
 *   cross K/V: [decoder layer][encoder row][head][src position][head_dim]
 *   self  K/V: [decoder layer][slot][head][tgt position][head_dim]
 * Decoder row r lives in cache slot slot[r]; reordering rows between beam
 * steps remaps slots and copies only the rows that are duplicated.
 */
#include <math.h>
#include <string.h>

#include "bart_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "bart_internal.h"
#include "linalg/linalg.h"

#define DEFAULT_MAX_BATCH 16
#define DEFAULT_MAX_ROWS 64

/* Size of the first release of prism_bart_session_params (frozen). */
#define SESSION_PARAMS_V1_SIZE \
  (offsetof(prism_bart_session_params, max_target_len) + sizeof(uint32_t))

struct prism_bart_session {
  const prism_bart *model;
  size_t max_batch, max_rows, max_src, max_tgt, max_tokens;
  /* After encode. */
  size_t batch, src_len;
  int encoded;
  uint8_t *src_mask; /* [batch * src_len] */
  float *cross_k, *cross_v;
  /* After decoder_start. */
  size_t rows, rows_per_input, cur_len;
  int decoding;
  float *self_k, *self_v;
  int32_t *slot, *new_slot, *free_slots;
  int32_t *step_tokens; /* [max_rows]: one column of a teacher-forced batch */
  uint8_t *claimed;
  /* Scratch: [max_tokens, d] each, ffn [max_tokens, max ffn], logits [max_rows, vocab]. */
  float *x, *q, *k, *v, *ctx, *tmp, *ffn, *logits;
};

PRISM_API int prism_bart_session_params_init(prism_bart_session_params *params, size_t struct_size)
{
  PRISM_CHECK_ARG(params != NULL);
  PRISM_CHECK_ARG(struct_size >= SESSION_PARAMS_V1_SIZE);
  memset(params, 0, struct_size); /* a newer caller's extra fields default to zero too */
  params->struct_size = struct_size;
  return PRISM_OK;
}

static size_t cross_layer_size(const prism_bart_session *s)
{
  return s->max_batch * s->max_src * (size_t)s->model->cfg.d_model;
}

static size_t self_layer_size(const prism_bart_session *s)
{
  return s->max_rows * s->max_tgt * (size_t)s->model->cfg.d_model;
}

static size_t self_slot_size(const prism_bart_session *s)
{
  return s->max_tgt * (size_t)s->model->cfg.d_model;
}

PRISM_API void prism_bart_session_free(prism_bart_session *s)
{
  if (!s)
    return;
  float *const buffers[] = { s->cross_k, s->cross_v, s->self_k, s->self_v, s->x,   s->q,
                             s->k,       s->v,       s->ctx,    s->tmp,    s->ffn, s->logits };
  for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
    prism__aligned_free(buffers[i]);
  prism__free(s->src_mask);
  prism__free(s->slot);
  prism__free(s->new_slot);
  prism__free(s->free_slots);
  prism__free(s->step_tokens);
  prism__free(s->claimed);
  prism__free(s);
}

static int resolve_capacity(const prism_bart *m, const prism_bart_session_params *p,
                            prism_bart_session *s)
{
  size_t max_pos = (size_t)m->cfg.max_position_embeddings;
  if (p && p->struct_size < SESSION_PARAMS_V1_SIZE)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "prism_bart_session_create: params->struct_size %zu is smaller than "
                        "version 1 (%zu); call prism_bart_session_params_init",
                        p->struct_size, (size_t)SESSION_PARAMS_V1_SIZE);
  s->max_batch = p && p->max_batch ? p->max_batch : DEFAULT_MAX_BATCH;
  s->max_rows = p && p->max_rows ? p->max_rows : DEFAULT_MAX_ROWS;
  s->max_src = p && p->max_source_len ? p->max_source_len : max_pos;
  s->max_tgt = p && p->max_target_len ? p->max_target_len : max_pos;
  if (s->max_src > max_pos || s->max_tgt > max_pos)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "prism_bart_session_create: max_source_len %zu / max_target_len %zu "
                        "exceed the model's max_position_embeddings %zu",
                        s->max_src, s->max_tgt, max_pos);
  if (s->max_rows > INT32_MAX)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "prism_bart_session_create: max_rows too large");
  s->max_tokens = s->max_batch * s->max_src > s->max_rows ? s->max_batch * s->max_src : s->max_rows;
  return PRISM_OK;
}

/* An aligned float buffer of a * b * c elements, overflow-checked. */
static int alloc_floats(float **out, size_t a, size_t b, size_t c)
{
  size_t n, bytes;
  if (!prism__mul_ok(a, b, &n) || !prism__mul_ok(n, c, &n) ||
      !prism__mul_ok(n, sizeof(float), &bytes))
    return prism__error(PRISM_ERR_LIMIT, "bart session: requested capacity overflows size_t");
  *out = prism__aligned_alloc(bytes);
  return *out ? PRISM_OK : PRISM_ERR_NO_MEMORY;
}

static int alloc_session(prism_bart_session *s)
{
  const prism__bart_config *c = &s->model->cfg;
  size_t d = (size_t)c->d_model, L = (size_t)c->decoder_layers;
  size_t ffn =
      (size_t)(c->encoder_ffn_dim > c->decoder_ffn_dim ? c->encoder_ffn_dim : c->decoder_ffn_dim);
  float **scratch[] = { &s->x, &s->q, &s->k, &s->v, &s->ctx, &s->tmp };
  int rc = PRISM_OK;
  for (size_t i = 0; i < sizeof scratch / sizeof scratch[0] && rc == PRISM_OK; i++)
    rc = alloc_floats(scratch[i], s->max_tokens, d, 1);
  if (rc == PRISM_OK)
    rc = alloc_floats(&s->ffn, s->max_tokens, ffn, 1);
  if (rc == PRISM_OK)
    rc = alloc_floats(&s->logits, s->max_rows, (size_t)c->vocab_size, 1);
  if (rc == PRISM_OK)
    rc = alloc_floats(&s->cross_k, L, cross_layer_size(s), 1);
  if (rc == PRISM_OK)
    rc = alloc_floats(&s->cross_v, L, cross_layer_size(s), 1);
  if (rc == PRISM_OK)
    rc = alloc_floats(&s->self_k, L, self_layer_size(s), 1);
  if (rc == PRISM_OK)
    rc = alloc_floats(&s->self_v, L, self_layer_size(s), 1);
  if (rc != PRISM_OK)
    return rc;
  s->src_mask = prism__mallocn(s->max_batch, s->max_src);
  s->slot = prism__mallocn(s->max_rows, sizeof *s->slot);
  s->new_slot = prism__mallocn(s->max_rows, sizeof *s->new_slot);
  s->free_slots = prism__mallocn(s->max_rows, sizeof *s->free_slots);
  s->claimed = prism__mallocn(s->max_rows, sizeof *s->claimed);
  s->step_tokens = prism__mallocn(s->max_rows, sizeof *s->step_tokens);
  if (!s->src_mask || !s->slot || !s->new_slot || !s->free_slots || !s->claimed || !s->step_tokens)
    return PRISM_ERR_NO_MEMORY;
  return PRISM_OK;
}

PRISM_API int prism_bart_session_create(prism_bart_session **out, const prism_bart *model,
                                        const prism_bart_session_params *params)
{
  prism_bart_session *s;
  int rc;
  PRISM_CHECK_ARG(out != NULL);
  PRISM_CHECK_ARG(model != NULL);
  *out = NULL;
  s = prism__calloc(1, sizeof *s);
  if (!s)
    return PRISM_ERR_NO_MEMORY;
  s->model = model;
  rc = resolve_capacity(model, params, s);
  if (rc == PRISM_OK)
    rc = alloc_session(s);
  if (rc != PRISM_OK) {
    prism_bart_session_free(s);
    return rc;
  }
  *out = s;
  return PRISM_OK;
}

/* ---- encoder ---------------------------------------------------------------------------- */

static int check_tokens(const prism_bart *m, const int32_t *ids, size_t n, const char *fn)
{
  for (size_t i = 0; i < n; i++)
    if (ids[i] < 0 || ids[i] >= m->cfg.vocab_size)
      return prism__error(PRISM_ERR_OUT_OF_RANGE,
                          "%s: token %d at index %zu is outside the "
                          "vocabulary [0, %d)",
                          fn, (int)ids[i], i, (int)m->cfg.vocab_size);
  return PRISM_OK;
}

static int read_mask(prism_bart_session *s, const int32_t *ids, const int32_t *mask, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (mask && mask[i] != 0 && mask[i] != 1)
      return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                          "prism_bart_session_encode: "
                          "attention_mask[%zu] = %d (must be 0 or 1)",
                          i, (int)mask[i]);
    s->src_mask[i] = (uint8_t)(mask ? mask[i] : ids[i] != s->model->cfg.pad_token_id);
  }
  return PRISM_OK;
}

static float query_scale(const prism__bart_attn *a)
{
  return 1.0f / sqrtf((float)a->head_dim);
}

/* x = LN(x + out_proj(attention)), given the job's keys and values; q is projected here. */
static void attention_block(prism_bart_session *s, const prism__bart_attn *a,
                            const prism__bart_norm *ln, prism__bart_attn_job *job)
{
  size_t d = (size_t)s->model->cfg.d_model;
  prism__bart_linear_fwd(&a->q, s->x, job->n, query_scale(a), s->q);
  job->q = s->q;
  job->out = s->ctx;
  job->d = d;
  job->heads = a->heads;
  job->head_dim = a->head_dim;
  prism__bart_attention(job);
  prism__bart_linear_fwd(&a->o, s->ctx, job->n, 1.0f, s->tmp);
  prism__bart_add_norm(s->x, s->tmp, job->n, d, ln);
}

static void ffn_block(prism_bart_session *s, const prism__bart_layer *layer, size_t n)
{
  prism__bart_linear_fwd(&layer->fc1, s->x, n, 1.0f, s->ffn);
  prism__bart_activate(s->ffn, n * layer->fc1.out, s->model->cfg.activation);
  prism__bart_linear_fwd(&layer->fc2, s->ffn, n, 1.0f, s->tmp);
  prism__bart_add_norm(s->x, s->tmp, n, (size_t)s->model->cfg.d_model, &layer->final_ln);
}

static void encoder_layer(prism_bart_session *s, const prism__bart_layer *layer, size_t n)
{
  size_t d = (size_t)s->model->cfg.d_model;
  prism__bart_attn_job job = { 0 };
  prism__bart_linear_fwd(&layer->self_attn.k, s->x, n, 1.0f, s->k);
  prism__bart_linear_fwd(&layer->self_attn.v, s->x, n, 1.0f, s->v);
  job.n = n;
  job.k = s->k;
  job.v = s->v;
  job.group = s->src_len;
  job.src_stride = s->src_len * d;
  job.head_stride = layer->self_attn.head_dim;
  job.key_stride = d;
  job.n_keys = s->src_len;
  job.mask = s->src_mask;
  job.mask_stride = s->src_len;
  attention_block(s, &layer->self_attn, &layer->self_attn_ln, &job);
  ffn_block(s, layer, n);
}

/* Copy projected rows [n, d] into per-head blocks: dst[src][head][pos][hd], pos = row % len. */
static void split_heads(const float *rows, size_t n, size_t len, size_t heads, size_t hd,
                        float *dst)
{
  for (size_t r = 0; r < n; r++)
    for (size_t h = 0; h < heads; h++)
      memcpy(dst + (((r / len) * heads + h) * len + r % len) * hd, rows + (r * heads + h) * hd,
             hd * sizeof *dst);
}

/* Cross-attention keys and values of every decoder layer from the encoder output in s->x. */
static void project_cross_kv(prism_bart_session *s)
{
  const prism_bart *m = s->model;
  size_t n = s->batch * s->src_len;
  for (size_t l = 0; l < m->decoder.n_layers; l++) {
    const prism__bart_attn *a = &m->decoder.layers[l].cross_attn;
    prism__bart_linear_fwd(&a->k, s->x, n, 1.0f, s->tmp);
    split_heads(s->tmp, n, s->src_len, a->heads, a->head_dim, s->cross_k + l * cross_layer_size(s));
    prism__bart_linear_fwd(&a->v, s->x, n, 1.0f, s->tmp);
    split_heads(s->tmp, n, s->src_len, a->heads, a->head_dim, s->cross_v + l * cross_layer_size(s));
  }
}

PRISM_API int prism_bart_session_encode(prism_bart_session *s, const int32_t *input_ids,
                                        const int32_t *attention_mask, size_t batch, size_t src_len,
                                        float *hidden)
{
  const prism_bart *m;
  size_t n;
  int rc;
  PRISM_CHECK_ARG(s != NULL);
  PRISM_CHECK_ARG(input_ids != NULL);
  PRISM_CHECK_ARG(batch >= 1 && src_len >= 1);
  if (batch > s->max_batch || src_len > s->max_src)
    return prism__error(PRISM_ERR_LIMIT,
                        "prism_bart_session_encode: batch %zu x src_len %zu "
                        "exceeds the session capacity %zu x %zu",
                        batch, src_len, s->max_batch, s->max_src);
  m = s->model;
  n = batch * src_len;
  rc = check_tokens(m, input_ids, n, "prism_bart_session_encode");
  if (rc == PRISM_OK)
    rc = read_mask(s, input_ids, attention_mask, n);
  if (rc != PRISM_OK)
    return rc;
  s->encoded = 0;
  s->decoding = 0;
  s->batch = batch;
  s->src_len = src_len;
  prism__bart_embed(m, &m->encoder, input_ids, n, 0, src_len, s->x);
  for (size_t l = 0; l < m->encoder.n_layers; l++)
    encoder_layer(s, &m->encoder.layers[l], n);
  if (hidden)
    memcpy(hidden, s->x, n * (size_t)m->cfg.d_model * sizeof *hidden);
  project_cross_kv(s);
  s->encoded = 1;
  return PRISM_OK;
}

/* ---- decoder ---------------------------------------------------------------------------- */

PRISM_API int prism_bart_session_decoder_start(prism_bart_session *s, size_t rows_per_input)
{
  size_t rows;
  PRISM_CHECK_ARG(s != NULL);
  PRISM_CHECK_ARG(rows_per_input >= 1);
  if (!s->encoded)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "prism_bart_session_decoder_start: call prism_bart_session_encode first");
  if (!prism__mul_ok(s->batch, rows_per_input, &rows) || rows > s->max_rows)
    return prism__error(PRISM_ERR_LIMIT,
                        "prism_bart_session_decoder_start: %zu inputs x %zu "
                        "rows exceed the session's max_rows %zu",
                        s->batch, rows_per_input, s->max_rows);
  s->rows = rows;
  s->rows_per_input = rows_per_input;
  s->cur_len = 0;
  for (size_t r = 0; r < rows; r++)
    s->slot[r] = (int32_t)r;
  s->decoding = 1;
  return PRISM_OK;
}

/* Append this step's keys and values (rows [rows, d]) at position cur_len of each row's slot. */
static void cache_append(prism_bart_session *s, size_t layer, const prism__bart_attn *a)
{
  size_t hd = a->head_dim, T = s->max_tgt;
  float *k = s->self_k + layer * self_layer_size(s);
  float *v = s->self_v + layer * self_layer_size(s);
  for (size_t r = 0; r < s->rows; r++) {
    size_t base = (size_t)s->slot[r] * self_slot_size(s) + s->cur_len * hd;
    for (size_t h = 0; h < a->heads; h++) {
      memcpy(k + base + h * T * hd, s->k + r * a->heads * hd + h * hd, hd * sizeof *k);
      memcpy(v + base + h * T * hd, s->v + r * a->heads * hd + h * hd, hd * sizeof *v);
    }
  }
}

static void decoder_self_attention(prism_bart_session *s, size_t l, const prism__bart_layer *layer)
{
  const prism__bart_attn *a = &layer->self_attn;
  prism__bart_attn_job job = { 0 };
  prism__bart_linear_fwd(&a->k, s->x, s->rows, 1.0f, s->k);
  prism__bart_linear_fwd(&a->v, s->x, s->rows, 1.0f, s->v);
  cache_append(s, l, a);
  job.n = s->rows;
  job.k = s->self_k + l * self_layer_size(s);
  job.v = s->self_v + l * self_layer_size(s);
  job.slot = s->slot;
  job.src_stride = self_slot_size(s);
  job.head_stride = s->max_tgt * a->head_dim;
  job.key_stride = a->head_dim;
  job.n_keys = s->cur_len + 1;
  attention_block(s, a, &layer->self_attn_ln, &job);
}

static void decoder_cross_attention(prism_bart_session *s, size_t l, const prism__bart_layer *layer)
{
  const prism__bart_attn *a = &layer->cross_attn;
  prism__bart_attn_job job = { 0 };
  job.n = s->rows;
  job.k = s->cross_k + l * cross_layer_size(s);
  job.v = s->cross_v + l * cross_layer_size(s);
  job.group = s->rows_per_input;
  job.src_stride = s->src_len * (size_t)s->model->cfg.d_model;
  job.head_stride = s->src_len * a->head_dim;
  job.key_stride = a->head_dim;
  job.n_keys = s->src_len;
  job.mask = s->src_mask;
  job.mask_stride = s->src_len;
  attention_block(s, a, &layer->cross_attn_ln, &job);
}

static void lm_head(prism_bart_session *s)
{
  const prism_bart *m = s->model;
  size_t V = (size_t)m->cfg.vocab_size, d = (size_t)m->cfg.d_model;
  if (m->lm_head16 && s->rows <= PRISM__LINALG_SKINNY_MAX_M)
    prism__linalg_skinny_gemm_bf16(s->rows, V, d, s->x, d, m->lm_head16, d, m->final_logits_bias,
                                   s->logits, V, 0);
  else
    prism__linalg_linear(s->rows, V, d, s->x, d, m->shared, d, m->final_logits_bias, s->logits, V,
                         0);
}

static int check_step(const prism_bart_session *s, const char *fn)
{
  if (!s->decoding)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: call prism_bart_session_decoder_start first", fn);
  if (s->cur_len >= s->max_tgt)
    return prism__error(PRISM_ERR_LIMIT,
                        "%s: the decoder already holds %zu tokens, the "
                        "session's max_target_len",
                        fn, s->cur_len);
  return PRISM_OK;
}

PRISM_API int prism_bart_session_decoder_step(prism_bart_session *s, const int32_t *tokens,
                                              const float **logits)
{
  const prism_bart *m;
  int rc;
  PRISM_CHECK_ARG(s != NULL);
  PRISM_CHECK_ARG(tokens != NULL);
  PRISM_CHECK_ARG(logits != NULL);
  rc = check_step(s, "prism_bart_session_decoder_step");
  if (rc == PRISM_OK)
    rc = check_tokens(s->model, tokens, s->rows, "prism_bart_session_decoder_step");
  if (rc != PRISM_OK)
    return rc;
  m = s->model;
  prism__bart_embed(m, &m->decoder, tokens, s->rows, s->cur_len, 0, s->x);
  for (size_t l = 0; l < m->decoder.n_layers; l++) {
    const prism__bart_layer *layer = &m->decoder.layers[l];
    decoder_self_attention(s, l, layer);
    decoder_cross_attention(s, l, layer);
    ffn_block(s, layer, s->rows);
  }
  lm_head(s);
  s->cur_len++;
  *logits = s->logits;
  return PRISM_OK;
}

static void copy_slot(prism_bart_session *s, size_t from, size_t to)
{
  const prism__bart_stack *dec = &s->model->decoder;
  for (size_t l = 0; l < dec->n_layers; l++) {
    const prism__bart_attn *a = &dec->layers[l].self_attn;
    for (size_t h = 0; h < a->heads; h++) {
      size_t head = l * self_layer_size(s) + h * s->max_tgt * a->head_dim;
      size_t count = s->cur_len * a->head_dim * sizeof(float);
      memcpy(s->self_k + head + to * self_slot_size(s), s->self_k + head + from * self_slot_size(s),
             count);
      memcpy(s->self_v + head + to * self_slot_size(s), s->self_v + head + from * self_slot_size(s),
             count);
    }
  }
}

/*
 * New row r takes the slot of old row src_rows[r]. A slot wanted by several
 * rows goes to the first; the others get a copy in a slot nobody wants (there
 * are exactly as many unwanted slots as duplicates).
 */
PRISM_API int prism_bart_session_decoder_reorder(prism_bart_session *s, const int32_t *src_rows)
{
  size_t n_free = 0;
  PRISM_CHECK_ARG(s != NULL);
  PRISM_CHECK_ARG(src_rows != NULL);
  if (!s->decoding)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "prism_bart_session_decoder_reorder: "
                                                    "call prism_bart_session_decoder_start first");
  for (size_t r = 0; r < s->rows; r++)
    if (src_rows[r] < 0 || (size_t)src_rows[r] >= s->rows)
      return prism__error(PRISM_ERR_OUT_OF_RANGE,
                          "prism_bart_session_decoder_reorder: "
                          "src_rows[%zu] = %d is outside [0, %zu)",
                          r, (int)src_rows[r], s->rows);
  memset(s->claimed, 0, s->rows);
  for (size_t r = 0; r < s->rows; r++) {
    s->new_slot[r] = s->slot[src_rows[r]];
    s->claimed[s->new_slot[r]] = 1;
  }
  for (size_t p = 0; p < s->rows; p++)
    if (!s->claimed[p])
      s->free_slots[n_free++] = (int32_t)p;
  memset(s->claimed, 0, s->rows);
  for (size_t r = 0; r < s->rows; r++) {
    int32_t p = s->new_slot[r];
    if (s->claimed[p]) {
      int32_t f = s->free_slots[--n_free];
      copy_slot(s, (size_t)p, (size_t)f);
      s->new_slot[r] = f;
    }
    s->claimed[s->new_slot[r]] = 1;
  }
  memcpy(s->slot, s->new_slot, s->rows * sizeof *s->slot);
  return PRISM_OK;
}

PRISM_API int prism_bart_session_forward(prism_bart_session *s, const int32_t *decoder_input_ids,
                                         size_t tgt_len, float *logits)
{
  size_t V, B;
  int rc;
  PRISM_CHECK_ARG(s != NULL);
  PRISM_CHECK_ARG(decoder_input_ids != NULL);
  PRISM_CHECK_ARG(logits != NULL);
  PRISM_CHECK_ARG(tgt_len >= 1);
  if (tgt_len > s->max_tgt)
    return prism__error(PRISM_ERR_LIMIT,
                        "prism_bart_session_forward: tgt_len %zu exceeds the "
                        "session's max_target_len %zu",
                        tgt_len, s->max_tgt);
  if (!s->encoded)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "prism_bart_session_forward: call prism_bart_session_encode first");
  rc = check_tokens(s->model, decoder_input_ids, s->batch * tgt_len, "prism_bart_session_forward");
  if (rc == PRISM_OK)
    rc = prism_bart_session_decoder_start(s, 1);
  if (rc != PRISM_OK)
    return rc;
  V = (size_t)s->model->cfg.vocab_size;
  B = s->batch;
  /* Causal attention over a growing cache gives exactly the teacher-forced result. */
  for (size_t t = 0; t < tgt_len; t++) {
    const float *step;
    for (size_t b = 0; b < B; b++)
      s->step_tokens[b] = decoder_input_ids[b * tgt_len + t];
    rc = prism_bart_session_decoder_step(s, s->step_tokens, &step);
    if (rc != PRISM_OK)
      return rc;
    for (size_t b = 0; b < B; b++)
      memcpy(logits + (b * tgt_len + t) * V, step + b * V, V * sizeof *logits);
  }
  return PRISM_OK;
}

const prism_bart *prism__bart_session_model(const prism_bart_session *s)
{
  return s->model;
}

size_t prism__bart_session_max_target(const prism_bart_session *s)
{
  return s->max_tgt;
}
