/* SPDX-License-Identifier: Apache-2.0 */
/* Graph IR, ONNX load/save and passes, checked against the oracle written by
 * tests/graph/gen_expect.py (onnx's Python API and PyTorch). */
#include "graph/graph.h"

#include <razorq/exec.h>

#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path_buf[4096];

static const char *src_path(const char *rel) {
  const char *root = getenv("RAZORQ_SOURCE_ROOT");
  snprintf(path_buf, sizeof path_buf, "%s/%s", root ? root : ".", rel);
  return path_buf;
}

static json_t *load_json(const char *rel) {
  json_error_t err;
  json_t *j = json_load_file(src_path(rel), 0, &err);
  ck_assert_msg(j != NULL, "%s: %s", rel, err.text);
  return j;
}

static rq_graph *load_model(const char *rel) {
  rq_graph *g = NULL;
  rq_status s = rq_graph_load(src_path(rel), &g);
  ck_assert_msg(s == RQ_OK, "%s: %s", rel, rq_last_error());
  return g;
}

static const rq__tensor *init_of(const rq_graph *g, const char *name) {
  int id = rq__graph_find_value(g, name);
  ck_assert_msg(id >= 0, "no value '%s'", name);
  ck_assert_msg(g->values[id].init != NULL, "'%s' is not an initializer", name);
  return g->values[id].init;
}

/* ------------------------------------------------ models vs onnx oracle -- */

static void check_io(const rq_graph *g, bool inputs, json_t *expect) {
  size_t n = inputs ? rq_graph_input_count(g) : rq_graph_output_count(g);
  ck_assert_uint_eq(n, json_array_size(expect));
  for (size_t i = 0; i < n; i++) {
    json_t *e = json_array_get(expect, i);
    rq_value_info info;
    ck_assert_int_eq(rq_value_info_init(&info, sizeof info), RQ_OK);
    ck_assert_int_eq(inputs ? rq_graph_input_info(g, i, &info) : rq_graph_output_info(g, i, &info),
                     RQ_OK);
    ck_assert_str_eq(info.name, json_string_value(json_object_get(e, "name")));
    ck_assert_int_eq(info.onnx_type, json_integer_value(json_object_get(e, "elem_type")));
    json_t *dims = json_object_get(e, "dims");
    ck_assert_int_eq(info.ndim, (int)json_array_size(dims));
    for (int d = 0; d < info.ndim; d++)
      ck_assert_int_eq(info.dims[d], json_integer_value(json_array_get(dims, (size_t)d)));
  }
}

static void check_model(const char *name, json_t *expect) {
  char rel[256];
  snprintf(rel, sizeof rel, "tests/data/%s.onnx", name);
  rq_graph *g = load_model(rel);
  json_t *ops = json_object_get(expect, "ops");
  ck_assert_uint_eq(rq_graph_node_count(g), json_integer_value(json_object_get(expect, "node_count")));
  ck_assert_uint_eq(rq_graph_node_count(g), json_array_size(ops));
  for (size_t i = 0; i < json_array_size(ops); i++) {
    const char *op;
    ck_assert_int_eq(rq_graph_node_info(g, i, &op, NULL), RQ_OK);
    ck_assert_str_eq(op, json_string_value(json_array_get(ops, i)));
  }
  /* Histogram: counts add up to the node count and match the op list. */
  size_t total = 0;
  for (size_t k = 0; k < rq_graph_op_type_count(g); k++) {
    const char *op;
    size_t count, want = 0;
    ck_assert_int_eq(rq_graph_op_type_info(g, k, &op, &count), RQ_OK);
    for (size_t i = 0; i < json_array_size(ops); i++)
      want += strcmp(op, json_string_value(json_array_get(ops, i))) == 0;
    ck_assert_uint_eq(count, want);
    total += count;
  }
  ck_assert_uint_eq(total, rq_graph_node_count(g));

  json_t *inits = json_object_get(expect, "initializers");
  size_t n_init = 0;
  for (int v = 0; v < g->n_values; v++) n_init += g->values[v].init != NULL;
  ck_assert_uint_eq(n_init, json_object_size(inits));
  const char *key;
  json_t *shape;
  json_object_foreach(inits, key, shape) {
    const rq__tensor *t = init_of(g, key);
    ck_assert_int_eq(t->ndim, (int)json_array_size(shape));
    for (int d = 0; d < t->ndim; d++)
      ck_assert_int_eq(t->dims[d], json_integer_value(json_array_get(shape, (size_t)d)));
  }
  uint64_t params;
  ck_assert_int_eq(rq_graph_parameter_count(g, &params), RQ_OK);
  ck_assert_uint_eq(params, json_integer_value(json_object_get(expect, "parameter_count")));
  ck_assert_int_eq(rq__graph_opset(g, ""), json_integer_value(json_object_get(expect, "opset")));
  check_io(g, true, json_object_get(expect, "inputs"));
  check_io(g, false, json_object_get(expect, "outputs"));

  /* Every intermediate shape onnx.shape_inference derives, razorq derives
   * too (symbolic batch dims are -1 on both sides here). */
  int filled;
  ck_assert_int_eq(rq__pass_infer_shapes(g, &filled), RQ_OK);
  json_t *shapes = json_object_get(expect, "value_shapes"), *vs;
  ck_assert_int_gt(json_object_size(shapes), 0);
  json_object_foreach(shapes, key, vs) {
    int id = rq__graph_find_value(g, key);
    ck_assert_msg(id >= 0, "%s: no value '%s'", name, key);
    const rq__value *v = &g->values[id];
    json_t *dims = json_object_get(vs, "dims");
    ck_assert_msg(v->shape.ndim == (int)json_array_size(dims), "%s: '%s' rank %d", name, key,
                  v->shape.ndim);
    ck_assert_int_eq(v->dtype, json_integer_value(json_object_get(vs, "elem_type")));
    for (int d = 0; d < v->shape.ndim; d++)
      ck_assert_msg(v->shape.dims[d] == json_integer_value(json_array_get(dims, (size_t)d)),
                    "%s: '%s' dim %d is %lld", name, key, d, (long long)v->shape.dims[d]);
  }
  rq_graph_destroy(g);
}

START_TEST(test_digits_models_match_onnx) {
  size_t before = rq_memory_in_use();
  json_t *all = load_json("tests/graph/expect_models.json");
  const char *key;
  json_t *expect;
  json_object_foreach(all, key, expect) check_model(key, expect);
  json_decref(all);
  ck_assert_uint_eq(rq_memory_in_use(), before);
}
END_TEST

/* The symbolic batch dimension survives as a name. */
START_TEST(test_symbolic_dims) {
  rq_graph *g = load_model("tests/data/const_identity.onnx");
  rq_value_info info;
  rq_value_info_init(&info, sizeof info);
  ck_assert_int_eq(rq_graph_input_info(g, 0, &info), RQ_OK);
  ck_assert_int_eq(info.ndim, 2);
  ck_assert_int_eq(info.dims[0], -1);
  ck_assert_str_eq(info.dim_names[0], "batch");
  ck_assert_ptr_null(info.dim_names[1]);
  ck_assert_int_eq(info.dims[1], 3);
  rq_graph_destroy(g);
}
END_TEST

/* ------------------------------------------------------------ round trip -- */

static void assert_same_graph(const rq_graph *a, const rq_graph *b) {
  ck_assert_int_eq(a->n_nodes, b->n_nodes);
  for (int i = 0; i < a->n_nodes; i++) {
    const rq__node *x = &a->nodes[i], *y = &b->nodes[i];
    ck_assert_str_eq(x->op_type, y->op_type);
    ck_assert_str_eq(x->name, y->name);
    ck_assert_int_eq(x->n_inputs, y->n_inputs);
    ck_assert_int_eq(x->n_outputs, y->n_outputs);
    for (int k = 0; k < x->n_inputs; k++)
      if (x->inputs[k] >= 0) ck_assert_str_eq(a->values[x->inputs[k]].name, b->values[y->inputs[k]].name);
    for (int k = 0; k < x->n_outputs; k++)
      if (x->outputs[k] >= 0) ck_assert_str_eq(a->values[x->outputs[k]].name, b->values[y->outputs[k]].name);
    ck_assert_int_eq(x->n_attrs, y->n_attrs);
  }
  for (int v = 0; v < a->n_values; v++) {
    if (a->values[v].init == NULL) continue;
    const rq__tensor *t = init_of(b, a->values[v].name);
    ck_assert_uint_eq(t->nbytes, a->values[v].init->nbytes);
    ck_assert_int_eq(memcmp(t->data, a->values[v].init->data, t->nbytes), 0);
  }
  ck_assert_uint_eq(rq__graph_fingerprint(a), rq__graph_fingerprint(b));
}

