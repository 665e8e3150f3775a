/*
 * Generation configuration: the one table of HuggingFace generation keywords,
 * read from a model's config.json and generation_config.json and from the
 * params JSON of requests, and the resolution of a request over the model's
 * defaults into the engine's prism__generate_config.
 *
 * Layers, lowest first: HF GenerationConfig defaults (with BartConfig's token
 * ids, as from_model_config copies them), config.json, generation_config.json,
 * the request. A model file's unknown keys are ignored (config.json is mostly
 * architecture); a request's are errors. A file that asks for an HF feature
 * libprism does not run gets a warning; a request gets PRISM_ERR_UNSUPPORTED.
 */
#include <math.h>
#include <string.h>

#include "common/error.h"
#include "common/json.h"
#include "common/limits.h"
#include "common/params.h"
#include "generate_internal.h"

#define PARAMS_V1_SIZE PRISM__LAYOUT_SIZE(prism_generate_params, seed)

typedef enum {
  KW_INT,        /* int32, >= lo; null: unset */
  KW_TOKEN,      /* int32 token id; null: PRISM_NO_TOKEN (HF None) */
  KW_BOOL,       /* int32 0/1 */
  KW_EARLY,      /* true, false or "never" */
  KW_REAL,       /* double in [rlo, rhi] */
  KW_SEED,       /* uint64 */
  KW_UNSUPPORTED /* an HF feature libprism does not run: fine only at its default */
} kw_kind;

typedef struct keyword {
  const char *name;
  kw_kind kind;
  size_t offset; /* in prism_generate_params; for KW_UNSUPPORTED unused */
  long long lo;
  double rlo, rhi;
  const char *off_value; /* KW_UNSUPPORTED: its default as JSON text */
} keyword;

#define P(field) offsetof(prism_generate_params, field)
#define INT(name, lo) \
  { \
#    name, KW_INT, P(name), lo, 0, 0, NULL \
  }
#define TOKEN(name) \
  { \
#    name, KW_TOKEN, P(name), 0, 0, 0, NULL \
  }
#define REAL(name, lo, hi) \
  { \
#    name, KW_REAL, P(name), 0, lo, hi, NULL \
  }
#define OFF(name, value) \
  { \
#    name, KW_UNSUPPORTED, 0, 0, 0, 0, value \
  }

static const keyword keywords[] = {
  INT(max_length, 1),
  INT(max_new_tokens, 1),
  INT(min_length, 0),
  INT(min_new_tokens, 0),
  INT(num_beams, 1),
  INT(num_return_sequences, 1),
  INT(no_repeat_ngram_size, 0),
  INT(top_k, 0),
  TOKEN(forced_bos_token_id),
  TOKEN(forced_eos_token_id),
  TOKEN(pad_token_id),
  TOKEN(bos_token_id),
  TOKEN(eos_token_id),
  TOKEN(decoder_start_token_id),
  { "do_sample", KW_BOOL, P(do_sample), 0, 0, 0, NULL },
  { "early_stopping", KW_EARLY, P(early_stopping), 0, 0, 0, NULL },
  REAL(length_penalty, -1e6, 1e6),
  REAL(repetition_penalty, 1e-6, 1e6),
  REAL(temperature, 0.0, 1e6),
  REAL(top_p, 0.0, 1.0),
  { "seed", KW_SEED, P(seed), 0, 0, 0, NULL },
  OFF(num_beam_groups, "1"),
  OFF(diversity_penalty, "0.0"),
  OFF(penalty_alpha, "null"),
  OFF(typical_p, "1.0"),
  OFF(epsilon_cutoff, "0.0"),
  OFF(eta_cutoff, "0.0"),
  OFF(encoder_repetition_penalty, "1.0"),
  OFF(encoder_no_repeat_ngram_size, "0"),
  OFF(bad_words_ids, "null"),
  OFF(force_words_ids, "null"),
  OFF(suppress_tokens, "null"),
  OFF(begin_suppress_tokens, "null"),
  OFF(forced_decoder_ids, "null"),
  OFF(sequence_bias, "null"),
  OFF(exponential_decay_length_penalty, "null"),
  OFF(guidance_scale, "null"),
  OFF(renormalize_logits, "false"),
  OFF(constraints, "null"),
};

