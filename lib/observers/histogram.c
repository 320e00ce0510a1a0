/* SPDX-License-Identifier: Apache-2.0 */
/* PyTorch 1.13's HistogramObserver: a running histogram whose range grows
 * batch by batch (_adjust_min_max + _combine_histograms), and the L2
 * _non_linear_param_search over it. Everything PyTorch computes in float32 is
 * computed in float32 here, in the same order, including its quirks (histc
 * called with the range truncated to integers, a constant batch restarting
 * the histogram). Two deliberate differences, both documented in
 * doc/observers.md: counts are kept as float64 (PyTorch's float32 counts stop
 * counting at 2^24), and the quantization error is summed in float64
 * (torch.sum's blocked float32 order is not reproducible); with the counts of
 * the golden tests both give PyTorch's results. */
#include "observers/observers.h"

#include "kernels/kernels.h"

#include <float.h>
#include <math.h>
#include <string.h>

typedef struct hist_state {
  double *hist;            /* bins counts over [min, max] */
  uint64_t *batch_counts;  /* scratch: one batch's histc */
  size_t bins;
  int64_t upsample_rate;
  double dst_nbins;        /* 2^(storage bits): 256, or 65536 beyond 8 bits */
  float min, max;          /* +inf/-inf before the first batch */
  /* Set by hist_prepass: batch_counts already holds the coming batch's
   * histc over [counted_lo, counted_hi], binned in the pass that found the
   * batch's min/max. */
  bool counted;
  float counted_lo, counted_hi;
} hist_state;

static rq_status hist_init(void *state, const rq_observer_info *info, const rq_observer_args *args) {
  hist_state *s = state;
  int64_t bins = 2048, upsample = 128;
  RQ_TRY(rq_observer_args_int(args, "bins", 1, 1 << 20, &bins));
  RQ_TRY(rq_observer_args_int(args, "upsample_rate", 1, 1 << 16, &upsample));
  s->bins = (size_t)bins;
  s->upsample_rate = upsample;
  s->dst_nbins = ldexp(1.0, (int)info->storage_bits);
  s->min = INFINITY;
  s->max = -INFINITY;
  s->hist = rq__calloc(s->bins, sizeof(double));
  s->batch_counts = rq__calloc(s->bins, sizeof(uint64_t));
  if (s->hist == NULL || s->batch_counts == NULL) {
    rq__free(s->hist);
    rq__free(s->batch_counts);
    s->hist = NULL;
    s->batch_counts = NULL;
    return rq__nomem("HistogramObserver", s->bins * 16);
  }
  return RQ_OK;
}

static void hist_fini(void *state) {
  hist_state *s = state;
  rq__free(s->hist);
  rq__free(s->batch_counts);
  s->hist = NULL;
  s->batch_counts = NULL;
}

/* The float32 range torch.histc(x, bins, min=left, max=right) bins over:
 * histc_select_outer_bin_edges, where data_min/data_max (the batch's) stand
 * in for an empty range. */
static rq_status histc_range(double left, double right, float data_min, float data_max, float *lo, float *hi) {
  if (left == right) { left = data_min; right = data_max; }
  if (left == right) { left -= 1.0; right += 1.0; }
  *lo = (float)left;
  *hi = (float)right;
  const float width = *hi - *lo;
  if (!isfinite(width) || !(*lo < *hi))
    return rq_error_set(RQ_ERR_NONFINITE, "HistogramObserver: range [%g, %g] is too wide for float32",
                        left, right);
  return RQ_OK;
}

/* torch.histc(x, bins, min=left, max=right) into s->batch_counts: the
 * linear-interpolation binning of histogramdd in float32. Values outside
 * the range (and NaN/Inf) are not counted, as in histc. */
static rq_status histc(const rq_observer_batch *b, hist_state *s, double left, double right, float data_min,
                       float data_max) {
  float lo, hi;
  RQ_TRY(histc_range(left, right, data_min, data_max, &lo, &hi));
  bool counted = s->counted && lo == s->counted_lo && hi == s->counted_hi;
  s->counted = false;
  if (counted) return RQ_OK; /* hist_prepass binned this batch over this very range */
  memset(s->batch_counts, 0, s->bins * sizeof *s->batch_counts);
  rq__kernels()->histogram[RQ__ELEM_F32](b->data, b->outer * b->channels * b->inner, lo, hi, s->batch_counts,
                                         s->bins);
  return RQ_OK;
}

