/* SPDX-License-Identifier: Apache-2.0 */
/* Fake-quants against PyTorch 1.13 (tests/golden/gen_fakequant.py): outputs
 * and dx bit-identical, learnable-parameter gradients within 1e-6 relative,
 * parameters and calculate_qparams() exact, over batches and mode switches.
 * Then the argument checks, non-finite input, layouts and the plugin registry. */
#include "core/core.h"
#include "fakequant/fakequant_internal.h"
#include "kernels/kernels.h"

#include <razorq/sys/plugin.h>

#include <check.h>
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Golden data ------------------------------------------------------------------- */

static json_t *g_golden;    /* the manifest */
static float *g_blob;       /* the float32 tensors */
static size_t g_blob_count;

static void load_golden(void) {
  const char *root = getenv("RAZORQ_SOURCE_ROOT");
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/golden/fakequant/fakequant.json", root ? root : ".");
  json_error_t err;
  g_golden = json_load_file(path, 0, &err);
  if (g_golden == NULL) {
    fprintf(stderr, "cannot read %s: %s\n", path, err.text);
    exit(1);
  }
  snprintf(path, sizeof path, "%s/tests/golden/fakequant/fakequant.bin", root ? root : ".");
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  long bytes = ftell(f);
  fseek(f, 0, SEEK_SET);
  g_blob_count = (size_t)bytes / sizeof(float);
  g_blob = malloc((size_t)bytes);
  if (g_blob == NULL || fread(g_blob, sizeof(float), g_blob_count, f) != g_blob_count) exit(1);
  fclose(f);
}

static const float *blob_ref(const json_t *step, const char *key, size_t expected) {
  const json_t *ref = json_object_get(step, key);
  ck_assert_ptr_nonnull(ref);
  size_t offset = (size_t)json_integer_value(json_array_get(ref, 0));
  size_t count = (size_t)json_integer_value(json_array_get(ref, 1));
  ck_assert_uint_eq(count, expected);
  ck_assert_uint_le(offset + count, g_blob_count);
  return g_blob + offset;
}

/* A small vector of the manifest into floats; returns its length. */
static size_t json_floats(const json_t *arr, float *out, size_t capacity) {
  size_t n = json_array_size(arr);
  ck_assert_uint_le(n, capacity);
  for (size_t i = 0; i < n; ++i) out[i] = (float)json_number_value(json_array_get(arr, i));
  return n;
}

static uint32_t bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

static void assert_bits_equal(const float *got, const float *want, size_t n, const char *what,
                              const char *name, size_t step) {
  for (size_t i = 0; i < n; ++i)
    ck_assert_msg(bits(got[i]) == bits(want[i]), "%s step %zu: %s[%zu] = %.9g, PyTorch %.9g",
                  name, step, what, i, got[i], want[i]);
}

static void assert_close(const float *got, const float *want, size_t n, const char *what,
                         const char *name, size_t step) {
  for (size_t i = 0; i < n; ++i) {
    double tol = 1e-6 * fabs(want[i]) + 1e-12;
    ck_assert_msg(fabs((double)got[i] - want[i]) <= tol,
                  "%s step %zu: %s[%zu] = %.9g, PyTorch %.9g", name, step, what, i, got[i],
                  want[i]);
  }
}

static DLTensor make_tensor(void *data, int ndim, int64_t *shape) {
  DLTensor t;
  memset(&t, 0, sizeof t);
  t.data = data;
  t.device.device_type = kDLCPU;
  t.ndim = ndim;
  t.dtype.code = kDLFloat;
  t.dtype.bits = 32;
  t.dtype.lanes = 1;
  t.shape = shape;
  return t;
}

/* Applies one of PyTorch's or MMRazor's switch names. */
static void apply_action(rq_fake_quant *fq, const char *action) {
  bool obs, fqon, learning;
  ck_assert_int_eq(rq_fake_quant_get_mode(fq, &obs, &fqon, &learning), RQ_OK);
  rq_status s;
  if (strcmp(action, "enable_observer") == 0) s = rq_fake_quant_set_mode(fq, true, fqon);
  else if (strcmp(action, "disable_observer") == 0) s = rq_fake_quant_set_mode(fq, false, fqon);
  else if (strcmp(action, "enable_fake_quant") == 0) s = rq_fake_quant_set_mode(fq, obs, true);
  else if (strcmp(action, "disable_fake_quant") == 0) s = rq_fake_quant_set_mode(fq, obs, false);
  else if (strcmp(action, "enable_param_learning") == 0)
    s = rq_fake_quant_set_learning_mode(fq, RQ_FQ_PARAM_LEARNING);
  else if (strcmp(action, "enable_static_estimate") == 0)
    s = rq_fake_quant_set_learning_mode(fq, RQ_FQ_STATIC_ESTIMATE);
  else if (strcmp(action, "enable_val") == 0) s = rq_fake_quant_set_learning_mode(fq, RQ_FQ_VAL);
  else if (strcmp(action, "enable_static_observation") == 0)
    s = rq_fake_quant_set_learning_mode(fq, RQ_FQ_STATIC_OBSERVATION);
  else
    ck_abort_msg("unknown action %s", action);
  ck_assert_int_eq(s, RQ_OK);
}

