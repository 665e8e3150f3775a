/*
 * Arbitrary bytes through the BART tokenizer. The first byte picks the flags.
 * Byte-level BPE is lossless, so text that is valid UTF-8 and holds no special
 * token must decode back to itself.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static void check_round_trip(const prism_tokenizer *tok, const char *text, size_t len,
                             const int32_t *ids, size_t n)
{
  size_t back_len;
  char *back;
  if (memchr(text, '<', len))
    return;
  if (prism_tokenizer_decode(NULL, 0, &back_len, tok, ids, n, 0) != PRISM_OK)
    __builtin_trap();
  back = malloc(back_len + 1);
  if (!back || prism_tokenizer_decode(back, back_len + 1, &back_len, tok, ids, n, 0) != PRISM_OK ||
      back_len != len || memcmp(back, text, len) != 0)
    __builtin_trap();
  free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const prism_tokenizer *tok = fuzz_bart_tokenizer();
  unsigned flags;
  const char *text = (const char *)data + 1;
  size_t len, n;
  int32_t *ids;
  int rc;
  if (size == 0)
    return 0;
  flags = data[0] & (PRISM_TOKENIZER_NO_SPECIAL | PRISM_TOKENIZER_REPLACE_INVALID);
  len = size - 1;
  rc = prism_tokenizer_encode(NULL, 0, &n, tok, text, len, flags);
  if (rc != PRISM_OK)
    return 0;
  ids = malloc((n ? n : 1) * sizeof *ids);
  if (!ids || prism_tokenizer_encode(ids, n, &n, tok, text, len, flags) != PRISM_OK)
    __builtin_trap();
  if ((flags & PRISM_TOKENIZER_NO_SPECIAL) && !(flags & PRISM_TOKENIZER_REPLACE_INVALID))
    check_round_trip(tok, text, len, ids, n);
  free(ids);
  return 0;
}