/* Empty tensors too must have dimensions whose nonzero product fits: their
 * strides are products of dimensions. The bounds are int64's and size_t's. */
START_TEST(test_tensor_shapes_must_multiply_without_overflow) {
  rq__tensor *t = NULL;
  const int64_t empty_huge[3] = {0, (int64_t)1 << 61, 8}, empty_fine[3] = {0, (int64_t)1 << 40, 4};
  ck_assert_int_eq(rq__tensor_create("e", RQ__DT_FLOAT, 3, empty_huge, &t), RQ_ERR_FORMAT);
  ck_assert_ptr_null(t);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "element count overflows"));
  ck_assert_int_eq(rq__tensor_create("e", RQ__DT_FLOAT, 3, empty_fine, &t), RQ_OK);
  ck_assert_uint_eq(t->numel, 0);
  rq__tensor_destroy(t);
}
END_TEST

START_TEST(test_save_reload_roundtrip) {
  static const char *const models[] = {"digits_cnn", "digits_mlp", "digits_dw", "bn_conv",
                                       "const_identity"};
  size_t before = rq_memory_in_use();
  char rel[256], out[] = "/tmp/rq_graph_rt_XXXXXX";
  int fd = mkstemp(out);
  ck_assert_int_ge(fd, 0);
  for (size_t m = 0; m < sizeof models / sizeof *models; m++) {
    snprintf(rel, sizeof rel, "tests/data/%s.onnx", models[m]);
    rq_graph *a = load_model(rel), *b = NULL;
    ck_assert_int_eq(rq_graph_save(a, out), RQ_OK);
    ck_assert_msg(rq_graph_load(out, &b) == RQ_OK, "%s: %s", models[m], rq_last_error());
    assert_same_graph(a, b);
    /* Serialization is deterministic. */
    void *d1, *d2;
    size_t n1, n2;
    ck_assert_int_eq(rq__graph_serialize(a, &d1, &n1), RQ_OK);
    ck_assert_int_eq(rq__graph_serialize(b, &d2, &n2), RQ_OK);
    ck_assert_uint_eq(n1, n2);
    ck_assert_int_eq(memcmp(d1, d2, n1), 0);
    rq__free(d1);
    rq__free(d2);
    rq_graph_destroy(a);
    rq_graph_destroy(b);
  }
  unlink(out);
  close(fd);
  ck_assert_uint_eq(rq_memory_in_use(), before);
}
END_TEST

START_TEST(test_save_external_data) {
  size_t before = rq_memory_in_use();
  char dir[] = "/tmp/rq_graph_ext_XXXXXX", path[256], data_path[256];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/cnn.onnx", dir);
  snprintf(data_path, sizeof data_path, "%s/cnn.onnx.data", dir);
  rq_graph *a = load_model("tests/data/digits_cnn.onnx"), *b = NULL;
  ck_assert_int_eq(rq__graph_save_external(a, path, 256), RQ_OK);
  ck_assert_msg(rq_graph_load(path, &b) == RQ_OK, "%s", rq_last_error());
  assert_same_graph(a, b);
  /* The weights really are outside: the model file is small, the data file
   * holds every initializer of >= 256 bytes at 4096-aligned offsets. */
  FILE *f = fopen(path, "rb"), *d = fopen(data_path, "rb");
  ck_assert_ptr_nonnull(f);
  ck_assert_ptr_nonnull(d);
  fseek(f, 0, SEEK_END);
  fseek(d, 0, SEEK_END);
  size_t big = 0;
  for (int v = 0; v < a->n_values; v++)
    if (a->values[v].init && a->values[v].init->nbytes >= 256) big += a->values[v].init->nbytes;
  ck_assert_uint_lt((size_t)ftell(f), 8192);
  ck_assert_uint_ge((size_t)ftell(d), big);
  fclose(f);
  fclose(d);
  rq_graph_destroy(a);
  rq_graph_destroy(b);
  unlink(path);
  unlink(data_path);
  rmdir(dir);
  ck_assert_uint_eq(rq_memory_in_use(), before);
}
END_TEST

START_TEST(test_fingerprint_tracks_weights_not_names) {
  rq_graph *a = load_model("tests/data/digits_mlp.onnx");
  rq_graph *b = load_model("tests/data/digits_mlp.onnx");
  uint64_t fa, fb;
  ck_assert_int_eq(rq_graph_fingerprint(a, &fa), RQ_OK);
  ck_assert_int_eq(rq_graph_fingerprint(b, &fb), RQ_OK);
  ck_assert_uint_eq(fa, fb);
  /* Renaming a value keeps it; one changed weight bit changes it. */
  int id = rq__graph_find_value(b, "fc1.weight");
  if (id < 0) {
    for (id = 0; id < b->n_values && b->values[id].init == NULL; id++) {}
  }
  ck_assert_int_eq(rq__graph_rename_value(b, id, "renamed_weight"), RQ_OK);
  ck_assert_uint_eq(rq__graph_fingerprint(b), fa);
  ((unsigned char *)b->values[id].init->data)[0] ^= 1;
  ck_assert_uint_ne(rq__graph_fingerprint(b), fa);
  rq_graph_destroy(a);
  rq_graph_destroy(b);
}
END_TEST

/* --------------------------------------------------------------- passes -- */

static void assert_close(const float *got, json_t *want, size_t n, double atol, double rtol) {
  ck_assert_uint_eq(n, json_array_size(want));
  for (size_t i = 0; i < n; i++) {
    double w = json_real_value(json_array_get(want, i));
    ck_assert_msg(fabs(got[i] - w) <= atol + rtol * fabs(w), "element %zu: %.9g vs %.9g", i,
                  (double)got[i], w);
  }
}

static float *floats_of(json_t *arr) {
  size_t n = json_array_size(arr);
  float *f = malloc((n ? n : 1) * sizeof *f);
  for (size_t i = 0; i < n; i++) f[i] = (float)json_real_value(json_array_get(arr, i));
  return f;
}

START_TEST(test_fold_bn_conv) {
  size_t before = rq_memory_in_use();
  json_t *all = load_json("tests/graph/expect_bn.json"), *e = json_object_get(all, "conv");
  rq_graph *g = load_model("tests/data/bn_conv.onnx");
  rq__fusion *groups;
  int n_groups;
  ck_assert_int_eq(rq__graph_find_fusions(g, &groups, &n_groups), RQ_OK);
  ck_assert_int_eq(n_groups, 1);
  ck_assert_int_eq(groups[0].kind, RQ__FUSE_CONV_BN_ACT);
  ck_assert_int_eq(groups[0].n_nodes, 3);
  rq__free(groups);

  int count = -1;
  ck_assert_int_eq(rq__pass_fold_batchnorm(g, &count), RQ_OK);
  ck_assert_int_eq(count, 1);
  ck_assert_int_eq(g->n_nodes, 2);
  ck_assert_str_eq(g->nodes[0].op_type, "Conv");
  ck_assert_str_eq(g->nodes[1].op_type, "Relu");
  const rq__tensor *W = g->values[g->nodes[0].inputs[1]].init;
  const rq__tensor *B = g->values[g->nodes[0].inputs[2]].init;
  /* torch's fuse_conv_bn_weights, up to float rounding of rsqrt. */
  assert_close(W->data, json_object_get(e, "fused_w"), W->numel, 1e-6, 1e-6);
  assert_close(B->data, json_object_get(e, "fused_b"), B->numel, 1e-6, 1e-6);

  /* Direct 3x3 pad-1 convolution with the folded weights + ReLU must give
   * PyTorch's Conv -> BN -> ReLU output. */
  float *x = floats_of(json_object_get(e, "x"));
  json_t *ys = json_object_get(e, "x_shape");
  int N = (int)json_integer_value(json_array_get(ys, 0)), C = (int)json_integer_value(json_array_get(ys, 1));
  int H = (int)json_integer_value(json_array_get(ys, 2)), Wd = (int)json_integer_value(json_array_get(ys, 3));
  int M = (int)W->dims[0];
  size_t ny = (size_t)N * (size_t)M * (size_t)H * (size_t)Wd;
  float *y = calloc(ny, sizeof *y);
  const float *w = W->data, *b = B->data;
  for (int n = 0; n < N; n++)
    for (int m = 0; m < M; m++)
      for (int i = 0; i < H; i++)
        for (int j = 0; j < Wd; j++) {
          double acc = b[m];
          for (int c = 0; c < C; c++)
            for (int ki = 0; ki < 3; ki++)
              for (int kj = 0; kj < 3; kj++) {
                int ii = i + ki - 1, jj = j + kj - 1;
                if (ii < 0 || jj < 0 || ii >= H || jj >= Wd) continue;
                acc += (double)w[((m * C + c) * 3 + ki) * 3 + kj] * x[((n * C + c) * H + ii) * Wd + jj];
              }
          y[((n * M + m) * H + i) * Wd + j] = acc > 0 ? (float)acc : 0.0f;
        }
  assert_close(y, json_object_get(e, "y"), ny, 1e-5, 1e-5);
  free(x);
  free(y);

  ck_assert_int_eq(rq__graph_find_fusions(g, &groups, &n_groups), RQ_OK);
  ck_assert_int_eq(n_groups, 1);
  ck_assert_int_eq(groups[0].kind, RQ__FUSE_LINEAR_ACT);
  ck_assert_int_eq(groups[0].n_nodes, 2);
  rq__free(groups);
  /* The folded graph still saves and reloads. */
  void *d;
  size_t n;
  ck_assert_int_eq(rq__graph_serialize(g, &d, &n), RQ_OK);
  rq_graph *g2;
  ck_assert_int_eq(rq_graph_load_buffer(d, n, &g2), RQ_OK);
  ck_assert_uint_eq(rq__graph_fingerprint(g2), rq__graph_fingerprint(g));
  rq_graph_destroy(g2);
  rq__free(d);
  rq_graph_destroy(g);
  json_decref(all);
  ck_assert_uint_eq(rq_memory_in_use(), before);
}
END_TEST

