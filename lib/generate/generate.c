/*
 * The public generation API: parameters (HF names, unset = the model's
 * default), request validation, the BART session as a prism__generate_decoder, and
 * the result object.
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "bart/bart_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/limits.h"
#include "generate_internal.h"

/* Size of the first release of prism_generate_params (frozen). */
#define PARAMS_V1_SIZE (offsetof(prism_generate_params, seed) + sizeof(uint64_t))
#define STATS_V1_SIZE (offsetof(prism_generate_stats, rows) + sizeof(int32_t))

static void params_unset(prism_generate_params *p)
{
  memset(p, 0, sizeof *p);
  p->struct_size = sizeof *p;
  p->max_length = p->max_new_tokens = p->min_length = p->min_new_tokens = PRISM_GENERATE_DEFAULT;
  p->num_beams = p->num_return_sequences = PRISM_GENERATE_DEFAULT;
  p->early_stopping = PRISM_EARLY_STOPPING_DEFAULT;
  p->no_repeat_ngram_size = PRISM_GENERATE_DEFAULT;
  p->forced_bos_token_id = p->forced_eos_token_id = PRISM_GENERATE_DEFAULT;
  p->do_sample = p->top_k = PRISM_GENERATE_DEFAULT;
  p->length_penalty = p->repetition_penalty = p->temperature = p->top_p = NAN;
  p->seed = 0;
}

PRISM_API int prism_generate_params_init(prism_generate_params *params, size_t struct_size)
{
  prism_generate_params full;
  PRISM_CHECK_ARG(params != NULL);
  PRISM_CHECK_ARG(struct_size >= PARAMS_V1_SIZE);
  params_unset(&full);
  full.struct_size = struct_size;
  memcpy(params, &full, struct_size < sizeof full ? struct_size : sizeof full);
  return PRISM_OK;
}

int prism__generate_params_read(const prism_generate_params *in, prism_generate_params *out)
{
  params_unset(out);
  if (!in)
    return PRISM_OK;
  if (in->struct_size < PARAMS_V1_SIZE)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "generate: params->struct_size %zu is smaller than version 1 "
                        "(%zu); call prism_generate_params_init",
                        in->struct_size, (size_t)PARAMS_V1_SIZE);
  memcpy(out, in, in->struct_size < sizeof *out ? in->struct_size : sizeof *out);
  out->struct_size = sizeof *out;
  return PRISM_OK;
}

static int bad_param(const char *name, double value, const char *rule)
{
  return prism__error(PRISM_ERR_INVALID_ARGUMENT, "generate: %s = %g (%s)", name, value, rule);
}

/* An integer parameter: unset takes `def`; set values must be >= lo. */
static int pick_int(const char *name, int32_t value, int32_t def, int32_t lo, int32_t *out)
{
  if (value == PRISM_GENERATE_DEFAULT) {
    *out = def;
    return PRISM_OK;
  }
  if (value < lo)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "generate: %s = %d (must be >= %d)", name,
                        (int)value, (int)lo);
  *out = value;
  return PRISM_OK;
}

/* A forced token: unset takes the default, PRISM_GENERATE_NO_TOKEN forces nothing. */
static int pick_token(const char *name, int32_t value, int32_t def, int32_t vocab, int32_t *out)
{
  if (value == PRISM_GENERATE_NO_TOKEN) {
    *out = -1;
    return PRISM_OK;
  }
  *out = value == PRISM_GENERATE_DEFAULT ? def : value;
  if (*out < -1 || *out >= vocab)
    return prism__error(PRISM_ERR_OUT_OF_RANGE,
                        "generate: %s = %d is outside the vocabulary "
                        "[0, %d)",
                        name, (int)*out, (int)vocab);
  return PRISM_OK;
}

static double pick_real(double value, double def)
{
  return isnan(value) ? def : value;
}

static int resolve_lengths(prism__generate_config *c, const prism__bart_generation *g,
                           const prism_generate_params *p, int32_t max_positions)
{
  int32_t new_tokens = -1;
  int rc = pick_int("max_length", p->max_length, g->max_length, 1, &c->max_length);
  if (rc == PRISM_OK)
    rc = pick_int("max_new_tokens", p->max_new_tokens, g->max_new_tokens, 1, &new_tokens);
  if (rc == PRISM_OK)
    rc = pick_int("min_length", p->min_length, g->min_length, 0, &c->min_length);
  if (rc == PRISM_OK)
    rc = pick_int("min_new_tokens", p->min_new_tokens, g->min_new_tokens, 0, &c->min_new_tokens);
  if (rc != PRISM_OK)
    return rc;
  /* HF: max_new_tokens, when set, wins over max_length (the decoder prompt is one token). */
  if (new_tokens >= 1)
    c->max_length = new_tokens >= max_positions ? max_positions + 1 : new_tokens + 1;
  if (c->max_length < 1)
    return bad_param("max_length", c->max_length, "must be >= 1");
  if (c->max_length > max_positions)
    return prism__error(PRISM_ERR_OUT_OF_RANGE,
                        "generate: max_length %d exceeds the model's "
                        "max_position_embeddings %d",
                        (int)c->max_length, (int)max_positions);
  return PRISM_OK;
}

