/*
 * Trainable models: every parameter of a prism_bart in one writable float32
 * arena, laid out by the same walk that binds a checkpoint (weights.c), so the
 * forward pass runs on it unchanged. Made from a loaded model (converted to
 * float32) or from config.json with HF's _init_weights.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bart_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/pool.h"
#include "common/rng.h"

/* Each tensor starts on a 64-byte boundary. */
#define ALIGN_FLOATS 16

static size_t slot_count(const prism__bart_slot *s)
{
  return (size_t)s->shape[0] * (s->ndim == 2 ? (size_t)s->shape[1] : 1);
}

/* First walk: how many parameters and arena floats the model needs. */
typedef struct sizer {
  size_t n_params, floats;
} sizer;

static int size_slot(void *ctx, const prism__bart_slot *slot)
{
  sizer *s = ctx;
  if (slot->kind == PRISM__BART_W_BUFFER)
    return PRISM_OK;
  s->n_params++;
  s->floats += (slot_count(slot) + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
  return PRISM_OK;
}

/* Second walk: point every weight into the arena and fill the parameter table. */
typedef struct placer {
  prism_bart *m;
  size_t next;
} placer;

static int place_slot(void *ctx, const prism__bart_slot *slot)
{
  placer *p = ctx;
  prism__bart_param *param;
  if (slot->kind == PRISM__BART_W_BUFFER)
    return PRISM_OK;
  param = &p->m->params[p->m->n_params++];
  snprintf(param->name, sizeof param->name, "model.%s", slot->names[0]);
  param->offset = p->next;
  param->count = slot_count(slot);
  param->ndim = slot->ndim;
  param->shape[0] = slot->shape[0];
  param->shape[1] = slot->shape[1];
  param->kind = (int)slot->kind;
  param->decay = slot->kind == PRISM__BART_W_LINEAR || slot->kind == PRISM__BART_W_EMBEDDING;
  *slot->ptr = p->m->arena + p->next;
  p->next += (param->count + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
  return PRISM_OK;
}

/* A new empty model with `cfg`, its texts copied, and its arena laid out (contents zero). */
static int new_trainable(prism_bart **out, const prism__bart_config *cfg,
                         const prism__bart_text *config, const prism__bart_text *generation)
{
  prism_bart *m = prism__calloc(1, sizeof *m);
  sizer s = { 0, 0 };
  placer p;
  float *bias;
  int rc;
  if (!m)
    return PRISM_ERR_NO_MEMORY;
  m->cfg = *cfg;
  rc = prism__bart_keep_text(&m->config, config->text, config->len, config->source);
  if (rc == PRISM_OK && generation->text)
    rc = prism__bart_keep_text(&m->generation, generation->text, generation->len,
                               generation->source);
  if (rc == PRISM_OK)
    rc = prism__bart_walk(m, size_slot, &s);
  if (rc == PRISM_OK) {
    size_t bytes;
    m->params = prism__calloc(s.n_params, sizeof *m->params);
    m->owned = prism__calloc(1, sizeof *m->owned);
    bias = prism__calloc((size_t)cfg->vocab_size, sizeof *bias);
    if (bias && m->owned)
      m->owned[m->n_owned++] = bias;
    else
      prism__free(bias);
    if (!prism__mul_ok(s.floats ? s.floats : 1, sizeof(float), &bytes))
      rc = prism__error(PRISM_ERR_LIMIT, "bart: %zu parameters overflow size_t", s.floats);
    else if ((m->arena = prism__aligned_alloc(bytes)) != NULL)
      memset(m->arena, 0, bytes);
    if (rc == PRISM_OK && (!m->params || !m->arena || m->n_owned != 1))
      rc = PRISM_ERR_NO_MEMORY;
  }
  if (rc == PRISM_OK) {
    m->arena_count = s.floats;
    m->final_logits_bias = m->owned[0];
    p.m = m;
    p.next = 0;
    rc = prism__bart_walk(m, place_slot, &p);
  }
  if (rc != PRISM_OK) {
    prism_bart_free(m);
    return rc;
  }
  *out = m;
  return PRISM_OK;
}

/* Copying a loaded model: the source's weights in walk order, then into the arena. */
typedef struct collector {
  const float **ptrs;
} collector;

static int collect_slot(void *ctx, const prism__bart_slot *slot)
{
  collector *c = ctx;
  c->ptrs[slot->index] = *slot->ptr;
  return PRISM_OK;
}

int prism__bart_trainable_copy(prism_bart **out, const prism_bart *src)
{
  prism_bart view = *src, *m = NULL;
  collector c;
  size_t n_enc = src->encoder.n_layers, n_dec = src->decoder.n_layers;
  size_t n_slots = 2 + 3 + 16 * n_enc + 3 + 26 * n_dec;
  int rc;
  /* The walk writes layer dimensions: walk copies of the layer arrays, so `src` is only read. */
  view.encoder.layers = prism__mallocn(n_enc ? n_enc : 1, sizeof *view.encoder.layers);
  view.decoder.layers = prism__mallocn(n_dec ? n_dec : 1, sizeof *view.decoder.layers);
  c.ptrs = prism__calloc(n_slots, sizeof *c.ptrs);
  rc = c.ptrs && view.encoder.layers && view.decoder.layers ? PRISM_OK : PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK) {
    memcpy(view.encoder.layers, src->encoder.layers, n_enc * sizeof *view.encoder.layers);
    memcpy(view.decoder.layers, src->decoder.layers, n_dec * sizeof *view.decoder.layers);
    rc = prism__bart_walk(&view, collect_slot, &c);
  }
  if (rc == PRISM_OK)
    rc = new_trainable(&m, &src->cfg, &src->config, &src->generation);
  if (rc == PRISM_OK) {
    for (size_t i = 0, k = 0; i < n_slots; i++) {
      if (i == 1) {
        if (c.ptrs[1])
          memcpy(m->owned[0], c.ptrs[1], (size_t)m->cfg.vocab_size * sizeof(float));
        continue;
      }
      memcpy(m->arena + m->params[k].offset, c.ptrs[i], m->params[k].count * sizeof(float));
      k++;
    }
    *out = m;
  }
  prism__free(view.encoder.layers);
  prism__free(view.decoder.layers);
  prism__free(c.ptrs);
  return rc;
}

/* HF _init_weights, one seeded stream per tensor so the result does not depend on threads. */
typedef struct init_job {
  prism_bart *m;
  uint64_t seed;
} init_job;

static void init_range(void *ctx, size_t begin, size_t end)
{
  const init_job *job = ctx;
  const prism_bart *m = job->m;
  for (size_t i = begin; i < end; i++) {
    const prism__bart_param *p = &m->params[i];
    float *x = m->arena + p->offset;
    prism__rng rng;
    switch ((prism__bart_wkind)p->kind) {
    case PRISM__BART_W_LINEAR:
    case PRISM__BART_W_EMBEDDING:
      prism__rng_seed(&rng, job->seed, i);
      for (size_t k = 0; k < p->count; k++)
        x[k] = (float)(prism__rng_normal(&rng) * m->cfg.init_std);
      break;
    case PRISM__BART_W_NORM_GAIN:
      for (size_t k = 0; k < p->count; k++)
        x[k] = 1.0f;
      break;
    default:
      memset(x, 0, p->count * sizeof *x);
    }
  }
}

int prism__bart_trainable_init(prism_bart **out, const char *config_json, size_t config_len,
                               const char *generation_json, size_t generation_len,
                               const char *source, uint64_t seed)
{
  prism__bart_config cfg;
  prism__bart_text config = { (char *)config_json, config_len, (char *)source };
  prism__bart_text generation = { (char *)generation_json, generation_len, (char *)source };
  prism_bart *m;
  init_job job;
  int rc = prism__bart_parse_config(config_json, config_len, source, &cfg);
  if (rc == PRISM_OK && !(cfg.init_std >= 0.0 && cfg.init_std < 1e6))
    rc = prism__error(PRISM_ERR_FORMAT, "%s: init_std must be a non-negative number", source);
  if (rc == PRISM_OK)
    rc = new_trainable(&m, &cfg, &config, &generation);
  if (rc != PRISM_OK)
    return rc;
  job.m = m;
  job.seed = seed;
  prism__parallel_for(m->n_params, 1, init_range, &job);
  if (cfg.pad_token_id >= 0) /* nn.Embedding(padding_idx=pad) */
    memset(m->arena + m->params[0].offset + (size_t)cfg.pad_token_id * (size_t)cfg.d_model, 0,
           (size_t)cfg.d_model * sizeof(float));
  *out = m;
  return PRISM_OK;
}

float *prism__bart_arena(const prism_bart *m, size_t *count)
{
  if (count)
    *count = m->arena_count;
  return m->arena;
}

const prism__bart_param *prism__bart_params(const prism_bart *m, size_t *n)
{
  *n = m->n_params;
  return m->params;
}

const float *prism__bart_final_logits_bias(const prism_bart *m)
{
  return m->final_logits_bias;
}

void prism__bart_train_config_get(const prism_bart *m, prism__bart_train_config *out)
{
  const prism__bart_config *c = &m->cfg;
  out->dropout = c->dropout;
  out->attention_dropout = c->attention_dropout;
  out->activation_dropout = c->activation_dropout;
  out->encoder_layerdrop = c->encoder_layerdrop;
  out->decoder_layerdrop = c->decoder_layerdrop;
  out->init_std = c->init_std;
  out->pad_token_id = c->pad_token_id;
  out->decoder_start_token_id = c->decoder_start_token_id;
  out->vocab_size = c->vocab_size;
  out->max_positions = c->max_position_embeddings;
}
