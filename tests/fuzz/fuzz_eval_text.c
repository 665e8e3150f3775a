/*
 * One input line of `prism eval-text` (examples/prism/eval_text_input.c) in
 * both modes, and a parsed row into the accumulators as the command feeds it.
 */
#include <stdlib.h>

#include "../../examples/prism/eval_text_input.h"
#include "fuzz_common.h"

static const char *const titles[] = { "The Glass Road", "The Glass", "Winter Hours",
                                      "Caf\xc3\xa9 Noir" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *const features[] = { "road", "glass", "quiet" };
  prism_metrics_params p;
  prism_metrics *m = NULL;
  prism_faithfulness *f = NULL;
  eval_text_row row;
  char err[256];

  prism_metrics_params_init(&p, sizeof p);
  p.feature_set = features;
  p.feature_set_count = 3;
  if (prism_metrics_create(&m, &p) != PRISM_OK ||
      prism_faithfulness_create(&f, titles, sizeof titles / sizeof titles[0]) != PRISM_OK)
    __builtin_trap();
  for (int faithfulness = 0; faithfulness < 2; faithfulness++) {
    int rc = eval_text_parse(&row, (const char *)data, size, faithfulness, err, sizeof err);
    if (rc == EVAL_TEXT_BAD && !err[0])
      __builtin_trap(); /* a bad line always says why */
    if (rc != EVAL_TEXT_ROW)
      continue;
    if (!row.hypothesis || (!faithfulness && !row.reference))
      __builtin_trap();
    if (row.reference &&
        prism_metrics_add(m, row.reference, row.hypothesis, row.feature) != PRISM_OK)
      __builtin_trap(); /* JSON strings are valid UTF-8 */
    if (faithfulness)
      prism_faithfulness_add(NULL, NULL, 0, f, row.hypothesis, row.item, row.grounded,
                             row.grounded_count);
    eval_text_row_free(&row);
  }
  prism_metrics_free(m);
  prism_faithfulness_free(f);
  return 0;
}
