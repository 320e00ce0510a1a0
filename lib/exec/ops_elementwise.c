/* SPDX-License-Identifier: Apache-2.0 */
/* Elementwise ops: binary arithmetic with numpy broadcasting, unary
 * activations, Clip, Softmax/LogSoftmax, Cast, BitShift and the Bitwise
 * ops. FLOAT takes a fast path; other numeric types go through double
 * (exact for every float32 result of + - * /, and for integers below
 * 2^53); the bit ops work on the integers' bits. */
#include "exec/exec.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* ---- binary ---- */

typedef enum binop { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_POW, OP_PRELU, OP_MAX, OP_MIN, OP_MOD, OP_FMOD,
                     /* the rest produce BOOL */
                     OP_EQUAL, OP_LESS, OP_GREATER, OP_LESS_EQUAL, OP_GREATER_EQUAL, OP_AND, OP_OR, OP_XOR } binop;

static bool binop_is_compare(binop op) { return op >= OP_EQUAL; }

static double binop_apply(binop op, double a, double b, bool integer) {
  switch (op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    case OP_DIV:
      if (integer) return b == 0 ? 0 : trunc(a / b); /* C integer division; x/0 is undefined in ONNX */
      return a / b;
    case OP_POW: return pow(a, b);
    case OP_PRELU: return a < 0 ? a * b : a;
    case OP_MAX: return (isnan(a) || isnan(b)) ? NAN : a > b ? a : b;
    case OP_MIN: return (isnan(a) || isnan(b)) ? NAN : a < b ? a : b;
    case OP_MOD: { /* Python's %: the result takes the divisor's sign */
      if (b == 0) return 0;
      double r = fmod(a, b);
      return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
    }
    case OP_FMOD: return b == 0 ? 0 : fmod(a, b);
    case OP_AND: return a != 0 && b != 0;
    case OP_OR: return a != 0 || b != 0;
    case OP_XOR: return (a != 0) != (b != 0);
    case OP_EQUAL: return a == b;
    case OP_LESS: return a < b;
    case OP_GREATER: return a > b;
    case OP_LESS_EQUAL: return a <= b;
    case OP_GREATER_EQUAL: return a >= b;
  }
  return 0;
}

/* One broadcast row of a FLOAT op; a macro so each op gets a tight loop. */
#define FLOAT_ROW(EXPR)                                                    \
  for (size_t j = 0; j < len; j++) {                                       \
    float x = a[(int64_t)j * sa], y = b[(int64_t)j * sb];                  \
    o[j] = (EXPR);                                                         \
  }

static void float_row(binop op, float *o, const float *a, int64_t sa, const float *b, int64_t sb,
                      size_t len) {
  switch (op) {
    case OP_ADD: FLOAT_ROW(x + y); break;
    case OP_SUB: FLOAT_ROW(x - y); break;
    case OP_MUL: FLOAT_ROW(x * y); break;
    case OP_DIV: FLOAT_ROW(x / y); break;
    case OP_POW: FLOAT_ROW(powf(x, y)); break;
    case OP_PRELU: FLOAT_ROW(x < 0 ? x * y : x); break;
    default: FLOAT_ROW((float)binop_apply(op, x, y, false)); break;
  }
}

typedef struct binary_job {
  binop op;
  const rq__bcast *bc;
  float *y;
  const float *a, *b;
  bool split_row; /* one row, chunked by element (inner strides 0 or 1) */
} binary_job;

static void binary_chunk(void *arg, size_t begin, size_t end) {
  binary_job *j = arg;
  const rq__bcast *bc = j->bc;
  int64_t sa = rq__bcast_inner_stride(bc, 0), sb = rq__bcast_inner_stride(bc, 1);
  if (j->split_row) {
    float_row(j->op, j->y + begin, j->a + (size_t)sa * begin, sa, j->b + (size_t)sb * begin, sb, end - begin);
    return;
  }
  size_t offs[2];
  for (size_t r = begin; r < end; r++) {
    rq__bcast_row(bc, r, offs);
    float_row(j->op, j->y + r * bc->inner, j->a + offs[0], sa, j->b + offs[1], sb, bc->inner);
  }
}

