/*
 * The training loop with HuggingFace Trainer semantics (transformers 4.36):
 * micro-batches of `batch_size` pairs, `grad_accum` of them per optimiser step
 * (each one's mean loss divided by the count), the global gradient norm
 * clipped, AdamW, the learning rate of step s computed from the s - 1 steps
 * before it; evaluation, early stopping on the evaluation loss, checkpoints.
 *
 * Everything a step depends on is state that checkpoints keep: the weights and
 * AdamW moments, the step, the epoch and the position in its order, and the
 * seed; dropout masks are drawn from (seed, micro-batch number) and epoch
 * orders from (seed, epoch), so a resumed run repeats the uninterrupted one
 * bit for bit, on any number of threads.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "common/params.h"
#include "common/safetensors.h"
#include "train_internal.h"

#define STATE_FILE "trainer_state.json"

/* The first released layouts (frozen in tests/abi). */
#define TRAIN_PARAMS_V1_SIZE PRISM__LAYOUT_SIZE(prism_train_params, best_metric)
#define PROGRESS_V1_SIZE PRISM__LAYOUT_SIZE(prism_train_progress, eval_metric)
#define STATE_V1_SIZE PRISM__LAYOUT_SIZE(prism_train_state, best_metric)

static const prism_train_params train_defaults = {
  .struct_size = sizeof train_defaults,
  .learning_rate = 5e-5,
  .weight_decay = 0.0,
  .adam_beta1 = 0.9,
  .adam_beta2 = 0.999,
  .adam_epsilon = 1e-8,
  .max_grad_norm = 1.0,
  .label_smoothing = 0.0,
  .dropout = NAN,
  .attention_dropout = NAN,
  .activation_dropout = NAN,
  .schedule = PRISM_TRAIN_LINEAR,
  .warmup_steps = 0,
  .batch_size = 8,
  .grad_accum = 1,
  .epochs = 3,
  .max_steps = 0,
  .eval_every = 0,
  .eval_batch_size = 0,
  .patience = 0,
  .save_every = 0,
  .group_by_length = 1,
  .seed = 42,
  .output_dir = NULL,
  .tokenizer_dir = NULL,
  .eval_generate = 0,
  .best_metric = NULL,
};

PRISM_API int prism_train_params_init(prism_train_params *params, size_t struct_size)
{
  return PRISM__PARAMS_INIT(params, struct_size, &train_defaults, TRAIN_PARAMS_V1_SIZE,
                            "prism_train_params_init");
}

/* ---- settings --------------------------------------------------------------------------- */

static int check_rate(const char *fn, const char *name, double x, double lo, double hi, int open_hi)
{
  if (!(x >= lo && (open_hi ? x < hi : x <= hi)))
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: %s %g is outside [%g, %g%s", fn, name, x,
                        lo, hi, open_hi ? ")" : "]");
  return PRISM_OK;
}

/* Check the settings and resolve the dropouts against the model's config.json. */
static int resolve_params(prism_train_params *p, const prism_bart *m, const char *fn)
{
  prism__bart_train_config c;
  int rc = PRISM_OK;
  prism__bart_train_config_get(m, &c);
  if (isnan(p->dropout))
    p->dropout = c.dropout;
  if (isnan(p->attention_dropout))
    p->attention_dropout = c.attention_dropout;
  if (isnan(p->activation_dropout))
    p->activation_dropout = c.activation_dropout;
  if (rc == PRISM_OK)
    rc = check_rate(fn, "learning_rate", p->learning_rate, 0.0, 1e6, 0);
  if (rc == PRISM_OK)
    rc = check_rate(fn, "weight_decay", p->weight_decay, 0.0, 1e6, 0);
  if (rc == PRISM_OK)
    rc = check_rate(fn, "adam_beta1", p->adam_beta1, 0.0, 1.0, 1);
  if (rc == PRISM_OK)
    rc = check_rate(fn, "adam_beta2", p->adam_beta2, 0.0, 1.0, 1);
  if (rc == PRISM_OK)
    rc = check_rate(fn, "adam_epsilon", p->adam_epsilon, 0.0, 1.0, 0);
  if (rc == PRISM_OK)
    rc = check_rate(fn, "max_grad_norm", p->max_grad_norm, 0.0, 1e30, 0);
  if (rc == PRISM_OK)
    rc = check_rate(fn, "label_smoothing", p->label_smoothing, 0.0, 1.0, 1);
  if (rc == PRISM_OK)
    rc = check_rate(fn, "dropout (from the params or config.json)", p->dropout, 0.0, 1.0, 1);
  if (rc == PRISM_OK)
    rc = check_rate(fn, "attention_dropout", p->attention_dropout, 0.0, 1.0, 1);
  if (rc == PRISM_OK)
    rc = check_rate(fn, "activation_dropout", p->activation_dropout, 0.0, 1.0, 1);
  if (rc == PRISM_OK && (p->schedule < PRISM_TRAIN_LINEAR || p->schedule > PRISM_TRAIN_CONSTANT))
    rc = prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: schedule %d is not a prism_train_schedule",
                      fn, (int)p->schedule);
  if (rc == PRISM_OK && (p->batch_size == 0 || p->grad_accum == 0))
    rc = prism__error(PRISM_ERR_INVALID_ARGUMENT,
                      "%s: batch_size and grad_accum must be at least 1", fn);
  if (rc == PRISM_OK && p->epochs == 0 && p->max_steps == 0)
    rc = prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: epochs and max_steps are both 0", fn);
  if (rc == PRISM_OK && (c.decoder_start_token_id < 0 || c.pad_token_id < 0))
    rc = prism__error(PRISM_ERR_UNSUPPORTED,
                      "%s: training needs config.json's decoder_start_token_id and pad_token_id",
                      fn);
  if (rc == PRISM_OK && (c.encoder_layerdrop > 0.0 || c.decoder_layerdrop > 0.0))
    prism__log(PRISM_LOG_WARN,
               "%s: LayerDrop (encoder_layerdrop %g, decoder_layerdrop %g) is not "
               "implemented; every layer trains",
               fn, c.encoder_layerdrop, c.decoder_layerdrop);
  return rc;
}

