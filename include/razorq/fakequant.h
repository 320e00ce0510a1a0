/* SPDX-License-Identifier: Apache-2.0 */
/* Fake-quants: quantize-dequantize in float, forward and backward. */
#ifndef RAZORQ_FAKEQUANT_H
#define RAZORQ_FAKEQUANT_H

#include <razorq/common.h>
#include <razorq/status.h>
#include <razorq/observer.h>

RQ_EXTERN_C_BEGIN

/* One fake-quant instance (FakeQuantize, LearnableFakeQuantize, ...). Opaque. */
typedef struct rq_fake_quant rq_fake_quant;

RQ_EXTERN_C_END

#endif
