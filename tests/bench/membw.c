/*
 * Memory read bandwidth: sums a buffer much larger than the caches with the
 * widest vectors available, on 1 and 2 threads of the libprism pool. Prints
 * JSON. Usage: membw [MiB (default 1024)] [reps (default 5)]
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "prism/prism.h"

int main(int argc, char **argv)
{
  size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  size_t bytes = mib << 20;
  float *buf = bench_alloc_filled(bytes);
  double one, two;

  if (!buf || reps < 1) {
    fprintf(stderr, "membw: cannot allocate %zu MiB\n", mib);
    return 1;
  }
  one = bench_read_gbs(buf, bytes, 1, reps);
  two = bench_read_gbs(buf, bytes, 2, reps);
  printf("{\"bench\": \"membw\", \"buffer_mib\": %zu, \"reps\": %d, \"cpu\": \"%s\", "
         "\"read_gbs_1thread\": %.2f, \"read_gbs_2threads\": %.2f}\n",
         mib, reps, prism_cpu_features(), one, two);
  free(buf);
  return 0;
}
