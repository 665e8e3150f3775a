/*
 * Training data: (source, target) pairs of token ids, or ready micro-batches,
 * from ids, text or JSON Lines. Every line of a file is checked before it is
 * kept; a bad line is refused with its line number and nothing is returned.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "common/params.h"
#include "train_internal.h"

/* The first released layout (frozen in tests/abi). */
#define PAIRS_PARAMS_V1_SIZE PRISM__LAYOUT_SIZE(prism_pairs_params, truncate)

static const prism_pairs_params pairs_defaults = { sizeof pairs_defaults, PRISM_PAIRS_PAIRS, 0, 0,
                                                   0 };

PRISM_API int prism_pairs_params_init(prism_pairs_params *params, size_t struct_size)
{
  return PRISM__PARAMS_INIT(params, struct_size, &pairs_defaults, PAIRS_PARAMS_V1_SIZE,
                            "prism_pairs_params_init");
}

static int resolve(prism_pairs_params *out, const prism_pairs_params *in, const char *fn)
{
  int rc = PRISM__PARAMS_READ(out, in, &pairs_defaults, PAIRS_PARAMS_V1_SIZE, fn);
  if (rc == PRISM_OK && out->format != PRISM_PAIRS_PAIRS && out->format != PRISM_PAIRS_BATCHES)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: params->format %d is not PRISM_PAIRS_PAIRS or PRISM_PAIRS_BATCHES", fn,
                        (int)out->format);
  return rc;
}

PRISM_API int prism_pairs_create(prism_pairs **out, const prism_pairs_params *params)
{
  prism_pairs *s;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  if (!(s = prism__calloc(1, sizeof *s)))
    return prism__error_at(__func__, PRISM_ERR_NO_MEMORY);
  if ((rc = resolve(&s->p, params, __func__)) != PRISM_OK) {
    prism__free(s);
    return rc;
  }
  *out = s;
  return PRISM_OK;
}

PRISM_API void prism_pairs_free(prism_pairs *pairs)
{
  if (!pairs)
    return;
  prism__free(pairs->ids);
  prism__free(pairs->items);
  prism__free(pairs);
}

PRISM_API size_t prism_pairs_count(const prism_pairs *pairs)
{
  return pairs ? pairs->n : 0;
}

PRISM_API size_t prism_pairs_truncated(const prism_pairs *pairs)
{
  return pairs ? pairs->truncated : 0;
}

/* Room for `more` ids and one item; nothing changes on failure. */
static int reserve(prism_pairs *s, size_t more)
{
  size_t need;
  if (!prism__add_ok(s->n_ids, more, &need))
    return prism__error(PRISM_ERR_LIMIT, "pairs: more ids than memory can index");
  if (need > s->cap_ids) {
    size_t cap = s->cap_ids ? s->cap_ids : 1024, bytes;
    int32_t *ids;
    while (cap < need)
      cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (!prism__mul_ok(cap, sizeof *ids, &bytes) || !(ids = prism__realloc(s->ids, bytes)))
      return PRISM_ERR_NO_MEMORY;
    s->ids = ids;
    s->cap_ids = cap;
  }
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 64;
    prism__train_item *items = prism__realloc(s->items, cap * sizeof *items);
    if (!items)
      return PRISM_ERR_NO_MEMORY;
    s->items = items;
    s->cap = cap;
  }
  return PRISM_OK;
}

/* The kept length of a sequence of `len` ids under `max` (0: none); -1 when it must be refused. */
static long kept_len(const prism_pairs *s, size_t len, uint32_t max)
{
  if (!max || len <= max)
    return (long)len;
  return s->p.truncate ? (long)max : -1;
}

/* Append ids, keeping the first keep-1 and the last one when cut. */
static void append_cut(prism_pairs *s, const int32_t *ids, size_t len, size_t keep)
{
  int32_t *dst = s->ids + s->n_ids;
  if (keep == len || keep < 2) {
    memcpy(dst, ids, keep * sizeof *ids);
  } else {
    memcpy(dst, ids, (keep - 1) * sizeof *ids);
    dst[keep - 1] = ids[len - 1];
  }
  s->n_ids += keep;
}

