/* SPDX-License-Identifier: Apache-2.0 */
/* razorq's internal graph IR: what an ONNX model becomes once loaded.
 * Never installed. The executor, the passes and the quantizer work on this.
 *
 * Shape of the IR
 *   - Values (edges) live in g->values[] and are referred to by index
 *     ("value id"). Every value has a unique name; rq__graph_find_value()
 *     maps a name to its id. A value is either a graph input, an initializer
 *     (value->init != NULL: constant data owned by the value), or the output
 *     of exactly one node (value->producer).
 *   - Nodes live in g->nodes[], ALWAYS in topological order: the loader sorts
 *     them and every rewrite helper below re-sorts before returning. A node's
 *     inputs/outputs are value ids; an input id of -1 is an omitted optional
 *     input (ONNX's empty name "").
 *   - Indices (value ids, node indices) are stable until a rewrite helper or
 *     pass runs; callers that cache them (an execution plan) rebuild after.
 *
 * Element types use ONNX TensorProto.DataType numbers, so a value read from
 * a model needs no translation. */
#ifndef RQ_GRAPH_GRAPH_H
#define RQ_GRAPH_GRAPH_H

#include "core/core.h"

#include <razorq/graph.h>
#include <stdatomic.h>

/* ---------------------------------------------------------------- types -- */

/* ONNX TensorProto.DataType values (onnx.proto); the numbers are ONNX's. */
typedef enum rq__dtype {
  RQ__DT_UNDEFINED = 0,
  RQ__DT_FLOAT = 1,
  RQ__DT_UINT8 = 2,
  RQ__DT_INT8 = 3,
  RQ__DT_UINT16 = 4,
  RQ__DT_INT16 = 5,
  RQ__DT_INT32 = 6,
  RQ__DT_INT64 = 7,
  RQ__DT_STRING = 8, /* recognised only to be rejected with a clear message */
  RQ__DT_BOOL = 9,   /* stored as one byte, 0 or 1 */
  RQ__DT_FLOAT16 = 10,
  RQ__DT_DOUBLE = 11,
  RQ__DT_UINT32 = 12,
  RQ__DT_UINT64 = 13,
  RQ__DT_BFLOAT16 = 16,
} rq__dtype;

/* Bytes per element, or 0 for types razorq does not hold (STRING, COMPLEX*,
 * UNDEFINED, unknown numbers). */
size_t rq__dtype_size(int32_t dtype);

/* ONNX dtype <-> DLPack dtype. BOOL travels as uint8. */
bool rq__dtype_to_dl(int32_t dtype, DLDataType *dl);
int32_t rq__dtype_from_dl(DLDataType dl);
/* "FLOAT", "INT64", ...; "UNKNOWN(<n>)" is never returned: unknown -> "?". */
const char *rq__dtype_name(int32_t dtype);

/* Highest tensor rank the IR holds. ONNX has no limit; every model and
 * conformance case razorq targets stays well below this, and a fixed bound
 * keeps shapes allocation-free. Larger ranks are rejected at load. */
#define RQ__MAX_RANK 8

/* Opsets (default "ai.onnx" domain) the loader accepts. The upper bound is
 * the highest opset the executor implements semantics for. */
#define RQ__OPSET_MIN 1
#define RQ__OPSET_MAX 21

/* What a value holds (ONNX TypeProto's value cases razorq knows): a tensor,
 * a sequence of tensors, or an optional (absent, or one tensor or
 * sequence). */
typedef enum rq__value_kind {
  RQ__KIND_TENSOR = RQ_VALUE_TENSOR, /* the public rq_value_kind values */
  RQ__KIND_SEQUENCE = RQ_VALUE_SEQUENCE,
  RQ__KIND_OPTIONAL = RQ_VALUE_OPTIONAL,
} rq__value_kind;

/* "tensor", "sequence", "optional". */
const char *rq__kind_name(int kind);

/* ---------------------------------------------------------------- tensor -- */

/* A dense, contiguous, row-major tensor in host memory. Owns its name and
 * data. numel/nbytes are consistent with dims; data is NULL iff nbytes == 0. */
