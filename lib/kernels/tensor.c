/* SPDX-License-Identifier: Apache-2.0 */
/* Kernels on DLTensors of any strides. A tensor (or a pair x -> y) is walked as
 * contiguous inner runs: dimensions that are contiguous in every operand are
 * merged, so a contiguous tensor is one run and a channel slice of an NCHW
 * tensor is one run per (n, c). Where the innermost dimension is strided, the
 * run is gathered into a small buffer (and an output scattered back), so the
 * SIMD kernels still see contiguous memory. */
#include "kernels/kernels.h"

#include <math.h>
#include <string.h>

#define RQ_MAX_DIMS 32
#define RQ_GATHER_ELEMS 512

/* Up to two operands walked in lockstep over one logical shape. */
typedef struct rq_walk {
  int ndim;
  int64_t shape[RQ_MAX_DIMS];
  int64_t stride[2][RQ_MAX_DIMS]; /* in bytes */
  char *base[2];
  int operands;      /* 1: input only; 2: input and output */
  size_t elem_bytes;
} rq_walk;

/* Called for each run: a (input) and b (output or NULL) hold n contiguous
 * elements; index is the logical (row-major) index of the run's first element. */
typedef void (*rq_run_fn)(void *ctx, const void *a, void *b, size_t n, size_t index);

static void rq_walk_add_dim(rq_walk *w, int64_t size, const int64_t stride[2]) {
  if (size == 1) return; /* size-1 dims never affect the walk */
  if (w->ndim > 0) {
    /* Merge with the dimension outside it when that one steps over exactly
     * this one in every operand (walked from the innermost dim outward, so
     * w holds dims innermost-first at this point). */
    int last = w->ndim - 1;
    bool merge = true;
    for (int k = 0; k < w->operands; k++)
      if (stride[k] != w->stride[k][last] * w->shape[last]) merge = false;
    if (merge) {
      w->shape[last] *= size;
      return;
    }
  }
  w->shape[w->ndim] = size;
  for (int k = 0; k < w->operands; k++) w->stride[k][w->ndim] = stride[k];
  w->ndim++;
}

/* Builds the walk of dims [first, last) of the operands, innermost first. */
static void rq_walk_init(rq_walk *w, int operands, size_t elem_bytes, char *const base[2],
                         const int64_t *shape, const int64_t *const strides[2], int first,
                         int last) {
  memset(w, 0, sizeof *w);
  w->operands = operands;
  w->elem_bytes = elem_bytes;
  for (int k = 0; k < operands; k++) w->base[k] = base[k];
  for (int d = last - 1; d >= first; d--) {
    int64_t stride[2] = { 0, 0 };
    for (int k = 0; k < operands; k++) stride[k] = strides[k][d] * (int64_t)elem_bytes;
    rq_walk_add_dim(w, shape[d], stride);
  }
}

/* Visits every run of w in row-major order; index0 is the logical index of
 * the walk's first element. */
static void rq_walk_run(const rq_walk *w, rq_run_fn fn, void *ctx, size_t index0) {
  if (w->ndim == 0) { /* a single element */
    fn(ctx, w->base[0], w->operands > 1 ? w->base[1] : NULL, 1, index0);
    return;
  }
  size_t es = w->elem_bytes;
  size_t inner = (size_t)w->shape[0];
  bool contiguous = true;
  for (int k = 0; k < w->operands; k++)
    if (w->stride[k][0] != (int64_t)es) contiguous = false;

  int64_t pos[RQ_MAX_DIMS] = { 0 };
  size_t index = index0;
  for (;;) {
    char *p[2] = { w->base[0], w->operands > 1 ? w->base[1] : NULL };
    for (int d = 1; d < w->ndim; d++)
      for (int k = 0; k < w->operands; k++) p[k] += pos[d] * w->stride[k][d];
    if (contiguous) {
      fn(ctx, p[0], p[1], inner, index);
    } else {
      /* Gather the strided run in chunks; scatter the output back. */
      unsigned char in_buf[RQ_GATHER_ELEMS * 4], out_buf[RQ_GATHER_ELEMS * 4];
      for (size_t done = 0; done < inner; done += RQ_GATHER_ELEMS) {
        size_t n = inner - done < RQ_GATHER_ELEMS ? inner - done : RQ_GATHER_ELEMS;
        for (size_t i = 0; i < n; i++)
          memcpy(in_buf + i * es, p[0] + (int64_t)(done + i) * w->stride[0][0], es);
        fn(ctx, in_buf, p[1] ? out_buf : NULL, n, index + done);
        if (p[1])
          for (size_t i = 0; i < n; i++)
            memcpy(p[1] + (int64_t)(done + i) * w->stride[1][0], out_buf + i * es, es);
      }
    }
    index += inner;
    int d = 1;
    for (; d < w->ndim; d++) {
      if (++pos[d] < w->shape[d]) break;
      pos[d] = 0;
    }
    if (d == w->ndim) return;
  }
}

