/* SPDX-License-Identifier: Apache-2.0 */
/* Registering observer classes: the vtable's required members, duplicate
 * names, the ABI check, listing, and the example plugin loaded from its own
 * shared object and used through the JSON API. A custom class that supplies
 * only min/max must get exactly the qparams of the built-in MinMaxObserver
 * (itself checked against PyTorch) on the same statistic. */
#include <razorq/razorq.h>
#include <razorq/sys/plugin.h>

#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *plugin_path, *bad_plugin_path;

static DLTensor tensor_f32(float *data, int64_t *shape) {
  DLTensor t = {0};
  t.data = data;
  t.device.device_type = kDLCPU;
  t.ndim = 1;
  t.shape = shape;
  t.dtype.code = kDLFloat;
  t.dtype.bits = 32;
  t.dtype.lanes = 1;
  return t;
}

/* A plugin-style class defined in the test: running min/max, nothing else. */
typedef struct mm_state { float min, max; bool seen; } mm_state;

static rq_status mm_observe(void *state, const rq_observer_info *info, const rq_observer_batch *b) {
  (void)info;
  mm_state *s = state;
  size_t n = b->outer * b->channels * b->inner;
  for (size_t i = 0; i < n; i++) {
    float v = b->data[i];
    if (!s->seen || v < s->min) s->min = v;
    if (!s->seen || v > s->max) s->max = v;
    s->seen = true;
  }
  return RQ_OK;
}

static bool mm_minmax(const void *state, const rq_observer_info *info, size_t n, float *mn, float *mx) {
  (void)info;
  (void)n;
  const mm_state *s = state;
  if (!s->seen) return false;
  *mn = s->min;
  *mx = s->max;
  return true;
}

static rq_observer_class test_class(const char *name) {
  rq_observer_class cls = {0};
  cls.struct_size = sizeof cls;
  cls.abi_major = RQ_ABI_MAJOR;
  cls.name = name;
  cls.state_size = sizeof(mm_state);
  cls.observe = mm_observe;
  cls.minmax = mm_minmax;
  return cls;
}

static bool listed(const char *name) {
  const char *names[256];
  size_t count = 0;
  ck_assert_int_eq(rq_registry_list(RQ_REGISTRY_OBSERVER, NULL, 0, &count), RQ_OK);
  ck_assert_uint_le(count, 256);
  ck_assert_int_eq(rq_registry_list(RQ_REGISTRY_OBSERVER, names, 256, &count), RQ_OK);
  for (size_t i = 0; i < count; i++)
    if (strcmp(names[i], name) == 0) return true;
  return false;
}

static void qparams_of(const char *json, const float *x, size_t n, float *scale, int32_t *zp) {
  rq_observer *obs = NULL;
  ck_assert_msg(rq_observer_create(json, &obs) == RQ_OK, "%s: %s", json, rq_last_error());
  int64_t shape[1] = {(int64_t)n};
  DLTensor t = tensor_f32((float *)x, shape);
  ck_assert_int_eq(rq_observer_observe(obs, &t), RQ_OK);
  size_t count;
  ck_assert_int_eq(rq_observer_qparams(obs, scale, zp, 1, &count), RQ_OK);
  rq_observer_destroy(obs);
}

START_TEST(builtins_are_listed) {
  const char *names[] = {"MinMaxObserver", "HistogramObserver", "LSQPerChannelObserver",
                         "FixedQParamsObserver", "ReuseInputObserver"};
  for (size_t i = 0; i < 5; i++) ck_assert_msg(listed(names[i]), "%s not listed", names[i]);
  size_t count = 0;
  const char *one[1];
  ck_assert_int_eq(rq_registry_list(RQ_REGISTRY_OBSERVER, one, 1, &count), RQ_ERR_INVALID_ARG);
  ck_assert_uint_gt(count, 10);
}
END_TEST

