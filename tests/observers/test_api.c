/* SPDX-License-Identifier: Apache-2.0 */
/* The observer API's contract: argument checks, config errors that name the
 * key, class-name prefixes, the non-finite policy, reset, capacity queries,
 * save/load integrity checks and merge preconditions. Expected values come
 * from the API itself run on other inputs (e.g. a NaN-free copy of a tensor),
 * never from numbers typed in here. */
#include <razorq/razorq.h>
#include <razorq/sys/plugin.h>

#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static DLTensor tensor_f32(float *data, int ndim, int64_t *shape) {
  DLTensor t = {0};
  t.data = data;
  t.device.device_type = kDLCPU;
  t.ndim = ndim;
  t.shape = shape;
  t.dtype.code = kDLFloat;
  t.dtype.bits = 32;
  t.dtype.lanes = 1;
  return t;
}

static rq_observer *make(const char *json) {
  rq_observer *obs = NULL;
  rq_status s = rq_observer_create(json, &obs);
  ck_assert_msg(s == RQ_OK, "create %s: %s", json, rq_last_error());
  return obs;
}

static void expect_create_error(const char *json, rq_status status, const char *mention) {
  rq_observer *obs = (rq_observer *)0x1;
  rq_status s = rq_observer_create(json, &obs);
  ck_assert_msg(s == status, "%s: got %s (%s)", json, rq_status_str(s), rq_last_error());
  ck_assert_ptr_eq(obs, (rq_observer *)0x1); /* *out untouched on failure */
  ck_assert_msg(strstr(rq_last_error(), mention) != NULL, "%s: message \"%s\" does not name %s", json,
                rq_last_error(), mention);
}

START_TEST(null_arguments_are_refused) {
  rq_observer *obs = make("{\"type\":\"MinMaxObserver\"}");
  float f[4];
  int32_t z[4];
  size_t n;
  bool b;
  int32_t i32;
  void *data;
  int64_t shape[1] = {1};
  DLTensor t = tensor_f32(f, 1, shape);
  ck_assert_int_eq(rq_observer_create(NULL, &obs), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "config_json"));
  ck_assert_int_eq(rq_observer_create("{\"type\":\"MinMaxObserver\"}", NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_observe(NULL, &t), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_observe(obs, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_reset(NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_qparams(NULL, f, z, 4, &n), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_qparams(obs, f, z, 4, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_qparams(obs, NULL, z, 4, &n), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_minmax(NULL, f, f, 4, &n), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_minmax(obs, f, f, 4, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_quant_range(NULL, &i32, &i32), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_quant_range(obs, NULL, &i32), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_quant_range(obs, &i32, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_channel_axis(NULL, &b, &i32), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_channel_axis(obs, NULL, &i32), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_is_symmetric(obs, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_null(rq_observer_type_name(NULL));
  ck_assert_int_eq(rq_observer_save(NULL, &data, &n), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_save(obs, NULL, &n), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_load(NULL, 4, &obs), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_load("abcd", 0, &obs), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_load("abcd", 4, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_merge(NULL, obs), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_merge(obs, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_merge(obs, obs), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_recorded(NULL, 0, NULL, 0, &n, &n), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_registry_list(RQ_REGISTRY_OBSERVER, NULL, 0, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_registry_list((rq_registry_kind)77, NULL, 0, &n), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_register_observer(NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_plugin_load(NULL), RQ_ERR_INVALID_ARG);
  rq_observer_destroy(NULL); /* a no-op */
  rq_observer_destroy(obs);
}
END_TEST

START_TEST(config_errors_name_the_key) {
  expect_create_error("{\"type\":", RQ_ERR_FORMAT, "line");
  expect_create_error("[1]", RQ_ERR_INVALID_ARG, "object");
  expect_create_error("{\"qdtype\":\"qint8\"}", RQ_ERR_INVALID_ARG, "type");
  expect_create_error("{\"type\":\"NoSuchObserver\"}", RQ_ERR_NOT_FOUND, "NoSuchObserver");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"colour\":1}", RQ_ERR_INVALID_ARG, "colour");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"bit\":17}", RQ_ERR_INVALID_ARG, "bit");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"bit\":0}", RQ_ERR_INVALID_ARG, "bit");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"bit\":\"8\"}", RQ_ERR_INVALID_ARG, "bit");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"qdtype\":\"int4\"}", RQ_ERR_INVALID_ARG, "qdtype");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"is_symmetry\":1}", RQ_ERR_INVALID_ARG, "is_symmetry");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"eps\":-1}", RQ_ERR_INVALID_ARG, "eps");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"eps\":0}", RQ_ERR_INVALID_ARG, "eps");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"eps\":1e-50}", RQ_ERR_INVALID_ARG, "eps");
  expect_create_error("{\"type\":\"MovingAverageMinMaxObserver\",\"averaging_constant\":1.5}",
                      RQ_ERR_INVALID_ARG, "averaging_constant");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"averaging_constant\":0.1}", RQ_ERR_INVALID_ARG,
                      "averaging_constant");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"ch_axis\":1}", RQ_ERR_INVALID_ARG, "ch_axis");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"qdtype\":\"qint8\",\"qscheme\":\"per_tensor_affine\"}",
                      RQ_ERR_INVALID_ARG, "qscheme");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"qscheme\":\"per_channel_affine\"}", RQ_ERR_INVALID_ARG,
                      "qscheme");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"quant_min\":0}", RQ_ERR_INVALID_ARG, "quant_min");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"quant_min\":5,\"quant_max\":9}", RQ_ERR_INVALID_ARG,
                      "quant_min");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"qscheme\":\"per_tensor_symmetric\",\"reduce_range\":true}",
                      RQ_ERR_INVALID_ARG, "reduce_range");
  expect_create_error("{\"type\":\"HistogramObserver\",\"bins\":0}", RQ_ERR_INVALID_ARG, "bins");
  expect_create_error("{\"type\":\"FixedQParamsObserver\",\"zero_point\":0}", RQ_ERR_INVALID_ARG, "scale");
  expect_create_error("{\"type\":\"FixedQParamsObserver\",\"scale\":0.1,\"zero_point\":300}",
                      RQ_ERR_INVALID_ARG, "zero_point");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"ignore_nonfinite\":\"yes\"}", RQ_ERR_INVALID_ARG,
                      "ignore_nonfinite");
  expect_create_error("{\"type\":\"MinMaxObserver\",\"type\":\"MinMaxObserver\"}", RQ_ERR_FORMAT, "type");
}
END_TEST

