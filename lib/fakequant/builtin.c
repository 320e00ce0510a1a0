/* SPDX-License-Identifier: Apache-2.0 */
/* The built-in fake-quant classes: PyTorch 1.13's FakeQuantize,
 * FixedQParamsFakeQuantize and FusedMovingAvgObsFakeQuantize, and MMRazor's
 * LearnableFakeQuantize (LSQ / LSQ+) and AdaRoundFakeQuantize. Each is a
 * class table like a plugin's; the base (fakequant.c) does observers, modes,
 * checks and tensor layouts. */
#include "fakequant/fakequant_internal.h"
#include "kernels/kernels.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* ---- FakeQuantize ------------------------------------------------------------------ */

/* The params as the integer zero points PyTorch's buffers hold. */
static void params_int_zero_points(const rq_fake_quant_params *p, int32_t *zp) {
  for (size_t c = 0; c < p->count; ++c) zp[c] = (int32_t)p->zero_point[c];
}

/* torch.fake_quantize_per_{tensor,channel}_affine with integer zero points; a
 * mask for the straight-through backward when mask != NULL. */
static rq_status fake_quant_int(const rq_fake_quant_info *info, const rq_fake_quant_batch *b,
                                const float *scale, const int32_t *zp, float *y, uint8_t *mask) {
  const struct rq__kernels *k = rq__kernels();
  if (!info->per_channel)
    k->fake_quant[RQ__ELEM_F32](b->data, y, mask, b->outer * b->channels * b->inner, scale[0],
                                zp[0], info->quant_min, info->quant_max);
  else
    k->fake_quant_channels[RQ__ELEM_F32](b->data, y, mask, b->outer, b->channels, b->inner,
                                         scale, zp, info->quant_min, info->quant_max);
  return RQ_OK;
}

/* Scratch for the per-channel integer zero points. */
static int32_t *alloc_zp(size_t count, const char *where) {
  int32_t *zp = rq__malloc_array(count, sizeof *zp);
  if (zp == NULL) rq__nomem(where, count * sizeof *zp);
  return zp;
}

static rq_status fq_forward(void *state, const rq_fake_quant_info *info,
                            const rq_observer *observer, const rq_fake_quant_batch *b,
                            rq_fake_quant_params *p, float *y) {
  (void)state;
  (void)observer;
  int32_t *zp = alloc_zp(p->count, "rq_fake_quant_forward");
  if (zp == NULL) return RQ_ERR_NOMEM;
  params_int_zero_points(p, zp);
  rq_status s = fake_quant_int(info, b, p->scale, zp, y, NULL);
  rq__free(zp);
  return s;
}

/* The default backward: dY * mask, the mask of the same integer formula. */
static rq_status fq_backward(void *state, const rq_fake_quant_info *info,
                             const rq_fake_quant_batch *b, const rq_fake_quant_params *p,
                             const float *dy, float *dx, double *dscale, double *dzero_point) {
  (void)state;
  (void)dscale;
  (void)dzero_point;
  size_t n = b->outer * b->channels * b->inner;
  int32_t *zp = alloc_zp(p->count, "rq_fake_quant_backward");
  float *scratch = rq__malloc_array(n ? n : 1, sizeof *scratch);
  uint8_t *mask = rq__malloc(n ? n : 1);
  rq_status s = RQ_OK;
  if (zp == NULL || scratch == NULL || mask == NULL) {
    s = rq__nomem("rq_fake_quant_backward", n * (sizeof *scratch + 1));
  } else {
    params_int_zero_points(p, zp);
    fake_quant_int(info, b, p->scale, zp, scratch, mask);
    rq__kernels()->ste_backward(dy, mask, dx, n);
  }
  rq__free(zp);
  rq__free(scratch);
  rq__free(mask);
  return s;
}

const rq_fake_quant_class rq__fq_fake_quantize = {
    .struct_size = sizeof(rq_fake_quant_class),
    .abi_major = RQ_ABI_MAJOR,
    .name = "FakeQuantize",
    .default_observer = "MovingAverageMinMaxObserver",
    .forward = fq_forward,
    .backward = fq_backward,
};

/* ---- AdaRoundFakeQuantize (MMRazor) ------------------------------------------------ */

/* A FakeQuantize by itself (round to nearest). Its name marks a weight whose
 * rounding a quantization session learns at convert (AdaRound,
 * lib/session/adaround.c), as MMRazor's class marks the weights its
 * reconstruction loop optimizes; the session then stores the learned
 * rounding in the weight, which this fake-quant leaves unchanged. */