static rq_status binary(rq__op_ctx *c, binop op) {
  const rq__tensor *a, *b;
  RQ_TRY(rq__op_need(c, 0, &a));
  RQ_TRY(rq__op_need(c, 1, &b));
  if (!rq__dtype_is_numeric(a->dtype) || !rq__dtype_is_numeric(b->dtype))
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "element types %s and %s are not supported",
                      rq__dtype_name(a->dtype), rq__dtype_name(b->dtype));
  /* Pow alone takes an exponent of another type (the result has the base's). */
  if (op != OP_POW && a->dtype != b->dtype)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "inputs have different element types (%s, %s)",
                      rq__dtype_name(a->dtype), rq__dtype_name(b->dtype));
  /* Before opset 7, B broadcast to A only when asked (broadcast=1), aligned
   * at `axis` rather than at the end: view B with A's rank. */
  rq__tensor b_legacy;
  if (c->opset < 7 && rq__node_attr_int(c->node, "broadcast", 0) != 0 && rq__node_attr(c->node, "axis") != NULL) {
    int64_t axis = rq__node_attr_int(c->node, "axis", 0);
    if (axis < 0) axis += a->ndim;
    if (axis < 0 || axis + b->ndim > a->ndim) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axis does not fit B in A");
    b_legacy = *b;
    b_legacy.ndim = a->ndim;
    for (int d = 0; d < a->ndim; d++)
      b_legacy.dims[d] = d < axis || d >= axis + b->ndim ? 1 : b->dims[d - axis];
    b = &b_legacy;
  }
  const rq__tensor *ts[2] = {a, b};
  rq__bcast bc;
  RQ_TRY(rq__bcast_init(c, &bc, 2, ts));
  /* PRelu's slope broadcasts to X (unidirectionally): the output is X's shape. */
  if (op == OP_PRELU && (bc.ndim != a->ndim || memcmp(bc.dims, a->dims, sizeof(int64_t) * (size_t)a->ndim)))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "slope does not broadcast to the input's shape");
  int32_t out_type = binop_is_compare(op) ? RQ__DT_BOOL : a->dtype;
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, out_type, bc.ndim, bc.dims, &y));
  size_t rows = bc.inner ? bc.numel / bc.inner : 0, offs[2];
  int64_t sa = rq__bcast_inner_stride(&bc, 0), sb = rq__bcast_inner_stride(&bc, 1);
  if (out_type == RQ__DT_FLOAT && b->dtype == RQ__DT_FLOAT) {
    binary_job job = {.op = op, .bc = &bc, .y = y->data, .a = a->data, .b = b->data};
    /* Rows are split across threads; a single long row is split into pieces. */
    if (rows == 1 && bc.inner > 1 && sa <= 1 && sb <= 1) {
      job.split_row = true;
      rq__parallel_for(c->threads, bc.inner, 16384, binary_chunk, &job);
    } else {
      rq__parallel_for(c->threads, rows, 16384 / (bc.inner ? bc.inner : 1) + 1, binary_chunk, &job);
    }
    return RQ_OK;
  }
  bool integer = rq__dtype_is_int(a->dtype);
  for (size_t r = 0; r < rows; r++) {
    rq__bcast_row(&bc, r, offs);
    for (size_t j = 0; j < bc.inner; j++) {
      double x = rq__elem_get(a->data, a->dtype, offs[0] + j * (size_t)sa);
      double v = rq__elem_get(b->data, b->dtype, offs[1] + j * (size_t)sb);
      rq__elem_set(y->data, out_type, r * bc.inner + j, binop_apply(op, x, v, integer));
    }
  }
  return RQ_OK;
}

static rq_status op_add(rq__op_ctx *c) { return binary(c, OP_ADD); }
static rq_status op_sub(rq__op_ctx *c) { return binary(c, OP_SUB); }
static rq_status op_mul(rq__op_ctx *c) { return binary(c, OP_MUL); }
static rq_status op_div(rq__op_ctx *c) { return binary(c, OP_DIV); }
static rq_status op_pow(rq__op_ctx *c) { return binary(c, OP_POW); }
static rq_status op_prelu(rq__op_ctx *c) {
  /* Before opset 7 a 1-D slope of the channel count applied per channel
   * (axis 1), as PyTorch exported nn.PReLU. */
  const rq__tensor *x = rq__op_in(c, 0), *slope = rq__op_in(c, 1);
  if (c->opset < 7 && x != NULL && slope != NULL && x->ndim >= 2 && slope->ndim == 1 && slope->dims[0] == x->dims[1] &&
      slope->dims[0] != x->dims[x->ndim - 1]) {
    rq__tensor view = *slope;
    view.ndim = x->ndim - 1;
    for (int d = 0; d < view.ndim; d++) view.dims[d] = d == 0 ? slope->dims[0] : 1;
    const rq__tensor *ins[2] = {x, &view};
    rq__op_ctx sub = *c;
    sub.in = ins;
    sub.n_in = 2;
    return binary(&sub, OP_PRELU);
  }
  return binary(c, OP_PRELU);
}
static rq_status op_equal(rq__op_ctx *c) { return binary(c, OP_EQUAL); }
static rq_status op_and(rq__op_ctx *c) { return binary(c, OP_AND); }
static rq_status op_or(rq__op_ctx *c) { return binary(c, OP_OR); }
static rq_status op_xor(rq__op_ctx *c) { return binary(c, OP_XOR); }
/* Integer ops on the elements' bits: BitShift and the Bitwise family
 * (opset 18). Each element is copied into the low bytes of a uint64 (a
 * little-endian host) and back; and/or/xor/not act on two's-complement
 * bits alike for every width and signedness, so one loop serves every
 * integer type. */
