/*
 * The whole pipeline in C: rank items for a user, take the ranker's evidence,
 * render the student's prompt for each item and explain all of them in one
 * batch.
 *
 *   recommend_and_explain DEMO_DIR USER_ID
 *
 * DEMO_DIR holds catalog.tsv (item_id, title, genre, ...), interactions.tsv
 * and model/ (a BART student with its tokenizer), as examples/demo does.
 */
#include <prism/prism.h>

#include <stdio.h>
#include <string.h>

enum { K = 3, EVIDENCE = 3, MAX_ITEMS = 512, MAX_HISTORY = 256 };

/* The host's catalog: what the prompt says about an item. */
static struct {
  char line[512]; /* the TSV line, cut into fields in place */
  const char *id, *title, *genre;
} catalog[MAX_ITEMS];
static size_t catalog_size;

/* Cut `s` at the next tab or newline and return what follows (NULL at the end). */
static char *field(char *s)
{
  char *end = s ? s + strcspn(s, "\t\n") : NULL;
  if (!end || !*end)
    return NULL;
  *end = '\0';
  return end + 1;
}

static int load_catalog(const char *path)
{
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  while (catalog_size < MAX_ITEMS && fgets(catalog[catalog_size].line, 512, f)) {
    char *id = catalog[catalog_size].line, *title = field(id), *genre = field(title);
    if (genre && field(genre) != NULL) {
      catalog[catalog_size].id = id;
      catalog[catalog_size].title = title;
      catalog[catalog_size].genre = genre;
      catalog_size++;
    }
  }
  fclose(f);
  return 0;
}

/* Title and genre of an item id; an unknown item shows its id. */
static prism_prompt_item describe(const char *id)
{
  prism_prompt_item it = { id, "" };
  for (size_t i = 0; i < catalog_size; i++)
    if (strcmp(catalog[i].id, id) == 0) {
      it.title = catalog[i].title;
      it.features = catalog[i].genre;
    }
  return it;
}

/* The user's history in file order (oldest first), as prompt items. */
static size_t history_of(const prism_interactions *data, int32_t user, prism_prompt_item *out)
{
  size_t n = 0;
  for (size_t i = 0; i < prism_interactions_count(data) && n < MAX_HISTORY; i++) {
    int32_t u, item;
    float value;
    if (prism_interactions_get(&u, &item, &value, data, i) == PRISM_OK && u == user)
      out[n++] = describe(prism_interactions_item_id(data, item));
  }
  return n;
}

/* Render one prompt per recommended item into prompts[i] (buffers of 1024 bytes). */
static int render(const prism_ranker *ranker, int32_t user, const int32_t *items, size_t n,
                  const prism_prompt_item *history, size_t n_history, char prompts[K][1024])
{
  for (size_t i = 0; i < n; i++) {
    int32_t because[EVIDENCE];
    float share[EVIDENCE];
    prism_prompt_item evidence[EVIDENCE];
    size_t n_because = 0, len = 0;
    int rc = prism_ranker_explain(because, share, &n_because, ranker, user, items[i], EVIDENCE);
    if (rc != PRISM_OK)
      return rc;
    for (size_t j = 0; j < n_because; j++)
      evidence[j] = describe(prism_ranker_item_id(ranker, because[j]));
    prism_prompt_item item = describe(prism_ranker_item_id(ranker, items[i]));
    /* format NULL: the demo student's format. A long prompt would give BUFFER_TOO_SMALL. */
    rc = prism_prompt_render(prompts[i], sizeof prompts[i], &len, NULL, history, n_history, &item,
                             evidence, n_because);
    if (rc != PRISM_OK)
      return rc;
  }
  return PRISM_OK;
}

static int explain(prism_explainer *explainer, const prism_ranker *ranker, const int32_t *items,
                   const float *scores, char prompts[K][1024], size_t n)
{
  const char *texts[K];
  prism_text_batch *out = NULL;
  for (size_t i = 0; i < n; i++)
    texts[i] = prompts[i];
  /* params NULL: the model's generation_config.json. All K prompts decode together. */
  int rc = prism_explainer_run(&out, explainer, texts, n, NULL, NULL, NULL);
  for (size_t i = 0; rc == PRISM_OK && i < n; i++) {
    printf("%s  score %.3f\n  prompt: %s\n  explanation: %s\n",
           prism_ranker_item_id(ranker, items[i]), scores[i], prompts[i],
           prism_text_batch_get(out, i, NULL));
  }
  prism_text_batch_free(out); /* the texts belong to the batch */
  return rc;
}

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(stderr, "usage: %s DEMO_DIR USER_ID\n", argv[0]);
    return 2;
  }
  char path[1024];
  snprintf(path, sizeof path, "%s/catalog.tsv", argv[1]);
  if (load_catalog(path) != 0) {
    perror(path);
    return 1;
  }

  prism_interactions *data = NULL;
  prism_ranker *ranker = NULL;
  prism_explainer *explainer = NULL;
  static prism_prompt_item history[MAX_HISTORY];
  static char prompts[K][1024];
  int32_t data_user = -1, user = -1, items[K];
  float scores[K];
  size_t n = 0;
  prism_ranker_params params;
  prism_ranker_params_init(&params, sizeof params);
  params.factors = 16;
  params.alpha = 10.0f;

  snprintf(path, sizeof path, "%s/interactions.tsv", argv[1]);
  int rc = prism_interactions_load_tsv(&data, path);
  if (rc == PRISM_OK)
    rc = prism_ranker_train(&ranker, data, &params);
  /* The data and the ranker each map string ids to their own indices. */
  if (rc == PRISM_OK)
    rc = prism_interactions_find_user(&data_user, data, argv[2]);
  if (rc == PRISM_OK)
    rc = prism_ranker_find_user(&user, ranker, argv[2]);
  if (rc == PRISM_OK)
    rc = prism_ranker_recommend(items, scores, &n, ranker, user, K, NULL);
  if (rc == PRISM_OK)
    rc = render(ranker, user, items, n, history, history_of(data, data_user, history), prompts);
  snprintf(path, sizeof path, "%s/model", argv[1]);
  /* The explainer owns the tokenizer and model it loads from the folder. */
  if (rc == PRISM_OK)
    rc = prism_explainer_load(&explainer, path, NULL);
  if (rc == PRISM_OK)
    rc = explain(explainer, ranker, items, scores, prompts, n);
  if (rc != PRISM_OK)
    fprintf(stderr, "recommend_and_explain: %s: %s\n", prism_status_name(rc), prism_last_error());
  prism_explainer_free(explainer);
  prism_ranker_free(ranker);
  prism_interactions_free(data);
  return rc == PRISM_OK ? 0 : 1;
}
