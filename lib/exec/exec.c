/* SPDX-License-Identifier: Apache-2.0 */
/* The reference executor: runs the nodes of an rq_graph in their
 * (topological) order, holding each intermediate tensor only until its last
 * consumer ran, and shows watched edges to the caller's hook. */
#include "exec/exec.h"
#include "kernels/kernels.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- op table ---- */

static const rq__op_entry *const op_families[] = {
  rq__ops_elementwise, rq__ops_nn, rq__ops_shape, rq__ops_quant,
  rq__ops_rnn,
  rq__ops_vision,
  rq__ops_linalg,
  rq__ops_signal,
  rq__ops_control,
  rq__ops_sequence,
  rq__ops_resize,
  rq__ops_groupnorm,
  rq__ops_layout,
  rq__ops_deform,
};

rq__op_fn rq__exec_find_op(const char *domain, const char *op_type) {
  if (op_type == NULL) return NULL;
  if (domain != NULL && domain[0] != '\0' && strcmp(domain, "ai.onnx") != 0) return NULL;
  for (size_t f = 0; f < sizeof op_families / sizeof op_families[0]; f++)
    for (const rq__op_entry *e = op_families[f]; e->op_type != NULL; e++)
      if (strcmp(e->op_type, op_type) == 0) return e->fn;
  return NULL;
}

bool rq_exec_supports_op(const char *op_type) {
  return rq__exec_find_op("", op_type) != NULL;
}


static void to_dltensor(rq__tensor *t, DLTensor *dl) {
  memset(dl, 0, sizeof *dl);
  dl->data = t->data;
  dl->device.device_type = kDLCPU;
  dl->ndim = t->ndim;
  rq__dtype_to_dl(t->dtype, &dl->dtype);
  dl->shape = t->dims;
}

/* ---- options ---- */

rq_status rq_exec_options_init(rq_exec_options *options, size_t struct_size) {
  RQ_CHECK_NOT_NULL(options);
  RQ_CHECK_ARG(struct_size >= offsetof(rq_exec_options, num_threads) + sizeof(int) &&
                   struct_size <= sizeof(rq_exec_options),
               "struct_size %zu is not a size this library knows (expected %zu)", struct_size,
               sizeof(rq_exec_options));
  memset(options, 0, struct_size);
  options->struct_size = struct_size;
  return RQ_OK;
}

/* Copies the caller's options into zeroed storage, so fields a caller
 * compiled against an older header lacks read as defaults. */
static rq_status copy_options(const rq_exec_options *in, rq_exec_options *out) {
  memset(out, 0, sizeof *out);
  out->struct_size = sizeof *out;
  if (in == NULL) return RQ_OK;
  if (in->struct_size < offsetof(rq_exec_options, num_threads) + sizeof(int))
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_graph_run",
                    "options->struct_size %zu is too small; call rq_exec_options_init first",
                    in->struct_size);
  size_t n = in->struct_size < sizeof *out ? in->struct_size : sizeof *out;
  memcpy(out, in, n);
  out->struct_size = sizeof *out;
  if (out->num_threads < 0)
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_graph_run", "options->num_threads is negative (%d)",
                    out->num_threads);
  if (out->n_hook_edges > 0 && out->hook_edges == NULL)
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_graph_run",
                    "options->hook_edges is NULL but n_hook_edges is %zu", out->n_hook_edges);
  return RQ_OK;
}

/* ---- the run ---- */

typedef struct node_act {
  bool on;
  float lo, hi;
} node_act;

enum { RUN = 0, FORWARD = 1, IN_PLACE = 2 };

typedef struct run_state {
  const rq_graph *g;
  rq_exec_options opts;
  rq__tensor **slot; /* per value id: the current tensor, or NULL */
  bool *owned;       /* slot[v] belongs to the run (not an initializer) */
  bool *watched;     /* the hook sees value v */
  int *last_use;     /* last consuming node, -1 none */
  /* Per node, from plan_fusion: a Conv that clamps its own output (act),
   * and the Relu/Clip after it that then only hands that tensor on
   * (FORWARD), or a Relu/Clip that clamps its input in place (IN_PLACE,
   * bounds in act). */
  node_act *act;
  unsigned char *forward;
  rq__buffer_pool *pool; /* the graph's cached pool, or this run's own */
  /* A subgraph run: the live tensors of the calling node's implicit inputs,
   * which the subgraph's outer-scope references read (borrowed, never
   * owned or changed). NULL for the main graph. */
  const rq__tensor *const *scope;
  int n_scope;
} run_state;

