/*
 * The BPE trainer's second half: learning merges with the rules of
 * HuggingFace tokenizers' BpeTrainer (models/bpe/trainer.rs and word.rs), so
 * that the same words give the same vocab.json and merges.txt.
 *
 * Vocabulary: the special tokens in the order given, then the alphabet sorted
 * by code point, then each merge's token when its string is new.
 *
 * Pair counts are kept incrementally, as HF keeps them: merging (a, b) in a
 * word takes the word's count from the pairs it destroys on either side and
 * gives it to the pairs it creates; the occurrences of (a, b) itself are never
 * subtracted. A priority queue holds one entry per pair and per round in which
 * the pair gained occurrences, each with the words where it gained them (the
 * first entries come from counting every word). The best entry has the highest
 * count, then the smallest (left id, right id), then the earliest push. An
 * entry whose count is out of date is pushed again with the current count; a
 * current one is merged in its own words only, and the words' new pairs become
 * new entries. Learning stops at vocab_size entries, or when the best count is
 * below 1 or below min_frequency. A pair merged twice (its token's string was
 * produced again by another pair) is written once, at its last rank.
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/json.h"
#include "tokenizer_internal.h"

#define PROGRESS_STEPS 100

/* ---- vocabulary: id -> string, string -> id ---- */

typedef struct vocab {
  char *arena;
  size_t arena_len, arena_cap;
  size_t *off;
  uint32_t *len;
  int32_t n, cap;
  int32_t *table; /* open addressing over strings -> id, -1 empty */
  size_t mask;
} vocab;

static void vocab_free(vocab *v)
{
  prism__free(v->arena);
  prism__free(v->off);
  prism__free(v->len);
  prism__free(v->table);
}

static int32_t vocab_find(const vocab *v, const char *s, size_t len)
{
  size_t i = (size_t)prism__tokenizer_hash_bytes(s, len) & v->mask;
  for (; v->table[i] >= 0; i = (i + 1) & v->mask) {
    int32_t id = v->table[i];
    if (v->len[id] == len && memcmp(v->arena + v->off[id], s, len) == 0)
      return id;
  }
  return -1;
}

static void vocab_insert(vocab *v, int32_t id)
{
  size_t i = (size_t)prism__tokenizer_hash_bytes(v->arena + v->off[id], v->len[id]) & v->mask;
  while (v->table[i] >= 0)
    i = (i + 1) & v->mask;
  v->table[i] = id;
}

/* Append a new string (not yet present); its id is v->n - 1 afterwards. */
static int vocab_add(vocab *v, const char *s, size_t len)
{
  size_t cap = (size_t)v->cap;
  if (len > UINT32_MAX)
    return prism__error(PRISM_ERR_LIMIT, "tokenizer trainer: a token of %zu bytes", len);
  if (prism__tokenizer_grow((void **)&v->arena, &v->arena_cap, v->arena_len + len + 1, 1) !=
      PRISM_OK)
    return PRISM_ERR_NO_MEMORY;
  if (v->n == v->cap) {
    if (prism__tokenizer_grow((void **)&v->off, &cap, (size_t)v->n + 1, sizeof *v->off) != PRISM_OK)
      return PRISM_ERR_NO_MEMORY;
    cap = (size_t)v->cap;
    if (prism__tokenizer_grow((void **)&v->len, &cap, (size_t)v->n + 1, sizeof *v->len) != PRISM_OK)
      return PRISM_ERR_NO_MEMORY;
    v->cap = (int32_t)cap;
  }
  if (2 * ((size_t)v->n + 1) > v->mask + 1) {
    size_t slots = v->table ? 2 * (v->mask + 1) : 1024;
    int32_t *t = prism__mallocn(slots, sizeof *t);
    if (!t)
      return PRISM_ERR_NO_MEMORY;
    memset(t, 0xff, slots * sizeof *t);
    prism__free(v->table);
    v->table = t;
    v->mask = slots - 1;
    for (int32_t id = 0; id < v->n; id++)
      vocab_insert(v, id);
  }
  v->off[v->n] = v->arena_len;
  v->len[v->n] = (uint32_t)len;
  memcpy(v->arena + v->arena_len, s, len);
  v->arena[v->arena_len + len] = '\0';
  v->arena_len += len + 1;
  vocab_insert(v, v->n++);
  return PRISM_OK;
}

