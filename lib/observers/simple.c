/* SPDX-License-Identifier: Apache-2.0 */
/* PyTorch's observers without a statistic: FixedQParamsObserver (qparams
 * given), PlaceholderObserver, NoopObserver and ReuseInputObserver (no
 * qparams; they carry configuration), RecordingObserver (keeps every batch,
 * for debugging). */
#include "observers/observers.h"

#include <string.h>

/* ---- FixedQParamsObserver ---------------------------------------------------------- */

typedef struct fixed_state {
  float scale;
  int32_t zero_point;
} fixed_state;

static rq_status fixed_init(void *state, const rq_observer_info *info, const rq_observer_args *args) {
  fixed_state *s = state;
  double scale = -1.0;
  int64_t zp = INT64_MIN;
  RQ_TRY(rq_observer_args_number(args, "scale", 0.0, 3.4e38, &scale));
  RQ_TRY(rq_observer_args_int(args, "zero_point", info->quant_min, info->quant_max, &zp));
  if (scale <= 0.0) return rq_error_set(RQ_ERR_INVALID_ARG, "FixedQParamsObserver: scale: required, > 0");
  if (zp == INT64_MIN) return rq_error_set(RQ_ERR_INVALID_ARG, "FixedQParamsObserver: zero_point: required");
  s->scale = (float)scale; /* torch.tensor([scale], dtype=torch.float) */
  s->zero_point = (int32_t)zp;
  return RQ_OK;
}

static rq_status nothing_observe(void *state, const rq_observer_info *info, const rq_observer_batch *b) {
  (void)state;
  (void)info;
  (void)b;
  return RQ_OK;
}

static rq_status fixed_qparams(const void *state, const rq_observer_info *info, size_t n, float *scale,
                               int32_t *zero_point) {
  (void)info;
  (void)n;
  const fixed_state *s = state;
  scale[0] = s->scale;
  zero_point[0] = s->zero_point;
  return RQ_OK;
}

static rq_status nothing_merge(void *d, const void *s, const rq_observer_info *info, size_t n) {
  (void)d;
  (void)s;
  (void)info;
  (void)n;
  return RQ_OK;
}

static rq_status nothing_save(const void *state, const rq_observer_info *info, rq_observer_stats *out) {
  (void)state;
  (void)info;
  (void)out;
  return RQ_OK;
}

static rq_status nothing_load(void *state, const rq_observer_info *info, const rq_observer_stats *in) {
  (void)state;
  (void)info;
  (void)in;
  return RQ_OK;
}

static const char *const fixed_params[] = {"scale", "zero_point", NULL};

const rq_observer_class rq__fixed_qparams_observer_class = {
  .struct_size = sizeof(rq_observer_class),
  .abi_major = RQ_ABI_MAJOR,
  .name = "FixedQParamsObserver",
  .params = fixed_params,
  .state_size = sizeof(fixed_state),
  .init = fixed_init,
  .observe = nothing_observe,
  .qparams = fixed_qparams,
  .merge = nothing_merge,
  .save = nothing_save, /* the qparams live in the config, which is saved */
  .load = nothing_load,
};

/* ---- Placeholder, Noop, ReuseInput --------------------------------------------------------- */

static const char *const placeholder_params[] = {"custom_op_name", "compute_dtype", NULL};
static const char *const noop_params[] = {"custom_op_name", NULL};

#define NOTHING_CLASS(var, cname, cparams)   \
  const rq_observer_class var = {            \
    .struct_size = sizeof(rq_observer_class), \
    .abi_major = RQ_ABI_MAJOR,               \
    .name = cname,                           \
    .params = cparams,                       \
    .flags = RQ_OBSERVER_NO_QPARAMS,         \
    .observe = nothing_observe,              \
    .merge = nothing_merge,                  \
    .save = nothing_save,                    \
    .load = nothing_load,                    \
  }

NOTHING_CLASS(rq__placeholder_observer_class, "PlaceholderObserver", placeholder_params);
NOTHING_CLASS(rq__noop_observer_class, "NoopObserver", noop_params);
NOTHING_CLASS(rq__reuse_input_observer_class, "ReuseInputObserver", NULL);

