/*
 * Encoding: special tokens split out first, then GPT-2's pre-tokenizer regex
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * matched by hand (leftmost-first, with a table for ASCII and the Unicode
 * general categories of common/unicode.c elsewhere), then byte-level BPE per
 * word through a per-thread word cache.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/limits.h"
#include "common/pool.h"
#include "common/unicode.h"
#include "tokenizer_internal.h"

enum { CL_L, CL_N, CL_S, CL_O }; /* letter, number, whitespace, other */

#define CACHE_SETS 8192 /* two ways each: 1 MiB per thread */
#define CACHE_KEY 26
#define CACHE_IDS 8
#define MAX_WORD ((size_t)1 << 30) /* symbol positions are int32 */

/* One cached word: its bytes and its ids, for the tokenizer with this tag. */
typedef struct cache_slot {
  uint32_t tag;
  uint8_t key_len, n_ids;
  char key[CACHE_KEY];
  int32_t ids[CACHE_IDS];
} cache_slot;

_Static_assert(sizeof(cache_slot) == 64, "a cache slot fills one cache line");

/*
 * Per-thread state: the word cache and BPE scratch. Keeping it per thread is
 * what lets a shared, read-only tokenizer cache without locks; the tag in each
 * slot keeps tokenizers used by the same thread apart.
 */
typedef struct workspace {
  cache_slot slots[CACHE_SETS][2];
  size_t cap; /* symbols the scratch arrays hold */
  int32_t *sym, *next, *prev, *batch;
  uint64_t *heap; /* 3 * cap entries: the initial pairs plus two per merge */
} workspace;

typedef struct sink {
  int32_t *ids;
  size_t cap, n;
} sink;

typedef struct enc {
  const prism_tokenizer *tok;
  workspace *ws;
  sink *out;
} enc;

static pthread_key_t ws_key;
static pthread_once_t ws_once = PTHREAD_ONCE_INIT;
static int ws_key_ok;

static void ws_free(void *p)
{
  workspace *ws = p;
  if (!ws)
    return;
  prism__free(ws->sym);
  prism__free(ws->next);
  prism__free(ws->prev);
  prism__free(ws->batch);
  prism__free(ws->heap);
  prism__free(ws);
}

static void ws_key_init(void)
{
  ws_key_ok = pthread_key_create(&ws_key, ws_free) == 0;
}

static int ws_get(workspace **out)
{
  workspace *ws;
  pthread_once(&ws_once, ws_key_init);
  if (!ws_key_ok)
    return prism__error(PRISM_ERR_INTERNAL, "cannot create the per-thread cache key");
  if ((ws = pthread_getspecific(ws_key)) == NULL) {
    if ((ws = prism__calloc(1, sizeof *ws)) == NULL)
      return PRISM_ERR_NO_MEMORY;
    if (pthread_setspecific(ws_key, ws) != 0) {
      prism__free(ws);
      return prism__error(PRISM_ERR_NO_MEMORY, "cannot store the per-thread cache");
    }
  }
  *out = ws;
  return PRISM_OK;
}

static int ws_reserve(workspace *ws, size_t n)
{
  size_t cap = ws->cap ? ws->cap : 64;
  int32_t *sym, *next, *prev, *batch;
  uint64_t *heap;

  if (n <= ws->cap)
    return PRISM_OK;
  while (cap < n)
    cap *= 2;
  sym = prism__realloc(ws->sym, cap * sizeof *sym);
  ws->sym = sym ? sym : ws->sym;
  next = prism__realloc(ws->next, cap * sizeof *next);
  ws->next = next ? next : ws->next;
  prev = prism__realloc(ws->prev, cap * sizeof *prev);
  ws->prev = prev ? prev : ws->prev;
  batch = prism__realloc(ws->batch, 3 * cap * sizeof *batch);
  ws->batch = batch ? batch : ws->batch;
  heap = prism__realloc(ws->heap, 3 * cap * sizeof *heap);
  ws->heap = heap ? heap : ws->heap;
  if (!sym || !next || !prev || !batch || !heap)
    return PRISM_ERR_NO_MEMORY;
  ws->cap = cap;
  return PRISM_OK;
}

static inline void sink_put(sink *s, int32_t id)
{
  if (s->n < s->cap)
    s->ids[s->n] = id;
  s->n++;
}

