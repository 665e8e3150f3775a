/*
 * prism run --ranker FILE --catalog TSV --interactions TSV --model DIR --out FILE.jsonl
 *           [--k N] [--users all|ID,...|@FILE] [--resume] [--batch N] [--threads N] ...
 * (the options table at the end is what the parser and --help read)
 *
 * The pipeline (docs/pipeline.md) as a batch job over a table of users: one
 * JSON line per user, written a batch at a time with one write() so a killed
 * run leaves at most one partial last line; --resume drops that line, skips
 * the users already written and appends the rest, so a killed and resumed job
 * writes the same bytes as an uninterrupted one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define OUTPUT_FLAGS (JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(9))
#define LINE_SECONDS 10.0 /* progress lines when stderr is not a terminal */

/* ---- the output file ---- */

/* Refuse a target that exists and is not a regular file (a symlink, FIFO, device, directory). */
static void check_regular(const char *path)
{
  struct stat st;
  if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
    cli_fatal("--out %s: exists and is not a regular file (a symlink, directory, FIFO or device); "
              "prism run writes only regular files",
              path);
}

/*
 * --resume: the users already complete in `path` (a JSON object used as a set). A last line
 * without its newline, left by a killed run, is cut off; a complete line that is not an output
 * line stops the run rather than be overwritten.
 */
static json_t *resume_read(int fd, const char *path, size_t *kept)
{
  json_t *done = json_object();
  struct stat st;
  char *text;
  size_t size, at = 0, line_no = 0;
  if (fstat(fd, &st) != 0)
    cli_fatal("--out %s: %s", path, strerror(errno));
  size = (size_t)st.st_size;
  if (!(text = malloc(size + 1)))
    cli_fatal("out of memory");
  for (size_t got = 0; got < size;) {
    ssize_t n = pread(fd, text + got, size - got, (off_t)got);
    if (n <= 0)
      cli_fatal("--out %s: cannot read it back: %s", path, n ? strerror(errno) : "file shrank");
    got += (size_t)n;
  }
  while (at < size) {
    char *nl = memchr(text + at, '\n', size - at);
    json_error_t err;
    json_t *line, *user;
    if (!nl)
      break; /* a partial last line */
    line_no++;
    line = json_loadb(text + at, (size_t)(nl - (text + at)), JSON_REJECT_DUPLICATES, &err);
    user = line ? json_object_get(line, "user") : NULL;
    if (!json_is_string(user))
      cli_fatal("--out %s: line %zu is not a prism run output line; not resuming over it", path,
                line_no);
    json_object_set(done, json_string_value(user), json_true());
    json_decref(line);
    at = (size_t)(nl - text) + 1;
  }
  free(text);
  if (at < size) {
    fprintf(stderr, "prism run: %s: dropping a partial last line (%zu bytes)\n", path, size - at);
    if (ftruncate(fd, (off_t)at) != 0)
      cli_fatal("--out %s: cannot cut the partial last line: %s", path, strerror(errno));
  }
  *kept = line_no;
  return done;
}

static int open_out(const char *path, int resume, json_t **done)
{
  size_t kept = 0;
  struct stat st;
  int fd;
  check_regular(path);
  fd = open(path, (resume ? O_RDWR : O_WRONLY | O_TRUNC) | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0)
    cli_fatal("--out %s: cannot open: %s", path, strerror(errno));
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    cli_fatal("--out %s: not a regular file", path);
  *done = resume ? resume_read(fd, path, &kept) : json_object();
  if (lseek(fd, 0, SEEK_END) < 0)
    cli_fatal("--out %s: %s", path, strerror(errno));
  if (resume)
    fprintf(stderr, "prism run: resuming %s: %zu users already written\n", path, kept);
  return fd;
}

/* One write per batch: a kill leaves whole lines and at most one partial last line. */
static void write_all(int fd, const char *path, const char *data, size_t size)
{
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      cli_fatal("--out %s: write failed: %s", path, n < 0 ? strerror(errno) : "no progress");
    data += n;
    size -= (size_t)n;
  }
}

/* ---- one user's line ---- */

static json_t *opt_string(const char *s)
{
  return s ? json_string(s) : json_null();
}

