/* SPDX-License-Identifier: Apache-2.0 */
/* ONNX ModelProto -> rq_graph, validating everything a hostile file could
 * get wrong. Every failure names the node, tensor or value at fault. */
#include "onnx/onnx_io.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Counts above this are refused before any per-item allocation (a model this
 * large cannot fit protobuf's 2 GB anyway). */
#define MAX_ITEMS (1 << 26)

typedef struct loader {
  rq_graph *g;
  const char *base_dir; /* model folder for external data, or NULL */
  const char *where;    /* public function name for messages */
  int depth;            /* 0 = the main graph, 1 = its subgraphs, ... */
} loader;

static rq_status load_graph(loader *L, const Onnx__GraphProto *gp);

static const char *str_or_empty(const char *s) { return s ? s : ""; }

/* Re-labels a message set by an internal helper ("rq__x: ...") with the
 * public function name, so users see where they called. */
static rq_status relabel(rq_status s, const char *where) {
  if (s == RQ_OK) return s;
  char msg[1024];
  const char *m = rq_last_error();
  if (strncmp(m, "rq__", 4) == 0 && strstr(m, ": ") != NULL) m = strstr(m, ": ") + 2;
  snprintf(msg, sizeof msg, "%s", m);
  return rq__fail(s, where, "%s", msg);
}

static bool is_default_domain(const char *d) { return d[0] == '\0' || strcmp(d, "ai.onnx") == 0; }

static bool same_domain(const char *a, const char *b) {
  return is_default_domain(a) ? is_default_domain(b) : strcmp(a, b) == 0;
}

/* The kinds razorq holds: a tensor, a sequence of tensors, an optional
 * tensor or sequence of tensors. Sets *kind, *inner and the innermost tensor
 * type (NULL when the model leaves it out); false for anything else (maps,
 * sparse tensors, nested sequences, a missing element type). */
static bool unwrap_type(const Onnx__TypeProto *tp, int *kind, int *inner, const Onnx__TypeProto__Tensor **tt) {
  *kind = RQ__KIND_TENSOR;
  *inner = RQ__KIND_TENSOR;
  *tt = NULL;
  if (tp->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE) {
    if (tp->optional_type == NULL || tp->optional_type->elem_type == NULL) return false;
    *kind = RQ__KIND_OPTIONAL;
    tp = tp->optional_type->elem_type;
    if (tp->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE) *inner = RQ__KIND_SEQUENCE;
  } else if (tp->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE) {
    *kind = RQ__KIND_SEQUENCE;
  }
  if (tp->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE) {
    if (tp->sequence_type == NULL || tp->sequence_type->elem_type == NULL) return false;
    tp = tp->sequence_type->elem_type;
  }
  if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || tp->tensor_type == NULL) return false;
  *tt = tp->tensor_type;
  return true;
}

