/*
 * libprism — composition: prompts for the explanation model, and text-to-text
 * explanation over tokenizer + BART + generation.
 *
 * The prompt builder renders what the student model reads for one
 * recommendation: the user's history, the recommended item and the ranker's
 * evidence, through a small template with named fields. Its defaults are the
 * format of the demo student (docs/explain.md); hosts set their own template to
 * match the format their student was fine-tuned on.
 *
 * Thread safety: prism_prompt_render is reentrant. A prism_explainer owns a BART
 * session and is used by one thread at a time; the tokenizer and model it
 * borrows may be shared with other explainers.
 *
 * Ownership: strings passed in are read during the call only. An explainer
 * made by prism_explainer_create borrows its tokenizer and model (they must
 * outlive it); one made by prism_explainer_load owns them. A text batch from
 * prism_explainer_run belongs to the caller (prism_text_batch_free).
 */
#ifndef PRISM_EXPLAIN_H
#define PRISM_EXPLAIN_H

#include "bart.h"
#include "common.h"
#include "generate.h"
#include "tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One catalog item as the prompt shows it: a title and free-form features (e.g. the genre). */
typedef struct prism_prompt_item {
  const char *title;
  const char *features;
} prism_prompt_item;

/*
 * The prompt format. Placeholders in `template_text`: {history}, {item},
 * {item_features}, {evidence}; "{{" and "}}" write a literal brace. Each list
 * entry is `entry_template` with {title} and {features}. Every value is
 * normalised: ASCII whitespace runs become one space and are trimmed, values
 * longer than max_value_bytes are cut on a UTF-8 character boundary (then
 * trimmed again), and an empty value reads `empty_value`.
 */
typedef struct prism_prompt_format {
  size_t struct_size;
  const char *
      template_text; /* "history: {history} | item: {item} ({item_features}) | evidence: {evidence}" */
  const char *entry_template; /* "{title} ({features})" */
  const char *separator;      /* "; " between list entries */
  const char *empty_list;     /* "none" */
  const char *empty_value;    /* "unknown" */
  uint32_t max_history;       /* 8: keep the LAST n history entries (most recent); 0 = all */
  uint32_t max_evidence;      /* 3: keep the FIRST n evidence entries (strongest); 0 = all */
  uint32_t max_value_bytes;   /* 48; 0 = no cut */
} prism_prompt_format;

PRISM_API int prism_prompt_format_init(prism_prompt_format *format, size_t struct_size);

/*
 * Render one prompt into `buf` (NUL-terminated). *len receives the length
 * without the NUL; a NULL buf (capacity 0) only measures. `format` NULL means
 * the defaults. history is oldest first; evidence strongest first. Titles and
 * features must be valid UTF-8 (PRISM_ERR_INVALID_UTF8 names the field); an
 * unknown placeholder is PRISM_ERR_FORMAT naming its byte offset.
 */
PRISM_API int prism_prompt_render(char *buf, size_t capacity, size_t *len,
                                  const prism_prompt_format *format,
                                  const prism_prompt_item *history, size_t n_history,
                                  const prism_prompt_item *item, const prism_prompt_item *evidence,
                                  size_t n_evidence);

/* ---- text to text ------------------------------------------------------------------------ */

typedef struct prism_explainer prism_explainer;
typedef struct prism_text_batch prism_text_batch;

typedef struct prism_explainer_params {
  size_t struct_size;
  uint32_t max_source_tokens; /* longer prompts keep their first tokens (<s> and </s> kept);
                                 0 = the model's max_position_embeddings */
  uint32_t max_batch;         /* prompts per decoder pass; more run in several passes; 0 = 32 */
  uint32_t decode_flags; /* prism_tokenizer_decode_flags; default PRISM_TOKENIZER_SKIP_SPECIAL */
} prism_explainer_params;

PRISM_API int prism_explainer_params_init(prism_explainer_params *params, size_t struct_size);

/* An explainer over a tokenizer and a model it borrows (both must outlive it). */
PRISM_API int prism_explainer_create(prism_explainer **out, const prism_tokenizer *tokenizer,
                                     const prism_bart *model, const prism_explainer_params *params);

/* An explainer that loads and owns the tokenizer and model of one HuggingFace folder. */
PRISM_API int prism_explainer_load(prism_explainer **out, const char *model_dir,
                                   const prism_explainer_params *params);

PRISM_API void prism_explainer_free(prism_explainer *explainer);

/* The explainer's tokenizer and model (borrowed), for calling them directly. */
PRISM_API const prism_tokenizer *prism_explainer_tokenizer(const prism_explainer *explainer);
PRISM_API const prism_bart *prism_explainer_model(const prism_explainer *explainer);

/*
 * Explain a batch: each prompt (UTF-8, NUL-terminated) is tokenized as
 * <s> prompt </s>, all of them are decoded together (one GEMM per weight
 * matrix per step), and the outputs are detokenized. *out holds
 * n_prompts x num_return_sequences texts, those of prompt i first. `params`
 * NULL uses the model's generation defaults; `stream` sees every decoder step
 * (with more than max_batch prompts each pass reports its own rows, from 0).
 */
PRISM_API int prism_explainer_run(prism_text_batch **out, prism_explainer *explainer,
                                  const char *const *prompts, size_t n_prompts,
                                  const prism_generate_params *params,
                                  prism_generate_stream_fn stream, void *payload);

PRISM_API size_t prism_text_batch_count(const prism_text_batch *batch);
/* Text i (NUL-terminated, owned by the batch); *len its byte length when len is non-NULL. */
PRISM_API const char *prism_text_batch_get(const prism_text_batch *batch, size_t i, size_t *len);
PRISM_API void prism_text_batch_free(prism_text_batch *batch);

#ifdef __cplusplus
}
#endif

#endif /* PRISM_EXPLAIN_H */
