/*
 * prism eval-text [--feature-set FILE] [--tokenize whitespace|pepler] [--lowercase]
 *                 [--catalog TSV [--samples FILE]]   (the options table at the end)
 *
 * Reads {"reference", "hypothesis", "feature"?} lines (and with --catalog
 * {"hypothesis", "item", "grounded"} lines) and prints one JSON object with
 * PETER's figures and the faithfulness figures (docs/cli.md, docs/metrics.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eval_text_input.h"

typedef struct eval_ctx {
  prism_metrics *metrics;
  prism_faithfulness *faith;
  FILE *samples;
  size_t *titles;
  size_t titles_cap;
  unsigned long text_rows, faith_rows, bad_rows;
} eval_ctx;

/* One feature per line; blank lines skipped. The strings live until exit. */
static char **read_feature_set(const char *path, size_t *count)
{
  FILE *f = fopen(path, "rb");
  char *line = NULL, **set = NULL;
  size_t cap = 0, n = 0, set_cap = 0;
  ssize_t len;
  if (!f)
    cli_fatal("--feature-set %s: cannot open the file", path);
  while ((len = getline(&line, &cap, f)) >= 0) {
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      line[--len] = 0;
    if (len == 0)
      continue;
    if (n == set_cap) {
      set_cap = set_cap ? 2 * set_cap : 64;
      if (!(set = realloc(set, set_cap * sizeof *set)))
        cli_fatal("out of memory");
    }
    if (!(set[n++] = strdup(line)))
      cli_fatal("out of memory");
  }
  free(line);
  fclose(f);
  if (n == 0)
    cli_fatal("--feature-set %s: no features in the file", path);
  *count = n;
  return set;
}

static void report_bad(eval_ctx *ctx, unsigned long lineno, const char *msg)
{
  ctx->bad_rows++;
  fprintf(stderr, "prism: eval-text: line %lu: %s\n", lineno, msg);
}

