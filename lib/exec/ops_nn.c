/* SPDX-License-Identifier: Apache-2.0 */
/* Neural-network ops: Conv / ConvTranspose (im2col + GEMM), Gemm, MatMul,
 * pooling, BatchNormalization, LayerNormalization, the Reduce* family.
 * FLOAT only; any number of spatial dimensions up to the IR's rank limit. */
#include "exec/depthwise.h"
#include "exec/exec.h"

#include <math.h>
#include <string.h>

#define MAX_SP (RQ__MAX_RANK - 2)

/* ---- spatial geometry shared by Conv, ConvTranspose and the pools ---- */

typedef struct spatial {
  int n;                                /* spatial dimensions */
  int64_t in[MAX_SP], k[MAX_SP], s[MAX_SP], d[MAX_SP], pb[MAX_SP], pe[MAX_SP], out[MAX_SP];
  size_t in_size, k_size, out_size;     /* products */
} spatial;

/* Bounds that keep every size computation far from int64 overflow; real
 * models are many orders of magnitude below them. */
static bool geometry_sane(int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe) {
  const int64_t lim = (int64_t)1 << 30;
  return k <= lim && s <= lim && d <= lim && pb <= lim && pe <= lim && pb >= -lim && pe >= -lim;
}

/* Reads strides, dilations, pads and auto_pad and computes the output size
 * (Conv and pooling arithmetic; ceil_mode only for pools). kernel[] must be
 * filled by the caller. */
static rq_status spatial_forward(const rq__op_ctx *c, const rq__tensor *x, spatial *sp, bool ceil_mode) {
  int n = sp->n;
  for (int i = 0; i < n; i++) sp->in[i] = x->dims[2 + i];
  RQ_TRY(rq__op_attr_ints(c, "strides", n, 1, sp->s));
  RQ_TRY(rq__op_attr_ints(c, "dilations", n, 1, sp->d));
  int64_t pads[2 * MAX_SP];
  RQ_TRY(rq__op_attr_ints(c, "pads", 2 * n, 0, pads));
  const char *auto_pad = rq__node_attr_string(c->node, "auto_pad", "NOTSET");
  sp->in_size = sp->k_size = sp->out_size = 1;
  for (int i = 0; i < n; i++) {
    if (sp->s[i] < 1 || sp->d[i] < 1 || sp->k[i] < 1)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "kernel, strides and dilations must be positive");
    if (!geometry_sane(sp->k[i], sp->s[i], sp->d[i], pads[i], pads[n + i]))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "kernel, strides, dilations or pads are absurdly large");
    int64_t span = (sp->k[i] - 1) * sp->d[i] + 1;
    if (strcmp(auto_pad, "SAME_UPPER") == 0 || strcmp(auto_pad, "SAME_LOWER") == 0) {
      int64_t out = (sp->in[i] + sp->s[i] - 1) / sp->s[i];
      int64_t total = (out - 1) * sp->s[i] + span - sp->in[i];
      if (total < 0) total = 0;
      sp->pb[i] = auto_pad[5] == 'U' ? total / 2 : total - total / 2;
      sp->pe[i] = total - sp->pb[i];
    } else if (strcmp(auto_pad, "VALID") == 0) {
      sp->pb[i] = sp->pe[i] = 0;
    } else if (strcmp(auto_pad, "NOTSET") == 0) {
      sp->pb[i] = pads[i];
      sp->pe[i] = pads[n + i];
      if (sp->pb[i] < 0 || sp->pe[i] < 0) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "negative pads");
    } else {
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "auto_pad '%s' is not an ONNX value", auto_pad);
    }
    int64_t room = sp->in[i] + sp->pb[i] + sp->pe[i] - span;
    if (room < 0)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "kernel (extent %lld) is larger than the padded input (%lld)",
                        (long long)span, (long long)(sp->in[i] + sp->pb[i] + sp->pe[i]));
    int64_t out = (ceil_mode ? (room + sp->s[i] - 1) / sp->s[i] : room / sp->s[i]) + 1;
    /* PyTorch's rule: the last window must start inside the input or its
     * left padding, never in the right padding alone. */
    if (ceil_mode && (out - 1) * sp->s[i] >= sp->in[i] + sp->pb[i]) out--;
    sp->out[i] = out;
    sp->in_size *= (size_t)sp->in[i];
    sp->out_size *= (size_t)out;
    if (!rq__mul_size(sp->k_size, (size_t)sp->k[i], &sp->k_size) || sp->k_size > ((size_t)1 << 40))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "kernel too large");
  }
  return RQ_OK;
}

/* Splits a flat index into a multi-index over dims[0..n). */
static void unravel(size_t flat, int n, const int64_t *dims, int64_t *idx) {
  for (int i = n - 1; i >= 0; i--) {
    idx[i] = (int64_t)(flat % (size_t)dims[i]);
    flat /= (size_t)dims[i];
  }
}

/* Output positions j in [0, len) whose input position j*s + start falls in
 * [0, w): the range [*lo, *hi). */
static void valid_range(int64_t start, int64_t s, int64_t w, size_t len, size_t *lo, size_t *hi) {
  int64_t a = start >= 0 ? 0 : (-start + s - 1) / s;        /* first j with j*s + start >= 0 */
  int64_t b = w - start <= 0 ? 0 : (w - start + s - 1) / s; /* first j with j*s + start >= w */
  if (a > (int64_t)len) a = (int64_t)len;
  if (b > (int64_t)len) b = (int64_t)len;
  if (b < a) b = a;
  *lo = (size_t)a;
  *hi = (size_t)b;
}

/* im2col for 2-D convolutions, the common case, without the n-D index
 * arithmetic: each tap's column range is computed once, and rows are
 * copied by plain loops (short rows make memcpy calls the larger cost). */
static void im2col2d(const float *x, const spatial *sp, size_t ch_begin, size_t ch_end, size_t r_begin,
                     size_t r_end, size_t width, float *col) {
  int64_t H = sp->in[0], W = sp->in[1], OW = sp->out[1], KH = sp->k[0], KW = sp->k[1];
  int64_t SH = sp->s[0], SW = sp->s[1], DH = sp->d[0], DW = sp->d[1], PH = sp->pb[0], PW = sp->pb[1];
  for (size_t ch = ch_begin; ch < ch_end; ch++) {
    const float *xc = x + ch * (size_t)(H * W);
    for (int64_t kh = 0; kh < KH; kh++) {
      for (int64_t kw = 0; kw < KW; kw++) {
        float *row = col + (ch * (size_t)(KH * KW) + (size_t)(kh * KW + kw)) * width;
        int64_t start = kw * DW - PW;
        size_t lo, hi;
        valid_range(start, SW, W, (size_t)OW, &lo, &hi);
        for (size_t oh = r_begin; oh < r_end; oh++) {
          float *restrict dst = row + (oh - r_begin) * (size_t)OW;
          int64_t ih = (int64_t)oh * SH - PH + kh * DH;
          if (ih < 0 || ih >= H) {
            for (int64_t j = 0; j < OW; j++) dst[j] = 0.0f;
            continue;
          }
          const float *restrict src = xc + ih * W + start;
          for (size_t j = 0; j < lo; j++) dst[j] = 0.0f;
          if (SW == 1) {
            for (size_t j = lo; j < hi; j++) dst[j] = src[j];
          } else if (SW == 2) {
            for (size_t j = lo; j < hi; j++) dst[j] = src[2 * j];
          } else {
            for (size_t j = lo; j < hi; j++) dst[j] = src[(int64_t)j * SW];
          }
          for (size_t j = hi; j < (size_t)OW; j++) dst[j] = 0.0f;
        }
      }
    }
  }
}

/* im2col of the output rows [r_begin, r_end) (a row: one position of all
 * but the last spatial dimension): x is one group's channels [cg, in...];
 * col is [cg*K, (r_end - r_begin) * out[last]] with rows `width` floats
 * apart (wider when several images share col side by side). */
static void im2col(const float *x, const spatial *sp, size_t ch_begin, size_t ch_end, size_t r_begin,
                   size_t r_end, size_t width, float *col) {
  int n = sp->n;
  size_t K = sp->k_size, last = (size_t)sp->out[n - 1];
  int64_t kidx[MAX_SP], oidx[MAX_SP];
  for (size_t ch = ch_begin; ch < ch_end; ch++) {
    for (size_t kk = 0; kk < K; kk++) {
      unravel(kk, n, sp->k, kidx);
      float *row = col + (ch * K + kk) * width - r_begin * last;
      for (size_t op = r_begin; op < r_end; op++) {
        unravel(op, n - 1, sp->out, oidx);
        bool valid = true;
        size_t off = 0;
        for (int i = 0; i < n - 1; i++) {
          int64_t pos = oidx[i] * sp->s[i] - sp->pb[i] + kidx[i] * sp->d[i];
          if (pos < 0 || pos >= sp->in[i]) valid = false;
          off = off * (size_t)sp->in[i] + (size_t)(valid ? pos : 0);
        }
        float *dst = row + op * last;
        if (!valid) {
          memset(dst, 0, last * sizeof *dst);
          continue;
        }
        const float *src = x + ch * sp->in_size + off * (size_t)sp->in[n - 1];
        int64_t start = kidx[n - 1] * sp->d[n - 1] - sp->pb[n - 1], s = sp->s[n - 1], w = sp->in[n - 1];
        size_t lo, hi;
        valid_range(start, s, w, last, &lo, &hi);
        if (lo > 0) memset(dst, 0, lo * sizeof *dst);
        if (s == 1) {
          if (hi > lo) memcpy(dst + lo, src + start + (int64_t)lo, (hi - lo) * sizeof *dst);
        } else {
          for (size_t j = lo; j < hi; j++) dst[j] = src[(int64_t)j * s + start];
        }
        if (hi < last) memset(dst + hi, 0, (last - hi) * sizeof *dst);
      }
    }
  }
}

void rq__clamp_floats(float *y, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; i++) {
    float v = y[i] < lo ? lo : y[i];
    y[i] = v > hi ? hi : v;
  }
}

/* The depthwise kernel for this CPU: AVX2 where the build has it and the
 * CPU runs it (same results either way). */
typedef void (*depthwise_fn)(const rq__dw_args *a, size_t m_begin, size_t m_end);
static depthwise_fn depthwise_kernel(void) {
#ifdef RQ_EXEC_HAVE_DW_AVX2
  if (__builtin_cpu_supports("avx2")) return rq__depthwise_avx2;
#endif
  return rq__depthwise_generic;
}

/* col2im for ConvTranspose: col [mg*K, IN] (IN = input positions) is added
 * into y [mg, out...] at out = in*s - pb + k*d. Here sp->in/out are the
 * ConvTranspose's input and output sizes. */
static void col2im(const float *col, const spatial *sp, size_t mg, float *y) {
  int n = sp->n;
  size_t K = sp->k_size, IN = sp->in_size;
  int64_t kidx[MAX_SP], iidx[MAX_SP];
  for (size_t m = 0; m < mg; m++) {
    for (size_t kk = 0; kk < K; kk++) {
      unravel(kk, n, sp->k, kidx);
      const float *row = col + (m * K + kk) * IN;
      for (size_t p = 0; p < IN; p++) {
        unravel(p, n, sp->in, iidx);
        size_t off = 0;
        bool valid = true;
        for (int i = 0; i < n && valid; i++) {
          int64_t pos = iidx[i] * sp->s[i] - sp->pb[i] + kidx[i] * sp->d[i];
          if (pos < 0 || pos >= sp->out[i]) valid = false;
          off = off * (size_t)sp->out[i] + (size_t)pos;
        }
        if (valid) y[m * sp->out_size + off] += row[p];
      }
    }
  }
}

