/* SPDX-License-Identifier: Apache-2.0 */
/* The recurrent ops RNN, GRU and LSTM (ONNX opsets 7-17, FLOAT only).
 *
 * One driver runs all three: it validates the inputs, multiplies the whole
 * input sequence by W^T in a single GEMM per direction (plus W's bias),
 * then walks the time steps; per step it multiplies the hidden state by R^T
 * (plus R's bias) and hands both to the op's cell, which updates the state
 * in place for the batch entries still inside their sequence_lens. Keeping
 * each bias with its own matrix is what GRU's linear_before_reset needs.
 *
 * Batch entry b is active at step s while s < sequence_lens[b]; it reads
 * time s going forward and time sequence_lens[b] - 1 - s going in reverse,
 * so Y stays zero past an entry's length and Y_h (Y_c) is its state after
 * its last active step. */
#include "exec/exec.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- activations ---- */

typedef enum act_kind {
  ACT_RELU, ACT_TANH, ACT_SIGMOID, ACT_AFFINE, ACT_LEAKY_RELU, ACT_THRESHOLDED_RELU,
  ACT_SCALED_TANH, ACT_HARD_SIGMOID, ACT_ELU, ACT_SOFTSIGN, ACT_SOFTPLUS,
} act_kind;

/* The names the spec lists, whether each takes activation_alpha/_beta, and
 * the default when the lists run out (the standalone op's default where
 * ONNX has that op; ScaledTanh has none there, so the identity-like 1, 1). */
static const struct {
  const char *name;
  act_kind kind;
  bool alpha, beta;
  float alpha_dflt, beta_dflt;
} act_table[] = {
  {"Relu", ACT_RELU, false, false, 0, 0},
  {"Tanh", ACT_TANH, false, false, 0, 0},
  {"Sigmoid", ACT_SIGMOID, false, false, 0, 0},
  {"Affine", ACT_AFFINE, true, true, 1.0f, 0.0f},
  {"LeakyRelu", ACT_LEAKY_RELU, true, false, 0.01f, 0},
  {"ThresholdedRelu", ACT_THRESHOLDED_RELU, true, false, 1.0f, 0},
  {"ScaledTanh", ACT_SCALED_TANH, true, true, 1.0f, 1.0f},
  {"HardSigmoid", ACT_HARD_SIGMOID, true, true, 0.2f, 0.5f},
  {"Elu", ACT_ELU, true, false, 1.0f, 0},
  {"Softsign", ACT_SOFTSIGN, false, false, 0, 0},
  {"Softplus", ACT_SOFTPLUS, false, false, 0, 0},
};

typedef struct activation {
  act_kind kind;
  float alpha, beta;
} activation;

/* Applies a after clipping x to [-clip, clip] (clip is INFINITY when the
 * node has none); NaN passes through the clip unchanged. */
static float act_eval(const activation *a, float clip, float x) {
  x = x > clip ? clip : x < -clip ? -clip : x;
  switch (a->kind) {
    case ACT_RELU: return x > 0 ? x : 0.0f;
    case ACT_TANH: return tanhf(x);
    case ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case ACT_AFFINE: return a->alpha * x + a->beta;
    case ACT_LEAKY_RELU: return x >= 0 ? x : a->alpha * x;
    case ACT_THRESHOLDED_RELU: return x > a->alpha ? x : 0.0f;
    case ACT_SCALED_TANH: return a->alpha * tanhf(a->beta * x);
    case ACT_HARD_SIGMOID: return fmaxf(0.0f, fminf(1.0f, a->alpha * x + a->beta));
    case ACT_ELU: return x >= 0 ? x : a->alpha * (expf(x) - 1.0f);
    case ACT_SOFTSIGN: return x / (1.0f + fabsf(x));
    case ACT_SOFTPLUS: return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x))); /* no overflow for large x */
  }
  return x;
}

/* ---- the shared driver ---- */

#define MAX_ACTS 3 /* activations per direction (LSTM: f, g, h) */

typedef struct rnn rnn;

/* One time step of one direction: x[b] is entry b's row of X W^T + Wb
 * (NULL when b is inactive), rec is [batch, gates * hidden] = H R^T + Rb;
 * the cell updates h (and c) of the active entries in place. rec is the
 * cell's to overwrite (GRU recomputes its h-gate block). */
