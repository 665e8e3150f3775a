/*
 * Loading a byte-level BPE tokenizer: vocab.json + merges.txt (HF's slow
 * tokenizer files) or tokenizer.json (a ByteLevel BPE model), all validated.
 */
#include <stdatomic.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "common/params.h"
#include "tokenizer_internal.h"

#define MAX_FILE_SIZE ((size_t)1 << 30)
#define MAX_ID ((1 << 24) - 1)

/*
 * The special tokens of HF's slow tokenizers: BartTokenizer's five (in the
 * order of prism_tokenizer_special), then GPT2Tokenizer's only one.
 */
static const char *const default_specials[] = { "<s>",   "</s>",   "<pad>",
                                                "<unk>", "<mask>", "<|endoftext|>" };
#define N_BART_SPECIALS 5

/* What a load reads; `vocab_raw` is kept to locate a bad entry's line. */
typedef struct load_src {
  const char *what; /* file name for messages */
  const char *vocab_raw;
  size_t vocab_raw_len;
  const char *merges_what;
} load_src;

static size_t line_of(const char *buf, size_t len, size_t pos)
{
  size_t line = 1;
  for (size_t i = 0; i < pos && i < len; i++)
    line += buf[i] == '\n';
  return line;
}

/* The line where the JSON key `key` first appears in `raw` (0 when not found verbatim). */
static size_t key_line(const load_src *src, const char *key)
{
  json_t *s = json_string(key);
  char *quoted = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
  const char *hit = NULL;
  size_t line = 0;
  if (quoted && src->vocab_raw)
    hit = memmem(src->vocab_raw, src->vocab_raw_len, quoted, strlen(quoted));
  if (hit)
    line = line_of(src->vocab_raw, src->vocab_raw_len, (size_t)(hit - src->vocab_raw));
  free(quoted);
  json_decref(s);
  return line;
}

static int bad_entry(const load_src *src, const char *key, const char *problem)
{
  size_t line = key_line(src, key);
  if (line)
    return prism__error(PRISM_ERR_FORMAT, "%s: line %zu: token \"%s\": %s", src->what, line, key,
                        problem);
  return prism__error(PRISM_ERR_FORMAT, "%s: token \"%s\": %s", src->what, key, problem);
}

static size_t table_size(size_t n)
{
  size_t size = 16;
  while (size < 2 * n)
    size <<= 1;
  return size;
}

int32_t prism__tokenizer_lookup(const prism_tokenizer *tok, const char *s, size_t len)
{
  size_t i = (size_t)prism__tokenizer_hash_bytes(s, len) & tok->vocab_mask;
  for (;; i = (i + 1) & tok->vocab_mask) {
    int32_t id = tok->vocab_table[i];
    if (id < 0)
      return -1;
    if (tok->tok_len[id] == len && memcmp(tok->arena + tok->tok_off[id], s, len) == 0)
      return id;
  }
}

/* Copy a string into the arena; the arena was sized for every string up front. */
static uint32_t arena_add(prism_tokenizer *tok, const char *s, size_t len)
{
  uint32_t off = (uint32_t)tok->arena_len;
  memcpy(tok->arena + off, s, len);
  tok->arena[off + len] = '\0';
  tok->arena_len += len + 1;
  return off;
}

static int alloc_tables(prism_tokenizer *tok, int32_t n_ids, size_t n_tokens, size_t arena,
                        size_t n_merges)
{
  tok->n_ids = n_ids;
  tok->arena_cap = arena;
  tok->vocab_mask = table_size(n_tokens) - 1;
  tok->merge_mask = table_size(n_merges) - 1;
  tok->arena = prism__malloc(arena ? arena : 1);
  tok->tok_off = prism__mallocn((size_t)n_ids, sizeof *tok->tok_off);
  tok->tok_len = prism__calloc((size_t)n_ids, sizeof *tok->tok_len);
  tok->is_special = prism__calloc((size_t)n_ids, 1);
  tok->vocab_table = prism__mallocn(tok->vocab_mask + 1, sizeof *tok->vocab_table);
  tok->merges = prism__calloc(tok->merge_mask + 1, sizeof *tok->merges);
  if (!tok->arena || !tok->tok_off || !tok->tok_len || !tok->is_special || !tok->vocab_table ||
      !tok->merges)
    return PRISM_ERR_NO_MEMORY;
  memset(tok->tok_off, 0xff, (size_t)n_ids * sizeof *tok->tok_off);
  memset(tok->vocab_table, 0xff, (tok->vocab_mask + 1) * sizeof *tok->vocab_table);
  return PRISM_OK;
}