/* ---- character classes ---- */

static inline int ascii_class(unsigned c)
{
  if ((unsigned)((c | 32) - 'a') < 26)
    return CL_L;
  if ((unsigned)(c - '0') < 10)
    return CL_N;
  if (c == ' ' || (unsigned)(c - 9) < 5)
    return CL_S;
  return CL_O;
}

static int unicode_class(uint32_t cp)
{
  if (prism__tokenizer_white_space(cp))
    return CL_S;
  switch (prism__unicode_class(cp)) {
  case PRISM__UNICODE_LETTER:
    return CL_L;
  case PRISM__UNICODE_NUMBER:
    return CL_N;
  default:
    return CL_O;
  }
}

/* Class of the character at s[i] (valid UTF-8); *next is the index after it. */
static inline int class_at(const unsigned char *s, size_t len, size_t i, size_t *next)
{
  uint32_t cp;
  if (s[i] < 0x80) {
    *next = i + 1;
    return ascii_class(s[i]);
  }
  *next = i + prism__utf8_next(s + i, len - i, &cp);
  return unicode_class(cp);
}

/* End of the run of class `cls` that continues at i. */
static size_t run_end(const unsigned char *s, size_t len, size_t i, int cls)
{
  size_t next;
  while (i < len) {
    if (s[i] < 0x80) {
      if (ascii_class(s[i]) != cls)
        break;
      i++;
    } else {
      if (class_at(s, len, i, &next) != cls)
        break;
      i = next;
    }
  }
  return i;
}

/* Length of a contraction ('s 't 're 've 'm 'll 'd) at s, or 0. */
static size_t contraction(const unsigned char *s, size_t len)
{
  if (len < 2 || s[0] != '\'')
    return 0;
  if (s[1] == 's' || s[1] == 't' || s[1] == 'm' || s[1] == 'd')
    return 2;
  if (len >= 3 && ((s[1] == 'r' && s[2] == 'e') || (s[1] == 'v' && s[2] == 'e') ||
                   (s[1] == 'l' && s[2] == 'l')))
    return 3;
  return 0;
}

size_t prism__tokenizer_pretoken_end(const unsigned char *s, size_t len, size_t i)
{
  size_t j, k, last, end;
  int cls;

  if (s[i] == '\'' && (k = contraction(s + i, len - i)) != 0)
    return i + k;
  cls = class_at(s, len, i, &j);
  if (s[i] == ' ' && j < len) {
    int cls2 = class_at(s, len, j, &k);
    if (cls2 != CL_S)
      return run_end(s, len, k, cls2);
  }
  if (cls != CL_S)
    return run_end(s, len, j, cls);
  /* \s+(?!\S): a run followed by a non-space gives its last character to the next word. */
  for (last = i, end = j; end < len && class_at(s, len, end, &k) == CL_S; end = k)
    last = end;
  return end == len || last == i ? end : last;
}

/* ---- BPE ---- */

