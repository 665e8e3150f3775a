/* Model files: round trips, validation of every field, atomic writes; evaluation metrics. */
#include <limits.h>
#include <math.h>
#include <sys/stat.h>

#include "testutil.h"
#include "common/alloc.h"
#include "common/safetensors.h"
#include "model_util.h"
#include "synth.h"

static char tmpdir[] = "/tmp/prism-ranker-io-XXXXXX";
static char path_buf[256];

static const char *tmp(const char *name)
{
  snprintf(path_buf, sizeof path_buf, "%s/%s", tmpdir, name);
  return path_buf;
}

static int setup(void **state)
{
  (void)state;
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  return system(cmd);
}

static prism_ranker *small_model(int algorithm)
{
  prism_interactions *d;
  prism_ranker_params p;
  prism_ranker *r;
  assert_ok(prism_interactions_create(&d));
  char u[16], i[16];
  for (int k = 0; k < 400; k++) {
    snprintf(u, sizeof u, "user-%d", k % 37);
    snprintf(i, sizeof i, "item \"%d\"", (k * 7) % 53);
    assert_ok(prism_interactions_add(d, u, i, (float)(1 + k % 5)));
  }
  assert_ok(prism_ranker_params_init(&p, sizeof p));
  p.algorithm = algorithm;
  p.factors = 6;
  p.iterations = 3;
  p.seed = 12345678901234ull;
  assert_ok(prism_ranker_train(&r, d, &p));
  prism_interactions_free(d);
  return r;
}

static void assert_same_model(const prism_ranker *a, const prism_ranker *b)
{
  assert_int_equal(a->num_users, b->num_users);
  assert_int_equal(a->num_items, b->num_items);
  assert_int_equal(a->hp.algorithm, b->hp.algorithm);
  assert_int_equal(a->hp.factors, b->hp.factors);
  assert_int_equal(a->hp.iterations, b->hp.iterations);
  assert_int_equal(a->hp.cg_steps, b->hp.cg_steps);
  assert_true(a->hp.regularization == b->hp.regularization && a->hp.alpha == b->hp.alpha);
  assert_true(a->hp.learning_rate == b->hp.learning_rate);
  assert_true(a->hp.rating_min == b->hp.rating_min && a->hp.rating_max == b->hp.rating_max);
  assert_true(a->hp.seed == b->hp.seed);
  assert_memory_equal(a->user_factors, b->user_factors,
                      (size_t)a->num_users * a->hp.factors * sizeof(float));
  assert_memory_equal(a->item_factors, b->item_factors,
                      (size_t)a->num_items * a->hp.factors * sizeof(float));
  assert_true(a->global_bias == b->global_bias);
  if (a->item_bias)
    assert_memory_equal(a->item_bias, b->item_bias, (size_t)a->num_items * sizeof(float));
  if (a->user_bias)
    assert_memory_equal(a->user_bias, b->user_bias, (size_t)a->num_users * sizeof(float));
  assert_memory_equal(a->seen.ptr, b->seen.ptr, ((size_t)a->num_users + 1) * sizeof(int64_t));
  for (int32_t u = 0; u < a->num_users; u++)
    assert_string_equal(prism_ranker_user_id(a, u), prism_ranker_user_id(b, u));
  for (int32_t i = 0; i < a->num_items; i++)
    assert_string_equal(prism_ranker_item_id(a, i), prism_ranker_item_id(b, i));
  for (int32_t u = 0; u < a->num_users; u++) {
    int32_t ia[5], ib[5];
    float sa[5], sb[5];
    size_t ca, cb;
    assert_ok(prism_ranker_recommend(ia, sa, &ca, a, u, 5, NULL));
    assert_ok(prism_ranker_recommend(ib, sb, &cb, b, u, 5, NULL));
    assert_int_equal(ca, cb);
    assert_memory_equal(ia, ib, ca * sizeof *ia);
  }
}

