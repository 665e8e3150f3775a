/*
 * The input lines of `prism eval-text` (cmd_eval_text.c; also fuzzed by
 * tests/fuzz/fuzz_eval_text.c):
 *   {"reference": S, "hypothesis": S, "feature"?: S|null}             text metrics
 *   {"hypothesis": S, "item": S, "grounded": [S], "reference"?: S, ...} faithfulness
 * Other keys are ignored.
 */
#ifndef PRISM_CLI_EVAL_TEXT_INPUT_H
#define PRISM_CLI_EVAL_TEXT_INPUT_H

#include <stddef.h>

#include <jansson.h>

typedef struct eval_text_row {
  json_t *root;                       /* owns every string below */
  const char *reference, *hypothesis; /* reference NULL when absent */
  const char *feature;                /* NULL when absent or null */
  const char *item;                   /* faithfulness only */
  const char **grounded;              /* malloc'd array of grounded_count strings */
  size_t grounded_count;
} eval_text_row;

enum { EVAL_TEXT_ROW = 0, EVAL_TEXT_BLANK = 1, EVAL_TEXT_BAD = -1 };

/*
 * Parse one line of `len` bytes. `faithfulness` nonzero asks for "item" and
 * "grounded" (and makes "reference" optional). Returns EVAL_TEXT_ROW with
 * `row` filled (release it with eval_text_row_free), EVAL_TEXT_BLANK for a
 * line of white space, or EVAL_TEXT_BAD with a message in err.
 */
int eval_text_parse(eval_text_row *row, const char *line, size_t len, int faithfulness, char *err,
                    size_t err_size);

void eval_text_row_free(eval_text_row *row);

#endif
