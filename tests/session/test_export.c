/* SPDX-License-Identifier: Apache-2.0 */
/* Export formats of a converted session (lib/session/export.c) on the shared
 * digits models: int32 biases in ONNX Runtime's QDQ form, with the session's
 * fake-quantized model evaluating the same rounded biases; uint8 weight
 * storage giving the same dequantized weights; MMRazor's OpenVINO
 * FakeQuantize form; qschemes a format cannot express refused; every
 * argument of the export API validated. The numeric oracles are ONNX
 * Runtime and a numpy reference of OpenVINO's FakeQuantize
 * (tests/e2e/test_export_formats.py); here razorq's executor runs the
 * exported QDQ models against the session's own evaluation. */
#include "session/export.h"

#include <razorq/export.h>

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qconfig.h"

static char data_dir[4096];
static char tmp_dir[4096];

static const char *data_path(const char *name) {
  static char buf[4][4200];
  static int next;
  char *p = buf[next++ % 4];
  snprintf(p, 4200, "%s/%s", data_dir, name);
  return p;
}

static const char *tmp_path(const char *name) {
  static char buf[4][4200];
  static int next;
  char *p = buf[next++ % 4];
  snprintf(p, 4200, "%s/%s", tmp_dir, name);
  return p;
}

/* Issue #6's qconfig for a backend, with the given bit width. */
static rq_quantizer *quantizer(const char *backend, int bits) { return issue6_quantizer(backend, bits, ""); }

typedef struct fixture {
  rq_graph *model;
  rq_npy *calib, *test;
  DLTensor calib_x, test_x;
  rq_session *session;
} fixture;

/* A converted session of model for backend, calibrated on 256 samples. */
static void fixture_load(fixture *f, const char *model, const char *backend, int bits) {
  ck_assert_msg(rq_graph_load(data_path(model), &f->model) == RQ_OK, "%s", rq_last_error());
  ck_assert_int_eq(rq_npy_load(data_path("digits_calib_x.npy"), &f->calib), RQ_OK);
  ck_assert_int_eq(rq_npy_load(data_path("digits_test_x.npy"), &f->test), RQ_OK);
  rq_npy_dltensor(f->calib, &f->calib_x);
  rq_npy_dltensor(f->test, &f->test_x);
  rq_quantizer *q = quantizer(backend, bits);
  ck_assert_msg(rq_quantizer_prepare(q, f->model, &f->session) == RQ_OK, "%s", rq_last_error());
  rq_quantizer_destroy(q);
  DLTensor batch = f->calib_x;
  int64_t shape[4];
  for (int d = 0; d < batch.ndim; d++) shape[d] = batch.shape[d];
  shape[0] = 256;
  batch.shape = shape;
  ck_assert_msg(rq_session_calibrate(f->session, &batch, 1) == RQ_OK, "%s", rq_last_error());
  ck_assert_int_eq(rq_session_convert(f->session), RQ_OK);
}

static void fixture_free(fixture *f) {
  rq_session_destroy(f->session);
  rq_graph_destroy(f->model);
  rq_npy_destroy(f->calib);
  rq_npy_destroy(f->test);
}

static rq_session_export_options export_options(rq_export_format format, rq_export_weight_storage storage) {
  rq_session_export_options o;
  ck_assert_int_eq(rq_session_export_options_init(&o, sizeof o), RQ_OK);
  o.format = format;
  o.weight_storage = storage;
  return o;
}

static const float *initializer(const rq_graph *g, int v, int32_t dtype, size_t *numel) {
  ck_assert_int_ge(v, 0);
  const rq__tensor *t = g->values[v].init;
  ck_assert_ptr_nonnull(t);
  ck_assert_int_eq(t->dtype, dtype);
  if (numel != NULL) *numel = t->numel;
  return t->data;
}