static const keyword *find_keyword(const char *name)
{
  for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
    if (strcmp(keywords[i].name, name) == 0)
      return &keywords[i];
  return NULL;
}

static int32_t *int_field(prism_generate_params *p, const keyword *k)
{
  return (int32_t *)(void *)((char *)p + k->offset);
}

static double *real_field(prism_generate_params *p, const keyword *k)
{
  return (double *)(void *)((char *)p + k->offset);
}

static int32_t int_value(const prism_generate_params *p, const keyword *k)
{
  return *(const int32_t *)(const void *)((const char *)p + k->offset);
}

static double real_value(const prism_generate_params *p, const keyword *k)
{
  return *(const double *)(const void *)((const char *)p + k->offset);
}

/* Every field unset: what prism_generate_params_init gives. */
static prism_generate_params unset_params(void)
{
  prism_generate_params p;
  memset(&p, 0, sizeof p);
  p.struct_size = sizeof p;
  for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
    const keyword *k = &keywords[i];
    if (k->kind == KW_REAL)
      *real_field(&p, k) = NAN;
    else if (k->kind != KW_SEED && k->kind != KW_UNSUPPORTED)
      *int_field(&p, k) = PRISM_UNSET;
  }
  return p;
}

PRISM_API int prism_generate_params_init(prism_generate_params *params, size_t struct_size)
{
  prism_generate_params unset = unset_params();
  return PRISM__PARAMS_INIT(params, struct_size, &unset, PARAMS_V1_SIZE,
                            "prism_generate_params_init");
}

/* Is `value` the feature's "off" value (its HF default)? */
static int is_off(const json_t *value, const char *off_value)
{
  json_t *off = json_loads(off_value, JSON_DECODE_ANY, NULL);
  int same =
      off && (json_equal(value, off) || (json_is_number(value) && json_is_number(off) &&
                                         json_number_value(value) == json_number_value(off)));
  json_decref(off);
  return same;
}

static int read_early_stopping(const json_t *v, const char *what, int32_t *out)
{
  if (json_is_boolean(v)) {
    *out = json_is_true(v) ? PRISM_EARLY_STOPPING_TRUE : PRISM_EARLY_STOPPING_FALSE;
    return PRISM_OK;
  }
  if (json_is_string(v) && strcmp(json_string_value(v), "never") == 0) {
    *out = PRISM_EARLY_STOPPING_NEVER;
    return PRISM_OK;
  }
  return prism__error(PRISM_ERR_FORMAT,
                      "%s: field \"early_stopping\" must be true, false or \"never\"", what);
}

/*
 * One non-null value of key k in obj, into p. A model file's values are range
 * checked here (with `vocab` bounding token ids), so the error names the file;
 * a request's are checked once merged (prism__generate_resolve).
 */
static int read_value(const json_t *obj, const keyword *k, const char *what, int request,
                      int32_t vocab, prism_generate_params *p)
{
  const json_t *v = json_object_get(obj, k->name);
  long long i;
  int rc;
  switch (k->kind) {
  case KW_INT:
  case KW_TOKEN:
    rc = prism__json_int(obj, k->name, what, 1, request ? 0 : k->lo,
                         k->kind == KW_TOKEN && !request ? vocab - 1 : INT32_MAX, &i);
    if (rc == PRISM_OK)
      *int_field(p, k) = (int32_t)i;
    return rc;
  case KW_BOOL: {
    int on = 0;
    rc = prism__json_bool(obj, k->name, what, 1, &on);
    *int_field(p, k) = rc == PRISM_OK ? on : *int_field(p, k);
    return rc;
  }
  case KW_EARLY:
    return read_early_stopping(v, what, int_field(p, k));
  case KW_REAL:
    rc = prism__json_real(obj, k->name, what, 1, real_field(p, k));
    if (rc == PRISM_OK && !request && !(*real_field(p, k) >= k->rlo && *real_field(p, k) <= k->rhi))
      return prism__error(PRISM_ERR_FORMAT, "%s: field \"%s\" = %g is outside [%g, %g]", what,
                          k->name, *real_field(p, k), k->rlo, k->rhi);
    return rc;
  case KW_SEED:
    rc = prism__json_int(obj, k->name, what, 1, 0, INT64_MAX, &i);
    if (rc == PRISM_OK)
      p->seed = (uint64_t)i;
    return rc;
  case KW_UNSUPPORTED:
    break;
  }
  return PRISM_OK;
}

