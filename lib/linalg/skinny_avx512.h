/*
 * Internal to lib/linalg: what the AVX-512 kernel files share (each is
 * compiled with its own flags, so this is included, not linked): the tile
 * shape, the fixed reduction order, the vector epilogue and the loops over
 * tiles, panels and row blocks. An including file defines
 *
 *   static inline void tile(const prism__linalg_skinny_args *a, size_t n, size_t m0,
 *                           const int mb, const int r, const int variant, int prefetch);
 *
 * (weight rows [n, n + r) against X rows [m0, m0 + mb); `variant` is a literal
 * the file gives meaning to) before including it.
 */
#ifndef PRISM__LINALG_SKINNY_AVX512_H
#define PRISM__LINALG_SKINNY_AVX512_H

#include <immintrin.h>

#include "linalg_internal.h"

#define R 4  /* weight rows per tile */
#define MB 6 /* X rows per pass: MB * R accumulators + R weights + 1 x of 32 registers */

static inline __attribute__((always_inline)) void tile(const prism__linalg_skinny_args *a, size_t n,
                                                       size_t m0, const int mb, const int r,
                                                       const int variant, int prefetch);

/*
 * The sum of 16 lanes as a halving tree: v[i] + v[i+8], then + 4, + 2, + 1
 * (the order of GCC's _mm512_reduce_add_ps, written out so every compiler
 * agrees).
 */
static inline float reduce16(__m512 v)
{
  __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v),
                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_shuffle_ps(q, q, 0x4e));
  return _mm_cvtss_f32(_mm_add_ss(q, _mm_shuffle_ps(q, q, 0xb1)));
}

/* Four such sums at once, the same pairs added in the same order, as one vector. */
static inline __m128 reduce16x4(__m512 a, __m512 b, __m512 c, __m512 d)
{
  __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xee));
  __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xee));
  __m512 s = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xdd));
  s = _mm512_add_ps(s, _mm512_permute_ps(s, 0x4e));
  s = _mm512_add_ps(s, _mm512_permute_ps(s, 0xb1));
  return _mm512_castps512_ps128(
      _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), s));
}

/* prism__linalg_skinny_store for outputs n .. n+3 of row m, in the same order. */
static inline void store4(const prism__linalg_skinny_args *a, size_t m, size_t n, __m128 dot)
{
  float *y = a->Y + m * a->ldy + n;
  if (a->bias)
    dot = _mm_add_ps(dot, _mm_loadu_ps(a->bias + n));
  if (a->accumulate)
    dot = _mm_add_ps(_mm_loadu_ps(y), dot);
  _mm_storeu_ps(y, dot);
}

/* The same for an integer accumulator: exact, so any order would do. */
static inline __m128i reduce16x4_epi32(__m512i a, __m512i b, __m512i c, __m512i d)
{
  __m512i ab = _mm512_add_epi32(_mm512_shuffle_i32x4(a, b, 0x44), _mm512_shuffle_i32x4(a, b, 0xee));
  __m512i cd = _mm512_add_epi32(_mm512_shuffle_i32x4(c, d, 0x44), _mm512_shuffle_i32x4(c, d, 0xee));
  __m512i s =
      _mm512_add_epi32(_mm512_shuffle_i32x4(ab, cd, 0x88), _mm512_shuffle_i32x4(ab, cd, 0xdd));
  s = _mm512_add_epi32(s, _mm512_shuffle_epi32(s, (_MM_PERM_ENUM)0x4e));
  s = _mm512_add_epi32(s, _mm512_shuffle_epi32(s, (_MM_PERM_ENUM)0xb1));
  return _mm512_castsi512_si128(_mm512_permutexvar_epi32(
      _mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), s));
}

/*
 * Rows [m0, m1) of X against weight rows [n, n + r); r is a literal at each
 * call. The first group prefetches the next tile's rows when `prefetch`.
 */
static inline __attribute__((always_inline)) void rows(const prism__linalg_skinny_args *a, size_t n,
                                                       size_t m0, size_t m1, const int r,
                                                       const int variant, int prefetch)
{
  size_t m = m0;
  for (; m + MB <= m1; m += MB)
    tile(a, n, m, MB, r, variant, prefetch && m == m0);
  switch (m1 - m) {
  case 1:
    tile(a, n, m, 1, r, variant, prefetch && m == m0);
    break;
  case 2:
    tile(a, n, m, 2, r, variant, prefetch && m == m0);
    break;
  case 3:
    tile(a, n, m, 3, r, variant, prefetch && m == m0);
    break;
  case 4:
    tile(a, n, m, 4, r, variant, prefetch && m == m0);
    break;
  case 5:
    tile(a, n, m, 5, r, variant, prefetch && m == m0);
    break;
  default:
    break;
  }
}

/*
 * Up to PRISM__LINALG_TILE_M rows, each tile of W streams once for all of
 * them (the tile and the X rows stay in L1). Beyond, blocks of
 * PRISM__LINALG_PANEL_M rows run MB at a time over panels of PANEL_N weight
 * rows, which stay in L2 while the group's X rows stay in L1.
 */
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
          rows(a, n, m, me, R, variant, m == mc);
      }
      for (size_t n = full; n < nend; n++)
        rows(a, n, mc, mend, 1, variant, 0);
    }
  }
}

#endif
