/*
 * One (reference, hypothesis) pair: the clipped n-gram counts of BLEU and the
 * sentence scores of ROUGE-1, ROUGE-2 and ROUGE-L, with the semantics of the
 * tensorflow/nmt scripts PETER uses (docs/metrics.md).
 *
 * Tokens are interned to small ids per pair (exact byte comparison), n-grams
 * of order k to ids from (id of the (k-1)-gram, id of the last token), so
 * every comparison is exact and each order costs O(n + m). The LCS runs
 * bit-parallel over the reference (O(n * m / 64)).
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "metrics_internal.h"

/* Bit-parallel LCS while its match masks stay under this many words (8 MB). */
#define MASK_WORDS_MAX ((size_t)1 << 20)
/* Direct n-gram tables up to this many cells (8 MB); larger vocabularies hash. */
#define DIRECT_CELLS_MAX ((size_t)1 << 20)

static int reserve(void **p, size_t *cap, size_t count, size_t elem)
{
  void *q;
  size_t bytes;
  if (count <= *cap)
    return PRISM_OK;
  if (!prism__mul_ok(count, elem, &bytes))
    return PRISM_ERR_NO_MEMORY;
  q = prism__realloc(*p, bytes);
  if (!q)
    return PRISM_ERR_NO_MEMORY;
  *p = q;
  *cap = count;
  return PRISM_OK;
}

static size_t table_size(size_t items)
{
  size_t p = 16;
  while (p < 2 * items)
    p *= 2;
  return p;
}

/*
 * The intern table holds (key, stamp << 32 | id + 1) pairs; a slot whose stamp
 * is not the current one is empty, so a new use costs no clearing.
 */
static void table_next_use(prism__metrics_scratch *s)
{
  if (++s->stamp == 0) {
    memset(s->slots, 0, s->slots_cap * sizeof *s->slots);
    s->stamp = 1;
  }
}

/* Whether slot j is in use, and its id (+ 1). */
#define SLOT_LIVE(s, j) ((uint32_t)((s)->slots[2 * (j) + 1] >> 32) == (s)->stamp)
#define SLOT_ID(s, j) ((uint32_t)(s)->slots[2 * (j) + 1] - 1)
#define SLOT_SET(s, j, key, id) \
  ((s)->slots[2 * (j)] = (key), (s)->slots[2 * (j) + 1] = (uint64_t)(s)->stamp << 32 | ((id) + 1))

/*
 * Unigram ids: ids1[0, m) for the reference, ids1[m, m + n) for the
 * hypothesis, keyed by the tokens' hashes (kept in s->hash) and checked byte
 * for byte. Returns the number of distinct tokens.
 */
static uint32_t intern_tokens(prism__metrics_scratch *s, const prism__metrics_tokens *ref,
                              const prism__metrics_tokens *hyp, size_t mask)
{
  const prism__metrics_span *rep[2] = { ref->tok, hyp->tok };
  size_t m = ref->count, total = ref->count + hyp->count;
  uint32_t next = 0;
  table_next_use(s);
  for (size_t i = 0; i < total; i++) {
    const prism__metrics_span *t = i < m ? &ref->tok[i] : &hyp->tok[i - m];
    uint64_t h = s->hash[i] = prism__metrics_hash(t->s, t->n);
    for (size_t j = (size_t)h & mask;; j = (j + 1) & mask) {
      if (!SLOT_LIVE(s, j)) {
        SLOT_SET(s, j, h, next);
        s->ids1[i] = next;
        s->first[next++] = (uint32_t)i; /* the first occurrence stands for the id */
        break;
      }
      if (s->slots[2 * j] == h) {
        uint32_t id = SLOT_ID(s, j), first = s->first[id];
        const prism__metrics_span *f = first < m ? &rep[0][first] : &rep[1][first - m];
        if (f->n == t->n && memcmp(f->s, t->s, t->n) == 0) {
          s->ids1[i] = id;
          break;
        }
      }
    }
  }
  return next;
}

