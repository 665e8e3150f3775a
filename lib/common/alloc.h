/*
 * Internal allocation. Every allocation in libprism goes through these so that
 * tests can make the N-th one fail (prism__alloc_fail_at) and check that each
 * path returns PRISM_ERR_NO_MEMORY without leaking. The failing helpers also
 * record the last error.
 */
#ifndef PRISM__COMMON_ALLOC_H
#define PRISM__COMMON_ALLOC_H

#include <stddef.h>

void *prism__malloc(size_t size);
void *prism__calloc(size_t count, size_t size); /* overflow-checked */
void *prism__realloc(void *ptr, size_t size);
void *prism__mallocn(size_t count, size_t size); /* overflow-checked malloc */
void *prism__aligned_alloc(size_t size); /* 64-byte aligned, free with prism__aligned_free */
void prism__free(void *ptr);
void prism__aligned_free(void *ptr);
char *prism__strdup(const char *s);
char *prism__strndup(const char *s, size_t n);

/* size_t multiply/add that report overflow (return 0 on overflow). */
int prism__mul_ok(size_t a, size_t b, size_t *out);
int prism__add_ok(size_t a, size_t b, size_t *out);

/*
 * Test hook: the allocation numbered `n` from now on (1 = the next one) fails;
 * 0 disables. prism__alloc_count() counts allocations since the last reset.
 */
void prism__alloc_fail_at(long n);
long prism__alloc_count(void);

#endif
