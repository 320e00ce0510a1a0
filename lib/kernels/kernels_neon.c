/* SPDX-License-Identifier: Apache-2.0 */
/* AArch64 Advanced SIMD (NEON) row, 4 lanes. NEON is part of the AArch64 base
 * architecture, so this file needs no extra flags; -ffp-contract=off keeps the
 * compiler from fusing the reference's separate multiplies and adds.
 *
 * Where NEON differs from x86 the vocabulary below restores the semantics the
 * shared kernels rely on: FMIN/FMAX return NaN for a NaN operand (x86 returns
 * the second operand), which only matters where a NaN can reach them -- in
 * the fake-quant clamp a NaN q is replaced by qmin by the following blend, and
 * in the histogram MIN(bins, NaN) = NaN converts to bin 0 as on x86 (FCVTZS
 * gives 0 for NaN where x86 gives INT_MIN, and both clamp to 0). */
#include <arm_neon.h>

#include "kernels/scalar_ops.h"

#define RQ_ISA neon
#define V float32x4_t
#define VW 4
#define V_ALL 0xf
#define V_SET1(x) vdupq_n_f32(x)
#define V_LOADU(p) vld1q_f32(p)
#define V_STOREU(p, v) vst1q_f32((p), (v))
#define V_ADD vaddq_f32
#define V_SUB vsubq_f32
#define V_MUL vmulq_f32
#define V_DIV vdivq_f32
#define V_MIN vminq_f32
#define V_MAX vmaxq_f32
#define V_AND(a, b) vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)))
#define V_BLEND(a, b, m) vbslq_f32(vreinterpretq_u32_f32(m), (b), (a))
#define V_LT(a, b) vreinterpretq_f32_u32(vcltq_f32((a), (b)))
#define V_LE(a, b) vreinterpretq_f32_u32(vcleq_f32((a), (b)))
#define V_GE(a, b) vreinterpretq_f32_u32(vcgeq_f32((a), (b)))
/* not (a < b): true when unordered */
#define V_NLT_U(a, b) vreinterpretq_f32_u32(vmvnq_u32(vcltq_f32((a), (b))))
static inline int rq_mask(float32x4_t m) {
  static const uint32_t weights[4] = { 1, 2, 4, 8 };
  uint32x4_t bits = vshrq_n_u32(vreinterpretq_u32_f32(m), 31);
  return (int)vaddvq_u32(vmulq_u32(bits, vld1q_u32(weights)));
}
#define V_MASK(m) rq_mask(m)
#define V_ROUND(v) vrndnq_f32(v) /* to nearest, ties to even */
#define V_FMA(a, b, c) vfmaq_f32((c), (a), (b)) /* only where PyTorch fuses too (LSQ backward) */
/* Doubles for the LSQ sums: the k-th half of a float vector, widened exactly. */
#define VD float64x2_t
#define VDW 2
#define VD_ZERO() vdupq_n_f64(0.0)
#define VD_ADD vaddq_f64
#define VD_STOREU vst1q_f64
#define V_TO_VD(v, k) ((k) == 0 ? vcvt_f64_f32(vget_low_f32(v)) : vcvt_high_f64_f32(v))
#define V_HMIN vminvq_f32
#define V_HMAX vmaxvq_f32

/* FCVTL widens binary16 exactly (subnormals included). */
#define V_LOAD_F16(p) vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)(const void *)(p))))
#define V_LOAD_BF16(p) \
  vreinterpretq_f32_u32(vshll_n_u16(vld1_u16((const uint16_t *)(const void *)(p)), 16))
/* FCVTN rounds to nearest even like the scalar; its NaN is not 0x7e00, but a
 * fake-quant output is never NaN for a valid scale. */
#define V_STORE_F16(p, v) \
  vst1_u16((uint16_t *)(void *)(p), vreinterpret_u16_f16(vcvt_f16_f32(v)))
