/*
 * libprism — training a BART model with HuggingFace Trainer semantics.
 *
 * A prism_pairs holds training data: (source, target) pairs of token ids, from
 * ids, from text through a prism_tokenizer, or from a JSON Lines file; or
 * ready micro-batches used in order, as a reference run had them.
 *
 * A prism_trainer holds a model's parameters in float32 (fine-tuning a loaded
 * HuggingFace BART, or a new model from config.json initialised as HF's
 * _init_weights does), the AdamW moments and the position in the data, and
 * runs the training loop: AdamW with decoupled weight decay (biases and
 * LayerNorm parameters excluded), a linear, cosine or constant schedule after
 * linear warmup, global-norm gradient clipping, gradient accumulation, label
 * smoothing, dropout, evaluation with early stopping, and checkpoints that
 * HuggingFace transformers and libprism load unchanged. A run resumed from a
 * checkpoint continues bit for bit as the uninterrupted run would have, and
 * results do not depend on the thread count. docs/train.md has the details.
 *
 * Thread safety: a trainer and a pairs set are used by one thread at a time.
 * Training runs on the library's worker pool (prism_set_num_threads). The
 * progress callback runs on the calling thread.
 *
 * Ownership: create/load/resume calls return new objects through their first
 * argument; free them with prism_pairs_free / prism_trainer_free (NULL is a
 * no-op). A trainer copies what it needs from the model it starts from (the
 * model may be freed after). prism_trainer_model returns a model owned by the
 * trainer: valid until the trainer is freed, its weights change as training
 * goes on. The progress struct is valid only during the callback.
 */
#ifndef PRISM_TRAIN_H
#define PRISM_TRAIN_H

#include "bart.h"
#include "common.h"
#include "metrics.h"
#include "tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct prism_pairs prism_pairs;
typedef struct prism_trainer prism_trainer;

/* ---- training data ---------------------------------------------------------------------- */

/* What each line of a pairs file holds. */
typedef enum prism_pairs_format {
  PRISM_PAIRS_PAIRS = 0,  /* {"source": S, "target": S} or {"input_ids": [int], "labels": [int]} */
  PRISM_PAIRS_BATCHES = 1 /* one micro-batch {"input_ids": [[int]], "labels": [[int]]} */
} prism_pairs_format;

typedef struct prism_pairs_params {
  size_t struct_size;      /* sizeof(prism_pairs_params), set by _init */
  int32_t format;          /* prism_pairs_format; default PRISM_PAIRS_PAIRS */
  uint32_t max_source_len; /* longest source kept, in tokens; 0: no limit */
  uint32_t max_target_len; /* longest target kept; 0: no limit */
  int32_t truncate;        /* nonzero: a longer sequence keeps its first max-1 tokens and its last
                              one (</s>, as HF truncation does); 0 (default): it is refused */
} prism_pairs_params;

PRISM_API int prism_pairs_params_init(prism_pairs_params *params, size_t struct_size);

/* An empty set; `params` (NULL: defaults) gives the format and the length limits. */
PRISM_API int prism_pairs_create(prism_pairs **out, const prism_pairs_params *params);
PRISM_API void prism_pairs_free(prism_pairs *pairs);

/*
 * Add one pair of token ids: the encoder input and the labels (the decoder
 * learns to produce `target`; it usually starts with <s> and ends with </s>).
 */
PRISM_API int prism_pairs_add(prism_pairs *pairs, const int32_t *source, size_t source_len,
                              const int32_t *target, size_t target_len);

/* Add one text pair: both sides encoded with <s> ... </s> by `tokenizer`. */
PRISM_API int prism_pairs_add_text(prism_pairs *pairs, const prism_tokenizer *tokenizer,
                                   const char *source, size_t source_len, const char *target,
                                   size_t target_len);

/*
 * Add one ready micro-batch (PRISM_PAIRS_BATCHES sets): input_ids [rows,
 * source_len] padded with the model's pad_token_id, labels [rows, target_len]
 * with -100 where nothing is to be learnt. attention_mask may be NULL
 * (input_ids != pad_token_id).
 */
PRISM_API int prism_pairs_add_batch(prism_pairs *pairs, const int32_t *input_ids,
                                    const int32_t *attention_mask, size_t rows, size_t source_len,
                                    const int32_t *labels, size_t target_len);

/*
 * Read a JSON Lines file (one object per line, blank lines skipped; see
 * prism_pairs_format). Text lines need a tokenizer; id lines do not
 * (`tokenizer` may be NULL). A malformed line is refused with its line number.
 */
