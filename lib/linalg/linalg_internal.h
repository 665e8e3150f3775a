/*
 * Internal to lib/linalg: the per-ISA weight-product kernels. Each one computes
 * output columns [n0, n1) of one prism__linalg_skinny_args; skinny.c converts
 * X when the weight type needs it, dispatches and threads. The ISA files are
 * compiled with their own -m flags.
 */
#ifndef PRISM__LINALG_INTERNAL_H
#define PRISM__LINALG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "linalg.h"

typedef struct {
  size_t M, K;
  const void *X; /* float rows; bfloat16 rows (vdpbf16ps); uint8_t rows (Q8) */
  size_t ldx;    /* in elements of X's type */
  const void *W; /* float, uint16_t (bfloat16) or int8_t rows of ldw elements */
  size_t ldw;
  const float *bias; /* or NULL */
  float *Y;
  size_t ldy;
  int accumulate;
  /* Q8: X row m is sx[m] * (u - zx[m]); W row n is wscale[n] * q with row sum wsum[n]. */
  const float *sx;
  const int32_t *zx;
  const float *wscale;
  const int32_t *wsum;
} prism__linalg_skinny_args;

typedef void (*prism__linalg_skinny_kernel)(const prism__linalg_skinny_args *a, size_t n0,
                                            size_t n1);

/*
 * Up to PRISM__LINALG_TILE_M rows of X, each tile of W is read once for all of
 * them (M = 40 measured 2-11% faster with panels, X no longer fitting L1);
 * beyond, panels of W stay in L2 while blocks of PRISM__LINALG_PANEL_M rows
 * pass over them.
 */
#define PRISM__LINALG_TILE_M 12
#define PRISM__LINALG_PANEL_M 96

/* Shared epilogue so every kernel rounds the same way after its dot product. */
static inline void prism__linalg_skinny_store(const prism__linalg_skinny_args *a, size_t m,
                                              size_t n, float dot)
{
  float *y = a->Y + m * a->ldy + n;
  if (a->bias)
    dot += a->bias[n];
  *y = a->accumulate ? *y + dot : dot;
}

/*
 * The Q8 epilogue, the same on every path: the exact integer sum less the
 * zero point's share, converted once, times the two scales.
 */
static inline float prism__linalg_q8_value(const prism__linalg_skinny_args *a, size_t m, size_t n,
                                           int32_t sum)
{
  float scale = a->sx[m] * a->wscale[n];
  return (float)(sum - a->zx[m] * a->wsum[n]) * scale;
}

void prism__linalg_skinny_f32_portable(const prism__linalg_skinny_args *a, size_t n0, size_t n1);
void prism__linalg_skinny_bf16_portable(const prism__linalg_skinny_args *a, size_t n0, size_t n1);
void prism__linalg_skinny_q8_portable(const prism__linalg_skinny_args *a, size_t n0, size_t n1);
void prism__linalg_skinny_f32_avx2(const prism__linalg_skinny_args *a, size_t n0, size_t n1);
void prism__linalg_skinny_bf16_avx2(const prism__linalg_skinny_args *a, size_t n0, size_t n1);
void prism__linalg_skinny_q8_avx2(const prism__linalg_skinny_args *a, size_t n0, size_t n1);
void prism__linalg_skinny_f32_avx512(const prism__linalg_skinny_args *a, size_t n0, size_t n1);
void prism__linalg_skinny_bf16_avx512(const prism__linalg_skinny_args *a, size_t n0, size_t n1);
void prism__linalg_skinny_bf16_avx512bf16(const prism__linalg_skinny_args *a, size_t n0, size_t n1);
void prism__linalg_skinny_q8_avx512vnni(const prism__linalg_skinny_args *a, size_t n0, size_t n1);

/* X rows rounded to bfloat16 for vdpbf16ps, each zero-padded to ldu (a multiple of 32). */
void prism__linalg_x_bf16_avx512bf16(uint16_t *u, size_t ldu, const float *X, size_t ldx, size_t M,
                                     size_t K);

/*
 * Q8 activations: X rows [M, K] (float, ldx apart) to unsigned bytes [M, ldu]
 * (K rounded up to 64, the tail zero), with per-row scale sx and zero point
 * zx. The AVX-512 version gives the same bytes as the portable one.
 */
void prism__linalg_q8_rows(uint8_t *u, size_t ldu, float *sx, int32_t *zx, const float *X,
                           size_t ldx, size_t M, size_t K);
void prism__linalg_q8_rows_avx512(uint8_t *u, size_t ldu, float *sx, int32_t *zx, const float *X,
                                  size_t ldx, size_t M, size_t K);

/* vmath: exp and GELU per ISA (the same bits on each). */
void prism__linalg_exp_avx512(float *y, const float *x, size_t n);
void prism__linalg_gelu_avx512(float *x, size_t n);
void prism__linalg_exp_avx2(float *y, const float *x, size_t n);
void prism__linalg_gelu_avx2(float *x, size_t n);

/* One row's scale and zero point (shared so both versions agree): lo <= 0 <= hi. */
static inline void prism__linalg_q8_params(float lo, float hi, float *scale, float *inv,
                                           int32_t *zero)
{
  float range = hi - lo;
  if (range > 3.4028235e38f) { /* hi - lo overflowed: the same scale from halves */
    *scale = hi / 255.0f - lo / 255.0f;
    *inv = 1.0f / *scale;
  } else {
    *scale = range / 255.0f;
    *inv = 255.0f / range;
  }
  /*
   * All zeros, or a range so small (below about 1e-36) that 255 / range is
   * not finite: every byte is the zero point 0 and the row counts as zeros.
   */
  if (!(range > 0.0f) || !(*inv <= 3.4028235e38f)) {
    *scale = 0.0f;
    *inv = 0.0f;
    *zero = 0;
    return;
  }
  *zero = (int32_t)__builtin_rintf(-lo * *inv);
}

#endif
