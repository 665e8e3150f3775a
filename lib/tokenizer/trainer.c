/*
 * The BPE trainer's first half: counting pre-tokens. Texts are split with the
 * encoder's GPT-2 pre-tokenizer and each distinct pre-token (as raw bytes) is
 * counted in one hash table, so memory follows the vocabulary of the corpus,
 * not its size. Large batches are counted on the worker pool, each part into a
 * table of its own that is then added to the trainer's: counts are sums, so
 * the result does not depend on the thread count. Files are read in blocks of
 * whole lines, as plain text or as JSON Lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/file.h"
#include "common/json.h"
#include "common/params.h"
#include "common/pool.h"
#include "tokenizer_internal.h"

#define BLOCK_SIZE ((size_t)4 << 20)     /* bytes of a file read and counted at a time */
#define PARALLEL_BYTES ((size_t)1 << 16) /* below this a batch is counted on the caller */
#define MAX_WORD_BYTES ((size_t)INT32_MAX)

static const char *const bart_specials[] = { "<s>", "<pad>", "</s>", "<unk>", "<mask>" };

static const prism_tokenizer_trainer_params default_params = {
  sizeof(prism_tokenizer_trainer_params), 30000, 2, NULL, 0, PRISM_UNSET, 0,
};

#define PARAMS_V1 PRISM__LAYOUT_SIZE(prism_tokenizer_trainer_params, corpus_alphabet)

/* ---- the word table ---- */

static void wordtab_free(tok_wordtab *t)
{
  prism__free(t->words);
  prism__free(t->slots);
  prism__free(t->bytes);
  memset(t, 0, sizeof *t);
}

static int wordtab_rehash(tok_wordtab *t, size_t n_slots)
{
  uint32_t *slots = prism__calloc(n_slots, sizeof *slots);
  if (!slots)
    return PRISM_ERR_NO_MEMORY;
  for (size_t w = 0; w < t->n; w++) {
    size_t i = t->words[w].hash & (n_slots - 1);
    while (slots[i])
      i = (i + 1) & (n_slots - 1);
    slots[i] = (uint32_t)w + 1;
  }
  prism__free(t->slots);
  t->slots = slots;
  t->mask = n_slots - 1;
  return PRISM_OK;
}

int prism__tokenizer_grow(void **p, size_t *cap, size_t need, size_t elem)
{
  size_t c = *cap ? *cap : 64, bytes;
  void *q;
  while (c < need)
    if (!prism__mul_ok(c, 2, &c))
      return PRISM_ERR_NO_MEMORY;
  if (c == *cap)
    return PRISM_OK;
  if (!prism__mul_ok(c, elem, &bytes) || !(q = prism__realloc(*p, bytes)))
    return PRISM_ERR_NO_MEMORY;
  *p = q;
  *cap = c;
  return PRISM_OK;
}

/* Add `count` occurrences of the word s[0..len) whose hash is `h`. */
static int wordtab_add(tok_wordtab *t, const unsigned char *s, size_t len, uint64_t h,
                       uint64_t count)
{
  size_t i;
  uint32_t h32 = (uint32_t)h;
  tok_word *w;

  if (t->slots) {
    for (i = h32 & t->mask; t->slots[i]; i = (i + 1) & t->mask) {
      w = &t->words[t->slots[i] - 1];
      if (w->hash == h32 && w->len == len && memcmp(t->bytes + w->off, s, len) == 0) {
        w->count += count;
        t->total += count;
        return PRISM_OK;
      }
    }
  }
  if (t->n >= UINT32_MAX - 1)
    return PRISM_ERR_LIMIT;
  if ((2 * (t->n + 1) > t->mask || !t->slots) &&
      wordtab_rehash(t, t->slots ? 2 * (t->mask + 1) : 1024) != PRISM_OK)
    return PRISM_ERR_NO_MEMORY;
  if (prism__tokenizer_grow((void **)&t->words, &t->cap, t->n + 1, sizeof *t->words) != PRISM_OK ||
      prism__tokenizer_grow((void **)&t->bytes, &t->bytes_cap, t->bytes_len + len, 1) != PRISM_OK)
    return PRISM_ERR_NO_MEMORY;
  w = &t->words[t->n];
  w->off = t->bytes_len;
  w->len = (uint32_t)len;
  w->count = count;
  w->hash = h32;
  memcpy(t->bytes + t->bytes_len, s, len);
  t->bytes_len += len;
  for (i = h32 & t->mask; t->slots[i]; i = (i + 1) & t->mask)
    ;
  t->slots[i] = (uint32_t)++t->n;
  t->total += count;
  return PRISM_OK;
}

