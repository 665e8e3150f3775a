/*
 * Internal: safetensors reading and writing, shared by the BART loader and the
 * ranker's model files.
 *
 * Format: u64 little-endian header length N, N bytes of JSON
 * {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
 * then the data. Offsets are relative to the end of the header.
 *
 * prism__st_parse validates everything before anything is trusted: header
 * length inside the buffer, JSON object, known dtypes, shapes of non-negative
 * integers whose product times the dtype size equals end - begin (overflow
 * checked), offsets inside the data, no two tensors overlapping, metadata
 * values strings. Errors name the file (`what`) and the tensor.
 */
#ifndef PRISM__COMMON_SAFETENSORS_H
#define PRISM__COMMON_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "file.h"

typedef enum prism__st_dtype {
  PRISM__ST_F32,
  PRISM__ST_F16,
  PRISM__ST_BF16,
  PRISM__ST_F64,
  PRISM__ST_I64,
  PRISM__ST_I32,
  PRISM__ST_I16,
  PRISM__ST_I8,
  PRISM__ST_U8,
  PRISM__ST_BOOL,
} prism__st_dtype;

#define PRISM__ST_MAX_DIMS 8

typedef struct prism__st_tensor {
  const char *name; /* owned by the prism__st_file */
  prism__st_dtype dtype;
  int ndim;
  uint64_t shape[PRISM__ST_MAX_DIMS];
  uint64_t numel;
  const unsigned char *data; /* inside the file image; may be unaligned */
  size_t nbytes;
} prism__st_tensor;

typedef struct prism__st_metadata {
  const char *key, *value; /* owned by the prism__st_file */
} prism__st_metadata;

typedef struct prism__st_file {
  prism__file file;          /* the mapping when opened from a path */
  char *what;                /* file name for messages */
  prism__st_tensor *tensors; /* sorted by name */
  size_t count;
  prism__st_metadata *metadata;
  size_t metadata_count;
  void *json; /* parsed header (json_t *), owns the strings */
} prism__st_file;

/* Map and parse `path` (max_size 0: no cap). */
int prism__st_open(const char *path, uint64_t max_size, prism__st_file *out);

/* Parse an image in memory; the buffer must outlive *out. `what` names it in messages. */
int prism__st_parse(const void *data, size_t size, const char *what, prism__st_file *out);

void prism__st_close(prism__st_file *f);

const prism__st_tensor *prism__st_find(const prism__st_file *f, const char *name);
const char *prism__st_meta(const prism__st_file *f, const char *key);

size_t prism__st_dtype_size(prism__st_dtype dtype);
const char *prism__st_dtype_name(prism__st_dtype dtype);

/* Convert a F32/F16/BF16 tensor to float32 (handles unaligned data). */
int prism__st_to_f32(const prism__st_tensor *t, float *dst);

/* A tensor to write. */
typedef struct prism__st_out {
  const char *name;
  prism__st_dtype dtype;
  int ndim;
  uint64_t shape[PRISM__ST_MAX_DIMS];
  const void *data;
} prism__st_out;

/*
 * Write a safetensors file atomically (temporary file + rename); metadata is
 * n_meta (key, value) string pairs. On failure `path` is untouched.
 */
int prism__st_write(const char *path, const prism__st_out *tensors, size_t count,
                    const prism__st_metadata *meta, size_t n_meta);

#endif
