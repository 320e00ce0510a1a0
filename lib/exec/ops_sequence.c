/* SPDX-License-Identifier: Apache-2.0 */
/* Sequence ops: SequenceEmpty, SequenceConstruct, SequenceAt,
 * SequenceInsert, SequenceErase, SequenceLength, SplitToSequence,
 * ConcatFromSequence, SequenceMap (a body subgraph run per element, like
 * Loop's); and the optional ops Optional, OptionalHasElement,
 * OptionalGetElement (an optional is an rq__tensor of kind OPTIONAL with
 * zero or one item). A sequence is an rq__tensor of kind SEQUENCE whose
 * items are the element tensors (graph.h); these kernels never share an
 * item between two values, so every value owns what it holds and the
 * executor frees sequences like any tensor.
 *
 * What a model gets wrong (a position out of range, an element of another
 * type, ConcatFromSequence over an empty sequence or shapes that disagree,
 * split sizes that do not add up) fails with RQ_ERR_FORMAT. */
#include "exec/exec.h"

/* Most tensors a sequence op creates at once: SplitToSequence of an empty
 * tensor with a huge axis would otherwise make that many tensors. */
#define MAX_ITEMS ((size_t)1 << 24)

#include <stdio.h>
#include <string.h>

/* Ops whose kernels take sequences and optionals as inputs and check the
 * kinds themselves; the executor refuses a non-tensor input to any other
 * op (its kernel would read a sequence as an empty scalar). */
bool rq__op_takes_non_tensors(const char *op_type) {
  static const char *const ops[] = {
    "SequenceConstruct", "SequenceAt", "SequenceInsert", "SequenceErase", "SequenceLength",
    "ConcatFromSequence", "Identity", "If", "Loop", "Optional", "OptionalHasElement", "OptionalGetElement",
    "SequenceMap",
  };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(ops[i], op_type) == 0) return true;
  return false;
}

/* Input i, required, of kind `kind`. */
static rq_status need_kind(const rq__op_ctx *c, int i, int kind, const rq__tensor **t) {
  RQ_TRY(rq__op_need(c, i, t));
  if ((*t)->kind != kind)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input %d must be of kind %s, got %s", i, rq__kind_name(kind),
                      rq__kind_name((*t)->kind));
  return RQ_OK;
}

/* A scalar INT32/INT64 position (ONNX allows a 1-element tensor too) in
 * [-n, n - 1], or [-n, n] when `end_ok` (insertion), made non-negative. */
static rq_status position(const rq__op_ctx *c, const rq__tensor *t, size_t n, bool end_ok, size_t *pos) {
  if (t->kind != RQ__KIND_TENSOR || (t->dtype != RQ__DT_INT32 && t->dtype != RQ__DT_INT64) || t->numel != 1)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "position must be an INT32 or INT64 scalar, got %s %s with %zu elements",
                      rq__dtype_name(t->dtype), rq__kind_name(t->kind), t->numel);
  int64_t p = (int64_t)rq__elem_get(t->data, t->dtype, 0);
  int64_t len = (int64_t)n, hi = end_ok ? len : len - 1;
  if (p < -len || p > hi)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "position %lld is out of range [%lld, %lld] for a sequence of %zu tensors",
                      (long long)p, (long long)-len, (long long)hi, n);
  *pos = (size_t)(p < 0 ? p + len : p);
  return RQ_OK;
}

/* A tensor that may join sequence seq: a tensor of seq's element type (an
 * untyped sequence takes any type). */
static rq_status check_element(const rq__op_ctx *c, const rq__tensor *seq, const rq__tensor *t, const char *what) {
  if (t->kind != RQ__KIND_TENSOR)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%s is of kind %s; sequences hold tensors", what, rq__kind_name(t->kind));
  if (seq->dtype != RQ__DT_UNDEFINED && t->dtype != seq->dtype)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%s has element type %s, the sequence holds %s", what,
                      rq__dtype_name(t->dtype), rq__dtype_name(seq->dtype));
  return RQ_OK;
}

/* out[0] = a copy of seq (clone keeps its items and element type). */
static rq_status copy_sequence(rq__op_ctx *c, const rq__tensor *seq, rq__tensor **out) {
  RQ_TRY(rq__tensor_clone(seq, out));
  c->out[0] = *out;
  return RQ_OK;
}

static rq_status op_sequence_empty(rq__op_ctx *c) {
  int64_t dtype = rq__node_attr_int(c->node, "dtype", RQ__DT_FLOAT);
  if (dtype < INT32_MIN || dtype > INT32_MAX || rq__dtype_size((int32_t)dtype) == 0)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "dtype %lld is not an element type razorq holds", (long long)dtype);
  return rq__tensor_create_container(RQ__KIND_SEQUENCE, (int32_t)dtype, &c->out[0]);
}

