/* SPDX-License-Identifier: Apache-2.0 */
/* The foundation: status names, the thread-local error, the allocator hook,
 * version reporting and option-struct initialisers. */
#include "core/core.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

START_TEST(status_names_are_fixed) {
  /* The numeric values are ABI: pinned here so a renumbering fails the build's tests. */
  ck_assert_int_eq(RQ_OK, 0);
  ck_assert_int_eq(RQ_ERR_INVALID_ARG, -1);
  ck_assert_int_eq(RQ_ERR_NOMEM, -2);
  ck_assert_int_eq(RQ_ERR_IO, -3);
  ck_assert_int_eq(RQ_ERR_FORMAT, -4);
  ck_assert_int_eq(RQ_ERR_UNSUPPORTED, -5);
  ck_assert_int_eq(RQ_ERR_NONFINITE, -6);
  ck_assert_int_eq(RQ_ERR_NOT_FOUND, -7);
  ck_assert_int_eq(RQ_ERR_EXISTS, -8);
  ck_assert_int_eq(RQ_ERR_STATE, -9);
  ck_assert_int_eq(RQ_ERR_ABI, -10);
  ck_assert_int_eq(RQ_ERR_CHECKSUM, -11);
  ck_assert_int_eq(RQ_ERR_ISA, -12);
  ck_assert_int_eq(RQ_ERR_INTERNAL, -90);
  ck_assert_int_eq(RQ_ERR_CALLBACK, -99);
  ck_assert_str_eq(rq_status_str(RQ_OK), "RQ_OK");
  ck_assert_str_eq(rq_status_str(RQ_ERR_NONFINITE), "RQ_ERR_NONFINITE");
  ck_assert_str_eq(rq_status_str((rq_status)12345), "RQ_ERR_UNKNOWN");
}
END_TEST

START_TEST(last_error_is_never_null_and_formats) {
  rq_error_clear();
  ck_assert_ptr_nonnull(rq_last_error());
  ck_assert_str_eq(rq_last_error(), "");
  ck_assert_int_eq(rq_error_set(RQ_ERR_CALLBACK, "plugin %s failed with %d", "x", 7), RQ_ERR_CALLBACK);
  ck_assert_str_eq(rq_last_error(), "plugin x failed with 7");
  ck_assert_int_eq(rq_error_set(RQ_ERR_IO, NULL), RQ_ERR_IO);
  ck_assert_str_eq(rq_last_error(), "RQ_ERR_IO");
  /* A message longer than the buffer is truncated, not overflowed. */
  char big[4096];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  rq_error_set(RQ_ERR_FORMAT, "%s", big);
  ck_assert_uint_lt(strlen(rq_last_error()), sizeof big);
  ck_assert_uint_gt(strlen(rq_last_error()), 100);
}
END_TEST

static void *set_error_on_other_thread(void *arg) {
  (void)arg;
  rq_error_set(RQ_ERR_IO, "other thread");
  return NULL;
}

START_TEST(last_error_is_thread_local) {
  rq_error_set(RQ_ERR_FORMAT, "main thread");
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, set_error_on_other_thread, NULL), 0);
  pthread_join(t, NULL);
  ck_assert_str_eq(rq_last_error(), "main thread");
}
END_TEST

START_TEST(version_matches_headers) {
  ck_assert_uint_eq(rq_version(), RQ_VERSION_NUMBER);
  ck_assert_str_eq(rq_version_string(), RQ_VERSION_STRING);
  ck_assert_uint_eq(rq_abi_major(), RQ_ABI_MAJOR);
}
END_TEST

/* A counting allocator standing in for an engine's arena. */
typedef struct counting {
  size_t mallocs, frees, reallocs, live_bytes;
  int fail_next;
} counting;

static void *counting_malloc(void *ctx, size_t size) {
  counting *c = ctx;
  if (c->fail_next) { c->fail_next = 0; return NULL; }
  c->mallocs++;
  c->live_bytes += size;
  return malloc(size);
}
static void *counting_realloc(void *ctx, void *p, size_t old_size, size_t new_size) {
  counting *c = ctx;
  c->reallocs++;
  c->live_bytes += new_size - old_size;
  return realloc(p, new_size);
}
static void counting_free(void *ctx, void *p, size_t size) {
  counting *c = ctx;
  c->frees++;
  c->live_bytes -= size;
  free(p);
}