static int check_ids(const int32_t *ids, size_t len, const char *side, int labels)
{
  for (size_t i = 0; i < len; i++)
    if (ids[i] < 0 && !(labels && ids[i] == PRISM__TRAIN_IGNORE))
      return prism__error(PRISM_ERR_OUT_OF_RANGE, "%s[%zu] = %d is not a token id%s", side, i,
                          (int)ids[i], labels ? " or -100" : "");
  return PRISM_OK;
}

/* Add a pair after the checks; `fn` names the public caller for length messages. */
static int add_pair(prism_pairs *s, const int32_t *src, size_t slen, const int32_t *tgt,
                    size_t tlen)
{
  long ks = kept_len(s, slen, s->p.max_source_len), kt = kept_len(s, tlen, s->p.max_target_len);
  prism__train_item *it;
  int rc;
  if (s->p.format != PRISM_PAIRS_PAIRS)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "this set holds micro-batches, not pairs");
  if (slen == 0 || tlen == 0)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "the %s is empty", slen ? "target" : "source");
  if (ks < 0 || kt < 0)
    return prism__error(
        PRISM_ERR_LIMIT, "the %s has %zu tokens, more than max_%s_len %u (truncate to cut it)",
        ks < 0 ? "source" : "target", ks < 0 ? slen : tlen, ks < 0 ? "source" : "target",
        (unsigned)(ks < 0 ? s->p.max_source_len : s->p.max_target_len));
  if ((rc = check_ids(src, slen, "source", 0)) != PRISM_OK ||
      (rc = check_ids(tgt, tlen, "target", 1)) != PRISM_OK)
    return rc;
  if ((rc = reserve(s, (size_t)ks + (size_t)kt)) != PRISM_OK)
    return rc;
  it = &s->items[s->n++];
  it->off = s->n_ids;
  it->rows = 0;
  it->src = (uint32_t)ks;
  it->tgt = (uint32_t)kt;
  it->has_mask = 0;
  append_cut(s, src, slen, (size_t)ks);
  append_cut(s, tgt, tlen, (size_t)kt);
  s->truncated += (size_t)ks < slen || (size_t)kt < tlen;
  return PRISM_OK;
}

PRISM_API int prism_pairs_add(prism_pairs *pairs, const int32_t *source, size_t source_len,
                              const int32_t *target, size_t target_len)
{
  PRISM__CHECK_ARG(pairs != NULL, "pairs must not be NULL");
  PRISM__CHECK_ARG(source != NULL && target != NULL, "source and target must not be NULL");
  return prism__error_at(__func__, add_pair(pairs, source, source_len, target, target_len));
}

/* Token ids of a text with <s> ... </s>, in a new allocation. */
static int encode(const prism_tokenizer *tok, const char *text, size_t len, int32_t **ids,
                  size_t *n)
{
  int rc = prism_tokenizer_encode(NULL, 0, n, tok, text, len, 0);
  if (rc != PRISM_OK)
    return rc;
  if (!(*ids = prism__mallocn(*n ? *n : 1, sizeof **ids)))
    return PRISM_ERR_NO_MEMORY;
  rc = prism_tokenizer_encode(*ids, *n, n, tok, text, len, 0);
  if (rc != PRISM_OK) {
    prism__free(*ids);
    *ids = NULL;
  }
  return rc;
}

static int add_text(prism_pairs *s, const prism_tokenizer *tok, const char *src, size_t slen,
                    const char *tgt, size_t tlen)
{
  int32_t *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;
  int rc = encode(tok, src, slen, &a, &na);
  if (rc != PRISM_OK)
    return prism__error_prefix("source: ");
  rc = encode(tok, tgt, tlen, &b, &nb);
  if (rc != PRISM_OK) {
    prism__free(a);
    return prism__error_prefix("target: ");
  }
  rc = add_pair(s, a, na, b, nb);
  prism__free(a);
  prism__free(b);
  return rc;
}

PRISM_API int prism_pairs_add_text(prism_pairs *pairs, const prism_tokenizer *tokenizer,
                                   const char *source, size_t source_len, const char *target,
                                   size_t target_len)
{
  PRISM__CHECK_ARG(pairs != NULL, "pairs must not be NULL");
  PRISM__CHECK_ARG(tokenizer != NULL, "tokenizer must not be NULL");
  PRISM__CHECK_ARG((source || !source_len) && (target || !target_len),
                   "source and target must not be NULL unless their length is 0");
  return prism__error_at(__func__,
                         add_text(pairs, tokenizer, source, source_len, target, target_len));
}