/* ---- pairs: counts and the words that gained them this round ---- */

typedef struct pair_info {
  int64_t count;
  int32_t a, b;
  int32_t *gained; /* words where the pair appeared this round (HF where_to_update) */
  uint32_t n_gained, cap_gained;
  int32_t last_rank; /* the pair's last merge, -1 when never merged */
} pair_info;

/* A queue entry (HF's Merge): a pair, a count and the words to merge it in. */
typedef struct entry {
  uint64_t count;
  uint64_t seq;
  int32_t a, b;
  uint32_t pair;
  uint32_t n_pos;
  int32_t *pos;
} entry;

typedef struct learner {
  vocab v;
  const tok_wordtab *src;
  /* words as symbol ids */
  int32_t *sym;
  size_t *word_off;
  uint32_t *word_len;
  uint64_t *word_count;
  size_t n_words;
  /* pairs */
  pair_info *pairs;
  size_t n_pairs, cap_pairs;
  uint32_t *pair_slots; /* pair index + 1; 0 empty */
  size_t pair_mask;
  uint32_t *dirty; /* pairs that gained words this round */
  size_t n_dirty, cap_dirty;
  /* queue */
  entry *heap;
  size_t n_heap, cap_heap;
  uint64_t seq;
  /* merges in order: left, right, result */
  int32_t *merges;
  size_t n_merges, cap_merges;
  int32_t alphabet_size;
} learner;

static uint64_t pair_hash(int32_t a, int32_t b)
{
  return tok_hash64(tok_pair_key(a, b));
}

static int pairs_rehash(learner *L, size_t slots)
{
  uint32_t *s = prism__calloc(slots, sizeof *s);
  if (!s)
    return PRISM_ERR_NO_MEMORY;
  for (size_t p = 0; p < L->n_pairs; p++) {
    size_t i = (size_t)pair_hash(L->pairs[p].a, L->pairs[p].b) & (slots - 1);
    while (s[i])
      i = (i + 1) & (slots - 1);
    s[i] = (uint32_t)p + 1;
  }
  prism__free(L->pair_slots);
  L->pair_slots = s;
  L->pair_mask = slots - 1;
  return PRISM_OK;
}

/* The index of pair (a, b), created with count 0 when new; -1 when out of memory. */
static int64_t pair_get(learner *L, int32_t a, int32_t b)
{
  size_t i = (size_t)pair_hash(a, b) & L->pair_mask;
  for (; L->pair_slots[i]; i = (i + 1) & L->pair_mask) {
    const pair_info *p = &L->pairs[L->pair_slots[i] - 1];
    if (p->a == a && p->b == b)
      return L->pair_slots[i] - 1;
  }
  if (L->n_pairs >= UINT32_MAX - 1 ||
      prism__tokenizer_grow((void **)&L->pairs, &L->cap_pairs, L->n_pairs + 1, sizeof *L->pairs) !=
          PRISM_OK)
    return -1;
  L->pairs[L->n_pairs] = (pair_info){ 0, a, b, NULL, 0, 0, -1 };
  L->pair_slots[i] = (uint32_t)++L->n_pairs;
  if (2 * L->n_pairs > L->pair_mask && pairs_rehash(L, 2 * (L->pair_mask + 1)) != PRISM_OK)
    return -1;
  return (int64_t)L->n_pairs - 1;
}

