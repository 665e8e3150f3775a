/*
 * prism demo [--data DIR] [--model DIR] [--users N|ID,ID...] [--k N] [--threads N]
 * (the options table at the end is what the parser and --help read)
 *
 * The main job end to end: train a ranker on DIR/interactions.tsv, recommend
 * the top K items for a few users, take the ranker's evidence for each, render
 * the student's prompt (docs/explain.md), and explain all K items of a user in
 * one batched generation with the BART student in --model (default DIR/model).
 * DIR/catalog.tsv maps item ids to titles and features: a header line naming
 * the columns item_id, title and genre (or features), then one item per line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define MAX_K 20
#define EVIDENCE 3

typedef struct catalog_item {
  char *line; /* owns the strings below */
  const char *id, *title, *features;
} catalog_item;

typedef struct catalog {
  size_t count;
  catalog_item *items;
} catalog;

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
static const char *default_data_dir(void)
{
  static const char *const dirs[] = { PRISM_DEMO_INSTALL_DIR, PRISM_DEMO_SOURCE_DIR };
  for (size_t i = 0; i < 2; i++) {
    char *probe = join(dirs[i], "catalog.tsv");
    int found = file_exists(probe);
    free(probe);
    if (found)
      return dirs[i];
  }
  cli_fatal("demo data not found in %s or %s (use --data DIR)", dirs[0], dirs[1]);
}

/* Split a line in place on tabs; returns the field count (at most max). */
static size_t split_tabs(char *line, char **fields, size_t max)
{
  size_t n = 0;
  line[strcspn(line, "\r\n")] = '\0';
  while (n < max) {
    fields[n++] = line;
    if (!(line = strchr(line, '\t')))
      break;
    *line++ = '\0';
  }
  return n;
}

static void catalog_load(catalog *c, const char *path)
{
  FILE *f = fopen(path, "r");
  char *line = NULL, *cols[32];
  size_t cap = 0, n, lineno = 1;
  int id_col = -1, title_col = -1, feat_col = -1;

  memset(c, 0, sizeof *c);
  if (!f || getline(&line, &cap, f) < 0)
    cli_fatal("%s: cannot read the catalog header", path);
  n = split_tabs(line, cols, 32);
  for (size_t i = 0; i < n; i++) {
    if (!strcmp(cols[i], "item_id"))
      id_col = (int)i;
    else if (!strcmp(cols[i], "title"))
      title_col = (int)i;
    else if (!strcmp(cols[i], "genre") || (!strcmp(cols[i], "features") && feat_col < 0))
      feat_col = (int)i;
  }
  if (id_col < 0 || title_col < 0)
    cli_fatal("%s: line 1: the header must name the columns item_id and title", path);
  while (getline(&line, &cap, f) >= 0) {
    char *copy;
    lineno++;
    if (line[strspn(line, " \t\r\n")] == '\0')
      continue;
    copy = strdup(line);
    n = copy ? split_tabs(copy, cols, 32) : 0;
    if (!copy || n <= (size_t)id_col || n <= (size_t)title_col)
      cli_fatal("%s: line %zu: expected at least %d tab-separated columns", path, lineno,
                (id_col > title_col ? id_col : title_col) + 1);
    if (c->count % 64 == 0) {
      catalog_item *grow = realloc(c->items, (c->count + 64) * sizeof *grow);
      if (!grow)
        cli_fatal("out of memory");
      c->items = grow;
    }
    c->items[c->count].line = copy;
    c->items[c->count].id = cols[id_col];
    c->items[c->count].title = cols[title_col];
    c->items[c->count].features = feat_col >= 0 && (size_t)feat_col < n ? cols[feat_col] : "";
    c->count++;
  }
  free(line);
  fclose(f);
}

static void catalog_free(catalog *c)
{
  for (size_t i = 0; i < c->count; i++)
    free(c->items[i].line);
  free(c->items);
}

/* The catalog entry of a ranker item (title and features "?" when the catalog lacks it). */
static prism_prompt_item lookup(const catalog *c, const char *id)
{
  prism_prompt_item it = { id, "" };
  for (size_t i = 0; i < c->count; i++)
    if (!strcmp(c->items[i].id, id)) {
      it.title = c->items[i].title;
      it.features = c->items[i].features;
      break;
    }
  return it;
}

