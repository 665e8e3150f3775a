/*
 * Internal: the ranker's data structures, shared by its source files.
 *
 * Errors: a public function checks its arguments and reads its params and
 * filter itself (those messages name it); everything below it states what was
 * wrong without naming a function, and the public function hands its status
 * through prism__error_at, which puts its name in front. So every message
 * reads "prism_ranker_x: <what was wrong>", with the file or line when there
 * is one, and no internal helper ever calls a public function.
 */
#ifndef PRISM__RANKER_INTERNAL_H
#define PRISM__RANKER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/idmap.h"
#include "common/rng.h"
#include "prism/ranker.h"

/* Factor count limit: the solvers keep per-row vectors on the stack. */
#define PRISM__RANKER_MAX_FACTORS 1024

/* Users ranked together by one GEMM; evaluation chunks its users by whole tiles. */
#define PRISM__RANKER_TILE_USERS 64

struct prism_interactions {
  prism__idmap users, items;
  int32_t *user, *item;
  float *value;
  double *time; /* seconds since the epoch, NaN for none; NULL until a first timestamp */
  size_t count, cap;
};

/*
 * Append a validated interaction (time NaN: none); a failure leaves the set as
 * it was, except for interned ids.
 */
int prism__ranker_interactions_append(prism_interactions *d, const char *user, const char *item,
                                      float value, double time);

/* PRISM_OK for an id that may be stored, else an error naming it as a `what` ("user"). */
int prism__ranker_check_id(const char *id, const char *what);

/* Compressed sparse rows: row r holds index[ptr[r] .. ptr[r+1]). */
typedef struct prism__ranker_csr {
  int32_t rows, cols;
  int64_t *ptr;
  int32_t *index;
  float *value;
} prism__ranker_csr;

void prism__ranker_csr_free(prism__ranker_csr *m);
/*
 * From COO: rows sorted by column, duplicates summed; validates indices and
 * values, naming a bad entry as `what` and its position ("interaction 3").
 */
int prism__ranker_csr_from_coo(prism__ranker_csr *out, int32_t rows, int32_t cols, size_t count,
                               const int32_t *row, const int32_t *col, const float *value,
                               const char *what);
/* Validate a user x item CSR read from a file (monotone ptr, items in range, finite values). */
int prism__ranker_csr_check(int32_t rows, int32_t cols, const int64_t *ptr, const int32_t *index,
                            const float *value, const char *what);
int prism__ranker_csr_transpose(prism__ranker_csr *out, const prism__ranker_csr *in);

/* The resolved hyperparameters (no zeros left). */
typedef struct prism__ranker_hyper {
  int algorithm, factors, iterations, cg_steps;
  float regularization, alpha, learning_rate, rating_min, rating_max;
  uint64_t seed;
} prism__ranker_hyper;

struct prism_ranker {
  prism__ranker_hyper hp;
  int32_t num_users, num_items;
  float *user_factors;    /* [num_users x factors] */
  float *item_factors;    /* [num_items x factors] */
  float *user_bias;       /* MF only */
  float *item_bias;       /* BPR and MF */
  float global_bias;      /* MF only */
  prism__ranker_csr seen; /* the training interactions, user rows */
  float *item_gram;       /* ALS: Y'Y + reg*I, for exact solves (fold-in, explain) */
  float *item_norms;      /* |y_i|, for cosine similarity */
  int has_ids;
  prism__idmap user_ids, item_ids;
};

/* Allocation of an empty ranker with factor (and bias) storage. */
int prism__ranker_alloc(prism_ranker **out, const prism__ranker_hyper *hp, int32_t users,
                        int32_t items);

/* Training kernels: fill r's factors from the user rows (and their transpose). */
int prism__ranker_als_fit(prism_ranker *r, const prism__ranker_csr *ui, const prism__ranker_csr *iu,
                          const prism_ranker_params *params);
int prism__ranker_bpr_fit(prism_ranker *r, const prism__ranker_csr *ui,
                          const prism_ranker_params *params);
int prism__ranker_mf_fit(prism_ranker *r, const prism__ranker_csr *ui,
                         const prism_ranker_params *params);

/* Fold-in of one history (a 1-row CSR, sorted, no duplicates) with item factors fixed. */
int prism__ranker_bpr_fold_in(const prism_ranker *r, const prism__ranker_csr *hist, float *x);
int prism__ranker_mf_fold_in(const prism_ranker *r, const prism__ranker_csr *hist, float *x,
                             float *bias);