static void heap_push(uint64_t *heap, size_t *n, uint64_t v)
{
  size_t i = (*n)++;
  while (i > 0 && heap[(i - 1) / 2] > v) {
    heap[i] = heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  heap[i] = v;
}

static uint64_t heap_pop(uint64_t *heap, size_t *n)
{
  uint64_t top = heap[0], v = heap[--*n];
  size_t i = 0, c;
  while ((c = 2 * i + 1) < *n) {
    if (c + 1 < *n && heap[c + 1] < heap[c])
      c++;
    if (heap[c] >= v)
      break;
    heap[i] = heap[c];
    i = c;
  }
  heap[i] = v;
  return top;
}

static inline int32_t pair_rank(const prism_tokenizer *tok, int32_t a, int32_t b)
{
  const tok_merge *m = a >= 0 && b >= 0 ? tok_find_merge(tok, a, b) : NULL;
  return m ? m->rank : -1;
}

static void push_pair(const prism_tokenizer *tok, workspace *ws, size_t *n_heap, int32_t pos)
{
  int32_t next = ws->next[pos];
  int32_t rank = next >= 0 ? pair_rank(tok, ws->sym[pos], ws->sym[next]) : -1;
  if (rank >= 0)
    heap_push(ws->heap, n_heap, (uint64_t)rank << 32 | (uint32_t)pos);
}

/* Merge the pair starting at `pos` if it is still the pair of rank `rank`. */
static void merge_at(const prism_tokenizer *tok, workspace *ws, size_t *n_heap, int32_t pos,
                     int32_t rank)
{
  int32_t right = ws->next[pos];
  const tok_merge *m;

  if (ws->sym[pos] < 0 || right < 0)
    return;
  m = tok_find_merge(tok, ws->sym[pos], ws->sym[right]);
  if (!m || m->rank != rank)
    return;
  ws->sym[pos] = m->merged;
  ws->sym[right] = -2; /* removed */
  ws->next[pos] = ws->next[right];
  if (ws->next[right] >= 0)
    ws->prev[ws->next[right]] = pos;
  if (ws->prev[pos] >= 0)
    push_pair(tok, ws, n_heap, ws->prev[pos]);
  push_pair(tok, ws, n_heap, pos);
}

/*
 * HF's bpe() merges the lowest-ranked pair everywhere in the word, left to
 * right, then looks again. The heap pops every entry of the lowest rank before
 * merging any, so pairs created by this round wait for the next one, as there.
 */
static void bpe(const prism_tokenizer *tok, workspace *ws, const unsigned char *w, size_t n)
{
  size_t n_heap = 0, n_batch;

  for (size_t i = 0; i < n; i++) {
    ws->sym[i] = tok->byte_id[w[i]];
    ws->next[i] = i + 1 < n ? (int32_t)(i + 1) : -1;
    ws->prev[i] = (int32_t)i - 1;
  }
  for (size_t i = 0; i + 1 < n; i++)
    push_pair(tok, ws, &n_heap, (int32_t)i);
  while (n_heap > 0) {
    uint32_t rank = (uint32_t)(ws->heap[0] >> 32);
    for (n_batch = 0; n_heap > 0 && (uint32_t)(ws->heap[0] >> 32) == rank;)
      ws->batch[n_batch++] = (int32_t)(uint32_t)heap_pop(ws->heap, &n_heap);
    for (size_t b = 0; b < n_batch; b++)
      if (ws->sym[ws->batch[b]] != -2)
        merge_at(tok, ws, &n_heap, ws->batch[b], (int32_t)rank);
  }
}

static int unknown_byte(const prism_tokenizer *tok, int32_t *id, const unsigned char *w, size_t n)
{
  if (tok->special[PRISM_TOKENIZER_UNK] >= 0) {
    *id = tok->special[PRISM_TOKENIZER_UNK];
    return PRISM_OK;
  }
  for (size_t i = 0; i < n; i++)
    if (tok->byte_id[w[i]] < 0)
      return prism__error(PRISM_ERR_NOT_FOUND,
                          "text: byte 0x%02x has no token and the vocabulary has no <unk>", w[i]);
  return prism__error(PRISM_ERR_INTERNAL, "unresolved symbol");
}

/*
 * Look word w up in the cache: returns its slot on a hit; on a miss sets
 * *victim to the slot a result may replace (NULL when w is too long to cache).
 */
static const cache_slot *cache_find(workspace *ws, uint32_t tag, const unsigned char *w, size_t n,
                                    cache_slot **victim)
{
  uint64_t h;
  cache_slot *set;

  *victim = NULL;
  if (n > CACHE_KEY)
    return NULL;
  h = prism__tokenizer_hash_bytes(w, n);
  set = ws->slots[h & (CACHE_SETS - 1)];
  for (int way = 0; way < 2; way++)
    if (set[way].tag == tag && set[way].key_len == n && memcmp(set[way].key, w, n) == 0)
      return &set[way];
  *victim = set[0].tag == 0 ? &set[0] : &set[(h >> 40) & 1]; /* random replacement */
  return NULL;
}

static void cache_store(cache_slot *slot, uint32_t tag, const unsigned char *w, size_t n,
                        const int32_t *ids, size_t n_ids)
{
  slot->tag = tag;
  slot->key_len = (uint8_t)n;
  slot->n_ids = (uint8_t)n_ids;
  memcpy(slot->key, w, n);
  memcpy(slot->ids, ids, n_ids * sizeof *ids);
}

/* Run BPE on word w and emit its ids; the first CACHE_IDS also go to ids[]. */
static int bpe_word(const enc *e, const unsigned char *w, size_t n, int32_t *ids, size_t *n_ids)
{
  int rc;
  if (n > MAX_WORD)
    return prism__error(PRISM_ERR_LIMIT, "text: a word of %zu bytes exceeds the limit of %zu", n,
                        MAX_WORD);
  if ((rc = ws_reserve(e->ws, n)) != PRISM_OK)
    return rc;
  bpe(e->tok, e->ws, w, n);
  *n_ids = 0;
  for (int32_t i = 0; i >= 0; i = e->ws->next[i]) {
    int32_t id = e->ws->sym[i];
    if (id < 0 && (rc = unknown_byte(e->tok, &id, w, n)) != PRISM_OK)
      return rc;
    sink_put(e->out, id);
    if (*n_ids < CACHE_IDS)
      ids[*n_ids] = id;
    (*n_ids)++;
  }
  return PRISM_OK;
}

/* Emit the ids of word w (one pre-token), through the cache. */
static int encode_word(const enc *e, const unsigned char *w, size_t n)
{
  const prism_tokenizer *tok = e->tok;
  const cache_slot *hit;
  cache_slot *victim;
  int32_t ids[CACHE_IDS];
  size_t n_ids;
  int rc;

  if (n == 1 && tok->byte_id[w[0]] >= 0) {
    sink_put(e->out, tok->byte_id[w[0]]);
    return PRISM_OK;
  }
  if ((hit = cache_find(e->ws, tok->tag, w, n, &victim)) != NULL) {
    for (size_t i = 0; i < hit->n_ids; i++)
      sink_put(e->out, hit->ids[i]);
    return PRISM_OK;
  }
  if ((rc = bpe_word(e, w, n, ids, &n_ids)) != PRISM_OK)
    return rc;
  if (victim && n_ids <= CACHE_IDS)
    cache_store(victim, tok->tag, w, n, ids, n_ids);
  return PRISM_OK;
}

/* Pre-tokenize and encode text between special tokens. */
static int encode_chunk(const enc *e, const unsigned char *s, size_t len)
{
  size_t i = 0, end;
  int rc;
  while (i < len) {
    end = prism__tokenizer_pretoken_end(s, len, i);
    if ((rc = encode_word(e, s + i, end - i)) != PRISM_OK)
      return rc;
    i = end;
  }
  return PRISM_OK;
}

/* ---- special tokens inside text ---- */

/* The longest added token at s[i], or NULL. */
static const tok_added *added_at(const prism_tokenizer *tok, const unsigned char *s, size_t len,
                                 size_t i)
{
  const tok_added *best = NULL;
  for (size_t k = 0; k < tok->n_added; k++) {
    const tok_added *a = &tok->added[k];
    if (a->len <= len - i && (!best || a->len > best->len) && (unsigned char)a->text[0] == s[i] &&
        memcmp(a->text, s + i, a->len) == 0)
      best = a;
  }
  return best;
}

/* Is cp whitespace that an lstrip/rstrip added token absorbs, under the loader's rule? */
static int strip_space(const prism_tokenizer *tok, uint32_t cp)
{
  return tok->strip_white_space ? prism__tokenizer_white_space(cp)
                                : prism__tokenizer_py_isspace(cp);
}

/* str.lstrip()/rstrip() on a byte range of valid UTF-8. */
static size_t skip_space_fwd(const prism_tokenizer *tok, const unsigned char *s, size_t i,
                             size_t end)
{
  uint32_t cp;
  while (i < end) {
    size_t n = prism__utf8_next(s + i, end - i, &cp);
    if (!strip_space(tok, cp))
      break;
    i += n;
  }
  return i;
}

static size_t skip_space_back(const prism_tokenizer *tok, const unsigned char *s, size_t start,
                              size_t end)
{
  uint32_t cp;
  while (end > start) {
    size_t b = end - 1;
    while (b > start && (s[b] & 0xC0) == 0x80)
      b--;
    prism__utf8_next(s + b, end - b, &cp);
    if (!strip_space(tok, cp))
      break;
    end = b;
  }
  return end;
}

/*
 * HF cuts the text at added tokens (leftmost, longest), then strips the
 * whitespace a token with lstrip/rstrip absorbs from its neighbours.
 */
static int encode_text(const enc *e, const unsigned char *s, size_t len)
{
  const prism_tokenizer *tok = e->tok;
  const tok_added *a = NULL, *prev = NULL;
  size_t start = 0, i = 0, end;
  int rc;

  for (;;) {
    for (a = NULL; i < len && !(tok->added_first[s[i]] && (a = added_at(tok, s, len, i))); i++)
      ;
    end = i;
    if (a && a->lstrip)
      end = skip_space_back(tok, s, start, end);
    if (prev && prev->rstrip)
      start = skip_space_fwd(tok, s, start, end);
    if (start < end && (rc = encode_chunk(e, s + start, end - start)) != PRISM_OK)
      return rc;
    if (!a)
      return PRISM_OK;
    sink_put(e->out, a->id);
    i += a->len;
    start = i;
    prev = a;
  }
}

/* ---- entry points ---- */

/* One input text, owned copy when it had to change: U+FFFD for bad bytes, a prefix space. */
typedef struct text_in {
  const unsigned char *s;
  size_t len;
  unsigned char *owned;
} text_in;

static int text_prepare(const prism_tokenizer *tok, text_in *t, const char *text, size_t len,
                        unsigned flags, const char *what)
{
  const unsigned char *s = (const unsigned char *)text;
  uint64_t max_text = prism__limits().max_text_bytes;
  size_t bad, cap;
  uint32_t cp = 0;
  int prefix;

  t->s = s;
  t->len = len;
  t->owned = NULL;
  if (max_text && len > max_text)
    return prism__error(PRISM_ERR_LIMIT, "%s: %zu bytes of text, above the limit of %llu", what,
                        len, (unsigned long long)max_text);
  bad = prism__utf8_check(s, len);
  if (bad < len && !(flags & PRISM_TOKENIZER_REPLACE_INVALID))
    return prism__error(PRISM_ERR_INVALID_UTF8, "%s: invalid UTF-8 at byte %zu (0x%02x)", what, bad,
                        s[bad]);
  if (len)
    prism__utf8_next(s, len, &cp);
  prefix = tok->add_prefix_space && len > 0 && !prism__tokenizer_py_isspace(cp);
  if (bad == len && !prefix)
    return PRISM_OK;
  if (!prism__mul_ok(len, 3, &cap) || !prism__add_ok(cap, 1, &cap))
    return prism__error(PRISM_ERR_LIMIT, "%s: text too long", what);
  if ((t->owned = prism__malloc(cap)) == NULL)
    return PRISM_ERR_NO_MEMORY;
  t->owned[0] = ' ';
  t->len = (size_t)prefix + prism__utf8_lossy(t->owned + prefix, s, len);
  t->s = t->owned;
  return PRISM_OK;
}

/* Encode one text (no bos/eos) into e->out. */
static int encode_one(const enc *e, const char *text, size_t len, unsigned flags, const char *what)
{
  text_in t;
  int rc = text_prepare(e->tok, &t, text, len, flags, what);
  if (rc == PRISM_OK)
    rc = encode_text(e, t.s, t.len);
  prism__free(t.owned);
  return rc;
}

static void put_special(const enc *e, int which)
{
  if (e->tok->special[which] >= 0)
    sink_put(e->out, e->tok->special[which]);
}

/* `text_b` NULL encodes a single text. */
static int encode_seq(const enc *e, const char *text_a, size_t len_a, const char *text_b,
                      size_t len_b, unsigned flags)
{
  int specials = !(flags & PRISM_TOKENIZER_NO_SPECIAL);
  int rc;

  if (specials)
    put_special(e, PRISM_TOKENIZER_BOS);
  if ((rc = encode_one(e, text_a, len_a, flags, text_b ? "text_a" : "text")) != PRISM_OK)
    return rc;
  if (specials)
    put_special(e, PRISM_TOKENIZER_EOS);
  if (!text_b)
    return PRISM_OK;
  if (specials)
    put_special(e, PRISM_TOKENIZER_EOS);
  if ((rc = encode_one(e, text_b, len_b, flags, "text_b")) != PRISM_OK)
    return rc;
  if (specials)
    put_special(e, PRISM_TOKENIZER_EOS);
  return PRISM_OK;
}

static int enc_begin(enc *e, sink *out, const prism_tokenizer *tok, int32_t *ids, size_t capacity)
{
  out->ids = ids;
  out->cap = ids ? capacity : 0;
  out->n = 0;
  e->tok = tok;
  e->out = out;
  return ws_get(&e->ws);
}

static int enc_end(const sink *out, size_t *n_ids, int32_t *ids)
{
  *n_ids = out->n;
  if (ids && out->n > out->cap)
    return prism__error(PRISM_ERR_BUFFER_TOO_SMALL, "%zu ids do not fit a buffer of %zu", out->n,
                        out->cap);
  return PRISM_OK;
}

static int encode_api(int32_t *ids, size_t capacity, size_t *n_ids, const prism_tokenizer *tok,
                      const char *text_a, size_t len_a, const char *text_b, size_t len_b,
                      unsigned flags)
{
  enc e;
  sink out;
  int rc;

  if ((rc = enc_begin(&e, &out, tok, ids, capacity)) != PRISM_OK ||
      (rc = encode_seq(&e, text_a, len_a, text_b, len_b, flags)) != PRISM_OK)
    return rc;
  return enc_end(&out, n_ids, ids);
}

#define ENCODE_FLAGS (PRISM_TOKENIZER_NO_SPECIAL | PRISM_TOKENIZER_REPLACE_INVALID)
#define BATCH_FLAGS (ENCODE_FLAGS | PRISM_TOKENIZER_PARALLEL)

/* The checks of the public encode calls, then the encoding (text_b NULL: one sequence). */
static int encode_checked(const char *fn, int32_t *ids, size_t capacity, size_t *n_ids,
                          const prism_tokenizer *tok, const char *text_a, size_t len_a,
                          const char *text_b, size_t len_b, unsigned flags)
{
  if (!n_ids || (!ids && capacity) || !tok)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: n_ids and tok must not be NULL, nor ids unless capacity is 0", fn);
  if ((!text_a && len_a) || (!text_b && len_b))
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: a text may be NULL only when its length is 0", fn);
  if (flags & ~ENCODE_FLAGS)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: flags 0x%x has bits that are not PRISM_TOKENIZER_* encode flags", fn,
                        flags);
  return prism__error_at(
      fn, encode_api(ids, capacity, n_ids, tok, text_a ? text_a : "", len_a, text_b, len_b, flags));
}

