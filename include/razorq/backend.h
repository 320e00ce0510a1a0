/* SPDX-License-Identifier: Apache-2.0 */
/* Backend configs: where a deployment target wants quantization and in which dtypes. */
#ifndef RAZORQ_BACKEND_H
#define RAZORQ_BACKEND_H

#include <razorq/common.h>
#include <razorq/status.h>

RQ_EXTERN_C_BEGIN

/* A backend config (OpenVINO, TensorRT, ONNX Runtime, native, academic, or a
 * vendor's own). Opaque. */
typedef struct rq_backend_config rq_backend_config;

RQ_EXTERN_C_END

#endif
