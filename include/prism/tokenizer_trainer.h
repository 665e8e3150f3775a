/*
 * libprism — learning a byte-level BPE vocabulary (HuggingFace BpeTrainer).
 *
 * A trainer counts the words of the texts fed to it (GPT-2 pre-tokenizer, the
 * same one prism_tokenizer_encode() uses), then learns merges exactly as
 * HuggingFace tokenizers' BpeTrainer does for ByteLevelBPETokenizer.train():
 * the special tokens first, then the 256 byte symbols in code-point order, then
 * one token per merge, most frequent pair first. It writes vocab.json and
 * merges.txt, which prism_tokenizer_load() reads. See docs/tokenizer.md for the
 * exact rules, ties included.
 *
 * Thread safety: a trainer belongs to one thread at a time. Counting uses the
 * worker pool of prism_set_num_threads(); the files written do not depend on
 * the thread count.
 *
 * Ownership: prism_tokenizer_trainer_create() returns a new trainer through its
 * first argument; release it with prism_tokenizer_trainer_free(). Texts,
 * paths and params are only read during the call. Memory grows with the number
 * of distinct words, not with the amount of text.
 */
#ifndef PRISM_TOKENIZER_TRAINER_H
#define PRISM_TOKENIZER_TRAINER_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct prism_tokenizer_trainer prism_tokenizer_trainer;

typedef struct prism_tokenizer_trainer_params {
  size_t struct_size;
  /* Special tokens, alphabet and merges together; default 30000. Smaller than
     the special tokens plus the alphabet is an error at training time. */
  int32_t vocab_size;
  /* A pair occurring fewer times than this is never merged; default 2
     (ByteLevelBPETokenizer.train()'s default). */
  int32_t min_frequency;
  /* The special tokens, ids 0.. in this order (a repeated one is kept once).
     NULL: "<s>", "<pad>", "</s>", "<unk>", "<mask>" (ids 0-4); non-NULL with
     n_special_tokens 0: none. Each is non-empty UTF-8 (NUL-terminated). */
  const char *const *special_tokens;
  size_t n_special_tokens;
  /* Keep at most this many alphabet symbols, dropping the rarest (HF
     limit_alphabet); PRISM_UNSET (default): no limit. */
  int32_t limit_alphabet;
  /* 0 (default): the alphabet is all 256 byte symbols, as with
     ByteLevelBPETokenizer (initial_alphabet = ByteLevel.alphabet()), so any
     text encodes. Non-zero: only the byte symbols the texts contain (a bare
     BpeTrainer); other bytes then encode as "<unk>". */
  int corpus_alphabet;
} prism_tokenizer_trainer_params;

/* What prism_tokenizer_trainer_train() learned. */
typedef struct prism_tokenizer_trainer_stats {
  size_t struct_size;    /* set by the caller to sizeof(prism_tokenizer_trainer_stats) */
  uint64_t words;        /* pre-tokens counted, repeats included */
  uint64_t unique_words; /* distinct pre-tokens */
  int32_t alphabet_size; /* byte symbols in the vocabulary */
  int32_t vocab_size;    /* entries in vocab.json */
  int32_t merges;        /* lines of merges.txt after "#version: 0.2" */
} prism_tokenizer_trainer_stats;

/* Stages reported to the progress callback. */
typedef enum prism_tokenizer_trainer_stage {
  PRISM_TOKENIZER_TRAINER_WORDS = 0, /* splitting the distinct words into symbols and pairs */
  PRISM_TOKENIZER_TRAINER_MERGES = 1 /* learning merges: done of at most total */
} prism_tokenizer_trainer_stage;

/*
 * Called at the start and end of each stage and about a hundred times in
 * between. Return nonzero to continue, 0 to cancel: training then returns
 * PRISM_ERR_CANCELLED, writes nothing and the trainer keeps its counts.
 */
typedef int (*prism_tokenizer_trainer_progress_fn)(int stage, uint64_t done, uint64_t total,
                                                   void *payload);

/* Fill `params` with the defaults; `struct_size` is sizeof *params. */
PRISM_API int prism_tokenizer_trainer_params_init(prism_tokenizer_trainer_params *params,
                                                  size_t struct_size);

/* A new trainer with no words counted; `params` NULL means the defaults. */
PRISM_API int prism_tokenizer_trainer_create(prism_tokenizer_trainer **out,
                                             const prism_tokenizer_trainer_params *params);

/* Release a trainer; NULL is a no-op. */
PRISM_API void prism_tokenizer_trainer_free(prism_tokenizer_trainer *trainer);

/*
 * Count the words of `n_texts` UTF-8 texts (HF train_from_iterator: each text
 * is pre-tokenized whole; nothing is added between texts). All texts are
 * checked first: invalid UTF-8 gives PRISM_ERR_INVALID_UTF8 naming the text
 * index and byte offset, and then nothing of the call is counted. Call as often
 * as needed; the texts are not kept.
 */
PRISM_API int prism_tokenizer_trainer_feed(prism_tokenizer_trainer *trainer,
                                           const char *const *texts, const size_t *text_lens,
                                           size_t n_texts);

/*
 * Count the words of a file, read in blocks. With `n_fields` 0 it is plain
 * text and each line, with its line ending, is one text (HF train(files)).
 * Otherwise it is JSON Lines: each non-blank line is an object whose `fields`
 * (for training pairs "source" and "target") are strings, each one text; a
 * missing or non-string field is an error. Errors name the file, the line and,
 * for invalid UTF-8, the byte offset in the file. On an error the lines before
 * the bad block may already be counted.
 */
PRISM_API int prism_tokenizer_trainer_feed_file(prism_tokenizer_trainer *trainer, const char *path,
                                                const char *const *fields, size_t n_fields);

/*
 * Learn the merges from the words counted so far and write `out_dir`/vocab.json
 * and `out_dir`/merges.txt (the folder must exist). Both files are written to
 * temporaries beside their targets and renamed into place only when both are
 * complete; an existing target that is not a regular file is refused. `stats`
 * may be NULL; otherwise set its struct_size first. The trainer is unchanged,
 * so more text can be fed and training run again.
 */
PRISM_API int prism_tokenizer_trainer_train(prism_tokenizer_trainer_stats *stats,
                                            prism_tokenizer_trainer *trainer, const char *out_dir,
                                            prism_tokenizer_trainer_progress_fn progress,
                                            void *payload);

#ifdef __cplusplus
}
#endif

#endif /* PRISM_TOKENIZER_TRAINER_H */
