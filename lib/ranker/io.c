/*
 * Ranker model files: safetensors with
 *   user_factors F32 [U, F], item_factors F32 [I, F],
 *   user_bias F32 [U] (mf), item_bias F32 [I] (bpr, mf),
 *   seen_indptr I64 [U + 1], seen_indices I32 [nnz], seen_values F32 [nnz]
 * and __metadata__ strings: format "prism-ranker", format_version "1",
 * algorithm, factors, users, items, the hyperparameters, global_bias and,
 * when the model has them, user_ids / item_ids as JSON arrays of strings.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/json.h"
#include "common/safetensors.h"
#include "ranker_internal.h"

#define FORMAT_NAME "prism-ranker"
#define FORMAT_VERSION "1"
#define MAX_META 24

static const char *const algorithm_names[] = { "als", "bpr", "mf" };

/* ---- save ---- */

typedef struct meta_out {
  prism__st_metadata kv[MAX_META];
  char *owned[MAX_META];
  size_t n;
} meta_out;

static int meta_add(meta_out *m, const char *key, char *value)
{
  if (!value)
    return PRISM_ERR_NO_MEMORY;
  m->kv[m->n].key = key;
  m->kv[m->n].value = value;
  m->owned[m->n++] = value;
  return PRISM_OK;
}

static int meta_int(meta_out *m, const char *key, long v)
{
  char buf[32];
  snprintf(buf, sizeof buf, "%ld", v);
  return meta_add(m, key, prism__strdup(buf));
}

/* %.9g round-trips every float. */
static int meta_real(meta_out *m, const char *key, float v)
{
  char buf[32];
  snprintf(buf, sizeof buf, "%.9g", (double)v);
  return meta_add(m, key, prism__strdup(buf));
}

/* JSON array of the ids; jansson's allocation is outside the failure hooks, so copy it. */
static char *ids_json(const prism__idmap *ids)
{
  json_t *a = json_array();
  for (int32_t i = 0; a && i < ids->count; i++)
    if (json_array_append_new(a, json_string(ids->names[i])) != 0) {
      json_decref(a);
      a = NULL;
    }
  char *s = a ? json_dumps(a, JSON_COMPACT) : NULL;
  json_decref(a);
  if (!s) {
    prism__error(PRISM_ERR_NO_MEMORY, "out of memory writing the ids as JSON");
    return NULL;
  }
  char *copy = prism__strdup(s);
  free(s);
  return copy;
}

static int build_meta(const prism_ranker *r, meta_out *m)
{
  const prism__ranker_hyper *hp = &r->hp;
  int rc = meta_add(m, "format", prism__strdup(FORMAT_NAME));
  if (rc == PRISM_OK)
    rc = meta_add(m, "format_version", prism__strdup(FORMAT_VERSION));
  if (rc == PRISM_OK)
    rc = meta_add(m, "algorithm", prism__strdup(algorithm_names[hp->algorithm]));
  if (rc == PRISM_OK)
    rc = meta_int(m, "factors", hp->factors);
  if (rc == PRISM_OK)
    rc = meta_int(m, "users", r->num_users);
  if (rc == PRISM_OK)
    rc = meta_int(m, "items", r->num_items);
  if (rc == PRISM_OK)
    rc = meta_int(m, "iterations", hp->iterations);
  if (rc == PRISM_OK)
    rc = meta_int(m, "cg_steps", hp->cg_steps);
  if (rc == PRISM_OK)
    rc = meta_real(m, "regularization", hp->regularization);
  if (rc == PRISM_OK)
    rc = meta_real(m, "alpha", hp->alpha);
  if (rc == PRISM_OK)
    rc = meta_real(m, "learning_rate", hp->learning_rate);
  if (rc == PRISM_OK)
    rc = meta_real(m, "rating_min", hp->rating_min);
  if (rc == PRISM_OK)
    rc = meta_real(m, "rating_max", hp->rating_max);
  if (rc == PRISM_OK)
    rc = meta_real(m, "global_bias", r->global_bias);
  if (rc == PRISM_OK) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, hp->seed);
    rc = meta_add(m, "seed", prism__strdup(buf));
  }
  if (rc == PRISM_OK && r->has_ids) {
    rc = meta_add(m, "user_ids", ids_json(&r->user_ids));
    if (rc == PRISM_OK)
      rc = meta_add(m, "item_ids", ids_json(&r->item_ids));
  }
  return rc;
}

static prism__st_out tensor(const char *name, prism__st_dtype dtype, uint64_t d0, uint64_t d1,
                            const void *data)
{
  prism__st_out t = { name, dtype, d1 ? 2 : 1, { d0, d1 }, data };
  return t;
}

