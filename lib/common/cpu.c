#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpu.h"
#include "prism/common.h"

#if defined(__x86_64__) || defined(__i386__)
#  include <cpuid.h>

static unsigned long long read_xcr0(void)
{
  unsigned eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return ((unsigned long long)edx << 32) | eax;
}

static unsigned detect(void)
{
  unsigned a, b, c, d, flags = 0;
  unsigned long long xcr0;
  int fma, f16c, osxsave;

  if (!__get_cpuid(1, &a, &b, &c, &d))
    return 0;
  fma = (c >> 12) & 1;
  f16c = (c >> 29) & 1;
  osxsave = (c >> 27) & 1;
  if (!osxsave)
    return 0;
  xcr0 = read_xcr0();
  if ((xcr0 & 6) != 6 || __get_cpuid_max(0, NULL) < 7)
    return 0;
  __cpuid_count(7, 0, a, b, c, d);
  if (fma && f16c && ((b >> 5) & 1))
    flags |= PRISM__CPU_AVX2;
  if ((xcr0 & 0xe6) == 0xe6 && ((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 30) & 1) &&
      ((b >> 31) & 1) && (flags & PRISM__CPU_AVX2)) {
    flags |= PRISM__CPU_AVX512;
    if ((c >> 11) & 1)
      flags |= PRISM__CPU_AVX512VNNI;
    if ((d >> 23) & 1)
      flags |= PRISM__CPU_AVX512FP16;
    __cpuid_count(7, 1, a, b, c, d);
    if ((a >> 5) & 1)
      flags |= PRISM__CPU_AVX512BF16;
  }
  return flags;
}
#else
static unsigned detect(void)
{
  return 0;
}
#endif

static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;
static unsigned cpu_flags;
static char cpu_names[64];

static void init_flags(void)
{
  static const char *const names[] = { "avx2", "avx512", "avx512bf16", "avx512vnni", "avx512fp16" };
  const char *mask = getenv("PRISM_CPU_MASK");
  size_t used = 0;
  cpu_flags = detect();
  if (mask && *mask)
    cpu_flags &= (unsigned)strtoul(mask, NULL, 10);
  for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
    if (cpu_flags & (1u << i))
      used += (size_t)snprintf(cpu_names + used, sizeof cpu_names - used, "%s%s", used ? " " : "",
                               names[i]);
}

unsigned prism__cpu_flags(void)
{
  pthread_once(&cpu_once, init_flags);
  return cpu_flags;
}

PRISM_API const char *prism_cpu_features(void)
{
  prism__cpu_flags();
  return cpu_names;
}
