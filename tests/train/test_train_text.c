/*
 * Evaluation on generated text (eval_generate) and the metric that picks the
 * best checkpoint (best_metric): the figures the trainer reports are those of
 * the model's own greedy outputs, recomputed here through the explainer and
 * prism_metrics_evaluate; the best checkpoint, the state and a resumed run
 * follow the metric named; bad names and missing pieces are refused.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "train_test_util.h"

#define N_GEN 6

static char model_dir[1024];
static prism_tokenizer *tok;

/* Demo-style prompts and sentences; what the model writes for them does not matter here. */
static const char *const sources[] = {
  "history: Winter Hours (literary drama) | item: Orchard in August (literary drama) | "
  "evidence: Winter Hours (literary drama)",
  "history: Red Asset (thriller); Black Ransom (thriller) | item: The Final Hour (thriller) | "
  "evidence: Red Asset (thriller)",
  "history: Awkward Uncle (comedy) | item: Burning Hour (thriller) | evidence: Awkward Uncle "
  "(comedy)",
  "history: The Silver Tower (fantasy); Lost Waltz (romance) | item: Second Harbour (romance) | "
  "evidence: none",
  "history: Paper Letters (literary drama); Tiny Holiday (comedy); Bright Archive (science "
  "fiction) | item: The Glass Letters (literary drama) | evidence: Paper Letters (literary drama)",
  "history: none | item: Hollow Archive (science fiction) | evidence: none",
  "history: The Great Siege (history) | item: Republic of the Steppe (history) | evidence: The "
  "Great Siege (history)",
  "history: Witness at Ashby Hall (mystery) | item: The Locked Lantern (mystery) | evidence: "
  "Witness at Ashby Hall (mystery)",
};
static const char *const targets[] = {
  "You have only just started with Winter Hours; Orchard in August is a quiet literary drama "
  "to try next.",
  "You clearly love thrillers: Red Asset. The Final Hour is another tense thriller for your "
  "shelf.",
  "You have only just started with Awkward Uncle; Burning Hour is a tense thriller to try next.",
  "Second Harbour is a popular warm romance that readers with similar taste enjoyed.",
  "Because you enjoyed Paper Letters, you may like The Glass Letters: another quiet literary "
  "drama.",
  "Hollow Archive is a popular science fiction adventure that readers with similar taste "
  "enjoyed.",
  "You have only just started with The Great Siege; Republic of the Steppe is a vivid narrative "
  "history to try next.",
  "You have only just started with Witness at Ashby Hall; The Locked Lantern is a twisty mystery "
  "to try next.",
};
#define N_PAIRS (sizeof sources / sizeof *sources)

static int setup(void **state)
{
  (void)state;
  snprintf(model_dir, sizeof model_dir, "%s/../../examples/demo/model", PRISM_FIXTURES);
  return prism_tokenizer_load(&tok, model_dir, NULL) == PRISM_OK ? 0 : -1;
}

static int teardown(void **state)
{
  (void)state;
  prism_tokenizer_free(tok);
  return 0;
}

static prism_pairs *text_pairs(void)
{
  prism_pairs *p = NULL;
  assert_ok(prism_pairs_create(&p, NULL));
  for (size_t i = 0; i < N_PAIRS; i++)
    assert_ok(prism_pairs_add_text(p, tok, sources[i], strlen(sources[i]), targets[i],
                                   strlen(targets[i])));
  return p;
}

static prism_trainer *demo_trainer(prism_train_params *p)
{
  prism_bart *init = NULL;
  prism_trainer *t = NULL;
  int rc;
  assert_ok(prism_bart_load(&init, model_dir, NULL));
  rc = prism_trainer_create(&t, init, p);
  prism_bart_free(init);
  return rc == PRISM_OK ? t : NULL;
}

typedef struct seen {
  prism_trainer *t;
  int evaluations, checked;
  double best_value, best_loss;
  uint64_t best_step;
} seen;

