/* SPDX-License-Identifier: Apache-2.0 */
/* The executor through its public API: the shared digits models against
 * ONNX Runtime's outputs (tests/exec/gen_golden.js), any batch size,
 * strided inputs, edge hooks (observe, rewrite, abort), and argument
 * checking. Op semantics are covered case by case by tests/conformance. */
#include <razorq/razorq.h>

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *data_path(const char *rel) {
  const char *root = getenv("RAZORQ_SOURCE_ROOT");
  ck_assert_msg(root != NULL, "RAZORQ_SOURCE_ROOT is not set (run through meson test)");
  size_t n = strlen(root) + strlen(rel) + 2;
  char *p = malloc(n);
  snprintf(p, n, "%s/%s", root, rel);
  return p;
}

static rq_graph *load_model(const char *name) {
  char rel[128];
  snprintf(rel, sizeof rel, "tests/data/digits_%s.onnx", name);
  char *path = data_path(rel);
  rq_graph *g = NULL;
  rq_status st = rq_graph_load(path, &g);
  ck_assert_msg(st == RQ_OK, "loading %s: %s", path, rq_last_error());
  free(path);
  return g;
}

static rq_npy *load_npy(const char *rel, DLTensor *view) {
  char *path = data_path(rel);
  rq_npy *npy = NULL;
  ck_assert_msg(rq_npy_load(path, &npy) == RQ_OK, "%s: %s", path, rq_last_error());
  ck_assert_int_eq(rq_npy_dltensor(npy, view), RQ_OK);
  free(path);
  return npy;
}

/* The first `batch` rows of x16 as a DLTensor view. */
static DLTensor first_rows(const DLTensor *x, int64_t batch, int64_t *shape) {
  DLTensor v = *x;
  memcpy(shape, x->shape, sizeof(int64_t) * (size_t)x->ndim);
  shape[0] = batch;
  v.shape = shape;
  return v;
}

static double max_abs_diff(const DLTensor *got, const float *want, size_t n) {
  double worst = 0;
  const float *g = got->data;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)g[i] - want[i]);
    if (!(d <= worst)) worst = d; /* NaN counts as a mismatch */
  }
  return worst;
}

static void check_model(const char *name) {
  rq_graph *g = load_model(name);
  DLTensor x, want;
  char rel[128];
  snprintf(rel, sizeof rel, "tests/exec/data/digits_%s_ort.npy", name);
  rq_npy *xn = load_npy("tests/exec/data/digits_x16.npy", &x), *wn = load_npy(rel, &want);
  const int64_t batches[] = {16, 1, 7};
  for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
    int64_t shape[4];
    DLTensor in = first_rows(&x, batches[b], shape);
    rq_tensor_list *out = NULL;
    rq_status st = rq_graph_run(g, NULL, &in, 1, &out);
    ck_assert_msg(st == RQ_OK, "%s batch %lld: %s", name, (long long)batches[b], rq_last_error());
    ck_assert_uint_eq(rq_tensor_list_count(out), 1);
    const char *oname;
    const DLTensor *y;
    ck_assert_int_eq(rq_tensor_list_get(out, 0, &oname, &y), RQ_OK);
    ck_assert_str_eq(oname, "logits");
    ck_assert_int_eq(y->ndim, 2);
    ck_assert_int_eq(y->shape[0], batches[b]);
    ck_assert_int_eq(y->shape[1], 10);
    ck_assert(y->dtype.code == kDLFloat && y->dtype.bits == 32);
    double d = max_abs_diff(y, want.data, (size_t)batches[b] * 10);
    ck_assert_msg(d <= 1e-4, "%s batch %lld: max abs diff %g vs ONNX Runtime", name, (long long)batches[b], d);
    rq_tensor_list_destroy(out);
  }
  rq_npy_destroy(xn);
  rq_npy_destroy(wn);
  rq_graph_destroy(g);
}

START_TEST(digits_cnn_matches_onnxruntime) { check_model("cnn"); }
END_TEST
START_TEST(digits_dw_matches_onnxruntime) { check_model("dw"); }
END_TEST
START_TEST(digits_mlp_matches_onnxruntime) { check_model("mlp"); }
END_TEST

/* A run keeps its large buffers with the graph: the next run reuses them
 * (memory in use does not grow), their old contents never leak into a
 * result (every row of a 512-image batch, the 16 images repeated, matches
 * ONNX Runtime, and so does a 16-image run on the reused buffers), and
 * rq_graph_trim gives them all back. */
START_TEST(kept_buffers_are_reused) {
  rq_graph *g = load_model("cnn");
  DLTensor x, want;
  rq_npy *xn = load_npy("tests/exec/data/digits_x16.npy", &x);
  rq_npy *wn = load_npy("tests/exec/data/digits_cnn_ort.npy", &want);
  enum { REPEAT = 32, ROW = 64 };
  float *big = malloc(sizeof *big * 16 * REPEAT * ROW);
  for (int r = 0; r < REPEAT; r++) memcpy(big + (size_t)r * 16 * ROW, x.data, sizeof *big * 16 * ROW);
  int64_t big_shape[4] = {16 * REPEAT, 1, 8, 8};
  DLTensor big_x = x;
  big_x.data = big;
  big_x.shape = big_shape;
  size_t before = rq_memory_in_use(), kept = 0;
  for (int run = 0; run < 3; run++) {
    bool small = run == 2;
    rq_tensor_list *out = NULL;
    ck_assert_msg(rq_graph_run(g, NULL, small ? &x : &big_x, 1, &out) == RQ_OK, "%s", rq_last_error());
    const DLTensor *y;
    rq_tensor_list_get(out, 0, NULL, &y);
    for (int r = 0; r < (small ? 1 : REPEAT); r++) {
      DLTensor rows = *y;
      rows.data = (float *)y->data + (size_t)r * 160;
      ck_assert_msg(max_abs_diff(&rows, want.data, 160) <= 1e-4, "run %d, copy %d differs from ONNX Runtime", run, r);
    }
    rq_tensor_list_destroy(out);
    if (run == 0) kept = rq_memory_in_use();
    ck_assert_msg(rq_memory_in_use() == kept, "run %d: %zu bytes in use, %zu after the first", run,
                  rq_memory_in_use(), kept);
  }
  ck_assert_uint_gt(kept, before + 65536);
  ck_assert_int_eq(rq_graph_trim(g), RQ_OK);
  ck_assert_uint_eq(rq_memory_in_use(), before);
  ck_assert_int_eq(rq_graph_trim(NULL), RQ_ERR_INVALID_ARG);
  free(big);
  rq_npy_destroy(xn);
  rq_npy_destroy(wn);
  rq_graph_destroy(g);
}
END_TEST

