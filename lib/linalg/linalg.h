/*
 * Internal: dense linear algebra. blas.c is the only file that includes cblas.h;
 * everything else calls these wrappers. Matrices are row-major float32.
 */
#ifndef PRISM__LINALG_H
#define PRISM__LINALG_H

#include <stddef.h>

/* C[M,N] = alpha * A[M,K] * B[N,K]^T + beta * C  (B stored as PyTorch Linear weights). */
void prism__linalg_sgemm_nt(size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                            const float *B, size_t ldb, float beta, float *C, size_t ldc);

/* y[N] = alpha * W[N,K] * x[K] + beta * y  (the one-row product, as OpenBLAS sgemv). */
void prism__linalg_sgemv(size_t N, size_t K, float alpha, const float *W, size_t ldw,
                         const float *x, float beta, float *y);

/* C[M,N] = alpha * A[M,K] * B[K,N] + beta * C. */
void prism__linalg_sgemm_nn(size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                            const float *B, size_t ldb, float beta, float *C, size_t ldc);

/* C[M,N] = alpha * A[K,M]^T * B[K,N] + beta * C. */
void prism__linalg_sgemm_tn(size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                            const float *B, size_t ldb, float beta, float *C, size_t ldc);

/* C[N,N] (upper and lower) = alpha * A[K,N]^T * A[K,N] + beta * C  (Gram matrix). */
void prism__linalg_ssyrk_t(size_t N, size_t K, float alpha, const float *A, size_t lda, float beta,
                           float *C, size_t ldc);

#endif
