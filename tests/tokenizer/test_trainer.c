/*
 * The BPE trainer: hand-worked merge orders (ties and stale counts included,
 * following HF BpeTrainer's rules), the vocabulary layout, round trips through
 * the loader, thread-count independence, bad input and cancellation.
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../testutil.h"
#include "common/alloc.h"

static const char *const no_specials[] = { NULL };

typedef struct files {
  char dir[64];
  char *vocab, *merges;
} files;

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = calloc((size_t)n + 1, 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  return buf;
}

static void spill(const char *path, const char *text)
{
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
  fclose(f);
}

static void make_dir(files *out)
{
  snprintf(out->dir, sizeof out->dir, "/tmp/prism_bpe_XXXXXX");
  assert_non_null(mkdtemp(out->dir));
  out->vocab = out->merges = NULL;
}

static void read_files(files *out)
{
  char path[128];
  snprintf(path, sizeof path, "%s/vocab.json", out->dir);
  out->vocab = slurp(path);
  snprintf(path, sizeof path, "%s/merges.txt", out->dir);
  out->merges = slurp(path);
  assert_non_null(out->vocab);
  assert_non_null(out->merges);
}

static void remove_dir(files *f)
{
  char path[128];
  const char *names[] = { "vocab.json", "merges.txt", "in.txt", "in.jsonl" };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", f->dir, names[i]);
    unlink(path);
  }
  rmdir(f->dir);
  free(f->vocab);
  free(f->merges);
}

/* Params without special tokens and with only the corpus's byte symbols, like HF's own tests. */
static prism_tokenizer_trainer_params bare_params(int32_t vocab_size, int32_t min_frequency)
{
  prism_tokenizer_trainer_params p;
  assert_ok(prism_tokenizer_trainer_params_init(&p, sizeof p));
  p.vocab_size = vocab_size;
  p.min_frequency = min_frequency;
  p.special_tokens = no_specials;
  p.n_special_tokens = 0;
  p.corpus_alphabet = 1;
  return p;
}

/* Train on NUL-terminated texts into a new folder and read the files back. */
static void train_texts(files *out, const prism_tokenizer_trainer_params *p,
                        const char *const *texts, size_t n)
{
  prism_tokenizer_trainer *t;
  size_t lens[64];
  assert_true(n <= 64);
  for (size_t i = 0; i < n; i++)
    lens[i] = strlen(texts[i]);
  make_dir(out);
  assert_ok(prism_tokenizer_trainer_create(&t, p));
  assert_ok(prism_tokenizer_trainer_feed(t, texts, lens, n));
  assert_ok(prism_tokenizer_trainer_train(NULL, t, out->dir, NULL, NULL));
  prism_tokenizer_trainer_free(t);
  read_files(out);
}

/*
 * HF's own trainer test (trainer.rs test_train) with min_frequency 2, words fed
 * one per text so that no "Ġ" is added. Counts >= 2: (r,e) 3 (are x2, red),
 * (a,r) 2, (i,s) 2. Merge "r e" -> "re" (22): in "are" (a,r) loses 2 and
 * (a,re) gains 2. Then (a,re) = (8,22) and (i,s) = (13,18) tie at 2; the
 * smaller pair of ids wins: "a re" -> "are", then "i s" -> "is". Everything
 * left occurs once, below min_frequency.
 */
static void test_hf_example(void **state)
{
  const char *texts[] = { "roses", "are", "are", "red", "voilets", "blue", "BERT", "is",
                          "is",    "big", "and", "so",  "GPT",     "-",    "2" };
  prism_tokenizer_trainer_params p = bare_params(30000, 2);
  files f;
  (void)state;
  train_texts(&f, &p, texts, sizeof texts / sizeof texts[0]);
  assert_string_equal(f.vocab, "{\"-\":0,\"2\":1,\"B\":2,\"E\":3,\"G\":4,\"P\":5,\"R\":6,\"T\":7,"
                               "\"a\":8,\"b\":9,\"d\":10,\"e\":11,\"g\":12,\"i\":13,\"l\":14,"
                               "\"n\":15,\"o\":16,\"r\":17,\"s\":18,\"t\":19,\"u\":20,\"v\":21,"
                               "\"re\":22,\"are\":23,\"is\":24}");
  assert_string_equal(f.merges, "#version: 0.2\nr e\na re\ni s\n");
  remove_dir(&f);
}