typedef struct step_io {
  const float *const *x;
  float *rec;
  float *h, *c;
  float *scratch; /* batch * hidden floats */
} step_io;

typedef struct op_spec {
  int gates;    /* gate blocks in W, R and each half of B */
  int acts;     /* activations per direction */
  act_kind default_acts[MAX_ACTS];
  bool has_cell; /* LSTM: initial_c, P, Y_c */
  void (*step)(const rnn *m, int dir, const step_io *io);
} op_spec;

struct rnn {
  rq__op_ctx *c;
  const op_spec *spec;
  size_t seq, batch, input, hidden, dirs, gh; /* gh = gates * hidden */
  bool batch_major;                           /* layout = 1 */
  bool reverse;                               /* direction = reverse (bidirectional: direction 1 is) */
  float clip;
  activation act[2][MAX_ACTS];
  bool linear_before_reset, input_forget;
  const float *w, *r, *bias, *peep, *h0, *c0; /* optional ones NULL */
  int64_t *lens;                               /* [batch] */
};

/* Index of (a, b) in an [a, b, rest] tensor stored time-major (layout 0)
 * or as [b, a, rest] (layout 1): X and Y use (time, batch), the states
 * (direction, batch). */
static size_t row_of(const rnn *m, size_t outer, size_t n_outer, size_t b) {
  return m->batch_major ? b * n_outer + outer : outer * m->batch + b;
}

static rq_status need_float(const rnn *m, int i, const char *name, const rq__tensor **t, bool required) {
  *t = rq__op_in(m->c, i);
  if (*t == NULL) return required ? RQ_OP_FAIL(m->c, RQ_ERR_FORMAT, "input %s is required", name) : RQ_OK;
  if ((*t)->dtype != RQ__DT_FLOAT)
    return RQ_OP_FAIL(m->c, RQ_ERR_UNSUPPORTED, "%s has element type %s; only FLOAT is implemented", name,
                      rq__dtype_name((*t)->dtype));
  return RQ_OK;
}

static rq_status need_shape(const rnn *m, const rq__tensor *t, const char *name, int ndim, const int64_t *dims) {
  bool ok = t->ndim == ndim;
  for (int d = 0; ok && d < ndim; d++) ok = t->dims[d] == dims[d];
  if (ok) return RQ_OK;
  char want[96] = "", got[96] = "";
  for (int d = 0; d < ndim; d++)
    snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", d ? ", " : "", (long long)dims[d]);
  for (int d = 0; d < t->ndim; d++)
    snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? ", " : "", (long long)t->dims[d]);
  return RQ_OP_FAIL(m->c, RQ_ERR_FORMAT, "%s has shape [%s], expected [%s]", name, got, want);
}

static rq_status read_activations(rnn *m) {
  rq__op_ctx *c = m->c;
  int per_dir = m->spec->acts;
  const rq__attr *a = rq__node_attr(c->node, "activations");
  for (size_t d = 0; d < m->dirs; d++)
    for (int k = 0; k < per_dir; k++) m->act[d][k] = (activation){m->spec->default_acts[k], 0, 0};
  if (a == NULL) return RQ_OK;
  if (a->type != RQ__ATTR_STRINGS) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "attribute 'activations' must be strings");
  /* One list per direction, or (bidirectional) one list both share. */
  if (a->count != (size_t)per_dir * m->dirs && a->count != (size_t)per_dir)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "'activations' has %zu names, expected %d per direction", a->count,
                      per_dir);
  size_t n_alpha, n_beta, next_alpha = 0, next_beta = 0;
  const float *alphas = rq__node_attr_floats(c->node, "activation_alpha", &n_alpha);
  const float *betas = rq__node_attr_floats(c->node, "activation_beta", &n_beta);
  /* alpha/beta values go, in order, to the activations that take them. */
  for (size_t i = 0; i < a->count; i++) {
    size_t e = 0, n_table = sizeof act_table / sizeof act_table[0];
    while (e < n_table && strcasecmp(act_table[e].name, a->strings[i]) != 0) e++;
    if (e == n_table)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT,
                        "unknown activation '%s' (expected Relu, Tanh, Sigmoid, Affine, LeakyRelu, "
                        "ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign or Softplus)",
                        a->strings[i]);
    activation act = {act_table[e].kind, act_table[e].alpha_dflt, act_table[e].beta_dflt};
    if (act_table[e].alpha && next_alpha < n_alpha) act.alpha = alphas[next_alpha++];
    if (act_table[e].beta && next_beta < n_beta) act.beta = betas[next_beta++];
    for (size_t d = 0; d < m->dirs; d++)
      if (a->count == (size_t)per_dir || i / (size_t)per_dir == d) m->act[d][i % (size_t)per_dir] = act;
  }
  return RQ_OK;
}

