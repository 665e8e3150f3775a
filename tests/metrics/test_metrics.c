/*
 * The text metrics against the reference values of PETER's own code
 * (tests/fixtures/metrics/, see its README), hand-computed corner cases, the
 * PEPLER tokenisation, and properties: order independence, the closed-form
 * DIV against the pair loop, the bit-parallel LCS against the textbook one.
 */
#include <jansson.h>
#include <math.h>

#include "../testutil.h"
#include "common/alloc.h"
#include "common/unicode.h"
#include "metrics/metrics_internal.h"
#include "prism/metrics.h"

/* ---- fixtures ---- */

typedef struct fixture {
  json_t *root;
  size_t count;
  const char **refs, **hyps, **features, **feature_set;
  size_t feature_set_count;
} fixture;

static const char **strings(json_t *array, size_t *count)
{
  const char **out;
  assert_true(json_is_array(array));
  *count = json_array_size(array);
  out = calloc(*count + 1, sizeof *out);
  for (size_t i = 0; i < *count; i++) {
    out[i] = json_string_value(json_array_get(array, i));
    assert_non_null(out[i]);
  }
  return out;
}

static fixture load_fixture(const char *name)
{
  char rel[128], path[1024];
  fixture f;
  size_t n;
  json_error_t err;
  snprintf(rel, sizeof rel, "metrics/%s.json", name);
  f.root = json_load_file(fixture_path(path, sizeof path, rel), 0, &err);
  if (!f.root)
    print_error("%s: %s\n", path, err.text);
  assert_non_null(f.root);
  f.refs = strings(json_object_get(f.root, "references"), &f.count);
  f.hyps = strings(json_object_get(f.root, "hypotheses"), &n);
  assert_int_equal(n, f.count);
  f.features = strings(json_object_get(f.root, "features"), &n);
  assert_int_equal(n, f.count);
  f.feature_set = strings(json_object_get(f.root, "feature_set"), &f.feature_set_count);
  return f;
}

static void free_fixture(fixture *f)
{
  free(f->refs);
  free(f->hyps);
  free(f->features);
  free(f->feature_set);
  json_decref(f->root);
}

static const struct {
  const char *key;
  size_t offset;
} figures[] = {
#define FIGURE(name) \
  { \
#    name, offsetof(prism_metrics_result, name) \
  }
  FIGURE(bleu1),
  FIGURE(bleu4),
  FIGURE(rouge_1_f_score),
  FIGURE(rouge_1_p_score),
  FIGURE(rouge_1_r_score),
  FIGURE(rouge_2_f_score),
  FIGURE(rouge_2_p_score),
  FIGURE(rouge_2_r_score),
  FIGURE(rouge_l_f_score),
  FIGURE(rouge_l_p_score),
  FIGURE(rouge_l_r_score),
  FIGURE(usr),
  FIGURE(fmr),
  FIGURE(fcr),
  FIGURE(div),
#undef FIGURE
};

static double figure(const prism_metrics_result *r, size_t i)
{
  double v;
  memcpy(&v, (const char *)r + figures[i].offset, sizeof v);
  return v;
}

static void assert_close(const char *what, double got, double want, double rel)
{
  double tol = rel * fabs(want);
  if (!(fabs(got - want) <= tol) && !(got == want)) {
    print_error("%s: got %.17g, want %.17g (relative error %.3g)\n", what, got, want,
                fabs(got - want) / fabs(want));
    fail();
  }
}

/* Every figure of `r` within 1e-9 relative of the fixture's "expected". */
static void assert_expected(const fixture *f, const prism_metrics_result *r)
{
  json_t *expected = json_object_get(f->root, "expected");
  assert_int_equal(json_object_size(expected), 16);
  for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++) {
    json_t *v = json_object_get(expected, figures[i].key);
    assert_non_null(v);
    assert_close(figures[i].key, figure(r, i), json_number_value(v), 1e-9);
  }
  assert_int_equal(r->usn, json_integer_value(json_object_get(expected, "usn")));
  assert_int_equal(r->count, f->count);
  assert_int_equal(r->feature_samples, f->count);
}

