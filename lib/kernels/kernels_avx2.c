/* SPDX-License-Identifier: Apache-2.0 */
/* AVX2 + FMA + F16C row (8 lanes). Built with -mavx2 -mfma -mf16c
 * -ffp-contract=off; only dispatch.c decides whether it may run. FMA is
 * used only where the reference calls fmaf() (the LSQ backward, as PyTorch);
 * everywhere else the reference rounds every multiply and add separately. */
#include <immintrin.h>

#include "kernels/scalar_ops.h"

#define RQ_ISA avx2
#define V __m256
#define VW 8
#define V_ALL 0xff
#define V_SET1(x) _mm256_set1_ps(x)
#define V_LOADU(p) _mm256_loadu_ps(p)
#define V_STOREU(p, v) _mm256_storeu_ps((p), (v))
#define V_ADD _mm256_add_ps
#define V_SUB _mm256_sub_ps
#define V_MUL _mm256_mul_ps
#define V_DIV _mm256_div_ps
#define V_MIN _mm256_min_ps
#define V_MAX _mm256_max_ps
#define V_AND _mm256_and_ps
#define V_BLEND(a, b, m) _mm256_blendv_ps((a), (b), (m))
#define V_LT(a, b) _mm256_cmp_ps((a), (b), _CMP_LT_OQ)
#define V_LE(a, b) _mm256_cmp_ps((a), (b), _CMP_LE_OQ)
#define V_GE(a, b) _mm256_cmp_ps((a), (b), _CMP_GE_OQ)
#define V_NLT_U(a, b) _mm256_cmp_ps((a), (b), _CMP_NLT_UQ)
#define V_MASK(m) _mm256_movemask_ps(m)
#define V_ROUND(v) _mm256_round_ps((v), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

static inline float rq_hmin(__m256 v) {
  __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_min_ps(m, _mm_movehl_ps(m, m));
  m = _mm_min_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}
static inline float rq_hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}
#define V_FMA _mm256_fmadd_ps /* only where PyTorch fuses too (LSQ backward) */
/* Doubles for the LSQ sums: the k-th half of a float vector, widened exactly. */
#define VD __m256d
#define VDW 4
#define VD_ZERO() _mm256_setzero_pd()
#define VD_ADD _mm256_add_pd
#define VD_STOREU _mm256_storeu_pd
#define V_TO_VD(v, k) \
  ((k) == 0 ? _mm256_cvtps_pd(_mm256_castps256_ps128(v)) : _mm256_cvtps_pd(_mm256_extractf128_ps((v), 1)))
#define V_HMIN rq_hmin
#define V_HMAX rq_hmax

/* F16C widening is exact (subnormals included). */
#define V_LOAD_F16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define V_LOAD_BF16(p) \
  _mm256_castsi256_ps(_mm256_slli_epi32(  \
      _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(p))), 16))
#define V_STORE_F16(p, v) \
  _mm_storeu_si128((__m128i *)(void *)(p), _mm256_cvtps_ph((v), _MM_FROUND_TO_NEAREST_INT))

/* bf16 round to nearest even, NaN -> 0x7fc0, as rq__f32_to_bf16. */
static inline void rq_store_bf16(void *p, __m256 v) {
  __m256i x = _mm256_castps_si256(v);
  __m256i odd = _mm256_and_si256(_mm256_srli_epi32(x, 16), _mm256_set1_epi32(1));
  __m256i r = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(x, _mm256_set1_epi32(0x7fff)), odd), 16);
  __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  r = _mm256_blendv_epi8(r, _mm256_set1_epi32(0x7fc0), nan);
  __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
  _mm_storeu_si128((__m128i *)p, packed);
}
#define V_STORE_BF16(p, v) rq_store_bf16((p), (v))

#define VI __m256i
#define V_BINS_I(t, maxbin) \
  _mm256_min_epi32(_mm256_max_epi32(_mm256_cvttps_epi32(t), _mm256_setzero_si256()), \
                   _mm256_set1_epi32(maxbin))
#define VI_STORE(out, vi) _mm256_storeu_si256((__m256i *)(void *)(out), (vi))
/* in ? V_BINS_I(t, maxbin) : dummy -- lanes outside the range count into a
 * dummy slot instead of taking a branch. */
#define V_BINS_SEL(t, maxbin, in, dummy) \
  _mm256_blendv_epi8(_mm256_set1_epi32(dummy), V_BINS_I(t, maxbin), _mm256_castps_si256(in))
/* Two vectors of bins (0..65535) as 16 uint16: lane order a0-3 b0-3 a4-7 b4-7,
 * which the counting does not care about (no cross-lane permute). */
#define VI_STORE_U16X2(out, a, b) \
  _mm256_storeu_si256((__m256i *)(void *)(out), _mm256_packus_epi32((a), (b)))

/* 8 lanes of all-ones/zero -> 8 bytes of 1/0. */
static inline void rq_store_mask(uint8_t *p, __m256 m) {
  __m256i bits = _mm256_and_si256(_mm256_castps_si256(m), _mm256_set1_epi32(1));
  __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(bits), _mm256_extracti128_si256(bits, 1));
  _mm_storel_epi64((__m128i *)(void *)p, _mm_packs_epi16(w, w));
}
#define V_STORE_MASK(p, m) rq_store_mask((p), (m))
#define V_LOAD_MASK(p) \
  _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(p))))

/* Quantized storage: the values are integral and inside the type's range, so
 * the saturating packs never saturate. */
static inline __m128i rq_to_i16x8(__m256 v) {
  __m256i i = _mm256_cvtps_epi32(v);
  return _mm_packs_epi32(_mm256_castsi256_si128(i), _mm256_extracti128_si256(i, 1));
}
#define V_STORE_Q_I16(p, v) _mm_storeu_si128((__m128i *)(void *)(p), rq_to_i16x8(v))
#define V_STORE_Q_I8(p, v) \
  _mm_storel_epi64((__m128i *)(void *)(p), _mm_packs_epi16(rq_to_i16x8(v), rq_to_i16x8(v)))
#define V_STORE_Q_U8(p, v) \
  _mm_storel_epi64((__m128i *)(void *)(p), _mm_packus_epi16(rq_to_i16x8(v), rq_to_i16x8(v)))
#define V_LOAD_Q_I8(p) \
  _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(p))))
#define V_LOAD_Q_U8(p) \
  _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(p))))
#define V_LOAD_Q_I16(p) \
  _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(p))))

#define V_MULADD_CHECK(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define V_STREAM(p, v) _mm256_stream_ps((p), (v))
#define V_STREAM_FENCE() _mm_sfence()

#include "kernels/kernels_simd.inc"
