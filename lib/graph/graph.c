/* SPDX-License-Identifier: Apache-2.0 */
/* The graph IR: values, nodes, attributes, topological order, rewrites. */
#include "graph/graph.h"

#include <stdio.h>
#include <string.h>
#include <xxhash.h>

/* ------------------------------------------------------------ attributes -- */

void rq__attr_clear(rq__attr *a) {
  rq__free(a->name);
  rq__free(a->s);
  rq__free(a->ints);
  rq__free(a->floats);
  for (size_t i = 0; a->strings != NULL && i < a->count; i++) rq__free(a->strings[i]);
  rq__free(a->strings);
  rq__tensor_destroy(a->t);
  rq_graph_destroy(a->g);
  memset(a, 0, sizeof *a);
}

bool rq__node_has_subgraph(const rq__node *n) {
  for (int i = 0; n != NULL && i < n->n_attrs; i++)
    if (n->attrs[i].type == RQ__ATTR_GRAPH) return true;
  return false;
}

const rq__attr *rq__node_attr(const rq__node *n, const char *name) {
  if (n == NULL || name == NULL) return NULL;
  for (int i = 0; i < n->n_attrs; i++)
    if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
  return NULL;
}

int64_t rq__node_attr_int(const rq__node *n, const char *name, int64_t dflt) {
  const rq__attr *a = rq__node_attr(n, name);
  return a != NULL && a->type == RQ__ATTR_INT ? a->i : dflt;
}

float rq__node_attr_float(const rq__node *n, const char *name, float dflt) {
  const rq__attr *a = rq__node_attr(n, name);
  return a != NULL && a->type == RQ__ATTR_FLOAT ? a->f : dflt;
}

const char *rq__node_attr_string(const rq__node *n, const char *name, const char *dflt) {
  const rq__attr *a = rq__node_attr(n, name);
  return a != NULL && a->type == RQ__ATTR_STRING ? a->s : dflt;
}

const int64_t *rq__node_attr_ints(const rq__node *n, const char *name, size_t *count) {
  const rq__attr *a = rq__node_attr(n, name);
  bool ok = a != NULL && a->type == RQ__ATTR_INTS;
  if (count != NULL) *count = ok ? a->count : 0;
  return ok ? a->ints : NULL;
}

const float *rq__node_attr_floats(const rq__node *n, const char *name, size_t *count) {
  const rq__attr *a = rq__node_attr(n, name);
  bool ok = a != NULL && a->type == RQ__ATTR_FLOATS;
  if (count != NULL) *count = ok ? a->count : 0;
  return ok ? a->floats : NULL;
}

/* Stores a (already filled, owning its storage) under its name: replaces an
 * attribute of that name or appends. On failure a is cleared. */
rq_status rq__node_take_attr(rq__node *n, rq__attr *a) {
  for (int i = 0; i < n->n_attrs; i++) {
    if (strcmp(n->attrs[i].name, a->name) == 0) {
      rq__attr_clear(&n->attrs[i]);
      n->attrs[i] = *a;
      return RQ_OK;
    }
  }
  rq__attr *grown = rq__realloc_array(n->attrs, (size_t)n->n_attrs + 1, sizeof *grown);
  if (grown == NULL) {
    rq__attr_clear(a);
    return rq__nomem(__func__, ((size_t)n->n_attrs + 1) * sizeof *grown);
  }
  n->attrs = grown;
  n->attrs[n->n_attrs++] = *a;
  return RQ_OK;
}

static rq_status attr_start(rq__attr *a, const char *name, int type) {
  memset(a, 0, sizeof *a);
  a->type = type;
  a->name = rq__strdup(name);
  return a->name == NULL ? rq__nomem(__func__, strlen(name) + 1) : RQ_OK;
}

rq_status rq__node_set_attr_int(rq__node *n, const char *name, int64_t v) {
  RQ_CHECK_NOT_NULL(n);
  RQ_CHECK_NOT_NULL(name);
  rq__attr a;
  RQ_TRY(attr_start(&a, name, RQ__ATTR_INT));
  a.i = v;
  return rq__node_take_attr(n, &a);
}

rq_status rq__node_set_attr_float(rq__node *n, const char *name, float v) {
  RQ_CHECK_NOT_NULL(n);
  RQ_CHECK_NOT_NULL(name);
  rq__attr a;
  RQ_TRY(attr_start(&a, name, RQ__ATTR_FLOAT));
  a.f = v;
  return rq__node_take_attr(n, &a);
}

rq_status rq__node_set_attr_string(rq__node *n, const char *name, const char *v) {
  RQ_CHECK_NOT_NULL(n);
  RQ_CHECK_NOT_NULL(name);
  RQ_CHECK_NOT_NULL(v);
  rq__attr a;
  RQ_TRY(attr_start(&a, name, RQ__ATTR_STRING));
  a.s = rq__strdup(v);
  if (a.s == NULL) {
    rq__attr_clear(&a);
    return rq__nomem(__func__, strlen(v) + 1);
  }
  a.s_len = strlen(v);
  return rq__node_take_attr(n, &a);
}

rq_status rq__node_set_attr_ints(rq__node *n, const char *name, const int64_t *v, size_t count) {
  RQ_CHECK_NOT_NULL(n);
  RQ_CHECK_NOT_NULL(name);
  RQ_CHECK_ARG(count == 0 || v != NULL, "v is NULL");
  rq__attr a;
  RQ_TRY(attr_start(&a, name, RQ__ATTR_INTS));
  if (count > 0) {
    a.ints = rq__malloc_array(count, sizeof *v);
    if (a.ints == NULL) {
      rq__attr_clear(&a);
      return rq__nomem(__func__, count * sizeof *v);
    }
    memcpy(a.ints, v, count * sizeof *v);
  }
  a.count = count;
  return rq__node_take_attr(n, &a);
}

