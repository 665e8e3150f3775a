/* Internal: reading and mapping files with errors that name the file. */
#ifndef PRISM__COMMON_FILE_H
#define PRISM__COMMON_FILE_H

#include <stddef.h>

/* A read-only view of a file: memory-mapped when possible. */
typedef struct prism__file {
  const unsigned char *data;
  size_t size;
  void *map_base; /* non-NULL when mapped */
  size_t map_size;
  unsigned char *owned; /* non-NULL when read into memory */
} prism__file;

/* Map `path` read-only; refuses non-regular files and files above `max_size` (0 = no cap). */
int prism__file_map(const char *path, size_t max_size, prism__file *out);

/* Read `path` whole into memory, NUL-terminated (size excludes the NUL). */
int prism__file_read(const char *path, size_t max_size, prism__file *out);

void prism__file_close(prism__file *f);

/* "dir/name" in a new allocation. */
char *prism__path_join(const char *dir, const char *name);

/* 1 when `path` names an existing regular file. */
int prism__file_exists(const char *path);

/*
 * Write `size` bytes atomically: to "path.tmp.XXXXXX", fsync, then rename over
 * `path`. On failure nothing is left behind and `path` is untouched.
 */
int prism__file_write_atomic(const char *path, const void *data, size_t size);

#endif