/* ---- argument checks ---- */

static rq_status rq_check_tensor(const DLTensor *t, const char *where, const char *name,
                                 rq__elem *elem) {
  if (t == NULL) return rq__fail(RQ_ERR_INVALID_ARG, where, "%s is NULL", name);
  if (t->device.device_type != kDLCPU && t->device.device_type != kDLCUDAHost)
    return rq__fail(RQ_ERR_UNSUPPORTED, where, "%s is not in CPU memory", name);
  if (t->ndim < 0 || t->ndim > RQ_MAX_DIMS)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "%s has %d dimensions (razorq handles 0..%d)",
                    name, t->ndim, RQ_MAX_DIMS);
  if (t->ndim > 0 && t->shape == NULL)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "%s has ndim %d but no shape", name, t->ndim);
  if (!rq__elem_from_dtype(t->dtype, elem))
    return rq__fail(RQ_ERR_UNSUPPORTED, where,
                    "%s has dtype code %u bits %u lanes %u (expected float32, float16 or bfloat16)",
                    name, t->dtype.code, t->dtype.bits, t->dtype.lanes);
  size_t numel;
  if (rq__tensor_numel(t, &numel) != RQ_OK)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "%s has a negative or overflowing shape", name);
  if (numel > 0 && t->data == NULL)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "%s has no data", name);
  return RQ_OK;
}

rq_status rq__tensor_numel(const DLTensor *t, size_t *numel) {
  RQ_CHECK_NOT_NULL(t);
  RQ_CHECK_NOT_NULL(numel);
  size_t n = 1;
  for (int d = 0; d < t->ndim; d++) {
    if (t->shape[d] < 0 || !rq__mul_size(n, (size_t)t->shape[d], &n))
      return rq__fail(RQ_ERR_INVALID_ARG, __func__, "bad shape[%d]", d);
  }
  *numel = n;
  return RQ_OK;
}

/* Element strides of t (contiguous when t->strides is NULL). */
static void rq_tensor_strides(const DLTensor *t, int64_t *strides) {
  int64_t s = 1;
  for (int d = t->ndim - 1; d >= 0; d--) {
    strides[d] = t->strides ? t->strides[d] : s;
    s *= t->shape[d];
  }
}

static char *rq_tensor_data(const DLTensor *t) { return (char *)t->data + t->byte_offset; }

static bool rq_is_contiguous(const DLTensor *t) {
  if (t->strides == NULL) return true;
  int64_t s = 1;
  for (int d = t->ndim - 1; d >= 0; d--) {
    if (t->shape[d] != 1 && t->strides[d] != s) return false;
    s *= t->shape[d];
  }
  return true;
}

void rq__tensor_copy_contiguous(const DLTensor *t, size_t numel, size_t esize, void *dst) {
  const char *src = rq_tensor_data(t);
  if (rq_is_contiguous(t)) {
    if (numel > 0) memcpy(dst, src, numel * esize);
    return;
  }
  int64_t idx[RQ_MAX_DIMS] = {0}; /* callers checked ndim <= RQ_MAX_DIMS */
  for (size_t e = 0; e < numel; e++) {
    int64_t off = 0;
    for (int d = 0; d < t->ndim; d++) off += idx[d] * t->strides[d];
    memcpy((char *)dst + e * esize, src + off * (int64_t)esize, esize);
    for (int d = t->ndim - 1; d >= 0; d--) {
      if (++idx[d] < t->shape[d]) break;
      idx[d] = 0;
    }
  }
}

static rq_status rq_resolve_axis(const DLTensor *x, int axis, const char *where, int *out) {
  int a = axis < 0 ? axis + x->ndim : axis;
  if (a < 0 || a >= x->ndim)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "axis %d is outside a %d-dimensional tensor",
                    axis, x->ndim);
  *out = a;
  return RQ_OK;
}

