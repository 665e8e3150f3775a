/*
 * prism rank train | recommend | eval — the ranker over interactions TSV files
 * (user<TAB>item[<TAB>value[<TAB>timestamp]]). See docs/ranker.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Users per recommend_batch call: bounds the output buffers. */
#define RANK_BATCH 1024

static int on_progress(int iteration, int total, double loss, void *payload)
{
  (void)payload;
  fprintf(stderr, "iteration %d/%d loss %.6g\n", iteration, total, loss);
  return 1;
}

static int parse_algorithm(const char *name)
{
  if (!name || strcmp(name, "als") == 0)
    return PRISM_RANKER_ALS;
  if (strcmp(name, "bpr") == 0)
    return PRISM_RANKER_BPR;
  if (strcmp(name, "mf") == 0)
    return PRISM_RANKER_MF;
  cli_fatal("option --algo: expected als, bpr or mf, got \"%s\"", name);
}

static int rank_train(cli_args *args)
{
  const char *tsv = cli_opt(args, "--interactions"), *out = cli_opt(args, "--out");
  prism_ranker_params p;
  prism_interactions *data;
  prism_ranker *r;
  int rc;

  prism_ranker_params_init(&p, sizeof p);
  p.algorithm = parse_algorithm(cli_opt(args, "--algo"));
  p.factors = (int)cli_opt_long(args, "--factors", 0, 1, 1024);
  p.iterations = (int)cli_opt_long(args, "--iterations", 0, 1, 1000000);
  p.regularization = (float)cli_opt_double(args, "--regularization", 0.0);
  p.alpha = (float)cli_opt_double(args, "--alpha", 0.0);
  p.learning_rate = (float)cli_opt_double(args, "--learning-rate", 0.0);
  p.seed = (uint64_t)cli_opt_long(args, "--seed", 0, 0, 0x7fffffffL);
  int threads = (int)cli_opt_long(args, "--threads", 0, 0, 1024);
  p.progress = on_progress;
  cli_no_extra(args);
  if (!tsv || !out)
    cli_fatal("rank train needs --interactions TSV and --out FILE");
  prism_set_num_threads(threads);
  if ((rc = prism_interactions_load_tsv(&data, tsv)) != PRISM_OK)
    cli_fatal_status(rc, "cannot load interactions");
  fprintf(stderr, "%zu interactions, %d users, %d items\n", prism_interactions_count(data),
          prism_interactions_num_users(data), prism_interactions_num_items(data));
  rc = prism_ranker_train(&r, data, &p);
  prism_interactions_free(data);
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "training failed");
  rc = prism_ranker_save(r, out);
  prism_ranker_free(r);
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "cannot save the model");
  fprintf(stderr, "saved %s\n", out);
  return 0;
}

static prism_ranker *load_model(cli_args *args)
{
  const char *path = cli_opt(args, "--model");
  prism_ranker *r;
  int rc;
  if (!path)
    cli_fatal("--model FILE is required");
  if ((rc = prism_ranker_load(&r, path)) != PRISM_OK)
    cli_fatal_status(rc, "cannot load the model");
  return r;
}

/* The model's string id of a user or item, or its decimal index when the model has no id map. */
static json_t *id_json(const char *id, int32_t index)
{
  char buf[16];
  snprintf(buf, sizeof buf, "%d", (int)index);
  return json_string(id ? id : buf);
}

static void emit_list(const prism_ranker *r, int32_t user, const int32_t *items,
                      const float *scores, size_t count)
{
  json_t *ids = json_array(), *sc = json_array();
  for (size_t i = 0; i < count; i++) {
    json_array_append_new(ids, id_json(prism_ranker_item_id(r, items[i]), items[i]));
    json_array_append_new(sc, json_real(scores[i]));
  }
  cli_emit(json_pack("{s:o, s:o, s:o}", "user", id_json(prism_ranker_user_id(r, user), user),
                     "items", ids, "scores", sc));
}

/* Extra exclusions per model user from a TSV (pairs with unknown ids are ignored). */
typedef struct exclusions {
  int32_t **items;
  size_t *count;
} exclusions;

static void exclusions_load(const prism_ranker *r, const char *path, exclusions *ex)
{
  prism_interactions *d;
  int rc = prism_interactions_load_tsv(&d, path);
  int32_t nu = prism_ranker_num_users(r);
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "cannot load --exclude-seen");
  ex->items = calloc((size_t)nu, sizeof *ex->items);
  ex->count = calloc((size_t)nu, sizeof *ex->count);
  if (!ex->items || !ex->count)
    cli_fatal("out of memory");
  for (size_t e = 0; e < prism_interactions_count(d); e++) {
    int32_t u, i, mu, mi;
    prism_interactions_get(&u, &i, NULL, d, e);
    if (prism_ranker_find_user(&mu, r, prism_interactions_user_id(d, u)) != PRISM_OK ||
        prism_ranker_find_item(&mi, r, prism_interactions_item_id(d, i)) != PRISM_OK)
      continue;
    int32_t *grown = realloc(ex->items[mu], (ex->count[mu] + 1) * sizeof *grown);
    if (!grown)
      cli_fatal("out of memory");
    grown[ex->count[mu]++] = mi;
    ex->items[mu] = grown;
  }
  prism_interactions_free(d);
}