static char *dup_or_null(const char *s)
{
  return s ? prism__strdup(s) : NULL;
}

/* The directory of the file `path` names (for the model's tokenizer files). */
static char *dir_of(const char *path)
{
  const char *slash = path ? strrchr(path, '/') : NULL;
  if (!path)
    return NULL;
  return slash ? prism__strndup(path, (size_t)(slash - path) + (slash == path))
               : prism__strdup(".");
}

/* A trainer around a trainable model (taken over, freed on failure). */
static int new_trainer(prism_trainer **out, prism_bart *model, const prism_train_params *params,
                       const char *fn)
{
  prism_trainer *t = prism__calloc(1, sizeof *t);
  const prism__bart_param *ps;
  size_t n;
  int rc = t ? PRISM__PARAMS_READ(&t->p, params, &train_defaults, TRAIN_PARAMS_V1_SIZE, fn)
             : PRISM_ERR_NO_MEMORY;
  if (!t) {
    prism_bart_free(model);
    return PRISM_ERR_NO_MEMORY;
  }
  t->model = model;
  t->best_loss = t->best_value = NAN;
  prism__bart_train_config_get(model, &t->cfg);
  if (rc == PRISM_OK)
    rc = resolve_params(&t->p, model, fn);
  if (rc == PRISM_OK && (rc = prism__train_metric_find(t->p.best_metric, &t->metric)) != PRISM_OK)
    prism__error_prefix("%s: ", fn);
  if (rc == PRISM_OK && prism__train_metric_needs_text(t->metric) && !t->p.eval_generate)
    rc = prism__error(PRISM_ERR_INVALID_ARGUMENT,
                      "%s: best_metric \"%s\" is computed on generated text: set eval_generate", fn,
                      prism__train_metric_name(t->metric));
  t->p.best_metric = NULL; /* the index stands for it */
  if (rc == PRISM_OK) {
    const char *source = NULL;
    prism_bart_config_text(NULL, NULL, &source, model, PRISM_BART_CONFIG_JSON);
    t->output_dir = dup_or_null(t->p.output_dir);
    t->tokenizer_dir = t->p.tokenizer_dir ? prism__strdup(t->p.tokenizer_dir) : dir_of(source);
    t->p.output_dir = t->p.tokenizer_dir = NULL;
    t->w = prism__bart_arena(model, &t->count);
    ps = prism__bart_params(model, &n);
    rc = prism__train_optim_init(&t->optim, ps, n);
  }
  if (rc != PRISM_OK) {
    prism_trainer_free(t);
    return rc;
  }
  *out = t;
  return PRISM_OK;
}

/*
 * The gradient and the AdamW moments, zero, made when first needed: by then a
 * caller has usually freed the model it started from, whose mapped file would
 * otherwise be resident beside them. calloc's fresh pages cost nothing until used.
 */
static int ensure_state(prism_trainer *t)
{
  size_t n = t->count ? t->count : 1;
  if (t->grad)
    return PRISM_OK;
  t->grad = prism__calloc(n, sizeof *t->grad);
  t->m = prism__calloc(n, sizeof *t->m);
  t->v = prism__calloc(n, sizeof *t->v);
  if (t->grad && t->m && t->v)
    return PRISM_OK;
  prism__free(t->grad);
  prism__free(t->m);
  prism__free(t->v);
  t->grad = t->m = t->v = NULL;
  return PRISM_ERR_NO_MEMORY;
}

PRISM_API int prism_trainer_create(prism_trainer **out, const prism_bart *init,
                                   const prism_train_params *params)
{
  prism_bart *m;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  PRISM__CHECK_ARG(init != NULL, "init must not be NULL");
  rc = prism__bart_trainable_copy(&m, init);
  if (rc == PRISM_OK)
    rc = new_trainer(out, m, params, __func__);
  return prism__error_at(__func__, rc);
}

