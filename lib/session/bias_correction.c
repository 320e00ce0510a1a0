/* SPDX-License-Identifier: Apache-2.0 */
/* Empirical bias correction (config key "bias_correction"): after the
 * qparams are fixed, each Conv/Gemm with a quantized weight and a float bias
 * gets bias += E[y_float] - E[y_quant] per output channel, the means taken
 * over the calibration batches. y_float is the node's output in the float
 * model, y_quant in the fake-quantized one (quantized weights, quantized
 * inputs, the corrections of earlier nodes already applied), so the mean
 * shift quantization causes is removed layer by layer (Nagel et al., "Data-
 * Free Quantization Through Weight Equalization and Bias Correction", ICCV
 * 2019, section 4.2; AIMET's empirical bias correction). The session keeps
 * a copy of every calibration batch until convert for this. */
#include "session/session_internal.h"

#include "kernels/kernels.h"

#include <string.h>

static size_t dl_numel(const DLTensor *t) {
  size_t n = 1;
  for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
  return n;
}

static void free_batch(rq__kept_batch *b) {
  for (size_t i = 0; i < b->n_inputs; i++) {
    rq__free(b->inputs[i].data);
    rq__free(b->inputs[i].shape);
  }
  rq__free(b->inputs);
}

void rq__session_drop_batches(rq_session *s) {
  for (size_t i = 0; i < s->n_kept; i++) free_batch(&s->kept[i]);
  rq__free(s->kept);
  s->kept = NULL;
  s->n_kept = 0;
}

/* A contiguous copy of t (any element type, any strides). */
static rq_status copy_tensor(const DLTensor *t, DLTensor *out) {
  size_t esize = ((size_t)t->dtype.bits * t->dtype.lanes + 7) / 8, n = dl_numel(t);
  *out = (DLTensor){.device = {kDLCPU, 0}, .ndim = t->ndim, .dtype = t->dtype};
  out->shape = rq__malloc_array((size_t)t->ndim + 1, sizeof *out->shape);
  out->data = rq__malloc(n * esize > 0 ? n * esize : 1);
  if (out->shape == NULL || out->data == NULL) return rq__nomem("rq_session_calibrate", n * esize);
  for (int d = 0; d < t->ndim; d++) out->shape[d] = t->shape[d];
  rq__tensor_copy_contiguous(t, n, esize, out->data);
  return RQ_OK;
}

rq_status rq__session_keep_batch(rq_session *s, const DLTensor *inputs, size_t n_inputs) {
  for (size_t i = 0; i < n_inputs; i++)
    if (inputs[i].ndim > RQ__MAX_RANK || (inputs[i].ndim > 0 && inputs[i].shape == NULL))
      return RQ_OK; /* the run has refused it already */
  rq__kept_batch b = {rq__calloc(n_inputs + 1, sizeof *b.inputs), 0};
  if (b.inputs == NULL) return rq__nomem("rq_session_calibrate", n_inputs);
  rq_status st = RQ_OK;
  for (size_t i = 0; st == RQ_OK && i < n_inputs; i++) {
    b.n_inputs = i + 1;
    st = copy_tensor(&inputs[i], &b.inputs[i]);
  }
  rq__kept_batch *grown = st == RQ_OK ? rq__realloc_array(s->kept, s->n_kept + 1, sizeof *grown) : NULL;
  if (st == RQ_OK && grown == NULL) st = rq__nomem("rq_session_calibrate", 0);
  if (st != RQ_OK) {
    free_batch(&b);
    return st;
  }
  s->kept = grown;
  s->kept[s->n_kept++] = b;
  return RQ_OK;
}

int rq__session_correctable_bias(const rq_session *s, const rq_graph *g, int n, size_t *channels) {
  const rq__node *node = &g->nodes[n];
  bool conv = strcmp(node->op_type, "Conv") == 0, gemm = strcmp(node->op_type, "Gemm") == 0;
  if ((!conv && !gemm) || node->domain[0] != '\0' || node->n_inputs < 3 || node->outputs[0] < 0) return -1;
  if (gemm && rq__node_attr_float(node, "beta", 1.0f) != 1.0f) return -1;
  int w = node->inputs[1], b = node->inputs[2];
  if (w < 0 || b < 0 || g->values[b].init == NULL || g->values[b].init->dtype != RQ__DT_FLOAT) return -1;
  const rq__tensor *bias = g->values[b].init;
  if (bias->ndim != 1 || bias->numel == 0 || rq__graph_consumers(g, b, NULL, 0) != 1) return -1;
  /* One bias value per output channel (a broadcast [1] bias of a Gemm is left alone). */
  const rq__tensor *weight = g->values[w].init;
  if (weight == NULL || weight->ndim != (gemm ? 2 : weight->ndim) || weight->ndim < 2) return -1;
  int64_t out_channels = gemm && rq__node_attr_int(node, "transB", 0) == 0 ? weight->dims[1] : weight->dims[0];
  if ((size_t)out_channels != bias->numel) return -1;
  bool quantized = false;
  for (int i = 0; i < s->n_points; i++)
    quantized |= s->points[i].is_weight && strcmp(s->points[i].edge, g->values[w].name) == 0;
  if (!quantized) return -1;
  *channels = bias->numel;
  return b;
}

