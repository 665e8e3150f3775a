/*
 * A catalog TSV through prism_catalog_load_tsv, then through a pipeline
 * without a model: every item found again by id, and prompts rendered from the
 * fuzzed titles and features for a small fixed ranker.
 */
#include <string.h>

#include "fuzz_common.h"

static const prism_ranker *small_ranker(prism_interactions **data)
{
  static prism_ranker *ranker;
  static prism_interactions *d;
  static const char *const rows[][2] = { { "u1", "b01" }, { "u1", "b02" }, { "u2", "b02" },
                                         { "u2", "b03" }, { "u3", "1" },   { "u3", "b01" } };
  if (!ranker) {
    prism_ranker_params p;
    prism_ranker_params_init(&p, sizeof p);
    p.factors = 2;
    p.iterations = 2;
    if (prism_interactions_create(&d) != PRISM_OK)
      __builtin_trap();
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
      if (prism_interactions_add_timed(d, rows[i][0], rows[i][1], 1.0f, (double)(10 - i)) !=
          PRISM_OK)
        __builtin_trap();
    if (prism_ranker_train(&ranker, d, &p) != PRISM_OK)
      __builtin_trap();
  }
  *data = d;
  return ranker;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *const users[] = { "u1", "u2", "u3", "nobody" };
  prism_interactions *histories;
  const prism_ranker *ranker = small_ranker(&histories);
  prism_catalog *c = NULL;
  prism_pipeline *p = NULL;
  prism_pipeline_result *r = NULL;
  if (prism_catalog_load_tsv(&c, fuzz_scratch_file(data, size, ".tsv"), NULL) != PRISM_OK)
    return 0;
  for (size_t i = 0; i < prism_catalog_count(c); i++) {
    const char *id;
    prism_prompt_item it, found;
    if (prism_catalog_get(&id, &it, c, i) != PRISM_OK ||
        prism_catalog_find(&found, c, id) != PRISM_OK || strcmp(found.title, it.title) != 0 ||
        !*it.title)
      __builtin_trap();
  }
  if (prism_pipeline_create(&p, ranker, c, histories, NULL, NULL) == PRISM_OK &&
      prism_pipeline_run(&r, p, users, 4, NULL) == PRISM_OK) {
    prism_pipeline_user u = { .struct_size = sizeof u };
    if (prism_pipeline_result_count(r) != 4 || prism_pipeline_result_user(&u, r, 3) != PRISM_OK ||
        u.status != PRISM_ERR_NOT_FOUND)
      __builtin_trap();
  }
  prism_pipeline_result_free(r);
  prism_pipeline_free(p);
  prism_catalog_free(c);
  return 0;
}
