#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"

void fuzz_split(const uint8_t *data, size_t size, size_t *a_len, const uint8_t **b, size_t *b_len)
{
  const uint8_t *nul = memchr(data, 0, size);
  *a_len = nul ? (size_t)(nul - data) : size;
  *b = nul ? nul + 1 : data + size;
  *b_len = size - (size_t)(*b - data);
}

const uint8_t *fuzz_fixture(const char *rel, size_t *size)
{
  char path[4096];
  const char *dir = getenv("PRISM_FIXTURES");
  FILE *f;
  uint8_t *buf;
  long n;
  snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : PRISM_FIXTURES, rel);
  f = fopen(path, "rb");
  if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
      !(buf = malloc((size_t)n + 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "fuzz: cannot read fixture %s\n", path);
    __builtin_trap();
  }
  fclose(f);
  *size = (size_t)n;
  return buf;
}

const char *fuzz_scratch_file(const uint8_t *data, size_t size, const char *suffix)
{
  static char path[256];
  FILE *f;
  snprintf(path, sizeof path, "%s/prism-fuzz-%ld%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
           (long)getpid(), suffix);
  f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
    fprintf(stderr, "fuzz: cannot write %s\n", path);
    __builtin_trap();
  }
  return path;
}

const prism_tokenizer *fuzz_bart_tokenizer(void)
{
  static prism_tokenizer *tok;
  if (!tok) {
    size_t vn, mn;
    const uint8_t *vocab = fuzz_fixture("bart-vocab/vocab.json", &vn);
    const uint8_t *merges = fuzz_fixture("bart-vocab/merges.txt", &mn);
    if (prism_tokenizer_load_memory(&tok, vocab, vn, merges, mn, NULL) != PRISM_OK)
      __builtin_trap();
    free((void *)vocab);
    free((void *)merges);
  }
  return tok;
}

static void decode_all(const prism_tokenizer *tok)
{
  int32_t n = prism_tokenizer_vocab_size(tok), ids[64];
  char text[4096];
  size_t len;
  for (int32_t first = 0; first < n && first < 4096; first += 64) {
    size_t count = 0;
    for (int32_t id = first; id < n && id < first + 64; id++) {
      const char *token;
      size_t token_len;
      if (prism_tokenizer_id_to_token(&token, &token_len, tok, id) == PRISM_OK) {
        if (strlen(token) > token_len)
          __builtin_trap();
        ids[count++] = id;
      }
    }
    (void)prism_tokenizer_decode(text, sizeof text, &len, tok, ids, count, 0);
    (void)prism_tokenizer_decode(NULL, 0, &len, tok, ids, count, PRISM_TOKENIZER_SKIP_SPECIAL);
  }
}

void fuzz_exercise_tokenizer(const prism_tokenizer *tok)
{
  static const char sample[] =
      "Hello world! <mask> caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 12 34\n\t x";
  int32_t ids[256];
  size_t n;
  if (prism_tokenizer_encode(ids, 256, &n, tok, sample, sizeof sample - 1, 0) == PRISM_OK &&
      n > 256)
    __builtin_trap();
  (void)prism_tokenizer_encode_pair(ids, 256, &n, tok, sample, 5, sample + 6, 5, 0);
  decode_all(tok);
}