/*
 * Ties go to the smaller pair of ids, not the smaller strings. Alphabet a=0
 * b=1 c=2 d=3; "abc" x2 and "cd" x2 give (a,b) (b,c) (c,d) all at 2: (0,1)
 * wins, "ab" = 4. In "abc", (b,c) loses 2 and (ab,c) = (4,2) gains 2. Now
 * (4,2) and (2,3) tie: (2,3) = "c d" is merged before "ab c", although
 * "ab c" sorts first as text.
 */
static void test_ties_by_ids(void **state)
{
  const char *texts[] = { "abc", "abc", "cd", "cd" };
  prism_tokenizer_trainer_params p = bare_params(30000, 2);
  files f;
  (void)state;
  train_texts(&f, &p, texts, 4);
  assert_string_equal(f.vocab, "{\"a\":0,\"b\":1,\"c\":2,\"d\":3,\"ab\":4,\"cd\":5,\"abc\":6}");
  assert_string_equal(f.merges, "#version: 0.2\na b\nc d\nab c\n");
  remove_dir(&f);
}

/*
 * A queued count that went stale is re-queued, not merged. Alphabet a=0 b=1
 * x=2 y=3; "xab" x3, "ab" x1, "yy" x2: (a,b) 4, (x,a) 3, (y,y) 2. Merge "a b"
 * (ab = 4): in "xab" (x,a) falls to 0 and (x,ab) = (2,4) gains 3. The queue
 * still holds (x,a) at 3, which ties (x,ab) and comes first as (2,0) < (2,4);
 * its count is now 0, so it goes back in and "x ab" is merged, then "y y".
 */
static void test_stale_counts(void **state)
{
  const char *texts[] = { "xab", "xab", "xab", "ab", "yy", "yy" };
  prism_tokenizer_trainer_params p = bare_params(30000, 0);
  files f;
  (void)state;
  train_texts(&f, &p, texts, 6);
  assert_string_equal(f.merges, "#version: 0.2\na b\nx ab\ny y\n");
  assert_string_equal(f.vocab, "{\"a\":0,\"b\":1,\"x\":2,\"y\":3,\"ab\":4,\"xab\":5,\"yy\":6}");
  remove_dir(&f);
}

/*
 * Overlaps merge left to right: "aaaa" has (a,a) three times. Merging it
 * gives [aa, aa] ((aa,a) gains 1 then loses 1; (aa,aa) gains 1), then
 * "aa aa". min_frequency 0 merges pairs seen once.
 */
static void test_overlap(void **state)
{
  const char *texts[] = { "aaaa" };
  prism_tokenizer_trainer_params p = bare_params(30000, 0);
  files f;
  (void)state;
  train_texts(&f, &p, texts, 1);
  assert_string_equal(f.vocab, "{\"a\":0,\"aa\":1,\"aaaa\":2}");
  assert_string_equal(f.merges, "#version: 0.2\na a\naa aa\n");
  remove_dir(&f);
}

/*
 * The defaults: the BART specials at 0-4, then the 256 byte symbols by code
 * point: '!' (U+0021) is 5, ..., the 188 printable bytes, then U+0100 (byte 0)
 * is 193, "Ġ" (U+0120, the space) is 225 and U+0143 (byte 0xAD) is 260.
 * "hello hello" gives "hello" and "Ġhello"; at count 2, with e=73 h=76 l=80
 * o=83, (e,l) = (73,80) is the smallest pair, then (h,el) = (76,261) beats
 * (el,l) and (l,o). vocab_size 263 stops there.
 */
