/*
 * prism train: fine-tune a BART folder, or train one from config.json, with
 * HuggingFace Trainer semantics (docs/train.md). Progress on stderr (a bar on
 * a terminal, lines otherwise), one JSON line per optimiser step in --log, a
 * JSON summary on stdout. Ctrl-C stops after the current step and saves a
 * checkpoint to resume from.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
  (void)sig;
  interrupted = 1;
}

typedef struct train_ctx {
  FILE *log;
  int tty, quiet;
  unsigned long long stop_after; /* 0: none */
} train_ctx;

static void log_step(FILE *log, const prism_train_progress *p)
{
  json_t *line = json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}", "step", (json_int_t)p->step, "epoch",
                           p->epoch, "lr", p->learning_rate, "loss", p->loss, "grad_norm",
                           p->grad_norm, "tokens_per_second", p->tokens_per_second);
  char *s;
  if (p->evaluated) {
    json_object_set_new(line, "eval_loss", json_real(p->eval_loss));
    json_object_set_new(line, "eval_accuracy", json_real(p->eval_accuracy));
  }
  if (p->eval_text) {
    const prism_metrics_result *m = p->eval_text;
    json_object_set_new(line, "eval_generated", json_integer((json_int_t)p->eval_generated));
    json_object_set_new(line, "eval_exact_match", json_real(p->eval_exact_match));
    json_object_set_new(line, "eval_bleu1", json_real(m->bleu1));
    json_object_set_new(line, "eval_bleu4", json_real(m->bleu4));
    json_object_set_new(line, "eval_rouge_1_f", json_real(m->rouge_1_f_score));
    json_object_set_new(line, "eval_rouge_2_f", json_real(m->rouge_2_f_score));
    json_object_set_new(line, "eval_rouge_l_f", json_real(m->rouge_l_f_score));
    json_object_set_new(line, "eval_usr", json_real(m->usr));
  }
  if (p->evaluated)
    json_object_set_new(line, "best", json_boolean(p->best));
  if (p->checkpoint)
    json_object_set_new(line, "checkpoint", json_string(p->checkpoint));
  s = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(17));
  json_decref(line);
  if (s) {
    fputs(s, log);
    fputc('\n', log);
    fflush(log);
    free(s);
  }
}

static void show(const train_ctx *c, const prism_train_progress *p)
{
  if (c->tty) {
    int width = 30, done = p->total_steps ? (int)(width * p->step / p->total_steps) : 0;
    fprintf(stderr, "\r[%.*s%*s] step %llu/%llu  epoch %.2f  loss %.4f  lr %.2e  %.0f tok/s ", done,
            "##############################", width - done, "", (unsigned long long)p->step,
            (unsigned long long)p->total_steps, p->epoch, p->loss, p->learning_rate,
            p->tokens_per_second);
    if (p->evaluated)
      fprintf(stderr, "\n  eval loss %.4f  accuracy %.4f", p->eval_loss, p->eval_accuracy);
    if (p->eval_text)
      fprintf(stderr, "  exact %.4f  BLEU-4 %.2f  ROUGE-L F %.2f", p->eval_exact_match,
              p->eval_text->bleu4, p->eval_text->rouge_l_f_score);
    if (p->evaluated)
      fprintf(stderr, "%s\n", p->best ? "  (best)" : "");
  } else {
    fprintf(stderr, "step %llu/%llu epoch %.3f loss %.6f lr %.6g grad_norm %.4f tok/s %.0f",
            (unsigned long long)p->step, (unsigned long long)p->total_steps, p->epoch, p->loss,
            p->learning_rate, p->grad_norm, p->tokens_per_second);
    if (p->evaluated)
      fprintf(stderr, " eval_loss %.6f eval_accuracy %.4f", p->eval_loss, p->eval_accuracy);
    if (p->eval_text)
      fprintf(stderr, " exact_match %.4f bleu4 %.2f rouge_l_f %.2f", p->eval_exact_match,
              p->eval_text->bleu4, p->eval_text->rouge_l_f_score);
    if (p->evaluated && p->best)
      fputs(" best", stderr);
    fputc('\n', stderr);
  }
  fflush(stderr);
}

static int on_progress(const prism_train_progress *p, void *payload)
{
  train_ctx *c = payload;
  if (c->log)
    log_step(c->log, p);
  if (!c->quiet)
    show(c, p);
  return !interrupted && !(c->stop_after && p->step >= c->stop_after);
}

typedef struct train_opts {
  const char *train, *eval, *init, *config, *generation, *tokenizer, *resume, *out, *log, *batching;
  long max_source, max_target;
  int truncate, quiet;
} train_opts;