static void release(run_state *s, int v) {
  if (s->owned[v]) rq__pool_recycle(s->pool, s->slot[v]);
  s->slot[v] = NULL;
  s->owned[v] = false;
}

static rq_status call_hook(run_state *s, int v) {
  /* Hooks see tensors; sequences and optionals have no DLTensor form. */
  if (s->opts.hook == NULL || !s->watched[v] || s->slot[v]->kind != RQ__KIND_TENSOR) return RQ_OK;
  DLTensor dl;
  to_dltensor(s->slot[v], &dl);
  rq_status st = s->opts.hook(s->opts.hook_user, s->g->values[v].name, &dl);
  if (st != RQ_OK) return st; /* the hook's own message stays */
  if (dl.data != s->slot[v]->data || dl.ndim != s->slot[v]->ndim || dl.shape != s->slot[v]->dims)
    return rq__fail(RQ_ERR_CALLBACK, "rq_graph_run",
                    "the edge hook changed the tensor of '%s' (it may only change element values)",
                    s->g->values[v].name);
  return RQ_OK;
}

/* A subgraph's inputs are checked for their element type only: ONNX lets
 * loop-carried values change shape between iterations. */
static rq_status check_input(const rq_graph *g, int i, const rq__tensor *t, bool subgraph) {
  const rq__value *val = &g->values[g->inputs[i]];
  /* An absent optional fits any declared optional; a present one must hold
   * the declared kind. */
  int got_inner = t->kind == RQ__KIND_OPTIONAL && t->n_items > 0 ? t->items[0]->kind : val->inner_kind;
  bool opt_t = t->kind == RQ__KIND_OPTIONAL, opt_val = val->kind == RQ__KIND_OPTIONAL;
  if (val->kind != t->kind || (opt_val && got_inner != val->inner_kind))
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_graph_run",
                    "%sinput %d ('%s') is of kind %s%s%s, the model declares %s%s%s", subgraph ? "subgraph " : "", i,
                    val->name, rq__kind_name(t->kind), opt_t ? " of " : "", opt_t ? rq__kind_name(got_inner) : "",
                    rq__kind_name(val->kind), opt_val ? " of " : "", opt_val ? rq__kind_name(val->inner_kind) : "");
  /* A sequence's element type is checked on its tensors as ops use them;
   * here only a declared one must agree with the sequence's own. */
  if (t->kind != RQ__KIND_TENSOR) {
    if (val->dtype != RQ__DT_UNDEFINED && t->dtype != RQ__DT_UNDEFINED && val->dtype != t->dtype)
      return rq__fail(RQ_ERR_INVALID_ARG, "rq_graph_run", "%sinput %d ('%s') holds %s, the model declares %s",
                      subgraph ? "subgraph " : "", i, val->name, rq__dtype_name(t->dtype),
                      rq__dtype_name(val->dtype));
    return RQ_OK;
  }
  if (val->dtype != RQ__DT_UNDEFINED && val->dtype != t->dtype)
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_graph_run", "%sinput %d ('%s') has element type %s, the model declares %s",
                    subgraph ? "subgraph " : "", i, val->name, rq__dtype_name(t->dtype), rq__dtype_name(val->dtype));
  if (val->shape.ndim < 0 || subgraph) return RQ_OK;
  if (val->shape.ndim != t->ndim)
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_graph_run", "input %d ('%s') has rank %d, the model declares %d",
                    i, val->name, t->ndim, val->shape.ndim);
  for (int d = 0; d < t->ndim; d++) {
    if (val->shape.dims[d] >= 0 && val->shape.dims[d] != t->dims[d])
      return rq__fail(RQ_ERR_INVALID_ARG, "rq_graph_run",
                      "input %d ('%s') has dimension %d = %lld, the model declares %lld", i, val->name, d,
                      (long long)t->dims[d], (long long)val->shape.dims[d]);
  }
  return RQ_OK;
}

/* A tensor or sequence given where the graph declares an optional is that
 * optional, present (as ONNX Runtime takes it: a Loop may carry
 * optional(seq) in and a sequence back out, test_loop16_seq_none). */
static rq_status wrap_optional(const rq_graph *g, int i, rq__tensor **t) {
  const rq__value *val = &g->values[g->inputs[i]];
  if (*t == NULL || val->kind != RQ__KIND_OPTIONAL || (*t)->kind == RQ__KIND_OPTIONAL)
    return RQ_OK;
  rq__tensor *opt;
  RQ_TRY(rq__tensor_create_container(RQ__KIND_OPTIONAL, (*t)->dtype, &opt));
  rq_status st = rq__tensor_insert_item(opt, 0, *t);
  *t = NULL; /* taken by the optional (freed with it on failure) */
  if (st != RQ_OK) {
    rq__tensor_destroy(opt);
    return st;
  }
  *t = opt;
  return RQ_OK;
}

