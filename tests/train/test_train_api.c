/*
 * <prism/train.h> beyond the HF runs: HF _init_weights from config.json,
 * settings and pairs refused with clear messages, checkpoint folders that
 * never replace what is not theirs and survive a full disk, frozen layouts.
 */
#include <dirent.h>
#include <signal.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "train_test_util.h"

/* Released layouts are frozen: fields may only be appended (LP64). */
#if UINTPTR_MAX == 0xffffffffffffffffu
_Static_assert(offsetof(prism_pairs_params, truncate) == 20, "prism_pairs_params v1");
_Static_assert(offsetof(prism_train_params, tokenizer_dir) == 152, "prism_train_params v1");
_Static_assert(offsetof(prism_train_progress, checkpoint) == 88, "prism_train_progress v1");
_Static_assert(offsetof(prism_train_state, stopped_early) == 48, "prism_train_state v1");
#endif

static char *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf;
  long size;
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)size + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
  fclose(f);
  buf[size] = '\0';
  *len = (size_t)size;
  return buf;
}

static prism_trainer *from_config(uint64_t seed)
{
  char path[1024];
  size_t len;
  char *config = read_file(fixture_path(path, sizeof path, "tiny-bart/config.json"), &len);
  prism_train_params p;
  prism_trainer *t;
  prism_train_params_init(&p, sizeof p);
  p.seed = seed;
  assert_ok(prism_trainer_create_from_config(&t, config, len, NULL, 0, &p));
  free(config);
  return t;
}

/* HF _init_weights: normal(0, init_std) Linear and Embedding weights, zero biases, LayerNorm 1/0,
 * the padding row of the embedding zero; seeded and the same on any thread count. */
static void test_init_weights(void **state)
{
  prism_trainer *a, *b, *c;
  const prism__bart_param *ps;
  const float *w;
  size_t n, count;
  (void)state;
  prism_set_num_threads(1);
  a = from_config(7);
  prism_set_num_threads(2);
  b = from_config(7);
  c = from_config(8);
  prism_set_num_threads(0);
  w = prism__bart_arena(prism_trainer_model(a), &count);
  assert_memory_equal(w, prism__bart_arena(prism_trainer_model(b), NULL), count * sizeof *w);
  assert_memory_not_equal(w, prism__bart_arena(prism_trainer_model(c), NULL), count * sizeof *w);
  ps = prism__bart_params(prism_trainer_model(a), &n);
  for (size_t i = 0; i < n; i++) {
    const float *x = w + ps[i].offset;
    double sum = 0.0, sq = 0.0;
    size_t cnt = ps[i].count;
    int norm = strstr(ps[i].name, "layer_norm") || strstr(ps[i].name, "layernorm");
    int bias = strcmp(ps[i].name + strlen(ps[i].name) - 5, ".bias") == 0;
    for (size_t k = 0; k < cnt; k++) {
      sum += x[k];
      sq += (double)x[k] * x[k];
    }
    if (bias) {
      assert_true(sq == 0.0);
    } else if (norm) {
      assert_true(sum == (double)cnt && sq == (double)cnt);
    } else {
      double mean = sum / (double)cnt, sd = sqrt(sq / (double)cnt - mean * mean);
      if (i == 0) /* the padding row (pad_token_id 1) of the tied embedding is zero */
        for (size_t k = 64; k < 128; k++)
          assert_true(x[k] == 0.0f);
      if (fabs(sd - 0.3) > 0.03 || fabs(mean) > 0.03)
        fail_msg("%s: mean %.4f, std %.4f (init_std 0.3)", ps[i].name, mean, sd);
    }
  }
  w = prism__bart_final_logits_bias(prism_trainer_model(a));
  for (size_t k = 0; k < 1000; k++)
    assert_true(w[k] == 0.0f);
  prism_trainer_free(a);
  prism_trainer_free(b);
  prism_trainer_free(c);
}

static prism_trainer *tiny_trainer(prism_train_params *p)
{
  char path[1024];
  prism_bart *init;
  prism_trainer *t = NULL;
  int rc;
  assert_ok(prism_bart_load(&init, fixture_path(path, sizeof path, "tiny-bart"), NULL));
  rc = prism_trainer_create(&t, init, p);
  prism_bart_free(init);
  return rc == PRISM_OK ? t : NULL;
}

static void test_settings_refused(void **state)
{
  static const struct {
    size_t offset;
    double value;
    const char *says;
  } reals[] = {
    { offsetof(prism_train_params, learning_rate), -1.0, "learning_rate" },
    { offsetof(prism_train_params, adam_beta1), 1.0, "adam_beta1" },
    { offsetof(prism_train_params, dropout), 1.0, "dropout" },
    { offsetof(prism_train_params, label_smoothing), NAN, "label_smoothing" },
  };
  prism_train_params p;
  (void)state;
  for (size_t i = 0; i < sizeof reals / sizeof *reals; i++) {
    prism_train_params_init(&p, sizeof p);
    memcpy((char *)&p + reals[i].offset, &reals[i].value, sizeof(double));
    assert_null(tiny_trainer(&p));
    assert_int_equal(prism_last_error_status(), PRISM_ERR_INVALID_ARGUMENT);
    assert_error_mentions("prism_trainer_create");
    assert_error_mentions(reals[i].says);
  }
  prism_train_params_init(&p, sizeof p);
  p.batch_size = 0;
  assert_null(tiny_trainer(&p));
  assert_error_mentions("batch_size");
  prism_train_params_init(&p, sizeof p);
  p.schedule = 7;
  assert_null(tiny_trainer(&p));
  assert_error_mentions("schedule");
  p.struct_size = 8;
  assert_status(prism_train_params_init(&p, 8), PRISM_ERR_INVALID_ARGUMENT);
}

