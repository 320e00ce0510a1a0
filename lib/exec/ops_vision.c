/* SPDX-License-Identifier: Apache-2.0 */
/* The vision ops detection and warping models need: NonMaxSuppression,
 * RoiAlign, GridSample and AffineGrid (ONNX opsets 10/11, 10/16, 16/20 and
 * 20). Arithmetic is
 * float in the order ONNX Runtime (NMS, RoiAlign) and PyTorch (GridSample)
 * use, so ties and thresholds fall the same way. */
#include "exec/exec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "[2, 3, 4]" for error messages (cut short if buf is too small). */
static const char *shape_str(const rq__tensor *t, char *buf, size_t size) {
  size_t len = (size_t)snprintf(buf, size, "[");
  for (int d = 0; d < t->ndim && len < size; d++)
    len += (size_t)snprintf(buf + len, size - len, "%s%lld", d ? ", " : "", (long long)t->dims[d]);
  if (len < size) snprintf(buf + len, size - len, "]");
  return buf;
}

/* A scalar input (shape [] or [1]) of a float type, or dflt when omitted. */
static rq_status scalar_float(const rq__op_ctx *c, int i, const char *what, float dflt, float *out) {
  const rq__tensor *t = rq__op_in(c, i);
  *out = dflt;
  if (t == NULL) return RQ_OK;
  if (t->numel != 1 || t->ndim > 1 || !rq__dtype_is_numeric(t->dtype) || rq__dtype_is_int(t->dtype))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%s must be a float scalar", what);
  *out = (float)rq__elem_get(t->data, t->dtype, 0);
  return RQ_OK;
}

/* ---- NonMaxSuppression ---- */

/* One box as its corners (min, max per axis). */
typedef struct nms_box {
  float x0, y0, x1, y1;
} nms_box;

typedef struct nms_candidate {
  float score;
  int64_t index;
} nms_candidate;

/* Score descending, then index ascending; NaN scores last. A total order,
 * so qsort's instability cannot show. */
static int nms_candidate_cmp(const void *pa, const void *pb) {
  const nms_candidate *a = pa, *b = pb;
  bool na = isnan(a->score), nb = isnan(b->score);
  if (na != nb) return na ? 1 : -1;
  if (!na && a->score != b->score) return a->score > b->score ? -1 : 1;
  return (a->index > b->index) - (a->index < b->index);
}

static nms_box nms_corners(const float *b, bool center_point) {
  nms_box r;
  if (center_point) { /* [x_center, y_center, width, height] */
    float hw = b[2] / 2, hh = b[3] / 2;
    r = (nms_box){b[0] - hw, b[1] - hh, b[0] + hw, b[1] + hh};
  } else { /* [y1, x1, y2, x2], either diagonal */
    r = (nms_box){b[1] < b[3] ? b[1] : b[3], b[0] < b[2] ? b[0] : b[2], b[1] < b[3] ? b[3] : b[1],
                  b[0] < b[2] ? b[2] : b[0]};
  }
  return r;
}

/* Whether a and b overlap by more than the threshold. Comparisons are
 * written so NaN anywhere means "no": a non-finite box never suppresses nor
 * is suppressed (as in ONNX Runtime). */
static bool nms_suppresses(const nms_box *a, const nms_box *b, float iou_threshold) {
  float ix0 = a->x0 > b->x0 ? a->x0 : b->x0, ix1 = a->x1 < b->x1 ? a->x1 : b->x1;
  float iy0 = a->y0 > b->y0 ? a->y0 : b->y0, iy1 = a->y1 < b->y1 ? a->y1 : b->y1;
  if (!(ix1 > ix0) || !(iy1 > iy0)) return false;
  float inter = (ix1 - ix0) * (iy1 - iy0);
  float area_a = (a->x1 - a->x0) * (a->y1 - a->y0), area_b = (b->x1 - b->x0) * (b->y1 - b->y0);
  float uni = area_a + area_b - inter;
  if (!(inter > 0) || !(area_a > 0) || !(area_b > 0) || !(uni > 0)) return false;
  return inter / uni > iou_threshold;
}

/* Greedy NMS per (batch, class): candidates above score_threshold in score
 * order; each is kept unless its IoU with a box already kept in the same
 * class exceeds iou_threshold; at most max_output per class. */
