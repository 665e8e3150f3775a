/*
 * Beam search bookkeeping, line for line with transformers 4.36
 * (BeamSearchScorer, BeamHypotheses): a finished hypothesis scores
 * sum_logprobs / generated_len ** length_penalty where generated_len counts
 * the tokens after the decoder start token, EOS included.
 */
#include <math.h>
#include <string.h>

#include "generate_internal.h"
#include "common/alloc.h"
#include "common/error.h"

#define DECODER_PROMPT_LEN 1 /* the decoder start token */

int prism__generate_beam_init(prism__generate_beam_scorer *s, size_t batch, size_t cap,
                              const prism__generate_config *cfg)
{
  size_t slots = (size_t)cfg->num_beams + 1;
  memset(s, 0, sizeof *s);
  s->batch = batch;
  s->num_beams = (size_t)cfg->num_beams;
  s->cap = cap;
  s->length_penalty = cfg->length_penalty;
  s->early_stopping = cfg->early_stopping;
  s->max_length = cfg->max_length;
  s->count = prism__calloc(batch, sizeof *s->count);
  s->order = prism__calloc(batch * slots, sizeof *s->order);
  s->worst = prism__calloc(batch, sizeof *s->worst);
  s->done = prism__calloc(batch, sizeof *s->done);
  s->score = prism__calloc(batch * slots, sizeof *s->score);
  s->len = prism__calloc(batch * slots, sizeof *s->len);
  s->idx = prism__calloc(slots, sizeof *s->idx);
  if (s->count && s->order && s->worst && s->done && s->score && s->len && s->idx)
    s->tokens = prism__mallocn(batch * slots, cap * sizeof *s->tokens);
  if (!s->tokens) {
    prism__generate_beam_free(s);
    return PRISM_ERR_NO_MEMORY;
  }
  for (size_t b = 0; b < batch; b++)
    s->worst[b] = 1e9;
  return PRISM_OK;
}

void prism__generate_beam_free(prism__generate_beam_scorer *s)
{
  prism__free(s->count);
  prism__free(s->order);
  prism__free(s->worst);
  prism__free(s->done);
  prism__free(s->score);
  prism__free(s->len);
  prism__free(s->idx);
  prism__free(s->tokens);
  memset(s, 0, sizeof *s);
}

/* Is candidate (score, flat index) ranked before the other? */
static int cand_before(float score, size_t flat, const prism__generate_beam_cand *c, size_t vocab)
{
  size_t other = (size_t)c->beam * vocab + (size_t)c->token;
  return score > c->score || (score == c->score && flat < other);
}

void prism__generate_beam_topk(const float *scores, size_t num_beams, size_t vocab, size_t k,
                               prism__generate_beam_cand *out)
{
  size_t n = num_beams * vocab, filled = 0;
  for (size_t flat = 0; flat < n; flat++) {
    float v = scores[flat];
    size_t pos;
    if (filled == k && !cand_before(v, flat, &out[k - 1], vocab))
      continue;
    pos = filled < k ? filled++ : k - 1;
    while (pos > 0 && cand_before(v, flat, &out[pos - 1], vocab)) {
      out[pos] = out[pos - 1];
      pos--;
    }
    out[pos].score = v;
    out[pos].token = (int32_t)(flat % vocab);
    out[pos].beam = (int32_t)(flat / vocab);
  }
}

static void set_cand(prism__generate_beam_cand *c, float score, size_t flat, size_t vocab)
{
  c->score = score;
  c->token = (int32_t)(flat % vocab);
  c->beam = (int32_t)(flat / vocab);
}

/* One draw from the remaining weights; the entry drawn leaves the pool. */
static size_t draw(double *weights, size_t m, double *total, prism__rng *rng)
{
  double target = prism__rng_uniform(rng) * *total, acc = 0;
  size_t pick = m;
  for (size_t i = 0; i < m; i++) {
    if (weights[i] <= 0)
      continue;
    pick = i;
    acc += weights[i];
    if (acc > target)
      break;
  }
  if (pick == m)
    return m;
  *total -= weights[pick];
  weights[pick] = 0;
  return pick;
}

