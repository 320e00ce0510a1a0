/* SPDX-License-Identifier: Apache-2.0 */
/* Backend configs: the built-ins carry MMRazor's rules, custom definitions are
 * validated with errors that name the key, and deployability is checked. */
#include "backends/backends.h"

#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static rq_backend_config *create_ok(const char *spec) {
  rq_backend_config *cfg = NULL;
  rq_status s = rq_backend_config_create(spec, &cfg);
  ck_assert_msg(s == RQ_OK, "create(%s): %s", spec, rq_last_error());
  return cfg;
}

static void assert_fails(const char *spec, rq_status expected, const char *message_part) {
  rq_backend_config *cfg = (rq_backend_config *)0x1;
  rq_status s = rq_backend_config_create(spec, &cfg);
  ck_assert_msg(s == expected, "create(%s) gave %s, expected %s (%s)", spec, rq_status_str(s),
                rq_status_str(expected), rq_last_error());
  ck_assert_ptr_null(cfg);
  ck_assert_msg(strstr(rq_last_error(), message_part) != NULL, "message '%s' lacks '%s'",
                rq_last_error(), message_part);
}

START_TEST(builtins_resolve_by_every_name) {
  const char *names[] = {"openvino", "OpenVINOQuantizer", "mmrazor.OpenVINOQuantizer"};
  for (size_t i = 0; i < 3; i++) {
    rq_backend_config *cfg = create_ok(names[i]);
    ck_assert_str_eq(rq_backend_config_name(cfg), "openvino");
    rq_backend_config_destroy(cfg);
  }
  rq_backend_config *cfg = create_ok("mmrazor.TensorRTQuantizer");
  ck_assert_str_eq(rq_backend_config_name(cfg), "tensorrt");
  rq_backend_config_destroy(cfg);
  cfg = create_ok("TorchNativeQuantizer");
  ck_assert_str_eq(rq_backend_config_name(cfg), "native");
  rq_backend_config_destroy(cfg);
  assert_fails("mmrazor.NoSuchQuantizer", RQ_ERR_NOT_FOUND, "no backend named 'mmrazor.NoSuchQuantizer'");
}
END_TEST

START_TEST(openvino_follows_mmrazor) {
  rq_backend_config *cfg = create_ok("openvino");
  ck_assert_int_eq(rq__backend_op_role(cfg, "Conv"), RQ__ROLE_WEIGHTED);
  ck_assert_int_eq(rq__backend_op_role(cfg, "Gemm"), RQ__ROLE_WEIGHTED);
  ck_assert_int_eq(rq__backend_op_role(cfg, "Add"), RQ__ROLE_BINARY);
  ck_assert_int_eq(rq__backend_op_role(cfg, "Concat"), RQ__ROLE_CONCAT);
  ck_assert_int_eq(rq__backend_op_role(cfg, "MaxPool"), RQ__ROLE_SHARE_QPARAMS);
  ck_assert_int_eq(rq__backend_op_role(cfg, "LSTM"), RQ__ROLE_NONE);
  /* MMRazor: none before ReLU6/Identity, none after MaxPool/flatten, none on outputs. */
  ck_assert(rq__backend_fakequant_redundant(cfg, "Conv", "Clip"));
  ck_assert(rq__backend_fakequant_redundant(cfg, "Conv", "Identity"));
  ck_assert(rq__backend_fakequant_redundant(cfg, "MaxPool", "Conv"));
  ck_assert(rq__backend_fakequant_redundant(cfg, "Flatten", "Gemm"));
  ck_assert(rq__backend_fakequant_redundant(cfg, "Gemm", NULL));
  ck_assert(!rq__backend_fakequant_redundant(cfg, "Relu", "Conv"));
  ck_assert(!rq__backend_fakequant_redundant(cfg, NULL, "Conv"));
  rq_backend_config_destroy(cfg);
}
END_TEST