/* The figures of the model as it is now, on the first N_GEN pairs, computed independently. */
static void recompute(const prism_bart *model, prism_metrics_result *m, double *exact)
{
  prism_explainer *ex = NULL;
  prism_text_batch *texts = NULL;
  prism_generate_params g;
  size_t same = 0;
  const char *hyp[N_GEN];
  assert_ok(prism_explainer_create(&ex, tok, model, NULL));
  prism_generate_params_init(&g, sizeof g);
  g.num_beams = 1;
  assert_ok(prism_explainer_run(&texts, ex, sources, N_GEN, &g, NULL, NULL));
  for (size_t i = 0; i < N_GEN; i++) {
    hyp[i] = prism_text_batch_get(texts, i, NULL);
    same += strcmp(hyp[i], targets[i]) == 0;
  }
  memset(m, 0, sizeof *m);
  m->struct_size = sizeof *m;
  assert_ok(prism_metrics_evaluate(m, targets, hyp, NULL, N_GEN, NULL));
  *exact = (double)same / N_GEN;
  prism_text_batch_free(texts);
  prism_explainer_free(ex);
}

static int on_progress(const prism_train_progress *p, void *payload)
{
  seen *s = payload;
  assert_true(p->struct_size >= sizeof *p);
  if (!p->evaluated) {
    assert_null(p->eval_text);
    assert_int_equal(p->eval_generated, 0);
    assert_true(isnan(p->eval_metric));
    return 1;
  }
  s->evaluations++;
  assert_non_null(p->eval_text);
  assert_int_equal(p->eval_generated, N_GEN);
  assert_int_equal(p->eval_text->count, N_GEN);
  /* best_metric is bleu4 here: the value the callback sees, the best flag. */
  assert_true(p->eval_metric == p->eval_text->bleu4);
  assert_int_equal(p->best, isnan(s->best_value) || p->eval_metric > s->best_value);
  if (p->best) {
    s->best_value = p->eval_metric;
    s->best_loss = p->eval_loss;
    s->best_step = p->step;
  }
  {
    prism_metrics_result m;
    double exact;
    recompute(prism_trainer_model(s->t), &m, &exact);
    assert_true(p->eval_exact_match == exact);
    assert_true(p->eval_text->bleu1 == m.bleu1);
    assert_true(p->eval_text->bleu4 == m.bleu4);
    assert_true(p->eval_text->rouge_l_f_score == m.rouge_l_f_score);
    assert_true(p->eval_text->usr == m.usr);
    s->checked++;
  }
  return 1;
}

static char *temp_dir(void)
{
  char *dir = strdup("/tmp/prism-train-text-XXXXXX");
  assert_non_null(mkdtemp(dir));
  return dir;
}

static void remove_tree(const char *dir)
{
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static void test_generated_text_and_best_metric(void **state)
{
  prism_train_params p;
  prism_trainer *t, *back = NULL;
  prism_pairs *pairs = text_pairs();
  prism_train_state st = { .struct_size = sizeof st };
  seen s = { NULL, 0, 0, NAN, NAN, 0 };
  char *dir = temp_dir(), out[1100], ckpt[1200];
  json_t *j;
  json_error_t err;
  (void)state;
  snprintf(out, sizeof out, "%s/run", dir);
  prism_train_params_init(&p, sizeof p);
  p.batch_size = 4;
  p.max_steps = 4;
  p.eval_every = 1;
  p.learning_rate = 3e-3;
  p.eval_generate = N_GEN;
  p.best_metric = "bleu4";
  p.output_dir = out;
  assert_non_null(t = demo_trainer(&p));
  s.t = t;
  assert_ok(prism_trainer_train(t, pairs, pairs, on_progress, &s));
  assert_int_equal(s.evaluations, 4);
  assert_int_equal(s.checked, 4);
  assert_ok(prism_trainer_get_state(t, &st));
  assert_true(st.best_metric == s.best_value);
  assert_true(st.best_eval_loss == s.best_loss);
  assert_int_equal(st.best_step, s.best_step);

  /* The checkpoint keeps the metric's name and N; a resumed trainer knows its best. */
  snprintf(ckpt, sizeof ckpt, "%s/trainer_state.json", out);
  assert_non_null(j = json_load_file(ckpt, 0, &err));
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(j, "settings"), "metric_for_best_model")),
      "bleu4");
  assert_int_equal(
      json_integer_value(json_object_get(json_object_get(j, "settings"), "eval_generate")), N_GEN);
  assert_true(json_real_value(json_object_get(j, "best_metric")) == s.best_value);
  snprintf(ckpt, sizeof ckpt, "%s/%s", out,
           strrchr(json_string_value(json_object_get(j, "last_checkpoint")), '/') + 1);
  json_decref(j);
  assert_ok(prism_trainer_resume(&back, ckpt, NULL));
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  assert_ok(prism_trainer_get_state(back, &st));
  assert_true(st.best_metric == s.best_value);
  assert_int_equal(st.best_step, s.best_step);
  prism_trainer_free(back);
  prism_trainer_free(t);
  prism_pairs_free(pairs);
  remove_tree(dir);
  free(dir);
}

