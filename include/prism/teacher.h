/*
 * libprism — the teacher side of distillation: the prompts a teacher LLM
 * answers, and its answers made into the student's training pairs.
 *
 * Prism distils a large teacher into a small student offline. For each
 * (history, recommended item) the teacher reads a faithfulness-constrained
 * prompt: explain the recommendation from the user's history alone, linking
 * the item's features to patterns in that history, naming only what the
 * prompt shows. Its answer becomes the target of a training pair whose source
 * is the student's own prompt — the one prism_pipeline_run and `prism run`
 * render at serving time. Answers that name catalog titles their prompt did
 * not show can be dropped (the noise filter), with the faithfulness matcher
 * of <prism/metrics.h>. docs/train.md walks through the whole workflow,
 * docs/formats.md has the JSON Lines formats.
 *
 * A prism_teacher_requests set holds the requests: each an id, the teacher's
 * prompt, the student's prompt, the recommended item and the history and
 * evidence entries the prompts show. It is filled one (history, item,
 * evidence) at a time, from a pipeline result (every recommendation that has
 * a prompt), or from the JSON Lines it writes. A prism_teacher_import matches
 * answers to requests by id and keeps one training pair per answered request.
 *
 * Thread safety: a requests set or an import is used by one thread at a time
 * while it is filled; once filled, its read-only calls (_count, _get, _line,
 * _pair, _drop) may run on any number of threads.
 *
 * Ownership: objects returned through `**out` belong to the caller (free them
 * with their _free; NULL is a no-op). Strings passed in are copied. Strings
 * returned in output structs are borrowed from the set or import and live
 * until it is freed (a requests set's also until prism_teacher_requests_sample).
 * An import borrows its requests set, which must outlive it and not change
 * while it exists.
 */
#ifndef PRISM_TEACHER_H
#define PRISM_TEACHER_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "explain.h"
#include "pipeline.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The default teacher prompt (docs/train.md shows it): the instruction to
 * explain solely from the history shown, then the history, the evidence and
 * the recommended item with their features, each entry "{title}
 * ({features})". Its lists and limits are those of prism_prompt_format_init.
 */
PRISM_API int prism_teacher_format_init(prism_prompt_format *format, size_t struct_size);

/* How requests are rendered. */
typedef struct prism_teacher_params {
  size_t struct_size;
  const prism_prompt_format *teacher_format; /* NULL: prism_teacher_format_init's */
  const prism_prompt_format *student_format; /* NULL: prism_prompt_format_init's (the demo
                                                student's, what prism_pipeline renders) */
} prism_teacher_params;

PRISM_API int prism_teacher_params_init(prism_teacher_params *params, size_t struct_size);

/* ---- requests ---------------------------------------------------------------------------- */

typedef struct prism_teacher_requests prism_teacher_requests;

/* An empty set; `params` NULL: the default teacher and student formats (copied). */
PRISM_API int prism_teacher_requests_create(prism_teacher_requests **out,
                                            const prism_teacher_params *params);

PRISM_API void prism_teacher_requests_free(prism_teacher_requests *requests);

/*
 * Add one request. The lists are cut as the student's format cuts them (its
 * last max_history history entries, its first max_evidence evidence entries),
 * so the teacher never sees an item its student will not; both prompts are
 * rendered from what is left. `id` is non-empty UTF-8 and unique in the set
 * (NULL: the request's number, from 1, as a string). The item needs a
 * non-empty title; NULL titles or features of list entries read as empty.
 */
PRISM_API int prism_teacher_requests_add(prism_teacher_requests *requests, const char *id,
                                         const prism_prompt_item *history, size_t n_history,
                                         const prism_prompt_item *item,
                                         const prism_prompt_item *evidence, size_t n_evidence);

/*
 * Add every recommendation of a pipeline result that has a prompt (the
 * catalog knows the item), users in order, best item first; its id is
 * "<user>/<item id>", and the lists are the user's history and the item's
 * evidence that the catalog knows. All or nothing: on failure (an id already
 * in the set) nothing is added.
 */
PRISM_API int prism_teacher_requests_add_result(prism_teacher_requests *requests,
                                                const prism_pipeline_result *result);