/* Add every word of `src` to `dst`. */
static int wordtab_merge(tok_wordtab *dst, const tok_wordtab *src)
{
  for (size_t w = 0; w < src->n; w++) {
    const tok_word *x = &src->words[w];
    const unsigned char *s = src->bytes + x->off;
    int rc = wordtab_add(dst, s, x->len, prism__tokenizer_hash_bytes(s, x->len), x->count);
    if (rc != PRISM_OK)
      return rc;
  }
  return PRISM_OK;
}

/* Pre-tokenize one valid UTF-8 text into the table. */
static int count_text(tok_wordtab *t, const unsigned char *s, size_t len)
{
  size_t i = 0, end;
  while (i < len) {
    end = prism__tokenizer_pretoken_end(s, len, i);
    if (end - i > MAX_WORD_BYTES)
      return PRISM_ERR_LIMIT;
    int rc = wordtab_add(t, s + i, end - i, prism__tokenizer_hash_bytes(s + i, end - i), 1);
    if (rc != PRISM_OK)
      return rc;
    i = end;
  }
  return PRISM_OK;
}

/* ---- counting a batch of texts ---- */

typedef struct count_job {
  const unsigned char *const *texts;
  const size_t *lens;
  tok_wordtab *into;
  pthread_mutex_t lock;
  atomic_int status; /* the first failure of a part */
} count_job;

static void count_range(void *ctx, size_t begin, size_t end)
{
  count_job *job = ctx;
  tok_wordtab local = { 0 };
  int rc = PRISM_OK;

  for (size_t i = begin; i < end && rc == PRISM_OK; i++)
    rc = count_text(&local, job->texts[i], job->lens[i]);
  if (rc == PRISM_OK) {
    pthread_mutex_lock(&job->lock);
    rc = wordtab_merge(job->into, &local);
    pthread_mutex_unlock(&job->lock);
  }
  if (rc != PRISM_OK) {
    int ok = PRISM_OK;
    atomic_compare_exchange_strong(&job->status, &ok, rc);
  }
  wordtab_free(&local);
}

/* Count texts already checked for UTF-8. A failure half-way marks the trainer broken. */
static int count_texts(prism_tokenizer_trainer *t, const unsigned char *const *texts,
                       const size_t *lens, size_t n, size_t bytes)
{
  count_job job = { texts, lens, &t->words, PTHREAD_MUTEX_INITIALIZER, PRISM_OK };
  int rc;

  if (bytes < PARALLEL_BYTES || n < 2) {
    rc = PRISM_OK;
    for (size_t i = 0; i < n && rc == PRISM_OK; i++)
      rc = count_text(&t->words, texts[i], lens[i]);
  } else {
    prism__parallel_for(n, 16, count_range, &job);
    rc = atomic_load(&job.status);
  }
  pthread_mutex_destroy(&job.lock);
  if (rc == PRISM_OK)
    return PRISM_OK;
  t->broken = 1;
  if (rc == PRISM_ERR_LIMIT)
    return prism__error(rc,
                        "tokenizer trainer: a word longer than %zu bytes, or more than "
                        "4294967294 distinct words",
                        MAX_WORD_BYTES);
  return prism__error(PRISM_ERR_NO_MEMORY, "tokenizer trainer: out of memory while counting "
                                           "words (the trainer cannot be used further)");
}

static int check_usable(const prism_tokenizer_trainer *t, const char *fn)
{
  if (t->broken)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: an earlier call ran out of memory half-way; free this trainer", fn);
  return PRISM_OK;
}

