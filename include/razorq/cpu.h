/* SPDX-License-Identifier: Apache-2.0 */
/* Which SIMD kernel set runs on this CPU. */
#ifndef RAZORQ_CPU_H
#define RAZORQ_CPU_H

#include <razorq/common.h>
#include <razorq/status.h>

RQ_EXTERN_C_BEGIN

RQ_EXTERN_C_END

#endif