static void batch_range(const rq_observer_batch *b, float *mn, float *mx) {
  *mn = b->min;
  *mx = b->max;
}

/* _adjust_min_max in float32. */
static void adjust_min_max(const hist_state *s, float cmin, float cmax, float *out_max,
                           int64_t *downsample_rate, int64_t *start_idx) {
  const float fbins = (float)(int64_t)s->bins;
  float hist_bin_width = (s->max - s->min) / (float)((int64_t)s->bins * s->upsample_rate);
  float grid = fbins * hist_bin_width;
  float ds = ceilf((cmax - cmin) / grid);
  *downsample_rate = (int64_t)ds;
  float e = (float)*downsample_rate * grid - (cmax - cmin);
  *out_max = cmax + e;
  *start_idx = (int64_t)nearbyintf((s->min - cmin) / hist_bin_width);
}

/* _combine_histograms: the old histogram `old` (s->bins bins), upsampled by
 * `up`, placed at start_idx on a grid of bins * ds fine cells and integrated
 * back into bins coarse bins, added to `dst`. Computed from prefix sums
 * instead of PyTorch's bins * ds buffer, which the arithmetic makes equal. */
static void combine_histograms(double *dst, const double *old, size_t bins, int64_t up, int64_t ds,
                               int64_t start_idx, double *prefix) {
  prefix[0] = 0.0;
  for (size_t i = 0; i < bins; i++) prefix[i + 1] = prefix[i] + old[i];
  double previous = 0.0;
  for (size_t k = 0; k < bins; k++) {
    /* cumulative sum of the fine grid up to cell (k + 1) * ds - 1, inclusive */
    int64_t q = ((int64_t)k + 1) * ds - start_idx; /* fine cells of old covered */
    double integral = 0.0;
    if (q > 0) {
      int64_t full = q / up, rem = q % up;
      if ((size_t)full >= bins) {
        integral = prefix[bins] * (double)up;
      } else {
        integral = prefix[full] * (double)up + old[full] * (double)rem;
      }
    }
    dst[k] += (integral - previous) / (double)up;
    previous = integral;
  }
}

/* The min/max pass of a batch (rq__observer_prepass), fused with the
 * histogram over the range hist_observe will pick if the batch stays inside
 * the running range: that range depends only on the state then, so it is
 * known before the pass. A batch that leaves it is binned again by
 * hist_observe over the combined range. Not for the first batch, nor when
 * the truncated range is empty (histc then bins over the batch's own
 * min/max, unknown before the pass). */
void rq__histogram_prepass(void *state, const float *x, size_t n, float *min, float *max, uint64_t *nonfinite) {
  hist_state *s = state;
  s->counted = false;
  float lo, hi, cmax;
  int64_t ds, start_idx;
  bool predictable = !(s->min == INFINITY && s->max == -INFINITY) && s->min != s->max;
  if (predictable) {
    adjust_min_max(s, s->min, s->max, &cmax, &ds, &start_idx);
    double left = trunc((double)s->min), right = trunc((double)cmax);
    predictable = left != right && histc_range(left, right, 0.0f, 0.0f, &lo, &hi) == RQ_OK;
    if (!predictable) rq_error_clear();
  }
  if (!predictable) {
    rq__kernels()->minmax[RQ__ELEM_F32](x, n, min, max, nonfinite);
    return;
  }
  memset(s->batch_counts, 0, s->bins * sizeof *s->batch_counts);
  rq__kernels()->minmax_histogram[RQ__ELEM_F32](x, n, lo, hi, s->batch_counts, s->bins, min, max, nonfinite);
  s->counted = true;
  s->counted_lo = lo;
  s->counted_hi = hi;
}

