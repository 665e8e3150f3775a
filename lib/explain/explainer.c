/*
 * Text to text: tokenizer -> BART generation -> detokenizer, batched per call.
 * A composition layer: it reaches the tokenizer, the model and generation only
 * through their public headers.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/params.h"
#include "prism/explain.h"

#define DEFAULT_MAX_BATCH 32
#define PARAMS_V1_SIZE PRISM__LAYOUT_SIZE(prism_explainer_params, decode_flags)

struct prism_explainer {
  const prism_tokenizer *tok;
  const prism_bart *model;
  prism_tokenizer *owned_tok;
  prism_bart *owned_model;
  prism_bart_session *session; /* grows to what a call needs, reused across calls */
  prism_explainer_params params;
  int32_t pad_token_id;
};

struct prism_text_batch {
  size_t count, count_cap;
  size_t *offsets; /* [count + 1] into text */
  char *text;      /* every text, each NUL-terminated */
  size_t text_cap;
};

static const prism_explainer_params explainer_defaults = { sizeof explainer_defaults, 0, 0,
                                                           PRISM_TOKENIZER_SKIP_SPECIAL };

PRISM_API int prism_explainer_params_init(prism_explainer_params *params, size_t struct_size)
{
  return PRISM__PARAMS_INIT(params, struct_size, &explainer_defaults, PARAMS_V1_SIZE,
                            "prism_explainer_params_init");
}

static int explainer_new(prism_explainer **out, const prism_tokenizer *tokenizer,
                         const prism_bart *model, const prism_explainer_params *p,
                         const prism_bart_info *info)
{
  prism_explainer *ex = prism__calloc(1, sizeof *ex);
  int rc;
  if (!ex)
    return PRISM_ERR_NO_MEMORY;
  if ((rc = prism_bart_session_create(&ex->session, model, NULL)) != PRISM_OK) {
    prism__free(ex);
    return rc;
  }
  ex->tok = tokenizer;
  ex->model = model;
  ex->params = *p;
  ex->pad_token_id = info->pad_token_id >= 0 ? info->pad_token_id : info->eos_token_id;
  if (!ex->params.max_source_tokens ||
      ex->params.max_source_tokens > (uint32_t)info->max_position_embeddings)
    ex->params.max_source_tokens = (uint32_t)info->max_position_embeddings;
  if (ex->params.max_source_tokens < 2)
    ex->params.max_source_tokens = 2;
  if (!ex->params.max_batch)
    ex->params.max_batch = DEFAULT_MAX_BATCH;
  *out = ex;
  return PRISM_OK;
}

PRISM_API int prism_explainer_create(prism_explainer **out, const prism_tokenizer *tokenizer,
                                     const prism_bart *model, const prism_explainer_params *params)
{
  static const char fn[] = "prism_explainer_create";
  prism_explainer_params p;
  prism_generate_params defaults;
  prism_bart_info info;
  int rc;

  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(tokenizer != NULL, "tokenizer must not be NULL");
  PRISM__CHECK_ARG(model != NULL, "model must not be NULL");
  rc = PRISM__PARAMS_READ(&p, params, &explainer_defaults, PARAMS_V1_SIZE, fn);
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  if (rc == PRISM_OK)
    rc = prism_bart_get_info(&info, model);
  if (rc != PRISM_OK)
    return rc;
  if (prism_tokenizer_vocab_size(tokenizer) > info.vocab_size)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: the tokenizer has %d tokens, but the model only %d", fn,
                        (int)prism_tokenizer_vocab_size(tokenizer), (int)info.vocab_size);
  /* A model whose generation settings cannot run is refused here, not at the first call. */
  prism_generate_params_init(&defaults, sizeof defaults);
  if ((rc = prism_generate_params_from_model(&defaults, model, NULL)) != PRISM_OK)
    return prism__error_prefix("%s: ", fn);
  return explainer_new(out, tokenizer, model, &p, &info);
}

