#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"

static atomic_long fail_countdown;
static atomic_long alloc_counter;

void prism__alloc_fail_at(long n)
{
  atomic_store(&fail_countdown, n);
  atomic_store(&alloc_counter, 0);
}

long prism__alloc_count(void)
{
  return atomic_load(&alloc_counter);
}

/* True when the injected failure hits this allocation. */
static int injected_failure(void)
{
  atomic_fetch_add(&alloc_counter, 1);
  if (atomic_load_explicit(&fail_countdown, memory_order_relaxed) <= 0)
    return 0;
  return atomic_fetch_sub(&fail_countdown, 1) == 1;
}

static void *no_memory(size_t size)
{
  prism__error(PRISM_ERR_NO_MEMORY, "out of memory allocating %zu bytes", size);
  return NULL;
}

int prism__mul_ok(size_t a, size_t b, size_t *out)
{
  return !__builtin_mul_overflow(a, b, out);
}

int prism__add_ok(size_t a, size_t b, size_t *out)
{
  return !__builtin_add_overflow(a, b, out);
}

void *prism__malloc(size_t size)
{
  void *p;
  if (injected_failure())
    return no_memory(size);
  p = malloc(size ? size : 1);
  return p ? p : no_memory(size);
}

void *prism__mallocn(size_t count, size_t size)
{
  size_t total;
  if (!prism__mul_ok(count, size, &total))
    return no_memory(SIZE_MAX);
  return prism__malloc(total);
}

void *prism__calloc(size_t count, size_t size)
{
  void *p;
  size_t total;
  if (!prism__mul_ok(count, size, &total))
    return no_memory(SIZE_MAX);
  if (injected_failure())
    return no_memory(total);
  p = calloc(count ? count : 1, size ? size : 1);
  return p ? p : no_memory(total);
}

void *prism__realloc(void *ptr, size_t size)
{
  void *p;
  if (injected_failure())
    return no_memory(size);
  p = realloc(ptr, size ? size : 1);
  return p ? p : no_memory(size);
}

void *prism__aligned_alloc(size_t size)
{
  void *p = NULL;
  if (injected_failure())
    return no_memory(size);
  if (posix_memalign(&p, 64, size ? size : 64) != 0)
    return no_memory(size);
  return p;
}

void prism__free(void *ptr)
{
  free(ptr);
}

void prism__aligned_free(void *ptr)
{
  free(ptr);
}

char *prism__strndup(const char *s, size_t n)
{
  char *p = prism__malloc(n + 1);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

char *prism__strdup(const char *s)
{
  return prism__strndup(s, strlen(s));
}
