/*
 * Generated BART checkpoints for the tests: random weights that are exact in
 * F16 and BF16 (multiples of 1/64 below 1), written as a HuggingFace folder in
 * several layouts, so the same reference numbers hold for every variant.
 */
#ifndef PRISM_TEST_GEN_MODEL_H
#define PRISM_TEST_GEN_MODEL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/safetensors.h"

typedef struct gen_config {
  int vocab, d_model, enc_layers, dec_layers, enc_heads, dec_heads, enc_ffn, dec_ffn, max_pos;
  int scale_embedding;
  const char *activation;
} gen_config;

typedef struct gen_tensor {
  char name[96]; /* without the "model." prefix, e.g. "encoder.layers.0.fc1.weight" */
  int ndim;
  uint64_t shape[2];
  float *data;
} gen_tensor;

typedef struct gen_model {
  gen_config cfg;
  gen_tensor *t;
  size_t n;
} gen_model;

/* Every BART tensor with random values; the tied embedding is "shared.weight". */
void gen_model_build(gen_model *g, const gen_config *cfg, uint32_t seed);
void gen_model_free(gen_model *g);

/* A tensor's data by printf-style name (fails the test when absent). */
const float *gen_w(const gen_model *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* config.json content for cfg (caller owns; tests edit it to break it). */
json_t *gen_config_json(const gen_config *cfg);

typedef struct gen_layout {
  prism__st_dtype dtype;    /* F32, F16 or BF16 */
  int no_prefix;            /* store names without "model." */
  const char *shared_alias; /* NULL: "model.shared.weight"; else this exact name */
  int no_final_logits_bias;
  int shards;            /* 0: model.safetensors; N: N shards + index */
  const char *skip;      /* leave this tensor (stored name) out */
  const char *reshape;   /* store this tensor with its dims swapped / extended */
  const char *bad_dtype; /* store this tensor as I32 */
} gen_layout;

/* Write config.json, generation_config.json and the weights into dir (created). */
void gen_model_write(const gen_model *g, const char *dir, const gen_layout *layout);

/* mkdtemp under TMPDIR; remove_tree deletes it with its files. */
char *make_temp_dir(void);
void remove_tree(const char *dir);

#endif
