/*
 * prism_generate_params_parse: generation parameters from a JSON object with
 * HuggingFace generate() keyword names, shared by the CLI, the bindings and
 * the fixture tests.
 */
#include <math.h>
#include <string.h>

#include "common/error.h"
#include "common/json.h"
#include "generate_internal.h"

#define WHAT "generate params"

typedef struct int_key {
  const char *key;
  size_t offset; /* of an int32_t in prism_generate_params */
  int token;     /* a token id: null means "force nothing" */
} int_key;

typedef struct real_key {
  const char *key;
  size_t offset; /* of a double */
} real_key;

#define INT_KEY(name, token) \
  { \
#    name, offsetof(prism_generate_params, name), token \
  }
#define REAL_KEY(name) \
  { \
#    name, offsetof(prism_generate_params, name) \
  }

static const int_key int_keys[] = {
  INT_KEY(max_length, 0),           INT_KEY(max_new_tokens, 0), INT_KEY(min_length, 0),
  INT_KEY(min_new_tokens, 0),       INT_KEY(num_beams, 0),      INT_KEY(num_return_sequences, 0),
  INT_KEY(no_repeat_ngram_size, 0), INT_KEY(top_k, 0),          INT_KEY(forced_bos_token_id, 1),
  INT_KEY(forced_eos_token_id, 1),
};

static const real_key real_keys[] = {
  REAL_KEY(length_penalty),
  REAL_KEY(repetition_penalty),
  REAL_KEY(temperature),
  REAL_KEY(top_p),
};

static int read_int(const json_t *root, const int_key *k, prism_generate_params *p)
{
  int32_t *dst = (int32_t *)(void *)((char *)p + k->offset);
  long long v;
  int rc;
  if (json_is_null(json_object_get(root, k->key))) {
    *dst = k->token ? PRISM_GENERATE_NO_TOKEN : PRISM_GENERATE_DEFAULT;
    return PRISM_OK;
  }
  rc = prism__json_int(root, k->key, WHAT, 0, 0, INT32_MAX, &v);
  if (rc == PRISM_OK)
    *dst = (int32_t)v;
  return rc == PRISM_ERR_NOT_FOUND ? PRISM_OK : rc;
}

static int read_real(const json_t *root, const real_key *k, prism_generate_params *p)
{
  double *dst = (double *)(void *)((char *)p + k->offset);
  int rc;
  if (json_is_null(json_object_get(root, k->key))) {
    *dst = NAN;
    return PRISM_OK;
  }
  rc = prism__json_real(root, k->key, WHAT, 0, dst);
  return rc == PRISM_ERR_NOT_FOUND ? PRISM_OK : rc;
}

static int read_flags(const json_t *root, prism_generate_params *p)
{
  const json_t *es = json_object_get(root, "early_stopping");
  long long seed;
  int rc = prism__json_bool(root, "do_sample", WHAT, 0, &p->do_sample);
  if (rc != PRISM_OK && rc != PRISM_ERR_NOT_FOUND)
    return rc;
  if (es && json_is_boolean(es))
    p->early_stopping = json_is_true(es) ? PRISM_EARLY_STOPPING_TRUE : PRISM_EARLY_STOPPING_FALSE;
  else if (es && json_is_string(es) && strcmp(json_string_value(es), "never") == 0)
    p->early_stopping = PRISM_EARLY_STOPPING_NEVER;
  else if (es && !json_is_null(es))
    return prism__error(PRISM_ERR_FORMAT, WHAT ": field \"early_stopping\" must be true, false "
                                               "or \"never\"");
  rc = prism__json_int(root, "seed", WHAT, 0, 0, INT64_MAX, &seed);
  if (rc == PRISM_OK)
    p->seed = (uint64_t)seed;
  return rc == PRISM_ERR_NOT_FOUND ? PRISM_OK : rc;
}

static int known_key(const char *key)
{
  static const char *const others[] = { "do_sample", "early_stopping", "seed" };
  for (size_t i = 0; i < sizeof int_keys / sizeof int_keys[0]; i++)
    if (strcmp(key, int_keys[i].key) == 0)
      return 1;
  for (size_t i = 0; i < sizeof real_keys / sizeof real_keys[0]; i++)
    if (strcmp(key, real_keys[i].key) == 0)
      return 1;
  for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
    if (strcmp(key, others[i]) == 0)
      return 1;
  return 0;
}

static int read_object(const json_t *root, prism_generate_params *p)
{
  const char *key;
  json_t *value;
  int rc = PRISM_OK;
  json_object_foreach((json_t *)root, key, value)
  {
    if (!known_key(key))
      return prism__error(PRISM_ERR_INVALID_ARGUMENT, WHAT ": unknown parameter \"%s\"", key);
  }
  for (size_t i = 0; rc == PRISM_OK && i < sizeof int_keys / sizeof int_keys[0]; i++)
    rc = read_int(root, &int_keys[i], p);
  for (size_t i = 0; rc == PRISM_OK && i < sizeof real_keys / sizeof real_keys[0]; i++)
    rc = read_real(root, &real_keys[i], p);
  return rc == PRISM_OK ? read_flags(root, p) : rc;
}

PRISM_API int prism_generate_params_parse(prism_generate_params *params, const char *json,
                                          size_t len)
{
  prism_generate_params p;
  json_t *root;
  int rc;
  PRISM_CHECK_ARG(params != NULL);
  PRISM_CHECK_ARG(json != NULL);
  rc = prism__generate_params_read(params, &p);
  if (rc != PRISM_OK)
    return rc;
  rc = prism__json_parse(json, len, 0, WHAT, &root);
  if (rc != PRISM_OK)
    return rc;
  if (!json_is_object(root)) {
    json_decref(root);
    return prism__error(PRISM_ERR_FORMAT, WHAT ": expected a JSON object");
  }
  rc = read_object(root, &p);
  json_decref(root);
  if (rc == PRISM_OK)
    memcpy((char *)params + sizeof params->struct_size, (char *)&p + sizeof p.struct_size,
           (params->struct_size < sizeof p ? params->struct_size : sizeof p) -
               sizeof p.struct_size);
  return rc;
}
