/*
 * The text-metrics accumulator: per-pair counts and sentence scores folded
 * into corpus totals, so memory holds counts and never texts.
 */
#include <math.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/params.h"
#include "common/unicode.h"
#include "common/utf8.h"
#include "metrics_internal.h"

/* A running sum with Neumaier's compensation: order-independent to rounding. */
typedef struct ksum {
  double sum, comp;
} ksum;

static void ksum_add(ksum *k, double x)
{
  double t = k->sum + x;
  if (fabs(k->sum) >= fabs(x))
    k->comp += (k->sum - t) + x;
  else
    k->comp += (x - t) + k->sum;
  k->sum = t;
}

struct prism_metrics {
  int tokenize, lowercase, has_feature_set;
  prism__metrics_words features; /* the feature set, lower-cased when asked */
  uint64_t *feature_pairs;       /* per feature: pairs whose hypothesis holds it */
  uint64_t *feature_mark;        /* per feature: the add call that last found it */
  uint64_t mark;                 /* add calls so far (marks stay valid after a failed add) */

  uint64_t count, ref_len, hyp_len, match[4], possible[4];
  ksum rouge[3][3];
  prism__metrics_digests distinct;
  uint64_t feature_samples, feature_hits;

  /* scratch */
  prism__metrics_tokens ref, hyp;
  prism__metrics_scratch pair;
  char *buf; /* joined hypothesis tokens; a lower-cased feature */
  size_t buf_cap;
  size_t *found; /* feature indices found in the current hypothesis */
  size_t found_cap;
};

static const prism_metrics_params default_params = {
  sizeof(prism_metrics_params), PRISM_METRICS_TOKENIZE_WHITESPACE, 0, NULL, 0,
};

PRISM_API int prism_metrics_params_init(prism_metrics_params *params, size_t struct_size)
{
  return PRISM__PARAMS_INIT(params, struct_size, &default_params, PRISM__METRICS_PARAMS_V1_SIZE,
                            __func__);
}

static int grow_buf(prism_metrics *m, size_t need)
{
  char *p;
  if (need <= m->buf_cap)
    return PRISM_OK;
  p = prism__realloc(m->buf, need);
  if (!p)
    return PRISM_ERR_NO_MEMORY;
  m->buf = p;
  m->buf_cap = need;
  return PRISM_OK;
}

/* `text` as the accumulator compares words: lower-cased when asked (into m->buf). */
static int word_form(prism_metrics *m, const char *text, const char **out, size_t *len)
{
  int rc;
  *len = strlen(text);
  *out = text;
  if (!m->lowercase)
    return PRISM_OK;
  rc = prism__unicode_lower(&m->buf, &m->buf_cap, len, text, *len);
  *out = m->buf;
  return rc;
}

static int check_utf8(const char *fn, const char *what, size_t pair, const char *text)
{
  size_t len = strlen(text), bad = prism__utf8_check((const unsigned char *)text, len);
  if (bad == len)
    return PRISM_OK;
  if (pair == SIZE_MAX)
    return prism__error(PRISM_ERR_INVALID_UTF8, "%s: the %s is not valid UTF-8 (byte %zu)", fn,
                        what, bad);
  return prism__error(PRISM_ERR_INVALID_UTF8, "%s: pair %zu: the %s is not valid UTF-8 (byte %zu)",
                      fn, pair, what, bad);
}

/* Whether a word is one whitespace token (a feature that is not can never match). */
static int single_token(const char *s, size_t n)
{
  uint32_t cp;
  if (n == 0)
    return 0;
  for (size_t i = 0; i < n;) {
    i += prism__utf8_next((const unsigned char *)s + i, n - i, &cp);
    if (prism__unicode_is_space(cp))
      return 0;
  }
  return 1;
}