static rq_status hist_observe(void *state, const rq_observer_info *info, const rq_observer_batch *b) {
  (void)info;
  hist_state *s = state;
  float new_min, new_max;
  batch_range(b, &new_min, &new_max);
  if (!(new_min <= new_max)) { /* only non-finite values, all skipped */
    s->counted = false;
    return RQ_OK;
  }
  bool uninitialized = s->min == INFINITY && s->max == -INFINITY;
  if (uninitialized || s->min == s->max) {
    /* torch.histc(x, bins, min=int(min_val), max=int(max_val)) */
    RQ_TRY(histc(b, s, trunc((double)new_min), trunc((double)new_max), new_min, new_max));
    for (size_t i = 0; i < s->bins; i++) s->hist[i] = (double)s->batch_counts[i];
    s->min = new_min;
    s->max = new_max;
    return RQ_OK;
  }
  float cmin = new_min < s->min ? new_min : s->min;
  float cmax = new_max > s->max ? new_max : s->max;
  int64_t ds, start_idx;
  adjust_min_max(s, cmin, cmax, &cmax, &ds, &start_idx);
  RQ_TRY(histc(b, s, trunc((double)cmin), trunc((double)cmax), new_min, new_max));
  if (cmin == s->min && cmax == s->max) {
    for (size_t i = 0; i < s->bins; i++) s->hist[i] += (double)s->batch_counts[i];
  } else {
    double *combined = rq__malloc_array(2 * s->bins + 1, sizeof(double));
    if (combined == NULL) return rq__nomem("HistogramObserver", (2 * s->bins + 1) * sizeof(double));
    for (size_t i = 0; i < s->bins; i++) combined[i] = (double)s->batch_counts[i];
    combine_histograms(combined, s->hist, s->bins, s->upsample_rate, ds, start_idx, combined + s->bins);
    memcpy(s->hist, combined, s->bins * sizeof(double));
    rq__free(combined);
  }
  s->min = cmin;
  s->max = cmax;
  return RQ_OK;
}

static bool hist_minmax(const void *state, const rq_observer_info *info, size_t n, float *mn, float *mx) {
  (void)info;
  (void)n;
  const hist_state *s = state;
  if (s->min == INFINITY && s->max == -INFINITY) return false;
  *mn = s->min;
  *mx = s->max;
  return true;
}

/* c10::div_floor_floating: Python's a // b for floats. */
static float div_floor(float a, float b) {
  if (b == 0.0f) return a / b;
  float mod = fmodf(a, b);
  float div = (a - mod) / b;
  if (mod != 0.0f && ((b < 0.0f) != (mod < 0.0f))) div -= 1.0f;
  if (div == 0.0f) return copysignf(0.0f, a / b);
  float floordiv = floorf(div);
  if (div - floordiv > 0.5f) floordiv += 1.0f;
  return floordiv;
}

/* _get_norm: density * (end^3 - begin^3) / 3 in float32. */
static float get_norm(float begin, float end, float density) {
  float norm = (end * end * end - begin * begin * begin) / 3.0f;
  return density * norm;
}

/* _compute_quantization_error(next_start_bin, next_end_bin). */
static double quantization_error(const hist_state *s, int64_t start_bin, int64_t end_bin) {
  const double bin_width = ((double)s->max - (double)s->min) / (double)s->bins;
  const double dst_bin_width = bin_width * (double)(end_bin - start_bin + 1) / s->dst_nbins;
  if (dst_bin_width == 0.0) return 0.0;
  const float bw = (float)bin_width, dbw = (float)dst_bin_width;
  const float half = (float)(dst_bin_width / 2), neg_half = (float)(-dst_bin_width / 2);
  const float last = (float)(s->dst_nbins - 1);
  /* _get_norm(tensor(-dbw/2), tensor(dbw/2), 1) before the multiplication by density */
  const float inner_norm = (half * half * half - neg_half * neg_half * neg_half) / 3.0f;
  double total = 0.0;
  for (size_t i = 0; i < s->bins; i++) {
    float src_begin = (float)((int64_t)i - start_bin) * bw;
    float src_end = src_begin + bw;
    float dob = div_floor(src_begin, dbw);
    dob = dob < 0.0f ? 0.0f : (dob > last ? last : dob);
    float dob_center = (dob + 0.5f) * dbw;
    float doe = div_floor(src_end, dbw);
    doe = doe < 0.0f ? 0.0f : (doe > last ? last : doe);
    float density = (float)s->hist[i] / bw;
    float norm = 0.0f;
    norm += get_norm(src_begin - dob_center, half, density);
    norm += (doe - dob - 1.0f) * (density * inner_norm);
    float doe_center = doe * dbw + half;
    norm += get_norm(neg_half, src_end - doe_center, density);
    total += (double)norm;
  }
  return total;
}

