/* SPDX-License-Identifier: Apache-2.0 */
/* rq_graph -> ONNX ModelProto. The protobuf-c structs point into the graph
 * (names, dims, tensor bytes) instead of copying; only the structs and
 * pointer arrays are allocated, in an arena freed after packing. */
#include "onnx/onnx_io.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct arena {
  void **ptrs;
  size_t n, cap;
  bool failed;
} arena;

static void *arena_calloc(arena *a, size_t count, size_t size) {
  if (a->failed) return NULL;
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 64;
    void **grown = rq__realloc_array(a->ptrs, cap, sizeof *grown);
    if (grown == NULL) {
      a->failed = true;
      return NULL;
    }
    a->ptrs = grown;
    a->cap = cap;
  }
  void *p = rq__calloc(count ? count : 1, size);
  if (p == NULL) {
    a->failed = true;
    return NULL;
  }
  a->ptrs[a->n++] = p;
  return p;
}

static void arena_free(arena *a) {
  for (size_t i = 0; i < a->n; i++) rq__free(a->ptrs[i]);
  rq__free(a->ptrs);
}

static char empty[] = "";

static Onnx__TensorProto *tensor_pb(arena *A, const rq__tensor *t) {
  Onnx__TensorProto *p = arena_calloc(A, 1, sizeof *p);
  if (p != NULL) rq__tensor_to_pb(t, p);
  return p;
}

static Onnx__ValueInfoProto *value_info_pb(arena *A, const rq__value *v) {
  Onnx__ValueInfoProto *vi = arena_calloc(A, 1, sizeof *vi);
  if (vi == NULL) return NULL;
  onnx__value_info_proto__init(vi);
  vi->name = v->name;
  Onnx__TypeProto *tp = arena_calloc(A, 1, sizeof *tp);
  Onnx__TypeProto__Tensor *tt = arena_calloc(A, 1, sizeof *tt);
  if (tp == NULL || tt == NULL) return NULL;
  onnx__type_proto__init(tp);
  onnx__type_proto__tensor__init(tt);
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  tt->has_elem_type = v->dtype != RQ__DT_UNDEFINED;
  tt->elem_type = v->dtype;
  if (v->shape.ndim >= 0) {
    Onnx__TensorShapeProto *sp = arena_calloc(A, 1, sizeof *sp);
    Onnx__TensorShapeProto__Dimension **dims =
        arena_calloc(A, (size_t)v->shape.ndim, sizeof *dims);
    if (sp == NULL || dims == NULL) return NULL;
    onnx__tensor_shape_proto__init(sp);
    for (int i = 0; i < v->shape.ndim; i++) {
      Onnx__TensorShapeProto__Dimension *d = arena_calloc(A, 1, sizeof *d);
      if (d == NULL) return NULL;
      onnx__tensor_shape_proto__dimension__init(d);
      if (v->shape.sym[i] != NULL) {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
        d->dim_param = v->shape.sym[i];
      } else if (v->shape.dims[i] >= 0) {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d->dim_value = v->shape.dims[i];
      }
      dims[i] = d;
    }
    sp->n_dim = (size_t)v->shape.ndim;
    sp->dim = dims;
    tt->shape = sp;
  }
  vi->type = tp;
  return vi;
}

static Onnx__AttributeProto *attr_pb(arena *A, const rq__attr *a) {
  Onnx__AttributeProto *p = arena_calloc(A, 1, sizeof *p);
  if (p == NULL) return NULL;
  onnx__attribute_proto__init(p);
  p->name = a->name;
  p->has_type = 1;
  p->type = (Onnx__AttributeProto__AttributeType)a->type;
  switch (a->type) {
    case RQ__ATTR_FLOAT: p->has_f = 1; p->f = a->f; break;
    case RQ__ATTR_INT: p->has_i = 1; p->i = a->i; break;
    case RQ__ATTR_STRING:
      p->has_s = 1;
      p->s.len = a->s_len;
      p->s.data = (uint8_t *)a->s;
      break;
    case RQ__ATTR_TENSOR:
      if ((p->t = tensor_pb(A, a->t)) == NULL) return NULL;
      break;
    case RQ__ATTR_FLOATS: p->n_floats = a->count; p->floats = a->floats; break;
    case RQ__ATTR_INTS: p->n_ints = a->count; p->ints = a->ints; break;
    case RQ__ATTR_STRINGS:
      p->n_strings = a->count;
      p->strings = arena_calloc(A, a->count, sizeof *p->strings);
      if (p->strings == NULL) return NULL;
      for (size_t i = 0; i < a->count; i++) {
        p->strings[i].len = strlen(a->strings[i]);
        p->strings[i].data = (uint8_t *)a->strings[i];
      }
      break;
    default: break;
  }
  return p;
}

static Onnx__NodeProto *node_pb(arena *A, const rq_graph *g, const rq__node *n) {
  Onnx__NodeProto *p = arena_calloc(A, 1, sizeof *p);
  char **ins = arena_calloc(A, (size_t)n->n_inputs, sizeof *ins);
  char **outs = arena_calloc(A, (size_t)n->n_outputs, sizeof *outs);
  Onnx__AttributeProto **attrs = arena_calloc(A, (size_t)n->n_attrs, sizeof *attrs);
  if (p == NULL || ins == NULL || outs == NULL || attrs == NULL) return NULL;
  onnx__node_proto__init(p);
  for (int k = 0; k < n->n_inputs; k++) ins[k] = n->inputs[k] >= 0 ? g->values[n->inputs[k]].name : empty;
  for (int k = 0; k < n->n_outputs; k++)
    outs[k] = n->outputs[k] >= 0 ? g->values[n->outputs[k]].name : empty;
  for (int k = 0; k < n->n_attrs; k++)
    if ((attrs[k] = attr_pb(A, &n->attrs[k])) == NULL) return NULL;
  p->n_input = (size_t)n->n_inputs;
  p->input = ins;
  p->n_output = (size_t)n->n_outputs;
  p->output = outs;
  p->n_attribute = (size_t)n->n_attrs;
  p->attribute = attrs;
  p->name = n->name[0] ? n->name : NULL;
  p->op_type = n->op_type;
  p->domain = n->domain[0] ? n->domain : NULL;
  return p;
}