/*
 * Ids of order-k n-grams from the order-(k-1) ids in `prev` (in place): the
 * n-gram at i is (prev[i], ids1[i + k - 1]). Positions past a text's last
 * n-gram are left alone. `distinct` is the number of order-(k-1) ids and
 * `distinct1` of unigram ids. Returns the number of distinct n-grams.
 */
static uint32_t intern_ngrams(prism__metrics_scratch *s, uint32_t *prev, size_t m, size_t n,
                              size_t k, size_t mask, uint32_t distinct, uint32_t distinct1)
{
  uint32_t next = 0;
  size_t cells = (size_t)distinct * distinct1;
  /* A direct table over (prev, token) when it stays small; else the hash table. */
  int direct = cells <= DIRECT_CELLS_MAX && cells <= s->direct_cap;
  if (direct && ++s->direct_stamp == 0) {
    memset(s->direct, 0, s->direct_cap * sizeof *s->direct);
    s->direct_stamp = 1;
  }
  if (!direct)
    table_next_use(s);
  for (int side = 0; side < 2; side++) {
    size_t off = side ? m : 0, len = side ? n : m;
    for (size_t i = 0; i + k <= len; i++) {
      uint64_t key = (uint64_t)prev[off + i] << 32 | s->ids1[off + i + k - 1];
      if (direct) {
        uint64_t *cell = &s->direct[(size_t)prev[off + i] * distinct1 + s->ids1[off + i + k - 1]];
        if ((uint32_t)(*cell >> 32) != s->direct_stamp)
          *cell = (uint64_t)s->direct_stamp << 32 | next++;
        prev[off + i] = (uint32_t)*cell;
        continue;
      }
      size_t j = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
      while (SLOT_LIVE(s, j) && s->slots[2 * j] != key)
        j = (j + 1) & mask;
      if (!SLOT_LIVE(s, j))
        SLOT_SET(s, j, key, next++);
      prev[off + i] = SLOT_ID(s, j);
    }
  }
  return next;
}

/* Room for a direct n-gram table of `cells` cells (new room starts empty). */
static int reserve_direct(prism__metrics_scratch *s, size_t cells)
{
  uint64_t *p;
  if (cells <= s->direct_cap || cells > DIRECT_CELLS_MAX)
    return PRISM_OK;
  p = prism__calloc(cells, sizeof *p);
  if (!p)
    return PRISM_ERR_NO_MEMORY;
  prism__free(s->direct);
  s->direct = p;
  s->direct_cap = cells;
  s->direct_stamp = 0;
  return PRISM_OK;
}

/* Per order: clipped matches, and the distinct n-grams of each side and of both. */
typedef struct order_counts {
  uint64_t match;
  size_t hyp_distinct, ref_distinct, both_distinct;
} order_counts;

static order_counts count_order(prism__metrics_scratch *s, const uint32_t *ids, size_t m, size_t n,
                                size_t k, uint32_t distinct)
{
  order_counts c = { 0, 0, 0, 0 };
  uint32_t *cnt = s->count;
  memset(cnt, 0, 2 * (size_t)distinct * sizeof *cnt);
  for (size_t i = 0; i + k <= m; i++)
    cnt[2 * ids[i] + 1]++;
  for (size_t i = 0; i + k <= n; i++)
    cnt[2 * ids[m + i]]++;
  for (uint32_t id = 0; id < distinct; id++) {
    uint32_t h = cnt[2 * id], r = cnt[2 * id + 1];
    c.match += h < r ? h : r;
    c.hyp_distinct += h > 0;
    c.ref_distinct += r > 0;
    c.both_distinct += h > 0 && r > 0;
  }
  return c;
}

