/*
 * libprism — text generation over a BART session: greedy search, beam search,
 * sampling and beam sampling with HuggingFace transformers' generate()
 * semantics.
 *
 * prism_generate_run() encodes a padded batch, runs the decoder loop and
 * returns a prism_generate_result holding, per input row, num_return_sequences
 * sequences exactly as HuggingFace returns them: the decoder start token
 * first, every row padded with pad_token_id to the longest one. Beam search
 * also reports sequences_scores. Every beam and every row of a step goes
 * through one decoder step (one GEMM per weight matrix).
 *
 * Thread safety: a generate call uses its session exclusively (one thread at
 * a time per session, as for every session call); calls on different sessions
 * of one model may run concurrently. A result is immutable and may be read
 * from any thread. The stream callback runs on the calling thread.
 *
 * Ownership: prism_generate_run returns a new result through its first
 * argument; free it with prism_generate_result_free (NULL is a no-op). The
 * arrays returned by the result accessors belong to the result and live until
 * it is freed. The event passed to a stream callback and every array in it are
 * valid only during that callback. Input arrays are only read during the call.
 */
#ifndef PRISM_GENERATE_H
#define PRISM_GENERATE_H

#include "bart.h"
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* HF `early_stopping`: False, True or "never". */
typedef enum prism_early_stopping {
  PRISM_EARLY_STOPPING_FALSE = 0,
  PRISM_EARLY_STOPPING_TRUE = 1,
  PRISM_EARLY_STOPPING_NEVER = 2
} prism_early_stopping;

/*
 * Generation parameters, named and interpreted as the keyword arguments of
 * HuggingFace generate(). prism_generate_params_init() leaves every field
 * unset (integers at PRISM_UNSET, reals at NaN, seed 0); an unset field takes
 * the model's default: generation_config.json, then config.json, then HF's
 * GenerationConfig defaults (max_length 20, num_beams 1, top_k 50, ...).
 * prism_generate_params_from_model() shows what those defaults are.
 */
typedef struct prism_generate_params {
  size_t struct_size;             /* sizeof(prism_generate_params), set by _init */
  int32_t max_length;             /* total decoder length, start token included */
  int32_t max_new_tokens;         /* when set, max_length = max_new_tokens + 1 */
  int32_t min_length;             /* EOS is banned while the sequence is shorter */
  int32_t min_new_tokens;         /* EOS is banned before this many new tokens */
  int32_t num_beams;              /* 1: greedy or sampling; > 1: beam search */
  int32_t num_return_sequences;   /* sequences per input row */
  int32_t early_stopping;         /* prism_early_stopping (beam search) */
  int32_t no_repeat_ngram_size;   /* 0: off */
  int32_t forced_bos_token_id;    /* token forced at step 1, or PRISM_NO_TOKEN */
  int32_t forced_eos_token_id;    /* token forced at max_length - 1, or PRISM_NO_TOKEN */
  int32_t do_sample;              /* 0 or 1 */
  int32_t top_k;                  /* sampling: keep the k best tokens; 0: off */
  int32_t pad_token_id;           /* pads finished rows (PRISM_NO_TOKEN: eos_token_id) */
  int32_t bos_token_id;           /* PRISM_NO_TOKEN when the model has none */
  int32_t eos_token_id;           /* ends a sequence; PRISM_NO_TOKEN: never ends early */
  int32_t decoder_start_token_id; /* first decoder token (PRISM_NO_TOKEN: bos_token_id) */
  double length_penalty;          /* beam search: score = sum_logprobs / length^length_penalty */
  double repetition_penalty;      /* 1.0: off */
  double temperature;             /* sampling: > 0 */
  double top_p;                   /* sampling: nucleus mass in (0, 1] */
  uint64_t seed;                  /* sampling: the random stream (default 0) */
} prism_generate_params;

PRISM_API int prism_generate_params_init(prism_generate_params *params, size_t struct_size);

/*
 * Set the fields named in a JSON object of HF generate() keywords, e.g.
 * {"num_beams": 4, "early_stopping": "never", "forced_bos_token_id": null}
 * (null: unset; for token ids: no token, HF's None). Absent keys keep their
 * value. An unknown key, a wrongly typed or out-of-range value, or an HF
 * feature libprism does not run (num_beam_groups > 1, ...) is an error naming
 * the key, and leaves `params` unchanged. `params` must have been initialised.
 */
PRISM_API int prism_generate_params_parse(prism_generate_params *params, const char *json,
                                          size_t len);

