/* SPDX-License-Identifier: Apache-2.0 */
#include "qscheme/qscheme.h"

#include <float.h>
#include <math.h>
#include <string.h>

const char *const rq__qscheme_keys[] = {
  /* MMRazor's QSchemeHandler */
  "qdtype", "bit", "is_symmetry", "is_symmetric_range",
  /* PyTorch's observer constructor */
  "dtype", "qscheme", "quant_min", "quant_max", "reduce_range",
  /* both */
  "ch_axis", "eps", NULL,
};

void rq__qscheme_mmrazor_range(bool is_signed, unsigned bit, bool symmetric_range,
                               int32_t *quant_min, int32_t *quant_max) {
  if (is_signed) {
    *quant_min = -(int32_t)(1u << (bit - 1)) + (symmetric_range ? 1 : 0);
    *quant_max = (int32_t)(1u << (bit - 1)) - 1;
  } else {
    *quant_min = 0;
    *quant_max = (int32_t)((1u << bit) - 1);
  }
}

/* "quint8", "torch.quint8" -> false; "qint8", "torch.qint8" -> true. */
static rq_status parse_dtype(const json_t *cfg, const char *where, const char *key, bool *is_signed) {
  const char *s = NULL;
  RQ_TRY(rq__json_get_string(cfg, where, "", key, &s));
  if (s == NULL) return RQ_OK;
  if (strncmp(s, "torch.", 6) == 0) s += 6;
  if (strcmp(s, "quint8") == 0) *is_signed = false;
  else if (strcmp(s, "qint8") == 0) *is_signed = true;
  else
    return rq__fail(RQ_ERR_INVALID_ARG, where, "%s: \"%s\" is not one of quint8, qint8", key, s);
  return RQ_OK;
}

static bool has_any(const json_t *cfg, const char *const *keys, const char **found) {
  for (; *keys != NULL; keys++)
    if (json_object_get(cfg, *keys) != NULL) { *found = *keys; return true; }
  return false;
}