rq_status rq__node_set_attr_floats(rq__node *n, const char *name, const float *v, size_t count) {
  RQ_CHECK_NOT_NULL(n);
  RQ_CHECK_NOT_NULL(name);
  RQ_CHECK_ARG(count == 0 || v != NULL, "v is NULL");
  rq__attr a;
  RQ_TRY(attr_start(&a, name, RQ__ATTR_FLOATS));
  if (count > 0) {
    a.floats = rq__malloc_array(count, sizeof *v);
    if (a.floats == NULL) {
      rq__attr_clear(&a);
      return rq__nomem(__func__, count * sizeof *v);
    }
    memcpy(a.floats, v, count * sizeof *v);
  }
  a.count = count;
  return rq__node_take_attr(n, &a);
}

/* ----------------------------------------------------------------- graph -- */

static void shape_clear(rq__shape *s) {
  for (int i = 0; i < RQ__MAX_RANK; i++) {
    rq__free(s->sym[i]);
    s->sym[i] = NULL;
  }
}

static void node_clear(rq__node *n) {
  rq__free(n->name);
  rq__free(n->op_type);
  rq__free(n->domain);
  rq__free(n->inputs);
  rq__free(n->outputs);
  for (int i = 0; i < n->n_attrs; i++) rq__attr_clear(&n->attrs[i]);
  rq__free(n->attrs);
  memset(n, 0, sizeof *n);
}

static void value_clear(rq__value *v) {
  rq__free(v->name);
  shape_clear(&v->shape);
  rq__tensor_destroy(v->init);
  memset(v, 0, sizeof *v);
}

void rq_graph_destroy(rq_graph *g) {
  if (g == NULL) return;
  rq__free(g->producer_name);
  rq__free(g->producer_version);
  rq__free(g->model_domain);
  rq__free(g->doc_string);
  rq__free(g->name);
  for (int i = 0; i < g->n_opsets; i++) rq__free(g->opsets[i].domain);
  rq__free(g->opsets);
  for (int i = 0; i < g->n_values; i++) value_clear(&g->values[i]);
  rq__free(g->values);
  for (int i = 0; i < g->n_nodes; i++) node_clear(&g->nodes[i]);
  rq__free(g->nodes);
  rq__free(g->inputs);
  rq__free(g->outputs);
  rq__free(g->name_index);
  void *cache = atomic_load(&g->exec_cache);
  if (cache != NULL && g->exec_cache_free != NULL) g->exec_cache_free(cache);
  rq__free(g);
}

rq_status rq__graph_create(rq_graph **out) {
  RQ_CHECK_NOT_NULL(out);
  rq_graph *g = rq__calloc(1, sizeof *g);
  if (g == NULL) return rq__nomem(__func__, sizeof *g);
  atomic_init(&g->exec_cache, NULL);
  g->ir_version = 8;
  g->opsets = rq__calloc(1, sizeof *g->opsets);
  if (g->opsets == NULL || (g->opsets[0].domain = rq__strdup("")) == NULL) {
    rq_graph_destroy(g);
    return rq__nomem(__func__, sizeof *g->opsets);
  }
  g->opsets[0].version = RQ__OPSET_MAX;
  g->n_opsets = 1;
  *out = g;
  return RQ_OK;
}

int64_t rq__graph_opset(const rq_graph *g, const char *domain) {
  if (g == NULL || domain == NULL) return 0;
  bool want_default = domain[0] == '\0' || strcmp(domain, "ai.onnx") == 0;
  for (int i = 0; i < g->n_opsets; i++) {
    const char *d = g->opsets[i].domain;
    bool is_default = d[0] == '\0' || strcmp(d, "ai.onnx") == 0;
    if (want_default ? is_default : strcmp(d, domain) == 0) return g->opsets[i].version;
  }
  return 0;
}

/* --- name index: open addressing over value ids, rebuilt when it fills --- */

static size_t name_hash(const char *s) { return (size_t)XXH3_64bits(s, strlen(s)); }

static void index_put(rq_graph *g, int id) {
  size_t mask = g->name_index_cap - 1;
  size_t h = name_hash(g->values[id].name) & mask;
  while (g->name_index[h] >= 0) h = (h + 1) & mask;
  g->name_index[h] = id;
}

static rq_status index_rebuild(rq_graph *g, size_t need) {
  size_t cap = 16;
  while (cap < need * 2) cap *= 2;
  int *idx = rq__malloc_array(cap, sizeof *idx);
  if (idx == NULL) return rq__nomem(__func__, cap * sizeof *idx);
  for (size_t i = 0; i < cap; i++) idx[i] = -1;
  rq__free(g->name_index);
  g->name_index = idx;
  g->name_index_cap = cap;
  for (int i = 0; i < g->n_values; i++) index_put(g, i);
  return RQ_OK;
}

int rq__graph_find_value(const rq_graph *g, const char *name) {
  if (g == NULL || name == NULL || g->name_index_cap == 0) return -1;
  size_t mask = g->name_index_cap - 1;
  for (size_t h = name_hash(name) & mask;; h = (h + 1) & mask) {
    int id = g->name_index[h];
    if (id < 0) return -1;
    if (strcmp(g->values[id].name, name) == 0) return id;
  }
}

