/* SPDX-License-Identifier: Apache-2.0 */
/* Fake-quants: quantize-dequantize in float, forward and backward. */
#ifndef RAZORQ_FAKEQUANT_H
#define RAZORQ_FAKEQUANT_H

#include <razorq/common.h>
#include <razorq/status.h>
#include <razorq/observer.h>

RQ_EXTERN_C_BEGIN

/* One fake-quant instance (FakeQuantize, LearnableFakeQuantize, ...). Opaque;
 * a handle is not thread-safe, distinct handles are. */
typedef struct rq_fake_quant rq_fake_quant;

/* MMRazor's LearnableFakeQuantize modes (mmrazor/models/fake_quants/lsq.py):
 *                               learn scale/zp  fake-quant  observer
 *   RQ_FQ_PARAM_LEARNING          yes             on          off
 *   RQ_FQ_STATIC_ESTIMATE         no              on          on   (the initial mode)
 *   RQ_FQ_VAL                     no              on          off
 *   RQ_FQ_STATIC_OBSERVATION      no              off         on
 * The values are ABI. */
typedef enum rq_fake_quant_learning_mode {
  RQ_FQ_PARAM_LEARNING = 1,     /* enable_param_learning */
  RQ_FQ_STATIC_ESTIMATE = 2,    /* enable_static_estimate */
  RQ_FQ_VAL = 3,                /* enable_val */
  RQ_FQ_STATIC_OBSERVATION = 4, /* enable_static_observation */
} rq_fake_quant_learning_mode;

/* Creates a fake-quant from a JSON object:
 *   "type"      the class, with or without the prefixes "mmrazor.",
 *               "torch.ao.quantization.", "torch.quantization.":
 *               FakeQuantize, FixedQParamsFakeQuantize,
 *               FusedMovingAvgObsFakeQuantize, LearnableFakeQuantize, or a
 *               registered plugin class;
 *   "observer"  an observer config object as rq_observer_create takes it
 *               (default MovingAverageMinMaxObserver for FakeQuantize and
 *               FusedMovingAvgObsFakeQuantize; required for the others);
 *   qscheme keys (qdtype, bit, is_symmetry, is_symmetric_range, ...) and any
 *               other key the class does not know are passed on to the
 *               observer, as MMRazor passes them through the fake-quant;
 *   class keys  LearnableFakeQuantize: "scale" (initial, 1.0), "zero_point"
 *               (0.0), "use_grad_scaling" (true), "zero_point_trainable" (false).
 * A key unknown to both the class and the observer is RQ_ERR_INVALID_ARG
 * naming it; an unknown type is RQ_ERR_NOT_FOUND. Observer and fake-quant
 * start enabled (PyTorch's default). See doc/fakequant.md. */
RQ_API rq_status rq_fake_quant_create(const char *config_json, rq_fake_quant **out);

/* Destroys the fake-quant and its observer; NULL is a no-op. */
RQ_API void rq_fake_quant_destroy(rq_fake_quant *fq);

/* The class name without prefix ("FakeQuantize"); NULL for NULL. */
RQ_API const char *rq_fake_quant_type_name(const rq_fake_quant *fq);

/* One training/calibration step, PyTorch's forward: when the observer is on,
 * it sees x and the fake-quant's scale/zero point are refreshed from it; when
 * fake-quant is on, y = (clamp(round(x / s) + z, qmin, qmax) - z) * s, else
 * y = x. x: float32, float16 or bfloat16 on the CPU, any strides. y: float32,
 * same shape, any strides; it may be x itself when x is float32. Per-channel
 * fake-quants quantize along the observer's ch_axis. Non-finite x is refused
 * with RQ_ERR_NONFINITE and changes nothing, unless the observer was created
 * with "ignore_nonfinite": true: then the observer skips NaN/Inf and they are
 * fake-quantized as PyTorch's x86 kernel does (NaN becomes quant_min's value).
 * More than 32 dimensions: RQ_ERR_UNSUPPORTED. */
RQ_API rq_status rq_fake_quant_forward(rq_fake_quant *fq, const DLTensor *x, DLTensor *y);