/* Record that word w holds pair p this round (once per word: words are visited one at a time). */
static int pair_gain(learner *L, uint32_t p, int32_t w)
{
  pair_info *x = &L->pairs[p];
  size_t cap = x->cap_gained;
  if (x->n_gained && x->gained[x->n_gained - 1] == w)
    return PRISM_OK;
  if (x->n_gained == 0 && prism__tokenizer_grow((void **)&L->dirty, &L->cap_dirty, L->n_dirty + 1,
                                                sizeof *L->dirty) != PRISM_OK)
    return PRISM_ERR_NO_MEMORY;
  if (x->n_gained == 0)
    L->dirty[L->n_dirty++] = p;
  if (x->n_gained == UINT32_MAX ||
      prism__tokenizer_grow((void **)&x->gained, &cap, (size_t)x->n_gained + 1,
                            sizeof *x->gained) != PRISM_OK)
    return PRISM_ERR_NO_MEMORY;
  x->cap_gained = (uint32_t)cap;
  x->gained[x->n_gained++] = w;
  return PRISM_OK;
}

/* pair_counts[(a, b)] += delta; a positive change also records the word. */
static int pair_change(learner *L, int32_t a, int32_t b, int64_t delta, int32_t w)
{
  int64_t p = pair_get(L, a, b);
  if (p < 0)
    return PRISM_ERR_NO_MEMORY;
  L->pairs[p].count += delta;
  return delta > 0 ? pair_gain(L, (uint32_t)p, w) : PRISM_OK;
}

/* ---- the queue ---- */

/* 1 when x comes out of the queue before y. */
static int entry_first(const entry *x, const entry *y)
{
  if (x->count != y->count)
    return x->count > y->count;
  if (x->a != y->a)
    return x->a < y->a;
  if (x->b != y->b)
    return x->b < y->b;
  return x->seq < y->seq;
}

static int heap_push(learner *L, entry e)
{
  size_t i;
  if (prism__tokenizer_grow((void **)&L->heap, &L->cap_heap, L->n_heap + 1, sizeof *L->heap) !=
      PRISM_OK)
    return PRISM_ERR_NO_MEMORY;
  e.seq = L->seq++;
  for (i = L->n_heap++; i > 0 && entry_first(&e, &L->heap[(i - 1) / 2]); i = (i - 1) / 2)
    L->heap[i] = L->heap[(i - 1) / 2];
  L->heap[i] = e;
  return PRISM_OK;
}

static entry heap_pop(learner *L)
{
  entry top = L->heap[0], last = L->heap[--L->n_heap];
  size_t i = 0, c;
  while ((c = 2 * i + 1) < L->n_heap) {
    if (c + 1 < L->n_heap && entry_first(&L->heap[c + 1], &L->heap[c]))
      c++;
    if (!entry_first(&L->heap[c], &last))
      break;
    L->heap[i] = L->heap[c];
    i = c;
  }
  L->heap[i] = last;
  return top;
}

/* Queue every pair that gained words this round with its current count (HF: count > 0). */
static int flush_dirty(learner *L)
{
  int rc = PRISM_OK;
  for (size_t d = 0; d < L->n_dirty; d++) {
    pair_info *x = &L->pairs[L->dirty[d]];
    entry e = { (uint64_t)x->count, 0, x->a, x->b, L->dirty[d], x->n_gained, x->gained };
    x->gained = NULL;
    x->n_gained = x->cap_gained = 0;
    if (rc == PRISM_OK && e.count > 0 && x->count > 0 && (rc = heap_push(L, e)) == PRISM_OK)
      continue;
    prism__free(e.pos);
  }
  L->n_dirty = 0;
  return rc;
}

/* ---- setup: alphabet, words, first pair counts ---- */

