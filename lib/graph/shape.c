/* SPDX-License-Identifier: Apache-2.0 */
/* Static shape inference for the ops razorq executes: fills the declared
 * dtype/shape of node outputs the model left undeclared. Inference never
 * fails the graph: what cannot be derived (unknown inputs, ops not listed,
 * inconsistent shapes the executor will report) stays unknown. */
#include "graph/graph.h"

#include <string.h>

/* A shape being computed: dims -1 = unknown; sym borrows names from inputs. */
typedef struct work_shape {
  int32_t dtype;
  int ndim; /* -1 = unknown rank */
  int64_t d[RQ__MAX_RANK];
  const char *sym[RQ__MAX_RANK];
} work_shape;

static bool is_op(const rq__node *n, const char *op) { return strcmp(n->op_type, op) == 0; }

static bool in_list(const char *op, const char *const *list) {
  for (; *list; list++)
    if (strcmp(op, *list) == 0) return true;
  return false;
}

static const rq__value *input(const rq_graph *g, const rq__node *n, int k) {
  return k < n->n_inputs && n->inputs[k] >= 0 ? &g->values[n->inputs[k]] : NULL;
}

static bool from_value(const rq__value *v, work_shape *w) {
  memset(w, 0, sizeof *w);
  w->ndim = -1;
  if (v == NULL || v->kind != RQ__KIND_TENSOR) return false; /* a sequence's dtype/shape are its elements' */
  w->dtype = v->dtype;
  w->ndim = v->shape.ndim;
  for (int i = 0; i < w->ndim; i++) {
    w->d[i] = v->shape.dims[i];
    w->sym[i] = v->shape.sym[i];
  }
  return w->ndim >= 0;
}

/* Constant int64 input k (an initializer), or NULL. */
static const int64_t *const_ints(const rq_graph *g, const rq__node *n, int k, size_t *count) {
  const rq__value *v = input(g, n, k);
  if (v == NULL || v->init == NULL || v->init->dtype != RQ__DT_INT64 || v->init->ndim > 1) return NULL;
  *count = v->init->numel;
  return v->init->data;
}

/* Axis list from attribute `name` or, from opset 13 on, constant input k. */
static const int64_t *axes_of(const rq_graph *g, const rq__node *n, const char *name, int k,
                              size_t *count) {
  const int64_t *a = rq__node_attr_ints(n, name, count);
  if (a != NULL) return a;
  *count = 0;
  return const_ints(g, n, k, count);
}

static bool norm_axis(int64_t axis, int rank, int *out) {
  if (axis < -rank || axis >= rank) return false;
  *out = (int)(axis < 0 ? axis + rank : axis);
  return true;
}

/* Dimension arithmetic on hostile attribute values: any overflow makes the
 * result unknown (-1) instead of undefined behaviour. */
static int64_t dim_add(int64_t a, int64_t b) {
  int64_t r;
  return a < 0 || b < 0 || __builtin_add_overflow(a, b, &r) ? -1 : r;
}
static int64_t dim_mul(int64_t a, int64_t b) {
  int64_t r;
  return a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r) ? -1 : r;
}
/* For a >= 0, b > 0. */
static int64_t floor_div(int64_t a, int64_t b) { return a / b; }
static int64_t ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0); }

static bool broadcast(work_shape *out, const work_shape *a, const work_shape *b) {
  if (a->ndim < 0 || b->ndim < 0) return false;
  int r = a->ndim > b->ndim ? a->ndim : b->ndim;
  work_shape o = {.dtype = a->dtype, .ndim = r};
  for (int i = 0; i < r; i++) {
    int ia = i - (r - a->ndim), ib = i - (r - b->ndim);
    int64_t da = ia >= 0 ? a->d[ia] : 1, db = ib >= 0 ? b->d[ib] : 1;
    const char *sa = ia >= 0 ? a->sym[ia] : NULL, *sb = ib >= 0 ? b->sym[ib] : NULL;
    o.d[i] = -1;
    if (da == 1) {
      o.d[i] = db;
      o.sym[i] = sb;
    } else if (db == 1 || (da >= 0 && da == db)) {
      o.d[i] = da;
      o.sym[i] = sa;
    } else if (da >= 0 && db >= 0) {
      return false; /* incompatible: the executor reports it */
    } else if (da >= 0 || db >= 0) {
      o.d[i] = da >= 0 ? da : db; /* unknown vs known n != 1 must be n */
    } else if (sa && sb && strcmp(sa, sb) == 0) {
      o.sym[i] = sa;
    }
  }
  *out = o;
  return true;
}

