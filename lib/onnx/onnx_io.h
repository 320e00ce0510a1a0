/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the ONNX loader and writer: protobuf-c plumbing and TensorProto
 * conversion. Only lib/onnx/ includes this (it pulls in generated code). */
#ifndef RQ_ONNX_ONNX_IO_H
#define RQ_ONNX_ONNX_IO_H

#include "graph/graph.h"
#include "onnx/onnx.pb-c.h"

/* protobuf-c allocations routed through razorq's allocator. */
#include "core/pb_alloc.h" /* rq__pb_allocator */

/* Deepest message nesting accepted. protobuf-c's unpacker recurses once per
 * level, so a hostile file nesting graphs in attributes could otherwise
 * exhaust the stack; real models nest a handful of levels. */
#define RQ__PB_MAX_DEPTH 64

/* Walks the wire format of a serialized message of type `desc` without
 * unpacking: checks field framing and the nesting depth. RQ_ERR_FORMAT with
 * a message naming `what` on failure. */
rq_status rq__pb_check(const ProtobufCMessageDescriptor *desc, const void *data, size_t size,
                       const char *what);

/* Reads a whole file (at most 2 GB, protobuf's own limit) into rq__malloc'd
 * memory. */
rq_status rq__read_file(const char *path, void **data, size_t *size);

/* TensorProto -> rq__tensor. `what` names the tensor's role in messages
 * ("initializer", "attribute 'value' of node 'c'"); base_dir is the model's
 * folder for external data, NULL to refuse external data. */
rq_status rq__tensor_from_pb(const Onnx__TensorProto *p, const char *base_dir, const char *what,
                             rq__tensor **out);

/* rq__tensor -> TensorProto pointing INTO t (no copies): valid while t is;
 * never free the pointers inside *p. */
void rq__tensor_to_pb(const rq__tensor *t, Onnx__TensorProto *p);

#endif
