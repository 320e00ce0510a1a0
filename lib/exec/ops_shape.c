/* SPDX-License-Identifier: Apache-2.0 */
/* Data-movement ops: they work on any element type by copying element
 * bytes (Identity, Flatten, Reshape, Transpose, Concat, Split, Slice,
 * Gather, Unsqueeze, Squeeze, Shape, Pad, Expand, Dropout in inference)
 * and Unique (any numeric type). */
#include "exec/exec.h"

#include <math.h>
#include <string.h>

static rq_status copy_as(rq__op_ctx *c, const rq__tensor *x, int ndim, const int64_t *dims) {
  size_t numel;
  RQ_TRY(rq__shape_numel(c->node->op_type, ndim, dims, 0, &numel));
  if (numel != x->numel)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "cannot view %zu elements as %zu", x->numel, numel);
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, ndim, dims, &y));
  if (x->nbytes) memcpy(y->data, x->data, x->nbytes);
  return RQ_OK;
}

static rq_status op_identity(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  if (x->kind != RQ__KIND_TENSOR) return rq__tensor_clone(x, &c->out[0]); /* sequence / optional */
  return copy_as(c, x, x->ndim, x->dims);
}

/* Inference Dropout is the identity; its optional mask is all true. */
static rq_status op_dropout(rq__op_ctx *c) {
  const rq__tensor *x, *train = rq__op_in(c, 2);
  RQ_TRY(rq__op_need(c, 0, &x));
  if (train != NULL && train->numel == 1 && rq__elem_get(train->data, train->dtype, 0) != 0)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "training_mode=true (random masks are not implemented)");
  if (rq__node_attr_int(c->node, "is_test", 1) == 0 && c->opset < 7)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "is_test=0");
  RQ_TRY(copy_as(c, x, x->ndim, x->dims));
  if (c->n_out > 1 && c->node->outputs[1] >= 0) {
    rq__tensor *mask;
    RQ_TRY(rq__op_output(c, 1, RQ__DT_BOOL, x->ndim, x->dims, &mask));
    if (mask->nbytes) memset(mask->data, 1, mask->nbytes);
  }
  return RQ_OK;
}

static rq_status op_flatten(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  int64_t axis = rq__node_attr_int(c->node, "axis", 1);
  if (axis < -x->ndim || axis > x->ndim)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axis %lld is out of range for rank %d", (long long)axis, x->ndim);
  if (axis < 0) axis += x->ndim;
  int64_t dims[2] = {1, 1};
  for (int d = 0; d < x->ndim; d++) dims[d < axis ? 0 : 1] *= x->dims[d];
  return copy_as(c, x, 2, dims);
}

static rq_status op_reshape(rq__op_ctx *c) {
  const rq__tensor *x, *shape_t;
  RQ_TRY(rq__op_need(c, 0, &x));
  int64_t dims[RQ__MAX_RANK];
  size_t n;
  if (c->opset < 5) { /* Reshape-1: the shape is an attribute */
    const int64_t *a = rq__node_attr_ints(c->node, "shape", &n);
    if (a == NULL || n > RQ__MAX_RANK) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "attribute 'shape' missing or too long");
    memcpy(dims, a, sizeof *a * n);
  } else {
    RQ_TRY(rq__op_need(c, 1, &shape_t));
    RQ_TRY(rq__op_ints(c, shape_t, dims, RQ__MAX_RANK, &n));
  }
  bool allowzero = rq__node_attr_int(c->node, "allowzero", 0) != 0;
  int infer = -1;
  size_t known = 1;
  for (size_t i = 0; i < n; i++) {
    if (dims[i] == 0 && !allowzero) {
      if ((int)i >= x->ndim) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "shape[%zu] = 0 has no input dimension to copy", i);
      dims[i] = x->dims[i];
    }
    if (dims[i] == -1) {
      if (infer >= 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "more than one -1 in shape");
      infer = (int)i;
    } else if (dims[i] < 0) {
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "shape[%zu] = %lld", i, (long long)dims[i]);
    } else {
      known *= (size_t)dims[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x->numel % known != 0)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "cannot infer the -1 dimension (%zu elements, %zu known)", x->numel, known);
    dims[infer] = (int64_t)(x->numel / known);
  }
  return copy_as(c, x, (int)n, dims);
}

static rq_status axes_list(rq__op_ctx *c, int input, int64_t *axes, size_t *n, bool *given) {
  const rq__tensor *t = rq__op_in(c, input);
  *given = true;
  if (t != NULL) return rq__op_ints(c, t, axes, RQ__MAX_RANK, n);
  const int64_t *a = rq__node_attr_ints(c->node, "axes", n);
  if (a == NULL) {
    *given = false;
    *n = 0;
    return RQ_OK;
  }
  if (*n > RQ__MAX_RANK) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "too many axes");
  memcpy(axes, a, sizeof *a * *n);
  return RQ_OK;
}

static rq_status op_unsqueeze(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  int64_t axes[RQ__MAX_RANK];
  size_t n;
  bool given;
  RQ_TRY(axes_list(c, 1, axes, &n, &given));
  int rank = x->ndim + (int)n;
  if (!given || rank > RQ__MAX_RANK) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axes missing or rank too large");
  bool inserted[RQ__MAX_RANK] = {false};
  for (size_t i = 0; i < n; i++) {
    int a;
    RQ_TRY(rq__op_axis(c, axes[i], rank, &a));
    if (inserted[a]) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axis %d repeated", a);
    inserted[a] = true;
  }
  int64_t dims[RQ__MAX_RANK];
  for (int d = 0, k = 0; d < rank; d++) dims[d] = inserted[d] ? 1 : x->dims[k++];
  return copy_as(c, x, rank, dims);
}

static rq_status op_squeeze(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  int64_t axes[RQ__MAX_RANK];
  size_t n;
  bool given;
  RQ_TRY(axes_list(c, 1, axes, &n, &given));
  bool drop[RQ__MAX_RANK] = {false};
  for (size_t i = 0; i < n; i++) {
    int a;
    RQ_TRY(rq__op_axis(c, axes[i], x->ndim, &a));
    if (x->dims[a] != 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axis %d has size %lld, not 1", a, (long long)x->dims[a]);
    drop[a] = true;
  }
  int64_t dims[RQ__MAX_RANK];
  int rank = 0;
  for (int d = 0; d < x->ndim; d++)
    if (!(given ? drop[d] : x->dims[d] == 1)) dims[rank++] = x->dims[d];
  return copy_as(c, x, rank, dims);
}

static rq_status op_shape(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  int64_t r = x->ndim;
  int64_t start = rq__node_attr_int(c->node, "start", 0), end = rq__node_attr_int(c->node, "end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = start < 0 ? 0 : start > r ? r : start;
  end = end < 0 ? 0 : end > r ? r : end;
  int64_t len = end > start ? end - start : 0;
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_INT64, 1, &len, &y));
  for (int64_t i = 0; i < len; i++) ((int64_t *)y->data)[i] = x->dims[start + i];
  return RQ_OK;
}