/* Output spatial size of a conv/pool window. */
static int64_t window_out(int64_t in, int64_t k, int64_t stride, int64_t dil, int64_t pb, int64_t pe,
                          const char *auto_pad, bool ceil_mode) {
  if (in < 0 || stride <= 0 || k <= 0 || dil <= 0) return -1;
  int64_t span = dim_add(dim_mul(dil, k - 1), 1);
  if (span < 0) return -1;
  if (strcmp(auto_pad, "SAME_UPPER") == 0 || strcmp(auto_pad, "SAME_LOWER") == 0)
    return ceil_div(in, stride);
  if (strcmp(auto_pad, "VALID") == 0) return in < span ? -1 : floor_div(in - span, stride) + 1;
  if (pb < 0 || pe < 0) return -1;
  int64_t padded = dim_add(dim_add(in, pb), pe);
  if (padded < span) return -1; /* also covers overflow (-1) */
  int64_t num = padded - span;
  return (ceil_mode ? ceil_div(num, stride) : floor_div(num, stride)) + 1;
}

static bool infer_window(const rq_graph *g, const rq__node *n, work_shape *o, bool conv) {
  work_shape x;
  if (!from_value(input(g, n, 0), &x) || x.ndim < 3) return false;
  int sp = x.ndim - 2;
  size_t nk = 0, ns = 0, nd = 0, np = 0;
  const int64_t *ks = rq__node_attr_ints(n, "kernel_shape", &nk);
  const int64_t *st = rq__node_attr_ints(n, "strides", &ns);
  const int64_t *dl = rq__node_attr_ints(n, "dilations", &nd);
  const int64_t *pd = rq__node_attr_ints(n, "pads", &np);
  const char *auto_pad = rq__node_attr_string(n, "auto_pad", "NOTSET");
  bool ceil_mode = rq__node_attr_int(n, "ceil_mode", 0) != 0;
  work_shape w;
  bool have_w = conv && from_value(input(g, n, 1), &w) && w.ndim == x.ndim;
  if (conv && !have_w && ks == NULL) return false;
  if (!conv && ks == NULL) return false;
  if ((ks && nk != (size_t)sp) || (st && ns != (size_t)sp) || (dl && nd != (size_t)sp) ||
      (pd && np != 2 * (size_t)sp))
    return false;
  *o = x;
  for (int i = 0; i < RQ__MAX_RANK; i++) o->sym[i] = i == 0 ? x.sym[0] : NULL;
  if (conv) {
    o->d[1] = have_w ? w.d[0] : -1;
    o->sym[1] = have_w ? w.sym[0] : NULL;
  }
  for (int i = 0; i < sp; i++) {
    int64_t k = ks ? ks[i] : w.d[2 + i];
    o->d[2 + i] = window_out(x.d[2 + i], k, st ? st[i] : 1, dl ? dl[i] : 1, pd ? pd[i] : 0,
                             pd ? pd[sp + i] : 0, auto_pad, ceil_mode);
  }
  return true;
}

static bool infer_matmul(const work_shape *a0, const work_shape *b0, work_shape *o) {
  if (a0->ndim < 1 || b0->ndim < 1) return false;
  work_shape a = *a0, b = *b0;
  bool a_vec = a.ndim == 1, b_vec = b.ndim == 1;
  if (a_vec) { /* [K] -> [1, K] */
    a.ndim = 2;
    a.d[1] = a.d[0], a.sym[1] = a.sym[0];
    a.d[0] = 1, a.sym[0] = NULL;
  }
  if (b_vec) { /* [K] -> [K, 1] */
    b.ndim = 2;
    b.d[1] = 1, b.sym[1] = NULL;
  }
  work_shape ba = a, bb = b;
  ba.ndim -= 2;
  bb.ndim -= 2;
  work_shape batch;
  if (!broadcast(&batch, &ba, &bb)) return false;
  if (batch.ndim + 2 > RQ__MAX_RANK) return false;
  *o = batch;
  o->dtype = a0->dtype;
  int r = batch.ndim;
  o->d[r] = a.d[a.ndim - 2], o->sym[r] = a.sym[a.ndim - 2];
  o->d[r + 1] = b.d[b.ndim - 1], o->sym[r + 1] = b.sym[b.ndim - 1];
  o->ndim = r + 2;
  if (b_vec) o->ndim--;
  if (a_vec) {
    o->d[o->ndim - (b_vec ? 1 : 2)] = o->d[o->ndim - 1];
    o->sym[o->ndim - (b_vec ? 1 : 2)] = o->sym[o->ndim - 1];
    o->ndim--;
    if (b_vec) o->ndim = r; /* vector . vector = batch scalar */
  }
  return true;
}

