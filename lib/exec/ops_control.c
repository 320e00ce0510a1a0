/* SPDX-License-Identifier: Apache-2.0 */
/* Control flow: If, Loop and Scan. Each runs a subgraph (a GRAPH attribute)
 * through rq__exec_run_subgraph, which resolves the subgraph's outer-scope
 * references to the calling run's live tensors (the node's implicit inputs)
 * without copying them. Loop-carried values move from one iteration's
 * outputs to the next iteration's inputs without copies too; only the node's
 * own initial values are cloned once (they belong to the outer run).
 *
 * Structure the model gets wrong (subgraph input/output counts, a cond that
 * is not a bool scalar, Scan axes out of range, scan outputs whose shape
 * changes between iterations) fails with RQ_ERR_FORMAT. */
#include "exec/exec.h"

#include <string.h>

/* The subgraph in attribute `name`. */
static rq_status body_attr(const rq__op_ctx *c, const char *name, const rq_graph **body) {
  const rq__attr *a = rq__node_attr(c->node, name);
  if (a == NULL || a->type != RQ__ATTR_GRAPH || a->g == NULL)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "attribute '%s' (a graph) is missing", name);
  *body = a->g;
  return RQ_OK;
}

/* A BOOL tensor of exactly one element. */
static rq_status bool_scalar(const rq__op_ctx *c, const rq__tensor *t, const char *what, bool *out) {
  if (t->kind != RQ__KIND_TENSOR || t->dtype != RQ__DT_BOOL || t->numel != 1)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%s must be a bool scalar, got %s with %zu elements", what,
                      rq__dtype_name(t->dtype), t->numel);
  *out = ((const uint8_t *)t->data)[0] != 0;
  return RQ_OK;
}

/* The body's iteration number (INT64) and cond (BOOL) inputs. */
static rq_status iteration_inputs(int64_t i, bool cond, rq__tensor **iter, rq__tensor **cond_t) {
  RQ_TRY(rq__tensor_create(NULL, RQ__DT_INT64, 0, NULL, iter));
  *(int64_t *)(*iter)->data = i;
  rq_status st = rq__tensor_create(NULL, RQ__DT_BOOL, 0, NULL, cond_t);
  if (st != RQ_OK) {
    rq__tensor_destroy(*iter);
    *iter = NULL;
    return st;
  }
  *(uint8_t *)(*cond_t)->data = cond;
  return RQ_OK;
}

static void destroy_all(rq__tensor **ts, size_t n) {
  for (size_t i = 0; ts != NULL && i < n; i++) rq__tensor_destroy(ts[i]);
}

/* ---- If ---- */

static rq_status op_if(rq__op_ctx *c) {
  const rq__tensor *cond_t;
  RQ_TRY(rq__op_need(c, 0, &cond_t));
  bool cond;
  RQ_TRY(bool_scalar(c, cond_t, "cond", &cond));
  const rq_graph *then_g, *else_g;
  RQ_TRY(body_attr(c, "then_branch", &then_g));
  RQ_TRY(body_attr(c, "else_branch", &else_g));
  /* Both branches are checked, so a model is refused whichever way it runs. */
  if (then_g->n_inputs != 0 || else_g->n_inputs != 0)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "branches take no inputs (then_branch has %d, else_branch %d)",
                      then_g->n_inputs, else_g->n_inputs);
  if (then_g->n_outputs != c->n_out || else_g->n_outputs != c->n_out)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT,
                      "the node has %d outputs but then_branch has %d and else_branch %d", c->n_out,
                      then_g->n_outputs, else_g->n_outputs);
  rq__tensor **outs;
  RQ_TRY(rq__exec_run_subgraph(c, cond ? then_g : else_g, NULL, 0, &outs));
  for (int i = 0; i < c->n_out; i++) c->out[i] = outs[i];
  rq__free(outs);
  return RQ_OK;
}

/* ---- stacking per-iteration results (Loop and Scan outputs) ---- */

/* Per-iteration tensors of one scan output, in iteration order. */
typedef struct collected {
  rq__tensor **items;
  size_t n, cap;
} collected;