/* A name not yet used: base itself, else base_1, base_2, ... */
static char *unique_name(const rq_graph *g, const char *base) {
  size_t len = strlen(base) + 24;
  char *name = rq__malloc(len);
  if (name == NULL) return NULL;
  snprintf(name, len, "%s", base);
  for (unsigned long k = 1; rq__graph_find_value(g, name) >= 0; k++)
    snprintf(name, len, "%s_%lu", base, k);
  return name;
}

rq_status rq__graph_add_value(rq_graph *g, const char *name, int *id) {
  RQ_CHECK_NOT_NULL(g);
  char base[32];
  if (name == NULL) {
    snprintf(base, sizeof base, "v_%d", g->n_values);
    name = base;
  }
  if (g->n_values == g->cap_values) {
    int cap = g->cap_values ? g->cap_values * 2 : 16;
    rq__value *grown = rq__realloc_array(g->values, (size_t)cap, sizeof *grown);
    if (grown == NULL) return rq__nomem(__func__, (size_t)cap * sizeof *grown);
    g->values = grown;
    g->cap_values = cap;
  }
  if ((size_t)(g->n_values + 1) * 2 > g->name_index_cap)
    RQ_TRY(index_rebuild(g, (size_t)g->n_values + 1));
  char *unique = unique_name(g, name);
  if (unique == NULL) return rq__nomem(__func__, strlen(name) + 24);
  rq__value *v = &g->values[g->n_values];
  memset(v, 0, sizeof *v);
  v->name = unique;
  v->shape.ndim = -1;
  v->producer = -1;
  v->outer_slot = -1;
  index_put(g, g->n_values);
  if (id != NULL) *id = g->n_values;
  g->n_values++;
  return RQ_OK;
}

/* Renames value id (name must be unused). */
static rq_status value_rename(rq_graph *g, int id, const char *name) {
  char *copy = rq__strdup(name);
  if (copy == NULL) return rq__nomem(__func__, strlen(name) + 1);
  rq__free(g->values[id].name);
  g->values[id].name = copy;
  if (g->values[id].init != NULL) RQ_TRY(rq__tensor_set_name(g->values[id].init, name));
  return index_rebuild(g, (size_t)g->n_values);
}

static void value_set_shape_from(rq__value *v, const rq__tensor *t) {
  shape_clear(&v->shape);
  v->dtype = t->dtype;
  v->shape.ndim = t->ndim;
  for (int i = 0; i < t->ndim; i++) v->shape.dims[i] = t->dims[i];
}

rq_status rq__graph_set_initializer(rq_graph *g, int id, rq__tensor *t) {
  if (g == NULL || t == NULL || id < 0 || id >= g->n_values) {
    rq__tensor_destroy(t);
    RQ_CHECK_NOT_NULL(g);
    RQ_CHECK_NOT_NULL(t);
    RQ_CHECK_ARG(false, "value id %d is out of range", id);
  }
  rq__value *v = &g->values[id];
  rq_status s = rq__tensor_set_name(t, v->name);
  if (s != RQ_OK) {
    rq__tensor_destroy(t);
    return s;
  }
  rq__tensor_destroy(v->init);
  v->init = t;
  v->is_input = false;
  value_set_shape_from(v, t);
  return RQ_OK;
}

rq_status rq__graph_add_initializer(rq_graph *g, rq__tensor *t, int *id) {
  int new_id;
  rq_status s = g == NULL || t == NULL ? RQ_ERR_INVALID_ARG : rq__graph_add_value(g, t->name, &new_id);
  if (s != RQ_OK) {
    rq__tensor_destroy(t);
    RQ_CHECK_NOT_NULL(g);
    RQ_CHECK_NOT_NULL(t);
    return s;
  }
  if (id != NULL) *id = new_id;
  return rq__graph_set_initializer(g, new_id, t);
}

static const char *node_label(const rq__node *n) { return n->name[0] ? n->name : "<unnamed>"; }

rq_status rq__graph_add_node(rq_graph *g, const char *op_type, const char *domain, const char *name,
                             const int *inputs, int n_inputs, const int *outputs, int n_outputs,
                             int *index) {
  RQ_CHECK_NOT_NULL(g);
  RQ_CHECK_NOT_NULL(op_type);
  RQ_CHECK_ARG(n_inputs >= 0 && (n_inputs == 0 || inputs != NULL), "bad inputs");
  RQ_CHECK_ARG(n_outputs >= 0 && (n_outputs == 0 || outputs != NULL), "bad outputs");
  if (name == NULL) name = "";
  if (domain == NULL) domain = "";
  for (int i = 0; i < n_inputs; i++)
    RQ_CHECK_ARG(inputs[i] >= -1 && inputs[i] < g->n_values, "node '%s': input %d: bad value id %d",
                 name, i, inputs[i]);
  for (int i = 0; i < n_outputs; i++) {
    int o = outputs[i];
    RQ_CHECK_ARG(o >= -1 && o < g->n_values, "node '%s': output %d: bad value id %d", name, i, o);
    if (o < 0) continue;
    const rq__value *v = &g->values[o];
    for (int j = 0; j < i; j++)
      if (outputs[j] == o)
        return rq__fail(RQ_ERR_FORMAT, __func__, "node '%s' (%s): output '%s' is listed twice", name,
                        op_type, v->name);
    if (v->producer >= 0)
      return rq__fail(RQ_ERR_FORMAT, __func__,
                      "node '%s' (%s): output '%s' is already produced by node '%s'", name, op_type,
                      v->name, node_label(&g->nodes[v->producer]));
    if (v->init != NULL || v->is_input)
      return rq__fail(RQ_ERR_FORMAT, __func__, "node '%s' (%s): output '%s' is also a graph %s", name,
                      op_type, v->name, v->init != NULL ? "initializer" : "input");
  }
  if (g->n_nodes == g->cap_nodes) {
    int cap = g->cap_nodes ? g->cap_nodes * 2 : 16;
    rq__node *grown = rq__realloc_array(g->nodes, (size_t)cap, sizeof *grown);
    if (grown == NULL) return rq__nomem(__func__, (size_t)cap * sizeof *grown);
    g->nodes = grown;
    g->cap_nodes = cap;
  }
  rq__node *n = &g->nodes[g->n_nodes];
  memset(n, 0, sizeof *n);
  n->name = rq__strdup(name);
  n->op_type = rq__strdup(op_type);
  n->domain = rq__strdup(domain);
  n->inputs = rq__malloc_array((size_t)n_inputs + 1, sizeof *n->inputs);
  n->outputs = rq__malloc_array((size_t)n_outputs + 1, sizeof *n->outputs);
  if (!n->name || !n->op_type || !n->domain || !n->inputs || !n->outputs) {
    node_clear(n);
    return rq__nomem(__func__, sizeof *n);
  }
  if (n_inputs > 0) memcpy(n->inputs, inputs, (size_t)n_inputs * sizeof *inputs);
  if (n_outputs > 0) memcpy(n->outputs, outputs, (size_t)n_outputs * sizeof *outputs);
  n->n_inputs = n_inputs;
  n->n_outputs = n_outputs;
  for (int i = 0; i < n_outputs; i++)
    if (outputs[i] >= 0) g->values[outputs[i]].producer = g->n_nodes;
  if (index != NULL) *index = g->n_nodes;
  g->n_nodes++;
  return RQ_OK;
}

