/*
 * USR counts distinct hypotheses without keeping their texts: each token
 * sequence becomes a BLAKE2b-128 digest (RFC 7693, unkeyed) kept in an open
 * addressing set. A cryptographic 128-bit digest makes a false "same" both
 * astronomically unlikely by chance (about 2^-128 per pair of distinct
 * texts) and infeasible to force (about 2^64 work for a collision).
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "metrics_internal.h"

static uint64_t load32(const unsigned char *p)
{
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* Multiply-xorshift over 8-byte words; a short tail is read with overlapping loads. */
uint64_t prism__metrics_hash(const void *data, size_t len)
{
  const unsigned char *p = data;
  uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)len * 0xC2B2AE3D27D4EB4Full), w;
  for (; len >= 8; p += 8, len -= 8) {
    memcpy(&w, p, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  }
  if (len >= 4)
    w = load32(p) | load32(p + len - 4) << 32;
  else if (len)
    w = (uint64_t)p[0] | (uint64_t)p[len / 2] << 8 | (uint64_t)p[len - 1] << 16;
  else
    w = 0;
  h = (h ^ w) * 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return h;
}

/* ---- BLAKE2b ---- */

static const uint64_t blake2b_iv[8] = {
  0x6A09E667F3BCC908ull, 0xBB67AE8584CAA73Bull, 0x3C6EF372FE94F82Bull, 0xA54FF53A5F1D36F1ull,
  0x510E527FADE682D1ull, 0x9B05688C2B3E6C1Full, 0x1F83D9ABFB41BD6Bull, 0x5BE0CD19137E2179ull,
};

static const uint8_t blake2b_sigma[10][16] = {
  { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
  { 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
  { 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
  { 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
  { 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
  { 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
  { 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
  { 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
  { 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
  { 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

static uint64_t rotr64(uint64_t x, unsigned n)
{
  return x >> n | x << (64 - n);
}

static uint64_t load64(const uint8_t *p)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

#define G(a, b, c, d, x, y) \
  do { \
    v[a] = v[a] + v[b] + (x); \
    v[d] = rotr64(v[d] ^ v[a], 32); \
    v[c] = v[c] + v[d]; \
    v[b] = rotr64(v[b] ^ v[c], 24); \
    v[a] = v[a] + v[b] + (y); \
    v[d] = rotr64(v[d] ^ v[a], 16); \
    v[c] = v[c] + v[d]; \
    v[b] = rotr64(v[b] ^ v[c], 63); \
  } while (0)

static void compress(uint64_t h[8], const uint8_t block[128], uint64_t bytes, int last)
{
  uint64_t v[16], m[16];
  for (int i = 0; i < 16; i++)
    m[i] = load64(block + 8 * i);
  for (int i = 0; i < 8; i++) {
    v[i] = h[i];
    v[i + 8] = blake2b_iv[i];
  }
  v[12] ^= bytes; /* the high word of the 128-bit counter stays 0 below 2^64 bytes */
  if (last)
    v[14] = ~v[14];
  for (int r = 0; r < 12; r++) {
    const uint8_t *s = blake2b_sigma[r % 10];
    G(0, 4, 8, 12, m[s[0]], m[s[1]]);
    G(1, 5, 9, 13, m[s[2]], m[s[3]]);
    G(2, 6, 10, 14, m[s[4]], m[s[5]]);
    G(3, 7, 11, 15, m[s[6]], m[s[7]]);
    G(0, 5, 10, 15, m[s[8]], m[s[9]]);
    G(1, 6, 11, 12, m[s[10]], m[s[11]]);
    G(2, 7, 8, 13, m[s[12]], m[s[13]]);
    G(3, 4, 9, 14, m[s[14]], m[s[15]]);
  }
  for (int i = 0; i < 8; i++)
    h[i] ^= v[i] ^ v[i + 8];
}

void prism__metrics_blake2b128(uint8_t out[16], const void *data, size_t len)
{
  const uint8_t *p = data;
  uint8_t last[128];
  uint64_t h[8];
  size_t done = 0;
  memcpy(h, blake2b_iv, sizeof h);
  h[0] ^= 0x01010000u ^ 16u; /* no key, 16-byte digest */
  while (len - done > 128) {
    compress(h, p + done, done + 128, 0);
    done += 128;
  }
  memset(last, 0, sizeof last);
  if (len > done)
    memcpy(last, p + done, len - done);
  compress(h, last, len, 1);
  for (int i = 0; i < 16; i++)
    out[i] = (uint8_t)(h[i / 8] >> (8 * (i % 8)));
}

/* ---- the digest set ---- */

static int is_zero(const uint8_t d[16])
{
  static const uint8_t zero[16];
  return memcmp(d, zero, 16) == 0;
}

static size_t slot_of(const uint8_t d[16], size_t mask)
{
  uint64_t h;
  memcpy(&h, d, 8);
  return (size_t)h & mask;
}

static void place(uint8_t (*slots)[16], size_t mask, const uint8_t d[16])
{
  size_t j = slot_of(d, mask);
  while (!is_zero(slots[j]))
    j = (j + 1) & mask;
  memcpy(slots[j], d, 16);
}

int prism__metrics_digests_reserve(prism__metrics_digests *d)
{
  size_t cap, bytes;
  uint8_t(*grown)[16];
  /* at most three quarters full */
  if (d->capacity && (d->count + 1) * 4 <= d->capacity * 3)
    return PRISM_OK;
  cap = d->capacity ? 2 * d->capacity : 1024;
  if (!prism__mul_ok(cap, 16, &bytes) || !(grown = prism__calloc(cap, 16)))
    return prism__error(PRISM_ERR_NO_MEMORY, "USR: out of memory for %zu distinct hypotheses",
                        d->count + 1);
  for (size_t i = 0; i < d->capacity; i++)
    if (!is_zero(d->slots[i]))
      place(grown, cap - 1, d->slots[i]);
  prism__free(d->slots);
  d->slots = grown;
  d->capacity = cap;
  return PRISM_OK;
}

int prism__metrics_digests_insert(prism__metrics_digests *d, const uint8_t digest[16])
{
  size_t mask = d->capacity - 1, j;
  if (is_zero(digest)) {
    int fresh = !d->has_zero;
    d->has_zero = 1;
    d->count += (size_t)fresh;
    return fresh;
  }
  for (j = slot_of(digest, mask); !is_zero(d->slots[j]); j = (j + 1) & mask)
    if (memcmp(d->slots[j], digest, 16) == 0)
      return 0;
  memcpy(d->slots[j], digest, 16);
  d->count++;
  return 1;
}

void prism__metrics_digests_free(prism__metrics_digests *d)
{
  prism__free(d->slots);
  memset(d, 0, sizeof *d);
}
