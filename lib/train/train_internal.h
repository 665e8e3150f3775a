/*
 * Internal to lib/train: training data (pairs.c), batching (batches.c), the
 * optimiser and schedule (optim.c), checkpoints (checkpoint.c) and the loop
 * (trainer.c). The model side is lib/bart's face, bart/bart.h.
 */
#ifndef PRISM__TRAIN_INTERNAL_H
#define PRISM__TRAIN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bart/bart.h"
#include "prism/metrics.h"
#include "prism/train.h"

#define PRISM__TRAIN_IGNORE (-100)

/* ---- pairs.c ---- */

/* A pair (rows 0) or a ready micro-batch (rows >= 1); its ids live in the set's id store. */
typedef struct prism__train_item {
  size_t off;              /* source ids, then (batches) the mask when has_mask, then the labels */
  uint32_t rows, src, tgt; /* batches: rows x src input ids and rows x tgt labels */
  uint8_t has_mask;
} prism__train_item;

struct prism_pairs {
  prism_pairs_params p;
  int32_t *ids;
  size_t n_ids, cap_ids;
  prism__train_item *items;
  size_t n, cap;
  size_t truncated;
};

static inline const int32_t *prism__train_src(const prism_pairs *s, const prism__train_item *it)
{
  return s->ids + it->off;
}

static inline const int32_t *prism__train_mask(const prism_pairs *s, const prism__train_item *it)
{
  return it->has_mask ? s->ids + it->off + (size_t)it->rows * it->src : NULL;
}

static inline const int32_t *prism__train_tgt(const prism_pairs *s, const prism__train_item *it)
{
  size_t rows = it->rows ? it->rows : 1;
  return s->ids + it->off + rows * it->src * (it->has_mask ? 2u : 1u);
}

/* A fingerprint of the set's contents (FNV-1a over every id and shape). */
uint64_t prism__train_fingerprint(const prism_pairs *s);

/* ---- batches.c ---- */

/* One micro-batch in the trainer's buffers (or pointing into a batches set). */
typedef struct prism__train_batch_buf {
  int32_t *ids, *mask, *labels;
  size_t cap_rows, cap_src, cap_tgt;
} prism__train_batch_buf;

/*
 * The order of one epoch: a seeded shuffle of the pairs, then (group_by_length)
 * sorted by length, longest first, within mega-batches of 50 micro-batches, as
 * HF's LengthGroupedSampler. Micro-batch k is order[k * batch_size ...].
 */
void prism__train_epoch_order(int32_t *order, const prism_pairs *s, size_t batch_size,
                              int group_by_length, uint64_t seed, uint64_t epoch);

/* The padded micro-batch of pairs idx[0..rows) into buf (pads: pad_id, mask 0, labels -100). */
void prism__train_fill(prism__bart_batch *out, prism__train_batch_buf *buf, const prism_pairs *s,
                       const int32_t *idx, size_t rows, int32_t pad_id);

/* Item k of a batches set as a batch (no copy). */
void prism__train_given(prism__bart_batch *out, const prism_pairs *s, size_t k);

/* ---- optim.c ---- */

/* A stretch of the arena one optimiser task updates: inside one parameter. */
typedef struct prism__train_chunk {
  size_t off, count;
  int decay;
} prism__train_chunk;

typedef struct prism__train_optim {
  prism__train_chunk *chunks;
  size_t n_chunks;
  double *partial; /* per chunk: its share of the squared gradient norm */
} prism__train_optim;

int prism__train_optim_init(prism__train_optim *o, const prism__bart_param *params, size_t n);
void prism__train_optim_free(prism__train_optim *o);

/* The global L2 norm of grad, summed in a fixed order. */
double prism__train_grad_norm(prism__train_optim *o, const float *grad);

/* One AdamW step (torch.optim.AdamW): `step` counts this one (1-based); grad is scaled by
 * `clip` first and zeroed after. */
typedef struct prism__train_adamw {
  double lr, beta1, beta2, eps, weight_decay, clip;
  uint64_t step;
} prism__train_adamw;