PRISM_API int prism_trainer_create_from_config(prism_trainer **out, const char *config_json,
                                               size_t config_len,
                                               const char *generation_config_json,
                                               size_t generation_len,
                                               const prism_train_params *params)
{
  prism_train_params p;
  prism_bart *m;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  PRISM__CHECK_ARG(config_json != NULL, "config_json must not be NULL");
  PRISM__CHECK_ARG(generation_config_json != NULL || generation_len == 0,
                   "generation_config_json must not be NULL unless generation_len is 0");
  rc = PRISM__PARAMS_READ(&p, params, &train_defaults, TRAIN_PARAMS_V1_SIZE, __func__);
  if (rc == PRISM_OK)
    rc = prism__bart_trainable_init(&m, config_json, config_len, generation_config_json,
                                    generation_len, "config.json", p.seed);
  if (rc == PRISM_OK)
    rc = new_trainer(out, m, &p, __func__);
  return prism__error_at(__func__, rc);
}

static void free_run(prism_trainer *t)
{
  prism__bart_ws_free(t->ws);
  t->ws = NULL;
  t->ws_rows = t->ws_src = t->ws_tgt = 0;
  prism__free(t->buf.ids);
  prism__free(t->buf.mask);
  prism__free(t->buf.labels);
  memset(&t->buf, 0, sizeof t->buf);
  prism__free(t->eval_order);
  t->eval_order = NULL;
  t->eval_cap = 0;
}

PRISM_API void prism_trainer_free(prism_trainer *t)
{
  if (!t)
    return;
  free_run(t);
  prism__train_optim_free(&t->optim);
  prism__free(t->grad);
  prism__free(t->m);
  prism__free(t->v);
  prism__free(t->order);
  prism__free(t->best_ckpt);
  prism__free(t->last_ckpt);
  prism__free(t->output_dir);
  prism__free(t->tokenizer_dir);
  prism_bart_session_free(t->session);
  prism_tokenizer_free(t->tok);
  prism_bart_free(t->model);
  prism__free(t);
}

PRISM_API const prism_bart *prism_trainer_model(const prism_trainer *trainer)
{
  return trainer ? trainer->model : NULL;
}

/* ---- data ------------------------------------------------------------------------------- */

static int given(const prism_pairs *s)
{
  return s->p.format == PRISM_PAIRS_BATCHES;
}

/* Micro-batches per epoch. */
static uint64_t micro_per_epoch(const prism_trainer *t, const prism_pairs *s)
{
  return given(s) ? s->n : (s->n + t->p.batch_size - 1) / t->p.batch_size;
}

/* Every id inside the vocabulary, every sequence within the model's positions, a label to learn. */
static int check_set(const prism_trainer *t, const prism_pairs *s, const char *which)
{
  prism__bart_train_config c;
  prism__bart_train_config_get(t->model, &c);
  for (size_t i = 0; i < s->n; i++) {
    const prism__train_item *it = &s->items[i];
    size_t rows = it->rows ? it->rows : 1, labels = 0;
    const int32_t *src = prism__train_src(s, it), *tgt = prism__train_tgt(s, it);
    const char *kind = it->rows ? "micro-batch" : "pair";
    if (it->src > (uint32_t)c.max_positions || it->tgt > (uint32_t)c.max_positions)
      return prism__error(PRISM_ERR_OUT_OF_RANGE,
                          "%s %s %zu: its %s has %u tokens, more than the model's %d positions "
                          "(truncate it when loading the pairs)",
                          which, kind, i, it->src > (uint32_t)c.max_positions ? "source" : "target",
                          (unsigned)(it->src > (uint32_t)c.max_positions ? it->src : it->tgt),
                          (int)c.max_positions);
    for (size_t k = 0; k < rows * it->src; k++)
      if (src[k] >= c.vocab_size)
        return prism__error(PRISM_ERR_OUT_OF_RANGE,
                            "%s %s %zu: source token %d is outside the vocabulary [0, %d)", which,
                            kind, i, (int)src[k], (int)c.vocab_size);
    for (size_t k = 0; k < rows * it->tgt; k++) {
      if (tgt[k] >= c.vocab_size)
        return prism__error(PRISM_ERR_OUT_OF_RANGE,
                            "%s %s %zu: target token %d is outside the vocabulary [0, %d)", which,
                            kind, i, (int)tgt[k], (int)c.vocab_size);
      labels += tgt[k] != PRISM__TRAIN_IGNORE;
    }
    if (!labels)
      return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                          "%s %s %zu has no label to learn (every label is -100)", which, kind, i);
  }
  return PRISM_OK;
}

