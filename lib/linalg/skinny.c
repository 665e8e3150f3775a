/* Skinny GEMM: runtime dispatch, threading over N, portable kernels, bf16 packing. */
#include <stdatomic.h>
#include <string.h>

#include "common/cpu.h"
#include "common/pool.h"
#include "linalg_internal.h"

/* Bytes of weights one pool task should stream at least, so waking a worker pays. */
#define TASK_BYTES ((size_t)64 * 1024)

static atomic_int forced_isa = -1;

int prism__linalg_skinny_isa_available(prism__linalg_skinny_isa isa)
{
  unsigned cpu = prism__cpu_flags();

  (void)cpu; /* unused when no SIMD kernels are built (non-x86) */
  switch (isa) {
  case PRISM__LINALG_SKINNY_PORTABLE:
    return 1;
#ifdef PRISM__HAVE_SKINNY_X86
  case PRISM__LINALG_SKINNY_AVX2:
    return (cpu & PRISM__CPU_AVX2) != 0;
  case PRISM__LINALG_SKINNY_AVX512:
    return (cpu & PRISM__CPU_AVX512) != 0;
#endif
#ifdef PRISM__HAVE_SKINNY_AVX512BF16
  case PRISM__LINALG_SKINNY_AVX512BF16:
    return (cpu & PRISM__CPU_AVX512) && (cpu & PRISM__CPU_AVX512BF16);
#endif
  default:
    return 0;
  }
}

int prism__linalg_skinny_force_isa(int isa)
{
  if (isa >= 0 && !prism__linalg_skinny_isa_available((prism__linalg_skinny_isa)isa))
    return 0;
  atomic_store(&forced_isa, isa);
  return 1;
}

prism__linalg_skinny_isa prism__linalg_skinny_isa_active(void)
{
  int forced = atomic_load(&forced_isa);
  if (forced >= 0)
    return (prism__linalg_skinny_isa)forced;
  for (int isa = PRISM__LINALG_SKINNY_AVX512BF16; isa > PRISM__LINALG_SKINNY_PORTABLE; isa--)
    if (prism__linalg_skinny_isa_available((prism__linalg_skinny_isa)isa))
      return (prism__linalg_skinny_isa)isa;
  return PRISM__LINALG_SKINNY_PORTABLE;
}

static prism__linalg_skinny_kernel pick_kernel(int bf16)
{
  switch (prism__linalg_skinny_isa_active()) {
#ifdef PRISM__HAVE_SKINNY_AVX512BF16
  case PRISM__LINALG_SKINNY_AVX512BF16:
    return bf16 ? prism__linalg_skinny_bf16_avx512bf16 : prism__linalg_skinny_f32_avx512;
#endif
#ifdef PRISM__HAVE_SKINNY_X86
  case PRISM__LINALG_SKINNY_AVX512:
    return bf16 ? prism__linalg_skinny_bf16_avx512 : prism__linalg_skinny_f32_avx512;
  case PRISM__LINALG_SKINNY_AVX2:
    return bf16 ? prism__linalg_skinny_bf16_avx2 : prism__linalg_skinny_f32_avx2;
#endif
  default:
    return bf16 ? prism__linalg_skinny_bf16_portable : prism__linalg_skinny_f32_portable;
  }
}

typedef struct {
  prism__linalg_skinny_kernel kernel;
  prism__linalg_skinny_args args;
} skinny_job;

static void run_columns(void *ctx, size_t n0, size_t n1)
{
  const skinny_job *job = ctx;
  job->kernel(&job->args, n0, n1);
}

static void skinny_run(size_t N, size_t elem_size, int bf16, const prism__linalg_skinny_args *args)
{
  skinny_job job = { pick_kernel(bf16), *args };
  size_t row_bytes = args->K * elem_size;
  size_t grain = row_bytes ? (TASK_BYTES + row_bytes - 1) / row_bytes : N;

  if (N == 0 || args->M == 0)
    return;
  prism__parallel_for(N, grain, run_columns, &job);
}

