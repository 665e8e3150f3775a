/*
 * Decoding: each token stands for the bytes its characters map back to
 * through GPT-2's table (a token with other characters, like an added token,
 * for its own UTF-8); the joined bytes are read as UTF-8 with U+FFFD for each
 * maximal ill-formed subsequence, as Python's errors="replace" and Rust's
 * from_utf8_lossy do.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "tokenizer_internal.h"

/* Bytes of one token into out (room for its length); returns the count. */
static size_t token_bytes(const unsigned char *s, size_t len, unsigned char *out)
{
  size_t i = 0, o = 0, n;
  uint32_t cp;
  while (i < len) {
    int b;
    n = prism__utf8_next(s + i, len - i, &cp);
    if (cp == UINT32_MAX || (b = prism__tokenizer_char_byte(cp)) < 0) {
      memcpy(out, s, len);
      return len;
    }
    out[o++] = (unsigned char)b;
    i += n;
  }
  return o;
}

int prism__tokenizer_build_decoder(prism_tokenizer *tok)
{
  size_t total = 0, n_ids = (size_t)tok->n_ids;
  uint32_t off = 0;

  for (size_t id = 0; id < n_ids; id++)
    total += tok->tok_off[id] == UINT32_MAX ? 0 : tok->tok_len[id];
  tok->dec = prism__malloc(total ? total : 1);
  tok->dec_off = prism__mallocn(n_ids + 1, sizeof *tok->dec_off);
  if (!tok->dec || !tok->dec_off)
    return PRISM_ERR_NO_MEMORY;
  for (size_t id = 0; id < n_ids; id++) {
    tok->dec_off[id] = off;
    if (tok->tok_off[id] != UINT32_MAX)
      off += (uint32_t)token_bytes((const unsigned char *)tok->arena + tok->tok_off[id],
                                   tok->tok_len[id], tok->dec + off);
  }
  tok->dec_off[n_ids] = off;
  return PRISM_OK;
}

static size_t dec_len(const prism_tokenizer *tok, int32_t id)
{
  return tok->dec_off[id + 1] - tok->dec_off[id];
}

/* Python's str.replace(from, to) in place, for len(to) <= len(from). */
static size_t replace_all(char *s, size_t len, const char *from, const char *to)
{
  size_t flen = strlen(from), tlen = strlen(to), i = 0, o = 0;
  while (i < len) {
    if (i + flen <= len && memcmp(s + i, from, flen) == 0) {
      memcpy(s + o, to, tlen);
      o += tlen;
      i += flen;
    } else {
      s[o++] = s[i++];
    }
  }
  return o;
}

/* HF's clean_up_tokenization(): these replacements, in this order. */
static size_t clean_up_spaces(char *s, size_t len)
{
  static const char *const pairs[][2] = {
    { " .", "." },     { " ?", "?" },   { " !", "!" },   { " ,", "," },     { " ' ", "'" },
    { " n't", "n't" }, { " 'm", "'m" }, { " 's", "'s" }, { " 've", "'ve" }, { " 're", "'re" },
  };
  for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++)
    len = replace_all(s, len, pairs[k][0], pairs[k][1]);
  return len;
}

static int check_ids(const prism_tokenizer *tok, const int32_t *ids, size_t n_ids, size_t *n_bytes)
{
  size_t total = 0;
  for (size_t i = 0; i < n_ids; i++) {
    int32_t id = ids[i];
    if (id < 0 || id >= tok->n_ids || tok->tok_off[id] == UINT32_MAX)
      return prism__error(PRISM_ERR_OUT_OF_RANGE,
                          "ids[%zu] = %d is not in the vocabulary (size %d)", i, (int)id,
                          (int)tok->n_ids);
    total += dec_len(tok, id);
  }
  *n_bytes = total;
  return PRISM_OK;
}

/* The decoded text in a new buffer (3 bytes per input byte covers every U+FFFD). */
static int decode_alloc(const prism_tokenizer *tok, const int32_t *ids, size_t n_ids,
                        unsigned flags, char **text, size_t *len)
{
  size_t n_bytes = 0, cap, o = 0;
  unsigned char *bytes;
  int rc;

  if ((rc = check_ids(tok, ids, n_ids, &n_bytes)) != PRISM_OK)
    return rc;
  if (!prism__mul_ok(n_bytes, 4, &cap) || !prism__add_ok(cap, 1, &cap))
    return prism__error(PRISM_ERR_LIMIT, "output too long");
  if ((bytes = prism__malloc(cap)) == NULL)
    return PRISM_ERR_NO_MEMORY;
  for (size_t i = 0; i < n_ids; i++) {
    if ((flags & PRISM_TOKENIZER_SKIP_SPECIAL) && tok->is_special[ids[i]])
      continue;
    memcpy(bytes + o, tok->dec + tok->dec_off[ids[i]], dec_len(tok, ids[i]));
    o += dec_len(tok, ids[i]);
  }
  /* Bytes sit at the tail while the text grows from the front; they never overlap. */
  memmove(bytes + cap - o, bytes, o);
  *len = prism__utf8_lossy(bytes, bytes + cap - o, o);
  if (flags & PRISM_TOKENIZER_CLEAN_UP_SPACES)
    *len = clean_up_spaces((char *)bytes, *len);
  *text = (char *)bytes;
  return PRISM_OK;
}

#define DECODE_FLAGS (PRISM_TOKENIZER_SKIP_SPECIAL | PRISM_TOKENIZER_CLEAN_UP_SPACES)

int prism_tokenizer_decode(char *text, size_t capacity, size_t *text_len,
                           const prism_tokenizer *tok, const int32_t *ids, size_t n_ids,
                           unsigned flags)
{
  char *buf = NULL;
  size_t len = 0;
  int rc;

  PRISM__CHECK_ARG(text_len != NULL, "text_len must not be NULL");
  PRISM__CHECK_ARG(text || capacity == 0,
                   "text must not be NULL (it may be NULL only when capacity is 0)");
  PRISM__CHECK_ARG(tok != NULL, "tok must not be NULL");
  PRISM__CHECK_ARG(ids || n_ids == 0, "ids must not be NULL (it may be NULL only when n_ids is 0)");
  PRISM__CHECK_ARG((flags & ~DECODE_FLAGS) == 0, "flags has bits that are not flags of this call");
  if ((rc = decode_alloc(tok, ids, n_ids, flags, &buf, &len)) != PRISM_OK)
    return prism__error_at(__func__, rc);
  *text_len = len;
  if (text && capacity > len) {
    memcpy(text, buf, len);
    text[len] = '\0';
  } else if (text) {
    rc = prism__error(PRISM_ERR_BUFFER_TOO_SMALL, "%zu bytes and a NUL do not fit a buffer of %zu",
                      len, capacity);
  }
  prism__free(buf);
  return prism__error_at(__func__, rc);
}