const rq_fake_quant_class rq__fq_adaround = {
    .struct_size = sizeof(rq_fake_quant_class),
    .abi_major = RQ_ABI_MAJOR,
    .name = "AdaRoundFakeQuantize",
    .default_observer = "PerChannelMinMaxObserver",
    .forward = fq_forward,
    .backward = fq_backward,
};

/* ---- FixedQParamsFakeQuantize ----------------------------------------------------- */

static rq_status fixed_init(void *state, const rq_fake_quant_info *info,
                            const rq_observer *observer, const rq_fake_quant_args *args,
                            rq_fake_quant_params *params) {
  (void)state;
  (void)args;
  const char *type = rq_observer_type_name(observer);
  if (type == NULL || strcmp(type, "FixedQParamsObserver") != 0)
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_fake_quant_create",
                    "observer: FixedQParamsFakeQuantize's observer must be a "
                    "FixedQParamsObserver, not %s", type ? type : "(none)");
  if (info->per_channel)
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_fake_quant_create",
                    "observer: FixedQParamsFakeQuantize supports per-tensor qparams only");
  /* PyTorch's constructor takes the observer's scale/zero_point as its own. */
  int32_t zp;
  size_t count;
  RQ_TRY(rq_observer_qparams(observer, params->scale, &zp, 1, &count));
  params->zero_point[0] = (float)zp;
  return RQ_OK;
}

const rq_fake_quant_class rq__fq_fixed_qparams = {
    .struct_size = sizeof(rq_fake_quant_class),
    .abi_major = RQ_ABI_MAJOR,
    .name = "FixedQParamsFakeQuantize",
    .init = fixed_init,
    .forward = fq_forward,
    .backward = fq_backward,
};

/* ---- FusedMovingAvgObsFakeQuantize ------------------------------------------------ */

void rq__fq_choose_qparams(float min, float max, int32_t qmin, int32_t qmax,
                           bool preserve_sparsity, float *scale_out, int32_t *zero_point_out) {
  const float small_scale_threshold = 6.1e-5f;
  if (min < 0 && max > 0 && preserve_sparsity) {
    int symmetric_qmin = -((qmax - qmin) / 2 + 1);
    int symmetric_qmax = (qmax - qmin) / 2;
    double max_scale = fmax(fabs(min / (double)symmetric_qmin),
                            fabs(max / (double)symmetric_qmax));
    /* In PyTorch min/max are float variables: these assignments round. */
    min = (float)(max_scale * symmetric_qmin);
    max = (float)(max_scale * symmetric_qmax);
  }
  min = fminf(min, 0.f);
  max = fmaxf(max, 0.f);
  double scale = ((double)max - min) / (qmax - qmin);
  if ((float)scale == 0.0f || isinf(1.0f / (float)scale)) scale = 0.1;
  if (scale < small_scale_threshold) {
    float org_scale = (float)scale;
    scale = small_scale_threshold;
    if (min == 0.0f) {
      max = small_scale_threshold * (float)(qmax - qmin);
    } else if (max == 0.0f) {
      min = -small_scale_threshold * (float)(qmax - qmin);
    } else {
      float amplifier = small_scale_threshold / org_scale;
      min *= amplifier;
      max *= amplifier;
    }
  }
  double zero_point_from_min = qmin - min / scale;
  double zero_point_from_max = qmax - max / scale;
  double zero_point_from_min_error = fabs((double)qmin) - fabs(min / scale);
  double zero_point_from_max_error = fabs((double)qmax) - fabs(max / scale);
  double initial_zero_point = zero_point_from_min_error < zero_point_from_max_error
                                  ? zero_point_from_min
                                  : zero_point_from_max;
  if (min < 0 && max > 0 && preserve_sparsity)
    initial_zero_point = (double)(qmin + qmax) / 2;
  int32_t nudged;
  if (initial_zero_point < qmin)
    nudged = qmin;
  else if (initial_zero_point > qmax)
    nudged = qmax;
  else
    nudged = (int32_t)nearbyint(initial_zero_point);
  *scale_out = (float)scale;
  *zero_point_out = nudged;
}

