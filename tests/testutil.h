/* Shared helpers for the cmocka suites. */
#ifndef PRISM_TESTUTIL_H
#define PRISM_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "prism/prism.h"

/* Path of a fixture file: PRISM_FIXTURES "/" rel, in a static buffer per call site. */
static inline const char *fixture_path(char *buf, size_t size, const char *rel)
{
  const char *dir = getenv("PRISM_FIXTURES");
  snprintf(buf, size, "%s/%s", dir && *dir ? dir : PRISM_FIXTURES, rel);
  return buf;
}

/* Assert a status code, printing the last error when it differs. */
#define assert_status(expr, expected) \
  do { \
    int rc_ = (expr); \
    if (rc_ != (expected)) \
      print_error("%s -> %s (%d), want %s: %s\n", #expr, prism_status_name(rc_), rc_, \
                  prism_status_name(expected), prism_last_error()); \
    assert_int_equal(rc_, (expected)); \
  } while (0)

#define assert_ok(expr) assert_status((expr), PRISM_OK)

/* Assert that the last error message contains `needle`. */
#define assert_error_mentions(needle) \
  do { \
    if (!strstr(prism_last_error(), (needle))) \
      print_error("last error \"%s\" does not mention \"%s\"\n", prism_last_error(), (needle)); \
    assert_non_null(strstr(prism_last_error(), (needle))); \
  } while (0)

/* Assert that the last error message starts with `prefix` (a public function's "name: "). */
#define assert_error_begins(prefix) \
  do { \
    if (strncmp(prism_last_error(), (prefix), strlen(prefix)) != 0) \
      print_error("last error \"%s\" does not start with \"%s\"\n", prism_last_error(), (prefix)); \
    assert_int_equal(strncmp(prism_last_error(), (prefix), strlen(prefix)), 0); \
  } while (0)

#endif