/* Attributes and inputs, all checked against each other. */
static rq_status rnn_setup(rnn *m) {
  rq__op_ctx *c = m->c;
  const rq__node *n = c->node;
  const char *direction = rq__node_attr_string(n, "direction", "forward");
  m->reverse = strcmp(direction, "reverse") == 0;
  if (strcmp(direction, "forward") == 0 || m->reverse) m->dirs = 1;
  else if (strcmp(direction, "bidirectional") == 0) m->dirs = 2;
  else return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "unknown direction '%s'", direction);
  int64_t layout = rq__node_attr_int(n, "layout", 0);
  if (layout != 0 && layout != 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "layout %lld is not 0 or 1", (long long)layout);
  m->batch_major = layout == 1;
  m->clip = INFINITY;
  if (rq__node_attr(n, "clip") != NULL) {
    m->clip = rq__node_attr_float(n, "clip", 0.0f);
    if (!(m->clip > 0)) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "clip must be positive, got %g", (double)m->clip);
  }
  m->linear_before_reset = rq__node_attr_int(n, "linear_before_reset", 0) != 0;
  m->input_forget = rq__node_attr_int(n, "input_forget", 0) != 0;
  RQ_TRY(read_activations(m));

  const rq__tensor *x, *w, *r, *b, *lens, *h0, *c0 = NULL, *p = NULL;
  RQ_TRY(rq__op_need_float(c, 0, &x));
  RQ_TRY(need_float(m, 1, "W", &w, true));
  RQ_TRY(need_float(m, 2, "R", &r, true));
  RQ_TRY(need_float(m, 3, "B", &b, false));
  RQ_TRY(need_float(m, 5, "initial_h", &h0, false));
  if (m->spec->has_cell) {
    RQ_TRY(need_float(m, 6, "initial_c", &c0, false));
    RQ_TRY(need_float(m, 7, "P", &p, false));
  }
  int max_in = m->spec->has_cell ? 8 : 6, max_out = m->spec->has_cell ? 3 : 2;
  if (c->n_in > max_in || c->n_out > max_out)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%d inputs and %d outputs given, at most %d and %d exist", c->n_in, c->n_out,
                      max_in, max_out);
  if (x->ndim != 3) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "X must have rank 3, got %d", x->ndim);
  m->seq = (size_t)x->dims[m->batch_major ? 1 : 0];
  m->batch = (size_t)x->dims[m->batch_major ? 0 : 1];
  m->input = (size_t)x->dims[2];
  int64_t nd = (int64_t)m->dirs, gates = m->spec->gates;
  /* hidden_size may be left out; R's last dimension then says it. */
  if (r->ndim != 3) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "R must have rank 3, got %d", r->ndim);
  int64_t hidden = rq__node_attr_int(n, "hidden_size", r->dims[2]);
  if (hidden <= 0 || hidden > INT32_MAX)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "hidden_size %lld is out of range", (long long)hidden);
  m->hidden = (size_t)hidden;
  m->gh = (size_t)(gates * hidden);
  int64_t gh = gates * hidden;
  RQ_TRY(need_shape(m, w, "W", 3, (int64_t[]){nd, gh, x->dims[2]}));
  RQ_TRY(need_shape(m, r, "R", 3, (int64_t[]){nd, gh, hidden}));
  if (b != NULL) RQ_TRY(need_shape(m, b, "B", 2, (int64_t[]){nd, 2 * gh}));
  if (p != NULL) RQ_TRY(need_shape(m, p, "P", 2, (int64_t[]){nd, 3 * hidden}));
  int64_t state_dims[3] = {nd, (int64_t)m->batch, hidden};
  if (m->batch_major) state_dims[0] = (int64_t)m->batch, state_dims[1] = nd;
  if (h0 != NULL) RQ_TRY(need_shape(m, h0, "initial_h", 3, state_dims));
  if (c0 != NULL) RQ_TRY(need_shape(m, c0, "initial_c", 3, state_dims));
  m->w = w->data;
  m->r = r->data;
  m->bias = b != NULL ? b->data : NULL;
  m->peep = p != NULL ? p->data : NULL;
  m->h0 = h0 != NULL ? h0->data : NULL;
  m->c0 = c0 != NULL ? c0->data : NULL;

  m->lens = rq__malloc_array(m->batch ? m->batch : 1, sizeof *m->lens);
  if (m->lens == NULL) return rq__nomem(n->op_type, m->batch * sizeof *m->lens);
  lens = rq__op_in(c, 4);
  if (lens == NULL) {
    for (size_t i = 0; i < m->batch; i++) m->lens[i] = (int64_t)m->seq;
    return RQ_OK;
  }
  if (lens->dtype != RQ__DT_INT32 && lens->dtype != RQ__DT_INT64)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "sequence_lens must be INT32 or INT64, got %s", rq__dtype_name(lens->dtype));
  RQ_TRY(need_shape(m, lens, "sequence_lens", 1, (int64_t[]){(int64_t)m->batch}));
  for (size_t i = 0; i < m->batch; i++) {
    int64_t v = (int64_t)rq__elem_get(lens->data, lens->dtype, i);
    if (v < 0 || v > (int64_t)m->seq)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "sequence_lens[%zu] = %lld is outside [0, %zu]", i, (long long)v, m->seq);
    m->lens[i] = v;
  }
  return RQ_OK;
}

