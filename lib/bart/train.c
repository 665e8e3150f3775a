/*
 * A training step over a trainable model: the teacher-forced forward pass,
 * built from the same blocks as inference (prism__bart_linear_fwd,
 * prism__bart_add_norm, prism__bart_activate_grad, prism__bart_embed) but
 * keeping what the backward pass needs, then the backward pass into a gradient
 * buffer laid out like the parameter arena.
 *
 * Semantics follow transformers 4.36 modeling_bart.py: the decoder input is
 * the labels shifted right behind decoder_start_token_id (-100 read as
 * pad_token_id); the encoder and cross-attention mask padded source tokens; the
 * decoder self-attention is causal only; dropout sits after
 * layernorm_embedding, on the attention probabilities, after each attention
 * and fc2 output (before the residual), and after the activation. The loss is
 * the mean cross-entropy over labels != -100, or HF's LabelSmoother.
 *
 * All activations live in one arena laid out per step for the step's batch
 * dimensions inside the capacity reserved at creation.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "bart_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/pool.h"
#include "linalg/linalg.h"

#define IGNORE_INDEX (-100)

typedef struct norm_acts {
  float *xhat, *rstd, *y; /* y: the LayerNorm output (after dropout for the embeddings) */
  uint8_t *mask;          /* dropout of the branch added before it (the output, for embeddings) */
} norm_acts;

typedef struct attn_acts {
  float *q, *k, *v, *p, *ctx;
  uint8_t *pmask;
} attn_acts;

typedef struct layer_acts {
  attn_acts self, cross;
  norm_acts n1, n2, n3; /* after self-attention, cross-attention, the feed-forward block */
  float *g, *a;         /* act'(fc1 output) and the activation after its dropout */
  uint8_t *amask;
} layer_acts;

typedef struct stack_acts {
  norm_acts emb;
  layer_acts *layers;
} stack_acts;

struct prism__bart_ws {
  const prism_bart *m;
  size_t cap_batch, cap_src, cap_tgt;
  prism__bart_dropout masks; /* the kinds of dropout masks the arena has room for (> 0) */
  char *arena;
  size_t bytes;
  /* The current step: dimensions, options, and where everything is. */
  size_t B, S, T, n, rows;
  const prism__bart_step_opts *opts;
  uint64_t site;
  stack_acts enc, dec;
  uint8_t *src_mask;
  int32_t *dec_ids, *active; /* decoder input; decoder rows whose label is not -100 */
  size_t n_active;
  float *x_act, *logits;
  double *row_nll, *row_smooth;
  uint8_t *row_correct;
  float *tmp, *gdec, *genc, *gq, *gk, *gv, *gctx, *gffn, *gscr;
};

/* ---- layout ------------------------------------------------------------------------------ */

typedef struct bump {
  char *base; /* NULL: only measure */
  size_t used;
  double total; /* the same in floating point, to catch overflow */
} bump;

static void *take(bump *b, size_t count, size_t size)
{
  size_t off = (b->used + 63) & ~(size_t)63;
  b->total += 64.0 + (double)count * (double)size;
  b->used = off + count * size;
  return b->base ? b->base + off : NULL;
}

#define FLOATS(b, count) ((float *)take((b), (count), sizeof(float)))
#define BYTES(b, count) ((uint8_t *)take((b), (count), 1))

static void lay_norm(bump *b, norm_acts *na, size_t rows, size_t d, int drop)
{
  na->xhat = FLOATS(b, rows * d);
  na->rstd = FLOATS(b, rows);
  na->y = FLOATS(b, rows * d);
  na->mask = drop ? BYTES(b, rows * d) : NULL;
}

static void lay_attn(bump *b, attn_acts *a, size_t nq, size_t nk, size_t probs, size_t d, int drop)
{
  a->q = FLOATS(b, nq * d);
  a->k = FLOATS(b, nk * d);
  a->v = FLOATS(b, nk * d);
  a->p = FLOATS(b, probs);
  a->ctx = FLOATS(b, nq * d);
  a->pmask = drop ? BYTES(b, probs) : NULL;
}