static int load_feature_set(prism_metrics *m, const prism_metrics_params *p)
{
  const char *word;
  size_t len, index;
  int rc;
  for (size_t i = 0; i < p->feature_set_count; i++) {
    if (!p->feature_set[i])
      return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                          "prism_metrics_create: feature_set[%zu] is NULL", i);
    rc = check_utf8("prism_metrics_create", "feature", SIZE_MAX, p->feature_set[i]);
    if (rc == PRISM_OK)
      rc = word_form(m, p->feature_set[i], &word, &len);
    if (rc == PRISM_OK)
      rc = prism__metrics_words_add(&m->features, word, len, &index);
    if (rc != PRISM_OK)
      return rc == PRISM_ERR_INVALID_UTF8 ? rc : prism__error_prefix("prism_metrics_create: ");
  }
  m->feature_pairs = prism__calloc(m->features.count + 1, sizeof *m->feature_pairs);
  m->feature_mark = prism__calloc(m->features.count + 1, sizeof *m->feature_mark);
  if (!m->feature_pairs || !m->feature_mark)
    return prism__error(PRISM_ERR_NO_MEMORY, "prism_metrics_create: out of memory for %zu features",
                        m->features.count);
  for (size_t i = 0; i < m->features.count; i++)
    if (!single_token(m->features.word[i], m->features.len[i]))
      prism__log(PRISM_LOG_WARN, "metrics: feature \"%s\" is not one token: it never matches",
                 m->features.word[i]);
  return PRISM_OK;
}

PRISM_API int prism_metrics_create(prism_metrics **out, const prism_metrics_params *params)
{
  prism_metrics_params p;
  prism_metrics *m;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  rc = PRISM__PARAMS_READ(&p, params, &default_params, PRISM__METRICS_PARAMS_V1_SIZE, __func__);
  if (rc != PRISM_OK)
    return rc;
  PRISM__CHECK_ARG(p.tokenize == PRISM_METRICS_TOKENIZE_WHITESPACE ||
                       p.tokenize == PRISM_METRICS_TOKENIZE_PEPLER,
                   "params->tokenize must be PRISM_METRICS_TOKENIZE_WHITESPACE or _PEPLER");
  PRISM__CHECK_ARG(p.feature_set != NULL || p.feature_set_count == 0,
                   "params->feature_set must not be NULL when feature_set_count is not 0");
  m = prism__calloc(1, sizeof *m);
  if (!m)
    return prism__error_prefix("%s: ", __func__);
  m->tokenize = p.tokenize;
  m->lowercase = p.lowercase != 0;
  m->has_feature_set = p.feature_set_count > 0;
  rc = load_feature_set(m, &p);
  if (rc != PRISM_OK) {
    prism_metrics_free(m);
    return rc;
  }
  *out = m;
  return PRISM_OK;
}

/* The hypothesis tokens joined by single spaces (tokens hold no space, so this is injective). */
static int hypothesis_digest(prism_metrics *m, uint8_t digest[16])
{
  size_t len = 0, w = 0;
  for (size_t i = 0; i < m->hyp.count; i++)
    len += m->hyp.tok[i].n + 1;
  if (grow_buf(m, len + 1) != PRISM_OK)
    return PRISM_ERR_NO_MEMORY;
  for (size_t i = 0; i < m->hyp.count; i++) {
    if (i)
      m->buf[w++] = ' ';
    memcpy(m->buf + w, m->hyp.tok[i].s, m->hyp.tok[i].n);
    w += m->hyp.tok[i].n;
  }
  prism__metrics_blake2b128(digest, m->buf, w);
  return PRISM_OK;
}

/* The distinct features among the hypothesis tokens, into m->found; returns their count. */
static int find_features(prism_metrics *m, size_t *found)
{
  *found = 0;
  if (!m->has_feature_set)
    return PRISM_OK;
  if (m->found_cap < m->hyp.count) {
    size_t *p = prism__realloc(m->found, m->hyp.count * sizeof *p);
    if (!p)
      return PRISM_ERR_NO_MEMORY;
    m->found = p;
    m->found_cap = m->hyp.count;
  }
  for (size_t i = 0; i < m->hyp.count; i++) {
    /* the pair scorer kept every token's hash, the reference's first */
    size_t f = prism__metrics_words_find_hashed(&m->features, m->hyp.tok[i].s, m->hyp.tok[i].n,
                                                m->pair.hash[m->ref.count + i]);
    if (f != SIZE_MAX && m->feature_mark[f] != m->mark) {
      m->feature_mark[f] = m->mark;
      m->found[(*found)++] = f;
    }
  }
  return PRISM_OK;
}