#define MAX_NUMEL 64
#define MAX_CH 8

START_TEST(golden_case) {
  const json_t *c = json_array_get(json_object_get(g_golden, "cases"), (size_t)_i);
  const char *name = json_string_value(json_object_get(c, "name"));
  char *config = json_dumps(json_object_get(c, "config"), JSON_COMPACT);
  rq_fake_quant *fq = NULL;
  ck_assert_msg(rq_fake_quant_create(config, &fq) == RQ_OK, "%s: %s", name, rq_last_error());
  free(config);

  const json_t *shape_json = json_object_get(c, "shape");
  int64_t shape[4];
  int ndim = (int)json_array_size(shape_json);
  size_t numel = 1;
  for (int d = 0; d < ndim; ++d) {
    shape[d] = json_integer_value(json_array_get(shape_json, (size_t)d));
    numel *= (size_t)shape[d];
  }
  ck_assert_uint_le(numel, MAX_NUMEL);

  const json_t *steps = json_object_get(c, "steps");
  for (size_t si = 0; si < json_array_size(steps); ++si) {
    const json_t *step = json_array_get(steps, si);
    const json_t *action;
    size_t ai;
    json_array_foreach(json_object_get(step, "actions"), ai, action)
      apply_action(fq, json_string_value(action));
    if (json_object_get(step, "set_scale")) {
      float s[MAX_CH], z[MAX_CH];
      size_t n = json_floats(json_object_get(step, "set_scale"), s, MAX_CH);
      ck_assert_uint_eq(json_floats(json_object_get(step, "set_zero_point"), z, MAX_CH), n);
      ck_assert_msg(rq_fake_quant_set_params(fq, s, z, n) == RQ_OK, "%s", rq_last_error());
    }
    float x[MAX_NUMEL], y[MAX_NUMEL], dy[MAX_NUMEL], dx[MAX_NUMEL];
    memcpy(x, blob_ref(step, "x", numel), numel * sizeof *x);
    memcpy(dy, blob_ref(step, "dy", numel), numel * sizeof *dy);
    DLTensor tx = make_tensor(x, ndim, shape), ty = make_tensor(y, ndim, shape);
    DLTensor tdy = make_tensor(dy, ndim, shape), tdx = make_tensor(dx, ndim, shape);
    ck_assert_msg(rq_fake_quant_forward(fq, &tx, &ty) == RQ_OK, "%s step %zu: %s", name, si,
                  rq_last_error());
    assert_bits_equal(y, blob_ref(step, "y", numel), numel, "y", name, si);

    float dscale[MAX_CH], dzp[MAX_CH];
    ck_assert_msg(rq_fake_quant_backward(fq, &tx, &tdy, &tdx, dscale, dzp) == RQ_OK,
                  "%s step %zu: %s", name, si, rq_last_error());
    assert_bits_equal(dx, blob_ref(step, "dx", numel), numel, "dx", name, si);

    float want[MAX_CH], want_zp[MAX_CH], got[MAX_CH], got_zp[MAX_CH];
    size_t n = json_floats(json_object_get(step, "scale"), want, MAX_CH), count = 0;
    json_floats(json_object_get(step, "zero_point"), want_zp, MAX_CH);
    ck_assert_int_eq(rq_fake_quant_get_params(fq, got, got_zp, MAX_CH, &count), RQ_OK);
    ck_assert_uint_eq(count, n);
    assert_bits_equal(got, want, n, "scale", name, si);
    assert_bits_equal(got_zp, want_zp, n, "zero_point", name, si);
    if (json_object_get(step, "dscale")) {
      ck_assert_uint_eq(json_floats(json_object_get(step, "dscale"), want, MAX_CH), n);
      assert_close(dscale, want, n, "dscale", name, si);
    }
    if (json_object_get(step, "dzero_point")) {
      ck_assert_uint_eq(json_floats(json_object_get(step, "dzero_point"), want, MAX_CH), n);
      assert_close(dzp, want, n, "dzero_point", name, si);
    }

    int32_t qzp[MAX_CH];
    const json_t *want_qzp = json_object_get(step, "qparams_zero_point");
    n = json_floats(json_object_get(step, "qparams_scale"), want, MAX_CH);
    ck_assert_msg(rq_fake_quant_qparams(fq, got, qzp, MAX_CH, &count) == RQ_OK, "%s",
                  rq_last_error());
    ck_assert_uint_eq(count, n);
    assert_bits_equal(got, want, n, "qparams scale", name, si);
    for (size_t i = 0; i < n; ++i)
      ck_assert_msg(qzp[i] == json_integer_value(json_array_get(want_qzp, i)),
                    "%s step %zu: qparams zero_point[%zu] = %d", name, si, i, (int)qzp[i]);
  }
  rq_fake_quant_destroy(fq);
}
END_TEST

