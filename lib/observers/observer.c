/* SPDX-License-Identifier: Apache-2.0 */
/* The generic observer: configuration, the tensor's layout and dtype, the
 * non-finite policy and the uniform qparams, around a class's statistic. */
#include "observers/observers.h"

#include "kernels/kernels.h"
#include "registry/registry.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* ---- Class registration ---------------------------------------------------------- */

/* Validates and adds; no built-in registration (which itself comes here). */
/* Errors name the public entry point, whoever called. */
#define REG_CHECK(cond, ...) \
  do { if (!(cond)) return rq__fail(RQ_ERR_INVALID_ARG, "rq_register_observer", __VA_ARGS__); } while (0)

static rq_status register_class(const rq_observer_class *cls) {
  REG_CHECK(cls != NULL, "cls is NULL");
  REG_CHECK(cls->struct_size >= offsetof(rq_observer_class, merge),
               "cls->struct_size: %zu is smaller than the first ABI's table", cls->struct_size);
  if (cls->abi_major != RQ_ABI_MAJOR)
    return rq__fail(RQ_ERR_ABI, "rq_register_observer", "class %s was built for ABI %u, this library is ABI %u",
                    cls->name ? cls->name : "(unnamed)", cls->abi_major, (unsigned)RQ_ABI_MAJOR);
  REG_CHECK(cls->name != NULL && cls->name[0] != '\0', "cls->name is NULL or empty");
  REG_CHECK(cls->observe != NULL, "%s: observe is required", cls->name);
  REG_CHECK((cls->flags & RQ_OBSERVER_NO_QPARAMS) || cls->minmax != NULL || cls->qparams != NULL,
               "%s: minmax is required unless RQ_OBSERVER_NO_QPARAMS or qparams is given", cls->name);
  REG_CHECK((cls->flags & ~(RQ_OBSERVER_PER_CHANNEL | RQ_OBSERVER_NO_QPARAMS)) == 0,
               "%s: unknown flags 0x%x", cls->name, (unsigned)cls->flags);
  REG_CHECK((cls->save == NULL) == (cls->load == NULL), "%s: save and load go together", cls->name);
  return rq__registry_add(RQ_REGISTRY_OBSERVER, cls->name, cls, cls->struct_size,
                          sizeof(rq_observer_class), NULL, "rq_register_observer");
}

#undef REG_CHECK

rq_status rq_register_observer(const rq_observer_class *cls) {
  /* Built-ins first, so a plugin cannot take a built-in's name. */
  rq__registry_ensure_builtins();
  return register_class(cls);
}

void rq__observers_register_builtins(void) {
  static const rq_observer_class *const builtins[] = {
    &rq__minmax_observer_class,
    &rq__moving_average_minmax_observer_class,
    &rq__per_channel_minmax_observer_class,
    &rq__moving_average_per_channel_minmax_observer_class,
    &rq__histogram_observer_class,
    &rq__fixed_qparams_observer_class,
    &rq__placeholder_observer_class,
    &rq__noop_observer_class,
    &rq__recording_observer_class,
    &rq__reuse_input_observer_class,
    &rq__lsq_observer_class,
    &rq__lsq_per_channel_observer_class,
    &rq__percentile_observer_class,
    &rq__per_channel_percentile_observer_class,
    &rq__entropy_observer_class,
    &rq__per_channel_entropy_observer_class,
    &rq__mse_observer_class,
    &rq__per_channel_mse_observer_class,
  };
  for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
    (void)register_class(builtins[i]);
}

/* ---- Arguments for the class --------------------------------------------------------- */

rq_status rq_observer_args_number(const rq_observer_args *args, const char *key, double min,
                                  double max, double *value) {
  RQ_CHECK_NOT_NULL(args);
  RQ_CHECK_NOT_NULL(key);
  RQ_CHECK_NOT_NULL(value);
  return rq__json_get_number(args->config, args->where, "", key, min, max, value);
}

rq_status rq_observer_args_int(const rq_observer_args *args, const char *key, int64_t min,
                               int64_t max, int64_t *value) {
  RQ_CHECK_NOT_NULL(args);
  RQ_CHECK_NOT_NULL(key);
  RQ_CHECK_NOT_NULL(value);
  long long v = *value;
  RQ_TRY(rq__json_get_int(args->config, args->where, "", key, min, max, &v));
  *value = v;
  return RQ_OK;
}