START_TEST(allocator_hook_routes_everything) {
  counting c = {0};
  rq_allocator a;
  ck_assert_int_eq(rq_allocator_init(&a, sizeof a), RQ_OK);
  ck_assert_ptr_nonnull(a.malloc);
  a.malloc = counting_malloc;
  a.realloc = counting_realloc;
  a.free = counting_free;
  a.ctx = &c;
  size_t base = rq_memory_in_use();
  ck_assert_int_eq(rq_set_allocator(&a), RQ_OK);
  char *p = rq__malloc(100);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(c.mallocs, 1);
  ck_assert_uint_eq(rq_memory_in_use(), base + 100);
  /* While a block is live the allocator cannot change under it. */
  ck_assert_int_eq(rq_set_allocator(NULL), RQ_ERR_STATE);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "still live"));
  p = rq__realloc(p, 1000);
  ck_assert_ptr_nonnull(p);
  ck_assert_uint_eq(c.reallocs, 1);
  ck_assert_uint_eq(rq_memory_in_use(), base + 1000);
  rq__free(p);
  ck_assert_uint_eq(c.frees, 1);
  ck_assert_uint_eq(c.live_bytes, 0);
  c.fail_next = 1;
  ck_assert_ptr_null(rq__malloc(8));
  ck_assert_int_eq(rq_set_allocator(NULL), RQ_OK);
  ck_assert_uint_eq(rq_memory_in_use(), base);
}
END_TEST

START_TEST(allocator_without_realloc_copies) {
  counting c = {0};
  rq_allocator a;
  ck_assert_int_eq(rq_allocator_init(&a, sizeof a), RQ_OK);
  a.malloc = counting_malloc;
  a.realloc = NULL;
  a.free = counting_free;
  a.ctx = &c;
  ck_assert_int_eq(rq_set_allocator(&a), RQ_OK);
  char *p = rq__malloc(4);
  memcpy(p, "abc", 4);
  p = rq__realloc(p, 64);
  ck_assert_str_eq(p, "abc");
  ck_assert_uint_eq(c.mallocs, 2);
  ck_assert_uint_eq(c.frees, 1);
  rq__free(p);
  ck_assert_uint_eq(c.live_bytes, 0);
  ck_assert_int_eq(rq_set_allocator(NULL), RQ_OK);
}
END_TEST

START_TEST(allocator_rejects_bad_arguments) {
  rq_allocator a;
  ck_assert_int_eq(rq_allocator_init(NULL, sizeof a), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "allocator is NULL"));
  ck_assert_int_eq(rq_allocator_init(&a, 3), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "struct_size"));
  ck_assert_int_eq(rq_allocator_init(&a, sizeof a), RQ_OK);
  a.malloc = NULL;
  ck_assert_int_eq(rq_set_allocator(&a), RQ_ERR_INVALID_ARG);
  a.struct_size = 1;
  ck_assert_int_eq(rq_set_allocator(&a), RQ_ERR_INVALID_ARG);
}
END_TEST

START_TEST(size_arithmetic_overflow_is_refused) {
  ck_assert_ptr_null(rq__malloc_array(SIZE_MAX / 2, 4));
  ck_assert_ptr_null(rq__calloc(SIZE_MAX, 2));
  ck_assert_ptr_null(rq__malloc(SIZE_MAX));
  size_t out;
  ck_assert(!rq__mul_size(SIZE_MAX, 2, &out));
  ck_assert(rq__mul_size(3, 4, &out) && out == 12);
}
END_TEST

int main(void) {
  Suite *s = suite_create("core");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, status_names_are_fixed);
  tcase_add_test(tc, last_error_is_never_null_and_formats);
  tcase_add_test(tc, last_error_is_thread_local);
  tcase_add_test(tc, version_matches_headers);
  tcase_add_test(tc, allocator_hook_routes_everything);
  tcase_add_test(tc, allocator_without_realloc_copies);
  tcase_add_test(tc, allocator_rejects_bad_arguments);
  tcase_add_test(tc, size_arithmetic_overflow_is_refused);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