START_TEST(native_has_fixed_qparams_and_keeps_output_fakequants) {
  rq_backend_config *cfg = create_ok("native");
  float lo, hi;
  ck_assert(rq__backend_fixed_range(cfg, "Sigmoid", &lo, &hi));
  ck_assert(lo == 0.0f && hi == 1.0f);
  ck_assert(rq__backend_fixed_range(cfg, "Tanh", &lo, &hi));
  ck_assert(lo == -1.0f && hi == 1.0f);
  ck_assert_int_eq(rq__backend_op_role(cfg, "Sigmoid"), RQ__ROLE_FIXED_QPARAMS);
  ck_assert(!rq__backend_fakequant_redundant(cfg, "Gemm", NULL));
  ck_assert(!rq__backend_fixed_range(cfg, "Relu", &lo, &hi));
  rq_backend_config_destroy(cfg);
}
END_TEST

START_TEST(deployability_is_checked_with_the_rule_named) {
  rq_backend_config *trt = create_ok("tensorrt");
  rq__qscheme_summary a = {.qdtype = RQ__QUINT8, .bit = 8, .symmetric = true};
  ck_assert_int_eq(rq__backend_check_qscheme(trt, false, &a, "global_qconfig.a_qscheme"), RQ_ERR_UNSUPPORTED);
  ck_assert_str_eq(rq_last_error(),
                   "global_qconfig.a_qscheme: qdtype: tensorrt cannot deploy quint8 activations (it takes qint8)");
  a.qdtype = RQ__QINT8;
  ck_assert_int_eq(rq__backend_check_qscheme(trt, false, &a, "a"), RQ_OK);
  a.bit = 4;
  ck_assert_int_eq(rq__backend_check_qscheme(trt, false, &a, "a"), RQ_ERR_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "8..8 bits, not 4"));
  a.bit = 8;
  a.symmetric = false;
  ck_assert_int_eq(rq__backend_check_qscheme(trt, false, &a, "a"), RQ_ERR_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "symmetric"));
  rq__qscheme_summary w = {.qdtype = RQ__QINT8, .bit = 8, .symmetric = true, .per_channel = false};
  ck_assert_int_eq(rq__backend_check_qscheme(trt, true, &w, "w"), RQ_ERR_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "only per-channel"));
  w.per_channel = true;
  ck_assert_int_eq(rq__backend_check_qscheme(trt, true, &w, "w"), RQ_OK);
  rq_backend_config_destroy(trt);

  /* Weights go per output channel (PyTorch's ch_axis 0) whatever the op; a
   * backend asking for another axis is refused when it is defined, not on
   * every config later. */
  rq_backend_config *other_axis = NULL;
  ck_assert_int_eq(rq_backend_config_create("{\"name\": \"npu1\", \"base\": \"tensorrt\","
                                            " \"weight\": {\"dtypes\": [\"qint8\"], \"modes\": [\"per_channel\"],"
                                            " \"ch_axis\": 1}}", &other_axis), RQ_ERR_UNSUPPORTED);
  ck_assert_ptr_null(other_axis);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "weight.ch_axis: 1 is not supported"));

  rq_backend_config *academic = create_ok("academic");
  rq__qscheme_summary any = {.qdtype = RQ__QUINT8, .bit = 12, .symmetric = false, .per_channel = true};
  ck_assert_int_eq(rq__backend_check_qscheme(academic, false, &any, "a"), RQ_OK);
  rq_backend_config_destroy(academic);
}
END_TEST

