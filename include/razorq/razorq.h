/* SPDX-License-Identifier: Apache-2.0 */
/* razorq: quantize neural networks from C. Include this one header. */
#ifndef RAZORQ_H
#define RAZORQ_H

#include <razorq/common.h>
#include <razorq/version.h>
#include <razorq/status.h>
#include <razorq/memory.h>
#include <razorq/cpu.h>
#include <razorq/npy.h>
#include <razorq/graph.h>
#include <razorq/exec.h>
#include <razorq/observer.h>
#include <razorq/fakequant.h>
#include <razorq/backend.h>
#include <razorq/session.h>
#include <razorq/export.h>

RQ_EXTERN_C_BEGIN

/* The version of the library you run against, as RQ_VERSION_NUMBER
 * (major * 10000 + minor * 100 + patch); compare with the macro you compiled
 * against to detect a mismatched shared library. */
RQ_API unsigned rq_version(void);
/* The same as "major.minor.patch"; never NULL. */
RQ_API const char *rq_version_string(void);
/* The ABI major of the running library (the soname suffix). */
RQ_API unsigned rq_abi_major(void);

RQ_EXTERN_C_END

#endif
