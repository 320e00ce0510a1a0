/* SPDX-License-Identifier: Apache-2.0 */
/* Quantizer configs: MMRazor's keys map onto fake-quant configs the way
 * MMRazor's QConfigHandler builds them, errors name the key path, and the
 * backend refuses what it cannot deploy. */
#include "session/quantizer.h"

#include <check.h>
#include <string.h>

/* The config of issue #6 / MMRazor's ptq_openvino_* configs. */
static const char *openvino_config =
    "{\"global_qconfig\": {"
    "  \"w_observer\": {\"type\": \"mmrazor.PerChannelMinMaxObserver\"},"
    "  \"a_observer\": {\"type\": \"mmrazor.MovingAverageMinMaxObserver\"},"
    "  \"w_fake_quant\": {\"type\": \"mmrazor.FakeQuantize\"},"
    "  \"a_fake_quant\": {\"type\": \"mmrazor.FakeQuantize\"},"
    "  \"w_qscheme\": {\"qdtype\": \"qint8\", \"bit\": 8, \"is_symmetry\": true, \"is_symmetric_range\": true},"
    "  \"a_qscheme\": {\"qdtype\": \"quint8\", \"bit\": 8, \"is_symmetry\": true, \"averaging_constant\": 0.1}},"
    " \"quantizer\": {\"type\": \"mmrazor.OpenVINOQuantizer\","
    "               \"tracer\": {\"skipped_nodes\": [\"/fc/Gemm\"], \"skipped_op_types\": []}},"
    " \"calibrate_steps\": 32, \"calibrate_batch_size\": 32}";

/* Replaces the first occurrence of `from` in openvino_config. */
static char *variant(const char *from, const char *to) {
  static char buf[4096];
  const char *at = strstr(openvino_config, from);
  ck_assert_msg(at != NULL, "'%s' not in the base config", from);
  size_t head = (size_t)(at - openvino_config);
  snprintf(buf, sizeof buf, "%.*s%s%s", (int)head, openvino_config, to, at + strlen(from));
  return buf;
}

static void assert_refused(const char *config, rq_status expected, const char *message) {
  rq_quantizer *q = (rq_quantizer *)0x1;
  rq_status s = rq_quantizer_create(config, &q);
  ck_assert_msg(s == expected, "got %s (%s), expected %s", rq_status_str(s), rq_last_error(), rq_status_str(expected));
  ck_assert_ptr_null(q);
  ck_assert_msg(strstr(rq_last_error(), message) != NULL, "message '%s' lacks '%s'", rq_last_error(), message);
}

static void assert_json_eq(const json_t *actual, const char *expected_text) {
  json_t *expected = json_loads(expected_text, 0, NULL);
  ck_assert_ptr_nonnull(expected);
  char *a = json_dumps(actual, JSON_SORT_KEYS | JSON_COMPACT);
  char *e = json_dumps(expected, JSON_SORT_KEYS | JSON_COMPACT);
  ck_assert_str_eq(a, e);
  free(a);
  free(e);
  json_decref(expected);
}

START_TEST(mmrazor_config_maps_onto_fake_quant_configs) {
  rq_quantizer *q;
  ck_assert_msg(rq_quantizer_create(openvino_config, &q) == RQ_OK, "%s", rq_last_error());
  ck_assert_str_eq(rq_backend_config_name(rq_quantizer_backend(q)), "openvino");
  /* qscheme keys go to the fake quant, the rest (averaging_constant) to the
   * observer, as MMRazor's QSchemeHandler.to_observer_params does. */
  assert_json_eq(q->global.w_fake_quant,
                 "{\"type\": \"mmrazor.FakeQuantize\", \"qdtype\": \"qint8\", \"bit\": 8, \"is_symmetry\": true,"
                 " \"is_symmetric_range\": true, \"observer\": {\"type\": \"mmrazor.PerChannelMinMaxObserver\"}}");
  assert_json_eq(q->global.a_fake_quant,
                 "{\"type\": \"mmrazor.FakeQuantize\", \"qdtype\": \"quint8\", \"bit\": 8, \"is_symmetry\": true,"
                 " \"observer\": {\"type\": \"mmrazor.MovingAverageMinMaxObserver\", \"averaging_constant\": 0.1}}");
  ck_assert(q->global.w.per_channel);
  ck_assert(!q->global.a.per_channel);
  ck_assert_int_eq(q->global.a.qdtype, RQ__QUINT8);
  ck_assert(rq__string_list_has(&q->skipped_nodes, "/fc/Gemm"));
  ck_assert_int_eq(q->calibrate_steps, 32);
  ck_assert(q->calibrate_with_fake_quant);
  rq_quantizer_destroy(q);
}
END_TEST

