/* Small numeric kernels of the ranker: random draws, Cholesky, top-k selection. */
#include <math.h>

#include "ranker_internal.h"

uint64_t prism__rng_below(prism__rng *g, uint64_t n)
{
  /* Lemire's multiply-shift; the bias is below 2^-32 for the ranges used here. */
  return (uint64_t)(((unsigned __int128)prism__rng_next(g) * n) >> 64);
}

double prism__rng_normal(prism__rng *g)
{
  double u = 1.0 - prism__rng_uniform(g), v = prism__rng_uniform(g);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

int prism__linalg_cholesky(float *A, int n)
{
  for (int j = 0; j < n; j++) {
    double d = A[j * n + j];
    for (int k = 0; k < j; k++)
      d -= (double)A[j * n + k] * A[j * n + k];
    if (!(d > 0.0))
      return -1;
    float l = (float)sqrt(d);
    A[j * n + j] = l;
    for (int i = j + 1; i < n; i++) {
      double s = A[i * n + j];
      for (int k = 0; k < j; k++)
        s -= (double)A[i * n + k] * A[j * n + k];
      A[i * n + j] = (float)(s / l);
    }
  }
  return 0;
}

void prism__linalg_cholesky_solve(const float *L, int n, float *b)
{
  for (int i = 0; i < n; i++) {
    double s = b[i];
    for (int k = 0; k < i; k++)
      s -= (double)L[i * n + k] * b[k];
    b[i] = (float)(s / L[i * n + i]);
  }
  for (int i = n - 1; i >= 0; i--) {
    double s = b[i];
    for (int k = i + 1; k < n; k++)
      s -= (double)L[k * n + i] * b[k];
    b[i] = (float)(s / L[i * n + i]);
  }
}

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
