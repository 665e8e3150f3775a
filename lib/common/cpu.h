/* Internal: CPU features for runtime kernel dispatch. */
#ifndef PRISM__COMMON_CPU_H
#define PRISM__COMMON_CPU_H

enum {
  PRISM__CPU_AVX2 = 1 << 0,       /* AVX2 + FMA + F16C */
  PRISM__CPU_AVX512 = 1 << 1,     /* AVX-512 F + BW + VL + DQ */
  PRISM__CPU_AVX512BF16 = 1 << 2, /* AVX512_BF16 (vdpbf16ps) */
  PRISM__CPU_AVX512VNNI = 1 << 3, /* AVX512_VNNI (vpdpbusd) */
  PRISM__CPU_AVX512FP16 = 1 << 4, /* AVX512_FP16: marks cores whose vdpbf16ps is slower than FMA */
};

/* Bitmask of PRISM_CPU_*; the environment variable PRISM_CPU_MASK (decimal) can clear bits. */
unsigned prism__cpu_flags(void);

#endif
