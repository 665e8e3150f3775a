/*
 * Weight products (prism__linalg_matmul): every kernel family this CPU has,
 * forced through the test hook, for float32, bfloat16 and Q8 weights, over
 * ragged M/N/K (small M and the panel path of large M), padded strides, bias
 * and accumulate; bitwise determinism across thread counts, splits and M;
 * Q8 results bitwise identical on every ISA; bf16 rounding and Q8 packing.
 *
 * Tolerance for float32 and bfloat16: |y - ref| <= (K + 16) * FLT_EPSILON *
 * (sum_k |x_k w_k| + |bias| + |y0|), the classic bound for a float32 dot
 * product in any summation order. The bf16 paths are checked against a
 * reference built from the operands they really multiply (W rounded to bf16;
 * with vdpbf16ps X too), so the same bound holds and a wrong or missing
 * element still stands out. Q8 is checked twice: bit for bit against a scalar
 * reference over the quantised operands (the integer sum is exact, the
 * epilogue is fixed), and against the float32 product within the error the
 * two quantisations allow.
 */
#include <float.h>
#include <math.h>

#include "../testutil.h"
#include "common/cpu.h"
#include "linalg/linalg.h"

typedef struct {
  size_t M, N, K, ldx, ldw, ldy;
  float *X, *W, *Y, *Y0, *bias;
  uint16_t *Wh; /* W rounded to bf16 */
  int8_t *Wq;   /* W as Q8 */
  float *wscale;
  int32_t *wsum;
  void *scratch;
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
  prism__linalg_weight q8 = { PRISM__LINALG_W_Q8, N, K, NULL, 0, NULL, NULL };
  prism__linalg_weight bf = { PRISM__LINALG_W_BF16, N, K, NULL, 0, NULL, NULL };
  size_t s1 = prism__linalg_matmul_scratch(M, &q8), s2 = prism__linalg_matmul_scratch(M, &bf);
  p->M = M, p->N = N, p->K = K;
  p->ldx = K + 3, p->ldw = K + 5, p->ldy = N + 2;
  p->X = malloc(M * p->ldx * sizeof(float));
  p->W = malloc(N * p->ldw * sizeof(float));
  p->Wh = malloc(N * p->ldw * sizeof(uint16_t));
  p->Wq = malloc(N * prism__linalg_q8_ld(K));
  p->wscale = malloc(N * sizeof(float));
  p->wsum = malloc(N * sizeof(int32_t));
  p->Y = malloc(M * p->ldy * sizeof(float));
  p->Y0 = malloc(M * p->ldy * sizeof(float));
  p->bias = malloc(N * sizeof(float));
  p->scratch = aligned_alloc(64, ((s1 > s2 ? s1 : s2) + 63) / 64 * 64 + 64);
  assert_true(p->X && p->W && p->Wh && p->Wq && p->wscale && p->wsum && p->Y && p->Y0 && p->bias &&
              p->scratch);
  fill(p->X, M * p->ldx);
  fill(p->W, N * p->ldw);
  fill(p->Y0, M * p->ldy);
  fill(p->bias, N);
  prism__linalg_bf16_from_f32(p->Wh, p->W, N * p->ldw);
  assert_int_equal(prism__linalg_q8_quantize(p->Wq, prism__linalg_q8_ld(K), p->wscale, p->wsum,
                                             p->W, p->ldw, N, K),
                   0);
}

static void problem_free(problem *p)
{
  free(p->X), free(p->W), free(p->Wh), free(p->Wq), free(p->wscale), free(p->wsum);
  free(p->Y), free(p->Y0), free(p->bias), free(p->scratch);
}

static prism__linalg_weight weight(const problem *p, prism__linalg_wtype type)
{
  prism__linalg_weight w = prism__linalg_weight_f32(p->W, p->N, p->K, p->ldw);
  if (type == PRISM__LINALG_W_BF16) {
    w.type = type;
    w.data = p->Wh;
  } else if (type == PRISM__LINALG_W_Q8) {
    w = prism__linalg_weight_q8(p->Wq, p->wscale, p->wsum, p->N, p->K);
  }
  return w;
}

/* Runs one product of the given type, flags/bias as given (KIND_LINEAR: prism__linalg_linear). */
enum { KIND_LINEAR = 3 };