static rq_status conv_inputs(rq__op_ctx *c, const rq__tensor **x, const rq__tensor **w, const rq__tensor **b) {
  RQ_TRY(rq__op_need_float(c, 0, x));
  RQ_TRY(rq__op_need_float(c, 1, w));
  *b = rq__op_in(c, 2);
  if ((*x)->ndim < 3 || (*x)->ndim != (*w)->ndim)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input rank %d / weight rank %d: expected equal ranks >= 3",
                      (*x)->ndim, (*w)->ndim);
  if (*b != NULL && ((*b)->dtype != RQ__DT_FLOAT || (*b)->ndim != 1))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "bias must be a 1-D FLOAT tensor");
  return RQ_OK;
}

static rq_status kernel_shape(rq__op_ctx *c, const rq__tensor *w, spatial *sp) {
  sp->n = w->ndim - 2;
  for (int i = 0; i < sp->n; i++) sp->k[i] = w->dims[2 + i];
  size_t count;
  const int64_t *ks = rq__node_attr_ints(c->node, "kernel_shape", &count);
  if (ks != NULL && (count != (size_t)sp->n || memcmp(ks, sp->k, sizeof *ks * count) != 0))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "kernel_shape does not match the weight's shape");
  return RQ_OK;
}

/* Thread-chunk adapters: each chunk is a range of channels. */
typedef struct conv_job {
  const float *x;
  const spatial *sp;
  size_t r_begin, r_end;
  size_t width; /* floats from one im2col row to the next */
  float *out;
} conv_job;

typedef struct depthwise_job {
  depthwise_fn fn;
  rq__dw_args args;
} depthwise_job;

static void depthwise_chunk(void *arg, size_t begin, size_t end) {
  depthwise_job *j = arg;
  j->fn(&j->args, begin, end);
}

static void im2col_chunk(void *arg, size_t begin, size_t end) {
  conv_job *j = arg;
  if (j->sp->n == 2)
    im2col2d(j->x, j->sp, begin, end, j->r_begin, j->r_end, j->width, j->out);
  else
    im2col(j->x, j->sp, begin, end, j->r_begin, j->r_end, j->width, j->out);
}

rq_status rq__conv_patch_shape(const rq__node *node, const rq__tensor *x, const rq__tensor *w, size_t *groups,
                               size_t *rows, size_t *positions) {
  rq__op_ctx c = {.node = node};
  spatial sp = {0};
  if (x->ndim < 3 || x->ndim != w->ndim || x->ndim - 2 > MAX_SP)
    return RQ_OP_FAIL(&c, RQ_ERR_FORMAT, "input rank %d / weight rank %d: expected equal ranks >= 3", x->ndim,
                      w->ndim);
  RQ_TRY(kernel_shape(&c, w, &sp));
  RQ_TRY(spatial_forward(&c, x, &sp, false));
  int64_t group = rq__node_attr_int(node, "group", 1), C = x->dims[1];
  if (group < 1 || C % group != 0 || w->dims[0] % group != 0 || w->dims[1] != C / group)
    return RQ_OP_FAIL(&c, RQ_ERR_FORMAT, "group %lld does not fit %lld input channels", (long long)group,
                      (long long)C);
  *groups = (size_t)group;
  *rows = (size_t)(C / group) * sp.k_size;
  *positions = sp.out_size;
  return RQ_OK;
}

rq_status rq__conv_patches(const rq__node *node, const rq__tensor *x, const rq__tensor *w, size_t image,
                           size_t group, float *col, size_t width) {
  rq__op_ctx c = {.node = node};
  spatial sp = {0};
  RQ_TRY(kernel_shape(&c, w, &sp));
  RQ_TRY(spatial_forward(&c, x, &sp, false));
  size_t cg = (size_t)w->dims[1], C = (size_t)x->dims[1];
  conv_job job = {.x = (const float *)x->data + (image * C + group * cg) * sp.in_size, .sp = &sp, .r_begin = 0,
                  .r_end = sp.out_size / (size_t)sp.out[sp.n - 1], .width = width, .out = col};
  im2col_chunk(&job, 0, cg);
  return RQ_OK;
}

/* Convolution (group 1, im2col) of `imgs` images at a time: their im2col
 * columns side by side in one buffer, one GEMM into scratch, then each
 * image's part copied out with the bias and the folded clamp. Deep layers
 * have small images (ResNet-18's 7x7: a GEMM 49 columns wide), and OpenBLAS
 * runs a GEMM that narrow at ~80% of its speed on one ~8x wider. */
static rq_status conv_images(rq__op_ctx *c, const float *xd, const float *wd, const float *bd, const spatial *sp,
                             size_t N, size_t C, size_t M, size_t imgs, float *yd) {
  size_t K = sp->k_size, P = sp->out_size, rows = C * K, width = imgs * P;
  size_t col_bytes = rows * width * sizeof(float), out_bytes = M * width * sizeof(float);
  float *col = rq__pool_alloc(c->pool, col_bytes), *tmp = rq__pool_alloc(c->pool, out_bytes);
  if (col == NULL || tmp == NULL) {
    rq__pool_release(c->pool, col, col_bytes);
    rq__pool_release(c->pool, tmp, out_bytes);
    return rq__nomem("Conv", col_bytes + out_bytes);
  }
  size_t out_rows = P / (size_t)sp->out[sp->n - 1];
  for (size_t n0 = 0; n0 < N; n0 += imgs) {
    size_t k = N - n0 < imgs ? N - n0 : imgs;
    for (size_t i = 0; i < k; i++) {
      conv_job job = {.x = xd + (n0 + i) * C * sp->in_size, .sp = sp, .r_begin = 0, .r_end = out_rows,
                      .width = width, .out = col + i * P};
      rq__parallel_for(c->threads, C, 1, im2col_chunk, &job);
    }
    rq__sgemm(false, false, M, k * P, rows, 1.0f, wd, rows, col, width, 0.0f, tmp, width);
    for (size_t i = 0; i < k; i++) {
      for (size_t m = 0; m < M; m++) {
        float *dst = yd + ((n0 + i) * M + m) * P;
        const float *src = tmp + m * width + i * P;
        float bias = bd != NULL ? bd[m] : 0.0f;
        for (size_t p = 0; p < P; p++) dst[p] = src[p] + bias;
        if (c->act) rq__clamp_floats(dst, P, c->act_lo, c->act_hi);
      }
    }
  }
  rq__pool_release(c->pool, col, col_bytes);
  rq__pool_release(c->pool, tmp, out_bytes);
  return RQ_OK;
}

static rq_status op_conv(rq__op_ctx *c) {
  const rq__tensor *x, *w, *b;
  RQ_TRY(conv_inputs(c, &x, &w, &b));
  spatial sp = {0};
  RQ_TRY(kernel_shape(c, w, &sp));
  RQ_TRY(spatial_forward(c, x, &sp, false));
  int64_t group = rq__node_attr_int(c->node, "group", 1);
  int64_t N = x->dims[0], C = x->dims[1], M = w->dims[0];
  if (group < 1 || C % group != 0 || M % group != 0 || w->dims[1] != C / group)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "group %lld does not fit %lld input / %lld output channels (weight has %lld)",
                      (long long)group, (long long)C, (long long)M, (long long)w->dims[1]);
  if (b != NULL && b->dims[0] != M) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "bias has %lld values, expected %lld",
                                                      (long long)b->dims[0], (long long)M);
  int64_t ydims[RQ__MAX_RANK] = {N, M};
  for (int i = 0; i < sp.n; i++) ydims[2 + i] = sp.out[i];
  rq__tensor *y;
  /* Every element is written below (depthwise rows start at the bias, the
   * GEMM runs with beta 0). */
  RQ_TRY(rq__op_output_uninit(c, 0, RQ__DT_FLOAT, x->ndim, ydims, &y));
  size_t cg = (size_t)(C / group), mg = (size_t)(M / group), K = sp.k_size, P = sp.out_size;
  bool pointwise = K == 1;
  for (int i = 0; i < sp.n; i++)
    pointwise = pointwise && sp.s[i] == 1 && sp.pb[i] == 0 && sp.pe[i] == 0;
  const float *xd = x->data, *wd = w->data, *bd = b ? b->data : NULL;
  float *yd = y->data;
  if (cg == 1 && sp.n <= 2 && (size_t)group == (size_t)C) {
    bool two = sp.n == 2;
    rq__dw_args dw = {
      .w = wd, .bias = bd, .mult = mg, .act = c->act, .lo = c->act_lo, .hi = c->act_hi,
      .H = two ? sp.in[0] : 1, .OH = two ? sp.out[0] : 1, .KH = two ? sp.k[0] : 1,
      .SH = two ? sp.s[0] : 1, .DH = two ? sp.d[0] : 1, .PH = two ? sp.pb[0] : 0,
      .W = sp.in[sp.n - 1], .OW = sp.out[sp.n - 1], .KW = sp.k[sp.n - 1],
      .SW = sp.s[sp.n - 1], .DW = sp.d[sp.n - 1], .PW = sp.pb[sp.n - 1],
    };
    depthwise_job job = {depthwise_kernel(), dw};
    for (int64_t n = 0; n < N; n++) {
      job.args.x = xd + (size_t)n * (size_t)C * sp.in_size;
      job.args.y = yd + (size_t)n * (size_t)M * P;
      rq__parallel_for(c->threads, (size_t)M, 1, depthwise_chunk, &job);
    }
    return RQ_OK;
  }
  bool act = c->act;
  /* The GEMM goes over blocks of output columns: for im2col, whole output
   * rows with about 2 MiB of columns (bounded scratch that stays in the
   * last-level cache; much smaller blocks make OpenBLAS slower than they
   * save); for 1x1 convolutions that read the input in place, about
   * 256 KiB of output, so the bias (written first; the GEMM accumulates
   * onto it with beta 1, so OpenBLAS skips its zeroing pass) and the clamp
   * find the block in cache. */
  size_t last = (size_t)sp.out[sp.n - 1], block = P, rows_per_block = 0;
  if (!pointwise && last > 0) {
    size_t per_row = cg * K * last; /* floats of im2col per output row */
    rows_per_block = per_row >= 524288 ? 1 : 524288 / per_row; /* 2 MiB of floats */
    block = rows_per_block * last < P ? rows_per_block * last : P;
  } else if (bd != NULL || act) {
    block = ((size_t)65536 / (mg ? mg : 1) + 63) / 64 * 64;
    if (block < 256) block = 256;
    if (block > P) block = P;
  }
  /* Images whose whole im2col fits in a block, up to 8 MiB of it, share
   * one GEMM when there are few output positions per image. */
  if (!pointwise && group == 1 && block == P && P < 1024 && N > 1 && y->numel > 0) {
    size_t imgs = (size_t)2097152 / (cg * K * P);
    if (imgs > (size_t)N) imgs = (size_t)N;
    if (imgs > 1) return conv_images(c, xd, wd, bd, &sp, (size_t)N, (size_t)C, (size_t)M, imgs, yd);
  }
  float *col = NULL;
  size_t col_bytes = 0;
  if (!pointwise && y->numel > 0) {
    size_t rows;
    if (!rq__mul_size(cg, K, &rows) || !rq__mul_size(rows, block * sizeof *col, &col_bytes))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "im2col buffer size overflows");
    col = rq__pool_alloc(c->pool, col_bytes);
    if (col == NULL) return rq__nomem("Conv", col_bytes);
  }
  for (int64_t n = 0; n < N && y->numel > 0; n++) {
    for (int64_t g = 0; g < group; g++) {
      const float *xg = xd + ((size_t)n * (size_t)C + (size_t)g * cg) * sp.in_size;
      float *yg = yd + ((size_t)n * (size_t)M + (size_t)g * mg) * P;
      const float *wg = wd + (size_t)g * mg * cg * K, *bg = bd ? bd + (size_t)g * mg : NULL;
      for (size_t p0 = 0; p0 < P; p0 += block) {
        size_t nb = P - p0 < block ? P - p0 : block;
        const float *cols = xg + p0;
        size_t ldb = P;
        if (!pointwise) {
          conv_job job = {.x = xg, .sp = &sp, .r_begin = p0 / last, .r_end = (p0 + nb) / last, .width = nb,
                          .out = col};
          rq__parallel_for(c->threads, cg, 1, im2col_chunk, &job);
          cols = col;
          ldb = nb;
        }
        for (size_t m = 0; bg != NULL && m < mg; m++)
          for (size_t p = 0; p < nb; p++) yg[m * P + p0 + p] = bg[m];
        rq__sgemm(false, false, mg, nb, cg * K, 1.0f, wg, cg * K, cols, ldb, bg ? 1.0f : 0.0f, yg + p0, P);
        for (size_t m = 0; act && m < mg; m++) rq__clamp_floats(yg + m * P + p0, nb, c->act_lo, c->act_hi);
      }
    }
  }
  rq__pool_release(c->pool, col, col_bytes);
  return RQ_OK;
}

