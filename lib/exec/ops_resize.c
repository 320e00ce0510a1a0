/* SPDX-License-Identifier: Apache-2.0 */
/* Resize and Upsample (FLOAT): nearest, linear and cubic interpolation over
 * any number of axes, every coordinate transformation mode of opsets 10-18. */
#include "exec/exec.h"

#include <math.h>
#include <string.h>

typedef enum coord_mode { CT_HALF_PIXEL, CT_PYTORCH_HALF_PIXEL, CT_ALIGN_CORNERS, CT_ASYMMETRIC,
                          CT_TF_HALF_PIXEL_FOR_NN, CT_TF_CROP_AND_RESIZE } coord_mode;

/* `out` is the resized length as ONNX's reference computes it: the sizes
 * given, or in * scale unrounded (which matters for align_corners). */
static double to_original(coord_mode cm, double x, double scale, int64_t in, double out) {
  switch (cm) {
    case CT_HALF_PIXEL: return (x + 0.5) / scale - 0.5;
    case CT_PYTORCH_HALF_PIXEL: return out > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case CT_ALIGN_CORNERS: return out == 1 ? 0 : x * (double)(in - 1) / (out - 1);
    case CT_ASYMMETRIC: return x / scale;
    case CT_TF_HALF_PIXEL_FOR_NN: return (x + 0.5) / scale;
    case CT_TF_CROP_AND_RESIZE: return 0; /* needs the roi: see resize() */
  }
  return 0;
}

/* Interpolation settings of one Resize node. */
typedef struct resize_params {
  const char *mode, *nearest_mode;
  coord_mode cm;
  double cubic_a;       /* cubic_coeff_a */
  bool exclude_outside; /* cubic: weights of taps outside the input are dropped and renormalized */
  const double *roi;    /* tf_crop_and_resize: starts then ends, normalized */
  double extrapolation; /* tf_crop_and_resize: value outside the input */
} resize_params;

