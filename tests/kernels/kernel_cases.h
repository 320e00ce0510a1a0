/* SPDX-License-Identifier: Apache-2.0 */
/* The inputs of the SIMD-against-scalar kernel tests, shared by
 * test_kernels.c (Check, every x86 row) and neon/neon_vs_scalar.c (plain C,
 * the NEON row under qemu): a fixed-seed generator, the value kinds (random
 * and adversarial), lengths around every vector width, unaligned byte
 * offsets and the fake-quant parameter sets. Include once per test program. */
#ifndef RQ_TESTS_KERNEL_CASES_H
#define RQ_TESTS_KERNEL_CASES_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kernels.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static inline uint64_t rng_next(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}
static inline float rng_uniform(void) { return (float)(rng_next() >> 40) / (float)(1 << 24); }
static inline float rng_normal(void) {
  float u = rng_uniform() + 1e-7f, v = rng_uniform();
  return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}

static inline uint32_t bits_of(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
static inline float from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}
static inline bool same_bits(float a, float b) { return bits_of(a) == bits_of(b); }
static inline bool same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

enum { KIND_NORMAL, KIND_EQUAL, KIND_ZEROS, KIND_DENORMAL, KIND_HUGE_RANGE, KIND_NONFINITE,
       KIND_TIES, KIND_RANDOM_BITS, KIND_COUNT };
static const char *const kind_names[] = { "normal", "all-equal", "+-0", "denormal", "huge-range",
                                          "nan-inf", "ties", "random-bits" };
static const char *const elem_names[] = { "f32", "f16", "bf16" };

static inline float gen_value(int kind, size_t i) {
  switch (kind) {
    case KIND_NORMAL: return rng_normal() * 3.0f;
    case KIND_EQUAL: return 1.5f;
    case KIND_ZEROS: return (rng_next() & 1) ? 0.0f : -0.0f;
    case KIND_DENORMAL: {
      float d = from_bits((uint32_t)(rng_next() & 0x007fffffu));
      return (i % 3 == 0) ? d : (i % 3 == 1 ? -d : rng_normal() * 1e-38f);
    }
    case KIND_HUGE_RANGE: return rng_normal() * powf(10.0f, (float)((int)(rng_next() % 70) - 35));
    case KIND_NONFINITE: {
      uint64_t r = rng_next() % 8;
      if (r == 0) return NAN;
      if (r == 1) return INFINITY;
      if (r == 2) return -INFINITY;
      return rng_normal();
    }
    case KIND_TIES: return ((float)((int)(rng_next() % 600) - 300) + 0.5f) * 0.1f;
    default: return from_bits((uint32_t)rng_next());
  }
}

/* Fills n elements of type elem at p (for fp16/bf16, "random-bits" inputs are
 * raw 16-bit patterns). */
static inline void fill(void *p, rq__elem elem, size_t n, int kind) {
  for (size_t i = 0; i < n; i++) {
    float v = gen_value(kind, i);
    if (elem == RQ__ELEM_F32) {
      memcpy((char *)p + 4 * i, &v, 4);
    } else {
      uint16_t h = (uint16_t)rng_next();
      if (kind != KIND_RANDOM_BITS) h = elem == RQ__ELEM_F16 ? rq__f32_to_f16(v) : rq__f32_to_bf16(v);
      memcpy((char *)p + 2 * i, &h, 2);
    }
  }
}

static const size_t lengths[] = { 0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 257, 1000, 4099 };
#define LENGTH_COUNT (sizeof lengths / sizeof lengths[0])
/* Byte offsets of the input from an aligned base: element-aligned and not. */
static const size_t offsets[] = { 0, 2, 4, 12, 1, 3 };
#define OFFSET_COUNT (sizeof offsets / sizeof offsets[0])
#define MAX_ELEMS 4200
#define BUF_BYTES (MAX_ELEMS * 4 + 64)

struct fq_params {
  float scale;
  int32_t zero_point, qmin, qmax;
};
/* Includes scales whose inverse overflows (1e-39f: q = +-Inf or NaN) and 16-bit ranges. */
static const struct fq_params fq_cases[] = {
  { 0.1f, 0, -128, 127 }, { 0.0137f, 3, 0, 255 }, { 1e-30f, 0, 0, 255 },
  { 3e-3f, -7, -32768, 32767 }, { 7.0f, 100, 0, 255 }, { 1e-39f, 5, -128, 127 },
};
#define FQ_CASE_COUNT (sizeof fq_cases / sizeof fq_cases[0])

static _Alignas(64) unsigned char in_buf[BUF_BYTES], out_a[BUF_BYTES], out_b[BUF_BYTES];
static uint8_t mask_a[MAX_ELEMS + 64], mask_b[MAX_ELEMS + 64];

#endif
