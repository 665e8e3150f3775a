/*
 * Internal face of lib/bart for the modules above it (lib/train): a model whose
 * parameters live in one writable float32 arena, and the training forward and
 * backward passes of a teacher-forced batch over it.
 *
 * A trainable model is an ordinary prism_bart (sessions and generation run on
 * it unchanged) whose every weight points into the arena; the gradient of a
 * parameter sits at the same offset of a gradient buffer of arena_count floats.
 */
#ifndef PRISM__BART_BART_H
#define PRISM__BART_BART_H

#include <stddef.h>
#include <stdint.h>

#include "prism/bart.h"

/* One trainable parameter, named as HF's named_parameters() names it. */
typedef struct prism__bart_param {
  char name[160];       /* "model.shared.weight", "model.encoder.layers.0.fc1.bias", ... */
  size_t offset, count; /* its floats in the arena */
  int ndim;
  uint64_t shape[2];
  int decay; /* HF Trainer: weight decay applies (not a bias, not a LayerNorm parameter) */
  int kind;  /* prism__bart_wkind */
} prism__bart_param;

/*
 * A trainable copy of `src`: every weight converted to float32 into one arena
 * (final_logits_bias, a buffer, is copied beside it, zeros when absent); the
 * configuration texts are kept.
 */
int prism__bart_trainable_copy(prism_bart **out, const prism_bart *src);

/*
 * A new trainable model from config.json text with HF's _init_weights:
 * normal(0, init_std) for Linear and Embedding weights (the padding row of the
 * token embedding zero), zero biases, LayerNorm 1 and 0, final_logits_bias
 * zero; seeded, independent of the thread count. `generation_json` may be
 * NULL. `source` names the config in messages and prism_bart_config_text.
 */
int prism__bart_trainable_init(prism_bart **out, const char *config_json, size_t config_len,
                               const char *generation_json, size_t generation_len,
                               const char *source, uint64_t seed);

/* The arena of a trainable model (NULL for a loaded one) and its parameter table. */
float *prism__bart_arena(const prism_bart *m, size_t *count);
const prism__bart_param *prism__bart_params(const prism_bart *m, size_t *n);
const float *prism__bart_final_logits_bias(const prism_bart *m); /* [vocab] or NULL */

/* Training facts of config.json: dropouts, LayerDrop, init_std, special ids. */
typedef struct prism__bart_train_config {
  double dropout, attention_dropout, activation_dropout;
  double encoder_layerdrop, decoder_layerdrop;
  double init_std;
  int32_t pad_token_id, decoder_start_token_id, vocab_size, max_positions;
} prism__bart_train_config;

void prism__bart_train_config_get(const prism_bart *m, prism__bart_train_config *out);

/* A teacher-forced batch: labels -100 are ignored; the decoder input is the
 * labels shifted right behind decoder_start_token_id, -100 read as padding. */
typedef struct prism__bart_batch {
  const int32_t *input_ids;      /* [batch, src_len] */
  const int32_t *attention_mask; /* [batch, src_len] of 0/1, or NULL: input_ids != pad_token_id */
  const int32_t *labels;         /* [batch, tgt_len] */
  size_t batch, src_len, tgt_len;
} prism__bart_batch;

/* Dropout probabilities where modeling_bart.py puts them (0: off). */
typedef struct prism__bart_dropout {
  float hidden, attention, activation;
} prism__bart_dropout;

typedef struct prism__bart_step_opts {
  float label_smoothing;       /* HF LabelSmoother epsilon; 0: plain cross-entropy */
  float grad_scale;            /* this batch's mean loss enters the gradient times this */
  prism__bart_dropout dropout; /* all 0 for evaluation */
  uint64_t seed, stream;       /* dropout masks are a function of (seed, stream) alone */
} prism__bart_step_opts;

typedef struct prism__bart_step_result {
  double loss;    /* the mean loss over the labels that are not -100 */
  size_t tokens;  /* labels that are not -100 */
  size_t correct; /* of those, how many the logits' argmax predicts */
} prism__bart_step_result;

/*
 * The activations of one training step, kept for the backward pass in one
 * arena sized for batches of up to (batch, src_len, tgt_len); a step allocates
 * nothing. Owned by one thread at a time; it borrows the model.
 */
typedef struct prism__bart_ws prism__bart_ws;

/* `dropout`: the kinds of dropout the steps will use (rates > 0 get mask room; NULL: none). */
int prism__bart_ws_create(prism__bart_ws **out, const prism_bart *m, size_t batch, size_t src_len,
                          size_t tgt_len, const prism__bart_dropout *dropout);
void prism__bart_ws_free(prism__bart_ws *ws);
size_t prism__bart_ws_bytes(const prism__bart_ws *ws);

/*
 * One teacher-forced batch: the loss and, when `grad` is non-NULL (arena
 * layout), grad += grad_scale * d loss / d parameters. Ids are checked
 * against the vocabulary; a batch larger than the workspace is refused.
 */
int prism__bart_train_step(prism__bart_ws *ws, const prism__bart_batch *batch,
                           const prism__bart_step_opts *opts, float *grad,
                           prism__bart_step_result *out);

#endif
