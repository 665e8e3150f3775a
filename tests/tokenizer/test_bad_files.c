/*
 * Broken vocab.json / merges.txt files: each gives a specific status and a
 * message naming the file and the line or byte at fault; nothing is returned.
 */
#include <unistd.h>

#include "testutil.h"

static char tmpdir[] = "/tmp/prism-tokbad-XXXXXX";
static char vocab_path[256], merges_path[256];

static const char good_vocab[] =
    "{\n\"a\": 0,\n\"b\": 1,\n\"ab\": 2,\n\"<s>\": 3,\n\"</s>\": 4\n}\n";
static const char good_merges[] = "#version: 0.2\na b\n";

static void write_file(const char *path, const char *data, size_t len)
{
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  fclose(f);
}

/* Write both files, load them, expect `status` and every needle in the message. */
static void expect(const char *vocab, size_t vocab_len, const char *merges, int status,
                   const char *needle1, const char *needle2)
{
  prism_tokenizer *tok = NULL;
  write_file(vocab_path, vocab, vocab_len);
  write_file(merges_path, merges, strlen(merges));
  assert_status(prism_tokenizer_load_files(&tok, vocab_path, merges_path, NULL), status);
  assert_null(tok);
  assert_error_mentions(needle1);
  if (needle2)
    assert_error_mentions(needle2);
}

static void expect_vocab(const char *vocab, int status, const char *needle1, const char *needle2)
{
  expect(vocab, strlen(vocab), good_merges, status, needle1, needle2);
  assert_error_mentions("vocab.json");
}

static void expect_merges(const char *merges, const char *needle1, const char *needle2)
{
  expect(good_vocab, strlen(good_vocab), merges, PRISM_ERR_FORMAT, needle1, needle2);
  assert_error_mentions("merges.txt");
}

static void test_good_files_load(void **state)
{
  prism_tokenizer *tok = NULL;
  int32_t ids[8];
  size_t n = 0;
  (void)state;
  write_file(vocab_path, good_vocab, strlen(good_vocab));
  write_file(merges_path, good_merges, strlen(good_merges));
  assert_ok(prism_tokenizer_load_files(&tok, vocab_path, merges_path, NULL));
  assert_ok(prism_tokenizer_encode(ids, 8, &n, tok, "abab<s>", 7, 0));
  assert_int_equal(n, 5);
  assert_int_equal(ids[0], 3);
  assert_int_equal(ids[1], 2);
  assert_int_equal(ids[2], 2);
  assert_int_equal(ids[3], 3);
  assert_int_equal(ids[4], 4);
  /* "c" has no byte token and there is no <unk>. */
  assert_status(prism_tokenizer_encode(ids, 8, &n, tok, "c", 1, 0), PRISM_ERR_NOT_FOUND);
  assert_error_mentions("0x63");
  prism_tokenizer_free(tok);
}

static void test_vocab_not_an_object(void **state)
{
  (void)state;
  expect_vocab("[\"a\", \"b\"]", PRISM_ERR_FORMAT, "must be a JSON object", NULL);
  expect_vocab("{}", PRISM_ERR_FORMAT, "empty", NULL);
  expect_vocab("", PRISM_ERR_FORMAT, "invalid JSON", NULL);
}

static void test_vocab_bad_ids(void **state)
{
  (void)state;
  expect_vocab("{\n\"a\": 0,\n\"b\": 1.5\n}", PRISM_ERR_FORMAT, "line 3",
               "\"b\": id must be an integer");
  expect_vocab("{\"a\": \"0\"}", PRISM_ERR_FORMAT, "line 1", "id must be an integer");
  expect_vocab("{\"a\": -1}", PRISM_ERR_FORMAT, "\"a\"", "outside");
  expect_vocab("{\"a\": 99999999999}", PRISM_ERR_FORMAT, "\"a\"", "outside");
  expect_vocab("{\n\"a\": 0,\n\"b\": 0\n}", PRISM_ERR_FORMAT, "already used", "line 3");
  expect_vocab("{\n\"a\": 0,\n\"a\": 1\n}", PRISM_ERR_FORMAT, "line 3", "duplicate");
  expect_vocab("{\"\": 0}", PRISM_ERR_FORMAT, "empty token", NULL);
  expect_vocab("{\"a\": 0, \"b\": 16000000}", PRISM_ERR_FORMAT, "too sparse", "16000000");
}

static void test_vocab_truncated_and_invalid_utf8(void **state)
{
  (void)state;
  expect(good_vocab, strlen(good_vocab) - 8, good_merges, PRISM_ERR_FORMAT, "vocab.json",
         "invalid JSON at line");
  expect_vocab("{\n\"a\": 0,\n\"b\xff\": 1\n}", PRISM_ERR_FORMAT, "invalid UTF-8 at byte 12",
               "line 3");
  expect_vocab("{\"\xc3\": 0}", PRISM_ERR_FORMAT, "invalid UTF-8 at byte 2", NULL);
}

static void test_merges_bad_lines(void **state)
{
  (void)state;
  expect_merges("#version: 0.2\na b\nab\n", "line 3", "two symbols");
  expect_merges("#version: 0.2\na b c\n", "line 2", "two symbols");
  expect_merges("a b\n a\n", "line 2", "two symbols");
  expect_merges("#version: 0.2\na x\n", "line 2", "\"x\" is not in the vocabulary");
  expect_merges("#version: 0.2\nb a\n", "line 2", "\"b\" and \"a\" is not in the vocabulary");
  expect_merges("#version: 0.2\na \xe2\x82\n", "line 2", "invalid UTF-8");
  /* Truncated in the middle of a line: the last line is a lone symbol. */
  expect_merges("#version: 0.2\na b\na", "line 3", "two symbols");
}