static int chosen(const prism__generate_beam_cand *out, size_t n, size_t flat, size_t vocab)
{
  for (size_t j = 0; j < n; j++)
    if ((size_t)out[j].beam * vocab + (size_t)out[j].token == flat)
      return 1;
  return 0;
}

void prism__generate_beam_sample(const float *scores, size_t num_beams, size_t vocab, size_t k,
                                 prism__rng *rng, prism__generate_pair *pairs, double *weights,
                                 prism__generate_beam_cand *out)
{
  size_t n = num_beams * vocab, m = 0, filled = 0;
  double max = -INFINITY, total = 0;
  for (size_t flat = 0; flat < n; flat++)
    if (scores[flat] > -INFINITY) {
      pairs[m].score = scores[flat];
      pairs[m++].id = (int32_t)flat;
      if (scores[flat] > max)
        max = scores[flat];
    }
  for (size_t i = 0; i < m; i++)
    total += weights[i] = exp((double)pairs[i].score - max);
  while (filled < k && total > 0) {
    size_t i = draw(weights, m, &total, rng);
    if (i == m)
      break;
    set_cand(&out[filled++], pairs[i].score, (size_t)pairs[i].id, vocab);
  }
  for (size_t flat = 0; filled < k && flat < n; flat++)
    if (!chosen(out, filled, flat, vocab))
      set_cand(&out[filled++], scores[flat], flat, vocab);
  /* torch.sort of the drawn scores, descending; ties by index. */
  for (size_t i = 1; i < filled; i++) {
    prism__generate_beam_cand c = out[i];
    size_t j = i;
    while (j > 0 &&
           cand_before(c.score, (size_t)c.beam * vocab + (size_t)c.token, &out[j - 1], vocab)) {
      out[j] = out[j - 1];
      j--;
    }
    out[j] = c;
  }
}

static size_t slot_index(const prism__generate_beam_scorer *s, size_t b, int32_t slot)
{
  return b * (s->num_beams + 1) + (size_t)slot;
}

/* A slot of row b that no kept hypothesis uses (there is always one spare). */
static int32_t free_slot(const prism__generate_beam_scorer *s, size_t b)
{
  const int32_t *order = s->order + b * (s->num_beams + 1);
  for (int32_t slot = 0;; slot++) {
    int used = 0;
    for (int32_t i = 0; i < s->count[b]; i++)
      used |= order[i] == slot;
    if (!used)
      return slot;
  }
}

/* Python's sorted((score, list index)): the rank-th smallest entry of the list. */
static int32_t nth_smallest(const prism__generate_beam_scorer *s, size_t b, int rank)
{
  const int32_t *order = s->order + b * (s->num_beams + 1);
  int32_t best[2] = { -1, -1 };
  for (int r = 0; r <= rank; r++) {
    int32_t pick = -1;
    for (int32_t i = 0; i < s->count[b]; i++) {
      double si = s->score[slot_index(s, b, order[i])];
      if (i == best[0])
        continue;
      if (pick < 0 || si < s->score[slot_index(s, b, order[pick])])
        pick = i;
    }
    best[r] = pick;
  }
  return best[rank];
}

/* BeamHypotheses.add */
static void hyp_add(prism__generate_beam_scorer *s, size_t b, const int32_t *tokens, size_t len,
                    double sum_logprobs, size_t generated_len)
{
  int32_t *order = s->order + b * (s->num_beams + 1);
  double score = sum_logprobs / pow((double)generated_len, s->length_penalty);
  int32_t slot;

  if (!((size_t)s->count[b] < s->num_beams || score > s->worst[b]))
    return;
  slot = free_slot(s, b);
  memcpy(s->tokens + slot_index(s, b, slot) * s->cap, tokens, len * sizeof *tokens);
  s->len[slot_index(s, b, slot)] = (int32_t)len;
  s->score[slot_index(s, b, slot)] = score;
  order[s->count[b]++] = slot;
  if ((size_t)s->count[b] > s->num_beams) {
    int32_t lowest = nth_smallest(s, b, 0);
    s->worst[b] = s->score[slot_index(s, b, order[nth_smallest(s, b, 1)])];
    memmove(order + lowest, order + lowest + 1, (size_t)(s->count[b] - lowest - 1) * sizeof *order);
    s->count[b]--;
  } else if (score < s->worst[b]) {
    s->worst[b] = score;
  }
}