/* The largest micro-batch of a set in rows, source and target tokens. */
static void set_dims(const prism_pairs *s, size_t batch, size_t *rows, size_t *src, size_t *tgt)
{
  for (size_t i = 0; i < s->n; i++) {
    const prism__train_item *it = &s->items[i];
    *src = it->src > *src ? it->src : *src;
    *tgt = it->tgt > *tgt ? it->tgt : *tgt;
    if (it->rows && it->rows > *rows)
      *rows = it->rows;
  }
  if (s->p.format == PRISM_PAIRS_PAIRS) {
    size_t b = batch < s->n ? batch : s->n;
    *rows = b > *rows ? b : *rows;
  }
}

static int grow_buffers(prism_trainer *t, size_t rows, size_t src, size_t tgt)
{
  prism__train_batch_buf *b = &t->buf;
  if (rows <= b->cap_rows && src <= b->cap_src && tgt <= b->cap_tgt && b->ids)
    return PRISM_OK;
  prism__free(b->ids);
  prism__free(b->mask);
  prism__free(b->labels);
  b->ids = prism__mallocn(rows * src, sizeof *b->ids);
  b->mask = prism__mallocn(rows * src, sizeof *b->mask);
  b->labels = prism__mallocn(rows * tgt, sizeof *b->labels);
  b->cap_rows = rows;
  b->cap_src = src;
  b->cap_tgt = tgt;
  return b->ids && b->mask && b->labels ? PRISM_OK : PRISM_ERR_NO_MEMORY;
}

/* Size the workspace and buffers for every micro-batch of `train` and `eval`, before any step. */
static int prepare(prism_trainer *t, const prism_pairs *train, const prism_pairs *eval)
{
  size_t rows = 0, src = 0, tgt = 0;
  prism__bart_dropout drop = { (float)t->p.dropout, (float)t->p.attention_dropout,
                               (float)t->p.activation_dropout };
  int rc;
  if (train)
    set_dims(train, t->p.batch_size, &rows, &src, &tgt);
  if (eval)
    set_dims(eval, t->p.eval_batch_size ? t->p.eval_batch_size : t->p.batch_size, &rows, &src,
             &tgt);
  if (eval && eval->n > t->eval_cap) {
    prism__free(t->eval_order);
    if (!(t->eval_order = prism__mallocn(eval->n, sizeof *t->eval_order)))
      return PRISM_ERR_NO_MEMORY;
    t->eval_cap = eval->n;
  }
  if ((rc = grow_buffers(t, rows, src, tgt)) != PRISM_OK)
    return rc;
  if (t->ws && rows <= t->ws_rows && src <= t->ws_src && tgt <= t->ws_tgt)
    return PRISM_OK;
  prism__bart_ws_free(t->ws);
  t->ws = NULL;
  if ((rc = prism__bart_ws_create(&t->ws, t->model, rows, src, tgt, &drop)) != PRISM_OK)
    return rc;
  t->ws_rows = rows;
  t->ws_src = src;
  t->ws_tgt = tgt;
  t->ws_dropout = drop;
  return PRISM_OK;
}

/* ---- evaluation ------------------------------------------------------------------------- */

static size_t eval_pair_len(const prism_pairs *s, int32_t i)
{
  return (size_t)s->items[i].src + s->items[i].tgt;
}

static int evaluate_loss(prism_trainer *t, const prism_pairs *eval, double *loss, double *accuracy)
{
  size_t bs = t->p.eval_batch_size ? t->p.eval_batch_size : t->p.batch_size, n = eval->n;
  prism__bart_step_opts o;
  double sum = 0.0;
  size_t tokens = 0, correct = 0;
  memset(&o, 0, sizeof o);
  o.label_smoothing = (float)t->p.label_smoothing;
  /* Pairs sorted by length (stable) pad little; the order does not change the result. */
  for (size_t i = 0; i < n; i++) {
    size_t j = i;
    int32_t x = (int32_t)i;
    while (j > 0 && !given(eval) &&
           eval_pair_len(eval, t->eval_order[j - 1]) < eval_pair_len(eval, x)) {
      t->eval_order[j] = t->eval_order[j - 1];
      j--;
    }
    t->eval_order[j] = x;
  }
  for (size_t k = 0; k < (given(eval) ? n : (n + bs - 1) / bs); k++) {
    prism__bart_batch b;
    prism__bart_step_result r;
    int rc;
    if (given(eval))
      prism__train_given(&b, eval, k);
    else
      prism__train_fill(&b, &t->buf, eval, t->eval_order + k * bs,
                        n - k * bs < bs ? n - k * bs : bs, t->cfg.pad_token_id);
    if ((rc = prism__bart_train_step(t->ws, &b, &o, NULL, &r)) != PRISM_OK)
      return prism__error_prefix("evaluation batch %zu: ", k);
    sum += r.loss * (double)r.tokens;
    tokens += r.tokens;
    correct += r.correct;
  }
  *loss = tokens ? sum / (double)tokens : NAN;
  *accuracy = tokens ? (double)correct / (double)tokens : NAN;
  return PRISM_OK;
}