/* ---- The fused op's qparams against the golden fused cases' first step -------------- */

/* ---- Argument checks, non-finite input, layouts ------------------------------------ */

static const char *k_affine_fq =
    "{\"type\":\"torch.ao.quantization.FakeQuantize\","
    "\"observer\":{\"type\":\"MinMaxObserver\"},\"qdtype\":\"quint8\",\"bit\":8,"
    "\"is_symmetry\":false}";

START_TEST(create_rejects_bad_configs) {
  rq_fake_quant *fq = (rq_fake_quant *)&fq;
  ck_assert_int_eq(rq_fake_quant_create(NULL, &fq), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_fake_quant_create(k_affine_fq, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_fake_quant_create("[1]", &fq), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_null(fq);
  ck_assert_int_eq(rq_fake_quant_create("{\"type\":", &fq), RQ_ERR_FORMAT);
  ck_assert_int_eq(rq_fake_quant_create("{\"observer\":{}}", &fq), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "type"));
  ck_assert_int_eq(rq_fake_quant_create("{\"type\":\"NoSuchFakeQuantize\"}", &fq),
                   RQ_ERR_NOT_FOUND);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "NoSuchFakeQuantize"));
  /* A key neither the class nor the observer knows is named. */
  ck_assert_int_eq(rq_fake_quant_create("{\"type\":\"FakeQuantize\",\"use_grad_scalng\":true}",
                                        &fq), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "use_grad_scalng"));
  /* The same key twice. */
  ck_assert_int_eq(rq_fake_quant_create("{\"type\":\"FakeQuantize\",\"bit\":4,"
                                        "\"observer\":{\"type\":\"MinMaxObserver\",\"bit\":4}}",
                                        &fq), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "bit"));
  /* Wrong types of class keys are named. */
  ck_assert_int_eq(rq_fake_quant_create("{\"type\":\"LearnableFakeQuantize\",\"observer\":"
                                        "{\"type\":\"MinMaxObserver\"},\"scale\":\"big\"}",
                                        &fq), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "scale"));
  /* LearnableFakeQuantize has no default observer. */
  ck_assert_int_eq(rq_fake_quant_create("{\"type\":\"mmrazor.LearnableFakeQuantize\"}", &fq),
                   RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "observer"));
  /* PyTorch's class constraints on the observer. */
  ck_assert_int_eq(rq_fake_quant_create("{\"type\":\"FixedQParamsFakeQuantize\",\"observer\":"
                                        "{\"type\":\"MinMaxObserver\"}}", &fq),
                   RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_fake_quant_create("{\"type\":\"FusedMovingAvgObsFakeQuantize\","
                                        "\"observer\":{\"type\":\"MinMaxObserver\"}}", &fq),
                   RQ_ERR_INVALID_ARG);
  ck_assert_ptr_null(fq);
}
END_TEST

