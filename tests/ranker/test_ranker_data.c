/* Interactions TSV loading, id maps, COO/CSR input validation, training entry points. */
#include <math.h>
#include <unistd.h>

#include "testutil.h"
#include "common/alloc.h"
#include "ranker/ranker_internal.h"

/* Released layouts are frozen: growth must append fields and keep these offsets. */

static char tmpdir[] = "/tmp/prism-ranker-data-XXXXXX";

static const char *write_tmp(const char *name, const char *text)
{
  static char path[256];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fwrite(text, 1, strlen(text), f);
  fclose(f);
  return path;
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

static void test_load_tsv(void **state)
{
  (void)state;
  prism_interactions *d;
  const char *path = write_tmp("ok.tsv", "196\t242\t3\t881250949\r\n"
                                         "186\t302\t3\t891717742\n"
                                         "\n"
                                         "196\t377\n"
                                         "élodie\t302\t-1.5\n");
  assert_ok(prism_interactions_load_tsv(&d, path));
  assert_int_equal(prism_interactions_count(d), 4);
  assert_int_equal(prism_interactions_num_users(d), 3);
  assert_int_equal(prism_interactions_num_items(d), 3);
  int32_t u, i;
  float v;
  assert_ok(prism_interactions_get(d, 2, &u, &i, &v));
  assert_string_equal(prism_interactions_user_id(d, u), "196");
  assert_string_equal(prism_interactions_item_id(d, i), "377");
  assert_float_equal(v, 1.0, 0.0);
  assert_ok(prism_interactions_get(d, 3, &u, &i, &v));
  assert_string_equal(prism_interactions_user_id(d, u), "élodie");
  assert_float_equal(v, -1.5, 0.0);
  assert_ok(prism_interactions_find_item(d, "302", &i));
  assert_int_equal(i, 1);
  assert_status(prism_interactions_find_user(d, "999", &u), PRISM_ERR_NOT_FOUND);
  assert_error_mentions("999");
  assert_null(prism_interactions_user_id(d, 3));
  assert_null(prism_interactions_item_id(d, -1));
  assert_status(prism_interactions_get(d, 4, &u, &i, &v), PRISM_ERR_OUT_OF_RANGE);
  prism_interactions_free(d);
}

static void bad_tsv(const char *text, int status, const char *mention)
{
  prism_interactions *d = (prism_interactions *)&d;
  const char *path = write_tmp("bad.tsv", text);
  assert_status(prism_interactions_load_tsv(&d, path), status);
  assert_null(d);
  assert_error_mentions(mention);
  assert_error_mentions("bad.tsv");
}

static void test_malformed_lines(void **state)
{
  (void)state;
  bad_tsv("1\t2\t3\n1 2 3\n", PRISM_ERR_FORMAT, "bad.tsv:2:");
  bad_tsv("1\t2\n\n3\t4\t5\t6\t7\n", PRISM_ERR_FORMAT, ":3: expected 2 to 4");
  bad_tsv("1\t2\tabc\n", PRISM_ERR_FORMAT, ":1: value \"abc\"");
  bad_tsv("1\t2\t4\n1\t2\tnan\n", PRISM_ERR_FORMAT, ":2: value \"nan\" is not a finite number");
  bad_tsv("1\t2\tinf\n", PRISM_ERR_FORMAT, "not a finite number");
  bad_tsv("1\t2\t1e39\n", PRISM_ERR_FORMAT, "not a finite number");
  bad_tsv("1\t2\t3\t12x\n", PRISM_ERR_FORMAT, ":1: timestamp \"12x\"");
  bad_tsv("1\t2\t3\t\n", PRISM_ERR_FORMAT, "timestamp");
  bad_tsv("1\t2\t\n", PRISM_ERR_FORMAT, "value");
  bad_tsv("\t2\t3\n", PRISM_ERR_FORMAT, ":1: empty user id");
  bad_tsv("1\t\t3\n", PRISM_ERR_FORMAT, ":1: empty item id");
  bad_tsv("ok\t1\nu\xff\t2\n", PRISM_ERR_INVALID_UTF8, ":2: invalid UTF-8 in the user id");
  bad_tsv("ok\t\xed\xa0\x80\n", PRISM_ERR_INVALID_UTF8, "item id");
  prism_interactions *d;
  assert_status(prism_interactions_load_tsv(&d, "/nonexistent/x.tsv"), PRISM_ERR_NOT_FOUND);
  assert_error_mentions("/nonexistent/x.tsv");
}

static void test_add(void **state)
{
  (void)state;
  prism_interactions *d;
  assert_ok(prism_interactions_create(&d));
  assert_ok(prism_interactions_add(d, "a", "x", 2.0f));
  assert_status(prism_interactions_add(d, "a", "y", NAN), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_interactions_add(d, "a", "y", INFINITY), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_interactions_add(d, "", "y", 1.0f), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_interactions_add(d, "a\tb", "y", 1.0f), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_interactions_add(d, "a", "\xc0\x80", 1.0f), PRISM_ERR_INVALID_UTF8);
  assert_status(prism_interactions_add(d, NULL, "y", 1.0f), PRISM_ERR_INVALID_ARGUMENT);
  assert_int_equal(prism_interactions_count(d), 1);
  assert_int_equal(prism_interactions_num_items(d), 1);
  /* Many ids exercise the hash table's growth. */
  char u[16], i[16];
  for (int k = 0; k < 5000; k++) {
    snprintf(u, sizeof u, "u%d", k % 700);
    snprintf(i, sizeof i, "i%d", k);
    assert_ok(prism_interactions_add(d, u, i, 1.0f));
  }
  assert_int_equal(prism_interactions_num_users(d), 701);
  int32_t idx;
  assert_ok(prism_interactions_find_user(d, "u699", &idx));
  assert_string_equal(prism_interactions_user_id(d, idx), "u699");
  prism_interactions_free(d);
  prism_interactions_free(NULL);
}

static void test_csr_from_coo(void **state)
{
  (void)state;
  int32_t row[6] = { 1, 0, 1, 1, 0, 1 }, col[6] = { 3, 2, 0, 3, 0, 1 };
  float val[6] = { 1, 2, 3, 4, 5, 6 };
  prism__ranker_csr m;
  assert_ok(prism__ranker_csr_from_coo(&m, 3, 4, 6, row, col, val));
  int64_t ptr[4] = { 0, 2, 5, 5 };
  int32_t idx[5] = { 0, 2, 0, 1, 3 };
  float v[5] = { 5, 2, 3, 6, 5 };
  assert_memory_equal(m.ptr, ptr, sizeof ptr);
  assert_memory_equal(m.index, idx, sizeof idx);
  assert_memory_equal(m.value, v, sizeof v);
  prism__ranker_csr t;
  assert_ok(prism__ranker_csr_transpose(&t, &m));
  assert_int_equal(t.rows, 4);
  assert_int_equal(t.ptr[1], 2);
  assert_int_equal(t.index[0], 0);
  assert_int_equal(t.index[1], 1);
  prism__ranker_csr_free(&t);
  prism__ranker_csr_free(&m);
  col[2] = 4;
  assert_status(prism__ranker_csr_from_coo(&m, 3, 4, 6, row, col, val), PRISM_ERR_OUT_OF_RANGE);
  assert_error_mentions("interaction 2: item 4");
}

static void test_train_inputs(void **state)
{
  (void)state;
  int32_t u[4] = { 0, 0, 1, 2 }, i[4] = { 0, 1, 1, 2 };
  float v[4] = { 1, 1, NAN, 1 };
  prism_ranker *r = (prism_ranker *)&r;
  assert_status(prism_ranker_train_coo(&r, 3, 3, 4, u, i, v, NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_null(r);
  assert_error_mentions("interaction 2: value is not finite");
  assert_status(prism_ranker_train_coo(&r, 3, 3, 0, u, i, NULL, NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("no interactions");
  assert_status(prism_ranker_train_coo(&r, 0, 3, 4, u, i, NULL, NULL), PRISM_ERR_INVALID_ARGUMENT);
  u[3] = 3;
  assert_status(prism_ranker_train_coo(&r, 3, 3, 4, u, i, NULL, NULL), PRISM_ERR_OUT_OF_RANGE);
  u[3] = 2;
  prism_ranker_params p;
  assert_ok(prism_ranker_params_init(&p, sizeof p));
  p.factors = 5000;
  assert_status(prism_ranker_train_coo(&r, 3, 3, 4, u, i, NULL, &p), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("factors");
  p.factors = 0;
  p.algorithm = 7;
  assert_status(prism_ranker_train_coo(&r, 3, 3, 4, u, i, NULL, &p), PRISM_ERR_INVALID_ARGUMENT);
  p.algorithm = PRISM_RANKER_BPR;
  p.learning_rate = -1.0f;
  assert_status(prism_ranker_train_coo(&r, 3, 3, 4, u, i, NULL, &p), PRISM_ERR_INVALID_ARGUMENT);
  p.learning_rate = 0.0f;
  p.struct_size = 16;
  assert_status(prism_ranker_train_coo(&r, 3, 3, 4, u, i, NULL, &p), PRISM_ERR_INVALID_ARGUMENT);
  assert_null(r);

  /* CSR and COO inputs train the same model. */
  prism_ranker *a, *b;
  int64_t indptr[4] = { 0, 2, 3, 4 };
  assert_ok(prism_ranker_train_coo(&a, 3, 3, 4, u, i, NULL, NULL));
  assert_ok(prism_ranker_train_csr(&b, 3, 3, indptr, i, NULL, NULL));
  assert_memory_equal(prism_ranker_item_factors(a), prism_ranker_item_factors(b),
                      3 * 64 * sizeof(float));
  assert_null(prism_ranker_user_id(a, 0));
  int32_t idx;
  assert_ok(prism_ranker_find_user(a, "2", &idx));
  assert_int_equal(idx, 2);
  assert_status(prism_ranker_find_user(a, "3", &idx), PRISM_ERR_NOT_FOUND);
  prism_ranker_free(a);
  prism_ranker_free(b);
  indptr[2] = 1;
  assert_status(prism_ranker_train_csr(&b, 3, 3, indptr, i, NULL, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("indptr");
}

static void test_train_from_interactions_keeps_ids(void **state)
{
  (void)state;
  prism_interactions *d;
  prism_ranker *r;
  assert_ok(prism_interactions_create(&d));
  const char *pairs[][2] = {
    { "ann", "dune" }, { "ann", "emma" }, { "bob", "emma" }, { "bob", "faust" }, { "cy", "dune" }
  };
  for (size_t k = 0; k < 5; k++)
    assert_ok(prism_interactions_add(d, pairs[k][0], pairs[k][1], 1.0f));
  assert_ok(prism_ranker_train(&r, d, NULL));
  assert_int_equal(prism_ranker_num_users(r), 3);
  assert_int_equal(prism_ranker_num_items(r), 3);
  assert_int_equal(prism_ranker_num_factors(r), 64);
  assert_int_equal(prism_ranker_algorithm_of(r), PRISM_RANKER_ALS);
  int32_t u, items[3];
  float scores[3];
  size_t count;
  assert_ok(prism_ranker_find_user(r, "bob", &u));
  assert_ok(prism_ranker_recommend(r, u, 3, NULL, items, scores, &count));
  assert_int_equal(count, 1);
  assert_string_equal(prism_ranker_item_id(r, items[0]), "dune");
  assert_status(prism_ranker_find_item(r, "zork", &u), PRISM_ERR_NOT_FOUND);
  prism_ranker_free(r);
  prism_interactions_free(d);
}

/* Every allocation failure during load and training is reported, nothing leaks or is returned. */
static void test_allocation_failures(void **state)
{
  (void)state;
  const char *path = write_tmp("alloc.tsv", "a\tx\t1\na\ty\t2\nb\ty\t1\nc\tz\t5\nc\tx\t1\n");
  for (int algorithm = 0; algorithm < 3; algorithm++) {
    prism_ranker_params p;
    assert_ok(prism_ranker_params_init(&p, sizeof p));
    p.algorithm = algorithm;
    p.iterations = 2;
    for (long n = 1;; n++) {
      prism_interactions *d = NULL;
      prism_ranker *r = (prism_ranker *)&r;
      prism__alloc_fail_at(n);
      int rc = prism_interactions_load_tsv(&d, path);
      if (rc == PRISM_OK)
        rc = prism_ranker_train(&r, d, &p);
      prism__alloc_fail_at(0);
      prism_interactions_free(d);
      if (rc == PRISM_OK) {
        prism_ranker_free(r);
        break;
      }
      assert_int_equal(rc, PRISM_ERR_NO_MEMORY);
      assert_true(r == NULL || r == (prism_ranker *)&r);
    }
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_load_tsv),
    cmocka_unit_test(test_malformed_lines),
    cmocka_unit_test(test_add),
    cmocka_unit_test(test_csr_from_coo),
    cmocka_unit_test(test_train_inputs),
    cmocka_unit_test(test_train_from_interactions_keeps_ids),
    cmocka_unit_test(test_allocation_failures),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
