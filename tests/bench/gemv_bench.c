/*
 * The weight products (prism__linalg_matmul with float32, bfloat16 and int8
 * weights) vs OpenBLAS on the bart-base shapes, Y[M,N] = X[M,K] W[N,K]^T.
 *
 * Every call reads a different copy of W from a pool much larger than the
 * caches, as a decode step does (it streams ~350 MB of weights), so the
 * numbers are cold-cache bandwidth, not L3 hits. Implementations alternate
 * sample by sample; each row reports the median (and fastest) time, GB/s of weights read,
 * speed-up over OpenBLAS sgemm from the same run, and the ratio to the floor
 * (weight bytes / read bandwidth measured in the same run). Prints JSON.
 *
 * Usage: gemv_bench [threads (default 2)] [samples (default 7)] [hot|cold] [M,M,...]
 *                   [impl,impl,...]
 *
 * M defaults to 1,4,10,40; impls (default all) are skinny_f32, skinny_bf16,
 * skinny_q8, openblas_sgemm, openblas_sgemv (M = 1 only).
 *
 * `hot` reuses one copy of W, so the weights come from cache: it shows the
 * kernels' arithmetic speed apart from memory (ratio_to_floor is then moot).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "linalg/linalg.h"
#include "prism/prism.h"

#define POOL_BYTES ((size_t)384 << 20)
#define MAX_SAMPLES 64

typedef struct {
  size_t N, K;
  const char *name;
} shape;

static const shape shapes[] = {
  { 768, 768, "attn_proj_768x768" },
  { 3072, 768, "fc1_768to3072" },
  { 768, 3072, "fc2_3072to768" },
  { 50265, 768, "lm_head_768to50265" },
};
#define MAX_MS 16
static size_t Ms[MAX_MS] = { 1, 4, 10, 40 };
static size_t n_Ms = 4;

enum { SKINNY_F32, SKINNY_BF16, SKINNY_Q8, BLAS_SGEMM, BLAS_SGEMV, N_IMPL };
static const char *impl_names[N_IMPL] = { "skinny_f32", "skinny_bf16", "skinny_q8",
                                          "openblas_sgemm", "openblas_sgemv" };
static int impl_on[N_IMPL] = { 1, 1, 1, 1, 1 };

typedef struct {
  size_t M, N, K, copies, ldq;
  float *X, *Y, *W; /* W: `copies` matrices of N*K floats */
  uint16_t *Wh;     /* the same in bf16 */
  int8_t *Wq;       /* and in Q8 */
  float *scale;
  int32_t *rowsum;
  void *scratch;
} problem;

static int hot_cache;

static void call(const problem *p, int impl, size_t c)
{
  const float *W = p->W + c * p->N * p->K;
  switch (impl) {
  case SKINNY_F32:
    prism__linalg_skinny_gemm(p->M, p->N, p->K, p->X, p->K, W, p->K, NULL, p->Y, p->N, 0);
    break;
  case SKINNY_BF16: {
    prism__linalg_weight w = {
      PRISM__LINALG_W_BF16, p->N, p->K, p->Wh + c * p->N * p->K, p->K, NULL, NULL
    };
    prism__linalg_matmul(p->M, p->X, p->K, &w, NULL, p->Y, p->N, 0, p->scratch);
    break;
  }
  case SKINNY_Q8: {
    prism__linalg_weight w =
        prism__linalg_weight_q8(p->Wq + c * p->N * p->ldq, p->scale, p->rowsum, p->N, p->K);
    prism__linalg_matmul(p->M, p->X, p->K, &w, NULL, p->Y, p->N, 0, p->scratch);
    break;
  }
  case BLAS_SGEMM:
    prism__linalg_sgemm_nt(p->M, p->N, p->K, 1.0f, p->X, p->K, W, p->K, 0.0f, p->Y, p->N);
    break;
  default:
    for (size_t m = 0; m < p->M; m++)
      prism__linalg_sgemv(p->N, p->K, 1.0f, W, p->K, p->X + m * p->K, 0.0f, p->Y + m * p->N);
  }
}

