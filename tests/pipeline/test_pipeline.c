/*
 * The pipeline: the catalog and its TSV, the pipeline call against the same
 * public calls composed by hand on the demo data, history order, catalog gaps,
 * a vocabulary that cannot read the prompts, results that do not depend on
 * how users are batched, and allocation failures.
 */
#include <stddef.h>
#include <unistd.h>

#include "../testutil.h"
#include "common/alloc.h"

static char demo[1024];

static prism_interactions *data;
static prism_ranker *ranker;
static prism_catalog *catalog;
static prism_explainer *explainer;

static const char *demo_path(const char *name)
{
  static char path[1100];
  snprintf(path, sizeof path, "%s/%s", demo, name);
  return path;
}

static const char *write_file(const char *name, const char *text)
{
  static char path[256];
  snprintf(path, sizeof path, "/tmp/prism-pipeline-%ld-%s", (long)getpid(), name);
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
  return path;
}

static int setup(void **state)
{
  prism_ranker_params rp;
  (void)state;
  snprintf(demo, sizeof demo, "%s/../../examples/demo", PRISM_FIXTURES);
  prism_ranker_params_init(&rp, sizeof rp);
  rp.factors = 16;
  rp.iterations = 15;
  rp.regularization = 0.1f;
  rp.seed = 7;
  if (prism_interactions_load_tsv(&data, demo_path("interactions.tsv")) != PRISM_OK ||
      prism_ranker_train(&ranker, data, &rp) != PRISM_OK ||
      prism_catalog_load_tsv(&catalog, demo_path("catalog.tsv"), NULL) != PRISM_OK ||
      prism_explainer_load(&explainer, demo_path("model"), NULL) != PRISM_OK) {
    fprintf(stderr, "setup: %s\n", prism_last_error());
    return -1;
  }
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  prism_explainer_free(explainer);
  prism_catalog_free(catalog);
  prism_ranker_free(ranker);
  prism_interactions_free(data);
  return 0;
}

static void test_catalog_tsv(void **state)
{
  prism_catalog *c = NULL;
  prism_catalog_params p;
  prism_prompt_item it;
  const char *id = NULL;
  (void)state;
  assert_int_equal(prism_catalog_count(catalog), 80);
  assert_ok(prism_catalog_find(&it, catalog, "b01"));
  assert_string_equal(it.title, "Winter Hours");
  assert_string_equal(it.features, "literary drama"); /* the first feature column: genre */
  assert_ok(prism_catalog_get(&id, &it, catalog, 79));
  assert_string_equal(id, "b80");
  assert_status(prism_catalog_get(&id, &it, catalog, 80), PRISM_ERR_OUT_OF_RANGE);
  assert_status(prism_catalog_find(&it, catalog, "zz"), PRISM_ERR_NOT_FOUND);
  assert_error_begins("prism_catalog_find: item \"zz\" is not in the catalog");

  /* Several feature columns, joined. */
  assert_ok(prism_catalog_params_init(&p, sizeof p));
  p.feature_columns = "genre,mood";
  assert_ok(prism_catalog_load_tsv(&c, demo_path("catalog.tsv"), &p));
  assert_ok(prism_catalog_find(&it, c, "b01"));
  assert_string_equal(it.features, "literary drama, quiet");
  prism_catalog_free(c);
  p.feature_columns = "";
  assert_ok(prism_catalog_load_tsv(&c, demo_path("catalog.tsv"), &p));
  assert_ok(prism_catalog_find(&it, c, "b02"));
  assert_string_equal(it.features, "");
  prism_catalog_free(c);
  p.feature_columns = "genre,colour";
  c = (prism_catalog *)&c;
  assert_status(prism_catalog_load_tsv(&c, demo_path("catalog.tsv"), &p), PRISM_ERR_FORMAT);
  assert_error_begins("prism_catalog_load_tsv: ");
  assert_error_mentions("catalog.tsv:1: the header has no column named \"colour\"");
  assert_null(c);

  /* Columns in any order; a header without features; a BOM and CRLF. */
  assert_ok(prism_catalog_load_tsv(
      &c, write_file("ok.tsv", "\xEF\xBB\xBFtitle\titem_id\r\nOne Book\tx1\r\n\r\nTwo\tx2\n"),
      NULL));
  assert_int_equal(prism_catalog_count(c), 2);
  assert_ok(prism_catalog_find(&it, c, "x2"));
  assert_string_equal(it.title, "Two");
  assert_string_equal(it.features, "");
  prism_catalog_free(c);
}