int prism_tokenizer_trainer_feed(prism_tokenizer_trainer *trainer, const char *const *texts,
                                 const size_t *text_lens, size_t n_texts)
{
  size_t bytes = 0;

  PRISM__CHECK_ARG(trainer, "trainer must not be NULL");
  PRISM__CHECK_ARG(n_texts == 0 || (texts && text_lens),
                   "texts and text_lens must not be NULL when n_texts > 0");
  if (check_usable(trainer, __func__) != PRISM_OK)
    return PRISM_ERR_INVALID_ARGUMENT;
  for (size_t i = 0; i < n_texts; i++) {
    const unsigned char *s = (const unsigned char *)texts[i];
    size_t bad;
    if (!s && text_lens[i])
      return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: texts[%zu] is NULL with length %zu",
                          __func__, i, text_lens[i]);
    if (s && (bad = prism__utf8_check(s, text_lens[i])) < text_lens[i])
      return prism__error(PRISM_ERR_INVALID_UTF8,
                          "%s: texts[%zu]: invalid UTF-8 at byte %zu (0x%02x); nothing of this "
                          "call was counted",
                          __func__, i, bad, s[bad]);
    bytes += text_lens[i];
  }
  return prism__error_at(__func__, count_texts(trainer, (const unsigned char *const *)texts,
                                               text_lens, n_texts, bytes));
}

/* ---- blocks of lines ---- */

static uint64_t lines_before(const unsigned char *buf, size_t pos)
{
  uint64_t n = 0;
  for (size_t i = 0; i < pos; i++)
    n += buf[i] == '\n';
  return n;
}