typedef enum bitop { BIT_AND, BIT_OR, BIT_XOR, BIT_SHIFT_LEFT, BIT_SHIFT_RIGHT } bitop;

static uint64_t bitop_apply(bitop op, uint64_t x, uint64_t s, size_t bits) {
  switch (op) {
    case BIT_AND: return x & s;
    case BIT_OR: return x | s;
    case BIT_XOR: return x ^ s;
    /* Shifts of the type's width or more give 0 (x holds no higher bits). */
    case BIT_SHIFT_LEFT: return s >= bits ? 0 : x << s;
    case BIT_SHIFT_RIGHT: return s >= bits ? 0 : x >> s;
  }
  return 0;
}

/* a op b with numpy broadcasting; a and b have one integer type. */
static rq_status bits_binary(rq__op_ctx *c, const rq__tensor *a, const rq__tensor *b, bitop op) {
  const rq__tensor *ts[2] = {a, b};
  rq__bcast bc;
  RQ_TRY(rq__bcast_init(c, &bc, 2, ts));
  rq__tensor *y;
  RQ_TRY(rq__op_output_uninit(c, 0, a->dtype, bc.ndim, bc.dims, &y));
  size_t es = rq__dtype_size(a->dtype), rows = bc.inner ? bc.numel / bc.inner : 0, offs[2];
  int64_t sa = rq__bcast_inner_stride(&bc, 0), sb = rq__bcast_inner_stride(&bc, 1);
  for (size_t r = 0; r < rows; r++) {
    rq__bcast_row(&bc, r, offs);
    for (size_t j = 0; j < bc.inner; j++) {
      uint64_t x = 0, s = 0;
      memcpy(&x, (const char *)a->data + (offs[0] + j * (size_t)sa) * es, es);
      memcpy(&s, (const char *)b->data + (offs[1] + j * (size_t)sb) * es, es);
      uint64_t v = bitop_apply(op, x, s, es * 8);
      memcpy((char *)y->data + (r * bc.inner + j) * es, &v, es);
    }
  }
  return RQ_OK;
}

/* BitShift on unsigned integers. */
static rq_status op_bitshift(rq__op_ctx *c) {
  const rq__tensor *a, *b;
  RQ_TRY(rq__op_need(c, 0, &a));
  RQ_TRY(rq__op_need(c, 1, &b));
  if (a->dtype != b->dtype || (a->dtype != RQ__DT_UINT8 && a->dtype != RQ__DT_UINT16 && a->dtype != RQ__DT_UINT32 &&
                               a->dtype != RQ__DT_UINT64))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "inputs must be one unsigned integer type");
  bool left = strcmp(rq__node_attr_string(c->node, "direction", ""), "LEFT") == 0;
  if (!left && strcmp(rq__node_attr_string(c->node, "direction", ""), "RIGHT") != 0)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "direction must be LEFT or RIGHT");
  return bits_binary(c, a, b, left ? BIT_SHIFT_LEFT : BIT_SHIFT_RIGHT);
}

/* BitwiseAnd / BitwiseOr / BitwiseXor: one integer type (no BOOL: that is
 * And/Or/Xor), the result of that type. */
static rq_status bitwise(rq__op_ctx *c, bitop op) {
  const rq__tensor *a, *b;
  RQ_TRY(rq__op_need(c, 0, &a));
  RQ_TRY(rq__op_need(c, 1, &b));
  if (a->dtype != b->dtype || !rq__dtype_is_int(a->dtype))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "inputs must be one integer type, got %s and %s", rq__dtype_name(a->dtype),
                      rq__dtype_name(b->dtype));
  return bits_binary(c, a, b, op);
}
static rq_status op_bitwise_and(rq__op_ctx *c) { return bitwise(c, BIT_AND); }
static rq_status op_bitwise_or(rq__op_ctx *c) { return bitwise(c, BIT_OR); }
static rq_status op_bitwise_xor(rq__op_ctx *c) { return bitwise(c, BIT_XOR); }

static rq_status op_bitwise_not(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  if (!rq__dtype_is_int(x->dtype))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input must be an integer type, got %s", rq__dtype_name(x->dtype));
  rq__tensor *y;
  RQ_TRY(rq__op_output_uninit(c, 0, x->dtype, x->ndim, x->dims, &y));
  /* ~ on every byte is ~ on the element, whatever its width. */
  const uint8_t *in = x->data;
  uint8_t *out = y->data;
  for (size_t i = 0; i < x->nbytes; i++) out[i] = (uint8_t)~in[i];
  return RQ_OK;
}