/* num_threads > 1 splits depthwise convolutions, im2col, pooling and large
 * elementwise ops by channel or row (and OpenBLAS's GEMM): the same logits
 * up to the GEMM's rounding. */
static void check_threads(const char *name) {
  rq_graph *g = load_model(name);
  DLTensor x, want;
  char rel[128];
  snprintf(rel, sizeof rel, "tests/exec/data/digits_%s_ort.npy", name);
  rq_npy *xn = load_npy("tests/exec/data/digits_x16.npy", &x), *wn = load_npy(rel, &want);
  rq_exec_options opts;
  rq_exec_options_init(&opts, sizeof opts);
  rq_tensor_list *one = NULL, *many = NULL;
  opts.num_threads = 1;
  ck_assert(rq_graph_run(g, &opts, &x, 1, &one) == RQ_OK);
  opts.num_threads = 3;
  ck_assert_msg(rq_graph_run(g, &opts, &x, 1, &many) == RQ_OK, "%s", rq_last_error());
  const DLTensor *a, *b;
  rq_tensor_list_get(one, 0, NULL, &a);
  rq_tensor_list_get(many, 0, NULL, &b);
  /* razorq's own chunks round identically; OpenBLAS's threaded GEMM may
   * differ in the last bits where it splits a large product. */
  ck_assert_msg(max_abs_diff(b, a->data, 160) <= 1e-5, "%s: %g", name, max_abs_diff(b, a->data, 160));
  ck_assert(max_abs_diff(b, want.data, 160) <= 1e-4);
  rq_tensor_list_destroy(one);
  rq_tensor_list_destroy(many);
  opts.num_threads = 1; /* leave OpenBLAS single-threaded for the other tests */
  ck_assert(rq_graph_run(g, &opts, &x, 1, &one) == RQ_OK);
  rq_tensor_list_destroy(one);
  rq_npy_destroy(xn);
  rq_npy_destroy(wn);
  rq_graph_destroy(g);
}

START_TEST(threads_give_the_same_logits) {
  check_threads("dw");
  check_threads("cnn");
}
END_TEST

/* The same images through a non-contiguous view (every other row of a
 * buffer twice as large) give the same logits. */
START_TEST(strided_input) {
  rq_graph *g = load_model("mlp");
  DLTensor x, want;
  rq_npy *xn = load_npy("tests/exec/data/digits_x16.npy", &x), *wn = load_npy("tests/exec/data/digits_mlp_ort.npy", &want);
  size_t per = 64;
  float *big = calloc(32 * per, sizeof *big);
  for (size_t i = 0; i < 16; i++) memcpy(big + 2 * i * per, (const float *)x.data + i * per, per * sizeof *big);
  int64_t strides[4] = {2 * (int64_t)per, 64, 8, 1};
  DLTensor in = x;
  in.data = big;
  in.strides = strides;
  rq_tensor_list *out = NULL;
  ck_assert_msg(rq_graph_run(g, NULL, &in, 1, &out) == RQ_OK, "%s", rq_last_error());
  const DLTensor *y;
  ck_assert_int_eq(rq_tensor_list_get(out, 0, NULL, &y), RQ_OK);
  ck_assert(max_abs_diff(y, want.data, 160) <= 1e-4);
  rq_tensor_list_destroy(out);
  free(big);
  rq_npy_destroy(xn);
  rq_npy_destroy(wn);
  rq_graph_destroy(g);
}
END_TEST

/* ---- hooks ---- */

typedef struct seen {
  int calls;
  bool saw_input, saw_logits;
  char names[64][128];
} seen;

static rq_status record_hook(void *user, const char *edge, DLTensor *value) {
  seen *s = user;
  ck_assert_ptr_nonnull(value->data);
  ck_assert(value->strides == NULL);
  if (s->calls < 64) snprintf(s->names[s->calls], sizeof s->names[0], "%s", edge);
  s->calls++;
  if (strcmp(edge, "input") == 0) s->saw_input = true;
  if (strcmp(edge, "logits") == 0) {
    s->saw_logits = true;
    ck_assert_int_eq(value->ndim, 2);
    ck_assert_int_eq(value->shape[1], 10);
  }
  return RQ_OK;
}

START_TEST(hook_sees_every_computed_edge) {
  rq_graph *g = load_model("mlp");
  DLTensor x;
  rq_npy *xn = load_npy("tests/exec/data/digits_x16.npy", &x);
  rq_exec_options opts;
  ck_assert_int_eq(rq_exec_options_init(&opts, sizeof opts), RQ_OK);
  seen s = {0};
  opts.hook = record_hook;
  opts.hook_user = &s;
  rq_tensor_list *out = NULL;
  ck_assert_msg(rq_graph_run(g, &opts, &x, 1, &out) == RQ_OK, "%s", rq_last_error());
  /* One call per node output plus the graph input; never a weight. */
  size_t expected = 1;
  for (size_t i = 0; i < rq_graph_node_count(g); i++) expected++;
  ck_assert_int_eq(s.calls, (int)expected);
  ck_assert(s.saw_input && s.saw_logits);
  ck_assert_str_eq(s.names[0], "input");
  rq_tensor_list_destroy(out);
  rq_npy_destroy(xn);
  rq_graph_destroy(g);
}
END_TEST

static rq_status zero_hook(void *user, const char *edge, DLTensor *value) {
  (void)user;
  (void)edge;
  size_t n = 1;
  for (int d = 0; d < value->ndim; d++) n *= (size_t)value->shape[d];
  memset(value->data, 0, n * sizeof(float));
  return RQ_OK;
}

/* A hook that rewrites the input edge in place gives exactly what running
 * on the rewritten input gives, and leaves the caller's buffer alone. */
