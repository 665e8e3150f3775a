/*
 * The JSON layer every config loader stands on: arbitrary bytes through
 * prism__json_parse, then every typed getter on every key of the object.
 */
#include <stdint.h>

#include "fuzz_common.h"
#include "common/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json_t *root, *value;
  const char *key, *s;
  long long i;
  double r;
  int b;

  if (prism__json_parse(data, size, JSON_REJECT_DUPLICATES, "fuzz.json", &root) != 0)
    return 0;
  json_object_foreach(root, key, value)
  {
    (void)prism__json_int(root, key, "fuzz.json", 1, -1000, 1000, &i);
    (void)prism__json_int(root, key, "fuzz.json", 0, INT64_MIN, INT64_MAX, &i);
    (void)prism__json_real(root, key, "fuzz.json", 1, &r);
    (void)prism__json_bool(root, key, "fuzz.json", 0, &b);
    (void)prism__json_str(root, key, "fuzz.json", 1, &s);
  }
  json_decref(root);
  return 0;
}