/* ---- one optimiser step ----------------------------------------------------------------- */

typedef struct step_report {
  double loss, lr, grad_norm, seconds;
  size_t tokens;
  int epoch_ended;
} step_report;

static double now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Epochs done, fractional (0 before the trainer has seen its data). */
static double epoch_done(const prism_trainer *t)
{
  if (!t->per_epoch)
    return 0.0;
  if (t->given)
    return (double)t->micro / (double)t->per_epoch;
  return (double)t->epoch + (double)t->pos / (double)t->per_epoch;
}

/* The next micro-batch of the current epoch (pairs), or of the cycle (batches). */
static void next_batch(prism_trainer *t, const prism_pairs *train, uint64_t j, prism__bart_batch *b)
{
  if (given(train)) {
    prism__train_given(b, train, (size_t)((t->micro + j) % train->n));
  } else {
    size_t first = (size_t)(t->pos + j) * t->p.batch_size;
    size_t rows = train->n - first < t->p.batch_size ? train->n - first : t->p.batch_size;
    prism__train_fill(b, &t->buf, train, t->order + first, rows, t->cfg.pad_token_id);
  }
}

static int run_step(prism_trainer *t, const prism_pairs *train, step_report *rep)
{
  uint64_t per = micro_per_epoch(t, train), k = t->p.grad_accum;
  prism__bart_step_opts o;
  prism__train_adamw a;
  double t0 = now_seconds(), sum = 0.0;
  if (!given(train)) {
    if (t->pos >= per) {
      t->epoch++;
      t->pos = 0;
      t->have_order = 0;
    }
    if (!t->have_order) {
      prism__train_epoch_order(t->order, train, t->p.batch_size, t->p.group_by_length, t->p.seed,
                               t->epoch);
      t->have_order = 1;
    }
    k = per - t->pos < k ? per - t->pos : k;
  }
  memset(&o, 0, sizeof o);
  o.label_smoothing = (float)t->p.label_smoothing;
  o.grad_scale = (float)(1.0 / (double)k);
  o.dropout.hidden = (float)t->p.dropout;
  o.dropout.attention = (float)t->p.attention_dropout;
  o.dropout.activation = (float)t->p.activation_dropout;
  o.seed = t->p.seed;
  rep->tokens = 0;
  for (uint64_t j = 0; j < k; j++) {
    prism__bart_batch b;
    prism__bart_step_result r;
    int rc;
    next_batch(t, train, j, &b);
    o.stream = t->micro + j;
    if ((rc = prism__bart_train_step(t->ws, &b, &o, t->grad, &r)) != PRISM_OK)
      return prism__error_prefix("step %" PRIu64 ", micro-batch %" PRIu64 ": ", t->step + 1, j);
    sum += r.loss;
    rep->tokens += r.tokens;
  }
  rep->loss = sum / (double)k;
  rep->grad_norm = prism__train_grad_norm(&t->optim, t->grad);
  if (!isfinite(rep->loss) || !isfinite(rep->grad_norm)) {
    memset(t->grad, 0, t->count * sizeof *t->grad);
    return prism__error(PRISM_ERR_OUT_OF_RANGE,
                        "step %" PRIu64 ": the %s is %s; training stopped with the parameters of "
                        "step %" PRIu64 "%s%s%s",
                        t->step + 1, isfinite(rep->loss) ? "gradient norm" : "loss",
                        isnan(isfinite(rep->loss) ? rep->grad_norm : rep->loss) ? "NaN"
                                                                                : "infinite",
                        t->step, t->last_ckpt ? " (the last checkpoint is " : "",
                        t->last_ckpt ? t->last_ckpt : "", t->last_ckpt ? ")" : "");
  }
  rep->lr = prism__train_lr(&t->p, t->step, t->total_steps);
  a.lr = rep->lr;
  a.beta1 = t->p.adam_beta1;
  a.beta2 = t->p.adam_beta2;
  a.eps = t->p.adam_epsilon;
  a.weight_decay = t->p.weight_decay;
  a.clip = 1.0;
  if (t->p.max_grad_norm > 0.0) {
    double coef = t->p.max_grad_norm / (rep->grad_norm + 1e-6);
    a.clip = coef < 1.0 ? coef : 1.0;
  }
  a.step = t->step + 1;
  prism__train_adamw_step(&t->optim, &a, t->w, t->grad, t->m, t->v);
  rep->epoch_ended = given(train) ? (t->micro + k) / per != t->micro / per : t->pos + k == per;
  t->step++;
  t->micro += k;
  if (!given(train))
    t->pos += k;
  rep->seconds = now_seconds() - t0;
  return PRISM_OK;
}

static int write_json_file(const char *dir, const char *name, json_t *value)
{
  char *dump = value ? json_dumps(value, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) : NULL;
  char *path = prism__path_join(dir, name);
  int rc = dump && path ? prism__file_write_atomic(path, dump, strlen(dump)) : PRISM_ERR_NO_MEMORY;
  free(dump);
  prism__free(path);
  json_decref(value);
  return rc;
}

