/* Internal: gzip-compressed input, decompressed whole in memory. */
#ifndef PRISM__COMMON_GZIP_H
#define PRISM__COMMON_GZIP_H

#include <stddef.h>

/* 1 when data starts with the gzip magic bytes (1f 8b). */
int prism__gzip_is(const unsigned char *data, size_t size);

/*
 * Decompress gzip data (every member of a concatenated file) into a new
 * NUL-terminated buffer (*out, freed with prism__free; *out_size excludes the
 * NUL). More than max_out bytes fail with PRISM_ERR_LIMIT, corrupt or
 * truncated data with PRISM_ERR_FORMAT; messages name `name`.
 */
int prism__gzip_inflate(unsigned char **out, size_t *out_size, const unsigned char *data,
                        size_t size, size_t max_out, const char *name);

#endif