PRISM_API int prism_pairs_load(prism_pairs **out, const char *path,
                               const prism_tokenizer *tokenizer, const prism_pairs_params *params);

/* The same from memory; `what` names the data in messages (NULL: "pairs"). */
PRISM_API int prism_pairs_parse(prism_pairs **out, const char *data, size_t len, const char *what,
                                const prism_tokenizer *tokenizer, const prism_pairs_params *params);

/* Pairs (or micro-batches) in the set; 0 for NULL. */
PRISM_API size_t prism_pairs_count(const prism_pairs *pairs);

/* Pairs whose source or target was cut by `truncate`; 0 for NULL. */
PRISM_API size_t prism_pairs_truncated(const prism_pairs *pairs);

/* ---- training --------------------------------------------------------------------------- */

/* The learning-rate schedule after warmup (HF get_scheduler). */
typedef enum prism_train_schedule {
  PRISM_TRAIN_LINEAR = 0,  /* linear decay to 0 at the last step */
  PRISM_TRAIN_COSINE = 1,  /* half a cosine down to 0 */
  PRISM_TRAIN_CONSTANT = 2 /* constant (HF "constant_with_warmup"; "constant" when no warmup) */
} prism_train_schedule;

/*
 * Training settings. prism_train_params_init gives HF TrainingArguments'
 * defaults where HF has one. Reals left NaN take the model's config.json
 * (dropouts).
 */
typedef struct prism_train_params {
  size_t struct_size;        /* sizeof(prism_train_params), set by _init */
  double learning_rate;      /* peak rate; 5e-5 */
  double weight_decay;       /* AdamW decoupled decay (not biases, not LayerNorm); 0 */
  double adam_beta1;         /* 0.9 */
  double adam_beta2;         /* 0.999 */
  double adam_epsilon;       /* 1e-8 */
  double max_grad_norm;      /* global-norm clipping; 1.0; 0: none (the norm is still reported) */
  double label_smoothing;    /* HF LabelSmoother epsilon; 0 */
  double dropout;            /* NaN: config.json "dropout" */
  double attention_dropout;  /* NaN: config.json "attention_dropout" */
  double activation_dropout; /* NaN: config.json "activation_dropout" */
  int32_t schedule;          /* prism_train_schedule; PRISM_TRAIN_LINEAR */
  uint32_t warmup_steps;     /* linear warmup from 0; 0 */
  uint32_t batch_size;       /* pairs per micro-batch; 8 */
  uint32_t grad_accum;       /* micro-batches per optimiser step; 1 */
  uint32_t epochs;           /* passes over the data when max_steps is 0; 3 */
  uint32_t max_steps;        /* optimiser steps; 0: from epochs */
  uint32_t eval_every;       /* evaluate every N steps; 0: after each epoch */
  uint32_t eval_batch_size;  /* 0: batch_size */
  uint32_t patience;         /* stop after N evaluations without a better best_metric; 0: never */
  uint32_t save_every;       /* a checkpoint every N steps; 0: at evaluations and the end */
  int32_t group_by_length;   /* batches of similar lengths (less padding); 1 */
  uint64_t seed;             /* data order and dropout; 42 */
  const char *output_dir;    /* checkpoints and the final model; NULL: none written */
  const char *tokenizer_dir; /* tokenizer files copied into checkpoints, and the tokenizer of
                                eval_generate; NULL: the model's folder */
  uint32_t eval_generate;    /* at each evaluation, decode the first N evaluation pairs greedily
                                (the model's generation settings, one beam, no sampling) and score
                                them against their targets (<prism/metrics.h>); 0: none */
  const char *best_metric;   /* what picks the best checkpoint and drives early stopping: "loss"
                                (NULL, the default; lower is better), "accuracy", or on generated
                                text (needs eval_generate) "exact_match", "bleu1", "bleu4",
                                "rouge_{1,2,l}_{f,p,r}", "usr" (higher is better) */
} prism_train_params;

PRISM_API int prism_train_params_init(prism_train_params *params, size_t struct_size);

