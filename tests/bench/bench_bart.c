/*
 * BART benchmark: memory after load against the checkpoint size, encoder time,
 * and decoder step time against the memory-bandwidth floor measured in the
 * same run (every step streams the decoder weights and the LM head), and
 * against one plain SGEMM over the same number of weights (the GEMM-only peer:
 * what the step would cost if everything but the weight GEMMs were free).
 *
 *   /usr/bin/python3 tests/bench/make_bart_checkpoint.py /tmp/bart-base
 *   build/tests/bart/bench_bart /tmp/bart-base [--threads N]
 *
 * Prints one JSON object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <prism/prism.h>

#include "linalg/linalg.h"

#define MB (1024.0 * 1024.0)
#define SRC_LEN 128
#define STEPS 16

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* VmRSS or VmHWM of this process in bytes. */
static double proc_status_bytes(const char *key)
{
  char line[256];
  double kb = 0;
  size_t n = strlen(key);
  FILE *f = fopen("/proc/self/status", "r");
  if (!f)
    return 0;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, key, n) == 0 && line[n] == ':')
      kb = atof(line + n + 1);
  fclose(f);
  return kb * 1024.0;
}

/* The peer: single-pass read bandwidth over a buffer larger than any cache (best of 3), GB/s. */
static double read_bandwidth(void)
{
  size_t n = (size_t)256 << 20, count = n / sizeof(float);
  float *buf = malloc(n);
  double best = 0;
  volatile float sink;
  if (!buf)
    return 0;
  for (size_t i = 0; i < count; i++)
    buf[i] = (float)(i & 7);
  for (int rep = 0; rep < 3; rep++) {
    float acc[8] = { 0 };
    double t = now_ms(), gbs;
    for (size_t i = 0; i < count; i += 8)
      for (int j = 0; j < 8; j++)
        acc[j] += buf[i + j];
    t = now_ms() - t;
    sink = acc[0] + acc[7];
    gbs = (double)n / (t / 1e3) / 1e9;
    best = gbs > best ? gbs : best;
  }
  (void)sink;
  free(buf);
  return best;
}

/* Bytes every decoder step reads: decoder layers (minus cross K/V, computed once) + LM head. */
static double step_bytes(const prism_bart_info *i)
{
  double d = i->d_model, layer = 2 * 4 * d * d - 2 * d * d + 2 * d * i->decoder_ffn_dim;
  return 4.0 * (i->decoder_layers * layer + (double)i->vocab_size * d);
}

/* The peer: A[rows, d] x W[n, d]^T with W as large as the weights one step reads. */
static double gemm_peer_ms(const prism_bart_info *info, size_t rows)
{
  size_t d = (size_t)info->d_model, n = (size_t)(step_bytes(info) / 4.0) / d;
  float *w = malloc(n * d * sizeof *w), *a = calloc(rows * d, sizeof *a);
  float *c = malloc(rows * n * sizeof *c);
  double best = 1e30;
  if (!w || !a || !c)
    exit(1);
  for (size_t i = 0; i < n * d; i++)
    w[i] = (float)(i % 13) * 0.01f;
  for (int rep = 0; rep < 5; rep++) {
    double t = now_ms();
    prism__linalg_sgemm_nt(rows, n, d, 1.0f, a, d, w, d, 0.0f, c, n);
    t = now_ms() - t;
    best = t < best ? t : best;
  }
  free(w);
  free(a);
  free(c);
  return best;
}

static double decode_ms(prism_bart_session *s, size_t rows)
{
  int32_t *tokens = calloc(rows, sizeof *tokens);
  const float *logits;
  double t = 0;
  prism_bart_session_decoder_start(s, rows);
  for (int step = 0; step <= STEPS; step++) {
    double t0 = now_ms();
    for (size_t r = 0; r < rows; r++)
      tokens[r] = step == 0 ? 2 : (int32_t)(100 + 7 * r + (size_t)step);
    if (prism_bart_session_decoder_step(s, tokens, &logits) != PRISM_OK) {
      fprintf(stderr, "bench_bart: %s\n", prism_last_error());
      exit(1);
    }
    if (step > 0) /* the first step also faults the weights in */
      t += now_ms() - t0;
  }
  free(tokens);
  return t / STEPS;
}

