/*
 * Evaluation on generated text: at each evaluation, the first eval_generate
 * held-out pairs are decoded greedily (the model's own generation settings,
 * with num_beams 1 and no sampling) and scored against their targets with the
 * metrics of <prism/metrics.h>; and the metric that picks the best checkpoint.
 */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "prism/generate.h"
#include "train_internal.h"

/* The metrics a run can be judged by: loss is lower-is-better, every other higher. */
typedef enum metric_source { M_LOSS, M_ACCURACY, M_EXACT, M_TEXT } metric_source;

static const struct {
  const char *name;
  metric_source source;
  size_t offset; /* into prism_metrics_result, for M_TEXT */
} metrics[] = {
  { "loss", M_LOSS, 0 },
  { "accuracy", M_ACCURACY, 0 },
  { "exact_match", M_EXACT, 0 },
  { "bleu1", M_TEXT, offsetof(prism_metrics_result, bleu1) },
  { "bleu4", M_TEXT, offsetof(prism_metrics_result, bleu4) },
  { "rouge_1_f", M_TEXT, offsetof(prism_metrics_result, rouge_1_f_score) },
  { "rouge_1_p", M_TEXT, offsetof(prism_metrics_result, rouge_1_p_score) },
  { "rouge_1_r", M_TEXT, offsetof(prism_metrics_result, rouge_1_r_score) },
  { "rouge_2_f", M_TEXT, offsetof(prism_metrics_result, rouge_2_f_score) },
  { "rouge_2_p", M_TEXT, offsetof(prism_metrics_result, rouge_2_p_score) },
  { "rouge_2_r", M_TEXT, offsetof(prism_metrics_result, rouge_2_r_score) },
  { "rouge_l_f", M_TEXT, offsetof(prism_metrics_result, rouge_l_f_score) },
  { "rouge_l_p", M_TEXT, offsetof(prism_metrics_result, rouge_l_p_score) },
  { "rouge_l_r", M_TEXT, offsetof(prism_metrics_result, rouge_l_r_score) },
  { "usr", M_TEXT, offsetof(prism_metrics_result, usr) },
};
#define N_METRICS (sizeof metrics / sizeof *metrics)

int prism__train_metric_find(const char *name, int *index)
{
  size_t len = name ? strlen(name) : 0;
  if (!name) {
    *index = 0;
    return PRISM_OK;
  }
  if (len > 6 && strcmp(name + len - 6, "_score") == 0) /* eval-text's names: rouge_l_f_score */
    len -= 6;
  for (size_t i = 0; i < N_METRICS; i++)
    if (strlen(metrics[i].name) == len && strncmp(metrics[i].name, name, len) == 0) {
      *index = (int)i;
      return PRISM_OK;
    }
  return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                      "best_metric \"%.64s\" is not one of loss, accuracy, exact_match, bleu1, "
                      "bleu4, rouge_{1,2,l}_{f,p,r} (with or without _score), usr",
                      name);
}

const char *prism__train_metric_name(int index)
{
  return metrics[index].name;
}

int prism__train_metric_needs_text(int index)
{
  return metrics[index].source == M_EXACT || metrics[index].source == M_TEXT;
}

double prism__train_metric_value(int index, const prism__train_eval *e)
{
  switch (metrics[index].source) {
  case M_LOSS:
    return e->loss;
  case M_ACCURACY:
    return e->accuracy;
  case M_EXACT:
    return e->generated ? e->exact_match : NAN;
  default:
    return e->generated ? *(const double *)((const char *)&e->text + metrics[index].offset) : NAN;
  }
}

int prism__train_metric_better(int index, double value, double best)
{
  if (isnan(value))
    return 0;
  if (isnan(best))
    return 1;
  return metrics[index].source == M_LOSS ? value < best : value > best;
}

/* ---- generation -------------------------------------------------------------------------- */

/* What generation needs, made at the first evaluation that generates. */
static int prepare_text(prism_trainer *t)
{
  int rc;
  if (t->tok && t->session)
    return PRISM_OK;
  if (!t->tok) {
    if (!t->tokenizer_dir)
      return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                          "eval_generate needs a tokenizer: set tokenizer_dir");
    if ((rc = prism_tokenizer_load(&t->tok, t->tokenizer_dir, NULL)) != PRISM_OK)
      return prism__error_prefix("eval_generate needs the tokenizer of tokenizer_dir: ");
  }
  return prism_bart_session_create(&t->session, t->model, NULL);
}

/* A text of token ids (labels: -100 skipped) into a new string. */
static int decode(char **out, const prism_tokenizer *tok, const int32_t *ids, size_t n,
                  int32_t *scratch)
{
  size_t m = 0, len = 0;
  int rc;
  for (size_t i = 0; i < n; i++)
    if (ids[i] != PRISM__TRAIN_IGNORE)
      scratch[m++] = ids[i];
  rc = prism_tokenizer_decode(NULL, 0, &len, tok, scratch, m, PRISM_TOKENIZER_SKIP_SPECIAL);
  if (rc != PRISM_OK && rc != PRISM_ERR_BUFFER_TOO_SMALL)
    return rc;
  if (!(*out = prism__malloc(len + 1)))
    return PRISM_ERR_NO_MEMORY;
  return prism_tokenizer_decode(*out, len + 1, &len, tok, scratch, m, PRISM_TOKENIZER_SKIP_SPECIAL);
}

typedef struct gen_run {
  prism_trainer *t;
  const prism_pairs *eval;
  prism_metrics *metrics;
  prism_generate_params gp;
  int32_t *ids, *mask, *scratch;
  size_t scratch_cap, exact;
} gen_run;