static int add_specials(learner *L, const prism_tokenizer_trainer *t)
{
  int rc = PRISM_OK;
  L->v.table = prism__mallocn(1024, sizeof *L->v.table);
  if (!L->v.table)
    return PRISM_ERR_NO_MEMORY;
  memset(L->v.table, 0xff, 1024 * sizeof *L->v.table);
  L->v.mask = 1023;
  for (size_t i = 0; rc == PRISM_OK && i < t->params.n_special_tokens; i++) {
    const char *s = t->specials[i];
    if (vocab_find(&L->v, s, strlen(s)) < 0)
      rc = vocab_add(&L->v, s, strlen(s));
  }
  return rc;
}

typedef struct alpha_entry {
  uint64_t count;
  uint32_t cp;
  int byte;
} alpha_entry;

/* Rarest first; among equal counts the larger code point first (HF leaves that order open). */
static int alpha_by_count(const void *x, const void *y)
{
  const alpha_entry *a = x, *b = y;
  if (a->count != b->count)
    return a->count < b->count ? -1 : 1;
  return a->cp > b->cp ? -1 : 1;
}

static int alpha_by_cp(const void *x, const void *y)
{
  const alpha_entry *a = x, *b = y;
  return a->cp < b->cp ? -1 : a->cp > b->cp;
}

/* HF compute_alphabet: byte symbols seen (or all 256), the rarest dropped past limit_alphabet. */
static int add_alphabet(learner *L, const prism_tokenizer_trainer *t)
{
  alpha_entry a[256];
  uint64_t seen[256] = { 0 };
  size_t n = 0, keep;
  const tok_wordtab *W = &t->words;

  for (size_t w = 0; w < W->n; w++)
    for (uint32_t i = 0; i < W->words[w].len; i++) {
      uint64_t *c = &seen[W->bytes[W->words[w].off + i]];
      *c = *c > UINT64_MAX - W->words[w].count ? UINT64_MAX : *c + W->words[w].count;
    }
  for (int b = 0; b < 256; b++) {
    if (!t->params.corpus_alphabet)
      seen[b] = UINT64_MAX;
    if (seen[b])
      a[n++] = (alpha_entry){ seen[b], prism__tokenizer_byte_char((unsigned)b), b };
  }
  keep = n;
  if (t->params.limit_alphabet != PRISM_UNSET && (size_t)t->params.limit_alphabet < n) {
    qsort(a, n, sizeof *a, alpha_by_count);
    keep = (size_t)t->params.limit_alphabet;
    memmove(a, a + (n - keep), keep * sizeof *a);
  }
  qsort(a, keep, sizeof *a, alpha_by_cp);
  for (size_t i = 0; i < keep; i++) {
    unsigned char utf8[4];
    size_t len = prism__utf8_put(utf8, a[i].cp);
    int rc;
    if (vocab_find(&L->v, (const char *)utf8, len) >= 0)
      continue;
    if ((rc = vocab_add(&L->v, (const char *)utf8, len)) != PRISM_OK)
      return rc;
    L->alphabet_size++;
  }
  return PRISM_OK;
}

/* HF tokenize_words: each byte becomes the id of its symbol's string; bytes without one drop. */
static int split_words(learner *L)
{
  const tok_wordtab *W = L->src;
  int32_t byte_id[256];
  size_t total = 0;

  if (W->n > INT32_MAX)
    return prism__error(PRISM_ERR_LIMIT, "tokenizer trainer: %zu distinct words, above %d", W->n,
                        INT32_MAX);
  for (int b = 0; b < 256; b++) {
    unsigned char utf8[4];
    size_t len = prism__utf8_put(utf8, prism__tokenizer_byte_char((unsigned)b));
    byte_id[b] = vocab_find(&L->v, (const char *)utf8, len);
  }
  L->n_words = W->n;
  L->word_off = prism__mallocn(W->n + 1, sizeof *L->word_off);
  L->word_len = prism__mallocn(W->n + 1, sizeof *L->word_len);
  L->word_count = prism__mallocn(W->n + 1, sizeof *L->word_count);
  L->sym = prism__mallocn(W->bytes_len + 1, sizeof *L->sym);
  if (!L->word_off || !L->word_len || !L->word_count || !L->sym)
    return PRISM_ERR_NO_MEMORY;
  /* Words are visited in the table's order, which depends on how counting was split across
     threads; nothing below depends on that order (sums and sets), so neither do the files. */
  for (size_t w = 0; w < W->n; w++) {
    const unsigned char *s = W->bytes + W->words[w].off;
    L->word_off[w] = total;
    L->word_count[w] = W->words[w].count;
    for (uint32_t i = 0; i < W->words[w].len; i++)
      if (byte_id[s[i]] >= 0)
        L->sym[total++] = byte_id[s[i]];
    L->word_len[w] = (uint32_t)(total - L->word_off[w]);
  }
  return PRISM_OK;
}

