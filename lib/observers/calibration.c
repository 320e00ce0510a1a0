/* SPDX-License-Identifier: Apache-2.0 */
/* Observers beyond PyTorch and MMRazor: PercentileObserver, EntropyObserver
 * and MSEObserver, each per tensor and per channel (PerChannel...).
 *
 * All three keep, per channel, a streaming histogram of fixed memory: `bins`
 * uint64 counts over the symmetric range [-R, R] plus the running min/max.
 * R is a power of two: the smallest > the first batch's max |x|, doubled
 * while a batch reaches it. Doubling merges neighbouring bins pairwise, so
 * counts stay exact integers, the histogram does not depend on the order of
 * the batches, shards merge exactly, and memory stays `bins` counts per
 * channel however many batches come (ONNX Runtime's calibrators keep every
 * raw tensor instead). The range searches
 * run in compiled code over those counts:
 *  - Percentile: [q(1 - p/100), q(p/100)] of the histogram (linear inside a
 *    bin), clipped to the observed [min, max]. (The percentile calibration
 *    of e.g. Wu et al., "Integer Quantization for Deep Learning Inference",
 *    2020, arXiv:2004.09602.)
 *  - Entropy: TensorRT's KL-divergence calibration (Migacz, "8-bit Inference
 *    with TensorRT", GTC 2017) on the histogram of |x|: the threshold whose
 *    clipped distribution, quantized to (qmax - qmin + 1) / 2 levels and
 *    expanded back, is closest in KL divergence to the clipped reference.
 *  - MSE: the range [alpha * min, alpha * max], alpha = k / candidates, whose
 *    fake-quantization of the histogram (bin centres, weighted by counts)
 *    has the least squared error (as in MQBench's/MMRazor's MSE observers,
 *    here over the histogram instead of the raw batch).
 * The oracle is a NumPy reference of the same definitions in
 * tests/golden/gen_torch.py. */
#include "observers/observers.h"

#include "kernels/kernels.h"

#include <float.h>
#include <math.h>
#include <string.h>

typedef enum method { PERCENTILE, ENTROPY, MSE } method;

typedef struct calib_state {
  method method;
  size_t bins;            /* even */
  double percentile;      /* PERCENTILE: p in (50, 100] */
  int64_t candidates;     /* MSE: number of alphas tried */
  size_t channels;        /* 0 before the first batch */
  uint64_t *counts;       /* channels * bins */
  float *half_range;      /* R per channel (0: nothing yet) */
  float *min, *max;       /* observed, per channel */
} calib_state;

static rq_status calib_init_common(calib_state *s, const rq_observer_args *args, method m) {
  s->method = m;
  int64_t bins = 2048;
  RQ_TRY(rq_observer_args_int(args, "bins", 2, 1 << 20, &bins));
  if (bins % 4 != 0) return rq_error_set(RQ_ERR_INVALID_ARG, "bins: %lld is not a multiple of 4", (long long)bins);
  s->bins = (size_t)bins;
  s->percentile = 99.99;
  s->candidates = 100;
  if (m == PERCENTILE) {
    RQ_TRY(rq_observer_args_number(args, "percentile", 50.0, 100.0, &s->percentile));
    if (s->percentile <= 50.0) return rq_error_set(RQ_ERR_INVALID_ARG, "percentile: must exceed 50");
  }
  if (m == MSE) RQ_TRY(rq_observer_args_int(args, "candidates", 1, 100000, &s->candidates));
  return RQ_OK;
}

static rq_status init_percentile(void *st, const rq_observer_info *i, const rq_observer_args *a) {
  (void)i;
  return calib_init_common(st, a, PERCENTILE);
}
static rq_status init_entropy(void *st, const rq_observer_info *i, const rq_observer_args *a) {
  (void)i;
  return calib_init_common(st, a, ENTROPY);
}
static rq_status init_mse(void *st, const rq_observer_info *i, const rq_observer_args *a) {
  (void)i;
  return calib_init_common(st, a, MSE);
}

static void calib_fini(void *state) {
  calib_state *s = state;
  rq__free(s->counts);
  rq__free(s->half_range);
  rq__free(s->min);
  rq__free(s->max);
  s->counts = NULL;
  s->half_range = s->min = s->max = NULL;
  s->channels = 0;
}