START_TEST(custom_definitions_derive_from_a_base) {
  rq_backend_config *cfg = create_ok(
      "{\"name\": \"myvendor\", \"base\": \"openvino\","
      " \"activation\": {\"dtypes\": [\"qint8\"]},"
      " \"no_fakequant_after\": [\"MaxPool\", \"Flatten\", \"Reshape\"]}");
  ck_assert_str_eq(rq_backend_config_name(cfg), "myvendor");
  /* Merged: activation.dtypes replaced, activation.modes inherited, ops inherited. */
  rq__qscheme_summary a = {.qdtype = RQ__QUINT8, .bit = 8};
  ck_assert_int_eq(rq__backend_check_qscheme(cfg, false, &a, "a"), RQ_ERR_UNSUPPORTED);
  a.qdtype = RQ__QINT8;
  ck_assert_int_eq(rq__backend_check_qscheme(cfg, false, &a, "a"), RQ_OK);
  a.per_channel = true;
  ck_assert_int_eq(rq__backend_check_qscheme(cfg, false, &a, "a"), RQ_ERR_UNSUPPORTED);
  ck_assert_int_eq(rq__backend_op_role(cfg, "Conv"), RQ__ROLE_WEIGHTED);
  ck_assert(rq__backend_fakequant_redundant(cfg, "Reshape", "Gemm"));
  rq_backend_config_destroy(cfg);
}
END_TEST

/* FX's conv/linear patterns fuse ReLU only; backends that drop or fuse the
 * fake-quant before a Clip themselves keep fusing it, as does a custom
 * definition that does not say. */
START_TEST(fused_activations_follow_fx_for_native_and_academic) {
  const char *relu_only[] = {"native", "academic"}, *relu_and_clip[] = {"openvino", "tensorrt", "onnxruntime"};
  for (size_t i = 0; i < 2; i++) {
    rq_backend_config *cfg = create_ok(relu_only[i]);
    ck_assert(rq__string_list_has(&cfg->fused_activations, "Relu"));
    ck_assert(!rq__string_list_has(&cfg->fused_activations, "Clip"));
    rq_backend_config_destroy(cfg);
  }
  for (size_t i = 0; i < 3; i++) {
    rq_backend_config *cfg = create_ok(relu_and_clip[i]);
    ck_assert(rq__string_list_has(&cfg->fused_activations, "Relu"));
    ck_assert(rq__string_list_has(&cfg->fused_activations, "Clip"));
    rq_backend_config_destroy(cfg);
  }
  rq_backend_config *none = create_ok("{\"name\": \"npu2\", \"base\": \"native\", \"fused_activations\": []}");
  ck_assert_uint_eq(none->fused_activations.count, 0);
  rq_backend_config_destroy(none);
  rq_backend_config *unsaid = create_ok("{\"name\": \"npu3\", \"activation\": {\"dtypes\": [\"quint8\"]}, "
                                        "\"weight\": {\"dtypes\": [\"qint8\"]}}");
  ck_assert(rq__string_list_has(&unsaid->fused_activations, "Clip"));
  rq_backend_config_destroy(unsaid);
}
END_TEST

START_TEST(json_round_trips) {
  const char *names[] = {"native", "openvino", "tensorrt", "academic", "onnxruntime"};
  for (size_t i = 0; i < 5; i++) {
    rq_backend_config *cfg = create_ok(names[i]);
    size_t len = 0;
    ck_assert_int_eq(rq_backend_config_to_json(cfg, NULL, 0, &len), RQ_OK);
    ck_assert_uint_gt(len, 50);
    char *text = malloc(len + 1);
    ck_assert_int_eq(rq_backend_config_to_json(cfg, text, len, &len), RQ_ERR_INVALID_ARG);
    ck_assert_int_eq(rq_backend_config_to_json(cfg, text, len + 1, &len), RQ_OK);
    rq_backend_config *again = create_ok(text);
    size_t len2 = 0;
    char *text2 = malloc(len + 1);
    ck_assert_int_eq(rq_backend_config_to_json(again, text2, len + 1, &len2), RQ_OK);
    ck_assert_str_eq(text, text2);
    free(text);
    free(text2);
    rq_backend_config_destroy(cfg);
    rq_backend_config_destroy(again);
  }
}
END_TEST

