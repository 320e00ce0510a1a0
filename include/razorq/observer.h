/* SPDX-License-Identifier: Apache-2.0 */
/* Observers: collect tensor statistics and turn them into scales and zero points. */
#ifndef RAZORQ_OBSERVER_H
#define RAZORQ_OBSERVER_H

#include <razorq/common.h>
#include <razorq/status.h>

RQ_EXTERN_C_BEGIN

/* One observer instance (MinMaxObserver, HistogramObserver, ...). Opaque; a
 * handle is not thread-safe, distinct handles are. */
typedef struct rq_observer rq_observer;

RQ_EXTERN_C_END

#endif