/* A node whose bias is corrected: its output edge, the bias's value id in
 * fq_graph, and the per-channel sums of the float model's output
 * (ref) and of the quantized model's (got). */
typedef struct target {
  const char *edge;
  size_t channels;
  int bias_q;
  double *ref, *got;
  uint64_t ref_count, got_count; /* elements per channel summed */
} target;

typedef struct mean_ctx {
  rq_session *s;
  target *targets;
  size_t first, end;     /* the targets whose outputs are summed in this pass */
  bool quantized;        /* apply the session's activation fake-quants, sum into got */
} mean_ctx;

static rq_status add_channel_sums(const target *t, const DLTensor *value, double *sum, uint64_t *count) {
  /* Channels on axis 1 ([N, C, ...] for Conv, [M, N] for Gemm). */
  if (value->ndim < 2 || (size_t)value->shape[1] != t->channels)
    return rq__fail(RQ_ERR_INTERNAL, "rq_session_convert", "bias correction: '%s' does not have %zu channels on axis 1",
                    t->edge, t->channels);
  size_t outer = (size_t)value->shape[0], total = dl_numel(value);
  if (total == 0) return RQ_OK;
  size_t inner = total / (outer * t->channels);
  const float *v = (const float *)((const char *)value->data + value->byte_offset);
  for (size_t o = 0; o < outer; o++)
    for (size_t c = 0; c < t->channels; c++) {
      const float *row = v + (o * t->channels + c) * inner;
      double acc = 0.0;
      for (size_t k = 0; k < inner; k++) acc += row[k];
      sum[c] += acc;
    }
  *count += outer * inner;
  return RQ_OK;
}

static rq_status accumulate(void *user, const char *edge, DLTensor *value) {
  mean_ctx *ctx = user;
  rq_session *s = ctx->s;
  bool float32 = value->dtype.code == kDLFloat && value->dtype.bits == 32;
  /* Summed before any fake-quant on the edge itself: that is the node's
   * output (float32 ones: Conv/Gemm outputs of a half-precision section
   * are not corrected). */
  for (size_t i = ctx->first; i < ctx->end && float32; i++) {
    target *t = &ctx->targets[i];
    if (strcmp(edge, t->edge) != 0) continue;
    RQ_TRY(ctx->quantized ? add_channel_sums(t, value, t->got, &t->got_count)
                          : add_channel_sums(t, value, t->ref, &t->ref_count));
  }
  if (!ctx->quantized) return RQ_OK;
  for (size_t i = 0; i < s->n_hook_edges; i++)
    if (strcmp(s->hook_edges[i], edge) == 0) return rq__session_fake_quant_edge(s->fake_quants[s->hook_fq[i]], value);
  return RQ_OK;
}

rq_status rq__session_run_kept(rq_session *s, const rq_graph *g, rq_edge_hook hook, void *user, bool activations,
                               const char *const *extra, size_t n_extra, bool *stopped) {
  size_t cap = s->n_hook_edges + n_extra + 1, n_edges = 0;
  const char **edges = rq__calloc(cap, sizeof *edges);
  if (edges == NULL) return rq__nomem("rq_session_convert", cap);
  if (activations)
    for (size_t i = 0; i < s->n_hook_edges; i++) edges[n_edges++] = s->hook_edges[i];
  for (size_t i = 0; i < n_extra; i++) {
    bool listed = false;
    for (size_t k = 0; k < n_edges; k++) listed |= strcmp(edges[k], extra[i]) == 0;
    if (!listed) edges[n_edges++] = extra[i];
  }
  rq_exec_options opts;
  rq_status st = rq_exec_options_init(&opts, sizeof opts);
  opts.hook = hook;
  opts.hook_user = user;
  opts.hook_edges = edges;
  opts.n_hook_edges = n_edges;
  for (size_t b = 0; st == RQ_OK && b < s->n_kept; b++) {
    rq_tensor_list *out = NULL;
    st = rq_graph_run(g, &opts, s->kept[b].inputs, s->kept[b].n_inputs, &out);
    rq_tensor_list_destroy(out);
    if (st != RQ_OK && stopped != NULL && *stopped) st = RQ_OK; /* the hook had seen enough */
    if (stopped != NULL) *stopped = false;
  }
  rq__free(edges);
  return st;
}