static void bad_catalog(const char *text, const char *mention)
{
  prism_catalog *c = NULL;
  assert_status(prism_catalog_load_tsv(&c, write_file("bad.tsv", text), NULL), PRISM_ERR_FORMAT);
  assert_error_begins("prism_catalog_load_tsv: ");
  assert_error_mentions(mention);
  assert_null(c);
}

static void test_catalog_errors(void **state)
{
  prism_catalog *c = NULL;
  (void)state;
  /* A line with the wrong column count names its line. */
  bad_catalog("item_id\ttitle\tgenre\nb1\tOne\tdrama\nb2\tTwo\n",
              "bad.tsv:3: 2 tab-separated fields");
  bad_catalog("item_id\ttitle\tgenre\nb1\tOne\tdrama\textra\n", ":2: 4 tab-separated fields");
  bad_catalog("item_id\ttitle\nb1\tOne\nb1\tAgain\n", ":3: item \"b1\" is listed a second time");
  bad_catalog("item_id\ttitle\n\tOne\n", ":2: the item id is empty");
  bad_catalog("item_id\ttitle\nb1\t\n", ":2: the title of item \"b1\" is empty");
  bad_catalog("id\ttitle\nb1\tOne\n", ":1: the header has no column named \"item_id\"");
  bad_catalog("item_id\ttitle\ttitle\nb1\tOne\tTwo\n", ":1: the column \"title\" is named twice");
  bad_catalog("item_id\ttitle\nb1\tb\xc3(d\n", ":2: not valid UTF-8");
  bad_catalog("", ":1: expected a header line");
  assert_status(prism_catalog_load_tsv(&c, "/nonexistent/catalog.tsv", NULL), PRISM_ERR_NOT_FOUND);
  assert_error_begins("prism_catalog_load_tsv: /nonexistent/catalog.tsv: ");
  assert_status(prism_catalog_load_tsv(&c, "/tmp", NULL), PRISM_ERR_IO);
  assert_status(prism_catalog_load_tsv(NULL, "x", NULL), PRISM_ERR_INVALID_ARGUMENT);
}