static rq_status op_non_max_suppression(rq__op_ctx *c) {
  const rq__tensor *boxes, *scores;
  RQ_TRY(rq__op_need_float(c, 0, &boxes));
  RQ_TRY(rq__op_need_float(c, 1, &scores));
  char shape[96];
  if (boxes->ndim != 3 || boxes->dims[2] != 4)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "boxes are %s; expected [batch, boxes, 4]",
                      shape_str(boxes, shape, sizeof shape));
  if (scores->ndim != 3 || scores->dims[0] != boxes->dims[0] || scores->dims[2] != boxes->dims[1])
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scores are %s; expected [%lld, classes, %lld] to match the boxes",
                      shape_str(scores, shape, sizeof shape), (long long)boxes->dims[0], (long long)boxes->dims[1]);
  int64_t max_output = 0;
  const rq__tensor *mt = rq__op_in(c, 2);
  if (mt != NULL) {
    size_t n;
    RQ_TRY(rq__op_ints(c, mt, &max_output, 1, &n));
    if (n != 1 || mt->ndim > 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "max_output_boxes_per_class must be a scalar");
    if (max_output < 0) max_output = 0; /* as ONNX Runtime: no output */
  }
  float iou_threshold, score_threshold;
  RQ_TRY(scalar_float(c, 3, "iou_threshold", 0.0f, &iou_threshold));
  RQ_TRY(scalar_float(c, 4, "score_threshold", 0.0f, &score_threshold));
  bool has_score_threshold = rq__op_in(c, 4) != NULL;
  if (!(iou_threshold >= 0 && iou_threshold <= 1))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "iou_threshold %g is outside [0, 1]", iou_threshold);
  int64_t center = rq__node_attr_int(c->node, "center_point_box", 0);
  if (center != 0 && center != 1)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "center_point_box %lld is neither 0 nor 1", (long long)center);

  size_t B = (size_t)boxes->dims[0], N = (size_t)boxes->dims[1], C = (size_t)scores->dims[1];
  size_t per_class = (size_t)max_output < N ? (size_t)max_output : N;
  /* Worst case: every class keeps per_class boxes. */
  size_t cap = 0;
  if (per_class != 0 && B * C != 0) {
    if (B * C > SIZE_MAX / per_class / 3 / sizeof(int64_t))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "too many boxes to select");
    cap = B * C * per_class;
  }
  nms_candidate *cand = rq__malloc_array(N ? N : 1, sizeof *cand);
  nms_box *kept = rq__malloc_array(per_class ? per_class : 1, sizeof *kept);
  int64_t *sel = rq__malloc_array(cap ? 3 * cap : 1, sizeof *sel);
  if (cand == NULL || kept == NULL || sel == NULL) {
    rq__free(cand);
    rq__free(kept);
    rq__free(sel);
    return rq__nomem("NonMaxSuppression", (N + 3 * cap) * sizeof *sel);
  }
  const float *bd = boxes->data, *sd = scores->data;
  size_t n_sel = 0;
  for (size_t b = 0; b < B; b++)
    for (size_t k = 0; k < C && per_class != 0; k++) {
      const float *s = sd + (b * C + k) * N;
      size_t n_cand = 0;
      for (size_t i = 0; i < N; i++)
        if (!has_score_threshold || s[i] > score_threshold) cand[n_cand++] = (nms_candidate){s[i], (int64_t)i};
      qsort(cand, n_cand, sizeof *cand, nms_candidate_cmp);
      size_t n_kept = 0;
      for (size_t j = 0; j < n_cand && n_kept < per_class; j++) {
        nms_box box = nms_corners(bd + (b * N + (size_t)cand[j].index) * 4, center == 1);
        bool suppressed = false;
        for (size_t q = 0; q < n_kept && !suppressed; q++) suppressed = nms_suppresses(&kept[q], &box, iou_threshold);
        if (suppressed) continue;
        kept[n_kept++] = box;
        sel[3 * n_sel] = (int64_t)b;
        sel[3 * n_sel + 1] = (int64_t)k;
        sel[3 * n_sel + 2] = cand[j].index;
        n_sel++;
      }
    }
  rq__free(cand);
  rq__free(kept);
  int64_t dims[2] = {(int64_t)n_sel, 3};
  rq__tensor *y;
  rq_status st = rq__op_output(c, 0, RQ__DT_INT64, 2, dims, &y);
  if (st == RQ_OK && n_sel != 0) memcpy(y->data, sel, 3 * n_sel * sizeof *sel);
  rq__free(sel);
  return st;
}

/* ---- RoiAlign ---- */

/* Sampling points per bin side beyond which a roi is refused: a roi of
 * absurd size (or a hostile one) would otherwise mean billions of samples. */
#define ROI_MAX_BIN_SAMPLES (1 << 24)

/* Bilinear taps of one sampling point: four flat positions in a [H, W]
 * plane and their weights; all weights 0 when the point lies more than one
 * pixel outside the map. */
typedef struct roi_taps {
  size_t pos[4];
  float w[4];
} roi_taps;

static roi_taps roi_bilinear(float y, float x, int64_t H, int64_t W) {
  roi_taps t = {{0, 0, 0, 0}, {0, 0, 0, 0}};
  /* Written so NaN lands outside too. */
  if (!(y >= -1.0f && y <= (float)H && x >= -1.0f && x <= (float)W)) return t;
  if (y <= 0) y = 0;
  if (x <= 0) x = 0;
  int64_t y_lo = (int64_t)y, x_lo = (int64_t)x, y_hi, x_hi;
  if (y_lo >= H - 1) {
    y_hi = y_lo = H - 1;
    y = (float)y_lo;
  } else {
    y_hi = y_lo + 1;
  }
  if (x_lo >= W - 1) {
    x_hi = x_lo = W - 1;
    x = (float)x_lo;
  } else {
    x_hi = x_lo + 1;
  }
  float ly = y - (float)y_lo, lx = x - (float)x_lo, hy = 1.0f - ly, hx = 1.0f - lx;
  t.pos[0] = (size_t)(y_lo * W + x_lo);
  t.pos[1] = (size_t)(y_lo * W + x_hi);
  t.pos[2] = (size_t)(y_hi * W + x_lo);
  t.pos[3] = (size_t)(y_hi * W + x_hi);
  t.w[0] = hy * hx;
  t.w[1] = hy * lx;
  t.w[2] = ly * hx;
  t.w[3] = ly * lx;
  return t;
}