static rq_status op_conv_transpose(rq__op_ctx *c) {
  const rq__tensor *x, *w, *b;
  RQ_TRY(conv_inputs(c, &x, &w, &b));
  spatial sp = {0};
  RQ_TRY(kernel_shape(c, w, &sp));
  int n = sp.n;
  int64_t group = rq__node_attr_int(c->node, "group", 1);
  int64_t N = x->dims[0], C = x->dims[1];
  if (group < 1 || C % group != 0 || w->dims[0] != C)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "weight has %lld input channels, the input %lld (group %lld)",
                      (long long)w->dims[0], (long long)C, (long long)group);
  int64_t M = w->dims[1] * group;
  if (b != NULL && b->dims[0] != M) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "bias has %lld values, expected %lld",
                                                      (long long)b->dims[0], (long long)M);
  int64_t out_pad[MAX_SP], pads[2 * MAX_SP];
  RQ_TRY(rq__op_attr_ints(c, "strides", n, 1, sp.s));
  RQ_TRY(rq__op_attr_ints(c, "dilations", n, 1, sp.d));
  RQ_TRY(rq__op_attr_ints(c, "output_padding", n, 0, out_pad));
  RQ_TRY(rq__op_attr_ints(c, "pads", 2 * n, 0, pads));
  size_t n_os;
  const int64_t *os = rq__node_attr_ints(c->node, "output_shape", &n_os);
  if (os != NULL && n_os == (size_t)n + 2) os += 2; /* some exporters include N and C */
  else if (os != NULL && n_os != (size_t)n) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "output_shape has %zu values", n_os);
  const char *auto_pad = rq__node_attr_string(c->node, "auto_pad", "NOTSET");
  bool same = strncmp(auto_pad, "SAME_", 5) == 0;
  sp.in_size = sp.k_size = sp.out_size = 1;
  for (int i = 0; i < n; i++) {
    sp.in[i] = x->dims[2 + i];
    if (sp.s[i] < 1 || sp.d[i] < 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "strides and dilations must be positive");
    if (!geometry_sane(sp.k[i], sp.s[i], sp.d[i], pads[i], pads[n + i]) || out_pad[i] < 0 || out_pad[i] > ((int64_t)1 << 30) ||
        (os != NULL && (os[i] < 0 || os[i] > ((int64_t)1 << 40))))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "kernel, strides, dilations, pads or output sizes are out of range");
    int64_t full = sp.s[i] * (sp.in[i] - 1) + out_pad[i] + (sp.k[i] - 1) * sp.d[i] + 1;
    if (os != NULL || same) {
      int64_t want = os != NULL ? os[i] : sp.in[i] * sp.s[i];
      /* Negative when output_shape asks for more than the kernel covers:
       * the extra end positions get only the bias. */
      int64_t total = full - want;
      int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2); /* floor, as ONNX's Python does */
      /* The ONNX spec: SAME_UPPER puts the extra pad at the end. */
      bool upper = strcmp(auto_pad, "SAME_UPPER") == 0;
      sp.pb[i] = upper ? half : total - half;
      sp.pe[i] = total - sp.pb[i];
    } else if (strcmp(auto_pad, "NOTSET") == 0 || strcmp(auto_pad, "VALID") == 0) {
      sp.pb[i] = auto_pad[0] == 'V' ? 0 : pads[i];
      sp.pe[i] = auto_pad[0] == 'V' ? 0 : pads[n + i];
    } else {
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "auto_pad '%s' is not an ONNX value", auto_pad);
    }
    sp.out[i] = full - sp.pb[i] - sp.pe[i];
    if (sp.out[i] < 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "negative output size");
    sp.in_size *= (size_t)sp.in[i];
    sp.k_size *= (size_t)sp.k[i];
    sp.out_size *= (size_t)sp.out[i];
  }
  int64_t ydims[RQ__MAX_RANK] = {N, M};
  for (int i = 0; i < n; i++) ydims[2 + i] = sp.out[i];
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_FLOAT, x->ndim, ydims, &y));
  size_t cg = (size_t)(C / group), mg = (size_t)(M / group), K = sp.k_size, IN = sp.in_size;
  float *col = rq__malloc_array(mg * K, (IN ? IN : 1) * sizeof *col);
  if (col == NULL) return rq__nomem("ConvTranspose", mg * K * IN * sizeof *col);
  const float *xd = x->data, *wd = w->data;
  float *yd = y->data;
  for (int64_t bn = 0; bn < N; bn++) {
    for (int64_t g = 0; g < group; g++) {
      const float *xg = xd + ((size_t)bn * (size_t)C + (size_t)g * cg) * IN;
      const float *wg = wd + (size_t)g * cg * mg * K;
      rq__sgemm(true, false, mg * K, IN, cg, 1.0f, wg, mg * K, xg, IN, 0.0f, col, IN);
      float *yg = yd + ((size_t)bn * (size_t)M + (size_t)g * mg) * sp.out_size;
      col2im(col, &sp, mg, yg);
      if (b != NULL)
        for (size_t m = 0; m < mg; m++)
          for (size_t p = 0; p < sp.out_size; p++) yg[m * sp.out_size + p] += ((const float *)b->data)[(size_t)g * mg + m];
    }
  }
  rq__free(col);
  return RQ_OK;
}

/* ---- Gemm / MatMul ---- */

static rq_status op_gemm(rq__op_ctx *c) {
  const rq__tensor *a, *b, *cc = rq__op_in(c, 2);
  RQ_TRY(rq__op_need_float(c, 0, &a));
  RQ_TRY(rq__op_need_float(c, 1, &b));
  if (a->ndim != 2 || b->ndim != 2) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "A and B must be 2-D");
  bool ta = rq__node_attr_int(c->node, "transA", 0) != 0, tb = rq__node_attr_int(c->node, "transB", 0) != 0;
  float alpha = rq__node_attr_float(c->node, "alpha", 1.0f), beta = rq__node_attr_float(c->node, "beta", 1.0f);
  int64_t M = ta ? a->dims[1] : a->dims[0], K = ta ? a->dims[0] : a->dims[1];
  int64_t KB = tb ? b->dims[1] : b->dims[0], N = tb ? b->dims[0] : b->dims[1];
  if (K != KB) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "inner dimensions differ (%lld, %lld)", (long long)K, (long long)KB);
  int64_t cm = 1, cn = 1;
  if (cc != NULL) {
    if (cc->dtype != RQ__DT_FLOAT || cc->ndim > 2) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "C must be FLOAT of rank <= 2");
    cn = cc->ndim >= 1 ? cc->dims[cc->ndim - 1] : 1;
    cm = cc->ndim == 2 ? cc->dims[0] : 1;
    if ((cm != 1 && cm != M) || (cn != 1 && cn != N))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "C does not broadcast to [%lld, %lld]", (long long)M, (long long)N);
  }
  int64_t ydims[2] = {M, N};
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_FLOAT, 2, ydims, &y));
  float *yd = y->data;
  bool with_c = cc != NULL && beta != 0;
  if (with_c) {
    const float *cd = cc->data;
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++)
        yd[i * N + j] = beta * cd[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
  }
  rq__sgemm(ta, tb, (size_t)M, (size_t)N, (size_t)K, alpha, a->data, (size_t)a->dims[1], b->data,
            (size_t)b->dims[1], with_c ? 1.0f : 0.0f, yd, (size_t)N);
  return RQ_OK;
}

static rq_status op_matmul(rq__op_ctx *c) {
  const rq__tensor *a, *b;
  RQ_TRY(rq__op_need_float(c, 0, &a));
  RQ_TRY(rq__op_need_float(c, 1, &b));
  if (a->ndim < 1 || b->ndim < 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "inputs must have rank >= 1");
  /* numpy.matmul: a 1-D A is a row vector, a 1-D B a column vector; the
   * added dimension is dropped from the result. */
  int64_t M = a->ndim == 1 ? 1 : a->dims[a->ndim - 2], K = a->dims[a->ndim - 1];
  int64_t KB = b->ndim == 1 ? b->dims[0] : b->dims[b->ndim - 2], N = b->ndim == 1 ? 1 : b->dims[b->ndim - 1];
  if (K != KB) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "inner dimensions differ (%lld, %lld)", (long long)K, (long long)KB);
  rq__tensor ba = {.dtype = RQ__DT_FLOAT, .ndim = a->ndim > 2 ? a->ndim - 2 : 0};
  rq__tensor bb = {.dtype = RQ__DT_FLOAT, .ndim = b->ndim > 2 ? b->ndim - 2 : 0};
  memcpy(ba.dims, a->dims, sizeof(int64_t) * (size_t)ba.ndim);
  memcpy(bb.dims, b->dims, sizeof(int64_t) * (size_t)bb.ndim);
  const rq__tensor *batch[2] = {&ba, &bb};
  rq__bcast bc;
  RQ_TRY(rq__bcast_init(c, &bc, 2, batch));
  int64_t ydims[RQ__MAX_RANK];
  int nd = bc.ndim;
  if (nd + 2 > RQ__MAX_RANK) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "rank too large");
  memcpy(ydims, bc.dims, sizeof(int64_t) * (size_t)nd);
  if (a->ndim > 1) ydims[nd++] = M;
  if (b->ndim > 1) ydims[nd++] = N;
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_FLOAT, nd, ydims, &y));
  size_t batches = bc.numel, mk = (size_t)(M * K), kn = (size_t)(K * N), mn = (size_t)(M * N);
  if (bb.ndim == 0) {
    /* One B for every batch: a single GEMM over the stacked rows of A (A's
     * batch dimensions are then exactly the output's, densely laid out). */
    rq__sgemm(false, false, batches * (size_t)M, (size_t)N, (size_t)K, 1.0f, a->data, (size_t)K, b->data,
              (size_t)N, 0.0f, y->data, (size_t)N);
    return RQ_OK;
  }
  for (size_t r = 0; r < batches; r++) {
    size_t offs[2];
    /* rq__bcast_row works on rows of the last dim; index batches directly. */
    offs[0] = offs[1] = 0;
    size_t rem = r;
    for (int d = bc.ndim - 1; d >= 0; d--) {
      size_t i = rem % (size_t)bc.dims[d];
      rem /= (size_t)bc.dims[d];
      offs[0] += i * (size_t)bc.strides[0][d];
      offs[1] += i * (size_t)bc.strides[1][d];
    }
    rq__sgemm(false, false, (size_t)M, (size_t)N, (size_t)K, 1.0f, (const float *)a->data + offs[0] * mk, (size_t)K,
              (const float *)b->data + offs[1] * kn, (size_t)N, 0.0f, (float *)y->data + r * mn, (size_t)N);
  }
  return RQ_OK;
}

/* ---- pooling ---- */

static rq_status pool_input(rq__op_ctx *c, const rq__tensor **x) {
  RQ_TRY(rq__op_need_float(c, 0, x));
  if ((*x)->ndim < 3) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input must have rank >= 3 (N, C, spatial...)");
  return RQ_OK;
}

