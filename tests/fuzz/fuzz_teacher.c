/*
 * The teacher's JSON Lines: answers through prism_teacher_import_parse (first
 * byte even; bit 1 drops hallucinated answers, bit 2 reads "response" as the
 * answer's key) over three fixed requests, or requests through
 * prism_teacher_requests_parse (first byte odd), each written back as a line
 * that must read back the same.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static const prism_prompt_item history[] = { { "Winter Hours", "literary drama" },
                                             { "Red Asset", "thriller" } };
static const prism_prompt_item item = { "The Glass Road", "literary drama" };

static void answers(const uint8_t *data, size_t size, uint8_t opts)
{
  prism_teacher_requests *r = NULL;
  prism_teacher_import *m = NULL;
  prism_teacher_import_params p;
  prism_teacher_import_stats before = { .struct_size = sizeof before },
                             after = { .struct_size = sizeof after };
  int rc;
  if (prism_teacher_requests_create(&r, NULL) != PRISM_OK ||
      prism_teacher_requests_add(r, NULL, history, 2, &item, history, 1) != PRISM_OK ||
      prism_teacher_requests_add(r, NULL, history + 1, 1, &item, NULL, 0) != PRISM_OK ||
      prism_teacher_requests_add(r, "u1/b2", NULL, 0, history, NULL, 0) != PRISM_OK)
    __builtin_trap();
  prism_teacher_import_params_init(&p, sizeof p);
  p.drop_hallucinated = (opts >> 1) & 1;
  p.answer_key = opts & 4 ? "response" : NULL;
  if (prism_teacher_import_create(&m, r, &p) != PRISM_OK)
    __builtin_trap();
  prism_teacher_import_get_stats(&before, m);
  rc = prism_teacher_import_parse(m, (const char *)data, size, "fuzz");
  prism_teacher_import_get_stats(&after, m);
  if (rc != PRISM_OK && memcmp(&before, &after, sizeof before) != 0) /* all or nothing */
    __builtin_trap();
  if (after.pairs + after.unanswered != after.requests || after.pairs > after.answers ||
      after.failed + after.empty + after.unknown_id + after.duplicate > after.dropped ||
      prism_teacher_import_count(m) != after.pairs ||
      prism_teacher_import_drop_count(m) != after.dropped)
    __builtin_trap();
  for (size_t i = 0; i < prism_teacher_import_count(m); i++) {
    char buf[4096];
    size_t len;
    rc = prism_teacher_import_pair_line(buf, sizeof buf, &len, m, i);
    if (rc != PRISM_OK && rc != PRISM_ERR_BUFFER_TOO_SMALL)
      __builtin_trap();
  }
  prism_teacher_import_free(m);
  prism_teacher_requests_free(r);
}

static void requests(const uint8_t *data, size_t size)
{
  prism_teacher_requests *r = NULL, *back = NULL;
  if (prism_teacher_requests_create(&r, NULL) != PRISM_OK ||
      prism_teacher_requests_create(&back, NULL) != PRISM_OK)
    __builtin_trap();
  if (prism_teacher_requests_parse(r, (const char *)data, size, "fuzz") != PRISM_OK &&
      prism_teacher_requests_count(r) != 0)
    __builtin_trap();
  for (size_t i = 0; i < prism_teacher_requests_count(r); i++) {
    size_t len, again;
    char *line, *copy;
    if (prism_teacher_requests_line(NULL, 0, &len, r, i) != PRISM_OK || !(line = malloc(len + 1)))
      __builtin_trap();
    if (prism_teacher_requests_line(line, len + 1, &len, r, i) != PRISM_OK ||
        prism_teacher_requests_parse(back, line, len, "line") != PRISM_OK ||
        prism_teacher_requests_line(NULL, 0, &again, back, i) != PRISM_OK || again != len ||
        !(copy = malloc(len + 1)) ||
        prism_teacher_requests_line(copy, len + 1, &again, back, i) != PRISM_OK ||
        memcmp(copy, line, len) != 0)
      __builtin_trap();
    free(copy);
    free(line);
  }
  prism_teacher_requests_free(back);
  prism_teacher_requests_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  if (data[0] & 1)
    requests(data + 1, size - 1);
  else
    answers(data + 1, size - 1, data[0]);
  return 0;
}
