/*
 * libprism — BART encoder-decoder (HuggingFace BartForConditionalGeneration).
 *
 * A prism_bart holds the weights of one checkpoint, loaded unchanged from a
 * HuggingFace model folder (config.json, model.safetensors or a sharded
 * model.safetensors.index.json, optional generation_config.json). F32 weights
 * are memory-mapped; F16 and BF16 are converted to F32 at load.
 *
 * A prism_bart_session holds what one request needs while it runs: encoder
 * states, cross-attention K/V, the self-attention KV cache and scratch. It
 * grows to what a request needs, once, before the request's decode loop
 * (prism_generate_run does this; prism_bart_session_reserve does it by hand),
 * and the loop itself allocates nothing. Its params are optional caps.
 *
 * The model keeps the text of config.json and generation_config.json: it uses
 * the architecture (and the special token ids) itself, and the generation
 * settings belong to <prism/generate.h> (prism_generate_params_from_model).
 *
 * Thread safety: a prism_bart is immutable after load and may be shared by any
 * number of threads. A session is used by one thread at a time; give each
 * thread its own.
 *
 * Ownership: load/create return new objects through their first argument; the
 * caller frees them with prism_bart_free / prism_bart_session_free (NULL is a
 * no-op). A session borrows its model: free sessions before the model. Logits
 * pointers returned by a session belong to it and stay valid until its next call.
 */
#ifndef PRISM_BART_H
#define PRISM_BART_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct prism_bart prism_bart;
typedef struct prism_bart_session prism_bart_session;

/*
 * Load flags for reduced-precision weights (opt-in; at most one of them).
 * Every Linear weight of the encoder and decoder and the LM head get a copy
 * made once at load from the unchanged checkpoint, every product runs on it,
 * and the float32 pages it replaces are given back where they are mapped
 * (F32 tensors used in place; tensors converted at load from F16/BF16, or
 * copied because misaligned, keep their float32 copy); embeddings, biases,
 * layer norms and positions stay float32. Logits then differ from the
 * float32 path: docs/performance.md gives the measured agreement.
 *
 * PRISM_BART_LOAD_BF16_WEIGHTS: bfloat16 (2 bytes a weight, round to nearest
 * even; on CPUs with AVX512_BF16 but not AVX512_FP16 the activations are
 * rounded to bfloat16 too, elsewhere they stay float32).
 *
 * PRISM_BART_LOAD_INT8_WEIGHTS: int8 with one scale per output row (1 byte a
 * weight), activations quantised to 8 bits per row at run time; products use
 * AVX512_VNNI where the CPU has it. Results are the same on every CPU.
 */
#define PRISM_BART_LOAD_BF16_WEIGHTS 0x1u
#define PRISM_BART_LOAD_INT8_WEIGHTS 0x2u

/* Options for loading a checkpoint. */
typedef struct prism_bart_load_params {
  size_t struct_size;     /* sizeof(prism_bart_load_params), set by _init */
  uint64_t max_file_size; /* refuse any file larger than this (bytes); 0 = no cap */
  uint32_t flags;         /* PRISM_BART_LOAD_* */
} prism_bart_load_params;

PRISM_API int prism_bart_load_params_init(prism_bart_load_params *params, size_t struct_size);

/* Load a HuggingFace BART model folder. */
PRISM_API int prism_bart_load(prism_bart **out, const char *model_dir,
                              const prism_bart_load_params *params);

/*
 * Load from memory: config.json text, one safetensors image (the buffer must
 * outlive the model: F32 tensors are used in place) and optional
 * generation_config.json text (NULL, 0 for none).
 */
PRISM_API int prism_bart_load_memory(prism_bart **out, const char *config_json, size_t config_len,
                                     const void *safetensors, size_t safetensors_len,
                                     const char *generation_config_json, size_t generation_len,
                                     const prism_bart_load_params *params);

PRISM_API void prism_bart_free(prism_bart *model);

/* Hyperparameters and special ids of a loaded model. */
typedef struct prism_bart_info {
  size_t struct_size;
  int32_t vocab_size;
  int32_t d_model;
  int32_t encoder_layers;
  int32_t decoder_layers;
  int32_t encoder_attention_heads;
  int32_t decoder_attention_heads;
  int32_t encoder_ffn_dim;
  int32_t decoder_ffn_dim;
  int32_t max_position_embeddings;
  int32_t scale_embedding; /* 0 or 1 */
  int32_t pad_token_id;
  int32_t bos_token_id;
  int32_t eos_token_id;
  int32_t decoder_start_token_id;
  const char *activation_function; /* "gelu", "relu", "gelu_new", "silu"; owned by the model */
} prism_bart_info;