/* Declared type/shape of a graph input/output or value_info entry. */
static rq_status apply_type(loader *L, rq__value *v, const Onnx__TypeProto *tp, const char *role,
                            bool required_tensor) {
  if (tp == NULL) return RQ_OK;
  int kind, inner;
  const Onnx__TypeProto__Tensor *tt;
  if (!unwrap_type(tp, &kind, &inner, &tt)) {
    if (!required_tensor) return RQ_OK;
    return rq__fail(RQ_ERR_UNSUPPORTED, L->where,
                    "%s '%s': only tensor, sequence(tensor) and optional types are supported", role, v->name);
  }
  int32_t dtype = tt->has_elem_type ? tt->elem_type : RQ__DT_UNDEFINED;
  if (dtype != RQ__DT_UNDEFINED && rq__dtype_size(dtype) == 0) {
    if (!required_tensor) return RQ_OK;
    return rq__fail(RQ_ERR_UNSUPPORTED, L->where, "%s '%s': element type %s (%d) is not supported",
                    role, v->name, rq__dtype_name(dtype), (int)dtype);
  }
  int ndim = -1;
  int64_t dims[RQ__MAX_RANK];
  const char *sym[RQ__MAX_RANK] = {0};
  if (tt->shape != NULL) {
    if (tt->shape->n_dim > RQ__MAX_RANK)
      return rq__fail(RQ_ERR_UNSUPPORTED, L->where, "%s '%s': rank %zu is over %d", role, v->name,
                      tt->shape->n_dim, RQ__MAX_RANK);
    ndim = (int)tt->shape->n_dim;
    for (int i = 0; i < ndim; i++) {
      const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
      dims[i] = -1;
      if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
        if (d->dim_value < 0)
          return rq__fail(RQ_ERR_FORMAT, L->where, "%s '%s': dimension %d is negative (%lld)", role,
                          v->name, i, (long long)d->dim_value);
        dims[i] = d->dim_value;
      } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                 d->dim_param != NULL && d->dim_param[0] != '\0') {
        sym[i] = d->dim_param;
      }
    }
  }
  /* Commit only after validation. */
  char *sym_copy[RQ__MAX_RANK] = {0};
  for (int i = 0; i < ndim; i++) {
    if (sym[i] != NULL && (sym_copy[i] = rq__strdup(sym[i])) == NULL) {
      for (int j = 0; j < i; j++) rq__free(sym_copy[j]);
      return rq__nomem(L->where, strlen(sym[i]) + 1);
    }
  }
  for (int i = 0; i < RQ__MAX_RANK; i++) {
    rq__free(v->shape.sym[i]);
    v->shape.sym[i] = i < ndim ? sym_copy[i] : NULL;
    v->shape.dims[i] = i < ndim ? dims[i] : 0;
  }
  v->shape.ndim = ndim;
  v->dtype = dtype;
  v->kind = kind;
  v->inner_kind = kind == RQ__KIND_OPTIONAL ? inner : RQ__KIND_TENSOR;
  return RQ_OK;
}

/* Value id for a name used by a node, creating the value on first use. */
static rq_status value_for(loader *L, const char *name, int *id) {
  *id = rq__graph_find_value(L->g, name);
  if (*id >= 0) return RQ_OK;
  return relabel(rq__graph_add_value(L->g, name, id), L->where);
}

static rq_status dup_string(const char *src, char **dst, const char *where) {
  if (src == NULL) return RQ_OK;
  *dst = rq__strdup(src);
  return *dst ? RQ_OK : rq__nomem(where, strlen(src) + 1);
}