rq_status rq__node_append_input(rq_graph *g, int node, int id) {
  RQ_CHECK_NOT_NULL(g);
  RQ_CHECK_ARG(node >= 0 && node < g->n_nodes, "node index %d is out of range", node);
  RQ_CHECK_ARG(id >= -1 && id < g->n_values, "value id %d is out of range", id);
  rq__node *n = &g->nodes[node];
  int *grown = rq__realloc_array(n->inputs, (size_t)n->n_inputs + 1, sizeof *grown);
  if (grown == NULL) return rq__nomem(__func__, ((size_t)n->n_inputs + 1) * sizeof *grown);
  n->inputs = grown;
  /* New explicit inputs go before the implicit ones, which stay last. */
  int at = rq__node_n_explicit(n);
  memmove(&n->inputs[at + 1], &n->inputs[at], (size_t)n->n_implicit * sizeof *n->inputs);
  n->inputs[at] = id;
  n->n_inputs++;
  return rq__graph_sort(g);
}

/* ------------------------------------------------------ topological sort -- */

/* Binary min-heap of node indices: Kahn's algorithm taking the lowest ready
 * index keeps the file's order wherever the dependencies allow. */
static void heap_push(int *heap, int *n, int x) {
  int i = (*n)++;
  while (i > 0 && heap[(i - 1) / 2] > x) {
    heap[i] = heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  heap[i] = x;
}

static int heap_pop(int *heap, int *n) {
  int top = heap[0], x = heap[--(*n)], i = 0;
  for (;;) {
    int c = 2 * i + 1;
    if (c >= *n) break;
    if (c + 1 < *n && heap[c + 1] < heap[c]) c++;
    if (heap[c] >= x) break;
    heap[i] = heap[c];
    i = c;
  }
  if (*n > 0) heap[i] = x;
  return top;
}

rq_status rq__graph_sort(rq_graph *g) {
  RQ_CHECK_NOT_NULL(g);
  int nv = g->n_values, nn = g->n_nodes;
  rq_status s = RQ_OK;
  /* producer[], then for Kahn: indegree[], consumer lists (CSR), heap, order */
  size_t total_in = 0;
  for (int i = 0; i < nn; i++) total_in += (size_t)g->nodes[i].n_inputs;
  int *producer = rq__malloc_array((size_t)nv + 1, sizeof(int));
  int *indeg = rq__calloc((size_t)nn + 1, sizeof(int));
  int *start = rq__calloc((size_t)nn + 2, sizeof(int));
  int *edges = rq__malloc_array(total_in + 1, sizeof(int));
  int *heap = rq__malloc_array((size_t)nn + 1, sizeof(int));
  int *order = rq__malloc_array((size_t)nn + 1, sizeof(int));
  if (!producer || !indeg || !start || !edges || !heap || !order) {
    s = rq__nomem(__func__, total_in * sizeof(int));
    goto done;
  }
  for (int v = 0; v < nv; v++) producer[v] = -1;
  for (int i = 0; i < nn; i++) {
    const rq__node *n = &g->nodes[i];
    for (int k = 0; k < n->n_outputs; k++) {
      int o = n->outputs[k];
      if (o < 0) continue;
      const rq__value *v = &g->values[o];
      if (producer[o] >= 0) {
        s = rq__fail(RQ_ERR_FORMAT, __func__, "value '%s' is produced by two nodes ('%s' and '%s')",
                     v->name, node_label(&g->nodes[producer[o]]), node_label(n));
        goto done;
      }
      if (v->init != NULL || v->is_input) {
        s = rq__fail(RQ_ERR_FORMAT, __func__, "node '%s' (%s): output '%s' is also a graph %s",
                     node_label(n), n->op_type, v->name, v->init ? "initializer" : "input");
        goto done;
      }
      producer[o] = i;
    }
  }
  for (int i = 0; i < nn; i++) {
    const rq__node *n = &g->nodes[i];
    for (int k = 0; k < n->n_inputs; k++) {
      int id = n->inputs[k];
      if (id < 0) continue;
      const rq__value *v = &g->values[id];
      if (producer[id] < 0 && v->init == NULL && !v->is_input && !v->is_outer) {
        s = rq__fail(RQ_ERR_FORMAT, __func__,
                     "node '%s' (%s): input '%s'%s is dangling (not a graph input, initializer or "
                     "node output)", node_label(n), n->op_type, v->name,
                     k >= rq__node_n_explicit(n) ? " (read inside its subgraph)" : "");
        goto done;
      }
      if (producer[id] >= 0) {
        indeg[i]++;
        start[producer[id] + 1]++;
      }
    }
  }
  for (int k = 0; k < g->n_outputs; k++) {
    const rq__value *v = &g->values[g->outputs[k]];
    if (producer[g->outputs[k]] < 0 && v->init == NULL && !v->is_input && !v->is_outer) {
      s = rq__fail(RQ_ERR_FORMAT, __func__, "graph output '%s' is dangling (nothing produces it)",
                   v->name);
      goto done;
    }
  }
  /* CSR: edges[start[p] .. start[p+1]) are the consumers of node p. */
  for (int i = 0; i < nn; i++) start[i + 1] += start[i];
  {
    int *fill = heap; /* reuse as a cursor array before the heap is needed */
    for (int i = 0; i < nn; i++) fill[i] = start[i];
    for (int i = 0; i < nn; i++) {
      const rq__node *n = &g->nodes[i];
      for (int k = 0; k < n->n_inputs; k++) {
        int id = n->inputs[k];
        if (id >= 0 && producer[id] >= 0) edges[fill[producer[id]]++] = i;
      }
    }
  }
  int heap_n = 0, done_n = 0;
  for (int i = 0; i < nn; i++)
    if (indeg[i] == 0) heap_push(heap, &heap_n, i);
  while (heap_n > 0) {
    int i = heap_pop(heap, &heap_n);
    order[done_n++] = i;
    for (int e = start[i]; e < start[i + 1]; e++)
      if (--indeg[edges[e]] == 0) heap_push(heap, &heap_n, edges[e]);
  }
  if (done_n < nn) {
    for (int i = 0; i < nn; i++) {
      if (indeg[i] > 0) {
        s = rq__fail(RQ_ERR_FORMAT, __func__, "the graph has a cycle through node '%s' (%s)",
                     node_label(&g->nodes[i]), g->nodes[i].op_type);
        goto done;
      }
    }
  }
  /* Commit: permute the nodes (reuse `edges` no more; copy through a temp). */
  {
    rq__node *sorted = rq__malloc_array((size_t)nn + 1, sizeof *sorted);
    if (sorted == NULL) {
      s = rq__nomem(__func__, (size_t)nn * sizeof *sorted);
      goto done;
    }
    for (int i = 0; i < nn; i++) sorted[i] = g->nodes[order[i]];
    if (nn > 0) memcpy(g->nodes, sorted, (size_t)nn * sizeof *sorted);
    rq__free(sorted);
    for (int v = 0; v < nv; v++) g->values[v].producer = -1;
    for (int i = 0; i < nn; i++)
      for (int k = 0; k < g->nodes[i].n_outputs; k++)
        if (g->nodes[i].outputs[k] >= 0) g->values[g->nodes[i].outputs[k]].producer = i;
  }
done:
  rq__free(producer);
  rq__free(indeg);
  rq__free(start);
  rq__free(edges);
  rq__free(heap);
  rq__free(order);
  return s;
}

int rq__graph_consumers(const rq_graph *g, int id, int *out, int max) {
  if (g == NULL || id < 0) return 0;
  int count = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const rq__node *n = &g->nodes[i];
    for (int k = 0; k < n->n_inputs; k++) {
      if (n->inputs[k] == id) {
        if (out != NULL && count < max) out[count] = i;
        count++;
        break;
      }
    }
  }
  return count;
}