/* The flags of settings a checkpoint fixes: with --resume its own are used. */
static const char *const fixed_settings[] = {
  "--epochs",
  "--steps",
  "--batch-size",
  "--grad-accum",
  "--lr",
  "--warmup",
  "--schedule",
  "--weight-decay",
  "--max-grad-norm",
  "--label-smoothing",
  "--dropout",
  "--attention-dropout",
  "--activation-dropout",
  "--seed",
  "--eval-every",
  "--eval-batch-size",
  "--patience",
  "--save-every",
  "--batching",
  "--eval-generate",
  "--best-metric",
};

static uint32_t u32(const cli_args *args, const char *name, uint32_t current)
{
  return cli_given(args, name) ? (uint32_t)cli_int(args, name) : current;
}

static double real(const cli_args *args, const char *name, double current)
{
  return cli_given(args, name) ? cli_real(args, name) : current;
}

static void read_params(const cli_args *args, prism_train_params *p, const train_opts *o)
{
  const char *schedule = cli_str(args, "--schedule");
  if (o->resume)
    for (size_t i = 0; i < sizeof fixed_settings / sizeof *fixed_settings; i++)
      if (cli_given(args, fixed_settings[i]))
        cli_fatal("train: %s cannot be given with --resume (the checkpoint's settings are used)",
                  fixed_settings[i]);
  p->epochs = u32(args, "--epochs", p->epochs);
  p->max_steps = u32(args, "--steps", p->max_steps);
  p->batch_size = u32(args, "--batch-size", p->batch_size);
  p->grad_accum = u32(args, "--grad-accum", p->grad_accum);
  p->warmup_steps = u32(args, "--warmup", p->warmup_steps);
  p->eval_every = u32(args, "--eval-every", p->eval_every);
  p->eval_batch_size = u32(args, "--eval-batch-size", p->eval_batch_size);
  p->patience = u32(args, "--patience", p->patience);
  p->save_every = u32(args, "--save-every", p->save_every);
  p->eval_generate = u32(args, "--eval-generate", p->eval_generate);
  if (cli_given(args, "--best-metric"))
    p->best_metric = cli_str(args, "--best-metric");
  p->learning_rate = real(args, "--lr", p->learning_rate);
  p->weight_decay = real(args, "--weight-decay", p->weight_decay);
  p->max_grad_norm = real(args, "--max-grad-norm", p->max_grad_norm);
  p->label_smoothing = real(args, "--label-smoothing", p->label_smoothing);
  p->dropout = real(args, "--dropout", p->dropout);
  p->attention_dropout = real(args, "--attention-dropout", p->attention_dropout);
  p->activation_dropout = real(args, "--activation-dropout", p->activation_dropout);
  if (cli_given(args, "--seed"))
    p->seed = (uint64_t)cli_int(args, "--seed");
  if (strcmp(schedule, "linear") == 0)
    p->schedule = PRISM_TRAIN_LINEAR;
  else if (strcmp(schedule, "cosine") == 0)
    p->schedule = PRISM_TRAIN_COSINE;
  else if (strcmp(schedule, "constant") == 0)
    p->schedule = PRISM_TRAIN_CONSTANT;
  else
    cli_fatal("train: --schedule must be linear, cosine or constant, not \"%s\"", schedule);
  p->group_by_length = strcmp(o->batching, "bucket") == 0;
  p->output_dir = o->out;
  p->tokenizer_dir = o->tokenizer;
}

static prism_trainer *make_trainer(const train_opts *o, prism_train_params *p)
{
  prism_trainer *t = NULL;
  int rc;
  if (o->resume) {
    rc = prism_trainer_resume(&t, o->resume, p);
    if (rc != PRISM_OK)
      cli_fatal_status(rc, "train: cannot resume");
  } else if (o->init) {
    prism_bart *init = NULL;
    rc = prism_bart_load(&init, o->init, NULL);
    if (rc != PRISM_OK)
      cli_fatal("train: --init %s is not a BART model folder libprism can load: %s (%s)", o->init,
                prism_last_error(), prism_status_name(rc));
    rc = prism_trainer_create(&t, init, p);
    prism_bart_free(init);
    if (rc != PRISM_OK)
      cli_fatal_status(rc, "train: cannot start training");
  } else {
    size_t len, gen_len = 0;
    char *text = cli_read_all(o->config, &len);
    char *gen = o->generation ? cli_read_all(o->generation, &gen_len) : NULL;
    rc = prism_trainer_create_from_config(&t, text, len, gen, gen_len, p);
    free(text);
    free(gen);
    if (rc != PRISM_OK)
      cli_fatal_status(rc, "train: cannot start training");
  }
  return t;
}