START_TEST(bad_definitions_name_the_key) {
  assert_fails("{\"name\": \"x\", \"activation\": {\"dtypes\": [\"int4\"]}, \"weight\": {\"dtypes\": [\"qint8\"]}}",
               RQ_ERR_INVALID_ARG, "activation.dtypes[0]: 'int4' is not quint8 or qint8");
  assert_fails("{\"name\": \"x\", \"base\": \"openvino\", \"weight\": {\"bits\": [0, 8]}}",
               RQ_ERR_INVALID_ARG, "weight.bits: [0, 8] is not a range within 1..16");
  assert_fails("{\"name\": \"x\", \"base\": \"openvino\", \"colour\": 1}", RQ_ERR_INVALID_ARG,
               "colour: unknown key");
  assert_fails("{\"name\": \"x\", \"base\": \"openvino\", \"ops\": {\"weighted\": [\"Conv\", 3]}}",
               RQ_ERR_INVALID_ARG, "ops.weighted[1]: expected a string, got an integer");
  assert_fails("{\"name\": \"x\", \"base\": \"openvino\", \"export\": {\"format\": \"tflite\"}}",
               RQ_ERR_INVALID_ARG, "export.format: 'tflite' is not qdq or openvino-fq");
  assert_fails("{\"name\": \"x\", \"base\": \"nope\"}", RQ_ERR_NOT_FOUND, "no backend named 'nope'");
  assert_fails("{\"name\": \"x\", \"base\": \"native\", \"fused_activations\": \"Relu\"}", RQ_ERR_INVALID_ARG,
               "fused_activations");
  assert_fails("{\"name\": \"x\", \"base\": \"native\", \"fused_activations\": [\"ReLU\"]}", RQ_ERR_INVALID_ARG,
               "fused_activations: 'ReLU' is not an activation razorq fuses");
  assert_fails("{\"name\": \"x\", \"weight\": {\"dtypes\": [\"qint8\"]}}", RQ_ERR_INVALID_ARG,
               "activation: missing");
  assert_fails("{\"name\": ", RQ_ERR_FORMAT, "invalid JSON at line 1");
  assert_fails("{\"name\": \"x\", \"name\": \"y\"}", RQ_ERR_FORMAT, "duplicate");
  assert_fails("   ", RQ_ERR_INVALID_ARG, "empty");
  assert_fails(NULL, RQ_ERR_INVALID_ARG, "name_or_json is NULL");
  ck_assert_int_eq(rq_backend_config_create("openvino", NULL), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "out is NULL"));
}
END_TEST

START_TEST(registry_accepts_new_names_once) {
  const char *def = "{\"name\": \"acme-npu\", \"base\": \"tensorrt\", \"weight\": {\"bits\": [4, 8]}}";
  ck_assert_int_eq(rq_register_backend_config(def), RQ_OK);
  ck_assert_int_eq(rq_register_backend_config(def), RQ_ERR_EXISTS);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "already registered"));
  ck_assert_int_eq(rq_register_backend_config("{\"name\": \"openvino\", \"base\": \"openvino\"}"), RQ_ERR_EXISTS);
  ck_assert_int_eq(rq_register_backend_config("{\"name\": \"broken\", \"base\": \"openvino\", \"x\": 1}"),
                   RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_register_backend_config(NULL), RQ_ERR_INVALID_ARG);

  rq_backend_config *cfg = create_ok("acme-npu");
  rq__qscheme_summary w = {.qdtype = RQ__QINT8, .bit = 4, .symmetric = true, .per_channel = true};
  ck_assert_int_eq(rq__backend_check_qscheme(cfg, true, &w, "w"), RQ_OK);
  rq_backend_config_destroy(cfg);

  const char *names[16];
  size_t count = 0;
  ck_assert_int_eq(rq_backend_config_list(names, 16, &count), RQ_OK);
  ck_assert_uint_eq(count, 6);
  ck_assert_str_eq(names[0], "native");
  ck_assert_str_eq(names[5], "acme-npu");
  ck_assert_int_eq(rq_backend_config_list(NULL, 0, &count), RQ_OK);
  ck_assert_uint_eq(count, 6);
  ck_assert_int_eq(rq_backend_config_list(NULL, 3, &count), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_backend_config_list(names, 3, NULL), RQ_ERR_INVALID_ARG);
}
END_TEST

