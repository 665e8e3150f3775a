#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gen_model.h"

static uint32_t next_random(uint32_t *state)
{
  *state = *state * 1664525u + 1013904223u;
  return *state >> 8;
}

/* k / 64 with |k| <= 40: exact in F16 and BF16. `one` centres layer-norm gains on 1. */
static void fill(gen_tensor *t, uint32_t *state, int one)
{
  uint64_t n = t->shape[0] * (t->ndim == 2 ? t->shape[1] : 1);
  t->data = malloc(n * sizeof *t->data);
  assert_non_null(t->data);
  for (uint64_t i = 0; i < n; i++)
    t->data[i] = (one ? 1.0f : 0.0f) + (float)((int)(next_random(state) % 81) - 40) / 64.0f;
}

static void add(gen_model *g, uint32_t *state, uint64_t d0, uint64_t d1, int one, const char *fmt,
                ...) __attribute__((format(printf, 6, 7)));

static void add(gen_model *g, uint32_t *state, uint64_t d0, uint64_t d1, int one, const char *fmt,
                ...)
{
  gen_tensor *t;
  va_list ap;
  g->t = realloc(g->t, (g->n + 1) * sizeof *g->t);
  assert_non_null(g->t);
  t = &g->t[g->n++];
  memset(t, 0, sizeof *t);
  va_start(ap, fmt);
  vsnprintf(t->name, sizeof t->name, fmt, ap);
  va_end(ap);
  t->ndim = d1 ? 2 : 1;
  t->shape[0] = d0;
  t->shape[1] = d1;
  fill(t, state, one);
}

static void add_linear(gen_model *g, uint32_t *s, const char *prefix, int out, int in)
{
  add(g, s, (uint64_t)out, (uint64_t)in, 0, "%s.weight", prefix);
  add(g, s, (uint64_t)out, 0, 0, "%s.bias", prefix);
}

static void add_norm(gen_model *g, uint32_t *s, const char *prefix, int d)
{
  add(g, s, (uint64_t)d, 0, 1, "%s.weight", prefix);
  add(g, s, (uint64_t)d, 0, 0, "%s.bias", prefix);
}

static void add_attn(gen_model *g, uint32_t *s, const char *prefix, int d)
{
  static const char *const proj[] = { "q_proj", "k_proj", "v_proj", "out_proj" };
  char name[128];
  for (int i = 0; i < 4; i++) {
    snprintf(name, sizeof name, "%s.%s", prefix, proj[i]);
    add_linear(g, s, name, d, d);
  }
}

static void add_stack(gen_model *g, uint32_t *s, const char *stack, int layers, int ffn,
                      int decoder)
{
  const gen_config *c = &g->cfg;
  char p[96];
  add(g, s, (uint64_t)c->max_pos + 2, (uint64_t)c->d_model, 0, "%s.embed_positions.weight", stack);
  snprintf(p, sizeof p, "%s.layernorm_embedding", stack);
  add_norm(g, s, p, c->d_model);
  for (int l = 0; l < layers; l++) {
#define P(sub) (snprintf(p, sizeof p, "%s.layers.%d.%s", stack, l, sub), p)
    add_attn(g, s, P("self_attn"), c->d_model);
    add_norm(g, s, P("self_attn_layer_norm"), c->d_model);
    if (decoder) {
      add_attn(g, s, P("encoder_attn"), c->d_model);
      add_norm(g, s, P("encoder_attn_layer_norm"), c->d_model);
    }
    add_linear(g, s, P("fc1"), ffn, c->d_model);
    add_linear(g, s, P("fc2"), c->d_model, ffn);
    add_norm(g, s, P("final_layer_norm"), c->d_model);
#undef P
  }
}

void gen_model_build(gen_model *g, const gen_config *cfg, uint32_t seed)
{
  uint32_t s = seed;
  memset(g, 0, sizeof *g);
  g->cfg = *cfg;
  add(g, &s, (uint64_t)cfg->vocab, (uint64_t)cfg->d_model, 0, "shared.weight");
  add(g, &s, 1, (uint64_t)cfg->vocab, 0, "final_logits_bias");
  add_stack(g, &s, "encoder", cfg->enc_layers, cfg->enc_ffn, 0);
  add_stack(g, &s, "decoder", cfg->dec_layers, cfg->dec_ffn, 1);
}

void gen_model_free(gen_model *g)
{
  for (size_t i = 0; i < g->n; i++)
    free(g->t[i].data);
  free(g->t);
  memset(g, 0, sizeof *g);
}

const float *gen_w(const gen_model *g, const char *fmt, ...)
{
  char name[96];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  for (size_t i = 0; i < g->n; i++)
    if (strcmp(g->t[i].name, name) == 0)
      return g->t[i].data;
  fail_msg("generated model has no tensor %s", name);
  return NULL;
}

json_t *gen_config_json(const gen_config *c)
{
  json_t *j = json_pack(
      "{s:s, s:[s], s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:b, s:s, s:i, s:i, s:i, s:i, "
      "s:i, s:i, s:b, s:b}",
      "model_type", "bart", "architectures", "BartForConditionalGeneration", "vocab_size", c->vocab,
      "d_model", c->d_model, "encoder_layers", c->enc_layers, "decoder_layers", c->dec_layers,
      "encoder_attention_heads", c->enc_heads, "decoder_attention_heads", c->dec_heads,
      "encoder_ffn_dim", c->enc_ffn, "decoder_ffn_dim", c->dec_ffn, "max_position_embeddings",
      c->max_pos, "scale_embedding", c->scale_embedding, "activation_function", c->activation,
      "pad_token_id", 1, "bos_token_id", 0, "eos_token_id", 2, "decoder_start_token_id", 2,
      "forced_bos_token_id", 0, "forced_eos_token_id", 2, "normalize_before", 0,
      "add_final_layer_norm", 0);
  assert_non_null(j);
  return j;
}

