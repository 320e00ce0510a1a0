/* SPDX-License-Identifier: Apache-2.0 */
/* NumPy .npy files: a validated reader and a writer. */
#ifndef RAZORQ_NPY_H
#define RAZORQ_NPY_H

#include <razorq/common.h>
#include <razorq/status.h>

RQ_EXTERN_C_BEGIN

RQ_EXTERN_C_END

#endif
