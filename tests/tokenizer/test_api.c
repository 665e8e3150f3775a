/* The tokenizer API: loaders, sized outputs, pairs, batches, decode flags, lookups, threads. */
#include <jansson.h>
#include <pthread.h>
#include <unistd.h>

#include "common/alloc.h"
#include "testutil.h"
#include "tokenizer/tokenizer_internal.h"

/* Released params sizes are frozen (growth could hide in tail padding). */

static prism_tokenizer *bart;

static int setup(void **state)
{
  char dir[1024];
  (void)state;
  return prism_tokenizer_load(&bart, fixture_path(dir, sizeof dir, "bart-vocab"), NULL);
}

static int teardown(void **state)
{
  (void)state;
  prism_tokenizer_free(bart);
  return 0;
}

/* Encode a NUL-terminated string into a static buffer; returns the count. */
static size_t enc(const prism_tokenizer *tok, const char *text, unsigned flags, int32_t *ids)
{
  size_t n = 0;
  assert_ok(prism_tokenizer_encode(ids, 1024, &n, tok, text, strlen(text), flags));
  return n;
}

static void assert_ids(const int32_t *got, size_t n, const int32_t *want, size_t n_want)
{
  assert_int_equal(n, n_want);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(got[i], want[i]);
}

static void test_hello_world(void **state)
{
  int32_t ids[1024];
  static const int32_t hello[] = { 0, 31414, 232, 2 }, spaced[] = { 0, 20920, 232, 2 };
  (void)state;
  assert_ids(ids, enc(bart, "Hello world", 0, ids), hello, 4);
  assert_ids(ids, enc(bart, " Hello world", 0, ids), spaced, 4);
  assert_ids(ids, enc(bart, "Hello world", PRISM_TOKENIZER_NO_SPECIAL, ids), hello + 1, 2);
}

