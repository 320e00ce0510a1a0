/* SPDX-License-Identifier: Apache-2.0 */
/* Quantization sessions: prepare (fold, plan, create fake-quants), calibrate
 * (MMRazor's PTQLoop: the executor runs the model with every planned
 * fake-quant applied on its edge, observers on), convert (observers off,
 * qparams fixed), run (fake-quantized evaluation). Export lives in export.c. */
#include "session/session_internal.h"
#include "session/export.h"
#include "kernels/scalar_ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rq_status clone_graph(const rq_graph *src, rq_graph **out, const char *where) {
  rq_status s = rq__graph_clone(src, out);
  if (s != RQ_OK) return rq__fail(s, where, "could not copy the model: %s", rq_last_error());
  return RQ_OK;
}

rq_status rq__session_add_note(rq_session *s, const char *text) {
  char **grown = rq__realloc_array(s->notes, (size_t)s->n_notes + 1, sizeof *grown);
  if (grown == NULL) return rq__nomem(__func__, 0);
  s->notes = grown;
  grown[s->n_notes] = rq__strdup(text);
  if (grown[s->n_notes] == NULL) return rq__nomem(__func__, strlen(text));
  s->n_notes++;
  return RQ_OK;
}

void rq_session_destroy(rq_session *s) {
  if (s == NULL) return;
  rq_graph_destroy(s->graph);
  rq_graph_destroy(s->fq_graph);
  rq__session_drop_batches(s);
  for (int i = 0; i < s->n_points; i++) rq__free(s->points[i].edge);
  rq__free(s->points);
  for (int i = 0; i < s->n_fake_quants; i++) rq_fake_quant_destroy(s->fake_quants[i]);
  rq__free(s->fake_quants);
  rq__free(s->hook_edges);
  rq__free(s->hook_fq);
  for (int i = 0; i < s->n_notes; i++) rq__free(s->notes[i]);
  rq__free(s->notes);
  rq__free(s->backend_name);
  rq__free(s->export_format);
  rq__free(s);
}

/* Creates a fake-quant from a JSON config, prefixing errors with what it is for. */
static rq_status create_fake_quant(json_t *config, const char *what, rq_fake_quant **out) {
  char *text = json_dumps(config, JSON_COMPACT);
  if (text == NULL) return rq__nomem("rq_quantizer_prepare", 0);
  rq_status st = rq_fake_quant_create(text, out);
  free(text);
  if (st != RQ_OK) {
    char detail[600];
    snprintf(detail, sizeof detail, "%s", rq_last_error());
    return rq__fail(st, "rq_quantizer_prepare", "%s: %s", what, detail);
  }
  return RQ_OK;
}

/* The quant range a qscheme gives (MMRazor's QSchemeHandler). */
static void quant_range(const rq__qscheme_summary *q, bool symmetric_range, int *qmin, int *qmax) {
  if (q->qdtype == RQ__QUINT8) {
    *qmin = 0;
    *qmax = (1 << q->bit) - 1;
  } else {
    *qmax = (1 << (q->bit - 1)) - 1;
    *qmin = -(1 << (q->bit - 1)) + (symmetric_range ? 1 : 0);
  }
}

/* A fixed-qparams op's fake-quant (PyTorch: FixedQParamsFakeQuantize over
 * the op's output range, e.g. sigmoid scale 1/256, zero point 0 for quint8). */
static json_t *fixed_config(const rq__qpoint *pt) {
  const json_t *a = pt->qconfig->a_fake_quant;
  int qmin, qmax;
  quant_range(&pt->qconfig->a, json_is_true(json_object_get(a, "is_symmetric_range")), &qmin, &qmax);
  double scale = ((double)pt->fixed_hi - pt->fixed_lo) / ((double)qmax - qmin + 1);
  double zero_point = qmin - pt->fixed_lo / scale;
  json_t *obs = json_pack("{s:s, s:f, s:i}", "type", "FixedQParamsObserver", "scale", scale, "zero_point",
                          (int)lrint(zero_point));
  json_t *cfg = json_pack("{s:s, s:o}", "type", "FixedQParamsFakeQuantize", "observer", obs);
  static const char *const keys[] = {"qdtype", "bit", "is_symmetry", "is_symmetric_range"};
  for (size_t i = 0; cfg != NULL && i < 4; i++) {
    json_t *v = json_object_get(a, keys[i]);
    if (v != NULL) json_object_set(cfg, keys[i], v);
  }
  return cfg;
}

