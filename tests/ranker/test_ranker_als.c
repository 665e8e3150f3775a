/* Implicit ALS against a dense reference, by hand, across thread counts; fold-in and explain. */
#include <math.h>

#include "testutil.h"
#include "model_util.h"
#include "synth.h"

/* Solve A x = b (n x n, double) by Gaussian elimination with partial pivoting. */
static void dense_solve(double *A, double *b, int n)
{
  for (int c = 0; c < n; c++) {
    int piv = c;
    for (int r = c + 1; r < n; r++)
      if (fabs(A[r * n + c]) > fabs(A[piv * n + c]))
        piv = r;
    for (int k = 0; k < n; k++) {
      double t = A[c * n + k];
      A[c * n + k] = A[piv * n + k];
      A[piv * n + k] = t;
    }
    double t = b[c];
    b[c] = b[piv];
    b[piv] = t;
    for (int r = c + 1; r < n; r++) {
      double f = A[r * n + c] / A[c * n + c];
      for (int k = c; k < n; k++)
        A[r * n + k] -= f * A[c * n + k];
      b[r] -= f * b[c];
    }
  }
  for (int c = n - 1; c >= 0; c--) {
    for (int k = c + 1; k < n; k++)
      b[c] -= A[c * n + k] * b[k];
    b[c] /= A[c * n + c];
  }
}

/*
 * The HKV normal equations of row u written out densely over every column:
 * sum_i c_ui (p_ui - x.y_i) y_i = reg x with c = 1 + alpha|v|, p = [v > 0].
 */
static void dense_row(const prism__ranker_csr *m, int32_t u, const float *Y, int32_t cols, int F,
                      float reg, float alpha, double *x)
{
  double A[16 * 16] = { 0 };
  for (int k = 0; k < F; k++)
    A[k * F + k] = reg;
  for (int k = 0; k < F; k++)
    x[k] = 0.0;
  for (int32_t i = 0; i < cols; i++) {
    double c = 1.0, p = 0.0;
    for (int64_t e = m->ptr[u]; e < m->ptr[u + 1]; e++)
      if (m->index[e] == i) {
        c = 1.0 + alpha * fabs(m->value[e]);
        p = m->value[e] > 0;
      }
    const float *y = Y + (size_t)i * F;
    for (int a = 0; a < F; a++) {
      x[a] += c * p * y[a];
      for (int b = 0; b < F; b++)
        A[a * F + b] += c * y[a] * y[b];
    }
  }
  dense_solve(A, x, F);
}

static prism__ranker_csr random_csr(prism__rng *g, int32_t rows, int32_t cols, int per_row)
{
  int32_t ru[256], ci[256];
  float v[256];
  size_t n = 0;
  for (int32_t u = 0; u < rows; u++)
    for (int j = 0; j < per_row; j++) {
      ru[n] = u;
      ci[n] = (int32_t)prism__rng_below(g, (uint64_t)cols);
      v[n++] = (j == 0 && u % 3 == 0) ? -1.0f : (float)(1 + prism__rng_below(g, 5));
    }
  prism__ranker_csr m;
  assert_ok(prism__ranker_csr_from_coo(&m, rows, cols, n, ru, ci, v, "entry"));
  return m;
}

static void test_cg_matches_dense(void **state)
{
  (void)state;
  enum { U = 12, I = 40, F = 6 };
  prism__rng g;
  float Y[I * F], X[U * F] = { 0 }, gram[F * F];
  prism__rng_seed(&g, 3, 0);
  for (int k = 0; k < I * F; k++)
    Y[k] = (float)prism__rng_normal(&g) * 0.5f;
  prism__ranker_csr m = random_csr(&g, U, I, 7);
  prism__ranker_als_gram(gram, Y, I, F, 0.1f);
  assert_ok(prism__ranker_als_solve_cg(X, Y, gram, &m, F, 2.0f, 60));
  for (int32_t u = 0; u < U; u++) {
    double ref[F];
    dense_row(&m, u, Y, I, F, 0.1f, 2.0f, ref);
    for (int k = 0; k < F; k++)
      assert_float_equal(X[u * F + k], ref[k], 1e-4 + 1e-4 * fabs(ref[k]));
  }
  prism__ranker_csr_free(&m);
}