rq_status rq_observer_args_bool(const rq_observer_args *args, const char *key, bool *value) {
  RQ_CHECK_NOT_NULL(args);
  RQ_CHECK_NOT_NULL(key);
  RQ_CHECK_NOT_NULL(value);
  return rq__json_get_bool(args->config, args->where, "", key, value);
}

/* ---- Creation ---------------------------------------------------------------------------- */

void rq__observer_info_from_qscheme(const rq__qscheme *qs, rq_observer_info *info) {
  memset(info, 0, sizeof *info);
  info->struct_size = sizeof *info;
  info->per_channel = qs->per_channel;
  info->symmetric = qs->symmetric;
  info->is_signed = qs->is_signed;
  info->quant_min = qs->quant_min;
  info->quant_max = qs->quant_max;
  info->storage_bits = qs->storage_bits;
  info->eps = qs->eps;
  info->customized_range = qs->customized_range;
}

static rq__qscheme qscheme_from_info(const rq_observer_info *info) {
  rq__qscheme qs = {0};
  qs.is_signed = info->is_signed;
  qs.symmetric = info->symmetric;
  qs.per_channel = info->per_channel;
  qs.customized_range = info->customized_range;
  qs.quant_min = info->quant_min;
  qs.quant_max = info->quant_max;
  qs.storage_bits = info->storage_bits;
  qs.eps = info->eps;
  return qs;
}

rq_status rq_observer_uniform_qparams(const rq_observer_info *info, const float *min,
                                      const float *max, size_t n, float *scale,
                                      int32_t *zero_point) {
  RQ_CHECK_NOT_NULL(info);
  RQ_CHECK_NOT_NULL(min);
  RQ_CHECK_NOT_NULL(max);
  RQ_CHECK_NOT_NULL(scale);
  RQ_CHECK_NOT_NULL(zero_point);
  RQ_CHECK_ARG(info->quant_min < info->quant_max, "info: quant_min %d is not below quant_max %d",
               (int)info->quant_min, (int)info->quant_max);
  rq__qscheme qs = qscheme_from_info(info);
  rq__qparams_compute(&qs, min, max, n, scale, zero_point);
  return RQ_OK;
}

/* Keys every observer accepts besides the qscheme's. */
static const char *const generic_keys[] = {"type", "ignore_nonfinite", NULL};

static rq_status check_keys(const json_t *cfg, const rq_observer_class *cls, const char *where) {
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)cfg, key, value) {
    (void)value;
    bool known = false;
    for (const char *const *k = generic_keys; *k && !known; k++) known = strcmp(*k, key) == 0;
    for (const char *const *k = rq__qscheme_keys; *k && !known; k++) known = strcmp(*k, key) == 0;
    for (const char *const *k = cls->params; k && *k && !known; k++) known = strcmp(*k, key) == 0;
    if (!known) {
      char list[512] = "";
      size_t used = 0;
      const char *const *groups[] = {generic_keys, rq__qscheme_keys, cls->params};
      for (size_t g = 0; g < 3; g++)
        for (const char *const *k = groups[g]; k && *k && used < sizeof list; k++) {
          int n = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", *k);
          if (n < 0) break;
          used += (size_t)n;
        }
      return rq__fail(RQ_ERR_INVALID_ARG, where, "%s: unknown key for %s (expected one of: %s)", key,
                      cls->name, list);
    }
  }
  return RQ_OK;
}

static rq_status init_state(rq_observer *obs, const char *where) {
  if (obs->cls->init == NULL) return RQ_OK;
  rq_observer_args args = {obs->config, where};
  rq_error_clear();
  rq_status s = obs->cls->init(obs->state, &obs->info, &args);
  if (s != RQ_OK && rq_last_error()[0] == '\0')
    rq__fail(s, where, "%s: init failed", obs->cls->name);
  return s;
}

static void fini_state(rq_observer *obs) {
  if (obs->cls->fini != NULL) obs->cls->fini(obs->state);
}