/* HF count_pairs: every adjacent pair, with the words holding it as the first entries. */
static int count_pairs(learner *L, prism_tokenizer_trainer_progress_fn progress, void *payload)
{
  size_t step = L->n_words / PROGRESS_STEPS + 1;
  if (pairs_rehash(L, 1024) != PRISM_OK)
    return PRISM_ERR_NO_MEMORY;
  for (size_t w = 0; w < L->n_words; w++) {
    const int32_t *s = L->sym + L->word_off[w];
    for (uint32_t i = 0; i + 1 < L->word_len[w]; i++)
      if (pair_change(L, s[i], s[i + 1], (int64_t)L->word_count[w], (int32_t)w) != PRISM_OK)
        return PRISM_ERR_NO_MEMORY;
    if (progress && (w + 1) % step == 0 &&
        !progress(PRISM_TOKENIZER_TRAINER_WORDS, w + 1, L->n_words, payload))
      return PRISM_ERR_CANCELLED;
  }
  return flush_dirty(L);
}

/* ---- merging ---- */

/*
 * HF Word::merge: scan left to right; at each (a, b) the pair left of it
 * (already merged symbols) and right of it (not yet scanned) lose the word's
 * count and their replacements with `c` gain it.
 */
static int merge_word(learner *L, int32_t w, int32_t a, int32_t b, int32_t c)
{
  int32_t *s = L->sym + L->word_off[w];
  uint32_t n = L->word_len[w], r = 0, o = 0;
  int64_t count = (int64_t)L->word_count[w];
  int rc = PRISM_OK;

  while (r < n) {
    if (s[r] != a || r + 1 >= n || s[r + 1] != b) {
      s[o++] = s[r++];
      continue;
    }
    if (o > 0 && ((rc = pair_change(L, s[o - 1], a, -count, w)) != PRISM_OK ||
                  (rc = pair_change(L, s[o - 1], c, count, w)) != PRISM_OK))
      return rc;
    if (r + 2 < n && ((rc = pair_change(L, b, s[r + 2], -count, w)) != PRISM_OK ||
                      (rc = pair_change(L, c, s[r + 2], count, w)) != PRISM_OK))
      return rc;
    s[o++] = c;
    r += 2;
  }
  L->word_len[w] = o;
  return PRISM_OK;
}

/* The id of left + right, added to the vocabulary when new. */
static int merged_token(learner *L, int32_t a, int32_t b, int32_t *id)
{
  size_t la = L->v.len[a], lb = L->v.len[b];
  char *buf = prism__malloc(la + lb + 1);
  int rc = PRISM_OK;
  if (!buf)
    return PRISM_ERR_NO_MEMORY;
  memcpy(buf, L->v.arena + L->v.off[a], la);
  memcpy(buf + la, L->v.arena + L->v.off[b], lb);
  if ((*id = vocab_find(&L->v, buf, la + lb)) < 0 &&
      (rc = vocab_add(&L->v, buf, la + lb)) == PRISM_OK)
    *id = L->v.n - 1;
  prism__free(buf);
  return rc;
}