/* Every example config names qschemes its own backend can deploy (observer
 * classes with "PerChannel" in their name are per-channel, as in MMRazor). */
START_TEST(examples_deploy_on_their_backend) {
  const char *names[] = {"native", "openvino", "tensorrt", "academic", "onnxruntime"};
  for (size_t i = 0; i < 5; i++) {
    size_t len = 0;
    ck_assert_int_eq(rq_backend_config_example(names[i], NULL, 0, &len), RQ_OK);
    char *text = malloc(len + 1);
    ck_assert_int_eq(rq_backend_config_example(names[i], text, len + 1, &len), RQ_OK);
    json_error_t err;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    ck_assert_msg(root != NULL, "%s example: %s", names[i], err.text);
    json_t *q = json_object_get(root, "global_qconfig");
    const char *quantizer = json_string_value(json_object_get(json_object_get(root, "quantizer"), "type"));
    rq_backend_config *cfg = create_ok(quantizer);
    ck_assert_str_eq(rq_backend_config_name(cfg), names[i]);
    const char *roles[2][2] = {{"w_qscheme", "w_observer"}, {"a_qscheme", "a_observer"}};
    for (int w = 0; w < 2; w++) {
      json_t *qs = json_object_get(q, roles[w][0]);
      rq__qscheme_summary sum = {0};
      ck_assert(rq__qdtype_parse(json_string_value(json_object_get(qs, "qdtype")), &sum.qdtype));
      sum.bit = (int)json_integer_value(json_object_get(qs, "bit"));
      sum.symmetric = json_is_true(json_object_get(qs, "is_symmetry"));
      sum.per_channel = strstr(json_string_value(json_object_get(json_object_get(q, roles[w][1]), "type")),
                               "PerChannel") != NULL;
      ck_assert_msg(rq__backend_check_qscheme(cfg, w == 0, &sum, roles[w][0]) == RQ_OK, "%s: %s", names[i],
                    rq_last_error());
    }
    rq_backend_config_destroy(cfg);
    json_decref(root);
    free(text);
  }
  size_t len;
  ck_assert_int_eq(rq_backend_config_example("nope", NULL, 0, &len), RQ_ERR_NOT_FOUND);
  char small[4];
  ck_assert_int_eq(rq_backend_config_example("openvino", small, sizeof small, &len), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_backend_config_example(NULL, NULL, 0, &len), RQ_ERR_INVALID_ARG);
}
END_TEST

START_TEST(null_handles_are_refused) {
  size_t len;
  ck_assert_int_eq(rq_backend_config_to_json(NULL, NULL, 0, &len), RQ_ERR_INVALID_ARG);
  ck_assert_str_eq(rq_backend_config_name(NULL), "");
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "cfg is NULL"));
  rq_backend_config_destroy(NULL);
}
END_TEST

int main(void) {
  Suite *s = suite_create("backends");
  TCase *tc = tcase_create("backends");
  tcase_add_test(tc, builtins_resolve_by_every_name);
  tcase_add_test(tc, openvino_follows_mmrazor);
  tcase_add_test(tc, native_has_fixed_qparams_and_keeps_output_fakequants);
  tcase_add_test(tc, deployability_is_checked_with_the_rule_named);
  tcase_add_test(tc, custom_definitions_derive_from_a_base);
  tcase_add_test(tc, json_round_trips);
  tcase_add_test(tc, fused_activations_follow_fx_for_native_and_academic);
  tcase_add_test(tc, bad_definitions_name_the_key);
  tcase_add_test(tc, registry_accepts_new_names_once);
  tcase_add_test(tc, examples_deploy_on_their_backend);
  tcase_add_test(tc, null_handles_are_refused);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  /* The registry test relies on one process: run in-process. */
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
