/* SPDX-License-Identifier: Apache-2.0 */
/* One-element building blocks of the scalar reference kernels. The SIMD files
 * use the same functions for their tails, so a tail element is computed
 * exactly as the reference computes it. Every file that includes this is
 * compiled with -ffp-contract=off: a fused multiply-add would change results. */
#ifndef RQ_KERNELS_SCALAR_OPS_H
#define RQ_KERNELS_SCALAR_OPS_H

#include "kernels/kernels.h"

#include <math.h>
#include <string.h>

static inline uint32_t rq__f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}
static inline float rq__bits_f32(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* Element loads/stores by type; p is the array base, i the index. */
static inline float rq__load_f32(const void *p, size_t i) {
  float f;
  memcpy(&f, (const char *)p + i * sizeof f, sizeof f);
  return f;
}
static inline uint16_t rq__load_u16(const void *p, size_t i) {
  uint16_t h;
  memcpy(&h, (const char *)p + i * sizeof h, sizeof h);
  return h;
}
static inline float rq__load_f16(const void *p, size_t i) { return rq__f16_to_f32(rq__load_u16(p, i)); }
static inline float rq__load_bf16(const void *p, size_t i) { return rq__bf16_to_f32(rq__load_u16(p, i)); }
static inline void rq__store_f32(void *p, size_t i, float f) {
  memcpy((char *)p + i * sizeof f, &f, sizeof f);
}
static inline void rq__store_f16(void *p, size_t i, float f) {
  uint16_t h = rq__f32_to_f16(f);
  memcpy((char *)p + i * sizeof h, &h, sizeof h);
}
static inline void rq__store_bf16(void *p, size_t i, float f) {
  uint16_t h = rq__f32_to_bf16(f);
  memcpy((char *)p + i * sizeof h, &h, sizeof h);
}

static inline bool rq__is_finite(float v) { return fabsf(v) < INFINITY; }

/* Folds one value into a running min/max (finite values only). */
static inline void rq__fold_minmax(float v, float *mn, float *mx, uint64_t *nonfinite) {
  if (!rq__is_finite(v)) {
    ++*nonfinite;
    return;
  }
  if (v < *mn) *mn = v;
  if (v > *mx) *mx = v;
}

/* Adding +0.0f turns -0.0f into +0.0f and leaves every other value alone, so a
 * zero min/max has one sign whatever order the elements were visited in. */
static inline float rq__canonical_zero(float v) { return v + 0.0f; }

/* torch.histc's bin of v (PyTorch 1.13's _histc_cpu: (v - lo) / (hi - lo) * bins,
 * divided first, truncated, the top edge folded into the last bin), or -1 when v is outside [lo, hi] (or NaN). range =
 * hi - lo and fbins = (float)bins, computed by the caller once, in float. */
static inline int64_t rq__histc_bin(float v, float lo, float hi, float range, float fbins,
                                    size_t bins) {
  if (!(v >= lo && v <= hi)) return -1;
  float t = (v - lo) / range * fbins;
  if (!(t >= 0.0f)) return 0;                        /* NaN: only with an infinite range */
  if (t >= fbins) return (int64_t)bins - 1;          /* hi itself goes to the last bin */
  int64_t b = (int64_t)t;
  return b > (int64_t)bins - 1 ? (int64_t)bins - 1 : b;
}

/* The quantized value q = zero_point + nearbyint(x * inv_scale), in float, as
 * PyTorch computes it before converting to int64. */
static inline float rq__quant_float(float x, float inv_scale, float zf) {
  return zf + nearbyintf(x * inv_scale);
}

/* clamp((int64)q, qmin, qmax) in float. x86's float->int64 conversion turns NaN
 * and |q| >= 2^63 into INT64_MIN, which the clamp maps to qmin. */
static inline float rq__clamp_q(float q, float qminf, float qmaxf) {
  if (!(q < 0x1p63f)) return qminf;
  return q < qminf ? qminf : (q > qmaxf ? qmaxf : q);
}

static inline bool rq__q_inside(float q, float qminf, float qmaxf) {
  return q >= qminf && q <= qmaxf;
}

/* The LSQ backward (PyTorch's _fake_quantize_learnable_per_tensor_affine
 * backward) per element, with the constants every row derives the same way. */
struct rq__lsq_consts {
  float scale, neg_scale, inv_scale, zf, qminf, qmaxf, grad_factor;
  float dscale_below, dscale_above; /* the scale gradient's factor outside the range */
};
static inline struct rq__lsq_consts rq__lsq_consts_of(float scale, int32_t zero_point, int32_t qmin,
                                                      int32_t qmax, float grad_factor) {
  struct rq__lsq_consts c = { scale, -scale, 1.0f / scale, (float)zero_point, (float)qmin, (float)qmax,
                              grad_factor, (float)(qmin - zero_point), (float)(qmax - zero_point) };
  return c;
}
/* Returns dx; *ds and *dz get this element's scale and zero-point gradients
 * (0 where it contributes none), which the caller sums in double. */
static inline float rq__lsq_grad1(float x, float dy, const struct rq__lsq_consts *c, float *ds,
                                  float *dz) {
  /* PyTorch rounds after adding the zero point here (the forward adds after).
   * The two fmaf() are PyTorch's too: its AVX2 build of this kernel (the one
   * x86-64 machines run) has GCC contract zp + x * inv_scale and xfq - x into
   * fused multiply-adds, so the gradients are exact only with them. */
  float q = nearbyintf(fmaf(x, c->inv_scale, c->zf));
  bool inside = rq__q_inside(q, c->qminf, c->qmaxf);
  if (inside) {
    float diff = fmaf(q - c->zf, c->scale, -x); /* xfq - x */
    *ds = dy * diff * c->inv_scale * c->grad_factor;
    *dz = 0.0f;
  } else {
    bool below = !(q < 0x1p63f) || q < c->qminf; /* NaN/huge convert to INT64_MIN */
    *ds = dy * (below ? c->dscale_below : c->dscale_above) * c->grad_factor;
    *dz = dy * c->neg_scale * c->grad_factor;
  }
  return dy * (float)inside;
}
/* The LSQ sums run in eight interleaved double accumulators (element i of each
 * whole group of eight goes to bucket i % 8) so that every row can vectorise
 * them and still produce the same bits; this is their one combining order. */
#define RQ_LSQ_BUCKETS 8
static inline double rq__lsq_combine(const double b[RQ_LSQ_BUCKETS]) {
  return ((b[0] + b[4]) + (b[2] + b[6])) + ((b[1] + b[5]) + (b[3] + b[7]));
}

/* One fake-quant: returns y, sets *inside. */
static inline float rq__fake_quant1(float x, float scale, float inv_scale, float zf, float qminf,
                                    float qmaxf, uint8_t *inside) {
  float q = rq__quant_float(x, inv_scale, zf);
  *inside = rq__q_inside(q, qminf, qmaxf);
  return (rq__clamp_q(q, qminf, qmaxf) - zf) * scale;
}

#endif