/* Frees what no later node reads after node ni ran: inputs at their last
 * use, and outputs nothing reads at all. */
static void release_dead(run_state *s, int ni) {
  const rq__node *node = &s->g->nodes[ni];
  for (int i = 0; i < node->n_inputs; i++) {
    int v = node->inputs[i];
    if (v >= 0 && s->last_use[v] == ni && !s->g->values[v].is_output) release(s, v);
  }
  for (int i = 0; i < node->n_outputs; i++) {
    int v = node->outputs[i];
    if (v >= 0 && s->last_use[v] < 0 && !s->g->values[v].is_output) release(s, v);
  }
}

/* A Relu/Clip whose input nothing else reads (plan_fusion checked): the
 * input, clamped by the Conv before it or here in place, becomes its
 * output. */
static rq_status forward_node(run_state *s, int ni) {
  const rq__node *node = &s->g->nodes[ni];
  int from = node->inputs[0], to = node->outputs[0];
  if (s->forward[ni] == IN_PLACE) {
    rq__tensor *t = s->slot[from];
    rq__clamp_floats(t->data, t->numel, s->act[ni].lo, s->act[ni].hi);
  }
  s->slot[to] = s->slot[from];
  s->owned[to] = s->owned[from];
  s->slot[from] = NULL;
  s->owned[from] = false;
  rq_status st = call_hook(s, to);
  release_dead(s, ni);
  return st;
}

static rq_status run_node(run_state *s, int ni) {
  const rq_graph *g = s->g;
  const rq__node *node = &g->nodes[ni];
  rq__op_fn fn = rq__exec_find_op(node->domain, node->op_type);
  if (fn == NULL)
    return rq__fail(RQ_ERR_UNSUPPORTED, "rq_graph_run", "node '%s': op %s%s%s is not implemented", node->name,
                    node->domain[0] ? node->domain : "", node->domain[0] ? "." : "", node->op_type);
  /* Before anything reads an input as a tensor (the in-place Relu too). */
  for (int i = 0; i < node->n_inputs; i++) {
    int v = node->inputs[i];
    if (v >= 0 && s->slot[v] != NULL && s->slot[v]->kind != RQ__KIND_TENSOR &&
        !rq__op_takes_non_tensors(node->op_type))
      return rq__fail(RQ_ERR_FORMAT, "rq_graph_run",
                      "node '%s' (%s): input %d ('%s') is a value of kind %s; the op takes tensors", node->name,
                      node->op_type, i, g->values[v].name, rq__kind_name(s->slot[v]->kind));
  }
  if (s->forward[ni] == FORWARD ||
      (s->forward[ni] == IN_PLACE && s->owned[node->inputs[0]] && s->slot[node->inputs[0]] != NULL &&
       s->slot[node->inputs[0]]->dtype == RQ__DT_FLOAT))
    return forward_node(s, ni);
  /* No ONNX op has zero outputs; ops may assume at least one (Split divides by it). */
  if (node->n_outputs == 0)
    return rq__fail(RQ_ERR_FORMAT, "rq_graph_run", "node '%s' (%s) declares no outputs", node->name, node->op_type);
  enum { SMALL = 16 };
  const rq__tensor *in_small[SMALL];
  rq__tensor *out_small[SMALL];
  const rq__tensor **in = in_small;
  rq__tensor **out = out_small;
  if (node->n_inputs > SMALL) in = rq__calloc((size_t)node->n_inputs, sizeof *in);
  if (node->n_outputs > SMALL) out = rq__calloc((size_t)node->n_outputs, sizeof *out);
  rq_status st = RQ_OK;
  if (in == NULL || out == NULL) {
    st = rq__nomem("rq_graph_run", sizeof *out * (size_t)node->n_outputs);
    goto done;
  }
  for (int i = 0; i < node->n_inputs; i++) {
    int v = node->inputs[i];
    in[i] = v < 0 ? NULL : s->slot[v];
    if (v >= 0 && in[i] == NULL) {
      st = rq__fail(RQ_ERR_INTERNAL, "rq_graph_run", "node '%s': input '%s' has no value", node->name,
                    g->values[v].name);
      goto done;
    }
  }
  /* Every slot the op could write, declared or not: some ops set out[0]
   * directly, so a malformed node with no outputs must not lose what they made. */
  int slots = node->n_outputs > SMALL ? node->n_outputs : SMALL;
  for (int i = 0; i < slots; i++) out[i] = NULL;
  rq__op_ctx ctx = {
    .node = node, .opset = rq__graph_opset(g, ""), .n_in = rq__node_n_explicit(node),
    .in = in, .n_out = node->n_outputs, .out = out, .pool = s->pool,
    .n_implicit = node->n_implicit, .implicit = in + rq__node_n_explicit(node),
    .threads = s->opts.num_threads > 1 ? s->opts.num_threads : 1,
    /* act[ni] of an IN_PLACE node that runs after all belongs to it, not the op */
    .act = s->act[ni].on && s->forward[ni] == RUN, .act_lo = s->act[ni].lo, .act_hi = s->act[ni].hi,
  };
  st = fn(&ctx);
  if (st != RQ_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", rq_last_error());
    rq__fail(st, "rq_graph_run", "node '%s' (%s): %s", node->name, node->op_type, msg);
  }
  for (int i = 0; i < node->n_outputs; i++) {
    int v = node->outputs[i];
    if (st == RQ_OK && v >= 0 && out[i] == NULL)
      st = rq__fail(RQ_ERR_INTERNAL, "rq_graph_run", "node '%s' (%s) produced no output %d", node->name,
                    node->op_type, i);
    if (st != RQ_OK || v < 0) {
      rq__pool_recycle(s->pool, out[i]);
      continue;
    }
    s->slot[v] = out[i];
    s->owned[v] = true;
  }
  for (int i = node->n_outputs; i < slots; i++) {
    if (out[i] == NULL) continue;
    if (st == RQ_OK)
      st = rq__fail(RQ_ERR_FORMAT, "rq_graph_run", "node '%s' (%s) declares %d output%s; the op produces more",
                    node->name, node->op_type, node->n_outputs, node->n_outputs == 1 ? "" : "s");
    rq__pool_recycle(s->pool, out[i]);
  }
  for (int i = 0; st == RQ_OK && i < node->n_outputs; i++)
    if (node->outputs[i] >= 0) st = call_hook(s, node->outputs[i]);
  release_dead(s, ni);
done:
  if (in != in_small) rq__free(in);
  if (out != out_small) rq__free(out);
  return st;
}