static rq_status calib_alloc(calib_state *s, size_t channels) {
  size_t cells;
  if (!rq__mul_size(channels, s->bins, &cells)) return rq__nomem("observe", SIZE_MAX);
  uint64_t *counts = rq__calloc(cells, sizeof(uint64_t));
  float *r = rq__calloc(channels, sizeof(float));
  float *mn = rq__malloc_array(channels, sizeof(float));
  float *mx = rq__malloc_array(channels, sizeof(float));
  if (counts == NULL || r == NULL || mn == NULL || mx == NULL) {
    rq__free(counts);
    rq__free(r);
    rq__free(mn);
    rq__free(mx);
    return rq__nomem("observe", cells * sizeof(uint64_t));
  }
  for (size_t c = 0; c < channels; c++) { mn[c] = INFINITY; mx[c] = -INFINITY; }
  s->counts = counts;
  s->half_range = r;
  s->min = mn;
  s->max = mx;
  s->channels = channels;
  return RQ_OK;
}

/* [-R, R] -> [-2R, 2R]: old bins 2k, 2k+1 become new bin bins/4 + k. */
static void double_range(uint64_t *h, size_t bins) {
  /* h[k] is written only after h[2k] and h[2k + 1] were read (2k >= k). */
  for (size_t k = 0; k < bins / 2; k++) h[k] = h[2 * k] + h[2 * k + 1];
  memmove(h + bins / 4, h, (bins / 2) * sizeof *h);
  memset(h, 0, (bins / 4) * sizeof *h);
  memset(h + bins / 4 + bins / 2, 0, (bins / 4) * sizeof *h);
}

/* The smallest power of two > m (m > 0): every histogram's range is a power
 * of two, so grids of different shards nest and merge exactly, and no value
 * sits on the top edge (which would bin differently before and after a
 * doubling). */
static float pow2_above(float m) {
  int e;
  (void)frexpf(m, &e); /* m = f * 2^e, f in [0.5, 1) */
  return ldexpf(1.0f, e);
}

/* (v + r) / (2r) * bins, with per_unit = bins / (2r): r is a power of two,
 * so both forms round the same exact product once and agree bit for bit. */
static size_t bin_of(float v, float r, double per_unit, size_t bins) {
  double pos = ((double)v + (double)r) * per_unit;
  if (!(pos >= 0.0)) return 0;
  size_t k = (size_t)pos;
  return k >= bins ? bins - 1 : k;
}

static rq_status calib_observe(void *state, const rq_observer_info *info, const rq_observer_batch *b) {
  (void)info;
  calib_state *s = state;
  size_t channels = b->channels;
  float *bmin = rq__malloc_array(channels, sizeof(float));
  float *bmax = rq__malloc_array(channels, sizeof(float));
  if (bmin == NULL || bmax == NULL) {
    rq__free(bmin);
    rq__free(bmax);
    return rq__nomem("observe", 2 * channels * sizeof(float));
  }
  rq_status st = RQ_OK;
  if (s->channels == 0) st = calib_alloc(s, channels);
  if (st == RQ_OK) {
    rq__batch_minmax(b, bmin, bmax);
    for (size_t c = 0; c < channels; c++) {
      if (!(bmin[c] <= bmax[c])) continue; /* no finite value */
      float m = fabsf(bmin[c]) > fabsf(bmax[c]) ? fabsf(bmin[c]) : fabsf(bmax[c]);
      if (s->half_range[c] == 0.0f) s->half_range[c] = m > 0.0f ? pow2_above(m) : 1.0f;
      while (m >= s->half_range[c]) {
        double_range(s->counts + c * s->bins, s->bins);
        s->half_range[c] *= 2.0f;
      }
      if (bmin[c] < s->min[c]) s->min[c] = bmin[c];
      if (bmax[c] > s->max[c]) s->max[c] = bmax[c];
    }
    for (size_t o = 0; o < b->outer; o++) {
      for (size_t c = 0; c < channels; c++) {
        const float *x = b->data + (o * channels + c) * b->inner;
        uint64_t *h = s->counts + c * s->bins;
        float r = s->half_range[c];
        double per_unit = (double)s->bins / (2.0 * (double)r);
        for (size_t i = 0; i < b->inner; i++) {
          if (!isfinite(x[i])) continue; /* only present with ignore_nonfinite */
          h[bin_of(x[i], r, per_unit, s->bins)]++;
        }
      }
    }
  }
  rq__free(bmin);
  rq__free(bmax);
  return st;
}

static bool calib_minmax(const void *state, const rq_observer_info *info, size_t n, float *mn, float *mx) {
  (void)info;
  const calib_state *s = state;
  if (s->channels == 0 || s->channels != n) return false;
  if (n == 1 && !(s->min[0] <= s->max[0])) return false;
  memcpy(mn, s->min, n * sizeof(float));
  memcpy(mx, s->max, n * sizeof(float));
  return true;
}