/* One factor, two items: x = b / W = (1 + 1*1) * 1 / (1 + 4 + 0.5 + 1*1*1) = 2 / 6.5. */
static void test_fold_in_by_hand(void **state)
{
  (void)state;
  float uf[1] = { 0 }, vf[2] = { 1.0f, 2.0f }, x, bias;
  int32_t item = 0;
  prism_ranker *r = make_model(PRISM_RANKER_ALS, 1, 2, 1, uf, vf, NULL, NULL, 0, NULL, NULL);
  assert_non_null(r);
  r->hp.regularization = 0.5f;
  r->hp.alpha = 1.0f;
  assert_ok(prism__ranker_finish(r, "test"));
  assert_ok(prism_ranker_fold_in(&x, &bias, r, &item, NULL, 1));
  assert_float_equal(x, 2.0 / 6.5, 1e-6);
  assert_float_equal(bias, 0.0, 0.0);
  /* Value 3 with alpha 1: W = 5.5 + 3, b = 4 * 1. */
  float three = 3.0f;
  assert_ok(prism_ranker_fold_in(&x, NULL, r, &item, &three, 1));
  assert_float_equal(x, 4.0 / 8.5, 1e-6);
  prism_ranker_free(r);
}

static prism_ranker *train_synth(int algorithm, int iterations, int cg_steps, synth_data *d)
{
  prism_ranker_params p;
  prism_ranker *r;
  assert_int_equal(synth_generate(d, 300, 500, 5, 20, 0.2, 5), 0);
  assert_ok(prism_ranker_params_init(&p, sizeof p));
  p.algorithm = algorithm;
  p.factors = 8;
  p.iterations = iterations;
  p.cg_steps = cg_steps;
  p.seed = 42;
  assert_ok(prism_ranker_train_coo(&r, d->users, d->items, d->n_train, d->train_user, d->train_item,
                                   d->train_value, &p));
  return r;
}

/* After training the user factors solve their normal equations against the final item factors. */
static void test_training_reaches_fixed_point(void **state)
{
  (void)state;
  synth_data d;
  prism_ranker *r = train_synth(PRISM_RANKER_ALS, 10, 30, &d);
  int F = 8;
  for (int32_t u = 0; u < 300; u += 37) {
    double ref[8];
    dense_row(&r->seen, u, r->item_factors, r->num_items, F, r->hp.regularization, r->hp.alpha,
              ref);
    for (int k = 0; k < F; k++)
      assert_float_equal(r->user_factors[u * F + k], ref[k], 2e-3 + 2e-3 * fabs(ref[k]));
  }
  prism_ranker_free(r);
  synth_free(&d);
}

static void test_thread_count_independent(void **state)
{
  (void)state;
  for (int a = PRISM_RANKER_ALS; a <= PRISM_RANKER_MF; a++) {
    synth_data d1, d2;
    prism_set_num_threads(1);
    prism_ranker *r1 = train_synth(a, 4, 3, &d1);
    prism_set_num_threads(2);
    prism_ranker *r2 = train_synth(a, 4, 3, &d2);
    assert_memory_equal(r1->user_factors, r2->user_factors, 300 * 8 * sizeof(float));
    assert_memory_equal(r1->item_factors, r2->item_factors, 500 * 8 * sizeof(float));
    prism_ranker_free(r1);
    prism_ranker_free(r2);
    synth_free(&d1);
    synth_free(&d2);
  }
  prism_set_num_threads(0);
}

static void test_seeded(void **state)
{
  (void)state;
  for (int a = PRISM_RANKER_ALS; a <= PRISM_RANKER_MF; a++) {
    synth_data d1, d2;
    prism_ranker *r1 = train_synth(a, 3, 3, &d1), *r2 = train_synth(a, 3, 3, &d2);
    assert_memory_equal(r1->item_factors, r2->item_factors, 500 * 8 * sizeof(float));
    prism_ranker_params p;
    prism_ranker *r3;
    assert_ok(prism_ranker_params_init(&p, sizeof p));
    p.algorithm = a;
    p.factors = 8;
    p.iterations = 3;
    p.seed = 43;
    assert_ok(prism_ranker_train_coo(&r3, d1.users, d1.items, d1.n_train, d1.train_user,
                                     d1.train_item, d1.train_value, &p));
    assert_true(memcmp(r1->item_factors, r3->item_factors, 500 * 8 * sizeof(float)) != 0);
    prism_ranker_free(r1);
    prism_ranker_free(r2);
    prism_ranker_free(r3);
    synth_free(&d1);
    synth_free(&d2);
  }
}

static double cosine(const float *a, const float *b, int n)
{
  double d = 0, na = 0, nb = 0;
  for (int k = 0; k < n; k++) {
    d += (double)a[k] * b[k];
    na += (double)a[k] * a[k];
    nb += (double)b[k] * b[k];
  }
  return d / sqrt(na * nb);
}

/* The user's row of the seen matrix, as a history. */
static size_t history_of(const prism_ranker *r, int32_t u, int32_t *items, float *values)
{
  size_t n = 0;
  for (int64_t e = r->seen.ptr[u]; e < r->seen.ptr[u + 1]; e++, n++) {
    items[n] = r->seen.index[e];
    values[n] = r->seen.value[e];
  }
  return n;
}