static prism_pairs *load_pairs(const char *path, const train_opts *o, const prism_tokenizer *tok,
                               const prism_bart *model)
{
  prism_pairs_params pp;
  prism_bart_info info;
  prism_pairs *pairs = NULL;
  int rc;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  prism_bart_get_info(&info, model);
  prism_pairs_params_init(&pp, sizeof pp);
  pp.format =
      o->batching && strcmp(o->batching, "given") == 0 ? PRISM_PAIRS_BATCHES : PRISM_PAIRS_PAIRS;
  pp.max_source_len = (uint32_t)(o->max_source ? o->max_source : info.max_position_embeddings);
  pp.max_target_len = (uint32_t)(o->max_target ? o->max_target : info.max_position_embeddings);
  pp.truncate = o->truncate;
  rc = prism_pairs_load(&pairs, path, tok, &pp);
  if (rc != PRISM_OK)
    cli_fatal_status(rc, "train: cannot load the pairs");
  if (prism_pairs_truncated(pairs))
    fprintf(stderr, "prism: %s: %zu pairs truncated\n", path, prism_pairs_truncated(pairs));
  return pairs;
}

/* A tokenizer for text pairs: --tokenizer, else the model's folder when it has one. */
static prism_tokenizer *load_tokenizer(const train_opts *o)
{
  const char *dir = o->tokenizer ? o->tokenizer : o->init ? o->init : o->resume;
  prism_tokenizer *tok = NULL;
  int rc;
  if (!dir)
    return NULL;
  rc = prism_tokenizer_load(&tok, dir, NULL);
  if (rc != PRISM_OK && o->tokenizer)
    cli_fatal_status(rc, "train: cannot load --tokenizer");
  return rc == PRISM_OK ? tok : NULL;
}

static void summary(const prism_trainer *t, const train_opts *o)
{
  prism_train_state s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  prism_trainer_get_state(t, &s);
  cli_emit(json_pack("{s:I, s:I, s:f, s:o, s:o, s:I, s:b, s:s}", "steps", (json_int_t)s.step,
                     "total_steps", (json_int_t)s.total_steps, "epoch", s.epoch, "best_eval_loss",
                     isnan(s.best_eval_loss) ? json_null() : json_real(s.best_eval_loss),
                     "best_metric", isnan(s.best_metric) ? json_null() : json_real(s.best_metric),
                     "best_step", (json_int_t)s.best_step, "stopped_early", s.stopped_early,
                     "output_dir", o->out));
}

static int p_needs_eval(const cli_args *args)
{
  return cli_given(args, "--eval-generate") || cli_given(args, "--best-metric");
}

static void read_options(const cli_args *args, train_opts *o)
{
  memset(o, 0, sizeof *o);
  o->train = cli_str(args, "--train");
  o->eval = cli_str(args, "--eval");
  o->init = cli_str(args, "--init");
  o->config = cli_str(args, "--config");
  o->generation = cli_str(args, "--generation-config");
  o->tokenizer = cli_str(args, "--tokenizer");
  o->resume = cli_str(args, "--resume");
  o->out = cli_str(args, "--out");
  o->log = cli_str(args, "--log");
  o->batching = cli_str(args, "--batching");
  o->max_source = cli_given(args, "--max-source-len") ? cli_int(args, "--max-source-len") : 0;
  o->max_target = cli_given(args, "--max-target-len") ? cli_int(args, "--max-target-len") : 0;
  o->truncate = cli_flag(args, "--truncate");
  o->quiet = cli_flag(args, "--quiet");
  if (!!o->init + !!o->config + !!o->resume != 1)
    cli_fatal("train: give exactly one of --init DIR, --config FILE or --resume CHECKPOINT");
  if (o->generation && !o->config)
    cli_fatal("train: --generation-config goes with --config (a model folder has its own)");
  if ((p_needs_eval(args)) && !o->eval)
    cli_fatal("train: --eval-generate and --best-metric need --eval");
  if (o->config && !o->tokenizer)
    fprintf(stderr, "prism: --config without --tokenizer: only id pairs can be read and no "
                    "tokenizer files go into the checkpoints\n");
  if (strcmp(o->batching, "bucket") != 0 && strcmp(o->batching, "shuffle") != 0 &&
      strcmp(o->batching, "given") != 0)
    cli_fatal("train: --batching must be bucket, shuffle or given, not \"%s\"", o->batching);
}