START_TEST(errors_name_the_key_path) {
  assert_refused(variant("\"bit\": 8, \"is_symmetry\": true, \"is_symmetric_range\"", "\"bit\": 17, \"is_symmetry\": true, \"is_symmetric_range\""),
                 RQ_ERR_INVALID_ARG, "global_qconfig.w_qscheme.bit: 17 is outside 1..16");
  assert_refused(variant("\"qdtype\": \"quint8\"", "\"qdtype\": \"uint4\""), RQ_ERR_INVALID_ARG,
                 "global_qconfig.a_qscheme.qdtype: 'uint4' is not quint8 or qint8");
  assert_refused(variant("\"calibrate_steps\": 32", "\"calibrate_step\": 32"), RQ_ERR_INVALID_ARG,
                 "calibrate_step: unknown key");
  assert_refused(variant("\"skipped_nodes\"", "\"skiped_nodes\""), RQ_ERR_INVALID_ARG,
                 "quantizer.tracer.skiped_nodes: unknown key");
  assert_refused(variant("\"skipped_op_types\": []", "\"unmatched_nodes\": [\"/fc/Gemm\"]"), RQ_ERR_INVALID_ARG,
                 "quantizer.tracer.unmatched_nodes: '/fc/Gemm' is in skipped_nodes too");
  assert_refused(variant("\"w_observer\": {\"type\": \"mmrazor.PerChannelMinMaxObserver\"},", ""),
                 RQ_ERR_INVALID_ARG, "global_qconfig.w_observer: missing");
  assert_refused(variant("{\"type\": \"mmrazor.FakeQuantize\"}", "{\"kind\": \"FakeQuantize\"}"), RQ_ERR_INVALID_ARG,
                 "global_qconfig.w_fake_quant.type: missing");
  assert_refused(variant("\"is_symmetry\": true, \"averaging", "\"is_symmetry\": 1, \"averaging"), RQ_ERR_INVALID_ARG,
                 "global_qconfig.a_qscheme.is_symmetry: expected true or false, got an integer");
  assert_refused(variant("\"calibrate_steps\": 32", "\"calibrate_steps\": 0"), RQ_ERR_INVALID_ARG,
                 "calibrate_steps: 0 is outside 1..1000000");
  assert_refused(variant("mmrazor.OpenVINOQuantizer", "mmrazor.CoreMLQuantizer"), RQ_ERR_NOT_FOUND,
                 "quantizer.type: 'mmrazor.CoreMLQuantizer' names no backend");
  assert_refused(variant("\"averaging_constant\": 0.1", "\"ch_axis\": 1"), RQ_ERR_INVALID_ARG,
                 "global_qconfig.a_qscheme.ch_axis: not a qscheme key");
  /* Arguments the observer or fake quant does not take, and unknown classes,
   * fail here (not at the first edge), naming the piece of the qconfig. */
  assert_refused(variant("mmrazor.MovingAverageMinMaxObserver", "mmrazor.MinMaxObserver"), RQ_ERR_INVALID_ARG,
                 "global_qconfig.a_qscheme: rq_fake_quant_create: observer: rq_observer_create: averaging_constant: "
                 "unknown key for MinMaxObserver");
  assert_refused(variant("mmrazor.MovingAverageMinMaxObserver", "mmrazor.NopeObserver"), RQ_ERR_NOT_FOUND,
                 "global_qconfig.a_observer: ");
  assert_refused(variant("\"w_fake_quant\": {\"type\": \"mmrazor.FakeQuantize\"}",
                         "\"w_fake_quant\": {\"type\": \"mmrazor.FakeQuantize\", \"quant_delay\": 1}"),
                 RQ_ERR_INVALID_ARG, "global_qconfig.w_fake_quant: ");
  assert_refused("{\"global_qconfig\": {}", RQ_ERR_FORMAT, "invalid JSON");
  assert_refused("[1, 2]", RQ_ERR_INVALID_ARG, "expected a JSON object");
}
END_TEST