/* _non_linear_param_search: the L2-optimal [new_min, new_max]. */
static rq_status hist_range(const void *state, const rq_observer_info *info, size_t n, float *mn, float *mx) {
  (void)info;
  (void)n;
  const hist_state *s = state;
  const float bin_width = (s->max - s->min) / (float)(int64_t)s->bins;
  double *csum = rq__malloc_array(s->bins, sizeof(double));
  if (csum == NULL) return rq__nomem("HistogramObserver", s->bins * sizeof(double));
  double total = 0.0;
  for (size_t i = 0; i < s->bins; i++) {
    total += s->hist[i];
    csum[i] = total;
  }
  const double stepsize = 1e-5;
  double alpha = 0.0, beta = 1.0, norm_min = INFINITY;
  int64_t start_bin = 0, end_bin = (int64_t)s->bins - 1;
  while (alpha < beta) {
    double next_alpha = alpha + stepsize, next_beta = beta - stepsize;
    /* PyTorch compares a float32 element with a Python float: the threshold
     * is rounded to float32 first. */
    double lo_threshold = (double)(float)(next_alpha * total);
    double hi_threshold = (double)(float)(next_beta * total);
    int64_t l = start_bin, r = end_bin;
    while (l < end_bin && csum[l] < lo_threshold) l++;
    while (r > start_bin && csum[r] > hi_threshold) r--;
    int64_t next_start = start_bin, next_end = end_bin;
    if (l - start_bin > end_bin - r) {
      next_start = l;
      alpha = next_alpha;
    } else {
      next_end = r;
      beta = next_beta;
    }
    if (next_start == start_bin && next_end == end_bin) continue;
    double norm = quantization_error(s, next_start, next_end);
    if (norm > norm_min) break;
    norm_min = norm;
    start_bin = next_start;
    end_bin = next_end;
  }
  rq__free(csum);
  *mn = s->min + bin_width * (float)start_bin;
  *mx = s->min + bin_width * (float)(end_bin + 1);
  return RQ_OK;
}

/* Spreads src (range [slo, shi]) onto dst's grid [dlo, dhi] assuming a
 * uniform density inside each source bin. */
static void resample(double *dst, double dlo, double dhi, const double *src, double slo, double shi,
                     size_t bins) {
  double sw = (shi - slo) / (double)bins, dw = (dhi - dlo) / (double)bins;
  for (size_t i = 0; i < bins; i++) {
    if (src[i] == 0.0) continue;
    double a = slo + sw * (double)i, b = a + sw;
    if (sw == 0.0 || dw == 0.0) {
      double pos = dw == 0.0 ? 0.0 : floor((a - dlo) / dw);
      size_t k = pos < 0 ? 0 : (pos >= (double)bins ? bins - 1 : (size_t)pos);
      dst[k] += src[i];
      continue;
    }
    double k0 = floor((a - dlo) / dw);
    for (double k = k0 < 0 ? 0 : k0; k < (double)bins; k += 1.0) {
      double ca = dlo + dw * k, cb = ca + dw;
      if (ca >= b) break;
      double overlap = (b < cb ? b : cb) - (a > ca ? a : ca);
      if (overlap > 0) dst[(size_t)k] += src[i] * overlap / sw;
    }
  }
}

/* Merge: dst's histogram moves to the combined range exactly as a new batch
 * would move it (_adjust_min_max + _combine_histograms); src's counts are
 * spread onto that grid with a uniform density per bin. Identical ranges add
 * bin by bin (exact). */
