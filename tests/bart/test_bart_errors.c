/*
 * Bad checkpoints and bad calls: each gives a specific status and a message
 * naming the file and tensor or field, leaves *out NULL and leaks nothing
 * (the suite runs clean under AddressSanitizer's leak checker).
 */
#include <sys/stat.h>
#include <unistd.h>

#include "bart/bart_internal.h"
#include "bart_test_util.h"
#include "common/alloc.h"
#include "gen_model.h"
#include "prism/generate.h"

/* Released struct layouts are frozen: fields may only be appended (checked on LP64). */
#if UINTPTR_MAX == 0xffffffffffffffffu
#endif

static const gen_config small = {
  .vocab = 30,
  .d_model = 16,
  .enc_layers = 2,
  .dec_layers = 1,
  .enc_heads = 2,
  .dec_heads = 4,
  .enc_ffn = 24,
  .dec_ffn = 20,
  .max_pos = 12,
  .scale_embedding = 0,
  .activation = "gelu",
};

typedef struct ctx {
  gen_model g;
  char *dir;
} ctx;

static int setup(void **state)
{
  ctx *c = calloc(1, sizeof *c);
  gen_model_build(&c->g, &small, 7);
  c->dir = make_temp_dir();
  *state = c;
  return 0;
}

static int teardown(void **state)
{
  ctx *c = *state;
  remove_tree(c->dir);
  free(c->dir);
  gen_model_free(&c->g);
  free(c);
  return 0;
}

/* Load c->dir expecting `status`; the message must mention each of the needles. */
static void expect_load(ctx *c, int status, const char *needle1, const char *needle2)
{
  prism_bart *m = (prism_bart *)(uintptr_t)1;
  assert_status(prism_bart_load(&m, c->dir, NULL), status);
  assert_null(m);
  printf("  %s: %s\n", prism_status_name(status), prism_last_error());
  if (needle1)
    assert_error_mentions(needle1);
  if (needle2)
    assert_error_mentions(needle2);
}

static void write_layout(ctx *c, const gen_layout *layout)
{
  gen_model_write(&c->g, c->dir, layout);
}

static void test_valid_folder_loads(void **state)
{
  ctx *c = *state;
  prism_bart *m;
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F32 });
  assert_ok(prism_bart_load(&m, c->dir, NULL));
  prism_bart_free(m);
}

static void test_missing_tensor(void **state)
{
  ctx *c = *state;
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F32,
                                 .skip = "model.decoder.layers.0.encoder_attn.v_proj.bias" });
  expect_load(c, PRISM_ERR_NOT_FOUND, "model.safetensors",
              "model.decoder.layers.0.encoder_attn.v_proj.bias");
}

static void test_missing_embedding(void **state)
{
  ctx *c = *state;
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F32, .skip = "model.shared.weight" });
  expect_load(c, PRISM_ERR_NOT_FOUND, "model.safetensors", "model.shared.weight");
}

static void test_wrong_shape(void **state)
{
  ctx *c = *state;
  write_layout(
      c, &(gen_layout){ .dtype = PRISM__ST_F32, .reshape = "model.encoder.layers.1.fc1.weight" });
  expect_load(c, PRISM_ERR_FORMAT, "model.encoder.layers.1.fc1.weight", "[16, 24]");
}

/* Tensors fine, config says otherwise: the shape error names the tensor and what config implies. */
static void test_shape_contradicts_config(void **state)
{
  ctx *c = *state;
  gen_config other = small;
  json_t *cfg;
  char path[1024];
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F32 });
  /* the config of a model with decoder_ffn_dim 21 over weights made with 20 */
  other.dec_ffn = 21;
  cfg = gen_config_json(&other);
  snprintf(path, sizeof path, "%s/config.json", c->dir);
  assert_int_equal(json_dump_file(cfg, path, 0), 0);
  json_decref(cfg);
  expect_load(c, PRISM_ERR_FORMAT, "model.decoder.layers.0.fc1.weight", "[21, 16]");
}

