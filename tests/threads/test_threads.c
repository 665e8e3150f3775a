/*
 * One tokenizer, one BART model and one ranker shared by four threads, each
 * with its own session, all working at once: every thread must get exactly
 * what a single thread got. Run it under ThreadSanitizer with tests/tsan.sh.
 */
#include <pthread.h>

#include "../testutil.h"

#define THREADS 4
#define ROUNDS 6
#define STEPS 6
#define USERS 24
#define K 5

static const char *const texts[] = {
  "Hello world",
  " The quick brown fox jumps over the lazy dog.",
  "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 <mask> don't",
  "  spaces\n\tand tabs  ",
};
#define N_TEXTS (sizeof texts / sizeof texts[0])
#define MAX_IDS 64

typedef struct shared {
  prism_tokenizer *tok;
  prism_bart *model;
  prism_ranker *ranker;
} shared;

/* Everything one thread computes; compared bytewise with the single-threaded run. */
typedef struct outcome {
  int32_t ids[N_TEXTS][MAX_IDS];
  size_t n_ids[N_TEXTS];
  int32_t tokens[2][STEPS];
  int32_t items[USERS][K];
  float scores[USERS][K];
  int failed;
} outcome;

static int32_t argmax(const float *v, int32_t n)
{
  int32_t best = 0;
  for (int32_t i = 1; i < n; i++)
    if (v[i] > v[best])
      best = i;
  return best;
}

/* Greedy decoding of two inputs, STEPS tokens each. */
static int greedy(const shared *s, outcome *o)
{
  static const int32_t input[2][5] = { { 0, 15, 27, 99, 2 }, { 0, 31, 2, 1, 1 } };
  prism_bart_session *session = NULL;
  int32_t step_tokens[2] = { 2, 2 };
  const float *logits;
  int rc = prism_bart_session_create(&session, s->model, NULL);
  if (rc == PRISM_OK)
    rc = prism_bart_session_encode(session, &input[0][0], NULL, 2, 5, NULL);
  if (rc == PRISM_OK)
    rc = prism_bart_session_decoder_start(session, 1);
  for (int t = 0; t < STEPS && rc == PRISM_OK; t++) {
    rc = prism_bart_session_decoder_step(session, step_tokens, &logits);
    for (int r = 0; r < 2 && rc == PRISM_OK; r++)
      o->tokens[r][t] = step_tokens[r] = argmax(logits + (size_t)r * 1000, 1000);
  }
  prism_bart_session_free(session);
  return rc;
}

static int encode_all(const shared *s, outcome *o)
{
  int rc = PRISM_OK;
  for (size_t i = 0; i < N_TEXTS && rc == PRISM_OK; i++)
    rc = prism_tokenizer_encode(o->ids[i], MAX_IDS, &o->n_ids[i], s->tok, texts[i],
                                strlen(texts[i]), 0);
  return rc;
}

static int recommend_all(const shared *s, outcome *o)
{
  int rc = PRISM_OK;
  size_t n;
  for (int32_t u = 0; u < USERS && rc == PRISM_OK; u++)
    rc = prism_ranker_recommend(o->items[u], o->scores[u], &n, s->ranker, u, K, NULL);
  return rc;
}

static void run_once(const shared *s, outcome *o)
{
  memset(o, 0, sizeof *o);
  o->failed =
      encode_all(s, o) != PRISM_OK || greedy(s, o) != PRISM_OK || recommend_all(s, o) != PRISM_OK;
}

typedef struct worker {
  const shared *s;
  const outcome *want;
  int mismatches;
} worker;

static void *hammer(void *arg)
{
  worker *w = arg;
  outcome *got = malloc(sizeof *got);
  for (int round = 0; got && round < ROUNDS; round++) {
    run_once(w->s, got);
    w->mismatches += got->failed || memcmp(got, w->want, sizeof *got) != 0;
  }
  free(got);
  return NULL;
}

static prism_ranker *train_ranker(void)
{
  prism_interactions *data = NULL;
  prism_ranker_params params;
  prism_ranker *r = NULL;
  char user[16], item[16];
  assert_ok(prism_interactions_create(&data));
  for (int u = 0; u < USERS; u++)
    for (int j = 0; j < 6; j++) {
      snprintf(user, sizeof user, "u%d", u);
      snprintf(item, sizeof item, "i%d", (u * 7 + j * 5) % 40);
      assert_ok(prism_interactions_add(data, user, item, 1.0f));
    }
  prism_ranker_params_init(&params, sizeof params);
  params.factors = 8;
  params.iterations = 3;
  assert_ok(prism_ranker_train(&r, data, &params));
  prism_interactions_free(data);
  return r;
}

/* Reference single-threaded, then THREADS threads at once, with `pool` kernel threads each. */
static void hammer_shared(int pool)
{
  char dir[1024];
  shared s;
  outcome *want = malloc(sizeof *want);
  pthread_t threads[THREADS];
  worker workers[THREADS];
  assert_non_null(want);
  assert_int_equal(prism_set_num_threads(pool), pool);
  assert_ok(prism_tokenizer_load(&s.tok, fixture_path(dir, sizeof dir, "bart-vocab"), NULL));
  assert_ok(prism_bart_load(&s.model, fixture_path(dir, sizeof dir, "tiny-bart"), NULL));
  s.ranker = train_ranker();
  run_once(&s, want);
  if (want->failed)
    fail_msg("single-threaded run: %s", prism_last_error());
  for (int i = 0; i < THREADS; i++) {
    workers[i] = (worker){ &s, want, 0 };
    assert_int_equal(pthread_create(&threads[i], NULL, hammer, &workers[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(threads[i], NULL);
    assert_int_equal(workers[i].mismatches, 0);
  }
  prism_ranker_free(s.ranker);
  prism_bart_free(s.model);
  prism_tokenizer_free(s.tok);
  free(want);
}

static void test_shared_objects(void **state)
{
  (void)state;
  hammer_shared(1);
}

/* The same with the kernel worker pool in play (callers contend for it). */
static void test_shared_objects_with_pool(void **state)
{
  (void)state;
  hammer_shared(2);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_shared_objects),
    cmocka_unit_test(test_shared_objects_with_pool),
  };
  return cmocka_run_group_tests_name("threads", tests, NULL, NULL);
}
