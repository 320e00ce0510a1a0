/* SPDX-License-Identifier: Apache-2.0 */
/* QuantizeLinear / DequantizeLinear: per-tensor or per-axis (opset 13) or
 * blocked (opset 21) scale and zero point, round half to even, saturate to
 * the integer type; FLOAT16 / BFLOAT16 scales (opset 19) and 16-bit
 * quantized types (opset 21). */
#include "exec/exec.h"

#include <math.h>
#include <string.h>

/* Which scale (and zero point) element each element of x takes: one for
 * the whole tensor, one per index of `axis` (1-D parameters), or, opset
 * 21's blocked quantization, one per run of `block` consecutive indices of
 * `axis` (parameters of x's rank, shaped like x but ceil(D / block) long on
 * the axis). With x's elements seen as [outer, D, inner] around the axis,
 * element i takes
 *   ((i / (D * inner)) * ceil(D / block) + (i / inner % D) / block) * inner + i % inner,
 * which for per-axis parameters (outer taken as 0, block 1) is i / inner % D
 * and for per-tensor ones (D = inner = 1) is 0. */
typedef struct qmap {
  size_t dim, inner, block, blocks; /* blocks: scale's length on the axis */
  bool blocked;
} qmap;

static size_t qparam_index(const qmap *m, size_t i) {
  size_t along = i / m->inner % m->dim;
  if (!m->blocked) return along;
  return ((i / (m->dim * m->inner)) * m->blocks + along / m->block) * m->inner + i % m->inner;
}

static bool is_float_type(int32_t t) { return t == RQ__DT_FLOAT || t == RQ__DT_FLOAT16 || t == RQ__DT_BFLOAT16; }

/* The quantized types: 8-bit, and from opset 21 16-bit. */
static bool is_quantized_type(const rq__op_ctx *c, int32_t t) {
  return t == RQ__DT_UINT8 || t == RQ__DT_INT8 || (c->opset >= 21 && (t == RQ__DT_UINT16 || t == RQ__DT_INT16));
}

/* A quantized type razorq does not hold (float8, int4, ...: the loader
 * refuses such tensors, so only an attribute can name one) or not at this
 * opset. */
static rq_status unsupported_type(rq__op_ctx *c, const char *what, int32_t t) {
  if (rq__dtype_size(t) == 0)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "%s type %s (%d): float8 and 4-bit types are not implemented", what,
                      rq__dtype_name(t), (int)t);
  return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "%s type %s at opset %d", what, rq__dtype_name(t), (int)c->opset);
}

/* Validates scale / zero point against x and maps x's elements to them. */
static rq_status qparams(rq__op_ctx *c, const rq__tensor *x, const rq__tensor **scale, const rq__tensor **zp,
                         qmap *m) {
  if (c->opset < 19) {
    RQ_TRY(rq__op_need_float(c, 1, scale));
  } else { /* opset 19: FLOAT16 and BFLOAT16 too */
    RQ_TRY(rq__op_need(c, 1, scale));
    if (!is_float_type((*scale)->dtype))
      return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "scale type %s", rq__dtype_name((*scale)->dtype));
  }
  *zp = rq__op_in(c, 2);
  *m = (qmap){.dim = 1, .inner = 1, .block = 1, .blocks = 1};
  int64_t block = c->opset >= 21 ? rq__node_attr_int(c->node, "block_size", 0) : 0;
  if (block < 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "block_size %lld is negative", (long long)block);
  const rq__tensor *s = *scale;
  if (block > 0) {
    int axis;
    RQ_TRY(rq__op_axis(c, rq__node_attr_int(c->node, "axis", 1), x->ndim, &axis));
    if (s->ndim != x->ndim)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "blocked quantization needs a scale of rank %d, not %d", x->ndim, s->ndim);
    for (int d = 0; d < x->ndim; d++) {
      int64_t want = d != axis ? x->dims[d] : x->dims[d] / block + (x->dims[d] % block != 0);
      if (s->dims[d] != want)
        return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scale dimension %d is %lld, block_size %lld needs %lld", d,
                          (long long)s->dims[d], (long long)block, (long long)want);
    }
    m->blocked = true;
    m->dim = (size_t)x->dims[axis];
    m->block = (size_t)block;
    m->blocks = (size_t)s->dims[axis];
    for (int d = axis + 1; d < x->ndim; d++) m->inner *= (size_t)x->dims[d];
    if (m->dim == 0) m->dim = 1; /* x is empty: no element asks */
  } else if (s->numel != 1 || s->ndim > 1) {
    if (c->opset < 13 || s->ndim != 1)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scale must be a scalar%s", c->opset < 13 ? "" : " or a 1-D tensor");
    int axis;
    RQ_TRY(rq__op_axis(c, rq__node_attr_int(c->node, "axis", 1), x->ndim, &axis));
    if (x->ndim == 0 || s->dims[0] != x->dims[axis])
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scale has %lld values, axis %d has %lld", (long long)s->dims[0],
                        axis, x->ndim ? (long long)x->dims[axis] : 0LL);
    m->dim = (size_t)x->dims[axis];
    for (int d = axis + 1; d < x->ndim; d++) m->inner *= (size_t)x->dims[d];
  }
  if (*zp != NULL) {
    if ((*zp)->numel != s->numel)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "zero point has %zu values, scale %zu", (*zp)->numel, s->numel);
    if (m->blocked && memcmp((*zp)->dims, s->dims, sizeof *s->dims * (size_t)s->ndim) != 0)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "zero point and scale differ in shape");
    if (!is_quantized_type(c, (*zp)->dtype) && (*zp)->dtype != RQ__DT_INT32)
      return unsupported_type(c, "zero point", (*zp)->dtype);
  }
  return RQ_OK;
}

