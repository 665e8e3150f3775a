/*
 * Parity with HuggingFace transformers on the tiny-bart fixtures: encoder
 * states and teacher-forced logits within 1e-4, and greedy decoding through
 * decoder_step giving the identical sequences.
 */
#include "bart/bart_internal.h"
#include "bart_test_util.h"
#include "common/file.h"

#define TOLERANCE 1e-4

typedef struct fixture {
  const char *name;
  prism_bart *model;
  prism_bart_session *session;
  json_t *expected;
  int32_t *input_ids, *mask;
  size_t batch, src_len;
} fixture;

static double worst_hidden, worst_logits;

static int setup(void **state, const char *name)
{
  char path[1024];
  fixture *f = calloc(1, sizeof *f);
  size_t rows, cols;
  assert_non_null(f);
  f->name = name;
  assert_ok(prism_bart_load(&f->model, fixture_path(path, sizeof path, name), NULL));
  assert_ok(prism_bart_session_create(&f->session, f->model, NULL));
  f->expected = load_expected(name);
  f->input_ids = json_int_matrix(json_object_get(f->expected, "input_ids"), &f->batch,
                                 &f->src_len);
  f->mask = json_int_matrix(json_object_get(f->expected, "attention_mask"), &rows, &cols);
  assert_int_equal(rows * cols, f->batch * f->src_len);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture *f = *state;
  prism_bart_session_free(f->session);
  prism_bart_free(f->model);
  json_decref(f->expected);
  free(f->input_ids);
  free(f->mask);
  free(f);
  return 0;
}

static int setup_f32(void **state) { return setup(state, "tiny-bart"); }
static int setup_f16(void **state) { return setup(state, "tiny-bart-f16"); }
static int setup_bf16(void **state) { return setup(state, "tiny-bart-bf16"); }
static int setup_copy(void **state) { return setup(state, "tiny-bart-copy"); }

static void test_encoder(void **state)
{
  fixture *f = *state;
  size_t n;
  float *want = json_tensor(json_object_get(f->expected, "encoder_last_hidden_state"), &n);
  float *got = malloc(n * sizeof *got);
  prism_bart_info info = model_info(f->model);
  double diff;
  assert_int_equal(n, f->batch * f->src_len * (size_t)info.d_model);
  assert_ok(prism_bart_session_encode(f->session, f->input_ids, f->mask, f->batch, f->src_len,
                                      got));
  diff = max_abs_diff(got, want, n);
  printf("%s: encoder_last_hidden_state max abs diff %.3g\n", f->name, diff);
  if (diff > worst_hidden)
    worst_hidden = diff;
  assert_true(diff <= TOLERANCE);
  free(want);
  free(got);
}

static void test_teacher_forced_logits(void **state)
{
  fixture *f = *state;
  size_t n, rows, tgt_len;
  float *want = json_tensor(json_object_get(f->expected, "logits"), &n);
  int32_t *dec = json_int_matrix(json_object_get(f->expected, "decoder_input_ids"), &rows,
                                 &tgt_len);
  float *got = malloc(n * sizeof *got);
  double diff;
  assert_int_equal(rows, f->batch);
  assert_ok(prism_bart_session_encode(f->session, f->input_ids, f->mask, f->batch, f->src_len,
                                      NULL));
  assert_ok(prism_bart_session_forward(f->session, dec, tgt_len, got));
  diff = max_abs_diff(got, want, n);
  printf("%s: teacher-forced logits max abs diff %.3g\n", f->name, diff);
  if (diff > worst_logits)
    worst_logits = diff;
  assert_true(diff <= TOLERANCE);
  free(want);
  free(got);
  free(dec);
}

static int32_t argmax(const float *x, size_t n)
{
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (x[i] > x[best])
      best = i;
  return (int32_t)best;
}

/*
 * HF greedy search: forced BOS at length 1, forced EOS at max_length - 1,
 * finished rows padded, stop once every row has produced EOS.
 */
static int32_t *greedy(fixture *f, size_t max_length, size_t *out_len)
{
  const prism__bart_generation *g = prism__bart_generation_defaults(f->model);
  size_t B = f->batch, V, len = 1;
  int32_t *seq = calloc(B * max_length, sizeof *seq), *tokens = calloc(B, sizeof *tokens);
  int *done = calloc(B, sizeof *done);
  prism_bart_info info = model_info(f->model);
  V = (size_t)info.vocab_size;
  assert_ok(prism_bart_session_encode(f->session, f->input_ids, f->mask, B, f->src_len, NULL));
  assert_ok(prism_bart_session_decoder_start(f->session, 1));
  for (size_t b = 0; b < B; b++)
    seq[b * max_length] = tokens[b] = g->decoder_start_token_id;
  while (len < max_length) {
    const float *logits;
    int all_done = 1;
    assert_ok(prism_bart_session_decoder_step(f->session, tokens, &logits));
    for (size_t b = 0; b < B; b++) {
      int32_t next = argmax(logits + b * V, V);
      if (len == 1 && g->forced_bos_token_id >= 0)
        next = g->forced_bos_token_id;
      else if (len == max_length - 1 && g->forced_eos_token_id >= 0)
        next = g->forced_eos_token_id;
      if (done[b])
        next = g->pad_token_id;
      done[b] |= next == g->eos_token_id;
      all_done &= done[b];
      seq[b * max_length + len] = tokens[b] = next;
    }
    len++;
    if (all_done)
      break;
  }
  *out_len = len;
  free(tokens);
  free(done);
  return seq;
}