static int save(const prism_ranker *r, const char *path)
{
  uint64_t U = (uint64_t)r->num_users, I = (uint64_t)r->num_items, F = (uint64_t)r->hp.factors;
  uint64_t nnz = (uint64_t)r->seen.ptr[r->num_users];
  prism__st_out t[7];
  size_t n = 0;
  t[n++] = tensor("user_factors", PRISM__ST_F32, U, F, r->user_factors);
  t[n++] = tensor("item_factors", PRISM__ST_F32, I, F, r->item_factors);
  if (r->user_bias)
    t[n++] = tensor("user_bias", PRISM__ST_F32, U, 0, r->user_bias);
  if (r->item_bias)
    t[n++] = tensor("item_bias", PRISM__ST_F32, I, 0, r->item_bias);
  t[n++] = tensor("seen_indptr", PRISM__ST_I64, U + 1, 0, r->seen.ptr);
  t[n++] = tensor("seen_indices", PRISM__ST_I32, nnz, 0, r->seen.index);
  t[n++] = tensor("seen_values", PRISM__ST_F32, nnz, 0, r->seen.value);
  meta_out m = { 0 };
  int rc = build_meta(r, &m);
  if (rc == PRISM_OK)
    rc = prism__st_write(path, t, n, m.kv, m.n);
  for (size_t i = 0; i < m.n; i++)
    prism__free(m.owned[i]);
  return rc;
}

int prism_ranker_save(const prism_ranker *ranker, const char *path)
{
  PRISM__CHECK_ARG(ranker != NULL, "ranker must not be NULL");
  PRISM__CHECK_ARG(path != NULL, "path must not be NULL");
  return prism__error_at(__func__, save(ranker, path));
}

/* ---- load ---- */

static int meta_str(const prism__st_file *f, const char *key, const char **out)
{
  *out = prism__st_meta(f, key);
  if (!*out)
    return prism__error(PRISM_ERR_FORMAT, "%s: __metadata__ lacks \"%s\"", f->what, key);
  return PRISM_OK;
}

static int meta_long(const prism__st_file *f, const char *key, long lo, long hi, long *out)
{
  const char *s;
  char *end;
  int rc = meta_str(f, key, &s);
  if (rc != PRISM_OK)
    return rc;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (end == s || *end || errno || v < lo || v > hi)
    return prism__error(PRISM_ERR_FORMAT,
                        "%s: __metadata__ \"%s\" = \"%s\" is not an integer in [%ld, %ld]", f->what,
                        key, s, lo, hi);
  *out = v;
  return PRISM_OK;
}

static int meta_float(const prism__st_file *f, const char *key, float *out)
{
  const char *s;
  char *end;
  int rc = meta_str(f, key, &s);
  if (rc != PRISM_OK)
    return rc;
  double v = strtod(s, &end);
  if (end == s || *end || !isfinite(v) || fabs(v) > 3.0e38)
    return prism__error(PRISM_ERR_FORMAT, "%s: __metadata__ \"%s\" = \"%s\" is not a finite number",
                        f->what, key, s);
  *out = (float)v;
  return PRISM_OK;
}

static int meta_hyper(const prism__st_file *f, prism__ranker_hyper *hp, int32_t *users,
                      int32_t *items)
{
  const char *s;
  long v[6];
  int rc = meta_str(f, "format", &s);
  if (rc == PRISM_OK && strcmp(s, FORMAT_NAME) != 0)
    rc = prism__error(PRISM_ERR_FORMAT, "%s: format \"%s\" is not \"%s\"", f->what, s, FORMAT_NAME);
  if (rc == PRISM_OK)
    rc = meta_str(f, "format_version", &s);
  if (rc == PRISM_OK && strcmp(s, FORMAT_VERSION) != 0)
    rc =
        prism__error(PRISM_ERR_UNSUPPORTED, "%s: format_version \"%s\" (this library reads \"%s\")",
                     f->what, s, FORMAT_VERSION);
  if (rc == PRISM_OK)
    rc = meta_str(f, "algorithm", &s);
  hp->algorithm = -1;
  for (int a = 0; rc == PRISM_OK && a < 3; a++)
    if (strcmp(s, algorithm_names[a]) == 0)
      hp->algorithm = a;
  if (rc == PRISM_OK && hp->algorithm < 0)
    rc = prism__error(PRISM_ERR_FORMAT, "%s: unknown algorithm \"%s\"", f->what, s);
  if (rc == PRISM_OK)
    rc = meta_long(f, "factors", 1, PRISM__RANKER_MAX_FACTORS, &v[0]);
  if (rc == PRISM_OK)
    rc = meta_long(f, "users", 1, INT32_MAX - 1, &v[1]);
  if (rc == PRISM_OK)
    rc = meta_long(f, "items", 1, INT32_MAX - 1, &v[2]);
  if (rc == PRISM_OK)
    rc = meta_long(f, "iterations", 1, 1000000, &v[3]);
  if (rc == PRISM_OK)
    rc = meta_long(f, "cg_steps", 1, 1000, &v[4]);
  if (rc == PRISM_OK)
    rc = meta_float(f, "regularization", &hp->regularization);
  if (rc == PRISM_OK)
    rc = meta_float(f, "alpha", &hp->alpha);
  if (rc == PRISM_OK)
    rc = meta_float(f, "learning_rate", &hp->learning_rate);
  if (rc == PRISM_OK)
    rc = meta_float(f, "rating_min", &hp->rating_min);
  if (rc == PRISM_OK)
    rc = meta_float(f, "rating_max", &hp->rating_max);
  if (rc == PRISM_OK)
    rc = meta_str(f, "seed", &s);
  if (rc != PRISM_OK)
    return rc;
  char *end;
  errno = 0;
  hp->seed = strtoull(s, &end, 10);
  if (end == s || *end || errno)
    return prism__error(PRISM_ERR_FORMAT, "%s: __metadata__ \"seed\" = \"%s\" is not an integer",
                        f->what, s);
  hp->factors = (int)v[0];
  *users = (int32_t)v[1];
  *items = (int32_t)v[2];
  hp->iterations = (int)v[3];
  hp->cg_steps = (int)v[4];
  return PRISM_OK;
}