START_TEST(custom_class_reuses_uniform_qparams) {
  rq_observer_class cls = test_class("TestRunningMinMax");
  ck_assert_int_eq(rq_register_observer(&cls), RQ_OK);
  ck_assert(listed("TestRunningMinMax"));
  const float x[6] = {-0.75f, 3.5f, 1.25f, -2.0f, 0.1f, 2.2f};
  const char *schemes[] = {"\"qdtype\":\"qint8\",\"bit\":4,\"is_symmetry\":false",
                           "\"qdtype\":\"quint8\",\"bit\":8,\"is_symmetry\":true",
                           "\"qdtype\":\"qint8\",\"bit\":12,\"is_symmetry\":true,\"is_symmetric_range\":true",
                           "\"dtype\":\"quint8\",\"qscheme\":\"per_tensor_affine\",\"reduce_range\":true"};
  for (size_t i = 0; i < 4; i++) {
    char a[256], b[256];
    snprintf(a, sizeof a, "{\"type\":\"TestRunningMinMax\",%s}", schemes[i]);
    snprintf(b, sizeof b, "{\"type\":\"MinMaxObserver\",%s}", schemes[i]);
    float sa, sb;
    int32_t za, zb;
    qparams_of(a, x, 6, &sa, &za);
    qparams_of(b, x, 6, &sb, &zb);
    ck_assert_msg(sa == sb && za == zb, "%s: %g/%d vs %g/%d", schemes[i], sa, za, sb, zb);
  }
  /* a prefix works for custom classes too; keys it does not declare are refused */
  rq_observer *obs = NULL;
  ck_assert_int_eq(rq_observer_create("{\"type\":\"mmrazor.TestRunningMinMax\"}", &obs), RQ_OK);
  rq_observer_destroy(obs);
  ck_assert_int_eq(rq_observer_create("{\"type\":\"TestRunningMinMax\",\"bins\":3}", &obs), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "bins"));
  /* no merge/save callbacks: those calls say so */
  ck_assert_int_eq(rq_observer_create("{\"type\":\"TestRunningMinMax\"}", &obs), RQ_OK);
  void *data;
  size_t size;
  ck_assert_int_eq(rq_observer_save(obs, &data, &size), RQ_ERR_UNSUPPORTED);
  ck_assert_int_eq(rq_observer_merge(obs, obs), RQ_ERR_INVALID_ARG);
  rq_observer_destroy(obs);
}
END_TEST

START_TEST(registration_is_validated) {
  rq_observer_class cls = test_class("MinMaxObserver");
  ck_assert_int_eq(rq_register_observer(&cls), RQ_ERR_EXISTS);
  cls = test_class("TestDuplicate");
  ck_assert_int_eq(rq_register_observer(&cls), RQ_OK);
  ck_assert_int_eq(rq_register_observer(&cls), RQ_ERR_EXISTS);
  cls = test_class("TestOtherAbi");
  cls.abi_major = RQ_ABI_MAJOR + 1;
  ck_assert_int_eq(rq_register_observer(&cls), RQ_ERR_ABI);
  cls = test_class("TestNoObserve");
  cls.observe = NULL;
  ck_assert_int_eq(rq_register_observer(&cls), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "observe"));
  cls = test_class("TestNoMinmax");
  cls.minmax = NULL;
  ck_assert_int_eq(rq_register_observer(&cls), RQ_ERR_INVALID_ARG);
  cls = test_class(NULL);
  ck_assert_int_eq(rq_register_observer(&cls), RQ_ERR_INVALID_ARG);
  cls = test_class("mmrazor.Prefixed");
  ck_assert_int_eq(rq_register_observer(&cls), RQ_ERR_INVALID_ARG);
  cls = test_class("TestTinyTable");
  cls.struct_size = 8;
  ck_assert_int_eq(rq_register_observer(&cls), RQ_ERR_INVALID_ARG);
  ck_assert(!listed("TestOtherAbi") && !listed("TestNoObserve") && !listed("TestTinyTable"));
}
END_TEST

static void *register_many(void *arg) {
  intptr_t id = (intptr_t)arg;
  static char names[4][16][32];
  for (int i = 0; i < 16; i++) {
    snprintf(names[id][i], sizeof names[id][i], "TestThread%d_%d", (int)id, i);
    rq_observer_class cls = test_class(names[id][i]);
    if (rq_register_observer(&cls) != RQ_OK) return (void *)1;
    rq_observer *obs = NULL;
    char json[64];
    snprintf(json, sizeof json, "{\"type\":\"%s\"}", names[id][i]);
    if (rq_observer_create(json, &obs) != RQ_OK) return (void *)1;
    rq_observer_destroy(obs);
  }
  return NULL;
}

