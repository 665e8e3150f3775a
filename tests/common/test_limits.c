/* Process-wide limits: each one refuses before allocating, and 0 means no cap. */
#include "../testutil.h"
#include "common/alloc.h"
#include "common/file.h"
#include "prism/generate.h"
#include "prism/tokenizer.h"

static void set_limits(uint64_t file, uint64_t text, uint32_t batch, uint32_t new_tokens)
{
  prism_limits l;
  assert_ok(prism_limits_get(&l, sizeof l));
  l.max_file_bytes = file;
  l.max_text_bytes = text;
  l.max_batch = batch;
  l.max_new_tokens = new_tokens;
  assert_ok(prism_limits_set(&l));
}

static void test_defaults_and_arguments(void **state)
{
  prism_limits l;
  (void)state;
  assert_ok(prism_limits_get(&l, sizeof l));
  assert_int_equal(l.struct_size, sizeof l);
  assert_true(l.max_file_bytes == 0 && l.max_text_bytes == 0 && l.max_batch == 0 &&
              l.max_new_tokens == 0);
  assert_status(prism_limits_get(NULL, sizeof l), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_limits_get(&l, 4), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_limits_set(NULL), PRISM_ERR_INVALID_ARGUMENT);
  l.struct_size = 4;
  assert_status(prism_limits_set(&l), PRISM_ERR_INVALID_ARGUMENT);
}

static void test_file_and_text_limits(void **state)
{
  char path[512];
  prism_tokenizer *tok;
  prism__file f;
  size_t n;
  (void)state;
  fixture_path(path, sizeof path, "bart-vocab");
  set_limits(1000, 0, 0, 0);
  assert_status(prism_tokenizer_load(&tok, path, NULL), PRISM_ERR_LIMIT);
  assert_error_mentions("vocab.json");
  assert_error_mentions("limit of 1000");
  assert_status(prism__file_read(fixture_path(path, sizeof path, "tiny-bart/config.json"), 0, &f),
                PRISM_ERR_LIMIT);
  /* the tighter of the call's cap and the global one wins */
  set_limits(1u << 30, 0, 0, 0);
  assert_status(prism__file_read(path, 10, &f), PRISM_ERR_LIMIT);
  assert_ok(prism__file_read(path, 0, &f));
  prism__file_close(&f);

  set_limits(0, 8, 0, 0);
  assert_ok(prism_tokenizer_load(&tok, fixture_path(path, sizeof path, "bart-vocab"), NULL));
  assert_ok(prism_tokenizer_encode(NULL, 0, &n, tok, "Hello", 5, 0));
  assert_status(prism_tokenizer_encode(NULL, 0, &n, tok, "Hello world", 11, 0), PRISM_ERR_LIMIT);
  assert_error_mentions("11 bytes");
  set_limits(0, 0, 0, 0);
  assert_ok(prism_tokenizer_encode(NULL, 0, &n, tok, "Hello world", 11, 0));
  prism_tokenizer_free(tok);
}

static void test_generate_limits(void **state)
{
  const int32_t ids[] = { 0, 10, 20, 2, 0, 30, 40, 2 };
  char path[512];
  prism_bart *model;
  prism_bart_session *s;
  prism_generate_params p;
  prism_generate_result *res = NULL;
  (void)state;
  assert_ok(prism_bart_load(&model, fixture_path(path, sizeof path, "tiny-bart"), NULL));
  assert_ok(prism_bart_session_create(&s, model, NULL));
  prism_generate_params_init(&p, sizeof p);
  p.max_length = 10;
  set_limits(0, 0, 1, 0);
  assert_status(prism_generate_run(&res, s, ids, NULL, 2, 4, &p, NULL, NULL), PRISM_ERR_LIMIT);
  assert_error_mentions("batch of 2 rows");
  assert_null(res);
  assert_ok(prism_generate_run(&res, s, ids, NULL, 1, 4, &p, NULL, NULL));
  prism_generate_result_free(res);
  set_limits(0, 0, 0, 8);
  assert_status(prism_generate_run(&res, s, ids, NULL, 2, 4, &p, NULL, NULL), PRISM_ERR_LIMIT);
  assert_error_mentions("asks for 9 new tokens");
  p.max_length = 9;
  assert_ok(prism_generate_run(&res, s, ids, NULL, 2, 4, &p, NULL, NULL));
  prism_generate_result_free(res);
  /* A model default above the cap is clamped to it, not refused. */
  assert_ok(prism_generate_run(&res, s, ids, NULL, 2, 4, NULL, NULL, NULL));
  assert_true(prism_generate_result_width(res) <= 9);
  prism_generate_result_free(res);
  set_limits(0, 0, 0, 0);
  prism_bart_session_free(s);
  prism_bart_free(model);
}

/* The safe caps refuse a request that would run for minutes before it allocates anything. */
static void test_safe_limits(void **state)
{
  const int32_t ids[] = { 0, 10, 20, 2 };
  char path[512];
  prism_bart *model;
  prism_bart_session *s;
  prism_generate_params p;
  prism_generate_result *res = NULL;
  prism_limits safe, none;
  (void)state;
  assert_ok(prism_limits_init_safe(&safe, sizeof safe));
  assert_true(safe.max_beams == 16 && safe.max_new_tokens == 512 && safe.max_decoder_rows == 1024);
  assert_ok(prism_limits_set(&safe));
  assert_ok(prism_bart_load(&model, fixture_path(path, sizeof path, "tiny-bart"), NULL));
  assert_ok(prism_bart_session_create(&s, model, NULL));
  assert_ok(prism_generate_params_init(&p, sizeof p));
  p.num_beams = 100000;
  prism__alloc_fail_at(0);
  assert_status(prism_generate_run(&res, s, ids, NULL, 1, 4, &p, NULL, NULL), PRISM_ERR_LIMIT);
  assert_error_mentions("prism_generate_run: num_beams 100000 is above the limit max_beams 16");
  assert_true(prism__alloc_count() < 10); /* refused before the session grew */
  p.num_beams = 16;
  p.max_length = 64;
  safe.max_decoder_tokens = 16 * 62;
  assert_ok(prism_limits_set(&safe));
  assert_status(prism_generate_run(&res, s, ids, NULL, 1, 4, &p, NULL, NULL), PRISM_ERR_LIMIT);
  assert_error_mentions("max_decoder_tokens");
  assert_ok(prism_limits_init(&none, sizeof none));
  assert_ok(prism_limits_set(&none));
  prism_bart_session_free(s);
  prism_bart_free(model);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_defaults_and_arguments),
    cmocka_unit_test(test_file_and_text_limits),
    cmocka_unit_test(test_generate_limits),
    cmocka_unit_test(test_safe_limits),
  };
  return cmocka_run_group_tests_name("limits", tests, NULL, NULL);
}
