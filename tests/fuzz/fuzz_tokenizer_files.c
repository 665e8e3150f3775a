/* vocab.json and merges.txt (split at the first NUL byte) through the tokenizer loader. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  prism_tokenizer *tok;
  const uint8_t *merges;
  size_t vocab_len, merges_len;
  fuzz_split(data, size, &vocab_len, &merges, &merges_len);
  if (prism_tokenizer_load_memory(&tok, data, vocab_len, merges, merges_len, NULL) != PRISM_OK)
    return 0;
  fuzz_exercise_tokenizer(tok);
  prism_tokenizer_free(tok);
  return 0;
}