/* The common 2-D FLOAT case without the generic index arithmetic: the same
 * windows, divisors and NaN rule as the general loop in pool(). */
/* y[j] = max(y[j], x[j * s]) for j in [lo, hi), NaN winning as in
 * pool2d; unit and 2 strides get loops of their own for the vectorizer. */
static void max_row(float *restrict y, const float *restrict x, int64_t s, size_t lo, size_t hi) {
  if (s == 1) {
    for (size_t j = lo; j < hi; j++) y[j] = x[j] > y[j] || x[j] != x[j] ? x[j] : y[j];
  } else if (s == 2) {
    for (size_t j = lo; j < hi; j++) y[j] = x[2 * j] > y[j] || x[2 * j] != x[2 * j] ? x[2 * j] : y[j];
  } else {
    for (size_t j = lo; j < hi; j++) {
      float v = x[(int64_t)j * s];
      y[j] = v > y[j] || v != v ? v : y[j];
    }
  }
}

/* 2-D MaxPool output row by output row: each window tap is one pass over
 * the row (padding only shortens its column range), instead of a window
 * walk per output element. */
static void max_pool2d(const float *x, const spatial *sp, size_t pl_begin, size_t pl_end, float *y) {
  int64_t H = sp->in[0], W = sp->in[1], OH = sp->out[0], OW = sp->out[1];
  for (size_t pl = pl_begin; pl < pl_end; pl++) {
    const float *xp = x + pl * (size_t)(H * W);
    for (int64_t oh = 0; oh < OH; oh++) {
      float *yr = y + pl * (size_t)(OH * OW) + oh * OW;
      for (int64_t j = 0; j < OW; j++) yr[j] = -INFINITY;
      for (int64_t kh = 0; kh < sp->k[0]; kh++) {
        int64_t h = oh * sp->s[0] - sp->pb[0] + kh * sp->d[0];
        if (h < 0 || h >= H) continue;
        for (int64_t kw = 0; kw < sp->k[1]; kw++) {
          int64_t start = kw * sp->d[1] - sp->pb[1];
          size_t lo, hi;
          valid_range(start, sp->s[1], W, (size_t)OW, &lo, &hi);
          max_row(yr, xp + h * W + start, sp->s[1], lo, hi);
        }
      }
    }
  }
}

/* count_include_pad's divisor along one axis: the window's taps (k of them,
 * d apart, the first at `start`) that fall inside the padded input, i.e.
 * before `limit` = in + end pad. The padded input is what PyTorch clips the
 * window to; only ceil_mode's last window can reach past it. With d = 1
 * this is PyTorch's min(start + k, limit) - start. */
static int64_t padded_taps(int64_t start, int64_t k, int64_t d, int64_t limit) {
  int64_t inside = limit - start <= 0 ? 0 : (limit - start + d - 1) / d;
  return inside < k ? inside : k;
}

static void pool2d(const float *x, const spatial *sp, size_t pl_begin, size_t pl_end, bool is_max, bool include_pad,
                   float *y) {
  if (is_max) {
    max_pool2d(x, sp, pl_begin, pl_end, y);
    return;
  }
  int64_t H = sp->in[0], W = sp->in[1], OH = sp->out[0], OW = sp->out[1];
  for (size_t pl = pl_begin; pl < pl_end; pl++) {
    const float *xp = x + pl * (size_t)(H * W);
    float *yp = y + pl * (size_t)(OH * OW);
    for (int64_t oh = 0; oh < OH; oh++) {
      int64_t h0 = oh * sp->s[0] - sp->pb[0];
      for (int64_t ow = 0; ow < OW; ow++) {
        int64_t w0 = ow * sp->s[1] - sp->pb[1];
        float best = -INFINITY;
        double sum = 0;
        size_t count = 0;
        for (int64_t kh = 0; kh < sp->k[0]; kh++) {
          int64_t h = h0 + kh * sp->d[0];
          if (h < 0 || h >= H) continue;
          const float *row = xp + h * W;
          for (int64_t kw = 0; kw < sp->k[1]; kw++) {
            int64_t w = w0 + kw * sp->d[1];
            if (w < 0 || w >= W) continue;
            float v = row[w];
            if (v > best || isnan(v) || count == 0) best = v;
            sum += v;
            count++;
          }
        }
        if (is_max) {
          yp[oh * OW + ow] = best;
          continue;
        }
        if (include_pad)
          count = (size_t)(padded_taps(h0, sp->k[0], sp->d[0], H + sp->pe[0]) *
                           padded_taps(w0, sp->k[1], sp->d[1], W + sp->pe[1]));
        yp[oh * OW + ow] = count ? (float)(sum / (double)count) : 0.0f;
      }
    }
  }
}

typedef struct pool_job {
  const float *x;
  const spatial *sp;
  bool is_max, include_pad;
  float *y;
} pool_job;

static void pool2d_chunk(void *arg, size_t begin, size_t end) {
  pool_job *j = arg;
  pool2d(j->x, j->sp, begin, end, j->is_max, j->include_pad, j->y);
}

/* MaxPool, AveragePool and (p_norm > 0) LpPool. */
static rq_status pool(rq__op_ctx *c, bool is_max, int p_norm) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  /* MaxPool also takes 8-bit integers (exact in float). */
  bool small_int = x->dtype == RQ__DT_UINT8 || x->dtype == RQ__DT_INT8;
  if (x->dtype != RQ__DT_FLOAT && !(is_max && small_int))
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "element type %s", rq__dtype_name(x->dtype));
  if (x->ndim < 3) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input must have rank >= 3 (N, C, spatial...)");
  bool want_indices = c->n_out > 1 && c->node->outputs[1] >= 0;
  if (want_indices && !is_max) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "AveragePool has one output");
  bool col_major = rq__node_attr_int(c->node, "storage_order", 0) != 0;
  spatial sp = {.n = x->ndim - 2};
  size_t nk;
  const int64_t *ks = rq__node_attr_ints(c->node, "kernel_shape", &nk);
  if (ks == NULL || nk != (size_t)sp.n)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "kernel_shape must have %d values", sp.n);
  memcpy(sp.k, ks, sizeof *ks * nk);
  if (!is_max && p_norm == 0 && c->opset < 19 && rq__node_attr(c->node, "dilations") != NULL) {
    /* AveragePool gained dilations in opset 19 (LpPool in 18); earlier
     * models may only spell out the default. */
    size_t nd;
    const int64_t *d = rq__node_attr_ints(c->node, "dilations", &nd);
    for (size_t i = 0; i < nd; i++)
      if (d[i] != 1) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "dilated AveragePool before opset 19");
  }
  RQ_TRY(spatial_forward(c, x, &sp, rq__node_attr_int(c->node, "ceil_mode", 0) != 0));
  if (!is_max && p_norm == 0 && strncmp(rq__node_attr_string(c->node, "auto_pad", "NOTSET"), "SAME_", 5) == 0)
    for (int i = 0; i < sp.n; i++)
      /* The spec's SAME output is ceil(in / stride) for the dilated
       * window; ONNX Runtime 1.30 pads for the undilated one instead. */
      if (sp.d[i] != 1) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "AveragePool with auto_pad SAME_* and dilations");
  bool include_pad = rq__node_attr_int(c->node, "count_include_pad", 0) != 0;
  int64_t ydims[RQ__MAX_RANK] = {x->dims[0], x->dims[1]};
  for (int i = 0; i < sp.n; i++) ydims[2 + i] = sp.out[i];
  rq__tensor *y, *ind = NULL;
  RQ_TRY(rq__op_output(c, 0, x->dtype, x->ndim, ydims, &y));
  if (want_indices) RQ_TRY(rq__op_output(c, 1, RQ__DT_INT64, x->ndim, ydims, &ind));
  float *conv = NULL;
  const float *xd = x->data;
  if (small_int) {
    conv = rq__malloc_array(x->numel ? x->numel : 1, sizeof *conv);
    if (conv == NULL) return rq__nomem("MaxPool", x->numel * sizeof *conv);
    for (size_t i = 0; i < x->numel; i++) conv[i] = (float)rq__elem_get(x->data, x->dtype, i);
    xd = conv;
  }
  size_t planes = (size_t)(x->dims[0] * x->dims[1]);
  if (sp.n == 2 && !small_int && ind == NULL && p_norm == 0) {
    pool_job job = {xd, &sp, is_max, include_pad, y->data};
    rq__parallel_for(c->threads, planes, 1, pool2d_chunk, &job);
    return RQ_OK;
  }
  int64_t oidx[MAX_SP], kidx[MAX_SP], pos[MAX_SP];
  for (size_t pl = 0; pl < planes; pl++) {
    const float *xp = xd + pl * sp.in_size;
    for (size_t o = 0; o < sp.out_size; o++) {
      unravel(o, sp.n, sp.out, oidx);
      float best = -INFINITY;
      size_t best_off = 0;
      double sum = 0;
      size_t count = 0;
      for (size_t kk = 0; kk < sp.k_size; kk++) {
        unravel(kk, sp.n, sp.k, kidx);
        size_t off = 0;
        bool valid = true;
        for (int i = 0; i < sp.n && valid; i++) {
          pos[i] = oidx[i] * sp.s[i] - sp.pb[i] + kidx[i] * sp.d[i];
          valid = pos[i] >= 0 && pos[i] < sp.in[i];
          off = off * (size_t)sp.in[i] + (size_t)pos[i];
        }
        if (!valid) continue;
        float v = xp[off];
        if (v > best || isnan(v) || count == 0) {
          best = v;
          if (col_major) { /* storage_order 1: the first spatial axis varies fastest */
            best_off = 0;
            for (int i = sp.n - 1; i >= 0; i--) best_off = best_off * (size_t)sp.in[i] + (size_t)pos[i];
          } else {
            best_off = off;
          }
        }
        sum += p_norm > 0 ? pow(fabs((double)v), p_norm) : v;
        count++;
      }
      size_t at = pl * sp.out_size + o;
      if (p_norm > 0) {
        ((float *)y->data)[at] = (float)pow(sum, 1.0 / p_norm);
      } else if (is_max) {
        rq__elem_set(y->data, y->dtype, at, best);
        if (ind) ((int64_t *)ind->data)[at] = (int64_t)(pl * sp.in_size + best_off);
      } else {
        if (include_pad) {
          count = 1;
          for (int i = 0; i < sp.n; i++)
            count *= (size_t)padded_taps(oidx[i] * sp.s[i] - sp.pb[i], sp.k[i], sp.d[i], sp.in[i] + sp.pe[i]);
        }
        ((float *)y->data)[at] = count ? (float)(sum / (double)count) : 0.0f;
      }
    }
  }
  rq__free(conv);
  return RQ_OK;
}

/* LpPool's and GlobalLpPool's p: a positive integer (2 by default). */
static rq_status lp_norm(rq__op_ctx *c, int *p) {
  int64_t v = rq__node_attr_int(c->node, "p", 2);
  if (v < 1 || v > 64) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "p must be an integer in 1..64, not %lld", (long long)v);
  *p = (int)v;
  return RQ_OK;
}

static rq_status op_max_pool(rq__op_ctx *c) { return pool(c, true, 0); }
static rq_status op_average_pool(rq__op_ctx *c) { return pool(c, false, 0); }
static rq_status op_lp_pool(rq__op_ctx *c) {
  int p = 2;
  RQ_TRY(lp_norm(c, &p));
  return pool(c, false, p);
}

