/*
 * prism_tokenizer_encode_batch on the worker pool against the serial path, in
 * the same run: the speedup of PRISM_TOKENIZER_PARALLEL with THREADS threads.
 *
 *   bench_batch TOKENIZER_DIR CORPUS [THREADS] [REPEAT] [COPIES]
 *
 * CORPUS is cut into lines (each with its newline), one text per line, as a
 * batch of prompts would be, and the batch holds COPIES (default 8) of them,
 * so that a pass takes long enough for the pool's wake-up not to dominate. Both paths run REPEAT times after one warm-up
 * pass each (every thread's word cache is warm); prints one JSON object with
 * the median wall-clock MB/s (10^6 bytes per second) of both, their ratio,
 * and whether the ids and offsets are identical. Exits 1 when they differ.
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

static void check(int rc, const char *what)
{
  if (rc != PRISM_OK) {
    fprintf(stderr, "bench_batch: %s: %s\n", what, prism_last_error());
    exit(1);
  }
}

static char *read_all(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long size;
  if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
      !(buf = malloc((size_t)size + 1)) || fread(buf, 1, (size_t)size, f) != (size_t)size) {
    fprintf(stderr, "bench_batch: cannot read %s\n", path);
    exit(1);
  }
  fclose(f);
  *len = (size_t)size;
  return buf;
}

/* Cut text into lines, `copies` times over; returns the number of texts. */
static size_t split_lines(const char *text, size_t len, int copies, const char ***texts,
                          size_t **lens)
{
  size_t n = 0, lines;
  for (size_t i = 0; i < len; i++)
    n += text[i] == '\n';
  lines = n + (len && text[len - 1] != '\n');
  *texts = malloc((lines ? lines : 1) * (size_t)copies * sizeof **texts);
  *lens = malloc((lines ? lines : 1) * (size_t)copies * sizeof **lens);
  if (!*texts || !*lens)
    exit(1);
  n = 0;
  for (int c = 0; c < copies; c++)
    for (size_t start = 0; start < len;) {
      const char *nl = memchr(text + start, '\n', len - start);
      size_t end = nl ? (size_t)(nl - text) + 1 : len;
      (*texts)[n] = text + start;
      (*lens)[n++] = end - start;
      start = end;
    }
  return n;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct timing {
  double wall, cpu; /* medians: wall clock, and CPU time of the whole process (all threads) */
  double caller;    /* median CPU time of the calling thread: its share of the work */
} timing;

/* Median seconds of `repeat` encodes (after a warm-up) into ids/offsets. */
static timing time_batch(const prism_tokenizer *tok, const char **texts, const size_t *lens,
                         size_t n, unsigned flags, int32_t *ids, size_t cap, size_t *offsets,
                         int repeat, double *wall, double *cpu, double *caller)
{
  size_t n_ids;
  timing t;
  check(prism_tokenizer_encode_batch(ids, cap, &n_ids, offsets, tok, texts, lens, n, flags),
        "warm-up");
  for (int r = 0; r < repeat; r++) {
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    double k0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    check(prism_tokenizer_encode_batch(ids, cap, &n_ids, offsets, tok, texts, lens, n, flags),
          "encode_batch");
    caller[r] = clock_s(CLOCK_THREAD_CPUTIME_ID) - k0;
    cpu[r] = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    wall[r] = clock_s(CLOCK_MONOTONIC) - t0;
  }
  qsort(wall, (size_t)repeat, sizeof *wall, cmp_double);
  qsort(cpu, (size_t)repeat, sizeof *cpu, cmp_double);
  qsort(caller, (size_t)repeat, sizeof *caller, cmp_double);
  t.wall = wall[repeat / 2];
  t.cpu = cpu[repeat / 2];
  t.caller = caller[repeat / 2];
  return t;
}

int main(int argc, char **argv)
{
  prism_tokenizer *tok = NULL;
  const char **texts;
  size_t len, n, n_ids = 0, *lens, *off_serial, *off_parallel;
  int threads = argc > 3 ? atoi(argv[3]) : 2, repeat = argc > 4 ? atoi(argv[4]) : 10;
  int copies = argc > 5 ? atoi(argv[5]) : 8;
  char *text;
  int32_t *serial, *parallel;
  double *wall, *cpu, *caller;
  timing t_serial, t_parallel;
  int same;

  if (argc < 3 || threads < 1 || repeat < 1 || copies < 1) {
    fprintf(stderr, "usage: bench_batch TOKENIZER_DIR CORPUS [THREADS] [REPEAT] [COPIES]\n");
    return 2;
  }
  text = read_all(argv[2], &len);
  n = split_lines(text, len, copies, &texts, &lens);
  len *= (size_t)copies;
  check(prism_tokenizer_load(&tok, argv[1], NULL), "load");
  threads = prism_set_num_threads(threads);
  off_serial = malloc((n + 1) * sizeof *off_serial);
  off_parallel = malloc((n + 1) * sizeof *off_parallel);
  if (!off_serial || !off_parallel)
    return 1;
  check(prism_tokenizer_encode_batch(NULL, 0, &n_ids, off_serial, tok, texts, lens, n, 0),
        "measure");
  serial = malloc((n_ids ? n_ids : 1) * sizeof *serial);
  parallel = malloc((n_ids ? n_ids : 1) * sizeof *parallel);
  wall = malloc((size_t)repeat * sizeof *wall);
  cpu = malloc((size_t)repeat * sizeof *cpu);
  caller = malloc((size_t)repeat * sizeof *caller);
  if (!serial || !parallel || !wall || !cpu || !caller)
    return 1;

  t_serial =
      time_batch(tok, texts, lens, n, 0, serial, n_ids, off_serial, repeat, wall, cpu, caller);
  t_parallel = time_batch(tok, texts, lens, n, PRISM_TOKENIZER_PARALLEL, parallel, n_ids,
                          off_parallel, repeat, wall, cpu, caller);
  same = memcmp(serial, parallel, n_ids * sizeof *serial) == 0 &&
         memcmp(off_serial, off_parallel, (n + 1) * sizeof *off_serial) == 0;
  /* cpu_ratio: CPU time spent per pass, parallel over serial (the pool's overhead, spinning
     included). caller_share: the calling thread's CPU time in a parallel pass over a serial
     pass, the part of the batch it encoded itself (1/threads when the workers ran as much).
     On a machine shared with other work the wall-clock speedup is bounded by the idle cores. */
  printf("{\"batch_bytes\": %zu, \"texts\": %zu, \"ids\": %zu, \"threads\": %d, \"repeat\": %d, "
         "\"serial_mb_per_s_median\": %.2f, \"parallel_mb_per_s_median\": %.2f, "
         "\"speedup\": %.2f, \"serial_cpu_ms_median\": %.2f, \"parallel_cpu_ms_median\": %.2f, "
         "\"cpu_ratio\": %.2f, \"caller_share\": %.2f, \"identical\": %s}\n",
         len, n, n_ids, threads, repeat, len / t_serial.wall / 1e6, len / t_parallel.wall / 1e6,
         t_serial.wall / t_parallel.wall, t_serial.cpu * 1e3, t_parallel.cpu * 1e3,
         t_parallel.cpu / t_serial.cpu, t_parallel.caller / t_serial.caller,
         same ? "true" : "false");
  prism_tokenizer_free(tok);
  free(serial);
  free(parallel);
  free(off_serial);
  free(off_parallel);
  free(wall);
  free(cpu);
  free(caller);
  free(texts);
  free(lens);
  free(text);
  return same ? 0 : 1;
}
