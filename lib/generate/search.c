/*
 * The decode loops: greedy search and sampling (transformers 4.36
 * greedy_search / sample) and beam search (beam_search). Every row of a step
 * goes through one decoder call; per-row work (processors, warpers, log-softmax)
 * runs on the worker pool, each row writing only its own slots, so the output
 * does not depend on the thread count. Everything is allocated before the
 * first step.
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "generate_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/pool.h"
#include "generate_internal.h"

typedef struct gen_work {
  const prism__generate_config *cfg;
  size_t batch, rows, cap, vocab;
  int32_t *seqs, *seqs_next;   /* [rows, cap] decoder sequences */
  int32_t *tokens;             /* [rows] newest token of each row */
  int32_t *lengths;            /* [rows] */
  int32_t *finished;           /* [rows] */
  float *scores;               /* [rows, vocab] */
  float *scratch;              /* [rows, cap] */
  prism__generate_pair *pairs; /* [rows, vocab], sampling only */
  prism__rng *rngs;            /* [rows], sampling only */
  const float *logits;         /* this step's, [rows, vocab] */
  size_t cur_len;
  /* beam search */
  prism__generate_beam_scorer scorer;
  prism__generate_beam_cand *cands; /* [batch, 2 * num_beams] */
  float *beam_scores, *next_scores; /* [rows] */
  double *weights;                  /* [rows, vocab], beam sampling only */
  int32_t *next_rows;               /* [rows] */
  int32_t *best;                    /* [batch, cap + 1] streamed best hypotheses */
  atomic_int status;                /* a failure inside a parallel section */
} gen_work;

/* Rows per worker chunk: small vocabularies are not worth waking the pool for. */
static size_t row_grain(const gen_work *w)
{
  size_t grain = (64 * 1024) / w->vocab;
  return grain ? grain : 1;
}

static void work_free(gen_work *w)
{
  prism__free(w->seqs);
  prism__free(w->seqs_next);
  prism__free(w->tokens);
  prism__free(w->lengths);
  prism__free(w->finished);
  prism__free(w->scores);
  prism__free(w->scratch);
  prism__free(w->pairs);
  prism__free(w->rngs);
  prism__generate_beam_free(&w->scorer);
  prism__free(w->cands);
  prism__free(w->beam_scores);
  prism__free(w->next_scores);
  prism__free(w->next_rows);
  prism__free(w->best);
  prism__free(w->weights);
}

static int work_alloc_beam(gen_work *w)
{
  size_t nb = (size_t)w->cfg->num_beams;
  int rc = prism__generate_beam_init(&w->scorer, w->batch, w->cap, w->cfg);
  if (rc != PRISM_OK)
    return rc;
  w->cands = prism__mallocn(w->batch * 2 * nb, sizeof *w->cands);
  w->beam_scores = prism__mallocn(w->rows, sizeof *w->beam_scores);
  w->next_scores = prism__mallocn(w->rows, sizeof *w->next_scores);
  w->next_rows = prism__mallocn(w->rows, sizeof *w->next_rows);
  w->best = prism__mallocn(w->batch, (w->cap + 1) * sizeof *w->best);
  if (w->cfg->do_sample)
    w->weights = prism__mallocn(w->rows, w->vocab * sizeof *w->weights);
  return w->cands && w->beam_scores && w->next_scores && w->next_rows && w->best &&
                 (w->weights || !w->cfg->do_sample)
             ? PRISM_OK
             : PRISM_ERR_NO_MEMORY;
}

