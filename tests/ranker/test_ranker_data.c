/* Interactions TSV loading, id maps, COO/CSR input validation, training entry points. */
#include <math.h>
#include <unistd.h>

#include "testutil.h"
#include "common/alloc.h"
#include "ranker/ranker_internal.h"

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
  assert_ok(prism_interactions_get(&u, &i, &v, d, 2));
  assert_string_equal(prism_interactions_user_id(d, u), "196");
  assert_string_equal(prism_interactions_item_id(d, i), "377");
  assert_float_equal(v, 1.0, 0.0);
  assert_ok(prism_interactions_get(&u, &i, &v, d, 3));
  assert_string_equal(prism_interactions_user_id(d, u), "élodie");
  assert_float_equal(v, -1.5, 0.0);
  assert_ok(prism_interactions_find_item(&i, d, "302"));
  assert_int_equal(i, 1);
  assert_status(prism_interactions_find_user(&u, d, "999"), PRISM_ERR_NOT_FOUND);
  assert_error_begins("prism_interactions_find_user: unknown user id \"999\"");
  assert_null(prism_interactions_user_id(d, 3));
  assert_null(prism_interactions_item_id(d, -1));
  assert_status(prism_interactions_get(&u, &i, &v, d, 4), PRISM_ERR_OUT_OF_RANGE);
  assert_error_begins("prism_interactions_get: interaction 4 is out of range");
  /* Any output may be NULL. */
  assert_ok(prism_interactions_get(NULL, &i, NULL, d, 0));
  assert_string_equal(prism_interactions_item_id(d, i), "242");
  prism_interactions_free(d);
}

static void bad_tsv(const char *text, int status, const char *mention)
{
  prism_interactions *d = (prism_interactions *)&d;
  const char *path = write_tmp("bad.tsv", text);
  assert_status(prism_interactions_load_tsv(&d, path), status);
  assert_null(d);
  assert_error_begins("prism_interactions_load_tsv: ");
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
  assert_error_begins("prism_interactions_load_tsv: /nonexistent/x.tsv: ");
}