/* The value below which a fraction q of the counts lies. */
static double quantile(const uint64_t *h, size_t bins, double r, double q) {
  double total = 0.0;
  for (size_t k = 0; k < bins; k++) total += (double)h[k];
  double target = q * total, cum = 0.0, w = 2.0 * r / (double)bins;
  for (size_t k = 0; k < bins; k++) {
    double next = cum + (double)h[k];
    if (h[k] > 0 && next >= target) return -r + w * ((double)k + (target - cum) / (double)h[k]);
    cum = next;
  }
  return r;
}

#define ENTROPY_START_BIN 128

/* TensorRT's KL threshold on the |x| histogram a[0..nbins) (bin width w). */
static double entropy_threshold(const double *a, size_t nbins, size_t levels, double w, double *p, double *q) {
  if (nbins <= levels) return w * (double)nbins;
  /* The search starts at 128 bins whatever the bit width (TensorRT's
   * start_bin): at 4 bits, starting at the 8 levels lets the divergence of a
   * coarse candidate pick a threshold far inside the data. */
  size_t start = levels > ENTROPY_START_BIN ? levels : ENTROPY_START_BIN;
  if (start > nbins) start = nbins;
  double best = INFINITY;
  size_t best_i = nbins;
  double tail = 0.0;
  for (size_t k = start; k < nbins; k++) tail += a[k];
  for (size_t i = start; i <= nbins; i++) {
    /* reference: a[0..i) with the clipped tail folded into the last bin */
    memcpy(p, a, i * sizeof *p);
    p[i - 1] += tail;
    /* candidate: a[0..i) merged into `levels` chunks, spread back evenly over
     * the chunk's bins that are non-zero in the reference */
    size_t merged = i / levels;
    for (size_t j = 0; j < levels; j++) {
      size_t start = j * merged, stop = j == levels - 1 ? i : start + merged;
      double sum = 0.0;
      size_t nonzero = 0;
      for (size_t k = start; k < stop; k++) {
        sum += a[k];
        nonzero += p[k] != 0.0;
      }
      for (size_t k = start; k < stop; k++) q[k] = (p[k] != 0.0 && nonzero) ? sum / (double)nonzero : 0.0;
    }
    double psum = 0.0, qsum = 0.0;
    for (size_t k = 0; k < i; k++) { psum += p[k]; qsum += q[k]; }
    double kl = 0.0;
    if (psum > 0.0 && qsum > 0.0) {
      for (size_t k = 0; k < i && kl < INFINITY; k++) {
        if (p[k] == 0.0) continue;
        double pk = p[k] / psum, qk = q[k] / qsum;
        kl = qk == 0.0 ? INFINITY : kl + pk * log(pk / qk);
      }
    } else {
      kl = INFINITY;
    }
    if (kl < best) { best = kl; best_i = i; }
    if (i < nbins) tail -= a[i];
  }
  return w * (double)best_i;
}

/* Squared error of fake-quantizing the histogram's bin centres with the
 * qparams of [lo, hi]. */
static double mse_of(const rq__qscheme *qs, const uint64_t *h, size_t bins, double r, float lo, float hi) {
  float scale;
  int32_t zp;
  rq__qparams_compute(qs, &lo, &hi, 1, &scale, &zp);
  double w = 2.0 * r / (double)bins, err = 0.0, s = scale;
  for (size_t k = 0; k < bins; k++) {
    if (h[k] == 0) continue;
    double c = -r + w * ((double)k + 0.5);
    double qv = nearbyint(c / s) + zp;
    if (qv < qs->quant_min) qv = qs->quant_min;
    if (qv > qs->quant_max) qv = qs->quant_max;
    double d = c - (qv - zp) * s;
    err += (double)h[k] * d * d;
  }
  return err;
}