/* GlobalMaxPool, GlobalAveragePool and (p_norm > 0) GlobalLpPool. */
static rq_status global_pool(rq__op_ctx *c, bool is_max, int p_norm) {
  const rq__tensor *x;
  RQ_TRY(pool_input(c, &x));
  int64_t ydims[RQ__MAX_RANK];
  for (int d = 0; d < x->ndim; d++) ydims[d] = d < 2 ? x->dims[d] : 1;
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_FLOAT, x->ndim, ydims, &y));
  size_t planes = (size_t)(x->dims[0] * x->dims[1]), area = planes ? x->numel / planes : 0;
  for (size_t p = 0; p < planes; p++) {
    const float *xp = (const float *)x->data + p * area;
    double sum = 0;
    float best = -INFINITY;
    for (size_t i = 0; i < area; i++) {
      sum += p_norm > 0 ? pow(fabs((double)xp[i]), p_norm) : xp[i];
      if (xp[i] > best || isnan(xp[i])) best = xp[i];
    }
    ((float *)y->data)[p] = p_norm > 0 ? (float)pow(sum, 1.0 / p_norm) : is_max ? best : (float)(sum / (double)area);
  }
  return RQ_OK;
}

static rq_status op_global_average_pool(rq__op_ctx *c) { return global_pool(c, false, 0); }
static rq_status op_global_max_pool(rq__op_ctx *c) { return global_pool(c, true, 0); }
static rq_status op_global_lp_pool(rq__op_ctx *c) {
  int p = 2;
  RQ_TRY(lp_norm(c, &p));
  return global_pool(c, false, p);
}

/* MaxUnpool: each element of X goes to the flat position I gives it in the
 * output (an index over the whole N x C x D1 x ... tensor, as MaxPool's
 * Indices output has them); every other element is zero. */
static rq_status op_max_unpool(rq__op_ctx *c) {
  const rq__tensor *x, *ind, *shape_t = rq__op_in(c, 2);
  RQ_TRY(rq__op_need(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &ind));
  if (rq__dtype_size(x->dtype) == 0 || x->dtype == RQ__DT_STRING)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "element type %s", rq__dtype_name(x->dtype));
  if (x->ndim < 3) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input must have rank >= 3 (N, C, spatial...)");
  if (ind->dtype != RQ__DT_INT64 || ind->ndim != x->ndim ||
      memcmp(ind->dims, x->dims, sizeof(int64_t) * (size_t)x->ndim) != 0)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "I must be INT64 with the shape of X");
  int n = x->ndim - 2;
  /* kernel_shape is required even when output_shape makes it moot. */
  int64_t k[MAX_SP], s[MAX_SP], pads[2 * MAX_SP];
  size_t nk;
  const int64_t *ks = rq__node_attr_ints(c->node, "kernel_shape", &nk);
  if (ks == NULL || nk != (size_t)n) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "kernel_shape must have %d values", n);
  memcpy(k, ks, sizeof *ks * nk);
  RQ_TRY(rq__op_attr_ints(c, "strides", n, 1, s));
  RQ_TRY(rq__op_attr_ints(c, "pads", 2 * n, 0, pads));
  int64_t ydims[RQ__MAX_RANK] = {x->dims[0], x->dims[1]};
  for (int i = 0; i < n; i++) {
    if (k[i] < 1 || s[i] < 1 || pads[i] < 0 || pads[n + i] < 0 || !geometry_sane(k[i], s[i], 1, pads[i], pads[n + i]))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "kernel_shape, strides or pads out of range");
    /* The inverse of MaxPool's size arithmetic. */
    ydims[2 + i] = (x->dims[2 + i] - 1) * s[i] + k[i] - pads[i] - pads[n + i];
  }
  if (shape_t != NULL) {
    /* The exact size (MaxPool's floor division loses it); pads are then ignored. */
    size_t count;
    RQ_TRY(rq__op_ints(c, shape_t, ydims, RQ__MAX_RANK, &count));
    if (count != (size_t)x->ndim || ydims[0] != x->dims[0] || ydims[1] != x->dims[1])
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "output_shape must have %d values starting with X's N and C", x->ndim);
  }
  for (int i = 0; i < n; i++)
    if (ydims[2 + i] < 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "negative output size %lld", (long long)ydims[2 + i]);
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, x->ndim, ydims, &y));
  size_t es = rq__dtype_size(x->dtype);
  const int64_t *id = ind->data;
  for (size_t i = 0; i < x->numel; i++) {
    if (id[i] < 0 || (uint64_t)id[i] >= y->numel)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "index %lld is outside the output (%zu elements)", (long long)id[i],
                        y->numel);
    memcpy((char *)y->data + (size_t)id[i] * es, (const char *)x->data + i * es, es);
  }
  return RQ_OK;
}

/* ---- normalization ---- */

static rq_status op_batch_norm(rq__op_ctx *c) {
  const rq__tensor *x, *p[4];
  RQ_TRY(rq__op_need_float(c, 0, &x));
  for (int i = 0; i < 4; i++) RQ_TRY(rq__op_need_float(c, 1 + i, &p[i]));
  /* training_mode (opset 14+): normalise with this batch's statistics and
   * also output the updated running mean and variance. */
  bool training = rq__node_attr_int(c->node, "training_mode", 0) != 0;
  if (training && c->opset < 14) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "training_mode needs opset 14 or later");
  for (int i = training ? 3 : 1; i < c->n_out; i++)
    if (c->node->outputs[i] >= 0)
      return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "the training outputs of opset 9-13 (saved mean, var) are not implemented");
  if (rq__node_attr_int(c->node, "spatial", 1) != 1)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "spatial=0");
  if (x->ndim < 2) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input must have rank >= 2");
  int64_t C = x->dims[1];
  for (int i = 0; i < 4; i++)
    if (p[i]->numel != (size_t)C)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input %d has %zu values, expected %lld", 1 + i, p[i]->numel, (long long)C);
  float eps = rq__node_attr_float(c->node, "epsilon", 1e-5f);
  size_t N = (size_t)x->dims[0], planes = N * (size_t)C, area = planes != 0 ? x->numel / planes : 0;
  rq__tensor *y, *stat[2] = {NULL, NULL};
  RQ_TRY(rq__op_output(c, 0, RQ__DT_FLOAT, x->ndim, x->dims, &y));
  for (int k = 0; training && k < 2; k++)
    if (c->n_out > 1 + k && c->node->outputs[1 + k] >= 0)
      RQ_TRY(rq__op_output(c, 1 + k, RQ__DT_FLOAT, 1, &C, &stat[k]));
  const float *scale = p[0]->data, *bias = p[1]->data, *mean = p[2]->data, *var = p[3]->data;
  float *batch_stats = NULL;
  if (training) {
    /* Mean and (population) variance over everything but the channel axis,
     * summed in double; the running statistics move by 1 - momentum. */
    if (N * area == 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "training_mode on an empty batch");
    batch_stats = rq__malloc_array(2 * (size_t)C, sizeof *batch_stats);
    if (batch_stats == NULL) return rq__nomem("BatchNormalization", 2 * (size_t)C * sizeof *batch_stats);
    float momentum = rq__node_attr_float(c->node, "momentum", 0.9f);
    for (int64_t ch = 0; ch < C; ch++) {
      double sum = 0, sq = 0;
      for (size_t n = 0; n < N; n++) {
        const float *xp = (const float *)x->data + (n * (size_t)C + (size_t)ch) * area;
        for (size_t i = 0; i < area; i++) sum += xp[i];
      }
      double m = sum / (double)(N * area);
      for (size_t n = 0; n < N; n++) {
        const float *xp = (const float *)x->data + (n * (size_t)C + (size_t)ch) * area;
        for (size_t i = 0; i < area; i++) sq += (xp[i] - m) * (xp[i] - m);
      }
      batch_stats[ch] = (float)m;
      batch_stats[C + ch] = (float)(sq / (double)(N * area));
      if (stat[0]) ((float *)stat[0]->data)[ch] = mean[ch] * momentum + batch_stats[ch] * (1 - momentum);
      if (stat[1]) ((float *)stat[1]->data)[ch] = var[ch] * momentum + batch_stats[C + ch] * (1 - momentum);
    }
    mean = batch_stats;
    var = batch_stats + C;
  }
  for (size_t n = 0; n < N; n++) {
    for (int64_t ch = 0; ch < C; ch++) {
      float inv = 1.0f / sqrtf(var[ch] + eps), m = mean[ch], sc = scale[ch] * inv, bi = bias[ch];
      const float *xp = (const float *)x->data + (n * (size_t)C + (size_t)ch) * area;
      float *yp = (float *)y->data + (n * (size_t)C + (size_t)ch) * area;
      for (size_t i = 0; i < area; i++) yp[i] = (xp[i] - m) * sc + bi;
    }
  }
  rq__free(batch_stats);
  return RQ_OK;
}

static rq_status op_layer_norm(rq__op_ctx *c) {
  const rq__tensor *x, *scale, *bias = rq__op_in(c, 2);
  RQ_TRY(rq__op_need_float(c, 0, &x));
  RQ_TRY(rq__op_need_float(c, 1, &scale));
  if (bias != NULL && bias->dtype != RQ__DT_FLOAT) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "B must be FLOAT");
  int axis;
  RQ_TRY(rq__op_axis(c, rq__node_attr_int(c->node, "axis", -1), x->ndim, &axis));
  float eps = rq__node_attr_float(c->node, "epsilon", 1e-5f);
  size_t outer = 1, len = 1;
  for (int d = 0; d < x->ndim; d++) *(d < axis ? &outer : &len) *= (size_t)x->dims[d];
  /* Scale and B broadcast to X.shape[axis:]: same size, or a single value. */
  if ((scale->numel != len && scale->numel != 1) || (bias && bias->numel != len && bias->numel != 1))
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "Scale/B that broadcast partially over the normalized axes");
  rq__tensor *y, *mean_t = NULL, *inv_t = NULL;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_FLOAT, x->ndim, x->dims, &y));
  int64_t sdims[RQ__MAX_RANK];
  for (int d = 0; d < x->ndim; d++) sdims[d] = d < axis ? x->dims[d] : 1;
  if (c->n_out > 1 && c->node->outputs[1] >= 0) RQ_TRY(rq__op_output(c, 1, RQ__DT_FLOAT, x->ndim, sdims, &mean_t));
  if (c->n_out > 2 && c->node->outputs[2] >= 0) RQ_TRY(rq__op_output(c, 2, RQ__DT_FLOAT, x->ndim, sdims, &inv_t));
  const float *sc = scale->data, *bi = bias ? bias->data : NULL;
  for (size_t o = 0; o < outer; o++) {
    const float *xp = (const float *)x->data + o * len;
    float *yp = (float *)y->data + o * len;
    double mean = 0, var = 0;
    for (size_t i = 0; i < len; i++) mean += xp[i];
    mean /= (double)len;
    for (size_t i = 0; i < len; i++) var += (xp[i] - mean) * (xp[i] - mean);
    var /= (double)len;
    double inv = 1 / sqrt(var + eps);
    for (size_t i = 0; i < len; i++) {
      double v = (xp[i] - mean) * inv * sc[scale->numel == 1 ? 0 : i];
      if (bi) v += bi[bias->numel == 1 ? 0 : i];
      yp[i] = (float)v;
    }
    if (mean_t) ((float *)mean_t->data)[o] = (float)mean;
    if (inv_t) ((float *)inv_t->data)[o] = (float)inv;
  }
  return RQ_OK;
}

static rq_status op_instance_norm(rq__op_ctx *c) {
  const rq__tensor *x, *scale, *bias;
  RQ_TRY(rq__op_need_float(c, 0, &x));
  RQ_TRY(rq__op_need_float(c, 1, &scale));
  RQ_TRY(rq__op_need_float(c, 2, &bias));
  if (x->ndim < 3) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input must have rank >= 3");
  size_t N = (size_t)x->dims[0], C = (size_t)x->dims[1], planes = N * C, area = planes ? x->numel / planes : 0;
  if (scale->numel != C || bias->numel != C) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scale and B must have C values");
  float eps = rq__node_attr_float(c->node, "epsilon", 1e-5f);
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_FLOAT, x->ndim, x->dims, &y));
  for (size_t p = 0; p < planes; p++) {
    const float *xp = (const float *)x->data + p * area;
    float *yp = (float *)y->data + p * area;
    double mean = 0, var = 0;
    for (size_t i = 0; i < area; i++) mean += xp[i];
    mean /= (double)area;
    for (size_t i = 0; i < area; i++) var += (xp[i] - mean) * (xp[i] - mean);
    var /= (double)area;
    double k = ((const float *)scale->data)[p % C] / sqrt(var + eps), b = ((const float *)bias->data)[p % C];
    for (size_t i = 0; i < area; i++) yp[i] = (float)((xp[i] - mean) * k + b);
  }
  return RQ_OK;
}

