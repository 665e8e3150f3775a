/*
 * Internal: beam search bookkeeping after transformers 4.36 BeamSearchScorer
 * and BeamHypotheses (encoder-decoder case: the decoder prompt is the start
 * token alone, so a hypothesis' length excludes it).
 */
#ifndef PRISM__GENERATE_BEAM_H
#define PRISM__GENERATE_BEAM_H

#include <stddef.h>
#include <stdint.h>

#include "generate_internal.h"

/* One of the top 2 x num_beams continuations of an input row. */
typedef struct prism__generate_beam_cand {
  float score; /* beam score + processed log-probability */
  int32_t token;
  int32_t beam; /* beam within the input row */
} prism__generate_beam_cand;

typedef struct prism__generate_beam_scorer {
  size_t batch, num_beams, cap; /* cap: tokens a hypothesis can hold */
  double length_penalty;
  int early_stopping;
  int32_t max_length;
  int32_t *count;  /* [batch] finished hypotheses kept */
  int32_t *order;  /* [batch][num_beams + 1] their slots, in HF's list order */
  double *worst;   /* [batch] lowest kept score (1e9 while empty) */
  int32_t *done;   /* [batch] */
  double *score;   /* [batch][num_beams + 1] slot scores */
  int32_t *len;    /* [batch][num_beams + 1] slot lengths */
  int32_t *tokens; /* [batch][num_beams + 1][cap] */
  int32_t *idx;    /* [num_beams + 1] sorting scratch */
} prism__generate_beam_scorer;

int prism__generate_beam_init(prism__generate_beam_scorer *s, size_t batch, size_t cap,
                              const prism__generate_config *cfg);
void prism__generate_beam_free(prism__generate_beam_scorer *s);

/*
 * The k best of `scores` [num_beams x vocab] (one input row), best first;
 * equal scores keep the lower beam and token first.
 */
void prism__generate_beam_topk(const float *scores, size_t num_beams, size_t vocab, size_t k,
                               prism__generate_beam_cand *out);

/*
 * HF beam_sample's choice: k draws without replacement from softmax(scores)
 * over [num_beams x vocab], sorted by score (best first, then lower index).
 * When fewer than k tokens have any probability, the lowest-index others
 * fill the rest. `pairs` and `weights` hold num_beams x vocab entries.
 */
void prism__generate_beam_sample(const float *scores, size_t num_beams, size_t vocab, size_t k,
                                 prism__rng *rng, prism__generate_pair *pairs, double *weights,
                                 prism__generate_beam_cand *out);

/*
 * BeamSearchScorer.process for input row b. `seqs` holds every decoder row
 * (stride `stride`, cur_len tokens each). Writes the row's num_beams next
 * beams: their scores, tokens and source rows (global decoder rows).
 */
int prism__generate_beam_process(prism__generate_beam_scorer *s, size_t b,
                                 const prism__generate_beam_cand *cands, size_t n_cands,
                                 const int32_t *seqs, size_t stride, size_t cur_len,
                                 const prism__generate_config *cfg, float *next_scores,
                                 int32_t *next_tokens, int32_t *next_rows);

/* BeamSearchScorer.finalize: the num_return_sequences best per input row. */
int prism__generate_beam_finalize(prism__generate_beam_scorer *s, const int32_t *seqs,
                                  size_t stride, size_t cur_len, const float *beam_scores,
                                  const prism__generate_config *cfg, prism_generate_result **out);

/*
 * What finalize would return first for input row b if the search stopped
 * now; writes up to cap + 1 tokens to `out` and returns their count.
 */
size_t prism__generate_beam_best(const prism__generate_beam_scorer *s, size_t b,
                                 const int32_t *seqs, size_t stride, size_t cur_len,
                                 const float *beam_scores, const prism__generate_config *cfg,
                                 int32_t *out);

#endif