static rq_status create_from_json(json_t *cfg, const char *where, rq_observer **out) {
  const char *type = NULL;
  RQ_TRY(rq__json_get_string(cfg, where, "", "type", &type));
  if (type == NULL) return rq__fail(RQ_ERR_INVALID_ARG, where, "type: missing (the observer class)");
  const rq_observer_class *cls = rq__registry_find(RQ_REGISTRY_OBSERVER, type);
  if (cls == NULL) return rq__fail(RQ_ERR_NOT_FOUND, where, "type: no observer class named \"%s\"", type);
  RQ_TRY(check_keys(cfg, cls, where));
  rq__qscheme qs = {.quant_min = 0, .quant_max = 255, .storage_bits = 8, .eps = FLT_EPSILON};
  if (cls->flags & RQ_OBSERVER_NO_QPARAMS) {
    /* Placeholder-like classes take PyTorch's dtype (often a float type) as
     * a label only; there is no range to compute. */
    const char *dtype = NULL;
    RQ_TRY(rq__json_get_string(cfg, where, "", "dtype", &dtype));
  } else {
    RQ_TRY(rq__qscheme_parse(cfg, where, (cls->flags & RQ_OBSERVER_PER_CHANNEL) != 0, &qs));
  }
  bool ignore_nonfinite = false;
  RQ_TRY(rq__json_get_bool(cfg, where, "", "ignore_nonfinite", &ignore_nonfinite));

  rq_observer *obs = rq__calloc(1, sizeof *obs);
  if (obs == NULL) return rq__nomem(where, sizeof *obs);
  obs->cls = cls;
  obs->qs = qs;
  rq__observer_info_from_qscheme(&qs, &obs->info);
  obs->config = json_incref(cfg);
  obs->ignore_nonfinite = ignore_nonfinite;
  obs->channels = qs.per_channel ? 0 : 1;
  if (cls->state_size > 0) {
    obs->state = rq__calloc(1, cls->state_size);
    if (obs->state == NULL) {
      json_decref(obs->config);
      rq__free(obs);
      return rq__nomem(where, cls->state_size);
    }
  }
  rq_status s = init_state(obs, where);
  if (s != RQ_OK) {
    fini_state(obs);
    json_decref(obs->config);
    rq__free(obs->state);
    rq__free(obs);
    return s;
  }
  *out = obs;
  return RQ_OK;
}

rq_status rq__observer_create_json(json_t *cfg, const char *where, rq_observer **out) {
  return create_from_json(cfg, where, out);
}

rq_status rq_observer_create(const char *config_json, rq_observer **out) {
  RQ_CHECK_NOT_NULL(config_json);
  RQ_CHECK_NOT_NULL(out);
  json_t *cfg = NULL;
  RQ_TRY(rq__json_parse_object(config_json, __func__, &cfg));
  rq_status s = create_from_json(cfg, __func__, out);
  json_decref(cfg);
  return s;
}

void rq_observer_destroy(rq_observer *obs) {
  if (obs == NULL) return;
  fini_state(obs);
  rq__free(obs->state);
  rq__free(obs->scratch);
  json_decref(obs->config);
  rq__free(obs);
}

rq_status rq_observer_reset(rq_observer *obs) {
  RQ_CHECK_NOT_NULL(obs);
  fini_state(obs);
  if (obs->cls->state_size > 0) memset(obs->state, 0, obs->cls->state_size);
  obs->batches = 0;
  obs->channels = obs->qs.per_channel ? 0 : 1;
  /* init already succeeded once with the same arguments; a failure now can
   * only be out-of-memory, reported as such. */
  return init_state(obs, __func__);
}

/* ---- Observation --------------------------------------------------------------------------- */

/* Validates x and computes its element count. */
static rq_status check_tensor(const DLTensor *x, const char *where, size_t *numel) {
  RQ_CHECK_ARG(x->device.device_type == kDLCPU || x->device.device_type == kDLCUDAHost,
               "x: device type %d is not the CPU", (int)x->device.device_type);
  RQ_CHECK_ARG(x->dtype.lanes == 1 &&
                   ((x->dtype.code == kDLFloat && (x->dtype.bits == 32 || x->dtype.bits == 16)) ||
                    (x->dtype.code == kDLBfloat && x->dtype.bits == 16)),
               "x: dtype (code %u, bits %u, lanes %u) is not float32, float16 or bfloat16",
               x->dtype.code, x->dtype.bits, x->dtype.lanes);
  RQ_CHECK_ARG(x->ndim >= 0 && x->ndim <= 32, "x: ndim %d is outside 0..32", x->ndim);
  RQ_CHECK_ARG(x->ndim == 0 || x->shape != NULL, "x: shape is NULL with ndim %d", x->ndim);
  size_t n = 1;
  for (int d = 0; d < x->ndim; d++) {
    RQ_CHECK_ARG(x->shape[d] >= 0, "x: shape[%d] = %lld is negative", d, (long long)x->shape[d]);
    if (!rq__mul_size(n, (size_t)x->shape[d], &n))
      return rq__fail(RQ_ERR_INVALID_ARG, where, "x: element count overflows");
  }
  RQ_CHECK_ARG(n == 0 || x->data != NULL, "x: data is NULL");
  (void)where;
  *numel = n;
  return RQ_OK;
}

