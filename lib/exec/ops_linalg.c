/* SPDX-License-Identifier: Apache-2.0 */
/* Linear-algebra ops: Einsum (the general equation) and Det.
 *
 * Einsum works on strided views: each operand becomes one stride per
 * distinct label (a repeated label adds its strides, which walks the
 * diagonal; a size-1 dimension facing a larger one gets stride 0, which
 * broadcasts). The operands are then contracted pairwise, left to right:
 * each pair is gathered into [batch, M, K] and [batch, K, N] buffers (labels
 * needed by neither the output nor a later operand are summed on the way)
 * and multiplied. A final gather puts the labels in output order. FLOAT
 * intermediates are float and their products go through rq__sgemm (float
 * accumulation, as PyTorch's bmm); the sums a gather does and products of
 * tiny matrices accumulate in double. Every other type is computed in
 * double. */
#include "exec/exec.h"

#include <math.h>
#include <string.h>

/* ---- Einsum ---- */

/* Label ids: 'A'..'Z' = 0..25 and 'a'..'z' = 26..51 (so ascending ids are
 * the ASCII order numpy and PyTorch sort implicit outputs in), then one id
 * per broadcast dimension of the ellipsis, right-aligned as in numpy. */
#define N_LETTERS 52
#define MAX_LABELS (N_LETTERS + RQ__MAX_RANK)
#define MAX_OPERANDS 64

typedef struct term {
  int n_letters;
  int letter[RQ__MAX_RANK]; /* label ids of the letters, in order */
  int ellipsis_at;          /* letters before the "...", or -1 */
} term;

/* An operand (or an intermediate result) seen through its labels. */
typedef struct view {
  int n;
  int label[MAX_LABELS];
  int64_t stride[MAX_LABELS]; /* elements; 0 where broadcast */
  const void *data;
  int32_t dtype;
} view;

typedef struct einsum {
  int n_ops, ell_rank;
  term in[MAX_OPERANDS];
  int out_n, out_label[MAX_LABELS];
  int64_t size[MAX_LABELS]; /* -1 = label unused */
} einsum;

static void label_name(int l, char *buf) {
  if (l < N_LETTERS) {
    buf[0] = (char)(l < 26 ? 'A' + l : 'a' + (l - 26));
    buf[1] = '\0';
  } else {
    strcpy(buf, "...");
  }
}

/* One term of the equation (whitespace already removed). */
static rq_status parse_term(const rq__op_ctx *c, const char *s, size_t len, term *t) {
  t->n_letters = 0;
  t->ellipsis_at = -1;
  for (size_t i = 0; i < len; i++) {
    char ch = s[i];
    if (ch == '.') {
      if (i + 2 >= len || s[i + 1] != '.' || s[i + 2] != '.')
        return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "'.' that is not part of '...' in the equation");
      if (t->ellipsis_at >= 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "two '...' in one term of the equation");
      t->ellipsis_at = t->n_letters;
      i += 2;
    } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
      if (t->n_letters == RQ__MAX_RANK)
        return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "a term with more than %d subscripts", RQ__MAX_RANK);
      t->letter[t->n_letters++] = ch <= 'Z' ? ch - 'A' : 26 + (ch - 'a');
    } else {
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "character '%c' (0x%02x) in the equation: only letters, ',', '...' and "
                        "'->' are allowed", ch >= 0x20 && ch < 0x7f ? ch : '?', (unsigned char)ch);
    }
  }
  return RQ_OK;
}

/* The labels of term t on an operand of rank `rank`, ellipsis expanded. */
static int term_labels(const einsum *e, const term *t, int rank, int *labels) {
  int n = 0, ell = rank - t->n_letters;
  for (int i = 0; i <= t->n_letters; i++) {
    if (i == t->ellipsis_at)
      for (int j = 0; j < ell; j++) labels[n++] = N_LETTERS + e->ell_rank - ell + j;
    if (i < t->n_letters) labels[n++] = t->letter[i];
  }
  return n;
}