static json_t *evidence_json(const prism_pipeline_result *r, size_t u, size_t j, size_t n)
{
  json_t *list = json_array();
  for (size_t e = 0; e < n; e++) {
    prism_pipeline_entry en = { .struct_size = sizeof en };
    if (prism_pipeline_result_evidence(&en, r, u, j, e) != PRISM_OK)
      cli_fatal_status(prism_last_error_status(), "run: reading a result");
    json_array_append_new(list, json_pack("{s:s, s:o, s:f}", "item", en.item, "title",
                                          opt_string(en.title), "weight", (double)en.weight));
  }
  return list;
}

/* {"user", "items": [{"item", "title", "score", "evidence", "prompt", "explanation"}]} */
static json_t *user_json(const prism_pipeline_result *r, size_t u, const prism_pipeline_user *pu)
{
  json_t *items, *line;
  if (pu->status != PRISM_OK)
    return json_pack("{s:s, s:{s:s, s:s}}", "user", pu->user, "error", "code",
                     prism_status_name(pu->status), "message", pu->error);
  items = json_array();
  for (size_t j = 0; j < pu->item_count; j++) {
    prism_pipeline_item it = { .struct_size = sizeof it };
    if (prism_pipeline_result_item(&it, r, u, j) != PRISM_OK)
      cli_fatal_status(prism_last_error_status(), "run: reading a result");
    json_array_append_new(items, json_pack("{s:s, s:o, s:f, s:o, s:o, s:o}", "item", it.item,
                                           "title", opt_string(it.title), "score", (double)it.score,
                                           "evidence", evidence_json(r, u, j, it.evidence_count),
                                           "prompt", opt_string(it.prompt), "explanation",
                                           opt_string(it.explanation)));
  }
  line = json_pack("{s:s, s:o}", "user", pu->user, "items", items);
  if (pu->missing_count) {
    json_t *missing = json_array();
    for (size_t j = 0; j < pu->missing_count; j++)
      json_array_append_new(missing, json_string(prism_pipeline_result_missing(r, u, j)));
    json_object_set_new(line, "missing", missing);
  }
  return line;
}

/* ---- progress on stderr ---- */

typedef struct progress {
  size_t total, done, skipped, unknown, missing, explained;
  double start, last;
  int tty;
} progress;

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void progress_show(progress *p, int final)
{
  double t = now(), elapsed = t - p->start;
  double rate = elapsed > 0 ? (double)p->done / elapsed : 0;
  size_t left = p->total - p->skipped - p->done;
  double eta = rate > 0 ? (double)left / rate : 0;
  if (!final && t - p->last < (p->tty ? 0.2 : LINE_SECONDS))
    return;
  p->last = t;
  if (p->tty) {
    size_t width = 30, fill = p->total ? (p->skipped + p->done) * width / p->total : width;
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu users  %.1f users/s  ETA %d:%02d ", (int)fill,
            "##############################", (int)(width - fill), "", p->skipped + p->done,
            p->total, rate, (int)eta / 60, (int)eta % 60);
    if (final)
      fputc('\n', stderr);
  } else if (!final) {
    fprintf(stderr, "prism run: %zu/%zu users, %.1f users/s, ETA %.0f s\n", p->skipped + p->done,
            p->total, rate, eta);
  }
  if (final)
    fprintf(stderr,
            "prism run: %zu users in %.1f s (%.1f users/s, %.1f explanations/s); %zu skipped as "
            "already written, %zu unknown, %zu with items missing from the catalog\n",
            p->done, elapsed, rate, elapsed > 0 ? (double)p->explained / elapsed : 0, p->skipped,
            p->unknown, p->missing);
}

/* ---- the job ---- */

typedef struct job {
  prism_pipeline *pipeline;
  prism_pipeline_params params;
  int fd;
  const char *out;
  progress progress;
} job;