static rq_status op_transpose(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  int r = x->ndim;
  int64_t perm[RQ__MAX_RANK];
  size_t n;
  const int64_t *p = rq__node_attr_ints(c->node, "perm", &n);
  if (p != NULL && n != (size_t)r) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "perm has %zu values for rank %d", n, r);
  bool seen[RQ__MAX_RANK] = {false};
  for (int d = 0; d < r; d++) {
    perm[d] = p ? p[d] : r - 1 - d;
    if (perm[d] < 0 || perm[d] >= r || seen[perm[d]]) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "perm is not a permutation");
    seen[perm[d]] = true;
  }
  int64_t dims[RQ__MAX_RANK], in_stride[RQ__MAX_RANK], stride[RQ__MAX_RANK];
  int64_t s = 1;
  for (int d = r - 1; d >= 0; d--) {
    in_stride[d] = s;
    s *= x->dims[d];
  }
  for (int d = 0; d < r; d++) {
    dims[d] = x->dims[perm[d]];
    stride[d] = in_stride[perm[d]];
  }
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, r, dims, &y));
  size_t es = rq__dtype_size(x->dtype);
  int64_t idx[RQ__MAX_RANK] = {0}, off = 0;
  for (size_t i = 0; i < y->numel; i++) {
    memcpy((char *)y->data + i * es, (const char *)x->data + (size_t)off * es, es);
    for (int d = r - 1; d >= 0; d--) {
      off += stride[d];
      if (++idx[d] < dims[d]) break;
      off -= stride[d] * dims[d];
      idx[d] = 0;
    }
  }
  return RQ_OK;
}

static rq_status op_concat(rq__op_ctx *c) {
  const rq__tensor *first = NULL;
  for (int i = 0; i < c->n_in && first == NULL; i++) first = c->in[i];
  if (first == NULL) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "no inputs");
  int axis;
  /* Concat-1 had a default axis of 1. */
  RQ_TRY(rq__op_axis(c, rq__node_attr_int(c->node, "axis", c->opset < 4 ? 1 : 0), first->ndim, &axis));
  int64_t dims[RQ__MAX_RANK];
  memcpy(dims, first->dims, sizeof dims);
  dims[axis] = 0;
  for (int i = 0; i < c->n_in; i++) {
    const rq__tensor *t = c->in[i];
    if (t == NULL) continue;
    if (t->dtype != first->dtype || t->ndim != first->ndim)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input %d differs in element type or rank", i);
    for (int d = 0; d < t->ndim; d++)
      if (d != axis && t->dims[d] != first->dims[d])
        return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input %d has dimension %d = %lld, expected %lld", i, d,
                          (long long)t->dims[d], (long long)first->dims[d]);
    dims[axis] += t->dims[axis];
  }
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, first->dtype, first->ndim, dims, &y));
  size_t outer = 1, inner = rq__dtype_size(first->dtype);
  for (int d = 0; d < axis; d++) outer *= (size_t)dims[d];
  for (int d = axis + 1; d < first->ndim; d++) inner *= (size_t)dims[d];
  size_t out_row = (size_t)dims[axis] * inner, at = 0;
  for (int i = 0; i < c->n_in; i++) {
    const rq__tensor *t = c->in[i];
    if (t == NULL) continue;
    size_t chunk = (size_t)t->dims[axis] * inner;
    for (size_t o = 0; o < outer && chunk; o++)
      memcpy((char *)y->data + o * out_row + at, (const char *)t->data + o * chunk, chunk);
    at += chunk;
  }
  return RQ_OK;
}

static rq_status op_split(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  int axis;
  RQ_TRY(rq__op_axis(c, rq__node_attr_int(c->node, "axis", 0), x->ndim, &axis));
  int n = c->n_out;
  int64_t split[64];
  if (n > 64) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "more than 64 outputs");
  const rq__tensor *st = rq__op_in(c, 1);
  size_t count = 0;
  if (st != NULL) {
    RQ_TRY(rq__op_ints(c, st, split, 64, &count));
  } else {
    const int64_t *a = rq__node_attr_ints(c->node, "split", &count);
    if (a != NULL) {
      if (count > 64) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "more than 64 parts");
      memcpy(split, a, sizeof *a * count);
    }
  }
  int64_t dim = x->dims[axis];
  int64_t num_outputs = rq__node_attr_int(c->node, "num_outputs", 0);
  if (num_outputs != 0 && count != 0)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "both split sizes and num_outputs are given");
  if (num_outputs != 0 && num_outputs != n)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "num_outputs is %lld but the node has %d outputs", (long long)num_outputs, n);
  if (num_outputs != 0 && dim % n != 0) {
    /* Opset 18: parts of ceil(dim / n), the last one smaller. */
    int64_t part = dim / n + 1, last = dim - part * (n - 1);
    if (last < 0)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "dimension %lld does not split into %d parts of %lld", (long long)dim, n,
                        (long long)part);
    for (int i = 0; i < n; i++) split[i] = i + 1 < n ? part : last;
  } else if (count == 0) {
    if (dim % n != 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "dimension %lld does not split into %d equal parts", (long long)dim, n);
    for (int i = 0; i < n; i++) split[i] = dim / n;
  } else {
    int64_t total = 0;
    for (size_t i = 0; i < count; i++) {
      if (split[i] < 0 || split[i] > dim) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "split size %lld", (long long)split[i]);
      total += split[i];
    }
    if (count != (size_t)n || total != dim)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "split sizes do not add up to %lld over %d outputs", (long long)dim, n);
  }
  size_t outer = 1, inner = rq__dtype_size(x->dtype);
  for (int d = 0; d < axis; d++) outer *= (size_t)x->dims[d];
  for (int d = axis + 1; d < x->ndim; d++) inner *= (size_t)x->dims[d];
  size_t in_row = (size_t)dim * inner, at = 0;
  for (int i = 0; i < n; i++) {
    int64_t dims[RQ__MAX_RANK];
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = split[i];
    rq__tensor *y;
    RQ_TRY(rq__op_output(c, i, x->dtype, x->ndim, dims, &y));
    size_t chunk = (size_t)split[i] * inner;
    for (size_t o = 0; o < outer && chunk; o++)
      memcpy((char *)y->data + o * chunk, (const char *)x->data + o * in_row + at, chunk);
    at += chunk;
  }
  return RQ_OK;
}