static int add_batch(prism_pairs *s, const int32_t *ids, const int32_t *mask, size_t rows,
                     size_t slen, const int32_t *labels, size_t tlen)
{
  prism__train_item *it;
  size_t n_in, n_lab, total;
  int rc;
  if (s->p.format != PRISM_PAIRS_BATCHES)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "this set holds pairs, not micro-batches");
  if (rows == 0 || slen == 0 || tlen == 0 || rows > UINT32_MAX || slen > UINT32_MAX ||
      tlen > UINT32_MAX)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "a micro-batch needs at least one row, one source and one target token");
  if ((s->p.max_source_len && slen > s->p.max_source_len) ||
      (s->p.max_target_len && tlen > s->p.max_target_len))
    return prism__error(PRISM_ERR_LIMIT,
                        "a micro-batch of %zu source and %zu target tokens is longer than "
                        "max_source_len %u or max_target_len %u",
                        slen, tlen, (unsigned)s->p.max_source_len, (unsigned)s->p.max_target_len);
  if (!prism__mul_ok(rows, slen, &n_in) || !prism__mul_ok(rows, tlen, &n_lab) ||
      !prism__add_ok(n_in * (mask ? 2 : 1), n_lab, &total))
    return prism__error(PRISM_ERR_LIMIT, "a micro-batch of %zu rows is too large", rows);
  if ((rc = check_ids(ids, n_in, "input_ids", 0)) != PRISM_OK ||
      (rc = check_ids(labels, n_lab, "labels", 1)) != PRISM_OK)
    return rc;
  for (size_t i = 0; mask && i < n_in; i++)
    if (mask[i] != 0 && mask[i] != 1)
      return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                          "attention_mask[%zu][%zu] = %d (must be 0 or 1)", i / slen, i % slen,
                          (int)mask[i]);
  if ((rc = reserve(s, total)) != PRISM_OK)
    return rc;
  it = &s->items[s->n++];
  it->off = s->n_ids;
  it->rows = (uint32_t)rows;
  it->src = (uint32_t)slen;
  it->tgt = (uint32_t)tlen;
  it->has_mask = mask != NULL;
  memcpy(s->ids + s->n_ids, ids, n_in * sizeof *ids);
  s->n_ids += n_in;
  if (mask) {
    memcpy(s->ids + s->n_ids, mask, n_in * sizeof *mask);
    s->n_ids += n_in;
  }
  memcpy(s->ids + s->n_ids, labels, n_lab * sizeof *labels);
  s->n_ids += n_lab;
  return PRISM_OK;
}

PRISM_API int prism_pairs_add_batch(prism_pairs *pairs, const int32_t *input_ids,
                                    const int32_t *attention_mask, size_t rows, size_t source_len,
                                    const int32_t *labels, size_t target_len)
{
  PRISM__CHECK_ARG(pairs != NULL, "pairs must not be NULL");
  PRISM__CHECK_ARG(input_ids != NULL && labels != NULL, "input_ids and labels must not be NULL");
  return prism__error_at(
      __func__, add_batch(pairs, input_ids, attention_mask, rows, source_len, labels, target_len));
}

/* ---- JSON Lines ------------------------------------------------------------------------- */

/* A JSON array of int32 into a new allocation (min: the smallest value allowed). */
static int int_array(const json_t *a, const char *key, long long min, int32_t **out, size_t *n)
{
  size_t i;
  json_t *v;
  if (!json_is_array(a))
    return prism__error(PRISM_ERR_FORMAT, "\"%s\" must be an array of integers", key);
  *n = json_array_size(a);
  if (!(*out = prism__mallocn(*n ? *n : 1, sizeof **out)))
    return PRISM_ERR_NO_MEMORY;
  json_array_foreach(a, i, v)
  {
    long long x = json_is_integer(v) ? json_integer_value(v) : 0;
    if (!json_is_integer(v) || x < min || x > INT32_MAX) {
      prism__free(*out);
      *out = NULL;
      return prism__error(PRISM_ERR_FORMAT, "\"%s\"[%zu] must be an integer%s", key, i,
                          min == 0 ? " token id" : " token id or -100");
    }
    (*out)[i] = (int32_t)x;
  }
  return PRISM_OK;
}