/* ---- per-tensor reductions ---- */

typedef struct rq_minmax_ctx {
  void (*kernel)(const void *, size_t, float *, float *, uint64_t *);
  float min, max;
  uint64_t nonfinite;
} rq_minmax_ctx;

static void rq_minmax_run(void *ctx, const void *a, void *b, size_t n, size_t index) {
  (void)b, (void)index;
  rq_minmax_ctx *c = ctx;
  c->kernel(a, n, &c->min, &c->max, &c->nonfinite);
}

/* Walks dims [first, last) of x from data with one operand. */
static void rq_walk_input(const DLTensor *x, char *data, const int64_t *strides, rq__elem elem,
                          int first, int last, rq_run_fn fn, void *ctx, size_t index0) {
  rq_walk w;
  char *base[2] = { data, NULL };
  const int64_t *st[2] = { strides, NULL };
  rq_walk_init(&w, 1, rq__elem_size(elem), base, x->shape, st, first, last);
  rq_walk_run(&w, fn, ctx, index0);
}

rq_status rq__tensor_minmax(const DLTensor *x, float *min, float *max, uint64_t *nonfinite) {
  rq__elem elem;
  RQ_TRY(rq_check_tensor(x, __func__, "x", &elem));
  RQ_CHECK_NOT_NULL(min);
  RQ_CHECK_NOT_NULL(max);
  RQ_CHECK_NOT_NULL(nonfinite);
  size_t numel;
  RQ_TRY(rq__tensor_numel(x, &numel));
  if (numel == 0) return RQ_OK;
  int64_t strides[RQ_MAX_DIMS];
  rq_tensor_strides(x, strides);
  rq_minmax_ctx c = { rq__kernels()->minmax[elem], *min, *max, 0 };
  rq_walk_input(x, rq_tensor_data(x), strides, elem, 0, x->ndim, rq_minmax_run, &c, 0);
  *min = c.min;
  *max = c.max;
  *nonfinite += c.nonfinite;
  return RQ_OK;
}

rq_status rq__tensor_minmax_channels(const DLTensor *x, int axis, float *mins, float *maxs,
                                     uint64_t *nonfinite) {
  rq__elem elem;
  RQ_TRY(rq_check_tensor(x, __func__, "x", &elem));
  RQ_CHECK_NOT_NULL(mins);
  RQ_CHECK_NOT_NULL(maxs);
  RQ_CHECK_NOT_NULL(nonfinite);
  int a = 0;
  RQ_TRY(rq_resolve_axis(x, axis, __func__, &a));
  size_t numel;
  RQ_TRY(rq__tensor_numel(x, &numel));
  if (numel == 0) return RQ_OK;
  const struct rq__kernels *k = rq__kernels();
  size_t outer = 1, channels = (size_t)x->shape[a], inner = 1;
  for (int d = 0; d < a; d++) outer *= (size_t)x->shape[d];
  for (int d = a + 1; d < x->ndim; d++) inner *= (size_t)x->shape[d];
  if (rq_is_contiguous(x)) {
    k->minmax_channels[elem](rq_tensor_data(x), outer, channels, inner, mins, maxs, nonfinite);
    return RQ_OK;
  }
  /* Strided: every (outer position, channel) slice is a sub-tensor of the
   * dims after the axis, walked as runs. */
  int64_t strides[RQ_MAX_DIMS];
  rq_tensor_strides(x, strides);
  size_t es = rq__elem_size(elem);
  uint64_t bad = 0;
  for (size_t o = 0; o < outer; o++) {
    int64_t offset = 0;
    size_t rest = o;
    for (int d = a - 1; d >= 0; d--) {
      offset += (int64_t)(rest % (size_t)x->shape[d]) * strides[d];
      rest /= (size_t)x->shape[d];
    }
    for (size_t c = 0; c < channels; c++) {
      rq_minmax_ctx ctx = { k->minmax[elem], mins[c], maxs[c], 0 };
      char *slice = rq_tensor_data(x) + (offset + (int64_t)c * strides[a]) * (int64_t)es;
      rq_walk_input(x, slice, strides, elem, a + 1, x->ndim, rq_minmax_run, &ctx, 0);
      mins[c] = ctx.min;
      maxs[c] = ctx.max;
      bad += ctx.nonfinite;
    }
  }
  *nonfinite += bad;
  return RQ_OK;
}