static rq_status hist_merge(void *dst_state, const void *src_state, const rq_observer_info *info, size_t n) {
  (void)info;
  (void)n;
  hist_state *d = dst_state;
  const hist_state *s = src_state;
  if (s->min == INFINITY && s->max == -INFINITY) return RQ_OK;
  if ((d->min == INFINITY && d->max == -INFINITY)) {
    memcpy(d->hist, s->hist, d->bins * sizeof(double));
    d->min = s->min;
    d->max = s->max;
    return RQ_OK;
  }
  if (d->min == s->min && d->max == s->max) {
    for (size_t i = 0; i < d->bins; i++) d->hist[i] += s->hist[i];
    return RQ_OK;
  }
  double *combined = rq__calloc(2 * d->bins + 1, sizeof(double));
  if (combined == NULL) return rq__nomem("HistogramObserver merge", (2 * d->bins + 1) * sizeof(double));
  float cmin = s->min < d->min ? s->min : d->min;
  float cmax = s->max > d->max ? s->max : d->max;
  if (d->min == d->max) {
    /* a constant dst: its counts sit in one bin; move them as a point mass */
    double mass = 0.0;
    for (size_t i = 0; i < d->bins; i++) mass += d->hist[i];
    resample(combined, cmin, cmax, s->hist, s->min, s->max, d->bins);
    double pos = cmax > cmin ? floor(((double)d->min - cmin) / (((double)cmax - cmin) / (double)d->bins)) : 0;
    size_t k = pos < 0 ? 0 : (pos >= (double)d->bins ? d->bins - 1 : (size_t)pos);
    combined[k] += mass;
  } else {
    int64_t ds, start_idx;
    adjust_min_max(d, cmin, cmax, &cmax, &ds, &start_idx);
    combine_histograms(combined, d->hist, d->bins, d->upsample_rate, ds, start_idx, combined + d->bins);
    resample(combined, cmin, cmax, s->hist, s->min, s->max, d->bins);
  }
  memcpy(d->hist, combined, d->bins * sizeof(double));
  rq__free(combined);
  d->min = cmin;
  d->max = cmax;
  return RQ_OK;
}

static rq_status hist_save(const void *state, const rq_observer_info *info, rq_observer_stats *out) {
  (void)info;
  const hist_state *s = state;
  double range[2] = {s->min, s->max};
  RQ_TRY(rq_observer_stats_put(out, "range", range, 2));
  return rq_observer_stats_put(out, "histogram", s->hist, s->bins);
}

static rq_status hist_load(void *state, const rq_observer_info *info, const rq_observer_stats *in) {
  (void)info;
  hist_state *s = state;
  double range[2];
  size_t count = 0;
  RQ_TRY(rq_observer_stats_get(in, "range", range, 2, &count));
  RQ_TRY(rq_observer_stats_get(in, "histogram", NULL, 0, &count));
  if (count != s->bins)
    return rq_error_set(RQ_ERR_FORMAT, "saved histogram has %zu bins, the observer %zu", count, s->bins);
  RQ_TRY(rq__check_loaded_range(range[0], range[1], "range"));
  if (!(range[0] == INFINITY) && !(fabs(range[0]) <= FLT_MAX && fabs(range[1]) <= FLT_MAX))
    return rq_error_set(RQ_ERR_FORMAT, "saved state: range [%g, %g] does not fit float32", range[0], range[1]);
  double *hist = rq__malloc_array(s->bins, sizeof *hist);
  if (hist == NULL) return rq__nomem("HistogramObserver", s->bins * sizeof *hist);
  rq_status st = rq_observer_stats_get(in, "histogram", hist, s->bins, &count);
  if (st == RQ_OK) st = rq__check_loaded_counts(hist, s->bins, "histogram");
  if (st == RQ_OK) {
    memcpy(s->hist, hist, s->bins * sizeof *hist);
    s->min = (float)range[0];
    s->max = (float)range[1];
  }
  rq__free(hist);
  return st;
}

static const char *const hist_params[] = {"bins", "upsample_rate", NULL};

const rq_observer_class rq__histogram_observer_class = {
  .struct_size = sizeof(rq_observer_class),
  .abi_major = RQ_ABI_MAJOR,
  .name = "HistogramObserver",
  .params = hist_params,
  .flags = 0,
  .state_size = sizeof(hist_state),
  .init = hist_init,
  .fini = hist_fini,
  .observe = hist_observe,
  .minmax = hist_minmax,
  .range = hist_range,
  .merge = hist_merge,
  .save = hist_save,
  .load = hist_load,
};
