/* Status strings and the thread-local last error. */
#include <stdio.h>
#include <string.h>

#include "error.h"

#define ERROR_MESSAGE_MAX 1024

static _Thread_local char last_message[ERROR_MESSAGE_MAX];
static _Thread_local int last_status;

static const struct {
  int code;
  const char *name;
  const char *text;
} statuses[] = {
  { PRISM_OK, "PRISM_OK", "success" },
  { PRISM_ERR_INVALID_ARGUMENT, "PRISM_ERR_INVALID_ARGUMENT", "invalid argument" },
  { PRISM_ERR_IO, "PRISM_ERR_IO", "input/output error" },
  { PRISM_ERR_FORMAT, "PRISM_ERR_FORMAT", "malformed data" },
  { PRISM_ERR_UNSUPPORTED, "PRISM_ERR_UNSUPPORTED", "unsupported feature" },
  { PRISM_ERR_OUT_OF_RANGE, "PRISM_ERR_OUT_OF_RANGE", "value out of range" },
  { PRISM_ERR_BUFFER_TOO_SMALL, "PRISM_ERR_BUFFER_TOO_SMALL", "buffer too small" },
  { PRISM_ERR_NO_MEMORY, "PRISM_ERR_NO_MEMORY", "out of memory" },
  { PRISM_ERR_CANCELLED, "PRISM_ERR_CANCELLED", "cancelled" },
  { PRISM_ERR_INTERNAL, "PRISM_ERR_INTERNAL", "internal error" },
  { PRISM_ERR_INVALID_UTF8, "PRISM_ERR_INVALID_UTF8", "invalid UTF-8" },
  { PRISM_ERR_LIMIT, "PRISM_ERR_LIMIT", "limit exceeded" },
  { PRISM_ERR_NOT_FOUND, "PRISM_ERR_NOT_FOUND", "not found" },
  { PRISM_ERR_NUMERIC, "PRISM_ERR_NUMERIC", "numeric failure" },
};

static int status_index(int status)
{
  for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
    if (statuses[i].code == status)
      return (int)i;
  return -1;
}

PRISM_API const char *prism_status_str(int status)
{
  int i = status_index(status);
  return i < 0 ? "unknown status" : statuses[i].text;
}

PRISM_API const char *prism_status_name(int status)
{
  int i = status_index(status);
  return i < 0 ? "PRISM_ERR_UNKNOWN" : statuses[i].name;
}

PRISM_API const char *prism_last_error(void)
{
  return last_message;
}

PRISM_API int prism_last_error_status(void)
{
  return last_status;
}

int prism__verror(int status, const char *fmt, va_list ap)
{
  vsnprintf(last_message, sizeof last_message, fmt, ap);
  last_status = status;
  prism__log(PRISM_LOG_DEBUG, "%s: %s", prism_status_name(status), last_message);
  return status;
}

int prism__error(int status, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  prism__verror(status, fmt, ap);
  va_end(ap);
  return status;
}

int prism__error_prefix(const char *fmt, ...)
{
  char old[ERROR_MESSAGE_MAX];
  va_list ap;
  size_t n;

  memcpy(old, last_message, sizeof old);
  va_start(ap, fmt);
  vsnprintf(last_message, sizeof last_message, fmt, ap);
  va_end(ap);
  n = strlen(last_message);
  snprintf(last_message + n, sizeof last_message - n, "%s", old);
  return last_status;
}

int prism__error_at(const char *fn, int status)
{
  size_t n = strlen(fn);
  if (status == PRISM_OK)
    return status;
  if (strncmp(last_message, fn, n) != 0 || last_message[n] != ':')
    prism__error_prefix("%s: ", fn);
  last_status = status;
  return status;
}
