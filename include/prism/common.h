/*
 * libprism — common definitions: export macro, status codes, errors, logging,
 * threads, version.
 *
 * Thread safety: every function here may be called from any thread.
 * prism_last_error() is per thread. prism_log_set() and prism_set_num_threads()
 * change process-wide state; call them before sharing handles across threads.
 *
 * Ownership: strings returned here are static or thread-local and owned by the
 * library; never free them.
 */
#ifndef PRISM_COMMON_H
#define PRISM_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <prism/version.h>

#if defined(_WIN32) && defined(PRISM_BUILDING_DLL)
#  define PRISM_API __declspec(dllexport)
#elif defined(_WIN32) && !defined(PRISM_STATIC)
#  define PRISM_API __declspec(dllimport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define PRISM_API __attribute__((visibility("default")))
#else
#  define PRISM_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Status codes. Fallible calls return PRISM_OK (0) or one of these negative
 * values. The values are pinned: a code is never renumbered or reused.
 */
typedef enum prism_status {
  PRISM_OK = 0,
  PRISM_ERR_INVALID_ARGUMENT = -1, /* a NULL, out-of-range or contradictory argument */
  PRISM_ERR_IO = -2,               /* a file could not be opened, read, mapped or written */
  PRISM_ERR_FORMAT = -3,           /* a file or buffer is malformed (JSON, safetensors, TSV...) */
  PRISM_ERR_UNSUPPORTED = -4,      /* well-formed, but a feature libprism does not implement */
  PRISM_ERR_OUT_OF_RANGE = -5,     /* an id, index or length outside its valid range */
  PRISM_ERR_BUFFER_TOO_SMALL = -6, /* a caller buffer is short; the needed size was reported */
  PRISM_ERR_NO_MEMORY = -7,        /* an allocation failed */
  PRISM_ERR_CANCELLED = -8,        /* a callback asked to stop */
  PRISM_ERR_INTERNAL = -9,         /* a broken invariant inside libprism (a bug: please report) */
  PRISM_ERR_INVALID_UTF8 = -10,    /* text input is not valid UTF-8 */
  PRISM_ERR_LIMIT = -11,           /* a configured safety limit was exceeded */
  PRISM_ERR_NOT_FOUND = -12,       /* a named file, tensor, token or id does not exist */
  PRISM_ERR_NUMERIC = -13          /* a computation produced NaN or infinity (training diverged) */
} prism_status;

/*
 * Sentinels of params structs. An integer field where 0 is a meaningful value
 * (HF's min_length, top_k, ...) is "unset" (take the default) at PRISM_UNSET;
 * a real field is unset at NaN. A token-id field that names no token (HF's
 * None, e.g. forced_bos_token_id) holds PRISM_NO_TOKEN.
 */
#define PRISM_UNSET INT32_MIN
#define PRISM_NO_TOKEN (-1)

/* A short static description of a status code ("invalid argument"). */
PRISM_API const char *prism_status_str(int status);

/* The enumerator name of a status code ("PRISM_ERR_INVALID_ARGUMENT"). */
PRISM_API const char *prism_status_name(int status);

/*
 * Detail of the most recent failure on the calling thread: names the file,
 * tensor, line or byte offset at fault. Never NULL (an empty string when no
 * call has failed on this thread). Successful calls leave it unchanged.
 */
PRISM_API const char *prism_last_error(void);

/* The status code that goes with prism_last_error() (PRISM_OK if none). */
PRISM_API int prism_last_error_status(void);

/* Runtime version: PRISM_VERSION_NUMBER and PRISM_VERSION_STRING of the library linked. */
PRISM_API int prism_version_number(void);
PRISM_API const char *prism_version_string(void);

/* Logging. The library is silent until a callback is installed. */
typedef enum prism_log_level {
  PRISM_LOG_ERROR = 0,
  PRISM_LOG_WARN = 1,
  PRISM_LOG_INFO = 2,
  PRISM_LOG_DEBUG = 3
} prism_log_level;

/* `message` is valid only during the call and has no trailing newline. */
typedef void (*prism_log_fn)(int level, const char *message, void *payload);

/* Install a process-wide log callback (NULL removes it); `payload` is passed back to it. */
PRISM_API void prism_log_set(prism_log_fn fn, void *payload);

/* Messages above `max_level` are dropped before formatting (default PRISM_LOG_INFO). */
PRISM_API void prism_log_set_level(int max_level);

/* The most worker threads prism_set_num_threads() gives: larger requests are capped. */
#define PRISM_MAX_THREADS 256

/*
 * Worker threads for libprism's kernels and for OpenBLAS (process-wide).
 * n <= 0 selects the number of online CPUs (at most PRISM_MAX_THREADS), and
 * n > PRISM_MAX_THREADS gives PRISM_MAX_THREADS. Returns the count now in effect.
 */
PRISM_API int prism_set_num_threads(int n);
PRISM_API int prism_get_num_threads(void);

/*
 * CPU features detected at run time (the kernels dispatch on those they were
 * built for; a compiler without AVX-512 support builds none), as a space-separated
 * static string of "avx2" (with FMA and F16C), "avx512" (F, BW, VL, DQ),
 * "avx512bf16", "avx512vnni" and "avx512fp16" (the last only steers the
 * choice of bfloat16 kernel) ("" on a portable build or CPU). The
 * environment variable PRISM_CPU_MASK (decimal: 1 avx2, 2 avx512,
 * 4 avx512bf16, 8 avx512vnni, 16 avx512fp16) clears features for the whole
 * process.
 */
PRISM_API const char *prism_cpu_features(void);

/*
 * Process-wide safety limits, checked before anything is allocated for an
 * input: a request or file beyond a limit fails with PRISM_ERR_LIMIT naming
 * the limit. Every limit is 0 (no cap) until set; per-call caps
 * (prism_bart_load_params.max_file_size, a session's caps) apply as well, the
 * smaller one wins. A host serving untrusted requests starts from
 * prism_limits_init_safe (the CLI and the Python bindings do).
 */
typedef struct prism_limits {
  size_t struct_size;
  uint64_t max_file_bytes;       /* any file a loader reads or maps */
  uint64_t max_text_bytes;       /* one text given to the tokenizer */
  uint32_t max_batch;            /* input rows of one generate request */
  uint32_t max_new_tokens;       /* tokens a request may add: a model default above it is
                                    clamped to it; a request that asks for more fails */
  uint32_t max_beams;            /* num_beams of a request */
  uint32_t max_return_sequences; /* num_return_sequences of a request */
  uint32_t max_decoder_rows;     /* batch x beams (or x return sequences) of a request */
  uint64_t max_decoder_tokens;   /* decoder rows x new tokens: the work of one request */
} prism_limits;

/* No caps: every limit 0, as the library starts. */
PRISM_API int prism_limits_init(prism_limits *limits, size_t struct_size);

/*
 * The caps for untrusted requests that the CLI and the Python bindings apply
 * by default (docs/security.md lists them): 1 MiB of text, 256 input rows,
 * 512 new tokens, 16 beams and return sequences, 1024 decoder rows and 2^20
 * decoder tokens per request; files uncapped.
 */
PRISM_API int prism_limits_init_safe(prism_limits *limits, size_t struct_size);

/* The limits now in effect (all 0 until prism_limits_set). */
PRISM_API int prism_limits_get(prism_limits *limits, size_t struct_size);

/* Replace the process-wide limits (fields past struct_size keep their current values). */
PRISM_API int prism_limits_set(const prism_limits *limits);

#ifdef __cplusplus
}
#endif

#endif /* PRISM_COMMON_H */