/* Parses the equation against the inputs: label sizes, the output labels. */
static rq_status einsum_parse(const rq__op_ctx *c, const char *eq, einsum *e) {
  /* Whitespace is insignificant ("bij, bjk -> bik" in ONNX's own tests). */
  size_t len = strlen(eq);
  char *s = rq__malloc(len + 1);
  if (s == NULL) return rq__nomem("Einsum", len + 1);
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (eq[i] != ' ' && eq[i] != '\t' && eq[i] != '\n') s[n++] = eq[i];
  s[n] = '\0';
  rq_status st = RQ_OK;
  const char *arrow = strstr(s, "->");
  size_t lhs_len = arrow ? (size_t)(arrow - s) : n;
  if ((arrow && strstr(arrow + 2, "->") != NULL) || memchr(s, '>', lhs_len) || memchr(s, '-', lhs_len) ||
      (arrow && (strchr(arrow + 2, '-') || strchr(arrow + 2, '>'))))
    st = RQ_OP_FAIL(c, RQ_ERR_FORMAT, "'-' and '>' may only appear together, once, as '->'");
  int count = 1;
  for (size_t i = 0; i < lhs_len; i++) count += s[i] == ',';
  if (st == RQ_OK && count != c->n_in)
    st = RQ_OP_FAIL(c, RQ_ERR_FORMAT, "the equation has %d operand terms but the node %d inputs", count,
                    c->n_in);
  if (st == RQ_OK && count > MAX_OPERANDS) st = RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "more than %d operands", MAX_OPERANDS);
  e->n_ops = count;
  e->ell_rank = 0;
  size_t start = 0;
  for (int k = 0; k < count && st == RQ_OK; k++) {
    size_t end = start;
    while (end < lhs_len && s[end] != ',') end++;
    st = parse_term(c, s + start, end - start, &e->in[k]);
    start = end + 1;
  }
  term out_term = {0};
  if (st == RQ_OK && arrow) st = parse_term(c, arrow + 2, strlen(arrow + 2), &out_term);
  rq__free(s);
  RQ_TRY(st);

  /* Ranks and the ellipsis's broadcast rank. */
  for (int k = 0; k < count; k++) {
    const rq__tensor *x = c->in[k];
    const term *t = &e->in[k];
    int ell = x->ndim - t->n_letters;
    if (t->ellipsis_at < 0 ? ell != 0 : ell < 0)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input %d has rank %d but its term has %d subscripts%s", k, x->ndim,
                        t->n_letters, t->ellipsis_at < 0 ? " and no '...'" : " besides '...'");
    if (ell > e->ell_rank) e->ell_rank = ell;
  }
  /* Label sizes: equal where a label repeats, or 1 (broadcast). */
  int uses[MAX_LABELS] = {0};
  for (int l = 0; l < MAX_LABELS; l++) e->size[l] = -1;
  for (int k = 0; k < count; k++) {
    const rq__tensor *x = c->in[k];
    int labels[RQ__MAX_RANK];
    term_labels(e, &e->in[k], x->ndim, labels);
    for (int i = 0; i < x->ndim; i++) {
      int l = labels[i];
      int64_t d = x->dims[i];
      char name[4];
      label_name(l, name);
      for (int j = 0; j < i; j++)
        if (labels[j] == l && x->dims[j] != d)
          return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input %d repeats subscript '%s' over dimensions of sizes %lld and %lld",
                            k, name, (long long)x->dims[j], (long long)d);
      if (e->size[l] < 0 || e->size[l] == 1) e->size[l] = d;
      else if (d != 1 && d != e->size[l])
        return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "subscript '%s' has size %lld in input %d but %lld elsewhere", name,
                          (long long)d, k, (long long)e->size[l]);
      uses[l]++;
    }
  }
  /* The output: explicit, or implicit (the ellipsis, then the letters used
   * once, alphabetically). Ellipsis dimensions an explicit output leaves
   * out are summed, as PyTorch does. */
  e->out_n = 0;
  if (arrow) {
    for (int i = 0; i <= out_term.n_letters; i++) {
      if (i == out_term.ellipsis_at)
        for (int j = 0; j < e->ell_rank; j++) e->out_label[e->out_n++] = N_LETTERS + j;
      if (i == out_term.n_letters) break;
      int l = out_term.letter[i];
      char name[4];
      label_name(l, name);
      if (uses[l] == 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "output subscript '%s' appears in no input", name);
      for (int j = 0; j < e->out_n; j++)
        if (e->out_label[j] == l) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "output subscript '%s' appears twice", name);
      e->out_label[e->out_n++] = l;
    }
  } else {
    for (int j = 0; j < e->ell_rank; j++) e->out_label[e->out_n++] = N_LETTERS + j;
    for (int l = 0; l < N_LETTERS; l++)
      if (uses[l] == 1) e->out_label[e->out_n++] = l;
  }
  if (e->out_n > RQ__MAX_RANK) return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "output rank %d", e->out_n);
  return RQ_OK;
}