static rq_status op_mod(rq__op_ctx *c) {
  bool f = rq__node_attr_int(c->node, "fmod", 0) != 0;
  const rq__tensor *a = rq__op_in(c, 0);
  if (!f && a != NULL && !rq__dtype_is_int(a->dtype))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "fmod=0 needs integer inputs");
  return binary(c, f ? OP_FMOD : OP_MOD);
}

/* Max / Min / Sum / Mean: any number of inputs, broadcast together, folded
 * left to right through the binary kernel (Mean divides at the end). */
static rq_status variadic(rq__op_ctx *c, binop op, bool mean) {
  const rq__tensor *acc;
  RQ_TRY(rq__op_need(c, 0, &acc));
  rq__tensor *owned = NULL;
  rq_status st = RQ_OK;
  if (c->n_in == 1) {
    st = rq__tensor_clone(acc, &owned);
  } else {
    for (int k = 1; k < c->n_in && st == RQ_OK; k++) {
      const rq__tensor *pair[2] = {acc, c->in[k]};
      rq__tensor *res[1] = {NULL};
      rq__op_ctx sub = {.node = c->node, .opset = c->opset, .n_in = 2, .in = pair, .n_out = 1, .out = res};
      st = binary(&sub, op);
      rq__tensor_destroy(owned);
      owned = res[0];
      acc = owned;
    }
  }
  if (st == RQ_OK && mean) {
    if (owned->dtype != RQ__DT_FLOAT && owned->dtype != RQ__DT_DOUBLE && owned->dtype != RQ__DT_FLOAT16)
      st = RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "Mean of %s", rq__dtype_name(owned->dtype));
    for (size_t i = 0; st == RQ_OK && i < owned->numel; i++)
      rq__elem_set(owned->data, owned->dtype, i, rq__elem_get(owned->data, owned->dtype, i) / c->n_in);
  }
  if (st != RQ_OK) {
    rq__tensor_destroy(owned);
    return st;
  }
  c->out[0] = owned;
  return RQ_OK;
}
static rq_status op_max(rq__op_ctx *c) { return variadic(c, OP_MAX, false); }
static rq_status op_min(rq__op_ctx *c) { return variadic(c, OP_MIN, false); }
static rq_status op_sum(rq__op_ctx *c) { return variadic(c, OP_ADD, false); }
static rq_status op_mean(rq__op_ctx *c) { return variadic(c, OP_ADD, true); }

static rq_status op_where(rq__op_ctx *c) {
  const rq__tensor *cond, *x, *y;
  RQ_TRY(rq__op_need(c, 0, &cond));
  RQ_TRY(rq__op_need(c, 1, &x));
  RQ_TRY(rq__op_need(c, 2, &y));
  if (cond->dtype != RQ__DT_BOOL || x->dtype != y->dtype)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "condition must be BOOL and X, Y of one type");
  const rq__tensor *ts[3] = {cond, x, y};
  rq__bcast bc;
  RQ_TRY(rq__bcast_init(c, &bc, 3, ts));
  rq__tensor *out;
  RQ_TRY(rq__op_output(c, 0, x->dtype, bc.ndim, bc.dims, &out));
  size_t es = rq__dtype_size(x->dtype), rows = bc.inner ? bc.numel / bc.inner : 0, offs[3];
  int64_t s0 = rq__bcast_inner_stride(&bc, 0), s1 = rq__bcast_inner_stride(&bc, 1), s2 = rq__bcast_inner_stride(&bc, 2);
  for (size_t r = 0; r < rows; r++) {
    rq__bcast_row(&bc, r, offs);
    for (size_t j = 0; j < bc.inner; j++) {
      bool pick = ((const uint8_t *)cond->data)[offs[0] + j * (size_t)s0] != 0;
      const char *src = pick ? (const char *)x->data + (offs[1] + j * (size_t)s1) * es
                             : (const char *)y->data + (offs[2] + j * (size_t)s2) * es;
      memcpy((char *)out->data + (r * bc.inner + j) * es, src, es);
    }
  }
  return RQ_OK;
}
static rq_status op_less(rq__op_ctx *c) { return binary(c, OP_LESS); }
static rq_status op_greater(rq__op_ctx *c) { return binary(c, OP_GREATER); }
static rq_status op_less_equal(rq__op_ctx *c) { return binary(c, OP_LESS_EQUAL); }
static rq_status op_greater_equal(rq__op_ctx *c) { return binary(c, OP_GREATER_EQUAL); }

/* ---- unary ---- */

typedef struct unary_params {
  double alpha, beta, gamma;
} unary_params;

typedef double (*unary_fn)(double x, const unary_params *p);

