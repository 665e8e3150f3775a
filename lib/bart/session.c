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
#include "common/params.h"
#include "linalg/linalg.h"

/* The first released layout of prism_bart_session_params (frozen in tests/abi). */
#define SESSION_PARAMS_V1_SIZE PRISM__LAYOUT_SIZE(prism_bart_session_params, max_target_len)

/* Decoder positions a cache starts with when nobody reserved any; it doubles when full. */
#define FIRST_TARGET_LEN 32

struct prism_bart_session {
  const prism_bart *model;
  prism_bart_session_params caps; /* 0 = no cap */
  /* Reserved: encoder tokens (batch x source length), decoder rows, decoder positions. */
  size_t enc_tokens, map_rows, dec_rows, dec_len, scratch_tokens;
  /* After encode. */
  size_t batch, src_len;
  int encoded;
  int cross_ready;   /* cross K/V projected from the encoder output (still in x until then) */
  uint8_t *src_mask; /* [enc_tokens] */
  float *cross_k, *cross_v; /* [layer][enc_tokens x d] */
  /* After decoder_start. */
  size_t rows, rows_per_input, cur_len;
  int decoding;
  float *self_k, *self_v; /* [layer][dec_rows][dec_len x d] */
  int32_t *slot, *new_slot, *free_slots;
  int32_t *step_tokens; /* [dec_rows]: one column of a teacher-forced batch */
  uint8_t *claimed;
  /* Scratch: [scratch_tokens, d] each, ffn [scratch_tokens, max ffn], logits [dec_rows, vocab]. */
  float *x, *q, *k, *v, *ctx, *tmp, *ffn, *logits;
  void *wscratch; /* packed weights: X rows converted for the kernels (NULL: none packed) */
};

static const prism_bart_session_params session_defaults = { sizeof session_defaults, 0, 0, 0, 0 };

PRISM_API int prism_bart_session_params_init(prism_bart_session_params *params, size_t struct_size)
{
  return PRISM__PARAMS_INIT(params, struct_size, &session_defaults, SESSION_PARAMS_V1_SIZE,
                            "prism_bart_session_params_init");
}

static size_t cross_layer_size(const prism_bart_session *s)
{
  return s->enc_tokens * (size_t)s->model->cfg.d_model;
}

static size_t self_slot_size(const prism_bart_session *s)
{
  return s->dec_len * (size_t)s->model->cfg.d_model;
}

static size_t self_layer_size(const prism_bart_session *s)
{
  return s->dec_rows * self_slot_size(s);
}

/* Aligned float buffers of a * b * c elements each, all or none (overflow-checked). */
static int alloc_floats(float **out[], size_t n, size_t a, size_t b, size_t c)
{
  size_t count, bytes;
  if (!prism__mul_ok(a, b, &count) || !prism__mul_ok(count, c, &count) ||
      !prism__mul_ok(count, sizeof(float), &bytes))
    return prism__error(PRISM_ERR_LIMIT, "bart session: %zu x %zu x %zu floats overflow size_t", a,
                        b, c);
  for (size_t i = 0; i < n; i++) {
    *out[i] = prism__aligned_alloc(bytes ? bytes : sizeof(float));
    if (!*out[i]) {
      while (i--)
        prism__aligned_free(*out[i]);
      return PRISM_ERR_NO_MEMORY;
    }
  }
  return PRISM_OK;
}

static void free_floats(float *buffers[], size_t n)
{
  for (size_t i = 0; i < n; i++)
    prism__aligned_free(buffers[i]);
}

/* Encoder side: the source mask and cross-attention K/V; drops the encoded batch. */
static int grow_encoder(prism_bart_session *s, size_t tokens)
{
  size_t L = (size_t)s->model->cfg.decoder_layers, d = (size_t)s->model->cfg.d_model;
  float *k, *v, **kv[] = { &k, &v };
  uint8_t *mask = prism__malloc(tokens);
  int rc = mask ? alloc_floats(kv, 2, L, tokens, d) : PRISM_ERR_NO_MEMORY;
  if (rc != PRISM_OK) {
    prism__free(mask);
    return rc;
  }
  prism__free(s->src_mask);
  free_floats((float *[]){ s->cross_k, s->cross_v }, 2);
  s->src_mask = mask;
  s->cross_k = k;
  s->cross_v = v;
  s->enc_tokens = tokens;
  s->encoded = s->decoding = 0;
  return PRISM_OK;
}