/* What the progress callback sees after each optimiser step. */
typedef struct prism_train_progress {
  size_t struct_size;
  uint64_t step;            /* optimiser steps done */
  uint64_t total_steps;     /* the run's step budget */
  double epoch;             /* epochs done, fractional */
  double loss;              /* this step's loss: the mean of its micro-batch losses */
  double learning_rate;     /* the rate this step used */
  double grad_norm;         /* global gradient norm before clipping */
  double tokens_per_second; /* target tokens (labels that are not -100) per second, this step */
  int32_t evaluated;        /* 1 when an evaluation ran after this step */
  int32_t best;             /* 1 when that evaluation is the best so far */
  double eval_loss;         /* mean loss over the evaluation tokens; NaN when not evaluated */
  double eval_accuracy;     /* share of evaluation tokens predicted (argmax); NaN likewise */
  const char *checkpoint;   /* the checkpoint written after this step, or NULL */
  /* Evaluation on generated text (eval_generate), when it ran after this step: */
  uint64_t eval_generated;               /* pairs generated; 0 when not evaluated */
  double eval_exact_match;               /* share of outputs equal to their target; NaN */
  const prism_metrics_result *eval_text; /* BLEU, ROUGE, USR of the outputs; NULL */
  double eval_metric;                    /* the value of best_metric at this evaluation; NaN */
} prism_train_progress;

/* Called after every optimiser step; return 0 to stop (PRISM_ERR_CANCELLED), nonzero to go on. */
typedef int (*prism_train_progress_fn)(const prism_train_progress *progress, void *payload);

/* A trainer that fine-tunes `init` (its weights copied and converted to float32). */
PRISM_API int prism_trainer_create(prism_trainer **out, const prism_bart *init,
                                   const prism_train_params *params);

/*
 * A trainer for a new model described by config.json text (and optional
 * generation_config.json text; NULL, 0 for none), initialised as HF's
 * _init_weights does with params->seed.
 */
PRISM_API int prism_trainer_create_from_config(prism_trainer **out, const char *config_json,
                                               size_t config_len,
                                               const char *generation_config_json,
                                               size_t generation_len,
                                               const prism_train_params *params);

/*
 * A trainer continuing from a checkpoint folder written by a trainer (its
 * model, AdamW moments, step, data order and settings). Of `params` only
 * output_dir and tokenizer_dir are read (NULL: the checkpoint's parent folder,
 * and the checkpoint itself).
 */
PRISM_API int prism_trainer_resume(prism_trainer **out, const char *checkpoint_dir,
                                   const prism_train_params *params);

PRISM_API void prism_trainer_free(prism_trainer *trainer);

/*
 * Train on `train` until the step budget is spent, early stopping triggers, or
 * the callback cancels; evaluate on `eval` (may be NULL) as the params say.
 * With an output_dir, checkpoints go to output_dir/checkpoint-<step>/ (the
 * latest and the best are kept) and the final model (the best evaluated one,
 * else the last) to output_dir itself. Calling it again continues where it
 * stopped. A resumed trainer must get the same training pairs. A loss that is
 * not finite stops training with PRISM_ERR_OUT_OF_RANGE naming the step; the
 * parameters stay those of the last good step.
 */
PRISM_API int prism_trainer_train(prism_trainer *trainer, const prism_pairs *train,
                                  const prism_pairs *eval, prism_train_progress_fn progress,
                                  void *payload);

/* Mean loss and token accuracy over `eval` (dropout off). Either output may be NULL. */
PRISM_API int prism_trainer_evaluate(double *loss, double *accuracy, prism_trainer *trainer,
                                     const prism_pairs *eval);

/*
 * Write a checkpoint folder: config.json, generation_config.json,
 * model.safetensors (the tied embedding once, as model.shared.weight),
 * tokenizer files when known, and the training state (trainer_state.json,
 * optimizer.safetensors). The folder is written beside `dir` and put in place
 * in one step; an existing `dir` is replaced only if it is empty or a
 * checkpoint this library wrote.
 */
PRISM_API int prism_trainer_save(prism_trainer *trainer, const char *dir);

/* The model being trained (owned by the trainer; usable with sessions between train calls). */
PRISM_API const prism_bart *prism_trainer_model(const prism_trainer *trainer);

/* Where a trainer is. */
typedef struct prism_train_state {
  size_t struct_size;
  uint64_t step;         /* optimiser steps done */
  uint64_t total_steps;  /* 0 until train has seen its data */
  double epoch;          /* epochs done, fractional */
  double best_eval_loss; /* the evaluation loss of the best step; NaN before any evaluation */
  uint64_t best_step;    /* the best evaluation's step (by best_metric) */
  int32_t stopped_early; /* 1 when patience ran out */
  double best_metric;    /* the best value of best_metric; NaN before any evaluation */
} prism_train_state;

PRISM_API int prism_trainer_get_state(const prism_trainer *trainer, prism_train_state *state);

#ifdef __cplusplus
}
#endif

#endif /* PRISM_TRAIN_H */
