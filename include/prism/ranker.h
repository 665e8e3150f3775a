/*
 * libprism — the ranker: interaction data, matrix-factorization training
 * (implicit ALS, BPR, explicit biased MF), top-K recommendation with filters,
 * fold-in, similar items, score explanations, persistence and evaluation.
 *
 * Thread safety: a prism_ranker is read-only after training or loading; any
 * number of threads may call recommend, predict, similar_items, explain,
 * fold_in and evaluate on one ranker at the same time. A prism_interactions
 * set may be read from many threads, but prism_interactions_add needs
 * exclusive access. Training runs its kernels on the worker pool sized by
 * prism_set_num_threads().
 *
 * Ownership: objects returned through `**out` belong to the caller and are
 * released with their _free function (free(NULL) is a no-op). Strings returned
 * by the _id functions are borrowed from their parent and live as long as it.
 * Caller buffers are only read during the call; the ranker keeps no pointer to
 * them.
 *
 * Call shape: outputs first (new objects, result buffers and their counts),
 * then the object asked and its inputs. Results are written only on success.
 *
 * Users and items are dense int32 indices in [0, count). String ids (as in an
 * interactions TSV) map to indices through the _find and _id functions and are
 * saved with the model.
 */
#ifndef PRISM_RANKER_H
#define PRISM_RANKER_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Interactions: (user, item, value[, timestamp]) with string id maps ---- */

typedef struct prism_interactions prism_interactions;

/* An empty set, to fill with prism_interactions_add. */
PRISM_API int prism_interactions_create(prism_interactions **out);

/* Whether the first line of an interactions file names its columns. */
typedef enum prism_interactions_header {
  PRISM_INTERACTIONS_HEADER_AUTO = 0,   /* a header when it names a user and an item column */
  PRISM_INTERACTIONS_HEADER_NONE = 1,   /* every line is data */
  PRISM_INTERACTIONS_HEADER_PRESENT = 2 /* the first line is a header, whatever it says */
} prism_interactions_header;

/* A column field that is not read: every value 1, or no timestamps. */
#define PRISM_INTERACTIONS_NO_COLUMN (-1)

/*
 * How an interactions file is read (see docs/formats.md). Columns are
 * 0-based; PRISM_UNSET takes them from the header's names (user, item, value
 * or rating, timestamp, ...) when it names the user and item columns, else
 * user 0, item 1, value 2, timestamp 3. Columns past these are ignored.
 */
typedef struct prism_interactions_load_params {
  size_t struct_size;    /* sizeof(prism_interactions_load_params), set by _init */
  const char *separator; /* 1 to 8 bytes; NULL (default): from the first line: tab, "::",
                            comma or semicolon, in that order, else tab */
  int header;            /* prism_interactions_header, default AUTO */
  int user_column;       /* default PRISM_UNSET */
  int item_column;       /* default PRISM_UNSET */
  int value_column;      /* default PRISM_UNSET; PRISM_INTERACTIONS_NO_COLUMN: every value 1 */
  int timestamp_column;  /* default PRISM_UNSET; PRISM_INTERACTIONS_NO_COLUMN: none kept */
} prism_interactions_load_params;

/* Fill the defaults; struct_size outside the sizes this library knows is refused. */
PRISM_API int prism_interactions_load_params_init(prism_interactions_load_params *params,
                                                  size_t struct_size);

/*
 * Load an interactions file: one interaction per line, fields split by the
 * separator, an optional header line; gzip-compressed files (detected by their
 * magic bytes) are decompressed first, within the max_file_bytes limit. A
 * value must be a finite number (missing: 1); a timestamp is a number of
 * seconds since 1970-01-01 UTC or an ISO-8601 date or date-time (without a
 * zone: UTC), kept as seconds (missing or empty: none). With a separator other
 * than a tab, fields may be double-quoted ("a,b", "say ""hi"""). Spaces around
 * fields are dropped unless the separator is a space. Empty lines are
 * skipped. `params` NULL means the defaults. A malformed line fails with
 * PRISM_ERR_FORMAT naming the file and the line number.
 */
PRISM_API int prism_interactions_load(prism_interactions **out, const char *path,
                                      const prism_interactions_load_params *params);

/*
 * prism_interactions_load on `size` bytes in memory (for example a standard
 * input read whole); `name` (NULL: "<memory>") stands for the file in messages.
 */