START_TEST(type_names_accept_module_prefixes) {
  const char *names[] = {"MinMaxObserver", "mmrazor.MinMaxObserver", "torch.ao.quantization.MinMaxObserver",
                         "torch.quantization.MinMaxObserver"};
  for (size_t i = 0; i < 4; i++) {
    char json[128];
    snprintf(json, sizeof json, "{\"type\":\"%s\"}", names[i]);
    rq_observer *obs = make(json);
    ck_assert_str_eq(rq_observer_type_name(obs), "MinMaxObserver");
    rq_observer_destroy(obs);
  }
  expect_create_error("{\"type\":\"torch.MinMaxObserver\"}", RQ_ERR_NOT_FOUND, "torch.MinMaxObserver");
  /* every PyTorch and MMRazor class named by the issue exists */
  const char *all[] = {"MinMaxObserver", "MovingAverageMinMaxObserver", "PerChannelMinMaxObserver",
                       "MovingAveragePerChannelMinMaxObserver", "HistogramObserver", "PlaceholderObserver",
                       "NoopObserver", "RecordingObserver", "ReuseInputObserver", "LSQObserver",
                       "LSQPerChannelObserver"};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    char json[128];
    snprintf(json, sizeof json, "{\"type\":\"%s\"}", all[i]);
    rq_observer *obs = make(json);
    ck_assert_str_eq(rq_observer_type_name(obs), all[i]);
    rq_observer_destroy(obs);
  }
}
END_TEST

START_TEST(nonfinite_input_is_refused_and_leaves_state) {
  rq_observer *obs = make("{\"type\":\"MinMaxObserver\",\"qdtype\":\"qint8\"}");
  float good[6] = {-1.5f, 2.0f, 0.25f, 3.0f, -0.5f, 1.0f};
  float bad[6] = {-4.0f, NAN, 9.0f, INFINITY, -0.5f, 1.0f};
  int64_t shape[1] = {6};
  DLTensor tg = tensor_f32(good, 1, shape), tb = tensor_f32(bad, 1, shape);
  ck_assert_int_eq(rq_observer_observe(obs, &tg), RQ_OK);
  float mn0, mx0, mn1, mx1, s0, s1;
  int32_t z0, z1;
  size_t n;
  rq_observer_minmax(obs, &mn0, &mx0, 1, &n);
  rq_observer_qparams(obs, &s0, &z0, 1, &n);
  ck_assert_int_eq(rq_observer_observe(obs, &tb), RQ_ERR_NONFINITE);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "NaN"));
  rq_observer_minmax(obs, &mn1, &mx1, 1, &n);
  rq_observer_qparams(obs, &s1, &z1, 1, &n);
  ck_assert(mn0 == mn1 && mx0 == mx1 && s0 == s1 && z0 == z1);
  rq_observer_destroy(obs);

  /* ignore_nonfinite: the same as observing only the finite elements */
  const char *types[] = {"MinMaxObserver", "MovingAverageMinMaxObserver", "HistogramObserver", "LSQObserver"};
  for (size_t k = 0; k < 4; k++) {
    char json[160];
    snprintf(json, sizeof json, "{\"type\":\"%s\",\"ignore_nonfinite\":true}", types[k]);
    rq_observer *skip = make(json);
    snprintf(json, sizeof json, "{\"type\":\"%s\"}", types[k]);
    rq_observer *ref = make(json);
    float finite[4] = {-4.0f, 9.0f, -0.5f, 1.0f};
    int64_t fshape[1] = {4};
    DLTensor tf = tensor_f32(finite, 1, fshape);
    ck_assert_int_eq(rq_observer_observe(skip, &tg), RQ_OK);
    ck_assert_int_eq(rq_observer_observe(ref, &tg), RQ_OK);
    ck_assert_int_eq(rq_observer_observe(skip, &tb), RQ_OK);
    ck_assert_int_eq(rq_observer_observe(ref, &tf), RQ_OK);
    rq_observer_qparams(skip, &s0, &z0, 1, &n);
    rq_observer_qparams(ref, &s1, &z1, 1, &n);
    ck_assert_msg(s0 == s1 && z0 == z1, "%s: %g/%d vs %g/%d", types[k], s0, z0, s1, z1);
    rq_observer_destroy(skip);
    rq_observer_destroy(ref);
  }
}
END_TEST