static void run_batch(job *jb, const char *const *users, size_t n)
{
  prism_pipeline_result *r = NULL;
  char *buf = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&buf, &len);
  int rc = prism_pipeline_run(&r, jb->pipeline, users, n, &jb->params);
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "run: the pipeline failed");
  if (!mem)
    cli_fatal("out of memory");
  for (size_t u = 0; u < n; u++) {
    prism_pipeline_user pu = { .struct_size = sizeof pu };
    json_t *line;
    if (prism_pipeline_result_user(&pu, r, u) != PRISM_OK)
      cli_fatal_status(prism_last_error_status(), "run: reading a result");
    line = user_json(r, u, &pu);
    if (!line || json_dumpf(line, mem, OUTPUT_FLAGS) != 0)
      cli_fatal("out of memory writing output");
    fputc('\n', mem);
    json_decref(line);
    if (pu.status != PRISM_OK)
      fprintf(stderr, "prism run: user \"%s\": %s\n", pu.user, pu.error);
    jb->progress.unknown += pu.status != PRISM_OK;
    jb->progress.missing += pu.missing_count > 0;
    for (size_t j = 0; j < pu.item_count; j++) {
      prism_pipeline_item it = { .struct_size = sizeof it };
      prism_pipeline_result_item(&it, r, u, j);
      jb->progress.explained += it.explanation != NULL;
    }
  }
  if (fclose(mem) != 0)
    cli_fatal("out of memory writing output");
  write_all(jb->fd, jb->out, buf, len);
  free(buf);
  prism_pipeline_result_free(r);
  jb->progress.done += n;
  progress_show(&jb->progress, 0);
}

/* What every run needs loaded; a model that cannot read the catalog fails here, at start. */
static void load(const cli_args *args, prism_ranker **ranker, prism_catalog **catalog,
                 prism_interactions **data, cli_explainer *explainer, int k)
{
  prism_catalog_params cp;
  prism_explainer_params ep;
  long batch = cli_int(args, "--batch");
  int rc;
  prism_catalog_params_init(&cp, sizeof cp);
  cp.feature_columns = cli_str(args, "--feature-columns");
  prism_explainer_params_init(&ep, sizeof ep);
  ep.max_batch = (uint32_t)((batch ? batch : (32 / k > 0 ? 32 / k : 1)) * k);
  if ((rc = prism_ranker_load(ranker, cli_str(args, "--ranker"))) != PRISM_OK)
    cli_fatal_status(rc, "run: cannot load the ranker");
  if ((rc = prism_catalog_load_tsv(catalog, cli_str(args, "--catalog"), &cp)) != PRISM_OK)
    cli_fatal_status(rc, "run: cannot load the catalog");
  if ((rc = prism_interactions_load_tsv(data, cli_str(args, "--interactions"))) != PRISM_OK)
    cli_fatal_status(rc, "run: cannot load the interactions");
  if ((rc = cli_explainer_load(explainer, args, cli_str(args, "--model"), &ep)) != PRISM_OK)
    cli_fatal_status(rc, "run: cannot load the explanation model");
}

static int run(const cli_args *args)
{
  const char *out = cli_str(args, "--out");
  int k = (int)cli_int(args, "--k");
  size_t batch = (size_t)cli_int(args, "--batch");
  prism_ranker *ranker;
  prism_catalog *catalog;
  prism_interactions *data;
  cli_explainer explainer;
  prism_generate_params gp;
  cli_user_list users;
  json_t *done, *params = NULL;
  const char **todo;
  size_t n_todo = 0;
  job jb;
  int rc;

  check_regular(out); /* before minutes of loading */
  cli_set_threads(args);
  if (cli_given(args, "--params")) {
    json_error_t err;
    params = json_loads(cli_str(args, "--params"), JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(params))
      cli_fatal("--params: expected a JSON object of generate() keywords (%s)", err.text);
  }
  if ((rc = cli_generate_params(params, &gp)) != PRISM_OK)
    cli_fatal_status(rc, "--params");
  json_decref(params);
  load(args, &ranker, &catalog, &data, &explainer, k);
  memset(&jb, 0, sizeof jb);
  if ((rc = prism_pipeline_create(&jb.pipeline, ranker, catalog, data, explainer.ex, NULL)) !=
      PRISM_OK)
    cli_fatal_status(rc, "run: cannot start");
  prism_pipeline_params_init(&jb.params, sizeof jb.params);
  jb.params.k = k;
  jb.params.evidence = (int32_t)cli_int(args, "--evidence");
  jb.params.generate = &gp;
  cli_users_read(&users, cli_str(args, "--users"), ranker);

  jb.out = out;
  jb.fd = open_out(out, cli_flag(args, "--resume"), &done);
  if (!(todo = malloc(users.count * sizeof *todo)))
    cli_fatal("out of memory");
  for (size_t i = 0; i < users.count; i++)
    if (!json_object_get(done, users.ids[i]))
      todo[n_todo++] = users.ids[i];
  jb.progress.total = users.count;
  jb.progress.skipped = users.count - n_todo;
  jb.progress.tty = isatty(STDERR_FILENO);
  jb.progress.start = jb.progress.last = now();
  if (!batch)
    batch = 32 / (size_t)k > 0 ? 32 / (size_t)k : 1;
  for (size_t first = 0; first < n_todo; first += batch)
    run_batch(&jb, todo + first, n_todo - first < batch ? n_todo - first : batch);
  if (fsync(jb.fd) != 0 || close(jb.fd) != 0)
    cli_fatal("--out %s: %s", out, strerror(errno));
  progress_show(&jb.progress, 1);

  cli_users_free(&users);
  free(todo);
  json_decref(done);
  prism_pipeline_free(jb.pipeline);
  cli_explainer_free(&explainer);
  prism_interactions_free(data);
  prism_catalog_free(catalog);
  prism_ranker_free(ranker);
  return 0;
}

