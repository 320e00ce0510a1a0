/* SPDX-License-Identifier: Apache-2.0 */
/* The layout ops new in opset 18: Col2Im and CenterCropPad.
 *
 * Col2Im is PyTorch's fold for any number of spatial dimensions: every
 * column entry (a channel, an offset inside the block, a block position)
 * lands on one image pixel or in the padding, and entries landing on the
 * same pixel add up. Which pixel depends on neither the batch nor the
 * channel, so the destinations of one [prod(block_shape), L] plane are
 * computed once and every plane is a scatter-add through them,
 * in PyTorch's col2im order (block offset outer, block position inner).
 *
 * CenterCropPad only moves bytes: each output row (the last dimension) is
 * one memcpy of the part that overlaps the input, the rest stays zero. */
#include "exec/exec.h"

#include <string.h>

/* ---- Col2Im ---- */

#define MAX_SPATIAL (RQ__MAX_RANK - 2)

/* Reads a spatial-dims INTS attribute of `want` values, each >= lo;
 * absent = every value dflt. */
static rq_status spatial_attr(const rq__op_ctx *c, const char *name, size_t want, int64_t lo, int64_t dflt,
                              int64_t *out) {
  size_t n;
  const int64_t *v = rq__node_attr_ints(c->node, name, &n);
  for (size_t i = 0; i < want; i++) out[i] = dflt;
  if (v == NULL) return RQ_OK;
  if (n != want) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%s has %zu values, expected %zu", name, n, want);
  for (size_t i = 0; i < n; i++) {
    if (v[i] < lo)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%s[%zu] = %lld; it must be at least %lld", name, i, (long long)v[i],
                        (long long)lo);
    out[i] = v[i];
  }
  return RQ_OK;
}

/* Reads image_shape or block_shape: a 1-D int tensor whose values are >= lo. */
static rq_status shape_input(const rq__op_ctx *c, int i, const char *name, int64_t lo, int64_t *out, size_t *n) {
  const rq__tensor *t;
  RQ_TRY(rq__op_need(c, i, &t));
  if (t->ndim != 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%s must be 1-D, got rank %d", name, t->ndim);
  if (t->numel > MAX_SPATIAL)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "%s has %zu values; at most %d spatial dimensions are supported",
                      name, t->numel, MAX_SPATIAL);
  RQ_TRY(rq__op_ints(c, t, out, MAX_SPATIAL, n));
  for (size_t d = 0; d < *n; d++)
    if (out[d] < lo)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%s[%zu] = %lld; it must be at least %lld", name, d, (long long)out[d],
                        (long long)lo);
  return RQ_OK;
}

/* The geometry of a fold: S spatial dims; per dim the image size, block
 * size, dilation, stride, leading pad and the number of block positions. */
typedef struct fold_geometry {
  size_t s;
  int64_t image[MAX_SPATIAL], block[MAX_SPATIAL], dilation[MAX_SPATIAL], stride[MAX_SPATIAL];
  int64_t pad_begin[MAX_SPATIAL], positions[MAX_SPATIAL];
  size_t block_size; /* prod(block) */
  size_t n_blocks;   /* prod(positions) = L */
  size_t image_size; /* prod(image) */
} fold_geometry;

/* Reads and checks the inputs and attributes against x [N, C * prod(block), L]. */
static rq_status fold_geometry_init(const rq__op_ctx *c, const rq__tensor *x, fold_geometry *g) {
  size_t n_block;
  RQ_TRY(shape_input(c, 1, "image_shape", 0, g->image, &g->s));
  RQ_TRY(shape_input(c, 2, "block_shape", 1, g->block, &n_block));
  if (g->s == 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "image_shape is empty; at least one spatial dimension is needed");
  if (n_block != g->s)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "block_shape has %zu values, image_shape %zu", n_block, g->s);
  int64_t pads[2 * MAX_SPATIAL];
  RQ_TRY(spatial_attr(c, "dilations", g->s, 1, 1, g->dilation));
  RQ_TRY(spatial_attr(c, "strides", g->s, 1, 1, g->stride));
  RQ_TRY(spatial_attr(c, "pads", 2 * g->s, 0, 0, pads));
  g->block_size = g->n_blocks = g->image_size = 1;
  for (size_t d = 0; d < g->s; d++) {
    /* positions = (image + pads - dilation * (block - 1) - 1) / stride + 1 */
    int64_t padded, span, room;
    if (__builtin_add_overflow(g->image[d], pads[d], &padded) ||
        __builtin_add_overflow(padded, pads[g->s + d], &padded) ||
        __builtin_mul_overflow(g->dilation[d], g->block[d] - 1, &span) || __builtin_add_overflow(span, 1, &span))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "spatial dimension %zu: the sizes overflow", d);
    room = padded - span;
    if (room < 0)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT,
                        "spatial dimension %zu: the dilated block (%lld) is larger than the padded image (%lld)", d,
                        (long long)span, (long long)padded);
    g->pad_begin[d] = pads[d];
    g->positions[d] = room / g->stride[d] + 1;
    if (!rq__mul_size(g->block_size, (size_t)g->block[d], &g->block_size) ||
        !rq__mul_size(g->n_blocks, (size_t)g->positions[d], &g->n_blocks) ||
        !rq__mul_size(g->image_size, (size_t)g->image[d], &g->image_size))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "the block or image sizes overflow");
  }
  if ((uint64_t)x->dims[1] % g->block_size != 0)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input dimension 1 (%lld) is not a multiple of prod(block_shape) = %zu",
                      (long long)x->dims[1], g->block_size);
  if ((uint64_t)x->dims[2] != g->n_blocks)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT,
                      "input dimension 2 (%lld) must be the number of blocks image_shape, block_shape, pads, "
                      "dilations and strides give, %zu",
                      (long long)x->dims[2], g->n_blocks);
  return RQ_OK;
}

