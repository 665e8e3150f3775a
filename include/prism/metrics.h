/*
 * libprism — explanation quality: the text metrics of the explainable
 * recommendation literature (PETER, PEPLER, POD: BLEU-1/4, ROUGE-1/2/L, USR,
 * FMR, FCR, DIV) and a faithfulness check (the catalog titles an explanation
 * names against the titles its prompt showed). docs/metrics.md defines every
 * figure and its pitfalls.
 *
 * Thread safety: a prism_metrics or prism_faithfulness accumulator belongs to
 * one thread at a time (add changes it); _finish only reads it. Give each
 * thread its own accumulator.
 *
 * Ownership: objects returned through `**out` belong to the caller and are
 * released with their _free function (free(NULL) is a no-op). Strings passed
 * in (texts, the feature set, titles) are copied or only read during the call.
 * A title returned by prism_faithfulness_title() is borrowed from its object.
 */
#ifndef PRISM_METRICS_H
#define PRISM_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Text metrics over (reference, hypothesis) pairs ---- */

/* How texts become tokens (docs/metrics.md#tokenisation). */
typedef enum prism_metrics_tokenize {
  /* Python's str.split(): runs of Unicode white space separate tokens (PETER). */
  PRISM_METRICS_TOKENIZE_WHITESPACE = 0,
  /*
   * PEPLER's post-processing first: 's 'm 've n't 're 'd 'll ( ) , : ; . ! ?
   * become tokens of their own, a run of , : ; . ! or ? one token, ':' reads
   * ',' and ';' reads '.'; then str.split().
   */
  PRISM_METRICS_TOKENIZE_PEPLER = 1
} prism_metrics_tokenize;

typedef struct prism_metrics_params {
  size_t struct_size;
  int tokenize;  /* prism_metrics_tokenize, default PRISM_METRICS_TOKENIZE_WHITESPACE */
  int lowercase; /* nonzero: lower-case texts and features first (Python's str.lower()); default 0 */
  /*
   * The feature vocabulary (UTF-8 words; duplicates count once), copied at
   * create. NULL (the default) leaves FMR, FCR and DIV undefined (NaN).
   */
  const char *const *feature_set;
  size_t feature_set_count;
} prism_metrics_params;

/* Fill defaults; fails when struct_size is below the first released size. */
PRISM_API int prism_metrics_params_init(prism_metrics_params *params, size_t struct_size);

/*
 * The figures. BLEU and ROUGE are percentages (x100) as the papers print
 * them; USR, FMR, FCR are shares in [0, 1]; DIV is a mean count (lower is
 * more diverse). A figure that is undefined for the input is NaN: FMR without
 * any ground-truth feature, FCR without a feature set, DIV without a feature
 * set or with fewer than two pairs.
 */
typedef struct prism_metrics_result {
  size_t struct_size;
  uint64_t count; /* pairs added */
  double bleu1;   /* corpus BLEU-1 with brevity penalty, no smoothing */
  double bleu4;   /* corpus BLEU-4, geometric mean of 1..4-gram precisions, brevity penalty */
  double rouge_1_f_score, rouge_1_p_score, rouge_1_r_score; /* means of sentence scores */
  double rouge_2_f_score, rouge_2_p_score, rouge_2_r_score;
  double rouge_l_f_score, rouge_l_p_score, rouge_l_r_score; /* F with beta = P / R, not F1 */
  double usr;                                               /* usn / count */
  uint64_t usn;             /* distinct hypothesis token sequences */
  double fmr;               /* share of pairs with a feature whose hypothesis contains it */
  double fcr;               /* share of the feature set found in some hypothesis */
  double div;               /* mean |A_i & A_j| over pairs i < j of detected feature sets */
  uint64_t feature_samples; /* pairs that came with a ground-truth feature (FMR's denominator) */
} prism_metrics_result;

typedef struct prism_metrics prism_metrics;

/*
 * A streaming accumulator: memory holds counts, not texts (a 16-byte digest
 * per distinct hypothesis for USR, one count per feature for DIV and FCR).
 * `params` NULL means defaults.
 */
PRISM_API int prism_metrics_create(prism_metrics **out, const prism_metrics_params *params);

/*
 * Score one pair. `reference` and `hypothesis` are NUL-terminated UTF-8;
 * `feature` (may be NULL) is the pair's ground-truth feature. Invalid UTF-8
 * fails with PRISM_ERR_INVALID_UTF8 naming the text and byte; a failed call
 * leaves the accumulator unchanged.
 */