static void vocab_insert(prism_tokenizer *tok, int32_t id)
{
  const char *s = tok->arena + tok->tok_off[id];
  size_t i = (size_t)prism__tokenizer_hash_bytes(s, tok->tok_len[id]) & tok->vocab_mask;
  while (tok->vocab_table[i] >= 0)
    i = (i + 1) & tok->vocab_mask;
  tok->vocab_table[i] = id;
}

/* An id from a vocab entry: an integer in [0, MAX_ID]. */
static int entry_id(const load_src *src, const char *key, const json_t *value, int32_t *id)
{
  if (!json_is_integer(value))
    return bad_entry(src, key, "id must be an integer");
  if (json_integer_value(value) < 0 || json_integer_value(value) > MAX_ID)
    return bad_entry(src, key, "id is outside [0, 16777215]");
  *id = (int32_t)json_integer_value(value);
  return PRISM_OK;
}

/* Size the tables from the vocab object (and tokenizer.json's added tokens). */
static int size_vocab(prism_tokenizer *tok, const load_src *src, const json_t *vocab,
                      const json_t *added, size_t n_merges)
{
  const char *key;
  const json_t *value;
  size_t arena = 0, n = 0, i;
  int32_t id = 0, max_id = -1;
  int rc;

  if (!json_is_object(vocab))
    return prism__error(PRISM_ERR_FORMAT, "%s: the vocabulary must be a JSON object", src->what);
  if (json_object_size(vocab) == 0)
    return prism__error(PRISM_ERR_FORMAT, "%s: the vocabulary is empty", src->what);
  json_object_foreach((json_t *)vocab, key, value)
  {
    if ((rc = entry_id(src, key, value, &id)) != PRISM_OK)
      return rc;
    max_id = id > max_id ? id : max_id;
    arena += strlen(key) + 1;
    n++;
  }
  json_array_foreach(added, i, value)
  {
    const char *content = json_string_value(json_object_get(value, "content"));
    id = (int32_t)json_integer_value(json_object_get(value, "id"));
    max_id = id > max_id ? id : max_id;
    arena += strlen(content) + 1;
    n++;
  }
  /* Ids index dense tables: refuse a few tokens with huge ids rather than allocate for them. */
  if ((size_t)max_id >= 2 * n + 1024)
    return prism__error(PRISM_ERR_FORMAT,
                        "%s: ids are too sparse: the largest is %d for %zu tokens", src->what,
                        (int)max_id, n);
  return alloc_tables(tok, max_id + 1, n, arena, n_merges);
}

static int fill_vocab(prism_tokenizer *tok, const load_src *src, const json_t *vocab)
{
  const char *key;
  const json_t *value;
  char msg[96];

  json_object_foreach((json_t *)vocab, key, value)
  {
    int32_t id = (int32_t)json_integer_value(value);
    size_t len = strlen(key);
    if (len == 0)
      return bad_entry(src, key, "empty token");
    if (tok->tok_off[id] != UINT32_MAX) {
      snprintf(msg, sizeof msg, "id %d is already used by another token", (int)id);
      return bad_entry(src, key, msg);
    }
    tok->tok_off[id] = arena_add(tok, key, len);
    tok->tok_len[id] = (uint32_t)len;
    vocab_insert(tok, id);
  }
  for (unsigned b = 0; b < 256; b++) {
    unsigned char utf8[4];
    size_t n = prism__utf8_put(utf8, prism__tokenizer_byte_char(b));
    tok->byte_id[b] = prism__tokenizer_lookup(tok, (const char *)utf8, n);
  }
  return PRISM_OK;
}