/* The node producing value v, checked to be op. */
static const rq__node *producer(const rq_graph *g, int v, const char *op) {
  ck_assert_int_ge(v, 0);
  int n = g->values[v].producer;
  ck_assert_int_ge(n, 0);
  ck_assert_str_eq(g->nodes[n].op_type, op);
  return &g->nodes[n];
}

/* Logits of graph g (or of the session's evaluation when g is NULL) on the test set. */
static rq_tensor_list *logits(fixture *f, const rq_graph *g) {
  rq_tensor_list *out = NULL;
  rq_status st = g != NULL ? rq_graph_run(g, NULL, &f->test_x, 1, &out) : rq_session_run(f->session, &f->test_x, 1, &out);
  ck_assert_msg(st == RQ_OK, "%s", rq_last_error());
  return out;
}

static double argmax_agreement(rq_tensor_list *a, rq_tensor_list *b) {
  const DLTensor *x, *y;
  ck_assert_int_eq(rq_tensor_list_get(a, 0, NULL, &x), RQ_OK);
  ck_assert_int_eq(rq_tensor_list_get(b, 0, NULL, &y), RQ_OK);
  int64_t rows = x->shape[0], cols = x->shape[1];
  const float *p = x->data, *q = y->data;
  int64_t same = 0;
  for (int64_t r = 0; r < rows; r++) {
    int64_t ia = 0, ib = 0;
    for (int64_t c = 1; c < cols; c++) {
      if (p[r * cols + c] > p[r * cols + ia]) ia = c;
      if (q[r * cols + c] > q[r * cols + ib]) ib = c;
    }
    same += ia == ib;
  }
  return (double)same / (double)rows;
}

/* ONNX Runtime's QDQ form of a Conv/Gemm bias (what its QDQ transformer
 * fuses into QLinearConv/QGemm, onnxruntime.quantization's
 * quantize_bias_static): INT32, zero point 0, scale = s_in * s_w[c] from the
 * DequantizeLinear nodes on the input and the weight, axis 0 per channel;
 * and the dequantized bias is the float bias rounded to that grid. */