static void test_bad_dtype(void **state)
{
  ctx *c = *state;
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F32,
                                 .bad_dtype = "model.encoder.layernorm_embedding.bias" });
  expect_load(c, PRISM_ERR_UNSUPPORTED, "model.encoder.layernorm_embedding.bias", "I32");
}

/*
 * Rewrite the safetensors header with `edit` applied (NULL: unchanged), keeping
 * the data bytes; the header is padded to 8 bytes plus `misalign`.
 */
static void edit_header(ctx *c, void (*edit)(json_t *header, size_t data_len), size_t misalign)
{
  char path[1024];
  FILE *f;
  unsigned char len8[8];
  uint64_t n = 0;
  long size;
  char *hdr, *text, *data;
  json_t *root;
  size_t data_len, text_len, padded;
  snprintf(path, sizeof path, "%s/model.safetensors", c->dir);
  f = fopen(path, "rb");
  assert_non_null(f);
  assert_int_equal(fread(len8, 1, 8, f), 8);
  for (int i = 0; i < 8; i++)
    n |= (uint64_t)len8[i] << (8 * i);
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  data_len = (size_t)size - 8 - (size_t)n;
  fseek(f, 8, SEEK_SET);
  hdr = malloc(n);
  data = malloc(data_len);
  assert_int_equal(fread(hdr, 1, n, f), n);
  assert_int_equal(fread(data, 1, data_len, f), data_len);
  fclose(f);
  root = json_loadb(hdr, n, 0, NULL);
  assert_non_null(root);
  if (edit)
    edit(root, data_len);
  text = json_dumps(root, JSON_COMPACT);
  text_len = strlen(text);
  padded = ((text_len + 7) & ~(size_t)7) + misalign;
  f = fopen(path, "wb");
  for (int i = 0; i < 8; i++)
    len8[i] = (unsigned char)((uint64_t)padded >> (8 * i));
  fwrite(len8, 1, 8, f);
  fwrite(text, 1, text_len, f);
  for (size_t i = text_len; i < padded; i++)
    fputc(' ', f);
  fwrite(data, 1, data_len, f);
  fclose(f);
  json_decref(root);
  free(text);
  free(hdr);
  free(data);
}

static void set_offsets(json_t *header, const char *name, json_int_t begin, json_int_t end)
{
  json_t *t = json_object_get(header, name);
  assert_non_null(t);
  json_object_set_new(t, "data_offsets", json_pack("[I, I]", begin, end));
}

static void offsets_past_end(json_t *header, size_t data_len)
{
  /* final_logits_bias is [1, 30] F32: 120 bytes, moved to straddle the end */
  set_offsets(header, "final_logits_bias", (json_int_t)data_len - 60, (json_int_t)data_len + 60);
}

static void offsets_overlap(json_t *header, size_t data_len)
{
  json_t *a = json_object_get(header, "model.encoder.layers.0.fc2.bias");
  json_t *b = json_object_get(header, "model.encoder.layers.0.self_attn.q_proj.bias");
  (void)data_len;
  /* both [16] F32: give one the other's bytes */
  json_object_set(b, "data_offsets", json_object_get(a, "data_offsets"));
}

static void test_offsets_out_of_range(void **state)
{
  ctx *c = *state;
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F32 });
  edit_header(c, offsets_past_end, 0);
  expect_load(c, PRISM_ERR_FORMAT, "model.safetensors", "final_logits_bias");
}

static void test_offsets_overlap(void **state)
{
  ctx *c = *state;
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F32 });
  edit_header(c, offsets_overlap, 0);
  expect_load(c, PRISM_ERR_FORMAT, "overlap", "model.encoder.layers.0.");
}

