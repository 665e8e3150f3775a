/* safetensors reader/writer: round trip, dtype conversion, and every malformation refused. */
#include <math.h>
#include <unistd.h>

#include "../testutil.h"
#include "common/alloc.h"
#include "common/safetensors.h"

/* An image: 8-byte length, `header`, then `data_len` bytes of 0x11. Caller frees. */
static unsigned char *make_image(const char *header, size_t data_len, size_t *size)
{
  size_t h = strlen(header);
  unsigned char *img = malloc(8 + h + data_len);
  for (int i = 0; i < 8; i++)
    img[i] = (unsigned char)((uint64_t)h >> (8 * i));
  memcpy(img + 8, header, h);
  memset(img + 8 + h, 0x11, data_len);
  *size = 8 + h + data_len;
  return img;
}

static int parse_text(const char *header, size_t data_len)
{
  size_t size;
  unsigned char *img = make_image(header, data_len, &size);
  prism__st_file f;
  int rc = prism__st_parse(img, size, "bad.safetensors", &f);
  if (rc == PRISM_OK)
    prism__st_close(&f);
  free(img);
  return rc;
}

static void test_round_trip(void **state)
{
  char path[] = "/tmp/prism-st-XXXXXX";
  float a[6] = { 1, 2, 3, 4, 5, 6 }, back[6];
  int32_t b[3] = { -1, 7, 9 };
  prism__st_out out[2] = {
    { "weights", PRISM__ST_F32, 2, { 2, 3 }, a },
    { "ids", PRISM__ST_I32, 1, { 3 }, b },
  };
  prism__st_metadata meta[2] = { { "format", "pt" }, { "note", "x\ty" } };
  prism__st_file f;
  const prism__st_tensor *t;
  int fd = mkstemp(path);
  (void)state;
  close(fd);
  assert_ok(prism__st_write(path, out, 2, meta, 2));
  assert_ok(prism__st_open(path, 0, &f));
  assert_int_equal(f.count, 2);
  t = prism__st_find(&f, "weights");
  assert_non_null(t);
  assert_int_equal(t->ndim, 2);
  assert_int_equal(t->shape[0], 2);
  assert_int_equal(t->shape[1], 3);
  assert_ok(prism__st_to_f32(t, back));
  assert_memory_equal(back, a, sizeof a);
  t = prism__st_find(&f, "ids");
  assert_non_null(t);
  assert_memory_equal(t->data, b, sizeof b);
  assert_null(prism__st_find(&f, "missing"));
  assert_string_equal(prism__st_meta(&f, "note"), "x\ty");
  assert_null(prism__st_meta(&f, "absent"));
  /* header is 8-byte aligned so F32 data can be used in place */
  assert_int_equal((size_t)(prism__st_find(&f, "weights")->data - f.file.data) % 4, 0);
  prism__st_close(&f);
  prism__st_close(&f); /* idempotent */
  unlink(path);
}

static void test_half_conversions(void **state)
{
  /* 1.0, -2.0, 65504 (max), 2^-24 (min subnormal), +inf */
  const unsigned char f16[] = { 0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x7c };
  /* bf16: 1.0, -3.0 */
  const unsigned char bf16[] = { 0x80, 0x3f, 0x40, 0xc0 };
  prism__st_tensor t = { "h", PRISM__ST_F16, 1, { 5 }, 5, f16, sizeof f16 };
  float out[5];
  (void)state;
  assert_ok(prism__st_to_f32(&t, out));
  assert_true(out[0] == 1.0f && out[1] == -2.0f && out[2] == 65504.0f);
  assert_true(out[3] == 1.0f / 16777216.0f);
  assert_true(isinf(out[4]) && out[4] > 0);
  t.dtype = PRISM__ST_BF16;
  t.data = bf16;
  t.numel = 2;
  t.nbytes = 4;
  assert_ok(prism__st_to_f32(&t, out));
  assert_true(out[0] == 1.0f && out[1] == -3.0f);
  t.dtype = PRISM__ST_I32;
  assert_status(prism__st_to_f32(&t, out), PRISM_ERR_UNSUPPORTED);
}