/* IEEE half of a float known to be exact in half (normal range or zero). */
static uint16_t to_f16(float x)
{
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  uint32_t sign = (u >> 16) & 0x8000u, exp = (u >> 23) & 0xff, mant = u & 0x7fffffu;
  if (exp == 0)
    return (uint16_t)sign;
  return (uint16_t)(sign | ((exp - 127 + 15) << 10) | (mant >> 13));
}

static uint16_t to_bf16(float x)
{
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  return (uint16_t)(u >> 16);
}

static void *encode(const gen_tensor *t, prism__st_dtype dtype, size_t numel)
{
  uint16_t *half;
  if (dtype == PRISM__ST_F32 || dtype == PRISM__ST_I32)
    return NULL;
  half = malloc(numel * sizeof *half);
  assert_non_null(half);
  for (size_t i = 0; i < numel; i++)
    half[i] = dtype == PRISM__ST_F16 ? to_f16(t->data[i]) : to_bf16(t->data[i]);
  return half;
}

static const char *stored_name(const gen_tensor *t, const gen_layout *lay, char *buf, size_t size)
{
  if (strcmp(t->name, "shared.weight") == 0 && lay->shared_alias)
    return lay->shared_alias;
  if (strcmp(t->name, "final_logits_bias") == 0 || lay->no_prefix)
    return t->name;
  snprintf(buf, size, "model.%s", t->name);
  return buf;
}

static void write_json(const char *dir, const char *file, json_t *value)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  assert_int_equal(json_dump_file(value, path, JSON_INDENT(1)), 0);
  json_decref(value);
}

void gen_model_write(const gen_model *g, const char *dir, const gen_layout *lay)
{
  int shards = lay->shards ? lay->shards : 1;
  prism__st_out *out = calloc(g->n, sizeof *out);
  char(*names)[128] = calloc(g->n, sizeof *names);
  void **owned = calloc(g->n, sizeof *owned);
  int *shard_of = calloc(g->n, sizeof *shard_of);
  json_t *map = json_object();
  size_t count = 0;
  assert_true(out && names && owned && shard_of);
  for (size_t i = 0; i < g->n; i++) {
    const gen_tensor *t = &g->t[i];
    const char *name = stored_name(t, lay, names[count], sizeof names[count]);
    prism__st_out *o = &out[count];
    size_t numel = (size_t)(t->shape[0] * (t->ndim == 2 ? t->shape[1] : 1));
    if ((lay->no_final_logits_bias && strcmp(t->name, "final_logits_bias") == 0) ||
        (lay->skip && strcmp(name, lay->skip) == 0))
      continue;
    if (name != names[count])
      snprintf(names[count], sizeof names[count], "%s", name);
    o->name = names[count];
    o->dtype = lay->bad_dtype && strcmp(name, lay->bad_dtype) == 0 ? PRISM__ST_I32 : lay->dtype;
    o->ndim = t->ndim;
    o->shape[0] = t->shape[0];
    o->shape[1] = t->shape[1];
    if (lay->reshape && strcmp(name, lay->reshape) == 0) {
      o->ndim = 2;
      o->shape[0] = t->ndim == 2 ? t->shape[1] : 1;
      o->shape[1] = t->ndim == 2 ? t->shape[0] : t->shape[0];
    }
    owned[count] = encode(t, o->dtype, numel);
    o->data = owned[count] ? owned[count] : (const void *)t->data;
    shard_of[count] = (int)(count % (size_t)shards);
    count++;
  }
  mkdir(dir, 0700);
  for (int s = 0; s < shards; s++) {
    prism__st_out *part = calloc(count, sizeof *part);
    char file[128], path[1024];
    size_t n = 0;
    assert_non_null(part);
    if (lay->shards)
      snprintf(file, sizeof file, "model-%05d-of-%05d.safetensors", s + 1, shards);
    else
      snprintf(file, sizeof file, "model.safetensors");
    for (size_t i = 0; i < count; i++) {
      if (shard_of[i] != s)
        continue;
      part[n++] = out[i];
      json_object_set_new(map, out[i].name, json_string(file));
    }
    snprintf(path, sizeof path, "%s/%s", dir, file);
    assert_int_equal(prism__st_write(path, part, n, NULL, 0), 0);
    free(part);
  }
  if (lay->shards)
    write_json(dir, "model.safetensors.index.json",
               json_pack("{s:{s:i}, s:o}", "metadata", "total_size", 0, "weight_map", map));
  else
    json_decref(map);
  write_json(dir, "config.json", gen_config_json(&g->cfg));
  write_json(dir, "generation_config.json",
             json_pack("{s:i, s:i, s:i, s:i, s:i}", "decoder_start_token_id", 2, "eos_token_id", 2,
                       "pad_token_id", 1, "forced_bos_token_id", 0, "max_length", 12));
  for (size_t i = 0; i < count; i++)
    free(owned[i]);
  free(owned);
  free(out);
  free(names);
  free(shard_of);
}

char *make_temp_dir(void)
{
  const char *tmp = getenv("TMPDIR");
  char *dir = malloc(1024);
  assert_non_null(dir);
  snprintf(dir, 1024, "%s/prism-bart-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  assert_non_null(mkdtemp(dir));
  return dir;
}

void remove_tree(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[1024];
  if (!d)
    return;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}