static prism_metrics_params fixture_params(const fixture *f)
{
  prism_metrics_params p;
  assert_ok(prism_metrics_params_init(&p, sizeof p));
  p.feature_set = f->feature_set;
  p.feature_set_count = f->feature_set_count;
  return p;
}

static void check_fixture_one_call(const char *name)
{
  fixture f = load_fixture(name);
  prism_metrics_params p = fixture_params(&f);
  prism_metrics_result r = { .struct_size = sizeof r };
  assert_ok(prism_metrics_evaluate(&r, f.refs, f.hyps, f.features, f.count, &p));
  assert_expected(&f, &r);
  free_fixture(&f);
}

static void check_fixture_streaming(const char *name)
{
  fixture f = load_fixture(name);
  prism_metrics_params p = fixture_params(&f);
  prism_metrics_result r = { .struct_size = sizeof r };
  prism_metrics *m = NULL;
  assert_ok(prism_metrics_create(&m, &p));
  for (size_t i = 0; i < f.count; i++)
    assert_ok(prism_metrics_add(m, f.refs[i], f.hyps[i], f.features[i]));
  assert_ok(prism_metrics_finish(&r, m));
  assert_expected(&f, &r);
  prism_metrics_free(m);
  free_fixture(&f);
}

static void test_fixture_edge_cases(void **state)
{
  (void)state;
  check_fixture_one_call("edge_cases");
  check_fixture_streaming("edge_cases");
}

static void test_fixture_xrec(void **state)
{
  (void)state;
  check_fixture_one_call("xrec_google_1000");
  check_fixture_streaming("xrec_google_1000");
}

/* ---- order independence ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void test_shuffle_changes_nothing(void **state)
{
  fixture f = load_fixture("xrec_google_1000");
  prism_metrics_params p = fixture_params(&f);
  prism_metrics_result a = { .struct_size = sizeof a }, b = { .struct_size = sizeof b };
  (void)state;
  assert_ok(prism_metrics_evaluate(&a, f.refs, f.hyps, f.features, f.count, &p));
  for (int round = 0; round < 3; round++) {
    for (size_t i = f.count - 1; i > 0; i--) {
      size_t j = (size_t)(rnd() % (i + 1));
      const char *t;
#define SWAP(arr) (t = arr[i], arr[i] = arr[j], arr[j] = t)
      SWAP(f.refs);
      SWAP(f.hyps);
      SWAP(f.features);
#undef SWAP
    }
    assert_ok(prism_metrics_evaluate(&b, f.refs, f.hyps, f.features, f.count, &p));
    for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++)
      assert_close(figures[i].key, figure(&b, i), figure(&a, i), 1e-12);
    assert_int_equal(a.usn, b.usn);
  }
  free_fixture(&f);
}

/* ---- hand-computed corner cases ---- */

static prism_metrics_result one_pair(const char *ref, const char *hyp)
{
  prism_metrics_result r = { .struct_size = sizeof r };
  assert_ok(prism_metrics_evaluate(&r, &ref, &hyp, NULL, 1, NULL));
  return r;
}

