/* SPDX-License-Identifier: Apache-2.0 */
/* Running a graph on the CPU: razorq's reference executor, with observer
 * hooks on its edges (how PTQ calibrates, and how an engine can watch). */
#ifndef RAZORQ_EXEC_H
#define RAZORQ_EXEC_H

#include <razorq/common.h>
#include <razorq/status.h>
#include <razorq/graph.h>

RQ_EXTERN_C_BEGIN

/* Called with each computed tensor of a watched edge (value name in the
 * graph), right after it is computed and before any node reads it. Graph
 * inputs are watched too (after they were copied into the run), weights
 * (initializers) are not.
 *
 * `value` is the run's own contiguous host tensor: the hook may read it and
 * may overwrite its elements in place (e.g. apply a fake-quant); every later
 * consumer then sees the new values. It must not change data, ndim, shape,
 * dtype or strides, and must not keep the pointer after returning.
 *
 * Returning anything but RQ_OK aborts the run with that status; the hook
 * should set a message with rq_error_set() (the run keeps it). */
typedef rq_status (*rq_edge_hook)(void *user, const char *edge_name, DLTensor *value);

typedef struct rq_exec_options {
  size_t struct_size; /* sizeof(rq_exec_options) */
  /* Threads a run may use: > 1 sets OpenBLAS's thread count for the GEMM
   * behind Conv/Gemm/MatMul (a process-wide OpenBLAS setting) and splits
   * depthwise convolutions, im2col, pooling and large elementwise ops by
   * channel or row; razorq's own splits never change a result, OpenBLAS's
   * may change the last bits of a large GEMM. 0 (the default) runs those
   * ops on the calling thread and leaves OpenBLAS's own setting alone. */
  int num_threads;
  /* Edge observer; NULL = none. */
  rq_edge_hook hook;
  void *hook_user;
  /* Edges the hook watches: n_hook_edges names. NULL/0 = every edge. A name
   * that is not an edge of the graph fails the run with RQ_ERR_NOT_FOUND,
   * the name of a weight (initializer) with RQ_ERR_INVALID_ARG. */
  const char *const *hook_edges;
  size_t n_hook_edges;
} rq_exec_options;

/* Fills *options with the defaults (no hook, num_threads 0). */
RQ_API rq_status rq_exec_options_init(rq_exec_options *options, size_t struct_size);

/* The outputs of a run: owned tensors with names. Opaque. */
typedef struct rq_tensor_list rq_tensor_list;

/* Runs the graph. inputs[i] feeds graph input i (rq_graph_input_info order);
 * n_inputs must equal rq_graph_input_count(). Inputs are host (kDLCPU)
 * tensors of any DLPack integer/float/bool type the model declares
 * (normally float32), any shape the model accepts (e.g. any batch), with or
 * without strides; they are copied, never modified. options may be NULL
 * (defaults); a bool input may be RQ_DL_BOOL (<razorq/npy.h>) or 8-bit
 * integers. On success *outputs holds one tensor per graph output, in
 * order (a bool one with type code RQ_DL_BOOL); free it with
 * rq_tensor_list_destroy(). An output whose computed element type is not
 * the one the model declares is RQ_ERR_FORMAT (the model is malformed). On failure *outputs is NULL
 * and rq_last_error() names the node that failed; RQ_ERR_UNSUPPORTED means
 * an op or an attribute combination razorq does not implement. The graph is
 * not modified, except that a run keeps its large activation buffers with
 * the graph and the next run reuses them (memory already mapped is far
 * cheaper than fresh pages; ONNX Runtime keeps an arena the same way):
 * rq_graph_trim() hands them back, as does a failed run, and
 * rq_graph_destroy() frees them. A graph
 * should not be run from two threads at once (it stays correct, but only
 * one of the runs gets the kept buffers). */
RQ_API rq_status rq_graph_run(const rq_graph *graph, const rq_exec_options *options,
                              const DLTensor *inputs, size_t n_inputs,
                              rq_tensor_list **outputs);

/* Frees the activation buffers rq_graph_run keeps with the graph between
 * runs (nothing else changes; the next run allocates afresh). Not while a
 * run on this graph is in progress. */
RQ_API rq_status rq_graph_trim(rq_graph *graph);

/* Number of tensors; 0 for NULL. */
RQ_API size_t rq_tensor_list_count(const rq_tensor_list *list);

/* Tensor `index`: its edge name and a DLTensor view (contiguous, kDLCPU)
 * that stays valid until the list is destroyed. Either out-pointer may be
 * NULL. */
RQ_API rq_status rq_tensor_list_get(const rq_tensor_list *list, size_t index,
                                    const char **name, const DLTensor **tensor);

/* Index of the tensor named `name`, RQ_ERR_NOT_FOUND if none. */
RQ_API rq_status rq_tensor_list_find(const rq_tensor_list *list, const char *name,
                                     size_t *index);

/* Frees the list and its tensors; NULL is a no-op. */
RQ_API void rq_tensor_list_destroy(rq_tensor_list *list);

/* Whether the executor implements op_type of the default ONNX domain (some
 * attribute combinations of an implemented op may still be unsupported). */
RQ_API bool rq_exec_supports_op(const char *op_type);

RQ_EXTERN_C_END

#endif
