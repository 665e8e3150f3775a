/* UTF-8 scanning, GPT-2's byte table and whitespace classes for the tokenizer. */
#include <string.h>

#include "tokenizer_impl.h"

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

/*
 * GPT-2 keeps the printable bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF as their
 * own code points and maps the other 68 bytes, in order, to U+0100 onwards.
 */
static int byte_is_printable(unsigned b)
{
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

/* The 68 non-printable bytes in order: 0x00..0x20, 0x7F..0xA0, 0xAD. */
uint32_t prism__tok_byte_char(unsigned b)
{
  if (byte_is_printable(b))
    return b;
  if (b <= 0x20)
    return 0x100 + b;
  if (b <= 0xA0)
    return 0x100 + 33 + (b - 0x7F);
  return 0x100 + 67;
}

int prism__tok_char_byte(uint32_t cp)
{
  if (cp < 0x100)
    return byte_is_printable(cp) ? (int)cp : -1;
  if (cp < 0x100 + 33)
    return (int)(cp - 0x100);
  if (cp < 0x100 + 67)
    return (int)(cp - 0x100 - 33 + 0x7F);
  return cp == 0x100 + 67 ? 0xAD : -1;
}

int prism__white_space(uint32_t cp)
{
  if (cp < 0x80)
    return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

int prism__py_isspace(uint32_t cp)
{
  return prism__white_space(cp) || (cp >= 0x1C && cp <= 0x1F);
}

uint64_t prism__tok_hash_bytes(const void *data, size_t len)
{
  const unsigned char *p = data;
  uint64_t h = 0xcbf29ce484222325ULL ^ len;
  while (len >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    h = tok_hash64(h ^ w);
    p += 8;
    len -= 8;
  }
  if (len) {
    uint64_t w = 0;
    memcpy(&w, p, len);
    h = tok_hash64(h ^ w ^ 0x9E3779B97F4A7C15ULL);
  }
  return h;
}
