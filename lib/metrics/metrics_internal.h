/* Internal: the metrics module's pieces, shared by its source files and its tests. */
#ifndef PRISM__METRICS_INTERNAL_H
#define PRISM__METRICS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/params.h"
#include "prism/metrics.h"

/* The first released sizes of the versioned structs. */
#define PRISM__METRICS_PARAMS_V1_SIZE PRISM__LAYOUT_SIZE(prism_metrics_params, feature_set_count)
#define PRISM__METRICS_RESULT_V1_SIZE PRISM__LAYOUT_SIZE(prism_metrics_result, feature_samples)
#define PRISM__METRICS_SAMPLE_V1_SIZE PRISM__LAYOUT_SIZE(prism_faithfulness_sample, hallucinated)
#define PRISM__METRICS_FAITH_V1_SIZE \
  PRISM__LAYOUT_SIZE(prism_faithfulness_result, hallucination_rate)

/* 64-bit hash of a byte string (for hash tables; not collision resistant). */
uint64_t prism__metrics_hash(const void *data, size_t len);

/* ---- tokenize.c: text -> tokens ---- */

typedef struct prism__metrics_span {
  const char *s;
  size_t n;
} prism__metrics_span;

/* A tokenised text; the spans point into the caller's text or into buf/buf2. */
typedef struct prism__metrics_tokens {
  prism__metrics_span *tok;
  size_t count, cap;
  char *buf, *buf2; /* lower-cased text, PEPLER-spaced text */
  size_t buf_cap, buf2_cap;
} prism__metrics_tokens;

/*
 * Tokenise `len` bytes of valid UTF-8 (PRISM_METRICS_TOKENIZE_*), lower-cased
 * first when asked. The spans stay valid until the next call on `t` and while
 * `text` lives.
 */
int prism__metrics_tokenize(prism__metrics_tokens *t, const char *text, size_t len, int mode,
                            int lowercase);
void prism__metrics_tokens_free(prism__metrics_tokens *t);

/* ---- pair.c: the per-pair counts of BLEU and ROUGE ---- */

typedef struct prism__metrics_pair {
  uint64_t ref_len, hyp_len;
  uint64_t match[4];    /* clipped n-gram matches, n = 1..4 */
  uint64_t possible[4]; /* hypothesis n-grams, n = 1..4 */
  double rouge[3][3];   /* [ROUGE-1, ROUGE-2, ROUGE-L][f, p, r] in [0, 1] */
} prism__metrics_pair;

/* Reusable scratch of the pair scorer (zero-initialise; free with _scratch_free). */
typedef struct prism__metrics_scratch {
  uint32_t *ids;         /* ref then hyp ids of the current order */
  uint32_t *ids1;        /* ref then hyp unigram ids */
  uint32_t *first;       /* per unigram id: its first position */
  uint64_t *hash;        /* ref then hyp token hashes (prism__metrics_hash) */
  uint32_t *count;       /* per id: [hyp, ref] occurrences */
  uint64_t *slots;       /* intern table: (key, stamp << 32 | id + 1) pairs */
  uint64_t *masks;       /* LCS match bit masks */
  uint32_t *row;         /* LCS dynamic programming row (long texts) */
  uint32_t stamp;        /* the intern table's current use */
  uint64_t *direct;      /* direct n-gram table over (id, token): stamp << 32 | id */
  uint32_t direct_stamp; /* its current use */
  size_t ids_cap, ids1_cap, first_cap, hash_cap, count_cap, slots_cap, masks_cap, row_cap;
  size_t direct_cap;
} prism__metrics_scratch;

int prism__metrics_score_pair(prism__metrics_pair *out, prism__metrics_scratch *s,
                              const prism__metrics_tokens *ref, const prism__metrics_tokens *hyp);
void prism__metrics_scratch_free(prism__metrics_scratch *s);

/* Length of the longest common subsequence of two id sequences (exposed for tests). */
size_t prism__metrics_lcs(prism__metrics_scratch *s, const uint32_t *x, size_t n, const uint32_t *y,
                          size_t m, uint32_t id_count, int *status);

/* ---- digest.c: BLAKE2b-128 and a set of digests (USR) ---- */

void prism__metrics_blake2b128(uint8_t out[16], const void *data, size_t len);

typedef struct prism__metrics_digests {
  uint8_t (*slots)[16]; /* all-zero: empty (the zero digest is kept in has_zero) */
  size_t capacity, count;
  int has_zero;
} prism__metrics_digests;

/* Room for one more digest without failing (call before prism__metrics_digests_insert). */
int prism__metrics_digests_reserve(prism__metrics_digests *d);
/* Insert; 1 when the digest is new. Needs the room reserved. */
int prism__metrics_digests_insert(prism__metrics_digests *d, const uint8_t digest[16]);
void prism__metrics_digests_free(prism__metrics_digests *d);

/* ---- words.c: a set of owned strings with dense indices ---- */

typedef struct prism__metrics_words {
  char **word;
  size_t *len;
  size_t count, word_cap;
  uint32_t *slots; /* index + 1, 0 empty */
  size_t capacity;
} prism__metrics_words;

/* Index of a string, or SIZE_MAX when absent. */
size_t prism__metrics_words_find(const prism__metrics_words *w, const char *s, size_t n);
/* The same with the string's prism__metrics_hash already known. */
size_t prism__metrics_words_find_hashed(const prism__metrics_words *w, const char *s, size_t n,
                                        uint64_t hash);
/* Index of a string, adding a copy when new. */
int prism__metrics_words_add(prism__metrics_words *w, const char *s, size_t n, size_t *index);
void prism__metrics_words_free(prism__metrics_words *w);

#endif
