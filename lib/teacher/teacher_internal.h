/*
 * Internal to lib/teacher: the requests set (requests.c) that the import
 * (import.c) reads. A composition layer: public headers and common/ only.
 */
#ifndef PRISM__TEACHER_INTERNAL_H
#define PRISM__TEACHER_INTERNAL_H

#include <stddef.h>

#include <jansson.h>

#include "common/idmap.h"
#include "prism/teacher.h"

/* A history or evidence entry (owned strings, never NULL). */
typedef struct prism__teacher_entry {
  char *title, *features;
} prism__teacher_entry;

typedef struct prism__teacher_request {
  char *id, *prompt, *source, *user, *item_id; /* user, item_id may be NULL */
  prism__teacher_entry item;
  size_t history, n_history;   /* into the set's entries */
  size_t evidence, n_evidence; /* into the set's entries */
} prism__teacher_request;

/* A prompt format whose strings the set owns. */
typedef struct prism__teacher_format {
  prism_prompt_format f;
  char *text[5];
} prism__teacher_format;

struct prism_teacher_requests {
  prism__teacher_format teacher, student;
  prism__teacher_request *items;
  size_t n, cap;
  prism__teacher_entry *entries;
  size_t n_entries, cap_entries;
  prism__idmap ids; /* id -> index in items */
};

/* The request of an id, or NULL. */
const prism__teacher_request *prism__teacher_find(const prism_teacher_requests *r, const char *id);

/*
 * `obj` (taken over; NULL: out of memory) as compact JSON into a caller's
 * buffer, the sized-output way: *len its length, PRISM_ERR_BUFFER_TOO_SMALL
 * when it does not fit with its NUL. Errors name `fn`.
 */
int prism__teacher_line_out(char *buf, size_t capacity, size_t *len, json_t *obj, const char *fn);

#endif