rq_status rq__qscheme_parse(const json_t *cfg, const char *where, bool per_channel_class,
                            rq__qscheme *out) {
  static const char *const mmrazor_keys[] = {"qdtype", "bit", "is_symmetry", "is_symmetric_range", NULL};
  static const char *const torch_keys[] = {"dtype", "qscheme", "quant_min", "quant_max", "reduce_range", NULL};
  rq__qscheme qs = {0};
  qs.per_channel = per_channel_class;
  qs.storage_bits = 8;
  qs.eps = FLT_EPSILON;

  const char *mm_key = NULL, *torch_key = NULL;
  bool mmrazor = has_any(cfg, mmrazor_keys, &mm_key);
  if (mmrazor && has_any(cfg, torch_keys, &torch_key))
    return rq__fail(RQ_ERR_INVALID_ARG, where,
                    "%s: PyTorch-style key mixed with the MMRazor-style key %s; use one style",
                    torch_key, mm_key);

  /* eps is a float32 buffer in PyTorch: the double from the config rounds once. */
  double eps = FLT_EPSILON;
  RQ_TRY(rq__json_get_number(cfg, where, "", "eps", 0.0, 1.0, &eps));
  qs.eps = (float)eps;
  /* A zero scale would make the zero point 0/0: refuse what rounds to 0. */
  if (!(qs.eps > 0.0f))
    return rq__fail(RQ_ERR_INVALID_ARG, where, "eps: %g is not a positive float32", eps);

  long long ch_axis = 0;
  if (json_object_get(cfg, "ch_axis") != NULL && !per_channel_class)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "ch_axis: only per-channel observers take a channel axis");
  RQ_TRY(rq__json_get_int(cfg, where, "", "ch_axis", -32, 31, &ch_axis));
  qs.ch_axis = (int32_t)ch_axis;

  if (mmrazor) {
    /* QSchemeHandler(qdtype='quint8', bit=8, is_symmetry=True, is_symmetric_range=False). */
    long long bit = 8;
    bool symmetric_range = false;
    qs.symmetric = true;
    RQ_TRY(parse_dtype(cfg, where, "qdtype", &qs.is_signed));
    RQ_TRY(rq__json_get_int(cfg, where, "", "bit", 1, 16, &bit));
    RQ_TRY(rq__json_get_bool(cfg, where, "", "is_symmetry", &qs.symmetric));
    RQ_TRY(rq__json_get_bool(cfg, where, "", "is_symmetric_range", &symmetric_range));
    if (qs.is_signed && bit == 1 && symmetric_range)
      return rq__fail(RQ_ERR_INVALID_ARG, where,
                      "is_symmetric_range: a 1-bit qint8 range [0, 0] is empty");
    /* is_symmetric_range only narrows qint8; quint8 ignores it, as MMRazor does. */
    rq__qscheme_mmrazor_range(qs.is_signed, (unsigned)bit, qs.is_signed && symmetric_range,
                              &qs.quant_min, &qs.quant_max);
    if (qs.quant_min >= qs.quant_max)
      return rq__fail(RQ_ERR_INVALID_ARG, where, "bit: %lld leaves an empty qint8 range", bit);
    qs.customized_range = true; /* MMRazor always passes quant_min/quant_max */
    qs.storage_bits = bit > 8 ? 16 : 8;
    *out = qs;
    return RQ_OK;
  }

  /* PyTorch's constructor defaults: quint8, per_{tensor,channel}_affine. */
  RQ_TRY(parse_dtype(cfg, where, "dtype", &qs.is_signed));
  const char *scheme = NULL;
  RQ_TRY(rq__json_get_string(cfg, where, "", "qscheme", &scheme));
  if (scheme != NULL) {
    const char *s = strncmp(scheme, "torch.", 6) == 0 ? scheme + 6 : scheme;
    bool pc;
    if (strcmp(s, "per_tensor_affine") == 0) { pc = false; qs.symmetric = false; }
    else if (strcmp(s, "per_tensor_symmetric") == 0) { pc = false; qs.symmetric = true; }
    else if (strcmp(s, "per_channel_affine") == 0) { pc = true; qs.symmetric = false; }
    else if (strcmp(s, "per_channel_symmetric") == 0) { pc = true; qs.symmetric = true; }
    else
      return rq__fail(RQ_ERR_INVALID_ARG, where,
                      "qscheme: \"%s\" is not one of per_tensor_affine, per_tensor_symmetric, "
                      "per_channel_affine, per_channel_symmetric", scheme);
    if (pc != per_channel_class)
      return rq__fail(RQ_ERR_INVALID_ARG, where, "qscheme: %s does not fit a %s observer", scheme,
                      per_channel_class ? "per-channel" : "per-tensor");
  }
  RQ_TRY(rq__json_get_bool(cfg, where, "", "reduce_range", &qs.reduce_range));
  bool has_min = json_object_get(cfg, "quant_min") != NULL;
  bool has_max = json_object_get(cfg, "quant_max") != NULL;
  if (has_min != has_max)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "%s: quant_min and quant_max go together",
                    has_min ? "quant_min" : "quant_max");
  if (has_min) {
    long long qmin = 0, qmax = 0;
    /* razorq extension: ranges up to 16 bits (int16/uint16 storage). */
    long long lo = qs.is_signed ? -32768 : 0, hi = qs.is_signed ? 32767 : 65535;
    RQ_TRY(rq__json_get_int(cfg, where, "", "quant_min", lo, 0, &qmin));
    RQ_TRY(rq__json_get_int(cfg, where, "", "quant_max", 0, hi, &qmax));
    if (qmin >= qmax)
      return rq__fail(RQ_ERR_INVALID_ARG, where, "quant_max: %lld must exceed quant_min %lld", qmax, qmin);
    qs.customized_range = true;
    if (qs.reduce_range) { qmin = rq__floor_div(qmin, 2); qmax = rq__floor_div(qmax, 2); }
    qs.quant_min = (int32_t)qmin;
    qs.quant_max = (int32_t)qmax;
    qs.storage_bits = (qmax - qmin + 1 > 256) ? 16 : 8;
  } else if (qs.is_signed) {
    qs.quant_min = qs.reduce_range ? -64 : -128;
    qs.quant_max = qs.reduce_range ? 63 : 127;
  } else {
    qs.quant_min = 0;
    qs.quant_max = qs.reduce_range ? 127 : 255;
  }
  if (qs.symmetric && qs.reduce_range && !qs.is_signed)
    return rq__fail(RQ_ERR_INVALID_ARG, where,
                    "reduce_range: cannot reduce the range of symmetric quint8 (as in PyTorch)");
  *out = qs;
  return RQ_OK;
}

void rq__qparams_compute(const rq__qscheme *qs, const float *min, const float *max, size_t n,
                         float *scale, int32_t *zero_point) {
  const int32_t qmin = qs->quant_min, qmax = qs->quant_max;
  /* PyTorch divides a float32 tensor by a Python float: the divisor is
   * rounded to float32 once (exact here) and the division is float32. */
  const float half_levels = (float)((double)(qmax - qmin) / 2.0);
  const float levels = (float)(qmax - qmin);
  int32_t symmetric_zp = 0;
  if (!qs->is_signed)
    symmetric_zp = qs->customized_range ? (int32_t)rq__floor_div((int64_t)qmin + qmax, 2) : 128;
  for (size_t c = 0; c < n; c++) {
    float min_neg = min[c] < 0.0f ? min[c] : 0.0f;
    float max_pos = max[c] > 0.0f ? max[c] : 0.0f;
    float s;
    int32_t zp;
    if (qs->symmetric) {
      float m = -min_neg > max_pos ? -min_neg : max_pos;
      s = m / half_levels;
      if (!(s >= qs->eps)) s = qs->eps;
      zp = symmetric_zp;
    } else {
      s = (max_pos - min_neg) / levels;
      if (!(s >= qs->eps)) s = qs->eps;
      /* torch.round is round-half-to-even (nearbyint in the default mode). */
      float r = nearbyintf(min_neg / s);
      int64_t z = (int64_t)qmin - (int64_t)r;
      if (z < qmin) z = qmin;
      if (z > qmax) z = qmax;
      zp = (int32_t)z;
    }
    scale[c] = s;
    zero_point[c] = zp;
  }
}
