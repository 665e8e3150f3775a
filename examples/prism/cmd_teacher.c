/*
 * prism teacher-prompts: the teacher's prompts, one JSON line per request, for
 * (history, item, evidence) lines on stdin or for a ranker's recommendations.
 * prism teacher-import: the teacher's answers made into training pairs.
 * (docs/train.md walks through the workflow; docs/formats.md has the lines.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- shared ---- */

static prism_catalog *load_catalog(const cli_args *args, const char *what)
{
  prism_catalog_params cp;
  prism_catalog *catalog = NULL;
  int rc;
  if (!cli_given(args, "--catalog"))
    return NULL;
  prism_catalog_params_init(&cp, sizeof cp);
  if (cli_given(args, "--feature-columns"))
    cp.feature_columns = cli_str(args, "--feature-columns");
  if ((rc = prism_catalog_load_tsv(&catalog, cli_str(args, "--catalog"), &cp)) != PRISM_OK)
    cli_fatal_status(rc, what);
  return catalog;
}

/* A line the library writes, sized first. */
typedef int (*line_fn)(char *buf, size_t capacity, size_t *len, const void *set, size_t index);

static void put_line(FILE *out, line_fn fn, const void *set, size_t index)
{
  static char *buf;
  static size_t cap;
  size_t len;
  int rc = fn(NULL, 0, &len, set, index);
  if (rc == PRISM_OK && len + 1 > cap) {
    cap = 2 * (len + 1);
    if (!(buf = realloc(buf, cap)))
      cli_fatal("out of memory");
  }
  if (rc == PRISM_OK)
    rc = fn(buf, cap, &len, set, index);
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "writing a line");
  fwrite(buf, 1, len, out);
  fputc('\n', out);
}

static int request_line(char *buf, size_t capacity, size_t *len, const void *set, size_t index)
{
  return prism_teacher_requests_line(buf, capacity, len, set, index);
}

static int pair_line(char *buf, size_t capacity, size_t *len, const void *set, size_t index)
{
  return prism_teacher_import_pair_line(buf, capacity, len, set, index);
}

/* ---- teacher-prompts ---- */

typedef struct prompts_ctx {
  prism_teacher_requests *requests;
  const prism_catalog *catalog;
} prompts_ctx;

/* An entry: [title, features], or an item id the catalog knows. */
static int read_entry(prism_prompt_item *out, const prompts_ctx *c, const json_t *v,
                      const char *what, char *err, size_t err_size)
{
  if (json_is_array(v) && json_array_size(v) == 2 && json_is_string(json_array_get(v, 0)) &&
      json_is_string(json_array_get(v, 1))) {
    out->title = json_string_value(json_array_get(v, 0));
    out->features = json_string_value(json_array_get(v, 1));
    return PRISM_OK;
  }
  if (!json_is_string(v)) {
    snprintf(err, err_size, "%s: expected [title, features] or an item id", what);
    return PRISM_ERR_FORMAT;
  }
  if (!c->catalog) {
    snprintf(err, err_size, "%s: the item id \"%.100s\" needs --catalog", what,
             json_string_value(v));
    return PRISM_ERR_INVALID_ARGUMENT;
  }
  if (prism_catalog_find(out, c->catalog, json_string_value(v)) != PRISM_OK) {
    snprintf(err, err_size, "%s: the catalog has no item \"%.100s\"", what, json_string_value(v));
    return PRISM_ERR_NOT_FOUND;
  }
  return PRISM_OK;
}

/* An optional list of entries into a new array. */
static int read_list(prism_prompt_item **out, size_t *n, const prompts_ctx *c, const json_t *line,
                     const char *key, char *err, size_t err_size)
{
  const json_t *v = json_object_get(line, key);
  char what[64];
  *out = NULL;
  *n = 0;
  if (!v)
    return PRISM_OK;
  if (!json_is_array(v)) {
    snprintf(err, err_size, "\"%s\" must be a list", key);
    return PRISM_ERR_FORMAT;
  }
  if (!(*out = calloc(json_array_size(v) + 1, sizeof **out)))
    cli_fatal("out of memory");
  for (size_t j = 0; j < json_array_size(v); j++) {
    int rc;
    snprintf(what, sizeof what, "%s[%zu]", key, j);
    if ((rc = read_entry(&(*out)[j], c, json_array_get(v, j), what, err, err_size)) != PRISM_OK)
      return rc;
  }
  *n = json_array_size(v);
  return PRISM_OK;
}