/* A key whose value is null: a token id becomes "no token"; in a request anything else unset. */
static void read_null(const keyword *k, int request, prism_generate_params *p)
{
  if (k->kind == KW_TOKEN)
    *int_field(p, k) = PRISM_NO_TOKEN;
  else if (request && k->kind == KW_REAL)
    *real_field(p, k) = NAN;
  else if (request && k->kind != KW_SEED && k->kind != KW_UNSUPPORTED)
    *int_field(p, k) = PRISM_UNSET;
}

/*
 * Overlay the keywords of a JSON object onto p. `request`: a params JSON
 * (unknown keys and unsupported features are errors); otherwise a model file
 * named `what` (unknown keys ignored, unsupported features warned about).
 */
static int overlay(prism_generate_params *p, const json_t *obj, const char *what, int request,
                   int32_t vocab)
{
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)obj, key, value)
  {
    const keyword *k = find_keyword(key);
    int rc;
    if (!k && request)
      return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: unknown parameter \"%s\"", what, key);
    if (!k || (!request && k->kind == KW_SEED))
      continue;
    if (k->kind == KW_UNSUPPORTED) {
      if (is_off(value, k->off_value))
        continue;
      if (request)
        return prism__error(PRISM_ERR_UNSUPPORTED,
                            "%s: \"%s\" is an HF generation feature "
                            "libprism does not implement",
                            what, key);
      prism__log(PRISM_LOG_WARN, "%s: \"%s\" is ignored (libprism does not implement it)", what,
                 key);
      continue;
    }
    if (json_is_null(value)) {
      read_null(k, request, p);
      continue;
    }
    if ((rc = read_value(obj, k, what, request, vocab, p)) != PRISM_OK)
      return rc;
  }
  return PRISM_OK;
}

/* Overlay a JSON text: a model file (request 0) or a params JSON (request 1). */
static int overlay_text(prism_generate_params *p, const char *text, size_t len, const char *what,
                        int request, int32_t vocab)
{
  json_t *root;
  int rc = prism__json_parse(text, len, 0, what, &root);
  if (rc != PRISM_OK)
    return rc;
  rc = json_is_object(root) ? overlay(p, root, what, request, vocab)
                            : prism__error(PRISM_ERR_FORMAT, "%s: expected a JSON object", what);
  json_decref(root);
  return rc;
}

PRISM_API int prism_generate_params_parse(prism_generate_params *params, const char *json,
                                          size_t len)
{
  static const char fn[] = "prism_generate_params_parse";
  prism_generate_params unset = unset_params(), p;
  int rc;
  PRISM__CHECK_ARG(params != NULL, "params must not be NULL");
  PRISM__CHECK_ARG(json != NULL, "json must not be NULL");
  rc = PRISM__PARAMS_READ(&p, params, &unset, PARAMS_V1_SIZE, fn);
  if (rc == PRISM_OK)
    rc = overlay_text(&p, json, len, fn, 1, 0);
  if (rc == PRISM_OK) {
    p.struct_size = params->struct_size;
    memcpy(params, &p, params->struct_size);
  }
  return rc;
}

/* ---- the model's defaults ----------------------------------------------------------------- */