/* Gradients of the last forward's computation at x, for the upstream gradient
 * dy (float32, x's shape): dx (float32, x's shape, may alias dy) gets the
 * straight-through gradient (dy inside [qmin, qmax], 0 outside; dy itself
 * when fake-quant is off). dscale / dzero_point receive one value per
 * scale (1, or the channel count; see rq_fake_quant_get_params) for the
 * learnable parameters: LearnableFakeQuantize while learning (zero point only
 * with "zero_point_trainable"), following PyTorch's
 * _fake_quantize_learnable_per_{tensor,channel}_affine backward. They may be
 * NULL for a parameter that is not being learned and are then left alone;
 * a non-NULL array for a parameter that is not being learned is filled with
 * zeros. No state changes. */
RQ_API rq_status rq_fake_quant_backward(rq_fake_quant *fq, const DLTensor *x, const DLTensor *dy,
                                        DLTensor *dx, float *dscale, float *dzero_point);

/* PyTorch's switches: enable_observer/disable_observer and
 * enable_fake_quant/disable_fake_quant in one call. For LearnableFakeQuantize
 * the observer switch is MMRazor's static estimate; learning is unchanged. */
RQ_API rq_status rq_fake_quant_set_mode(rq_fake_quant *fq, bool observer_on, bool fake_quant_on);

/* The current switches; any out pointer may be NULL. learning_on is true only
 * for a learnable fake-quant in RQ_FQ_PARAM_LEARNING. */
RQ_API rq_status rq_fake_quant_get_mode(const rq_fake_quant *fq, bool *observer_on,
                                        bool *fake_quant_on, bool *learning_on);

/* MMRazor's modes for LearnableFakeQuantize (RQ_ERR_UNSUPPORTED for classes
 * without learnable parameters). */
RQ_API rq_status rq_fake_quant_set_learning_mode(rq_fake_quant *fq,
                                                 rq_fake_quant_learning_mode mode);

/* The observer (borrowed: valid until rq_fake_quant_destroy). */
RQ_API rq_observer *rq_fake_quant_observer(rq_fake_quant *fq);

/* The integer range [quant_min, quant_max] the fake-quant targets. */
RQ_API rq_status rq_fake_quant_quant_range(const rq_fake_quant *fq, int32_t *quant_min,
                                           int32_t *quant_max);

/* Per channel or not, and the channel axis (as configured; 0 per tensor). */
RQ_API rq_status rq_fake_quant_channel_axis(const rq_fake_quant *fq, bool *per_channel,
                                            int32_t *ch_axis);

/* PyTorch's calculate_qparams(): what conversion to a quantized model uses.
 * FakeQuantize, FixedQParams and FusedMovingAvgObs: the observer's qparams
 * (for the fused one these can differ from the ones its forward applied, as
 * in PyTorch); LearnableFakeQuantize: the learned scale (at least eps) and the
 * zero point rounded half to even and clamped to the range. *count receives
 * how many there are; capacity < *count writes nothing and is
 * RQ_ERR_INVALID_ARG (capacity 0 with NULL arrays asks for the count). */
RQ_API rq_status rq_fake_quant_qparams(const rq_fake_quant *fq, float *scale, int32_t *zero_point,
                                       size_t capacity, size_t *count);

/* The scale and zero point the forward applies (PyTorch's scale/zero_point
 * buffers or, for LearnableFakeQuantize, parameters; zero points as float
 * because learned ones are). 1 entry per tensor, the channel count per
 * channel once known (1 before the first observation). Same capacity rules
 * as rq_fake_quant_qparams. */
RQ_API rq_status rq_fake_quant_get_params(const rq_fake_quant *fq, float *scale, float *zero_point,
                                          size_t capacity, size_t *count);

/* Replaces them, e.g. after an optimizer step on the gradients of
 * rq_fake_quant_backward. count must be 1 per tensor; per channel it must match
 * the channel count once one is known (and then becomes it). Scales must be
 * finite and > 0 (LearnableFakeQuantize: finite; its forward clamps them to
 * eps), zero points finite and, except for learnable ones, integers inside
 * the range. zero_point may be NULL to keep the current ones. */
RQ_API rq_status rq_fake_quant_set_params(rq_fake_quant *fq, const float *scale,
                                          const float *zero_point, size_t count);

RQ_EXTERN_C_END

#endif
