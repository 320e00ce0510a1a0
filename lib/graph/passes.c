/* SPDX-License-Identifier: Apache-2.0 */
/* Graph passes quantization needs: constant folding, BatchNormalization
 * folding, and recognition of fusable groups. */
#include "graph/graph.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static bool is_op(const rq__node *n, const char *op) {
  return (n->domain[0] == '\0' || strcmp(n->domain, "ai.onnx") == 0) && strcmp(n->op_type, op) == 0;
}

static const char *label(const rq__node *n) { return n->name[0] ? n->name : "<unnamed>"; }

/* The tensor a Constant node stands for (new, owned by the caller). */
static rq_status constant_value(const rq__node *n, rq__tensor **out) {
  *out = NULL;
  const rq__attr *a = NULL;
  int found = 0;
  static const char *const keys[] = {"value", "value_float", "value_floats", "value_int",
                                     "value_ints", "value_string", "value_strings", "sparse_value"};
  for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
    const rq__attr *x = rq__node_attr(n, keys[k]);
    if (x != NULL) {
      a = x;
      found++;
    }
  }
  if (found != 1 || n->n_outputs != 1 || n->outputs[0] < 0)
    return rq__fail(RQ_ERR_FORMAT, __func__,
                    "Constant node '%s' needs exactly one value attribute and one output", label(n));
  const char *k = a->name;
  int64_t len;
  if (strcmp(k, "value") == 0 && a->type == RQ__ATTR_TENSOR) return rq__tensor_clone(a->t, out);
  if (strcmp(k, "value_float") == 0 && a->type == RQ__ATTR_FLOAT) {
    RQ_TRY(rq__tensor_create(NULL, RQ__DT_FLOAT, 0, NULL, out));
    memcpy((*out)->data, &a->f, sizeof a->f);
    return RQ_OK;
  }
  if (strcmp(k, "value_int") == 0 && a->type == RQ__ATTR_INT) {
    RQ_TRY(rq__tensor_create(NULL, RQ__DT_INT64, 0, NULL, out));
    memcpy((*out)->data, &a->i, sizeof a->i);
    return RQ_OK;
  }
  if (strcmp(k, "value_floats") == 0 && a->type == RQ__ATTR_FLOATS) {
    len = (int64_t)a->count;
    RQ_TRY(rq__tensor_create(NULL, RQ__DT_FLOAT, 1, &len, out));
    if (a->count) memcpy((*out)->data, a->floats, a->count * sizeof *a->floats);
    return RQ_OK;
  }
  if (strcmp(k, "value_ints") == 0 && a->type == RQ__ATTR_INTS) {
    len = (int64_t)a->count;
    RQ_TRY(rq__tensor_create(NULL, RQ__DT_INT64, 1, &len, out));
    if (a->count) memcpy((*out)->data, a->ints, a->count * sizeof *a->ints);
    return RQ_OK;
  }
  return rq__fail(strncmp(k, "value_string", 12) == 0 ? RQ_ERR_UNSUPPORTED : RQ_ERR_FORMAT, __func__,
                  "Constant node '%s': attribute '%s' is not supported (or has the wrong type)",
                  label(n), k);
}

rq_status rq__pass_constant_nodes(rq_graph *g, int *count) {
  RQ_CHECK_NOT_NULL(g);
  if (count) *count = 0;
  int n_const = 0;
  for (int i = 0; i < g->n_nodes; i++) n_const += is_op(&g->nodes[i], "Constant");
  if (n_const == 0) return RQ_OK;
  /* Build every tensor first so a failure leaves the graph unchanged. */
  bool *drop = rq__calloc((size_t)g->n_nodes, sizeof *drop);
  rq__tensor **tensors = rq__calloc((size_t)n_const, sizeof *tensors);
  int *ids = rq__calloc((size_t)n_const, sizeof *ids);
  rq_status s = RQ_OK;
  if (drop == NULL || tensors == NULL || ids == NULL) s = rq__nomem(__func__, (size_t)g->n_nodes);
  int m = 0;
  for (int i = 0; i < g->n_nodes && s == RQ_OK; i++) {
    if (!is_op(&g->nodes[i], "Constant")) continue;
    s = constant_value(&g->nodes[i], &tensors[m]);
    ids[m++] = g->nodes[i].outputs[0];
    drop[i] = true;
  }
  if (s == RQ_OK) {
    rq__graph_drop_nodes(g, drop);
    for (int j = 0; j < m; j++) {
      rq_status sj = rq__graph_set_initializer(g, ids[j], tensors[j]); /* takes ownership */
      tensors[j] = NULL;
      if (s == RQ_OK) s = sj; /* only NOMEM renaming can fail here */
    }
    if (s == RQ_OK) s = rq__graph_sort(g);
    if (count) *count = m;
  }
  for (int j = 0; tensors != NULL && j < n_const; j++) rq__tensor_destroy(tensors[j]);
  rq__free(tensors);
  rq__free(ids);
  rq__free(drop);
  return s;
}