static int work_alloc(gen_work *w, const prism__generate_config *cfg, size_t batch)
{
  int beam = cfg->num_beams > 1;
  memset(w, 0, sizeof *w);
  atomic_init(&w->status, PRISM_OK);
  w->cfg = cfg;
  w->batch = batch;
  w->rows = batch * (size_t)(beam ? cfg->num_beams : cfg->num_return_sequences);
  /* One token more than max_length: HF always takes at least one step. */
  w->cap = (size_t)cfg->max_length + 1;
  w->vocab = (size_t)cfg->vocab_size;
  w->seqs = prism__mallocn(w->rows, w->cap * sizeof *w->seqs);
  w->seqs_next = prism__mallocn(w->rows, w->cap * sizeof *w->seqs_next);
  w->tokens = prism__mallocn(w->rows, sizeof *w->tokens);
  w->lengths = prism__mallocn(w->rows, sizeof *w->lengths);
  w->finished = prism__calloc(w->rows, sizeof *w->finished);
  w->scores = prism__mallocn(w->rows, w->vocab * sizeof *w->scores);
  w->scratch = prism__mallocn(w->rows, w->cap * sizeof *w->scratch);
  if (!(w->seqs && w->seqs_next && w->tokens && w->lengths && w->finished && w->scores &&
        w->scratch))
    return PRISM_ERR_NO_MEMORY;
  if (cfg->do_sample) {
    w->pairs = prism__mallocn(w->rows, w->vocab * sizeof *w->pairs);
    w->rngs = prism__mallocn(w->rows, sizeof *w->rngs);
    if (!w->pairs || !w->rngs)
      return PRISM_ERR_NO_MEMORY;
    for (size_t r = 0; r < w->rows; r++)
      prism__rng_seed(&w->rngs[r], cfg->seed, r);
  }
  return beam ? work_alloc_beam(w) : PRISM_OK;
}

/* One event over `rows` rows of `sequences`, with w's lengths and finished flags. */
static int stream_event(gen_work *w, size_t rows, const int32_t *tokens, size_t stride,
                        const int32_t *sequences, prism_generate_stream_fn stream, void *payload)
{
  prism_generate_event ev;
  memset(&ev, 0, sizeof ev);
  ev.struct_size = sizeof ev;
  ev.step = w->cur_len - 1;
  ev.num_rows = rows;
  ev.stride = stride;
  ev.tokens = tokens;
  ev.sequences = sequences;
  ev.lengths = w->lengths;
  ev.finished = w->finished;
  if (stream(&ev, payload))
    return PRISM_OK;
  return prism__error(PRISM_ERR_CANCELLED,
                      "cancelled by the stream callback after "
                      "step %zu",
                      ev.step);
}

/* Greedy and sampling: the processed (and warped) scores of each row pick its token. */
static void greedy_rows(void *ctx, size_t begin, size_t end)
{
  gen_work *w = ctx;
  const prism__generate_config *cfg = w->cfg;
  for (size_t r = begin; r < end; r++) {
    float *scores = w->scores + r * w->vocab;
    int32_t next;
    memcpy(scores, w->logits + r * w->vocab, w->vocab * sizeof *scores);
    prism__generate_process(cfg, w->seqs + r * w->cap, w->cur_len, scores, w->scratch + r * w->cap);
    if (cfg->do_sample) {
      prism__generate_warp(cfg, scores, w->pairs + r * w->vocab);
      next = prism__generate_sample(scores, w->vocab, &w->rngs[r]);
    } else {
      next = prism__generate_argmax(scores, w->vocab);
    }
    /* A finished row keeps emitting padding. */
    w->tokens[r] = w->finished[r] ? w->cfg->pad_token_id : next;
  }
}

/* Append this step's tokens; returns 1 when every row has produced EOS. */
static int greedy_append(gen_work *w)
{
  int all_finished = 1;
  for (size_t r = 0; r < w->rows; r++) {
    w->seqs[r * w->cap + w->cur_len] = w->tokens[r];
    if (!w->finished[r]) {
      w->lengths[r] = (int32_t)w->cur_len + 1;
      w->finished[r] = w->tokens[r] == w->cfg->eos_token_id;
    }
    all_finished &= w->finished[r];
  }
  return w->cfg->eos_token_id >= 0 && all_finished;
}

