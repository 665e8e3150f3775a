/*
 * Logits processors and sampling warpers, one row at a time, each written
 * after the transformers 4.36 class of the same name. Scores stay float32
 * where torch keeps them in float32, so ties and -inf land where HF's do.
 */
#include <math.h>
#include <stdlib.h>

#include "generate_internal.h"
#include "linalg/linalg.h"

/*
 * RepetitionPenaltyLogitsProcessor: gather every token of the sequence, then
 * scatter the penalised values; a repeated token gathers the same original
 * value, so it is penalised once, as in torch.
 */
static void repetition_penalty(float penalty, const int32_t *seq, size_t len, float *scores,
                               float *gathered)
{
  for (size_t i = 0; i < len; i++)
    gathered[i] = scores[seq[i]];
  for (size_t i = 0; i < len; i++) {
    float s = gathered[i];
    scores[seq[i]] = s < 0 ? s * penalty : s / penalty;
  }
}

/*
 * NoRepeatNGramLogitsProcessor: ban every token that would complete an n-gram
 * already present in the sequence (start token included).
 */
static void no_repeat_ngram(size_t n, const int32_t *seq, size_t len, float *scores)
{
  const int32_t *suffix;
  if (len + 1 < n)
    return;
  suffix = seq + len + 1 - n; /* the n - 1 newest tokens */
  for (size_t i = 0; i + n <= len; i++) {
    size_t j = 0;
    while (j + 1 < n && seq[i + j] == suffix[j])
      j++;
    if (j + 1 == n)
      scores[seq[i + n - 1]] = -INFINITY;
  }
}

/* ForcedBOS/ForcedEOSTokenLogitsProcessor: every other token -inf, the forced one 0. */
static void force_token(float *scores, size_t n, int32_t token)
{
  for (size_t i = 0; i < n; i++)
    scores[i] = -INFINITY;
  scores[token] = 0.0f;
}

void prism__generate_process(const prism__generate_config *cfg, const int32_t *seq, size_t len,
                             float *scores, float *scratch)
{
  size_t vocab = (size_t)cfg->vocab_size;
  int32_t eos = cfg->eos_token_id;

  if (cfg->repetition_penalty != 1.0)
    repetition_penalty((float)cfg->repetition_penalty, seq, len, scores, scratch);
  if (cfg->no_repeat_ngram_size > 0)
    no_repeat_ngram((size_t)cfg->no_repeat_ngram_size, seq, len, scores);
  if (eos >= 0 && cfg->min_length > 0 && len < (size_t)cfg->min_length)
    scores[eos] = -INFINITY;
  /* MinNewTokensLength: the decoder prompt is the start token alone. */
  if (eos >= 0 && cfg->min_new_tokens > 0 && len - 1 < (size_t)cfg->min_new_tokens)
    scores[eos] = -INFINITY;
  if (cfg->forced_bos_token_id >= 0 && len == 1)
    force_token(scores, vocab, cfg->forced_bos_token_id);
  if (cfg->forced_eos_token_id >= 0 && cfg->max_length > 0 && len == (size_t)cfg->max_length - 1)
    force_token(scores, vocab, cfg->forced_eos_token_id);
}

/* Min-heap sift-down over the k best scores seen so far. */
static void heap_sift(prism__generate_pair *heap, size_t k, size_t i)
{
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    float t;
    if (l < k && heap[l].score < heap[m].score)
      m = l;
    if (r < k && heap[r].score < heap[m].score)
      m = r;
    if (m == i)
      return;
    t = heap[i].score;
    heap[i].score = heap[m].score;
    heap[m].score = t;
    i = m;
  }
}

/*
 * TopKLogitsWarper: remove scores below the k-th largest; ties with it stay,
 * as `scores < topk(scores, k)[0][..., -1]` keeps them.
 */
