/* Helpers shared by the BART suites: reading expected.json arrays, comparing floats. */
#ifndef PRISM_BART_TEST_UTIL_H
#define PRISM_BART_TEST_UTIL_H

#include <jansson.h>
#include <math.h>

#include "../testutil.h"
#include "prism/bart.h"

static inline json_t *load_expected(const char *model)
{
  char rel[256], path[1024];
  json_error_t err;
  json_t *root;
  snprintf(rel, sizeof rel, "%s/expected.json", model);
  root = json_load_file(fixture_path(path, sizeof path, rel), 0, &err);
  if (!root)
    print_error("%s: %s\n", path, err.text);
  assert_non_null(root);
  return root;
}

/* A 2-D JSON array of integers flattened into a new int32 array; rows/cols out. */
static inline int32_t *json_int_matrix(const json_t *array, size_t *rows, size_t *cols)
{
  size_t r, c;
  int32_t *out;
  assert_true(json_is_array(array) && json_array_size(array) > 0);
  *rows = json_array_size(array);
  *cols = json_array_size(json_array_get(array, 0));
  out = calloc(*rows * *cols, sizeof *out);
  assert_non_null(out);
  for (r = 0; r < *rows; r++) {
    const json_t *row = json_array_get(array, r);
    assert_int_equal(json_array_size(row), *cols);
    for (c = 0; c < *cols; c++)
      out[r * *cols + c] = (int32_t)json_integer_value(json_array_get(row, c));
  }
  return out;
}

/* {"shape": [...], "data": [...]} → new float array; *count its length. */
static inline float *json_tensor(const json_t *obj, size_t *count)
{
  const json_t *data = json_object_get(obj, "data");
  float *out;
  assert_true(json_is_array(data));
  *count = json_array_size(data);
  out = malloc(*count * sizeof *out);
  assert_non_null(out);
  for (size_t i = 0; i < *count; i++)
    out[i] = (float)json_number_value(json_array_get(data, i));
  return out;
}

static inline prism_bart_info model_info(const prism_bart *m)
{
  prism_bart_info info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  assert_ok(prism_bart_get_info(&info, m));
  return info;
}

static inline double max_abs_diff(const float *a, const float *b, size_t n)
{
  double worst = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - (double)b[i]);
    if (!(d <= worst))
      worst = d; /* NaN propagates as the worst */
  }
  return worst;
}

#endif