START_TEST(test_fold_bn_gemm) {
  size_t before = rq_memory_in_use();
  json_t *all = load_json("tests/graph/expect_bn.json"), *e = json_object_get(all, "gemm");
  rq_graph *g = load_model("tests/data/bn_gemm.onnx");
  int count = -1;
  ck_assert_int_eq(rq__pass_fold_batchnorm(g, &count), RQ_OK);
  ck_assert_int_eq(count, 1);
  ck_assert_int_eq(g->n_nodes, 1);
  const rq__node *gemm = &g->nodes[0];
  ck_assert_str_eq(gemm->op_type, "Gemm");
  ck_assert_str_eq(g->values[gemm->outputs[0]].name, "y"); /* interface kept */
  const rq__tensor *W = g->values[gemm->inputs[1]].init, *B = g->values[gemm->inputs[2]].init;
  assert_close(W->data, json_object_get(e, "fused_w"), W->numel, 1e-6, 1e-6);
  assert_close(B->data, json_object_get(e, "fused_b"), B->numel, 1e-6, 1e-6);
  float *x = floats_of(json_object_get(e, "x"));
  int N = (int)json_integer_value(json_array_get(json_object_get(e, "x_shape"), 0));
  int K = (int)W->dims[1], M = (int)W->dims[0];
  float *y = calloc((size_t)N * (size_t)M, sizeof *y);
  for (int n = 0; n < N; n++)
    for (int m = 0; m < M; m++) {
      double acc = ((const float *)B->data)[m];
      for (int k = 0; k < K; k++) acc += (double)x[n * K + k] * ((const float *)W->data)[m * K + k];
      y[n * M + m] = (float)acc;
    }
  assert_close(y, json_object_get(e, "y"), (size_t)N * (size_t)M, 1e-5, 1e-5);
  free(x);
  free(y);
  rq_graph_destroy(g);
  json_decref(all);
  ck_assert_uint_eq(rq_memory_in_use(), before);
}
END_TEST

START_TEST(test_fusions_mlp) {
  rq_graph *g = load_model("tests/data/digits_mlp.onnx");
  rq__fusion *groups;
  int n;
  ck_assert_int_eq(rq__graph_find_fusions(g, &groups, &n), RQ_OK);
  /* Flatten, Gemm, Relu, Gemm, Relu, Gemm: two Gemm+Relu groups. */
  ck_assert_int_eq(n, 2);
  for (int i = 0; i < n; i++) {
    ck_assert_int_eq(groups[i].kind, RQ__FUSE_LINEAR_ACT);
    ck_assert_str_eq(g->nodes[groups[i].nodes[0]].op_type, "Gemm");
    ck_assert_str_eq(g->nodes[groups[i].nodes[1]].op_type, "Relu");
  }
  rq__free(groups);
  rq_graph_destroy(g);
}
END_TEST

START_TEST(test_constant_and_identity) {
  size_t before = rq_memory_in_use();
  json_t *all = load_json("tests/graph/expect_bn.json");
  rq_graph *g = load_model("tests/data/const_identity.onnx");
  ck_assert_int_eq(g->n_nodes, 2); /* the Constant became an initializer */
  const rq__tensor *c = init_of(g, "c");
  assert_close(c->data, json_object_get(all, "const_c"), c->numel, 0, 0);
  int count = -1;
  ck_assert_int_eq(rq__pass_fold_constants(g, &count), RQ_OK);
  ck_assert_int_eq(count, 1);
  ck_assert_int_eq(g->n_nodes, 1);
  ck_assert_str_eq(g->nodes[0].op_type, "Add");
  ck_assert_str_eq(g->values[g->nodes[0].outputs[0]].name, "y");
  ck_assert_str_eq(g->values[g->outputs[0]].name, "y");
  rq_graph_destroy(g);
  json_decref(all);
  ck_assert_uint_eq(rq_memory_in_use(), before);
}
END_TEST

/* digits_dw's exporter put a Pad of nothing before its AveragePool. */
START_TEST(test_remove_noop_pads) {
  size_t before = rq_memory_in_use();
  rq_graph *g = load_model("tests/data/digits_dw.onnx");
  int pad = -1;
  for (int i = 0; i < g->n_nodes; i++)
    if (strcmp(g->nodes[i].op_type, "Pad") == 0) pad = i;
  ck_assert_int_ge(pad, 0);
  int n_nodes = g->n_nodes, pads_input = g->nodes[pad].inputs[1];
  /* One non-zero pad keeps it. */
  int64_t *pads = g->values[pads_input].init->data;
  pads[3] = 1;
  int count = -1;
  ck_assert_int_eq(rq__pass_remove_noop_pads(g, &count), RQ_OK);
  ck_assert_int_eq(count, 0);
  ck_assert_int_eq(g->n_nodes, n_nodes);
  pads[3] = 0;
  ck_assert_int_eq(rq__pass_remove_noop_pads(g, &count), RQ_OK);
  ck_assert_int_eq(count, 1);
  ck_assert_int_eq(g->n_nodes, n_nodes - 1);
  for (int i = 0; i < g->n_nodes; i++) {
    ck_assert_str_ne(g->nodes[i].op_type, "Pad");
    if (strcmp(g->nodes[i].op_type, "AveragePool") == 0)
      ck_assert_str_eq(g->values[g->nodes[i].inputs[0]].name, "/Concat_output_0");
  }
  rq_graph_destroy(g);
  ck_assert_uint_eq(rq_memory_in_use(), before);
}
END_TEST

START_TEST(test_remove_identity_before_two_outputs) {
  /* x -> Relu -> h -> Identity -> y1 ; h -> Neg -> k -> Identity -> y2 */
  int x, h, y;
  rq_graph *g;
  ck_assert_int_eq(rq__graph_create(&g), RQ_OK);
  ck_assert_int_eq(rq__graph_add_value(g, "x", &x), RQ_OK);
  g->values[x].is_input = true;
  g->inputs = rq__malloc(sizeof(int));
  g->inputs[0] = x;
  g->n_inputs = 1;
  int k, y2;
  ck_assert_int_eq(rq__graph_add_value(g, "h", &h), RQ_OK);
  ck_assert_int_eq(rq__graph_add_value(g, "k", &k), RQ_OK);
  ck_assert_int_eq(rq__graph_add_value(g, "y1", &y), RQ_OK);
  ck_assert_int_eq(rq__graph_add_value(g, "y2", &y2), RQ_OK);
  ck_assert_int_eq(rq__graph_add_node(g, "Relu", "", "r", &x, 1, &h, 1, NULL), RQ_OK);
  ck_assert_int_eq(rq__graph_add_node(g, "Neg", "", "n", &h, 1, &k, 1, NULL), RQ_OK);
  ck_assert_int_eq(rq__graph_add_node(g, "Identity", "", "i1", &h, 1, &y, 1, NULL), RQ_OK);
  ck_assert_int_eq(rq__graph_add_node(g, "Identity", "", "i2", &k, 1, &y2, 1, NULL), RQ_OK);
  g->outputs = rq__malloc(2 * sizeof(int));
  g->outputs[0] = y;
  g->outputs[1] = y2;
  g->n_outputs = 2;
  g->values[y].is_output = g->values[y2].is_output = true;
  ck_assert_int_eq(rq__graph_sort(g), RQ_OK);
  int removed;
  ck_assert_int_eq(rq__pass_remove_identity(g, &removed), RQ_OK);
  ck_assert_int_eq(removed, 2);
  ck_assert_int_eq(g->n_nodes, 2);
  ck_assert_str_eq(g->values[g->outputs[0]].name, "y1");
  ck_assert_str_eq(g->values[g->outputs[1]].name, "y2");
  ck_assert_str_eq(g->nodes[0].op_type, "Relu");
  ck_assert_str_eq(g->values[g->nodes[0].outputs[0]].name, "y1");
  ck_assert_int_eq(g->nodes[1].inputs[0], g->nodes[0].outputs[0]); /* Neg reads y1 (was h) */
  /* Both outputs of one value cannot be merged by a rewire. */
  ck_assert_int_eq(rq__graph_rewire(g, g->outputs[0], g->outputs[1]), RQ_ERR_INVALID_ARG);
  rq_graph_destroy(g);
}
END_TEST

