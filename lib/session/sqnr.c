/* SPDX-License-Identifier: Apache-2.0 */
/* How much each quantized edge loses: the SQNR between the float model's
 * tensor on an edge and the fake-quantized model's, on caller data. Error
 * accumulates along the model, so a low value shows where precision goes. */
#include "session/session_internal.h"
#include "kernels/scalar_ops.h"

#include <math.h>
#include <string.h>

typedef struct edge_capture {
  float *values;   /* the float model's tensor on the edge */
  size_t numel;
  double signal, noise;
} edge_capture;

typedef struct sqnr_ctx {
  rq_session *s;
  edge_capture *edges; /* indexed like s->hook_edges */
  bool quantized_pass;
} sqnr_ctx;

/* Element k of a float32, float16 or bfloat16 edge value (the executor
 * hands contiguous tensors, exec.h). */
static float element(const DLTensor *t, size_t k) {
  const void *data = (const char *)t->data + t->byte_offset;
  if (t->dtype.bits == 32) return ((const float *)data)[k];
  return t->dtype.code == kDLBfloat ? rq__load_bf16(data, k) : rq__load_f16(data, k);
}

static rq_status capture(void *user, const char *edge, DLTensor *value) {
  sqnr_ctx *ctx = user;
  rq_session *s = ctx->s;
  size_t i = 0;
  while (i < s->n_hook_edges && strcmp(s->hook_edges[i], edge) != 0) i++;
  bool floats = (value->dtype.code == kDLFloat && (value->dtype.bits == 32 || value->dtype.bits == 16)) ||
                (value->dtype.code == kDLBfloat && value->dtype.bits == 16);
  if (i == s->n_hook_edges || !floats) return RQ_OK;
  edge_capture *c = &ctx->edges[i];
  size_t n;
  RQ_TRY(rq__tensor_numel(value, &n));
  if (!ctx->quantized_pass) {
    rq__free(c->values);
    c->values = rq__malloc_array(n > 0 ? n : 1, sizeof *c->values);
    if (c->values == NULL) return rq__nomem("rq_session_sqnr", n * sizeof(float));
    for (size_t k = 0; k < n; k++) c->values[k] = element(value, k);
    c->numel = n;
    return RQ_OK;
  }
  RQ_TRY(rq__session_fake_quant_edge(s->fake_quants[s->hook_fq[i]], value));
  if (c->values == NULL || c->numel != n) return RQ_OK;
  for (size_t k = 0; k < n; k++) {
    double ref = c->values[k], diff = ref - element(value, k);
    c->signal += ref * ref;
    c->noise += diff * diff;
  }
  return RQ_OK;
}

static double to_db(double signal, double noise) {
  if (noise == 0.0) return INFINITY;
  if (signal == 0.0) return -INFINITY;
  return 10.0 * log10(signal / noise);
}

rq_status rq_session_sqnr(rq_session *s, const DLTensor *inputs, size_t n_inputs, double *sqnr_db, size_t capacity,
                          size_t *count) {
  RQ_CHECK_NOT_NULL(s);
  RQ_CHECK_NOT_NULL(inputs);
  RQ_CHECK_NOT_NULL(count);
  *count = (size_t)s->n_points;
  RQ_CHECK_ARG(sqnr_db != NULL || capacity == 0, "sqnr_db is NULL but capacity is %zu", capacity);
  if (capacity < (size_t)s->n_points)
    return rq__fail(RQ_ERR_INVALID_ARG, __func__, "capacity %zu is less than the %d fake-quant places", capacity,
                    s->n_points);
  if (s->state != RQ__SESSION_CONVERTED)
    return rq__fail(RQ_ERR_STATE, __func__, "convert the session first (rq_session_convert)");
  sqnr_ctx ctx = {s, rq__calloc(s->n_hook_edges + 1, sizeof *ctx.edges), false};
  if (ctx.edges == NULL) return rq__nomem(__func__, s->n_hook_edges * sizeof *ctx.edges);
  rq_exec_options opts;
  rq_status st = rq_exec_options_init(&opts, sizeof opts);
  opts.hook = capture;
  opts.hook_user = &ctx;
  opts.hook_edges = s->hook_edges;
  opts.n_hook_edges = s->n_hook_edges;
  rq_tensor_list *out = NULL;
  if (st == RQ_OK && s->n_hook_edges > 0) st = rq_graph_run(s->graph, &opts, inputs, n_inputs, &out);
  rq_tensor_list_destroy(out);
  out = NULL;
  ctx.quantized_pass = true;
  if (st == RQ_OK && s->n_hook_edges > 0) st = rq_graph_run(s->fq_graph, &opts, inputs, n_inputs, &out);
  rq_tensor_list_destroy(out);
  for (int i = 0; st == RQ_OK && i < s->n_points; i++) {
    const rq__session_point *p = &s->points[i];
    if (p->is_weight) {
      /* Weights: the float initializer against its fake-quantized copy. */
      int a = rq__graph_find_value(s->graph, p->edge), b = rq__graph_find_value(s->fq_graph, p->edge);
      const rq__tensor *w = s->graph->values[a].init, *wq = s->fq_graph->values[b].init;
      double signal = 0, noise = 0;
      for (size_t k = 0; k < w->numel; k++) {
        double ref = ((const float *)w->data)[k], diff = ref - ((const float *)wq->data)[k];
        signal += ref * ref;
        noise += diff * diff;
      }
      sqnr_db[i] = to_db(signal, noise);
      continue;
    }
    for (size_t e = 0; e < s->n_hook_edges; e++)
      if (strcmp(s->hook_edges[e], p->edge) == 0) sqnr_db[i] = to_db(ctx.edges[e].signal, ctx.edges[e].noise);
  }
  for (size_t e = 0; e < s->n_hook_edges; e++) rq__free(ctx.edges[e].values);
  rq__free(ctx.edges);
  return st;
}