static int greedy_result(gen_work *w, prism_generate_result **out)
{
  prism_generate_result *res;
  int rc = prism__generate_result_new(&res, w->rows, w->cur_len, 0);
  if (rc != PRISM_OK)
    return rc;
  for (size_t r = 0; r < w->rows; r++)
    memcpy(res->sequences + r * w->cur_len, w->seqs + r * w->cap,
           w->cur_len * sizeof *res->sequences);
  memcpy(res->lengths, w->lengths, w->rows * sizeof *res->lengths);
  *out = res;
  return PRISM_OK;
}

static int run_greedy(gen_work *w, const prism__generate_decoder *dec,
                      prism_generate_stream_fn stream, void *payload, prism_generate_result **out)
{
  const prism__generate_config *cfg = w->cfg;
  int rc, stop = 0;
  for (size_t r = 0; r < w->rows; r++) {
    w->seqs[r * w->cap] = w->tokens[r] = cfg->decoder_start_token_id;
    w->lengths[r] = 1;
  }
  for (w->cur_len = 1; !stop;) {
    rc = dec->step(dec->ctx, w->tokens, &w->logits);
    if (rc != PRISM_OK)
      return rc;
    prism__parallel_for(w->rows, row_grain(w), greedy_rows, w);
    stop = greedy_append(w);
    w->cur_len++;
    stop |= w->cur_len >= (size_t)cfg->max_length;
    if (stream &&
        (rc = stream_event(w, w->rows, w->tokens, w->cap, w->seqs, stream, payload)) != PRISM_OK)
      return rc;
  }
  return greedy_result(w, out);
}

/*
 * Beam search, per decoder row: log_softmax, processors, plus the beam's
 * score; beam sampling then warps the sums.
 */
static void beam_rows(void *ctx, size_t begin, size_t end)
{
  gen_work *w = ctx;
  for (size_t r = begin; r < end; r++) {
    float *scores = w->scores + r * w->vocab;
    float beam_score = w->beam_scores[r];
    prism__generate_log_softmax(w->logits + r * w->vocab, w->vocab, scores);
    prism__generate_process(w->cfg, w->seqs + r * w->cap, w->cur_len, scores,
                            w->scratch + r * w->cap);
    for (size_t v = 0; v < w->vocab; v++)
      scores[v] += beam_score;
    if (w->cfg->do_sample)
      prism__generate_warp(w->cfg, scores, w->pairs + r * w->vocab);
  }
}

/*
 * Beam search, per input row: top 2 x num_beams over beams x vocab (beam
 * sampling: as many draws), then the scorer.
 */
static void beam_select(void *ctx, size_t begin, size_t end)
{
  gen_work *w = ctx;
  size_t nb = (size_t)w->cfg->num_beams, k = 2 * nb;
  for (size_t b = begin; b < end; b++) {
    prism__generate_beam_cand *cands = w->cands + b * k;
    int rc;
    const float *scores = w->scores + b * nb * w->vocab;
    if (!w->scorer.done[b] && w->cfg->do_sample)
      prism__generate_beam_sample(scores, nb, w->vocab, k, &w->rngs[b],
                                  w->pairs + b * nb * w->vocab, w->weights + b * nb * w->vocab,
                                  cands);
    else if (!w->scorer.done[b])
      prism__generate_beam_topk(scores, nb, w->vocab, k, cands);
    rc = prism__generate_beam_process(&w->scorer, b, cands, k, w->seqs, w->cap, w->cur_len, w->cfg,
                                      w->next_scores + b * nb, w->tokens + b * nb,
                                      w->next_rows + b * nb);
    if (rc != PRISM_OK)
      atomic_store(&w->status, rc);
  }
}