static int is_blank(const unsigned char *s, size_t len)
{
  for (size_t i = 0; i < len; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
      return 0;
  return 1;
}

/* The texts of one block: pointers into the block or into parsed JSON strings. */
typedef struct block_texts {
  const unsigned char **texts;
  size_t *lens;
  size_t n, cap, bytes;
  json_t **roots;
  size_t n_roots;
} block_texts;

static void block_free(block_texts *b)
{
  for (size_t i = 0; i < b->n_roots; i++)
    json_decref(b->roots[i]);
  prism__free(b->roots);
  prism__free(b->texts);
  prism__free(b->lens);
}

static int block_add(block_texts *b, const void *s, size_t len)
{
  size_t cap = b->cap;
  if (b->n == cap) {
    if (prism__tokenizer_grow((void **)&b->texts, &cap, b->n + 1, sizeof *b->texts) != PRISM_OK)
      return PRISM_ERR_NO_MEMORY;
    cap = b->cap;
    if (prism__tokenizer_grow((void **)&b->lens, &cap, b->n + 1, sizeof *b->lens) != PRISM_OK)
      return PRISM_ERR_NO_MEMORY;
    b->cap = cap;
  }
  b->texts[b->n] = s;
  b->lens[b->n++] = len;
  b->bytes += len;
  return PRISM_OK;
}

/* One JSON line: an object whose `fields` are strings, each added as a text. */
static int jsonl_line(block_texts *b, const char *what, uint64_t line_no, const unsigned char *s,
                      size_t len, const char *const *fields, size_t n_fields)
{
  json_error_t err;
  json_t *root = json_loadb((const char *)s, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &err);

  if (!root)
    return prism__error(PRISM_ERR_FORMAT, "%s: line %llu: invalid JSON at column %d: %s", what,
                        (unsigned long long)line_no, err.column, err.text);
  b->roots[b->n_roots++] = root;
  if (!json_is_object(root))
    return prism__error(PRISM_ERR_FORMAT, "%s: line %llu: expected a JSON object", what,
                        (unsigned long long)line_no);
  for (size_t f = 0; f < n_fields; f++) {
    const json_t *v = json_object_get(root, fields[f]);
    if (!json_is_string(v))
      return prism__error(PRISM_ERR_FORMAT, "%s: line %llu: field \"%s\" is %s", what,
                          (unsigned long long)line_no, fields[f], v ? "not a string" : "missing");
    if (block_add(b, json_string_value(v), json_string_length(v)) != PRISM_OK)
      return PRISM_ERR_NO_MEMORY;
  }
  return PRISM_OK;
}

/* Split a block into texts: lines with their endings, or JSON fields. */
static int block_parse(block_texts *b, const char *what, const unsigned char *buf, size_t len,
                       uint64_t line_no, const char *const *fields, size_t n_fields)
{
  size_t start = 0, n_lines = 0;
  int rc;

  for (size_t i = 0; i < len; i++)
    n_lines += buf[i] == '\n';
  if (n_fields && !(b->roots = prism__calloc(n_lines + 1, sizeof *b->roots)))
    return PRISM_ERR_NO_MEMORY;
  for (; start < len; line_no++) {
    const unsigned char *nl = memchr(buf + start, '\n', len - start);
    size_t end = nl ? (size_t)(nl - buf) + 1 : len;
    if (!n_fields)
      rc = block_add(b, buf + start, end - start);
    else if (is_blank(buf + start, end - start))
      rc = PRISM_OK;
    else
      rc = jsonl_line(b, what, line_no, buf + start, end - start, fields, n_fields);
    if (rc != PRISM_OK)
      return rc;
    start = end;
  }
  return PRISM_OK;
}

int prism__tokenizer_trainer_feed_lines(prism_tokenizer_trainer *t, const char *what,
                                        const unsigned char *buf, size_t len, uint64_t line_no,
                                        uint64_t offset, const char *const *fields, size_t n_fields)
{
  block_texts b = { 0 };
  size_t bad = prism__utf8_check(buf, len);
  int rc;

  if (bad < len)
    return prism__error(PRISM_ERR_INVALID_UTF8,
                        "%s: line %llu: invalid UTF-8 at byte %llu of the file (0x%02x)", what,
                        (unsigned long long)(line_no + lines_before(buf, bad)),
                        (unsigned long long)(offset + bad), buf[bad]);
  rc = block_parse(&b, what, buf, len, line_no, fields, n_fields);
  if (rc == PRISM_ERR_NO_MEMORY)
    rc = prism__error(rc, "%s: out of memory reading line %llu onwards", what,
                      (unsigned long long)line_no);
  if (rc == PRISM_OK)
    rc = count_texts(t, b.texts, b.lens, b.n, b.bytes);
  block_free(&b);
  return rc;
}

/* Read until `buf` holds at least one whole line past `len` or the file ends. */
static int read_more(int fd, const char *path, unsigned char **buf, size_t *cap, size_t *len,
                     int *eof)
{
  for (;;) {
    if (*len == *cap && prism__tokenizer_grow((void **)buf, cap, *cap + 1, 1) != PRISM_OK)
      return prism__error(PRISM_ERR_NO_MEMORY, "%s: out of memory for a line of %zu bytes", path,
                          *len);
    ssize_t n = read(fd, *buf + *len, *cap - *len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return prism__error(PRISM_ERR_IO, "%s: read failed: %s", path, strerror(errno));
    if (n == 0) {
      *eof = 1;
      return PRISM_OK;
    }
    *len += (size_t)n;
    if (*len == *cap || memchr(*buf + *len - (size_t)n, '\n', (size_t)n))
      return PRISM_OK;
  }
}

/* Length of the whole lines at the start of buf[0..len) (all of it at the end of the file). */
static size_t whole_lines(const unsigned char *buf, size_t len, int eof)
{
  if (eof)
    return len;
  while (len > 0 && buf[len - 1] != '\n')
    len--;
  return len;
}

static int feed_fd(prism_tokenizer_trainer *t, int fd, const char *path, const char *const *fields,
                   size_t n_fields)
{
  unsigned char *buf = NULL;
  size_t cap = 0, len = 0, take;
  uint64_t line_no = 1, offset = 0;
  int eof = 0, rc = prism__tokenizer_grow((void **)&buf, &cap, BLOCK_SIZE, 1);

  if (rc != PRISM_OK)
    return prism__error(rc, "%s: out of memory", path);
  while (rc == PRISM_OK && !(eof && len == 0)) {
    if (!eof && (rc = read_more(fd, path, &buf, &cap, &len, &eof)) != PRISM_OK)
      break;
    take = whole_lines(buf, len, eof);
    if (take == 0 && !eof)
      continue; /* a line longer than the buffer: read_more grows it */
    rc = prism__tokenizer_trainer_feed_lines(t, path, buf, take, line_no, offset, fields, n_fields);
    line_no += lines_before(buf, take);
    offset += take;
    memmove(buf, buf + take, len - take);
    len -= take;
  }
  prism__free(buf);
  return rc;
}

int prism_tokenizer_trainer_feed_file(prism_tokenizer_trainer *trainer, const char *path,
                                      const char *const *fields, size_t n_fields)
{
  int fd, rc;

  PRISM__CHECK_ARG(trainer, "trainer must not be NULL");
  PRISM__CHECK_ARG(path, "path must not be NULL");
  PRISM__CHECK_ARG(n_fields == 0 || fields, "fields must not be NULL when n_fields > 0");
  for (size_t f = 0; f < n_fields; f++)
    if (!fields[f] || !*fields[f])
      return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: fields[%zu] is NULL or empty", __func__,
                          f);
  if (check_usable(trainer, __func__) != PRISM_OK)
    return PRISM_ERR_INVALID_ARGUMENT;
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return prism__error(errno == ENOENT ? PRISM_ERR_NOT_FOUND : PRISM_ERR_IO, "%s: cannot open: %s",
                        path, strerror(errno));
  rc = feed_fd(trainer, fd, path, fields, n_fields);
  close(fd);
  return prism__error_at(__func__, rc);
}

/* ---- the trainer object ---- */

int prism_tokenizer_trainer_params_init(prism_tokenizer_trainer_params *params, size_t struct_size)
{
  return PRISM__PARAMS_INIT(params, struct_size, &default_params, PARAMS_V1, __func__);
}

static int check_params(const prism_tokenizer_trainer_params *p, const char *fn)
{
  if (p->vocab_size < 1 || p->vocab_size > (1 << 24))
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: vocab_size must be in [1, 16777216], got %d", fn, (int)p->vocab_size);
  if (p->min_frequency < 0)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: min_frequency must be >= 0, got %d", fn,
                        (int)p->min_frequency);
  if (p->limit_alphabet != PRISM_UNSET && p->limit_alphabet < 0)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: limit_alphabet must be >= 0 or PRISM_UNSET, got %d", fn,
                        (int)p->limit_alphabet);
  if (p->special_tokens == NULL && p->n_special_tokens != 0)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: special_tokens is NULL but n_special_tokens is %zu", fn,
                        p->n_special_tokens);
  for (size_t i = 0; i < p->n_special_tokens; i++) {
    const char *s = p->special_tokens[i];
    size_t len = s ? strlen(s) : 0;
    if (len == 0)
      return prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: special_tokens[%zu] is NULL or empty",
                          fn, i);
    if (prism__utf8_check((const unsigned char *)s, len) < len)
      return prism__error(PRISM_ERR_INVALID_UTF8,
                          "%s: special_tokens[%zu]: invalid UTF-8 at byte %zu", fn, i,
                          prism__utf8_check((const unsigned char *)s, len));
  }
  return PRISM_OK;
}