/* Op lists both passes share. same_ops: output 0 has input 0's shape;
 * bcast_ops: numpy broadcasting of the inputs (bool_ops of them give BOOL);
 * reduce_ops: Reduce*. Their output types follow list_op_dtype. */
static const char *const same_ops[] = {
    "Relu", "Sigmoid", "Tanh", "Clip", "HardSigmoid", "HardSwish", "LeakyRelu", "Erf", "Sqrt",
    "Identity", "Softmax", "LogSoftmax", "Neg", "Abs", "Exp", "Log", "Elu", "Selu", "Softplus",
    "Reciprocal", "Floor", "Ceil", "Round", "BatchNormalization", "LayerNormalization",
    "Dropout", "Not", "Sign", "Sin", "Cos", "Cast", "QuantizeLinear", "DequantizeLinear",
    "InstanceNormalization", "LRN", "Mish", "Celu", "ThresholdedRelu", "Shrink", "GroupNormalization",
    "BitwiseNot", "Gelu", NULL};
static const char *const bcast_ops[] = {"Add", "Sub", "Mul", "Div", "Pow", "PRelu", "Max", "Min",
                                        "Sum", "Mean", "Equal", "Less", "Greater", "LessOrEqual",
                                        "GreaterOrEqual", "And", "Or", "Xor", "Mod", "BitwiseAnd", "BitwiseOr",
                                        "BitwiseXor", NULL};
static const char *const bool_ops[] = {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
                                       "And", "Or", "Xor", "Not", "IsNaN", "IsInf", NULL};
static const char *const reduce_ops[] = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin",
                                         "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare",
                                         "ReduceLogSum", "ReduceLogSumExp", NULL};

/* Output 0's element type for the listed ops and Where: the type of input 0
 * (Where: 1), except where the op sets it. */
static int32_t list_op_dtype(const rq_graph *g, const rq__node *n) {
  if (is_op(n, "Cast")) return (int32_t)rq__node_attr_int(n, "to", RQ__DT_UNDEFINED);
  if (is_op(n, "DequantizeLinear")) { /* the scale's type: FLOAT before opset 19, FLOAT16/BFLOAT16 since */
    const rq__value *scale = input(g, n, 1);
    return scale != NULL && scale->dtype != RQ__DT_UNDEFINED ? scale->dtype : RQ__DT_FLOAT;
  }
  if (is_op(n, "QuantizeLinear")) { /* the zero point's type, else opset 21's output_dtype, else UINT8 */
    const rq__value *zp = input(g, n, 2);
    int64_t out = rq__node_attr_int(n, "output_dtype", 0);
    return zp != NULL ? zp->dtype : out != 0 ? (int32_t)out : RQ__DT_UINT8;
  }
  if (in_list(n->op_type, bool_ops)) return RQ__DT_BOOL;
  const rq__value *v = input(g, n, is_op(n, "Where") ? 1 : 0);
  return v != NULL ? v->dtype : RQ__DT_UNDEFINED;
}

