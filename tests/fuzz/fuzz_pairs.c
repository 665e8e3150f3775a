/*
 * Training pairs (JSON Lines) through prism_pairs_parse. The first byte picks
 * the options: bit 0 micro-batches, bit 1 truncate, bit 2 with the BART
 * tokenizer (text pairs), bits 3-4 a length limit of 0, 4, 16 or 64 tokens.
 */
#include <stdlib.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const uint32_t limits[4] = { 0, 4, 16, 64 };
  prism_pairs_params p;
  prism_pairs *pairs = NULL;
  uint8_t opts;
  if (size < 1)
    return 0;
  opts = data[0];
  prism_pairs_params_init(&p, sizeof p);
  p.format = opts & 1 ? PRISM_PAIRS_BATCHES : PRISM_PAIRS_PAIRS;
  p.truncate = (opts >> 1) & 1;
  p.max_source_len = p.max_target_len = limits[(opts >> 3) & 3];
  if (prism_pairs_parse(&pairs, (const char *)data + 1, size - 1, "fuzz",
                        opts & 4 ? fuzz_bart_tokenizer() : NULL, &p) != PRISM_OK) {
    if (pairs) /* a failed parse returns nothing */
      __builtin_trap();
    return 0;
  }
  if (prism_pairs_truncated(pairs) > prism_pairs_count(pairs) ||
      (!p.truncate && prism_pairs_truncated(pairs)))
    __builtin_trap();
  prism_pairs_free(pairs);
  return 0;
}