/* What the quantizer does: QuantizeLinear + DequantizeLinear (with scale and
 * zero-point initializers) on the edge into the first Gemm. */
START_TEST(test_insert_qdq_pair) {
  size_t before = rq_memory_in_use();
  rq_graph *g = load_model("tests/data/digits_mlp.onnx");
  int gemm = -1;
  for (int i = 0; i < g->n_nodes && gemm < 0; i++)
    if (strcmp(g->nodes[i].op_type, "Gemm") == 0) gemm = i;
  int x = g->nodes[gemm].inputs[0], n0 = g->n_nodes;
  rq__tensor *scale, *zp;
  ck_assert_int_eq(rq__tensor_create("x_scale", RQ__DT_FLOAT, 0, NULL, &scale), RQ_OK);
  ck_assert_int_eq(rq__tensor_create("x_zero_point", RQ__DT_UINT8, 0, NULL, &zp), RQ_OK);
  *(float *)scale->data = 0.05f;
  *(uint8_t *)zp->data = 128;
  int s_id, z_id, q, dq;
  ck_assert_int_eq(rq__graph_add_initializer(g, scale, &s_id), RQ_OK);
  ck_assert_int_eq(rq__graph_add_initializer(g, zp, &z_id), RQ_OK);
  ck_assert_int_eq(rq__graph_insert_on_edge(g, x, "QuantizeLinear", "", "q", &q), RQ_OK);
  ck_assert_int_eq(rq__node_append_input(g, q, s_id), RQ_OK);
  ck_assert_int_eq(rq__node_append_input(g, q, z_id), RQ_OK);
  int xq = g->nodes[q].outputs[0];
  ck_assert_int_eq(rq__graph_insert_on_edge(g, xq, "DequantizeLinear", "", "dq", &dq), RQ_OK);
  ck_assert_int_eq(rq__node_append_input(g, dq, s_id), RQ_OK);
  ck_assert_int_eq(rq__node_append_input(g, dq, z_id), RQ_OK);
  ck_assert_int_eq(g->n_nodes, n0 + 2);
  /* x -> Q -> DQ -> Gemm, in execution order. */
  q = g->values[xq].producer;
  int cons[2];
  ck_assert_int_eq(rq__graph_consumers(g, xq, cons, 2), 1);
  dq = cons[0];
  ck_assert_str_eq(g->nodes[dq].op_type, "DequantizeLinear");
  ck_assert_int_eq(rq__graph_consumers(g, g->nodes[dq].outputs[0], cons, 2), 1);
  ck_assert_str_eq(g->nodes[cons[0]].op_type, "Gemm");
  ck_assert_int_lt(q, dq);
  ck_assert_int_lt(dq, cons[0]);
  ck_assert_int_eq(g->nodes[q].inputs[0], x);
  ck_assert_int_eq(g->nodes[q].n_inputs, 3);
  /* The result saves and reloads to the same graph; shapes propagate through. */
  void *d;
  size_t n;
  ck_assert_int_eq(rq__graph_serialize(g, &d, &n), RQ_OK);
  rq_graph *back;
  ck_assert_msg(rq_graph_load_buffer(d, n, &back) == RQ_OK, "%s", rq_last_error());
  assert_same_graph(g, back);
  ck_assert_int_eq(rq__pass_infer_shapes(back, NULL), RQ_OK);
  int bq = rq__graph_find_value(back, g->values[xq].name);
  ck_assert_int_eq(back->values[bq].dtype, RQ__DT_UINT8);
  rq_graph_destroy(back);
  rq__free(d);
  rq_graph_destroy(g);
  ck_assert_uint_eq(rq_memory_in_use(), before);
}
END_TEST

START_TEST(test_insert_on_edge_and_remove_dead) {
  rq_graph *g = load_model("tests/data/digits_mlp.onnx");
  int n0 = g->n_nodes;
  uint64_t fp0 = rq__graph_fingerprint(g);
  /* Observer-style insertion on every edge feeding a Gemm, then on the output. */
  int first_gemm = -1;
  for (int i = 0; i < g->n_nodes && first_gemm < 0; i++)
    if (strcmp(g->nodes[i].op_type, "Gemm") == 0) first_gemm = i;
  int x = g->nodes[first_gemm].inputs[0], node;
  ck_assert_int_eq(rq__graph_insert_on_edge(g, x, "Identity", "", "obs", &node), RQ_OK);
  ck_assert_int_eq(g->n_nodes, n0 + 1);
  ck_assert_str_eq(g->nodes[node].op_type, "Identity");
  ck_assert_int_eq(g->nodes[node].inputs[0], x);
  /* Its output now feeds the Gemm, which comes after it. */
  int gemm = g->values[g->nodes[node].outputs[0]].producer == node ? -1 : 0;
  (void)gemm;
  int cons;
  ck_assert_int_eq(rq__graph_consumers(g, g->nodes[node].outputs[0], &cons, 1), 1);
  ck_assert_str_eq(g->nodes[cons].op_type, "Gemm");
  ck_assert_int_gt(cons, node);
  /* On a graph output: the interface name stays. */
  const char *out_name = g->values[g->outputs[0]].name;
  char saved[256];
  snprintf(saved, sizeof saved, "%s", out_name);
  ck_assert_int_eq(rq__graph_insert_on_edge(g, g->outputs[0], "Identity", "", "obs_out", &node), RQ_OK);
  ck_assert_str_eq(g->values[g->outputs[0]].name, saved);
  ck_assert_int_eq(g->values[g->outputs[0]].producer, node);
  /* Removing the identities again restores the original structure. */
  int removed;
  ck_assert_int_eq(rq__pass_remove_identity(g, &removed), RQ_OK);
  ck_assert_int_eq(removed, 2);
  ck_assert_uint_eq(rq__graph_fingerprint(g), fp0);
  /* A node whose output nothing reads is dead. */
  int v_unused, in = g->inputs[0];
  ck_assert_int_eq(rq__graph_add_value(g, "unused", &v_unused), RQ_OK);
  ck_assert_int_eq(rq__graph_add_node(g, "Relu", "", "dead", &in, 1, &v_unused, 1, NULL), RQ_OK);
  ck_assert_int_eq(rq__graph_sort(g), RQ_OK);
  ck_assert_int_eq(rq__graph_remove_dead(g, &removed), RQ_OK);
  ck_assert_int_eq(removed, 1);
  ck_assert_int_eq(rq__graph_find_value(g, "unused"), -1);
  ck_assert_uint_eq(rq__graph_fingerprint(g), fp0);
  rq_graph_destroy(g);
}
END_TEST

/* ------------------------------------------------------- external data -- */

START_TEST(test_external_data) {
  size_t before = rq_memory_in_use();
  json_t *all = load_json("tests/graph/expect_bn.json");
  rq_graph *g = load_model("tests/data/ext/model.onnx");
  const rq__tensor *w = init_of(g, "w");
  assert_close(w->data, json_object_get(all, "ext_w"), w->numel, 0, 0);
  rq_graph_destroy(g);
  g = NULL;
  ck_assert_int_eq(rq_graph_load(src_path("tests/data/ext_escape.onnx"), &g), RQ_ERR_FORMAT);
  ck_assert_ptr_null(g);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "'w'"));
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "inside the model's folder"));
  /* From memory there is no folder to resolve against. */
  FILE *f = fopen(src_path("tests/data/ext/model.onnx"), "rb");
  ck_assert_ptr_nonnull(f);
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  ck_assert_int_eq(rq_graph_load_buffer(buf, n, &g), RQ_ERR_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "external data"));
  json_decref(all);
  ck_assert_uint_eq(rq_memory_in_use(), before);
}
END_TEST

/* ------------------------------------------------------ hostile models -- */

/* Serializes g WITHOUT validation (the writer trusts the IR), so tests can
 * produce malformed models, then checks that loading refuses them with a
 * message containing `needle` and frees everything. */