/*
 * Add the requests of a JSON Lines file written from a set (docs/formats.md),
 * as they are: nothing is rendered again. All or nothing: a bad line fails with
 * PRISM_ERR_FORMAT naming the file and line, and nothing is added.
 */
PRISM_API int prism_teacher_requests_load(prism_teacher_requests *requests, const char *path);

/* The same from memory; `what` names the data in messages (NULL: "requests"). */
PRISM_API int prism_teacher_requests_parse(prism_teacher_requests *requests, const char *data,
                                           size_t len, const char *what);

/*
 * Keep `n` requests drawn uniformly without replacement with `seed`, in their
 * order; n >= the count keeps all. The same set, n and seed keep the same ones.
 */
PRISM_API int prism_teacher_requests_sample(prism_teacher_requests *requests, size_t n,
                                            uint64_t seed);

/* Requests in the set; 0 for NULL. */
PRISM_API size_t prism_teacher_requests_count(const prism_teacher_requests *requests);

/* One request (an output struct the caller sizes: `r.struct_size = sizeof r`). */
typedef struct prism_teacher_request {
  size_t struct_size;
  const char *id;
  const char *prompt;     /* the teacher's prompt */
  const char *source;     /* the student's prompt: the training pair's source */
  const char *user;       /* the user, from a pipeline result; else NULL */
  const char *item_id;    /* the item's id, from a pipeline result; else NULL */
  prism_prompt_item item; /* the recommended item */
  size_t history_count;   /* history entries the prompts show, oldest first */
  size_t evidence_count;  /* evidence entries the prompts show, strongest first */
} prism_teacher_request;

PRISM_API int prism_teacher_requests_get(prism_teacher_request *out,
                                         const prism_teacher_requests *requests, size_t index);

/* The j-th history / evidence entry of a request (strings borrowed; "" for none). */
PRISM_API int prism_teacher_requests_history(prism_prompt_item *out,
                                             const prism_teacher_requests *requests, size_t index,
                                             size_t j);
PRISM_API int prism_teacher_requests_evidence(prism_prompt_item *out,
                                              const prism_teacher_requests *requests, size_t index,
                                              size_t j);

/*
 * A request as one line of JSON (docs/formats.md), without the newline, into
 * `buf` (NUL-terminated); *len receives its length. A NULL buf (capacity 0)
 * only measures; a short one is PRISM_ERR_BUFFER_TOO_SMALL.
 */
PRISM_API int prism_teacher_requests_line(char *buf, size_t capacity, size_t *len,
                                          const prism_teacher_requests *requests, size_t index);

/* ---- answers -> training pairs ----------------------------------------------------------- */

typedef struct prism_teacher_import prism_teacher_import;

/* Why an answer was, or was not, kept. */
typedef enum prism_teacher_verdict {
  PRISM_TEACHER_KEPT = 0,        /* a training pair */
  PRISM_TEACHER_FAILED = 1,      /* the answer reports an error instead of a text */
  PRISM_TEACHER_EMPTY = 2,       /* the text is empty or white space */
  PRISM_TEACHER_UNKNOWN_ID = 3,  /* no request has its id */
  PRISM_TEACHER_DUPLICATE = 4,   /* its request already has a kept answer */
  PRISM_TEACHER_HALLUCINATED = 5 /* dropped for naming a catalog title its prompt did not show
                                    (only with drop_hallucinated; without it such an answer is
                                    kept and its pair flagged) */
} prism_teacher_verdict;

typedef struct prism_teacher_import_params {
  size_t struct_size;
  const char *answer_key;    /* the answer's key in an answer line; NULL: "explanation" */
  int32_t drop_hallucinated; /* nonzero: drop answers that name a catalog title their prompt did
                                not show; 0 (default): keep them (they are still counted) */
  const char *const *titles; /* the catalog's titles (copied), besides those the requests show;
                                empty ones are skipped; NULL: the requests' titles only */
  size_t n_titles;
} prism_teacher_import_params;

PRISM_API int prism_teacher_import_params_init(prism_teacher_import_params *params,
                                               size_t struct_size);

/* An import over the requests set (borrowed; it must not change while the import exists). */
PRISM_API int prism_teacher_import_create(prism_teacher_import **out,
                                          const prism_teacher_requests *requests,
                                          const prism_teacher_import_params *params);

