/* SPDX-License-Identifier: Apache-2.0 */
/* Resize and Upsample (FLOAT): nearest, linear and cubic interpolation over
 * any number of axes, every coordinate transformation mode of opsets 10-19,
 * and opset 18's antialias, axes and keep_aspect_ratio_policy. */
#include "exec/exec.h"

#include <math.h>
#include <string.h>

typedef enum coord_mode { CT_HALF_PIXEL, CT_PYTORCH_HALF_PIXEL, CT_ALIGN_CORNERS, CT_ASYMMETRIC,
                          CT_TF_HALF_PIXEL_FOR_NN, CT_TF_CROP_AND_RESIZE, CT_HALF_PIXEL_SYMMETRIC } coord_mode;

/* `out` is the resized length as ONNX's reference computes it (see
 * resize_geometry): the size given, or in * scale unrounded (which matters
 * for align_corners); `out_int` the output's actual length. */
static double to_original(coord_mode cm, double x, double scale, int64_t in, double out, int64_t out_int) {
  switch (cm) {
    case CT_HALF_PIXEL: return (x + 0.5) / scale - 0.5;
    case CT_HALF_PIXEL_SYMMETRIC: { /* opset 19: half_pixel shifted so rounding the length trims both ends alike */
      double center = (double)in / 2, adjustment = (double)out_int / out;
      return center * (1 - adjustment) + (x + 0.5) / scale - 0.5;
    }
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
  bool antialias;       /* linear/cubic: downscaling stretches the filter by 1 / scale */
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

/* Per dimension of the input: the output length, the scale the coordinate
 * transformation divides by, and the unrounded output length align_corners
 * divides by (ONNX's reference uses in * scale, which equals the given size
 * unless keep_aspect_ratio_policy chose the scale). */
typedef struct resize_geometry {
  int64_t dims[RQ__MAX_RANK];
  double scale[RQ__MAX_RANK];
  double out_len[RQ__MAX_RANK];
} resize_geometry;

/* Geometry from one scale per dimension: output length floor(in * scale). */
static rq_status geometry_from_scales(rq__op_ctx *c, const rq__tensor *x, const double *scales, resize_geometry *g) {
  for (int d = 0; d < x->ndim; d++) {
    g->scale[d] = scales[d];
    if (!(g->scale[d] > 0)) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scale %d is not positive", d);
    double len = floor((double)x->dims[d] * g->scale[d]);
    if (!(len < 9007199254740992.0)) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scale %g is too large", g->scale[d]);
    g->dims[d] = (int64_t)len;
    g->out_len[d] = (double)x->dims[d] * g->scale[d];
  }
  return RQ_OK;
}

/* Geometry from one output length per dimension (negative ones already
 * refused): scale = size / in. */
static void geometry_from_sizes(const rq__tensor *x, const int64_t *sizes, resize_geometry *g) {
  for (int d = 0; d < x->ndim; d++) {
    g->dims[d] = sizes[d];
    g->scale[d] = x->dims[d] ? (double)sizes[d] / (double)x->dims[d] : 1;
    g->out_len[d] = (double)sizes[d];
  }
}

/* Whether a dimension takes the antialiasing filter: linear (triangle of
 * half-width 1) and cubic (Keys, half-width 2) stretched by 1 / scale when
 * downscaling. Nearest ignores antialias, as the spec defines it for linear
 * and cubic only; upscaling keeps the plain filter, which is what the
 * stretched one reduces to at scale 1. */
static bool antialiased(const resize_params *rp, int taps, double scale) {
  return rp->antialias && taps > 1 && scale < 1;
}

/* One axis of the separable interpolation: for each of `outer` blocks and
 * output coordinate j along the axis, row j (`inner` values) is the
 * weighted sum of the source rows its taps name. The source is float (the
 * input) or double (an earlier pass); `acc` holds a row in double. */
typedef struct axis_pass {
  size_t outer, inner, in_len, out_len;
  const int64_t *src; /* ntap taps per output coordinate */
  const double *w;
  int ntap, kept;     /* the first `kept` taps hold the nonzero weights */
} axis_pass;

static void accumulate_row(const axis_pass *a, const float *from_f, const double *from_d, size_t o, size_t j,
                           double *acc) {
  const int64_t *si = a->src + j * (size_t)a->ntap;
  const double *wi = a->w + j * (size_t)a->ntap;
  for (size_t i = 0; i < a->inner; i++) acc[i] = 0;
  for (int t = 0; t < a->kept; t++) {
    if (wi[t] == 0) continue;
    size_t row = (o * a->in_len + (size_t)si[t]) * a->inner;
    if (from_f != NULL)
      for (size_t i = 0; i < a->inner; i++) acc[i] += wi[t] * (double)from_f[row + i];
    else
      for (size_t i = 0; i < a->inner; i++) acc[i] += wi[t] * from_d[row + i];
  }
}

/* The interpolation proper, one axis at a time: the weights of an output
 * are a product over axes, so the sum over all tap combinations factors
 * into one pass per axis, each over that axis's taps only. An antialiased
 * downscale by k then costs about 2k taps per axis and output instead of
 * (2k)^2 for a 2-D image. Passes run in double (the last one rounds to
 * float once), shrinking axes first so the intermediates stay small, and
 * axes whose taps are the identity are skipped. src/w hold ntap[d] taps per
 * output coordinate from tap_base[d], the first dim_taps[d] of them the
 * nonzero ones. */
static rq_status resize_separably(const rq__tensor *x, int r, const int64_t *dims, const int64_t *src, const double *w,
                                  const int *ntap, const size_t *tap_base, const int *dim_taps, rq__tensor *y) {
  int order[RQ__MAX_RANK], n_order = 0;
  for (int d = 0; d < r; d++) {
    bool identity = dims[d] == x->dims[d] && dim_taps[d] == 1;
    for (int64_t o = 0; identity && o < dims[d]; o++) {
      size_t at = tap_base[d] + (size_t)o * (size_t)ntap[d];
      identity = src[at] == o && w[at] == 1;
    }
    if (!identity) order[n_order++] = d;
  }
  if (n_order == 0) {
    memcpy(y->data, x->data, y->nbytes);
    return RQ_OK;
  }
  for (int i = 1; i < n_order; i++) /* shrinking axes first (insertion sort by out / in) */
    for (int j = i; j > 0; j--) {
      int a = order[j - 1], b = order[j];
      if ((double)dims[a] * (double)x->dims[b] <= (double)dims[b] * (double)x->dims[a]) break;
      order[j - 1] = b;
      order[j] = a;
    }
  /* The passes' geometry, and the largest intermediate (every pass but the last writes one). */
  axis_pass passes[RQ__MAX_RANK];
  int64_t shape[RQ__MAX_RANK];
  for (int d = 0; d < r; d++) shape[d] = x->dims[d];
  size_t capacity = 1, widest_row = 1;
  for (int k = 0; k < n_order; k++) {
    int d = order[k];
    axis_pass *a = &passes[k];
    a->outer = a->inner = 1;
    for (int e = 0; e < d; e++) a->outer *= (size_t)shape[e];
    for (int e = d + 1; e < r; e++) a->inner *= (size_t)shape[e];
    a->in_len = (size_t)shape[d];
    a->out_len = (size_t)dims[d];
    a->src = src + tap_base[d];
    a->w = w + tap_base[d];
    a->ntap = ntap[d];
    a->kept = dim_taps[d];
    shape[d] = dims[d];
    size_t produced = a->outer * a->out_len * a->inner; /* bounded by the output or an earlier tensor */
    if (k + 1 < n_order && produced > capacity) capacity = produced;
    if (a->inner > widest_row) widest_row = a->inner;
  }
  double *buf[2] = {NULL, NULL}, *acc = rq__malloc_array(widest_row, sizeof *acc);
  if (n_order > 1) buf[0] = rq__malloc_array(capacity, sizeof(double));
  if (n_order > 2) buf[1] = rq__malloc_array(capacity, sizeof(double));
  if (acc == NULL || (n_order > 1 && buf[0] == NULL) || (n_order > 2 && buf[1] == NULL)) {
    rq__free(acc);
    rq__free(buf[0]);
    rq__free(buf[1]);
    return rq__nomem("Resize", (n_order > 2 ? 2 : 1) * capacity * sizeof(double));
  }
  const float *from_f = x->data;
  const double *from_d = NULL;
  for (int k = 0; k < n_order; k++) {
    const axis_pass *a = &passes[k];
    bool last = k + 1 == n_order;
    double *to = last ? NULL : buf[k % 2];
    for (size_t o = 0; o < a->outer; o++)
      for (size_t j = 0; j < a->out_len; j++) {
        accumulate_row(a, from_f, from_d, o, j, acc);
        size_t at = (o * a->out_len + j) * a->inner;
        if (last)
          for (size_t i = 0; i < a->inner; i++) ((float *)y->data)[at + i] = (float)acc[i];
        else
          memcpy(to + at, acc, a->inner * sizeof *acc);
      }
    from_f = NULL;
    from_d = to;
  }
  rq__free(acc);
  rq__free(buf[0]);
  rq__free(buf[1]);
  return RQ_OK;
}

static rq_status resize(rq__op_ctx *c, const rq__tensor *x, const resize_geometry *g, const resize_params *rp) {
  int r = x->ndim;
  const int64_t *dims = g->dims;
  const double *sc = g->scale;
  for (int d = 0; d < r; d++)
    if (dims[d] < 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "negative output size");
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
  /* Per dimension and output coordinate: `ntap[d]` source indices (clamped
   * to the input, i.e. edge padding) and their weights. An antialiased
   * filter of half-width h / scale covers at most 2 h / scale + 2 pixels;
   * an output length of at least 1 bounds 1 / scale by 2 * in, so this
   * stays proportional to the input. */
  int ntap[RQ__MAX_RANK];
  size_t total = 0, tap_total = 0, base[RQ__MAX_RANK], tap_base[RQ__MAX_RANK];
  for (int d = 0; d < r; d++) {
    ntap[d] = taps;
    if (antialiased(rp, taps, sc[d]) && dims[d] > 0) {
      double span = (double)taps / sc[d] + 2; /* taps = 2 * half-width */
      if (!(span < 1 << 28)) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "antialias filter %g pixels wide", span);
      ntap[d] = (int)span + 1;
    }
    base[d] = total;
    tap_base[d] = tap_total;
    total += (size_t)dims[d];
    if ((size_t)dims[d] > (SIZE_MAX - tap_total) / (size_t)ntap[d])
      return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "output too large");
    tap_total += (size_t)dims[d] * (size_t)ntap[d];
  }
  int64_t *src = rq__malloc_array(tap_total ? tap_total : 1, sizeof *src);
  double *w = rq__malloc_array(tap_total ? tap_total : 1, sizeof *w);
  bool *outside = rq__calloc(total ? total : 1, sizeof *outside);
  if (src == NULL || w == NULL || outside == NULL) {
    rq__free(src);
    rq__free(w);
    rq__free(outside);
    return rq__nomem("Resize", tap_total * (sizeof *src + sizeof *w));
  }
  for (int d = 0; d < r; d++) {
    int64_t in = x->dims[d];
    bool aa = antialiased(rp, taps, sc[d]);
    for (int64_t o = 0; o < dims[d]; o++) {
      size_t at = base[d] + (size_t)o;
      double xo = to_original(rp->cm, (double)o, sc[d], in, g->out_len[d], dims[d]);
      if (rp->cm == CT_TF_CROP_AND_RESIZE) {
        double start = rp->roi[d], end = rp->roi[r + d];
        xo = dims[d] > 1 ? start * (double)(in - 1) + (double)o * (end - start) * (double)(in - 1) / (double)(dims[d] - 1)
                         : 0.5 * (start + end) * (double)(in - 1);
        outside[at] = xo < 0 || xo > (double)(in - 1);
      }
      int64_t *si = src + tap_base[d] + (size_t)o * (size_t)ntap[d];
      double *wi = w + tap_base[d] + (size_t)o * (size_t)ntap[d], f = floor(xo), frac = xo - f;
      if (aa) {
        /* ONNX's reference (and PIL, torch's antialias=True): every pixel p
         * within the stretched support weighs filter((p - xo) * scale),
         * pixels beyond the edge repeat it (or are dropped with
         * exclude_outside), and the weights are normalized to sum to 1. */
        double half = (double)taps / 2 / sc[d], sum = 0;
        int64_t lo = (int64_t)floor(xo - half);
        for (int t = 0; t < ntap[d]; t++) {
          int64_t p = lo + t;
          double dist = ((double)p - xo) * sc[d];
          si[t] = p;
          wi[t] = taps == 2 ? (fabs(dist) < 1 ? 1 - fabs(dist) : 0) : cubic_weight(dist, rp->cubic_a);
          if (rp->exclude_outside && (p < 0 || p >= in)) wi[t] = 0;
          sum += wi[t];
        }
        if (sum != 0)
          for (int t = 0; t < ntap[d]; t++) wi[t] /= sum;
      } else if (taps == 1) {
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
      for (int t = 0; t < ntap[d]; t++) si[t] = si[t] < 0 ? 0 : si[t] >= in ? in - 1 : si[t];
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
      size_t at = tap_base[d] + (size_t)o * (size_t)ntap[d];
      int kept = 0;
      for (int t = 0; t < ntap[d]; t++)
        if (w[at + t] != 0) {
          src[at + kept] = src[at + t];
          w[at + kept++] = w[at + t];
        }
      for (int t = kept; t < ntap[d]; t++) w[at + t] = 0;
      if (kept > dim_taps[d]) dim_taps[d] = kept;
    }
  }
  rq_status status = resize_separably(x, r, dims, src, w, ntap, tap_base, dim_taps, y);
  /* tf_crop_and_resize: an output whose source lies outside the input on any
   * axis takes the extrapolation value. */
  if (status == RQ_OK && rp->cm == CT_TF_CROP_AND_RESIZE) {
    int64_t idx[RQ__MAX_RANK] = {0};
    for (size_t i = 0; i < y->numel; i++) {
      bool out_of_input = false;
      for (int d = 0; d < r; d++) out_of_input = out_of_input || outside[base[d] + (size_t)idx[d]];
      if (out_of_input) ((float *)y->data)[i] = (float)rp->extrapolation;
      for (int d = r - 1; d >= 0; d--) {
        if (++idx[d] < dims[d]) break;
        idx[d] = 0;
      }
    }
  }
  rq__free(src);
  rq__free(w);
  rq__free(outside);
  return status;
}

/* Opset 18's axes attribute: the dimensions scales, sizes and roi list, in
 * their order (all of them, 0..r-1, when absent). Out of range or repeated
 * axes are malformed. */
static rq_status resize_axes(rq__op_ctx *c, int r, int *axes, int *n_axes) {
  size_t n;
  const int64_t *attr = rq__node_attr_ints(c->node, "axes", &n);
  if (attr == NULL) {
    for (int d = 0; d < r; d++) axes[d] = d;
    *n_axes = r;
    return RQ_OK;
  }
  if (n == 0 || n > (size_t)r) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axes has %zu values for rank %d", n, r);
  bool seen[RQ__MAX_RANK] = {false};
  for (size_t k = 0; k < n; k++) {
    RQ_TRY(rq__op_axis(c, attr[k], r, &axes[k]));
    if (seen[axes[k]]) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axis %lld is listed twice", (long long)attr[k]);
    seen[axes[k]] = true;
  }
  *n_axes = (int)n;
  return RQ_OK;
}

/* Geometry from sizes for the listed axes (the others keep their length).
 * keep_aspect_ratio_policy "stretch" takes each size as given; "not_larger"
 * / "not_smaller" scale every listed axis by the smallest / largest of the
 * size / in ratios and round in * scale half up, as ONNX's reference does. */
static rq_status geometry_from_listed_sizes(rq__op_ctx *c, const rq__tensor *x, const int *axes, int n_axes,
                                            const int64_t *sizes, const char *policy, resize_geometry *g) {
  int64_t full[RQ__MAX_RANK];
  for (int d = 0; d < x->ndim; d++) full[d] = x->dims[d];
  for (int k = 0; k < n_axes; k++) {
    if (sizes[k] < 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "negative output size");
    full[axes[k]] = sizes[k];
  }
  geometry_from_sizes(x, full, g);
  bool not_larger = strcmp(policy, "not_larger") == 0;
  if (!not_larger && strcmp(policy, "not_smaller") != 0) return RQ_OK; /* stretch (checked by the caller) */
  double scale = g->scale[axes[0]];
  for (int k = 1; k < n_axes; k++)
    scale = not_larger ? fmin(scale, g->scale[axes[k]]) : fmax(scale, g->scale[axes[k]]);
  for (int k = 0; k < n_axes; k++) {
    int d = axes[k];
    double len = floor(scale * (double)x->dims[d] + 0.5);
    if (!(len < 9007199254740992.0)) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "output size %g is too large", len);
    g->dims[d] = (int64_t)len;
    g->scale[d] = scale;
    g->out_len[d] = scale * (double)x->dims[d];
  }
  return RQ_OK;
}