static double u_relu(double x, const unary_params *p) { (void)p; return x > 0 ? x : (isnan(x) ? x : 0 * x); }
static double u_sigmoid(double x, const unary_params *p) { (void)p; return 1 / (1 + exp(-x)); }
static double u_tanh(double x, const unary_params *p) { (void)p; return tanh(x); }
static double u_sqrt(double x, const unary_params *p) { (void)p; return sqrt(x); }
static double u_erf(double x, const unary_params *p) { (void)p; return erf(x); }
static double u_exp(double x, const unary_params *p) { (void)p; return exp(x); }
static double u_log(double x, const unary_params *p) { (void)p; return log(x); }
static double u_abs(double x, const unary_params *p) { (void)p; return fabs(x); }
static double u_neg(double x, const unary_params *p) { (void)p; return -x; }
static double u_floor(double x, const unary_params *p) { (void)p; return floor(x); }
static double u_ceil(double x, const unary_params *p) { (void)p; return ceil(x); }
static double u_reciprocal(double x, const unary_params *p) { (void)p; return 1 / x; }
static double u_softsign(double x, const unary_params *p) { (void)p; return x / (1 + fabs(x)); }
static double u_softplus(double x, const unary_params *p) { (void)p; return log1p(exp(x)); }
/* Mish (opset 18) = x * tanh(softplus(x)), as PyTorch's F.mish. */
static double u_mish(double x, const unary_params *p) { (void)p; return x * tanh(log1p(exp(x))); }
/* Gelu (opset 20) = x * Phi(x), as PyTorch's F.gelu: exactly via erf, or
 * (alpha != 0) by the tanh approximation of approximate="tanh". */
static double u_gelu(double x, const unary_params *p) {
  if (p->alpha == 0) return 0.5 * x * (1 + erf(x * M_SQRT1_2));
  const double sqrt_2_over_pi = 0.79788456080286535588;
  return 0.5 * x * (1 + tanh(sqrt_2_over_pi * (x + 0.044715 * x * x * x)));
}
static double u_sin(double x, const unary_params *p) { (void)p; return sin(x); }
static double u_cos(double x, const unary_params *p) { (void)p; return cos(x); }
static double u_tan(double x, const unary_params *p) { (void)p; return tan(x); }
static double u_asin(double x, const unary_params *p) { (void)p; return asin(x); }
static double u_acos(double x, const unary_params *p) { (void)p; return acos(x); }
static double u_atan(double x, const unary_params *p) { (void)p; return atan(x); }
static double u_sinh(double x, const unary_params *p) { (void)p; return sinh(x); }
static double u_cosh(double x, const unary_params *p) { (void)p; return cosh(x); }
static double u_asinh(double x, const unary_params *p) { (void)p; return asinh(x); }
static double u_acosh(double x, const unary_params *p) { (void)p; return acosh(x); }
static double u_atanh(double x, const unary_params *p) { (void)p; return atanh(x); }
static double u_round(double x, const unary_params *p) { (void)p; return nearbyint(x); } /* half to even */
static double u_sign(double x, const unary_params *p) { (void)p; return x > 0 ? 1 : x < 0 ? -1 : x; }
static double u_not(double x, const unary_params *p) { (void)p; return x == 0; }
static double u_celu(double x, const unary_params *p) {
  return (x > 0 ? x : 0) + fmin(0, p->alpha * expm1(x / p->alpha));
}
static double u_thresholded_relu(double x, const unary_params *p) { return x > p->alpha ? x : 0; }
static double u_shrink(double x, const unary_params *p) {
  return x < -p->alpha ? x + p->beta : x > p->alpha ? x - p->beta : 0;
}
static double u_isnan(double x, const unary_params *p) { (void)p; return isnan(x); }
static double u_isinf(double x, const unary_params *p) {
  return isinf(x) && ((x > 0 && p->alpha != 0) || (x < 0 && p->beta != 0));
}
static double u_leaky_relu(double x, const unary_params *p) { return x < 0 ? x * p->alpha : x; }
static double u_elu(double x, const unary_params *p) { return x < 0 ? p->alpha * expm1(x) : x; }
static double u_selu(double x, const unary_params *p) {
  return p->gamma * (x <= 0 ? p->alpha * expm1(x) : x);
}
static double u_hard_sigmoid(double x, const unary_params *p) {
  double v = p->alpha * x + p->beta;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
/* ONNX HardSwish = x * HardSigmoid(x) with alpha 1/6, beta 0.5 (= PyTorch's
 * x * relu6(x + 3) / 6). */
static double u_hard_swish(double x, const unary_params *p) {
  (void)p;
  double v = x / 6 + 0.5;
  return x * (v < 0 ? 0 : v > 1 ? 1 : v);
}

typedef struct unary_job {
  unary_fn fn;
  const unary_params *p;
  const float *in;
  float *out;
} unary_job;

static void unary_chunk(void *arg, size_t begin, size_t end) {
  unary_job *j = arg;
  for (size_t i = begin; i < end; i++) j->out[i] = (float)j->fn(j->in[i], j->p);
}

/* out_type 0 = the input's type. */
static rq_status unary_to(rq__op_ctx *c, unary_fn fn, const unary_params *p, bool allow_int, int32_t out_type) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  bool ok = x->dtype == RQ__DT_FLOAT || x->dtype == RQ__DT_DOUBLE || x->dtype == RQ__DT_FLOAT16 ||
            x->dtype == RQ__DT_BFLOAT16 || (allow_int && (rq__dtype_is_int(x->dtype) || x->dtype == RQ__DT_BOOL));
  if (!ok)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "element type %s is not supported", rq__dtype_name(x->dtype));
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, out_type ? out_type : x->dtype, x->ndim, x->dims, &y));
  if (x->dtype == RQ__DT_FLOAT && y->dtype == RQ__DT_FLOAT) {
    unary_job job = {fn, p, x->data, y->data};
    rq__parallel_for(c->threads, x->numel, 16384, unary_chunk, &job);
  } else {
    for (size_t i = 0; i < x->numel; i++)
      rq__elem_set(y->data, y->dtype, i, fn(rq__elem_get(x->data, x->dtype, i), p));
  }
  return RQ_OK;
}

