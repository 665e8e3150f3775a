/*
 * Internal: the process-wide worker pool behind prism_set_num_threads().
 *
 * prism__parallel_for splits [0, n) into at most prism_get_num_threads()
 * contiguous chunks of at least `grain` items and runs fn on each. Chunks go to
 * whichever thread asks first, the caller included, so a worker the scheduler
 * has not run yet delays nothing. The split depends only on n, grain and the thread count,
 * and a chunk's result must not depend on which thread ran it, so results are
 * identical on any thread count. When the pool is busy (another thread, or a
 * nested call) the whole range runs on the caller.
 */
#ifndef PRISM__COMMON_POOL_H
#define PRISM__COMMON_POOL_H

#include <stddef.h>

typedef void (*prism__range_fn)(void *ctx, size_t begin, size_t end);

void prism__parallel_for(size_t n, size_t grain, prism__range_fn fn, void *ctx);

/*
 * The same in up to a few parts per thread, claimed in turn, so that a thread
 * the scheduler holds back (a shared machine) delays the job by one small part,
 * not by its share. Only for work whose results do not depend on the split.
 */
void prism__parallel_for_balanced(size_t n, size_t grain, prism__range_fn fn, void *ctx);

/*
 * Set the pool's thread count (n <= 0: the online CPUs) and return the count
 * in effect. prism_set_num_threads (lib/linalg/blas.c) calls it and then sets
 * OpenBLAS to the same count.
 */
int prism__pool_set_threads(int n);

#endif
