/* SPDX-License-Identifier: Apache-2.0 */
/* Where fake-quants go. The expectations restate MMRazor's quantizers and
 * PyTorch FX's BackendConfig observation types on small graphs. */
#include "session/plan.h"

#include <check.h>
#include <string.h>

/* ---- a tiny graph builder over the IR ---- */

static int value(rq_graph *g, const char *name) {
  int id = rq__graph_find_value(g, name);
  if (id >= 0) return id;
  ck_assert_int_eq(rq__graph_add_value(g, name, &id), RQ_OK);
  g->values[id].dtype = RQ__DT_FLOAT;
  return id;
}

static void weight(rq_graph *g, const char *name, int ndim, const int64_t *dims) {
  rq__tensor *t;
  ck_assert_int_eq(rq__tensor_create(name, RQ__DT_FLOAT, ndim, dims, &t), RQ_OK);
  ck_assert_int_eq(rq__graph_set_initializer(g, value(g, name), t), RQ_OK);
}

static int node(rq_graph *g, const char *op, const char *name, const char *in0, const char *in1, const char *in2,
                const char *out) {
  int ins[3], n_in = 0, o = value(g, out), idx;
  const char *names[3] = {in0, in1, in2};
  for (int i = 0; i < 3; i++)
    if (names[i] != NULL) ins[n_in++] = value(g, names[i]);
  ck_assert_int_eq(rq__graph_add_node(g, op, "", name, ins, n_in, &o, 1, &idx), RQ_OK);
  return idx;
}

static void set_io(rq_graph *g, const char *input, const char *output) {
  g->inputs = rq__malloc(sizeof(int));
  g->outputs = rq__malloc(sizeof(int));
  g->inputs[0] = value(g, input);
  g->outputs[0] = value(g, output);
  g->n_inputs = g->n_outputs = 1;
  g->values[g->inputs[0]].is_input = true;
  g->values[g->outputs[0]].is_output = true;
  ck_assert_msg(rq__graph_sort(g) == RQ_OK, "%s", rq_last_error());
}

/* x -> Conv -> Relu -> MaxPool -> Flatten -> Gemm(transB=1) -> y */
static rq_graph *conv_net(void) {
  rq_graph *g;
  ck_assert_int_eq(rq__graph_create(&g), RQ_OK);
  int64_t wd[4] = {4, 1, 3, 3}, bd[1] = {4}, fd[2] = {10, 16}, fb[1] = {10};
  weight(g, "conv.w", 4, wd);
  weight(g, "conv.b", 1, bd);
  weight(g, "fc.w", 2, fd);
  weight(g, "fc.b", 1, fb);
  node(g, "Conv", "/conv/Conv", "x", "conv.w", "conv.b", "conv_out");
  node(g, "Relu", "/relu/Relu", "conv_out", NULL, NULL, "relu_out");
  node(g, "MaxPool", "/pool/MaxPool", "relu_out", NULL, NULL, "pool_out");
  node(g, "Flatten", "/Flatten", "pool_out", NULL, NULL, "flat");
  int gemm = node(g, "Gemm", "/fc/Gemm", "flat", "fc.w", "fc.b", "y");
  ck_assert_int_eq(rq__node_set_attr_int(&g->nodes[gemm], "transB", 1), RQ_OK);
  set_io(g, "x", "y");
  return g;
}

static rq_quantizer *quantizer_for(const char *type, const char *tracer) {
  char config[2048];
  snprintf(config, sizeof config,
           "{\"global_qconfig\": {"
           "\"w_observer\": {\"type\": \"mmrazor.PerChannelMinMaxObserver\"},"
           "\"a_observer\": {\"type\": \"mmrazor.MovingAverageMinMaxObserver\"},"
           "\"w_fake_quant\": {\"type\": \"mmrazor.FakeQuantize\"}, \"a_fake_quant\": {\"type\": \"mmrazor.FakeQuantize\"},"
           "\"w_qscheme\": {\"qdtype\": \"qint8\", \"bit\": 8, \"is_symmetry\": true, \"is_symmetric_range\": true},"
           "\"a_qscheme\": {\"qdtype\": \"%s\", \"bit\": 8, \"is_symmetry\": true}},"
           "\"quantizer\": {\"type\": \"%s\"%s}}",
           strstr(type, "TensorRT") ? "qint8" : "quint8", type, tracer);
  rq_quantizer *q;
  ck_assert_msg(rq_quantizer_create(config, &q) == RQ_OK, "%s", rq_last_error());
  return q;
}

