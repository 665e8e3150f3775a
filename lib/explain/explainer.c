/* Text to text: tokenizer -> BART generation -> detokenizer, batched per call. */
#include <string.h>

#include "bart/bart_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "generate/generate_internal.h"
#include "prism/explain.h"

#define DEFAULT_MAX_BATCH 32

struct prism_explainer {
  const prism_tokenizer *tok;
  const prism_bart *model;
  prism_tokenizer *owned_tok;
  prism_bart *owned_model;
  prism_bart_session *session; /* grown on demand, reused across calls */
  prism_bart_session_params capacity;
  prism_explainer_params params;
};

struct prism_text_batch {
  size_t count;
  size_t *offsets; /* [count + 1] into text */
  char *text;      /* every text, each NUL-terminated */
};

PRISM_API int prism_explainer_params_init(prism_explainer_params *params, size_t struct_size)
{
  PRISM_CHECK_ARG(params != NULL);
  PRISM_CHECK_ARG(struct_size >= sizeof(prism_explainer_params));
  memset(params, 0, sizeof *params);
  params->struct_size = struct_size;
  params->decode_flags = PRISM_TOKENIZER_SKIP_SPECIAL;
  return PRISM_OK;
}

PRISM_API int prism_explainer_create(prism_explainer **out, const prism_tokenizer *tokenizer,
                                     const prism_bart *model, const prism_explainer_params *params)
{
  prism_explainer *ex;
  prism_bart_info info;

  PRISM_CHECK_ARG(out != NULL && tokenizer != NULL && model != NULL);
  PRISM_CHECK_ARG(params == NULL || params->struct_size >= sizeof(prism_explainer_params));
  info.struct_size = sizeof info;
  if (prism_bart_get_info(model, &info) != PRISM_OK)
    return prism_last_error_status();
  if (prism_tokenizer_vocab_size(tokenizer) > info.vocab_size)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "prism_explainer_create: the tokenizer has %d tokens, the model only %d",
                        (int)prism_tokenizer_vocab_size(tokenizer), (int)info.vocab_size);
  if (!(ex = prism__calloc(1, sizeof *ex)))
    return PRISM_ERR_NO_MEMORY;
  ex->tok = tokenizer;
  ex->model = model;
  prism_explainer_params_init(&ex->params, sizeof ex->params);
  if (params) {
    ex->params.max_source_tokens = params->max_source_tokens;
    ex->params.max_batch = params->max_batch;
    ex->params.decode_flags = params->decode_flags;
  }
  if (!ex->params.max_source_tokens ||
      ex->params.max_source_tokens > (uint32_t)info.max_position_embeddings)
    ex->params.max_source_tokens = (uint32_t)info.max_position_embeddings;
  if (ex->params.max_source_tokens < 2)
    ex->params.max_source_tokens = 2;
  if (!ex->params.max_batch)
    ex->params.max_batch = DEFAULT_MAX_BATCH;
  *out = ex;
  return PRISM_OK;
}

PRISM_API int prism_explainer_load(prism_explainer **out, const char *model_dir,
                                   const prism_explainer_params *params)
{
  prism_tokenizer *tok = NULL;
  prism_bart *model = NULL;
  int rc;

  PRISM_CHECK_ARG(out != NULL && model_dir != NULL);
  if ((rc = prism_tokenizer_load(&tok, model_dir, NULL)) != PRISM_OK ||
      (rc = prism_bart_load(&model, model_dir, NULL)) != PRISM_OK ||
      (rc = prism_explainer_create(out, tok, model, params)) != PRISM_OK) {
    prism_bart_free(model);
    prism_tokenizer_free(tok);
    return rc;
  }
  (*out)->owned_tok = tok;
  (*out)->owned_model = model;
  return PRISM_OK;
}

PRISM_API void prism_explainer_free(prism_explainer *ex)
{
  if (!ex)
    return;
  prism_bart_session_free(ex->session);
  prism_bart_free(ex->owned_model);
  prism_tokenizer_free(ex->owned_tok);
  prism__free(ex);
}

PRISM_API const prism_tokenizer *prism_explainer_tokenizer(const prism_explainer *ex)
{
  return ex ? ex->tok : NULL;
}

PRISM_API const prism_bart *prism_explainer_model(const prism_explainer *ex)
{
  return ex ? ex->model : NULL;
}

static uint32_t max_u32(uint32_t a, uint32_t b)
{
  return a > b ? a : b;
}