/* LCS by the O(n * m) dynamic programme over one row (for texts too long for bit masks). */
static size_t lcs_rows(uint32_t *row, const uint32_t *x, size_t n, const uint32_t *y, size_t m)
{
  memset(row, 0, (m + 1) * sizeof *row);
  for (size_t i = 0; i < n; i++) {
    uint32_t diag = 0;
    for (size_t j = 1; j <= m; j++) {
      uint32_t up = row[j];
      row[j] = x[i] == y[j - 1] ? diag + 1 : (up > row[j - 1] ? up : row[j - 1]);
      diag = up;
    }
  }
  return row[m];
}

size_t prism__metrics_lcs(prism__metrics_scratch *s, const uint32_t *x, size_t n, const uint32_t *y,
                          size_t m, uint32_t id_count, int *status)
{
  size_t words = (m + 63) / 64, zeros = 0;
  uint64_t *v, *mk;
  *status = PRISM_OK;
  if (n == 0 || m == 0)
    return 0;
  if (words > MASK_WORDS_MAX / ((size_t)id_count + 1)) {
    if (reserve((void **)&s->row, &s->row_cap, m + 1, sizeof *s->row) != PRISM_OK) {
      *status = PRISM_ERR_NO_MEMORY;
      return 0;
    }
    return lcs_rows(s->row, x, n, y, m);
  }
  /* masks: id_count rows of match bits over y, then the state vector V */
  if (reserve((void **)&s->masks, &s->masks_cap, ((size_t)id_count + 1) * words,
              sizeof *s->masks) != PRISM_OK) {
    *status = PRISM_ERR_NO_MEMORY;
    return 0;
  }
  mk = s->masks;
  v = mk + (size_t)id_count * words;
  memset(mk, 0, (size_t)id_count * words * sizeof *mk);
  for (size_t j = 0; j < m; j++)
    mk[(size_t)y[j] * words + j / 64] |= (uint64_t)1 << (j % 64);
  for (size_t w = 0; w < words; w++)
    v[w] = ~(uint64_t)0;
  /* Allison-Dix / Hyyrö: V' = (V + (V & M)) | (V & ~M); LCS = zero bits of V. */
  for (size_t i = 0; i < n; i++) {
    const uint64_t *row = mk + (size_t)x[i] * words;
    uint64_t carry = 0;
    for (size_t w = 0; w < words; w++) {
      uint64_t u = v[w] & row[w], sum = v[w] + u, out = sum + carry;
      uint64_t next_carry = (sum < v[w]) | (out < sum);
      v[w] = out | (v[w] & ~row[w]);
      carry = next_carry;
    }
  }
  for (size_t w = 0; w < words; w++) {
    uint64_t live = w + 1 < words || m % 64 == 0 ? ~(uint64_t)0 : ((uint64_t)1 << (m % 64)) - 1;
    zeros += (size_t)__builtin_popcountll(~v[w] & live);
  }
  return zeros;
}

/* ROUGE-N's F as the nmt script computes it (an epsilon keeps 0/0 at 0). */
static void rouge_n_scores(double out[3], size_t overlap, size_t hyp_count, size_t ref_count)
{
  double p = hyp_count ? (double)overlap / (double)hyp_count : 0.0;
  double r = ref_count ? (double)overlap / (double)ref_count : 0.0;
  out[0] = 2.0 * ((p * r) / (p + r + 1e-8));
  out[1] = p;
  out[2] = r;
}

/* ROUGE-L: F with beta = P / R (not F1), epsilons as in the nmt script. */
static void rouge_l_scores(double out[3], size_t lcs, size_t hyp_len, size_t ref_len)
{
  double r = (double)lcs / (double)ref_len, p = (double)lcs / (double)hyp_len;
  double beta = p / (r + 1e-12), b2 = beta * beta;
  out[0] = ((1 + b2) * r * p) / ((r + b2 * p) + 1e-12);
  out[1] = p;
  out[2] = r;
}

static int no_memory(void)
{
  return prism__error(PRISM_ERR_NO_MEMORY, "scoring a pair: out of memory");
}