static void test_corner_cases(void **state)
{
  prism_metrics_result r;
  const double f1_one = 2.0 * (1.0 / (2.0 + 1e-8)) * 100; /* ROUGE-N F at P = R = 1 */
  double beta = 1.0 / (1.0 + 1e-12), lf_one = (1 + beta * beta) / ((1 + beta * beta) + 1e-12) * 100;
  (void)state;

  r = one_pair("a b c d", "a b c d");
  assert_close("exact bleu4", r.bleu4, 100.0, 1e-15);
  assert_close("exact rouge_1_f", r.rouge_1_f_score, f1_one, 1e-15);
  assert_close("exact rouge_l_f", r.rouge_l_f_score, lf_one, 1e-15);
  assert_true(isnan(r.fmr) && isnan(r.fcr) && isnan(r.div)); /* no feature set */

  r = one_pair("a b", "c d"); /* no match: BLEU is 0, not log(0) */
  assert_true(r.bleu1 == 0 && r.bleu4 == 0);
  assert_true(r.rouge_1_f_score == 0 && r.rouge_l_f_score == 0 && r.rouge_l_p_score == 0);

  r = one_pair("a b", "a b a b"); /* longer hypothesis: no brevity penalty, clipped counts */
  assert_close("long bleu1", r.bleu1, 50.0, 1e-15);
  assert_close("long rouge_1_p", r.rouge_1_p_score, 100.0, 1e-15); /* n-gram sets */
  assert_close("long rouge_l_p", r.rouge_l_p_score, 50.0, 1e-15);

  r = one_pair("a b c d", "a b"); /* shorter: penalty exp(1 - 1 / 0.5) */
  assert_close("short bleu1", r.bleu1, exp(-1.0) * 100, 1e-15);
  assert_close("short rouge_l_r", r.rouge_l_r_score, 50.0, 1e-15);
  assert_close("short rouge_2_r", r.rouge_2_r_score, 100.0 / 3, 1e-15);

  r = one_pair("a b c", ""); /* empty hypothesis */
  assert_true(r.bleu1 == 0 && r.bleu4 == 0 && r.rouge_1_p_score == 0 && r.rouge_l_f_score == 0);

  r = one_pair("", ""); /* both empty: ROUGE sees one empty word on each side */
  assert_close("empty rouge_1_f", r.rouge_1_f_score, f1_one, 1e-15);
  assert_true(r.rouge_2_f_score == 0 && r.bleu1 == 0);
  assert_close("empty rouge_l_f", r.rouge_l_f_score, lf_one, 1e-15);

  r = one_pair("x y z", "z y x"); /* ROUGE-L F with beta = P / R, not F1 */
  assert_close("reversed rouge_l_p", r.rouge_l_p_score, 100.0 / 3, 1e-15);
  assert_close("reversed bleu1", r.bleu1, 100.0, 1e-15);
  assert_true(r.bleu4 == 0);
}

static void test_rouge_l_is_not_f1(void **state)
{
  /* P = 1/2, R = 1/4: F1 would be 1/3; beta = P / R = 2 gives 5PR / (R + 4P) = 0.2777... */
  prism_metrics_result r = one_pair("a b c d e f g h", "a b x y");
  double p = 0.5, rr = 0.25, beta = p / (rr + 1e-12), b2 = beta * beta;
  (void)state;
  assert_close("p", r.rouge_l_p_score, 50.0, 1e-15);
  assert_close("r", r.rouge_l_r_score, 25.0, 1e-15);
  assert_close("f", r.rouge_l_f_score, ((1 + b2) * rr * p) / ((rr + b2 * p) + 1e-12) * 100, 1e-15);
  assert_true(fabs(r.rouge_l_f_score - 100.0 / 3) > 1);
}

static void record_log(int level, const char *message, void *payload)
{
  if (level == PRISM_LOG_WARN)
    snprintf(payload, 256, "%s", message);
}

static void test_usr_and_features(void **state)
{
  char warning[256] = "";
  const char *refs[] = { "r", "r", "r", "r" };
  const char *hyps[] = { "good food", "good  food", "Good food", "" };
  const char *feats[] = { "food", NULL, "service", "food" };
  const char *set[] = { "food", "service", "good", "food", "price", "two words" };
  prism_metrics_params p;
  prism_metrics_result r = { .struct_size = sizeof r };
  (void)state;
  assert_ok(prism_metrics_params_init(&p, sizeof p));
  p.feature_set = set;
  p.feature_set_count = 6;
  prism_log_set(record_log, warning);
  assert_ok(prism_metrics_evaluate(&r, refs, hyps, feats, 4, &p));
  prism_log_set(NULL, NULL);
  assert_non_null(strstr(warning, "\"two words\" is not one token"));
  assert_int_equal(r.usn, 3); /* the double space splits the same; case differs */
  assert_close("usr", r.usr, 0.75, 0);
  assert_int_equal(r.feature_samples, 3);
  assert_close("fmr", r.fmr, 1.0 / 3, 1e-15);       /* only pair 0 holds its feature */
  assert_close("fcr", r.fcr, 2.0 / 5, 1e-15);       /* food, good of 5 distinct */
  assert_close("div", r.div, (3 + 1) / 6.0, 1e-15); /* food in 3 sets, good in 2 */

  p.lowercase = 1;
  assert_ok(prism_metrics_evaluate(&r, refs, hyps, feats, 4, &p));
  assert_int_equal(r.usn, 2);
  assert_close("div lower", r.div, (3 + 3) / 6.0, 1e-15);
}

