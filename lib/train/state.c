/*
 * The training state a checkpoint keeps beside the model: trainer_state.json
 * (where the run is and every setting it runs with) and optimizer.safetensors
 * (the AdamW moments and the current epoch's order of pairs). Numbers are
 * written so that they read back bit for bit (17 significant digits).
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "common/safetensors.h"
#include "train_internal.h"

#define STATE_VERSION 1
#define OPTIM_FILE "optimizer.safetensors"

static const char *schedule_name(int32_t s)
{
  return s == PRISM_TRAIN_COSINE ? "cosine" : s == PRISM_TRAIN_CONSTANT ? "constant" : "linear";
}

static json_t *settings_json(const prism_trainer *t)
{
  const prism_train_params *p = &t->p;
  json_t *s = json_pack(
      "{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:s, s:I, s:I, s:I, s:I, "
      "s:I, s:I, s:I, s:I, s:I, s:b, s:I}",
      "learning_rate", p->learning_rate, "weight_decay", p->weight_decay, "adam_beta1",
      p->adam_beta1, "adam_beta2", p->adam_beta2, "adam_epsilon", p->adam_epsilon, "max_grad_norm",
      p->max_grad_norm, "label_smoothing", p->label_smoothing, "dropout", p->dropout,
      "attention_dropout", p->attention_dropout, "activation_dropout", p->activation_dropout,
      "schedule", schedule_name(p->schedule), "warmup_steps", (json_int_t)p->warmup_steps,
      "batch_size", (json_int_t)p->batch_size, "grad_accum", (json_int_t)p->grad_accum, "epochs",
      (json_int_t)p->epochs, "max_steps", (json_int_t)p->max_steps, "eval_every",
      (json_int_t)p->eval_every, "eval_batch_size", (json_int_t)p->eval_batch_size, "patience",
      (json_int_t)p->patience, "save_every", (json_int_t)p->save_every, "group_by_length",
      p->group_by_length != 0, "seed", (json_int_t)p->seed);
  if (s && (json_object_set_new(s, "eval_generate", json_integer((json_int_t)p->eval_generate)) ||
            json_object_set_new(s, "metric_for_best_model",
                                json_string(prism__train_metric_name(t->metric))))) {
    json_decref(s);
    s = NULL;
  }
  return s;
}

json_t *prism__train_state_json(const prism_trainer *t, const char *kind)
{
  char fp[32];
  json_t *j;
  snprintf(fp, sizeof fp, "%016" PRIx64, t->fingerprint);
  j = json_pack("{s:s, s:i, s:s, s:I, s:I, s:I, s:I, s:I, s:b, s:I, s:s, s:o, s:I, s:I, s:b, "
                "s:o, s:o, s:o}",
                "format", PRISM__TRAIN_STATE_FORMAT, "version", STATE_VERSION, "kind", kind,
                "global_step", (json_int_t)t->step, "total_steps", (json_int_t)t->total_steps,
                "epoch_index", (json_int_t)t->epoch, "epoch_position", (json_int_t)t->pos,
                "micro_batches", (json_int_t)t->micro, "has_order", t->have_order, "train_pairs",
                (json_int_t)t->n_train, "train_fingerprint", fp, "best_metric",
                isnan(t->best_value) ? json_null() : json_real(t->best_value), "best_step",
                (json_int_t)t->best_step, "bad_evals", (json_int_t)t->bad_evals, "stopped_early",
                t->stopped, "best_model_checkpoint",
                t->best_ckpt ? json_string(t->best_ckpt) : json_null(), "last_checkpoint",
                t->last_ckpt ? json_string(t->last_ckpt) : json_null(), "settings",
                settings_json(t));
  if (j) {
    json_object_set_new(j, "best_eval_loss",
                        isnan(t->best_loss) ? json_null() : json_real(t->best_loss));
    json_object_set_new(j, "micro_per_epoch", json_integer((json_int_t)t->per_epoch));
    json_object_set_new(j, "given_batches", json_boolean(t->given));
  }
  return j;
}

/* optimizer.safetensors: the AdamW moments by parameter name, and the epoch's order. */
int prism__train_write_optimizer(const prism_trainer *t, const char *dir)
{
  size_t n;
  const prism__bart_param *ps = prism__bart_params(t->model, &n);
  prism__st_out *out = prism__calloc(2 * n + 1, sizeof *out);
  char(*names)[sizeof ps->name + 16] = prism__calloc(2 * n, sizeof *names);
  char *path = prism__path_join(dir, OPTIM_FILE);
  size_t count = 0;
  int rc = out && names && path ? PRISM_OK : PRISM_ERR_NO_MEMORY;
  for (size_t i = 0; rc == PRISM_OK && i < 2 * n; i++) {
    const prism__bart_param *p = &ps[i % n];
    snprintf(names[i], sizeof names[i], "%s.%s", i < n ? "exp_avg" : "exp_avg_sq", p->name);
    out[count].name = names[i];
    out[count].dtype = PRISM__ST_F32;
    out[count].ndim = p->ndim;
    out[count].shape[0] = p->shape[0];
    out[count].shape[1] = p->shape[1];
    out[count].data = (i < n ? t->m : t->v) + p->offset;
    count++;
  }
  if (rc == PRISM_OK && t->have_order) {
    out[count].name = "data_order";
    out[count].dtype = PRISM__ST_I32;
    out[count].ndim = 1;
    out[count].shape[0] = t->n_train;
    out[count].data = t->order;
    count++;
  }
  if (rc == PRISM_OK)
    rc = prism__st_write(path, out, count, NULL, 0);
  prism__free(out);
  prism__free(names);
  prism__free(path);
  return rc;
}