/* Keys' cubic convolution weight at distance t (|t| < 2). */
static double cubic_weight(double t, double a) {
  t = fabs(t);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

#define RESIZE_MAX_TAPS 4

static rq_status resize(rq__op_ctx *c, const rq__tensor *x, const double *scales, const int64_t *sizes,
                        const resize_params *rp) {
  int r = x->ndim;
  int64_t dims[RQ__MAX_RANK];
  double sc[RQ__MAX_RANK];
  for (int d = 0; d < r; d++) {
    if (sizes != NULL) {
      dims[d] = sizes[d];
      sc[d] = x->dims[d] ? (double)sizes[d] / (double)x->dims[d] : 1;
    } else {
      sc[d] = scales[d];
      if (!(sc[d] > 0)) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scale %d is not positive", d);
      double len = floor((double)x->dims[d] * sc[d]);
      if (!(len < 9007199254740992.0)) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scale %g is too large", sc[d]);
      dims[d] = (int64_t)len;
    }
    if (dims[d] < 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "negative output size");
  }
  int taps = strcmp(rp->mode, "nearest") == 0 ? 1 : strcmp(rp->mode, "linear") == 0 ? 2
           : strcmp(rp->mode, "cubic") == 0 ? 4 : 0;
  if (taps == 0) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "mode '%s'", rp->mode);
  if (taps == 4 && r > 4) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "cubic over more than 4 dimensions");
  const char *nmode = rp->nearest_mode;
  int nm = strcmp(nmode, "round_prefer_floor") == 0 ? 0 : strcmp(nmode, "round_prefer_ceil") == 0 ? 1
         : strcmp(nmode, "floor") == 0 ? 2 : strcmp(nmode, "ceil") == 0 ? 3 : -1;
  if (nm < 0) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "nearest_mode '%s'", nmode);
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_FLOAT, r, dims, &y));
  /* Per dimension and output coordinate: `taps` source indices (clamped to
   * the input, i.e. edge padding) and their weights. */
  size_t total = 0;
  for (int d = 0; d < r; d++) total += (size_t)dims[d];
  int64_t *src = rq__malloc_array(total ? total : 1, RESIZE_MAX_TAPS * sizeof *src);
  double *w = rq__malloc_array(total ? total : 1, RESIZE_MAX_TAPS * sizeof *w);
  bool *outside = rq__calloc(total ? total : 1, sizeof *outside);
  if (src == NULL || w == NULL || outside == NULL) {
    rq__free(src);
    rq__free(w);
    rq__free(outside);
    return rq__nomem("Resize", total * RESIZE_MAX_TAPS * (sizeof *src + sizeof *w));
  }
  size_t base[RQ__MAX_RANK];
  for (int d = 0, at = 0; d < r; d++) {
    base[d] = (size_t)at;
    int64_t in = x->dims[d];
    for (int64_t o = 0; o < dims[d]; o++, at++) {
      double xo = to_original(rp->cm, (double)o, sc[d], in, sizes ? (double)sizes[d] : (double)in * sc[d]);
      if (rp->cm == CT_TF_CROP_AND_RESIZE) {
        double start = rp->roi[d], end = rp->roi[r + d];
        xo = dims[d] > 1 ? start * (double)(in - 1) + (double)o * (end - start) * (double)(in - 1) / (double)(dims[d] - 1)
                         : 0.5 * (start + end) * (double)(in - 1);
        outside[at] = xo < 0 || xo > (double)(in - 1);
      }
      int64_t *si = src + (size_t)at * RESIZE_MAX_TAPS;
      double *wi = w + (size_t)at * RESIZE_MAX_TAPS, f = floor(xo), frac = xo - f;
      if (taps == 1) {
        int64_t i0;
        if (nm == 2) i0 = (int64_t)f;
        else if (nm == 3) i0 = (int64_t)ceil(xo);
        else if (frac == 0.5) i0 = nm == 0 ? (int64_t)f : (int64_t)f + 1;
        else i0 = (int64_t)round(xo);
        si[0] = i0;
        wi[0] = 1;
      } else if (taps == 2) {
        si[0] = (int64_t)f;
        si[1] = (int64_t)f + 1;
        wi[0] = 1 - frac;
        wi[1] = frac;
      } else {
        double sum = 0;
        for (int t = 0; t < 4; t++) {
          si[t] = (int64_t)f - 1 + t;
          wi[t] = cubic_weight(frac + 1 - t, rp->cubic_a);
          if (rp->exclude_outside && (si[t] < 0 || si[t] >= in)) wi[t] = 0;
          sum += wi[t];
        }
        if (rp->exclude_outside && sum != 0)
          for (int t = 0; t < 4; t++) wi[t] /= sum;
      }
      for (int t = 0; t < taps; t++) si[t] = si[t] < 0 ? 0 : si[t] >= in ? in - 1 : si[t];
    }
  }
  /* Taps of weight 0 are dropped, the others kept in order: the sum below
   * skips zero weights anyway, so the result is the same, but a dimension
   * Resize leaves alone (N and C of an image) then costs one tap instead of
   * four, and a cubic resize of NCHW visits 16 taps per output, not 256. */
  int dim_taps[RQ__MAX_RANK];
  for (int d = 0; d < r; d++) {
    dim_taps[d] = 1;
    for (int64_t o = 0; o < dims[d]; o++) {
      size_t at = (base[d] + (size_t)o) * RESIZE_MAX_TAPS;
      int kept = 0;
      for (int t = 0; t < taps; t++)
        if (w[at + t] != 0) {
          src[at + kept] = src[at + t];
          w[at + kept++] = w[at + t];
        }
      for (int t = kept; t < taps; t++) w[at + t] = 0;
      if (kept > dim_taps[d]) dim_taps[d] = kept;
    }
  }
  int64_t in_stride[RQ__MAX_RANK], st = 1;
  for (int d = r - 1; d >= 0; d--) {
    in_stride[d] = st;
    st *= x->dims[d];
  }
  const float *xd = x->data;
  int64_t idx[RQ__MAX_RANK] = {0};
  size_t combos = 1;
  for (int d = 0; d < r; d++) combos *= (size_t)dim_taps[d];
  for (size_t i = 0; i < y->numel; i++) {
    double v = 0;
    bool out_of_input = false;
    for (int d = 0; d < r; d++) out_of_input = out_of_input || outside[base[d] + (size_t)idx[d]];
    for (size_t t = 0; t < combos && !out_of_input; t++) {
      double wt = 1;
      int64_t off = 0;
      size_t rest = t;
      for (int d = 0; d < r && wt != 0; d++) {
        size_t at = (base[d] + (size_t)idx[d]) * RESIZE_MAX_TAPS + rest % (size_t)dim_taps[d];
        rest /= (size_t)dim_taps[d];
        wt *= w[at];
        off += src[at] * in_stride[d];
      }
      if (wt != 0) v += wt * xd[off];
    }
    ((float *)y->data)[i] = (float)(out_of_input ? rp->extrapolation : v);
    for (int d = r - 1; d >= 0; d--) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  rq__free(src);
  rq__free(w);
  rq__free(outside);
  return RQ_OK;
}