static rq_status op_slice(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  int r = x->ndim;
  int64_t starts[RQ__MAX_RANK], ends[RQ__MAX_RANK], axes[RQ__MAX_RANK], steps[RQ__MAX_RANK];
  size_t n, n_e, n_a, n_s;
  if (c->opset < 10) {
    const int64_t *s = rq__node_attr_ints(c->node, "starts", &n), *e = rq__node_attr_ints(c->node, "ends", &n_e);
    const int64_t *a = rq__node_attr_ints(c->node, "axes", &n_a);
    if (s == NULL || e == NULL || n != n_e || n > RQ__MAX_RANK || (a && n_a != n))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "starts/ends/axes attributes disagree");
    memcpy(starts, s, sizeof *s * n);
    memcpy(ends, e, sizeof *e * n);
    for (size_t i = 0; i < n; i++) {
      axes[i] = a ? a[i] : (int64_t)i;
      steps[i] = 1;
    }
  } else {
    const rq__tensor *st, *et, *at = rq__op_in(c, 3), *pt = rq__op_in(c, 4);
    RQ_TRY(rq__op_need(c, 1, &st));
    RQ_TRY(rq__op_need(c, 2, &et));
    RQ_TRY(rq__op_ints(c, st, starts, RQ__MAX_RANK, &n));
    RQ_TRY(rq__op_ints(c, et, ends, RQ__MAX_RANK, &n_e));
    n_a = n_s = n;
    if (at) RQ_TRY(rq__op_ints(c, at, axes, RQ__MAX_RANK, &n_a));
    else for (size_t i = 0; i < n; i++) axes[i] = (int64_t)i;
    if (pt) RQ_TRY(rq__op_ints(c, pt, steps, RQ__MAX_RANK, &n_s));
    else for (size_t i = 0; i < n; i++) steps[i] = 1;
    if (n_e != n || n_a != n || n_s != n) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "starts/ends/axes/steps lengths differ");
  }
  int64_t begin[RQ__MAX_RANK], step[RQ__MAX_RANK], dims[RQ__MAX_RANK];
  bool seen[RQ__MAX_RANK] = {false};
  for (int d = 0; d < r; d++) {
    begin[d] = 0;
    step[d] = 1;
    dims[d] = x->dims[d];
  }
  for (size_t i = 0; i < n; i++) {
    int a;
    RQ_TRY(rq__op_axis(c, axes[i], r, &a));
    if (seen[a]) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axis %d repeated", a);
    seen[a] = true;
    int64_t dim = x->dims[a], s = starts[i], e = ends[i], k = steps[i];
    if (k == 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "step 0");
    if (k < -INT64_MAX) k = -INT64_MAX; /* so -k exists; no dimension is that long */
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (k > 0) {
      s = s < 0 ? 0 : s > dim ? dim : s;
      e = e < 0 ? 0 : e > dim ? dim : e;
      dims[a] = e > s ? (e - s - 1) / k + 1 : 0;
    } else {
      s = s < 0 ? -1 : s > dim - 1 ? dim - 1 : s;
      e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
      dims[a] = s > e ? (s - e - 1) / (-k) + 1 : 0;
    }
    begin[a] = s;
    step[a] = k;
  }
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, r, dims, &y));
  size_t es = rq__dtype_size(x->dtype);
  int64_t in_stride[RQ__MAX_RANK], s = 1;
  for (int d = r - 1; d >= 0; d--) {
    in_stride[d] = s;
    s *= x->dims[d];
  }
  int64_t idx[RQ__MAX_RANK] = {0};
  for (size_t i = 0; i < y->numel; i++) {
    int64_t off = 0;
    for (int d = 0; d < r; d++) off += (begin[d] + idx[d] * step[d]) * in_stride[d];
    memcpy((char *)y->data + i * es, (const char *)x->data + (size_t)off * es, es);
    for (int d = r - 1; d >= 0; d--) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  return RQ_OK;
}

static rq_status op_gather(rq__op_ctx *c) {
  const rq__tensor *x, *ind;
  RQ_TRY(rq__op_need(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &ind));
  if (ind->dtype != RQ__DT_INT64 && ind->dtype != RQ__DT_INT32)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "indices must be INT32/INT64");
  int axis;
  RQ_TRY(rq__op_axis(c, rq__node_attr_int(c->node, "axis", 0), x->ndim, &axis));
  if (x->ndim == 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "data must have rank >= 1");
  int rank = x->ndim - 1 + ind->ndim;
  if (rank > RQ__MAX_RANK) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "result rank %d", rank);
  int64_t dims[RQ__MAX_RANK];
  int nd = 0;
  for (int d = 0; d < axis; d++) dims[nd++] = x->dims[d];
  for (int d = 0; d < ind->ndim; d++) dims[nd++] = ind->dims[d];
  for (int d = axis + 1; d < x->ndim; d++) dims[nd++] = x->dims[d];
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, rank, dims, &y));
  size_t outer = 1, inner = rq__dtype_size(x->dtype);
  for (int d = 0; d < axis; d++) outer *= (size_t)x->dims[d];
  for (int d = axis + 1; d < x->ndim; d++) inner *= (size_t)x->dims[d];
  int64_t dim = x->dims[axis];
  for (size_t o = 0; o < outer; o++) {
    for (size_t j = 0; j < ind->numel; j++) {
      int64_t k = ind->dtype == RQ__DT_INT64 ? ((const int64_t *)ind->data)[j] : ((const int32_t *)ind->data)[j];
      if (k < 0) k += dim;
      if (k < 0 || k >= dim)
        return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "index %lld is out of range for dimension %lld", (long long)k, (long long)dim);
      if (inner != 0) /* an empty slice: y (and maybe x) hold no data at all */
        memcpy((char *)y->data + (o * ind->numel + j) * inner,
               (const char *)x->data + (o * (size_t)dim + (size_t)k) * inner, inner);
    }
  }
  return RQ_OK;
}

static rq_status op_expand(rq__op_ctx *c) {
  const rq__tensor *x, *shape_t;
  RQ_TRY(rq__op_need(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &shape_t));
  rq__tensor shape_only = {.dtype = x->dtype};
  size_t n;
  RQ_TRY(rq__op_ints(c, shape_t, shape_only.dims, RQ__MAX_RANK, &n));
  shape_only.ndim = (int)n;
  const rq__tensor *ts[2] = {x, &shape_only};
  rq__bcast bc;
  RQ_TRY(rq__bcast_init(c, &bc, 2, ts));
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, bc.ndim, bc.dims, &y));
  size_t es = rq__dtype_size(x->dtype), rows = bc.inner ? bc.numel / bc.inner : 0, offs[2];
  int64_t s = rq__bcast_inner_stride(&bc, 0);
  for (size_t r = 0; r < rows; r++) {
    rq__bcast_row(&bc, r, offs);
    for (size_t j = 0; j < bc.inner; j++)
      memcpy((char *)y->data + (r * bc.inner + j) * es, (const char *)x->data + (offs[0] + j * (size_t)s) * es, es);
  }
  return RQ_OK;
}

/* ---- Pad ---- */

static rq_status op_pad(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  int r = x->ndim;
  int64_t pads[2 * RQ__MAX_RANK];
  size_t n;
  double value = 0;
  if (c->opset < 11) {
    const int64_t *p = rq__node_attr_ints(c->node, "pads", &n);
    if (p == NULL || n != 2 * (size_t)r) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "pads must have %d values", 2 * r);
    memcpy(pads, p, sizeof *p * n);
    value = rq__node_attr_float(c->node, "value", 0.0f);
  } else {
    const rq__tensor *pt, *vt = rq__op_in(c, 2), *at = rq__op_in(c, 3);
    RQ_TRY(rq__op_need(c, 1, &pt));
    /* Opset 18's axes: pads then hold begins and ends of the listed axes only. */
    int64_t axes[RQ__MAX_RANK], given[2 * RQ__MAX_RANK];
    size_t n_axes = (size_t)r;
    for (int d = 0; d < r; d++) axes[d] = d;
    if (at != NULL) RQ_TRY(rq__op_ints(c, at, axes, RQ__MAX_RANK, &n_axes));
    RQ_TRY(rq__op_ints(c, pt, given, 2 * RQ__MAX_RANK, &n));
    if (n != 2 * n_axes) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "pads has %zu values, expected %zu", n, 2 * n_axes);
    bool listed[RQ__MAX_RANK] = {false};
    for (int d = 0; d < 2 * r; d++) pads[d] = 0;
    for (size_t k = 0; k < n_axes; k++) {
      int a;
      RQ_TRY(rq__op_axis(c, axes[k], r, &a));
      if (listed[a]) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axis %d is listed twice", a);
      listed[a] = true;
      pads[a] = given[k];
      pads[r + a] = given[n_axes + k];
    }
    if (vt != NULL && vt->numel > 0) value = rq__elem_get(vt->data, vt->dtype, 0);
  }
  const char *mode = rq__node_attr_string(c->node, "mode", "constant");
  /* Opset 19's wrap reads the input as a torus: position p is p mod w. */
  int m = strcmp(mode, "constant") == 0 ? 0 : strcmp(mode, "edge") == 0 ? 1 : strcmp(mode, "reflect") == 0 ? 2
        : strcmp(mode, "wrap") == 0 && c->opset >= 19 ? 3 : -1;
  if (m < 0) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "mode '%s'", mode);
  int64_t dims[RQ__MAX_RANK], stride[RQ__MAX_RANK], s = 1;
  for (int d = 0; d < r; d++) {
    if (__builtin_add_overflow(x->dims[d], pads[d], &dims[d]) || __builtin_add_overflow(dims[d], pads[r + d], &dims[d]))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "pads overflow dimension %d", d);
    if (dims[d] < 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "pads make dimension %d negative", d);
    if (m != 0 && (pads[d] > 0 || pads[r + d] > 0) && x->dims[d] == 0)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%s padding of an empty dimension", mode);
    if (m == 2 && (pads[d] >= x->dims[d] || pads[r + d] >= x->dims[d]))
      return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "reflect pads as large as the dimension");
    /* Whether wrap goes round the cropped or the whole input is left open
     * by the spec; going round more than once, ONNX Runtime and NumPy's
     * wrap disagree. */
    if (m == 3 && (pads[d] < 0 || pads[r + d] < 0))
      return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "wrap padding with negative pads");
    if (m == 3 && (pads[d] > x->dims[d] || pads[r + d] > x->dims[d]))
      return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "wrap pads larger than the dimension");
  }
  for (int d = r - 1; d >= 0; d--) {
    stride[d] = s;
    s *= x->dims[d];
  }
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, r, dims, &y));
  size_t es = rq__dtype_size(x->dtype);
  char fill[16] = {0};
  if (rq__dtype_is_numeric(x->dtype)) rq__elem_set(fill, x->dtype, 0, value);
  int64_t idx[RQ__MAX_RANK] = {0};
  for (size_t i = 0; i < y->numel; i++) {
    int64_t off = 0;
    bool inside = true;
    for (int d = 0; d < r; d++) {
      int64_t p = idx[d] - pads[d], w = x->dims[d];
      if (p < 0 || p >= w) {
        if (m == 0) inside = false;
        else if (m == 1) p = p < 0 ? 0 : w - 1;
        else if (m == 2) p = p < 0 ? -p : 2 * (w - 1) - p;
        else p = (p % w + w) % w;
      }
      off += p * stride[d];
    }
    memcpy((char *)y->data + i * es, inside ? (const char *)x->data + (size_t)off * es : fill, es);
    for (int d = r - 1; d >= 0; d--) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  return RQ_OK;
}