typedef struct rq__tensor {
  char *name; /* may be NULL */
  int32_t dtype;
  int ndim; /* 0 = scalar (numel 1) */
  int64_t dims[RQ__MAX_RANK];
  size_t numel;
  size_t nbytes;
  void *data;
  /* The executor's non-tensor values use the same struct, so they travel
   * through slots, subgraph runs and Loop-carried state like tensors: kind
   * SEQUENCE holds items[0 .. n_items) in order, kind OPTIONAL holds at
   * most one item (none = an absent optional), which may itself be a
   * sequence. Items are owned. Such a value has ndim 0, numel 0, nbytes 0
   * and data NULL; its dtype is its tensors' element type (UNDEFINED while
   * nothing fixes it, e.g. an empty sequence of undeclared type). Kernels
   * only ever see them when they take non-tensors (rq__op_takes_non_tensors
   * in lib/exec). A plain tensor has kind TENSOR and no items. */
  int kind;
  size_t n_items;
  struct rq__tensor **items;
} rq__tensor;

/* Element count of dims, with every dim >= 0 and the product (times
 * elem_size, when nonzero) fitting in size_t; RQ_ERR_FORMAT naming `what`
 * otherwise. */
rq_status rq__shape_numel(const char *what, int ndim, const int64_t *dims,
                          size_t elem_size, size_t *numel);

/* Allocates a zero-filled tensor. name may be NULL. */
rq_status rq__tensor_create(const char *name, int32_t dtype, int ndim, const int64_t *dims,
                            rq__tensor **out);
/* Deep copy, items of sequences and optionals included. */
rq_status rq__tensor_clone(const rq__tensor *src, rq__tensor **out);
/* Frees t and, for sequences and optionals, its items. */
void rq__tensor_destroy(rq__tensor *t);
/* An empty sequence (or, kind OPTIONAL, an absent optional) whose
 * elements have element type dtype (UNDEFINED allowed). */
rq_status rq__tensor_create_container(int kind, int32_t dtype, rq__tensor **out);
/* Appends item (ownership taken, even on failure) at position pos
 * (0 .. n_items) of container c. */
rq_status rq__tensor_insert_item(rq__tensor *c, size_t pos, rq__tensor *item);
/* Renames (copying the string); name may be NULL. */
rq_status rq__tensor_set_name(rq__tensor *t, const char *name);

/* Parses a serialized onnx.TensorProto (the test_data_set_N/input_K.pb
 * files of the ONNX backend tests). raw_data or the typed repeated fields,
 * little-endian; the data present must match dims x element size exactly.
 * External data is refused here (no model folder to resolve it against). */
rq_status rq__tensor_from_proto_buffer(const void *data, size_t size, rq__tensor **out);
rq_status rq__tensor_from_proto_file(const char *path, rq__tensor **out);
/* A value of kind `kind` as the backend tests store it: a TensorProto,
 * or an onnx-data.proto SequenceProto (of tensors) / OptionalProto (of a
 * tensor or a sequence) for sequences and optionals. The name is not kept
 * for containers. */
rq_status rq__value_from_proto_buffer(const void *data, size_t size, int kind, rq__tensor **out);
rq_status rq__value_from_proto_file(const char *path, int kind, rq__tensor **out);

/* ---------------------------------------------------------------- values -- */

/* A value's declared type and shape (from value_info / inputs / outputs).
 * ndim -1 = rank unknown. dims[i] -1 = unknown; when the model names the
 * dimension (dim_param, e.g. "batch") that name is in sym[i]. */
typedef struct rq__shape {
  int ndim;
  int64_t dims[RQ__MAX_RANK];
  char *sym[RQ__MAX_RANK]; /* owned; NULL for fixed or anonymous dims */
} rq__shape;

/* A value's type is kind (rq__value_kind) plus, for an optional, what it
 * holds (inner_kind: TENSOR or SEQUENCE); dtype and shape always describe
 * the innermost tensor type: a tensor's own, a sequence's elements'. So a
 * seq(tensor(float)) value has kind SEQUENCE and dtype FLOAT: code that
 * treats dtype as the type of a tensor edge (the quantizer, shape
 * inference) must check kind first. */