/* The config.json values of a loaded model (special ids PRISM_NO_TOKEN when null). */
PRISM_API int prism_bart_get_info(prism_bart_info *info, const prism_bart *model);

/* The configuration files a model keeps, for prism_bart_config_text. */
typedef enum prism_bart_config_file {
  PRISM_BART_CONFIG_JSON = 0,           /* config.json */
  PRISM_BART_GENERATION_CONFIG_JSON = 1 /* generation_config.json (optional) */
} prism_bart_config_file;

/*
 * The text of one of the model's configuration files, as loaded (owned by the
 * model; not NUL-terminated), and `source`, the path it came from (or the
 * file name for prism_bart_load_memory). When the model has no such file,
 * *text is NULL and *len 0. Any of text, len and source may be NULL.
 */
PRISM_API int prism_bart_config_text(const char **text, size_t *len, const char **source,
                                     const prism_bart *model, int which);

/*
 * Optional caps on what a session grows to; 0 = no cap beyond the model's own
 * limits (max_position_embeddings for the lengths) and the process-wide
 * prism_limits. A request beyond a cap fails with PRISM_ERR_LIMIT naming it.
 */
typedef struct prism_bart_session_params {
  size_t struct_size;
  uint32_t max_batch;      /* encoder rows */
  uint32_t max_rows;       /* decoder rows (batch x beams, or batch x return sequences) */
  uint32_t max_source_len; /* encoder tokens per row */
  uint32_t max_target_len; /* decoder tokens per row */
} prism_bart_session_params;

PRISM_API int prism_bart_session_params_init(prism_bart_session_params *params, size_t struct_size);
PRISM_API int prism_bart_session_create(prism_bart_session **out, const prism_bart *model,
                                        const prism_bart_session_params *params);
PRISM_API void prism_bart_session_free(prism_bart_session *session);

/* The model a session runs (borrowed). */
PRISM_API const prism_bart *prism_bart_session_model(const prism_bart_session *session);

/*
 * Grow the session so that a request of `batch` encoder rows of up to
 * `source_len` tokens, decoded as `rows` decoder rows of up to `target_len`
 * tokens, runs without allocating. A session only grows, to exactly what is
 * asked. Call it between requests: when it must grow, the last encoded batch
 * is dropped. PRISM_ERR_LIMIT names the cap a request exceeds;
 * PRISM_ERR_OUT_OF_RANGE a length beyond max_position_embeddings.
 */
PRISM_API int prism_bart_session_reserve(prism_bart_session *session, size_t batch, size_t rows,
                                         size_t source_len, size_t target_len);

/*
 * Run the encoder on a padded batch: input_ids and attention_mask are
 * [batch, src_len] row-major (attention_mask NULL: ids != pad_token_id).
 * Keeps the encoder states in the session (the cross-attention K/V are
 * projected from them by prism_bart_session_decoder_start); when `hidden` is
 * non-NULL also copies the last hidden state [batch, src_len, d_model].
 */
PRISM_API int prism_bart_session_encode(prism_bart_session *session, const int32_t *input_ids,
                                        const int32_t *attention_mask, size_t batch, size_t src_len,
                                        float *hidden);

/*
 * Start decoding after encode: the decoder runs batch * rows_per_input rows,
 * row r reading encoder row r / rows_per_input (beams and return sequences of
 * one input are adjacent). Clears the self-attention cache. The session grows
 * here if it has fewer rows reserved, and the cache grows in a step when it
 * is full: reserve up front to keep the loop free of allocation.
 */
PRISM_API int prism_bart_session_decoder_start(prism_bart_session *session, size_t rows_per_input);

/*
 * One decoder step for every row: tokens[rows] are the newest token of each
 * row; *logits receives [rows, vocab_size] for the next position (owned by the
 * session, valid until its next call).
 */
PRISM_API int prism_bart_session_decoder_step(prism_bart_session *session, const int32_t *tokens,
                                              const float **logits);

/* Reorder the self-attention cache between steps: new row r continues old row src_rows[r]. */
PRISM_API int prism_bart_session_decoder_reorder(prism_bart_session *session,
                                                 const int32_t *src_rows);

/*
 * Teacher-forced decoder over the last encoded batch: decoder_input_ids
 * [batch, tgt_len] → logits [batch, tgt_len, vocab_size] written to `logits`.
 */
PRISM_API int prism_bart_session_forward(prism_bart_session *session,
                                         const int32_t *decoder_input_ids, size_t tgt_len,
                                         float *logits);

#ifdef __cplusplus
}
#endif

#endif /* PRISM_BART_H */