static void expect_rejected(rq_graph *g, rq_status want, const char *needle) {
  void *data;
  size_t size;
  ck_assert_int_eq(rq__graph_serialize(g, &data, &size), RQ_OK);
  rq_graph_destroy(g);
  size_t before = rq_memory_in_use();
  rq_graph *out = (rq_graph *)1;
  rq_status s = rq_graph_load_buffer(data, size, &out);
  ck_assert_msg(s == want, "got %s (%s), want %s", rq_status_str(s), rq_last_error(), rq_status_str(want));
  ck_assert_ptr_null(out);
  ck_assert_msg(strstr(rq_last_error(), needle) != NULL, "'%s' lacks '%s'", rq_last_error(), needle);
  ck_assert_uint_eq(rq_memory_in_use(), before);
  rq__free(data);
}

/* x -> Relu(a) -> Relu(b) -> y, with values made by hand. */
static rq_graph *two_relus(int *x, int *h, int *y) {
  rq_graph *g;
  ck_assert_int_eq(rq__graph_create(&g), RQ_OK);
  ck_assert_int_eq(rq__graph_add_value(g, "x", x), RQ_OK);
  ck_assert_int_eq(rq__graph_add_value(g, "h", h), RQ_OK);
  ck_assert_int_eq(rq__graph_add_value(g, "y", y), RQ_OK);
  g->values[*x].is_input = true;
  g->values[*x].dtype = RQ__DT_FLOAT;
  g->values[*y].is_output = true;
  g->inputs = rq__malloc(sizeof(int));
  g->outputs = rq__malloc(sizeof(int));
  g->inputs[0] = *x;
  g->outputs[0] = *y;
  g->n_inputs = g->n_outputs = 1;
  ck_assert_int_eq(rq__graph_add_node(g, "Relu", "", "a", x, 1, h, 1, NULL), RQ_OK);
  ck_assert_int_eq(rq__graph_add_node(g, "Relu", "", "b", h, 1, y, 1, NULL), RQ_OK);
  return g;
}

START_TEST(test_valid_handmade_graph_loads) {
  int x, h, y;
  rq_graph *g = two_relus(&x, &h, &y);
  void *data;
  size_t size;
  ck_assert_int_eq(rq__graph_serialize(g, &data, &size), RQ_OK);
  rq_graph *back;
  ck_assert_msg(rq_graph_load_buffer(data, size, &back) == RQ_OK, "%s", rq_last_error());
  ck_assert_int_eq(back->n_nodes, 2);
  rq_graph_destroy(back);
  rq_graph_destroy(g);
  rq__free(data);
}
END_TEST

START_TEST(test_reject_cycle) {
  int x, h, y;
  rq_graph *g = two_relus(&x, &h, &y);
  /* a reads y (b's output) besides x: a -> b -> a. */
  int ins[2] = {x, y}, z;
  ck_assert_int_eq(rq__graph_add_value(g, "z", &z), RQ_OK);
  ck_assert_int_eq(rq__graph_add_node(g, "Add", "", "loop", ins, 2, &z, 1, NULL), RQ_OK);
  g->nodes[0].inputs[0] = z; /* a now reads loop's output: a -> b -> loop -> a */
  expect_rejected(g, RQ_ERR_FORMAT, "cycle through node");
}
END_TEST

START_TEST(test_reject_dangling_input) {
  int x, h, y, ghost;
  rq_graph *g = two_relus(&x, &h, &y);
  ck_assert_int_eq(rq__graph_add_value(g, "ghost", &ghost), RQ_OK);
  g->nodes[1].inputs[0] = ghost;
  expect_rejected(g, RQ_ERR_FORMAT, "input 'ghost' is dangling");
}
END_TEST

START_TEST(test_reject_dangling_output) {
  int x, h, y, ghost;
  rq_graph *g = two_relus(&x, &h, &y);
  ck_assert_int_eq(rq__graph_add_value(g, "nowhere", &ghost), RQ_OK);
  g->outputs[0] = ghost;
  expect_rejected(g, RQ_ERR_FORMAT, "graph output 'nowhere' is dangling");
}
END_TEST

START_TEST(test_reject_duplicate_output) {
  int x, h, y;
  rq_graph *g = two_relus(&x, &h, &y);
  g->nodes[1].outputs[0] = h; /* b also claims to produce h */
  g->outputs[0] = h;
  expect_rejected(g, RQ_ERR_FORMAT, "'h' is already produced by node 'a'");
}
END_TEST

START_TEST(test_reject_huge_declared_size) {
  int x, h, y, w;
  rq_graph *g = two_relus(&x, &h, &y);
  int64_t one = 4;
  rq__tensor *t;
  ck_assert_int_eq(rq__tensor_create("w", RQ__DT_FLOAT, 1, &one, &t), RQ_OK);
  /* Claims 2^40 x 2^40 floats while 16 bytes are present. */
  t->ndim = 2;
  t->dims[0] = t->dims[1] = (int64_t)1 << 40;
  ck_assert_int_eq(rq__graph_add_initializer(g, t, &w), RQ_OK);
  g->nodes[1].inputs = rq__realloc(g->nodes[1].inputs, 2 * sizeof(int));
  g->nodes[1].inputs[1] = w;
  g->nodes[1].n_inputs = 2;
  expect_rejected(g, RQ_ERR_FORMAT, "tensor 'w'");
}
END_TEST

START_TEST(test_reject_size_mismatch) {
  int x, h, y, w;
  rq_graph *g = two_relus(&x, &h, &y);
  int64_t dims[2] = {3, 4};
  rq__tensor *t;
  ck_assert_int_eq(rq__tensor_create("w", RQ__DT_FLOAT, 2, dims, &t), RQ_OK);
  t->dims[1] = 5; /* 60 bytes declared, 48 present */
  ck_assert_int_eq(rq__graph_add_initializer(g, t, &w), RQ_OK);
  g->nodes[1].inputs = rq__realloc(g->nodes[1].inputs, 2 * sizeof(int));
  g->nodes[1].inputs[1] = w;
  g->nodes[1].n_inputs = 2;
  expect_rejected(g, RQ_ERR_FORMAT, "dims need 15 elements (60 bytes) but 48 bytes");
}
END_TEST

START_TEST(test_reject_string_tensor) {
  int x, h, y, w;
  rq_graph *g = two_relus(&x, &h, &y);
  int64_t one = 1;
  rq__tensor *t;
  ck_assert_int_eq(rq__tensor_create("s", RQ__DT_UINT8, 1, &one, &t), RQ_OK);
  t->dtype = RQ__DT_STRING;
  ck_assert_int_eq(rq__graph_add_initializer(g, t, &w), RQ_OK);
  expect_rejected(g, RQ_ERR_UNSUPPORTED, "string tensors");
}
END_TEST

START_TEST(test_reject_opset) {
  int x, h, y;
  rq_graph *g = two_relus(&x, &h, &y);
  g->opsets[0].version = RQ__OPSET_MAX + 1;
  expect_rejected(g, RQ_ERR_UNSUPPORTED, "outside");
}
END_TEST

START_TEST(test_reject_truncated_and_random) {
  FILE *f = fopen(src_path("tests/data/digits_cnn.onnx"), "rb");
  ck_assert_ptr_nonnull(f);
  static unsigned char buf[200000];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  size_t before = rq_memory_in_use();
  /* Cuts at many points, including inside tensors and in the last field. */
  for (size_t cut = 1; cut < n; cut += cut < 64 ? 1 : 997) {
    rq_graph *g = NULL;
    rq_status s = rq_graph_load_buffer(buf, cut, &g);
    ck_assert_msg(s != RQ_OK, "truncated at %zu accepted", cut);
    ck_assert_ptr_null(g);
    ck_assert_msg(rq_last_error()[0] != '\0', "no message at %zu", cut);
    ck_assert_uint_eq(rq_memory_in_use(), before);
  }
  /* Random bytes (fixed seed). */
  unsigned state = 12345;
  for (int round = 0; round < 200; round++) {
    unsigned char junk[512];
    size_t len = 1 + (size_t)round * 2;
    for (size_t i = 0; i < len; i++) {
      state = state * 1103515245u + 12345u;
      junk[i] = (unsigned char)(state >> 16);
    }
    rq_graph *g = NULL;
    rq_status s = rq_graph_load_buffer(junk, len, &g);
    ck_assert_int_ne(s, RQ_OK);
    ck_assert_ptr_null(g);
    ck_assert_uint_eq(rq_memory_in_use(), before);
  }
}
END_TEST

/* Graphs nested in attributes 100000 deep: refused by the depth check before
 * protobuf-c's recursive unpacker could exhaust the stack. */
