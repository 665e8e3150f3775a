/* Interactions TSV through prism_interactions_load_tsv. */
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  prism_interactions *d;
  if (prism_interactions_load_tsv(&d, fuzz_scratch_file(data, size, ".tsv")) != PRISM_OK)
    return 0;
  for (size_t i = 0; i < prism_interactions_count(d) && i < 16; i++) {
    int32_t user, item;
    float value;
    int32_t found;
    if (prism_interactions_get(&user, &item, &value, d, i) != PRISM_OK ||
        prism_interactions_find_user(&found, d, prism_interactions_user_id(d, user)) != PRISM_OK ||
        found != user)
      __builtin_trap();
  }
  prism_interactions_free(d);
  return 0;
}
