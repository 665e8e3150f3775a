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

#endif
