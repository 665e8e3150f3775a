/* Unicode properties and case mappings over utf8proc (unicode.h). */
#include <string.h>

#include <utf8proc.h>

#include "alloc.h"
#include "error.h"
#include "unicode.h"
#include "utf8.h"

int prism__unicode_is_space(uint32_t cp)
{
  if (cp < 0x80)
    return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20);
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

int prism__unicode_class(uint32_t cp)
{
  switch (utf8proc_category((utf8proc_int32_t)cp)) {
  case UTF8PROC_CATEGORY_LU:
  case UTF8PROC_CATEGORY_LL:
  case UTF8PROC_CATEGORY_LT:
  case UTF8PROC_CATEGORY_LM:
  case UTF8PROC_CATEGORY_LO:
    return PRISM__UNICODE_LETTER;
  case UTF8PROC_CATEGORY_ND:
  case UTF8PROC_CATEGORY_NL:
  case UTF8PROC_CATEGORY_NO:
    return PRISM__UNICODE_NUMBER;
  default:
    return PRISM__UNICODE_OTHER;
  }
}

const char *prism__unicode_version(void)
{
  return utf8proc_unicode_version();
}

int prism__unicode_is_word(uint32_t cp)
{
  utf8proc_category_t cat;
  if (cp < 0x80)
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
           cp == '_';
  if (prism__unicode_class(cp) != PRISM__UNICODE_OTHER)
    return 1;
  cat = utf8proc_category((utf8proc_int32_t)cp);
  return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
         cat == UTF8PROC_CATEGORY_ME || cat == UTF8PROC_CATEGORY_PC;
}

/* Make *buf hold at least `need` bytes. */
static int reserve(char **buf, size_t *cap, size_t need)
{
  char *grown;
  if (need <= *cap)
    return PRISM_OK;
  grown = prism__realloc(*buf, need);
  if (!grown)
    return PRISM_ERR_NO_MEMORY;
  *buf = grown;
  *cap = need;
  return PRISM_OK;
}

/* Cased (Unicode's Cased property, approximated by the letter cases and case mappings). */
static int is_cased(uint32_t cp)
{
  utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)cp);
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL ||
         cat == UTF8PROC_CATEGORY_LT ||
         utf8proc_tolower((utf8proc_int32_t)cp) != (utf8proc_int32_t)cp ||
         utf8proc_toupper((utf8proc_int32_t)cp) != (utf8proc_int32_t)cp;
}

/* Case_Ignorable: marks, format characters, modifiers and the word-internal stops and quotes. */
static int is_case_ignorable(uint32_t cp)
{
  /* Word_Break MidLetter, MidNumLet and Single_Quote (the rest come by category) */
  static const uint16_t mid[] = { 0x27,   0x2E,   0x3A,   0xB7,   0x387,  0x55F,
                                  0x5F4,  0x2018, 0x2019, 0x2024, 0x2027, 0xFE13,
                                  0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A };
  for (size_t i = 0; i < sizeof mid / sizeof mid[0]; i++)
    if (cp == mid[i])
      return 1;
  switch (utf8proc_category((utf8proc_int32_t)cp)) {
  case UTF8PROC_CATEGORY_MN:
  case UTF8PROC_CATEGORY_ME:
  case UTF8PROC_CATEGORY_CF:
  case UTF8PROC_CATEGORY_LM:
  case UTF8PROC_CATEGORY_SK:
    return 1;
  default:
    return 0;
  }
}

/* The code point ending just before byte `end` of valid UTF-8 `s`, and where it starts. */
static uint32_t prev_cp(const unsigned char *s, size_t end, size_t *start)
{
  uint32_t cp;
  size_t i = end - 1;
  while (i > 0 && (s[i] & 0xC0) == 0x80)
    i--;
  prism__utf8_next(s + i, end - i, &cp);
  *start = i;
  return cp;
}

/*
 * Python's Final_Sigma context for the capital sigma at s[at, at + 2): a cased
 * letter before it and none after it, skipping case-ignorable characters.
 */
