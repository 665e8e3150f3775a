/* The result of prism_generate_run: sequences, lengths, beam scores and timing. */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/params.h"
#include "generate_internal.h"

#define STATS_V1_SIZE PRISM__LAYOUT_SIZE(prism_generate_stats, rows)

int prism__generate_result_new(prism_generate_result **out, size_t count, size_t width,
                               int with_scores)
{
  prism_generate_result *r = prism__calloc(1, sizeof *r);
  if (!r)
    return PRISM_ERR_NO_MEMORY;
  r->count = count;
  r->width = width;
  r->sequences = prism__mallocn(count, width * sizeof *r->sequences);
  r->lengths = prism__mallocn(count, sizeof *r->lengths);
  if (with_scores)
    r->scores = prism__mallocn(count, sizeof *r->scores);
  if (!r->sequences || !r->lengths || (with_scores && !r->scores)) {
    prism_generate_result_free(r);
    return PRISM_ERR_NO_MEMORY;
  }
  r->stats.struct_size = sizeof r->stats;
  *out = r;
  return PRISM_OK;
}

PRISM_API void prism_generate_result_free(prism_generate_result *result)
{
  if (!result)
    return;
  prism__free(result->sequences);
  prism__free(result->lengths);
  prism__free(result->scores);
  prism__free(result);
}

PRISM_API size_t prism_generate_result_count(const prism_generate_result *result)
{
  return result ? result->count : 0;
}

PRISM_API size_t prism_generate_result_width(const prism_generate_result *result)
{
  return result ? result->width : 0;
}

PRISM_API const int32_t *prism_generate_result_sequences(const prism_generate_result *result)
{
  return result ? result->sequences : NULL;
}

PRISM_API const int32_t *prism_generate_result_lengths(const prism_generate_result *result)
{
  return result ? result->lengths : NULL;
}

PRISM_API const float *prism_generate_result_scores(const prism_generate_result *result)
{
  return result ? result->scores : NULL;
}

PRISM_API int prism_generate_result_stats(prism_generate_stats *stats,
                                          const prism_generate_result *result)
{
  PRISM__CHECK_ARG(result != NULL, "result must not be NULL");
  return PRISM__PARAMS_WRITE(stats, &result->stats, STATS_V1_SIZE, "prism_generate_result_stats");
}