int prism_tokenizer_encode(int32_t *ids, size_t capacity, size_t *n_ids, const prism_tokenizer *tok,
                           const char *text, size_t text_len, unsigned flags)
{
  return encode_checked(__func__, ids, capacity, n_ids, tok, text, text_len, NULL, 0, flags);
}

int prism_tokenizer_encode_pair(int32_t *ids, size_t capacity, size_t *n_ids,
                                const prism_tokenizer *tok, const char *text_a, size_t len_a,
                                const char *text_b, size_t len_b, unsigned flags)
{
  return encode_checked(__func__, ids, capacity, n_ids, tok, text_a, len_a, text_b ? text_b : "",
                        len_b, flags);
}

/* A batch's texts, shared by the serial and the parallel path. */
typedef struct batch_in {
  const prism_tokenizer *tok;
  const char *const *texts;
  const size_t *lens;
  size_t n;
  unsigned flags; /* without PRISM_TOKENIZER_PARALLEL */
} batch_in;

/* Encode text i into e->out; an error names the text, as in the serial loop. */
static int encode_batch_text(const enc *e, const batch_in *in, size_t i)
{
  int rc = encode_seq(e, in->texts[i] ? in->texts[i] : "", in->lens[i], NULL, 0, in->flags);
  return rc == PRISM_OK ? rc : prism__error_prefix("texts[%zu]: ", i);
}