START_TEST(bad_tensors_are_refused) {
  rq_observer *obs = make("{\"type\":\"PerChannelMinMaxObserver\",\"ch_axis\":1}");
  float data[12] = {0};
  int64_t shape[2] = {3, 4}, other[2] = {4, 3}, neg[2] = {-1, 4}, one[1] = {12};
  DLTensor t = tensor_f32(data, 2, shape);
  t.dtype.code = kDLInt;
  t.dtype.bits = 8;
  ck_assert_int_eq(rq_observer_observe(obs, &t), RQ_ERR_INVALID_ARG);
  t = tensor_f32(data, 2, neg);
  ck_assert_int_eq(rq_observer_observe(obs, &t), RQ_ERR_INVALID_ARG);
  t = tensor_f32(data, 1, one);
  ck_assert_int_eq(rq_observer_observe(obs, &t), RQ_ERR_INVALID_ARG); /* no axis 1 */
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "ch_axis"));
  t = tensor_f32(NULL, 2, shape);
  ck_assert_int_eq(rq_observer_observe(obs, &t), RQ_ERR_INVALID_ARG);
  t = tensor_f32(data, 2, shape);
  t.device.device_type = kDLCUDA;
  ck_assert_int_eq(rq_observer_observe(obs, &t), RQ_ERR_INVALID_ARG);
  t = tensor_f32(data, 2, shape);
  ck_assert_int_eq(rq_observer_observe(obs, &t), RQ_OK);
  t = tensor_f32(data, 2, other);
  ck_assert_int_eq(rq_observer_observe(obs, &t), RQ_ERR_INVALID_ARG); /* 3 channels, not 4 */
  size_t n = 0;
  ck_assert_int_eq(rq_observer_minmax(obs, NULL, NULL, 0, &n), RQ_OK);
  ck_assert_uint_eq(n, 4);
  /* an empty tensor changes nothing, like PyTorch */
  int64_t empty[2] = {0, 4};
  t = tensor_f32(NULL, 2, empty);
  ck_assert_int_eq(rq_observer_observe(obs, &t), RQ_OK);
  rq_observer_destroy(obs);
}
END_TEST

START_TEST(capacity_queries_and_defaults) {
  rq_observer *pc = make("{\"type\":\"PerChannelMinMaxObserver\",\"qdtype\":\"qint8\",\"bit\":8}");
  float s[4], mn[4], mx[4];
  int32_t z[4];
  size_t n = 99;
  /* before any data: PyTorch's default qparams (one scale 1, zero point 0) */
  ck_assert_int_eq(rq_observer_qparams(pc, s, z, 4, &n), RQ_OK);
  ck_assert_uint_eq(n, 1);
  ck_assert(s[0] == 1.0f && z[0] == 0);
  ck_assert_int_eq(rq_observer_minmax(pc, mn, mx, 4, &n), RQ_OK);
  ck_assert_uint_eq(n, 0);
  float data[6] = {1, -2, 3, 4, 5, -6};
  int64_t shape[2] = {3, 2};
  DLTensor t = tensor_f32(data, 2, shape);
  ck_assert_int_eq(rq_observer_observe(pc, &t), RQ_OK);
  ck_assert_int_eq(rq_observer_qparams(pc, NULL, NULL, 0, &n), RQ_OK);
  ck_assert_uint_eq(n, 3);
  ck_assert_int_eq(rq_observer_qparams(pc, s, z, 2, &n), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_qparams(pc, s, z, 3, &n), RQ_OK);
  /* the per-channel qparams equal per-tensor qparams of each channel alone */
  for (int c = 0; c < 3; c++) {
    rq_observer *one = make("{\"type\":\"MinMaxObserver\",\"qdtype\":\"qint8\",\"bit\":8}");
    int64_t cs[1] = {2};
    DLTensor tc = tensor_f32(data + 2 * c, 1, cs);
    ck_assert_int_eq(rq_observer_observe(one, &tc), RQ_OK);
    float s1;
    int32_t z1;
    size_t n1;
    ck_assert_int_eq(rq_observer_qparams(one, &s1, &z1, 1, &n1), RQ_OK);
    ck_assert(s1 == s[c] && z1 == z[c]);
    rq_observer_destroy(one);
  }
  rq_observer_destroy(pc);

  rq_observer *ph = make("{\"type\":\"PlaceholderObserver\",\"dtype\":\"float16\"}");
  ck_assert_int_eq(rq_observer_qparams(ph, s, z, 4, &n), RQ_ERR_UNSUPPORTED);
  ck_assert_int_eq(rq_observer_observe(ph, &t), RQ_OK);
  rq_observer_destroy(ph);
  rq_observer *lsq = make("{\"type\":\"mmrazor.LSQObserver\"}");
  ck_assert_int_eq(rq_observer_qparams(lsq, s, z, 4, &n), RQ_ERR_STATE);
  rq_observer_destroy(lsq);
}
END_TEST

