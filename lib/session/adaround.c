/* SPDX-License-Identifier: Apache-2.0 */
/* AdaRound (w_fake_quant "mmrazor.AdaRoundFakeQuantize"; options under the
 * config's "reconstruction"): at convert, each Conv/Gemm/MatMul whose weight has
 * such a fake-quant learns, per weight, whether to round down or up, instead
 * of rounding to nearest (Nagel et al., "Up or Down? Adaptive Rounding for
 * Post-Training Quantization", ICML 2020: the paper's layer-wise objective,
 * with the relaxation, regulariser and annealing of BRECQ's code, which
 * MMRazor's AdaRoundFakeQuantize follows).
 *
 * Layer by layer, in graph order: the layer's input x is taken from the
 * quantized model (activation fake-quants on, earlier layers already
 * rounded) over the kept calibration batches, and the soft weight
 *   W~ = s * (clamp(floor(W/s) + h(V) + z, qmin, qmax) - z),
 *   h(V) = clamp(sigmoid(V) * (zeta - gamma) + gamma, 0, 1)
 * minimises  E_x ||W~ x - W x||^2 + weight * sum(1 - |2 h(V) - 1|^beta)
 * with Adam, beta annealed so h(V) ends at 0 or 1. The reconstruction term
 * is a quadratic form in D = W~ - W: with the Gram matrix H = E[x x^T] of the
 * layer's input patches it is trace(D H D^T), its gradient 2 D H. H is summed
 * once, so an iteration costs one small GEMM however many calibration
 * samples there are, and every iteration uses all of them (no minibatches).
 * The learned integers go into the weight as (w_int - z) * s, a value its
 * fake-quant reproduces exactly, so evaluation, export and calibration
 * tables carry the rounding without knowing about it. */
#include "session/session_internal.h"

#include "exec/exec.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define ZETA 1.1f
#define GAMMA (-0.1f)

/* One layer to round: a Conv, Gemm or MatMul of fq_graph and its weight. */
typedef struct layer {
  const rq__node *node;
  const char *input;      /* the edge whose patches make H */
  rq__tensor *weight;     /* in fq_graph: replaced by the rounded weight */
  rq_fake_quant *fq;
  bool conv, trans_a, trans_b;
  size_t out_channels, groups, k; /* k: weights per output channel (one group's patch rows) */
  float *gram;            /* groups * k * k sums of x x^T */
  uint64_t positions;     /* patches summed (columns of the patch matrices) */
} layer;

static bool is_adaround(const rq_fake_quant *fq) {
  const char *name = rq_fake_quant_type_name(fq);
  return name != NULL && strcmp(name, "AdaRoundFakeQuantize") == 0;
}

bool rq__session_uses_adaround(const rq_session *s) {
  for (int i = 0; i < s->n_points; i++)
    if (s->points[i].is_weight && is_adaround(s->fake_quants[s->points[i].fq])) return true;
  return false;
}

