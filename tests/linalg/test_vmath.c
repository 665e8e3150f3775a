/*
 * exp and GELU over arrays (prism__linalg_exp, prism__linalg_gelu): accuracy
 * against the C library in double, and the same bits from every ISA path and
 * for any split of an array (ragged tails run through the vector code).
 */
#include <float.h>
#include <math.h>

#include "../testutil.h"
#include "common/cpu.h"
#include "linalg/linalg.h"

#define N_GRID 200003

static const int feature_sets[] = { 0, PRISM__CPU_AVX2, PRISM__CPU_AVX2 | PRISM__CPU_AVX512 };

static float *grid(float lo, float hi)
{
  float *x = malloc(N_GRID * sizeof *x);
  assert_non_null(x);
  for (size_t i = 0; i < N_GRID; i++)
    x[i] = lo + (hi - lo) * (float)i / (float)(N_GRID - 1);
  return x;
}

static double gelu_ref(double x)
{
  return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
}

static void test_exp_accuracy(void **state)
{
  float *x = grid(-87.0f, 88.0f), *y = malloc(N_GRID * sizeof *y);
  double worst = 0.0;
  (void)state;
  assert_non_null(y);
  for (size_t s = 0; s < sizeof feature_sets / sizeof *feature_sets; s++) {
    if (!prism__linalg_force_features(feature_sets[s]))
      continue;
    prism__linalg_exp(y, x, N_GRID);
    for (size_t i = 0; i < N_GRID; i++) {
      double ref = exp((double)x[i]), err = fabs(y[i] - ref) / ref;
      worst = fmax(worst, err);
      if (!(err <= 3e-7))
        fail_msg("exp(%.9g) = %.9g, want %.9g (features %d)", x[i], y[i], ref, feature_sets[s]);
    }
  }
  prism__linalg_force_features(-1);
  printf("exp: worst relative error %.3g\n", worst);
  /* Far below: the clamp gives about 1e-38, not 0; exp(0) is 1; NaN and +inf pass through. */
  for (size_t s = 0; s < sizeof feature_sets / sizeof *feature_sets; s++) {
    if (!prism__linalg_force_features(feature_sets[s]))
      continue;
    x[0] = -1000.0f, x[1] = 0.0f, x[2] = -INFINITY, x[3] = NAN, x[4] = INFINITY;
    prism__linalg_exp(y, x, 5);
    assert_true(y[0] > 0.0f && y[0] < 2e-38f);
    assert_true(y[1] == 1.0f);
    assert_true(y[2] > 0.0f && y[2] < 2e-38f);
    assert_true(isnan(y[3]));
    assert_true(isinf(y[4]) && y[4] > 0.0f);
  }
  prism__linalg_force_features(-1);
  free(x);
  free(y);
}

static void test_gelu_accuracy(void **state)
{
  float *x = grid(-12.0f, 12.0f), *y = malloc(N_GRID * sizeof *y);
  double worst = 0.0;
  (void)state;
  assert_non_null(y);
  for (size_t s = 0; s < sizeof feature_sets / sizeof *feature_sets; s++) {
    if (!prism__linalg_force_features(feature_sets[s]))
      continue;
    memcpy(y, x, N_GRID * sizeof *y);
    prism__linalg_gelu(y, N_GRID);
    for (size_t i = 0; i < N_GRID; i++) {
      double ref = gelu_ref(x[i]), err = fabs(y[i] - ref) / fmax(1.0, fabs((double)x[i]));
      worst = fmax(worst, err);
      if (!(err <= 2e-7))
        fail_msg("gelu(%.9g) = %.9g, want %.9g (features %d)", x[i], y[i], ref, feature_sets[s]);
    }
  }
  prism__linalg_force_features(-1);
  printf("gelu: worst error %.3g of max(1, |x|)\n", worst);
  x[0] = 0.0f, x[1] = -0.0f, x[2] = 1e30f, x[3] = -1e30f, x[4] = NAN;
  prism__linalg_gelu(x, 5);
  assert_true(x[0] == 0.0f && x[1] == 0.0f);
  assert_true(x[2] == 1e30f && x[3] == 0.0f);
  assert_true(isnan(x[4]));
  free(x);
  free(y);
}

/* Every ISA gives the bits of the portable build, and so does any split of the array. */
static void test_same_bits(void **state)
{
  float *x = grid(-20.0f, 20.0f), *ref_e = malloc(N_GRID * 4), *ref_g = malloc(N_GRID * 4);
  float *e = malloc(N_GRID * 4), *g = malloc(N_GRID * 4);
  (void)state;
  assert_true(ref_e && ref_g && e && g);
  assert_true(prism__linalg_force_features(0));
  prism__linalg_exp(ref_e, x, N_GRID);
  memcpy(ref_g, x, N_GRID * 4);
  prism__linalg_gelu(ref_g, N_GRID);
  for (size_t s = 1; s < sizeof feature_sets / sizeof *feature_sets; s++) {
    if (!prism__linalg_force_features(feature_sets[s]))
      continue;
    for (size_t split = 0; split < 40; split += 7) {
      prism__linalg_exp(e, x, split);
      prism__linalg_exp(e + split, x + split, N_GRID - split);
      memcpy(g, x, N_GRID * 4);
      prism__linalg_gelu(g, split);
      prism__linalg_gelu(g + split, N_GRID - split);
      assert_memory_equal(e, ref_e, N_GRID * 4);
      assert_memory_equal(g, ref_g, N_GRID * 4);
    }
  }
  prism__linalg_force_features(-1);
  free(x), free(ref_e), free(ref_g), free(e), free(g);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_exp_accuracy),
    cmocka_unit_test(test_gelu_accuracy),
    cmocka_unit_test(test_same_bits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