static void forward_logits(const prism_bart *m, float *logits)
{
  static const int32_t src[5] = { 0, 7, 8, 9, 2 }, tgt[3] = { 2, 0, 11 };
  prism_bart_session *s;
  assert_ok(prism_bart_session_create(&s, m, NULL));
  assert_ok(prism_bart_session_encode(s, src, NULL, 1, 5, NULL));
  assert_ok(prism_bart_session_forward(s, tgt, 3, logits));
  prism_bart_session_free(s);
}

/* F32 weights are used in place when aligned, copied when the header leaves them misaligned. */
static void test_misaligned_f32_is_copied(void **state)
{
  ctx *c = *state;
  prism_bart *aligned, *misaligned;
  float a[3 * 30], b[3 * 30];
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F32 });
  assert_ok(prism_bart_load(&aligned, c->dir, NULL));
  assert_int_equal(aligned->n_owned, 0);
  forward_logits(aligned, a);
  prism_bart_free(aligned); /* its mapping must not see the file rewritten below */
  edit_header(c, NULL, 2);
  assert_ok(prism_bart_load(&misaligned, c->dir, NULL));
  assert_true(misaligned->n_owned > 0);
  forward_logits(misaligned, b);
  assert_memory_equal(a, b, sizeof a);
  prism_bart_free(misaligned);
}

static void test_truncated_file(void **state)
{
  ctx *c = *state;
  char path[1024];
  struct stat st;
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F32 });
  snprintf(path, sizeof path, "%s/model.safetensors", c->dir);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(truncate(path, st.st_size / 2), 0);
  expect_load(c, PRISM_ERR_FORMAT, "model.safetensors", NULL);
  assert_int_equal(truncate(path, 5), 0);
  expect_load(c, PRISM_ERR_FORMAT, "model.safetensors", NULL);
}

static void write_text(ctx *c, const char *file, const char *text)
{
  char path[1024];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", c->dir, file);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* Write a valid folder, then set config key `key` to the JSON `value`. */
static void config_with(ctx *c, const char *key, const char *value)
{
  json_t *cfg = gen_config_json(&small), *v = json_loads(value, JSON_DECODE_ANY, NULL);
  char *text;
  assert_non_null(v);
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F32 });
  json_object_set_new(cfg, key, v);
  text = json_dumps(cfg, 0);
  write_text(c, "config.json", text);
  free(text);
  json_decref(cfg);
}

static void test_bad_config_json(void **state)
{
  ctx *c = *state;
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F32 });
  write_text(c, "config.json", "{\"model_type\": \"bart\",\n \"d_model\": 16,,}");
  expect_load(c, PRISM_ERR_FORMAT, "config.json", "line 2");
  write_text(c, "config.json", "[1, 2]");
  expect_load(c, PRISM_ERR_FORMAT, "config.json", "object");
}

/* One config.json field set to a bad value: the status and what the message must name. */
typedef struct bad_field {
  const char *key, *value;
  int status;
  const char *needle;
} bad_field;

static const bad_field bad_fields[] = {
  /* wrong types */
  { "d_model", "\"16\"", PRISM_ERR_FORMAT, "d_model" },
  { "scale_embedding", "1.5", PRISM_ERR_FORMAT, "scale_embedding" },
  { "activation_function", "7", PRISM_ERR_FORMAT, "activation_function" },
  { "decoder_layers", "2.5", PRISM_ERR_FORMAT, "decoder_layers" },
  /* absurd or inconsistent dimensions, refused before anything is allocated */
  { "vocab_size", "1000000000000", PRISM_ERR_FORMAT, "vocab_size" },
  { "d_model", "-16", PRISM_ERR_FORMAT, "d_model" },
  { "encoder_layers", "100000", PRISM_ERR_FORMAT, "encoder_layers" },
  { "max_position_embeddings", "0", PRISM_ERR_FORMAT, "max_position_embeddings" },
  { "encoder_attention_heads", "3", PRISM_ERR_FORMAT, "encoder_attention_heads" },
  { "eos_token_id", "30", PRISM_ERR_FORMAT, "eos_token_id" },
  /* variants the forward pass does not implement */
  { "activation_function", "\"quick_gelu\"", PRISM_ERR_UNSUPPORTED, "quick_gelu" },
  { "normalize_before", "true", PRISM_ERR_UNSUPPORTED, "normalize_before" },
  { "add_final_layer_norm", "true", PRISM_ERR_UNSUPPORTED, "add_final_layer_norm" },
  { "model_type", "\"mbart\"", PRISM_ERR_UNSUPPORTED, "mbart" },
};

