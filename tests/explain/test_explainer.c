/*
 * Text to text over the copy fixture: tiny-bart-copy was trained to repeat its
 * input ids, so with a byte-level vocabulary whose ids fit its 1000-token
 * embedding, explaining a text must give the text back.
 */
#include "../testutil.h"
#include "prism/explain.h"

static prism_tokenizer *tok;
static prism_bart *model;

/* GPT-2's bytes -> unicode table, written as UTF-8 into `out` (returns the length). */
static size_t byte_symbol(unsigned b, char *out)
{
  unsigned cp = b, n = 0;
  if (!((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE))) {
    for (unsigned x = 0; x < b; x++)
      if (!((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE)))
        n++;
    cp = 256 + n;
  }
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  out[0] = (char)(0xC0 | cp >> 6);
  out[1] = (char)(0x80 | (cp & 0x3F));
  return 2;
}

/* Specials 0..3, the 256 byte symbols as ids 4..259, <mask> 260, no merges. */
static int setup(void **state)
{
  enum { CAP = 16384 };
  char *vocab = malloc(CAP), sym[4];
  const char *merges = "#version: 0.2\n";
  size_t len = 0;
  char path[512];
  (void)state;
  assert_non_null(vocab);
  len += (size_t)snprintf(vocab, CAP, "{\"<s>\":0,\"<pad>\":1,\"</s>\":2,\"<unk>\":3");
  for (unsigned b = 0; b < 256; b++) {
    size_t k = byte_symbol(b, sym);
    len += (size_t)snprintf(vocab + len, CAP - len, ",\"%s%.*s\":%u",
                            b == '"' || b == '\\' ? "\\" : "", (int)k, sym, b + 4);
  }
  len += (size_t)snprintf(vocab + len, CAP - len, ",\"<mask>\":260}");
  assert_true(len < CAP);
  assert_ok(prism_tokenizer_load_memory(&tok, vocab, len, merges, strlen(merges), NULL));
  free(vocab);
  assert_ok(prism_bart_load(&model, fixture_path(path, sizeof path, "tiny-bart-copy"), NULL));
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  prism_bart_free(model);
  prism_tokenizer_free(tok);
  return 0;
}

static prism_generate_params greedy(int max_length)
{
  prism_generate_params p;
  prism_generate_params_init(&p, sizeof p);
  p.max_length = max_length;
  p.num_beams = 1;
  return p;
}

static void test_copy_round_trip(void **state)
{
  const char *prompts[] = { "hello world", "abc", "The Glass" };
  prism_generate_params p = greedy(24);
  prism_explainer *ex;
  prism_text_batch *out;
  size_t len;
  (void)state;
  assert_ok(prism_explainer_create(&ex, tok, model, NULL));
  assert_ptr_equal(prism_explainer_tokenizer(ex), tok);
  assert_ptr_equal(prism_explainer_model(ex), model);
  assert_ok(prism_explainer_run(&out, ex, prompts, 3, &p, NULL, NULL));
  assert_int_equal(prism_text_batch_count(out), 3);
  for (size_t i = 0; i < 3; i++) {
    assert_string_equal(prism_text_batch_get(out, i, &len), prompts[i]);
    assert_int_equal(len, strlen(prompts[i]));
  }
  assert_null(prism_text_batch_get(out, 3, &len));
  prism_text_batch_free(out);
  prism_explainer_free(ex);
}

/* The explainer is exactly tokenize -> generate -> detokenize, whatever the model says. */
static void test_matches_manual_pipeline(void **state)
{
  const char *prompts[] = { "one prompt here", "x", "a third, longer prompt text" };
  prism_generate_params p = greedy(12);
  prism_explainer_params ep;
  prism_explainer *ex;
  prism_text_batch *out, *chunked;
  prism_bart_session *s;
  (void)state;
  p.num_beams = 3;
  p.num_return_sequences = 2;
  assert_ok(prism_explainer_create(&ex, tok, model, NULL));
  assert_ok(prism_explainer_run(&out, ex, prompts, 3, &p, NULL, NULL));
  assert_int_equal(prism_text_batch_count(out), 6);
  assert_ok(prism_bart_session_create(&s, model, NULL));
  for (size_t i = 0; i < 3; i++) {
    int32_t ids[64];
    size_t n, tl;
    char text[256];
    prism_generate_result *res;
    assert_ok(prism_tokenizer_encode(ids, 64, &n, tok, prompts[i], strlen(prompts[i]), 0));
    assert_ok(prism_generate_run(&res, s, ids, NULL, 1, n, &p, NULL, NULL));
    for (size_t j = 0; j < 2; j++) {
      assert_ok(prism_tokenizer_decode(
          text, sizeof text, &tl, tok,
          prism_generate_result_sequences(res) + j * prism_generate_result_width(res),
          (size_t)prism_generate_result_lengths(res)[j], PRISM_TOKENIZER_SKIP_SPECIAL));
      assert_string_equal(prism_text_batch_get(out, i * 2 + j, NULL), text);
    }
    prism_generate_result_free(res);
  }
  prism_bart_session_free(s);

  /* One prompt per pass gives the same texts. */
  assert_ok(prism_explainer_params_init(&ep, sizeof ep));
  ep.max_batch = 1;
  prism_explainer_free(ex);
  assert_ok(prism_explainer_create(&ex, tok, model, &ep));
  assert_ok(prism_explainer_run(&chunked, ex, prompts, 3, &p, NULL, NULL));
  for (size_t i = 0; i < 6; i++)
    assert_string_equal(prism_text_batch_get(chunked, i, NULL), prism_text_batch_get(out, i, NULL));
  prism_text_batch_free(chunked);
  prism_text_batch_free(out);
  prism_explainer_free(ex);
}

