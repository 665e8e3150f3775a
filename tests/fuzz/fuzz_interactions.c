/*
 * Interaction files through prism_interactions_load / _load_memory. The first
 * byte chooses the params (separator, header mode, whether the second byte
 * chooses columns, file or memory); the rest is the file, text or gzip.
 */
#include <math.h>
#include <string.h>

#include "fuzz_common.h"

static const char *const separators[8] = { NULL, "\t", ",", "::", ";", " ", "|", NULL };

/* Columns from a byte: user and item in 0..3 (distinct), value and timestamp in -1..2. */
static void choose_columns(prism_interactions_load_params *p, uint8_t b)
{
  p->user_column = b & 3;
  p->item_column = (b >> 2) & 3;
  if (p->item_column == p->user_column)
    p->item_column = (p->user_column + 1) & 3;
  p->value_column = ((b >> 4) & 3) - 1;
  p->timestamp_column = ((b >> 6) & 3) - 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  prism_interactions_load_params p;
  prism_interactions *d;
  int rc;
  if (size < 1)
    return 0;
  uint8_t opt = data[0];
  data++;
  size--;
  prism_interactions_load_params_init(&p, sizeof p);
  p.separator = separators[opt & 7];
  p.header = ((opt >> 3) & 3) % 3;
  if ((opt & 0x20) && size > 0) {
    choose_columns(&p, data[0]);
    data++;
    size--;
  }
  if (opt & 0x40)
    rc = prism_interactions_load(&d, fuzz_scratch_file(data, size, ".tsv"), &p);
  else
    rc = prism_interactions_load_memory(&d, data, size, "fuzz", &p);
  if (rc != PRISM_OK)
    return 0;
  for (size_t i = 0; i < prism_interactions_count(d) && i < 16; i++) {
    int32_t user, item;
    float value;
    int32_t found;
    double t = prism_interactions_timestamp(d, i);
    if (prism_interactions_get(&user, &item, &value, d, i) != PRISM_OK ||
        prism_interactions_find_user(&found, d, prism_interactions_user_id(d, user)) != PRISM_OK ||
        found != user || !isfinite(value) || isinf(t))
      __builtin_trap();
  }
  prism_interactions_free(d);
  return 0;
}