/* The optional output i, or NULL when the node leaves it out. */
static rq_status make_output(rnn *m, int i, int ndim, const int64_t *dims, float **data) {
  *data = NULL;
  if (i >= m->c->n_out || m->c->node->outputs[i] < 0) return RQ_OK;
  rq__tensor *t;
  RQ_TRY(rq__op_output(m->c, i, RQ__DT_FLOAT, ndim, dims, &t)); /* zeroed: Y past sequence_lens stays 0 */
  *data = t->data;
  return RQ_OK;
}

/* Runs direction d, writing its slices of Y, Y_h and Y_c (each may be NULL).
 * work holds proj [seq * batch, gh], rec [batch, gh], h, c, scratch
 * [batch, hidden] each and the batch row pointers. */
static void run_direction(const rnn *m, size_t d, const float *x, float *work, const float **rows, float *y,
                          float *y_h, float *y_c) {
  size_t B = m->batch, H = m->hidden, GH = m->gh, I = m->input;
  bool reverse = d == 1 || m->reverse;
  float *proj = work, *rec = proj + m->seq * B * GH, *h = rec + B * GH, *cst = h + B * H, *scratch = cst + B * H;
  /* Every time step's input projection at once; rows follow X's layout. */
  const float *wb = m->bias != NULL ? m->bias + d * 2 * GH : NULL, *rb = wb != NULL ? wb + GH : NULL;
  for (size_t row = 0; row < m->seq * B; row++)
    for (size_t j = 0; j < GH; j++) proj[row * GH + j] = wb != NULL ? wb[j] : 0.0f;
  rq__sgemm(false, true, m->seq * B, GH, I, 1.0f, x, I, m->w + d * GH * I, I, 1.0f, proj, GH);
  for (size_t b = 0; b < B; b++) {
    size_t s = row_of(m, d, m->dirs, b) * H;
    for (size_t j = 0; j < H; j++) {
      h[b * H + j] = m->h0 != NULL ? m->h0[s + j] : 0.0f;
      cst[b * H + j] = m->c0 != NULL ? m->c0[s + j] : 0.0f;
    }
  }
  step_io io = {.x = rows, .rec = rec, .h = h, .c = cst, .scratch = scratch};
  for (size_t s = 0; s < m->seq; s++) {
    bool any = false;
    for (size_t b = 0; b < B; b++) {
      rows[b] = NULL;
      if ((int64_t)s >= m->lens[b]) continue;
      size_t t = reverse ? (size_t)m->lens[b] - 1 - s : s;
      rows[b] = proj + row_of(m, t, m->seq, b) * GH;
      any = true;
    }
    if (!any) break; /* entries only ever drop out */
    for (size_t b = 0; b < B; b++)
      for (size_t j = 0; j < GH; j++) rec[b * GH + j] = rb != NULL ? rb[j] : 0.0f;
    rq__sgemm(false, true, B, GH, H, 1.0f, h, H, m->r + d * GH * H, H, 1.0f, rec, GH);
    m->spec->step(m, (int)d, &io);
    if (y == NULL) continue;
    for (size_t b = 0; b < B; b++) {
      if (rows[b] == NULL) continue;
      size_t t = reverse ? (size_t)m->lens[b] - 1 - s : s;
      /* Y is [seq, dirs, batch, H] (layout 1: [batch, seq, dirs, H]). */
      size_t at = m->batch_major ? (b * m->seq + t) * m->dirs + d : (t * m->dirs + d) * B + b;
      memcpy(y + at * H, h + b * H, H * sizeof *h);
    }
  }
  for (size_t b = 0; b < B; b++) {
    size_t at = row_of(m, d, m->dirs, b) * H;
    if (y_h != NULL) memcpy(y_h + at, h + b * H, H * sizeof *h);
    if (y_c != NULL) memcpy(y_c + at, cst + b * H, H * sizeof *cst);
  }
}

