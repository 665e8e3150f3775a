/* A catalog TSV through prism_faithfulness_load_catalog, then its own text as an explanation. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  prism_faithfulness *f;
  prism_faithfulness_sample s = { .struct_size = sizeof s };
  prism_faithfulness_result r = { .struct_size = sizeof r };
  size_t titles[4];
  char *text;
  if (prism_faithfulness_load_catalog(&f, fuzz_scratch_file(data, size, ".tsv")) != PRISM_OK)
    return 0;
  if (prism_faithfulness_title_count(f) == 0) {
    prism_faithfulness_free(f);
    return 0;
  }
  text = malloc(size + 1);
  memcpy(text, data, size);
  text[size] = 0;
  for (size_t i = 0; i < size; i++)
    if (!text[i])
      text[i] = ' ';
  if (prism_faithfulness_add(&s, titles, 4, f, text, prism_faithfulness_title(f, 0), NULL, 0) ==
          PRISM_OK &&
      (prism_faithfulness_finish(&r, f) != PRISM_OK || r.count != 1 ||
       s.titles_grounded > s.titles_named))
    __builtin_trap();
  free(text);
  prism_faithfulness_free(f);
  return 0;
}