/* Whether the pair's ground-truth feature is among the features just found. */
static int feature_hit(prism_metrics *m, const char *feature, int *hit)
{
  const char *word;
  size_t len, f;
  int rc = word_form(m, feature, &word, &len);
  if (rc != PRISM_OK)
    return rc;
  f = m->has_feature_set ? prism__metrics_words_find(&m->features, word, len) : SIZE_MAX;
  *hit = f != SIZE_MAX && m->feature_mark[f] == m->mark;
  return PRISM_OK;
}

static int add_pair(prism_metrics *m, const char *ref, const char *hyp, const char *feature,
                    const char *fn, size_t pair)
{
  prism__metrics_pair counts;
  uint8_t digest[16];
  size_t found = 0;
  int rc, hit = 0;

  if ((rc = check_utf8(fn, "reference", pair, ref)) != PRISM_OK ||
      (rc = check_utf8(fn, "hypothesis", pair, hyp)) != PRISM_OK ||
      (feature && (rc = check_utf8(fn, "feature", pair, feature)) != PRISM_OK))
    return rc;
  m->mark++;
  if ((rc = prism__metrics_tokenize(&m->ref, ref, strlen(ref), m->tokenize, m->lowercase)) ||
      (rc = prism__metrics_tokenize(&m->hyp, hyp, strlen(hyp), m->tokenize, m->lowercase)) ||
      (rc = prism__metrics_score_pair(&counts, &m->pair, &m->ref, &m->hyp)) ||
      (rc = hypothesis_digest(m, digest)) || (rc = find_features(m, &found)) ||
      (feature && (rc = feature_hit(m, feature, &hit))) ||
      (rc = prism__metrics_digests_reserve(&m->distinct))) {
    if (pair == SIZE_MAX)
      prism__error_prefix("%s: ", fn);
    else
      prism__error_prefix("%s: pair %zu: ", fn, pair);
    return rc;
  }

  /* Nothing fails from here: the pair goes in whole or not at all. */
  m->count++;
  m->ref_len += counts.ref_len;
  m->hyp_len += counts.hyp_len;
  for (int k = 0; k < 4; k++) {
    m->match[k] += counts.match[k];
    m->possible[k] += counts.possible[k];
  }
  for (int r = 0; r < 3; r++)
    for (int s = 0; s < 3; s++)
      ksum_add(&m->rouge[r][s], counts.rouge[r][s]);
  prism__metrics_digests_insert(&m->distinct, digest);
  for (size_t i = 0; i < found; i++)
    m->feature_pairs[m->found[i]]++;
  m->feature_samples += feature != NULL;
  m->feature_hits += (uint64_t)hit;
  return PRISM_OK;
}

PRISM_API int prism_metrics_add(prism_metrics *metrics, const char *reference,
                                const char *hypothesis, const char *feature)
{
  PRISM__CHECK_ARG(metrics != NULL, "metrics must not be NULL");
  PRISM__CHECK_ARG(reference != NULL, "reference must not be NULL");
  PRISM__CHECK_ARG(hypothesis != NULL, "hypothesis must not be NULL");
  return add_pair(metrics, reference, hypothesis, feature, __func__, SIZE_MAX);
}

/* Corpus BLEU of order `order` (tensorflow/nmt bleu.py without smoothing), in [0, 1]. */
static double corpus_bleu(const prism_metrics *m, int order)
{
  double log_sum = 0.0, ratio, penalty;
  for (int k = 0; k < order; k++) {
    double p = m->possible[k] ? (double)m->match[k] / (double)m->possible[k] : 0.0;
    if (!(p > 0))
      return 0.0; /* a zero precision makes the geometric mean 0 */
    log_sum += (1.0 / order) * log(p);
  }
  ratio = (double)m->hyp_len / (double)m->ref_len;
  penalty = ratio > 1.0 ? 1.0 : exp(1 - 1.0 / ratio);
  return exp(log_sum) * penalty;
}

/*
 * DIV = sum over pairs i < j of |A_i & A_j| / C(N, 2). Each feature f in c_f
 * detected sets is shared by C(c_f, 2) pairs, so the numerator is
 * sum_f C(c_f, 2): O(features) instead of O(N^2) set intersections.
 */