static void test_malformed(void **state)
{
  static const struct {
    const char *header;
    size_t data;
    int status;
    const char *mentions;
  } cases[] = {
    { "[1,2]", 0, PRISM_ERR_FORMAT, "not a safetensors file" },
    { "{\"a\":", 0, PRISM_ERR_FORMAT, "invalid JSON" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
      8, PRISM_ERR_FORMAT, "invalid JSON" },
    { "{\"a\":5}", 0, PRISM_ERR_FORMAT, "\"a\": entry is not an object" },
    { "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, PRISM_ERR_FORMAT, "dtype" },
    { "{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, PRISM_ERR_UNSUPPORTED,
      "Q4" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}", 4, PRISM_ERR_FORMAT,
      "shape" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, PRISM_ERR_FORMAT,
      "shape[0]" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
      PRISM_ERR_FORMAT, "at most" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
      PRISM_ERR_FORMAT, "overflow" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", 4, PRISM_ERR_FORMAT,
      "data_offsets" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, PRISM_ERR_FORMAT,
      "reversed" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 4, PRISM_ERR_FORMAT,
      "past the data" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, PRISM_ERR_FORMAT,
      "needs 8 bytes" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
      8, PRISM_ERR_FORMAT, "overlap" },
    { "{\"__metadata__\":{\"k\":1}}", 0, PRISM_ERR_FORMAT, "metadata \"k\"" },
    { "{\"__metadata__\":[]}", 0, PRISM_ERR_FORMAT, "__metadata__" },
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = parse_text(cases[i].header, cases[i].data);
    if (rc != cases[i].status || !strstr(prism_last_error(), cases[i].mentions))
      print_error("case %zu: %s: %s\n", i, prism_status_name(rc), prism_last_error());
    assert_int_equal(rc, cases[i].status);
    assert_error_mentions(cases[i].mentions);
    assert_error_mentions("bad.safetensors");
  }
}

static void test_bad_lengths(void **state)
{
  unsigned char img[16] = { 0 };
  prism__st_file f;
  (void)state;
  assert_status(prism__st_parse(img, 5, "short.st", &f), PRISM_ERR_FORMAT);
  assert_error_mentions("too short");
  img[0] = 9; /* header of 9 bytes, only 8 present */
  img[8] = '{';
  assert_status(prism__st_parse(img, 16, "past.st", &f), PRISM_ERR_FORMAT);
  assert_error_mentions("truncated safetensors file");
  assert_error_mentions("past the end");
  memset(img, 0xff, 8);
  assert_status(prism__st_parse(img, 16, "huge.st", &f), PRISM_ERR_FORMAT);
  assert_error_mentions("huge.st: not a safetensors file");
}

/* Another kind of file (here an interactions TSV) is named as not safetensors, not by the
 * header length its first 8 bytes would give. */
static void test_other_file(void **state)
{
  static const char tsv[] = "user\titem\tvalue\nu1\ti1\t1\nu1\ti2\t1\n";
  static const char brace[] = "\x08\0\0\0\0\0\0\0[1,2,3] ";
  prism__st_file f;
  (void)state;
  assert_status(prism__st_parse(tsv, sizeof tsv - 1, "ratings.tsv", &f), PRISM_ERR_FORMAT);
  assert_error_mentions("ratings.tsv: not a safetensors file");
  assert_null(strpbrk(strstr(prism_last_error(), "ratings.tsv"), "0123456789")); /* no number */
  /* a plausible length whose header is not a JSON object */
  assert_status(prism__st_parse(brace, sizeof brace - 1, "array.st", &f), PRISM_ERR_FORMAT);
  assert_error_mentions("array.st: not a safetensors file");
  assert_status(prism__st_open("/nonexistent.safetensors", 0, &f), PRISM_ERR_NOT_FOUND);
  assert_error_mentions("/nonexistent.safetensors");
}

static void test_allocation_failures(void **state)
{
  const char *header = "{\"__metadata__\":{\"k\":\"v\"},"
                       "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
  size_t size;
  unsigned char *img = make_image(header, 8, &size);
  prism__st_file f;
  (void)state;
  for (long n = 1;; n++) {
    int rc;
    prism__alloc_fail_at(n);
    rc = prism__st_parse(img, size, "alloc.st", &f);
    prism__alloc_fail_at(0);
    if (rc == PRISM_OK) {
      prism__st_close(&f);
      break;
    }
    assert_int_equal(rc, PRISM_ERR_NO_MEMORY);
  }
  free(img);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_round_trip), cmocka_unit_test(test_half_conversions),
    cmocka_unit_test(test_malformed),  cmocka_unit_test(test_bad_lengths),
    cmocka_unit_test(test_other_file), cmocka_unit_test(test_allocation_failures),
  };
  return cmocka_run_group_tests_name("safetensors", tests, NULL, NULL);
}
