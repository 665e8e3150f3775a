/* The input lines of `prism eval-text` (eval_text_input.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_text_input.h"

static int bad(char *err, size_t err_size, const char *msg)
{
  snprintf(err, err_size, "%s", msg);
  return EVAL_TEXT_BAD;
}

/* A string field: 1 present, 0 absent (or null when `null_ok`), -1 of the wrong type. */
static int string_field(const json_t *obj, const char *key, int null_ok, const char **out)
{
  const json_t *v = json_object_get(obj, key);
  *out = NULL;
  if (!v || (null_ok && json_is_null(v)))
    return 0;
  if (!json_is_string(v))
    return -1;
  *out = json_string_value(v);
  return 1;
}

static int grounded_field(eval_text_row *row, char *err, size_t err_size)
{
  const json_t *g = json_object_get(row->root, "grounded");
  size_t n;
  if (!json_is_array(g))
    return bad(err, err_size, "\"grounded\" must be an array of titles");
  n = json_array_size(g);
  row->grounded = malloc((n ? n : 1) * sizeof *row->grounded);
  if (!row->grounded)
    return bad(err, err_size, "out of memory");
  for (size_t i = 0; i < n; i++) {
    row->grounded[i] = json_string_value(json_array_get(g, i));
    if (!row->grounded[i]) {
      snprintf(err, err_size, "\"grounded\"[%zu] is not a string", i);
      return EVAL_TEXT_BAD;
    }
  }
  row->grounded_count = n;
  return EVAL_TEXT_ROW;
}

static int fields(eval_text_row *row, int faithfulness, char *err, size_t err_size)
{
  int ref = string_field(row->root, "reference", 0, &row->reference);
  if (string_field(row->root, "hypothesis", 0, &row->hypothesis) != 1)
    return bad(err, err_size, "expected \"hypothesis\": string");
  if (ref < 0 || (ref == 0 && !faithfulness))
    return bad(err, err_size, "expected \"reference\": string");
  if (string_field(row->root, "feature", 1, &row->feature) < 0)
    return bad(err, err_size, "\"feature\" must be a string or null");
  if (!faithfulness)
    return EVAL_TEXT_ROW;
  if (string_field(row->root, "item", 0, &row->item) != 1)
    return bad(err, err_size, "expected \"item\": the recommended title (string)");
  return grounded_field(row, err, err_size);
}

int eval_text_parse(eval_text_row *row, const char *line, size_t len, int faithfulness, char *err,
                    size_t err_size)
{
  json_error_t jerr;
  size_t i = 0;
  int rc;
  memset(row, 0, sizeof *row);
  while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
    i++;
  if (i == len)
    return EVAL_TEXT_BLANK;
  /* A key given twice is refused, as in every JSON the tool reads. */
  row->root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!row->root) {
    snprintf(err, err_size, "invalid JSON at column %d: %s", jerr.column, jerr.text);
    return EVAL_TEXT_BAD;
  }
  rc = json_is_object(row->root) ? fields(row, faithfulness, err, err_size)
                                 : bad(err, err_size, "expected a JSON object");
  if (rc != EVAL_TEXT_ROW)
    eval_text_row_free(row);
  return rc;
}

void eval_text_row_free(eval_text_row *row)
{
  free(row->grounded);
  json_decref(row->root);
  memset(row, 0, sizeof *row);
}
