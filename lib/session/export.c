/* SPDX-License-Identifier: Apache-2.0 */
/* Export of a converted session.
 *
 * QDQ ONNX: each activation fake-quant becomes QuantizeLinear +
 * DequantizeLinear on its edge, each weight is stored quantized behind a
 * DequantizeLinear, and (backend "export.int32_bias") the bias of a Conv/Gemm
 * whose input and weight are quantized is stored as INT32 with scale
 * s_in * s_w behind a DequantizeLinear, the form ONNX Runtime fuses into
 * QLinearConv/QGemm. So a runtime computes what the fake-quants computed.
 * Ranges wider than 8 bits are stored as int16/uint16, which needs opset 21:
 * the exported model is upgraded to it.
 *
 * OpenVINO FakeQuantize (MMRazor's OpenVinoQuantizeExportor): each fake-quant
 * becomes org.openvinotoolkit::FakeQuantize with the same grid. */
#include "session/export.h"

#include <razorq/export.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#define WHERE "rq_session_export"
#define OPENVINO_DOMAIN "org.openvinotoolkit"

typedef struct qparams {
  size_t count;
  float *scale;
  float *zero_point;
  int32_t qmin, qmax;
  bool per_channel;
  int32_t axis;
  int32_t storage;          /* QDQ: RQ__DT_(U)INT8, or RQ__DT_(U)INT16 (opset 21) */
} qparams;

static void qparams_free(qparams *q) {
  rq__free(q->scale);
  rq__free(q->zero_point);
}

static rq_status get_qparams(rq_fake_quant *fq, const char *edge, qparams *q) {
  memset(q, 0, sizeof *q);
  RQ_TRY(rq_fake_quant_get_params(fq, NULL, NULL, 0, &q->count));
  q->scale = rq__malloc_array(q->count, sizeof *q->scale);
  q->zero_point = rq__malloc_array(q->count, sizeof *q->zero_point);
  if (q->scale == NULL || q->zero_point == NULL) {
    qparams_free(q);
    return rq__nomem(WHERE, q->count * 8);
  }
  rq_status s = rq_fake_quant_get_params(fq, q->scale, q->zero_point, q->count, &q->count);
  if (s == RQ_OK) s = rq_fake_quant_quant_range(fq, &q->qmin, &q->qmax);
  bool per_channel = false;
  if (s == RQ_OK) s = rq_fake_quant_channel_axis(fq, &per_channel, &q->axis);
  q->per_channel = per_channel;
  for (size_t c = 0; s == RQ_OK && c < q->count; c++)
    if (!(q->scale[c] > 0.0f) || !isfinite(q->scale[c]))
      s = rq__fail(RQ_ERR_STATE, WHERE, "'%s' has scale %g: was it calibrated?", edge, (double)q->scale[c]);
  if (s != RQ_OK) qparams_free(q);
  return s;
}

/* The integer range of a QDQ storage type. */
static void storage_range(int32_t storage, int32_t *lo, int32_t *hi) {
  switch (storage) {
    case RQ__DT_UINT8: *lo = 0, *hi = UINT8_MAX; break;
    case RQ__DT_INT8: *lo = INT8_MIN, *hi = INT8_MAX; break;
    case RQ__DT_UINT16: *lo = 0, *hi = UINT16_MAX; break;
    default: *lo = INT16_MIN, *hi = INT16_MAX; break;
  }
}

/* Element i of an integer buffer of a storage type. */
static void store_int(void *buf, int32_t storage, size_t i, long v) {
  switch (storage) {
    case RQ__DT_UINT8: ((uint8_t *)buf)[i] = (uint8_t)v; break;
    case RQ__DT_INT8: ((int8_t *)buf)[i] = (int8_t)v; break;
    case RQ__DT_UINT16: ((uint16_t *)buf)[i] = (uint16_t)v; break;
    default: ((int16_t *)buf)[i] = (int16_t)v; break;
  }
}

/* The smallest QDQ storage type that holds [qmin, qmax]: 8 bits, else 16
 * (ONNX opset 21's QuantizeLinear). */
static void choose_storage(qparams *q) {
  static const int32_t order[4] = {RQ__DT_UINT8, RQ__DT_INT8, RQ__DT_UINT16, RQ__DT_INT16};
  for (int k = 0; k < 4; k++) {
    int32_t lo, hi;
    storage_range(order[k], &lo, &hi);
    q->storage = order[k];
    if (q->qmin >= lo && q->qmax <= hi) return;
  }
}

static rq_status add_constant(rq_graph *g, const char *name, int32_t dtype, int ndim, const int64_t *dims,
                              const void *data, int *id) {
  rq__tensor *t;
  RQ_TRY(rq__tensor_create(name, dtype, ndim, dims, &t));
  if (t->nbytes > 0) memcpy(t->data, data, t->nbytes);
  int v;
  rq_status s = rq__graph_add_value(g, name, &v);
  if (s != RQ_OK) {
    rq__tensor_destroy(t);
    return s;
  }
  RQ_TRY(rq__graph_set_initializer(g, v, t));
  g->values[v].dtype = dtype;
  *id = v;
  return RQ_OK;
}