/* Where one roi samples: its top-left corner and bin size in pixels of X,
 * and the sampling grid per bin (0 x 0 for an empty roi). */
typedef struct roi_geometry {
  float x0, y0, bin_w, bin_h;
  int64_t grid_w, grid_h;
} roi_geometry;

typedef struct roi_params {
  bool max_mode, half_pixel;
  int64_t out_h, out_w, ratio;
  float scale;
} roi_params;

/* The geometry of roi (whose coordinates are finite); false when its
 * sampling grid would exceed ROI_MAX_BIN_SAMPLES (*samples says how many). */
static bool roi_locate(const roi_params *p, const float *roi, roi_geometry *g, double *samples) {
  float offset = p->half_pixel ? 0.5f : 0.0f;
  g->x0 = roi[0] * p->scale - offset;
  g->y0 = roi[1] * p->scale - offset;
  float roi_w = roi[2] * p->scale - offset - g->x0, roi_h = roi[3] * p->scale - offset - g->y0;
  if (!p->half_pixel) { /* the opset-10 behaviour: rois at least one pixel */
    if (roi_w < 1.0f) roi_w = 1.0f;
    if (roi_h < 1.0f) roi_h = 1.0f;
  }
  g->bin_h = roi_h / (float)p->out_h;
  g->bin_w = roi_w / (float)p->out_w;
  double grid_h = p->ratio > 0 ? (double)p->ratio : ceil(roi_h / (float)p->out_h);
  double grid_w = p->ratio > 0 ? (double)p->ratio : ceil(roi_w / (float)p->out_w);
  /* A roi reversed under half_pixel (x2 < x1) has no samples. */
  if (grid_h < 0) grid_h = 0;
  if (grid_w < 0) grid_w = 0;
  *samples = grid_h * grid_w;
  if (!(*samples <= ROI_MAX_BIN_SAMPLES)) return false;
  g->grid_h = (int64_t)grid_h;
  g->grid_w = (int64_t)grid_w;
  return true;
}

/* Samples whose taps are computed once and then applied to every channel. */
#define ROI_CHUNK 64

typedef struct roi_job {
  const roi_params *p;
  const float *x, *rois;
  const void *batch; /* INT64 or INT32 */
  bool batch64;
  size_t C, H, W;
  float *y;
} roi_job;

/* Rois [begin, end): every output bin averages (avg) or takes the maximum
 * of (max) the roi's grid_h x grid_w bilinear samples in it; y holds the
 * running value while the samples go by in chunks. max follows ONNX
 * Runtime and ONNX's test data: the maximum over the weighted taps
 * w_i * x_i of every sample, not over interpolated values. */
static void roi_align_chunk(void *arg, size_t begin, size_t end) {
  const roi_job *j = arg;
  const roi_params *p = j->p;
  size_t plane = j->H * j->W, bins = (size_t)p->out_h * (size_t)p->out_w;
  roi_taps taps[ROI_CHUNK];
  for (size_t r = begin; r < end; r++) {
    roi_geometry g;
    double samples;
    roi_locate(p, j->rois + 4 * r, &g, &samples); /* checked before the run */
    size_t b = (size_t)(j->batch64 ? ((const int64_t *)j->batch)[r] : ((const int32_t *)j->batch)[r]);
    const float *xb = j->x + b * j->C * plane;
    float *yr = j->y + r * j->C * bins;
    size_t n = (size_t)g.grid_h * (size_t)g.grid_w;
    for (size_t bin = 0; bin < bins; bin++) {
      float ph = (float)(bin / (size_t)p->out_w), pw = (float)(bin % (size_t)p->out_w);
      for (size_t ch = 0; ch < j->C; ch++) yr[ch * bins + bin] = 0;
      for (size_t s0 = 0; s0 < n; s0 += ROI_CHUNK) {
        size_t k = n - s0 < ROI_CHUNK ? n - s0 : ROI_CHUNK;
        for (size_t s = 0; s < k; s++) {
          float iy = (float)((s0 + s) / (size_t)g.grid_w), ix = (float)((s0 + s) % (size_t)g.grid_w);
          float sy = g.y0 + ph * g.bin_h + (iy + 0.5f) * g.bin_h / (float)g.grid_h;
          float sx = g.x0 + pw * g.bin_w + (ix + 0.5f) * g.bin_w / (float)g.grid_w;
          taps[s] = roi_bilinear(sy, sx, (int64_t)j->H, (int64_t)j->W);
        }
        for (size_t ch = 0; ch < j->C; ch++) {
          const float *xp = xb + ch * plane;
          float acc = yr[ch * bins + bin];
          for (size_t s = 0; s < k; s++) {
            const roi_taps *t = &taps[s];
            if (!p->max_mode) {
              acc += t->w[0] * xp[t->pos[0]] + t->w[1] * xp[t->pos[1]] + t->w[2] * xp[t->pos[2]] +
                     t->w[3] * xp[t->pos[3]];
              continue;
            }
            float v = t->w[0] * xp[t->pos[0]];
            for (int q = 1; q < 4; q++) {
              float term = t->w[q] * xp[t->pos[q]];
              if (term > v) v = term;
            }
            if ((s0 == 0 && s == 0) || v > acc) acc = v;
          }
          yr[ch * bins + bin] = acc;
        }
      }
      if (!p->max_mode && n > 1)
        for (size_t ch = 0; ch < j->C; ch++) yr[ch * bins + bin] /= (float)n;
    }
  }
}

