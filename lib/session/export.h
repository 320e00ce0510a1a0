/* SPDX-License-Identifier: Apache-2.0 */
/* What export.c offers the rest of the session code. */
#ifndef RQ_SESSION_EXPORT_H
#define RQ_SESSION_EXPORT_H

#include "session/session_internal.h"

/* For backends with "export.int32_bias": every Conv/Gemm bias the QDQ export
 * stores as INT32 (scale s_in * s_w, zero point 0) is replaced in the
 * session's fake-quantized model by the value that DequantizeLinear gives
 * back, so razorq's evaluation computes what the deployed model computes.
 * Call once the activation qparams are final (on the way to the converted
 * state). On failure the session is unchanged. A no-op for other backends. */
rq_status rq__session_quantize_biases(rq_session *s);

#endif
