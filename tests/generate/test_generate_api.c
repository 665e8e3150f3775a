/*
 * The public generation API on the tiny-bart fixture: params and their JSON
 * form, bad requests, model defaults, streaming and cancel on a real session,
 * sampling reproducibility, results and stats.
 */
#include "../bart/bart_test_util.h"
#include "common/alloc.h"
#include "common/file.h"
#include "generate/generate_internal.h"
#include "prism/generate.h"

/* Released layouts are frozen: fields are only appended (tail padding would hide growth). */

typedef struct fixture {
  prism_bart *bart;
  prism_bart_session *session;
  json_t *expected;
  int32_t *ids, *mask;
  size_t batch, src_len;
} fixture;

static int setup(void **state)
{
  char path[1024];
  fixture *f = calloc(1, sizeof *f);
  size_t r, c;
  prism_bart_session_params sp;
  assert_non_null(f);
  assert_ok(prism_bart_load(&f->bart, fixture_path(path, sizeof path, "tiny-bart"), NULL));
  assert_ok(prism_bart_session_params_init(&sp, sizeof sp));
  sp.max_batch = 4;
  sp.max_rows = 16;
  assert_ok(prism_bart_session_create(&f->session, f->bart, &sp));
  f->expected = load_expected("tiny-bart");
  f->ids = json_int_matrix(json_object_get(f->expected, "input_ids"), &f->batch, &f->src_len);
  f->mask = json_int_matrix(json_object_get(f->expected, "attention_mask"), &r, &c);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture *f = *state;
  prism_bart_session_free(f->session);
  prism_bart_free(f->bart);
  json_decref(f->expected);
  free(f->ids);
  free(f->mask);
  free(f);
  return 0;
}

static prism_generate_params params_from(const char *json)
{
  prism_generate_params p;
  assert_ok(prism_generate_params_init(&p, sizeof p));
  assert_ok(prism_generate_params_parse(&p, json, strlen(json)));
  return p;
}

static int run_on(prism_bart_session *s, fixture *f, const char *json, prism_generate_result **res)
{
  prism_generate_params p = params_from(json);
  *res = NULL;
  return prism_generate_run(res, s, f->ids, f->mask, f->batch, f->src_len, &p, NULL, NULL);
}

static int run(fixture *f, const int32_t *ids, const int32_t *mask, size_t batch, size_t len,
               const char *json, prism_generate_result **res)
{
  prism_generate_params p = params_from(json);
  *res = NULL;
  return prism_generate_run(res, f->session, ids, mask, batch, len, &p, NULL, NULL);
}

/* The fixture case `name`'s expected sequences, flattened. */
static int32_t *expected_case(fixture *f, const char *name, size_t *rows, size_t *width)
{
  const json_t *cases = json_object_get(f->expected, "generate");
  for (size_t i = 0; i < json_array_size(cases); i++) {
    const json_t *c = json_array_get(cases, i);
    if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
      return json_int_matrix(json_object_get(c, "sequences"), rows, width);
  }
  fail_msg("no fixture case %s", name);
  return NULL;
}

static void assert_result_is(const prism_generate_result *res, const int32_t *want, size_t rows,
                             size_t width)
{
  assert_int_equal(prism_generate_result_count(res), rows);
  assert_int_equal(prism_generate_result_width(res), width);
  assert_memory_equal(prism_generate_result_sequences(res), want, rows * width * sizeof *want);
}

static void test_params_init(void **state)
{
  prism_generate_params p;
  (void)state;
  assert_status(prism_generate_params_init(NULL, sizeof p), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_generate_params_init(&p, sizeof p - 8), PRISM_ERR_INVALID_ARGUMENT);
  assert_ok(prism_generate_params_init(&p, sizeof p));
  assert_int_equal(p.struct_size, sizeof p);
  assert_int_equal(p.num_beams, PRISM_UNSET);
  assert_int_equal(p.early_stopping, PRISM_UNSET);
  assert_true(isnan(p.top_p) && isnan(p.length_penalty));
}

