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

/* One fake-quant: returns y, sets *inside. */
static inline float rq__fake_quant1(float x, float scale, float inv_scale, float zf, float qminf,
                                    float qmaxf, uint8_t *inside) {
  float q = rq__quant_float(x, inv_scale, zf);
  *inside = rq__q_inside(q, qminf, qmaxf);
  return (rq__clamp_q(q, qminf, qmaxf) - zf) * scale;
}

#endif
