/*
 * AVX512_BF16 skinny GEMM for bfloat16 weights (compiled with -mavx512bf16 on
 * top of the AVX-512 flags): vdpbf16ps multiplies 32 bf16 pairs per
 * instruction, twice the work of a widened FMA, which matters once M grows
 * and the product stops being purely bandwidth-bound. X is rounded to bf16
 * on the fly (nearest even), 32 elements at a time.
 */
#include <immintrin.h>

#include "linalg_internal.h"

#define R 4
#define MB 6

static inline __attribute__((always_inline)) __m512bh load_x(const float *x, size_t k, size_t K)
{
  size_t rest = K - k;
  __mmask16 lo = rest >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rest) - 1);
  __mmask16 hi = rest >= 32  ? (__mmask16)0xffff
                 : rest > 16 ? (__mmask16)((1u << (rest - 16)) - 1)
                             : (__mmask16)0;
  return _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, x + k + 16),
                             _mm512_maskz_loadu_ps(lo, x + k));
}

static inline __attribute__((always_inline)) void tile(const prism__linalg_skinny_args *a, size_t n,
                                                       size_t m0, const int mb, const int r)
{
  const uint16_t *wrow[R];
  const float *xrow[MB];
  __m512 acc[MB][R];

#pragma GCC unroll 8
  for (int j = 0; j < r; j++)
    wrow[j] = (const uint16_t *)a->W + (n + (size_t)j) * a->ldw;
#pragma GCC unroll 8
  for (int i = 0; i < mb; i++) {
    xrow[i] = a->X + (m0 + (size_t)i) * a->ldx;
#pragma GCC unroll 8
    for (int j = 0; j < r; j++)
      acc[i][j] = _mm512_setzero_ps();
  }
  for (size_t k = 0; k < a->K; k += 32) {
    size_t rest = a->K - k;
    __mmask32 mask = rest >= 32 ? (__mmask32)0xffffffffu : (__mmask32)((1u << rest) - 1);
    __m512bh w[R];
#pragma GCC unroll 8
    for (int j = 0; j < r; j++) {
      /* Each tile's rows are a short stream; fetch the next tile's while this one runs. */
      if (m0 == 0)
        _mm_prefetch((const char *)(wrow[j] + R * a->ldw + k), _MM_HINT_T0);
      w[j] = (__m512bh)_mm512_maskz_loadu_epi16(mask, wrow[j] + k);
    }
#pragma GCC unroll 8
    for (int i = 0; i < mb; i++) {
      __m512bh x = load_x(xrow[i], k, a->K);
#pragma GCC unroll 8
      for (int j = 0; j < r; j++)
        acc[i][j] = _mm512_dpbf16_ps(acc[i][j], x, w[j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < mb; i++)
#pragma GCC unroll 8
    for (int j = 0; j < r; j++)
      prism__linalg_skinny_store(a, m0 + (size_t)i, n + (size_t)j, _mm512_reduce_add_ps(acc[i][j]));
}

static inline __attribute__((always_inline)) void rows(const prism__linalg_skinny_args *a, size_t n,
                                                       const int r)
{
  size_t m0 = 0;
  for (; m0 + MB <= a->M; m0 += MB)
    tile(a, n, m0, MB, r);
  switch (a->M - m0) {
  case 1:
    tile(a, n, m0, 1, r);
    break;
  case 2:
    tile(a, n, m0, 2, r);
    break;
  case 3:
    tile(a, n, m0, 3, r);
    break;
  case 4:
    tile(a, n, m0, 4, r);
    break;
  case 5:
    tile(a, n, m0, 5, r);
    break;
  default:
    break;
  }
}

void prism__linalg_skinny_bf16_avx512bf16(const prism__linalg_skinny_args *a, size_t n0, size_t n1)
{
  size_t n = n0;
  for (; n + R <= n1; n += R)
    rows(a, n, R);
  for (; n < n1; n++)
    rows(a, n, 1);
}
