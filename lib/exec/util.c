/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers the op kernels share: element access across dtypes, argument
 * reading, numpy broadcasting, and the GEMM every linear op goes through. */
#include "exec/exec.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#ifdef RQ_HAVE_CBLAS
#  include <cblas.h>
#endif

rq_status rq__op_need(const rq__op_ctx *c, int i, const rq__tensor **t) {
  *t = rq__op_in(c, i);
  if (*t == NULL) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input %d is required", i);
  return RQ_OK;
}

rq_status rq__op_need_float(const rq__op_ctx *c, int i, const rq__tensor **t) {
  RQ_TRY(rq__op_need(c, i, t));
  if ((*t)->dtype != RQ__DT_FLOAT)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "input %d has element type %s; only FLOAT is implemented",
                      i, rq__dtype_name((*t)->dtype));
  return RQ_OK;
}

/* The smallest pooled buffer of at least `bytes`, or NULL. No upper bound:
 * a larger pooled buffer is already paid for, while a fresh one costs page
 * faults on every run (capping reuse at 2x made MobileNetV2 take ~13% more
 * fresh pages per run, and the run's peak memory is what it took fresh). */
static void *pool_take(rq__buffer_pool *pool, size_t bytes) {
  int best = -1;
  for (int k = 0; k < RQ__POOL_SLOTS; k++) {
    if (pool->data[k] == NULL || pool->size[k] < bytes) continue;
    if (best < 0 || pool->size[k] < pool->size[best]) best = k;
  }
  if (best < 0) return NULL;
  void *p = pool->data[best];
  pool->data[best] = NULL;
  return p;
}

void rq__pool_recycle(rq__buffer_pool *pool, rq__tensor *t) {
  if (t == NULL) return;
  /* Small buffers are cheap to allocate; pooling pays for big ones. */
  size_t bytes = t->data != NULL ? rq__alloc_size(t->data) : 0;
  if (pool != NULL && bytes >= 65536) {
    int slot = -1;
    for (int k = 0; k < RQ__POOL_SLOTS && slot < 0; k++)
      if (pool->data[k] == NULL) slot = k;
    if (slot < 0) { /* full: evict the smallest if this one is larger */
      slot = 0;
      for (int k = 1; k < RQ__POOL_SLOTS; k++)
        if (pool->size[k] < pool->size[slot]) slot = k;
      if (pool->size[slot] >= bytes) slot = -1;
      else rq__free(pool->data[slot]);
    }
    if (slot >= 0) {
      /* The block's own size, not t's: a pooled block may have served a
       * smaller tensor, and forgetting its size would strand the large
       * blocks in small slots and send the next large request to the OS. */
      pool->data[slot] = t->data;
      pool->size[slot] = bytes;
      t->data = NULL;
    }
  }
  rq__tensor_destroy(t);
}

void *rq__pool_alloc(rq__buffer_pool *pool, size_t bytes) {
  void *p = pool != NULL && bytes >= 65536 ? pool_take(pool, bytes) : NULL;
  return p != NULL ? p : rq__malloc(bytes ? bytes : 1);
}

void rq__pool_release(rq__buffer_pool *pool, void *data, size_t bytes) {
  if (data == NULL) return;
  /* A stand-in tensor lets the recycling rule live in one place. */
  rq__tensor *t = rq__calloc(1, sizeof *t);
  if (t == NULL) {
    rq__free(data);
    return;
  }
  t->data = data;
  t->nbytes = bytes;
  rq__pool_recycle(pool, t);
}

void rq__pool_clear(rq__buffer_pool *pool) {
  for (int k = 0; k < RQ__POOL_SLOTS; k++) {
    rq__free(pool->data[k]);
    pool->data[k] = NULL;
  }
}

