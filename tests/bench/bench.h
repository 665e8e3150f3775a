/* Shared helpers of the C benchmarks: a clock, medians, and memory read bandwidth. */
#ifndef PRISM_BENCH_H
#define PRISM_BENCH_H

#include <stddef.h>

double bench_now(void); /* seconds, monotonic */
double bench_median(double *v, size_t n);

/* Best-of-`reps` read bandwidth in GB/s (1e9 bytes/s) summing `bytes` of buf on
 * `threads` threads of the libprism pool, widest vectors the CPU has. */
double bench_read_gbs(const float *buf, size_t bytes, int threads, int reps);

/* Touches every page so the first measurement does not pay for page faults. */
float *bench_alloc_filled(size_t bytes);

#endif
