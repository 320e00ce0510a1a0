/* SPDX-License-Identifier: Apache-2.0 */
/* DeformConv (opset 19): a convolution whose kernel taps sample X at
 * learned fractional offsets from their usual positions, by linear
 * interpolation along each spatial axis (bilinear in 2-D; corners outside
 * X count as zero), each sample optionally scaled by a mask value
 * (Deformable ConvNets v2). The offsets are shared by the C / offset_group
 * channels of an offset group. torchvision.ops.deform_conv2d computes the
 * same in 2-D.
 *
 * As Conv (ops_nn.c): a patch matrix ("deformable im2col": row c * K + k,
 * K the kernel size, holds channel c's samples at tap k, one column per
 * output position), then one GEMM per group. The sampling corners and
 * weights of a tap and output position depend only on the offset group, so
 * they are computed once and applied to each of its channels. FLOAT only;
 * any number of spatial dimensions. */
#include "exec/exec.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_SP (RQ__MAX_RANK - 2)

typedef struct deform_geom {
  int n;                                            /* spatial dimensions */
  int64_t in[MAX_SP], k[MAX_SP], s[MAX_SP], d[MAX_SP], pb[MAX_SP], out[MAX_SP];
  size_t in_size, k_size, out_size;                 /* products */
} deform_geom;

/* Kernel (from W, checked against kernel_shape), strides, dilations, pads
 * and the output size of X under them (Conv's arithmetic; DeformConv has no
 * auto_pad). */
static rq_status read_geometry(const rq__op_ctx *c, const rq__tensor *x, const rq__tensor *w, deform_geom *g) {
  int n = g->n = x->ndim - 2;
  for (int i = 0; i < n; i++) {
    g->in[i] = x->dims[2 + i];
    g->k[i] = w->dims[2 + i];
  }
  size_t count;
  const int64_t *ks = rq__node_attr_ints(c->node, "kernel_shape", &count);
  if (ks != NULL && (count != (size_t)n || memcmp(ks, g->k, sizeof *ks * count) != 0))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "kernel_shape does not match W's spatial dimensions");
  int64_t pads[2 * MAX_SP];
  RQ_TRY(rq__op_attr_ints(c, "strides", n, 1, g->s));
  RQ_TRY(rq__op_attr_ints(c, "dilations", n, 1, g->d));
  RQ_TRY(rq__op_attr_ints(c, "pads", 2 * n, 0, pads));
  g->in_size = g->k_size = g->out_size = 1;
  /* Bounds far beyond real models that keep the int64 arithmetic below
   * (and the sample positions in double) exact. */
  const int64_t lim = (int64_t)1 << 30;
  for (int i = 0; i < n; i++) {
    g->pb[i] = pads[i];
    int64_t pe = pads[n + i];
    if (g->k[i] < 1 || g->s[i] < 1 || g->d[i] < 1)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "kernel sizes, strides and dilations must be positive");
    if (g->pb[i] < 0 || pe < 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "pads must not be negative");
    if (g->k[i] > lim || g->s[i] > lim || g->d[i] > lim || g->pb[i] > lim || pe > lim || g->in[i] > lim)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "kernel, strides, dilations, pads or input size are absurdly large");
    int64_t span = (g->k[i] - 1) * g->d[i] + 1, room = g->in[i] + g->pb[i] + pe - span;
    if (room < 0)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "kernel (extent %lld) is larger than the padded input (%lld) on axis %d",
                        (long long)span, (long long)(g->in[i] + g->pb[i] + pe), 2 + i);
    g->out[i] = room / g->s[i] + 1;
    if (!rq__mul_size(g->k_size, (size_t)g->k[i], &g->k_size) ||
        !rq__mul_size(g->out_size, (size_t)g->out[i], &g->out_size))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "kernel or output too large");
    g->in_size *= (size_t)g->in[i]; /* X exists, so its element count fits */
  }
  return RQ_OK;
}

/* The input tensor i as FLOAT of X's rank with dims[0] = N, dims[1] =
 * channels and the output's spatial size (offset and mask). */