static int encode_batch_serial(int32_t *ids, size_t capacity, size_t *n_ids, size_t *offsets,
                               const batch_in *in)
{
  enc e;
  sink out;
  int rc;

  if ((rc = enc_begin(&e, &out, in->tok, ids, capacity)) != PRISM_OK)
    return rc;
  for (size_t i = 0; i < in->n; i++) {
    offsets[i] = out.n;
    if ((rc = encode_batch_text(&e, in, i)) != PRISM_OK)
      return rc;
  }
  offsets[in->n] = out.n;
  return enc_end(&out, n_ids, ids);
}

/*
 * The parallel path. The texts are cut into blocks of about BLOCK_BYTES; every
 * thread of the pool (the caller included) claims the next unclaimed block
 * until none is left, so a thread the scheduler holds back delays nobody, and
 * encodes it into the block's own buffer (each thread has its own word cache;
 * the tokenizer is read-only). The caller then lays the blocks out in order.
 * Below PARALLEL_MIN_BYTES a batch stays on the caller: waking workers costs more.
 */
#define PARALLEL_MIN_BYTES ((size_t)1 << 16)
#define BLOCK_BYTES ((size_t)1 << 14)

typedef struct batch_block {
  size_t begin, end; /* its texts */
  int32_t *ids;      /* their ids, in text order (NULL when only counting) */
} batch_block;

