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
  /* TYPE_PROTO attributes unpacked from their stored bytes; freed with
   * protobuf-c after packing. */
  Onnx__TypeProto **types;
  size_t n_types;
  /* Also write what is known of intermediate values as value_info (for a
   * copy of the graph; a saved model leaves them to the runtime). */
  bool value_info;
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

/* The TypeProto a TYPE_PROTO attribute's bytes hold, owned by the arena. */
static Onnx__TypeProto *arena_type_proto(arena *a, const rq__attr *at) {
  if (a->failed) return NULL;
  Onnx__TypeProto **grown = rq__realloc_array(a->types, a->n_types + 1, sizeof *grown);
  if (grown == NULL) {
    a->failed = true;
    return NULL;
  }
  a->types = grown;
  Onnx__TypeProto *tp = onnx__type_proto__unpack(&rq__pb_allocator, at->s_len, (const uint8_t *)at->s);
  if (tp == NULL) a->failed = true;
  else a->types[a->n_types++] = tp;
  return tp;
}

static void arena_free(arena *a) {
  for (size_t i = 0; i < a->n_types; i++) onnx__type_proto__free_unpacked(a->types[i], &rq__pb_allocator);
  rq__free(a->types);
  for (size_t i = 0; i < a->n; i++) rq__free(a->ptrs[i]);
  rq__free(a->ptrs);
}

static char empty[] = "";

static Onnx__TensorProto *tensor_pb(arena *A, const rq__tensor *t) {
  Onnx__TensorProto *p = arena_calloc(A, 1, sizeof *p);
  if (p != NULL) rq__tensor_to_pb(t, p);
  return p;
}

static Onnx__ValueInfoProto *value_info_pb(arena *A, const rq__value *v, const char *name) {
  Onnx__ValueInfoProto *vi = arena_calloc(A, 1, sizeof *vi);
  if (vi == NULL) return NULL;
  onnx__value_info_proto__init(vi);
  vi->name = (char *)name;
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
  /* Sequences and optionals wrap the tensor type, as the loader unwraps it. */
  if (v->kind == RQ__KIND_SEQUENCE || (v->kind == RQ__KIND_OPTIONAL && v->inner_kind == RQ__KIND_SEQUENCE)) {
    Onnx__TypeProto *outer = arena_calloc(A, 1, sizeof *outer);
    Onnx__TypeProto__Sequence *seq = arena_calloc(A, 1, sizeof *seq);
    if (outer == NULL || seq == NULL) return NULL;
    onnx__type_proto__init(outer);
    onnx__type_proto__sequence__init(seq);
    seq->elem_type = tp;
    outer->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
    outer->sequence_type = seq;
    tp = outer;
  }
  if (v->kind == RQ__KIND_OPTIONAL) {
    Onnx__TypeProto *outer = arena_calloc(A, 1, sizeof *outer);
    Onnx__TypeProto__Optional *opt = arena_calloc(A, 1, sizeof *opt);
    if (outer == NULL || opt == NULL) return NULL;
    onnx__type_proto__init(outer);
    onnx__type_proto__optional__init(opt);
    opt->elem_type = tp;
    outer->value_case = ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE;
    outer->optional_type = opt;
    tp = outer;
  }
  vi->type = tp;
  return vi;
}

typedef struct external_plan external_plan;
static Onnx__GraphProto *subgraph_pb(arena *A, const rq_graph *sub, const rq__node *owner,
                                     char *const *outer_names);

