/* SPDX-License-Identifier: Apache-2.0 */
/* protobuf-c's allocator routed through razorq's (rq_set_allocator), for
 * every message the library unpacks: ONNX models, saved observers,
 * calibration files. */
#ifndef RQ_CORE_PB_ALLOC_H
#define RQ_CORE_PB_ALLOC_H

#include <protobuf-c/protobuf-c.h>

#include <razorq/status.h>

extern ProtobufCAllocator rq__pb_allocator;

/* For an unpack through rq__pb_allocator that returned NULL: RQ_ERR_NOMEM
 * when one of its allocations failed, else RQ_ERR_FORMAT with the message
 * (printf-style). Every such unpack's NULL must come here. */
rq_status rq__pb_unpack_failure(const char *where, const char *fmt, ...);

#endif