/* Register merge number `rank`: "left right" -> "leftright", all three in the vocabulary. */
static int add_merge(prism_tokenizer *tok, const char *what, size_t line, const char *left,
                     size_t left_len, const char *right, size_t right_len, int32_t rank)
{
  char small[512], *buf = small;
  int32_t a = prism__tokenizer_lookup(tok, left, left_len);
  int32_t b = prism__tokenizer_lookup(tok, right, right_len);
  int32_t merged;

  if (a < 0 || b < 0)
    return prism__error(PRISM_ERR_FORMAT, "%s: line %zu: symbol \"%.*s\" is not in the vocabulary",
                        what, line, (int)(a < 0 ? left_len : right_len), a < 0 ? left : right);
  /* Merged tokens can be long (a trained vocabulary of a repetitive corpus): no fixed cap. */
  if (left_len + right_len > sizeof small && !(buf = prism__malloc(left_len + right_len)))
    return PRISM_ERR_NO_MEMORY;
  memcpy(buf, left, left_len);
  memcpy(buf + left_len, right, right_len);
  merged = prism__tokenizer_lookup(tok, buf, left_len + right_len);
  if (buf != small)
    prism__free(buf);
  if (merged < 0)
    return prism__error(PRISM_ERR_FORMAT,
                        "%s: line %zu: the merge of \"%.*s\" and \"%.*s\" is not in the vocabulary",
                        what, line, (int)left_len, left, (int)right_len, right);
  uint64_t key = tok_pair_key(a, b);
  size_t i = (size_t)tok_hash64(key) & tok->merge_mask;
  while (tok->merges[i].key != 0 && tok->merges[i].key != key)
    i = (i + 1) & tok->merge_mask;
  /* A repeated pair takes its last rank, as HF's dict(zip(merges, range(...))) does. */
  tok->merges[i] = (tok_merge){ key, rank, merged };
  return PRISM_OK;
}

static size_t count_lines(const char *buf, size_t len)
{
  size_t n = 1;
  for (size_t i = 0; i < len; i++)
    n += buf[i] == '\n';
  return n;
}

/* One merges.txt line without its newline: "#version..." (first line only), blank, or a pair. */
static int merge_line(prism_tokenizer *tok, const char *what, size_t line_no, const char *s,
                      size_t len, int32_t *rank)
{
  size_t a_end, b_start, b_end;

  if (len && s[len - 1] == '\r')
    len--;
  if (len == 0 || (line_no == 1 && len >= 8 && memcmp(s, "#version", 8) == 0))
    return PRISM_OK;
  if (prism__utf8_check((const unsigned char *)s, len) != len)
    return prism__error(PRISM_ERR_FORMAT, "%s: line %zu: invalid UTF-8 at byte %zu of the line",
                        what, line_no, prism__utf8_check((const unsigned char *)s, len));
  for (a_end = 0; a_end < len && s[a_end] != ' ' && s[a_end] != '\t'; a_end++)
    ;
  for (b_start = a_end; b_start < len && (s[b_start] == ' ' || s[b_start] == '\t'); b_start++)
    ;
  for (b_end = b_start; b_end < len && s[b_end] != ' ' && s[b_end] != '\t'; b_end++)
    ;
  if (a_end == 0 || b_start == b_end || b_end != len)
    return prism__error(PRISM_ERR_FORMAT, "%s: line %zu: expected two symbols separated by a space",
                        what, line_no);
  if (*rank == INT32_MAX)
    return prism__error(PRISM_ERR_LIMIT, "%s: too many merges", what);
  int rc = add_merge(tok, what, line_no, s, a_end, s + b_start, b_end - b_start, *rank);
  (*rank)++;
  return rc;
}

static int parse_merges(prism_tokenizer *tok, const char *what, const char *buf, size_t len)
{
  size_t line_no = 1, start = 0;
  int32_t rank = 0;
  int rc;

  while (start < len) {
    const char *nl = memchr(buf + start, '\n', len - start);
    size_t end = nl ? (size_t)(nl - buf) : len;
    if ((rc = merge_line(tok, what, line_no, buf + start, end - start, &rank)) != PRISM_OK)
      return rc;
    start = end + 1;
    line_no++;
  }
  return PRISM_OK;
}

