/* Internal: JSON (jansson) parsing with errors that name the file, line and key. */
#ifndef PRISM__COMMON_JSON_H
#define PRISM__COMMON_JSON_H

#include <jansson.h>
#include <stddef.h>

/*
 * Parse `len` bytes (jansson `flags`; duplicate keys are always refused); on
 * failure a PRISM_ERR_FORMAT naming `what`, line and column.
 */
int prism__json_parse(const void *buf, size_t len, size_t flags, const char *what, json_t **out);

/*
 * Typed field access on an object. Each returns PRISM_OK and fills *out, or
 * PRISM_ERR_NOT_FOUND when the key is absent (*out untouched, no error set
 * unless `required`), or PRISM_ERR_FORMAT naming `what` and the key when the
 * value has the wrong type or range.
 */
int prism__json_int(const json_t *obj, const char *key, const char *what, int required,
                    long long lo, long long hi, long long *out);
int prism__json_real(const json_t *obj, const char *key, const char *what, int required,
                     double *out);
int prism__json_bool(const json_t *obj, const char *key, const char *what, int required, int *out);
int prism__json_str(const json_t *obj, const char *key, const char *what, int required,
                    const char **out);

/*
 * JSON Lines: call `fn` with each non-blank line of `data` parsed as a JSON
 * object (a key given twice is refused) and its 1-based line number. Blank
 * lines (spaces, tabs, a CR) are skipped. Parsing stops at the first failure,
 * whose message is prefixed "<what> line <N>: " (a line that is not JSON, or
 * not an object, fails the same way); `fn` sets its own message without the
 * prefix. Returns PRISM_OK or the failure's status.
 */
typedef int (*prism__json_line_fn)(const json_t *line, size_t line_no, void *ctx);
int prism__json_lines(const char *data, size_t len, const char *what, prism__json_line_fn fn,
                      void *ctx);

#endif