static void lay_ffn(bump *b, layer_acts *la, size_t rows, size_t ffn, int drop)
{
  la->g = FLOATS(b, rows * ffn);
  la->a = FLOATS(b, rows * ffn);
  la->amask = drop ? BYTES(b, rows * ffn) : NULL;
}

static size_t max2(size_t a, size_t b)
{
  return a > b ? a : b;
}

/* Lay the arena out for a batch of B x S sources and B x T targets. */
static void layout(prism__bart_ws *ws, bump *b, size_t B, size_t S, size_t T)
{
  const prism__bart_config *c = &ws->m->cfg;
  size_t d = (size_t)c->d_model, V = (size_t)c->vocab_size;
  size_t He = (size_t)c->encoder_heads, Hd = (size_t)c->decoder_heads;
  size_t n = B * S, r = B * T, mx = max2(n, r);
  int drop = ws->masks.hidden > 0.0f, pdrop = ws->masks.attention > 0.0f;
  int adrop = ws->masks.activation > 0.0f;
  lay_norm(b, &ws->enc.emb, n, d, drop);
  for (size_t l = 0; l < ws->m->encoder.n_layers; l++) {
    layer_acts *la = &ws->enc.layers[l];
    lay_attn(b, &la->self, n, n, B * He * S * S, d, pdrop);
    lay_norm(b, &la->n1, n, d, drop);
    lay_ffn(b, la, n, (size_t)c->encoder_ffn_dim, adrop);
    lay_norm(b, &la->n3, n, d, drop);
  }
  lay_norm(b, &ws->dec.emb, r, d, drop);
  for (size_t l = 0; l < ws->m->decoder.n_layers; l++) {
    layer_acts *la = &ws->dec.layers[l];
    lay_attn(b, &la->self, r, r, B * Hd * T * T, d, pdrop);
    lay_norm(b, &la->n1, r, d, drop);
    lay_attn(b, &la->cross, r, n, B * Hd * T * S, d, pdrop);
    lay_norm(b, &la->n2, r, d, drop);
    lay_ffn(b, la, r, (size_t)c->decoder_ffn_dim, adrop);
    lay_norm(b, &la->n3, r, d, drop);
  }
  ws->src_mask = BYTES(b, n);
  ws->dec_ids = (int32_t *)take(b, r, sizeof(int32_t));
  ws->active = (int32_t *)take(b, r, sizeof(int32_t));
  ws->x_act = FLOATS(b, r * d);
  ws->logits = FLOATS(b, r * V);
  ws->row_nll = (double *)take(b, r, sizeof(double));
  ws->row_smooth = (double *)take(b, r, sizeof(double));
  ws->row_correct = BYTES(b, r);
  ws->tmp = FLOATS(b, mx * d);
  ws->gdec = FLOATS(b, r * d);
  ws->genc = FLOATS(b, n * d);
  ws->gq = FLOATS(b, mx * d);
  ws->gk = FLOATS(b, mx * d);
  ws->gv = FLOATS(b, mx * d);
  ws->gctx = FLOATS(b, mx * d);
  ws->gffn = FLOATS(b, mx * max2((size_t)c->encoder_ffn_dim, (size_t)c->decoder_ffn_dim));
  ws->gscr =
      FLOATS(b, B * max2(He, Hd) *
                    prism__bart_attention_scratch(max2(S, T), max2(S, T), d / (He < Hd ? He : Hd)));
}