/* Decoder rows: the row-to-slot maps and the logits; drops a decode in progress. */
static int grow_rows(prism_bart_session *s, size_t rows)
{
  const prism__bart_config *c = &s->model->cfg;
  float *logits, **lg[] = { &logits };
  int32_t *slot = prism__mallocn(rows, sizeof *slot),
          *new_slot = prism__mallocn(rows, sizeof *slot);
  int32_t *free_slots = prism__mallocn(rows, sizeof *slot),
          *step = prism__mallocn(rows, sizeof *slot);
  uint8_t *claimed = prism__malloc(rows);
  int rc = slot && new_slot && free_slots && step && claimed ? PRISM_OK : PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK)
    rc = alloc_floats(lg, 1, rows, (size_t)c->vocab_size, 1);
  if (rc != PRISM_OK) {
    prism__free(slot);
    prism__free(new_slot);
    prism__free(free_slots);
    prism__free(step);
    prism__free(claimed);
    return rc;
  }
  prism__aligned_free(s->logits);
  prism__free(s->slot);
  prism__free(s->new_slot);
  prism__free(s->free_slots);
  prism__free(s->step_tokens);
  prism__free(s->claimed);
  s->logits = logits;
  s->slot = slot;
  s->new_slot = new_slot;
  s->free_slots = free_slots;
  s->step_tokens = step;
  s->claimed = claimed;
  s->map_rows = rows;
  s->decoding = 0;
  return PRISM_OK;
}

/*
 * The self-attention cache for `rows` slots of `len` positions. With `keep`,
 * the first cur_len positions of every slot move over (a cache growing in the
 * middle of a decode); otherwise a decode in progress is dropped.
 */
static int grow_cache(prism_bart_session *s, size_t rows, size_t len, int keep)
{
  const prism__bart_stack *dec = &s->model->decoder;
  size_t d = (size_t)s->model->cfg.d_model, L = dec->n_layers;
  float *k, *v, **kv[] = { &k, &v };
  int rc = alloc_floats(kv, 2, L, rows * len, d);
  if (rc != PRISM_OK)
    return rc;
  for (size_t l = 0; keep && l < L; l++)
    for (size_t slot = 0; slot < s->dec_rows; slot++)
      for (size_t h = 0; h < dec->layers[l].self_attn.heads; h++) {
        size_t hd = dec->layers[l].self_attn.head_dim;
        size_t from = (l * s->dec_rows + slot) * s->dec_len * d + h * s->dec_len * hd;
        size_t to = (l * rows + slot) * len * d + h * len * hd;
        memcpy(k + to, s->self_k + from, s->cur_len * hd * sizeof *k);
        memcpy(v + to, s->self_v + from, s->cur_len * hd * sizeof *v);
      }
  free_floats((float *[]){ s->self_k, s->self_v }, 2);
  s->self_k = k;
  s->self_v = v;
  s->dec_rows = rows;
  s->dec_len = len;
  if (!keep)
    s->decoding = 0;
  return PRISM_OK;
}

/* Per-layer scratch for the larger of an encoder pass and a decoder step (nothing in it persists). */
static int grow_scratch(prism_bart_session *s, size_t tokens)
{
  const prism__bart_config *c = &s->model->cfg;
  size_t ffn =
      (size_t)(c->encoder_ffn_dim > c->decoder_ffn_dim ? c->encoder_ffn_dim : c->decoder_ffn_dim);
  size_t wbytes = prism__bart_scratch_bytes(s->model, tokens);
  float *x, *q, *k, *v, *ctx, *tmp, *f;
  float **rows[] = { &x, &q, &k, &v, &ctx, &tmp }, **wide[] = { &f };
  void *w = NULL;
  int rc = alloc_floats(rows, 6, tokens, (size_t)c->d_model, 1);
  if (rc == PRISM_OK && (rc = alloc_floats(wide, 1, tokens, ffn, 1)) != PRISM_OK)
    free_floats((float *[]){ x, q, k, v, ctx, tmp }, 6);
  if (rc == PRISM_OK && wbytes && !(w = prism__aligned_alloc(wbytes))) {
    free_floats((float *[]){ x, q, k, v, ctx, tmp, f }, 7);
    rc = PRISM_ERR_NO_MEMORY;
  }
  if (rc != PRISM_OK)
    return rc;
  if (s->encoded && !s->cross_ready) /* the encoder output waits in x for decoder_start */
    memcpy(x, s->x, s->batch * s->src_len * (size_t)c->d_model * sizeof *x);
  free_floats((float *[]){ s->x, s->q, s->k, s->v, s->ctx, s->tmp, s->ffn }, 7);
  prism__aligned_free(s->wscratch);
  s->x = x, s->q = q, s->k = k, s->v = v, s->ctx = ctx, s->tmp = tmp, s->ffn = f, s->wscratch = w;
  s->scratch_tokens = tokens;
  return PRISM_OK;
}