START_TEST(reset_returns_to_fresh) {
  const char *types[] = {"{\"type\":\"MovingAverageMinMaxObserver\"}", "{\"type\":\"HistogramObserver\"}",
                         "{\"type\":\"MovingAveragePerChannelMinMaxObserver\",\"ch_axis\":0}"};
  float a[6] = {1, -2, 3, 4, 5, -6}, b[6] = {0.5f, 7, -1, 2, 2, 3};
  int64_t shape[2] = {3, 2};
  for (size_t k = 0; k < 3; k++) {
    rq_observer *used = make(types[k]), *fresh = make(types[k]);
    DLTensor ta = tensor_f32(a, 2, shape), tb = tensor_f32(b, 2, shape);
    ck_assert_int_eq(rq_observer_observe(used, &ta), RQ_OK);
    ck_assert_int_eq(rq_observer_reset(used), RQ_OK);
    float s0[3], s1[3];
    int32_t z0[3], z1[3];
    size_t n0, n1;
    ck_assert_int_eq(rq_observer_qparams(used, s0, z0, 3, &n0), RQ_OK);
    ck_assert_int_eq(rq_observer_qparams(fresh, s1, z1, 3, &n1), RQ_OK);
    ck_assert(n0 == n1 && s0[0] == s1[0] && z0[0] == z1[0]);
    ck_assert_int_eq(rq_observer_observe(used, &tb), RQ_OK);
    ck_assert_int_eq(rq_observer_observe(fresh, &tb), RQ_OK);
    ck_assert_int_eq(rq_observer_qparams(used, s0, z0, 3, &n0), RQ_OK);
    ck_assert_int_eq(rq_observer_qparams(fresh, s1, z1, 3, &n1), RQ_OK);
    ck_assert(n0 == n1 && memcmp(s0, s1, n0 * 4) == 0 && memcmp(z0, z1, n0 * 4) == 0);
    rq_observer_destroy(used);
    rq_observer_destroy(fresh);
  }
}
END_TEST

START_TEST(recording_observer_keeps_batches) {
  rq_observer *rec = make("{\"type\":\"RecordingObserver\"}");
  float a[3] = {1, 2, 3}, b[2] = {-1, 0.5f};
  int64_t sa[1] = {3}, sb[1] = {2};
  DLTensor ta = tensor_f32(a, 1, sa), tb = tensor_f32(b, 1, sb);
  ck_assert_int_eq(rq_observer_observe(rec, &ta), RQ_OK);
  ck_assert_int_eq(rq_observer_observe(rec, &tb), RQ_OK);
  float out[3];
  size_t numel, count;
  ck_assert_int_eq(rq_observer_recorded(rec, 1, out, 3, &numel, &count), RQ_OK);
  ck_assert_uint_eq(count, 2);
  ck_assert_uint_eq(numel, 2);
  ck_assert(memcmp(out, b, sizeof b) == 0);
  ck_assert_int_eq(rq_observer_recorded(rec, 0, out, 2, &numel, &count), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_recorded(rec, 5, out, 3, &numel, &count), RQ_ERR_INVALID_ARG);
  rq_observer *mm = make("{\"type\":\"MinMaxObserver\"}");
  ck_assert_int_eq(rq_observer_recorded(mm, 0, out, 3, &numel, &count), RQ_ERR_UNSUPPORTED);
  rq_observer_destroy(mm);
  rq_observer_destroy(rec);
}
END_TEST