static rq_status op_roi_align(rq__op_ctx *c) {
  const rq__tensor *x, *rois, *bi;
  RQ_TRY(rq__op_need_float(c, 0, &x));
  RQ_TRY(rq__op_need_float(c, 1, &rois));
  RQ_TRY(rq__op_need(c, 2, &bi));
  char shape[96];
  if (x->ndim != 4)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "X is %s; expected [N, C, H, W]", shape_str(x, shape, sizeof shape));
  if (rois->ndim != 2 || rois->dims[1] != 4)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "rois are %s; expected [num_rois, 4]", shape_str(rois, shape, sizeof shape));
  if ((bi->dtype != RQ__DT_INT64 && bi->dtype != RQ__DT_INT32) || bi->ndim != 1 || bi->dims[0] != rois->dims[0])
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "batch_indices are %s %s; expected INT64 [%lld] (one per roi)",
                      rq__dtype_name(bi->dtype), shape_str(bi, shape, sizeof shape), (long long)rois->dims[0]);
  roi_params p;
  const char *mode = rq__node_attr_string(c->node, "mode", "avg");
  p.max_mode = strcmp(mode, "max") == 0;
  if (!p.max_mode && strcmp(mode, "avg") != 0)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "mode '%s' is neither avg nor max", mode);
  /* Opset 16 added the attribute and made half_pixel the default; before,
   * the behaviour was output_half_pixel's. */
  const char *ctm = rq__node_attr_string(c->node, "coordinate_transformation_mode",
                                         c->opset >= 16 ? "half_pixel" : "output_half_pixel");
  p.half_pixel = strcmp(ctm, "half_pixel") == 0;
  if (!p.half_pixel && strcmp(ctm, "output_half_pixel") != 0)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "coordinate_transformation_mode '%s' is neither half_pixel nor "
                      "output_half_pixel", ctm);
  p.out_h = rq__node_attr_int(c->node, "output_height", 1);
  p.out_w = rq__node_attr_int(c->node, "output_width", 1);
  p.ratio = rq__node_attr_int(c->node, "sampling_ratio", 0);
  p.scale = rq__node_attr_float(c->node, "spatial_scale", 1.0f);
  if (p.out_h < 1 || p.out_w < 1 || p.ratio < 0 || p.ratio > ROI_MAX_BIN_SAMPLES)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "output_height %lld, output_width %lld or sampling_ratio %lld is out of range",
                      (long long)p.out_h, (long long)p.out_w, (long long)p.ratio);
  if (!isfinite(p.scale)) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "spatial_scale is not finite");
  int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3], R = rois->dims[0];
  if (R != 0 && C != 0 && (H == 0 || W == 0))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "X has an empty spatial dimension");
  /* Every roi is checked before the output exists. */
  const float *rd = rois->data;
  bool batch64 = bi->dtype == RQ__DT_INT64;
  for (int64_t r = 0; r < R; r++) {
    int64_t b = batch64 ? ((const int64_t *)bi->data)[r] : ((const int32_t *)bi->data)[r];
    if (b < 0 || b >= N)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "batch_indices[%lld] = %lld is outside [0, %lld)", (long long)r,
                        (long long)b, (long long)N);
    for (int k = 0; k < 4; k++)
      if (!isfinite(rd[4 * r + k])) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "roi %lld is not finite", (long long)r);
    roi_geometry g;
    double samples;
    if (!roi_locate(&p, rd + 4 * r, &g, &samples))
      return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "roi %lld needs %.3g samples per bin; at most %d are supported",
                        (long long)r, samples, ROI_MAX_BIN_SAMPLES);
  }
  int64_t dims[4] = {R, C, p.out_h, p.out_w};
  rq__tensor *y;
  RQ_TRY(rq__op_output_uninit(c, 0, RQ__DT_FLOAT, 4, dims, &y));
  roi_job job = {&p, x->data, rd, bi->data, batch64, (size_t)C, (size_t)H, (size_t)W, y->data};
  size_t per_roi = (size_t)C * (size_t)p.out_h * (size_t)p.out_w;
  rq__parallel_for(c->threads, (size_t)R, 1 + 4096 / (per_roi ? per_roi : 1), roi_align_chunk, &job);
  return RQ_OK;
}

/* ---- GridSample ---- */

enum { GS_BILINEAR, GS_NEAREST, GS_BICUBIC };
enum { GS_ZEROS, GS_BORDER, GS_REFLECTION };

typedef struct gs_params {
  int mode, padding;
  bool align_corners;
} gs_params;

