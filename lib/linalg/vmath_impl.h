/*
 * Internal to lib/linalg: exp and GELU over arrays, written once over a vector
 * type the including file defines (AVX-512, AVX2, or one float for the
 * portable build) so that every build computes the same bits: the same
 * operations in the same order, FMAs where written, and the ragged tail run
 * through the same vector code. The includer defines
 *
 *   V, VN (lanes), v_set1, v_add, v_sub, v_mul, v_fma (a * b + c, one rounding),
 *   v_min, v_max, v_round (to nearest even), v_abs, v_copysign (magnitude, sign),
 *   v_lt_blend(a, b, x, y) (a < b ? x : y per lane), v_pow2n (2^n of an
 *   integral float in [-126, 127]), v_load_n / v_store_n (n <= VN lanes, the
 *   rest zero on load, untouched on store)
 *
 * and VMATH_EXP / VMATH_GELU, the names of the two functions to define.
 */
#define EXP_LO (-87.33654f) /* exp below this is under FLT_MIN: clamped, never 0 */
#define EXP_HI 88.37626f    /* 2^127 and a bit: n stays <= 127 */
#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f /* Cody-Waite: n * LN2_HI is exact */
#define LN2_LO (-2.12194440e-4f)

/*
 * e^x: x = n ln2 + r, |r| <= ln2 / 2, then 1 + r + r^2 P(r) (Cephes' expf
 * polynomial). NaN and +inf come back as they are (NaN propagates, as in
 * expf); -inf and anything below EXP_LO give the clamped smallest value.
 */
static inline V vexp(V x0)
{
  V n, r, p, x;
  x = v_min(v_max(x0, v_set1(EXP_LO)), v_set1(EXP_HI));
  n = v_round(v_mul(x, v_set1(LOG2E)));
  r = v_fma(n, v_set1(-LN2_HI), x);
  r = v_fma(n, v_set1(-LN2_LO), r);
  p = v_set1(1.9875691500e-4f);
  p = v_fma(p, r, v_set1(1.3981999507e-3f));
  p = v_fma(p, r, v_set1(8.3334519073e-3f));
  p = v_fma(p, r, v_set1(4.1665795894e-2f));
  p = v_fma(p, r, v_set1(1.6666665459e-1f));
  p = v_fma(p, r, v_set1(5.0000001201e-1f));
  p = v_fma(p, v_mul(r, r), r);
  p = v_mul(v_add(p, v_set1(1.0f)), v_pow2n(n));
  return v_lt_blend(x0, v_set1(__builtin_inff()), p, x0);
}

/*
 * erf(t): t P(t^2) below 0.921875 (relative error 4e-8), else 1 - exp(Q(|t|))
 * with Q a fit of log(erfc) up to 3.925, where erf rounds to 1 (erfc within
 * 3e-9). Coefficients fitted for libprism (tests/linalg checks them against
 * the C library's erff).
 */
#define ERF_SPLIT 0.921875f
#define ERF_TOP 3.925f

static inline V verf(V t)
{
  V a = v_abs(t), u = v_mul(a, a), small, big, q, e;
  small = v_set1(-6.006232801387314e-4f);
  small = v_fma(small, u, v_set1(4.994414851208852e-3f));
  small = v_fma(small, u, v_set1(-2.6765581906598106e-2f));
  small = v_fma(small, u, v_set1(1.1281697499998601e-1f));
  small = v_fma(small, u, v_set1(-3.7612463333354723e-1f));
  small = v_fma(small, u, v_set1(1.12837913192568f));
  small = v_mul(small, a);
  a = v_min(a, v_set1(ERF_TOP));
  q = v_set1(1.6532087308191673e-6f);
  q = v_fma(q, a, v_set1(-4.6328745719932474e-5f));
  q = v_fma(q, a, v_set1(5.986930799521422e-4f));
  q = v_fma(q, a, v_set1(-4.766594809017754e-3f));
  q = v_fma(q, a, v_set1(2.6435819101794315e-2f));
  q = v_fma(q, a, v_set1(-1.1009689381196701e-1f));
  q = v_fma(q, a, v_set1(-6.318176047476144e-1f));
  q = v_fma(q, a, v_set1(-1.1302330037410615f));
  q = v_fma(q, a, v_set1(3.1874463590941815e-4f));
  big = v_sub(v_set1(1.0f), vexp(q));
  e = v_lt_blend(a, v_set1(ERF_SPLIT), small, big);
  return v_copysign(e, t);
}

/* GELU(x) = (x / 2) (1 + erf(x / sqrt 2)). */
static inline V vgelu(V x)
{
  V e = verf(v_mul(x, v_set1(0.70710678118654752f)));
  return v_mul(v_mul(v_set1(0.5f), x), v_add(v_set1(1.0f), e));
}

void VMATH_EXP(float *y, const float *x, size_t n)
{
  size_t i = 0;
  for (; i + VN <= n; i += VN)
    v_store_n(y + i, vexp(v_load_n(x + i, VN)), VN);
  if (i < n)
    v_store_n(y + i, vexp(v_load_n(x + i, n - i)), n - i);
}

void VMATH_GELU(float *x, size_t n)
{
  size_t i = 0;
  for (; i + VN <= n; i += VN)
    v_store_n(x + i, vgelu(v_load_n(x + i, VN)), VN);
  if (i < n)
    v_store_n(x + i, vgelu(v_load_n(x + i, n - i)), n - i);
}