/* The tensor `name` with this dtype and shape (d1 0: one dimension). */
static int want(const prism__st_file *f, const char *name, prism__st_dtype dtype, uint64_t d0,
                uint64_t d1, const prism__st_tensor **out)
{
  const prism__st_tensor *t = prism__st_find(f, name);
  int ndim = d1 ? 2 : 1;
  if (!t)
    return prism__error(PRISM_ERR_FORMAT, "%s: tensor %s is missing", f->what, name);
  if (t->dtype != dtype)
    return prism__error(PRISM_ERR_FORMAT, "%s: tensor %s has dtype %s, expected %s", f->what, name,
                        prism__st_dtype_name(t->dtype), prism__st_dtype_name(dtype));
  if (t->ndim != ndim || t->shape[0] != d0 || (d1 && t->shape[1] != d1)) {
    char got[64], exp[64];
    int n = snprintf(got, sizeof got, "[%" PRIu64, t->ndim ? t->shape[0] : 0);
    for (int k = 1; k < t->ndim && n > 0 && (size_t)n < sizeof got; k++)
      n += snprintf(got + n, sizeof got - (size_t)n, ", %" PRIu64, t->shape[k]);
    if (n > 0 && (size_t)n < sizeof got)
      snprintf(got + n, sizeof got - (size_t)n, "]");
    if (d1)
      snprintf(exp, sizeof exp, "[%" PRIu64 ", %" PRIu64 "]", d0, d1);
    else
      snprintf(exp, sizeof exp, "[%" PRIu64 "]", d0);
    return prism__error(PRISM_ERR_FORMAT,
                        "%s: tensor %s has shape %s, expected %s from __metadata__", f->what, name,
                        got, exp);
  }
  *out = t;
  return PRISM_OK;
}

static int load_f32(const prism__st_file *f, const char *name, uint64_t d0, uint64_t d1, float *dst)
{
  const prism__st_tensor *t;
  int rc = want(f, name, PRISM__ST_F32, d0, d1, &t);
  return rc == PRISM_OK ? prism__st_to_f32(t, dst) : rc;
}

static int load_seen(const prism__st_file *f, prism_ranker *r)
{
  const prism__st_tensor *ptr, *idx;
  int rc = want(f, "seen_indptr", PRISM__ST_I64, (uint64_t)r->num_users + 1, 0, &ptr);
  if (rc != PRISM_OK)
    return rc;
  int64_t nnz;
  memcpy(&nnz, ptr->data + (size_t)r->num_users * sizeof nnz, sizeof nnz);
  if (nnz < 0 || (uint64_t)nnz > (uint64_t)r->num_users * (uint64_t)r->num_items)
    return prism__error(PRISM_ERR_FORMAT,
                        "%s: seen_indptr ends at %lld, which is not a count of seen (user, item) "
                        "pairs",
                        f->what, (long long)nnz);
  rc = want(f, "seen_indices", PRISM__ST_I32, (uint64_t)nnz, 0, &idx);
  if (rc != PRISM_OK)
    return rc;
  r->seen.rows = r->num_users;
  r->seen.cols = r->num_items;
  r->seen.ptr = prism__mallocn((size_t)r->num_users + 1, sizeof *r->seen.ptr);
  r->seen.index = prism__mallocn(nnz ? (size_t)nnz : 1, sizeof *r->seen.index);
  r->seen.value = prism__mallocn(nnz ? (size_t)nnz : 1, sizeof *r->seen.value);
  if (!r->seen.ptr || !r->seen.index || !r->seen.value)
    return PRISM_ERR_NO_MEMORY;
  memcpy(r->seen.ptr, ptr->data, ptr->nbytes);
  memcpy(r->seen.index, idx->data, idx->nbytes);
  rc = load_f32(f, "seen_values", (uint64_t)nnz, 0, r->seen.value);
  if (rc == PRISM_OK &&
      prism__ranker_csr_check(r->num_users, r->num_items, r->seen.ptr, r->seen.index, r->seen.value,
                              "the seen matrix") != PRISM_OK)
    rc = prism__error_prefix("%s: ", f->what);
  return rc;
}

