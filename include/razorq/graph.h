/* SPDX-License-Identifier: Apache-2.0 */
/* ONNX graphs: load, inspect, run, save. */
#ifndef RAZORQ_GRAPH_H
#define RAZORQ_GRAPH_H

#include <razorq/common.h>
#include <razorq/status.h>

RQ_EXTERN_C_BEGIN

/* An ONNX model held in razorq's graph IR. Opaque; not thread-safe. */
typedef struct rq_graph rq_graph;

RQ_EXTERN_C_END

#endif
