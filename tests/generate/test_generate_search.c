/*
 * The search engine against scripted logits: each logits processor and
 * warper on hand-made rows, beam bookkeeping, and greedy / beam / sampling
 * outputs re-checked step by step from the scripted model.
 */
#include "gen_test_util.h"
#include "generate/generate_internal.h"

static void test_repetition_penalty(void **state)
{
  prism__generate_config cfg = fake_config();
  float scores[FAKE_VOCAB] = { 2.0f, -2.0f, 1.0f }, scratch[8];
  const int32_t seq[] = { 0, 1, 0 };
  (void)state;
  cfg.repetition_penalty = 2.0;
  prism__generate_process(&cfg, seq, 3, scores, scratch);
  /* Token 0 appears twice and is divided once; negative scores are multiplied. */
  assert_true(scores[0] == 1.0f);
  assert_true(scores[1] == -4.0f);
  assert_true(scores[2] == 1.0f);
}

static void test_no_repeat_ngram(void **state)
{
  prism__generate_config cfg = fake_config();
  float scores[FAKE_VOCAB] = { 0 };
  const int32_t seq[] = { 7, 8, 9, 7, 8 };
  (void)state;
  cfg.no_repeat_ngram_size = 3;
  prism__generate_process(&cfg, seq, 5, scores, NULL);
  for (int v = 0; v < FAKE_VOCAB; v++)
    assert_true(v == 9 ? isinf(scores[v]) && scores[v] < 0 : scores[v] == 0.0f);
  /* Too short to hold an n-gram: nothing is banned. */
  memset(scores, 0, sizeof scores);
  cfg.no_repeat_ngram_size = 4;
  prism__generate_process(&cfg, seq, 2, scores, NULL);
  for (int v = 0; v < FAKE_VOCAB; v++)
    assert_true(scores[v] == 0.0f);
}

static void test_min_length_and_forced_tokens(void **state)
{
  prism__generate_config cfg = fake_config();
  float scores[FAKE_VOCAB];
  const int32_t seq[] = { FAKE_START, 5, 6, 7 };
  (void)state;
  cfg.min_length = 4;
  for (int v = 0; v < FAKE_VOCAB; v++)
    scores[v] = (float)v;
  prism__generate_process(&cfg, seq, 3, scores, NULL);
  assert_true(isinf(scores[FAKE_EOS]));
  scores[FAKE_EOS] = 1.0f;
  prism__generate_process(&cfg, seq, 4, scores, NULL); /* long enough: EOS allowed */
  assert_true(scores[FAKE_EOS] == 1.0f);
  cfg.min_length = 0;
  cfg.forced_bos_token_id = 0;
  prism__generate_process(&cfg, seq, 1, scores, NULL);
  assert_true(scores[0] == 0.0f);
  for (int v = 1; v < FAKE_VOCAB; v++)
    assert_true(isinf(scores[v]) && scores[v] < 0);
  cfg.forced_bos_token_id = -1;
  cfg.forced_eos_token_id = FAKE_EOS;
  cfg.max_length = 5;
  for (int v = 0; v < FAKE_VOCAB; v++)
    scores[v] = (float)v;
  prism__generate_process(&cfg, seq, 3, scores, NULL);
  assert_true(scores[5] == 5.0f); /* not the last step yet */
  prism__generate_process(&cfg, seq, 4, scores, NULL);
  assert_true(scores[FAKE_EOS] == 0.0f && isinf(scores[5]));
}

static void test_top_k_keeps_ties(void **state)
{
  prism__generate_config cfg = fake_config();
  prism__generate_pair pairs[FAKE_VOCAB];
  float scores[FAKE_VOCAB];
  (void)state;
  for (int v = 0; v < FAKE_VOCAB; v++)
    scores[v] = -10.0f;
  scores[3] = 3.0f;
  scores[4] = 2.0f;
  scores[5] = 2.0f;
  scores[6] = 1.0f;
  cfg.top_k = 2;
  prism__generate_warp(&cfg, scores, pairs);
  assert_true(scores[3] == 3.0f && scores[4] == 2.0f && scores[5] == 2.0f);
  assert_true(isinf(scores[6]) && isinf(scores[0]));
}