static bool has_label(const view *v, int l, int *at) {
  for (int i = 0; i < v->n; i++)
    if (v->label[i] == l) {
      if (at) *at = i;
      return true;
    }
  return false;
}

/* Input k as a view: one stride per distinct label. */
static void operand_view(const einsum *e, const rq__tensor *x, const term *t, view *v) {
  int labels[RQ__MAX_RANK];
  term_labels(e, t, x->ndim, labels);
  v->n = 0;
  v->data = x->data;
  v->dtype = x->dtype;
  int64_t stride = 1;
  for (int i = x->ndim - 1; i >= 0; i--) {
    int at;
    int64_t s = x->dims[i] == 1 ? 0 : stride; /* size 1 broadcasts (or is the whole range) */
    if (has_label(v, labels[i], &at)) {
      v->stride[at] += s; /* a repeated label: the diagonal */
    } else {
      v->label[v->n] = labels[i];
      v->stride[v->n++] = s;
    }
    stride *= x->dims[i];
  }
}

static inline double load(const void *p, int32_t dtype, int64_t i) {
  if (dtype == RQ__DT_FLOAT) return ((const float *)p)[i];
  if (dtype == RQ__DT_DOUBLE) return ((const double *)p)[i];
  return rq__elem_get(p, dtype, (size_t)i);
}

static inline void store(void *p, int32_t dtype, size_t i, double v) {
  if (dtype == RQ__DT_FLOAT) ((float *)p)[i] = (float)v;
  else if (dtype == RQ__DT_DOUBLE) ((double *)p)[i] = v;
  else rq__elem_set(p, dtype, i, v);
}

/* An odometer over some labels of a view: off is the element offset. */
typedef struct walk {
  int n;
  int64_t size[MAX_LABELS], stride[MAX_LABELS], idx[MAX_LABELS];
  int64_t off;
} walk;

static void walk_add(walk *w, int64_t size, int64_t stride) {
  w->size[w->n] = size;
  w->stride[w->n] = stride;
  w->idx[w->n++] = 0;
}

static void walk_next(walk *w) {
  for (int d = w->n - 1; d >= 0; d--) {
    w->off += w->stride[d];
    if (++w->idx[d] < w->size[d]) return;
    w->off -= w->stride[d] * w->size[d];
    w->idx[d] = 0;
  }
}

/* dst (dtype, dense, `count` elements) = v with the labels keep[] in that
 * order, every other label of v summed. A kept label v lacks broadcasts. */
static void gather(const einsum *e, const view *v, const int *keep, int n_keep, void *dst, int32_t dtype,
                   size_t count) {
  walk outer = {0}, inner = {0};
  for (int i = 0; i < n_keep; i++) {
    int at;
    walk_add(&outer, e->size[keep[i]], has_label(v, keep[i], &at) ? v->stride[at] : 0);
  }
  size_t summed = 1;
  for (int i = 0; i < v->n; i++) {
    bool kept = false;
    for (int j = 0; j < n_keep; j++) kept = kept || keep[j] == v->label[i];
    if (kept) continue;
    walk_add(&inner, e->size[v->label[i]], v->stride[i]);
    summed *= (size_t)e->size[v->label[i]];
  }
  for (size_t o = 0; o < count; o++, walk_next(&outer)) {
    double sum = 0;
    inner.off = outer.off;
    for (size_t s = 0; s < summed; s++, walk_next(&inner)) sum += load(v->data, v->dtype, inner.off);
    store(dst, dtype, o, sum);
  }
}

static size_t label_product(const einsum *e, const int *labels, int n) {
  size_t p = 1;
  for (int i = 0; i < n; i++) p *= (size_t)e->size[labels[i]];
  return p;
}

/* c[b] = a[b] (m x k) * b[b] (k x n) for b < batch, all dense. */
static void batched_matmul(int32_t wt, const void *a, const void *b, void *c, size_t batch, size_t m, size_t k,
                           size_t n) {
  /* GEMM pays off once the matrices are more than a few elements; tiny or
   * empty ones (an elementwise product is m = n = k = 1) take the loop. */
  if (wt == RQ__DT_FLOAT && m * n * k >= 64) {
    for (size_t i = 0; i < batch; i++)
      rq__sgemm(false, false, m, n, k, 1.0f, (const float *)a + i * m * k, k, (const float *)b + i * k * n, n, 0.0f,
                (float *)c + i * m * n, n);
    return;
  }
  for (size_t i = 0; i < batch; i++)
    for (size_t r = 0; r < m; r++)
      for (size_t col = 0; col < n; col++) {
        double sum = 0;
        for (size_t j = 0; j < k; j++)
          sum += load(a, wt, (int64_t)((i * m + r) * k + j)) * load(b, wt, (int64_t)((i * k + j) * n + col));
        store(c, wt, (i * m + r) * n + col, sum);
      }
}