int prism__bart_ws_create(prism__bart_ws **out, const prism_bart *m, size_t batch, size_t src_len,
                          size_t tgt_len, const prism__bart_dropout *dropout)
{
  prism__bart_ws *ws = prism__calloc(1, sizeof *ws);
  bump b = { NULL, 0, 0.0 };
  if (!ws)
    return PRISM_ERR_NO_MEMORY;
  ws->m = m;
  ws->cap_batch = batch;
  ws->cap_src = src_len;
  ws->cap_tgt = tgt_len;
  if (dropout)
    ws->masks = *dropout;
  ws->enc.layers = prism__calloc(m->encoder.n_layers + 1, sizeof *ws->enc.layers);
  ws->dec.layers = prism__calloc(m->decoder.n_layers + 1, sizeof *ws->dec.layers);
  if (!ws->enc.layers || !ws->dec.layers) {
    prism__bart_ws_free(ws);
    return PRISM_ERR_NO_MEMORY;
  }
  layout(ws, &b, batch, src_len, tgt_len);
  if (b.total > (double)(SIZE_MAX / 2)) {
    prism__bart_ws_free(ws);
    return prism__error(PRISM_ERR_LIMIT,
                        "bart: activations for batch %zu, source %zu, target %zu overflow size_t",
                        batch, src_len, tgt_len);
  }
  ws->bytes = b.used;
  ws->arena = prism__aligned_alloc(b.used ? b.used : 64);
  if (!ws->arena) {
    prism__bart_ws_free(ws);
    return PRISM_ERR_NO_MEMORY;
  }
  *out = ws;
  return PRISM_OK;
}

void prism__bart_ws_free(prism__bart_ws *ws)
{
  if (!ws)
    return;
  prism__aligned_free(ws->arena);
  prism__free(ws->enc.layers);
  prism__free(ws->dec.layers);
  prism__free(ws);
}

size_t prism__bart_ws_bytes(const prism__bart_ws *ws)
{
  return ws->bytes;
}

/* ---- element-wise helpers ---------------------------------------------------------------- */

/* The gradient of a weight: the same offset in the gradient buffer. */
static float *gw(const prism__bart_ws *ws, float *grad, const float *w)
{
  return grad + (w - ws->m->arena);
}

static size_t dmodel(const prism__bart_ws *ws)
{
  return (size_t)ws->m->cfg.d_model;
}

static float query_scale(const prism__bart_attn *a)
{
  return 1.0f / sqrtf((float)a->head_dim);
}

/* Dropout sites are numbered in forward order, so masks depend on (seed, stream) alone. */
static uint64_t next_site(prism__bart_ws *ws)
{
  return (ws->opts->stream << 20) ^ ws->site++;
}

static void drop(prism__bart_ws *ws, float *x, uint8_t *mask, size_t rows, size_t cols, float p)
{
  uint64_t stream = next_site(ws);
  if (p <= 0.0f)
    return;
  prism__bart_dropout_mask(mask, rows, cols, p, ws->opts->seed, stream);
  prism__bart_dropout_apply(x, mask, rows * cols, p);
}

typedef struct ew_job {
  float *x;
  const float *y;
  float s;
  int act;
  float *deriv;
} ew_job;

static void act_range(void *ctx, size_t begin, size_t end)
{
  const ew_job *job = ctx;
  prism__bart_activate_grad(job->x + begin, job->deriv + begin, end - begin,
                            (prism__bart_act)job->act);
}

static void mul_range(void *ctx, size_t begin, size_t end)
{
  const ew_job *job = ctx;
  for (size_t i = begin; i < end; i++)
    job->x[i] = job->y ? job->x[i] * job->y[i] : job->x[i] * job->s;
}

/* x[i] *= y[i] (y NULL: x[i] *= s). */
static void mul(float *x, const float *y, float s, size_t count)
{
  ew_job job = { x, y, s, 0, NULL };
  prism__parallel_for(count, 32768, mul_range, &job);
}

/* ---- forward ----------------------------------------------------------------------------- */

static prism__bart_attn_train attn_job(const prism__bart_ws *ws, const prism__bart_attn *a,
                                       attn_acts *acts, const uint8_t *key_mask, int causal,
                                       size_t tq, size_t tk)
{
  prism__bart_attn_train job;
  memset(&job, 0, sizeof job);
  job.q = acts->q;
  job.k = acts->k;
  job.v = acts->v;
  job.p = acts->p;
  job.ctx = acts->ctx;
  job.key_mask = key_mask;
  job.pmask = ws->opts->dropout.attention > 0.0f ? acts->pmask : NULL;
  job.pdrop = ws->opts->dropout.attention;
  job.causal = causal;
  job.batch = ws->B;
  job.tq = tq;
  job.tk = tk;
  job.d = dmodel(ws);
  job.heads = a->heads;
  job.head_dim = a->head_dim;
  job.scratch = ws->gscr;
  return job;
}

