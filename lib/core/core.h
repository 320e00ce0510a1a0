/* SPDX-License-Identifier: Apache-2.0 */
/* Internal helpers every part of the library uses: errors, memory, checks.
 * Never installed. */
#ifndef RQ_CORE_CORE_H
#define RQ_CORE_CORE_H

#include <razorq/razorq.h>

#include <stdarg.h>

/* Internal (non-exported) symbols use the rq__ prefix; the version script
 * keeps them local anyway, the prefix keeps them apart from the public API. */

/* Sets the thread's detail message "<where>: <message>" and returns status. */
rq_status rq__fail(rq_status status, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
rq_status rq__vfail(rq_status status, const char *where, const char *fmt, va_list ap);

/* Argument checks that name the function and the argument. */
#define RQ_CHECK_ARG(cond, ...)                                               \
  do {                                                                        \
    if (!(cond)) return rq__fail(RQ_ERR_INVALID_ARG, __func__, __VA_ARGS__); \
  } while (0)
#define RQ_CHECK_NOT_NULL(arg) RQ_CHECK_ARG((arg) != NULL, "%s is NULL", #arg)

/* Propagates a failing status (the callee already set the message). */
#define RQ_TRY(expr)                     \
  do {                                   \
    rq_status rq__s = (expr);            \
    if (rq__s != RQ_OK) return rq__s;    \
  } while (0)

/* Memory through the user's allocator. rq__malloc/rq__calloc return NULL on
 * failure without setting an error; callers report RQ_ERR_NOMEM themselves
 * (rq__nomem) so the message can say what was being allocated. Sizes are
 * checked for overflow: rq__malloc_array(n, size). */
void *rq__malloc(size_t size);
void *rq__calloc(size_t count, size_t size);
void *rq__malloc_array(size_t count, size_t size);
void *rq__realloc(void *ptr, size_t size);
void *rq__realloc_array(void *ptr, size_t count, size_t size);
void rq__free(void *ptr);
/* The size ptr (from rq__malloc & co., not NULL) was allocated with. */
size_t rq__alloc_size(const void *ptr);
char *rq__strdup(const char *s);
rq_status rq__nomem(const char *where, size_t bytes);

/* Overflow-checked size arithmetic: false on overflow. */
static inline bool rq__mul_size(size_t a, size_t b, size_t *out) {
  return !__builtin_mul_overflow(a, b, out);
}
static inline bool rq__add_size(size_t a, size_t b, size_t *out) {
  return !__builtin_add_overflow(a, b, out);
}

#endif
