/* SPDX-License-Identifier: Apache-2.0 */
/* The portable reference kernels: the definition every SIMD row must match bit
 * for bit. Written for clarity, one element at a time. */
#include "kernels/scalar_ops.h"

/* ---- exact conversions ---- */

float rq__f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t rest = h & 0x7fffu;
  if (rest >= 0x7c00u) /* Inf/NaN: keep the payload, widen the exponent */
    return rq__bits_f32(sign | 0x7f800000u | (rest & 0x3ffu) << 13);
  /* Re-bias by multiplying: exact for normals and subnormals alike. */
  float magnitude = rq__bits_f32(rest << 13) * 0x1p112f;
  return rq__bits_f32(rq__f32_bits(magnitude) | sign);
}

float rq__bf16_to_f32(uint16_t b) { return rq__bits_f32((uint32_t)b << 16); }

uint16_t rq__f32_to_f16(float f) {
  uint32_t x = rq__f32_bits(f);
  uint32_t sign = x & 0x80000000u;
  x ^= sign;
  uint16_t out;
  if (x >= 0x47800000u) { /* >= 65536, Inf or NaN */
    out = x > 0x7f800000u ? 0x7e00u : 0x7c00u;
  } else if (x < 0x38800000u) { /* result is subnormal or zero */
    /* Adding 0.5 aligns the 10 mantissa bits at the bottom; the FPU's
     * round-to-nearest-even does the rounding. */
    float aligned = rq__bits_f32(x) + 0.5f;
    out = (uint16_t)(rq__f32_bits(aligned) - 0x3f000000u);
  } else {
    uint32_t odd = (x >> 13) & 1u;
    x += 0xc8000fffu + odd; /* re-bias the exponent (-112 << 23), round half to even */
    out = (uint16_t)(x >> 13);
  }
  return (uint16_t)(out | (sign >> 16));
}

uint16_t rq__f32_to_bf16(float f) {
  if (isnan(f)) return 0x7fc0u;
  uint32_t x = rq__f32_bits(f);
  x += 0x7fffu + ((x >> 16) & 1u);
  return (uint16_t)(x >> 16);
}

/* ---- kernels, stamped out once per element type ---- */

#define RQ_SCALAR_ELEM_KERNELS(T, LOAD, STORE)                                                  \
  static void rq_##T##_minmax__scalar(const void *x, size_t n, float *min, float *max,          \
                                      uint64_t *nonfinite) {                                    \
    float mn = *min, mx = *max;                                                                 \
    uint64_t bad = 0;                                                                           \
    for (size_t i = 0; i < n; i++) rq__fold_minmax(LOAD(x, i), &mn, &mx, &bad);                 \
    *min = rq__canonical_zero(mn);                                                              \
    *max = rq__canonical_zero(mx);                                                              \
    *nonfinite += bad;                                                                          \
  }                                                                                             \
                                                                                                \
  static void rq_##T##_minmax_channels__scalar(const void *x, size_t outer, size_t channels,    \
                                               size_t inner, float *mins, float *maxs,          \
                                               uint64_t *nonfinite) {                           \
    size_t i = 0;                                                                               \
    uint64_t bad = 0;                                                                           \
    for (size_t o = 0; o < outer; o++)                                                          \
      for (size_t c = 0; c < channels; c++)                                                     \
        for (size_t k = 0; k < inner; k++, i++) rq__fold_minmax(LOAD(x, i), &mins[c], &maxs[c], &bad); \
    for (size_t c = 0; c < channels; c++) {                                                     \
      mins[c] = rq__canonical_zero(mins[c]);                                                    \
      maxs[c] = rq__canonical_zero(maxs[c]);                                                    \
    }                                                                                           \
    *nonfinite += bad;                                                                          \
  }                                                                                             \
                                                                                                \
  static void rq_##T##_histogram__scalar(const void *x, size_t n, float lo, float hi,           \
                                         uint64_t *counts, size_t bins) {                       \
    float range = hi - lo, fbins = (float)bins;                                                 \
    for (size_t i = 0; i < n; i++) {                                                            \
      int64_t b = rq__histc_bin(LOAD(x, i), lo, hi, range, fbins, bins);                        \
      if (b >= 0) counts[b]++;                                                                  \
    }                                                                                           \
  }                                                                                             \
                                                                                                \
  static void rq_##T##_minmax_histogram__scalar(const void *x, size_t n, float lo, float hi,    \
                                                uint64_t *counts, size_t bins, float *min,      \
                                                float *max, uint64_t *nonfinite) {              \
    float range = hi - lo, fbins = (float)bins;                                                 \
    float mn = *min, mx = *max;                                                                 \
    uint64_t bad = 0;                                                                           \
    for (size_t i = 0; i < n; i++) {                                                            \
      float v = LOAD(x, i);                                                                     \
      rq__fold_minmax(v, &mn, &mx, &bad);                                                       \
      int64_t b = rq__histc_bin(v, lo, hi, range, fbins, bins);                                 \
      if (b >= 0) counts[b]++;                                                                  \
    }                                                                                           \
    *min = rq__canonical_zero(mn);                                                              \
    *max = rq__canonical_zero(mx);                                                              \
    *nonfinite += bad;                                                                          \
  }                                                                                             \
                                                                                                \
  static void rq_##T##_fake_quant__scalar(const void *x, void *y, uint8_t *mask, size_t n,      \
                                          float scale, int32_t zero_point, int32_t qmin,        \
                                          int32_t qmax) {                                       \
    float inv_scale = 1.0f / scale, zf = (float)zero_point;                                     \
    float qminf = (float)qmin, qmaxf = (float)qmax;                                             \
    for (size_t i = 0; i < n; i++) {                                                            \
      uint8_t inside;                                                                           \
      STORE(y, i, rq__fake_quant1(LOAD(x, i), scale, inv_scale, zf, qminf, qmaxf, &inside));    \
      if (mask) mask[i] = inside;                                                               \
    }                                                                                           \
  }                                                                                             \
                                                                                                \
  static void rq_##T##_fake_quant_channels__scalar(                                             \
      const void *x, void *y, uint8_t *mask, size_t outer, size_t channels, size_t inner,       \
      const float *scale, const int32_t *zero_point, int32_t qmin, int32_t qmax) {              \
    float qminf = (float)qmin, qmaxf = (float)qmax;                                             \
    size_t i = 0;                                                                               \
    for (size_t o = 0; o < outer; o++)                                                          \
      for (size_t c = 0; c < channels; c++) {                                                   \
        float inv_scale = 1.0f / scale[c], zf = (float)zero_point[c];                           \
        for (size_t k = 0; k < inner; k++, i++) {                                               \
          uint8_t inside;                                                                       \
          STORE(y, i, rq__fake_quant1(LOAD(x, i), scale[c], inv_scale, zf, qminf, qmaxf, &inside)); \
          if (mask) mask[i] = inside;                                                           \
        }                                                                                       \
      }                                                                                         \
  }

