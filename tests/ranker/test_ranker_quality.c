/*
 * Recovery of planted structure: on synthetic taste groups, ALS and BPR must
 * rank held-out interactions far above a popularity ranking, and MF must
 * predict held-out ratings of a planted low-rank model better than the mean.
 */
#include <math.h>

#include "testutil.h"
#include "ranker/ranker_internal.h"
#include "synth.h"

#define K 10

/*
 * Mean precision@K over users of the model's ranking, or (r NULL) of a
 * popularity ranking: popular[g] orders items by their count among the users
 * of group g (groups 1: global popularity; the planted groups: an oracle that
 * knows each user's group).
 */
static double precision_at_k(const synth_data *d, const prism_ranker *r, int32_t **popular,
                             int groups)
{
  int32_t items[K];
  float scores[K];
  double total = 0.0;
  size_t t = 0, e0 = 0, e1 = 0;
  for (int32_t u = 0; u < d->users; u++) {
    size_t n_rel = 0, count = 0, t0 = t;
    while (t < d->n_test && d->test_user[t] == u)
      t++, n_rel++;
    for (e0 = e1; e1 < d->n_train && d->train_user[e1] == u;)
      e1++;
    if (r) {
      assert_ok(prism_ranker_recommend(items, scores, &count, r, u, K, NULL));
    } else {
      const int32_t *order = popular[u % groups];
      for (int32_t i = 0; i < d->items && count < K; i++) {
        int seen = 0;
        for (size_t e = e0; e < e1 && !seen; e++)
          seen = d->train_item[e] == order[i];
        if (!seen)
          items[count++] = order[i];
      }
    }
    prism_ranker_metrics m = { .struct_size = sizeof m };
    assert_ok(prism_ranker_metrics_list(&m, items, count, d->test_item + t0, n_rel, K));
    total += m.precision;
  }
  return total / d->users;
}

#define GROUPS 10

static void recovers(int algorithm, const char *name)
{
  synth_data d;
  prism_ranker_params p;
  prism_ranker *r;
  int32_t *global, *by_group[GROUPS];
  assert_int_equal(synth_generate(&d, 1500, 2000, GROUPS, 30, 0.2, 7), 0);
  assert_ok(prism_ranker_params_init(&p, sizeof p));
  p.algorithm = algorithm;
  p.seed = 1;
  assert_ok(prism_ranker_train_coo(&r, d.users, d.items, d.n_train, d.train_user, d.train_item,
                                   NULL, &p));
  assert_non_null(global = synth_popularity(&d, 1, 0));
  for (int g = 0; g < GROUPS; g++)
    assert_non_null(by_group[g] = synth_popularity(&d, GROUPS, g));
  double model = precision_at_k(&d, r, NULL, 1), pop = precision_at_k(&d, NULL, &global, 1);
  double oracle = precision_at_k(&d, NULL, by_group, GROUPS);
  printf(
      "planted structure (1500 users, 2000 items, %d groups): %s P@10 = %.4f, popularity = %.4f, "
      "group-popularity oracle = %.4f\n",
      GROUPS, name, model, pop, oracle);
  assert_true(model > 2.0 * pop);
  assert_true(model > 0.6 * oracle);
  free(global);
  for (int g = 0; g < GROUPS; g++)
    free(by_group[g]);
  prism_ranker_free(r);
  synth_free(&d);
}

static void test_als_recovers(void **state)
{
  (void)state;
  recovers(PRISM_RANKER_ALS, "ALS");
}

static void test_bpr_recovers(void **state)
{
  (void)state;
  recovers(PRISM_RANKER_BPR, "BPR");
}

/* Ratings from a planted rank-3 model plus noise: MF must beat the global mean on held-out pairs. */
static void test_mf_beats_mean(void **state)
{
  (void)state;
  enum { U = 400, I = 300, R = 3, PER = 40 };
  prism__rng g;
  static float pu[U][R], qi[I][R];
  static int32_t tu[U * PER], ti[U * PER];
  static float tv[U * PER];
  prism__rng_seed(&g, 11, 0);
  for (int u = 0; u < U; u++)
    for (int k = 0; k < R; k++)
      pu[u][k] = (float)prism__rng_normal(&g);
  for (int i = 0; i < I; i++)
    for (int k = 0; k < R; k++)
      qi[i][k] = (float)prism__rng_normal(&g);
  size_t n = 0;
  for (int u = 0; u < U; u++)
    for (int j = 0; j < PER; j++) {
      int32_t i = (int32_t)((u * 7 + j * 13) % I);
      double s = 3.0 +
                 0.6 * (pu[u][0] * qi[i][0] + pu[u][1] * qi[i][1] + pu[u][2] * qi[i][2]) / sqrt(R) +
                 0.2 * prism__rng_normal(&g);
      tu[n] = u;
      ti[n] = i;
      tv[n++] = (float)fmin(5.0, fmax(1.0, s));
    }
  /* Every fifth rating is held out. */
  static int32_t au[U * PER], ai[U * PER];
  static float av[U * PER];
  size_t na = 0;
  for (size_t e = 0; e < n; e++)
    if (e % 5 != 4) {
      au[na] = tu[e];
      ai[na] = ti[e];
      av[na++] = tv[e];
    }
  prism_ranker_params p;
  prism_ranker *r;
  assert_ok(prism_ranker_params_init(&p, sizeof p));
  p.algorithm = PRISM_RANKER_MF;
  p.iterations = 60;
  p.learning_rate = 0.01f;
  assert_ok(prism_ranker_train_coo(&r, U, I, na, au, ai, av, &p));
  double mean = 0.0, se_model = 0.0, se_mean = 0.0;
  for (size_t e = 0; e < na; e++)
    mean += av[e];
  mean /= (double)na;
  size_t held = 0;
  for (size_t e = 4; e < n; e += 5) {
    float pred;
    assert_ok(prism_ranker_predict(&pred, r, tu[e], ti[e]));
    assert_true(pred >= 1.0f && pred <= 5.0f);
    se_model += (pred - tv[e]) * (pred - tv[e]);
    se_mean += (mean - tv[e]) * (mean - tv[e]);
    held++;
  }
  double rmse = sqrt(se_model / held), rmse_mean = sqrt(se_mean / held);
  printf("planted rank-3 ratings: MF held-out RMSE = %.4f, global mean RMSE = %.4f\n", rmse,
         rmse_mean);
  assert_true(rmse < 0.8 * rmse_mean);
  prism_ranker_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_als_recovers),
    cmocka_unit_test(test_bpr_recovers),
    cmocka_unit_test(test_mf_beats_mean),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
