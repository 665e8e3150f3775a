/*
 * Skinny GEMM: every kernel family this CPU has (forced through the test hook)
 * against a double-precision reference, over ragged M/N/K, padded strides,
 * bias and accumulate; bitwise determinism across thread counts; bf16 rounding.
 *
 * Tolerance: |y - ref| <= (K + 16) * FLT_EPSILON * (sum_k |x_k w_k| + |bias| + |y0|),
 * the classic bound for a float32 dot product in any summation order. The bf16
 * paths are checked against a reference built from the operands they really
 * multiply (W rounded to bf16; with vdpbf16ps X too), so the same bound holds
 * and a wrong or missing element still stands out.
 */
#include <float.h>
#include <math.h>

#include "../testutil.h"
#include "linalg/linalg.h"

typedef struct {
  size_t M, N, K, ldx, ldw, ldy;
  float *X, *W, *Y, *Y0, *bias;
  uint16_t *Wh; /* W rounded to bf16 */
} problem;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static float uniform(void)
{
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((double)(rng_state >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
}

static void fill(float *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    p[i] = uniform();
}

/* Strides are padded so a kernel that ignores them reads the wrong data. */
static void problem_init(problem *p, size_t M, size_t N, size_t K)
{
  p->M = M, p->N = N, p->K = K;
  p->ldx = K + 3, p->ldw = K + 5, p->ldy = N + 2;
  p->X = malloc(M * p->ldx * sizeof(float));
  p->W = malloc(N * p->ldw * sizeof(float));
  p->Wh = malloc(N * p->ldw * sizeof(uint16_t));
  p->Y = malloc(M * p->ldy * sizeof(float));
  p->Y0 = malloc(M * p->ldy * sizeof(float));
  p->bias = malloc(N * sizeof(float));
  assert_true(p->X && p->W && p->Wh && p->Y && p->Y0 && p->bias);
  fill(p->X, M * p->ldx);
  fill(p->W, N * p->ldw);
  fill(p->Y0, M * p->ldy);
  fill(p->bias, N);
  prism__linalg_bf16_from_f32(p->Wh, p->W, N * p->ldw);
}

static void problem_free(problem *p)
{
  free(p->X), free(p->W), free(p->Wh), free(p->Y), free(p->Y0), free(p->bias);
}

enum { KIND_F32, KIND_BF16, KIND_LINEAR };

/* Runs one call of the given kind, flags/bias as given. */
static void run(const problem *p, int kind, int use_bias, unsigned flags)
{
  memcpy(p->Y, p->Y0, p->M * p->ldy * sizeof(float));
  if (kind == KIND_LINEAR)
    prism__linalg_linear(p->M, p->N, p->K, p->X, p->ldx, p->W, p->ldw, use_bias ? p->bias : NULL,
                         p->Y, p->ldy, flags);
  else if (kind == KIND_BF16)
    prism__linalg_skinny_gemm_bf16(p->M, p->N, p->K, p->X, p->ldx, p->Wh, p->ldw,
                                   use_bias ? p->bias : NULL, p->Y, p->ldy, flags);
  else
    prism__linalg_skinny_gemm(p->M, p->N, p->K, p->X, p->ldx, p->W, p->ldw,
                              use_bias ? p->bias : NULL, p->Y, p->ldy, flags);
}

/* Checks every output (and that padding between rows of Y is untouched). */
static void check(const problem *p, int bf16_w, int bf16_x, int use_bias, unsigned flags)
{
  int acc = (flags & PRISM__LINALG_SKINNY_ACCUMULATE) != 0;
  for (size_t m = 0; m < p->M; m++) {
    for (size_t n = 0; n < p->ldy; n++) {
      double ref = 0.0, mag = 0.0, err;
      float got = p->Y[m * p->ldy + n], y0 = p->Y0[m * p->ldy + n];
      if (n >= p->N) {
        assert_memory_equal(&got, &y0, sizeof got);
        continue;
      }
      for (size_t k = 0; k < p->K; k++) {
        float x = p->X[m * p->ldx + k];
        float w = bf16_w ? prism__linalg_bf16_to_f32(p->Wh[n * p->ldw + k]) : p->W[n * p->ldw + k];
        if (bf16_x)
          x = prism__linalg_bf16_to_f32(prism__linalg_bf16_round(x));
        ref += (double)x * w;
        mag += fabs((double)x * w);
      }
      if (use_bias)
        ref += p->bias[n], mag += fabs(p->bias[n]);
      if (acc)
        ref += y0, mag += fabs(y0);
      err = fabs((double)got - ref);
      if (!(err <= (double)(p->K + 16) * FLT_EPSILON * mag + 1e-30))
        fail_msg("M=%zu N=%zu K=%zu m=%zu n=%zu bf16=%d/%d bias=%d acc=%d: got %.9g want %.9g",
                 p->M, p->N, p->K, m, n, bf16_w, bf16_x, use_bias, acc, got, ref);
    }
  }
}

static const size_t Ms[] = { 1, 2, 3, 4, 5, 6, 7, 8, 10, 13, 16, 17, 40 };
static const size_t Ns[] = { 1, 3, 4, 5, 9, 64, 131 };
static const size_t Ks[] = { 1, 7, 8, 15, 16, 17, 31, 32, 33, 47, 100, 771 };

static void sweep(prism__linalg_skinny_isa isa, int bf16)
{
  if (!prism__linalg_skinny_force_isa((int)isa))
    skip();
  assert_int_equal(prism__linalg_skinny_isa_active(), isa);
  for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++)
    for (size_t b = 0; b < sizeof Ns / sizeof *Ns; b++)
      for (size_t c = 0; c < sizeof Ks / sizeof *Ks; c++) {
        problem p;
        unsigned variant = (unsigned)(a + b + c) % 4; /* bias x accumulate, spread over shapes */
        int use_bias = variant & 1;
        unsigned flags = (variant & 2) ? PRISM__LINALG_SKINNY_ACCUMULATE : 0;
        problem_init(&p, Ms[a], Ns[b], Ks[c]);
        run(&p, bf16 ? KIND_BF16 : KIND_F32, use_bias, flags);
        check(&p, bf16, bf16 && isa == PRISM__LINALG_SKINNY_AVX512BF16, use_bias, flags);
        problem_free(&p);
      }
  prism__linalg_skinny_force_isa(-1);
}

static void test_f32_portable(void **state)
{
  (void)state;
  sweep(PRISM__LINALG_SKINNY_PORTABLE, 0);
}
static void test_f32_avx2(void **state)
{
  (void)state;
  sweep(PRISM__LINALG_SKINNY_AVX2, 0);
}
static void test_f32_avx512(void **state)
{
  (void)state;
  sweep(PRISM__LINALG_SKINNY_AVX512, 0);
}
static void test_bf16_portable(void **state)
{
  (void)state;
  sweep(PRISM__LINALG_SKINNY_PORTABLE, 1);
}
static void test_bf16_avx2(void **state)
{
  (void)state;
  sweep(PRISM__LINALG_SKINNY_AVX2, 1);
}
static void test_bf16_avx512(void **state)
{
  (void)state;
  sweep(PRISM__LINALG_SKINNY_AVX512, 1);
}
static void test_bf16_avx512bf16(void **state)
{
  (void)state;
  sweep(PRISM__LINALG_SKINNY_AVX512BF16, 1);
}

/* prism__linalg_linear: the same contract on both sides of the SGEMM threshold. */
static void test_linear(void **state)
{
  static const size_t rows[] = { 1, 5, PRISM__LINALG_SKINNY_MAX_M, PRISM__LINALG_SKINNY_MAX_M + 1,
                                 40 };
  (void)state;
  for (size_t a = 0; a < sizeof rows / sizeof *rows; a++)
    for (unsigned variant = 0; variant < 4; variant++) {
      problem p;
      unsigned flags = (variant & 2) ? PRISM__LINALG_SKINNY_ACCUMULATE : 0;
      problem_init(&p, rows[a], 67, 129);
      run(&p, KIND_LINEAR, variant & 1, flags);
      check(&p, 0, 0, variant & 1, flags);
      problem_free(&p);
    }
}

/* The automatic choice is the best family the CPU offers, and it is not worse than forced ones. */
static void test_auto_dispatch(void **state)
{
  (void)state;
  prism__linalg_skinny_force_isa(-1);
  prism__linalg_skinny_isa best = prism__linalg_skinny_isa_active();
  assert_true(prism__linalg_skinny_isa_available(best));
  for (int isa = (int)best + 1; isa <= PRISM__LINALG_SKINNY_AVX512BF16; isa++)
    assert_false(prism__linalg_skinny_isa_available((prism__linalg_skinny_isa)isa));
  assert_false(prism__linalg_skinny_force_isa(PRISM__LINALG_SKINNY_AVX512BF16 + 1));
  assert_int_equal(prism__linalg_skinny_isa_active(), best);
}

/* Same bits for 1, 2 and 3 threads: each output has one owner and a fixed order. The
 * second pass lowers the count after the pool has grown (workers left idle). */
static void test_deterministic_across_threads(void **state)
{
  (void)state;
  for (int bf16 = 0; bf16 <= 1; bf16++) {
    problem p;
    float *first;
    problem_init(&p, 10, 3001, 768);
    first = malloc(p.M * p.ldy * sizeof(float));
    assert_non_null(first);
    for (int threads = 1; threads <= 3; threads++) {
      assert_int_equal(prism_set_num_threads(threads), threads);
      run(&p, bf16 ? KIND_BF16 : KIND_F32, 1, 0);
      if (threads == 1)
        memcpy(first, p.Y, p.M * p.ldy * sizeof(float));
      else
        assert_memory_equal(first, p.Y, p.M * p.ldy * sizeof(float));
    }
    /* Splitting N by hand gives the same bits as one call. */
    memcpy(p.Y, p.Y0, p.M * p.ldy * sizeof(float));
    if (bf16) {
      prism__linalg_skinny_gemm_bf16(p.M, 1234, p.K, p.X, p.ldx, p.Wh, p.ldw, p.bias, p.Y, p.ldy,
                                     0);
      prism__linalg_skinny_gemm_bf16(p.M, p.N - 1234, p.K, p.X, p.ldx, p.Wh + 1234 * p.ldw, p.ldw,
                                     p.bias + 1234, p.Y + 1234, p.ldy, 0);
    } else {
      prism__linalg_skinny_gemm(p.M, 1234, p.K, p.X, p.ldx, p.W, p.ldw, p.bias, p.Y, p.ldy, 0);
      prism__linalg_skinny_gemm(p.M, p.N - 1234, p.K, p.X, p.ldx, p.W + 1234 * p.ldw, p.ldw,
                                p.bias + 1234, p.Y + 1234, p.ldy, 0);
    }
    assert_memory_equal(first, p.Y, p.M * p.ldy * sizeof(float));
    free(first);
    problem_free(&p);
  }
  prism_set_num_threads(1);
}

static void test_bf16_rounding(void **state)
{
  (void)state;
  assert_int_equal(prism__linalg_bf16_round(1.0f), 0x3f80);
  assert_int_equal(prism__linalg_bf16_round(-2.0f), 0xc000);
  /* 1 + 2^-8 is a tie: to even (down); 1 + 3 * 2^-8 ties up to even. */
  assert_int_equal(prism__linalg_bf16_round(1.00390625f), 0x3f80);
  assert_int_equal(prism__linalg_bf16_round(1.01171875f), 0x3f82);
  assert_int_equal(prism__linalg_bf16_round(nextafterf(1.00390625f, 2.0f)),
                   0x3f81); /* above the tie */
  assert_int_equal(prism__linalg_bf16_round(INFINITY), 0x7f80);
  assert_int_equal(prism__linalg_bf16_round(FLT_MAX), 0x7f80); /* overflows to inf, as RNE must */
  assert_true(isnan(prism__linalg_bf16_to_f32(prism__linalg_bf16_round(NAN))));
  assert_true(prism__linalg_bf16_to_f32(0x3f80) == 1.0f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_bf16_rounding),   cmocka_unit_test(test_auto_dispatch),
    cmocka_unit_test(test_f32_portable),    cmocka_unit_test(test_f32_avx2),
    cmocka_unit_test(test_f32_avx512),      cmocka_unit_test(test_bf16_portable),
    cmocka_unit_test(test_bf16_avx2),       cmocka_unit_test(test_bf16_avx512),
    cmocka_unit_test(test_bf16_avx512bf16), cmocka_unit_test(test_deterministic_across_threads),
    cmocka_unit_test(test_linear),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
