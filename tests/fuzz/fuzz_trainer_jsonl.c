/*
 * The BPE trainer's file reader: JSON Lines with "source"/"target" fields (or
 * plain text when the input starts with '#') through
 * prism_tokenizer_trainer_feed_file; when the input is accepted, a small
 * vocabulary is learned, written, loaded back and used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_common.h"

static char dir[64];

static void remove_out_dir(void)
{
  char path[96];
  snprintf(path, sizeof path, "%s/vocab.json", dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/merges.txt", dir);
  unlink(path);
  rmdir(dir);
}

static const char *out_dir(void)
{
  if (!dir[0]) {
    snprintf(dir, sizeof dir, "/tmp/prism_fuzz_bpe_XXXXXX");
    if (!mkdtemp(dir))
      __builtin_trap();
    atexit(remove_out_dir);
  }
  return dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *const fields[] = { "source", "target" };
  prism_tokenizer_trainer_params p;
  prism_tokenizer_trainer *t;
  prism_tokenizer *tok;
  int plain = size > 0 && data[0] == '#';
  const char *path = fuzz_scratch_file(data, size, ".jsonl");

  prism_tokenizer_trainer_params_init(&p, sizeof p);
  p.vocab_size = 5 + 256 + 48;
  p.min_frequency = 1;
  if (prism_tokenizer_trainer_create(&t, &p) != PRISM_OK)
    __builtin_trap();
  if (prism_tokenizer_trainer_feed_file(t, path, fields, plain ? 0 : 2) == PRISM_OK) {
    if (prism_tokenizer_trainer_train(NULL, t, out_dir(), NULL, NULL) != PRISM_OK)
      __builtin_trap();
    if (prism_tokenizer_load(&tok, out_dir(), NULL) != PRISM_OK)
      __builtin_trap(); /* whatever was learned must load */
    fuzz_exercise_tokenizer(tok);
    prism_tokenizer_free(tok);
  }
  prism_tokenizer_trainer_free(t);
  return 0;
}
