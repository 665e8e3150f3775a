/* Internal: the tokenizer's tables, shared by loading, encoding and decoding. */
#ifndef PRISM__TOKENIZER_INTERNAL_H
#define PRISM__TOKENIZER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/utf8.h"
#include "prism/tokenizer.h"
#include "prism/tokenizer_trainer.h"

/* A string recognised whole inside the text before pre-tokenization. */
typedef struct tok_added {
  const char *text; /* UTF-8, in the tokenizer's string arena */
  uint32_t len;
  int32_t id;
  unsigned char lstrip, rstrip, special;
} tok_added;

/* One merge: the pair (left, right) becomes `merged`; lower rank merges first. */
typedef struct tok_merge {
  uint64_t key; /* pair_key(left, right); 0 marks an empty slot */
  int32_t rank;
  int32_t merged;
} tok_merge;

struct prism_tokenizer {
  int32_t n_ids; /* max id + 1 */
  char *arena;   /* every token and added string, NUL-terminated */
  size_t arena_len, arena_cap;
  uint32_t *tok_off; /* per id: offset into arena, UINT32_MAX for an unused id */
  uint32_t *tok_len;
  unsigned char *is_special; /* per id: skipped by PRISM_TOKENIZER_SKIP_SPECIAL */
  unsigned char *dec;        /* per id: the bytes the token stands for, at dec_off[id] */
  uint32_t *dec_off;

  int32_t *vocab_table; /* open addressing over token strings -> id (-1 empty) */
  size_t vocab_mask;
  tok_merge *merges; /* open addressing over pair keys */
  size_t merge_mask;
  int32_t byte_id[256]; /* id of each single-byte symbol, -1 when absent */

  tok_added *added;
  size_t n_added;
  unsigned char added_first[256]; /* 1 for a byte some added token starts with */
  int32_t special[5];             /* bos, eos, pad, unk, mask (-1 when absent) */
  int add_prefix_space;
  /* What lstrip/rstrip added tokens absorb: 0 Python's str.isspace() (the slow
     tokenizer, vocab.json + merges.txt), 1 Unicode White_Space (the Rust core,
     tokenizer.json); they differ on U+001C..U+001F. */
  int strip_white_space;
  uint32_t tag; /* distinguishes tokenizers in the per-thread word cache */
};

static inline uint64_t tok_pair_key(int32_t left, int32_t right)
{
  return ((uint64_t)(uint32_t)left << 32 | (uint32_t)right) + 1u;
}

static inline uint64_t tok_hash64(uint64_t x)
{
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

/* Hash of a byte string, for the vocabulary table and the word cache. */
uint64_t prism__tokenizer_hash_bytes(const void *data, size_t len);

/* The merge of (left, right), or NULL. */
static inline const tok_merge *tok_find_merge(const prism_tokenizer *tok, int32_t left,
                                              int32_t right)
{
  uint64_t key = tok_pair_key(left, right);
  size_t i = (size_t)tok_hash64(key) & tok->merge_mask;
  for (;; i = (i + 1) & tok->merge_mask) {
    if (tok->merges[i].key == key)
      return &tok->merges[i];
    if (tok->merges[i].key == 0)
      return NULL;
  }
}

/* Fill dec/dec_off once the vocabulary is complete. */
int prism__tokenizer_build_decoder(prism_tokenizer *tok);

/* The id of a vocabulary string, or -1. */
int32_t prism__tokenizer_lookup(const prism_tokenizer *tok, const char *s, size_t len);

/* GPT-2's bytes-to-unicode table: the code point standing for byte b. */
uint32_t prism__tokenizer_byte_char(unsigned b);
/* The inverse: the byte a code point stands for, or -1. */
int prism__tokenizer_char_byte(uint32_t cp);

/*
 * The GPT-2 pre-tokenizer: the end of the pre-token that starts at s[i] (i < len,
 * s valid UTF-8), the regex's alternatives tried in order. Encoding and
 * training both split words with it.
 */
size_t prism__tokenizer_pretoken_end(const unsigned char *s, size_t len, size_t i);

/* Python str.isspace(): Unicode White_Space plus U+001C..U+001F. */
int prism__tokenizer_py_isspace(uint32_t cp);
/* Unicode White_Space (the regex class \s). */
int prism__tokenizer_white_space(uint32_t cp);

/* ---- training (trainer.c counts words, learn.c learns merges) ---- */

/* One distinct pre-token: its raw bytes and how often it was seen. */
typedef struct tok_word {
  uint64_t off; /* into the table's byte arena */
  uint64_t count;
  uint32_t len;
  uint32_t hash;
} tok_word;

/* Distinct pre-tokens with counts: an arena of bytes and open addressing over it. */
typedef struct tok_wordtab {
  tok_word *words;
  size_t n, cap;
  uint32_t *slots; /* word index + 1; 0 marks an empty slot */
  size_t mask;
  unsigned char *bytes;
  size_t bytes_len, bytes_cap;
  uint64_t total; /* pre-tokens counted, repeats included */
} tok_wordtab;

struct prism_tokenizer_trainer {
  prism_tokenizer_trainer_params params; /* special_tokens points to `specials` */
  char **specials;                       /* owned copies */
  tok_wordtab words;
  int broken; /* an allocation failed half-way through counting */
};

/* What learning produced: the two files' contents and the stats. */
typedef struct tok_learned {
  char *vocab_json;
  size_t vocab_len;
  char *merges_txt;
  size_t merges_len;
  prism_tokenizer_trainer_stats stats;
} tok_learned;

/*
 * Count the lines of a block (complete lines; the last may lack its newline):
 * plain text when n_fields is 0, else JSON Lines with those string fields.
 * `what` names the input in errors; `line_no` and `offset` are the block's
 * first line number and byte offset in it.
 */
int prism__tokenizer_trainer_feed_lines(prism_tokenizer_trainer *t, const char *what,
                                        const unsigned char *buf, size_t len, uint64_t line_no,
                                        uint64_t offset, const char *const *fields,
                                        size_t n_fields);

/* Grow *p (of *cap elements of `elem` bytes) to hold `need`, doubling; PRISM_ERR_NO_MEMORY. */
int prism__tokenizer_grow(void **p, size_t *cap, size_t need, size_t elem);

/* Learn merges from the counted words into memory; `fn` names the public caller. */
int prism__tokenizer_learn(tok_learned *out, const prism_tokenizer_trainer *t,
                           prism_tokenizer_trainer_progress_fn progress, void *payload,
                           const char *fn);
void prism__tokenizer_learned_free(tok_learned *l);

#endif