PRISM_API int prism_interactions_load_memory(prism_interactions **out, const void *data,
                                             size_t size, const char *name,
                                             const prism_interactions_load_params *params);

/* prism_interactions_load with the default params (MovieLens u.data loads as is). */
PRISM_API int prism_interactions_load_tsv(prism_interactions **out, const char *path);

/* Append one interaction; ids are UTF-8 strings without tabs or newlines, value finite. */
PRISM_API int prism_interactions_add(prism_interactions *data, const char *user, const char *item,
                                     float value);

/*
 * prism_interactions_add with a timestamp: seconds since 1970-01-01 UTC,
 * finite, or NaN for none.
 */
PRISM_API int prism_interactions_add_timed(prism_interactions *data, const char *user,
                                           const char *item, float value, double timestamp);

/* The timestamp of the i-th interaction in seconds since 1970-01-01 UTC; NaN when it has none. */
PRISM_API double prism_interactions_timestamp(const prism_interactions *data, size_t i);

PRISM_API void prism_interactions_free(prism_interactions *data);

PRISM_API size_t prism_interactions_count(const prism_interactions *data);
PRISM_API int32_t prism_interactions_num_users(const prism_interactions *data);
PRISM_API int32_t prism_interactions_num_items(const prism_interactions *data);

/* The i-th interaction in insertion order; any of user, item, value may be NULL. */
PRISM_API int prism_interactions_get(int32_t *user, int32_t *item, float *value,
                                     const prism_interactions *data, size_t i);

/* String id of an index (borrowed), NULL when out of range. */
PRISM_API const char *prism_interactions_user_id(const prism_interactions *data, int32_t user);
PRISM_API const char *prism_interactions_item_id(const prism_interactions *data, int32_t item);

/* Index of a string id; PRISM_ERR_NOT_FOUND when unknown. */
PRISM_API int prism_interactions_find_user(int32_t *out, const prism_interactions *data,
                                           const char *id);
PRISM_API int prism_interactions_find_item(int32_t *out, const prism_interactions *data,
                                           const char *id);

/* ---- Training ---- */

typedef enum prism_ranker_algorithm {
  PRISM_RANKER_ALS = 0, /* implicit ALS: confidence 1 + alpha * value, conjugate gradient */
  PRISM_RANKER_BPR = 1, /* Bayesian personalised ranking: SGD with sampled negatives */
  PRISM_RANKER_MF = 2   /* explicit biased MF: SGD on ratings, predictions clipped */
} prism_ranker_algorithm;

/*
 * Called after each training iteration with the 1-based iteration, the total
 * and the iteration's loss (ALS: weighted squared error plus penalty per
 * interaction; BPR: mean -log sigmoid of sampled pairs; MF: training RMSE).
 * Return nonzero to continue, 0 to cancel: training then fails with
 * PRISM_ERR_CANCELLED and returns no ranker.
 */
typedef int (*prism_ranker_progress_fn)(int iteration, int total, double loss, void *payload);

/*
 * Numeric fields left at 0 select the algorithm's default (see docs/ranker.md).
 * A program built against an older, shorter layout passes its own struct_size;
 * the fields it does not have take their defaults.
 */
typedef struct prism_ranker_params {
  size_t struct_size;   /* sizeof(prism_ranker_params), set by _init */
  int algorithm;        /* prism_ranker_algorithm, default PRISM_RANKER_ALS */
  int factors;          /* latent dimensions, default 64 */
  int iterations;       /* default ALS 15, BPR 100, MF 20 */
  float regularization; /* L2 weight, default ALS 0.05, BPR 0.01, MF 0.02 */
  float alpha;          /* ALS confidence scale, default 1 */
  float learning_rate;  /* BPR default 0.01, MF default 0.005 (ALS: unused) */
  int cg_steps;         /* ALS conjugate-gradient steps per solve, default 3 */
  uint64_t seed;        /* initialisation and sampling; 0 is a valid seed */
  float rating_min;     /* MF clipping range; both 0: the training values' range */
  float rating_max;
  prism_ranker_progress_fn progress;
  void *progress_payload;
} prism_ranker_params;

