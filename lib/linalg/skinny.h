/*
 * Internal: skinny GEMM, Y[M,N] = X[M,K] * W[N,K]^T (+ bias) (+ Y), for the
 * few-row products of decoding (beams x batch rows, M <= PRISM__LINALG_SKINNY_MAX_M).
 *
 * At small M the product is bound by memory bandwidth, not arithmetic, so the
 * kernels stream every weight row exactly once for all M rows (a block of rows
 * is re-read from cache for each group of X rows) and split the N output
 * columns across the worker pool. Every output is computed by one thread in a
 * summation order fixed by K alone, so results are bitwise identical for any
 * thread count and any split of N. Larger M stays correct but belongs to SGEMM.
 *
 * W may also be stored as bfloat16 (prism__linalg_bf16_from_f32): half the bytes to
 * stream, an opt-in reduced-precision mode. With AVX512_BF16 the X rows are
 * rounded to bfloat16 too (vdpbf16ps); otherwise W is widened to float32.
 */
#ifndef PRISM__LINALG_SKINNY_H
#define PRISM__LINALG_SKINNY_H

#include <stddef.h>
#include <stdint.h>

enum {
  PRISM__LINALG_SKINNY_ACCUMULATE = 1 << 0, /* Y += X W^T (+ bias) instead of Y = ... */
};

/*
 * Above this many rows prism__linalg_linear hands the product to SGEMM. Measured on
 * bart-base shapes, the skinny kernel still beats OpenBLAS 1.6-2.3x at 40 rows
 * (beam 4 x batch 10); the encoder's 64+ rows per input stay on SGEMM.
 */
#define PRISM__LINALG_SKINNY_MAX_M 48

/* Kernel families, in order of preference. */
typedef enum {
  PRISM__LINALG_SKINNY_PORTABLE = 0,
  PRISM__LINALG_SKINNY_AVX2 = 1,      /* AVX2 + FMA */
  PRISM__LINALG_SKINNY_AVX512 = 2,    /* AVX-512 F/BW/VL/DQ */
  PRISM__LINALG_SKINNY_AVX512BF16 = 3 /* bf16 weights only: vdpbf16ps; float32 W uses AVX512 */
} prism__linalg_skinny_isa;

/* bias may be NULL; flags is a mask of PRISM__LINALG_SKINNY_*. Strides in elements. */
void prism__linalg_skinny_gemm(size_t M, size_t N, size_t K, const float *X, size_t ldx,
                               const float *W, size_t ldw, const float *bias, float *Y, size_t ldy,
                               unsigned flags);

/* The same with W as bfloat16 bit patterns (see prism__linalg_bf16_from_f32). */
void prism__linalg_skinny_gemm_bf16(size_t M, size_t N, size_t K, const float *X, size_t ldx,
                                    const uint16_t *W, size_t ldw, const float *bias, float *Y,
                                    size_t ldy, unsigned flags);

/* A Linear layer, Y[M,N] = X W^T (+ bias) (+ Y): the skinny kernel up to
 * PRISM__LINALG_SKINNY_MAX_M rows, OpenBLAS SGEMM above. Same arguments as above. */
void prism__linalg_linear(size_t M, size_t N, size_t K, const float *X, size_t ldx, const float *W,
                          size_t ldw, const float *bias, float *Y, size_t ldy, unsigned flags);

/* float32 -> bfloat16, round to nearest even; NaN stays NaN. */
void prism__linalg_bf16_from_f32(uint16_t *dst, const float *src, size_t n);
uint16_t prism__linalg_bf16_round(float f);

static inline float prism__linalg_bf16_to_f32(uint16_t h)
{
  union {
    uint32_t u;
    float f;
  } v;
  v.u = (uint32_t)h << 16;
  return v.f;
}

/* The family the calls above use: the best one prism__cpu_flags() allows. */
prism__linalg_skinny_isa prism__linalg_skinny_isa_active(void);
int prism__linalg_skinny_isa_available(prism__linalg_skinny_isa isa);

/* Test hook: force a family (returns 0 if this CPU or build lacks it); -1 restores auto. */
int prism__linalg_skinny_force_isa(int isa);

#endif