PRISM_API void prism_bart_session_free(prism_bart_session *s)
{
  if (!s)
    return;
  free_floats((float *[]){ s->cross_k, s->cross_v, s->self_k, s->self_v, s->x, s->q, s->k, s->v,
                           s->ctx, s->tmp, s->ffn, s->logits },
              12);
  prism__aligned_free(s->wscratch);
  prism__free(s->src_mask);
  prism__free(s->slot);
  prism__free(s->new_slot);
  prism__free(s->free_slots);
  prism__free(s->step_tokens);
  prism__free(s->claimed);
  prism__free(s);
}

/* One dimension of a request against its cap (0: none) and, for lengths, the model's positions. */
static int check_dim(const char *fn, const char *what, size_t value, uint32_t cap, size_t positions)
{
  if (positions && value > positions)
    return prism__error(PRISM_ERR_OUT_OF_RANGE,
                        "%s: %zu %s exceed the model's max_position_embeddings %zu", fn, value,
                        what, positions);
  if (cap && value > cap)
    return prism__error(PRISM_ERR_LIMIT, "%s: %zu %s exceed the session's cap of %u", fn, value,
                        what, (unsigned)cap);
  return PRISM_OK;
}

/*
 * Make room for batch x src_len encoder tokens, `rows` decoder rows and `len`
 * decoder positions (0: leave that side as it is). Each side only grows, to
 * exactly what is asked, and stays as it was when its allocation fails.
 */
static int ensure(prism_bart_session *s, const char *fn, size_t batch, size_t src_len, size_t rows,
                  size_t len)
{
  size_t positions = (size_t)s->model->cfg.max_position_embeddings, tokens;
  int rc = check_dim(fn, "encoder rows (max_batch)", batch, s->caps.max_batch, 0);
  if (rc == PRISM_OK)
    rc =
        check_dim(fn, "source tokens (max_source_len)", src_len, s->caps.max_source_len, positions);
  if (rc == PRISM_OK)
    rc = check_dim(fn, "decoder rows (max_rows)", rows, s->caps.max_rows, 0);
  if (rc == PRISM_OK)
    rc = check_dim(fn, "target tokens (max_target_len)", len, s->caps.max_target_len, positions);
  if (rc != PRISM_OK)
    return rc;
  if (!prism__mul_ok(batch, src_len, &tokens) || rows > INT32_MAX)
    return prism__error(PRISM_ERR_LIMIT,
                        "%s: %zu x %zu encoder tokens, %zu decoder rows: too "
                        "large",
                        fn, batch, src_len, rows);
  if (tokens > s->enc_tokens && (rc = grow_encoder(s, tokens)) != PRISM_OK)
    return rc;
  if (rows > s->map_rows && (rc = grow_rows(s, rows)) != PRISM_OK)
    return rc;
  if ((rows > s->dec_rows || len > s->dec_len) &&
      (rc = grow_cache(s, rows > s->dec_rows ? rows : s->dec_rows,
                       len > s->dec_len ? len : s->dec_len, 0)) != PRISM_OK)
    return rc;
  tokens = s->enc_tokens > s->dec_rows ? s->enc_tokens : s->dec_rows;
  return tokens > s->scratch_tokens ? grow_scratch(s, tokens) : PRISM_OK;
}

PRISM_API int prism_bart_session_create(prism_bart_session **out, const prism_bart *model,
                                        const prism_bart_session_params *params)
{
  prism_bart_session *s;
  prism_bart_session_params caps;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(model != NULL, "model must not be NULL");
  *out = NULL;
  rc = PRISM__PARAMS_READ(&caps, params, &session_defaults, SESSION_PARAMS_V1_SIZE,
                          "prism_bart_session_create");
  if (rc != PRISM_OK)
    return rc;
  if (!(s = prism__calloc(1, sizeof *s)))
    return PRISM_ERR_NO_MEMORY;
  s->model = model;
  s->caps = caps;
  *out = s;
  return PRISM_OK;
}

PRISM_API const prism_bart *prism_bart_session_model(const prism_bart_session *s)
{
  return s ? s->model : NULL;
}