START_TEST(saved_state_is_verified) {
  rq_observer *obs = make("{\"type\":\"HistogramObserver\",\"bins\":32,\"qdtype\":\"qint8\"}");
  float a[6] = {1, -2, 3, 4, 5, -6};
  int64_t shape[1] = {6};
  DLTensor t = tensor_f32(a, 1, shape);
  ck_assert_int_eq(rq_observer_observe(obs, &t), RQ_OK);
  void *data;
  size_t size;
  ck_assert_int_eq(rq_observer_save(obs, &data, &size), RQ_OK);
  unsigned char *bytes = data;
  rq_observer *loaded = NULL;
  /* the checksum is the last 8 bytes (fixed64, field 3) */
  bytes[size - 1] ^= 0x40;
  ck_assert_int_eq(rq_observer_load(data, size, &loaded), RQ_ERR_CHECKSUM);
  bytes[size - 1] ^= 0x40;
  /* a byte of the state itself */
  bytes[size / 2] ^= 0x01;
  rq_status s = rq_observer_load(data, size, &loaded);
  ck_assert_msg(s == RQ_ERR_CHECKSUM || s == RQ_ERR_FORMAT, "%s", rq_status_str(s));
  bytes[size / 2] ^= 0x01;
  /* field 1 (format_version) comes first: tag 0x08, then the version */
  ck_assert_uint_eq(bytes[0], 0x08);
  bytes[1] = 0x7f;
  ck_assert_int_eq(rq_observer_load(data, size, &loaded), RQ_ERR_ABI);
  bytes[1] = 0x01;
  ck_assert_int_eq(rq_observer_load(data, size / 3, &loaded), RQ_ERR_FORMAT);
  ck_assert_ptr_null(loaded);
  ck_assert_int_eq(rq_observer_load(data, size, &loaded), RQ_OK);
  float s0, s1;
  int32_t z0, z1;
  size_t n;
  rq_observer_qparams(obs, &s0, &z0, 1, &n);
  rq_observer_qparams(loaded, &s1, &z1, 1, &n);
  ck_assert(s0 == s1 && z0 == z1);
  rq_observer_free_saved(data);
  rq_observer_destroy(loaded);
  rq_observer_destroy(obs);
  rq_observer *ph = make("{\"type\":\"RecordingObserver\"}");
  ck_assert_int_eq(rq_observer_save(ph, &data, &size), RQ_ERR_UNSUPPORTED);
  rq_observer_destroy(ph);
}
END_TEST

START_TEST(merge_preconditions_and_histogram) {
  rq_observer *a = make("{\"type\":\"HistogramObserver\",\"bins\":64}");
  rq_observer *b = make("{\"type\":\"HistogramObserver\",\"bins\":64}");
  rq_observer *other = make("{\"type\":\"HistogramObserver\",\"bins\":32}");
  rq_observer *mm = make("{\"type\":\"MinMaxObserver\"}");
  ck_assert_int_eq(rq_observer_merge(a, other), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_observer_merge(a, mm), RQ_ERR_INVALID_ARG);
  float x[8] = {0.1f, 2.5f, -1.25f, 3.0f, 0.0f, 1.0f, -2.0f, 0.75f};
  int64_t shape[1] = {8};
  DLTensor t = tensor_f32(x, 1, shape);
  ck_assert_int_eq(rq_observer_observe(b, &t), RQ_OK);
  /* merging into an empty observer gives the source's state */
  ck_assert_int_eq(rq_observer_merge(a, b), RQ_OK);
  float sa, sb;
  int32_t za, zb;
  size_t n;
  ck_assert_int_eq(rq_observer_qparams(a, &sa, &za, 1, &n), RQ_OK);
  ck_assert_int_eq(rq_observer_qparams(b, &sb, &zb, 1, &n), RQ_OK);
  ck_assert(sa == sb && za == zb);
  /* merging an empty source changes nothing */
  rq_observer *empty = make("{\"type\":\"HistogramObserver\",\"bins\":64}");
  ck_assert_int_eq(rq_observer_merge(a, empty), RQ_OK);
  ck_assert_int_eq(rq_observer_qparams(a, &sa, &za, 1, &n), RQ_OK);
  ck_assert(sa == sb && za == zb);
  /* a wider source widens the range to cover both */
  float y[4] = {-10.0f, 4.0f, 12.0f, 0.0f};
  int64_t ys[1] = {4};
  DLTensor ty = tensor_f32(y, 1, ys);
  ck_assert_int_eq(rq_observer_observe(empty, &ty), RQ_OK);
  ck_assert_int_eq(rq_observer_merge(a, empty), RQ_OK);
  float mn, mx;
  ck_assert_int_eq(rq_observer_minmax(a, &mn, &mx, 1, &n), RQ_OK);
  ck_assert(mn <= -10.0f && mx >= 12.0f);
  rq_observer_destroy(a);
  rq_observer_destroy(b);
  rq_observer_destroy(other);
  rq_observer_destroy(mm);
  rq_observer_destroy(empty);
}
END_TEST