void prism_tokenizer_trainer_free(prism_tokenizer_trainer *trainer)
{
  if (!trainer)
    return;
  for (size_t i = 0; i < trainer->params.n_special_tokens; i++)
    prism__free(trainer->specials[i]);
  prism__free(trainer->specials);
  wordtab_free(&trainer->words);
  prism__free(trainer);
}

int prism_tokenizer_trainer_create(prism_tokenizer_trainer **out,
                                   const prism_tokenizer_trainer_params *params)
{
  prism_tokenizer_trainer *t;
  prism_tokenizer_trainer_params p;
  int rc;

  PRISM__CHECK_ARG(out, "out must not be NULL");
  if ((rc = PRISM__PARAMS_READ(&p, params, &default_params, PARAMS_V1, __func__)) != PRISM_OK)
    return rc;
  if (!p.special_tokens) {
    p.special_tokens = bart_specials;
    p.n_special_tokens = sizeof bart_specials / sizeof bart_specials[0];
  }
  if ((rc = check_params(&p, __func__)) != PRISM_OK)
    return rc;
  if (!(t = prism__calloc(1, sizeof *t)) ||
      !(t->specials = prism__calloc(p.n_special_tokens + 1, sizeof *t->specials))) {
    prism__free(t);
    return prism__error_at(__func__, PRISM_ERR_NO_MEMORY);
  }
  t->params = p;
  t->params.n_special_tokens = 0;
  for (size_t i = 0; i < p.n_special_tokens; i++) {
    if (!(t->specials[i] = prism__strdup(p.special_tokens[i]))) {
      prism_tokenizer_trainer_free(t);
      return prism__error_at(__func__, PRISM_ERR_NO_MEMORY);
    }
    t->params.n_special_tokens++;
  }
  t->params.special_tokens = (const char *const *)t->specials;
  *out = t;
  return PRISM_OK;
}