static void run(const problem *p, int kind, int use_bias, unsigned flags)
{
  memcpy(p->Y, p->Y0, p->M * p->ldy * sizeof(float));
  if (kind == KIND_LINEAR) {
    prism__linalg_linear(p->M, p->N, p->K, p->X, p->ldx, p->W, p->ldw, use_bias ? p->bias : NULL,
                         p->Y, p->ldy, flags);
  } else {
    prism__linalg_weight w = weight(p, (prism__linalg_wtype)kind);
    prism__linalg_matmul(p->M, p->X, p->ldx, &w, use_bias ? p->bias : NULL, p->Y, p->ldy, flags,
                         p->scratch);
  }
}

/* Checks a float32 or bf16 result (and that padding between rows of Y is untouched). */
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

/*
 * Q8 reference: X rows quantised as the library specifies (asymmetric 8 bits,
 * scale (hi - lo) / 255 over [min(x, 0), max(x, 0)], zero point
 * round(-lo * 255 / (hi - lo))), the integer sum in 64 bits, then the
 * documented epilogue in float. The result must match bit for bit; it must
 * also be within the quantisation error of the float32 product.
 */
static void check_q8(const problem *p, int use_bias, unsigned flags)
{
  int acc = (flags & PRISM__LINALG_SKINNY_ACCUMULATE) != 0;
  size_t ldq = prism__linalg_q8_ld(p->K);
  for (size_t m = 0; m < p->M; m++) {
    const float *x = p->X + m * p->ldx;
    float lo = 0.0f, hi = 0.0f, sx, inv;
    int32_t z;
    for (size_t k = 0; k < p->K; k++)
      lo = fminf(lo, x[k]), hi = fmaxf(hi, x[k]);
    sx = hi - lo > 0.0f ? (hi - lo) / 255.0f : 0.0f;
    inv = hi - lo > 0.0f ? 255.0f / (hi - lo) : 0.0f;
    z = (int32_t)rintf(-lo * inv);
    for (size_t n = 0; n < p->ldy; n++) {
      float got = p->Y[m * p->ldy + n], y0 = p->Y0[m * p->ldy + n], want, scale;
      int64_t sum = 0;
      double exact = 0.0, bound = 0.0, sw;
      if (n >= p->N) {
        assert_memory_equal(&got, &y0, sizeof got);
        continue;
      }
      sw = p->wscale[n];
      for (size_t k = 0; k < p->K; k++) {
        float u = fminf(fmaxf(rintf(x[k] * inv) + (float)z, 0.0f), 255.0f);
        float w = p->W[n * p->ldw + k];
        sum += (int64_t)u * p->Wq[n * ldq + k];
        exact += (double)x[k] * w;
        bound += fabs((double)x[k]) * sw / 2 + fabs((double)w) * sx / 2 + sx * sw / 4;
      }
      scale = sx * p->wscale[n];
      want = (float)((int32_t)sum - z * p->wsum[n]) * scale;
      if (use_bias)
        want += p->bias[n], exact += p->bias[n];
      if (acc)
        want = y0 + want, exact += y0;
      if (memcmp(&got, &want, sizeof got) != 0)
        fail_msg("Q8 M=%zu N=%zu K=%zu m=%zu n=%zu bias=%d acc=%d: got %.9g, reference %.9g", p->M,
                 p->N, p->K, m, n, use_bias, acc, got, want);
      if (!(fabs((double)got - exact) <= bound * 1.01 + 1e-5 * (fabs(exact) + 1.0)))
        fail_msg("Q8 M=%zu N=%zu K=%zu m=%zu n=%zu: %.9g is %.3g from the float product %.9g "
                 "(bound %.3g)",
                 p->M, p->N, p->K, m, n, got, fabs(got - exact), exact, bound);
    }
  }
}

static const size_t Ms[] = { 1, 2, 3, 4, 5, 6, 7, 8, 10, 13, 16, 17, 40, 48, 49, 97, 130 };
static const size_t Ns[] = { 1, 3, 4, 5, 9, 64, 131 };
static const size_t Ks[] = { 1, 7, 8, 15, 16, 17, 31, 32, 33, 47, 64, 65, 100, 771 };

