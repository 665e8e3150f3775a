/*
 * prism rank train | recommend | eval — the ranker over interactions files
 * (user<TAB>item[<TAB>value[<TAB>timestamp]], CSV with a header, gzip, "-"
 * for standard input). See docs/ranker.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* How interactions files are read: --sep S, --header or --no-header (default: detected). */
static void interactions_options(const cli_args *args, prism_interactions_load_params *p)
{
  const char *sep = cli_str(args, "--sep");
  int header = cli_flag(args, "--header"), no_header = cli_flag(args, "--no-header");
  prism_interactions_load_params_init(p, sizeof *p);
  if (sep && (strcmp(sep, "tab") == 0 || strcmp(sep, "\\t") == 0))
    sep = "\t";
  p->separator = sep;
  if (header && no_header)
    cli_fatal("give --header or --no-header, not both");
  p->header = header      ? PRISM_INTERACTIONS_HEADER_PRESENT
              : no_header ? PRISM_INTERACTIONS_HEADER_NONE
                          : PRISM_INTERACTIONS_HEADER_AUTO;
}

/* An interactions file, or standard input for "-"; `what` names it in a fatal error. */
static prism_interactions *load_interactions(const char *path,
                                             const prism_interactions_load_params *p,
                                             const char *what)
{
  prism_interactions *d;
  int rc;
  if (strcmp(path, "-") == 0) {
    size_t size;
    char *text = cli_read_all("-", &size);
    rc = prism_interactions_load_memory(&d, text, size, "<stdin>", p);
    free(text);
  } else {
    rc = prism_interactions_load(&d, path, p);
  }
  if (rc != PRISM_OK)
    cli_fatal_status(rc, what);
  return d;
}

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

