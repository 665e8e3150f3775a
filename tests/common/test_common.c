/* Core contract: status codes, last error, version, logging, allocation, files, pool. */
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../testutil.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "common/pool.h"
#include "common/tsv.h"

static void test_status_codes_pinned(void **state)
{
  (void)state;
  /* Pinned forever: host applications switch on these values. */
  assert_int_equal(PRISM_OK, 0);
  assert_int_equal(PRISM_ERR_INVALID_ARGUMENT, -1);
  assert_int_equal(PRISM_ERR_IO, -2);
  assert_int_equal(PRISM_ERR_FORMAT, -3);
  assert_int_equal(PRISM_ERR_UNSUPPORTED, -4);
  assert_int_equal(PRISM_ERR_OUT_OF_RANGE, -5);
  assert_int_equal(PRISM_ERR_BUFFER_TOO_SMALL, -6);
  assert_int_equal(PRISM_ERR_NO_MEMORY, -7);
  assert_int_equal(PRISM_ERR_CANCELLED, -8);
  assert_int_equal(PRISM_ERR_INTERNAL, -9);
  assert_int_equal(PRISM_ERR_INVALID_UTF8, -10);
  assert_int_equal(PRISM_ERR_LIMIT, -11);
  assert_int_equal(PRISM_ERR_NOT_FOUND, -12);
  for (int s = 0; s >= -12; s--) {
    assert_non_null(prism_status_str(s));
    assert_string_not_equal(prism_status_str(s), "unknown status");
    assert_memory_equal(prism_status_name(s), "PRISM_", 6);
  }
  assert_string_equal(prism_status_str(-1000), "unknown status");
  assert_string_equal(prism_status_name(PRISM_ERR_CANCELLED), "PRISM_ERR_CANCELLED");
}

static void test_version(void **state)
{
  (void)state;
  assert_int_equal(prism_version_number(), PRISM_VERSION_NUMBER);
  assert_string_equal(prism_version_string(), PRISM_VERSION_STRING);
  assert_int_equal(PRISM_VERSION_NUMBER,
                   PRISM_VERSION_MAJOR * 10000 + PRISM_VERSION_MINOR * 100 + PRISM_VERSION_PATCH);
}

static void *other_thread_error(void *arg)
{
  (void)arg;
  prism__error(PRISM_ERR_IO, "other thread");
  return (void *)(size_t)(strcmp(prism_last_error(), "other thread") == 0);
}

static void test_last_error_thread_local(void **state)
{
  pthread_t t;
  void *ok;
  (void)state;
  assert_non_null(prism_last_error());
  assert_int_equal(prism__error(PRISM_ERR_FORMAT, "file %s byte %d", "x.json", 7),
                   PRISM_ERR_FORMAT);
  assert_string_equal(prism_last_error(), "file x.json byte 7");
  assert_int_equal(prism_last_error_status(), PRISM_ERR_FORMAT);
  assert_int_equal(pthread_create(&t, NULL, other_thread_error, NULL), 0);
  pthread_join(t, &ok);
  assert_true(ok != NULL);
  assert_string_equal(prism_last_error(), "file x.json byte 7");
  prism__error_prefix("%s: ", "outer");
  assert_string_equal(prism_last_error(), "outer: file x.json byte 7");
  assert_int_equal(prism_last_error_status(), PRISM_ERR_FORMAT);
}

typedef struct log_capture {
  int count;
  int level;
  char last[256];
} log_capture;

static void capture_log(int level, const char *message, void *payload)
{
  log_capture *c = payload;
  c->count++;
  c->level = level;
  snprintf(c->last, sizeof c->last, "%s", message);
}

static void test_logging(void **state)
{
  log_capture c = { 0 };
  (void)state;
  prism_log_set(capture_log, &c);
  prism_log_set_level(PRISM_LOG_DEBUG);
  prism__log(PRISM_LOG_WARN, "hello %d", 42);
  assert_int_equal(c.count, 1);
  assert_int_equal(c.level, PRISM_LOG_WARN);
  assert_string_equal(c.last, "hello 42");
  prism_log_set_level(PRISM_LOG_ERROR);
  prism__log(PRISM_LOG_INFO, "dropped");
  assert_int_equal(c.count, 1);
  prism_log_set(NULL, NULL);
  prism_log_set_level(PRISM_LOG_DEBUG);
  prism__log(PRISM_LOG_ERROR, "nobody listens");
  assert_int_equal(c.count, 1);
  prism_log_set_level(PRISM_LOG_INFO);
}

