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

static int push(prism__metrics_tokens *t, const char *s, size_t n)
{
  if (t->count == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 64;
    prism__metrics_span *p = prism__realloc(t->tok, cap * sizeof *p);
    if (!p)
      return PRISM_ERR_NO_MEMORY;
    t->tok = p;
    t->cap = cap;
  }
  t->tok[t->count].s = s;
  t->tok[t->count].n = n;
  t->count++;
  return PRISM_OK;
}

/* str.split(): maximal runs of non-space characters. */
static int split(prism__metrics_tokens *t, const char *text, size_t len)
{
  const unsigned char *s = (const unsigned char *)text;
  size_t i = 0, start = 0;
  int in_token = 0;
  uint32_t cp;
  t->count = 0;
  while (i < len) {
    size_t n = 1;
    int space;
    if (s[i] < 0x80) {
      space = (s[i] >= 0x09 && s[i] <= 0x0D) || (s[i] >= 0x1C && s[i] <= 0x20);
    } else {
      n = prism__utf8_next(s + i, len - i, &cp);
      space = prism__unicode_is_space(cp);
    }
    if (space && in_token) {
      if (push(t, text + start, i - start) != PRISM_OK)
        return PRISM_ERR_NO_MEMORY;
      in_token = 0;
    } else if (!space && !in_token) {
      start = i;
      in_token = 1;
    }
    i += n;
  }
  if (in_token && push(t, text + start, len - start) != PRISM_OK)
    return PRISM_ERR_NO_MEMORY;
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
