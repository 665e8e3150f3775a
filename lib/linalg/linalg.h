/*
 * Internal face of lib/linalg, for the modules above it: dense linear algebra
 * over row-major float32. blas.c is the only file that includes cblas.h;
 * everything else calls these. The shared small numerics (one dot product,
 * saxpy, Cholesky) live here once, so every module sums in the same order.
 */
#ifndef PRISM__LINALG_H
#define PRISM__LINALG_H

#include <stddef.h>
#include <stdint.h>

/* C[M,N] = alpha * A[M,K] * B[N,K]^T + beta * C  (B stored as PyTorch Linear weights). */
void prism__linalg_sgemm_nt(size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                            const float *B, size_t ldb, float beta, float *C, size_t ldc);

/* y[N] = alpha * W[N,K] * x[K] + beta * y  (the one-row product, as OpenBLAS sgemv). */
void prism__linalg_sgemv(size_t N, size_t K, float alpha, const float *W, size_t ldw,
                         const float *x, float beta, float *y);

/* C[M,N] = alpha * A[M,K] * B[K,N] + beta * C. */
void prism__linalg_sgemm_nn(size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                            const float *B, size_t ldb, float beta, float *C, size_t ldc);

/*
 * C[M,N] = alpha * A[K,M]^T * B[K,N] + beta * C: the weight gradient of a
 * Linear layer, dW[out,in] += dY[n,out]^T X[n,in].
 */
void prism__linalg_sgemm_tn(size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                            const float *B, size_t ldb, float beta, float *C, size_t ldc);

/*
 * C[M,N] = alpha * op(A) op(B) + beta * C (op: transposed when trans_* is
 * nonzero; A is [M,K] or [K,M], B [K,N] or [N,K]) with K summed in blocks of
 * PRISM__LINALG_FIXED_K: the result is the same for any thread count, which
 * OpenBLAS alone does not give for every K. Training uses it.
 */
#define PRISM__LINALG_FIXED_K 256
void prism__linalg_sgemm_fixed(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                               const float *A, size_t lda, const float *B, size_t ldb, float beta,
                               float *C, size_t ldc);

/*
 * The same product on the worker pool: C in blocks of rows or columns fixed by
 * the shape, each through prism__linalg_sgemm_fixed on the thread that claims
 * it. The blocks do not depend on the thread count, so neither does the
 * result. Meant to run with OpenBLAS on one thread (prism__linalg_blas_serial),
 * so that the pool's threads are the only ones working.
 */
void prism__linalg_gemm_tiles(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                              const float *A, size_t lda, const float *B, size_t ldb, float beta,
                              float *C, size_t ldc);

/*
 * OpenBLAS on one thread (serial nonzero) or back on prism_get_num_threads():
 * a caller that spreads GEMM tiles over the pool sets it for its duration.
 */
void prism__linalg_blas_serial(int serial);

/* C[N,N] (upper and lower) = alpha * A[K,N]^T * A[K,N] + beta * C  (Gram matrix). */
void prism__linalg_ssyrk_t(size_t N, size_t K, float alpha, const float *A, size_t lda, float beta,
                           float *C, size_t ldc);

/*
 * Dot product with eight running sums (the tail continues the lanes) and a
 * fixed pairwise reduction: the compiler vectorises it without -ffast-math,
 * and the result never depends on threads. Every module's dot product is this
 * one, as is the portable skinny kernel's.
 */
static inline float prism__linalg_dot(const float *a, const float *b, size_t n)
{
  float s[8] = { 0 };
  size_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int l = 0; l < 8; l++)
      s[l] += a[k + l] * b[k + l];
  for (int l = 0; k < n; k++, l++)
    s[l] += a[k] * b[k];
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

/* y[0..n) += a * x[0..n). */
static inline void prism__linalg_saxpy(float *y, float a, const float *x, size_t n)
{
  for (size_t k = 0; k < n; k++)
    y[k] += a * x[k];
}

/*
 * In-place Cholesky of the symmetric positive definite A[n,n] (lower triangle
 * written, double accumulation); returns -1 when A is not positive definite.
 */
int prism__linalg_cholesky(float *A, int n);

/* Solve L L^T x = b in place for the factor of prism__linalg_cholesky. */
void prism__linalg_cholesky_solve(const float *L, int n, float *b);

/*
 * Skinny GEMM, Y[M,N] = X[M,K] * W[N,K]^T (+ bias) (+ Y), for the few-row
 * products of decoding (beams x batch rows, M <= PRISM__LINALG_SKINNY_MAX_M).
 *
 * At small M the product is bound by memory bandwidth, not arithmetic, so the
 * kernels stream every weight row exactly once for all M rows (a block of rows
 * is re-read from cache for each group of X rows) and split the N output
 * columns across the worker pool. Every output is computed by one thread in a
 * summation order fixed by K alone, so results are bitwise identical for any
 * thread count and any split of N. Larger M stays correct but belongs to SGEMM.
 *
 * W may also be stored as bfloat16 (prism__linalg_bf16_from_f32): half the
 * bytes to stream, an opt-in reduced-precision mode. With AVX512_BF16 the X
 * rows are rounded to bfloat16 too (vdpbf16ps); otherwise W is widened to float32.
 */
enum {
  PRISM__LINALG_SKINNY_ACCUMULATE = 1 << 0, /* Y += X W^T (+ bias) instead of Y = ... */
  PRISM__LINALG_FIXED = 1 << 1, /* prism__linalg_linear: SGEMM through prism__linalg_gemm_tiles */
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
