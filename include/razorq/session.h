/* SPDX-License-Identifier: Apache-2.0 */
/* Quantizers and quantization sessions: prepare, calibrate, convert, export. */
#ifndef RAZORQ_SESSION_H
#define RAZORQ_SESSION_H

#include <razorq/common.h>
#include <razorq/status.h>
#include <razorq/backend.h>

RQ_EXTERN_C_BEGIN

/* A quantizer built from a config (global_qconfig + backend). Opaque. */
typedef struct rq_quantizer rq_quantizer;
/* One model being quantized: its observers, fake-quants and calibration state. */
typedef struct rq_session rq_session;

/* Creates a quantizer from a JSON config that mirrors MMRazor's config dicts
 * (doc/config.md documents every key):
 *   {"global_qconfig": {"w_observer": {...}, "a_observer": {...},
 *                       "w_fake_quant": {...}, "a_fake_quant": {...},
 *                       "w_qscheme": {...}, "a_qscheme": {...}},
 *    "quantizer": {"type": "mmrazor.OpenVINOQuantizer",
 *                  "tracer": {"skipped_nodes": [...], "skipped_op_types": [...]}},
 *    "calibrate_steps": 32, "calibrate_batch_size": 32}
 * Every error names the key path ("global_qconfig.w_qscheme.bit: 17 is
 * outside 1..16"). A qconfig the backend cannot deploy is refused with
 * RQ_ERR_UNSUPPORTED naming the rule (e.g. quint8 activations for TensorRT).
 * Release with rq_quantizer_destroy. */
RQ_API rq_status rq_quantizer_create(const char *config_json, rq_quantizer **out);

/* Frees a quantizer; NULL is a no-op. Sessions it prepared stay valid. */
RQ_API void rq_quantizer_destroy(rq_quantizer *quantizer);

/* The backend config the quantizer targets (owned by the quantizer); NULL
 * (with a message) for NULL. */
RQ_API const rq_backend_config *rq_quantizer_backend(const rq_quantizer *quantizer);

RQ_EXTERN_C_END

#endif