typedef struct batch_job {
  const batch_in *in;
  int count_only;
  size_t *counts; /* per text: its number of ids (the caller's offsets + 1) */
  batch_block *blocks;
  size_t n_blocks;
  atomic_size_t next;   /* the next unclaimed block */
  pthread_mutex_t lock; /* guards the error below */
  size_t err_index;     /* the lowest failing text; in->n when none failed */
  int err_status;
  char err_msg[512];
} batch_job;

/* Keep the failure of the lowest text: the one the serial path would have reported. */
static void batch_fail(batch_job *job, size_t i, int status)
{
  pthread_mutex_lock(&job->lock);
  if (i < job->err_index) {
    job->err_index = i;
    job->err_status = status;
    snprintf(job->err_msg, sizeof job->err_msg, "%s",
             status == PRISM_ERR_NO_MEMORY ? "out of memory" : prism_last_error());
  }
  pthread_mutex_unlock(&job->lock);
}

/* Encode text i at the end of the block's buffer, growing it when the ids do not fit. */
static int block_text(enc *e, sink *out, const batch_in *in, size_t i, int32_t **buf, size_t *cap,
                      size_t used)
{
  for (;;) {
    int32_t *grown;
    size_t want;
    int rc;
    out->ids = *buf ? *buf + used : NULL;
    out->cap = *cap - used;
    out->n = 0;
    if ((rc = encode_batch_text(e, in, i)) != PRISM_OK)
      return rc;
    if (out->n <= out->cap)
      return PRISM_OK;
    want = *cap * 2 > used + out->n ? *cap * 2 : used + out->n;
    if (!(grown = prism__realloc(*buf, want * sizeof *grown)))
      return PRISM_ERR_NO_MEMORY;
    *buf = grown;
    *cap = want;
  }
}