/* The bounds of a Relu, or of a Clip whose bounds are constants (attributes
 * before opset 11, FLOAT scalar initializers or omitted inputs after), as
 * op_relu/op_clip apply them; false for anything else. */
static bool activation_bounds(const rq_graph *g, const rq__node *n, float *lo, float *hi) {
  if (n->domain[0] != '\0' || n->n_inputs < 1 || n->n_outputs != 1 || n->outputs[0] < 0) return false;
  if (strcmp(n->op_type, "Relu") == 0) {
    if (n->n_inputs != 1) return false;
    *lo = 0.0f;
    *hi = INFINITY;
    return true;
  }
  if (strcmp(n->op_type, "Clip") != 0) return false;
  *lo = -INFINITY;
  *hi = INFINITY;
  if (rq__graph_opset(g, "") < 11) {
    if (n->n_inputs != 1) return false;
    *lo = rq__node_attr_float(n, "min", -FLT_MAX);
    *hi = rq__node_attr_float(n, "max", FLT_MAX);
    return true;
  }
  if (n->n_inputs > 3) return false;
  for (int k = 1; k < n->n_inputs; k++) {
    int v = n->inputs[k];
    if (v < 0) continue;
    const rq__tensor *b = g->values[v].init;
    if (b == NULL || b->dtype != RQ__DT_FLOAT || b->numel != 1) return false;
    *(k == 1 ? lo : hi) = ((const float *)b->data)[0];
  }
  return true;
}

/* Folds a Relu/Clip into the Conv before it when it is the Conv output's
 * only reader and nobody else can see the unclamped values (not a graph
 * output, not watched by the hook): the Conv clamps while its output is
 * still in cache, and the separate pass and its buffer disappear. */