static void test_add(void **state)
{
  (void)state;
  prism_interactions *d;
  assert_ok(prism_interactions_create(&d));
  assert_ok(prism_interactions_add(d, "a", "x", 2.0f));
  assert_status(prism_interactions_add(d, "a", "y", NAN), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_interactions_add: the value of (\"a\", \"y\") is not finite");
  assert_status(prism_interactions_add(d, "a", "y", INFINITY), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_interactions_add(d, "", "y", 1.0f), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_interactions_add: the user id is empty");
  assert_status(prism_interactions_add(d, "a\tb", "y", 1.0f), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("contains a tab or a line break");
  assert_status(prism_interactions_add(d, "a", "\xc0\x80", 1.0f), PRISM_ERR_INVALID_UTF8);
  assert_error_begins("prism_interactions_add: the item id is not valid UTF-8 (byte 0)");
  assert_status(prism_interactions_add(d, NULL, "y", 1.0f), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_interactions_add: user must not be NULL");
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
  assert_ok(prism_interactions_find_user(&idx, d, "u699"));
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
  assert_ok(prism__ranker_csr_from_coo(&m, 3, 4, 6, row, col, val, "interaction"));
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
  assert_status(prism__ranker_csr_from_coo(&m, 3, 4, 6, row, col, val, "interaction"),
                PRISM_ERR_OUT_OF_RANGE);
  assert_error_mentions("interaction 2: item 4 is out of range (there are 4 items)");
}

static void test_train_inputs(void **state)
{
  (void)state;
  int32_t u[4] = { 0, 0, 1, 2 }, i[4] = { 0, 1, 1, 2 };
  float v[4] = { 1, 1, NAN, 1 };
  prism_ranker *r = (prism_ranker *)&r;
  assert_status(prism_ranker_train_coo(&r, 3, 3, 4, u, i, v, NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_null(r);
  assert_error_begins("prism_ranker_train_coo: interaction 2: the value is not finite");
  assert_status(prism_ranker_train_coo(&r, 3, 3, 0, u, i, NULL, NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_train_coo: no interactions to train on");
  assert_status(prism_ranker_train_coo(&r, 0, 3, 4, u, i, NULL, NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("at least one user and one item");
  u[3] = 3;
  assert_status(prism_ranker_train_coo(&r, 3, 3, 4, u, i, NULL, NULL), PRISM_ERR_OUT_OF_RANGE);
  assert_error_begins("prism_ranker_train_coo: interaction 3: user 3 is out of range");
  u[3] = 2;
  assert_status(prism_ranker_train_coo(&r, 3, 3, 4, NULL, i, NULL, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_train_coo: users and items must not be NULL");
  prism_ranker_params p;
  assert_ok(prism_ranker_params_init(&p, sizeof p));
  p.factors = 5000;
  assert_status(prism_ranker_train_coo(&r, 3, 3, 4, u, i, NULL, &p), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_train_coo: factors must be between 1 and 1024, not 5000");
  p.factors = 0;
  p.algorithm = 7;
  assert_status(prism_ranker_train_coo(&r, 3, 3, 4, u, i, NULL, &p), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("algorithm must be PRISM_RANKER_ALS, PRISM_RANKER_BPR or PRISM_RANKER_MF");
  p.algorithm = PRISM_RANKER_BPR;
  p.learning_rate = -1.0f;
  assert_status(prism_ranker_train_coo(&r, 3, 3, 4, u, i, NULL, &p), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("learning_rate must be a finite number above 0, not -1");
  p.learning_rate = 0.0f;
  p.rating_min = 5.0f;
  p.rating_max = 1.0f;
  assert_status(prism_ranker_train_coo(&r, 3, 3, 4, u, i, NULL, &p), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("rating range");
  p.rating_min = p.rating_max = 0.0f;
  p.struct_size = 16;
  assert_status(prism_ranker_train_coo(&r, 3, 3, 4, u, i, NULL, &p), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_train_coo: ");
  assert_error_mentions("struct_size is 16 bytes");
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
  assert_ok(prism_ranker_find_user(&idx, a, "2"));
  assert_int_equal(idx, 2);
  assert_status(prism_ranker_find_user(&idx, a, "3"), PRISM_ERR_NOT_FOUND);
  assert_error_begins("prism_ranker_find_user: unknown user id \"3\" (the model has no id map");
  prism_ranker_free(a);
  prism_ranker_free(b);
  indptr[2] = 1;
  assert_status(prism_ranker_train_csr(&b, 3, 3, indptr, i, NULL, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins(
      "prism_ranker_train_csr: indptr must never decrease, but it does after row 1");
  indptr[2] = 3;
  assert_status(prism_ranker_train_csr(&b, 3, 3, indptr, NULL, NULL, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_train_csr: indices must not be NULL");
  /* An error inside the shared training path names the function called. */
  i[0] = 9;
  assert_status(prism_ranker_train_csr(&b, 3, 3, indptr, i, NULL, NULL), PRISM_ERR_OUT_OF_RANGE);
  assert_error_begins("prism_ranker_train_csr: interaction 0: item 9 is out of range");
  assert_null(b);
}

/*
 * The versioned-struct protocol: the layouts this library knows are accepted,
 * a size from a newer header (larger) or below the first layout is refused,
 * naming the function; an output struct is only written on success.
 */
static void test_struct_sizes(void **state)
{
  (void)state;
  prism_ranker_params p;
  prism_ranker_filter f;
  assert_ok(prism_ranker_params_init(&p, sizeof p));
  assert_int_equal(p.struct_size, sizeof p);
  assert_int_equal(p.algorithm, PRISM_RANKER_ALS);
  assert_int_equal(p.factors, 0);
  assert_status(prism_ranker_params_init(&p, sizeof p + 8), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_params_init: struct_size is");
  assert_status(prism_ranker_params_init(&p, 8), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_ranker_params_init(NULL, sizeof p), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_params_init: ");
  assert_ok(prism_ranker_filter_init(&f, sizeof f));
  assert_int_equal(f.exclude_seen, 1);
  assert_null(f.exclude);
  assert_null(f.candidates);
  assert_status(prism_ranker_filter_init(&f, 4), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_filter_init: struct_size is 4 bytes");

  int32_t rec[2] = { 1, 2 }, rel[1] = { 2 };
  prism_ranker_metrics m;
  memset(&m, 0x55, sizeof m);
  m.struct_size = sizeof m + 8;
  assert_status(prism_ranker_metrics_list(&m, rec, 2, rel, 1, 2), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_metrics_list: struct_size is");
  assert_int_equal(m.users, (size_t)0x5555555555555555ull);
  m.struct_size = sizeof m;
  assert_ok(prism_ranker_metrics_list(&m, rec, 2, rel, 1, 2));
  assert_int_equal(m.struct_size, sizeof m);
  assert_int_equal(m.users, 1);
  assert_float_equal(m.precision, 0.5, 0.0);
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
  assert_ok(prism_ranker_find_user(&u, r, "bob"));
  assert_ok(prism_ranker_recommend(items, scores, &count, r, u, 3, NULL));
  assert_int_equal(count, 1);
  assert_string_equal(prism_ranker_item_id(r, items[0]), "dune");
  assert_status(prism_ranker_find_item(&u, r, "zork"), PRISM_ERR_NOT_FOUND);
  assert_error_begins("prism_ranker_find_item: unknown item id \"zork\"");
  /* An empty set cannot train, and the message names prism_ranker_train. */
  prism_interactions *empty;
  prism_ranker *none = (prism_ranker *)&none;
  assert_ok(prism_interactions_create(&empty));
  assert_status(prism_ranker_train(&none, empty, NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_null(none);
  assert_error_begins("prism_ranker_train: no interactions to train on");
  prism_interactions_free(empty);
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
    cmocka_unit_test(test_struct_sizes),
    cmocka_unit_test(test_train_from_interactions_keeps_ids),
    cmocka_unit_test(test_allocation_failures),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
