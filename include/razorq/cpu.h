/* SPDX-License-Identifier: Apache-2.0 */
/* Which SIMD kernel set runs on this CPU. */
#ifndef RAZORQ_CPU_H
#define RAZORQ_CPU_H

#include <razorq/common.h>
#include <razorq/status.h>

RQ_EXTERN_C_BEGIN

/* The instruction set whose kernels run: "scalar", "sse41", "avx2" or "neon".
 * Chosen once per process from the CPU's features, or from the environment
 * variable RAZORQ_ISA (same names) when it names an available one. Never NULL. */
RQ_API const char *rq_kernel_isa(void);

/* Switches the kernels to `isa` ("scalar", "sse41", "avx2", "neon", or "auto"
 * / NULL for the automatic choice). Every set computes bit-identical results;
 * this exists for testing and benchmarking. RQ_ERR_INVALID_ARG for an unknown
 * name, RQ_ERR_ISA when this CPU or build lacks it (the choice is unchanged).
 * Do not call it while other threads run razorq kernels. */
RQ_API rq_status rq_kernel_set_isa(const char *isa);

RQ_EXTERN_C_END

#endif
