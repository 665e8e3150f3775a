/*
 * Internal: the pipeline module's shared pieces — the catalog's layout, which
 * the pipeline reads directly, and the result it fills.
 *
 * Errors follow the ranker's rule: helpers state what was wrong without naming
 * a function, and the public function puts its name in front
 * (prism__error_at).
 */
#ifndef PRISM__PIPELINE_INTERNAL_H
#define PRISM__PIPELINE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/idmap.h"
#include "prism/pipeline.h"

struct prism_catalog {
  prism__idmap ids;         /* item id <-> index, in the order added */
  char **title, **features; /* per index, owned */
  size_t cap;
};

/* The catalog index of an item id, or -1. */
int32_t prism__pipeline_catalog_find(const prism_catalog *catalog, const char *item);

/* ---- results ---- */

typedef struct prism__pipeline_entry {
  const char *item, *title, *features; /* title and features NULL: not in the catalog */
  float weight;
} prism__pipeline_entry;

typedef struct prism__pipeline_item {
  const char *item, *title, *features, *prompt, *explanation;
  float score;
  size_t evidence, evidence_count; /* into the result's entries */
} prism__pipeline_item;

typedef struct prism__pipeline_user {
  const char *user, *error;
  int status;
  size_t items, item_count;      /* into the result's items */
  size_t history, history_count; /* into the result's entries */
  size_t missing, missing_count; /* into the result's missing ids */
} prism__pipeline_user;

/* A block of the result's string arena; strings never move once written. */
typedef struct prism__pipeline_block prism__pipeline_block;

struct prism_pipeline_result {
  prism__pipeline_user *users;
  size_t n_users;
  prism__pipeline_item *items;
  size_t n_items, items_cap;
  prism__pipeline_entry *entries;
  size_t n_entries, entries_cap;
  const char **missing;
  size_t n_missing, missing_cap;
  prism__pipeline_block *blocks;
};

/* A new result for n_users users (every field zero). */
int prism__pipeline_result_new(prism_pipeline_result **out, size_t n_users);
/* `size` bytes kept by the result (never moved); NULL when out of memory. */
char *prism__pipeline_result_alloc(prism_pipeline_result *r, size_t size);
/* A copy of `s` (n bytes, NUL added) kept by the result; NULL when out of memory. */
char *prism__pipeline_result_strndup(prism_pipeline_result *r, const char *s, size_t n);
const char *prism__pipeline_result_strdup(prism_pipeline_result *r, const char *s);
/* Room for one more item / entry / missing id; the new slot's index in *at. */
int prism__pipeline_result_add_item(prism_pipeline_result *r, size_t *at);
int prism__pipeline_result_add_entry(prism_pipeline_result *r, size_t *at);
int prism__pipeline_result_add_missing(prism_pipeline_result *r, const char *id);

#endif