int prism__metrics_score_pair(prism__metrics_pair *out, prism__metrics_scratch *s,
                              const prism__metrics_tokens *ref, const prism__metrics_tokens *hyp)
{
  size_t m = ref->count, n = hyp->count, total = m + n, mask, lcs;
  uint32_t distinct1, distinct;
  order_counts c[4];
  int rc;

  memset(out, 0, sizeof *out);
  out->ref_len = m;
  out->hyp_len = n;
  if (total >= UINT32_MAX / 2)
    return prism__error(PRISM_ERR_LIMIT, "a pair of %zu tokens is too long to score", total);
  mask = table_size(total) - 1;
  if (reserve((void **)&s->ids, &s->ids_cap, total + 1, sizeof *s->ids) != PRISM_OK ||
      reserve((void **)&s->ids1, &s->ids1_cap, total + 1, sizeof *s->ids1) != PRISM_OK ||
      reserve((void **)&s->first, &s->first_cap, total + 1, sizeof *s->first) != PRISM_OK ||
      reserve((void **)&s->hash, &s->hash_cap, total + 1, sizeof *s->hash) != PRISM_OK ||
      reserve((void **)&s->count, &s->count_cap, 2 * total + 2, sizeof *s->count) != PRISM_OK)
    return no_memory();
  if (2 * (mask + 1) > s->slots_cap) { /* a new table starts empty */
    size_t cap = 0;
    prism__free(s->slots);
    s->slots = NULL;
    s->slots_cap = 0;
    if (reserve((void **)&s->slots, &cap, 2 * (mask + 1), sizeof *s->slots) != PRISM_OK)
      return no_memory();
    memset(s->slots, 0, cap * sizeof *s->slots);
    s->slots_cap = cap;
    s->stamp = 0;
  }

  distinct1 = intern_tokens(s, ref, hyp, mask);
  /* n-gram ids never outnumber positions: total * distinct1 cells cover every order */
  if (reserve_direct(s, (size_t)total * distinct1) != PRISM_OK)
    return no_memory();
  memcpy(s->ids, s->ids1, total * sizeof *s->ids);
  distinct = distinct1;
  for (size_t k = 1; k <= 4; k++) {
    if (k > 1)
      distinct = intern_ngrams(s, s->ids, m, n, k, mask, distinct, distinct1);
    c[k - 1] = count_order(s, s->ids, m, n, k, distinct);
    out->match[k - 1] = c[k - 1].match;
    out->possible[k - 1] = n >= k ? n - k + 1 : 0;
  }

  /*
   * ROUGE reads the tokens joined by spaces and split on " ": an empty text
   * is one empty word, which matches only another empty text.
   */
  if (n == 0 || m == 0) {
    int both = n == 0 && m == 0;
    rouge_n_scores(out->rouge[0], both, n ? c[0].hyp_distinct : 1, m ? c[0].ref_distinct : 1);
    rouge_n_scores(out->rouge[1], 0, c[1].hyp_distinct, c[1].ref_distinct);
    rouge_l_scores(out->rouge[2], both, n ? n : 1, m ? m : 1);
    return PRISM_OK;
  }
  rouge_n_scores(out->rouge[0], c[0].both_distinct, c[0].hyp_distinct, c[0].ref_distinct);
  rouge_n_scores(out->rouge[1], c[1].both_distinct, c[1].hyp_distinct, c[1].ref_distinct);
  lcs = prism__metrics_lcs(s, s->ids1 + m, n, s->ids1, m, distinct1, &rc);
  if (rc != PRISM_OK)
    return no_memory();
  rouge_l_scores(out->rouge[2], lcs, n, m);
  return PRISM_OK;
}

void prism__metrics_scratch_free(prism__metrics_scratch *s)
{
  prism__free(s->ids);
  prism__free(s->ids1);
  prism__free(s->first);
  prism__free(s->hash);
  prism__free(s->count);
  prism__free(s->slots);
  prism__free(s->masks);
  prism__free(s->row);
  prism__free(s->direct);
  memset(s, 0, sizeof *s);
}
