/* SPDX-License-Identifier: Apache-2.0 */
/* Backend configs: where a deployment target wants quantization and in which dtypes. */
#ifndef RAZORQ_BACKEND_H
#define RAZORQ_BACKEND_H

#include <razorq/common.h>
#include <razorq/status.h>

RQ_EXTERN_C_BEGIN

/* A backend config (OpenVINO, TensorRT, ONNX Runtime, native, academic, or a
 * vendor's own): which op types get fake-quants, which dtypes, modes and bit
 * widths the runtime can deploy, which fake-quants are redundant, and how the
 * model is exported. Opaque; immutable once created, so it may be shared
 * between threads. */
typedef struct rq_backend_config rq_backend_config;

/* Creates a backend config from either
 *  - a name: a built-in ("native", "openvino", "tensorrt", "academic",
 *    "onnxruntime"), MMRazor's quantizer class for it ("OpenVINOQuantizer",
 *    with or without the "mmrazor." prefix), or a name registered with
 *    rq_register_backend_config; or
 *  - a JSON definition (text starting with '{'), documented in doc/backends.md,
 *    optionally deriving from another with "base": "openvino".
 * Errors name the offending key: "activation.dtypes[0]: 'int4' is not quint8 or qint8".
 * Release with rq_backend_config_destroy. */
RQ_API rq_status rq_backend_config_create(const char *name_or_json, rq_backend_config **out);

/* Frees a backend config; NULL is ignored. */
RQ_API void rq_backend_config_destroy(rq_backend_config *cfg);

/* The canonical name ("openvino"); "" (and an error message) for NULL. */
RQ_API const char *rq_backend_config_name(const rq_backend_config *cfg);

/* Writes the complete definition as JSON (the format rq_backend_config_create
 * reads) into buffer. *length receives the text length without the NUL; with
 * buffer NULL and capacity 0, only *length is set, so callers can size a buffer. */
RQ_API rq_status rq_backend_config_to_json(const rq_backend_config *cfg, char *buffer,
                                           size_t capacity, size_t *length);

/* Registers a custom backend definition (JSON, validated completely) under its
 * "name", so configs can name it. A name already registered or built in is
 * refused with RQ_ERR_EXISTS. Thread-safe. */
RQ_API rq_status rq_register_backend_config(const char *json);

/* Writes a starting quantizer config for a built-in backend (MMRazor's
 * shipped PTQ qconfig for it: global_qconfig, quantizer, calibrate_steps) as
 * JSON text; sizing works as in rq_backend_config_to_json. */
RQ_API rq_status rq_backend_config_example(const char *backend, char *buffer, size_t capacity,
                                           size_t *length);

/* Lists the names of built-in then registered backends. Up to capacity names
 * are stored in names (pointers valid for the life of the process); *count
 * receives the total, which may exceed capacity. */
RQ_API rq_status rq_backend_config_list(const char **names, size_t capacity, size_t *count);

RQ_EXTERN_C_END

#endif