static bool is_identity(const rq_graph *g, const rq__node *n) {
  (void)g;
  return is_op(n, "Identity") && n->n_inputs == 1;
}

/* A Pad that pads nothing: constant mode, every pad 0 (the pads attribute
 * before opset 11, a constant input after). */
static bool is_noop_pad(const rq_graph *g, const rq__node *n) {
  if (!is_op(n, "Pad") || n->n_inputs < 1) return false;
  if (strcmp(rq__node_attr_string(n, "mode", "constant"), "constant") != 0) return false;
  size_t n_pads;
  const int64_t *pads_attr = rq__node_attr_ints(n, "pads", &n_pads);
  if (pads_attr != NULL) {
    for (size_t i = 0; i < n_pads; i++)
      if (pads_attr[i] != 0) return false;
    return n->n_inputs == 1;
  }
  if (n->n_inputs < 2 || n->inputs[1] < 0) return false;
  const rq__tensor *pads = g->values[n->inputs[1]].init;
  if (pads == NULL || pads->dtype != RQ__DT_INT64) return false;
  for (size_t i = 0; i < pads->numel; i++)
    if (((const int64_t *)pads->data)[i] != 0) return false;
  return true;
}

/* Removes the nodes `passes_through` selects (one input, one output equal
 * to it): consumers read the input directly. */
static rq_status remove_pass_through(rq_graph *g, bool (*passes_through)(const rq_graph *, const rq__node *),
                                     int *count) {
  RQ_CHECK_NOT_NULL(g);
  int removed = 0;
  for (int i = 0; i < g->n_nodes;) {
    rq__node *n = &g->nodes[i];
    if (!passes_through(g, n) || n->n_outputs != 1 || n->inputs[0] < 0 || n->outputs[0] < 0) {
      i++;
      continue;
    }
    int x = n->inputs[0], y = n->outputs[0];
    rq__value *vx = &g->values[x], *vy = &g->values[y];
    if (vy->is_output && (vx->is_input || vx->is_output || vx->init != NULL)) {
      i++; /* removing it would rename the model's interface */
      continue;
    }
    if (vy->is_output) {
      /* x takes over y's name and output slot, so the interface keeps its name. */
      char *yname = rq__strdup(vy->name);
      if (yname == NULL) return rq__nomem(__func__, strlen(vy->name) + 1);
      rq_status s = rq__graph_rename_value(g, y, "");
      if (s == RQ_OK) s = rq__graph_rename_value(g, x, yname);
      rq__free(yname);
      RQ_TRY(s);
      /* ...and its declared type/shape (y is dropped below). */
      rq__shape tmp = vx->shape;
      vx->shape = vy->shape;
      vy->shape = tmp;
      vx->dtype = vy->dtype;
      vx->kind = vy->kind;
      vx->inner_kind = vy->inner_kind;
    }
    /* y's consumers and output slot now read x; the node is then dead. */
    RQ_TRY(rq__graph_rewire(g, y, x));
    for (int j = 0; j < g->n_nodes; j++) {
      if (g->nodes[j].n_outputs == 1 && g->nodes[j].outputs[0] == y) {
        RQ_TRY(rq__graph_remove_node(g, j));
        break;
      }
    }
    /* Drop y now, so the next renamed output can use the "" placeholder too. */
    RQ_TRY(rq__graph_compact(g));
    removed++;
    i = 0; /* indices moved; rescan (chains are short) */
  }
  if (count) *count = removed;
  return RQ_OK;
}

rq_status rq__pass_remove_identity(rq_graph *g, int *count) { return remove_pass_through(g, is_identity, count); }

rq_status rq__pass_remove_noop_pads(rq_graph *g, int *count) { return remove_pass_through(g, is_noop_pad, count); }