START_TEST(backend_refuses_what_it_cannot_deploy) {
  /* TensorRT takes qint8 activations with zero point 0: the example. */
  assert_refused(variant("mmrazor.OpenVINOQuantizer", "mmrazor.TensorRTQuantizer"), RQ_ERR_UNSUPPORTED,
                 "global_qconfig.a_qscheme: qdtype: tensorrt cannot deploy quint8 activations (it takes qint8)");
  /* OpenVINO activations are per-tensor only. */
  assert_refused(variant("mmrazor.MovingAverageMinMaxObserver", "mmrazor.MovingAveragePerChannelMinMaxObserver"),
                 RQ_ERR_UNSUPPORTED, "global_qconfig.a_qscheme: openvino cannot deploy per-channel activations");
  /* Per-node qconfigs need a backend that deploys mixed precision. */
  assert_refused(variant("\"tracer\"", "\"qconfigs\": [{\"op_types\": [\"Gemm\"], \"a_qscheme\": {\"bit\": 4}}], \"tracer\""),
                 RQ_ERR_UNSUPPORTED, "quantizer.qconfigs: backend openvino deploys one qconfig");
}
END_TEST

START_TEST(per_node_overrides_inherit_what_they_do_not_restate) {
  const char *config = variant(
      "\"type\": \"mmrazor.OpenVINOQuantizer\",",
      "\"type\": \"mmrazor.AcademicQuantizer\", \"qconfigs\": ["
      " {\"op_types\": [\"Gemm\"], \"a_qscheme\": {\"bit\": 4}},"
      " {\"nodes\": [\"/stem/Conv\"], \"w_observer\": {\"type\": \"mmrazor.MinMaxObserver\"},"
      "  \"w_qscheme\": {\"bit\": 6, \"is_symmetric_range\": false}}],");
  rq_quantizer *q;
  ck_assert_msg(rq_quantizer_create(config, &q) == RQ_OK, "%s", rq_last_error());
  ck_assert_uint_eq(q->n_overrides, 2);
  const rq__qconfig *gemm = rq__quantizer_qconfig_for(q, "/head/Gemm", "Gemm");
  assert_json_eq(gemm->a_fake_quant,
                 "{\"type\": \"mmrazor.FakeQuantize\", \"qdtype\": \"quint8\", \"bit\": 4, \"is_symmetry\": true,"
                 " \"observer\": {\"type\": \"mmrazor.MovingAverageMinMaxObserver\", \"averaging_constant\": 0.1}}");
  ck_assert_int_eq(gemm->a.bit, 4);
  /* The weights of that Gemm keep the global qconfig. */
  ck_assert(json_equal(gemm->w_fake_quant, q->global.w_fake_quant));
  const rq__qconfig *stem = rq__quantizer_qconfig_for(q, "/stem/Conv", "Conv");
  assert_json_eq(stem->w_fake_quant,
                 "{\"type\": \"mmrazor.FakeQuantize\", \"qdtype\": \"qint8\", \"bit\": 6, \"is_symmetry\": true,"
                 " \"is_symmetric_range\": false, \"observer\": {\"type\": \"mmrazor.MinMaxObserver\"}}");
  ck_assert(!stem->w.per_channel);
  ck_assert_ptr_eq(rq__quantizer_qconfig_for(q, "/other/Conv", "Conv"), &q->global);
  rq_quantizer_destroy(q);

  /* An override naming another observer does not inherit the global one's
   * arguments (averaging_constant lives in the qscheme); a null removes a key. */
  config = variant("\"type\": \"mmrazor.OpenVINOQuantizer\",",
                   "\"type\": \"mmrazor.AcademicQuantizer\", \"qconfigs\": ["
                   " {\"nodes\": [\"/fc/Gemm\"], \"a_observer\": {\"type\": \"mmrazor.MinMaxObserver\"}},"
                   " {\"op_types\": [\"Add\"], \"a_qscheme\": {\"averaging_constant\": null, \"bit\": 6},"
                   "  \"a_observer\": {\"type\": \"mmrazor.MovingAverageMinMaxObserver\"}}],");
  ck_assert_msg(rq_quantizer_create(config, &q) == RQ_OK, "%s", rq_last_error());
  assert_json_eq(rq__quantizer_qconfig_for(q, "/fc/Gemm", "Gemm")->a_fake_quant,
                 "{\"type\": \"mmrazor.FakeQuantize\", \"qdtype\": \"quint8\", \"bit\": 8, \"is_symmetry\": true,"
                 " \"observer\": {\"type\": \"mmrazor.MinMaxObserver\"}}");
  assert_json_eq(rq__quantizer_qconfig_for(q, "/add", "Add")->a_fake_quant,
                 "{\"type\": \"mmrazor.FakeQuantize\", \"qdtype\": \"quint8\", \"bit\": 6, \"is_symmetry\": true,"
                 " \"observer\": {\"type\": \"mmrazor.MovingAverageMinMaxObserver\"}}");
  rq_quantizer_destroy(q);

  assert_refused(variant("\"type\": \"mmrazor.OpenVINOQuantizer\",",
                         "\"type\": \"mmrazor.AcademicQuantizer\", \"qconfigs\": [{\"a_qscheme\": {\"bit\": 4}}],"),
                 RQ_ERR_INVALID_ARG, "quantizer.qconfigs[0]: names no \"nodes\" or \"op_types\"");
  assert_refused(variant("\"type\": \"mmrazor.OpenVINOQuantizer\",",
                         "\"type\": \"mmrazor.AcademicQuantizer\", \"qconfigs\": [{\"nodes\": [\"a\"], \"a_qscheme\": {\"bit\": 40}}],"),
                 RQ_ERR_INVALID_ARG, "quantizer.qconfigs[0].a_qscheme.bit: 40 is outside 1..16");
}
END_TEST

