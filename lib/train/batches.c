/*
 * Micro-batches: the seeded order of an epoch (optionally grouped by length,
 * as HF's LengthGroupedSampler) and padding pairs into a batch.
 */
#include <string.h>

#include "common/rng.h"
#include "train_internal.h"

/* Pairs per mega-batch, in micro-batches (HF LengthGroupedSampler's mega_batch_mult). */
#define MEGA_BATCH 50

/* The random stream of epoch e's order; dropout streams are micro-batch numbers, far below. */
#define ORDER_STREAM(e) (0x6f72646572000000ull + (e))

static size_t pair_len(const prism_pairs *s, int32_t i)
{
  return (size_t)s->items[i].src + s->items[i].tgt;
}

/* Stable insertion sort of a (short) mega-batch by length, longest first. */
static void sort_by_length(int32_t *idx, size_t n, const prism_pairs *s)
{
  for (size_t i = 1; i < n; i++) {
    int32_t x = idx[i];
    size_t j = i;
    while (j > 0 && pair_len(s, idx[j - 1]) < pair_len(s, x)) {
      idx[j] = idx[j - 1];
      j--;
    }
    idx[j] = x;
  }
}

void prism__train_epoch_order(int32_t *order, const prism_pairs *s, size_t batch_size,
                              int group_by_length, uint64_t seed, uint64_t epoch)
{
  prism__rng rng;
  size_t n = s->n, mega = MEGA_BATCH * batch_size;
  for (size_t i = 0; i < n; i++)
    order[i] = (int32_t)i;
  prism__rng_seed(&rng, seed, ORDER_STREAM(epoch));
  for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
    size_t j = (size_t)prism__rng_below(&rng, i);
    int32_t t = order[i - 1];
    order[i - 1] = order[j];
    order[j] = t;
  }
  if (group_by_length)
    for (size_t start = 0; start < n; start += mega)
      sort_by_length(order + start, n - start < mega ? n - start : mega, s);
}

void prism__train_fill(prism__bart_batch *out, prism__train_batch_buf *buf, const prism_pairs *s,
                       const int32_t *idx, size_t rows, int32_t pad_id)
{
  size_t S = 1, T = 1;
  for (size_t r = 0; r < rows; r++) {
    const prism__train_item *it = &s->items[idx[r]];
    S = it->src > S ? it->src : S;
    T = it->tgt > T ? it->tgt : T;
  }
  for (size_t r = 0; r < rows; r++) {
    const prism__train_item *it = &s->items[idx[r]];
    const int32_t *src = prism__train_src(s, it), *tgt = prism__train_tgt(s, it);
    for (size_t j = 0; j < S; j++) {
      buf->ids[r * S + j] = j < it->src ? src[j] : pad_id;
      buf->mask[r * S + j] = j < it->src;
    }
    for (size_t j = 0; j < T; j++)
      buf->labels[r * T + j] = j < it->tgt ? tgt[j] : PRISM__TRAIN_IGNORE;
  }
  out->input_ids = buf->ids;
  out->attention_mask = buf->mask;
  out->labels = buf->labels;
  out->batch = rows;
  out->src_len = S;
  out->tgt_len = T;
}

void prism__train_given(prism__bart_batch *out, const prism_pairs *s, size_t k)
{
  const prism__train_item *it = &s->items[k];
  out->input_ids = prism__train_src(s, it);
  out->attention_mask = prism__train_mask(s, it);
  out->labels = prism__train_tgt(s, it);
  out->batch = it->rows;
  out->src_len = it->src;
  out->tgt_len = it->tgt;
}