/* Attention of xq [B * tq rows] over xkv [B * tk rows]; the out_proj output goes to ws->tmp. */
static void attn_fwd(prism__bart_ws *ws, const prism__bart_attn *a, attn_acts *acts,
                     const float *xq, const float *xkv, const uint8_t *key_mask, int causal,
                     size_t tq, size_t tk)
{
  size_t nq = ws->B * tq, nk = ws->B * tk;
  prism__bart_attn_train job = attn_job(ws, a, acts, key_mask, causal, tq, tk);
  uint64_t stream;
  prism__bart_linear_fwd(&a->q, xq, nq, query_scale(a), acts->q, PRISM__LINALG_FIXED, NULL);
  prism__bart_linear_fwd(&a->k, xkv, nk, 1.0f, acts->k, PRISM__LINALG_FIXED, NULL);
  prism__bart_linear_fwd(&a->v, xkv, nk, 1.0f, acts->v, PRISM__LINALG_FIXED, NULL);
  stream = next_site(ws);
  if (job.pmask)
    prism__bart_dropout_mask(acts->pmask, ws->B * a->heads * tq, tk, job.pdrop, ws->opts->seed,
                             stream);
  prism__bart_attention_train(&job);
  prism__bart_linear_fwd(&a->o, acts->ctx, nq, 1.0f, ws->tmp, PRISM__LINALG_FIXED, NULL);
}

/* na->y = LN(x + dropout(ws->tmp)). */
static void residual_fwd(prism__bart_ws *ws, const float *x, const prism__bart_norm *ln,
                         norm_acts *na, size_t rows)
{
  size_t d = dmodel(ws);
  drop(ws, ws->tmp, na->mask, rows, d, ws->opts->dropout.hidden);
  memcpy(na->y, x, rows * d * sizeof *x);
  prism__bart_add_norm(na->y, ws->tmp, rows, d, ln, na->xhat, na->rstd);
}

/* fc2(dropout(act(fc1(x)))) into ws->tmp. */
static void ffn_fwd(prism__bart_ws *ws, const prism__bart_layer *layer, layer_acts *la,
                    const float *x, size_t rows)
{
  size_t ffn = layer->fc1.out;
  ew_job job = { la->a, NULL, 0.0f, (int)ws->m->cfg.activation, la->g };
  prism__bart_linear_fwd(&layer->fc1, x, rows, 1.0f, la->a, PRISM__LINALG_FIXED, NULL);
  prism__parallel_for(rows * ffn, 16384, act_range, &job);
  drop(ws, la->a, la->amask, rows, ffn, ws->opts->dropout.activation);
  prism__bart_linear_fwd(&layer->fc2, la->a, rows, 1.0f, ws->tmp, PRISM__LINALG_FIXED, NULL);
}

static void embed_fwd(prism__bart_ws *ws, const prism__bart_stack *stack, norm_acts *emb,
                      const int32_t *ids, size_t rows, size_t len)
{
  prism__bart_embed(ws->m, stack, ids, rows, 0, len, emb->y, emb->xhat, emb->rstd);
  drop(ws, emb->y, emb->mask, rows, dmodel(ws), ws->opts->dropout.hidden);
}

/* The encoder's last hidden state. */
static const float *encoder_fwd(prism__bart_ws *ws, const int32_t *ids)
{
  const prism__bart_stack *st = &ws->m->encoder;
  const float *x = ws->enc.emb.y;
  embed_fwd(ws, st, &ws->enc.emb, ids, ws->n, ws->S);
  for (size_t l = 0; l < st->n_layers; l++) {
    const prism__bart_layer *layer = &st->layers[l];
    layer_acts *la = &ws->enc.layers[l];
    attn_fwd(ws, &layer->self_attn, &la->self, x, x, ws->src_mask, 0, ws->S, ws->S);
    residual_fwd(ws, x, &layer->self_attn_ln, &la->n1, ws->n);
    ffn_fwd(ws, layer, la, la->n1.y, ws->n);
    residual_fwd(ws, la->n1.y, &layer->final_ln, &la->n3, ws->n);
    x = la->n3.y;
  }
  return x;
}

