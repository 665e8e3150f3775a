/*
 * tokenizer.json: a ByteLevel BPE tokenizer.json built from the BART vocab.json
 * and merges.txt must give the same ids as the two files on every fixture text.
 */
#include <jansson.h>
#include <unistd.h>

#include "testutil.h"

static char tmpdir[] = "/tmp/prism-tokjson-XXXXXX";

/* {"model": {"type": "BPE", "vocab": ..., "merges": [...]}, "pre_tokenizer": ByteLevel, ...} */
static json_t *build_tokenizer_json(int merges_as_pairs, int mask_rstrip)
{
  char path[1024], line[1024];
  json_error_t err;
  json_t *vocab = json_load_file(fixture_path(path, sizeof path, "bart-vocab/vocab.json"), 0, &err);
  json_t *merges = json_array(), *added = json_array();
  FILE *f = fopen(fixture_path(path, sizeof path, "bart-vocab/merges.txt"), "rb");
  static const char *names[] = { "<s>", "<pad>", "</s>", "<unk>", "<mask>" };

  assert_non_null(vocab);
  assert_non_null(f);
  while (fgets(line, sizeof line, f)) {
    char *sp = strchr(line, ' ');
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] == '#' || !sp)
      continue;
    if (merges_as_pairs) {
      *sp = '\0';
      json_array_append_new(merges, json_pack("[ss]", line, sp + 1));
    } else {
      json_array_append_new(merges, json_string(line));
    }
  }
  fclose(f);
  for (int i = 0; i < 5; i++)
    json_array_append_new(added,
                          json_pack("{s:I, s:s, s:b, s:b, s:b, s:b, s:b}", "id",
                                    json_integer_value(json_object_get(vocab, names[i])), "content",
                                    names[i], "single_word", 0, "lstrip", i == 4, "rstrip",
                                    i == 4 && mask_rstrip, "normalized", 0, "special", 1));
  return json_pack("{s:s, s:o, s:n, s:{s:s, s:b, s:b, s:b}, s:{s:s, s:b, s:b, s:b}, "
                   "s:{s:s, s:n, s:o, s:o}}",
                   "version", "1.0", "added_tokens", added, "normalizer", "pre_tokenizer", "type",
                   "ByteLevel", "add_prefix_space", 0, "trim_offsets", 1, "use_regex", 1, "decoder",
                   "type", "ByteLevel", "add_prefix_space", 1, "trim_offsets", 1, "use_regex", 1,
                   "model", "type", "BPE", "dropout", "vocab", vocab, "merges", merges);
}

static prism_tokenizer *load_json(json_t *root)
{
  char *text = json_dumps(root, JSON_COMPACT);
  prism_tokenizer *tok = NULL;
  assert_non_null(text);
  assert_ok(prism_tokenizer_load_json_memory(&tok, text, strlen(text), NULL));
  free(text);
  return tok;
}

/* Encode every fixture text with both tokenizers; count the texts with equal ids. */
static size_t compare_on_fixtures(const prism_tokenizer *a, const prism_tokenizer *b, size_t *cases)
{
  char path[1024], buf[65536];
  FILE *f = fopen(fixture_path(path, sizeof path, "tokenizer_cases.jsonl"), "rb");
  size_t same = 0;
  assert_non_null(f);
  *cases = 0;
  while (fgets(buf, sizeof buf, f)) {
    json_t *c = json_loads(buf, JSON_ALLOW_NUL, NULL), *text = json_object_get(c, "text");
    int32_t ia[4096], ib[4096];
    size_t na = 0, nb = 0;
    assert_ok(prism_tokenizer_encode(ia, 4096, &na, a, json_string_value(text),
                                     json_string_length(text), 0));
    assert_ok(prism_tokenizer_encode(ib, 4096, &nb, b, json_string_value(text),
                                     json_string_length(text), 0));
    same += na == nb && memcmp(ia, ib, na * sizeof *ia) == 0;
    (*cases)++;
    json_decref(c);
  }
  fclose(f);
  return same;
}

