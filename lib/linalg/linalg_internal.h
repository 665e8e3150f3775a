/*
 * Internal to lib/linalg: the per-ISA skinny GEMM kernels. Each one computes
 * output columns [n0, n1) of one prism__linalg_skinny_args; skinny.c dispatches and
 * threads. The ISA files are compiled with their own -m flags.
 */
#ifndef PRISM__LINALG_INTERNAL_H
#define PRISM__LINALG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "linalg.h"

typedef struct {
  size_t M, K;
  const float *X;
  size_t ldx;
  const void *W; /* float or uint16_t (bfloat16) rows of ldw elements */
  size_t ldw;
  const float *bias; /* or NULL */
  float *Y;
  size_t ldy;
  int accumulate;
} prism__linalg_skinny_args;

typedef void (*prism__linalg_skinny_kernel)(const prism__linalg_skinny_args *a, size_t n0,
                                            size_t n1);

/* Shared epilogue so every kernel rounds the same way after its dot product. */
static inline void prism__linalg_skinny_store(const prism__linalg_skinny_args *a, size_t m,
                                              size_t n, float dot)
{
  float *y = a->Y + m * a->ldy + n;
  if (a->bias)
    dot += a->bias[n];
  *y = a->accumulate ? *y + dot : dot;
}

void prism__linalg_skinny_f32_portable(const prism__linalg_skinny_args *a, size_t n0, size_t n1);
void prism__linalg_skinny_bf16_portable(const prism__linalg_skinny_args *a, size_t n0, size_t n1);
void prism__linalg_skinny_f32_avx2(const prism__linalg_skinny_args *a, size_t n0, size_t n1);
void prism__linalg_skinny_bf16_avx2(const prism__linalg_skinny_args *a, size_t n0, size_t n1);
void prism__linalg_skinny_f32_avx512(const prism__linalg_skinny_args *a, size_t n0, size_t n1);
void prism__linalg_skinny_bf16_avx512(const prism__linalg_skinny_args *a, size_t n0, size_t n1);
void prism__linalg_skinny_bf16_avx512bf16(const prism__linalg_skinny_args *a, size_t n0, size_t n1);

#endif
