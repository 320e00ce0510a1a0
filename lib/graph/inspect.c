/* SPDX-License-Identifier: Apache-2.0 */
/* Public read-only inspection of a graph (razorq inspect, bindings). */
#include "graph/graph.h"

#include <string.h>

size_t rq_graph_node_count(const rq_graph *graph) { return graph ? (size_t)graph->n_nodes : 0; }

rq_status rq_graph_node_info(const rq_graph *graph, size_t index, const char **op_type,
                             const char **name) {
  RQ_CHECK_NOT_NULL(graph);
  RQ_CHECK_ARG(index < (size_t)graph->n_nodes, "index %zu is not below the node count %d", index,
               graph->n_nodes);
  if (op_type) *op_type = graph->nodes[index].op_type;
  if (name) *name = graph->nodes[index].name;
  return RQ_OK;
}

rq_status rq_graph_node_arity(const rq_graph *graph, size_t index, size_t *n_inputs, size_t *n_outputs) {
  RQ_CHECK_NOT_NULL(graph);
  RQ_CHECK_NOT_NULL(n_inputs);
  RQ_CHECK_NOT_NULL(n_outputs);
  RQ_CHECK_ARG(index < (size_t)graph->n_nodes, "index %zu is not below the node count %d", index, graph->n_nodes);
  *n_inputs = (size_t)rq__node_n_explicit(&graph->nodes[index]);
  *n_outputs = (size_t)graph->nodes[index].n_outputs;
  return RQ_OK;
}

static rq_status node_slot(const rq_graph *g, size_t index, bool output, size_t slot, const char **name,
                           const char *where) {
  if (g == NULL || name == NULL) return rq__fail(RQ_ERR_INVALID_ARG, where, "graph and name must not be NULL");
  if (index >= (size_t)g->n_nodes)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "index %zu is not below the node count %d", index, g->n_nodes);
  const rq__node *n = &g->nodes[index];
  size_t count = output ? (size_t)n->n_outputs : (size_t)rq__node_n_explicit(n);
  if (slot >= count)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "node '%s' has %zu %s; slot %zu", n->name, count,
                    output ? "outputs" : "inputs", slot);
  int v = output ? n->outputs[slot] : n->inputs[slot];
  *name = v < 0 ? "" : g->values[v].name;
  return RQ_OK;
}

rq_status rq_graph_node_input(const rq_graph *graph, size_t index, size_t slot, const char **name) {
  return node_slot(graph, index, false, slot, name, __func__);
}

rq_status rq_graph_node_output(const rq_graph *graph, size_t index, size_t slot, const char **name) {
  return node_slot(graph, index, true, slot, name, __func__);
}

rq_status rq_graph_initializer(const rq_graph *graph, const char *name, DLTensor *view) {
  RQ_CHECK_NOT_NULL(graph);
  RQ_CHECK_NOT_NULL(name);
  RQ_CHECK_NOT_NULL(view);
  int v = rq__graph_find_value(graph, name);
  if (v < 0 || graph->values[v].init == NULL)
    return rq__fail(RQ_ERR_NOT_FOUND, __func__, "no initializer named '%s'", name);
  rq__tensor *t = graph->values[v].init;
  DLTensor out = {.data = t->data, .device = {kDLCPU, 0}, .ndim = t->ndim, .shape = t->dims};
  if (!rq__dtype_to_dl(t->dtype, &out.dtype))
    return rq__fail(RQ_ERR_UNSUPPORTED, __func__, "initializer '%s' is %s, which has no DLPack type", name,
                    rq__dtype_name(t->dtype));
  *view = out;
  return RQ_OK;
}

/* Node index where the op type of node i first appears. */
static int first_of(const rq_graph *g, int i) {
  for (int j = 0; j < i; j++)
    if (strcmp(g->nodes[j].op_type, g->nodes[i].op_type) == 0 &&
        strcmp(g->nodes[j].domain, g->nodes[i].domain) == 0)
      return j;
  return i;
}