static rq_status op_sequence_construct(rq__op_ctx *c) {
  if (c->n_in < 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "needs at least one input");
  const rq__tensor *first;
  RQ_TRY(need_kind(c, 0, RQ__KIND_TENSOR, &first));
  rq__tensor *seq;
  RQ_TRY(rq__tensor_create_container(RQ__KIND_SEQUENCE, first->dtype, &seq));
  rq_status st = RQ_OK;
  for (int i = 0; st == RQ_OK && i < c->n_in; i++) {
    const rq__tensor *t;
    rq__tensor *copy;
    char what[32];
    snprintf(what, sizeof what, "input %d", i);
    st = rq__op_need(c, i, &t);
    if (st == RQ_OK) st = check_element(c, seq, t, what);
    if (st == RQ_OK) st = rq__tensor_clone(t, &copy);
    if (st == RQ_OK) st = rq__tensor_insert_item(seq, (size_t)i, copy);
  }
  if (st != RQ_OK) {
    rq__tensor_destroy(seq);
    return st;
  }
  c->out[0] = seq;
  return RQ_OK;
}

static rq_status op_sequence_at(rq__op_ctx *c) {
  const rq__tensor *seq, *pos_t;
  RQ_TRY(need_kind(c, 0, RQ__KIND_SEQUENCE, &seq));
  RQ_TRY(rq__op_need(c, 1, &pos_t));
  size_t pos;
  RQ_TRY(position(c, pos_t, seq->n_items, false, &pos));
  return rq__tensor_clone(seq->items[pos], &c->out[0]);
}

static rq_status op_sequence_insert(rq__op_ctx *c) {
  const rq__tensor *seq, *t, *pos_t = rq__op_in(c, 2);
  RQ_TRY(need_kind(c, 0, RQ__KIND_SEQUENCE, &seq));
  RQ_TRY(rq__op_need(c, 1, &t));
  RQ_TRY(check_element(c, seq, t, "the inserted tensor"));
  size_t pos = seq->n_items; /* no position: append */
  if (pos_t != NULL) RQ_TRY(position(c, pos_t, seq->n_items, true, &pos));
  rq__tensor *out, *copy;
  RQ_TRY(copy_sequence(c, seq, &out));
  out->dtype = t->dtype;
  RQ_TRY(rq__tensor_clone(t, &copy));
  return rq__tensor_insert_item(out, pos, copy); /* on failure the executor frees out */
}

static rq_status op_sequence_erase(rq__op_ctx *c) {
  const rq__tensor *seq, *pos_t = rq__op_in(c, 1);
  RQ_TRY(need_kind(c, 0, RQ__KIND_SEQUENCE, &seq));
  if (seq->n_items == 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "the sequence is empty: nothing to erase");
  size_t pos = seq->n_items - 1; /* no position: the last */
  if (pos_t != NULL) RQ_TRY(position(c, pos_t, seq->n_items, false, &pos));
  rq__tensor *out;
  RQ_TRY(copy_sequence(c, seq, &out));
  rq__tensor_destroy(out->items[pos]);
  memmove(out->items + pos, out->items + pos + 1, (out->n_items - pos - 1) * sizeof *out->items);
  out->n_items--;
  return RQ_OK;
}

static rq_status op_sequence_length(rq__op_ctx *c) {
  const rq__tensor *seq;
  RQ_TRY(need_kind(c, 0, RQ__KIND_SEQUENCE, &seq));
  rq__tensor *t;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_INT64, 0, NULL, &t));
  *(int64_t *)t->data = (int64_t)seq->n_items;
  return RQ_OK;
}

/* Copies x[..., begin:begin+len, ...] (along axis a) into a new tensor of
 * shape dims/ndim (the slice's, with axis a dropped when squeezed). */
static rq_status slice_along(const rq__op_ctx *c, const rq__tensor *x, int a, int64_t begin, int64_t len,
                             int ndim, const int64_t *dims, rq__tensor **out) {
  RQ_TRY(rq__tensor_create(NULL, x->dtype, ndim, dims, out));
  size_t esize = rq__dtype_size(x->dtype), outer = 1, inner = esize, L = (size_t)x->dims[a];
  for (int d = 0; d < a; d++) outer *= (size_t)x->dims[d];
  for (int d = a + 1; d < x->ndim; d++) inner *= (size_t)x->dims[d];
  size_t chunk = (size_t)len * inner;
  for (size_t o = 0; o < outer && chunk > 0; o++)
    memcpy((char *)(*out)->data + o * chunk, (const char *)x->data + (o * L + (size_t)begin) * inner, chunk);
  (void)c;
  return RQ_OK;
}