/* Infers output 0 of n into *o; false when it cannot. */
static bool infer(const rq_graph *g, const rq__node *n, work_shape *o) {
  if (n->domain[0] != '\0' && strcmp(n->domain, "ai.onnx") != 0) return false;
  const char *op = n->op_type;
  work_shape x;
  bool have_x = from_value(input(g, n, 0), &x);

  if (in_list(op, same_ops)) {
    if (!have_x) return false;
    *o = x;
    o->dtype = list_op_dtype(g, n);
    return true;
  }
  if (in_list(op, bcast_ops) || is_op(n, "Where")) {
    if (!from_value(input(g, n, 0), o)) return false;
    for (int k = 1; k < n->n_inputs; k++) {
      work_shape b;
      if (!from_value(input(g, n, k), &b) || !broadcast(o, o, &b)) return false;
    }
    o->dtype = list_op_dtype(g, n);
    return true;
  }
  if (is_op(n, "Conv") || is_op(n, "MaxPool") || is_op(n, "AveragePool") || is_op(n, "LpPool"))
    return infer_window(g, n, o, is_op(n, "Conv"));
  if (is_op(n, "GlobalAveragePool") || is_op(n, "GlobalMaxPool") || is_op(n, "GlobalLpPool")) {
    if (!have_x || x.ndim < 3) return false;
    *o = x;
    for (int i = 2; i < x.ndim; i++) o->d[i] = 1, o->sym[i] = NULL;
    return true;
  }
  if (is_op(n, "Gemm")) {
    work_shape b;
    if (!have_x || !from_value(input(g, n, 1), &b) || x.ndim != 2 || b.ndim != 2) return false;
    bool ta = rq__node_attr_int(n, "transA", 0) != 0, tb = rq__node_attr_int(n, "transB", 0) != 0;
    *o = x;
    o->d[0] = x.d[ta ? 1 : 0], o->sym[0] = x.sym[ta ? 1 : 0];
    o->d[1] = b.d[tb ? 0 : 1], o->sym[1] = b.sym[tb ? 0 : 1];
    return true;
  }
  if (is_op(n, "MatMul")) {
    work_shape b;
    return have_x && from_value(input(g, n, 1), &b) && infer_matmul(&x, &b, o);
  }
  if (is_op(n, "Flatten")) {
    int64_t a = rq__node_attr_int(n, "axis", 1); /* in [-r, r]; negative counts from the back */
    if (!have_x || a < -x.ndim || a > x.ndim) return false;
    int axis = (int)(a < 0 ? a + x.ndim : a);
    int64_t left = 1, right = 1;
    for (int i = 0; i < x.ndim; i++) {
      int64_t *side = i < axis ? &left : &right;
      *side = dim_mul(*side, x.d[i]);
    }
    *o = (work_shape){.dtype = x.dtype, .ndim = 2, .d = {left, right}};
    if (axis == 1 && x.d[0] < 0) o->sym[0] = x.sym[0];
    return true;
  }
  if (is_op(n, "Reshape")) {
    size_t count;
    const int64_t *shape = const_ints(g, n, 1, &count);
    if (!have_x || shape == NULL || count > RQ__MAX_RANK) return false;
    bool allow_zero = rq__node_attr_int(n, "allowzero", 0) != 0;
    *o = (work_shape){.dtype = x.dtype, .ndim = (int)count};
    int infer_at = -1;
    int64_t known = 1, total = 1;
    for (int i = 0; i < x.ndim; i++) total = dim_mul(total, x.d[i]);
    for (size_t i = 0; i < count; i++) {
      int64_t s = shape[i];
      if (s == 0 && !allow_zero) {
        if ((int)i >= x.ndim) return false;
        o->d[i] = x.d[i], o->sym[i] = x.sym[i];
      } else if (s == -1) {
        if (infer_at >= 0) return false;
        infer_at = (int)i;
        o->d[i] = -1;
        continue;
      } else if (s < 0) {
        return false;
      } else {
        o->d[i] = s;
      }
      known = dim_mul(known, o->d[i]);
    }
    if (infer_at >= 0 && total >= 0 && known > 0 && total % known == 0) o->d[infer_at] = total / known;
    return true;
  }
  if (is_op(n, "Transpose")) {
    if (!have_x) return false;
    size_t np;
    const int64_t *perm = rq__node_attr_ints(n, "perm", &np);
    if (perm != NULL && np != (size_t)x.ndim) return false;
    *o = x;
    for (int i = 0; i < x.ndim; i++) {
      int64_t p = perm ? perm[i] : x.ndim - 1 - i;
      if (p < 0 || p >= x.ndim) return false;
      o->d[i] = x.d[p], o->sym[i] = x.sym[p];
    }
    return true;
  }
  if (is_op(n, "Concat")) {
    int axis;
    if (!have_x || !norm_axis(rq__node_attr_int(n, "axis", 0), x.ndim, &axis)) return false;
    *o = x;
    o->sym[axis] = NULL;
    for (int k = 1; k < n->n_inputs; k++) {
      work_shape b;
      if (!from_value(input(g, n, k), &b) || b.ndim != x.ndim) return false;
      o->d[axis] = dim_add(o->d[axis], b.d[axis]);
    }
    return true;
  }
  if (is_op(n, "Unsqueeze") || is_op(n, "Squeeze")) {
    size_t na;
    const int64_t *axes = axes_of(g, n, "axes", 1, &na);
    if (!have_x || na > RQ__MAX_RANK) return false;
    bool unsq = is_op(n, "Unsqueeze");
    int rank = unsq ? x.ndim + (int)na : x.ndim;
    if (rank > RQ__MAX_RANK || (axes == NULL && unsq)) return false;
    bool mark[RQ__MAX_RANK] = {0};
    for (size_t i = 0; i < na; i++) {
      int a;
      if (!norm_axis(axes[i], rank, &a) || mark[a]) return false;
      mark[a] = true;
    }
    *o = (work_shape){.dtype = x.dtype};
    if (unsq) {
      for (int i = 0, j = 0; i < rank; i++) {
        if (mark[i]) o->d[i] = 1;
        else o->d[i] = x.d[j], o->sym[i] = x.sym[j], j++;
      }
      o->ndim = rank;
    } else {
      for (int i = 0; i < x.ndim; i++) {
        bool drop = axes ? mark[i] : x.d[i] == 1;
        if (axes == NULL && x.d[i] < 0) return false; /* might be 1 */
        if (!drop) o->d[o->ndim] = x.d[i], o->sym[o->ndim] = x.sym[i], o->ndim++;
      }
    }
    return true;
  }
  if (in_list(op, reduce_ops)) {
    if (!have_x) return false;
    size_t na = 0;
    const int64_t *axes = axes_of(g, n, "axes", 1, &na);
    bool keep = rq__node_attr_int(n, "keepdims", 1) != 0;
    if (axes == NULL && n->n_inputs > 1 && n->inputs[1] >= 0) return false; /* runtime axes */
    if (axes == NULL && rq__node_attr_int(n, "noop_with_empty_axes", 0) != 0) {
      *o = x;
      return true;
    }
    bool mark[RQ__MAX_RANK] = {0};
    for (size_t i = 0; i < na; i++) {
      int a;
      if (!norm_axis(axes[i], x.ndim, &a)) return false;
      mark[a] = true;
    }
    *o = (work_shape){.dtype = x.dtype};
    for (int i = 0; i < x.ndim; i++) {
      bool reduced = axes == NULL || na == 0 ? true : mark[i];
      if (reduced && !keep) continue;
      o->d[o->ndim] = reduced ? 1 : x.d[i];
      o->sym[o->ndim] = reduced ? NULL : x.sym[i];
      o->ndim++;
    }
    return true;
  }
  if (is_op(n, "Shape")) {
    if (!have_x) return false;
    int start = 0, end = x.ndim;
    int64_t s = rq__node_attr_int(n, "start", 0), e = rq__node_attr_int(n, "end", x.ndim);
    s = s < 0 ? s + x.ndim : s;
    e = e < 0 ? e + x.ndim : e;
    start = s < 0 ? 0 : s > x.ndim ? x.ndim : (int)s;
    end = e < 0 ? 0 : e > x.ndim ? x.ndim : (int)e;
    *o = (work_shape){.dtype = RQ__DT_INT64, .ndim = 1, .d = {end > start ? end - start : 0}};
    return true;
  }
  if (is_op(n, "Pad")) {
    size_t np = 0;
    const int64_t *pads = rq__node_attr_ints(n, "pads", &np);
    if (pads == NULL) pads = const_ints(g, n, 1, &np);
    if (!have_x || pads == NULL || np != 2 * (size_t)x.ndim || n->n_inputs > 3) return false;
    *o = x;
    for (int i = 0; i < x.ndim; i++) {
      /* Negative pads crop: size = d + b + e, which must stay >= 0. */
      int64_t b = pads[i], e = pads[x.ndim + i], r;
      if (x.d[i] < 0 || __builtin_add_overflow(x.d[i], b, &r) || __builtin_add_overflow(r, e, &r))
        r = -1;
      else if (r < 0)
        return false;
      o->d[i] = r;
      if (b != 0 || e != 0) o->sym[i] = NULL;
    }
    return true;
  }
  if (is_op(n, "Gather")) {
    work_shape idx;
    int axis;
    if (!have_x || !from_value(input(g, n, 1), &idx) ||
        !norm_axis(rq__node_attr_int(n, "axis", 0), x.ndim, &axis) ||
        x.ndim - 1 + idx.ndim > RQ__MAX_RANK)
      return false;
    *o = (work_shape){.dtype = x.dtype};
    for (int i = 0; i < axis; i++) o->d[o->ndim] = x.d[i], o->sym[o->ndim++] = x.sym[i];
    for (int i = 0; i < idx.ndim; i++) o->d[o->ndim] = idx.d[i], o->sym[o->ndim++] = idx.sym[i];
    for (int i = axis + 1; i < x.ndim; i++) o->d[o->ndim] = x.d[i], o->sym[o->ndim++] = x.sym[i];
    return true;
  }
  return false;
}

