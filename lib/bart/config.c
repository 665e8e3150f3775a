/*
 * config.json and generation_config.json. Absent fields take the defaults of
 * HuggingFace's BartConfig / GenerationConfig, as transformers does; present
 * fields are type- and range-checked, and variants the forward pass does not
 * implement are refused rather than silently run wrong.
 */
#include <math.h>
#include <string.h>

#include "bart_internal.h"
#include "common/error.h"
#include "common/json.h"

/* Refuse dimensions no real checkpoint has before they size any allocation. */
#define MAX_VOCAB (1 << 22)
#define MAX_D_MODEL (1 << 16)
#define MAX_LAYERS 1024
#define MAX_FFN (1 << 18)
#define MAX_POSITIONS (1 << 20)

typedef struct int_field {
  const char *key;
  long long def, lo, hi;
  int32_t *dst;
} int_field;

/*
 * Fields whose range starts at -1 use -1 for "unset": an explicit JSON null
 * unsets them (HF's None), overriding a default from an earlier source.
 */
static int read_ints(const json_t *root, const char *what, const int_field *fields, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    long long v = fields[i].def;
    const json_t *raw = json_object_get(root, fields[i].key);
    if (raw && json_is_null(raw) && fields[i].lo == -1) {
      *fields[i].dst = -1;
      continue;
    }
    int rc = prism__json_int(root, fields[i].key, what, 0, fields[i].lo, fields[i].hi, &v);
    if (rc != PRISM_OK && rc != PRISM_ERR_NOT_FOUND)
      return rc;
    *fields[i].dst = (int32_t)v;
  }
  return PRISM_OK;
}

/* Keys whose `true` selects an architecture variant this forward pass does not run. */
static int refuse_variants(const json_t *root, const char *what)
{
  static const char *const unsupported_if_true[] = {
    "normalize_before",
    "add_final_layer_norm",
    "add_bias_logits",
    "static_position_embeddings",
  };
  for (size_t i = 0; i < sizeof unsupported_if_true / sizeof unsupported_if_true[0]; i++) {
    int on = 0;
    int rc = prism__json_bool(root, unsupported_if_true[i], what, 0, &on);
    if (rc != PRISM_OK && rc != PRISM_ERR_NOT_FOUND)
      return rc;
    if (on)
      return prism__error(PRISM_ERR_UNSUPPORTED,
                          "%s: \"%s\": true is a BART variant libprism does not support", what,
                          unsupported_if_true[i]);
  }
  return PRISM_OK;
}

static int read_model_type(const json_t *root, const char *what)
{
  const char *type = NULL;
  int rc = prism__json_str(root, "model_type", what, 1, &type);
  if (rc != PRISM_OK)
    return rc;
  if (strcmp(type, "bart") != 0)
    return prism__error(PRISM_ERR_UNSUPPORTED,
                        "%s: model_type \"%s\" is not supported (only \"bart\")", what, type);
  return PRISM_OK;
}

static int read_activation(const json_t *root, const char *what, prism__bart_config *cfg)
{
  static const struct {
    const char *name;
    prism__bart_act act;
  } acts[] = {
    { "gelu", PRISM__BART_ACT_GELU },         { "relu", PRISM__BART_ACT_RELU },
    { "gelu_new", PRISM__BART_ACT_GELU_NEW }, { "silu", PRISM__BART_ACT_SILU },
    { "swish", PRISM__BART_ACT_SILU },
  };
  const char *name = "gelu";
  int rc = prism__json_str(root, "activation_function", what, 0, &name);
  if (rc != PRISM_OK && rc != PRISM_ERR_NOT_FOUND)
    return rc;
  for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
    if (strcmp(name, acts[i].name) == 0) {
      cfg->activation = acts[i].act;
      cfg->activation_name = acts[i].name;
      return PRISM_OK;
    }
  }
  return prism__error(PRISM_ERR_UNSUPPORTED,
                      "%s: activation_function \"%s\" is not supported "
                      "(gelu, relu, gelu_new, silu)",
                      what, name);
}

