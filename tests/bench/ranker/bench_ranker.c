/*
 * Ranker benchmark. Prints one JSON object:
 *   synthetic: seconds per ALS and BPR iteration and recommend-all-users
 *   throughput on planted data (default 1M interactions, 100k items), each
 *   with a peer from the same run: ALS on one thread, per-user recommend calls;
 *   movielens (with --movielens PATH): P@10 etc. of ALS, BPR and popularity and
 *   MF RMSE. PATH is a directory with u1.base/u1.test (the standard split) or
 *   a u.data file (a seeded 80/20 split).
 *
 * usage: bench_ranker [--users N] [--per-user N] [--items N] [--factors N]
 *                     [--threads N] [--movielens PATH] [--skip-synthetic]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "prism/prism.h"
#include "ranker/ranker_internal.h"
#include "synth.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Wall and process CPU seconds of each iteration, from the progress callback. */
typedef struct timer {
  double last, total, cpu_last, cpu_total;
  int n;
} timer;

static double cpu_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int tick(int iteration, int total, double loss, void *payload)
{
  timer *t = payload;
  double x = now();
  (void)iteration, (void)total, (void)loss;
  t->total += x - t->last;
  t->last = x;
  x = cpu_now();
  t->cpu_total += x - t->cpu_last;
  t->cpu_last = x;
  t->n++;
  return 1;
}

/* Wall seconds per iteration; *cpu receives process CPU seconds per iteration (all threads). */
static double seconds_per_iteration(const synth_data *d, int algorithm, int factors, int iterations,
                                    double *cpu)
{
  prism_ranker_params p;
  prism_ranker *r;
  timer t = { 0, 0, 0, 0, 0 };
  prism_ranker_params_init(&p, sizeof p);
  p.algorithm = algorithm;
  p.factors = factors;
  p.iterations = iterations;
  p.progress = tick;
  p.progress_payload = &t;
  t.last = now();
  t.cpu_last = cpu_now();
  if (prism_ranker_train_coo(&r, d->users, d->items, d->n_train, d->train_user, d->train_item, NULL,
                             &p)) {
    fprintf(stderr, "train: %s\n", prism_last_error());
    exit(1);
  }
  prism_ranker_free(r);
  *cpu = t.cpu_total / t.n;
  return t.total / t.n;
}

static void synthetic(int32_t users, int per_user, int32_t items, int factors, int threads)
{
  synth_data d;
  if (synth_generate(&d, users, items, 100, per_user, 0.2, 1) != 0) {
    fprintf(stderr, "cannot generate the synthetic data\n");
    exit(1);
  }
  prism_set_num_threads(1);
  double als1_cpu, als_cpu, bpr_cpu;
  double als1 = seconds_per_iteration(&d, PRISM_RANKER_ALS, factors, 2, &als1_cpu);
  prism_set_num_threads(threads);
  double als = seconds_per_iteration(&d, PRISM_RANKER_ALS, factors, 3, &als_cpu);
  double bpr = seconds_per_iteration(&d, PRISM_RANKER_BPR, factors, 2, &bpr_cpu);

  prism_ranker_params p;
  prism_ranker *r;
  prism_ranker_params_init(&p, sizeof p);
  p.factors = factors;
  p.iterations = 1;
  prism_ranker_train_coo(&r, d.users, d.items, d.n_train, d.train_user, d.train_item, NULL, &p);
  int32_t *all = malloc((size_t)users * sizeof *all),
          *out = malloc((size_t)users * 10 * sizeof *out);
  float *scores = malloc((size_t)users * 10 * sizeof *scores);
  size_t *counts = malloc((size_t)users * sizeof *counts);
  for (int32_t u = 0; u < users; u++)
    all[u] = u;
  double t0 = now(), c0 = cpu_now();
  prism_ranker_recommend_batch(out, scores, counts, r, all, (size_t)users, 10, NULL);
  double batch = now() - t0, batch_cpu = cpu_now() - c0;
  int32_t single_users = users < 500 ? users : 500;
  t0 = now();
  for (int32_t u = 0; u < single_users; u++)
    prism_ranker_recommend(out, scores, counts, r, u, 10, NULL);
  double single = now() - t0;

  printf("  \"synthetic\": {\"users\": %d, \"items\": %d, \"interactions\": %zu, \"factors\": %d, "
         "\"threads\": %d,\n",
         users, items, d.n_train, factors, prism_get_num_threads());
  printf("    \"als_seconds_per_iteration\": %.4f, \"als_1_thread_seconds_per_iteration\": %.4f, "
         "\"als_thread_speedup\": %.2f,\n",
         als, als1, als1 / als);
  printf("    \"als_cpu_seconds_per_iteration\": %.4f, \"als_1_thread_cpu_seconds_per_iteration\": "
         "%.4f,\n",
         als_cpu, als1_cpu);
  printf("    \"bpr_seconds_per_iteration\": %.4f, \"bpr_cpu_seconds_per_iteration\": %.4f, "
         "\"bpr_over_als_iteration\": %.2f,\n",
         bpr, bpr_cpu, bpr / als);
  printf("    \"recommend_all_users_seconds\": %.3f, \"recommend_all_users_cpu_seconds\": %.3f, "
         "\"recommend_users_per_second\": %.0f,\n",
         batch, batch_cpu, users / batch);
  printf("    \"single_call_users_per_second\": %.0f, \"batch_over_single_speedup\": %.2f}",
         single_users / single, (users / batch) / (single_users / single));
  free(all);
  free(out);
  free(scores);
  free(counts);
  prism_ranker_free(r);
  synth_free(&d);
}