/* ---- DIV: the closed form against the O(N^2) loop ---- */

static void test_div_closed_form(void **state)
{
  enum { N = 300, V = 40, SET = 25 };
  static char text[N][V * 4];
  const char *refs[N], *hyps[N];
  char names[V][16];
  const char *set[SET];
  unsigned char has[N][V];
  prism_metrics_params p;
  prism_metrics_result r = { .struct_size = sizeof r };
  (void)state;
  for (int v = 0; v < V; v++)
    snprintf(names[v], sizeof names[v], "w%d", v);
  for (int s = 0; s < SET; s++)
    set[s] = names[s];
  for (int round = 0; round < 5; round++) {
    uint64_t shared = 0;
    memset(has, 0, sizeof has);
    for (int i = 0; i < N; i++) {
      int len = (int)(rnd() % 12);
      text[i][0] = 0;
      for (int k = 0; k < len; k++) {
        int v = (int)(rnd() % (round + 1 < 3 ? V : 8)); /* later rounds: heavy overlap */
        strcat(text[i], names[v]);
        strcat(text[i], " ");
        if (v < SET)
          has[i][v] = 1;
      }
      refs[i] = "w0";
      hyps[i] = text[i];
    }
    for (int i = 0; i < N; i++)
      for (int j = i + 1; j < N; j++)
        for (int v = 0; v < SET; v++)
          shared += has[i][v] && has[j][v];
    assert_ok(prism_metrics_params_init(&p, sizeof p));
    p.feature_set = set;
    p.feature_set_count = SET;
    assert_ok(prism_metrics_evaluate(&r, refs, hyps, NULL, N, &p));
    assert_close("div", r.div, (double)shared / (N * (N - 1) / 2.0), 1e-15);
    assert_true(isnan(r.fmr));
  }
  /* one pair: no pairs of pairs */
  assert_ok(prism_metrics_evaluate(&r, refs, hyps, NULL, 1, &p));
  assert_true(isnan(r.div));
}

/* ---- LCS ---- */

static size_t lcs_reference(const uint32_t *x, size_t n, const uint32_t *y, size_t m)
{
  size_t *t = calloc((n + 1) * (m + 1), sizeof *t), out;
  for (size_t i = 1; i <= n; i++)
    for (size_t j = 1; j <= m; j++)
      t[i * (m + 1) + j] = x[i - 1] == y[j - 1] ? t[(i - 1) * (m + 1) + j - 1] + 1
                                                : (t[(i - 1) * (m + 1) + j] > t[i * (m + 1) + j - 1]
                                                       ? t[(i - 1) * (m + 1) + j]
                                                       : t[i * (m + 1) + j - 1]);
  out = t[n * (m + 1) + m];
  free(t);
  return out;
}

static void test_lcs_bit_parallel(void **state)
{
  prism__metrics_scratch s = { 0 };
  uint32_t x[300], y[300];
  int rc;
  (void)state;
  for (int round = 0; round < 400; round++) {
    size_t n = (size_t)(rnd() % 300), m = (size_t)(rnd() % 300);
    uint32_t alphabet = 1 + (uint32_t)(rnd() % 6);
    if (round % 4 == 0)
      m = 64 * (size_t)(rnd() % 4); /* word-sized lengths */
    for (size_t i = 0; i < n; i++)
      x[i] = (uint32_t)(rnd() % alphabet);
    for (size_t j = 0; j < m; j++)
      y[j] = (uint32_t)(rnd() % alphabet);
    assert_int_equal(prism__metrics_lcs(&s, x, n, y, m, alphabet, &rc), lcs_reference(x, n, y, m));
    assert_int_equal(rc, PRISM_OK);
  }
  /* an id count that forces the row-by-row fallback */
  for (size_t i = 0; i < 300; i++)
    x[i] = y[299 - i] = (uint32_t)(i % 7);
  assert_int_equal(prism__metrics_lcs(&s, x, 300, y, 300, 1u << 22, &rc),
                   lcs_reference(x, 300, y, 300));
  prism__metrics_scratch_free(&s);
}