static void test_alloc_failure_injection(void **state)
{
  void *a, *b;
  size_t out;
  (void)state;
  prism__alloc_fail_at(2);
  a = prism__malloc(16);
  assert_non_null(a);
  b = prism__malloc(16);
  assert_null(b);
  assert_int_equal(prism_last_error_status(), PRISM_ERR_NO_MEMORY);
  b = prism__malloc(16);
  assert_non_null(b);
  assert_int_equal(prism__alloc_count(), 3);
  prism__alloc_fail_at(0);
  prism__free(a);
  prism__free(b);
  assert_null(prism__calloc(SIZE_MAX / 2, 4));
  assert_null(prism__mallocn(SIZE_MAX / 8, 16));
  assert_false(prism__mul_ok(SIZE_MAX / 2, 3, &out));
  assert_true(prism__add_ok(1, 2, &out));
  assert_int_equal(out, 3);
}

static void test_file_errors_name_the_file(void **state)
{
  prism__file f;
  char path[] = "/tmp/prism-test-XXXXXX";
  int fd;
  (void)state;
  assert_status(prism__file_read("/nonexistent/dir/x.json", 0, &f), PRISM_ERR_NOT_FOUND);
  assert_error_mentions("/nonexistent/dir/x.json");
  assert_status(prism__file_map("/tmp", 0, &f), PRISM_ERR_IO);
  assert_error_mentions("not a regular file");

  fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "hello", 5), 5);
  close(fd);
  assert_status(prism__file_read(path, 4, &f), PRISM_ERR_LIMIT);
  assert_ok(prism__file_read(path, 0, &f));
  assert_int_equal(f.size, 5);
  assert_string_equal((const char *)f.data, "hello");
  prism__file_close(&f);
  assert_ok(prism__file_map(path, 0, &f));
  assert_memory_equal(f.data, "hello", 5);
  prism__file_close(&f);

  assert_ok(prism__file_write_atomic(path, "replaced", 8));
  assert_ok(prism__file_read(path, 0, &f));
  assert_string_equal((const char *)f.data, "replaced");
  prism__file_close(&f);
  assert_status(prism__file_write_atomic("/nonexistent/dir/out.bin", "x", 1), PRISM_ERR_IO);
  assert_error_mentions("/nonexistent/dir/out.bin");
  unlink(path);
}

/* Atomic writes honour the umask and never replace what is not a regular file. */
static void test_write_atomic_mode_and_targets(void **state)
{
  char dir[] = "/tmp/prism_atomic_XXXXXX", path[64], link[64], fifo[64];
  struct stat st;
  mode_t old;
  char *tmp;
  (void)state;

  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/out.bin", dir);
  snprintf(link, sizeof link, "%s/link.bin", dir);
  snprintf(fifo, sizeof fifo, "%s/fifo.bin", dir);
  old = umask(027);
  assert_ok(prism__file_write_atomic(path, "x", 1));
  umask(old);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0640);

  assert_int_equal(symlink("/dev/null", link), 0);
  assert_status(prism__file_write_atomic(link, "x", 1), PRISM_ERR_IO);
  assert_error_mentions("not a regular file");
  assert_int_equal(lstat(link, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_int_equal(mkfifo(fifo, 0600), 0);
  assert_status(prism__file_write_atomic(fifo, "x", 1), PRISM_ERR_IO);
  assert_status(prism__file_write_atomic(dir, "x", 1), PRISM_ERR_IO);

  /* Two steps: nothing appears at the target before the commit; discard leaves nothing. */
  assert_ok(prism__file_write_temp(path, "two", 3, &tmp));
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_size, 1);
  assert_ok(prism__file_commit(tmp, path));
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_size, 3);
  assert_ok(prism__file_write_temp(path, "gone", 4, &tmp));
  assert_int_equal(access(tmp, F_OK), 0);
  char kept[128];
  snprintf(kept, sizeof kept, "%s", tmp);
  prism__file_discard(tmp);
  assert_int_not_equal(access(kept, F_OK), 0);

  unlink(path);
  unlink(link);
  unlink(fifo);
  assert_int_equal(rmdir(dir), 0);
}