rq_status rq__pass_fold_constants(rq_graph *g, int *count) {
  int a = 0, b = 0;
  RQ_TRY(rq__pass_constant_nodes(g, &a));
  RQ_TRY(rq__pass_remove_identity(g, &b));
  if (count) *count = a + b;
  return RQ_OK;
}

/* ------------------------------------------------------- BN folding -- */

/* A float initializer of exactly n elements, or NULL. */
static const float *const_floats(const rq_graph *g, int id, size_t n) {
  if (id < 0) return NULL;
  const rq__tensor *t = g->values[id].init;
  if (t == NULL || t->dtype != RQ__DT_FLOAT || t->numel != n) return NULL;
  return t->data;
}

/* A writable copy of weight id for node `node`: the initializer itself when
 * nothing else reads it, else a new initializer wired into that input. */
static rq_status private_weight(rq_graph *g, int node, int slot, rq__tensor **out) {
  int id = g->nodes[node].inputs[slot];
  if (rq__graph_consumers(g, id, NULL, 0) == 1 && !g->values[id].is_output) {
    *out = g->values[id].init;
    return RQ_OK;
  }
  rq__tensor *copy;
  RQ_TRY(rq__tensor_clone(g->values[id].init, &copy));
  RQ_TRY(rq__tensor_set_name(copy, g->values[id].name)); /* add_value makes it unique */
  int nid;
  RQ_TRY(rq__graph_add_initializer(g, copy, &nid));
  g->nodes[node].inputs[slot] = nid;
  *out = g->values[nid].init;
  return RQ_OK;
}

/* Folds BN node `bn` into the Conv/Gemm `lin` producing its input. The
 * arithmetic follows torch.nn.utils.fusion.fuse_conv_bn_weights in float32:
 *   s = bn_w * rsqrt(var + eps);  W' = W * s (per output channel);
 *   b' = (b - mean) * rsqrt(var + eps) * bn_w + bn_b. */