/* MeanVarianceNormalization: (X - mean) / (sqrt(var) + 1e-9) over `axes`,
 * as the op's ONNX function body defines it (epsilon added to the standard
 * deviation, not the variance). The variance is computed in two passes in
 * double rather than as the body's E[X^2] - E[X]^2: the same value without
 * the cancellation. */
static rq_status op_mvn(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need_float(c, 0, &x));
  static const int64_t default_axes[] = {0, 2, 3};
  const int64_t *axes = default_axes;
  size_t n_axes = 3;
  const rq__attr *axes_attr = rq__node_attr(c->node, "axes");
  if (axes_attr != NULL) {
    axes = rq__node_attr_ints(c->node, "axes", &n_axes);
    if (axes == NULL || n_axes == 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axes must be a non-empty list of ints");
  }
  bool reduced[RQ__MAX_RANK] = {false};
  for (size_t i = 0; i < n_axes; i++) {
    int a;
    RQ_TRY(rq__op_axis(c, axes[i], x->ndim, &a));
    if (reduced[a]) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axis %d is listed twice", a);
    reduced[a] = true;
  }
  /* Element i of x belongs to group `off` (its index over the kept axes),
   * walked as in reduce(). */
  int64_t gstride[RQ__MAX_RANK], s = 1;
  for (int d = x->ndim - 1; d >= 0; d--) {
    gstride[d] = reduced[d] ? 0 : s;
    if (!reduced[d]) s *= x->dims[d];
  }
  size_t groups = (size_t)s, count = groups ? x->numel / groups : 0;
  rq__tensor *y;
  RQ_TRY(rq__op_output_uninit(c, 0, RQ__DT_FLOAT, x->ndim, x->dims, &y));
  double *mean = rq__calloc(groups ? 2 * groups : 1, sizeof *mean);
  if (mean == NULL) return rq__nomem("MeanVarianceNormalization", 2 * groups * sizeof *mean);
  double *var = mean + groups;
  const float *xd = x->data;
  float *yd = y->data;
  for (int pass = 0; pass < 3; pass++) {
    int64_t idx[RQ__MAX_RANK] = {0};
    size_t off = 0;
    for (size_t i = 0; i < x->numel; i++) {
      if (pass == 0) mean[off] += xd[i];
      else if (pass == 1) var[off] += (xd[i] - mean[off]) * (xd[i] - mean[off]);
      else yd[i] = (float)((xd[i] - mean[off]) / (sqrt(var[off]) + 1e-9));
      for (int d = x->ndim - 1; d >= 0; d--) {
        off += (size_t)gstride[d];
        if (++idx[d] < x->dims[d]) break;
        off -= (size_t)(gstride[d] * x->dims[d]);
        idx[d] = 0;
      }
    }
    for (size_t g = 0; g < groups && pass < 2; g++) (pass == 0 ? mean : var)[g] /= (double)count;
  }
  rq__free(mean);
  return RQ_OK;
}

/* Local response normalization across channels (AlexNet's LRN). */
static rq_status op_lrn(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need_float(c, 0, &x));
  if (x->ndim < 3) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input must have rank >= 3");
  int64_t size = rq__node_attr_int(c->node, "size", 0);
  if (size < 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "size must be positive");
  double alpha = rq__node_attr_float(c->node, "alpha", 1e-4f), beta = rq__node_attr_float(c->node, "beta", 0.75f);
  double bias = rq__node_attr_float(c->node, "bias", 1.0f);
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_FLOAT, x->ndim, x->dims, &y));
  int64_t N = x->dims[0], C = x->dims[1];
  size_t area = N * C != 0 ? x->numel / (size_t)(N * C) : 0;
  int64_t before = (size - 1) / 2, after = size - 1 - before;
  const float *xd = x->data;
  for (int64_t n = 0; n < N; n++)
    for (int64_t ch = 0; ch < C; ch++)
      for (size_t i = 0; i < area; i++) {
        double sq = 0;
        for (int64_t k = ch - before; k <= ch + after; k++) {
          if (k < 0 || k >= C) continue;
          double v = xd[((size_t)(n * C + k)) * area + i];
          sq += v * v;
        }
        size_t at = ((size_t)(n * C + ch)) * area + i;
        ((float *)y->data)[at] = (float)(xd[at] / pow(bias + alpha / (double)size * sq, beta));
      }
  return RQ_OK;
}

/* Hardmax: 1 at the first maximum along the axis (the 2-D coercion before
 * opset 13, as Softmax). */
static rq_status op_hardmax(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need_float(c, 0, &x));
  int axis;
  RQ_TRY(rq__op_axis(c, rq__node_attr_int(c->node, "axis", c->opset < 13 ? 1 : -1), x->ndim, &axis));
  size_t outer = 1, len = 1, inner = 1;
  for (int d = 0; d < x->ndim; d++) {
    size_t v = (size_t)x->dims[d];
    if (d < axis) outer *= v;
    else if (d == axis || c->opset < 13) len *= v;
    else inner *= v;
  }
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_FLOAT, x->ndim, x->dims, &y));
  const float *xd = x->data;
  for (size_t o = 0; o < outer; o++)
    for (size_t i = 0; i < inner && len > 0; i++) {
      size_t best = 0;
      for (size_t k = 1; k < len; k++)
        if (xd[(o * len + k) * inner + i] > xd[(o * len + best) * inner + i]) best = k;
      ((float *)y->data)[(o * len + best) * inner + i] = 1.0f;
    }
  return RQ_OK;
}

static rq_status op_cumsum(rq__op_ctx *c) {
  const rq__tensor *x, *at;
  RQ_TRY(rq__op_need(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &at));
  if (!rq__dtype_is_numeric(x->dtype) || x->dtype == RQ__DT_BOOL)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "element type %s", rq__dtype_name(x->dtype));
  int64_t a;
  size_t n;
  RQ_TRY(rq__op_ints(c, at, &a, 1, &n));
  int axis;
  if (n != 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axis must hold one value");
  RQ_TRY(rq__op_axis(c, a, x->ndim, &axis));
  bool exclusive = rq__node_attr_int(c->node, "exclusive", 0) != 0;
  bool reverse = rq__node_attr_int(c->node, "reverse", 0) != 0;
  size_t outer = 1, len = x->ndim ? (size_t)x->dims[axis] : 1, inner = 1;
  for (int d = 0; d < axis; d++) outer *= (size_t)x->dims[d];
  for (int d = axis + 1; d < x->ndim; d++) inner *= (size_t)x->dims[d];
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, x->ndim, x->dims, &y));
  for (size_t o = 0; o < outer; o++)
    for (size_t i = 0; i < inner; i++) {
      double sum = 0;
      for (size_t k = 0; k < len; k++) {
        size_t kk = reverse ? len - 1 - k : k, at_i = (o * len + kk) * inner + i;
        double v = rq__elem_get(x->data, x->dtype, at_i);
        if (!exclusive) sum += v;
        rq__elem_set(y->data, y->dtype, at_i, sum);
        if (exclusive) sum += v;
      }
    }
  return RQ_OK;
}

static rq_status op_topk(rq__op_ctx *c) {
  const rq__tensor *x, *kt;
  RQ_TRY(rq__op_need(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &kt));
  if (!rq__dtype_is_numeric(x->dtype)) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "element type");
  int64_t k;
  size_t n;
  RQ_TRY(rq__op_ints(c, kt, &k, 1, &n));
  int axis;
  RQ_TRY(rq__op_axis(c, rq__node_attr_int(c->node, "axis", -1), x->ndim, &axis));
  bool largest = rq__node_attr_int(c->node, "largest", 1) != 0;
  if (n != 1 || k < 0 || k > x->dims[axis]) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "K is out of range");
  int64_t dims[RQ__MAX_RANK];
  memcpy(dims, x->dims, sizeof dims);
  dims[axis] = k;
  rq__tensor *vals, *idx;
  RQ_TRY(rq__op_output(c, 0, x->dtype, x->ndim, dims, &vals));
  RQ_TRY(rq__op_output(c, 1, RQ__DT_INT64, x->ndim, dims, &idx));
  size_t outer = 1, len = (size_t)x->dims[axis], inner = 1;
  for (int d = 0; d < axis; d++) outer *= (size_t)x->dims[d];
  for (int d = axis + 1; d < x->ndim; d++) inner *= (size_t)x->dims[d];
  int64_t *order = rq__malloc_array(len ? len : 1, sizeof *order);
  if (order == NULL) return rq__nomem("TopK", len * sizeof *order);
  for (size_t o = 0; o < outer; o++)
    for (size_t i = 0; i < inner; i++) {
      /* Selection by insertion: stable, so equal values keep the lower index first. */
      size_t have = 0;
      for (size_t j = 0; j < len; j++) {
        double v = rq__elem_get(x->data, x->dtype, (o * len + j) * inner + i);
        size_t pos = have;
        while (pos > 0) {
          double u = rq__elem_get(x->data, x->dtype, (o * len + (size_t)order[pos - 1]) * inner + i);
          if (largest ? v > u : v < u) pos--;
          else break;
        }
        if (pos >= (size_t)k) continue;
        size_t end = have < (size_t)k ? have : (size_t)k - 1;
        memmove(order + pos + 1, order + pos, (end - pos) * sizeof *order);
        order[pos] = (int64_t)j;
        if (have < (size_t)k) have++;
      }
      for (size_t j = 0; j < (size_t)k; j++) {
        size_t dst = (o * (size_t)k + j) * inner + i;
        rq__elem_set(vals->data, vals->dtype, dst,
                     rq__elem_get(x->data, x->dtype, (o * len + (size_t)order[j]) * inner + i));
        ((int64_t *)idx->data)[dst] = order[j];
      }
    }
  rq__free(order);
  return RQ_OK;
}

/* ---- losses (ONNX's backend tests use them; handy for QAT checks) ---- */

/* NegativeLogLikelihoodLoss on log-probabilities lp [N, C, d...] (FLOAT)
 * and integer targets [N, d...]: loss = -lp[n, t, d] * weight[t], 0 for
 * ignore_index; reduced by none / sum / mean (over the weights used). */