/* dest[k * L + l]: the offset in an image plane of block offset k at block
 * position l, or SIZE_MAX when it falls in the padding. */
static void fold_destinations(const fold_geometry *g, size_t *dest) {
  int64_t off[MAX_SPATIAL] = {0}; /* block offset, row-major over block */
  size_t i = 0;
  for (size_t k = 0; k < g->block_size; k++) {
    int64_t pos[MAX_SPATIAL] = {0}; /* block position, row-major over positions */
    for (size_t l = 0; l < g->n_blocks; l++, i++) {
      size_t at = 0;
      bool inside = true;
      for (size_t d = 0; d < g->s && inside; d++) {
        /* No overflow: pos * stride + off * dilation <= image + pads - 1 (see fold_geometry_init). */
        int64_t p = pos[d] * g->stride[d] + off[d] * g->dilation[d] - g->pad_begin[d];
        inside = p >= 0 && p < g->image[d];
        at = at * (size_t)g->image[d] + (size_t)p;
      }
      dest[i] = inside ? at : SIZE_MAX;
      for (size_t d = g->s; d-- > 0;) {
        if (++pos[d] < g->positions[d]) break;
        pos[d] = 0;
      }
    }
    for (size_t d = g->s; d-- > 0;) {
      if (++off[d] < g->block[d]) break;
      off[d] = 0;
    }
  }
}

static rq_status op_col2im(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  int32_t dt = x->dtype;
  if (dt != RQ__DT_FLOAT && dt != RQ__DT_DOUBLE && dt != RQ__DT_FLOAT16 && dt != RQ__DT_BFLOAT16)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "input has element type %s; FLOAT, DOUBLE, FLOAT16 or BFLOAT16 expected",
                      rq__dtype_name(dt));
  if (x->ndim != 3)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input must have rank 3 [N, C * prod(block_shape), L], got rank %d", x->ndim);
  fold_geometry g;
  RQ_TRY(fold_geometry_init(c, x, &g));
  int64_t dims[RQ__MAX_RANK] = {x->dims[0], (int64_t)((uint64_t)x->dims[1] / g.block_size)};
  memcpy(dims + 2, g.image, g.s * sizeof *dims);
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, dt, (int)g.s + 2, dims, &y));
  size_t planes = (size_t)dims[0] * (size_t)dims[1]; /* <= x->numel: a plane holds block_size >= 1 rows */
  if (planes == 0) return RQ_OK; /* an empty input: an empty or all-zero output */
  size_t plane_in = g.block_size * g.n_blocks;      /* <= x->numel: one plane of x */
  size_t *dest = rq__malloc_array(plane_in, sizeof *dest);
  if (dest == NULL) return rq__nomem(c->node->op_type, plane_in * sizeof *dest);
  /* FLOAT16/BFLOAT16 add up in a float plane, as FLOAT does. */
  bool half = dt == RQ__DT_FLOAT16 || dt == RQ__DT_BFLOAT16;
  float *acc = NULL;
  if (half && (acc = rq__malloc_array(g.image_size == 0 ? 1 : g.image_size, sizeof *acc)) == NULL) {
    rq__free(dest);
    return rq__nomem(c->node->op_type, g.image_size * sizeof *acc);
  }
  fold_destinations(&g, dest);
  for (size_t p = 0; p < planes; p++) {
    size_t in0 = p * plane_in, out0 = p * g.image_size;
    if (dt == RQ__DT_FLOAT) {
      const float *col = (const float *)x->data + in0;
      float *im = (float *)y->data + out0;
      for (size_t i = 0; i < plane_in; i++)
        if (dest[i] != SIZE_MAX) im[dest[i]] += col[i];
    } else if (dt == RQ__DT_DOUBLE) {
      const double *col = (const double *)x->data + in0;
      double *im = (double *)y->data + out0;
      for (size_t i = 0; i < plane_in; i++)
        if (dest[i] != SIZE_MAX) im[dest[i]] += col[i];
    } else {
      const uint16_t *col = (const uint16_t *)x->data + in0;
      uint16_t *im = (uint16_t *)y->data + out0;
      bool f16 = dt == RQ__DT_FLOAT16;
      memset(acc, 0, g.image_size * sizeof *acc);
      for (size_t i = 0; i < plane_in; i++)
        if (dest[i] != SIZE_MAX) acc[dest[i]] += f16 ? rq__half_to_float(col[i]) : rq__bf16_to_float(col[i]);
      for (size_t i = 0; i < g.image_size; i++) im[i] = f16 ? rq__float_to_half(acc[i]) : rq__float_to_bf16(acc[i]);
    }
  }
  rq__free(dest);
  rq__free(acc);
  return RQ_OK;
}