/* HF GenerationConfig's defaults, with the model's token ids as from_model_config copies them. */
static prism_generate_params hf_defaults(const prism_bart_info *info)
{
  prism_generate_params p = unset_params();
  p.max_length = 20;
  p.min_length = 0;
  p.num_beams = 1;
  p.num_return_sequences = 1;
  p.early_stopping = PRISM_EARLY_STOPPING_FALSE;
  p.no_repeat_ngram_size = 0;
  p.do_sample = 0;
  p.top_k = 50;
  p.length_penalty = 1.0;
  p.repetition_penalty = 1.0;
  p.temperature = 1.0;
  p.top_p = 1.0;
  p.forced_bos_token_id = PRISM_NO_TOKEN;
  p.forced_eos_token_id = 2 < info->vocab_size ? 2 : PRISM_NO_TOKEN; /* BartConfig's default */
  p.pad_token_id = info->pad_token_id;
  p.bos_token_id = info->bos_token_id;
  p.eos_token_id = info->eos_token_id;
  p.decoder_start_token_id = info->decoder_start_token_id;
  return p;
}

static int overlay_model_file(prism_generate_params *p, const prism_bart *model,
                              const prism_bart_info *info, int which)
{
  const char *text, *source;
  size_t len;
  int rc = prism_bart_config_text(&text, &len, &source, model, which);
  return rc == PRISM_OK && text ? overlay_text(p, text, len, source, 0, info->vocab_size) : rc;
}

/* The request's set fields over the model's defaults. */
static void merge(prism_generate_params *p, const prism_generate_params *request)
{
  for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
    const keyword *k = &keywords[i];
    if (k->kind == KW_REAL && !isnan(real_value(request, k)))
      *real_field(p, k) = real_value(request, k);
    else if (k->kind != KW_REAL && k->kind != KW_SEED && k->kind != KW_UNSUPPORTED &&
             int_value(request, k) != PRISM_UNSET)
      *int_field(p, k) = int_value(request, k);
  }
  p->seed = request->seed;
}

/*
 * The process-wide limits a request meets without knowing its batch: beams,
 * return sequences and new tokens. A model's default length above
 * max_new_tokens is clamped to it; a request that asks for more fails.
 */
static int apply_limits(prism_generate_params *p, const prism_generate_params *req, const char *fn)
{
  prism_limits lim = prism__limits();
  int asked = req->max_length != PRISM_UNSET || req->max_new_tokens != PRISM_UNSET;
  int64_t new_tokens = p->max_new_tokens != PRISM_UNSET ? p->max_new_tokens : p->max_length - 1;
  if (lim.max_beams && p->num_beams > 0 && (uint32_t)p->num_beams > lim.max_beams)
    return prism__error(PRISM_ERR_LIMIT, "%s: num_beams %d is above the limit max_beams %u", fn,
                        (int)p->num_beams, (unsigned)lim.max_beams);
  if (lim.max_return_sequences && p->num_return_sequences > 0 &&
      (uint32_t)p->num_return_sequences > lim.max_return_sequences)
    return prism__error(PRISM_ERR_LIMIT,
                        "%s: num_return_sequences %d is above the limit max_return_sequences %u",
                        fn, (int)p->num_return_sequences, (unsigned)lim.max_return_sequences);
  if (!lim.max_new_tokens || new_tokens <= (int64_t)lim.max_new_tokens)
    return PRISM_OK;
  if (asked)
    return prism__error(
        PRISM_ERR_LIMIT,
        "%s: the request asks for %lld new tokens, above the limit max_new_tokens %u", fn,
        (long long)new_tokens, (unsigned)lim.max_new_tokens);
  p->max_new_tokens = (int32_t)lim.max_new_tokens;
  return PRISM_OK;
}