static rq_status collect(const rq__op_ctx *c, collected *col, rq__tensor *t) {
  if (t->kind != RQ__KIND_TENSOR) {
    rq__tensor_destroy(t);
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "a scan output is of kind %s; scan outputs are stacked tensors",
                      rq__kind_name(t->kind));
  }
  if (col->n > 0) {
    const rq__tensor *first = col->items[0];
    bool same = first->dtype == t->dtype && first->ndim == t->ndim;
    for (int d = 0; same && d < t->ndim; d++) same = first->dims[d] == t->dims[d];
    if (!same) {
      rq__tensor_destroy(t);
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT,
                        "a scan output changes its type or shape between iterations (iteration %zu)", col->n);
    }
  }
  if (col->n == col->cap) {
    size_t cap = col->cap ? 2 * col->cap : 16;
    rq__tensor **grown = rq__realloc_array(col->items, cap, sizeof *grown);
    if (grown == NULL) {
      rq__tensor_destroy(t);
      return rq__nomem(c->node->op_type, cap * sizeof *grown);
    }
    col->items = grown;
    col->cap = cap;
  }
  col->items[col->n++] = t;
  return RQ_OK;
}

static void collected_free(collected *col) {
  destroy_all(col->items, col->n);
  rq__free(col->items);
  memset(col, 0, sizeof *col);
}

/* out[i] = the collected tensors stacked along a new axis `axis` (in
 * [-(r+1), r] for per-iteration rank r); iteration t lands at position
 * L-1-t when reverse. With no iterations the shape comes from the body
 * output's declaration (`decl`), the new axis 0 long; an undeclared shape
 * gives a 1-D empty tensor. */
static rq_status stack_output(rq__op_ctx *c, int i, const collected *col, int64_t axis, bool reverse,
                              const rq__value *decl) {
  rq__tensor *t;
  if (col->n == 0) {
    int64_t dims[RQ__MAX_RANK];
    int ndim = 1;
    dims[0] = 0;
    bool known = decl->shape.ndim >= 0 && decl->shape.ndim < RQ__MAX_RANK;
    for (int d = 0; known && d < decl->shape.ndim; d++) known = decl->shape.dims[d] >= 0;
    if (known) {
      int r = decl->shape.ndim, a;
      RQ_TRY(rq__op_axis(c, axis, r + 1, &a));
      ndim = r + 1;
      for (int d = 0, k = 0; d < ndim; d++) dims[d] = d == a ? 0 : decl->shape.dims[k++];
    }
    int32_t dtype = decl->dtype != RQ__DT_UNDEFINED ? decl->dtype : RQ__DT_FLOAT;
    return rq__op_output(c, i, dtype, ndim, dims, &t);
  }
  const rq__tensor *first = col->items[0];
  if (first->ndim + 1 > RQ__MAX_RANK)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "a stacked scan output would have rank %d (at most %d)",
                      first->ndim + 1, RQ__MAX_RANK);
  int a;
  RQ_TRY(rq__op_axis(c, axis, first->ndim + 1, &a));
  int64_t dims[RQ__MAX_RANK];
  for (int d = 0, k = 0; d <= first->ndim; d++) dims[d] = d == a ? (int64_t)col->n : first->dims[k++];
  RQ_TRY(rq__op_output_uninit(c, i, first->dtype, first->ndim + 1, dims, &t));
  size_t outer = 1, inner = rq__dtype_size(first->dtype);
  for (int d = 0; d < a; d++) outer *= (size_t)first->dims[d];
  for (int d = a; d < first->ndim; d++) inner *= (size_t)first->dims[d];
  size_t L = col->n;
  for (size_t it = 0; it < L; it++) {
    size_t pos = reverse ? L - 1 - it : it;
    const char *src = col->items[it]->data;
    for (size_t o = 0; o < outer && inner > 0; o++)
      memcpy((char *)t->data + (o * L + pos) * inner, src + o * inner, inner);
  }
  return RQ_OK;
}

/* ---- Loop ---- */