/* Fill the defaults; struct_size outside the sizes this library knows is refused. */
PRISM_API int prism_ranker_params_init(prism_ranker_params *params, size_t struct_size);

typedef struct prism_ranker prism_ranker;

/*
 * Train on an interactions set; its string ids are kept in the model.
 * Duplicate (user, item) pairs are summed. `params` NULL means defaults.
 */
PRISM_API int prism_ranker_train(prism_ranker **out, const prism_interactions *data,
                                 const prism_ranker_params *params);

/* Train on a CSR matrix: row u holds indices[indptr[u] .. indptr[u+1]) with values (NULL: all 1). */
PRISM_API int prism_ranker_train_csr(prism_ranker **out, int32_t num_users, int32_t num_items,
                                     const int64_t *indptr, const int32_t *indices,
                                     const float *values, const prism_ranker_params *params);

/* Train on COO triples (values NULL: all 1). */
PRISM_API int prism_ranker_train_coo(prism_ranker **out, int32_t num_users, int32_t num_items,
                                     size_t count, const int32_t *users, const int32_t *items,
                                     const float *values, const prism_ranker_params *params);

PRISM_API void prism_ranker_free(prism_ranker *ranker);

/* ---- Inspection ---- */

PRISM_API int prism_ranker_algorithm_of(const prism_ranker *ranker);
PRISM_API int32_t prism_ranker_num_users(const prism_ranker *ranker);
PRISM_API int32_t prism_ranker_num_items(const prism_ranker *ranker);
PRISM_API int prism_ranker_num_factors(const prism_ranker *ranker);

/* Borrowed string ids; NULL when out of range or when the model has no id map (trained from arrays). */
PRISM_API const char *prism_ranker_user_id(const prism_ranker *ranker, int32_t user);
PRISM_API const char *prism_ranker_item_id(const prism_ranker *ranker, int32_t item);
/* Index of a string id (without an id map: the decimal index); PRISM_ERR_NOT_FOUND when unknown. */
PRISM_API int prism_ranker_find_user(int32_t *out, const prism_ranker *ranker, const char *id);
PRISM_API int prism_ranker_find_item(int32_t *out, const prism_ranker *ranker, const char *id);

/* Borrowed row-major factors: user [num_users x factors], item [num_items x factors]. */
PRISM_API const float *prism_ranker_user_factors(const prism_ranker *ranker);
PRISM_API const float *prism_ranker_item_factors(const prism_ranker *ranker);

/* ---- Recommendation ---- */

/* Which items may be returned. */
typedef struct prism_ranker_filter {
  size_t struct_size;     /* sizeof(prism_ranker_filter), set by _init */
  int exclude_seen;       /* drop the user's training items (default 1) */
  const int32_t *exclude; /* items never returned */
  size_t exclude_count;
  const int32_t *candidates; /* when non-NULL, only these items may be returned */
  size_t candidate_count;
} prism_ranker_filter;

/* Fill the defaults (exclude_seen 1, no lists); struct_size as for prism_ranker_params_init. */
PRISM_API int prism_ranker_filter_init(prism_ranker_filter *filter, size_t struct_size);

/*
 * The best min(k, eligible) items for `user`, best first (ties: lower index
 * first); `filter` NULL means the defaults. items and scores need room for
 * min(k, num_items) entries (no more is ever written); *count receives the
 * number written. k <= 0, unknown users and out-of-range filter items are
 * errors. Scores are model scores (MF: unclipped predicted ratings).
 */
PRISM_API int prism_ranker_recommend(int32_t *items, float *scores, size_t *count,
                                     const prism_ranker *ranker, int32_t user, int k,
                                     const prism_ranker_filter *filter);

/*
 * recommend for many users through tiled GEMM with bounded scratch memory.
 * Row i of items/scores starts at entry i * k and belongs to users[i];
 * counts[i] receives its length. Results equal prism_ranker_recommend's.
 */
PRISM_API int prism_ranker_recommend_batch(int32_t *items, float *scores, size_t *counts,
                                           const prism_ranker *ranker, const int32_t *users,
                                           size_t num_users, int k,
                                           const prism_ranker_filter *filter);

/*
 * Recommend for a user described only by a history (a new user, or one whose
 * history changed): fold in, then rank. With exclude_seen the history items
 * are excluded. values NULL: all 1.
 */
