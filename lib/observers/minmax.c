/* SPDX-License-Identifier: Apache-2.0 */
/* The running min/max family of PyTorch 1.13 (MinMaxObserver,
 * MovingAverageMinMaxObserver and their PerChannel variants) and MMRazor's
 * LSQObserver/LSQPerChannelObserver, which add the LSQ scale initialisation
 * 2 * mean(|x|) / sqrt(quant_max) of the latest batch. One state serves all
 * six; the class tables differ in flags and in two switches. */
#include "observers/observers.h"

#include "kernels/kernels.h"

#include <math.h>
#include <string.h>

typedef struct minmax_state {
  float *min, *max;      /* n entries each; n == 0 before the first batch */
  float *norm;           /* LSQ: mean |x| per channel of the latest batch */
  size_t n;
  uint64_t batches;      /* for merging moving averages */
  double averaging_constant;
  bool moving;           /* exponential moving average instead of running min/max */
  bool lsq;
} minmax_state;

void rq__batch_minmax(const rq_observer_batch *b, float *mins, float *maxs) {
  if (b->channels == 1) { /* the generic layer's pass already found them */
    mins[0] = b->min;
    maxs[0] = b->max;
    return;
  }
  for (size_t c = 0; c < b->channels; c++) { mins[c] = INFINITY; maxs[c] = -INFINITY; }
  /* The kernels skip NaN/Inf (counting them): exactly "skip_nonfinite", and
   * a no-op distinction when the batch is all finite. */
  uint64_t nonfinite = 0;
  rq__kernels()->minmax_channels[RQ__ELEM_F32](b->data, b->outer, b->channels, b->inner, mins, maxs,
                                               &nonfinite);
}

/* mean(|x|) per channel in double, rounded once to float32. PyTorch sums in
 * float32 in its own blocked order, so this can differ by an ulp or two. */
static void batch_abs_mean(const rq_observer_batch *b, float *norm) {
  for (size_t c = 0; c < b->channels; c++) {
    double sum = 0.0;
    size_t count = 0;
    for (size_t o = 0; o < b->outer; o++) {
      const float *x = b->data + (o * b->channels + c) * b->inner;
      for (size_t i = 0; i < b->inner; i++) {
        if (b->skip_nonfinite && !isfinite(x[i])) continue;
        sum += fabs((double)x[i]);
        count++;
      }
    }
    norm[c] = count ? (float)(sum / (double)count) : NAN;
  }
}

static rq_status minmax_init_common(void *state, const rq_observer_args *args, bool moving, bool lsq) {
  minmax_state *s = state;
  s->moving = moving;
  s->lsq = lsq;
  s->averaging_constant = 0.01;
  if (moving)
    RQ_TRY(rq_observer_args_number(args, "averaging_constant", 0.0, 1.0, &s->averaging_constant));
  return RQ_OK;
}

static rq_status init_minmax(void *st, const rq_observer_info *i, const rq_observer_args *a) {
  (void)i;
  return minmax_init_common(st, a, false, false);
}
static rq_status init_moving(void *st, const rq_observer_info *i, const rq_observer_args *a) {
  (void)i;
  return minmax_init_common(st, a, true, false);
}
static rq_status init_lsq(void *st, const rq_observer_info *i, const rq_observer_args *a) {
  (void)i;
  return minmax_init_common(st, a, false, true);
}

static void minmax_fini(void *state) {
  minmax_state *s = state;
  rq__free(s->min);
  rq__free(s->max);
  rq__free(s->norm);
  s->min = s->max = s->norm = NULL;
  s->n = 0;
}

/* Allocates the arrays for n channels (all or nothing). */
static rq_status minmax_alloc(minmax_state *s, size_t n) {
  float *mn = rq__malloc_array(n, sizeof(float));
  float *mx = rq__malloc_array(n, sizeof(float));
  float *norm = s->lsq ? rq__malloc_array(n, sizeof(float)) : NULL;
  if (mn == NULL || mx == NULL || (s->lsq && norm == NULL)) {
    rq__free(mn);
    rq__free(mx);
    rq__free(norm);
    return rq__nomem("observe", 3 * n * sizeof(float));
  }
  for (size_t c = 0; c < n; c++) { mn[c] = INFINITY; mx[c] = -INFINITY; if (norm) norm[c] = NAN; }
  s->min = mn;
  s->max = mx;
  s->norm = norm;
  s->n = n;
  return RQ_OK;
}

