#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "error.h"
#include "pool.h"

#define POOL_MAX_THREADS PRISM_MAX_THREADS
#define SPIN_ITERATIONS 20000 /* ~tens of microseconds before a worker sleeps */
#define WAIT_SPINS 20000      /* the caller's pauses before it yields to a late part */
/* Parts per thread of prism__parallel_for_balanced: a thread the scheduler holds back leaves
 * at most one part unclaimed while the others take the rest. */
#define BALANCED_PARTS 4

typedef struct pool_job {
  prism__range_fn fn;
  void *ctx;
  size_t n, chunk;
} pool_job;

/*
 * Parts are claimed, not assigned: whoever is running (the caller included)
 * takes the next unstarted part, so a worker the scheduler has not woken yet
 * costs nothing. The claim word packs the job's generation, its part count
 * and the next part; a worker that wakes after its job ended sees another
 * generation and claims nothing, and `current` is only read after a claim,
 * while the job that owns it cannot finish.
 */
#define CLAIM_GEN_SHIFT 32
#define CLAIM_PARTS_SHIFT 16
#define CLAIM_FIELD 0xffffu

static pthread_mutex_t pool_busy = PTHREAD_MUTEX_INITIALIZER; /* one job at a time */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER; /* guards sleep/wake */
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static pthread_t workers[POOL_MAX_THREADS];
static unsigned worker_start_generation[POOL_MAX_THREADS];
static int worker_count;
static atomic_int num_threads;
static atomic_uint job_generation;
static _Atomic uint64_t claim_word;
static atomic_size_t parts_done;
static pool_job current;

static int online_cpus(void)
{
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > POOL_MAX_THREADS ? POOL_MAX_THREADS : (int)n;
}

PRISM_API int prism_get_num_threads(void)
{
  int n = atomic_load(&num_threads);
  return n > 0 ? n : online_cpus();
}

int prism__pool_set_threads(int n)
{
  if (n <= 0)
    n = online_cpus();
  if (n > POOL_MAX_THREADS)
    n = POOL_MAX_THREADS;
  atomic_store(&num_threads, n);
  return n;
}

static void run_part(size_t part)
{
  size_t begin = part * current.chunk;
  size_t end = begin + current.chunk;
  if (end > current.n)
    end = current.n;
  if (begin < end)
    current.fn(current.ctx, begin, end);
}

/* Run unstarted parts of job `gen` until none is left. */
static void claim_parts(unsigned gen)
{
  uint64_t word = atomic_load_explicit(&claim_word, memory_order_acquire);
  for (;;) {
    size_t next = (size_t)(word & CLAIM_FIELD);
    size_t parts = (size_t)((word >> CLAIM_PARTS_SHIFT) & CLAIM_FIELD);
    if ((unsigned)(word >> CLAIM_GEN_SHIFT) != gen || next >= parts)
      return;
    if (!atomic_compare_exchange_weak_explicit(&claim_word, &word, word + 1, memory_order_acq_rel,
                                               memory_order_acquire))
      continue;
    run_part(next);
    atomic_fetch_add_explicit(&parts_done, 1, memory_order_release);
    word = atomic_load_explicit(&claim_word, memory_order_acquire);
  }
}

static void *worker_main(void *arg)
{
  int index = (int)(size_t)arg;
  /* The generation before the job that started this worker: it must see that job. */
  unsigned seen = worker_start_generation[index];

  for (;;) {
    unsigned gen;
    int spins = 0;
    while ((gen = atomic_load_explicit(&job_generation, memory_order_acquire)) == seen) {
      if (++spins < SPIN_ITERATIONS) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        continue;
      }
      pthread_mutex_lock(&pool_lock);
      while ((gen = atomic_load(&job_generation)) == seen)
        pthread_cond_wait(&pool_wake, &pool_lock);
      pthread_mutex_unlock(&pool_lock);
      break;
    }
    seen = gen;
    claim_parts(gen);
  }
  return NULL;
}

/* Start workers up to `want` - 1; returns how many parts can run. */
static int ensure_workers(int want)
{
  while (worker_count < want - 1) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    worker_start_generation[worker_count] = atomic_load(&job_generation);
    if (pthread_create(&workers[worker_count], &attr, worker_main, (void *)(size_t)worker_count) !=
        0) {
      pthread_attr_destroy(&attr);
      break;
    }
    pthread_attr_destroy(&attr);
    worker_count++;
  }
  return worker_count + 1 < want ? worker_count + 1 : want;
}

/* Up to `per_thread` parts per thread, each of at least `grain` items. */
static void run_job(size_t n, size_t grain, size_t per_thread, prism__range_fn fn, void *ctx)
{
  size_t parts, chunk, threads = (size_t)prism_get_num_threads();
  unsigned gen;

  if (n == 0)
    return;
  if (grain == 0)
    grain = 1;
  parts = (n + grain - 1) / grain;
  if (threads > parts)
    threads = parts;
  if (threads <= 1 || pthread_mutex_trylock(&pool_busy) != 0) {
    fn(ctx, 0, n);
    return;
  }
  threads = (size_t)ensure_workers((int)threads);
  if (parts > threads * per_thread)
    parts = threads * per_thread;
  chunk = (n + parts - 1) / parts;
  parts = (n + chunk - 1) / chunk;
  current.fn = fn;
  current.ctx = ctx;
  current.n = n;
  current.chunk = chunk;
  atomic_store_explicit(&parts_done, 0, memory_order_relaxed);
  pthread_mutex_lock(&pool_lock);
  gen = atomic_load_explicit(&job_generation, memory_order_relaxed) + 1;
  atomic_store_explicit(&claim_word,
                        ((uint64_t)gen << CLAIM_GEN_SHIFT) | ((uint64_t)parts << CLAIM_PARTS_SHIFT),
                        memory_order_release);
  atomic_store_explicit(&job_generation, gen, memory_order_release);
  pthread_cond_broadcast(&pool_wake);
  pthread_mutex_unlock(&pool_lock);

  claim_parts(gen);
  /* A part still running elsewhere: spin a little, then let the scheduler run its thread. */
  for (int spins = 0; atomic_load_explicit(&parts_done, memory_order_acquire) < parts; spins++) {
#if defined(__x86_64__) || defined(__i386__)
    if (spins < WAIT_SPINS) {
      __builtin_ia32_pause();
      continue;
    }
#endif
    sched_yield();
  }
  pthread_mutex_unlock(&pool_busy);
}

void prism__parallel_for(size_t n, size_t grain, prism__range_fn fn, void *ctx)
{
  run_job(n, grain, 1, fn, ctx);
}

void prism__parallel_for_balanced(size_t n, size_t grain, prism__range_fn fn, void *ctx)
{
  run_job(n, grain, BALANCED_PARTS, fn, ctx);
}
