/*
 * Tokenize text with a BART vocabulary and decode it back.
 *
 *   tokenize MODEL_DIR TEXT
 *
 * MODEL_DIR holds vocab.json + merges.txt (or tokenizer.json).
 */
#include <prism/prism.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what)
{
  /* prism_last_error() names the file, line or byte offset at fault. */
  fprintf(stderr, "tokenize: %s: %s\n", what, prism_last_error());
  return 1;
}

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(stderr, "usage: %s MODEL_DIR TEXT\n", argv[0]);
    return 2;
  }
  const char *text = argv[2];
  size_t text_len = strlen(text);

  /* The tokenizer is ours until prism_tokenizer_free; it may be shared by threads. */
  prism_tokenizer *tok = NULL;
  if (prism_tokenizer_load(&tok, argv[1], NULL) != PRISM_OK)
    return fail(argv[1]);

  /* Sized output: a NULL buffer asks for the count, then a second call fills it. */
  size_t n_ids = 0;
  int32_t *ids = NULL;
  if (prism_tokenizer_encode(NULL, 0, &n_ids, tok, text, text_len, 0) != PRISM_OK ||
      !(ids = malloc(n_ids * sizeof *ids)) ||
      prism_tokenizer_encode(ids, n_ids, &n_ids, tok, text, text_len, 0) != PRISM_OK) {
    free(ids);
    prism_tokenizer_free(tok);
    return fail("encode");
  }
  printf("ids:");
  for (size_t i = 0; i < n_ids; i++)
    printf(" %d", (int)ids[i]);
  printf("\n");

  /* Decoding needs one byte more than the reported length, for the NUL. */
  size_t len = 0;
  char *back = NULL;
  int rc = prism_tokenizer_decode(NULL, 0, &len, tok, ids, n_ids, PRISM_TOKENIZER_SKIP_SPECIAL);
  if (rc == PRISM_OK && (back = malloc(len + 1)) != NULL)
    rc = prism_tokenizer_decode(back, len + 1, &len, tok, ids, n_ids, PRISM_TOKENIZER_SKIP_SPECIAL);
  if (rc == PRISM_OK && back)
    printf("decoded: %s\n", back);
  free(back);
  free(ids);
  prism_tokenizer_free(tok);
  return rc == PRISM_OK && back ? 0 : fail("decode");
}
