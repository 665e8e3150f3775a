/* exp and GELU over arrays, 8 lanes (compiled with the AVX2 + FMA flags): see vmath_impl.h. */
#include <immintrin.h>

#include "linalg_internal.h"

typedef __m256 V;
#define VN 8
#define v_set1 _mm256_set1_ps
#define v_add _mm256_add_ps
#define v_sub _mm256_sub_ps
#define v_mul _mm256_mul_ps
#define v_fma _mm256_fmadd_ps
#define v_min _mm256_min_ps
#define v_max _mm256_max_ps
#define v_round(x) _mm256_round_ps((x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define v_abs(x) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), (x))
#define v_copysign(m, s) \
  _mm256_or_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), (m)), \
               _mm256_and_ps(_mm256_set1_ps(-0.0f), (s)))
#define v_lt_blend(a, b, x, y) _mm256_blendv_ps((y), (x), _mm256_cmp_ps((a), (b), _CMP_LT_OQ))
#define v_pow2n(n) \
  _mm256_castsi256_ps( \
      _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23))

static inline __m256i tail(size_t n)
{
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 8 ? n : 8)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#define v_load_n(p, n) _mm256_maskload_ps((p), tail(n))
#define v_store_n(p, v, n) _mm256_maskstore_ps((p), tail(n), (v))

#define VMATH_EXP prism__linalg_exp_avx2
#define VMATH_GELU prism__linalg_gelu_avx2
#include "vmath_impl.h"