/* Whether node n of fq_graph is a layer AdaRound rounds; fills *l. */
static bool find_layer(const rq_session *s, int n, layer *l) {
  const rq_graph *g = s->fq_graph;
  const rq__node *node = &g->nodes[n];
  bool conv = strcmp(node->op_type, "Conv") == 0, gemm = strcmp(node->op_type, "Gemm") == 0;
  bool matmul = strcmp(node->op_type, "MatMul") == 0;
  if ((!conv && !gemm && !matmul) || node->domain[0] != '\0' || node->n_inputs < 2 || node->inputs[0] < 0 ||
      node->inputs[1] < 0)
    return false;
  rq__tensor *w = g->values[node->inputs[1]].init;
  if (w == NULL || w->dtype != RQ__DT_FLOAT || w->numel == 0 || (!conv && w->ndim != 2) || (conv && w->ndim < 3))
    return false;
  /* A weight several nodes read gets one rounding: left to nearest, since
   * no single layer's output can choose it. A constant input has no
   * calibration data to learn from. */
  if (rq__graph_consumers(g, node->inputs[1], NULL, 0) != 1 || g->values[node->inputs[0]].init != NULL)
    return false;
  const char *wname = g->values[node->inputs[1]].name;
  rq_fake_quant *fq = NULL;
  for (int i = 0; i < s->n_points; i++)
    if (s->points[i].is_weight && strcmp(s->points[i].edge, wname) == 0) fq = s->fake_quants[s->points[i].fq];
  if (fq == NULL || !is_adaround(fq)) return false;
  *l = (layer){.node = node, .input = g->values[node->inputs[0]].name, .weight = w, .fq = fq, .conv = conv};
  if (!conv) {
    /* MatMul x[..., K] @ W[K, N] is a Gemm without transposes over x's rows. */
    l->trans_a = gemm && rq__node_attr_int(node, "transA", 0) != 0;
    l->trans_b = gemm && rq__node_attr_int(node, "transB", 0) != 0;
    l->out_channels = (size_t)(l->trans_b ? w->dims[0] : w->dims[1]);
    l->k = (size_t)(l->trans_b ? w->dims[1] : w->dims[0]);
    l->groups = 1;
  } else {
    l->out_channels = (size_t)w->dims[0];
    l->k = w->numel / l->out_channels;
    int64_t group = rq__node_attr_int(node, "group", 1);
    l->groups = group >= 1 && w->dims[0] % group == 0 ? (size_t)group : 1;
  }
  return true;
}

/* ---- the Gram matrices: one pass of the quantized model over the kept batches ---- */

typedef struct gram_ctx {
  rq_session *s;
  layer *l;
  bool stopped; /* the layer's input is summed: the rest of the run is not needed */
} gram_ctx;

static rq_status add_patches(layer *l, const DLTensor *value) {
  rq__tensor x = {.dtype = RQ__DT_FLOAT, .ndim = value->ndim, .data = (char *)value->data + value->byte_offset};
  x.numel = 1;
  for (int d = 0; d < value->ndim; d++) x.numel *= (size_t)(x.dims[d] = value->shape[d]);
  if (x.numel == 0) return RQ_OK;
  if (!l->conv) {
    /* Gemm: [M, K] (or [K, M] with transA); MatMul: [..., K], every leading
     * index a row. */
    bool matmul = strcmp(l->node->op_type, "MatMul") == 0;
    if (x.ndim < 1 || (!matmul && x.ndim != 2) || (size_t)x.dims[l->trans_a ? 0 : x.ndim - 1] != l->k)
      return rq__fail(RQ_ERR_FORMAT, "rq_session_convert", "AdaRound: input '%s' of %s '%s' does not have %zu columns",
                      l->input, l->node->op_type, l->node->name, l->k);
    size_t m = x.numel / l->k;
    const float *xd = x.data;
    /* H += X^T X over the M rows (X^T stored: H += X X^T). */
    if (l->trans_a) rq__sgemm(false, true, l->k, l->k, m, 1.0f, xd, m, xd, m, 1.0f, l->gram, l->k);
    else rq__sgemm(true, false, l->k, l->k, m, 1.0f, xd, l->k, xd, l->k, 1.0f, l->gram, l->k);
    l->positions += m;
    return RQ_OK;
  }
  size_t groups, rows, positions;
  RQ_TRY(rq__conv_patch_shape(l->node, &x, l->weight, &groups, &rows, &positions));
  if (groups != l->groups || rows != l->k)
    return rq__fail(RQ_ERR_INTERNAL, "rq_session_convert", "AdaRound: Conv '%s' patches do not match its weight",
                    l->node->name);
  /* Images' patches side by side, one group at a time: one GEMM per group
   * and chunk of images rather than per image, the chunk kept to about
   * 32 MiB of patches (ResNet's first layer: 7 MiB per image). */
  size_t images = (size_t)x.dims[0], per_image = rows * positions * sizeof(float);
  size_t chunk = per_image > 0 && ((size_t)32 << 20) / per_image > 1 ? ((size_t)32 << 20) / per_image : 1;
  if (chunk > images) chunk = images;
  size_t bytes = chunk * per_image;
  float *col = rq__malloc(bytes > 0 ? bytes : 1);
  if (col == NULL) return rq__nomem("rq_session_convert", bytes);
  rq_status st = RQ_OK;
  for (size_t first = 0; st == RQ_OK && first < images; first += chunk) {
    size_t count = images - first < chunk ? images - first : chunk, width = count * positions;
    for (size_t g = 0; st == RQ_OK && g < groups; g++) {
      for (size_t n = 0; st == RQ_OK && n < count; n++)
        st = rq__conv_patches(l->node, &x, l->weight, first + n, g, col + n * positions, width);
      if (st == RQ_OK)
        rq__sgemm(false, true, rows, rows, width, 1.0f, col, width, col, width, 1.0f, l->gram + g * rows * rows,
                  rows);
    }
  }
  rq__free(col);
  if (st == RQ_OK) l->positions += (uint64_t)images * positions;
  return st;
}