/* HF shift_tokens_right: the decoder input is the labels behind the start token, -100 as pad. */
static void shift_labels(prism__bart_ws *ws, const int32_t *labels)
{
  const prism__bart_config *c = &ws->m->cfg;
  for (size_t b = 0; b < ws->B; b++)
    for (size_t t = 0; t < ws->T; t++) {
      int32_t id = t == 0 ? c->decoder_start_token_id : labels[b * ws->T + t - 1];
      ws->dec_ids[b * ws->T + t] = id == IGNORE_INDEX ? c->pad_token_id : id;
    }
}

static const float *decoder_fwd(prism__bart_ws *ws, const float *enc)
{
  const prism__bart_stack *st = &ws->m->decoder;
  const float *x = ws->dec.emb.y;
  embed_fwd(ws, st, &ws->dec.emb, ws->dec_ids, ws->rows, ws->T);
  for (size_t l = 0; l < st->n_layers; l++) {
    const prism__bart_layer *layer = &st->layers[l];
    layer_acts *la = &ws->dec.layers[l];
    attn_fwd(ws, &layer->self_attn, &la->self, x, x, NULL, 1, ws->T, ws->T);
    residual_fwd(ws, x, &layer->self_attn_ln, &la->n1, ws->rows);
    attn_fwd(ws, &layer->cross_attn, &la->cross, la->n1.y, enc, ws->src_mask, 0, ws->T, ws->S);
    residual_fwd(ws, la->n1.y, &layer->cross_attn_ln, &la->n2, ws->rows);
    ffn_fwd(ws, layer, la, la->n2.y, ws->rows);
    residual_fwd(ws, la->n2.y, &layer->final_ln, &la->n3, ws->rows);
    x = la->n3.y;
  }
  return x;
}

/* ---- loss -------------------------------------------------------------------------------- */

typedef struct loss_job {
  prism__bart_ws *ws;
  const int32_t *labels;
  float eps, coef; /* coef 0: no gradient */
} loss_job;

/*
 * Per active row: log-sum-exp, the token's negative log-likelihood, the sum of
 * -log p over the vocabulary (LabelSmoother), the argmax; then, for the
 * backward pass, the logits become d loss / d logits in place:
 * coef * (softmax - (1 - eps) * onehot - eps / V).
 */
static void loss_range(void *ctx, size_t begin, size_t end)
{
  const loss_job *job = ctx;
  prism__bart_ws *ws = job->ws;
  size_t V = (size_t)ws->m->cfg.vocab_size;
  for (size_t k = begin; k < end; k++) {
    float *z = ws->logits + k * V, max = z[0];
    size_t y = (size_t)job->labels[ws->active[k]], arg = 0;
    double sum = 0.0, zsum = 0.0, lse;
    for (size_t v = 1; v < V; v++)
      if (z[v] > max) {
        max = z[v];
        arg = v;
      }
    for (size_t v = 0; v < V; v++) {
      sum += (double)expf(z[v] - max);
      zsum += z[v];
    }
    lse = (double)max + log(sum);
    ws->row_nll[k] = lse - z[y];
    ws->row_smooth[k] = (double)V * lse - zsum;
    ws->row_correct[k] = arg == y;
    if (job->coef == 0.0f)
      continue;
    float flse = (float)lse, floor_eps = job->eps / (float)V;
    for (size_t v = 0; v < V; v++)
      z[v] = (expf(z[v] - flse) - floor_eps) * job->coef;
    z[y] -= (1.0f - job->eps) * job->coef;
  }
}