/* M (trip count) and cond are both optional; the loop runs while (M absent
 * or i < M) and cond, cond starting as the input (true when absent) and
 * then taken from the body's cond output after every iteration. That is
 * what ONNX Runtime and onnx's reference implementation do even without a
 * cond input, where the spec's pseudo-code calls the body's output ignored
 * (tests/exec/data/control/node/loop_m_body_stops). Nothing else bounds
 * the iteration count. */
static rq_status op_loop(rq__op_ctx *c) {
  const rq_graph *body;
  RQ_TRY(body_attr(c, "body", &body));
  int n_carried = c->n_in - 2;
  if (n_carried < 0)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "Loop needs inputs M and cond (either may be empty), got %d inputs",
                      c->n_in);
  int n_scan = c->n_out - n_carried;
  if (n_scan < 0)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%d loop-carried inputs but only %d outputs", n_carried, c->n_out);
  if (body->n_inputs != 2 + n_carried)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT,
                      "the body takes %d inputs, expected %d (iteration number, cond, %d loop-carried)",
                      body->n_inputs, 2 + n_carried, n_carried);
  if (body->n_outputs != 1 + n_carried + n_scan)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT,
                      "the body has %d outputs, expected %d (cond, %d loop-carried, %d scan outputs)",
                      body->n_outputs, 1 + n_carried + n_scan, n_carried, n_scan);
  const rq__tensor *m_t = rq__op_in(c, 0), *cond_t = rq__op_in(c, 1);
  int64_t trip = 0;
  bool has_trip = m_t != NULL, cond = true;
  if (has_trip) {
    if (m_t->kind != RQ__KIND_TENSOR || m_t->dtype != RQ__DT_INT64 || m_t->numel != 1)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "M must be an INT64 scalar, got %s with %zu elements",
                        rq__dtype_name(m_t->dtype), m_t->numel);
    trip = ((const int64_t *)m_t->data)[0];
  }
  if (cond_t != NULL) RQ_TRY(bool_scalar(c, cond_t, "cond", &cond));

  rq_status st = RQ_OK;
  rq__tensor **carried = rq__calloc((size_t)n_carried + 1, sizeof *carried);
  rq__tensor **body_in = rq__calloc((size_t)n_carried + 2, sizeof *body_in);
  collected *scans = rq__calloc((size_t)n_scan + 1, sizeof *scans);
  if (carried == NULL || body_in == NULL || scans == NULL) {
    st = rq__nomem(c->node->op_type, (size_t)(n_carried + n_scan) * sizeof *scans);
    goto done;
  }
  for (int k = 0; st == RQ_OK && k < n_carried; k++) {
    const rq__tensor *v = rq__op_in(c, 2 + k);
    st = v == NULL ? RQ_OP_FAIL(c, RQ_ERR_FORMAT, "loop-carried input %d is missing", k)
                   : rq__tensor_clone(v, &carried[k]);
  }
  for (int64_t i = 0; st == RQ_OK && (!has_trip || i < trip) && cond; i++) {
    /* The body takes ownership of its inputs: the carried tensors move in. */
    st = iteration_inputs(i, cond, &body_in[0], &body_in[1]);
    if (st != RQ_OK) break;
    for (int k = 0; k < n_carried; k++) {
      body_in[2 + k] = carried[k];
      carried[k] = NULL;
    }
    rq__tensor **outs;
    st = rq__exec_run_subgraph(c, body, body_in, 2 + n_carried, &outs);
    memset(body_in, 0, ((size_t)n_carried + 2) * sizeof *body_in);
    if (st != RQ_OK) break;
    st = bool_scalar(c, outs[0], "the body's cond output", &cond);
    rq__tensor_destroy(outs[0]);
    for (int k = 0; k < n_carried; k++) carried[k] = outs[1 + k];
    for (int k = 0; k < n_scan; k++) {
      rq_status sk = collect(c, &scans[k], outs[1 + n_carried + k]);
      if (st == RQ_OK) st = sk;
    }
    rq__free(outs);
  }
  for (int k = 0; st == RQ_OK && k < n_scan; k++)
    st = stack_output(c, n_carried + k, &scans[k], 0, false, &body->values[body->outputs[1 + n_carried + k]]);
  if (st == RQ_OK)
    for (int k = 0; k < n_carried; k++) {
      c->out[k] = carried[k];
      carried[k] = NULL;
    }