static void test_truncation(void **state)
{
  const char *prompts[] = { "abcdefghijklmnop" };
  prism_explainer_params ep;
  prism_generate_params p = greedy(24);
  prism_explainer *ex;
  prism_text_batch *out;
  (void)state;
  prism_explainer_params_init(&ep, sizeof ep);
  ep.max_source_tokens = 6; /* <s> + 4 tokens + </s> */
  assert_ok(prism_explainer_create(&ex, tok, model, &ep));
  assert_ok(prism_explainer_run(&out, ex, prompts, 1, &p, NULL, NULL));
  assert_string_equal(prism_text_batch_get(out, 0, NULL), "abcd");
  prism_text_batch_free(out);
  prism_explainer_free(ex);
}

static int count_steps(const prism_generate_event *ev, void *payload)
{
  (void)ev;
  return ++*(int *)payload < 3;
}

static void test_errors_and_cancel(void **state)
{
  const char *bad[] = { "fine", "bad \xc3 byte" }, *null_prompt[] = { "a", NULL },
             *ok[] = { "abc" };
  prism_generate_params p = greedy(24);
  prism_explainer *ex;
  prism_text_batch *out = NULL;
  prism_tokenizer *big;
  char path[512], path2[512];
  int steps = 0;
  (void)state;
  assert_ok(prism_explainer_create(&ex, tok, model, NULL));
  assert_status(prism_explainer_run(&out, ex, bad, 2, &p, NULL, NULL), PRISM_ERR_INVALID_UTF8);
  assert_error_mentions("prompt 1");
  assert_null(out);
  assert_status(prism_explainer_run(&out, ex, null_prompt, 2, &p, NULL, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_explainer_run(&out, ex, ok, 0, &p, NULL, NULL), PRISM_ERR_INVALID_ARGUMENT);
  p.num_beams = 0;
  assert_status(prism_explainer_run(&out, ex, ok, 1, &p, NULL, NULL), PRISM_ERR_INVALID_ARGUMENT);
  p = greedy(24);
  assert_status(prism_explainer_run(&out, ex, ok, 1, &p, count_steps, &steps), PRISM_ERR_CANCELLED);
  assert_int_equal(steps, 3);
  assert_ok(prism_explainer_run(&out, ex, ok, 1, &p, NULL, NULL)); /* still usable */
  assert_string_equal(prism_text_batch_get(out, 0, NULL), "abc");
  prism_text_batch_free(out);
  prism_explainer_free(ex);

  /* The real BART vocabulary does not fit the 1000-token fixture model. */
  assert_ok(prism_tokenizer_load(&big, fixture_path(path, sizeof path, "bart-vocab"), NULL));
  assert_status(prism_explainer_create(&ex, big, model, NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("50265");
  prism_tokenizer_free(big);
  /* A model folder without tokenizer files. */
  assert_int_not_equal(
      prism_explainer_load(&ex, fixture_path(path2, sizeof path2, "tiny-bart"), NULL), PRISM_OK);
  assert_error_mentions("tiny-bart");
  prism_explainer_free(NULL);
  prism_text_batch_free(NULL);
  assert_int_equal(prism_text_batch_count(NULL), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_copy_round_trip),
    cmocka_unit_test(test_matches_manual_pipeline),
    cmocka_unit_test(test_truncation),
    cmocka_unit_test(test_errors_and_cancel),
  };
  return cmocka_run_group_tests_name("explainer", tests, setup, teardown);
}
