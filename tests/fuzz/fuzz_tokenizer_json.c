/* tokenizer.json through the tokenizer loader. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  prism_tokenizer *tok;
  if (prism_tokenizer_load_json_memory(&tok, data, size, NULL) != PRISM_OK)
    return 0;
  fuzz_exercise_tokenizer(tok);
  prism_tokenizer_free(tok);
  return 0;
}
