/*
 * The whole pipeline in C: rank items for a user, take the ranker's evidence,
 * render the student's prompt for each item and explain all of them in one
 * batch — one prism_pipeline_run() call (docs/pipeline.md).
 *
 *   recommend_and_explain DEMO_DIR USER_ID
 *
 * DEMO_DIR holds catalog.tsv (item_id, title, genre, ...), interactions.tsv
 * and model/ (a BART student with its tokenizer), as examples/demo does.
 */
#include <prism/prism.h>

#include <stdio.h>

enum { K = 3 };

/* Print one user's recommendations from a pipeline result. */
static int print_user(const prism_pipeline_result *result, size_t u)
{
  prism_pipeline_user user = { .struct_size = sizeof user };
  int rc = prism_pipeline_result_user(&user, result, u);
  if (rc != PRISM_OK)
    return rc;
  if (user.status != PRISM_OK) {
    fprintf(stderr, "user %s: %s\n", user.user, user.error);
    return user.status;
  }
  for (size_t j = 0; j < user.item_count; j++) {
    prism_pipeline_item item = { .struct_size = sizeof item };
    if ((rc = prism_pipeline_result_item(&item, result, u, j)) != PRISM_OK)
      return rc;
    /* An item the catalog lacks has no title, prompt or explanation. */
    printf("%s  score %.3f\n  prompt: %s\n  explanation: %s\n", item.item, item.score,
           item.prompt ? item.prompt : "(not in the catalog)",
           item.explanation ? item.explanation : "(none)");
  }
  return PRISM_OK;
}

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(stderr, "usage: %s DEMO_DIR USER_ID\n", argv[0]);
    return 2;
  }
  char path[1024];
  prism_interactions *data = NULL;
  prism_ranker *ranker = NULL;
  prism_catalog *catalog = NULL;
  prism_explainer *explainer = NULL;
  prism_pipeline *pipeline = NULL;
  prism_pipeline_result *result = NULL;
  prism_ranker_params params;
  prism_pipeline_params run;
  const char *users[] = { argv[2] };

  prism_ranker_params_init(&params, sizeof params);
  params.factors = 16;
  params.alpha = 10.0f;
  prism_pipeline_params_init(&run, sizeof run);
  run.k = K;

  snprintf(path, sizeof path, "%s/interactions.tsv", argv[1]);
  int rc = prism_interactions_load_tsv(&data, path);
  if (rc == PRISM_OK)
    rc = prism_ranker_train(&ranker, data, &params);
  /* The catalog: item id -> title and features (by default the column after title: genre). */
  snprintf(path, sizeof path, "%s/catalog.tsv", argv[1]);
  if (rc == PRISM_OK)
    rc = prism_catalog_load_tsv(&catalog, path, NULL);
  /* The explainer owns the tokenizer and model it loads from the folder. */
  snprintf(path, sizeof path, "%s/model", argv[1]);
  if (rc == PRISM_OK)
    rc = prism_explainer_load(&explainer, path, NULL);
  /* The histories are the training interactions, ordered by their timestamps. NULL format: the
     demo student's prompt format. */
  if (rc == PRISM_OK)
    rc = prism_pipeline_create(&pipeline, ranker, catalog, data, explainer, NULL);
  /* Rank, evidence, prompts and one batched explanation for every item of every user given. */
  if (rc == PRISM_OK)
    rc = prism_pipeline_run(&result, pipeline, users, 1, &run);
  if (rc != PRISM_OK)
    fprintf(stderr, "recommend_and_explain: %s: %s\n", prism_status_name(rc), prism_last_error());
  else
    rc = print_user(result, 0);
  /* The result owns its strings; free it, then the pipeline, then what the pipeline borrows. */
  prism_pipeline_result_free(result);
  prism_pipeline_free(pipeline);
  prism_explainer_free(explainer);
  prism_catalog_free(catalog);
  prism_ranker_free(ranker);
  prism_interactions_free(data);
  return rc == PRISM_OK ? 0 : 1;
}