/* Normalised [-1, 1] to pixel coordinates: -1 and 1 are the outer edges of
 * the corner pixels, or their centres with align_corners. */
static float gs_unnormalize(float coord, int64_t size, bool align_corners) {
  return align_corners ? (coord + 1) / 2 * (float)(size - 1) : ((coord + 1) * (float)size - 1) / 2;
}

/* Reflects coord into [twice_low / 2, twice_high / 2] (PyTorch's
 * reflect_coordinates). The flip count's parity comes from fmod so huge
 * coordinates need no integer conversion. */
static float gs_reflect(float coord, int64_t twice_low, int64_t twice_high) {
  if (twice_low == twice_high) return 0;
  float lo = (float)twice_low / 2, span = (float)(twice_high - twice_low) / 2;
  coord = fabsf(coord - lo);
  float extra = fmodf(coord, span);
  bool even = fmodf(floorf(coord / span), 2.0f) == 0;
  return even ? extra + lo : span - extra + lo;
}

/* Applies border / reflection padding to a pixel coordinate. */
static float gs_pad(float coord, int64_t size, const gs_params *p) {
  if (p->padding == GS_ZEROS) return coord;
  if (p->padding == GS_REFLECTION)
    coord = p->align_corners ? gs_reflect(coord, 0, 2 * (size - 1)) : gs_reflect(coord, -1, 2 * size - 1);
  /* clip to [0, size - 1]; NaN stays NaN */
  if (coord < 0) coord = 0;
  if (coord > (float)(size - 1)) coord = (float)(size - 1);
  return coord;
}

/* The offset of pixel (iy, ix) in a [H, W] plane, or -1 outside it.
 * Coordinates are floats of whole numbers; non-finite or far ones are
 * outside (no integer overflow). */
static int64_t gs_offset(int64_t H, int64_t W, float iy, float ix) {
  if (!(iy >= 0 && iy < (float)H && ix >= 0 && ix < (float)W)) return -1;
  return (int64_t)iy * W + (int64_t)ix;
}

static float gs_cubic1(float x, float a) { return ((a + 2) * x - (a + 3)) * x * x + 1; }
static float gs_cubic2(float x, float a) { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; }

/* Cubic convolution weights (A = -0.75, as PyTorch) of the four samples
 * around offset t. */
static void gs_cubic_weights(float t, float w[4]) {
  const float a = -0.75f;
  w[0] = gs_cubic2(t + 1, a);
  w[1] = gs_cubic1(t, a);
  w[2] = gs_cubic1(1 - t, a);
  w[3] = gs_cubic2(2 - t, a);
}

/* Where one output point samples, the same for every channel: the plane
 * offsets of its taps (-1 outside: reads 0) and their weights. bilinear
 * uses 4 taps weighted by wx; nearest 1; bicubic a 4 x 4 block, rows
 * weighted by wx, then the row results by wy. */
typedef struct gs_point {
  int64_t pos[16];
  float wx[4], wy[4];
} gs_point;

/* PyTorch's grid_sampler_2d on CPU (whose definition ONNX opset 16
 * adopted) for the normalised point (gx, gy). */
static void gs_locate(gs_point *pt, int64_t H, int64_t W, float gx, float gy, const gs_params *p) {
  float ix = gs_unnormalize(gx, W, p->align_corners), iy = gs_unnormalize(gy, H, p->align_corners);
  if (p->mode == GS_BICUBIC) {
    /* Padding applies per tap, to the integer tap coordinates. */
    float x0 = floorf(ix), y0 = floorf(iy);
    for (int i = 0; i < 4; i++) {
      float ty = gs_pad(y0 - 1 + (float)i, H, p);
      for (int j = 0; j < 4; j++) pt->pos[4 * i + j] = gs_offset(H, W, ty, gs_pad(x0 - 1 + (float)j, W, p));
    }
    gs_cubic_weights(ix - x0, pt->wx);
    gs_cubic_weights(iy - y0, pt->wy);
    return;
  }
  ix = gs_pad(ix, W, p);
  iy = gs_pad(iy, H, p);
  if (p->mode == GS_NEAREST) {
    pt->pos[0] = gs_offset(H, W, nearbyintf(iy), nearbyintf(ix));
    return;
  }
  /* Weights as PyTorch's vectorised CPU kernel forms them. */
  float x0 = floorf(ix), y0 = floorf(iy), w = ix - x0, e = 1 - w, n = iy - y0, s = 1 - n;
  pt->pos[0] = gs_offset(H, W, y0, x0);
  pt->pos[1] = gs_offset(H, W, y0, x0 + 1);
  pt->pos[2] = gs_offset(H, W, y0 + 1, x0);
  pt->pos[3] = gs_offset(H, W, y0 + 1, x0 + 1);
  pt->wx[0] = s * e;
  pt->wx[1] = s * w;
  pt->wx[2] = n * e;
  pt->wx[3] = n * w;
}

static inline float gs_tap(const float *plane, int64_t pos) { return pos < 0 ? 0.0f : plane[pos]; }

/* Four taps from pos weighted by w, summed in PyTorch's order. */
static inline float gs_dot4(const float *plane, const int64_t *pos, const float *w) {
  return gs_tap(plane, pos[0]) * w[0] + gs_tap(plane, pos[1]) * w[1] + gs_tap(plane, pos[2]) * w[2] +
         gs_tap(plane, pos[3]) * w[3];
}