static inline void rq_store_bf16(void *p, float32x4_t v) {
  uint32x4_t x = vreinterpretq_u32_f32(v);
  uint32x4_t odd = vandq_u32(vshrq_n_u32(x, 16), vdupq_n_u32(1));
  uint32x4_t r = vshrq_n_u32(vaddq_u32(vaddq_u32(x, vdupq_n_u32(0x7fff)), odd), 16);
  uint32x4_t is_num = vceqq_f32(v, v);
  r = vbslq_u32(is_num, r, vdupq_n_u32(0x7fc0));
  vst1_u16((uint16_t *)p, vmovn_u32(r));
}
#define V_STORE_BF16(p, v) rq_store_bf16((p), (v))

#define VI int32x4_t
#define V_BINS_I(t, maxbin) \
  vminq_s32(vmaxq_s32(vcvtq_s32_f32(t), vdupq_n_s32(0)), vdupq_n_s32(maxbin))
#define VI_STORE(out, vi) vst1q_s32((out), (vi))
#define V_BINS_SEL(t, maxbin, in, dummy) \
  vbslq_s32(vreinterpretq_u32_f32(in), V_BINS_I(t, maxbin), vdupq_n_s32(dummy))
#define VI_STORE_U16X2(out, a, b) \
  vst1q_u16((out), vcombine_u16(vqmovun_s32(a), vqmovun_s32(b)))

static inline void rq_store_mask(uint8_t *p, float32x4_t m) {
  uint16x4_t w = vmovn_u32(vandq_u32(vreinterpretq_u32_f32(m), vdupq_n_u32(1)));
  uint8x8_t b = vmovn_u16(vcombine_u16(w, w));
  uint32_t out = vget_lane_u32(vreinterpret_u32_u8(b), 0);
  memcpy(p, &out, 4);
}
#define V_STORE_MASK(p, m) rq_store_mask((p), (m))
static inline uint8x8_t rq_load4(const void *p) {
  uint32_t b;
  memcpy(&b, p, 4);
  return vreinterpret_u8_u32(vdup_n_u32(b));
}
#define V_LOAD_MASK(p) vcvtq_f32_u32(vmovl_u16(vget_low_u16(vmovl_u8(rq_load4(p)))))

/* Integral, in-range values: the truncating conversion is exact. */
static inline int16x4_t rq_to_i16x4(float32x4_t v) { return vmovn_s32(vcvtq_s32_f32(v)); }
static inline void rq_store4(void *p, uint8x8_t v) {
  uint32_t b = vget_lane_u32(vreinterpret_u32_u8(v), 0);
  memcpy(p, &b, 4);
}
#define V_STORE_Q_I16(p, v) vst1_s16((int16_t *)(void *)(p), rq_to_i16x4(v))
#define V_STORE_Q_I8(p, v) \
  rq_store4((p), vreinterpret_u8_s8(vmovn_s16(vcombine_s16(rq_to_i16x4(v), rq_to_i16x4(v)))))
#define V_STORE_Q_U8(p, v) \
  rq_store4((p), vmovn_u16(vreinterpretq_u16_s16(vcombine_s16(rq_to_i16x4(v), rq_to_i16x4(v)))))
#define V_LOAD_Q_I8(p) \
  vcvtq_f32_s32(vmovl_s16(vget_low_s16(vmovl_s8(vreinterpret_s8_u8(rq_load4(p))))))
#define V_LOAD_Q_U8(p) vcvtq_f32_u32(vmovl_u16(vget_low_u16(vmovl_u8(rq_load4(p)))))
#define V_LOAD_Q_I16(p) vcvtq_f32_s32(vmovl_s16(vld1_s16((const int16_t *)(const void *)(p))))

#define V_MULADD_CHECK(a, b, c) vfmaq_f32((c), (a), (b))
#define V_STREAM(p, v) vst1q_f32((p), (v)) /* no non-temporal hint worth having */
#define V_STREAM_FENCE() ((void)0)

#include "kernels/kernels_simd.inc"