static void test_bart_layout(void **state)
{
  const char *texts[] = { "hello hello" };
  prism_tokenizer_trainer_params p;
  prism_tokenizer *tok;
  int32_t id;
  files f;
  (void)state;
  assert_ok(prism_tokenizer_trainer_params_init(&p, sizeof p));
  assert_int_equal(p.vocab_size, 30000);
  assert_int_equal(p.min_frequency, 2);
  assert_int_equal(p.limit_alphabet, PRISM_UNSET);
  p.vocab_size = 263;
  train_texts(&f, &p, texts, 1);
  assert_memory_equal(f.vocab,
                      "{\"<s>\":0,\"<pad>\":1,\"</s>\":2,\"<unk>\":3,\"<mask>\":4,\"!\":5,", 55);
  assert_non_null(strstr(f.vocab, ",\"\xc4\x80\":193,"));
  assert_non_null(strstr(f.vocab, ",\"\xc4\xa0\":225,"));
  assert_non_null(strstr(f.vocab, ",\"\xc5\x83\":260,\"el\":261,\"hel\":262}"));
  assert_string_equal(f.merges, "#version: 0.2\ne l\nh el\n");

  assert_ok(prism_tokenizer_load(&tok, f.dir, NULL));
  assert_int_equal(prism_tokenizer_vocab_size(tok), 263);
  assert_int_equal(prism_tokenizer_special_id(tok, PRISM_TOKENIZER_BOS), 0);
  assert_int_equal(prism_tokenizer_special_id(tok, PRISM_TOKENIZER_PAD), 1);
  assert_int_equal(prism_tokenizer_special_id(tok, PRISM_TOKENIZER_EOS), 2);
  assert_int_equal(prism_tokenizer_special_id(tok, PRISM_TOKENIZER_UNK), 3);
  assert_int_equal(prism_tokenizer_special_id(tok, PRISM_TOKENIZER_MASK), 4);
  assert_ok(prism_tokenizer_token_to_id(&id, tok, "hel", 3));
  assert_int_equal(id, 262);
  prism_tokenizer_free(tok);
  remove_dir(&f);
}