static rq_status calib_range(const void *state, const rq_observer_info *info, size_t n, float *mn, float *mx) {
  const calib_state *s = state;
  if (s->channels != n) return rq_error_set(RQ_ERR_INTERNAL, "calibration observer: channel count mismatch");
  double *scratch = NULL;
  if (s->method == ENTROPY) {
    scratch = rq__malloc_array(3 * (s->bins / 2), sizeof(double));
    if (scratch == NULL) return rq__nomem("qparams", 3 * s->bins * sizeof(double));
  }
  rq__qscheme qs = {0};
  qs.is_signed = info->is_signed;
  qs.symmetric = info->symmetric;
  qs.customized_range = info->customized_range;
  qs.quant_min = info->quant_min;
  qs.quant_max = info->quant_max;
  qs.eps = info->eps;
  for (size_t c = 0; c < n; c++) {
    const uint64_t *h = s->counts + c * s->bins;
    double r = s->half_range[c];
    float lo = s->min[c], hi = s->max[c];
    if (!(lo <= hi)) { mn[c] = lo; mx[c] = hi; continue; }
    if (s->method == PERCENTILE) {
      double p = s->percentile / 100.0;
      double ql = quantile(h, s->bins, r, 1.0 - p), qh = quantile(h, s->bins, r, p);
      if ((float)ql > lo) lo = (float)ql;
      if ((float)qh < hi) hi = (float)qh;
    } else if (s->method == ENTROPY) {
      size_t half = s->bins / 2;
      double *a = scratch, *p = scratch + half, *q = scratch + 2 * half;
      for (size_t k = 0; k < half; k++) a[k] = (double)h[half + k] + (double)h[half - 1 - k];
      /* As TensorRT's calibrator (pytorch-quantization's _compute_amax_entropy,
       * bins[0] = bins[1]): the bin at zero takes its neighbour's count, or the
       * exact zeros after a ReLU dominate the divergence and drive the
       * threshold to its minimum. */
      if (half > 1) a[0] = a[1];
      size_t levels = (size_t)((int64_t)info->quant_max - info->quant_min + 1) / 2;
      double t = entropy_threshold(a, half, levels ? levels : 1, r / (double)half, p, q);
      if ((float)-t > lo) lo = (float)-t;
      if ((float)t < hi) hi = (float)t;
    } else {
      float lo0 = lo < 0.0f ? lo : 0.0f, hi0 = hi > 0.0f ? hi : 0.0f;
      double best = INFINITY;
      for (int64_t k = 1; k <= s->candidates; k++) {
        double alpha = (double)k / (double)s->candidates;
        float l = (float)(alpha * lo0), u = (float)(alpha * hi0);
        double e = mse_of(&qs, h, s->bins, r, l, u);
        if (e < best) { best = e; lo = l; hi = u; }
      }
    }
    mn[c] = lo;
    mx[c] = hi;
  }
  rq__free(scratch);
  return RQ_OK;
}

/* Merge: rescale both to the larger R (exact pairwise merges), then add. */
static rq_status calib_merge(void *dst_state, const void *src_state, const rq_observer_info *info, size_t n) {
  (void)info;
  calib_state *d = dst_state;
  const calib_state *s = src_state;
  if (s->channels == 0) return RQ_OK;
  if (d->channels == 0) RQ_TRY(calib_alloc(d, n));
  uint64_t *tmp = rq__malloc_array(d->bins, sizeof(uint64_t));
  if (tmp == NULL) return rq__nomem("merge", d->bins * sizeof(uint64_t));
  for (size_t c = 0; c < n; c++) {
    if (s->half_range[c] == 0.0f) continue;
    uint64_t *dh = d->counts + c * d->bins;
    memcpy(tmp, s->counts + c * s->bins, d->bins * sizeof(uint64_t));
    float rs = s->half_range[c];
    if (d->half_range[c] == 0.0f) d->half_range[c] = rs;
    /* both R are powers of two: grow the smaller until they are equal */
    while (rs < d->half_range[c]) { double_range(tmp, d->bins); rs *= 2.0f; }
    while (d->half_range[c] < rs) { double_range(dh, d->bins); d->half_range[c] *= 2.0f; }
    for (size_t k = 0; k < d->bins; k++) dh[k] += tmp[k];
    if (s->min[c] < d->min[c]) d->min[c] = s->min[c];
    if (s->max[c] > d->max[c]) d->max[c] = s->max[c];
  }
  rq__free(tmp);
  return RQ_OK;
}

static rq_status calib_save(const void *state, const rq_observer_info *info, rq_observer_stats *out) {
  (void)info;
  const calib_state *s = state;
  if (s->channels == 0) return RQ_OK;
  size_t n = s->channels, cells = n * s->bins;
  double *buf = rq__malloc_array(cells > 3 * n ? cells : 3 * n, sizeof(double));
  if (buf == NULL) return rq__nomem("save", cells * sizeof(double));
  for (size_t c = 0; c < n; c++) {
    buf[3 * c] = s->half_range[c];
    buf[3 * c + 1] = s->min[c];
    buf[3 * c + 2] = s->max[c];
  }
  rq_status st = rq_observer_stats_put(out, "range", buf, 3 * n);
  for (size_t k = 0; st == RQ_OK && k < cells; k++) buf[k] = (double)s->counts[k];
  if (st == RQ_OK) st = rq_observer_stats_put(out, "counts", buf, cells);
  rq__free(buf);
  return st;
}

