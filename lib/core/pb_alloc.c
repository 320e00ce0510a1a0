/* SPDX-License-Identifier: Apache-2.0 */
#include "core/pb_alloc.h"

#include "core/core.h"

#include <stdarg.h>
#include <stdbool.h>

/* protobuf-c returns NULL both for malformed bytes and when an allocation
 * failed; this tells the two apart for the thread's last unpack. */
static _Thread_local bool alloc_failed;

static void *pb_alloc(void *ctx, size_t size) {
  (void)ctx;
  void *p = rq__malloc(size);
  if (p == NULL) alloc_failed = true;
  return p;
}

static void pb_free(void *ctx, void *ptr) {
  (void)ctx;
  rq__free(ptr);
}

ProtobufCAllocator rq__pb_allocator = {pb_alloc, pb_free, NULL};

rq_status rq__pb_unpack_failure(const char *where, const char *fmt, ...) {
  if (alloc_failed) {
    alloc_failed = false;
    return rq__fail(RQ_ERR_NOMEM, where, "out of memory decoding a protobuf message");
  }
  va_list ap;
  va_start(ap, fmt);
  rq__vfail(RQ_ERR_FORMAT, where, fmt, ap);
  va_end(ap);
  return RQ_ERR_FORMAT;
}