static rq_status minmax_observe(void *state, const rq_observer_info *info, const rq_observer_batch *b) {
  (void)info;
  minmax_state *s = state;
  size_t n = b->channels;
  float one_min, one_max, one_norm;
  float *cur_min = &one_min, *cur_max = &one_max, *cur_norm = &one_norm;
  if (n > 1) {
    cur_min = rq__malloc_array(n, sizeof(float));
    cur_max = rq__malloc_array(n, sizeof(float));
    cur_norm = rq__malloc_array(n, sizeof(float));
    if (cur_min == NULL || cur_max == NULL || cur_norm == NULL) {
      rq__free(cur_min);
      rq__free(cur_max);
      rq__free(cur_norm);
      return rq__nomem("observe", 3 * n * sizeof(float));
    }
  }
  rq_status st = RQ_OK;
  bool first = s->n == 0;
  if (first) st = minmax_alloc(s, n);
  if (st == RQ_OK) {
    rq__batch_minmax(b, cur_min, cur_max);
    if (s->lsq) batch_abs_mean(b, cur_norm);
    const float c = (float)s->averaging_constant; /* Python float * float32 tensor */
    for (size_t ch = 0; ch < n; ch++) {
      if (!(cur_min[ch] <= cur_max[ch])) continue; /* no finite value in this channel */
      if (!s->moving) {
        s->min[ch] = cur_min[ch] < s->min[ch] ? cur_min[ch] : s->min[ch];
        s->max[ch] = cur_max[ch] > s->max[ch] ? cur_max[ch] : s->max[ch];
      } else if (s->min[ch] == INFINITY && s->max[ch] == -INFINITY) {
        s->min[ch] = cur_min[ch];
        s->max[ch] = cur_max[ch];
      } else {
        /* min + c * (cur - min), each step rounded to float32 as in PyTorch */
        float dmin = cur_min[ch] - s->min[ch], dmax = cur_max[ch] - s->max[ch];
        float tmin = c * dmin, tmax = c * dmax;
        s->min[ch] = s->min[ch] + tmin;
        s->max[ch] = s->max[ch] + tmax;
      }
      if (s->lsq) s->norm[ch] = cur_norm[ch];
    }
    s->batches++;
  }
  if (n > 1) {
    rq__free(cur_min);
    rq__free(cur_max);
    rq__free(cur_norm);
  }
  return st;
}

static bool minmax_get(const void *state, const rq_observer_info *info, size_t n, float *mn, float *mx) {
  (void)info;
  const minmax_state *s = state;
  if (s->n == 0 || s->n != n) return false;
  if (n == 1 && s->min[0] == INFINITY && s->max[0] == -INFINITY) return false;
  memcpy(mn, s->min, n * sizeof(float));
  memcpy(mx, s->max, n * sizeof(float));
  return true;
}

/* MMRazor's LSQObserverMixIn._calculate_scale: 2 * tensor_norm / sqrt(quant_max)
 * (float32 tensor op with the Python double sqrt rounded to float32), zero
 * points from the min/max as MinMaxObserver computes them. */
static rq_status lsq_qparams(const void *state, const rq_observer_info *info, size_t n, float *scale,
                             int32_t *zero_point) {
  const minmax_state *s = state;
  if (s->n == 0 || s->n != n || isnan(s->norm[0]))
    return rq_error_set(RQ_ERR_STATE, "LSQ observer: no batch observed yet (the scale needs mean |x|)");
  RQ_TRY(rq_observer_uniform_qparams(info, s->min, s->max, n, scale, zero_point));
  const float root = (float)sqrt((double)info->quant_max);
  for (size_t c = 0; c < n; c++) {
    float twice = 2.0f * s->norm[c];
    scale[c] = twice / root;
  }
  return RQ_OK;
}

/* Running min/max merge exactly; moving averages as the batch-weighted mean
 * of the two states (documented: no order of observation gives it); LSQ keeps
 * src's latest-batch norm, src being treated as the later shard. */
static rq_status minmax_merge(void *dst_state, const void *src_state, const rq_observer_info *info,
                              size_t n) {
  (void)info;
  minmax_state *d = dst_state;
  const minmax_state *s = src_state;
  if (s->n == 0) return RQ_OK;
  if (d->n == 0) RQ_TRY(minmax_alloc(d, n));
  for (size_t c = 0; c < n; c++) {
    bool src_has = s->min[c] <= s->max[c], dst_has = d->min[c] <= d->max[c];
    if (!src_has) continue;
    if (!dst_has || !d->moving) {
      d->min[c] = dst_has && d->min[c] < s->min[c] ? d->min[c] : s->min[c];
      d->max[c] = dst_has && d->max[c] > s->max[c] ? d->max[c] : s->max[c];
    } else {
      double wd = (double)d->batches, ws = (double)s->batches, w = wd + ws;
      d->min[c] = (float)(((double)d->min[c] * wd + (double)s->min[c] * ws) / w);
      d->max[c] = (float)(((double)d->max[c] * wd + (double)s->max[c] * ws) / w);
    }
    if (d->lsq && !isnan(s->norm[c])) d->norm[c] = s->norm[c];
  }
  d->batches += s->batches;
  return RQ_OK;
}