static rq_status unary(rq__op_ctx *c, unary_fn fn, const unary_params *p, bool allow_int) {
  return unary_to(c, fn, p, allow_int, 0);
}

static rq_status op_relu(rq__op_ctx *c) {
  const rq__tensor *x = rq__op_in(c, 0);
  if (x != NULL && x->dtype == RQ__DT_FLOAT) { /* the hottest activation: no call per element */
    rq__tensor *y;
    RQ_TRY(rq__op_output(c, 0, x->dtype, x->ndim, x->dims, &y));
    const float *in = x->data;
    float *out = y->data;
    for (size_t i = 0; i < x->numel; i++) out[i] = in[i] > 0 || isnan(in[i]) ? in[i] : 0.0f;
    return RQ_OK;
  }
  return unary(c, u_relu, NULL, true);
}

#define SIMPLE_UNARY(NAME, FN, INTS) \
  static rq_status NAME(rq__op_ctx *c) { return unary(c, FN, NULL, INTS); }
SIMPLE_UNARY(op_sigmoid, u_sigmoid, false)
SIMPLE_UNARY(op_tanh, u_tanh, false)
SIMPLE_UNARY(op_sqrt, u_sqrt, false)
SIMPLE_UNARY(op_erf, u_erf, false)
SIMPLE_UNARY(op_exp, u_exp, false)
SIMPLE_UNARY(op_log, u_log, false)
SIMPLE_UNARY(op_abs, u_abs, true)
SIMPLE_UNARY(op_neg, u_neg, true)
SIMPLE_UNARY(op_floor, u_floor, false)
SIMPLE_UNARY(op_ceil, u_ceil, false)
SIMPLE_UNARY(op_reciprocal, u_reciprocal, false)
SIMPLE_UNARY(op_softsign, u_softsign, false)
SIMPLE_UNARY(op_softplus, u_softplus, false)
SIMPLE_UNARY(op_mish, u_mish, false)
SIMPLE_UNARY(op_hard_swish, u_hard_swish, false)
SIMPLE_UNARY(op_sin, u_sin, false)
SIMPLE_UNARY(op_cos, u_cos, false)
SIMPLE_UNARY(op_tan, u_tan, false)
SIMPLE_UNARY(op_asin, u_asin, false)
SIMPLE_UNARY(op_acos, u_acos, false)
SIMPLE_UNARY(op_atan, u_atan, false)
SIMPLE_UNARY(op_sinh, u_sinh, false)
SIMPLE_UNARY(op_cosh, u_cosh, false)
SIMPLE_UNARY(op_asinh, u_asinh, false)
SIMPLE_UNARY(op_acosh, u_acosh, false)
SIMPLE_UNARY(op_atanh, u_atanh, false)
SIMPLE_UNARY(op_round, u_round, false)
SIMPLE_UNARY(op_sign, u_sign, true)