size_t rq_graph_op_type_count(const rq_graph *graph) {
  size_t n = 0;
  for (int i = 0; graph != NULL && i < graph->n_nodes; i++) n += first_of(graph, i) == i;
  return n;
}

rq_status rq_graph_op_type_info(const rq_graph *graph, size_t index, const char **op_type,
                                size_t *count) {
  RQ_CHECK_NOT_NULL(graph);
  size_t seen = 0;
  for (int i = 0; i < graph->n_nodes; i++) {
    if (first_of(graph, i) != i) continue;
    if (seen++ != index) continue;
    size_t c = 0;
    for (int j = i; j < graph->n_nodes; j++) c += first_of(graph, j) == i;
    if (op_type) *op_type = graph->nodes[i].op_type;
    if (count) *count = c;
    return RQ_OK;
  }
  return rq__fail(RQ_ERR_INVALID_ARG, __func__, "index %zu is not below the op type count %zu", index,
                  seen);
}

rq_status rq_value_info_init(rq_value_info *info, size_t struct_size) {
  RQ_CHECK_NOT_NULL(info);
  RQ_CHECK_ARG(struct_size >= sizeof(size_t) && struct_size <= sizeof *info,
               "struct_size %zu does not match this library (%zu)", struct_size, sizeof *info);
  memset(info, 0, struct_size);
  info->struct_size = struct_size;
  return RQ_OK;
}

static rq_status fill_info(const rq_graph *g, int id, rq_value_info *info) {
  RQ_CHECK_ARG(info->struct_size >= sizeof(size_t) && info->struct_size <= sizeof *info,
               "info->struct_size %zu is not valid (call rq_value_info_init)", info->struct_size);
  const rq__value *v = &g->values[id];
  rq_value_info full = {
      .struct_size = info->struct_size,
      .name = v->name,
      .onnx_type = v->dtype,
      .ndim = v->shape.ndim,
      .dims = v->shape.dims,
      .dim_names = (const char *const *)v->shape.sym,
      .kind = v->kind,
      .inner_kind = v->kind == RQ__KIND_OPTIONAL ? v->inner_kind : v->kind,
  };
  memcpy(info, &full, info->struct_size);
  return RQ_OK;
}

size_t rq_graph_input_count(const rq_graph *graph) { return graph ? (size_t)graph->n_inputs : 0; }
size_t rq_graph_output_count(const rq_graph *graph) { return graph ? (size_t)graph->n_outputs : 0; }

rq_status rq_graph_input_info(const rq_graph *graph, size_t index, rq_value_info *info) {
  RQ_CHECK_NOT_NULL(graph);
  RQ_CHECK_NOT_NULL(info);
  RQ_CHECK_ARG(index < (size_t)graph->n_inputs, "index %zu is not below the input count %d", index,
               graph->n_inputs);
  return fill_info(graph, graph->inputs[index], info);
}

rq_status rq_graph_output_info(const rq_graph *graph, size_t index, rq_value_info *info) {
  RQ_CHECK_NOT_NULL(graph);
  RQ_CHECK_NOT_NULL(info);
  RQ_CHECK_ARG(index < (size_t)graph->n_outputs, "index %zu is not below the output count %d", index,
               graph->n_outputs);
  return fill_info(graph, graph->outputs[index], info);
}

rq_status rq_graph_parameter_count(const rq_graph *graph, uint64_t *count) {
  RQ_CHECK_NOT_NULL(graph);
  RQ_CHECK_NOT_NULL(count);
  *count = rq__graph_parameter_count(graph);
  return RQ_OK;
}

rq_status rq_graph_fingerprint(const rq_graph *graph, uint64_t *fingerprint) {
  RQ_CHECK_NOT_NULL(graph);
  RQ_CHECK_NOT_NULL(fingerprint);
  uint64_t h = rq__graph_fingerprint(graph);
  if (h == 0 && graph->n_values > 0) return rq__nomem(__func__, (size_t)graph->n_values * sizeof(int));
  *fingerprint = h;
  return RQ_OK;
}

const char *rq_onnx_type_name(int32_t onnx_type) { return rq__dtype_name(onnx_type); }