/* Register a string matched whole in text, before pre-tokenization. */
static void add_special(prism_tokenizer *tok, const char *text, size_t len, int32_t id, int lstrip,
                        int rstrip, int special)
{
  tok_added *a = &tok->added[tok->n_added++];
  a->text = text;
  a->len = (uint32_t)len;
  a->id = id;
  a->lstrip = (unsigned char)lstrip;
  a->rstrip = (unsigned char)rstrip;
  a->special = (unsigned char)special;
  tok->added_first[(unsigned char)text[0]] = 1;
  tok->is_special[id] |= (unsigned char)special;
}

static int32_t find_id(const prism_tokenizer *tok, const char *token)
{
  return prism__tokenizer_lookup(tok, token, strlen(token));
}

static void find_special_ids(prism_tokenizer *tok)
{
  for (int k = 0; k < N_BART_SPECIALS; k++)
    tok->special[k] = find_id(tok, default_specials[k]);
}

/*
 * vocab.json specials, as the slow tokenizer for that vocabulary declares them:
 * a vocabulary with "<s>" or "</s>" is BART's or RoBERTa's (the five BART names
 * present; "<mask>" eats the space before it), any other is GPT-2's, whose only
 * special is "<|endoftext|>". So BART's own "<|endoftext|>" stays ordinary text.
 */
static int default_added(prism_tokenizer *tok)
{
  size_t n = sizeof default_specials / sizeof default_specials[0];
  int bart = find_id(tok, default_specials[PRISM_TOKENIZER_BOS]) >= 0 ||
             find_id(tok, default_specials[PRISM_TOKENIZER_EOS]) >= 0;
  tok->added = prism__calloc(n, sizeof *tok->added);
  if (!tok->added)
    return PRISM_ERR_NO_MEMORY;
  for (size_t k = bart ? 0 : N_BART_SPECIALS; k < (bart ? N_BART_SPECIALS : n); k++) {
    int32_t id = find_id(tok, default_specials[k]);
    if (id >= 0)
      add_special(tok, tok->arena + tok->tok_off[id], tok->tok_len[id], id,
                  k == PRISM_TOKENIZER_MASK, 0, 1);
  }
  return PRISM_OK;
}

static prism_tokenizer *tok_new(const prism_tokenizer_params *params, int *rc)
{
  static atomic_uint next_tag = 1;
  prism_tokenizer *tok = prism__calloc(1, sizeof *tok);
  *rc = tok ? PRISM_OK : PRISM_ERR_NO_MEMORY;
  if (!tok)
    return NULL;
  tok->add_prefix_space = params->add_prefix_space != 0;
  do
    tok->tag = atomic_fetch_add(&next_tag, 1);
  while (tok->tag == 0);
  return tok;
}

void prism_tokenizer_free(prism_tokenizer *tok)
{
  if (!tok)
    return;
  prism__free(tok->arena);
  prism__free(tok->tok_off);
  prism__free(tok->tok_len);
  prism__free(tok->is_special);
  prism__free(tok->vocab_table);
  prism__free(tok->merges);
  prism__free(tok->added);
  prism__free(tok->dec);
  prism__free(tok->dec_off);
  prism__free(tok);
}

#define PARAMS_V1_SIZE PRISM__LAYOUT_SIZE(prism_tokenizer_params, add_prefix_space)

static const prism_tokenizer_params params_defaults = { sizeof params_defaults, 0 };

int prism_tokenizer_params_init(prism_tokenizer_params *params, size_t struct_size)
{
  return PRISM__PARAMS_INIT(params, struct_size, &params_defaults, PARAMS_V1_SIZE,
                            "prism_tokenizer_params_init");
}

/* The caller's params (NULL: defaults) over the defaults, for the public loader `fn`. */
static int read_params(prism_tokenizer_params *out, const prism_tokenizer_params *params,
                       const char *fn)
{
  return PRISM__PARAMS_READ(out, params, &params_defaults, PARAMS_V1_SIZE, fn);
}

