/* Internal: the process-wide safety limits of prism_limits_set(). */
#ifndef PRISM__COMMON_LIMITS_H
#define PRISM__COMMON_LIMITS_H

#include "prism/common.h"

/* A snapshot of the limits in effect. */
prism_limits prism__limits(void);

/* The tighter of a per-call cap and a process-wide one (0 meaning no cap on either side). */
uint64_t prism__cap(uint64_t call_cap, uint64_t global_cap);

#endif