RQ_SCALAR_ELEM_KERNELS(f32, rq__load_f32, rq__store_f32)
RQ_SCALAR_ELEM_KERNELS(f16, rq__load_f16, rq__store_f16)
RQ_SCALAR_ELEM_KERNELS(bf16, rq__load_bf16, rq__store_bf16)

static void rq_f32_ste_backward__scalar(const float *dy, const uint8_t *mask, float *dx, size_t n) {
  for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (float)mask[i];
}

void rq__f32_lsq_backward__scalar(const float *x, const float *dy, float *dx, size_t n,
                                        float scale, int32_t zero_point, int32_t qmin,
                                        int32_t qmax, float grad_factor, double *dscale,
                                        double *dzero_point) {
  const struct rq__lsq_consts c = rq__lsq_consts_of(scale, zero_point, qmin, qmax, grad_factor);
  double ds_bucket[RQ_LSQ_BUCKETS] = { 0 }, dz_bucket[RQ_LSQ_BUCKETS] = { 0 };
  float ds, dz;
  size_t i = 0;
  for (; i + RQ_LSQ_BUCKETS <= n; i += RQ_LSQ_BUCKETS)
    for (size_t b = 0; b < RQ_LSQ_BUCKETS; b++) {
      dx[i + b] = rq__lsq_grad1(x[i + b], dy[i + b], &c, &ds, &dz);
      ds_bucket[b] += ds;
      dz_bucket[b] += dz;
    }
  double ds_sum = rq__lsq_combine(ds_bucket), dz_sum = rq__lsq_combine(dz_bucket);
  for (; i < n; i++) {
    dx[i] = rq__lsq_grad1(x[i], dy[i], &c, &ds, &dz);
    ds_sum += ds;
    dz_sum += dz;
  }
  *dscale += ds_sum;
  *dzero_point += dz_sum;
}

#define RQ_SCALAR_Q_KERNELS(T, CT)                                                              \
  static void rq_##T##_quantize__scalar(const float *x, void *q, size_t n, float scale,         \
                                        int32_t zero_point, int32_t qmin, int32_t qmax) {       \
    float inv_scale = 1.0f / scale, zf = (float)zero_point;                                     \
    float qminf = (float)qmin, qmaxf = (float)qmax;                                             \
    CT *out = q;                                                                                \
    for (size_t i = 0; i < n; i++)                                                              \
      out[i] = (CT)rq__clamp_q(rq__quant_float(x[i], inv_scale, zf), qminf, qmaxf);            \
  }                                                                                             \
  static void rq_##T##_dequantize__scalar(const void *q, float *x, size_t n, float scale,       \
                                          int32_t zero_point) {                                 \
    const CT *in = q;                                                                           \
    float zf = (float)zero_point;                                                               \
    for (size_t i = 0; i < n; i++) x[i] = ((float)in[i] - zf) * scale;                          \
  }

RQ_SCALAR_Q_KERNELS(i8, int8_t)
RQ_SCALAR_Q_KERNELS(u8, uint8_t)
RQ_SCALAR_Q_KERNELS(i16, int16_t)

#define RQ_BY_ELEM(op) \
  { rq_f32_##op##__scalar, rq_f16_##op##__scalar, rq_bf16_##op##__scalar }
#define RQ_BY_QTYPE(op) \
  { rq_i8_##op##__scalar, rq_u8_##op##__scalar, rq_i16_##op##__scalar }

const struct rq__kernels rq__kernels_scalar = {
  .isa = "scalar",
  .minmax = RQ_BY_ELEM(minmax),
  .minmax_channels = RQ_BY_ELEM(minmax_channels),
  .histogram = RQ_BY_ELEM(histogram),
  .minmax_histogram = RQ_BY_ELEM(minmax_histogram),
  .fake_quant = RQ_BY_ELEM(fake_quant),
  .fake_quant_channels = RQ_BY_ELEM(fake_quant_channels),
  .ste_backward = rq_f32_ste_backward__scalar,
  .lsq_backward = rq__f32_lsq_backward__scalar,
  .quantize = RQ_BY_QTYPE(quantize),
  .dequantize = RQ_BY_QTYPE(dequantize),
};
