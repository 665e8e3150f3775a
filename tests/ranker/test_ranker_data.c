/* Interactions TSV loading, id maps, COO/CSR input validation, training entry points. */
#include <math.h>
#include <unistd.h>

#include "testutil.h"
#include "common/alloc.h"
#include "common/file.h"
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
  bad_tsv("1\t2\n\n3\n", PRISM_ERR_FORMAT, ":3: expected at least 2 fields separated by \"tab\"");
  bad_tsv("1\t2\tabc\n", PRISM_ERR_FORMAT, ":1: value \"abc\"");
  bad_tsv("1\t2\t4\n1\t2\tnan\n", PRISM_ERR_FORMAT, ":2: value \"nan\" is not a finite number");
  bad_tsv("1\t2\tinf\n", PRISM_ERR_FORMAT, "not a finite number");
  bad_tsv("1\t2\t1e39\n", PRISM_ERR_FORMAT, "not a finite number");
  bad_tsv("1\t2\t3\t12x\n", PRISM_ERR_FORMAT, ":1: timestamp \"12x\" is neither a number");
  bad_tsv("1\t2\t3\t2024-02-30\n", PRISM_ERR_FORMAT, "timestamp \"2024-02-30\"");
  bad_tsv("1\t2\t3\t2024-01-01T25:00\n", PRISM_ERR_FORMAT, "timestamp");
  bad_tsv("1\t2\t3\t1e400\n", PRISM_ERR_FORMAT, "timestamp");
  bad_tsv("1\t2\t3\tnan\n", PRISM_ERR_FORMAT, "timestamp");
  bad_tsv("1\t2\t\n", PRISM_ERR_FORMAT, "value");
  bad_tsv("\t2\t3\n", PRISM_ERR_FORMAT, ":1: the user id is empty");
  bad_tsv("1\t\t3\n", PRISM_ERR_FORMAT, ":1: the item id is empty");
  bad_tsv("ok\t1\nu\xff\t2\n", PRISM_ERR_INVALID_UTF8, ":2: the user id is not valid UTF-8");
  bad_tsv("ok\t\xed\xa0\x80\n", PRISM_ERR_INVALID_UTF8, "item id");
  prism_interactions *d;
  assert_status(prism_interactions_load_tsv(&d, "/nonexistent/x.tsv"), PRISM_ERR_NOT_FOUND);
  assert_error_begins("prism_interactions_load_tsv: /nonexistent/x.tsv: ");
}

/* Timestamps are doubles: compared exactly, not through cmocka's float comparison. */
#define assert_time(d, i, expected) \
  assert_true(prism_interactions_timestamp((d), (i)) == (expected))

