/*
 * Parity with HuggingFace BartTokenizer: every case of
 * fixtures/tokenizer_cases.jsonl must give the same ids (with and without
 * specials) and the same decoded text (with and without skip_special_tokens).
 */
#include <jansson.h>

#include "testutil.h"

typedef struct counts {
  size_t cases, ids, ids_no_special, decoded, decoded_skip_special;
} counts;

static prism_tokenizer *load_bart(void)
{
  char dir[1024];
  prism_tokenizer *tok = NULL;
  assert_ok(prism_tokenizer_load(&tok, fixture_path(dir, sizeof dir, "bart-vocab"), NULL));
  return tok;
}

/* 1 when encoding `text` gives exactly the integers of `want`. */
static int ids_match(const prism_tokenizer *tok, const json_t *text, const json_t *want,
                     unsigned flags, size_t line)
{
  int32_t ids[4096];
  size_t n = 0, i;
  json_t *v;
  int rc = prism_tokenizer_encode(ids, 4096, &n, tok, json_string_value(text),
                                  json_string_length(text), flags);
  if (rc != PRISM_OK) {
    print_error("line %zu: encode failed: %s\n", line, prism_last_error());
    return 0;
  }
  if (n != json_array_size(want))
    goto differ;
  json_array_foreach(want, i, v) if (json_integer_value(v) != ids[i]) goto differ;
  return 1;
differ:
  print_error("line %zu: ids differ for %s (flags %u): got %zu ids, want %zu\n", line,
              json_string_value(text), flags, n, json_array_size(want));
  return 0;
}

static int text_matches(const prism_tokenizer *tok, const json_t *ids_json, const json_t *want,
                        unsigned flags, size_t line)
{
  int32_t ids[4096];
  char text[16384];
  size_t n = 0, len = 0, i;
  json_t *v;

  json_array_foreach(ids_json, i, v) ids[n++] = (int32_t)json_integer_value(v);
  if (prism_tokenizer_decode(text, sizeof text, &len, tok, ids, n, flags) != PRISM_OK) {
    print_error("line %zu: decode failed: %s\n", line, prism_last_error());
    return 0;
  }
  if (len == json_string_length(want) && memcmp(text, json_string_value(want), len) == 0)
    return 1;
  print_error("line %zu: decoded \"%s\", want \"%s\"\n", line, text, json_string_value(want));
  return 0;
}

static void check_case(const prism_tokenizer *tok, const json_t *c, size_t line, counts *k)
{
  const json_t *text = json_object_get(c, "text"), *ids = json_object_get(c, "ids");
  assert_true(json_is_string(text) && json_is_array(ids));
  k->cases++;
  k->ids += ids_match(tok, text, ids, 0, line);
  k->ids_no_special +=
      ids_match(tok, text, json_object_get(c, "ids_no_special"), PRISM_TOKENIZER_NO_SPECIAL, line);
  k->decoded += text_matches(tok, ids, json_object_get(c, "decoded"), 0, line);
  k->decoded_skip_special += text_matches(tok, ids, json_object_get(c, "decoded_skip_special"),
                                          PRISM_TOKENIZER_SKIP_SPECIAL, line);
}

static void test_all_cases(void **state)
{
  char path[1024], buf[65536];
  prism_tokenizer *tok = load_bart();
  FILE *f = fopen(fixture_path(path, sizeof path, "tokenizer_cases.jsonl"), "rb");
  counts k = { 0 };
  size_t line = 0;
  (void)state;

  assert_non_null(f);
  while (fgets(buf, sizeof buf, f)) {
    json_error_t err;
    json_t *c = json_loads(buf, JSON_ALLOW_NUL, &err);
    line++;
    if (!c)
      fail_msg("tokenizer_cases.jsonl line %zu: %s", line, err.text);
    check_case(tok, c, line, &k);
    json_decref(c);
  }
  fclose(f);
  prism_tokenizer_free(tok);
  printf("tokenizer fixtures: %zu cases; ids %zu/%zu, ids_no_special %zu/%zu, decoded %zu/%zu, "
         "decoded_skip_special %zu/%zu\n",
         k.cases, k.ids, k.cases, k.ids_no_special, k.cases, k.decoded, k.cases,
         k.decoded_skip_special, k.cases);
  assert_true(k.cases >= 384);
  assert_int_equal(k.ids, k.cases);
  assert_int_equal(k.ids_no_special, k.cases);
  assert_int_equal(k.decoded, k.cases);
  assert_int_equal(k.decoded_skip_special, k.cases);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_all_cases),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