static void test_round_trip(void **state)
{
  (void)state;
  for (int a = PRISM_RANKER_ALS; a <= PRISM_RANKER_MF; a++) {
    prism_ranker *r = small_model(a), *back;
    assert_ok(prism_ranker_save(r, tmp("model.safetensors")));
    assert_ok(prism_ranker_load(&back, tmp("model.safetensors")));
    assert_same_model(r, back);
    prism_ranker_free(back);
    prism_ranker_free(r);
  }
  /* A model trained from arrays has no id map and still round-trips. */
  float uf[2] = { 1, 2 }, vf[3] = { 1, 2, 3 };
  int32_t su[1] = { 1 }, si[1] = { 2 };
  prism_ranker *r = make_model(PRISM_RANKER_ALS, 2, 3, 1, uf, vf, NULL, NULL, 1, su, si), *back;
  assert_ok(prism_ranker_save(r, tmp("plain.safetensors")));
  assert_ok(prism_ranker_load(&back, tmp("plain.safetensors")));
  assert_null(prism_ranker_user_id(back, 0));
  assert_memory_equal(back->item_factors, vf, sizeof vf);
  prism_ranker_free(back);
  prism_ranker_free(r);
}

static void test_save_is_atomic(void **state)
{
  (void)state;
  prism_ranker *r = small_model(PRISM_RANKER_BPR);
  struct stat st;
  assert_status(prism_ranker_save(r, "/nonexistent-dir/model.safetensors"), PRISM_ERR_IO);
  assert_error_begins("prism_ranker_save: /nonexistent-dir/model.safetensors");
  /* A failed save (out of memory at every step) leaves the previous file intact. */
  assert_ok(prism_ranker_save(r, tmp("keep.safetensors")));
  assert_int_equal(stat(tmp("keep.safetensors"), &st), 0);
  off_t size = st.st_size;
  prism_ranker *other = small_model(PRISM_RANKER_MF);
  for (long n = 1;; n++) {
    prism__alloc_fail_at(n);
    int rc = prism_ranker_save(other, tmp("keep.safetensors"));
    prism__alloc_fail_at(0);
    if (rc == PRISM_OK)
      break;
    assert_int_equal(rc, PRISM_ERR_NO_MEMORY);
    assert_error_begins("prism_ranker_save: ");
    assert_int_equal(stat(tmp("keep.safetensors"), &st), 0);
    assert_int_equal(st.st_size, size);
  }
  prism_ranker *back;
  assert_ok(prism_ranker_load(&back, tmp("keep.safetensors")));
  assert_int_equal(prism_ranker_algorithm_of(back), PRISM_RANKER_MF);
  prism_ranker_free(back);
  prism_ranker_free(other);
  prism_ranker_free(r);
}

static void test_load_allocation_failures(void **state)
{
  (void)state;
  prism_ranker *r = small_model(PRISM_RANKER_MF);
  assert_ok(prism_ranker_save(r, tmp("m.safetensors")));
  for (long n = 1;; n++) {
    prism_ranker *back = (prism_ranker *)&back;
    prism__alloc_fail_at(n);
    int rc = prism_ranker_load(&back, tmp("m.safetensors"));
    prism__alloc_fail_at(0);
    if (rc == PRISM_OK) {
      prism_ranker_free(back);
      break;
    }
    assert_int_equal(rc, PRISM_ERR_NO_MEMORY);
    assert_null(back);
  }
  prism_ranker_free(r);
}

/*
 * Rewrite a saved model with one field changed: a tensor replaced (name,
 * dtype, shape, data) or dropped (data NULL), or a metadata value replaced.
 */
typedef struct edit {
  const char *tensor;
  prism__st_dtype dtype;
  int ndim;
  uint64_t d0, d1;
  const void *data;
  const char *meta_key, *meta_value;
} edit;

static void write_edited(const char *src, const char *dst, const edit *e)
{
  prism__st_file f;
  prism__st_out t[8];
  prism__st_metadata m[24];
  size_t nt = 0, nm = 0;
  assert_ok(prism__st_open(src, 0, &f));
  for (size_t i = 0; i < f.count; i++) {
    const prism__st_tensor *s = &f.tensors[i];
    prism__st_out o = { s->name, s->dtype, s->ndim, { 0 }, s->data };
    memcpy(o.shape, s->shape, sizeof o.shape);
    if (e->tensor && strcmp(e->tensor, s->name) == 0) {
      if (!e->data)
        continue;
      o.dtype = e->dtype;
      o.ndim = e->ndim;
      o.shape[0] = e->d0;
      o.shape[1] = e->d1;
      o.data = e->data;
    }
    t[nt++] = o;
  }
  for (size_t i = 0; i < f.metadata_count; i++) {
    m[nm] = f.metadata[i];
    if (e->meta_key && strcmp(e->meta_key, m[nm].key) == 0)
      m[nm].value = e->meta_value;
    nm++;
  }
  assert_ok(prism__st_write(dst, t, nt, m, nm));
  prism__st_close(&f);
}