PRISM_API int prism_ranker_recommend_history(int32_t *items, float *scores, size_t *count,
                                             const prism_ranker *ranker, const int32_t *history,
                                             const float *values, size_t history_count, int k,
                                             const prism_ranker_filter *filter);

/*
 * Factors (and, for MF, the bias, written to *bias when non-NULL) of a user
 * with this history, item factors held fixed: ALS solves the user's weighted
 * least squares exactly; MF solves the regularised least squares of the
 * residual ratings; BPR runs `iterations` seeded SGD epochs on the user
 * vector. `factors` holds num_factors floats. values NULL: all 1.
 */
PRISM_API int prism_ranker_fold_in(float *factors, float *bias, const prism_ranker *ranker,
                                   const int32_t *history, const float *values,
                                   size_t history_count);

/*
 * The min(k, num_items - 1) items most cosine-similar to `item` (itself
 * excluded), best first; items and scores as for prism_ranker_recommend.
 */
PRISM_API int prism_ranker_similar_items(int32_t *items, float *scores, size_t *count,
                                         const prism_ranker *ranker, int32_t item, int k);

/*
 * The n history items of `user` that contribute most to the score of `item`,
 * largest first; *count = min(n, history length). ALS: contribution of j is
 * (1 + alpha*v_j) p_j * y_item' W_u^-1 y_j with W_u the user's weighted Gram
 * matrix, and the contributions sum to the score of the exactly solved user. BPR and MF: the cosine
 * similarity of j to `item` divided by the sum of the absolute similarities
 * over the history (a share in [-1, 1]). items and contributions need room
 * for min(n, history length) entries.
 */
PRISM_API int prism_ranker_explain(int32_t *items, float *contributions, size_t *count,
                                   const prism_ranker *ranker, int32_t user, int32_t item, int n);

/* Score of (user, item); for MF the predicted rating clipped to the rating range. */
PRISM_API int prism_ranker_predict(float *out, const prism_ranker *ranker, int32_t user,
                                   int32_t item);

/* ---- Persistence (safetensors) ---- */

/* Write atomically (temporary file + rename): on failure `path` is untouched. */
PRISM_API int prism_ranker_save(const prism_ranker *ranker, const char *path);

/* Load and validate shapes, counts, finiteness, the seen matrix and the id maps. */
PRISM_API int prism_ranker_load(prism_ranker **out, const char *path);

/* ---- Evaluation ---- */

/*
 * An output struct: the caller sets struct_size (`m.struct_size = sizeof m`)
 * and the library fills the fields that size covers, so a program built
 * against this layout keeps working when fields are appended.
 */
typedef struct prism_ranker_metrics {
  size_t struct_size; /* set by the caller to sizeof(prism_ranker_metrics) */
  double precision;   /* mean over evaluated users of hits@k / k */
  double recall;      /* hits@k / |relevant| */
  double ndcg;        /* binary-relevance DCG@k / ideal DCG@k */
  double map;         /* sum of precision at each hit rank / min(|relevant|, k) */
  size_t users;       /* users averaged */
} prism_ranker_metrics;

/* Metrics of one ranked list against a relevant set (items unique). */
PRISM_API int prism_ranker_metrics_list(prism_ranker_metrics *out, const int32_t *recommended,
                                        size_t recommended_count, const int32_t *relevant,
                                        size_t relevant_count, int k);

/*
 * Ranking metrics over the users of `test` known to the model, recommending
 * k items each with `filter` (NULL: exclude seen). Test items unknown to the
 * model stay relevant (they count as misses). *skipped_users (may be NULL)
 * receives the test users unknown to the model. Memory stays bounded
 * whatever k is.
 */
PRISM_API int prism_ranker_evaluate(prism_ranker_metrics *out, size_t *skipped_users,
                                    const prism_ranker *ranker, const prism_interactions *test,
                                    int k, const prism_ranker_filter *filter);

/*
 * RMSE and MAE of prism_ranker_predict over the test pairs whose user and
 * item are known; *pairs (may be NULL) receives their number.
 */
PRISM_API int prism_ranker_evaluate_ratings(double *rmse, double *mae, size_t *pairs,
                                            const prism_ranker *ranker,
                                            const prism_interactions *test);

#ifdef __cplusplus
}
#endif

#endif /* PRISM_RANKER_H */
