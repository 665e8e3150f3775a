#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "error.h"
#include "json.h"
#include "safetensors.h"

/* The format's own cap on the JSON header (safetensors refuses larger ones too): a longer
 * "header" means the file is something else. */
#define ST_MAX_HEADER (100u << 20)

static const struct {
  const char *name;
  size_t size;
} dtypes[] = {
  [PRISM__ST_F32] = { "F32", 4 },   [PRISM__ST_F16] = { "F16", 2 },
  [PRISM__ST_BF16] = { "BF16", 2 }, [PRISM__ST_F64] = { "F64", 8 },
  [PRISM__ST_I64] = { "I64", 8 },   [PRISM__ST_I32] = { "I32", 4 },
  [PRISM__ST_I16] = { "I16", 2 },   [PRISM__ST_I8] = { "I8", 1 },
  [PRISM__ST_U8] = { "U8", 1 },     [PRISM__ST_BOOL] = { "BOOL", 1 },
};

size_t prism__st_dtype_size(prism__st_dtype dtype)
{
  return (unsigned)dtype < sizeof dtypes / sizeof dtypes[0] ? dtypes[dtype].size : 0;
}

const char *prism__st_dtype_name(prism__st_dtype dtype)
{
  return (unsigned)dtype < sizeof dtypes / sizeof dtypes[0] ? dtypes[dtype].name : "?";
}

static int dtype_from_name(const char *name, prism__st_dtype *out)
{
  for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
    if (strcmp(name, dtypes[i].name) == 0) {
      *out = (prism__st_dtype)i;
      return 1;
    }
  return 0;
}

static int by_name(const void *a, const void *b)
{
  return strcmp(((const prism__st_tensor *)a)->name, ((const prism__st_tensor *)b)->name);
}

static int by_offset(const void *a, const void *b)
{
  const prism__st_tensor *x = a, *y = b;
  return x->data < y->data ? -1 : x->data > y->data;
}

static int parse_u64(const json_t *v, uint64_t *out)
{
  if (!json_is_integer(v) || json_integer_value(v) < 0)
    return 0;
  *out = (uint64_t)json_integer_value(v);
  return 1;
}

static int parse_tensor(const char *what, const char *name, const json_t *entry,
                        const unsigned char *data, uint64_t data_size, prism__st_tensor *t)
{
  const char *dtype_name;
  const json_t *shape, *offsets;
  uint64_t begin, end, numel = 1, bytes;
  size_t i;

  if (!json_is_object(entry))
    return prism__error(PRISM_ERR_FORMAT, "%s: tensor \"%s\": entry is not an object", what, name);
  if (prism__json_str(entry, "dtype", what, 0, &dtype_name) != PRISM_OK)
    return prism__error(PRISM_ERR_FORMAT, "%s: tensor \"%s\": missing or non-string \"dtype\"",
                        what, name);
  if (!dtype_from_name(dtype_name, &t->dtype))
    return prism__error(PRISM_ERR_UNSUPPORTED, "%s: tensor \"%s\": unsupported dtype \"%s\"", what,
                        name, dtype_name);
  shape = json_object_get(entry, "shape");
  if (!json_is_array(shape) || json_array_size(shape) > PRISM__ST_MAX_DIMS)
    return prism__error(PRISM_ERR_FORMAT,
                        "%s: tensor \"%s\": \"shape\" must be an array of at most %d integers",
                        what, name, PRISM__ST_MAX_DIMS);
  t->ndim = (int)json_array_size(shape);
  for (i = 0; i < json_array_size(shape); i++) {
    if (!parse_u64(json_array_get(shape, i), &t->shape[i]))
      return prism__error(PRISM_ERR_FORMAT,
                          "%s: tensor \"%s\": shape[%zu] is not a non-negative integer", what, name,
                          i);
    if (__builtin_mul_overflow(numel, t->shape[i], &numel))
      return prism__error(PRISM_ERR_FORMAT, "%s: tensor \"%s\": shape overflows", what, name);
  }
  offsets = json_object_get(entry, "data_offsets");
  if (!json_is_array(offsets) || json_array_size(offsets) != 2 ||
      !parse_u64(json_array_get(offsets, 0), &begin) ||
      !parse_u64(json_array_get(offsets, 1), &end))
    return prism__error(PRISM_ERR_FORMAT,
                        "%s: tensor \"%s\": \"data_offsets\" must be two non-negative integers",
                        what, name);
  if (begin > end)
    return prism__error(PRISM_ERR_FORMAT,
                        "%s: tensor \"%s\": data_offsets [%llu, %llu] are reversed", what, name,
                        (unsigned long long)begin, (unsigned long long)end);
  if (end > data_size)
    return prism__error(PRISM_ERR_FORMAT,
                        "%s: tensor \"%s\": data_offsets end %llu is past the data (%llu bytes)",
                        what, name, (unsigned long long)end, (unsigned long long)data_size);
  if (__builtin_mul_overflow(numel, (uint64_t)prism__st_dtype_size(t->dtype), &bytes) ||
      bytes != end - begin)
    return prism__error(
        PRISM_ERR_FORMAT, "%s: tensor \"%s\": %s shape needs %llu bytes but data_offsets span %llu",
        what, name, dtype_name, (unsigned long long)bytes, (unsigned long long)(end - begin));
  t->name = name;
  t->numel = numel;
  t->data = data + begin;
  t->nbytes = (size_t)bytes;
  return PRISM_OK;
}