START_TEST(custom_backend_inline_and_redundancy_extensions) {
  const char *config = variant(
      "\"type\": \"mmrazor.OpenVINOQuantizer\",",
      "\"type\": \"VendorQuantizer\", \"backend\": {\"name\": \"vendor\", \"base\": \"openvino\"},"
      " \"extra_redundant_fakequants\": {\"before\": [\"Reshape\"], \"after\": [\"AveragePool\"]},");
  rq_quantizer *q;
  ck_assert_msg(rq_quantizer_create(config, &q) == RQ_OK, "%s", rq_last_error());
  ck_assert_str_eq(rq_backend_config_name(q->backend), "vendor");
  ck_assert(rq__string_list_has(&q->extra_no_fakequant_before, "Reshape"));
  ck_assert(rq__string_list_has(&q->extra_no_fakequant_after, "AveragePool"));
  rq_quantizer_destroy(q);
  assert_refused(variant("\"type\": \"mmrazor.OpenVINOQuantizer\",",
                         "\"type\": \"V\", \"backend\": {\"name\": \"v\", \"base\": \"openvino\", \"bogus\": 1},"),
                 RQ_ERR_INVALID_ARG, "bogus: unknown key");
}
END_TEST

START_TEST(null_arguments_are_refused) {
  rq_quantizer *q;
  ck_assert_int_eq(rq_quantizer_create(NULL, &q), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "config_json is NULL"));
  ck_assert_int_eq(rq_quantizer_create(openvino_config, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_null(rq_quantizer_backend(NULL));
  rq_quantizer_destroy(NULL);
}
END_TEST

int main(void) {
  Suite *s = suite_create("quantizer");
  TCase *tc = tcase_create("quantizer");
  tcase_add_test(tc, mmrazor_config_maps_onto_fake_quant_configs);
  tcase_add_test(tc, errors_name_the_key_path);
  tcase_add_test(tc, backend_refuses_what_it_cannot_deploy);
  tcase_add_test(tc, per_node_overrides_inherit_what_they_do_not_restate);
  tcase_add_test(tc, custom_backend_inline_and_redundancy_extensions);
  tcase_add_test(tc, null_arguments_are_refused);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