static rq_status op_resize(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need_float(c, 0, &x));
  if (x->numel == 0) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "empty input");
  const char *mode = rq__node_attr_string(c->node, "mode", "nearest");
  const char *ctm = rq__node_attr_string(c->node, "coordinate_transformation_mode", "half_pixel");
  const char *nearest = rq__node_attr_string(c->node, "nearest_mode", "round_prefer_floor");
  coord_mode cm;
  if (c->opset < 11) { /* Resize-10: Upsample's asymmetric, floor arithmetic */
    cm = CT_ASYMMETRIC;
    nearest = "floor";
  } else if (strcmp(ctm, "half_pixel") == 0) cm = CT_HALF_PIXEL;
  else if (strcmp(ctm, "pytorch_half_pixel") == 0) cm = CT_PYTORCH_HALF_PIXEL;
  else if (strcmp(ctm, "align_corners") == 0) cm = CT_ALIGN_CORNERS;
  else if (strcmp(ctm, "asymmetric") == 0) cm = CT_ASYMMETRIC;
  else if (strcmp(ctm, "tf_half_pixel_for_nn") == 0) cm = CT_TF_HALF_PIXEL_FOR_NN;
  else if (strcmp(ctm, "tf_crop_and_resize") == 0) cm = CT_TF_CROP_AND_RESIZE;
  else return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "coordinate_transformation_mode '%s'", ctm);
  if (rq__node_attr(c->node, "antialias") != NULL && rq__node_attr_int(c->node, "antialias", 0) != 0)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "antialias");
  double roi[2 * RQ__MAX_RANK];
  resize_params rp = {.mode = mode, .nearest_mode = nearest, .cm = cm,
                      .cubic_a = rq__node_attr_float(c->node, "cubic_coeff_a", -0.75f),
                      .exclude_outside = rq__node_attr_int(c->node, "exclude_outside", 0) != 0,
                      .roi = roi, .extrapolation = rq__node_attr_float(c->node, "extrapolation_value", 0.0f)};
  if (cm == CT_TF_CROP_AND_RESIZE) {
    const rq__tensor *roi_t = rq__op_in(c, 1);
    if (roi_t == NULL || roi_t->numel != 2 * (size_t)x->ndim || !rq__dtype_is_numeric(roi_t->dtype))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "tf_crop_and_resize needs an roi of %d values", 2 * x->ndim);
    for (size_t k = 0; k < roi_t->numel; k++) roi[k] = rq__elem_get(roi_t->data, roi_t->dtype, k);
  }
  const rq__tensor *scales_t = rq__op_in(c, c->opset < 11 ? 1 : 2), *sizes_t = c->opset < 11 ? NULL : rq__op_in(c, 3);
  double scales[RQ__MAX_RANK];
  int64_t sizes[RQ__MAX_RANK];
  size_t n;
  if (sizes_t != NULL && sizes_t->numel > 0) {
    RQ_TRY(rq__op_ints(c, sizes_t, sizes, RQ__MAX_RANK, &n));
    if (n != (size_t)x->ndim) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "sizes for a subset of axes");
    return resize(c, x, NULL, sizes, &rp);
  }
  if (scales_t == NULL || scales_t->numel != (size_t)x->ndim || scales_t->dtype != RQ__DT_FLOAT)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scales must be FLOAT with one value per dimension");
  for (int d = 0; d < x->ndim; d++) scales[d] = ((const float *)scales_t->data)[d];
  return resize(c, x, scales, NULL, &rp);
}

static rq_status op_upsample(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need_float(c, 0, &x));
  double scales[RQ__MAX_RANK];
  const rq__tensor *st = rq__op_in(c, 1);
  size_t n;
  const float *f = st ? (st->dtype == RQ__DT_FLOAT ? st->data : NULL) : rq__node_attr_floats(c->node, "scales", &n);
  if (st) n = st->numel;
  if (f == NULL || n != (size_t)x->ndim) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scales must have one FLOAT per dimension");
  for (int d = 0; d < x->ndim; d++) scales[d] = f[d];
  resize_params rp = {.mode = rq__node_attr_string(c->node, "mode", "nearest"), .nearest_mode = "floor",
                      .cm = CT_ASYMMETRIC};
  return resize(c, x, scales, NULL, &rp);
}

const rq__op_entry rq__ops_resize[] = {
  {"Resize", op_resize}, {"Upsample", op_upsample},
  {NULL, NULL},
};