START_TEST(defaults_and_accessors) {
  rq_fake_quant *fq;
  /* FakeQuantize defaults to a MovingAverageMinMaxObserver (PyTorch). */
  ck_assert_int_eq(rq_fake_quant_create("{\"type\":\"FakeQuantize\"}", &fq), RQ_OK);
  ck_assert_str_eq(rq_fake_quant_type_name(fq), "FakeQuantize");
  ck_assert_str_eq(rq_observer_type_name(rq_fake_quant_observer(fq)),
                   "MovingAverageMinMaxObserver");
  bool obs, fqon, learning;
  ck_assert_int_eq(rq_fake_quant_get_mode(fq, &obs, &fqon, &learning), RQ_OK);
  ck_assert(obs && fqon && !learning);
  ck_assert_int_eq(rq_fake_quant_set_learning_mode(fq, RQ_FQ_VAL), RQ_ERR_UNSUPPORTED);
  int32_t qmin, qmax, omin, omax;
  ck_assert_int_eq(rq_fake_quant_quant_range(fq, &qmin, &qmax), RQ_OK);
  ck_assert_int_eq(rq_observer_quant_range(rq_fake_quant_observer(fq), &omin, &omax), RQ_OK);
  ck_assert_int_eq(qmin, omin);
  ck_assert_int_eq(qmax, omax);
  ck_assert_int_eq(rq_fake_quant_quant_range(fq, NULL, &qmax), RQ_ERR_INVALID_ARG);
  /* PyTorch's initial buffers. */
  float s, z;
  size_t count;
  ck_assert_int_eq(rq_fake_quant_get_params(fq, NULL, NULL, 0, &count), RQ_OK);
  ck_assert_uint_eq(count, 1);
  ck_assert_int_eq(rq_fake_quant_get_params(fq, &s, &z, 1, &count), RQ_OK);
  ck_assert(s == 1.0f && z == 0.0f);
  ck_assert_int_eq(rq_fake_quant_get_params(fq, &s, NULL, 1, &count), RQ_ERR_INVALID_ARG);
  rq_fake_quant_destroy(fq);
  rq_fake_quant_destroy(NULL);
  ck_assert_ptr_null(rq_fake_quant_type_name(NULL));
  ck_assert_ptr_null(rq_fake_quant_observer(NULL));
}
END_TEST

START_TEST(forward_checks_arguments_and_keeps_state) {
  rq_fake_quant *fq;
  ck_assert_int_eq(rq_fake_quant_create(k_affine_fq, &fq), RQ_OK);
  float x[6] = {-1, 0.5f, 2, 3, -0.25f, 1}, y[6];
  int64_t shape[2] = {2, 3}, other[2] = {3, 2};
  DLTensor tx = make_tensor(x, 2, shape), ty = make_tensor(y, 2, shape);
  ck_assert_int_eq(rq_fake_quant_forward(NULL, &tx, &ty), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_fake_quant_forward(fq, NULL, &ty), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_fake_quant_forward(fq, &tx, NULL), RQ_ERR_INVALID_ARG);
  DLTensor bad = make_tensor(y, 2, other);
  ck_assert_int_eq(rq_fake_quant_forward(fq, &tx, &bad), RQ_ERR_INVALID_ARG);
  bad = make_tensor(y, 2, shape);
  bad.dtype.bits = 64;
  ck_assert_int_eq(rq_fake_quant_forward(fq, &tx, &bad), RQ_ERR_INVALID_ARG);
  bad = make_tensor(NULL, 2, shape);
  ck_assert_int_eq(rq_fake_quant_forward(fq, &bad, &ty), RQ_ERR_INVALID_ARG);

  ck_assert_int_eq(rq_fake_quant_forward(fq, &tx, &ty), RQ_OK);
  float s0, z0, s1, z1, mn0, mx0, mn1, mx1;
  size_t count;
  ck_assert_int_eq(rq_fake_quant_get_params(fq, &s0, &z0, 1, &count), RQ_OK);
  ck_assert_int_eq(rq_observer_minmax(rq_fake_quant_observer(fq), &mn0, &mx0, 1, &count), RQ_OK);
  /* NaN or Inf anywhere: refused, nothing changes (observer included), y untouched. */
  float poisoned[6] = {100, 200, NAN, 4, 5, 6}, y2[6] = {7, 7, 7, 7, 7, 7};
  DLTensor tp = make_tensor(poisoned, 2, shape), ty2 = make_tensor(y2, 2, shape);
  ck_assert_int_eq(rq_fake_quant_forward(fq, &tp, &ty2), RQ_ERR_NONFINITE);
  poisoned[2] = INFINITY;
  ck_assert_int_eq(rq_fake_quant_forward(fq, &tp, &ty2), RQ_ERR_NONFINITE);
  ck_assert_int_eq(rq_fake_quant_get_params(fq, &s1, &z1, 1, &count), RQ_OK);
  ck_assert_int_eq(rq_observer_minmax(rq_fake_quant_observer(fq), &mn1, &mx1, 1, &count), RQ_OK);
  ck_assert(s0 == s1 && z0 == z1 && mn0 == mn1 && mx0 == mx1);
  for (int i = 0; i < 6; ++i) ck_assert(y2[i] == 7.0f);
  /* Backward: shapes, NULLs, non-finite dy. */
  float dy[6] = {1, 1, 1, 1, 1, 1}, dx[6];
  DLTensor tdy = make_tensor(dy, 2, shape), tdx = make_tensor(dx, 2, shape);
  ck_assert_int_eq(rq_fake_quant_backward(fq, &tx, NULL, &tdx, NULL, NULL), RQ_ERR_INVALID_ARG);
  bad = make_tensor(dx, 2, other);
  ck_assert_int_eq(rq_fake_quant_backward(fq, &tx, &tdy, &bad, NULL, NULL), RQ_ERR_INVALID_ARG);
  dy[3] = NAN;
  ck_assert_int_eq(rq_fake_quant_backward(fq, &tx, &tdy, &tdx, NULL, NULL), RQ_ERR_NONFINITE);
  rq_fake_quant_destroy(fq);
}
END_TEST