/* -------------------------------------------------------------- rewrites -- */

/* One input/output slot changed by a rewire, so a failed re-sort can undo. */
typedef struct slot_change {
  int *slot;
  int old;
} slot_change;

/* The outer-scope reference of sub that stands for implicit slot `slot`,
 * or -1 (a subgraph has at most one per slot). */
static int outer_ref(const rq_graph *sub, int slot) {
  for (int v = 0; v < sub->n_values; v++)
    if (sub->values[v].is_outer && sub->values[v].outer_slot == slot) return v;
  return -1;
}

/* Merges implicit inputs of node that name the same value (left by a
 * rewire), so the node and its subgraphs look as a reload of the saved
 * model would: one slot, one outer-scope reference per outer value. */
static rq_status merge_implicit(rq_graph *g, int node) {
  rq__node *n = &g->nodes[node];
  int base = rq__node_n_explicit(n);
  for (int j = 1; j < n->n_implicit; j++) {
    int i = 0;
    while (i < j && n->inputs[base + i] != n->inputs[base + j]) i++;
    if (i == j) continue;
    /* Two references that are both outputs of one subgraph cannot become
     * one value; they keep their slots (the saved model is still right). */
    bool both_outputs = false;
    for (int a = 0; a < n->n_attrs; a++) {
      rq_graph *sub = n->attrs[a].type == RQ__ATTR_GRAPH ? n->attrs[a].g : NULL;
      int pi = sub ? outer_ref(sub, i) : -1, pj = sub ? outer_ref(sub, j) : -1;
      if (pi >= 0 && pj >= 0 && sub->values[pi].is_output && sub->values[pj].is_output) both_outputs = true;
    }
    if (both_outputs) continue;
    for (int a = 0; a < n->n_attrs; a++) {
      rq_graph *sub = n->attrs[a].type == RQ__ATTR_GRAPH ? n->attrs[a].g : NULL;
      if (sub == NULL) continue;
      int pi = outer_ref(sub, i), pj = outer_ref(sub, j);
      if (pj >= 0 && pi >= 0) {
        RQ_TRY(rq__graph_rewire(sub, pj, pi));
        sub->values[pj].is_outer = false; /* nothing reads it now */
        sub->values[pj].outer_slot = -1;
        RQ_TRY(rq__graph_compact(sub));
      } else if (pj >= 0) {
        sub->values[pj].outer_slot = i;
      }
      for (int v = 0; v < sub->n_values; v++)
        if (sub->values[v].is_outer && sub->values[v].outer_slot > j) sub->values[v].outer_slot--;
    }
    memmove(&n->inputs[base + j], &n->inputs[base + j + 1], (size_t)(n->n_implicit - j - 1) * sizeof *n->inputs);
    n->n_inputs--;
    n->n_implicit--;
    j--;
  }
  return RQ_OK;
}