/* Element types alone, for outputs whose shape cannot be inferred (an op
 * not listed above, an unknown input shape): the quantizer must know which
 * edges carry integers even then (a Gather of a Shape deep inside an LSTM's
 * plumbing is int64 whatever the shapes). Output `out` (-1: every output) of
 * the ops listed has the type of input `from`, or the fixed `dtype` when
 * `from` is -1; the ops of the shared lists above follow list_op_dtype. */
static const struct {
  const char *const *ops;
  int out, from;
  int32_t dtype;
} dtype_rules[] = {
    {(const char *const[]){"Shape", "Size", "NonZero", "ArgMax", "ArgMin", "NonMaxSuppression", "SequenceLength",
                           NULL}, 0, -1, RQ__DT_INT64},
    {(const char *const[]){"TopK", "MaxPool", "Unique", NULL}, 1, -1, RQ__DT_INT64},
    {(const char *const[]){"Unique", NULL}, 2, -1, RQ__DT_INT64},
    {(const char *const[]){"Unique", NULL}, 3, -1, RQ__DT_INT64},
    {(const char *const[]){"IsNaN", "IsInf", "OptionalHasElement", NULL}, 0, -1, RQ__DT_BOOL},
    {(const char *const[]){"Dropout", NULL}, 1, -1, RQ__DT_BOOL},
    {(const char *const[]){"MatMulInteger", "ConvInteger", NULL}, 0, -1, RQ__DT_INT32},
    {(const char *const[]){"DynamicQuantizeLinear", NULL}, 0, -1, RQ__DT_UINT8},
    {(const char *const[]){"DynamicQuantizeLinear", NULL}, 1, -1, RQ__DT_FLOAT},
    {(const char *const[]){"DynamicQuantizeLinear", NULL}, 2, -1, RQ__DT_UINT8},
    {(const char *const[]){"QLinearConv", "QLinearMatMul", NULL}, 0, 7, 0},
    {(const char *const[]){"CastLike", NULL}, 0, 1, 0},
    {(const char *const[]){"OneHot", NULL}, 0, 2, 0},
    {(const char *const[]){"Split", "RNN", "GRU", "LSTM", "BatchNormalization", NULL}, -1, 0, 0},
    {(const char *const[]){"Softsign", "Conv", "ConvTranspose", "Gemm", "MatMul", "MaxPool", "AveragePool",
                           "LpPool", "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "Transpose", "Reshape", "Flatten",
                           "Squeeze", "Unsqueeze", "Concat", "Slice", "Gather", "GatherElements", "GatherND",
                           "Expand", "Tile", "Pad", "Resize", "Upsample", "DepthToSpace", "SpaceToDepth",
                           "ReverseSequence", "Compress", "Trilu", "CumSum", "TopK", "Unique", "Einsum",
                           "ScatterElements", "ScatterND", "Scatter", "MaxUnpool", "GridSample", "RoiAlign",
                           "Range", "MeanVarianceNormalization", "Hardmax", "BitShift", "Det", "DFT", "STFT",
                           "Col2Im", "CenterCropPad", "AffineGrid", "DeformConv", NULL}, 0, 0, 0},
};