/* ---- training and writing ---- */

#define STATS_V1 PRISM__LAYOUT_SIZE(prism_tokenizer_trainer_stats, merges)

static int check_out_dir(const char *dir, const char *fn)
{
  struct stat st;
  if (stat(dir, &st) != 0)
    return prism__error(errno == ENOENT ? PRISM_ERR_NOT_FOUND : PRISM_ERR_IO,
                        "%s: output folder %s: %s", fn, dir, strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return prism__error(PRISM_ERR_IO, "%s: %s is not a folder", fn, dir);
  return PRISM_OK;
}

/* Both files go to temporaries first and are renamed only when both are written. */
static int write_files(const tok_learned *l, const char *dir)
{
  char *vocab = prism__path_join(dir, "vocab.json"), *merges = prism__path_join(dir, "merges.txt");
  char *tmp_vocab = NULL, *tmp_merges = NULL;
  int rc = vocab && merges ? PRISM_OK : PRISM_ERR_NO_MEMORY;

  if (rc == PRISM_OK &&
      (rc = prism__file_write_temp(vocab, l->vocab_json, l->vocab_len, &tmp_vocab)) == PRISM_OK &&
      (rc = prism__file_write_temp(merges, l->merges_txt, l->merges_len, &tmp_merges)) ==
          PRISM_OK) {
    rc = prism__file_commit(tmp_vocab, vocab);
    tmp_vocab = NULL;
    if (rc == PRISM_OK) {
      rc = prism__file_commit(tmp_merges, merges);
      tmp_merges = NULL;
    }
  }
  prism__file_discard(tmp_vocab);
  prism__file_discard(tmp_merges);
  prism__free(vocab);
  prism__free(merges);
  return rc;
}

int prism_tokenizer_trainer_train(prism_tokenizer_trainer_stats *stats,
                                  prism_tokenizer_trainer *trainer, const char *out_dir,
                                  prism_tokenizer_trainer_progress_fn progress, void *payload)
{
  tok_learned l;
  int rc;

  PRISM__CHECK_ARG(trainer, "trainer must not be NULL");
  PRISM__CHECK_ARG(out_dir, "out_dir must not be NULL");
  PRISM__CHECK_ARG(!stats || (stats->struct_size >= STATS_V1 &&
                              stats->struct_size <= sizeof(prism_tokenizer_trainer_stats)),
                   "stats->struct_size must be set to sizeof(prism_tokenizer_trainer_stats)");
  if ((rc = check_usable(trainer, __func__)) != PRISM_OK ||
      (rc = check_out_dir(out_dir, __func__)) != PRISM_OK ||
      (rc = prism__tokenizer_learn(&l, trainer, progress, payload, __func__)) != PRISM_OK)
    return rc;
  rc = write_files(&l, out_dir);
  if (rc == PRISM_OK && stats)
    rc = PRISM__PARAMS_WRITE(stats, &l.stats, STATS_V1, __func__);
  prism__tokenizer_learned_free(&l);
  return prism__error_at(__func__, rc);
}