/* ---- small generators and index ops ---- */

static rq_status op_size(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_INT64, 0, NULL, &y));
  *(int64_t *)y->data = (int64_t)x->numel;
  return RQ_OK;
}

static rq_status op_constant_of_shape(rq__op_ctx *c) {
  const rq__tensor *shape_t;
  RQ_TRY(rq__op_need(c, 0, &shape_t));
  int64_t dims[RQ__MAX_RANK];
  size_t n;
  RQ_TRY(rq__op_ints(c, shape_t, dims, RQ__MAX_RANK, &n));
  const rq__attr *v = rq__node_attr(c->node, "value");
  const rq__tensor *value = v != NULL && v->type == RQ__ATTR_TENSOR ? v->t : NULL;
  if (value != NULL && value->numel != 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "value must hold one element");
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, value ? value->dtype : RQ__DT_FLOAT, (int)n, dims, &y));
  size_t es = rq__dtype_size(y->dtype);
  if (value != NULL)
    for (size_t i = 0; i < y->numel; i++) memcpy((char *)y->data + i * es, value->data, es);
  return RQ_OK;
}

static rq_status op_range(rq__op_ctx *c) {
  const rq__tensor *t[3];
  for (int i = 0; i < 3; i++) {
    RQ_TRY(rq__op_need(c, i, &t[i]));
    if (t[i]->numel != 1 || t[i]->dtype != t[0]->dtype || !rq__dtype_is_numeric(t[i]->dtype))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "start, limit and delta must be scalars of one numeric type");
  }
  double start = rq__elem_get(t[0]->data, t[0]->dtype, 0), limit = rq__elem_get(t[1]->data, t[1]->dtype, 0);
  double delta = rq__elem_get(t[2]->data, t[2]->dtype, 0);
  if (delta == 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "delta is 0");
  double count = ceil((limit - start) / delta);
  if (!(count < 9007199254740992.0)) /* also NaN; beyond 2^53 no tensor fits anyway */
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "Range of %g elements", count);
  int64_t n = count > 0 ? (int64_t)count : 0;
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, t[0]->dtype, 1, &n, &y));
  for (int64_t i = 0; i < n; i++) rq__elem_set(y->data, y->dtype, (size_t)i, start + (double)i * delta);
  return RQ_OK;
}

static rq_status op_tile(rq__op_ctx *c) {
  const rq__tensor *x, *rt;
  RQ_TRY(rq__op_need(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &rt));
  int64_t reps[RQ__MAX_RANK], dims[RQ__MAX_RANK];
  size_t n;
  RQ_TRY(rq__op_ints(c, rt, reps, RQ__MAX_RANK, &n));
  if (n != (size_t)x->ndim) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "repeats has %zu values for rank %d", n, x->ndim);
  for (int d = 0; d < x->ndim; d++) {
    if (reps[d] < 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "negative repeat");
    if (__builtin_mul_overflow(x->dims[d], reps[d], &dims[d]))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "repeats overflow dimension %d", d);
  }
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, x->ndim, dims, &y));
  size_t es = rq__dtype_size(x->dtype);
  int64_t idx[RQ__MAX_RANK] = {0};
  for (size_t i = 0; i < y->numel; i++) {
    size_t off = 0;
    for (int d = 0; d < x->ndim; d++) off = off * (size_t)x->dims[d] + (size_t)(idx[d] % x->dims[d]);
    memcpy((char *)y->data + i * es, (const char *)x->data + off * es, es);
    for (int d = x->ndim - 1; d >= 0; d--) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  return RQ_OK;
}

/* [outer, len, inner] view of x around axis. */
static void around_axis(const rq__tensor *x, int axis, size_t *outer, size_t *len, size_t *inner) {
  *outer = *inner = 1;
  *len = (size_t)x->dims[axis];
  for (int d = 0; d < axis; d++) *outer *= (size_t)x->dims[d];
  for (int d = axis + 1; d < x->ndim; d++) *inner *= (size_t)x->dims[d];
}

static rq_status arg_extreme(rq__op_ctx *c, bool is_max) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  if (!rq__dtype_is_numeric(x->dtype)) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "element type");
  int axis;
  RQ_TRY(rq__op_axis(c, rq__node_attr_int(c->node, "axis", 0), x->ndim, &axis));
  bool keep = rq__node_attr_int(c->node, "keepdims", 1) != 0;
  bool last = rq__node_attr_int(c->node, "select_last_index", 0) != 0;
  int64_t dims[RQ__MAX_RANK];
  int nd = 0;
  for (int d = 0; d < x->ndim; d++)
    if (d != axis) dims[nd++] = x->dims[d];
    else if (keep) dims[nd++] = 1;
  size_t outer, len, inner;
  around_axis(x, axis, &outer, &len, &inner);
  if (len == 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "empty axis");
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_INT64, nd, dims, &y));
  for (size_t o = 0; o < outer; o++)
    for (size_t i = 0; i < inner; i++) {
      size_t best = 0;
      double bv = rq__elem_get(x->data, x->dtype, o * len * inner + i);
      for (size_t k = 1; k < len; k++) {
        double v = rq__elem_get(x->data, x->dtype, (o * len + k) * inner + i);
        bool better = is_max ? (v > bv || (last && v == bv)) : (v < bv || (last && v == bv));
        if (better) {
          bv = v;
          best = k;
        }
      }
      ((int64_t *)y->data)[o * inner + i] = (int64_t)best;
    }
  return RQ_OK;
}
static rq_status op_argmax(rq__op_ctx *c) { return arg_extreme(c, true); }
static rq_status op_argmin(rq__op_ctx *c) { return arg_extreme(c, false); }