static float gs_apply(const float *plane, const gs_point *pt, int mode) {
  if (mode == GS_NEAREST) return gs_tap(plane, pt->pos[0]);
  if (mode == GS_BILINEAR) return gs_dot4(plane, pt->pos, pt->wx);
  float rows[4];
  for (int i = 0; i < 4; i++) rows[i] = gs_dot4(plane, pt->pos + 4 * i, pt->wx);
  return rows[0] * pt->wy[0] + rows[1] * pt->wy[1] + rows[2] * pt->wy[2] + rows[3] * pt->wy[3];
}

/* Output points located at once, then applied to every channel. */
#define GS_CHUNK 64

typedef struct gs_job {
  const gs_params *p;
  const float *x, *grid;
  size_t C, H, W, Ho, Wo;
  float *y;
} gs_job;

/* Output rows [begin, end) of the N x H_out rows, all channels. */
static void grid_sample_chunk(void *arg, size_t begin, size_t end) {
  const gs_job *j = arg;
  gs_point pts[GS_CHUNK];
  size_t plane = j->H * j->W;
  for (size_t row = begin; row < end; row++) {
    size_t n = row / j->Ho, ho = row % j->Ho;
    for (size_t w0 = 0; w0 < j->Wo; w0 += GS_CHUNK) {
      size_t k = j->Wo - w0 < GS_CHUNK ? j->Wo - w0 : GS_CHUNK;
      const float *g = j->grid + (row * j->Wo + w0) * 2;
      for (size_t s = 0; s < k; s++)
        gs_locate(&pts[s], (int64_t)j->H, (int64_t)j->W, g[2 * s], g[2 * s + 1], j->p);
      for (size_t ch = 0; ch < j->C; ch++) {
        const float *xp = j->x + (n * j->C + ch) * plane;
        float *yp = j->y + ((n * j->C + ch) * j->Ho + ho) * j->Wo + w0;
        for (size_t s = 0; s < k; s++) yp[s] = gs_apply(xp, &pts[s], j->p->mode);
      }
    }
  }
}

/* ---- volumetric GridSample (opset 20) ---- */

/* One output point of a [D, H, W] volume: trilinear uses 8 taps, nearest 1.
 * Taps and weights in the order of PyTorch's grid_sampler_3d CPU kernel
 * (tnw, tne, tsw, tse, bnw, bne, bsw, bse: t/b the lower/upper z, n/s the
 * lower/upper y, w/e the lower/upper x), which sums them in that order. */
typedef struct gs3_point {
  int64_t pos[8];
  float w[8];
} gs3_point;

static int64_t gs3_offset(int64_t D, int64_t H, int64_t W, float iz, float iy, float ix) {
  int64_t in_plane = gs_offset(H, W, iy, ix);
  if (in_plane < 0 || !(iz >= 0 && iz < (float)D)) return -1;
  return (int64_t)iz * H * W + in_plane;
}

static void gs3_locate(gs3_point *pt, int64_t D, int64_t H, int64_t W, const float *g, const gs_params *p) {
  float ix = gs_pad(gs_unnormalize(g[0], W, p->align_corners), W, p);
  float iy = gs_pad(gs_unnormalize(g[1], H, p->align_corners), H, p);
  float iz = gs_pad(gs_unnormalize(g[2], D, p->align_corners), D, p);
  if (p->mode == GS_NEAREST) {
    pt->pos[0] = gs3_offset(D, H, W, nearbyintf(iz), nearbyintf(iy), nearbyintf(ix));
    return;
  }
  float x0 = floorf(ix), y0 = floorf(iy), z0 = floorf(iz), x1 = x0 + 1, y1 = y0 + 1, z1 = z0 + 1;
  for (int k = 0; k < 8; k++) {
    bool up_x = k & 1, up_y = k & 2, up_z = k & 4;
    pt->pos[k] = gs3_offset(D, H, W, up_z ? z1 : z0, up_y ? y1 : y0, up_x ? x1 : x0);
    pt->w[k] = (up_x ? ix - x0 : x1 - ix) * (up_y ? iy - y0 : y1 - iy) * (up_z ? iz - z0 : z1 - iz);
  }
}

static float gs3_apply(const float *volume, const gs3_point *pt, int mode) {
  if (mode == GS_NEAREST) return gs_tap(volume, pt->pos[0]);
  float acc = 0;
  for (int k = 0; k < 8; k++)
    if (pt->pos[k] >= 0) acc += volume[pt->pos[k]] * pt->w[k];
  return acc;
}

typedef struct gs3_job {
  const gs_params *p;
  const float *x, *grid;
  size_t C, D, H, W, Do, Ho, Wo;
  float *y;
} gs3_job;