/* Feature sets naming each family: a test forces one and checks it is the one that runs. */
#define F_AVX2 PRISM__CPU_AVX2
#define F_AVX512 (PRISM__CPU_AVX2 | PRISM__CPU_AVX512)
#define F_BF16 (F_AVX512 | PRISM__CPU_AVX512BF16)
#define F_VNNI (F_AVX512 | PRISM__CPU_AVX512VNNI)

static void sweep(int features, prism__linalg_wtype type, const char *family)
{
  if (!prism__linalg_force_features(features))
    skip();
  assert_string_equal(prism__linalg_kernel_name(type), family);
  for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++)
    for (size_t b = 0; b < sizeof Ns / sizeof *Ns; b++)
      for (size_t c = 0; c < sizeof Ks / sizeof *Ks; c++) {
        problem p;
        unsigned variant = (unsigned)(a + b + c) % 4; /* bias x accumulate, spread over shapes */
        int use_bias = variant & 1;
        unsigned flags = (variant & 2) ? PRISM__LINALG_SKINNY_ACCUMULATE : 0;
        if (Ms[a] > 40 && (Ks[c] % 16) != 1 && Ks[c] != 771)
          continue; /* the panel path: a few K suffice */
        problem_init(&p, Ms[a], Ns[b], Ks[c]);
        run(&p, (int)type, use_bias, flags);
        if (type == PRISM__LINALG_W_Q8)
          check_q8(&p, use_bias, flags);
        else
          check(&p, type == PRISM__LINALG_W_BF16,
                type == PRISM__LINALG_W_BF16 && strcmp(family, "avx512bf16") == 0, use_bias, flags);
        problem_free(&p);
      }
  prism__linalg_force_features(-1);
}

#define SWEEP_TEST(name, features, type, family) \
  static void name(void **state) \
  { \
    (void)state; \
    sweep((features), (type), (family)); \
  }

SWEEP_TEST(test_f32_portable, 0, PRISM__LINALG_W_F32, "portable")
SWEEP_TEST(test_f32_avx2, F_AVX2, PRISM__LINALG_W_F32, "avx2")
SWEEP_TEST(test_f32_avx512, F_AVX512, PRISM__LINALG_W_F32, "avx512")
SWEEP_TEST(test_bf16_portable, 0, PRISM__LINALG_W_BF16, "portable")
SWEEP_TEST(test_bf16_avx2, F_AVX2, PRISM__LINALG_W_BF16, "avx2")
SWEEP_TEST(test_bf16_avx512, F_AVX512, PRISM__LINALG_W_BF16, "avx512")
SWEEP_TEST(test_bf16_avx512bf16, F_BF16, PRISM__LINALG_W_BF16, "avx512bf16")
SWEEP_TEST(test_q8_portable, 0, PRISM__LINALG_W_Q8, "portable")
SWEEP_TEST(test_q8_avx2, F_AVX2, PRISM__LINALG_W_Q8, "avx2")
SWEEP_TEST(test_q8_avx512vnni, F_VNNI, PRISM__LINALG_W_Q8, "avx512vnni")

/* Q8: every family gives the same bits (the X bytes, the exact sums, one epilogue). */
static void test_q8_same_on_every_isa(void **state)
{
  static const int sets[] = { 0, F_AVX2, F_AVX512, F_VNNI };
  problem p;
  float *first;
  int ran = 0;
  (void)state;
  problem_init(&p, 11, 203, 771);
  first = malloc(p.M * p.ldy * sizeof(float));
  assert_non_null(first);
  for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
    if (!prism__linalg_force_features(sets[i]))
      continue;
    run(&p, PRISM__LINALG_W_Q8, 1, 0);
    if (ran++ == 0)
      memcpy(first, p.Y, p.M * p.ldy * sizeof(float));
    else
      assert_memory_equal(first, p.Y, p.M * p.ldy * sizeof(float));
  }
  prism__linalg_force_features(-1);
  free(first);
  problem_free(&p);
}

/* prism__linalg_linear: training's path (FIXED: SGEMM above 48 rows) and inference's. */
static void test_linear(void **state)
{
  static const size_t rows[] = { 1,  5,  PRISM__LINALG_SKINNY_MAX_M, PRISM__LINALG_SKINNY_MAX_M + 1,
                                 40, 200 };
  (void)state;
  for (size_t a = 0; a < sizeof rows / sizeof *rows; a++)
    for (unsigned variant = 0; variant < 8; variant++) {
      problem p;
      unsigned flags = ((variant & 2) ? PRISM__LINALG_SKINNY_ACCUMULATE : 0) |
                       ((variant & 4) ? PRISM__LINALG_FIXED : 0);
      problem_init(&p, rows[a], 67, 129);
      run(&p, KIND_LINEAR, variant & 1, flags);
      check(&p, 0, 0, variant & 1, flags);
      problem_free(&p);
    }
}

