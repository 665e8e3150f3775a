/* Internal: setting the thread-local last error. */
#ifndef PRISM__COMMON_ERROR_H
#define PRISM__COMMON_ERROR_H

#include <stdarg.h>

#include "prism/common.h"

#if defined(__GNUC__)
#  define PRISM__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define PRISM__PRINTF(f, a)
#endif

/*
 * Record `status` with a printf-style message as this thread's last error and
 * return `status`, so a failure reads `return prism__error(PRISM_ERR_IO, "...")`.
 */
int prism__error(int status, const char *fmt, ...) PRISM__PRINTF(2, 3);
int prism__verror(int status, const char *fmt, va_list ap) PRISM__PRINTF(2, 0);

/*
 * Prefix the current last error with more context ("file.json: " + old), keeping
 * its status; returns that status. Used when a lower layer did not know the file.
 */
int prism__error_prefix(const char *fmt, ...) PRISM__PRINTF(1, 2);

/*
 * At a public entry point: a failure's message starts with the public
 * function's name. Prefixes "fn: " when the last error does not already start
 * with it, records `status`, and returns it (PRISM_OK passes through).
 */
int prism__error_at(const char *fn, int status);

/* Log through the installed callback (no-op without one). */
void prism__log(int level, const char *fmt, ...) PRISM__PRINTF(2, 3);

/*
 * Argument checks for public entry points: `expected` says in words what the
 * argument must be ("model must not be NULL"); the message reads
 * "<function>: <expected>".
 */
#define PRISM__CHECK_ARG(cond, expected) \
  do { \
    if (!(cond)) \
      return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: %s", __func__, (expected)); \
  } while (0)

/* Argument checks for public entry points (being replaced by PRISM__CHECK_ARG). */
#define PRISM_CHECK_ARG(cond) \
  do { \
    if (!(cond)) \
      return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: invalid argument: %s", __func__, \
                          #cond); \
  } while (0)

#endif