/* vocab_size counts specials + alphabet + merges: 261 is exactly no merge, 260 an error. */
static void test_vocab_size_bounds(void **state)
{
  const char *texts[] = { "hello hello" };
  prism_tokenizer_trainer_params p;
  prism_tokenizer_trainer *t;
  size_t len = strlen(texts[0]);
  files f;
  (void)state;
  assert_ok(prism_tokenizer_trainer_params_init(&p, sizeof p));
  p.vocab_size = 261;
  train_texts(&f, &p, texts, 1);
  assert_string_equal(f.merges, "#version: 0.2\n");
  remove_dir(&f);

  p.vocab_size = 260;
  make_dir(&f);
  assert_ok(prism_tokenizer_trainer_create(&t, &p));
  assert_ok(prism_tokenizer_trainer_feed(t, texts, &len, 1));
  assert_status(prism_tokenizer_trainer_train(NULL, t, f.dir, NULL, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("vocab_size 260 is smaller than the 5 special tokens plus the 256");
  prism_tokenizer_trainer_free(t);
  f.vocab = f.merges = NULL;
  remove_dir(&f);
}

/*
 * limit_alphabet drops the rarest symbols (equal counts: the larger code point
 * first) and their bytes vanish from the words: "aaab" and "c" count a 3, b 1,
 * c 1; a limit of 2 keeps a=0 and b=1, and "c" becomes an empty word. In
 * [a,a,a,b], (a,a) 2 is merged first (aa=2): [aa,a,b], (aa,a) gains 1. Then
 * (a,b) = (0,1) ties (aa,a) = (2,0) at 1 and wins: [aa,ab], (aa,a) drops to 0
 * and (aa,ab) gains 1; the stale (aa,a) goes back at 0 and "aa ab" follows.
 */
static void test_limit_alphabet(void **state)
{
  const char *texts[] = { "aaab", "c" };
  prism_tokenizer_trainer_params p = bare_params(30000, 0);
  files f;
  (void)state;
  p.limit_alphabet = 2;
  train_texts(&f, &p, texts, 2);
  assert_string_equal(f.vocab, "{\"a\":0,\"b\":1,\"aa\":2,\"ab\":3,\"aaab\":4}");
  assert_string_equal(f.merges, "#version: 0.2\na a\na b\naa ab\n");
  remove_dir(&f);
}

/*
 * A merge whose string is already a token reuses its id (HF looks the string
 * up): with the special "ab", merging (a,b) adds no entry; merges.txt still
 * has the line and the loader accepts it.
 */
static void test_merge_reuses_token(void **state)
{
  const char *specials[] = { "ab" };
  const char *texts[] = { "ab", "ab" };
  prism_tokenizer_trainer_params p = bare_params(30000, 0);
  prism_tokenizer *tok;
  files f;
  (void)state;
  p.special_tokens = specials;
  p.n_special_tokens = 1;
  train_texts(&f, &p, texts, 2);
  assert_string_equal(f.vocab, "{\"ab\":0,\"a\":1,\"b\":2}");
  assert_string_equal(f.merges, "#version: 0.2\na b\n");
  assert_ok(prism_tokenizer_load(&tok, f.dir, NULL));
  prism_tokenizer_free(tok);
  remove_dir(&f);
}

/* ---- seeded multilingual text ---- */

static const char *const syllables[] = {
  "th",  "e",    "an",   "ing", "tion", "é", "ç", "ß", "ł",  "α",    "λ",    "ς",
  "при", "вет",  "ы",    "سلا", "م",    "न", "स्", "ते", "สวั", "こん", "にち", "中",
  "文",  "안녕", "하세", "1",   "42",   ",", ".", "!", "'s", "'ll",  "🙂", "🇫🇷",
};
static const char *const gaps[] = { " ", " ", " ", " ", "  ", "\t", "\xc2\xa0", "" };

static uint32_t lcg(uint32_t *s)
{
  *s = *s * 1103515245u + 12345u;
  return *s >> 8;
}

static size_t put(char *buf, size_t pos, const char *s)
{
  memcpy(buf + pos, s, strlen(s));
  return pos + strlen(s);
}

/* About `bytes` of text as lines (each with "\n"); returns the line count. */
static size_t make_text(char *buf, size_t bytes, const char **lines, size_t *lens, size_t max,
                        uint32_t seed)
{
  size_t pos = 0, n = 0;
  while (pos + 400 < bytes && n < max) {
    size_t start = pos, words = 3 + lcg(&seed) % 30;
    for (size_t w = 0; w < words; w++) {
      /* Zipf-like: the product of two uniforms favours low indices. */
      size_t k = (size_t)(lcg(&seed) % 36) * (lcg(&seed) % 36) / 36;
      for (size_t r = 0; r < 1 + lcg(&seed) % 3; r++)
        pos = put(buf, pos, syllables[(k + r) % 36]);
      pos = put(buf, pos, gaps[lcg(&seed) % 8]);
    }
    buf[pos++] = '\n';
    lines[n] = buf + start;
    lens[n++] = pos - start;
  }
  buf[pos] = '\0';
  return n;
}

static void train_lines(files *out, const char **lines, const size_t *lens, size_t n,
                        int32_t vocab_size)
{
  prism_tokenizer_trainer_params p;
  prism_tokenizer_trainer *t;
  prism_tokenizer_trainer_stats stats = { sizeof stats, 0, 0, 0, 0, 0 };
  assert_ok(prism_tokenizer_trainer_params_init(&p, sizeof p));
  p.vocab_size = vocab_size;
  make_dir(out);
  assert_ok(prism_tokenizer_trainer_create(&t, &p));
  assert_ok(prism_tokenizer_trainer_feed(t, lines, lens, n));
  assert_ok(prism_tokenizer_trainer_train(&stats, t, out->dir, NULL, NULL));
  assert_int_equal(stats.alphabet_size, 256);
  assert_true(stats.vocab_size > 261 && stats.vocab_size <= vocab_size);
  assert_true(stats.unique_words > 100 && stats.words > stats.unique_words);
  prism_tokenizer_trainer_free(t);
  read_files(out);
}

#define TEXT_BYTES 300000
#define MAX_LINES 8000

/* Train, load with prism_tokenizer_load, and decode(encode(x)) == x for every line. */
static void test_round_trip(void **state)
{
  char *text = malloc(TEXT_BYTES + 1), *back = malloc(4096);
  const char **lines = malloc(MAX_LINES * sizeof *lines);
  size_t *lens = malloc(MAX_LINES * sizeof *lens), n, n_ids, len;
  int32_t ids[2048];
  prism_tokenizer *tok;
  files f;
  (void)state;
  assert_true(text && back && lines && lens);
  n = make_text(text, TEXT_BYTES, lines, lens, MAX_LINES, 7);
  train_lines(&f, lines, lens, n, 2000);
  assert_ok(prism_tokenizer_load(&tok, f.dir, NULL));
  for (size_t i = 0; i < n; i++) {
    assert_ok(prism_tokenizer_encode(ids, 2048, &n_ids, tok, lines[i], lens[i],
                                     PRISM_TOKENIZER_NO_SPECIAL));
    assert_true(n_ids < lens[i]); /* merges were learned and used */
    assert_ok(prism_tokenizer_decode(back, 4096, &len, tok, ids, n_ids, 0));
    assert_int_equal(len, lens[i]);
    assert_memory_equal(back, lines[i], len);
  }
  prism_tokenizer_free(tok);
  remove_dir(&f);
  free(text);
  free(back);
  free((void *)lines);
  free(lens);
}

/* The files do not depend on the thread count (counting splits the batch across threads). */
static void test_threads_identical(void **state)
{
  char *text = malloc(TEXT_BYTES + 1);
  const char **lines = malloc(MAX_LINES * sizeof *lines);
  size_t *lens = malloc(MAX_LINES * sizeof *lens), n;
  int before = prism_get_num_threads();
  files one, two;
  (void)state;
  assert_true(text && lines && lens);
  n = make_text(text, TEXT_BYTES, lines, lens, MAX_LINES, 11);
  prism_set_num_threads(1);
  train_lines(&one, lines, lens, n, 3000);
  prism_set_num_threads(2);
  train_lines(&two, lines, lens, n, 3000);
  prism_set_num_threads(before);
  assert_string_equal(one.vocab, two.vocab);
  assert_string_equal(one.merges, two.merges);
  remove_dir(&one);
  remove_dir(&two);
  free(text);
  free((void *)lines);
  free(lens);
}

/* Feeding in chunks equals feeding at once; a file equals its lines (with endings). */
static void test_chunks_and_files(void **state)
{
  const char *texts[] = { "one two two\n", "three three\r\n", "two one" };
  size_t lens[] = { 12, 13, 7 };
  prism_tokenizer_trainer_params p = bare_params(300, 0);
  prism_tokenizer_trainer *t;
  char path[128];
  files whole, chunked, file;
  (void)state;
  train_texts(&whole, &p, texts, 3);

  make_dir(&chunked);
  assert_ok(prism_tokenizer_trainer_create(&t, &p));
  for (int i = 0; i < 3; i++)
    assert_ok(prism_tokenizer_trainer_feed(t, texts + i, lens + i, 1));
  assert_ok(prism_tokenizer_trainer_feed(t, NULL, NULL, 0));
  assert_ok(prism_tokenizer_trainer_train(NULL, t, chunked.dir, NULL, NULL));
  prism_tokenizer_trainer_free(t);
  read_files(&chunked);

  make_dir(&file);
  snprintf(path, sizeof path, "%s/in.txt", file.dir);
  spill(path, "one two two\nthree three\r\ntwo one");
  assert_ok(prism_tokenizer_trainer_create(&t, &p));
  assert_ok(prism_tokenizer_trainer_feed_file(t, path, NULL, 0));
  assert_ok(prism_tokenizer_trainer_train(NULL, t, file.dir, NULL, NULL));
  prism_tokenizer_trainer_free(t);
  read_files(&file);

  assert_string_equal(whole.vocab, chunked.vocab);
  assert_string_equal(whole.merges, chunked.merges);
  assert_string_equal(whole.vocab, file.vocab);
  assert_string_equal(whole.merges, file.merges);
  assert_non_null(strstr(whole.vocab, "\"\xc4\x8d\xc4\x8a\"")); /* "\r\n" is one word: čĊ */
  remove_dir(&whole);
  remove_dir(&chunked);
  remove_dir(&file);
}

/* JSON Lines: the named string fields are the texts; blank lines are skipped. */
static void test_jsonl(void **state)
{
  const char *fields[] = { "source", "target" };
  const char *texts[] = { "one two", "two three", "three", "two" };
  prism_tokenizer_trainer_params p = bare_params(300, 0);
  prism_tokenizer_trainer *t;
  char path[128];
  files plain, jsonl;
  (void)state;
  train_texts(&plain, &p, texts, 4);
  make_dir(&jsonl);
  snprintf(path, sizeof path, "%s/in.jsonl", jsonl.dir);
  spill(path, "{\"source\": \"one two\", \"target\": \"two three\", \"id\": 1}\n\n  \n"
              "{\"target\": \"two\", \"source\": \"thr\\u0065e\"}");
  assert_ok(prism_tokenizer_trainer_create(&t, &p));
  assert_ok(prism_tokenizer_trainer_feed_file(t, path, fields, 2));
  assert_ok(prism_tokenizer_trainer_train(NULL, t, jsonl.dir, NULL, NULL));
  prism_tokenizer_trainer_free(t);
  read_files(&jsonl);
  assert_string_equal(plain.vocab, jsonl.vocab);
  assert_string_equal(plain.merges, jsonl.merges);
  remove_dir(&plain);
  remove_dir(&jsonl);
}

/* Errors name the input: the text index or file line, and the byte offset. */
static void test_bad_input(void **state)
{
  const char *fields[] = { "source", "target" };
  const char *bad[] = { "fine", "caf\xc3(" };
  size_t lens[] = { 4, 5 };
  prism_tokenizer_trainer *t;
  char path[128];
  files f;
  (void)state;
  make_dir(&f);
  snprintf(path, sizeof path, "%s/in.txt", f.dir);
  assert_ok(prism_tokenizer_trainer_create(&t, NULL));
  assert_status(prism_tokenizer_trainer_feed(t, bad, lens, 2), PRISM_ERR_INVALID_UTF8);
  assert_error_mentions("texts[1]: invalid UTF-8 at byte 3");

  spill(path, "good line\nsecond \xff line\n");
  assert_status(prism_tokenizer_trainer_feed_file(t, path, NULL, 0), PRISM_ERR_INVALID_UTF8);
  assert_error_mentions(path);
  assert_error_mentions("line 2: invalid UTF-8 at byte 17 of the file");

  spill(path, "{\"source\": \"a\", \"target\": \"b\"}\n{\"source\": \"a\"}\n");
  assert_status(prism_tokenizer_trainer_feed_file(t, path, fields, 2), PRISM_ERR_FORMAT);
  assert_error_mentions("line 2: field \"target\" is missing");
  spill(path, "{\"source\": \"a\", \"target\": 3}\n");
  assert_status(prism_tokenizer_trainer_feed_file(t, path, fields, 2), PRISM_ERR_FORMAT);
  assert_error_mentions("line 1: field \"target\" is not a string");
  spill(path, "\n[1, 2]\n");
  assert_status(prism_tokenizer_trainer_feed_file(t, path, fields, 2), PRISM_ERR_FORMAT);
  assert_error_mentions("line 2: expected a JSON object");
  spill(path, "{\"source\": \"a\",\n");
  assert_status(prism_tokenizer_trainer_feed_file(t, path, fields, 2), PRISM_ERR_FORMAT);
  assert_error_mentions("line 1: invalid JSON");
  assert_status(prism_tokenizer_trainer_feed_file(t, "/nonexistent/in.txt", NULL, 0),
                PRISM_ERR_NOT_FOUND);
  assert_error_mentions("/nonexistent/in.txt");
  assert_status(prism_tokenizer_trainer_train(NULL, t, "/nonexistent/dir", NULL, NULL),
                PRISM_ERR_NOT_FOUND);
  prism_tokenizer_trainer_free(t);
  f.vocab = f.merges = NULL;
  remove_dir(&f);
}

static void test_bad_params(void **state)
{
  const char *empty[] = { "" };
  prism_tokenizer_trainer_params p;
  prism_tokenizer_trainer *t = NULL;
  prism_tokenizer_trainer_stats stats = { 3, 0, 0, 0, 0, 0 };
  (void)state;
  assert_status(prism_tokenizer_trainer_params_init(&p, 8), PRISM_ERR_INVALID_ARGUMENT);
  assert_ok(prism_tokenizer_trainer_params_init(&p, sizeof p));
  p.vocab_size = 0;
  assert_status(prism_tokenizer_trainer_create(&t, &p), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("vocab_size must be in [1, 16777216]");
  p.vocab_size = 100;
  p.min_frequency = -1;
  assert_status(prism_tokenizer_trainer_create(&t, &p), PRISM_ERR_INVALID_ARGUMENT);
  p.min_frequency = 0;
  p.special_tokens = empty;
  p.n_special_tokens = 1;
  assert_status(prism_tokenizer_trainer_create(&t, &p), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("special_tokens[0] is NULL or empty");
  p.struct_size = 4;
  assert_status(prism_tokenizer_trainer_create(&t, &p), PRISM_ERR_INVALID_ARGUMENT);
  assert_null(t);
  assert_status(prism_tokenizer_trainer_create(NULL, NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_ok(prism_tokenizer_trainer_create(&t, NULL));
  assert_status(prism_tokenizer_trainer_train(&stats, t, "/tmp", NULL, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("stats->struct_size");
  prism_tokenizer_trainer_free(t);
  prism_tokenizer_trainer_free(NULL);
}

static int cancel_at_merges(int stage, uint64_t done, uint64_t total, void *payload)
{
  (void)done;
  (void)total;
  ++*(int *)payload;
  return stage != PRISM_TOKENIZER_TRAINER_MERGES;
}

/* Cancelling writes nothing and keeps the counts; a non-regular target is refused. */
static void test_cancel_and_targets(void **state)
{
  const char *texts[] = { "hello hello world world" };
  size_t len = strlen(texts[0]);
  prism_tokenizer_trainer *t;
  char path[128];
  int calls = 0;
  struct stat st;
  files f;
  (void)state;
  make_dir(&f);
  assert_ok(prism_tokenizer_trainer_create(&t, NULL));
  assert_ok(prism_tokenizer_trainer_feed(t, texts, &len, 1));
  assert_status(prism_tokenizer_trainer_train(NULL, t, f.dir, cancel_at_merges, &calls),
                PRISM_ERR_CANCELLED);
  assert_true(calls >= 3);
  snprintf(path, sizeof path, "%s/vocab.json", f.dir);
  assert_int_not_equal(stat(path, &st), 0);

  assert_int_equal(symlink("/dev/null", path), 0);
  assert_status(prism_tokenizer_trainer_train(NULL, t, f.dir, NULL, NULL), PRISM_ERR_IO);
  assert_error_mentions("not a regular file");
  snprintf(path, sizeof path, "%s/merges.txt", f.dir);
  assert_int_not_equal(stat(path, &st), 0); /* neither file was written */
  snprintf(path, sizeof path, "%s/vocab.json", f.dir);
  unlink(path);

  assert_ok(prism_tokenizer_trainer_train(NULL, t, f.dir, NULL, NULL));
  prism_tokenizer_trainer_free(t);
  read_files(&f);
  /* e=73 l=80: (e,l) is the smallest pair of those seen twice. */
  assert_memory_equal(f.merges, "#version: 0.2\ne l\n", 18);
  remove_dir(&f);
}

/* Every allocation failure is reported as PRISM_ERR_NO_MEMORY without leaks or crashes. */
static void test_allocation_failures(void **state)
{
  const char *texts[] = { "hello hello world world, wonderful world", "what a word" };
  size_t lens[] = { strlen(texts[0]), strlen(texts[1]) };
  prism_tokenizer_trainer_params p;
  files f;
  int ok = 0;
  (void)state;
  assert_ok(prism_tokenizer_trainer_params_init(&p, sizeof p));
  p.min_frequency = 1;
  make_dir(&f);
  for (long n = 1; n < 400 && !ok; n++) {
    prism_tokenizer_trainer *t = NULL;
    int rc;
    prism__alloc_fail_at(n);
    rc = prism_tokenizer_trainer_create(&t, &p);
    if (rc == PRISM_OK)
      rc = prism_tokenizer_trainer_feed(t, texts, lens, 2);
    if (rc == PRISM_OK)
      rc = prism_tokenizer_trainer_train(NULL, t, f.dir, NULL, NULL);
    prism__alloc_fail_at(0);
    prism_tokenizer_trainer_free(t);
    if (rc != PRISM_OK)
      assert_status(rc, PRISM_ERR_NO_MEMORY);
    ok = rc == PRISM_OK;
  }
  assert_true(ok);
  read_files(&f);
  remove_dir(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_hf_example),         cmocka_unit_test(test_ties_by_ids),
    cmocka_unit_test(test_stale_counts),       cmocka_unit_test(test_overlap),
    cmocka_unit_test(test_bart_layout),        cmocka_unit_test(test_vocab_size_bounds),
    cmocka_unit_test(test_limit_alphabet),     cmocka_unit_test(test_merge_reuses_token),
    cmocka_unit_test(test_round_trip),         cmocka_unit_test(test_threads_identical),
    cmocka_unit_test(test_chunks_and_files),   cmocka_unit_test(test_jsonl),
    cmocka_unit_test(test_bad_input),          cmocka_unit_test(test_bad_params),
    cmocka_unit_test(test_cancel_and_targets), cmocka_unit_test(test_allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