static void test_bad_config_fields(void **state)
{
  ctx *c = *state;
  for (size_t i = 0; i < sizeof bad_fields / sizeof bad_fields[0]; i++) {
    config_with(c, bad_fields[i].key, bad_fields[i].value);
    expect_load(c, bad_fields[i].status, "config.json", bad_fields[i].needle);
  }
}

/*
 * The model keeps generation_config.json's text; a value there that cannot run
 * fails when the generation settings are read, naming the file and the key.
 */
static void expect_generation(ctx *c, int status, const char *needle)
{
  prism_bart *m;
  prism_generate_params p;
  assert_ok(prism_bart_load(&m, c->dir, NULL));
  assert_ok(prism_generate_params_init(&p, sizeof p));
  assert_status(prism_generate_params_from_model(&p, m, NULL), status);
  printf("  %s: %s\n", prism_status_name(status), prism_last_error());
  assert_error_mentions("prism_generate_params_from_model: ");
  assert_error_mentions("generation_config.json");
  assert_error_mentions(needle);
  prism_bart_free(m);
}

static void test_bad_generation_config(void **state)
{
  ctx *c = *state;
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F32 });
  write_text(c, "generation_config.json", "{\"num_beams\": ");
  expect_load(c, PRISM_ERR_FORMAT, "generation_config.json", "invalid JSON");
  write_text(c, "generation_config.json", "[4]");
  expect_load(c, PRISM_ERR_FORMAT, "generation_config.json", "object");
  write_text(c, "generation_config.json", "{\"num_beams\": \"four\"}");
  expect_generation(c, PRISM_ERR_FORMAT, "num_beams");
  write_text(c, "generation_config.json", "{\"forced_bos_token_id\": 99}");
  expect_generation(c, PRISM_ERR_FORMAT, "forced_bos_token_id");
  write_text(c, "generation_config.json", "{\"early_stopping\": \"sometimes\"}");
  expect_generation(c, PRISM_ERR_FORMAT, "early_stopping");
}

static void test_missing_files(void **state)
{
  ctx *c = *state;
  char path[1024];
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F32 });
  snprintf(path, sizeof path, "%s/model.safetensors", c->dir);
  unlink(path);
  expect_load(c, PRISM_ERR_NOT_FOUND, "model.safetensors.index.json", NULL);
  snprintf(path, sizeof path, "%s/config.json", c->dir);
  unlink(path);
  expect_load(c, PRISM_ERR_NOT_FOUND, "config.json", NULL);
}

static void test_bad_index(void **state)
{
  ctx *c = *state;
  char path[1024];
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F32, .shards = 2 });
  write_text(
      c, "model.safetensors.index.json",
      "{\"weight_map\": {\"model.shared.weight\": \"../model-00001-of-00002.safetensors\"}}");
  expect_load(c, PRISM_ERR_FORMAT, "model.safetensors.index.json", "model.shared.weight");
  write_text(c, "model.safetensors.index.json", "{\"weight_map\": []}");
  expect_load(c, PRISM_ERR_FORMAT, "model.safetensors.index.json", "weight_map");
  /* a shard the index names but the folder lacks */
  remove_tree(c->dir);
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F32, .shards = 2 });
  snprintf(path, sizeof path, "%s/model-00002-of-00002.safetensors", c->dir);
  unlink(path);
  expect_load(c, PRISM_ERR_NOT_FOUND, "model-00002-of-00002.safetensors", NULL);
}