static rq_status op_not(rq__op_ctx *c) {
  const rq__tensor *x = rq__op_in(c, 0);
  if (x != NULL && x->dtype != RQ__DT_BOOL) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input must be BOOL");
  return unary(c, u_not, NULL, true);
}
static rq_status op_isnan(rq__op_ctx *c) { return unary_to(c, u_isnan, NULL, false, RQ__DT_BOOL); }
static rq_status op_isinf(rq__op_ctx *c) {
  unary_params p = {.alpha = (double)rq__node_attr_int(c->node, "detect_positive", 1),
                    .beta = (double)rq__node_attr_int(c->node, "detect_negative", 1)};
  return unary_to(c, u_isinf, &p, false, RQ__DT_BOOL);
}
static rq_status op_celu(rq__op_ctx *c) {
  unary_params p = {.alpha = rq__node_attr_float(c->node, "alpha", 1.0f)};
  return unary(c, u_celu, &p, false);
}
static rq_status op_gelu(rq__op_ctx *c) {
  const char *approximate = rq__node_attr_string(c->node, "approximate", "none");
  bool use_tanh = strcmp(approximate, "tanh") == 0;
  if (!use_tanh && strcmp(approximate, "none") != 0)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "approximate '%s' is neither none nor tanh", approximate);
  unary_params p = {.alpha = use_tanh ? 1.0 : 0.0};
  return unary(c, u_gelu, &p, false);
}
static rq_status op_thresholded_relu(rq__op_ctx *c) {
  unary_params p = {.alpha = rq__node_attr_float(c->node, "alpha", 1.0f)};
  return unary(c, u_thresholded_relu, &p, false);
}
static rq_status op_shrink(rq__op_ctx *c) {
  unary_params p = {.alpha = rq__node_attr_float(c->node, "lambd", 0.5f),
                    .beta = rq__node_attr_float(c->node, "bias", 0.0f)};
  return unary(c, u_shrink, &p, true);
}

static rq_status op_leaky_relu(rq__op_ctx *c) {
  unary_params p = {.alpha = rq__node_attr_float(c->node, "alpha", 0.01f)};
  return unary(c, u_leaky_relu, &p, false);
}
static rq_status op_elu(rq__op_ctx *c) {
  unary_params p = {.alpha = rq__node_attr_float(c->node, "alpha", 1.0f)};
  return unary(c, u_elu, &p, false);
}
static rq_status op_selu(rq__op_ctx *c) {
  unary_params p = {.alpha = rq__node_attr_float(c->node, "alpha", 1.67326319217681884765625f),
                    .gamma = rq__node_attr_float(c->node, "gamma", 1.05070102214813232421875f)};
  return unary(c, u_selu, &p, false);
}
static rq_status op_hard_sigmoid(rq__op_ctx *c) {
  unary_params p = {.alpha = rq__node_attr_float(c->node, "alpha", 0.2f),
                    .beta = rq__node_attr_float(c->node, "beta", 0.5f)};
  return unary(c, u_hard_sigmoid, &p, false);
}

/* ---- Clip ---- */

static rq_status op_clip(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  if (!rq__dtype_is_numeric(x->dtype) || x->dtype == RQ__DT_BOOL)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "element type %s is not supported", rq__dtype_name(x->dtype));
  double lo = -INFINITY, hi = INFINITY;
  if (c->opset < 11) {
    lo = rq__node_attr_float(c->node, "min", -FLT_MAX);
    hi = rq__node_attr_float(c->node, "max", FLT_MAX);
  } else {
    for (int k = 1; k <= 2; k++) {
      const rq__tensor *b = rq__op_in(c, k);
      if (b == NULL) continue;
      if (b->numel != 1 || b->dtype != x->dtype)
        return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%s must be a scalar of the input's type", k == 1 ? "min" : "max");
      *(k == 1 ? &lo : &hi) = rq__elem_get(b->data, b->dtype, 0);
    }
  }
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, x->ndim, x->dims, &y));
  if (x->dtype == RQ__DT_FLOAT) {
    const float *in = x->data;
    float *out = y->data, flo = (float)lo, fhi = (float)hi;
    /* numpy.clip order: max first, then min (matters only when min > max). */
    for (size_t i = 0; i < x->numel; i++) {
      float v = in[i] < flo ? flo : in[i];
      out[i] = v > fhi ? fhi : v;
    }
    return RQ_OK;
  }
  for (size_t i = 0; i < x->numel; i++) {
    double v = rq__elem_get(x->data, x->dtype, i);
    v = v < lo ? lo : v;
    rq__elem_set(y->data, y->dtype, i, v > hi ? hi : v);
  }
  return RQ_OK;
}

/* ---- Softmax / LogSoftmax ---- */

static rq_status softmax(rq__op_ctx *c, bool log_form) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need_float(c, 0, &x));
  int axis;
  RQ_TRY(rq__op_axis(c, rq__node_attr_int(c->node, "axis", c->opset < 13 ? 1 : -1), x->ndim, &axis));
  size_t outer = 1, len = 1, inner = 1;
  for (int d = 0; d < x->ndim; d++) {
    size_t v = (size_t)x->dims[d];
    if (d < axis) outer *= v;
    else if (d == axis || c->opset < 13) len *= v; /* before opset 13 the input is coerced to 2-D at axis */
    else inner *= v;
  }
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, x->ndim, x->dims, &y));
  const float *in = x->data;
  float *out = y->data;
  for (size_t o = 0; o < outer; o++) {
    for (size_t i = 0; i < inner; i++) {
      const float *xi = in + o * len * inner + i;
      float *yi = out + o * len * inner + i;
      float mx = -INFINITY;
      for (size_t k = 0; k < len; k++) mx = xi[k * inner] > mx ? xi[k * inner] : mx;
      double sum = 0;
      for (size_t k = 0; k < len; k++) sum += exp((double)xi[k * inner] - mx);
      if (log_form) {
        double ls = log(sum);
        for (size_t k = 0; k < len; k++) yi[k * inner] = (float)((double)xi[k * inner] - mx - ls);
      } else {
        for (size_t k = 0; k < len; k++) yi[k * inner] = (float)(exp((double)xi[k * inner] - mx) / sum);
      }
    }
  }
  return RQ_OK;
}

