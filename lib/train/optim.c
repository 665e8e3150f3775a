/*
 * AdamW as torch.optim.AdamW runs it for HF's Trainer (optim "adamw_torch",
 * the single-tensor path of torch 1.13): decoupled weight decay, then the
 * moments, then the bias-corrected update, in the same order of float
 * operations. The global gradient norm and the update are split into fixed
 * chunks, so neither depends on the thread count; the update also clips and
 * zeroes the gradient in the same pass.
 */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/pool.h"
#include "train_internal.h"

/* Floats per optimiser task: small enough to balance two cores, large enough to stream. */
#define CHUNK_FLOATS 32768

int prism__train_optim_init(prism__train_optim *o, const prism__bart_param *params, size_t n)
{
  size_t count = 0;
  memset(o, 0, sizeof *o);
  for (size_t i = 0; i < n; i++)
    count += (params[i].count + CHUNK_FLOATS - 1) / CHUNK_FLOATS;
  o->chunks = prism__calloc(count ? count : 1, sizeof *o->chunks);
  o->partial = prism__calloc(count ? count : 1, sizeof *o->partial);
  if (!o->chunks || !o->partial) {
    prism__train_optim_free(o);
    return PRISM_ERR_NO_MEMORY;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < params[i].count; k += CHUNK_FLOATS) {
      prism__train_chunk *c = &o->chunks[o->n_chunks++];
      c->off = params[i].offset + k;
      c->count = params[i].count - k < CHUNK_FLOATS ? params[i].count - k : CHUNK_FLOATS;
      c->decay = params[i].decay;
    }
  return PRISM_OK;
}

void prism__train_optim_free(prism__train_optim *o)
{
  prism__free(o->chunks);
  prism__free(o->partial);
  memset(o, 0, sizeof *o);
}

typedef struct norm_job {
  prism__train_optim *o;
  const float *grad;
} norm_job;

static void norm_range(void *ctx, size_t begin, size_t end)
{
  const norm_job *job = ctx;
  for (size_t c = begin; c < end; c++) {
    const float *g = job->grad + job->o->chunks[c].off;
    size_t n = job->o->chunks[c].count, i = 0;
    double s[8] = { 0 };
    /* Eight running sums: the adds need not wait for each other. */
    for (; i + 8 <= n; i += 8)
      for (int l = 0; l < 8; l++)
        s[l] += (double)g[i + l] * g[i + l];
    for (int l = 0; i < n; i++, l++)
      s[l] += (double)g[i] * g[i];
    job->o->partial[c] = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
  }
}

double prism__train_grad_norm(prism__train_optim *o, const float *grad)
{
  norm_job job = { o, grad };
  double total = 0.0;
  prism__parallel_for(o->n_chunks, 1, norm_range, &job);
  for (size_t c = 0; c < o->n_chunks; c++)
    total += o->partial[c];
  return sqrt(total);
}

typedef struct adamw_job {
  const prism__train_optim *o;
  float *w, *g, *m, *v;
  float clip, b1, b2, omb1, omb2, decay, step_size, bc2_sqrt, eps;
} adamw_job;

static void adamw_range(void *ctx, size_t begin, size_t end)
{
  const adamw_job *j = ctx;
  for (size_t c = begin; c < end; c++) {
    const prism__train_chunk *ch = &j->o->chunks[c];
    float *w = j->w + ch->off, *g = j->g + ch->off, *m = j->m + ch->off, *v = j->v + ch->off;
    float decay = ch->decay ? j->decay : 1.0f;
    for (size_t i = 0; i < ch->count; i++) {
      float gi = g[i] * j->clip;
      float wi = w[i] * decay;
      float mi = m[i] * j->b1 + j->omb1 * gi;
      float vi = v[i] * j->b2 + j->omb2 * gi * gi;
      float denom = sqrtf(vi) / j->bc2_sqrt + j->eps;
      w[i] = wi + j->step_size * (mi / denom);
      m[i] = mi;
      v[i] = vi;
      g[i] = 0.0f;
    }
  }
}

void prism__train_adamw_step(const prism__train_optim *o, const prism__train_adamw *a, float *w,
                             float *grad, float *m, float *v)
{
  double bc1 = 1.0 - pow(a->beta1, (double)a->step), bc2 = 1.0 - pow(a->beta2, (double)a->step);
  adamw_job j;
  j.o = o;
  j.w = w;
  j.g = grad;
  j.m = m;
  j.v = v;
  j.clip = (float)a->clip;
  j.b1 = (float)a->beta1;
  j.b2 = (float)a->beta2;
  j.omb1 = (float)(1.0 - a->beta1);
  j.omb2 = (float)(1.0 - a->beta2);
  j.decay = (float)(1.0 - a->lr * a->weight_decay);
  j.step_size = (float)-(a->lr / bc1);
  j.bc2_sqrt = (float)sqrt(bc2);
  j.eps = (float)a->eps;
  prism__parallel_for(o->n_chunks, 1, adamw_range, &j);
}

/* HF get_scheduler: the factor LambdaLR applies after `done` steps, in Python's double arithmetic. */
double prism__train_lr(const prism_train_params *p, uint64_t done, uint64_t total)
{
  double s = (double)done, warm = (double)p->warmup_steps, factor;
  if (done < p->warmup_steps)
    factor = s / (warm > 1.0 ? warm : 1.0);
  else if (p->schedule == PRISM_TRAIN_CONSTANT)
    factor = 1.0;
  else {
    double left = (double)total - warm;
    left = left > 1.0 ? left : 1.0;
    if (p->schedule == PRISM_TRAIN_COSINE) {
      double progress = (s - warm) / left;
      factor = 0.5 * (1.0 + cos(M_PI * 0.5 * 2.0 * progress));
    } else {
      factor = ((double)total - s) / left;
    }
    factor = factor > 0.0 ? factor : 0.0;
  }
  return p->learning_rate * factor;
}
