/*
 * Generation benchmark: the cost of the search on top of the model. For
 * greedy search and beam search (4 beams) it times prism_generate_run per
 * decoder step against its peer in the same run: the same number of plain
 * prism_bart_session_decoder_step calls over the same rows (the model alone,
 * no processors, no top-k, no reorder). EOS is banned (min_length) so both
 * run exactly STEPS steps.
 *
 *   /usr/bin/python3 tests/bench/make_bart_checkpoint.py /tmp/bart-base
 *   build/tests/generate/bench_generate /tmp/bart-base [--threads N]
 *
 * Prints one JSON object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <prism/prism.h>

#define BATCH 2
#define SRC_LEN 64
#define STEPS 16
#define REPEATS 3

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void check(int rc, const char *what)
{
  if (rc != PRISM_OK) {
    fprintf(stderr, "bench_generate: %s: %s\n", what, prism_last_error());
    exit(1);
  }
}

/* The peer: decoder steps alone over batch x rows_per_input rows, ms per step (best of REPEATS). */
static double model_only_ms(prism_bart_session *s, const int32_t *ids, size_t rows_per_input)
{
  int32_t tokens[BATCH * 8];
  double best = 1e30;
  for (size_t i = 0; i < BATCH * rows_per_input; i++)
    tokens[i] = 2;
  for (int rep = 0; rep < REPEATS; rep++) {
    double t0;
    const float *logits;
    check(prism_bart_session_encode(s, ids, NULL, BATCH, SRC_LEN, NULL), "encode");
    check(prism_bart_session_decoder_start(s, rows_per_input), "decoder_start");
    t0 = now_ms();
    for (int step = 0; step < STEPS; step++)
      check(prism_bart_session_decoder_step(s, tokens, &logits), "decoder_step");
    if ((now_ms() - t0) / STEPS < best)
      best = (now_ms() - t0) / STEPS;
  }
  return best;
}

/* prism_generate_run, decode time per step (best of REPEATS). */
static double generate_ms(prism_bart_session *s, const int32_t *ids, int num_beams)
{
  prism_generate_params p;
  double best = 1e30;
  prism_generate_params_init(&p, sizeof p);
  p.num_beams = num_beams;
  p.max_length = STEPS + 1;
  p.min_length = STEPS + 1;
  p.forced_eos_token_id = PRISM_NO_TOKEN;
  for (int rep = 0; rep < REPEATS; rep++) {
    prism_generate_result *res;
    prism_generate_stats st;
    check(prism_generate_run(&res, s, ids, NULL, BATCH, SRC_LEN, &p, NULL, NULL), "generate");
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    prism_generate_result_stats(&st, res);
    if (st.steps != STEPS) {
      fprintf(stderr, "bench_generate: %d steps, expected %d\n", st.steps, STEPS);
      exit(1);
    }
    if (st.decode_ms / STEPS < best)
      best = st.decode_ms / STEPS;
    prism_generate_result_free(res);
  }
  return best;
}

int main(int argc, char **argv)
{
  prism_bart *model;
  prism_bart_session *s;
  prism_bart_session_params sp;
  int32_t ids[BATCH * SRC_LEN];
  double greedy, greedy_peer, beam, beam_peer;

  if (argc < 2) {
    fprintf(stderr, "usage: bench_generate MODEL_DIR [--threads N]\n");
    return 2;
  }
  prism_set_num_threads(argc >= 4 && strcmp(argv[2], "--threads") == 0 ? atoi(argv[3]) : 0);
  check(prism_bart_load(&model, argv[1], NULL), "load");
  prism_bart_session_params_init(&sp, sizeof sp);
  sp.max_batch = BATCH;
  sp.max_rows = BATCH * 4;
  sp.max_source_len = SRC_LEN;
  sp.max_target_len = STEPS + 1;
  check(prism_bart_session_create(&s, model, &sp), "session");
  for (size_t i = 0; i < BATCH * SRC_LEN; i++)
    ids[i] = (int32_t)(5 + (i * 7919) % 900);

  greedy_peer = model_only_ms(s, ids, 1);
  greedy = generate_ms(s, ids, 1);
  beam_peer = model_only_ms(s, ids, 4);
  beam = generate_ms(s, ids, 4);
  printf("{\"threads\": %d, \"batch\": %d, \"steps\": %d,\n"
         " \"greedy\": {\"rows\": %d, \"generate_ms_per_step\": %.3f, \"model_ms_per_step\": %.3f, "
         "\"ratio\": %.3f},\n"
         " \"beam4\": {\"rows\": %d, \"generate_ms_per_step\": %.3f, \"model_ms_per_step\": %.3f, "
         "\"ratio\": %.3f}}\n",
         prism_get_num_threads(), BATCH, STEPS, BATCH, greedy, greedy_peer, greedy / greedy_peer,
         BATCH * 4, beam, beam_peer, beam / beam_peer);
  prism_bart_session_free(s);
  prism_bart_free(model);
  return 0;
}
