/*
 * prism demo [--data DIR] [--model DIR] [--users ID,...|--first N] [--k N] [--threads N]
 * (the options table at the end is what the parser and --help read)
 *
 * The main job end to end, as a pretty-printer over the pipeline call
 * (docs/pipeline.md): train a ranker on DIR/interactions.tsv, then for a few
 * users recommend the top K items, take the ranker's evidence, render the
 * student's prompts from DIR/catalog.tsv and explain them in one batched
 * generation with the BART student in --model (default DIR/model).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define MAX_K 20

static int file_exists(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0;
}

static char *join(const char *dir, const char *name)
{
  char *p = malloc(strlen(dir) + strlen(name) + 2);
  if (!p)
    cli_fatal("out of memory");
  sprintf(p, "%s/%s", dir, name);
  return p;
}

/* The demo data: the installed copy, else the one in the source tree this binary was built from. */
static const char *find_demo_dir(void)
{
  static const char *const dirs[] = { PRISM_DEMO_INSTALL_DIR, PRISM_DEMO_SOURCE_DIR };
  for (size_t i = 0; i < 2; i++) {
    char *probe = join(dirs[i], "catalog.tsv");
    int found = file_exists(probe);
    free(probe);
    if (found)
      return dirs[i];
  }
  return NULL;
}

/* 1 when both files exist and hold the same bytes. */
static int same_contents(const char *a_dir, const char *a_name, const char *b_dir,
                         const char *b_name)
{
  char *a = join(a_dir, a_name), *b = join(b_dir, b_name);
  FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
  int same = fa && fb, ca, cb;
  while (same) {
    ca = getc(fa);
    cb = getc(fb);
    if (ca != cb)
      same = 0;
    else if (ca == EOF)
      break;
  }
  if (fa)
    fclose(fa);
  if (fb)
    fclose(fb);
  free(a);
  free(b);
  return same;
}

/*
 * The demo student knows only the demo's invented catalog: on another one it writes fluent
 * nonsense ("Readers who liked The The The ..."). Say so when --model is that student (or a
 * copy of it) and --data is not the demo data.
 */
static void warn_foreign_catalog(const char *data_dir, const char *model_dir)
{
  const char *demo = find_demo_dir();
  char *demo_model = demo ? join(demo, "model") : NULL;
  if (demo && same_contents(model_dir, "config.json", demo_model, "config.json") &&
      same_contents(model_dir, "vocab.json", demo_model, "vocab.json") &&
      !same_contents(data_dir, "catalog.tsv", demo, "catalog.tsv"))
    fprintf(stderr,
            "prism demo: warning: --model is the demo student, which knows only the 80 invented "
            "books and 8 genres of the demo catalog (%s/catalog.tsv). On %s/catalog.tsv its "
            "explanations are fluent nonsense: pass a student trained on your catalog with "
            "--model DIR.\n",
            demo, data_dir);
  free(demo_model);
}

/* The most recent history titles the catalog knows (up to n), oldest of them first. */
static void print_history(const prism_pipeline_result *r, size_t u, size_t count, size_t n)
{
  size_t shown = 0, first = count;
  prism_pipeline_entry e = { .struct_size = sizeof e };
  while (first > 0 && shown < n) {
    prism_pipeline_result_history(&e, r, u, --first);
    shown += e.title != NULL;
  }
  for (size_t j = first; j < count; j++)
    if (prism_pipeline_result_history(&e, r, u, j) == PRISM_OK && e.title)
      printf(" \"%s\"", e.title);
}