static rq_status fused_init(void *state, const rq_fake_quant_info *info,
                            const rq_observer *observer, const rq_fake_quant_args *args,
                            rq_fake_quant_params *params) {
  (void)state;
  (void)args;
  (void)params;
  const char *type = rq_observer_type_name(observer);
  if (type == NULL || (strcmp(type, "MovingAverageMinMaxObserver") != 0 &&
                       strcmp(type, "MovingAveragePerChannelMinMaxObserver") != 0))
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_fake_quant_create",
                    "observer: FusedMovingAvgObsFakeQuantize only works with "
                    "MovingAverage(PerChannel)MinMaxObserver, not %s", type ? type : "(none)");
  if (info->per_channel && info->ch_axis != 0)
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_fake_quant_create",
                    "observer.ch_axis: FusedMovingAvgObsFakeQuantize supports per-channel on "
                    "axis 0 only, got %d", (int)info->ch_axis);
  return RQ_OK;
}

/* The fused op keeps its own scale/zero point: refreshed from the running
 * min/max whenever it fake-quantizes, not when it only observes. */
static rq_status fused_update_params(void *state, const rq_fake_quant_info *info,
                                     const rq_observer *observer,
                                     const rq_fake_quant_batch *batch,
                                     rq_fake_quant_params *params) {
  (void)state;
  (void)info;
  (void)observer;
  (void)batch;
  (void)params;
  return RQ_OK;
}

static rq_status fused_forward(void *state, const rq_fake_quant_info *info,
                               const rq_observer *observer, const rq_fake_quant_batch *b,
                               rq_fake_quant_params *p, float *y) {
  const char *where = "rq_fake_quant_forward";
  size_t channels = b->channels, count = 0;
  float *mins = rq__malloc_array(channels, 2 * sizeof *mins);
  if (mins == NULL) return rq__nomem(where, channels * 2 * sizeof *mins);
  float *maxs = mins + channels;
  rq_status s = rq_observer_minmax(observer, mins, maxs, channels, &count);
  if (s == RQ_OK && count != channels)
    s = rq__fail(RQ_ERR_STATE, where, "the observer has %zu channel statistics, x has %zu "
                 "channels: observe with the observer on first", count, channels);
  for (size_t c = 0; s == RQ_OK && c < channels; ++c)
    if (!(mins[c] <= maxs[c]))
      s = rq__fail(RQ_ERR_STATE, where, "the observer has seen no data: observe with the "
                   "observer on first");
  if (s == RQ_OK) {
    for (size_t c = 0; c < channels; ++c) {
      int32_t zp;
      rq__fq_choose_qparams(mins[c], maxs[c], info->quant_min, info->quant_max,
                            info->symmetric, &p->scale[c], &zp);
      p->zero_point[c] = (float)zp;
    }
    p->count = channels;
    s = fq_forward(state, info, observer, b, p, y);
  }
  rq__free(mins);
  return s;
}

const rq_fake_quant_class rq__fq_fused_moving_avg = {
    .struct_size = sizeof(rq_fake_quant_class),
    .abi_major = RQ_ABI_MAJOR,
    .name = "FusedMovingAvgObsFakeQuantize",
    .default_observer = "MovingAverageMinMaxObserver",
    .init = fused_init,
    .update_params = fused_update_params,
    .forward = fused_forward,
    .backward = fq_backward,
};

/* ---- LearnableFakeQuantize (MMRazor) ----------------------------------------------- */

typedef struct learnable_state {
  bool use_grad_scaling;
  bool zero_point_trainable;
} learnable_state;

static const char *const learnable_params[] = {"scale", "zero_point", "use_grad_scaling",
                                               "zero_point_trainable", NULL};

static rq_status learnable_init(void *state, const rq_fake_quant_info *info,
                                const rq_observer *observer, const rq_fake_quant_args *args,
                                rq_fake_quant_params *params) {
  (void)info;
  (void)observer;
  learnable_state *st = state;
  st->use_grad_scaling = true;
  st->zero_point_trainable = false;
  double scale = 1.0, zero_point = 0.0;
  RQ_TRY(rq_fake_quant_args_number(args, "scale", -FLT_MAX, FLT_MAX, &scale));
  RQ_TRY(rq_fake_quant_args_number(args, "zero_point", -FLT_MAX, FLT_MAX, &zero_point));
  RQ_TRY(rq_fake_quant_args_bool(args, "use_grad_scaling", &st->use_grad_scaling));
  RQ_TRY(rq_fake_quant_args_bool(args, "zero_point_trainable", &st->zero_point_trainable));
  params->scale[0] = (float)scale;
  params->zero_point[0] = (float)zero_point;
  return RQ_OK;
}

