/* Ranker model files (safetensors with the ranker's tensors and metadata) through prism_ranker_load. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  prism_ranker *ranker;
  int32_t items[8];
  float scores[8];
  size_t n;
  if (prism_ranker_load(&ranker, fuzz_scratch_file(data, size, ".safetensors")) != PRISM_OK)
    return 0;
  for (int32_t u = 0; u < prism_ranker_num_users(ranker) && u < 4; u++)
    (void)prism_ranker_recommend(items, scores, &n, ranker, u, 8, NULL);
  prism_ranker_free(ranker);
  return 0;
}