/*
 * The parameters a request on `model` runs with: every field of `*out` set,
 * from the model's defaults (generation_config.json, then config.json, then
 * HF's defaults) with the set fields of `request` (NULL: none) on top, and
 * checked as prism_generate_run checks them. out->struct_size must be set
 * (prism_generate_params_init). Errors name the parameter, and the file when
 * a model file holds the bad value. max_new_tokens and min_new_tokens stay
 * PRISM_UNSET when nothing sets them.
 */
PRISM_API int prism_generate_params_from_model(prism_generate_params *out, const prism_bart *model,
                                               const prism_generate_params *request);

/* What a stream callback sees after each decoder step. */
typedef struct prism_generate_event {
  size_t struct_size;       /* sizeof(prism_generate_event) in the library */
  size_t step;              /* tokens generated so far: 1 on the first call */
  size_t num_rows;          /* greedy/sampling: batch x num_return_sequences; beam: batch */
  size_t stride;            /* distance between two rows of `sequences` */
  const int32_t *tokens;    /* [num_rows] each row's new token (pad once finished); beam:
                               the last token of the row's best hypothesis */
  const int32_t *sequences; /* [num_rows x stride] each row so far, decoder start first;
                               beam: the best hypothesis if generation stopped now */
  const int32_t *lengths;   /* [num_rows] valid tokens of each row of `sequences` */
  const int32_t *finished;  /* [num_rows] 1 once the row's output can no longer change */
} prism_generate_event;

/* Called after every decoder step; return non-zero to continue, 0 to cancel. */
typedef int (*prism_generate_stream_fn)(const prism_generate_event *event, void *payload);

typedef struct prism_generate_result prism_generate_result;

/*
 * Generate for a padded batch: input_ids and attention_mask are [batch,
 * src_len] row-major (attention_mask NULL: ids != pad_token_id). params NULL:
 * the model's defaults. stream NULL: no callback. Before the first step the
 * session grows to exactly what the request needs (batch, decoder rows =
 * batch x num_beams or batch x num_return_sequences, src_len, max_length);
 * the decode loop itself allocates nothing.
 *
 * Returns PRISM_ERR_OUT_OF_RANGE for ids outside the vocabulary or lengths
 * beyond max_position_embeddings, PRISM_ERR_INVALID_ARGUMENT for an empty row
 * or an impossible parameter, PRISM_ERR_LIMIT when the request exceeds a cap
 * (the session's, or a process-wide limit; the message names it), and
 * PRISM_ERR_CANCELLED when the callback stops the run; the session stays
 * usable after any failure.
 */
PRISM_API int prism_generate_run(prism_generate_result **out, prism_bart_session *session,
                                 const int32_t *input_ids, const int32_t *attention_mask,
                                 size_t batch, size_t src_len, const prism_generate_params *params,
                                 prism_generate_stream_fn stream, void *payload);

PRISM_API void prism_generate_result_free(prism_generate_result *result);

/* Number of sequences: batch x num_return_sequences (0 for NULL). */
PRISM_API size_t prism_generate_result_count(const prism_generate_result *result);

/* Padded length of every sequence (0 for NULL). */
PRISM_API size_t prism_generate_result_width(const prism_generate_result *result);

/*
 * [count x width] row-major; sequence i * num_return_sequences + j is the
 * j-th best (beam) or j-th drawn (sampling) output for input row i.
 */
PRISM_API const int32_t *prism_generate_result_sequences(const prism_generate_result *result);

/* [count] tokens of each sequence before its padding (EOS included). */
PRISM_API const int32_t *prism_generate_result_lengths(const prism_generate_result *result);

/* [count] HF sequences_scores for beam search; NULL for greedy and sampling. */
PRISM_API const float *prism_generate_result_scores(const prism_generate_result *result);

/* Where the time went (measured inside the call). */
typedef struct prism_generate_stats {
  size_t struct_size; /* set by the caller: sizeof(prism_generate_stats) */
  double encode_ms;   /* encoder pass and cross-attention K/V */
  double decode_ms;   /* the decoder loop, search included */
  int32_t steps;      /* decoder steps run */
  int32_t rows;       /* decoder rows per step */
} prism_generate_stats;

PRISM_API int prism_generate_result_stats(prism_generate_stats *stats,
                                          const prism_generate_result *result);

#ifdef __cplusplus
}
#endif

#endif /* PRISM_GENERATE_H */
