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
  const json_t *text = json_object_get(line, "text"), *texts = json_object_get(line, "texts");
  const char *key;
  json_t *value;

  json_object_foreach((json_t *)line, key, value)
  {
    if (strcmp(key, "text") && strcmp(key, "texts") && strcmp(key, "params")) {
      snprintf(err, size, "unknown key \"%s\" (expected text or texts, params)", key);
      return -1;
    }
  }
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

int cli_cmd_explain(cli_args *args)
{
  const char *dir = cli_opt(args, "--model");
  long threads = cli_opt_long(args, "--threads", 0, 0, 1024);
  prism_explainer *ex;
  int rc;

  cli_no_extra(args);
  if (!dir)
    cli_fatal("explain: --model DIR is required");
  prism_set_num_threads((int)threads);
  if ((rc = prism_explainer_load(&ex, dir, NULL)) != PRISM_OK)
    cli_fatal_status(rc, "explain: cannot load the model");
  cli_each_line(on_line, ex);
  prism_explainer_free(ex);
  return 0;
}