static int resolve_search(prism__generate_config *c, const prism__bart_generation *g,
                          const prism_generate_params *p)
{
  int32_t sample = 0;
  int rc = pick_int("num_beams", p->num_beams, g->num_beams, 1, &c->num_beams);
  if (rc == PRISM_OK)
    rc = pick_int("num_return_sequences", p->num_return_sequences, g->num_return_sequences, 1,
                  &c->num_return_sequences);
  if (rc == PRISM_OK)
    rc = pick_int("do_sample", p->do_sample, g->do_sample, 0, &sample);
  if (rc == PRISM_OK)
    rc = pick_int("early_stopping", p->early_stopping, g->early_stopping, 0, &c->early_stopping);
  if (rc != PRISM_OK)
    return rc;
  if (sample > 1)
    return bad_param("do_sample", sample, "must be 0 or 1");
  if (c->early_stopping > PRISM_EARLY_STOPPING_NEVER)
    return bad_param("early_stopping", c->early_stopping,
                     "must be false (0), true (1) or never (2)");
  c->do_sample = sample;
  if (c->num_beams == 1 && !sample && c->num_return_sequences != 1)
    return bad_param("num_return_sequences", c->num_return_sequences,
                     "greedy search returns one sequence per input");
  if (c->num_beams > 1 && c->num_return_sequences > c->num_beams)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "generate: num_return_sequences %d exceeds "
                        "num_beams %d",
                        (int)c->num_return_sequences, (int)c->num_beams);
  return PRISM_OK;
}

static int resolve_scores(prism__generate_config *c, const prism__bart_generation *g,
                          const prism_generate_params *p)
{
  int rc = pick_int("no_repeat_ngram_size", p->no_repeat_ngram_size, g->no_repeat_ngram_size, 0,
                    &c->no_repeat_ngram_size);
  if (rc == PRISM_OK)
    rc = pick_int("top_k", p->top_k, g->top_k, 0, &c->top_k);
  if (rc != PRISM_OK)
    return rc;
  c->length_penalty = pick_real(p->length_penalty, g->length_penalty);
  c->repetition_penalty = pick_real(p->repetition_penalty, g->repetition_penalty);
  c->temperature = pick_real(p->temperature, g->temperature);
  c->top_p = pick_real(p->top_p, g->top_p);
  c->seed = p->seed;
  if (!isfinite(c->length_penalty))
    return bad_param("length_penalty", c->length_penalty, "must be finite");
  if (!(c->repetition_penalty > 0) || !isfinite(c->repetition_penalty))
    return bad_param("repetition_penalty", c->repetition_penalty, "must be > 0");
  if (!(c->top_p > 0 && c->top_p <= 1))
    return bad_param("top_p", c->top_p, "must be in (0, 1]");
  if (c->do_sample && (!(c->temperature > 0) || !isfinite(c->temperature)))
    return bad_param("temperature", c->temperature, "must be > 0 when sampling");
  return PRISM_OK;
}

static int resolve_tokens(prism__generate_config *c, const prism__bart_generation *g,
                          const prism_generate_params *p)
{
  int32_t vocab = c->vocab_size;
  int rc = pick_token("forced_bos_token_id", p->forced_bos_token_id, g->forced_bos_token_id, vocab,
                      &c->forced_bos_token_id);
  if (rc == PRISM_OK)
    rc = pick_token("forced_eos_token_id", p->forced_eos_token_id, g->forced_eos_token_id, vocab,
                    &c->forced_eos_token_id);
  if (rc != PRISM_OK)
    return rc;
  c->eos_token_id = g->eos_token_id;
  /* HF: a model without a pad token pads with EOS; without a start token starts with BOS. */
  c->pad_token_id = g->pad_token_id >= 0 ? g->pad_token_id : g->eos_token_id;
  c->decoder_start_token_id =
      g->decoder_start_token_id >= 0 ? g->decoder_start_token_id : g->bos_token_id;
  if (c->decoder_start_token_id < 0 || c->decoder_start_token_id >= vocab)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "generate: the model defines neither "
                                                    "decoder_start_token_id nor bos_token_id");
  if (c->eos_token_id >= 0 && (c->pad_token_id < 0 || c->pad_token_id >= vocab))
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "generate: the model has no usable "
                                                    "pad_token_id");
  return PRISM_OK;
}

