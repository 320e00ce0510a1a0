/* SPDX-License-Identifier: Apache-2.0 */
/* The allocator hook. Every block carries a small header with its size, so the
 * user's free() and realloc() get the size they may need, and so razorq can
 * report how much it holds. */
#include "core/core.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef union block_header {
  size_t size;
  max_align_t align; /* keeps the payload aligned as malloc's would be */
} block_header;

static void *libc_malloc(void *ctx, size_t size) { (void)ctx; return malloc(size); }
static void *libc_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size) {
  (void)ctx; (void)old_size;
  return realloc(ptr, new_size);
}
static void libc_free(void *ctx, void *ptr, size_t size) { (void)ctx; (void)size; free(ptr); }

static const rq_allocator libc_allocator = {
  .struct_size = sizeof(rq_allocator),
  .malloc = libc_malloc,
  .realloc = libc_realloc,
  .free = libc_free,
  .ctx = NULL,
};

/* Swapped only while no razorq block is live (see rq_set_allocator), so
 * allocation paths read it without a lock. */
static rq_allocator current = {
  .struct_size = sizeof(rq_allocator),
  .malloc = libc_malloc,
  .realloc = libc_realloc,
  .free = libc_free,
  .ctx = NULL,
};
static pthread_mutex_t allocator_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_size_t bytes_in_use;
static atomic_size_t blocks_in_use;

rq_status rq_allocator_init(rq_allocator *allocator, size_t struct_size) {
  RQ_CHECK_NOT_NULL(allocator);
  RQ_CHECK_ARG(struct_size >= offsetof(rq_allocator, ctx) + sizeof(void *) &&
                   struct_size <= sizeof(rq_allocator),
               "struct_size %zu is not a size this library knows (expected %zu)",
               struct_size, sizeof(rq_allocator));
  memset(allocator, 0, struct_size);
  memcpy(allocator, &libc_allocator, struct_size);
  allocator->struct_size = struct_size;
  return RQ_OK;
}

rq_status rq_set_allocator(const rq_allocator *allocator) {
  rq_allocator next = libc_allocator;
  if (allocator != NULL) {
    RQ_CHECK_ARG(allocator->struct_size >= offsetof(rq_allocator, ctx) + sizeof(void *),
                 "allocator->struct_size %zu is too small (expected %zu); call rq_allocator_init first",
                 allocator->struct_size, sizeof(rq_allocator));
    RQ_CHECK_ARG(allocator->malloc != NULL && allocator->free != NULL,
                 "allocator->malloc and allocator->free must both be set");
    size_t n = allocator->struct_size < sizeof next ? allocator->struct_size : sizeof next;
    memcpy(&next, allocator, n);
    next.struct_size = sizeof next;
  }
  pthread_mutex_lock(&allocator_lock);
  size_t live = atomic_load(&blocks_in_use);
  if (live != 0) {
    pthread_mutex_unlock(&allocator_lock);
    return rq__fail(RQ_ERR_STATE, __func__,
                    "%zu razorq allocations are still live; destroy every handle before changing the allocator",
                    live);
  }
  current = next;
  pthread_mutex_unlock(&allocator_lock);
  return RQ_OK;
}

size_t rq_memory_in_use(void) { return atomic_load(&bytes_in_use); }

void *rq__malloc(size_t size) {
  size_t total;
  if (!rq__add_size(size, sizeof(block_header), &total)) return NULL;
  block_header *h = current.malloc(current.ctx, total);
  if (h == NULL) return NULL;
  h->size = size;
  atomic_fetch_add(&bytes_in_use, size);
  atomic_fetch_add(&blocks_in_use, 1);
  return h + 1;
}

void *rq__calloc(size_t count, size_t size) {
  size_t bytes;
  if (!rq__mul_size(count, size, &bytes)) return NULL;
  void *p = rq__malloc(bytes);
  if (p != NULL) memset(p, 0, bytes);
  return p;
}

void *rq__malloc_array(size_t count, size_t size) {
  size_t bytes;
  if (!rq__mul_size(count, size, &bytes)) return NULL;
  return rq__malloc(bytes);
}

void *rq__realloc(void *ptr, size_t size) {
  if (ptr == NULL) return rq__malloc(size);
  block_header *h = (block_header *)ptr - 1;
  size_t old = h->size, total;
  if (!rq__add_size(size, sizeof(block_header), &total)) return NULL;
  block_header *n;
  if (current.realloc != NULL) {
    n = current.realloc(current.ctx, h, old + sizeof(block_header), total);
    if (n == NULL) return NULL;
  } else {
    n = current.malloc(current.ctx, total);
    if (n == NULL) return NULL;
    memcpy(n + 1, h + 1, old < size ? old : size);
    current.free(current.ctx, h, old + sizeof(block_header));
  }
  n->size = size;
  atomic_fetch_add(&bytes_in_use, size);
  atomic_fetch_sub(&bytes_in_use, old);
  return n + 1;
}

void *rq__realloc_array(void *ptr, size_t count, size_t size) {
  size_t bytes;
  if (!rq__mul_size(count, size, &bytes)) return NULL;
  return rq__realloc(ptr, bytes);
}

size_t rq__alloc_size(const void *ptr) {
  return ((const block_header *)ptr - 1)->size;
}

void rq__free(void *ptr) {
  if (ptr == NULL) return;
  block_header *h = (block_header *)ptr - 1;
  size_t size = h->size;
  atomic_fetch_sub(&bytes_in_use, size);
  atomic_fetch_sub(&blocks_in_use, 1);
  current.free(current.ctx, h, size + sizeof(block_header));
}

char *rq__strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = rq__malloc(n);
  if (d != NULL) memcpy(d, s, n);
  return d;
}
