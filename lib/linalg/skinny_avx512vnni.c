/*
 * AVX512_VNNI kernel for Q8 weights (compiled with -mavx512vnni on top of the
 * AVX-512 flags): vpdpbusd multiplies 64 unsigned activation bytes by 64
 * signed weight bytes into 16 int32 lanes per instruction, four times the
 * products of a float32 FMA and a quarter of its bytes to stream. Rows of both
 * operands are zero-padded to a multiple of 64 (prism__linalg_q8_ld), so the
 * loop needs no masks. The sums are exact; the epilogue is
 * prism__linalg_q8_value's arithmetic, four outputs at a time.
 */
#include "skinny_avx512.h"

/* prism__linalg_q8_value and prism__linalg_skinny_store for outputs n .. n+3 of row m. */
static inline void store4_q8(const prism__linalg_skinny_args *a, size_t m, size_t n, __m128i sum)
{
  __m128i off =
      _mm_mullo_epi32(_mm_set1_epi32(a->zx[m]), _mm_loadu_si128((const __m128i *)(a->wsum + n)));
  __m128 scale = _mm_mul_ps(_mm_set1_ps(a->sx[m]), _mm_loadu_ps(a->wscale + n));
  store4(a, m, n, _mm_mul_ps(_mm_cvtepi32_ps(_mm_sub_epi32(sum, off)), scale));
}

static inline __attribute__((always_inline)) void tile(const prism__linalg_skinny_args *a, size_t n,
                                                       size_t m0, const int mb, const int r,
                                                       const int variant, int prefetch)
{
  const int8_t *wrow[R];
  const uint8_t *xrow[MB];
  __m512i acc[MB][R];
  size_t K = a->K;

  (void)variant;
#pragma GCC unroll 8
  for (int j = 0; j < r; j++)
    wrow[j] = (const int8_t *)a->W + (n + (size_t)j) * a->ldw;
#pragma GCC unroll 8
  for (int i = 0; i < mb; i++) {
    xrow[i] = (const uint8_t *)a->X + (m0 + (size_t)i) * a->ldx;
#pragma GCC unroll 8
    for (int j = 0; j < r; j++)
      acc[i][j] = _mm512_setzero_si512();
  }
  for (size_t k = 0; k < K; k += 64) {
    __m512i w[R];
#pragma GCC unroll 8
    for (int j = 0; j < r; j++) {
      /* Each tile's rows are a short stream; fetch the next tile's while this one runs. */
      if (prefetch)
        _mm_prefetch((const char *)(wrow[j] + R * a->ldw + k), _MM_HINT_T0);
      w[j] = _mm512_loadu_si512(wrow[j] + k);
    }
#pragma GCC unroll 8
    for (int i = 0; i < mb; i++) {
      __m512i x = _mm512_loadu_si512(xrow[i] + k);
#pragma GCC unroll 8
      for (int j = 0; j < r; j++)
        acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], x, w[j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < mb; i++) {
    size_t m = m0 + (size_t)i;
    if (r == R) {
      store4_q8(a, m, n, reduce16x4_epi32(acc[i][0], acc[i][1], acc[i][2], acc[i][3]));
      continue;
    }
#pragma GCC unroll 8
    for (int j = 0; j < r; j++)
      prism__linalg_skinny_store(
          a, m, n + (size_t)j,
          prism__linalg_q8_value(a, m, n + (size_t)j, _mm512_reduce_add_epi32(acc[i][j])));
  }
}

void prism__linalg_skinny_q8_avx512vnni(const prism__linalg_skinny_args *a, size_t n0, size_t n1)
{
  columns(a, n0, n1, 0);
}