static int rank_train(const cli_args *args)
{
  const char *tsv = cli_str(args, "--interactions"), *out = cli_str(args, "--out");
  prism_interactions_load_params lp;
  prism_ranker_params p;
  prism_interactions *data;
  prism_ranker *r;
  int rc;

  /* Options not given keep the library's defaults. */
  prism_ranker_params_init(&p, sizeof p);
  p.algorithm = parse_algorithm(cli_str(args, "--algo"));
  if (cli_given(args, "--factors"))
    p.factors = (int)cli_int(args, "--factors");
  if (cli_given(args, "--iterations"))
    p.iterations = (int)cli_int(args, "--iterations");
  if (cli_given(args, "--regularization"))
    p.regularization = (float)cli_real(args, "--regularization");
  if (cli_given(args, "--alpha"))
    p.alpha = (float)cli_real(args, "--alpha");
  if (cli_given(args, "--learning-rate"))
    p.learning_rate = (float)cli_real(args, "--learning-rate");
  if (cli_given(args, "--seed"))
    p.seed = (uint64_t)cli_int(args, "--seed");
  p.progress = on_progress;
  interactions_options(args, &lp);
  cli_set_threads(args);
  data = load_interactions(tsv, &lp, "cannot load interactions");
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

static prism_ranker *load_model(const cli_args *args)
{
  const char *path = cli_str(args, "--model");
  prism_ranker *r;
  int rc;
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

static void exclusions_load(const prism_ranker *r, const char *path,
                            const prism_interactions_load_params *p, exclusions *ex)
{
  prism_interactions *d = load_interactions(path, p, "cannot load --exclude-seen");
  int32_t nu = prism_ranker_num_users(r);
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

/*
 * The model users --users names ("all" or absent: every user, in index
 * order), every id checked before anything is written.
 */
static int32_t *selected_users(const prism_ranker *r, const char *which, size_t *n)
{
  int32_t nu = prism_ranker_num_users(r);
  size_t room = (size_t)nu + 1;
  for (const char *c = which; c && *c; c++)
    room += *c == ',';
  int32_t *users = malloc(room * sizeof *users);
  if (!users)
    cli_fatal("out of memory");
  *n = 0;
  if (!which || strcmp(which, "all") == 0) {
    for (int32_t u = 0; u < nu; u++)
      users[(*n)++] = u;
    return users;
  }
  char *list = strdup(which), *save = NULL;
  if (!list)
    cli_fatal("out of memory");
  for (char *id = strtok_r(list, ",", &save); id; id = strtok_r(NULL, ",", &save))
    if (prism_ranker_find_user(&users[(*n)++], r, id) != PRISM_OK)
      cli_fatal("--users: unknown user \"%s\" (the model has %d users; ids are the training "
                "file's)",
                id, (int)nu);
  free(list);
  if (*n == 0)
    cli_fatal("--users: expected all or a comma-separated list of user ids, got \"%s\"", which);
  return users;
}

static int rank_recommend(const cli_args *args)
{
  prism_ranker *r = load_model(args);
  int k = (int)cli_int(args, "--k");
  const char *which = cli_str(args, "--users"), *seen = cli_str(args, "--exclude-seen");
  prism_interactions_load_params lp;
  exclusions ex = { NULL, NULL };
  size_t n;
  interactions_options(args, &lp);
  /* No list is longer than the item count: the buffers need no more. */
  if (k > prism_ranker_num_items(r))
    k = (int)prism_ranker_num_items(r);
  int32_t *users = selected_users(r, which, &n);
  if (seen)
    exclusions_load(r, seen, &lp, &ex);
  recommend_users(r, users, n, k, &ex);
  free(users);
  for (int32_t u = 0; ex.items && u < prism_ranker_num_users(r); u++)
    free(ex.items[u]);
  free(ex.items);
  free(ex.count);
  prism_ranker_free(r);
  return 0;
}

static int rank_eval(const cli_args *args)
{
  prism_ranker *r = load_model(args);
  const char *path = cli_str(args, "--test");
  int k = (int)cli_int(args, "--k");
  prism_interactions_load_params lp;
  prism_interactions *test;
  prism_ranker_metrics m;
  size_t skipped;
  int rc;
  m.struct_size = sizeof m;
  interactions_options(args, &lp);
  test = load_interactions(path, &lp, "cannot load the test set");
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

#define OPTION_K \
  { \
    "--k", CLI_INT, "N", "10", NULL, "items per user", 1, 1000000, 0 \
  }

/* How interactions files are read (docs/formats.md, "Interactions files"). */
#define OPTION_SEP \
  { \
    "--sep", CLI_TEXT, "S", NULL, "detected: tab, ::, comma or semicolon", \
        "field separator of interactions files (tab or \\t for a tab)", 0, 0, 0 \
  }
#define OPTION_HEADER \
  { \
    "--header", CLI_FLAG, NULL, NULL, "detected", \
        "the first line of interactions files names the columns", 0, 0, 0 \
  }
#define OPTION_NO_HEADER \
  { \
    "--no-header", CLI_FLAG, NULL, NULL, "detected", \
        "the first line of interactions files is data", 0, 0, 0 \
  }

static const cli_option train_options[] = {
  { "--interactions", CLI_TEXT, "FILE|-", NULL, NULL,
    "training interactions (TSV or CSV, a header or not, gzip or not; - for standard input)", 0, 0,
    1 },
  { "--out", CLI_TEXT, "FILE", NULL, NULL,
    "where to save the model (safetensors): a regular file or a link to one, never a FIFO or "
    "device",
    0, 0, 1 },
  { "--algo", CLI_TEXT, "als|bpr|mf", "als", NULL,
    "implicit ALS, BPR, or explicit matrix factorisation", 0, 0, 0 },
  { "--factors", CLI_INT, "N", NULL, "64", "latent dimensions", 1, 1024, 0 },
  { "--iterations", CLI_INT, "N", NULL, "als 15, bpr 100, mf 20", "training iterations", 1, 1000000,
    0 },
  { "--regularization", CLI_REAL, "X", NULL, "als 0.05, bpr 0.01, mf 0.02", "L2 weight", 0, 0, 0 },
  { "--alpha", CLI_REAL, "X", NULL, "1", "ALS confidence scale", 0, 0, 0 },
  { "--learning-rate", CLI_REAL, "X", NULL, "bpr 0.01, mf 0.005", "BPR and MF step size", 0, 0, 0 },
  { "--seed", CLI_INT, "N", NULL, "0", "initialisation and sampling seed", 0, 0x7fffffffL, 0 },
  CLI_OPTION_THREADS,
  OPTION_SEP,
  OPTION_HEADER,
  OPTION_NO_HEADER,
  CLI_OPTIONS_END,
};

static const cli_option recommend_options[] = {
  { "--model", CLI_TEXT, "FILE", NULL, NULL, "a model saved by prism rank train", 0, 0, 1 },
  OPTION_K,
  { "--users", CLI_TEXT, "all|ID,...", "all", NULL,
    "the users to recommend for, by id (all checked before any output)", 0, 0, 0 },
  { "--exclude-seen", CLI_TEXT, "FILE|-", NULL, "none",
    "also exclude the pairs of this interactions file (the model's training interactions are "
    "always excluded)",
    0, 0, 0 },
  OPTION_SEP,
  OPTION_HEADER,
  OPTION_NO_HEADER,
  CLI_OPTIONS_END,
};

static const cli_option eval_options[] = {
  { "--model", CLI_TEXT, "FILE", NULL, NULL, "a model saved by prism rank train", 0, 0, 1 },
  { "--test", CLI_TEXT, "FILE|-", NULL, NULL, "held-out interactions", 0, 0, 1 },
  OPTION_K,
  OPTION_SEP,
  OPTION_HEADER,
  OPTION_NO_HEADER,
  CLI_OPTIONS_END,
};

const cli_command cli_cmd_rank_train = {
  "rank train",
  "train a ranker on an interactions file and save it",
  NULL,
  "  Progress (one \"iteration i/n loss L\" line per iteration) goes to stderr.\n",
  "prism rank train --interactions examples/demo/interactions.tsv --out model.safetensors "
  "--factors 32",
  train_options,
  rank_train,
};

const cli_command cli_cmd_rank_recommend = {
  "rank recommend",
  "recommend the top items for users of a saved ranker",
  NULL,
  "  out: {\"user\": ID, \"items\": [ID], \"scores\": [float]} per user; an unknown user in\n"
  "  --users is an error before any output\n",
  "prism rank recommend --model model.safetensors --k 5 --users u001,u002",
  recommend_options,
  rank_recommend,
};

const cli_command cli_cmd_rank_eval = {
  "rank eval",
  "evaluate a saved ranker on held-out interactions",
  NULL,
  "  out: {\"k\", \"users\", \"skipped_users\", \"precision\", \"recall\", \"ndcg\", \"map\"},\n"
  "       plus \"rmse\", \"mae\", \"rated_pairs\" for MF models\n",
  "prism rank eval --model model.safetensors --test test.tsv --k 10",
  eval_options,
  rank_eval,
};
