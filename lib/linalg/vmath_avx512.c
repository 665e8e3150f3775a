/* exp and GELU over arrays, 16 lanes (compiled with the AVX-512 flags): see vmath_impl.h. */
#include <immintrin.h>

#include "linalg_internal.h"

typedef __m512 V;
#define VN 16
#define v_set1 _mm512_set1_ps
#define v_add _mm512_add_ps
#define v_sub _mm512_sub_ps
#define v_mul _mm512_mul_ps
#define v_fma _mm512_fmadd_ps
#define v_min _mm512_min_ps
#define v_max _mm512_max_ps
#define v_round(x) _mm512_roundscale_ps((x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define v_abs(x) \
  _mm512_castsi512_ps(_mm512_andnot_si512(_mm512_set1_epi32(INT32_MIN), _mm512_castps_si512(x)))
#define v_copysign(m, s) \
  _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(m), _mm512_castps_si512(s), \
                                                _mm512_set1_epi32(INT32_MIN), 0xd8))
#define v_lt_blend(a, b, x, y) \
  _mm512_mask_blend_ps(_mm512_cmp_ps_mask((a), (b), _CMP_LT_OQ), (y), (x))
#define v_pow2n(n) \
  _mm512_castsi512_ps( \
      _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23))

static inline __mmask16 tail(size_t n)
{
  return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
}
#define v_load_n(p, n) _mm512_maskz_loadu_ps(tail(n), (p))
#define v_store_n(p, v, n) _mm512_mask_storeu_ps((p), tail(n), (v))

#define VMATH_EXP prism__linalg_exp_avx512
#define VMATH_GELU prism__linalg_gelu_avx512
#include "vmath_impl.h"
