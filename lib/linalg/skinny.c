/*
 * Weight products: kernel choice, the per-call conversion of X, threading over
 * N, the portable kernels, and the bf16 and Q8 weight formats.
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "common/cpu.h"
#include "common/pool.h"
#include "linalg_internal.h"

/* Bytes of weights one pool part should stream at least, so waking a worker pays. */
#define TASK_BYTES ((size_t)64 * 1024)

/* Q8 rows are padded to this many bytes (one vpdpbusd step); bf16 X rows to 32 elements. */
#define Q8_ALIGN 64
#define BF16_X_ALIGN 32

static atomic_int forced_features = -1;

static unsigned built_features(void)
{
  unsigned f = 0;
#ifdef PRISM__HAVE_SKINNY_X86
  f |= PRISM__CPU_AVX2 | PRISM__CPU_AVX512;
#endif
#ifdef PRISM__HAVE_SKINNY_AVX512BF16
  f |= PRISM__CPU_AVX512BF16;
#endif
#ifdef PRISM__HAVE_SKINNY_AVX512VNNI
  f |= PRISM__CPU_AVX512VNNI;
#endif
  f |= PRISM__CPU_AVX512FP16; /* a hint, no kernel of its own */
  return f;
}

unsigned prism__linalg_features(void)
{
  int forced = atomic_load(&forced_features);
  unsigned f = prism__cpu_flags() & built_features();
  return forced >= 0 ? f & (unsigned)forced : f;
}

int prism__linalg_force_features(int mask)
{
  if (mask >= 0 && ((unsigned)mask & ~(prism__cpu_flags() & built_features())) != 0)
    return 0;
  atomic_store(&forced_features, mask);
  return 1;
}

enum { FAMILY_PORTABLE, FAMILY_AVX2, FAMILY_AVX512, FAMILY_AVX512BF16, FAMILY_AVX512VNNI };

static int family(prism__linalg_wtype type)
{
  unsigned f = prism__linalg_features();
  int avx512 = (f & PRISM__CPU_AVX512) != 0, avx2 = (f & PRISM__CPU_AVX2) != 0;
  switch (type) {
  case PRISM__LINALG_W_BF16:
    /*
     * vdpbf16ps does twice the products of an FMA per instruction, but where
     * AVX512_FP16 marks the core (Sapphire Rapids and later) it issues at a
     * quarter of the FMA rate: widening W and using FMA is then faster.
     */
    if (avx512 && (f & PRISM__CPU_AVX512BF16) && !(f & PRISM__CPU_AVX512FP16))
      return FAMILY_AVX512BF16;
    break;
  case PRISM__LINALG_W_Q8:
    if (avx512 && (f & PRISM__CPU_AVX512VNNI))
      return FAMILY_AVX512VNNI;
    return avx2 ? FAMILY_AVX2 : FAMILY_PORTABLE;
  default:
    break;
  }
  return avx512 ? FAMILY_AVX512 : avx2 ? FAMILY_AVX2 : FAMILY_PORTABLE;
}

const char *prism__linalg_kernel_name(prism__linalg_wtype type)
{
  static const char *const names[] = { "portable", "avx2", "avx512", "avx512bf16", "avx512vnni" };
  return names[family(type)];
}

static prism__linalg_skinny_kernel pick_kernel(prism__linalg_wtype type, int fam)
{
  static const prism__linalg_skinny_kernel portable[] = { prism__linalg_skinny_f32_portable,
                                                          prism__linalg_skinny_bf16_portable,
                                                          prism__linalg_skinny_q8_portable };
  switch (fam) {
#ifdef PRISM__HAVE_SKINNY_X86
  case FAMILY_AVX2: {
    static const prism__linalg_skinny_kernel k[] = { prism__linalg_skinny_f32_avx2,
                                                     prism__linalg_skinny_bf16_avx2,
                                                     prism__linalg_skinny_q8_avx2 };
    return k[type];
  }
  case FAMILY_AVX512:
    return type == PRISM__LINALG_W_BF16 ? prism__linalg_skinny_bf16_avx512
                                        : prism__linalg_skinny_f32_avx512;
#endif
#ifdef PRISM__HAVE_SKINNY_AVX512BF16
  case FAMILY_AVX512BF16:
    return prism__linalg_skinny_bf16_avx512bf16;
#endif
#ifdef PRISM__HAVE_SKINNY_AVX512VNNI
  case FAMILY_AVX512VNNI:
    return prism__linalg_skinny_q8_avx512vnni;
#endif
  default:
    return portable[type];
  }
}

static size_t round_up(size_t n, size_t to)
{
  return (n + to - 1) / to * to;
}

size_t prism__linalg_q8_ld(size_t K)
{
  return round_up(K ? K : 1, Q8_ALIGN);
}

size_t prism__linalg_matmul_scratch(size_t M, const prism__linalg_weight *W)
{
  switch (W->type) {
  case PRISM__LINALG_W_Q8:
    return M * (prism__linalg_q8_ld(W->K) + sizeof(float) + sizeof(int32_t));
  case PRISM__LINALG_W_BF16:
    return M * round_up(W->K ? W->K : 1, BF16_X_ALIGN) * sizeof(uint16_t);
  default:
    return 0;
  }
}

