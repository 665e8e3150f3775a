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
#include "prism/bart.h"
#include "prism/generate.h"
#include "prism/ranker.h"
#include "prism/tokenizer.h"

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

/*
 * Public loaders return a handle through **out, set only on success: after a
 * failure it must still hold the sentinel it started with, or be NULL, never
 * a half-built or freed object.
 */
#define NOT_SET ((void *)&all_sentinel)
#define assert_no_handle(h) assert_true((void *)(h) == NULL || (void *)(h) == NOT_SET)

static int load_bart_capped(const char *path, uint64_t cap)
{
  prism_bart_load_params params;
  prism_generate_params gen;
  prism_bart *m = NOT_SET;
  int rc;
  prism_bart_load_params_init(&params, sizeof params);
  params.max_file_size = cap;
  rc = prism_bart_load(&m, path, &params);
  if (rc != PRISM_OK) {
    assert_no_handle(m);
    return rc;
  }
  /* The generation settings a folder carries are read when a request needs them. */
  rc = prism_generate_params_init(&gen, sizeof gen);
  if (rc == PRISM_OK)
    rc = prism_generate_params_from_model(&gen, m, NULL);
  prism_bart_free(m);
  return rc;
}

static int load_bart(const char *path)
{
  return load_bart_capped(path, 0);
}

static int load_bart_cap1k(const char *path)
{
  return load_bart_capped(path, 1024);
}

static int load_tokenizer(const char *path)
{
  prism_tokenizer *t = NOT_SET;
  int rc = prism_tokenizer_load(&t, path, NULL);
  if (rc != PRISM_OK)
    assert_no_handle(t);
  else
    prism_tokenizer_free(t);
  return rc;
}

static int load_interactions(const char *path)
{
  prism_interactions *d = NOT_SET;
  int rc = prism_interactions_load_tsv(&d, path);
  if (rc != PRISM_OK)
    assert_no_handle(d);
  else
    prism_interactions_free(d);
  return rc;
}

static int load_ranker(const char *path)
{
  prism_ranker *r = NOT_SET;
  int rc = prism_ranker_load(&r, path);
  if (rc != PRISM_OK)
    assert_no_handle(r);
  else
    prism_ranker_free(r);
  return rc;
}

static const struct {
  const char *name;
  int (*load)(const char *path);
  const char *original; /* the unbroken file or folder, under tests/bad/valid */
  const char *fn;       /* when set, every message starts with "<fn>: " */
} loaders[] = {
  { "safetensors", load_safetensors, "valid.safetensors", NULL },
  { "safetensors-cap64", load_safetensors_cap64, NULL, NULL },
  { "bart", load_bart, "bart", NULL },
  { "bart-cap1k", load_bart_cap1k, NULL, NULL },
  { "tokenizer", load_tokenizer, "tokenizer", NULL },
  { "tokenizer", load_tokenizer, "tokenizer-json", NULL },
  { "interactions", load_interactions, "interactions.tsv", "prism_interactions_load_tsv" },
  { "ranker", load_ranker, "ranker.safetensors", "prism_ranker_load" },
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

static int loader_index(const bad_case *c)
{
  for (size_t i = 0; i < sizeof loaders / sizeof loaders[0]; i++)
    if (strcmp(loaders[i].name, c->loader) == 0)
      return (int)i;
  fail_msg("%s: unknown loader \"%s\"", c->file, c->loader);
  return 0;
}

static int run_case(const bad_case *c)
{
  return loaders[loader_index(c)].load(c->path);
}

/* The message names the public function first, when the loader's module does so. */
static int names_function(const bad_case *c)
{
  const char *fn = loaders[loader_index(c)].fn;
  size_t n = fn ? strlen(fn) : 0;
  return !fn || (strncmp(prism_last_error(), fn, n) == 0 && prism_last_error()[n] == ':');
}

/* The last path component: the file, or the folder of a folder-shaped case. */
static const char *base_name(const char *path)
{
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* 0 when the case was refused as its row says; otherwise prints why and returns 1. */
static int wrong_refusal(const bad_case *c, int rc)
{
  if (strcmp(prism_status_name(rc), c->status) == 0 && strstr(prism_last_error(), c->mentions) &&
      strstr(prism_last_error(), base_name(c->file)) && names_function(c))
    return 0;
  const char *fn = loaders[loader_index(c)].fn;
  print_error("%s: got %s \"%s\", want %s mentioning \"%s\" and the file%s%s\n", c->file,
              prism_status_name(rc), prism_last_error(), c->status, c->mentions,
              fn ? ", starting with " : "", fn ? fn : "");
  return 1;
}

static void test_refused(void **state)
{
  const corpus *k = *state;
  int wrong = 0;
  assert_true(k->count >= 40);
  for (size_t i = 0; i < k->count; i++)
    wrong += wrong_refusal(&k->cases[i], run_case(&k->cases[i]));
  assert_int_equal(wrong, 0);
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
      if (made < n || rc != PRISM_ERR_NO_MEMORY) {
        if (wrong_refusal(c, rc))
          fail_msg("%s: with allocation %ld of %ld failing", c->file, n, made);
      }
      if (made < n)
        break;
    }
  }
}

/* The corpus must refuse for the listed reason: the unbroken originals load. */
static void test_original_loads(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof loaders / sizeof loaders[0]; i++) {
    char path[1024];
    int rc;
    if (!loaders[i].original)
      continue;
    snprintf(path, sizeof path, "%s/valid/%s", PRISM_BAD_DIR, loaders[i].original);
    rc = loaders[i].load(path);
    if (rc != PRISM_OK)
      fail_msg("%s: %s", path, prism_last_error());
  }
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