static rq_status check_per_position(const rq__op_ctx *c, const rq__tensor *t, const char *name, const rq__tensor *x,
                                    const deform_geom *g, size_t channels, const char *channels_rule) {
  if (t->dtype != RQ__DT_FLOAT)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%s must be FLOAT (X's type), got %s", name, rq__dtype_name(t->dtype));
  bool ok = t->ndim == x->ndim && t->dims[0] == x->dims[0] && (uint64_t)t->dims[1] == (uint64_t)channels;
  for (int i = 0; ok && i < g->n; i++) ok = t->dims[2 + i] == g->out[i];
  if (!ok) {
    char want[160];
    int len = snprintf(want, sizeof want, "[%lld, %zu", (long long)x->dims[0], channels);
    for (int i = 0; i < g->n && len > 0 && (size_t)len < sizeof want; i++)
      len += snprintf(want + len, sizeof want - (size_t)len, ", %lld", (long long)g->out[i]);
    if (len > 0 && (size_t)len < sizeof want - 1) snprintf(want + len, sizeof want - (size_t)len, "]");
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%s must have shape %s (N, %s, output size)", name, want, channels_rule);
  }
  return RQ_OK;
}

/* Sampling tables are built for up to SAMPLE_SLOTS (corner, position)
 * pairs at a time, on the stack of whichever thread fills the rows. */
#define SAMPLE_SLOTS 2048

typedef struct deform_job {
  const float *x;      /* one image, [C, in...] */
  const float *offset; /* its offsets, [offset_group * K * n, P] */
  const float *mask;   /* its mask, [offset_group * K, P], or NULL */
  const deform_geom *g;
  size_t channels_per_offset_group;
  size_t p_begin, p_end; /* the block of output positions in col */
  float *col;            /* [C * K, p_end - p_begin] */
} deform_job;

/* Fills the col rows of taps t in [begin, end), t = offset group * K + k:
 * rows c * K + k for the channels c of that offset group. */
static void deform_im2col_chunk(void *arg, size_t begin, size_t end) {
  const deform_job *j = arg;
  const deform_geom *g = j->g;
  int n = g->n;
  size_t K = g->k_size, P = g->out_size, width = j->p_end - j->p_begin, corners = (size_t)1 << n;
  size_t per_batch = SAMPLE_SLOTS / corners;
  size_t idx[SAMPLE_SLOTS];
  float wt[SAMPLE_SLOTS];
  for (size_t t = begin; t < end; t++) {
    size_t og = t / K, k = t % K;
    int64_t kidx[MAX_SP];
    size_t kr = k;
    for (int i = n - 1; i >= 0; i--) {
      kidx[i] = (int64_t)(kr % (size_t)g->k[i]);
      kr /= (size_t)g->k[i];
    }
    const float *off = j->offset + t * (size_t)n * P;
    const float *mask = j->mask != NULL ? j->mask + t * P : NULL;
    for (size_t p0 = j->p_begin; p0 < j->p_end; p0 += per_batch) {
      size_t p1 = p0 + per_batch < j->p_end ? p0 + per_batch : j->p_end;
      for (size_t p = p0; p < p1; p++) {
        /* Sample position of tap k at output p along each axis, its lower
         * grid neighbour and the fraction above it. */
        int64_t lo[MAX_SP];
        float frac[MAX_SP];
        bool inside = true;
        size_t pr = p;
        for (int i = n - 1; i >= 0; i--) {
          int64_t o = (int64_t)(pr % (size_t)g->out[i]);
          pr /= (size_t)g->out[i];
          /* In float, as torchvision (the offsets are floats anyway). */
          float pos = (float)(o * g->s[i] - g->pb[i] + kidx[i] * g->d[i]) + off[(size_t)i * P + p];
          /* At or beyond one pixel outside X every corner is outside (and
           * NaN is nowhere): the sample is 0. */
          if (!(pos > -1.0f && pos < (float)g->in[i])) {
            inside = false;
            break;
          }
          float f = floorf(pos);
          lo[i] = (int64_t)f;
          frac[i] = pos - f;
        }
        size_t *ip = idx + (p - p0) * corners;
        float *wp = wt + (p - p0) * corners;
        for (size_t cn = 0; cn < corners; cn++) {
          /* Corner cn takes the upper neighbour along axis i when bit
           * (n - 1 - i) is set; a corner outside X weighs 0. */
          float w = inside ? 1.0f : 0.0f;
          size_t flat = 0;
          for (int i = 0; i < n && w != 0.0f; i++) {
            bool up = (cn >> (n - 1 - i)) & 1;
            int64_t q = lo[i] + up;
            if (q < 0 || q >= g->in[i]) {
              w = 0.0f;
              break;
            }
            w *= up ? frac[i] : 1.0f - frac[i];
            flat = flat * (size_t)g->in[i] + (size_t)q;
          }
          /* Zero-weight corners are skipped below, so their index is never
           * read (and X may have no elements at all). */
          ip[cn] = w != 0.0f ? flat : 0;
          wp[cn] = w;
        }
      }
      size_t c0 = og * j->channels_per_offset_group;
      for (size_t ch = c0; ch < c0 + j->channels_per_offset_group; ch++) {
        const float *xc = j->x + ch * g->in_size;
        float *row = j->col + (ch * K + k) * width;
        for (size_t p = p0; p < p1; p++) {
          const size_t *ip = idx + (p - p0) * corners;
          const float *wp = wt + (p - p0) * corners;
          float v = 0.0f;
          if (corners == 4) { /* 2-D, unrolled: the common case */
            if (wp[0] != 0.0f) v += wp[0] * xc[ip[0]];
            if (wp[1] != 0.0f) v += wp[1] * xc[ip[1]];
            if (wp[2] != 0.0f) v += wp[2] * xc[ip[2]];
            if (wp[3] != 0.0f) v += wp[3] * xc[ip[3]];
          } else {
            for (size_t cn = 0; cn < corners; cn++)
              if (wp[cn] != 0.0f) v += wp[cn] * xc[ip[cn]];
          }
          /* The mask scales the interpolated value (torchvision's order). */
          row[p - j->p_begin] = mask != NULL ? mask[p] * v : v;
        }
      }
    }
  }
}

static rq_status op_deform_conv(rq__op_ctx *c) {
  const rq__tensor *x, *w, *offset, *b = rq__op_in(c, 3), *mask = rq__op_in(c, 4);
  RQ_TRY(rq__op_need_float(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &w));
  RQ_TRY(rq__op_need(c, 2, &offset));
  if (w->dtype != RQ__DT_FLOAT)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "W must be FLOAT (X's type), got %s", rq__dtype_name(w->dtype));
  if (x->ndim < 3 || w->ndim != x->ndim)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "X (rank %d) and W (rank %d) must have one equal rank of 3 or more",
                      x->ndim, w->ndim);
  deform_geom g;
  RQ_TRY(read_geometry(c, x, w, &g));
  int64_t N = x->dims[0], C = x->dims[1], M = w->dims[0];
  int64_t group = rq__node_attr_int(c->node, "group", 1), offset_group = rq__node_attr_int(c->node, "offset_group", 1);
  if (group < 1 || C % group != 0 || M % group != 0 || w->dims[1] != C / group)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT,
                      "group %lld must be positive and divide X's %lld channels and W's %lld output channels, "
                      "and W's dimension 1 (%lld) must be C / group",
                      (long long)group, (long long)C, (long long)M, (long long)w->dims[1]);
  if (offset_group < 1 || C % offset_group != 0)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "offset_group %lld must be positive and divide X's %lld channels",
                      (long long)offset_group, (long long)C);
  size_t K = g.k_size, P = g.out_size, taps, offset_channels;
  if (!rq__mul_size((size_t)offset_group, K, &taps) || !rq__mul_size(taps, (size_t)g.n, &offset_channels))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "offset_group %lld times the kernel size overflows", (long long)offset_group);
  RQ_TRY(check_per_position(c, offset, "offset", x, &g, offset_channels, "offset_group * kernel size * spatial rank"));
  if (mask != NULL) RQ_TRY(check_per_position(c, mask, "mask", x, &g, taps, "offset_group * kernel size"));
  if (b != NULL && (b->dtype != RQ__DT_FLOAT || b->ndim != 1 || b->dims[0] != M))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "B must be a FLOAT vector of W's %lld output channels", (long long)M);
  int64_t ydims[RQ__MAX_RANK] = {N, M};
  for (int i = 0; i < g.n; i++) ydims[2 + i] = g.out[i];
  rq__tensor *y;
  /* Every element is written below: the GEMM runs with beta 0. */
  RQ_TRY(rq__op_output_uninit(c, 0, RQ__DT_FLOAT, x->ndim, ydims, &y));
  if (y->numel == 0) return RQ_OK;
  size_t rows = (size_t)C * K, cg = (size_t)(C / group), mg = (size_t)(M / group);
  const float *xd = x->data, *wd = w->data, *bd = b != NULL ? b->data : NULL;
  float *yd = y->data;
  /* Output positions in blocks of about 2 MiB of patch matrix (as Conv:
   * it stays in cache between the fill and the GEMM), at least 64 columns
   * so the GEMM is not too narrow. */
  size_t block = rows == 0 ? P : 524288 / rows;
  if (block < 64) block = 64;
  if (block > P) block = P;
  size_t col_bytes = 1;
  if (!rq__mul_size(rows, block, &col_bytes) || !rq__mul_size(col_bytes, sizeof(float), &col_bytes))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "the patch matrix of %lld channels and kernel size %zu is too large",
                      (long long)C, K);
  float *col = rq__pool_alloc(c->pool, col_bytes ? col_bytes : 1);
  if (col == NULL) return rq__nomem("DeformConv", col_bytes);
  for (size_t img = 0; img < (size_t)N; img++) {
    deform_job job = {.x = xd + img * (size_t)C * g.in_size, .offset = (const float *)offset->data + img * offset_channels * P,
                      .mask = mask != NULL ? (const float *)mask->data + img * taps * P : NULL, .g = &g,
                      .channels_per_offset_group = (size_t)(C / offset_group), .col = col};
    for (size_t p0 = 0; p0 < P; p0 += block) {
      size_t width = P - p0 < block ? P - p0 : block;
      job.p_begin = p0;
      job.p_end = p0 + width;
      if (rows > 0) rq__parallel_for(c->threads, taps, 1, deform_im2col_chunk, &job);
      for (size_t gi = 0; gi < (size_t)group; gi++) {
        float *yb = yd + (img * (size_t)M + gi * mg) * P + p0;
        rq__sgemm(false, false, mg, width, cg * K, 1.0f, wd + gi * mg * cg * K, cg * K, col + gi * cg * K * width,
                  width, 0.0f, yb, P);
      }
      if (bd != NULL)
        for (size_t m = 0; m < (size_t)M; m++) {
          float *yr = yd + (img * (size_t)M + m) * P + p0;
          for (size_t p = 0; p < width; p++) yr[p] += bd[m];
        }
    }
  }
  rq__pool_release(c->pool, col, col_bytes ? col_bytes : 1);
  return RQ_OK;
}

const rq__op_entry rq__ops_deform[] = {
  {"DeformConv", op_deform_conv},
  {NULL, NULL},
};