static size_t put_varint(unsigned char *p, uint64_t v) {
  size_t n = 0;
  do {
    p[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  return n;
}

START_TEST(test_reject_deep_nesting) {
  /* ModelProto.graph(7) { GraphProto.node(1) { NodeProto.attribute(5) {
   * AttributeProto.g(6) { GraphProto ... } } } }, DEPTH messages deep. */
  enum { DEPTH = 30000 };
  static const unsigned char fields[3] = {1, 5, 6};
  size_t *inner = malloc((DEPTH + 1) * sizeof *inner); /* byte length inside level i */
  unsigned char tmp[10];
  inner[DEPTH] = 0;
  for (int i = DEPTH - 1; i >= 0; i--) inner[i] = 1 + put_varint(tmp, inner[i + 1]) + inner[i + 1];
  size_t total = 1 + put_varint(tmp, inner[0]) + inner[0];
  unsigned char *buf = malloc(total), *p = buf;
  *p++ = 7 << 3 | 2;
  p += put_varint(p, inner[0]);
  for (int i = 0; i < DEPTH; i++) {
    *p++ = (unsigned char)(fields[i % 3] << 3 | 2);
    p += put_varint(p, inner[i + 1]);
  }
  ck_assert_uint_eq((size_t)(p - buf), total);
  rq_graph *g = NULL;
  ck_assert_int_eq(rq_graph_load_buffer(buf, total, &g), RQ_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "nested too deeply"));
  free(inner);
  free(buf);
}
END_TEST


/* ------------------------------------------------------------ subgraphs -- */
/* Models with If/Loop/Scan from tests/exec/gen_control.py (expected
 * outputs from ONNX Runtime). */

static const char *const control_cases[] = {"if_outer_ref", "loop_scan_outer_ref", "loop_nested_if",
                                            "loop_m_only", "loop_cond_only", "loop_zero_iterations",
                                            "scan_reverse_axes", "subgraph_only_value", "if_identity_pair",
                                            "loop_m_body_stops"};

static rq_graph *load_control(const char *name) {
  char rel[256];
  snprintf(rel, sizeof rel, "tests/exec/data/control/node/%s/model.onnx", name);
  return load_model(rel);
}

/* Runs g on test_data_set_<set> of control case `name` and compares every
 * output with ONNX Runtime's (relative 1e-5: folding BN into a Conv
 * rounds differently from running them apart). */
static void check_control_run(const rq_graph *g, const char *name, int set) {
  char rel[256];
  DLTensor in[8];
  rq__tensor *held[8];
  size_t n_in = rq_graph_input_count(g);
  ck_assert_uint_le(n_in, 8);
  for (size_t k = 0; k < n_in; k++) {
    snprintf(rel, sizeof rel, "tests/exec/data/control/node/%s/test_data_set_%d/input_%zu.pb", name, set, k);
    ck_assert_msg(rq__tensor_from_proto_file(src_path(rel), &held[k]) == RQ_OK, "%s", rq_last_error());
    memset(&in[k], 0, sizeof in[k]);
    in[k].data = held[k]->data;
    in[k].device.device_type = kDLCPU;
    in[k].ndim = held[k]->ndim;
    in[k].shape = held[k]->dims;
    in[k].dtype = (DLDataType){held[k]->dtype == RQ__DT_FLOAT ? kDLFloat : held[k]->dtype == RQ__DT_INT64 ? kDLInt : kDLUInt,
                               (uint8_t)(rq__dtype_size(held[k]->dtype) * 8), 1};
  }
  rq_tensor_list *out = NULL;
  ck_assert_msg(rq_graph_run(g, NULL, in, n_in, &out) == RQ_OK, "%s: %s", name, rq_last_error());
  for (size_t o = 0; o < rq_tensor_list_count(out); o++) {
    rq__tensor *want;
    const DLTensor *got;
    snprintf(rel, sizeof rel, "tests/exec/data/control/node/%s/test_data_set_%d/output_%zu.pb", name, set, o);
    ck_assert_int_eq(rq__tensor_from_proto_file(src_path(rel), &want), RQ_OK);
    ck_assert_int_eq(rq_tensor_list_get(out, o, NULL, &got), RQ_OK);
    ck_assert_int_eq(got->ndim, want->ndim);
    for (int d = 0; d < want->ndim; d++) ck_assert_int_eq(got->shape[d], want->dims[d]);
    ck_assert_int_eq(want->dtype, RQ__DT_FLOAT);
    for (size_t i = 0; i < want->numel; i++) {
      float w = ((const float *)want->data)[i], y = ((const float *)got->data)[i];
      ck_assert_msg(fabsf(y - w) <= 1e-5f * (1.0f + fabsf(w)), "%s output %zu [%zu]: %g vs %g", name, o, i, y, w);
    }
    rq__tensor_destroy(want);
  }
  rq_tensor_list_destroy(out);
  for (size_t k = 0; k < n_in; k++) rq__tensor_destroy(held[k]);
}

START_TEST(test_subgraph_roundtrip) {
  size_t before = rq_memory_in_use();
  for (size_t c = 0; c < sizeof control_cases / sizeof *control_cases; c++) {
    rq_graph *a = load_control(control_cases[c]), *b = NULL;
    void *d1, *d2;
    size_t n1, n2;
    ck_assert_int_eq(rq__graph_serialize(a, &d1, &n1), RQ_OK);
    ck_assert_msg(rq_graph_load_buffer(d1, n1, &b) == RQ_OK, "%s: %s", control_cases[c], rq_last_error());
    ck_assert_msg(rq__graph_fingerprint(a) == rq__graph_fingerprint(b), "%s", control_cases[c]);
    ck_assert_int_eq(rq__graph_serialize(b, &d2, &n2), RQ_OK);
    ck_assert_uint_eq(n1, n2);
    ck_assert_int_eq(memcmp(d1, d2, n1), 0);
    check_control_run(b, control_cases[c], 0);
    rq__free(d1);
    rq__free(d2);
    rq_graph_destroy(a);
    rq_graph_destroy(b);
  }
  ck_assert_uint_eq(rq_memory_in_use(), before);
}
END_TEST

START_TEST(test_subgraph_fingerprint_and_implicit_inputs) {
  rq_graph *g = load_control("if_outer_ref");
  /* The If reads x and w from its branches: two implicit inputs after cond. */
  ck_assert_int_eq(g->n_nodes, 1);
  const rq__node *n = &g->nodes[0];
  ck_assert_int_eq(n->n_implicit, 2);
  ck_assert_int_eq(rq__node_n_explicit(n), 1);
  ck_assert_str_eq(g->values[n->inputs[1]].name, "x");
  ck_assert_str_eq(g->values[n->inputs[2]].name, "w");
  ck_assert_int_eq(rq__graph_consumers(g, rq__graph_find_value(g, "w"), NULL, 0), 1);
  /* Swapping the branches is a different model. */
  uint64_t fp = rq__graph_fingerprint(g);
  rq__attr *then_a = &g->nodes[0].attrs[0], *else_a = &g->nodes[0].attrs[1];
  rq_graph *tmp = then_a->g;
  then_a->g = else_a->g;
  else_a->g = tmp;
  ck_assert_uint_ne(rq__graph_fingerprint(g), fp);
  rq_graph_destroy(g);
  /* Two scopes up: the nested If's reference to 'a' makes the Loop read it. */
  g = load_control("loop_nested_if");
  int a = rq__graph_find_value(g, "a"), loop;
  ck_assert_int_ge(a, 0);
  ck_assert_int_eq(rq__graph_consumers(g, a, &loop, 1), 1);
  ck_assert_str_eq(g->nodes[loop].op_type, "Loop");
  ck_assert_int_eq(g->nodes[loop].n_implicit, 1);
  rq_graph_destroy(g);
}
END_TEST

/* Values only a subgraph reads survive every pass, and the graph still
 * computes ONNX Runtime's outputs after them and after a save/reload. */
static void passes_keep(const char *name, int n_sets, int want_nodes) {
  rq_graph *g = load_control(name);
  int count;
  ck_assert_int_eq(rq__pass_fold_constants(g, &count), RQ_OK);
  ck_assert_int_eq(rq__pass_fold_batchnorm(g, &count), RQ_OK);
  ck_assert_int_eq(rq__graph_remove_dead(g, &count), RQ_OK);
  ck_assert_int_eq(count, 0);
  rq__fusion *f;
  int n_f;
  ck_assert_int_eq(rq__graph_find_fusions(g, &f, &n_f), RQ_OK);
  rq__free(f);
  ck_assert_int_eq(rq__pass_infer_shapes(g, &count), RQ_OK);
  ck_assert_int_eq(g->n_nodes, want_nodes);
  for (int s = 0; s < n_sets; s++) check_control_run(g, name, s);
  void *d;
  size_t n;
  rq_graph *b = NULL;
  ck_assert_int_eq(rq__graph_serialize(g, &d, &n), RQ_OK);
  ck_assert_msg(rq_graph_load_buffer(d, n, &b) == RQ_OK, "%s: %s", name, rq_last_error());
  ck_assert_uint_eq(rq__graph_fingerprint(g), rq__graph_fingerprint(b));
  for (int s = 0; s < n_sets; s++) check_control_run(b, name, s);
  rq__free(d);
  rq_graph_destroy(b);
  rq_graph_destroy(g);
}

START_TEST(test_passes_keep_subgraph_values) {
  size_t before = rq_memory_in_use();
  /* Conv+BN folds and the Identity goes (both rewire what the If's
   * branches read); Conv, ReduceSum, Greater, If remain. */
  passes_keep("subgraph_only_value", 2, 4);
  /* The Neg only the nested If reads stays. */
  passes_keep("loop_nested_if", 1, 2);
  passes_keep("loop_scan_outer_ref", 1, 1);
  /* The Identity goes: its two references (x, x_copy) become one slot. */
  rq_graph *g = load_control("if_identity_pair");
  int if_node = g->n_nodes - 1;
  ck_assert_str_eq(g->nodes[if_node].op_type, "If");
  ck_assert_int_eq(g->nodes[if_node].n_implicit, 3);
  ck_assert_int_eq(rq__pass_fold_constants(g, NULL), RQ_OK);
  if_node = g->n_nodes - 1;
  ck_assert_int_eq(g->nodes[if_node].n_implicit, 2);
  rq_graph_destroy(g);
  passes_keep("if_identity_pair", 2, 2);
  ck_assert_uint_eq(rq_memory_in_use(), before);
}
END_TEST

/* An outer value renamed to a name a branch uses for a local value: the
 * saved model must still read the outer one (the local is written under a
 * fresh name). */
START_TEST(test_outer_rename_onto_local_name) {
  rq_graph *g = load_control("if_outer_ref"), *b = NULL;
  ck_assert_int_eq(rq__graph_rename_value(g, rq__graph_find_value(g, "w"), "e_mid"), RQ_OK);
  void *d;
  size_t n;
  ck_assert_int_eq(rq__graph_serialize(g, &d, &n), RQ_OK);
  ck_assert_msg(rq_graph_load_buffer(d, n, &b) == RQ_OK, "%s", rq_last_error());
  ck_assert_uint_eq(rq__graph_fingerprint(g), rq__graph_fingerprint(b));
  check_control_run(b, "if_outer_ref", 0);
  check_control_run(b, "if_outer_ref", 1);
  rq__free(d);
  rq_graph_destroy(b);
  rq_graph_destroy(g);
}
END_TEST

START_TEST(test_reject_subgraph_nesting) {
  /* gen_hostile.py: If branches nested one level deeper than the limit,
   * and exactly at the limit. */
  rq_graph *g = NULL;
  size_t before = rq_memory_in_use();
  ck_assert_int_eq(rq_graph_load(src_path("tests/exec/data/hostile_if_too_deep.onnx"), &g), RQ_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "subgraphs nest deeper than 16 levels"));
  ck_assert_ptr_null(g);
  g = load_model("tests/exec/data/hostile_if_deepest.onnx");
  rq_graph_destroy(g);
  ck_assert_uint_eq(rq_memory_in_use(), before);
}
END_TEST