START_TEST(int32_bias_in_onnxruntime_form) {
  fixture f;
  fixture_load(&f, "digits_cnn.onnx", "ONNXRuntimeQuantizer", 8);
  const char *path = tmp_path("int32_bias.onnx");
  ck_assert_msg(rq_session_export(f.session, path) == RQ_OK, "%s", rq_last_error());
  rq_graph *g;
  ck_assert_msg(rq_graph_load(path, &g) == RQ_OK, "%s", rq_last_error());
  const rq_graph *fl = rq_session_graph(f.session);
  int checked = 0;
  for (int n = 0; n < g->n_nodes; n++) {
    const rq__node *node = &g->nodes[n];
    if (strcmp(node->op_type, "Conv") != 0 && strcmp(node->op_type, "Gemm") != 0) continue;
    const rq__node *dq_x = producer(g, node->inputs[0], "DequantizeLinear");
    const rq__node *dq_w = producer(g, node->inputs[1], "DequantizeLinear");
    const rq__node *dq_b = producer(g, node->inputs[2], "DequantizeLinear");
    size_t n_w, n_b, n_q, n_zp;
    const float *s_in = initializer(g, dq_x->inputs[1], RQ__DT_FLOAT, NULL);
    const float *s_w = initializer(g, dq_w->inputs[1], RQ__DT_FLOAT, &n_w);
    const float *s_b = initializer(g, dq_b->inputs[1], RQ__DT_FLOAT, &n_b);
    const int32_t *q = (const int32_t *)initializer(g, dq_b->inputs[0], RQ__DT_INT32, &n_q);
    const int32_t *zp = (const int32_t *)initializer(g, dq_b->inputs[2], RQ__DT_INT32, &n_zp);
    ck_assert_uint_eq(n_b, n_w);
    ck_assert_uint_eq(n_zp, n_w);
    ck_assert_uint_eq(n_q, n_w);
    ck_assert_int_eq(rq__node_attr_int(dq_b, "axis", 1), 0);
    /* The float bias, from the prepared model: the consumer's third input there. */
    const rq__tensor *b = NULL;
    for (int k = 0; k < fl->n_nodes && b == NULL; k++)
      if (strcmp(fl->nodes[k].name, node->name) == 0) b = fl->values[fl->nodes[k].inputs[2]].init;
    ck_assert_ptr_nonnull(b);
    for (size_t c = 0; c < n_w; c++) {
      ck_assert_int_eq(zp[c], 0);
      ck_assert(s_b[c] == s_in[0] * s_w[c]);
      double dq = (double)q[c] * s_b[c], bias = ((const float *)b->data)[c];
      ck_assert_msg(fabs(dq - bias) <= 0.5 * s_b[c] * (1 + 1e-6), "%s channel %zu: %g vs %g", node->name, c, dq, bias);
    }
    checked++;
  }
  ck_assert_int_eq(checked, 7); /* six Conv and the Gemm */

  /* With the biases rounded in the session too, its evaluation and razorq's
   * executor running the export agree. */
  rq_tensor_list *deployed = logits(&f, g);
  ck_assert_int_eq(rq__session_quantize_biases(f.session), RQ_OK);
  rq_tensor_list *evaluated = logits(&f, NULL);
  ck_assert_double_ge(argmax_agreement(deployed, evaluated), 0.998);
  /* Idempotent: the biases are rounded from the float model every time. */
  ck_assert_int_eq(rq__session_quantize_biases(f.session), RQ_OK);
  rq_tensor_list *again = logits(&f, NULL);
  const DLTensor *a, *b;
  ck_assert_int_eq(rq_tensor_list_get(evaluated, 0, NULL, &a), RQ_OK);
  ck_assert_int_eq(rq_tensor_list_get(again, 0, NULL, &b), RQ_OK);
  ck_assert_int_eq(memcmp(a->data, b->data, 500 * 10 * sizeof(float)), 0);
  /* The fake-quantized model's biases are the export's DequantizeLinear values, bit for bit. */
  const rq_graph *fq = f.session->fq_graph;
  for (int n = 0; n < g->n_nodes; n++) {
    const rq__node *node = &g->nodes[n];
    if (strcmp(node->op_type, "Conv") != 0 && strcmp(node->op_type, "Gemm") != 0) continue;
    const rq__node *dq_b = producer(g, node->inputs[2], "DequantizeLinear");
    size_t count;
    const float *s_b = initializer(g, dq_b->inputs[1], RQ__DT_FLOAT, &count);
    const int32_t *q = (const int32_t *)initializer(g, dq_b->inputs[0], RQ__DT_INT32, NULL);
    const float *rounded = NULL;
    for (int k = 0; k < fq->n_nodes && rounded == NULL; k++)
      if (strcmp(fq->nodes[k].name, node->name) == 0) rounded = initializer(fq, fq->nodes[k].inputs[2], RQ__DT_FLOAT, NULL);
    ck_assert_ptr_nonnull(rounded);
    for (size_t c = 0; c < count; c++) ck_assert(rounded[c] == (float)q[c] * s_b[c]);
  }
  rq_tensor_list_destroy(deployed);
  rq_tensor_list_destroy(evaluated);
  rq_tensor_list_destroy(again);
  rq_graph_destroy(g);
  fixture_free(&f);
}
END_TEST

/* A non-finite bias has no int32 value: it stays float (in the export and
 * in the session's model), the others are still quantized. */