done:
  destroy_all(carried, (size_t)n_carried);
  rq__free(carried);
  rq__free(body_in);
  for (int k = 0; scans != NULL && k < n_scan; k++) collected_free(&scans[k]);
  rq__free(scans);
  return st;
}

/* ---- Scan ---- */

/* Slice `pos` of t along axis a (the axis removed). */
static rq_status take_slice(const rq__op_ctx *c, const rq__tensor *t, int a, int64_t pos, rq__tensor **out) {
  int64_t dims[RQ__MAX_RANK];
  for (int d = 0, k = 0; d < t->ndim; d++)
    if (d != a) dims[k++] = t->dims[d];
  RQ_TRY(rq__pool_tensor(c->pool, c->node->op_type, t->dtype, t->ndim - 1, dims, false, out));
  size_t outer = 1, inner = rq__dtype_size(t->dtype), L = (size_t)t->dims[a];
  for (int d = 0; d < a; d++) outer *= (size_t)t->dims[d];
  for (int d = a + 1; d < t->ndim; d++) inner *= (size_t)t->dims[d];
  for (size_t o = 0; o < outer && inner > 0; o++)
    memcpy((char *)(*out)->data + o * inner, (const char *)t->data + (o * L + (size_t)pos) * inner, inner);
  return RQ_OK;
}

/* Per-slot attribute list (scan_input_axes etc.): n values, default dflt.
 * A list of the wrong length is a format error. */
static rq_status slot_ints(const rq__op_ctx *c, const char *name, int n, int64_t dflt, int64_t *out) {
  size_t count;
  const int64_t *v = rq__node_attr_ints(c->node, name, &count);
  if (v != NULL && count != (size_t)n)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "attribute %s has %zu entries, expected %d", name, count, n);
  for (int i = 0; i < n; i++) out[i] = v != NULL ? v[i] : dflt;
  return RQ_OK;
}

/* Scan from opset 9 on (scan axes and directions per input and output);
 * opset 8's form maps onto it one batch entry at a time (scan8). dir_attr
 * names the input-direction attribute ("directions" in opset 8). */