START_TEST(hook_replaces_values_in_place) {
  rq_graph *g = load_model("cnn");
  DLTensor x;
  rq_npy *xn = load_npy("tests/exec/data/digits_x16.npy", &x);
  float first = ((const float *)x.data)[10];
  const char *edges[] = {"input"};
  rq_exec_options opts;
  rq_exec_options_init(&opts, sizeof opts);
  opts.hook = zero_hook;
  opts.hook_edges = edges;
  opts.n_hook_edges = 1;
  rq_tensor_list *hooked = NULL, *plain = NULL;
  ck_assert_msg(rq_graph_run(g, &opts, &x, 1, &hooked) == RQ_OK, "%s", rq_last_error());
  ck_assert(((const float *)x.data)[10] == first);
  float *zeros = calloc(16 * 64, sizeof *zeros);
  DLTensor z = x;
  z.data = zeros;
  ck_assert(rq_graph_run(g, NULL, &z, 1, &plain) == RQ_OK);
  const DLTensor *a, *b;
  rq_tensor_list_get(hooked, 0, NULL, &a);
  rq_tensor_list_get(plain, 0, NULL, &b);
  ck_assert_mem_eq(a->data, b->data, 160 * sizeof(float));
  rq_tensor_list_destroy(hooked);
  rq_tensor_list_destroy(plain);
  free(zeros);
  rq_npy_destroy(xn);
  rq_graph_destroy(g);
}
END_TEST

static rq_status failing_hook(void *user, const char *edge, DLTensor *value) {
  (void)value;
  int *calls = user;
  (*calls)++;
  return rq_error_set(RQ_ERR_CALLBACK, "observer refused edge %s", edge);
}

START_TEST(failing_hook_aborts_the_run) {
  rq_graph *g = load_model("dw");
  DLTensor x;
  rq_npy *xn = load_npy("tests/exec/data/digits_x16.npy", &x);
  size_t before = rq_memory_in_use();
  int calls = 0;
  rq_exec_options opts;
  rq_exec_options_init(&opts, sizeof opts);
  opts.hook = failing_hook;
  opts.hook_user = &calls;
  rq_tensor_list *out = (rq_tensor_list *)&calls; /* must be reset to NULL */
  ck_assert_int_eq(rq_graph_run(g, &opts, &x, 1, &out), RQ_ERR_CALLBACK);
  ck_assert_ptr_null(out);
  ck_assert_int_eq(calls, 1);
  ck_assert_str_eq(rq_last_error(), "observer refused edge input");
  ck_assert_uint_eq(rq_memory_in_use(), before);
  rq_npy_destroy(xn);
  rq_graph_destroy(g);
}
END_TEST

START_TEST(unknown_hook_edge_is_not_found) {
  rq_graph *g = load_model("mlp");
  DLTensor x;
  rq_npy *xn = load_npy("tests/exec/data/digits_x16.npy", &x);
  const char *edges[] = {"logits", "no_such_edge"};
  rq_exec_options opts;
  rq_exec_options_init(&opts, sizeof opts);
  opts.hook = record_hook;
  opts.hook_edges = edges;
  opts.n_hook_edges = 2;
  rq_tensor_list *out = NULL;
  ck_assert_int_eq(rq_graph_run(g, &opts, &x, 1, &out), RQ_ERR_NOT_FOUND);
  ck_assert(strstr(rq_last_error(), "no_such_edge") != NULL);
  /* Weights are not edges a hook can watch. */
  const char *weight[] = {"net.1.weight"};
  opts.hook_edges = weight;
  opts.n_hook_edges = 1;
  ck_assert_int_eq(rq_graph_run(g, &opts, &x, 1, &out), RQ_ERR_INVALID_ARG);
  ck_assert(strstr(rq_last_error(), "initializer") != NULL);
  opts.hook_edges = edges;
  /* The named edge alone. */
  seen s = {0};
  opts.hook_user = &s;
  opts.n_hook_edges = 1;
  ck_assert_int_eq(rq_graph_run(g, &opts, &x, 1, &out), RQ_OK);
  ck_assert_int_eq(s.calls, 1);
  ck_assert_str_eq(s.names[0], "logits");
  size_t idx = 99;
  ck_assert_int_eq(rq_tensor_list_find(out, "logits", &idx), RQ_OK);
  ck_assert_uint_eq(idx, 0);
  ck_assert_int_eq(rq_tensor_list_find(out, "nope", &idx), RQ_ERR_NOT_FOUND);
  rq_tensor_list_destroy(out);
  rq_npy_destroy(xn);
  rq_graph_destroy(g);
}
END_TEST

/* ---- bad input ---- */