START_TEST(non_finite_bias_stays_float) {
  fixture f;
  fixture_load(&f, "digits_mlp.onnx", "ONNXRuntimeQuantizer", 8);
  rq_graph *prepared = f.session->graph;
  int gemm = -1;
  for (int n = 0; n < prepared->n_nodes && gemm < 0; n++)
    if (strcmp(prepared->nodes[n].op_type, "Gemm") == 0) gemm = n;
  ck_assert_int_ge(gemm, 0);
  const char *bias_name = prepared->values[prepared->nodes[gemm].inputs[2]].name;
  ((float *)prepared->values[prepared->nodes[gemm].inputs[2]].init->data)[0] = NAN;
  const char *path = tmp_path("nan_bias.onnx");
  ck_assert_msg(rq_session_export(f.session, path) == RQ_OK, "%s", rq_last_error());
  rq_graph *g;
  ck_assert_int_eq(rq_graph_load(path, &g), RQ_OK);
  int int32_biases = 0;
  for (int n = 0; n < g->n_nodes; n++) {
    if (strcmp(g->nodes[n].op_type, "Gemm") != 0) continue;
    int b = g->nodes[n].inputs[2];
    if (strcmp(g->values[b].name, bias_name) == 0) initializer(g, b, RQ__DT_FLOAT, NULL);
    else int32_biases += strcmp(producer(g, b, "DequantizeLinear")->op_type, "DequantizeLinear") == 0;
  }
  ck_assert_int_eq(int32_biases, 2);
  /* convert already rounded the (then finite) biases; doing it again is a no-op. */
  ck_assert_int_eq(rq__session_quantize_biases(f.session), RQ_OK);
  rq_graph_destroy(g);
  fixture_free(&f);
}
END_TEST

/* Backends without export.int32_bias keep float biases, and their sessions
 * are unchanged by the bias rounding. */
START_TEST(float_bias_elsewhere) {
  fixture f;
  fixture_load(&f, "digits_cnn.onnx", "OpenVINOQuantizer", 8);
  const char *path = tmp_path("float_bias.onnx");
  ck_assert_msg(rq_session_export(f.session, path) == RQ_OK, "%s", rq_last_error());
  rq_graph *g;
  ck_assert_msg(rq_graph_load(path, &g) == RQ_OK, "%s", rq_last_error());
  for (int n = 0; n < g->n_nodes; n++)
    if (strcmp(g->nodes[n].op_type, "Conv") == 0) initializer(g, g->nodes[n].inputs[2], RQ__DT_FLOAT, NULL);
  rq_graph *before = f.session->fq_graph;
  ck_assert_int_eq(rq__session_quantize_biases(f.session), RQ_OK);
  ck_assert_ptr_eq(f.session->fq_graph, before);
  rq_graph_destroy(g);
  fixture_free(&f);
}
END_TEST

/* uint8 storage of int8 weights: zero points + 128, the same dequantized
 * weights, so razorq's executor computes bit for bit the same logits. */