static void test_file_size_limit(void **state)
{
  ctx *c = *state;
  prism_bart_load_params p;
  prism_bart *m;
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F32 });
  assert_ok(prism_bart_load_params_init(&p, sizeof p));
  p.max_file_size = 4096;
  assert_status(prism_bart_load(&m, c->dir, &p), PRISM_ERR_LIMIT);
  assert_error_mentions("model.safetensors");
  p.struct_size = 4;
  assert_status(prism_bart_load(&m, c->dir, &p), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_bart_load_params_init(&p, 4), PRISM_ERR_INVALID_ARGUMENT);
}

/* Every allocation of load and session creation failing in turn: NO_MEMORY, nothing leaked. */
static void test_allocation_failures(void **state)
{
  ctx *c = *state;
  prism_bart *m;
  prism_bart_session *s;
  long n, failures = 0;
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F16, .shards = 2 });
  for (n = 1;; n++) {
    int rc;
    prism__alloc_fail_at(n);
    rc = prism_bart_load(&m, c->dir, NULL);
    if (rc == PRISM_OK) {
      rc = prism_bart_session_create(&s, m, NULL);
      prism_bart_session_free(rc == PRISM_OK ? s : NULL);
      prism_bart_free(m);
    }
    prism__alloc_fail_at(0);
    if (rc == PRISM_OK)
      break;
    assert_status(rc, PRISM_ERR_NO_MEMORY);
    failures++;
  }
  printf("%ld allocation failure points checked\n", failures);
  assert_true(failures > 20);
}

/* After a reservation, encoding and decoding allocate nothing. */
static void test_session_allocates_nothing(void **state)
{
  ctx *c = *state;
  static const int32_t src[6] = { 0, 4, 5, 2, 0, 9 }, tokens[4] = { 2, 2, 2, 2 };
  static const int32_t order[4] = { 1, 1, 3, 2 }, tgt[4] = { 2, 0, 2, 0 };
  prism_bart *m;
  prism_bart_session *s;
  const float *logits;
  float all[2 * 2 * 30];
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_BF16 });
  assert_ok(prism_bart_load(&m, c->dir, NULL));
  assert_ok(prism_bart_session_create(&s, m, NULL));
  assert_ok(prism_bart_session_reserve(s, 2, 4, 3, 3));
  prism__alloc_fail_at(0); /* resets the count */
  assert_ok(prism_bart_session_encode(s, src, NULL, 2, 3, NULL));
  assert_ok(prism_bart_session_decoder_start(s, 2));
  for (int t = 0; t < 3; t++) {
    assert_ok(prism_bart_session_decoder_step(s, tokens, &logits));
    assert_ok(prism_bart_session_decoder_reorder(s, order));
  }
  assert_ok(prism_bart_session_forward(s, tgt, 2, all));
  assert_int_equal(prism__alloc_count(), 0);
  prism_bart_session_free(s);
  prism_bart_free(m);
}