rq_status rq__pool_tensor(rq__buffer_pool *pool, const char *what, int32_t dtype, int ndim,
                          const int64_t *dims, bool zero, rq__tensor **out) {
  size_t esize = rq__dtype_size(dtype), numel;
  void *buf = NULL;
  bool large = esize != 0 && ndim >= 0 && ndim <= RQ__MAX_RANK &&
               rq__shape_numel(what, ndim, dims, esize, &numel) == RQ_OK && numel * esize >= 65536;
  if (large && pool != NULL) buf = pool_take(pool, numel * esize);
  if (large && buf == NULL && !zero) buf = rq__malloc(numel * esize);
  if (buf == NULL) return rq__tensor_create(NULL, dtype, ndim, dims, out);
  /* Same layout rq__tensor_create makes (rq__tensor_destroy frees it);
   * zeroed like a fresh one unless the caller writes every element. */
  rq__tensor *t = rq__calloc(1, sizeof *t);
  if (t == NULL) {
    rq__free(buf);
    return rq__nomem(what, sizeof *t);
  }
  t->dtype = dtype;
  t->ndim = ndim;
  if (ndim > 0) memcpy(t->dims, dims, (size_t)ndim * sizeof *dims);
  t->numel = numel;
  t->nbytes = numel * esize;
  t->data = buf;
  if (zero) memset(buf, 0, t->nbytes);
  *out = t;
  return RQ_OK;
}

static rq_status op_output(rq__op_ctx *c, int i, int32_t dtype, int ndim, const int64_t *dims, bool zero,
                           rq__tensor **t) {
  if (i >= c->n_out) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "output %d is not declared", i);
  /* Some ops write only part of their output, hence zeroed by default. */
  RQ_TRY(rq__pool_tensor(c->pool, c->node->op_type, dtype, ndim, dims, zero, &c->out[i]));
  if (t != NULL) *t = c->out[i];
  return RQ_OK;
}

rq_status rq__op_output(rq__op_ctx *c, int i, int32_t dtype, int ndim, const int64_t *dims,
                        rq__tensor **t) {
  return op_output(c, i, dtype, ndim, dims, true, t);
}

rq_status rq__op_output_uninit(rq__op_ctx *c, int i, int32_t dtype, int ndim, const int64_t *dims,
                               rq__tensor **t) {
  return op_output(c, i, dtype, ndim, dims, false, t);
}

/* ---- element access ---- */

float rq__half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else { /* subnormal: value = man * 2^-24 */
    float f = ldexpf((float)man, -24);
    return sign ? -f : f;
  }
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

uint16_t rq__float_to_half(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
  uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return sign | (ax > 0x7f800000u ? 0x7e00 : 0x7c00);
  if (ax >= 0x477ff000u) return sign | 0x7c00; /* rounds to >= 65520: inf */
  if (ax < 0x38800000u) {                      /* below the smallest normal half */
    float a;
    memcpy(&a, &ax, sizeof a);
    /* Subnormal halves are multiples of 2^-24; nearbyintf rounds half to even. */
    return sign | (uint16_t)nearbyintf(a * 16777216.0f);
  }
  uint32_t r = ax + 0xfffu + ((ax >> 13) & 1u); /* round to nearest even on bit 13 */
  return sign | (uint16_t)((r - 0x38000000u) >> 13);
}

float rq__bf16_to_float(uint16_t b) {
  uint32_t bits = (uint32_t)b << 16;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

uint16_t rq__float_to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);
  return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

bool rq__dtype_is_int(int32_t dtype) {
  switch (dtype) {
    case RQ__DT_UINT8: case RQ__DT_INT8: case RQ__DT_UINT16: case RQ__DT_INT16:
    case RQ__DT_INT32: case RQ__DT_INT64: case RQ__DT_UINT32: case RQ__DT_UINT64:
      return true;
    default:
      return false;
  }
}

bool rq__dtype_is_numeric(int32_t dtype) {
  return rq__dtype_is_int(dtype) || dtype == RQ__DT_FLOAT || dtype == RQ__DT_DOUBLE ||
         dtype == RQ__DT_FLOAT16 || dtype == RQ__DT_BFLOAT16 || dtype == RQ__DT_BOOL;
}