/* ---- the pair scorer against a naive one ---- */

/* Occurrences of the k-gram at x[at] in y[0, ny). */
static size_t occurrences(const int *x, size_t at, size_t k, const int *y, size_t ny)
{
  size_t c = 0;
  for (size_t j = 0; j + k <= ny; j++)
    c += memcmp(x + at, y + j, k * sizeof *x) == 0;
  return c;
}

/* Whether the k-gram at x[at] occurs earlier in x (so it was counted already). */
static int seen_before(const int *x, size_t at, size_t k)
{
  return occurrences(x, at, k, x, at + k - 1) > 0;
}

static void check_pair(const int *r, size_t m, const int *h, size_t n)
{
  prism__metrics_scratch s = { 0 };
  prism__metrics_tokens ref = { 0 }, hyp = { 0 };
  prism__metrics_pair got;
  /* "w" + an int + " ": at most 13 bytes a word */
  size_t rcap = 16 * m + 1, hcap = 16 * n + 1, len = 0;
  char *rt = malloc(rcap), *ht = malloc(hcap);
  assert_true(rt && ht);
  rt[0] = ht[0] = 0;
  for (size_t i = 0; i < m; i++)
    len += (size_t)snprintf(rt + len, rcap - len, "w%d ", r[i]);
  len = 0;
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(ht + len, hcap - len, "w%d ", h[i]);
  assert_ok(prism__metrics_tokenize(&ref, rt, strlen(rt), 0, 0));
  assert_ok(prism__metrics_tokenize(&hyp, ht, strlen(ht), 0, 0));
  assert_ok(prism__metrics_score_pair(&got, &s, &ref, &hyp));
  for (size_t k = 1; k <= 4; k++) {
    uint64_t match = 0;
    size_t dh = 0, dr = 0, both = 0;
    for (size_t i = 0; i + k <= n; i++) {
      if (seen_before(h, i, k))
        continue;
      size_t ch = occurrences(h, i, k, h, n), cr = occurrences(h, i, k, r, m);
      match += ch < cr ? ch : cr;
      dh++;
      both += cr > 0;
    }
    for (size_t i = 0; i + k <= m; i++)
      dr += !seen_before(r, i, k);
    assert_int_equal(got.match[k - 1], match);
    assert_int_equal(got.possible[k - 1], n >= k ? n - k + 1 : 0);
    if (k <= 2 && n && m) {
      assert_true(got.rouge[k - 1][1] == (dh ? (double)both / (double)dh : 0.0));
      assert_true(got.rouge[k - 1][2] == (dr ? (double)both / (double)dr : 0.0));
    }
  }
  if (n && m) {
    uint32_t *x = malloc(n * sizeof *x), *y = malloc(m * sizeof *y);
    for (size_t i = 0; i < n; i++)
      x[i] = (uint32_t)h[i];
    for (size_t j = 0; j < m; j++)
      y[j] = (uint32_t)r[j];
    assert_true(got.rouge[2][1] == (double)lcs_reference(x, n, y, m) / (double)n);
    free(x);
    free(y);
  }
  prism__metrics_tokens_free(&ref);
  prism__metrics_tokens_free(&hyp);
  prism__metrics_scratch_free(&s);
  free(rt);
  free(ht);
}

static void test_pair_scorer(void **state)
{
  static int r[1300], h[1300];
  (void)state;
  for (int round = 0; round < 300; round++) {
    /* small texts with repeats; medium; long with many distinct words (hashed n-grams) */
    size_t m = round < 250   ? (size_t)(rnd() % 40)
               : round < 290 ? 300
                             : 1200 + (size_t)(rnd() % 100);
    size_t n = round < 250 ? (size_t)(rnd() % 40) : m - (size_t)(rnd() % 50);
    int vocab = round < 250 ? 1 + (int)(rnd() % 12) : round < 290 ? 60 : 5000;
    for (size_t i = 0; i < m; i++)
      r[i] = (int)(rnd() % (uint64_t)vocab);
    for (size_t i = 0; i < n; i++) /* mostly copied from the reference, as model outputs are */
      h[i] = rnd() % 4 && i < m ? r[i] : (int)(rnd() % (uint64_t)vocab);
    check_pair(r, m, h, n);
  }
}

