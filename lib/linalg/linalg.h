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
 * Products with weight matrices, Y[M,N] = X[M,K] * W[N,K]^T (+ bias) (+ Y),
 * W stored as PyTorch Linear weights: the Linear layers and the LM head of
 * inference, for any M.
 *
 * At small M (the beams and batch rows of a decode step) the product is bound
 * by memory bandwidth, not arithmetic, so the kernels stream every weight row
 * once for all M rows (a tile of weight rows is re-read from cache for each
 * group of X rows) and split the N output columns across the worker pool; at
 * larger M (an encoder pass) they block W in panels that stay in cache while
 * groups of X rows pass over them. Every output is one dot product over K in
 * an order fixed by K alone, so results are bitwise identical for any M, any
 * thread count and any split of N.
 *
 * W is float32 (used in place, from the mapping), bfloat16 or int8 with a
 * scale per row (both made once at load: opt-in reduced precision).
 *  - bfloat16: with AVX512_BF16 (on cores without AVX512_FP16, where
 *    vdpbf16ps issues fast) the X rows are rounded to bfloat16 once per call;
 *    otherwise W is widened to float32 and X stays float32.
 *  - int8 (Q8): w[n,k] ~ scale[n] * q[n,k], q in [-127, 127] (symmetric, per
 *    output row). Each X row is quantised per call to unsigned 8 bits with its
 *    own scale and zero point z (x ~ sx * (u - z)), the products are summed
 *    exactly in int32 (vpdpbusd with AVX512_VNNI), and the offset is taken off
 *    with the row sums of q made at load:
 *      y = sx * scale[n] * (sum_k u_k q_nk - z * rowsum[n]).
 *    The integer sums are exact and the float epilogue is the same code on
 *    every path, so Q8 results are bitwise identical on every ISA too.
 */
enum {
  PRISM__LINALG_SKINNY_ACCUMULATE = 1 << 0, /* Y += X W^T (+ bias) instead of Y = ... */
  PRISM__LINALG_FIXED = 1 << 1, /* prism__linalg_linear: SGEMM through prism__linalg_gemm_tiles */
};

/*
 * Above this many rows prism__linalg_linear hands a training product to SGEMM
 * (prism__linalg_gemm_tiles with PRISM__LINALG_FIXED). Inference runs every M
 * through prism__linalg_matmul.
 */
#define PRISM__LINALG_SKINNY_MAX_M 48

typedef enum prism__linalg_wtype {
  PRISM__LINALG_W_F32,
  PRISM__LINALG_W_BF16,
  PRISM__LINALG_W_Q8,
} prism__linalg_wtype;

/* A weight matrix as the kernels read it. */
typedef struct prism__linalg_weight {
  prism__linalg_wtype type;
  size_t N, K;
  const void *data; /* N rows of `ld` elements: float, uint16_t (bfloat16) or int8_t */
  size_t ld;
  const float *scale;    /* Q8: per row */
  const int32_t *rowsum; /* Q8: sum over k of q[n, k] */
} prism__linalg_weight;

/* A float32 weight used in place. */
prism__linalg_weight prism__linalg_weight_f32(const float *W, size_t N, size_t K, size_t ld);

/*
 * Y[M,N] = X W^T (+ bias) (+ Y with PRISM__LINALG_SKINNY_ACCUMULATE), any M.
 * `scratch` holds prism__linalg_matmul_scratch(M, W) bytes (the converted X
 * rows), 64-byte aligned; NULL is fine when that is 0 (float32 weights).
 */
void prism__linalg_matmul(size_t M, const float *X, size_t ldx, const prism__linalg_weight *W,
                          const float *bias, float *Y, size_t ldy, unsigned flags, void *scratch);
size_t prism__linalg_matmul_scratch(size_t M, const prism__linalg_weight *W);

/* The same for float32 W (no scratch needed). */
void prism__linalg_skinny_gemm(size_t M, size_t N, size_t K, const float *X, size_t ldx,
                               const float *W, size_t ldw, const float *bias, float *Y, size_t ldy,
                               unsigned flags);

/*
 * A Linear layer on float32 weights, Y[M,N] = X W^T (+ bias) (+ Y): with
 * PRISM__LINALG_FIXED (training) the skinny kernel up to
 * PRISM__LINALG_SKINNY_MAX_M rows and prism__linalg_gemm_tiles above, as the
 * trainer's results were made; otherwise prism__linalg_matmul.
 */
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

/* Bytes per row of a Q8 matrix with K columns: K rounded up to 64, the tail zero. */
size_t prism__linalg_q8_ld(size_t K);

/*
 * Quantise W[N,K] (rows ld_w floats apart) to Q8: q [N, ld_q] (ld_q from
 * prism__linalg_q8_ld), scale [N], rowsum [N]. scale[n] = max_k |w[n,k]| / 127
 * and q = round(w / scale) to nearest even; a row of zeros gets scale 0.
 * Non-finite weights are refused (returns -1, nothing else is promised).
 */
int prism__linalg_q8_quantize(int8_t *q, size_t ld_q, float *scale, int32_t *rowsum, const float *W,
                              size_t ld_w, size_t N, size_t K);

/* A Q8 weight over such arrays. */
prism__linalg_weight prism__linalg_weight_q8(const int8_t *q, const float *scale,
                                             const int32_t *rowsum, size_t N, size_t K);

/*
 * y[i] = e^x[i] (y may be x): relative error about 1e-7; arguments below
 * -87.3 give about 1e-38, not 0. The same bits on every ISA and for any split
 * of the array.
 */
void prism__linalg_exp(float *y, const float *x, size_t n);

/* x[i] = GELU(x[i]) = x/2 (1 + erf(x / sqrt 2)), erf to about 1e-7; same bits on every ISA. */
void prism__linalg_gelu(float *x, size_t n);

/*
 * Kernel choice: each weight type runs the best family the allowed CPU
 * features have (float32: AVX-512 > AVX2 > portable; bfloat16: AVX512_BF16 >
 * AVX-512 > AVX2 > portable; Q8: AVX512_VNNI > AVX2 > portable). The allowed
 * features are prism__cpu_flags() (PRISM_CPU_MASK clears bits), or a subset
 * a test forces.
 */
unsigned prism__linalg_features(void);

/* Test hook: allow only `mask` (PRISM__CPU_* bits); 0 when the CPU lacks one; -1 restores. */
int prism__linalg_force_features(int mask);

/* The family that runs weights of `type` now: "portable", "avx2", "avx512", "avx512bf16", "avx512vnni". */
const char *prism__linalg_kernel_name(prism__linalg_wtype type);

#endif