static rq_status op_split_to_sequence(rq__op_ctx *c) {
  const rq__tensor *x, *split = rq__op_in(c, 1);
  RQ_TRY(need_kind(c, 0, RQ__KIND_TENSOR, &x));
  if (x->ndim < 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "the input is a scalar; there is no axis to split");
  int a;
  RQ_TRY(rq__op_axis(c, rq__node_attr_int(c->node, "axis", 0), x->ndim, &a));
  int64_t dim = x->dims[a];
  bool keepdims = rq__node_attr_int(c->node, "keepdims", 1) != 0;
  /* The chunk lengths: 1 each without split; a scalar split is a chunk
   * length (the last chunk takes the rest); a 1-D split lists them. */
  int64_t *lens = NULL;
  size_t n = 0;
  if (split == NULL) {
    n = (size_t)dim;
  } else {
    if (split->kind != RQ__KIND_TENSOR || (split->dtype != RQ__DT_INT32 && split->dtype != RQ__DT_INT64) ||
        split->ndim > 1)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "split must be an INT32 or INT64 scalar or 1-D tensor");
    keepdims = true; /* the spec ignores keepdims when split is given */
    if (split->ndim == 0) {
      int64_t chunk = (int64_t)rq__elem_get(split->data, split->dtype, 0);
      if (chunk <= 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "split %lld is not positive", (long long)chunk);
      n = (size_t)(dim / chunk + (dim % chunk != 0));
    } else {
      n = split->numel;
    }
  }
  if (n > MAX_ITEMS)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "the sequence would hold %zu tensors (at most %zu)", n, MAX_ITEMS);
  lens = rq__malloc_array(n ? n : 1, sizeof *lens);
  if (lens == NULL) return rq__nomem(c->node->op_type, n * sizeof *lens);
  rq_status st = RQ_OK;
  int64_t total = 0;
  for (size_t i = 0; st == RQ_OK && i < n; i++) {
    if (split == NULL) lens[i] = 1;
    else if (split->ndim == 0) {
      int64_t chunk = (int64_t)rq__elem_get(split->data, split->dtype, 0);
      lens[i] = dim - total < chunk ? dim - total : chunk;
    } else {
      lens[i] = (int64_t)rq__elem_get(split->data, split->dtype, i);
      if (lens[i] < 0 || lens[i] > dim - total)
        st = RQ_OP_FAIL(c, RQ_ERR_FORMAT, "split sizes exceed the axis length %lld (entry %zu is %lld)",
                        (long long)dim, i, (long long)lens[i]);
    }
    total += st == RQ_OK ? lens[i] : 0;
  }
  if (st == RQ_OK && total != dim)
    st = RQ_OP_FAIL(c, RQ_ERR_FORMAT, "split sizes add up to %lld, the axis has length %lld", (long long)total,
                    (long long)dim);
  rq__tensor *seq = NULL;
  if (st == RQ_OK) st = rq__tensor_create_container(RQ__KIND_SEQUENCE, x->dtype, &seq);
  int64_t begin = 0;
  for (size_t i = 0; st == RQ_OK && i < n; i++) {
    int64_t dims[RQ__MAX_RANK];
    int ndim = 0;
    for (int d = 0; d < x->ndim; d++) {
      if (d != a) dims[ndim++] = x->dims[d];
      else if (keepdims) dims[ndim++] = lens[i];
    }
    rq__tensor *item;
    st = slice_along(c, x, a, begin, lens[i], ndim, dims, &item);
    if (st == RQ_OK) st = rq__tensor_insert_item(seq, i, item);
    begin += lens[i];
  }
  rq__free(lens);
  if (st != RQ_OK) {
    rq__tensor_destroy(seq);
    return st;
  }
  c->out[0] = seq;
  return RQ_OK;
}