typedef struct rq__value {
  char *name;
  int32_t dtype;     /* RQ__DT_UNDEFINED when not declared */
  rq__shape shape;   /* ndim -1 when not declared */
  int kind;          /* rq__value_kind; TENSOR unless declared otherwise */
  int inner_kind;    /* OPTIONAL only: TENSOR or SEQUENCE */
  int producer;      /* node index, -1 for graph inputs and initializers */
  rq__tensor *init;  /* constant data (initializer / folded Constant), owned */
  bool is_input;     /* listed in graph.input (and not an initializer) */
  bool is_output;    /* listed in graph.output */
  /* Subgraphs only: an outer-scope reference, a name the subgraph reads but
   * does not define. It stands for implicit input `outer_slot` of the node
   * owning the subgraph (see rq__node), so it follows that slot through
   * rewires and renames of the outer graph. */
  bool is_outer;
  int outer_slot;
} rq__value;

/* ----------------------------------------------------------------- nodes -- */

/* ONNX AttributeProto.AttributeType values. GRAPHS/SPARSE_TENSOR(S)/
 * TENSORS/TYPE_PROTOS attributes are rejected at load (no supported op
 * needs them). */
typedef enum rq__attr_type {
  RQ__ATTR_FLOAT = 1,
  RQ__ATTR_INT = 2,
  RQ__ATTR_STRING = 3,
  RQ__ATTR_TENSOR = 4,
  RQ__ATTR_GRAPH = 5, /* a subgraph: If's branches, Loop's and Scan's body */
  RQ__ATTR_FLOATS = 6,
  RQ__ATTR_INTS = 7,
  RQ__ATTR_STRINGS = 8,
  /* A TypeProto (Optional's `type`): kept as its protobuf bytes in s/s_len
   * so a save writes it back exactly; kind/inner_kind/dtype in ints[0..3)
   * say what it describes. */
  RQ__ATTR_TYPE_PROTO = 13,
} rq__attr_type;

typedef struct rq__attr {
  char *name;
  int type;        /* rq__attr_type */
  int64_t i;       /* INT */
  float f;         /* FLOAT */
  char *s;         /* STRING: NUL-terminated copy; s_len excludes the NUL */
  size_t s_len;
  size_t count;    /* INTS / FLOATS / STRINGS element count */
  int64_t *ints;   /* INTS */
  float *floats;   /* FLOATS */
  char **strings;  /* STRINGS */
  rq__tensor *t;   /* TENSOR */
  rq_graph *g;     /* GRAPH: owned subgraph (its opsets copy the model's) */
} rq__attr;

/* Subgraphs and implicit inputs. A node with GRAPH attributes (If, Loop,
 * Scan) may read values of its graph from inside those subgraphs by name
 * (ONNX outer-scope references). The loader lists them once per node, like
 * ONNX Runtime's "implicit inputs", and stores them as the LAST n_implicit
 * entries of inputs[]: every pass that reasons about uses, liveness or
 * order (sort, consumers, dead-value removal, rewire, fusion, the
 * executor's release of dead tensors) then sees them as ordinary inputs
 * and can neither drop nor reorder what a subgraph reads. A rewire that
 * moves such a slot moves the subgraph's reference with it: inside the
 * subgraph the name is a value with is_outer set that points at the slot,
 * and the serializer writes the slot's current name for it. Only code that
 * deals with the op's own inputs (kernels, the serializer, shape inference)
 * uses rq__node_n_explicit(). */
typedef struct rq__node {
  char *name;     /* never NULL; "" when the model gave none */
  char *op_type;
  char *domain;   /* "" for the default ai.onnx domain */
  int n_inputs;   /* explicit inputs, then n_implicit implicit ones */
  int *inputs;    /* value ids; -1 = omitted optional input */
  int n_implicit; /* outer-scope references of the node's subgraphs */
  int n_outputs;
  int *outputs;   /* value ids; -1 = omitted optional output */
  int n_attrs;
  rq__attr *attrs;
} rq__node;

