/*
 * The malformed-input corpus: every file listed in manifest.tsv goes through
 * its loader, which must refuse it with the listed status and a message that
 * names the file and contains the listed words, leave its output untouched,
 * and behave the same when any one of its allocations fails (ASan and
 * valgrind runs of this suite check that nothing leaks on any of those paths).
 */
#include "../testutil.h"
#include "common/alloc.h"
#include "common/safetensors.h"

#ifndef PRISM_BAD_DIR
#  error "PRISM_BAD_DIR must name tests/bad"
#endif

/* Untouched output: each loader fills its output with this byte first. */
#define SENTINEL 0xA5

static int all_sentinel(const void *p, size_t n)
{
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i] != SENTINEL)
      return 0;
  return 1;
}

static int load_safetensors_capped(const char *path, uint64_t cap)
{
  prism__st_file f;
  int rc;
  memset(&f, SENTINEL, sizeof f);
  rc = prism__st_open(path, cap, &f);
  if (rc == PRISM_OK)
    prism__st_close(&f);
  else
    assert_true(all_sentinel(&f, sizeof f));
  return rc;
}

static int load_safetensors(const char *path)
{
  return load_safetensors_capped(path, 0);
}

static int load_safetensors_cap64(const char *path)
{
  return load_safetensors_capped(path, 64);
}

static const struct {
  const char *name;
  int (*load)(const char *path);
} loaders[] = {
  {"safetensors", load_safetensors},
  {"safetensors-cap64", load_safetensors_cap64},
};

/* One manifest row, copied out of the line (the array of cases is realloc'd). */
typedef struct bad_case {
  char path[1024];
  char file[256], loader[64], status[64], mentions[256];
} bad_case;

typedef struct corpus {
  bad_case *cases;
  size_t count;
} corpus;

static int copy_field(char *dst, size_t cap, const char *src)
{
  size_t n = strlen(src);
  if (n >= cap)
    return 0;
  memcpy(dst, src, n + 1);
  return 1;
}

/* Split "file\tloader\tstatus\tmentions\n" in place into *c. */
static int split_row(char *line, bad_case *c)
{
  char *fields[4], *p = line;
  for (int i = 0; i < 4; i++) {
    fields[i] = p;
    p = strchr(p, i < 3 ? '\t' : '\n');
    if (!p && i < 3)
      return 0;
    if (p)
      *p++ = '\0';
  }
  if (!copy_field(c->file, sizeof c->file, fields[0]) ||
      !copy_field(c->loader, sizeof c->loader, fields[1]) ||
      !copy_field(c->status, sizeof c->status, fields[2]) ||
      !copy_field(c->mentions, sizeof c->mentions, fields[3]))
    return 0;
  snprintf(c->path, sizeof c->path, "%s/%s", PRISM_BAD_DIR, c->file);
  return 1;
}

static int read_manifest(void **state)
{
  corpus *k = calloc(1, sizeof *k);
  FILE *f = fopen(PRISM_BAD_DIR "/manifest.tsv", "r");
  char line[1024];
  if (!k || !f)
    return -1;
  while (fgets(line, sizeof line, f)) {
    bad_case *c;
    if (line[0] == '#' || line[0] == '\n')
      continue;
    c = realloc(k->cases, (k->count + 1) * sizeof *k->cases);
    if (!c)
      return -1;
    k->cases = c;
    if (!split_row(line, &c[k->count])) {
      fprintf(stderr, "manifest.tsv: bad row: %s", line);
      fclose(f);
      return -1;
    }
    k->count++;
  }
  fclose(f);
  *state = k;
  return 0;
}

static int free_manifest(void **state)
{
  corpus *k = *state;
  free(k->cases);
  free(k);
  return 0;
}

static int run_case(const bad_case *c)
{
  for (size_t i = 0; i < sizeof loaders / sizeof loaders[0]; i++)
    if (strcmp(loaders[i].name, c->loader) == 0)
      return loaders[i].load(c->path);
  fail_msg("%s: unknown loader \"%s\"", c->file, c->loader);
  return PRISM_ERR_INTERNAL;
}

/* The last path component: the file, or the folder of a folder-shaped case. */
static const char *base_name(const char *path)
{
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

static void check_refusal(const bad_case *c, int rc)
{
  if (strcmp(prism_status_name(rc), c->status) != 0 || !strstr(prism_last_error(), c->mentions) ||
      !strstr(prism_last_error(), base_name(c->file)))
    fail_msg("%s: got %s \"%s\", want %s mentioning \"%s\" and the file", c->file,
             prism_status_name(rc), prism_last_error(), c->status, c->mentions);
}

static void test_refused(void **state)
{
  const corpus *k = *state;
  assert_true(k->count >= 40);
  for (size_t i = 0; i < k->count; i++)
    check_refusal(&k->cases[i], run_case(&k->cases[i]));
}

/* With allocation n failing, a case fails with NO_MEMORY or still with its own status. */
static void test_allocation_failures(void **state)
{
  const corpus *k = *state;
  for (size_t i = 0; i < k->count; i++) {
    const bad_case *c = &k->cases[i];
    for (long n = 1;; n++) {
      int rc;
      long made;
      prism__alloc_fail_at(n);
      rc = run_case(c);
      made = prism__alloc_count();
      prism__alloc_fail_at(0);
      if (made < n) {
        check_refusal(c, rc);
        break;
      }
      if (rc != PRISM_ERR_NO_MEMORY)
        check_refusal(c, rc);
    }
  }
}

/* The corpus must refuse for the listed reason: the unbroken original loads. */
static void test_original_loads(void **state)
{
  char path[512];
  (void)state;
  snprintf(path, sizeof path, "%s/valid/valid.safetensors", PRISM_BAD_DIR);
  assert_ok(load_safetensors(path));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_original_loads),
    cmocka_unit_test(test_refused),
    cmocka_unit_test(test_allocation_failures),
  };
  return cmocka_run_group_tests_name("bad", tests, read_manifest, free_manifest);
}
