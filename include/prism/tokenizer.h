/*
 * libprism — byte-level BPE tokenizer (GPT-2 / RoBERTa / BART vocabularies).
 *
 * Gives exactly the ids of HuggingFace's BartTokenizer: the GPT-2 pre-tokenizer
 * regex, the bytes-to-unicode table, merges applied by rank, and special tokens
 * ("<s>", "</s>", "<pad>", "<unk>", "<mask>") recognised inside the text.
 *
 * Thread safety: a loaded prism_tokenizer is read-only; any number of threads
 * may encode, decode and look up with the same handle at the same time. Each
 * thread keeps its own cache of recent words, so no call takes a lock.
 * prism_tokenizer_free() must not race with other calls on the same handle.
 *
 * Ownership: loaders return a new handle through the first argument; the caller
 * releases it with prism_tokenizer_free(). Token strings returned by
 * prism_tokenizer_id_to_token() belong to the tokenizer and live as long as it.
 * Input buffers are only read during the call.
 */
#ifndef PRISM_TOKENIZER_H
#define PRISM_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct prism_tokenizer prism_tokenizer;

typedef struct prism_tokenizer_params {
  size_t struct_size;   /* sizeof(prism_tokenizer_params), set by prism_tokenizer_params_init */
  int add_prefix_space; /* non-zero: prepend " " to text that does not start with whitespace
                           (HF add_prefix_space); default 0, or the tokenizer.json setting */
} prism_tokenizer_params;

/* Flags for the encode functions (bitwise or). */
typedef enum prism_tokenizer_encode_flags {
  PRISM_TOKENIZER_NO_SPECIAL = 1u << 0,      /* do not add <s> ... </s> around the text */
  PRISM_TOKENIZER_REPLACE_INVALID = 1u << 1, /* invalid UTF-8 becomes U+FFFD (one per maximal
                                                 ill-formed subsequence) instead of an error */
  PRISM_TOKENIZER_PARALLEL = 1u << 2 /* prism_tokenizer_encode_batch only: spread the texts over
                                        the worker pool (prism_set_num_threads); same result */
} prism_tokenizer_encode_flags;

/* Flags for prism_tokenizer_decode (bitwise or). */
typedef enum prism_tokenizer_decode_flags {
  PRISM_TOKENIZER_SKIP_SPECIAL = 1u << 0,   /* drop bos, eos, pad, unk, mask and other specials */
  PRISM_TOKENIZER_CLEAN_UP_SPACES = 1u << 1 /* HF clean_up_tokenization_spaces: " ." -> "." ... */
} prism_tokenizer_decode_flags;

/* Which special token prism_tokenizer_special_id() reports. */
typedef enum prism_tokenizer_special {
  PRISM_TOKENIZER_BOS = 0, /* "<s>" */
  PRISM_TOKENIZER_EOS = 1, /* "</s>" */
  PRISM_TOKENIZER_PAD = 2, /* "<pad>" */
  PRISM_TOKENIZER_UNK = 3, /* "<unk>" */
  PRISM_TOKENIZER_MASK = 4 /* "<mask>" */
} prism_tokenizer_special;

/* Fill `params` with the defaults; `struct_size` is sizeof *params. */
PRISM_API int prism_tokenizer_params_init(prism_tokenizer_params *params, size_t struct_size);

/*
 * Load from a model directory: vocab.json + merges.txt when both exist,
 * otherwise tokenizer.json (a ByteLevel BPE model). `params` may be NULL.
 */
PRISM_API int prism_tokenizer_load(prism_tokenizer **out, const char *dir,
                                   const prism_tokenizer_params *params);

/* Load from explicit vocab.json and merges.txt paths. */
PRISM_API int prism_tokenizer_load_files(prism_tokenizer **out, const char *vocab_path,
                                         const char *merges_path,
                                         const prism_tokenizer_params *params);

/* Load from vocab.json and merges.txt contents in memory (copied; buffers may be freed after). */
PRISM_API int prism_tokenizer_load_memory(prism_tokenizer **out, const void *vocab_json,
                                          size_t vocab_size, const void *merges_txt,
                                          size_t merges_size, const prism_tokenizer_params *params);

/* Load a HuggingFace tokenizer.json describing a ByteLevel BPE model, from a file or memory. */
PRISM_API int prism_tokenizer_load_json(prism_tokenizer **out, const char *path,
                                        const prism_tokenizer_params *params);