/* LM head and loss over the rows with a label; with `backward`, the gradient into ws->gdec. */
static void lm_head(prism__bart_ws *ws, const float *x, const int32_t *labels, float *grad,
                    prism__bart_step_result *out)
{
  const prism_bart *m = ws->m;
  size_t d = dmodel(ws), V = (size_t)m->cfg.vocab_size, na = 0;
  float eps = ws->opts->label_smoothing;
  loss_job job = { ws, labels, eps, 0.0f };
  double nll = 0.0, smooth = 0.0;
  for (size_t r = 0; r < ws->rows; r++)
    if (labels[r] != IGNORE_INDEX) {
      ws->active[na] = (int32_t)r;
      memcpy(ws->x_act + na * d, x + r * d, d * sizeof *x);
      na++;
    }
  ws->n_active = na;
  memset(out, 0, sizeof *out);
  if (na == 0) {
    out->loss = NAN;
    return;
  }
  prism__linalg_linear(na, V, d, ws->x_act, d, m->shared, d, m->final_logits_bias, ws->logits, V,
                       PRISM__LINALG_FIXED);
  if (grad)
    job.coef = ws->opts->grad_scale / (float)na;
  prism__parallel_for(na, 1 + 32768 / V, loss_range, &job);
  for (size_t k = 0; k < na; k++) {
    nll += ws->row_nll[k];
    smooth += ws->row_smooth[k];
    out->correct += ws->row_correct[k];
  }
  out->tokens = na;
  out->loss = nll / (double)na;
  if (eps > 0.0f)
    out->loss = (1.0 - eps) * out->loss + eps * smooth / ((double)na * (double)V);
  if (!grad)
    return;
  /* dX = dZ W, dW += dZ^T X; rows without a label get no gradient. */
  prism__linalg_gemm_tiles(0, 0, na, d, V, 1.0f, ws->logits, V, m->shared, d, 0.0f, ws->gq, d);
  prism__linalg_gemm_tiles(1, 0, V, d, na, 1.0f, ws->logits, V, ws->x_act, d, 1.0f,
                           gw(ws, grad, m->shared), d);
  memset(ws->gdec, 0, ws->rows * d * sizeof *ws->gdec);
  for (size_t k = 0; k < na; k++)
    memcpy(ws->gdec + (size_t)ws->active[k] * d, ws->gq + k * d, d * sizeof(float));
}

/* ---- backward ---------------------------------------------------------------------------- */

/* g: in, the gradient of na->y; out, of the residual sum. ws->tmp: of the branch before dropout. */
static void residual_bwd(prism__bart_ws *ws, float *g, const prism__bart_norm *ln,
                         const norm_acts *na, size_t rows, float *grad)
{
  size_t d = dmodel(ws);
  prism__bart_norm_bwd(g, na->xhat, na->rstd, rows, d, ln, g, gw(ws, grad, ln->w),
                       gw(ws, grad, ln->b));
  memcpy(ws->tmp, g, rows * d * sizeof *g);
  if (ws->opts->dropout.hidden > 0.0f)
    prism__bart_dropout_apply(ws->tmp, na->mask, rows * d, ws->opts->dropout.hidden);
}

static void linear_bwd(prism__bart_ws *ws, const prism__bart_linear *l, const float *x,
                       const float *dy, size_t n, float *dx, float beta, float *grad)
{
  prism__bart_linear_bwd(l, x, dy, n, dx, beta, gw(ws, grad, l->w), gw(ws, grad, l->b));
}

/* From the gradient of the out_proj output in ws->tmp: gq_x += d/dxq, gkv_x += d/dxkv. */
static void attn_bwd(prism__bart_ws *ws, const prism__bart_attn *a, attn_acts *acts,
                     const float *xq, const float *xkv, const uint8_t *key_mask, int causal,
                     size_t tq, size_t tk, float *gq_x, float *gkv_x, float *grad)
{
  size_t nq = ws->B * tq, nk = ws->B * tk;
  prism__bart_attn_train job = attn_job(ws, a, acts, key_mask, causal, tq, tk);
  linear_bwd(ws, &a->o, acts->ctx, ws->tmp, nq, ws->gctx, 0.0f, grad);
  job.dctx = ws->gctx;
  job.dq = ws->gq;
  job.dk = ws->gk;
  job.dv = ws->gv;
  prism__bart_attention_bwd(&job);
  mul(ws->gq, NULL, query_scale(a), nq * dmodel(ws));
  linear_bwd(ws, &a->q, xq, ws->gq, nq, gq_x, 1.0f, grad);
  linear_bwd(ws, &a->k, xkv, ws->gk, nk, gkv_x, 1.0f, grad);
  linear_bwd(ws, &a->v, xkv, ws->gv, nk, gkv_x, 1.0f, grad);
}