static int32_t tensor_dtype(const rq__value *v) {
  return v != NULL && v->kind == RQ__KIND_TENSOR ? v->dtype : RQ__DT_UNDEFINED;
}

static int32_t infer_dtype(const rq_graph *g, const rq__node *n, int k) {
  const char *op = n->op_type;
  for (size_t r = 0; r < sizeof dtype_rules / sizeof dtype_rules[0]; r++)
    if ((dtype_rules[r].out == -1 || dtype_rules[r].out == k) && in_list(op, dtype_rules[r].ops))
      return dtype_rules[r].from < 0 ? dtype_rules[r].dtype : tensor_dtype(input(g, n, dtype_rules[r].from));
  if (k != 0) return RQ__DT_UNDEFINED;
  if (in_list(op, same_ops) || in_list(op, bcast_ops) || in_list(op, reduce_ops) || is_op(n, "Where")) {
    /* Either the op sets the type, or it is a tensor input's. */
    bool own = is_op(n, "Cast") || is_op(n, "QuantizeLinear") || is_op(n, "DequantizeLinear") ||
               in_list(op, bool_ops);
    bool from_tensor = tensor_dtype(input(g, n, is_op(n, "Where") ? 1 : 0)) != RQ__DT_UNDEFINED;
    return own || from_tensor ? list_op_dtype(g, n) : RQ__DT_UNDEFINED;
  }
  /* A tensor taken out of a sequence has the sequence's element type. */
  if (is_op(n, "SequenceAt") || is_op(n, "ConcatFromSequence")) {
    const rq__value *v = input(g, n, 0);
    return v != NULL && v->kind == RQ__KIND_SEQUENCE ? v->dtype : RQ__DT_UNDEFINED;
  }
  if (is_op(n, "EyeLike")) {
    const rq__value *v = input(g, n, 0);
    return (int32_t)rq__node_attr_int(n, "dtype", v != NULL ? v->dtype : RQ__DT_UNDEFINED);
  }
  if (is_op(n, "HannWindow") || is_op(n, "HammingWindow") || is_op(n, "BlackmanWindow") ||
      is_op(n, "MelWeightMatrix"))
    return (int32_t)rq__node_attr_int(n, "output_datatype", RQ__DT_FLOAT);
  if (is_op(n, "ConstantOfShape")) {
    const rq__attr *value = rq__node_attr(n, "value");
    return value != NULL && value->type == RQ__ATTR_TENSOR && value->t != NULL ? value->t->dtype : RQ__DT_FLOAT;
  }
  return RQ__DT_UNDEFINED;
}

