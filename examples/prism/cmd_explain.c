/*
 * prism explain --model DIR [--threads N]
 *
 * In:  {"text": S, "params"?: {...}}  or  {"texts": [S], "params"?: {...}}
 * Out: {"explanations": [S]}  (num_return_sequences per text, in order)
 *
 * DIR is a HuggingFace BART folder with its tokenizer files.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The prompts of one line: "text" or "texts"; returns 0 or writes `err`. */
static int read_texts(const json_t *line, const char ***out, size_t *n, char *err, size_t size)
{
  static const char *const keys[] = { "text", "texts", "params", NULL };
  const json_t *text = json_object_get(line, "text"), *texts = json_object_get(line, "texts");

  if (cli_check_keys(line, keys, err, size) != 0)
    return -1;
  if (!text == !texts) {
    snprintf(err, size,
             "give exactly one of \"text\" (a string) or \"texts\" (an array of strings)");
    return -1;
  }
  if (text) {
    if (!json_is_string(text)) {
      snprintf(err, size, "\"text\" must be a string");
      return -1;
    }
    texts = NULL;
    *n = 1;
  } else if (!json_is_array(texts) || json_array_size(texts) == 0) {
    snprintf(err, size, "\"texts\" must be a non-empty array of strings");
    return -1;
  } else {
    *n = json_array_size(texts);
  }
  *out = malloc(*n * sizeof **out);
  if (!*out) {
    snprintf(err, size, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < *n; i++) {
    const json_t *t = texts ? json_array_get(texts, i) : text;
    if (!json_is_string(t) || strlen(json_string_value(t)) != json_string_length(t)) {
      snprintf(err, size, "\"texts\"[%zu] must be a string without NUL characters", i);
      free(*out);
      return -1;
    }
    (*out)[i] = json_string_value(t);
  }
  return 0;
}

static void on_line(json_t *line, void *ctx)
{
  prism_explainer *ex = ctx;
  const char **texts = NULL;
  prism_generate_params params;
  prism_text_batch *out = NULL;
  char err[256];
  size_t n = 0;
  json_t *list;
  int rc;

  if (read_texts(line, &texts, &n, err, sizeof err) != 0) {
    cli_emit_error(PRISM_ERR_INVALID_ARGUMENT, err);
    return;
  }
  rc = cli_generate_params(json_object_get(line, "params"), &params);
  if (rc == PRISM_OK)
    rc = prism_explainer_run(&out, ex, texts, n, &params, NULL, NULL);
  free(texts);
  if (rc != PRISM_OK) {
    cli_emit_last_error(rc);
    return;
  }
  list = json_array();
  for (size_t i = 0; i < prism_text_batch_count(out); i++) {
    size_t len;
    const char *s = prism_text_batch_get(out, i, &len);
    json_array_append_new(list, json_stringn(s, len));
  }
  prism_text_batch_free(out);
  cli_emit(json_pack("{s:o}", "explanations", list));
}

static int run(const cli_args *args)
{
  cli_explainer e;
  int rc;

  cli_set_threads(args);
  if ((rc = cli_explainer_load(&e, args, cli_str(args, "--model"), NULL)) != PRISM_OK)
    cli_fatal_status(rc, "explain: cannot load the model");
  cli_each_line(on_line, e.ex);
  cli_explainer_free(&e);
  return 0;
}

static const cli_option options[] = {
  { "--model", CLI_DIR, "DIR", NULL, NULL,
    "a HuggingFace BART folder with its tokenizer files (vocab.json + merges.txt or "
    "tokenizer.json)",
    0, 0, 1 },
  CLI_OPTION_THREADS,
  CLI_OPTIONS_LIMITS,
  CLI_OPTIONS_WEIGHTS,
  CLI_OPTIONS_END,
};

const cli_command cli_cmd_explain = {
  "explain",
  "explain: prompts in, a BART student's explanations out",
  "< prompts.jsonl",
  "  Each prompt is tokenized as <s> prompt </s>, all prompts of a line are decoded together,\n"
  "  and the outputs are detokenized without special tokens.\n"
  "  in:  {\"text\": S, \"params\"?: {...}}  or  {\"texts\": [S], \"params\"?: {...}}\n"
  "       (params: HF generate() keywords, as for prism generate)\n"
  "  out: {\"explanations\": [S]}  (num_return_sequences per prompt, in order)\n",
  "echo '{\"text\": \"history: Winter Hours (literary drama) | item: Orchard in August (literary "
  "drama) | evidence: Winter Hours (literary drama)\"}' | prism explain --model "
  "examples/demo/model",
  options,
  run,
};