/* One user of a pipeline result, for reading. */
static void print_user(const prism_pipeline_result *r, size_t u)
{
  prism_pipeline_user user = { .struct_size = sizeof user };
  if (prism_pipeline_result_user(&user, r, u) != PRISM_OK)
    cli_fatal_status(prism_last_error_status(), "demo: reading a result");
  printf("\nuser %s \xe2\x80\x94 %zu items read, most recently:", user.user, user.history_count);
  print_history(r, u, user.history_count, 3);
  printf("\n");
  for (size_t j = 0; j < user.item_count; j++) {
    prism_pipeline_item it = { .struct_size = sizeof it };
    prism_pipeline_result_item(&it, r, u, j);
    if (it.title)
      printf("  %zu. %s (%s)  score %.3f\n     evidence:", j + 1, it.title, it.features,
             (double)it.score);
    else
      printf("  %zu. %s (not in the catalog)  score %.3f\n     evidence:", j + 1, it.item,
             (double)it.score);
    for (size_t e = 0; e < it.evidence_count; e++) {
      prism_pipeline_entry en = { .struct_size = sizeof en };
      prism_pipeline_result_evidence(&en, r, u, j, e);
      printf("%s \"%s\" %+.3f", e ? "," : "", en.title ? en.title : en.item, (double)en.weight);
    }
    printf("\n     explanation: %s\n",
           it.explanation ? it.explanation : "(none: the catalog lacks the item)");
  }
  if (user.missing_count)
    printf("     (%zu items of this user are not in the catalog; the prompts leave them out)\n",
           user.missing_count);
}

/*
 * The users to explain (ids borrowed from `data`), every one checked before anything is
 * printed: --users names ids (a number is an id too, never a count); --first N takes the first
 * N users of the data; neither: the first 3.
 */
static const char **demo_users(const prism_interactions *data, const char *ids, long first,
                               size_t *n)
{
  int32_t total = prism_interactions_num_users(data), index;
  size_t room = (size_t)total + 1;
  for (const char *c = ids; c && *c; c++)
    room += *c == ',';
  const char **users = malloc(room * sizeof *users);
  if (!users)
    cli_fatal("out of memory");
  *n = 0;
  if (!ids) {
    for (int32_t u = 0; u < first && u < total; u++)
      users[(*n)++] = prism_interactions_user_id(data, u);
    return users;
  }
  char *list = strdup(ids), *save = NULL;
  if (!list)
    cli_fatal("out of memory");
  for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (prism_interactions_find_user(&index, data, tok) != PRISM_OK)
      cli_fatal("demo: --users: unknown user \"%s\" (--users takes ids; --first N takes the first "
                "N users)",
                tok);
    users[(*n)++] = prism_interactions_user_id(data, index);
  }
  free(list);
  if (*n == 0)
    cli_fatal("demo: --users: expected a comma-separated list of user ids, got \"%s\"", ids);
  return users;
}