/* Scale (float) and zero point (storage type) initializers, 1-D when per channel. */
static rq_status add_qparam_constants(rq_graph *g, const char *base, const qparams *q, int *scale_id, int *zp_id) {
  char name[512];
  int64_t dims[1] = {(int64_t)q->count};
  int ndim = q->per_channel ? 1 : 0;
  snprintf(name, sizeof name, "%s_scale", base);
  RQ_TRY(add_constant(g, name, RQ__DT_FLOAT, ndim, dims, q->scale, scale_id));
  void *zp = rq__malloc_array(q->count, sizeof(int16_t));
  if (zp == NULL) return rq__nomem(WHERE, q->count * sizeof(int16_t));
  for (size_t c = 0; c < q->count; c++) store_int(zp, q->storage, c, lrintf(q->zero_point[c]));
  snprintf(name, sizeof name, "%s_zero_point", base);
  rq_status s = add_constant(g, name, q->storage, ndim, dims, zp, zp_id);
  rq__free(zp);
  return s;
}

static rq_status insert_after(rq_graph *g, int value, const char *op, const char *domain, const char *name,
                              const int *extra, int n_extra, int *out_node) {
  int node;
  RQ_TRY(rq__graph_insert_on_edge(g, value, op, domain, name, &node));
  for (int i = 0; i < n_extra; i++) RQ_TRY(rq__node_append_input(g, node, extra[i]));
  *out_node = node;
  return RQ_OK;
}

/* A float16/bfloat16 edge is quantized in float32, as the session
 * evaluates it (QuantizeLinear takes 16-bit floats only from opset 19, and
 * OpenVINO's FakeQuantize gets float32 limits): a Cast to float32 goes
 * before the quantization (*at moves onto its output) and narrow_back
 * casts the result back to the edge's type. Other edges pass unchanged. */
static bool is_half(int32_t dtype) { return dtype == RQ__DT_FLOAT16 || dtype == RQ__DT_BFLOAT16; }

/* A Cast of `value` to `to`, named "<edge>_to_<type>"; *out is its output. */
static rq_status insert_cast(rq_graph *g, int value, const char *edge, int32_t to, int *out) {
  char name[512];
  int node;
  snprintf(name, sizeof name, "%s_to_%s", edge, rq__dtype_name(to));
  RQ_TRY(insert_after(g, value, "Cast", "", name, NULL, 0, &node));
  RQ_TRY(rq__node_set_attr_int(&g->nodes[node], "to", to));
  *out = g->nodes[node].outputs[0];
  g->values[*out].dtype = to;
  return RQ_OK;
}

static rq_status widen_half(rq_graph *g, const char *edge, int *at) {
  return is_half(g->values[*at].dtype) ? insert_cast(g, *at, edge, RQ__DT_FLOAT, at) : RQ_OK;
}

static rq_status narrow_back(rq_graph *g, const char *edge, int quantized, int32_t edge_type) {
  int out;
  return is_half(edge_type) ? insert_cast(g, quantized, edge, edge_type, &out) : RQ_OK;
}

/* Q/DQ (with a Clip first when the range is narrower than the storage type,
 * so QuantizeLinear's saturation lands where the fake-quant's clamp did). */
static rq_status export_activation(rq_graph *g, const char *edge, const qparams *q) {
  int v = rq__graph_find_value(g, edge);
  if (v < 0) return rq__fail(RQ_ERR_INTERNAL, WHERE, "edge '%s' is not in the exported graph", edge);
  if (q->per_channel)
    return rq__fail(RQ_ERR_UNSUPPORTED, WHERE, "'%s': per-channel activations are not exported yet", edge);
  int32_t storage_min, storage_max;
  storage_range(q->storage, &storage_min, &storage_max);
  char name[512];
  int at = v, node;
  int32_t edge_type = g->values[v].dtype;
  RQ_TRY(widen_half(g, edge, &at));
  if (q->qmin > storage_min || q->qmax < storage_max) {
    float lo = ((float)q->qmin - q->zero_point[0]) * q->scale[0];
    float hi = ((float)q->qmax - q->zero_point[0]) * q->scale[0];
    int lo_id, hi_id;
    snprintf(name, sizeof name, "%s_clip_lo", edge);
    RQ_TRY(add_constant(g, name, RQ__DT_FLOAT, 0, NULL, &lo, &lo_id));
    snprintf(name, sizeof name, "%s_clip_hi", edge);
    RQ_TRY(add_constant(g, name, RQ__DT_FLOAT, 0, NULL, &hi, &hi_id));
    int extra[2] = {lo_id, hi_id};
    snprintf(name, sizeof name, "%s_Clip", edge);
    RQ_TRY(insert_after(g, at, "Clip", "", name, extra, 2, &node));
    at = g->nodes[node].outputs[0];
    g->values[at].dtype = RQ__DT_FLOAT;
  }
  int scale_id, zp_id;
  RQ_TRY(add_qparam_constants(g, edge, q, &scale_id, &zp_id));
  int extra[2] = {scale_id, zp_id};
  snprintf(name, sizeof name, "%s_QuantizeLinear", edge);
  RQ_TRY(insert_after(g, at, "QuantizeLinear", "", name, extra, 2, &node));
  int quantized = g->nodes[node].outputs[0];
  snprintf(name, sizeof name, "%s_DequantizeLinear", edge);
  RQ_TRY(insert_after(g, quantized, "DequantizeLinear", "", name, extra, 2, &node));
  int dequantized = g->nodes[node].outputs[0];
  /* Insertions on a graph output hand the output's name along; the types
   * follow the data: integer after Q, float after DQ. */
  g->values[g->nodes[node].inputs[0]].dtype = q->storage;
  g->values[dequantized].dtype = RQ__DT_FLOAT;
  return narrow_back(g, edge, dequantized, edge_type);
}