static rq_status gram_hook(void *user, const char *edge, DLTensor *value) {
  gram_ctx *ctx = user;
  rq_session *s = ctx->s;
  /* The layer sees its input after the input's own fake-quant. */
  for (size_t i = 0; i < s->n_hook_edges; i++)
    if (strcmp(s->hook_edges[i], edge) == 0) {
      RQ_TRY(rq__session_fake_quant_edge(s->fake_quants[s->hook_fq[i]], value));
      break;
    }
  if (strcmp(edge, ctx->l->input) != 0) return RQ_OK;
  if (value->dtype.code != kDLFloat || value->dtype.bits != 32 || value->dtype.lanes != 1)
    return rq__fail(RQ_ERR_UNSUPPORTED, "rq_session_convert", "AdaRound: input '%s' of '%s' is not float32", edge,
                    ctx->l->node->name);
  RQ_TRY(add_patches(ctx->l, value));
  ctx->stopped = true;
  return RQ_ERR_CALLBACK;
}

static rq_status sum_gram(rq_session *s, layer *l) {
  gram_ctx ctx = {s, l, false};
  return rq__session_run_kept(s, s->fq_graph, gram_hook, &ctx, true, &l->input, 1, &ctx.stopped);
}

/* ---- the optimisation, one group of output channels at a time ---- */

/* Progress over all layers' iterations, reported every `every` of them. */
typedef struct progress {
  rq_session *s;
  uint64_t done, total, every;
} progress;

static void advance(progress *p, uint64_t by) {
  if (p->s->progress == NULL || by == 0) return;
  uint64_t before = p->done;
  p->done += by;
  if (p->done / p->every != before / p->every || p->done == p->total)
    p->s->progress(p->s->progress_user, "AdaRound", p->done, p->total);
}

/* Element (o, j) of the weight: output channel o, its j-th weight. */
static size_t weight_index(const layer *l, size_t o, size_t j) {
  return !l->conv && !l->trans_b ? j * l->out_channels + o : o * l->k + j;
}

/* Per-element state of one group: rows = its output channels. */
typedef struct group_problem {
  size_t rows, k;
  const float *gram;          /* k x k: the mean of x x^T */
  float *w, *w_floor, *s, *z; /* rows x k (s and z repeat along a row) */
  float *v, *adam_m, *adam_v; /* the rounding variables and Adam's moments */
  float *h, *dh_dv, *d, *grad; /* per iteration */
} group_problem;

static float soft_rounding(float v, float *dh_dv) {
  float sig = 1.0f / (1.0f + expf(-v)), h = sig * (ZETA - GAMMA) + GAMMA;
  /* clamp's gradient flows where the value is inside [0, 1], bounds included, as in PyTorch. */
  *dh_dv = h >= 0.0f && h <= 1.0f ? (ZETA - GAMMA) * sig * (1.0f - sig) : 0.0f;
  return h < 0.0f ? 0.0f : h > 1.0f ? 1.0f : h;
}

/* trace(D H D^T) for the current d, given g = D H. */
static double quadratic_form(const group_problem *p, const float *g) {
  double sum = 0.0;
  for (size_t i = 0; i < p->rows * p->k; i++) sum += (double)p->d[i] * g[i];
  return sum;
}

