/* SPDX-License-Identifier: Apache-2.0 */
/* The quantization plan. It follows what PyTorch FX's prepare does with a
 * BackendConfig (MMRazor's quantizers are built on it), on ONNX op types:
 * weighted ops observe their activation inputs, weights and output; binary
 * ops their inputs and output; concat shares one observer between its inputs
 * and output; share-qparams ops reuse their input's; fixed-qparams ops get
 * fixed output qparams. Then MMRazor's redundant fake-quants are removed. */
#include "session/plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define WHERE "rq_quantizer_prepare"

typedef struct planner {
  const rq_graph *g;
  const rq_quantizer *q;
  const rq__qconfig **act;  /* per value: the qconfig of its activation fake-quant, NULL = none */
  bool *fixed;              /* per value: output of a fixed-qparams op */
  float *fixed_lo, *fixed_hi;
  int *share_parent;        /* per value: union-find over shared fake-quants */
  bool *interior;           /* per value: inside a fusable group (never quantized) */
  int *tail;                /* per node: value id of its fusion group's output, or -1 */
  bool *fused_member;       /* per node: a non-head node of a fusion group */
  const rq__qconfig **weight; /* per value: qconfig of its weight fake-quant */
  int *weight_axis;
  rq__plan *plan;
} planner;

