/*
 * Scripted logits for the generate suites: a decoder whose logits are a fixed
 * pseudo-random function of each row's whole history (and its input row), so
 * a wrong cache reorder or a wrong row shows up as a wrong score. Tests
 * recompute any step's logits with fake_logits() to check results
 * independently of the search code.
 */
#ifndef PRISM_GEN_TEST_UTIL_H
#define PRISM_GEN_TEST_UTIL_H

#include <math.h>

#include "../testutil.h"
#include "generate/generate_internal.h"

#define FAKE_VOCAB 40
#define FAKE_EOS 2
#define FAKE_PAD 1
#define FAKE_START 2
#define FAKE_MAX_ROWS 64
#define FAKE_MAX_LEN 64

/* Logits for the next token after seq[0..len) of input row `input`. */
static inline void fake_logits(const int32_t *seq, size_t len, size_t input, float *out)
{
  uint64_t h = 1469598103934665603ull ^ (input * 0x9e3779b97f4a7c15ull);
  for (size_t i = 0; i < len; i++)
    h = (h ^ (uint64_t)seq[i]) * 1099511628211ull;
  for (size_t v = 0; v < FAKE_VOCAB; v++) {
    uint64_t x = (h ^ (v * 0xbf58476d1ce4e5b9ull)) * 0x94d049bb133111ebull;
    x ^= x >> 29;
    out[v] = (float)((double)(x >> 11) * 0x1.0p-53 * 8.0 - 4.0);
  }
  /* EOS grows likelier with length, so rows end at different steps. */
  out[FAKE_EOS] += 0.45f * (float)len - 3.0f;
}

typedef struct fake_decoder {
  size_t batch, rows, rows_per_input, len, steps;
  int32_t seqs[FAKE_MAX_ROWS][FAKE_MAX_LEN];
  int32_t tmp[FAKE_MAX_ROWS][FAKE_MAX_LEN];
  float logits[FAKE_MAX_ROWS * FAKE_VOCAB];
} fake_decoder;

static inline int fake_start(void *ctx, size_t rows_per_input)
{
  fake_decoder *f = ctx;
  f->rows_per_input = rows_per_input;
  f->rows = f->batch * rows_per_input;
  f->len = 0;
  f->steps = 0;
  return f->rows <= FAKE_MAX_ROWS ? PRISM_OK : PRISM_ERR_LIMIT;
}

static inline int fake_step(void *ctx, const int32_t *tokens, const float **logits)
{
  fake_decoder *f = ctx;
  if (f->len >= FAKE_MAX_LEN)
    return PRISM_ERR_LIMIT;
  for (size_t r = 0; r < f->rows; r++) {
    f->seqs[r][f->len] = tokens[r];
    fake_logits(f->seqs[r], f->len + 1, r / f->rows_per_input, f->logits + r * FAKE_VOCAB);
  }
  f->len++;
  f->steps++;
  *logits = f->logits;
  return PRISM_OK;
}

static inline int fake_reorder(void *ctx, const int32_t *src_rows)
{
  fake_decoder *f = ctx;
  for (size_t r = 0; r < f->rows; r++)
    memcpy(f->tmp[r], f->seqs[src_rows[r]], sizeof f->tmp[r]);
  memcpy(f->seqs, f->tmp, sizeof f->seqs);
  return PRISM_OK;
}

static inline prism__generate_decoder fake_decoder_of(fake_decoder *f, size_t batch)
{
  prism__generate_decoder d = { f, fake_start, fake_step, fake_reorder };
  memset(f, 0, sizeof *f);
  f->batch = batch;
  return d;
}

/* A resolved config for the fake model with HF's defaults. */
static inline prism__generate_config fake_config(void)
{
  prism__generate_config c;
  memset(&c, 0, sizeof c);
  c.vocab_size = FAKE_VOCAB;
  c.max_length = 20;
  c.num_beams = 1;
  c.num_return_sequences = 1;
  c.early_stopping = PRISM_EARLY_STOPPING_FALSE;
  c.forced_bos_token_id = -1;
  c.forced_eos_token_id = -1;
  c.top_k = 50;
  c.length_penalty = 1.0;
  c.repetition_penalty = 1.0;
  c.temperature = 1.0;
  c.top_p = 1.0;
  c.eos_token_id = FAKE_EOS;
  c.pad_token_id = FAKE_PAD;
  c.decoder_start_token_id = FAKE_START;
  return c;
}

/* Processed scores for the step after seq[0..len): log-softmax first when `log_probs`. */
static inline void processed_scores(const prism__generate_config *cfg, const int32_t *seq,
                                    size_t len, size_t input, int log_probs, float *scores)
{
  float logits[FAKE_VOCAB], scratch[FAKE_MAX_LEN];
  fake_logits(seq, len, input, logits);
  if (log_probs)
    prism__generate_log_softmax(logits, FAKE_VOCAB, scores);
  else
    memcpy(scores, logits, sizeof logits);
  prism__generate_process(cfg, seq, len, scores, scratch);
}

static inline prism_generate_result *fake_generate(const prism__generate_config *cfg, size_t batch)
{
  fake_decoder *f = malloc(sizeof *f);
  prism__generate_decoder dec;
  prism_generate_result *res = NULL;
  assert_non_null(f);
  dec = fake_decoder_of(f, batch);
  assert_ok(prism__generate_decode(&res, &dec, cfg, batch, NULL, NULL));
  free(f);
  return res;
}

#endif