/* From the gradient of the fc2 output in ws->tmp: g += d/dx. */
static void ffn_bwd(prism__bart_ws *ws, const prism__bart_layer *layer, const layer_acts *la,
                    const float *x, size_t rows, float *g, float *grad)
{
  size_t ffn = layer->fc1.out;
  linear_bwd(ws, &layer->fc2, la->a, ws->tmp, rows, ws->gffn, 0.0f, grad);
  if (ws->opts->dropout.activation > 0.0f)
    prism__bart_dropout_apply(ws->gffn, la->amask, rows * ffn, ws->opts->dropout.activation);
  mul(ws->gffn, la->g, 0.0f, rows * ffn);
  linear_bwd(ws, &layer->fc1, x, ws->gffn, rows, g, 1.0f, grad);
}

/* From the gradient of the stack's embedding output in g: the embedding and position rows. */
static void embed_bwd(prism__bart_ws *ws, const prism__bart_stack *st, const norm_acts *emb,
                      const int32_t *ids, size_t rows, size_t len, float *g, float *grad)
{
  size_t d = dmodel(ws);
  if (ws->opts->dropout.hidden > 0.0f)
    prism__bart_dropout_apply(g, emb->mask, rows * d, ws->opts->dropout.hidden);
  prism__bart_norm_bwd(g, emb->xhat, emb->rstd, rows, d, &st->ln_embedding, g,
                       gw(ws, grad, st->ln_embedding.w), gw(ws, grad, st->ln_embedding.b));
  prism__bart_embed_bwd(ws->m, ids, rows, len, g, gw(ws, grad, ws->m->shared),
                        gw(ws, grad, st->positions));
}

static void decoder_bwd(prism__bart_ws *ws, const float *enc, float *grad)
{
  const prism__bart_stack *st = &ws->m->decoder;
  float *g = ws->gdec;
  memset(ws->genc, 0, ws->n * dmodel(ws) * sizeof *ws->genc);
  for (size_t l = st->n_layers; l-- > 0;) {
    const prism__bart_layer *layer = &st->layers[l];
    layer_acts *la = &ws->dec.layers[l];
    const float *x = l ? ws->dec.layers[l - 1].n3.y : ws->dec.emb.y;
    residual_bwd(ws, g, &layer->final_ln, &la->n3, ws->rows, grad);
    ffn_bwd(ws, layer, la, la->n2.y, ws->rows, g, grad);
    residual_bwd(ws, g, &layer->cross_attn_ln, &la->n2, ws->rows, grad);
    attn_bwd(ws, &layer->cross_attn, &la->cross, la->n1.y, enc, ws->src_mask, 0, ws->T, ws->S, g,
             ws->genc, grad);
    residual_bwd(ws, g, &layer->self_attn_ln, &la->n1, ws->rows, grad);
    attn_bwd(ws, &layer->self_attn, &la->self, x, x, NULL, 1, ws->T, ws->T, g, g, grad);
  }
  embed_bwd(ws, st, &ws->dec.emb, ws->dec_ids, ws->rows, ws->T, g, grad);
}

static void encoder_bwd(prism__bart_ws *ws, const int32_t *ids, float *grad)
{
  const prism__bart_stack *st = &ws->m->encoder;
  float *g = ws->genc;
  for (size_t l = st->n_layers; l-- > 0;) {
    const prism__bart_layer *layer = &st->layers[l];
    layer_acts *la = &ws->enc.layers[l];
    const float *x = l ? ws->enc.layers[l - 1].n3.y : ws->enc.emb.y;
    residual_bwd(ws, g, &layer->final_ln, &la->n3, ws->n, grad);
    ffn_bwd(ws, layer, la, la->n1.y, ws->n, g, grad);
    residual_bwd(ws, g, &layer->self_attn_ln, &la->n1, ws->n, grad);
    attn_bwd(ws, &layer->self_attn, &la->self, x, x, ws->src_mask, 0, ws->S, ws->S, g, g, grad);
  }
  embed_bwd(ws, st, &ws->enc.emb, ids, ws->n, ws->S, g, grad);
}