/* Make sure the session can hold `need`: a session with room for both it and the old one replaces it. */
static int fit_session(prism_explainer *ex, const prism_bart_session_params *need)
{
  prism_bart_session_params cap = ex->capacity;
  prism_bart_session *bigger;
  int rc;

  if (ex->session && need->max_batch <= cap.max_batch && need->max_rows <= cap.max_rows &&
      need->max_source_len <= cap.max_source_len && need->max_target_len <= cap.max_target_len)
    return PRISM_OK;
  prism_bart_session_params_init(&cap, sizeof cap);
  cap.max_batch = max_u32(need->max_batch, ex->capacity.max_batch);
  cap.max_rows = max_u32(need->max_rows, ex->capacity.max_rows);
  cap.max_source_len = max_u32(need->max_source_len, ex->capacity.max_source_len);
  cap.max_target_len = max_u32(need->max_target_len, ex->capacity.max_target_len);
  if ((rc = prism_bart_session_create(&bigger, ex->model, &cap)) != PRISM_OK)
    return rc;
  prism_bart_session_free(ex->session);
  ex->session = bigger;
  ex->capacity = cap;
  return PRISM_OK;
}

/* Every prompt's tokens (no specials) in one buffer: prompt i is flat[start[i] .. start[i+1]). */
static int encode_all(const prism_tokenizer *tok, const char *const *prompts, size_t n,
                      int32_t **flat_out, size_t *start)
{
  size_t cap = 64 * n + 64, used = 0, len;
  int32_t *flat = prism__mallocn(cap, sizeof *flat), *bigger;
  int rc;

  if (!flat)
    return PRISM_ERR_NO_MEMORY;
  for (size_t i = 0; i < n; i++) {
    const char *text = prompts[i];
    rc = prism_tokenizer_encode(flat + used, cap - used, &len, tok, text, strlen(text),
                                PRISM_TOKENIZER_NO_SPECIAL);
    if (rc == PRISM_ERR_BUFFER_TOO_SMALL) {
      cap = used + len > 2 * cap ? used + len : 2 * cap;
      if (!(bigger = prism__realloc(flat, cap * sizeof *flat))) {
        prism__free(flat);
        return PRISM_ERR_NO_MEMORY;
      }
      flat = bigger;
      rc = prism_tokenizer_encode(flat + used, cap - used, &len, tok, text, strlen(text),
                                  PRISM_TOKENIZER_NO_SPECIAL);
    }
    if (rc != PRISM_OK) {
      prism__free(flat);
      return prism__error_prefix("prompt %zu: ", i);
    }
    start[i] = used;
    used += len;
  }
  start[n] = used;
  *flat_out = flat;
  return PRISM_OK;
}

/*
 * The padded encoder batch [n, *width] and its mask: each row is <s>, the first
 * max_source_tokens - 2 tokens of its prompt, </s>, then padding.
 */
static int build_batch(const prism_explainer *ex, const int32_t *flat, const size_t *start,
                       size_t n, int32_t **ids_out, int32_t **mask_out, size_t *width)
{
  size_t keep = ex->params.max_source_tokens - 2, w = 2;
  int32_t bos = prism_tokenizer_special_id(ex->tok, PRISM_TOKENIZER_BOS);
  int32_t eos = prism_tokenizer_special_id(ex->tok, PRISM_TOKENIZER_EOS);
  int32_t pad = prism__bart_generation_defaults(ex->model)->pad_token_id;
  int32_t *ids, *mask;

  for (size_t i = 0; i < n; i++) {
    size_t take = start[i + 1] - start[i] < keep ? start[i + 1] - start[i] : keep;
    if (take + 2 > w)
      w = take + 2;
  }
  ids = prism__mallocn(n * w, sizeof *ids);
  mask = prism__calloc(n * w, sizeof *mask);
  if (!ids || !mask) {
    prism__free(ids);
    prism__free(mask);
    return PRISM_ERR_NO_MEMORY;
  }
  for (size_t i = 0; i < n; i++) {
    size_t take = start[i + 1] - start[i] < keep ? start[i + 1] - start[i] : keep;
    int32_t *row = ids + i * w;
    row[0] = bos;
    memcpy(row + 1, flat + start[i], take * sizeof *row);
    row[take + 1] = eos;
    for (size_t j = take + 2; j < w; j++)
      row[j] = pad;
    for (size_t j = 0; j < take + 2; j++)
      mask[i * w + j] = 1;
  }
  *ids_out = ids;
  *mask_out = mask;
  *width = w;
  return PRISM_OK;
}

static int batch_new(prism_text_batch **out, size_t count)
{
  prism_text_batch *b = prism__calloc(1, sizeof *b);
  if (!b || !(b->offsets = prism__calloc(count + 1, sizeof *b->offsets))) {
    prism__free(b);
    return PRISM_ERR_NO_MEMORY;
  }
  *out = b;
  return PRISM_OK;
}

/* Append the detokenized ids as text number b->count. `cap` tracks b->text's size. */
static int batch_append(prism_text_batch *b, size_t *cap, const prism_tokenizer *tok,
                        const int32_t *ids, size_t n, unsigned flags)
{
  size_t used = b->offsets[b->count], len;
  int rc = prism_tokenizer_decode(b->text ? b->text + used : NULL, b->text ? *cap - used : 0, &len,
                                  tok, ids, n, flags);
  if (rc == PRISM_ERR_BUFFER_TOO_SMALL || (rc == PRISM_OK && !b->text)) {
    size_t want = used + len + 1 > 2 * *cap ? used + len + 1 : 2 * *cap;
    char *bigger = prism__realloc(b->text, want);
    if (!bigger)
      return PRISM_ERR_NO_MEMORY;
    b->text = bigger;
    *cap = want;
    rc = prism_tokenizer_decode(b->text + used, *cap - used, &len, tok, ids, n, flags);
  }
  if (rc != PRISM_OK)
    return rc;
  b->text[used + len] = '\0';
  b->offsets[++b->count] = used + len + 1;
  return PRISM_OK;
}

