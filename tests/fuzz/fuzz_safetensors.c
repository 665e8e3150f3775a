/*
 * safetensors images: whatever prism__st_parse accepts must be safe to walk,
 * so every accepted tensor is converted (reading all its bytes) and every
 * metadata string is measured.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "common/alloc.h"
#include "common/safetensors.h"

static void walk(const prism__st_file *f)
{
  volatile size_t sink = 0;
  for (size_t i = 0; i < f->count; i++) {
    const prism__st_tensor *t = &f->tensors[i];
    float *out;
    if (prism__st_find(f, t->name) != t)
      __builtin_trap();
    if (t->dtype != PRISM__ST_F32 && t->dtype != PRISM__ST_F16 && t->dtype != PRISM__ST_BF16)
      continue;
    out = prism__mallocn(t->numel ? (size_t)t->numel : 1, sizeof *out);
    if (out && prism__st_to_f32(t, out) == 0 && t->numel)
      sink += out[t->numel - 1] != 0.0f;
    prism__free(out);
  }
  for (size_t i = 0; i < f->metadata_count; i++)
    sink += strlen(f->metadata[i].key) + strlen(f->metadata[i].value);
  (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  prism__st_file f;
  if (prism__st_parse(data, size, "fuzz.safetensors", &f) != 0)
    return 0;
  walk(&f);
  prism__st_close(&f);
  return 0;
}
