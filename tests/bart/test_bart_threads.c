/*
 * One prism_bart shared by four threads, each with its own session, running
 * encode, teacher-forced logits and a decode with reordering at the same time:
 * every thread must get exactly the single-threaded result.
 */
#include <pthread.h>

#include "bart_test_util.h"

#define THREADS 4
#define ROUNDS 3
#define STEPS 12
#define RPI 2

static const int32_t ids[2 * 8] = { 0, 10, 20, 30, 40, 50, 60, 2, 0, 500, 7, 999, 2, 1, 1, 1 };
static const int32_t dec[2 * 5] = { 2, 0, 11, 12, 13, 2, 0, 600, 601, 602 };

typedef struct result {
  float hidden[2 * 8 * 64];
  float logits[2 * 5 * 1000];
  float last_step[2 * RPI * 1000];
  int status;
} result;

typedef struct job {
  const prism_bart *model;
  result *out;
} job;

static int run(const prism_bart *model, result *out)
{
  prism_bart_session *s = NULL;
  int32_t tokens[2 * RPI], src[2 * RPI];
  const float *logits = NULL;
  int rc = prism_bart_session_create(&s, model, NULL);
  for (int round = 0; round < ROUNDS && rc == PRISM_OK; round++) {
    rc = prism_bart_session_encode(s, ids, NULL, 2, 8, out->hidden);
    if (rc == PRISM_OK)
      rc = prism_bart_session_forward(s, dec, 5, out->logits);
    if (rc == PRISM_OK)
      rc = prism_bart_session_decoder_start(s, RPI);
    for (int r = 0; r < 2 * RPI; r++)
      tokens[r] = 2;
    for (int t = 0; t < STEPS && rc == PRISM_OK; t++) {
      rc = prism_bart_session_decoder_step(s, tokens, &logits);
      for (int r = 0; r < 2 * RPI; r++) {
        src[r] = (r / RPI) * RPI + (t + r) % RPI; /* duplicates every other step */
        tokens[r] = (int32_t)((t * 37 + r * 11) % 1000);
      }
      if (rc == PRISM_OK && t + 1 < STEPS)
        rc = prism_bart_session_decoder_reorder(s, src);
    }
  }
  if (rc == PRISM_OK)
    memcpy(out->last_step, logits, sizeof out->last_step);
  prism_bart_session_free(s);
  return rc;
}

static void *thread_main(void *arg)
{
  job *j = arg;
  j->out->status = run(j->model, j->out);
  return NULL;
}

static void test_shared_model(void **state)
{
  char path[1024];
  prism_bart *model;
  result *expected = calloc(1, sizeof *expected), *got = calloc(THREADS, sizeof *got);
  pthread_t threads[THREADS];
  job jobs[THREADS];
  (void)state;
  assert_ok(prism_bart_load(&model, fixture_path(path, sizeof path, "tiny-bart"), NULL));
  assert_ok(run(model, expected));
  for (int i = 0; i < THREADS; i++) {
    jobs[i].model = model;
    jobs[i].out = &got[i];
    assert_int_equal(pthread_create(&threads[i], NULL, thread_main, &jobs[i]), 0);
  }
  for (int i = 0; i < THREADS; i++)
    assert_int_equal(pthread_join(threads[i], NULL), 0);
  for (int i = 0; i < THREADS; i++) {
    assert_ok(got[i].status);
    assert_memory_equal(got[i].hidden, expected->hidden, sizeof expected->hidden);
    assert_memory_equal(got[i].logits, expected->logits, sizeof expected->logits);
    assert_memory_equal(got[i].last_step, expected->last_step, sizeof expected->last_step);
  }
  prism_bart_free(model);
  free(expected);
  free(got);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_shared_model),
  };
  /* More library threads than cores: the pool is contended by the four callers. */
  prism_set_num_threads(2);
  return cmocka_run_group_tests_name("bart_threads", tests, NULL, NULL);
}
