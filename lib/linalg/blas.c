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

void prism__linalg_blas_serial(int serial)
{
#ifdef PRISM__HAVE_OPENBLAS_THREADS
  openblas_set_num_threads(serial ? 1 : prism_get_num_threads());
#else
  (void)serial;
#endif
}

typedef struct tile_job {
  int ta, tb, along_m;
  size_t M, N, K, block;
  float alpha, beta;
  const float *A, *B;
  size_t lda, ldb, ldc;
  float *C;
} tile_job;

static void tile_range(void *ctx, size_t begin, size_t end)
{
  const tile_job *j = ctx;
  for (size_t t = begin; t < end; t++) {
    size_t dim = j->along_m ? j->M : j->N, at = t * j->block;
    size_t len = dim - at < j->block ? dim - at : j->block;
    if (j->along_m)
      prism__linalg_sgemm_fixed(j->ta, j->tb, len, j->N, j->K, j->alpha,
                                j->ta ? j->A + at : j->A + at * j->lda, j->lda, j->B, j->ldb,
                                j->beta, j->C + at * j->ldc, j->ldc);
    else
      prism__linalg_sgemm_fixed(j->ta, j->tb, j->M, len, j->K, j->alpha, j->A, j->lda,
                                j->tb ? j->B + at * j->ldb : j->B + at, j->ldb, j->beta, j->C + at,
                                j->ldc);
  }
}

/*
 * Blocks of the larger output dimension: either way each block packs the other
 * operand again, about M*N*K / block floats in all, so blocks stay near 192.
 * An even count of them balances two threads; it depends on the shape alone.
 */
void prism__linalg_gemm_tiles(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                              const float *A, size_t lda, const float *B, size_t ldb, float beta,
                              float *C, size_t ldc)
{
  tile_job j = { trans_a, trans_b, M >= N, M, N, K, 0, alpha, beta, A, B, lda, ldb, ldc, C };
  size_t dim = j.along_m ? M : N, blocks = dim >= 64 ? 2 * ((dim + 383) / 384) : 1;
  if (!M || !N)
    return;
  j.block = ((dim + blocks - 1) / blocks + 15) / 16 * 16;
  prism__parallel_for((dim + j.block - 1) / j.block, 1, tile_range, &j);
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