/* A JSON array of equally long int32 rows into a new allocation. */
static int int_matrix(const json_t *a, const char *key, long long min, int32_t **out, size_t *rows,
                      size_t *cols)
{
  size_t i;
  json_t *row;
  *out = NULL;
  if (!json_is_array(a) || json_array_size(a) == 0)
    return prism__error(PRISM_ERR_FORMAT, "\"%s\" must be a non-empty array of arrays of integers",
                        key);
  *rows = json_array_size(a);
  *cols = json_array_size(json_array_get(a, 0));
  if (!prism__mul_ok(*rows, *cols, &i) || !(*out = prism__mallocn(i ? i : 1, sizeof **out)))
    return PRISM_ERR_NO_MEMORY;
  json_array_foreach(a, i, row)
  {
    int32_t *vals;
    size_t n;
    char what[64];
    int rc;
    snprintf(what, sizeof what, "%s[%zu]", key, i);
    if ((rc = int_array(row, what, min, &vals, &n)) != PRISM_OK ||
        (n != *cols && (prism__free(vals), 1))) {
      prism__free(*out);
      *out = NULL;
      return rc != PRISM_OK ? rc
                            : prism__error(PRISM_ERR_FORMAT,
                                           "\"%s\" has %zu entries, row 0 has %zu (pad the rows)",
                                           what, n, *cols);
    }
    memcpy(*out + i * *cols, vals, n * sizeof *vals);
    prism__free(vals);
  }
  return PRISM_OK;
}

static int line_pair(prism_pairs *s, const json_t *line, const prism_tokenizer *tok)
{
  const json_t *src = json_object_get(line, "source"), *tgt = json_object_get(line, "target");
  const json_t *ids = json_object_get(line, "input_ids"), *labels = json_object_get(line, "labels");
  int32_t *a = NULL, *b = NULL;
  size_t na, nb;
  int rc;
  if ((src || tgt) && (ids || labels))
    return prism__error(PRISM_ERR_FORMAT,
                        "a line holds text (\"source\", \"target\") or ids (\"input_ids\", "
                        "\"labels\"), not both");
  if (src || tgt) {
    if (!json_is_string(src) || !json_is_string(tgt))
      return prism__error(PRISM_ERR_FORMAT, "\"source\" and \"target\" must both be strings");
    if (!tok)
      return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                          "text pairs need a tokenizer (or give \"input_ids\" and \"labels\")");
    return add_text(s, tok, json_string_value(src), json_string_length(src), json_string_value(tgt),
                    json_string_length(tgt));
  }
  if (!ids || !labels)
    return prism__error(PRISM_ERR_FORMAT,
                        "expected {\"source\": S, \"target\": S} or {\"input_ids\": [int], "
                        "\"labels\": [int]}");
  rc = int_array(ids, "input_ids", 0, &a, &na);
  if (rc == PRISM_OK)
    rc = int_array(labels, "labels", PRISM__TRAIN_IGNORE, &b, &nb);
  if (rc == PRISM_OK)
    rc = add_pair(s, a, na, b, nb);
  prism__free(a);
  prism__free(b);
  return rc;
}

static int line_batch(prism_pairs *s, const json_t *line)
{
  const json_t *mask_json = json_object_get(line, "attention_mask");
  int32_t *ids = NULL, *labels = NULL, *mask = NULL;
  size_t rows, slen, lrows, tlen, mrows, mlen;
  int rc = int_matrix(json_object_get(line, "input_ids"), "input_ids", 0, &ids, &rows, &slen);
  if (rc == PRISM_OK)
    rc = int_matrix(json_object_get(line, "labels"), "labels", PRISM__TRAIN_IGNORE, &labels, &lrows,
                    &tlen);
  if (rc == PRISM_OK && lrows != rows)
    rc = prism__error(PRISM_ERR_FORMAT, "\"labels\" has %zu rows, \"input_ids\" %zu", lrows, rows);
  if (rc == PRISM_OK && mask_json && !json_is_null(mask_json)) {
    rc = int_matrix(mask_json, "attention_mask", 0, &mask, &mrows, &mlen);
    if (rc == PRISM_OK && (mrows != rows || mlen != slen))
      rc =
          prism__error(PRISM_ERR_FORMAT, "\"attention_mask\" is %zu x %zu, \"input_ids\" %zu x %zu",
                       mrows, mlen, rows, slen);
  }
  if (rc == PRISM_OK)
    rc = add_batch(s, ids, mask, rows, slen, labels, tlen);
  prism__free(ids);
  prism__free(labels);
  prism__free(mask);
  return rc;
}