/* BeamHypotheses.is_done; `cur_len` is HF's: the length the scores were computed for. */
static int hyp_is_done(const prism__generate_beam_scorer *s, size_t b, double best_sum_logprobs,
                       size_t cur_len)
{
  double lp = s->length_penalty, highest;
  if ((size_t)s->count[b] < s->num_beams)
    return 0;
  if (s->early_stopping == PRISM_EARLY_STOPPING_TRUE)
    return 1;
  if (s->early_stopping == PRISM_EARLY_STOPPING_NEVER && lp > 0.0)
    highest = best_sum_logprobs / pow((double)(s->max_length - DECODER_PROMPT_LEN), lp);
  else
    highest = best_sum_logprobs / pow((double)(cur_len - DECODER_PROMPT_LEN), lp);
  return s->worst[b] >= highest;
}

int prism__generate_beam_process(prism__generate_beam_scorer *s, size_t b,
                                 const prism__generate_beam_cand *cands, size_t n_cands,
                                 const int32_t *seqs, size_t stride, size_t cur_len,
                                 const prism__generate_config *cfg, float *next_scores,
                                 int32_t *next_tokens, int32_t *next_rows)
{
  size_t nb = s->num_beams, filled = 0;

  if (s->done[b]) {
    /* A finished row idles on padding; its beams are never read again. */
    for (size_t i = 0; i < nb; i++) {
      next_scores[i] = 0.0f;
      next_tokens[i] = cfg->pad_token_id;
      next_rows[i] = (int32_t)(b * nb + i);
    }
    return PRISM_OK;
  }
  for (size_t rank = 0; rank < n_cands && filled < nb; rank++) {
    const prism__generate_beam_cand *c = &cands[rank];
    size_t row = b * nb + (size_t)c->beam;
    if (cfg->eos_token_id >= 0 && c->token == cfg->eos_token_id) {
      /* An EOS outside the top num_beams candidates does not finish a hypothesis. */
      if (rank < nb)
        hyp_add(s, b, seqs + row * stride, cur_len, c->score, cur_len + 1 - DECODER_PROMPT_LEN);
      continue;
    }
    next_scores[filled] = c->score;
    next_tokens[filled] = c->token;
    next_rows[filled] = (int32_t)row;
    filled++;
  }
  if (filled < nb)
    return prism__error(PRISM_ERR_INTERNAL, "beam search: only %zu of %zu beams continue", filled,
                        nb);
  s->done[b] = hyp_is_done(s, b, cands[0].score, cur_len + 1);
  return PRISM_OK;
}

/* List indices of row b's hypotheses sorted by score, ascending and stable (Python's sorted). */
static void sort_hyps(const prism__generate_beam_scorer *s, size_t b, int32_t *idx)
{
  const int32_t *order = s->order + b * (s->num_beams + 1);
  for (int32_t i = 0; i < s->count[b]; i++) {
    int32_t j = i;
    double si = s->score[slot_index(s, b, order[i])];
    while (j > 0 && s->score[slot_index(s, b, order[idx[j - 1]])] > si) {
      idx[j] = idx[j - 1];
      j--;
    }
    idx[j] = i;
  }
}

/* Add the open beams of every row that is not done, as finalize does. */
static void add_open_beams(prism__generate_beam_scorer *s, const int32_t *seqs, size_t stride,
                           size_t cur_len, const float *beam_scores)
{
  for (size_t b = 0; b < s->batch; b++) {
    if (s->done[b])
      continue;
    for (size_t i = 0; i < s->num_beams; i++) {
      size_t row = b * s->num_beams + i;
      hyp_add(s, b, seqs + row * stride, cur_len, beam_scores[row], cur_len - DECODER_PROMPT_LEN);
    }
  }
}