static rq_status scan9(rq__op_ctx *c, const char *dir_attr) {
  const rq_graph *body;
  RQ_TRY(body_attr(c, "body", &body));
  int64_t m64 = rq__node_attr_int(c->node, "num_scan_inputs", -1);
  if (m64 < 1 || m64 > c->n_in)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "num_scan_inputs is %lld, the node has %d inputs", (long long)m64, c->n_in);
  int n_scan_in = (int)m64, n_state = c->n_in - n_scan_in, n_scan_out = c->n_out - n_state;
  if (n_scan_out < 0)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%d state variables but only %d outputs", n_state, c->n_out);
  if (body->n_inputs != n_state + n_scan_in)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "the body takes %d inputs, expected %d (%d states, %d scan inputs)",
                      body->n_inputs, n_state + n_scan_in, n_state, n_scan_in);
  if (body->n_outputs != c->n_out)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "the body has %d outputs, the node %d", body->n_outputs, c->n_out);
  int64_t *attrs = rq__malloc_array(2 * (size_t)n_scan_in + 2 * (size_t)n_scan_out + 1, sizeof *attrs);
  if (attrs == NULL) return rq__nomem(c->node->op_type, 0);
  int64_t *in_axes = attrs, *in_dirs = in_axes + n_scan_in, *out_axes = in_dirs + n_scan_in,
          *out_dirs = out_axes + n_scan_out;
  rq_status st = slot_ints(c, "scan_input_axes", n_scan_in, 0, in_axes);
  if (st == RQ_OK) st = slot_ints(c, dir_attr, n_scan_in, 0, in_dirs);
  if (st == RQ_OK) st = slot_ints(c, "scan_output_axes", n_scan_out, 0, out_axes);
  if (st == RQ_OK) st = slot_ints(c, "scan_output_directions", n_scan_out, 0, out_dirs);
  int64_t len = -1;
  int axis_of[64];
  int *axis = n_scan_in <= 64 ? axis_of : rq__malloc_array((size_t)n_scan_in, sizeof *axis);
  if (st == RQ_OK && axis == NULL) st = rq__nomem(c->node->op_type, (size_t)n_scan_in * sizeof *axis);
  for (int j = 0; st == RQ_OK && j < n_scan_in; j++) {
    const rq__tensor *x = rq__op_in(c, n_state + j);
    if (x == NULL) {
      st = RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scan input %d is missing", j);
      break;
    }
    if (x->ndim < 1 || in_axes[j] < -x->ndim || in_axes[j] >= x->ndim) {
      st = RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scan_input_axes[%d] = %lld is out of range for rank %d", j,
                      (long long)in_axes[j], x->ndim);
      break;
    }
    axis[j] = (int)(in_axes[j] < 0 ? in_axes[j] + x->ndim : in_axes[j]);
    if (len >= 0 && x->dims[axis[j]] != len)
      st = RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scan inputs disagree on the sequence length (%lld and %lld)",
                      (long long)len, (long long)x->dims[axis[j]]);
    len = x->dims[axis[j]];
  }
  rq__tensor **state = rq__calloc((size_t)n_state + 1, sizeof *state);
  rq__tensor **body_in = rq__calloc((size_t)(n_state + n_scan_in) + 1, sizeof *body_in);
  collected *scans = rq__calloc((size_t)n_scan_out + 1, sizeof *scans);
  if (st == RQ_OK && (state == NULL || body_in == NULL || scans == NULL))
    st = rq__nomem(c->node->op_type, (size_t)(n_state + n_scan_in + n_scan_out) * sizeof *scans);
  for (int k = 0; st == RQ_OK && k < n_state; k++) {
    const rq__tensor *v = rq__op_in(c, k);
    st = v == NULL ? RQ_OP_FAIL(c, RQ_ERR_FORMAT, "state input %d is missing", k) : rq__tensor_clone(v, &state[k]);
  }
  for (int64_t it = 0; st == RQ_OK && it < len; it++) {
    for (int j = 0; st == RQ_OK && j < n_scan_in; j++) {
      const rq__tensor *x = rq__op_in(c, n_state + j);
      st = take_slice(c, x, axis[j], in_dirs[j] ? len - 1 - it : it, &body_in[n_state + j]);
    }
    if (st != RQ_OK) {
      destroy_all(body_in, (size_t)(n_state + n_scan_in));
      break;
    }
    for (int k = 0; k < n_state; k++) {
      body_in[k] = state[k];
      state[k] = NULL;
    }
    rq__tensor **outs;
    st = rq__exec_run_subgraph(c, body, body_in, n_state + n_scan_in, &outs);
    memset(body_in, 0, (size_t)(n_state + n_scan_in) * sizeof *body_in);
    if (st != RQ_OK) break;
    for (int k = 0; k < n_state; k++) state[k] = outs[k];
    for (int k = 0; k < n_scan_out; k++) {
      rq_status sk = collect(c, &scans[k], outs[n_state + k]);
      if (st == RQ_OK) st = sk;
    }
    rq__free(outs);
  }
  for (int k = 0; st == RQ_OK && k < n_scan_out; k++) {
    const rq__value *decl = &body->values[body->outputs[n_state + k]];
    int r = scans[k].n > 0 ? scans[k].items[0]->ndim : decl->shape.ndim;
    if (r >= 0 && (out_axes[k] < -(r + 1) || out_axes[k] > r)) {
      st = RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scan_output_axes[%d] = %lld is out of range for rank %d", k,
                      (long long)out_axes[k], r + 1);
      break;
    }
    st = stack_output(c, n_state + k, &scans[k], out_axes[k], out_dirs[k] != 0, decl);
  }
  if (st == RQ_OK)
    for (int k = 0; k < n_state; k++) {
      c->out[k] = state[k];
      state[k] = NULL;
    }
  destroy_all(state, (size_t)n_state);
  rq__free(state);
  rq__free(body_in);
  for (int k = 0; scans != NULL && k < n_scan_out; k++) collected_free(&scans[k]);
  rq__free(scans);
  if (axis != axis_of) rq__free(axis);
  rq__free(attrs);
  return st;
}