static rq_status load_attr(loader *L, const Onnx__AttributeProto *ap, const char *node_desc,
                           rq__attr *a) {
  memset(a, 0, sizeof *a);
  const char *aname = str_or_empty(ap->name);
  if (aname[0] == '\0')
    return rq__fail(RQ_ERR_FORMAT, L->where, "%s: an attribute has no name", node_desc);
  if (ap->ref_attr_name != NULL && ap->ref_attr_name[0] != '\0')
    return rq__fail(RQ_ERR_UNSUPPORTED, L->where,
                    "%s: attribute '%s' refers to a function attribute", node_desc, aname);
  int type = ap->has_type ? (int)ap->type : 0;
  if (type == 0) { /* IR 0.0.1 had no type field: infer it from what is set */
    type = ap->has_f ? RQ__ATTR_FLOAT : ap->has_i ? RQ__ATTR_INT : ap->has_s ? RQ__ATTR_STRING
         : ap->t ? RQ__ATTR_TENSOR : ap->g ? 5 : ap->n_floats ? RQ__ATTR_FLOATS
         : ap->n_ints ? RQ__ATTR_INTS : ap->n_strings ? RQ__ATTR_STRINGS : 0;
    if (type == 0)
      return rq__fail(RQ_ERR_FORMAT, L->where, "%s: attribute '%s' has no type and no value",
                      node_desc, aname);
  }
  a->type = type;
  a->name = rq__strdup(aname);
  if (a->name == NULL) return rq__nomem(L->where, strlen(aname) + 1);
  rq_status s = RQ_OK;
  switch (type) {
    case RQ__ATTR_FLOAT: a->f = ap->f; break;
    case RQ__ATTR_INT: a->i = ap->i; break;
    case RQ__ATTR_STRING:
      a->s = rq__malloc(ap->s.len + 1);
      if (a->s == NULL) {
        s = rq__nomem(L->where, ap->s.len + 1);
        break;
      }
      if (ap->s.len > 0) memcpy(a->s, ap->s.data, ap->s.len);
      a->s[ap->s.len] = '\0';
      a->s_len = ap->s.len;
      break;
    case RQ__ATTR_TENSOR: {
      if (ap->t == NULL) {
        s = rq__fail(RQ_ERR_FORMAT, L->where, "%s: tensor attribute '%s' holds no tensor", node_desc,
                     aname);
        break;
      }
      char what[512];
      snprintf(what, sizeof what, "%s: %s attribute '%s'", L->where, node_desc, aname);
      s = rq__tensor_from_pb(ap->t, L->base_dir, what, &a->t);
      break;
    }
    case RQ__ATTR_FLOATS:
      a->count = ap->n_floats;
      if (a->count > 0) {
        a->floats = rq__malloc_array(a->count, sizeof *a->floats);
        if (a->floats == NULL) s = rq__nomem(L->where, a->count * sizeof *a->floats);
        else memcpy(a->floats, ap->floats, a->count * sizeof *a->floats);
      }
      break;
    case RQ__ATTR_INTS:
      a->count = ap->n_ints;
      if (a->count > 0) {
        a->ints = rq__malloc_array(a->count, sizeof *a->ints);
        if (a->ints == NULL) s = rq__nomem(L->where, a->count * sizeof *a->ints);
        else memcpy(a->ints, ap->ints, a->count * sizeof *a->ints);
      }
      break;
    case RQ__ATTR_STRINGS:
      if (ap->n_strings > 0) {
        a->strings = rq__calloc(ap->n_strings, sizeof *a->strings);
        if (a->strings == NULL) {
          s = rq__nomem(L->where, ap->n_strings * sizeof *a->strings);
          break;
        }
        a->count = ap->n_strings;
        for (size_t i = 0; i < ap->n_strings && s == RQ_OK; i++) {
          a->strings[i] = rq__malloc(ap->strings[i].len + 1);
          if (a->strings[i] == NULL) {
            s = rq__nomem(L->where, ap->strings[i].len + 1);
            break;
          }
          if (ap->strings[i].len > 0) memcpy(a->strings[i], ap->strings[i].data, ap->strings[i].len);
          a->strings[i][ap->strings[i].len] = '\0';
        }
      }
      break;
    case RQ__ATTR_GRAPH: {
      if (ap->g == NULL) {
        s = rq__fail(RQ_ERR_FORMAT, L->where, "%s: graph attribute '%s' holds no graph", node_desc, aname);
        break;
      }
      if (L->depth + 1 > RQ__MAX_SUBGRAPH_DEPTH) {
        s = rq__fail(RQ_ERR_FORMAT, L->where, "%s: attribute '%s': subgraphs nest deeper than %d levels",
                     node_desc, aname, RQ__MAX_SUBGRAPH_DEPTH);
        break;
      }
      char where[768];
      snprintf(where, sizeof where, "%s: %s attribute '%s'", L->where, node_desc, aname);
      loader sub = {NULL, L->base_dir, where, L->depth + 1};
      s = rq__graph_create(&sub.g);
      /* The subgraph runs under the model's opsets ("" and "ai.onnx" name
       * the same domain, and a new graph starts with a default one). */
      for (int i = 0; s == RQ_OK && i < L->g->n_opsets; i++) {
        if (rq__graph_opset(sub.g, L->g->opsets[i].domain) != 0) {
          for (int j = 0; j < sub.g->n_opsets; j++)
            if (same_domain(sub.g->opsets[j].domain, L->g->opsets[i].domain))
              sub.g->opsets[j].version = L->g->opsets[i].version;
          continue;
        }
        rq__opset *grown = rq__realloc_array(sub.g->opsets, (size_t)sub.g->n_opsets + 1, sizeof *grown);
        if (grown == NULL) {
          s = rq__nomem(L->where, sizeof *grown);
          break;
        }
        sub.g->opsets = grown;
        grown[sub.g->n_opsets].version = L->g->opsets[i].version;
        grown[sub.g->n_opsets].domain = rq__strdup(L->g->opsets[i].domain);
        if (grown[sub.g->n_opsets].domain == NULL) s = rq__nomem(L->where, 1);
        else sub.g->n_opsets++;
      }
      if (s == RQ_OK) s = load_graph(&sub, ap->g);
      if (s == RQ_OK && ap->g->name != NULL) s = dup_string(ap->g->name, &sub.g->name, L->where);
      if (s != RQ_OK) rq_graph_destroy(sub.g);
      else a->g = sub.g;
      break;
    }
    case RQ__ATTR_TYPE_PROTO: {
      int kind, inner;
      const Onnx__TypeProto__Tensor *tt;
      if (ap->tp == NULL || !unwrap_type(ap->tp, &kind, &inner, &tt)) {
        s = rq__fail(RQ_ERR_UNSUPPORTED, L->where,
                     "%s: attribute '%s' is not a tensor, sequence(tensor) or optional type", node_desc, aname);
        break;
      }
      size_t len = onnx__type_proto__get_packed_size(ap->tp);
      a->s = rq__malloc(len + 1);
      a->ints = rq__malloc_array(3, sizeof *a->ints);
      if (a->s == NULL || a->ints == NULL) {
        s = rq__nomem(L->where, len + 1);
        break;
      }
      a->s_len = onnx__type_proto__pack(ap->tp, (uint8_t *)a->s);
      a->s[a->s_len] = '\0';
      a->count = 3;
      a->ints[0] = kind;
      a->ints[1] = kind == RQ__KIND_OPTIONAL ? inner : RQ__KIND_TENSOR;
      a->ints[2] = tt->has_elem_type ? tt->elem_type : RQ__DT_UNDEFINED;
      break;
    }
    default: {
      static const char *const names[] = {"UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH",
                                          "FLOATS", "INTS", "STRINGS", "TENSORS", "GRAPHS",
                                          "SPARSE_TENSOR", "SPARSE_TENSORS", "TYPE_PROTO",
                                          "TYPE_PROTOS"};
      const char *tn = type >= 0 && type < (int)(sizeof names / sizeof *names) ? names[type] : "?";
      s = rq__fail(RQ_ERR_UNSUPPORTED, L->where, "%s: attribute '%s' of type %s is not supported",
                   node_desc, aname, tn);
      break;
    }
  }
  if (s != RQ_OK) rq__attr_clear(a);
  return s;
}