static json_t *weight_config(const rq__qpoint *pt) {
  json_t *cfg = json_deep_copy(pt->qconfig->w_fake_quant);
  if (cfg != NULL && pt->qconfig->w.per_channel)
    json_object_set_new(json_object_get(cfg, "observer"), "ch_axis", json_integer(pt->ch_axis));
  return cfg;
}

/* DLTensor view of a float initializer. */
static void tensor_view(rq__tensor *t, DLTensor *view, int64_t *shape) {
  for (int i = 0; i < t->ndim; i++) shape[i] = t->dims[i];
  *view = (DLTensor){.data = t->data, .device = {kDLCPU, 0}, .ndim = t->ndim,
                     .dtype = {kDLFloat, 32, 1}, .shape = shape, .strides = NULL, .byte_offset = 0};
}

/* Weights are observed once and stored fake-quantized in fq_graph: every
 * calibration step would observe the same tensor, which leaves min/max (and
 * a moving average of a constant) unchanged. */
rq_status rq__session_quantize_weights(rq_session *s) {
  for (int i = 0; i < s->n_points; i++) {
    rq__session_point *p = &s->points[i];
    if (!p->is_weight) continue;
    int src = rq__graph_find_value(s->graph, p->edge), dst = rq__graph_find_value(s->fq_graph, p->edge);
    if (src < 0 || dst < 0 || s->graph->values[src].init == NULL || s->fq_graph->values[dst].init == NULL)
      return rq__fail(RQ_ERR_INTERNAL, "rq_quantizer_prepare", "weight '%s' vanished from the model copy", p->edge);
    rq__tensor *w = s->graph->values[src].init, *wq = s->fq_graph->values[dst].init;
    if (w->dtype != RQ__DT_FLOAT)
      return rq__fail(RQ_ERR_UNSUPPORTED, "rq_quantizer_prepare", "weight '%s' is %s; only float32 weights are quantized",
                      p->edge, rq__dtype_name(w->dtype));
    int64_t shape_in[RQ__MAX_RANK], shape_out[RQ__MAX_RANK];
    DLTensor x, y;
    tensor_view(w, &x, shape_in);
    tensor_view(wq, &y, shape_out);
    rq_status st = rq_fake_quant_forward(s->fake_quants[p->fq], &x, &y);
    if (st != RQ_OK) {
      char detail[600];
      snprintf(detail, sizeof detail, "%s", rq_last_error());
      return rq__fail(st, "rq_quantizer_prepare", "weight '%s': %s", p->edge, detail);
    }
    /* Fixed from now on. */
    RQ_TRY(rq_fake_quant_set_mode(s->fake_quants[p->fq], false, true));
  }
  return RQ_OK;
}

/* ---- values convert changes: learned in fq_graph, committed to graph ---- */

struct rq__adjusted {
  rq__tensor *dst; /* the initializer in the float graph */
  float *values;   /* what convert left in fq_graph */
};

void rq__session_adjusted_at(const rq_session *s, int n, int ids[2]) {
  size_t channels = 0;
  ids[0] = s->bias_correction ? rq__session_correctable_bias(s, s->graph, n, &channels) : -1;
  ids[1] = rq__session_rounded_weight(s, s->graph, n);
}

void rq__session_free_adjusted(rq__adjusted *list, size_t n) {
  for (size_t i = 0; i < n; i++) rq__free(list[i].values);
  rq__free(list);
}