/* ALS: fold-in solves exactly what the last half step solved. */
static void test_fold_in_matches_trained(void **state)
{
  (void)state;
  synth_data d;
  prism_ranker *r = train_synth(PRISM_RANKER_ALS, 15, 3, &d);
  double worst = 1.0;
  for (int32_t u = 0; u < 300; u += 7) {
    int32_t items[64];
    float values[64], x[8];
    size_t n = history_of(r, u, items, values);
    assert_ok(prism_ranker_fold_in(x, NULL, r, items, values, n));
    double c = cosine(x, r->user_factors + u * 8, 8);
    worst = c < worst ? c : worst;
  }
  printf("ALS fold-in vs trained user factors: worst cosine %.6f\n", worst);
  assert_true(worst > 0.999);
  prism_ranker_free(r);
  synth_free(&d);
}

/* The per-user MF objective with items fixed (SGD's penalty: reg per rating). */
static double mf_objective(const prism_ranker *r, const int32_t *items, const float *values,
                           size_t n, const float *x, float bias)
{
  double obj = (double)bias * bias;
  for (int k = 0; k < 8; k++)
    obj += (double)x[k] * x[k];
  obj *= r->hp.regularization * (double)n;
  for (size_t e = 0; e < n; e++) {
    double d = values[e] - prism__ranker_score(r, x, bias, items[e]);
    obj += d * d;
  }
  return obj;
}

/* MF fold-in is the exact minimiser of the user's objective: below the trained user and any nudge. */
static void test_mf_fold_in_minimises(void **state)
{
  (void)state;
  synth_data d;
  prism__rng g;
  prism_ranker *r = train_synth(PRISM_RANKER_MF, 30, 3, &d);
  prism__rng_seed(&g, 9, 0);
  for (int32_t u = 0; u < 300; u += 7) {
    int32_t items[64];
    float values[64], x[8], bias;
    size_t n = history_of(r, u, items, values);
    assert_ok(prism_ranker_fold_in(x, &bias, r, items, values, n));
    double best = mf_objective(r, items, values, n, x, bias);
    assert_true(best <=
                mf_objective(r, items, values, n, r->user_factors + u * 8, r->user_bias[u]) + 1e-4);
    for (int t = 0; t < 8; t++) {
      float y[8];
      for (int k = 0; k < 8; k++)
        y[k] = x[k] + 0.01f * (float)prism__rng_normal(&g);
      assert_true(best <= mf_objective(r, items, values, n, y, bias + 0.01f) + 1e-5);
    }
  }
  prism_ranker_free(r);
  synth_free(&d);
}

/* ALS explanations: the contributions over the whole history add up to the exact score. */
static void test_explain_sums_to_score(void **state)
{
  (void)state;
  synth_data d;
  prism_ranker *r = train_synth(PRISM_RANKER_ALS, 8, 3, &d);
  for (int32_t u = 0; u < 300; u += 29) {
    int32_t items[64], top[64];
    float values[64], x[8], contrib[64], bias;
    size_t n = history_of(r, u, items, values), count;
    int32_t item = (u * 13) % r->num_items;
    assert_ok(prism_ranker_fold_in(x, &bias, r, items, values, n));
    double score = 0.0, sum = 0.0;
    for (int k = 0; k < 8; k++)
      score += (double)x[k] * r->item_factors[item * 8 + k];
    assert_ok(prism_ranker_explain(top, contrib, &count, r, u, item, 64));
    assert_int_equal(count, n);
    for (size_t e = 0; e < count; e++) {
      sum += contrib[e];
      if (e)
        assert_true(contrib[e] <= contrib[e - 1]);
    }
    assert_float_equal(sum, score, 1e-4 + 1e-3 * fabs(score));
    /* Top-3 is a prefix of the full ranking. */
    int32_t top3[3];
    float c3[3];
    assert_ok(prism_ranker_explain(top3, c3, &count, r, u, item, 3));
    assert_int_equal(count, 3);
    assert_memory_equal(top3, top, sizeof top3);
  }
  prism_ranker_free(r);
  synth_free(&d);
}

static int cancel_at;
static int progress_calls;

static int on_progress(int iteration, int total, double loss, void *payload)
{
  assert_ptr_equal(payload, &cancel_at);
  assert_int_equal(iteration, progress_calls + 1);
  assert_true(total >= iteration);
  assert_true(isfinite(loss));
  progress_calls++;
  return iteration != cancel_at;
}