static void test_catalog_add(void **state)
{
  prism_catalog *c = NULL;
  prism_prompt_item it;
  (void)state;
  assert_ok(prism_catalog_create(&c));
  assert_ok(prism_catalog_add(c, "m1", "Heat", "crime, drama"));
  assert_ok(prism_catalog_add(c, "m2", "Alien", NULL));
  assert_status(prism_catalog_add(c, "m1", "Heat again", ""), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_catalog_add: item \"m1\" is already in the catalog");
  assert_status(prism_catalog_add(c, "m\t3", "x", ""), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_catalog_add(c, "", "x", ""), PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_catalog_add(c, "m3", "", ""), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("the title of item \"m3\" is empty");
  assert_status(prism_catalog_add(c, "m3", "ok", "\xff"), PRISM_ERR_INVALID_UTF8);
  assert_status(prism_catalog_add(c, "m3", NULL, ""), PRISM_ERR_INVALID_ARGUMENT);
  assert_int_equal(prism_catalog_count(c), 2);
  assert_ok(prism_catalog_find(&it, c, "m2"));
  assert_string_equal(it.title, "Alien");
  assert_string_equal(it.features, "");
  /* Many items grow the tables. */
  for (int i = 0; i < 300; i++) {
    char id[16];
    snprintf(id, sizeof id, "x%d", i);
    assert_ok(prism_catalog_add(c, id, id, id));
  }
  assert_ok(prism_catalog_find(&it, c, "x299"));
  assert_string_equal(it.features, "x299");
  prism_catalog_free(c);
  prism_catalog_free(NULL);
}

/* A user's history (data index) as catalog prompt items, in file order. */
static size_t hand_history(const char *user, prism_prompt_item *out, size_t cap)
{
  int32_t du, u, item;
  size_t n = 0;
  if (prism_interactions_find_user(&du, data, user) != PRISM_OK)
    return 0;
  for (size_t i = 0; i < prism_interactions_count(data); i++) {
    assert_ok(prism_interactions_get(&u, &item, NULL, data, i));
    if (u == du) {
      assert_true(n < cap);
      assert_ok(prism_catalog_find(&out[n++], catalog, prism_interactions_item_id(data, item)));
    }
  }
  return n;
}

enum { K = 3, EV = 3, MAX_USERS = 8 };

typedef struct hand {
  int32_t items[MAX_USERS][K], evidence[MAX_USERS][K][EV];
  float scores[MAX_USERS][K], weights[MAX_USERS][K][EV];
  size_t count[MAX_USERS], n_ev[MAX_USERS][K];
  char prompts[MAX_USERS * K][1024];
  const char *texts[MAX_USERS * K];
  size_t n_prompts;
} hand;

/* The pipeline's work composed by hand from the public calls. */
static void compose_by_hand(hand *h, const char *const *users, size_t n)
{
  static prism_prompt_item history[256];
  memset(h, 0, sizeof *h);
  for (size_t u = 0; u < n; u++) {
    int32_t ru;
    if (prism_ranker_find_user(&ru, ranker, users[u]) != PRISM_OK)
      continue;
    size_t n_history = hand_history(users[u], history, 256);
    assert_ok(prism_ranker_recommend(h->items[u], h->scores[u], &h->count[u], ranker, ru, K, NULL));
    for (size_t j = 0; j < h->count[u]; j++) {
      prism_prompt_item item, ev[EV];
      size_t len;
      assert_ok(prism_ranker_explain(h->evidence[u][j], h->weights[u][j], &h->n_ev[u][j], ranker,
                                     ru, h->items[u][j], EV));
      for (size_t e = 0; e < h->n_ev[u][j]; e++)
        assert_ok(prism_catalog_find(&ev[e], catalog,
                                     prism_ranker_item_id(ranker, h->evidence[u][j][e])));
      assert_ok(prism_catalog_find(&item, catalog, prism_ranker_item_id(ranker, h->items[u][j])));
      assert_ok(prism_prompt_render(h->prompts[h->n_prompts], 1024, &len, NULL, history, n_history,
                                    &item, ev, h->n_ev[u][j]));
      h->texts[h->n_prompts] = h->prompts[h->n_prompts];
      h->n_prompts++;
    }
  }
}

static void test_equals_composition_by_hand(void **state)
{
  static hand h;
  const char *users[] = { "u002", "nobody", "u010", "u150" };
  prism_pipeline *p = NULL;
  prism_pipeline_result *r = NULL;
  prism_text_batch *texts = NULL;
  size_t prompt = 0;
  (void)state;

  compose_by_hand(&h, users, 4);
  assert_int_equal(h.n_prompts, 9);
  assert_ok(prism_explainer_run(&texts, explainer, h.texts, h.n_prompts, NULL, NULL, NULL));

  assert_ok(prism_pipeline_create(&p, ranker, catalog, data, explainer, NULL));
  assert_ok(prism_pipeline_run(&r, p, users, 4, NULL));
  assert_int_equal(prism_pipeline_result_count(r), 4);
  for (size_t u = 0; u < 4; u++) {
    prism_pipeline_user pu = { .struct_size = sizeof pu };
    assert_ok(prism_pipeline_result_user(&pu, r, u));
    assert_string_equal(pu.user, users[u]);
    if (u == 1) {
      assert_int_equal(pu.status, PRISM_ERR_NOT_FOUND);
      assert_string_equal(pu.error, "unknown user \"nobody\": the ranker has no such user");
      assert_int_equal(pu.item_count, 0);
      continue;
    }
    assert_int_equal(pu.status, PRISM_OK);
    assert_null(pu.error);
    assert_int_equal(pu.missing_count, 0);
    assert_int_equal(pu.item_count, h.count[u]);
    for (size_t j = 0; j < pu.item_count; j++, prompt++) {
      prism_pipeline_item it = { .struct_size = sizeof it };
      prism_prompt_item cat;
      assert_ok(prism_pipeline_result_item(&it, r, u, j));
      assert_string_equal(it.item, prism_ranker_item_id(ranker, h.items[u][j]));
      assert_ok(prism_catalog_find(&cat, catalog, it.item));
      assert_string_equal(it.title, cat.title);
      assert_string_equal(it.features, cat.features);
      assert_true(it.score == h.scores[u][j]);
      assert_int_equal(it.evidence_count, h.n_ev[u][j]);
      for (size_t e = 0; e < it.evidence_count; e++) {
        prism_pipeline_entry en = { .struct_size = sizeof en };
        assert_ok(prism_pipeline_result_evidence(&en, r, u, j, e));
        assert_string_equal(en.item, prism_ranker_item_id(ranker, h.evidence[u][j][e]));
        assert_true(en.weight == h.weights[u][j][e]);
        assert_non_null(en.title);
      }
      assert_string_equal(it.prompt, h.prompts[prompt]);
      assert_string_equal(it.explanation, prism_text_batch_get(texts, prompt, NULL));
    }
  }
  /* The history is the user's interactions, oldest first, with their values. */
  {
    prism_pipeline_user pu = { .struct_size = sizeof pu };
    prism_pipeline_entry en = { .struct_size = sizeof en };
    assert_ok(prism_pipeline_result_user(&pu, r, 0));
    assert_int_equal(pu.history_count, hand_history("u002", (prism_prompt_item[256]){ 0 }, 256));
    assert_ok(prism_pipeline_result_history(&en, r, 0, pu.history_count - 1));
    assert_non_null(en.title);
    assert_true(en.weight >= 1.0f && en.weight <= 5.0f);
    assert_status(prism_pipeline_result_history(&en, r, 0, pu.history_count),
                  PRISM_ERR_OUT_OF_RANGE);
  }
  /* Accessors check their indices. */
  {
    prism_pipeline_item it = { .struct_size = sizeof it };
    assert_status(prism_pipeline_result_item(&it, r, 1, 0), PRISM_ERR_OUT_OF_RANGE);
    assert_error_begins("prism_pipeline_result_item: rank 0 is out of range");
    assert_status(prism_pipeline_result_item(&it, r, 4, 0), PRISM_ERR_OUT_OF_RANGE);
    assert_null(prism_pipeline_result_missing(r, 0, 0));
    it.struct_size = 3;
    assert_status(prism_pipeline_result_item(&it, r, 0, 0), PRISM_ERR_INVALID_ARGUMENT);
  }
  prism_text_batch_free(texts);
  prism_pipeline_result_free(r);
  prism_pipeline_free(p);
}

/* Every explanation of a run over all users, in order, as one string per item. */
static char **explanations(prism_pipeline *p, const char *const *users, size_t n, size_t batch,
                           size_t *count)
{
  char **out = calloc(n * K, sizeof *out);
  assert_non_null(out);
  *count = 0;
  for (size_t first = 0; first < n; first += batch) {
    prism_pipeline_result *r = NULL;
    size_t m = n - first < batch ? n - first : batch;
    assert_ok(prism_pipeline_run(&r, p, users + first, m, NULL));
    for (size_t u = 0; u < m; u++) {
      prism_pipeline_user pu = { .struct_size = sizeof pu };
      assert_ok(prism_pipeline_result_user(&pu, r, u));
      for (size_t j = 0; j < pu.item_count; j++) {
        prism_pipeline_item it = { .struct_size = sizeof it };
        assert_ok(prism_pipeline_result_item(&it, r, u, j));
        out[(*count)++] = strdup(it.explanation);
      }
    }
    prism_pipeline_result_free(r);
  }
  return out;
}

/* prism run and prism.dask batch users differently: the texts must not depend on it. */
static void test_batching_does_not_change_results(void **state)
{
  const char *users[150];
  prism_pipeline *p = NULL;
  size_t n_all, n_one, n_seven;
  (void)state;
  for (int32_t u = 0; u < 150; u++)
    users[u] = prism_ranker_user_id(ranker, u);
  assert_ok(prism_pipeline_create(&p, ranker, catalog, data, explainer, NULL));
  char **all = explanations(p, users, 60, 10, &n_all);
  char **one = explanations(p, users, 60, 1, &n_one);
  char **seven = explanations(p, users, 60, 7, &n_seven);
  assert_int_equal(n_all, 180);
  assert_int_equal(n_one, n_all);
  assert_int_equal(n_seven, n_all);
  for (size_t i = 0; i < n_all; i++) {
    assert_string_equal(one[i], all[i]);
    assert_string_equal(seven[i], all[i]);
    free(all[i]);
    free(one[i]);
    free(seven[i]);
  }
  free(all);
  free(one);
  free(seven);
  prism_pipeline_free(p);
}

static void test_history_order_and_gaps(void **state)
{
  prism_interactions *h = NULL;
  prism_catalog *c = NULL;
  prism_pipeline *p = NULL;
  prism_pipeline_result *r = NULL;
  prism_pipeline_user pu = { .struct_size = sizeof pu };
  prism_pipeline_entry en = { .struct_size = sizeof en };
  prism_pipeline_item it = { .struct_size = sizeof it };
  const char *users[] = { "u001", "u002" };
  prism_prompt_item cat;
  const char *id;
  (void)state;

  /* u001 read b03, then b01, then b02 (timestamps out of file order); u002 has no timestamps. */
  assert_ok(prism_interactions_create(&h));
  assert_ok(prism_interactions_add_timed(h, "u001", "b02", 1.0f, 300));
  assert_ok(prism_interactions_add_timed(h, "u001", "b01", 2.0f, 200));
  assert_ok(prism_interactions_add_timed(h, "u001", "b03", 3.0f, 100));
  assert_ok(prism_interactions_add(h, "u002", "b05", 1.0f));
  assert_ok(prism_interactions_add(h, "u002", "zz9", 1.0f)); /* not in any catalog */
  assert_ok(prism_interactions_add_timed(h, "u002", "b04", 1.0f, 5));

  /* A catalog without b01 nor any item the ranker recommends first. */
  assert_ok(prism_catalog_create(&c));
  for (size_t i = 0; i < prism_catalog_count(catalog); i++) {
    assert_ok(prism_catalog_get(&id, &cat, catalog, i));
    if (strcmp(id, "b01") != 0)
      assert_ok(prism_catalog_add(c, id, cat.title, cat.features));
  }
  assert_ok(prism_pipeline_create(&p, ranker, c, h, explainer, NULL));
  assert_ok(prism_pipeline_run(&r, p, users, 2, NULL));

  assert_ok(prism_pipeline_result_user(&pu, r, 0));
  assert_int_equal(pu.history_count, 3);
  const char *order[] = { "b03", "b01", "b02" };
  for (size_t j = 0; j < 3; j++) {
    assert_ok(prism_pipeline_result_history(&en, r, 0, j));
    assert_string_equal(en.item, order[j]);
  }
  assert_ok(prism_pipeline_result_history(&en, r, 0, 1));
  assert_null(en.title); /* b01 is missing from this catalog */
  assert_true(en.weight == 2.0f);
  assert_true(pu.missing_count >= 1);
  assert_string_equal(prism_pipeline_result_missing(r, 0, 0), "b01");
  for (size_t j = 0; j < pu.item_count; j++) {
    assert_ok(prism_pipeline_result_item(&it, r, 0, j));
    if (!it.title) {
      assert_null(it.prompt);
      assert_null(it.explanation);
      continue;
    }
    /* The prompt names the history in time order and never shows a missing item's id. */
    assert_non_null(strstr(it.prompt, "history: Orchard in August (literary drama); The Glass "
                                      "Letters (literary drama) | item: "));
    assert_null(strstr(it.prompt, "b01"));
    assert_non_null(it.explanation);
  }

  /* Mixed timestamps keep insertion order; an id no catalog knows is reported once. */
  assert_ok(prism_pipeline_result_user(&pu, r, 1));
  assert_int_equal(pu.history_count, 3);
  assert_ok(prism_pipeline_result_history(&en, r, 1, 0));
  assert_string_equal(en.item, "b05");
  assert_ok(prism_pipeline_result_history(&en, r, 1, 1));
  assert_string_equal(en.item, "zz9");
  assert_null(en.title);
  int found = 0;
  for (size_t j = 0; j < pu.missing_count; j++)
    found += strcmp(prism_pipeline_result_missing(r, 1, j), "zz9") == 0;
  assert_int_equal(found, 1);
  prism_pipeline_result_free(r);

  /* What is added to the histories after the pipeline was made is not in them. */
  assert_ok(prism_interactions_add(h, "u003", "b05", 1.0f));
  assert_ok(prism_interactions_add(h, "u001", "b06", 1.0f));
  const char *later[] = { "u003", "u001" };
  assert_ok(prism_pipeline_run(&r, p, later, 2, NULL));
  assert_ok(prism_pipeline_result_user(&pu, r, 0));
  assert_int_equal(pu.history_count, 0);
  assert_ok(prism_pipeline_result_user(&pu, r, 1));
  assert_int_equal(pu.history_count, 3);
  prism_pipeline_result_free(r);
  prism_pipeline_free(p);
  prism_catalog_free(c);
  prism_interactions_free(h);
}

static void test_prompts_only_and_params(void **state)
{
  prism_pipeline *p = NULL;
  prism_pipeline_result *r = NULL;
  prism_pipeline_params pp;
  prism_ranker_filter f;
  prism_pipeline_item it = { .struct_size = sizeof it };
  prism_pipeline_user pu = { .struct_size = sizeof pu };
  prism_prompt_format fmt;
  const char *users[] = { "u003" };
  int32_t first;
  (void)state;

  /* No explainer, no histories, a format of the host's. */
  assert_ok(prism_prompt_format_init(&fmt, sizeof fmt));
  fmt.template_text = "{item} for a reader who read {history}";
  assert_ok(prism_pipeline_create(&p, ranker, catalog, NULL, NULL, &fmt));
  fmt.template_text = "changed after create";
  assert_ok(prism_pipeline_params_init(&pp, sizeof pp));
  pp.k = 5;
  pp.evidence = 0;
  assert_ok(prism_pipeline_run(&r, p, users, 1, &pp));
  assert_ok(prism_pipeline_result_user(&pu, r, 0));
  assert_int_equal(pu.item_count, 5);
  assert_int_equal(pu.history_count, 0);
  assert_ok(prism_pipeline_result_item(&it, r, 0, 0));
  assert_int_equal(it.evidence_count, 0);
  assert_null(it.explanation);
  assert_non_null(strstr(it.prompt, " for a reader who read none"));
  assert_ok(prism_ranker_find_item(&first, ranker, it.item));
  prism_pipeline_result_free(r);

  /* The filter goes to the ranker. */
  assert_ok(prism_ranker_filter_init(&f, sizeof f));
  f.exclude = &first;
  f.exclude_count = 1;
  pp.filter = &f;
  assert_ok(prism_pipeline_run(&r, p, users, 1, &pp));
  assert_ok(prism_pipeline_result_item(&it, r, 0, 0));
  assert_string_not_equal(it.item, prism_ranker_item_id(ranker, first));
  prism_pipeline_result_free(r);

  /* Bad calls. */
  r = (prism_pipeline_result *)&r;
  pp.k = 0;
  assert_status(prism_pipeline_run(&r, p, users, 1, &pp), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_pipeline_run: k must be at least 1");
  assert_null(r);
  pp.k = 3;
  first = 100000;
  assert_status(prism_pipeline_run(&r, p, users, 1, &pp), PRISM_ERR_OUT_OF_RANGE);
  assert_error_begins("prism_pipeline_run: ");
  assert_ok(prism_pipeline_run(&r, p, NULL, 0, NULL));
  assert_int_equal(prism_pipeline_result_count(r), 0);
  prism_pipeline_result_free(r);
  prism_pipeline_free(p);
  prism_pipeline_free(NULL);

  fmt.template_text = "{item} {nonsense}";
  assert_status(prism_pipeline_create(&p, ranker, catalog, NULL, NULL, &fmt), PRISM_ERR_FORMAT);
  assert_error_begins("prism_pipeline_create: ");
  assert_status(prism_pipeline_create(&p, NULL, catalog, NULL, NULL, NULL),
                PRISM_ERR_INVALID_ARGUMENT);
  fmt.struct_size = 5;
  assert_status(prism_pipeline_create(&p, ranker, catalog, NULL, NULL, &fmt),
                PRISM_ERR_INVALID_ARGUMENT);
}

/* The demo vocabulary with the tokens `cut` (NULL-terminated) removed from vocab.json. */
static prism_tokenizer *demo_tokenizer_without(const char *const *cut)
{
  prism_tokenizer *tok = NULL;
  FILE *f = fopen(demo_path("model/vocab.json"), "rb");
  static char vocab[1 << 16], merges[1 << 16];
  size_t n, m;
  assert_non_null(f);
  n = fread(vocab, 1, sizeof vocab - 1, f);
  fclose(f);
  vocab[n] = 0;
  for (; *cut; cut++) { /* "token": id, (with or without spaces) */
    char key[64], *at, *end;
    snprintf(key, sizeof key, "\"%s\":", *cut);
    at = strstr(vocab, key);
    assert_non_null(at);
    end = at + strlen(key);
    end += strspn(end, " 0123456789");
    assert_int_equal(*end, ',');
    end += 1 + strspn(end + 1, " ");
    memmove(at, end, strlen(end) + 1);
  }
  assert_non_null(f = fopen(demo_path("model/merges.txt"), "rb"));
  m = fread(merges, 1, sizeof merges, f);
  fclose(f);
  assert_ok(prism_tokenizer_load_memory(&tok, vocab, strlen(vocab), merges, m, NULL));
  return tok;
}

/* "Ã" is the byte-level symbol of byte 0xC3, the first byte of "é". */
#define CUT_BYTE "\xc3\x83"

static void cannot_read(prism_tokenizer *tok, const prism_catalog *c, const char *mention)
{
  prism_pipeline *p = (prism_pipeline *)&p;
  prism_explainer *ex = NULL;
  assert_ok(prism_explainer_create(&ex, tok, prism_explainer_model(explainer), NULL));
  assert_status(prism_pipeline_create(&p, ranker, c, data, ex, NULL), PRISM_ERR_NOT_FOUND);
  assert_error_begins("prism_pipeline_create: the model's vocabulary cannot encode the title of "
                      "catalog item \"b02\": ");
  assert_error_mentions(mention);
  assert_null(p);
  prism_explainer_free(ex);
  prism_tokenizer_free(tok);
}

static void test_vocabulary_that_cannot_read_the_prompts(void **state)
{
  static const char *const byte[] = { CUT_BYTE, NULL };
  static const char *const byte_and_unk[] = { CUT_BYTE, "<unk>", NULL };
  prism_catalog *c = NULL;
  prism_pipeline *p = NULL;
  (void)state;
  assert_ok(prism_catalog_create(&c));
  assert_ok(prism_catalog_add(c, "b01", "Winter Hours", "literary drama"));
  assert_ok(prism_catalog_add(c, "b02", "Caf\xc3\xa9 Stories", "literary drama"));
  cannot_read(demo_tokenizer_without(byte), c, "only reads as <unk>");
  cannot_read(demo_tokenizer_without(byte_and_unk), c, "byte 0xc3 has no token");
  /* Without a model nothing is encoded. */
  assert_ok(prism_pipeline_create(&p, ranker, c, data, NULL, NULL));
  prism_pipeline_free(p);
  prism_catalog_free(c);
}

static void test_allocation_failures(void **state)
{
  const char *users[] = { "u004", "nobody" };
  (void)state;
  for (long n = 1;; n++) {
    prism_pipeline *p = NULL;
    prism_pipeline_result *r = NULL;
    prism_catalog *c = NULL;
    prism__alloc_fail_at(n);
    int rc = prism_catalog_load_tsv(&c, demo_path("catalog.tsv"), NULL);
    if (rc == PRISM_OK)
      rc = prism_pipeline_create(&p, ranker, c, data, NULL, NULL);
    if (rc == PRISM_OK)
      rc = prism_pipeline_run(&r, p, users, 2, NULL);
    prism__alloc_fail_at(0);
    prism_pipeline_result_free(r);
    prism_pipeline_free(p);
    prism_catalog_free(c);
    if (rc == PRISM_OK)
      break;
    assert_int_equal(rc, PRISM_ERR_NO_MEMORY);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_catalog_tsv),
    cmocka_unit_test(test_catalog_errors),
    cmocka_unit_test(test_catalog_add),
    cmocka_unit_test(test_equals_composition_by_hand),
    cmocka_unit_test(test_batching_does_not_change_results),
    cmocka_unit_test(test_history_order_and_gaps),
    cmocka_unit_test(test_prompts_only_and_params),
    cmocka_unit_test(test_vocabulary_that_cannot_read_the_prompts),
    cmocka_unit_test(test_allocation_failures),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