rq_status rq__session_collect_adjusted(const rq_session *s, rq__adjusted **out, size_t *n_out) {
  size_t cap = 2 * (size_t)s->graph->n_nodes + 1, n = 0;
  rq__adjusted *list = rq__calloc(cap, sizeof *list);
  if (list == NULL) return rq__nomem("rq_session_convert", cap);
  rq_status st = RQ_OK;
  for (int node = 0; st == RQ_OK && node < s->graph->n_nodes; node++) {
    int ids[2];
    rq__session_adjusted_at(s, node, ids);
    for (int k = 0; st == RQ_OK && k < 2; k++) {
      if (ids[k] < 0) continue;
      rq__tensor *dst = s->graph->values[ids[k]].init;
      int q = rq__graph_find_value(s->fq_graph, s->graph->values[ids[k]].name);
      const rq__tensor *src = q >= 0 ? s->fq_graph->values[q].init : NULL;
      if (src == NULL || src->dtype != RQ__DT_FLOAT || src->numel != dst->numel) {
        st = rq__fail(RQ_ERR_INTERNAL, "rq_session_convert", "'%s' differs between the model copies",
                      s->graph->values[ids[k]].name);
        break;
      }
      list[n] = (rq__adjusted){dst, rq__malloc_array(src->numel, sizeof(float))};
      if (list[n].values == NULL) {
        st = rq__nomem("rq_session_convert", src->nbytes);
        break;
      }
      memcpy(list[n++].values, src->data, src->numel * sizeof(float));
    }
  }
  if (st != RQ_OK) {
    rq__session_free_adjusted(list, n);
    return st;
  }
  *out = list;
  *n_out = n;
  return RQ_OK;
}

void rq__session_commit_adjusted(rq__adjusted *list, size_t n) {
  for (size_t i = 0; i < n; i++) memcpy(list[i].dst->data, list[i].values, list[i].dst->numel * sizeof(float));
  rq__session_free_adjusted(list, n);
}

void rq__session_restore_fq_graph(rq_session *s) {
  /* Weights rounded to nearest again, biases as in the float graph. */
  if (rq__session_uses_adaround(s)) (void)rq__session_quantize_weights(s);
  for (int node = 0; s->bias_correction && node < s->graph->n_nodes; node++) {
    int ids[2];
    rq__session_adjusted_at(s, node, ids);
    int q = ids[0] >= 0 ? rq__graph_find_value(s->fq_graph, s->graph->values[ids[0]].name) : -1;
    rq__tensor *b = ids[0] >= 0 ? s->graph->values[ids[0]].init : NULL, *bq = q >= 0 ? s->fq_graph->values[q].init : NULL;
    if (b != NULL && bq != NULL && bq->numel == b->numel) memcpy(bq->data, b->data, b->numel * sizeof(float));
  }
}

/* The activation fake-quants' calibration modes (prepare's): observers on,
 * fake-quant on in MMRazor's PTQLoop style, off in PyTorch's. */
static rq_status set_calibration_modes(rq_session *s) {
  for (int i = 0; i < s->n_points; i++)
    if (!s->points[i].is_weight)
      RQ_TRY(rq_fake_quant_set_mode(s->fake_quants[s->points[i].fq], true, s->calibrate_with_fake_quant));
  return RQ_OK;
}

static rq_status build_points(rq_session *s, const rq__plan *plan) {
  s->points = rq__calloc((size_t)plan->n_points + 1, sizeof *s->points);
  s->fake_quants = rq__calloc((size_t)plan->n_points + 1, sizeof *s->fake_quants);
  s->hook_edges = rq__calloc((size_t)plan->n_points + 1, sizeof *s->hook_edges);
  s->hook_fq = rq__calloc((size_t)plan->n_points + 1, sizeof *s->hook_fq);
  int *share_fq = rq__malloc_array((size_t)plan->n_shares + 1, sizeof *share_fq);
  if (!s->points || !s->fake_quants || !s->hook_edges || !s->hook_fq || !share_fq) {
    rq__free(share_fq);
    return rq__nomem("rq_quantizer_prepare", (size_t)plan->n_points * 64);
  }
  for (int i = 0; i < plan->n_shares; i++) share_fq[i] = -1;
  rq_status st = RQ_OK;
  for (int i = 0; i < plan->n_points && st == RQ_OK; i++) {
    const rq__qpoint *pt = &plan->points[i];
    rq__session_point *p = &s->points[i];
    p->edge = rq__strdup(s->graph->values[pt->value].name);
    if (p->edge == NULL) { st = rq__nomem("rq_quantizer_prepare", 0); break; }
    s->n_points = i + 1;
    p->is_weight = pt->is_weight;
    p->ch_axis = pt->ch_axis;
    const rq__qscheme_summary *sum = pt->is_weight ? &pt->qconfig->w : &pt->qconfig->a;
    p->qdtype = sum->qdtype;
    p->bit = sum->bit;
    if (!pt->is_weight && share_fq[pt->share] >= 0) {
      p->fq = share_fq[pt->share];
    } else {
      json_t *cfg = pt->is_weight ? weight_config(pt) : pt->fixed ? fixed_config(pt) : json_deep_copy(pt->qconfig->a_fake_quant);
      if (cfg == NULL) { st = rq__nomem("rq_quantizer_prepare", 0); break; }
      char what[300];
      snprintf(what, sizeof what, "%s '%s'", pt->is_weight ? "weight" : "edge", p->edge);
      st = create_fake_quant(cfg, what, &s->fake_quants[s->n_fake_quants]);
      json_decref(cfg);
      if (st != RQ_OK) break;
      p->fq = s->n_fake_quants++;
      if (!pt->is_weight) share_fq[pt->share] = p->fq;
    }
    if (!p->is_weight) {
      s->hook_edges[s->n_hook_edges] = p->edge;
      s->hook_fq[s->n_hook_edges] = p->fq;
      s->n_hook_edges++;
    }
  }
  rq__free(share_fq);
  return st;
}

