/* String id <-> dense index maps: the users and items of the ranker, the items of a catalog. */
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "idmap.h"

static uint64_t hash_str(const char *s)
{
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

void prism__idmap_free(prism__idmap *m)
{
  if (!m)
    return;
  for (int32_t i = 0; i < m->count; i++)
    prism__free(m->names[i]);
  prism__free(m->names);
  prism__free(m->slots);
  memset(m, 0, sizeof *m);
}

int32_t prism__idmap_find(const prism__idmap *m, const char *id)
{
  if (!m->capacity)
    return -1;
  size_t mask = m->capacity - 1;
  for (size_t s = hash_str(id) & mask;; s = (s + 1) & mask) {
    int32_t v = m->slots[s];
    if (!v)
      return -1;
    if (strcmp(m->names[v - 1], id) == 0)
      return v - 1;
  }
}

/* Keep the table at most half full so probes stay short. */
static int grow_slots(prism__idmap *m)
{
  size_t cap = m->capacity ? m->capacity * 2 : 64;
  int32_t *slots = prism__calloc(cap, sizeof *slots);
  if (!slots)
    return PRISM_ERR_NO_MEMORY;
  for (int32_t i = 0; i < m->count; i++) {
    size_t s = hash_str(m->names[i]) & (cap - 1);
    while (slots[s])
      s = (s + 1) & (cap - 1);
    slots[s] = i + 1;
  }
  prism__free(m->slots);
  m->slots = slots;
  m->capacity = cap;
  return PRISM_OK;
}

int prism__idmap_intern(prism__idmap *m, const char *id, int32_t *out)
{
  int32_t found = prism__idmap_find(m, id);
  if (found >= 0) {
    *out = found;
    return PRISM_OK;
  }
  if (m->count == INT32_MAX - 1)
    return prism__error(PRISM_ERR_LIMIT, "more than %d distinct ids", INT32_MAX - 1);
  if ((size_t)m->count + 1 > m->capacity / 2 && grow_slots(m) != PRISM_OK)
    return PRISM_ERR_NO_MEMORY;
  if ((size_t)m->count == m->names_cap) {
    size_t cap = m->names_cap ? m->names_cap * 2 : 64;
    char **names = prism__realloc(m->names, cap * sizeof *names);
    if (!names)
      return PRISM_ERR_NO_MEMORY;
    m->names = names;
    m->names_cap = cap;
  }
  char *copy = prism__strdup(id);
  if (!copy)
    return PRISM_ERR_NO_MEMORY;
  size_t s = hash_str(id) & (m->capacity - 1);
  while (m->slots[s])
    s = (s + 1) & (m->capacity - 1);
  m->names[m->count] = copy;
  m->slots[s] = ++m->count;
  *out = m->count - 1;
  return PRISM_OK;
}

int prism__idmap_copy(prism__idmap *dst, const prism__idmap *src)
{
  memset(dst, 0, sizeof *dst);
  for (int32_t i = 0; i < src->count; i++) {
    int32_t idx;
    if (prism__idmap_intern(dst, src->names[i], &idx) != PRISM_OK) {
      prism__idmap_free(dst);
      return PRISM_ERR_NO_MEMORY;
    }
  }
  return PRISM_OK;
}

int prism__idmap_lookup(const prism__idmap *m, const char *id, const char *what, int32_t *out)
{
  int32_t i = prism__idmap_find(m, id);
  if (i < 0)
    return prism__error(PRISM_ERR_NOT_FOUND, "unknown %s id \"%s\"", what, id);
  *out = i;
  return PRISM_OK;
}

const char *prism__idmap_name(const prism__idmap *m, int32_t i)
{
  return i >= 0 && i < m->count ? m->names[i] : NULL;
}
