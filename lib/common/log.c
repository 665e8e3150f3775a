/* The process-wide log callback. */
#include <pthread.h>
#include <stdio.h>

#include "error.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static prism_log_fn log_fn;
static void *log_payload;
static int log_level = PRISM_LOG_INFO;

PRISM_API void prism_log_set(prism_log_fn fn, void *payload)
{
  pthread_mutex_lock(&log_lock);
  log_fn = fn;
  log_payload = payload;
  pthread_mutex_unlock(&log_lock);
}

PRISM_API void prism_log_set_level(int max_level)
{
  pthread_mutex_lock(&log_lock);
  log_level = max_level;
  pthread_mutex_unlock(&log_lock);
}

void prism__log(int level, const char *fmt, ...)
{
  prism_log_fn fn;
  void *payload;
  char message[1024];
  va_list ap;

  pthread_mutex_lock(&log_lock);
  fn = level <= log_level ? log_fn : NULL;
  payload = log_payload;
  pthread_mutex_unlock(&log_lock);
  if (!fn)
    return;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  fn(level, message, payload);
}