/* A user's history, oldest first: their interactions in file order. */
static size_t user_history(const prism_interactions *data, int32_t user, int32_t **items)
{
  size_t n = 0, total = prism_interactions_count(data);
  *items = malloc((total ? total : 1) * sizeof **items);
  if (!*items)
    cli_fatal("out of memory");
  for (size_t i = 0; i < total; i++) {
    int32_t u, it;
    float v;
    if (prism_interactions_get(&u, &it, &v, data, i) == PRISM_OK && u == user)
      (*items)[n++] = it;
  }
  return n;
}

typedef struct demo {
  const prism_interactions *data;
  const prism_ranker *ranker;
  prism_explainer *explainer;
  const catalog *cat;
  int k;
} demo;

static prism_prompt_item ranker_item(const demo *d, int32_t item)
{
  return lookup(d->cat, prism_ranker_item_id(d->ranker, item));
}

/* Render the prompt for one recommendation into a new string. */
static char *render_prompt(const demo *d, const int32_t *history, size_t n_history, int32_t item,
                           const int32_t *evidence, size_t n_evidence)
{
  prism_prompt_item *h = malloc((n_history + 1) * sizeof *h), e[EVIDENCE],
                    it = ranker_item(d, item);
  size_t len;
  char *text;
  int rc;

  if (!h)
    cli_fatal("out of memory");
  for (size_t i = 0; i < n_history; i++)
    h[i] = ranker_item(d, history[i]);
  for (size_t i = 0; i < n_evidence; i++)
    e[i] = ranker_item(d, evidence[i]);
  rc = prism_prompt_render(NULL, 0, &len, NULL, h, n_history, &it, e, n_evidence);
  text = rc == PRISM_OK ? malloc(len + 1) : NULL;
  if (rc == PRISM_OK && text)
    rc = prism_prompt_render(text, len + 1, &len, NULL, h, n_history, &it, e, n_evidence);
  free(h);
  if (rc != PRISM_OK || !text)
    cli_fatal_status(rc, "demo: cannot render a prompt");
  return text;
}

static void explain_user(const demo *d, int32_t user)
{
  int32_t items[MAX_K], evidence[MAX_K][EVIDENCE], *history = NULL;
  float scores[MAX_K], contrib[MAX_K][EVIDENCE];
  size_t count = 0, n_ev[MAX_K], n_history;
  char *prompts[MAX_K];
  prism_text_batch *texts;
  int rc;
  const char *user_id = prism_interactions_user_id(d->data, user);

  n_history = user_history(d->data, user, &history);
  rc = prism_ranker_recommend(items, scores, &count, d->ranker, user, d->k, NULL);
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "demo: recommend failed");
  for (size_t i = 0; i < count; i++) {
    rc = prism_ranker_explain(evidence[i], contrib[i], &n_ev[i], d->ranker, user, items[i],
                              EVIDENCE);
    if (rc != PRISM_OK)
      cli_fatal_status(rc, "demo: explain failed");
    prompts[i] = render_prompt(d, history, n_history, items[i], evidence[i], n_ev[i]);
  }
  /* All K items of the user go through the decoder together. */
  rc = prism_explainer_run(&texts, d->explainer, (const char *const *)prompts, count, NULL, NULL,
                           NULL);
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "demo: explanation failed");

  printf("\nuser %s — %zu items read, most recently:", user_id, n_history);
  for (size_t i = n_history > 3 ? n_history - 3 : 0; i < n_history; i++)
    printf(" \"%s\"", ranker_item(d, history[i]).title);
  printf("\n");
  for (size_t i = 0; i < count; i++) {
    prism_prompt_item it = ranker_item(d, items[i]);
    printf("  %zu. %s (%s)  score %.3f\n     evidence:", i + 1, it.title, it.features,
           (double)scores[i]);
    for (size_t j = 0; j < n_ev[i]; j++)
      printf("%s \"%s\" %+.3f", j ? "," : "", ranker_item(d, evidence[i][j]).title,
             (double)contrib[i][j]);
    printf("\n     explanation: %s\n", prism_text_batch_get(texts, i, NULL));
    free(prompts[i]);
  }
  prism_text_batch_free(texts);
  free(history);
}

/*
 * The users to explain, every one checked before anything is printed:
 * --users names ids (a number is an id too, never a count); --first N takes
 * the first N users of the data; neither: the first 3.
 */