static void test_top_p_and_temperature(void **state)
{
  prism__generate_config cfg = fake_config();
  prism__generate_pair pairs[FAKE_VOCAB];
  const double probs[4] = { 0.5, 0.3, 0.15, 0.05 };
  float scores[FAKE_VOCAB];
  (void)state;
  for (int v = 0; v < FAKE_VOCAB; v++)
    scores[v] = v < 4 ? (float)log(probs[v]) : -INFINITY;
  cfg.top_k = 0;
  cfg.top_p = 0.75;
  prism__generate_warp(&cfg, scores, pairs);
  assert_false(isinf(scores[0]));
  assert_false(isinf(scores[1]));
  assert_true(isinf(scores[2]) && isinf(scores[3]));
  /* top_p keeps the best token even when it alone exceeds the mass. */
  cfg.top_p = 0.01;
  prism__generate_warp(&cfg, scores, pairs);
  assert_false(isinf(scores[0]));
  assert_true(isinf(scores[1]));
  cfg.top_p = 1.0;
  cfg.temperature = 0.5;
  prism__generate_warp(&cfg, scores, pairs);
  assert_float_equal(scores[0], 2.0 * log(0.5), 1e-6);
}

static void test_log_softmax(void **state)
{
  float logits[FAKE_VOCAB], scores[FAKE_VOCAB];
  const int32_t seq[] = { FAKE_START };
  double total = 0;
  (void)state;
  fake_logits(seq, 1, 0, logits);
  prism__generate_log_softmax(logits, FAKE_VOCAB, scores);
  for (int v = 0; v < FAKE_VOCAB; v++)
    total += exp(scores[v]);
  assert_float_equal(total, 1.0, 1e-5);
  assert_int_equal(prism__generate_argmax(scores, FAKE_VOCAB),
                   prism__generate_argmax(logits, FAKE_VOCAB));
}

static void test_beam_topk_order(void **state)
{
  float scores[2 * 4] = { 1, 5, 5, 0, 5, 2, -INFINITY, 3 };
  prism__generate_beam_cand c[4];
  (void)state;
  prism__generate_beam_topk(scores, 2, 4, 4, c);
  /* Ties keep the lower flat index first: (beam 0, token 1), (0, 2), (1, 0). */
  assert_true(c[0].beam == 0 && c[0].token == 1);
  assert_true(c[1].beam == 0 && c[1].token == 2);
  assert_true(c[2].beam == 1 && c[2].token == 0);
  assert_true(c[3].beam == 1 && c[3].token == 3 && c[3].score == 3.0f);
}

/* Sum of processed log-probabilities of seq, accumulated in float32 as HF's beam scores. */
static float beam_sum(const prism__generate_config *cfg, const int32_t *seq, size_t len,
                      size_t input)
{
  float sum = 0.0f, scores[FAKE_VOCAB];
  for (size_t t = 1; t < len; t++) {
    processed_scores(cfg, seq, t, input, 1, scores);
    sum += scores[seq[t]];
  }
  return sum;
}

static void check_beam_scores(const prism__generate_config *cfg, size_t batch)
{
  prism_generate_result *res = fake_generate(cfg, batch);
  size_t nrs = (size_t)cfg->num_return_sequences, width = prism_generate_result_width(res);
  const int32_t *seq = prism_generate_result_sequences(res);
  const int32_t *len = prism_generate_result_lengths(res);
  const float *scores = prism_generate_result_scores(res);

  assert_int_equal(prism_generate_result_count(res), batch * nrs);
  assert_non_null(scores);
  for (size_t i = 0; i < batch * nrs; i++) {
    const int32_t *s = seq + i * width;
    float sum = beam_sum(cfg, s, (size_t)len[i], i / nrs);
    double want = sum / pow((double)len[i] - 1, cfg->length_penalty);
    assert_int_equal(s[0], FAKE_START);
    assert_true((size_t)len[i] <= width);
    for (size_t t = (size_t)len[i]; t < width; t++)
      assert_int_equal(s[t], FAKE_PAD);
    assert_float_equal(scores[i], want, 1e-4);
    /* Return sequences come best first. */
    if (i % nrs)
      assert_true(scores[i] <= scores[i - 1]);
  }
  prism_generate_result_free(res);
}

