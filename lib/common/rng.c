#include <math.h>
#include "rng.h"

static uint64_t splitmix64(uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

void prism__rng_seed(prism__rng *rng, uint64_t seed, uint64_t stream)
{
  /* Mixing the stream through splitmix first keeps streams of nearby seeds apart. */
  uint64_t x = seed;
  uint64_t y = stream;
  x ^= splitmix64(&y);
  for (int i = 0; i < 4; i++)
    rng->s[i] = splitmix64(&x);
}

uint64_t prism__rng_next(prism__rng *rng)
{
  uint64_t *s = rng->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double prism__rng_uniform(prism__rng *rng)
{
  return (double)(prism__rng_next(rng) >> 11) * 0x1.0p-53;
}

uint64_t prism__rng_below(prism__rng *g, uint64_t n)
{
#ifdef __SIZEOF_INT128__
  /* Lemire's multiply-shift; the bias is below 2^-32 for the ranges used here. */
  return (uint64_t)(((unsigned __int128)prism__rng_next(g) * n) >> 64);
#else
  /* The high 64 bits of the 128-bit product, from 32-bit halves. */
  uint64_t x = prism__rng_next(g), xl = x & 0xffffffffu, xh = x >> 32;
  uint64_t nl = n & 0xffffffffu, nh = n >> 32;
  uint64_t mid = xh * nl + ((xl * nl) >> 32);
  uint64_t mid2 = xl * nh + (mid & 0xffffffffu);
  return xh * nh + (mid >> 32) + (mid2 >> 32);
#endif
}

double prism__rng_normal(prism__rng *g)
{
  double u = 1.0 - prism__rng_uniform(g), v = prism__rng_uniform(g);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}