void prism__linalg_skinny_gemm(size_t M, size_t N, size_t K, const float *X, size_t ldx,
                               const float *W, size_t ldw, const float *bias, float *Y, size_t ldy,
                               unsigned flags)
{
  prism__linalg_skinny_args a = {
    M, K, X, ldx, W, ldw, bias, Y, ldy, (flags & PRISM__LINALG_SKINNY_ACCUMULATE) != 0
  };
  skinny_run(N, sizeof(float), 0, &a);
}

void prism__linalg_skinny_gemm_bf16(size_t M, size_t N, size_t K, const float *X, size_t ldx,
                                    const uint16_t *W, size_t ldw, const float *bias, float *Y,
                                    size_t ldy, unsigned flags)
{
  prism__linalg_skinny_args a = {
    M, K, X, ldx, W, ldw, bias, Y, ldy, (flags & PRISM__LINALG_SKINNY_ACCUMULATE) != 0
  };
  skinny_run(N, sizeof(uint16_t), 1, &a);
}

void prism__linalg_linear(size_t M, size_t N, size_t K, const float *X, size_t ldx, const float *W,
                          size_t ldw, const float *bias, float *Y, size_t ldy, unsigned flags)
{
  if (M <= PRISM__LINALG_SKINNY_MAX_M) {
    prism__linalg_skinny_gemm(M, N, K, X, ldx, W, ldw, bias, Y, ldy, flags);
    return;
  }
  if (flags & PRISM__LINALG_FIXED)
    prism__linalg_gemm_tiles(0, 1, M, N, K, 1.0f, X, ldx, W, ldw,
                             (flags & PRISM__LINALG_SKINNY_ACCUMULATE) ? 1.0f : 0.0f, Y, ldy);
  else
    prism__linalg_sgemm_nt(M, N, K, 1.0f, X, ldx, W, ldw,
                           (flags & PRISM__LINALG_SKINNY_ACCUMULATE) ? 1.0f : 0.0f, Y, ldy);
  if (bias)
    for (size_t m = 0; m < M; m++)
      for (size_t n = 0; n < N; n++)
        Y[m * ldy + n] += bias[n];
}

uint16_t prism__linalg_bf16_round(float f)
{
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t)((u >> 16) | 0x40); /* quiet NaN, sign kept */
  u += 0x7fffu + ((u >> 16) & 1);
  return (uint16_t)(u >> 16);
}

void prism__linalg_bf16_from_f32(uint16_t *dst, const float *src, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = prism__linalg_bf16_round(src[i]);
}

/* Portable kernels: prism__linalg_dot's lanes and reduction order (bf16 W widened). */
#define LANES 8

static float dot_bf16(const float *x, const uint16_t *w, size_t K)
{
  float s[LANES] = { 0 };
  size_t k = 0;
  for (; k + LANES <= K; k += LANES)
    for (int l = 0; l < LANES; l++)
      s[l] += x[k + l] * prism__linalg_bf16_to_f32(w[k + l]);
  for (int l = 0; k < K; k++, l++)
    s[l] += x[k] * prism__linalg_bf16_to_f32(w[k]);
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

void prism__linalg_skinny_f32_portable(const prism__linalg_skinny_args *a, size_t n0, size_t n1)
{
  const float *W = a->W;
  for (size_t n = n0; n < n1; n++)
    for (size_t m = 0; m < a->M; m++)
      prism__linalg_skinny_store(a, m, n,
                                 prism__linalg_dot(a->X + m * a->ldx, W + n * a->ldw, a->K));
}

void prism__linalg_skinny_bf16_portable(const prism__linalg_skinny_args *a, size_t n0, size_t n1)
{
  const uint16_t *W = a->W;
  for (size_t n = n0; n < n1; n++)
    for (size_t m = 0; m < a->M; m++)
      prism__linalg_skinny_store(a, m, n, dot_bf16(a->X + m * a->ldx, W + n * a->ldw, a->K));
}
