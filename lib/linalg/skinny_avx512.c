/*
 * AVX-512 skinny GEMM kernels (compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq).
 *
 * A tile is R weight rows x up to MB rows of X with one 16-lane accumulator
 * per output: the R rows stream from memory on the first X group and from
 * cache for the others. Each output's summation order depends only on K
 * (lane l sums k = l, l+16, ...; then a fixed reduction), never on the tile.
 */
#include <immintrin.h>

#include "linalg_internal.h"

#define R 4  /* weight rows per tile */
#define MB 6 /* X rows per pass: MB * R accumulators + R weights + 1 x of 32 registers */

static inline __attribute__((always_inline)) __m512 load_w(const void *row, size_t k,
                                                           __mmask16 mask, int bf16)
{
  if (bf16) {
    __m256i h = _mm256_maskz_loadu_epi16(mask, (const uint16_t *)row + k);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  return _mm512_maskz_loadu_ps(mask, (const float *)row + k);
}

static inline __attribute__((always_inline)) void tile(const prism__linalg_skinny_args *a, size_t n,
                                                       size_t m0, const int mb, const int r,
                                                       const int bf16)
{
  const size_t esize = bf16 ? sizeof(uint16_t) : sizeof(float);
  const char *wrow[R];
  const float *xrow[MB];
  __m512 acc[MB][R];
  size_t k = 0;

#pragma GCC unroll 8
  for (int j = 0; j < r; j++)
    wrow[j] = (const char *)a->W + (n + (size_t)j) * a->ldw * esize;
#pragma GCC unroll 8
  for (int i = 0; i < mb; i++) {
    xrow[i] = a->X + (m0 + (size_t)i) * a->ldx;
#pragma GCC unroll 8
    for (int j = 0; j < r; j++)
      acc[i][j] = _mm512_setzero_ps();
  }
  for (;;) {
    __mmask16 mask = a->K - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (a->K - k)) - 1);
    __m512 w[R];
    if (k >= a->K)
      break;
#pragma GCC unroll 8
    for (int j = 0; j < r; j++) {
      /* Each tile's rows are a short stream; fetch the next tile's while this one runs. */
      if (m0 == 0)
        _mm_prefetch(wrow[j] + (R * a->ldw + k) * esize, _MM_HINT_T0);
      w[j] = load_w(wrow[j], k, mask, bf16);
    }
#pragma GCC unroll 8
    for (int i = 0; i < mb; i++) {
      __m512 x = _mm512_maskz_loadu_ps(mask, xrow[i] + k);
#pragma GCC unroll 8
      for (int j = 0; j < r; j++)
        acc[i][j] = _mm512_fmadd_ps(x, w[j], acc[i][j]);
    }
    k += 16;
  }
#pragma GCC unroll 8
  for (int i = 0; i < mb; i++)
#pragma GCC unroll 8
    for (int j = 0; j < r; j++)
      prism__linalg_skinny_store(a, m0 + (size_t)i, n + (size_t)j, _mm512_reduce_add_ps(acc[i][j]));
}

/* All M rows against weight rows [n, n + r); r is a literal at each call. */
static inline __attribute__((always_inline)) void rows(const prism__linalg_skinny_args *a, size_t n,
                                                       const int r, const int bf16)
{
  size_t m0 = 0;
  for (; m0 + MB <= a->M; m0 += MB)
    tile(a, n, m0, MB, r, bf16);
  switch (a->M - m0) {
  case 1:
    tile(a, n, m0, 1, r, bf16);
    break;
  case 2:
    tile(a, n, m0, 2, r, bf16);
    break;
  case 3:
    tile(a, n, m0, 3, r, bf16);
    break;
  case 4:
    tile(a, n, m0, 4, r, bf16);
    break;
  case 5:
    tile(a, n, m0, 5, r, bf16);
    break;
  default:
    break;
  }
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

void prism__linalg_skinny_f32_avx512(const prism__linalg_skinny_args *a, size_t n0, size_t n1)
{
  columns(a, n0, n1, 0);
}

void prism__linalg_skinny_bf16_avx512(const prism__linalg_skinny_args *a, size_t n0, size_t n1)
{
  columns(a, n0, n1, 1);
}