static void test_beam_scores_recomputed(void **state)
{
  prism__generate_config cfg = fake_config();
  (void)state;
  cfg.num_beams = 4;
  check_beam_scores(&cfg, 3);
  cfg.num_return_sequences = 3;
  cfg.length_penalty = 2.0;
  check_beam_scores(&cfg, 2);
  cfg.early_stopping = PRISM_EARLY_STOPPING_NEVER;
  cfg.length_penalty = 0.5;
  cfg.no_repeat_ngram_size = 2;
  check_beam_scores(&cfg, 2);
  cfg.early_stopping = PRISM_EARLY_STOPPING_TRUE;
  cfg.repetition_penalty = 1.3;
  cfg.min_length = 8;
  cfg.max_length = 12;
  check_beam_scores(&cfg, 4);
}

/* Beam sampling keeps the same bookkeeping: top-k leaves the kept scores as they are. */
static void test_beam_sampling_scores_recomputed(void **state)
{
  prism__generate_config cfg = fake_config();
  (void)state;
  cfg.num_beams = 3;
  cfg.num_return_sequences = 2;
  cfg.do_sample = 1;
  for (uint64_t seed = 0; seed < 10; seed++) {
    cfg.seed = seed;
    cfg.top_k = seed % 2 ? 0 : 4;
    check_beam_scores(&cfg, 3);
  }
}

static void test_beam_early_stopping_variants(void **state)
{
  prism__generate_config cfg = fake_config();
  size_t steps[3];
  (void)state;
  cfg.num_beams = 3;
  cfg.max_length = 40;
  for (int es = 0; es < 3; es++) {
    fake_decoder *f = malloc(sizeof *f);
    prism__generate_decoder dec = fake_decoder_of(f, 2);
    prism_generate_result *res = NULL;
    cfg.early_stopping = es;
    assert_ok(prism__generate_decode(&res, &dec, &cfg, 2, NULL, NULL));
    steps[es] = f->steps;
    prism_generate_result_free(res);
    free(f);
  }
  /* True stops first; "never" searches at least as long as the heuristic. */
  assert_true(steps[PRISM_EARLY_STOPPING_TRUE] <= steps[PRISM_EARLY_STOPPING_FALSE]);
  assert_true(steps[PRISM_EARLY_STOPPING_FALSE] <= steps[PRISM_EARLY_STOPPING_NEVER]);
}

static void test_greedy_recomputed(void **state)
{
  prism__generate_config cfg = fake_config();
  prism_generate_result *res;
  size_t width;
  (void)state;
  cfg.repetition_penalty = 1.2;
  cfg.no_repeat_ngram_size = 2;
  cfg.forced_bos_token_id = 0;
  cfg.forced_eos_token_id = FAKE_EOS;
  res = fake_generate(&cfg, 4);
  width = prism_generate_result_width(res);
  for (size_t r = 0; r < 4; r++) {
    const int32_t *s = prism_generate_result_sequences(res) + r * width;
    size_t len = (size_t)prism_generate_result_lengths(res)[r];
    float scores[FAKE_VOCAB];
    assert_int_equal(s[1], 0);
    for (size_t t = 1; t < len; t++) {
      processed_scores(&cfg, s, t, r, 0, scores);
      assert_int_equal(s[t], prism__generate_argmax(scores, FAKE_VOCAB));
    }
    assert_true(s[len - 1] == FAKE_EOS);
    for (size_t t = len; t < width; t++)
      assert_int_equal(s[t], FAKE_PAD);
  }
  assert_null(prism_generate_result_scores(res));
  prism_generate_result_free(res);
}

/* Every sampled token must lie inside the top-k and the top-p set of its step. */
static void check_sampled_in_allowed_set(const prism__generate_config *cfg, size_t batch)
{
  prism_generate_result *res = fake_generate(cfg, batch);
  size_t width = prism_generate_result_width(res), nrs = (size_t)cfg->num_return_sequences;
  for (size_t r = 0; r < batch * nrs; r++) {
    const int32_t *s = prism_generate_result_sequences(res) + r * width;
    for (size_t t = 1; t < (size_t)prism_generate_result_lengths(res)[r]; t++) {
      float scores[FAKE_VOCAB];
      double max, total = 0, above = 0;
      int better = 0;
      processed_scores(cfg, s, t, r / nrs, 0, scores);
      max = scores[prism__generate_argmax(scores, FAKE_VOCAB)];
      for (int v = 0; v < FAKE_VOCAB; v++) {
        total += exp((scores[v] - max) / cfg->temperature);
        better += scores[v] > scores[s[t]];
      }
      for (int v = 0; v < FAKE_VOCAB; v++)
        if (scores[v] > scores[s[t]])
          above += exp((scores[v] - max) / cfg->temperature) / total;
      if (cfg->top_k > 0)
        assert_true(better < cfg->top_k);
      assert_true(above < cfg->top_p + 1e-6);
    }
  }
  prism_generate_result_free(res);
}

