#include "synth.h"

#include <stdlib.h>
#include <string.h>

#include "ranker/ranker_internal.h"

static int32_t draw_item(prism__rng *g, int32_t items, int clusters, int cluster, double noise)
{
  double u = prism__rng_uniform(g);
  if (prism__rng_uniform(g) < noise)
    return (int32_t)(items * u * u);
  int32_t size = (items - cluster + clusters - 1) / clusters;
  return (int32_t)(size * u * u) * clusters + cluster;
}

static int seen_before(const int32_t *list, int n, int32_t item)
{
  for (int i = 0; i < n; i++)
    if (list[i] == item)
      return 1;
  return 0;
}

int synth_generate(synth_data *d, int32_t users, int32_t items, int clusters, int per_user,
                   double noise, uint64_t seed)
{
  prism__rng g;
  int test_per_user = per_user / 5, train_per_user = per_user - test_per_user;
  memset(d, 0, sizeof *d);
  if (per_user < 5 || per_user * 4 > items / clusters)
    return -1;
  d->users = users;
  d->items = items;
  d->train_user = malloc((size_t)users * train_per_user * sizeof(int32_t));
  d->train_item = malloc((size_t)users * train_per_user * sizeof(int32_t));
  d->train_value = malloc((size_t)users * train_per_user * sizeof(float));
  d->test_user = malloc((size_t)users * test_per_user * sizeof(int32_t));
  d->test_item = malloc((size_t)users * test_per_user * sizeof(int32_t));
  int32_t *list = malloc((size_t)per_user * sizeof *list);
  if (!d->train_user || !d->train_item || !d->train_value || !d->test_user || !d->test_item ||
      !list) {
    free(list);
    synth_free(d);
    return -1;
  }
  prism__rng_seed(&g, seed, 0);
  for (int32_t u = 0; u < users; u++) {
    int cluster = (int)(u % clusters);
    for (int n = 0; n < per_user;) {
      int32_t item = draw_item(&g, items, clusters, cluster, noise);
      if (seen_before(list, n, item))
        continue;
      list[n++] = item;
    }
    for (int n = 0; n < per_user; n++) {
      if (n < train_per_user) {
        d->train_user[d->n_train] = u;
        d->train_item[d->n_train] = list[n];
        d->train_value[d->n_train++] =
            (list[n] % clusters == cluster) ? 4.0f + (float)(n & 1) : 2.0f;
      } else {
        d->test_user[d->n_test] = u;
        d->test_item[d->n_test++] = list[n];
      }
    }
  }
  free(list);
  return 0;
}

void synth_free(synth_data *d)
{
  free(d->train_user);
  free(d->train_item);
  free(d->train_value);
  free(d->test_user);
  free(d->test_item);
  memset(d, 0, sizeof *d);
}

static const size_t *sort_counts;

static int by_count(const void *a, const void *b)
{
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  if (sort_counts[x] != sort_counts[y])
    return sort_counts[x] < sort_counts[y] ? 1 : -1;
  return (x > y) - (x < y);
}

int32_t *synth_popularity(const synth_data *d, int groups, int group)
{
  size_t *count = calloc((size_t)d->items, sizeof *count);
  int32_t *order = malloc((size_t)d->items * sizeof *order);
  if (!count || !order) {
    free(count);
    free(order);
    return NULL;
  }
  for (size_t e = 0; e < d->n_train; e++)
    if (d->train_user[e] % groups == group)
      count[d->train_item[e]]++;
  for (int32_t i = 0; i < d->items; i++)
    order[i] = i;
  sort_counts = count;
  qsort(order, (size_t)d->items, sizeof *order, by_count);
  free(count);
  return order;
}
