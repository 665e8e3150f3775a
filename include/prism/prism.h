/*
 * libprism — embeddable runtime for explainable recommendation.
 *
 * Umbrella header: includes every public module. See docs/api-conventions.md
 * for status codes, ownership, threads, params structs and the ABI promise.
 */
#ifndef PRISM_H
#define PRISM_H

#include "common.h"
#include "tokenizer.h"
#include "bart.h"
#include "ranker.h"

#endif /* PRISM_H */