/* The weight stored quantized exactly as the fake-quant rounded it
 * (PyTorch: inv_scale = 1.0f / scale, nearbyint(x * inv_scale) + zero_point,
 * clamped), behind a DequantizeLinear on the channel axis. */
static rq_status export_weight(rq_graph *g, const char *edge, const qparams *q) {
  int v = rq__graph_find_value(g, edge);
  if (v < 0 || g->values[v].init == NULL)
    return rq__fail(RQ_ERR_INTERNAL, WHERE, "weight '%s' is not in the exported graph", edge);
  const rq__tensor *w = g->values[v].init;
  int axis = q->axis < 0 ? q->axis + w->ndim : q->axis;
  if (q->per_channel && (axis < 0 || axis >= w->ndim || (size_t)w->dims[axis] != q->count))
    return rq__fail(RQ_ERR_INTERNAL, WHERE, "weight '%s': %zu scales do not match axis %d", edge, q->count, axis);
  size_t inner = 1, channels = q->per_channel ? (size_t)w->dims[axis] : 1;
  for (int d = q->per_channel ? axis + 1 : w->ndim; d < w->ndim; d++) inner *= (size_t)w->dims[d];
  void *data = rq__malloc_array(w->numel > 0 ? w->numel : 1, sizeof(int16_t));
  if (data == NULL) return rq__nomem(WHERE, w->numel * sizeof(int16_t));
  const float *x = w->data;
  for (size_t i = 0; i < w->numel; i++) {
    size_t c = q->per_channel ? (i / inner) % channels : 0;
    float inv_scale = 1.0f / q->scale[c];
    float qv = nearbyintf(x[i] * inv_scale) + q->zero_point[c];
    qv = fminf(fmaxf(qv, (float)q->qmin), (float)q->qmax);
    store_int(data, q->storage, i, (long)qv);
  }
  char name[512];
  snprintf(name, sizeof name, "%s_quantized", edge);
  int qv_id;
  rq_status s = add_constant(g, name, q->storage, w->ndim, w->dims, data, &qv_id);
  rq__free(data);
  RQ_TRY(s);
  int scale_id, zp_id;
  RQ_TRY(add_qparam_constants(g, edge, q, &scale_id, &zp_id));
  snprintf(name, sizeof name, "%s_dequantized", edge);
  int out;
  RQ_TRY(rq__graph_add_value(g, name, &out));
  g->values[out].dtype = RQ__DT_FLOAT;
  int ins[3] = {qv_id, scale_id, zp_id}, node;
  snprintf(name, sizeof name, "%s_DequantizeLinear", edge);
  RQ_TRY(rq__graph_add_node(g, "DequantizeLinear", "", name, ins, 3, &out, 1, &node));
  if (q->per_channel) RQ_TRY(rq__node_set_attr_int(&g->nodes[node], "axis", axis));
  RQ_TRY(rq__graph_sort(g));
  return rq__graph_rewire(g, v, out);
}

/* ---- int32 biases ---- */

static const rq__session_point *find_point(const rq_session *s, const char *edge, bool is_weight) {
  for (int i = 0; i < s->n_points; i++)
    if (s->points[i].is_weight == is_weight && strcmp(s->points[i].edge, edge) == 0) return &s->points[i];
  return NULL;
}

/* The bias of node n of g (a graph with the session's value names) as ONNX
 * Runtime's quantizer stores it (quantize_bias_static): scale[c] = s_in *
 * s_w[c] in float32, q = round_half_even(b / scale[c]) saturated to int32,
 * zero point 0. Only for a Conv or Gemm (alpha = beta = 1) whose input and
 * weight have fake-quants and whose bias is a float initializer, 1-D along
 * the weight's channels when those are per channel. *count = 0 (and nothing
 * allocated) when n has no such bias; otherwise *scale and *q are
 * rq__malloc'd, *count scales and numel(bias) values. */