static void test_sampling_allowed_sets(void **state)
{
  prism__generate_config cfg = fake_config();
  (void)state;
  cfg.do_sample = 1;
  cfg.num_return_sequences = 3;
  for (uint64_t seed = 0; seed < 20; seed++) {
    cfg.seed = seed;
    cfg.top_k = 3;
    cfg.top_p = 1.0;
    check_sampled_in_allowed_set(&cfg, 2);
    cfg.top_k = 0;
    cfg.top_p = 0.6;
    cfg.temperature = 1.5;
    check_sampled_in_allowed_set(&cfg, 2);
    cfg.temperature = 1.0;
  }
}

static int same_result(const prism_generate_result *a, const prism_generate_result *b)
{
  size_t n = prism_generate_result_count(a) * prism_generate_result_width(a);
  return prism_generate_result_count(a) == prism_generate_result_count(b) &&
         prism_generate_result_width(a) == prism_generate_result_width(b) &&
         memcmp(prism_generate_result_sequences(a), prism_generate_result_sequences(b),
                n * sizeof(int32_t)) == 0;
}

static void test_sampling_seeds_and_threads(void **state)
{
  prism__generate_config cfg = fake_config();
  prism_generate_result *a, *b, *c, *d;
  (void)state;
  cfg.do_sample = 1;
  cfg.top_k = 0;
  cfg.seed = 42;
  cfg.max_length = 30;
  prism_set_num_threads(1);
  a = fake_generate(&cfg, 6);
  prism_set_num_threads(2);
  b = fake_generate(&cfg, 6);
  cfg.seed = 43;
  c = fake_generate(&cfg, 6);
  prism_set_num_threads(0);
  assert_true(same_result(a, b));
  assert_false(same_result(a, c));
  /* A row's draws depend on its index, not on the rest of the batch. */
  cfg.seed = 42;
  d = fake_generate(&cfg, 1);
  assert_memory_equal(prism_generate_result_sequences(d), prism_generate_result_sequences(a),
                      (size_t)prism_generate_result_lengths(d)[0] * sizeof(int32_t));
  prism_generate_result_free(a);
  prism_generate_result_free(b);
  prism_generate_result_free(c);
  prism_generate_result_free(d);
}

static void test_sampling_cold_is_greedy(void **state)
{
  prism__generate_config cfg = fake_config();
  prism_generate_result *greedy, *cold, *top1;
  (void)state;
  cfg.repetition_penalty = 1.1;
  greedy = fake_generate(&cfg, 5);
  cfg.do_sample = 1;
  cfg.seed = 7;
  cfg.temperature = 1e-4;
  cold = fake_generate(&cfg, 5);
  cfg.temperature = 1.0;
  cfg.top_k = 1;
  top1 = fake_generate(&cfg, 5);
  assert_true(same_result(greedy, cold));
  assert_true(same_result(greedy, top1));
  prism_generate_result_free(greedy);
  prism_generate_result_free(cold);
  prism_generate_result_free(top1);
}

typedef struct stream_log {
  size_t events, last_step, rows, cancel_at;
  int32_t last[FAKE_MAX_ROWS][FAKE_MAX_LEN + 1];
  int32_t last_len[FAKE_MAX_ROWS];
  int32_t tokens[FAKE_MAX_LEN][FAKE_MAX_ROWS];
} stream_log;

static int record(const prism_generate_event *ev, void *payload)
{
  stream_log *log = payload;
  log->events++;
  assert_int_equal(ev->step, log->last_step + 1);
  log->last_step = ev->step;
  log->rows = ev->num_rows;
  for (size_t r = 0; r < ev->num_rows; r++) {
    log->last_len[r] = ev->lengths[r];
    memcpy(log->last[r], ev->sequences + r * ev->stride, (size_t)ev->lengths[r] * sizeof(int32_t));
    log->tokens[ev->step][r] = ev->tokens[r];
    /* The new token ends the row, or the row had finished and idles on padding. */
    assert_true(ev->tokens[r] == ev->sequences[r * ev->stride + ev->lengths[r] - 1] ||
                (ev->finished[r] && ev->tokens[r] == FAKE_PAD));
  }
  return log->cancel_at == 0 || ev->step < log->cancel_at;
}