/* Calibration observers stream: memory does not grow with the number of
 * batches (the histograms have fixed size; ranges grow by merging bins). */
START_TEST(calibration_observers_use_fixed_memory) {
  const char *types[] = {"{\"type\":\"PercentileObserver\",\"bins\":256}",
                         "{\"type\":\"PerChannelEntropyObserver\",\"bins\":256}",
                         "{\"type\":\"MSEObserver\",\"bins\":256,\"candidates\":10}"};
  float x[64];
  int64_t shape[2] = {4, 16};
  for (size_t k = 0; k < 3; k++) {
    rq_observer *obs = make(types[k]);
    size_t after_first = 0;
    for (int b = 0; b < 60; b++) {
      for (int i = 0; i < 64; i++) x[i] = (float)((i * 37 + b * 11) % 23 - 11) * (float)(1 + b);
      DLTensor t = tensor_f32(x, 2, shape);
      ck_assert_int_eq(rq_observer_observe(obs, &t), RQ_OK);
      if (b == 0) after_first = rq_memory_in_use();
    }
    ck_assert_uint_eq(rq_memory_in_use(), after_first);
    float s[4];
    int32_t z[4];
    size_t n;
    ck_assert_int_eq(rq_observer_qparams(obs, s, z, 4, &n), RQ_OK);
    rq_observer_destroy(obs);
  }
}
END_TEST

/* Any single flipped byte and any truncation of a saved observer is refused
 * (never loaded, never crashing; ASan/valgrind watch the parser). */
START_TEST(corrupted_saves_are_always_refused) {
  rq_observer *obs = make("{\"type\":\"PerChannelPercentileObserver\",\"bins\":8,\"ch_axis\":1}");
  float x[6] = {1, -2, 3, 0.5f, 5, -6};
  int64_t shape[2] = {2, 3};
  DLTensor t = tensor_f32(x, 2, shape);
  ck_assert_int_eq(rq_observer_observe(obs, &t), RQ_OK);
  void *data;
  size_t size;
  ck_assert_int_eq(rq_observer_save(obs, &data, &size), RQ_OK);
  unsigned char *bytes = data;
  rq_observer *loaded = NULL;
  for (size_t i = 0; i < size; i++) {
    for (int bit = 0; bit < 8; bit += 3) {
      bytes[i] ^= (unsigned char)(1u << bit);
      rq_status s = rq_observer_load(data, size, &loaded);
      ck_assert_msg(s != RQ_OK, "byte %zu bit %d flipped: loaded", i, bit);
      bytes[i] ^= (unsigned char)(1u << bit);
    }
  }
  for (size_t len = 1; len < size; len++)
    ck_assert_msg(rq_observer_load(data, len, &loaded) != RQ_OK, "truncated to %zu: loaded", len);
  ck_assert_ptr_null(loaded);
  ck_assert_int_eq(rq_observer_load(data, size, &loaded), RQ_OK);
  rq_observer_destroy(loaded);
  rq_observer_free_saved(data);
  rq_observer_destroy(obs);
}
END_TEST

/* Every registered built-in, generically: create, observe (with a NaN the
 * observer is told to skip), then save/load and merge-into-empty must both
 * reproduce the original's qparams and min/max exactly. */