static int apply_merge(learner *L, entry *top)
{
  int32_t c;
  int rc = merged_token(L, top->a, top->b, &c);
  if (rc != PRISM_OK)
    return rc;
  if (L->n_merges >= INT32_MAX ||
      prism__tokenizer_grow((void **)&L->merges, &L->cap_merges, 3 * (L->n_merges + 1),
                            sizeof *L->merges) != PRISM_OK)
    return PRISM_ERR_NO_MEMORY;
  L->merges[3 * L->n_merges] = top->a;
  L->merges[3 * L->n_merges + 1] = top->b;
  L->merges[3 * L->n_merges + 2] = c;
  L->pairs[top->pair].last_rank = (int32_t)L->n_merges++;
  for (uint32_t i = 0; i < top->n_pos; i++)
    if ((rc = merge_word(L, top->pos[i], top->a, top->b, c)) != PRISM_OK)
      return rc;
  return flush_dirty(L);
}

static int learn_merges(learner *L, int64_t vocab_size, uint64_t min_frequency,
                        prism_tokenizer_trainer_progress_fn progress, void *payload)
{
  int32_t start = L->v.n;
  uint64_t total = (uint64_t)(vocab_size - start), step = total / PROGRESS_STEPS + 1, reported = 0;
  int rc = PRISM_OK;

  while (rc == PRISM_OK && L->v.n < vocab_size && L->n_heap > 0) {
    entry top = heap_pop(L);
    uint64_t current = (uint64_t)L->pairs[top.pair].count;
    if (top.count != current) {
      top.count = current;
      if ((rc = heap_push(L, top)) != PRISM_OK)
        prism__free(top.pos);
      continue;
    }
    if (top.count < 1 || min_frequency > top.count) {
      prism__free(top.pos);
      break;
    }
    rc = apply_merge(L, &top);
    prism__free(top.pos);
    if (rc == PRISM_OK && progress && (uint64_t)(L->v.n - start) >= reported + step) {
      reported = (uint64_t)(L->v.n - start);
      if (!progress(PRISM_TOKENIZER_TRAINER_MERGES, reported, total, payload))
        rc = PRISM_ERR_CANCELLED;
    }
  }
  if (rc == PRISM_OK && progress &&
      !progress(PRISM_TOKENIZER_TRAINER_MERGES, (uint64_t)(L->v.n - start), total, payload))
    rc = PRISM_ERR_CANCELLED;
  return rc;
}

/* ---- output ---- */

/* vocab.json as HF writes it: one object, ids in order, no spaces, no final newline. */
static int write_vocab(tok_learned *out, const learner *L)
{
  json_t *obj = json_object();
  int rc = obj ? PRISM_OK : PRISM_ERR_NO_MEMORY;
  for (int32_t id = 0; rc == PRISM_OK && id < L->v.n; id++)
    if (json_object_set_new(obj, L->v.arena + L->v.off[id], json_integer(id)) != 0)
      rc = PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK && !(out->vocab_json = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER)))
    rc = PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK)
    out->vocab_len = strlen(out->vocab_json);
  json_decref(obj);
  return rc;
}

/* merges.txt: "#version: 0.2", then "left right" per pair at its last rank. */
static int write_merges(tok_learned *out, learner *L)
{
  static const char header[] = "#version: 0.2\n";
  size_t size = sizeof header, pos = sizeof header - 1;
  int32_t n = 0;

  for (size_t m = 0; m < L->n_merges; m++)
    size += L->v.len[L->merges[3 * m]] + L->v.len[L->merges[3 * m + 1]] + 2;
  if (!(out->merges_txt = prism__malloc(size)))
    return PRISM_ERR_NO_MEMORY;
  memcpy(out->merges_txt, header, pos);
  for (size_t m = 0; m < L->n_merges; m++) {
    int32_t a = L->merges[3 * m], b = L->merges[3 * m + 1];
    if (L->pairs[pair_get(L, a, b)].last_rank != (int32_t)m)
      continue;
    memcpy(out->merges_txt + pos, L->v.arena + L->v.off[a], L->v.len[a]);
    pos += L->v.len[a];
    out->merges_txt[pos++] = ' ';
    memcpy(out->merges_txt + pos, L->v.arena + L->v.off[b], L->v.len[b]);
    pos += L->v.len[b];
    out->merges_txt[pos++] = '\n';
    n++;
  }
  out->merges_txt[pos] = '\0';
  out->merges_len = pos;
  out->stats.merges = n;
  return PRISM_OK;
}