int prism__generate_beam_finalize(prism__generate_beam_scorer *s, const int32_t *seqs,
                                  size_t stride, size_t cur_len, const float *beam_scores,
                                  const prism__generate_config *cfg, prism_generate_result **out)
{
  size_t keep = (size_t)cfg->num_return_sequences, longest = 0, width;
  int32_t *idx = s->idx;
  prism_generate_result *res;
  int rc;

  add_open_beams(s, seqs, stride, cur_len, beam_scores);
  for (size_t b = 0; b < s->batch; b++) {
    if ((size_t)s->count[b] < keep)
      return prism__error(PRISM_ERR_INTERNAL, "beam search: %d hypotheses for %zu sequences",
                          s->count[b], keep);
    sort_hyps(s, b, idx);
    for (size_t j = 0; j < keep; j++) {
      int32_t slot = s->order[b * (s->num_beams + 1) + idx[s->count[b] - 1 - (int32_t)j]];
      if ((size_t)s->len[slot_index(s, b, slot)] > longest)
        longest = (size_t)s->len[slot_index(s, b, slot)];
    }
  }
  /* HF: room for one EOS after the longest hypothesis, capped at max_length. */
  width = longest + 1 < (size_t)cfg->max_length ? longest + 1 : (size_t)cfg->max_length;
  if (width < longest)
    width = longest;
  rc = prism__generate_result_new(&res, s->batch * keep, width, 1);
  if (rc != PRISM_OK)
    return rc;
  for (size_t b = 0; b < s->batch; b++) {
    sort_hyps(s, b, idx);
    for (size_t j = 0; j < keep; j++) {
      int32_t slot = s->order[b * (s->num_beams + 1) + idx[s->count[b] - 1 - (int32_t)j]];
      size_t at = slot_index(s, b, slot), len = (size_t)s->len[at], i = b * keep + j;
      int32_t *dst = res->sequences + i * width;
      memcpy(dst, s->tokens + at * s->cap, len * sizeof *dst);
      for (size_t t = len; t < width; t++)
        dst[t] = cfg->pad_token_id;
      if (len < width && cfg->eos_token_id >= 0)
        dst[len++] = cfg->eos_token_id;
      res->lengths[i] = (int32_t)len;
      res->scores[i] = (float)s->score[at];
    }
  }
  *out = res;
  return PRISM_OK;
}

size_t prism__generate_beam_best(const prism__generate_beam_scorer *s, size_t b,
                                 const int32_t *seqs, size_t stride, size_t cur_len,
                                 const float *beam_scores, const prism__generate_config *cfg,
                                 int32_t *out)
{
  const int32_t *order = s->order + b * (s->num_beams + 1);
  const int32_t *best = NULL;
  size_t best_len = 0;
  double best_score = -INFINITY;
  int finished = 0;

  /* Later entries win ties: HF pops the last of a stable ascending sort. */
  for (int32_t i = 0; i < s->count[b]; i++) {
    size_t at = slot_index(s, b, order[i]);
    if (!best || s->score[at] >= best_score) {
      best = s->tokens + at * s->cap;
      best_len = (size_t)s->len[at];
      best_score = s->score[at];
      finished = 1;
    }
  }
  for (size_t i = 0; !s->done[b] && i < s->num_beams; i++) {
    size_t row = b * s->num_beams + i;
    double score =
        beam_scores[row] / pow((double)(cur_len - DECODER_PROMPT_LEN), s->length_penalty);
    if (!best || score >= best_score) {
      best = seqs + row * stride;
      best_len = cur_len;
      best_score = score;
      finished = 0;
    }
  }
  memcpy(out, best, best_len * sizeof *out);
  if (finished && cfg->eos_token_id >= 0)
    out[best_len++] = cfg->eos_token_id;
  return best_len;
}