/* ---- the step ---------------------------------------------------------------------------- */

static int check_batch(const prism__bart_ws *ws, const prism__bart_batch *b,
                       const prism__bart_step_opts *o)
{
  int32_t V = ws->m->cfg.vocab_size;
  if (b->batch < 1 || b->src_len < 1 || b->tgt_len < 1 || b->batch > ws->cap_batch ||
      b->src_len > ws->cap_src || b->tgt_len > ws->cap_tgt)
    return prism__error(PRISM_ERR_LIMIT,
                        "bart: a batch of %zu x %zu source and %zu target tokens does not fit the "
                        "workspace (%zu x %zu, %zu)",
                        b->batch, b->src_len, b->tgt_len, ws->cap_batch, ws->cap_src, ws->cap_tgt);
  if ((o->dropout.hidden > 0.0f && !(ws->masks.hidden > 0.0f)) ||
      (o->dropout.attention > 0.0f && !(ws->masks.attention > 0.0f)) ||
      (o->dropout.activation > 0.0f && !(ws->masks.activation > 0.0f)))
    return prism__error(PRISM_ERR_INTERNAL,
                        "bart: dropout on a workspace made without room for it");
  for (size_t i = 0; i < b->batch * b->src_len; i++) {
    if (b->input_ids[i] < 0 || b->input_ids[i] >= V)
      return prism__error(PRISM_ERR_OUT_OF_RANGE,
                          "input_ids[%zu][%zu] = %d is outside the vocabulary [0, %d)",
                          i / b->src_len, i % b->src_len, (int)b->input_ids[i], (int)V);
    if (b->attention_mask && b->attention_mask[i] != 0 && b->attention_mask[i] != 1)
      return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                          "attention_mask[%zu][%zu] = %d (must be 0 or 1)", i / b->src_len,
                          i % b->src_len, (int)b->attention_mask[i]);
  }
  for (size_t i = 0; i < b->batch * b->tgt_len; i++)
    if (b->labels[i] != IGNORE_INDEX && (b->labels[i] < 0 || b->labels[i] >= V))
      return prism__error(PRISM_ERR_OUT_OF_RANGE,
                          "labels[%zu][%zu] = %d is outside the vocabulary [0, %d) and not -100",
                          i / b->tgt_len, i % b->tgt_len, (int)b->labels[i], (int)V);
  return PRISM_OK;
}

int prism__bart_train_step(prism__bart_ws *ws, const prism__bart_batch *batch,
                           const prism__bart_step_opts *opts, float *grad,
                           prism__bart_step_result *out)
{
  const prism__bart_config *c = &ws->m->cfg;
  bump b = { ws->arena, 0, 0.0 };
  const float *enc, *dec;
  int rc = check_batch(ws, batch, opts);
  if (rc != PRISM_OK)
    return rc;
  ws->B = batch->batch;
  ws->S = batch->src_len;
  ws->T = batch->tgt_len;
  ws->n = ws->B * ws->S;
  ws->rows = ws->B * ws->T;
  ws->opts = opts;
  ws->site = 0;
  layout(ws, &b, ws->B, ws->S, ws->T);
  for (size_t i = 0; i < ws->n; i++)
    ws->src_mask[i] = (uint8_t)(batch->attention_mask ? batch->attention_mask[i]
                                                      : batch->input_ids[i] != c->pad_token_id);
  shift_labels(ws, batch->labels);
  /* Every GEMM below is split over the pool, each piece on one OpenBLAS thread. */
  prism__linalg_blas_serial(1);
  enc = encoder_fwd(ws, batch->input_ids);
  dec = decoder_fwd(ws, enc);
  lm_head(ws, dec, batch->labels, grad, out);
  if (grad && ws->n_active) {
    decoder_bwd(ws, enc, grad);
    encoder_bwd(ws, batch->input_ids, grad);
  }
  prism__linalg_blas_serial(0);
  return PRISM_OK;
}