static int encode_block(batch_job *job, enc *e, sink *out, batch_block *b)
{
  const batch_in *in = job->in;
  size_t used = 0, cap = 0;
  int rc = PRISM_OK;

  if (!job->count_only) {
    /* English BPE gives a token per 3 to 4 bytes: sized so that growing (which encodes the text
       that did not fit again) is rare. */
    for (size_t i = b->begin; i < b->end; i++)
      cap += in->lens[i] / 2 + 4;
    if (!(b->ids = prism__mallocn(cap, sizeof *b->ids))) {
      batch_fail(job, b->begin, PRISM_ERR_NO_MEMORY);
      return PRISM_ERR_NO_MEMORY;
    }
  }
  for (size_t i = b->begin; i < b->end && rc == PRISM_OK; i++) {
    if (job->count_only) {
      out->n = 0;
      rc = encode_batch_text(e, in, i);
    } else {
      rc = block_text(e, out, in, i, &b->ids, &cap, used);
    }
    job->counts[i] = out->n;
    used += out->n;
    if (rc != PRISM_OK)
      batch_fail(job, i, rc);
  }
  return rc;
}

static void batch_worker(void *ctx, size_t begin, size_t end)
{
  batch_job *job = ctx;
  enc e;
  sink out;
  size_t k;
  int rc = enc_begin(&e, &out, job->in->tok, NULL, 0);

  (void)begin;
  (void)end;
  while (rc == PRISM_OK && (k = atomic_fetch_add(&job->next, 1)) < job->n_blocks)
    rc = encode_block(job, &e, &out, &job->blocks[k]);
  if (rc != PRISM_OK && (k = atomic_fetch_add(&job->next, 0)) < job->n_blocks)
    batch_fail(job, job->blocks[k].begin, rc); /* no workspace: fail where this thread stopped */
}