/* Element count of the given labels, failing when it would not fit. */
static rq_status checked_count(const rq__op_ctx *c, const einsum *e, const int *labels, int n, size_t *count) {
  size_t p = 1;
  for (int i = 0; i < n; i++)
    if (!rq__mul_size(p, (size_t)e->size[labels[i]], &p) || p > ((size_t)1 << 40))
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "an intermediate result would be too large");
  *count = p;
  return RQ_OK;
}

/* Contracts acc (owning *acc_buf) with operand b; labels in `later` (the
 * output's and those of operands still to come) are kept. */
static rq_status contract_pair(const rq__op_ctx *c, const einsum *e, int32_t wt, view *acc, void **acc_buf,
                               const view *b, const bool *later) {
  int batch[MAX_LABELS], m[MAX_LABELS], k[MAX_LABELS], nn[MAX_LABELS];
  int nb = 0, nm = 0, nk = 0, nnn = 0;
  for (int i = 0; i < acc->n; i++) {
    int l = acc->label[i];
    bool in_b = has_label(b, l, NULL);
    if (in_b && later[l]) batch[nb++] = l;
    else if (in_b) k[nk++] = l;
    else if (later[l]) m[nm++] = l;
  }
  for (int i = 0; i < b->n; i++)
    if (!has_label(acc, b->label[i], NULL) && later[b->label[i]]) nn[nnn++] = b->label[i];
  int a_keep[MAX_LABELS], b_keep[MAX_LABELS], c_labels[MAX_LABELS];
  int na = 0, nbk = 0, nc = 0;
  for (int i = 0; i < nb; i++) a_keep[na++] = b_keep[nbk++] = c_labels[nc++] = batch[i];
  for (int i = 0; i < nm; i++) a_keep[na++] = c_labels[nc++] = m[i];
  for (int i = 0; i < nk; i++) a_keep[na++] = b_keep[nbk++] = k[i];
  for (int i = 0; i < nnn; i++) b_keep[nbk++] = c_labels[nc++] = nn[i];
  size_t a_count = 0, b_count = 0, c_count = 0;
  RQ_TRY(checked_count(c, e, a_keep, na, &a_count));
  RQ_TRY(checked_count(c, e, b_keep, nbk, &b_count));
  RQ_TRY(checked_count(c, e, c_labels, nc, &c_count));
  size_t es = rq__dtype_size(wt);
  void *ga = rq__malloc_array(a_count ? a_count : 1, es), *gb = rq__malloc_array(b_count ? b_count : 1, es);
  void *gc = rq__malloc_array(c_count ? c_count : 1, es);
  if (ga == NULL || gb == NULL || gc == NULL) {
    rq__free(ga);
    rq__free(gb);
    rq__free(gc);
    return rq__nomem("Einsum", (a_count + b_count + c_count) * es);
  }
  gather(e, acc, a_keep, na, ga, wt, a_count);
  gather(e, b, b_keep, nbk, gb, wt, b_count);
  batched_matmul(wt, ga, gb, gc, label_product(e, batch, nb), label_product(e, m, nm), label_product(e, k, nk),
                 label_product(e, nn, nnn));
  rq__free(ga);
  rq__free(gb);
  rq__free(*acc_buf);
  *acc_buf = gc;
  acc->n = nc;
  acc->data = gc;
  acc->dtype = wt;
  int64_t stride = 1;
  for (int i = nc - 1; i >= 0; i--) {
    acc->label[i] = c_labels[i];
    acc->stride[i] = stride;
    stride *= e->size[c_labels[i]];
  }
  return RQ_OK;
}

