/*
 * A generate request on the tiny fixture model: HF generate() keywords as JSON,
 * a NUL byte, then one byte for the batch size and the input ids as
 * little-endian int32. Whatever the parameters and ids, the run must either
 * fail with a status or return rows of in-vocabulary ids within the result width.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "prism/generate.h"

#define MAX_IDS 64

static prism_bart_session *tiny_session(void)
{
  /* The model uses F32 weights in place: their buffer lives as long as it. */
  static const uint8_t *weights;
  static prism_bart *model;
  static prism_bart_session *session;
  if (!session) {
    size_t c, w, g;
    const uint8_t *config = fuzz_fixture("tiny-bart/config.json", &c);
    const uint8_t *generation;
    weights = fuzz_fixture("tiny-bart/model.safetensors", &w);
    generation = fuzz_fixture("tiny-bart/generation_config.json", &g);
    if (prism_bart_load_memory(&model, (const char *)config, c, weights, w,
                               (const char *)generation, g, NULL) != PRISM_OK ||
        prism_bart_session_create(&session, model, NULL) != PRISM_OK)
      __builtin_trap();
    free((void *)config);
    free((void *)generation);
  }
  return session;
}

static void check_result(const prism_generate_result *r)
{
  size_t rows = prism_generate_result_count(r), width = prism_generate_result_width(r);
  const int32_t *seq = prism_generate_result_sequences(r);
  const int32_t *len = prism_generate_result_lengths(r);
  for (size_t i = 0; i < rows; i++) {
    if (len[i] < 1 || (size_t)len[i] > width)
      __builtin_trap();
    for (int32_t t = 0; t < len[i]; t++)
      if (seq[i * width + (size_t)t] < 0 || seq[i * width + (size_t)t] >= 1000)
        __builtin_trap();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  prism_bart_session *session = tiny_session();
  prism_generate_params params;
  prism_generate_result *result = NULL;
  int32_t ids[MAX_IDS];
  const uint8_t *rest;
  size_t json_len, rest_len, batch, n;

  fuzz_split(data, size, &json_len, &rest, &rest_len);
  prism_generate_params_init(&params, sizeof params);
  if (prism_generate_params_parse(&params, (const char *)data, json_len) != PRISM_OK ||
      rest_len < 1 + sizeof *ids)
    return 0;
  batch = 1 + rest[0] % 3;
  n = (rest_len - 1) / sizeof *ids;
  n = n > MAX_IDS ? MAX_IDS : n;
  n -= n % batch;
  if (n == 0)
    return 0;
  memcpy(ids, rest + 1, n * sizeof *ids);
  if (prism_generate_run(&result, session, ids, NULL, batch, n / batch, &params, NULL, NULL) ==
      PRISM_OK)
    check_result(result);
  prism_generate_result_free(result);
  return 0;
}