PRISM_API int prism_bart_session_reserve(prism_bart_session *s, size_t batch, size_t rows,
                                         size_t source_len, size_t target_len)
{
  PRISM__CHECK_ARG(s != NULL, "session must not be NULL");
  return ensure(s, "prism_bart_session_reserve", batch, source_len, rows, target_len);
}

/* A full cache doubles (up to what the caps and positions allow), keeping every slot's tokens. */
static int grow_target(prism_bart_session *s, const char *fn)
{
  size_t positions = (size_t)s->model->cfg.max_position_embeddings, limit = positions;
  if (s->caps.max_target_len && s->caps.max_target_len < limit)
    limit = s->caps.max_target_len;
  if (s->dec_len >= limit)
    return check_dim(fn, "target tokens (max_target_len)", s->dec_len + 1, s->caps.max_target_len,
                     positions);
  return grow_cache(s, s->dec_rows, 2 * s->dec_len < limit ? 2 * s->dec_len : limit, 1);
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
  prism__bart_linear_fwd(&a->q, s->x, job->n, query_scale(a), s->q, 0, s->wscratch);
  job->q = s->q;
  job->out = s->ctx;
  job->d = d;
  job->heads = a->heads;
  job->head_dim = a->head_dim;
  prism__bart_attention(job);
  prism__bart_linear_fwd(&a->o, s->ctx, job->n, 1.0f, s->tmp, 0, s->wscratch);
  prism__bart_add_norm(s->x, s->tmp, job->n, d, ln, NULL, NULL);
}

static void ffn_block(prism_bart_session *s, const prism__bart_layer *layer, size_t n)
{
  prism__bart_linear_fwd(&layer->fc1, s->x, n, 1.0f, s->ffn, 0, s->wscratch);
  prism__bart_activate(s->ffn, n * layer->fc1.out, s->model->cfg.activation);
  prism__bart_linear_fwd(&layer->fc2, s->ffn, n, 1.0f, s->tmp, 0, s->wscratch);
  prism__bart_add_norm(s->x, s->tmp, n, (size_t)s->model->cfg.d_model, &layer->final_ln, NULL,
                       NULL);
}

static void encoder_layer(prism_bart_session *s, const prism__bart_layer *layer, size_t n)
{
  size_t d = (size_t)s->model->cfg.d_model;
  prism__bart_attn_job job = { 0 };
  prism__bart_linear_fwd(&layer->self_attn.k, s->x, n, 1.0f, s->k, 0, s->wscratch);
  prism__bart_linear_fwd(&layer->self_attn.v, s->x, n, 1.0f, s->v, 0, s->wscratch);
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
    prism__bart_linear_fwd(&a->k, s->x, n, 1.0f, s->tmp, 0, s->wscratch);
    split_heads(s->tmp, n, s->src_len, a->heads, a->head_dim, s->cross_k + l * cross_layer_size(s));
    prism__bart_linear_fwd(&a->v, s->x, n, 1.0f, s->tmp, 0, s->wscratch);
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
  PRISM__CHECK_ARG(s != NULL, "session must not be NULL");
  PRISM__CHECK_ARG(input_ids != NULL, "input_ids must not be NULL");
  PRISM__CHECK_ARG(batch >= 1 && src_len >= 1, "batch and src_len must be at least 1");
  m = s->model;
  rc = ensure(s, "prism_bart_session_encode", batch, src_len, 0, 0);
  if (rc != PRISM_OK)
    return rc;
  n = batch * src_len;
  s->encoded = 0;
  s->decoding = 0;
  rc = check_tokens(m, input_ids, n, "prism_bart_session_encode");
  if (rc == PRISM_OK)
    rc = read_mask(s, input_ids, attention_mask, n);
  if (rc != PRISM_OK)
    return rc;
  s->batch = batch;
  s->src_len = src_len;
  prism__bart_embed(m, &m->encoder, input_ids, n, 0, src_len, s->x, NULL, NULL);
  for (size_t l = 0; l < m->encoder.n_layers; l++)
    encoder_layer(s, &m->encoder.layers[l], n);
  if (hidden)
    memcpy(hidden, s->x, n * (size_t)m->cfg.d_model * sizeof *hidden);
  /* The cross-attention K/V are the decoder's (its first step, as HF computes them). */
  s->cross_ready = 0;
  s->encoded = 1;
  return PRISM_OK;
}

/* ---- decoder ---------------------------------------------------------------------------- */

