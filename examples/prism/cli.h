/*
 * The prism command-line tool: shared helpers. Every command reads JSON Lines
 * on stdin and writes one JSON line per input line, in order; a bad line gets
 * {"error": {"code", "message"}} naming its line number and processing
 * continues; a fatal error prints "prism: error: ..." on stderr and exits 1.
 *
 * Each command is one cli_command: its options are one table that both the
 * parser and --help read, so the help cannot list an option the parser does
 * not take, nor miss one it does.
 */
#ifndef PRISM_CLI_H
#define PRISM_CLI_H

#include <jansson.h>
#include <limits.h>

#include <prism/prism.h>

/* How an option's value is read and checked. */
typedef enum cli_kind {
  CLI_FLAG,   /* no value: present or not */
  CLI_TEXT,   /* any string */
  CLI_DIR,    /* an existing directory */
  CLI_INT,    /* an integer in [lo, hi] */
  CLI_REAL,   /* a finite number */
  CLI_LIST,   /* any string, and the option may be given several times (cli_list) */
  CLI_THREADS /* worker threads: 0 (one per online CPU) to PRISM_MAX_THREADS */
} cli_kind;

typedef struct cli_option {
  const char *name; /* "--model" */
  cli_kind kind;
  const char *arg;      /* the value's placeholder in the help ("DIR"); NULL for a flag */
  const char *def;      /* the value taken when absent, checked as a given one; NULL: none */
  const char *def_text; /* the default as the help shows it, when `def` does not say it */
  const char *help;     /* one line */
  long lo, hi;          /* CLI_INT */
  int required;
} cli_option;

/* The end of an option table. */
#define CLI_OPTIONS_END \
  { \
    .name = NULL \
  }

#define CLI_STR_(x) #x
#define CLI_STR(x) CLI_STR_(x)

/* The option every command that computes takes. */
#define CLI_OPTION_THREADS \
  { \
    "--threads", CLI_THREADS, "N", "0", "0 = one per online CPU", \
        "worker threads for libprism and OpenBLAS, at most " CLI_STR(PRISM_MAX_THREADS), 0, 0, 0 \
  }

/* Reduced-precision weights at load (PRISM_BART_LOAD_*), for every command that loads a model. */
#define CLI_OPTION_BF16 \
  { \
    "--bf16-weights", CLI_FLAG, NULL, NULL, NULL, \
        "load the model with bfloat16 weights (half the bytes to stream, reduced precision; see " \
        "docs/performance.md)", \
        0, 0, 0 \
  }
#define CLI_OPTION_INT8 \
  { \
    "--int8-weights", CLI_FLAG, NULL, NULL, NULL, \
        "load the model with int8 weights (a quarter of the bytes, reduced precision; see " \
        "docs/performance.md)", \
        0, 0, 0 \
  }
#define CLI_OPTIONS_WEIGHTS CLI_OPTION_BF16, CLI_OPTION_INT8

/*
 * The process-wide safety limits (prism_limits), for every command that serves
 * requests. The CLI starts from prism_limits_init_safe; each --limit-* given
 * replaces one cap (0 lifts it). The help shows the safe caps as defaults.
 */
#define CLI_OPTION_LIMIT(flag, def, what) \
  { \
    flag, CLI_INT, "N", NULL, def, what "; 0: no cap", 0, LONG_MAX, 0 \
  }
#define CLI_OPTIONS_LIMITS \
  CLI_OPTION_LIMIT("--limit-file-bytes", "0", "bytes of any file a loader reads or maps"), \
      CLI_OPTION_LIMIT("--limit-text-bytes", "1048576", \
                       "bytes of one text given to the tokenizer"), \
      CLI_OPTION_LIMIT("--limit-batch", "256", "input rows of one generate request"), \
      CLI_OPTION_LIMIT("--limit-new-tokens", "512", \
                       "tokens a request may add (a model default above it is clamped)"), \
      CLI_OPTION_LIMIT("--limit-beams", "16", "num_beams of a request"), \
      CLI_OPTION_LIMIT("--limit-return-sequences", "16", "num_return_sequences of a request"), \
      CLI_OPTION_LIMIT("--limit-decoder-rows", "1024", "batch x beams of a request"), \
      CLI_OPTION_LIMIT("--limit-decoder-tokens", "1048576", \
                       "decoder rows x new tokens of a request (its work)")

#define CLI_MAX_OPTIONS 48

struct cli_args;

typedef struct cli_command {
  const char *name;          /* "generate", "rank train" */
  const char *summary;       /* one line, for prism --help */
  const char *input;         /* what the usage line ends with ("< requests.jsonl"), or NULL */
  const char *details;       /* lines of what it reads and writes, or NULL */
  const char *example;       /* one shell command line */
  const cli_option *options; /* ends with an entry whose name is NULL */
  int (*run)(const struct cli_args *args); /* returns the exit status */
} cli_command;

