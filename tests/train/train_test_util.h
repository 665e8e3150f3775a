/* Helpers shared by the training suites: the fixture's runs, pairs from JSON, parameter checks. */
#ifndef PRISM_TRAIN_TEST_UTIL_H
#define PRISM_TRAIN_TEST_UTIL_H

#include <jansson.h>
#include <math.h>

#include "../testutil.h"
#include "bart/bart.h"
#include "common/safetensors.h"
#include "prism/train.h"

static inline json_t *load_json_fixture(const char *rel)
{
  char path[1024];
  json_error_t err;
  json_t *root = json_load_file(fixture_path(path, sizeof path, rel), 0, &err);
  if (!root)
    print_error("%s: %s\n", path, err.text);
  assert_non_null(root);
  return root;
}

/* A 2-D JSON array of integers flattened into a new int32 array. */
static inline int32_t *int_matrix(const json_t *array, size_t *rows, size_t *cols)
{
  int32_t *out;
  *rows = json_array_size(array);
  *cols = json_array_size(json_array_get(array, 0));
  out = calloc(*rows * *cols + 1, sizeof *out);
  assert_non_null(out);
  for (size_t r = 0; r < *rows; r++)
    for (size_t c = 0; c < *cols; c++)
      out[r * *cols + c] = (int32_t)json_integer_value(json_array_get(json_array_get(array, r), c));
  return out;
}

/* The fixture's batches as a PRISM_PAIRS_BATCHES set. */
static inline prism_pairs *fixture_batches(const json_t *run)
{
  prism_pairs_params pp;
  prism_pairs *pairs;
  size_t i;
  json_t *b;
  prism_pairs_params_init(&pp, sizeof pp);
  pp.format = PRISM_PAIRS_BATCHES;
  assert_ok(prism_pairs_create(&pairs, &pp));
  json_array_foreach(json_object_get(run, "batches"), i, b)
  {
    size_t rows, src, lrows, tgt;
    int32_t *ids = int_matrix(json_object_get(b, "input_ids"), &rows, &src);
    int32_t *labels = int_matrix(json_object_get(b, "labels"), &lrows, &tgt);
    assert_ok(prism_pairs_add_batch(pairs, ids, NULL, rows, src, labels, tgt));
    free(ids);
    free(labels);
  }
  return pairs;
}

/*
 * The largest |a - b| over every parameter of `m` against a safetensors of HF
 * names; parameters whose name ends with `apart` (NULL: none) go to *apart_max instead.
 */
static inline double max_param_diff(const prism_bart *m, const char *st_path, const char *apart,
                                    const char **worst, double *apart_max)
{
  prism__st_file f;
  size_t n;
  const prism__bart_param *ps = prism__bart_params(m, &n);
  const float *w = prism__bart_arena(m, NULL);
  double max = 0.0;
  assert_ok(prism__st_open(st_path, 0, &f));
  for (size_t i = 0; i < n; i++) {
    const prism__st_tensor *t = prism__st_find(&f, ps[i].name);
    size_t len = strlen(ps[i].name);
    int aside =
        apart && len >= strlen(apart) && strcmp(ps[i].name + len - strlen(apart), apart) == 0;
    float *want;
    if (!t)
      fail_msg("%s has no tensor %s", st_path, ps[i].name);
    assert_int_equal(t->numel, ps[i].count);
    want = malloc(ps[i].count * sizeof *want);
    assert_ok(prism__st_to_f32(t, want));
    for (size_t k = 0; k < ps[i].count; k++) {
      double d = fabs((double)want[k] - w[ps[i].offset + k]);
      if (aside)
        *apart_max = fmax(*apart_max, d);
      else if (!(d <= max)) {
        max = d;
        *worst = ps[i].name;
      }
    }
    free(want);
  }
  prism__st_close(&f);
  return max;
}

#endif