static rq_status op_concat_from_sequence(rq__op_ctx *c) {
  const rq__tensor *seq;
  RQ_TRY(need_kind(c, 0, RQ__KIND_SEQUENCE, &seq));
  const rq__attr *axis_attr = rq__node_attr(c->node, "axis");
  if (axis_attr == NULL || axis_attr->type != RQ__ATTR_INT)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "attribute axis (an int) is missing");
  bool new_axis = rq__node_attr_int(c->node, "new_axis", 0) != 0;
  if (seq->n_items == 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "the sequence is empty: nothing to concatenate");
  const rq__tensor *first = seq->items[0];
  int rank = first->ndim + (new_axis ? 1 : 0);
  if (rank > RQ__MAX_RANK)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "the result would have rank %d (at most %d)", rank, RQ__MAX_RANK);
  if (rank < 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "cannot concatenate scalars without new_axis");
  int a;
  RQ_TRY(rq__op_axis(c, axis_attr->i, rank, &a));
  /* Every element has the first's type and shape, except along a. */
  int64_t total = 0;
  for (size_t i = 0; i < seq->n_items; i++) {
    const rq__tensor *t = seq->items[i];
    bool same = t->dtype == first->dtype && t->ndim == first->ndim;
    for (int d = 0; same && d < t->ndim; d++) same = new_axis || d == a || t->dims[d] == first->dims[d];
    if (new_axis)
      for (int d = 0; same && d < t->ndim; d++) same = t->dims[d] == first->dims[d];
    if (!same)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "element %zu has a type or shape that does not match element 0's", i);
    total += new_axis ? 1 : t->dims[a];
  }
  int64_t dims[RQ__MAX_RANK];
  for (int d = 0, k = 0; d < rank; d++) {
    if (d == a) {
      dims[d] = total;
      if (!new_axis) k++;
    } else {
      dims[d] = first->dims[k++];
    }
  }
  rq__tensor *out;
  RQ_TRY(rq__op_output_uninit(c, 0, first->dtype, rank, dims, &out));
  /* Row-major: outer = product of dims before a, each element contributes
   * its own block of (its length along a) * inner bytes per outer index. */
  size_t esize = rq__dtype_size(first->dtype), outer = 1, inner = esize;
  for (int d = 0; d < a; d++) outer *= (size_t)dims[d];
  for (int d = a + 1; d < rank; d++) inner *= (size_t)dims[d];
  size_t row = (size_t)total * inner, offset = 0;
  for (size_t i = 0; i < seq->n_items; i++) {
    const rq__tensor *t = seq->items[i];
    size_t block = (new_axis ? 1 : (size_t)t->dims[a]) * inner;
    for (size_t o = 0; o < outer && block > 0; o++)
      memcpy((char *)out->data + o * row + offset, (const char *)t->data + o * block, block);
    offset += block;
  }
  return RQ_OK;
}

/* SequenceMap: runs the body once per element of the first input; a
 * sequence input hands the body its element at that position, a tensor
 * input itself every time. Output k collects the body's output k. */
static rq_status op_sequence_map(rq__op_ctx *c) {
  const rq__attr *a = rq__node_attr(c->node, "body");
  if (a == NULL || a->type != RQ__ATTR_GRAPH || a->g == NULL)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "attribute 'body' (a graph) is missing");
  const rq_graph *body = a->g;
  const rq__tensor *first;
  RQ_TRY(need_kind(c, 0, RQ__KIND_SEQUENCE, &first));
  if (body->n_inputs != c->n_in || body->n_outputs != c->n_out)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "the body takes %d inputs and has %d outputs; the node has %d and %d",
                      body->n_inputs, body->n_outputs, c->n_in, c->n_out);
  size_t n = first->n_items;
  for (int i = 0; i < c->n_in; i++) {
    const rq__tensor *x;
    RQ_TRY(rq__op_need(c, i, &x));
    if (x->kind == RQ__KIND_OPTIONAL)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input %d is an optional; SequenceMap takes sequences and tensors", i);
    if (x->kind == RQ__KIND_SEQUENCE && x->n_items != n)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input %d has %zu elements, input 0 has %zu", i, x->n_items, n);
  }
  for (int k = 0; k < c->n_out; k++) {
    int32_t dtype = body->values[body->outputs[k]].dtype;
    RQ_TRY(rq__tensor_create_container(RQ__KIND_SEQUENCE, dtype, &c->out[k]));
  }
  rq__tensor **body_in = rq__calloc((size_t)c->n_in, sizeof *body_in);
  if (body_in == NULL) return rq__nomem(c->node->op_type, (size_t)c->n_in * sizeof *body_in);
  rq_status st = RQ_OK;
  for (size_t it = 0; st == RQ_OK && it < n; it++) {
    for (int i = 0; st == RQ_OK && i < c->n_in; i++) {
      const rq__tensor *x = c->in[i];
      st = rq__tensor_clone(x->kind == RQ__KIND_SEQUENCE ? x->items[it] : x, &body_in[i]);
    }
    if (st != RQ_OK) {
      for (int i = 0; i < c->n_in; i++) rq__tensor_destroy(body_in[i]);
      break;
    }
    rq__tensor **outs;
    st = rq__exec_run_subgraph(c, body, body_in, c->n_in, &outs); /* takes body_in's tensors */
    memset(body_in, 0, (size_t)c->n_in * sizeof *body_in);
    if (st != RQ_OK) break;
    for (int k = 0; k < c->n_out; k++) {
      rq__tensor *seq = c->out[k];
      if (st == RQ_OK && outs[k]->kind != RQ__KIND_TENSOR)
        st = RQ_OP_FAIL(c, RQ_ERR_FORMAT, "body output %d is of kind %s; it must be a tensor", k,
                        rq__kind_name(outs[k]->kind));
      if (st == RQ_OK && seq->n_items > 0 && outs[k]->dtype != seq->dtype)
        st = RQ_OP_FAIL(c, RQ_ERR_FORMAT, "body output %d changes element type (%s, then %s)", k,
                        rq__dtype_name(seq->dtype), rq__dtype_name(outs[k]->dtype));
      if (st != RQ_OK) {
        rq__tensor_destroy(outs[k]);
        continue;
      }
      seq->dtype = outs[k]->dtype;
      st = rq__tensor_insert_item(seq, seq->n_items, outs[k]);
    }
    rq__free(outs);
  }
  rq__free(body_in);
  return st; /* on failure the executor frees the partial outputs */
}

