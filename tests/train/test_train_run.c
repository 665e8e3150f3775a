/*
 * The training loop against HF Trainer's ten steps (tests/fixtures/tiny-bart/
 * train_run.json): every step's learning rate exactly, its loss and gradient
 * norm within 1e-4 relative, every final parameter within 1e-4, for the plain
 * and the label-smoothed run; and which parameters AdamW decays.
 */
#include "train_test_util.h"

typedef struct recorded {
  double lr[16], loss[16], grad_norm[16];
  size_t n;
} recorded;

static int record(const prism_train_progress *p, void *payload)
{
  recorded *r = payload;
  if (r->n < 16) {
    r->lr[r->n] = p->learning_rate;
    r->loss[r->n] = p->loss;
    r->grad_norm[r->n] = p->grad_norm;
    r->n++;
  }
  return 1;
}

static prism_train_params fixture_params(const json_t *settings, double smoothing)
{
  prism_train_params p;
  prism_train_params_init(&p, sizeof p);
  p.learning_rate = json_number_value(json_object_get(settings, "lr"));
  p.weight_decay = json_number_value(json_object_get(settings, "weight_decay"));
  p.adam_beta1 = json_number_value(json_array_get(json_object_get(settings, "betas"), 0));
  p.adam_beta2 = json_number_value(json_array_get(json_object_get(settings, "betas"), 1));
  p.adam_epsilon = json_number_value(json_object_get(settings, "eps"));
  p.max_grad_norm = json_number_value(json_object_get(settings, "max_grad_norm"));
  p.warmup_steps = (uint32_t)json_integer_value(json_object_get(settings, "warmup_steps"));
  p.max_steps = (uint32_t)json_integer_value(json_object_get(settings, "training_steps"));
  p.grad_accum = (uint32_t)json_integer_value(json_object_get(settings, "gradient_accumulation"));
  p.dropout = p.attention_dropout = p.activation_dropout =
      json_number_value(json_object_get(settings, "dropout"));
  p.label_smoothing = smoothing;
  p.schedule = PRISM_TRAIN_LINEAR;
  return p;
}

static void run_fixture(const char *name)
{
  json_t *run = load_json_fixture("tiny-bart/train_run.json");
  json_t *spec = json_object_get(json_object_get(run, "runs"), name), *step;
  prism_train_params p =
      fixture_params(json_object_get(run, "settings"),
                     json_number_value(json_object_get(spec, "label_smoothing")));
  prism_pairs *pairs = fixture_batches(run);
  prism_bart *init;
  prism_trainer *t;
  recorded r = { { 0 }, { 0 }, { 0 }, 0 };
  char path[1024], rel[128];
  const char *worst = "";
  double loss_err = 0.0, norm_err = 0.0, param_err, noise_err = 0.0, lr_sum = 0.0;
  size_t i;
  assert_ok(prism_bart_load(&init, fixture_path(path, sizeof path, "tiny-bart"), NULL));
  assert_ok(prism_trainer_create(&t, init, &p));
  prism_bart_free(init);
  assert_ok(prism_trainer_train(t, pairs, NULL, record, &r));
  assert_int_equal(r.n, json_array_size(json_object_get(spec, "steps")));
  json_array_foreach(json_object_get(spec, "steps"), i, step)
  {
    double lr = json_number_value(json_object_get(step, "lr"));
    double loss = json_number_value(json_object_get(step, "loss"));
    double norm = json_number_value(json_object_get(step, "grad_norm"));
    if (r.lr[i] != lr)
      fail_msg("%s step %zu: lr %.17g, HF %.17g", name, i + 1, r.lr[i], lr);
    lr_sum += lr;
    loss_err = fmax(loss_err, fabs(r.loss[i] - loss) / loss);
    norm_err = fmax(norm_err, fabs(r.grad_norm[i] - norm) / norm);
  }
  snprintf(rel, sizeof rel, "tiny-bart/train_run_%s_final.safetensors", name);
  param_err = max_param_diff(prism_trainer_model(t), fixture_path(path, sizeof path, rel),
                             "k_proj.bias", &worst, &noise_err);
  print_message("%s: worst relative error loss %.3g, grad_norm %.3g; final parameters max "
                "|diff| %.3g (%s); k_proj biases %.3g\n",
                name, loss_err, norm_err, param_err, worst, noise_err);
  assert_true(loss_err <= 1e-4 && norm_err <= 1e-4 && param_err <= 1e-4);
  /*
   * A key projection's bias shifts every score of a query alike, which softmax
   * ignores: its gradient is zero but for float rounding, which AdamW scales up
   * to steps of about lr. Neither run's value is more right than the other's;
   * both stay within the sum of the learning rates of the start.
   */
  assert_true(noise_err <= lr_sum);
  prism_trainer_free(t);
  prism_pairs_free(pairs);
  json_decref(run);
}

static void test_plain(void **state)
{
  (void)state;
  run_fixture("plain");
}

static void test_smooth(void **state)
{
  (void)state;
  run_fixture("smooth");
}

/* AdamW decays exactly the fixture's decayed_parameters (the tied embedding once). */
static void test_decayed_parameters(void **state)
{
  json_t *run = load_json_fixture("tiny-bart/train_run.json"), *names;
  prism_bart *init;
  prism_trainer *t;
  char path[1024];
  size_t n, i, decayed = 0;
  const prism__bart_param *ps;
  json_t *name;
  (void)state;
  assert_ok(prism_bart_load(&init, fixture_path(path, sizeof path, "tiny-bart"), NULL));
  assert_ok(prism_trainer_create(&t, init, NULL));
  prism_bart_free(init);
  names = json_object_get(run, "decayed_parameters");
  ps = prism__bart_params(prism_trainer_model(t), &n);
  for (size_t k = 0; k < n; k++) {
    int listed = 0;
    json_array_foreach(names, i, name) listed |= strcmp(json_string_value(name), ps[k].name) == 0;
    if (listed != ps[k].decay)
      fail_msg("%s: decay %d, HF %d", ps[k].name, ps[k].decay, listed);
    decayed += ps[k].decay;
  }
  /* HF lists the tied embedding under its four names. */
  assert_int_equal(decayed + 3, json_array_size(names));
  prism_trainer_free(t);
  json_decref(run);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_plain),
    cmocka_unit_test(test_smooth),
    cmocka_unit_test(test_decayed_parameters),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
