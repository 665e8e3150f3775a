/* Helpers shared by the fuzz targets (fuzz_common.c). */
#ifndef PRISM_FUZZ_COMMON_H
#define PRISM_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "prism/prism.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Two inputs in one: the bytes before the first NUL and those after it (b empty without one). */
void fuzz_split(const uint8_t *data, size_t size, size_t *a_len, const uint8_t **b, size_t *b_len);

/* A fixture file read whole (PRISM_FIXTURES/rel) into a malloc'd buffer; traps if missing. */
const uint8_t *fuzz_fixture(const char *rel, size_t *size);

/* `data` written to this process's scratch file, for loaders that take a path. */
const char *fuzz_scratch_file(const uint8_t *data, size_t size, const char *suffix);

/* The real BART tokenizer (fixtures/bart-vocab), loaded once. */
const prism_tokenizer *fuzz_bart_tokenizer(void);

/* Use a loaded tokenizer the way a host would: encode a sample, decode every id. */
void fuzz_exercise_tokenizer(const prism_tokenizer *tok);

#endif
