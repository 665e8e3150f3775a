/* Internal: the tokenizer's tables, shared by loading, encoding and decoding. */
#ifndef PRISM__TOKENIZER_INTERNAL_H
#define PRISM__TOKENIZER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/utf8.h"
#include "prism/tokenizer.h"

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

/* Python str.isspace(): Unicode White_Space plus U+001C..U+001F. */
int prism__tokenizer_py_isspace(uint32_t cp);
/* Unicode White_Space (the regex class \s). */
int prism__tokenizer_white_space(uint32_t cp);

#endif