static rq_status fold_one(rq_graph *g, int lin, int bn, size_t channels) {
  const rq__node *B = &g->nodes[bn];
  const float *gamma = const_floats(g, B->inputs[1], channels);
  const float *beta = const_floats(g, B->inputs[2], channels);
  const float *mean = const_floats(g, B->inputs[3], channels);
  const float *var = const_floats(g, B->inputs[4], channels);
  float eps = rq__node_attr_float(B, "epsilon", 1e-5f);
  float *rs = rq__malloc_array(channels, sizeof *rs);
  if (rs == NULL) return rq__nomem(__func__, channels * sizeof *rs);
  for (size_t c = 0; c < channels; c++) rs[c] = 1.0f / sqrtf(var[c] + eps);

  bool is_conv = is_op(&g->nodes[lin], "Conv");
  rq__tensor *W;
  rq_status s = private_weight(g, lin, 1, &W);
  if (s != RQ_OK) goto out;
  /* Bias: Conv input 2 / Gemm input C (beta folded in). Create zeros if absent. */
  int bias_slot = 2;
  float beta_gemm = is_conv ? 1.0f : rq__node_attr_float(&g->nodes[lin], "beta", 1.0f);
  rq__tensor *bias = NULL;
  if (g->nodes[lin].n_inputs > bias_slot && g->nodes[lin].inputs[bias_slot] >= 0) {
    s = private_weight(g, lin, bias_slot, &bias);
    if (s != RQ_OK) goto out;
  } else {
    int64_t dim = (int64_t)channels;
    rq__tensor *zeros;
    s = rq__tensor_create(NULL, RQ__DT_FLOAT, 1, &dim, &zeros);
    if (s != RQ_OK) goto out;
    size_t len = strlen(g->nodes[lin].name) + 8;
    char *bname = rq__malloc(len);
    if (bname == NULL) {
      rq__tensor_destroy(zeros);
      s = rq__nomem(__func__, len);
      goto out;
    }
    snprintf(bname, len, "%s_bias", g->nodes[lin].name[0] ? g->nodes[lin].name : "fold");
    s = rq__tensor_set_name(zeros, bname);
    rq__free(bname);
    int nid;
    if (s == RQ_OK) s = rq__graph_add_initializer(g, zeros, &nid);
    else rq__tensor_destroy(zeros);
    if (s != RQ_OK) goto out;
    while (g->nodes[lin].n_inputs < bias_slot) {
      s = rq__node_append_input(g, lin, -1);
      if (s != RQ_OK) goto out;
    }
    /* append without re-sorting semantics mattering: it is a constant */
    s = rq__node_append_input(g, lin, nid);
    if (s != RQ_OK) goto out;
    /* lin/bn indices are unchanged: a constant input adds no dependency and
     * the sort is stable. */
    bias = g->values[nid].init;
  }

  float *w = W->data, *b = bias->data;
  if (is_conv) {
    size_t per = W->numel / channels;
    for (size_t c = 0; c < channels; c++) {
      float scale = gamma[c] * rs[c];
      for (size_t j = 0; j < per; j++) w[c * per + j] *= scale;
    }
  } else {
    bool trans_b = rq__node_attr_int(&g->nodes[lin], "transB", 0) != 0;
    size_t K = W->numel / channels;
    for (size_t c = 0; c < channels; c++) {
      float scale = gamma[c] * rs[c];
      for (size_t k = 0; k < K; k++) {
        if (trans_b) w[c * K + k] *= scale; /* B is [M, K] */
        else w[k * channels + c] *= scale;  /* B is [K, M] */
      }
    }
  }
  for (size_t c = 0; c < channels; c++)
    b[c] = (beta_gemm * b[c] - mean[c]) * rs[c] * gamma[c] + beta[c];
  if (!is_conv) {
    s = rq__node_set_attr_float(&g->nodes[lin], "beta", 1.0f);
    if (s != RQ_OK) goto out;
  }
  /* The Conv/Gemm now produces the BN's output; the BN and the old edge go. */
  {
    int old_out = g->nodes[lin].outputs[0], bn_out = g->nodes[bn].outputs[0];
    g->nodes[bn].outputs[0] = old_out; /* BN becomes a dead dangling consumer */
    g->nodes[lin].outputs[0] = bn_out;
    bool *drop = rq__calloc((size_t)g->n_nodes, sizeof *drop);
    if (drop == NULL) {
      s = rq__nomem(__func__, (size_t)g->n_nodes);
      goto out;
    }
    drop[bn] = true;
    rq__graph_drop_nodes(g, drop);
    rq__free(drop);
    s = rq__graph_compact(g);
    if (s == RQ_OK) s = rq__graph_sort(g);
  }
out:
  rq__free(rs);
  return s;
}

/* Output channels of the Conv/Gemm feeding BN, or 0 when it cannot fold. */
static size_t foldable(const rq_graph *g, int lin, int bn) {
  const rq__node *L = &g->nodes[lin], *B = &g->nodes[bn];
  if (B->n_inputs != 5 || B->n_outputs < 1 || B->outputs[0] < 0) return 0;
  for (int k = 1; k < B->n_outputs; k++)
    if (B->outputs[k] >= 0) return 0; /* training-mode outputs in use */
  if (rq__node_attr_int(B, "training_mode", 0) != 0) return 0;
  if (L->n_outputs != 1 || L->outputs[0] != B->inputs[0]) return 0;
  int x = L->outputs[0];
  if (g->values[x].is_output || rq__graph_consumers(g, x, NULL, 0) != 1) return 0;
  if (L->n_inputs < 2 || L->inputs[1] < 0) return 0;
  const rq__tensor *W = g->values[L->inputs[1]].init;
  if (W == NULL || W->dtype != RQ__DT_FLOAT || W->ndim < 2) return 0;
  size_t channels;
  if (is_op(L, "Conv")) {
    channels = (size_t)W->dims[0];
  } else {
    if (W->ndim != 2) return 0;
    channels = (size_t)W->dims[rq__node_attr_int(L, "transB", 0) ? 0 : 1];
  }
  if (channels == 0) return 0;
  if (L->n_inputs > 2 && L->inputs[2] >= 0 && const_floats(g, L->inputs[2], channels) == NULL)
    return 0; /* bias not constant, or broadcast over more than channels */
  for (int k = 1; k < 5; k++)
    if (const_floats(g, B->inputs[k], channels) == NULL) return 0;
  return channels;
}

