/*
 * Train a ranker on an interactions TSV, save it, and recommend for one user
 * with the evidence behind each item.
 *
 *   rank INTERACTIONS.tsv USER_ID MODEL_OUT.safetensors
 */
#include <prism/prism.h>

#include <stdio.h>

enum { K = 5, EVIDENCE = 3 };

/* Training progress: return 0 to cancel. */
static int on_iteration(int iteration, int total, double loss, void *payload)
{
  (void)payload;
  fprintf(stderr, "iteration %d/%d loss %.4f\n", iteration, total, loss);
  return 1;
}

static int show(const prism_ranker *ranker, int32_t user)
{
  int32_t items[K], because[EVIDENCE];
  float scores[K], share[EVIDENCE];
  size_t n = 0, n_because = 0;
  /* filter NULL: the user's own history is excluded. */
  int rc = prism_ranker_recommend(items, scores, &n, ranker, user, K, NULL);
  for (size_t i = 0; rc == PRISM_OK && i < n; i++) {
    rc = prism_ranker_explain(because, share, &n_because, ranker, user, items[i], EVIDENCE);
    if (rc != PRISM_OK)
      break;
    /* String ids are borrowed from the ranker. */
    printf("%s %.3f because", prism_ranker_item_id(ranker, items[i]), scores[i]);
    for (size_t j = 0; j < n_because; j++)
      printf(" %s(%.2f)", prism_ranker_item_id(ranker, because[j]), share[j]);
    printf("\n");
  }
  return rc;
}

int main(int argc, char **argv)
{
  if (argc != 4) {
    fprintf(stderr, "usage: %s INTERACTIONS.tsv USER_ID MODEL_OUT\n", argv[0]);
    return 2;
  }
  prism_interactions *data = NULL;
  prism_ranker *trained = NULL, *loaded = NULL;
  prism_ranker_params params;
  prism_ranker_params_init(&params, sizeof params);
  params.factors = 16;
  params.iterations = 5;
  params.alpha = 10.0f;
  params.progress = on_iteration;
  int32_t user = -1;

  int rc = prism_interactions_load_tsv(&data, argv[1]);
  if (rc == PRISM_OK)
    rc = prism_ranker_train(&trained, data, &params);
  /* The model keeps the string ids: a saved model can be loaded without the TSV. */
  if (rc == PRISM_OK)
    rc = prism_ranker_save(trained, argv[3]);
  if (rc == PRISM_OK)
    rc = prism_ranker_load(&loaded, argv[3]);
  if (rc == PRISM_OK)
    rc = prism_ranker_find_user(&user, loaded, argv[2]);
  if (rc == PRISM_OK)
    rc = show(loaded, user);
  if (rc != PRISM_OK)
    fprintf(stderr, "rank: %s: %s\n", prism_status_name(rc), prism_last_error());
  prism_ranker_free(loaded);
  prism_ranker_free(trained);
  prism_interactions_free(data);
  return rc == PRISM_OK ? 0 : 1;
}