static rq_status op_softmax(rq__op_ctx *c) { return softmax(c, false); }
static rq_status op_log_softmax(rq__op_ctx *c) { return softmax(c, true); }

/* ---- Cast ---- */

static rq_status cast_to(rq__op_ctx *c, int64_t to) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  if (!rq__dtype_is_numeric(x->dtype) || to < 0 || to > INT32_MAX || !rq__dtype_is_numeric((int32_t)to))
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "cast from %s to %s is not supported", rq__dtype_name(x->dtype),
                      rq__dtype_name((int32_t)(to > INT32_MAX || to < 0 ? 0 : to)));
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, (int32_t)to, x->ndim, x->dims, &y));
  if (x->dtype == y->dtype) {
    if (x->nbytes) memcpy(y->data, x->data, x->nbytes);
    return RQ_OK;
  }
  for (size_t i = 0; i < x->numel; i++)
    rq__elem_set(y->data, y->dtype, i, rq__elem_get(x->data, x->dtype, i));
  return RQ_OK;
}

static rq_status op_cast(rq__op_ctx *c) {
  const rq__attr *to = rq__node_attr(c->node, "to");
  if (to == NULL || to->type != RQ__ATTR_INT) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "attribute 'to' is missing");
  return cast_to(c, to->i);
}

static rq_status op_cast_like(rq__op_ctx *c) {
  const rq__tensor *like;
  RQ_TRY(rq__op_need(c, 1, &like));
  return cast_to(c, like->dtype);
}

const rq__op_entry rq__ops_elementwise[] = {
  {"Add", op_add}, {"Sub", op_sub}, {"Mul", op_mul}, {"Div", op_div}, {"Pow", op_pow},
  {"PRelu", op_prelu}, {"Equal", op_equal}, {"Less", op_less}, {"Greater", op_greater},
  {"LessOrEqual", op_less_equal}, {"GreaterOrEqual", op_greater_equal},
  {"Relu", op_relu}, {"Sigmoid", op_sigmoid}, {"Tanh", op_tanh}, {"Sqrt", op_sqrt}, {"Erf", op_erf},
  {"Exp", op_exp}, {"Log", op_log}, {"Abs", op_abs}, {"Neg", op_neg}, {"Floor", op_floor},
  {"Ceil", op_ceil}, {"Reciprocal", op_reciprocal}, {"Softsign", op_softsign},
  {"Softplus", op_softplus}, {"HardSwish", op_hard_swish}, {"LeakyRelu", op_leaky_relu},
  {"Elu", op_elu}, {"Selu", op_selu}, {"HardSigmoid", op_hard_sigmoid}, {"Clip", op_clip},
  {"Softmax", op_softmax}, {"LogSoftmax", op_log_softmax}, {"Cast", op_cast},
  {"CastLike", op_cast_like}, {"And", op_and}, {"Or", op_or}, {"Xor", op_xor}, {"Not", op_not},
  {"Mod", op_mod}, {"Max", op_max}, {"Min", op_min}, {"Sum", op_sum}, {"Mean", op_mean},
  {"Where", op_where}, {"Sin", op_sin}, {"Cos", op_cos}, {"Tan", op_tan}, {"Asin", op_asin},
  {"Acos", op_acos}, {"Atan", op_atan}, {"Sinh", op_sinh}, {"Cosh", op_cosh}, {"Asinh", op_asinh},
  {"Acosh", op_acosh}, {"Atanh", op_atanh}, {"Round", op_round}, {"Sign", op_sign},
  {"IsNaN", op_isnan}, {"IsInf", op_isinf}, {"Celu", op_celu}, {"ThresholdedRelu", op_thresholded_relu},
  {"Shrink", op_shrink}, {"BitShift", op_bitshift}, {"BitwiseAnd", op_bitwise_and},
  {"BitwiseOr", op_bitwise_or}, {"BitwiseXor", op_bitwise_xor}, {"BitwiseNot", op_bitwise_not}, {"Mish", op_mish},
  {"Gelu", op_gelu},
  {NULL, NULL},
};
