/*
 * Loading a HuggingFace BART folder or memory image: config, generation
 * defaults, safetensors (single or sharded), and binding every weight to the
 * shape the config implies. Nothing is trusted before it is checked, and a
 * failed load frees everything it made.
 */
#include <stdio.h>
#include <string.h>

#include "bart_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "common/params.h"

#define CONFIG_NAME "config.json"
#define GENERATION_NAME "generation_config.json"
#define WEIGHTS_NAME "model.safetensors"
#define INDEX_NAME "model.safetensors.index.json"

/* The first released layouts (frozen in tests/abi). */
#define LOAD_PARAMS_V1_SIZE PRISM__LAYOUT_SIZE(prism_bart_load_params, flags)
#define INFO_V1_SIZE PRISM__LAYOUT_SIZE(prism_bart_info, activation_function)

static const prism_bart_load_params load_defaults = { sizeof load_defaults, 0, 0 };

PRISM_API int prism_bart_load_params_init(prism_bart_load_params *params, size_t struct_size)
{
  return PRISM__PARAMS_INIT(params, struct_size, &load_defaults, LOAD_PARAMS_V1_SIZE,
                            "prism_bart_load_params_init");
}

static int resolve_load_params(const prism_bart_load_params *params, prism_bart_load_params *out,
                               const char *fn)
{
  const unsigned reduced = PRISM_BART_LOAD_BF16_WEIGHTS | PRISM_BART_LOAD_INT8_WEIGHTS;
  int rc = PRISM__PARAMS_READ(out, params, &load_defaults, LOAD_PARAMS_V1_SIZE, fn);
  if (rc == PRISM_OK && (out->flags & ~reduced))
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: params->flags 0x%x has bits that are not PRISM_BART_LOAD_* flags", fn,
                        (unsigned)out->flags);
  if (rc == PRISM_OK && (out->flags & reduced) == reduced)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: params->flags asks for both bf16 and int8 weights; choose one", fn);
  return rc;
}

PRISM_API void prism_bart_free(prism_bart *model)
{
  if (!model)
    return;
  for (size_t i = 0; i < model->n_owned; i++)
    prism__free(model->owned[i]);
  prism__free(model->owned);
  prism__aligned_free(model->packed);
  prism__aligned_free(model->arena);
  prism__free(model->params);
  for (size_t i = 0; i < model->n_shards; i++)
    prism__st_close(&model->shards[i]);
  prism__free(model->shards);
  prism__free(model->encoder.layers);
  prism__free(model->decoder.layers);
  prism__free(model->config.text);
  prism__free(model->config.source);
  prism__free(model->generation.text);
  prism__free(model->generation.source);
  prism__free(model);
}

/* Keep a configuration file's text and where it came from, for prism_bart_config_text. */
int prism__bart_keep_text(prism__bart_text *t, const char *text, size_t len, const char *source)
{
  t->text = prism__malloc(len ? len : 1);
  t->source = prism__strdup(source);
  if (!t->text || !t->source)
    return PRISM_ERR_NO_MEMORY;
  memcpy(t->text, text, len);
  t->len = len;
  return PRISM_OK;
}

/*
 * config.json gives the architecture; generation_config.json is only checked
 * to be a JSON object here (lib/generate reads its settings), so a broken file
 * still fails the load and names itself.
 */
static int load_config_text(prism_bart *m, const char *config, size_t config_len,
                            const char *config_what, const char *generation, size_t generation_len,
                            const char *generation_what)
{
  json_t *root = NULL;
  int rc = prism__bart_parse_config(config, config_len, config_what, &m->cfg);
  if (rc == PRISM_OK)
    rc = prism__bart_keep_text(&m->config, config, config_len, config_what);
  if (rc == PRISM_OK && generation)
    rc = prism__bart_json_object(generation, generation_len, generation_what, &root);
  json_decref(root);
  if (rc == PRISM_OK && generation)
    rc = prism__bart_keep_text(&m->generation, generation, generation_len, generation_what);
  return rc;
}

/* Read config.json and, when present, generation_config.json from `dir`. */
static int load_config_dir(prism_bart *m, const char *dir, uint64_t max_size)
{
  char *config_path = prism__path_join(dir, CONFIG_NAME);
  char *generation_path = prism__path_join(dir, GENERATION_NAME);
  prism__file config = { 0 }, generation = { 0 };
  int rc = config_path && generation_path ? PRISM_OK : PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK)
    rc = prism__file_read(config_path, (size_t)max_size, &config);
  if (rc == PRISM_OK && prism__file_exists(generation_path))
    rc = prism__file_read(generation_path, (size_t)max_size, &generation);
  if (rc == PRISM_OK)
    rc = load_config_text(m, (const char *)config.data, config.size, config_path,
                          (const char *)generation.data, generation.size, generation_path);
  prism__file_close(&config);
  prism__file_close(&generation);
  prism__free(config_path);
  prism__free(generation_path);
  return rc;
}