static void test_json_matches_files(void **state)
{
  char dir[1024], path[1024];
  prism_tokenizer *files = NULL, *from_dir = NULL, *pairs;
  json_t *root = build_tokenizer_json(0, 0);
  size_t cases, same;
  (void)state;

  assert_ok(prism_tokenizer_load(&files, fixture_path(dir, sizeof dir, "bart-vocab"), NULL));
  snprintf(path, sizeof path, "%s/tokenizer.json", tmpdir);
  assert_int_equal(json_dump_file(root, path, JSON_COMPACT), 0);
  assert_ok(prism_tokenizer_load(&from_dir, tmpdir, NULL)); /* no vocab.json there */
  same = compare_on_fixtures(files, from_dir, &cases);
  printf("tokenizer.json (merges as strings): %zu/%zu fixture texts identical\n", same, cases);
  assert_int_equal(same, cases);
  assert_int_equal(prism_tokenizer_vocab_size(from_dir), 50265);
  assert_int_equal(prism_tokenizer_special_id(from_dir, PRISM_TOKENIZER_MASK), 50264);
  json_decref(root);

  pairs = load_json(root = build_tokenizer_json(1, 0));
  same = compare_on_fixtures(files, pairs, &cases);
  printf("tokenizer.json (merges as pairs): %zu/%zu fixture texts identical\n", same, cases);
  assert_int_equal(same, cases);
  json_decref(root);
  prism_tokenizer_free(pairs);
  prism_tokenizer_free(from_dir);
  prism_tokenizer_free(files);
  unlink(path);
}

static void test_json_rstrip_and_prefix(void **state)
{
  json_t *root = build_tokenizer_json(0, 1);
  prism_tokenizer *tok = load_json(root);
  int32_t a[64], b[64];
  size_t na = 0, nb = 0;
  (void)state;
  assert_ok(prism_tokenizer_encode(a, 64, &na, tok, "a <mask>  b", 11, 0));
  assert_ok(prism_tokenizer_encode(b, 64, &nb, tok, "a<mask>b", 8, 0));
  assert_int_equal(na, nb);
  assert_memory_equal(a, b, na * sizeof *a);
  prism_tokenizer_free(tok);

  json_object_set_new(json_object_get(root, "pre_tokenizer"), "add_prefix_space", json_true());
  tok = load_json(root);
  assert_ok(prism_tokenizer_encode(a, 64, &na, tok, "Hello world", 11, 0));
  assert_int_equal(na, 4);
  assert_int_equal(a[1], 20920);
  prism_tokenizer_free(tok);
  json_decref(root);
}

/* Ids of `text` with PRISM_TOKENIZER_NO_SPECIAL appended at ids + n; returns the new count. */
static size_t append_ids(const prism_tokenizer *tok, const char *text, int32_t *ids, size_t n)
{
  size_t k = 0;
  assert_ok(prism_tokenizer_encode(ids + n, 256 - n, &k, tok, text, strlen(text),
                                   PRISM_TOKENIZER_NO_SPECIAL));
  return n + k;
}

/*
 * What an lstrip token (<mask>) absorbs: U+001C..U+001F are whitespace to Python's
 * str.isspace() (the slow tokenizer, vocab.json + merges.txt) but not to Rust's
 * char::is_whitespace (tokenizers, which reads tokenizer.json).
 */
static void test_json_strip_follows_rust(void **state)
{
  char dir[1024];
  prism_tokenizer *files = NULL, *json;
  json_t *root = build_tokenizer_json(0, 0);
  (void)state;
  json = load_json(root);
  assert_ok(prism_tokenizer_load(&files, fixture_path(dir, sizeof dir, "bart-vocab"), NULL));
  for (char c = 0x1c; c <= 0x1f; c++) {
    char text[32], left[8];
    int32_t got[256], want[256];
    size_t n_got = 0, n_want;
    snprintf(text, sizeof text, "a%c <mask>b", c);
    snprintf(left, sizeof left, "a%c", c);
    /* tokenizer.json: the space goes, the control character stays */
    n_want = append_ids(json, left, want, 0);
    want[n_want++] = 50264;
    n_want = append_ids(json, "b", want, n_want);
    n_got = append_ids(json, text, got, 0);
    assert_int_equal(n_got, n_want);
    assert_memory_equal(got, want, n_got * sizeof *got);
    /* vocab.json: both go, as str.rstrip() takes them */
    n_want = append_ids(files, "a", want, 0);
    want[n_want++] = 50264;
    n_want = append_ids(files, "b", want, n_want);
    n_got = append_ids(files, text, got, 0);
    assert_int_equal(n_got, n_want);
    assert_memory_equal(got, want, n_got * sizeof *got);
  }
  prism_tokenizer_free(files);
  prism_tokenizer_free(json);
  json_decref(root);
}