/* names[v] is the name value v is written under (see subgraph_pb). */
static Onnx__AttributeProto *attr_pb(arena *A, const rq__attr *a, const rq__node *n, char *const *names) {
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
    case RQ__ATTR_TYPE_PROTO:
      if ((p->tp = arena_type_proto(A, a)) == NULL) return NULL;
      break;
    case RQ__ATTR_GRAPH:
      if ((p->g = subgraph_pb(A, a->g, n, names)) == NULL) return NULL;
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

static bool graph_pb(arena *A, const rq_graph *g, char *const *names, Onnx__GraphProto *gp,
                     external_plan *ext, bool list_initializers);

static Onnx__NodeProto *node_pb(arena *A, char *const *names, const rq__node *n) {
  Onnx__NodeProto *p = arena_calloc(A, 1, sizeof *p);
  int n_explicit = rq__node_n_explicit(n); /* implicit inputs are the subgraphs' references */
  char **ins = arena_calloc(A, (size_t)n_explicit, sizeof *ins);
  char **outs = arena_calloc(A, (size_t)n->n_outputs, sizeof *outs);
  Onnx__AttributeProto **attrs = arena_calloc(A, (size_t)n->n_attrs, sizeof *attrs);
  if (p == NULL || ins == NULL || outs == NULL || attrs == NULL) return NULL;
  onnx__node_proto__init(p);
  for (int k = 0; k < n_explicit; k++) ins[k] = n->inputs[k] >= 0 ? names[n->inputs[k]] : empty;
  for (int k = 0; k < n->n_outputs; k++)
    outs[k] = n->outputs[k] >= 0 ? names[n->outputs[k]] : empty;
  for (int k = 0; k < n->n_attrs; k++)
    if ((attrs[k] = attr_pb(A, &n->attrs[k], n, names)) == NULL) return NULL;
  p->n_input = (size_t)n_explicit;
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

/* Where large initializers go when the model would not fit protobuf's 2 GB:
 * one data file next to the model, each tensor at a 4096-aligned offset
 * (ONNX's recommendation, so readers can mmap). */
struct external_plan {
  size_t threshold;     /* initializers of at least this many bytes; 0 = all inline */
  const char *location; /* data file name, relative to the model's folder */
  FILE *f;
  uint64_t offset;
  bool io_failed;
};

static Onnx__StringStringEntryProto *entry(arena *A, const char *key, const char *value) {
  Onnx__StringStringEntryProto *e = arena_calloc(A, 1, sizeof *e);
  char *v = arena_calloc(A, strlen(value) + 1, 1);
  if (e == NULL || v == NULL) return NULL;
  onnx__string_string_entry_proto__init(e);
  e->key = (char *)key;
  memcpy(v, value, strlen(value) + 1);
  e->value = v;
  return e;
}

static Onnx__TensorProto *initializer_pb(arena *A, const rq__tensor *t, external_plan *ext) {
  Onnx__TensorProto *p = tensor_pb(A, t);
  if (p == NULL || ext == NULL || ext->threshold == 0 || t->nbytes < ext->threshold) return p;
  static const char zeros[4096];
  uint64_t pad = (4096 - ext->offset % 4096) % 4096;
  if (fwrite(zeros, 1, (size_t)pad, ext->f) != pad || fwrite(t->data, 1, t->nbytes, ext->f) != t->nbytes)
    ext->io_failed = true;
  ext->offset += pad;
  char offset[32], length[32];
  snprintf(offset, sizeof offset, "%llu", (unsigned long long)ext->offset);
  snprintf(length, sizeof length, "%zu", t->nbytes);
  ext->offset += t->nbytes;
  Onnx__StringStringEntryProto **entries = arena_calloc(A, 3, sizeof *entries);
  if (entries == NULL) return NULL;
  entries[0] = entry(A, "location", ext->location);
  entries[1] = entry(A, "offset", offset);
  entries[2] = entry(A, "length", length);
  if (!entries[0] || !entries[1] || !entries[2]) return NULL;
  p->has_raw_data = 0;
  p->raw_data.len = 0;
  p->raw_data.data = NULL;
  p->has_data_location = 1;
  p->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  p->n_external_data = 3;
  p->external_data = entries;
  return p;
}

static bool build_model(arena *A, const rq_graph *g, Onnx__ModelProto *m, Onnx__GraphProto *gp,
                        external_plan *ext) {
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

  char **names = arena_calloc(A, (size_t)g->n_values, sizeof *names);
  if (names == NULL) return false;
  for (int v = 0; v < g->n_values; v++) names[v] = g->values[v].name;
  return graph_pb(A, g, names, gp, ext, g->ir_version < 4);
}

/* Nodes, initializers, inputs and outputs of g (the main graph or a
 * subgraph) into gp, value v named names[v]. */
static bool graph_pb(arena *A, const rq_graph *g, char *const *names, Onnx__GraphProto *gp,
                     external_plan *ext, bool list_initializers) {
  gp->node = arena_calloc(A, (size_t)g->n_nodes, sizeof *gp->node);
  if (gp->node == NULL) return false;
  for (int i = 0; i < g->n_nodes; i++)
    if ((gp->node[gp->n_node++] = node_pb(A, names, &g->nodes[i])) == NULL) return false;

  size_t n_init = 0;
  for (int v = 0; v < g->n_values; v++) n_init += g->values[v].init != NULL;
  gp->initializer = arena_calloc(A, n_init, sizeof *gp->initializer);
  if (gp->initializer == NULL) return false;
  for (int v = 0; v < g->n_values; v++) {
    if (g->values[v].init == NULL) continue;
    Onnx__TensorProto *t = initializer_pb(A, g->values[v].init, ext);
    if (t == NULL) return false;
    t->name = names[v];
    gp->initializer[gp->n_initializer++] = t;
  }

  /* IR versions before 4 require every initializer to be listed as a graph
   * input too (with its type and shape), or onnx.checker refuses the model. */
  
  size_t n_in = (size_t)g->n_inputs + (list_initializers ? n_init : 0);
  gp->input = arena_calloc(A, n_in > 0 ? n_in : 1, sizeof *gp->input);
  gp->output = arena_calloc(A, (size_t)g->n_outputs, sizeof *gp->output);
  if (gp->input == NULL || gp->output == NULL) return false;
  for (int k = 0; k < g->n_inputs; k++)
    if ((gp->input[gp->n_input++] = value_info_pb(A, &g->values[g->inputs[k]], names[g->inputs[k]])) == NULL) return false;
  for (int v = 0; list_initializers && v < g->n_values; v++) {
    const rq__tensor *t = g->values[v].init;
    if (t == NULL) continue;
    rq__value *as_input = arena_calloc(A, 1, sizeof *as_input);
    if (as_input == NULL) return false;
    as_input->name = g->values[v].name;
    as_input->dtype = t->dtype;
    as_input->shape.ndim = t->ndim;
    for (int d = 0; d < t->ndim; d++) as_input->shape.dims[d] = t->dims[d];
    if ((gp->input[gp->n_input++] = value_info_pb(A, as_input, as_input->name)) == NULL) return false;
  }
  for (int k = 0; k < g->n_outputs; k++)
    if ((gp->output[gp->n_output++] = value_info_pb(A, &g->values[g->outputs[k]], names[g->outputs[k]])) == NULL)
      return false;
  if (!A->value_info) return true;
  gp->value_info = arena_calloc(A, (size_t)g->n_values, sizeof *gp->value_info);
  if (gp->value_info == NULL) return false;
  for (int v = 0; v < g->n_values; v++) {
    const rq__value *val = &g->values[v];
    if (val->producer < 0 || val->is_output ||
        (val->dtype == RQ__DT_UNDEFINED && val->shape.ndim < 0 && val->kind == RQ__KIND_TENSOR))
      continue;
    if ((gp->value_info[gp->n_value_info++] = value_info_pb(A, val, names[v])) == NULL) return false;
  }
  return true;
}

/* A subgraph of node owner (of a graph whose values are written under
 * outer_names). Its outer-scope references are written under the name of
 * the implicit input they stand for, which a rewire or rename of the outer
 * graph may have changed since load. */
static Onnx__GraphProto *subgraph_pb(arena *A, const rq_graph *sub, const rq__node *owner,
                                     char *const *outer_names) {
  Onnx__GraphProto *gp = arena_calloc(A, 1, sizeof *gp);
  char **names = arena_calloc(A, (size_t)sub->n_values, sizeof *names);
  if (gp == NULL || names == NULL) return NULL;
  onnx__graph_proto__init(gp);
  gp->name = sub->name ? sub->name : (char *)"subgraph";
  int n_explicit = rq__node_n_explicit(owner);
  for (int v = 0; v < sub->n_values; v++) {
    const rq__value *val = &sub->values[v];
    names[v] = val->name;
    if (!val->is_outer || val->outer_slot < 0 || val->outer_slot >= owner->n_implicit) continue;
    int outer = owner->inputs[n_explicit + val->outer_slot];
    if (outer >= 0) names[v] = outer_names[outer];
  }
  /* A local value that happens to carry a name the outer scope now uses
   * (after a rename there) would capture the reference on reload: it is
   * written under a fresh name instead. */
  for (int v = 0; v < sub->n_values; v++) {
    if (!sub->values[v].is_outer || names[v] == sub->values[v].name) continue;
    int local = rq__graph_find_value(sub, names[v]);
    if (local < 0 || local == v || sub->values[local].is_outer) continue;
    size_t len = strlen(names[v]) + 24;
    char *fresh = arena_calloc(A, len, 1);
    if (fresh == NULL) return NULL;
    for (unsigned k = 1;; k++) {
      snprintf(fresh, len, "%s__local%u", names[v], k);
      bool taken = rq__graph_find_value(sub, fresh) >= 0;
      for (int u = 0; u < sub->n_values && !taken; u++) taken = strcmp(names[u], fresh) == 0;
      if (!taken) break;
    }
    names[local] = fresh;
  }
  return graph_pb(A, sub, names, gp, NULL, false) ? gp : NULL;
}

#define PROTOBUF_LIMIT (((size_t)1 << 31) - 1)

/* Builds and packs the model; with ext, large initializers are written to
 * ext->f instead. */
static rq_status serialize(const rq_graph *g, external_plan *ext, bool value_info, void **data, size_t *size) {
  *data = NULL;
  *size = 0;
  arena A = {.value_info = value_info};
  Onnx__ModelProto m;
  Onnx__GraphProto gp;
  if (!build_model(&A, g, &m, &gp, ext)) {
    arena_free(&A);
    return rq__nomem(__func__, 0);
  }
  size_t n = protobuf_c_message_get_packed_size(&m.base);
  rq_status s = RQ_OK;
  if (ext != NULL && ext->io_failed) {
    s = rq__fail(RQ_ERR_IO, __func__, "writing external data '%s' failed", ext->location);
  } else if (n > PROTOBUF_LIMIT) {
    s = rq__fail(RQ_ERR_UNSUPPORTED, __func__,
                 "the model is %zu bytes, over protobuf's 2 GB limit%s", n,
                 ext ? " even with its initializers as external data" : "");
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

rq_status rq__graph_serialize(const rq_graph *g, void **data, size_t *size) {
  RQ_CHECK_NOT_NULL(g);
  RQ_CHECK_NOT_NULL(data);
  RQ_CHECK_NOT_NULL(size);
  return serialize(g, NULL, false, data, size);
}

rq_status rq__graph_clone(const rq_graph *src, rq_graph **out) {
  RQ_CHECK_NOT_NULL(src);
  RQ_CHECK_NOT_NULL(out);
  void *data;
  size_t size;
  RQ_TRY(serialize(src, NULL, true, &data, &size));
  rq_status st = rq_graph_load_buffer(data, size, out);
  rq__free(data);
  return st;
}

/* Size of the model with every tensor inline, without packing it. */
static rq_status inline_size(const rq_graph *g, size_t *n) {
  arena A = {0};
  Onnx__ModelProto m;
  Onnx__GraphProto gp;
  bool ok = build_model(&A, g, &m, &gp, NULL);
  if (ok) *n = protobuf_c_message_get_packed_size(&m.base);
  arena_free(&A);
  return ok ? RQ_OK : rq__nomem(__func__, 0);
}

static rq_status write_file(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) return rq__fail(RQ_ERR_IO, "rq_graph_save", "%s: cannot create: %s", path, strerror(errno));
  bool ok = fwrite(data, 1, size, f) == size;
  ok = (fclose(f) == 0) && ok;
  return ok ? RQ_OK : rq__fail(RQ_ERR_IO, "rq_graph_save", "%s: write failed: %s", path, strerror(errno));
}

rq_status rq__graph_save_external(const rq_graph *g, const char *path, size_t threshold) {
  RQ_CHECK_NOT_NULL(g);
  RQ_CHECK_NOT_NULL(path);
  void *data = NULL;
  size_t size = 0;
  rq_status s;
  if (threshold == 0) {
    s = serialize(g, NULL, false, &data, &size);
  } else {
    /* <model>.data next to the model; location is its bare file name. */
    size_t len = strlen(path) + 6;
    char *data_path = rq__malloc(len);
    if (data_path == NULL) return rq__nomem(__func__, len);
    snprintf(data_path, len, "%s.data", path);
    const char *slash = strrchr(data_path, '/');
    external_plan ext = {.threshold = threshold, .location = slash ? slash + 1 : data_path};
    ext.f = fopen(data_path, "wb");
    if (ext.f == NULL) {
      s = rq__fail(RQ_ERR_IO, "rq_graph_save", "%s: cannot create: %s", data_path, strerror(errno));
    } else {
      s = serialize(g, &ext, false, &data, &size);
      if (fclose(ext.f) != 0 && s == RQ_OK)
        s = rq__fail(RQ_ERR_IO, "rq_graph_save", "%s: write failed", data_path);
    }
    rq__free(data_path);
  }
  if (s == RQ_OK) s = write_file(path, data, size);
  rq__free(data);
  return s;
}

rq_status rq_graph_save(const rq_graph *graph, const char *path) {
  RQ_CHECK_NOT_NULL(graph);
  RQ_CHECK_NOT_NULL(path);
  size_t n = 0;
  rq_status s = inline_size(graph, &n);
  /* Over protobuf's limit: initializers of 1 KiB and more go external. */
  if (s == RQ_OK) s = rq__graph_save_external(graph, path, n > PROTOBUF_LIMIT ? 1024 : 0);
  if (s != RQ_OK && strncmp(rq_last_error(), "rq_graph_save", 13) != 0) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", rq_last_error());
    return rq__fail(s, __func__, "%s", msg);
  }
  return s;
}