static int read_u64(const json_t *o, const char *key, const char *what, uint64_t *out)
{
  long long v = 0;
  int rc = prism__json_int(o, key, what, 1, LLONG_MIN, LLONG_MAX, &v);
  *out = (uint64_t)v;
  return rc;
}

static int read_u32(const json_t *o, const char *key, const char *what, uint32_t *out)
{
  long long v = 0;
  int rc = prism__json_int(o, key, what, 1, 0, UINT32_MAX, &v);
  *out = (uint32_t)v;
  return rc;
}

int prism__train_read_settings(const json_t *s, const char *what, prism_train_params *p)
{
  const struct {
    const char *key;
    double *dst;
  } reals[] = {
    { "learning_rate", &p->learning_rate },
    { "weight_decay", &p->weight_decay },
    { "adam_beta1", &p->adam_beta1 },
    { "adam_beta2", &p->adam_beta2 },
    { "adam_epsilon", &p->adam_epsilon },
    { "max_grad_norm", &p->max_grad_norm },
    { "label_smoothing", &p->label_smoothing },
    { "dropout", &p->dropout },
    { "attention_dropout", &p->attention_dropout },
    { "activation_dropout", &p->activation_dropout },
  };
  const struct {
    const char *key;
    uint32_t *dst;
  } ints[] = {
    { "warmup_steps", &p->warmup_steps },
    { "batch_size", &p->batch_size },
    { "grad_accum", &p->grad_accum },
    { "epochs", &p->epochs },
    { "max_steps", &p->max_steps },
    { "eval_every", &p->eval_every },
    { "eval_batch_size", &p->eval_batch_size },
    { "patience", &p->patience },
    { "save_every", &p->save_every },
  };
  const char *schedule = NULL;
  int rc = PRISM_OK, group = 1;
  if (!json_is_object(s))
    return prism__error(PRISM_ERR_FORMAT, "%s: \"settings\" must be an object", what);
  for (size_t i = 0; rc == PRISM_OK && i < sizeof reals / sizeof *reals; i++)
    rc = prism__json_real(s, reals[i].key, what, 1, reals[i].dst);
  for (size_t i = 0; rc == PRISM_OK && i < sizeof ints / sizeof *ints; i++)
    rc = read_u32(s, ints[i].key, what, ints[i].dst);
  if (rc == PRISM_OK)
    rc = read_u64(s, "seed", what, &p->seed);
  if (rc == PRISM_OK)
    rc = prism__json_bool(s, "group_by_length", what, 1, &group);
  if (rc == PRISM_OK)
    rc = prism__json_str(s, "schedule", what, 1, &schedule);
  if (rc == PRISM_OK && json_object_get(s, "eval_generate"))
    rc = read_u32(s, "eval_generate", what, &p->eval_generate);
  if (rc == PRISM_OK && json_object_get(s, "metric_for_best_model"))
    rc = prism__json_str(s, "metric_for_best_model", what, 1, &p->best_metric);
  if (rc != PRISM_OK)
    return rc;
  p->group_by_length = group;
  if (strcmp(schedule, "linear") == 0)
    p->schedule = PRISM_TRAIN_LINEAR;
  else if (strcmp(schedule, "cosine") == 0)
    p->schedule = PRISM_TRAIN_COSINE;
  else if (strcmp(schedule, "constant") == 0)
    p->schedule = PRISM_TRAIN_CONSTANT;
  else
    return prism__error(PRISM_ERR_FORMAT, "%s: unknown schedule \"%s\"", what, schedule);
  return PRISM_OK;
}