START_TEST(every_builtin_round_trips) {
  const char *names[128];
  size_t count = 0;
  ck_assert_int_eq(rq_registry_list(RQ_REGISTRY_OBSERVER, names, 128, &count), RQ_OK);
  float x[24];
  for (int i = 0; i < 24; i++) x[i] = (float)((i * 5) % 24 - 9) * 0.3f;
  x[7] = NAN;
  int64_t shape[2] = {4, 6};
  int checked = 0;
  for (size_t k = 0; k < count; k++) {
    if (strncmp(names[k], "Test", 4) == 0 || strcmp(names[k], "AbsMaxObserver") == 0) continue;
    char json[256];
    if (strcmp(names[k], "FixedQParamsObserver") == 0)
      snprintf(json, sizeof json, "{\"type\":\"%s\",\"scale\":0.05,\"zero_point\":3,\"ignore_nonfinite\":true}",
               names[k]);
    else
      snprintf(json, sizeof json, "{\"type\":\"%s\",\"ignore_nonfinite\":true}", names[k]);
    rq_observer *a = make(json);
    DLTensor t = tensor_f32(x, 2, shape);
    ck_assert_msg(rq_observer_observe(a, &t) == RQ_OK, "%s: %s", names[k], rq_last_error());
    void *data = NULL;
    size_t size = 0;
    rq_status saved = rq_observer_save(a, &data, &size);
    rq_observer *b = NULL, *c = make(json);
    if (saved == RQ_OK) {
      ck_assert_msg(rq_observer_load(data, size, &b) == RQ_OK, "%s: %s", names[k], rq_last_error());
      rq_observer_free_saved(data);
    } else {
      ck_assert_int_eq(saved, RQ_ERR_UNSUPPORTED);
    }
    ck_assert_msg(rq_observer_merge(c, a) == RQ_OK, "%s: %s", names[k], rq_last_error());
    float s0[8], s1[8], m0[8], M0[8], m1[8], M1[8];
    int32_t z0[8], z1[8];
    size_t n0 = 0, n1 = 0;
    rq_status q = rq_observer_qparams(a, s0, z0, 8, &n0);
    rq_observer *copies[2] = {b, c};
    for (int j = 0; j < 2; j++) {
      if (copies[j] == NULL) continue;
      ck_assert_int_eq(rq_observer_qparams(copies[j], s1, z1, 8, &n1), q);
      if (q == RQ_OK)
        ck_assert_msg(n0 == n1 && memcmp(s0, s1, n0 * 4) == 0 && memcmp(z0, z1, n0 * 4) == 0, "%s copy %d",
                      names[k], j);
      rq_status mm = rq_observer_minmax(a, m0, M0, 8, &n0);
      ck_assert_int_eq(rq_observer_minmax(copies[j], m1, M1, 8, &n1), mm);
      if (mm == RQ_OK)
        ck_assert(n0 == n1 && memcmp(m0, m1, n0 * 4) == 0 && memcmp(M0, M1, n0 * 4) == 0);
    }
    rq_observer_destroy(a);
    rq_observer_destroy(b);
    rq_observer_destroy(c);
    checked++;
  }
  ck_assert_int_ge(checked, 18);
}
END_TEST

/* Moving averages merge as documented: the batch-weighted mean of the two
 * states (computed here from the states the API reports). */
START_TEST(moving_average_merge_is_batch_weighted) {
  const char *cfg = "{\"type\":\"MovingAverageMinMaxObserver\",\"averaging_constant\":0.5}";
  rq_observer *a = make(cfg), *b = make(cfg);
  float x[3][4] = {{-1, 2, 0.5f, 3}, {-4, 1, 6, 0}, {0.25f, -0.5f, 9, 2}};
  int64_t shape[1] = {4};
  DLTensor t0 = tensor_f32(x[0], 1, shape), t1 = tensor_f32(x[1], 1, shape), t2 = tensor_f32(x[2], 1, shape);
  ck_assert_int_eq(rq_observer_observe(a, &t0), RQ_OK);
  ck_assert_int_eq(rq_observer_observe(b, &t1), RQ_OK);
  ck_assert_int_eq(rq_observer_observe(b, &t2), RQ_OK);
  float amin, amax, bmin, bmax, mmin, mmax;
  size_t n;
  rq_observer_minmax(a, &amin, &amax, 1, &n);
  rq_observer_minmax(b, &bmin, &bmax, 1, &n);
  ck_assert_int_eq(rq_observer_merge(a, b), RQ_OK);
  rq_observer_minmax(a, &mmin, &mmax, 1, &n);
  ck_assert(mmin == (float)(((double)amin * 1 + (double)bmin * 2) / 3));
  ck_assert(mmax == (float)(((double)amax * 1 + (double)bmax * 2) / 3));
  rq_observer_destroy(a);
  rq_observer_destroy(b);
}
END_TEST

/* A tiny range followed by a wide one: PyTorch 1.13 tries to allocate
 * bins * downsample_rate floats here (terabytes; see gen_torch.py). razorq
 * integrates from prefix sums with bins-sized memory. */
START_TEST(histogram_survives_range_jumps) {
  rq_observer *obs = make("{\"type\":\"HistogramObserver\"}");
  float tiny[4] = {2e-6f, 2.05e-6f, 1.95e-6f, 2.01e-6f}, wide[4] = {-9.0f, 4.0f, 1e3f, -0.5f};
  int64_t shape[1] = {4};
  DLTensor t1 = tensor_f32(tiny, 1, shape), t2 = tensor_f32(wide, 1, shape);
  ck_assert_int_eq(rq_observer_observe(obs, &t1), RQ_OK);
  size_t before = rq_memory_in_use();
  ck_assert_int_eq(rq_observer_observe(obs, &t2), RQ_OK);
  ck_assert_uint_le(rq_memory_in_use(), before);
  float mn, mx, s;
  int32_t z;
  size_t n;
  ck_assert_int_eq(rq_observer_minmax(obs, &mn, &mx, 1, &n), RQ_OK);
  ck_assert(mn == -9.0f && mx >= 1e3f);
  ck_assert_int_eq(rq_observer_qparams(obs, &s, &z, 1, &n), RQ_OK);
  ck_assert(isfinite(s) && s > 0.0f);
  rq_observer_destroy(obs);
}
END_TEST