static rq_status quantize_bias(const rq_session *s, const rq_graph *g, int n, float **scale, int32_t **q,
                               size_t *count) {
  *scale = NULL;
  *q = NULL;
  *count = 0;
  const rq__node *node = &g->nodes[n];
  bool conv = strcmp(node->op_type, "Conv") == 0, gemm = strcmp(node->op_type, "Gemm") == 0;
  if ((!conv && !gemm) || node->domain[0] != '\0' || node->n_inputs < 3) return RQ_OK;
  if (gemm && (rq__node_attr_float(node, "alpha", 1.0f) != 1.0f || rq__node_attr_float(node, "beta", 1.0f) != 1.0f))
    return RQ_OK;
  int x = node->inputs[0], w = node->inputs[1], b = node->inputs[2];
  if (x < 0 || w < 0 || b < 0) return RQ_OK;
  /* The float bias comes from the session's prepared graph, so quantizing
   * an already quantized copy again changes nothing. */
  int b_src = rq__graph_find_value(s->graph, g->values[b].name);
  const rq__tensor *bias = b_src >= 0 ? s->graph->values[b_src].init : NULL;
  if (bias == NULL || bias->dtype != RQ__DT_FLOAT) return RQ_OK;
  const rq__session_point *px = find_point(s, g->values[x].name, false);
  const rq__session_point *pw = find_point(s, g->values[w].name, true);
  if (px == NULL || pw == NULL) return RQ_OK;
  rq_fake_quant *fx = s->fake_quants[px->fq], *fw = s->fake_quants[pw->fq];
  bool x_per_channel = false, w_per_channel = false;
  int32_t axis;
  float s_in, zp;
  size_t n_in = 0, n_w = 0;
  RQ_TRY(rq_fake_quant_channel_axis(fx, &x_per_channel, &axis));
  RQ_TRY(rq_fake_quant_get_params(fx, NULL, NULL, 0, &n_in));
  if (x_per_channel || n_in != 1) return RQ_OK;
  RQ_TRY(rq_fake_quant_get_params(fx, &s_in, &zp, 1, &n_in));
  RQ_TRY(rq_fake_quant_channel_axis(fw, &w_per_channel, &axis));
  RQ_TRY(rq_fake_quant_get_params(fw, NULL, NULL, 0, &n_w));
  if (w_per_channel && (bias->ndim != 1 || (size_t)bias->dims[0] != n_w)) return RQ_OK;
  float *sc = rq__malloc_array(n_w, sizeof *sc), *zw = rq__malloc_array(n_w, sizeof *zw);
  int32_t *qv = rq__malloc_array(bias->numel > 0 ? bias->numel : 1, sizeof *qv);
  rq_status st = sc && zw && qv ? rq_fake_quant_get_params(fw, sc, zw, n_w, &n_w) : rq__nomem(WHERE, n_w * 8);
  bool usable = true;
  for (size_t c = 0; st == RQ_OK && c < n_w; c++) {
    sc[c] = s_in * sc[c];
    usable &= sc[c] > 0.0f && isfinite(sc[c]); /* a product that underflows keeps the bias float */
  }
  const float *bv = bias->data;
  for (size_t i = 0; usable && i < bias->numel; i++) usable = isfinite(bv[i]); /* NaN has no int32 */
  for (size_t i = 0; st == RQ_OK && usable && i < bias->numel; i++) {
    float r = nearbyintf(bv[i] / sc[w_per_channel ? i : 0]);
    qv[i] = r >= 2147483647.0f ? INT32_MAX : r <= -2147483648.0f ? INT32_MIN : (int32_t)r;
  }
  rq__free(zw);
  if (st != RQ_OK || !usable) {
    rq__free(sc);
    rq__free(qv);
    return st;
  }
  *scale = sc;
  *q = qv;
  *count = w_per_channel ? n_w : 1;
  return RQ_OK;
}

/* The float value of a quantized bias, q * scale: what DequantizeLinear
 * gives back. */
static float bias_value(const int32_t *q, const float *scale, size_t count, size_t i) {
  return (float)q[i] * scale[count > 1 ? i : 0];
}

/* Every quantizable bias of g read as its quantized float value: each such
 * node gets its own new initializer (a bias may be shared by nodes whose
 * scales differ); the float originals nothing reads any more are dropped. */
static rq_status round_biases(const rq_session *s, rq_graph *g) {
  for (int n = 0; n < g->n_nodes; n++) {
    float *scale;
    int32_t *q;
    size_t count;
    RQ_TRY(quantize_bias(s, g, n, &scale, &q, &count));
    if (count == 0) continue;
    const rq__tensor *b = g->values[g->nodes[n].inputs[2]].init;
    char name[512];
    snprintf(name, sizeof name, "%s_int32_rounded", g->values[g->nodes[n].inputs[2]].name);
    rq__tensor *t = NULL;
    rq_status st = rq__tensor_create(name, RQ__DT_FLOAT, b->ndim, b->dims, &t);
    for (size_t i = 0; st == RQ_OK && i < t->numel; i++) ((float *)t->data)[i] = bias_value(q, scale, count, i);
    rq__free(scale);
    rq__free(q);
    int v = -1;
    RQ_TRY(st);
    RQ_TRY(rq__graph_add_initializer(g, t, &v));
    g->values[v].dtype = RQ__DT_FLOAT;
    g->nodes[n].inputs[2] = v;
  }
  return rq__graph_compact(g);
}

rq_status rq__session_quantize_biases(rq_session *s) {
  if (!s->int32_bias) return RQ_OK;
  /* On a copy, so a failure leaves the session's model as it was. */
  rq_graph *g;
  RQ_TRY(rq__graph_clone(s->fq_graph, &g));
  rq_status st = round_biases(s, g);
  if (st != RQ_OK) {
    rq_graph_destroy(g);
    return st;
  }
  rq_graph_destroy(s->fq_graph);
  s->fq_graph = g;
  return RQ_OK;
}

/* QDQ: each quantizable bias stored as INT32 behind its own DequantizeLinear
 * (axis 0 when per channel). */
