/*
 * config.json: the architecture and the special token ids. The generation
 * settings are lib/generate's to read, from the text the model keeps. Absent
 * fields take the defaults of HuggingFace's BartConfig, as transformers does;
 * present fields are type- and range-checked, and variants the forward pass
 * does not implement are refused rather than silently run wrong.
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

/* The special ids may be null (-1), as in HF; a set one must be in the vocabulary. */
static int check_special_ids(const char *what, const prism__bart_config *c)
{
  static const char *const keys[4] = { "pad_token_id", "bos_token_id", "eos_token_id",
                                       "decoder_start_token_id" };
  const int32_t ids[4] = { c->pad_token_id, c->bos_token_id, c->eos_token_id,
                           c->decoder_start_token_id };
  for (size_t i = 0; i < 4; i++)
    if (ids[i] != -1 && ids[i] >= c->vocab_size)
      return prism__error(PRISM_ERR_FORMAT, "%s: %s %d is outside the vocabulary [0, %d)", what,
                          keys[i], (int)ids[i], (int)c->vocab_size);
  return PRISM_OK;
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
  };
  int rc = read_ints(root, what, fields, sizeof fields / sizeof fields[0]);
  if (rc == PRISM_OK)
    rc = check_heads(what, "encoder_attention_heads", c->encoder_heads, c->d_model);
  if (rc == PRISM_OK)
    rc = check_heads(what, "decoder_attention_heads", c->decoder_heads, c->d_model);
  if (rc == PRISM_OK)
    rc = check_special_ids(what, c);
  return rc;
}

/*
 * The training fields (HF BartConfig defaults when absent). Inference does not
 * use them, so a value that is not a number does not fail a load: it reads as
 * NaN, which a trainer refuses.
 */
static void read_training_fields(const json_t *root, prism__bart_config *c)
{
  const struct {
    const char *key;
    double def;
    double *dst;
  } fields[] = {
    { "dropout", 0.1, &c->dropout },
    { "attention_dropout", 0.0, &c->attention_dropout },
    { "activation_dropout", 0.0, &c->activation_dropout },
    { "encoder_layerdrop", 0.0, &c->encoder_layerdrop },
    { "decoder_layerdrop", 0.0, &c->decoder_layerdrop },
    { "init_std", 0.02, &c->init_std },
  };
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    const json_t *v = json_object_get(root, fields[i].key);
    *fields[i].dst = !v ? fields[i].def : json_is_number(v) ? json_number_value(v) : NAN;
  }
}

int prism__bart_json_object(const char *text, size_t len, const char *what, json_t **root)
{
  int rc = prism__json_parse(text, len, 0, what, root);
  if (rc != PRISM_OK)
    return rc;
  if (!json_is_object(*root)) {
    json_decref(*root);
    *root = NULL;
    return prism__error(PRISM_ERR_FORMAT, "%s: the top level must be a JSON object", what);
  }
  return PRISM_OK;
}

int prism__bart_parse_config(const char *config_json, size_t config_len, const char *what,
                             prism__bart_config *cfg)
{
  json_t *root;
  int rc = prism__bart_json_object(config_json, config_len, what, &root);
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
  if (rc == PRISM_OK)
    read_training_fields(root, cfg);
  json_decref(root);
  return rc;
}