static rq_status op_einsum(rq__op_ctx *c) {
  const char *eq = rq__node_attr_string(c->node, "equation", NULL);
  if (eq == NULL) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "the equation attribute is missing");
  if (c->n_in < 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "no inputs");
  int32_t dtype = RQ__DT_UNDEFINED;
  for (int k = 0; k < c->n_in; k++) {
    const rq__tensor *x;
    RQ_TRY(rq__op_need(c, k, &x));
    if (x->dtype != RQ__DT_FLOAT && x->dtype != RQ__DT_DOUBLE && x->dtype != RQ__DT_INT32 &&
        x->dtype != RQ__DT_INT64)
      return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "element type %s", rq__dtype_name(x->dtype));
    if (k > 0 && x->dtype != dtype) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "inputs of different element types");
    dtype = x->dtype;
  }
  einsum *e = rq__calloc(1, sizeof *e);
  if (e == NULL) return rq__nomem("Einsum", sizeof *e);
  rq_status st = einsum_parse(c, eq, e);
  int64_t ydims[RQ__MAX_RANK];
  for (int i = 0; i < e->out_n && st == RQ_OK; i++) ydims[i] = e->size[e->out_label[i]];
  rq__tensor *y = NULL;
  if (st == RQ_OK) st = rq__op_output_uninit(c, 0, dtype, e->out_n, ydims, &y);
  /* The work type: float for FLOAT, double for everything else. */
  int32_t wt = dtype == RQ__DT_FLOAT ? RQ__DT_FLOAT : RQ__DT_DOUBLE;
  view acc;
  void *acc_buf = NULL;
  if (st == RQ_OK) operand_view(e, c->in[0], &e->in[0], &acc);
  for (int k = 1; k < e->n_ops && st == RQ_OK; k++) {
    bool later[MAX_LABELS] = {false};
    for (int i = 0; i < e->out_n; i++) later[e->out_label[i]] = true;
    for (int j = k + 1; j < e->n_ops; j++) {
      view v;
      operand_view(e, c->in[j], &e->in[j], &v);
      for (int i = 0; i < v.n; i++) later[v.label[i]] = true;
    }
    view b;
    operand_view(e, c->in[k], &e->in[k], &b);
    st = contract_pair(c, e, wt, &acc, &acc_buf, &b, later);
  }
  if (st == RQ_OK) gather(e, &acc, e->out_label, e->out_n, y->data, dtype, y->numel);
  rq__free(acc_buf);
  rq__free(e);
  return st;
}

/* ---- Det ---- */

/* The determinant of the n x n matrix a (overwritten) by LU decomposition
 * with partial pivoting. */
static double lu_det(double *a, size_t n) {
  double det = 1;
  for (size_t col = 0; col < n; col++) {
    size_t pivot = col;
    for (size_t r = col + 1; r < n; r++)
      if (fabs(a[r * n + col]) > fabs(a[pivot * n + col])) pivot = r;
    if (a[pivot * n + col] == 0) return 0;
    if (pivot != col) {
      for (size_t j = 0; j < n; j++) {
        double t = a[col * n + j];
        a[col * n + j] = a[pivot * n + j];
        a[pivot * n + j] = t;
      }
      det = -det;
    }
    double p = a[col * n + col];
    det *= p;
    for (size_t r = col + 1; r < n; r++) {
      double f = a[r * n + col] / p;
      for (size_t j = col + 1; j < n; j++) a[r * n + j] -= f * a[col * n + j];
    }
  }
  return det;
}

static rq_status op_det(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(rq__op_need(c, 0, &x));
  if (x->dtype != RQ__DT_FLOAT && x->dtype != RQ__DT_DOUBLE && x->dtype != RQ__DT_FLOAT16)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "element type %s", rq__dtype_name(x->dtype));
  if (x->ndim < 2) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input must be [..., M, M], not of rank %d", x->ndim);
  if (x->dims[x->ndim - 1] != x->dims[x->ndim - 2])
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input must be [..., M, M] (square matrices), not [..., %lld, %lld]",
                      (long long)x->dims[x->ndim - 2], (long long)x->dims[x->ndim - 1]);
  size_t n = (size_t)x->dims[x->ndim - 1], nn = n * n;
  rq__tensor *y;
  RQ_TRY(rq__op_output_uninit(c, 0, x->dtype, x->ndim - 2, x->dims, &y));
  double *a = rq__malloc_array(nn ? nn : 1, sizeof *a);
  if (a == NULL) return rq__nomem("Det", nn * sizeof *a);
  for (size_t b = 0; b < y->numel; b++) {
    for (size_t i = 0; i < nn; i++) a[i] = rq__elem_get(x->data, x->dtype, b * nn + i);
    rq__elem_set(y->data, y->dtype, b, lu_det(a, n));
  }
  rq__free(a);
  return RQ_OK;
}

const rq__op_entry rq__ops_linalg[] = {
  {"Einsum", op_einsum},
  {"Det", op_det},
  {NULL, NULL},
};
