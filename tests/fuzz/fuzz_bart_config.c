/*
 * config.json and generation_config.json (split at the first NUL byte) through
 * the BART loader, with the tiny fixture checkpoint as weights: a config that
 * contradicts them must be refused, one that agrees must load and run.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const uint8_t *weights;
  static size_t weights_len;
  const uint8_t *gen;
  size_t config_len, gen_len;
  prism_bart *model;
  prism_bart_info info;
  if (!weights)
    weights = fuzz_fixture("tiny-bart/model.safetensors", &weights_len);
  fuzz_split(data, size, &config_len, &gen, &gen_len);
  if (prism_bart_load_memory(&model, (const char *)data, config_len, weights, weights_len,
                             gen_len ? (const char *)gen : NULL, gen_len, NULL) != PRISM_OK)
    return 0;
  info.struct_size = sizeof info;
  if (prism_bart_get_info(&info, model) != PRISM_OK)
    __builtin_trap();
  prism_bart_free(model);
  return 0;
}
