/* Interaction sets: the public prism_interactions_* calls (files are read by load.c). */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/utf8.h"
#include "ranker_internal.h"

int prism_interactions_create(prism_interactions **out)
{
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  *out = prism__calloc(1, sizeof **out);
  return prism__error_at(__func__, *out ? PRISM_OK : PRISM_ERR_NO_MEMORY);
}

void prism_interactions_free(prism_interactions *data)
{
  if (!data)
    return;
  prism__idmap_free(&data->users);
  prism__idmap_free(&data->items);
  prism__free(data->user);
  prism__free(data->item);
  prism__free(data->value);
  prism__free(data->time);
  prism__free(data);
}

static int reserve(prism_interactions *d)
{
  if (d->count < d->cap)
    return PRISM_OK;
  size_t cap = d->cap ? d->cap * 2 : 1024;
  int32_t *u = prism__realloc(d->user, cap * sizeof *u);
  if (!u)
    return PRISM_ERR_NO_MEMORY;
  d->user = u;
  int32_t *i = prism__realloc(d->item, cap * sizeof *i);
  if (!i)
    return PRISM_ERR_NO_MEMORY;
  d->item = i;
  float *v = prism__realloc(d->value, cap * sizeof *v);
  if (!v)
    return PRISM_ERR_NO_MEMORY;
  d->value = v;
  if (d->time) {
    double *t = prism__realloc(d->time, cap * sizeof *t);
    if (!t)
      return PRISM_ERR_NO_MEMORY;
    d->time = t;
  }
  d->cap = cap;
  return PRISM_OK;
}

/* The timestamp column, created at the first timestamp: the interactions before it have none. */
static int reserve_time(prism_interactions *d)
{
  if (d->time)
    return PRISM_OK;
  d->time = prism__mallocn(d->cap ? d->cap : 1, sizeof *d->time);
  if (!d->time)
    return PRISM_ERR_NO_MEMORY;
  for (size_t k = 0; k < d->count; k++)
    d->time[k] = NAN;
  return PRISM_OK;
}

int prism__ranker_interactions_append(prism_interactions *d, const char *user, const char *item,
                                      float value, double time)
{
  int32_t u, i;
  int rc = reserve(d);
  if (rc == PRISM_OK && !isnan(time))
    rc = reserve_time(d);
  if (rc == PRISM_OK)
    rc = prism__idmap_intern(&d->users, user, &u);
  if (rc == PRISM_OK)
    rc = prism__idmap_intern(&d->items, item, &i);
  if (rc != PRISM_OK)
    return rc;
  d->user[d->count] = u;
  d->item[d->count] = i;
  d->value[d->count] = value;
  if (d->time)
    d->time[d->count] = time;
  d->count++;
  return PRISM_OK;
}

int prism__ranker_check_id(const char *id, const char *what)
{
  size_t n = strlen(id);
  if (n == 0)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "the %s id is empty", what);
  if (strpbrk(id, "\t\r\n"))
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "the %s id \"%s\" contains a tab or a line break", what, id);
  size_t bad = prism__utf8_check((const unsigned char *)id, n);
  if (bad < n)
    return prism__error(PRISM_ERR_INVALID_UTF8, "the %s id is not valid UTF-8 (byte %zu)", what,
                        bad);
  return PRISM_OK;
}

static int add(prism_interactions *data, const char *user, const char *item, float value,
               double time)
{
  int rc = prism__ranker_check_id(user, "user");
  if (rc == PRISM_OK)
    rc = prism__ranker_check_id(item, "item");
  if (rc == PRISM_OK && !isfinite(value))
    rc = prism__error(PRISM_ERR_INVALID_ARGUMENT, "the value of (\"%s\", \"%s\") is not finite",
                      user, item);
  if (rc == PRISM_OK && isinf(time))
    rc = prism__error(PRISM_ERR_INVALID_ARGUMENT,
                      "the timestamp of (\"%s\", \"%s\") is infinite (NaN means none)", user, item);
  return rc == PRISM_OK ? prism__ranker_interactions_append(data, user, item, value, time) : rc;
}

int prism_interactions_add(prism_interactions *data, const char *user, const char *item,
                           float value)
{
  PRISM__CHECK_ARG(data != NULL, "data must not be NULL");
  PRISM__CHECK_ARG(user != NULL, "user must not be NULL");
  PRISM__CHECK_ARG(item != NULL, "item must not be NULL");
  return prism__error_at(__func__, add(data, user, item, value, NAN));
}

int prism_interactions_add_timed(prism_interactions *data, const char *user, const char *item,
                                 float value, double timestamp)
{
  PRISM__CHECK_ARG(data != NULL, "data must not be NULL");
  PRISM__CHECK_ARG(user != NULL, "user must not be NULL");
  PRISM__CHECK_ARG(item != NULL, "item must not be NULL");
  return prism__error_at(__func__, add(data, user, item, value, timestamp));
}

double prism_interactions_timestamp(const prism_interactions *data, size_t i)
{
  return data && data->time && i < data->count ? data->time[i] : NAN;
}

size_t prism_interactions_count(const prism_interactions *data)
{
  return data ? data->count : 0;
}

int32_t prism_interactions_num_users(const prism_interactions *data)
{
  return data ? data->users.count : 0;
}

int32_t prism_interactions_num_items(const prism_interactions *data)
{
  return data ? data->items.count : 0;
}

int prism_interactions_get(int32_t *user, int32_t *item, float *value,
                           const prism_interactions *data, size_t i)
{
  PRISM__CHECK_ARG(data != NULL, "data must not be NULL");
  if (i >= data->count)
    return prism__error(PRISM_ERR_OUT_OF_RANGE,
                        "%s: interaction %zu is out of range (the set has %zu interactions)",
                        __func__, i, data->count);
  if (user)
    *user = data->user[i];
  if (item)
    *item = data->item[i];
  if (value)
    *value = data->value[i];
  return PRISM_OK;
}

const char *prism_interactions_user_id(const prism_interactions *data, int32_t user)
{
  return data ? prism__idmap_name(&data->users, user) : NULL;
}

const char *prism_interactions_item_id(const prism_interactions *data, int32_t item)
{
  return data ? prism__idmap_name(&data->items, item) : NULL;
}

int prism_interactions_find_user(int32_t *out, const prism_interactions *data, const char *id)
{
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(data != NULL, "data must not be NULL");
  PRISM__CHECK_ARG(id != NULL, "id must not be NULL");
  return prism__error_at(__func__, prism__idmap_lookup(&data->users, id, "user", out));
}

int prism_interactions_find_item(int32_t *out, const prism_interactions *data, const char *id)
{
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(data != NULL, "data must not be NULL");
  PRISM__CHECK_ARG(id != NULL, "id must not be NULL");
  return prism__error_at(__func__, prism__idmap_lookup(&data->items, id, "item", out));
}
