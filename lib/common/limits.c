#include <pthread.h>
#include <string.h>

#include "error.h"
#include "limits.h"

static pthread_mutex_t limits_lock = PTHREAD_MUTEX_INITIALIZER;
static prism_limits current = { sizeof(prism_limits), 0, 0, 0, 0 };

prism_limits prism__limits(void)
{
  prism_limits l;
  pthread_mutex_lock(&limits_lock);
  l = current;
  pthread_mutex_unlock(&limits_lock);
  return l;
}

uint64_t prism__cap(uint64_t call_cap, uint64_t global_cap)
{
  if (!call_cap)
    return global_cap;
  return global_cap && global_cap < call_cap ? global_cap : call_cap;
}

PRISM_API int prism_limits_get(prism_limits *limits, size_t struct_size)
{
  prism_limits l = prism__limits();
  PRISM_CHECK_ARG(limits != NULL);
  PRISM_CHECK_ARG(struct_size >= sizeof(prism_limits));
  l.struct_size = struct_size;
  *limits = l;
  return PRISM_OK;
}

PRISM_API int prism_limits_set(const prism_limits *limits)
{
  PRISM_CHECK_ARG(limits != NULL);
  PRISM_CHECK_ARG(limits->struct_size >= sizeof(prism_limits));
  pthread_mutex_lock(&limits_lock);
  memcpy(&current, limits, sizeof current);
  current.struct_size = sizeof current;
  pthread_mutex_unlock(&limits_lock);
  return PRISM_OK;
}
