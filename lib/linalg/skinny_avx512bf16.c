/*
 * AVX512_BF16 kernel for bfloat16 weights (compiled with -mavx512bf16 on top
 * of the AVX-512 flags): vdpbf16ps multiplies 32 bf16 pairs per instruction,
 * twice the work of a widened FMA, which matters once M grows and the product
 * stops being purely bandwidth-bound. X arrives already rounded to bf16 (once
 * per call, by prism__linalg_x_bf16_avx512bf16), its rows zero-padded to a
 * multiple of 32.
 */
#include "skinny_avx512.h"

static inline __attribute__((always_inline)) void tile(const prism__linalg_skinny_args *a, size_t n,
                                                       size_t m0, const int mb, const int r,
                                                       const int variant, int prefetch)
{
  const uint16_t *wrow[R];
  const uint16_t *xrow[MB];
  __m512 acc[MB][R];
  size_t k = 0, K = a->K;

  (void)variant;
#pragma GCC unroll 8
  for (int j = 0; j < r; j++)
    wrow[j] = (const uint16_t *)a->W + (n + (size_t)j) * a->ldw;
#pragma GCC unroll 8
  for (int i = 0; i < mb; i++) {
    xrow[i] = (const uint16_t *)a->X + (m0 + (size_t)i) * a->ldx;
#pragma GCC unroll 8
    for (int j = 0; j < r; j++)
      acc[i][j] = _mm512_setzero_ps();
  }
  for (; k < K; k += 32) {
    __mmask32 mask = K - k >= 32 ? (__mmask32)0xffffffffu : (__mmask32)((1u << (K - k)) - 1);
    __m512bh w[R];
#pragma GCC unroll 8
    for (int j = 0; j < r; j++) {
      /* Each tile's rows are a short stream; fetch the next tile's while this one runs. */
      if (prefetch)
        _mm_prefetch((const char *)(wrow[j] + R * a->ldw + k), _MM_HINT_T0);
      w[j] = (__m512bh)_mm512_maskz_loadu_epi16(mask, wrow[j] + k);
    }
#pragma GCC unroll 8
    for (int i = 0; i < mb; i++) {
      __m512bh x = (__m512bh)_mm512_loadu_si512(xrow[i] + k);
#pragma GCC unroll 8
      for (int j = 0; j < r; j++)
        acc[i][j] = _mm512_dpbf16_ps(acc[i][j], x, w[j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < mb; i++) {
    if (r == R) {
      store4(a, m0 + (size_t)i, n, reduce16x4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]));
      continue;
    }
#pragma GCC unroll 8
    for (int j = 0; j < r; j++)
      prism__linalg_skinny_store(a, m0 + (size_t)i, n + (size_t)j, reduce16(acc[i][j]));
  }
}

void prism__linalg_skinny_bf16_avx512bf16(const prism__linalg_skinny_args *a, size_t n0, size_t n1)
{
  columns(a, n0, n1, 0);
}

/* X rows rounded to bf16 (nearest even), each padded with zeros to ldu, a multiple of 32. */
void prism__linalg_x_bf16_avx512bf16(uint16_t *u, size_t ldu, const float *X, size_t ldx, size_t M,
                                     size_t K)
{
  for (size_t m = 0; m < M; m++) {
    const float *x = X + m * ldx;
    uint16_t *row = u + m * ldu;
    for (size_t k = 0; k < ldu; k += 32) {
      size_t rest = k < K ? K - k : 0;
      __mmask16 lo = rest >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rest) - 1);
      __mmask16 hi = rest >= 32  ? (__mmask16)0xffff
                     : rest > 16 ? (__mmask16)((1u << (rest - 16)) - 1)
                                 : (__mmask16)0;
      __m512bh v = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, x + k + 16),
                                       _mm512_maskz_loadu_ps(lo, x + k));
      _mm512_storeu_si512(row + k, (__m512i)v);
    }
  }
}