/* W~ for the learned rounding (V >= 0: up) or rounding to nearest. */
enum { LEARNED, NEAREST };
static float rounded_weight(const group_problem *p, size_t i, int32_t qmin, int32_t qmax, int mode) {
  float q = mode == LEARNED ? p->w_floor[i] + (p->v[i] >= 0.0f ? 1.0f : 0.0f) + p->z[i]
                            : nearbyintf(p->w[i] * (1.0f / p->s[i])) + p->z[i]; /* as the fake-quant rounds */
  q = q < (float)qmin ? (float)qmin : q > (float)qmax ? (float)qmax : q;
  return (q - p->z[i]) * p->s[i];
}

static double loss_of(const group_problem *p, int32_t qmin, int32_t qmax, int mode) {
  for (size_t i = 0; i < p->rows * p->k; i++) p->d[i] = rounded_weight(p, i, qmin, qmax, mode) - p->w[i];
  rq__sgemm(false, false, p->rows, p->k, p->k, 1.0f, p->d, p->k, p->gram, p->k, 0.0f, p->grad, p->k);
  return quadratic_form(p, p->grad);
}

/* Runs the iterations. In the progress, each of a layer's `groups` groups
 * stands for 1/groups of its iterations. */
static void optimise(const group_problem *p, const rq__adaround_options *o, int32_t qmin, int32_t qmax,
                     progress *prog, size_t groups) {
  uint64_t reported = 0;
  size_t n = p->rows * p->k;
  double warm = o->warm_up * (double)o->iters;
  const float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  for (long long t = 1; t <= o->iters; t++) {
    bool regularise = (double)t >= warm && o->weight > 0.0;
    double beta = (double)t < warm ? o->beta_start
                  : o->beta_end + (o->beta_start - o->beta_end) *
                                      fmax(0.0, 1.0 - ((double)t - warm) / ((double)o->iters - warm));
    /* h(V), its derivative (kept for the update) and D. */
    for (size_t i = 0; i < n; i++) {
      float h = soft_rounding(p->v[i], &p->dh_dv[i]);
      float q = p->w_floor[i] + h + p->z[i];
      q = q < (float)qmin ? (float)qmin : q > (float)qmax ? (float)qmax : q;
      p->h[i] = h;
      p->d[i] = (q - p->z[i]) * p->s[i] - p->w[i];
    }
    /* G = 2 D H: the reconstruction gradient with respect to W~. */
    rq__sgemm(false, false, p->rows, p->k, p->k, 2.0f, p->d, p->k, p->gram, p->k, 0.0f, p->grad, p->k);
    float bias1 = 1.0f - powf(beta1, (float)t), bias2_sqrt = sqrtf(1.0f - powf(beta2, (float)t));
    float step = (float)o->lr / bias1, reg = (float)(o->weight * beta) * 2.0f, exponent = (float)beta - 1.0f;
    for (size_t i = 0; i < n; i++) {
      /* The reconstruction term reaches h where the clamp to [qmin, qmax]
       * passes gradients (bounds included, as PyTorch's clamp). */
      float q = p->w_floor[i] + p->h[i] + p->z[i];
      float dl_dh = q >= (float)qmin && q <= (float)qmax ? p->grad[i] * p->s[i] : 0.0f;
      if (regularise) {
        /* d/dh of weight * (1 - |2h - 1|^beta); |u|' = sign(u), 0 at 0. */
        float u = 2.0f * p->h[i] - 1.0f;
        if (u > 0.0f) dl_dh -= reg * powf(u, exponent);
        else if (u < 0.0f) dl_dh += reg * powf(-u, exponent);
      }
      float g = dl_dh * p->dh_dv[i];
      /* Adam as torch.optim.Adam computes it. */
      p->adam_m[i] = beta1 * p->adam_m[i] + (1.0f - beta1) * g;
      p->adam_v[i] = beta2 * p->adam_v[i] + (1.0f - beta2) * g * g;
      float denom = sqrtf(p->adam_v[i]) / bias2_sqrt + eps;
      p->v[i] -= step * p->adam_m[i] / denom;
    }
    /* This group's share of the layer's iterations so far. */
    uint64_t share = (uint64_t)t / groups;
    advance(prog, share - reported);
    reported = share;
  }
}