static rq_status nll(rq__op_ctx *c, const rq__tensor *lp, const rq__tensor *target, const rq__tensor *weight) {
  if (lp->ndim < 2 || target->ndim != lp->ndim - 1 || !rq__dtype_is_int(target->dtype))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input must be [N, C, d...] and target an integer [N, d...]");
  for (int d = 0; d < target->ndim; d++)
    if (target->dims[d] != lp->dims[d == 0 ? 0 : d + 1]) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "target shape mismatch");
  int64_t C = lp->dims[1];
  if (weight != NULL && (weight->dtype != RQ__DT_FLOAT || weight->numel != (size_t)C))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "weight must be FLOAT [C]");
  const rq__attr *ig = rq__node_attr(c->node, "ignore_index");
  bool has_ignore = ig != NULL && ig->type == RQ__ATTR_INT;
  const char *red = rq__node_attr_string(c->node, "reduction", "mean");
  int mode = strcmp(red, "none") == 0 ? 0 : strcmp(red, "sum") == 0 ? 1 : strcmp(red, "mean") == 0 ? 2 : -1;
  if (mode < 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "reduction '%s'", red);
  size_t N = (size_t)lp->dims[0], inner = N ? target->numel / N : 0;
  float *losses = rq__malloc_array(target->numel ? target->numel : 1, sizeof *losses);
  if (losses == NULL) return rq__nomem("NegativeLogLikelihoodLoss", target->numel * sizeof *losses);
  double sum = 0, wsum = 0;
  const float *l = lp->data;
  for (size_t i = 0; i < target->numel; i++) {
    int64_t t = (int64_t)rq__elem_get(target->data, target->dtype, i);
    if (has_ignore && t == ig->i) {
      losses[i] = 0;
      continue;
    }
    if (t < 0 || t >= C) {
      rq__free(losses);
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "target %lld is outside [0, %lld)", (long long)t, (long long)C);
    }
    float w = weight ? ((const float *)weight->data)[t] : 1.0f;
    size_t n = i / (inner ? inner : 1), d = i % (inner ? inner : 1);
    losses[i] = -l[(n * (size_t)C + (size_t)t) * inner + d] * w;
    sum += losses[i];
    wsum += w;
  }
  rq__tensor *y;
  rq_status st = rq__op_output(c, 0, RQ__DT_FLOAT, mode == 0 ? target->ndim : 0, target->dims, &y);
  if (st == RQ_OK) {
    if (mode == 0) memcpy(y->data, losses, target->numel * sizeof *losses);
    else *(float *)y->data = (float)(mode == 1 ? sum : sum / wsum);
  }
  rq__free(losses);
  return st;
}

static rq_status op_nll_loss(rq__op_ctx *c) {
  const rq__tensor *x, *t;
  RQ_TRY(rq__op_need_float(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &t));
  return nll(c, x, t, rq__op_in(c, 2));
}

static rq_status op_softmax_cross_entropy(rq__op_ctx *c) {
  const rq__tensor *x, *t;
  RQ_TRY(rq__op_need_float(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &t));
  if (x->ndim < 2) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scores must be [N, C, d...]");
  /* log_softmax over axis 1, kept as the optional second output. */
  rq__tensor *lp;
  RQ_TRY(rq__tensor_create(NULL, RQ__DT_FLOAT, x->ndim, x->dims, &lp));
  size_t N = (size_t)x->dims[0], C = (size_t)x->dims[1], inner = N * C != 0 ? x->numel / (N * C) : 0;
  for (size_t n = 0; n < N; n++)
    for (size_t i = 0; i < inner; i++) {
      const float *xi = (const float *)x->data + n * C * inner + i;
      float *li = (float *)lp->data + n * C * inner + i, mx = -INFINITY;
      for (size_t k = 0; k < C; k++) mx = xi[k * inner] > mx ? xi[k * inner] : mx;
      double se = 0;
      for (size_t k = 0; k < C; k++) se += exp((double)xi[k * inner] - mx);
      for (size_t k = 0; k < C; k++) li[k * inner] = (float)((double)xi[k * inner] - mx - log(se));
    }
  rq_status st = nll(c, lp, t, rq__op_in(c, 2));
  if (st == RQ_OK && c->n_out > 1 && c->node->outputs[1] >= 0) {
    c->out[1] = lp;
    return RQ_OK;
  }
  rq__tensor_destroy(lp);
  return st;
}

/* ---- integer and QLinear ops (QOperator-format quantized models) ---- */

static bool is_q8(int32_t t) { return t == RQ__DT_UINT8 || t == RQ__DT_INT8; }

/* Zero point k of t (a scalar or one per row/column/channel), 0 when t is
 * absent. */
static int64_t zp_at(const rq__tensor *t, size_t k) {
  if (t == NULL) return 0;
  return (int64_t)rq__elem_get(t->data, t->dtype, t->numel == 1 ? 0 : k);
}

static rq_status check_zp(const rq__op_ctx *c, const rq__tensor *zp, const rq__tensor *of, size_t allowed) {
  if (zp == NULL) return RQ_OK;
  if (zp->dtype != of->dtype || (zp->numel != 1 && zp->numel != allowed))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "zero point must have the data's type and 1 or %zu values", allowed);
  return RQ_OK;
}

/* acc[n, m, out...] = sum over the group's channels and the kernel of
 * (x - x_zp) * (w - w_zp[m]), exactly (int64). *acc is rq__malloc'd. */
static rq_status int_conv(rq__op_ctx *c, const rq__tensor *x, const rq__tensor *w, const rq__tensor *xzp,
                          const rq__tensor *wzp, int64_t *ydims, int64_t **acc) {
  if (!is_q8(x->dtype) || !is_q8(w->dtype)) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "x and w must be 8-bit integers");
  if (x->ndim < 3 || x->ndim != w->ndim) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "x and w must have one rank >= 3");
  spatial sp = {0};
  RQ_TRY(kernel_shape(c, w, &sp));
  RQ_TRY(spatial_forward(c, x, &sp, false));
  int64_t group = rq__node_attr_int(c->node, "group", 1), N = x->dims[0], C = x->dims[1], M = w->dims[0];
  if (group < 1 || C % group != 0 || M % group != 0 || w->dims[1] != C / group)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "group %lld does not fit the channels", (long long)group);
  RQ_TRY(check_zp(c, xzp, x, 1));
  RQ_TRY(check_zp(c, wzp, w, (size_t)M));
  ydims[0] = N;
  ydims[1] = M;
  for (int i = 0; i < sp.n; i++) ydims[2 + i] = sp.out[i];
  size_t total = (size_t)(N * M) * sp.out_size;
  *acc = rq__calloc(total ? total : 1, sizeof **acc);
  if (*acc == NULL) return rq__nomem(c->node->op_type, total * sizeof **acc);
  size_t cg = (size_t)(C / group), mg = (size_t)(M / group);
  int64_t x0 = zp_at(xzp, 0), oidx[MAX_SP], kidx[MAX_SP];
  for (int64_t n = 0; n < N; n++)
    for (int64_t m = 0; m < M; m++) {
      int64_t w0 = zp_at(wzp, (size_t)m);
      size_t g = (size_t)m / mg;
      for (size_t o = 0; o < sp.out_size; o++) {
        unravel(o, sp.n, sp.out, oidx);
        int64_t sum = 0;
        for (size_t ch = 0; ch < cg; ch++)
          for (size_t kk = 0; kk < sp.k_size; kk++) {
            unravel(kk, sp.n, sp.k, kidx);
            size_t off = 0;
            bool valid = true;
            for (int i = 0; i < sp.n && valid; i++) {
              int64_t pos = oidx[i] * sp.s[i] - sp.pb[i] + kidx[i] * sp.d[i];
              valid = pos >= 0 && pos < sp.in[i];
              off = off * (size_t)sp.in[i] + (size_t)pos;
            }
            if (!valid) continue; /* padding holds the zero point: contributes 0 */
            size_t xi = ((size_t)n * (size_t)C + g * cg + ch) * sp.in_size + off;
            size_t wi = ((size_t)m * cg + ch) * sp.k_size + kk;
            sum += ((int64_t)rq__elem_get(x->data, x->dtype, xi) - x0) * ((int64_t)rq__elem_get(w->data, w->dtype, wi) - w0);
          }
        (*acc)[((size_t)n * (size_t)M + (size_t)m) * sp.out_size + o] = sum;
      }
    }
  return RQ_OK;
}

static rq_status write_int32(rq__op_ctx *c, int ndim, const int64_t *dims, const int64_t *acc) {
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_INT32, ndim, dims, &y));
  for (size_t i = 0; i < y->numel; i++) rq__elem_set(y->data, RQ__DT_INT32, i, (double)acc[i]);
  return RQ_OK;
}

static rq_status op_conv_integer(rq__op_ctx *c) {
  const rq__tensor *x, *w;
  RQ_TRY(rq__op_need(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &w));
  int64_t dims[RQ__MAX_RANK], *acc = NULL;
  RQ_TRY(int_conv(c, x, w, rq__op_in(c, 2), rq__op_in(c, 3), dims, &acc));
  rq_status st = write_int32(c, x->ndim, dims, acc);
  rq__free(acc);
  return st;
}

/* y = saturate(round(acc * (s_in * s_w / s_y)) + y_zp), the multiplier in
 * float as ONNX Runtime computes it. */
static rq_status requantize(rq__op_ctx *c, int ndim, const int64_t *dims, const int64_t *acc, float s_in,
                            const rq__tensor *w_scale, size_t w_len, size_t w_stride, const rq__tensor *ys,
                            const rq__tensor *yzp) {
  if (ys->dtype != RQ__DT_FLOAT || ys->numel != 1 || w_scale->dtype != RQ__DT_FLOAT)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scales must be FLOAT, y_scale a scalar");
  int32_t out_type = yzp ? yzp->dtype : RQ__DT_UINT8;
  if (!is_q8(out_type) || (yzp && yzp->numel != 1)) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "y_zero_point must be one 8-bit value");
  double qmin = out_type == RQ__DT_UINT8 ? 0 : -128, qmax = out_type == RQ__DT_UINT8 ? 255 : 127;
  double z = yzp ? rq__elem_get(yzp->data, yzp->dtype, 0) : 0;
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, out_type, ndim, dims, &y));
  const float *wsd = w_scale->data;
  for (size_t i = 0; i < y->numel; i++) {
    size_t k = w_scale->numel == 1 ? 0 : (i / w_stride) % w_len;
    float mult = s_in * wsd[k] / *(const float *)ys->data;
    double v = (double)nearbyintf((float)acc[i] * mult) + z;
    rq__elem_set(y->data, out_type, i, v < qmin ? qmin : v > qmax ? qmax : v);
  }
  return RQ_OK;
}

static rq_status op_qlinear_conv(rq__op_ctx *c) {
  const rq__tensor *t[8];
  for (int i = 0; i < 8; i++)
    if (i != 2 && i != 5 && i != 7) RQ_TRY(rq__op_need(c, i, &t[i]));
  t[2] = rq__op_in(c, 2);
  t[5] = rq__op_in(c, 5);
  t[7] = rq__op_in(c, 7);
  const rq__tensor *x = t[0], *xs = t[1], *w = t[3], *ws = t[4], *bias = rq__op_in(c, 8);
  if (xs->dtype != RQ__DT_FLOAT || xs->numel != 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "x_scale must be one FLOAT");
  int64_t dims[RQ__MAX_RANK], *acc = NULL;
  RQ_TRY(int_conv(c, x, w, t[2], t[5], dims, &acc));
  size_t M = (size_t)dims[1], P = 1;
  for (int d = 2; d < x->ndim; d++) P *= (size_t)dims[d];
  rq_status st = RQ_OK;
  if (ws->numel != 1 && ws->numel != M) st = RQ_OP_FAIL(c, RQ_ERR_FORMAT, "w_scale must have 1 or M values");
  if (st == RQ_OK && bias != NULL) {
    if (bias->dtype != RQ__DT_INT32 || bias->numel != M) st = RQ_OP_FAIL(c, RQ_ERR_FORMAT, "B must be INT32 [M]");
    size_t total = (size_t)dims[0] * M * P;
    for (size_t i = 0; st == RQ_OK && i < total; i++) acc[i] += ((const int32_t *)bias->data)[(i / P) % M];
  }
  if (st == RQ_OK)
    st = requantize(c, x->ndim, dims, acc, *(const float *)xs->data, ws, M, P, t[6], t[7]);
  rq__free(acc);
  return st;
}