static rq_status op_gather_elements(rq__op_ctx *c) {
  const rq__tensor *x, *ind;
  RQ_TRY(rq__op_need(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &ind));
  if ((ind->dtype != RQ__DT_INT64 && ind->dtype != RQ__DT_INT32) || ind->ndim != x->ndim)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "indices must be INT32/INT64 of the data's rank");
  int axis;
  RQ_TRY(rq__op_axis(c, rq__node_attr_int(c->node, "axis", 0), x->ndim, &axis));
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, ind->ndim, ind->dims, &y));
  size_t es = rq__dtype_size(x->dtype);
  int64_t idx[RQ__MAX_RANK] = {0};
  for (size_t i = 0; i < ind->numel; i++) {
    int64_t k = (int64_t)rq__elem_get(ind->data, ind->dtype, i);
    if (k < 0) k += x->dims[axis];
    if (k < 0 || k >= x->dims[axis]) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "index %lld out of range", (long long)k);
    size_t off = 0;
    for (int d = 0; d < x->ndim; d++) {
      int64_t v = d == axis ? k : idx[d];
      if (v >= x->dims[d]) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "indices larger than the data");
      off = off * (size_t)x->dims[d] + (size_t)v;
    }
    memcpy((char *)y->data + i * es, (const char *)x->data + off * es, es);
    for (int d = ind->ndim - 1; d >= 0; d--) {
      if (++idx[d] < ind->dims[d]) break;
      idx[d] = 0;
    }
  }
  return RQ_OK;
}

static rq_status op_trilu(rq__op_ctx *c) {
  const rq__tensor *x, *kt = rq__op_in(c, 1);
  RQ_TRY(rq__op_need(c, 0, &x));
  if (x->ndim < 2) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input must have rank >= 2");
  int64_t k = 0;
  if (kt != NULL) {
    size_t n;
    RQ_TRY(rq__op_ints(c, kt, &k, 1, &n));
  }
  bool upper = rq__node_attr_int(c->node, "upper", 1) != 0;
  RQ_TRY(copy_as(c, x, x->ndim, x->dims));
  rq__tensor *y = c->out[0];
  int64_t rows = x->dims[x->ndim - 2], cols = x->dims[x->ndim - 1];
  size_t es = rq__dtype_size(x->dtype), mats = rows * cols != 0 ? x->numel / (size_t)(rows * cols) : 0;
  for (size_t m = 0; m < mats; m++)
    for (int64_t i = 0; i < rows; i++)
      for (int64_t j = 0; j < cols; j++)
        if (upper ? j - i < k : j - i > k)
          memset((char *)y->data + ((m * (size_t)rows + (size_t)i) * (size_t)cols + (size_t)j) * es, 0, es);
  return RQ_OK;
}

/* DepthToSpace / SpaceToDepth: a reshape-transpose-reshape of [N,C,H,W]. */
static rq_status depth_space(rq__op_ctx *c, bool to_space) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  if (x->ndim != 4) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input must be 4-D");
  int64_t b = rq__node_attr_int(c->node, "blocksize", 0);
  bool crd = strcmp(rq__node_attr_string(c->node, "mode", "DCR"), "CRD") == 0;
  int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
  if (b < 1 || b > 65536 || (to_space ? C % (b * b) != 0 : (H % b != 0 || W % b != 0)))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "blocksize %lld does not fit the input", (long long)b);
  int64_t dims[4] = {N, to_space ? C / (b * b) : C * b * b, to_space ? H * b : H / b, to_space ? W * b : W / b};
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, 4, dims, &y));
  size_t es = rq__dtype_size(x->dtype);
  /* Walk the small (depth) side's coordinates and compute the space side's. */
  int64_t Cs = to_space ? dims[1] : C, Hs = to_space ? H : dims[2], Ws = to_space ? W : dims[3];
  for (int64_t n = 0; n < N; n++)
    for (int64_t cd = 0; cd < Cs * b * b; cd++)
      for (int64_t h = 0; h < Hs; h++)
        for (int64_t w = 0; w < Ws; w++) {
          int64_t cs, bh, bw; /* space channel and offsets inside the block */
          if (crd && to_space) {
            cs = cd / (b * b);
            bh = (cd / b) % b;
            bw = cd % b;
          } else {
            bh = cd / (b * Cs);
            bw = (cd / Cs) % b;
            cs = cd % Cs;
          }
          size_t depth_off = (size_t)(((n * Cs * b * b + cd) * Hs + h) * Ws + w);
          size_t space_off = (size_t)(((n * Cs + cs) * Hs * b + h * b + bh) * Ws * b + w * b + bw);
          const char *src = (const char *)x->data + (to_space ? depth_off : space_off) * es;
          memcpy((char *)y->data + (to_space ? space_off : depth_off) * es, src, es);
        }
  return RQ_OK;
}
static rq_status op_depth_to_space(rq__op_ctx *c) { return depth_space(c, true); }
static rq_status op_space_to_depth(rq__op_ctx *c) { return depth_space(c, false); }

static rq_status op_eye_like(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  if (x->ndim != 2) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input must be 2-D");
  int64_t dtype = rq__node_attr_int(c->node, "dtype", x->dtype), k = rq__node_attr_int(c->node, "k", 0);
  if (dtype < 0 || dtype > INT32_MAX || !rq__dtype_is_numeric((int32_t)dtype))
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "dtype %lld", (long long)dtype);
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, (int32_t)dtype, 2, x->dims, &y));
  for (int64_t i = 0; i < x->dims[0]; i++) {
    int64_t j = i + k;
    if (j >= 0 && j < x->dims[1]) rq__elem_set(y->data, y->dtype, (size_t)(i * x->dims[1] + j), 1);
  }
  return RQ_OK;
}

static rq_status op_one_hot(rq__op_ctx *c) {
  const rq__tensor *ind, *dt, *vt;
  RQ_TRY(rq__op_need(c, 0, &ind));
  RQ_TRY(rq__op_need(c, 1, &dt));
  RQ_TRY(rq__op_need(c, 2, &vt));
  if (!rq__dtype_is_numeric(ind->dtype) || !rq__dtype_is_numeric(dt->dtype) || dt->numel != 1 || vt->numel != 2)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "depth must be one number and values two");
  double depth_f = rq__elem_get(dt->data, dt->dtype, 0);
  if (!(depth_f >= 1 && depth_f < (double)((int64_t)1 << 31))) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "depth %g", depth_f);
  int64_t depth = (int64_t)depth_f;
  int rank = ind->ndim + 1, axis;
  if (rank > RQ__MAX_RANK) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "rank %d", rank);
  RQ_TRY(rq__op_axis(c, rq__node_attr_int(c->node, "axis", -1), rank, &axis));
  int64_t dims[RQ__MAX_RANK];
  for (int d = 0, k = 0; d < rank; d++) dims[d] = d == axis ? depth : ind->dims[k++];
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, vt->dtype, rank, dims, &y));
  size_t es = rq__dtype_size(vt->dtype), outer = 1, inner = 1;
  for (int d = 0; d < axis; d++) outer *= (size_t)dims[d];
  for (int d = axis + 1; d < rank; d++) inner *= (size_t)dims[d];
  for (size_t i = 0; i < y->numel; i++) memcpy((char *)y->data + i * es, vt->data, es);
  for (size_t o = 0; o < outer; o++)
    for (size_t i = 0; i < inner; i++) {
      double v = rq__elem_get(ind->data, ind->dtype, o * inner + i);
      int64_t at = (int64_t)v;
      if (at < 0) at += depth;
      if (at < 0 || at >= depth) continue; /* out of range: all off */
      memcpy((char *)y->data + ((o * (size_t)depth + (size_t)at) * inner + i) * es, (const char *)vt->data + es, es);
    }
  return RQ_OK;
}