/* Output rows [begin, end) of the N x D_out x H_out rows, all channels. */
static void grid_sample3_chunk(void *arg, size_t begin, size_t end) {
  const gs3_job *j = arg;
  gs3_point pts[GS_CHUNK];
  size_t volume = j->D * j->H * j->W, rows = j->Do * j->Ho;
  for (size_t row = begin; row < end; row++) {
    size_t n = row / rows, r = row % rows;
    for (size_t w0 = 0; w0 < j->Wo; w0 += GS_CHUNK) {
      size_t k = j->Wo - w0 < GS_CHUNK ? j->Wo - w0 : GS_CHUNK;
      const float *g = j->grid + (row * j->Wo + w0) * 3;
      for (size_t s = 0; s < k; s++)
        gs3_locate(&pts[s], (int64_t)j->D, (int64_t)j->H, (int64_t)j->W, g + 3 * s, j->p);
      for (size_t ch = 0; ch < j->C; ch++) {
        const float *xv = j->x + (n * j->C + ch) * volume;
        float *yp = j->y + ((n * j->C + ch) * rows + r) * j->Wo + w0;
        for (size_t s = 0; s < k; s++) yp[s] = gs3_apply(xv, &pts[s], j->p->mode);
      }
    }
  }
}

/* mode's value: opset 20 renamed bilinear and bicubic to linear and cubic
 * (linear being trilinear on volumes); each opset knows only its names. */
static rq_status gs_parse_mode(const rq__op_ctx *c, int *mode) {
  bool since20 = c->opset >= 20;
  const char *linear = since20 ? "linear" : "bilinear", *cubic = since20 ? "cubic" : "bicubic";
  const char *name = rq__node_attr_string(c->node, "mode", linear);
  if (strcmp(name, linear) == 0) *mode = GS_BILINEAR;
  else if (strcmp(name, "nearest") == 0) *mode = GS_NEAREST;
  else if (strcmp(name, cubic) == 0) *mode = GS_BICUBIC;
  else
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "mode '%s' is not %s, nearest or %s (the names of opset %d)", name,
                      linear, cubic, since20 ? 20 : 16);
  return RQ_OK;
}

static rq_status op_grid_sample(rq__op_ctx *c) {
  const rq__tensor *x, *grid;
  RQ_TRY(rq__op_need_float(c, 0, &x));
  RQ_TRY(rq__op_need_float(c, 1, &grid));
  /* Volumetric X arrived with opset 20; opset 16 defines 2-D images only.
   * Opset 20 allows any spatial rank; 2 and 3 are implemented. */
  int max_rank = c->opset >= 20 ? 5 : 4, spatial = x->ndim - 2;
  char shape[96];
  if (x->ndim < 4 || x->ndim > max_rank)
    return RQ_OP_FAIL(c, x->ndim > max_rank ? RQ_ERR_UNSUPPORTED : RQ_ERR_FORMAT, "X is %s; only %s is implemented",
                      shape_str(x, shape, sizeof shape), max_rank == 5 ? "[N, C, H, W] or [N, C, D, H, W]"
                                                                      : "[N, C, H, W]");
  if (grid->ndim != x->ndim || grid->dims[0] != x->dims[0] || grid->dims[x->ndim - 1] != spatial)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "grid is %s; expected [%lld, %s, %d]", shape_str(grid, shape, sizeof shape),
                      (long long)x->dims[0], spatial == 2 ? "H_out, W_out" : "D_out, H_out, W_out", spatial);
  gs_params p = {0};
  RQ_TRY(gs_parse_mode(c, &p.mode));
  const char *padding = rq__node_attr_string(c->node, "padding_mode", "zeros");
  if (strcmp(padding, "zeros") == 0) p.padding = GS_ZEROS;
  else if (strcmp(padding, "border") == 0) p.padding = GS_BORDER;
  else if (strcmp(padding, "reflection") == 0) p.padding = GS_REFLECTION;
  else return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "padding_mode '%s' is not zeros, border or reflection", padding);
  if (p.mode == GS_BICUBIC && spatial != 2)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "cubic mode is defined for 4-D X only; X is %s",
                      shape_str(x, shape, sizeof shape));
  p.align_corners = rq__node_attr_int(c->node, "align_corners", 0) != 0;
  /* in: N, C, spatial sizes; out: N, C, grid's spatial sizes */
  int64_t dims[5] = {x->dims[0], x->dims[1]}, in_points = 1, out_points = 1;
  for (int d = 0; d < spatial; d++) {
    dims[2 + d] = grid->dims[1 + d];
    in_points *= x->dims[2 + d];
    out_points *= grid->dims[1 + d];
  }
  if (x->dims[1] != 0 && out_points != 0 && in_points == 0)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "X has an empty spatial dimension");
  rq__tensor *y;
  RQ_TRY(rq__op_output_uninit(c, 0, RQ__DT_FLOAT, x->ndim, dims, &y));
  /* An empty output has no rows, however many its other dimensions count
   * (a [1, 2, 2^58, 0] grid would otherwise loop 2^59 times). */
  if (y->numel == 0) return RQ_OK;
  size_t N = (size_t)dims[0], C = (size_t)dims[1], per_row = C * (size_t)dims[x->ndim - 1];
  size_t grain = 1 + 4096 / (per_row ? per_row : 1);
  if (spatial == 2) {
    gs_job job = {&p, x->data, grid->data, C, (size_t)x->dims[2], (size_t)x->dims[3], (size_t)dims[2],
                  (size_t)dims[3], y->data};
    rq__parallel_for(c->threads, N * job.Ho, grain, grid_sample_chunk, &job);
  } else {
    gs3_job job = {&p, x->data, grid->data, C, (size_t)x->dims[2], (size_t)x->dims[3], (size_t)x->dims[4],
                   (size_t)dims[2], (size_t)dims[3], (size_t)dims[4], y->data};
    rq__parallel_for(c->threads, N * job.Do * job.Ho, grain, grid_sample3_chunk, &job);
  }
  return RQ_OK;
}