/* The kind (and element type) of output k of n when it is a sequence or
 * an optional: sequence and optional ops, Identity of one, and If/Loop outputs whose
 * subgraph declares one. False for tensors and what is not known. */
static bool infer_kind(const rq_graph *g, const rq__node *n, int k, int *kind, int *inner, int32_t *dtype) {
  const rq__value *x = input(g, n, 0), *decl = NULL;
  *inner = RQ__KIND_TENSOR;
  *dtype = RQ__DT_UNDEFINED;
  if (k == 0 && (is_op(n, "SplitToSequence") || is_op(n, "SequenceConstruct"))) {
    *kind = RQ__KIND_SEQUENCE;
    if (x != NULL && x->kind == RQ__KIND_TENSOR) *dtype = x->dtype;
    return true;
  }
  if (k == 0 && is_op(n, "SequenceEmpty")) {
    *kind = RQ__KIND_SEQUENCE;
    *dtype = (int32_t)rq__node_attr_int(n, "dtype", RQ__DT_FLOAT);
    return true;
  }
  if (k == 0 && is_op(n, "Optional")) {
    *kind = RQ__KIND_OPTIONAL;
    if (x != NULL) {
      *inner = x->kind == RQ__KIND_SEQUENCE ? RQ__KIND_SEQUENCE : RQ__KIND_TENSOR;
      *dtype = x->dtype;
    }
    return true;
  }
  if (is_op(n, "SequenceMap")) { /* output k collects the body's output k */
    const rq__attr *body = rq__node_attr(n, "body");
    *kind = RQ__KIND_SEQUENCE;
    if (body != NULL && body->type == RQ__ATTR_GRAPH && body->g != NULL && k < body->g->n_outputs)
      *dtype = body->g->values[body->g->outputs[k]].dtype;
    return true;
  }
  if (k == 0 && (is_op(n, "SequenceInsert") || is_op(n, "SequenceErase") || is_op(n, "Identity"))) decl = x;
  const rq__attr *a = is_op(n, "If")     ? rq__node_attr(n, "then_branch")
                      : is_op(n, "Loop") ? rq__node_attr(n, "body")
                                         : NULL;
  if (a != NULL && a->type == RQ__ATTR_GRAPH && a->g != NULL) {
    int slot = is_op(n, "Loop") ? k + 1 : k; /* a Loop body's output 0 is cond */
    if (slot < a->g->n_outputs) decl = &a->g->values[a->g->outputs[slot]];
  }
  if (decl == NULL || decl->kind == RQ__KIND_TENSOR) return false;
  *kind = decl->kind;
  *inner = decl->inner_kind;
  *dtype = decl->dtype;
  return true;
}