PRISM_API int prism_tokenizer_load_json_memory(prism_tokenizer **out, const void *json, size_t size,
                                               const prism_tokenizer_params *params);

/* Release a tokenizer; NULL is a no-op. */
PRISM_API void prism_tokenizer_free(prism_tokenizer *tok);

/*
 * Encode `text_len` bytes of UTF-8 into ids: "<s> text </s>" unless
 * PRISM_TOKENIZER_NO_SPECIAL (bos/eos are added only when the vocabulary has them).
 * Sized output: *n_ids receives the number of ids; `ids` NULL (capacity 0)
 * only queries it and returns PRISM_OK; a short buffer gives
 * PRISM_ERR_BUFFER_TOO_SMALL (its contents are then unspecified).
 * Invalid UTF-8 gives PRISM_ERR_INVALID_UTF8 naming the byte offset, unless
 * PRISM_TOKENIZER_REPLACE_INVALID. `text` may be NULL when `text_len` is 0.
 */
PRISM_API int prism_tokenizer_encode(int32_t *ids, size_t capacity, size_t *n_ids,
                                     const prism_tokenizer *tok, const char *text, size_t text_len,
                                     unsigned flags);

/* Encode a pair as "<s> a </s></s> b </s>" (or "a b" with PRISM_TOKENIZER_NO_SPECIAL). */
PRISM_API int prism_tokenizer_encode_pair(int32_t *ids, size_t capacity, size_t *n_ids,
                                          const prism_tokenizer *tok, const char *text_a,
                                          size_t len_a, const char *text_b, size_t len_b,
                                          unsigned flags);

/*
 * Encode `n_texts` texts into one concatenated id buffer. offsets[] (n_texts + 1
 * entries, always filled) gives text i the ids [offsets[i], offsets[i + 1]);
 * *n_ids receives offsets[n_texts]. Sized output as prism_tokenizer_encode.
 * An error names the text index (the lowest failing one).
 * With PRISM_TOKENIZER_PARALLEL the texts are spread over the worker pool
 * when the batch is large enough (64 KiB of text) and the pool has more than
 * one thread; the ids are identical to the serial path's.
 */
PRISM_API int prism_tokenizer_encode_batch(int32_t *ids, size_t capacity, size_t *n_ids,
                                           size_t *offsets, const prism_tokenizer *tok,
                                           const char *const *texts, const size_t *text_lens,
                                           size_t n_texts, unsigned flags);

/*
 * Decode ids into UTF-8 text, NUL-terminated. *text_len receives the length
 * without the NUL, so the buffer needs *text_len + 1 bytes; `text` NULL
 * (capacity 0) only queries it. Byte sequences that are not valid UTF-8 become
 * U+FFFD. An id outside the vocabulary gives PRISM_ERR_OUT_OF_RANGE naming its
 * position. The text may contain NUL bytes when the ids encode them.
 */
PRISM_API int prism_tokenizer_decode(char *text, size_t capacity, size_t *text_len,
                                     const prism_tokenizer *tok, const int32_t *ids, size_t n_ids,
                                     unsigned flags);

/* The id of a token in its vocabulary spelling ("Ġworld"); PRISM_ERR_NOT_FOUND if absent. */
PRISM_API int prism_tokenizer_token_to_id(int32_t *id, const prism_tokenizer *tok,
                                          const char *token, size_t token_len);

/* The vocabulary spelling of `id` (borrowed, NUL-terminated); PRISM_ERR_OUT_OF_RANGE if none. */
PRISM_API int prism_tokenizer_id_to_token(const char **token, size_t *token_len,
                                          const prism_tokenizer *tok, int32_t id);

/* One more than the largest id (50265 for BART); 0 for NULL. */
PRISM_API int32_t prism_tokenizer_vocab_size(const prism_tokenizer *tok);

/* The id of a special token (prism_tokenizer_special), or -1 when the vocabulary has none. */
PRISM_API int32_t prism_tokenizer_special_id(const prism_tokenizer *tok, int which);

/*
 * The Unicode version of the character tables that classify letters, numbers
 * and whitespace while encoding ("15.0.0"): those of the utf8proc the library
 * runs with. Static string.
 */
PRISM_API const char *prism_tokenizer_unicode_version(void);

#ifdef __cplusplus
}
#endif

#endif /* PRISM_TOKENIZER_H */