static int check_heads(const char *what, const char *key, int32_t heads, int32_t d_model)
{
  if (d_model % heads != 0)
    return prism__error(PRISM_ERR_FORMAT, "%s: d_model %d is not divisible by %s %d", what,
                        (int)d_model, key, (int)heads);
  return PRISM_OK;
}

/* The six special ids, in the order of special_id_keys; -1 means unset. */
static const char *const special_id_keys[6] = {
  "pad_token_id",           "bos_token_id",        "eos_token_id",
  "decoder_start_token_id", "forced_bos_token_id", "forced_eos_token_id",
};

/* pad/bos/eos/decoder_start may be unset (-1) as in HF; forced ids likewise. */
static int check_special_ids(const char *what, int32_t vocab_size, const int32_t ids[6])
{
  for (size_t i = 0; i < 6; i++) {
    if (ids[i] == -1)
      continue;
    if (ids[i] < 0 || ids[i] >= vocab_size)
      return prism__error(PRISM_ERR_FORMAT, "%s: %s %d is outside the vocabulary [0, %d)", what,
                          special_id_keys[i], (int)ids[i], (int)vocab_size);
  }
  return PRISM_OK;
}

static int check_config_ids(const char *what, const prism__bart_config *c)
{
  const int32_t ids[6] = {
    c->pad_token_id,           c->bos_token_id,        c->eos_token_id,
    c->decoder_start_token_id, c->forced_bos_token_id, c->forced_eos_token_id
  };
  if (c->decoder_start_token_id < 0)
    return prism__error(PRISM_ERR_FORMAT, "%s: decoder_start_token_id is required", what);
  return check_special_ids(what, c->vocab_size, ids);
}

static int check_generation_ids(const char *what, int32_t vocab_size,
                                const prism__bart_generation *g)
{
  const int32_t ids[6] = {
    g->pad_token_id,           g->bos_token_id,        g->eos_token_id,
    g->decoder_start_token_id, g->forced_bos_token_id, g->forced_eos_token_id
  };
  if (g->decoder_start_token_id < 0)
    return prism__error(PRISM_ERR_FORMAT, "%s: decoder_start_token_id is required", what);
  return check_special_ids(what, vocab_size, ids);
}

static int read_dims(const json_t *root, const char *what, prism__bart_config *c)
{
  const int_field fields[] = {
    { "vocab_size", 50265, 1, MAX_VOCAB, &c->vocab_size },
    { "d_model", 1024, 1, MAX_D_MODEL, &c->d_model },
    { "encoder_layers", 12, 0, MAX_LAYERS, &c->encoder_layers },
    { "decoder_layers", 12, 1, MAX_LAYERS, &c->decoder_layers },
    { "encoder_attention_heads", 16, 1, MAX_D_MODEL, &c->encoder_heads },
    { "decoder_attention_heads", 16, 1, MAX_D_MODEL, &c->decoder_heads },
    { "encoder_ffn_dim", 4096, 1, MAX_FFN, &c->encoder_ffn_dim },
    { "decoder_ffn_dim", 4096, 1, MAX_FFN, &c->decoder_ffn_dim },
    { "max_position_embeddings", 1024, 1, MAX_POSITIONS, &c->max_position_embeddings },
    { "pad_token_id", 1, -1, INT32_MAX, &c->pad_token_id },
    { "bos_token_id", 0, -1, INT32_MAX, &c->bos_token_id },
    { "eos_token_id", 2, -1, INT32_MAX, &c->eos_token_id },
    { "decoder_start_token_id", 2, -1, INT32_MAX, &c->decoder_start_token_id },
    { "forced_bos_token_id", -1, -1, INT32_MAX, &c->forced_bos_token_id },
    { "forced_eos_token_id", 2, -1, INT32_MAX, &c->forced_eos_token_id },
  };
  int rc = read_ints(root, what, fields, sizeof fields / sizeof fields[0]);
  if (rc == PRISM_OK)
    rc = check_heads(what, "encoder_attention_heads", c->encoder_heads, c->d_model);
  if (rc == PRISM_OK)
    rc = check_heads(what, "decoder_attention_heads", c->decoder_heads, c->d_model);
  if (rc == PRISM_OK)
    rc = check_config_ids(what, c);
  return rc;
}

