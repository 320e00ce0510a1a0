/* SPDX-License-Identifier: Apache-2.0 */
/* QuantizeLinear / DequantizeLinear with opset-13 semantics: per-tensor or
 * per-axis scale and zero point, round half to even, saturate to the
 * integer type. */
#include "exec/exec.h"

#include <math.h>

/* Validates scale / zero point against x and returns, for per-axis
 * parameters, the axis length and the stride of the axis (elements). */
static rq_status qparams(rq__op_ctx *c, const rq__tensor *x, const rq__tensor **scale, const rq__tensor **zp,
                         size_t *channels, size_t *inner) {
  RQ_TRY(rq__op_need_float(c, 1, scale));
  *zp = rq__op_in(c, 2);
  *channels = 1;
  *inner = 1;
  if ((*scale)->numel != 1 || (*scale)->ndim > 1) {
    if (c->opset < 13 || (*scale)->ndim != 1)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scale must be a scalar%s", c->opset < 13 ? "" : " or a 1-D tensor");
    int axis;
    RQ_TRY(rq__op_axis(c, rq__node_attr_int(c->node, "axis", 1), x->ndim, &axis));
    if (x->ndim == 0 || (*scale)->dims[0] != x->dims[axis])
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scale has %lld values, axis %d has %lld", (long long)(*scale)->dims[0],
                        axis, x->ndim ? (long long)x->dims[axis] : 0LL);
    *channels = (size_t)x->dims[axis];
    for (int d = axis + 1; d < x->ndim; d++) *inner *= (size_t)x->dims[d];
  }
  if (*zp != NULL) {
    if ((*zp)->numel != (*scale)->numel)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "zero point has %zu values, scale %zu", (*zp)->numel, (*scale)->numel);
    if ((*zp)->dtype != RQ__DT_UINT8 && (*zp)->dtype != RQ__DT_INT8 && (*zp)->dtype != RQ__DT_INT32)
      return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "zero point type %s", rq__dtype_name((*zp)->dtype));
  }
  return RQ_OK;
}

static rq_status op_quantize_linear(rq__op_ctx *c) {
  const rq__tensor *x, *scale, *zp;
  RQ_TRY(rq__op_need(c, 0, &x));
  if (x->dtype != RQ__DT_FLOAT && x->dtype != RQ__DT_INT32)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "input type %s", rq__dtype_name(x->dtype));
  size_t channels, inner;
  RQ_TRY(qparams(c, x, &scale, &zp, &channels, &inner));
  int32_t out_type = zp ? zp->dtype : RQ__DT_UINT8;
  if (out_type == RQ__DT_INT32) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "the output type cannot be INT32");
  double qmin = out_type == RQ__DT_UINT8 ? 0 : -128, qmax = out_type == RQ__DT_UINT8 ? 255 : 127;
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, out_type, x->ndim, x->dims, &y));
  const float *s = scale->data;
  for (size_t i = 0; i < x->numel; i++) {
    size_t ch = (i / inner) % channels;
    /* x / scale in float as ONNX and PyTorch do, then round half to even
     * (nearbyintf in the default rounding mode). */
    float q = nearbyintf((float)rq__elem_get(x->data, x->dtype, i) / s[ch]);
    double v = isnan(q) ? 0 : (double)q + (zp ? rq__elem_get(zp->data, zp->dtype, ch) : 0);
    rq__elem_set(y->data, out_type, i, v < qmin ? qmin : v > qmax ? qmax : v);
  }
  return RQ_OK;
}

static rq_status op_dequantize_linear(rq__op_ctx *c) {
  const rq__tensor *x, *scale, *zp;
  RQ_TRY(rq__op_need(c, 0, &x));
  if (x->dtype != RQ__DT_UINT8 && x->dtype != RQ__DT_INT8 && x->dtype != RQ__DT_INT32)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "input type %s", rq__dtype_name(x->dtype));
  size_t channels, inner;
  RQ_TRY(qparams(c, x, &scale, &zp, &channels, &inner));
  if (zp != NULL && zp->dtype != x->dtype)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "zero point type %s differs from the input's %s", rq__dtype_name(zp->dtype),
                      rq__dtype_name(x->dtype));
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_FLOAT, x->ndim, x->dims, &y));
  const float *s = scale->data;
  float *out = y->data;
  for (size_t i = 0; i < x->numel; i++) {
    size_t ch = (i / inner) % channels;
    int64_t q = (int64_t)rq__elem_get(x->data, x->dtype, i) - (zp ? (int64_t)rq__elem_get(zp->data, zp->dtype, ch) : 0);
    out[i] = (float)q * s[ch];
  }
  return RQ_OK;
}

/* DynamicQuantizeLinear: uint8 with the range [min(x, 0), max(x, 0)]. */
static rq_status op_dynamic_quantize_linear(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need_float(c, 0, &x));
  const float *in = x->data;
  float lo = 0, hi = 0;
  for (size_t i = 0; i < x->numel; i++) {
    if (isnan(in[i])) return RQ_OP_FAIL(c, RQ_ERR_NONFINITE, "the input holds NaN");
    lo = in[i] < lo ? in[i] : lo;
    hi = in[i] > hi ? in[i] : hi;
  }
  float scale = (hi - lo) / 255.0f;
  float zp = scale == 0 ? 0 : nearbyintf(0 - lo / scale);
  zp = zp < 0 ? 0 : zp > 255 ? 255 : zp;
  rq__tensor *y, *ys, *yz;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_UINT8, x->ndim, x->dims, &y));
  RQ_TRY(rq__op_output(c, 1, RQ__DT_FLOAT, 0, NULL, &ys));
  RQ_TRY(rq__op_output(c, 2, RQ__DT_UINT8, 0, NULL, &yz));
  *(float *)ys->data = scale;
  *(uint8_t *)yz->data = (uint8_t)zp;
  for (size_t i = 0; i < x->numel; i++) {
    float q = scale == 0 ? 0 : nearbyintf(in[i] / scale) + zp;
    ((uint8_t *)y->data)[i] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
  }
  return RQ_OK;
}

const rq__op_entry rq__ops_quant[] = {
  {"DynamicQuantizeLinear", op_dynamic_quantize_linear},
  {"QuantizeLinear", op_quantize_linear},
  {"DequantizeLinear", op_dequantize_linear},
  {NULL, NULL},
};