int prism__train_read_state(prism_trainer *t, const json_t *j, const char *what)
{
  const char *format = NULL, *fp = NULL, *best = NULL;
  long long version = 0;
  int has_order = 0, stopped = 0;
  const json_t *metric = json_object_get(j, "best_metric"),
               *loss = json_object_get(j, "best_eval_loss");
  int rc = prism__json_str(j, "format", what, 1, &format);
  if (rc == PRISM_OK && strcmp(format, PRISM__TRAIN_STATE_FORMAT) != 0)
    rc = prism__error(PRISM_ERR_FORMAT, "%s: not a training state written by libprism", what);
  if (rc == PRISM_OK)
    rc = prism__json_int(j, "version", what, 1, 1, STATE_VERSION, &version);
  if (rc == PRISM_OK)
    rc = read_u64(j, "global_step", what, &t->step);
  if (rc == PRISM_OK)
    rc = read_u64(j, "total_steps", what, &t->total_steps);
  if (rc == PRISM_OK)
    rc = read_u64(j, "epoch_index", what, &t->epoch);
  if (rc == PRISM_OK)
    rc = read_u64(j, "epoch_position", what, &t->pos);
  if (rc == PRISM_OK)
    rc = read_u64(j, "micro_batches", what, &t->micro);
  if (rc == PRISM_OK)
    rc = read_u64(j, "train_pairs", what, &t->n_train);
  if (rc == PRISM_OK)
    rc = read_u64(j, "micro_per_epoch", what, &t->per_epoch);
  if (rc == PRISM_OK)
    rc = prism__json_bool(j, "given_batches", what, 1, &t->given);
  if (rc == PRISM_OK)
    rc = read_u64(j, "best_step", what, &t->best_step);
  if (rc == PRISM_OK)
    rc = read_u32(j, "bad_evals", what, &t->bad_evals);
  if (rc == PRISM_OK)
    rc = prism__json_bool(j, "has_order", what, 1, &has_order);
  if (rc == PRISM_OK)
    rc = prism__json_bool(j, "stopped_early", what, 1, &stopped);
  if (rc == PRISM_OK)
    rc = prism__json_str(j, "train_fingerprint", what, 1, &fp);
  if (rc == PRISM_OK && metric && !json_is_null(metric))
    rc = prism__json_real(j, "best_metric", what, 1, &t->best_value);
  if (rc == PRISM_OK && loss && !json_is_null(loss))
    rc = prism__json_real(j, "best_eval_loss", what, 1, &t->best_loss);
  if (rc == PRISM_OK && json_is_string(json_object_get(j, "best_model_checkpoint")))
    rc = prism__json_str(j, "best_model_checkpoint", what, 1, &best);
  if (rc == PRISM_OK && best && !(t->best_ckpt = prism__strdup(best)))
    rc = PRISM_ERR_NO_MEMORY;
  if (rc != PRISM_OK)
    return rc;
  if (isnan(t->best_loss) && !t->metric) /* a state from before best_eval_loss: the same */
    t->best_loss = t->best_value;
  t->have_order = has_order;
  t->stopped = stopped;
  t->fingerprint = strtoull(fp, NULL, 16);
  return PRISM_OK;
}

static int read_tensor(const prism__st_file *f, const char *name, prism__st_dtype dtype,
                       size_t count, void *dst)
{
  const prism__st_tensor *t = prism__st_find(f, name);
  if (!t)
    return prism__error(PRISM_ERR_NOT_FOUND, "%s: tensor %s is missing", f->what, name);
  if (t->dtype != dtype || t->numel != count)
    return prism__error(PRISM_ERR_FORMAT, "%s: tensor %s has %llu %s values, expected %zu %s",
                        f->what, name, (unsigned long long)t->numel, prism__st_dtype_name(t->dtype),
                        count, prism__st_dtype_name(dtype));
  if (dtype == PRISM__ST_F32)
    return prism__st_to_f32(t, dst);
  memcpy(dst, t->data, count * prism__st_dtype_size(dtype));
  return PRISM_OK;
}

int prism__train_read_optimizer(prism_trainer *t, const char *dir)
{
  char *path = prism__path_join(dir, OPTIM_FILE), name[sizeof((prism__bart_param *)0)->name + 16];
  prism__st_file f;
  size_t n;
  const prism__bart_param *ps = prism__bart_params(t->model, &n);
  int rc = path ? prism__st_open(path, 0, &f) : PRISM_ERR_NO_MEMORY;
  prism__free(path);
  if (rc != PRISM_OK)
    return rc;
  for (size_t i = 0; rc == PRISM_OK && i < 2 * n; i++) {
    snprintf(name, sizeof name, "%s.%s", i < n ? "exp_avg" : "exp_avg_sq", ps[i % n].name);
    rc = read_tensor(&f, name, PRISM__ST_F32, ps[i % n].count,
                     (i < n ? t->m : t->v) + ps[i % n].offset);
  }
  if (rc == PRISM_OK && t->n_train && !(t->order = prism__mallocn(t->n_train, sizeof *t->order)))
    rc = PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK && t->have_order)
    rc = read_tensor(&f, "data_order", PRISM__ST_I32, t->n_train, t->order);
  for (size_t i = 0; rc == PRISM_OK && t->have_order && i < t->n_train; i++)
    if (t->order[i] < 0 || (uint64_t)t->order[i] >= t->n_train)
      rc = prism__error(PRISM_ERR_FORMAT, "%s: data_order[%zu] = %d is not a pair index", f.what, i,
                        (int)t->order[i]);
  prism__st_close(&f);
  return rc;
}