static int run(const cli_args *args)
{
  train_opts o;
  prism_train_params p;
  prism_trainer *t;
  prism_tokenizer *tok;
  prism_pairs *train, *eval = NULL;
  train_ctx ctx = { NULL, isatty(STDERR_FILENO), 0, 0 };
  struct sigaction sa;
  int rc;

  read_options(args, &o);
  prism_train_params_init(&p, sizeof p);
  read_params(args, &p, &o);
  ctx.stop_after =
      cli_given(args, "--stop-after") ? (unsigned long long)cli_int(args, "--stop-after") : 0;
  ctx.quiet = o.quiet;
  cli_set_threads(args);
  t = make_trainer(&o, &p);
  tok = load_tokenizer(&o);
  train = load_pairs(o.train, &o, tok, prism_trainer_model(t));
  if (o.eval)
    eval = load_pairs(o.eval, &o, tok, prism_trainer_model(t));
  if (o.log && !(ctx.log = fopen(o.log, "a")))
    cli_fatal("train: cannot open --log %s: %s", o.log, strerror(errno));
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, NULL);
  rc = prism_trainer_train(t, train, eval, on_progress, &ctx);
  if (ctx.tty && !ctx.quiet)
    fputc('\n', stderr);
  if (rc == PRISM_ERR_CANCELLED) {
    char dir[4096];
    prism_train_state s;
    memset(&s, 0, sizeof s);
    s.struct_size = sizeof s;
    prism_trainer_get_state(t, &s);
    snprintf(dir, sizeof dir, "%s/checkpoint-%llu", o.out, (unsigned long long)s.step);
    rc = prism_trainer_save(t, dir);
    if (rc != PRISM_OK)
      cli_fatal_status(rc, "train: interrupted, and the checkpoint could not be saved");
    fprintf(stderr, "prism: %s after step %llu; resume with --resume %s\n",
            interrupted ? "interrupted" : "stopped", (unsigned long long)s.step, dir);
    rc = interrupted ? 130 : 0;
  } else if (rc != PRISM_OK) {
    cli_fatal_status(rc, "train");
  } else {
    summary(t, &o);
  }
  if (ctx.log)
    fclose(ctx.log);
  prism_pairs_free(train);
  prism_pairs_free(eval);
  prism_tokenizer_free(tok);
  prism_trainer_free(t);
  return rc;
}

