/* SPDX-License-Identifier: Apache-2.0 */
/* ONNX graphs: load, inspect, save. (Running them: <razorq/exec.h>.) */
#ifndef RAZORQ_GRAPH_H
#define RAZORQ_GRAPH_H

#include <razorq/common.h>
#include <razorq/status.h>

RQ_EXTERN_C_BEGIN

/* An ONNX model held in razorq's graph IR. Opaque; not thread-safe. */
typedef struct rq_graph rq_graph;

/* Loads an ONNX model file. Tensors stored as external data are read from
 * files relative to the model's folder. The model is validated (opset
 * 1..21 for the default domain, every edge has a source, no cycles, shapes
 * and data sizes consistent) and Constant nodes become initializers; a
 * malformed model fails with RQ_ERR_FORMAT (RQ_ERR_UNSUPPORTED for valid
 * but unsupported features) and a message naming the node or tensor. */
RQ_API rq_status rq_graph_load(const char *path, rq_graph **out);

/* Same, from a serialized ModelProto in memory. External data is refused
 * (there is no folder to resolve it against). */
RQ_API rq_status rq_graph_load_buffer(const void *data, size_t size, rq_graph **out);

/* Writes the graph as an ONNX model. Tensors are stored inline unless the
 * model would exceed protobuf's 2 GB limit; then initializers of 1 KiB or
 * more go to "<path>.data" as ONNX external data. */
RQ_API rq_status rq_graph_save(const rq_graph *graph, const char *path);

/* Frees the graph; NULL is a no-op. */
RQ_API void rq_graph_destroy(rq_graph *graph);

/* ---- inspection (for `razorq inspect` and bindings) ---- */

/* Number of nodes (after Constant folding). 0 for NULL. */
RQ_API size_t rq_graph_node_count(const rq_graph *graph);

/* Node `index` in execution (topological) order: its op type and name
 * (either out-pointer may be NULL; the strings live as long as the graph). */
RQ_API rq_status rq_graph_node_info(const rq_graph *graph, size_t index,
                                    const char **op_type, const char **name);

/* Node `index`'s explicit inputs and its outputs (their counts), and the
 * edge name in one slot of either ("" for an omitted optional input or
 * output). Names live as long as the graph is unchanged. */
RQ_API rq_status rq_graph_node_arity(const rq_graph *graph, size_t index, size_t *n_inputs, size_t *n_outputs);
RQ_API rq_status rq_graph_node_input(const rq_graph *graph, size_t index, size_t slot, const char **name);
RQ_API rq_status rq_graph_node_output(const rq_graph *graph, size_t index, size_t slot, const char **name);

/* A read-only view of the initializer (or folded Constant) named `name`:
 * host memory, contiguous, valid while the graph is unchanged.
 * RQ_ERR_NOT_FOUND when no initializer has that name. */
RQ_API rq_status rq_graph_initializer(const rq_graph *graph, const char *name, DLTensor *view);

/* Op histogram: number of distinct op types, and entry `index` of the
 * histogram (op types in order of first appearance, with their node count). */
RQ_API size_t rq_graph_op_type_count(const rq_graph *graph);
RQ_API rq_status rq_graph_op_type_info(const rq_graph *graph, size_t index,
                                       const char **op_type, size_t *count);

/* What a value holds: ONNX TypeProto's tensor, sequence or optional type. */
typedef enum rq_value_kind {
  RQ_VALUE_TENSOR = 0,
  RQ_VALUE_SEQUENCE = 1, /* a sequence of tensors; onnx_type and the shape are its elements' */
  RQ_VALUE_OPTIONAL = 2, /* absent, or one value of inner_kind */
} rq_value_kind;

/* A graph input or output as declared by the model. Pointers stay valid
 * while the graph is unchanged. */
typedef struct rq_value_info {
  size_t struct_size;          /* sizeof(rq_value_info) */
  const char *name;
  int32_t onnx_type;           /* ONNX TensorProto.DataType, 0 = not declared */
  int ndim;                    /* -1 = rank not declared */
  const int64_t *dims;         /* ndim entries; -1 = symbolic or unknown */
  const char *const *dim_names; /* ndim entries; symbolic name or NULL */
  /* Added later: a caller whose struct_size ends before them does not get them. */
  int kind;                    /* rq_value_kind */
  int inner_kind;              /* RQ_VALUE_OPTIONAL: TENSOR or SEQUENCE; else equal to kind */
} rq_value_info;

RQ_API rq_status rq_value_info_init(rq_value_info *info, size_t struct_size);

RQ_API size_t rq_graph_input_count(const rq_graph *graph);
RQ_API size_t rq_graph_output_count(const rq_graph *graph);
RQ_API rq_status rq_graph_input_info(const rq_graph *graph, size_t index, rq_value_info *info);
RQ_API rq_status rq_graph_output_info(const rq_graph *graph, size_t index, rq_value_info *info);

/* Total number of weight elements (sum over initializers). */
RQ_API rq_status rq_graph_parameter_count(const rq_graph *graph, uint64_t *count);

/* Stable XXH3-64 fingerprint of structure and weights (names and metadata
 * excluded), e.g. to cache calibration results per model. */
RQ_API rq_status rq_graph_fingerprint(const rq_graph *graph, uint64_t *fingerprint);

/* Short name of an ONNX element type ("FLOAT", "INT64", ...; "?" if unknown). */
RQ_API const char *rq_onnx_type_name(int32_t onnx_type);

RQ_EXTERN_C_END

#endif