static void recommend_users(const prism_ranker *r, const int32_t *users, size_t n, int k,
                            const exclusions *ex)
{
  int32_t *items = malloc((size_t)RANK_BATCH * k * sizeof *items);
  float *scores = malloc((size_t)RANK_BATCH * k * sizeof *scores);
  size_t counts[RANK_BATCH];
  if (!items || !scores)
    cli_fatal("out of memory");
  for (size_t b = 0; b < n; b += RANK_BATCH) {
    size_t m = n - b < RANK_BATCH ? n - b : RANK_BATCH;
    int rc = PRISM_OK;
    if (!ex->items) {
      rc = prism_ranker_recommend_batch(items, scores, counts, r, users + b, m, k, NULL);
    } else {
      for (size_t i = 0; i < m && rc == PRISM_OK; i++) {
        prism_ranker_filter f;
        prism_ranker_filter_init(&f, sizeof f);
        f.exclude = ex->items[users[b + i]];
        f.exclude_count = ex->count[users[b + i]];
        rc = prism_ranker_recommend(items + i * k, scores + i * k, &counts[i], r, users[b + i], k,
                                    &f);
      }
    }
    if (rc != PRISM_OK)
      cli_fatal_status(rc, "recommend failed");
    for (size_t i = 0; i < m; i++)
      emit_list(r, users[b + i], items + i * k, scores + i * k, counts[i]);
  }
  free(items);
  free(scores);
}

static int rank_recommend(cli_args *args)
{
  prism_ranker *r = load_model(args);
  int k = (int)cli_opt_long(args, "--k", 10, 1, 1000000);
  const char *which = cli_opt(args, "--users"), *seen = cli_opt(args, "--exclude-seen");
  exclusions ex = { NULL, NULL };
  cli_no_extra(args);
  /* No list is longer than the item count: the buffers need no more. */
  if (k > prism_ranker_num_items(r))
    k = (int)prism_ranker_num_items(r);
  if (seen)
    exclusions_load(r, seen, &ex);
  if (!which || strcmp(which, "all") == 0) {
    int32_t nu = prism_ranker_num_users(r), *users = malloc((size_t)nu * sizeof *users);
    if (!users)
      cli_fatal("out of memory");
    for (int32_t u = 0; u < nu; u++)
      users[u] = u;
    recommend_users(r, users, (size_t)nu, k, &ex);
    free(users);
  } else {
    char *list = strdup(which), *save = NULL;
    if (!list)
      cli_fatal("out of memory");
    for (char *id = strtok_r(list, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
      int32_t u;
      int rc = prism_ranker_find_user(&u, r, id);
      if (rc != PRISM_OK)
        cli_emit_last_error(rc);
      else
        recommend_users(r, &u, 1, k, &ex);
    }
    free(list);
  }
  for (int32_t u = 0; ex.items && u < prism_ranker_num_users(r); u++)
    free(ex.items[u]);
  free(ex.items);
  free(ex.count);
  prism_ranker_free(r);
  return 0;
}

static int rank_eval(cli_args *args)
{
  prism_ranker *r = load_model(args);
  const char *path = cli_opt(args, "--test");
  int k = (int)cli_opt_long(args, "--k", 10, 1, 1000000);
  prism_interactions *test;
  prism_ranker_metrics m;
  size_t skipped;
  int rc;
  m.struct_size = sizeof m;
  cli_no_extra(args);
  if (!path)
    cli_fatal("rank eval needs --test TSV");
  if ((rc = prism_interactions_load_tsv(&test, path)) != PRISM_OK)
    cli_fatal_status(rc, "cannot load the test set");
  if ((rc = prism_ranker_evaluate(&m, &skipped, r, test, k, NULL)) != PRISM_OK)
    cli_fatal_status(rc, "evaluation failed");
  json_t *out = json_pack("{s:i, s:I, s:I, s:f, s:f, s:f, s:f}", "k", k, "users",
                          (json_int_t)m.users, "skipped_users", (json_int_t)skipped, "precision",
                          m.precision, "recall", m.recall, "ndcg", m.ndcg, "map", m.map);
  if (prism_ranker_algorithm_of(r) == PRISM_RANKER_MF) {
    double rmse, mae;
    size_t pairs;
    prism_ranker_evaluate_ratings(&rmse, &mae, &pairs, r, test);
    json_object_set_new(out, "rmse", json_real(rmse));
    json_object_set_new(out, "mae", json_real(mae));
    json_object_set_new(out, "rated_pairs", json_integer((json_int_t)pairs));
  }
  cli_emit(out);
  prism_interactions_free(test);
  prism_ranker_free(r);
  return 0;
}

int cli_cmd_rank(cli_args *args)
{
  const char *sub = args->argc > 1 ? args->argv[1] : "";
  if (args->argc > 1)
    args->used[1] = 1;
  if (strcmp(sub, "train") == 0)
    return rank_train(args);
  if (strcmp(sub, "recommend") == 0)
    return rank_recommend(args);
  if (strcmp(sub, "eval") == 0)
    return rank_eval(args);
  fprintf(stderr, "usage: prism rank train --interactions TSV --out FILE [--algo als|bpr|mf] "
                  "[--factors N] [--iterations N] [--regularization X] [--alpha X] "
                  "[--learning-rate X] [--seed N] [--threads N]\n"
                  "       prism rank recommend --model FILE --k N [--users all|ID,...] "
                  "[--exclude-seen TSV]\n"
                  "       prism rank eval --model FILE --test TSV --k N\n");
  return 2;
}
