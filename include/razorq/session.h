/* SPDX-License-Identifier: Apache-2.0 */
/* Quantizers and quantization sessions: prepare, calibrate, convert, export. */
#ifndef RAZORQ_SESSION_H
#define RAZORQ_SESSION_H

#include <razorq/common.h>
#include <razorq/status.h>

RQ_EXTERN_C_BEGIN

/* A quantizer built from a config (global_qconfig + backend). Opaque. */
typedef struct rq_quantizer rq_quantizer;
/* One model being quantized: its observers, fake-quants and calibration state. */
typedef struct rq_session rq_session;

RQ_EXTERN_C_END

#endif