/* A whole checkpoint folder, written beside `dir` and put in place in one step. */
static int save_checkpoint(prism_trainer *t, const char *dir)
{
  char *tmp = NULL;
  int rc = ensure_state(t);
  if (rc == PRISM_OK)
    rc = prism__dir_check_target(dir, prism__train_is_ours);
  if (rc == PRISM_OK)
    rc = prism__dir_temp(dir, &tmp);
  if (rc == PRISM_OK)
    rc = prism__train_write_model(t->model, tmp, t->tokenizer_dir);
  if (rc == PRISM_OK)
    rc = prism__train_write_optimizer(t, tmp);
  if (rc == PRISM_OK)
    rc = write_json_file(tmp, STATE_FILE, prism__train_state_json(t, "checkpoint"));
  if (rc == PRISM_OK)
    rc = prism__dir_publish(tmp, dir, prism__train_is_ours);
  if (rc != PRISM_OK && tmp)
    prism__dir_remove(tmp);
  prism__free(tmp);
  return rc;
}

PRISM_API int prism_trainer_save(prism_trainer *trainer, const char *dir)
{
  PRISM__CHECK_ARG(trainer != NULL, "trainer must not be NULL");
  PRISM__CHECK_ARG(dir != NULL, "dir must not be NULL");
  return prism__error_at(__func__, save_checkpoint(trainer, dir));
}

/* The parent folder of a checkpoint (its output_dir when none is given). */
static char *parent_dir(const char *dir)
{
  size_t len = strlen(dir);
  while (len > 1 && dir[len - 1] == '/')
    len--;
  while (len > 0 && dir[len - 1] != '/')
    len--;
  return len ? prism__strndup(dir, len > 1 ? len - 1 : len) : prism__strdup(".");
}

static int resume(prism_trainer **out, const char *dir, const prism_train_params *params,
                  const char *fn)
{
  char *path = prism__path_join(dir, STATE_FILE);
  prism__file f;
  json_t *j = NULL;
  prism_bart *loaded = NULL, *m = NULL;
  prism_train_params p;
  prism_trainer *t = NULL;
  int rc = path ? prism__file_read(path, 1 << 26, &f) : PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK) {
    rc = prism__json_parse(f.data, f.size, 0, path, &j);
    prism__file_close(&f);
  }
  if (rc == PRISM_OK)
    rc = PRISM__PARAMS_READ(&p, params, &train_defaults, TRAIN_PARAMS_V1_SIZE, fn);
  if (rc == PRISM_OK)
    rc = prism__train_read_settings(json_object_get(j, "settings"), path, &p);
  if (rc == PRISM_OK)
    rc = prism_bart_load(&loaded, dir, NULL);
  if (rc == PRISM_OK)
    rc = prism__bart_trainable_copy(&m, loaded);
  prism_bart_free(loaded);
  if (rc == PRISM_OK) {
    char *parent = params && params->output_dir ? NULL : parent_dir(dir);
    if (!p.output_dir)
      p.output_dir = parent;
    if (!p.tokenizer_dir)
      p.tokenizer_dir = dir;
    rc = new_trainer(&t, m, &p, fn);
    prism__free(parent);
  }
  if (rc == PRISM_OK)
    rc = prism__train_read_state(t, j, path);
  if (rc == PRISM_OK)
    rc = ensure_state(t);
  if (rc == PRISM_OK)
    rc = prism__train_read_optimizer(t, dir);
  if (rc == PRISM_OK && !(t->last_ckpt = prism__strdup(dir)))
    rc = PRISM_ERR_NO_MEMORY;
  json_decref(j);
  prism__free(path);
  if (rc != PRISM_OK) {
    prism_trainer_free(t);
    return rc;
  }
  *out = t;
  return PRISM_OK;
}

PRISM_API int prism_trainer_resume(prism_trainer **out, const char *checkpoint_dir,
                                   const prism_train_params *params)
{
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  PRISM__CHECK_ARG(checkpoint_dir != NULL, "checkpoint_dir must not be NULL");
  return prism__error_at(__func__, resume(out, checkpoint_dir, params, __func__));
}

/* ---- the output folder ------------------------------------------------------------------ */

/* Claim output_dir: create it, or accept it empty or ours; never a symlink or a file. */
static int claim_output(prism_trainer *t)
{
  int state = prism__dir_state(t->output_dir), rc;
  if (state == PRISM__DIR_ABSENT && mkdir(t->output_dir, 0777) != 0)
    return prism__error(PRISM_ERR_IO, "%s: cannot create: %s", t->output_dir, strerror(errno));
  if ((rc = prism__dir_check_target(t->output_dir, prism__train_is_ours)) != PRISM_OK)
    return rc;
  return write_json_file(t->output_dir, STATE_FILE, prism__train_state_json(t, "output"));
}