/* The scale floor of MMRazor's forward and calculate_qparams. */
static void clamp_scales(rq_fake_quant_params *p) {
  for (size_t c = 0; c < p->count; ++c)
    if (!(p->scale[c] >= FLT_EPSILON)) p->scale[c] = FLT_EPSILON;
}

/* Zero point of the learnable forward: round half to even, then clamp. */
static int32_t rounded_zero_point(float zp, const rq_fake_quant_info *info) {
  float r = fminf(fmaxf(nearbyintf(zp), (float)info->quant_min), (float)info->quant_max);
  return (int32_t)r;
}

static rq_status learnable_forward(void *state, const rq_fake_quant_info *info,
                                   const rq_observer *observer, const rq_fake_quant_batch *b,
                                   rq_fake_quant_params *p, float *y) {
  (void)state;
  (void)observer;
  int32_t *zp = alloc_zp(p->count, "rq_fake_quant_forward");
  if (zp == NULL) return RQ_ERR_NOMEM;
  clamp_scales(p);
  for (size_t c = 0; c < p->count; ++c) zp[c] = rounded_zero_point(p->zero_point[c], info);
  rq_status s = fake_quant_int(info, b, p->scale, zp, y, NULL);
  rq__free(zp);
  return s;
}

static rq_status learnable_backward(void *state, const rq_fake_quant_info *info,
                                    const rq_fake_quant_batch *b, const rq_fake_quant_params *p,
                                    const float *dy, float *dx, double *dscale,
                                    double *dzero_point) {
  const learnable_state *st = state;
  size_t numel = b->outer * b->channels * b->inner;
  /* PyTorch's gradient kernel (fake_quantize_learnable_*_grad_kernel_cpu) */
  void (*lsq_backward)(const float *, const float *, float *, size_t, float, int32_t, int32_t,
                       int32_t, float, double *, double *) = rq__kernels()->lsq_backward;
  /* MMRazor: 1 / sqrt(numel * quant_max) in double, handed to the float kernel. */
  float grad_factor =
      st->use_grad_scaling ? (float)(1.0 / pow((double)numel * info->quant_max, 0.5)) : 1.0f;
  for (size_t c = 0; c < b->channels; ++c) {
    /* The two PyTorch backward ops round a learned zero point differently:
     * per tensor _get_zero_point_from_tensor(is_forward=false) adds 0.5,
     * clamps and truncates; per channel _get_rounded_zero_point rounds half
     * to even and clamps (as both forwards do). */
    int32_t zp;
    if (!info->per_channel) {
      float z = fminf(fmaxf(p->zero_point[c] + 0.5f, (float)info->quant_min),
                      (float)info->quant_max);
      zp = (int32_t)z;
    } else {
      zp = rounded_zero_point(p->zero_point[c], info);
    }
    double ds = 0.0, dz = 0.0;
    for (size_t o = 0; o < b->outer; ++o) {
      size_t at = (o * b->channels + c) * b->inner;
      lsq_backward(b->data + at, dy + at, dx + at, b->inner, p->scale[c], zp, info->quant_min,
                   info->quant_max, grad_factor, &ds, &dz);
    }
    if (dscale) dscale[c] += ds;
    if (dzero_point) dzero_point[c] += dz;
  }
  return RQ_OK;
}

static rq_status learnable_qparams(const void *state, const rq_fake_quant_info *info,
                                   const rq_observer *observer, const rq_fake_quant_params *p,
                                   float *scale, int32_t *zero_point) {
  (void)state;
  (void)observer;
  for (size_t c = 0; c < p->count; ++c) {
    scale[c] = p->scale[c] >= FLT_EPSILON ? p->scale[c] : FLT_EPSILON;
    zero_point[c] = rounded_zero_point(p->zero_point[c], info);
  }
  return RQ_OK;
}

static bool learnable_zero_point_learnable(const void *state) {
  return ((const learnable_state *)state)->zero_point_trainable;
}

const rq_fake_quant_class rq__fq_learnable = {
    .struct_size = sizeof(rq_fake_quant_class),
    .abi_major = RQ_ABI_MAJOR,
    .name = "LearnableFakeQuantize",
    .params = learnable_params,
    .flags = RQ_FAKE_QUANT_LEARNABLE,
    .state_size = sizeof(learnable_state),
    .init = learnable_init,
    .forward = learnable_forward,
    .backward = learnable_backward,
    .qparams = learnable_qparams,
    .zero_point_learnable = learnable_zero_point_learnable,
};