/* Model defaults that select HF features libprism does not run are named, not hidden. */
static void warn_ignored(const prism__bart_generation *g)
{
  if (g->num_beam_groups > 1)
    prism__log(PRISM_LOG_WARN,
               "generate: the model's num_beam_groups %d is ignored (group beam "
               "search is not implemented)",
               (int)g->num_beam_groups);
  if (g->encoder_no_repeat_ngram_size > 0)
    prism__log(PRISM_LOG_WARN, "generate: the model's encoder_no_repeat_ngram_size %d is ignored",
               (int)g->encoder_no_repeat_ngram_size);
}

int prism__generate_resolve(prism__generate_config *cfg, const prism__bart_generation *defaults,
                            int32_t vocab_size, int32_t max_positions,
                            const prism_generate_params *params)
{
  prism_generate_params p;
  prism__generate_config c;
  int rc = prism__generate_params_read(params, &p);
  memset(&c, 0, sizeof c);
  c.vocab_size = vocab_size;
  if (rc == PRISM_OK)
    rc = resolve_lengths(&c, defaults, &p, max_positions);
  if (rc == PRISM_OK)
    rc = resolve_search(&c, defaults, &p);
  if (rc == PRISM_OK)
    rc = resolve_scores(&c, defaults, &p);
  if (rc == PRISM_OK)
    rc = resolve_tokens(&c, defaults, &p);
  if (rc == PRISM_OK) {
    warn_ignored(defaults);
    *cfg = c;
  }
  return rc;
}

/* ---- the request ------------------------------------------------------------------------ */

static int check_input(const prism_bart *model, const int32_t *ids, const int32_t *mask,
                       size_t batch, size_t src_len)
{
  const prism__bart_config *mc = &model->cfg;
  if (src_len > (size_t)mc->max_position_embeddings)
    return prism__error(PRISM_ERR_OUT_OF_RANGE,
                        "generate: input length %zu exceeds the model's "
                        "max_position_embeddings %d",
                        src_len, (int)mc->max_position_embeddings);
  for (size_t b = 0; b < batch; b++) {
    size_t live = 0;
    for (size_t t = 0; t < src_len; t++) {
      int32_t id = ids[b * src_len + t];
      int32_t m = mask ? mask[b * src_len + t] : id != mc->pad_token_id;
      if (id < 0 || id >= mc->vocab_size)
        return prism__error(PRISM_ERR_OUT_OF_RANGE,
                            "generate: input_ids[%zu][%zu] = %d is "
                            "outside the vocabulary [0, %d)",
                            b, t, (int)id, (int)mc->vocab_size);
      if (m != 0 && m != 1)
        return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                            "generate: attention_mask[%zu][%zu] = %d "
                            "(must be 0 or 1)",
                            b, t, (int)m);
      live += (size_t)m;
    }
    if (!live)
      return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                          "generate: input row %zu is empty (no "
                          "token with attention_mask 1)",
                          b);
  }
  return PRISM_OK;
}

static int session_start(void *ctx, size_t rows_per_input)
{
  return prism_bart_session_decoder_start(ctx, rows_per_input);
}

static int session_step(void *ctx, const int32_t *tokens, const float **logits)
{
  return prism_bart_session_decoder_step(ctx, tokens, logits);
}

static int session_reorder(void *ctx, const int32_t *src_rows)
{
  return prism_bart_session_decoder_reorder(ctx, src_rows);
}

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The process-wide caps of prism_limits_set(), before anything runs. */
static int check_limits(const prism__generate_config *cfg, size_t batch)
{
  prism_limits lim = prism__limits();
  if (lim.max_batch && batch > lim.max_batch)
    return prism__error(PRISM_ERR_LIMIT, "generate: batch of %zu rows, above the limit of %u",
                        batch, (unsigned)lim.max_batch);
  if (lim.max_new_tokens && (uint32_t)cfg->max_length - 1 > lim.max_new_tokens)
    return prism__error(
        PRISM_ERR_LIMIT, "generate: max_length %d allows %d new tokens, above the limit of %u",
        (int)cfg->max_length, (int)cfg->max_length - 1, (unsigned)lim.max_new_tokens);
  return PRISM_OK;
}