static prism_generate_result *stream_run(const prism__generate_config *cfg, size_t batch,
                                         stream_log *log, int expect)
{
  fake_decoder *f = malloc(sizeof *f);
  prism__generate_decoder dec = fake_decoder_of(f, batch);
  prism_generate_result *res = NULL;
  assert_status(prism__generate_decode(&res, &dec, cfg, batch, record, log), expect);
  free(f);
  return res;
}

static void test_stream_greedy_tokens(void **state)
{
  prism__generate_config cfg = fake_config();
  stream_log *log = calloc(1, sizeof *log);
  prism_generate_result *res;
  size_t width;
  (void)state;
  res = stream_run(&cfg, 3, log, PRISM_OK);
  width = prism_generate_result_width(res);
  assert_int_equal(log->events, width - 1);
  assert_int_equal(log->rows, 3);
  for (size_t r = 0; r < 3; r++)
    for (size_t t = 1; t < width; t++)
      assert_int_equal(log->tokens[t][r], prism_generate_result_sequences(res)[r * width + t]);
  prism_generate_result_free(res);
  free(log);
}

static void test_stream_beam_best(void **state)
{
  prism__generate_config cfg = fake_config();
  stream_log *log = calloc(1, sizeof *log);
  prism_generate_result *res;
  size_t width;
  (void)state;
  cfg.num_beams = 4;
  res = stream_run(&cfg, 2, log, PRISM_OK);
  width = prism_generate_result_width(res);
  assert_int_equal(log->rows, 2);
  /* After the last step the streamed best hypothesis is the returned one. */
  for (size_t b = 0; b < 2; b++) {
    assert_int_equal(log->last_len[b], prism_generate_result_lengths(res)[b]);
    assert_memory_equal(log->last[b], prism_generate_result_sequences(res) + b * width,
                        (size_t)log->last_len[b] * sizeof(int32_t));
  }
  prism_generate_result_free(res);
  free(log);
}

static void test_stream_cancel(void **state)
{
  prism__generate_config cfg = fake_config();
  stream_log *log = calloc(1, sizeof *log);
  (void)state;
  log->cancel_at = 3;
  assert_null(stream_run(&cfg, 2, log, PRISM_ERR_CANCELLED));
  assert_int_equal(log->events, 3);
  assert_error_mentions("cancelled");
  memset(log, 0, sizeof *log);
  log->cancel_at = 2;
  cfg.num_beams = 3;
  assert_null(stream_run(&cfg, 2, log, PRISM_ERR_CANCELLED));
  assert_int_equal(log->events, 2);
  free(log);
}

static void test_rng_streams(void **state)
{
  prism__rng a, b, c;
  int differ = 0;
  (void)state;
  prism__rng_seed(&a, 5, 0);
  prism__rng_seed(&b, 5, 0);
  prism__rng_seed(&c, 5, 1);
  for (int i = 0; i < 100; i++) {
    double u = prism__rng_uniform(&a);
    assert_true(u >= 0.0 && u < 1.0);
    assert_true(u == prism__rng_uniform(&b));
    differ += u != prism__rng_uniform(&c);
  }
  assert_true(differ > 90);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_repetition_penalty),
    cmocka_unit_test(test_no_repeat_ngram),
    cmocka_unit_test(test_min_length_and_forced_tokens),
    cmocka_unit_test(test_top_k_keeps_ties),
    cmocka_unit_test(test_top_p_and_temperature),
    cmocka_unit_test(test_log_softmax),
    cmocka_unit_test(test_beam_topk_order),
    cmocka_unit_test(test_beam_scores_recomputed),
    cmocka_unit_test(test_beam_sampling_scores_recomputed),
    cmocka_unit_test(test_beam_early_stopping_variants),
    cmocka_unit_test(test_greedy_recomputed),
    cmocka_unit_test(test_sampling_allowed_sets),
    cmocka_unit_test(test_sampling_seeds_and_threads),
    cmocka_unit_test(test_sampling_cold_is_greedy),
    cmocka_unit_test(test_stream_greedy_tokens),
    cmocka_unit_test(test_stream_beam_best),
    cmocka_unit_test(test_stream_cancel),
    cmocka_unit_test(test_rng_streams),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