/* Seconds per call: one sweep over all copies of W (hot: the same one, repeatedly). */
static double sample(const problem *p, int impl)
{
  size_t calls = hot_cache ? 20 : p->copies;
  double t = bench_now();
  for (size_t c = 0; c < calls; c++)
    call(p, impl, c % p->copies);
  return (bench_now() - t) / (double)calls;
}

static int problem_init(problem *p, const shape *s, size_t M)
{
  size_t one = s->N * s->K;
  p->M = M, p->N = s->N, p->K = s->K;
  p->copies = hot_cache ? 1 : POOL_BYTES / (one * sizeof(float));
  if (p->copies < 2 && !hot_cache)
    p->copies = 2;
  p->X = malloc(M * s->K * sizeof(float));
  p->Y = malloc(M * s->N * sizeof(float));
  p->W = malloc(p->copies * one * sizeof(float));
  p->Wh = malloc(p->copies * one * sizeof(uint16_t));
  p->ldq = prism__linalg_q8_ld(s->K);
  p->Wq = malloc(p->copies * s->N * p->ldq);
  p->scale = malloc(s->N * sizeof(float));
  p->rowsum = malloc(s->N * sizeof(int32_t));
  {
    prism__linalg_weight q = { PRISM__LINALG_W_Q8, s->N, s->K, NULL, 0, NULL, NULL };
    prism__linalg_weight b = { PRISM__LINALG_W_BF16, s->N, s->K, NULL, 0, NULL, NULL };
    size_t a = prism__linalg_matmul_scratch(M, &q), c = prism__linalg_matmul_scratch(M, &b);
    p->scratch = aligned_alloc(64, ((a > c ? a : c) + 63) / 64 * 64 + 64);
  }
  if (!p->X || !p->Y || !p->W || !p->Wh || !p->Wq || !p->scale || !p->rowsum || !p->scratch)
    return 0;
  for (size_t i = 0; i < M * s->K; i++)
    p->X[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
  for (size_t i = 0; i < one; i++)
    p->W[i] = (float)((i * 104729) % 2003) * 1e-3f - 1.0f;
  for (size_t c = 1; c < p->copies; c++)
    memcpy(p->W + c * one, p->W, one * sizeof(float));
  prism__linalg_bf16_from_f32(p->Wh, p->W, p->copies * one);
  prism__linalg_q8_quantize(p->Wq, p->ldq, p->scale, p->rowsum, p->W, s->K, s->N, s->K);
  for (size_t c = 1; c < p->copies; c++)
    memcpy(p->Wq + c * s->N * p->ldq, p->Wq, s->N * p->ldq);
  return 1;
}

static void problem_free(problem *p)
{
  free(p->X), free(p->Y), free(p->W), free(p->Wh), free(p->Wq), free(p->scale), free(p->rowsum);
  free(p->scratch);
}

/* Largest |skinny - sgemm| relative to the largest |sgemm| output: a sanity check. */
static double max_rel_diff(const problem *p)
{
  size_t n = p->M * p->N;
  float *ref = malloc(n * sizeof(float));
  double diff = 0.0, mag = 0.0;
  if (!ref)
    return NAN;
  call(p, BLAS_SGEMM, 0);
  memcpy(ref, p->Y, n * sizeof(float));
  call(p, SKINNY_F32, 0);
  for (size_t i = 0; i < n; i++) {
    diff = fmax(diff, fabs((double)p->Y[i] - ref[i]));
    mag = fmax(mag, fabs((double)ref[i]));
  }
  free(ref);
  return mag > 0 ? diff / mag : diff;
}

static void bench_shape(const shape *s, size_t M, int samples, double floor_gbs, int first)
{
  problem p;
  double t[N_IMPL][MAX_SAMPLES], med[N_IMPL], best[N_IMPL];
  int active[N_IMPL];
  for (int i = 0; i < N_IMPL; i++)
    active[i] = impl_on[i] && (i != BLAS_SGEMV || M == 1);

  if (!problem_init(&p, s, M)) {
    fprintf(stderr, "gemv_bench: out of memory\n");
    exit(1);
  }
  for (int i = 0; i < N_IMPL; i++) /* warm-up: pool threads, OpenBLAS buffers */
    if (active[i])
      call(&p, i, 0);
  for (int r = 0; r < samples; r++)
    for (int i = 0; i < N_IMPL; i++)
      if (active[i])
        t[i][r] = sample(&p, i);
  for (int i = 0; i < N_IMPL; i++)
    if (active[i]) {
      med[i] = bench_median(t[i], (size_t)samples); /* sorts: t[i][0] is the fastest */
      best[i] = t[i][0];
    }
  printf("%s    {\"shape\": \"%s\", \"M\": %zu, \"N\": %zu, \"K\": %zu, "
         "\"skinny_vs_sgemm_max_rel_diff\": %.2e, \"impls\": [",
         first ? "" : ",\n", s->name, M, s->N, s->K, max_rel_diff(&p));
  for (int i = 0, n = 0; i < N_IMPL; i++) {
    double bytes = (double)(s->N * s->K) * (i == SKINNY_BF16 ? 2.0 : i == SKINNY_Q8 ? 1.0 : 4.0);
    if (!active[i])
      continue;
    printf("%s\n      {\"impl\": \"%s\", \"us\": %.1f, \"us_min\": %.1f, \"weight_gbs\": %.2f, "
           "\"weight_gbs_max\": %.2f, \"speedup_vs_openblas_sgemm\": %.2f, "
           "\"speedup_vs_openblas_sgemm_min\": %.2f, \"ratio_to_floor\": %.2f}",
           n++ ? "," : "", impl_names[i], med[i] * 1e6, best[i] * 1e6, bytes / med[i] * 1e-9,
           bytes / best[i] * 1e-9, active[BLAS_SGEMM] ? med[BLAS_SGEMM] / med[i] : 0.0,
           active[BLAS_SGEMM] ? best[BLAS_SGEMM] / best[i] : 0.0,
           med[i] / (bytes / (floor_gbs * 1e9)));
  }
  printf("]}");
  fflush(stdout);
  problem_free(&p);
}

int main(int argc, char **argv)
{
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  int samples = argc > 2 ? atoi(argv[2]) : 7;
  size_t bw_bytes = (size_t)512 << 20;
  float *bw_buf = bench_alloc_filled(bw_bytes);
  double bw1, bwn;
  int first = 1;

  hot_cache = argc > 3 && strcmp(argv[3], "hot") == 0;
  if (argc > 4) {
    char *list = argv[4], *tok;
    for (n_Ms = 0; (tok = strtok(list, ",")) && n_Ms < MAX_MS; list = NULL)
      Ms[n_Ms++] = (size_t)strtoul(tok, NULL, 10);
  }
  if (argc > 5)
    for (int i = 0; i < N_IMPL; i++) {
      const char *at = strstr(argv[5], impl_names[i]);
      impl_on[i] = at != NULL;
    }
  if (!bw_buf || threads < 1 || samples < 1 || samples > MAX_SAMPLES) {
    fprintf(stderr, "usage: gemv_bench [threads >= 1] [samples 1..%d]\n", MAX_SAMPLES);
    return 1;
  }
  bw1 = bench_read_gbs(bw_buf, bw_bytes, 1, 5);
  bwn = bench_read_gbs(bw_buf, bw_bytes, threads, 5);
  free(bw_buf);
  prism_set_num_threads(threads);
  printf("{\"bench\": \"gemv\", \"threads\": %d, \"samples\": %d, \"weights\": \"%s\", "
         "\"cpu\": \"%s\", \"kernels\": {\"f32\": \"%s\", \"bf16\": \"%s\", \"q8\": \"%s\"}, "
         "\"read_gbs_1thread\": %.2f, \"read_gbs\": %.2f,\n  \"rows\": [\n",
         threads, samples, hot_cache ? "hot" : "cold", prism_cpu_features(),
         prism__linalg_kernel_name(PRISM__LINALG_W_F32),
         prism__linalg_kernel_name(PRISM__LINALG_W_BF16),
         prism__linalg_kernel_name(PRISM__LINALG_W_Q8), bw1, bwn);
  for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
    for (size_t m = 0; m < n_Ms; m++, first = 0)
      bench_shape(&shapes[s], Ms[m], samples, bwn, first);
  printf("\n  ]\n}\n");
  return 0;
}