/* The automatic choice uses every feature the CPU offers; a mask beyond it is refused. */
static void test_auto_dispatch(void **state)
{
  unsigned cpu = prism__cpu_flags();
  (void)state;
  prism__linalg_force_features(-1);
  assert_int_equal(prism__linalg_features() & ~cpu, 0);
  if ((cpu & F_VNNI) == F_VNNI)
    assert_string_equal(prism__linalg_kernel_name(PRISM__LINALG_W_Q8), "avx512vnni");
  if ((cpu & F_BF16) == F_BF16)
    assert_string_equal(prism__linalg_kernel_name(PRISM__LINALG_W_BF16),
                        (cpu & PRISM__CPU_AVX512FP16) ? "avx512" : "avx512bf16");
  if ((cpu & F_AVX512) == F_AVX512)
    assert_string_equal(prism__linalg_kernel_name(PRISM__LINALG_W_F32), "avx512");
  if (!(cpu & PRISM__CPU_AVX2))
    assert_string_equal(prism__linalg_kernel_name(PRISM__LINALG_W_F32), "portable");
  if ((cpu & F_VNNI) != F_VNNI) {
    assert_false(prism__linalg_force_features(F_VNNI));
    assert_int_equal(prism__linalg_features(), prism__cpu_flags() & prism__linalg_features());
  }
  assert_false(prism__linalg_force_features(1 << 20));
}

/*
 * Same bits for 1, 2 and 3 threads (each output has one owner and a fixed
 * order), for a hand split of N, and for each row computed alone (M = 1): a
 * row's result does not depend on the rows batched with it. The second pass
 * over threads lowers the count after the pool has grown.
 */
