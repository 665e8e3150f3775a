/* Internal: string id <-> dense index maps (user, item and catalog ids). */
#ifndef PRISM__COMMON_IDMAP_H
#define PRISM__COMMON_IDMAP_H

#include <stddef.h>
#include <stdint.h>

/* String <-> dense index map (open addressing over owned copies). */
typedef struct prism__idmap {
  char **names; /* index -> id */
  int32_t count;
  int32_t *slots;  /* hash slot -> index + 1 (0 empty) */
  size_t capacity; /* power of two */
  size_t names_cap;
} prism__idmap;

void prism__idmap_free(prism__idmap *m);
/* Index of `id`, -1 when absent. */
int32_t prism__idmap_find(const prism__idmap *m, const char *id);
/* Index of `id`, inserting a copy when new. */
int prism__idmap_intern(prism__idmap *m, const char *id, int32_t *out);
/* Index of `id` or PRISM_ERR_NOT_FOUND naming it as a `what` ("user", "item"). */
int prism__idmap_lookup(const prism__idmap *m, const char *id, const char *what, int32_t *out);
/* Id of index i (borrowed), NULL when out of range. */
const char *prism__idmap_name(const prism__idmap *m, int32_t i);
/* Copy `src` into an empty map. */
int prism__idmap_copy(prism__idmap *dst, const prism__idmap *src);

#endif
