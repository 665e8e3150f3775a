/* The prompt builder: a template with named fields over history, item and evidence. */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/params.h"
#include "common/utf8.h"
#include "prism/explain.h"

#define FORMAT_V1_SIZE PRISM__LAYOUT_SIZE(prism_prompt_format, max_value_bytes)

static const prism_prompt_format default_format = {
  sizeof(prism_prompt_format),
  "history: {history} | item: {item} ({item_features}) | evidence: {evidence}",
  "{title} ({features})",
  "; ",
  "none",
  "unknown",
  8,
  3,
  48,
};

/* Counts every byte; stores those that fit. */
typedef struct out_buf {
  char *buf;
  size_t cap, len;
} out_buf;

static void put(out_buf *o, const char *s, size_t n)
{
  if (o->buf && o->len < o->cap)
    memcpy(o->buf + o->len, s, o->len + n <= o->cap ? n : o->cap - o->len);
  o->len += n;
}

static int is_ascii_space(unsigned char c)
{
  return c == ' ' || (c >= '\t' && c <= '\r');
}

static int check_utf8(const char *value, const char *field)
{
  size_t n = strlen(value), bad = prism__utf8_check((const unsigned char *)value, n);
  if (bad != n)
    return prism__error(PRISM_ERR_INVALID_UTF8, "%s: invalid UTF-8 at byte %zu", field, bad);
  return PRISM_OK;
}

/*
 * Write `value` normalised: whitespace runs collapsed and trimmed, cut to whole
 * characters within max_bytes, or the empty-value text when nothing remains.
 * A space is written only together with the character after it, so a cut never
 * leaves a trailing space.
 */
static void put_value(out_buf *o, const char *value, const prism_prompt_format *f)
{
  const unsigned char *s = (const unsigned char *)(value ? value : "");
  size_t n = strlen((const char *)s), written = 0, limit = f->max_value_bytes;
  int pending_space = 0;

  for (size_t i = 0; i < n;) {
    size_t k;
    if (is_ascii_space(s[i])) {
      pending_space = written > 0;
      i++;
      continue;
    }
    uint32_t cp;
    k = prism__utf8_next(s + i, n - i, &cp); /* valid: checked before rendering */
    if (limit && written + (size_t)pending_space + k > limit)
      break;
    if (pending_space)
      put(o, " ", 1);
    put(o, (const char *)s + i, k);
    written += (size_t)pending_space + k;
    pending_space = 0;
    i += k;
  }
  if (written == 0)
    put(o, f->empty_value, strlen(f->empty_value));
}

typedef int (*field_fn)(out_buf *o, const char *name, size_t name_len, const void *ctx);

/* Expand `tmpl`, calling `field` for each {name}; `what` names the template in errors. */
static int expand(out_buf *o, const char *tmpl, const char *what, field_fn field, const void *ctx)
{
  for (size_t i = 0; tmpl[i];) {
    const char *close;
    if ((tmpl[i] == '{' && tmpl[i + 1] == '{') || (tmpl[i] == '}' && tmpl[i + 1] == '}')) {
      put(o, tmpl + i, 1);
      i += 2;
    } else if (tmpl[i] == '}') {
      return prism__error(PRISM_ERR_FORMAT, "%s: unmatched '}' at byte %zu", what, i);
    } else if (tmpl[i] == '{') {
      if (!(close = strchr(tmpl + i, '}')))
        return prism__error(PRISM_ERR_FORMAT, "%s: unclosed '{' at byte %zu", what, i);
      int rc = field(o, tmpl + i + 1, (size_t)(close - tmpl - i - 1), ctx);
      if (rc == PRISM_ERR_NOT_FOUND)
        return prism__error(PRISM_ERR_FORMAT, "%s: unknown field \"%.*s\" at byte %zu", what,
                            (int)(close - tmpl - i - 1), tmpl + i + 1, i);
      if (rc != PRISM_OK)
        return rc;
      i = (size_t)(close - tmpl) + 1;
    } else {
      size_t run = strcspn(tmpl + i, "{}");
      put(o, tmpl + i, run);
      i += run;
    }
  }
  return PRISM_OK;
}

static int name_is(const char *name, size_t len, const char *want)
{
  return strlen(want) == len && memcmp(name, want, len) == 0;
}

typedef struct entry_ctx {
  const prism_prompt_item *item;
  const prism_prompt_format *format;
} entry_ctx;

static int entry_field(out_buf *o, const char *name, size_t len, const void *ctx)
{
  const entry_ctx *e = ctx;
  if (name_is(name, len, "title"))
    put_value(o, e->item->title, e->format);
  else if (name_is(name, len, "features"))
    put_value(o, e->item->features, e->format);
  else
    return PRISM_ERR_NOT_FOUND;
  return PRISM_OK;
}