static rq_status calib_load(void *state, const rq_observer_info *info, const rq_observer_stats *in) {
  (void)info;
  calib_state *s = state;
  size_t count = 0, cells = 0;
  if (rq_observer_stats_get(in, "range", NULL, 0, &count) != RQ_OK) return RQ_OK; /* saved empty */
  if (count == 0 || count % 3 != 0) return rq_error_set(RQ_ERR_FORMAT, "saved state: bad range");
  size_t n = count / 3;
  RQ_TRY(rq_observer_stats_get(in, "counts", NULL, 0, &cells));
  if (cells != n * s->bins) return rq_error_set(RQ_ERR_FORMAT, "saved state: %zu counts for %zu channels", cells, n);
  double *buf = rq__malloc_array(cells > count ? cells : count, sizeof(double));
  if (buf == NULL) return rq__nomem("load", cells * sizeof(double));
  rq_status st = calib_alloc(s, n);
  if (st == RQ_OK) st = rq_observer_stats_get(in, "range", buf, count, &count);
  for (size_t c = 0; st == RQ_OK && c < n; c++) {
    /* R is 0 (nothing seen) or a power of two (calib_observe doubles it;
     * +inf after values near FLT_MAX): anything else could make the
     * doubling loops of observe and merge run forever. */
    double r = buf[3 * c];
    int exponent;
    if (!(r == 0.0 || r == INFINITY || (r > 0.0 && r <= FLT_MAX && frexp(r, &exponent) == 0.5)))
      st = rq_error_set(RQ_ERR_FORMAT, "saved state: range[%zu] = %g is not 0 or a power of two", c, r);
    if (st == RQ_OK) st = rq__check_loaded_range(buf[3 * c + 1], buf[3 * c + 2], "min/max");
    if (st == RQ_OK && buf[3 * c + 1] != INFINITY &&
        !(fabs(buf[3 * c + 1]) <= r && fabs(buf[3 * c + 2]) <= r))
      st = rq_error_set(RQ_ERR_FORMAT, "saved state: min/max of channel %zu lie outside its range", c);
    if (st != RQ_OK) break;
    s->half_range[c] = (float)r;
    s->min[c] = (float)buf[3 * c + 1];
    s->max[c] = (float)buf[3 * c + 2];
  }
  if (st == RQ_OK) st = rq_observer_stats_get(in, "counts", buf, cells, &cells);
  if (st == RQ_OK) st = rq__check_loaded_counts(buf, cells, "counts");
  for (size_t k = 0; st == RQ_OK && k < cells; k++) s->counts[k] = (uint64_t)buf[k];
  rq__free(buf);
  if (st != RQ_OK) calib_fini(s);
  return st;
}

static const char *const percentile_params[] = {"bins", "percentile", NULL};
static const char *const entropy_params[] = {"bins", NULL};
static const char *const mse_params[] = {"bins", "candidates", NULL};

#define CALIB_CLASS(var, cname, cflags, cparams, cinit) \
  const rq_observer_class var = {                       \
    .struct_size = sizeof(rq_observer_class),           \
    .abi_major = RQ_ABI_MAJOR,                          \
    .name = cname,                                      \
    .params = cparams,                                  \
    .flags = cflags,                                    \
    .state_size = sizeof(calib_state),                  \
    .init = cinit,                                      \
    .fini = calib_fini,                                 \
    .observe = calib_observe,                           \
    .minmax = calib_minmax,                             \
    .range = calib_range,                               \
    .merge = calib_merge,                               \
    .save = calib_save,                                 \
    .load = calib_load,                                 \
  }

CALIB_CLASS(rq__percentile_observer_class, "PercentileObserver", 0, percentile_params, init_percentile);
CALIB_CLASS(rq__per_channel_percentile_observer_class, "PerChannelPercentileObserver", RQ_OBSERVER_PER_CHANNEL,
            percentile_params, init_percentile);
CALIB_CLASS(rq__entropy_observer_class, "EntropyObserver", 0, entropy_params, init_entropy);
CALIB_CLASS(rq__per_channel_entropy_observer_class, "PerChannelEntropyObserver", RQ_OBSERVER_PER_CHANNEL,
            entropy_params, init_entropy);
CALIB_CLASS(rq__mse_observer_class, "MSEObserver", 0, mse_params, init_mse);
CALIB_CLASS(rq__per_channel_mse_observer_class, "PerChannelMSEObserver", RQ_OBSERVER_PER_CHANNEL, mse_params,
            init_mse);