/* A tokenizer.json's specials are its added tokens marked special, and only those: BART's
 * <|endoftext|> is ordinary there too; an added special <|endoftext|> is skipped. */
static void test_json_specials_from_added_tokens(void **state)
{
  json_t *root = build_tokenizer_json(0, 0);
  prism_tokenizer *tok = load_json(root);
  int32_t eot = 50260;
  char text[64];
  size_t len = 0;
  (void)state;
  assert_ok(
      prism_tokenizer_decode(text, sizeof text, &len, tok, &eot, 1, PRISM_TOKENIZER_SKIP_SPECIAL));
  assert_string_equal(text, "<|endoftext|>");
  prism_tokenizer_free(tok);
  json_array_append_new(json_object_get(root, "added_tokens"),
                        json_pack("{s:i, s:s, s:b, s:b, s:b, s:b, s:b}", "id", 50260, "content",
                                  "<|endoftext|>", "single_word", 0, "lstrip", 0, "rstrip", 0,
                                  "normalized", 0, "special", 1));
  tok = load_json(root);
  assert_ok(
      prism_tokenizer_decode(text, sizeof text, &len, tok, &eot, 1, PRISM_TOKENIZER_SKIP_SPECIAL));
  assert_int_equal(len, 0);
  prism_tokenizer_free(tok);
  json_decref(root);
}

/* Load a modified copy of a small valid tokenizer.json and expect `status` naming `needle`. */
static void expect_json_error(const char *text, int status, const char *needle)
{
  prism_tokenizer *tok = NULL;
  assert_status(prism_tokenizer_load_json_memory(&tok, text, strlen(text), NULL), status);
  assert_null(tok);
  assert_error_mentions(needle);
}

static void test_json_bad(void **state)
{
  char path[1024];
  prism_tokenizer *tok = NULL;
  (void)state;
  expect_json_error("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}", PRISM_ERR_UNSUPPORTED,
                    "WordPiece");
  expect_json_error("{\"version\": \"1.0\"}", PRISM_ERR_FORMAT, "model");
  expect_json_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, "
                    "\"pre_tokenizer\": {\"type\": \"Whitespace\"}}",
                    PRISM_ERR_UNSUPPORTED, "Whitespace");
  expect_json_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a\"]}, "
                    "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
                    PRISM_ERR_FORMAT, "model.merges[0]");
  expect_json_error(
      "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}, "
      "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
      PRISM_ERR_FORMAT, "\"b\" is not in the vocabulary");
  expect_json_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, "
                    "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, "
                    "\"added_tokens\": [{\"id\": \"x\", \"content\": \"<s>\"}]}",
                    PRISM_ERR_FORMAT, "added_tokens[0]");
  expect_json_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, "
                    "\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, "
                    "\"added_tokens\": [{\"id\": 0, \"content\": \"<s>\"}]}",
                    PRISM_ERR_FORMAT, "id 0 belongs to another token");
  expect_json_error(
      "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}, "
      "\"normalizer\": {\"type\": \"NFC\"}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",
      PRISM_ERR_UNSUPPORTED, "normalizer");
  expect_json_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [",
                    PRISM_ERR_FORMAT, "line 1");
  assert_status(prism_tokenizer_load_json(&tok, "/nonexistent/tokenizer.json", NULL),
                PRISM_ERR_NOT_FOUND);
  assert_error_mentions("/nonexistent/tokenizer.json");
  assert_status(prism_tokenizer_load(&tok, "/nonexistent", NULL), PRISM_ERR_NOT_FOUND);
  assert_error_mentions("/nonexistent");
  snprintf(path, sizeof path, "%s", tmpdir);
  assert_status(prism_tokenizer_load(&tok, path, NULL), PRISM_ERR_NOT_FOUND);
  assert_null(tok);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_json_matches_files),
    cmocka_unit_test(test_json_rstrip_and_prefix),
    cmocka_unit_test(test_json_strip_follows_rust),
    cmocka_unit_test(test_json_specials_from_added_tokens),
    cmocka_unit_test(test_json_bad),
  };
  int rc;
  if (!mkdtemp(tmpdir))
    return 1;
  rc = cmocka_run_group_tests(tests, NULL, NULL);
  rmdir(tmpdir);
  return rc;
}
