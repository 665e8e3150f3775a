/* Arbitrary ids (little-endian int32 after a flags byte) through the BART tokenizer's decoder. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const prism_tokenizer *tok = fuzz_bart_tokenizer();
  size_t n, len, len2;
  int32_t *ids;
  char *text;
  unsigned flags;
  if (size == 0)
    return 0;
  flags = data[0] & (PRISM_TOKENIZER_SKIP_SPECIAL | PRISM_TOKENIZER_CLEAN_UP_SPACES);
  n = (size - 1) / sizeof *ids;
  ids = malloc((n ? n : 1) * sizeof *ids);
  if (!ids)
    return 0;
  memcpy(ids, data + 1, n * sizeof *ids);
  if (prism_tokenizer_decode(NULL, 0, &len, tok, ids, n, flags) == PRISM_OK) {
    text = malloc(len + 1);
    if (!text || prism_tokenizer_decode(text, len + 1, &len2, tok, ids, n, flags) != PRISM_OK ||
        len2 != len || text[len] != '\0')
      __builtin_trap();
    free(text);
  }
  free(ids);
  return 0;
}