static void test_pairs_refused(void **state)
{
  static const struct {
    const char *text;
    const char *says;
  } bad[] = {
    { "{\"input_ids\": [0, 5, 2], \"labels\": [0, 2]}\nnot json\n", "line 2" },
    { "{\"input_ids\": [0, -5, 2], \"labels\": [0, 2]}\n", "integer token id" },
    { "{\"input_ids\": [0, 5, 2], \"labels\": []}\n", "target is empty" },
    { "{\"input_ids\": [0, 5.5], \"labels\": [0, 2]}\n", "input_ids" },
    { "{\"source\": \"a\", \"target\": \"b\"}\n", "need a tokenizer" },
    { "{\"source\": \"a\", \"labels\": [0]}\n", "not both" },
    { "[1, 2]\n", "expected a JSON object" },
  };
  prism_trainer *t;
  prism_pairs *pairs;
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    pairs = (prism_pairs *)1;
    assert_status(
        prism_pairs_parse(&pairs, bad[i].text, strlen(bad[i].text), "data.jsonl", NULL, NULL),
        prism_last_error_status());
    assert_null(pairs);
    assert_error_mentions("prism_pairs_parse: data.jsonl line");
    assert_error_mentions(bad[i].says);
  }
  /* Against the model, when training starts: the vocabulary, the positions, a label to learn. */
  t = tiny_trainer(NULL);
  assert_non_null(t);
  {
    static const char *const wrong[] = {
      "{\"input_ids\": [0, 1000, 2], \"labels\": [0, 2]}\n",
      "{\"input_ids\": [0, 5, 2], \"labels\": [-100, -100]}\n",
    };
    static const char *const says[] = { "outside the vocabulary", "no label to learn" };
    for (size_t i = 0; i < 2; i++) {
      assert_ok(prism_pairs_parse(&pairs, wrong[i], strlen(wrong[i]), NULL, NULL, NULL));
      assert_status(prism_trainer_train(t, pairs, NULL, NULL, NULL), prism_last_error_status());
      assert_error_mentions("training pair 0");
      assert_error_mentions(says[i]);
      prism_pairs_free(pairs);
    }
  }
  prism_trainer_free(t);
}

static char *temp_dir(void)
{
  const char *tmp = getenv("TMPDIR");
  char *dir = malloc(1024);
  snprintf(dir, 1024, "%s/prism-train-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  assert_non_null(mkdtemp(dir));
  return dir;
}

static void remove_all(const char *dir)
{
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static size_t entries(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  size_t n = 0;
  assert_non_null(d);
  while ((e = readdir(d)) != NULL)
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

/* A save replaces only what is ours, and a failed save (a full disk) leaves the old one whole. */
static void test_save_targets(void **state)
{
  char *root = temp_dir(), path[1100], other[1100], link[1100], file[1200];
  prism_trainer *t = tiny_trainer(NULL);
  struct rlimit old, small;
  size_t len_before, len_after;
  char *before, *after;
  FILE *f;
  (void)state;
  snprintf(path, sizeof path, "%s/ckpt", root);
  assert_ok(prism_trainer_save(t, path));
  assert_ok(prism_trainer_save(t, path)); /* ours: replaced */
  snprintf(other, sizeof other, "%s/other", root);
  mkdir(other, 0700);
  snprintf(file, sizeof file, "%s/notes.txt", other);
  f = fopen(file, "w");
  fclose(f);
  assert_status(prism_trainer_save(t, other), PRISM_ERR_IO);
  assert_error_mentions("did not write");
  assert_int_equal(entries(other), 1);
  assert_status(prism_trainer_save(t, file), PRISM_ERR_IO);
  assert_error_mentions("not a folder");
  snprintf(link, sizeof link, "%s/link", root);
  assert_int_equal(symlink(path, link), 0);
  assert_status(prism_trainer_save(t, link), PRISM_ERR_IO);
  assert_error_mentions("symbolic link");

  /* A full disk: writes fail past 64 KiB. The good checkpoint stays, nothing is left behind. */
  snprintf(file, sizeof file, "%s/model.safetensors", path);
  before = read_file(file, &len_before);
  getrlimit(RLIMIT_FSIZE, &old);
  small = old;
  small.rlim_cur = 64 * 1024;
  signal(SIGXFSZ, SIG_IGN);
  setrlimit(RLIMIT_FSIZE, &small);
  assert_status(prism_trainer_save(t, path), PRISM_ERR_IO);
  setrlimit(RLIMIT_FSIZE, &old);
  after = read_file(file, &len_after);
  assert_int_equal(len_before, len_after);
  assert_memory_equal(before, after, len_before);
  assert_int_equal(entries(root), 3); /* ckpt, other, link: no temporary folder */
  free(before);
  free(after);
  prism_trainer_free(t);
  remove_all(root);
  free(root);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_init_weights),
    cmocka_unit_test(test_settings_refused),
    cmocka_unit_test(test_pairs_refused),
    cmocka_unit_test(test_save_targets),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
