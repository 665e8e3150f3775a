/* Top-k with filters on hand-built models, batch = single, history, similar items, explain shares. */
#include <limits.h>
#include <math.h>

#include "testutil.h"
#include "model_util.h"
#include "synth.h"

/*
 * One factor; item i has factor i (item 3 ties item 2 via a bias in BPR),
 * user 0 factor 1, user 1 factor -1. User 0 has seen items 5 and 1.
 */
static prism_ranker *line_model(int algorithm)
{
  float uf[2] = { 1.0f, -1.0f }, vf[6] = { 0, 1, 2, 3, 4, 5 };
  int32_t su[2] = { 0, 0 }, si[2] = { 5, 1 };
  return make_model(algorithm, 2, 6, 1, uf, vf, NULL, NULL, 2, su, si);
}

static void test_order_and_exclude_seen(void **state)
{
  (void)state;
  prism_ranker *r = line_model(PRISM_RANKER_ALS);
  int32_t items[6];
  float scores[6];
  size_t count;
  assert_ok(prism_ranker_recommend(items, scores, &count, r, 0, 3, NULL));
  assert_int_equal(count, 3);
  int32_t want[3] = { 4, 3, 2 };
  assert_memory_equal(items, want, sizeof want);
  assert_float_equal(scores[0], 4.0, 0.0);
  assert_float_equal(scores[2], 2.0, 0.0);
  /* k above the eligible count returns exactly the eligible items (6 - 2 seen). */
  assert_ok(prism_ranker_recommend(items, scores, &count, r, 0, 6, NULL));
  assert_int_equal(count, 4);
  int32_t all[4] = { 4, 3, 2, 0 };
  assert_memory_equal(items, all, sizeof all);
  /* Without exclude_seen every item is eligible. */
  prism_ranker_filter f;
  assert_ok(prism_ranker_filter_init(&f, sizeof f));
  f.exclude_seen = 0;
  assert_ok(prism_ranker_recommend(items, scores, &count, r, 0, 6, &f));
  assert_int_equal(count, 6);
  assert_int_equal(items[0], 5);
  /* User 1 (factor -1, nothing seen) prefers low indices. */
  assert_ok(prism_ranker_recommend(items, scores, &count, r, 1, 2, NULL));
  assert_int_equal(items[0], 0);
  assert_int_equal(items[1], 1);
  prism_ranker_free(r);
}

static void test_ties_lower_index_first(void **state)
{
  (void)state;
  float uf[1] = { 0.0f }, vf[4] = { 1, 2, 3, 4 };
  prism_ranker *r = make_model(PRISM_RANKER_ALS, 1, 4, 1, uf, vf, NULL, NULL, 0, NULL, NULL);
  int32_t items[4];
  float scores[4];
  size_t count;
  assert_ok(prism_ranker_recommend(items, scores, &count, r, 0, 3, NULL));
  int32_t want[3] = { 0, 1, 2 };
  assert_memory_equal(items, want, sizeof want);
  prism_ranker_free(r);
}

static void test_exclude_and_candidates(void **state)
{
  (void)state;
  prism_ranker *r = line_model(PRISM_RANKER_ALS);
  prism_ranker_filter f;
  int32_t items[6], exclude[2] = { 4, 4 }, cand[5] = { 0, 5, 3, 3, 4 };
  float scores[6];
  size_t count;
  assert_ok(prism_ranker_filter_init(&f, sizeof f));
  f.exclude = exclude;
  f.exclude_count = 2;
  assert_ok(prism_ranker_recommend(items, scores, &count, r, 0, 6, &f));
  int32_t want[3] = { 3, 2, 0 };
  assert_int_equal(count, 3);
  assert_memory_equal(items, want, sizeof want);
  /* Candidates (with duplicates), minus seen 5, minus excluded 4: {3, 0}. */
  f.candidates = cand;
  f.candidate_count = 5;
  assert_ok(prism_ranker_recommend(items, scores, &count, r, 0, 6, &f));
  assert_int_equal(count, 2);
  assert_int_equal(items[0], 3);
  assert_int_equal(items[1], 0);
  /* An empty candidate list leaves nothing eligible. */
  f.candidate_count = 0;
  assert_ok(prism_ranker_recommend(items, scores, &count, r, 0, 6, &f));
  assert_int_equal(count, 0);
  prism_ranker_free(r);
}