static int parse_line(prism_pairs *s, const char *text, size_t len, const char *what, size_t lineno,
                      const prism_tokenizer *tok)
{
  json_error_t err;
  json_t *line = json_loadb(text, len, 0, &err);
  int rc = PRISM_OK;
  if (!line)
    rc =
        json_error_code(&err) == json_error_out_of_memory
            ? PRISM_ERR_NO_MEMORY
            : prism__error(PRISM_ERR_FORMAT, "invalid JSON at column %d: %s", err.column, err.text);
  else if (!json_is_object(line))
    rc = prism__error(PRISM_ERR_FORMAT, "expected a JSON object");
  if (rc == PRISM_OK)
    rc = s->p.format == PRISM_PAIRS_BATCHES ? line_batch(s, line) : line_pair(s, line, tok);
  json_decref(line);
  return rc == PRISM_OK ? rc : prism__error_prefix("%s line %zu: ", what, lineno);
}

static int parse_all(prism_pairs *s, const char *data, size_t len, const char *what,
                     const prism_tokenizer *tok)
{
  size_t lineno = 0, pos = 0;
  while (pos < len) {
    const char *nl = memchr(data + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - data) : len, i = pos;
    lineno++;
    while (i < end && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r'))
      i++;
    if (i < end) {
      int rc = parse_line(s, data + pos, end - pos, what, lineno, tok);
      if (rc != PRISM_OK)
        return rc;
    }
    pos = end + 1;
  }
  return PRISM_OK;
}

static int parse_new(prism_pairs **out, const char *data, size_t len, const char *what,
                     const prism_tokenizer *tok, const prism_pairs_params *params, const char *fn)
{
  prism_pairs *s = prism__calloc(1, sizeof *s);
  int rc = s ? resolve(&s->p, params, fn) : PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK)
    rc = parse_all(s, data, len, what, tok);
  if (rc != PRISM_OK) {
    prism_pairs_free(s);
    return prism__error_at(fn, rc);
  }
  *out = s;
  return PRISM_OK;
}

PRISM_API int prism_pairs_parse(prism_pairs **out, const char *data, size_t len, const char *what,
                                const prism_tokenizer *tokenizer, const prism_pairs_params *params)
{
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  PRISM__CHECK_ARG(data != NULL || len == 0, "data must not be NULL unless len is 0");
  return parse_new(out, data, len, what ? what : "pairs", tokenizer, params, __func__);
}

PRISM_API int prism_pairs_load(prism_pairs **out, const char *path,
                               const prism_tokenizer *tokenizer, const prism_pairs_params *params)
{
  prism__file f;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = NULL;
  PRISM__CHECK_ARG(path != NULL, "path must not be NULL");
  if ((rc = prism__file_read(path, 0, &f)) != PRISM_OK)
    return prism__error_at(__func__, rc);
  rc = parse_new(out, (const char *)f.data, f.size, path, tokenizer, params, __func__);
  prism__file_close(&f);
  return rc;
}

uint64_t prism__train_fingerprint(const prism_pairs *s)
{
  uint64_t h = 0xcbf29ce484222325ull;
  const uint64_t prime = 0x100000001b3ull;
  for (size_t i = 0; i < s->n; i++) {
    const prism__train_item *it = &s->items[i];
    uint64_t shape[4] = { it->rows, it->src, it->tgt, it->has_mask };
    for (int k = 0; k < 4; k++)
      h = (h ^ shape[k]) * prime;
  }
  for (size_t i = 0; i < s->n_ids; i++)
    h = (h ^ (uint32_t)s->ids[i]) * prime;
  return h;
}