typedef struct rq_hist_ctx {
  void (*kernel)(const void *, size_t, float, float, uint64_t *, size_t);
  float lo, hi;
  uint64_t *counts;
  size_t bins;
} rq_hist_ctx;

static void rq_hist_run(void *ctx, const void *a, void *b, size_t n, size_t index) {
  (void)b, (void)index;
  rq_hist_ctx *c = ctx;
  c->kernel(a, n, c->lo, c->hi, c->counts, c->bins);
}

rq_status rq__tensor_histogram(const DLTensor *x, float lo, float hi, uint64_t *counts,
                               size_t bins) {
  rq__elem elem;
  RQ_TRY(rq_check_tensor(x, __func__, "x", &elem));
  RQ_CHECK_NOT_NULL(counts);
  RQ_CHECK_ARG(bins >= 1 && bins <= (1u << 24), "bins: %zu is outside 1..2^24", bins);
  RQ_CHECK_ARG(isfinite(lo) && isfinite(hi) && lo < hi && isfinite(hi - lo),
               "range [%g, %g] must be finite with lo < hi", (double)lo, (double)hi);
  size_t numel;
  RQ_TRY(rq__tensor_numel(x, &numel));
  if (numel == 0) return RQ_OK;
  int64_t strides[RQ_MAX_DIMS];
  rq_tensor_strides(x, strides);
  rq_hist_ctx c = { rq__kernels()->histogram[elem], lo, hi, counts, bins };
  rq_walk_input(x, rq_tensor_data(x), strides, elem, 0, x->ndim, rq_hist_run, &c, 0);
  return RQ_OK;
}

typedef struct rq_minmax_hist_ctx {
  void (*kernel)(const void *, size_t, float, float, uint64_t *, size_t, float *, float *,
                 uint64_t *);
  float lo, hi, min, max;
  uint64_t *counts, nonfinite;
  size_t bins;
} rq_minmax_hist_ctx;

static void rq_minmax_hist_run(void *ctx, const void *a, void *b, size_t n, size_t index) {
  (void)b, (void)index;
  rq_minmax_hist_ctx *c = ctx;
  c->kernel(a, n, c->lo, c->hi, c->counts, c->bins, &c->min, &c->max, &c->nonfinite);
}

rq_status rq__tensor_minmax_histogram(const DLTensor *x, float lo, float hi, uint64_t *counts,
                                      size_t bins, float *min, float *max, uint64_t *nonfinite) {
  rq__elem elem;
  RQ_TRY(rq_check_tensor(x, __func__, "x", &elem));
  RQ_CHECK_NOT_NULL(counts);
  RQ_CHECK_NOT_NULL(min);
  RQ_CHECK_NOT_NULL(max);
  RQ_CHECK_NOT_NULL(nonfinite);
  RQ_CHECK_ARG(bins >= 1 && bins <= (1u << 24), "bins: %zu is outside 1..2^24", bins);
  RQ_CHECK_ARG(isfinite(lo) && isfinite(hi) && lo < hi && isfinite(hi - lo),
               "range [%g, %g] must be finite with lo < hi", (double)lo, (double)hi);
  size_t numel;
  RQ_TRY(rq__tensor_numel(x, &numel));
  if (numel == 0) return RQ_OK;
  int64_t strides[RQ_MAX_DIMS];
  rq_tensor_strides(x, strides);
  rq_minmax_hist_ctx c = { rq__kernels()->minmax_histogram[elem], lo, hi, *min, *max, counts, 0,
                           bins };
  rq_walk_input(x, rq_tensor_data(x), strides, elem, 0, x->ndim, rq_minmax_hist_run, &c, 0);
  *min = c.min;
  *max = c.max;
  *nonfinite += c.nonfinite;
  return RQ_OK;
}

/* ---- fake-quant ---- */

typedef struct rq_fq_ctx {
  void (*kernel)(const void *, void *, uint8_t *, size_t, float, int32_t, int32_t, int32_t);
  uint8_t *mask;
  float scale;
  int32_t zero_point, qmin, qmax;
} rq_fq_ctx;

static void rq_fq_run(void *ctx, const void *a, void *b, size_t n, size_t index) {
  rq_fq_ctx *c = ctx;
  c->kernel(a, b, c->mask ? c->mask + index : NULL, n, c->scale, c->zero_point, c->qmin, c->qmax);
}

