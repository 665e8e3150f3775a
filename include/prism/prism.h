/*
 * libprism — embeddable runtime for explainable recommendation.
 *
 * Umbrella header: includes every public module. See docs/api-conventions.md
 * for status codes, ownership, threads, params structs and the ABI promise.
 */
#ifndef PRISM_H
#define PRISM_H

#include "common.h"
#include "bart.h"
#include "explain.h"
#include "generate.h"
#include "metrics.h"
#include "pipeline.h"
#include "ranker.h"
#include "tokenizer.h"
#include "tokenizer_trainer.h"
#include "teacher.h"
#include "train.h"

#endif /* PRISM_H */
