/*
 * AVX2 + FMA weight-product kernels (compiled with -mavx2 -mfma -mf16c): float32 W,
 * bfloat16 W widened to float32, and Q8 W through 16-bit products.
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

static inline __attribute__((always_inline)) void tile_float(const prism__linalg_skinny_args *a,
                                                             size_t n, size_t m0, const int mb,
                                                             const int r, const int bf16)
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
    x[i] = (const float *)a->X + (m0 + (size_t)i) * a->ldx;
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

/* ---- Q8: bytes widened to int16, vpmaddwd into int32 (exact, as vpdpbusd) ---- */

static inline __m256i madd_q8(const uint8_t *x, const int8_t *w)
{
  __m256i xv = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)x));
  __m256i wv = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w));
  return _mm256_madd_epi16(xv, wv);
}

static inline int32_t hsum_epi32(__m256i v)
{
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

static inline __attribute__((always_inline)) void tile_q8(const prism__linalg_skinny_args *a,
                                                          size_t n, size_t m0, const int mb,
                                                          const int r)
{
  const int8_t *w[R];
  const uint8_t *x[MB];
  __m256i acc[MB][R];

#pragma GCC unroll 8
  for (int j = 0; j < r; j++)
    w[j] = (const int8_t *)a->W + (n + (size_t)j) * a->ldw;
#pragma GCC unroll 8
  for (int i = 0; i < mb; i++) {
    x[i] = (const uint8_t *)a->X + (m0 + (size_t)i) * a->ldx;
#pragma GCC unroll 8
    for (int j = 0; j < r; j++)
      acc[i][j] = _mm256_setzero_si256();
  }
  /* Rows are zero-padded to a multiple of 64 (prism__linalg_q8_ld). */
  for (size_t k = 0; k < a->K; k += 16)
#pragma GCC unroll 8
    for (int i = 0; i < mb; i++)
#pragma GCC unroll 8
      for (int j = 0; j < r; j++)
        acc[i][j] = _mm256_add_epi32(acc[i][j], madd_q8(x[i] + k, w[j] + k));
#pragma GCC unroll 8
  for (int i = 0; i < mb; i++)
#pragma GCC unroll 8
    for (int j = 0; j < r; j++) {
      size_t m = m0 + (size_t)i, col = n + (size_t)j;
      prism__linalg_skinny_store(a, m, col,
                                 prism__linalg_q8_value(a, m, col, hsum_epi32(acc[i][j])));
    }
}

/* variant: 0 float32 W, 1 bfloat16 W, 2 Q8. */
static inline __attribute__((always_inline)) void tile(const prism__linalg_skinny_args *a, size_t n,
                                                       size_t m0, const int mb, const int r,
                                                       const int variant)
{
  if (variant == 2)
    tile_q8(a, n, m0, mb, r);
  else
    tile_float(a, n, m0, mb, r, variant);
}

/* All of rows [m0, m1) against weight rows [n, n + r); r is a literal at each call. */
static inline __attribute__((always_inline)) void rows(const prism__linalg_skinny_args *a, size_t n,
                                                       size_t m0, size_t m1, const int r,
                                                       const int variant)
{
  size_t m = m0;
  for (; m + MB <= m1; m += MB)
    tile(a, n, m, MB, r, variant);
  if (m < m1)
    tile(a, n, m, 1, r, variant);
}

/* The loops of skinny_avx512.h: tiles of W for up to PRISM__LINALG_TILE_M rows, panels beyond. */
#define PANEL_N (16 * R)

static inline __attribute__((always_inline)) void columns(const prism__linalg_skinny_args *a,
                                                          size_t n0, size_t n1, const int variant)
{
  size_t panel = a->M <= PRISM__LINALG_TILE_M ? R : PANEL_N;
  for (size_t mc = 0; mc < a->M; mc += PRISM__LINALG_PANEL_M) {
    size_t mend = a->M - mc < PRISM__LINALG_PANEL_M ? a->M : mc + PRISM__LINALG_PANEL_M;
    size_t step = panel == R ? mend - mc : MB;
    for (size_t nb = n0; nb < n1; nb += panel) {
      size_t nend = n1 - nb < panel ? n1 : nb + panel, full = nend - (nend - nb) % R;
      for (size_t m = mc; m < mend; m += step) {
        size_t me = mend - m < step ? mend : m + step;
        for (size_t n = nb; n < full; n += R)
          rows(a, n, m, me, R, variant);
      }
      for (size_t n = full; n < nend; n++)
        rows(a, n, mc, mend, 1, variant);
    }
  }
}

void prism__linalg_skinny_f32_avx2(const prism__linalg_skinny_args *a, size_t n0, size_t n1)
{
  columns(a, n0, n1, 0);
}

void prism__linalg_skinny_bf16_avx2(const prism__linalg_skinny_args *a, size_t n0, size_t n1)
{
  columns(a, n0, n1, 1);
}

void prism__linalg_skinny_q8_avx2(const prism__linalg_skinny_args *a, size_t n0, size_t n1)
{
  columns(a, n0, n1, 2);
}