PRISM_API int prism_explainer_load(prism_explainer **out, const char *model_dir,
                                   const prism_explainer_params *params)
{
  prism_tokenizer *tok = NULL;
  prism_bart *model = NULL;
  int rc;

  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(model_dir != NULL, "model_dir must not be NULL");
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
  int32_t pad = ex->pad_token_id;
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

static int batch_new(prism_text_batch **out, size_t count_hint)
{
  prism_text_batch *b = prism__calloc(1, sizeof *b);
  if (!b || !(b->offsets = prism__calloc(count_hint + 1, sizeof *b->offsets))) {
    prism__free(b);
    return PRISM_ERR_NO_MEMORY;
  }
  b->count_cap = count_hint;
  *out = b;
  return PRISM_OK;
}

/* Room for `more` texts after the current ones. */
static int batch_reserve(prism_text_batch *b, size_t more)
{
  size_t *bigger;
  if (b->count + more <= b->count_cap)
    return PRISM_OK;
  if (!(bigger = prism__realloc(b->offsets, (b->count + more + 1) * sizeof *bigger)))
    return PRISM_ERR_NO_MEMORY;
  b->offsets = bigger;
  b->count_cap = b->count + more;
  return PRISM_OK;
}

/* Append the detokenized ids as text number b->count. */
static int batch_append(prism_text_batch *b, const prism_tokenizer *tok, const int32_t *ids,
                        size_t n, unsigned flags)
{
  size_t used = b->offsets[b->count], len;
  int rc = prism_tokenizer_decode(b->text ? b->text + used : NULL, b->text ? b->text_cap - used : 0,
                                  &len, tok, ids, n, flags);
  if (rc == PRISM_ERR_BUFFER_TOO_SMALL || (rc == PRISM_OK && !b->text)) {
    size_t want = used + len + 1 > 2 * b->text_cap ? used + len + 1 : 2 * b->text_cap;
    char *bigger = prism__realloc(b->text, want);
    if (!bigger)
      return PRISM_ERR_NO_MEMORY;
    b->text = bigger;
    b->text_cap = want;
    rc = prism_tokenizer_decode(b->text + used, b->text_cap - used, &len, tok, ids, n, flags);
  }
  if (rc != PRISM_OK)
    return rc;
  b->text[used + len] = '\0';
  b->offsets[++b->count] = used + len + 1;
  return PRISM_OK;
}

/* One decoder pass over prompts[0..n): generate, then detokenize into `b`. */
static int run_pass(prism_explainer *ex, const char *const *prompts, size_t n,
                    const prism_generate_params *params, prism_generate_stream_fn stream,
                    void *payload, prism_text_batch *b)
{
  int32_t *flat = NULL, *ids = NULL, *mask = NULL;
  size_t *start = prism__calloc(n + 1, sizeof *start), width = 0, count;
  prism_generate_result *res = NULL;
  int rc;

  if (!start)
    return PRISM_ERR_NO_MEMORY;
  if ((rc = encode_all(ex->tok, prompts, n, &flat, start)) != PRISM_OK ||
      (rc = build_batch(ex, flat, start, n, &ids, &mask, &width)) != PRISM_OK ||
      (rc = prism_generate_run(&res, ex->session, ids, mask, n, width, params, stream, payload)) !=
          PRISM_OK)
    goto done;
  count = prism_generate_result_count(res);
  rc = batch_reserve(b, count);
  for (size_t i = 0; i < count && rc == PRISM_OK; i++) {
    const int32_t *seq =
        prism_generate_result_sequences(res) + i * prism_generate_result_width(res);
    rc = batch_append(b, ex->tok, seq, (size_t)prism_generate_result_lengths(res)[i],
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
  prism_text_batch *b;
  int rc;

  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(ex != NULL, "explainer must not be NULL");
  PRISM__CHECK_ARG(prompts != NULL && n_prompts > 0, "prompts must hold at least one prompt");
  for (size_t i = 0; i < n_prompts; i++)
    if (!prompts[i])
      return prism__error(PRISM_ERR_INVALID_ARGUMENT, "prism_explainer_run: prompt %zu is NULL", i);
  if ((rc = batch_new(&b, n_prompts)) != PRISM_OK)
    return rc;
  for (size_t first = 0; first < n_prompts && rc == PRISM_OK; first += ex->params.max_batch) {
    size_t n = n_prompts - first < ex->params.max_batch ? n_prompts - first : ex->params.max_batch;
    rc = run_pass(ex, prompts + first, n, params, stream, payload, b);
  }
  if (rc != PRISM_OK) {
    prism_text_batch_free(b);
    return prism__error_at(__func__, rc);
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