static const json_t *find_case(const json_t *expected, const char *name)
{
  const json_t *cases = json_object_get(expected, "generate"), *c;
  size_t i;
  json_array_foreach(cases, i, c)
    if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
      return c;
  fail_msg("no generate case %s", name);
  return NULL;
}

static void test_greedy(void **state)
{
  fixture *f = *state;
  const json_t *c = find_case(f->expected, "greedy");
  size_t max_length = (size_t)json_integer_value(
    json_object_get(json_object_get(c, "params"), "max_length"));
  size_t rows, cols, len;
  int32_t *want = json_int_matrix(json_object_get(c, "sequences"), &rows, &cols);
  int32_t *got = greedy(f, max_length, &len);
  assert_int_equal(rows, f->batch);
  assert_int_equal(len, cols);
  for (size_t b = 0; b < rows; b++)
    assert_memory_equal(got + b * max_length, want + b * cols, cols * sizeof *got);
  free(want);
  free(got);
}

/* The copy model was trained to echo its input: its greedy output is the input itself. */
static void test_copy_echoes_input(void **state)
{
  fixture *f = *state;
  size_t len;
  int32_t *got = greedy(f, 20, &len);
  for (size_t b = 0; b < f->batch; b++) {
    size_t n = 0;
    while (n < f->src_len && f->mask[b * f->src_len + n])
      n++;
    assert_true(len >= n + 1);
    /* decoder start, then <s> ... </s> as in the input */
    assert_memory_equal(got + b * 20 + 1, f->input_ids + b * f->src_len, n * sizeof *got);
  }
  free(got);
}

/* The same checkpoint through prism_bart_load_memory gives bit-identical logits. */
static void test_load_memory_matches_path(void **state)
{
  fixture *f = *state;
  char path[1024], rel[256];
  prism__file config, weights, generation;
  prism_bart *m;
  prism_bart_session *s;
  size_t n, rows, tgt_len;
  int32_t *dec = json_int_matrix(json_object_get(f->expected, "decoder_input_ids"), &rows,
                                 &tgt_len);
  float *a, *b;
  snprintf(rel, sizeof rel, "%s/config.json", f->name);
  assert_ok(prism__file_read(fixture_path(path, sizeof path, rel), 0, &config));
  snprintf(rel, sizeof rel, "%s/model.safetensors", f->name);
  assert_ok(prism__file_read(fixture_path(path, sizeof path, rel), 0, &weights));
  snprintf(rel, sizeof rel, "%s/generation_config.json", f->name);
  assert_ok(prism__file_read(fixture_path(path, sizeof path, rel), 0, &generation));
  assert_ok(prism_bart_load_memory(&m, (const char *)config.data, config.size, weights.data,
                                   weights.size, (const char *)generation.data, generation.size,
                                   NULL));
  assert_ok(prism_bart_session_create(&s, m, NULL));
  prism_bart_info info = model_info(m);
  n = rows * tgt_len * (size_t)info.vocab_size;
  a = malloc(n * sizeof *a);
  b = malloc(n * sizeof *b);
  assert_ok(prism_bart_session_encode(s, f->input_ids, f->mask, f->batch, f->src_len, NULL));
  assert_ok(prism_bart_session_forward(s, dec, tgt_len, a));
  assert_ok(prism_bart_session_encode(f->session, f->input_ids, f->mask, f->batch, f->src_len,
                                      NULL));
  assert_ok(prism_bart_session_forward(f->session, dec, tgt_len, b));
  assert_memory_equal(a, b, n * sizeof *a);
  prism_bart_session_free(s);
  prism_bart_free(m);
  prism__file_close(&config);
  prism__file_close(&weights);
  prism__file_close(&generation);
  free(a);
  free(b);
  free(dec);
}

static void test_report(void **state)
{
  (void)state;
  printf("worst over fixtures: hidden %.3g, logits %.3g (tolerance %g)\n", worst_hidden,
         worst_logits, TOLERANCE);
}

#define FIXTURE_TESTS(setup_fn) \
  cmocka_unit_test_setup_teardown(test_encoder, setup_fn, teardown), \
  cmocka_unit_test_setup_teardown(test_teacher_forced_logits, setup_fn, teardown), \
  cmocka_unit_test_setup_teardown(test_greedy, setup_fn, teardown)

int main(void)
{
  const struct CMUnitTest tests[] = {
    FIXTURE_TESTS(setup_f32),
    FIXTURE_TESTS(setup_f16),
    FIXTURE_TESTS(setup_bf16),
    FIXTURE_TESTS(setup_copy),
    cmocka_unit_test_setup_teardown(test_copy_echoes_input, setup_copy, teardown),
    cmocka_unit_test_setup_teardown(test_load_memory_matches_path, setup_f32, teardown),
    cmocka_unit_test(test_report),
  };
  return cmocka_run_group_tests_name("bart_parity", tests, NULL, NULL);
}