/* ---- tokenisation ---- */

/* The tokens of `text`, joined by '|'. */
static char *tokens(int mode, int lowercase, const char *text)
{
  static char out[1024];
  prism__metrics_tokens t = { 0 };
  out[0] = 0;
  assert_ok(prism__metrics_tokenize(&t, text, strlen(text), mode, lowercase));
  for (size_t i = 0; i < t.count; i++) {
    if (i)
      strcat(out, "|");
    strncat(out, t.tok[i].s, t.tok[i].n);
  }
  prism__metrics_tokens_free(&t);
  return out;
}

static void test_whitespace_tokens(void **state)
{
  const int W = PRISM_METRICS_TOKENIZE_WHITESPACE;
  (void)state;
  assert_string_equal(tokens(W, 0, "  a\tb\n\nc  "), "a|b|c");
  /* Python's str.split() also splits on U+001C..U+001F, U+0085, NBSP, U+3000 */
  assert_string_equal(tokens(W, 0,
                             "a\x1f"
                             "b\xc2\x85"
                             "c\xc2\xa0"
                             "d\xe3\x80\x80"
                             "e"),
                      "a|b|c|d|e");
  assert_string_equal(tokens(W, 0,
                             "a\xe2\x80\x8b"
                             "b"),
                      "a\xe2\x80\x8b"
                      "b"); /* ZWSP is not */
  assert_string_equal(tokens(W, 0, "don't (stop), ok."), "don't|(stop),|ok.");
  assert_string_equal(tokens(W, 0, ""), "");
}

static void test_pepler_tokens(void **state)
{
  const int P = PRISM_METRICS_TOKENIZE_PEPLER;
  (void)state;
  /* worked by hand through PEPLER's substitutions, in its order */
  assert_string_equal(tokens(P, 0, "it's great, isn't it?"), "it|'s|great|,|is|n't|it|?");
  assert_string_equal(tokens(P, 0, "I'm sure we've, they're, he'd, you'll"),
                      "I|'m|sure|we|'ve|,|they|'re|,|he|'d|,|you|'ll");
  assert_string_equal(tokens(P, 0, "wait... what?!"), "wait|.|what|?|!");
  assert_string_equal(tokens(P, 0, "a:b;c"), "a|,|b|.|c");
  assert_string_equal(tokens(P, 0, "x,,:: y;;.. z"), "x|,|,|y|.|.|z");
  assert_string_equal(tokens(P, 0, "((nice))"), "(|(|nice|)|)");
  assert_string_equal(tokens(P, 0, "'don't'"), "'do|n't'");
  assert_string_equal(tokens(P, 0, "IT'S"), "IT'S"); /* case-sensitive, as the regexes */
  assert_string_equal(tokens(P, 1, "IT'S"), "it|'s");
  assert_string_equal(tokens(P, 0, "caf\xc3\xa9!!"), "caf\xc3\xa9|!");
  assert_string_equal(tokens(P, 0, "''s"), "'|'s");
}

static void test_lowercase(void **state)
{
  const int W = PRISM_METRICS_TOKENIZE_WHITESPACE;
  (void)state;
  assert_string_equal(tokens(W, 1, "ABC \xc3\x89t\xc3\xa9"), "abc|\xc3\xa9t\xc3\xa9");
  /* Python: 'İ'.lower() == 'i̇'; 'ΟΔΟΣ ΣΑ'.lower() == 'οδος σα' with a final sigma */
  assert_string_equal(tokens(W, 1, "\xc4\xb0"), "i\xcc\x87");
  assert_string_equal(tokens(W, 1, "\xce\x9f\xce\x94\xce\x9f\xce\xa3 \xce\xa3\xce\x91"),
                      "\xce\xbf\xce\xb4\xce\xbf\xcf\x82|\xcf\x83\xce\xb1");
  assert_string_equal(tokens(W, 1, "\xce\xa3"), "\xcf\x83"); /* alone: not final */
  assert_string_equal(tokens(W, 1,
                             "STRA\xc3\x9f"
                             "E"),
                      "stra\xc3\x9f"
                      "e"); /* lower keeps ß */
}

