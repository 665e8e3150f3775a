/*
 * AVX2 + FMA skinny GEMM kernels (compiled with -mavx2 -mfma -mf16c).
 *
 * Same tiling as skinny_avx512.c with 8 lanes and 16 registers. The K tail is
 * copied into zero-padded local vectors so it runs through the same step and
 * keeps each output's summation order a function of K alone.
 */
#include <immintrin.h>
#include <string.h>

#include "linalg_internal.h"

#define R 4  /* weight rows per tile */
#define MB 2 /* X rows per pass: MB * R accumulators + R weights + 1 x of 16 registers */

static inline __attribute__((always_inline)) __m256 load_w(const void *p, int bf16)
{
  if (bf16) {
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  return _mm256_loadu_ps((const float *)p);
}

/* acc[i][j] += x_i[0..8) * w_j[0..8). */
static inline __attribute__((always_inline)) void step(__m256 acc[MB][R], const float *const *x,
                                                       const char *const *w, const int mb,
                                                       const int r, const int bf16)
{
  __m256 wv[R];
#pragma GCC unroll 8
  for (int j = 0; j < r; j++)
    wv[j] = load_w(w[j], bf16);
#pragma GCC unroll 8
  for (int i = 0; i < mb; i++) {
    __m256 xv = _mm256_loadu_ps(x[i]);
#pragma GCC unroll 8
    for (int j = 0; j < r; j++)
      acc[i][j] = _mm256_fmadd_ps(xv, wv[j], acc[i][j]);
  }
}

static inline float hsum(__m256 v)
{
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

static inline __attribute__((always_inline)) void tile(const prism__linalg_skinny_args *a, size_t n,
                                                       size_t m0, const int mb, const int r,
                                                       const int bf16)
{
  const size_t esize = bf16 ? sizeof(uint16_t) : sizeof(float);
  const char *w[R];
  const float *x[MB];
  __m256 acc[MB][R];
  size_t k = 0;

#pragma GCC unroll 8
  for (int j = 0; j < r; j++)
    w[j] = (const char *)a->W + (n + (size_t)j) * a->ldw * esize;
#pragma GCC unroll 8
  for (int i = 0; i < mb; i++) {
    x[i] = a->X + (m0 + (size_t)i) * a->ldx;
#pragma GCC unroll 8
    for (int j = 0; j < r; j++)
      acc[i][j] = _mm256_setzero_ps();
  }
  for (; k + 8 <= a->K; k += 8) {
    const float *xk[MB];
    const char *wk[R];
#pragma GCC unroll 8
    for (int i = 0; i < mb; i++)
      xk[i] = x[i] + k;
#pragma GCC unroll 8
    for (int j = 0; j < r; j++)
      wk[j] = w[j] + k * esize;
    step(acc, xk, wk, mb, r, bf16);
  }
  if (k < a->K) {
    size_t rest = a->K - k;
    float xt[MB][8] = { { 0 } };
    char wt[R][8 * sizeof(float)] = { { 0 } };
    const float *xk[MB];
    const char *wk[R];
    for (int i = 0; i < mb; i++) {
      memcpy(xt[i], x[i] + k, rest * sizeof(float));
      xk[i] = xt[i];
    }
    for (int j = 0; j < r; j++) {
      memcpy(wt[j], w[j] + k * esize, rest * esize);
      wk[j] = wt[j];
    }
    step(acc, xk, wk, mb, r, bf16);
  }
#pragma GCC unroll 8
  for (int i = 0; i < mb; i++)
#pragma GCC unroll 8
    for (int j = 0; j < r; j++)
      prism__linalg_skinny_store(a, m0 + (size_t)i, n + (size_t)j, hsum(acc[i][j]));
}

static inline __attribute__((always_inline)) void rows(const prism__linalg_skinny_args *a, size_t n,
                                                       const int r, const int bf16)
{
  size_t m0 = 0;
  for (; m0 + MB <= a->M; m0 += MB)
    tile(a, n, m0, MB, r, bf16);
  if (m0 < a->M)
    tile(a, n, m0, 1, r, bf16);
}

static inline __attribute__((always_inline)) void columns(const prism__linalg_skinny_args *a,
                                                          size_t n0, size_t n1, const int bf16)
{
  size_t n = n0;
  for (; n + R <= n1; n += R)
    rows(a, n, R, bf16);
  for (; n < n1; n++)
    rows(a, n, 1, bf16);
}

void prism__linalg_skinny_f32_avx2(const prism__linalg_skinny_args *a, size_t n0, size_t n1)
{
  columns(a, n0, n1, 0);
}

void prism__linalg_skinny_bf16_avx2(const prism__linalg_skinny_args *a, size_t n0, size_t n1)
{
  columns(a, n0, n1, 1);
}
