/* SPDX-License-Identifier: Apache-2.0 */
/* A fake-quant plugin: "PowerOfTwoFakeQuantize" fake-quantizes like PyTorch's
 * FakeQuantize but rounds every scale up to a power of two, as hardware that
 * rescales by shifting needs (MQBench's pot_scale, many NPUs). It supplies
 * update_params and forward; razorq's base keeps the observer, the switches,
 * the checks, strides and fp16/bf16, and the default straight-through
 * backward. Build it as a shared object against razorq, load it with
 * rq_plugin_load("libpot_fake_quant.so"), then
 *   rq_fake_quant_create("{\"type\":\"PowerOfTwoFakeQuantize\",\"qdtype\":\"qint8\"}", &fq)
 * works like a built-in class. Optional argument: "max_shift" (default 31),
 * the largest n in 2^-n a scale may become. */
#include <razorq/sys/plugin.h>

#include <math.h>
#include <stdlib.h>

RQ_PLUGIN_DECLARE_ABI;

typedef struct pot_state {
  int max_shift;
} pot_state;

static const char *const pot_params[] = {"max_shift", NULL};

static rq_status pot_init(void *state, const rq_fake_quant_info *info, const rq_observer *observer,
                          const rq_fake_quant_args *args, rq_fake_quant_params *params) {
  (void)info;
  (void)observer;
  (void)params;
  double max_shift = 31;
  rq_status s = rq_fake_quant_args_number(args, "max_shift", 0, 126, &max_shift);
  if (s != RQ_OK) return s;
  ((pot_state *)state)->max_shift = (int)max_shift;
  return RQ_OK;
}

/* The smallest power of two >= s, but not below 2^-max_shift. */
static float pot_ceil(float s, int max_shift) {
  int exponent;
  float mantissa = frexpf(s, &exponent); /* s = mantissa * 2^exponent, mantissa in [0.5, 1) */
  float p = mantissa == 0.5f ? s : ldexpf(1.0f, exponent);
  float floor = ldexpf(1.0f, -max_shift);
  return p < floor ? floor : p;
}

static rq_status pot_update_params(void *state, const rq_fake_quant_info *info,
                                   const rq_observer *observer, const rq_fake_quant_batch *batch,
                                   rq_fake_quant_params *params) {
  (void)info;
  size_t count = 0;
  int32_t *zp = malloc(batch->channels * sizeof *zp);
  if (zp == NULL) return rq_error_set(RQ_ERR_NOMEM, "PowerOfTwoFakeQuantize: out of memory");
  rq_status s = rq_observer_qparams(observer, params->scale, zp, batch->channels, &count);
  if (s == RQ_OK) {
    for (size_t c = 0; c < count; ++c) {
      params->scale[c] = pot_ceil(params->scale[c], ((pot_state *)state)->max_shift);
      params->zero_point[c] = (float)zp[c];
    }
    params->count = count;
  }
  free(zp);
  return s;
}

static rq_status pot_forward(void *state, const rq_fake_quant_info *info,
                             const rq_observer *observer, const rq_fake_quant_batch *b,
                             rq_fake_quant_params *params, float *y) {
  (void)state;
  (void)observer;
  for (size_t o = 0; o < b->outer; ++o)
    for (size_t c = 0; c < b->channels; ++c) {
      float scale = params->scale[c], zero_point = params->zero_point[c];
      size_t at = (o * b->channels + c) * b->inner;
      for (size_t i = 0; i < b->inner; ++i) {
        float q = nearbyintf(b->data[at + i] / scale) + zero_point;
        q = fminf(fmaxf(q, (float)info->quant_min), (float)info->quant_max);
        y[at + i] = (q - zero_point) * scale;
      }
    }
  return RQ_OK;
}

rq_status rq_plugin_init(unsigned abi_major);
rq_status rq_plugin_init(unsigned abi_major) {
  (void)abi_major;
  rq_fake_quant_class cls = {
      .struct_size = sizeof cls,
      .abi_major = RQ_ABI_MAJOR,
      .name = "PowerOfTwoFakeQuantize",
      .params = pot_params,
      .state_size = sizeof(pot_state),
      .default_observer = "MovingAverageMinMaxObserver",
      .init = pot_init,
      .update_params = pot_update_params,
      .forward = pot_forward,
  };
  return rq_register_fake_quant(&cls);
}
