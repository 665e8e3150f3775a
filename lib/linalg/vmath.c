/*
 * exp and GELU over arrays for inference (softmax, log-softmax, the FFN):
 * one formula (vmath_impl.h) compiled for AVX-512, AVX2 and here for plain C,
 * giving the same bits on every path, picked at run time as the weight
 * products are.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common/cpu.h"
#include "linalg_internal.h"

typedef float V;
#define VN 1
#define v_set1(c) (c)
#define v_add(a, b) ((a) + (b))
#define v_sub(a, b) ((a) - (b))
#define v_mul(a, b) ((a) * (b))
#define v_fma fmaf
#define v_min(a, b) ((a) < (b) ? (a) : (b)) /* the second operand when either is NaN, as minps */
#define v_max(a, b) ((a) > (b) ? (a) : (b))
#define v_round rintf
#define v_abs fabsf
#define v_copysign copysignf
#define v_lt_blend(a, b, x, y) ((a) < (b) ? (x) : (y))

static inline float v_pow2n(float n)
{
  uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}
#define v_load_n(p, n) (*(p))
#define v_store_n(p, v, n) (*(p) = (v))

#define VMATH_EXP exp_portable
#define VMATH_GELU gelu_portable
static void exp_portable(float *y, const float *x, size_t n);
static void gelu_portable(float *x, size_t n);
#include "vmath_impl.h"

void prism__linalg_exp(float *y, const float *x, size_t n)
{
#ifdef PRISM__HAVE_SKINNY_X86
  unsigned f = prism__linalg_features();
  if (f & PRISM__CPU_AVX512) {
    prism__linalg_exp_avx512(y, x, n);
    return;
  }
  if (f & PRISM__CPU_AVX2) {
    prism__linalg_exp_avx2(y, x, n);
    return;
  }
#endif
  exp_portable(y, x, n);
}

void prism__linalg_gelu(float *x, size_t n)
{
#ifdef PRISM__HAVE_SKINNY_X86
  unsigned f = prism__linalg_features();
  if (f & PRISM__CPU_AVX512) {
    prism__linalg_gelu_avx512(x, n);
    return;
  }
  if (f & PRISM__CPU_AVX2) {
    prism__linalg_gelu_avx2(x, n);
    return;
  }
#endif
  gelu_portable(x, n);
}