rq_status rq__pass_infer_shapes(rq_graph *g, int *count) {
  RQ_CHECK_NOT_NULL(g);
  int filled = 0;
  /* Kinds first, in node order (they flow along chains of sequence ops), so
   * that nothing below takes a sequence edge for an undeclared tensor. */
  for (int i = 0; i < g->n_nodes; i++) {
    const rq__node *n = &g->nodes[i];
    if (n->domain[0] != '\0' && strcmp(n->domain, "ai.onnx") != 0) continue;
    for (int k = 0; k < n->n_outputs; k++) {
      if (n->outputs[k] < 0) continue;
      rq__value *out = &g->values[n->outputs[k]];
      int kind, inner;
      int32_t dtype;
      if (out->kind != RQ__KIND_TENSOR || out->dtype != RQ__DT_UNDEFINED || out->shape.ndim >= 0 ||
          !infer_kind(g, n, k, &kind, &inner, &dtype))
        continue;
      out->kind = kind;
      out->inner_kind = inner;
      out->dtype = dtype;
    }
  }
  for (int i = 0; i < g->n_nodes; i++) {
    const rq__node *n = &g->nodes[i];
    if (n->n_outputs < 1 || n->outputs[0] < 0) continue;
    rq__value *out = &g->values[n->outputs[0]];
    if (out->shape.ndim >= 0 || out->kind != RQ__KIND_TENSOR) continue; /* declared by the model: kept */
    work_shape o;
    if (!infer(g, n, &o) || o.ndim < 0 || o.ndim > RQ__MAX_RANK) continue;
    char *sym[RQ__MAX_RANK] = {0};
    for (int k = 0; k < o.ndim; k++) {
      if (o.sym[k] != NULL && o.d[k] < 0 && (sym[k] = rq__strdup(o.sym[k])) == NULL) {
        for (int j = 0; j < k; j++) rq__free(sym[j]);
        return rq__nomem(__func__, strlen(o.sym[k]) + 1);
      }
    }
    out->shape.ndim = o.ndim;
    for (int k = 0; k < RQ__MAX_RANK; k++) {
      rq__free(out->shape.sym[k]);
      out->shape.sym[k] = sym[k];
      out->shape.dims[k] = k < o.ndim ? o.d[k] : 0;
    }
    if (out->dtype == RQ__DT_UNDEFINED) out->dtype = o.dtype;
    filled++;
  }
  /* Types alone where shapes could not be inferred, in node order, so they
   * flow through chains of ops whose shapes stay unknown. */
  for (int i = 0; i < g->n_nodes; i++) {
    const rq__node *n = &g->nodes[i];
    if (n->domain[0] != '\0' && strcmp(n->domain, "ai.onnx") != 0) continue;
    for (int k = 0; k < n->n_outputs; k++) {
      if (n->outputs[k] < 0 || g->values[n->outputs[k]].dtype != RQ__DT_UNDEFINED) continue;
      g->values[n->outputs[k]].dtype = infer_dtype(g, n, k);
    }
  }
  if (count) *count = filled;
  return RQ_OK;
}