rq_status rq__graph_rewire(rq_graph *g, int from, int to) {
  RQ_CHECK_NOT_NULL(g);
  RQ_CHECK_ARG(from >= 0 && from < g->n_values, "value id %d is out of range", from);
  RQ_CHECK_ARG(to >= 0 && to < g->n_values, "value id %d is out of range", to);
  if (from == to) return RQ_OK;
  /* Two output slots naming one value would not survive a save. */
  RQ_CHECK_ARG(!(g->values[from].is_output && g->values[to].is_output),
               "'%s' and '%s' are both graph outputs", g->values[from].name, g->values[to].name);
  size_t n_changes = (size_t)g->n_outputs;
  for (int i = 0; i < g->n_nodes; i++) n_changes += (size_t)g->nodes[i].n_inputs;
  slot_change *changes = rq__malloc_array(n_changes + 1, sizeof *changes);
  if (changes == NULL) return rq__nomem(__func__, n_changes * sizeof *changes);
  size_t used = 0;
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i].n_inputs; k++)
      if (g->nodes[i].inputs[k] == from) {
        changes[used++] = (slot_change){&g->nodes[i].inputs[k], from};
        g->nodes[i].inputs[k] = to;
      }
  bool was_output = g->values[from].is_output, to_was_output = g->values[to].is_output;
  for (int k = 0; k < g->n_outputs; k++)
    if (g->outputs[k] == from) {
      changes[used++] = (slot_change){&g->outputs[k], from};
      g->outputs[k] = to;
      g->values[to].is_output = true;
      g->values[from].is_output = false;
    }
  rq_status s = rq__graph_sort(g);
  if (s != RQ_OK) {
    for (size_t c = 0; c < used; c++) *changes[c].slot = changes[c].old;
    g->values[from].is_output = was_output;
    g->values[to].is_output = to_was_output;
  }
  rq__free(changes);
  /* A subgraph that read both from and to now reads one value twice. */
  for (int i = 0; s == RQ_OK && i < g->n_nodes; i++)
    if (g->nodes[i].n_implicit > 1) s = merge_implicit(g, i);
  return s;
}

rq_status rq__graph_insert_on_edge(rq_graph *g, int id, const char *op_type, const char *domain,
                                   const char *name, int *node) {
  RQ_CHECK_NOT_NULL(g);
  RQ_CHECK_NOT_NULL(op_type);
  RQ_CHECK_ARG(id >= 0 && id < g->n_values, "value id %d is out of range", id);
  size_t len = strlen(g->values[id].name) + strlen(op_type) + 8;
  char *base = rq__malloc(len);
  if (base == NULL) return rq__nomem(__func__, len);
  bool was_output = g->values[id].is_output;
  /* An output keeps its name on the new value; the old edge becomes <name>_pre. */
  snprintf(base, len, "%s_%s", g->values[id].name, was_output ? "pre" : op_type);
  int nv = -1, index = -1;
  rq_status s = rq__graph_add_value(g, base, &nv);
  rq__free(base);
  RQ_TRY(s);
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i].n_inputs; k++)
      if (g->nodes[i].inputs[k] == id) g->nodes[i].inputs[k] = nv;
  for (int k = 0; k < g->n_outputs; k++)
    if (g->outputs[k] == id) g->outputs[k] = nv;
  g->values[nv].is_output = was_output;
  g->values[id].is_output = false;
  if (was_output) {
    /* Swap names (and declared type/shape) so the interface is unchanged. */
    char *tmp = g->values[id].name;
    g->values[id].name = g->values[nv].name;
    g->values[nv].name = tmp;
    rq__shape sh = g->values[id].shape;
    g->values[id].shape = g->values[nv].shape;
    g->values[nv].shape = sh;
    g->values[nv].dtype = g->values[id].dtype;
    g->values[nv].kind = g->values[id].kind;
    g->values[nv].inner_kind = g->values[id].inner_kind;
    if (g->values[id].init) RQ_TRY(rq__tensor_set_name(g->values[id].init, g->values[id].name));
    RQ_TRY(index_rebuild(g, (size_t)g->n_values));
  }
  int in = id, out = nv;
  RQ_TRY(rq__graph_add_node(g, op_type, domain, name, &in, 1, &out, 1, &index));
  RQ_TRY(rq__graph_sort(g));
  if (node != NULL) *node = g->values[nv].producer;
  return RQ_OK;
}

