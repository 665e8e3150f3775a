/*
 * The model files of a checkpoint, as HuggingFace save_pretrained writes them:
 * config.json (the model's own text, torch_dtype float32), generation_config.json,
 * model.safetensors (the tied embedding once, as model.shared.weight, and the
 * final_logits_bias buffer; metadata format "pt"), and the tokenizer files.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "common/safetensors.h"
#include "train_internal.h"

static const char *const tokenizer_files[] = {
  "vocab.json",
  "merges.txt",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "added_tokens.json",
};

int prism__train_is_ours(const char *dir)
{
  char *path = prism__path_join(dir, "trainer_state.json");
  prism__file f;
  json_t *root = NULL;
  const char *format = NULL;
  int ours = 0;
  if (path && prism__file_exists(path) && prism__file_read(path, 1 << 26, &f) == PRISM_OK) {
    if (prism__json_parse(f.data, f.size, 0, path, &root) == PRISM_OK &&
        prism__json_str(root, "format", path, 0, &format) == PRISM_OK)
      ours = strcmp(format, PRISM__TRAIN_STATE_FORMAT) == 0;
    json_decref(root);
    prism__file_close(&f);
  }
  prism__free(path);
  return ours;
}

static int write_text(const char *dir, const char *name, const char *text, size_t len)
{
  char *path = prism__path_join(dir, name);
  int rc = path ? prism__file_write_atomic(path, text, len) : PRISM_ERR_NO_MEMORY;
  prism__free(path);
  return rc;
}

/* config.json as loaded, with "torch_dtype" now "float32" (the weights are written in F32). */
static int write_config(const prism_bart *m, const char *dir)
{
  static const char key[] = "\"torch_dtype\"";
  const char *text, *end, *at, *q1, *q2;
  size_t len;
  char *out;
  int rc;
  prism_bart_config_text(&text, &len, NULL, m, PRISM_BART_CONFIG_JSON);
  end = text + len;
  at = len ? memmem(text, len, key, sizeof key - 1) : NULL;
  q1 = at ? at + sizeof key - 1 : end;
  while (q1 < end && (*q1 == ' ' || *q1 == '\t' || *q1 == '\r' || *q1 == '\n' || *q1 == ':'))
    q1++;
  q2 = q1 < end && *q1 == '"' ? memchr(q1 + 1, '"', (size_t)(end - q1 - 1)) : NULL;
  if (!q2)
    return write_text(dir, "config.json", text, len);
  if (!(out = prism__malloc(len + 16)))
    return PRISM_ERR_NO_MEMORY;
  memcpy(out, text, (size_t)(q1 - text));
  memcpy(out + (q1 - text), "\"float32\"", 9);
  memcpy(out + (q1 - text) + 9, q2 + 1, (size_t)(end - q2 - 1));
  rc = write_text(dir, "config.json", out, (size_t)(q1 - text) + 9 + (size_t)(end - q2 - 1));
  prism__free(out);
  return rc;
}

/* generation_config.json as loaded, or the generation keys of config.json (HF's from_model_config). */
static int write_generation(const prism_bart *m, const char *dir)
{
  static const char *const keys[] = { "bos_token_id",        "decoder_start_token_id",
                                      "eos_token_id",        "forced_bos_token_id",
                                      "forced_eos_token_id", "pad_token_id" };
  const char *text;
  size_t len;
  json_t *config = NULL, *gen;
  char *dump;
  int rc;
  prism_bart_config_text(&text, &len, NULL, m, PRISM_BART_GENERATION_CONFIG_JSON);
  if (text)
    return write_text(dir, "generation_config.json", text, len);
  prism_bart_config_text(&text, &len, NULL, m, PRISM_BART_CONFIG_JSON);
  if ((rc = prism__json_parse(text, len, 0, "config.json", &config)) != PRISM_OK)
    return rc;
  gen = json_object();
  json_object_set_new(gen, "_from_model_config", json_true());
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    json_t *v = json_object_get(config, keys[i]);
    if (json_is_integer(v))
      json_object_set(gen, keys[i], v);
  }
  dump = json_dumps(gen, JSON_INDENT(2) | JSON_SORT_KEYS);
  rc = dump ? write_text(dir, "generation_config.json", dump, strlen(dump)) : PRISM_ERR_NO_MEMORY;
  free(dump);
  json_decref(gen);
  json_decref(config);
  return rc;
}

static int write_weights(const prism_bart *m, const char *dir)
{
  const prism__bart_param *params;
  size_t n, vocab;
  const float *arena = prism__bart_arena(m, NULL);
  prism__st_out *out;
  prism__st_metadata meta = { "format", "pt" };
  prism_bart_info info;
  char *path = prism__path_join(dir, "model.safetensors");
  int rc;
  params = prism__bart_params(m, &n);
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  prism_bart_get_info(&info, m);
  vocab = (size_t)info.vocab_size;
  out = prism__calloc(n + 1, sizeof *out);
  if (!out || !path) {
    prism__free(out);
    prism__free(path);
    return PRISM_ERR_NO_MEMORY;
  }
  for (size_t i = 0; i < n; i++) {
    out[i].name = params[i].name;
    out[i].dtype = PRISM__ST_F32;
    out[i].ndim = params[i].ndim;
    out[i].shape[0] = params[i].shape[0];
    out[i].shape[1] = params[i].shape[1];
    out[i].data = arena + params[i].offset;
  }
  out[n].name = "final_logits_bias";
  out[n].dtype = PRISM__ST_F32;
  out[n].ndim = 2;
  out[n].shape[0] = 1;
  out[n].shape[1] = vocab;
  out[n].data = prism__bart_final_logits_bias(m);
  rc = prism__st_write(path, out, n + 1, &meta, 1);
  prism__free(out);
  prism__free(path);
  return rc;
}

static int copy_file(const char *from_dir, const char *to_dir, const char *name)
{
  char *from = prism__path_join(from_dir, name), *to = prism__path_join(to_dir, name);
  int rc = from && to ? PRISM_OK : PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK && prism__file_exists(from))
    rc = prism__file_copy_atomic(from, to);
  prism__free(from);
  prism__free(to);
  return rc;
}

int prism__train_write_model(const prism_bart *m, const char *dir, const char *tokenizer_dir)
{
  int rc = write_config(m, dir);
  if (rc == PRISM_OK)
    rc = write_generation(m, dir);
  for (size_t i = 0;
       rc == PRISM_OK && tokenizer_dir && i < sizeof tokenizer_files / sizeof *tokenizer_files; i++)
    rc = copy_file(tokenizer_dir, dir, tokenizer_files[i]);
  if (rc == PRISM_OK)
    rc = write_weights(m, dir);
  return rc;
}

int prism__train_copy_model(const char *from, const char *to)
{
  static const char *const model_files[] = { "config.json", "generation_config.json" };
  int rc = PRISM_OK;
  for (size_t i = 0; rc == PRISM_OK && i < 2; i++)
    rc = copy_file(from, to, model_files[i]);
  for (size_t i = 0; rc == PRISM_OK && i < sizeof tokenizer_files / sizeof *tokenizer_files; i++)
    rc = copy_file(from, to, tokenizer_files[i]);
  /* The weights last: a folder that loads keeps loading while this runs. */
  return rc == PRISM_OK ? copy_file(from, to, "model.safetensors") : rc;
}