static void test_missing_files(void **state)
{
  prism_tokenizer *tok = NULL;
  (void)state;
  write_file(vocab_path, good_vocab, strlen(good_vocab));
  assert_status(prism_tokenizer_load_files(&tok, vocab_path, "/nonexistent/merges.txt", NULL),
                PRISM_ERR_NOT_FOUND);
  assert_error_mentions("/nonexistent/merges.txt");
  assert_status(prism_tokenizer_load_files(&tok, tmpdir, vocab_path, NULL), PRISM_ERR_IO);
  assert_error_mentions(tmpdir);
  assert_null(tok);
}

static void test_memory_load(void **state)
{
  prism_tokenizer *tok = NULL;
  (void)state;
  assert_ok(prism_tokenizer_load_memory(&tok, good_vocab, strlen(good_vocab), good_merges,
                                        strlen(good_merges), NULL));
  assert_int_equal(prism_tokenizer_vocab_size(tok), 5);
  assert_int_equal(prism_tokenizer_special_id(tok, PRISM_TOKENIZER_BOS), 3);
  assert_int_equal(prism_tokenizer_special_id(tok, PRISM_TOKENIZER_UNK), -1);
  prism_tokenizer_free(tok);
  tok = NULL;
  assert_status(prism_tokenizer_load_memory(&tok, good_vocab, strlen(good_vocab), "a q\n", 4, NULL),
                PRISM_ERR_FORMAT);
  assert_error_mentions("merges.txt (memory): line 1");
  assert_null(tok);
}

/* Flip, drop or duplicate a few random bytes of `src` into `dst`; returns the new length. */
static size_t mutate(unsigned *seed, const char *src, size_t len, char *dst)
{
  size_t n = len;
  memcpy(dst, src, len);
  for (int k = rand_r(seed) % 2; k >= 0 && n > 0; k--) {
    size_t at = (size_t)rand_r(seed) % n;
    switch (rand_r(seed) % 8) {
    case 0:
    case 1:
    case 2:
      dst[at] = (char)rand_r(seed);
      break;
    case 3:
    case 4:
      memmove(dst + at, dst + at + 1, n - at - 1), n--;
      break;
    case 5:
    case 6:
      memmove(dst + at + 1, dst + at, n - at), n++;
      break;
    default:
      n = at;
      break;
    }
  }
  return n;
}

/* Whatever the bytes, loading returns a status and a message, and a loaded tokenizer works. */
static void test_mutated_files_never_crash(void **state)
{
  static const char json[] =
      "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2, \"<mask>\": 3}, "
      "\"merges\": [\"a b\"]}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}, "
      "\"added_tokens\": [{\"id\": 3, \"content\": \"<mask>\", \"lstrip\": true, \"special\": "
      "true}]}";
  char vocab[256], merges[64], jbuf[512], text[64], back[512];
  unsigned seed = 7;
  size_t loaded = 0;
  (void)state;
  for (int iter = 0; iter < 3000; iter++) {
    prism_tokenizer *tok = NULL;
    size_t vlen = mutate(&seed, good_vocab, strlen(good_vocab), vocab);
    size_t mlen = mutate(&seed, good_merges, strlen(good_merges), merges);
    size_t jlen = mutate(&seed, json, strlen(json), jbuf);
    int rc = iter % 2 ? prism_tokenizer_load_memory(&tok, vocab, vlen, merges, mlen, NULL)
                      : prism_tokenizer_load_json_memory(&tok, jbuf, jlen, NULL);
    if (rc != PRISM_OK) {
      assert_true(rc < 0);
      assert_null(tok);
      assert_true(prism_last_error()[0] != '\0');
      continue;
    }
    loaded++;
    for (size_t i = 0; i < sizeof text; i++)
      text[i] = "ab <mask>\xc3\xa9\xff"[rand_r(&seed) % 13];
    int32_t ids[64];
    size_t n = 0, len = 0;
    rc = prism_tokenizer_encode(ids, 64, &n, tok, text, sizeof text,
                                PRISM_TOKENIZER_REPLACE_INVALID);
    assert_true(rc == PRISM_OK || rc == PRISM_ERR_NOT_FOUND);
    if (rc == PRISM_OK)
      assert_ok(prism_tokenizer_decode(back, sizeof back, &len, tok, ids, n, 0));
    prism_tokenizer_free(tok);
  }
  printf("mutated tokenizer files: %zu of 3000 still loaded\n", loaded);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_good_files_load),
    cmocka_unit_test(test_vocab_not_an_object),
    cmocka_unit_test(test_vocab_bad_ids),
    cmocka_unit_test(test_vocab_truncated_and_invalid_utf8),
    cmocka_unit_test(test_merges_bad_lines),
    cmocka_unit_test(test_missing_files),
    cmocka_unit_test(test_memory_load),
    cmocka_unit_test(test_mutated_files_never_crash),
  };
  int rc;
  if (!mkdtemp(tmpdir))
    return 1;
  snprintf(vocab_path, sizeof vocab_path, "%s/vocab.json", tmpdir);
  snprintf(merges_path, sizeof merges_path, "%s/merges.txt", tmpdir);
  rc = cmocka_run_group_tests(tests, NULL, NULL);
  unlink(vocab_path);
  unlink(merges_path);
  rmdir(tmpdir);
  return rc;
}