static double feature_diversity(const prism_metrics *m)
{
  uint64_t shared = 0, n = m->count;
  double shared_real = 0.0;
  int exact = 1;
  for (size_t f = 0; f < m->features.count; f++) {
    uint64_t c = m->feature_pairs[f];
    uint64_t pairs = c % 2 == 0 ? c / 2 * (c - 1) : (c - 1) / 2 * c; /* C(c, 2) */
    exact = exact && !__builtin_add_overflow(shared, pairs, &shared);
    shared_real += (double)pairs;
  }
  return (exact ? (double)shared : shared_real) / ((double)(n * (n - 1)) / 2);
}

PRISM_API int prism_metrics_finish(prism_metrics_result *out, const prism_metrics *metrics)
{
  prism_metrics_result r;
  const prism_metrics *m = metrics;
  double *rouge[3][3] = {
    { &r.rouge_1_f_score, &r.rouge_1_p_score, &r.rouge_1_r_score },
    { &r.rouge_2_f_score, &r.rouge_2_p_score, &r.rouge_2_r_score },
    { &r.rouge_l_f_score, &r.rouge_l_p_score, &r.rouge_l_r_score },
  };
  size_t covered = 0;
  PRISM__CHECK_ARG(metrics != NULL, "metrics must not be NULL");
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  if (m->count == 0)
    return prism__error(PRISM_ERR_INVALID_ARGUMENT,
                        "%s: no pair was added, so there is nothing to score", __func__);
  memset(&r, 0, sizeof r);
  r.struct_size = sizeof r;
  r.count = m->count;
  r.bleu1 = corpus_bleu(m, 1) * 100;
  r.bleu4 = corpus_bleu(m, 4) * 100;
  for (int i = 0; i < 3; i++)
    for (int s = 0; s < 3; s++)
      *rouge[i][s] = (m->rouge[i][s].sum + m->rouge[i][s].comp) / (double)m->count * 100;
  r.usn = m->distinct.count;
  r.usr = (double)r.usn / (double)m->count;
  for (size_t f = 0; f < m->features.count; f++)
    covered += m->feature_pairs[f] > 0;
  r.feature_samples = m->feature_samples;
  r.fmr = m->has_feature_set && m->feature_samples
              ? (double)m->feature_hits / (double)m->feature_samples
              : NAN;
  r.fcr = m->has_feature_set ? (double)covered / (double)m->features.count : NAN;
  r.div = m->has_feature_set && m->count >= 2 ? feature_diversity(m) : NAN;
  return PRISM__PARAMS_WRITE(out, &r, PRISM__METRICS_RESULT_V1_SIZE, __func__);
}

PRISM_API void prism_metrics_free(prism_metrics *metrics)
{
  if (!metrics)
    return;
  prism__metrics_words_free(&metrics->features);
  prism__free(metrics->feature_pairs);
  prism__free(metrics->feature_mark);
  prism__metrics_digests_free(&metrics->distinct);
  prism__metrics_tokens_free(&metrics->ref);
  prism__metrics_tokens_free(&metrics->hyp);
  prism__metrics_scratch_free(&metrics->pair);
  prism__free(metrics->buf);
  prism__free(metrics->found);
  prism__free(metrics);
}

PRISM_API int prism_metrics_evaluate(prism_metrics_result *out, const char *const *references,
                                     const char *const *hypotheses, const char *const *features,
                                     size_t count, const prism_metrics_params *params)
{
  prism_metrics *m;
  int rc;
  PRISM__CHECK_ARG(out != NULL, "out must not be NULL");
  PRISM__CHECK_ARG(count == 0 || (references && hypotheses),
                   "references and hypotheses must not be NULL");
  rc = prism_metrics_create(&m, params);
  if (rc != PRISM_OK)
    return prism__error_at(__func__, rc);
  for (size_t i = 0; i < count && rc == PRISM_OK; i++) {
    if (!references[i] || !hypotheses[i])
      rc = prism__error(PRISM_ERR_INVALID_ARGUMENT, "%s: pair %zu: the %s is NULL", __func__, i,
                        references[i] ? "hypothesis" : "reference");
    else
      rc = add_pair(m, references[i], hypotheses[i], features ? features[i] : NULL, __func__, i);
  }
  if (rc == PRISM_OK)
    rc = prism_metrics_finish(out, m);
  prism_metrics_free(m);
  return prism__error_at(__func__, rc);
}