PRISM_API int prism_generate_run(prism_generate_result **out, prism_bart_session *session,
                                 const int32_t *input_ids, const int32_t *attention_mask,
                                 size_t batch, size_t src_len, const prism_generate_params *params,
                                 prism_generate_stream_fn stream, void *payload)
{
  const prism_bart *model;
  prism__generate_decoder dec = { NULL, session_start, session_step, session_reorder };
  prism__generate_config cfg;
  prism_generate_result *res = NULL;
  double t0, t1;
  int rc;

  PRISM_CHECK_ARG(out != NULL);
  PRISM_CHECK_ARG(session != NULL);
  PRISM_CHECK_ARG(input_ids != NULL);
  PRISM_CHECK_ARG(batch >= 1 && src_len >= 1);
  model = prism__bart_session_model(session);
  rc = prism__generate_resolve(&cfg, prism__bart_generation_defaults(model), model->cfg.vocab_size,
                               model->cfg.max_position_embeddings, params);
  if (rc == PRISM_OK)
    rc = check_limits(&cfg, batch);
  if (rc == PRISM_OK)
    rc = check_input(model, input_ids, attention_mask, batch, src_len);
  if (rc != PRISM_OK)
    return rc;
  /* The last token is never fed back, so max_length - 1 decoder positions suffice. */
  if ((size_t)cfg.max_length - 1 > prism__bart_session_max_target(session))
    return prism__error(PRISM_ERR_LIMIT,
                        "generate: max_length %d needs %d decoder positions; "
                        "the session holds %zu (max_target_len)",
                        (int)cfg.max_length, (int)cfg.max_length - 1,
                        prism__bart_session_max_target(session));
  t0 = now_ms();
  rc = prism_bart_session_encode(session, input_ids, attention_mask, batch, src_len, NULL);
  if (rc != PRISM_OK)
    return rc;
  t1 = now_ms();
  dec.ctx = session;
  rc = prism__generate_decode(&res, &dec, &cfg, batch, stream, payload);
  if (rc != PRISM_OK)
    return rc;
  res->stats.encode_ms = t1 - t0;
  res->stats.decode_ms = now_ms() - t1;
  *out = res;
  return PRISM_OK;
}

/* ---- the result ------------------------------------------------------------------------- */

int prism__generate_result_new(prism_generate_result **out, size_t count, size_t width,
                               int with_scores)
{
  prism_generate_result *r = prism__calloc(1, sizeof *r);
  if (!r)
    return PRISM_ERR_NO_MEMORY;
  r->count = count;
  r->width = width;
  r->sequences = prism__mallocn(count, width * sizeof *r->sequences);
  r->lengths = prism__mallocn(count, sizeof *r->lengths);
  if (with_scores)
    r->scores = prism__mallocn(count, sizeof *r->scores);
  if (!r->sequences || !r->lengths || (with_scores && !r->scores)) {
    prism_generate_result_free(r);
    return PRISM_ERR_NO_MEMORY;
  }
  r->stats.struct_size = sizeof r->stats;
  *out = r;
  return PRISM_OK;
}

PRISM_API void prism_generate_result_free(prism_generate_result *result)
{
  if (!result)
    return;
  prism__free(result->sequences);
  prism__free(result->lengths);
  prism__free(result->scores);
  prism__free(result);
}

PRISM_API size_t prism_generate_result_count(const prism_generate_result *result)
{
  return result ? result->count : 0;
}

PRISM_API size_t prism_generate_result_width(const prism_generate_result *result)
{
  return result ? result->width : 0;
}

PRISM_API const int32_t *prism_generate_result_sequences(const prism_generate_result *result)
{
  return result ? result->sequences : NULL;
}

PRISM_API const int32_t *prism_generate_result_lengths(const prism_generate_result *result)
{
  return result ? result->lengths : NULL;
}

PRISM_API const float *prism_generate_result_scores(const prism_generate_result *result)
{
  return result ? result->scores : NULL;
}

PRISM_API int prism_generate_result_stats(const prism_generate_result *result,
                                          prism_generate_stats *stats)
{
  prism_generate_stats full;
  PRISM_CHECK_ARG(result != NULL);
  PRISM_CHECK_ARG(stats != NULL);
  PRISM_CHECK_ARG(stats->struct_size >= STATS_V1_SIZE);
  full = result->stats;
  full.struct_size = stats->struct_size;
  memcpy(stats, &full, stats->struct_size < sizeof full ? stats->struct_size : sizeof full);
  return PRISM_OK;
}
