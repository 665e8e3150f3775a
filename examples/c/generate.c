/*
 * Generate from token ids with a BART checkpoint: no tokenizer needed.
 *
 *   generate MODEL_DIR ID [ID ...]
 *
 * The ids are one encoder row (with <s> ... </s>); the model's
 * generation_config.json gives the defaults, here overridden to beam search.
 */
#include <prism/prism.h>

#include <stdio.h>
#include <stdlib.h>

/* Streaming: called after every decoder step; returning 0 would cancel. */
static int on_step(const prism_generate_event *event, void *payload)
{
  size_t *steps = payload;
  *steps = event->step;
  return 1;
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL_DIR ID [ID ...]\n", argv[0]);
    return 2;
  }
  size_t src_len = (size_t)argc - 2;
  int32_t *ids = malloc(src_len * sizeof *ids);
  if (!ids)
    return 1;
  for (size_t i = 0; i < src_len; i++)
    ids[i] = (int32_t)strtol(argv[i + 2], NULL, 10);

  /* The model is immutable and shareable; a session is one thread's working memory. */
  prism_bart *model = NULL;
  prism_bart_session *session = NULL;
  prism_generate_result *result = NULL;
  prism_generate_params params;
  prism_generate_params_init(&params, sizeof params);
  params.num_beams = 2;
  params.max_new_tokens = 32;
  size_t steps = 0;

  int rc = prism_bart_load(&model, argv[1], NULL);
  if (rc == PRISM_OK)
    rc = prism_bart_session_create(&session, model, NULL);
  if (rc == PRISM_OK) /* attention_mask NULL: every id that is not <pad> is attended */
    rc = prism_generate_run(&result, session, ids, NULL, 1, src_len, &params, on_step, &steps);
  if (rc != PRISM_OK) {
    fprintf(stderr, "generate: %s: %s\n", prism_status_name(rc), prism_last_error());
  } else {
    /* The arrays belong to the result: read them before prism_generate_result_free. */
    const int32_t *seq = prism_generate_result_sequences(result);
    const float *scores = prism_generate_result_scores(result);
    printf("steps: %zu\nsequence:", steps);
    for (int32_t i = 0; i < prism_generate_result_lengths(result)[0]; i++)
      printf(" %d", (int)seq[i]);
    printf("\nscore: %.4f\n", scores ? scores[0] : 0.0f);
  }
  /* Free in reverse order: a session borrows its model. */
  prism_generate_result_free(result);
  prism_bart_session_free(session);
  prism_bart_free(model);
  free(ids);
  return rc == PRISM_OK ? 0 : 1;
}
