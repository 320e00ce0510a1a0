/* SPDX-License-Identifier: Apache-2.0 */
/* protobuf-c's allocator routed through razorq's (rq_set_allocator), for
 * every message the library unpacks: ONNX models, saved observers,
 * calibration files. */
#ifndef RQ_CORE_PB_ALLOC_H
#define RQ_CORE_PB_ALLOC_H

#include <protobuf-c/protobuf-c.h>

extern ProtobufCAllocator rq__pb_allocator;

#endif