/* checkpoint-<digits> */
static int checkpoint_name(const char *name)
{
  if (strncmp(name, "checkpoint-", 11) != 0 || !name[11])
    return 0;
  for (const char *c = name + 11; *c; c++)
    if (*c < '0' || *c > '9')
      return 0;
  return 1;
}

/* Keep the latest and the best checkpoints; remove older ones this library wrote. */
static void prune(prism_trainer *t)
{
  DIR *d = opendir(t->output_dir);
  struct dirent *e;
  if (!d)
    return;
  while ((e = readdir(d)) != NULL) {
    char *path;
    if (!checkpoint_name(e->d_name) || !(path = prism__path_join(t->output_dir, e->d_name)))
      continue;
    if ((!t->last_ckpt || strcmp(path, t->last_ckpt) != 0) &&
        (!t->best_ckpt || strcmp(path, t->best_ckpt) != 0) &&
        prism__dir_state(path) == PRISM__DIR_DIRECTORY && prism__train_is_ours(path))
      prism__dir_remove(path);
    prism__free(path);
  }
  closedir(d);
}

static int save_step(prism_trainer *t, int best)
{
  char name[40], *dir;
  int rc;
  snprintf(name, sizeof name, "checkpoint-%" PRIu64, t->step);
  if (!(dir = prism__path_join(t->output_dir, name)))
    return PRISM_ERR_NO_MEMORY;
  prism__free(t->last_ckpt);
  t->last_ckpt = dir;
  if (best) {
    prism__free(t->best_ckpt);
    if (!(t->best_ckpt = prism__strdup(dir)))
      return PRISM_ERR_NO_MEMORY;
  }
  if ((rc = save_checkpoint(t, dir)) != PRISM_OK)
    return rc;
  prune(t);
  return write_json_file(t->output_dir, STATE_FILE, prism__train_state_json(t, "output"));
}

/* ---- the loop --------------------------------------------------------------------------- */

static int start(prism_trainer *t, const prism_pairs *train, const prism_pairs *eval)
{
  uint64_t fp = prism__train_fingerprint(train), per = micro_per_epoch(t, train);
  uint64_t steps = t->p.max_steps ? t->p.max_steps
                                  : t->p.epochs * ((per + t->p.grad_accum - 1) / t->p.grad_accum);
  int rc = check_set(t, train, "training");
  if (rc == PRISM_OK && eval)
    rc = check_set(t, eval, "evaluation");
  if (rc != PRISM_OK)
    return rc;
  if (t->n_train && (t->n_train != train->n || t->fingerprint != fp))
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "the training pairs differ from the ones this run started with (%" PRIu64
                        " pairs then, %zu now); a resumed run needs the same data",
                        t->n_train, train->n);
  if (t->n_train && t->total_steps != steps)
    return prism__error(PRISM_ERR_INTERNAL,
                        "the step budget changed (%" PRIu64 " then, %" PRIu64 " now)",
                        t->total_steps, steps);
  if (!t->n_train) {
    t->n_train = train->n;
    t->fingerprint = fp;
    t->total_steps = steps;
  }
  t->per_epoch = per;
  t->given = given(train);
  if (!t->order && !(t->order = prism__mallocn(train->n, sizeof *t->order)))
    return PRISM_ERR_NO_MEMORY;
  if ((rc = ensure_state(t)) != PRISM_OK)
    return rc;
  if ((rc = prepare(t, train, eval)) != PRISM_OK)
    return rc;
  return t->output_dir ? claim_output(t) : PRISM_OK;
}

static int report(prism_trainer *t, const prism_pairs *train, const step_report *r,
                  const prism__train_eval *e, int best, const char *ckpt,
                  prism_train_progress_fn fn, void *payload)
{
  prism_train_progress p;
  if (!fn)
    return PRISM_OK;
  memset(&p, 0, sizeof p);
  p.struct_size = sizeof p;
  p.step = t->step;
  p.total_steps = t->total_steps;
  p.epoch = epoch_done(t);
  p.loss = r->loss;
  p.learning_rate = r->lr;
  p.grad_norm = r->grad_norm;
  p.tokens_per_second = r->seconds > 0.0 ? (double)r->tokens / r->seconds : 0.0;
  p.evaluated = e != NULL;
  p.best = best;
  p.eval_loss = e ? e->loss : NAN;
  p.eval_accuracy = e ? e->accuracy : NAN;
  p.checkpoint = ckpt;
  p.eval_generated = e ? e->generated : 0;
  p.eval_exact_match = e && e->generated ? e->exact_match : NAN;
  p.eval_text = e && e->generated ? &e->text : NULL;
  p.eval_metric = e ? prism__train_metric_value(t->metric, e) : NAN;
  return fn(&p, payload) ? PRISM_OK
                         : prism__error(PRISM_ERR_CANCELLED,
                                        "cancelled by the progress callback "
                                        "after step %" PRIu64,
                                        t->step);
}