/* Lines past the ones the old loader knew: extra columns, empty and ISO-8601 timestamps. */
static void test_extra_columns_and_timestamps(void **state)
{
  (void)state;
  prism_interactions *d;
  const char *path = write_tmp("times.tsv", "u1\ti1\t4\t881250949\textra\tcolumns\n"
                                            "u1\ti2\t3\t\n"
                                            "u2\ti1\t5\t2024-01-31\n"
                                            "u2\ti3\t5\t2024-01-31T12:34:56.5+02:00\n"
                                            "u3\ti1\t1\t2000-02-29 00:00Z\n"
                                            "u3\ti2\t2\t1700000000.25\n"
                                            "u4\ti9\n");
  assert_ok(prism_interactions_load_tsv(&d, path));
  assert_int_equal(prism_interactions_count(d), 7);
  assert_time(d, 0, 881250949.0);
  assert_true(isnan(prism_interactions_timestamp(d, 1)));
  assert_time(d, 2, 1706659200.0);
  assert_time(d, 3, 1706697296.5);
  assert_time(d, 4, 951782400.0);
  assert_time(d, 5, 1700000000.25);
  assert_true(isnan(prism_interactions_timestamp(d, 6)));
  assert_true(isnan(prism_interactions_timestamp(d, 7))); /* out of range */
  assert_true(isnan(prism_interactions_timestamp(NULL, 0)));
  prism_interactions_free(d);

  /* add_timed keeps a timestamp; interactions added before the first have none. */
  assert_ok(prism_interactions_create(&d));
  assert_ok(prism_interactions_add(d, "a", "x", 1.0f));
  assert_ok(prism_interactions_add_timed(d, "a", "y", 1.0f, 12.5));
  assert_ok(prism_interactions_add_timed(d, "b", "y", 1.0f, NAN));
  assert_status(prism_interactions_add_timed(d, "b", "z", 1.0f, INFINITY),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_interactions_add_timed: the timestamp of (\"b\", \"z\") is infinite");
  assert_true(isnan(prism_interactions_timestamp(d, 0)));
  assert_time(d, 1, 12.5);
  assert_true(isnan(prism_interactions_timestamp(d, 2)));
  assert_int_equal(prism_interactions_count(d), 3);
  prism_interactions_free(d);
}

static prism_interactions *load_text(const char *text, const prism_interactions_load_params *p)
{
  prism_interactions *d = NULL;
  assert_ok(prism_interactions_load_memory(&d, text, strlen(text), "test.csv", p));
  return d;
}

static void assert_row(const prism_interactions *d, size_t i, const char *user, const char *item,
                       float value)
{
  int32_t u, it;
  float v;
  assert_ok(prism_interactions_get(&u, &it, &v, d, i));
  assert_string_equal(prism_interactions_user_id(d, u), user);
  assert_string_equal(prism_interactions_item_id(d, it), item);
  assert_float_equal(v, value, 0.0);
}

static void test_csv_headers_and_columns(void **state)
{
  (void)state;
  prism_interactions_load_params p;
  prism_interactions *d;
  /* MovieLens ratings.csv: a header names the columns, commas separate them. */
  d = load_text("\xef\xbb\xbfuserId,movieId,rating,timestamp\r\n1,31,2.5,1260759144\r\n"
                "1,1029,3.0,1260759179\r\n",
                NULL);
  assert_int_equal(prism_interactions_count(d), 2);
  assert_row(d, 1, "1", "1029", 3.0f);
  assert_time(d, 0, 1260759144.0);
  prism_interactions_free(d);
  /* Named columns in any order; unnamed ones are not read. */
  d = load_text("title;item_id;genre;user\n\"A; B\";i1;drama;u1\n\"Say \"\"hi\"\"\";i2;x; u2 \n",
                NULL);
  assert_int_equal(prism_interactions_count(d), 2);
  assert_row(d, 0, "u1", "i1", 1.0f);
  assert_row(d, 1, "u2", "i2", 1.0f);
  prism_interactions_free(d);
  /* MovieLens 1M: "::" separators, no header. */
  d = load_text("1::1193::5::978300760\n1::661::3::978302109\n", NULL);
  assert_row(d, 1, "1", "661", 3.0f);
  assert_time(d, 1, 978302109.0);
  prism_interactions_free(d);
  /* Quoted ids keep their separators. */
  d = load_text("user,item\n\"Doe, Jane\",\"x,y\"\n", NULL);
  assert_row(d, 0, "Doe, Jane", "x,y", 1.0f);
  prism_interactions_free(d);

  /* Explicit separator, header and columns. */
  assert_ok(prism_interactions_load_params_init(&p, sizeof p));
  p.separator = "|";
  p.header = PRISM_INTERACTIONS_HEADER_PRESENT;
  p.user_column = 2;
  p.item_column = 0;
  p.value_column = PRISM_INTERACTIONS_NO_COLUMN;
  p.timestamp_column = 1;
  d = load_text("a|b|c\ni1|2024-01-01|u1|9\n", &p);
  assert_int_equal(prism_interactions_count(d), 1);
  assert_row(d, 0, "u1", "i1", 1.0f);
  assert_time(d, 0, 1704067200.0);
  prism_interactions_free(d);
  /* A header the file does not have is not guessed away: HEADER_NONE keeps line 1. */
  assert_ok(prism_interactions_load_params_init(&p, sizeof p));
  p.header = PRISM_INTERACTIONS_HEADER_NONE;
  p.value_column = PRISM_INTERACTIONS_NO_COLUMN;
  d = load_text("user\titem\nu\ti\n", &p);
  assert_int_equal(prism_interactions_count(d), 2);
  assert_row(d, 0, "user", "item", 1.0f);
  prism_interactions_free(d);

  /* Bad params and malformed quoting are named. */
  d = (prism_interactions *)&d;
  p.separator = "";
  assert_status(prism_interactions_load_memory(&d, "a\tb\n", 4, NULL, &p),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_null(d);
  assert_error_begins("prism_interactions_load_memory: the separator must be 1 to 8 bytes");
  assert_ok(prism_interactions_load_params_init(&p, sizeof p));
  p.user_column = 1;
  p.item_column = 1;
  assert_status(prism_interactions_load_memory(&d, "a\tb\n", 4, NULL, &p),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("user_column and item_column must differ");
  p.item_column = PRISM_INTERACTIONS_NO_COLUMN;
  assert_status(prism_interactions_load_memory(&d, "a\tb\n", 4, NULL, &p),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("item_column must be in [0, 256)");
  p.struct_size = 3;
  assert_status(prism_interactions_load(&d, "x", &p), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_interactions_load: params->struct_size is 3 bytes");
  static const char unterminated[] = "u,i\n\"a,b\n";
  assert_status(prism_interactions_load_memory(&d, unterminated, strlen(unterminated), NULL, NULL),
                PRISM_ERR_FORMAT);
  assert_error_begins("prism_interactions_load_memory: <memory>:2: a quoted field has no closing");
  static const char after_quote[] = "u,i\n\"a\"b,c\n";
  assert_status(
      prism_interactions_load_memory(&d, after_quote, strlen(after_quote), "in.csv", NULL),
      PRISM_ERR_FORMAT);
  assert_error_mentions("in.csv:2: text follows a closing quote");
  static const char tab_in_id[] = "u,i\n\"a\tb\",c\n";
  assert_status(prism_interactions_load_memory(&d, tab_in_id, strlen(tab_in_id), "in.csv", NULL),
                PRISM_ERR_FORMAT);
  assert_error_mentions("in.csv:2: the user id \"a\tb\" contains a tab");
}

#include <zlib.h>

static const char *write_gzip(const char *name, const char *text, int members)
{
  static char path[256];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  for (int m = 0; m < members; m++) {
    unsigned char out[4096];
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (unsigned char *)text;
    z.avail_in = (unsigned)strlen(text);
    z.next_out = out;
    z.avail_out = sizeof out;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    fwrite(out, 1, sizeof out - z.avail_out, f);
    deflateEnd(&z);
  }
  fclose(f);
  return path;
}

static void test_gzip_input(void **state)
{
  (void)state;
  prism_interactions *d;
  const char *path = write_gzip("u.data.gz", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n", 2);
  assert_ok(prism_interactions_load_tsv(&d, path));
  assert_int_equal(prism_interactions_count(d), 4); /* both members */
  assert_row(d, 3, "186", "302", 3.0f);
  prism_interactions_free(d);

  /* A truncated file and a decompression bomb past max_file_bytes are refused, by name. */
  prism__file f;
  assert_ok(prism__file_read(path, 0, &f));
  assert_status(prism_interactions_load_memory(&d, f.data, f.size / 2 - 4, "cut.gz", NULL),
                PRISM_ERR_FORMAT);
  assert_error_mentions("cut.gz: ");
  prism__file_close(&f);
  char *big = malloc(1 << 20);
  assert_non_null(big);
  for (size_t k = 0; k < (1 << 20) - 1; k++)
    big[k] = k % 8 == 7 ? '\n' : k % 8 == 1 ? '\t' : 'a';
  big[(1 << 20) - 1] = '\0';
  path = write_gzip("bomb.gz", big, 1);
  free(big);
  prism_limits lim, saved;
  assert_ok(prism_limits_get(&saved, sizeof saved));
  lim = saved;
  lim.max_file_bytes = 100000;
  assert_ok(prism_limits_set(&lim));
  assert_status(prism_interactions_load_tsv(&d, path), PRISM_ERR_LIMIT);
  assert_error_mentions("bomb.gz: the decompressed data exceed the limit of 100000 bytes");
  assert_ok(prism_limits_set(&saved));
  assert_ok(prism_interactions_load_tsv(&d, path));
  assert_int_equal(prism_interactions_count(d), 131072);
  prism_interactions_free(d);
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
    cmocka_unit_test(test_extra_columns_and_timestamps),
    cmocka_unit_test(test_csv_headers_and_columns),
    cmocka_unit_test(test_gzip_input),
    cmocka_unit_test(test_csr_from_coo),
    cmocka_unit_test(test_train_inputs),
    cmocka_unit_test(test_struct_sizes),
    cmocka_unit_test(test_train_from_interactions_keeps_ids),
    cmocka_unit_test(test_allocation_failures),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