static rq_status put_floats(rq_observer_stats *out, const char *name, const float *v, size_t n) {
  double *d = rq__malloc_array(n ? n : 1, sizeof(double));
  if (d == NULL) return rq__nomem("save", n * sizeof(double));
  for (size_t i = 0; i < n; i++) d[i] = (double)v[i];
  rq_status st = rq_observer_stats_put(out, name, d, n);
  rq__free(d);
  return st;
}

static rq_status minmax_save(const void *state, const rq_observer_info *info, rq_observer_stats *out) {
  (void)info;
  const minmax_state *s = state;
  double batches = (double)s->batches;
  RQ_TRY(rq_observer_stats_put(out, "batches", &batches, 1));
  if (s->n == 0) return RQ_OK;
  RQ_TRY(put_floats(out, "min", s->min, s->n));
  RQ_TRY(put_floats(out, "max", s->max, s->n));
  if (s->lsq) RQ_TRY(put_floats(out, "norm", s->norm, s->n));
  return RQ_OK;
}

static rq_status get_floats(const rq_observer_stats *in, const char *name, float *v, size_t n) {
  size_t count = 0;
  RQ_TRY(rq_observer_stats_get(in, name, NULL, 0, &count));
  if (count != n) return rq_error_set(RQ_ERR_FORMAT, "saved state: %s has %zu values, expected %zu", name, count, n);
  double *d = rq__malloc_array(n, sizeof(double));
  if (d == NULL) return rq__nomem("load", n * sizeof(double));
  rq_status st = rq_observer_stats_get(in, name, d, n, &count);
  for (size_t i = 0; st == RQ_OK && i < n; i++) v[i] = (float)d[i];
  rq__free(d);
  return st;
}

static rq_status minmax_load(void *state, const rq_observer_info *info, const rq_observer_stats *in) {
  (void)info;
  minmax_state *s = state;
  double batches = 0;
  size_t count = 0;
  RQ_TRY(rq_observer_stats_get(in, "batches", &batches, 1, &count));
  RQ_TRY(rq__check_loaded_counts(&batches, 1, "batches"));
  size_t n = 0;
  if (rq_observer_stats_get(in, "min", NULL, 0, &n) != RQ_OK || n == 0) {
    s->batches = (uint64_t)batches;
    return RQ_OK;
  }
  RQ_TRY(minmax_alloc(s, n));
  rq_status st = get_floats(in, "min", s->min, n);
  if (st == RQ_OK) st = get_floats(in, "max", s->max, n);
  if (st == RQ_OK && s->lsq) st = get_floats(in, "norm", s->norm, n);
  for (size_t c = 0; st == RQ_OK && c < n; c++) st = rq__check_loaded_range(s->min[c], s->max[c], "min/max");
  for (size_t c = 0; st == RQ_OK && s->lsq && c < n; c++)
    if (!(s->norm[c] >= 0.0f && isfinite(s->norm[c])))
      st = rq_error_set(RQ_ERR_FORMAT, "saved state: norm[%zu] = %g", c, (double)s->norm[c]);
  if (st != RQ_OK) { minmax_fini(s); return st; }
  s->batches = (uint64_t)batches;
  return RQ_OK;
}

static const char *const moving_params[] = {"averaging_constant", NULL};

#define MINMAX_CLASS(var, cname, cflags, cparams, cinit, cqparams) \
  const rq_observer_class var = {                                  \
    .struct_size = sizeof(rq_observer_class),                      \
    .abi_major = RQ_ABI_MAJOR,                                     \
    .name = cname,                                                 \
    .params = cparams,                                             \
    .flags = cflags,                                               \
    .state_size = sizeof(minmax_state),                            \
    .init = cinit,                                                 \
    .fini = minmax_fini,                                           \
    .observe = minmax_observe,                                     \
    .minmax = minmax_get,                                          \
    .qparams = cqparams,                                           \
    .merge = minmax_merge,                                         \
    .save = minmax_save,                                           \
    .load = minmax_load,                                           \
  }

MINMAX_CLASS(rq__minmax_observer_class, "MinMaxObserver", 0, NULL, init_minmax, NULL);
MINMAX_CLASS(rq__moving_average_minmax_observer_class, "MovingAverageMinMaxObserver", 0,
             moving_params, init_moving, NULL);
MINMAX_CLASS(rq__per_channel_minmax_observer_class, "PerChannelMinMaxObserver",
             RQ_OBSERVER_PER_CHANNEL, NULL, init_minmax, NULL);
MINMAX_CLASS(rq__moving_average_per_channel_minmax_observer_class,
             "MovingAveragePerChannelMinMaxObserver", RQ_OBSERVER_PER_CHANNEL, moving_params,
             init_moving, NULL);
MINMAX_CLASS(rq__lsq_observer_class, "LSQObserver", 0, NULL, init_lsq, lsq_qparams);
MINMAX_CLASS(rq__lsq_per_channel_observer_class, "LSQPerChannelObserver", RQ_OBSERVER_PER_CHANNEL,
             NULL, init_lsq, lsq_qparams);