/* --------------------------------------------------- sequence / optional -- */

static rq_graph *reload(const rq_graph *g) {
  void *d;
  size_t n;
  ck_assert_int_eq(rq__graph_serialize(g, &d, &n), RQ_OK);
  rq_graph *g2 = NULL;
  ck_assert_msg(rq_graph_load_buffer(d, n, &g2) == RQ_OK, "%s", rq_last_error());
  rq__free(d);
  return g2;
}

/* Value kinds as tests/exec/gen_sequence.py declares them (the oracle is
 * the model file: onnx's API compares every libonnx-testdata model the same
 * way in tests/onnx/check_testdata.py). They survive serialize + reload
 * with the fingerprint, and the fingerprint sees them. */
START_TEST(test_sequence_types_round_trip) {
  rq_graph *g = NULL;
  ck_assert_int_eq(rq_graph_load(src_path("tests/exec/data/sequence/node/sequence_input/model.onnx"), &g), RQ_OK);
  const rq__value *s = &g->values[g->inputs[0]];
  ck_assert_int_eq(s->kind, RQ__KIND_SEQUENCE); /* seq(tensor(float)), element shape undeclared */
  ck_assert_int_eq(s->dtype, RQ__DT_FLOAT);
  ck_assert_int_eq(s->shape.ndim, -1);
  ck_assert_int_eq(g->values[g->outputs[0]].kind, RQ__KIND_TENSOR);
  rq_graph *g2 = reload(g);
  ck_assert_int_eq(g2->values[g2->inputs[0]].kind, RQ__KIND_SEQUENCE);
  ck_assert_int_eq(g2->values[g2->inputs[0]].dtype, RQ__DT_FLOAT);
  ck_assert_uint_eq(rq__graph_fingerprint(g2), rq__graph_fingerprint(g));
  /* The same model with a tensor input is another model. */
  uint64_t fp = rq__graph_fingerprint(g);
  g->values[g->inputs[0]].kind = RQ__KIND_TENSOR;
  ck_assert_uint_ne(rq__graph_fingerprint(g), fp);
  rq_graph_destroy(g2);
  rq_graph_destroy(g);

  /* A Loop body carrying a sequence: the subgraph's input and output. */
  ck_assert_int_eq(rq_graph_load(src_path("tests/exec/data/sequence/node/loop_carries_sequence/model.onnx"), &g),
                   RQ_OK);
  const rq__node *loop = NULL;
  for (int i = 0; i < g->n_nodes; i++)
    if (strcmp(g->nodes[i].op_type, "Loop") == 0) loop = &g->nodes[i];
  ck_assert_ptr_nonnull(loop);
  const rq_graph *body = rq__node_attr(loop, "body")->g;
  ck_assert_int_eq(body->values[body->inputs[2]].kind, RQ__KIND_SEQUENCE);
  ck_assert_int_eq(body->values[body->outputs[1]].kind, RQ__KIND_SEQUENCE);
  g2 = reload(g);
  ck_assert_uint_eq(rq__graph_fingerprint(g2), rq__graph_fingerprint(g));
  for (int i = 0; i < g2->n_nodes; i++)
    if (strcmp(g2->nodes[i].op_type, "Loop") == 0) loop = &g2->nodes[i];
  body = rq__node_attr(loop, "body")->g;
  ck_assert_int_eq(body->values[body->inputs[2]].kind, RQ__KIND_SEQUENCE);
  /* Shape inference marks the sequence edges the model left undeclared
   * (SequenceEmpty's output, the Loop's), so the quantizer never takes
   * them for float tensors. */
  ck_assert_int_eq(rq__pass_infer_shapes(g2, NULL), RQ_OK);
  for (int i = 0; i < g2->n_nodes; i++) {
    const rq__node *n = &g2->nodes[i];
    if (strcmp(n->op_type, "SequenceEmpty") == 0 || strcmp(n->op_type, "Loop") == 0) {
      ck_assert_int_eq(g2->values[n->outputs[0]].kind, RQ__KIND_SEQUENCE);
      ck_assert_int_eq(g2->values[n->outputs[0]].dtype, RQ__DT_FLOAT);
    }
  }
  rq_graph_destroy(g2);
  rq_graph_destroy(g);
}
END_TEST

/* Optional's TYPE_PROTO attribute (tests/exec/gen_hostile.py declares
 * optional(tensor(float))): loaded, saved back byte for byte. */
START_TEST(test_type_proto_attribute_round_trip) {
  rq_graph *g = NULL;
  ck_assert_int_eq(rq_graph_load(src_path("tests/exec/data/hostile_optional_get_empty.onnx"), &g), RQ_OK);
  const rq__attr *a = NULL;
  for (int i = 0; i < g->n_nodes; i++)
    if (strcmp(g->nodes[i].op_type, "Optional") == 0) a = rq__node_attr(&g->nodes[i], "type");
  ck_assert_ptr_nonnull(a);
  ck_assert_int_eq(a->type, RQ__ATTR_TYPE_PROTO);
  ck_assert_int_eq(a->ints[0], RQ__KIND_TENSOR); /* the type the optional holds: tensor(float) */
  ck_assert_int_eq(a->ints[2], RQ__DT_FLOAT);
  rq_graph *g2 = reload(g);
  const rq__attr *b = NULL;
  for (int i = 0; i < g2->n_nodes; i++)
    if (strcmp(g2->nodes[i].op_type, "Optional") == 0) b = rq__node_attr(&g2->nodes[i], "type");
  ck_assert_ptr_nonnull(b);
  ck_assert_uint_eq(b->s_len, a->s_len);
  ck_assert_int_eq(memcmp(b->s, a->s, a->s_len), 0);
  ck_assert_uint_eq(rq__graph_fingerprint(g2), rq__graph_fingerprint(g));
  rq_graph_destroy(g2);
  rq_graph_destroy(g);
}
END_TEST

