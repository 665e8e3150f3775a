/*
 * Texts to tokens: Python's str.split() (PETER), optionally after PEPLER's
 * punctuation post-processing and Python's str.lower().
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/unicode.h"
#include "common/utf8.h"
#include "metrics_internal.h"

static int grow(char **buf, size_t *cap, size_t need)
{
  char *p;
  if (need <= *cap)
    return PRISM_OK;
  p = prism__realloc(*buf, need);
  if (!p)
    return PRISM_ERR_NO_MEMORY;
  *buf = p;
  *cap = need;
  return PRISM_OK;
}

static int grow_spans(prism__metrics_tokens *t)
{
  size_t cap = t->cap ? 2 * t->cap : 64;
  prism__metrics_span *p = prism__realloc(t->tok, cap * sizeof *p);
  if (!p)
    return PRISM_ERR_NO_MEMORY;
  t->tok = p;
  t->cap = cap;
  return PRISM_OK;
}

/* Python's str.isspace() for ASCII: \t \n \v \f \r, U+001C..U+001F and the space. */
static const unsigned char ascii_space[128] = {
  [0x09] = 1, [0x0A] = 1, [0x0B] = 1, [0x0C] = 1, [0x0D] = 1,
  [0x1C] = 1, [0x1D] = 1, [0x1E] = 1, [0x1F] = 1, [0x20] = 1,
};

/* Whether the character at s[i] is white space; *n receives its length. */
static int space_at(const unsigned char *s, size_t len, size_t i, size_t *n)
{
  uint32_t cp;
  if (s[i] < 0x80) {
    *n = 1;
    return ascii_space[s[i]];
  }
  *n = prism__utf8_next(s + i, len - i, &cp);
  return prism__unicode_is_space(cp);
}

/* str.split(): maximal runs of non-space characters. */
static int split(prism__metrics_tokens *t, const char *text, size_t len)
{
  const unsigned char *s = (const unsigned char *)text;
  size_t i = 0, n, start;
  t->count = 0;
  while (i < len) {
    if (space_at(s, len, i, &n)) {
      i += n;
      continue;
    }
    start = i;
    for (i += n; i < len && !space_at(s, len, i, &n); i += n)
      ;
    if (t->count == t->cap && grow_spans(t) != PRISM_OK)
      return PRISM_ERR_NO_MEMORY;
    t->tok[t->count].s = text + start;
    t->tok[t->count].n = i - start;
    t->count++;
  }
  return PRISM_OK;
}

/* The contraction that follows an apostrophe at s[i]: 's 'm 've 're 'd 'll. */
static int contraction_at(const char *s, size_t len, size_t i)
{
  const char *r = s + i + 1;
  size_t left = len - i - 1;
  if (left >= 1 && (r[0] == 's' || r[0] == 'm' || r[0] == 'd'))
    return 1;
  return left >= 2 && ((r[0] == 'v' && r[1] == 'e') || (r[0] == 'r' && r[1] == 'e') ||
                       (r[0] == 'l' && r[1] == 'l'));
}

/*
 * PEPLER's post-processing (a sequence of regular-expression substitutions in
 * its utils.py) as one pass: a space before each contraction and before the
 * n of n't; ( and ) spaced out; each run of one of , : ; . ! ? as one spaced
 * token, ':' read as ',' and ';' as '.'. The substitutions never interact, so
 * one left-to-right pass gives the same text up to white space.
 */
static size_t pepler_spacing(char *o, const char *s, size_t len)
{
  size_t i = 0, w = 0;
  while (i < len) {
    char c = s[i];
    if (c == '\'' && contraction_at(s, len, i)) {
      o[w++] = ' ';
      o[w++] = c;
      i++;
    } else if (c == 'n' && i + 2 < len && s[i + 1] == '\'' && s[i + 2] == 't') {
      o[w++] = ' ';
      o[w++] = c;
      i++;
    } else if (c == '(' || c == ')') {
      o[w++] = ' ';
      o[w++] = c;
      o[w++] = ' ';
      i++;
    } else if (c == ',' || c == ':' || c == ';' || c == '.' || c == '!' || c == '?') {
      while (i < len && s[i] == c)
        i++;
      o[w++] = ' ';
      o[w++] = c == ':' ? ',' : c == ';' ? '.' : c;
      o[w++] = ' ';
    } else {
      o[w++] = c;
      i++;
    }
  }
  return w;
}

int prism__metrics_tokenize(prism__metrics_tokens *t, const char *text, size_t len, int mode,
                            int lowercase)
{
  int rc;
  if (lowercase) {
    rc = prism__unicode_lower(&t->buf, &t->buf_cap, &len, text, len);
    if (rc != PRISM_OK)
      return rc;
    text = t->buf;
  }
  if (mode == PRISM_METRICS_TOKENIZE_PEPLER) {
    /* Every byte becomes at most three. */
    if (len > ((size_t)-1 - 1) / 3 || grow(&t->buf2, &t->buf2_cap, 3 * len + 1) != PRISM_OK)
      return prism__error(PRISM_ERR_NO_MEMORY, "tokenizing a text of %zu bytes: out of memory",
                          len);
    len = pepler_spacing(t->buf2, text, len);
    text = t->buf2;
  }
  if (split(t, text, len) != PRISM_OK)
    return prism__error(PRISM_ERR_NO_MEMORY, "tokenizing a text of %zu bytes: out of memory", len);
  return PRISM_OK;
}

void prism__metrics_tokens_free(prism__metrics_tokens *t)
{
  prism__free(t->tok);
  prism__free(t->buf);
  prism__free(t->buf2);
  memset(t, 0, sizeof *t);
}