/* Pairs [first, first + rows): generate, decode both sides, score. */
static int gen_batch(gen_run *g, size_t first, size_t rows)
{
  const prism_pairs *s = g->eval;
  size_t width = 0;
  prism_generate_result *res = NULL;
  int rc;
  for (size_t r = 0; r < rows; r++)
    width = s->items[first + r].src > width ? s->items[first + r].src : width;
  for (size_t r = 0; r < rows; r++) {
    const prism__train_item *it = &s->items[first + r];
    for (size_t k = 0; k < width; k++) {
      g->ids[r * width + k] = k < it->src ? prism__train_src(s, it)[k] : g->t->cfg.pad_token_id;
      g->mask[r * width + k] = k < it->src;
    }
  }
  rc = prism_generate_run(&res, g->t->session, g->ids, g->mask, rows, width, &g->gp, NULL, NULL);
  if (rc == PRISM_OK && prism_generate_result_width(res) > g->scratch_cap) {
    /* max_new_tokens may let outputs run past max_length: room for the longest */
    int32_t *grown = prism__realloc(g->scratch, prism_generate_result_width(res) * sizeof *grown);
    if (grown) {
      g->scratch = grown;
      g->scratch_cap = prism_generate_result_width(res);
    }
    rc = grown ? PRISM_OK : PRISM_ERR_NO_MEMORY;
  }
  for (size_t r = 0; rc == PRISM_OK && r < rows; r++) {
    const prism__train_item *it = &s->items[first + r];
    const int32_t *seq =
        prism_generate_result_sequences(res) + r * prism_generate_result_width(res);
    char *hyp = NULL, *ref = NULL;
    rc = decode(&hyp, g->t->tok, seq, (size_t)prism_generate_result_lengths(res)[r], g->scratch);
    if (rc == PRISM_OK)
      rc = decode(&ref, g->t->tok, prism__train_tgt(s, it), it->tgt, g->scratch);
    if (rc == PRISM_OK)
      rc = prism_metrics_add(g->metrics, ref, hyp, NULL);
    if (rc == PRISM_OK)
      g->exact += strcmp(ref, hyp) == 0;
    prism__free(hyp);
    prism__free(ref);
  }
  prism_generate_result_free(res);
  return rc;
}

static int generate_all(gen_run *g, size_t n, size_t bs)
{
  const prism_pairs *s = g->eval;
  size_t src = 0, tgt = 0;
  int rc;
  prism_generate_params greedy;
  for (size_t i = 0; i < n; i++) {
    src = s->items[i].src > src ? s->items[i].src : src;
    tgt = s->items[i].tgt > tgt ? s->items[i].tgt : tgt;
  }
  prism_generate_params_init(&greedy, sizeof greedy);
  greedy.num_beams = 1;
  greedy.num_return_sequences = 1;
  greedy.do_sample = 0;
  prism_generate_params_init(&g->gp, sizeof g->gp);
  g->ids = prism__mallocn(bs * src, sizeof *g->ids);
  g->mask = prism__mallocn(bs * src, sizeof *g->mask);
  rc = g->ids && g->mask ? prism_generate_params_from_model(&g->gp, g->t->model, &greedy)
                         : PRISM_ERR_NO_MEMORY;
  g->scratch_cap = (size_t)g->gp.max_length > tgt ? (size_t)g->gp.max_length : tgt;
  if (rc == PRISM_OK && !(g->scratch = prism__mallocn(g->scratch_cap, sizeof *g->scratch)))
    rc = PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK && g->gp.max_new_tokens == PRISM_UNSET && (size_t)g->gp.max_length < tgt)
    prism__log(PRISM_LOG_WARN,
               "prism_trainer_train: eval_generate: the model generates at most %d tokens "
               "(max_length), fewer than the longest target (%zu): set max_length in its "
               "generation_config.json",
               (int)g->gp.max_length, tgt);
  for (size_t first = 0; rc == PRISM_OK && first < n; first += bs)
    rc = gen_batch(g, first, n - first < bs ? n - first : bs);
  return rc;
}

int prism__train_eval_text(prism_trainer *t, const prism_pairs *eval, prism__train_eval *e)
{
  size_t n = eval->n < t->p.eval_generate ? eval->n : t->p.eval_generate;
  size_t bs = t->p.eval_batch_size ? t->p.eval_batch_size : t->p.batch_size;
  gen_run g;
  int rc;
  if (eval->p.format != PRISM_PAIRS_PAIRS)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "eval_generate needs evaluation pairs, not ready micro-batches");
  if ((rc = prepare_text(t)) != PRISM_OK)
    return rc;
  memset(&g, 0, sizeof g);
  g.t = t;
  g.eval = eval;
  rc = prism_metrics_create(&g.metrics, NULL);
  if (rc == PRISM_OK)
    rc = generate_all(&g, n, bs);
  if (rc == PRISM_OK) {
    memset(&e->text, 0, sizeof e->text);
    e->text.struct_size = sizeof e->text;
    rc = prism_metrics_finish(&e->text, g.metrics);
  }
  if (rc == PRISM_OK) {
    e->exact_match = (double)g.exact / (double)n;
    e->generated = n;
  }
  prism_metrics_free(g.metrics);
  prism__free(g.ids);
  prism__free(g.mask);
  prism__free(g.scratch);
  return rc == PRISM_OK ? rc : prism__error_prefix("evaluation on generated text: ");
}