static void test_deterministic(void **state)
{
  static const size_t Mtests[] = { 10, 130 };
  (void)state;
  for (size_t mi = 0; mi < 2; mi++)
    for (int type = 0; type <= 2; type++) {
      problem p;
      prism__linalg_weight w, part;
      float *first;
      problem_init(&p, Mtests[mi], 3001, 768);
      first = malloc(p.M * p.ldy * sizeof(float));
      assert_non_null(first);
      for (int threads = 1; threads <= 3; threads++) {
        assert_int_equal(prism_set_num_threads(threads), threads);
        run(&p, type, 1, 0);
        if (threads == 1)
          memcpy(first, p.Y, p.M * p.ldy * sizeof(float));
        else
          assert_memory_equal(first, p.Y, p.M * p.ldy * sizeof(float));
      }
      /* Splitting N by hand gives the same bits as one call. */
      memcpy(p.Y, p.Y0, p.M * p.ldy * sizeof(float));
      w = weight(&p, (prism__linalg_wtype)type);
      part = w;
      part.N = 1234;
      prism__linalg_matmul(p.M, p.X, p.ldx, &part, p.bias, p.Y, p.ldy, 0, p.scratch);
      part.N = p.N - 1234;
      part.data = (const char *)w.data + 1234 * w.ld *
                                             (type == 0   ? sizeof(float)
                                              : type == 1 ? sizeof(uint16_t)
                                                          : 1);
      if (type == PRISM__LINALG_W_Q8)
        part.scale = w.scale + 1234, part.rowsum = w.rowsum + 1234;
      prism__linalg_matmul(p.M, p.X, p.ldx, &part, p.bias + 1234, p.Y + 1234, p.ldy, 0, p.scratch);
      assert_memory_equal(first, p.Y, p.M * p.ldy * sizeof(float));
      /* Each row alone. */
      for (size_t m = 0; m < p.M; m += 7) {
        memcpy(p.Y, p.Y0, p.ldy * sizeof(float));
        prism__linalg_matmul(1, p.X + m * p.ldx, p.ldx, &w, p.bias, p.Y, p.ldy, 0, p.scratch);
        assert_memory_equal(first + m * p.ldy, p.Y, p.N * sizeof(float));
      }
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

/* Q8 packing: per-row symmetric scale, round to nearest even, padding zero, row sums. */
static void test_q8_quantize(void **state)
{
  const float W[3][5] = { { 1.0f, -0.5f, 0.25f, 0.0f, -1.0f },
                          { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f },
                          { 2.54f, 0.01f, -0.03f, 1.27f, 0.015f } };
  size_t ld = prism__linalg_q8_ld(5);
  int8_t q[3 * 64];
  float scale[3];
  int32_t sum[3];
  float bad[2] = { 1.0f, NAN }, tiny[2] = { 1e-38f, -2e-39f };
  (void)state;
  assert_int_equal(ld, 64);
  assert_int_equal(prism__linalg_q8_ld(64), 64);
  assert_int_equal(prism__linalg_q8_ld(65), 128);
  memset(q, 0x55, sizeof q);
  assert_int_equal(prism__linalg_q8_quantize(q, ld, scale, sum, &W[0][0], 5, 3, 5), 0);
  assert_true(scale[0] == 1.0f / 127.0f);
  assert_int_equal(q[0], 127);
  assert_int_equal(q[1], -64); /* -63.5 ties to even */
  assert_int_equal(q[2], 32);  /* 31.75 */
  assert_int_equal(q[3], 0);
  assert_int_equal(q[4], -127);
  assert_int_equal(sum[0], 127 - 64 + 32 - 127);
  assert_true(scale[1] == 0.0f);
  assert_int_equal(sum[1], 0);
  assert_int_equal(q[2 * ld + 0], 127);
  assert_int_equal(q[2 * ld + 3], 64); /* 63.5 ties to even */
  for (size_t k = 5; k < ld; k++)
    assert_int_equal(q[k], 0);
  assert_int_equal(prism__linalg_q8_quantize(q, ld, scale, sum, bad, 2, 1, 2), -1);
  /* A row too small for 127 / max|w| to be finite counts as zeros (no inf, no NaN cast). */
  assert_int_equal(prism__linalg_q8_quantize(q, ld, scale, sum, tiny, 2, 1, 2), 0);
  assert_true(scale[0] == 0.0f);
  assert_int_equal(q[0], 0);
  assert_int_equal(q[1], 0);
  assert_int_equal(sum[0], 0);
}

/* X quantisation: NaN/inf propagate to NaN outputs; a zero or vanishingly small row gives zeros. */
static void test_q8_special_rows(void **state)
{
  problem p;
  prism__linalg_weight w;
  (void)state;
  problem_init(&p, 4, 9, 40);
  for (size_t k = 0; k < p.K; k++) {
    p.X[k] = 0.0f;
    p.X[3 * p.ldx + k] = (k % 3 ? 1e-38f : -3e-39f); /* 255 / range is not finite */
  }
  p.X[p.ldx + 7] = NAN;
  p.X[2 * p.ldx + 3] = INFINITY;
  w = weight(&p, PRISM__LINALG_W_Q8);
  prism__linalg_matmul(p.M, p.X, p.ldx, &w, NULL, p.Y, p.ldy, 0, p.scratch);
  for (size_t n = 0; n < p.N; n++) {
    assert_true(p.Y[n] == 0.0f);
    assert_true(isnan(p.Y[p.ldy + n]));
    assert_true(isnan(p.Y[2 * p.ldy + n]));
    assert_true(p.Y[3 * p.ldy + n] == 0.0f);
  }
  problem_free(&p);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_bf16_rounding),   cmocka_unit_test(test_q8_quantize),
    cmocka_unit_test(test_auto_dispatch),   cmocka_unit_test(test_f32_portable),
    cmocka_unit_test(test_f32_avx2),        cmocka_unit_test(test_f32_avx512),
    cmocka_unit_test(test_bf16_portable),   cmocka_unit_test(test_bf16_avx2),
    cmocka_unit_test(test_bf16_avx512),     cmocka_unit_test(test_bf16_avx512bf16),
    cmocka_unit_test(test_q8_portable),     cmocka_unit_test(test_q8_avx2),
    cmocka_unit_test(test_q8_avx512vnni),   cmocka_unit_test(test_q8_same_on_every_isa),
    cmocka_unit_test(test_q8_special_rows), cmocka_unit_test(test_deterministic),
    cmocka_unit_test(test_linear),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