/* An evaluation: loss and accuracy, and with eval_generate the figures of generated text. */
static int evaluate(prism_trainer *t, const prism_pairs *eval, prism__train_eval *e)
{
  int rc;
  memset(e, 0, sizeof *e);
  if ((rc = evaluate_loss(t, eval, &e->loss, &e->accuracy)) != PRISM_OK)
    return rc;
  return t->p.eval_generate ? prism__train_eval_text(t, eval, e) : PRISM_OK;
}

static int after_step(prism_trainer *t, const prism_pairs *train, const prism_pairs *eval,
                      const step_report *r, prism_train_progress_fn fn, void *payload)
{
  int last = t->step >= t->total_steps, evaluated = 0, best = 0, rc = PRISM_OK;
  prism__train_eval e;
  const char *ckpt = NULL;
  if (eval && (t->p.eval_every ? t->step % t->p.eval_every == 0 : r->epoch_ended) + last > 0) {
    double value;
    if ((rc = evaluate(t, eval, &e)) != PRISM_OK)
      return rc;
    evaluated = 1;
    value = prism__train_metric_value(t->metric, &e);
    best = prism__train_metric_better(t->metric, value, t->best_value);
    if (best) {
      t->best_value = value;
      t->best_loss = e.loss;
      t->best_step = t->step;
      t->bad_evals = 0;
    } else if (t->p.patience && ++t->bad_evals >= t->p.patience) {
      t->stopped = 1;
    }
  }
  if (t->output_dir &&
      (evaluated || last || t->stopped || (t->p.save_every && t->step % t->p.save_every == 0))) {
    if ((rc = save_step(t, best)) != PRISM_OK)
      return rc;
    ckpt = t->last_ckpt;
  }
  return report(t, train, r, evaluated ? &e : NULL, best, ckpt, fn, payload);
}

/* The final model in output_dir: the best evaluated checkpoint, else the last one. */
static int finish(prism_trainer *t)
{
  const char *from = t->best_ckpt ? t->best_ckpt : t->last_ckpt;
  int rc;
  if (!t->output_dir || !from)
    return PRISM_OK;
  if ((rc = prism__train_copy_model(from, t->output_dir)) != PRISM_OK)
    return rc;
  return write_json_file(t->output_dir, STATE_FILE, prism__train_state_json(t, "output"));
}

static int train_loop(prism_trainer *t, const prism_pairs *train, const prism_pairs *eval,
                      prism_train_progress_fn fn, void *payload)
{
  int rc = start(t, train, eval);
  while (rc == PRISM_OK && t->step < t->total_steps && !t->stopped) {
    step_report r;
    memset(&r, 0, sizeof r);
    rc = run_step(t, train, &r);
    if (rc == PRISM_OK)
      rc = after_step(t, train, eval, &r, fn, payload);
  }
  if (rc == PRISM_OK)
    rc = finish(t);
  return rc;
}

PRISM_API int prism_trainer_train(prism_trainer *trainer, const prism_pairs *train,
                                  const prism_pairs *eval, prism_train_progress_fn progress,
                                  void *payload)
{
  PRISM__CHECK_ARG(trainer != NULL, "trainer must not be NULL");
  PRISM__CHECK_ARG(train != NULL && train->n > 0, "train must hold at least one pair");
  PRISM__CHECK_ARG(!eval || eval->n > 0, "eval must be NULL or hold at least one pair");
  return prism__error_at(__func__, train_loop(trainer, train, eval, progress, payload));
}

PRISM_API int prism_trainer_evaluate(double *loss, double *accuracy, prism_trainer *trainer,
                                     const prism_pairs *eval)
{
  double l = NAN, a = NAN;
  int rc;
  PRISM__CHECK_ARG(trainer != NULL, "trainer must not be NULL");
  PRISM__CHECK_ARG(eval != NULL && eval->n > 0, "eval must hold at least one pair");
  rc = check_set(trainer, eval, "evaluation");
  if (rc == PRISM_OK)
    rc = prepare(trainer, NULL, eval);
  if (rc == PRISM_OK)
    rc = evaluate_loss(trainer, eval, &l, &a);
  if (loss)
    *loss = l;
  if (accuracy)
    *accuracy = a;
  return prism__error_at(__func__, rc);
}

PRISM_API int prism_trainer_get_state(const prism_trainer *trainer, prism_train_state *state)
{
  prism_train_state s;
  PRISM__CHECK_ARG(trainer != NULL, "trainer must not be NULL");
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  s.step = trainer->step;
  s.total_steps = trainer->total_steps;
  s.epoch = epoch_done(trainer);
  s.best_eval_loss = trainer->best_loss;
  s.best_step = trainer->best_step;
  s.stopped_early = trainer->stopped;
  s.best_metric = trainer->best_value;
  return PRISM__PARAMS_WRITE(state, &s, STATE_V1_SIZE, "prism_trainer_get_state");
}
