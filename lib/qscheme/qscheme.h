/* SPDX-License-Identifier: Apache-2.0 */
/* Quantization schemes: the integer range an observer targets and the uniform
 * qparams (scale, zero point) of PyTorch 1.13's UniformQuantizationObserverBase,
 * configured either MMRazor's way (QSchemeHandler) or PyTorch's way. */
#ifndef RQ_QSCHEME_QSCHEME_H
#define RQ_QSCHEME_QSCHEME_H

#include "core/json.h"

typedef struct rq__qscheme {
  bool is_signed;          /* qint8 (int8, or int16 beyond 8 bits) vs quint8 */
  bool symmetric;          /* per_{tensor,channel}_symmetric */
  bool per_channel;        /* per_channel_* */
  bool customized_range;   /* PyTorch's has_customized_qrange (always true via MMRazor) */
  bool reduce_range;
  int32_t ch_axis;         /* as configured; negative counts from the end */
  int32_t quant_min, quant_max;
  unsigned storage_bits;   /* 8, or 16 for ranges wider than 256 levels */
  float eps;               /* torch.finfo(torch.float32).eps by default */
} rq__qscheme;

/* The JSON keys rq__qscheme_parse understands (NULL-terminated). */
extern const char *const rq__qscheme_keys[];

/* Reads the qscheme keys of `cfg` (other keys are ignored here; the caller
 * checks for unknown ones). `per_channel_class` is MMRazor's "the class name
 * contains PerChannel". Errors name the key, prefixed by `where`. */
rq_status rq__qscheme_parse(const json_t *cfg, const char *where, bool per_channel_class,
                            rq__qscheme *out);

/* MMRazor's QSchemeHandler quant range: quint8 [0, 2^bit - 1]; qint8
 * [-2^(bit-1), 2^(bit-1) - 1], lower end + 1 with is_symmetric_range. */
void rq__qscheme_mmrazor_range(bool is_signed, unsigned bit, bool symmetric_range,
                               int32_t *quant_min, int32_t *quant_max);

/* PyTorch's _calculate_qparams for n channels (n = 1 per tensor), bit for bit:
 * float32 arithmetic in PyTorch's order, round half to even. The caller
 * handles "nothing observed" (PyTorch's check_min_max_valid). */
void rq__qparams_compute(const rq__qscheme *qs, const float *min, const float *max, size_t n,
                         float *scale, int32_t *zero_point);

/* Python's floor division for ints ((a + b) // 2 with negative a + b). */
static inline int64_t rq__floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
  return q;
}

#endif