/* ---- MovieLens ---- */

static prism_interactions *load(const char *path)
{
  prism_interactions *d;
  if (prism_interactions_load_tsv(&d, path) != PRISM_OK) {
    fprintf(stderr, "%s\n", prism_last_error());
    exit(1);
  }
  return d;
}

/* A seeded 80/20 split of one file. */
static void split(const prism_interactions *all, prism_interactions **train,
                  prism_interactions **test)
{
  prism__rng g;
  prism__rng_seed(&g, 2024, 0);
  prism_interactions_create(train);
  prism_interactions_create(test);
  for (size_t e = 0; e < prism_interactions_count(all); e++) {
    int32_t u, i;
    float v;
    prism_interactions_get(&u, &i, &v, all, e);
    prism_interactions_add(prism__rng_uniform(&g) < 0.8 ? *train : *test,
                           prism_interactions_user_id(all, u), prism_interactions_item_id(all, i),
                           v);
  }
}

/* Popularity: the most-interacted training items the user has not seen, as model indices. */
static prism_ranker_metrics popularity(const prism_ranker *r, const prism_interactions *test, int k)
{
  int32_t I = prism_ranker_num_items(r), U = prism_ranker_num_users(r);
  size_t *count = calloc((size_t)I, sizeof *count);
  for (int32_t u = 0; u < U; u++)
    for (int64_t e = r->seen.ptr[u]; e < r->seen.ptr[u + 1]; e++)
      count[r->seen.index[e]]++;
  /* Popularity as a model (zero factors, item bias = count) so it shares the ranking and metrics path. */
  prism__ranker_hyper hp = r->hp;
  hp.algorithm = PRISM_RANKER_BPR;
  prism_ranker *pop;
  prism__ranker_alloc(&pop, &hp, U, I);
  for (int32_t i = 0; i < I; i++)
    pop->item_bias[i] = (float)count[i];
  pop->seen = r->seen;
  pop->has_ids = 1;
  pop->user_ids = r->user_ids;
  pop->item_ids = r->item_ids;
  prism_ranker_metrics m = { .struct_size = sizeof m };
  prism_ranker_evaluate(&m, NULL, pop, test, k, NULL);
  memset(&pop->seen, 0, sizeof pop->seen);
  memset(&pop->user_ids, 0, sizeof pop->user_ids);
  memset(&pop->item_ids, 0, sizeof pop->item_ids);
  prism_ranker_free(pop);
  free(count);
  return m;
}

