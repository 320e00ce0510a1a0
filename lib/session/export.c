/* SPDX-License-Identifier: Apache-2.0 */
/* QDQ ONNX export: each activation fake-quant becomes QuantizeLinear +
 * DequantizeLinear on its edge, each weight is stored quantized behind a
 * DequantizeLinear, so a runtime computes what the fake-quants computed. */
#include "session/session_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define WHERE "rq_session_export"

typedef struct qparams {
  size_t count;
  float *scale;
  float *zero_point;
  int32_t qmin, qmax;
  bool per_channel;
  int32_t axis;
  int32_t storage;          /* RQ__DT_UINT8 or RQ__DT_INT8 */
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
  if (s == RQ_OK) {
    if (q->qmin >= 0 && q->qmax <= 255) {
      q->storage = RQ__DT_UINT8;
    } else if (q->qmin >= -128 && q->qmax <= 127) {
      q->storage = RQ__DT_INT8;
    } else {
      s = rq__fail(RQ_ERR_UNSUPPORTED, WHERE,
                   "'%s': range [%d, %d] needs 16-bit QuantizeLinear (ONNX opset 21), which this exporter does not "
                   "write yet; export 1..8-bit qschemes",
                   edge, q->qmin, q->qmax);
    }
  }
  for (size_t c = 0; s == RQ_OK && c < q->count; c++)
    if (!(q->scale[c] > 0.0f) || !isfinite(q->scale[c]))
      s = rq__fail(RQ_ERR_STATE, WHERE, "'%s' has scale %g: was it calibrated?", edge, (double)q->scale[c]);
  if (s != RQ_OK) qparams_free(q);
  return s;
}

static rq_status add_constant(rq_graph *g, const char *name, int32_t dtype, int ndim, const int64_t *dims,
                              const void *data, int *id) {
  rq__tensor *t;
  RQ_TRY(rq__tensor_create(name, dtype, ndim, dims, &t));
  memcpy(t->data, data, t->nbytes);
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
  uint8_t *zp = rq__malloc(q->count);
  if (zp == NULL) return rq__nomem(WHERE, q->count);
  for (size_t c = 0; c < q->count; c++) {
    long z = lrintf(q->zero_point[c]);
    if (q->storage == RQ__DT_UINT8) zp[c] = (uint8_t)z;
    else ((int8_t *)zp)[c] = (int8_t)z;
  }
  snprintf(name, sizeof name, "%s_zero_point", base);
  rq_status s = add_constant(g, name, q->storage, ndim, dims, zp, zp_id);
  rq__free(zp);
  return s;
}

static rq_status insert_after(rq_graph *g, int value, const char *op, const char *name, const int *extra,
                              int n_extra, int *out_value) {
  int node;
  RQ_TRY(rq__graph_insert_on_edge(g, value, op, "", name, &node));
  for (int i = 0; i < n_extra; i++) RQ_TRY(rq__node_append_input(g, node, extra[i]));
  *out_value = g->nodes[node].outputs[0];
  return RQ_OK;
}

/* Q/DQ (with a Clip first when the range is narrower than the storage type,
 * so QuantizeLinear's saturation lands where the fake-quant's clamp did). */
static rq_status export_activation(rq_graph *g, const char *edge, const qparams *q) {
  int v = rq__graph_find_value(g, edge);
  if (v < 0) return rq__fail(RQ_ERR_INTERNAL, WHERE, "edge '%s' is not in the exported graph", edge);
  if (q->per_channel)
    return rq__fail(RQ_ERR_UNSUPPORTED, WHERE, "'%s': per-channel activations are not exported yet", edge);
  bool was_output = g->values[v].is_output;
  int storage_min = q->storage == RQ__DT_UINT8 ? 0 : -128, storage_max = q->storage == RQ__DT_UINT8 ? 255 : 127;
  char name[512];
  int at = v;
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
    RQ_TRY(insert_after(g, at, "Clip", name, extra, 2, &at));
    g->values[at].dtype = RQ__DT_FLOAT;
  }
  int scale_id, zp_id;
  RQ_TRY(add_qparam_constants(g, edge, q, &scale_id, &zp_id));
  int extra[2] = {scale_id, zp_id}, quantized, dequantized;
  snprintf(name, sizeof name, "%s_QuantizeLinear", edge);
  RQ_TRY(insert_after(g, at, "QuantizeLinear", name, extra, 2, &quantized));
  snprintf(name, sizeof name, "%s_DequantizeLinear", edge);
  RQ_TRY(insert_after(g, quantized, "DequantizeLinear", name, extra, 2, &dequantized));
  /* Insertions on a graph output hand the output's name along; the types
   * follow the data: integer after Q, float after DQ. */
  g->values[g->nodes[g->values[dequantized].producer].inputs[0]].dtype = q->storage;
  g->values[dequantized].dtype = RQ__DT_FLOAT;
  (void)was_output;
  return RQ_OK;
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
  uint8_t *data = rq__malloc(w->numel > 0 ? w->numel : 1);
  if (data == NULL) return rq__nomem(WHERE, w->numel);
  const float *x = w->data;
  for (size_t i = 0; i < w->numel; i++) {
    size_t c = q->per_channel ? (i / inner) % channels : 0;
    float inv_scale = 1.0f / q->scale[c];
    float qv = nearbyintf(x[i] * inv_scale) + q->zero_point[c];
    qv = fminf(fmaxf(qv, (float)q->qmin), (float)q->qmax);
    if (q->storage == RQ__DT_UINT8) data[i] = (uint8_t)qv;
    else ((int8_t *)data)[i] = (int8_t)qv;
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

rq_status rq_session_export(const rq_session *s, const char *path) {
  RQ_CHECK_NOT_NULL(s);
  RQ_CHECK_NOT_NULL(path);
  if (s->state != RQ__SESSION_CONVERTED)
    return rq__fail(RQ_ERR_STATE, __func__, "convert the session first (rq_session_convert)");
  if (strcmp(s->export_format, "qdq") != 0)
    return rq__fail(RQ_ERR_UNSUPPORTED, __func__, "export format '%s' is not implemented yet", s->export_format);
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
    return rq__fail(RQ_ERR_UNSUPPORTED, __func__,
                    "the model imports ONNX opset %lld; QDQ export%s needs opset %lld or later (re-export the float "
                    "model with a newer opset)",
                    (long long)opset, any_per_channel ? " with per-channel weights" : "", (long long)needed);
  rq_graph *g;
  void *data;
  size_t size;
  RQ_TRY(rq__graph_serialize(s->graph, &data, &size));
  rq_status st = rq_graph_load_buffer(data, size, &g);
  rq__free(data);
  RQ_TRY(st);
  for (int i = 0; st == RQ_OK && i < s->n_points; i++) {
    const rq__session_point *p = &s->points[i];
    qparams q;
    st = get_qparams(s->fake_quants[p->fq], p->edge, &q);
    if (st != RQ_OK) break;
    st = p->is_weight ? export_weight(g, p->edge, &q) : export_activation(g, p->edge, &q);
    qparams_free(&q);
  }
  if (st == RQ_OK) st = rq__graph_remove_dead(g, NULL);
  if (st == RQ_OK) st = rq_graph_save(g, path);
  rq_graph_destroy(g);
  return st;
}