/* Continue each new beam from its source row; returns 1 when every input row is done. */
static int beam_advance(gen_work *w)
{
  int32_t *swap;
  int all_done = 1;
  for (size_t r = 0; r < w->rows; r++) {
    int32_t *dst = w->seqs_next + r * w->cap;
    memcpy(dst, w->seqs + (size_t)w->next_rows[r] * w->cap, w->cur_len * sizeof *dst);
    dst[w->cur_len] = w->tokens[r];
  }
  swap = w->seqs;
  w->seqs = w->seqs_next;
  w->seqs_next = swap;
  memcpy(w->beam_scores, w->next_scores, w->rows * sizeof *w->beam_scores);
  w->cur_len++;
  for (size_t b = 0; b < w->batch; b++)
    all_done &= w->scorer.done[b];
  return all_done;
}

/* The stream shows, per input row, what the search would return if it stopped now. */
static int beam_stream(gen_work *w, prism_generate_stream_fn stream, void *payload)
{
  size_t stride = w->cap + 1;
  int32_t *tokens = w->next_rows; /* free until the next step */
  for (size_t b = 0; b < w->batch; b++) {
    int32_t *best = w->best + b * stride;
    size_t len = prism__generate_beam_best(&w->scorer, b, w->seqs, w->cap, w->cur_len,
                                           w->beam_scores, w->cfg, best);
    tokens[b] = best[len - 1];
    w->lengths[b] = (int32_t)len;
    w->finished[b] = w->scorer.done[b];
  }
  return stream_event(w, w->batch, tokens, stride, w->best, stream, payload);
}

static int run_beam(gen_work *w, const prism__generate_decoder *dec,
                    prism_generate_stream_fn stream, void *payload, prism_generate_result **out)
{
  const prism__generate_config *cfg = w->cfg;
  size_t nb = (size_t)cfg->num_beams;
  int rc, stop = 0;
  for (size_t r = 0; r < w->rows; r++) {
    w->seqs[r * w->cap] = w->tokens[r] = cfg->decoder_start_token_id;
    /*
     * Beam search starts from the first beam alone, or every beam would pick
     * the same tokens; beam sampling starts all beams level, as HF does.
     */
    w->beam_scores[r] = r % nb == 0 || cfg->do_sample ? 0.0f : -1e9f;
  }
  for (w->cur_len = 1; !stop;) {
    rc = dec->step(dec->ctx, w->tokens, &w->logits);
    if (rc != PRISM_OK)
      return rc;
    prism__parallel_for(w->rows, row_grain(w), beam_rows, w);
    prism__parallel_for(w->batch, row_grain(w) / (size_t)cfg->num_beams + 1, beam_select, w);
    if (atomic_load(&w->status) != PRISM_OK)
      return prism__error(PRISM_ERR_INTERNAL, "beam search invariant broken");
    stop = beam_advance(w) || w->cur_len >= (size_t)cfg->max_length;
    if (!stop && (rc = dec->reorder(dec->ctx, w->next_rows)) != PRISM_OK)
      return rc;
    if (stream && (rc = beam_stream(w, stream, payload)) != PRISM_OK)
      return rc;
  }
  return prism__generate_beam_finalize(&w->scorer, w->seqs, w->cap, w->cur_len, w->beam_scores, cfg,
                                       out);
}

int prism__generate_decode(prism_generate_result **out, const prism__generate_decoder *dec,
                           const prism__generate_config *cfg, size_t batch,
                           prism_generate_stream_fn stream, void *payload)
{
  gen_work w;
  size_t per_input = (size_t)(cfg->num_beams > 1 ? cfg->num_beams : cfg->num_return_sequences);
  /* Starting first lets the decoder refuse a request beyond its capacity before any allocation. */
  int rc = dec->start(dec->ctx, per_input);
  if (rc != PRISM_OK)
    return rc;
  rc = work_alloc(&w, cfg, batch);
  if (rc == PRISM_OK)
    rc = cfg->num_beams > 1 ? run_beam(&w, dec, stream, payload, out)
                            : run_greedy(&w, dec, stream, payload, out);
  if (rc == PRISM_OK) {
    (*out)->stats.steps = (int32_t)(w.cur_len - 1);
    (*out)->stats.rows = (int32_t)w.rows;
  }
  work_free(&w);
  return rc;
}
