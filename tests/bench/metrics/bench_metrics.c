/*
 * Text-metrics throughput, one thread, through the public API. Prints one JSON
 * object: the seconds to score the pairs (create, add every pair, finish;
 * best of --repeat), pairs per second and the figures (for the cross-check
 * against PETER's code that bench_metrics.py runs).
 *
 *   bench_metrics [--pairs N] [--words W] [--seed S] [--repeat R] [--dump PREFIX]
 *
 * The pairs are synthetic explanations: references of about W words from a
 * 4,000-word vocabulary with a skewed distribution, hypotheses that keep most
 * of their reference's words (some replaced, some moved) the way a trained
 * model's outputs overlap their targets; 200 words form the feature set and a
 * pair's feature is the first of them in its reference (or a random one). --dump writes
 * PREFIX.tsv (reference TAB hypothesis TAB feature per line) and
 * PREFIX.features so a peer can score the same pairs.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prism/prism.h"

enum { VOCAB = 4000, FEATURES = 200, WORD_MAX = 16 };

static double clock_s(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double now(void)
{
  return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of this thread: steadier than wall time on a shared machine. */
static double cpu_now(void)
{
  return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static uint64_t state;

static uint64_t rnd(void)
{
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

static double uniform(void)
{
  return (double)(rnd() >> 11) * 0x1p-53;
}

/* A skewed word index: small indices (common words) far more often. */
static int word_index(void)
{
  return (int)(VOCAB * pow(uniform(), 2.5)) % VOCAB;
}

static char vocab[VOCAB][WORD_MAX];

static void make_vocabulary(void)
{
  static const char *const syllables[] = { "ta", "ro", "mi", "ne",  "ka",  "lo", "su", "vi",
                                           "de", "po", "ra", "chi", "bel", "or", "an", "us" };
  for (int i = 0; i < VOCAB; i++) {
    int n = 1 + (int)(rnd() % 3);
    vocab[i][0] = 0;
    for (int s = 0; s < n; s++)
      strcat(vocab[i], syllables[rnd() % 16]);
    snprintf(vocab[i] + strlen(vocab[i]), 4, "%d", i % 10); /* distinct words */
  }
}

/* Append word `w` to buf at *len with a space before it when not first. */
static void put_word(char *buf, size_t *len, int w)
{
  size_t n = strlen(vocab[w]);
  if (*len)
    buf[(*len)++] = ' ';
  memcpy(buf + *len, vocab[w], n);
  *len += n;
  buf[*len] = 0;
}

typedef struct pairs {
  char **ref, **hyp;
  const char **feature;
  size_t count;
} pairs;

static pairs make_pairs(size_t count, int words)
{
  pairs p = { calloc(count, sizeof(char *)), calloc(count, sizeof(char *)),
              calloc(count, sizeof(char *)), count };
  int *r = malloc((size_t)(2 * words + 8) * sizeof *r);
  char *buf = malloc((size_t)(2 * words + 8) * (WORD_MAX + 1));
  for (size_t i = 0; i < count; i++) {
    int n = words - 5 + (int)(rnd() % 11);
    size_t len = 0;
    for (int k = 0; k < n; k++)
      r[k] = word_index();
    for (int k = 0; k < n; k++)
      put_word(buf, &len, r[k]);
    p.ref[i] = strdup(buf);
    for (int k = 0; k < n && !p.feature[i]; k++)
      if (r[k] < FEATURES)
        p.feature[i] = vocab[r[k]];
    if (!p.feature[i]) /* every pair has a feature, as in PETER's data */
      p.feature[i] = vocab[rnd() % FEATURES];
    len = 0;
    for (int k = 0; k < n; k++) { /* keep 65 %, replace 25 %, drop 10 %; swap neighbours */
      double u = uniform();
      int w = u < 0.65 ? r[k] : u < 0.9 ? word_index() : -1;
      if (w >= 0 && uniform() < 0.1 && k + 1 < n) {
        int t = r[k + 1];
        r[k + 1] = w;
        w = t;
      }
      if (w >= 0)
        put_word(buf, &len, w);
    }
    p.hyp[i] = strdup(buf);
  }
  free(r);
  free(buf);
  return p;
}

static void dump(const pairs *p, const char *prefix)
{
  char path[4096];
  FILE *f;
  snprintf(path, sizeof path, "%s.tsv", prefix);
  if (!(f = fopen(path, "w")))
    exit(1);
  for (size_t i = 0; i < p->count; i++)
    fprintf(f, "%s\t%s\t%s\n", p->ref[i], p->hyp[i], p->feature[i]);
  fclose(f);
  snprintf(path, sizeof path, "%s.features", prefix);
  if (!(f = fopen(path, "w")))
    exit(1);
  for (int i = 0; i < FEATURES; i++)
    fprintf(f, "%s\n", vocab[i]);
  fclose(f);
}

/* Wall seconds to score every pair; *cpu receives the thread's CPU seconds. */
static double score(const pairs *p, prism_metrics_result *r, double *cpu)
{
  const char *set[FEATURES];
  prism_metrics_params params;
  prism_metrics *m;
  double t0 = now(), c0 = cpu_now();
  for (int i = 0; i < FEATURES; i++)
    set[i] = vocab[i];
  prism_metrics_params_init(&params, sizeof params);
  params.feature_set = set;
  params.feature_set_count = FEATURES;
  if (prism_metrics_create(&m, &params) != PRISM_OK)
    goto fail;
  for (size_t i = 0; i < p->count; i++)
    if (prism_metrics_add(m, p->ref[i], p->hyp[i], p->feature[i]) != PRISM_OK)
      goto fail;
  r->struct_size = sizeof *r;
  if (prism_metrics_finish(r, m) != PRISM_OK)
    goto fail;
  prism_metrics_free(m);
  *cpu = cpu_now() - c0;
  return now() - t0;
fail:
  fprintf(stderr, "bench_metrics: %s\n", prism_last_error());
  exit(1);
}

static const char *arg(int argc, char **argv, const char *name)
{
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0)
      return argv[i + 1];
  return NULL;
}

int main(int argc, char **argv)
{
  size_t count =
      arg(argc, argv, "--pairs") ? strtoull(arg(argc, argv, "--pairs"), NULL, 10) : 1000000;
  int words = arg(argc, argv, "--words") ? atoi(arg(argc, argv, "--words")) : 30;
  int repeat = arg(argc, argv, "--repeat") ? atoi(arg(argc, argv, "--repeat")) : 3;
  prism_metrics_result r;
  double best = INFINITY, best_cpu = INFINITY, bytes = 0;
  pairs p;

  state = arg(argc, argv, "--seed") ? strtoull(arg(argc, argv, "--seed"), NULL, 10) : 7;
  state = state * 0x9E3779B97F4A7C15ull + 1;
  if (words < 6 || repeat < 1 || count < 2) {
    fprintf(stderr, "usage: bench_metrics [--pairs N>=2] [--words W>=6] [--seed S] [--repeat R] "
                    "[--dump PREFIX]\n");
    return 2;
  }
  make_vocabulary();
  p = make_pairs(count, words);
  if (arg(argc, argv, "--dump"))
    dump(&p, arg(argc, argv, "--dump"));
  for (size_t i = 0; i < count; i++)
    bytes += (double)(strlen(p.ref[i]) + strlen(p.hyp[i]));
  for (int k = 0; k < repeat; k++) {
    double cpu, s = score(&p, &r, &cpu);
    best = s < best ? s : best;
    best_cpu = cpu < best_cpu ? cpu : best_cpu;
  }
  printf("{\"pairs\": %zu, \"words_per_reference\": %d, \"mb\": %.1f, \"seconds\": %.4f, "
         "\"cpu_seconds\": %.4f, \"pairs_per_second\": %.0f, \"repeat\": %d, \"figures\": "
         "{\"bleu1\": %.17g, "
         "\"bleu4\": %.17g, \"rouge_1_f_score\": %.17g, \"rouge_1_p_score\": %.17g, "
         "\"rouge_1_r_score\": %.17g, \"rouge_2_f_score\": %.17g, \"rouge_2_p_score\": %.17g, "
         "\"rouge_2_r_score\": %.17g, \"rouge_l_f_score\": %.17g, \"rouge_l_p_score\": %.17g, "
         "\"rouge_l_r_score\": %.17g, \"usr\": %.17g, \"usn\": %llu, \"fmr\": %.17g, "
         "\"fcr\": %.17g, \"div\": %.17g}}\n",
         count, words, bytes / 1e6, best, best_cpu, (double)count / best, repeat, r.bleu1, r.bleu4,
         r.rouge_1_f_score, r.rouge_1_p_score, r.rouge_1_r_score, r.rouge_2_f_score,
         r.rouge_2_p_score, r.rouge_2_r_score, r.rouge_l_f_score, r.rouge_l_p_score,
         r.rouge_l_r_score, r.usr, (unsigned long long)r.usn, r.fmr, r.fcr, r.div);
  for (size_t i = 0; i < count; i++) {
    free(p.ref[i]);
    free(p.hyp[i]);
  }
  free(p.ref);
  free(p.hyp);
  free(p.feature);
  return 0;
}