static rq_status run_recurrent(rq__op_ctx *c, const op_spec *spec) {
  rnn m = {.c = c, .spec = spec};
  rq_status st = rnn_setup(&m);
  float *work = NULL;
  const float **rows = NULL;
  if (st != RQ_OK) goto done;
  int64_t nd = (int64_t)m.dirs, S = (int64_t)m.seq, B = (int64_t)m.batch, H = (int64_t)m.hidden;
  int64_t y_dims[4] = {S, nd, B, H}, state_dims[3] = {nd, B, H};
  if (m.batch_major) {
    y_dims[0] = B, y_dims[1] = S, y_dims[2] = nd;
    state_dims[0] = B, state_dims[1] = nd;
  }
  float *y, *y_h, *y_c = NULL;
  if ((st = make_output(&m, 0, 4, y_dims, &y)) != RQ_OK || (st = make_output(&m, 1, 3, state_dims, &y_h)) != RQ_OK ||
      (spec->has_cell && (st = make_output(&m, 2, 3, state_dims, &y_c)) != RQ_OK))
    goto done;
  /* proj and rec: [seq + 1, batch, gh]; h, c, scratch: [3, batch, hidden]. */
  size_t gate_floats, state_floats;
  if ((st = rq__shape_numel(c->node->op_type, 3, (int64_t[]){S + 1, B, (int64_t)m.gh}, sizeof(float),
                            &gate_floats)) != RQ_OK ||
      (st = rq__shape_numel(c->node->op_type, 3, (int64_t[]){3, B, H}, sizeof(float), &state_floats)) != RQ_OK)
    goto done;
  if (gate_floats > SIZE_MAX / sizeof(float) - state_floats) {
    st = RQ_OP_FAIL(c, RQ_ERR_FORMAT, "the sequence is too large");
    goto done;
  }
  work = rq__malloc_array(gate_floats + state_floats + 1, sizeof *work);
  rows = rq__malloc_array(m.batch ? m.batch : 1, sizeof *rows);
  if (work == NULL || rows == NULL) {
    st = rq__nomem(c->node->op_type, (gate_floats + state_floats) * sizeof *work);
    goto done;
  }
  for (size_t d = 0; d < m.dirs; d++) run_direction(&m, d, rq__op_in(c, 0)->data, work, rows, y, y_h, y_c);
done:
  rq__free(work);
  rq__free(rows);
  rq__free(m.lens);
  return st;
}

/* ---- the cells ---- */

/* H = f(x W^T + H R^T + Wb + Rb) */
static void rnn_step(const rnn *m, int d, const step_io *io) {
  size_t H = m->hidden;
  const activation *f = &m->act[d][0];
  for (size_t b = 0; b < m->batch; b++) {
    if (io->x[b] == NULL) continue;
    for (size_t j = 0; j < H; j++) io->h[b * H + j] = act_eval(f, m->clip, io->x[b][j] + io->rec[b * m->gh + j]);
  }
}

/* Gates z, r, h (that order in W, R, B):
 *   z = f(Xz + Rz), r = f(Xr + Rr),
 *   h~ = g(Xh + (r . H) Rh^T + Rbh)   or, linear_before_reset, g(Xh + r . (H Rh^T + Rbh)),
 *   H = (1 - z) . h~ + z . H          (X* include Wb*, R* include Rb*). */