/* ---- CenterCropPad ---- */

static rq_status op_center_crop_pad(rq__op_ctx *c) {
  const rq__tensor *x, *shape_t;
  RQ_TRY(rq__op_need(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &shape_t));
  int r = x->ndim;
  if (shape_t->ndim != 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "shape must be 1-D, got rank %d", shape_t->ndim);
  int64_t shape[RQ__MAX_RANK];
  size_t n_shape, n_axes;
  RQ_TRY(rq__op_ints(c, shape_t, shape, RQ__MAX_RANK, &n_shape));
  const int64_t *axes = rq__node_attr_ints(c->node, "axes", &n_axes);
  if (axes == NULL) n_axes = (size_t)r;
  if (n_shape != n_axes)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "shape has %zu values for %zu axes", n_shape, n_axes);
  int64_t dims[RQ__MAX_RANK];
  bool seen[RQ__MAX_RANK] = {false};
  memcpy(dims, x->dims, (size_t)r * sizeof *dims);
  for (size_t i = 0; i < n_axes; i++) {
    int a = (int)i;
    if (axes != NULL) {
      if (axes[i] < -r || axes[i] >= r)
        return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axes[%zu] = %lld is out of range for rank %d", i, (long long)axes[i], r);
      a = (int)(axes[i] < 0 ? axes[i] + r : axes[i]);
    }
    /* The spec leaves a repeated axis undefined; refusing it is clearer than a silent pick. */
    if (seen[a]) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axis %d is given twice", a);
    seen[a] = true;
    if (shape[i] < 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "shape[%zu] = %lld is negative", i, (long long)shape[i]);
    dims[a] = shape[i];
  }
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, r, dims, &y));
  size_t es = rq__dtype_size(x->dtype);
  if (y->numel == 0 || x->numel == 0) return RQ_OK; /* nothing to copy; padding is zero */
  if (r == 0) {
    memcpy(y->data, x->data, es);
    return RQ_OK;
  }
  /* Output index o reads input index o + shift: a crop starts at
   * floor((in - out) / 2), a pad puts floor((out - in) / 2) zeros first
   * (so the odd pixel goes right for a pad, and the window shifts left for
   * a crop). */
  int64_t shift[RQ__MAX_RANK], in_stride[RQ__MAX_RANK];
  for (int d = 0; d < r; d++)
    shift[d] = x->dims[d] >= dims[d] ? (x->dims[d] - dims[d]) / 2 : -((dims[d] - x->dims[d]) / 2);
  in_stride[r - 1] = 1;
  for (int d = r - 1; d > 0; d--) in_stride[d - 1] = in_stride[d] * x->dims[d];
  /* The last dimension's overlap, the same on every row: output [o_lo, o_hi). */
  int last = r - 1;
  int64_t o_lo = shift[last] < 0 ? -shift[last] : 0;
  int64_t o_hi = x->dims[last] - shift[last] < dims[last] ? x->dims[last] - shift[last] : dims[last];
  size_t rows = y->numel / (size_t)dims[last], run = (size_t)(o_hi - o_lo) * es;
  int64_t idx[RQ__MAX_RANK] = {0}; /* output row index over dims[0 .. r-1) */
  for (size_t row = 0; row < rows; row++) {
    int64_t src = 0;
    bool inside = true;
    for (int d = 0; d < last && inside; d++) {
      int64_t p = idx[d] + shift[d];
      inside = p >= 0 && p < x->dims[d];
      src += p * in_stride[d];
    }
    if (inside)
      memcpy((char *)y->data + (row * (size_t)dims[last] + (size_t)o_lo) * es,
             (const char *)x->data + (size_t)(src + o_lo + shift[last]) * es, run);
    for (int d = last - 1; d >= 0; d--) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  return RQ_OK;
}

const rq__op_entry rq__ops_layout[] = {
  {"Col2Im", op_col2im},
  {"CenterCropPad", op_center_crop_pad},
  {NULL, NULL},
};
