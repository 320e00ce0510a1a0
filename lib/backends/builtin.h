/* SPDX-License-Identifier: Apache-2.0 */
#ifndef RQ_BACKENDS_BUILTIN_H
#define RQ_BACKENDS_BUILTIN_H

#include "backends/backends.h"

typedef struct rq__builtin_backend {
  const char *name;
  const char *json;    /* the definition, in the custom-backend JSON format */
  const char *example; /* a starting quantizer config (global_qconfig + quantizer) */
} rq__builtin_backend;

const rq__builtin_backend *rq__builtin_backends(size_t *count);
/* The built-in called name (any alias), or NULL. */
const rq__builtin_backend *rq__builtin_backend_find(const char *name);
/* Maps "mmrazor.OpenVINOQuantizer", "OpenVINOQuantizer", ... to "openvino";
 * returns the input (minus a "mmrazor." prefix) when it is no alias. */
const char *rq__backend_canonical_name(const char *name);

#endif