PRISM_API void prism_teacher_import_free(prism_teacher_import *import);

/*
 * One answer to the request `id`: `text` is the teacher's answer (leading and
 * trailing white space is trimmed), NULL when the teacher failed. The verdict
 * (prism_teacher_verdict) goes to *verdict (may be NULL). An answer to a
 * request whose earlier answer was dropped may still be kept (a retry).
 */
PRISM_API int prism_teacher_import_add(int *verdict, prism_teacher_import *import, const char *id,
                                       const char *text);

/*
 * Add the answers of a JSON Lines file: per line an object with "id" (a string,
 * or an integer read as its decimal string) and the answer under answer_key (a
 * string), or without it an "error" (the teacher failed; any value). Other
 * keys are ignored and blank lines skipped. All or nothing: a malformed line
 * fails with PRISM_ERR_FORMAT naming the file and line, and nothing is added.
 */
PRISM_API int prism_teacher_import_load(prism_teacher_import *import, const char *path);

/* The same from memory; `what` names the data in messages (NULL: "answers"). */
PRISM_API int prism_teacher_import_parse(prism_teacher_import *import, const char *data, size_t len,
                                         const char *what);

/* Counts so far (an output struct the caller sizes). */
typedef struct prism_teacher_import_stats {
  size_t struct_size;
  uint64_t requests;     /* in the requests set */
  uint64_t answers;      /* answers added */
  uint64_t pairs;        /* requests with a kept answer: the training pairs */
  uint64_t unanswered;   /* requests without a kept answer */
  uint64_t dropped;      /* answers not kept: the sum of the four below, and of hallucinated
                            with drop_hallucinated */
  uint64_t failed;       /* answers reporting an error */
  uint64_t empty;        /* empty answers */
  uint64_t unknown_id;   /* answers to no request */
  uint64_t duplicate;    /* answers to a request that already had a kept one */
  uint64_t hallucinated; /* answers naming a catalog title their prompt did not show */
} prism_teacher_import_stats;

PRISM_API int prism_teacher_import_get_stats(prism_teacher_import_stats *out,
                                             const prism_teacher_import *import);

/* Training pairs: requests with a kept answer; 0 for NULL. */
PRISM_API size_t prism_teacher_import_count(const prism_teacher_import *import);

/* One training pair, in the order of the requests (an output struct the caller sizes). */
typedef struct prism_teacher_pair {
  size_t struct_size;
  const char *id;     /* the request's */
  const char *source; /* the student's prompt */
  const char *target; /* the teacher's answer, trimmed */
  int hallucinated;   /* 1: it names a catalog title its prompt did not show */
} prism_teacher_pair;

PRISM_API int prism_teacher_import_pair(prism_teacher_pair *out, const prism_teacher_import *import,
                                        size_t index);

/*
 * A training pair as one line of JSON, {"id", "source", "target"} — what
 * prism_pairs_load and `prism train` read — into `buf` as
 * prism_teacher_requests_line writes.
 */
PRISM_API int prism_teacher_import_pair_line(char *buf, size_t capacity, size_t *len,
                                             const prism_teacher_import *import, size_t index);

/* Answers that made no training pair (hallucinated ones only with drop_hallucinated). */
PRISM_API size_t prism_teacher_import_drop_count(const prism_teacher_import *import);

typedef struct prism_teacher_drop {
  size_t struct_size;
  const char *id;   /* as the answer gave it */
  int verdict;      /* prism_teacher_verdict: why */
  size_t line;      /* the answer's line in its file; 0 for prism_teacher_import_add */
  const char *text; /* the answer, trimmed; NULL when the teacher failed */
} prism_teacher_drop;

/* The index-th dropped answer, in the order added. */
PRISM_API int prism_teacher_import_drop(prism_teacher_drop *out, const prism_teacher_import *import,
                                        size_t index);

/* The verdict's name: "kept", "failed", "empty", "unknown_id", "duplicate", "hallucinated". */
PRISM_API const char *prism_teacher_verdict_name(int verdict);

#ifdef __cplusplus
}
#endif

#endif /* PRISM_TEACHER_H */