static bool has_node_named(const rq_graph *g, const char *op_type, const char *name) {
  for (int n = 0; n < g->n_nodes; n++)
    if (strcmp(g->nodes[n].op_type, op_type) == 0 && strcmp(g->nodes[n].name, name) == 0) return true;
  return false;
}

/* A Pad of nothing is an exporter's artifact, not a PyTorch op: quantized as
 * one, a fake-quant shared through it would observe its input twice per
 * batch. Each removal is noted by name, since a config may name the node. */
static rq_status remove_noop_pads(rq_session *s, const rq_graph *original) {
  int removed = 0;
  RQ_TRY(rq__pass_remove_noop_pads(s->graph, &removed));
  char line[320];
  for (int n = 0; n < original->n_nodes && removed > 0; n++) {
    const rq__node *node = &original->nodes[n];
    if (strcmp(node->op_type, "Pad") != 0 || node->name[0] == '\0' || has_node_named(s->graph, "Pad", node->name))
      continue;
    snprintf(line, sizeof line, "removed node '%.256s' (Pad): it pads nothing", node->name);
    RQ_TRY(rq__session_add_note(s, line));
    removed--;
  }
  if (removed > 0) { /* unnamed ones */
    snprintf(line, sizeof line, "removed %d unnamed Pad node%s that pad nothing", removed, removed == 1 ? "" : "s");
    RQ_TRY(rq__session_add_note(s, line));
  }
  return RQ_OK;
}

rq_status rq_quantizer_prepare(const rq_quantizer *q, const rq_graph *graph, rq_session **out) {
  RQ_CHECK_NOT_NULL(out);
  *out = NULL;
  RQ_CHECK_NOT_NULL(q);
  RQ_CHECK_NOT_NULL(graph);
  RQ_TRY(rq__quantizer_check_node_names(q, graph));
  rq_session *s = rq__calloc(1, sizeof *s);
  if (s == NULL) return rq__nomem(__func__, sizeof *s);
  s->backend_name = rq__strdup(q->backend->name);
  s->export_format = rq__strdup(q->backend->export_format);
  s->int32_bias = q->backend->int32_bias;
  s->calibrate_with_fake_quant = q->calibrate_with_fake_quant;
  s->bias_correction = q->bias_correction;
  s->adaround = q->adaround;
  s->calibrate_steps = q->calibrate_steps;
  s->calibrate_batch_size = q->calibrate_batch_size;
  s->model_fingerprint = rq__graph_fingerprint(graph);
  s->config_hash = q->config_hash;
  rq__plan plan = {0};
  rq_status st = s->backend_name && s->export_format ? RQ_OK : rq__nomem(__func__, 0);
  if (st == RQ_OK) st = clone_graph(graph, &s->graph, __func__);
  int folded = 0;
  if (st == RQ_OK) st = rq__pass_fold_batchnorm(s->graph, &folded);
  if (st == RQ_OK && folded > 0) {
    char line[128];
    snprintf(line, sizeof line, "folded %d BatchNormalization node%s into the preceding Conv/Gemm", folded,
             folded == 1 ? "" : "s");
    st = rq__session_add_note(s, line);
  }
  /* Element types of undeclared edges, so the plan quantizes float edges
   * only (a Concat of Shape outputs is int64 and stays as it is); before the
   * Pads go, so a Pad's input has its real type when it takes over a graph
   * output's name. */
  if (st == RQ_OK) st = rq__pass_infer_shapes(s->graph, NULL);
  if (st == RQ_OK) st = remove_noop_pads(s, graph);
  if (st == RQ_OK) st = rq__plan_build(s->graph, q, &plan);
  for (int i = 0; st == RQ_OK && i < plan.n_notes; i++) st = rq__session_add_note(s, plan.notes[i]);
  if (st == RQ_OK) st = build_points(s, &plan);
  rq__plan_free(&plan);
  if (st == RQ_OK) st = clone_graph(s->graph, &s->fq_graph, __func__);
  if (st == RQ_OK) st = rq__session_quantize_weights(s);
  if (st == RQ_OK) st = set_calibration_modes(s);
  if (st != RQ_OK) {
    rq_session_destroy(s);
    return st;
  }
  s->keep_batches = s->bias_correction || rq__session_uses_adaround(s);
  s->state = RQ__SESSION_PREPARED;
  *out = s;
  return RQ_OK;
}