START_TEST(uint8_weights_dequantize_to_the_same_values) {
  fixture f;
  fixture_load(&f, "digits_dw.onnx", "OpenVINOQuantizer", 8);
  rq_session_export_options s8 = export_options(RQ_EXPORT_FORMAT_QDQ, RQ_EXPORT_WEIGHTS_AS_QSCHEME);
  rq_session_export_options u8 = export_options(RQ_EXPORT_FORMAT_QDQ, RQ_EXPORT_WEIGHTS_UINT8);
  ck_assert_msg(rq_session_export_with(f.session, tmp_path("s8.onnx"), &s8) == RQ_OK, "%s", rq_last_error());
  ck_assert_msg(rq_session_export_with(f.session, tmp_path("u8.onnx"), &u8) == RQ_OK, "%s", rq_last_error());
  rq_graph *a, *b;
  ck_assert_int_eq(rq_graph_load(tmp_path("s8.onnx"), &a), RQ_OK);
  ck_assert_int_eq(rq_graph_load(tmp_path("u8.onnx"), &b), RQ_OK);
  int weights = 0;
  for (int i = 0; i < f.session->n_points; i++) {
    if (!f.session->points[i].is_weight) continue;
    char name[600];
    snprintf(name, sizeof name, "%s_quantized", f.session->points[i].edge);
    size_t n;
    const int8_t *qa = (const int8_t *)initializer(a, rq__graph_find_value(a, name), RQ__DT_INT8, &n);
    const uint8_t *qb = (const uint8_t *)initializer(b, rq__graph_find_value(b, name), RQ__DT_UINT8, NULL);
    for (size_t k = 0; k < n; k++) ck_assert_int_eq((int)qb[k], (int)qa[k] + 128);
    snprintf(name, sizeof name, "%s_zero_point", f.session->points[i].edge);
    const int8_t *za = (const int8_t *)initializer(a, rq__graph_find_value(a, name), RQ__DT_INT8, &n);
    const uint8_t *zb = (const uint8_t *)initializer(b, rq__graph_find_value(b, name), RQ__DT_UINT8, NULL);
    for (size_t k = 0; k < n; k++) ck_assert_int_eq((int)zb[k], (int)za[k] + 128);
    weights++;
  }
  ck_assert_int_gt(weights, 0);
  rq_tensor_list *la = logits(&f, a), *lb = logits(&f, b);
  const DLTensor *x, *y;
  ck_assert_int_eq(rq_tensor_list_get(la, 0, NULL, &x), RQ_OK);
  ck_assert_int_eq(rq_tensor_list_get(lb, 0, NULL, &y), RQ_OK);
  ck_assert_int_eq(memcmp(x->data, y->data, 500 * 10 * sizeof(float)), 0);
  rq_tensor_list_destroy(la);
  rq_tensor_list_destroy(lb);
  rq_graph_destroy(a);
  rq_graph_destroy(b);
  fixture_free(&f);
}
END_TEST

/* The OpenVINO form: one FakeQuantize per fake-quant place, in MMRazor's
 * layout (levels attribute, four range inputs, per-channel weight ranges
 * shaped to broadcast against the weight, the domain imported). */
START_TEST(openvino_fake_quantize_layout) {
  fixture f;
  fixture_load(&f, "digits_cnn.onnx", "OpenVINOQuantizer", 8);
  rq_session_export_options o = export_options(RQ_EXPORT_FORMAT_OPENVINO_FQ, RQ_EXPORT_WEIGHTS_BACKEND);
  const char *path = tmp_path("openvino.onnx");
  ck_assert_msg(rq_session_export_with(f.session, path, &o) == RQ_OK, "%s", rq_last_error());
  rq_graph *g;
  ck_assert_msg(rq_graph_load(path, &g) == RQ_OK, "%s", rq_last_error());
  ck_assert_int_eq(rq__graph_opset(g, "org.openvinotoolkit"), 1);
  int fq_nodes = 0;
  for (int n = 0; n < g->n_nodes; n++) {
    const rq__node *node = &g->nodes[n];
    ck_assert_str_ne(node->op_type, "QuantizeLinear");
    ck_assert_str_ne(node->op_type, "DequantizeLinear");
    if (strcmp(node->op_type, "FakeQuantize") != 0) continue;
    fq_nodes++;
    ck_assert_str_eq(node->domain, "org.openvinotoolkit");
    ck_assert_int_eq(node->n_inputs, 5);
    const rq__value *x = &g->values[node->inputs[0]];
    int64_t levels = rq__node_attr_int(node, "levels", 0);
    const rq__tensor *lo = g->values[node->inputs[1]].init, *hi = g->values[node->inputs[2]].init;
    ck_assert_ptr_nonnull(lo);
    ck_assert_ptr_nonnull(hi);
    /* output range = input range */
    ck_assert_int_eq(memcmp(lo->data, g->values[node->inputs[3]].init->data, lo->nbytes), 0);
    ck_assert_int_eq(memcmp(hi->data, g->values[node->inputs[4]].init->data, hi->nbytes), 0);
    if (x->init != NULL) { /* a weight: qint8 symmetric range, per output channel */
      ck_assert_int_eq(levels, 255);
      ck_assert_int_eq(lo->ndim, x->init->ndim);
      ck_assert_int_eq(lo->dims[0], x->init->dims[0]);
      for (int d = 1; d < lo->ndim; d++) ck_assert_int_eq(lo->dims[d], 1);
    } else {
      ck_assert_int_eq(levels, 256);
      ck_assert_int_eq(lo->ndim, 1);
      ck_assert_int_eq(lo->dims[0], 1);
    }
    for (size_t c = 0; c < lo->numel; c++) ck_assert_float_lt(((float *)lo->data)[c], ((float *)hi->data)[c]);
  }
  ck_assert_int_eq(fq_nodes, f.session->n_points);
  rq_graph_destroy(g);
  fixture_free(&f);
}
END_TEST

