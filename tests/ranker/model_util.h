/* Test helpers: hand-built rankers with chosen factors and histories. */
#ifndef PRISM_TESTS_MODEL_UTIL_H
#define PRISM_TESTS_MODEL_UTIL_H

#include <string.h>

#include "ranker/ranker_internal.h"

/*
 * A ranker with the given factors (row-major), biases (may be NULL) and seen
 * pairs (n_seen COO pairs, values 1), as training would leave it.
 */
static inline prism_ranker *make_model(int algorithm, int32_t U, int32_t I, int F, const float *uf,
                                       const float *vf, const float *ubias, const float *ibias,
                                       size_t n_seen, const int32_t *su, const int32_t *si)
{
  prism_ranker_params p;
  prism__ranker_hyper hp;
  prism_ranker *r = NULL;
  prism_ranker_params_init(&p, sizeof p);
  p.algorithm = algorithm;
  p.factors = F;
  p.rating_min = 1.0f;
  p.rating_max = 5.0f;
  if (prism__ranker_resolve_hyper(&hp, &p) != PRISM_OK ||
      prism__ranker_alloc(&r, &hp, U, I) != PRISM_OK)
    return NULL;
  memcpy(r->user_factors, uf, (size_t)U * F * sizeof *uf);
  memcpy(r->item_factors, vf, (size_t)I * F * sizeof *vf);
  if (r->user_bias && ubias)
    memcpy(r->user_bias, ubias, (size_t)U * sizeof *ubias);
  if (r->item_bias && ibias)
    memcpy(r->item_bias, ibias, (size_t)I * sizeof *ibias);
  if (prism__ranker_csr_from_coo(&r->seen, U, I, n_seen, su, si, NULL, "seen pair") != PRISM_OK ||
      prism__ranker_finish(r, "test") != PRISM_OK) {
    prism_ranker_free(r);
    return NULL;
  }
  return r;
}

#endif