static const cli_option options[] = {
  { "--ranker", CLI_TEXT, "FILE", NULL, NULL, "a ranker saved by prism rank train", 0, 0, 1 },
  { "--catalog", CLI_TEXT, "TSV", NULL, NULL,
    "the catalog: a header naming item_id, title and feature columns, one item per line", 0, 0, 1 },
  { "--interactions", CLI_TEXT, "TSV", NULL, NULL,
    "the users' histories: user<TAB>item[<TAB>value[<TAB>timestamp]], ordered by timestamp", 0, 0,
    1 },
  { "--model", CLI_DIR, "DIR", NULL, NULL, "the explanation model (a HuggingFace BART folder)", 0,
    0, 1 },
  { "--out", CLI_TEXT, "FILE", NULL, NULL, "the JSON Lines output (a regular file)", 0, 0, 1 },
  { "--k", CLI_INT, "N", "3", NULL, "recommendations per user", 1, 1000, 0 },
  { "--users", CLI_TEXT, "all|ID,...|@FILE", "all", NULL,
    "the users: all of the ranker's, a comma-separated list, or one id per line of FILE", 0, 0, 0 },
  { "--resume", CLI_FLAG, NULL, NULL, NULL,
    "skip the users already in --out and append the rest (a partial last line is dropped)", 0, 0,
    0 },
  { "--batch", CLI_INT, "N", "0", "32 / k, at least 1",
    "users per call: their k items are explained in one batched decode", 0, 100000, 0 },
  { "--evidence", CLI_INT, "N", "3", NULL, "history items of evidence per recommendation", 0, 1000,
    0 },
  { "--params", CLI_TEXT, "JSON", NULL, "the model's generation_config.json",
    "generation parameters, HF generate() names, e.g. {\"num_beams\": 2}", 0, 0, 0 },
  { "--feature-columns", CLI_TEXT, "LIST", NULL, "the first column after item_id and title",
    "catalog columns joined into an item's features text", 0, 0, 0 },
  CLI_OPTION_THREADS,
  CLI_OPTIONS_LIMITS,
  CLI_OPTIONS_WEIGHTS,
  CLI_OPTIONS_END,
};

const cli_command cli_cmd_run = {
  "run",
  "the pipeline as a batch job: rank, evidence, prompt and explanation for a table of users",
  NULL,
  "  out: one JSON line per user, in --users order: {\"user\", \"items\": [{\"item\", \"title\",\n"
  "  \"score\", \"evidence\": [{\"item\", \"title\", \"weight\"}], \"prompt\", \"explanation\"}]}, "
  "plus\n"
  "  \"missing\" (item ids the catalog lacks) when there are any; an unknown user gets\n"
  "  {\"user\", \"error\"}. Progress on stderr: a bar with users/s and ETA on a terminal,\n"
  "  a line every 10 s otherwise. A killed run resumed with --resume writes the same bytes.\n",
  "prism run --ranker ranker.safetensors --catalog examples/demo/catalog.tsv "
  "--interactions examples/demo/interactions.tsv --model examples/demo/model --k 3 "
  "--users all --out explained.jsonl",
  options,
  run,
};