int main(int argc, char **argv)
{
  prism_bart *model;
  prism_bart_session *session;
  prism_bart_session_params sp;
  prism_bart_info info;
  char path[4096];
  struct stat st;
  int32_t ids[SRC_LEN];
  double rss0, rss_load, hwm_load, t_enc, bw, floor_ms;
  static const size_t rows[] = { 1, 8, 40 };
  if (argc < 2) {
    fprintf(stderr, "usage: bench_bart MODEL_DIR [--threads N]\n");
    return 2;
  }
  if (argc >= 4 && strcmp(argv[2], "--threads") == 0)
    prism_set_num_threads(atoi(argv[3]));
  snprintf(path, sizeof path, "%s/model.safetensors", argv[1]);
  if (stat(path, &st) != 0) {
    fprintf(stderr, "bench_bart: %s: not found\n", path);
    return 1;
  }
  rss0 = proc_status_bytes("VmRSS");
  if (prism_bart_load(&model, argv[1], NULL) != PRISM_OK) {
    fprintf(stderr, "bench_bart: %s\n", prism_last_error());
    return 1;
  }
  rss_load = proc_status_bytes("VmRSS");
  hwm_load = proc_status_bytes("VmHWM");
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  prism_bart_get_info(&info, model);
  prism_bart_session_params_init(&sp, sizeof sp);
  sp.max_batch = 1;
  sp.max_rows = 40;
  sp.max_source_len = SRC_LEN;
  sp.max_target_len = STEPS + 1;
  if (prism_bart_session_create(&session, model, &sp) != PRISM_OK) {
    fprintf(stderr, "bench_bart: %s\n", prism_last_error());
    return 1;
  }
  for (int i = 0; i < SRC_LEN; i++)
    ids[i] = i == 0 ? 0 : i == SRC_LEN - 1 ? 2 : 100 + 13 * i;
  prism_bart_session_encode(session, ids, NULL, 1, SRC_LEN, NULL);
  t_enc = now_ms();
  prism_bart_session_encode(session, ids, NULL, 1, SRC_LEN, NULL);
  t_enc = now_ms() - t_enc;
  bw = read_bandwidth();
  floor_ms = step_bytes(&info) / (bw * 1e9) * 1e3;
  printf("{\"threads\": %d, \"file_mb\": %.1f, \"rss_after_load_mb\": %.1f, "
         "\"peak_rss_after_load_minus_start_mb\": %.1f, \"load_within_file_plus_32mb\": %s, "
         "\"encode_ms\": {\"batch\": 1, \"src_len\": %d, \"ms\": %.2f}, "
         "\"read_bandwidth_gbs\": %.2f, \"step_bytes_mb\": %.1f, \"step_floor_ms\": %.2f, "
         "\"decode\": [",
         prism_get_num_threads(), (double)st.st_size / MB, rss_load / MB, (hwm_load - rss0) / MB,
         hwm_load - rss0 <= (double)st.st_size + 32 * MB ? "true" : "false", SRC_LEN, t_enc, bw,
         step_bytes(&info) / MB, floor_ms);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    double ms = decode_ms(session, rows[i]), gemm = gemm_peer_ms(&info, rows[i]);
    printf("%s{\"rows\": %zu, \"step_ms\": %.2f, \"gemm_peer_ms\": %.2f, "
           "\"gemm_peer_over_step\": %.3f, \"floor_over_step\": %.3f}",
           i ? ", " : "", rows[i], ms, gemm, gemm / ms, floor_ms / ms);
  }
  printf("], \"peak_rss_mb\": %.1f}\n", proc_status_bytes("VmHWM") / MB);
  prism_bart_session_free(session);
  prism_bart_free(model);
  return 0;
}
