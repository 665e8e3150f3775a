/*
 * prism tokenize   --tokenizer DIR [--no-special]    {"text": S}    -> {"ids": [int]}
 * prism detokenize --tokenizer DIR [--skip-special]  {"ids": [int]} -> {"text": S}
 */
#include <stdlib.h>

#include "cli.h"

typedef struct tok_ctx {
  prism_tokenizer *tok;
  unsigned flags;
} tok_ctx;

static prism_tokenizer *load_tokenizer(cli_args *args)
{
  const char *dir = cli_opt(args, "--tokenizer");
  prism_tokenizer *tok = NULL;
  int rc;
  if (!dir)
    cli_fatal("missing --tokenizer DIR");
  if ((rc = prism_tokenizer_load(&tok, dir, NULL)) != PRISM_OK)
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
  int rc;

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
  char err[128], *text = NULL;
  int *ids = NULL;
  size_t n = 0, len = 0;
  int rc;

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

static int run(cli_args *args, const char *flag, unsigned flag_value,
               void (*fn)(json_t *line, void *payload))
{
  tok_ctx ctx;
  ctx.flags = cli_flag(args, flag) ? flag_value : 0;
  ctx.tok = load_tokenizer(args);
  cli_no_extra(args);
  cli_each_line(fn, &ctx);
  prism_tokenizer_free(ctx.tok);
  return 0;
}

int cli_cmd_tokenize(cli_args *args)
{
  return run(args, "--no-special", PRISM_TOKENIZER_NO_SPECIAL, tokenize_line);
}

int cli_cmd_detokenize(cli_args *args)
{
  return run(args, "--skip-special", PRISM_TOKENIZER_SKIP_SPECIAL, detokenize_line);
}
