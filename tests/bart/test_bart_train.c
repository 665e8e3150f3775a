/*
 * The BART training step (lib/bart/train.c): the loss and every parameter's
 * gradient against HuggingFace's (tests/fixtures/tiny-bart/train_step.json and
 * grads.safetensors), and against a float64 reference written here, whose
 * gradients come from central finite differences, on generated models (relu,
 * scale_embedding, unequal encoder and decoder depths, F16 checkpoints, label
 * smoothing). Also: dropout is seeded and off at evaluation, and the training
 * forward agrees with the inference session.
 */
#include <math.h>
#include <stdarg.h>

#include "bart/bart.h"
#include "bart_test_util.h"
#include "common/safetensors.h"
#include "gen_model.h"

/* HF gradients: within 1e-4 relative to each tensor's largest entry, or 1e-6 absolute. */
#define GRAD_REL 1e-4
#define GRAD_ABS 1e-6

typedef struct batch_data {
  int32_t *ids, *mask, *labels;
  size_t B, S, T;
} batch_data;

static void free_batch(batch_data *b)
{
  free(b->ids);
  free(b->mask);
  free(b->labels);
}

static prism__bart_batch as_batch(const batch_data *d)
{
  prism__bart_batch b = { d->ids, d->mask, d->labels, d->B, d->S, d->T };
  return b;
}

static prism__bart_step_opts plain_opts(void)
{
  prism__bart_step_opts o;
  memset(&o, 0, sizeof o);
  o.grad_scale = 1.0f;
  return o;
}

static prism_bart *trainable_fixture(const char *name)
{
  char path[1024];
  prism_bart *loaded, *m;
  assert_ok(prism_bart_load(&loaded, fixture_path(path, sizeof path, name), NULL));
  assert_ok(prism__bart_trainable_copy(&m, loaded));
  prism_bart_free(loaded);
  return m;
}

/* One step's loss and gradient (grad: a new zeroed buffer of the arena's size). */
static double run_step(prism_bart *m, const batch_data *d, const prism__bart_step_opts *o,
                       float **grad_out)
{
  prism__bart_ws *ws;
  prism__bart_batch b = as_batch(d);
  prism__bart_step_result res;
  size_t count;
  float *grad = NULL;
  prism__bart_arena(m, &count);
  if (grad_out) {
    grad = calloc(count, sizeof *grad);
    assert_non_null(grad);
  }
  assert_ok(prism__bart_ws_create(&ws, m, d->B, d->S, d->T, &o->dropout));
  assert_ok(prism__bart_train_step(ws, &b, o, grad, &res));
  prism__bart_ws_free(ws);
  if (grad_out)
    *grad_out = grad;
  return res.loss;
}

/* ---- a float64 reference over the parameter arena ------------------------------------- */

typedef struct ref {
  const prism_bart *m;
  prism_bart_info info;
  const prism__bart_param *params;
  size_t n_params;
  double *w; /* the arena in double */
  const float *bias;
  double eps; /* label smoothing */
} ref;