static void test_sized_output(void **state)
{
  int32_t ids[4] = { -7, -7, -7, -7 };
  size_t n = 0;
  (void)state;
  assert_ok(prism_tokenizer_encode(NULL, 0, &n, bart, "Hello world", 11, 0));
  assert_int_equal(n, 4);
  n = 0;
  assert_status(prism_tokenizer_encode(ids, 3, &n, bart, "Hello world", 11, 0),
                PRISM_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(n, 4);
  assert_int_equal(ids[3], -7);
  assert_ok(prism_tokenizer_encode(ids, 4, &n, bart, "Hello world", 11, 0));
  assert_int_equal(ids[1], 31414);
  assert_ok(prism_tokenizer_encode(NULL, 0, &n, bart, NULL, 0, 0));
  assert_int_equal(n, 2);
}

static void test_pair(void **state)
{
  int32_t a[1024], b[1024], got[1024], want[1024];
  size_t na = enc(bart, "The room was clean.", PRISM_TOKENIZER_NO_SPECIAL, a);
  size_t nb = enc(bart, " Staff were rude.", PRISM_TOKENIZER_NO_SPECIAL, b), n = 0, k = 0;
  (void)state;
  want[k++] = 0;
  memcpy(want + k, a, na * sizeof *a), k += na;
  want[k++] = 2;
  want[k++] = 2;
  memcpy(want + k, b, nb * sizeof *b), k += nb;
  want[k++] = 2;
  assert_ok(prism_tokenizer_encode_pair(got, 1024, &n, bart, "The room was clean.", 19,
                                        " Staff were rude.", 17, 0));
  assert_ids(got, n, want, k);
  assert_ok(prism_tokenizer_encode_pair(got, 1024, &n, bart, "The room was clean.", 19,
                                        " Staff were rude.", 17, PRISM_TOKENIZER_NO_SPECIAL));
  assert_int_equal(n, na + nb);
  assert_ids(got, na, want + 1, na);
  assert_ids(got + na, nb, b, nb);
  assert_status(prism_tokenizer_encode_pair(got, 1024, &n, bart, "ok", 2, "\xc3", 1, 0),
                PRISM_ERR_INVALID_UTF8);
  assert_error_mentions("text_b");
}

static void test_batch(void **state)
{
  const char *texts[] = { "Hello world", "", "fill <mask> here", "日本語" };
  size_t lens[4], offsets[5], n = 0, total = 0;
  int32_t ids[1024], one[1024];
  (void)state;
  for (int i = 0; i < 4; i++)
    lens[i] = strlen(texts[i]);
  assert_ok(prism_tokenizer_encode_batch(NULL, 0, &n, offsets, bart, texts, lens, 4, 0));
  assert_status(prism_tokenizer_encode_batch(ids, n - 1, &total, offsets, bart, texts, lens, 4, 0),
                PRISM_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(total, n);
  assert_ok(prism_tokenizer_encode_batch(ids, 1024, &n, offsets, bart, texts, lens, 4, 0));
  assert_int_equal(offsets[0], 0);
  assert_int_equal(offsets[4], n);
  for (int i = 0; i < 4; i++) {
    size_t k = enc(bart, texts[i], 0, one);
    assert_ids(ids + offsets[i], offsets[i + 1] - offsets[i], one, k);
  }
  texts[2] = "bad \xed\xa0\x80 surrogate";
  lens[2] = strlen(texts[2]);
  assert_status(prism_tokenizer_encode_batch(ids, 1024, &n, offsets, bart, texts, lens, 4, 0),
                PRISM_ERR_INVALID_UTF8);
  assert_error_mentions("texts[2]");
  assert_error_mentions("byte 4");
}

static void test_invalid_utf8(void **state)
{
  int32_t ids[1024], want[1024];
  size_t n = 0, k;
  static const char *bad[] = { "\xff", "\xc0\xaf", "\xe0\x80\x80", "\xf4\x90\x80\x80", "\xc3" };
  (void)state;
  assert_status(prism_tokenizer_encode(ids, 1024, &n, bart, "abc\x80xyz", 7, 0),
                PRISM_ERR_INVALID_UTF8);
  assert_error_mentions("byte 3");
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_status(prism_tokenizer_encode(ids, 1024, &n, bart, bad[i], strlen(bad[i]), 0),
                  PRISM_ERR_INVALID_UTF8);
  /* Replacement: one U+FFFD per maximal ill-formed subsequence, as Python's errors="replace". */
  assert_ok(prism_tokenizer_encode(ids, 1024, &n, bart, "a\xe2\x82z\xf0\x80", 6,
                                   PRISM_TOKENIZER_REPLACE_INVALID));
  k = enc(bart, "a\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd", 0, want);
  assert_ids(ids, n, want, k);
}

/* The id of the token that stands for one byte. */
static int32_t byte_token(const prism_tokenizer *tok, unsigned b)
{
  unsigned char s[4];
  int32_t id = -1;
  size_t len = prism__utf8_put(s, prism__tokenizer_byte_char(b));
  assert_ok(prism_tokenizer_token_to_id(&id, tok, (const char *)s, len));
  return id;
}

static void test_decode(void **state)
{
  int32_t ids[1024];
  char text[256];
  size_t n, len = 0;
  (void)state;
  n = enc(bart, "Hello , world . I 'm sure you 're fine , aren 't you ?", 0, ids);
  assert_ok(prism_tokenizer_decode(text, sizeof text, &len, bart, ids, n,
                                   PRISM_TOKENIZER_SKIP_SPECIAL | PRISM_TOKENIZER_CLEAN_UP_SPACES));
  assert_string_equal(text, "Hello, world. I'm sure you're fine, aren 't you?");
  assert_int_equal(len, strlen(text));
  assert_ok(prism_tokenizer_decode(NULL, 0, &len, bart, ids, n, 0));
  assert_int_equal(len, strlen("<s>Hello , world . I 'm sure you 're fine , aren 't you ?</s>"));
  assert_status(prism_tokenizer_decode(text, len, &len, bart, ids, n, 0),
                PRISM_ERR_BUFFER_TOO_SMALL);
  assert_ok(prism_tokenizer_decode(text, len + 1, &len, bart, ids, n, 0));
  assert_string_equal(text, "<s>Hello , world . I 'm sure you 're fine , aren 't you ?</s>");
}

static void test_decode_invalid_bytes(void **state)
{
  int32_t ids[6];
  char text[64];
  size_t len = 0;
  (void)state;
  ids[0] = byte_token(bart, 0xE2);
  ids[1] = byte_token(bart, 0x82);
  ids[2] = byte_token(bart, 'A');
  ids[3] = byte_token(bart, 0xF0);
  ids[4] = byte_token(bart, 0x80);
  ids[5] = byte_token(bart, 0xED);
  assert_ok(prism_tokenizer_decode(text, sizeof text, &len, bart, ids, 6, 0));
  /* E2 82 | A | F0 | 80 | ED: a truncated sequence is one subpart, a bad second byte is not. */
  assert_int_equal(len, 13);
  assert_memory_equal(text,
                      "\xef\xbf\xbd"
                      "A\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
                      13);
}

static void test_decode_out_of_range(void **state)
{
  int32_t ids[] = { 0, 31414, 50265, 2 }, neg[] = { -1 };
  size_t len = 0;
  char text[64];
  (void)state;
  assert_status(prism_tokenizer_decode(text, sizeof text, &len, bart, ids, 4, 0),
                PRISM_ERR_OUT_OF_RANGE);
  assert_error_mentions("ids[2]");
  assert_error_mentions("50265");
  assert_status(prism_tokenizer_decode(text, sizeof text, &len, bart, neg, 1, 0),
                PRISM_ERR_OUT_OF_RANGE);
  assert_error_mentions("-1");
}

static void test_lookups(void **state)
{
  int32_t id = -1;
  const char *token = NULL;
  size_t len = 0;
  (void)state;
  assert_int_equal(prism_tokenizer_vocab_size(bart), 50265);
  assert_ok(prism_tokenizer_token_to_id(&id, bart, "\xc4\xa0world", 7));
  assert_int_equal(id, 232);
  assert_ok(prism_tokenizer_id_to_token(&token, &len, bart, 232));
  assert_int_equal(len, 7);
  assert_string_equal(token, "\xc4\xa0world");
  assert_status(prism_tokenizer_token_to_id(&id, bart, "not-a-token-at-all", 18),
                PRISM_ERR_NOT_FOUND);
  assert_error_mentions("not-a-token-at-all");
  assert_status(prism_tokenizer_id_to_token(&token, &len, bart, 50265), PRISM_ERR_OUT_OF_RANGE);
  assert_int_equal(prism_tokenizer_special_id(bart, PRISM_TOKENIZER_BOS), 0);
  assert_int_equal(prism_tokenizer_special_id(bart, PRISM_TOKENIZER_PAD), 1);
  assert_int_equal(prism_tokenizer_special_id(bart, PRISM_TOKENIZER_EOS), 2);
  assert_int_equal(prism_tokenizer_special_id(bart, PRISM_TOKENIZER_UNK), 3);
  assert_int_equal(prism_tokenizer_special_id(bart, PRISM_TOKENIZER_MASK), 50264);
  assert_int_equal(prism_tokenizer_special_id(bart, 5), -1);
  assert_int_equal(prism_tokenizer_special_id(NULL, 0), -1);
}

static void test_mask_strips_left_whitespace(void **state)
{
  int32_t a[1024], b[1024];
  (void)state;
  size_t na = enc(bart, "fill \t\u3000<mask> here", 0, a), nb = enc(bart, "fill<mask> here", 0, b);
  assert_ids(a, na, b, nb);
  /* Only <mask> strips: other specials keep the space on their left. */
  na = enc(bart, "x </s>", PRISM_TOKENIZER_NO_SPECIAL, a);
  assert_int_equal(na, 3);
  assert_int_equal(a[1], 1437);
}

static void test_add_prefix_space(void **state)
{
  char dir[1024];
  prism_tokenizer_params p;
  prism_tokenizer *tok = NULL;
  int32_t a[1024], b[1024];
  (void)state;
  assert_ok(prism_tokenizer_params_init(&p, sizeof p));
  assert_int_equal(p.add_prefix_space, 0);
  p.add_prefix_space = 1;
  assert_ok(prism_tokenizer_load(&tok, fixture_path(dir, sizeof dir, "bart-vocab"), &p));
  assert_ids(a, enc(tok, "Hello world", 0, a), b, enc(bart, " Hello world", 0, b));
  assert_ids(a, enc(tok, "\nHello", 0, a), b, enc(bart, "\nHello", 0, b));
  assert_ids(a, enc(tok, "", 0, a), b, enc(bart, "", 0, b));
  prism_tokenizer_free(tok);
  p.struct_size = sizeof(size_t);
  tok = NULL;
  assert_status(prism_tokenizer_load(&tok, dir, &p), PRISM_ERR_INVALID_ARGUMENT);
  assert_null(tok);
}

static void test_invalid_arguments(void **state)
{
  int32_t ids[4];
  size_t n;
  char text[8];
  prism_tokenizer *tok = NULL;
  (void)state;
  assert_status(prism_tokenizer_encode(ids, 4, &n, NULL, "a", 1, 0), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_tokenizer_encode(ids, 4, NULL, bart, "a", 1, 0), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_tokenizer_encode(NULL, 4, &n, bart, "a", 1, 0), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_tokenizer_encode(ids, 4, &n, bart, NULL, 1, 0), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_tokenizer_encode(ids, 4, &n, bart, "a", 1, 1u << 7),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_tokenizer_decode(text, 8, &n, bart, NULL, 2, 0), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_tokenizer_decode(text, 8, &n, bart, ids, 0, 1u << 5),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_tokenizer_load(NULL, "x", NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_tokenizer_load(&tok, NULL, NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_tokenizer_load_memory(&tok, NULL, 3, "", 0, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_tokenizer_id_to_token(NULL, NULL, bart, 0), PRISM_ERR_INVALID_ARGUMENT);
  assert_null(tok);
  prism_tokenizer_free(NULL);
}

/* Seeded random valid UTF-8 from several scripts, spaces and punctuation. */
static size_t random_text(unsigned *seed, unsigned char *out, size_t max_chars)
{
  static const uint32_t ranges[][2] = {
    { 0x20, 0x7e },       { 0x09, 0x0d },   { 0xa0, 0x24f },    { 0x370, 0x52f },
    { 0x600, 0x6ff },     { 0x900, 0x97f }, { 0x3040, 0x30ff }, { 0x4e00, 0x4fff },
    { 0x1f300, 0x1f64f }, { 0x300, 0x36f }, { 0x2000, 0x206f }
  };
  size_t o = 0, n = (size_t)(rand_r(seed) % (int)max_chars);
  for (size_t i = 0; i < n; i++) {
    const uint32_t *r = ranges[rand_r(seed) % (int)(sizeof ranges / sizeof ranges[0])];
    uint32_t cp = r[0] + (uint32_t)rand_r(seed) % (r[1] - r[0] + 1);
    o += prism__utf8_put(out + o, cp);
  }
  return o;
}

static void test_round_trip_random(void **state)
{
  unsigned seed = 12345;
  unsigned char text[4 * 200];
  char back[4 * 200 + 1];
  int32_t ids[1024];
  (void)state;
  for (int iter = 0; iter < 2000; iter++) {
    size_t len = random_text(&seed, text, 200), n = 0, blen = 0;
    assert_ok(prism_tokenizer_encode(ids, 1024, &n, bart, (const char *)text, len,
                                     PRISM_TOKENIZER_NO_SPECIAL));
    assert_ok(prism_tokenizer_decode(back, sizeof back, &blen, bart, ids, n, 0));
    assert_int_equal(blen, len);
    assert_memory_equal(back, text, len);
  }
}

static void test_long_word(void **state)
{
  size_t len = 3 * 20000, n = 0, blen = 0;
  unsigned char *text = malloc(len);
  int32_t *ids = malloc(len * sizeof *ids);
  char *back = malloc(len + 1);
  (void)state;
  for (size_t i = 0; i < len; i += 3)
    prism__utf8_put(text + i, 0x4e00 + (uint32_t)(i * 7919 % 4000));
  assert_ok(prism_tokenizer_encode(ids, len, &n, bart, (const char *)text, len,
                                   PRISM_TOKENIZER_NO_SPECIAL));
  assert_true(n > 0 && n <= len);
  assert_ok(prism_tokenizer_decode(back, len + 1, &blen, bart, ids, n, 0));
  assert_int_equal(blen, len);
  assert_memory_equal(back, text, len);
  free(text);
  free(ids);
  free(back);
}

/* Threads share one tokenizer; each must see exactly the single-thread ids. */
typedef struct thread_job {
  const char *texts[6];
  int32_t want[6][64];
  size_t n_want[6];
  int ok;
} thread_job;

static void *thread_main(void *arg)
{
  thread_job *job = arg;
  int32_t ids[64];
  size_t n;
  job->ok = 1;
  for (int iter = 0; iter < 3000; iter++) {
    int t = iter % 6;
    if (prism_tokenizer_encode(ids, 64, &n, bart, job->texts[t], strlen(job->texts[t]), 0) ||
        n != job->n_want[t] || memcmp(ids, job->want[t], n * sizeof *ids) != 0)
      job->ok = 0;
  }
  return NULL;
}

static void test_threads_share(void **state)
{
  thread_job job = { { "Hello world", "The hotel was clean.", "日本語のテキスト",
                       "fill <mask> here", "you're, they'll", "   spaced   out   " },
                     { { 0 } },
                     { 0 },
                     0 };
  thread_job jobs[4];
  pthread_t th[4];
  (void)state;
  for (int t = 0; t < 6; t++)
    assert_ok(prism_tokenizer_encode(job.want[t], 64, &job.n_want[t], bart, job.texts[t],
                                     strlen(job.texts[t]), 0));
  for (int i = 0; i < 4; i++) {
    jobs[i] = job;
    assert_int_equal(pthread_create(&th[i], NULL, thread_main, &jobs[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    assert_true(jobs[i].ok);
  }
}

/* Two tokenizers used alternately by one thread must not see each other's cached words. */
static void test_cache_keeps_tokenizers_apart(void **state)
{
  static const char vocab[] = "{\"h\": 0, \"e\": 1, \"l\": 2, \"o\": 3, \"he\": 4, \"ll\": 5}";
  static const char merges[] = "#version: 0.2\nh e\nl l\n";
  prism_tokenizer *tiny = NULL;
  int32_t ids[1024];
  static const int32_t want_tiny[] = { 4, 5, 3 };
  (void)state;
  assert_ok(prism_tokenizer_load_memory(&tiny, vocab, strlen(vocab), merges, strlen(merges), NULL));
  for (int i = 0; i < 3; i++) {
    size_t n = enc(bart, "hello", PRISM_TOKENIZER_NO_SPECIAL, ids);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 42891);
    assert_ids(ids, enc(tiny, "hello", 0, ids), want_tiny, 3);
  }
  prism_tokenizer_free(tiny);
}

/* <|endoftext|> is special only where the vocabulary's own tokenizer says so. */
static void test_endoftext_by_vocabulary(void **state)
{
  static const char *const pieces[] = { "x", "<|", "endoftext", "|>" };
  int32_t ids[1024], want[1024], eot = 0;
  size_t n, n_want = 0, len = 0;
  char text[64];
  (void)state;
  /* BART's vocabulary lists it (50260) as an ordinary token: BartTokenizer leaves it in the
     text for BPE, and skip_special_tokens keeps it. */
  assert_ok(prism_tokenizer_token_to_id(&eot, bart, "<|endoftext|>", 13));
  assert_int_equal(eot, 50260);
  n = enc(bart, "x<|endoftext|>", PRISM_TOKENIZER_NO_SPECIAL, ids);
  for (size_t k = 0; k < 4; k++)
    n_want += enc(bart, pieces[k], PRISM_TOKENIZER_NO_SPECIAL, want + n_want);
  assert_ids(ids, n, want, n_want);
  assert_ok(
      prism_tokenizer_decode(text, sizeof text, &len, bart, &eot, 1, PRISM_TOKENIZER_SKIP_SPECIAL));
  assert_string_equal(text, "<|endoftext|>");
}

/* A GPT-2 vocab.json: the 256 byte symbols and <|endoftext|>, no <s> or </s>. */
static prism_tokenizer *gpt2_style(void)
{
  json_t *vocab = json_object();
  prism_tokenizer *tok = NULL;
  char *text;
  for (unsigned b = 0; b < 256; b++) {
    char sym[8] = { 0 };
    uint32_t cp = prism__tokenizer_byte_char(b);
    prism__utf8_put((unsigned char *)sym, cp);
    json_object_set_new(vocab, sym, json_integer(b));
  }
  json_object_set_new(vocab, "<|endoftext|>", json_integer(256));
  text = json_dumps(vocab, JSON_COMPACT);
  assert_ok(prism_tokenizer_load_memory(&tok, text, strlen(text), "", 0, NULL));
  free(text);
  json_decref(vocab);
  return tok;
}

static void test_endoftext_gpt2(void **state)
{
  prism_tokenizer *tok = gpt2_style();
  int32_t ids[1024];
  static const int32_t want[] = { 'a', 256, 'b' }; /* byte b has id b */
  size_t len = 0;
  char text[64];
  (void)state;
  /* GPT2Tokenizer's eos: split out of the text, dropped by skip_special_tokens. */
  assert_ids(ids, enc(tok, "a<|endoftext|>b", 0, ids), want, 3);
  assert_ok(prism_tokenizer_decode(text, sizeof text, &len, tok, ids, 3, 0));
  assert_string_equal(text, "a<|endoftext|>b");
  assert_ok(
      prism_tokenizer_decode(text, sizeof text, &len, tok, ids, 3, PRISM_TOKENIZER_SKIP_SPECIAL));
  assert_string_equal(text, "ab");
  prism_tokenizer_free(tok);
}

/* The fixture texts, `copies` times over (caller frees the arrays; the strings stay owned by
 * the returned JSON array). */
static json_t *fixture_texts(size_t copies, const char ***texts, size_t **lens, size_t *n)
{
  char path[1024], buf[65536];
  FILE *f = fopen(fixture_path(path, sizeof path, "tokenizer_cases.jsonl"), "rb");
  json_t *all = json_array();
  assert_non_null(f);
  while (fgets(buf, sizeof buf, f))
    json_array_append_new(all, json_loads(buf, JSON_ALLOW_NUL, NULL));
  fclose(f);
  *n = copies * json_array_size(all);
  *texts = malloc(*n * sizeof **texts);
  *lens = malloc(*n * sizeof **lens);
  for (size_t i = 0; i < *n; i++) {
    json_t *t = json_object_get(json_array_get(all, i % json_array_size(all)), "text");
    (*texts)[i] = json_string_value(t);
    (*lens)[i] = json_string_length(t);
  }
  return all;
}

/* Encode a batch into new arrays; returns the status, *n_ids the count. */
static int batch(int32_t **ids, size_t **offsets, size_t *n_ids, const char **texts,
                 const size_t *lens, size_t n, unsigned flags)
{
  int rc;
  *offsets = malloc((n + 1) * sizeof **offsets);
  *ids = NULL;
  rc = prism_tokenizer_encode_batch(NULL, 0, n_ids, *offsets, bart, texts, lens, n, flags);
  if (rc != PRISM_OK)
    return rc;
  *ids = malloc((*n_ids ? *n_ids : 1) * sizeof **ids);
  return prism_tokenizer_encode_batch(*ids, *n_ids, n_ids, *offsets, bart, texts, lens, n, flags);
}

static void test_parallel_batch(void **state)
{
  const char **texts;
  size_t *lens, n, n_serial, n_par, *off_serial, *off_par, bytes = 0;
  int32_t *serial, *par;
  int before = prism_get_num_threads();
  json_t *keep = fixture_texts(4, &texts, &lens, &n);
  char serial_error[512];
  (void)state;
  for (size_t i = 0; i < n; i++)
    bytes += lens[i];
  assert_true(bytes >= 65536); /* enough for the pool */
  for (int threads = 2; threads <= 3; threads++) {
    prism_set_num_threads(threads);
    assert_ok(batch(&serial, &off_serial, &n_serial, texts, lens, n, 0));
    assert_ok(batch(&par, &off_par, &n_par, texts, lens, n, PRISM_TOKENIZER_PARALLEL));
    assert_int_equal(n_par, n_serial);
    assert_memory_equal(off_par, off_serial, (n + 1) * sizeof *off_par);
    assert_memory_equal(par, serial, n_serial * sizeof *par);
    /* a short buffer: the needed count, as the serial path reports it */
    assert_status(prism_tokenizer_encode_batch(par, n_serial - 1, &n_par, off_par, bart, texts,
                                               lens, n, PRISM_TOKENIZER_PARALLEL),
                  PRISM_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(n_par, n_serial);
    free(serial);
    free(par);
    free(off_serial);
    free(off_par);
  }
  /* Two bad texts, one in each half: the lowest is reported, in the serial path's words. */
  texts[n - 2] = "bad \xed\xa0\x80";
  lens[n - 2] = strlen(texts[n - 2]);
  texts[n / 4] = "also \xff bad";
  lens[n / 4] = strlen(texts[n / 4]);
  assert_status(batch(&serial, &off_serial, &n_serial, texts, lens, n, 0), PRISM_ERR_INVALID_UTF8);
  snprintf(serial_error, sizeof serial_error, "%s", prism_last_error());
  free(off_serial);
  assert_status(batch(&par, &off_par, &n_par, texts, lens, n, PRISM_TOKENIZER_PARALLEL),
                PRISM_ERR_INVALID_UTF8);
  assert_string_equal(prism_last_error(), serial_error);
  free(off_par);
  /* the flag is for batches only */
  assert_status(prism_tokenizer_encode(NULL, 0, &n_par, bart, "x", 1, PRISM_TOKENIZER_PARALLEL),
                PRISM_ERR_INVALID_ARGUMENT);
  prism_set_num_threads(before);
  free(texts);
  free(lens);
  json_decref(keep);
}

static void test_unicode_version(void **state)
{
  int major = 0, minor = -1, update = -1;
  (void)state;
  assert_int_equal(sscanf(prism_tokenizer_unicode_version(), "%d.%d.%d", &major, &minor, &update),
                   3);
  assert_true(major >= 13 && minor >= 0 && update >= 0);
}

static void test_alloc_failures(void **state)
{
  static const char vocab[] = "{\"a\": 0, \"b\": 1, \"ab\": 2, \"<s>\": 3, \"</s>\": 4}";
  static const char merges[] = "a b\n";
  prism_tokenizer *tok = NULL;
  int rc = PRISM_ERR_NO_MEMORY;
  (void)state;
  for (long k = 1; rc == PRISM_ERR_NO_MEMORY && k < 1000; k++) {
    prism__alloc_fail_at(k);
    rc = prism_tokenizer_load_memory(&tok, vocab, strlen(vocab), merges, strlen(merges), NULL);
    prism__alloc_fail_at(0);
    if (rc != PRISM_OK) {
      assert_int_equal(rc, PRISM_ERR_NO_MEMORY);
      assert_null(tok);
    }
  }
  assert_ok(rc);
  rc = PRISM_ERR_NO_MEMORY;
  for (long k = 1; rc == PRISM_ERR_NO_MEMORY && k < 100; k++) {
    int32_t ids[] = { 3, 2, 4 };
    char text[16];
    size_t len = 0;
    prism__alloc_fail_at(k);
    rc = prism_tokenizer_decode(text, sizeof text, &len, tok, ids, 3, 0);
    prism__alloc_fail_at(0);
    assert_true(rc == PRISM_OK || rc == PRISM_ERR_NO_MEMORY);
    if (rc == PRISM_OK)
      assert_string_equal(text, "<s>ab</s>");
  }
  prism_tokenizer_free(tok);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_hello_world),
    cmocka_unit_test(test_sized_output),
    cmocka_unit_test(test_pair),
    cmocka_unit_test(test_batch),
    cmocka_unit_test(test_invalid_utf8),
    cmocka_unit_test(test_decode),
    cmocka_unit_test(test_decode_invalid_bytes),
    cmocka_unit_test(test_decode_out_of_range),
    cmocka_unit_test(test_lookups),
    cmocka_unit_test(test_mask_strips_left_whitespace),
    cmocka_unit_test(test_add_prefix_space),
    cmocka_unit_test(test_invalid_arguments),
    cmocka_unit_test(test_round_trip_random),
    cmocka_unit_test(test_long_word),
    cmocka_unit_test(test_threads_share),
    cmocka_unit_test(test_cache_keeps_tokenizers_apart),
    cmocka_unit_test(test_endoftext_by_vocabulary),
    cmocka_unit_test(test_endoftext_gpt2),
    cmocka_unit_test(test_parallel_batch),
    cmocka_unit_test(test_unicode_version),
    cmocka_unit_test(test_alloc_failures),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
