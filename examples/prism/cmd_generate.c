/*
 * prism generate --model DIR [--threads N] [--timing] [--bf16-weights | --int8-weights]
 *
 * In:  {"input_ids": [[int]], "attention_mask"?: [[0/1]], "params"?: {HF generate() kwargs}}
 * Out: {"sequences": [[int]], "sequences_scores"?: [float], "timing"?: {...}}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct gen_ctx {
  prism_bart *model;
  prism_bart_session *session; /* grows to what each request needs */
  int timing;
} gen_ctx;

/* A padded batch from a JSON array of equally long integer rows. */
typedef struct batch {
  int32_t *data;
  size_t rows, cols;
} batch;

static int read_batch(const json_t *value, const char *key, batch *out, char *err, size_t size)
{
  size_t i;
  memset(out, 0, sizeof *out);
  if (!json_is_array(value) || json_array_size(value) == 0) {
    snprintf(err, size, "\"%s\" must be a non-empty array of arrays of integers", key);
    return -1;
  }
  out->rows = json_array_size(value);
  for (i = 0; i < out->rows; i++) {
    int *row;
    size_t n;
    char what[160];
    if (cli_int_array(json_array_get(value, i), &row, &n, what, sizeof what) != 0) {
      snprintf(err, size, "\"%s\"[%zu]: %s", key, i, what);
      break;
    }
    if (i == 0) {
      out->cols = n;
      out->data = n ? malloc(out->rows * n * sizeof *out->data) : NULL;
    }
    if (n == 0)
      snprintf(err, size, "\"%s\"[%zu] is empty", key, i);
    else if (n != out->cols)
      snprintf(err, size, "\"%s\"[%zu] has %zu tokens, row 0 has %zu (pad the batch)", key, i, n,
               out->cols);
    else if (!out->data)
      snprintf(err, size, "out of memory");
    if (n == 0 || n != out->cols || !out->data) {
      free(row);
      break;
    }
    for (size_t j = 0; j < n; j++)
      out->data[i * n + j] = row[j];
    free(row);
  }
  if (i == out->rows)
    return 0;
  free(out->data);
  out->data = NULL;
  return -1;
}

static const char *const line_keys[] = { "input_ids", "attention_mask", "params", NULL };

static json_t *result_json(const prism_generate_result *res, int timing)
{
  size_t count = prism_generate_result_count(res), width = prism_generate_result_width(res);
  const int32_t *seq = prism_generate_result_sequences(res);
  const float *scores = prism_generate_result_scores(res);
  json_t *out = json_object(), *rows = json_array();
  for (size_t i = 0; i < count; i++) {
    json_t *row = json_array();
    for (size_t t = 0; t < width; t++)
      json_array_append_new(row, json_integer(seq[i * width + t]));
    json_array_append_new(rows, row);
  }
  json_object_set_new(out, "sequences", rows);
  if (scores) {
    json_t *s = json_array();
    for (size_t i = 0; i < count; i++)
      json_array_append_new(s, json_real(scores[i]));
    json_object_set_new(out, "sequences_scores", s);
  }
  if (timing) {
    prism_generate_stats st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    prism_generate_result_stats(&st, res);
    json_object_set_new(out, "timing",
                        json_pack("{s:f,s:f,s:i,s:i}", "encode_ms", st.encode_ms, "decode_ms",
                                  st.decode_ms, "steps", st.steps, "rows", st.rows));
  }
  return out;
}

static void on_line(json_t *line, void *arg)
{
  gen_ctx *ctx = arg;
  const json_t *mask_json = json_object_get(line, "attention_mask");
  batch ids, mask = { NULL, 0, 0 };
  prism_generate_params p;
  prism_generate_result *res = NULL;
  char err[256];
  int rc;

  if (cli_check_keys(line, line_keys, err, sizeof err) != 0 ||
      read_batch(json_object_get(line, "input_ids"), "input_ids", &ids, err, sizeof err) != 0) {
    cli_emit_error(PRISM_ERR_INVALID_ARGUMENT, err);
    return;
  }
  if (mask_json && !json_is_null(mask_json) &&
      (read_batch(mask_json, "attention_mask", &mask, err, sizeof err) != 0 ||
       mask.rows != ids.rows || mask.cols != ids.cols)) {
    if (mask.data)
      snprintf(err, sizeof err, "\"attention_mask\" is %zu x %zu, \"input_ids\" %zu x %zu",
               mask.rows, mask.cols, ids.rows, ids.cols);
    cli_emit_error(PRISM_ERR_INVALID_ARGUMENT, err);
    free(ids.data);
    free(mask.data);
    return;
  }
  rc = cli_generate_params(json_object_get(line, "params"), &p);
  if (rc == PRISM_OK)
    rc = prism_generate_run(&res, ctx->session, ids.data, mask.data, ids.rows, ids.cols, &p, NULL,
                            NULL);
  if (rc == PRISM_OK)
    cli_emit(result_json(res, ctx->timing));
  else
    cli_emit_last_error(rc);
  prism_generate_result_free(res);
  free(ids.data);
  free(mask.data);
}

static int run(const cli_args *args)
{
  gen_ctx ctx;
  prism_bart_load_params load;
  prism_generate_params defaults;
  int rc;

  memset(&ctx, 0, sizeof ctx);
  ctx.timing = cli_flag(args, "--timing");
  prism_bart_load_params_init(&load, sizeof load);
  load.flags = cli_load_flags(args);
  cli_set_threads(args);
  rc = prism_bart_load(&ctx.model, cli_str(args, "--model"), &load);
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "generate: cannot load the model");
  /* Generation settings the model's files carry that cannot run are refused at start. */
  prism_generate_params_init(&defaults, sizeof defaults);
  rc = prism_generate_params_from_model(&defaults, ctx.model, NULL);
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "generate: the model's generation settings");
  rc = prism_bart_session_create(&ctx.session, ctx.model, NULL);
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "generate: cannot create a session");
  cli_each_line(on_line, &ctx);
  prism_bart_session_free(ctx.session);
  prism_bart_free(ctx.model);
  return 0;
}

static const cli_option options[] = {
  { "--model", CLI_DIR, "DIR", NULL, NULL,
    "a HuggingFace BART folder (config.json, model.safetensors or a sharded index, optional "
    "generation_config.json)",
    0, 0, 1 },
  CLI_OPTION_THREADS,
  CLI_OPTIONS_LIMITS,
  { "--timing", CLI_FLAG, NULL, NULL, NULL, "add a \"timing\" object to every output line", 0, 0,
    0 },
  CLI_OPTIONS_WEIGHTS,
  CLI_OPTIONS_END,
};

const cli_command cli_cmd_generate = {
  "generate",
  "generate token ids with a BART model, as HF generate() does",
  "< requests.jsonl",
  "  in:  {\"input_ids\": [[int]], \"attention_mask\"?: [[0|1]], \"params\"?: {HF generate() "
  "keywords}}\n"
  "  out: {\"sequences\": [[int]], \"sequences_scores\"?: [float], \"timing\"?: {...}}\n",
  "echo '{\"input_ids\": [[0, 17, 42, 99, 5, 2]]}' | prism generate --model "
  "tests/fixtures/tiny-bart-copy",
  options,
  run,
};
