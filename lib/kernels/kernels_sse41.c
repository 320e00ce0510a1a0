/* SPDX-License-Identifier: Apache-2.0 */
/* SSE4.1 row (4 lanes), for x86-64 CPUs without AVX2. Built with -msse4.1
 * -ffp-contract=off; only dispatch.c decides whether it may run. */
#include <smmintrin.h>

#include "kernels/scalar_ops.h"

#define RQ_ISA sse41
#define V __m128
#define VW 4
#define V_ALL 0xf
#define V_SET1(x) _mm_set1_ps(x)
#define V_LOADU(p) _mm_loadu_ps(p)
#define V_STOREU(p, v) _mm_storeu_ps((p), (v))
#define V_ADD _mm_add_ps
#define V_SUB _mm_sub_ps
#define V_MUL _mm_mul_ps
#define V_DIV _mm_div_ps
#define V_MIN _mm_min_ps
#define V_MAX _mm_max_ps
#define V_AND _mm_and_ps
#define V_BLEND(a, b, m) _mm_blendv_ps((a), (b), (m))
#define V_LT(a, b) _mm_cmplt_ps((a), (b))
#define V_LE(a, b) _mm_cmple_ps((a), (b))
#define V_GE(a, b) _mm_cmpge_ps((a), (b))
#define V_NLT_U(a, b) _mm_cmpnlt_ps((a), (b))
#define V_MASK(m) _mm_movemask_ps(m)
#define V_ROUND(v) _mm_round_ps((v), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

static inline float rq_hmin(__m128 m) {
  m = _mm_min_ps(m, _mm_movehl_ps(m, m));
  m = _mm_min_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}
static inline float rq_hmax(__m128 m) {
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}
/* Doubles for the LSQ sums: the k-th half of a float vector, widened exactly. */
#define VD __m128d
#define VDW 2
#define VD_ZERO() _mm_setzero_pd()
#define VD_ADD _mm_add_pd
#define VD_STOREU _mm_storeu_pd
#define V_TO_VD(v, k) ((k) == 0 ? _mm_cvtps_pd(v) : _mm_cvtps_pd(_mm_movehl_ps((v), (v))))
#define V_HMIN rq_hmin
#define V_HMAX rq_hmax

static inline __m128i rq_load_u16x4(const void *p) {
  return _mm_cvtepu16_epi32(_mm_loadl_epi64((const __m128i *)p));
}
/* No F16C: widen with integer operations, exactly as rq__f16_to_f32 does
 * (re-bias by multiplying with 2^112, which is exact for subnormals too). */
static inline __m128 rq_load_f16(const void *p) {
  __m128i h = rq_load_u16x4(p);
  __m128i sign = _mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x8000)), 16);
  __m128i rest = _mm_and_si128(h, _mm_set1_epi32(0x7fff));
  __m128 finite = _mm_mul_ps(_mm_castsi128_ps(_mm_slli_epi32(rest, 13)), _mm_set1_ps(0x1p112f));
  __m128i special = _mm_or_si128(_mm_set1_epi32(0x7f800000),
                                 _mm_slli_epi32(_mm_and_si128(rest, _mm_set1_epi32(0x3ff)), 13));
  __m128i is_special = _mm_cmpgt_epi32(rest, _mm_set1_epi32(0x7bff));
  __m128i mag = _mm_blendv_epi8(_mm_castps_si128(finite), special, is_special);
  return _mm_castsi128_ps(_mm_or_si128(mag, sign));
}
#define V_LOAD_F16(p) rq_load_f16(p)
#define V_LOAD_BF16(p) _mm_castsi128_ps(_mm_slli_epi32(rq_load_u16x4(p), 16))

/* Narrowing to fp16 without F16C is rare work (fp16 fake-quant output):
 * reuse the scalar conversion lane by lane. */