START_TEST(ignore_nonfinite_passes_nan_through_like_pytorch) {
  /* With the observer's "ignore_nonfinite", NaN is skipped by the observer
   * and fake-quantized the way PyTorch's x86 kernel does it (NaN -> INT64_MIN
   * -> clamped to quant_min); the other elements are unaffected. */
  rq_fake_quant *a, *b;
  const char *cfg = "{\"type\":\"FakeQuantize\",\"observer\":{\"type\":\"MinMaxObserver\"},"
                    "\"qdtype\":\"quint8\",\"is_symmetry\":false,\"ignore_nonfinite\":true}";
  ck_assert_int_eq(rq_fake_quant_create(cfg, &a), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_create(cfg, &b), RQ_OK);
  float x[5] = {-1.5f, 0.25f, NAN, 2.0f, 0.7f}, same[5] = {-1.5f, 0.25f, 0.0f, 2.0f, 0.7f};
  float y[5], y_ref[5];
  int64_t shape[1] = {5};
  DLTensor tx = make_tensor(x, 1, shape), ty = make_tensor(y, 1, shape);
  DLTensor ts = make_tensor(same, 1, shape), tys = make_tensor(y_ref, 1, shape);
  ck_assert_int_eq(rq_fake_quant_forward(a, &tx, &ty), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_forward(b, &ts, &tys), RQ_OK);
  float s, z;
  size_t count;
  ck_assert_int_eq(rq_fake_quant_get_params(a, &s, &z, 1, &count), RQ_OK);
  for (int i = 0; i < 5; ++i)
    ck_assert(i == 2 ? y[i] == (0.0f - z) * s : bits(y[i]) == bits(y_ref[i]));
  rq_fake_quant_destroy(a);
  rq_fake_quant_destroy(b);
}
END_TEST

START_TEST(aliasing_strides_and_half_inputs_match_contiguous) {
  rq_fake_quant *a, *b;
  ck_assert_int_eq(rq_fake_quant_create(k_affine_fq, &a), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_create(k_affine_fq, &b), RQ_OK);
  /* The golden first case's x, as a plain input. */
  const json_t *step0 = json_array_get(json_object_get(json_array_get(
      json_object_get(g_golden, "cases"), 0), "steps"), 0);
  float x[30], y[30], alias[30];
  memcpy(x, blob_ref(step0, "x", 30), sizeof x);
  memcpy(alias, x, sizeof x);
  int64_t shape[2] = {5, 6};
  DLTensor tx = make_tensor(x, 2, shape), ty = make_tensor(y, 2, shape);
  ck_assert_int_eq(rq_fake_quant_forward(a, &tx, &ty), RQ_OK);
  /* y aliasing x. */
  DLTensor talias = make_tensor(alias, 2, shape);
  ck_assert_int_eq(rq_fake_quant_forward(b, &talias, &talias), RQ_OK);
  assert_bits_equal(alias, y, 30, "aliased y", "alias", 0);
  /* x transposed through strides: a [6, 5] view of the same memory. */
  int64_t tshape[2] = {6, 5}, tstrides[2] = {1, 6};
  float yt[30];
  DLTensor txt = make_tensor(x, 2, tshape), tyt = make_tensor(yt, 2, tshape);
  txt.strides = tstrides;
  ck_assert_int_eq(rq_fake_quant_set_mode(a, false, true), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_forward(a, &txt, &tyt), RQ_OK);
  for (int r = 0; r < 6; ++r)
    for (int col = 0; col < 5; ++col)
      ck_assert(bits(yt[r * 5 + col]) == bits(y[col * 6 + r]));
  /* y written through strides: the transposed view of a [6, 5] buffer. */
  float ys[30];
  DLTensor tys = make_tensor(ys, 2, shape);
  int64_t ystrides[2] = {1, 5};
  tys.strides = ystrides;
  ck_assert_int_eq(rq_fake_quant_forward(a, &tx, &tys), RQ_OK);
  for (int r = 0; r < 5; ++r)
    for (int col = 0; col < 6; ++col)
      ck_assert(bits(ys[col * 5 + r]) == bits(y[r * 6 + col]));
  /* dx may alias dy. */
  float dy[30], dx[30];
  for (int i = 0; i < 30; ++i) dy[i] = (float)(i % 7) - 3.0f;
  DLTensor tdy = make_tensor(dy, 2, shape), tdx = make_tensor(dx, 2, shape);
  ck_assert_int_eq(rq_fake_quant_backward(a, &tx, &tdy, &tdx, NULL, NULL), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_backward(a, &tx, &tdy, &tdy, NULL, NULL), RQ_OK);
  assert_bits_equal(dy, dx, 30, "aliased dx", "alias", 0);
  /* float16 input: exactly the float32 computation of its widened values. */
  uint16_t h[30];
  float widened[30], yh[30], yw[30];
  for (int i = 0; i < 30; ++i) {
    h[i] = rq__f32_to_f16(x[i]);
    widened[i] = rq__f16_to_f32(h[i]);
  }
  DLTensor th = make_tensor(h, 2, shape), tyh = make_tensor(yh, 2, shape);
  th.dtype.bits = 16;
  DLTensor tw = make_tensor(widened, 2, shape), tyw = make_tensor(yw, 2, shape);
  ck_assert_int_eq(rq_fake_quant_forward(a, &th, &tyh), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_forward(a, &tw, &tyw), RQ_OK);
  assert_bits_equal(yh, yw, 30, "fp16 y", "fp16", 0);
  /* bfloat16 likewise. */
  for (int i = 0; i < 30; ++i) {
    h[i] = rq__f32_to_bf16(x[i]);
    widened[i] = rq__bf16_to_f32(h[i]);
  }
  th.dtype.code = kDLBfloat;
  ck_assert_int_eq(rq_fake_quant_forward(a, &th, &tyh), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_forward(a, &tw, &tyw), RQ_OK);
  assert_bits_equal(yh, yw, 30, "bf16 y", "bf16", 0);
  rq_fake_quant_destroy(a);
  rq_fake_quant_destroy(b);
}
END_TEST