static rq_status op_nonzero(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  if (!rq__dtype_is_numeric(x->dtype)) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "element type");
  size_t count = 0;
  for (size_t i = 0; i < x->numel; i++) count += rq__elem_get(x->data, x->dtype, i) != 0;
  int64_t dims[2] = {x->ndim, (int64_t)count};
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_INT64, 2, dims, &y));
  int64_t idx[RQ__MAX_RANK] = {0};
  size_t k = 0;
  for (size_t i = 0; i < x->numel; i++) {
    if (rq__elem_get(x->data, x->dtype, i) != 0) {
      for (int d = 0; d < x->ndim; d++) ((int64_t *)y->data)[(size_t)d * count + k] = idx[d];
      k++;
    }
    for (int d = x->ndim - 1; d >= 0; d--) {
      if (++idx[d] < x->dims[d]) break;
      idx[d] = 0;
    }
  }
  return RQ_OK;
}

static rq_status op_compress(rq__op_ctx *c) {
  const rq__tensor *x, *cond;
  RQ_TRY(rq__op_need(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &cond));
  if (cond->dtype != RQ__DT_BOOL || cond->ndim != 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "condition must be 1-D BOOL");
  const rq__attr *axis_attr = rq__node_attr(c->node, "axis");
  /* Without an axis the input is flattened first. */
  rq__tensor flat = *x;
  if (axis_attr == NULL) {
    flat.ndim = 1;
    flat.dims[0] = (int64_t)x->numel;
  }
  int axis = 0;
  if (axis_attr != NULL) RQ_TRY(rq__op_axis(c, rq__node_attr_int(c->node, "axis", 0), x->ndim, &axis));
  size_t outer = 1, len = (size_t)flat.dims[axis], inner = rq__dtype_size(x->dtype), kept = 0;
  for (int d = 0; d < axis; d++) outer *= (size_t)flat.dims[d];
  for (int d = axis + 1; d < flat.ndim; d++) inner *= (size_t)flat.dims[d];
  size_t n = cond->numel < len ? cond->numel : len;
  for (size_t j = 0; j < n; j++) kept += ((const uint8_t *)cond->data)[j] != 0;
  int64_t dims[RQ__MAX_RANK];
  memcpy(dims, flat.dims, sizeof dims);
  dims[axis] = (int64_t)kept;
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, flat.ndim, dims, &y));
  size_t at = 0;
  for (size_t o = 0; o < outer; o++)
    for (size_t j = 0; j < n; j++)
      if (((const uint8_t *)cond->data)[j]) {
        memcpy((char *)y->data + at, (const char *)x->data + (o * len + j) * inner, inner);
        at += inner;
      }
  return RQ_OK;
}

/* Row-major strides (elements) of dims. */
static void strides_of(int ndim, const int64_t *dims, int64_t *st) {
  int64_t s = 1;
  for (int d = ndim - 1; d >= 0; d--) {
    st[d] = s;
    s *= dims[d];
  }
}

/* How a scatter combines an update with what is there: the reduction
 * attribute (add/mul since opset 16, max/min since 18). */
typedef enum scatter_mode { SCATTER_SET, SCATTER_ADD, SCATTER_MUL, SCATTER_MAX, SCATTER_MIN } scatter_mode;

static rq_status scatter_reduction(rq__op_ctx *c, scatter_mode *mode) {
  static const char *const names[] = {"none", "add", "mul", "max", "min"};
  const char *red = rq__node_attr_string(c->node, "reduction", "none");
  for (int m = 0; m < 5; m++)
    if (strcmp(red, names[m]) == 0 && (m < SCATTER_MAX || c->opset >= 18)) {
      *mode = (scatter_mode)m;
      return RQ_OK;
    }
  return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "reduction '%s' (opset %lld)", red, (long long)c->opset);
}

/* y[at] = update src[i] combined by mode; es is the element size. */
static void scatter_one(rq__tensor *y, size_t at, const rq__tensor *src, size_t i, scatter_mode mode, size_t es) {
  if (mode == SCATTER_SET) {
    memcpy((char *)y->data + at * es, (const char *)src->data + i * es, es);
    return;
  }
  double a = rq__elem_get(y->data, y->dtype, at), b = rq__elem_get(src->data, src->dtype, i);
  double r = mode == SCATTER_ADD ? a + b : mode == SCATTER_MUL ? a * b : mode == SCATTER_MAX ? fmax(a, b) : fmin(a, b);
  rq__elem_set(y->data, y->dtype, at, r);
}

/* ScatterElements (and the deprecated Scatter): out = data, then
 * out[index with axis replaced by indices[i]] (op)= updates[i]. */
static rq_status scatter_elements(rq__op_ctx *c) {
  const rq__tensor *x, *ind, *upd;
  RQ_TRY(rq__op_need(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &ind));
  RQ_TRY(rq__op_need(c, 2, &upd));
  if (!rq__dtype_is_int(ind->dtype) || ind->ndim != x->ndim || upd->ndim != ind->ndim || upd->dtype != x->dtype ||
      memcmp(upd->dims, ind->dims, sizeof(int64_t) * (size_t)ind->ndim) != 0)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "indices and updates must have one shape and the data's rank");
  int axis;
  RQ_TRY(rq__op_axis(c, rq__node_attr_int(c->node, "axis", 0), x->ndim, &axis));
  scatter_mode mode;
  RQ_TRY(scatter_reduction(c, &mode));
  RQ_TRY(copy_as(c, x, x->ndim, x->dims));
  rq__tensor *y = c->out[0];
  int64_t st[RQ__MAX_RANK], idx[RQ__MAX_RANK] = {0};
  strides_of(x->ndim, x->dims, st);
  size_t es = rq__dtype_size(x->dtype);
  for (size_t i = 0; i < ind->numel; i++) {
    int64_t k = (int64_t)rq__elem_get(ind->data, ind->dtype, i);
    if (k < 0) k += x->dims[axis];
    if (k < 0 || k >= x->dims[axis]) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "index %lld out of range", (long long)k);
    int64_t off = 0;
    for (int d = 0; d < x->ndim; d++) {
      int64_t v = d == axis ? k : idx[d];
      if (v >= x->dims[d]) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "indices larger than the data");
      off += v * st[d];
    }
    scatter_one(y, (size_t)off, upd, i, mode, es);
    for (int d = ind->ndim - 1; d >= 0; d--) {
      if (++idx[d] < ind->dims[d]) break;
      idx[d] = 0;
    }
  }
  return RQ_OK;
}

/* The element offset in data addressed by the index tuple ind[at..at+k). */
static rq_status nd_offset(const rq__op_ctx *c, const rq__tensor *x, const rq__tensor *ind, size_t at, int first,
                           int k, const int64_t *st, int64_t *off) {
  for (int j = 0; j < k; j++) {
    int d = first + j;
    int64_t v = (int64_t)rq__elem_get(ind->data, ind->dtype, at + (size_t)j);
    if (v < 0) v += x->dims[d];
    if (v < 0 || v >= x->dims[d]) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "index %lld out of range", (long long)v);
    *off += v * st[d];
  }
  return RQ_OK;
}