START_TEST(bad_arguments_are_refused) {
  rq_graph *g = load_model("mlp");
  DLTensor x;
  rq_npy *xn = load_npy("tests/exec/data/digits_x16.npy", &x);
  size_t before = rq_memory_in_use();
  rq_tensor_list *out = NULL;
  ck_assert_int_eq(rq_graph_run(NULL, NULL, &x, 1, &out), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_graph_run(g, NULL, &x, 1, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_graph_run(g, NULL, NULL, 1, &out), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_graph_run(g, NULL, &x, 2, &out), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_graph_run(g, NULL, &x, 0, &out), RQ_ERR_INVALID_ARG);
  /* Wrong rank, wrong fixed dimension, wrong element type, not on the host. */
  DLTensor bad = x;
  bad.ndim = 3;
  ck_assert_int_eq(rq_graph_run(g, NULL, &bad, 1, &out), RQ_ERR_INVALID_ARG);
  int64_t shape[4] = {16, 1, 8, 4};
  bad = x;
  bad.shape = shape;
  ck_assert_int_eq(rq_graph_run(g, NULL, &bad, 1, &out), RQ_ERR_INVALID_ARG);
  ck_assert(strstr(rq_last_error(), "dimension 3") != NULL);
  bad = x;
  bad.dtype.bits = 64;
  ck_assert_int_eq(rq_graph_run(g, NULL, &bad, 1, &out), RQ_ERR_INVALID_ARG);
  bad = x;
  bad.dtype.lanes = 4;
  ck_assert_int_eq(rq_graph_run(g, NULL, &bad, 1, &out), RQ_ERR_UNSUPPORTED);
  bad = x;
  bad.device.device_type = kDLCUDA;
  ck_assert_int_eq(rq_graph_run(g, NULL, &bad, 1, &out), RQ_ERR_INVALID_ARG);
  bad = x;
  bad.data = NULL;
  ck_assert_int_eq(rq_graph_run(g, NULL, &bad, 1, &out), RQ_ERR_INVALID_ARG);
  /* Options: uninitialised size, negative threads, edges without a list. */
  rq_exec_options opts;
  memset(&opts, 0, sizeof opts);
  ck_assert_int_eq(rq_graph_run(g, &opts, &x, 1, &out), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_exec_options_init(&opts, 3), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_exec_options_init(NULL, sizeof opts), RQ_ERR_INVALID_ARG);
  rq_exec_options_init(&opts, sizeof opts);
  opts.num_threads = -1;
  ck_assert_int_eq(rq_graph_run(g, &opts, &x, 1, &out), RQ_ERR_INVALID_ARG);
  opts.num_threads = 1;
  opts.n_hook_edges = 2;
  opts.hook = record_hook;
  ck_assert_int_eq(rq_graph_run(g, &opts, &x, 1, &out), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_null(out);
  ck_assert_uint_eq(rq_memory_in_use(), before);
  /* The list accessors. */
  ck_assert_uint_eq(rq_tensor_list_count(NULL), 0);
  ck_assert_int_eq(rq_tensor_list_get(NULL, 0, NULL, NULL), RQ_ERR_INVALID_ARG);
  rq_tensor_list_destroy(NULL);
  ck_assert_int_eq(rq_graph_run(g, NULL, &x, 1, &out), RQ_OK);
  ck_assert_int_eq(rq_tensor_list_get(out, 1, NULL, NULL), RQ_ERR_INVALID_ARG);
  rq_tensor_list_destroy(out);
  rq_npy_destroy(xn);
  rq_graph_destroy(g);
}
END_TEST

/* An older caller's smaller options struct (only struct_size and
 * num_threads) is read without touching the fields it lacks. */
START_TEST(older_options_struct) {
  rq_graph *g = load_model("mlp");
  DLTensor x;
  rq_npy *xn = load_npy("tests/exec/data/digits_x16.npy", &x);
  struct {
    size_t struct_size;
    int num_threads;
  } old = {0};
  ck_assert_int_eq(rq_exec_options_init((rq_exec_options *)&old, sizeof old), RQ_OK);
  ck_assert_uint_eq(old.struct_size, sizeof old);
  old.num_threads = 1;
  rq_tensor_list *out = NULL;
  ck_assert_int_eq(rq_graph_run(g, (const rq_exec_options *)&old, &x, 1, &out), RQ_OK);
  rq_tensor_list_destroy(out);
  rq_npy_destroy(xn);
  rq_graph_destroy(g);
}
END_TEST

/* QuantizeLinear / DequantizeLinear, per tensor and per channel, with exact
 * ties and out-of-range values, bit for bit against PyTorch
 * (tests/exec/gen_qdq.py). */
START_TEST(qdq_matches_pytorch) {
  char *path = data_path("tests/exec/data/qdq.onnx");
  rq_graph *g = NULL;
  ck_assert_msg(rq_graph_load(path, &g) == RQ_OK, "%s", rq_last_error());
  free(path);
  DLTensor x;
  rq_npy *xn = load_npy("tests/exec/data/qdq_x.npy", &x);
  rq_tensor_list *out = NULL;
  ck_assert_msg(rq_graph_run(g, NULL, &x, 1, &out) == RQ_OK, "%s", rq_last_error());
  const char *names[] = {"q_t", "dq_t", "q_c", "dq_c"};
  for (size_t i = 0; i < 4; i++) {
    char rel[128];
    snprintf(rel, sizeof rel, "tests/exec/data/qdq_%s.npy", names[i]);
    DLTensor want;
    rq_npy *wn = load_npy(rel, &want);
    size_t idx;
    const DLTensor *got;
    ck_assert_int_eq(rq_tensor_list_find(out, names[i], &idx), RQ_OK);
    rq_tensor_list_get(out, idx, NULL, &got);
    ck_assert_int_eq(got->dtype.code, want.dtype.code);
    ck_assert_int_eq(got->dtype.bits, want.dtype.bits);
    ck_assert_int_eq(got->ndim, 3);
    ck_assert_mem_eq(got->shape, want.shape, 3 * sizeof(int64_t));
    ck_assert_mem_eq(got->data, want.data, 24 * (size_t)want.dtype.bits / 8);
    rq_npy_destroy(wn);
  }
  rq_tensor_list_destroy(out);
  rq_npy_destroy(xn);
  rq_graph_destroy(g);
}
END_TEST

/* Models that load but cannot run (tests/exec/gen_hostile.py): each fails
 * with its status and a message naming the node (and saying what
 * hostile_says lists for it), allocates nothing huge and leaks nothing. */
static const struct {
  const char *file;
  rq_status status;
  const char *node;
} hostile[] = {
  {"conv_group", RQ_ERR_FORMAT, "bad_conv"},
  {"conv_kernel_too_big", RQ_ERR_FORMAT, "big_kernel"},
  {"gather_index", RQ_ERR_FORMAT, "far_index"},
  {"reshape_count", RQ_ERR_FORMAT, "wrong_count"},
  {"add_shapes", RQ_ERR_FORMAT, "no_broadcast"},
  {"pad_mode", RQ_ERR_UNSUPPORTED, "wrap_pad"},
  {"resize_mode", RQ_ERR_UNSUPPORTED, "lanczos"},
  {"resize_axes_repeated", RQ_ERR_FORMAT, "axes_2_2"},
  {"resize_axes_range", RQ_ERR_FORMAT, "axis_4"},
  {"resize_scales_count", RQ_ERR_FORMAT, "four_scales"},
  {"resize_sizes_count", RQ_ERR_FORMAT, "two_sizes"},
  {"resize_roi_count", RQ_ERR_FORMAT, "full_roi"},
  {"resize_policy", RQ_ERR_UNSUPPORTED, "fit_policy"},
  {"resize_antialias_value", RQ_ERR_FORMAT, "antialias_2"},
  {"unknown_op", RQ_ERR_UNSUPPORTED, "frob"},
  {"range_huge", RQ_ERR_FORMAT, "long_range"},
  {"constant_of_shape_huge", RQ_ERR_FORMAT, "huge_fill"},
  {"tile_overflow", RQ_ERR_FORMAT, "many_tiles"},
  {"pool_pads_huge", RQ_ERR_FORMAT, "huge_pads"},
  {"batchnorm_training", RQ_ERR_FORMAT, "train_bn"},
  {"roialign_batch_index", RQ_ERR_FORMAT, "far_batch"},
  {"roialign_rois_width", RQ_ERR_FORMAT, "wide_rois"},
  {"roialign_nan_roi", RQ_ERR_FORMAT, "nan_roi"},
  {"roialign_huge_roi", RQ_ERR_UNSUPPORTED, "huge_roi"}, /* ~1e60 samples per bin */
  {"gridsample_grid_dim", RQ_ERR_FORMAT, "grid_xyz"},
  {"gridsample_mode", RQ_ERR_UNSUPPORTED, "cubic_grid"}, /* opset 20's name */
  {"gridsample20_old_mode_name", RQ_ERR_UNSUPPORTED, "bilinear_at_20"}, /* opset 16's name */
  {"gridsample20_cubic_volume", RQ_ERR_FORMAT, "tricubic"},
  {"gridsample20_volume_grid_2d", RQ_ERR_FORMAT, "flat_grid"},
  {"affinegrid_theta_shape", RQ_ERR_FORMAT, "theta_2x4"},
  {"affinegrid_size_count", RQ_ERR_FORMAT, "size_5_for_2d"},
  {"affinegrid_size_batch", RQ_ERR_FORMAT, "batch_3_vs_2"},
  {"affinegrid_size_huge", RQ_ERR_FORMAT, "huge_grid"},
  {"nms_boxes_shape", RQ_ERR_FORMAT, "five_coords"},
  {"nms_iou_threshold", RQ_ERR_FORMAT, "iou_2"},
  {"groupnorm_groups_3", RQ_ERR_FORMAT, "groupnorm_groups_3"},
  {"groupnorm_groups_0", RQ_ERR_FORMAT, "groupnorm_groups_0"},
  {"groupnorm_no_groups", RQ_ERR_FORMAT, "groupnorm_no_groups"},
  {"groupnorm_per_channel", RQ_ERR_FORMAT, "groupnorm_per_channel"},
  {"groupnorm_rank_1", RQ_ERR_FORMAT, "groupnorm_rank_1"},
  {"groupnorm_scale_double", RQ_ERR_FORMAT, "groupnorm_scale_double"},
  {"bitwise_float", RQ_ERR_FORMAT, "and_floats"},
  {"bitwise_mixed", RQ_ERR_FORMAT, "or_i32_i64"},
  {"bitwise_not_bool", RQ_ERR_FORMAT, "not_bool"},
  {"slice_extreme", RQ_OK, "extreme_slice"}, /* clamps to one element: valid */
  {"rnn_w_shape", RQ_ERR_FORMAT, "short_w"},
  {"gru_hidden_size", RQ_ERR_FORMAT, "gru_h5"},
  {"lstm_seq_lens", RQ_ERR_FORMAT, "long_lens"},
  {"rnn_activation", RQ_ERR_FORMAT, "swish_rnn"},
  {"lstm_double", RQ_ERR_UNSUPPORTED, "double_w"},
  {"gru_initial_h", RQ_ERR_FORMAT, "h0_batch3"},
  {"gru_cell_output", RQ_ERR_FORMAT, "gru_with_c"},
  {"einsum_unbalanced_ellipsis", RQ_ERR_FORMAT, "einsum_unbalanced_ellipsis"},
  {"einsum_letter_not_in_input", RQ_ERR_FORMAT, "einsum_letter_not_in_input"},
  {"einsum_operand_count", RQ_ERR_FORMAT, "einsum_operand_count"},
  {"einsum_illegal_char", RQ_ERR_FORMAT, "einsum_illegal_char"},
  {"einsum_two_arrows", RQ_ERR_FORMAT, "einsum_two_arrows"},
  {"einsum_rank_mismatch", RQ_ERR_FORMAT, "einsum_rank_mismatch"},
  {"einsum_diagonal_mismatch", RQ_ERR_FORMAT, "einsum_diagonal_mismatch"},
  {"einsum_output_repeated", RQ_ERR_FORMAT, "einsum_output_repeated"},
  {"einsum_dim_mismatch", RQ_ERR_FORMAT, "einsum_dim_mismatch"},
  {"det_non_square", RQ_ERR_FORMAT, "rect_det"},
  {"maxunpool_index_range", RQ_ERR_FORMAT, "far_unpool"},
  {"maxunpool_output_shape", RQ_ERR_FORMAT, "wrong_nc_unpool"},
  {"stft_frame_step_zero", RQ_ERR_FORMAT, "step0_stft"},
  {"stft_window_length", RQ_ERR_FORMAT, "short_window"},
  {"stft_complex_onesided", RQ_ERR_FORMAT, "complex_stft"},
  {"dft_last_dim", RQ_ERR_FORMAT, "three_parts"},
  {"dft_length_zero", RQ_ERR_FORMAT, "empty_dft"},
  {"dft_axis", RQ_ERR_FORMAT, "dft_axis2"},
  {"dft20_axis_attribute", RQ_ERR_FORMAT, "axis_attr_20"},
  {"dft20_axis_last", RQ_ERR_FORMAT, "axis_minus_1"},
  {"dft20_irfft_real", RQ_ERR_FORMAT, "irfft_of_real"},
  {"unique_axis", RQ_ERR_FORMAT, "unique_axis4"},
  {"mel_upper_edge", RQ_ERR_FORMAT, "past_nyquist"},
  {"if_branch_outputs", RQ_ERR_FORMAT, "mismatched_if"},
  {"loop_body_inputs", RQ_ERR_FORMAT, "two_input_body"},
  {"loop_cond_float", RQ_ERR_FORMAT, "float_cond"},
  {"loop_body_cond_shape", RQ_ERR_FORMAT, "two_conds"},
  {"scan_axis_range", RQ_ERR_FORMAT, "axis_7_scan"},
  {"sequence_at_range", RQ_ERR_FORMAT, "at_5"},
  {"sequence_insert_type", RQ_ERR_FORMAT, "insert_int"},
  {"sequence_erase_empty", RQ_ERR_FORMAT, "erase_nothing"},
  {"concat_from_sequence_empty", RQ_ERR_FORMAT, "concat_none"},
  {"concat_from_sequence_shapes", RQ_ERR_FORMAT, "ragged"},
  {"split_to_sequence_sizes", RQ_ERR_FORMAT, "split_1_2"},
  {"sequence_into_relu", RQ_ERR_FORMAT, "relu_of_list"},
  {"sequence_output", RQ_ERR_UNSUPPORTED, "graph output 'y'"}, /* the public API passes tensors only */
  {"sequence_input", RQ_ERR_UNSUPPORTED, "graph input 'x'"},
  {"optional_get_empty", RQ_ERR_FORMAT, "get_none"},
  {"sequence_map_lengths", RQ_ERR_FORMAT, "map_2_vs_4"},
  {"col2im_block_count", RQ_ERR_FORMAT, "wrong_L"},
  {"col2im_block_too_big", RQ_ERR_FORMAT, "big_block"},
  {"col2im_block_zero", RQ_ERR_FORMAT, "zero_block"},
  {"col2im_pads_overflow", RQ_ERR_FORMAT, "huge_pads_col"},
  {"col2im_shape_lengths", RQ_ERR_FORMAT, "three_d_block"},
  {"col2im_rank", RQ_ERR_FORMAT, "rank4_col"},
  {"center_crop_pad_axis_range", RQ_ERR_FORMAT, "axis_4_crop"},
  {"center_crop_pad_negative", RQ_ERR_FORMAT, "negative_crop"},
  {"center_crop_pad_shape_count", RQ_ERR_FORMAT, "short_shape"},
  {"center_crop_pad_repeated_axis", RQ_ERR_FORMAT, "axis_twice"},
  {"deform_offset_channels", RQ_ERR_FORMAT, "deform_offset_channels"},
  {"deform_offset_spatial", RQ_ERR_FORMAT, "deform_offset_spatial"},
  {"deform_offset_batch", RQ_ERR_FORMAT, "deform_offset_batch"},
  {"deform_mask_channels", RQ_ERR_FORMAT, "deform_mask_channels"},
  {"deform_offset_group_3", RQ_ERR_FORMAT, "deform_offset_group_3"},
  {"deform_offset_group_0", RQ_ERR_FORMAT, "deform_offset_group_0"},
  {"deform_group_weight", RQ_ERR_FORMAT, "deform_group_weight"},
  {"deform_group_output", RQ_ERR_FORMAT, "deform_group_output"},
  {"deform_kernel_shape", RQ_ERR_FORMAT, "deform_kernel_shape"},
  {"deform_kernel_too_big", RQ_ERR_FORMAT, "deform_kernel_too_big"},
  {"deform_dilations_zero", RQ_ERR_FORMAT, "deform_dilations_zero"},
  {"deform_strides_count", RQ_ERR_FORMAT, "deform_strides_count"},
  {"deform_pads_negative", RQ_ERR_FORMAT, "deform_pads_negative"},
  {"deform_pads_huge", RQ_ERR_FORMAT, "deform_pads_huge"},
  {"deform_bias_shape", RQ_ERR_FORMAT, "deform_bias_shape"},
  {"deform_offset_double", RQ_ERR_FORMAT, "deform_offset_double"},
  {"deform_x_double", RQ_ERR_UNSUPPORTED, "deform_x_double"},
  {"deform_nan_offsets", RQ_OK, "deform_nan_offsets"}, /* samples nothing outside X: valid */
  {"groupnorm21_per_group", RQ_ERR_FORMAT, "groupnorm21_per_group"},
  {"groupnorm21_stash_int", RQ_ERR_FORMAT, "groupnorm21_stash_int"},
  {"avgpool_dilations_opset18", RQ_ERR_UNSUPPORTED, "dilated_avg18"},
  {"pad_wrap_negative", RQ_ERR_UNSUPPORTED, "wrap_crop"},
  {"pad_wrap_beyond_dim", RQ_ERR_UNSUPPORTED, "wrap_twice"},
  {"resize_half_pixel_symmetric_opset18", RQ_ERR_UNSUPPORTED, "symmetric18"},
  {"reducemax_bool_opset18", RQ_ERR_UNSUPPORTED, "bool_max18"},
  {"quantize_blocked_scale_shape", RQ_ERR_FORMAT, "blocks_of_2"},
  {"quantize_block_size_negative", RQ_ERR_FORMAT, "block_minus_1"},
  {"quantize_output_dtype_mismatch", RQ_ERR_FORMAT, "int16_vs_uint8"},
  {"quantize_output_dtype_float8", RQ_ERR_UNSUPPORTED, "to_e4m3"},
  {"quantize_int16_opset19", RQ_ERR_UNSUPPORTED, "int16_at_19"},
  {"dequantize_float16_scale_opset18", RQ_ERR_UNSUPPORTED, "half_scale18"},
  {"avgpool_dilations_same", RQ_ERR_UNSUPPORTED, "dilated_same_avg"},
};

/* What some of those messages must say besides the node name. */
static const struct {
  const char *file, *says;
} hostile_says[] = {
  {"batchnorm_training", "training_mode needs opset 14 or later"},
  {"resize_axes_repeated", "axis -2 is listed twice"},
  {"resize_axes_range", "axis 4 is out of range for rank 4"},
  {"resize_scales_count", "scales must be FLOAT with one value per resized axis (2)"},
  {"resize_sizes_count", "sizes has 2 values for 1 axes"},
  {"resize_roi_count", "tf_crop_and_resize needs an roi of 2 values"},
  {"resize_policy", "keep_aspect_ratio_policy 'fit'"},
  {"resize_antialias_value", "antialias 2 is not 0 or 1"},
  {"rnn_w_shape", "W has shape [1, 4, 25], expected [1, 3, 25]"},
  {"gru_hidden_size", "W has shape [1, 9, 25], expected [1, 15, 25]"},
  {"lstm_seq_lens", "sequence_lens[1] = 3 is outside [0, 2]"},
  {"rnn_activation", "unknown activation 'Swish'"},
  {"lstm_double", "W has element type DOUBLE; only FLOAT is implemented"},
  {"gru_initial_h", "initial_h has shape [1, 3, 3], expected [1, 4, 3]"},
  {"gru_cell_output", "3 outputs given, at most 6 and 2 exist"},
  {"stft_frame_step_zero", "frame_step must be positive, got 0"},
  {"stft_window_length", "window has 12 values but frame_length is 16"},
  {"stft_complex_onesided", "onesided output needs a real signal"},
  {"dft_last_dim", "last dimension is 3; it must be 1 (real) or 2 (complex)"},
  {"dft_length_zero", "the DFT length must be positive, got 0"},
  {"dft_axis", "axis 2 is out of range: the signal axes of a rank-3 input are 1..1"},
  {"dft20_axis_attribute", "since opset 20 it is the third input"},
  {"dft20_axis_last", "axis -1 is out of range: the signal axes of a rank-3 input are 0..1"},
  {"dft20_irfft_real", "onesided inverse (IRFFT) needs a complex input"},
  {"gridsample20_old_mode_name", "mode 'bilinear' is not linear, nearest or cubic"},
  {"gridsample20_cubic_volume", "cubic mode is defined for 4-D X only"},
  {"gridsample20_volume_grid_2d", "grid is [2, 2, 2, 2, 2]; expected [2, D_out, H_out, W_out, 3]"},
  {"affinegrid_theta_shape", "theta is [2, 2, 4]; expected [N, 2, 3] or [N, 3, 4]"},
  {"affinegrid_size_count", "size has 5 values; theta [2, 2, 3] needs [2, C, H, W]"},
  {"affinegrid_size_batch", "size has 4 values; theta [2, 2, 3] needs [2, C, H, W]"},
  {"unique_axis", "axis 4 is out of range for rank 4"},
  {"groupnorm_groups_3", "num_groups = 3 must be positive and divide the 4 channels"},
  {"groupnorm_groups_0", "num_groups = 0 must be positive"},
  {"groupnorm_no_groups", "attribute num_groups (an int) is missing"},
  {"groupnorm_per_channel", "scale and bias must have shape [2] (num_groups)"},
  {"groupnorm_rank_1", "X must have rank 2 or more (N, C, ...), got rank 1"},
  {"groupnorm_scale_double", "scale and bias must have X's element type FLOAT, got DOUBLE and FLOAT"},
  {"bitwise_float", "inputs must be one integer type, got FLOAT and FLOAT"},
  {"bitwise_mixed", "inputs must be one integer type, got INT32 and INT64"},
  {"bitwise_not_bool", "input must be an integer type, got BOOL"},
  {"mel_upper_edge", "upper_edge_hertz must not exceed sample_rate / 2"},
  {"if_branch_outputs", "the node has 1 outputs but then_branch has 1 and else_branch 2"},
  {"loop_body_inputs", "the body takes 2 inputs, expected 3"},
  {"loop_cond_float", "cond must be a bool scalar, got FLOAT"},
  {"loop_body_cond_shape", "the body's cond output must be a bool scalar, got BOOL with 2 elements"},
  {"scan_axis_range", "scan_input_axes[0] = 7 is out of range for rank 4"},
  {"sequence_at_range", "position 5 is out of range [-2, 1] for a sequence of 2 tensors"},
  {"sequence_insert_type", "the inserted tensor has element type INT64, the sequence holds FLOAT"},
  {"sequence_erase_empty", "the sequence is empty: nothing to erase"},
  {"concat_from_sequence_empty", "the sequence is empty: nothing to concatenate"},
  {"concat_from_sequence_shapes", "element 1 has a type or shape that does not match element 0's"},
  {"split_to_sequence_sizes", "split sizes add up to 3, the axis has length 4"},
  {"sequence_into_relu", "input 0 ('s') is a value of kind sequence; the op takes tensors"},
  {"sequence_output", "is of kind sequence; rq_graph_run passes tensors only"},
  {"sequence_input", "is of kind sequence; rq_graph_run passes tensors only"},
  {"optional_get_empty", "the optional is empty"},
  {"sequence_map_lengths", "input 1 has 4 elements, input 0 has 2"},
  {"col2im_block_count", "input dimension 2 (25) must be the number of blocks"},
  {"col2im_block_too_big", "the dilated block (4) is larger than the padded image (2)"},
  {"col2im_block_zero", "block_shape[0] = 0; it must be at least 1"},
  {"col2im_pads_overflow", "spatial dimension 0: the sizes overflow"},
  {"col2im_shape_lengths", "block_shape has 3 values, image_shape 2"},
  {"col2im_rank", "input must have rank 3 [N, C * prod(block_shape), L], got rank 4"},
  {"center_crop_pad_axis_range", "axes[0] = 4 is out of range for rank 4"},
  {"center_crop_pad_negative", "shape[0] = -1 is negative"},
  {"center_crop_pad_shape_count", "shape has 2 values for 4 axes"},
  {"center_crop_pad_repeated_axis", "axis 2 is given twice"},
  {"deform_offset_channels", "offset must have shape [2, 18, 3, 3] (N, offset_group * kernel size * spatial rank"},
  {"deform_offset_spatial", "offset must have shape [2, 18, 3, 3]"},
  {"deform_offset_batch", "offset must have shape [2, 18, 3, 3]"},
  {"deform_mask_channels", "mask must have shape [2, 9, 3, 3] (N, offset_group * kernel size, output size)"},
  {"deform_offset_group_3", "offset_group 3 must be positive and divide X's 4 channels"},
  {"deform_offset_group_0", "offset_group 0 must be positive"},
  {"deform_group_weight", "W's dimension 1 (4) must be C / group"},
  {"deform_group_output", "group 2 must be positive and divide X's 4 channels and W's 3 output channels"},
  {"deform_kernel_shape", "kernel_shape does not match W's spatial dimensions"},
  {"deform_kernel_too_big", "kernel (extent 9) is larger than the padded input (5) on axis 2"},
  {"deform_dilations_zero", "kernel sizes, strides and dilations must be positive"},
  {"deform_strides_count", "attribute 'strides' has 3 values, expected 2"},
  {"deform_pads_negative", "pads must not be negative"},
  {"deform_pads_huge", "absurdly large"},
  {"deform_bias_shape", "B must be a FLOAT vector of W's 2 output channels"},
  {"deform_offset_double", "offset must be FLOAT (X's type), got DOUBLE"},
  {"deform_x_double", "input 0 has element type DOUBLE; only FLOAT is implemented"},
  {"groupnorm21_per_group", "scale and bias must have shape [4] (C, one value per channel from opset 21)"},
  {"groupnorm21_stash_int", "stash_type 7 is not a floating-point element type"},
  {"avgpool_dilations_opset18", "dilated AveragePool before opset 19"},
  {"pad_wrap_negative", "wrap padding with negative pads"},
  {"pad_wrap_beyond_dim", "wrap pads larger than the dimension"},
  {"resize_half_pixel_symmetric_opset18", "coordinate_transformation_mode 'half_pixel_symmetric'"},
  {"reducemax_bool_opset18", "element type BOOL"},
  {"quantize_blocked_scale_shape", "scale dimension 1 is 3, block_size 2 needs 2"},
  {"quantize_block_size_negative", "block_size -1 is negative"},
  {"quantize_output_dtype_mismatch", "output_dtype 5 differs from the zero point's type UINT8"},
  {"quantize_output_dtype_float8", "output type FLOAT8E4M3FN (17): float8 and 4-bit types are not implemented"},
  {"quantize_int16_opset19", "zero point type INT16 at opset 19"},
  {"dequantize_float16_scale_opset18", "input 1 has element type FLOAT16; only FLOAT is implemented"},
  {"avgpool_dilations_same", "AveragePool with auto_pad SAME_* and dilations"},
};

START_TEST(hostile_models_fail_cleanly) {
  char rel[128];
  snprintf(rel, sizeof rel, "tests/exec/data/hostile_%s.onnx", hostile[_i].file);
  char *path = data_path(rel);
  rq_graph *g = NULL;
  ck_assert_msg(rq_graph_load(path, &g) == RQ_OK, "%s: %s", path, rq_last_error());
  free(path);
  float *data = calloc(2 * 4 * 5 * 5, sizeof *data);
  int64_t shape[4] = {2, 4, 5, 5};
  DLTensor x = {.data = data, .device = {kDLCPU, 0}, .ndim = 4, .dtype = {kDLFloat, 32, 1}, .shape = shape};
  size_t before = rq_memory_in_use();
  rq_tensor_list *out = NULL;
  rq_status st = rq_graph_run(g, NULL, &x, 1, &out);
  ck_assert_msg(st == hostile[_i].status, "%s: %s (%s)", hostile[_i].file, rq_status_str(st), rq_last_error());
  if (st != RQ_OK) {
    ck_assert_ptr_null(out);
    ck_assert_msg(strstr(rq_last_error(), hostile[_i].node) != NULL, "%s: message '%s' does not name the node",
                  hostile[_i].file, rq_last_error());
    for (size_t k = 0; k < sizeof hostile_says / sizeof hostile_says[0]; k++)
      if (strcmp(hostile_says[k].file, hostile[_i].file) == 0)
        ck_assert_msg(strstr(rq_last_error(), hostile_says[k].says) != NULL, "%s: message '%s' does not say '%s'",
                      hostile[_i].file, rq_last_error(), hostile_says[k].says);
  } else {
    const DLTensor *y;
    rq_tensor_list_get(out, 0, NULL, &y);
    ck_assert_int_eq(y->ndim, 4);
    ck_assert_int_eq(y->shape[3], 1);
    rq_tensor_list_destroy(out);
    ck_assert_int_eq(rq_graph_trim(g), RQ_OK); /* the buffers a run keeps */
  }
  ck_assert_uint_eq(rq_memory_in_use(), before);
  free(data);
  rq_graph_destroy(g);
}
END_TEST

START_TEST(supported_ops) {
  const char *ops[] = {"Conv", "Gemm", "MatMul", "QuantizeLinear", "DequantizeLinear", "Resize", "LayerNormalization",
                       "Einsum", "Det", "MeanVarianceNormalization", "MaxUnpool", "Col2Im", "CenterCropPad",
                       "DeformConv", "GroupNormalization"};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) ck_assert_msg(rq_exec_supports_op(ops[i]), "%s", ops[i]);
  ck_assert(rq_exec_supports_op("If") && rq_exec_supports_op("Loop") && rq_exec_supports_op("Scan"));
  ck_assert(rq_exec_supports_op("SequenceConstruct") && rq_exec_supports_op("ConcatFromSequence"));
  ck_assert(!rq_exec_supports_op("SequenceMapNoSuchOp"));
  ck_assert(!rq_exec_supports_op(NULL));
}
END_TEST

int main(void) {
  Suite *s = suite_create("exec");
  TCase *tc = tcase_create("exec");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, digits_cnn_matches_onnxruntime);
  tcase_add_test(tc, digits_dw_matches_onnxruntime);
  tcase_add_test(tc, digits_mlp_matches_onnxruntime);
  tcase_add_test(tc, strided_input);
  tcase_add_test(tc, kept_buffers_are_reused);
  tcase_add_test(tc, threads_give_the_same_logits);
  tcase_add_test(tc, hook_sees_every_computed_edge);
  tcase_add_test(tc, hook_replaces_values_in_place);
  tcase_add_test(tc, failing_hook_aborts_the_run);
  tcase_add_test(tc, unknown_hook_edge_is_not_found);
  tcase_add_test(tc, bad_arguments_are_refused);
  tcase_add_test(tc, older_options_struct);
  tcase_add_test(tc, qdq_matches_pytorch);
  tcase_add_loop_test(tc, hostile_models_fail_cleanly, 0, (int)(sizeof hostile / sizeof hostile[0]));
  tcase_add_test(tc, supported_ops);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