/*
 * One ALS half step: solve each row of X given Y (with Y'Y + reg*I = gram),
 * rows of `m` giving the interactions, by `cg_steps` conjugate-gradient steps
 * warm-started from X. Fails when scratch cannot be allocated, and with
 * PRISM_ERR_NUMERIC (no message set) when a residual is NaN or infinity.
 */
int prism__ranker_als_solve_cg(float *X, const float *Y, const float *gram,
                               const prism__ranker_csr *m, int factors, float alpha, int cg_steps);
/* gram = Y'Y + reg * I  ([F x F]). */
void prism__ranker_als_gram(float *gram, const float *Y, int32_t rows, int factors, float reg);

/*
 * W = gram + sum_j alpha*|v_j| y_j y_j' and b = sum_j c_j p_j y_j for one history;
 * the user's exact ALS system.
 */
void prism__ranker_als_user_system(float *W, float *b, const float *Y, const float *gram,
                                   const int32_t *items, const float *values, size_t n, int factors,
                                   float alpha);

/*
 * Random streams (the generator shared with sampling in lib/generate): each
 * use draws from its own stream of the model's seed.
 */
enum {
  PRISM__RANKER_STREAM_INIT = 1,
  PRISM__RANKER_STREAM_BPR = 2,
  PRISM__RANKER_STREAM_BPR_FOLD_IN = 3,
  PRISM__RANKER_STREAM_MF = 4
};

/* Score and top-k selection shared by the recommend paths (k: the heap's capacity). */
typedef struct prism__ranker_topk {
  int32_t *items;
  float *scores;
  size_t size, k;
} prism__ranker_topk;

void prism__ranker_topk_push(prism__ranker_topk *h, int32_t item, float score);
/* Sort the heap contents best first (ties: lower index first). */
void prism__ranker_topk_finish(prism__ranker_topk *h);

/* Model score of (user factors u, user bias ub) for item i. */
float prism__ranker_score(const prism_ranker *r, const float *u, float user_bias, int32_t item);

/* prism_ranker_predict of a valid (user, item): MF clips to the rating range. */
float prism__ranker_predict(const prism_ranker *r, int32_t user, int32_t item);

/* PRISM_ERR_OUT_OF_RANGE unless index is a user (items 0) or item (items 1) of r. */
int prism__ranker_check_index(const prism_ranker *r, int items, int32_t index);

/* A caller's filter in the current layout (NULL: defaults); the message names `fn`. */
int prism__ranker_filter_read(prism_ranker_filter *out, const prism_ranker_filter *in,
                              const char *fn);

/* The items a read filter lists are items of r. */
int prism__ranker_filter_check(const prism_ranker *r, const prism_ranker_filter *f);

/*
 * Top-k of valid model users with a checked filter: row i of items/scores
 * starts at i * k; counts[i] receives its length.
 */
int prism__ranker_rank_users(int32_t *items, float *scores, size_t *counts, const prism_ranker *r,
                             const int32_t *users, size_t n, int k,
                             const prism_ranker_filter *filter);

/*
 * Fold in a history (validated here): factors and bias of a user with these
 * items; the history's sorted CSR is handed to *h_out when non-NULL (caller
 * frees).
 */
int prism__ranker_fold_in(float *factors, float *bias, prism__ranker_csr *h_out,
                          const prism_ranker *r, const int32_t *history, const float *values,
                          size_t n);

/* Model index of a user (items 0) or item (items 1) id, -1 when unknown; sets no error. */
int32_t prism__ranker_lookup(const prism_ranker *r, int items, const char *id);

/*
 * PRISM_ERR_NUMERIC naming the algorithm, the iteration and the parameters
 * that are no longer finite; PRISM_OK while all are. The trainers call it after
 * every iteration and stop at once.
 */
int prism__ranker_check_diverged(const prism_ranker *r, int iteration);
/* The same error naming `part` ("conjugate-gradient residuals") as what is no longer finite. */
int prism__ranker_diverged(const prism_ranker *r, int iteration, const char *part);

/* Derived state (gram, norms) and a finiteness check once factors are final. */
int prism__ranker_finish(prism_ranker *r, const char *what);

/* A caller's params in the current layout (NULL: defaults); the message names `fn`. */
int prism__ranker_params_read(prism_ranker_params *out, const prism_ranker_params *in,
                              const char *fn);

/* The hyperparameters of read params: zero fields take the algorithm's defaults; validated. */
int prism__ranker_resolve_hyper(prism__ranker_hyper *hp, const prism_ranker_params *p);

/* Hyperparameters in range (a model file's are checked too); `status` is returned on failure. */
int prism__ranker_check_hyper(const prism__ranker_hyper *hp, int status);

#endif