static int put_list(out_buf *o, const prism_prompt_item *items, size_t n,
                    const prism_prompt_format *f)
{
  if (n == 0) {
    put(o, f->empty_list, strlen(f->empty_list));
    return PRISM_OK;
  }
  for (size_t i = 0; i < n; i++) {
    entry_ctx e = { &items[i], f };
    int rc;
    if (i)
      put(o, f->separator, strlen(f->separator));
    if ((rc = expand(o, f->entry_template, "entry template", entry_field, &e)) != PRISM_OK)
      return rc;
  }
  return PRISM_OK;
}

typedef struct prompt_ctx {
  const prism_prompt_format *format;
  const prism_prompt_item *history, *item, *evidence;
  size_t n_history, n_evidence;
} prompt_ctx;

static int prompt_field(out_buf *o, const char *name, size_t len, const void *ctx)
{
  const prompt_ctx *p = ctx;
  if (name_is(name, len, "history"))
    return put_list(o, p->history, p->n_history, p->format);
  if (name_is(name, len, "evidence"))
    return put_list(o, p->evidence, p->n_evidence, p->format);
  if (name_is(name, len, "item"))
    put_value(o, p->item->title, p->format);
  else if (name_is(name, len, "item_features"))
    put_value(o, p->item->features, p->format);
  else
    return PRISM_ERR_NOT_FOUND;
  return PRISM_OK;
}

PRISM_API int prism_prompt_format_init(prism_prompt_format *format, size_t struct_size)
{
  return PRISM__PARAMS_INIT(format, struct_size, &default_format, FORMAT_V1_SIZE,
                            "prism_prompt_format_init");
}

static int check_items(const prism_prompt_item *items, size_t n, const char *what)
{
  char field[64];
  for (size_t i = 0; i < n; i++) {
    int rc;
    snprintf(field, sizeof field, "%s[%zu].title", what, i);
    if (items[i].title && (rc = check_utf8(items[i].title, field)) != PRISM_OK)
      return rc;
    snprintf(field, sizeof field, "%s[%zu].features", what, i);
    if (items[i].features && (rc = check_utf8(items[i].features, field)) != PRISM_OK)
      return rc;
  }
  return PRISM_OK;
}

PRISM_API int prism_prompt_render(char *buf, size_t capacity, size_t *len,
                                  const prism_prompt_format *format,
                                  const prism_prompt_item *history, size_t n_history,
                                  const prism_prompt_item *item, const prism_prompt_item *evidence,
                                  size_t n_evidence)
{
  static const char fn[] = "prism_prompt_render";
  prism_prompt_format f;
  prompt_ctx p;
  out_buf o = { buf, capacity, 0 };
  int rc;

  PRISM__CHECK_ARG(len != NULL, "len must not be NULL");
  PRISM__CHECK_ARG(item != NULL, "item must not be NULL");
  PRISM__CHECK_ARG(buf != NULL || capacity == 0, "buf may be NULL only with capacity 0");
  PRISM__CHECK_ARG(history != NULL || n_history == 0, "history must not be NULL");
  PRISM__CHECK_ARG(evidence != NULL || n_evidence == 0, "evidence must not be NULL");
  if ((rc = PRISM__PARAMS_READ(&f, format, &default_format, FORMAT_V1_SIZE, fn)) != PRISM_OK)
    return prism__error_at(fn, rc);
  format = &f;
  PRISM__CHECK_ARG(format->template_text && format->entry_template && format->separator &&
                       format->empty_list && format->empty_value,
                   "every string of the format must be set (prism_prompt_format_init sets them)");
  if ((rc = check_items(history, n_history, "history")) != PRISM_OK ||
      (rc = check_items(item, 1, "item")) != PRISM_OK ||
      (rc = check_items(evidence, n_evidence, "evidence")) != PRISM_OK)
    return prism__error_at(fn, rc);

  /* Both templates are checked even when a list is empty and would not expand them. */
  {
    static const prism_prompt_item blank = { NULL, NULL };
    entry_ctx e = { &blank, format };
    out_buf dry = { NULL, 0, 0 };
    if ((rc = expand(&dry, format->entry_template, "entry template", entry_field, &e)) != PRISM_OK)
      return prism__error_at(fn, rc);
  }
  p.format = format;
  p.item = item;
  p.history = history;
  p.n_history = n_history;
  if (format->max_history && n_history > format->max_history) {
    p.history = history + (n_history - format->max_history);
    p.n_history = format->max_history;
  }
  p.evidence = evidence;
  p.n_evidence =
      format->max_evidence && n_evidence > format->max_evidence ? format->max_evidence : n_evidence;
  if ((rc = expand(&o, format->template_text, "template", prompt_field, &p)) != PRISM_OK)
    return prism__error_at(fn, rc);
  *len = o.len;
  if (buf && o.len >= capacity)
    return prism__error(PRISM_ERR_BUFFER_TOO_SMALL,
                        "prism_prompt_render: %zu bytes needed (NUL included), capacity %zu",
                        o.len + 1, capacity);
  if (buf)
    buf[o.len] = '\0';
  return PRISM_OK;
}