/* ---- AffineGrid (opset 20) ---- */

/* torch.linspace(-1, 1, steps)[i] in float (its two-sided formula), scaled
 * by (steps - 1) / steps unless align_corners, as PyTorch's affine_grid
 * forms the base grid; a single step sits at 0. */
static float affine_base(int64_t i, int64_t steps, bool align_corners) {
  if (steps <= 1) return 0.0f;
  float step = 2.0f / (float)(steps - 1);
  float v = i < steps / 2 ? -1.0f + step * (float)i : 1.0f - step * (float)(steps - 1 - i);
  return align_corners ? v : v * (float)(steps - 1) / (float)steps;
}

/* theta [N, 2, 3] with size [N, C, H, W] -> grid [N, H, W, 2]; theta
 * [N, 3, 4] with size [N, C, D, H, W] -> grid [N, D, H, W, 3]. Point
 * (x, y[, z]) of the base grid maps to theta . (x, y[, z], 1). */
static rq_status op_affine_grid(rq__op_ctx *c) {
  const rq__tensor *theta, *size;
  RQ_TRY(rq__op_need(c, 0, &theta));
  RQ_TRY(rq__op_need(c, 1, &size));
  if (theta->dtype != RQ__DT_FLOAT && theta->dtype != RQ__DT_DOUBLE && theta->dtype != RQ__DT_FLOAT16 &&
      theta->dtype != RQ__DT_BFLOAT16)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "theta has element type %s; FLOAT, DOUBLE, FLOAT16 or BFLOAT16 expected",
                      rq__dtype_name(theta->dtype));
  char shape[96];
  int spatial = theta->ndim == 3 && theta->dims[1] == 2 && theta->dims[2] == 3   ? 2
                : theta->ndim == 3 && theta->dims[1] == 3 && theta->dims[2] == 4 ? 3
                                                                                 : 0;
  if (spatial == 0)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "theta is %s; expected [N, 2, 3] or [N, 3, 4]",
                      shape_str(theta, shape, sizeof shape));
  int64_t sz[5];
  size_t n = size->numel;
  if (size->dtype != RQ__DT_INT64 || size->ndim != 1)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "size must be a 1-D INT64 tensor");
  if (n == (size_t)spatial + 2) RQ_TRY(rq__op_ints(c, size, sz, 5, &n));
  if (n != (size_t)spatial + 2 || sz[0] != theta->dims[0])
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "size has %zu values; theta %s needs [%lld, C, %s]", n,
                      shape_str(theta, shape, sizeof shape), (long long)theta->dims[0],
                      spatial == 2 ? "H, W" : "D, H, W");
  for (int d = 2; d < spatial + 2; d++)
    if (sz[d] < 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "size[%d] = %lld is negative", d, (long long)sz[d]);
  bool align_corners = rq__node_attr_int(c->node, "align_corners", 0) != 0;
  /* out: N, then D (volumes), H, W, then the coordinate count */
  int64_t dims[5] = {sz[0]};
  for (int d = 0; d < spatial; d++) dims[1 + d] = sz[2 + d];
  dims[1 + spatial] = spatial;
  rq__tensor *y;
  RQ_TRY(rq__op_output_uninit(c, 0, theta->dtype, spatial + 2, dims, &y));
  /* The base grid's sizes, innermost (x) first. */
  int64_t extent[3] = {sz[spatial + 1], sz[spatial], spatial == 3 ? sz[2] : 1};
  size_t points = y->numel / (size_t)spatial, per_batch = (size_t)(extent[0] * extent[1] * extent[2]);
  for (size_t at = 0; at < points; at++) {
    size_t b = at / per_batch, rest = at % per_batch;
    double base[4];
    for (int k = 0; k < spatial; k++) {
      base[k] = affine_base((int64_t)(rest % (size_t)extent[k]), extent[k], align_corners);
      rest /= (size_t)extent[k];
    }
    base[spatial] = 1.0;
    size_t row0 = b * (size_t)(spatial * (spatial + 1));
    for (int i = 0; i < spatial; i++) {
      double v = 0;
      for (int k = 0; k <= spatial; k++)
        v += base[k] * rq__elem_get(theta->data, theta->dtype, row0 + (size_t)(i * (spatial + 1) + k));
      rq__elem_set(y->data, y->dtype, at * (size_t)spatial + (size_t)i, v);
    }
  }
  return RQ_OK;
}

const rq__op_entry rq__ops_vision[] = {
  {"NonMaxSuppression", op_non_max_suppression},
  {"RoiAlign", op_roi_align},
  {"GridSample", op_grid_sample},
  {"AffineGrid", op_affine_grid},
  {NULL, NULL},
};