/* The op's own inputs (inputs[0 .. n_explicit)), without implicit ones. */
static inline int rq__node_n_explicit(const rq__node *n) { return n->n_inputs - n->n_implicit; }

/* Deepest nesting of subgraphs the loader accepts (a subgraph's subgraph is
 * depth 2); deeper models are refused with RQ_ERR_FORMAT, so neither the
 * loader, the passes nor the executor can exhaust the stack. */
#define RQ__MAX_SUBGRAPH_DEPTH 16

/* True when the node owns a GRAPH attribute. */
bool rq__node_has_subgraph(const rq__node *n);

/* Attribute lookups: NULL / the default when absent. The typed getters
 * return the default when the attribute exists with another type too; the
 * executor validates types where it matters via rq__node_attr(). */
const rq__attr *rq__node_attr(const rq__node *n, const char *name);
int64_t rq__node_attr_int(const rq__node *n, const char *name, int64_t dflt);
float rq__node_attr_float(const rq__node *n, const char *name, float dflt);
const char *rq__node_attr_string(const rq__node *n, const char *name, const char *dflt);
/* INTS/FLOATS: element pointer and count; NULL and 0 when absent. */
const int64_t *rq__node_attr_ints(const rq__node *n, const char *name, size_t *count);
const float *rq__node_attr_floats(const rq__node *n, const char *name, size_t *count);

/* Stores *a (which owns its storage) on n, replacing an attribute of the
 * same name; on failure *a is freed. rq__attr_clear frees an attribute. */
rq_status rq__node_take_attr(rq__node *n, rq__attr *a);
void rq__attr_clear(rq__attr *a);

/* Attribute setters for nodes built by passes (replace an existing one of the
 * same name). */
rq_status rq__node_set_attr_int(rq__node *n, const char *name, int64_t v);
rq_status rq__node_set_attr_float(rq__node *n, const char *name, float v);
rq_status rq__node_set_attr_string(rq__node *n, const char *name, const char *v);
rq_status rq__node_set_attr_ints(rq__node *n, const char *name, const int64_t *v, size_t count);
rq_status rq__node_set_attr_floats(rq__node *n, const char *name, const float *v, size_t count);

/* ----------------------------------------------------------------- graph -- */

typedef struct rq__opset {
  char *domain; /* "" = ai.onnx */
  int64_t version;
} rq__opset;

struct rq_graph {
  /* Model metadata, kept so a save round-trips it. */
  int64_t ir_version;
  char *producer_name;
  char *producer_version;
  char *model_domain;
  int64_t model_version;
  char *doc_string;
  char *name; /* graph name */

  int n_opsets;
  rq__opset *opsets;

  int n_values, cap_values;
  rq__value *values;

  int n_nodes, cap_nodes;
  rq__node *nodes; /* topological order */

  /* Graph inputs/outputs in declaration order (value ids). Initializers that
   * old models also list in graph.input are NOT in inputs[]. */
  int n_inputs;
  int *inputs;
  int n_outputs;
  int *outputs;

  /* Name -> value id, open addressing (private to graph.c). */
  int *name_index;
  size_t name_index_cap;

  /* The large buffers the executor's last run freed, kept for the next run
   * so its activations land in memory that is already mapped (lib/exec owns
   * the contents; rq_graph_destroy frees them through exec_cache_free).
   * Atomic because rq_graph_run takes a const graph: a run takes the cache
   * by exchanging in NULL and puts it back when done. */
  _Atomic(void *) exec_cache;
  void (*exec_cache_free)(void *cache);
};

/* An empty graph (no nodes, ir_version 8, opset ai.onnx RQ__OPSET_MAX). */
rq_status rq__graph_create(rq_graph **out);

/* Opset version imported for domain ("" or "ai.onnx" = default); 0 if none. */
int64_t rq__graph_opset(const rq_graph *g, const char *domain);

/* Value id for name, or -1. */
int rq__graph_find_value(const rq_graph *g, const char *name);

/* Adds a value. When name is NULL or already taken, a unique name derived
 * from it ("<name>_1", ...; "v_<n>" for NULL) is used. */