static void test_best_metric_refused(void **state)
{
  prism_train_params p;
  prism_trainer *t;
  prism_pairs *pairs = text_pairs(), *batches = NULL;
  prism_pairs_params pp;
  (void)state;
  prism_train_params_init(&p, sizeof p);
  p.best_metric = "blue4";
  assert_null(demo_trainer(&p));
  assert_int_equal(prism_last_error_status(), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_trainer_create: ");
  assert_error_mentions("best_metric \"blue4\" is not one of");
  p.best_metric = "bleu4";
  assert_null(demo_trainer(&p));
  assert_error_mentions("computed on generated text: set eval_generate");
  p.best_metric = "accuracy"; /* teacher-forced: no generation needed */
  assert_non_null(t = demo_trainer(&p));
  prism_trainer_free(t);
  p.best_metric = "rouge_l_f_score"; /* prism eval-text's name */
  p.eval_generate = 2;
  p.max_steps = 1;
  assert_non_null(t = demo_trainer(&p));

  /* Generation needs pairs, not ready micro-batches. */
  prism_pairs_params_init(&pp, sizeof pp);
  pp.format = PRISM_PAIRS_BATCHES;
  assert_ok(prism_pairs_create(&batches, &pp));
  {
    const int32_t ids[] = { 0, 5, 2 }, labels[] = { 0, 7, 2 };
    assert_ok(prism_pairs_add_batch(batches, ids, NULL, 1, 3, labels, 3));
  }
  assert_status(prism_trainer_train(t, pairs, batches, NULL, NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("eval_generate needs evaluation pairs");
  prism_trainer_free(t);

  /* A model from config.json without a tokenizer cannot turn its outputs into text. */
  {
    char path[1024];
    FILE *f = fopen(fixture_path(path, sizeof path, "tiny-bart/config.json"), "rb");
    char config[8192];
    size_t len;
    assert_non_null(f);
    len = fread(config, 1, sizeof config, f);
    fclose(f);
    p.tokenizer_dir = "/nonexistent";
    p.best_metric = NULL;
    assert_ok(prism_trainer_create_from_config(&t, config, len, NULL, 0, &p));
    {
      const int32_t src[] = { 0, 5, 2 }, tgt[] = { 0, 7, 2 };
      prism_pairs *ids = NULL;
      assert_ok(prism_pairs_create(&ids, NULL));
      assert_ok(prism_pairs_add(ids, src, 3, tgt, 3));
      assert_status(prism_trainer_train(t, ids, ids, NULL, NULL), PRISM_ERR_NOT_FOUND);
      assert_error_mentions("eval_generate needs the tokenizer of tokenizer_dir");
      prism_pairs_free(ids);
    }
    prism_trainer_free(t);
  }
  prism_pairs_free(batches);
  prism_pairs_free(pairs);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_generated_text_and_best_metric),
    cmocka_unit_test(test_best_metric_refused),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