/* A shard file name from the index must stay inside the model folder. */
static int check_shard_name(const char *index_what, const char *tensor, const char *file)
{
  if (!*file || strchr(file, '/') || strchr(file, '\\') || strcmp(file, "..") == 0 ||
      strcmp(file, ".") == 0)
    return prism__error(
        PRISM_ERR_FORMAT,
        "%s: tensor %s maps to \"%s\", which is not a file name in the model folder", index_what,
        tensor, file);
  return PRISM_OK;
}

static int open_shard(prism_bart *m, const char *dir, const char *file, uint64_t max_size)
{
  char *path;
  int rc;
  for (size_t i = 0; i < m->n_shards; i++) {
    const char *name = strrchr(m->shards[i].what, '/');
    if (strcmp(name ? name + 1 : m->shards[i].what, file) == 0)
      return PRISM_OK;
  }
  path = prism__path_join(dir, file);
  if (!path)
    return PRISM_ERR_NO_MEMORY;
  rc = prism__st_open(path, max_size, &m->shards[m->n_shards]);
  prism__free(path);
  if (rc == PRISM_OK)
    m->n_shards++;
  return rc;
}

/* Open every shard model.safetensors.index.json names in its "weight_map". */
static int open_index(prism_bart *m, const char *dir, const char *index_path, uint64_t max_size)
{
  prism__file text = { 0 };
  json_t *root = NULL, *map, *value;
  const char *tensor;
  int rc = prism__file_read(index_path, (size_t)max_size, &text);
  if (rc == PRISM_OK)
    rc = prism__json_parse(text.data, text.size, 0, index_path, &root);
  prism__file_close(&text);
  if (rc != PRISM_OK)
    return rc;
  map = json_object_get(root, "weight_map");
  if (!json_is_object(map) || json_object_size(map) == 0) {
    json_decref(root);
    return prism__error(PRISM_ERR_FORMAT, "%s: \"weight_map\" must be a non-empty object",
                        index_path);
  }
  m->shards = prism__calloc(json_object_size(map), sizeof *m->shards);
  if (!m->shards) {
    json_decref(root);
    return PRISM_ERR_NO_MEMORY;
  }
  json_object_foreach(map, tensor, value)
  {
    if (!json_is_string(value))
      rc = prism__error(PRISM_ERR_FORMAT, "%s: weight_map entry for tensor %s must be a string",
                        index_path, tensor);
    if (rc == PRISM_OK)
      rc = check_shard_name(index_path, tensor, json_string_value(value));
    if (rc == PRISM_OK)
      rc = open_shard(m, dir, json_string_value(value), max_size);
    if (rc != PRISM_OK)
      break;
  }
  json_decref(root);
  return rc;
}

static int open_single(prism_bart *m, const char *path, uint64_t max_size)
{
  m->shards = prism__calloc(1, sizeof *m->shards);
  if (!m->shards)
    return PRISM_ERR_NO_MEMORY;
  int rc = prism__st_open(path, max_size, &m->shards[0]);
  if (rc == PRISM_OK)
    m->n_shards = 1;
  return rc;
}

/* model.safetensors when present (as transformers prefers), else the sharded index. */
static int load_weights_dir(prism_bart *m, const char *dir, uint64_t max_size)
{
  char *single = prism__path_join(dir, WEIGHTS_NAME);
  char *index = prism__path_join(dir, INDEX_NAME);
  const char *what = single;
  int rc = single && index ? PRISM_OK : PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK && prism__file_exists(single)) {
    rc = open_single(m, single, max_size);
  } else if (rc == PRISM_OK && prism__file_exists(index)) {
    what = index;
    rc = open_index(m, dir, index, max_size);
  } else if (rc == PRISM_OK) {
    rc = prism__error(PRISM_ERR_NOT_FOUND, "%s: neither %s nor %s exists", dir, WEIGHTS_NAME,
                      INDEX_NAME);
  }
  if (rc == PRISM_OK)
    rc = prism__bart_bind_weights(m, what);
  prism__free(single);
  prism__free(index);
  return rc;
}

/* Hand a finished model to the caller, or free a failed one so nothing is left behind. */
static int publish(prism_bart *m, int rc, const prism_bart_load_params *p, prism_bart **out)
{
  if (rc == PRISM_OK && (p->flags & (PRISM_BART_LOAD_BF16_WEIGHTS | PRISM_BART_LOAD_INT8_WEIGHTS)))
    rc = prism__bart_pack(m, p->flags);
  if (rc != PRISM_OK) {
    prism_bart_free(m);
    return rc;
  }
  *out = m;
  return PRISM_OK;
}

/*
 * The start of a public loader `fn`: *out cleared, the caller's load params
 * (NULL: defaults) in *p, and a new empty model in *m.
 */
static int new_model(prism_bart **out, prism_bart **m, prism_bart_load_params *p,
                     const prism_bart_load_params *params, const char *fn)
{
  int rc;
  if (!out)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: out must not be NULL", fn);
  *out = NULL;
  rc = resolve_load_params(params, p, fn);
  if (rc == PRISM_OK && !(*m = prism__calloc(1, sizeof **m)))
    rc = prism__error_at(fn, PRISM_ERR_NO_MEMORY);
  return rc;
}