static rq_status export_int32_biases(const rq_session *s, rq_graph *g) {
  int n_nodes = g->n_nodes; /* the DequantizeLinear nodes added below are not visited */
  for (int n = 0; n < n_nodes; n++) {
    float *scale;
    int32_t *q;
    size_t count;
    RQ_TRY(quantize_bias(s, g, n, &scale, &q, &count));
    if (count == 0) continue;
    const rq__tensor *b = g->values[g->nodes[n].inputs[2]].init;
    char base[480], name[512];
    snprintf(base, sizeof base, "%s_%s", g->values[g->nodes[n].inputs[2]].name,
             g->nodes[n].name[0] ? g->nodes[n].name : g->nodes[n].op_type);
    int64_t dims[1] = {(int64_t)count};
    int ndim = count > 1 ? 1 : 0;
    int32_t *zero = rq__calloc(count, sizeof *zero);
    int ins[3], out = -1, dq = -1;
    snprintf(name, sizeof name, "%s_int32", base);
    rq_status st = zero ? add_constant(g, name, RQ__DT_INT32, b->ndim, b->dims, q, &ins[0]) : rq__nomem(WHERE, count);
    snprintf(name, sizeof name, "%s_int32_scale", base);
    if (st == RQ_OK) st = add_constant(g, name, RQ__DT_FLOAT, ndim, dims, scale, &ins[1]);
    snprintf(name, sizeof name, "%s_int32_zero_point", base);
    if (st == RQ_OK) st = add_constant(g, name, RQ__DT_INT32, ndim, dims, zero, &ins[2]);
    rq__free(zero);
    rq__free(scale);
    rq__free(q);
    snprintf(name, sizeof name, "%s_dequantized", base);
    if (st == RQ_OK) st = rq__graph_add_value(g, name, &out);
    snprintf(name, sizeof name, "%s_DequantizeLinear", base);
    if (st == RQ_OK) st = rq__graph_add_node(g, "DequantizeLinear", "", name, ins, 3, &out, 1, &dq);
    if (st == RQ_OK && count > 1) st = rq__node_set_attr_int(&g->nodes[dq], "axis", 0);
    RQ_TRY(st);
    g->values[out].dtype = RQ__DT_FLOAT;
    g->nodes[n].inputs[2] = out;
  }
  return rq__graph_sort(g);
}

/* ---- OpenVINO FakeQuantize ---- */

/* MMRazor's OpenVinoQuantizeExportor: in_hi = (qmax - z) s, in_lo = in_hi -
 * s (qmax - qmin) in double, stored as float32; the output range is the
 * input range. Per channel, the constants have the weight's rank with the
 * channel count on its channel axis ([C,1,1,1] for a Conv), so they
 * broadcast against it; per tensor they are [1]. */
static rq_status export_fake_quantize(rq_graph *g, const char *edge, const qparams *q, bool is_weight) {
  int v = rq__graph_find_value(g, edge);
  if (v < 0 || (is_weight && g->values[v].init == NULL))
    return rq__fail(RQ_ERR_INTERNAL, WHERE, "'%s' is not in the exported graph", edge);
  int ndim = 1;
  int64_t dims[RQ__MAX_RANK] = {1};
  if (q->per_channel) {
    if (!is_weight)
      return rq__fail(RQ_ERR_UNSUPPORTED, WHERE, "'%s': per-channel activations are not exported yet", edge);
    const rq__tensor *w = g->values[v].init;
    int axis = q->axis < 0 ? q->axis + w->ndim : q->axis;
    if (axis < 0 || axis >= w->ndim || (size_t)w->dims[axis] != q->count)
      return rq__fail(RQ_ERR_INTERNAL, WHERE, "weight '%s': %zu scales do not match axis %d", edge, q->count, axis);
    ndim = w->ndim;
    for (int d = 0; d < ndim; d++) dims[d] = d == axis ? (int64_t)q->count : 1;
  }
  float *lo = rq__malloc_array(q->count, sizeof *lo), *hi = rq__malloc_array(q->count, sizeof *hi);
  if (lo == NULL || hi == NULL) {
    rq__free(lo);
    rq__free(hi);
    return rq__nomem(WHERE, q->count * 8);
  }
  for (size_t c = 0; c < q->count; c++) {
    double s = q->scale[c], z = nearbyint(q->zero_point[c]);
    double h = ((double)q->qmax - z) * s;
    hi[c] = (float)h;
    lo[c] = (float)(h - s * ((double)q->qmax - q->qmin));
  }
  static const char *const suffix[4] = {"input_min", "input_max", "output_min", "output_max"};
  int ids[4];
  char name[512];
  rq_status st = RQ_OK;
  for (int k = 0; k < 4 && st == RQ_OK; k++) {
    snprintf(name, sizeof name, "%s_%s", edge, suffix[k]);
    st = add_constant(g, name, RQ__DT_FLOAT, ndim, dims, k % 2 ? hi : lo, &ids[k]);
  }
  rq__free(lo);
  rq__free(hi);
  RQ_TRY(st);
  int node, at = v;
  int32_t edge_type = g->values[v].dtype;
  RQ_TRY(widen_half(g, edge, &at));
  snprintf(name, sizeof name, "%s_FakeQuantize", edge);
  RQ_TRY(insert_after(g, at, "FakeQuantize", OPENVINO_DOMAIN, name, ids, 4, &node));
  RQ_TRY(rq__node_set_attr_int(&g->nodes[node], "levels", (int64_t)q->qmax - q->qmin + 1));
  g->values[g->nodes[node].outputs[0]].dtype = RQ__DT_FLOAT;
  return narrow_back(g, edge, g->nodes[node].outputs[0], edge_type);
}

static rq_status import_opset(rq_graph *g, const char *domain, int64_t version) {
  if (rq__graph_opset(g, domain) >= version) return RQ_OK;
  for (int i = 0; i < g->n_opsets; i++)
    if (strcmp(g->opsets[i].domain, domain) == 0) {
      g->opsets[i].version = version;
      return RQ_OK;
    }
  rq__opset *grown = rq__realloc_array(g->opsets, (size_t)g->n_opsets + 1, sizeof *grown);
  if (grown == NULL) return rq__nomem(WHERE, sizeof *grown);
  g->opsets = grown;
  grown[g->n_opsets].domain = rq__strdup(domain);
  if (grown[g->n_opsets].domain == NULL) return rq__nomem(WHERE, strlen(domain));
  grown[g->n_opsets].version = version;
  g->n_opsets++;
  return RQ_OK;
}