static rq_status note(planner *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static rq_status note(planner *p, const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  char **grown = rq__realloc_array(p->plan->notes, (size_t)p->plan->n_notes + 1, sizeof *grown);
  if (grown == NULL) return rq__nomem(WHERE, sizeof *grown);
  p->plan->notes = grown;
  grown[p->plan->n_notes] = rq__strdup(line);
  if (grown[p->plan->n_notes] == NULL) return rq__nomem(WHERE, strlen(line));
  p->plan->n_notes++;
  return RQ_OK;
}

static int find_root(planner *p, int v) {
  while (p->share_parent[v] != v) {
    p->share_parent[v] = p->share_parent[p->share_parent[v]];
    v = p->share_parent[v];
  }
  return v;
}

static void unite(planner *p, int a, int b) {
  int ra = find_root(p, a), rb = find_root(p, b);
  if (ra != rb) p->share_parent[rb] = ra;
}

static bool is_constant(const rq_graph *g, int v) { return v >= 0 && g->values[v].init != NULL; }

/* Asks for an activation fake-quant on value v (the first asker's qconfig wins). */
static void request(planner *p, int v, const rq__qconfig *qc) {
  if (v < 0 || is_constant(p->g, v) || p->interior[v]) return;
  int32_t dt = p->g->values[v].dtype;
  /* Only float tensor edges are quantized (an undeclared type is assumed
   * float); a sequence's dtype is its elements' and it is never one. */
  if (p->g->values[v].kind != RQ__KIND_TENSOR) return;
  if (dt != RQ__DT_UNDEFINED && dt != RQ__DT_FLOAT && dt != RQ__DT_FLOAT16 && dt != RQ__DT_BFLOAT16) return;
  if (p->act[v] == NULL) p->act[v] = qc;
}

static int node_output(const planner *p, int n) {
  return p->tail[n] >= 0 ? p->tail[n] : (p->g->nodes[n].n_outputs > 0 ? p->g->nodes[n].outputs[0] : -1);
}

/* The weight of a weighted op and its output-channel axis. */
static void request_weight(planner *p, int n, const rq__qconfig *qc) {
  const rq__node *node = &p->g->nodes[n];
  for (int i = 0; i < node->n_inputs && i < 2; i++) {
    int v = node->inputs[i];
    if (!is_constant(p->g, v)) {
      request(p, v, qc);
      continue;
    }
    if (i == 0 && strcmp(node->op_type, "MatMul") != 0) continue;
    int ndim = p->g->values[v].init->ndim;
    int axis = 0;
    if (strcmp(node->op_type, "Gemm") == 0) {
      axis = rq__node_attr_int(node, "transB", 0) ? 0 : 1; /* B is [K, N] unless transposed */
    } else if (strcmp(node->op_type, "MatMul") == 0) {
      axis = i == 1 ? (ndim >= 1 ? ndim - 1 : 0) : 0;      /* output channels are B's last dim */
    } else if (strcmp(node->op_type, "ConvTranspose") == 0) {
      axis = 1;                                             /* ConvTranspose weights are [C_in, C_out/g, ...] */
    }
    if (p->weight[v] == NULL) {
      p->weight[v] = qc;
      p->weight_axis[v] = axis;
    }
  }
}

/* A node the config marks unmatched is what PyTorch FX makes of a call no
 * BackendConfig pattern matches (a functional torch.relu, an nn.Flatten):
 * fused with nothing, no fake-quant of its own. */
static bool unmatched(const planner *p, int n) {
  return rq__string_list_has(&p->q->unmatched_nodes, p->g->nodes[n].name);
}

/* Whether a fusion group keeps node n (not its head): an activation only if
 * the backend fuses it, never an unmatched node. */
static bool fuses(const planner *p, int n) {
  const char *op = p->g->nodes[n].op_type;
  return !unmatched(p, n) &&
         (!rq__fusable_activation(op) || rq__string_list_has(&p->q->backend->fused_activations, op));
}

static rq_status mark_fusions(planner *p) {
  rq__fusion *groups = NULL;
  int n_groups = 0;
  RQ_TRY(rq__graph_find_fusions(p->g, &groups, &n_groups));
  for (int i = 0; i < n_groups; i++) {
    const rq__fusion *f = &groups[i];
    int n_kept = unmatched(p, f->nodes[0]) ? 0 : 1;
    while (n_kept > 0 && n_kept < f->n_nodes && fuses(p, f->nodes[n_kept])) n_kept++;
    if (n_kept < 2) continue;
    const rq__node *last = &p->g->nodes[f->nodes[n_kept - 1]];
    int out = last->n_outputs > 0 ? last->outputs[0] : -1;
    for (int k = 0; k < n_kept; k++) {
      p->tail[f->nodes[k]] = out;
      if (k > 0) p->fused_member[f->nodes[k]] = true;
      if (k + 1 < n_kept) {
        const rq__node *inner = &p->g->nodes[f->nodes[k]];
        for (int o = 0; o < inner->n_outputs; o++)
          if (inner->outputs[o] >= 0) p->interior[inner->outputs[o]] = true;
      }
    }
  }
  rq__free(groups);

  /* Two more groups PyTorch FX treats as one op:
   *  - binary op + Relu (FX's (add, relu) / (mul, relu) fusions): observed
   *    at the binary op's inputs and the Relu's output only;
   *  - HardSwish as ONNX exporters write it before opset 14,
   *    Mul(x, HardSigmoid(x)): observed at x and the Mul's output, like
   *    FX's hardswish (no fake-quant on the inner HardSigmoid). */
  for (int n = 0; n < p->g->n_nodes; n++) {
    const rq__node *node = &p->g->nodes[n];
    if (p->fused_member[n] || p->tail[n] >= 0 || node->n_outputs < 1 || node->outputs[0] < 0 || unmatched(p, n))
      continue;
    int out = node->outputs[0], consumer;
    bool binary = strcmp(node->op_type, "Add") == 0 || strcmp(node->op_type, "Mul") == 0;
    if (binary && !p->g->values[out].is_output && rq__graph_consumers(p->g, out, &consumer, 1) == 1 &&
        strcmp(p->g->nodes[consumer].op_type, "Relu") == 0 && p->tail[consumer] < 0 && !unmatched(p, consumer) &&
        p->g->nodes[consumer].n_outputs > 0) {
      p->interior[out] = true;
      p->tail[n] = p->tail[consumer] = p->g->nodes[consumer].outputs[0];
      p->fused_member[consumer] = true;
    }
    if (strcmp(node->op_type, "HardSigmoid") == 0 && node->n_inputs == 1 && !p->g->values[out].is_output &&
        rq__graph_consumers(p->g, out, &consumer, 1) == 1 && !unmatched(p, consumer)) {
      const rq__node *mul = &p->g->nodes[consumer];
      if (strcmp(mul->op_type, "Mul") == 0 && mul->n_inputs == 2 &&
          (mul->inputs[0] == node->inputs[0] || mul->inputs[1] == node->inputs[0])) {
        p->interior[out] = true;
        p->fused_member[n] = true;
      }
    }
  }
  return RQ_OK;
}

static bool skipped(const planner *p, const rq__node *node) {
  return rq__string_list_has(&p->q->skipped_nodes, node->name) ||
         rq__string_list_has(&p->q->skipped_op_types, node->op_type);
}

static rq_status request_by_role(planner *p) {
  const rq_graph *g = p->g;
  for (int n = 0; n < g->n_nodes; n++) {
    const rq__node *node = &g->nodes[n];
    if (p->fused_member[n]) continue; /* its group's head speaks for it */
    if (unmatched(p, n)) {
      RQ_TRY(note(p, "node '%s' (%s): unmatched by quantizer.tracer, so fused with nothing and given no fake-quant "
                  "of its own (nor its weights)", node->name, node->op_type));
      continue;
    }
    rq__op_role role = rq__backend_op_role(p->q->backend, node->op_type);
    if (role == RQ__ROLE_NONE || role == RQ__ROLE_SHARE_QPARAMS) continue;
    if (skipped(p, node)) {
      RQ_TRY(note(p, "node '%s' (%s): left float, skipped by quantizer.tracer", node->name, node->op_type));
      continue;
    }
    const rq__qconfig *qc = rq__quantizer_qconfig_for(p->q, node->name, node->op_type);
    int out = node_output(p, n);
    switch (role) {
      case RQ__ROLE_WEIGHTED:
        request_weight(p, n, qc);
        request(p, out, qc);
        break;
      case RQ__ROLE_BINARY:
        for (int i = 0; i < node->n_inputs; i++) request(p, node->inputs[i], qc);
        request(p, out, qc);
        break;
      case RQ__ROLE_CONCAT:
        for (int i = 0; i < node->n_inputs; i++) {
          int in = node->inputs[i];
          if (in < 0) continue; /* an omitted input (malformed for Concat, but loadable) */
          request(p, in, qc);
          if (p->act[in] != NULL && out >= 0) unite(p, out, in);
        }
        request(p, out, qc);
        break;
      case RQ__ROLE_FIXED_QPARAMS:
        if (node->n_inputs > 0) request(p, node->inputs[0], qc);
        if (out >= 0 && rq__backend_fixed_range(p->q->backend, node->op_type, &p->fixed_lo[out], &p->fixed_hi[out])) {
          request(p, out, qc);
          p->fixed[out] = p->act[out] != NULL;
        }
        break;
      default:
        break;
    }
  }
  /* Share-qparams ops (pools, Relu, Flatten, ...) observe their input and
   * give their output the same fake-quant (PyTorch's
   * OUTPUT_SHARE_OBSERVER_WITH_INPUT), so a chain of them shares one. */
  for (int n = 0; n < g->n_nodes; n++) {
    const rq__node *node = &g->nodes[n];
    if (p->fused_member[n] || unmatched(p, n) || node->n_inputs == 0 || node->inputs[0] < 0) continue;
    if (rq__backend_op_role(p->q->backend, node->op_type) != RQ__ROLE_SHARE_QPARAMS) continue;
    if (skipped(p, node)) {
      RQ_TRY(note(p, "node '%s' (%s): left float, skipped by quantizer.tracer", node->name, node->op_type));
      continue;
    }
    const rq__qconfig *qc = rq__quantizer_qconfig_for(p->q, node->name, node->op_type);
    int in = node->inputs[0], out = node_output(p, n);
    request(p, in, qc);
    if (out < 0 || p->act[in] == NULL) continue;
    request(p, out, p->act[in]);
    if (p->act[out] != NULL) unite(p, in, out);
  }
  return RQ_OK;
}

/* MMRazor's redundant fake-quants (backend rules plus the config's extras). */
static bool redundant(const planner *p, int v, const char **why) {
  const rq_graph *g = p->g;
  const rq__value *val = &g->values[v];
  const char *producer = val->producer >= 0 ? g->nodes[val->producer].op_type : NULL;
  const rq_backend_config *b = p->q->backend;
  int consumers[64];
  int n_cons = rq__graph_consumers(g, v, consumers, 64);
  if (val->is_output && n_cons == 0 && rq__backend_fakequant_redundant(b, producer, NULL)) {
    *why = "on a graph output";
    return true;
  }
  if (producer != NULL && (rq__string_list_has(&b->no_fakequant_after, producer) ||
                           rq__string_list_has(&p->q->extra_no_fakequant_after, producer))) {
    *why = "after";
    return true;
  }
  if (n_cons == 0 || n_cons > 64 || val->is_output) return false;
  for (int i = 0; i < n_cons; i++) {
    const char *op = g->nodes[consumers[i]].op_type;
    if (!rq__string_list_has(&b->no_fakequant_before, op) && !rq__string_list_has(&p->q->extra_no_fakequant_before, op))
      return false;
  }
  *why = "before";
  return true;
}

/* A fake-quant redundant after its producer (MaxPool, Flatten: they commute
 * with a per-tensor fake-quant) is so because the producer's input carries
 * one in PyTorch FX's graph. Where it does not (TensorRT quantizes only the
 * inputs of weighted ops), the fake-quant moves onto that input instead of
 * vanishing, or the weighted op would run in float. Only a fake-quant
 * shared with nothing else moves. */
static bool move_before_producer(planner *p, int v) {
  const rq__node *producer = &p->g->nodes[p->g->values[v].producer];
  int in = producer->n_inputs > 0 ? producer->inputs[0] : -1;
  if (in < 0 || p->act[in] != NULL) return false;
  for (int u = 0; u < p->g->n_values; u++)
    if (u != v && p->act[u] != NULL && find_root(p, u) == find_root(p, v)) return false;
  request(p, in, p->act[v]);
  if (p->act[in] == NULL) return false;
  p->act[v] = NULL;
  return true;
}

static rq_status emit(planner *p) {
  const rq_graph *g = p->g;
  int n_act = 0, n_w = 0;
  for (int v = 0; v < g->n_values; v++) {
    const char *why;
    if (p->act[v] == NULL || !redundant(p, v, &why)) continue;
    const char *near = strcmp(why, "after") == 0 ? g->nodes[g->values[v].producer].op_type : "";
    if (strcmp(why, "before") == 0) {
      int c;
      rq__graph_consumers(g, v, &c, 1);
      near = g->nodes[c].op_type;
    }
    if (strcmp(why, "after") == 0 && move_before_producer(p, v)) {
      const rq__node *producer = &g->nodes[g->values[v].producer];
      RQ_TRY(note(p, "edge '%s': fake-quant moved before %s onto '%s' (none goes after %s for %s, and its input had "
                  "none)", g->values[v].name, near, g->values[producer->inputs[0]].name, near, p->q->backend->name));
      continue;
    }
    RQ_TRY(note(p, "edge '%s': no fake-quant, redundant for %s (%s%s%s)", g->values[v].name, p->q->backend->name,
                why, near[0] ? " " : "", near));
    p->act[v] = NULL;
  }
  for (int v = 0; v < g->n_values; v++) {
    n_act += p->act[v] != NULL;
    n_w += p->weight[v] != NULL;
  }
  int total = n_act + n_w;
  p->plan->points = rq__calloc(total > 0 ? (size_t)total : 1, sizeof *p->plan->points);
  int *share_id = rq__malloc_array((size_t)g->n_values + 1, sizeof *share_id);
  if (p->plan->points == NULL || share_id == NULL) {
    rq__free(share_id);
    return rq__nomem(WHERE, (size_t)total * sizeof *p->plan->points);
  }
  for (int v = 0; v < g->n_values; v++) share_id[v] = -1;
  int k = 0;
  for (int v = 0; v < g->n_values; v++) {
    if (p->act[v] == NULL) continue;
    /* A removed member must not split a share group: roots are found among
     * the members that remain. */
    int root = find_root(p, v);
    if (share_id[root] < 0) share_id[root] = p->plan->n_shares++;
    rq__qpoint *pt = &p->plan->points[k++];
    pt->value = v;
    pt->share = share_id[root];
    pt->qconfig = p->act[v];
    pt->fixed = p->fixed[v];
    pt->fixed_lo = p->fixed_lo[v];
    pt->fixed_hi = p->fixed_hi[v];
  }
  for (int v = 0; v < g->n_values; v++) {
    if (p->weight[v] == NULL) continue;
    rq__qpoint *pt = &p->plan->points[k++];
    pt->value = v;
    pt->is_weight = true;
    pt->ch_axis = p->weight_axis[v];
    pt->share = -1;
    pt->qconfig = p->weight[v];
  }
  p->plan->n_points = k;
  rq__free(share_id);
  return RQ_OK;
}

static rq_status note_unquantized_ops(planner *p) {
  const rq_graph *g = p->g;
  for (int n = 0; n < g->n_nodes; n++) {
    const char *op = g->nodes[n].op_type;
    if (p->fused_member[n] || rq__backend_op_role(p->q->backend, op) != RQ__ROLE_NONE) continue;
    bool first = true;
    int count = 0;
    for (int m = 0; m < g->n_nodes; m++) {
      if (strcmp(g->nodes[m].op_type, op) != 0 || p->fused_member[m]) continue;
      if (m < n) first = false;
      count++;
    }
    if (first)
      RQ_TRY(note(p, "op type %s (%d node%s): runs in float, %s does not quantize it", op, count, count == 1 ? "" : "s",
                  p->q->backend->name));
  }
  return RQ_OK;
}

void rq__plan_free(rq__plan *plan) {
  if (plan == NULL) return;
  for (int i = 0; i < plan->n_notes; i++) rq__free(plan->notes[i]);
  rq__free(plan->notes);
  rq__free(plan->points);
  memset(plan, 0, sizeof *plan);
}

rq_status rq__plan_build(const rq_graph *g, const rq_quantizer *q, rq__plan *out) {
  memset(out, 0, sizeof *out);
  planner p = {.g = g, .q = q, .plan = out};
  size_t nv = (size_t)g->n_values + 1, nn = (size_t)g->n_nodes + 1;
  p.act = rq__calloc(nv, sizeof *p.act);
  p.weight = rq__calloc(nv, sizeof *p.weight);
  p.weight_axis = rq__calloc(nv, sizeof *p.weight_axis);
  p.fixed = rq__calloc(nv, sizeof *p.fixed);
  p.fixed_lo = rq__calloc(nv, sizeof *p.fixed_lo);
  p.fixed_hi = rq__calloc(nv, sizeof *p.fixed_hi);
  p.share_parent = rq__calloc(nv, sizeof *p.share_parent);
  p.interior = rq__calloc(nv, sizeof *p.interior);
  p.tail = rq__calloc(nn, sizeof *p.tail);
  p.fused_member = rq__calloc(nn, sizeof *p.fused_member);
  rq_status s = RQ_OK;
  if (!p.act || !p.weight || !p.weight_axis || !p.fixed || !p.fixed_lo || !p.fixed_hi || !p.share_parent ||
      !p.interior || !p.tail || !p.fused_member) {
    s = rq__nomem(WHERE, nv * 32);
  } else {
    for (size_t v = 0; v < nv; v++) p.share_parent[v] = (int)v;
    for (size_t n = 0; n < nn; n++) p.tail[n] = -1;
    s = mark_fusions(&p);
    if (s == RQ_OK) s = request_by_role(&p);
    if (s == RQ_OK) s = emit(&p);
    if (s == RQ_OK) s = note_unquantized_ops(&p);
  }
  rq__free(p.act);
  rq__free(p.weight);
  rq__free(p.weight_axis);
  rq__free(p.fixed);
  rq__free(p.fixed_lo);
  rq__free(p.fixed_hi);
  rq__free(p.share_parent);
  rq__free(p.interior);
  rq__free(p.tail);
  rq__free(p.fused_member);
  if (s != RQ_OK) rq__plan_free(out);
  return s;
}
