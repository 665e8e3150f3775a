/*
 * AVX-512 weight-product kernels (compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq):
 * float32 W, and bfloat16 W widened to float32.
 *
 * A tile is R weight rows x up to MB rows of X with one 16-lane accumulator
 * per output: the R rows stream from memory on the first X group and from
 * cache for the others. Each output's summation order depends only on K
 * (lane l sums k = l, l+16, ...; then the fixed tree of reduce16), never on
 * the tile, the panel or the thread.
 */
#include <immintrin.h>
#include <string.h>

#include "skinny_avx512.h"

static inline __attribute__((always_inline)) __m512 load_w(const void *row, size_t k, int bf16)
{
  if (bf16) {
    __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)row + k));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  return _mm512_loadu_ps((const float *)row + k);
}

static inline __attribute__((always_inline)) __m512 load_w_tail(const void *row, size_t k,
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
                                                       const int bf16, int prefetch)
{
  const size_t esize = bf16 ? sizeof(uint16_t) : sizeof(float);
  const char *wrow[R];
  const float *xrow[MB];
  const float *X = a->X;
  __m512 acc[MB][R];
  size_t k = 0, K = a->K;

#pragma GCC unroll 8
  for (int j = 0; j < r; j++)
    wrow[j] = (const char *)a->W + (n + (size_t)j) * a->ldw * esize;
#pragma GCC unroll 8
  for (int i = 0; i < mb; i++) {
    xrow[i] = X + (m0 + (size_t)i) * a->ldx;
#pragma GCC unroll 8
    for (int j = 0; j < r; j++)
      acc[i][j] = _mm512_setzero_ps();
  }
  for (; k + 16 <= K; k += 16) {
    __m512 w[R];
#pragma GCC unroll 8
    for (int j = 0; j < r; j++) {
      /* Each tile's rows are a short stream; fetch the next tile's while this one runs. */
      if (prefetch)
        _mm_prefetch(wrow[j] + (R * a->ldw + k) * esize, _MM_HINT_T0);
      w[j] = load_w(wrow[j], k, bf16);
    }
#pragma GCC unroll 8
    for (int i = 0; i < mb; i++) {
      __m512 x = _mm512_loadu_ps(xrow[i] + k);
#pragma GCC unroll 8
      for (int j = 0; j < r; j++)
        acc[i][j] = _mm512_fmadd_ps(x, w[j], acc[i][j]);
    }
  }
  if (k < K) {
    __mmask16 mask = (__mmask16)((1u << (K - k)) - 1);
    __m512 w[R];
#pragma GCC unroll 8
    for (int j = 0; j < r; j++)
      w[j] = load_w_tail(wrow[j], k, mask, bf16);
#pragma GCC unroll 8
    for (int i = 0; i < mb; i++) {
      __m512 x = _mm512_maskz_loadu_ps(mask, xrow[i] + k);
#pragma GCC unroll 8
      for (int j = 0; j < r; j++)
        acc[i][j] = _mm512_fmadd_ps(x, w[j], acc[i][j]);
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

void prism__linalg_skinny_f32_avx512(const prism__linalg_skinny_args *a, size_t n0, size_t n1)
{
  columns(a, n0, n1, 0);
}

void prism__linalg_skinny_bf16_avx512(const prism__linalg_skinny_args *a, size_t n0, size_t n1)
{
  columns(a, n0, n1, 1);
}

/* prism__linalg_q8_rows, 16 elements at a time: the same operations, so the same bytes. */
void prism__linalg_q8_rows_avx512(uint8_t *u, size_t ldu, float *sx, int32_t *zx, const float *X,
                                  size_t ldx, size_t M, size_t K)
{
  for (size_t m = 0; m < M; m++) {
    const float *x = X + m * ldx;
    uint8_t *row = u + m * ldu;
    __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps(), bad = _mm512_setzero_ps();
    __m512 inv, zero;
    float inv1, lo1, hi1;
    for (size_t k = 0; k < K; k += 16) {
      __mmask16 mask = K - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (K - k)) - 1);
      __m512 v = _mm512_maskz_loadu_ps(mask, x + k);
      lo = _mm512_min_ps(lo, v);
      hi = _mm512_max_ps(hi, v);
      bad = _mm512_or_ps(bad, _mm512_sub_ps(v, v)); /* NaN lanes stay NaN, others 0 */
    }
    memset(row, 0, ldu);
    if (_mm512_cmp_ps_mask(bad, bad, _CMP_UNORD_Q)) {
      sx[m] = __builtin_nanf("");
      zx[m] = 0;
      continue;
    }
    lo1 = _mm512_reduce_min_ps(lo);
    hi1 = _mm512_reduce_max_ps(hi);
    prism__linalg_q8_params(lo1, hi1, &sx[m], &inv1, &zx[m]);
    inv = _mm512_set1_ps(inv1);
    zero = _mm512_set1_ps((float)zx[m]);
    for (size_t k = 0; k < K; k += 16) {
      __mmask16 mask = K - k >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (K - k)) - 1);
      __m512 v = _mm512_roundscale_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(mask, x + k), inv),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      v = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(v, zero), _mm512_setzero_ps()),
                        _mm512_set1_ps(255.0f));
      _mm_mask_storeu_epi8(row + k, mask, _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(v)));
    }
  }
}
