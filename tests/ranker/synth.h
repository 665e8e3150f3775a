/*
 * Planted-structure interaction data for the ranker's tests and benchmark.
 * Users and items fall into `clusters` taste groups; a user draws distinct
 * items from their own group (skewed towards the group's popular items) and,
 * with probability `noise`, from the whole catalogue (skewed towards globally
 * popular items). The last fifth of each user's draws is held out as test.
 */
#ifndef PRISM_TESTS_SYNTH_H
#define PRISM_TESTS_SYNTH_H

#include <stddef.h>
#include <stdint.h>

typedef struct synth_data {
  int32_t users, items;
  size_t n_train, n_test;
  int32_t *train_user, *train_item;
  float *train_value; /* ratings 1..5: higher for in-group items */
  int32_t *test_user, *test_item;
} synth_data;

/* 0 on success, -1 on allocation failure or impossible sizes. */
int synth_generate(synth_data *d, int32_t users, int32_t items, int clusters, int per_user,
                   double noise, uint64_t seed);
void synth_free(synth_data *d);

/*
 * Items ranked by training count among the users u with u % groups == group,
 * most popular first (groups 1: global popularity); caller frees.
 */
int32_t *synth_popularity(const synth_data *d, int groups, int group);

#endif
