/*
 * prism_generate_run: a request on a BART session. Resolve the parameters over
 * the model's defaults, check the input and the process-wide limits, grow the
 * session to exactly what the request needs, then encode and run the decode
 * loop (search.c) through the session as a prism__generate_decoder.
 */
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/limits.h"
#include "generate_internal.h"

static const char fn_run[] = "prism_generate_run";

static int check_input(const prism_bart_info *info, const int32_t *ids, const int32_t *mask,
                       size_t batch, size_t src_len)
{
  if (src_len > (size_t)info->max_position_embeddings)
    return prism__error(PRISM_ERR_OUT_OF_RANGE,
                        "%s: input length %zu exceeds the model's max_position_embeddings %d",
                        fn_run, src_len, (int)info->max_position_embeddings);
  for (size_t b = 0; b < batch; b++) {
    size_t live = 0;
    for (size_t t = 0; t < src_len; t++) {
      int32_t id = ids[b * src_len + t];
      int32_t m = mask ? mask[b * src_len + t] : id != info->pad_token_id;
      if (id < 0 || id >= info->vocab_size)
        return prism__error(PRISM_ERR_OUT_OF_RANGE,
                            "%s: input_ids[%zu][%zu] = %d is outside the vocabulary [0, %d)",
                            fn_run, b, t, (int)id, (int)info->vocab_size);
      if (m != 0 && m != 1)
        return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                            "%s: attention_mask[%zu][%zu] = %d, but it must be 0 or 1", fn_run, b,
                            t, (int)m);
      live += (size_t)m;
    }
    if (!live)
      return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                          "%s: input row %zu is empty (no token with attention_mask 1)", fn_run, b);
  }
  return PRISM_OK;
}

/* Decoder rows per input: the beams, or the sampled return sequences. */
static size_t rows_per_input(const prism__generate_config *cfg)
{
  return (size_t)(cfg->num_beams > 1 ? cfg->num_beams : cfg->num_return_sequences);
}

/*
 * The process-wide limits that depend on the batch, before anything is
 * allocated (the others were met while the parameters were resolved).
 */
static int check_limits(const prism__generate_config *cfg, size_t batch)
{
  prism_limits lim = prism__limits();
  size_t rows = batch * rows_per_input(cfg);
  uint64_t tokens = (uint64_t)rows * (uint64_t)(cfg->max_length - 1);
  if (lim.max_batch && batch > lim.max_batch)
    return prism__error(PRISM_ERR_LIMIT, "%s: a batch of %zu rows is above the limit max_batch %u",
                        fn_run, batch, (unsigned)lim.max_batch);
  if (lim.max_decoder_rows && rows > lim.max_decoder_rows)
    return prism__error(PRISM_ERR_LIMIT,
                        "%s: %zu decoder rows (batch x beams) are above the limit max_decoder_rows "
                        "%u",
                        fn_run, rows, (unsigned)lim.max_decoder_rows);
  if (lim.max_decoder_tokens && tokens > lim.max_decoder_tokens)
    return prism__error(PRISM_ERR_LIMIT,
                        "%s: %zu decoder rows x %d new tokens are above the limit "
                        "max_decoder_tokens %llu",
                        fn_run, rows, (int)cfg->max_length - 1,
                        (unsigned long long)lim.max_decoder_tokens);
  return PRISM_OK;
}

static int session_start(void *ctx, size_t rows)
{
  return prism_bart_session_decoder_start(ctx, rows);
}

static int session_step(void *ctx, const int32_t *tokens, const float **logits)
{
  return prism_bart_session_decoder_step(ctx, tokens, logits);
}

static int session_reorder(void *ctx, const int32_t *src_rows)
{
  return prism_bart_session_decoder_reorder(ctx, src_rows);
}

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

PRISM_API int prism_generate_run(prism_generate_result **out, prism_bart_session *session,
                                 const int32_t *input_ids, const int32_t *attention_mask,
                                 size_t batch, size_t src_len, const prism_generate_params *params,
                                 prism_generate_stream_fn stream, void *payload)
{
  const prism_bart *model;
  prism__generate_decoder dec = { NULL, session_start, session_step, session_reorder };
  prism__generate_config cfg;
  prism_generate_result *res = NULL;
  prism_bart_info info;
  double t0, t1;
  int rc;

  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(session != NULL, "session must not be NULL");
  PRISM__CHECK_ARG(input_ids != NULL, "input_ids must not be NULL");
  PRISM__CHECK_ARG(batch >= 1 && src_len >= 1, "batch and src_len must be at least 1");
  model = prism_bart_session_model(session);
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  rc = prism_bart_get_info(&info, model);
  if (rc == PRISM_OK)
    rc = prism__generate_prepare(&cfg, model, params, fn_run);
  if (rc == PRISM_OK)
    rc = check_limits(&cfg, batch);
  if (rc == PRISM_OK)
    rc = check_input(&info, input_ids, attention_mask, batch, src_len);
  /* The last token is never fed back, so max_length - 1 decoder positions suffice. */
  if (rc == PRISM_OK)
    rc = prism_bart_session_reserve(session, batch, batch * rows_per_input(&cfg), src_len,
                                    (size_t)cfg.max_length - 1);
  if (rc != PRISM_OK)
    return prism__error_at(fn_run, rc);
  t0 = now_ms();
  rc = prism_bart_session_encode(session, input_ids, attention_mask, batch, src_len, NULL);
  if (rc != PRISM_OK)
    return prism__error_at(fn_run, rc);
  t1 = now_ms();
  dec.ctx = session;
  rc = prism__generate_decode(&res, &dec, &cfg, batch, stream, payload);
  if (rc != PRISM_OK)
    return prism__error_at(fn_run, rc);
  res->stats.encode_ms = t1 - t0;
  res->stats.decode_ms = now_ms() - t1;
  *out = res;
  return PRISM_OK;
}