/* Rounds one layer's weight in place; the reconstruction losses of rounding
 * to nearest and of the result, and the number of groups that kept rounding
 * to nearest, go to the notes. */
static rq_status round_layer(layer *l, const rq__adaround_options *o, progress *prog, double *loss_nearest,
                             double *loss_rounded, size_t *kept_nearest) {
  int32_t qmin, qmax;
  size_t count = 0;
  RQ_TRY(rq_fake_quant_quant_range(l->fq, &qmin, &qmax));
  RQ_TRY(rq_fake_quant_qparams(l->fq, NULL, NULL, 0, &count));
  if (count != 1 && count != l->out_channels)
    return rq__fail(RQ_ERR_INTERNAL, "rq_session_convert", "AdaRound: weight of '%s' has %zu scales for %zu channels",
                    l->node->name, count, l->out_channels);
  size_t rows = l->out_channels / l->groups, k = l->k, n = rows * k;
  float *scale = rq__malloc_array(count, sizeof *scale);
  int32_t *zp = rq__malloc_array(count, sizeof *zp);
  float *buf = rq__calloc(11 * n + 1, sizeof *buf);
  rq_status st = scale && zp && buf ? rq_fake_quant_qparams(l->fq, scale, zp, count, &count)
                                   : rq__nomem("rq_session_convert", 11 * n * sizeof *buf);
  group_problem p = {.rows = rows, .k = k, .w = buf, .w_floor = buf + n, .s = buf + 2 * n, .z = buf + 3 * n,
                     .v = buf + 4 * n, .adam_m = buf + 5 * n, .adam_v = buf + 6 * n, .h = buf + 7 * n,
                     .dh_dv = buf + 8 * n, .d = buf + 9 * n, .grad = buf + 10 * n};
  float *wd = l->weight->data;
  *loss_nearest = *loss_rounded = 0.0;
  *kept_nearest = 0;
  double mean = l->positions > 0 ? 1.0 / (double)l->positions : 0.0;
  for (size_t g = 0; st == RQ_OK && g < l->groups; g++) {
    float *h = l->gram + g * k * k;
    for (size_t i = 0; i < k * k; i++) h[i] = (float)(h[i] * mean);
    p.gram = h;
    for (size_t r = 0; r < rows; r++)
      for (size_t j = 0; j < k; j++) {
        size_t o_ch = g * rows + r, i = r * k + j, c = count == 1 ? 0 : o_ch;
        p.w[i] = wd[weight_index(l, o_ch, j)]; /* still the float weight */
        p.s[i] = scale[c];
        p.z[i] = (float)zp[c];
        float t = p.w[i] / p.s[i], rest;
        p.w_floor[i] = floorf(t);
        rest = t - p.w_floor[i];
        p.v[i] = -logf((ZETA - GAMMA) / (rest - GAMMA) - 1.0f);
        p.adam_m[i] = p.adam_v[i] = 0.0f;
      }
    double nearest = loss_of(&p, qmin, qmax, NEAREST);
    /* Without calibration data (empty batches) there is nothing to learn. */
    if (l->positions > 0) optimise(&p, o, qmin, qmax, prog, l->groups);
    double learned = l->positions > 0 ? loss_of(&p, qmin, qmax, LEARNED) : INFINITY;
    /* Too few iterations (or a regulariser too strong) can end worse than
     * rounding to nearest on the very objective; then the group keeps it. */
    int mode = learned <= nearest ? LEARNED : NEAREST;
    *loss_nearest += nearest;
    *loss_rounded += mode == LEARNED ? learned : nearest;
    *kept_nearest += mode == NEAREST;
    for (size_t r = 0; r < rows; r++)
      for (size_t j = 0; j < k; j++)
        wd[weight_index(l, g * rows + r, j)] = rounded_weight(&p, r * k + j, qmin, qmax, mode);
  }
  rq__free(scale);
  rq__free(zp);
  rq__free(buf);
  return st;
}