rq_status rq__graph_add_value(rq_graph *g, const char *name, int *id);

/* Turns value `id` into an initializer owning t (takes ownership even on
 * failure). The tensor's name is set to the value's. */
rq_status rq__graph_set_initializer(rq_graph *g, int id, rq__tensor *t);

/* Adds a constant value holding t (ownership taken, even on failure). */
rq_status rq__graph_add_initializer(rq_graph *g, rq__tensor *t, int *id);

/* Appends a node; inputs/outputs are value ids (-1 allowed for inputs).
 * Each output must not already have a producer. Does NOT re-sort: call
 * rq__graph_sort() after a batch of additions (the other helpers do). The
 * new node's index is stored in *index (may be NULL). */
rq_status rq__graph_add_node(rq_graph *g, const char *op_type, const char *domain,
                             const char *name, const int *inputs, int n_inputs,
                             const int *outputs, int n_outputs, int *index);

/* Restores the invariants after edits: recomputes producers, sorts nodes
 * topologically (stable: independent nodes keep their relative order), and
 * checks that every consumed value has a source. Errors name the node on a
 * cycle and the edge on a dangling input. */
rq_status rq__graph_sort(rq_graph *g);

/* Node indices consuming value id, in node order; returns how many there
 * are (writes at most max of them to out, which may be NULL). A graph
 * output is not counted here: see g->values[id].is_output. */
int rq__graph_consumers(const rq_graph *g, int id, int *out, int max);

/* ---- rewrite helpers (each re-sorts; indices afterwards may change) ---- */

/* Puts a new single-input node on edge `id`: its consumers (and the graph
 * output, if it is one) now read the new node's output. The new node gets
 * input 0 = id; add more inputs (e.g. scale, zero point) with
 * rq__node_append_input() before using it. When `id` was a graph output, the
 * new output takes over its name so the model's interface is unchanged (the
 * old value is renamed "<name>_pre"). *node (may be NULL) = new node index. */
rq_status rq__graph_insert_on_edge(rq_graph *g, int id, const char *op_type,
                                   const char *domain, const char *name, int *node);

/* Appends input value id (or -1) to node index. */
rq_status rq__node_append_input(rq_graph *g, int node, int id);

/* Every consumer of from (and the graph output slot, if from is an output)
 * reads to instead. Used to replace a node: add the replacement, rewire its
 * outputs, then rq__graph_remove_dead(). Re-sorts. */
rq_status rq__graph_rewire(rq_graph *g, int from, int to);

/* Removes node index; its outputs lose their producer (so they must be
 * unused or rewired, else the re-sort reports them dangling and nothing
 * is changed). */
rq_status rq__graph_remove_node(rq_graph *g, int node);

/* Removes nodes whose outputs reach no graph output, then values (and
 * initializers) nothing refers to. *removed (may be NULL) = nodes removed.
 * Value ids are compacted. */
rq_status rq__graph_remove_dead(rq_graph *g, int *removed);

/* Removes the nodes with drop[i] set, without checks: their outputs lose
 * their producer. For passes that then turn those outputs into
 * initializers or rewire them; call rq__graph_sort() afterwards. */
void rq__graph_drop_nodes(rq_graph *g, const bool *drop);

/* Renames value id to name (which must be unused). */
rq_status rq__graph_rename_value(rq_graph *g, int id, const char *name);

/* Drops values nothing refers to (no node uses them, not a graph input or
 * output, including unused initializers) and renumbers the rest. */
rq_status rq__graph_compact(rq_graph *g);

/* Stable 64-bit XXH3 fingerprint over structure (op types, domains,
 * attributes, edges by position, inputs/outputs with shapes and, for
 * sequences and optionals only, their kind, opsets) and
 * weights (initializer dtype, dims, bytes). Independent of node names,
 * value names and metadata, so renaming does not change it. */
uint64_t rq__graph_fingerprint(const rq_graph *g);

/* Sum of initializer element counts. */
uint64_t rq__graph_parameter_count(const rq_graph *g);

/* Serializes the graph as an ONNX ModelProto (all tensors inline) into
 * rq__malloc'd memory; rq_graph_save writes this to a file. */
