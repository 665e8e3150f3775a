/* gzip decompression in memory: the one file that uses zlib. */
#include <limits.h>
#include <string.h>

#include <zlib.h>

#include "alloc.h"
#include "error.h"
#include "gzip.h"

int prism__gzip_is(const unsigned char *data, size_t size)
{
  return size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

/* Room for at least one more byte in *buf (capacity *cap), never beyond max + 1. */
static int grow(unsigned char **buf, size_t *cap, size_t used, size_t max, const char *name)
{
  if (used < *cap)
    return PRISM_OK;
  if (used > max)
    return prism__error(PRISM_ERR_LIMIT,
                        "%s: the decompressed data exceed the limit of %zu bytes (max_file_bytes)",
                        name, max);
  size_t cap2 = *cap < (SIZE_MAX - 1) / 2 ? *cap * 2 : SIZE_MAX - 1;
  if (cap2 > max + 1)
    cap2 = max + 1;
  unsigned char *p = prism__realloc(*buf, cap2 + 1); /* + 1: the NUL */
  if (!p)
    return prism__error(PRISM_ERR_NO_MEMORY, "%s: out of memory decompressing %zu bytes", name,
                        cap2);
  *buf = p;
  *cap = cap2;
  return PRISM_OK;
}

/* Only zero bytes may follow the last member (as gzip(1) accepts). */
static int only_zeros(const unsigned char *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (p[i])
      return 0;
  return 1;
}

static int inflate_all(z_stream *z, const unsigned char *data, size_t size, size_t max,
                       const char *name, unsigned char **buf, size_t *cap, size_t *used)
{
  size_t in = 0;
  for (;;) {
    int rc = grow(buf, cap, *used, max, name);
    if (rc != PRISM_OK)
      return rc;
    size_t in_chunk = size - in < UINT_MAX ? size - in : UINT_MAX;
    size_t out_room = *cap - *used < UINT_MAX ? *cap - *used : UINT_MAX;
    z->next_in = (unsigned char *)data + in;
    z->avail_in = (unsigned)in_chunk;
    z->next_out = *buf + *used;
    z->avail_out = (unsigned)out_room;
    int zr = inflate(z, Z_NO_FLUSH);
    in += in_chunk - z->avail_in;
    *used += out_room - z->avail_out;
    if (zr == Z_STREAM_END) {
      if (in == size || only_zeros(data + in, size - in))
        return PRISM_OK;
      if (!prism__gzip_is(data + in, size - in))
        return prism__error(PRISM_ERR_FORMAT,
                            "%s: unexpected data after the gzip stream (byte %zu)", name, in);
      inflateReset(z); /* another member: gzip files may be concatenated */
      continue;
    }
    if (zr == Z_OK || (zr == Z_BUF_ERROR && z->avail_out == 0))
      continue;
    if (zr == Z_BUF_ERROR && in == size)
      return prism__error(PRISM_ERR_FORMAT, "%s: the gzip data end early (truncated file?)", name);
    if (zr == Z_MEM_ERROR)
      return prism__error(PRISM_ERR_NO_MEMORY, "%s: out of memory in zlib", name);
    return prism__error(PRISM_ERR_FORMAT, "%s: corrupt gzip data near byte %zu: %s", name, in,
                        z->msg ? z->msg : "invalid stream");
  }
}

int prism__gzip_inflate(unsigned char **out, size_t *out_size, const unsigned char *data,
                        size_t size, size_t max_out, const char *name)
{
  z_stream z;
  size_t cap = size < (1u << 16) ? (1u << 16) : size, used = 0;
  unsigned char *buf;
  int rc;

  if (cap > max_out + 1)
    cap = max_out + 1;
  if (!(buf = prism__malloc(cap + 1)))
    return prism__error(PRISM_ERR_NO_MEMORY, "%s: out of memory decompressing", name);
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
    prism__free(buf);
    return prism__error(PRISM_ERR_NO_MEMORY, "%s: cannot start zlib", name);
  }
  rc = inflate_all(&z, data, size, max_out, name, &buf, &cap, &used);
  inflateEnd(&z);
  if (rc == PRISM_OK && used > max_out)
    rc = prism__error(PRISM_ERR_LIMIT,
                      "%s: the decompressed data exceed the limit of %zu bytes (max_file_bytes)",
                      name, max_out);
  if (rc != PRISM_OK) {
    prism__free(buf);
    return rc;
  }
  buf[used] = '\0';
  *out = buf;
  *out_size = used;
  return PRISM_OK;
}