static rq_status op_gather_nd(rq__op_ctx *c) {
  const rq__tensor *x, *ind;
  RQ_TRY(rq__op_need(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &ind));
  int64_t b = rq__node_attr_int(c->node, "batch_dims", 0);
  if (!rq__dtype_is_int(ind->dtype) || ind->ndim < 1 || b < 0 || b >= ind->ndim || b >= x->ndim)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "bad indices or batch_dims");
  int k = (int)ind->dims[ind->ndim - 1];
  if (k < 1 || b + k > x->ndim) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "index tuples longer than the data's rank");
  for (int d = 0; d < b; d++)
    if (ind->dims[d] != x->dims[d]) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "batch dimensions differ");
  int64_t dims[RQ__MAX_RANK];
  int nd = 0;
  for (int d = 0; d < ind->ndim - 1; d++) dims[nd++] = ind->dims[d];
  for (int d = (int)b + k; d < x->ndim; d++) {
    if (nd >= RQ__MAX_RANK) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "result rank");
    dims[nd++] = x->dims[d];
  }
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, nd, dims, &y));
  int64_t st[RQ__MAX_RANK];
  strides_of(x->ndim, x->dims, st);
  size_t es = rq__dtype_size(x->dtype), slice = 1, per_batch = 1, tuples = ind->numel / (size_t)k;
  for (int d = (int)b + k; d < x->ndim; d++) slice *= (size_t)x->dims[d];
  for (int d = (int)b; d < ind->ndim - 1; d++) per_batch *= (size_t)ind->dims[d];
  for (size_t t = 0; t < tuples; t++) {
    int64_t off = (int64_t)(t / (per_batch ? per_batch : 1)) * (b > 0 ? st[b - 1] : 0);
    RQ_TRY(nd_offset(c, x, ind, t * (size_t)k, (int)b, k, st, &off));
    memcpy((char *)y->data + t * slice * es, (const char *)x->data + (size_t)off * es, slice * es);
  }
  return RQ_OK;
}

static rq_status op_scatter_nd(rq__op_ctx *c) {
  const rq__tensor *x, *ind, *upd;
  RQ_TRY(rq__op_need(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &ind));
  RQ_TRY(rq__op_need(c, 2, &upd));
  if (!rq__dtype_is_int(ind->dtype) || ind->ndim < 1 || upd->dtype != x->dtype)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "bad indices or updates");
  int k = (int)ind->dims[ind->ndim - 1];
  if (k < 1 || k > x->ndim) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "index tuples longer than the data's rank");
  scatter_mode mode;
  RQ_TRY(scatter_reduction(c, &mode));
  size_t slice = 1, tuples = ind->numel / (size_t)k;
  for (int d = k; d < x->ndim; d++) slice *= (size_t)x->dims[d];
  if (upd->numel != tuples * slice) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "updates have the wrong size");
  RQ_TRY(copy_as(c, x, x->ndim, x->dims));
  rq__tensor *y = c->out[0];
  int64_t st[RQ__MAX_RANK];
  strides_of(x->ndim, x->dims, st);
  size_t es = rq__dtype_size(x->dtype);
  for (size_t t = 0; t < tuples; t++) {
    int64_t off = 0;
    RQ_TRY(nd_offset(c, x, ind, t * (size_t)k, 0, k, st, &off));
    for (size_t j = 0; j < slice; j++) {
      size_t at = (size_t)off + j;
      scatter_one(y, at, upd, t * slice + j, mode, es);
    }
  }
  return RQ_OK;
}

static rq_status op_reverse_sequence(rq__op_ctx *c) {
  const rq__tensor *x, *lens;
  RQ_TRY(rq__op_need(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &lens));
  int64_t ba = rq__node_attr_int(c->node, "batch_axis", 1), ta = rq__node_attr_int(c->node, "time_axis", 0);
  if (x->ndim < 2 || (ba != 0 && ba != 1) || (ta != 0 && ta != 1) || ba == ta || !rq__dtype_is_int(lens->dtype) ||
      lens->numel != (size_t)x->dims[ba])
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "bad axes or sequence_lens");
  RQ_TRY(copy_as(c, x, x->ndim, x->dims));
  rq__tensor *y = c->out[0];
  int64_t st[RQ__MAX_RANK];
  strides_of(x->ndim, x->dims, st);
  size_t es = rq__dtype_size(x->dtype), inner = (size_t)st[1];
  for (int64_t b = 0; b < x->dims[ba]; b++) {
    int64_t len = (int64_t)rq__elem_get(lens->data, lens->dtype, (size_t)b);
    if (len < 0 || len > x->dims[ta]) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "sequence length %lld", (long long)len);
    for (int64_t t = 0; t < len; t++) {
      size_t dst = (size_t)(b * st[ba] + t * st[ta]), src = (size_t)(b * st[ba] + (len - 1 - t) * st[ta]);
      memcpy((char *)y->data + dst * es, (const char *)x->data + src * es, inner * es);
    }
  }
  return RQ_OK;
}

/* Hann / Hamming / Blackman windows (opset 17): periodic uses N as the
 * denominator, symmetric N - 1. */
static rq_status window(rq__op_ctx *c, const double *coef, int n_coef) {
  const rq__tensor *st;
  RQ_TRY(rq__op_need(c, 0, &st));
  if (!rq__dtype_is_int(st->dtype) || st->numel != 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "size must be one integer");
  double size_f = rq__elem_get(st->data, st->dtype, 0);
  if (size_f < 0 || size_f > (double)((int64_t)1 << 32)) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "size %g", size_f);
  int64_t n = (int64_t)size_f, dtype = rq__node_attr_int(c->node, "output_datatype", RQ__DT_FLOAT);
  if (dtype < 0 || dtype > INT32_MAX || !rq__dtype_is_numeric((int32_t)dtype))
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "output_datatype %lld", (long long)dtype);
  bool periodic = rq__node_attr_int(c->node, "periodic", 1) != 0;
  double denom = periodic ? (double)n : (double)(n - 1);
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, (int32_t)dtype, 1, &n, &y));
  for (int64_t i = 0; i < n; i++) {
    double v = 0;
    for (int k = 0; k < n_coef; k++) v += coef[k] * cos(2 * M_PI * k * (double)i / denom);
    rq__elem_set(y->data, y->dtype, (size_t)i, v);
  }
  return RQ_OK;
}
static rq_status op_hann_window(rq__op_ctx *c) { return window(c, (const double[]){0.5, -0.5}, 2); }
static rq_status op_hamming_window(rq__op_ctx *c) { return window(c, (const double[]){25.0 / 46, -21.0 / 46}, 2); }
static rq_status op_blackman_window(rq__op_ctx *c) { return window(c, (const double[]){0.42, -0.5, 0.08}, 3); }

/* ---- Unique ---- */

/* Unique's view of X: n items (slices along the axis, or the flattened
 * elements), each outer * inner elements, item k's element (o, i) at
 * (o * n + k) * inner + i. */
typedef struct unique_items {
  const void *data;
  int32_t dtype;
  size_t n, outer, inner;
} unique_items;

/* Element order by value in the element's own type (64-bit integers
 * exactly); NaNs are equal to each other and above every number, as
 * numpy.unique sorts and merges them. */