static bool rq_qparam_ok(float scale, int32_t zero_point) {
  return isfinite(scale) && scale > 0.0f && isfinite(1.0f / scale) && zero_point >= -(1 << 24) &&
         zero_point <= (1 << 24);
}

rq_status rq__tensor_fake_quant(const DLTensor *x, DLTensor *y, uint8_t *mask, int axis,
                                const float *scale, const int32_t *zero_point, int32_t qmin,
                                int32_t qmax) {
  rq__elem elem, yelem;
  RQ_TRY(rq_check_tensor(x, __func__, "x", &elem));
  RQ_TRY(rq_check_tensor(y, __func__, "y", &yelem));
  RQ_CHECK_NOT_NULL(scale);
  RQ_CHECK_NOT_NULL(zero_point);
  RQ_CHECK_ARG(yelem == elem, "y's dtype differs from x's");
  RQ_CHECK_ARG(y->ndim == x->ndim, "y has %d dimensions, x has %d", y->ndim, x->ndim);
  for (int d = 0; d < x->ndim; d++)
    RQ_CHECK_ARG(y->shape[d] == x->shape[d], "y's shape[%d] is %lld, x's is %lld", d,
                 (long long)y->shape[d], (long long)x->shape[d]);
  RQ_CHECK_ARG(qmin <= qmax && qmin >= -(1 << 24) && qmax <= (1 << 24),
               "quant range [%d, %d] must be ordered and within +-2^24", qmin, qmax);
  int a = -1;
  size_t channels = 1;
  if (axis != RQ__PER_TENSOR) {
    RQ_TRY(rq_resolve_axis(x, axis, __func__, &a));
    channels = (size_t)x->shape[a];
  }
  for (size_t c = 0; c < channels; c++)
    RQ_CHECK_ARG(rq_qparam_ok(scale[c], zero_point[c]),
                 "scale[%zu] = %g / zero_point[%zu] = %d: scale must be finite and > 0, "
                 "zero_point within +-2^24", c, (double)scale[c], c, zero_point[c]);
  size_t numel;
  RQ_TRY(rq__tensor_numel(x, &numel));
  if (numel == 0) return RQ_OK;

  const struct rq__kernels *k = rq__kernels();
  int64_t xs[RQ_MAX_DIMS], ys[RQ_MAX_DIMS];
  rq_tensor_strides(x, xs);
  rq_tensor_strides(y, ys);
  char *base[2] = { rq_tensor_data(x), rq_tensor_data(y) };
  const int64_t *st[2] = { xs, ys };
  size_t es = rq__elem_size(elem);
  rq_fq_ctx c = { k->fake_quant[elem], mask, scale[0], zero_point[0], qmin, qmax };
  rq_walk w;
  if (a < 0) {
    rq_walk_init(&w, 2, es, base, x->shape, st, 0, x->ndim);
    rq_walk_run(&w, rq_fq_run, &c, 0);
    return RQ_OK;
  }
  size_t outer = 1, inner = 1;
  for (int d = 0; d < a; d++) outer *= (size_t)x->shape[d];
  for (int d = a + 1; d < x->ndim; d++) inner *= (size_t)x->shape[d];
  if (rq_is_contiguous(x) && rq_is_contiguous(y)) {
    k->fake_quant_channels[elem](base[0], base[1], mask, outer, channels, inner, scale,
                                 zero_point, qmin, qmax);
    return RQ_OK;
  }
  for (size_t o = 0; o < outer; o++) {
    int64_t xoff = 0, yoff = 0;
    size_t rest = o;
    for (int d = a - 1; d >= 0; d--) {
      int64_t p = (int64_t)(rest % (size_t)x->shape[d]);
      xoff += p * xs[d];
      yoff += p * ys[d];
      rest /= (size_t)x->shape[d];
    }
    for (size_t ch = 0; ch < channels; ch++) {
      char *sub[2] = { base[0] + (xoff + (int64_t)ch * xs[a]) * (int64_t)es,
                       base[1] + (yoff + (int64_t)ch * ys[a]) * (int64_t)es };
      c.scale = scale[ch];
      c.zero_point = zero_point[ch];
      rq_walk_init(&w, 2, es, sub, x->shape, st, a + 1, x->ndim);
      rq_walk_run(&w, rq_fq_run, &c, (o * channels + ch) * inner);
    }
  }
  return RQ_OK;
}