/* ---- the public entry points ---- */

static rq_status check_qdq_opset(const rq_session *s) {
  int64_t opset = rq__graph_opset(s->graph, "");
  bool any_per_channel = false;
  for (int i = 0; i < s->n_points; i++) {
    bool pc = false;
    int32_t axis;
    RQ_TRY(rq_fake_quant_channel_axis(s->fake_quants[s->points[i].fq], &pc, &axis));
    any_per_channel |= pc;
  }
  int64_t needed = any_per_channel ? 13 : 10;
  if (opset < needed)
    return rq__fail(RQ_ERR_UNSUPPORTED, WHERE,
                    "the model imports ONNX opset %lld; QDQ export%s needs opset %lld or later (re-export the float "
                    "model with a newer opset)",
                    (long long)opset, any_per_channel ? " with per-channel weights" : "", (long long)needed);
  return RQ_OK;
}

/* Whether some fake-quant's range needs 16-bit storage. */
static rq_status needs_16_bit(const rq_session *s, bool *needed) {
  *needed = false;
  for (int f = 0; f < s->n_fake_quants; f++) {
    int32_t qmin, qmax;
    RQ_TRY(rq_fake_quant_quant_range(s->fake_quants[f], &qmin, &qmax));
    *needed |= qmin < INT8_MIN || qmax > UINT8_MAX || (qmin < 0 && qmax > INT8_MAX);
  }
  return RQ_OK;
}

static void remove_attr(rq__node *n, int i) {
  rq__attr_clear(&n->attrs[i]);
  memmove(&n->attrs[i], &n->attrs[i + 1], (size_t)(n->n_attrs - i - 1) * sizeof *n->attrs);
  n->n_attrs--;
}

/* Moves an attribute of node n into a new int64 input (value `axes` or a
 * scalar), as opsets 18 (Reduce axes) and 20 (DFT axis) did; `slot` is the
 * input it becomes, omitted optional inputs before it filled in. */
static rq_status attr_to_input(rq_graph *g, int n, const char *attr_name, int slot, bool scalar,
                               int64_t default_value) {
  const rq__attr *a = rq__node_attr(&g->nodes[n], attr_name);
  int64_t one = a != NULL && a->type == RQ__ATTR_INT ? a->i : default_value;
  const int64_t *data = &one;
  int64_t count = 1;
  if (!scalar) {
    if (a == NULL) return RQ_OK; /* the input stays omitted: its default is the attribute's */
    if (a->type != RQ__ATTR_INTS)
      return rq__fail(RQ_ERR_FORMAT, WHERE, "%s '%s': %s is not a list of integers", g->nodes[n].op_type,
                      g->nodes[n].name, attr_name);
    data = a->ints;
    count = (int64_t)a->count;
  } else if (a != NULL && a->type != RQ__ATTR_INT) {
    return rq__fail(RQ_ERR_FORMAT, WHERE, "%s '%s': %s is not an integer", g->nodes[n].op_type, g->nodes[n].name,
                    attr_name);
  }
  char name[512];
  snprintf(name, sizeof name, "%s_%s", g->nodes[n].name[0] ? g->nodes[n].name : g->nodes[n].op_type, attr_name);
  int id;
  RQ_TRY(add_constant(g, name, RQ__DT_INT64, scalar ? 0 : 1, &count, data, &id));
  while (rq__node_n_explicit(&g->nodes[n]) < slot) RQ_TRY(rq__node_append_input(g, n, -1));
  RQ_TRY(rq__node_append_input(g, n, id));
  rq__node *node = &g->nodes[n];
  for (int i = 0; i < node->n_attrs; i++)
    if (strcmp(node->attrs[i].name, attr_name) == 0) remove_attr(node, i--);
  return RQ_OK;
}

/* GroupNormalization-18's scale and bias hold one value per group; from 21
 * they hold one per channel. Constant ones of a known channel count are
 * repeated over each group's channels; anything else is refused by name. */
static rq_status group_norm_per_channel(rq_graph *g, int n) {
  const rq__node *node = &g->nodes[n];
  int64_t groups = rq__node_attr_int(node, "num_groups", 0);
  if (groups <= 0)
    return rq__fail(RQ_ERR_FORMAT, WHERE, "GroupNormalization '%s' has no positive num_groups", node->name);
  const rq__shape *x = node->n_inputs > 0 && node->inputs[0] >= 0 ? &g->values[node->inputs[0]].shape : NULL;
  int64_t channels = x != NULL && x->ndim >= 2 && x->sym[1] == NULL ? x->dims[1] : -1;
  if (channels <= 0 || channels % groups != 0 || node->n_inputs < 3)
    return rq__fail(RQ_ERR_UNSUPPORTED, WHERE, "16-bit QDQ needs ONNX opset 21, where GroupNormalization ('%s') takes "
                    "one scale per channel instead of per group; it is rewritten only when the channel count of its "
                    "input is known and num_groups divides it", node->name);
  for (int slot = 1; slot <= 2; slot++) {
    node = &g->nodes[n];
    int v = node->inputs[slot];
    const rq__tensor *per_group = v >= 0 ? g->values[v].init : NULL;
    if (per_group == NULL || per_group->numel != (size_t)groups)
      return rq__fail(RQ_ERR_UNSUPPORTED, WHERE, "16-bit QDQ needs ONNX opset 21, where GroupNormalization ('%s') "
                      "takes one %s per channel; it is rewritten only from a constant of num_groups values",
                      node->name, slot == 1 ? "scale" : "bias");
    size_t size = rq__dtype_size(per_group->dtype);
    unsigned char *per_channel = rq__malloc_array((size_t)channels, size);
    if (per_channel == NULL) return rq__nomem(WHERE, (size_t)channels * size);
    const unsigned char *from = per_group->data;
    for (int64_t c = 0; c < channels; c++)
      memcpy(per_channel + (size_t)c * size, from + (size_t)(c / (channels / groups)) * size, size);
    char name[512];
    snprintf(name, sizeof name, "%s_per_channel", g->values[v].name);
    int id;
    rq_status st = add_constant(g, name, per_group->dtype, 1, &channels, per_channel, &id);
    rq__free(per_channel);
    RQ_TRY(st);
    g->nodes[n].inputs[slot] = id;
  }
  return RQ_OK;
}