START_TEST(learnable_params_and_gradient_arguments) {
  rq_fake_quant *fq;
  ck_assert_int_eq(rq_fake_quant_create("{\"type\":\"LearnableFakeQuantize\",\"observer\":"
                                        "{\"type\":\"MinMaxObserver\"},\"qdtype\":\"qint8\","
                                        "\"bit\":4,\"is_symmetry\":false,\"scale\":0.5,"
                                        "\"zero_point\":1,\"zero_point_trainable\":true}",
                                        &fq), RQ_OK);
  float s, z;
  size_t count;
  ck_assert_int_eq(rq_fake_quant_get_params(fq, &s, &z, 1, &count), RQ_OK);
  ck_assert(s == 0.5f && z == 1.0f);
  ck_assert_int_eq(rq_fake_quant_set_learning_mode(fq, RQ_FQ_PARAM_LEARNING), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_set_learning_mode(fq, (rq_fake_quant_learning_mode)9),
                   RQ_ERR_INVALID_ARG);
  float x[4] = {-3, -0.2f, 0.7f, 9}, y[4], dy[4] = {1, -1, 0.5f, 2}, dx[4], ds, dz;
  int64_t shape[1] = {4};
  DLTensor tx = make_tensor(x, 1, shape), ty = make_tensor(y, 1, shape);
  DLTensor tdy = make_tensor(dy, 1, shape), tdx = make_tensor(dx, 1, shape);
  ck_assert_int_eq(rq_fake_quant_forward(fq, &tx, &ty), RQ_OK);
  /* While learning, both gradients are required. */
  ck_assert_int_eq(rq_fake_quant_backward(fq, &tx, &tdy, &tdx, NULL, &dz), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_fake_quant_backward(fq, &tx, &tdy, &tdx, &ds, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_fake_quant_backward(fq, &tx, &tdy, &tdx, &ds, &dz), RQ_OK);
  ck_assert(ds != 0 && dz != 0);
  /* In validation mode nothing is learned: NULL is fine, non-NULL gets zeros. */
  ck_assert_int_eq(rq_fake_quant_set_learning_mode(fq, RQ_FQ_VAL), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_backward(fq, &tx, &tdy, &tdx, NULL, NULL), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_backward(fq, &tx, &tdy, &tdx, &ds, &dz), RQ_OK);
  ck_assert(ds == 0 && dz == 0);
  /* set_params validation. */
  float two[2] = {1, 1}, bad_s = NAN, zz = 0;
  ck_assert_int_eq(rq_fake_quant_set_params(fq, two, two, 2), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_fake_quant_set_params(fq, &bad_s, &zz, 1), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_fake_quant_set_params(fq, NULL, &zz, 1), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_fake_quant_set_params(fq, two, NULL, 0), RQ_ERR_INVALID_ARG);
  /* Learned values may be fractional; a tiny or negative scale is clamped to eps. */
  float tiny = -1.0f, frac = 0.3f;
  ck_assert_int_eq(rq_fake_quant_set_params(fq, &tiny, &frac, 1), RQ_OK);
  float qs;
  int32_t qz;
  ck_assert_int_eq(rq_fake_quant_qparams(fq, &qs, &qz, 1, &count), RQ_OK);
  ck_assert(qs == FLT_EPSILON && qz == 0);
  ck_assert_int_eq(rq_fake_quant_qparams(fq, &qs, &qz, 0, &count), RQ_ERR_INVALID_ARG);
  rq_fake_quant_destroy(fq);

  /* A non-learnable fake-quant refuses fractional zero points and bad scales. */
  ck_assert_int_eq(rq_fake_quant_create(k_affine_fq, &fq), RQ_OK);
  float one = 1.0f, neg = -1.0f, big = 300.0f;
  ck_assert_int_eq(rq_fake_quant_set_params(fq, &one, &frac, 1), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_fake_quant_set_params(fq, &neg, &zz, 1), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_fake_quant_set_params(fq, &one, &big, 1), RQ_ERR_INVALID_ARG);
  rq_fake_quant_destroy(fq);
}
END_TEST

START_TEST(per_channel_needs_matching_channels) {
  rq_fake_quant *fq;
  ck_assert_int_eq(rq_fake_quant_create("{\"type\":\"FakeQuantize\",\"observer\":"
                                        "{\"type\":\"PerChannelMinMaxObserver\",\"ch_axis\":0}}",
                                        &fq), RQ_OK);
  float x[6] = {1, 2, 3, -4, 5, 6}, y[6];
  int64_t shape[2] = {2, 3}, other[2] = {3, 2};
  DLTensor tx = make_tensor(x, 2, shape), ty = make_tensor(y, 2, shape);
  /* Fake-quant alone before any per-channel parameters exist. */
  ck_assert_int_eq(rq_fake_quant_set_mode(fq, false, true), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_forward(fq, &tx, &ty), RQ_ERR_STATE);
  ck_assert_int_eq(rq_fake_quant_set_mode(fq, true, true), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_forward(fq, &tx, &ty), RQ_OK);
  size_t count;
  ck_assert_int_eq(rq_fake_quant_get_params(fq, NULL, NULL, 0, &count), RQ_OK);
  ck_assert_uint_eq(count, 2);
  float two_s[2], two_z[2];
  ck_assert_int_eq(rq_fake_quant_get_params(fq, two_s, two_z, 1, &count), RQ_ERR_INVALID_ARG);
  ck_assert_uint_eq(count, 2);
  ck_assert_int_eq(rq_fake_quant_get_params(fq, two_s, two_z, 2, &count), RQ_OK);
  /* Another channel count afterwards is refused. */
  DLTensor tx3 = make_tensor(x, 2, other), ty3 = make_tensor(y, 2, other);
  ck_assert_int_eq(rq_fake_quant_forward(fq, &tx3, &ty3), RQ_ERR_INVALID_ARG);
  float s[3] = {1, 1, 1}, z[3] = {0, 0, 0};
  ck_assert_int_eq(rq_fake_quant_set_params(fq, s, z, 3), RQ_ERR_INVALID_ARG);
  /* A 0-D tensor has no channel axis. */
  DLTensor scalar = make_tensor(x, 0, NULL), yscalar = make_tensor(y, 0, NULL);
  ck_assert_int_eq(rq_fake_quant_forward(fq, &scalar, &yscalar), RQ_ERR_INVALID_ARG);
  rq_fake_quant_destroy(fq);
}
END_TEST

START_TEST(fused_needs_statistics_before_observer_off) {
  rq_fake_quant *fq;
  ck_assert_int_eq(rq_fake_quant_create("{\"type\":\"FusedMovingAvgObsFakeQuantize\"}", &fq),
                   RQ_OK);
  float x[4] = {-1, 0, 1, 3}, y[4];
  int64_t shape[1] = {4};
  DLTensor tx = make_tensor(x, 1, shape), ty = make_tensor(y, 1, shape);
  ck_assert_int_eq(rq_fake_quant_set_mode(fq, false, true), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_forward(fq, &tx, &ty), RQ_ERR_STATE);
  ck_assert_int_eq(rq_fake_quant_set_mode(fq, true, true), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_forward(fq, &tx, &ty), RQ_OK);
  rq_fake_quant_destroy(fq);
}
END_TEST

/* ---- Plugin registry ---------------------------------------------------------------- */

/* A plugin class: rounds to the nearest multiple of the scale with no clamp. */
static rq_status unclamped_forward(void *state, const rq_fake_quant_info *info,
                                   const rq_observer *observer, const rq_fake_quant_batch *b,
                                   rq_fake_quant_params *p, float *y) {
  (void)state;
  (void)info;
  (void)observer;
  size_t n = b->outer * b->channels * b->inner;
  for (size_t i = 0; i < n; ++i) y[i] = nearbyintf(b->data[i] / p->scale[0]) * p->scale[0];
  return RQ_OK;
}

START_TEST(plugin_classes_register_once_and_run) {
  rq_fake_quant_class cls;
  memset(&cls, 0, sizeof cls);
  cls.struct_size = sizeof cls;
  cls.abi_major = RQ_ABI_MAJOR;
  cls.name = "UnclampedFakeQuantize";
  cls.default_observer = "MinMaxObserver";
  ck_assert_int_eq(rq_register_fake_quant(&cls), RQ_ERR_INVALID_ARG); /* no forward */
  cls.forward = unclamped_forward;
  cls.abi_major = RQ_ABI_MAJOR + 1;
  ck_assert_int_eq(rq_register_fake_quant(&cls), RQ_ERR_ABI);
  cls.abi_major = RQ_ABI_MAJOR;
  cls.name = "mmrazor.Unclamped";
  ck_assert_int_eq(rq_register_fake_quant(&cls), RQ_ERR_INVALID_ARG);
  cls.name = "FakeQuantize";
  ck_assert_int_eq(rq_register_fake_quant(&cls), RQ_ERR_EXISTS);
  cls.name = "UnclampedFakeQuantize";
  ck_assert_int_eq(rq_register_fake_quant(&cls), RQ_OK);
  ck_assert_int_eq(rq_register_fake_quant(&cls), RQ_ERR_EXISTS);
  ck_assert_int_eq(rq_register_fake_quant(NULL), RQ_ERR_INVALID_ARG);

  const char *names[16];
  size_t count;
  ck_assert_int_eq(rq_registry_list(RQ_REGISTRY_FAKE_QUANT, NULL, 0, &count), RQ_OK);
  ck_assert_uint_eq(count, 6);
  ck_assert_int_eq(rq_registry_list(RQ_REGISTRY_FAKE_QUANT, names, 2, &count), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_registry_list(RQ_REGISTRY_FAKE_QUANT, names, 16, &count), RQ_OK);
  ck_assert_str_eq(names[0], "FakeQuantize");
  ck_assert_str_eq(names[5], "UnclampedFakeQuantize");

  /* Used through the JSON API with the base's observer and default backward. */
  rq_fake_quant *fq;
  ck_assert_int_eq(rq_fake_quant_create("{\"type\":\"torch.quantization.UnclampedFakeQuantize\","
                                        "\"qdtype\":\"quint8\",\"is_symmetry\":false}", &fq),
                   RQ_OK);
  float x[4] = {-1, 0, 1, 3}, y[4];
  int64_t shape[1] = {4};
  DLTensor tx = make_tensor(x, 1, shape), ty = make_tensor(y, 1, shape);
  ck_assert_int_eq(rq_fake_quant_forward(fq, &tx, &ty), RQ_OK);
  float s, z;
  ck_assert_int_eq(rq_fake_quant_get_params(fq, &s, &z, 1, &count), RQ_OK);
  for (int i = 0; i < 4; ++i) ck_assert(y[i] == nearbyintf(x[i] / s) * s);
  rq_fake_quant_destroy(fq);
}
END_TEST

static Suite *fakequant_suite(void) {
  Suite *s = suite_create("fakequant");
  TCase *golden = tcase_create("golden");
  tcase_add_loop_test(golden, golden_case, 0, (int)json_array_size(json_object_get(g_golden,
                                                                                  "cases")));
  suite_add_tcase(s, golden);
  TCase *api = tcase_create("api");
  tcase_add_test(api, create_rejects_bad_configs);
  tcase_add_test(api, defaults_and_accessors);
  tcase_add_test(api, forward_checks_arguments_and_keeps_state);
  tcase_add_test(api, aliasing_strides_and_half_inputs_match_contiguous);
  tcase_add_test(api, ignore_nonfinite_passes_nan_through_like_pytorch);
  tcase_add_test(api, learnable_params_and_gradient_arguments);
  tcase_add_test(api, per_channel_needs_matching_channels);
  tcase_add_test(api, fused_needs_statistics_before_observer_off);
  tcase_add_test(api, plugin_classes_register_once_and_run);
  suite_add_tcase(s, api);
  return s;
}

int main(void) {
  load_golden();
  SRunner *runner = srunner_create(fakequant_suite());
  srunner_run_all(runner, CK_NORMAL);
  int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  json_decref(g_golden);
  free(g_blob);
  return failed ? 1 : 0;
}
