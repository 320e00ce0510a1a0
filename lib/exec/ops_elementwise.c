/* SPDX-License-Identifier: Apache-2.0 */
/* Elementwise ops: binary arithmetic with numpy broadcasting, unary
 * activations, Clip, Softmax/LogSoftmax, Cast. FLOAT takes a fast path;
 * other numeric types go through double (exact for every float32 result
 * of + - * /, and for integers below 2^53). */
#include "exec/exec.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* ---- binary ---- */

typedef enum binop { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_POW, OP_PRELU, OP_MAX, OP_MIN,
                     OP_EQUAL, OP_LESS, OP_GREATER, OP_LESS_EQUAL, OP_GREATER_EQUAL } binop;

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
    for (size_t r = 0; r < rows; r++) {
      rq__bcast_row(&bc, r, offs);
      float_row(op, (float *)y->data + r * bc.inner, (const float *)a->data + offs[0], sa,
                (const float *)b->data + offs[1], sb, bc.inner);
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
static rq_status op_prelu(rq__op_ctx *c) { return binary(c, OP_PRELU); }
static rq_status op_equal(rq__op_ctx *c) { return binary(c, OP_EQUAL); }
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

static rq_status unary(rq__op_ctx *c, unary_fn fn, const unary_params *p, bool allow_int) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  bool ok = x->dtype == RQ__DT_FLOAT || x->dtype == RQ__DT_DOUBLE || x->dtype == RQ__DT_FLOAT16 ||
            x->dtype == RQ__DT_BFLOAT16 || (allow_int && rq__dtype_is_int(x->dtype));
  if (!ok)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "element type %s is not supported", rq__dtype_name(x->dtype));
  rq__tensor *y;
  RQ_TRY(rq__op_output(c, 0, x->dtype, x->ndim, x->dims, &y));
  if (x->dtype == RQ__DT_FLOAT) {
    const float *in = x->data;
    float *out = y->data;
    for (size_t i = 0; i < x->numel; i++) out[i] = (float)fn(in[i], p);
  } else {
    for (size_t i = 0; i < x->numel; i++)
      rq__elem_set(y->data, y->dtype, i, fn(rq__elem_get(x->data, x->dtype, i), p));
  }
  return RQ_OK;
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
SIMPLE_UNARY(op_hard_swish, u_hard_swish, false)

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
  {"CastLike", op_cast_like},
  {NULL, NULL},
};