static bool is_contiguous(const DLTensor *x) {
  if (x->strides == NULL) return true;
  int64_t expect = 1;
  for (int d = x->ndim - 1; d >= 0; d--) {
    if (x->shape[d] != 1 && x->strides[d] != expect) return false;
    expect *= x->shape[d];
  }
  return true;
}

/* Element offset (in elements) of the i-th element in row-major order. */
static int64_t strided_offset(const DLTensor *x, size_t i) {
  int64_t off = 0;
  for (int d = x->ndim - 1; d >= 0; d--) {
    size_t extent = (size_t)x->shape[d];
    size_t idx = i % extent;
    i /= extent;
    off += (int64_t)idx * x->strides[d];
  }
  return off;
}

/* A contiguous float32 view of x: x's own memory when it already is one,
 * otherwise a converted copy in the observer's scratch buffer. */
static rq_status contiguous_f32(rq_observer *obs, const DLTensor *x, size_t n, const char *where,
                                const float **out) {
  const char *base = (const char *)x->data + x->byte_offset;
  bool contiguous = is_contiguous(x);
  if (x->dtype.code == kDLFloat && x->dtype.bits == 32 && contiguous) {
    *out = (const float *)(const void *)base;
    return RQ_OK;
  }
  if (obs->scratch_capacity < n) {
    float *p = rq__realloc_array(obs->scratch, n, sizeof(float));
    if (p == NULL) return rq__nomem(where, n * sizeof(float));
    obs->scratch = p;
    obs->scratch_capacity = n;
  }
  float *dst = obs->scratch;
  size_t esize = x->dtype.bits / 8;
  for (size_t i = 0; i < n; i++) {
    int64_t off = contiguous ? (int64_t)i : strided_offset(x, i);
    const char *p = base + off * (int64_t)esize;
    if (esize == 4) {
      memcpy(&dst[i], p, 4);
    } else {
      uint16_t h;
      memcpy(&h, p, 2);
      dst[i] = x->dtype.code == kDLBfloat ? rq__bf16_to_f32(h) : rq__f16_to_f32(h);
    }
  }
  *out = dst;
  return RQ_OK;
}

rq__observer_prepass_fn rq__observer_prepass(const rq_observer_class *cls) {
  static const struct {
    const rq_observer_class *cls;
    rq__observer_prepass_fn fn;
  } fused[] = {
      {&rq__histogram_observer_class, rq__histogram_prepass},
  };
  /* By the observe function: the registry holds its own copy of each class. */
  for (size_t i = 0; i < sizeof fused / sizeof fused[0]; i++)
    if (fused[i].cls->observe == cls->observe) return fused[i].fn;
  return NULL;
}

rq_status rq_observer_observe(rq_observer *obs, const DLTensor *x) {
  RQ_CHECK_NOT_NULL(obs);
  RQ_CHECK_NOT_NULL(x);
  size_t n = 0;
  RQ_TRY(check_tensor(x, __func__, &n));
  if (n == 0) return RQ_OK; /* PyTorch returns an empty input untouched */

  rq_observer_batch batch = {sizeof batch, NULL, 1, 1, n, false, INFINITY, -INFINITY};
  if (obs->qs.per_channel) {
    int axis = obs->qs.ch_axis < 0 ? obs->qs.ch_axis + x->ndim : obs->qs.ch_axis;
    RQ_CHECK_ARG(axis >= 0 && axis < x->ndim, "x: ch_axis %d does not exist in a %d-d tensor",
                 (int)obs->qs.ch_axis, x->ndim);
    size_t channels = (size_t)x->shape[axis], outer = 1;
    for (int d = 0; d < axis; d++) outer *= (size_t)x->shape[d];
    RQ_CHECK_ARG(obs->channels == 0 || obs->channels == channels,
                 "x: %zu channels along axis %d, the observer has seen %zu", channels, axis,
                 obs->channels);
    batch.outer = outer;
    batch.channels = channels;
    batch.inner = n / outer / channels;
  }
  RQ_TRY(contiguous_f32(obs, x, n, __func__, &batch.data));

  batch.min = INFINITY;
  batch.max = -INFINITY;
  uint64_t nonfinite = 0;
  rq__observer_prepass_fn prepass = rq__observer_prepass(obs->cls);
  if (prepass != NULL) prepass(obs->state, batch.data, n, &batch.min, &batch.max, &nonfinite);
  else rq__kernels()->minmax[RQ__ELEM_F32](batch.data, n, &batch.min, &batch.max, &nonfinite);
  if (nonfinite > 0) {
    if (!obs->ignore_nonfinite)
      return rq__fail(RQ_ERR_NONFINITE, __func__,
                      "x holds %llu NaN/Inf values of %zu (create the observer with "
                      "\"ignore_nonfinite\": true to skip them)", (unsigned long long)nonfinite, n);
    batch.skip_nonfinite = true;
  }
  rq_error_clear();
  rq_status s = obs->cls->observe(obs->state, &obs->info, &batch);
  if (s != RQ_OK) {
    if (rq_last_error()[0] == '\0') rq__fail(s, __func__, "%s: observe failed", obs->cls->name);
    return s;
  }
  obs->channels = batch.channels;
  obs->batches++;
  return RQ_OK;
}

