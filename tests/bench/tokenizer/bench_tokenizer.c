/*
 * Tokenizer throughput, single thread, through the public API.
 *
 *   bench_tokenizer TOKENIZER_DIR CORPUS [IDS_OUT] [REPEAT]
 *
 * Encodes CORPUS (whole, and line by line) REPEAT times and prints one JSON
 * object with MB/s (10^6 bytes per second); writes the ids of the whole-text
 * encoding (no special tokens) as a JSON array to IDS_OUT for the cross-check
 * against js-tiktoken (tests/bench/tokenizer/run.sh does both).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <prism/prism.h>

static double clock_s(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void)
{
  return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of this thread: stable when the machine is shared with other work. */
static double cpu_now(void)
{
  return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static char *read_all(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long size;
  if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
      !(buf = malloc((size_t)size + 1)) || fread(buf, 1, (size_t)size, f) != (size_t)size) {
    fprintf(stderr, "bench_tokenizer: cannot read %s\n", path);
    exit(1);
  }
  fclose(f);
  *len = (size_t)size;
  return buf;
}

static void check(int rc, const char *what)
{
  if (rc != PRISM_OK) {
    fprintf(stderr, "bench_tokenizer: %s: %s\n", what, prism_last_error());
    exit(1);
  }
}

/*
 * Encode every line (with its newline) separately: many short calls, as for
 * prompts. The ids differ from the whole-text ones where a cut splits a
 * whitespace run, so only the speed is reported.
 */
static size_t encode_lines(const prism_tokenizer *tok, const char *text, size_t len, int32_t *ids,
                           size_t cap)
{
  size_t total = 0, n;
  for (size_t start = 0; start < len;) {
    const char *nl = memchr(text + start, '\n', len - start);
    size_t end = nl ? (size_t)(nl - text) + 1 : len;
    check(prism_tokenizer_encode(ids, cap, &n, tok, text + start, end - start,
                                 PRISM_TOKENIZER_NO_SPECIAL),
          "encode line");
    total += n;
    start = end;
  }
  return total;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void write_ids(const char *path, const int32_t *ids, size_t n)
{
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "bench_tokenizer: cannot write %s\n", path);
    exit(1);
  }
  fputc('[', f);
  for (size_t i = 0; i < n; i++)
    fprintf(f, i ? ",%d" : "%d", (int)ids[i]);
  fputs("]\n", f);
  fclose(f);
}

int main(int argc, char **argv)
{
  prism_tokenizer *tok = NULL;
  size_t len, n = 0, cap, text_len = 0;
  char *text, *back;
  int32_t *ids;
  int repeat = argc > 4 ? atoi(argv[4]) : 20;
  double t0, c0, cold, *whole, *whole_cpu, *lines, decode_s;

  if (argc < 3 || repeat < 1) {
    fprintf(stderr, "usage: bench_tokenizer TOKENIZER_DIR CORPUS [IDS_OUT] [REPEAT]\n");
    return 2;
  }
  text = read_all(argv[2], &len);
  check(prism_tokenizer_load(&tok, argv[1], NULL), "load");
  cap = len + 16;
  ids = malloc(cap * sizeof *ids);
  back = malloc(4 * len + 1);
  whole = malloc((size_t)repeat * sizeof *whole);
  whole_cpu = malloc((size_t)repeat * sizeof *whole_cpu);
  lines = malloc((size_t)repeat * sizeof *lines);
  if (!ids || !back || !whole || !whole_cpu || !lines)
    return 1;

  t0 = now();
  check(prism_tokenizer_encode(ids, cap, &n, tok, text, len, PRISM_TOKENIZER_NO_SPECIAL), "encode");
  cold = now() - t0;
  for (int r = 0; r < repeat; r++) {
    t0 = now();
    c0 = cpu_now();
    check(prism_tokenizer_encode(ids, cap, &n, tok, text, len, PRISM_TOKENIZER_NO_SPECIAL),
          "encode");
    whole_cpu[r] = cpu_now() - c0;
    whole[r] = now() - t0;
    t0 = now();
    encode_lines(tok, text, len, ids + n, cap - n);
    lines[r] = now() - t0;
  }
  t0 = now();
  check(prism_tokenizer_decode(back, 4 * len + 1, &text_len, tok, ids, n, 0), "decode");
  decode_s = now() - t0;
  if (argc > 3)
    write_ids(argv[3], ids, n);
  qsort(whole, (size_t)repeat, sizeof *whole, cmp_double);
  qsort(whole_cpu, (size_t)repeat, sizeof *whole_cpu, cmp_double);
  qsort(lines, (size_t)repeat, sizeof *lines, cmp_double);
  printf("{\"corpus_bytes\": %zu, \"ids\": %zu, \"repeat\": %d, "
         "\"encode_mb_per_s_cold\": %.2f, \"encode_mb_per_s_best\": %.2f, "
         "\"encode_mb_per_s_median\": %.2f, \"encode_mb_per_s_cpu_median\": %.2f, "
         "\"encode_lines_mb_per_s_median\": %.2f, "
         "\"decode_mb_per_s\": %.2f, \"round_trip\": %s}\n",
         len, n, repeat, len / cold / 1e6, len / whole[0] / 1e6, len / whole[repeat / 2] / 1e6,
         len / whole_cpu[repeat / 2] / 1e6, len / lines[repeat / 2] / 1e6, len / decode_s / 1e6,
         text_len == len && memcmp(back, text, len) == 0 ? "true" : "false");
  prism_tokenizer_free(tok);
  free(text);
  free(back);
  free(ids);
  free(whole);
  free(whole_cpu);
  free(lines);
  return 0;
}