prism__linalg_weight prism__linalg_weight_f32(const float *W, size_t N, size_t K, size_t ld)
{
  prism__linalg_weight w = { PRISM__LINALG_W_F32, N, K, W, ld, NULL, NULL };
  return w;
}

prism__linalg_weight prism__linalg_weight_q8(const int8_t *q, const float *scale,
                                             const int32_t *rowsum, size_t N, size_t K)
{
  prism__linalg_weight w = { PRISM__LINALG_W_Q8, N, K, q, prism__linalg_q8_ld(K), scale, rowsum };
  return w;
}

typedef struct {
  prism__linalg_skinny_kernel kernel;
  prism__linalg_skinny_args args;
  size_t N;
} skinny_job;

/* Parts are counted in groups of 4 columns, the kernels' tile, so no tile is cut. */
static void run_columns(void *ctx, size_t q0, size_t q1)
{
  const skinny_job *job = ctx;
  size_t n1 = 4 * q1 < job->N ? 4 * q1 : job->N;
  job->kernel(&job->args, 4 * q0, n1);
}

static void run(prism__linalg_skinny_kernel kernel, const prism__linalg_skinny_args *args, size_t N,
                size_t row_bytes)
{
  skinny_job job = { kernel, *args, N };
  size_t quads = (N + 3) / 4, groups = (args->M + 5) / 6;
  size_t work = 4 * row_bytes * groups;
  if (N == 0 || args->M == 0)
    return;
  prism__parallel_for_balanced(quads, work ? (TASK_BYTES + work - 1) / work : quads, run_columns,
                               &job);
}

/* X for the Q8 kernels: unsigned bytes with a scale and zero point per row, in scratch. */
static void x_q8(prism__linalg_skinny_args *a, const float *X, size_t ldx, size_t M, size_t K,
                 void *scratch)
{
  size_t ldu = prism__linalg_q8_ld(K);
  uint8_t *u = scratch;
  float *sx = (float *)(void *)(u + M * ldu);
  int32_t *zx = (int32_t *)(void *)(sx + M);
#ifdef PRISM__HAVE_SKINNY_X86
  if (prism__linalg_features() & PRISM__CPU_AVX512)
    prism__linalg_q8_rows_avx512(u, ldu, sx, zx, X, ldx, M, K);
  else
#endif
    prism__linalg_q8_rows(u, ldu, sx, zx, X, ldx, M, K);
  a->X = u;
  a->ldx = ldu;
  a->sx = sx;
  a->zx = zx;
}

void prism__linalg_matmul(size_t M, const float *X, size_t ldx, const prism__linalg_weight *W,
                          const float *bias, float *Y, size_t ldy, unsigned flags, void *scratch)
{
  static const size_t esize[] = { sizeof(float), sizeof(uint16_t), sizeof(int8_t) };
  int fam = family(W->type);
  prism__linalg_skinny_args a = {
    M,     W->K, X,        ldx,      W->data,
    W->ld, bias, Y,        ldy,      (flags & PRISM__LINALG_SKINNY_ACCUMULATE) != 0,
    NULL,  NULL, W->scale, W->rowsum
  };
  if (M == 0 || W->N == 0)
    return;
  if (W->type == PRISM__LINALG_W_Q8)
    x_q8(&a, X, ldx, M, W->K, scratch);
#ifdef PRISM__HAVE_SKINNY_AVX512BF16
  if (fam == FAMILY_AVX512BF16) {
    size_t ldu = round_up(W->K ? W->K : 1, BF16_X_ALIGN);
    prism__linalg_x_bf16_avx512bf16(scratch, ldu, X, ldx, M, W->K);
    a.X = scratch;
    a.ldx = ldu;
  }
#endif
  run(pick_kernel(W->type, fam), &a, W->N, W->K * esize[W->type]);
}

void prism__linalg_skinny_gemm(size_t M, size_t N, size_t K, const float *X, size_t ldx,
                               const float *W, size_t ldw, const float *bias, float *Y, size_t ldy,
                               unsigned flags)
{
  prism__linalg_weight w = prism__linalg_weight_f32(W, N, K, ldw);
  prism__linalg_matmul(M, X, ldx, &w, bias, Y, ldy, flags, NULL);
}

void prism__linalg_linear(size_t M, size_t N, size_t K, const float *X, size_t ldx, const float *W,
                          size_t ldw, const float *bias, float *Y, size_t ldy, unsigned flags)
{
  if (M <= PRISM__LINALG_SKINNY_MAX_M || !(flags & PRISM__LINALG_FIXED)) {
    prism__linalg_skinny_gemm(M, N, K, X, ldx, W, ldw, bias, Y, ldy, flags);
    return;
  }
  prism__linalg_gemm_tiles(0, 1, M, N, K, 1.0f, X, ldx, W, ldw,
                           (flags & PRISM__LINALG_SKINNY_ACCUMULATE) ? 1.0f : 0.0f, Y, ldy);
  if (bias)
    for (size_t m = 0; m < M; m++)
      for (size_t n = 0; n < N; n++)
        Y[m * ldy + n] += bias[n];
}