static void prompts_line(json_t *line, void *payload)
{
  static const char *const keys[] = { "id", "history", "item", "evidence", NULL };
  prompts_ctx *c = payload;
  prism_prompt_item item = { NULL, NULL }, *history = NULL, *evidence = NULL;
  size_t n_history = 0, n_evidence = 0;
  const json_t *id = json_object_get(line, "id");
  char err[256], number[32];
  const char *id_text = NULL;
  int rc = cli_check_keys(line, keys, err, sizeof err) == 0 ? PRISM_OK : PRISM_ERR_FORMAT;
  if (rc == PRISM_OK && id && !json_is_string(id) && !json_is_integer(id)) {
    snprintf(err, sizeof err, "\"id\" must be a string or an integer");
    rc = PRISM_ERR_FORMAT;
  } else if (json_is_integer(id)) {
    snprintf(number, sizeof number, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
    id_text = number;
  } else if (id) {
    id_text = json_string_value(id);
  }
  if (rc == PRISM_OK && !json_object_get(line, "item")) {
    snprintf(err, sizeof err, "\"item\" is missing");
    rc = PRISM_ERR_FORMAT;
  }
  if (rc == PRISM_OK)
    rc = read_entry(&item, c, json_object_get(line, "item"), "item", err, sizeof err);
  if (rc == PRISM_OK)
    rc = read_list(&history, &n_history, c, line, "history", err, sizeof err);
  if (rc == PRISM_OK)
    rc = read_list(&evidence, &n_evidence, c, line, "evidence", err, sizeof err);
  if (rc != PRISM_OK) {
    cli_emit_error(rc, err);
  } else if ((rc = prism_teacher_requests_add(c->requests, id_text, history, n_history, &item,
                                              evidence, n_evidence)) != PRISM_OK) {
    cli_emit_last_error(rc);
  } else {
    put_line(stdout, request_line, c->requests, prism_teacher_requests_count(c->requests) - 1);
    fflush(stdout);
  }
  free(history);
  free(evidence);
}

/* The teacher's template from --template FILE (the rest of the default format kept). */
static char *read_template(const cli_args *args, prism_prompt_format *f)
{
  size_t len;
  char *text;
  prism_teacher_format_init(f, sizeof *f);
  if (!cli_given(args, "--template"))
    return NULL;
  text = cli_read_all(cli_str(args, "--template"), &len);
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
    text[--len] = '\0';
  f->template_text = text;
  return text;
}

/* Recommendations of a ranker, users in batches, prompts only. */
static void from_ranker(const cli_args *args, prism_teacher_requests *requests,
                        const prism_catalog *catalog)
{
  prism_ranker *ranker = NULL;
  prism_interactions *data = NULL;
  prism_pipeline *pipeline = NULL;
  prism_pipeline_params pp;
  cli_user_list users;
  size_t batch = 256;
  int rc;
  if (!catalog || !cli_given(args, "--interactions"))
    cli_fatal("teacher-prompts: --ranker needs --catalog and --interactions");
  if ((rc = prism_ranker_load(&ranker, cli_str(args, "--ranker"))) != PRISM_OK)
    cli_fatal_status(rc, "teacher-prompts: cannot load the ranker");
  if ((rc = prism_interactions_load_tsv(&data, cli_str(args, "--interactions"))) != PRISM_OK)
    cli_fatal_status(rc, "teacher-prompts: cannot load the interactions");
  if ((rc = prism_pipeline_create(&pipeline, ranker, catalog, data, NULL, NULL)) != PRISM_OK)
    cli_fatal_status(rc, "teacher-prompts: cannot start");
  prism_pipeline_params_init(&pp, sizeof pp);
  pp.k = (int32_t)cli_int(args, "--k");
  pp.evidence = (int32_t)cli_int(args, "--evidence");
  cli_users_read(&users, cli_str(args, "--users"), ranker);
  for (size_t first = 0; first < users.count; first += batch) {
    prism_pipeline_result *r = NULL;
    size_t n = users.count - first < batch ? users.count - first : batch;
    rc = prism_pipeline_run(&r, pipeline, (const char *const *)users.ids + first, n, &pp);
    if (rc == PRISM_OK)
      rc = prism_teacher_requests_add_result(requests, r);
    prism_pipeline_result_free(r);
    if (rc != PRISM_OK)
      cli_fatal_status(rc, "teacher-prompts");
  }
  if (cli_given(args, "--sample") &&
      (rc = prism_teacher_requests_sample(requests, (size_t)cli_int(args, "--sample"),
                                          (uint64_t)cli_int(args, "--seed"))) != PRISM_OK)
    cli_fatal_status(rc, "teacher-prompts: --sample");
  for (size_t i = 0; i < prism_teacher_requests_count(requests); i++)
    put_line(stdout, request_line, requests, i);
  fprintf(stderr, "prism teacher-prompts: %zu requests for %zu users\n",
          prism_teacher_requests_count(requests), users.count);
  cli_users_free(&users);
  prism_pipeline_free(pipeline);
  prism_interactions_free(data);
  prism_ranker_free(ranker);
}

static int run_prompts(const cli_args *args)
{
  prism_teacher_params tp;
  prism_prompt_format teacher;
  prism_teacher_requests *requests = NULL;
  prism_catalog *catalog;
  char *template_text;
  int rc;
  if (!cli_given(args, "--ranker") && (cli_given(args, "--interactions") ||
                                       cli_given(args, "--sample") || cli_given(args, "--users")))
    cli_fatal("teacher-prompts: --interactions, --users and --sample go with --ranker");
  cli_set_threads(args);
  template_text = read_template(args, &teacher);
  prism_teacher_params_init(&tp, sizeof tp);
  tp.teacher_format = &teacher;
  if ((rc = prism_teacher_requests_create(&requests, &tp)) != PRISM_OK)
    cli_fatal_status(rc, "teacher-prompts: --template");
  catalog = load_catalog(args, "teacher-prompts: cannot load the catalog");
  if (cli_given(args, "--ranker")) {
    from_ranker(args, requests, catalog);
  } else {
    prompts_ctx c = { requests, catalog };
    cli_each_line(prompts_line, &c);
  }
  if (fflush(stdout) != 0)
    cli_fatal("teacher-prompts: cannot write the output: %s", strerror(errno));
  prism_teacher_requests_free(requests);
  prism_catalog_free(catalog);
  free(template_text);
  return 0;
}

static const cli_option prompts_options[] = {
  { "--catalog", CLI_TEXT, "TSV", NULL, "none",
    "item ids to titles and features: entries given as ids, and --ranker's items", 0, 0, 0 },
  { "--feature-columns", CLI_TEXT, "LIST", NULL, "the first column after item_id and title",
    "catalog columns joined into an item's features text", 0, 0, 0 },
  { "--ranker", CLI_TEXT, "FILE", NULL, "none (read stdin)",
    "requests for this ranker's recommendations instead of stdin", 0, 0, 0 },
  { "--interactions", CLI_TEXT, "TSV", NULL, "none", "the users' histories (with --ranker)", 0, 0,
    0 },
  { "--users", CLI_TEXT, "all|ID,...|@FILE", "all", NULL, "the users (with --ranker)", 0, 0, 0 },
  { "--k", CLI_INT, "N", "3", NULL, "recommendations per user (with --ranker)", 1, 1000, 0 },
  { "--evidence", CLI_INT, "N", "3", NULL, "evidence items per recommendation (with --ranker)", 0,
    1000, 0 },
  { "--sample", CLI_INT, "N", NULL, "all of them",
    "keep N (user, item) requests drawn at random (with --ranker)", 0, 1L << 40, 0 },
  { "--seed", CLI_INT, "N", "42", NULL, "the draw of --sample", 0, 1L << 62, 0 },
  { "--template", CLI_TEXT, "FILE", NULL, "the built-in faithfulness-constrained prompt",
    "the teacher's template: {history}, {evidence}, {item}, {item_features}", 0, 0, 0 },
  CLI_OPTION_THREADS,
  CLI_OPTIONS_END,
};

const cli_command cli_cmd_teacher_prompts = {
  "teacher-prompts",
  "render the teacher's prompts for (history, item) pairs: JSON Lines to send to an LLM",
  "[< situations.jsonl]",
  "  in (without --ranker): {\"id\"?: S, \"history\": [E], \"item\": E, \"evidence\"?: [E]} per\n"
  "  line, E an entry [title, features] or an item id of --catalog; history oldest first.\n"
  "  out: one request per line, {\"id\", \"prompt\" (the teacher's), \"source\" (the student's),\n"
  "  \"item\", \"history\", \"evidence\"} (plus \"user\", \"item_id\" with --ranker, whose ids "
  "are\n"
  "  user/item); a bad line gets an error line. Both prompts show the same entries.\n",
  "prism teacher-prompts --ranker ranker.safetensors --catalog examples/demo/catalog.tsv "
  "--interactions examples/demo/interactions.tsv --k 3 --sample 1000 > requests.jsonl",
  prompts_options,
  run_prompts,
};

/* ---- teacher-import ---- */

/* The catalog's titles for the noise filter (borrowed from the catalog). */
static const char **catalog_titles(const prism_catalog *catalog, size_t *n)
{
  const char **titles;
  *n = catalog ? prism_catalog_count(catalog) : 0;
  if (!(titles = calloc(*n + 1, sizeof *titles)))
    cli_fatal("out of memory");
  for (size_t i = 0; i < *n; i++) {
    prism_prompt_item entry;
    if (prism_catalog_get(NULL, &entry, catalog, i) == PRISM_OK)
      titles[i] = entry.title;
  }
  return titles;
}

static void write_drops(const prism_teacher_import *imp, const char *path)
{
  FILE *f = fopen(path, "w");
  if (!f)
    cli_fatal("--rejected %s: cannot open: %s", path, strerror(errno));
  for (size_t i = 0; i < prism_teacher_import_drop_count(imp); i++) {
    prism_teacher_drop d = { .struct_size = sizeof d };
    json_t *row;
    char *text;
    prism_teacher_import_drop(&d, imp, i);
    row = json_pack("{s:s, s:s, s:I, s:o}", "id", d.id, "reason",
                    prism_teacher_verdict_name(d.verdict), "line", (json_int_t)d.line, "text",
                    d.text ? json_string(d.text) : json_null());
    text = row ? json_dumps(row, JSON_COMPACT) : NULL;
    json_decref(row);
    if (!text)
      cli_fatal("out of memory");
    fprintf(f, "%s\n", text);
    free(text);
  }
  if (fclose(f) != 0)
    cli_fatal("--rejected %s: cannot write: %s", path, strerror(errno));
}

static void write_pairs(const prism_teacher_import *imp, const char *path)
{
  FILE *f = fopen(path, "w");
  if (!f)
    cli_fatal("--out %s: cannot open: %s", path, strerror(errno));
  for (size_t i = 0; i < prism_teacher_import_count(imp); i++)
    put_line(f, pair_line, imp, i);
  if (fclose(f) != 0)
    cli_fatal("--out %s: cannot write: %s", path, strerror(errno));
}

static int run_import(const cli_args *args)
{
  const char *answers = cli_given(args, "--answers") ? cli_str(args, "--answers") : "-";
  prism_teacher_requests *requests = NULL;
  prism_teacher_import *imp = NULL;
  prism_teacher_import_params ip;
  prism_teacher_import_stats s = { .struct_size = sizeof s };
  prism_catalog *catalog = load_catalog(args, "teacher-import: cannot load the catalog");
  size_t n_titles, len;
  const char **titles = catalog_titles(catalog, &n_titles);
  char *text;
  int rc = prism_teacher_requests_create(&requests, NULL);
  if (rc == PRISM_OK)
    rc = prism_teacher_requests_load(requests, cli_str(args, "--requests"));
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "teacher-import: cannot read the requests");
  prism_teacher_import_params_init(&ip, sizeof ip);
  ip.answer_key = cli_str(args, "--answer-key");
  ip.drop_hallucinated = cli_flag(args, "--drop-hallucinated");
  ip.titles = titles;
  ip.n_titles = n_titles;
  if ((rc = prism_teacher_import_create(&imp, requests, &ip)) != PRISM_OK)
    cli_fatal_status(rc, "teacher-import");
  text = cli_read_all(answers, &len);
  rc = prism_teacher_import_parse(imp, text, len, strcmp(answers, "-") ? answers : "stdin");
  free(text);
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "teacher-import: cannot read the answers");
  write_pairs(imp, cli_str(args, "--out"));
  if (cli_given(args, "--rejected"))
    write_drops(imp, cli_str(args, "--rejected"));
  prism_teacher_import_get_stats(&s, imp);
  cli_emit(json_pack("{s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:I}", "requests",
                     (json_int_t)s.requests, "answers", (json_int_t)s.answers, "pairs",
                     (json_int_t)s.pairs, "unanswered", (json_int_t)s.unanswered, "dropped",
                     (json_int_t)s.dropped, "dropped_by_reason", "failed", (json_int_t)s.failed,
                     "empty", (json_int_t)s.empty, "unknown_id", (json_int_t)s.unknown_id,
                     "duplicate", (json_int_t)s.duplicate, "hallucinated",
                     (json_int_t)(ip.drop_hallucinated ? s.hallucinated : 0), "hallucinated",
                     (json_int_t)s.hallucinated));
  prism_teacher_import_free(imp);
  prism_teacher_requests_free(requests);
  free(titles);
  prism_catalog_free(catalog);
  return 0;
}