PRISM_API int prism_bart_load(prism_bart **out, const char *model_dir,
                              const prism_bart_load_params *params)
{
  prism_bart_load_params p;
  prism_bart *m;
  int rc;
  PRISM__CHECK_ARG(model_dir != NULL, "model_dir must not be NULL");
  if ((rc = new_model(out, &m, &p, params, __func__)) != PRISM_OK)
    return rc;
  rc = load_config_dir(m, model_dir, p.max_file_size);
  if (rc == PRISM_OK)
    rc = load_weights_dir(m, model_dir, p.max_file_size);
  return prism__error_at(__func__, publish(m, rc, &p, out));
}

static int check_memory_size(const char *what, size_t len, uint64_t max_size)
{
  if (max_size && (uint64_t)len > max_size)
    return prism__error(PRISM_ERR_LIMIT, "%s: %zu bytes exceeds max_file_size %llu", what, len,
                        (unsigned long long)max_size);
  return PRISM_OK;
}

/* The memory images of prism_bart_load_memory into a new model `m`. */
static int load_images(prism_bart *m, const prism_bart_load_params *p, const char *config_json,
                       size_t config_len, const void *safetensors, size_t safetensors_len,
                       const char *generation_config_json, size_t generation_len)
{
  int rc = check_memory_size(CONFIG_NAME, config_len, p->max_file_size);
  if (rc == PRISM_OK)
    rc = check_memory_size(WEIGHTS_NAME, safetensors_len, p->max_file_size);
  if (rc == PRISM_OK)
    rc = check_memory_size(GENERATION_NAME, generation_len, p->max_file_size);
  if (rc == PRISM_OK)
    rc = load_config_text(m, config_json, config_len, CONFIG_NAME, generation_config_json,
                          generation_len, GENERATION_NAME);
  if (rc == PRISM_OK)
    rc = (m->shards = prism__calloc(1, sizeof *m->shards)) ? PRISM_OK : PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK)
    rc = prism__st_parse(safetensors, safetensors_len, WEIGHTS_NAME, &m->shards[0]);
  if (rc != PRISM_OK)
    return rc;
  m->n_shards = 1;
  return prism__bart_bind_weights(m, WEIGHTS_NAME);
}

PRISM_API int prism_bart_load_memory(prism_bart **out, const char *config_json, size_t config_len,
                                     const void *safetensors, size_t safetensors_len,
                                     const char *generation_config_json, size_t generation_len,
                                     const prism_bart_load_params *params)
{
  prism_bart_load_params p;
  prism_bart *m;
  int rc;
  PRISM__CHECK_ARG(config_json != NULL, "config_json must not be NULL");
  PRISM__CHECK_ARG(safetensors != NULL, "safetensors must not be NULL");
  PRISM__CHECK_ARG(
      generation_config_json != NULL || generation_len == 0,
      "generation_config_json must not be NULL (it may be NULL only when generation_len is 0)");
  if ((rc = new_model(out, &m, &p, params, __func__)) != PRISM_OK)
    return rc;
  rc = load_images(m, &p, config_json, config_len, safetensors, safetensors_len,
                   generation_config_json, generation_len);
  return prism__error_at(__func__, publish(m, rc, &p, out));
}

PRISM_API int prism_bart_get_info(prism_bart_info *info, const prism_bart *model)
{
  const prism__bart_config *c;
  prism_bart_info all;
  PRISM__CHECK_ARG(model != NULL, "model must not be NULL");
  c = &model->cfg;
  memset(&all, 0, sizeof all);
  all.struct_size = sizeof all;
  all.vocab_size = c->vocab_size;
  all.d_model = c->d_model;
  all.encoder_layers = c->encoder_layers;
  all.decoder_layers = c->decoder_layers;
  all.encoder_attention_heads = c->encoder_heads;
  all.decoder_attention_heads = c->decoder_heads;
  all.encoder_ffn_dim = c->encoder_ffn_dim;
  all.decoder_ffn_dim = c->decoder_ffn_dim;
  all.max_position_embeddings = c->max_position_embeddings;
  all.scale_embedding = c->scale_embedding;
  all.pad_token_id = c->pad_token_id;
  all.bos_token_id = c->bos_token_id;
  all.eos_token_id = c->eos_token_id;
  all.decoder_start_token_id = c->decoder_start_token_id;
  all.activation_function = c->activation_name;
  return PRISM__PARAMS_WRITE(info, &all, INFO_V1_SIZE, "prism_bart_get_info");
}

PRISM_API int prism_bart_config_text(const char **text, size_t *len, const char **source,
                                     const prism_bart *model, int which)
{
  const prism__bart_text *t;
  PRISM__CHECK_ARG(model != NULL, "model must not be NULL");
  PRISM__CHECK_ARG(which == PRISM_BART_CONFIG_JSON || which == PRISM_BART_GENERATION_CONFIG_JSON,
                   "which must be PRISM_BART_CONFIG_JSON or PRISM_BART_GENERATION_CONFIG_JSON");
  t = which == PRISM_BART_CONFIG_JSON ? &model->config : &model->generation;
  if (text)
    *text = t->text;
  if (len)
    *len = t->len;
  if (source)
    *source = t->source;
  return PRISM_OK;
}
