/* SPDX-License-Identifier: Apache-2.0 */
/* Fake-quants inside the library: the class registry, the built-in classes and
 * the PyTorch arithmetic they share. Never installed. */
#ifndef RQ_FAKEQUANT_FAKEQUANT_INTERNAL_H
#define RQ_FAKEQUANT_FAKEQUANT_INTERNAL_H

#include "core/core.h"

#include <razorq/sys/fakequant_plugin.h>

/* The registered class called `name`, with or without the prefixes
 * "mmrazor.", "torch.ao.quantization.", "torch.quantization."; NULL if none.
 * The pointer (the registry's zero-extended copy) stays valid for the life of
 * the process. */
const rq_fake_quant_class *rq__fake_quant_class_find(const char *name);

/* The built-in classes (builtin.c). */
extern const rq_fake_quant_class rq__fq_fake_quantize;
extern const rq_fake_quant_class rq__fq_fixed_qparams;
extern const rq_fake_quant_class rq__fq_fused_moving_avg;
extern const rq_fake_quant_class rq__fq_learnable;
extern const rq_fake_quant_class rq__fq_adaround;

/* PyTorch's quant_utils::ChooseQuantizationParams (the fused op's qparams,
 * different from the Python observers' formula): double intermediates, the
 * 6.1e-5 small-scale floor, zero point from whichever range end adds the
 * smaller error; preserve_sparsity = symmetric. Requires min <= max. */
void rq__fq_choose_qparams(float min, float max, int32_t qmin, int32_t qmax,
                           bool preserve_sparsity, float *scale, int32_t *zero_point);

#endif