static void test_progress_and_cancel(void **state)
{
  (void)state;
  synth_data d;
  assert_int_equal(synth_generate(&d, 100, 200, 4, 10, 0.2, 1), 0);
  for (int a = PRISM_RANKER_ALS; a <= PRISM_RANKER_MF; a++) {
    prism_ranker_params p;
    prism_ranker *r = (prism_ranker *)&d;
    assert_ok(prism_ranker_params_init(&p, sizeof p));
    p.algorithm = a;
    p.iterations = 5;
    p.progress = on_progress;
    p.progress_payload = &cancel_at;
    cancel_at = 0;
    progress_calls = 0;
    assert_ok(prism_ranker_train_coo(&r, d.users, d.items, d.n_train, d.train_user, d.train_item,
                                     NULL, &p));
    assert_int_equal(progress_calls, 5);
    prism_ranker_free(r);
    cancel_at = 2;
    progress_calls = 0;
    r = (prism_ranker *)&d;
    assert_status(prism_ranker_train_coo(&r, d.users, d.items, d.n_train, d.train_user,
                                         d.train_item, NULL, &p),
                  PRISM_ERR_CANCELLED);
    assert_null(r);
    assert_int_equal(progress_calls, 2);
    assert_error_begins("prism_ranker_train_coo: ");
    assert_error_mentions("training cancelled after iteration 2");
  }
  synth_free(&d);
}

/* ALS loss decreases over iterations (reported through the callback). */
static double losses[8];

static int record_loss(int iteration, int total, double loss, void *payload)
{
  (void)total;
  (void)payload;
  losses[iteration - 1] = loss;
  return 1;
}

static void test_als_loss_decreases(void **state)
{
  (void)state;
  synth_data d;
  prism_ranker_params p;
  prism_ranker *r;
  assert_int_equal(synth_generate(&d, 200, 300, 4, 15, 0.2, 2), 0);
  assert_ok(prism_ranker_params_init(&p, sizeof p));
  p.iterations = 8;
  p.factors = 16;
  p.progress = record_loss;
  assert_ok(prism_ranker_train_coo(&r, d.users, d.items, d.n_train, d.train_user, d.train_item,
                                   NULL, &p));
  for (int i = 1; i < 8; i++)
    assert_true(losses[i] <= losses[i - 1] * 1.0001);
  assert_true(losses[7] < losses[0]);
  prism_ranker_free(r);
  synth_free(&d);
}

/* Training that produces NaN or infinity stops at once with PRISM_ERR_NUMERIC naming the cause. */
static int diverge_calls;

static int count_progress(int iteration, int total, double loss, void *payload)
{
  (void)iteration;
  (void)total;
  (void)loss;
  (void)payload;
  diverge_calls++;
  return 1;
}

static void test_divergence_is_numeric(void **state)
{
  (void)state;
  synth_data d;
  assert_int_equal(synth_generate(&d, 50, 200, 4, 10, 0.2, 3), 0);
  float *huge = malloc(d.n_train * sizeof *huge);
  assert_non_null(huge);
  for (size_t e = 0; e < d.n_train; e++)
    huge[e] = 3.0e38f;
  for (int a = PRISM_RANKER_ALS; a <= PRISM_RANKER_MF; a++) {
    prism_ranker_params p;
    prism_ranker *r = (prism_ranker *)&d;
    assert_ok(prism_ranker_params_init(&p, sizeof p));
    p.algorithm = a;
    p.iterations = 6;
    p.progress = count_progress;
    if (a == PRISM_RANKER_ALS)
      p.alpha = 1.0e30f; /* confidences overflow to infinity */
    else
      p.learning_rate = 1.0e30f;
    diverge_calls = 0;
    assert_status(prism_ranker_train_coo(&r, d.users, d.items, d.n_train, d.train_user,
                                         d.train_item, huge, &p),
                  PRISM_ERR_NUMERIC);
    assert_null(r);
    assert_int_equal(diverge_calls, 0); /* stopped in the first iteration */
    assert_error_begins("prism_ranker_train_coo: ");
    assert_error_mentions(a == PRISM_RANKER_ALS   ? "ALS training diverged at iteration 1"
                          : a == PRISM_RANKER_BPR ? "BPR training diverged at iteration 1"
                                                  : "MF training diverged at iteration 1");
    if (a == PRISM_RANKER_ALS) {
      assert_null(strstr(prism_last_error(), "learning"));
      assert_error_mentions("alpha");
    } else {
      assert_error_mentions("learning_rate");
    }
  }
  free(huge);
  synth_free(&d);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cg_matches_dense),
    cmocka_unit_test(test_fold_in_by_hand),
    cmocka_unit_test(test_training_reaches_fixed_point),
    cmocka_unit_test(test_thread_count_independent),
    cmocka_unit_test(test_seeded),
    cmocka_unit_test(test_fold_in_matches_trained),
    cmocka_unit_test(test_mf_fold_in_minimises),
    cmocka_unit_test(test_explain_sums_to_score),
    cmocka_unit_test(test_progress_and_cancel),
    cmocka_unit_test(test_als_loss_decreases),
    cmocka_unit_test(test_divergence_is_numeric),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