static const rq__qpoint *point_on(const rq_graph *g, const rq__plan *p, const char *name) {
  for (int i = 0; i < p->n_points; i++)
    if (strcmp(g->values[p->points[i].value].name, name) == 0) return &p->points[i];
  return NULL;
}

static void plan_ok(const rq_graph *g, const rq_quantizer *q, rq__plan *p) {
  ck_assert_msg(rq__plan_build(g, q, p) == RQ_OK, "%s", rq_last_error());
}

static bool has_note(const rq__plan *p, const char *part) {
  for (int i = 0; i < p->n_notes; i++)
    if (strstr(p->notes[i], part) != NULL) return true;
  return false;
}

START_TEST(openvino_places_and_removes_like_mmrazor) {
  rq_graph *g = conv_net();
  rq_quantizer *q = quantizer_for("mmrazor.OpenVINOQuantizer", "");
  rq__plan p;
  plan_ok(g, q, &p);
  /* The Conv's activation input, and its fused Conv+Relu group's output. */
  ck_assert_ptr_nonnull(point_on(g, &p, "x"));
  ck_assert_ptr_nonnull(point_on(g, &p, "relu_out"));
  /* Never inside Conv+Relu. */
  ck_assert_ptr_null(point_on(g, &p, "conv_out"));
  /* MMRazor: none after MaxPool or flatten, none on the graph output. */
  ck_assert_ptr_null(point_on(g, &p, "pool_out"));
  ck_assert_ptr_null(point_on(g, &p, "flat"));
  ck_assert_ptr_null(point_on(g, &p, "y"));
  ck_assert(has_note(&p, "edge 'pool_out': no fake-quant, redundant for openvino (after MaxPool)"));
  ck_assert(has_note(&p, "edge 'flat': no fake-quant, redundant for openvino (after Flatten)"));
  ck_assert(has_note(&p, "edge 'y': no fake-quant, redundant for openvino (on a graph output)"));
  /* Weights per channel on the output-channel axis; biases stay float. */
  const rq__qpoint *cw = point_on(g, &p, "conv.w"), *fw = point_on(g, &p, "fc.w");
  ck_assert(cw != NULL && cw->is_weight && cw->ch_axis == 0);
  ck_assert(fw != NULL && fw->is_weight && fw->ch_axis == 0); /* transB=1: [N, K] */
  ck_assert_ptr_null(point_on(g, &p, "conv.b"));
  ck_assert_int_eq(p.n_points, 4);
  rq__plan_free(&p);
  rq_quantizer_destroy(q);
  rq_graph_destroy(g);
}
END_TEST

START_TEST(native_keeps_share_qparams_chain_and_output) {
  rq_graph *g = conv_net();
  rq_quantizer *q = quantizer_for("mmrazor.NativeQuantizer", "");
  rq__plan p;
  plan_ok(g, q, &p);
  const rq__qpoint *relu = point_on(g, &p, "relu_out"), *pool = point_on(g, &p, "pool_out"),
                   *flat = point_on(g, &p, "flat"), *y = point_on(g, &p, "y"), *x = point_on(g, &p, "x");
  ck_assert(relu && pool && flat && y && x);
  /* MaxPool and Flatten share their input's fake-quant (OUTPUT_SHARE_OBSERVER_WITH_INPUT). */
  ck_assert_int_eq(pool->share, relu->share);
  ck_assert_int_eq(flat->share, relu->share);
  ck_assert_int_ne(y->share, relu->share);
  ck_assert_int_ne(x->share, relu->share);
  ck_assert_int_eq(p.n_shares, 3);
  rq__plan_free(&p);
  rq_quantizer_destroy(q);
  rq_graph_destroy(g);
}
END_TEST

START_TEST(gemm_without_transpose_quantizes_axis_one) {
  rq_graph *g;
  ck_assert_int_eq(rq__graph_create(&g), RQ_OK);
  int64_t wd[2] = {16, 10};
  weight(g, "w", 2, wd);
  node(g, "Gemm", "g", "x", "w", NULL, "y");
  node(g, "MatMul", "m", "y", "w2", NULL, "z");
  int64_t w2d[2] = {10, 5};
  weight(g, "w2", 2, w2d);
  set_io(g, "x", "z");
  rq_quantizer *q = quantizer_for("mmrazor.NativeQuantizer", "");
  rq__plan p;
  plan_ok(g, q, &p);
  ck_assert_int_eq(point_on(g, &p, "w")->ch_axis, 1);
  ck_assert_int_eq(point_on(g, &p, "w2")->ch_axis, 1);
  rq__plan_free(&p);
  rq_quantizer_destroy(q);
  rq_graph_destroy(g);
}
END_TEST