static void generation_hf_defaults(prism__bart_generation *g)
{
  memset(g, 0, sizeof *g);
  g->max_length = 20;
  g->max_new_tokens = -1;
  g->min_new_tokens = -1;
  g->num_beams = 1;
  g->num_beam_groups = 1;
  g->length_penalty = 1.0;
  g->repetition_penalty = 1.0;
  g->temperature = 1.0;
  g->top_k = 50;
  g->top_p = 1.0;
  g->num_return_sequences = 1;
}

static int read_early_stopping(const json_t *root, const char *what, int *out)
{
  const json_t *v = json_object_get(root, "early_stopping");
  if (!v || json_is_null(v))
    return PRISM_OK;
  if (json_is_boolean(v)) {
    *out = json_is_true(v) ? PRISM_BART_EARLY_STOP_TRUE : PRISM_BART_EARLY_STOP_FALSE;
    return PRISM_OK;
  }
  if (json_is_string(v) && strcmp(json_string_value(v), "never") == 0) {
    *out = PRISM_BART_EARLY_STOP_NEVER;
    return PRISM_OK;
  }
  return prism__error(PRISM_ERR_FORMAT,
                      "%s: field \"early_stopping\" must be true, false or \"never\"", what);
}

typedef struct real_field {
  const char *key;
  double lo, hi;
  double *dst;
} real_field;

static int read_reals(const json_t *root, const char *what, const real_field *fields, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    double v;
    int rc = prism__json_real(root, fields[i].key, what, 0, &v);
    if (rc == PRISM_ERR_NOT_FOUND)
      continue;
    if (rc != PRISM_OK)
      return rc;
    if (!(v >= fields[i].lo && v <= fields[i].hi))
      return prism__error(PRISM_ERR_FORMAT, "%s: field \"%s\" = %g is outside [%g, %g]", what,
                          fields[i].key, v, fields[i].lo, fields[i].hi);
    *fields[i].dst = v;
  }
  return PRISM_OK;
}