static rq_status plan_fusion(run_state *s) {
  const rq_graph *g = s->g;
  size_t nv = (size_t)g->n_values;
  int *readers = rq__calloc(nv ? 2 * nv : 1, sizeof *readers), *producer = readers + nv;
  if (readers == NULL) return rq__nomem("rq_graph_run", 2 * nv * sizeof *readers);
  for (size_t v = 0; v < nv; v++) producer[v] = -1;
  for (int ni = 0; ni < g->n_nodes; ni++) {
    const rq__node *n = &g->nodes[ni];
    for (int i = 0; i < n->n_inputs; i++)
      if (n->inputs[i] >= 0) readers[n->inputs[i]]++;
    if (n->n_outputs == 1 && n->outputs[0] >= 0) producer[n->outputs[0]] = ni;
  }
  for (int ni = 0; ni < g->n_nodes; ni++) {
    float lo, hi;
    if (!activation_bounds(g, &g->nodes[ni], &lo, &hi)) continue;
    int v = g->nodes[ni].inputs[0];
    if (v < 0 || readers[v] != 1 || g->values[v].is_output || s->watched[v] || g->values[v].init != NULL)
      continue;
    int pi = producer[v]; /* runs before ni: the order is topological */
    const rq__node *conv = pi >= 0 && pi < ni ? &g->nodes[pi] : NULL;
    if (conv != NULL && strcmp(conv->op_type, "Conv") == 0 && conv->domain[0] == '\0' && !s->act[pi].on) {
      s->act[pi] = (node_act){true, lo, hi};
      s->forward[ni] = FORWARD;
    } else {
      /* Any other producer: clamp in place at run time when the tensor
       * turns out to be FLOAT and the run's own (else run the op). */
      s->act[ni] = (node_act){true, lo, hi};
      s->forward[ni] = IN_PLACE;
    }
  }
  rq__free(readers);
  return RQ_OK;
}

static rq_status prepare(run_state *s) {
  const rq_graph *g = s->g;
  size_t nv = (size_t)g->n_values;
  s->slot = rq__calloc(nv ? nv : 1, sizeof *s->slot);
  s->owned = rq__calloc(nv ? nv : 1, sizeof *s->owned);
  s->watched = rq__calloc(nv ? nv : 1, sizeof *s->watched);
  s->last_use = rq__malloc_array(nv ? nv : 1, sizeof *s->last_use);
  size_t nn = g->n_nodes > 0 ? (size_t)g->n_nodes : 1;
  s->act = rq__calloc(nn, sizeof *s->act);
  s->forward = rq__calloc(nn, sizeof *s->forward);
  if (!s->slot || !s->owned || !s->watched || !s->last_use || !s->act || !s->forward)
    return rq__nomem("rq_graph_run", nv * (sizeof *s->slot + sizeof *s->last_use + 2) +
                                         nn * (sizeof *s->act + sizeof *s->forward));
  for (size_t v = 0; v < nv; v++) {
    s->last_use[v] = -1;
    s->slot[v] = g->values[v].init;
    if (!g->values[v].is_outer) continue;
    int k = g->values[v].outer_slot;
    if (k < 0 || k >= s->n_scope || s->scope[k] == NULL)
      return rq__fail(RQ_ERR_INTERNAL, "rq_graph_run", "outer-scope value '%s' is not bound", g->values[v].name);
    s->slot[v] = (rq__tensor *)s->scope[k]; /* borrowed: owned[v] stays false */
  }
  for (int ni = 0; ni < g->n_nodes; ni++)
    for (int i = 0; i < g->nodes[ni].n_inputs; i++)
      if (g->nodes[ni].inputs[i] >= 0) s->last_use[g->nodes[ni].inputs[i]] = ni;
  if (s->opts.hook == NULL) return plan_fusion(s);
  if (s->opts.hook_edges == NULL) {
    for (size_t v = 0; v < nv; v++) s->watched[v] = g->values[v].init == NULL;
    return plan_fusion(s);
  }
  for (size_t i = 0; i < s->opts.n_hook_edges; i++) {
    const char *name = s->opts.hook_edges[i];
    if (name == NULL)
      return rq__fail(RQ_ERR_INVALID_ARG, "rq_graph_run", "options->hook_edges[%zu] is NULL", i);
    int v = rq__graph_find_value(g, name);
    if (v < 0) return rq__fail(RQ_ERR_NOT_FOUND, "rq_graph_run", "hook edge '%s' is not an edge of the graph", name);
    if (g->values[v].init != NULL)
      return rq__fail(RQ_ERR_INVALID_ARG, "rq_graph_run",
                      "hook edge '%s' is a weight (initializer); hooks see graph inputs and computed edges", name);
    s->watched[v] = true;
  }
  return plan_fusion(s);
}

/* ---- buffers kept between runs ---- */

static void pool_destroy(void *cache) {
  rq__pool_clear(cache);
  rq__free(cache);
}

/* The pool the graph's last run left behind, or a new empty one (also when
 * another run holds the cache). NULL only when out of memory: the run then
 * allocates every buffer fresh. rq_graph_run's graph is const to callers;
 * the cache is the one field a run changes, through atomics. */