/* The merged parameters of a request on a model (fields not checked yet). */
static int merged_params(prism_generate_params *p, prism_bart_info *info, const prism_bart *model,
                         const prism_generate_params *request, const char *fn)
{
  prism_generate_params unset = unset_params(), req;
  int rc;
  memset(info, 0, sizeof *info);
  info->struct_size = sizeof *info;
  rc = prism_bart_get_info(info, model);
  if (rc == PRISM_OK)
    rc = PRISM__PARAMS_READ(&req, request, &unset, PARAMS_V1_SIZE, fn);
  if (rc != PRISM_OK)
    return rc;
  *p = hf_defaults(info);
  rc = overlay_model_file(p, model, info, PRISM_BART_CONFIG_JSON);
  if (rc == PRISM_OK)
    rc = overlay_model_file(p, model, info, PRISM_BART_GENERATION_CONFIG_JSON);
  if (rc != PRISM_OK)
    return prism__error_prefix("%s: ", fn);
  merge(p, &req);
  return apply_limits(p, &req, fn);
}

/* ---- resolution: checked values for the engine ------------------------------------------- */

static int bad_param(const char *fn, const char *name, double value, const char *rule)
{
  return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: %s = %g, but it %s", fn, name, value, rule);
}

/* Every field against its keyword's range: integers >= lo, flags, token ids in the vocabulary. */
static int check_ranges(const prism_generate_params *p, int32_t vocab, const char *fn)
{
  for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
    const keyword *k = &keywords[i];
    int32_t v =
        k->kind == KW_REAL || k->kind == KW_SEED || k->kind == KW_UNSUPPORTED ? 0 : int_value(p, k);
    if (k->kind == KW_INT && v != PRISM_UNSET && v < k->lo)
      return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: %s = %d, but it must be at least %d", fn,
                          k->name, (int)v, (int)k->lo);
    if (k->kind == KW_BOOL && v != 0 && v != 1)
      return bad_param(fn, k->name, v, "must be 0 or 1");
    if (k->kind == KW_EARLY && (v < PRISM_EARLY_STOPPING_FALSE || v > PRISM_EARLY_STOPPING_NEVER))
      return bad_param(fn, k->name, v, "must be false (0), true (1) or never (2)");
    if (k->kind == KW_TOKEN && v != PRISM_NO_TOKEN && (v < 0 || v >= vocab))
      return prism__error(PRISM_ERR_OUT_OF_RANGE, "%s: %s = %d is outside the vocabulary [0, %d)",
                          fn, k->name, (int)v, (int)vocab);
  }
  return PRISM_OK;
}

/* Lengths: HF's max_new_tokens, when set, wins over max_length (the decoder prompt is one token). */
static int resolve_lengths(prism__generate_config *c, const prism_generate_params *p,
                           int32_t max_positions, const char *fn)
{
  c->max_length = p->max_length;
  c->min_length = p->min_length;
  c->min_new_tokens = p->min_new_tokens == PRISM_UNSET ? -1 : p->min_new_tokens;
  if (p->max_new_tokens != PRISM_UNSET)
    c->max_length = p->max_new_tokens >= max_positions ? max_positions + 1 : p->max_new_tokens + 1;
  if (c->max_length > max_positions)
    return prism__error(PRISM_ERR_OUT_OF_RANGE,
                        "%s: max_length %d exceeds the model's max_position_embeddings %d", fn,
                        (int)c->max_length, (int)max_positions);
  return PRISM_OK;
}

static int resolve_search(prism__generate_config *c, const prism_generate_params *p, const char *fn)
{
  c->num_beams = p->num_beams;
  c->num_return_sequences = p->num_return_sequences;
  c->do_sample = p->do_sample;
  c->early_stopping = p->early_stopping;
  if (c->num_beams == 1 && !c->do_sample && c->num_return_sequences != 1)
    return bad_param(fn, "num_return_sequences", c->num_return_sequences,
                     "must be 1 for greedy search");
  if (c->num_beams > 1 && c->num_return_sequences > c->num_beams)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: num_return_sequences %d exceeds num_beams %d", fn,
                        (int)c->num_return_sequences, (int)c->num_beams);
  return PRISM_OK;
}