double rq__elem_get(const void *data, int32_t dtype, size_t i) {
  switch (dtype) {
    case RQ__DT_FLOAT: return ((const float *)data)[i];
    case RQ__DT_DOUBLE: return ((const double *)data)[i];
    case RQ__DT_UINT8: return ((const uint8_t *)data)[i];
    case RQ__DT_INT8: return ((const int8_t *)data)[i];
    case RQ__DT_UINT16: return ((const uint16_t *)data)[i];
    case RQ__DT_INT16: return ((const int16_t *)data)[i];
    case RQ__DT_INT32: return ((const int32_t *)data)[i];
    case RQ__DT_INT64: return (double)((const int64_t *)data)[i];
    case RQ__DT_UINT32: return ((const uint32_t *)data)[i];
    case RQ__DT_UINT64: return (double)((const uint64_t *)data)[i];
    case RQ__DT_BOOL: return ((const uint8_t *)data)[i] != 0;
    case RQ__DT_FLOAT16: return rq__half_to_float(((const uint16_t *)data)[i]);
    case RQ__DT_BFLOAT16: return rq__bf16_to_float(((const uint16_t *)data)[i]);
    default: return 0;
  }
}

/* Saturating double -> integer conversion: C leaves out-of-range
 * conversions undefined, and NaN has no integer value at all. */
static double clamp_to(double v, double lo, double hi) {
  if (isnan(v)) return 0;
  v = trunc(v);
  return v < lo ? lo : v > hi ? hi : v;
}

void rq__elem_set(void *data, int32_t dtype, size_t i, double v) {
  switch (dtype) {
    case RQ__DT_FLOAT: ((float *)data)[i] = (float)v; break;
    case RQ__DT_DOUBLE: ((double *)data)[i] = v; break;
    case RQ__DT_UINT8: ((uint8_t *)data)[i] = (uint8_t)clamp_to(v, 0, UINT8_MAX); break;
    case RQ__DT_INT8: ((int8_t *)data)[i] = (int8_t)clamp_to(v, INT8_MIN, INT8_MAX); break;
    case RQ__DT_UINT16: ((uint16_t *)data)[i] = (uint16_t)clamp_to(v, 0, UINT16_MAX); break;
    case RQ__DT_INT16: ((int16_t *)data)[i] = (int16_t)clamp_to(v, INT16_MIN, INT16_MAX); break;
    case RQ__DT_INT32: ((int32_t *)data)[i] = (int32_t)clamp_to(v, INT32_MIN, INT32_MAX); break;
    case RQ__DT_UINT32: ((uint32_t *)data)[i] = (uint32_t)clamp_to(v, 0, UINT32_MAX); break;
    /* 2^63 and 2^64 are exact doubles; anything at or above them saturates. */
    case RQ__DT_INT64: {
      double t = clamp_to(v, -9223372036854775808.0, 9223372036854775808.0);
      ((int64_t *)data)[i] = t >= 9223372036854775808.0 ? INT64_MAX : (int64_t)t;
      break;
    }
    case RQ__DT_UINT64: {
      double t = clamp_to(v, 0, 18446744073709551616.0);
      ((uint64_t *)data)[i] = t >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)t;
      break;
    }
    case RQ__DT_BOOL: ((uint8_t *)data)[i] = v != 0; break;
    case RQ__DT_FLOAT16: ((uint16_t *)data)[i] = rq__float_to_half((float)v); break;
    case RQ__DT_BFLOAT16: ((uint16_t *)data)[i] = rq__float_to_bf16((float)v); break;
    default: break;
  }
}

rq_status rq__op_attr_ints(const rq__op_ctx *c, const char *name, int n, int64_t dflt, int64_t *out) {
  size_t count;
  const int64_t *v = rq__node_attr_ints(c->node, name, &count);
  if (v == NULL) {
    for (int i = 0; i < n; i++) out[i] = dflt;
    return RQ_OK;
  }
  if (count != (size_t)n)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "attribute '%s' has %zu values, expected %d", name, count, n);
  memcpy(out, v, sizeof *out * (size_t)n);
  return RQ_OK;
}