/* jansson would stop at bad UTF-8 too; checking first gives the byte offset and line. */
static int check_utf8_file(const char *what, const void *buf, size_t len)
{
  size_t bad = prism__utf8_check(buf, len);
  if (bad == len)
    return PRISM_OK;
  return prism__error(PRISM_ERR_FORMAT, "%s: invalid UTF-8 at byte %zu (line %zu)", what, bad,
                      line_of(buf, len, bad));
}

static int build_from_files(prism_tokenizer *tok, const load_src *src, const void *vocab_buf,
                            size_t vocab_len, const char *merges_buf, size_t merges_len)
{
  json_t *vocab = NULL;
  int rc;

  if ((rc = check_utf8_file(src->what, vocab_buf, vocab_len)) != PRISM_OK ||
      (rc = prism__json_parse(vocab_buf, vocab_len, JSON_REJECT_DUPLICATES, src->what, &vocab)) !=
          PRISM_OK)
    return rc;
  if ((rc = size_vocab(tok, src, vocab, NULL, count_lines(merges_buf, merges_len))) == PRISM_OK &&
      (rc = fill_vocab(tok, src, vocab)) == PRISM_OK &&
      (rc = parse_merges(tok, src->merges_what, merges_buf, merges_len)) == PRISM_OK &&
      (rc = default_added(tok)) == PRISM_OK)
    find_special_ids(tok);
  json_decref(vocab);
  return rc;
}

static int finish(prism_tokenizer **out, prism_tokenizer *tok, int rc)
{
  if (rc == PRISM_OK)
    rc = prism__tokenizer_build_decoder(tok);
  if (rc != PRISM_OK) {
    if (rc == PRISM_ERR_NO_MEMORY && prism_last_error_status() != PRISM_ERR_NO_MEMORY)
      prism__error(rc, "out of memory");
    prism_tokenizer_free(tok);
    return rc;
  }
  *out = tok;
  return PRISM_OK;
}

static int load_buffers(prism_tokenizer **out, const load_src *src, const void *vocab,
                        size_t vocab_len, const void *merges, size_t merges_len,
                        const prism_tokenizer_params *params, const char *fn)
{
  int rc;
  prism_tokenizer *tok;
  prism_tokenizer_params p;
  load_src s = *src;

  if ((rc = read_params(&p, params, fn)) != PRISM_OK)
    return rc;
  if (!(tok = tok_new(&p, &rc)))
    return rc;
  s.vocab_raw = vocab;
  s.vocab_raw_len = vocab_len;
  return finish(out, tok, build_from_files(tok, &s, vocab, vocab_len, merges, merges_len));
}

int prism_tokenizer_load_memory(prism_tokenizer **out, const void *vocab_json, size_t vocab_size,
                                const void *merges_txt, size_t merges_size,
                                const prism_tokenizer_params *params)
{
  load_src src = { "vocab.json (memory)", NULL, 0, "merges.txt (memory)" };
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(vocab_json || vocab_size == 0,
                   "vocab_json must not be NULL (it may be NULL only when vocab_size is 0)");
  PRISM__CHECK_ARG(merges_txt || merges_size == 0,
                   "merges_txt must not be NULL (it may be NULL only when merges_size is 0)");
  return prism__error_at(__func__,
                         load_buffers(out, &src, vocab_json ? vocab_json : "", vocab_size,
                                      merges_txt ? merges_txt : "", merges_size, params, __func__));
}

int prism_tokenizer_load_files(prism_tokenizer **out, const char *vocab_path,
                               const char *merges_path, const prism_tokenizer_params *params)
{
  prism__file vocab = { 0 }, merges = { 0 };
  load_src src = { vocab_path, NULL, 0, merges_path };
  int rc;

  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(vocab_path != NULL, "vocab_path must not be NULL");
  PRISM__CHECK_ARG(merges_path != NULL, "merges_path must not be NULL");
  if ((rc = prism__file_read(vocab_path, MAX_FILE_SIZE, &vocab)) == PRISM_OK &&
      (rc = prism__file_read(merges_path, MAX_FILE_SIZE, &merges)) == PRISM_OK)
    rc =
        load_buffers(out, &src, vocab.data, vocab.size, merges.data, merges.size, params, __func__);
  prism__file_close(&vocab);
  prism__file_close(&merges);
  return prism__error_at(__func__, rc);
}