/* ---- running with fake-quants on the edges ---- */

typedef struct hook_ctx {
  rq_session *s;
  size_t next; /* edges come in execution order; a hint for the lookup */
} hook_ctx;

/* A float16/bfloat16 edge, fake-quantized in float32 and rounded back to its
 * type in place: what the export's Cast -> Q -> DQ -> Cast computes. The
 * executor hands contiguous tensors. */
static rq_status fake_quant_half(rq_fake_quant *fq, DLTensor *value) {
  size_t numel;
  RQ_TRY(rq__tensor_numel(value, &numel));
  if (numel == 0) return RQ_OK;
  float *wide = rq__malloc_array(numel, sizeof *wide);
  if (wide == NULL) return rq__nomem("fake-quant", numel * sizeof *wide);
  DLTensor y = *value;
  y.data = wide;
  y.byte_offset = 0;
  y.strides = NULL;
  y.dtype = (DLDataType){kDLFloat, 32, 1};
  rq_status st = rq_fake_quant_forward(fq, value, &y);
  void *half = (char *)value->data + value->byte_offset;
  for (size_t i = 0; st == RQ_OK && i < numel; i++) {
    if (value->dtype.code == kDLBfloat) rq__store_bf16(half, i, wide[i]);
    else rq__store_f16(half, i, wide[i]);
  }
  rq__free(wide);
  return st;
}

rq_status rq__session_fake_quant_edge(rq_fake_quant *fq, DLTensor *value) {
  if (value->dtype.code == kDLFloat && value->dtype.bits == 32) return rq_fake_quant_forward(fq, value, value);
  if ((value->dtype.code == kDLFloat || value->dtype.code == kDLBfloat) && value->dtype.bits == 16)
    return fake_quant_half(fq, value);
  return RQ_OK; /* float64 edges are never planned */
}

static rq_status apply_fake_quant(void *user, const char *edge, DLTensor *value) {
  hook_ctx *ctx = user;
  rq_session *s = ctx->s;
  size_t n = s->n_hook_edges;
  for (size_t k = 0; k < n; k++) {
    size_t i = (ctx->next + k) % n;
    if (strcmp(s->hook_edges[i], edge) != 0) continue;
    ctx->next = i + 1;
    if (value->dtype.code != kDLFloat && value->dtype.code != kDLBfloat)
      /* The plan took the edge for float (its type was undeclared and not
       * inferable): exporting a QuantizeLinear on integers would give a
       * model no runtime loads, so say which edge and how to leave it out. */
      return rq__fail(RQ_ERR_UNSUPPORTED, NULL,
                      "edge '%s' has a fake-quant but carries %s%u values at run time (the model declares "
                      "it float, or its type could not be inferred); leave the nodes that read it float with "
                      "quantizer.tracer.skipped_nodes",
                      edge, value->dtype.code == kDLInt ? "int" : value->dtype.code == RQ_DL_BOOL ? "bool" : "uint",
                      value->dtype.code == RQ_DL_BOOL ? 0u : (unsigned)value->dtype.bits);
    rq_status st = rq__session_fake_quant_edge(s->fake_quants[s->hook_fq[i]], value);
    if (st != RQ_OK) {
      char detail[600];
      snprintf(detail, sizeof detail, "%s", rq_last_error());
      return rq__fail(st, NULL, "fake-quant on edge '%s': %s", edge, detail);
    }
    return RQ_OK;
  }
  return RQ_OK;
}