static rq__buffer_pool *pool_acquire(const rq_graph *g) {
  rq_graph *mut = (rq_graph *)g;
  rq__buffer_pool *pool = atomic_exchange(&mut->exec_cache, NULL);
  return pool != NULL ? pool : rq__calloc(1, sizeof *pool);
}

/* Keeps the pool with the graph for its next run (or frees it, when a
 * concurrent run put its own back first). */
static void pool_keep(const rq_graph *g, rq__buffer_pool *pool) {
  if (pool == NULL) return;
  rq_graph *mut = (rq_graph *)g;
  void *expected = NULL;
  mut->exec_cache_free = pool_destroy;
  if (!atomic_compare_exchange_strong(&mut->exec_cache, &expected, pool)) pool_destroy(pool);
}

rq_status rq_graph_trim(rq_graph *graph) {
  RQ_CHECK_NOT_NULL(graph);
  void *pool = atomic_exchange(&graph->exec_cache, NULL);
  if (pool != NULL) pool_destroy(pool);
  return RQ_OK;
}

static rq_status run_graph(const rq_graph *g, const rq_exec_options *opts, rq__buffer_pool *pool,
                           const rq__tensor *const *scope, int n_scope, rq__tensor **inputs, int n_inputs,
                           rq__tensor ***outputs) {
  run_state s = {.g = g, .pool = pool, .scope = scope, .n_scope = n_scope};
  rq__tensor **result = NULL;
  rq_status st = copy_options(opts, &s.opts);
  if (st == RQ_OK && n_inputs != g->n_inputs)
    st = rq__fail(RQ_ERR_INVALID_ARG, "rq_graph_run", "the %sgraph has %d inputs, %d were given",
                  scope != NULL ? "sub" : "", g->n_inputs, n_inputs);
  for (int i = 0; st == RQ_OK && i < n_inputs; i++) st = wrap_optional(g, i, &inputs[i]);
  for (int i = 0; st == RQ_OK && i < n_inputs; i++) st = check_input(g, i, inputs[i], scope != NULL);
  if (st == RQ_OK) st = prepare(&s);
  if (st != RQ_OK) {
    for (int i = 0; i < n_inputs; i++) rq__tensor_destroy(inputs[i]);
    goto done;
  }
  /* The run owns the inputs from here on; releasing the slots frees them. */
  for (int i = 0; i < n_inputs; i++) {
    int v = g->inputs[i];
    if (s.owned[v]) { /* the same value listed twice */
      rq__tensor_destroy(inputs[i]);
      continue;
    }
    s.slot[v] = inputs[i];
    s.owned[v] = true;
  }
  for (int i = 0; st == RQ_OK && i < n_inputs; i++) st = call_hook(&s, g->inputs[i]);
  if (s.opts.num_threads > 0) rq__gemm_set_threads(s.opts.num_threads);
  for (int ni = 0; st == RQ_OK && ni < g->n_nodes; ni++) st = run_node(&s, ni);
  if (st != RQ_OK) goto done;

  result = rq__calloc(g->n_outputs ? (size_t)g->n_outputs : 1, sizeof *result);
  if (result == NULL) {
    st = rq__nomem("rq_graph_run", sizeof *result * (size_t)g->n_outputs);
    goto done;
  }
  for (int o = 0; st == RQ_OK && o < g->n_outputs; o++) {
    int v = g->outputs[o];
    if (s.slot[v] == NULL) {
      st = rq__fail(RQ_ERR_INTERNAL, "rq_graph_run", "output '%s' was not computed", g->values[v].name);
    } else if (s.owned[v]) { /* hand over; a second listing of it gets a copy */
      result[o] = s.slot[v];
      s.owned[v] = false;
    } else {
      st = rq__tensor_clone(s.slot[v], &result[o]);
    }
    if (st == RQ_OK) st = rq__tensor_set_name(result[o], g->values[v].name);
  }
  if (st != RQ_OK) {
    for (int o = 0; o < g->n_outputs; o++) rq__tensor_destroy(result[o]);
    rq__free(result);
    result = NULL;
  }
done:
  /* prepare may have failed between allocating slot and owned. */
  if (s.slot != NULL && s.owned != NULL)
    for (int v = 0; v < g->n_values; v++) release(&s, v);
  rq__free(s.slot);
  rq__free(s.owned);
  rq__free(s.watched);
  rq__free(s.last_use);
  rq__free(s.act);
  rq__free(s.forward);
  *outputs = result;
  return st;
}

