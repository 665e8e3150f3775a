/* Top-k selection of the ranker. */
#include <math.h>

#include "ranker_internal.h"

/* a ranks below b: lower score, or equal score and higher index. */
static int worse(float sa, int32_t ia, float sb, int32_t ib)
{
  return sa < sb || (sa == sb && ia > ib);
}

static void swap_at(prism__ranker_topk *h, size_t a, size_t b)
{
  int32_t ti = h->items[a];
  float ts = h->scores[a];
  h->items[a] = h->items[b];
  h->scores[a] = h->scores[b];
  h->items[b] = ti;
  h->scores[b] = ts;
}

static void sift_down(prism__ranker_topk *h, size_t i, size_t n)
{
  for (;;) {
    size_t l = 2 * i + 1, m = i;
    if (l < n && worse(h->scores[l], h->items[l], h->scores[m], h->items[m]))
      m = l;
    if (l + 1 < n && worse(h->scores[l + 1], h->items[l + 1], h->scores[m], h->items[m]))
      m = l + 1;
    if (m == i)
      return;
    swap_at(h, i, m);
    i = m;
  }
}

/* A min-heap of the k best so far: the root is the worst kept item. */
void prism__ranker_topk_push(prism__ranker_topk *h, int32_t item, float score)
{
  if (h->size == h->k) {
    if (!worse(h->scores[0], h->items[0], score, item))
      return;
    h->items[0] = item;
    h->scores[0] = score;
    sift_down(h, 0, h->size);
    return;
  }
  size_t i = h->size++;
  h->items[i] = item;
  h->scores[i] = score;
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!worse(h->scores[i], h->items[i], h->scores[p], h->items[p]))
      break;
    swap_at(h, i, p);
    i = p;
  }
}

void prism__ranker_topk_finish(prism__ranker_topk *h)
{
  /* Heap sort: repeatedly move the worst to the end, leaving best first. */
  for (size_t n = h->size; n > 1; n--) {
    swap_at(h, 0, n - 1);
    sift_down(h, 0, n - 1);
  }
}
