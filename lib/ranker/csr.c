/* Sparse user x item matrices: construction from COO, validation, transpose. */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "ranker_internal.h"

void prism__ranker_csr_free(prism__ranker_csr *m)
{
  if (!m)
    return;
  prism__free(m->ptr);
  prism__free(m->index);
  prism__free(m->value);
  memset(m, 0, sizeof *m);
}

static int csr_alloc(prism__ranker_csr *m, int32_t rows, int32_t cols, size_t nnz)
{
  memset(m, 0, sizeof *m);
  m->rows = rows;
  m->cols = cols;
  m->ptr = prism__calloc((size_t)rows + 1, sizeof *m->ptr);
  m->index = prism__mallocn(nnz ? nnz : 1, sizeof *m->index);
  m->value = prism__mallocn(nnz ? nnz : 1, sizeof *m->value);
  if (!m->ptr || !m->index || !m->value) {
    prism__ranker_csr_free(m);
    return PRISM_ERR_NO_MEMORY;
  }
  return PRISM_OK;
}

/*
 * Stable counting sort of (key, other, value) by key into out_*; two passes
 * (by column, then by row) leave every row sorted by column in O(nnz).
 */
static int counting_sort(size_t n, int32_t nkeys, const int32_t *key, const int32_t *other,
                         const float *value, int32_t *out_key, int32_t *out_other, float *out_value)
{
  size_t *start = prism__calloc((size_t)nkeys + 1, sizeof *start);
  if (!start)
    return PRISM_ERR_NO_MEMORY;
  for (size_t i = 0; i < n; i++)
    start[key[i] + 1]++;
  for (int32_t k = 0; k < nkeys; k++)
    start[k + 1] += start[k];
  for (size_t i = 0; i < n; i++) {
    size_t d = start[key[i]]++;
    out_key[d] = key[i];
    out_other[d] = other[i];
    out_value[d] = value ? value[i] : 1.0f;
  }
  prism__free(start);
  return PRISM_OK;
}

static int check_coo(int32_t rows, int32_t cols, size_t count, const int32_t *row,
                     const int32_t *col, const float *value, const char *what)
{
  for (size_t i = 0; i < count; i++) {
    if (row[i] < 0 || row[i] >= rows)
      return prism__error(PRISM_ERR_OUT_OF_RANGE,
                          "%s %zu: user %d is out of range (there are %d users)", what, i, row[i],
                          rows);
    if (col[i] < 0 || col[i] >= cols)
      return prism__error(PRISM_ERR_OUT_OF_RANGE,
                          "%s %zu: item %d is out of range (there are %d items)", what, i, col[i],
                          cols);
    if (value && !isfinite(value[i]))
      return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s %zu: the value is not finite", what, i);
  }
  return PRISM_OK;
}

/* Sum runs of equal (row, col) in the row-then-column sorted triples; fill ptr. */
static void merge_duplicates(prism__ranker_csr *m, const int32_t *row, size_t n)
{
  size_t w = 0;
  for (size_t i = 0; i < n; i++) {
    if (w > 0 && row[i] == row[i - 1] && m->index[i] == m->index[w - 1]) {
      m->value[w - 1] += m->value[i];
      continue;
    }
    m->index[w] = m->index[i];
    m->value[w] = m->value[i];
    m->ptr[row[i] + 1]++;
    w++;
  }
  for (int32_t r = 0; r < m->rows; r++)
    m->ptr[r + 1] += m->ptr[r];
}

int prism__ranker_csr_from_coo(prism__ranker_csr *out, int32_t rows, int32_t cols, size_t count,
                               const int32_t *row, const int32_t *col, const float *value,
                               const char *what)
{
  memset(out, 0, sizeof *out);
  int rc = check_coo(rows, cols, count, row, col, value, what);
  if (rc != PRISM_OK)
    return rc;
  size_t n = count ? count : 1;
  int32_t *r1 = prism__mallocn(n, sizeof *r1), *c1 = prism__mallocn(n, sizeof *c1);
  int32_t *r2 = prism__mallocn(n, sizeof *r2);
  float *v1 = prism__mallocn(n, sizeof *v1);
  rc = r1 && c1 && r2 && v1 ? csr_alloc(out, rows, cols, count) : PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK)
    rc = counting_sort(count, cols, col, row, value, c1, r1, v1);
  if (rc == PRISM_OK)
    rc = counting_sort(count, rows, r1, c1, v1, r2, out->index, out->value);
  if (rc == PRISM_OK)
    merge_duplicates(out, r2, count);
  else if (out->ptr)
    prism__ranker_csr_free(out);
  prism__free(r1);
  prism__free(c1);
  prism__free(r2);
  prism__free(v1);
  return rc;
}

int prism__ranker_csr_check(int32_t rows, int32_t cols, const int64_t *ptr, const int32_t *index,
                            const float *value, const char *what)
{
  if (ptr[0] != 0)
    return prism__error(PRISM_ERR_FORMAT, "%s: the first row pointer is %lld, not 0", what,
                        (long long)ptr[0]);
  for (int32_t r = 0; r < rows; r++) {
    if (ptr[r + 1] < ptr[r])
      return prism__error(PRISM_ERR_FORMAT, "%s: the row pointers decrease after user %d", what, r);
    for (int64_t j = ptr[r]; j < ptr[r + 1]; j++) {
      if (index[j] < 0 || index[j] >= cols)
        return prism__error(PRISM_ERR_OUT_OF_RANGE,
                            "%s: user %d has item %d, which is out of range (there are %d items)",
                            what, r, index[j], cols);
      if (j > ptr[r] && index[j] <= index[j - 1])
        return prism__error(PRISM_ERR_FORMAT,
                            "%s: the items of user %d are not in strictly increasing order", what,
                            r);
      if (value && !isfinite(value[j]))
        return prism__error(PRISM_ERR_FORMAT, "%s: a value of user %d (entry %lld) is not finite",
                            what, r, (long long)j);
    }
  }
  return PRISM_OK;
}

int prism__ranker_csr_transpose(prism__ranker_csr *out, const prism__ranker_csr *in)
{
  size_t nnz = (size_t)in->ptr[in->rows];
  int rc = csr_alloc(out, in->cols, in->rows, nnz);
  if (rc != PRISM_OK)
    return rc;
  int64_t *fill = prism__calloc((size_t)in->cols + 1, sizeof *fill);
  if (!fill) {
    prism__ranker_csr_free(out);
    return PRISM_ERR_NO_MEMORY;
  }
  for (size_t j = 0; j < nnz; j++)
    out->ptr[in->index[j] + 1]++;
  for (int32_t c = 0; c < in->cols; c++)
    out->ptr[c + 1] += out->ptr[c];
  memcpy(fill, out->ptr, ((size_t)in->cols + 1) * sizeof *fill);
  for (int32_t r = 0; r < in->rows; r++)
    for (int64_t j = in->ptr[r]; j < in->ptr[r + 1]; j++) {
      int64_t d = fill[in->index[j]]++;
      out->index[d] = r;
      out->value[d] = in->value[j];
    }
  prism__free(fill);
  return PRISM_OK;
}