static int elem_cmp(const void *data, int32_t dtype, size_t a, size_t b) {
  switch (dtype) {
#define RQ_CMP(T) { T x = ((const T *)data)[a], y = ((const T *)data)[b]; return (x > y) - (x < y); }
    case RQ__DT_INT8: RQ_CMP(int8_t)
    case RQ__DT_INT16: RQ_CMP(int16_t)
    case RQ__DT_INT32: RQ_CMP(int32_t)
    case RQ__DT_INT64: RQ_CMP(int64_t)
    case RQ__DT_UINT8: case RQ__DT_BOOL: RQ_CMP(uint8_t)
    case RQ__DT_UINT16: RQ_CMP(uint16_t)
    case RQ__DT_UINT32: RQ_CMP(uint32_t)
    case RQ__DT_UINT64: RQ_CMP(uint64_t)
#undef RQ_CMP
    default: {
      double x = rq__elem_get(data, dtype, a), y = rq__elem_get(data, dtype, b);
      if (isnan(x) || isnan(y)) return isnan(x) - isnan(y);
      return (x > y) - (x < y);
    }
  }
}

/* Items compare lexicographically, element by element in row-major order. */
static int item_cmp(const unique_items *u, size_t a, size_t b) {
  for (size_t o = 0; o < u->outer; o++)
    for (size_t i = 0; i < u->inner; i++) {
      int r = elem_cmp(u->data, u->dtype, (o * u->n + a) * u->inner + i, (o * u->n + b) * u->inner + i);
      if (r != 0) return r;
    }
  return 0;
}

/* Stable merge sort of item indices (tmp: scratch of the same length), so
 * each run of equal items starts with its first occurrence. */
static void sort_items(const unique_items *u, size_t *idx, size_t *tmp, size_t n) {
  if (n < 2) return;
  size_t half = n / 2;
  sort_items(u, idx, tmp, half);
  sort_items(u, idx + half, tmp, n - half);
  size_t a = 0, b = half, k = 0;
  while (a < half && b < n) tmp[k++] = item_cmp(u, idx[b], idx[a]) < 0 ? idx[b++] : idx[a++];
  while (a < half) tmp[k++] = idx[a++];
  while (b < n) tmp[k++] = idx[b++];
  memcpy(idx, tmp, n * sizeof *idx);
}

static bool output_wanted(const rq__op_ctx *c, int i) { return i < c->n_out && c->node->outputs[i] >= 0; }

/* Y holds one item per group of equal items, in value order (sorted=1) or
 * in order of first occurrence; indices the first occurrence of each,
 * inverse_indices each item's position in Y, counts each group's size. */
static rq_status op_unique(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  if (!rq__dtype_is_numeric(x->dtype))
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "element type %s", rq__dtype_name(x->dtype));
  if (c->n_out > 4) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%d outputs declared, at most 4 exist", c->n_out);
  int64_t sorted = rq__node_attr_int(c->node, "sorted", 1);
  if (sorted != 0 && sorted != 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "sorted must be 0 or 1, got %lld", (long long)sorted);
  unique_items u = {x->data, x->dtype, x->numel, 1, 1};
  int axis = -1;
  if (rq__node_attr(c->node, "axis") != NULL) {
    RQ_TRY(rq__op_axis(c, rq__node_attr_int(c->node, "axis", 0), x->ndim, &axis));
    if (x->ndim == 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axis given for a scalar input");
    u.n = (size_t)x->dims[axis];
    for (int d = 0; d < axis; d++) u.outer *= (size_t)x->dims[d];
    for (int d = axis + 1; d < x->ndim; d++) u.inner *= (size_t)x->dims[d];
  }
  size_t n = u.n;
  /* order/tmp: the sort; group_of: each item's group (groups numbered in
   * value order); first/count per group; slot: each group's place in Y. */
  size_t *block = rq__malloc_array(n ? n : 1, 6 * sizeof *block);
  if (block == NULL) return rq__nomem(c->node->op_type, n * 6 * sizeof *block);
  size_t *order = block, *tmp = block + n, *group_of = block + 2 * n, *first = block + 3 * n,
         *count = block + 4 * n, *slot = block + 5 * n;
  for (size_t k = 0; k < n; k++) order[k] = k;
  sort_items(&u, order, tmp, n);
  size_t groups = 0;
  for (size_t k = 0; k < n; k++) {
    if (k == 0 || item_cmp(&u, order[k - 1], order[k]) != 0) {
      first[groups] = order[k];
      count[groups++] = 0;
    }
    group_of[order[k]] = groups - 1;
    count[groups - 1]++;
  }
  if (sorted) {
    for (size_t g = 0; g < groups; g++) slot[g] = g;
  } else { /* a group's first item is where the scan in input order meets it first */
    size_t next = 0;
    for (size_t k = 0; k < n; k++)
      if (first[group_of[k]] == k) slot[group_of[k]] = next++;
  }

  int64_t dims[RQ__MAX_RANK] = {(int64_t)groups}, n_groups = (int64_t)groups;
  int ndim = 1;
  if (axis >= 0) {
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = n_groups;
    ndim = x->ndim;
  }
  rq__tensor *y, *t;
  rq_status st = rq__op_output_uninit(c, 0, x->dtype, ndim, dims, &y);
  size_t es = rq__dtype_size(x->dtype), row = u.inner * es;
  for (size_t g = 0; st == RQ_OK && g < groups; g++)
    for (size_t o = 0; o < u.outer && row; o++)
      memcpy((char *)y->data + (o * groups + slot[g]) * row, (const char *)x->data + (o * n + first[g]) * row, row);
  if (st == RQ_OK && output_wanted(c, 1) && (st = rq__op_output_uninit(c, 1, RQ__DT_INT64, 1, &n_groups, &t)) == RQ_OK)
    for (size_t g = 0; g < groups; g++) ((int64_t *)t->data)[slot[g]] = (int64_t)first[g];
  int64_t n_items = (int64_t)n;
  if (st == RQ_OK && output_wanted(c, 2) && (st = rq__op_output_uninit(c, 2, RQ__DT_INT64, 1, &n_items, &t)) == RQ_OK)
    for (size_t k = 0; k < n; k++) ((int64_t *)t->data)[k] = (int64_t)slot[group_of[k]];
  if (st == RQ_OK && output_wanted(c, 3) && (st = rq__op_output_uninit(c, 3, RQ__DT_INT64, 1, &n_groups, &t)) == RQ_OK)
    for (size_t g = 0; g < groups; g++) ((int64_t *)t->data)[slot[g]] = (int64_t)count[g];
  rq__free(block);
  return st;
}

const rq__op_entry rq__ops_shape[] = {
  {"ScatterElements", scatter_elements}, {"Scatter", scatter_elements}, {"GatherND", op_gather_nd},
  {"ScatterND", op_scatter_nd}, {"ReverseSequence", op_reverse_sequence}, {"HannWindow", op_hann_window},
  {"HammingWindow", op_hamming_window}, {"BlackmanWindow", op_blackman_window},
  {"EyeLike", op_eye_like}, {"OneHot", op_one_hot}, {"NonZero", op_nonzero}, {"Compress", op_compress},
  {"Size", op_size}, {"ConstantOfShape", op_constant_of_shape}, {"Range", op_range}, {"Tile", op_tile},
  {"ArgMax", op_argmax}, {"ArgMin", op_argmin}, {"GatherElements", op_gather_elements},
  {"Trilu", op_trilu}, {"DepthToSpace", op_depth_to_space}, {"SpaceToDepth", op_space_to_depth},
  {"Identity", op_identity}, {"Dropout", op_dropout}, {"Flatten", op_flatten}, {"Reshape", op_reshape},
  {"Unsqueeze", op_unsqueeze}, {"Squeeze", op_squeeze}, {"Shape", op_shape}, {"Transpose", op_transpose},
  {"Concat", op_concat}, {"Split", op_split}, {"Slice", op_slice}, {"Gather", op_gather},
  {"Expand", op_expand}, {"Pad", op_pad},
  {"Unique", op_unique},
  {NULL, NULL},
};