/* ---- Results ------------------------------------------------------------------------------- */

static rq_status output_room(size_t needed, size_t capacity, const void *a, const void *b,
                             size_t *count, const char *where) {
  *count = needed;
  if (capacity == 0 && a == NULL && b == NULL) return RQ_OK; /* a size query */
  if (a == NULL || b == NULL) return rq__fail(RQ_ERR_INVALID_ARG, where, "an output array is NULL");
  if (capacity < needed)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "capacity %zu is less than the %zu channels", capacity,
                    needed);
  return RQ_OK;
}

/* Runs f(state, info, n, a, b) into temporary arrays of n entries. */
static rq_status with_temp(size_t n, float **a, float **b, const char *where) {
  *a = rq__malloc_array(n, sizeof(float));
  *b = rq__malloc_array(n, sizeof(float));
  if (*a == NULL || *b == NULL) {
    rq__free(*a);
    rq__free(*b);
    return rq__nomem(where, 2 * n * sizeof(float));
  }
  return RQ_OK;
}

rq_status rq_observer_qparams(const rq_observer *obs, float *scale, int32_t *zero_point,
                              size_t capacity, size_t *count) {
  RQ_CHECK_NOT_NULL(obs);
  RQ_CHECK_NOT_NULL(count);
  if (obs->cls->flags & RQ_OBSERVER_NO_QPARAMS)
    return rq__fail(RQ_ERR_UNSUPPORTED, __func__, "%s has no qparams (as in PyTorch)", obs->cls->name);
  size_t n = obs->channels;
  bool observed = n > 0;
  if (observed && obs->cls->qparams == NULL) {
    /* classes report "nothing yet" through minmax */
    float mn, mx;
    if (n == 1) observed = obs->cls->minmax(obs->state, &obs->info, 1, &mn, &mx);
  }
  if (!observed) {
    /* PyTorch's check_min_max_valid fallback: tensor([1.0]), tensor([0]). */
    RQ_TRY(output_room(1, capacity, scale, zero_point, count, __func__));
    if (capacity == 0) return RQ_OK;
    scale[0] = 1.0f;
    zero_point[0] = 0;
    return RQ_OK;
  }
  RQ_TRY(output_room(n, capacity, scale, zero_point, count, __func__));
  if (capacity == 0) return RQ_OK;
  rq_error_clear();
  if (obs->cls->qparams != NULL) {
    /* Write through temporaries so a failing class leaves the outputs alone. */
    float *s = rq__malloc_array(n, sizeof(float));
    int32_t *z = rq__malloc_array(n, sizeof(int32_t));
    if (s == NULL || z == NULL) {
      rq__free(s);
      rq__free(z);
      return rq__nomem(__func__, n * 8);
    }
    rq_status st = obs->cls->qparams(obs->state, &obs->info, n, s, z);
    if (st == RQ_OK) {
      memcpy(scale, s, n * sizeof(float));
      memcpy(zero_point, z, n * sizeof(int32_t));
    } else if (rq_last_error()[0] == '\0') {
      rq__fail(st, __func__, "%s: qparams failed", obs->cls->name);
    }
    rq__free(s);
    rq__free(z);
    return st;
  }
  float *mn, *mx;
  RQ_TRY(with_temp(n, &mn, &mx, __func__));
  rq_status st = RQ_OK;
  if (obs->cls->range != NULL) {
    st = obs->cls->range(obs->state, &obs->info, n, mn, mx);
    if (st != RQ_OK && rq_last_error()[0] == '\0') rq__fail(st, __func__, "%s: range failed", obs->cls->name);
  } else {
    obs->cls->minmax(obs->state, &obs->info, n, mn, mx);
  }
  if (st == RQ_OK) rq__qparams_compute(&obs->qs, mn, mx, n, scale, zero_point);
  rq__free(mn);
  rq__free(mx);
  return st;
}

