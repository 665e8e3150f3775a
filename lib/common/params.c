/* The versioned-struct protocol (params.h). */
#include <string.h>

#include "error.h"
#include "params.h"

static int check_size(size_t size, size_t v1_size, size_t cur_size, const char *fn,
                      const char *what)
{
  if (size >= v1_size && size <= cur_size)
    return PRISM_OK;
  return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                      "%s: %s is %zu bytes, but this libprism accepts %zu to %zu (set it with "
                      "sizeof of the struct, or with its _init function)",
                      fn, what, size, v1_size, cur_size);
}

int prism__params_init(void *params, size_t struct_size, const void *defaults, size_t v1_size,
                       size_t cur_size, const char *fn)
{
  int rc;
  if (!params)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: the struct to initialise is NULL", fn);
  rc = check_size(struct_size, v1_size, cur_size, fn, "struct_size");
  if (rc != PRISM_OK)
    return rc;
  memcpy(params, defaults, struct_size);
  memcpy(params, &struct_size, sizeof struct_size);
  return PRISM_OK;
}

int prism__params_read(void *out, const void *in, const void *defaults, size_t v1_size,
                       size_t cur_size, const char *fn)
{
  size_t size;
  memcpy(out, defaults, cur_size);
  memcpy(out, &cur_size, sizeof cur_size);
  if (!in)
    return PRISM_OK;
  memcpy(&size, in, sizeof size);
  if (check_size(size, v1_size, cur_size, fn, "params->struct_size") != PRISM_OK)
    return prism_last_error_status();
  memcpy((char *)out + sizeof size, (const char *)in + sizeof size, size - sizeof size);
  return PRISM_OK;
}

int prism__params_write(void *out, const void *full, size_t v1_size, size_t cur_size,
                        const char *fn)
{
  size_t size;
  if (!out)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: the struct to fill is NULL", fn);
  memcpy(&size, out, sizeof size);
  if (check_size(size, v1_size, cur_size, fn, "struct_size") != PRISM_OK)
    return prism_last_error_status();
  memcpy((char *)out + sizeof size, (const char *)full + sizeof size, size - sizeof size);
  return PRISM_OK;
}
