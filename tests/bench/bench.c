/* Shared helpers of the C benchmarks (see bench.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "common/cpu.h"
#include "common/pool.h"
#include "prism/prism.h"

#if defined(__x86_64__) || defined(__i386__)
#  include <immintrin.h>
#  define BENCH_X86 1
#endif

double bench_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

float *bench_alloc_filled(size_t bytes)
{
  float *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (p)
    for (size_t i = 0; i < bytes / sizeof(float); i++)
      p[i] = (float)(i % 251) * 0.5f;
  return p;
}

/* Four independent accumulators keep enough loads in flight to saturate memory. */
static float sum_scalar(const float *p, size_t n)
{
  float s[4] = { 0 };
  for (size_t i = 0; i + 4 <= n; i += 4)
    for (int l = 0; l < 4; l++)
      s[l] += p[i + l];
  return s[0] + s[1] + s[2] + s[3];
}

#ifdef BENCH_X86
__attribute__((target("avx512f"))) static float sum_avx512(const float *p, size_t n)
{
  __m512 a = _mm512_setzero_ps(), b = a, c = a, d = a;
  for (size_t i = 0; i + 64 <= n; i += 64) {
    a = _mm512_add_ps(a, _mm512_load_ps(p + i));
    b = _mm512_add_ps(b, _mm512_load_ps(p + i + 16));
    c = _mm512_add_ps(c, _mm512_load_ps(p + i + 32));
    d = _mm512_add_ps(d, _mm512_load_ps(p + i + 48));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
}

__attribute__((target("avx2"))) static float sum_avx2(const float *p, size_t n)
{
  __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a;
  float out[8];
  for (size_t i = 0; i + 32 <= n; i += 32) {
    a = _mm256_add_ps(a, _mm256_load_ps(p + i));
    b = _mm256_add_ps(b, _mm256_load_ps(p + i + 8));
    c = _mm256_add_ps(c, _mm256_load_ps(p + i + 16));
    d = _mm256_add_ps(d, _mm256_load_ps(p + i + 24));
  }
  _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d)));
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}
#endif

typedef struct {
  const float *buf;
  float partial[64];
} sum_job;

#define SUM_BLOCK ((size_t)1 << 20) /* floats per pool item: 4 MiB */

static void sum_range(void *ctx, size_t b, size_t e)
{
  sum_job *job = ctx;
  const float *p = job->buf + b * SUM_BLOCK;
  size_t n = (e - b) * SUM_BLOCK;
  float s;
#ifdef BENCH_X86
  unsigned cpu = prism__cpu_flags();
  s = (cpu & PRISM__CPU_AVX512) ? sum_avx512(p, n)
      : (cpu & PRISM__CPU_AVX2) ? sum_avx2(p, n)
                                : sum_scalar(p, n);
#else
  s = sum_scalar(p, n);
#endif
  job->partial[b % 64] += s; /* keeps the loads alive; the value is irrelevant */
}

double bench_read_gbs(const float *buf, size_t bytes, int threads, int reps)
{
  sum_job job;
  size_t blocks = bytes / (SUM_BLOCK * sizeof(float));
  double best = 1e30;
  int saved = prism_get_num_threads();

  memset(&job, 0, sizeof job);
  job.buf = buf;
  prism_set_num_threads(threads);
  for (int r = 0; r < reps; r++) {
    double t = bench_now();
    prism__parallel_for(blocks, 1, sum_range, &job);
    t = bench_now() - t;
    if (t < best)
      best = t;
  }
  prism_set_num_threads(saved);
  return (double)(blocks * SUM_BLOCK * sizeof(float)) / best * 1e-9;
}