static int run(const cli_args *args)
{
  const char *data_dir = cli_str(args, "--data"), *model_dir = cli_str(args, "--model");
  const char *users = cli_str(args, "--users"), **chosen;
  long first = cli_int(args, "--first");
  int k = (int)cli_int(args, "--k");
  size_t n_chosen, batch = 32 / (size_t)k > 0 ? 32 / (size_t)k : 1;
  char *path, *model_path;
  prism_interactions *data;
  prism_catalog *catalog;
  prism_ranker_params rp;
  prism_ranker *ranker;
  prism_explainer_params ep;
  cli_explainer explainer;
  prism_pipeline *pipeline;
  prism_pipeline_params pp;
  int rc;

  if (users && cli_given(args, "--first"))
    cli_fatal("demo: give --users ID,... or --first N, not both");
  cli_set_threads(args);
  if (!data_dir && !(data_dir = find_demo_dir()))
    cli_fatal("demo data not found in %s or %s (use --data DIR)", PRISM_DEMO_INSTALL_DIR,
              PRISM_DEMO_SOURCE_DIR);
  model_path = model_dir ? strdup(model_dir) : join(data_dir, "model");

  path = join(data_dir, "catalog.tsv");
  if ((rc = prism_catalog_load_tsv(&catalog, path, NULL)) != PRISM_OK)
    cli_fatal_status(rc, "demo: cannot load the catalog");
  free(path);
  path = join(data_dir, "interactions.tsv");
  if ((rc = prism_interactions_load_tsv(&data, path)) != PRISM_OK)
    cli_fatal_status(rc, "demo: cannot load the interactions");
  free(path);
  chosen = demo_users(data, users, first, &n_chosen);
  printf("libprism %s \xe2\x80\x94 rank and explain (cpu: %s, threads: %d)\n",
         prism_version_string(), *prism_cpu_features() ? prism_cpu_features() : "portable",
         prism_get_num_threads());
  printf("data: %s (%zu items in the catalog, %d users, %zu interactions)\n", data_dir,
         prism_catalog_count(catalog), (int)prism_interactions_num_users(data),
         prism_interactions_count(data));

  prism_ranker_params_init(&rp, sizeof rp);
  rp.algorithm = PRISM_RANKER_ALS;
  rp.factors = 16;
  rp.iterations = 15;
  rp.regularization = 0.1f;
  rp.seed = 7;
  if ((rc = prism_ranker_train(&ranker, data, &rp)) != PRISM_OK)
    cli_fatal_status(rc, "demo: ranker training failed");
  printf("ranker: implicit ALS, %d factors, %d iterations\n", rp.factors, rp.iterations);

  /* Each call's users are explained in one batched decode. */
  prism_explainer_params_init(&ep, sizeof ep);
  ep.max_batch = (uint32_t)(batch * (size_t)k);
  if ((rc = cli_explainer_load(&explainer, args, model_path, &ep)) != PRISM_OK)
    cli_fatal_status(rc, "demo: cannot load the explanation model");
  printf("explainer: %s\n", model_path);
  warn_foreign_catalog(data_dir, model_path);
  if ((rc = prism_pipeline_create(&pipeline, ranker, catalog, data, explainer.ex, NULL)) !=
      PRISM_OK)
    cli_fatal_status(rc, "demo: cannot start");
  prism_pipeline_params_init(&pp, sizeof pp);
  pp.k = k;

  for (size_t at = 0; at < n_chosen; at += batch) {
    size_t n = n_chosen - at < batch ? n_chosen - at : batch;
    prism_pipeline_result *r;
    if ((rc = prism_pipeline_run(&r, pipeline, chosen + at, n, &pp)) != PRISM_OK)
      cli_fatal_status(rc, "demo: the pipeline failed");
    for (size_t u = 0; u < n; u++)
      print_user(r, u);
    prism_pipeline_result_free(r);
  }
  free(chosen);

  printf(
      "\nThis ran the demo student in %s: a tiny BART trained on rule-based explanations of an\n"
      "invented catalog (see examples/demo/README.md). To run your own HuggingFace BART student\n"
      "and data: prism demo --model DIR --data DIR (DIR with catalog.tsv and interactions.tsv).\n",
      model_path);
  prism_pipeline_free(pipeline);
  cli_explainer_free(&explainer);
  prism_ranker_free(ranker);
  prism_interactions_free(data);
  prism_catalog_free(catalog);
  free(model_path);
  return 0;
}

static const cli_option options[] = {
  { "--data", CLI_DIR, "DIR", NULL,
    "the installed demo data (share/prism/demo), else examples/demo of the build's source tree",
    "a folder with catalog.tsv and interactions.tsv", 0, 0, 0 },
  { "--model", CLI_DIR, "DIR", NULL, "DIR/model of --data",
    "the BART student (a HuggingFace folder with tokenizer files)", 0, 0, 0 },
  { "--users", CLI_TEXT, "ID,...", NULL, "the first 3 users",
    "a comma-separated list of user ids (a number is an id, not a count)", 0, 0, 0 },
  { "--first", CLI_INT, "N", "3", NULL, "the first N users of the data (instead of --users)", 1,
    1000000, 0 },
  { "--k", CLI_INT, "N", "3", NULL, "items recommended and explained per user", 1, MAX_K, 0 },
  CLI_OPTION_THREADS,
  CLI_OPTIONS_LIMITS,
  CLI_OPTIONS_WEIGHTS,
  CLI_OPTIONS_END,
};

const cli_command cli_cmd_demo = {
  "demo",
  "rank and explain the demo data end to end",
  NULL,
  "  Trains an implicit-ALS ranker on DIR/interactions.tsv, then one pipeline call recommends\n"
  "  k items for the users, takes the ranker's evidence and explains them with the BART student.\n"
  "  DIR/catalog.tsv: a header naming item_id, title and feature columns (the first is what the\n"
  "  prompt shows: the demo's genre), then one item per line; DIR/interactions.tsv: the ranker's\n"
  "  interactions (user, item[, value[, timestamp]]); histories follow the timestamps. With the\n"
  "  demo student on another catalog, a warning says its explanations are nonsense.\n",
  "prism demo --users u002,u010 --k 2",
  options,
  run,
};