/* Copies weight `name` from one of the session's graphs to the other. */
static rq_status copy_weight(const rq_graph *from, rq_graph *to, const char *name) {
  int a = rq__graph_find_value(from, name), b = rq__graph_find_value(to, name);
  rq__tensor *x = a >= 0 ? from->values[a].init : NULL, *y = b >= 0 ? to->values[b].init : NULL;
  if (x == NULL || y == NULL || x->numel != y->numel || x->dtype != y->dtype)
    return rq__fail(RQ_ERR_INTERNAL, "rq_session_convert", "AdaRound: weight '%s' differs between the model copies",
                    name);
  memcpy(y->data, x->data, x->nbytes);
  return RQ_OK;
}

rq_status rq__session_adaround(rq_session *s, const rq__adaround_options *o) {
  rq_status st = RQ_OK;
  progress prog = {.s = s};
  for (int n = 0; n < s->fq_graph->n_nodes; n++) {
    layer l;
    prog.total += find_layer(s, n, &l) ? (uint64_t)o->iters : 0;
  }
  prog.every = prog.total / 200 > 0 ? prog.total / 200 : 1;
  for (int n = 0; st == RQ_OK && n < s->fq_graph->n_nodes; n++) {
    layer l;
    if (!find_layer(s, n, &l)) continue;
    uint64_t layer_start = prog.done;
    const char *wname = s->fq_graph->values[l.node->inputs[1]].name;
    /* The layer starts from its float weight (fq_graph has it rounded to nearest). */
    st = copy_weight(s->graph, s->fq_graph, wname);
    size_t gram_size = 0, weights = l.weight->numel;
    if (st == RQ_OK && (!rq__mul_size(l.k, l.k, &gram_size) || !rq__mul_size(gram_size, l.groups, &gram_size) ||
                        !rq__mul_size(weights, 11 * sizeof(float), &weights)))
      st = rq__fail(RQ_ERR_NOMEM, "rq_session_convert", "AdaRound: '%s' is too large", l.node->name);
    l.gram = st == RQ_OK ? rq__calloc(gram_size + 1, sizeof *l.gram) : NULL;
    if (st == RQ_OK && l.gram == NULL) st = rq__nomem("rq_session_convert", gram_size * sizeof *l.gram);
    if (st == RQ_OK) st = sum_gram(s, &l);
    double before = 0.0, after = 0.0;
    size_t kept = 0;
    if (st == RQ_OK) st = round_layer(&l, o, &prog, &before, &after, &kept);
    /* Whole layers in the progress, whatever the group count's rounding left. */
    if (st == RQ_OK) advance(&prog, layer_start + (uint64_t)o->iters - prog.done);
    rq__free(l.gram);
    if (st == RQ_OK) {
      char note[512], groups[96] = "";
      if (kept > 0)
        snprintf(groups, sizeof groups, " (%zu of %zu group%s kept rounding to nearest)", kept, l.groups,
                 l.groups == 1 ? "" : "s");
      snprintf(note, sizeof note, "AdaRound: '%s' (%s): output reconstruction error %.4g rounded to nearest, %.4g adaptive%s",
               l.node->name, l.node->op_type, before, after, groups);
      st = rq__session_add_note(s, note);
    }
  }
  return st;
}

rq_status rq__session_keep_rounded_weights(rq_session *s) {
  for (int n = 0; n < s->fq_graph->n_nodes; n++) {
    layer l;
    if (find_layer(s, n, &l)) RQ_TRY(copy_weight(s->fq_graph, s->graph, s->fq_graph->values[l.node->inputs[1]].name));
  }
  return RQ_OK;
}

int rq__session_rounded_weight(const rq_session *s, const rq_graph *g, int n) {
  layer l;
  /* find_layer reads fq_graph; g has the same nodes and value names. */
  if (!find_layer(s, n, &l)) return -1;
  return rq__graph_find_value(g, s->fq_graph->values[l.node->inputs[1]].name);
}