/* SequenceProto test data (tests/exec/gen_sequence.py writes the sequence
 * input of its sequence_input case with onnx's numpy_helper.from_list:
 * three FLOAT tensors of shapes [2], [3, 1], [4]). Every truncation of the
 * file fails cleanly; read as an OptionalProto it holds too many values. */
START_TEST(test_sequence_proto_file) {
  const char *path = src_path("tests/exec/data/sequence/node/sequence_input/test_data_set_0/input_0.pb");
  rq__tensor *s = NULL;
  ck_assert_msg(rq__value_from_proto_file(path, RQ__KIND_SEQUENCE, &s) == RQ_OK, "%s", rq_last_error());
  ck_assert_int_eq(s->kind, RQ__KIND_SEQUENCE);
  ck_assert_int_eq(s->dtype, RQ__DT_FLOAT);
  ck_assert_uint_eq(s->n_items, 3);
  const int want_ndim[3] = {1, 2, 1};
  const int64_t want_dim0[3] = {2, 3, 4};
  for (size_t i = 0; i < 3; i++) {
    ck_assert_int_eq(s->items[i]->kind, RQ__KIND_TENSOR);
    ck_assert_int_eq(s->items[i]->ndim, want_ndim[i]);
    ck_assert_int_eq(s->items[i]->dims[0], want_dim0[i]);
  }
  rq__tensor *copy = NULL;
  ck_assert_int_eq(rq__tensor_clone(s, &copy), RQ_OK);
  ck_assert_uint_eq(copy->n_items, 3);
  ck_assert_int_eq(memcmp(copy->items[2]->data, s->items[2]->data, s->items[2]->nbytes), 0);
  rq__tensor_destroy(copy);
  rq__tensor_destroy(s);

  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  unsigned char buf[4096];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  ck_assert_uint_lt(n, sizeof buf);
  rq__tensor *opt = NULL;
  ck_assert_int_eq(rq__value_from_proto_buffer(buf, n, RQ__KIND_OPTIONAL, &opt), RQ_ERR_FORMAT);
  ck_assert_ptr_null(opt);
  size_t before = rq_memory_in_use();
  for (size_t cut = 1; cut < n; cut++) {
    rq__tensor *t = NULL;
    rq_status st = rq__value_from_proto_buffer(buf, cut, RQ__KIND_SEQUENCE, &t);
    /* A cut between two items is a shorter, valid sequence. */
    if (st == RQ_OK) {
      ck_assert_uint_lt(t->n_items, 3);
      rq__tensor_destroy(t);
    } else {
      ck_assert_ptr_null(t);
    }
  }
  ck_assert_uint_eq(rq_memory_in_use(), before);
}
END_TEST

START_TEST(test_tensor_proto_file) {
  /* A TensorProto written by the graph writer for an initializer round-trips
   * through rq__tensor_from_proto_buffer; garbage is refused. */
  rq__tensor *t;
  ck_assert_int_eq(rq__tensor_from_proto_buffer("\xff\xff", 2, &t), RQ_ERR_FORMAT);
  ck_assert_ptr_null(t);
  ck_assert_int_eq(rq__tensor_from_proto_file(src_path("tests/data/does-not-exist.pb"), &t), RQ_ERR_IO);
  /* dims {2,3}, data_type FLOAT (1), raw_data 24 bytes (hand-encoded) */
  unsigned char pb[64];
  size_t n = 0;
  pb[n++] = 0x08; pb[n++] = 2; /* dims: 2 */
  pb[n++] = 0x08; pb[n++] = 3; /* dims: 3 */
  pb[n++] = 0x10; pb[n++] = 1; /* data_type: FLOAT */
  pb[n++] = 0x4a; pb[n++] = 24; /* raw_data (field 9) */
  for (int i = 0; i < 6; i++) {
    float v = (float)i * 0.5f;
    memcpy(pb + n, &v, 4);
    n += 4;
  }
  ck_assert_int_eq(rq__tensor_from_proto_buffer(pb, n, &t), RQ_OK);
  ck_assert_int_eq(t->ndim, 2);
  ck_assert_uint_eq(t->numel, 6);
  ck_assert_float_eq(((float *)t->data)[5], 2.5f);
  rq__tensor_destroy(t);
  /* The same with one byte of data missing. */
  pb[7] = 23;
  ck_assert_int_eq(rq__tensor_from_proto_buffer(pb, n - 1, &t), RQ_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "6 elements"));
}
END_TEST

START_TEST(test_public_api_arguments) {
  rq_graph *g = (rq_graph *)1;
  ck_assert_int_eq(rq_graph_load(NULL, &g), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_graph_load("x", NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_graph_load(src_path("tests/data/no-such.onnx"), &g), RQ_ERR_IO);
  ck_assert_ptr_null(g);
  ck_assert_int_eq(rq_graph_load_buffer(NULL, 3, &g), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_graph_save(NULL, "x"), RQ_ERR_INVALID_ARG);
  rq_graph_destroy(NULL);
  g = load_model("tests/data/digits_mlp.onnx");
  ck_assert_int_eq(rq_graph_save(g, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_graph_save(g, "/nonexistent-dir/x.onnx"), RQ_ERR_IO);
  ck_assert_int_eq(rq_graph_node_info(g, 1000, NULL, NULL), RQ_ERR_INVALID_ARG);
  rq_value_info info;
  ck_assert_int_eq(rq_value_info_init(&info, sizeof info + 8), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_value_info_init(&info, sizeof info), RQ_OK);
  ck_assert_int_eq(rq_graph_input_info(g, 5, &info), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_graph_fingerprint(g, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_str_eq(rq_onnx_type_name(1), "FLOAT");
  /* TensorProto.DataType of ONNX 1.14 and 1.16 (onnx.proto), named in refusals. */
  ck_assert_str_eq(rq_onnx_type_name(17), "FLOAT8E4M3FN");
  ck_assert_str_eq(rq_onnx_type_name(20), "FLOAT8E5M2FNUZ");
  ck_assert_str_eq(rq_onnx_type_name(22), "INT4");
  ck_assert_str_eq(rq_onnx_type_name(99), "?");
  rq_graph_destroy(g);
}
END_TEST

static Suite *graph_suite(void) {
  Suite *s = suite_create("graph");
  TCase *tc = tcase_create("graph");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_digits_models_match_onnx);
  tcase_add_test(tc, test_symbolic_dims);
  tcase_add_test(tc, test_tensor_shapes_must_multiply_without_overflow);
  tcase_add_test(tc, test_save_reload_roundtrip);
  tcase_add_test(tc, test_save_external_data);
  tcase_add_test(tc, test_fingerprint_tracks_weights_not_names);
  tcase_add_test(tc, test_fold_bn_conv);
  tcase_add_test(tc, test_fold_bn_gemm);
  tcase_add_test(tc, test_fusions_mlp);
  tcase_add_test(tc, test_constant_and_identity);
  tcase_add_test(tc, test_remove_noop_pads);
  tcase_add_test(tc, test_remove_identity_before_two_outputs);
  tcase_add_test(tc, test_insert_qdq_pair);
  tcase_add_test(tc, test_insert_on_edge_and_remove_dead);
  tcase_add_test(tc, test_external_data);
  tcase_add_test(tc, test_valid_handmade_graph_loads);
  tcase_add_test(tc, test_reject_cycle);
  tcase_add_test(tc, test_reject_dangling_input);
  tcase_add_test(tc, test_reject_dangling_output);
  tcase_add_test(tc, test_reject_duplicate_output);
  tcase_add_test(tc, test_reject_huge_declared_size);
  tcase_add_test(tc, test_reject_size_mismatch);
  tcase_add_test(tc, test_reject_string_tensor);
  tcase_add_test(tc, test_reject_opset);
  tcase_add_test(tc, test_reject_truncated_and_random);
  tcase_add_test(tc, test_reject_deep_nesting);
  tcase_add_test(tc, test_subgraph_roundtrip);
  tcase_add_test(tc, test_subgraph_fingerprint_and_implicit_inputs);
  tcase_add_test(tc, test_passes_keep_subgraph_values);
  tcase_add_test(tc, test_outer_rename_onto_local_name);
  tcase_add_test(tc, test_reject_subgraph_nesting);
  tcase_add_test(tc, test_tensor_proto_file);
  tcase_add_test(tc, test_sequence_types_round_trip);
  tcase_add_test(tc, test_sequence_proto_file);
  tcase_add_test(tc, test_type_proto_attribute_round_trip);
  tcase_add_test(tc, test_public_api_arguments);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(graph_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