static const double *W(const ref *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static const double *W(const ref *r, const char *fmt, ...)
{
  char name[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  for (size_t i = 0; i < r->n_params; i++)
    if (strcmp(r->params[i].name, name) == 0)
      return r->w + r->params[i].offset;
  fail_msg("no parameter %s", name);
  return NULL;
}

static void ref_open(ref *r, const prism_bart *m, double eps)
{
  size_t count;
  const float *arena = prism__bart_arena(m, &count);
  r->m = m;
  r->info = model_info(m);
  r->params = prism__bart_params(m, &r->n_params);
  r->w = malloc(count * sizeof *r->w);
  assert_non_null(r->w);
  for (size_t i = 0; i < count; i++)
    r->w[i] = arena[i];
  r->bias = prism__bart_final_logits_bias(m);
  r->eps = eps;
}

static void ref_linear(const ref *r, const char *prefix, const double *x, int n, int out, int in,
                       double *y)
{
  const double *w = W(r, "%s.weight", prefix), *b = W(r, "%s.bias", prefix);
  for (int i = 0; i < n; i++)
    for (int o = 0; o < out; o++) {
      double s = b[o];
      for (int k = 0; k < in; k++)
        s += w[o * in + k] * x[i * in + k];
      y[i * out + o] = s;
    }
}

static void ref_norm(const ref *r, const char *prefix, double *x, int n)
{
  int d = r->info.d_model;
  const double *w = W(r, "%s.weight", prefix), *b = W(r, "%s.bias", prefix);
  for (int i = 0; i < n; i++) {
    double mean = 0, var = 0, *row = x + i * d;
    for (int j = 0; j < d; j++)
      mean += row[j] / d;
    for (int j = 0; j < d; j++)
      var += (row[j] - mean) * (row[j] - mean) / d;
    for (int j = 0; j < d; j++)
      row[j] = (row[j] - mean) / sqrt(var + 1e-5) * w[j] + b[j];
  }
}

static double ref_act(const char *name, double x)
{
  if (strcmp(name, "relu") == 0)
    return x > 0 ? x : 0;
  if (strcmp(name, "gelu") == 0)
    return 0.5 * x * (1 + erf(x / sqrt(2.0)));
  if (strcmp(name, "gelu_new") == 0)
    return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
  return x / (1 + exp(-x));
}

/* x += out_proj(attention(xq, xkv)), then the named LayerNorm. */
static void ref_attention(const ref *r, const char *prefix, int heads, double *xq, int nq,
                          const double *xkv, int nk, const int32_t *mask, int causal)
{
  int d = r->info.d_model, hd = d / heads;
  double *q = calloc((size_t)(nq * d), 8), *k = calloc((size_t)(nk * d), 8);
  double *v = calloc((size_t)(nk * d), 8), *ctx = calloc((size_t)(nq * d), 8);
  double *out = calloc((size_t)(nq * d), 8), *p = calloc((size_t)nk, 8);
  char name[200];
  snprintf(name, sizeof name, "%s.q_proj", prefix);
  ref_linear(r, name, xq, nq, d, d, q);
  snprintf(name, sizeof name, "%s.k_proj", prefix);
  ref_linear(r, name, xkv, nk, d, d, k);
  snprintf(name, sizeof name, "%s.v_proj", prefix);
  ref_linear(r, name, xkv, nk, d, d, v);
  for (int h = 0; h < heads; h++)
    for (int i = 0; i < nq; i++) {
      double max = -INFINITY, sum = 0;
      for (int j = 0; j < nk; j++) {
        double s = 0;
        for (int e = 0; e < hd; e++)
          s += q[i * d + h * hd + e] / sqrt((double)hd) * k[j * d + h * hd + e];
        p[j] = (mask && !mask[j]) || (causal && j > i) ? -INFINITY : s;
        max = p[j] > max ? p[j] : max;
      }
      for (int j = 0; j < nk; j++)
        sum += p[j] = exp(p[j] - max);
      for (int j = 0; j < nk; j++)
        for (int e = 0; e < hd; e++)
          ctx[i * d + h * hd + e] += p[j] / sum * v[j * d + h * hd + e];
    }
  snprintf(name, sizeof name, "%s.out_proj", prefix);
  ref_linear(r, name, ctx, nq, d, d, out);
  for (int i = 0; i < nq * d; i++)
    xq[i] += out[i];
  free(q);
  free(k);
  free(v);
  free(ctx);
  free(out);
  free(p);
}

static void ref_ffn(const ref *r, const char *layer, int ffn, double *x, int n)
{
  int d = r->info.d_model;
  double *h = calloc((size_t)(n * ffn), 8), *y = calloc((size_t)(n * d), 8);
  char name[200];
  snprintf(name, sizeof name, "%s.fc1", layer);
  ref_linear(r, name, x, n, ffn, d, h);
  for (int i = 0; i < n * ffn; i++)
    h[i] = ref_act(r->info.activation_function, h[i]);
  snprintf(name, sizeof name, "%s.fc2", layer);
  ref_linear(r, name, h, n, d, ffn, y);
  for (int i = 0; i < n * d; i++)
    x[i] += y[i];
  snprintf(name, sizeof name, "%s.final_layer_norm", layer);
  ref_norm(r, name, x, n);
  free(h);
  free(y);
}

static double *ref_embed(const ref *r, const char *stack, const int32_t *ids, int n)
{
  int d = r->info.d_model;
  double scale = r->info.scale_embedding ? sqrt((double)d) : 1.0, *x = calloc((size_t)(n * d), 8);
  const double *emb = W(r, "model.shared.weight");
  const double *pos = W(r, "model.%s.embed_positions.weight", stack);
  char name[160];
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++)
      x[i * d + j] = emb[ids[i] * d + j] * scale + pos[(i + 2) * d + j];
  snprintf(name, sizeof name, "model.%s.layernorm_embedding", stack);
  ref_norm(r, name, x, n);
  return x;
}

/* The loss of one batch row: sums of -log p(label) and of -log p over the vocabulary. */
static void ref_row(const ref *r, const int32_t *ids, const int32_t *mask, int S,
                    const int32_t *labels, int T, double *nll, double *smooth, int *count)
{
  const prism_bart_info *c = &r->info;
  int d = c->d_model, V = c->vocab_size;
  int32_t *dec = calloc((size_t)T, sizeof *dec);
  double *enc = ref_embed(r, "encoder", ids, S), *x;
  char p[160];
  for (int l = 0; l < c->encoder_layers; l++) {
    snprintf(p, sizeof p, "model.encoder.layers.%d.self_attn", l);
    ref_attention(r, p, c->encoder_attention_heads, enc, S, enc, S, mask, 0);
    snprintf(p, sizeof p, "model.encoder.layers.%d.self_attn_layer_norm", l);
    ref_norm(r, p, enc, S);
    snprintf(p, sizeof p, "model.encoder.layers.%d", l);
    ref_ffn(r, p, c->encoder_ffn_dim, enc, S);
  }
  for (int t = 0; t < T; t++) {
    int32_t id = t ? labels[t - 1] : c->decoder_start_token_id;
    dec[t] = id == -100 ? c->pad_token_id : id;
  }
  x = ref_embed(r, "decoder", dec, T);
  for (int l = 0; l < c->decoder_layers; l++) {
    snprintf(p, sizeof p, "model.decoder.layers.%d.self_attn", l);
    ref_attention(r, p, c->decoder_attention_heads, x, T, x, T, NULL, 1);
    snprintf(p, sizeof p, "model.decoder.layers.%d.self_attn_layer_norm", l);
    ref_norm(r, p, x, T);
    snprintf(p, sizeof p, "model.decoder.layers.%d.encoder_attn", l);
    ref_attention(r, p, c->decoder_attention_heads, x, T, enc, S, mask, 0);
    snprintf(p, sizeof p, "model.decoder.layers.%d.encoder_attn_layer_norm", l);
    ref_norm(r, p, x, T);
    snprintf(p, sizeof p, "model.decoder.layers.%d", l);
    ref_ffn(r, p, c->decoder_ffn_dim, x, T);
  }
  for (int t = 0; t < T; t++) {
    const double *emb = W(r, "model.shared.weight");
    double max = -INFINITY, sum = 0, zsum = 0, *z;
    if (labels[t] == -100)
      continue;
    z = calloc((size_t)V, 8);
    for (int v = 0; v < V; v++) {
      z[v] = r->bias ? r->bias[v] : 0.0;
      for (int j = 0; j < d; j++)
        z[v] += emb[v * d + j] * x[t * d + j];
      max = z[v] > max ? z[v] : max;
      zsum += z[v];
    }
    for (int v = 0; v < V; v++)
      sum += exp(z[v] - max);
    *nll += max + log(sum) - z[labels[t]];
    *smooth += V * (max + log(sum)) - zsum;
    (*count)++;
    free(z);
  }
  free(dec);
  free(enc);
  free(x);
}

static double ref_loss(const ref *r, const batch_data *b)
{
  double nll = 0, smooth = 0;
  int count = 0, V = r->info.vocab_size;
  for (size_t i = 0; i < b->B; i++)
    ref_row(r, b->ids + i * b->S, b->mask + i * b->S, (int)b->S, b->labels + i * b->T, (int)b->T,
            &nll, &smooth, &count);
  return (1 - r->eps) * nll / count + r->eps * smooth / ((double)count * V);
}

/*
 * The loss and gradient of `m` against the reference: the gradient by central
 * differences at, for every parameter, its entry with the largest gradient and
 * two more, plus the padding row of the embedding (which only the LM head
 * reaches).
 */
static void check_against_reference(prism_bart *m, const batch_data *b, double eps,
                                    const char *what)
{
  prism__bart_step_opts o = plain_opts();
  ref r;
  float *grad;
  double loss, want, worst = 0.0;
  const char *worst_name = "";
  size_t d;
  o.label_smoothing = (float)eps;
  loss = run_step(m, b, &o, &grad);
  ref_open(&r, m, eps);
  d = (size_t)r.info.d_model;
  want = ref_loss(&r, b);
  print_message("%s: loss %.9f, reference %.9f\n", what, loss, want);
  assert_true(fabs(loss - want) <= 1e-5 * fabs(want));
  for (size_t i = 0; i < r.n_params; i++) {
    const prism__bart_param *p = &r.params[i];
    size_t probe[4], best = 0;
    double scale = 0.0;
    for (size_t k = 0; k < p->count; k++) {
      double g = fabs(grad[p->offset + k]);
      if (g > scale) {
        scale = g;
        best = k;
      }
    }
    probe[0] = best;
    probe[1] = 0;
    probe[2] = p->count / 2 + 1 < p->count ? p->count / 2 + 1 : p->count - 1;
    probe[3] = i == 0 ? (size_t)r.info.pad_token_id * d : best;
    for (int t = 0; t < 4; t++) {
      double *x = &r.w[p->offset + probe[t]], saved = *x, h = 1e-4, up, down, fd, diff;
      *x = saved + h;
      up = ref_loss(&r, b);
      *x = saved - h;
      down = ref_loss(&r, b);
      *x = saved;
      fd = (up - down) / (2 * h);
      diff = fabs(fd - grad[p->offset + probe[t]]);
      if (diff > 1e-5 && diff > 1e-3 * fmax(scale, fabs(fd)))
        fail_msg("%s: %s[%zu]: gradient %.9g, finite differences %.9g", what, p->name, probe[t],
                 (double)grad[p->offset + probe[t]], fd);
      if (diff / fmax(scale, 1e-3) > worst) {
        worst = diff / fmax(scale, 1e-3);
        worst_name = p->name;
      }
    }
  }
  print_message(
      "%s: %zu tensors, worst |gradient - finite differences| / max|gradient| %.3g (%s)\n", what,
      r.n_params, worst, worst_name);
  free(r.w);
  free(grad);
}

/* Generated models and a padded batch over their small vocabulary. */
static const gen_config tiny_config = {
  .vocab = 20,
  .d_model = 8,
  .enc_layers = 2,
  .dec_layers = 1,
  .enc_heads = 2,
  .dec_heads = 4,
  .enc_ffn = 12,
  .dec_ffn = 16,
  .max_pos = 12,
  .scale_embedding = 1,
  .activation = "relu",
};

static batch_data tiny_batch(void)
{
  static const int32_t ids[] = { 0, 5, 9, 13, 2, 0, 17, 2, 1, 1, 0, 4, 2, 1, 1 };
  static const int32_t labels[] = { 0, 7, 11, 2, 0, 3, 2, -100, 0, 19, 6, 2 };
  batch_data b = { NULL, NULL, NULL, 3, 5, 4 };
  b.ids = malloc(sizeof ids);
  b.mask = malloc(sizeof ids);
  b.labels = malloc(sizeof labels);
  assert_true(b.ids && b.mask && b.labels);
  memcpy(b.ids, ids, sizeof ids);
  memcpy(b.labels, labels, sizeof labels);
  for (size_t i = 0; i < 15; i++)
    b.mask[i] = ids[i] != 1;
  return b;
}

/* A generated checkpoint written in `dtype`, loaded and made trainable. */
static prism_bart *generated(const gen_config *cfg, prism__st_dtype dtype, uint32_t seed)
{
  gen_model g;
  char *dir = make_temp_dir();
  prism_bart *loaded, *m;
  gen_model_build(&g, cfg, seed);
  gen_model_write(&g, dir, &(gen_layout){ .dtype = dtype });
  assert_ok(prism_bart_load(&loaded, dir, NULL));
  assert_ok(prism__bart_trainable_copy(&m, loaded));
  prism_bart_free(loaded);
  remove_tree(dir);
  free(dir);
  gen_model_free(&g);
  return m;
}

static void test_reference_relu_scaled(void **state)
{
  batch_data b = tiny_batch();
  prism_bart *m = generated(&tiny_config, PRISM__ST_F32, 7);
  (void)state;
  check_against_reference(m, &b, 0.0, "relu, scale_embedding, 2+1 layers");
  prism_bart_free(m);
  free_batch(&b);
}

static void test_reference_activations_smoothing(void **state)
{
  static const char *const acts[] = { "gelu", "gelu_new", "silu" };
  batch_data b = tiny_batch();
  (void)state;
  for (size_t i = 0; i < 3; i++) {
    gen_config cfg = tiny_config;
    prism_bart *m;
    char what[64];
    cfg.activation = acts[i];
    cfg.scale_embedding = (int)(i % 2);
    cfg.enc_layers = (int)i; /* 0, 1 and 2 encoder layers */
    cfg.dec_layers = 2;
    m = generated(&cfg, PRISM__ST_F32, 11 + (uint32_t)i);
    snprintf(what, sizeof what, "%s, %d+2 layers, label smoothing 0.1", acts[i], cfg.enc_layers);
    check_against_reference(m, &b, 0.1, what);
    prism_bart_free(m);
  }
  free_batch(&b);
}

/* An F16 checkpoint trains on its float32 conversion: the same numbers as the F32 one. */
static void test_f16_checkpoint(void **state)
{
  batch_data b = tiny_batch();
  prism_bart *m16 = generated(&tiny_config, PRISM__ST_F16, 7);
  prism_bart *m32 = generated(&tiny_config, PRISM__ST_F32, 7);
  prism__bart_step_opts o = plain_opts();
  float *g16, *g32;
  size_t count;
  (void)state;
  assert_true(run_step(m16, &b, &o, &g16) == run_step(m32, &b, &o, &g32));
  prism__bart_arena(m16, &count);
  assert_memory_equal(g16, g32, count * sizeof *g16);
  check_against_reference(m16, &b, 0.0, "F16 checkpoint");
  free(g16);
  free(g32);
  prism_bart_free(m16);
  prism_bart_free(m32);
  free_batch(&b);
}

static prism__bart_step_opts dropout_opts(float p, uint64_t stream)
{
  prism__bart_step_opts o = plain_opts();
  o.dropout.hidden = p;
  o.dropout.attention = p;
  o.dropout.activation = p;
  o.seed = 42;
  o.stream = stream;
  return o;
}

/* Masks are a function of (seed, stream): the same step twice is bit-identical, another differs. */
static void test_dropout_seeded(void **state)
{
  batch_data b = tiny_batch();
  gen_config cfg = tiny_config;
  prism_bart *m;
  prism__bart_step_opts a = dropout_opts(0.3f, 5), c = dropout_opts(0.3f, 6);
  prism__bart_step_opts off = plain_opts(), zero = dropout_opts(0.0f, 5);
  float *g1, *g2;
  double l1, l2, l3, eval;
  size_t count;
  (void)state;
  cfg.activation = "gelu";
  m = generated(&cfg, PRISM__ST_F32, 3);
  prism__bart_arena(m, &count);
  l1 = run_step(m, &b, &a, &g1);
  l2 = run_step(m, &b, &a, &g2);
  assert_true(l1 == l2);
  assert_memory_equal(g1, g2, count * sizeof *g1);
  l3 = run_step(m, &b, &c, NULL);
  eval = run_step(m, &b, &off, NULL);
  print_message("dropout 0.3: loss %.6f (stream 5), %.6f (stream 6); off %.6f\n", l1, l3, eval);
  assert_true(l1 != l3 && l1 != eval && l3 != eval);
  assert_true(run_step(m, &b, &zero, NULL) == eval);
  free(g1);
  free(g2);
  prism_bart_free(m);
  free_batch(&b);
}

/* With its masks fixed, dropout is part of a smooth function: check its gradient numerically. */
static void test_dropout_gradient(void **state)
{
  batch_data b = tiny_batch();
  gen_config cfg = tiny_config;
  prism__bart_step_opts o = dropout_opts(0.25f, 9);
  const prism__bart_param *params;
  prism_bart *m;
  float *grad, *arena;
  size_t n_params;
  double worst = 0.0;
  (void)state;
  cfg.activation = "gelu";
  m = generated(&cfg, PRISM__ST_F32, 5);
  arena = prism__bart_arena(m, NULL);
  run_step(m, &b, &o, &grad);
  params = prism__bart_params(m, &n_params);
  for (size_t i = 0; i < n_params; i++) {
    size_t best = 0;
    float *x, saved, h = 1e-3f;
    double fd, g;
    for (size_t k = 1; k < params[i].count; k++)
      if (fabsf(grad[params[i].offset + k]) > fabsf(grad[params[i].offset + best]))
        best = k;
    x = arena + params[i].offset + best;
    saved = *x;
    *x = saved + h;
    fd = run_step(m, &b, &o, NULL);
    *x = saved - h;
    fd -= run_step(m, &b, &o, NULL);
    *x = saved;
    fd /= 2.0 * h;
    g = grad[params[i].offset + best];
    if (fabs(fd - g) > 2e-3 + 2e-2 * fabs(g))
      fail_msg("%s[%zu]: gradient %.6g, finite differences %.6g", params[i].name, best, g, fd);
    worst = fmax(worst, fabs(fd - g) / fmax(fabs(g), 1e-2));
  }
  print_message("dropout 0.25: worst relative gap to float32 finite differences %.3g\n", worst);
  free(grad);
  prism_bart_free(m);
  free_batch(&b);
}

/* The training forward and the inference session compute the same model. */
static void test_matches_session(void **state)
{
  batch_data b = tiny_batch();
  prism_bart *m = generated(&tiny_config, PRISM__ST_F32, 7);
  prism__bart_step_opts o = plain_opts();
  prism_bart_session *s;
  int32_t dec[12];
  size_t V = 20;
  float *logits = malloc(12 * V * sizeof *logits);
  double nll = 0.0, loss;
  int count = 0;
  (void)state;
  for (size_t i = 0; i < 12; i++)
    dec[i] = i % 4 ? (b.labels[i - 1] == -100 ? 1 : b.labels[i - 1]) : 2;
  assert_ok(prism_bart_session_create(&s, m, NULL));
  assert_ok(prism_bart_session_encode(s, b.ids, b.mask, b.B, b.S, NULL));
  assert_ok(prism_bart_session_forward(s, dec, b.T, logits));
  for (size_t r = 0; r < 12; r++) {
    double max = -INFINITY, sum = 0.0;
    if (b.labels[r] == -100)
      continue;
    for (size_t v = 0; v < V; v++)
      max = fmax(max, logits[r * V + v]);
    for (size_t v = 0; v < V; v++)
      sum += exp(logits[r * V + v] - max);
    nll += max + log(sum) - logits[r * V + (size_t)b.labels[r]];
    count++;
  }
  loss = run_step(m, &b, &o, NULL);
  print_message("training forward %.9f, session %.9f\n", loss, nll / count);
  assert_true(fabs(loss - nll / count) <= 1e-6 * loss);
  prism_bart_session_free(s);
  free(logits);
  prism_bart_free(m);
  free_batch(&b);
}

/*
 * The step's loss and gradient do not depend on the thread count, bit for bit:
 * with dropout, enough rows for SGEMM, and a vocabulary of 1000 (OpenBLAS
 * alone rounds a K like that differently on 1 and 2 threads).
 */
static void test_thread_count(void **state)
{
  prism_bart *m = trainable_fixture("tiny-bart");
  prism__bart_step_opts o = dropout_opts(0.1f, 3);
  batch_data b = { NULL, NULL, NULL, 8, 12, 9 };
  float *g1, *g2;
  size_t count;
  double l1, l2;
  (void)state;
  b.ids = malloc(b.B * b.S * sizeof *b.ids);
  b.mask = malloc(b.B * b.S * sizeof *b.mask);
  b.labels = malloc(b.B * b.T * sizeof *b.labels);
  assert_true(b.ids && b.mask && b.labels);
  for (size_t i = 0; i < b.B * b.S; i++) {
    b.ids[i] = (int32_t)((i * 7919) % 990 + 3);
    b.mask[i] = i % b.S < b.S - i / b.S % 4;
  }
  for (size_t i = 0; i < b.B * b.T; i++)
    b.labels[i] = i % b.T < b.T - i / b.T % 3 ? (int32_t)((i * 104729) % 997 + 3) : -100;
  prism__bart_arena(m, &count);
  prism_set_num_threads(1);
  l1 = run_step(m, &b, &o, &g1);
  prism_set_num_threads(2);
  l2 = run_step(m, &b, &o, &g2);
  prism_set_num_threads(0);
  assert_true(l1 == l2);
  assert_memory_equal(g1, g2, count * sizeof *g1);
  free(g1);
  free(g2);
  prism_bart_free(m);
  free_batch(&b);
}

static void test_fixture_gradients(void **state)
{
  char path[1024];
  json_error_t err;
  json_t *root =
      json_load_file(fixture_path(path, sizeof path, "tiny-bart/train_step.json"), 0, &err);
  prism_bart *m = trainable_fixture("tiny-bart");
  prism__st_file want;
  prism__bart_step_opts o = plain_opts();
  const prism__bart_param *params;
  batch_data d;
  size_t n_params, rows;
  float *grad;
  double loss, worst = 0.0;
  const char *worst_name = "";
  (void)state;
  assert_non_null(root);
  d.ids = json_int_matrix(json_object_get(root, "input_ids"), &d.B, &d.S);
  d.mask = json_int_matrix(json_object_get(root, "attention_mask"), &rows, &d.S);
  d.labels = json_int_matrix(json_object_get(root, "labels"), &rows, &d.T);
  loss = run_step(m, &d, &o, &grad);
  print_message("loss %.9f, HF %.9f\n", loss, json_real_value(json_object_get(root, "loss")));
  assert_true(fabs(loss - json_real_value(json_object_get(root, "loss"))) <=
              1e-4 * json_real_value(json_object_get(root, "loss")));

  assert_ok(
      prism__st_open(fixture_path(path, sizeof path, "tiny-bart/grads.safetensors"), 0, &want));
  params = prism__bart_params(m, &n_params);
  assert_int_equal(n_params, want.count);
  for (size_t i = 0; i < n_params; i++) {
    const prism__st_tensor *t = prism__st_find(&want, params[i].name);
    float *g;
    double scale = 0.0, diff = 0.0;
    if (!t)
      fail_msg("grads.safetensors has no tensor %s", params[i].name);
    assert_int_equal(t->numel, params[i].count);
    g = malloc(params[i].count * sizeof *g);
    assert_ok(prism__st_to_f32(t, g));
    for (size_t k = 0; k < params[i].count; k++) {
      scale = fmax(scale, fabs(g[k]));
      diff = fmax(diff, fabs((double)g[k] - grad[params[i].offset + k]));
    }
    if (diff > GRAD_ABS && diff / scale > worst) {
      worst = diff / scale;
      worst_name = params[i].name;
    }
    if (diff > GRAD_ABS && diff > GRAD_REL * scale)
      fail_msg("%s: max |diff| %.3g, max |grad| %.3g", params[i].name, diff, scale);
    free(g);
  }
  print_message("%zu gradients, worst max|diff|/max|grad| %.3g (%s)\n", n_params, worst,
                worst_name);
  prism__st_close(&want);
  free(grad);
  free_batch(&d);
  prism_bart_free(m);
  json_decref(root);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fixture_gradients),
    cmocka_unit_test(test_reference_relu_scaled),
    cmocka_unit_test(test_reference_activations_smoothing),
    cmocka_unit_test(test_f16_checkpoint),
    cmocka_unit_test(test_dropout_seeded),
    cmocka_unit_test(test_dropout_gradient),
    cmocka_unit_test(test_matches_session),
    cmocka_unit_test(test_thread_count),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