rq_status rq__pass_fold_batchnorm(rq_graph *g, int *count) {
  RQ_CHECK_NOT_NULL(g);
  int folded = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const rq__node *B = &g->nodes[i];
    if (!is_op(B, "BatchNormalization") || B->n_inputs < 1 || B->inputs[0] < 0) continue;
    int lin = g->values[B->inputs[0]].producer;
    if (lin < 0 || !(is_op(&g->nodes[lin], "Conv") || is_op(&g->nodes[lin], "Gemm"))) continue;
    size_t channels = foldable(g, lin, i);
    if (channels == 0) continue;
    RQ_TRY(fold_one(g, lin, i, channels));
    folded++;
    i = -1; /* indices changed; rescan */
  }
  if (count) *count = folded;
  return RQ_OK;
}

/* ------------------------------------------------ fusable patterns -- */

/* The single node reading node n's only output, when that output is not
 * also a graph output; -1 otherwise. */
static int sole_consumer(const rq_graph *g, int n) {
  const rq__node *N = &g->nodes[n];
  if (N->n_outputs < 1 || N->outputs[0] < 0) return -1;
  for (int k = 1; k < N->n_outputs; k++)
    if (N->outputs[k] >= 0 && rq__graph_consumers(g, N->outputs[k], NULL, 0) > 0) return -1;
  int id = N->outputs[0], c;
  if (g->values[id].is_output || rq__graph_consumers(g, id, &c, 1) != 1) return -1;
  return c;
}

bool rq__fusable_activation(const char *op_type) {
  return strcmp(op_type, "Relu") == 0 || strcmp(op_type, "Clip") == 0;
}

static bool is_act(const rq__node *n) { return is_op(n, n->op_type) && rq__fusable_activation(n->op_type); }

static bool is_bias_add(const rq_graph *g, int add, int from) {
  const rq__node *A = &g->nodes[add];
  if (!is_op(A, "Add") || A->n_inputs != 2) return false;
  int x = g->nodes[from].outputs[0];
  int other = A->inputs[0] == x ? A->inputs[1] : A->inputs[1] == x ? A->inputs[0] : -1;
  return other >= 0 && g->values[other].init != NULL;
}

rq_status rq__graph_find_fusions(const rq_graph *g, rq__fusion **out, int *n_out) {
  RQ_CHECK_NOT_NULL(g);
  RQ_CHECK_NOT_NULL(out);
  RQ_CHECK_NOT_NULL(n_out);
  *out = NULL;
  *n_out = 0;
  bool *used = rq__calloc((size_t)g->n_nodes + 1, sizeof *used);
  rq__fusion *groups = rq__malloc_array((size_t)g->n_nodes + 1, sizeof *groups);
  if (used == NULL || groups == NULL) {
    rq__free(used);
    rq__free(groups);
    return rq__nomem(__func__, (size_t)g->n_nodes * sizeof *groups);
  }
  int n = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const rq__node *N = &g->nodes[i];
    bool conv = is_op(N, "Conv");
    if (used[i] || !(conv || is_op(N, "Gemm") || is_op(N, "MatMul"))) continue;
    int next = sole_consumer(g, i);
    if (next < 0 || used[next]) continue;
    rq__fusion f = {0};
    f.nodes[f.n_nodes++] = i;
    int tail = next, last = i;
    if (conv && is_op(&g->nodes[next], "BatchNormalization")) {
      f.kind = RQ__FUSE_CONV_BN;
    } else if (is_bias_add(g, next, i)) {
      f.kind = RQ__FUSE_LINEAR_ADD;
    } else if (is_act(&g->nodes[next])) {
      f.kind = RQ__FUSE_LINEAR_ACT;
      tail = -1;
      f.nodes[f.n_nodes++] = next;
    } else {
      continue;
    }
    if (tail >= 0) {
      f.nodes[f.n_nodes++] = tail;
      last = tail;
      int act = sole_consumer(g, last);
      if (act >= 0 && !used[act] && is_act(&g->nodes[act])) {
        f.nodes[f.n_nodes++] = act;
        f.kind = f.kind == RQ__FUSE_CONV_BN ? RQ__FUSE_CONV_BN_ACT : RQ__FUSE_LINEAR_ACT;
      }
    }
    for (int k = 0; k < f.n_nodes; k++) used[f.nodes[k]] = true;
    groups[n++] = f;
  }
  rq__free(used);
  if (n == 0) {
    rq__free(groups);
    return RQ_OK;
  }
  *out = groups;
  *n_out = n;
  return RQ_OK;
}
