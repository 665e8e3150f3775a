/* The only file that includes cblas.h. */
#include <cblas.h>

#include "common/pool.h"
#include "linalg.h"
#include "prism/common.h"

/* One thread knob for libprism's pool and OpenBLAS (docs/api-conventions.md). */
PRISM_API int prism_set_num_threads(int n)
{
  n = prism__pool_set_threads(n);
#ifdef PRISM__HAVE_OPENBLAS_THREADS
  openblas_set_num_threads(n);
#endif
  return n;
}

void prism__linalg_sgemm_nt(size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                            const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)N, (int)K, alpha, A, (int)lda,
              B, (int)ldb, beta, C, (int)ldc);
}

void prism__linalg_sgemv(size_t N, size_t K, float alpha, const float *W, size_t ldw,
                         const float *x, float beta, float *y)
{
  cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)N, (int)K, alpha, W, (int)ldw, x, 1, beta, y, 1);
}

void prism__linalg_sgemm_nn(size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                            const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)K, alpha, A, (int)lda,
              B, (int)ldb, beta, C, (int)ldc);
}

void prism__linalg_sgemm_tn(size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                            const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)M, (int)N, (int)K, alpha, A, (int)lda,
              B, (int)ldb, beta, C, (int)ldc);
}

/*
 * OpenBLAS cuts a long K into blocks whose sizes depend on its thread count,
 * which changes how each output is rounded; a K of at most
 * PRISM__LINALG_FIXED_K is one block for any thread count. Longer products
 * are summed here in such blocks, in order.
 */
void prism__linalg_sgemm_fixed(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                               const float *A, size_t lda, const float *B, size_t ldb, float beta,
                               float *C, size_t ldc)
{
  size_t k0 = 0;
  do {
    size_t kb = K - k0 < PRISM__LINALG_FIXED_K ? K - k0 : PRISM__LINALG_FIXED_K;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)kb, alpha,
                trans_a ? A + k0 * lda : A + k0, (int)lda, trans_b ? B + k0 : B + k0 * ldb,
                (int)ldb, k0 ? 1.0f : beta, C, (int)ldc);
    k0 += kb;
  } while (k0 < K);
}

void prism__linalg_ssyrk_t(size_t N, size_t K, float alpha, const float *A, size_t lda, float beta,
                           float *C, size_t ldc)
{
  cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)N, (int)K, alpha, A, (int)lda, beta, C,
              (int)ldc);
  for (size_t i = 0; i < N; i++)
    for (size_t j = 0; j < i; j++)
      C[i * ldc + j] = C[j * ldc + i];
}