/* tokenizer.json: a pre-tokenizer that is ByteLevel, alone or as the only step of a Sequence. */
static int json_byte_level(const char *what, const json_t *pre, int *add_prefix_space)
{
  const char *type = json_string_value(json_object_get(pre, "type"));
  const json_t *steps = json_object_get(pre, "pretokenizers");
  int rc;

  if (type && strcmp(type, "Sequence") == 0 && json_array_size(steps) == 1)
    return json_byte_level(what, json_array_get(steps, 0), add_prefix_space);
  if (!type || strcmp(type, "ByteLevel") != 0)
    return prism__error(PRISM_ERR_UNSUPPORTED,
                        "%s: pre_tokenizer \"%s\" is not supported (only ByteLevel)", what,
                        type ? type : "?");
  rc = prism__json_bool(pre, "add_prefix_space", what, 0, add_prefix_space);
  return rc == PRISM_ERR_NOT_FOUND ? PRISM_OK : rc;
}

static int json_check_model(const char *what, const json_t *root, const json_t **model)
{
  const char *type = NULL;
  const json_t *m = json_object_get(root, "model");
  const char *prefix = json_string_value(json_object_get(m, "continuing_subword_prefix"));
  const char *suffix = json_string_value(json_object_get(m, "end_of_word_suffix"));

  if (!json_is_object(m))
    return prism__error(PRISM_ERR_FORMAT, "%s: missing \"model\" object", what);
  if (prism__json_str(m, "type", what, 0, &type) == PRISM_ERR_FORMAT)
    return PRISM_ERR_FORMAT;
  if (type && strcmp(type, "BPE") != 0)
    return prism__error(PRISM_ERR_UNSUPPORTED, "%s: model type \"%s\" is not supported (only BPE)",
                        what, type);
  if ((prefix && *prefix) || (suffix && *suffix) ||
      json_is_true(json_object_get(m, "byte_fallback")))
    return prism__error(PRISM_ERR_UNSUPPORTED,
                        "%s: BPE subword prefixes, suffixes and byte_fallback are not supported",
                        what);
  if (!json_is_null(json_object_get(root, "normalizer")) && json_object_get(root, "normalizer"))
    return prism__error(PRISM_ERR_UNSUPPORTED, "%s: normalizers are not supported", what);
  if (!json_is_array(json_object_get(m, "merges")))
    return prism__error(PRISM_ERR_FORMAT, "%s: \"model.merges\" must be an array", what);
  *model = m;
  return PRISM_OK;
}

/* Each added token: {"id": int, "content": non-empty string, flags}; single_word is refused. */
static int json_check_added(const char *what, const json_t *added)
{
  size_t i;
  const json_t *a;
  long long id;
  const char *content;
  int rc, flag;

  if (added && !json_is_null(added) && !json_is_array(added))
    return prism__error(PRISM_ERR_FORMAT, "%s: \"added_tokens\" must be an array", what);
  json_array_foreach(added, i, a)
  {
    if ((rc = prism__json_int(a, "id", what, 1, 0, MAX_ID, &id)) != PRISM_OK ||
        (rc = prism__json_str(a, "content", what, 1, &content)) != PRISM_OK)
      return prism__error_prefix("added_tokens[%zu]: ", i);
    if (!*content)
      return prism__error(PRISM_ERR_FORMAT, "%s: added_tokens[%zu]: empty content", what, i);
    if (prism__json_bool(a, "single_word", what, 0, &flag) == PRISM_OK && flag)
      return prism__error(PRISM_ERR_UNSUPPORTED,
                          "%s: added_tokens[%zu] \"%s\": single_word is not supported", what, i,
                          content);
  }
  return PRISM_OK;
}

static int json_flag(const json_t *obj, const char *key)
{
  return json_is_true(json_object_get(obj, key));
}