/* Python's str.lower() on every code point it changes and on sigma in context (make_lower_cases.py). */
static void test_lowercase_matches_python(void **state)
{
  char path[1024], *buf = NULL;
  size_t cap = 0, len, bad = 0;
  json_error_t err;
  json_t *root =
      json_load_file(fixture_path(path, sizeof path, "metrics/lower_cases.json"), 0, &err);
  json_t *cases = json_object_get(root, "cases");
  (void)state;
  assert_true(json_array_size(cases) > 1400);
  for (size_t i = 0; i < json_array_size(cases); i++) {
    json_t *c = json_array_get(cases, i);
    const char *in = json_string_value(json_array_get(c, 0));
    const char *want = json_string_value(json_array_get(c, 1));
    assert_ok(prism__unicode_lower(&buf, &cap, &len, in, strlen(in)));
    if (len != strlen(want) || memcmp(buf, want, len) != 0) {
      if (bad++ < 10)
        print_error("lower(%s) = %s, Python gives %s\n", in, buf, want);
    }
  }
  assert_int_equal(bad, 0);
  free(buf);
  json_decref(root);
}

/* ---- digests ---- */

static void test_blake2b(void **state)
{
  /* hashlib.blake2b(data, digest_size=16).hexdigest() */
  static const struct {
    size_t len;
    const char *hex;
  } cases[] = {
    { 0, "cae66941d9efbd404e4d88758ea67670" },   { 3, "cf4ab791c62b8d2b2109c90275287816" },
    { 128, "1271d28e731afb57bdfba6bdaf3501be" }, { 129, "68b7bafbad5055c4ebe6eb170a0f8524" },
    { 768, "e0892860f9fc0da273b9db57e857c19a" },
  };
  unsigned char data[768];
  uint8_t d[16];
  char hex[33];
  (void)state;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    for (size_t i = 0; i < cases[c].len; i++)
      data[i] = cases[c].len == 3     ? (unsigned char)"abc"[i]
                : cases[c].len == 768 ? (unsigned char)(i % 256)
                                      : 'a';
    prism__metrics_blake2b128(d, data, cases[c].len);
    for (int i = 0; i < 16; i++)
      snprintf(hex + 2 * i, 3, "%02x", d[i]);
    assert_string_equal(hex, cases[c].hex);
  }
}

static void test_distinct_many(void **state)
{
  enum { N = 20000 };
  static char text[N][16];
  static const char *refs[N], *hyps[N];
  prism_metrics_result r = { .struct_size = sizeof r };
  (void)state;
  for (int i = 0; i < N; i++) {
    snprintf(text[i], sizeof text[i], "t%d x", i % 7001); /* 7001 distinct, repeated */
    refs[i] = "x";
    hyps[i] = text[i];
  }
  assert_ok(prism_metrics_evaluate(&r, refs, hyps, NULL, N, NULL));
  assert_int_equal(r.usn, 7001);
  assert_close("usr", r.usr, 7001.0 / N, 1e-15);
}

/* ---- errors ---- */