static rq_status run_with_fake_quants(rq_session *s, const rq_graph *g, const DLTensor *inputs, size_t n_inputs,
                                      rq_tensor_list **outputs) {
  rq_exec_options opts;
  RQ_TRY(rq_exec_options_init(&opts, sizeof opts));
  hook_ctx ctx = {s, 0};
  if (s->n_hook_edges > 0) {
    opts.hook = apply_fake_quant;
    opts.hook_user = &ctx;
    opts.hook_edges = s->hook_edges;
    opts.n_hook_edges = s->n_hook_edges;
  }
  return rq_graph_run(g, &opts, inputs, n_inputs, outputs);
}

rq_status rq_session_calibrate(rq_session *s, const DLTensor *inputs, size_t n_inputs) {
  RQ_CHECK_NOT_NULL(s);
  RQ_CHECK_NOT_NULL(inputs);
  if (s->state != RQ__SESSION_PREPARED)
    return rq__fail(RQ_ERR_STATE, __func__, "the session is converted; calibration is over");
  /* PyTorch's prepare/convert style observes the float model (float weights). */
  const rq_graph *g = s->calibrate_with_fake_quant ? s->fq_graph : s->graph;
  rq_tensor_list *outputs = NULL;
  rq_status st = run_with_fake_quants(s, g, inputs, n_inputs, &outputs);
  rq_tensor_list_destroy(outputs);
  if (st == RQ_OK && s->keep_batches) st = rq__session_keep_batch(s, inputs, n_inputs);
  if (st == RQ_OK) s->batches_seen++;
  return st;
}

static rq_status find_point(const rq_session *s, const char *edge, int *index) {
  for (int i = 0; i < s->n_points; i++)
    if (!s->points[i].is_weight && strcmp(s->points[i].edge, edge) == 0) {
      *index = i;
      return RQ_OK;
    }
  return rq__fail(RQ_ERR_NOT_FOUND, "rq_session_observe", "edge '%s' has no activation fake-quant in this session", edge);
}

rq_status rq_session_observe(rq_session *s, const char *edge_name, const DLTensor *value) {
  RQ_CHECK_NOT_NULL(s);
  RQ_CHECK_NOT_NULL(edge_name);
  RQ_CHECK_NOT_NULL(value);
  if (s->state != RQ__SESSION_PREPARED)
    return rq__fail(RQ_ERR_STATE, __func__, "the session is converted; calibration is over");
  int i = 0;
  RQ_TRY(find_point(s, edge_name, &i));
  return rq_observer_observe(rq_fake_quant_observer(s->fake_quants[s->points[i].fq]), value);
}

static rq_status convert(rq_session *s);

rq_status rq_session_convert(rq_session *s) {
  RQ_CHECK_NOT_NULL(s);
  if (s->state == RQ__SESSION_CONVERTED) return RQ_OK;
  if (s->keep_batches && s->n_kept == 0)
    return rq__fail(RQ_ERR_STATE, __func__, "%s needs the calibration batches: calibrate with rq_session_calibrate",
                    s->bias_correction ? "bias_correction" : "AdaRound");
  int notes = s->n_notes;
  rq_status st = convert(s);
  if (st != RQ_OK) {
    /* A failed convert leaves the session calibrating, as it was, and the
     * message says why it failed, not how the clean-up went. */
    char why[1024];
    snprintf(why, sizeof why, "%s", rq_last_error());
    rq__session_restore_fq_graph(s);
    (void)set_calibration_modes(s);
    while (s->n_notes > notes) rq__free(s->notes[--s->n_notes]);
    rq__fail(st, NULL, "%s", why);
  }
  return st;
}