/* Every refusal names the public function called and says in words what was wrong. */
static void test_bad_arguments(void **state)
{
  (void)state;
  prism_ranker *r = line_model(PRISM_RANKER_ALS);
  prism_ranker_filter f;
  int32_t items[6], bad = 6, users[2] = { 0, 7 };
  float scores[6];
  size_t count, counts[2];
  assert_status(prism_ranker_recommend(items, scores, &count, r, 0, 0, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_recommend: k must be at least 1");
  assert_status(prism_ranker_recommend(items, scores, &count, r, 0, -3, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_ranker_recommend(items, scores, &count, r, 2, 3, NULL),
                PRISM_ERR_OUT_OF_RANGE);
  assert_error_begins("prism_ranker_recommend: user 2 is out of range (the model has 2 users)");
  assert_status(prism_ranker_recommend(items, scores, &count, r, -1, 3, NULL),
                PRISM_ERR_OUT_OF_RANGE);
  assert_status(prism_ranker_recommend(items, scores, &count, NULL, 0, 3, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_recommend: ranker must not be NULL");
  assert_status(prism_ranker_recommend(NULL, scores, &count, r, 0, 3, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_recommend: items, scores and count must not be NULL");
  assert_status(prism_ranker_recommend_batch(items, scores, counts, r, users, 2, 3, NULL),
                PRISM_ERR_OUT_OF_RANGE);
  assert_error_begins("prism_ranker_recommend_batch: users[1]: user 7 is out of range");
  assert_ok(prism_ranker_filter_init(&f, sizeof f));
  f.exclude = &bad;
  f.exclude_count = 1;
  assert_status(prism_ranker_recommend(items, scores, &count, r, 0, 3, &f), PRISM_ERR_OUT_OF_RANGE);
  assert_error_begins("prism_ranker_recommend: the filter's exclude list holds item 6 (entry 0), "
                      "which is out of range (the model has 6 items)");
  assert_status(prism_ranker_recommend_history(items, scores, &count, r, users, NULL, 1, 3, &f),
                PRISM_ERR_OUT_OF_RANGE);
  assert_error_begins("prism_ranker_recommend_history: the filter's exclude list");
  f.exclude_count = 0;
  f.candidates = NULL;
  f.candidate_count = 2;
  assert_status(prism_ranker_recommend(items, scores, &count, r, 0, 3, &f),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_recommend: the filter's candidates list is NULL but its "
                      "count is 2");
  f.struct_size = 4;
  assert_status(prism_ranker_recommend(items, scores, &count, r, 0, 3, &f),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_recommend: ");
  assert_error_mentions("struct_size is 4 bytes");
  assert_status(prism_ranker_recommend_batch(items, scores, counts, r, users, 1, 3, &f),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_recommend_batch: ");
  assert_status(prism_ranker_filter_init(&f, 4), PRISM_ERR_INVALID_ARGUMENT);
  prism_ranker_params p;
  assert_status(prism_ranker_params_init(&p, 8), PRISM_ERR_INVALID_ARGUMENT);
  int32_t item = 0;
  float x = 42.0f;
  assert_status(prism_ranker_fold_in(&x, NULL, r, &item, NULL, 0), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_fold_in: the history is empty");
  assert_status(prism_ranker_fold_in(&x, NULL, r, NULL, NULL, 1), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_fold_in: history must not be NULL");
  assert_status(prism_ranker_fold_in(&x, NULL, r, &bad, NULL, 1), PRISM_ERR_OUT_OF_RANGE);
  assert_error_begins("prism_ranker_fold_in: history entry 0: item 6 is out of range");
  float nan = NAN;
  assert_status(prism_ranker_fold_in(&x, NULL, r, &item, &nan, 1), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_fold_in: history entry 0: the value is not finite");
  assert_float_equal(x, 42.0, 0.0); /* outputs are written only on success */
  assert_status(prism_ranker_recommend_history(items, scores, &count, r, &item, NULL, 0, 3, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_recommend_history: the history is empty");
  assert_status(prism_ranker_similar_items(items, scores, &count, r, 6, 2), PRISM_ERR_OUT_OF_RANGE);
  assert_error_begins("prism_ranker_similar_items: item 6 is out of range (the model has 6 items)");
  assert_status(prism_ranker_explain(items, scores, &count, r, 1, 0, 3),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_explain: user 1 has an empty history");
  assert_status(prism_ranker_explain(items, scores, &count, r, 0, 0, 0),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_explain: n must be at least 1");
  assert_status(prism_ranker_predict(&x, r, 0, 9), PRISM_ERR_OUT_OF_RANGE);
  assert_error_begins("prism_ranker_predict: item 9 is out of range (the model has 6 items)");
  assert_status(prism_ranker_predict(NULL, r, 0, 0), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_ranker_predict: out must not be NULL");
  prism_ranker_free(r);
}

/*
 * k and n never size the library's own memory: with k = INT_MAX, buffers of
 * num_items entries suffice and the results are exactly those of k = num_items.
 */
static void test_huge_k(void **state)
{
  (void)state;
  prism_ranker *r = line_model(PRISM_RANKER_ALS);
  int32_t items[6], want[6], user = 0, hist[2] = { 1, 5 };
  float scores[6], want_scores[6];
  size_t count, want_count;
  assert_ok(prism_ranker_recommend(want, want_scores, &want_count, r, 0, 6, NULL));
  assert_ok(prism_ranker_recommend(items, scores, &count, r, 0, INT_MAX, NULL));
  assert_int_equal(count, want_count);
  assert_memory_equal(items, want, count * sizeof *items);
  assert_memory_equal(scores, want_scores, count * sizeof *scores);
  assert_ok(prism_ranker_recommend_batch(items, scores, &count, r, &user, 1, INT_MAX, NULL));
  assert_int_equal(count, want_count);
  assert_memory_equal(items, want, count * sizeof *items);
  assert_ok(prism_ranker_recommend_history(items, scores, &count, r, hist, NULL, 2, INT_MAX, NULL));
  assert_int_equal(count, 4);
  assert_ok(prism_ranker_similar_items(items, scores, &count, r, 2, INT_MAX));
  assert_int_equal(count, 5);
  assert_ok(prism_ranker_explain(items, scores, &count, r, 0, 3, INT_MAX));
  assert_int_equal(count, 2);
  prism_ranker_free(r);
}

/* Batch results equal single results over many tiles of users and items. */
static void test_batch_equals_single(void **state)
{
  (void)state;
  synth_data d;
  prism_ranker_params p;
  prism_ranker *r;
  enum { K = 7 };
  assert_int_equal(synth_generate(&d, 300, 5000, 5, 20, 0.3, 4), 0);
  assert_ok(prism_ranker_params_init(&p, sizeof p));
  p.factors = 8;
  p.iterations = 3;
  assert_ok(prism_ranker_train_coo(&r, d.users, d.items, d.n_train, d.train_user, d.train_item,
                                   NULL, &p));
  int32_t users[300], *items = malloc(300 * K * sizeof *items), one[K], exclude[3] = { 0, 1, 2 };
  float *scores = malloc(300 * K * sizeof *scores), s1[K];
  size_t counts[300], c1;
  for (int i = 0; i < 300; i++)
    users[i] = (i * 7) % 300;
  prism_ranker_filter f;
  assert_ok(prism_ranker_filter_init(&f, sizeof f));
  f.exclude = exclude;
  f.exclude_count = 3;
  for (int threads = 1; threads <= 2; threads++) {
    prism_set_num_threads(threads);
    assert_ok(prism_ranker_recommend_batch(items, scores, counts, r, users, 300, K, &f));
    for (int i = 0; i < 300; i++) {
      assert_ok(prism_ranker_recommend(one, s1, &c1, r, users[i], K, &f));
      assert_int_equal(counts[i], c1);
      assert_memory_equal(items + i * K, one, sizeof one);
      /* Brute force: no eligible item outscores the k-th. */
      for (int32_t j = 0; j < r->num_items; j++) {
        int seen = j < 3;
        for (int64_t e = r->seen.ptr[users[i]]; e < r->seen.ptr[users[i] + 1]; e++)
          seen |= r->seen.index[e] == j;
        for (int t = 0; t < K; t++)
          seen |= one[t] == j;
        if (!seen)
          assert_true(prism__ranker_score(r, r->user_factors + users[i] * 8, 0.0f, j) <= s1[K - 1]);
      }
    }
  }
  prism_set_num_threads(0);
  free(items);
  free(scores);
  prism_ranker_free(r);
  synth_free(&d);
}

/* A folded-in copy of a user's history ranks like the user (ALS: exact solve vs CG). */
static void test_recommend_history(void **state)
{
  (void)state;
  synth_data d;
  prism_ranker *r;
  assert_int_equal(synth_generate(&d, 200, 400, 4, 20, 0.2, 8), 0);
  assert_ok(prism_ranker_train_coo(&r, d.users, d.items, d.n_train, d.train_user, d.train_item,
                                   NULL, NULL));
  int32_t hist[32], a[10], b[10];
  float sa[10], sb[10];
  size_t n = 0, ca, cb;
  for (int64_t e = r->seen.ptr[5]; e < r->seen.ptr[6]; e++)
    hist[n++] = r->seen.index[e];
  assert_ok(prism_ranker_recommend(a, sa, &ca, r, 5, 10, NULL));
  assert_ok(prism_ranker_recommend_history(b, sb, &cb, r, hist, NULL, n, 10, NULL));
  assert_int_equal(ca, cb);
  int overlap = 0;
  for (int i = 0; i < 10; i++)
    for (int j = 0; j < 10; j++)
      overlap += a[i] == b[j];
  assert_true(overlap >= 8);
  for (size_t i = 0; i < cb; i++)
    for (size_t j = 0; j < n; j++)
      assert_int_not_equal(b[i], hist[j]);
  assert_status(prism_ranker_recommend_history(b, sb, &cb, r, hist, NULL, 0, 10, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  prism_ranker_free(r);
  synth_free(&d);
}

/* Two factors: items on the unit circle at known angles. */
static void test_similar_items_and_shares(void **state)
{
  (void)state;
  float uf[2] = { 1, 0 }, vf[8] = { 1, 0, 0, 2, 3, 3, -1, 0 };
  int32_t su[3] = { 0, 0, 0 }, si[3] = { 1, 2, 3 };
  prism_ranker *r = make_model(PRISM_RANKER_BPR, 1, 4, 2, uf, vf, NULL, NULL, 3, su, si);
  int32_t items[3];
  float scores[3];
  size_t count;
  assert_ok(prism_ranker_similar_items(items, scores, &count, r, 0, 3));
  assert_int_equal(count, 3);
  int32_t want[3] = { 2, 1, 3 };
  assert_memory_equal(items, want, sizeof want);
  assert_float_equal(scores[0], sqrt(0.5), 1e-6);
  assert_float_equal(scores[1], 0.0, 1e-6);
  assert_float_equal(scores[2], -1.0, 1e-6);
  /* Shares for item 0 over history {1, 2, 3}: cosines 0, 0.7071, -1 over their absolute sum. */
  assert_ok(prism_ranker_explain(items, scores, &count, r, 0, 0, 3));
  double total = sqrt(0.5) + 1.0;
  assert_int_equal(count, 3);
  assert_memory_equal(items, want, sizeof want);
  assert_float_equal(scores[0], sqrt(0.5) / total, 1e-6);
  assert_float_equal(scores[2], -1.0 / total, 1e-6);
  prism_ranker_free(r);
}

static void test_mf_predict_clipped(void **state)
{
  (void)state;
  float uf[2] = { 1, 0 }, vf[4] = { 1, 0, 10, 0 }, ub[1] = { 0.5f }, ib[2] = { 0.25f, 0 };
  prism_ranker *r = make_model(PRISM_RANKER_MF, 1, 2, 2, uf, vf, ub, ib, 0, NULL, NULL);
  r->global_bias = 1.0f;
  float p;
  assert_ok(prism_ranker_predict(&p, r, 0, 0));
  assert_float_equal(p, 1.0 + 0.5 + 0.25 + 1.0, 1e-6);
  assert_ok(prism_ranker_predict(&p, r, 0, 1));
  assert_float_equal(p, 5.0, 0.0);
  /* Recommendation scores stay unclipped. */
  int32_t items[2];
  float scores[2];
  size_t count;
  assert_ok(prism_ranker_recommend(items, scores, &count, r, 0, 2, NULL));
  assert_int_equal(items[0], 1);
  assert_float_equal(scores[0], 11.5, 1e-5);
  prism_ranker_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_order_and_exclude_seen),
    cmocka_unit_test(test_ties_lower_index_first),
    cmocka_unit_test(test_exclude_and_candidates),
    cmocka_unit_test(test_bad_arguments),
    cmocka_unit_test(test_huge_k),
    cmocka_unit_test(test_batch_equals_single),
    cmocka_unit_test(test_recommend_history),
    cmocka_unit_test(test_similar_items_and_shares),
    cmocka_unit_test(test_mf_predict_clipped),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
