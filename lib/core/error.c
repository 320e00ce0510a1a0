/* SPDX-License-Identifier: Apache-2.0 */
/* Status names and the thread-local detail message. */
#include "core/core.h"

#include <stdio.h>

/* Big enough for a key path plus a value; longer messages are truncated, never
 * allocated, so reporting an out-of-memory error cannot itself fail. */
#define RQ_ERROR_CAPACITY 1024

static _Thread_local char rq_error_message[RQ_ERROR_CAPACITY];

const char *rq_status_str(rq_status status) {
  switch (status) {
    case RQ_OK: return "RQ_OK";
    case RQ_ERR_INVALID_ARG: return "RQ_ERR_INVALID_ARG";
    case RQ_ERR_NOMEM: return "RQ_ERR_NOMEM";
    case RQ_ERR_IO: return "RQ_ERR_IO";
    case RQ_ERR_FORMAT: return "RQ_ERR_FORMAT";
    case RQ_ERR_UNSUPPORTED: return "RQ_ERR_UNSUPPORTED";
    case RQ_ERR_NONFINITE: return "RQ_ERR_NONFINITE";
    case RQ_ERR_NOT_FOUND: return "RQ_ERR_NOT_FOUND";
    case RQ_ERR_EXISTS: return "RQ_ERR_EXISTS";
    case RQ_ERR_STATE: return "RQ_ERR_STATE";
    case RQ_ERR_ABI: return "RQ_ERR_ABI";
    case RQ_ERR_CHECKSUM: return "RQ_ERR_CHECKSUM";
    case RQ_ERR_ISA: return "RQ_ERR_ISA";
    case RQ_ERR_INTERNAL: return "RQ_ERR_INTERNAL";
    case RQ_ERR_CALLBACK: return "RQ_ERR_CALLBACK";
  }
  return "RQ_ERR_UNKNOWN";
}

const char *rq_last_error(void) { return rq_error_message; }

void rq_error_clear(void) { rq_error_message[0] = '\0'; }

rq_status rq__vfail(rq_status status, const char *where, const char *fmt, va_list ap) {
  int used = 0;
  if (where != NULL) {
    used = snprintf(rq_error_message, sizeof rq_error_message, "%s: ", where);
    if (used < 0 || (size_t)used >= sizeof rq_error_message) used = 0;
  }
  if (fmt != NULL) {
    vsnprintf(rq_error_message + used, sizeof rq_error_message - (size_t)used, fmt, ap);
  } else {
    rq_error_message[used] = '\0';
  }
  return status;
}

rq_status rq__fail(rq_status status, const char *where, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rq__vfail(status, where, fmt, ap);
  va_end(ap);
  return status;
}

rq_status rq_error_set(rq_status status, const char *fmt, ...) {
  if (fmt == NULL) return rq__fail(status, NULL, "%s", rq_status_str(status));
  va_list ap;
  va_start(ap, fmt);
  rq__vfail(status, NULL, fmt, ap);
  va_end(ap);
  return status;
}

rq_status rq__nomem(const char *where, size_t bytes) {
  return rq__fail(RQ_ERR_NOMEM, where, "out of memory allocating %zu bytes", bytes);
}
