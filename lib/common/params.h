/*
 * Internal: the versioned-struct protocol shared by every params, info and
 * stats struct of the public API.
 *
 * A struct starts with `size_t struct_size`. The library accepts any size from
 * the first released layout (`v1_size`) up to the layout it was built with
 * (`cur_size`): fields past the caller's size are ones its header did not
 * have, so they take their defaults on the way in and are not written on the
 * way out. A size outside that range is refused with a message naming the
 * public function and the sizes.
 */
#ifndef PRISM__COMMON_PARAMS_H
#define PRISM__COMMON_PARAMS_H

#include <stddef.h>

/* The size of a layout that ends with `last_field` (tail padding excluded). */
#define PRISM__LAYOUT_SIZE(type, last_field) \
  (offsetof(type, last_field) + sizeof(((type *)0)->last_field))

/*
 * X_init(params, struct_size): write the first struct_size bytes of
 * `defaults` (a full current-layout struct) and set struct_size.
 */
int prism__params_init(void *params, size_t struct_size, const void *defaults, size_t v1_size,
                       size_t cur_size, const char *fn);

/*
 * Read a caller's params into `out` (a full current-layout struct): `out`
 * starts as `defaults`, then takes the caller's first struct_size bytes. `in`
 * NULL means the defaults. out->struct_size becomes cur_size.
 */
int prism__params_read(void *out, const void *in, const void *defaults, size_t v1_size,
                       size_t cur_size, const char *fn);

/*
 * Fill a caller's output struct (info, stats) from `full`, writing only the
 * caller's struct_size bytes (which the caller set) and keeping its
 * struct_size.
 */
int prism__params_write(void *out, const void *full, size_t v1_size, size_t cur_size,
                        const char *fn);

/* Typed shorthands: `defaults`/`full` point to a struct of the current layout. */
#define PRISM__PARAMS_INIT(p, size, defaults, v1, fn) \
  prism__params_init((p), (size), (defaults), (v1), sizeof *(defaults), (fn))
#define PRISM__PARAMS_READ(out, in, defaults, v1, fn) \
  prism__params_read((out), (in), (defaults), (v1), sizeof *(out), (fn))
#define PRISM__PARAMS_WRITE(out, full, v1, fn) \
  prism__params_write((out), (full), (v1), sizeof *(full), (fn))

#endif