static void print_metrics(const char *name, const prism_ranker_metrics *m, double seconds)
{
  printf("    \"%s\": {\"precision@10\": %.4f, \"recall@10\": %.4f, \"ndcg@10\": %.4f, \"map@10\": "
         "%.4f, "
         "\"users\": %zu, \"train_seconds\": %.2f}",
         name, m->precision, m->recall, m->ndcg, m->map, m->users, seconds);
}

static void movielens(const char *path)
{
  struct stat st;
  prism_interactions *train, *test;
  const char *split_name;
  char a[1024], b[1024];
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    snprintf(a, sizeof a, "%s/u1.base", path);
    snprintf(b, sizeof b, "%s/u1.test", path);
    train = load(a);
    test = load(b);
    split_name = "u1.base/u1.test";
  } else {
    prism_interactions *all = load(path);
    split(all, &train, &test);
    prism_interactions_free(all);
    split_name = "seeded 80/20";
  }
  printf("  \"movielens\": {\"split\": \"%s\", \"train\": %zu, \"test\": %zu,\n", split_name,
         prism_interactions_count(train), prism_interactions_count(test));
  prism_ranker_metrics m = { .struct_size = sizeof m };
  prism_ranker *als = NULL;
  const int algos[3] = { PRISM_RANKER_ALS, PRISM_RANKER_BPR, PRISM_RANKER_MF };
  const char *names[3] = { "als", "bpr", "mf" };
  for (int k = 0; k < 3; k++) {
    prism_ranker_params p;
    prism_ranker *r;
    prism_ranker_params_init(&p, sizeof p);
    p.algorithm = algos[k];
    double t0 = now();
    if (prism_ranker_train(&r, train, &p) != PRISM_OK) {
      fprintf(stderr, "%s\n", prism_last_error());
      exit(1);
    }
    double secs = now() - t0;
    prism_ranker_evaluate(&m, NULL, r, test, 10, NULL);
    print_metrics(names[k], &m, secs);
    if (algos[k] == PRISM_RANKER_MF) {
      double rmse, mae;
      prism_ranker_evaluate_ratings(&rmse, &mae, NULL, r, test);
      printf(",\n    \"mf_rmse\": %.4f, \"mf_mae\": %.4f", rmse, mae);
    }
    printf(",\n");
    if (k == 0)
      als = r;
    else
      prism_ranker_free(r);
  }
  m = popularity(als, test, 10);
  print_metrics("popularity", &m, 0.0);
  printf("}");
  prism_ranker_free(als);
  prism_interactions_free(train);
  prism_interactions_free(test);
}

int main(int argc, char **argv)
{
  long users = 50000, per_user = 25, items = 100000, factors = 64, threads = 0;
  const char *ml = NULL;
  int skip = 0;
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : "0";
    if (!strcmp(argv[i], "--users"))
      users = atol(v), i++;
    else if (!strcmp(argv[i], "--per-user"))
      per_user = atol(v), i++;
    else if (!strcmp(argv[i], "--items"))
      items = atol(v), i++;
    else if (!strcmp(argv[i], "--factors"))
      factors = atol(v), i++;
    else if (!strcmp(argv[i], "--threads"))
      threads = atol(v), i++;
    else if (!strcmp(argv[i], "--movielens"))
      ml = v, i++;
    else if (!strcmp(argv[i], "--skip-synthetic"))
      skip = 1;
    else {
      fprintf(stderr, "usage: see the comment at the top of bench_ranker.c\n");
      return 2;
    }
  }
  prism_set_num_threads((int)threads);
  printf("{\n  \"cpu_features\": \"%s\"", prism_cpu_features());
  if (!skip) {
    printf(",\n");
    synthetic((int32_t)users, (int)per_user, (int32_t)items, (int)factors, (int)threads);
  }
  if (ml) {
    printf(",\n");
    movielens(ml);
  }
  printf("\n}\n");
  return 0;
}
