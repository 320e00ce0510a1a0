/* SPDX-License-Identifier: Apache-2.0 */
#include "core/pb_alloc.h"

#include "core/core.h"

static void *pb_alloc(void *ctx, size_t size) {
  (void)ctx;
  return rq__malloc(size);
}

static void pb_free(void *ctx, void *ptr) {
  (void)ctx;
  rq__free(ptr);
}

ProtobufCAllocator rq__pb_allocator = {pb_alloc, pb_free, NULL};
