/*
 * libFuzzer target (meson -Dfuzz=true, clang): the first input byte picks a
 * mode — encode the rest as text with the BART vocabulary, decode it as ids,
 * or load it as vocab.json + merges.txt (split at the first NUL) or as a
 * tokenizer.json. Nothing may crash, leak or trip a sanitizer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prism/prism.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static prism_tokenizer *bart(void)
{
  static prism_tokenizer *tok;
  const char *dir = getenv("PRISM_FIXTURES");
  char path[1024];
  if (!tok) {
    snprintf(path, sizeof path, "%s/bart-vocab", dir && *dir ? dir : PRISM_FIXTURES);
    if (prism_tokenizer_load(&tok, path, NULL) != PRISM_OK)
      abort();
  }
  return tok;
}

static void encode_decode(const prism_tokenizer *tok, const char *text, size_t len)
{
  size_t n = 0, out_len = 0;
  int32_t *ids;
  char *back;
  if (prism_tokenizer_encode(NULL, 0, &n, tok, text, len, PRISM_TOKENIZER_REPLACE_INVALID))
    return;
  ids = malloc((n + 1) * sizeof *ids);
  if (ids &&
      prism_tokenizer_encode(ids, n, &n, tok, text, len, PRISM_TOKENIZER_REPLACE_INVALID) ==
          PRISM_OK &&
      prism_tokenizer_decode(NULL, 0, &out_len, tok, ids, n, 0) == PRISM_OK &&
      (back = malloc(out_len + 1)) != NULL) {
    if (prism_tokenizer_decode(back, out_len + 1, &out_len, tok, ids, n,
                               PRISM_TOKENIZER_SKIP_SPECIAL | PRISM_TOKENIZER_CLEAN_UP_SPACES))
      abort();
    free(back);
  }
  free(ids);
}

static void decode_ids(const prism_tokenizer *tok, const uint8_t *data, size_t size)
{
  size_t n = size / 4, len = 0;
  int32_t *ids = malloc((n + 1) * sizeof *ids);
  char *text;
  if (!ids)
    return;
  memcpy(ids, data, n * 4);
  for (size_t i = 0; i < n; i++)
    ids[i] = (int32_t)((uint32_t)ids[i] % 50300u);
  if (prism_tokenizer_decode(NULL, 0, &len, tok, ids, n, 0) == PRISM_OK &&
      (text = malloc(len + 1)) != NULL) {
    if (prism_tokenizer_decode(text, len + 1, &len, tok, ids, n, 0) != PRISM_OK)
      abort();
    free(text);
  }
  free(ids);
}

static void load(const uint8_t *data, size_t size, int json)
{
  prism_tokenizer *tok = NULL;
  const uint8_t *nul = memchr(data, 0, size);
  size_t vlen = nul ? (size_t)(nul - data) : size;
  int rc = json ? prism_tokenizer_load_json_memory(&tok, data, size, NULL)
                : prism_tokenizer_load_memory(&tok, data, vlen, nul ? nul + 1 : NULL,
                                              nul ? size - vlen - 1 : 0, NULL);
  if (rc == PRISM_OK) {
    encode_decode(tok, "ab <mask> \xc3\xa9 12'll", 18);
    prism_tokenizer_free(tok);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  switch (data[0] % 4) {
  case 0:
    encode_decode(bart(), (const char *)data + 1, size - 1);
    break;
  case 1:
    decode_ids(bart(), data + 1, size - 1);
    break;
  case 2:
    load(data + 1, size - 1, 0);
    break;
  default:
    load(data + 1, size - 1, 1);
    break;
  }
  return 0;
}