PRISM_API int prism_bart_session_decoder_start(prism_bart_session *s, size_t rows_per_input)
{
  size_t rows, len;
  int rc;
  PRISM__CHECK_ARG(s != NULL, "session must not be NULL");
  PRISM__CHECK_ARG(rows_per_input >= 1, "rows_per_input must be at least 1");
  if (!s->encoded)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "prism_bart_session_decoder_start: call prism_bart_session_encode first");
  if (!s->cross_ready) { /* before anything can grow the scratch that holds the encoder output */
    project_cross_kv(s);
    s->cross_ready = 1;
  }
  if (!prism__mul_ok(s->batch, rows_per_input, &rows))
    return prism__error(PRISM_ERR_LIMIT,
                        "prism_bart_session_decoder_start: %zu inputs x %zu rows "
                        "overflow size_t",
                        s->batch, rows_per_input);
  len = s->dec_len ? s->dec_len : FIRST_TARGET_LEN;
  if (len > (size_t)s->model->cfg.max_position_embeddings)
    len = (size_t)s->model->cfg.max_position_embeddings;
  if (s->caps.max_target_len && len > s->caps.max_target_len)
    len = s->caps.max_target_len;
  rc = ensure(s, "prism_bart_session_decoder_start", 0, 0, rows, len);
  if (rc != PRISM_OK)
    return rc;
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
  size_t hd = a->head_dim, T = s->dec_len;
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
  prism__bart_linear_fwd(&a->k, s->x, s->rows, 1.0f, s->k, 0, s->wscratch);
  prism__bart_linear_fwd(&a->v, s->x, s->rows, 1.0f, s->v, 0, s->wscratch);
  cache_append(s, l, a);
  job.n = s->rows;
  job.k = s->self_k + l * self_layer_size(s);
  job.v = s->self_v + l * self_layer_size(s);
  job.slot = s->slot;
  job.src_stride = self_slot_size(s);
  job.head_stride = s->dec_len * a->head_dim;
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
  if (m->lm_head.data)
    prism__linalg_matmul(s->rows, s->x, d, &m->lm_head, m->final_logits_bias, s->logits, V, 0,
                         s->wscratch);
  else
    prism__linalg_linear(s->rows, V, d, s->x, d, m->shared, d, m->final_logits_bias, s->logits, V,
                         0);
}

static int check_step(prism_bart_session *s, const char *fn)
{
  if (!s->decoding)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: call prism_bart_session_decoder_start first", fn);
  return s->cur_len < s->dec_len ? PRISM_OK : grow_target(s, fn);
}

PRISM_API int prism_bart_session_decoder_step(prism_bart_session *s, const int32_t *tokens,
                                              const float **logits)
{
  const prism_bart *m;
  int rc;
  PRISM__CHECK_ARG(s != NULL, "session must not be NULL");
  PRISM__CHECK_ARG(tokens != NULL, "tokens must not be NULL");
  PRISM__CHECK_ARG(logits != NULL, "logits must not be NULL");
  rc = check_step(s, "prism_bart_session_decoder_step");
  if (rc == PRISM_OK)
    rc = check_tokens(s->model, tokens, s->rows, "prism_bart_session_decoder_step");
  if (rc != PRISM_OK)
    return rc;
  m = s->model;
  prism__bart_embed(m, &m->decoder, tokens, s->rows, s->cur_len, 0, s->x, NULL, NULL);
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
      size_t head = l * self_layer_size(s) + h * s->dec_len * a->head_dim;
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
  PRISM__CHECK_ARG(s != NULL, "session must not be NULL");
  PRISM__CHECK_ARG(src_rows != NULL, "src_rows must not be NULL");
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
  PRISM__CHECK_ARG(s != NULL, "session must not be NULL");
  PRISM__CHECK_ARG(decoder_input_ids != NULL, "decoder_input_ids must not be NULL");
  PRISM__CHECK_ARG(logits != NULL, "logits must not be NULL");
  PRISM__CHECK_ARG(tgt_len >= 1, "tgt_len must be at least 1");
  if (!s->encoded)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "prism_bart_session_forward: call prism_bart_session_encode first");
  /* The caps first: a request beyond them must not be read past its end. */
  rc = ensure(s, "prism_bart_session_forward", 0, 0, s->batch, tgt_len);
  if (rc == PRISM_OK)
    rc =
        check_tokens(s->model, decoder_input_ids, s->batch * tgt_len, "prism_bart_session_forward");
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