static void expect_bad(const char *src, const edit *e, int status, const char *mention)
{
  prism_ranker *r = (prism_ranker *)&r;
  write_edited(src, tmp("bad.safetensors"), e);
  assert_status(prism_ranker_load(&r, tmp("bad.safetensors")), status);
  assert_null(r);
  assert_error_begins("prism_ranker_load: ");
  assert_error_mentions("bad.safetensors: ");
  assert_error_mentions(mention);
}

static void test_load_rejects(void **state)
{
  (void)state;
  prism_ranker *r = small_model(PRISM_RANKER_BPR);
  char src[256];
  snprintf(src, sizeof src, "%s/good.safetensors", tmpdir);
  assert_ok(prism_ranker_save(r, src));
  int32_t U = r->num_users, I = r->num_items, F = r->hp.factors;
  size_t nnz = (size_t)r->seen.ptr[U];
  float *big = calloc((size_t)(I + 1) * F, sizeof *big);
  float *nan_items = malloc((size_t)I * F * sizeof *nan_items);
  memcpy(nan_items, r->item_factors, (size_t)I * F * sizeof *nan_items);
  nan_items[5] = NAN;
  int32_t *bad_idx = malloc(nnz * sizeof *bad_idx);
  memcpy(bad_idx, r->seen.index, nnz * sizeof *bad_idx);
  bad_idx[3] = I;
  int64_t *bad_ptr = malloc(((size_t)U + 1) * sizeof *bad_ptr);
  memcpy(bad_ptr, r->seen.ptr, ((size_t)U + 1) * sizeof *bad_ptr);
  bad_ptr[2] = bad_ptr[3] + 1;

  edit e1 = { "item_factors", PRISM__ST_F32, 2, (uint64_t)I + 1, (uint64_t)F, big, NULL, NULL };
  expect_bad(src, &e1, PRISM_ERR_FORMAT, "item_factors has shape [54, 6], expected [53, 6]");
  edit e2 = { "item_factors", PRISM__ST_F32, 2, (uint64_t)I, (uint64_t)F, nan_items, NULL, NULL };
  expect_bad(src, &e2, PRISM_ERR_FORMAT, "not finite");
  edit e3 = { "item_bias", PRISM__ST_F32, 1, 0, 0, NULL, NULL, NULL };
  expect_bad(src, &e3, PRISM_ERR_FORMAT, "tensor item_bias is missing");
  edit e4 = { "seen_indices", PRISM__ST_I32, 1, nnz, 0, bad_idx, NULL, NULL };
  expect_bad(src, &e4, PRISM_ERR_OUT_OF_RANGE,
             "the seen matrix: user 0 has item 53, which is out of range (there are 53 items)");
  edit e5 = { "seen_indptr", PRISM__ST_I64, 1, (uint64_t)U + 1, 0, bad_ptr, NULL, NULL };
  expect_bad(src, &e5, PRISM_ERR_FORMAT, "bad.safetensors");
  edit e6 = { "user_factors", PRISM__ST_I32,   2,    (uint64_t)U,
              (uint64_t)F,    r->user_factors, NULL, NULL };
  expect_bad(src, &e6, PRISM_ERR_FORMAT, "user_factors has dtype I32, expected F32");
  edit e7 = { NULL, 0, 0, 0, 0, NULL, "factors", "7" };
  expect_bad(src, &e7, PRISM_ERR_FORMAT, "expected [37, 7]");
  edit e8 = { NULL, 0, 0, 0, 0, NULL, "users", "-1" };
  expect_bad(src, &e8, PRISM_ERR_FORMAT, "\"users\"");
  edit e9 = { NULL, 0, 0, 0, 0, NULL, "format", "something-else" };
  expect_bad(src, &e9, PRISM_ERR_FORMAT, "format");
  edit e10 = { NULL, 0, 0, 0, 0, NULL, "algorithm", "svd" };
  expect_bad(src, &e10, PRISM_ERR_FORMAT, "unknown algorithm \"svd\"");
  edit e11 = { NULL, 0, 0, 0, 0, NULL, "item_ids", "[\"a\",\"b\"]" };
  expect_bad(src, &e11, PRISM_ERR_FORMAT, "item_ids is not an array of 53 ids");
  char dup[1024] = "[";
  for (int i = 0; i < 37; i++)
    strcat(dup, i ? ",\"x\"" : "\"x\"");
  strcat(dup, "]");
  edit e12 = { NULL, 0, 0, 0, 0, NULL, "user_ids", dup };
  expect_bad(src, &e12, PRISM_ERR_FORMAT, "user_ids[1] \"x\" repeats user_ids[0]");
  edit e13 = { NULL, 0, 0, 0, 0, NULL, "user_ids", "[1, 2" };
  expect_bad(src, &e13, PRISM_ERR_FORMAT, "user_ids");
  edit e14 = { NULL, 0, 0, 0, 0, NULL, "regularization", "nan" };
  expect_bad(src, &e14, PRISM_ERR_FORMAT, "regularization");
  edit e17 = { NULL, 0, 0, 0, 0, NULL, "alpha", "0" };
  expect_bad(src, &e17, PRISM_ERR_FORMAT, "__metadata__: alpha must be a finite number above 0");
  edit e18 = { NULL, 0, 0, 0, 0, NULL, "rating_min", "9" };
  expect_bad(src, &e18, PRISM_ERR_FORMAT, "__metadata__: the rating range");
  edit e16 = { NULL, 0, 0, 0, 0, NULL, "users", "2000000000" };
  expect_bad(src, &e16, PRISM_ERR_FORMAT,
             "user_factors has shape [37, 6], expected [2000000000, 6]");
  edit e15 = { NULL, 0, 0, 0, 0, NULL, "format_version", "2" };
  expect_bad(src, &e15, PRISM_ERR_UNSUPPORTED, "format_version");

  prism_ranker *out = (prism_ranker *)&out;
  FILE *f = fopen(tmp("junk.safetensors"), "wb");
  fputs("not a model", f);
  fclose(f);
  assert_int_not_equal(prism_ranker_load(&out, tmp("junk.safetensors")), PRISM_OK);
  assert_null(out);
  assert_error_mentions("junk.safetensors");
  free(big);
  free(nan_items);
  free(bad_idx);
  free(bad_ptr);
  prism_ranker_free(r);
}