/* Gives outer-scope reference v of subgraph sub its implicit-input slot in
 * the node being bound (ids[0 .. *n) so far): the slot of the outer value
 * of the same name, appended when new. */
static rq_status bind_one(loader *L, rq_graph *sub, int v, int **ids, int *n, int *cap) {
  if (v < 0 || !sub->values[v].is_outer || sub->values[v].outer_slot >= 0) return RQ_OK;
  int id;
  RQ_TRY(value_for(L, sub->values[v].name, &id));
  int slot = 0;
  while (slot < *n && (*ids)[slot] != id) slot++;
  if (slot == *n) {
    if (*n == *cap) {
      int cap2 = *cap ? 2 * *cap : 8;
      int *grown = rq__realloc_array(*ids, (size_t)cap2, sizeof *grown);
      if (grown == NULL) return rq__nomem(L->where, (size_t)cap2 * sizeof *grown);
      *ids = grown;
      *cap = cap2;
    }
    (*ids)[(*n)++] = id;
  }
  sub->values[v].outer_slot = slot;
  return RQ_OK;
}

/* Lists the names node's subgraphs read from this graph as its implicit
 * inputs (once each) and points each subgraph's outer-scope reference at
 * its slot. Slots follow the order of first use in the (sorted) subgraphs,
 * then their outputs: what a save and reload reproduces, unlike value ids.
 * A name this graph does not define either becomes an outer-scope
 * reference of this graph in turn (in a subgraph) or is reported dangling
 * by the sort (in the main graph). */
static rq_status bind_outer_refs(loader *L, int node) {
  rq_status s = RQ_OK;
  int *ids = NULL, n = 0, cap = 0;
  for (int a = 0; a < L->g->nodes[node].n_attrs && s == RQ_OK; a++) {
    if (L->g->nodes[node].attrs[a].type != RQ__ATTR_GRAPH) continue;
    rq_graph *sub = L->g->nodes[node].attrs[a].g;
    for (int i = 0; i < sub->n_nodes && s == RQ_OK; i++)
      for (int k = 0; k < sub->nodes[i].n_inputs && s == RQ_OK; k++)
        s = bind_one(L, sub, sub->nodes[i].inputs[k], &ids, &n, &cap);
    for (int k = 0; k < sub->n_outputs && s == RQ_OK; k++) s = bind_one(L, sub, sub->outputs[k], &ids, &n, &cap);
  }
  if (s == RQ_OK && n > 0) {
    rq__node *nd = &L->g->nodes[node];
    int *grown = rq__realloc_array(nd->inputs, (size_t)nd->n_inputs + (size_t)n + 1, sizeof *grown);
    if (grown == NULL) {
      s = rq__nomem(L->where, ((size_t)nd->n_inputs + (size_t)n) * sizeof *grown);
    } else {
      nd->inputs = grown;
      memcpy(&nd->inputs[nd->n_inputs], ids, (size_t)n * sizeof *ids);
      nd->n_inputs += n;
      nd->n_implicit = n;
    }
  }
  rq__free(ids);
  return s;
}