rq_status rq__graph_remove_node(rq_graph *g, int node) {
  RQ_CHECK_NOT_NULL(g);
  RQ_CHECK_ARG(node >= 0 && node < g->n_nodes, "node index %d is out of range", node);
  rq__node *n = &g->nodes[node];
  for (int k = 0; k < n->n_outputs; k++) {
    int o = n->outputs[k];
    if (o < 0) continue;
    if (g->values[o].is_output || rq__graph_consumers(g, o, NULL, 0) > 0)
      return rq__fail(RQ_ERR_STATE, __func__, "node '%s' (%s): output '%s' is still used",
                      node_label(n), n->op_type, g->values[o].name);
  }
  for (int k = 0; k < n->n_outputs; k++)
    if (n->outputs[k] >= 0) g->values[n->outputs[k]].producer = -1;
  node_clear(n);
  memmove(&g->nodes[node], &g->nodes[node + 1], (size_t)(g->n_nodes - node - 1) * sizeof *g->nodes);
  g->n_nodes--;
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i].n_outputs; k++)
      if (g->nodes[i].outputs[k] >= 0) g->values[g->nodes[i].outputs[k]].producer = i;
  return RQ_OK; /* removing a node with unused outputs keeps the order valid */
}

void rq__graph_drop_nodes(rq_graph *g, const bool *drop) {
  int kept = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    if (drop[i]) {
      for (int k = 0; k < g->nodes[i].n_outputs; k++)
        if (g->nodes[i].outputs[k] >= 0) g->values[g->nodes[i].outputs[k]].producer = -1;
      node_clear(&g->nodes[i]);
      continue;
    }
    if (kept != i) g->nodes[kept] = g->nodes[i];
    kept++;
  }
  g->n_nodes = kept;
  for (int i = 0; i < g->n_nodes; i++)
    for (int k = 0; k < g->nodes[i].n_outputs; k++)
      if (g->nodes[i].outputs[k] >= 0) g->values[g->nodes[i].outputs[k]].producer = i;
}

/* Drops values nothing refers to (no node, not an input/output) and
 * renumbers the rest. */
static rq_status compact_values(rq_graph *g) {
  int nv = g->n_values;
  int *remap = rq__malloc_array((size_t)nv + 1, sizeof *remap);
  if (remap == NULL) return rq__nomem(__func__, (size_t)nv * sizeof *remap);
  for (int v = 0; v < nv; v++) remap[v] = g->values[v].is_input || g->values[v].is_output ? 0 : -1;
  for (int i = 0; i < g->n_nodes; i++) {
    const rq__node *n = &g->nodes[i];
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0) remap[n->inputs[k]] = 0;
    for (int k = 0; k < n->n_outputs; k++)
      if (n->outputs[k] >= 0) remap[n->outputs[k]] = 0;
  }
  int kept = 0;
  for (int v = 0; v < nv; v++) {
    if (remap[v] < 0) {
      value_clear(&g->values[v]);
      continue;
    }
    remap[v] = kept;
    if (kept != v) g->values[kept] = g->values[v];
    kept++;
  }
  g->n_values = kept;
  for (int i = 0; i < g->n_nodes; i++) {
    rq__node *n = &g->nodes[i];
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0) n->inputs[k] = remap[n->inputs[k]];
    for (int k = 0; k < n->n_outputs; k++)
      if (n->outputs[k] >= 0) n->outputs[k] = remap[n->outputs[k]];
  }
  for (int k = 0; k < g->n_inputs; k++) g->inputs[k] = remap[g->inputs[k]];
  for (int k = 0; k < g->n_outputs; k++) g->outputs[k] = remap[g->outputs[k]];
  rq__free(remap);
  return index_rebuild(g, (size_t)g->n_values);
}

rq_status rq__graph_compact(rq_graph *g) { return compact_values(g); }

rq_status rq__graph_remove_dead(rq_graph *g, int *removed) {
  RQ_CHECK_NOT_NULL(g);
  bool *live = rq__calloc((size_t)g->n_values + 1, sizeof *live);
  bool *keep = rq__calloc((size_t)g->n_nodes + 1, sizeof *keep);
  if (live == NULL || keep == NULL) {
    rq__free(live);
    rq__free(keep);
    return rq__nomem(__func__, (size_t)g->n_values + (size_t)g->n_nodes);
  }
  for (int k = 0; k < g->n_outputs; k++) live[g->outputs[k]] = true;
  /* Reverse topological order: a node is live when any output is. */
  for (int i = g->n_nodes - 1; i >= 0; i--) {
    const rq__node *n = &g->nodes[i];
    for (int k = 0; k < n->n_outputs && !keep[i]; k++)
      if (n->outputs[k] >= 0 && live[n->outputs[k]]) keep[i] = true;
    if (keep[i])
      for (int k = 0; k < n->n_inputs; k++)
        if (n->inputs[k] >= 0) live[n->inputs[k]] = true;
  }
  int kept = 0, dropped = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    if (!keep[i]) {
      node_clear(&g->nodes[i]);
      dropped++;
      continue;
    }
    if (kept != i) g->nodes[kept] = g->nodes[i];
    kept++;
  }
  g->n_nodes = kept;
  rq__free(live);
  rq__free(keep);
  if (removed != NULL) *removed = dropped;
  RQ_TRY(compact_values(g));
  return rq__graph_sort(g);
}

/* ----------------------------------------------------------- fingerprint -- */

/* Chained XXH3: each piece is hashed with the running hash as seed, so the
 * result depends on every piece and on their order. */
static void fp_bytes(uint64_t *h, const void *p, size_t n) { *h = XXH3_64bits_withSeed(p, n, *h); }
static void fp_i64(uint64_t *h, int64_t x) { fp_bytes(h, &x, sizeof x); }
static void fp_str(uint64_t *h, const char *s) { fp_bytes(h, s, strlen(s) + 1); }