/* numpy reads the file with nothing but the safetensors layout (skipped without numpy). */
static void test_numpy_readable(void **state)
{
  (void)state;
  if (system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") != 0) {
    skip();
  }
  prism_ranker *r = small_model(PRISM_RANKER_ALS);
  assert_ok(prism_ranker_save(r, tmp("np.safetensors")));
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 -c \"import json,struct,numpy as np\n"
           "b=open('%s','rb').read(); n=struct.unpack('<Q',b[:8])[0]; h=json.loads(b[8:8+n])\n"
           "t=h['item_factors']; s,e=t['data_offsets']\n"
           "a=np.frombuffer(b[8+n+s:8+n+e],dtype=np.float32).reshape(t['shape'])\n"
           "ids=json.loads(h['__metadata__']['item_ids'])\n"
           "print(a.shape[0], a.shape[1], len(ids), '%%.6f' %% a[3,2])\" > %s",
           tmp("np.safetensors"), tmpdir);
  char out_path[300];
  snprintf(out_path, sizeof out_path, "%s/np.out", tmpdir);
  strcat(cmd, "/np.out");
  assert_int_equal(system(cmd), 0);
  FILE *f = fopen(out_path, "r");
  int rows, cols, ids;
  double v;
  assert_int_equal(fscanf(f, "%d %d %d %lf", &rows, &cols, &ids, &v), 4);
  fclose(f);
  assert_int_equal(rows, r->num_items);
  assert_int_equal(cols, 6);
  assert_int_equal(ids, r->num_items);
  assert_float_equal(v, r->item_factors[3 * 6 + 2], 1e-6);
  prism_ranker_free(r);
}