static void test_params_parse(void **state)
{
  prism_generate_params p = params_from("{\"num_beams\": 4, \"early_stopping\": \"never\", "
                                        "\"forced_bos_token_id\": null, \"top_p\": 0.5, "
                                        "\"do_sample\": true, \"seed\": 99}");
  const char *bad[] = { "{\"num_beam\": 4}",   "{\"num_beams\": \"4\"}",
                        "{\"num_beams\": -1}", "{\"early_stopping\": \"sometimes\"}",
                        "{\"do_sample\": 1}",  "[1]",
                        "{\"top_p\": }" };
  (void)state;
  assert_int_equal(p.num_beams, 4);
  assert_int_equal(p.early_stopping, PRISM_EARLY_STOPPING_NEVER);
  assert_int_equal(p.forced_bos_token_id, PRISM_NO_TOKEN);
  assert_int_equal(p.forced_eos_token_id, PRISM_UNSET);
  assert_true(p.top_p == 0.5 && p.do_sample == 1 && p.seed == 99);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    prism_generate_params q = p;
    assert_true(prism_generate_params_parse(&q, bad[i], strlen(bad[i])) < 0);
    assert_memory_equal(&q, &p, sizeof p); /* unchanged on failure */
  }
  assert_status(prism_generate_params_parse(&p, "{\"num_beam\": 4}", 15),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("num_beam");
}

typedef struct bad_request {
  const char *params;
  int status;
  const char *mentions;
} bad_request;