static int parse_metadata(const char *what, const json_t *meta, prism__st_file *f)
{
  const char *key;
  json_t *value;
  size_t i = 0;

  if (!json_is_object(meta))
    return prism__error(PRISM_ERR_FORMAT, "%s: \"__metadata__\" is not an object", what);
  f->metadata = prism__calloc(json_object_size(meta), sizeof *f->metadata);
  if (!f->metadata)
    return prism__error_prefix("%s: ", what);
  json_object_foreach((json_t *)meta, key, value)
  {
    if (!json_is_string(value))
      return prism__error(PRISM_ERR_FORMAT, "%s: metadata \"%s\" is not a string", what, key);
    f->metadata[i].key = key;
    f->metadata[i].value = json_string_value(value);
    i++;
  }
  f->metadata_count = i;
  return PRISM_OK;
}

/*
 * Tensors sorted by offset must not share bytes. Zero-sized ones may sit
 * anywhere, so each tensor is compared with the previous non-empty one, not
 * merely its neighbour (an empty tensor between two overlapping ones would
 * hide the overlap).
 */
static int check_overlaps(const char *what, prism__st_file *f)
{
  const prism__st_tensor *a = NULL;
  qsort(f->tensors, f->count, sizeof *f->tensors, by_offset);
  for (size_t i = 0; i < f->count; i++) {
    const prism__st_tensor *b = &f->tensors[i];
    if (!b->nbytes)
      continue;
    if (a && a->data + a->nbytes > b->data)
      return prism__error(PRISM_ERR_FORMAT, "%s: tensors \"%s\" and \"%s\" overlap", what, a->name,
                          b->name);
    a = b;
  }
  return PRISM_OK;
}

