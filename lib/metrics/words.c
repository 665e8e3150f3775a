/* A set of owned byte strings with dense indices (feature sets, catalog titles). */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "metrics_internal.h"

size_t prism__metrics_words_find(const prism__metrics_words *w, const char *s, size_t n)
{
  return w->capacity ? prism__metrics_words_find_hashed(w, s, n, prism__metrics_hash(s, n))
                     : SIZE_MAX;
}

size_t prism__metrics_words_find_hashed(const prism__metrics_words *w, const char *s, size_t n,
                                        uint64_t hash)
{
  size_t mask = w->capacity - 1;
  if (!w->capacity)
    return SIZE_MAX;
  for (size_t j = (size_t)hash & mask;; j = (j + 1) & mask) {
    uint32_t i1 = w->slots[j];
    if (i1 == 0)
      return SIZE_MAX;
    if (w->len[i1 - 1] == n && memcmp(w->word[i1 - 1], s, n) == 0)
      return i1 - 1;
  }
}

static int rehash(prism__metrics_words *w, size_t cap)
{
  uint32_t *slots = prism__calloc(cap, sizeof *slots);
  if (!slots)
    return PRISM_ERR_NO_MEMORY;
  for (size_t i = 0; i < w->count; i++) {
    size_t j = (size_t)prism__metrics_hash(w->word[i], w->len[i]) & (cap - 1);
    while (slots[j])
      j = (j + 1) & (cap - 1);
    slots[j] = (uint32_t)(i + 1);
  }
  prism__free(w->slots);
  w->slots = slots;
  w->capacity = cap;
  return PRISM_OK;
}

static int add_new(prism__metrics_words *w, const char *s, size_t n)
{
  char *copy;
  if (w->count >= UINT32_MAX - 1)
    return prism__error(PRISM_ERR_LIMIT, "more than %u distinct words", UINT32_MAX - 2);
  if (w->count == w->word_cap) {
    size_t cap = w->word_cap ? 2 * w->word_cap : 16;
    char **word = prism__realloc(w->word, cap * sizeof *word);
    size_t *len;
    if (!word)
      return PRISM_ERR_NO_MEMORY;
    w->word = word;
    len = prism__realloc(w->len, cap * sizeof *len);
    if (!len)
      return PRISM_ERR_NO_MEMORY;
    w->len = len;
    w->word_cap = cap;
  }
  if (2 * (w->count + 1) > w->capacity && rehash(w, w->capacity ? 2 * w->capacity : 32) != PRISM_OK)
    return PRISM_ERR_NO_MEMORY;
  if (!(copy = prism__strndup(s, n)))
    return PRISM_ERR_NO_MEMORY;
  w->word[w->count] = copy;
  w->len[w->count] = n;
  w->count++;
  {
    size_t mask = w->capacity - 1, j = (size_t)prism__metrics_hash(s, n) & mask;
    while (w->slots[j])
      j = (j + 1) & mask;
    w->slots[j] = (uint32_t)w->count; /* index + 1 */
  }
  return PRISM_OK;
}

int prism__metrics_words_add(prism__metrics_words *w, const char *s, size_t n, size_t *index)
{
  size_t found = prism__metrics_words_find(w, s, n);
  int rc;
  if (found != SIZE_MAX) {
    *index = found;
    return PRISM_OK;
  }
  rc = add_new(w, s, n);
  if (rc != PRISM_OK)
    return rc == PRISM_ERR_NO_MEMORY ? prism__error(rc, "out of memory for %zu words", w->count)
                                     : rc;
  *index = w->count - 1;
  return PRISM_OK;
}

void prism__metrics_words_free(prism__metrics_words *w)
{
  for (size_t i = 0; i < w->count; i++)
    prism__free(w->word[i]);
  prism__free(w->word);
  prism__free(w->len);
  prism__free(w->slots);
  memset(w, 0, sizeof *w);
}
