/* SPDX-License-Identifier: Apache-2.0 */
/* The one allocator hook every razorq allocation goes through. */
#ifndef RAZORQ_MEMORY_H
#define RAZORQ_MEMORY_H

#include <razorq/common.h>
#include <razorq/status.h>

RQ_EXTERN_C_BEGIN

/* An allocator an engine can route razorq's memory through. `realloc` may be
 * NULL (razorq then allocates, copies and frees). `malloc` must return memory
 * aligned to at least alignof(max_align_t); razorq aligns larger blocks itself. */
typedef struct rq_allocator {
  size_t struct_size; /* sizeof(rq_allocator): lets fields be added later */
  void *(*malloc)(void *ctx, size_t size);
  void *(*realloc)(void *ctx, void *ptr, size_t old_size, size_t new_size);
  void (*free)(void *ctx, void *ptr, size_t size);
  void *ctx;
} rq_allocator;

/* Fills *allocator with the default (the C library's malloc/realloc/free). */
RQ_API rq_status rq_allocator_init(rq_allocator *allocator, size_t struct_size);

/* Routes every later razorq allocation through `allocator` (copied), or back to
 * the C library for NULL. One exception: the short-lived JSON parse trees of
 * config parsing are jansson's, on the C library allocator (jansson's
 * allocator is process-wide, and changing it would break a host application
 * that uses jansson itself). Refused with RQ_ERR_STATE while memory allocated
 * through the current allocator is still live, so a block is always freed by
 * the allocator that made it. Thread-safe. */
RQ_API rq_status rq_set_allocator(const rq_allocator *allocator);

/* Bytes currently allocated through razorq's allocator (for leak checks and
 * for engines that budget memory). */
RQ_API size_t rq_memory_in_use(void);

RQ_EXTERN_C_END

#endif