START_TEST(skipped_nodes_stay_float_and_are_reported) {
  rq_graph *g = conv_net();
  rq_quantizer *q = quantizer_for("mmrazor.OpenVINOQuantizer", ", \"tracer\": {\"skipped_nodes\": [\"/fc/Gemm\"]}");
  rq__plan p;
  plan_ok(g, q, &p);
  ck_assert_ptr_null(point_on(g, &p, "fc.w"));
  ck_assert_ptr_nonnull(point_on(g, &p, "conv.w"));
  ck_assert(has_note(&p, "node '/fc/Gemm' (Gemm): left float, skipped by quantizer.tracer"));
  rq__plan_free(&p);
  rq_quantizer_destroy(q);
  rq_graph_destroy(g);
}
END_TEST

/* What FX makes of a functional torch.relu after a conv and of nn.Flatten,
 * which no pattern of its BackendConfig matches: the Conv stands alone (its
 * output observed), the Relu's output gets a fake-quant of its own where the
 * next op asks for one, and nothing is shared through the Flatten. */
START_TEST(unmatched_nodes_are_fused_with_nothing_and_share_nothing) {
  rq_graph *g = conv_net();
  rq_quantizer *q = quantizer_for("mmrazor.NativeQuantizer",
                                  ", \"tracer\": {\"unmatched_nodes\": [\"/relu/Relu\", \"/Flatten\"]}");
  rq__plan p;
  plan_ok(g, q, &p);
  const rq__qpoint *conv = point_on(g, &p, "conv_out"), *relu = point_on(g, &p, "relu_out"),
                   *pool = point_on(g, &p, "pool_out"), *flat = point_on(g, &p, "flat");
  ck_assert(conv && relu && pool && flat);
  ck_assert_int_ne(conv->share, relu->share);
  ck_assert_int_eq(pool->share, relu->share); /* MaxPool still shares its input's */
  ck_assert_int_ne(flat->share, pool->share);
  ck_assert(has_note(&p, "node '/relu/Relu' (Relu): unmatched by quantizer.tracer"));
  ck_assert(has_note(&p, "node '/Flatten' (Flatten): unmatched by quantizer.tracer"));
  rq__plan_free(&p);
  rq_quantizer_destroy(q);
  rq_graph_destroy(g);
}
END_TEST

/* x -> Conv -> Clip (ReLU6) -> Conv -> y: FX has no conv + relu6 pattern, so
 * the native backend observes the Conv's output and shares it with the
 * Clip's; ONNX Runtime's backend fuses them (as ORT fuses Conv + Clip). */
START_TEST(clip_after_conv_is_fused_only_where_the_backend_says) {
  rq_graph *g;
  ck_assert_int_eq(rq__graph_create(&g), RQ_OK);
  int64_t wd[4] = {4, 4, 1, 1};
  weight(g, "w1", 4, wd);
  weight(g, "w2", 4, wd);
  node(g, "Conv", "c1", "x", "w1", NULL, "conv_out");
  node(g, "Clip", "relu6", "conv_out", NULL, NULL, "clip_out");
  node(g, "Conv", "c2", "clip_out", "w2", NULL, "y");
  set_io(g, "x", "y");
  rq__plan p;
  rq_quantizer *native = quantizer_for("mmrazor.NativeQuantizer", "");
  plan_ok(g, native, &p);
  const rq__qpoint *conv = point_on(g, &p, "conv_out"), *clip = point_on(g, &p, "clip_out");
  ck_assert(conv && clip);
  ck_assert_int_eq(conv->share, clip->share);
  rq__plan_free(&p);
  rq_quantizer *ort = quantizer_for("ONNXRuntimeQuantizer", "");
  plan_ok(g, ort, &p);
  ck_assert_ptr_null(point_on(g, &p, "conv_out"));
  ck_assert_ptr_nonnull(point_on(g, &p, "clip_out"));
  rq__plan_free(&p);
  rq_quantizer_destroy(native);
  rq_quantizer_destroy(ort);
  rq_graph_destroy(g);
}
END_TEST

/* The pairs FX treats as one op break up when their second node is
 * unmatched: x -> Add(x, x) -> Relu -> HardSigmoid -> Mul(relu, hs) -> y. */
