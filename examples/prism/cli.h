/*
 * The prism command-line tool: shared helpers. Every command reads JSON Lines
 * on stdin and writes one JSON line per input line, in order; a bad line gets
 * {"error": {"code", "message"}} and processing continues; a fatal error prints
 * "prism: error: ..." on stderr and exits 1.
 */
#ifndef PRISM_CLI_H
#define PRISM_CLI_H

#include <jansson.h>

#include <prism/prism.h>

typedef struct cli_args {
  int argc;
  char **argv;
  int *used; /* per argv entry: consumed by an option lookup */
} cli_args;

/* A command: returns the process exit status. */
typedef int (*cli_command_fn)(cli_args *args);

/* Value of "--name VALUE" (or "--name=VALUE"); NULL when absent. */
const char *cli_opt(cli_args *args, const char *name);
/* 1 when the flag "--name" is present. */
int cli_flag(cli_args *args, const char *name);
/* Integer option with a default; exits with a usage error when malformed or outside [lo, hi]. */
long cli_opt_long(cli_args *args, const char *name, long def, long lo, long hi);
double cli_opt_double(cli_args *args, const char *name, double def);
/* Exit with a usage error naming any argument no lookup consumed. */
void cli_no_extra(cli_args *args);

/* Print "prism: error: <msg>" on stderr and exit 1. */
void cli_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Same, with the library's last error appended. */
void cli_fatal_status(int status, const char *what) __attribute__((noreturn));

/* Write one compact JSON line to stdout (takes ownership of `value`) and flush. */
void cli_emit(json_t *value);
/* Write {"error": {"code": <status name>, "message": <msg>}}. */
void cli_emit_error(int status, const char *message);
/* Write the library's last error for `status` as an error line. */
void cli_emit_last_error(int status);

/*
 * Read stdin line by line; parse each as a JSON object and call `fn`; an
 * unparsable line is answered with an error line. Blank lines are skipped.
 * `fn` writes exactly one line per call.
 */
void cli_each_line(void (*fn)(json_t *line, void *ctx), void *ctx);

/* Read a JSON array of integers into a new int32 array; returns 0 on success. */
int cli_int_array(const json_t *array, int **out, size_t *count, char *err, size_t err_size);

/* Generation params from an optional JSON object of HF generate() keywords. */
int cli_generate_params(const json_t *value, prism_generate_params *p);

/* The commands. */
int cli_cmd_version(cli_args *args);
int cli_cmd_demo(cli_args *args);
int cli_cmd_generate(cli_args *args);
int cli_cmd_tokenize(cli_args *args);
int cli_cmd_detokenize(cli_args *args);
int cli_cmd_explain(cli_args *args);
int cli_cmd_rank(cli_args *args);
int cli_cmd_tokenizer_train(cli_args *args);
int cli_cmd_eval_text(cli_args *args);

#endif