static void top_k(size_t k, float *scores, size_t n, prism__generate_pair *heap)
{
  if (k >= n)
    return;
  for (size_t i = 0; i < k; i++)
    heap[i].score = scores[i];
  for (size_t i = k / 2; i-- > 0;)
    heap_sift(heap, k, i);
  for (size_t i = k; i < n; i++)
    if (scores[i] > heap[0].score) {
      heap[0].score = scores[i];
      heap_sift(heap, k, 0);
    }
  for (size_t i = 0; i < n; i++)
    if (scores[i] < heap[0].score)
      scores[i] = -INFINITY;
}

static int pair_ascending(const void *a, const void *b)
{
  const prism__generate_pair *x = a, *y = b;
  if (x->score != y->score)
    return x->score < y->score ? -1 : 1;
  return (x->id > y->id) - (x->id < y->id);
}

/*
 * TopPLogitsWarper: sort ascending, remove the tokens whose cumulative
 * probability stays <= 1 - top_p, always keeping the best one. Tokens already
 * at -inf carry no mass, so only the finite ones need sorting.
 */
static void top_p(double p, size_t min_keep, float *scores, size_t n, prism__generate_pair *pairs)
{
  size_t m = 0;
  double max, total = 0, cum = 0;
  for (size_t i = 0; i < n; i++)
    if (scores[i] > -INFINITY) {
      pairs[m].score = scores[i];
      pairs[m].id = (int32_t)i;
      m++;
    }
  if (m <= 1)
    return;
  qsort(pairs, m, sizeof *pairs, pair_ascending);
  max = pairs[m - 1].score;
  for (size_t i = 0; i < m; i++)
    total += exp((double)pairs[i].score - max);
  for (size_t i = 0; i + min_keep < m; i++) {
    cum += exp((double)pairs[i].score - max) / total;
    if (cum > 1.0 - p)
      break;
    scores[pairs[i].id] = -INFINITY;
  }
}

void prism__generate_warp(const prism__generate_config *cfg, float *scores,
                          prism__generate_pair *pairs)
{
  size_t n = (size_t)cfg->vocab_size;
  /* HF keeps two tokens per beam, so a beam can always continue past an EOS. */
  size_t min_keep = cfg->num_beams > 1 ? 2 : 1;
  if (cfg->temperature != 1.0) {
    float t = (float)cfg->temperature;
    for (size_t i = 0; i < n; i++)
      scores[i] /= t;
  }
  if (cfg->top_k > 0)
    top_k((size_t)cfg->top_k > min_keep ? (size_t)cfg->top_k : min_keep, scores, n, pairs);
  if (cfg->top_p < 1.0)
    top_p(cfg->top_p, min_keep, scores, n, pairs);
}

int32_t prism__generate_sample(const float *scores, size_t n, prism__rng *rng)
{
  size_t best = (size_t)prism__generate_argmax(scores, n);
  double max = scores[best], total = 0, target, acc = 0;
  for (size_t i = 0; i < n; i++)
    if (scores[i] > -INFINITY)
      total += exp((double)scores[i] - max);
  target = prism__rng_uniform(rng) * total;
  for (size_t i = 0; i < n; i++) {
    if (!(scores[i] > -INFINITY))
      continue;
    acc += exp((double)scores[i] - max);
    if (acc > target)
      return (int32_t)i;
  }
  return (int32_t)best; /* rounding left target at the very top of the mass */
}

int32_t prism__generate_argmax(const float *scores, size_t n)
{
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (scores[i] > scores[best])
      best = i;
  return (int32_t)best;
}

/* The exponentials in one vector pass (into scores, then overwritten), summed in double. */
void prism__generate_log_softmax(const float *logits, size_t n, float *scores)
{
  float max = logits[prism__generate_argmax(logits, n)];
  double sum = 0;
  float lse;
  for (size_t i = 0; i < n; i++)
    scores[i] = logits[i] - max;
  prism__linalg_exp(scores, scores, n);
  for (size_t i = 0; i < n; i++)
    sum += scores[i];
  lse = (float)log(sum);
  for (size_t i = 0; i < n; i++)
    scores[i] = (logits[i] - max) - lse;
}
