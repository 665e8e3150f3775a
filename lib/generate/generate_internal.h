/*
 * Internal to lib/generate: the generation engine. The decode loops (search.c)
 * talk to the model through prism__generate_decoder, so they run the same on a
 * BART session (generate.c) and on the scripted logits of the unit tests.
 * Parameters reach them fully resolved (config.c: model defaults applied,
 * values validated). The model is reached only through <prism/bart.h>.
 */
#ifndef PRISM__GENERATE_INTERNAL_H
#define PRISM__GENERATE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "prism/generate.h"
#include "common/rng.h"

/* The decoder half of a model: start, step all rows, reorder the cache. */
typedef struct prism__generate_decoder {
  void *ctx;
  int (*start)(void *ctx, size_t rows_per_input);
  int (*step)(void *ctx, const int32_t *tokens, const float **logits);
  int (*reorder)(void *ctx, const int32_t *src_rows);
} prism__generate_decoder;

/* Resolved generation parameters. Token ids are -1 when absent. */
typedef struct prism__generate_config {
  int32_t vocab_size;
  int32_t max_length;
  int32_t min_length;
  int32_t min_new_tokens;
  int32_t num_beams;
  int32_t num_return_sequences;
  int32_t early_stopping; /* PRISM_EARLY_STOPPING_FALSE / _TRUE / _NEVER */
  int32_t no_repeat_ngram_size;
  int32_t forced_bos_token_id;
  int32_t forced_eos_token_id;
  int32_t do_sample;
  int32_t top_k;
  double length_penalty;
  double repetition_penalty;
  double temperature;
  double top_p;
  uint64_t seed;
  int32_t eos_token_id;
  int32_t pad_token_id;
  int32_t decoder_start_token_id;
} prism__generate_config;

struct prism_generate_result {
  size_t count, width;
  int32_t *sequences; /* [count, width] */
  int32_t *lengths;   /* [count] */
  float *scores;      /* [count] for beam search, else NULL */
  prism_generate_stats stats;
};

/*
 * config.c: check fully merged params (every field set but the *_new_tokens)
 * and resolve them for a model of `vocab_size` tokens and `max_positions`
 * positions; errors start with `fn` and name the parameter.
 */
int prism__generate_resolve(prism__generate_config *cfg, const prism_generate_params *params,
                            int32_t vocab_size, int32_t max_positions, const char *fn);

/* config.c: a request (NULL: none) over the model's defaults, resolved (errors start with fn). */
int prism__generate_prepare(prism__generate_config *cfg, const prism_bart *model,
                            const prism_generate_params *request, const char *fn);

/* Allocate an empty result of count x width (scores only when `with_scores`). */
int prism__generate_result_new(prism_generate_result **out, size_t count, size_t width,
                               int with_scores);

/*
 * Run the decode loop for `batch` encoded rows (the decoder already has them)
 * and return the sequences. Greedy, sampling or beam search by cfg.
 */
int prism__generate_decode(prism_generate_result **out, const prism__generate_decoder *dec,
                           const prism__generate_config *cfg, size_t batch,
                           prism_generate_stream_fn stream, void *payload);

/* --- processors.c: one row of scores at a time ------------------------- */

/*
 * HF's logits processors in _get_logits_processor order: repetition penalty,
 * no-repeat n-gram, min length, min new tokens, forced BOS, forced EOS.
 * `seq` is the row's decoder sequence (len tokens, start token included);
 * `scratch` holds at least len floats.
 */
void prism__generate_process(const prism__generate_config *cfg, const int32_t *seq, size_t len,
                             float *scores, float *scratch);

/* Scratch for the warpers and sampling: one per row. */
typedef struct prism__generate_pair {
  float score;
  int32_t id;
} prism__generate_pair;

/*
 * HF's sampling warpers in _get_logits_warper order: temperature, top-k,
 * top-p; removed tokens become -inf. `pairs` holds vocab_size entries.
 */
void prism__generate_warp(const prism__generate_config *cfg, float *scores,
                          prism__generate_pair *pairs);

/* Draw one token from softmax(scores); -inf tokens are never drawn. */
int32_t prism__generate_sample(const float *scores, size_t n, prism__rng *rng);

/* Index of the first maximum. */
int32_t prism__generate_argmax(const float *scores, size_t n);

/* scores = log_softmax(logits) in float32, as torch computes it. */
void prism__generate_log_softmax(const float *logits, size_t n, float *scores);

/* ---- beam.h ---- */
/*
 * Internal: beam search bookkeeping after transformers 4.36 BeamSearchScorer
 * and BeamHypotheses (encoder-decoder case: the decoder prompt is the start
 * token alone, so a hypothesis' length excludes it).
 */
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