/* ---- optionals ---- */

/* Optional(x): x (a tensor or a sequence) wrapped; without x an absent
 * optional of the `type` attribute's element type. */
static rq_status op_optional(rq__op_ctx *c) {
  const rq__tensor *x = rq__op_in(c, 0);
  int32_t dtype = RQ__DT_UNDEFINED;
  if (x == NULL) {
    const rq__attr *type = rq__node_attr(c->node, "type");
    if (type == NULL || type->type != RQ__ATTR_TYPE_PROTO)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "without an input the attribute 'type' (a type) is required");
    dtype = (int32_t)type->ints[2];
  } else if (x->kind == RQ__KIND_OPTIONAL) {
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "the input is already an optional");
  }
  rq__tensor *opt, *copy;
  RQ_TRY(rq__tensor_create_container(RQ__KIND_OPTIONAL, x != NULL ? x->dtype : dtype, &opt));
  c->out[0] = opt;
  if (x == NULL) return RQ_OK;
  RQ_TRY(rq__tensor_clone(x, &copy));
  return rq__tensor_insert_item(opt, 0, copy);
}

/* Whether the optional holds a value; from opset 18 the input may also be
 * a tensor or sequence (present) or omitted (absent). */
static rq_status op_optional_has_element(rq__op_ctx *c) {
  const rq__tensor *x = rq__op_in(c, 0);
  if (x == NULL && c->opset < 18) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input 0 (an optional) is missing");
  if (x != NULL && x->kind != RQ__KIND_OPTIONAL && c->opset < 18)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input 0 must be an optional, got a value of kind %s", rq__kind_name(x->kind));
  rq__tensor *t;
  RQ_TRY(rq__op_output(c, 0, RQ__DT_BOOL, 0, NULL, &t));
  *(uint8_t *)t->data = x != NULL && (x->kind != RQ__KIND_OPTIONAL || x->n_items > 0);
  return RQ_OK;
}

/* The optional's value; an absent one is an error (as in ONNX Runtime). */
static rq_status op_optional_get_element(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  if (x->kind != RQ__KIND_OPTIONAL) {
    if (c->opset < 18)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input 0 must be an optional, got a value of kind %s",
                        rq__kind_name(x->kind));
    return rq__tensor_clone(x, &c->out[0]);
  }
  if (x->n_items == 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "the optional is empty: it has no element to get");
  return rq__tensor_clone(x->items[0], &c->out[0]);
}

const rq__op_entry rq__ops_sequence[] = {
  {"SequenceEmpty", op_sequence_empty},
  {"SequenceConstruct", op_sequence_construct},
  {"SequenceAt", op_sequence_at},
  {"SequenceInsert", op_sequence_insert},
  {"SequenceErase", op_sequence_erase},
  {"SequenceLength", op_sequence_length},
  {"SplitToSequence", op_split_to_sequence},
  {"ConcatFromSequence", op_concat_from_sequence},
  {"SequenceMap", op_sequence_map},
  {"Optional", op_optional},
  {"OptionalHasElement", op_optional_has_element},
  {"OptionalGetElement", op_optional_get_element},
  {NULL, NULL},
};
