/*
 * Runs one fuzz target over every file of its committed corpus: the seeds and
 * every input that once crashed it, so a fixed finding stays fixed in the
 * ordinary (and sanitizer, and valgrind) test runs.
 */
#include <dirent.h>

#include "../testutil.h"
#include "fuzz_common.h"

static unsigned char *slurp(const char *path, size_t *size)
{
  FILE *f = fopen(path, "rb");
  unsigned char *buf = NULL;
  long n;
  if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
    *size = (size_t)n;
  } else {
    free(buf);
    buf = NULL;
  }
  if (f)
    fclose(f);
  return buf;
}

static void test_corpus(void **state)
{
  DIR *dir = opendir(PRISM_FUZZ_CORPUS);
  struct dirent *e;
  int files = 0;
  (void)state;
  assert_non_null(dir);
  while ((e = readdir(dir))) {
    char path[4096];
    unsigned char *data;
    size_t size = 0;
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof path, "%s/%s", PRISM_FUZZ_CORPUS, e->d_name);
    data = slurp(path, &size);
    if (!data)
      fail_msg("cannot read %s", path);
    assert_int_equal(LLVMFuzzerTestOneInput(data, size), 0);
    free(data);
    files++;
  }
  closedir(dir);
  assert_true(files > 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_corpus),
  };
  return cmocka_run_group_tests_name("fuzz-replay", tests, NULL, NULL);
}