static const cli_option options[] = {
  { "--train", CLI_TEXT, "FILE", NULL, NULL, "training pairs, JSON Lines", 0, 0, 1 },
  { "--out", CLI_TEXT, "DIR", NULL, NULL,
    "checkpoints DIR/checkpoint-N and the final model; created when missing", 0, 0, 1 },
  { "--init", CLI_DIR, "DIR", NULL, "none", "fine-tune this HuggingFace BART folder", 0, 0, 0 },
  { "--config", CLI_TEXT, "FILE", NULL, "none",
    "or train a new model from this config.json (HF _init_weights, --seed)", 0, 0, 0 },
  { "--generation-config", CLI_TEXT, "FILE", NULL, "HF's defaults from config.json",
    "with --config: the new model's generation_config.json (decoding defaults)", 0, 0, 0 },
  { "--resume", CLI_DIR, "CHECKPOINT", NULL, "none",
    "or continue a run from DIR/checkpoint-N, with its settings", 0, 0, 0 },
  { "--tokenizer", CLI_DIR, "DIR", NULL, "the --init folder",
    "tokenizer for text pairs, copied into checkpoints", 0, 0, 0 },
  { "--eval", CLI_TEXT, "FILE", NULL, "none",
    "held-out pairs: loss and token accuracy at evaluations", 0, 0, 0 },
  { "--eval-generate", CLI_INT, "N", NULL, "0: none",
    "at evaluations, decode the first N --eval pairs greedily and score them: exact match, "
    "BLEU-1/4, ROUGE-1/2/L, USR (with the model's generation settings, one beam)",
    0, UINT32_MAX, 0 },
  { "--best-metric", CLI_TEXT, "NAME", NULL, "loss",
    "what picks the best checkpoint and drives --patience: loss, accuracy, or with "
    "--eval-generate exact_match, bleu1, bleu4, rouge_{1,2,l}_{f,p,r}, usr",
    0, 0, 0 },
  { "--batching", CLI_TEXT, "MODE", "bucket", NULL,
    "bucket (grouped by length), shuffle, or given (each line one micro-batch, in order)", 0, 0,
    0 },
  { "--max-source-len", CLI_INT, "N", NULL, "the model's positions", "longest source kept", 1,
    1 << 20, 0 },
  { "--max-target-len", CLI_INT, "N", NULL, "the model's positions", "longest target kept", 1,
    1 << 20, 0 },
  { "--truncate", CLI_FLAG, NULL, NULL, "refuse them",
    "cut longer sequences, keeping their last token", 0, 0, 0 },
  { "--epochs", CLI_INT, "N", NULL, "3", "passes over the data", 0, UINT32_MAX, 0 },
  { "--steps", CLI_INT, "N", NULL, "from --epochs", "optimiser steps instead of epochs", 0,
    UINT32_MAX, 0 },
  { "--batch-size", CLI_INT, "N", NULL, "8", "pairs per micro-batch", 1, 1 << 20, 0 },
  { "--grad-accum", CLI_INT, "N", NULL, "1", "micro-batches per optimiser step", 1, 1 << 20, 0 },
  { "--lr", CLI_REAL, "X", NULL, "5e-5", "peak learning rate", 0, 0, 0 },
  { "--warmup", CLI_INT, "N", NULL, "0", "linear warmup steps", 0, UINT32_MAX, 0 },
  { "--schedule", CLI_TEXT, "NAME", "linear", NULL, "linear, cosine or constant after warmup", 0, 0,
    0 },
  { "--weight-decay", CLI_REAL, "X", NULL, "0",
    "AdamW decoupled weight decay (not biases, not LayerNorm)", 0, 0, 0 },
  { "--max-grad-norm", CLI_REAL, "X", NULL, "1.0", "global gradient-norm clipping; 0: none", 0, 0,
    0 },
  { "--label-smoothing", CLI_REAL, "X", NULL, "0", "HF LabelSmoother epsilon", 0, 0, 0 },
  { "--dropout", CLI_REAL, "X", NULL, "config.json's", "hidden dropout", 0, 0, 0 },
  { "--attention-dropout", CLI_REAL, "X", NULL, "config.json's", "attention dropout", 0, 0, 0 },
  { "--activation-dropout", CLI_REAL, "X", NULL, "config.json's", "activation dropout", 0, 0, 0 },
  { "--seed", CLI_INT, "N", NULL, "42", "data order, dropout and initialisation", 0, LONG_MAX, 0 },
  { "--eval-every", CLI_INT, "N", NULL, "after each epoch", "evaluate every N steps", 0, UINT32_MAX,
    0 },
  { "--eval-batch-size", CLI_INT, "N", NULL, "--batch-size", "pairs per evaluation batch", 0,
    1 << 20, 0 },
  { "--patience", CLI_INT, "N", NULL, "never", "stop after N evaluations without a lower loss", 0,
    UINT32_MAX, 0 },
  { "--save-every", CLI_INT, "N", NULL, "at evaluations and the end",
    "also checkpoint every N steps", 0, UINT32_MAX, 0 },
  { "--stop-after", CLI_INT, "N", NULL, "run to the end",
    "stop after step N, saving a checkpoint to --resume from", 1, LONG_MAX, 0 },
  { "--log", CLI_TEXT, "FILE", NULL, "none",
    "one JSON line per optimiser step (appended): step, epoch, lr, loss, grad_norm before "
    "clipping, tokens_per_second, eval_loss, eval_accuracy, the eval_* figures of "
    "--eval-generate, best, checkpoint",
    0, 0, 0 },
  { "--quiet", CLI_FLAG, NULL, NULL, "progress on stderr", "no progress on stderr", 0, 0, 0 },
  CLI_OPTION_THREADS,
  CLI_OPTIONS_END,
};

const cli_command cli_cmd_train = {
  "train",
  "train a BART on (source, target) pairs with HuggingFace Trainer semantics",
  NULL,
  "  Each line of --train and --eval is {\"source\": S, \"target\": S} (text: needs a\n"
  "  tokenizer) or {\"input_ids\": [int], \"labels\": [int]}; with --batching given, one ready\n"
  "  micro-batch {\"input_ids\": [[int]], \"labels\": [[int]]} per line, used in file order.\n"
  "  AdamW with decoupled weight decay, warmup then decay, global-norm clipping, gradient\n"
  "  accumulation, as HF's Trainer; results do not depend on --threads. Progress goes to\n"
  "  stderr (a bar on a terminal), a JSON summary to stdout. Give exactly one of --init,\n"
  "  --config (with --tokenizer) or --resume. Ctrl-C saves a checkpoint to resume from.\n",
  "prism train --init examples/demo/model --train pairs.jsonl --eval dev.jsonl --out run "
  "--epochs 5 --lr 1e-4 --warmup 100 --eval-every 200 --patience 3",
  options,
  run,
};