/* Overlay the generation fields present in `root` onto *g (which holds the defaults so far). */
static int overlay_generation(const json_t *root, const char *what, prism__bart_generation *g)
{
  const int_field ints[] = {
    { "max_length", g->max_length, 0, INT32_MAX, &g->max_length },
    { "max_new_tokens", g->max_new_tokens, -1, INT32_MAX, &g->max_new_tokens },
    { "min_length", g->min_length, 0, INT32_MAX, &g->min_length },
    { "min_new_tokens", g->min_new_tokens, -1, INT32_MAX, &g->min_new_tokens },
    { "num_beams", g->num_beams, 1, INT32_MAX, &g->num_beams },
    { "num_beam_groups", g->num_beam_groups, 1, INT32_MAX, &g->num_beam_groups },
    { "no_repeat_ngram_size", g->no_repeat_ngram_size, 0, INT32_MAX, &g->no_repeat_ngram_size },
    { "encoder_no_repeat_ngram_size", g->encoder_no_repeat_ngram_size, 0, INT32_MAX,
      &g->encoder_no_repeat_ngram_size },
    { "top_k", g->top_k, 0, INT32_MAX, &g->top_k },
    { "num_return_sequences", g->num_return_sequences, 1, INT32_MAX, &g->num_return_sequences },
    { "pad_token_id", g->pad_token_id, -1, INT32_MAX, &g->pad_token_id },
    { "bos_token_id", g->bos_token_id, -1, INT32_MAX, &g->bos_token_id },
    { "eos_token_id", g->eos_token_id, -1, INT32_MAX, &g->eos_token_id },
    { "decoder_start_token_id", g->decoder_start_token_id, -1, INT32_MAX,
      &g->decoder_start_token_id },
    { "forced_bos_token_id", g->forced_bos_token_id, -1, INT32_MAX, &g->forced_bos_token_id },
    { "forced_eos_token_id", g->forced_eos_token_id, -1, INT32_MAX, &g->forced_eos_token_id },
  };
  const real_field reals[] = {
    { "length_penalty", -1e6, 1e6, &g->length_penalty },
    { "repetition_penalty", 1e-6, 1e6, &g->repetition_penalty },
    { "temperature", 0.0, 1e6, &g->temperature },
    { "top_p", 0.0, 1.0, &g->top_p },
  };
  int rc = read_ints(root, what, ints, sizeof ints / sizeof ints[0]);
  if (rc == PRISM_OK)
    rc = read_reals(root, what, reals, sizeof reals / sizeof reals[0]);
  if (rc == PRISM_OK)
    rc = prism__json_bool(root, "do_sample", what, 0, &g->do_sample);
  if (rc == PRISM_ERR_NOT_FOUND)
    rc = PRISM_OK;
  if (rc == PRISM_OK)
    rc = read_early_stopping(root, what, &g->early_stopping);
  return rc;
}

static int parse_object(const char *text, size_t len, const char *what, json_t **root)
{
  int rc = prism__json_parse(text, len, 0, what, root);
  if (rc != PRISM_OK)
    return rc;
  if (!json_is_object(*root)) {
    json_decref(*root);
    return prism__error(PRISM_ERR_FORMAT, "%s: the top level must be a JSON object", what);
  }
  return PRISM_OK;
}

int prism__bart_parse_config(const char *config_json, size_t config_len, const char *what,
                             prism__bart_config *cfg, prism__bart_generation *gen)
{
  json_t *root;
  int rc = parse_object(config_json, config_len, what, &root);
  if (rc != PRISM_OK)
    return rc;
  memset(cfg, 0, sizeof *cfg);
  rc = read_model_type(root, what);
  if (rc == PRISM_OK)
    rc = refuse_variants(root, what);
  if (rc == PRISM_OK)
    rc = read_dims(root, what, cfg);
  if (rc == PRISM_OK)
    rc = prism__json_bool(root, "scale_embedding", what, 0, &cfg->scale_embedding);
  if (rc == PRISM_ERR_NOT_FOUND)
    rc = PRISM_OK;
  if (rc == PRISM_OK)
    rc = read_activation(root, what, cfg);
  if (rc == PRISM_OK) {
    generation_hf_defaults(gen);
    gen->pad_token_id = cfg->pad_token_id;
    gen->bos_token_id = cfg->bos_token_id;
    gen->eos_token_id = cfg->eos_token_id;
    gen->decoder_start_token_id = cfg->decoder_start_token_id;
    gen->forced_bos_token_id = cfg->forced_bos_token_id;
    gen->forced_eos_token_id = cfg->forced_eos_token_id;
    rc = overlay_generation(root, what, gen);
  }
  if (rc == PRISM_OK)
    rc = check_generation_ids(what, cfg->vocab_size, gen);
  json_decref(root);
  return rc;
}

int prism__bart_parse_generation(const char *json, size_t len, const char *what, int32_t vocab_size,
                                 prism__bart_generation *gen)
{
  json_t *root;
  int rc = parse_object(json, len, what, &root);
  if (rc != PRISM_OK)
    return rc;
  rc = overlay_generation(root, what, gen);
  if (rc == PRISM_OK)
    rc = check_generation_ids(what, vocab_size, gen);
  json_decref(root);
  return rc;
}