/* A fresh directory for the writer tests, removed by rm_tree. */
static void make_dir(char *dir)
{
  strcpy(dir, "/tmp/prism-write-XXXXXX");
  assert_non_null(mkdtemp(dir));
}

static void rm_tree(const char *dir)
{
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static void assert_contents(const char *path, const char *text)
{
  prism__file f;
  assert_ok(prism__file_read(path, 0, &f));
  assert_int_equal(f.size, strlen(text));
  assert_memory_equal(f.data, text, f.size);
  prism__file_close(&f);
}

/* Only the named files remain in dir (no temporary file left behind). */
static void assert_dir_count(const char *dir, int expected)
{
  char cmd[512];
  snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq %d", dir, expected);
  assert_int_equal(system(cmd), 0);
}

static void test_write_through_symlink_keeps_link(void **state)
{
  char dir[64], link[128], v1[128];
  struct stat st;
  (void)state;
  make_dir(dir);
  snprintf(v1, sizeof v1, "%s/v1.st", dir);
  snprintf(link, sizeof link, "%s/latest.st", dir);
  assert_ok(prism__file_write_atomic(v1, "one", 3));
  assert_int_equal(symlink("v1.st", link), 0);
  assert_ok(prism__file_write_atomic(link, "two", 3));
  assert_int_equal(lstat(link, &st), 0);
  assert_true(S_ISLNK(st.st_mode)); /* the deployment link survives */
  assert_contents(v1, "two");       /* and the file it names was replaced */
  assert_dir_count(dir, 2);

  /* A link to a missing file is refused, and so is a directory. */
  snprintf(link, sizeof link, "%s/dangling", dir);
  assert_int_equal(symlink("missing.st", link), 0);
  assert_status(prism__file_write_atomic(link, "x", 1), PRISM_ERR_IO);
  assert_error_mentions("symbolic link to a missing file");
  assert_status(prism__file_write_atomic(dir, "x", 1), PRISM_ERR_IO);
  assert_error_mentions("is a directory");
  assert_int_equal(lstat(link, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_dir_count(dir, 3);
  rm_tree(dir);
}

static void test_write_refuses_fifo_and_devices(void **state)
{
  char dir[64], fifo[128], dev[128];
  struct stat st;
  (void)state;
  make_dir(dir);
  snprintf(fifo, sizeof fifo, "%s/pipe", dir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  assert_status(prism__file_write_atomic(fifo, "x", 1), PRISM_ERR_IO);
  assert_error_mentions("a FIFO or pipe");
  assert_int_equal(lstat(fifo, &st), 0);
  assert_true(S_ISFIFO(st.st_mode));

  /* A link to a device (as /dev/stdout is to a terminal) is neither replaced nor written. */
  snprintf(dev, sizeof dev, "%s/null", dir);
  assert_int_equal(symlink("/dev/null", dev), 0);
  assert_status(prism__file_write_atomic(dev, "x", 1), PRISM_ERR_IO);
  assert_error_mentions("a character device");
  assert_int_equal(lstat(dev, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_int_equal(stat("/dev/null", &st), 0);
  assert_true(S_ISCHR(st.st_mode));
  assert_dir_count(dir, 2);
  rm_tree(dir);
}

static void test_write_honours_umask_and_keeps_mode(void **state)
{
  char dir[64], path[128];
  struct stat st;
  mode_t old = umask(022);
  (void)state;
  make_dir(dir);
  snprintf(path, sizeof path, "%s/model.st", dir);
  assert_ok(prism__file_write_atomic(path, "a", 1));
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0644);
  unlink(path);
  umask(077);
  assert_ok(prism__file_write_atomic(path, "b", 1));
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  /* A replaced file keeps its mode whatever the umask. */
  assert_int_equal(chmod(path, 0640), 0);
  assert_ok(prism__file_write_atomic(path, "c", 1));
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0640);
  assert_contents(path, "c");
  umask(old);
  rm_tree(dir);
}

/* A temporary file holding `text`; the path is in a static buffer. */
static const char *tsv_file(const char *text, size_t len)
{
  static char path[64];
  snprintf(path, sizeof path, "/tmp/prism-tsv-%ld.tsv", (long)getpid());
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  assert_int_equal(fwrite(text, 1, len, fp), len);
  fclose(fp);
  return path;
}

#define TSV(literal) tsv_file(literal, sizeof literal - 1)

static void test_tsv_reader(void **state)
{
  prism__tsv t;
  const char *path;
  (void)state;
  /* A byte order mark, \r\n endings, empty lines skipped, line numbers counted. */
  path = TSV("\xEF\xBB\xBFitem_id\ttitle\tgenre\r\nb1\tOne\tdrama\r\n\r\nb2\t\tx\n");
  assert_ok(prism__tsv_open(&t, path, 0, PRISM__TSV_EXACT));
  assert_int_equal(t.columns, 3);
  assert_string_equal(t.header[0], "item_id");
  assert_int_equal(prism__tsv_column(&t, "genre"), 2);
  assert_int_equal(prism__tsv_column(&t, "pages"), SIZE_MAX);
  assert_int_equal(prism__tsv_next(&t), 1);
  assert_int_equal(t.line, 2);
  assert_string_equal(t.field[1], "One");
  assert_string_equal(t.field[2], "drama");
  assert_int_equal(prism__tsv_next(&t), 1);
  assert_int_equal(t.line, 4);
  assert_string_equal(t.field[1], "");
  assert_int_equal(prism__tsv_next(&t), 0);
  prism__tsv_close(&t);

  /* The column count is checked only when asked. */
  path = TSV("a\tb\n1\t2\t3\n1\n");
  assert_ok(prism__tsv_open(&t, path, 0, 0));
  assert_int_equal(prism__tsv_next(&t), 1);
  assert_int_equal(t.count, 3);
  assert_int_equal(prism__tsv_next(&t), 1);
  assert_int_equal(t.count, 1);
  prism__tsv_close(&t);
  assert_ok(prism__tsv_open(&t, path, 0, PRISM__TSV_EXACT));
  assert_status(prism__tsv_next(&t), PRISM_ERR_FORMAT);
  assert_error_mentions(":2: 3 tab-separated fields, but the header names 2 columns");
  prism__tsv_close(&t);

  /* Bad bytes name their line; an empty file has no header. */
  assert_ok(prism__tsv_open(&t, TSV("a\nok\nb\xc3(\n"), 0, 0));
  assert_int_equal(prism__tsv_next(&t), 1);
  assert_status(prism__tsv_next(&t), PRISM_ERR_FORMAT);
  assert_error_mentions(":3: not valid UTF-8 (byte 2 of the line)");
  prism__tsv_close(&t);
  assert_ok(prism__tsv_open(&t, TSV("a\nx\0y\n"), 0, 0));
  assert_status(prism__tsv_next(&t), PRISM_ERR_FORMAT);
  assert_error_mentions(":2: a NUL byte in the line");
  prism__tsv_close(&t);
  assert_status(prism__tsv_open(&t, TSV(""), 0, 0), PRISM_ERR_FORMAT);
  assert_error_mentions(":1: expected a header line");
  assert_status(prism__tsv_open(&t, TSV("a\tb\n1\t2\n"), 4, 0), PRISM_ERR_LIMIT);
  unlink(path);
}

static void test_json_helpers(void **state)
{
  json_t *root;
  long long i;
  double r;
  int b;
  const char *s;
  static const char text[] = "{\"a\": 3, \"b\": 2.5, \"c\": true, \"d\": \"x\", \"e\": null, "
                             "\"f\": 1e300, \"g\": 9223372036854775808.0, \"h\": 4.0}";
  (void)state;
  assert_status(prism__json_parse("{\"a\": ", 6, 0, "config.json", &root), PRISM_ERR_FORMAT);
  assert_error_mentions("config.json");
  assert_error_mentions("line 1");
  /* a key given twice is refused whatever the caller's flags: readers disagree on which wins */
  assert_status(prism__json_parse("{\"a\": 1,\n \"a\": 2}", 17, 0, "twice.json", &root),
                PRISM_ERR_FORMAT);
  assert_error_mentions("twice.json: invalid JSON at line 2");
  assert_error_mentions("duplicate key");
  assert_ok(prism__json_parse(text, sizeof text - 1, 0, "t.json", &root));
  assert_ok(prism__json_int(root, "a", "t.json", 1, 0, 10, &i));
  assert_int_equal(i, 3);
  assert_status(prism__json_int(root, "a", "t.json", 1, 5, 10, &i), PRISM_ERR_FORMAT);
  assert_error_mentions("\"a\"");
  assert_status(prism__json_int(root, "b", "t.json", 1, 0, 10, &i), PRISM_ERR_FORMAT);
  /* reals outside long long are refused, not converted (that conversion is undefined) */
  assert_status(prism__json_int(root, "f", "t.json", 1, 0, 10, &i), PRISM_ERR_FORMAT);
  assert_status(prism__json_int(root, "g", "t.json", 1, 0, 10, &i), PRISM_ERR_FORMAT);
  assert_error_mentions("must be an integer");
  assert_ok(prism__json_int(root, "h", "t.json", 1, 0, 10, &i));
  assert_int_equal(i, 4);
  assert_ok(prism__json_real(root, "b", "t.json", 1, &r));
  assert_true(r == 2.5);
  assert_ok(prism__json_bool(root, "c", "t.json", 1, &b));
  assert_true(b);
  assert_ok(prism__json_str(root, "d", "t.json", 1, &s));
  assert_string_equal(s, "x");
  assert_status(prism__json_str(root, "e", "t.json", 0, &s), PRISM_ERR_NOT_FOUND);
  assert_status(prism__json_str(root, "zz", "t.json", 1, &s), PRISM_ERR_FORMAT);
  assert_error_mentions("missing required field \"zz\"");
  json_decref(root);
}

typedef struct cover_ctx {
  unsigned char *hits;
} cover_ctx;

static void mark_range(void *ctx, size_t begin, size_t end)
{
  cover_ctx *c = ctx;
  for (size_t i = begin; i < end; i++)
    c->hits[i]++;
}

static void test_parallel_for_covers_once(void **state)
{
  static const size_t sizes[] = { 0, 1, 2, 7, 64, 1000, 4097 };
  unsigned char hits[4097];
  cover_ctx c = { hits };
  (void)state;
  for (int threads = 1; threads <= 4; threads++) {
    assert_int_equal(prism_set_num_threads(threads), threads);
    assert_int_equal(prism_get_num_threads(), threads);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
      for (int rep = 0; rep < 50; rep++) {
        memset(hits, 0, sizeof hits);
        prism__parallel_for(sizes[k], 3, mark_range, &c);
        for (size_t i = 0; i < sizes[k]; i++)
          assert_int_equal(hits[i], 1);
      }
    }
  }
  assert_true(prism_set_num_threads(0) >= 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_status_codes_pinned),
    cmocka_unit_test(test_version),
    cmocka_unit_test(test_last_error_thread_local),
    cmocka_unit_test(test_logging),
    cmocka_unit_test(test_alloc_failure_injection),
    cmocka_unit_test(test_file_errors_name_the_file),
    cmocka_unit_test(test_write_atomic_mode_and_targets),
    cmocka_unit_test(test_write_through_symlink_keeps_link),
    cmocka_unit_test(test_write_refuses_fifo_and_devices),
    cmocka_unit_test(test_write_honours_umask_and_keeps_mode),
    cmocka_unit_test(test_tsv_reader),
    cmocka_unit_test(test_json_helpers),
    cmocka_unit_test(test_parallel_for_covers_once),
  };
  return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