static rq_status load_node(loader *L, const Onnx__NodeProto *np, size_t index) {
  const char *name = str_or_empty(np->name), *op = str_or_empty(np->op_type);
  char desc[384];
  snprintf(desc, sizeof desc, "node #%zu '%s' (%s)", index, name, op);
  if (op[0] == '\0') return rq__fail(RQ_ERR_FORMAT, L->where, "%s has no op_type", desc);
  if (np->n_input > MAX_ITEMS || np->n_output > MAX_ITEMS)
    return rq__fail(RQ_ERR_FORMAT, L->where, "%s has too many inputs/outputs", desc);
  if (is_default_domain(str_or_empty(np->domain))) {
    int since = rq__onnx_op_since(op);
    int64_t opset = rq__graph_opset(L->g, "");
    if (since > opset)
      return rq__fail(RQ_ERR_FORMAT, L->where, "%s: %s exists from ai.onnx opset %d on, and the model imports "
                      "opset %lld", desc, op, since, (long long)opset);
  }
  int *ids = rq__malloc_array(np->n_input + np->n_output + 1, sizeof *ids);
  if (ids == NULL) return rq__nomem(L->where, (np->n_input + np->n_output) * sizeof *ids);
  rq_status s = RQ_OK;
  for (size_t i = 0; i < np->n_input && s == RQ_OK; i++) {
    const char *in = str_or_empty(np->input[i]);
    ids[i] = -1;
    if (in[0] != '\0') s = value_for(L, in, &ids[i]);
  }
  int *outs = ids + np->n_input;
  for (size_t i = 0; i < np->n_output && s == RQ_OK; i++) {
    const char *o = str_or_empty(np->output[i]);
    outs[i] = -1;
    if (o[0] != '\0') s = value_for(L, o, &outs[i]);
  }
  int node = -1;
  if (s == RQ_OK)
    s = relabel(rq__graph_add_node(L->g, op, str_or_empty(np->domain), name, ids, (int)np->n_input,
                                   outs, (int)np->n_output, &node),
                L->where);
  rq__free(ids);
  if (s != RQ_OK) return s;
  for (size_t i = 0; i < np->n_attribute; i++) {
    rq__attr a;
    RQ_TRY(load_attr(L, np->attribute[i], desc, &a));
    if (rq__node_attr(&L->g->nodes[node], a.name) != NULL) {
      s = rq__fail(RQ_ERR_FORMAT, L->where, "%s: attribute '%s' is given twice", desc, a.name);
      rq__attr_clear(&a);
      return s;
    }
    RQ_TRY(relabel(rq__node_take_attr(&L->g->nodes[node], &a), L->where));
  }
  return bind_outer_refs(L, node);
}

static rq_status append_id(int **arr, int *n, int id, const char *where) {
  int *grown = rq__realloc_array(*arr, (size_t)*n + 1, sizeof *grown);
  if (grown == NULL) return rq__nomem(where, ((size_t)*n + 1) * sizeof *grown);
  *arr = grown;
  (*arr)[(*n)++] = id;
  return RQ_OK;
}