/* 9..16-bit qschemes: QDQ with opset 21's int16/uint16 QuantizeLinear (the
 * model moved to opset 21, which razorq's executor runs; ONNX Runtime runs
 * it in tests/e2e/test_export_formats.py); a model below opset 13 is not
 * upgraded (RQ_ERR_UNSUPPORTED, nothing written). FakeQuantize takes any
 * levels. */
START_TEST(sixteen_bit) {
  fixture f;
  fixture_load(&f, "digits_mlp.onnx", "AcademicQuantizer", 12);
  const char *path = tmp_path("sixteen.onnx");
  ck_assert_msg(rq_session_export(f.session, path) == RQ_OK, "%s", rq_last_error());
  rq_graph *g;
  ck_assert_msg(rq_graph_load(path, &g) == RQ_OK, "%s", rq_last_error());
  ck_assert_int_eq(g->opsets[0].version, 21);
  /* razorq's executor runs the int16/uint16 QDQ model as the session
   * evaluates it. */
  rq_tensor_list *deployed = logits(&f, g), *evaluated = logits(&f, NULL);
  ck_assert_double_ge(argmax_agreement(deployed, evaluated), 0.998);
  rq_tensor_list_destroy(deployed);
  rq_tensor_list_destroy(evaluated);
  rq_graph_destroy(g);
  unlink(path);
  /* An old model: refused, and the session's model is left as it was. */
  rq__opset *op = &f.session->graph->opsets[0];
  int64_t saved = op->version;
  op->version = 12;
  ck_assert_int_eq(rq_session_export(f.session, path), RQ_ERR_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "opset 12"));
  ck_assert_int_ne(access(path, F_OK), 0);
  ck_assert_int_eq(op->version, 12);
  op->version = saved;
  rq_session_export_options o = export_options(RQ_EXPORT_FORMAT_OPENVINO_FQ, RQ_EXPORT_WEIGHTS_BACKEND);
  ck_assert_msg(rq_session_export_with(f.session, path, &o) == RQ_OK, "%s", rq_last_error());
  ck_assert_int_eq(rq_graph_load(path, &g), RQ_OK);
  int seen = 0;
  for (int n = 0; n < g->n_nodes; n++)
    if (strcmp(g->nodes[n].op_type, "FakeQuantize") == 0) {
      /* quint8-style activations 0..4095; symmetric weights -2047..2047 */
      int64_t levels = rq__node_attr_int(&g->nodes[n], "levels", 0);
      ck_assert_int_eq(levels, g->values[g->nodes[n].inputs[0]].init != NULL ? 4095 : 4096);
      seen++;
    }
  ck_assert_int_eq(seen, f.session->n_points);
  rq_graph_destroy(g);
  fixture_free(&f);
}
END_TEST