static int load_ids(const prism__st_file *f, const char *key, int32_t count, prism__idmap *m)
{
  const char *s;
  json_t *a = NULL;
  int rc = meta_str(f, key, &s);
  if (rc != PRISM_OK)
    return rc;
  if (prism__json_parse(s, strlen(s), 0, key, &a) != PRISM_OK)
    return prism__error_prefix("%s: __metadata__ ", f->what);
  if (!json_is_array(a) || json_array_size(a) != (size_t)count)
    rc = prism__error(PRISM_ERR_FORMAT, "%s: %s is not an array of %d ids", f->what, key, count);
  for (int32_t i = 0; rc == PRISM_OK && i < count; i++) {
    const char *id = json_string_value(json_array_get(a, (size_t)i));
    int32_t got;
    if (!id || !*id || strpbrk(id, "\t\r\n"))
      rc = prism__error(PRISM_ERR_FORMAT,
                        "%s: %s[%d] is not a non-empty string without tabs or newlines", f->what,
                        key, i);
    else if ((rc = prism__idmap_intern(m, id, &got)) == PRISM_OK && got != i)
      rc = prism__error(PRISM_ERR_FORMAT, "%s: %s[%d] \"%s\" repeats %s[%d]", f->what, key, i, id,
                        key, got);
  }
  json_decref(a);
  return rc;
}

static int load_tensors(const prism__st_file *f, prism_ranker *r)
{
  uint64_t U = (uint64_t)r->num_users, I = (uint64_t)r->num_items, F = (uint64_t)r->hp.factors;
  int rc = load_f32(f, "user_factors", U, F, r->user_factors);
  if (rc == PRISM_OK)
    rc = load_f32(f, "item_factors", I, F, r->item_factors);
  if (rc == PRISM_OK && r->user_bias)
    rc = load_f32(f, "user_bias", U, 0, r->user_bias);
  if (rc == PRISM_OK && r->item_bias)
    rc = load_f32(f, "item_bias", I, 0, r->item_bias);
  if (rc == PRISM_OK)
    rc = load_seen(f, r);
  if (rc == PRISM_OK && prism__st_meta(f, "user_ids")) {
    r->has_ids = 1;
    rc = load_ids(f, "user_ids", r->num_users, &r->user_ids);
    if (rc == PRISM_OK)
      rc = load_ids(f, "item_ids", r->num_items, &r->item_ids);
  }
  if (rc == PRISM_OK && r->hp.algorithm == PRISM_RANKER_MF)
    rc = meta_float(f, "global_bias", &r->global_bias);
  return rc == PRISM_OK ? prism__ranker_finish(r, f->what) : rc;
}

static int load(prism_ranker **out, const char *path)
{
  prism__st_file f;
  prism__ranker_hyper hp;
  int32_t users = 0, items = 0;
  prism_ranker *r = NULL;
  int rc = prism__st_open(path, 0, &f);
  if (rc != PRISM_OK)
    return rc;
  rc = meta_hyper(&f, &hp, &users, &items);
  if (rc == PRISM_OK && prism__ranker_check_hyper(&hp, PRISM_ERR_FORMAT) != PRISM_OK)
    rc = prism__error_prefix("%s: __metadata__: ", f.what);
  /* Shapes before allocation: metadata alone must not size an allocation. */
  const prism__st_tensor *t;
  if (rc == PRISM_OK)
    rc = want(&f, "user_factors", PRISM__ST_F32, (uint64_t)users, (uint64_t)hp.factors, &t);
  if (rc == PRISM_OK)
    rc = want(&f, "item_factors", PRISM__ST_F32, (uint64_t)items, (uint64_t)hp.factors, &t);
  if (rc == PRISM_OK)
    rc = prism__ranker_alloc(&r, &hp, users, items);
  if (rc == PRISM_OK)
    rc = load_tensors(&f, r);
  prism__st_close(&f);
  if (rc != PRISM_OK) {
    prism_ranker_free(r);
    return rc;
  }
  *out = r;
  return PRISM_OK;
}

int prism_ranker_load(prism_ranker **out, const char *path)
{
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  PRISM__CHECK_ARG(path != NULL, "path must not be NULL");
  return prism__error_at(__func__, load(out, path));
}