static void write_sample(eval_ctx *ctx, unsigned long lineno, const prism_faithfulness_sample *s)
{
  json_t *titles = json_array(), *row;
  char *text;
  for (size_t i = 0; i < s->titles_named; i++)
    json_array_append_new(titles,
                          json_string(prism_faithfulness_title(ctx->faith, ctx->titles[i])));
  row = json_pack("{s:I,s:o,s:I,s:b,s:b}", "line", (json_int_t)lineno, "titles", titles,
                  "titles_grounded", (json_int_t)s->titles_grounded, "names_item", s->names_item,
                  "hallucinated", s->hallucinated);
  text = row ? json_dumps(row, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
  json_decref(row);
  if (!text)
    cli_fatal("out of memory");
  fprintf(ctx->samples, "%s\n", text);
  free(text);
}

static int add_faithfulness(eval_ctx *ctx, const eval_text_row *row, unsigned long lineno)
{
  prism_faithfulness_sample s = { .struct_size = sizeof s };
  int rc;
  for (;;) {
    rc = prism_faithfulness_add(&s, ctx->titles, ctx->titles_cap, ctx->faith, row->hypothesis,
                                row->item, row->grounded, row->grounded_count);
    if (rc != PRISM_ERR_BUFFER_TOO_SMALL)
      break;
    ctx->titles_cap = s.titles_named;
    if (!(ctx->titles = realloc(ctx->titles, ctx->titles_cap * sizeof *ctx->titles)))
      cli_fatal("out of memory");
  }
  if (rc != PRISM_OK) {
    report_bad(ctx, lineno, prism_last_error());
    return rc;
  }
  ctx->faith_rows++;
  if (ctx->samples)
    write_sample(ctx, lineno, &s);
  return PRISM_OK;
}

static void score_line(eval_ctx *ctx, const char *line, size_t len, unsigned long lineno)
{
  eval_text_row row;
  char err[256];
  int rc = eval_text_parse(&row, line, len, ctx->faith != NULL, err, sizeof err);
  if (rc == EVAL_TEXT_BLANK)
    return;
  if (rc == EVAL_TEXT_BAD) {
    report_bad(ctx, lineno, err);
    return;
  }
  /* faithfulness first: a line that fails it is skipped whole */
  if ((!ctx->faith || add_faithfulness(ctx, &row, lineno) == PRISM_OK) && row.reference) {
    rc = prism_metrics_add(ctx->metrics, row.reference, row.hypothesis, row.feature);
    if (rc == PRISM_OK)
      ctx->text_rows++;
    else
      report_bad(ctx, lineno, prism_last_error());
  }
  eval_text_row_free(&row);
}

static json_t *real_or_null(double x)
{
  return isnan(x) ? json_null() : json_real(x);
}

static void add_text_figures(json_t *out, const prism_metrics *metrics)
{
  prism_metrics_result r = { .struct_size = sizeof r };
  int rc = prism_metrics_finish(&r, metrics);
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "eval-text");
  json_object_set_new(out, "bleu1", real_or_null(r.bleu1));
  json_object_set_new(out, "bleu4", real_or_null(r.bleu4));
  json_object_set_new(out, "usr", real_or_null(r.usr));
  json_object_set_new(out, "usn", json_integer((json_int_t)r.usn));
  json_object_set_new(out, "fmr", real_or_null(r.fmr));
  json_object_set_new(out, "fcr", real_or_null(r.fcr));
  json_object_set_new(out, "div", real_or_null(r.div));
#define ROUGE(n) \
  json_object_set_new(out, "rouge_" #n "_f_score", real_or_null(r.rouge_##n##_f_score)); \
  json_object_set_new(out, "rouge_" #n "_r_score", real_or_null(r.rouge_##n##_r_score)); \
  json_object_set_new(out, "rouge_" #n "_p_score", real_or_null(r.rouge_##n##_p_score))
  ROUGE(1);
  ROUGE(2);
  ROUGE(l);
#undef ROUGE
  json_object_set_new(out, "count", json_integer((json_int_t)r.count));
}

static json_t *faithfulness_figures(const prism_faithfulness *faith)
{
  prism_faithfulness_result r = { .struct_size = sizeof r };
  int rc = prism_faithfulness_finish(&r, faith);
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "eval-text");
  return json_pack("{s:I,s:o,s:o,s:o,s:o,s:I,s:I,s:I,s:I}", "count", (json_int_t)r.count,
                   "titles_per_explanation", real_or_null(r.titles_per_explanation),
                   "grounded_share", real_or_null(r.grounded_share), "item_named_rate",
                   real_or_null(r.item_named_rate), "hallucination_rate",
                   real_or_null(r.hallucination_rate), "titles_named", (json_int_t)r.titles_named,
                   "titles_grounded", (json_int_t)r.titles_grounded, "items_named",
                   (json_int_t)r.items_named, "hallucinated", (json_int_t)r.hallucinated);
}

static void open_inputs(const cli_args *args, eval_ctx *ctx)
{
  const char *tokenize = cli_str(args, "--tokenize"), *features = cli_str(args, "--feature-set");
  const char *catalog = cli_str(args, "--catalog"), *samples = cli_str(args, "--samples");
  prism_metrics_params p;
  char **set = NULL;
  int rc;
  prism_metrics_params_init(&p, sizeof p);
  p.lowercase = cli_flag(args, "--lowercase");
  if (strcmp(tokenize, "pepler") == 0)
    p.tokenize = PRISM_METRICS_TOKENIZE_PEPLER;
  else if (strcmp(tokenize, "whitespace") != 0)
    cli_fatal("--tokenize: expected whitespace or pepler, got \"%s\"", tokenize);
  if (features) {
    set = read_feature_set(features, &p.feature_set_count);
    p.feature_set = (const char *const *)set;
  }
  if ((rc = prism_metrics_create(&ctx->metrics, &p)) != PRISM_OK)
    cli_fatal_status(rc, "eval-text");
  for (size_t i = 0; i < p.feature_set_count; i++)
    free(set[i]);
  free(set);
  if (samples && !catalog)
    cli_fatal("--samples needs --catalog");
  if (catalog && (rc = prism_faithfulness_load_catalog(&ctx->faith, catalog)) != PRISM_OK)
    cli_fatal_status(rc, "eval-text: --catalog");
  if (samples && !(ctx->samples = fopen(samples, "w")))
    cli_fatal("--samples %s: cannot create the file", samples);
  ctx->titles_cap = 16;
  if (!(ctx->titles = malloc(ctx->titles_cap * sizeof *ctx->titles)))
    cli_fatal("out of memory");
}

static int run(const cli_args *args)
{
  eval_ctx ctx = { 0 };
  char *line = NULL, *text;
  size_t cap = 0;
  ssize_t len;
  unsigned long lineno = 0;
  json_t *out;

  open_inputs(args, &ctx);
  while ((len = getline(&line, &cap, stdin)) >= 0)
    score_line(&ctx, line, (size_t)len, ++lineno);
  free(line);
  if (ctx.bad_rows)
    fprintf(stderr, "prism: eval-text: %lu bad line%s skipped\n", ctx.bad_rows,
            ctx.bad_rows == 1 ? "" : "s");
  if (ctx.text_rows == 0 && ctx.faith_rows == 0)
    cli_fatal("eval-text: no line to score (%lu read, %lu bad)", lineno, ctx.bad_rows);
  out = json_object();
  if (ctx.text_rows)
    add_text_figures(out, ctx.metrics);
  if (ctx.faith)
    json_object_set_new(out, "faithfulness", faithfulness_figures(ctx.faith));
  /* 17 significant digits: the figures round-trip exactly */
  text = json_dumps(out, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(17));
  json_decref(out);
  if (!text)
    cli_fatal("out of memory writing output");
  puts(text);
  free(text);
  free(ctx.titles);
  if (ctx.samples && fclose(ctx.samples) != 0)
    cli_fatal("--samples: write failed");
  prism_metrics_free(ctx.metrics);
  prism_faithfulness_free(ctx.faith);
  return 0;
}

static const cli_option options[] = {
  { "--feature-set", CLI_TEXT, "FILE", NULL, "none: fmr, fcr and div are null",
    "the feature vocabulary, one feature per line", 0, 0, 0 },
  { "--tokenize", CLI_TEXT, "whitespace|pepler", "whitespace", NULL,
    "str.split(), as PETER, or PEPLER's punctuation post-processing first", 0, 0, 0 },
  { "--lowercase", CLI_FLAG, NULL, NULL, NULL, "lower-case texts and features first", 0, 0, 0 },
  { "--catalog", CLI_TEXT, "TSV", NULL, "none: no faithfulness figures",
    "a catalog with a \"title\" column: score faithfulness too", 0, 0, 0 },
  { "--samples", CLI_TEXT, "FILE", NULL, "none",
    "with --catalog: write one JSON line per explanation with the titles it names", 0, 0, 0 },
  CLI_OPTIONS_END,
};

const cli_command cli_cmd_eval_text = {
  "eval-text",
  "score explanations: BLEU, ROUGE, USR, DIV, faithfulness",
  "< LINES.jsonl",
  "  The metrics of PETER/PEPLER (BLEU-1/4, ROUGE-1/2/L, USR, FMR, FCR, DIV; docs/metrics.md)\n"
  "  and, with --catalog, faithfulness. Prints one JSON object; bad lines are reported on\n"
  "  stderr and skipped.\n"
  "  in:  {\"reference\": S, \"hypothesis\": S, \"feature\"?: S}\n"
  "       {\"hypothesis\": S, \"item\": S, \"grounded\": [S]}  (with --catalog; reference "
  "optional)\n",
  "echo '{\"reference\": \"a quiet coastal novel\", \"hypothesis\": \"a quiet novel\"}' | "
  "prism eval-text",
  options,
  run,
};