static void gru_step(const rnn *m, int d, const step_io *io) {
  size_t H = m->hidden, GH = m->gh;
  const activation *f = &m->act[d][0], *g = &m->act[d][1];
  float *rec = io->rec, *rh = io->scratch;
  if (!m->linear_before_reset) {
    /* The h-gate block of rec must be (r . H) Rh^T + Rbh instead. */
    const float *rbh = m->bias != NULL ? m->bias + ((size_t)d * 2 + 1) * GH + 2 * H : NULL;
    for (size_t b = 0; b < m->batch; b++)
      for (size_t j = 0; j < H; j++) {
        float r = io->x[b] != NULL ? act_eval(f, m->clip, io->x[b][H + j] + rec[b * GH + H + j]) : 0.0f;
        rh[b * H + j] = r * io->h[b * H + j];
        rec[b * GH + 2 * H + j] = rbh != NULL ? rbh[j] : 0.0f;
      }
    rq__sgemm(false, true, m->batch, H, H, 1.0f, rh, H, m->r + ((size_t)d * GH + 2 * H) * H, H, 1.0f, rec + 2 * H,
              GH);
  }
  for (size_t b = 0; b < m->batch; b++) {
    const float *x = io->x[b], *rb = rec + b * GH;
    if (x == NULL) continue;
    for (size_t j = 0; j < H; j++) {
      float z = act_eval(f, m->clip, x[j] + rb[j]);
      float hh;
      if (m->linear_before_reset) {
        float r = act_eval(f, m->clip, x[H + j] + rb[H + j]);
        hh = act_eval(g, m->clip, x[2 * H + j] + r * rb[2 * H + j]);
      } else {
        hh = act_eval(g, m->clip, x[2 * H + j] + rb[2 * H + j]);
      }
      float *hp = &io->h[b * H + j];
      *hp = (1.0f - z) * hh + z * *hp;
    }
  }
}

/* Gates i, o, f, c (that order in W, R, B; P holds peepholes i, o, f):
 *   i = f(Xi + Ri + Pi . C), f = f(Xf + Rf + Pf . C)   (input_forget: f = 1 - i),
 *   c~ = g(Xc + Rc), C = f . C + i . c~, o = f(Xo + Ro + Po . C), H = o . h(C). */
static void lstm_step(const rnn *m, int d, const step_io *io) {
  size_t H = m->hidden, GH = m->gh;
  const activation *f = &m->act[d][0], *g = &m->act[d][1], *hact = &m->act[d][2];
  const float *p = m->peep != NULL ? m->peep + (size_t)d * 3 * H : NULL;
  for (size_t b = 0; b < m->batch; b++) {
    const float *x = io->x[b], *rb = io->rec + b * GH;
    if (x == NULL) continue;
    for (size_t j = 0; j < H; j++) {
      float *cp = &io->c[b * H + j], c_prev = *cp;
      float i = act_eval(f, m->clip, x[j] + rb[j] + (p != NULL ? p[j] * c_prev : 0.0f));
      float fg = m->input_forget ? 1.0f - i
                                 : act_eval(f, m->clip, x[2 * H + j] + rb[2 * H + j] +
                                                            (p != NULL ? p[2 * H + j] * c_prev : 0.0f));
      float cc = act_eval(g, m->clip, x[3 * H + j] + rb[3 * H + j]);
      float c_new = fg * c_prev + i * cc;
      float o = act_eval(f, m->clip, x[H + j] + rb[H + j] + (p != NULL ? p[H + j] * c_new : 0.0f));
      *cp = c_new;
      io->h[b * H + j] = o * act_eval(hact, m->clip, c_new);
    }
  }
}

static const op_spec rnn_spec = {1, 1, {ACT_TANH}, false, rnn_step};
static const op_spec gru_spec = {3, 2, {ACT_SIGMOID, ACT_TANH}, false, gru_step};
static const op_spec lstm_spec = {4, 3, {ACT_SIGMOID, ACT_TANH, ACT_TANH}, true, lstm_step};

static rq_status op_rnn(rq__op_ctx *c) { return run_recurrent(c, &rnn_spec); }
static rq_status op_gru(rq__op_ctx *c) { return run_recurrent(c, &gru_spec); }
static rq_status op_lstm(rq__op_ctx *c) { return run_recurrent(c, &lstm_spec); }

const rq__op_entry rq__ops_rnn[] = {
  {"RNN", op_rnn}, {"GRU", op_gru}, {"LSTM", op_lstm},
  {NULL, NULL},
};