/* acc = (A - a_zp[row]) @ (B - b_zp[col]) with MatMul's batch broadcasting. */
static rq_status int_matmul(rq__op_ctx *c, const rq__tensor *a, const rq__tensor *b, const rq__tensor *azp,
                            const rq__tensor *bzp, int *ndim, int64_t *ydims, int64_t **acc) {
  if (!is_q8(a->dtype) || !is_q8(b->dtype)) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "A and B must be 8-bit integers");
  if (a->ndim < 2 || b->ndim < 2) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "1-D operands");
  int64_t M = a->dims[a->ndim - 2], K = a->dims[a->ndim - 1], N = b->dims[b->ndim - 1];
  if (b->dims[b->ndim - 2] != K) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "inner dimensions differ");
  RQ_TRY(check_zp(c, azp, a, (size_t)M));
  RQ_TRY(check_zp(c, bzp, b, (size_t)N));
  rq__tensor ba = {.ndim = a->ndim - 2}, bb = {.ndim = b->ndim - 2};
  memcpy(ba.dims, a->dims, sizeof(int64_t) * (size_t)ba.ndim);
  memcpy(bb.dims, b->dims, sizeof(int64_t) * (size_t)bb.ndim);
  const rq__tensor *batch[2] = {&ba, &bb};
  rq__bcast bc;
  RQ_TRY(rq__bcast_init(c, &bc, 2, batch));
  *ndim = bc.ndim + 2;
  memcpy(ydims, bc.dims, sizeof(int64_t) * (size_t)bc.ndim);
  ydims[bc.ndim] = M;
  ydims[bc.ndim + 1] = N;
  size_t total = bc.numel * (size_t)(M * N);
  *acc = rq__calloc(total ? total : 1, sizeof **acc);
  if (*acc == NULL) return rq__nomem(c->node->op_type, total * sizeof **acc);
  for (size_t r = 0; r < bc.numel; r++) {
    size_t oa = 0, ob = 0, rem = r;
    for (int d = bc.ndim - 1; d >= 0; d--) {
      size_t i = rem % (size_t)bc.dims[d];
      rem /= (size_t)bc.dims[d];
      oa += i * (size_t)bc.strides[0][d];
      ob += i * (size_t)bc.strides[1][d];
    }
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) {
        int64_t sum = 0, za = zp_at(azp, (size_t)i), zb = zp_at(bzp, (size_t)j);
        for (int64_t k = 0; k < K; k++)
          sum += ((int64_t)rq__elem_get(a->data, a->dtype, oa * (size_t)(M * K) + (size_t)(i * K + k)) - za) *
                 ((int64_t)rq__elem_get(b->data, b->dtype, ob * (size_t)(K * N) + (size_t)(k * N + j)) - zb);
        (*acc)[r * (size_t)(M * N) + (size_t)(i * N + j)] = sum;
      }
  }
  return RQ_OK;
}

static rq_status op_matmul_integer(rq__op_ctx *c) {
  const rq__tensor *a, *b;
  RQ_TRY(rq__op_need(c, 0, &a));
  RQ_TRY(rq__op_need(c, 1, &b));
  int nd;
  int64_t dims[RQ__MAX_RANK], *acc = NULL;
  RQ_TRY(int_matmul(c, a, b, rq__op_in(c, 2), rq__op_in(c, 3), &nd, dims, &acc));
  rq_status st = write_int32(c, nd, dims, acc);
  rq__free(acc);
  return st;
}

static rq_status op_qlinear_matmul(rq__op_ctx *c) {
  const rq__tensor *t[8];
  for (int i = 0; i < 8; i++) RQ_TRY(rq__op_need(c, i, &t[i]));
  const rq__tensor *as = t[1], *bs = t[4];
  if (as->dtype != RQ__DT_FLOAT || as->numel != 1)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "a_scale other than one FLOAT");
  int nd;
  int64_t dims[RQ__MAX_RANK], *acc = NULL;
  RQ_TRY(int_matmul(c, t[0], t[3], t[2], t[5], &nd, dims, &acc));
  size_t N = (size_t)dims[nd - 1];
  rq_status st = RQ_OK;
  if (bs->numel != 1 && bs->numel != N) st = RQ_OP_FAIL(c, RQ_ERR_FORMAT, "b_scale must have 1 or N values");
  if (st == RQ_OK) st = requantize(c, nd, dims, acc, *(const float *)as->data, bs, N, 1, t[6], t[7]);
  rq__free(acc);
  return st;
}

/* ---- Reduce* ---- */

typedef enum reduce_kind { R_MEAN, R_SUM, R_MAX, R_MIN, R_PROD, R_SUM_SQUARE, R_L1, R_L2, R_LOG_SUM,
                           R_LOG_SUM_EXP } reduce_kind;

static rq_status reduce(rq__op_ctx *c, reduce_kind kind) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  bool extremum = kind == R_MAX || kind == R_MIN;
  /* ReduceMax/ReduceMin also take 8-bit integers (opset 12 on) and BOOL
   * (opset 20, False < True); their values are exact in double. */
  bool small = extremum && (x->dtype == RQ__DT_INT8 || x->dtype == RQ__DT_UINT8 ||
                            (x->dtype == RQ__DT_BOOL && c->opset >= 20));
  if (x->dtype != RQ__DT_FLOAT && x->dtype != RQ__DT_DOUBLE && x->dtype != RQ__DT_INT32 && x->dtype != RQ__DT_INT64 &&
      !small)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "element type %s", rq__dtype_name(x->dtype));
  int64_t axes[RQ__MAX_RANK];
  size_t n_axes = 0;
  const rq__tensor *axes_t = rq__op_in(c, 1);
  if (axes_t != NULL) {
    RQ_TRY(rq__op_ints(c, axes_t, axes, RQ__MAX_RANK, &n_axes));
  } else {
    const int64_t *a = rq__node_attr_ints(c->node, "axes", &n_axes);
    if (n_axes > RQ__MAX_RANK) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "too many axes");
    if (a) memcpy(axes, a, sizeof *a * n_axes);
  }
  bool keep = rq__node_attr_int(c->node, "keepdims", 1) != 0;
  bool noop = rq__node_attr_int(c->node, "noop_with_empty_axes", 0) != 0;
  bool reduced[RQ__MAX_RANK] = {false};
  for (size_t i = 0; i < n_axes; i++) {
    int a;
    RQ_TRY(rq__op_axis(c, axes[i], x->ndim, &a));
    reduced[a] = true;
  }
  if (n_axes == 0 && !noop)
    for (int d = 0; d < x->ndim; d++) reduced[d] = true;
  int64_t ydims[RQ__MAX_RANK], ostride[RQ__MAX_RANK];
  int nd = 0;
  for (int d = 0; d < x->ndim; d++) {
    if (!reduced[d]) ydims[nd++] = x->dims[d];
    else if (keep) ydims[nd++] = 1;
  }
  int64_t s = 1;
  for (int d = x->ndim - 1; d >= 0; d--) {
    ostride[d] = reduced[d] ? 0 : s;
    if (!reduced[d]) s *= x->dims[d];
  }
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, nd, ydims, &y));
  double *acc = rq__calloc(y->numel ? y->numel : 1, sizeof *acc);
  if (acc == NULL) return rq__nomem("Reduce", y->numel * sizeof *acc);
  double init = kind == R_MAX ? -INFINITY : kind == R_MIN ? INFINITY : kind == R_PROD ? 1 : 0;
  /* An empty reduction gives -inf / +inf, saturated to the integer types'
   * bounds on output; BOOL's bounds are False and True. */
  if (x->dtype == RQ__DT_BOOL) init = kind == R_MIN;
  for (size_t i = 0; i < y->numel; i++) acc[i] = init;
  /* log-sum-exp is shifted by the max for stability: first pass finds it. */
  double *mx = NULL;
  if (kind == R_LOG_SUM_EXP) {
    mx = rq__malloc_array(y->numel ? y->numel : 1, sizeof *mx);
    if (mx == NULL) {
      rq__free(acc);
      return rq__nomem("Reduce", y->numel * sizeof *mx);
    }
    for (size_t i = 0; i < y->numel; i++) mx[i] = -INFINITY;
  }
  for (int pass = mx ? 0 : 1; pass < 2; pass++) {
    int64_t idx[RQ__MAX_RANK] = {0};
    size_t off = 0;
    for (size_t i = 0; i < x->numel; i++) {
      double v = rq__elem_get(x->data, x->dtype, i);
      double *a = &acc[off];
      if (pass == 0) {
        if (v > mx[off]) mx[off] = v;
      } else {
        switch (kind) {
          case R_MEAN: case R_SUM: case R_LOG_SUM: *a += v; break;
          case R_MAX: if (v > *a || isnan(v)) *a = v; break;
          case R_MIN: if (v < *a || isnan(v)) *a = v; break;
          case R_PROD: *a *= v; break;
          case R_SUM_SQUARE: case R_L2: *a += v * v; break;
          case R_L1: *a += fabs(v); break;
          case R_LOG_SUM_EXP: *a += exp(v - mx[off]); break;
        }
      }
      for (int d = x->ndim - 1; d >= 0; d--) {
        off += (size_t)ostride[d];
        if (++idx[d] < x->dims[d]) break;
        off -= (size_t)(ostride[d] * x->dims[d]);
        idx[d] = 0;
      }
    }
  }
  size_t count = y->numel ? x->numel / y->numel : 0;
  for (size_t i = 0; i < y->numel; i++) {
    double v = acc[i];
    switch (kind) {
      case R_MEAN: v = v / (double)count; break;
      case R_L2: v = sqrt(v); break;
      case R_LOG_SUM: v = log(v); break;
      case R_LOG_SUM_EXP: v = log(v) + mx[i]; break;
      default: break;
    }
    rq__elem_set(y->data, y->dtype, i, v);
  }
  rq__free(acc);
  rq__free(mx);
  return RQ_OK;
}

#define REDUCE_OP(NAME, KIND) \
  static rq_status NAME(rq__op_ctx *c) { return reduce(c, KIND); }
REDUCE_OP(op_reduce_mean, R_MEAN)
REDUCE_OP(op_reduce_sum, R_SUM)
REDUCE_OP(op_reduce_max, R_MAX)
REDUCE_OP(op_reduce_min, R_MIN)
REDUCE_OP(op_reduce_prod, R_PROD)
REDUCE_OP(op_reduce_sum_square, R_SUM_SQUARE)
REDUCE_OP(op_reduce_l1, R_L1)
REDUCE_OP(op_reduce_l2, R_L2)
REDUCE_OP(op_reduce_log_sum, R_LOG_SUM)
REDUCE_OP(op_reduce_log_sum_exp, R_LOG_SUM_EXP)

const rq__op_entry rq__ops_nn[] = {
  {"Conv", op_conv}, {"ConvTranspose", op_conv_transpose}, {"Gemm", op_gemm}, {"MatMul", op_matmul},
  {"MaxPool", op_max_pool}, {"AveragePool", op_average_pool},
  {"GlobalAveragePool", op_global_average_pool}, {"GlobalMaxPool", op_global_max_pool},
  {"LpPool", op_lp_pool}, {"GlobalLpPool", op_global_lp_pool},
  {"BatchNormalization", op_batch_norm}, {"LayerNormalization", op_layer_norm},
  {"InstanceNormalization", op_instance_norm}, {"LRN", op_lrn}, {"Hardmax", op_hardmax},
  {"CumSum", op_cumsum}, {"TopK", op_topk}, {"ConvInteger", op_conv_integer}, {"QLinearConv", op_qlinear_conv},
  {"MatMulInteger", op_matmul_integer}, {"QLinearMatMul", op_qlinear_matmul},
  {"NegativeLogLikelihoodLoss", op_nll_loss}, {"SoftmaxCrossEntropyLoss", op_softmax_cross_entropy},
  {"ReduceMean", op_reduce_mean}, {"ReduceSum", op_reduce_sum}, {"ReduceMax", op_reduce_max},
  {"ReduceMin", op_reduce_min}, {"ReduceProd", op_reduce_prod}, {"ReduceSumSquare", op_reduce_sum_square},
  {"ReduceL1", op_reduce_l1}, {"ReduceL2", op_reduce_l2}, {"ReduceLogSum", op_reduce_log_sum},
  {"ReduceLogSumExp", op_reduce_log_sum_exp}, {"MeanVarianceNormalization", op_mvn}, {"MaxUnpool", op_max_unpool},
  {NULL, NULL},
};