rq_status rq__op_ints(const rq__op_ctx *c, const rq__tensor *t, int64_t *out, size_t max,
                      size_t *n) {
  if (t->dtype != RQ__DT_INT64 && t->dtype != RQ__DT_INT32)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "expected an INT64 tensor, got %s", rq__dtype_name(t->dtype));
  if (t->numel > max)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "%zu values given, at most %zu are supported", t->numel, max);
  for (size_t i = 0; i < t->numel; i++)
    out[i] = t->dtype == RQ__DT_INT64 ? ((const int64_t *)t->data)[i] : ((const int32_t *)t->data)[i];
  *n = t->numel;
  return RQ_OK;
}

rq_status rq__op_axis(const rq__op_ctx *c, int64_t axis, int rank, int *out) {
  if (axis < -rank || axis >= (rank == 0 ? 1 : rank))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axis %lld is out of range for rank %d", (long long)axis, rank);
  *out = (int)(axis < 0 ? axis + rank : axis);
  return RQ_OK;
}

/* ---- broadcasting ---- */

rq_status rq__bcast_init(const rq__op_ctx *c, rq__bcast *b, int n, const rq__tensor *const *ts) {
  memset(b, 0, sizeof *b);
  b->n = n;
  int nd = 0;
  for (int k = 0; k < n; k++)
    if (ts[k]->ndim > nd) nd = ts[k]->ndim;
  b->ndim = nd;
  for (int d = 0; d < nd; d++) {
    int64_t dim = 1;
    for (int k = 0; k < n; k++) {
      int kd = d - (nd - ts[k]->ndim);
      int64_t v = kd < 0 ? 1 : ts[k]->dims[kd];
      if (v == dim || v == 1) continue;
      if (dim != 1) {
        return RQ_OP_FAIL(c, RQ_ERR_FORMAT,
                          "shapes cannot be broadcast: dimension %d is %lld in one input and %lld in another",
                          d, (long long)dim, (long long)v);
      }
      dim = v;
    }
    b->dims[d] = dim;
  }
  for (int k = 0; k < n; k++) {
    int64_t stride = 1;
    for (int d = nd - 1; d >= 0; d--) {
      int kd = d - (nd - ts[k]->ndim);
      int64_t v = kd < 0 ? 1 : ts[k]->dims[kd];
      b->strides[k][d] = (v == 1) ? 0 : stride;
      /* Only a shape operand (Expand's) can be this large; its output could not exist. */
      if (__builtin_mul_overflow(stride, v, &stride))
        return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "shapes too large to broadcast: the element count overflows");
    }
  }
  /* The output must be a tensor that can exist (the product of its nonzero
   * dimensions fits); one that is empty has no rows to iterate. */
  size_t numel;
  if (rq__shape_numel("broadcast", nd, b->dims, 0, &numel) != RQ_OK || numel > (size_t)INT64_MAX)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "shapes too large to broadcast: the element count overflows");
  b->numel = numel;
  if (numel == 0) {
    b->it_ndim = 1;
    b->it_dims[0] = 0;
    b->inner = 0;
    return RQ_OK;
  }
  /* Merge dimension d into the one before when, for every input, the outer
   * stride is the inner one times the inner length (contiguous) - which
   * also holds when both are 0 (broadcast). Size-1 dimensions merge always. */
  int it = 0;
  for (int d = 0; d < nd; d++) {
    bool merge = it > 0;
    for (int k = 0; k < n && merge; k++)
      merge = b->dims[d] == 1 || b->it_strides[k][it - 1] == b->strides[k][d] * b->dims[d];
    if (merge) {
      b->it_dims[it - 1] *= b->dims[d];
      for (int k = 0; k < n; k++)
        if (b->dims[d] != 1) b->it_strides[k][it - 1] = b->strides[k][d];
      continue;
    }
    b->it_dims[it] = b->dims[d];
    for (int k = 0; k < n; k++) b->it_strides[k][it] = b->strides[k][d];
    it++;
  }
  b->it_ndim = it;
  b->inner = it == 0 ? 1 : (size_t)b->it_dims[it - 1];
  return RQ_OK;
}