static void test_bad_params(void **state)
{
  fixture *f = *state;
  const bad_request cases[] = {
    { "{\"num_beams\": 0}", PRISM_ERR_INVALID_ARGUMENT, "num_beams" },
    { "{\"top_p\": 0}", PRISM_ERR_INVALID_ARGUMENT, "top_p" },
    { "{\"top_p\": 1.5}", PRISM_ERR_INVALID_ARGUMENT, "top_p" },
    { "{\"do_sample\": true, \"temperature\": 0}", PRISM_ERR_INVALID_ARGUMENT, "temperature" },
    { "{\"num_beams\": 2, \"num_return_sequences\": 3}", PRISM_ERR_INVALID_ARGUMENT,
      "num_return_sequences" },
    { "{\"num_return_sequences\": 2}", PRISM_ERR_INVALID_ARGUMENT, "num_return_sequences" },
    { "{\"max_length\": 65}", PRISM_ERR_OUT_OF_RANGE, "max_position_embeddings" },
    { "{\"max_new_tokens\": 64}", PRISM_ERR_OUT_OF_RANGE, "max_position_embeddings" },
    { "{\"max_length\": 0}", PRISM_ERR_INVALID_ARGUMENT, "max_length" },
    { "{\"max_new_tokens\": 0}", PRISM_ERR_INVALID_ARGUMENT, "max_new_tokens" },
    { "{\"repetition_penalty\": 0}", PRISM_ERR_INVALID_ARGUMENT, "repetition_penalty" },
    { "{\"forced_bos_token_id\": 1000}", PRISM_ERR_OUT_OF_RANGE, "forced_bos_token_id" },
    { "{\"num_beams\": 9}", PRISM_ERR_LIMIT, "max_rows" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    prism_generate_result *res;
    int rc = run(f, f->ids, f->mask, f->batch, f->src_len, cases[i].params, &res);
    if (rc != cases[i].status)
      print_error("%s -> %s: %s\n", cases[i].params, prism_status_name(rc), prism_last_error());
    assert_int_equal(rc, cases[i].status);
    assert_error_mentions(cases[i].mentions);
    assert_null(res);
  }
}

static void test_bad_inputs(void **state)
{
  fixture *f = *state;
  int32_t ids[2][4] = { { 0, 10, 2, 1 }, { 0, 11, 12, 2 } },
          mask[2][4] = { { 1, 1, 1, 0 }, { 1, 1, 1, 1 } };
  int32_t long_ids[65];
  prism_generate_result *res = NULL;
  prism_generate_params p;
  (void)state;

  ids[1][2] = 1000;
  assert_status(run(f, ids[0], mask[0], 2, 4, "{}", &res), PRISM_ERR_OUT_OF_RANGE);
  assert_error_mentions("input_ids[1][2] = 1000");
  ids[1][2] = -3;
  assert_status(run(f, ids[0], mask[0], 2, 4, "{}", &res), PRISM_ERR_OUT_OF_RANGE);
  ids[1][2] = 12;
  memset(mask[1], 0, sizeof mask[1]);
  assert_status(run(f, ids[0], mask[0], 2, 4, "{}", &res), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("row 1 is empty");
  mask[1][0] = 2;
  assert_status(run(f, ids[0], mask[0], 2, 4, "{}", &res), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("attention_mask[1][0]");
  /* Without a mask, a row of padding is empty too. */
  for (int t = 0; t < 4; t++)
    ids[1][t] = 1;
  assert_status(run(f, ids[0], NULL, 2, 4, "{}", &res), PRISM_ERR_INVALID_ARGUMENT);
  for (int t = 0; t < 65; t++)
    long_ids[t] = 5;
  assert_status(run(f, long_ids, NULL, 1, 65, "{}", &res), PRISM_ERR_OUT_OF_RANGE);
  assert_error_mentions("input length 65");
  assert_status(run(f, f->ids, NULL, 5, 2, "{}", &res), PRISM_ERR_LIMIT);
  assert_null(res);

  assert_ok(prism_generate_params_init(&p, sizeof p));
  assert_status(prism_generate_run(NULL, f->session, f->ids, NULL, 1, 8, &p, NULL, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_generate_run(&res, NULL, f->ids, NULL, 1, 8, &p, NULL, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_generate_run(&res, f->session, NULL, NULL, 1, 8, &p, NULL, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_generate_run(&res, f->session, f->ids, NULL, 0, 8, &p, NULL, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  p.struct_size = 8;
  assert_status(prism_generate_run(&res, f->session, f->ids, NULL, 1, 8, &p, NULL, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("struct_size");
  assert_null(res);
}

/* NULL params take the model's defaults: tiny-bart's are the fixture's "greedy" case. */
static void test_model_defaults(void **state)
{
  fixture *f = *state;
  size_t rows, width;
  int32_t *want = expected_case(f, "greedy", &rows, &width);
  prism_generate_result *res = NULL;
  prism_generate_stats stats;
  assert_ok(prism_generate_run(&res, f->session, f->ids, f->mask, f->batch, f->src_len, NULL, NULL,
                               NULL));
  assert_result_is(res, want, rows, width);
  assert_null(prism_generate_result_scores(res));
  memset(&stats, 0, sizeof stats);
  stats.struct_size = sizeof stats;
  assert_ok(prism_generate_result_stats(&stats, res));
  assert_int_equal(stats.steps, (int)width - 1);
  assert_int_equal(stats.rows, 2);
  assert_true(stats.encode_ms >= 0 && stats.decode_ms >= 0);
  stats.struct_size = 4;
  assert_status(prism_generate_result_stats(&stats, res), PRISM_ERR_INVALID_ARGUMENT);
  prism_generate_result_free(res);
  prism_generate_result_free(NULL);
  assert_int_equal(prism_generate_result_count(NULL), 0);
  assert_null(prism_generate_result_sequences(NULL));
  free(want);
}

/* max_new_tokens wins over max_length, as in HF. */
static void test_max_new_tokens(void **state)
{
  fixture *f = *state;
  prism_generate_result *res;
  assert_ok(run(f, f->ids, f->mask, f->batch, f->src_len,
                "{\"max_length\": 40, \"max_new_tokens\": 6}", &res));
  assert_int_equal(prism_generate_result_width(res), 7);
  assert_int_equal(prism_generate_result_sequences(res)[6], 2); /* forced EOS at max_length - 1 */
  prism_generate_result_free(res);
}

typedef struct stream_state {
  size_t events, cancel_at;
  int32_t tokens[64][4];
} stream_state;

static int on_step(const prism_generate_event *ev, void *payload)
{
  stream_state *s = payload;
  assert_true(ev->struct_size >= sizeof *ev && ev->num_rows <= 4 && ev->step < 64);
  s->events++;
  for (size_t r = 0; r < ev->num_rows; r++)
    s->tokens[ev->step][r] = ev->tokens[r];
  return s->cancel_at == 0 || s->events < s->cancel_at;
}

static void test_stream_and_cancel(void **state)
{
  fixture *f = *state;
  size_t rows, width;
  int32_t *want = expected_case(f, "greedy_rep_penalty", &rows, &width);
  prism_generate_params p = params_from("{\"repetition_penalty\": 1.5, \"max_length\": 20}");
  stream_state s;
  prism_generate_result *res = NULL;

  memset(&s, 0, sizeof s);
  s.cancel_at = 4;
  assert_status(
      prism_generate_run(&res, f->session, f->ids, f->mask, f->batch, f->src_len, &p, on_step, &s),
      PRISM_ERR_CANCELLED);
  assert_null(res);
  assert_int_equal(s.events, 4);
  /* The session serves the next request as if nothing had happened. */
  memset(&s, 0, sizeof s);
  assert_ok(
      prism_generate_run(&res, f->session, f->ids, f->mask, f->batch, f->src_len, &p, on_step, &s));
  assert_result_is(res, want, rows, width);
  assert_int_equal(s.events, width - 1);
  for (size_t t = 1; t < width; t++)
    for (size_t r = 0; r < rows; r++)
      assert_int_equal(s.tokens[t][r], want[r * width + t]);
  prism_generate_result_free(res);
  free(want);
}

static void test_stream_beam(void **state)
{
  fixture *f = *state;
  size_t rows, width;
  int32_t *want = expected_case(f, "beam4", &rows, &width);
  prism_generate_params p = params_from("{\"num_beams\": 4, \"early_stopping\": true}");
  stream_state s;
  prism_generate_result *res = NULL;
  memset(&s, 0, sizeof s);
  assert_ok(
      prism_generate_run(&res, f->session, f->ids, f->mask, f->batch, f->src_len, &p, on_step, &s));
  assert_result_is(res, want, rows, width);
  assert_true(s.events >= 1);
  /* The last streamed best hypothesis of each row ends like the returned sequence. */
  for (size_t r = 0; r < rows; r++)
    assert_int_equal(s.tokens[s.events][r],
                     want[r * width + (size_t)prism_generate_result_lengths(res)[r] - 1]);
  prism_generate_result_free(res);
  free(want);
}

static void test_sampling_on_model(void **state)
{
  fixture *f = *state;
  size_t rows, width;
  int32_t *greedy = expected_case(f, "greedy", &rows, &width);
  prism_generate_result *a, *b, *c, *cold;
  const char *json = "{\"do_sample\": true, \"seed\": 11, \"num_return_sequences\": 2, "
                     "\"top_k\": 5, \"top_p\": 0.9}";

  assert_ok(run(f, f->ids, f->mask, f->batch, f->src_len, json, &a));
  prism_set_num_threads(1);
  assert_ok(run(f, f->ids, f->mask, f->batch, f->src_len, json, &b));
  prism_set_num_threads(0);
  assert_int_equal(prism_generate_result_count(a), 4);
  assert_int_equal(prism_generate_result_width(a), prism_generate_result_width(b));
  assert_memory_equal(prism_generate_result_sequences(a), prism_generate_result_sequences(b),
                      4 * prism_generate_result_width(a) * sizeof(int32_t));
  assert_ok(run(f, f->ids, f->mask, f->batch, f->src_len,
                "{\"do_sample\": true, \"seed\": 12, \"num_return_sequences\": 2, "
                "\"top_k\": 0}",
                &c));
  assert_true(prism_generate_result_width(c) != prism_generate_result_width(a) ||
              memcmp(prism_generate_result_sequences(a), prism_generate_result_sequences(c),
                     4 * prism_generate_result_width(a) * sizeof(int32_t)) != 0);
  assert_ok(run(f, f->ids, f->mask, f->batch, f->src_len,
                "{\"do_sample\": true, \"seed\": 3, \"temperature\": 1e-6}", &cold));
  assert_result_is(cold, greedy, rows, width);
  prism_generate_result_free(cold);
  /* Beam sampling: reproducible, with scores. */
  prism_generate_result_free(b);
  assert_ok(run(f, f->ids, f->mask, f->batch, f->src_len,
                "{\"do_sample\": true, \"seed\": 5, \"num_beams\": 3, "
                "\"num_return_sequences\": 2}",
                &b));
  assert_ok(run(f, f->ids, f->mask, f->batch, f->src_len,
                "{\"do_sample\": true, \"seed\": 5, \"num_beams\": 3, "
                "\"num_return_sequences\": 2}",
                &cold));
  assert_non_null(prism_generate_result_scores(b));
  assert_int_equal(prism_generate_result_count(b), 4);
  assert_int_equal(prism_generate_result_width(b), prism_generate_result_width(cold));
  assert_memory_equal(prism_generate_result_sequences(b), prism_generate_result_sequences(cold),
                      4 * prism_generate_result_width(b) * sizeof(int32_t));
  prism_generate_result_free(a);
  prism_generate_result_free(b);
  prism_generate_result_free(c);
  prism_generate_result_free(cold);
  free(greedy);
}

/* Each allocation of a run failing in turn: PRISM_ERR_NO_MEMORY, no leak, then success. */
static void test_allocation_failures(void **state)
{
  fixture *f = *state;
  const char *modes[] = { "{}", "{\"num_beams\": 3, \"num_return_sequences\": 2}",
                          "{\"do_sample\": true, \"top_p\": 0.8}" };
  for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
    prism_generate_params p = params_from(modes[m]);
    for (long n = 1;; n++) {
      prism_generate_result *res = NULL;
      int rc;
      prism__alloc_fail_at(n);
      rc = prism_generate_run(&res, f->session, f->ids, f->mask, f->batch, f->src_len, &p, NULL,
                              NULL);
      prism__alloc_fail_at(0);
      if (rc == PRISM_OK) {
        assert_true(n > 3);
        prism_generate_result_free(res);
        break;
      }
      assert_int_equal(rc, PRISM_ERR_NO_MEMORY);
      assert_null(res);
    }
  }
}

/* Allocations per call do not grow with the number of steps: the decode loop allocates nothing. */
static long allocations_for(fixture *f, int num_beams, int steps)
{
  prism_generate_params p;
  prism_generate_result *res = NULL;
  long count;
  assert_ok(prism_generate_params_init(&p, sizeof p));
  p.num_beams = num_beams;
  p.max_length = steps + 1;
  p.min_length = steps + 1; /* EOS banned: exactly `steps` steps */
  p.forced_eos_token_id = PRISM_NO_TOKEN;
  prism__alloc_fail_at(0); /* resets the counter */
  assert_ok(
      prism_generate_run(&res, f->session, f->ids, f->mask, f->batch, f->src_len, &p, NULL, NULL));
  count = prism__alloc_count();
  assert_int_equal(prism_generate_result_width(res), steps + 1);
  prism_generate_result_free(res);
  return count;
}

static void test_decode_loop_allocates_nothing(void **state)
{
  fixture *f = *state;
  allocations_for(f, 4, 30); /* the session grows to the largest request once */
  assert_true(allocations_for(f, 1, 3) > 0);
  assert_int_equal(allocations_for(f, 1, 3), allocations_for(f, 1, 30));
  assert_int_equal(allocations_for(f, 4, 3), allocations_for(f, 4, 30));
}

static void count_warnings(int level, const char *message, void *payload)
{
  if (level == PRISM_LOG_WARN && strstr(message, "num_beam_groups"))
    ++*(int *)payload;
}

/* The tiny-bart weights under a config.json and a generation_config.json of the test's own. */
static prism_bart *model_with(const char *config_changes, const char *generation,
                              prism__file *weights)
{
  char path[1024], *text;
  prism_bart *m;
  json_t *cfg = json_load_file(fixture_path(path, sizeof path, "tiny-bart/config.json"), 0, NULL);
  json_t *changes = json_loads(config_changes, 0, NULL);
  assert_non_null(cfg);
  assert_non_null(changes);
  assert_int_equal(json_object_update(cfg, changes), 0);
  text = json_dumps(cfg, 0);
  assert_ok(
      prism__file_read(fixture_path(path, sizeof path, "tiny-bart/model.safetensors"), 0, weights));
  /* load_memory uses F32 tensors in place: the caller keeps `weights` until the model is freed. */
  assert_ok(prism_bart_load_memory(&m, text, strlen(text), weights->data, weights->size, generation,
                                   generation ? strlen(generation) : 0, NULL));
  json_decref(cfg);
  json_decref(changes);
  free(text);
  return m;
}

/*
 * The layers of generation settings: HF defaults, then config.json, then
 * generation_config.json, then the request; unsupported model settings are
 * named in a warning, unsupported request settings refused.
 */
static void test_defaults_layers(void **state)
{
  prism_generate_params d, req = params_from("{\"num_beams\": 3, \"forced_eos_token_id\": null}");
  prism__file weights;
  prism_bart *m = model_with("{\"num_beams\": 5, \"length_penalty\": 2.0, \"pad_token_id\": null, "
                             "\"decoder_start_token_id\": null, \"num_beam_groups\": 2}",
                             "{\"max_length\": 30, \"max_new_tokens\": null}", &weights);
  int warnings = 0;
  (void)state;
  assert_ok(prism_generate_params_init(&d, sizeof d));
  prism_log_set(count_warnings, &warnings);
  assert_ok(prism_generate_params_from_model(&d, m, NULL));
  prism_log_set(NULL, NULL);
  assert_int_equal(warnings, 1);
  assert_int_equal(d.num_beams, 5);     /* config.json */
  assert_int_equal(d.max_length, 30);   /* generation_config.json over HF's 20 */
  assert_true(d.length_penalty == 2.0); /* config.json */
  assert_int_equal(d.top_k, 50);        /* HF */
  assert_int_equal(d.forced_eos_token_id, 2);
  assert_int_equal(d.max_new_tokens, PRISM_UNSET);
  assert_int_equal(d.pad_token_id, PRISM_NO_TOKEN);
  assert_ok(prism_generate_params_from_model(&d, m, &req));
  assert_int_equal(d.num_beams, 3); /* the request */
  assert_int_equal(d.max_length, 30);
  assert_int_equal(d.forced_eos_token_id, PRISM_NO_TOKEN);
  /* A bad request is named; a feature libprism does not run is refused, not ignored. */
  req.num_return_sequences = 4;
  assert_status(prism_generate_params_from_model(&d, m, &req), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("prism_generate_params_from_model: num_return_sequences 4 exceeds");
  assert_status(prism_generate_params_parse(&req, "{\"num_beam_groups\": 2}", 22),
                PRISM_ERR_UNSUPPORTED);
  assert_error_mentions("num_beam_groups");
  assert_ok(prism_generate_params_parse(&req, "{\"num_beam_groups\": 1}", 22));
  prism_bart_free(m);
  prism__file_close(&weights);
}

/*
 * A model whose generation_config.json asks for 4 beams (as facebook/bart-base's
 * does) runs HF's 4-beam search from a default request on a session with no
 * caps: the session grows to the 4 rows per input by itself.
 */
static void test_model_beam_default(void **state)
{
  fixture *f = *state;
  size_t rows, width;
  int32_t *want = expected_case(f, "beam4", &rows, &width);
  prism__file weights;
  prism_bart *m = model_with("{}",
                             "{\"num_beams\": 4, \"early_stopping\": true, "
                             "\"forced_bos_token_id\": 0, \"forced_eos_token_id\": 2}",
                             &weights);
  prism_bart_session *s;
  prism_generate_result *res = NULL;
  (void)state;
  assert_ok(prism_bart_session_create(&s, m, NULL));
  assert_ok(prism_generate_run(&res, s, f->ids, f->mask, f->batch, f->src_len, NULL, NULL, NULL));
  assert_result_is(res, want, rows, width);
  assert_non_null(prism_generate_result_scores(res));
  prism_generate_result_free(res);
  prism_bart_session_free(s);
  prism_bart_free(m);
  prism__file_close(&weights);
  free(want);
}

/* A session cap is the only source of PRISM_ERR_LIMIT, and the message names it. */
static void test_session_caps(void **state)
{
  fixture *f = *state;
  prism_bart_session_params caps;
  prism_bart_session *s;
  prism_generate_result *res = NULL;
  assert_ok(prism_bart_session_params_init(&caps, sizeof caps));
  caps.max_rows = 2 * (uint32_t)f->batch;
  assert_ok(prism_bart_session_create(&s, f->bart, &caps));
  assert_status(run_on(s, f, "{\"num_beams\": 4}", &res), PRISM_ERR_LIMIT);
  assert_error_mentions("max_rows");
  assert_ok(run_on(s, f, "{\"num_beams\": 2}", &res));
  prism_generate_result_free(res);
  assert_status(prism_bart_session_reserve(s, 1, 1, 1000, 1), PRISM_ERR_OUT_OF_RANGE);
  assert_error_mentions("max_position_embeddings");
  prism_bart_session_free(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_params_init),
    cmocka_unit_test(test_params_parse),
    cmocka_unit_test(test_bad_params),
    cmocka_unit_test(test_bad_inputs),
    cmocka_unit_test(test_model_defaults),
    cmocka_unit_test(test_max_new_tokens),
    cmocka_unit_test(test_stream_and_cancel),
    cmocka_unit_test(test_stream_beam),
    cmocka_unit_test(test_sampling_on_model),
    cmocka_unit_test(test_allocation_failures),
    cmocka_unit_test(test_decode_loop_allocates_nothing),
    cmocka_unit_test(test_defaults_layers),
    cmocka_unit_test(test_model_beam_default),
    cmocka_unit_test(test_session_caps),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