static void test_session_misuse(void **state)
{
  ctx *c = *state;
  prism_bart *m;
  prism_bart_session *s, *s2;
  prism_bart_session_params p;
  const float *logits;
  int32_t ids[4] = { 0, 5, 6, 2 }, bad[4] = { 0, 5, 30, 2 }, mask[4] = { 1, 1, 2, 1 },
          src[2] = { 0, 2 };
  float out[4 * 30];
  write_layout(c, &(gen_layout){ .dtype = PRISM__ST_F32 });
  assert_ok(prism_bart_load(&m, c->dir, NULL));
  assert_ok(prism_bart_session_params_init(&p, sizeof p));
  p.max_batch = 2;
  p.max_rows = 2;
  p.max_target_len = 4;
  assert_ok(prism_bart_session_create(&s, m, &p));
  assert_status(prism_bart_session_decoder_start(s, 1), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_bart_session_decoder_step(s, ids, &logits), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_bart_session_forward(s, ids, 4, out), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_bart_session_encode(s, bad, NULL, 1, 4, NULL), PRISM_ERR_OUT_OF_RANGE);
  assert_error_mentions("token 30 at index 2");
  assert_status(prism_bart_session_encode(s, ids, mask, 1, 4, NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("attention_mask[2]");
  assert_status(prism_bart_session_encode(s, ids, NULL, 3, 1, NULL), PRISM_ERR_LIMIT);
  assert_status(prism_bart_session_encode(NULL, ids, NULL, 1, 4, NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_bart_session_encode(s, ids, NULL, 0, 4, NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_ok(prism_bart_session_encode(s, ids, NULL, 1, 4, NULL));
  assert_status(prism_bart_session_decoder_start(s, 3), PRISM_ERR_LIMIT);
  assert_ok(prism_bart_session_decoder_start(s, 2));
  assert_status(prism_bart_session_decoder_step(s, bad + 1, &logits), PRISM_ERR_OUT_OF_RANGE);
  assert_status(prism_bart_session_decoder_reorder(s, src), PRISM_ERR_OUT_OF_RANGE);
  for (int t = 0; t < 4; t++)
    assert_ok(prism_bart_session_decoder_step(s, ids, &logits));
  assert_status(prism_bart_session_decoder_step(s, ids, &logits), PRISM_ERR_LIMIT);
  assert_status(prism_bart_session_forward(s, ids, 5, out), PRISM_ERR_LIMIT);
  assert_error_mentions("max_target_len");
  /* A cap above the model's positions is harmless; the positions still bound a request. */
  p.max_source_len = 13;
  assert_ok(prism_bart_session_create(&s2, m, &p));
  assert_status(prism_bart_session_reserve(s2, 1, 1, 13, 1), PRISM_ERR_OUT_OF_RANGE);
  assert_error_mentions("max_position_embeddings");
  prism_bart_session_free(s2);
  p.struct_size = 4;
  assert_status(prism_bart_session_create(&s2, m, &p), PRISM_ERR_INVALID_ARGUMENT);
  assert_null(s2);
  prism_bart_session_free(NULL);
  prism_bart_free(NULL);
  prism_bart_session_free(s);
  prism_bart_free(m);
}

static void test_load_memory_errors(void **state)
{
  static const char config[] = "{\"model_type\": \"bart\", \"vocab_size\": 30, \"d_model\": 16}";
  static const unsigned char junk[16] = { 200, 0, 0, 0, 0, 0, 0, 0, '{' };
  prism_bart *m;
  (void)state;
  assert_status(
      prism_bart_load_memory(&m, config, strlen(config), junk, sizeof junk, NULL, 0, NULL),
      PRISM_ERR_FORMAT);
  assert_null(m);
  assert_error_mentions("model.safetensors");
  assert_status(prism_bart_load_memory(&m, NULL, 0, junk, sizeof junk, NULL, 0, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_status(
      prism_bart_load_memory(&m, config, strlen(config), junk, sizeof junk, NULL, 5, NULL),
      PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_bart_load(NULL, "x", NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_bart_load(&m, NULL, NULL), PRISM_ERR_INVALID_ARGUMENT);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_valid_folder_loads),
    T(test_missing_tensor),
    T(test_missing_embedding),
    T(test_wrong_shape),
    T(test_shape_contradicts_config),
    T(test_bad_dtype),
    T(test_offsets_out_of_range),
    T(test_offsets_overlap),
    T(test_misaligned_f32_is_copied),
    T(test_truncated_file),
    T(test_bad_config_json),
    T(test_bad_config_fields),
    T(test_bad_generation_config),
    T(test_missing_files),
    T(test_bad_index),
    T(test_file_size_limit),
    T(test_allocation_failures),
    T(test_session_allocates_nothing),
    T(test_session_misuse),
    T(test_load_memory_errors),
  };
  return cmocka_run_group_tests_name("bart_errors", tests, NULL, NULL);
}
