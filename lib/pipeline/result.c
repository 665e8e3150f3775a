/*
 * A pipeline result: users, their recommendations, history and evidence
 * entries, and every string they point to, kept in an arena of blocks that
 * never move, so a result depends on nothing else once it is made.
 */
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/params.h"
#include "pipeline_internal.h"

#define BLOCK_BYTES ((size_t)64 << 10)

#define USER_V1_SIZE PRISM__LAYOUT_SIZE(prism_pipeline_user, missing_count)
#define ITEM_V1_SIZE PRISM__LAYOUT_SIZE(prism_pipeline_item, explanation)
#define ENTRY_V1_SIZE PRISM__LAYOUT_SIZE(prism_pipeline_entry, weight)

struct prism__pipeline_block {
  prism__pipeline_block *next;
  size_t used, size;
  char data[];
};

int prism__pipeline_result_new(prism_pipeline_result **out, size_t n_users)
{
  prism_pipeline_result *r = prism__calloc(1, sizeof *r);
  if (!r || !(r->users = prism__calloc(n_users ? n_users : 1, sizeof *r->users))) {
    prism__free(r);
    return PRISM_ERR_NO_MEMORY;
  }
  r->n_users = n_users;
  *out = r;
  return PRISM_OK;
}

char *prism__pipeline_result_alloc(prism_pipeline_result *r, size_t size)
{
  prism__pipeline_block *b = r->blocks;
  char *p;
  if (!b || b->size - b->used < size) {
    size_t room = size > BLOCK_BYTES ? size : BLOCK_BYTES;
    if (!(b = prism__malloc(sizeof *b + room)))
      return NULL;
    b->next = r->blocks;
    b->used = 0;
    b->size = room;
    r->blocks = b;
  }
  p = b->data + b->used;
  b->used += size;
  return p;
}

char *prism__pipeline_result_strndup(prism_pipeline_result *r, const char *s, size_t n)
{
  char *p = prism__pipeline_result_alloc(r, n + 1);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

const char *prism__pipeline_result_strdup(prism_pipeline_result *r, const char *s)
{
  return s ? prism__pipeline_result_strndup(r, s, strlen(s)) : NULL;
}

/* One more slot in an array of `size`-byte elements. */
static int grow(void **array, size_t *count, size_t *cap, size_t size, size_t *at)
{
  if (*count == *cap) {
    size_t n = *cap ? 2 * *cap : 64;
    void *p = prism__realloc(*array, n * size);
    if (!p)
      return PRISM_ERR_NO_MEMORY;
    *array = p;
    *cap = n;
  }
  memset((char *)*array + *count * size, 0, size);
  *at = (*count)++;
  return PRISM_OK;
}

int prism__pipeline_result_add_item(prism_pipeline_result *r, size_t *at)
{
  return grow((void **)&r->items, &r->n_items, &r->items_cap, sizeof *r->items, at);
}

int prism__pipeline_result_add_entry(prism_pipeline_result *r, size_t *at)
{
  return grow((void **)&r->entries, &r->n_entries, &r->entries_cap, sizeof *r->entries, at);
}

int prism__pipeline_result_add_missing(prism_pipeline_result *r, const char *id)
{
  size_t at;
  const char *copy = prism__pipeline_result_strdup(r, id);
  int rc = copy
               ? grow((void **)&r->missing, &r->n_missing, &r->missing_cap, sizeof *r->missing, &at)
               : PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK)
    r->missing[at] = copy;
  return rc;
}

PRISM_API void prism_pipeline_result_free(prism_pipeline_result *r)
{
  if (!r)
    return;
  while (r->blocks) {
    prism__pipeline_block *next = r->blocks->next;
    prism__free(r->blocks);
    r->blocks = next;
  }
  prism__free(r->users);
  prism__free(r->items);
  prism__free(r->entries);
  prism__free(r->missing);
  prism__free(r);
}

PRISM_API size_t prism_pipeline_result_count(const prism_pipeline_result *r)
{
  return r ? r->n_users : 0;
}