rq_status rq__graph_serialize(const rq_graph *g, void **data, size_t *size);

/* A deep copy of the graph (a serialize and load), keeping the types and
 * shapes known of intermediate values (which a saved model leaves out). */
rq_status rq__graph_clone(const rq_graph *src, rq_graph **out);

/* Writes the model to path with every initializer of at least `threshold`
 * bytes stored as ONNX external data in "<path>.data" (4096-aligned
 * offsets); threshold 0 = all inline. rq_graph_save uses this with 1 KiB
 * when the inline model would exceed protobuf's 2 GB limit. */
rq_status rq__graph_save_external(const rq_graph *g, const char *path, size_t threshold);

/* ---------------------------------------------------------------- passes -- */
/* lib/graph/passes.c. Each returns how many rewrites it made in *count (may
 * be NULL); the graph stays valid (sorted) on success and unchanged on
 * failure. */

/* Constant nodes -> initializers (value / value_float(s) / value_int(s)).
 * The loader runs this one, so loaded graphs hold no Constant nodes. */
rq_status rq__pass_constant_nodes(rq_graph *g, int *count);

/* Identity nodes removed: consumers read the Identity's input directly. An
 * Identity between a graph input and a graph output (or two outputs) stays,
 * since removing it would rename the model's interface. */
rq_status rq__pass_remove_identity(rq_graph *g, int *count);

/* The same for Pad nodes that pad nothing (constant mode, all pads 0), which
 * ONNX exporters emit before a pool whose padding PyTorch handles itself. */
rq_status rq__pass_remove_noop_pads(rq_graph *g, int *count);

/* Both of the above: what can be folded without running ops. */
rq_status rq__pass_fold_constants(rq_graph *g, int *count);

/* Static shape inference (lib/graph/shape.c): fills dtype/shape of node
 * outputs the model did not declare, for the executor's op set (elementwise
 * with broadcasting, Conv/pools, Gemm/MatMul, Flatten, Reshape with constant
 * shape, Transpose, Concat, (Un)Squeeze, Reduce*, Shape, Pad, Gather).
 * Symbolic dims pass through by name; what cannot be derived stays unknown
 * (never an error). Where a shape cannot be derived, the element type still
 * is for the ops whose output type is fixed or follows an input's (so the
 * quantizer knows integer edges). *count = outputs whose shape was filled. */
rq_status rq__pass_infer_shapes(rq_graph *g, int *count);

/* BatchNormalization (inference form, one output) whose input is produced
 * by a Conv or Gemm with constant weights/bias and no other consumer is
 * folded into that Conv/Gemm (PyTorch fuse_conv_bn_weights arithmetic). */
rq_status rq__pass_fold_batchnorm(rq_graph *g, int *count);

/* Fusable groups the quantizer treats as one unit. */
typedef enum rq__fusion_kind {
  RQ__FUSE_LINEAR_ADD,     /* Conv/Gemm/MatMul + Add(constant bias) */
  RQ__FUSE_LINEAR_ACT,     /* Conv/Gemm/MatMul [+ Add(bias)] + Relu/Clip */
  RQ__FUSE_CONV_BN,        /* Conv + BatchNormalization */
  RQ__FUSE_CONV_BN_ACT,    /* Conv + BatchNormalization + Relu/Clip */
} rq__fusion_kind;

#define RQ__FUSION_MAX_NODES 3
typedef struct rq__fusion {
  rq__fusion_kind kind;
  int n_nodes;
  int nodes[RQ__FUSION_MAX_NODES]; /* node indices, producer first */
} rq__fusion;

/* The activations a Conv/Gemm/MatMul group may end in (Relu, Clip). */
bool rq__fusable_activation(const char *op_type);

/* Finds maximal non-overlapping groups in node order; each interior edge
 * must have exactly one consumer and not be a graph output. *out is
 * rq__malloc'd (NULL when *n_out == 0); free with rq__free. */
rq_status rq__graph_find_fusions(const rq_graph *g, rq__fusion **out, int *n_out);

#endif