static int resolve_scores(prism__generate_config *c, const prism_generate_params *p, const char *fn)
{
  c->no_repeat_ngram_size = p->no_repeat_ngram_size;
  c->top_k = p->top_k;
  c->length_penalty = p->length_penalty;
  c->repetition_penalty = p->repetition_penalty;
  c->temperature = p->temperature;
  c->top_p = p->top_p;
  c->seed = p->seed;
  if (!isfinite(c->length_penalty))
    return bad_param(fn, "length_penalty", c->length_penalty, "must be finite");
  if (!(c->repetition_penalty > 0) || !isfinite(c->repetition_penalty))
    return bad_param(fn, "repetition_penalty", c->repetition_penalty, "must be > 0");
  if (!(c->top_p > 0 && c->top_p <= 1))
    return bad_param(fn, "top_p", c->top_p, "must be in (0, 1]");
  if (c->do_sample && (!(c->temperature > 0) || !isfinite(c->temperature)))
    return bad_param(fn, "temperature", c->temperature, "must be > 0 when sampling");
  return PRISM_OK;
}

static int resolve_tokens(prism__generate_config *c, const prism_generate_params *p, const char *fn)
{
  c->forced_bos_token_id = p->forced_bos_token_id;
  c->forced_eos_token_id = p->forced_eos_token_id;
  c->eos_token_id = p->eos_token_id;
  /* HF: a model without a pad token pads with EOS; without a start token starts with BOS. */
  c->pad_token_id = p->pad_token_id != PRISM_NO_TOKEN ? p->pad_token_id : p->eos_token_id;
  c->decoder_start_token_id =
      p->decoder_start_token_id != PRISM_NO_TOKEN ? p->decoder_start_token_id : p->bos_token_id;
  if (c->decoder_start_token_id == PRISM_NO_TOKEN)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: neither decoder_start_token_id nor bos_token_id is set", fn);
  if (c->eos_token_id != PRISM_NO_TOKEN && c->pad_token_id == PRISM_NO_TOKEN)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: the model has no pad_token_id", fn);
  return PRISM_OK;
}

int prism__generate_resolve(prism__generate_config *cfg, const prism_generate_params *p,
                            int32_t vocab_size, int32_t max_positions, const char *fn)
{
  prism__generate_config c;
  int rc;
  memset(&c, 0, sizeof c);
  c.vocab_size = vocab_size;
  rc = check_ranges(p, vocab_size, fn);
  if (rc == PRISM_OK)
    rc = resolve_lengths(&c, p, max_positions, fn);
  if (rc == PRISM_OK)
    rc = resolve_search(&c, p, fn);
  if (rc == PRISM_OK)
    rc = resolve_scores(&c, p, fn);
  if (rc == PRISM_OK)
    rc = resolve_tokens(&c, p, fn);
  if (rc == PRISM_OK)
    *cfg = c;
  return rc;
}

int prism__generate_prepare(prism__generate_config *cfg, const prism_bart *model,
                            const prism_generate_params *request, const char *fn)
{
  prism_generate_params p;
  prism_bart_info info;
  int rc = merged_params(&p, &info, model, request, fn);
  return rc == PRISM_OK
             ? prism__generate_resolve(cfg, &p, info.vocab_size, info.max_position_embeddings, fn)
             : rc;
}

PRISM_API int prism_generate_params_from_model(prism_generate_params *out, const prism_bart *model,
                                               const prism_generate_params *request)
{
  static const char fn[] = "prism_generate_params_from_model";
  prism__generate_config cfg;
  prism_generate_params p;
  prism_bart_info info;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(model != NULL, "model must not be NULL");
  rc = merged_params(&p, &info, model, request, fn);
  if (rc == PRISM_OK)
    rc = prism__generate_resolve(&cfg, &p, info.vocab_size, info.max_position_embeddings, fn);
  return rc == PRISM_OK ? PRISM__PARAMS_WRITE(out, &p, PARAMS_V1_SIZE, fn) : rc;
}
