/* SPDX-License-Identifier: Apache-2.0 */
/* The executor's internals: the op-kernel interface every op implements,
 * and the helpers ops share (broadcasting, element access, GEMM).
 * Never installed. */
#ifndef RQ_EXEC_EXEC_H
#define RQ_EXEC_EXEC_H

#include "graph/graph.h"

#include <razorq/exec.h>

/* What an op kernel sees: the node (attributes), the opset in force, its
 * input tensors (in[i] NULL = omitted optional input) and n_out output
 * slots. The kernel creates out[i] for every i it produces (all outputs
 * the node declares, except optional ones it is allowed to skip when
 * node->outputs[i] == -1). On failure it leaves no output behind (the
 * executor frees whatever was set) and sets a message that does not need
 * to name the node (the executor prefixes it). */
typedef struct rq__buffer_pool rq__buffer_pool;

typedef struct rq__op_ctx {
  const rq__node *node;
  int64_t opset;
  int n_in;
  const rq__tensor *const *in;
  int n_out;
  rq__tensor **out;
  rq__buffer_pool *pool; /* the run's recycled buffers; NULL = allocate fresh */
  int threads;           /* worker threads the op may use (>= 1) */
  /* Conv only: clamp every output element to [act_lo, act_hi] (NaN stays
   * NaN), set when the executor folded the Relu/Clip that alone reads the
   * Conv's output into it (see plan_fusion in exec.c). */
  bool act;
  float act_lo, act_hi;
  /* The tensors of the node's implicit inputs (what its subgraphs read
   * from the outer scope; see rq__node in graph.h), for
   * rq__exec_run_subgraph. n_in counts the explicit inputs only. */
  int n_implicit;
  const rq__tensor *const *implicit;
} rq__op_ctx;

/* Calls fn(arg, begin, end) on disjoint chunks covering [0, n): on the
 * calling thread alone when threads <= 1 or n < 2 * grain, else split over up
 * to `threads` threads (the caller's included). Chunks never share output
 * elements, so results do not depend on the thread count. */
void rq__parallel_for(int threads, size_t n, size_t grain, void (*fn)(void *arg, size_t begin, size_t end),
                      void *arg);

/* Buffers of tensors the run no longer needs, handed to later outputs of a
 * similar size: large activations then reuse warm memory instead of fresh
 * pages from the OS on every node. */
#define RQ__POOL_SLOTS 16
struct rq__buffer_pool {
  void *data[RQ__POOL_SLOTS];
  size_t size[RQ__POOL_SLOTS];
};
/* Takes t's data into the pool (or frees it) and frees the rest of t. */
void rq__pool_recycle(rq__buffer_pool *pool, rq__tensor *t);
void rq__pool_clear(rq__buffer_pool *pool);
/* Scratch memory (uninitialised) from the pool or the allocator, and its
 * return; pool may be NULL. */
void *rq__pool_alloc(rq__buffer_pool *pool, size_t bytes);
void rq__pool_release(rq__buffer_pool *pool, void *data, size_t bytes);
/* A tensor whose data comes from the pool when large enough (else fresh);
 * zero-filled unless zero is false (then the caller writes every element).
 * pool may be NULL; `what` names the caller in error messages. */
rq_status rq__pool_tensor(rq__buffer_pool *pool, const char *what, int32_t dtype, int ndim,
                          const int64_t *dims, bool zero, rq__tensor **out);

typedef rq_status (*rq__op_fn)(rq__op_ctx *ctx);

/* The kernel for (domain, op_type), or NULL. */
rq__op_fn rq__exec_find_op(const char *domain, const char *op_type);

/* Runs g on inputs (one per graph input, in order; ownership of every
 * tensor is taken, even on failure). On success *outputs is an rq__malloc'd
 * array of g->n_outputs owned tensors, each named after its edge. opts may
 * be NULL; pool (may be NULL) lends buffers to the run and takes back what
 * the run frees. */
rq_status rq__exec_run(const rq_graph *g, const rq_exec_options *opts, rq__buffer_pool *pool,
                       rq__tensor **inputs, int n_inputs, rq__tensor ***outputs);

/* Runs subgraph body (a GRAPH attribute of c->node) inside the calling
 * run: its outer-scope references read c->implicit, its buffers come from
 * and go back to c->pool, and it gets c->threads. Takes ownership of the
 * inputs like rq__exec_run; *outputs as there. */
rq_status rq__exec_run_subgraph(const rq__op_ctx *c, const rq_graph *body, rq__tensor **inputs, int n_inputs,
                                rq__tensor ***outputs);

/* ---- op helpers (lib/exec/util.c) ---- */

/* Input i, or NULL when absent/omitted. */
static inline const rq__tensor *rq__op_in(const rq__op_ctx *c, int i) {
  return i < c->n_in ? c->in[i] : NULL;
}

/* Fails with `status` and a printf message (for kernels; `where` is the
 * op type so messages read "Conv: ..."). */
#define RQ_OP_FAIL(c, status, ...) rq__fail((status), (c)->node->op_type, __VA_ARGS__)

/* Requires input i present (_float: and FLOAT). */
rq_status rq__op_need(const rq__op_ctx *c, int i, const rq__tensor **t);
rq_status rq__op_need_float(const rq__op_ctx *c, int i, const rq__tensor **t);

/* Creates out[i] with the given dtype and shape. */
rq_status rq__op_output(rq__op_ctx *c, int i, int32_t dtype, int ndim, const int64_t *dims,
                        rq__tensor **t);