/* Cut the texts into blocks of about BLOCK_BYTES; returns the count or 0 without memory. */
static size_t make_blocks(const batch_in *in, batch_block **out)
{
  size_t n = 0, bytes = 0;
  batch_block *b = prism__calloc(in->n, sizeof *b); /* at most one block per text */
  if (!b)
    return 0;
  for (size_t i = 0; i < in->n; i++) {
    if (bytes == 0)
      b[n].begin = i;
    bytes += in->lens[i] + 1;
    if (bytes >= BLOCK_BYTES || i + 1 == in->n) {
      b[n++].end = i + 1;
      bytes = 0;
    }
  }
  *out = b;
  return n;
}

static int encode_batch_parallel(int32_t *ids, size_t capacity, size_t *n_ids, size_t *offsets,
                                 const batch_in *in)
{
  batch_job job = { .in = in, .count_only = ids == NULL, .counts = offsets + 1 };
  size_t total;
  int rc = PRISM_OK;

  if ((job.n_blocks = make_blocks(in, &job.blocks)) == 0)
    return PRISM_ERR_NO_MEMORY;
  atomic_init(&job.next, 0);
  pthread_mutex_init(&job.lock, NULL);
  job.err_index = in->n;
  prism__parallel_for((size_t)prism_get_num_threads(), 1, batch_worker, &job);
  pthread_mutex_destroy(&job.lock);
  if (job.err_index < in->n)
    rc = prism__error(job.err_status, "%s", job.err_msg);
  offsets[0] = 0;
  for (size_t i = 0; i < in->n; i++)
    offsets[i + 1] += offsets[i];
  total = offsets[in->n];
  for (size_t k = 0; k < job.n_blocks; k++) {
    const batch_block *b = &job.blocks[k];
    if (rc == PRISM_OK && b->ids && total <= capacity)
      memcpy(ids + offsets[b->begin], b->ids, (offsets[b->end] - offsets[b->begin]) * sizeof *ids);
    prism__free(b->ids);
  }
  prism__free(job.blocks);
  if (rc != PRISM_OK)
    return rc;
  sink out = { ids, ids ? capacity : 0, total };
  return enc_end(&out, n_ids, ids);
}

static int encode_batch(int32_t *ids, size_t capacity, size_t *n_ids, size_t *offsets,
                        const prism_tokenizer *tok, const char *const *texts,
                        const size_t *text_lens, size_t n_texts, unsigned flags)
{
  batch_in in = { tok, texts, text_lens, n_texts, flags & ~(unsigned)PRISM_TOKENIZER_PARALLEL };
  size_t bytes = 0;

  for (size_t i = 0; i < n_texts; i++) {
    if (!texts[i] && text_lens[i])
      return prism__error(PRISM_ERR_INVALID_ARGUMENT, "texts[%zu] is NULL, text_lens[%zu] is %zu",
                          i, i, text_lens[i]);
    bytes = text_lens[i] > SIZE_MAX - bytes ? SIZE_MAX : bytes + text_lens[i];
  }
  if ((flags & PRISM_TOKENIZER_PARALLEL) && n_texts > 1 && bytes >= PARALLEL_MIN_BYTES &&
      prism_get_num_threads() > 1)
    return encode_batch_parallel(ids, capacity, n_ids, offsets, &in);
  return encode_batch_serial(ids, capacity, n_ids, offsets, &in);
}

int prism_tokenizer_encode_batch(int32_t *ids, size_t capacity, size_t *n_ids, size_t *offsets,
                                 const prism_tokenizer *tok, const char *const *texts,
                                 const size_t *text_lens, size_t n_texts, unsigned flags)
{
  PRISM__CHECK_ARG(n_ids != NULL && tok != NULL, "n_ids and tok must not be NULL");
  PRISM__CHECK_ARG(ids || capacity == 0, "ids must not be NULL unless capacity is 0");
  PRISM__CHECK_ARG((flags & ~BATCH_FLAGS) == 0, "flags must be PRISM_TOKENIZER_* encode flags");
  PRISM__CHECK_ARG(offsets != NULL, "offsets must not be NULL");
  PRISM__CHECK_ARG((texts && text_lens) || n_texts == 0,
                   "texts and text_lens must not be NULL (unless n_texts is 0)");
  return prism__error_at(
      __func__, encode_batch(ids, capacity, n_ids, offsets, tok, texts, text_lens, n_texts, flags));
}

const char *prism_tokenizer_unicode_version(void)
{
  return prism__unicode_version();
}