START_TEST(arguments_are_validated) {
  rq_session_export_options o;
  ck_assert_int_eq(rq_session_export_options_init(NULL, sizeof o), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_session_export_options_init(&o, 0), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_session_export_options_init(&o, sizeof o + 1), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_session_export_options_init(&o, sizeof o), RQ_OK);
  ck_assert_uint_eq(o.struct_size, sizeof o);
  ck_assert_int_eq(o.format, RQ_EXPORT_FORMAT_BACKEND);
  ck_assert_int_eq(o.weight_storage, RQ_EXPORT_WEIGHTS_BACKEND);
  /* An older caller's struct without weight_storage: accepted, the rest defaults. */
  size_t old_size = offsetof(rq_session_export_options, weight_storage);
  ck_assert_int_eq(rq_session_export_options_init(&o, old_size), RQ_OK);

  fixture f;
  fixture_load(&f, "digits_mlp.onnx", "OpenVINOQuantizer", 8);
  const char *path = tmp_path("never.onnx");
  unlink(path);
  ck_assert_int_eq(rq_session_export(NULL, path), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_session_export(f.session, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_session_export_with(NULL, path, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_session_export_with(f.session, NULL, NULL), RQ_ERR_INVALID_ARG);
  o = export_options(RQ_EXPORT_FORMAT_QDQ, RQ_EXPORT_WEIGHTS_BACKEND);
  o.struct_size = sizeof(size_t);
  ck_assert_int_eq(rq_session_export_with(f.session, path, &o), RQ_ERR_INVALID_ARG);
  o = export_options((rq_export_format)3, RQ_EXPORT_WEIGHTS_BACKEND);
  ck_assert_int_eq(rq_session_export_with(f.session, path, &o), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "format"));
  o = export_options((rq_export_format)-1, RQ_EXPORT_WEIGHTS_BACKEND);
  ck_assert_int_eq(rq_session_export_with(f.session, path, &o), RQ_ERR_INVALID_ARG);
  o = export_options(RQ_EXPORT_FORMAT_QDQ, (rq_export_weight_storage)7);
  ck_assert_int_eq(rq_session_export_with(f.session, path, &o), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "weight_storage"));
  ck_assert_int_ne(access(path, F_OK), 0);
  /* An older caller's options: weight_storage reads as the default. */
  ck_assert_int_eq(rq_session_export_options_init(&o, old_size), RQ_OK);
  o.weight_storage = (rq_export_weight_storage)7; /* past its struct: never read */
  ck_assert_msg(rq_session_export_with(f.session, path, &o) == RQ_OK, "%s", rq_last_error());
  ck_assert_int_eq(access(path, F_OK), 0);
  unlink(path);
  /* Before convert: refused, nothing written. */
  rq_quantizer *q = quantizer("OpenVINOQuantizer", 8);
  rq_session *fresh;
  ck_assert_int_eq(rq_quantizer_prepare(q, f.model, &fresh), RQ_OK);
  rq_quantizer_destroy(q);
  o = export_options(RQ_EXPORT_FORMAT_OPENVINO_FQ, RQ_EXPORT_WEIGHTS_BACKEND);
  ck_assert_int_eq(rq_session_export_with(fresh, path, &o), RQ_ERR_STATE);
  ck_assert_int_ne(access(path, F_OK), 0);
  rq_session_destroy(fresh);
  fixture_free(&f);
}
END_TEST

int main(void) {
  const char *root = getenv("RAZORQ_SOURCE_ROOT");
  snprintf(data_dir, sizeof data_dir, "%s/tests/data", root != NULL ? root : ".");
  snprintf(tmp_dir, sizeof tmp_dir, "/tmp/rq_test_export_XXXXXX");
  if (mkdtemp(tmp_dir) == NULL) return 1;
  Suite *s = suite_create("export");
  TCase *tc = tcase_create("export");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, int32_bias_in_onnxruntime_form);
  tcase_add_test(tc, non_finite_bias_stays_float);
  tcase_add_test(tc, float_bias_elsewhere);
  tcase_add_test(tc, uint8_weights_dequantize_to_the_same_values);
  tcase_add_test(tc, openvino_fake_quantize_layout);
  tcase_add_test(tc, sixteen_bit);
  tcase_add_test(tc, arguments_are_validated);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
  if (system(cmd) != 0) return 1;
  return failed == 0 ? 0 : 1;
}