static int parse_header(const unsigned char *data, size_t size, const char *what, prism__st_file *f)
{
  uint64_t header_len = 0;
  const unsigned char *body;
  json_t *root;
  const char *key;
  json_t *value;
  int rc;

  if (size < 8)
    return prism__error(PRISM_ERR_FORMAT, "%s: %zu bytes is too short for a safetensors header",
                        what, size);
  for (int i = 7; i >= 0; i--)
    header_len = header_len << 8 | data[i];
  /*
   * A safetensors file is a little-endian header length and a JSON object. Any
   * other file (a TSV, a pickle) read that way gives an absurd length or a
   * header that is not an object: say what the file is not, not the number.
   */
  if (header_len > ST_MAX_HEADER || header_len < 2 || (size > 8 && data[8] != '{'))
    return prism__error(PRISM_ERR_FORMAT,
                        "%s: not a safetensors file (it does not start with a safetensors "
                        "header)",
                        what);
  if (header_len > size - 8)
    return prism__error(PRISM_ERR_FORMAT,
                        "%s: truncated safetensors file: the header of %llu bytes is past the end "
                        "of the file (%zu bytes)",
                        what, (unsigned long long)header_len, size);
  rc = prism__json_parse(data + 8, (size_t)header_len, JSON_REJECT_DUPLICATES, what, &root);
  if (rc != PRISM_OK)
    return rc;
  f->json = root;
  if (!json_is_object(root))
    return prism__error(PRISM_ERR_FORMAT, "%s: safetensors header is not a JSON object", what);
  f->tensors = prism__calloc(json_object_size(root), sizeof *f->tensors);
  if (!f->tensors)
    return prism__error_prefix("%s: ", what);
  body = data + 8 + header_len;
  json_object_foreach(root, key, value)
  {
    if (strcmp(key, "__metadata__") == 0)
      rc = parse_metadata(what, value, f);
    else
      rc = parse_tensor(what, key, value, body, size - 8 - header_len, &f->tensors[f->count++]);
    if (rc != PRISM_OK)
      return rc;
  }
  if ((rc = check_overlaps(what, f)) != PRISM_OK)
    return rc;
  qsort(f->tensors, f->count, sizeof *f->tensors, by_name);
  return PRISM_OK;
}

int prism__st_parse(const void *data, size_t size, const char *what, prism__st_file *out)
{
  prism__st_file f;
  int rc;

  memset(&f, 0, sizeof f);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return prism__error(PRISM_ERR_UNSUPPORTED, "%s: safetensors on big-endian hosts", what);
#endif
  if (!(f.what = prism__strdup(what ? what : "<memory>")))
    return PRISM_ERR_NO_MEMORY;
  rc = parse_header(data, size, f.what, &f);
  if (rc != PRISM_OK) {
    prism__st_close(&f);
    return rc;
  }
  *out = f;
  return PRISM_OK;
}

int prism__st_open(const char *path, uint64_t max_size, prism__st_file *out)
{
  prism__file file;
  int rc = prism__file_map(path, (size_t)max_size, &file);
  if (rc != PRISM_OK)
    return rc;
  rc = prism__st_parse(file.data, file.size, path, out);
  if (rc != PRISM_OK) {
    prism__file_close(&file);
    return rc;
  }
  out->file = file;
  return PRISM_OK;
}

void prism__st_close(prism__st_file *f)
{
  if (!f)
    return;
  json_decref(f->json);
  prism__free(f->tensors);
  prism__free(f->metadata);
  prism__free(f->what);
  prism__file_close(&f->file);
  memset(f, 0, sizeof *f);
}

const prism__st_tensor *prism__st_find(const prism__st_file *f, const char *name)
{
  prism__st_tensor key;
  if (!f->count)
    return NULL;
  key.name = name;
  return bsearch(&key, f->tensors, f->count, sizeof key, by_name);
}

const char *prism__st_meta(const prism__st_file *f, const char *key)
{
  for (size_t i = 0; i < f->metadata_count; i++)
    if (strcmp(f->metadata[i].key, key) == 0)
      return f->metadata[i].value;
  return NULL;
}

static float half_to_float(uint16_t h)
{
  uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  float f;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else {
    f = (float)mant * (1.0f / 16777216.0f); /* subnormal: mant * 2^-24 */
    memcpy(&bits, &f, sizeof bits);
    bits |= sign;
  }
  memcpy(&f, &bits, sizeof f);
  return f;
}