/* Clamps y[0..n) to [lo, hi] in Clip's order (NaN stays NaN): the
 * Relu/Clip the executor folded into the op before it. */
void rq__clamp_floats(float *y, size_t n, float lo, float hi);

/* rq__op_output for kernels that write every element of out[i]: the
 * buffer is left uninitialised (no zeroing pass over large outputs). */
rq_status rq__op_output_uninit(rq__op_ctx *c, int i, int32_t dtype, int ndim, const int64_t *dims,
                               rq__tensor **t);

/* Element i of data (any numeric dtype, BOOL, FLOAT16, BFLOAT16) as double,
 * and the reverse (saturating for integer targets, NaN -> 0). */
double rq__elem_get(const void *data, int32_t dtype, size_t i);
void rq__elem_set(void *data, int32_t dtype, size_t i, double v);
bool rq__dtype_is_numeric(int32_t dtype);
bool rq__dtype_is_int(int32_t dtype);

/* IEEE half / bfloat16 conversions (round to nearest even). */
float rq__half_to_float(uint16_t h);
uint16_t rq__float_to_half(float f);
float rq__bf16_to_float(uint16_t b);
uint16_t rq__float_to_bf16(float f);

/* Attribute `name` as n integers into out; dflt for each when absent,
 * RQ_ERR_FORMAT when it holds another count. */
rq_status rq__op_attr_ints(const rq__op_ctx *c, const char *name, int n, int64_t dflt, int64_t *out);

/* Reads an INT32/INT64 tensor as int64s; fails if more than max. */
rq_status rq__op_ints(const rq__op_ctx *c, const rq__tensor *t, int64_t *out, size_t max,
                      size_t *n);

/* Normalises axis (negative counts from the end) into [0, rank). */
rq_status rq__op_axis(const rq__op_ctx *c, int64_t axis, int rank, int *out);

/* numpy broadcasting of up to RQ__BCAST_MAX inputs. strides are element
 * strides into each input, 0 along broadcast dimensions. */
#define RQ__BCAST_MAX 3
typedef struct rq__bcast {
  int ndim;
  int64_t dims[RQ__MAX_RANK];
  size_t numel;
  int n;
  int64_t strides[RQ__BCAST_MAX][RQ__MAX_RANK];
  /* The iteration view: dims/strides with adjacent dimensions merged where
   * every input walks them contiguously (or broadcasts both), so e.g. two
   * same-shape tensors are one long row. rq__bcast_row and
   * rq__bcast_inner_stride use it; inner is its last dimension's length. */
  int it_ndim;
  int64_t it_dims[RQ__MAX_RANK];
  int64_t it_strides[RQ__BCAST_MAX][RQ__MAX_RANK];
  size_t inner;
} rq__bcast;

rq_status rq__bcast_init(const rq__op_ctx *c, rq__bcast *b, int n, const rq__tensor *const *ts);
/* Element offsets of row `row` in each input. */
void rq__bcast_row(const rq__bcast *b, size_t row, size_t *offsets);
/* Inner-dimension stride of input k. */
static inline int64_t rq__bcast_inner_stride(const rq__bcast *b, int k) {
  return b->it_ndim == 0 ? 0 : b->it_strides[k][b->it_ndim - 1];
}

/* Row-major C = alpha * op(A) * op(B) + beta * C, op = transpose when t*.
 * OpenBLAS when built with it, else a plain loop. */
void rq__sgemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
               const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
               size_t ldc);
/* A Conv node as matrix products, for code that needs its input patches
 * (AdaRound's Gram matrices): for input x [N, C, in...] and weight w, the
 * group count, the rows of one group's patch matrix (C/group * kernel size)
 * and its columns (output positions per image). */
rq_status rq__conv_patch_shape(const rq__node *node, const rq__tensor *x, const rq__tensor *w, size_t *groups,
                               size_t *rows, size_t *positions);
/* The patch matrix (im2col, zero padding included) of one image and group:
 * col is [rows, positions] as rq__conv_patch_shape gives them, its rows
 * `width` (>= positions) floats apart, so the images of a batch can sit side
 * by side. */
rq_status rq__conv_patches(const rq__node *node, const rq__tensor *x, const rq__tensor *w, size_t image,
                           size_t group, float *col, size_t width);
/* Sets the GEMM thread count (no-op without OpenBLAS). */
void rq__gemm_set_threads(int n);

/* Op families (one file each) register here. */
typedef struct rq__op_entry {
  const char *op_type;
  rq__op_fn fn;
} rq__op_entry;
extern const rq__op_entry rq__ops_elementwise[];
extern const rq__op_entry rq__ops_nn[];
extern const rq__op_entry rq__ops_shape[];
extern const rq__op_entry rq__ops_quant[];
extern const rq__op_entry rq__ops_rnn[];
extern const rq__op_entry rq__ops_vision[];
extern const rq__op_entry rq__ops_linalg[];
extern const rq__op_entry rq__ops_signal[];
extern const rq__op_entry rq__ops_control[];
extern const rq__op_entry rq__ops_sequence[];
extern const rq__op_entry rq__ops_resize[];
extern const rq__op_entry rq__ops_groupnorm[];
extern const rq__op_entry rq__ops_layout[];
extern const rq__op_entry rq__ops_deform[];

/* True for the ops whose kernels take sequence/optional inputs and check
 * their kinds themselves (ops_sequence.c); the executor refuses non-tensor
 * inputs to every other op. */
bool rq__op_takes_non_tensors(const char *op_type);

#endif