static void fp_shape(uint64_t *h, const rq__value *v) {
  /* Tensors hash as they did before values had kinds, so fingerprints
   * recorded for tensor-only models stay valid. */
  if (v->kind != RQ__KIND_TENSOR) {
    fp_str(h, "kind");
    fp_i64(h, v->kind);
    fp_i64(h, v->inner_kind);
  }
  fp_i64(h, v->dtype);
  fp_i64(h, v->shape.ndim);
  for (int i = 0; i < v->shape.ndim; i++) fp_i64(h, v->shape.dims[i]);
}

static void fp_tensor(uint64_t *h, const rq__tensor *t) {
  fp_i64(h, t->dtype);
  fp_i64(h, t->ndim);
  for (int i = 0; i < t->ndim; i++) fp_i64(h, t->dims[i]);
  if (t->nbytes > 0) fp_bytes(h, t->data, t->nbytes);
}

/* Values are numbered in order of first appearance, so the hash does not
 * depend on names; an initializer's data is hashed when first met, and an
 * outer-scope reference of a subgraph by the implicit-input slot it reads. */
static void fp_value(uint64_t *h, const rq_graph *g, int id, int *canon, int *next) {
  if (id < 0) {
    fp_i64(h, -1);
    return;
  }
  if (canon[id] < 0) {
    canon[id] = (*next)++;
    if (g->values[id].init != NULL) fp_tensor(h, g->values[id].init);
    if (g->values[id].is_outer) fp_i64(h, -2 - (int64_t)g->values[id].outer_slot);
  }
  fp_i64(h, canon[id]);
}

/* Hashes g's structure into *h; subgraphs recursively (their depth is
 * bounded at load). false when out of memory. */
static bool fp_graph(uint64_t *h, const rq_graph *g, bool subgraph) {
  int *canon = rq__malloc_array((size_t)g->n_values + 1, sizeof *canon);
  if (canon == NULL) return false;
  for (int v = 0; v < g->n_values; v++) canon[v] = -1;
  int next = 0;
  bool ok = true;
  /* A subgraph's opsets are a copy of the model's: not part of its identity. */
  for (int i = 0; !subgraph && i < g->n_opsets; i++) {
    fp_str(h, g->opsets[i].domain);
    fp_i64(h, g->opsets[i].version);
  }
  for (int k = 0; k < g->n_inputs; k++) {
    fp_value(h, g, g->inputs[k], canon, &next);
    fp_shape(h, &g->values[g->inputs[k]]);
  }
  for (int i = 0; i < g->n_nodes && ok; i++) {
    const rq__node *n = &g->nodes[i];
    fp_str(h, n->op_type);
    fp_str(h, n->domain);
    fp_i64(h, n->n_inputs); /* implicit ones follow from the subgraphs hashed below */
    for (int k = 0; k < n->n_inputs; k++) fp_value(h, g, n->inputs[k], canon, &next);
    fp_i64(h, n->n_outputs);
    for (int k = 0; k < n->n_outputs; k++) fp_value(h, g, n->outputs[k], canon, &next);
    fp_i64(h, n->n_attrs);
    for (int a = 0; a < n->n_attrs && ok; a++) {
      const rq__attr *at = &n->attrs[a];
      fp_str(h, at->name);
      fp_i64(h, at->type);
      switch (at->type) {
        case RQ__ATTR_INT: fp_i64(h, at->i); break;
        case RQ__ATTR_FLOAT: fp_bytes(h, &at->f, sizeof at->f); break;
        case RQ__ATTR_STRING: case RQ__ATTR_TYPE_PROTO: fp_bytes(h, at->s, at->s_len); break;
        case RQ__ATTR_INTS: fp_bytes(h, at->ints, at->count * sizeof *at->ints); break;
        case RQ__ATTR_FLOATS: fp_bytes(h, at->floats, at->count * sizeof *at->floats); break;
        case RQ__ATTR_STRINGS:
          for (size_t s = 0; s < at->count; s++) fp_str(h, at->strings[s]);
          break;
        case RQ__ATTR_TENSOR: fp_tensor(h, at->t); break;
        case RQ__ATTR_GRAPH: ok = fp_graph(h, at->g, true); break;
        default: break;
      }
    }
  }
  for (int k = 0; k < g->n_outputs; k++) {
    fp_value(h, g, g->outputs[k], canon, &next);
    fp_shape(h, &g->values[g->outputs[k]]);
  }
  rq__free(canon);
  return ok;
}

uint64_t rq__graph_fingerprint(const rq_graph *g) {
  if (g == NULL) return 0;
  uint64_t h = 0x72617a6f72710001ull; /* "razorq" + format 1 */
  return fp_graph(&h, g, false) ? h : 0;
}

uint64_t rq__graph_parameter_count(const rq_graph *g) {
  uint64_t total = 0;
  for (int v = 0; g != NULL && v < g->n_values; v++)
    if (g->values[v].init != NULL) total += g->values[v].init->numel;
  return total;
}

/* Exposed for the passes (graph-internal, not in graph.h's contract). */
rq_status rq__graph_rename_value(rq_graph *g, int id, const char *name) {
  RQ_CHECK_NOT_NULL(g);
  RQ_CHECK_ARG(id >= 0 && id < g->n_values, "value id %d is out of range", id);
  if (strcmp(g->values[id].name, name) == 0) return RQ_OK;
  RQ_CHECK_ARG(rq__graph_find_value(g, name) < 0, "value name '%s' is taken", name);
  return value_rename(g, id, name);
}
