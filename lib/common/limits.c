#include <pthread.h>
#include <string.h>

#include "error.h"
#include "limits.h"
#include "params.h"

#define LIMITS_V1_SIZE PRISM__LAYOUT_SIZE(prism_limits, max_decoder_tokens)

static pthread_mutex_t limits_lock = PTHREAD_MUTEX_INITIALIZER;
static prism_limits current = { sizeof(prism_limits), 0, 0, 0, 0, 0, 0, 0, 0 };

static const prism_limits safe = {
  sizeof(prism_limits),
  0,        /* max_file_bytes: models are the operator's files */
  1u << 20, /* max_text_bytes */
  256,      /* max_batch */
  512,      /* max_new_tokens */
  16,       /* max_beams */
  16,       /* max_return_sequences */
  1024,     /* max_decoder_rows */
  1u << 20, /* max_decoder_tokens */
};

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

PRISM_API int prism_limits_init(prism_limits *limits, size_t struct_size)
{
  static const prism_limits none = { sizeof(prism_limits), 0, 0, 0, 0, 0, 0, 0, 0 };
  return PRISM__PARAMS_INIT(limits, struct_size, &none, LIMITS_V1_SIZE, "prism_limits_init");
}

PRISM_API int prism_limits_init_safe(prism_limits *limits, size_t struct_size)
{
  return PRISM__PARAMS_INIT(limits, struct_size, &safe, LIMITS_V1_SIZE, "prism_limits_init_safe");
}

PRISM_API int prism_limits_get(prism_limits *limits, size_t struct_size)
{
  prism_limits l = prism__limits();
  PRISM__CHECK_ARG(limits != NULL, "limits must not be NULL");
  memcpy(limits, &struct_size,
         sizeof struct_size); /* the caller's size, as the protocol reads it */
  return PRISM__PARAMS_WRITE(limits, &l, LIMITS_V1_SIZE, "prism_limits_get");
}

PRISM_API int prism_limits_set(const prism_limits *limits)
{
  prism_limits l = prism__limits(), next;
  int rc;
  PRISM__CHECK_ARG(limits != NULL, "limits must not be NULL");
  /* Fields an older caller's struct lacks keep their current values. */
  rc = PRISM__PARAMS_READ(&next, limits, &l, LIMITS_V1_SIZE, "prism_limits_set");
  if (rc != PRISM_OK)
    return rc;
  pthread_mutex_lock(&limits_lock);
  current = next;
  pthread_mutex_unlock(&limits_lock);
  return PRISM_OK;
}
