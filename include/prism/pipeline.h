/*
 * libprism — the pipeline: for a batch of users, rank, take the ranker's
 * evidence, render the student's prompt and explain, in one call.
 *
 * A composition of the public ranker (<prism/ranker.h>), prompt renderer and
 * explainer (<prism/explain.h>): one prism_pipeline_run() gives exactly what
 * calling prism_ranker_recommend_batch, prism_ranker_explain,
 * prism_prompt_render and prism_explainer_run by hand gives, with every
 * prompt of the call explained in one batched decode (docs/pipeline.md).
 *
 * A catalog maps item ids to what a prompt says about them: a title and a
 * features text. Items the catalog lacks are reported (their title is NULL)
 * and never shown to the model as raw ids: a recommended item without a
 * catalog entry gets no prompt and no explanation, history and evidence items
 * without one are left out of the prompt.
 *
 * Thread safety: a prism_catalog is read-only once filled and may be shared;
 * prism_catalog_add needs exclusive access and must not run while a pipeline
 * uses the catalog. A prism_pipeline uses its explainer, so it belongs to one
 * thread at a time (make one per thread; they may share the ranker, catalog,
 * histories, tokenizer and model). A prism_pipeline_result is immutable and
 * may be read from any thread.
 *
 * Ownership: a pipeline borrows its ranker, catalog, histories and explainer,
 * which must outlive it, and keeps its own copy of the prompt format. A result
 * owns every string it returns (ids, titles, prompts, explanations): they
 * live until prism_pipeline_result_free and do not depend on the pipeline or
 * its inputs.
 */
#ifndef PRISM_PIPELINE_H
#define PRISM_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "explain.h"
#include "generate.h"
#include "ranker.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the catalog: item id -> title and features ---------------------------------------- */

typedef struct prism_catalog prism_catalog;

/* How a catalog TSV becomes titles and features. */
typedef struct prism_catalog_params {
  size_t struct_size;
  const char *feature_columns;   /* comma-separated header names whose values, joined, are an
                                    item's features; NULL: the first column that is neither
                                    item_id nor title (the demo's genre); "": no features */
  const char *feature_separator; /* ", " between the values of several feature columns */
} prism_catalog_params;

PRISM_API int prism_catalog_params_init(prism_catalog_params *params, size_t struct_size);

/* An empty catalog, to fill with prism_catalog_add. */
PRISM_API int prism_catalog_create(prism_catalog **out);

/*
 * Load a tab-separated catalog: a header line naming the columns item_id and
 * title (and any feature columns), then one item per line with exactly as many
 * fields as the header (examples/demo/catalog.tsv). `params` NULL: defaults.
 * A line with the wrong field count, an empty id or title, an id listed twice
 * or invalid UTF-8 fails with PRISM_ERR_FORMAT naming the file and line.
 */
PRISM_API int prism_catalog_load_tsv(prism_catalog **out, const char *path,
                                     const prism_catalog_params *params);

/*
 * Add one item: a non-empty id without tabs or line breaks, a non-empty title,
 * features (NULL: none); all UTF-8. An id already in the catalog is
 * PRISM_ERR_INVALID_ARGUMENT.
 */
PRISM_API int prism_catalog_add(prism_catalog *catalog, const char *item, const char *title,
                                const char *features);

PRISM_API void prism_catalog_free(prism_catalog *catalog);

PRISM_API size_t prism_catalog_count(const prism_catalog *catalog);

/* The entry of an item id (strings borrowed from the catalog); PRISM_ERR_NOT_FOUND when absent. */
PRISM_API int prism_catalog_find(prism_prompt_item *out, const prism_catalog *catalog,
                                 const char *item);

/* The index-th entry in the order added: its id and what the prompt shows (both may be NULL). */
PRISM_API int prism_catalog_get(const char **item, prism_prompt_item *entry,
                                const prism_catalog *catalog, size_t index);

/* ---- the pipeline ---------------------------------------------------------------------- */

typedef struct prism_pipeline prism_pipeline;
typedef struct prism_pipeline_result prism_pipeline_result;

/*
 * A pipeline over a ranker, a catalog, the users' histories (an interactions
 * set: the one the ranker was trained on, or one the host supplies; NULL: no
 * history in the prompts) and an explainer (NULL: prompts only, no
 * explanations). `format` NULL: the demo student's format. A user's history
 * is oldest first: by timestamp when every interaction of the user has one
 * (ties in insertion order), else in insertion order. Histories and catalog
 * entries are indexed here: what is added to them later is not seen (make a
 * new pipeline), and they must not be added to while a run is in progress.
 *
 * With an explainer, every catalog title and features text and the format's
 * own text must encode in the explainer's vocabulary without <unk>: a model
 * that cannot read the prompts is refused here (PRISM_ERR_NOT_FOUND naming the
 * item and the byte), not at the first run.
 */