/* The node rewrites of upgrade_to_opset_21, in g and its subgraphs. */
static rq_status upgrade_nodes(rq_graph *g, int64_t from) {
  static const char *const reduce_ops[] = {"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax",
                                           "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSumSquare"};
  for (int n = 0; n < g->n_nodes; n++) {
    for (int a = 0; a < g->nodes[n].n_attrs; a++)
      if (g->nodes[n].attrs[a].type == RQ__ATTR_GRAPH && g->nodes[n].attrs[a].g != NULL)
        RQ_TRY(upgrade_nodes(g->nodes[n].attrs[a].g, from));
    rq__node *node = &g->nodes[n];
    if (node->domain[0] != '\0' && strcmp(node->domain, "ai.onnx") != 0) continue;
    const char *op = node->op_type;
    if (strcmp(op, "GroupNormalization") == 0 && from < 21) {
      RQ_TRY(group_norm_per_channel(g, n));
      continue;
    }
    if (strcmp(op, "DFT") == 0 && from < 20) {
      if (rq__node_attr_int(node, "inverse", 0) != 0 && rq__node_attr_int(node, "onesided", 0) != 0)
        return rq__fail(RQ_ERR_UNSUPPORTED, WHERE, "16-bit QDQ needs ONNX opset 21, where DFT ('%s') with inverse and "
                        "onesided is the inverse real FFT of a complex input; this exporter does not rewrite it",
                        node->name);
      RQ_TRY(attr_to_input(g, n, "axis", 2, true, 1));
      continue;
    }
    /* From 18, Split needs its sizes or num_outputs; equal parts said neither. */
    if (strcmp(op, "Split") == 0 && from < 18 && (rq__node_n_explicit(node) < 2 || node->inputs[1] < 0))
      RQ_TRY(rq__node_set_attr_int(node, "num_outputs", node->n_outputs));
    if (strcmp(op, "RoiAlign") == 0 && from < 16 && rq__node_attr(node, "coordinate_transformation_mode") == NULL)
      RQ_TRY(rq__node_set_attr_string(node, "coordinate_transformation_mode", "output_half_pixel"));
    if (strcmp(op, "GridSample") == 0) {
      const char *mode = rq__node_attr_string(node, "mode", "bilinear");
      RQ_TRY(rq__node_set_attr_string(node, "mode", strcmp(mode, "bilinear") == 0 ? "linear"
                                                    : strcmp(mode, "bicubic") == 0 ? "cubic" : mode));
    }
    bool reduce = false;
    for (size_t k = 0; k < sizeof reduce_ops / sizeof *reduce_ops; k++) reduce |= strcmp(op, reduce_ops[k]) == 0;
    if (reduce) RQ_TRY(attr_to_input(g, n, "axes", 1, false, 0));
  }
  return RQ_OK;
}

/* Moves g (opset 13..21) to opset 21, where QuantizeLinear takes 16-bit
 * types, rewriting what changed meaning on the way: RoiAlign's default
 * coordinate mode became half_pixel in 16, the Reduce ops (but ReduceSum)
 * take axes as an input from 18, GridSample's modes were renamed and DFT's
 * axis became an input (default -2 instead of 1) in 20, and Split needs its
 * sizes or num_outputs from 18, GroupNormalization's scale and bias went
 * from per group to per channel in 21; subgraphs are rewritten too. A
 * change not rewritten (a onesided inverse DFT, an inverse real FFT in 20;
 * a GroupNormalization whose scale is not constant) is refused by name. */
static rq_status upgrade_to_opset_21(rq_graph *g) {
  int64_t from = rq__graph_opset(g, "");
  if (from < 13)
    return rq__fail(RQ_ERR_UNSUPPORTED, WHERE,
                    "16-bit QDQ needs ONNX opset 21; the model imports opset %lld, which this exporter upgrades only "
                    "from 13 on (re-export the float model with a newer opset)", (long long)from);
  RQ_TRY(upgrade_nodes(g, from));
  for (int i = 0; i < g->n_opsets; i++)
    if (g->opsets[i].domain[0] == '\0' || strcmp(g->opsets[i].domain, "ai.onnx") == 0) g->opsets[i].version = 21;
  if (g->ir_version < 10) g->ir_version = 10; /* opset 21 comes with IR version 10 */
  return RQ_OK;
}