static const cli_option import_options[] = {
  { "--requests", CLI_TEXT, "FILE", NULL, NULL, "the requests prism teacher-prompts wrote", 0, 0,
    1 },
  { "--answers", CLI_TEXT, "FILE", NULL, "stdin",
    "the teacher's answers: {\"id\", \"explanation\"} or {\"id\", \"error\"} per line", 0, 0, 0 },
  { "--out", CLI_TEXT, "FILE", NULL, NULL,
    "the training pairs {\"id\", \"source\", \"target\"}, in the order of the requests", 0, 0, 1 },
  { "--catalog", CLI_TEXT, "TSV", NULL, "none: the titles the requests show",
    "catalog titles the noise filter looks for", 0, 0, 0 },
  { "--feature-columns", CLI_TEXT, "LIST", NULL, "the first column after item_id and title",
    "how --catalog is read (only its titles are used)", 0, 0, 0 },
  { "--drop-hallucinated", CLI_FLAG, NULL, NULL, "keep them (still counted)",
    "drop answers naming a catalog title their prompt did not show", 0, 0, 0 },
  { "--answer-key", CLI_TEXT, "KEY", "explanation", NULL, "the answer's key in an answer line", 0,
    0, 0 },
  { "--rejected", CLI_TEXT, "FILE", NULL, "none",
    "one line per dropped answer: {\"id\", \"reason\", \"line\", \"text\"}", 0, 0, 0 },
  CLI_OPTIONS_END,
};

const cli_command cli_cmd_teacher_import = {
  "teacher-import",
  "make the teacher's answers into training pairs (student prompt -> answer), with a noise filter",
  "[< answers.jsonl]",
  "  Answers are matched to requests by \"id\" (a string, or an integer); an answer line\n"
  "  with \"error\" instead of a text counts as failed. Dropped: failed, empty, unknown id,\n"
  "  a second answer to a request already answered, and with --drop-hallucinated answers\n"
  "  naming a catalog title their prompt did not show. stdout: one JSON object of counts.\n"
  "  A malformed line stops the import with its line number; nothing is written then.\n",
  "python3 examples/demo/oracle.py < requests.jsonl | prism teacher-import --requests "
  "requests.jsonl --catalog examples/demo/catalog.tsv --drop-hallucinated --out pairs.jsonl",
  import_options,
  run_import,
};
