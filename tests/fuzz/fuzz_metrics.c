/*
 * The metrics accumulators on arbitrary bytes: byte 0 holds the options (bit 0
 * PEPLER tokenisation, bit 1 lower-casing), then NUL-separated fields: the
 * feature set (one word per line), then (reference, hypothesis, feature)
 * triples. The feature-set lines are also a catalog of titles, and each
 * hypothesis is checked for the titles it names.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

enum { MAX_FIELDS = 64 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *copy, *field[MAX_FIELDS], *words[MAX_FIELDS];
  size_t nfield = 0, nwords = 0;
  prism_metrics_params p;
  prism_metrics *m = NULL;
  prism_faithfulness *f = NULL;
  prism_metrics_result r = { .struct_size = sizeof r };
  if (size < 1)
    return 0;
  copy = malloc(size + 1);
  memcpy(copy, data + 1, size - 1);
  copy[size - 1] = 0;
  for (char *s = copy; nfield < MAX_FIELDS;) {
    field[nfield++] = s;
    s += strlen(s) + 1;
    if (s > copy + size - 1)
      break;
  }
  for (char *line = strtok(field[0], "\n"); line && nwords < MAX_FIELDS; line = strtok(NULL, "\n"))
    words[nwords++] = line;

  prism_metrics_params_init(&p, sizeof p);
  p.tokenize = data[0] & 1 ? PRISM_METRICS_TOKENIZE_PEPLER : PRISM_METRICS_TOKENIZE_WHITESPACE;
  p.lowercase = (data[0] & 2) != 0;
  p.feature_set = (const char *const *)words;
  p.feature_set_count = nwords;
  if (prism_metrics_create(&m, &p) == PRISM_OK) {
    for (size_t i = 1; i + 1 < nfield; i += 3)
      prism_metrics_add(m, field[i], field[i + 1], i + 2 < nfield ? field[i + 2] : NULL);
    if (prism_metrics_finish(&r, m) == PRISM_OK && (r.usn > r.count || r.usr > 1.0))
      __builtin_trap();
  }
  prism_metrics_free(m);

  if (nwords && prism_faithfulness_create(&f, (const char *const *)words, nwords) == PRISM_OK) {
    size_t titles[8];
    prism_faithfulness_sample s = { .struct_size = sizeof s };
    for (size_t i = 2; i < nfield; i += 3)
      if (prism_faithfulness_add(&s, titles, 8, f, field[i], prism_faithfulness_title(f, 0),
                                 (const char *const *)words, nwords) == PRISM_OK &&
          (s.titles_grounded > s.titles_named || s.hallucinated))
        __builtin_trap(); /* every title is shown: nothing can be ungrounded */
  }
  prism_faithfulness_free(f);
  free(copy);
  return 0;
}
