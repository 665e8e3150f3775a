/*
 * Internal: seeded random streams (sampling, ranker initialisation and SGD). xoshiro256** seeded through
 * splitmix64 from (seed, stream): each output row draws from its own stream,
 * so a row's tokens depend only on the seed and the row index, never on the
 * thread count or on the other rows of the batch.
 */
#ifndef PRISM__COMMON_RNG_H
#define PRISM__COMMON_RNG_H

#include <stdint.h>

typedef struct prism__rng {
  uint64_t s[4];
} prism__rng;

void prism__rng_seed(prism__rng *rng, uint64_t seed, uint64_t stream);
uint64_t prism__rng_next(prism__rng *rng);
/* Uniform in [0, 1) with 53 random bits. */
double prism__rng_uniform(prism__rng *rng);
/* Uniform integer in [0, n) (Lemire's multiply-shift; bias below 2^-32 for the ranges used). */
uint64_t prism__rng_below(prism__rng *rng, uint64_t n);
/* Standard normal (Box-Muller, one draw of two uniforms per call). */
double prism__rng_normal(prism__rng *rng);

#endif