/* One pass of g over the kept batches, summing targets [first, end). */
static rq_status sum_pass(rq_session *s, const rq_graph *g, target *targets, size_t first, size_t end,
                          bool quantized) {
  const char **edges = rq__calloc(end - first + 1, sizeof *edges);
  if (edges == NULL) return rq__nomem("rq_session_convert", end - first);
  for (size_t i = first; i < end; i++) edges[i - first] = targets[i].edge;
  mean_ctx ctx = {s, targets, first, end, quantized};
  rq_status st = rq__session_run_kept(s, g, accumulate, &ctx, quantized, edges, end - first, NULL);
  rq__free(edges);
  return st;
}

static void free_targets(target *targets, size_t n) {
  for (size_t i = 0; i < n; i++) {
    rq__free(targets[i].ref);
    rq__free(targets[i].got);
  }
  rq__free(targets);
}

/* The nodes to correct, in graph (topological) order. */
static rq_status find_targets(rq_session *s, target **out, size_t *n_out) {
  *out = NULL;
  *n_out = 0;
  target *targets = rq__calloc((size_t)s->graph->n_nodes + 1, sizeof *targets);
  if (targets == NULL) return rq__nomem("rq_session_convert", (size_t)s->graph->n_nodes);
  size_t n = 0;
  for (int node = 0; node < s->graph->n_nodes; node++) {
    size_t channels = 0;
    int b = rq__session_correctable_bias(s, s->graph, node, &channels);
    if (b < 0) continue;
    target *t = &targets[n++];
    t->edge = s->graph->values[s->graph->nodes[node].outputs[0]].name;
    t->channels = channels;
    t->bias_q = rq__graph_find_value(s->fq_graph, s->graph->values[b].name);
    t->ref = rq__calloc(channels, sizeof *t->ref);
    t->got = rq__calloc(channels, sizeof *t->got);
    if (t->ref == NULL || t->got == NULL) {
      free_targets(targets, n);
      return rq__nomem("rq_session_convert", channels);
    }
    const rq__tensor *bq = t->bias_q >= 0 ? s->fq_graph->values[t->bias_q].init : NULL;
    if (bq == NULL || bq->dtype != RQ__DT_FLOAT || bq->numel != channels) {
      rq_status st = rq__fail(RQ_ERR_INTERNAL, "rq_session_convert", "bias '%s' differs in the quantized copy",
                              s->graph->values[b].name);
      free_targets(targets, n);
      return st;
    }
  }
  *out = targets;
  *n_out = n;
  return RQ_OK;
}

rq_status rq__session_correct_biases(rq_session *s) {
  if (s->n_kept == 0)
    return rq__fail(RQ_ERR_STATE, "rq_session_convert",
                    "bias_correction needs the calibration batches: calibrate with rq_session_calibrate");
  target *targets;
  size_t n;
  RQ_TRY(find_targets(s, &targets, &n));
  /* The float model's means in one pass; then, in graph order, one quantized
   * pass per node, so every earlier correction is in place in fq_graph when
   * a node's quantized mean is taken. graph keeps the float biases until the
   * end. */
  rq_status st = n > 0 ? sum_pass(s, s->graph, targets, 0, n, false) : RQ_OK;
  for (size_t i = 0; st == RQ_OK && i < n; i++) {
    target *t = &targets[i];
    st = sum_pass(s, s->fq_graph, targets, i, i + 1, true);
    if (st != RQ_OK || t->ref_count == 0 || t->got_count == 0) continue;
    float *bias_q = s->fq_graph->values[t->bias_q].init->data;
    for (size_t c = 0; c < t->channels; c++)
      bias_q[c] = (float)((double)bias_q[c] + t->ref[c] / (double)t->ref_count - t->got[c] / (double)t->got_count);
  }
  /* The corrected biases stay in fq_graph: convert commits them to the
   * float graph once nothing more can fail, or, on a failure, puts fq_graph
   * back (rq__session_restore_fq_graph). */
  free_targets(targets, n);
  return st;
}