static bool build_model(arena *A, const rq_graph *g, Onnx__ModelProto *m, Onnx__GraphProto *gp) {
  onnx__model_proto__init(m);
  onnx__graph_proto__init(gp);
  m->has_ir_version = 1;
  m->ir_version = g->ir_version > 0 ? g->ir_version : 8;
  m->producer_name = g->producer_name;
  m->producer_version = g->producer_version;
  m->domain = g->model_domain;
  m->has_model_version = g->model_version != 0;
  m->model_version = g->model_version;
  m->doc_string = g->doc_string;
  m->graph = gp;
  gp->name = g->name ? g->name : (char *)"razorq";

  m->opset_import = arena_calloc(A, (size_t)g->n_opsets, sizeof *m->opset_import);
  if (m->opset_import == NULL) return false;
  for (int i = 0; i < g->n_opsets; i++) {
    Onnx__OperatorSetIdProto *op = arena_calloc(A, 1, sizeof *op);
    if (op == NULL) return false;
    onnx__operator_set_id_proto__init(op);
    op->domain = g->opsets[i].domain;
    op->has_version = 1;
    op->version = g->opsets[i].version;
    m->opset_import[m->n_opset_import++] = op;
  }

  gp->node = arena_calloc(A, (size_t)g->n_nodes, sizeof *gp->node);
  if (gp->node == NULL) return false;
  for (int i = 0; i < g->n_nodes; i++)
    if ((gp->node[gp->n_node++] = node_pb(A, g, &g->nodes[i])) == NULL) return false;

  size_t n_init = 0;
  for (int v = 0; v < g->n_values; v++) n_init += g->values[v].init != NULL;
  gp->initializer = arena_calloc(A, n_init, sizeof *gp->initializer);
  if (gp->initializer == NULL) return false;
  for (int v = 0; v < g->n_values; v++)
    if (g->values[v].init != NULL &&
        (gp->initializer[gp->n_initializer++] = tensor_pb(A, g->values[v].init)) == NULL)
      return false;

  gp->input = arena_calloc(A, (size_t)g->n_inputs, sizeof *gp->input);
  gp->output = arena_calloc(A, (size_t)g->n_outputs, sizeof *gp->output);
  if (gp->input == NULL || gp->output == NULL) return false;
  for (int k = 0; k < g->n_inputs; k++)
    if ((gp->input[gp->n_input++] = value_info_pb(A, &g->values[g->inputs[k]])) == NULL) return false;
  for (int k = 0; k < g->n_outputs; k++)
    if ((gp->output[gp->n_output++] = value_info_pb(A, &g->values[g->outputs[k]])) == NULL)
      return false;
  return true;
}

rq_status rq__graph_serialize(const rq_graph *g, void **data, size_t *size) {
  RQ_CHECK_NOT_NULL(g);
  RQ_CHECK_NOT_NULL(data);
  RQ_CHECK_NOT_NULL(size);
  *data = NULL;
  *size = 0;
  arena A = {0};
  Onnx__ModelProto m;
  Onnx__GraphProto gp;
  if (!build_model(&A, g, &m, &gp)) {
    arena_free(&A);
    return rq__nomem(__func__, 0);
  }
  size_t n = protobuf_c_message_get_packed_size(&m.base);
  rq_status s = RQ_OK;
  if (n > ((size_t)1 << 31) - 1) {
    s = rq__fail(RQ_ERR_UNSUPPORTED, __func__,
                 "the model is %zu bytes, over protobuf's 2 GB limit (external data on save is not "
                 "implemented)", n);
  } else {
    void *buf = rq__malloc(n + 1);
    if (buf == NULL) {
      s = rq__nomem(__func__, n);
    } else {
      size_t packed = protobuf_c_message_pack(&m.base, buf);
      if (packed != n) {
        rq__free(buf);
        s = rq__fail(RQ_ERR_INTERNAL, __func__, "packed %zu of %zu bytes", packed, n);
      } else {
        *data = buf;
        *size = n;
      }
    }
  }
  arena_free(&A);
  return s;
}

rq_status rq_graph_save(const rq_graph *graph, const char *path) {
  RQ_CHECK_NOT_NULL(graph);
  RQ_CHECK_NOT_NULL(path);
  void *data;
  size_t size;
  rq_status s = rq__graph_serialize(graph, &data, &size);
  if (s != RQ_OK) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", rq_last_error());
    return rq__fail(s, __func__, "%s", msg);
  }
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    s = rq__fail(RQ_ERR_IO, __func__, "%s: cannot create: %s", path, strerror(errno));
  } else {
    bool ok = fwrite(data, 1, size, f) == size;
    ok = (fclose(f) == 0) && ok;
    if (!ok) s = rq__fail(RQ_ERR_IO, __func__, "%s: write failed: %s", path, strerror(errno));
  }
  rq__free(data);
  return s;
}
