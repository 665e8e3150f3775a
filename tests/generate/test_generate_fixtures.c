/*
 * Every `generate` case of the HuggingFace fixtures through prism_generate_run:
 * identical sequences, sequences_scores within 1e-4.
 */
#include "../bart/bart_test_util.h"
#include "prism/generate.h"

#define SCORE_TOLERANCE 1e-4

static const char *const models[] = { "tiny-bart", "tiny-bart-f16", "tiny-bart-bf16",
                                      "tiny-bart-copy" };

static int cases_total, cases_passed;

/* Compare one case; prints what differs and returns 1 when it matches. */
static int check_case(const char *model, const json_t *c, const prism_generate_result *res)
{
  const char *name = json_string_value(json_object_get(c, "name"));
  const json_t *want_scores = json_object_get(c, "sequences_scores");
  const int32_t *seq = prism_generate_result_sequences(res);
  const float *scores = prism_generate_result_scores(res);
  size_t rows, width;
  int32_t *want = json_int_matrix(json_object_get(c, "sequences"), &rows, &width);
  int ok = prism_generate_result_count(res) == rows && prism_generate_result_width(res) == width;

  for (size_t i = 0; ok && i < rows * width; i++)
    ok = seq[i] == want[i];
  if (!ok)
    print_error("%s/%s: sequences differ (got %zu x %zu)\n", model, name,
                prism_generate_result_count(res), prism_generate_result_width(res));
  if (ok && want_scores) {
    ok = scores != NULL;
    for (size_t i = 0; ok && i < rows; i++) {
      double w = json_number_value(json_array_get(want_scores, i));
      ok = fabs((double)scores[i] - w) <= SCORE_TOLERANCE;
      if (!ok)
        print_error("%s/%s: sequences_scores[%zu] = %.7f, want %.7f\n", model, name, i,
                    (double)scores[i], w);
    }
  } else if (ok) {
    ok = scores == NULL;
  }
  free(want);
  return ok;
}

static void run_model(const char *model)
{
  char path[1024];
  json_t *expected = load_expected(model);
  const json_t *cases = json_object_get(expected, "generate");
  size_t batch, src_len, mrows, mcols;
  int32_t *ids = json_int_matrix(json_object_get(expected, "input_ids"), &batch, &src_len);
  int32_t *mask = json_int_matrix(json_object_get(expected, "attention_mask"), &mrows, &mcols);
  prism_bart *bart;
  prism_bart_session *session;

  assert_ok(prism_bart_load(&bart, fixture_path(path, sizeof path, model), NULL));
  assert_ok(prism_bart_session_create(&session, bart, NULL));
  for (size_t i = 0; i < json_array_size(cases); i++) {
    const json_t *c = json_array_get(cases, i);
    char *text = json_dumps(json_object_get(c, "params"), JSON_COMPACT);
    prism_generate_params params;
    prism_generate_result *res = NULL;

    assert_ok(prism_generate_params_init(&params, sizeof params));
    assert_ok(prism_generate_params_parse(&params, text, strlen(text)));
    assert_ok(prism_generate_run(&res, session, ids, mask, batch, src_len, &params, NULL, NULL));
    cases_total++;
    cases_passed += check_case(model, c, res);
    prism_generate_result_free(res);
    free(text);
  }
  prism_bart_session_free(session);
  prism_bart_free(bart);
  free(ids);
  free(mask);
  json_decref(expected);
}

static void test_fixture_cases(void **state)
{
  (void)state;
  for (size_t m = 0; m < sizeof models / sizeof models[0]; m++)
    run_model(models[m]);
  print_message("generate fixtures: %d/%d cases pass\n", cases_passed, cases_total);
  assert_true(cases_total > 0);
  assert_int_equal(cases_passed, cases_total);
}

/* The same cases on one worker and on several give the same outputs. */
static void test_fixture_cases_threads(void **state)
{
  (void)state;
  cases_total = cases_passed = 0;
  prism_set_num_threads(1);
  run_model("tiny-bart");
  prism_set_num_threads(3);
  run_model("tiny-bart");
  prism_set_num_threads(0);
  assert_int_equal(cases_passed, cases_total);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fixture_cases),
    cmocka_unit_test(test_fixture_cases_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
