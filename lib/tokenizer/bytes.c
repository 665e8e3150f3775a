/* GPT-2's byte table and whitespace classes for the tokenizer. */
#include <string.h>

#include "tokenizer_internal.h"

/*
 * GPT-2 keeps the printable bytes '!'..'~', 0xA1..0xAC and 0xAE..0xFF as their
 * own code points and maps the other 68 bytes, in order, to U+0100 onwards.
 */
static int byte_is_printable(unsigned b)
{
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

/* The 68 non-printable bytes in order: 0x00..0x20, 0x7F..0xA0, 0xAD. */
uint32_t prism__tokenizer_byte_char(unsigned b)
{
  if (byte_is_printable(b))
    return b;
  if (b <= 0x20)
    return 0x100 + b;
  if (b <= 0xA0)
    return 0x100 + 33 + (b - 0x7F);
  return 0x100 + 67;
}

int prism__tokenizer_char_byte(uint32_t cp)
{
  if (cp < 0x100)
    return byte_is_printable(cp) ? (int)cp : -1;
  if (cp < 0x100 + 33)
    return (int)(cp - 0x100);
  if (cp < 0x100 + 67)
    return (int)(cp - 0x100 - 33 + 0x7F);
  return cp == 0x100 + 67 ? 0xAD : -1;
}

int prism__tokenizer_white_space(uint32_t cp)
{
  if (cp < 0x80)
    return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

int prism__tokenizer_py_isspace(uint32_t cp)
{
  return prism__tokenizer_white_space(cp) || (cp >= 0x1C && cp <= 0x1F);
}

/* One multiply per 8-byte word and one full mix at the end: words are short. */
uint64_t prism__tokenizer_hash_bytes(const void *data, size_t len)
{
  const unsigned char *p = data;
  uint64_t h = 0xcbf29ce484222325ULL ^ len, w;
  while (len >= 8) {
    memcpy(&w, p, 8);
    h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
    p += 8;
    len -= 8;
  }
  if (len) {
    w = 0;
    memcpy(&w, p, len);
    h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
  }
  return tok_hash64(h);
}