static rq_status convert(rq_session *s) {
  /* qparams from the observers' final statistics (PyTorch's calculate_qparams),
   * so engine-fed observations count as much as executor-fed ones. */
  for (int f = 0; f < s->n_fake_quants; f++) {
    rq_fake_quant *fq = s->fake_quants[f];
    size_t count = 0;
    RQ_TRY(rq_fake_quant_qparams(fq, NULL, NULL, 0, &count));
    float *scale = rq__malloc_array(count, sizeof *scale), *zpf = rq__malloc_array(count, sizeof *zpf);
    int32_t *zp = rq__malloc_array(count, sizeof *zp);
    rq_status st = scale && zpf && zp ? rq_fake_quant_qparams(fq, scale, zp, count, &count) : rq__nomem(__func__, count * 12);
    for (size_t c = 0; st == RQ_OK && c < count; c++) zpf[c] = (float)zp[c];
    if (st == RQ_OK) st = rq_fake_quant_set_params(fq, scale, zpf, count);
    if (st == RQ_OK) st = rq_fake_quant_set_mode(fq, false, true);
    rq__free(scale);
    rq__free(zpf);
    rq__free(zp);
    RQ_TRY(st);
  }
  /* AdaRound first: bias correction then removes what mean shift the
   * learned rounding leaves. Both change fq_graph only; the float graph
   * takes their weights and biases once nothing more can fail. */
  bool adaround = rq__session_uses_adaround(s);
  rq_status st = adaround ? rq__session_adaround(s, &s->adaround) : RQ_OK;
  if (st == RQ_OK && s->bias_correction) st = rq__session_correct_biases(s);
  rq__adjusted *adjusted = NULL;
  size_t n_adjusted = 0;
  if (st == RQ_OK) st = rq__session_collect_adjusted(s, &adjusted, &n_adjusted);
  /* Where the backend deploys int32 biases, the evaluated model uses the
   * same rounded biases as the exported one. */
  if (st == RQ_OK) st = rq__session_quantize_biases(s);
  if (st != RQ_OK) {
    rq__session_free_adjusted(adjusted, n_adjusted);
    return st;
  }
  rq__session_commit_adjusted(adjusted, n_adjusted);
  rq__session_drop_batches(s);
  s->state = RQ__SESSION_CONVERTED;
  return RQ_OK;
}

rq_status rq_session_run(rq_session *s, const DLTensor *inputs, size_t n_inputs, rq_tensor_list **outputs) {
  RQ_CHECK_NOT_NULL(outputs);
  *outputs = NULL;
  RQ_CHECK_NOT_NULL(s);
  RQ_CHECK_NOT_NULL(inputs);
  if (s->state != RQ__SESSION_CONVERTED)
    return rq__fail(RQ_ERR_STATE, __func__, "convert the session first (rq_session_convert): it is still calibrating");
  return run_with_fake_quants(s, s->fq_graph, inputs, n_inputs, outputs);
}

rq_status rq_session_set_progress(rq_session *s, rq_progress_fn fn, void *user) {
  RQ_CHECK_NOT_NULL(s);
  s->progress = fn;
  s->progress_user = user;
  return RQ_OK;
}

/* ---- inspection ---- */

size_t rq_session_note_count(const rq_session *s) { return s == NULL ? 0 : (size_t)s->n_notes; }

const char *rq_session_note(const rq_session *s, size_t index) {
  if (s == NULL || index >= (size_t)s->n_notes) {
    rq__fail(RQ_ERR_INVALID_ARG, __func__, s == NULL ? "session is NULL" : "index %zu is out of range", index);
    return NULL;
  }
  return s->notes[index];
}

size_t rq_session_point_count(const rq_session *s) { return s == NULL ? 0 : (size_t)s->n_points; }

rq_status rq_session_point_info(const rq_session *s, size_t index, const char **edge, bool *is_weight,
                                rq_fake_quant **fake_quant) {
  RQ_CHECK_NOT_NULL(s);
  RQ_CHECK_ARG(index < (size_t)s->n_points, "index %zu is out of range (%d points)", index, s->n_points);
  const rq__session_point *p = &s->points[index];
  if (edge != NULL) *edge = p->edge;
  if (is_weight != NULL) *is_weight = p->is_weight;
  if (fake_quant != NULL) *fake_quant = s->fake_quants[p->fq];
  return RQ_OK;
}

const rq_graph *rq_session_graph(const rq_session *s) {
  if (s == NULL) {
    rq__fail(RQ_ERR_INVALID_ARG, __func__, "session is NULL");
    return NULL;
  }
  return s->graph;
}

rq_status rq_session_calibration_settings(const rq_session *s, size_t *steps, size_t *batch_size) {
  RQ_CHECK_NOT_NULL(s);
  if (steps != NULL) *steps = (size_t)s->calibrate_steps;
  if (batch_size != NULL) *batch_size = (size_t)s->calibrate_batch_size;
  return RQ_OK;
}