int prism__st_to_f32(const prism__st_tensor *t, float *dst)
{
  const unsigned char *p = t->data;
  switch (t->dtype) {
  case PRISM__ST_F32:
    memcpy(dst, p, t->nbytes);
    return PRISM_OK;
  case PRISM__ST_F16:
    for (uint64_t i = 0; i < t->numel; i++)
      dst[i] = half_to_float((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
    return PRISM_OK;
  case PRISM__ST_BF16:
    for (uint64_t i = 0; i < t->numel; i++) {
      uint32_t bits = (uint32_t)(p[2 * i] | p[2 * i + 1] << 8) << 16;
      memcpy(&dst[i], &bits, sizeof bits);
    }
    return PRISM_OK;
  default:
    return prism__error(PRISM_ERR_UNSUPPORTED, "tensor \"%s\": dtype %s is not a float type",
                        t->name, prism__st_dtype_name(t->dtype));
  }
}

/* The JSON header for `tensors`, padded with spaces to a multiple of 8 bytes. */
static int build_header(const prism__st_out *tensors, size_t count, const prism__st_metadata *meta,
                        size_t n_meta, char **out, size_t *out_len, size_t *data_len)
{
  json_t *root = json_object(), *m;
  size_t offset = 0, len;
  char *text, *padded;
  int rc = PRISM_ERR_NO_MEMORY;

  if (!root)
    return prism__error(PRISM_ERR_NO_MEMORY, "out of memory building a safetensors header");
  if (n_meta) {
    if (!(m = json_object()) || json_object_set_new(root, "__metadata__", m))
      goto done;
    for (size_t i = 0; i < n_meta; i++)
      if (json_object_set_new(m, meta[i].key, json_string(meta[i].value)))
        goto done;
  }
  for (size_t i = 0; i < count; i++) {
    const prism__st_out *t = &tensors[i];
    json_t *entry, *shape;
    uint64_t numel = 1;
    size_t bytes;
    if (!(shape = json_array()))
      goto done;
    for (int d = 0; d < t->ndim; d++) {
      if (json_array_append_new(shape, json_integer((json_int_t)t->shape[d]))) {
        json_decref(shape);
        goto done;
      }
      numel *= t->shape[d];
    }
    bytes = (size_t)numel * prism__st_dtype_size(t->dtype);
    entry = json_pack("{s:s,s:o,s:[I,I]}", "dtype", prism__st_dtype_name(t->dtype), "shape", shape,
                      "data_offsets", (json_int_t)offset, (json_int_t)(offset + bytes));
    if (!entry || json_object_set_new(root, t->name, entry))
      goto done;
    offset += bytes;
  }
  if (!(text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS)))
    goto done;
  len = strlen(text);
  padded = prism__malloc((len + 7) / 8 * 8);
  if (padded) {
    memcpy(padded, text, len);
    memset(padded + len, ' ', (len + 7) / 8 * 8 - len);
    *out = padded;
    *out_len = (len + 7) / 8 * 8;
    *data_len = offset;
    rc = PRISM_OK;
  }
  free(text);
done:
  json_decref(root);
  if (rc != PRISM_OK && prism_last_error_status() != PRISM_ERR_NO_MEMORY)
    prism__error(PRISM_ERR_NO_MEMORY, "out of memory building a safetensors header");
  return rc;
}

int prism__st_write(const char *path, const prism__st_out *tensors, size_t count,
                    const prism__st_metadata *meta, size_t n_meta)
{
  char *header = NULL;
  unsigned char len_bytes[8];
  prism__file_part *parts;
  size_t header_len = 0, data_len = 0;
  int rc;

  if ((rc = build_header(tensors, count, meta, n_meta, &header, &header_len, &data_len)) !=
      PRISM_OK)
    return prism__error_prefix("%s: ", path);
  /* Written from the tensors in place: no image of the whole file in memory. */
  if (!(parts = prism__mallocn(count + 2, sizeof *parts))) {
    prism__free(header);
    return prism__error_prefix("%s: ", path);
  }
  for (int i = 0; i < 8; i++)
    len_bytes[i] = (unsigned char)((uint64_t)header_len >> (8 * i));
  parts[0].data = len_bytes;
  parts[0].size = 8;
  parts[1].data = header;
  parts[1].size = header_len;
  for (size_t i = 0; i < count; i++) {
    uint64_t numel = 1;
    for (int d = 0; d < tensors[i].ndim; d++)
      numel *= tensors[i].shape[d];
    parts[i + 2].data = tensors[i].data;
    parts[i + 2].size = (size_t)numel * prism__st_dtype_size(tensors[i].dtype);
  }
  rc = prism__file_write_parts(path, parts, count + 2);
  prism__free(parts);
  prism__free(header);
  return rc;
}