static rq_status load_model(loader *L, const Onnx__ModelProto *m) {
  rq_graph *g = L->g;
  const char *where = L->where;
  const Onnx__GraphProto *gp = m->graph;
  if (gp == NULL) return rq__fail(RQ_ERR_FORMAT, where, "the model has no graph");
  g->ir_version = m->has_ir_version ? m->ir_version : 0;
  g->model_version = m->has_model_version ? m->model_version : 0;
  RQ_TRY(dup_string(m->producer_name, &g->producer_name, where));
  RQ_TRY(dup_string(m->producer_version, &g->producer_version, where));
  RQ_TRY(dup_string(m->domain, &g->model_domain, where));
  RQ_TRY(dup_string(m->doc_string, &g->doc_string, where));
  RQ_TRY(dup_string(gp->name, &g->name, where));

  /* Opsets: the default domain must be one the executor implements. */
  if (m->n_opset_import > MAX_ITEMS) return rq__fail(RQ_ERR_FORMAT, where, "too many opset imports");
  for (int i = 0; i < g->n_opsets; i++) rq__free(g->opsets[i].domain);
  rq__free(g->opsets);
  g->n_opsets = 0;
  g->opsets = rq__calloc(m->n_opset_import + 1, sizeof *g->opsets);
  if (g->opsets == NULL) return rq__nomem(where, m->n_opset_import * sizeof *g->opsets);
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *op = m->opset_import[i];
    const char *domain = str_or_empty(op->domain);
    if (!op->has_version)
      return rq__fail(RQ_ERR_FORMAT, where, "opset import '%s' has no version", domain);
    if (rq__graph_opset(g, domain) != 0)
      return rq__fail(RQ_ERR_FORMAT, where, "opset domain '%s' is imported twice", domain);
    RQ_TRY(dup_string(domain, &g->opsets[g->n_opsets].domain, where));
    g->opsets[g->n_opsets++].version = op->version;
  }
  int64_t opset = rq__graph_opset(g, "");
  if (opset == 0) return rq__fail(RQ_ERR_FORMAT, where, "the model imports no ai.onnx opset");
  if (opset < RQ__OPSET_MIN || opset > RQ__OPSET_MAX)
    return rq__fail(RQ_ERR_UNSUPPORTED, where,
                    "ai.onnx opset %lld is outside the %d..%d razorq supports (convert the model "
                    "with onnx.version_converter)", (long long)opset, RQ__OPSET_MIN, RQ__OPSET_MAX);

  return load_graph(L, gp);
}

/* The graph's values and nodes (the main graph or a subgraph). */
static rq_status load_graph(loader *L, const Onnx__GraphProto *gp) {
  rq_graph *g = L->g;
  const char *where = L->where;
  if (gp->n_sparse_initializer > 0)
    return rq__fail(RQ_ERR_UNSUPPORTED, where, "sparse initializers are not supported");
  if (gp->n_initializer > MAX_ITEMS || gp->n_node > MAX_ITEMS || gp->n_input > MAX_ITEMS ||
      gp->n_output > MAX_ITEMS)
    return rq__fail(RQ_ERR_FORMAT, where, "the graph has too many items");

  for (size_t i = 0; i < gp->n_initializer; i++) {
    const Onnx__TensorProto *tp = gp->initializer[i];
    const char *name = str_or_empty(tp->name);
    if (name[0] == '\0')
      return rq__fail(RQ_ERR_FORMAT, where, "initializer #%zu has no name", i);
    if (rq__graph_find_value(g, name) >= 0)
      return rq__fail(RQ_ERR_FORMAT, where, "initializer '%s' is given twice", name);
    rq__tensor *t;
    RQ_TRY(rq__tensor_from_pb(tp, L->base_dir, where, &t));
    int id;
    rq_status s = rq__graph_add_value(g, name, &id);
    if (s != RQ_OK) {
      rq__tensor_destroy(t);
      return relabel(s, where);
    }
    RQ_TRY(relabel(rq__graph_set_initializer(g, id, t), where));
  }

  for (size_t i = 0; i < gp->n_input; i++) {
    const Onnx__ValueInfoProto *vi = gp->input[i];
    const char *name = str_or_empty(vi->name);
    if (name[0] == '\0') return rq__fail(RQ_ERR_FORMAT, where, "graph input #%zu has no name", i);
    int id = rq__graph_find_value(g, name);
    if (id >= 0 && g->values[id].init != NULL) continue; /* old-style: initializers listed as inputs */
    if (id >= 0) return rq__fail(RQ_ERR_FORMAT, where, "graph input '%s' is listed twice", name);
    RQ_TRY(relabel(rq__graph_add_value(g, name, &id), where));
    g->values[id].is_input = true;
    RQ_TRY(append_id(&g->inputs, &g->n_inputs, id, where));
    RQ_TRY(apply_type(L, &g->values[id], vi->type, "graph input", true));
  }

  for (size_t i = 0; i < gp->n_node; i++) RQ_TRY(load_node(L, gp->node[i], i));

  for (size_t i = 0; i < gp->n_output; i++) {
    const Onnx__ValueInfoProto *vi = gp->output[i];
    const char *name = str_or_empty(vi->name);
    if (name[0] == '\0') return rq__fail(RQ_ERR_FORMAT, where, "graph output #%zu has no name", i);
    int id = rq__graph_find_value(g, name);
    /* A subgraph may hand an outer-scope value straight on. */
    if (id < 0 && L->depth > 0) RQ_TRY(value_for(L, name, &id));
    if (id < 0)
      return rq__fail(RQ_ERR_FORMAT, where,
                      "graph output '%s' is dangling (no node, input or initializer has that name)",
                      name);
    if (g->values[id].is_output)
      return rq__fail(RQ_ERR_FORMAT, where, "graph output '%s' is listed twice", name);
    g->values[id].is_output = true;
    RQ_TRY(append_id(&g->outputs, &g->n_outputs, id, where));
    if (g->values[id].init == NULL)
      RQ_TRY(apply_type(L, &g->values[id], vi->type, "graph output", true));
  }
  if (g->n_outputs == 0) return rq__fail(RQ_ERR_FORMAT, where, "the graph has no outputs");

  for (size_t i = 0; i < gp->n_value_info; i++) {
    const Onnx__ValueInfoProto *vi = gp->value_info[i];
    int id = rq__graph_find_value(g, str_or_empty(vi->name));
    if (id >= 0 && g->values[id].init == NULL && !g->values[id].is_input && !g->values[id].is_output)
      RQ_TRY(apply_type(L, &g->values[id], vi->type, "value_info", false));
  }

  /* What a subgraph reads but does not define comes from the outer scope;
   * the node owning it binds these to its implicit inputs (bind_outer_refs). */
  for (int v = 0; L->depth > 0 && v < g->n_values; v++)
    if (g->values[v].init == NULL && !g->values[v].is_input && g->values[v].producer < 0)
      g->values[v].is_outer = true;

  RQ_TRY(relabel(rq__pass_constant_nodes(g, NULL), where));
  return relabel(rq__graph_sort(g), where);
}

