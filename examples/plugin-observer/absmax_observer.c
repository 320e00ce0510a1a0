/* SPDX-License-Identifier: Apache-2.0 */
/* An observer plugin: "AbsMaxObserver" keeps the running max of |x| and
 * reports the symmetric range [-absmax, absmax]. It supplies only that
 * statistic; razorq computes the scale and zero point the way PyTorch's
 * UniformQuantizationObserverBase does, for whatever qscheme the user's
 * config asks for. Build it as a shared object against razorq and load it with
 * rq_plugin_load("libabsmax_observer.so"); then
 *   rq_observer_create("{\"type\":\"AbsMaxObserver\",\"qdtype\":\"qint8\"}", &obs)
 * works like any built-in observer. */
#include <razorq/sys/plugin.h>

#include <math.h>

RQ_PLUGIN_DECLARE_ABI;

typedef struct absmax_state {
  float absmax;   /* running max |x| */
  float margin;   /* optional "margin" argument: absmax is multiplied by it */
  bool seen;
} absmax_state;

static rq_status absmax_init(void *state, const rq_observer_info *info, const rq_observer_args *args) {
  (void)info;
  absmax_state *s = state;
  double margin = 1.0;
  rq_status st = rq_observer_args_number(args, "margin", 1.0, 100.0, &margin);
  if (st != RQ_OK) return st;
  s->margin = (float)margin;
  return RQ_OK;
}

static rq_status absmax_observe(void *state, const rq_observer_info *info, const rq_observer_batch *b) {
  (void)info;
  absmax_state *s = state;
  size_t n = b->outer * b->channels * b->inner;
  float m = s->absmax;
  bool any = false;
  for (size_t i = 0; i < n; i++) {
    float v = fabsf(b->data[i]);
    if (b->skip_nonfinite && !isfinite(v)) continue;
    if (v > m) m = v;
    any = true;
  }
  if (any) {
    s->absmax = m;
    s->seen = true;
  }
  return RQ_OK;
}

static bool absmax_minmax(const void *state, const rq_observer_info *info, size_t channels, float *min,
                          float *max) {
  (void)info;
  (void)channels;
  const absmax_state *s = state;
  if (!s->seen) return false;
  *min = -s->absmax * s->margin;
  *max = s->absmax * s->margin;
  return true;
}

static rq_status absmax_merge(void *dst, const void *src, const rq_observer_info *info, size_t channels) {
  (void)info;
  (void)channels;
  absmax_state *d = dst;
  const absmax_state *s = src;
  if (s->seen && (!d->seen || s->absmax > d->absmax)) d->absmax = s->absmax;
  d->seen = d->seen || s->seen;
  return RQ_OK;
}

static rq_status absmax_save(const void *state, const rq_observer_info *info, rq_observer_stats *out) {
  (void)info;
  const absmax_state *s = state;
  double v[2] = {s->absmax, s->seen ? 1.0 : 0.0};
  return rq_observer_stats_put(out, "absmax", v, 2);
}

static rq_status absmax_load(void *state, const rq_observer_info *info, const rq_observer_stats *in) {
  (void)info;
  absmax_state *s = state;
  double v[2];
  size_t count = 0;
  rq_status st = rq_observer_stats_get(in, "absmax", v, 2, &count);
  if (st != RQ_OK) return st;
  if (count != 2) return rq_error_set(RQ_ERR_FORMAT, "AbsMaxObserver: bad saved state");
  s->absmax = (float)v[0];
  s->seen = v[1] != 0.0;
  return RQ_OK;
}

static const char *const absmax_params[] = {"margin", NULL};

rq_status rq_plugin_init(unsigned abi_major) {
  (void)abi_major; /* razorq already checked rq_plugin_abi_major */
  const rq_observer_class cls = {
    .struct_size = sizeof(rq_observer_class),
    .abi_major = RQ_ABI_MAJOR,
    .name = "AbsMaxObserver",
    .params = absmax_params,
    .state_size = sizeof(absmax_state),
    .init = absmax_init,
    .observe = absmax_observe,
    .minmax = absmax_minmax,
    .merge = absmax_merge,
    .save = absmax_save,
    .load = absmax_load,
  };
  return rq_register_observer(&cls);
}
