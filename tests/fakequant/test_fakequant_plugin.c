/* SPDX-License-Identifier: Apache-2.0 */
/* The example fake-quant plugin (examples/plugin-fakequant), built as its own
 * shared object and loaded with rq_plugin_load, works through the public API
 * only: its scales are the observer's rounded up to powers of two, and its
 * output equals the built-in FakeQuantize applying those same parameters. */
#include <razorq/razorq.h>
#include <razorq/sys/plugin.h>

#include <check.h>
#include <math.h>
#include <string.h>

static const char *g_plugin_path;

static DLTensor make_tensor(float *data, int ndim, int64_t *shape) {
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

START_TEST(loaded_plugin_fake_quantizes_with_power_of_two_scales) {
  ck_assert_msg(rq_plugin_load(g_plugin_path) == RQ_OK, "%s", rq_last_error());
  const char *names[16];
  size_t count;
  ck_assert_int_eq(rq_registry_list(RQ_REGISTRY_FAKE_QUANT, names, 16, &count), RQ_OK);
  ck_assert_str_eq(names[count - 1], "PowerOfTwoFakeQuantize");

  /* Its own argument is range-checked by the base's getter; unknown keys are named. */
  rq_fake_quant *fq;
  ck_assert_int_eq(rq_fake_quant_create("{\"type\":\"PowerOfTwoFakeQuantize\",\"max_shift\":500}",
                                        &fq), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "max_shift"));
  ck_assert_int_eq(rq_fake_quant_create("{\"type\":\"PowerOfTwoFakeQuantize\",\"max_shft\":5}",
                                        &fq), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "max_shft"));

  ck_assert_int_eq(rq_fake_quant_create("{\"type\":\"mmrazor.PowerOfTwoFakeQuantize\","
                                        "\"observer\":{\"type\":\"PerChannelMinMaxObserver\","
                                        "\"ch_axis\":1},\"qdtype\":\"qint8\",\"bit\":4,"
                                        "\"is_symmetry\":false}", &fq), RQ_OK);
  float x[24], y[24];
  for (int i = 0; i < 24; ++i) x[i] = sinf((float)i * 0.7f) * (float)(1 + i % 3) * 0.37f;
  int64_t shape[3] = {2, 3, 4};
  DLTensor tx = make_tensor(x, 3, shape), ty = make_tensor(y, 3, shape);
  ck_assert_msg(rq_fake_quant_forward(fq, &tx, &ty) == RQ_OK, "%s", rq_last_error());

  /* Scales: the observer's, rounded up to the next power of two. */
  float scale[3], zero_point[3], obs_scale[3];
  int32_t obs_zp[3];
  ck_assert_int_eq(rq_fake_quant_get_params(fq, scale, zero_point, 3, &count), RQ_OK);
  ck_assert_uint_eq(count, 3);
  ck_assert_int_eq(rq_observer_qparams(rq_fake_quant_observer(fq), obs_scale, obs_zp, 3, &count),
                   RQ_OK);
  for (int c = 0; c < 3; ++c) {
    int e;
    ck_assert(frexpf(scale[c], &e) == 0.5f);
    ck_assert(scale[c] >= obs_scale[c] && scale[c] / 2 < obs_scale[c]);
    ck_assert(zero_point[c] == (float)obs_zp[c]);
  }

  /* The output is the built-in FakeQuantize's with those parameters. */
  rq_fake_quant *ref;
  ck_assert_int_eq(rq_fake_quant_create("{\"type\":\"FakeQuantize\",\"observer\":{\"type\":"
                                        "\"PerChannelMinMaxObserver\",\"ch_axis\":1},"
                                        "\"qdtype\":\"qint8\",\"bit\":4,\"is_symmetry\":false}",
                                        &ref), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_set_params(ref, scale, zero_point, 3), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_set_mode(ref, false, true), RQ_OK);
  float y_ref[24];
  DLTensor ty_ref = make_tensor(y_ref, 3, shape);
  ck_assert_int_eq(rq_fake_quant_forward(ref, &tx, &ty_ref), RQ_OK);
  ck_assert_int_eq(memcmp(y, y_ref, sizeof y), 0);

  /* The base's default backward: straight-through, like the built-in's. */
  float dy[24], dx[24], dx_ref[24];
  for (int i = 0; i < 24; ++i) dy[i] = 1.0f + (float)i;
  DLTensor tdy = make_tensor(dy, 3, shape), tdx = make_tensor(dx, 3, shape);
  DLTensor tdx_ref = make_tensor(dx_ref, 3, shape);
  ck_assert_int_eq(rq_fake_quant_backward(fq, &tx, &tdy, &tdx, NULL, NULL), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_backward(ref, &tx, &tdy, &tdx_ref, NULL, NULL), RQ_OK);
  ck_assert_int_eq(memcmp(dx, dx_ref, sizeof dx), 0);

  /* The base's non-finite check covers plugin classes too. */
  x[5] = NAN;
  ck_assert_int_eq(rq_fake_quant_forward(fq, &tx, &ty), RQ_ERR_NONFINITE);
  rq_fake_quant_destroy(fq);
  rq_fake_quant_destroy(ref);
}
END_TEST

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  g_plugin_path = argv[1];
  Suite *s = suite_create("fakequant_plugin");
  TCase *tc = tcase_create("plugin");
  tcase_add_test(tc, loaded_plugin_fake_quantizes_with_power_of_two_scales);
  suite_add_tcase(s, tc);
  SRunner *runner = srunner_create(s);
  srunner_run_all(runner, CK_NORMAL);
  int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  return failed ? 1 : 0;
}