/* rec [1,2,3,4], relevant {2,4,9}, k 4: worked out in the comments. */
static void test_metrics_by_hand(void **state)
{
  (void)state;
  int32_t rec[4] = { 1, 2, 3, 4 }, rel[3] = { 9, 4, 2 };
  prism_ranker_metrics m = { .struct_size = sizeof m };
  assert_ok(prism_ranker_metrics_list(&m, rec, 4, rel, 3, 4));
  assert_float_equal(m.precision, 0.5, 1e-12);    /* 2 hits / 4 */
  assert_float_equal(m.recall, 2.0 / 3.0, 1e-12); /* 2 hits / 3 relevant */
  double dcg = 1 / log2(3.0) + 1 / log2(5.0), idcg = 1 + 1 / log2(3.0) + 0.5;
  assert_float_equal(m.ndcg, dcg / idcg, 1e-12);             /* hits at ranks 2 and 4 */
  assert_float_equal(m.map, (1.0 / 2 + 2.0 / 4) / 3, 1e-12); /* (P@2 + P@4) / min(3, 4) */
  /* k = 2: one hit; MAP divides by min(|relevant|, k) = 2; precision still by k. */
  assert_ok(prism_ranker_metrics_list(&m, rec, 4, rel, 3, 2));
  assert_float_equal(m.precision, 0.5, 1e-12);
  assert_float_equal(m.map, 0.5 / 2, 1e-12);
  assert_float_equal(m.ndcg, (1 / log2(3.0)) / (1 + 1 / log2(3.0)), 1e-12);
  /* A short list keeps k as the precision denominator. */
  assert_ok(prism_ranker_metrics_list(&m, rec + 1, 1, rel, 3, 10));
  assert_float_equal(m.precision, 0.1, 1e-12);
  assert_status(prism_ranker_metrics_list(&m, rec, 4, rel, 3, 0), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_metrics_list: k must be at least 1");
}

/* Evaluate over string ids: known users averaged, unknown users skipped, unknown items missed. */
static void test_evaluate(void **state)
{
  (void)state;
  prism_interactions *train, *test;
  prism_ranker *r;
  assert_ok(prism_interactions_create(&train));
  assert_ok(prism_interactions_add(train, "u0", "a", 1));
  assert_ok(prism_interactions_add(train, "u1", "b", 1));
  assert_ok(prism_interactions_add(train, "u1", "c", 1));
  assert_ok(prism_interactions_add(train, "u0", "d", 1));
  assert_ok(prism_ranker_train(&r, train, NULL));
  /* Hand-set scores: user factor 1, items a..d = 1..4 (one factor). */
  prism_ranker_free(r);
  float uf[2] = { 1, 1 }, vf[4] = { 1, 2, 3, 4 };
  int32_t su[4] = { 0, 1, 1, 0 }, si[4] = { 0, 1, 2, 3 };
  r = make_model(PRISM_RANKER_ALS, 2, 4, 1, uf, vf, NULL, NULL, 4, su, si);
  assert_ok(prism__idmap_copy(&r->user_ids, &train->users));
  assert_ok(prism__idmap_copy(&r->item_ids, &train->items));
  r->has_ids = 1;
  assert_ok(prism_interactions_create(&test));
  assert_ok(prism_interactions_add(test, "u0", "c", 1));    /* u0 gets [c, b]: hit at 1 */
  assert_ok(prism_interactions_add(test, "u0", "zzz", 1));  /* unknown item: a miss */
  assert_ok(prism_interactions_add(test, "u1", "a", 1));    /* u1 gets [d, a]: hit at 2 */
  assert_ok(prism_interactions_add(test, "ghost", "a", 1)); /* unknown user: skipped */
  prism_ranker_metrics m = { .struct_size = sizeof m };
  size_t skipped;
  assert_ok(prism_ranker_evaluate(&m, &skipped, r, test, 2, NULL));
  assert_int_equal(m.users, 2);
  assert_int_equal(skipped, 1);
  assert_float_equal(m.precision, (0.5 + 0.5) / 2, 1e-12);
  assert_float_equal(m.recall, (0.5 + 1.0) / 2, 1e-12);
  assert_float_equal(m.map, (1.0 / 2 + 0.5 / 1) / 2, 1e-12);
  double rmse, mae;
  size_t pairs;
  assert_ok(prism_ranker_evaluate_ratings(&rmse, &mae, &pairs, r, test));
  assert_int_equal(pairs, 2); /* (u0, c): 3 vs 1, (u1, a): 1 vs 1 */
  assert_float_equal(rmse, sqrt(4.0 / 2), 1e-6);
  assert_float_equal(mae, 1.0, 1e-6);
  assert_status(prism_ranker_evaluate(&m, NULL, r, test, 0, NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_evaluate: k must be at least 1");
  int32_t bad = 4;
  prism_ranker_filter f;
  assert_ok(prism_ranker_filter_init(&f, sizeof f));
  f.candidates = &bad;
  f.candidate_count = 1;
  assert_status(prism_ranker_evaluate(&m, NULL, r, test, 2, &f), PRISM_ERR_OUT_OF_RANGE);
  assert_error_begins("prism_ranker_evaluate: the filter's candidates list holds item 4");
  assert_status(prism_ranker_evaluate_ratings(NULL, &mae, NULL, r, test),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_evaluate_ratings: rmse and mae must not be NULL");
  prism_ranker_free(r);
  prism_interactions_free(train);
  prism_interactions_free(test);
}

/*
 * The largest single allocation a call makes: allocation n is made to fail for
 * n = 1, 2, ... and the failure message reports each size.
 */
static size_t largest_allocation(int (*call)(void *), void *ctx)
{
  size_t largest = 0;
  for (long n = 1;; n++) {
    prism__alloc_fail_at(n);
    int rc = call(ctx);
    long made = prism__alloc_count();
    prism__alloc_fail_at(0);
    const char *size = strstr(prism_last_error(), "allocating ");
    if (rc == PRISM_ERR_NO_MEMORY && size) {
      size_t bytes = (size_t)strtoull(size + strlen("allocating "), NULL, 10);
      largest = bytes > largest ? bytes : largest;
    }
    if (made < n)
      return largest;
  }
}

typedef struct eval_call {
  const prism_ranker *r;
  const prism_interactions *test;
  int k;
  prism_ranker_metrics m;
} eval_call;

static int run_evaluate(void *ctx)
{
  eval_call *c = ctx;
  c->m.struct_size = sizeof c->m;
  return prism_ranker_evaluate(&c->m, NULL, c->r, c->test, c->k, NULL);
}

/* k = INT_MAX evaluates like k = num_items (precision aside) in memory bounded by the model. */
static void test_evaluate_huge_k(void **state)
{
  (void)state;
  synth_data d;
  prism_ranker_params p;
  prism_ranker *r;
  prism_interactions *test;
  assert_int_equal(synth_generate(&d, 150, 400, 4, 12, 0.2, 3), 0);
  assert_ok(prism_ranker_params_init(&p, sizeof p));
  p.factors = 4;
  p.iterations = 2;
  assert_ok(prism_ranker_train_coo(&r, d.users, d.items, d.n_train, d.train_user, d.train_item,
                                   NULL, &p));
  assert_ok(prism_interactions_create(&test));
  for (size_t e = 0; e < d.n_test; e++) {
    char u[16], i[16];
    snprintf(u, sizeof u, "%d", d.test_user[e]);
    snprintf(i, sizeof i, "%d", d.test_item[e]);
    assert_ok(prism_interactions_add(test, u, i, 1.0f));
  }
  prism_set_num_threads(1);
  eval_call all = { r, test, d.items, { 0 } }, huge = { r, test, INT_MAX, { 0 } };
  assert_ok(run_evaluate(&all));
  assert_ok(run_evaluate(&huge));
  assert_int_equal(huge.m.users, all.m.users);
  assert_true(huge.m.recall == all.m.recall && huge.m.ndcg == all.m.ndcg);
  assert_float_equal(huge.m.precision * (double)INT_MAX, all.m.precision * d.items, 1e-6);
  /* Nothing bigger than a full score tile and one batch of min(k, items) wide lists. */
  size_t bound = (size_t)64 * 4096 * sizeof(float) + (size_t)150 * 400 * sizeof(float) + 4096;
  size_t biggest = largest_allocation(run_evaluate, &huge);
  assert_true(biggest > 0);
  if (biggest > bound)
    print_error("prism_ranker_evaluate(k = INT_MAX) allocated %zu bytes at once\n", biggest);
  assert_true(biggest <= bound);
  prism_set_num_threads(0);
  prism_interactions_free(test);
  prism_ranker_free(r);
  synth_free(&d);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_round_trip),
    cmocka_unit_test(test_save_is_atomic),
    cmocka_unit_test(test_load_allocation_failures),
    cmocka_unit_test(test_load_rejects),
    cmocka_unit_test(test_numpy_readable),
    cmocka_unit_test(test_metrics_by_hand),
    cmocka_unit_test(test_evaluate),
    cmocka_unit_test(test_evaluate_huge_k),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