static int32_t *demo_users(const prism_interactions *data, const char *ids, long first, size_t *n)
{
  int32_t total = prism_interactions_num_users(data);
  size_t room = (size_t)total + 1;
  for (const char *c = ids; c && *c; c++)
    room += *c == ',';
  int32_t *users = malloc(room * sizeof *users);
  if (!users)
    cli_fatal("out of memory");
  *n = 0;
  if (!ids) {
    for (int32_t u = 0; u < first && u < total; u++)
      users[(*n)++] = u;
    return users;
  }
  char *list = strdup(ids), *save = NULL;
  if (!list)
    cli_fatal("out of memory");
  for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
    if (prism_interactions_find_user(&users[(*n)++], data, tok) != PRISM_OK)
      cli_fatal("demo: --users: unknown user \"%s\" (--users takes ids; --first N takes the first "
                "N users)",
                tok);
  free(list);
  if (*n == 0)
    cli_fatal("demo: --users: expected a comma-separated list of user ids, got \"%s\"", ids);
  return users;
}

static int run(const cli_args *args)
{
  const char *data_dir = cli_str(args, "--data"), *model_dir = cli_str(args, "--model");
  const char *users = cli_str(args, "--users");
  long first = cli_int(args, "--first");
  long k = cli_int(args, "--k");
  char *path, *model_path;
  prism_interactions *data;
  prism_ranker_params rp;
  prism_ranker *ranker;
  int32_t *chosen;
  size_t n_chosen;
  catalog cat;
  demo d;
  int rc;

  if (users && cli_given(args, "--first"))
    cli_fatal("demo: give --users ID,... or --first N, not both");
  cli_set_threads(args);
  if (!data_dir)
    data_dir = default_data_dir();
  model_path = model_dir ? strdup(model_dir) : join(data_dir, "model");

  path = join(data_dir, "catalog.tsv");
  catalog_load(&cat, path);
  free(path);
  path = join(data_dir, "interactions.tsv");
  if ((rc = prism_interactions_load_tsv(&data, path)) != PRISM_OK)
    cli_fatal_status(rc, "demo: cannot load the interactions");
  chosen = demo_users(data, users, first, &n_chosen);
  printf("libprism %s — rank and explain (cpu: %s, threads: %d)\n", prism_version_string(),
         *prism_cpu_features() ? prism_cpu_features() : "portable", prism_get_num_threads());
  printf("data: %s (%zu items in the catalog, %d users, %zu interactions)\n", data_dir, cat.count,
         (int)prism_interactions_num_users(data), prism_interactions_count(data));
  free(path);

  prism_ranker_params_init(&rp, sizeof rp);
  rp.algorithm = PRISM_RANKER_ALS;
  rp.factors = 16;
  rp.iterations = 15;
  rp.regularization = 0.1f;
  rp.seed = 7;
  if ((rc = prism_ranker_train(&ranker, data, &rp)) != PRISM_OK)
    cli_fatal_status(rc, "demo: ranker training failed");
  printf("ranker: implicit ALS, %d factors, %d iterations\n", rp.factors, rp.iterations);

  d.data = data;
  d.ranker = ranker;
  d.cat = &cat;
  d.k = (int)k;
  if ((rc = prism_explainer_load(&d.explainer, model_path, NULL)) != PRISM_OK)
    cli_fatal_status(rc, "demo: cannot load the explanation model");
  printf("explainer: %s\n", model_path);

  for (size_t i = 0; i < n_chosen; i++)
    explain_user(&d, chosen[i]);
  free(chosen);

  printf(
      "\nThis ran the demo student in %s: a tiny BART trained on rule-based explanations of an\n"
      "invented catalog (see examples/demo/README.md). To run your own HuggingFace BART student\n"
      "and data: prism demo --model DIR --data DIR (DIR with catalog.tsv and interactions.tsv).\n",
      model_path);
  prism_explainer_free(d.explainer);
  prism_ranker_free(ranker);
  prism_interactions_free(data);
  catalog_free(&cat);
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
  { NULL },
};

const cli_command cli_cmd_demo = {
  "demo",
  "rank and explain the demo data end to end",
  NULL,
  "  Trains an implicit-ALS ranker on DIR/interactions.tsv, recommends k items for a few\n"
  "  users, takes the ranker's evidence for each and explains them with the BART student.\n"
  "  DIR/catalog.tsv: a header naming the columns item_id, title and genre (or features),\n"
  "  then one item per line; DIR/interactions.tsv: user<TAB>item[<TAB>value[<TAB>timestamp]].\n",
  "prism demo --users u002,u010 --k 2",
  options,
  run,
};