static rq_status op_resize(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need_float(c, 0, &x));
  if (x->numel == 0) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "empty input");
  int r = x->ndim;
  const char *mode = rq__node_attr_string(c->node, "mode", "nearest");
  const char *ctm = rq__node_attr_string(c->node, "coordinate_transformation_mode", "half_pixel");
  const char *nearest = rq__node_attr_string(c->node, "nearest_mode", "round_prefer_floor");
  const char *policy = rq__node_attr_string(c->node, "keep_aspect_ratio_policy", "stretch");
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
  else if (strcmp(ctm, "half_pixel_symmetric") == 0 && c->opset >= 19) cm = CT_HALF_PIXEL_SYMMETRIC;
  else return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "coordinate_transformation_mode '%s'", ctm);
  int64_t antialias = rq__node_attr_int(c->node, "antialias", 0);
  if (antialias != 0 && antialias != 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "antialias %lld is not 0 or 1", (long long)antialias);
  if (strcmp(policy, "stretch") != 0 && strcmp(policy, "not_larger") != 0 && strcmp(policy, "not_smaller") != 0)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "keep_aspect_ratio_policy '%s'", policy);
  int axes[RQ__MAX_RANK], n_axes;
  RQ_TRY(resize_axes(c, r, axes, &n_axes));
  double roi[2 * RQ__MAX_RANK];
  resize_params rp = {.mode = mode, .nearest_mode = nearest, .cm = cm,
                      .cubic_a = rq__node_attr_float(c->node, "cubic_coeff_a", -0.75f),
                      .exclude_outside = rq__node_attr_int(c->node, "exclude_outside", 0) != 0,
                      .antialias = antialias != 0,
                      .roi = roi, .extrapolation = rq__node_attr_float(c->node, "extrapolation_value", 0.0f)};
  if (cm == CT_TF_CROP_AND_RESIZE) {
    /* starts then ends of the listed axes; the others keep all of [0, 1] */
    const rq__tensor *roi_t = rq__op_in(c, 1);
    if (roi_t == NULL || roi_t->numel != 2 * (size_t)n_axes || !rq__dtype_is_numeric(roi_t->dtype))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "tf_crop_and_resize needs an roi of %d values", 2 * n_axes);
    for (int d = 0; d < r; d++) {
      roi[d] = 0;
      roi[r + d] = 1;
    }
    for (int k = 0; k < n_axes; k++) {
      roi[axes[k]] = rq__elem_get(roi_t->data, roi_t->dtype, (size_t)k);
      roi[r + axes[k]] = rq__elem_get(roi_t->data, roi_t->dtype, (size_t)(n_axes + k));
    }
  }
  const rq__tensor *scales_t = rq__op_in(c, c->opset < 11 ? 1 : 2), *sizes_t = c->opset < 11 ? NULL : rq__op_in(c, 3);
  resize_geometry g;
  if (sizes_t != NULL && sizes_t->numel > 0) {
    int64_t sizes[RQ__MAX_RANK];
    size_t n;
    RQ_TRY(rq__op_ints(c, sizes_t, sizes, RQ__MAX_RANK, &n));
    if (n != (size_t)n_axes) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "sizes has %zu values for %d axes", n, n_axes);
    RQ_TRY(geometry_from_listed_sizes(c, x, axes, n_axes, sizes, policy, &g));
    return resize(c, x, &g, &rp);
  }
  /* keep_aspect_ratio_policy only concerns sizes: with scales it is ignored */
  if (scales_t == NULL || scales_t->numel != (size_t)n_axes || scales_t->dtype != RQ__DT_FLOAT)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scales must be FLOAT with one value per resized axis (%d)", n_axes);
  double scales[RQ__MAX_RANK];
  for (int d = 0; d < r; d++) scales[d] = 1;
  for (int k = 0; k < n_axes; k++) scales[axes[k]] = ((const float *)scales_t->data)[k];
  RQ_TRY(geometry_from_scales(c, x, scales, &g));
  return resize(c, x, &g, &rp);
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
  resize_geometry g;
  RQ_TRY(geometry_from_scales(c, x, scales, &g));
  return resize(c, x, &g, &rp);
}

const rq__op_entry rq__ops_resize[] = {
  {"Resize", op_resize}, {"Upsample", op_upsample},
  {NULL, NULL},
};