rq_status rq_observer_minmax(const rq_observer *obs, float *min, float *max, size_t capacity,
                             size_t *count) {
  RQ_CHECK_NOT_NULL(obs);
  RQ_CHECK_NOT_NULL(count);
  if (obs->cls->minmax == NULL)
    return rq__fail(RQ_ERR_UNSUPPORTED, __func__, "%s keeps no min/max", obs->cls->name);
  size_t n = obs->channels;
  if (n == 0) return output_room(0, capacity, min, max, count, __func__);
  RQ_TRY(output_room(n, capacity, min, max, count, __func__));
  if (capacity == 0) return RQ_OK;
  if (!obs->cls->minmax(obs->state, &obs->info, n, min, max)) {
    for (size_t c = 0; c < n; c++) { min[c] = INFINITY; max[c] = -INFINITY; }
  }
  return RQ_OK;
}

rq_status rq_observer_quant_range(const rq_observer *obs, int32_t *quant_min, int32_t *quant_max) {
  RQ_CHECK_NOT_NULL(obs);
  RQ_CHECK_NOT_NULL(quant_min);
  RQ_CHECK_NOT_NULL(quant_max);
  *quant_min = obs->qs.quant_min;
  *quant_max = obs->qs.quant_max;
  return RQ_OK;
}

rq_status rq_observer_channel_axis(const rq_observer *obs, bool *per_channel, int32_t *ch_axis) {
  RQ_CHECK_NOT_NULL(obs);
  RQ_CHECK_NOT_NULL(per_channel);
  RQ_CHECK_NOT_NULL(ch_axis);
  *per_channel = obs->qs.per_channel;
  *ch_axis = obs->qs.per_channel ? obs->qs.ch_axis : 0;
  return RQ_OK;
}

rq_status rq_observer_is_symmetric(const rq_observer *obs, bool *symmetric) {
  RQ_CHECK_NOT_NULL(obs);
  RQ_CHECK_NOT_NULL(symmetric);
  *symmetric = obs->qs.symmetric;
  return RQ_OK;
}

const char *rq_observer_type_name(const rq_observer *obs) {
  if (obs == NULL) {
    rq__fail(RQ_ERR_INVALID_ARG, __func__, "observer is NULL");
    return NULL;
  }
  return obs->cls->name;
}

rq_status rq_observer_recorded(const rq_observer *obs, size_t index, float *data, size_t capacity,
                               size_t *numel, size_t *recorded_count) {
  RQ_CHECK_NOT_NULL(obs);
  RQ_CHECK_NOT_NULL(numel);
  RQ_CHECK_NOT_NULL(recorded_count);
  if (strcmp(obs->cls->name, rq__recording_observer_class.name) != 0)
    return rq__fail(RQ_ERR_UNSUPPORTED, __func__, "%s records no tensors", obs->cls->name);
  return rq__recording_get(obs->state, index, data, capacity, numel, recorded_count);
}

rq_status rq_observer_merge(rq_observer *dst, const rq_observer *src) {
  RQ_CHECK_NOT_NULL(dst);
  RQ_CHECK_NOT_NULL(src);
  RQ_CHECK_ARG(dst != src, "dst and src are the same observer");
  RQ_CHECK_ARG(dst->cls == src->cls, "src is a %s, dst a %s", src->cls->name, dst->cls->name);
  RQ_CHECK_ARG(json_equal(dst->config, src->config), "src and dst were created with different configs");
  if (dst->cls->merge == NULL)
    return rq__fail(RQ_ERR_UNSUPPORTED, __func__, "%s cannot merge", dst->cls->name);
  if (src->batches == 0) return RQ_OK;
  RQ_CHECK_ARG(dst->batches == 0 || dst->channels == src->channels,
               "src has %zu channels, dst %zu", src->channels, dst->channels);
  rq_error_clear();
  rq_status s = dst->cls->merge(dst->state, src->state, &dst->info, src->channels);
  if (s != RQ_OK) {
    if (rq_last_error()[0] == '\0') rq__fail(s, __func__, "%s: merge failed", dst->cls->name);
    return s;
  }
  dst->channels = src->channels;
  dst->batches += src->batches;
  return RQ_OK;
}