/* ---- RecordingObserver ---------------------------------------------------------------------- */

typedef struct recording_state {
  float **tensors;
  size_t *sizes;
  size_t count, capacity;
} recording_state;

static void recording_fini(void *state) {
  recording_state *s = state;
  for (size_t i = 0; i < s->count; i++) rq__free(s->tensors[i]);
  rq__free(s->tensors);
  rq__free(s->sizes);
  memset(s, 0, sizeof *s);
}

static rq_status recording_push(recording_state *s, const float *data, size_t n) {
  if (s->count == s->capacity) {
    size_t cap = s->capacity ? 2 * s->capacity : 8;
    float **t = rq__realloc_array(s->tensors, cap, sizeof *t);
    if (t == NULL) return rq__nomem("RecordingObserver", cap * sizeof *t);
    s->tensors = t;
    size_t *z = rq__realloc_array(s->sizes, cap, sizeof *z);
    if (z == NULL) return rq__nomem("RecordingObserver", cap * sizeof *z);
    s->sizes = z;
    s->capacity = cap;
  }
  float *copy = rq__malloc_array(n, sizeof(float));
  if (copy == NULL) return rq__nomem("RecordingObserver", n * sizeof(float));
  memcpy(copy, data, n * sizeof(float));
  s->tensors[s->count] = copy;
  s->sizes[s->count] = n;
  s->count++;
  return RQ_OK;
}

static rq_status recording_observe(void *state, const rq_observer_info *info, const rq_observer_batch *b) {
  (void)info;
  return recording_push(state, b->data, b->outer * b->channels * b->inner);
}

rq_status rq__recording_get(const void *state, size_t index, float *data, size_t capacity,
                            size_t *numel, size_t *recorded_count) {
  const recording_state *s = state;
  *recorded_count = s->count;
  if (index >= s->count) {
    *numel = 0;
    if (s->count == 0 && index == 0 && data == NULL) return RQ_OK;
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_observer_recorded", "index %zu: %zu tensors recorded",
                    index, s->count);
  }
  *numel = s->sizes[index];
  if (data == NULL) return RQ_OK;
  if (capacity < s->sizes[index])
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_observer_recorded", "capacity %zu is less than %zu",
                    capacity, s->sizes[index]);
  memcpy(data, s->tensors[index], s->sizes[index] * sizeof(float));
  return RQ_OK;
}

/* All or nothing: room and copies are made first, then appended. */
static rq_status recording_merge(void *dst, const void *src, const rq_observer_info *info, size_t n) {
  (void)info;
  (void)n;
  recording_state *d = dst;
  const recording_state *s = src;
  if (s->count == 0) return RQ_OK;
  size_t need = d->count + s->count;
  if (need > d->capacity) {
    float **t = rq__realloc_array(d->tensors, need, sizeof *t);
    if (t == NULL) return rq__nomem("RecordingObserver", need * sizeof *t);
    d->tensors = t;
    size_t *z = rq__realloc_array(d->sizes, need, sizeof *z);
    if (z == NULL) return rq__nomem("RecordingObserver", need * sizeof *z);
    d->sizes = z;
    d->capacity = need;
  }
  for (size_t i = 0; i < s->count; i++) {
    float *copy = rq__malloc_array(s->sizes[i], sizeof(float));
    if (copy == NULL) {
      for (size_t j = 0; j < i; j++) rq__free(d->tensors[d->count + j]);
      return rq__nomem("RecordingObserver", s->sizes[i] * sizeof(float));
    }
    memcpy(copy, s->tensors[i], s->sizes[i] * sizeof(float));
    d->tensors[d->count + i] = copy;
    d->sizes[d->count + i] = s->sizes[i];
  }
  d->count = need;
  return RQ_OK;
}

const rq_observer_class rq__recording_observer_class = {
  .struct_size = sizeof(rq_observer_class),
  .abi_major = RQ_ABI_MAJOR,
  .name = "RecordingObserver",
  .flags = RQ_OBSERVER_NO_QPARAMS,
  .state_size = sizeof(recording_state),
  .fini = recording_fini,
  .observe = recording_observe,
  .merge = recording_merge,
};