PRISM_API int prism_pipeline_create(prism_pipeline **out, const prism_ranker *ranker,
                                    const prism_catalog *catalog,
                                    const prism_interactions *histories, prism_explainer *explainer,
                                    const prism_prompt_format *format);

PRISM_API void prism_pipeline_free(prism_pipeline *pipeline);

/* Per call: how many items, how much evidence, which items, how to generate. */
typedef struct prism_pipeline_params {
  size_t struct_size;
  int32_t k;                             /* recommendations per user; default 3 */
  int32_t evidence;                      /* history items of evidence per recommendation
                                            (prism_ranker_explain's n); default 3; 0: none */
  const prism_ranker_filter *filter;     /* NULL: the ranker's defaults (exclude seen) */
  const prism_generate_params *generate; /* NULL: the model's generation defaults */
} prism_pipeline_params;

PRISM_API int prism_pipeline_params_init(prism_pipeline_params *params, size_t struct_size);

/*
 * Recommend, gather evidence, render and explain for users[0 .. n_users)
 * (string ids as the ranker knows them). A user the ranker does not know gets
 * its own status in the result (PRISM_ERR_NOT_FOUND) and the others go on.
 * Every prompt of the call goes to one prism_explainer_run (one decoder pass
 * as long as the explainer's max_batch covers them; with num_return_sequences
 * > 1 the first, best, text is kept). A failure of the call as a whole (a bad
 * filter or generation parameter, an explainer error) returns no result.
 */
PRISM_API int prism_pipeline_run(prism_pipeline_result **out, prism_pipeline *pipeline,
                                 const char *const *users, size_t n_users,
                                 const prism_pipeline_params *params);

/* ---- results: output structs the caller sizes (`x.struct_size = sizeof x`) ---------------- */

typedef struct prism_pipeline_user {
  size_t struct_size;
  const char *user;     /* the id asked for */
  int status;           /* PRISM_OK, or why the user has no recommendations */
  const char *error;    /* the message that goes with a failed status; NULL when PRISM_OK */
  size_t item_count;    /* recommendations, best first */
  size_t history_count; /* the user's history in the histories set, oldest first */
  size_t missing_count; /* distinct items of the history, the recommendations and the
                           evidence that the catalog lacks */
} prism_pipeline_user;

typedef struct prism_pipeline_item {
  size_t struct_size;
  const char *item;        /* id */
  const char *title;       /* NULL when the catalog lacks the item */
  const char *features;    /* NULL when the catalog lacks the item */
  float score;             /* the ranker's score */
  size_t evidence_count;   /* prism_pipeline_result_evidence entries */
  const char *prompt;      /* NULL when the catalog lacks the item */
  const char *explanation; /* NULL without a prompt or without an explainer */
} prism_pipeline_item;

/* A history or evidence item. */
typedef struct prism_pipeline_entry {
  size_t struct_size;
  const char *item;     /* id */
  const char *title;    /* NULL when the catalog lacks the item (it is then not in the prompt) */
  const char *features; /* NULL when the catalog lacks the item */
  float weight;         /* evidence: its contribution (prism_ranker_explain); history: the
                           interaction's value */
} prism_pipeline_entry;

/* Users in the result: the n_users of the call, in order. */
PRISM_API size_t prism_pipeline_result_count(const prism_pipeline_result *result);

PRISM_API int prism_pipeline_result_user(prism_pipeline_user *out,
                                         const prism_pipeline_result *result, size_t user);

/* The rank-th recommendation of a user (0 = best). */
PRISM_API int prism_pipeline_result_item(prism_pipeline_item *out,
                                         const prism_pipeline_result *result, size_t user,
                                         size_t rank);

/* The j-th evidence item of a recommendation, strongest first. */
PRISM_API int prism_pipeline_result_evidence(prism_pipeline_entry *out,
                                             const prism_pipeline_result *result, size_t user,
                                             size_t rank, size_t j);

/* The j-th item of a user's history, oldest first (the prompt shows the present ones). */
PRISM_API int prism_pipeline_result_history(prism_pipeline_entry *out,
                                            const prism_pipeline_result *result, size_t user,
                                            size_t j);

/* The id of the j-th item the catalog lacks for a user (borrowed); NULL when out of range. */
PRISM_API const char *prism_pipeline_result_missing(const prism_pipeline_result *result,
                                                    size_t user, size_t j);

PRISM_API void prism_pipeline_result_free(prism_pipeline_result *result);

#ifdef __cplusplus
}
#endif

#endif /* PRISM_PIPELINE_H */