/* bfloat16 input and a transposed (strided) per-channel view give exactly
 * what the same values in contiguous float32 give. */
START_TEST(bf16_and_strided_inputs_match_float32) {
  float x[12];
  uint16_t bf[12];
  for (int i = 0; i < 12; i++) {
    x[i] = (float)((i * 7) % 12 - 5) * 0.375f; /* exact in bfloat16 */
    uint32_t bits;
    memcpy(&bits, &x[i], 4);
    bf[i] = (uint16_t)(bits >> 16);
  }
  int64_t shape[2] = {3, 4};
  rq_observer *a = make("{\"type\":\"PerChannelMinMaxObserver\",\"ch_axis\":1,\"qdtype\":\"qint8\"}");
  rq_observer *b = make("{\"type\":\"PerChannelMinMaxObserver\",\"ch_axis\":1,\"qdtype\":\"qint8\"}");
  rq_observer *c = make("{\"type\":\"PerChannelMinMaxObserver\",\"ch_axis\":0,\"qdtype\":\"qint8\"}");
  DLTensor t = tensor_f32(x, 2, shape);
  ck_assert_int_eq(rq_observer_observe(a, &t), RQ_OK);
  DLTensor tb = tensor_f32(NULL, 2, shape);
  tb.data = bf;
  tb.dtype.code = kDLBfloat;
  tb.dtype.bits = 16;
  ck_assert_int_eq(rq_observer_observe(b, &tb), RQ_OK);
  /* the transpose of x as a [4, 3] view with strides (1, 4): channels on axis 0 */
  int64_t tshape[2] = {4, 3}, tstrides[2] = {1, 4};
  DLTensor tt = tensor_f32(x, 2, tshape);
  tt.strides = tstrides;
  ck_assert_int_eq(rq_observer_observe(c, &tt), RQ_OK);
  float sa[4], sb[4], sc[4];
  int32_t za[4], zb[4], zc[4];
  size_t na, nb, nc;
  ck_assert_int_eq(rq_observer_qparams(a, sa, za, 4, &na), RQ_OK);
  ck_assert_int_eq(rq_observer_qparams(b, sb, zb, 4, &nb), RQ_OK);
  ck_assert_int_eq(rq_observer_qparams(c, sc, zc, 4, &nc), RQ_OK);
  ck_assert(na == 4 && nb == 4 && nc == 4);
  ck_assert(memcmp(sa, sb, sizeof sa) == 0 && memcmp(za, zb, sizeof za) == 0);
  ck_assert(memcmp(sa, sc, sizeof sa) == 0 && memcmp(za, zc, sizeof za) == 0);
  rq_observer_destroy(a);
  rq_observer_destroy(b);
  rq_observer_destroy(c);
}
END_TEST

static void *observe_many(void *arg) {
  (void)arg;
  for (int i = 0; i < 200; i++) {
    rq_observer *obs = NULL;
    if (rq_observer_create("{\"type\":\"torch.ao.quantization.MinMaxObserver\"}", &obs) != RQ_OK)
      return (void *)1;
    float x[3] = {(float)i, -1.0f, 2.0f};
    int64_t shape[1] = {3};
    DLTensor t = tensor_f32(x, 1, shape);
    if (rq_observer_observe(obs, &t) != RQ_OK) return (void *)1;
    rq_observer_destroy(obs);
  }
  return NULL;
}

START_TEST(distinct_handles_on_threads) {
  pthread_t th[4];
  for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, observe_many, NULL);
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(th[i], &r);
    ck_assert_ptr_null(r);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("observers_api");
  TCase *tc = tcase_create("api");
  tcase_add_test(tc, null_arguments_are_refused);
  tcase_add_test(tc, config_errors_name_the_key);
  tcase_add_test(tc, type_names_accept_module_prefixes);
  tcase_add_test(tc, nonfinite_input_is_refused_and_leaves_state);
  tcase_add_test(tc, bad_tensors_are_refused);
  tcase_add_test(tc, capacity_queries_and_defaults);
  tcase_add_test(tc, reset_returns_to_fresh);
  tcase_add_test(tc, recording_observer_keeps_batches);
  tcase_add_test(tc, saved_state_is_verified);
  tcase_add_test(tc, merge_preconditions_and_histogram);
  tcase_add_test(tc, distinct_handles_on_threads);
  tcase_add_test(tc, calibration_observers_use_fixed_memory);
  tcase_add_test(tc, bf16_and_strided_inputs_match_float32);
  tcase_add_test(tc, histogram_survives_range_jumps);
  tcase_add_test(tc, moving_average_merge_is_batch_weighted);
  tcase_add_test(tc, every_builtin_round_trips);
  tcase_add_test(tc, corrupted_saves_are_always_refused);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