/* The scales as FLOAT: the tensor's own data, or (FLOAT16 / BFLOAT16,
 * widened exactly) a copy the caller frees with rq__free(*copy). Reading
 * them once keeps a per-element type switch out of the loops. */
static rq_status float_scales(const rq__tensor *scale, const float **s, float **copy) {
  *copy = NULL;
  if (scale->dtype == RQ__DT_FLOAT) {
    *s = scale->data;
    return RQ_OK;
  }
  *copy = rq__malloc_array(scale->numel ? scale->numel : 1, sizeof **copy);
  if (*copy == NULL) return rq__nomem("scale", scale->numel * sizeof **copy);
  for (size_t k = 0; k < scale->numel; k++) (*copy)[k] = (float)rq__elem_get(scale->data, scale->dtype, k);
  *s = *copy;
  return RQ_OK;
}

static rq_status op_quantize_linear(rq__op_ctx *c) {
  const rq__tensor *x, *scale, *zp;
  RQ_TRY(rq__op_need(c, 0, &x));
  /* Opset 19 adds FLOAT16 and BFLOAT16 input. */
  if (x->dtype != RQ__DT_FLOAT && x->dtype != RQ__DT_INT32 && !(c->opset >= 19 && is_float_type(x->dtype)))
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "input type %s", rq__dtype_name(x->dtype));
  qmap m;
  RQ_TRY(qparams(c, x, &scale, &zp, &m));
  int32_t out_type = zp ? zp->dtype : RQ__DT_UINT8;
  /* Opset 21's output_dtype names the type without a zero point. */
  int64_t want = c->opset >= 21 ? rq__node_attr_int(c->node, "output_dtype", 0) : 0;
  if (want != 0) {
    if (zp != NULL && want != zp->dtype)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "output_dtype %lld differs from the zero point's type %s", (long long)want,
                        rq__dtype_name(zp->dtype));
    if (want < INT32_MIN || want > INT32_MAX) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "output_dtype %lld", (long long)want);
    out_type = (int32_t)want;
  }
  if (out_type == RQ__DT_INT32) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "the output type cannot be INT32");
  if (!is_quantized_type(c, out_type)) return unsupported_type(c, "output", out_type);
  bool is_signed = out_type == RQ__DT_INT8 || out_type == RQ__DT_INT16;
  double range = out_type == RQ__DT_UINT8 || out_type == RQ__DT_INT8 ? 256 : 65536;
  double qmin = is_signed ? -range / 2 : 0, qmax = is_signed ? range / 2 - 1 : range - 1;
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, out_type, x->ndim, x->dims, &y));
  const float *s;
  float *copy;
  RQ_TRY(float_scales(scale, &s, &copy));
  for (size_t i = 0; i < x->numel; i++) {
    size_t k = qparam_index(&m, i);
    /* x / scale in float as ONNX Runtime and PyTorch do (FLOAT16 and
     * BFLOAT16 widened exactly), then round half to even (nearbyintf in the
     * default rounding mode). */
    float q = nearbyintf((float)rq__elem_get(x->data, x->dtype, i) / s[k]);
    double v = isnan(q) ? 0 : (double)q + (zp ? rq__elem_get(zp->data, zp->dtype, k) : 0);
    rq__elem_set(y->data, out_type, i, v < qmin ? qmin : v > qmax ? qmax : v);
  }
  rq__free(copy);
  return RQ_OK;
}

static rq_status op_dequantize_linear(rq__op_ctx *c) {
  const rq__tensor *x, *scale, *zp;
  RQ_TRY(rq__op_need(c, 0, &x));
  if (!is_quantized_type(c, x->dtype) && x->dtype != RQ__DT_INT32) return unsupported_type(c, "input", x->dtype);
  qmap m;
  RQ_TRY(qparams(c, x, &scale, &zp, &m));
  if (zp != NULL && zp->dtype != x->dtype)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "zero point type %s differs from the input's %s", rq__dtype_name(zp->dtype),
                      rq__dtype_name(x->dtype));
  /* Opset 19: the output has the scale's type (FLOAT before). */
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, scale->dtype, x->ndim, x->dims, &y));
  const float *s;
  float *copy;
  RQ_TRY(float_scales(scale, &s, &copy));
  float *out = y->dtype == RQ__DT_FLOAT ? y->data : NULL;
  for (size_t i = 0; i < x->numel; i++) {
    size_t k = qparam_index(&m, i);
    int64_t q = (int64_t)rq__elem_get(x->data, x->dtype, i) - (zp ? (int64_t)rq__elem_get(zp->data, zp->dtype, k) : 0);
    /* The product in float, rounded once more for FLOAT16 / BFLOAT16 output
     * as ONNX Runtime does. */
    float v = (float)q * s[k];
    if (out != NULL) out[i] = v;
    else rq__elem_set(y->data, y->dtype, i, v);
  }
  rq__free(copy);
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