static int final_sigma(const unsigned char *s, size_t len, size_t at)
{
  size_t i = at;
  uint32_t cp = 0;
  int before = 0;
  while (i > 0) {
    cp = prev_cp(s, i, &i);
    if (!is_case_ignorable(cp)) {
      before = is_cased(cp);
      break;
    }
  }
  if (!before)
    return 0;
  for (i = at + 2; i < len;) {
    i += prism__utf8_next(s + i, len - i, &cp);
    if (!is_case_ignorable(cp))
      return !is_cased(cp);
  }
  return 1;
}

int prism__unicode_lower(char **buf, size_t *cap, size_t *out_len, const char *text, size_t len)
{
  const unsigned char *s = (const unsigned char *)text;
  unsigned char *o;
  size_t i = 0, w = 0;
  uint32_t cp;
  /* A lower-case form never takes more than twice the bytes (two for one at most). */
  if (len > ((size_t)-1 - 1) / 2 || reserve(buf, cap, 2 * len + 1) != PRISM_OK)
    return prism__error(PRISM_ERR_NO_MEMORY, "lower-casing a text of %zu bytes: out of memory",
                        len);
  o = (unsigned char *)*buf;
  while (i < len) {
    if (s[i] < 0x80) {
      o[w++] = (unsigned char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
      i++;
      continue;
    }
    size_t n = prism__utf8_next(s + i, len - i, &cp);
    if (cp == 0x130) { /* the only unconditional two-character lower case */
      o[w++] = 'i';
      w += prism__utf8_put(o + w, 0x307);
    } else if (cp == 0x3A3) {
      w += prism__utf8_put(o + w, final_sigma(s, len, i) ? 0x3C2 : 0x3C3);
    } else {
      w += prism__utf8_put(o + w, (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp));
    }
    i += n;
  }
  o[w] = 0;
  *out_len = w;
  return PRISM_OK;
}

/* Runs of white space to one space, none at the ends, in place; returns the new length. */
static size_t collapse_space(unsigned char *s, size_t len)
{
  size_t i = 0, w = 0;
  int pending = 0;
  uint32_t cp;
  while (i < len) {
    size_t n = prism__utf8_next(s + i, len - i, &cp);
    if (prism__unicode_is_space(cp)) {
      pending = w > 0;
    } else {
      if (pending)
        s[w++] = ' ';
      pending = 0;
      memmove(s + w, s + i, n);
      w += n;
    }
    i += n;
  }
  s[w] = 0;
  return w;
}

int prism__unicode_fold(char **buf, size_t *cap, size_t *out_len, const char *s, size_t len)
{
  const utf8proc_option_t opts = UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD;
  utf8proc_ssize_t got, room = (utf8proc_ssize_t)(len + 8);
  size_t bytes;
  if (len > (size_t)PTRDIFF_MAX / 8)
    return prism__error(PRISM_ERR_LIMIT, "case folding: a text of %zu bytes is too long", len);
  for (;;) {
    /* utf8proc decomposes into code points and re-encodes in place (one spare slot). */
    if (!prism__mul_ok((size_t)room + 1, sizeof(utf8proc_int32_t), &bytes) ||
        reserve(buf, cap, bytes) != PRISM_OK)
      return prism__error(PRISM_ERR_NO_MEMORY, "case folding a text of %zu bytes: out of memory",
                          len);
    got = utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len,
                             (utf8proc_int32_t *)(void *)*buf, room, opts);
    if (got < 0)
      return prism__error(PRISM_ERR_INVALID_UTF8, "case folding: %s", utf8proc_errmsg(got));
    if (got <= room)
      break;
    room = got;
  }
  got = utf8proc_reencode((utf8proc_int32_t *)(void *)*buf, got, opts);
  if (got < 0)
    return prism__error(PRISM_ERR_INVALID_UTF8, "case folding: %s", utf8proc_errmsg(got));
  *out_len = collapse_space((unsigned char *)*buf, (size_t)got);
  return PRISM_OK;
}
