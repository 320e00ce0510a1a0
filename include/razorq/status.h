/* SPDX-License-Identifier: Apache-2.0 */
/* Status codes, their names, and the per-thread detail message of the last failure. */
#ifndef RAZORQ_STATUS_H
#define RAZORQ_STATUS_H

#include <razorq/common.h>

RQ_EXTERN_C_BEGIN

/* Every fallible function returns one of these. The values are part of the ABI:
 * they are never renumbered, and new codes take new numbers from the gaps. */
typedef enum rq_status {
  RQ_OK = 0,
  RQ_ERR_INVALID_ARG = -1,     /* a NULL, out-of-range or inconsistent argument */
  RQ_ERR_NOMEM = -2,           /* an allocation failed (nothing was changed) */
  RQ_ERR_IO = -3,              /* a file could not be opened, read or written */
  RQ_ERR_FORMAT = -4,          /* malformed input: ONNX, JSON, .npy, saved state */
  RQ_ERR_UNSUPPORTED = -5,     /* valid, but not something razorq implements */
  RQ_ERR_NONFINITE = -6,       /* a tensor held NaN or Inf where a finite value is needed */
  RQ_ERR_NOT_FOUND = -7,       /* a named thing (class, edge, node, key) does not exist */
  RQ_ERR_EXISTS = -8,          /* a registration collides with an existing name */
  RQ_ERR_STATE = -9,           /* the call is not allowed in the object's current state */
  RQ_ERR_ABI = -10,            /* a plugin or saved file was made for another ABI/format version */
  RQ_ERR_CHECKSUM = -11,       /* saved data failed its integrity check */
  RQ_ERR_ISA = -12,            /* the requested instruction set is not available on this CPU */
  RQ_ERR_INTERNAL = -90,       /* a razorq bug: please report it with rq_last_error() */
  RQ_ERR_CALLBACK = -99,       /* reserved for errors raised by user callbacks and plugins */
} rq_status;

/* A short constant name for a status ("RQ_ERR_INVALID_ARG"); never NULL. */
RQ_API const char *rq_status_str(rq_status status);

/* The detail message of the last failing razorq call on this thread, e.g.
 * "rq_observer_create: bit: 17 is outside 1..16". Never NULL; "" when the
 * thread has seen no failure. Valid until the next razorq call on this thread. */
RQ_API const char *rq_last_error(void);

/* Sets this thread's detail message (printf-style) and returns status; for
 * plugins and callbacks, which should use RQ_ERR_CALLBACK or a fitting code. */
RQ_API rq_status rq_error_set(rq_status status, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;

/* Clears this thread's detail message. */
RQ_API void rq_error_clear(void);

RQ_EXTERN_C_END

#endif
