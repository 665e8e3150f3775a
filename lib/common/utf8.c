/* UTF-8 scanning with the maximal-subpart rule of Python's and Rust's lossy decoders. */
#include <string.h>

#include "utf8.h"

size_t prism__utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
  unsigned b = s[0], lo = 0x80, hi = 0xBF;
  size_t need, i;
  uint32_t c;

  if (b < 0x80) {
    *cp = b;
    return 1;
  }
  if (b >= 0xC2 && b <= 0xDF) {
    need = 1;
    c = b & 0x1F;
  } else if (b >= 0xE0 && b <= 0xEF) {
    need = 2;
    c = b & 0x0F;
    lo = b == 0xE0 ? 0xA0 : 0x80; /* no overlong forms */
    hi = b == 0xED ? 0x9F : 0xBF; /* no surrogates */
  } else if (b >= 0xF0 && b <= 0xF4) {
    need = 3;
    c = b & 0x07;
    lo = b == 0xF0 ? 0x90 : 0x80;
    hi = b == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
  } else {
    *cp = UINT32_MAX;
    return 1;
  }
  for (i = 1; i <= need; i++) {
    if (i >= len || s[i] < lo || s[i] > hi) {
      *cp = UINT32_MAX;
      return i;
    }
    c = c << 6 | (s[i] & 0x3Fu);
    lo = 0x80;
    hi = 0xBF;
  }
  *cp = c;
  return need + 1;
}

size_t prism__utf8_check(const unsigned char *s, size_t len)
{
  size_t i = 0;
  uint32_t cp;
  while (i < len) {
    if (s[i] < 0x80) {
      i++;
      continue;
    }
    size_t n = prism__utf8_next(s + i, len - i, &cp);
    if (cp == UINT32_MAX)
      return i;
    i += n;
  }
  return len;
}

size_t prism__utf8_lossy(unsigned char *out, const unsigned char *s, size_t len)
{
  size_t i = 0, o = 0, n;
  uint32_t cp;
  while (i < len) {
    n = prism__utf8_next(s + i, len - i, &cp);
    if (cp == UINT32_MAX) {
      o += prism__utf8_put(out + o, 0xFFFD);
    } else {
      memmove(out + o, s + i, n);
      o += n;
    }
    i += n;
  }
  return o;
}

size_t prism__utf8_put(unsigned char *out, uint32_t cp)
{
  if (cp < 0x80) {
    out[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (unsigned char)(0xC0 | cp >> 6);
    out[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (unsigned char)(0xE0 | cp >> 12);
    out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (unsigned char)(0xF0 | cp >> 18);
  out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
  out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
  out[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}