START_TEST(registration_is_thread_safe) {
  pthread_t th[4];
  for (intptr_t i = 0; i < 4; i++) pthread_create(&th[i], NULL, register_many, (void *)i);
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(th[i], &r);
    ck_assert_ptr_null(r);
  }
  for (int i = 0; i < 4; i++) {
    char name[32];
    snprintf(name, sizeof name, "TestThread%d_15", i);
    ck_assert(listed(name));
  }
}
END_TEST

START_TEST(example_plugin_loads_and_observes) {
  ck_assert_int_eq(rq_plugin_load("/nonexistent/libnothing.so"), RQ_ERR_IO);
  ck_assert_int_eq(rq_plugin_load(bad_plugin_path), RQ_ERR_ABI);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "ABI"));
  ck_assert(!listed("AbsMaxObserver"));
  ck_assert_msg(rq_plugin_load(plugin_path) == RQ_OK, "%s", rq_last_error());
  ck_assert(listed("AbsMaxObserver"));
  /* loading again registers the same name again: refused */
  ck_assert_int_eq(rq_plugin_load(plugin_path), RQ_ERR_EXISTS);

  /* AbsMax of x equals MinMax of x together with -x (symmetric range) */
  const float x[5] = {-0.5f, 2.75f, 1.0f, -3.25f, 0.0f};
  float both[10];
  for (int i = 0; i < 5; i++) both[i] = x[i], both[5 + i] = -x[i];
  const char *schemes[] = {"\"qdtype\":\"qint8\",\"bit\":8,\"is_symmetry\":true",
                           "\"qdtype\":\"quint8\",\"bit\":4,\"is_symmetry\":false"};
  for (int k = 0; k < 2; k++) {
    char a[160], b[160];
    snprintf(a, sizeof a, "{\"type\":\"AbsMaxObserver\",%s}", schemes[k]);
    snprintf(b, sizeof b, "{\"type\":\"MinMaxObserver\",%s}", schemes[k]);
    float sa, sb;
    int32_t za, zb;
    qparams_of(a, x, 5, &sa, &za);
    qparams_of(b, both, 10, &sb, &zb);
    ck_assert_msg(sa == sb && za == zb, "%g/%d vs %g/%d", sa, za, sb, zb);
  }
  /* its own argument, range-checked with the key named */
  rq_observer *obs = NULL;
  ck_assert_int_eq(rq_observer_create("{\"type\":\"AbsMaxObserver\",\"margin\":0.5}", &obs), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "margin"));
  /* save/load and merge go through the plugin's callbacks */
  ck_assert_int_eq(rq_observer_create("{\"type\":\"AbsMaxObserver\",\"margin\":2}", &obs), RQ_OK);
  int64_t shape[1] = {5};
  DLTensor t = tensor_f32((float *)x, shape);
  ck_assert_int_eq(rq_observer_observe(obs, &t), RQ_OK);
  void *data;
  size_t size;
  ck_assert_int_eq(rq_observer_save(obs, &data, &size), RQ_OK);
  rq_observer *copy = NULL;
  ck_assert_int_eq(rq_observer_load(data, size, &copy), RQ_OK);
  rq_observer_free_saved(data);
  float mn0, mx0, mn1, mx1;
  size_t n;
  ck_assert_int_eq(rq_observer_minmax(obs, &mn0, &mx0, 1, &n), RQ_OK);
  ck_assert_int_eq(rq_observer_minmax(copy, &mn1, &mx1, 1, &n), RQ_OK);
  ck_assert(mn0 == mn1 && mx0 == mx1 && mx0 == 2.0f * 3.25f);
  rq_observer_destroy(copy);
  rq_observer_destroy(obs);
}
END_TEST

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s <example plugin> <bad-ABI plugin>\n", argv[0]);
    return EXIT_FAILURE;
  }
  plugin_path = argv[1];
  bad_plugin_path = argv[2];
  Suite *s = suite_create("registry");
  TCase *tc = tcase_create("registry");
  tcase_add_test(tc, builtins_are_listed);
  tcase_add_test(tc, custom_class_reuses_uniform_qparams);
  tcase_add_test(tc, registration_is_validated);
  tcase_add_test(tc, registration_is_thread_safe);
  tcase_add_test(tc, example_plugin_loads_and_observes);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