uint16_t prism__linalg_bf16_round(float f)
{
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t)((u >> 16) | 0x40); /* quiet NaN, sign kept */
  u += 0x7fffu + ((u >> 16) & 1);
  return (uint16_t)(u >> 16);
}

void prism__linalg_bf16_from_f32(uint16_t *dst, const float *src, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = prism__linalg_bf16_round(src[i]);
}

/* ---- Q8 ---------------------------------------------------------------------------------- */

int prism__linalg_q8_quantize(int8_t *q, size_t ld_q, float *scale, int32_t *rowsum, const float *W,
                              size_t ld_w, size_t N, size_t K)
{
  for (size_t n = 0; n < N; n++) {
    const float *w = W + n * ld_w;
    int8_t *row = q + n * ld_q;
    float amax = 0.0f, inv;
    int32_t sum = 0;
    for (size_t k = 0; k < K; k++) {
      float v = fabsf(w[k]);
      if (!(v <= 3.4028235e38f)) /* NaN or infinite */
        return -1;
      amax = v > amax ? v : amax;
    }
    inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    if (!(inv <= 3.4028235e38f)) /* |w| below about 4e-37: the row counts as zeros */
      inv = 0.0f, amax = 0.0f;
    scale[n] = amax / 127.0f;
    for (size_t k = 0; k < K; k++) {
      float v = rintf(w[k] * inv);
      v = v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v;
      row[k] = (int8_t)v;
      sum += row[k];
    }
    memset(row + K, 0, ld_q - K);
    rowsum[n] = sum;
  }
  return 0;
}

void prism__linalg_q8_rows(uint8_t *u, size_t ldu, float *sx, int32_t *zx, const float *X,
                           size_t ldx, size_t M, size_t K)
{
  for (size_t m = 0; m < M; m++) {
    const float *x = X + m * ldx;
    uint8_t *row = u + m * ldu;
    float lo = 0.0f, hi = 0.0f, inv, zero;
    int finite = 1;
    for (size_t k = 0; k < K; k++) {
      lo = x[k] < lo ? x[k] : lo;
      hi = x[k] > hi ? x[k] : hi;
      finite &= x[k] - x[k] == 0.0f;
    }
    memset(row, 0, ldu);
    if (!finite) { /* NaN or infinity in: NaN out, as float32 arithmetic would give */
      sx[m] = NAN;
      zx[m] = 0;
      continue;
    }
    prism__linalg_q8_params(lo, hi, &sx[m], &inv, &zx[m]);
    zero = (float)zx[m];
    for (size_t k = 0; k < K; k++) {
      float v = rintf(x[k] * inv) + zero;
      row[k] = (uint8_t)(v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v);
    }
  }
}

/* ---- portable kernels: prism__linalg_dot's lanes and reduction order --------------------- */

#define LANES 8

static float dot_bf16(const float *x, const uint16_t *w, size_t K)
{
  float s[LANES] = { 0 };
  size_t k = 0;
  for (; k + LANES <= K; k += LANES)
    for (int l = 0; l < LANES; l++)
      s[l] += x[k + l] * prism__linalg_bf16_to_f32(w[k + l]);
  for (int l = 0; k < K; k++, l++)
    s[l] += x[k] * prism__linalg_bf16_to_f32(w[k]);
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

static int32_t dot_q8(const uint8_t *x, const int8_t *w, size_t K)
{
  int32_t s = 0;
  for (size_t k = 0; k < K; k++)
    s += (int32_t)x[k] * w[k];
  return s;
}

void prism__linalg_skinny_f32_portable(const prism__linalg_skinny_args *a, size_t n0, size_t n1)
{
  const float *W = a->W, *X = a->X;
  for (size_t n = n0; n < n1; n++)
    for (size_t m = 0; m < a->M; m++)
      prism__linalg_skinny_store(a, m, n, prism__linalg_dot(X + m * a->ldx, W + n * a->ldw, a->K));
}

void prism__linalg_skinny_bf16_portable(const prism__linalg_skinny_args *a, size_t n0, size_t n1)
{
  const uint16_t *W = a->W;
  const float *X = a->X;
  for (size_t n = n0; n < n1; n++)
    for (size_t m = 0; m < a->M; m++)
      prism__linalg_skinny_store(a, m, n, dot_bf16(X + m * a->ldx, W + n * a->ldw, a->K));
}

void prism__linalg_skinny_q8_portable(const prism__linalg_skinny_args *a, size_t n0, size_t n1)
{
  const int8_t *W = a->W;
  const uint8_t *X = a->X;
  for (size_t n = n0; n < n1; n++)
    for (size_t m = 0; m < a->M; m++)
      prism__linalg_skinny_store(
          a, m, n, prism__linalg_q8_value(a, m, n, dot_q8(X + m * a->ldx, W + n * a->ldw, a->K)));
}