static int json_fill_added(prism_tokenizer *tok, const char *what, const json_t *added)
{
  size_t i;
  const json_t *a;

  tok->added = prism__calloc(json_array_size(added) + 1, sizeof *tok->added);
  if (!tok->added)
    return PRISM_ERR_NO_MEMORY;
  json_array_foreach(added, i, a)
  {
    int32_t id = (int32_t)json_integer_value(json_object_get(a, "id"));
    const char *content = json_string_value(json_object_get(a, "content"));
    size_t len = strlen(content);
    if (tok->tok_off[id] == UINT32_MAX) {
      tok->tok_off[id] = arena_add(tok, content, len);
      tok->tok_len[id] = (uint32_t)len;
      vocab_insert(tok, id);
    } else if (tok->tok_len[id] != len || memcmp(tok->arena + tok->tok_off[id], content, len)) {
      return prism__error(PRISM_ERR_FORMAT,
                          "%s: added_tokens[%zu] \"%s\": id %d belongs to another token", what, i,
                          content, (int)id);
    }
    add_special(tok, tok->arena + tok->tok_off[id], len, id, json_flag(a, "lstrip"),
                json_flag(a, "rstrip"), json_flag(a, "special"));
  }
  return PRISM_OK;
}

/* A merge from tokenizer.json: "left right" or ["left", "right"]. */
static int json_merge(prism_tokenizer *tok, const char *what, size_t i, const json_t *m)
{
  char where[64];
  const char *s = json_string_value(m);
  snprintf(where, sizeof where, "%s: model.merges[%zu]", what, i);
  if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
      json_is_string(json_array_get(m, 1))) {
    const json_t *l = json_array_get(m, 0), *r = json_array_get(m, 1);
    return add_merge(tok, where, i + 1, json_string_value(l), json_string_length(l),
                     json_string_value(r), json_string_length(r), (int32_t)i);
  }
  const char *space = s ? strchr(s, ' ') : NULL;
  if (!space || space == s || !space[1] || strchr(space + 1, ' '))
    return prism__error(PRISM_ERR_FORMAT, "%s: model.merges[%zu]: expected \"left right\"", what,
                        i);
  return add_merge(tok, where, i + 1, s, (size_t)(space - s), space + 1, strlen(space + 1),
                   (int32_t)i);
}

static int json_build(prism_tokenizer *tok, const load_src *src, const json_t *root)
{
  const json_t *model = NULL, *added = json_object_get(root, "added_tokens"), *m;
  const json_t *pre = json_object_get(root, "pre_tokenizer");
  int rc, prefix = 0;
  size_t i;

  if ((rc = json_check_model(src->what, root, &model)) != PRISM_OK ||
      (rc = json_check_added(src->what, added)) != PRISM_OK ||
      (rc = json_byte_level(src->what, pre, &prefix)) != PRISM_OK)
    return rc;
  tok->add_prefix_space |= prefix;
  tok->strip_white_space = 1; /* tokenizers' AddedVocabulary strips char::is_whitespace */
  if ((rc = size_vocab(tok, src, json_object_get(model, "vocab"), added,
                       json_array_size(json_object_get(model, "merges")))) != PRISM_OK ||
      (rc = fill_vocab(tok, src, json_object_get(model, "vocab"))) != PRISM_OK)
    return rc;
  json_array_foreach(json_object_get(model, "merges"), i, m)
  {
    if ((rc = json_merge(tok, src->what, i, m)) != PRISM_OK)
      return rc;
  }
  if ((rc = json_fill_added(tok, src->what, added)) != PRISM_OK)
    return rc;
  find_special_ids(tok);
  return PRISM_OK;
}

static int load_json_buffer(prism_tokenizer **out, const char *what, const void *buf, size_t len,
                            const prism_tokenizer_params *params, const char *fn)
{
  load_src src = { what, buf, len, what };
  json_t *root = NULL;
  prism_tokenizer *tok;
  prism_tokenizer_params p;
  int rc;

  if ((rc = read_params(&p, params, fn)) != PRISM_OK ||
      (rc = check_utf8_file(what, buf, len)) != PRISM_OK ||
      (rc = prism__json_parse(buf, len, JSON_REJECT_DUPLICATES, what, &root)) != PRISM_OK)
    return rc;
  if ((tok = tok_new(&p, &rc)) != NULL)
    rc = finish(out, tok, json_build(tok, &src, root));
  json_decref(root);
  return rc;
}