static void learner_free(learner *L)
{
  vocab_free(&L->v);
  prism__free(L->sym);
  prism__free(L->word_off);
  prism__free(L->word_len);
  prism__free(L->word_count);
  for (size_t p = 0; p < L->n_pairs; p++)
    prism__free(L->pairs[p].gained);
  prism__free(L->pairs);
  prism__free(L->pair_slots);
  prism__free(L->dirty);
  for (size_t i = 0; i < L->n_heap; i++)
    prism__free(L->heap[i].pos);
  prism__free(L->heap);
  prism__free(L->merges);
}

void prism__tokenizer_learned_free(tok_learned *l)
{
  if (!l)
    return;
  free(l->vocab_json); /* from json_dumps */
  prism__free(l->merges_txt);
  memset(l, 0, sizeof *l);
}

static int learn(tok_learned *out, learner *L, const prism_tokenizer_trainer *t,
                 prism_tokenizer_trainer_progress_fn progress, void *payload, const char *fn)
{
  const prism_tokenizer_trainer_params *p = &t->params;
  int rc;

  if ((rc = add_specials(L, t)) != PRISM_OK || (rc = add_alphabet(L, t)) != PRISM_OK)
    return rc;
  if (L->v.n > p->vocab_size)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: vocab_size %d is smaller than the %d special tokens plus the %d "
                        "alphabet symbols",
                        fn, (int)p->vocab_size, (int)(L->v.n - L->alphabet_size),
                        (int)L->alphabet_size);
  if (progress && !progress(PRISM_TOKENIZER_TRAINER_WORDS, 0, L->src->n, payload))
    return PRISM_ERR_CANCELLED;
  if ((rc = split_words(L)) != PRISM_OK || (rc = count_pairs(L, progress, payload)) != PRISM_OK)
    return rc;
  if (progress && !progress(PRISM_TOKENIZER_TRAINER_WORDS, L->src->n, L->src->n, payload))
    return PRISM_ERR_CANCELLED;
  if ((rc = learn_merges(L, p->vocab_size, (uint64_t)p->min_frequency, progress, payload)) !=
          PRISM_OK ||
      (rc = write_vocab(out, L)) != PRISM_OK || (rc = write_merges(out, L)) != PRISM_OK)
    return rc;
  out->stats.struct_size = sizeof out->stats;
  out->stats.words = L->src->total;
  out->stats.unique_words = L->src->n;
  out->stats.alphabet_size = L->alphabet_size;
  out->stats.vocab_size = L->v.n;
  return PRISM_OK;
}

int prism__tokenizer_learn(tok_learned *out, const prism_tokenizer_trainer *t,
                           prism_tokenizer_trainer_progress_fn progress, void *payload,
                           const char *fn)
{
  learner L;
  int rc;

  memset(&L, 0, sizeof L);
  memset(out, 0, sizeof *out);
  L.src = &t->words;
  rc = learn(out, &L, t, progress, payload, fn);
  learner_free(&L);
  if (rc == PRISM_ERR_CANCELLED)
    rc = prism__error(rc, "%s: cancelled by the progress callback", fn);
  else if (rc == PRISM_ERR_NO_MEMORY)
    rc = prism__error(rc, "%s: out of memory while learning merges", fn);
  if (rc != PRISM_OK)
    prism__tokenizer_learned_free(out);
  return rc;
}