static rq_status load_impl(const void *data, size_t size, const char *base_dir, const char *where,
                           rq_graph **out) {
  RQ_TRY(relabel(rq__pb_check(&onnx__model_proto__descriptor, data, size, where), where));
  Onnx__ModelProto *m = onnx__model_proto__unpack(&rq__pb_allocator, size, data);
  if (m == NULL)
    return rq__pb_unpack_failure(where, "not a valid ONNX model (protobuf decoding failed)");
  loader L = {NULL, base_dir, where, 0};
  rq_status s = rq__graph_create(&L.g);
  if (s == RQ_OK) s = load_model(&L, m);
  onnx__model_proto__free_unpacked(m, &rq__pb_allocator);
  if (s != RQ_OK) {
    rq_graph_destroy(L.g);
    return s;
  }
  *out = L.g;
  return RQ_OK;
}

rq_status rq_graph_load_buffer(const void *data, size_t size, rq_graph **out) {
  RQ_CHECK_NOT_NULL(out);
  *out = NULL;
  RQ_CHECK_NOT_NULL(data);
  RQ_CHECK_ARG(size > 0, "size is 0");
  return load_impl(data, size, NULL, __func__, out);
}

rq_status rq_graph_load(const char *path, rq_graph **out) {
  RQ_CHECK_NOT_NULL(out);
  *out = NULL;
  RQ_CHECK_NOT_NULL(path);
  void *data;
  size_t size;
  RQ_TRY(relabel(rq__read_file(path, &data, &size), __func__));
  /* External data is resolved against the model's folder. */
  size_t plen = strlen(path);
  char *dir = rq__malloc(plen + 2);
  if (dir == NULL) {
    rq__free(data);
    return rq__nomem(__func__, plen + 2);
  }
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    strcpy(dir, ".");
  } else if (slash == path) {
    strcpy(dir, "/");
  } else {
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
  }
  char where[512];
  snprintf(where, sizeof where, "%s: %s", __func__, path);
  rq_status s = size == 0 ? rq__fail(RQ_ERR_FORMAT, where, "empty file")
                          : load_impl(data, size, dir, where, out);
  rq__free(dir);
  rq__free(data);
  return s;
}