/* One decoder pass over prompts[0..n): generate, then detokenize into `b`. */
static int run_pass(prism_explainer *ex, const char *const *prompts, size_t n,
                    const prism_generate_params *params, const prism__generate_config *cfg,
                    prism_generate_stream_fn stream, void *payload, prism_text_batch *b,
                    size_t *cap)
{
  int32_t *flat = NULL, *ids = NULL, *mask = NULL;
  size_t *start = prism__calloc(n + 1, sizeof *start), width = 0;
  size_t per_input =
      (size_t)(cfg->num_beams > cfg->num_return_sequences ? cfg->num_beams
                                                          : cfg->num_return_sequences);
  prism_bart_session_params need;
  prism_generate_result *res = NULL;
  int rc;

  if (!start)
    return PRISM_ERR_NO_MEMORY;
  if ((rc = encode_all(ex->tok, prompts, n, &flat, start)) != PRISM_OK ||
      (rc = build_batch(ex, flat, start, n, &ids, &mask, &width)) != PRISM_OK)
    goto done;
  prism_bart_session_params_init(&need, sizeof need);
  need.max_batch = (uint32_t)n;
  need.max_rows = (uint32_t)(n * per_input);
  need.max_source_len = (uint32_t)width;
  need.max_target_len = (uint32_t)cfg->max_length;
  if ((rc = fit_session(ex, &need)) != PRISM_OK ||
      (rc = prism_generate_run(&res, ex->session, ids, mask, n, width, params, stream, payload)) !=
          PRISM_OK)
    goto done;
  for (size_t i = 0; i < prism_generate_result_count(res) && rc == PRISM_OK; i++) {
    const int32_t *seq =
        prism_generate_result_sequences(res) + i * prism_generate_result_width(res);
    rc = batch_append(b, cap, ex->tok, seq, (size_t)prism_generate_result_lengths(res)[i],
                      ex->params.decode_flags);
  }
done:
  prism_generate_result_free(res);
  prism__free(mask);
  prism__free(ids);
  prism__free(flat);
  prism__free(start);
  return rc;
}

PRISM_API int prism_explainer_run(prism_text_batch **out, prism_explainer *ex,
                                  const char *const *prompts, size_t n_prompts,
                                  const prism_generate_params *params,
                                  prism_generate_stream_fn stream, void *payload)
{
  prism__generate_config cfg;
  prism_text_batch *b;
  size_t cap = 0;
  int rc;

  PRISM_CHECK_ARG(out != NULL && ex != NULL);
  PRISM_CHECK_ARG(prompts != NULL && n_prompts > 0);
  for (size_t i = 0; i < n_prompts; i++)
    if (!prompts[i])
      return prism__error(PRISM_ERR_INVALID_ARGUMENT, "prism_explainer_run: prompt %zu is NULL", i);
  rc = prism__generate_resolve(&cfg, prism__bart_generation_defaults(ex->model),
                               ex->model->cfg.vocab_size, ex->model->cfg.max_position_embeddings,
                               params);
  if (rc != PRISM_OK)
    return rc;
  if ((rc = batch_new(&b, n_prompts * (size_t)cfg.num_return_sequences)) != PRISM_OK)
    return rc;
  for (size_t first = 0; first < n_prompts && rc == PRISM_OK; first += ex->params.max_batch) {
    size_t n = n_prompts - first < ex->params.max_batch ? n_prompts - first : ex->params.max_batch;
    rc = run_pass(ex, prompts + first, n, params, &cfg, stream, payload, b, &cap);
  }
  if (rc != PRISM_OK) {
    prism_text_batch_free(b);
    return rc;
  }
  *out = b;
  return PRISM_OK;
}

PRISM_API size_t prism_text_batch_count(const prism_text_batch *b)
{
  return b ? b->count : 0;
}

PRISM_API const char *prism_text_batch_get(const prism_text_batch *b, size_t i, size_t *len)
{
  if (!b || i >= b->count) {
    prism__error(PRISM_ERR_OUT_OF_RANGE, "prism_text_batch_get: index %zu of %zu texts", i,
                 b ? b->count : 0);
    return NULL;
  }
  if (len)
    *len = b->offsets[i + 1] - b->offsets[i] - 1;
  return b->text + b->offsets[i];
}

PRISM_API void prism_text_batch_free(prism_text_batch *b)
{
  if (!b)
    return;
  prism__free(b->text);
  prism__free(b->offsets);
  prism__free(b);
}