int prism_tokenizer_load_json_memory(prism_tokenizer **out, const void *json, size_t size,
                                     const prism_tokenizer_params *params)
{
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(json || size == 0, "json must not be NULL (it may be NULL only when size is 0)");
  return prism__error_at(__func__, load_json_buffer(out, "tokenizer.json (memory)",
                                                    json ? json : "", size, params, __func__));
}

int prism_tokenizer_load_json(prism_tokenizer **out, const char *path,
                              const prism_tokenizer_params *params)
{
  prism__file f = { 0 };
  int rc;

  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(path != NULL, "path must not be NULL");
  if ((rc = prism__file_read(path, MAX_FILE_SIZE, &f)) == PRISM_OK)
    rc = load_json_buffer(out, path, f.data, f.size, params, __func__);
  prism__file_close(&f);
  return prism__error_at(__func__, rc);
}

int prism_tokenizer_load(prism_tokenizer **out, const char *dir,
                         const prism_tokenizer_params *params)
{
  char *vocab, *merges, *json;
  int rc;

  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(dir != NULL, "dir must not be NULL");
  vocab = prism__path_join(dir, "vocab.json");
  merges = prism__path_join(dir, "merges.txt");
  json = prism__path_join(dir, "tokenizer.json");
  if (!vocab || !merges || !json)
    rc = PRISM_ERR_NO_MEMORY;
  else if (prism__file_exists(vocab) && prism__file_exists(merges))
    rc = prism_tokenizer_load_files(out, vocab, merges, params);
  else if (prism__file_exists(json))
    rc = prism_tokenizer_load_json(out, json, params);
  else
    rc = prism__error(PRISM_ERR_NOT_FOUND,
                      "%s: no tokenizer files (vocab.json + merges.txt, or tokenizer.json)", dir);
  prism__free(vocab);
  prism__free(merges);
  prism__free(json);
  return rc; /* the loader it called named itself */
}

int prism_tokenizer_token_to_id(int32_t *id, const prism_tokenizer *tok, const char *token,
                                size_t token_len)
{
  int32_t found;
  PRISM__CHECK_ARG(id != NULL, "id must not be NULL");
  PRISM__CHECK_ARG(tok != NULL, "tok must not be NULL");
  PRISM__CHECK_ARG(token || token_len == 0,
                   "token must not be NULL (it may be NULL only when token_len is 0)");
  found = token_len ? prism__tokenizer_lookup(tok, token, token_len) : -1;
  if (found < 0)
    return prism__error(PRISM_ERR_NOT_FOUND, "%s: no token \"%.*s\"", __func__,
                        token_len > 200 ? 200 : (int)token_len, token ? token : "");
  *id = found;
  return PRISM_OK;
}

int prism_tokenizer_id_to_token(const char **token, size_t *token_len, const prism_tokenizer *tok,
                                int32_t id)
{
  PRISM__CHECK_ARG(token != NULL, "token must not be NULL");
  PRISM__CHECK_ARG(tok != NULL, "tok must not be NULL");
  if (id < 0 || id >= tok->n_ids || tok->tok_off[id] == UINT32_MAX)
    return prism__error(PRISM_ERR_OUT_OF_RANGE, "%s: no token has id %d (vocab size %d)", __func__,
                        (int)id, (int)tok->n_ids);
  *token = tok->arena + tok->tok_off[id];
  if (token_len)
    *token_len = tok->tok_len[id];
  return PRISM_OK;
}

int32_t prism_tokenizer_vocab_size(const prism_tokenizer *tok)
{
  return tok ? tok->n_ids : 0;
}

int32_t prism_tokenizer_special_id(const prism_tokenizer *tok, int which)
{
  if (!tok || which < PRISM_TOKENIZER_BOS || which > PRISM_TOKENIZER_MASK)
    return -1;
  return tok->special[which];
}