START_TEST(unmatched_second_nodes_break_add_relu_and_hardswish) {
  rq_graph *g;
  ck_assert_int_eq(rq__graph_create(&g), RQ_OK);
  node(g, "Add", "add", "x", "x", NULL, "sum");
  node(g, "Relu", "relu", "sum", NULL, NULL, "r");
  node(g, "HardSigmoid", "hs", "r", NULL, NULL, "h");
  node(g, "Mul", "mul", "r", "h", NULL, "y");
  set_io(g, "x", "y");
  rq__plan p;
  rq_quantizer *fused = quantizer_for("mmrazor.NativeQuantizer", "");
  plan_ok(g, fused, &p);
  ck_assert_ptr_null(point_on(g, &p, "sum")); /* inside Add + Relu */
  ck_assert_ptr_null(point_on(g, &p, "h"));   /* inside the HardSwish */
  rq__plan_free(&p);
  rq_quantizer *unmatched = quantizer_for("mmrazor.NativeQuantizer",
                                          ", \"tracer\": {\"unmatched_nodes\": [\"relu\", \"mul\"]}");
  plan_ok(g, unmatched, &p);
  ck_assert_ptr_nonnull(point_on(g, &p, "sum")); /* the Add's own output */
  /* HardSigmoid is a fixed-qparams op on its own: its output is observed. */
  ck_assert_ptr_nonnull(point_on(g, &p, "h"));
  rq__plan_free(&p);
  rq_quantizer_destroy(fused);
  rq_quantizer_destroy(unmatched);
  rq_graph_destroy(g);
}
END_TEST

START_TEST(concat_shares_one_fake_quant_and_fixed_ops_get_ranges) {
  rq_graph *g;
  ck_assert_int_eq(rq__graph_create(&g), RQ_OK);
  int64_t wd[4] = {2, 1, 1, 1};
  weight(g, "w1", 4, wd);
  weight(g, "w2", 4, wd);
  node(g, "Conv", "c1", "x", "w1", NULL, "a");
  node(g, "Conv", "c2", "x", "w2", NULL, "b");
  int cat = node(g, "Concat", "cat", "a", "b", NULL, "ab");
  ck_assert_int_eq(rq__node_set_attr_int(&g->nodes[cat], "axis", 1), RQ_OK);
  node(g, "Sigmoid", "sig", "ab", NULL, NULL, "s");
  node(g, "Erf", "erf", "s", NULL, NULL, "y");
  set_io(g, "x", "y");
  rq_quantizer *q = quantizer_for("mmrazor.NativeQuantizer", "");
  rq__plan p;
  plan_ok(g, q, &p);
  const rq__qpoint *a = point_on(g, &p, "a"), *b = point_on(g, &p, "b"), *ab = point_on(g, &p, "ab"),
                   *s = point_on(g, &p, "s");
  ck_assert(a && b && ab && s);
  ck_assert_int_eq(a->share, ab->share);
  ck_assert_int_eq(b->share, ab->share);
  ck_assert(s->fixed && s->fixed_lo == 0.0f && s->fixed_hi == 1.0f);
  ck_assert_ptr_null(point_on(g, &p, "y"));
  ck_assert(has_note(&p, "op type Erf (1 node): runs in float, native does not quantize it"));
  rq__plan_free(&p);
  rq_quantizer_destroy(q);
  rq_graph_destroy(g);
}
END_TEST

START_TEST(tensorrt_quantizes_only_weighted_inputs) {
  rq_graph *g = conv_net();
  rq_quantizer *q = quantizer_for("mmrazor.TensorRTQuantizer", "");
  rq__plan p;
  plan_ok(g, q, &p);
  ck_assert_ptr_nonnull(point_on(g, &p, "x"));
  ck_assert_ptr_nonnull(point_on(g, &p, "relu_out"));
  ck_assert_ptr_null(point_on(g, &p, "flat")); /* Flatten output: after flatten, redundant */
  ck_assert_ptr_null(point_on(g, &p, "y"));
  rq__plan_free(&p);
  rq_quantizer_destroy(q);
  rq_graph_destroy(g);
}
END_TEST

int main(void) {
  Suite *s = suite_create("plan");
  TCase *tc = tcase_create("plan");
  tcase_add_test(tc, openvino_places_and_removes_like_mmrazor);
  tcase_add_test(tc, native_keeps_share_qparams_chain_and_output);
  tcase_add_test(tc, gemm_without_transpose_quantizes_axis_one);
  tcase_add_test(tc, skipped_nodes_stay_float_and_are_reported);
  tcase_add_test(tc, unmatched_nodes_are_fused_with_nothing_and_share_nothing);
  tcase_add_test(tc, clip_after_conv_is_fused_only_where_the_backend_says);
  tcase_add_test(tc, unmatched_second_nodes_break_add_relu_and_hardswish);
  tcase_add_test(tc, concat_shares_one_fake_quant_and_fixed_ops_get_ranges);
  tcase_add_test(tc, tensorrt_quantizes_only_weighted_inputs);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