static inline void rq_store_f16(void *p, __m128 v) {
  float f[4];
  _mm_storeu_ps(f, v);
  for (int l = 0; l < 4; l++) rq__store_f16(p, (size_t)l, f[l]);
}
#define V_STORE_F16(p, v) rq_store_f16((p), (v))

static inline void rq_store_bf16(void *p, __m128 v) {
  __m128i x = _mm_castps_si128(v);
  __m128i odd = _mm_and_si128(_mm_srli_epi32(x, 16), _mm_set1_epi32(1));
  __m128i r = _mm_srli_epi32(_mm_add_epi32(_mm_add_epi32(x, _mm_set1_epi32(0x7fff)), odd), 16);
  __m128i nan = _mm_castps_si128(_mm_cmpunord_ps(v, v));
  r = _mm_blendv_epi8(r, _mm_set1_epi32(0x7fc0), nan);
  _mm_storel_epi64((__m128i *)p, _mm_packus_epi32(r, r));
}
#define V_STORE_BF16(p, v) rq_store_bf16((p), (v))

#define VI __m128i
#define V_BINS_I(t, maxbin) \
  _mm_min_epi32(_mm_max_epi32(_mm_cvttps_epi32(t), _mm_setzero_si128()), _mm_set1_epi32(maxbin))
#define VI_STORE(out, vi) _mm_storeu_si128((__m128i *)(void *)(out), (vi))
#define V_BINS_SEL(t, maxbin, in, dummy) \
  _mm_blendv_epi8(_mm_set1_epi32(dummy), V_BINS_I(t, maxbin), _mm_castps_si128(in))
#define VI_STORE_U16X2(out, a, b) \
  _mm_storeu_si128((__m128i *)(void *)(out), _mm_packus_epi32((a), (b)))

static inline void rq_store_mask(uint8_t *p, __m128 m) {
  __m128i bits = _mm_and_si128(_mm_castps_si128(m), _mm_set1_epi32(1));
  __m128i w = _mm_packs_epi32(bits, bits);
  int32_t b = _mm_cvtsi128_si32(_mm_packs_epi16(w, w));
  memcpy(p, &b, 4);
}
#define V_STORE_MASK(p, m) rq_store_mask((p), (m))
static inline __m128i rq_load4(const void *p) {
  int32_t b;
  memcpy(&b, p, 4);
  return _mm_cvtsi32_si128(b);
}
#define V_LOAD_MASK(p) _mm_cvtepi32_ps(_mm_cvtepu8_epi32(rq_load4(p)))

static inline __m128i rq_to_i16x4(__m128 v) {
  __m128i i = _mm_cvtps_epi32(v);
  return _mm_packs_epi32(i, i);
}
#define V_STORE_Q_I16(p, v) _mm_storel_epi64((__m128i *)(void *)(p), rq_to_i16x4(v))
static inline void rq_store4(void *p, __m128i v) {
  int32_t b = _mm_cvtsi128_si32(v);
  memcpy(p, &b, 4);
}
#define V_STORE_Q_I8(p, v) rq_store4((p), _mm_packs_epi16(rq_to_i16x4(v), rq_to_i16x4(v)))
#define V_STORE_Q_U8(p, v) rq_store4((p), _mm_packus_epi16(rq_to_i16x4(v), rq_to_i16x4(v)))
#define V_LOAD_Q_I8(p) _mm_cvtepi32_ps(_mm_cvtepi8_epi32(rq_load4(p)))
#define V_LOAD_Q_U8(p) _mm_cvtepi32_ps(_mm_cvtepu8_epi32(rq_load4(p)))
#define V_LOAD_Q_I16(p) \
  _mm_cvtepi32_ps(_mm_cvtepi16_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(p))))

#define V_MULADD_CHECK(a, b, c) _mm_add_ps(_mm_mul_ps((a), (b)), (c))
#define V_STREAM(p, v) _mm_stream_ps((p), (v))
#define V_STREAM_FENCE() _mm_sfence()

#include "kernels/kernels_simd.inc"