void prism__train_adamw_step(const prism__train_optim *o, const prism__train_adamw *a, float *w,
                             float *grad, float *m, float *v);

/* The learning rate of the step after `done` steps (HF get_scheduler, LambdaLR). */
double prism__train_lr(const prism_train_params *p, uint64_t done, uint64_t total);

/* ---- evaltext.c: evaluation on generated text, and the metric of the best checkpoint ---- */

/* One evaluation's figures. */
typedef struct prism__train_eval {
  double loss, accuracy;     /* teacher-forced */
  size_t generated;          /* pairs generated (eval_generate); 0: none */
  double exact_match;        /* share of outputs equal to their target */
  prism_metrics_result text; /* BLEU, ROUGE, USR of the outputs */
} prism__train_eval;

/* The index of a best_metric name (NULL: "loss"); PRISM_ERR_INVALID_ARGUMENT naming it. */
int prism__train_metric_find(const char *name, int *index);
const char *prism__train_metric_name(int index);
/* 1 when the metric is computed on generated text. */
int prism__train_metric_needs_text(int index);
/* The metric's value in an evaluation (NaN when it was not computed). */
double prism__train_metric_value(int index, const prism__train_eval *e);
/* 1 when `value` beats `best` (NaN: none yet): lower loss, higher anything else. */
int prism__train_metric_better(int index, double value, double best);
/* Generate for the first eval_generate pairs of `eval` and score them into e. */
int prism__train_eval_text(prism_trainer *t, const prism_pairs *eval, prism__train_eval *e);

/* ---- trainer.c: a trainer ---- */

struct prism_trainer {
  prism_train_params p; /* resolved: dropouts are the rates in use; strings below */
  prism__bart_train_config cfg;
  char *output_dir, *tokenizer_dir;
  prism_bart *model;
  float *w, *grad, *m, *v; /* w: the model's arena */
  size_t count;
  prism__train_optim optim;
  /* Where training is. */
  uint64_t step, total_steps, epoch, pos, micro;
  uint64_t n_train, fingerprint; /* 0 until train() first sees its data */
  uint64_t per_epoch;            /* micro-batches per epoch of that data */
  int given;                     /* the data is ready micro-batches */
  int32_t *order;
  int have_order;
  int metric;        /* best_metric's index (evaltext.c) */
  double best_value; /* its best value so far, NaN before any evaluation */
  double best_loss;  /* the evaluation loss at best_step */
  uint64_t best_step;
  uint32_t bad_evals;
  int stopped;
  char *best_ckpt, *last_ckpt;
  /* Per train() call. */
  prism__bart_ws *ws;
  size_t ws_rows, ws_src, ws_tgt;
  prism__bart_dropout ws_dropout;
  prism__train_batch_buf buf;
  int32_t *eval_order;
  size_t eval_cap;
  /* Generation at evaluations (eval_generate), made when first needed. */
  prism_tokenizer *tok;
  prism_bart_session *session;
};

/* ---- state.c: the training state of a checkpoint ---- */

#define PRISM__TRAIN_STATE_FORMAT "prism-train"

/* trainer_state.json's object (`kind`: "checkpoint" or "output"). */
json_t *prism__train_state_json(const prism_trainer *t, const char *kind);

/* optimizer.safetensors in `dir`: the AdamW moments by parameter name, and the epoch's order. */
int prism__train_write_optimizer(const prism_trainer *t, const char *dir);

/* Reading them back (errors name `what`, the file). */
int prism__train_read_settings(const json_t *s, const char *what, prism_train_params *p);
int prism__train_read_state(prism_trainer *t, const json_t *j, const char *what);
int prism__train_read_optimizer(prism_trainer *t, const char *dir);

/* ---- checkpoint.c ---- */

/* 1 when `dir` holds a trainer_state.json this library wrote. */
int prism__train_is_ours(const char *dir);

/* Model files of a HF folder: config.json, generation_config.json, model.safetensors, tokenizer. */
int prism__train_write_model(const prism_bart *m, const char *dir, const char *tokenizer_dir);

/* Copy the model files of folder `from` into `to` (each file written atomically). */
int prism__train_copy_model(const char *from, const char *to);

#endif