rq_status rq__exec_run(const rq_graph *g, const rq_exec_options *opts, rq__buffer_pool *pool,
                       rq__tensor **inputs, int n_inputs, rq__tensor ***outputs) {
  return run_graph(g, opts, pool, NULL, 0, inputs, n_inputs, outputs);
}

rq_status rq__exec_run_subgraph(const rq__op_ctx *c, const rq_graph *body, rq__tensor **inputs, int n_inputs,
                                rq__tensor ***outputs) {
  /* Hooks watch the main graph's edges only; the thread budget carries over. */
  rq_exec_options opts = {.struct_size = sizeof opts, .num_threads = c->threads};
  static const rq__tensor *const no_scope[1] = {NULL};
  return run_graph(body, &opts, c->pool, c->n_implicit > 0 ? c->implicit : no_scope, c->n_implicit, inputs,
                   n_inputs, outputs);
}

/* ---- the public API ---- */

struct rq_tensor_list {
  size_t n;
  rq__tensor **tensors;
  DLTensor *views;
};

/* Copies a (possibly strided) host DLTensor into a new contiguous tensor. */
static rq_status tensor_from_dl(const rq_graph *g, rq__buffer_pool *pool, size_t index, const DLTensor *dl,
                                rq__tensor **out) {
  *out = NULL;
  if (dl->device.device_type != kDLCPU && dl->device.device_type != kDLCUDAHost)
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_graph_run", "inputs[%zu] is not in host memory (device type %d)",
                    index, (int)dl->device.device_type);
  if (dl->ndim < 0 || dl->ndim > RQ__MAX_RANK)
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_graph_run", "inputs[%zu] has rank %d (0..%d supported)", index,
                    dl->ndim, RQ__MAX_RANK);
  if (dl->ndim > 0 && dl->shape == NULL)
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_graph_run", "inputs[%zu].shape is NULL", index);
  int32_t dtype = rq__dtype_from_dl(dl->dtype);
  int32_t declared = g->values[g->inputs[index]].dtype;
  if (declared == RQ__DT_BOOL && (dtype == RQ__DT_UINT8 || dtype == RQ__DT_INT8)) dtype = RQ__DT_BOOL;
  if (dtype == RQ__DT_UNDEFINED)
    return rq__fail(RQ_ERR_UNSUPPORTED, "rq_graph_run", "inputs[%zu] has DLPack type code %u bits %u lanes %u",
                    index, dl->dtype.code, dl->dtype.bits, dl->dtype.lanes);
  /* Checked before copying: the element size decides how much is read. */
  if (declared != RQ__DT_UNDEFINED && declared != dtype)
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_graph_run", "inputs[%zu] ('%s') has element type %s, the model declares %s",
                    index, g->values[g->inputs[index]].name, rq__dtype_name(dtype), rq__dtype_name(declared));
  for (int d = 0; d < dl->ndim; d++)
    if (dl->shape[d] < 0)
      return rq__fail(RQ_ERR_INVALID_ARG, "rq_graph_run", "inputs[%zu].shape[%d] is negative", index, d);
  rq__tensor *t; /* every element is written below */
  RQ_TRY(rq__pool_tensor(pool, "rq_graph_run", dtype, dl->ndim, dl->shape, false, &t));
  if (t->numel > 0 && dl->data == NULL) {
    rq__tensor_destroy(t);
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_graph_run", "inputs[%zu].data is NULL", index);
  }
  rq__tensor_copy_contiguous(dl, t->numel, rq__dtype_size(dtype), t->data);
  *out = t;
  return RQ_OK;
}

