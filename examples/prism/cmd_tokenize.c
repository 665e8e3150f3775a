/*
 * prism tokenize   --tokenizer DIR [--no-special]    {"text": S}    -> {"ids": [int]}
 * prism detokenize --tokenizer DIR [--skip-special]  {"ids": [int]} -> {"text": S}
 * Any other key in a line is an error.
 */
#include <stdlib.h>

#include "cli.h"

static const char *const tokenize_keys[] = { "text", NULL };
static const char *const detokenize_keys[] = { "ids", NULL };

typedef struct tok_ctx {
  prism_tokenizer *tok;
  unsigned flags;
} tok_ctx;

static prism_tokenizer *load_tokenizer(const cli_args *args)
{
  prism_tokenizer *tok = NULL;
  int rc = prism_tokenizer_load(&tok, cli_str(args, "--tokenizer"), NULL);
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "cannot load the tokenizer");
  return tok;
}

static void tokenize_line(json_t *line, void *payload)
{
  const tok_ctx *ctx = payload;
  const json_t *text = json_object_get(line, "text");
  int32_t *ids = NULL;
  size_t n = 0;
  json_t *out;
  char err[160];
  int rc;

  if (cli_check_keys(line, tokenize_keys, err, sizeof err) != 0) {
    cli_emit_error(PRISM_ERR_INVALID_ARGUMENT, err);
    return;
  }
  if (!json_is_string(text)) {
    cli_emit_error(PRISM_ERR_FORMAT, "expected {\"text\": string}");
    return;
  }
  rc = prism_tokenizer_encode(NULL, 0, &n, ctx->tok, json_string_value(text),
                              json_string_length(text), ctx->flags);
  if (rc == PRISM_OK && !(ids = malloc((n ? n : 1) * sizeof *ids)))
    cli_fatal("out of memory");
  if (rc == PRISM_OK)
    rc = prism_tokenizer_encode(ids, n, &n, ctx->tok, json_string_value(text),
                                json_string_length(text), ctx->flags);
  if (rc != PRISM_OK) {
    cli_emit_last_error(rc);
    free(ids);
    return;
  }
  out = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(out, json_integer(ids[i]));
  cli_emit(json_pack("{s:o}", "ids", out));
  free(ids);
}

static void detokenize_line(json_t *line, void *payload)
{
  const tok_ctx *ctx = payload;
  char err[160], *text = NULL;
  int *ids = NULL;
  size_t n = 0, len = 0;
  int rc;

  if (cli_check_keys(line, detokenize_keys, err, sizeof err) != 0) {
    cli_emit_error(PRISM_ERR_INVALID_ARGUMENT, err);
    return;
  }
  if (cli_int_array(json_object_get(line, "ids"), &ids, &n, err, sizeof err) != 0) {
    cli_emit_error(PRISM_ERR_FORMAT, err);
    return;
  }
  rc = prism_tokenizer_decode(NULL, 0, &len, ctx->tok, ids, n, ctx->flags);
  if (rc == PRISM_OK && !(text = malloc(len + 1)))
    cli_fatal("out of memory");
  if (rc == PRISM_OK)
    rc = prism_tokenizer_decode(text, len + 1, &len, ctx->tok, ids, n, ctx->flags);
  if (rc == PRISM_OK)
    cli_emit(json_pack("{s:s%}", "text", text, len));
  else
    cli_emit_last_error(rc);
  free(text);
  free(ids);
}

static int run(const cli_args *args, unsigned flags, void (*fn)(json_t *line, void *payload))
{
  tok_ctx ctx;
  ctx.flags = flags;
  ctx.tok = load_tokenizer(args);
  cli_each_line(fn, &ctx);
  prism_tokenizer_free(ctx.tok);
  return 0;
}

static int run_tokenize(const cli_args *args)
{
  return run(args, cli_flag(args, "--no-special") ? PRISM_TOKENIZER_NO_SPECIAL : 0, tokenize_line);
}

static int run_detokenize(const cli_args *args)
{
  return run(args, cli_flag(args, "--skip-special") ? PRISM_TOKENIZER_SKIP_SPECIAL : 0,
             detokenize_line);
}

#define OPTION_TOKENIZER \
  { \
    "--tokenizer", CLI_DIR, "DIR", NULL, NULL, \
        "a folder with vocab.json + merges.txt, or tokenizer.json", 0, 0, 1 \
  }

static const cli_option tokenize_options[] = {
  OPTION_TOKENIZER,
  { "--no-special", CLI_FLAG, NULL, NULL, NULL, "do not add <s> ... </s> around the text", 0, 0,
    0 },
  CLI_OPTION_LIMIT("--limit-text-bytes", "1048576", "bytes of one text given to the tokenizer"),
  CLI_OPTIONS_END,
};

static const cli_option detokenize_options[] = {
  OPTION_TOKENIZER,
  { "--skip-special", CLI_FLAG, NULL, NULL, NULL,
    "leave special tokens (<s>, </s>, <pad>, ...) out of the text", 0, 0, 0 },
  CLI_OPTIONS_END,
};

const cli_command cli_cmd_tokenize = {
  "tokenize",
  "text to token ids: {\"text\": S} -> {\"ids\": [int]}",
  "< texts.jsonl",
  "  A byte-level BPE tokenizer with HF BartTokenizer's ids.\n"
  "  in:  {\"text\": S}\n"
  "  out: {\"ids\": [int]}\n",
  "echo '{\"text\": \"Hello world\"}' | prism tokenize --tokenizer tests/fixtures/bart-vocab",
  tokenize_options,
  run_tokenize,
};

const cli_command cli_cmd_detokenize = {
  "detokenize",
  "token ids to text: {\"ids\": [int]} -> {\"text\": S}",
  "< ids.jsonl",
  "  Tokenization spaces are not cleaned up, so the text round-trips.\n"
  "  in:  {\"ids\": [int]}\n"
  "  out: {\"text\": S}\n",
  "echo '{\"ids\": [0, 31414, 232, 2]}' | prism detokenize --tokenizer tests/fixtures/bart-vocab "
  "--skip-special",
  detokenize_options,
  run_detokenize,
};