/* Opset 8: input 0 is sequence_lens (optional), every other input and
 * every output has a leading batch axis, and scan inputs run along axis 1.
 * Each batch entry is an opset-9 scan of the entry's slices; the results
 * are stacked back along the batch axis. Only full-length sequences are
 * supported (sequence_lens absent or all equal to the scan length). */
static rq_status scan8(rq__op_ctx *c) {
  if (c->n_in < 2) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "Scan-8 needs sequence_lens and at least one input");
  int n_in = c->n_in - 1, n_out = c->n_out;
  int64_t batch = -1;
  for (int k = 0; k < n_in; k++) {
    const rq__tensor *x = rq__op_in(c, 1 + k);
    if (x == NULL) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input %d is missing", 1 + k);
    if (x->ndim < 1 || (batch >= 0 && x->dims[0] != batch))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "inputs disagree on the batch size");
    batch = x->dims[0];
  }
  const rq__tensor *lens = rq__op_in(c, 0);
  if (lens != NULL) {
    const rq__tensor *x = rq__op_in(c, c->n_in - 1); /* a scan input: [batch, seq, ...] */
    for (size_t b = 0; b < lens->numel; b++)
      if (x->ndim < 2 || !rq__dtype_is_int(lens->dtype) || rq__elem_get(lens->data, lens->dtype, b) != (double)x->dims[1])
        return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "sequence_lens shorter than the scan length are not supported");
  }
  rq_status st = RQ_OK;
  const rq__tensor **in = rq__calloc((size_t)n_in + 1, sizeof *in);
  rq__tensor **slices = rq__calloc((size_t)n_in + 1, sizeof *slices);
  rq__tensor **out = rq__calloc((size_t)n_out + 1, sizeof *out);
  collected *per_out = rq__calloc((size_t)n_out + 1, sizeof *per_out);
  if (in == NULL || slices == NULL || out == NULL || per_out == NULL)
    st = rq__nomem(c->node->op_type, (size_t)(n_in + n_out) * sizeof *per_out);
  for (int64_t b = 0; st == RQ_OK && b < batch; b++) {
    for (int k = 0; st == RQ_OK && k < n_in; k++) {
      st = take_slice(c, rq__op_in(c, 1 + k), 0, b, &slices[k]);
      in[k] = slices[k];
    }
    rq__op_ctx one = *c;
    one.n_in = n_in;
    one.in = in;
    one.out = out;
    if (st == RQ_OK) st = scan9(&one, "directions");
    destroy_all(slices, (size_t)n_in);
    memset(slices, 0, (size_t)n_in * sizeof *slices);
    for (int k = 0; k < n_out; k++) {
      if (out[k] == NULL) continue;
      rq_status sk = st == RQ_OK ? collect(c, &per_out[k], out[k]) : (rq__tensor_destroy(out[k]), RQ_OK);
      out[k] = NULL;
      if (st == RQ_OK) st = sk;
    }
  }
  const rq_graph *body = NULL;
  if (st == RQ_OK) st = body_attr(c, "body", &body);
  for (int k = 0; st == RQ_OK && k < n_out; k++) {
    if (k >= body->n_outputs) {
      st = RQ_OP_FAIL(c, RQ_ERR_FORMAT, "the body has %d outputs, the node %d", body->n_outputs, n_out);
      break;
    }
    st = stack_output(c, k, &per_out[k], 0, false, &body->values[body->outputs[k]]);
  }
  rq__free(in);
  rq__free(slices);
  rq__free(out);
  for (int k = 0; per_out != NULL && k < n_out; k++) collected_free(&per_out[k]);
  rq__free(per_out);
  return st;
}

static rq_status op_scan(rq__op_ctx *c) {
  return c->opset < 9 ? scan8(c) : scan9(c, "scan_input_directions");
}

const rq__op_entry rq__ops_control[] = {
  {"If", op_if},
  {"Loop", op_loop},
  {"Scan", op_scan},
  {NULL, NULL},
};