/* A parsed command line: per option of cmd->options, its value (or default) and whether given. */
typedef struct cli_args {
  const cli_command *cmd;
  const char *value[CLI_MAX_OPTIONS]; /* a CLI_LIST option: its last value */
  int given[CLI_MAX_OPTIONS];         /* how many times */
  int argc;                           /* the words parsed, for cli_list */
  char **argv;
} cli_args;

/*
 * Parse argv (the words after the command's name) against cmd's table: an
 * unknown option, a missing value, a stray argument, a value outside its kind
 * or a missing required option is fatal; --help (or -h) prints the help on
 * stdout and exits 0 once every word is a known option.
 */
void cli_parse(cli_args *args, const cli_command *cmd, int argc, char **argv);
/* The command's help: usage, what it reads and writes, every option with its default, an example. */
void cli_print_help(FILE *out, const cli_command *cmd);

/* An option's value (given, else the default; NULL when neither); the name must be in the table. */
const char *cli_str(const cli_args *args, const char *name);
int cli_given(const cli_args *args, const char *name);
/* Every value of a CLI_LIST option in command-line order: a new NULL-terminated array of
   borrowed strings (free the array), *n their count. */
const char **cli_list(const cli_args *args, const char *name, size_t *n);
int cli_flag(const cli_args *args, const char *name);
long cli_int(const cli_args *args, const char *name);
double cli_real(const cli_args *args, const char *name);
/* Apply --threads (prism_set_num_threads). */
void cli_set_threads(const cli_args *args);

/*
 * The safe caps of prism_limits_init_safe, then every --limit-* option the
 * command takes and was given. main() calls it for every command.
 */
void cli_apply_limits(const cli_args *args);

/* The PRISM_BART_LOAD_* flags of --bf16-weights / --int8-weights (fatal when both are given). */
uint32_t cli_load_flags(const cli_args *args);

/*
 * An explainer over the tokenizer and model of `model_dir`, the model loaded
 * with cli_load_flags(args). Free it with cli_explainer_free (which frees what
 * it loaded). Returns a PRISM_* status.
 */
typedef struct cli_explainer {
  prism_explainer *ex;
  prism_tokenizer *tok;
  prism_bart *model;
} cli_explainer;

int cli_explainer_load(cli_explainer *out, const cli_args *args, const char *model_dir,
                       const prism_explainer_params *params);
void cli_explainer_free(cli_explainer *e);

/* Print "prism: error: <msg>" on stderr and exit 1. */
void cli_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Same, with the library's last error appended. */
void cli_fatal_status(int status, const char *what) __attribute__((noreturn));

/* Write one compact JSON line to stdout (takes ownership of `value`) and flush. */
void cli_emit(json_t *value);
/* Write {"error": {"code": <status name>, "message": "line N: <msg>"}} for the current line. */
void cli_emit_error(int status, const char *message);
/* Write the library's last error for `status` as an error line. */
void cli_emit_last_error(int status);

/*
 * Read stdin line by line; parse each as a JSON object (a key given twice is
 * an error) and call `fn`; an unparsable line is answered with an error line.
 * Blank lines are skipped. `fn` writes exactly one line per call.
 */
void cli_each_line(void (*fn)(json_t *line, void *ctx), void *ctx);

/* 0 when every key of `line` is one of the NULL-terminated `allowed`; else -1 and `err`. */
int cli_check_keys(const json_t *line, const char *const *allowed, char *err, size_t err_size);

/* Read a JSON array of integers into a new int32 array; returns 0 on success. */
int cli_int_array(const json_t *array, int **out, size_t *count, char *err, size_t err_size);

/* Generation params from an optional JSON object of HF generate() keywords. */
int cli_generate_params(const json_t *value, prism_generate_params *p);

/* A list of user ids (owned), in the order given, each once. */
typedef struct cli_user_list {
  char **ids;
  size_t count, cap;
} cli_user_list;

/*
 * --users: "all" (the ranker's users, in its order), "@FILE" (one id per line)
 * or "ID,ID,..."; an id listed twice is taken once (with a note on stderr); no
 * users at all is fatal.
 */
void cli_users_read(cli_user_list *l, const char *spec, const prism_ranker *ranker);
void cli_users_free(cli_user_list *l);

/* A whole file ("-": standard input), NUL-terminated; *len its size. Fatal on any error. */
char *cli_read_all(const char *path, size_t *len);

/* The commands. */
extern const cli_command cli_cmd_version, cli_cmd_demo, cli_cmd_generate, cli_cmd_tokenize,
    cli_cmd_detokenize, cli_cmd_tokenizer_train, cli_cmd_explain, cli_cmd_rank_train,
    cli_cmd_rank_recommend, cli_cmd_rank_eval, cli_cmd_eval_text, cli_cmd_run, cli_cmd_train,
    cli_cmd_teacher_prompts, cli_cmd_teacher_import;

#endif