static rq_status build_qdq(const rq_session *s, rq_graph *g, bool uint8_weights) {
  RQ_TRY(check_qdq_opset(s));
  bool wide = false;
  RQ_TRY(needs_16_bit(s, &wide));
  if (wide) RQ_TRY(upgrade_to_opset_21(g));
  /* Biases first, while node indices are those of the prepared graph. */
  if (s->int32_bias) RQ_TRY(export_int32_biases(s, g));
  for (int i = 0; i < s->n_points; i++) {
    const rq__session_point *p = &s->points[i];
    qparams q;
    RQ_TRY(get_qparams(s->fake_quants[p->fq], p->edge, &q));
    choose_storage(&q);
    if (p->is_weight && uint8_weights && q.storage == RQ__DT_INT8) {
      /* The same grid shifted by 128: DequantizeLinear gives the same values. */
      q.storage = RQ__DT_UINT8;
      q.qmin += 128;
      q.qmax += 128;
      for (size_t c = 0; c < q.count; c++) q.zero_point[c] += 128.0f;
    }
    rq_status st = p->is_weight ? export_weight(g, p->edge, &q) : export_activation(g, p->edge, &q);
    qparams_free(&q);
    RQ_TRY(st);
  }
  return RQ_OK;
}

static rq_status build_openvino_fq(const rq_session *s, rq_graph *g) {
  /* The biases the session evaluates rounded (int32_bias backends) are
   * written rounded, so OpenVINO computes what razorq evaluated. */
  if (s->int32_bias) RQ_TRY(round_biases(s, g));
  for (int i = 0; i < s->n_points; i++) {
    const rq__session_point *p = &s->points[i];
    qparams q;
    RQ_TRY(get_qparams(s->fake_quants[p->fq], p->edge, &q));
    rq_status st = export_fake_quantize(g, p->edge, &q, p->is_weight);
    qparams_free(&q);
    RQ_TRY(st);
  }
  return import_opset(g, OPENVINO_DOMAIN, 1);
}

rq_status rq_session_export_options_init(rq_session_export_options *options, size_t struct_size) {
  RQ_CHECK_NOT_NULL(options);
  RQ_CHECK_ARG(struct_size >= offsetof(rq_session_export_options, format) + sizeof(rq_export_format) &&
                   struct_size <= sizeof(rq_session_export_options),
               "struct_size %zu is not a size this library knows (expected %zu)", struct_size,
               sizeof(rq_session_export_options));
  memset(options, 0, struct_size);
  options->struct_size = struct_size;
  options->format = RQ_EXPORT_FORMAT_BACKEND;
  return RQ_OK;
}

rq_status rq_session_export_with(const rq_session *s, const char *path, const rq_session_export_options *options) {
  RQ_CHECK_NOT_NULL(s);
  RQ_CHECK_NOT_NULL(path);
  /* Copied into zeroed storage, so fields an older caller lacks read as defaults. */
  rq_session_export_options opts;
  memset(&opts, 0, sizeof opts);
  if (options != NULL) {
    RQ_CHECK_ARG(options->struct_size >= offsetof(rq_session_export_options, format) + sizeof(rq_export_format),
                 "options->struct_size %zu is too small; call rq_session_export_options_init first",
                 options->struct_size);
    memcpy(&opts, options, options->struct_size < sizeof opts ? options->struct_size : sizeof opts);
  }
  rq_export_format format = opts.format;
  RQ_CHECK_ARG(format == RQ_EXPORT_FORMAT_BACKEND || format == RQ_EXPORT_FORMAT_QDQ ||
                   format == RQ_EXPORT_FORMAT_OPENVINO_FQ,
               "options->format %d is not an rq_export_format", (int)format);
  rq_export_weight_storage storage = opts.weight_storage;
  RQ_CHECK_ARG(storage == RQ_EXPORT_WEIGHTS_BACKEND || storage == RQ_EXPORT_WEIGHTS_AS_QSCHEME ||
                   storage == RQ_EXPORT_WEIGHTS_UINT8,
               "options->weight_storage %d is not an rq_export_weight_storage", (int)storage);
  bool uint8_weights = storage == RQ_EXPORT_WEIGHTS_UINT8 || (storage == RQ_EXPORT_WEIGHTS_BACKEND && s->int32_bias);
  if (s->state != RQ__SESSION_CONVERTED)
    return rq__fail(RQ_ERR_STATE, __func__, "convert the session first (rq_session_convert)");
  if (format == RQ_EXPORT_FORMAT_BACKEND) {
    if (strcmp(s->export_format, "qdq") == 0) format = RQ_EXPORT_FORMAT_QDQ;
    else if (strcmp(s->export_format, "openvino-fq") == 0) format = RQ_EXPORT_FORMAT_OPENVINO_FQ;
    else return rq__fail(RQ_ERR_UNSUPPORTED, __func__, "export format '%s' is unknown", s->export_format);
  }
  rq_graph *g;
  RQ_TRY(rq__graph_clone(s->graph, &g));
  rq_status st = format == RQ_EXPORT_FORMAT_QDQ ? build_qdq(s, g, uint8_weights) : build_openvino_fq(s, g);
  if (st == RQ_OK) st = rq__graph_remove_dead(g, NULL);
  if (st == RQ_OK) st = rq_graph_save(g, path);
  rq_graph_destroy(g);
  return st;
}

rq_status rq_session_export(const rq_session *s, const char *path) {
  RQ_CHECK_NOT_NULL(s);
  RQ_CHECK_NOT_NULL(path);
  return rq_session_export_with(s, path, NULL);
}