void rq__bcast_row(const rq__bcast *b, size_t row, size_t *offsets) {
  for (int k = 0; k < b->n; k++) offsets[k] = 0;
  for (int d = b->it_ndim - 2; d >= 0; d--) {
    size_t dim = (size_t)b->it_dims[d];
    size_t i = row % dim;
    row /= dim;
    for (int k = 0; k < b->n; k++) offsets[k] += i * (size_t)b->it_strides[k][d];
  }
}

/* ---- threads ---- */

typedef struct chunk {
  void (*fn)(void *arg, size_t begin, size_t end);
  void *arg;
  size_t begin, end;
} chunk;

static void *run_chunk(void *p) {
  chunk *ch = p;
  ch->fn(ch->arg, ch->begin, ch->end);
  return NULL;
}

void rq__parallel_for(int threads, size_t n, size_t grain, void (*fn)(void *arg, size_t begin, size_t end),
                      void *arg) {
  enum { MAX_THREADS = 64 };
  if (grain == 0) grain = 1;
  size_t parts = threads < 1 ? 1 : (size_t)threads;
  if (parts > MAX_THREADS) parts = MAX_THREADS;
  if (parts > n / grain) parts = n / grain;
  if (parts <= 1) {
    if (n > 0) fn(arg, 0, n);
    return;
  }
  chunk chunks[MAX_THREADS];
  pthread_t tids[MAX_THREADS];
  bool started[MAX_THREADS] = {false};
  for (size_t t = 0; t < parts; t++)
    chunks[t] = (chunk){fn, arg, n * t / parts, n * (t + 1) / parts};
  /* Chunk 0 runs here; a thread that cannot be started runs here too. */
  for (size_t t = 1; t < parts; t++) started[t] = pthread_create(&tids[t], NULL, run_chunk, &chunks[t]) == 0;
  run_chunk(&chunks[0]);
  for (size_t t = 1; t < parts; t++) {
    if (started[t]) pthread_join(tids[t], NULL);
    else run_chunk(&chunks[t]);
  }
}

/* ---- GEMM ---- */

void rq__sgemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
               const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
               size_t ldc) {
  if (m == 0 || n == 0) return;
#ifdef RQ_HAVE_CBLAS
  if (k > 0) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
    return;
  }
#endif
  for (size_t i = 0; i < m; i++) {
    float *ci = c + i * ldc;
    if (beta == 0) {
      memset(ci, 0, n * sizeof *ci);
    } else if (beta != 1) {
      for (size_t j = 0; j < n; j++) ci[j] *= beta;
    }
    /* i-p-j order streams B and C rows when B is not transposed. */
    for (size_t p = 0; p < k; p++) {
      float av = alpha * (trans_a ? a[p * lda + i] : a[i * lda + p]);
      if (!trans_b) {
        const float *bp = b + p * ldb;
        for (size_t j = 0; j < n; j++) ci[j] += av * bp[j];
      } else {
        for (size_t j = 0; j < n; j++) ci[j] += av * b[j * ldb + p];
      }
    }
  }
}

#if defined(RQ_HAVE_CBLAS) && defined(RQ_HAVE_OPENBLAS_THREADS)
void openblas_set_num_threads(int num_threads);
#endif

void rq__gemm_set_threads(int n) {
#if defined(RQ_HAVE_CBLAS) && defined(RQ_HAVE_OPENBLAS_THREADS)
  if (n > 0) openblas_set_num_threads(n);
#else
  (void)n;
#endif
}