rq_status rq_graph_run(const rq_graph *graph, const rq_exec_options *options, const DLTensor *inputs,
                       size_t n_inputs, rq_tensor_list **outputs) {
  RQ_CHECK_NOT_NULL(outputs);
  *outputs = NULL;
  RQ_CHECK_NOT_NULL(graph);
  RQ_CHECK_ARG(n_inputs == 0 || inputs != NULL, "inputs is NULL but n_inputs is %zu", n_inputs);
  RQ_CHECK_ARG(n_inputs == (size_t)graph->n_inputs, "the graph has %d inputs, n_inputs is %zu",
               graph->n_inputs, n_inputs);
  for (int k = 0; k < graph->n_inputs + graph->n_outputs; k++) {
    int id = k < graph->n_inputs ? graph->inputs[k] : graph->outputs[k - graph->n_inputs];
    const rq__value *v = &graph->values[id];
    if (v->kind != RQ__KIND_TENSOR)
      return rq__fail(RQ_ERR_UNSUPPORTED, __func__,
                      "graph %s '%s' is of kind %s; rq_graph_run passes tensors only (DLTensor inputs and outputs)",
                      k < graph->n_inputs ? "input" : "output", v->name, rq__kind_name(v->kind));
  }
  rq__tensor **in = rq__calloc(n_inputs ? n_inputs : 1, sizeof *in);
  if (in == NULL) return rq__nomem(__func__, n_inputs * sizeof *in);
  rq__buffer_pool *pool = pool_acquire(graph);
  rq_status st = RQ_OK;
  for (size_t i = 0; st == RQ_OK && i < n_inputs; i++)
    st = tensor_from_dl(graph, pool, i, &inputs[i], &in[i]);
  rq__tensor **out = NULL;
  if (st == RQ_OK) {
    st = rq__exec_run(graph, options, pool, in, (int)n_inputs, &out);
    /* An output the model left undeclared may still turn out a sequence;
     * one it declared must hold the element type it says (a runtime would
     * refuse the model, and what razorq writes from it would not load). */
    for (int o = 0; st == RQ_OK && o < graph->n_outputs; o++) {
      const rq__value *declared = &graph->values[graph->outputs[o]];
      if (out[o]->kind != RQ__KIND_TENSOR)
        st = rq__fail(RQ_ERR_UNSUPPORTED, __func__,
                      "graph output '%s' is of kind %s; rq_graph_run passes tensors only (DLTensor inputs and outputs)",
                      declared->name, rq__kind_name(out[o]->kind));
      else if (declared->dtype != RQ__DT_UNDEFINED && declared->dtype != out[o]->dtype)
        st = rq__fail(RQ_ERR_FORMAT, __func__, "graph output '%s' is declared %s, but the model computes %s",
                      declared->name, rq__dtype_name(declared->dtype), rq__dtype_name(out[o]->dtype));
    }
    if (st != RQ_OK && out != NULL) {
      for (int o = 0; o < graph->n_outputs; o++) rq__tensor_destroy(out[o]);
      rq__free(out);
      out = NULL;
    }
  } else {
    for (size_t i = 0; i < n_inputs; i++) rq__tensor_destroy(in[i]);
  }
  /* A failed run (perhaps out of memory) gives the buffers back. */
  if (st == RQ_OK) pool_keep(graph, pool);
  else if (pool != NULL) pool_destroy(pool);
  rq__free(in);
  if (st != RQ_OK) return st;
  size_t n = (size_t)graph->n_outputs;
  rq_tensor_list *list = rq__calloc(1, sizeof *list);
  DLTensor *views = rq__calloc(n ? n : 1, sizeof *views);
  if (list == NULL || views == NULL) {
    rq__free(list);
    rq__free(views);
    for (size_t i = 0; i < n; i++) rq__tensor_destroy(out[i]);
    rq__free(out);
    return rq__nomem(__func__, sizeof *list + n * sizeof *views);
  }
  list->n = n;
  list->tensors = out;
  list->views = views;
  for (size_t i = 0; i < n; i++) to_dltensor(out[i], &views[i]);
  *outputs = list;
  return RQ_OK;
}

size_t rq_tensor_list_count(const rq_tensor_list *list) {
  return list == NULL ? 0 : list->n;
}

rq_status rq_tensor_list_get(const rq_tensor_list *list, size_t index, const char **name,
                             const DLTensor **tensor) {
  RQ_CHECK_NOT_NULL(list);
  RQ_CHECK_ARG(index < list->n, "index %zu is out of range (the list has %zu tensors)", index, list->n);
  if (name != NULL) *name = list->tensors[index]->name;
  if (tensor != NULL) *tensor = &list->views[index];
  return RQ_OK;
}

rq_status rq_tensor_list_find(const rq_tensor_list *list, const char *name, size_t *index) {
  RQ_CHECK_NOT_NULL(list);
  RQ_CHECK_NOT_NULL(name);
  RQ_CHECK_NOT_NULL(index);
  for (size_t i = 0; i < list->n; i++) {
    if (list->tensors[i]->name != NULL && strcmp(list->tensors[i]->name, name) == 0) {
      *index = i;
      return RQ_OK;
    }
  }
  return rq__fail(RQ_ERR_NOT_FOUND, __func__, "no output is named '%s'", name);
}

void rq_tensor_list_destroy(rq_tensor_list *list) {
  if (list == NULL) return;
  for (size_t i = 0; i < list->n; i++) rq__tensor_destroy(list->tensors[i]);
  rq__free(list->tensors);
  rq__free(list->views);
  rq__free(list);
}