static int user_at(const prism_pipeline_result *r, size_t user, const char *fn,
                   const prism__pipeline_user **u)
{
  if (!r)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: result must not be NULL", fn);
  if (user >= r->n_users)
    return prism__error(PRISM_ERR_OUT_OF_RANGE, "%s: user %zu is out of range (%zu users)", fn,
                        user, r->n_users);
  *u = &r->users[user];
  return PRISM_OK;
}

static int item_at(const prism_pipeline_result *r, size_t user, size_t rank, const char *fn,
                   const prism__pipeline_item **it)
{
  const prism__pipeline_user *u = NULL;
  int rc = user_at(r, user, fn, &u);
  if (rc != PRISM_OK)
    return rc;
  if (rank >= u->item_count)
    return prism__error(PRISM_ERR_OUT_OF_RANGE, "%s: rank %zu is out of range (user %zu has %zu)",
                        fn, rank, user, u->item_count);
  *it = &r->items[u->items + rank];
  return PRISM_OK;
}

static int write_entry(prism_pipeline_entry *out, const prism__pipeline_entry *e, const char *fn)
{
  prism_pipeline_entry full;
  memset(&full, 0, sizeof full);
  full.struct_size = sizeof full;
  full.item = e->item;
  full.title = e->title;
  full.features = e->features;
  full.weight = e->weight;
  return PRISM__PARAMS_WRITE(out, &full, ENTRY_V1_SIZE, fn);
}

PRISM_API int prism_pipeline_result_user(prism_pipeline_user *out,
                                         const prism_pipeline_result *result, size_t user)
{
  const prism__pipeline_user *u = NULL;
  prism_pipeline_user full;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  if ((rc = user_at(result, user, __func__, &u)) != PRISM_OK)
    return rc;
  memset(&full, 0, sizeof full);
  full.struct_size = sizeof full;
  full.user = u->user;
  full.status = u->status;
  full.error = u->error;
  full.item_count = u->item_count;
  full.history_count = u->history_count;
  full.missing_count = u->missing_count;
  return PRISM__PARAMS_WRITE(out, &full, USER_V1_SIZE, __func__);
}

PRISM_API int prism_pipeline_result_item(prism_pipeline_item *out,
                                         const prism_pipeline_result *result, size_t user,
                                         size_t rank)
{
  const prism__pipeline_item *it = NULL;
  prism_pipeline_item full;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  if ((rc = item_at(result, user, rank, __func__, &it)) != PRISM_OK)
    return rc;
  memset(&full, 0, sizeof full);
  full.struct_size = sizeof full;
  full.item = it->item;
  full.title = it->title;
  full.features = it->features;
  full.score = it->score;
  full.evidence_count = it->evidence_count;
  full.prompt = it->prompt;
  full.explanation = it->explanation;
  return PRISM__PARAMS_WRITE(out, &full, ITEM_V1_SIZE, __func__);
}

PRISM_API int prism_pipeline_result_evidence(prism_pipeline_entry *out,
                                             const prism_pipeline_result *result, size_t user,
                                             size_t rank, size_t j)
{
  const prism__pipeline_item *it = NULL;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  if ((rc = item_at(result, user, rank, __func__, &it)) != PRISM_OK)
    return rc;
  if (j >= it->evidence_count)
    return prism__error(PRISM_ERR_OUT_OF_RANGE,
                        "%s: evidence %zu is out of range (the item has %zu)", __func__, j,
                        it->evidence_count);
  return write_entry(out, &result->entries[it->evidence + j], __func__);
}

PRISM_API int prism_pipeline_result_history(prism_pipeline_entry *out,
                                            const prism_pipeline_result *result, size_t user,
                                            size_t j)
{
  const prism__pipeline_user *u = NULL;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  if ((rc = user_at(result, user, __func__, &u)) != PRISM_OK)
    return rc;
  if (j >= u->history_count)
    return prism__error(PRISM_ERR_OUT_OF_RANGE,
                        "%s: history entry %zu is out of range (user %zu has %zu)", __func__, j,
                        user, u->history_count);
  return write_entry(out, &result->entries[u->history + j], __func__);
}

PRISM_API const char *prism_pipeline_result_missing(const prism_pipeline_result *result,
                                                    size_t user, size_t j)
{
  if (!result || user >= result->n_users || j >= result->users[user].missing_count)
    return NULL;
  return result->missing[result->users[user].missing + j];
}