static void test_errors(void **state)
{
  prism_metrics *m = NULL;
  prism_metrics_params p;
  prism_metrics_result r = { .struct_size = sizeof r }, before = { .struct_size = sizeof before };
  const char *null_set[] = { "a", NULL };
  (void)state;
  assert_status(prism_metrics_create(NULL, NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("prism_metrics_create: out must not be NULL");
  assert_status(prism_metrics_params_init(&p, 8), PRISM_ERR_INVALID_ARGUMENT);
  assert_ok(prism_metrics_params_init(&p, sizeof p));
  p.tokenize = 7;
  assert_status(prism_metrics_create(&m, &p), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("tokenize");
  p.tokenize = 0;
  p.feature_set = null_set;
  p.feature_set_count = 2;
  assert_status(prism_metrics_create(&m, &p), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("feature_set[1] is NULL");
  assert_null(m);

  assert_ok(prism_metrics_create(&m, NULL));
  assert_status(prism_metrics_finish(&r, m), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("no pair was added");
  assert_ok(prism_metrics_add(m, "a b", "a c", NULL));
  assert_ok(prism_metrics_finish(&before, m));
  assert_status(prism_metrics_add(m, "a b", "a \xff", NULL), PRISM_ERR_INVALID_UTF8);
  assert_error_mentions("prism_metrics_add: the hypothesis is not valid UTF-8 (byte 2)");
  assert_status(prism_metrics_add(m, NULL, "a", NULL), PRISM_ERR_INVALID_ARGUMENT);
  assert_ok(prism_metrics_finish(&r, m));
  assert_memory_equal(&r, &before, sizeof r); /* failed adds changed nothing */
  r.struct_size = 4;
  assert_status(prism_metrics_finish(&r, m), PRISM_ERR_INVALID_ARGUMENT);
  prism_metrics_free(m);
  prism_metrics_free(NULL);

  {
    const char *refs[] = { "a", "b" }, *hyps[] = { "a", "\xc3" };
    r.struct_size = sizeof r;
    assert_status(prism_metrics_evaluate(&r, refs, hyps, NULL, 2, NULL), PRISM_ERR_INVALID_UTF8);
    assert_error_mentions("prism_metrics_evaluate: pair 1: the hypothesis");
    assert_status(prism_metrics_evaluate(&r, refs, hyps, NULL, 0, NULL),
                  PRISM_ERR_INVALID_ARGUMENT);
  }
}

/* A smaller (older) result struct gets only its fields. */
static void test_result_sizes(void **state)
{
  const char *ref = "a b", *hyp = "a b";
  unsigned char buf[sizeof(prism_metrics_result) + 8];
  prism_metrics_result *r = (prism_metrics_result *)(void *)buf;
  size_t v1 = PRISM__METRICS_RESULT_V1_SIZE;
  (void)state;
  memset(buf, 0xAB, sizeof buf);
  r->struct_size = v1;
  assert_ok(prism_metrics_evaluate(r, &ref, &hyp, NULL, 1, NULL));
  assert_int_equal(r->struct_size, v1);
  assert_int_equal(r->count, 1);
  assert_int_equal(buf[v1], 0xAB);
}

static void test_allocation_failures(void **state)
{
  fixture f = load_fixture("edge_cases");
  prism_metrics_params p = fixture_params(&f);
  prism_metrics_result want = { .struct_size = sizeof want }, got = { .struct_size = sizeof got };
  (void)state;
  p.tokenize = PRISM_METRICS_TOKENIZE_PEPLER;
  p.lowercase = 1;
  assert_ok(prism_metrics_evaluate(&want, f.refs, f.hyps, f.features, f.count, &p));
  for (long n = 1;; n++) {
    prism__alloc_fail_at(n);
    int rc = prism_metrics_evaluate(&got, f.refs, f.hyps, f.features, f.count, &p);
    prism__alloc_fail_at(0);
    if (rc == PRISM_OK) {
      assert_memory_equal(&got, &want, sizeof got);
      break;
    }
    assert_int_equal(rc, PRISM_ERR_NO_MEMORY);
  }
  free_fixture(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fixture_edge_cases),
    cmocka_unit_test(test_fixture_xrec),
    cmocka_unit_test(test_shuffle_changes_nothing),
    cmocka_unit_test(test_corner_cases),
    cmocka_unit_test(test_rouge_l_is_not_f1),
    cmocka_unit_test(test_usr_and_features),
    cmocka_unit_test(test_div_closed_form),
    cmocka_unit_test(test_lcs_bit_parallel),
    cmocka_unit_test(test_pair_scorer),
    cmocka_unit_test(test_whitespace_tokens),
    cmocka_unit_test(test_pepler_tokens),
    cmocka_unit_test(test_lowercase),
    cmocka_unit_test(test_lowercase_matches_python),
    cmocka_unit_test(test_blake2b),
    cmocka_unit_test(test_distinct_many),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_result_sizes),
    cmocka_unit_test(test_allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