PRISM_API int prism_metrics_add(prism_metrics *metrics, const char *reference,
                                const char *hypothesis, const char *feature);

/*
 * The figures over every pair added so far (the accumulator stays usable).
 * Fails with PRISM_ERR_INVALID_ARGUMENT when no pair was added. Fills the
 * first out->struct_size bytes (set struct_size to sizeof *out).
 */
PRISM_API int prism_metrics_finish(prism_metrics_result *out, const prism_metrics *metrics);

PRISM_API void prism_metrics_free(prism_metrics *metrics);

/* One call: create, add `count` pairs (`features` may be NULL, or hold NULLs), finish. */
PRISM_API int prism_metrics_evaluate(prism_metrics_result *out, const char *const *references,
                                     const char *const *hypotheses, const char *const *features,
                                     size_t count, const prism_metrics_params *params);

/* ---- Faithfulness: titles named against titles shown ---- */

typedef struct prism_faithfulness prism_faithfulness;

/*
 * An accumulator over a catalog of titles (UTF-8; empty titles are refused,
 * duplicates after case folding count once). Titles are matched in
 * explanations case-insensitively (Unicode case folding, NFC, runs of white
 * space read as one space) on word boundaries, longest title first, so a
 * title inside a longer one ("The Glass" in "The Glass Road") is not named.
 */
PRISM_API int prism_faithfulness_create(prism_faithfulness **out, const char *const *titles,
                                        size_t count);

/*
 * The same from a tab-separated catalog whose header line has a `title`
 * column (examples/demo/catalog.tsv). A malformed file fails with
 * PRISM_ERR_FORMAT naming the file and line.
 */
PRISM_API int prism_faithfulness_load_catalog(prism_faithfulness **out, const char *path);

PRISM_API void prism_faithfulness_free(prism_faithfulness *faithfulness);

/* Distinct catalog titles, and the index-th one as given (borrowed; NULL when out of range). */
PRISM_API size_t prism_faithfulness_title_count(const prism_faithfulness *faithfulness);
PRISM_API const char *prism_faithfulness_title(const prism_faithfulness *faithfulness,
                                               size_t index);

/* One explanation's check. */
typedef struct prism_faithfulness_sample {
  size_t struct_size;
  size_t titles_named;    /* distinct catalog titles the explanation names */
  size_t titles_grounded; /* of them, the recommended item or a title the prompt showed */
  int names_item;         /* 1 when the recommended item is named */
  int hallucinated;       /* 1 when a named title is neither the item nor shown */
} prism_faithfulness_sample;

/*
 * Check one explanation and add it to the totals. `item` is the recommended
 * item's title and `grounded` the `grounded_count` titles the prompt showed
 * (history and evidence); each must be a catalog title (PRISM_ERR_NOT_FOUND
 * otherwise). The named titles' indices, in order of first mention, go to
 * `titles` (NULL: not wanted); with fewer than out->titles_named places the
 * call fails with PRISM_ERR_BUFFER_TOO_SMALL, reports the count in `out` and
 * adds nothing. `out` may be NULL.
 */
PRISM_API int prism_faithfulness_add(prism_faithfulness_sample *out, size_t *titles,
                                     size_t capacity, prism_faithfulness *faithfulness,
                                     const char *explanation, const char *item,
                                     const char *const *grounded, size_t grounded_count);

/* Totals and rates over the explanations added; the rates are NaN where undefined. */
typedef struct prism_faithfulness_result {
  size_t struct_size;
  uint64_t count;                /* explanations added */
  uint64_t titles_named;         /* sum of titles_named */
  uint64_t titles_grounded;      /* sum of titles_grounded */
  uint64_t items_named;          /* explanations naming their item */
  uint64_t hallucinated;         /* explanations naming a title absent from their prompt */
  double titles_per_explanation; /* titles_named / count */
  double grounded_share;         /* titles_grounded / titles_named (NaN when nothing was named) */
  double item_named_rate;        /* items_named / count */
  double hallucination_rate;     /* hallucinated / count */
} prism_faithfulness_result;

/* Fails with PRISM_ERR_INVALID_ARGUMENT when nothing was added. */
PRISM_API int prism_faithfulness_finish(prism_faithfulness_result *out,
                                        const prism_faithfulness *faithfulness);

#ifdef __cplusplus
}
#endif

#endif /* PRISM_METRICS_H */
