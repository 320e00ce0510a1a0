/* SPDX-License-Identifier: Apache-2.0 */
/* Sessions on a real model (the shared digits MLP): calibration tables and
 * TensorRT caches round-trip and are refused for another model or config,
 * sharded calibration merges to what one process gets, engines can feed
 * observers directly, bias correction and AdaRound do what they say, and
 * misuse is refused without changing state. */
#include "session/session_internal.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qconfig.h"

static char data_dir[4096];

static const char *path_of(const char *name) {
  static char buf[4][4200];
  static int next;
  char *p = buf[next++ % 4];
  snprintf(p, 4200, "%s/%s", data_dir, name);
  return p;
}

/* A quantizer like issue #6's example, with activation observer and
 * calibration style as given. */
static rq_quantizer *quantizer(const char *a_observer, const char *a_extra, bool with_fake_quant) {
  char cfg[2048];
  snprintf(cfg, sizeof cfg,
           "{\"global_qconfig\": {"
           "\"w_observer\": {\"type\": \"mmrazor.PerChannelMinMaxObserver\"},"
           "\"a_observer\": {\"type\": \"mmrazor.%s\"},"
           "\"w_fake_quant\": {\"type\": \"mmrazor.FakeQuantize\"}, \"a_fake_quant\": {\"type\": \"mmrazor.FakeQuantize\"},"
           "\"w_qscheme\": {\"qdtype\": \"qint8\", \"bit\": 8, \"is_symmetry\": true, \"is_symmetric_range\": true},"
           "\"a_qscheme\": {\"qdtype\": \"quint8\", \"bit\": 8, \"is_symmetry\": true%s}},"
           "\"quantizer\": {\"type\": \"mmrazor.OpenVINOQuantizer\"}, \"calibrate_with_fake_quant\": %s}",
           a_observer, a_extra, with_fake_quant ? "true" : "false");
  rq_quantizer *q;
  ck_assert_msg(rq_quantizer_create(cfg, &q) == RQ_OK, "%s", rq_last_error());
  return q;
}

typedef struct fixture {
  rq_graph *model;
  rq_npy *calib, *test;
  DLTensor calib_x, test_x;
} fixture;

static void fixture_load(fixture *f) {
  ck_assert_msg(rq_graph_load(path_of("digits_mlp.onnx"), &f->model) == RQ_OK, "%s", rq_last_error());
  ck_assert_int_eq(rq_npy_load(path_of("digits_calib_x.npy"), &f->calib), RQ_OK);
  ck_assert_int_eq(rq_npy_load(path_of("digits_test_x.npy"), &f->test), RQ_OK);
  rq_npy_dltensor(f->calib, &f->calib_x);
  rq_npy_dltensor(f->test, &f->test_x);
}

static void fixture_free(fixture *f) {
  rq_graph_destroy(f->model);
  rq_npy_destroy(f->calib);
  rq_npy_destroy(f->test);
}

static DLTensor rows(const DLTensor *all, int64_t first, int64_t count, int64_t *shape) {
  DLTensor v = *all;
  for (int d = 0; d < all->ndim; d++) shape[d] = all->shape[d];
  shape[0] = count;
  v.shape = shape;
  v.byte_offset = (uint64_t)(first * 64 * (int64_t)sizeof(float));
  return v;
}

static void calibrate(rq_session *s, const DLTensor *x, int64_t first, int64_t last) {
  int64_t shape[4];
  for (int64_t b = first; b < last; b += 32) {
    DLTensor batch = rows(x, b, b + 32 <= last ? 32 : last - b, shape);
    ck_assert_msg(rq_session_calibrate(s, &batch, 1) == RQ_OK, "%s", rq_last_error());
  }
}

static rq_tensor_list *run(rq_session *s, const DLTensor *x) {
  rq_tensor_list *out;
  ck_assert_msg(rq_session_run(s, x, 1, &out) == RQ_OK, "%s", rq_last_error());
  return out;
}

static void assert_same_outputs(rq_tensor_list *a, rq_tensor_list *b) {
  const DLTensor *ta, *tb;
  rq_tensor_list_get(a, 0, NULL, &ta);
  rq_tensor_list_get(b, 0, NULL, &tb);
  ck_assert_int_eq(ta->ndim, tb->ndim);
  size_t n = 1;
  for (int d = 0; d < ta->ndim; d++) {
    ck_assert_int_eq(ta->shape[d], tb->shape[d]);
    n *= (size_t)ta->shape[d];
  }
  ck_assert_int_eq(memcmp(ta->data, tb->data, n * sizeof(float)), 0);
}

static void assert_same_qparams(rq_session *a, rq_session *b) {
  ck_assert_uint_eq(rq_session_point_count(a), rq_session_point_count(b));
  for (size_t i = 0; i < rq_session_point_count(a); i++) {
    rq_fake_quant *fa, *fb;
    const char *ea, *eb;
    rq_session_point_info(a, i, &ea, NULL, &fa);
    rq_session_point_info(b, i, &eb, NULL, &fb);
    ck_assert_str_eq(ea, eb);
    float sa[1024], sb[1024], za[1024], zb[1024];
    size_t na, nb;
    ck_assert_int_eq(rq_fake_quant_get_params(fa, sa, za, 1024, &na), RQ_OK);
    ck_assert_int_eq(rq_fake_quant_get_params(fb, sb, zb, 1024, &nb), RQ_OK);
    ck_assert_uint_eq(na, nb);
    for (size_t c = 0; c < na; c++) {
      ck_assert_msg(sa[c] == sb[c] && za[c] == zb[c], "%s[%zu]: %g/%g vs %g/%g", ea, c, (double)sa[c], (double)za[c],
                    (double)sb[c], (double)zb[c]);
    }
  }
}

START_TEST(calibration_table_round_trips_and_is_bound_to_model_and_config) {
  fixture f;
  fixture_load(&f);
  rq_quantizer *q = quantizer("MovingAverageMinMaxObserver", ", \"averaging_constant\": 0.1", true);
  rq_session *calibrated, *loaded;
  ck_assert_int_eq(rq_quantizer_prepare(q, f.model, &calibrated), RQ_OK);
  calibrate(calibrated, &f.calib_x, 0, f.calib_x.shape[0]);
  ck_assert_int_eq(rq_session_convert(calibrated), RQ_OK);
  char table[] = "/tmp/rq_table_XXXXXX";
  close(mkstemp(table));
  ck_assert_msg(rq_session_save_calibration(calibrated, table) == RQ_OK, "%s", rq_last_error());

  ck_assert_int_eq(rq_quantizer_prepare(q, f.model, &loaded), RQ_OK);
  ck_assert_msg(rq_session_load_calibration(loaded, table) == RQ_OK, "%s", rq_last_error());
  assert_same_qparams(calibrated, loaded);
  rq_tensor_list *a = run(calibrated, &f.test_x), *b = run(loaded, &f.test_x);
  assert_same_outputs(a, b);
  rq_tensor_list_destroy(a);
  rq_tensor_list_destroy(b);
  rq_session_destroy(loaded);

  /* Another config (another averaging constant): refused, session untouched. */
  rq_quantizer *other = quantizer("MovingAverageMinMaxObserver", ", \"averaging_constant\": 0.2", true);
  ck_assert_int_eq(rq_quantizer_prepare(other, f.model, &loaded), RQ_OK);
  ck_assert_int_eq(rq_session_load_calibration(loaded, table), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "another quantization config"));
  ck_assert_int_eq(loaded->state, RQ__SESSION_PREPARED);
  rq_session_destroy(loaded);
  rq_quantizer_destroy(other);

  /* Another model: refused. */
  rq_graph *cnn;
  ck_assert_int_eq(rq_graph_load(path_of("digits_cnn.onnx"), &cnn), RQ_OK);
  ck_assert_int_eq(rq_quantizer_prepare(q, cnn, &loaded), RQ_OK);
  ck_assert_int_eq(rq_session_load_calibration(loaded, table), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "another model"));
  rq_session_destroy(loaded);
  rq_graph_destroy(cnn);

  /* A flipped byte in the payload: checksum. Truncation: format. */
  FILE *fp = fopen(table, "r+b");
  fseek(fp, -3, SEEK_END);
  int c = fgetc(fp);
  fseek(fp, -3, SEEK_END);
  fputc(c ^ 0x40, fp);
  fclose(fp);
  ck_assert_int_eq(rq_quantizer_prepare(q, f.model, &loaded), RQ_OK);
  ck_assert_int_eq(rq_session_load_calibration(loaded, table), RQ_ERR_CHECKSUM);
  ck_assert_int_eq(truncate(table, 20), 0);
  ck_assert_int_eq(rq_session_load_calibration(loaded, table), RQ_ERR_FORMAT);
  ck_assert_int_eq(rq_session_load_calibration(loaded, "/nonexistent/table"), RQ_ERR_IO);
  ck_assert_int_eq(loaded->state, RQ__SESSION_PREPARED);
  rq_session_destroy(loaded);
  unlink(table);
  rq_session_destroy(calibrated);
  rq_quantizer_destroy(q);
  fixture_free(&f);
}
END_TEST

START_TEST(sharded_calibration_merges_exactly) {
  /* With min/max observers on the float model, each shard's statistics are
   * a plain min/max, so merging two halves equals calibrating on all. */
  fixture f;
  fixture_load(&f);
  rq_quantizer *q = quantizer("MinMaxObserver", "", false);
  rq_session *whole, *shard_a, *shard_b;
  ck_assert_int_eq(rq_quantizer_prepare(q, f.model, &whole), RQ_OK);
  ck_assert_int_eq(rq_quantizer_prepare(q, f.model, &shard_a), RQ_OK);
  ck_assert_int_eq(rq_quantizer_prepare(q, f.model, &shard_b), RQ_OK);
  int64_t n = f.calib_x.shape[0], half = 160;
  calibrate(whole, &f.calib_x, 0, n);
  calibrate(shard_a, &f.calib_x, 0, half);
  calibrate(shard_b, &f.calib_x, half, n);
  char state[] = "/tmp/rq_state_XXXXXX";
  close(mkstemp(state));
  ck_assert_msg(rq_session_save_state(shard_b, state) == RQ_OK, "%s", rq_last_error());
  ck_assert_msg(rq_session_merge(shard_a, state) == RQ_OK, "%s", rq_last_error());
  ck_assert_int_eq(rq_session_convert(whole), RQ_OK);
  ck_assert_int_eq(rq_session_convert(shard_a), RQ_OK);
  assert_same_qparams(whole, shard_a);
  /* After convert, merging is refused. */
  ck_assert_int_eq(rq_session_merge(shard_a, state), RQ_ERR_STATE);
  /* A state file is not a calibration table. */
  ck_assert_int_eq(rq_session_load_calibration(shard_b, state), RQ_ERR_FORMAT);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "session state, not a calibration table"));
  unlink(state);
  rq_session_destroy(whole);
  rq_session_destroy(shard_a);
  rq_session_destroy(shard_b);
  rq_quantizer_destroy(q);
  fixture_free(&f);
}
END_TEST

/* The "engine" below is razorq's executor without fake-quants, standing in
 * for an inference engine's own kernels: it hands each computed edge over. */
static rq_status forward_to_session(void *user, const char *edge, DLTensor *value) {
  return rq_session_observe(user, edge, value);
}

START_TEST(engines_feed_observers_directly) {
  /* Feeding the edges through rq_session_observe gives the same qparams as
   * calibrating through the executor's hooks (float-model calibration). */
  fixture f;
  fixture_load(&f);
  rq_quantizer *q = quantizer("MinMaxObserver", "", false);
  rq_session *by_executor, *by_engine;
  ck_assert_int_eq(rq_quantizer_prepare(q, f.model, &by_executor), RQ_OK);
  ck_assert_int_eq(rq_quantizer_prepare(q, f.model, &by_engine), RQ_OK);
  calibrate(by_executor, &f.calib_x, 0, f.calib_x.shape[0]);
  const char *edges[16];
  size_t n_edges = 0;
  for (size_t i = 0; i < rq_session_point_count(by_engine) && n_edges < 16; i++) {
    bool is_weight;
    rq_session_point_info(by_engine, i, &edges[n_edges], &is_weight, NULL);
    if (!is_weight) n_edges++;
  }
  ck_assert_uint_eq(n_edges, 3);
  rq_exec_options opts;
  rq_exec_options_init(&opts, sizeof opts);
  opts.hook = forward_to_session;
  opts.hook_user = by_engine;
  opts.hook_edges = edges;
  opts.n_hook_edges = n_edges;
  /* In the same batches: a GEMM's rounding may depend on the batch size. */
  int64_t shape[4];
  for (int64_t b = 0; b < f.calib_x.shape[0]; b += 32) {
    DLTensor batch = rows(&f.calib_x, b, b + 32 <= f.calib_x.shape[0] ? 32 : f.calib_x.shape[0] - b, shape);
    rq_tensor_list *out = NULL;
    ck_assert_msg(rq_graph_run(rq_session_graph(by_engine), &opts, &batch, 1, &out) == RQ_OK, "%s",
                  rq_last_error());
    rq_tensor_list_destroy(out);
  }
  ck_assert_int_eq(rq_session_observe(by_executor, "no-such-edge", &f.calib_x), RQ_ERR_NOT_FOUND);
  ck_assert_int_eq(rq_session_observe(by_executor, NULL, &f.calib_x), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_session_convert(by_executor), RQ_OK);
  ck_assert_int_eq(rq_session_convert(by_engine), RQ_OK);
  assert_same_qparams(by_executor, by_engine);
  ck_assert_int_eq(rq_session_observe(by_engine, edges[0], &f.calib_x), RQ_ERR_STATE);
  rq_session_destroy(by_executor);
  rq_session_destroy(by_engine);
  rq_quantizer_destroy(q);
  fixture_free(&f);
}
END_TEST

START_TEST(trt_cache_holds_amax_over_127) {
  fixture f;
  fixture_load(&f);
  char cache[] = "/tmp/rq_trt_XXXXXX";
  close(mkstemp(cache));
  /* quint8 activations (openvino) have no TensorRT scale: refused, nothing written. */
  rq_quantizer *q = quantizer("MinMaxObserver", "", false);
  rq_session *s;
  ck_assert_int_eq(rq_quantizer_prepare(q, f.model, &s), RQ_OK);
  calibrate(s, &f.calib_x, 0, f.calib_x.shape[0]);
  ck_assert_int_eq(rq_session_convert(s), RQ_OK);
  ck_assert_int_eq(rq_session_save_trt_cache(s, cache), RQ_ERR_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "edge 'input' is quantized to [0, 255]"));
  struct stat st;
  ck_assert_int_eq(stat(cache, &st), 0);
  ck_assert_int_eq(st.st_size, 0);
  rq_session_destroy(s);
  rq_quantizer_destroy(q);

  ck_assert_msg(rq_quantizer_create("{\"global_qconfig\": {"
                                    "\"w_observer\": {\"type\": \"mmrazor.PerChannelMinMaxObserver\"},"
                                    "\"a_observer\": {\"type\": \"mmrazor.MinMaxObserver\"},"
                                    "\"w_fake_quant\": {\"type\": \"mmrazor.FakeQuantize\"},"
                                    "\"a_fake_quant\": {\"type\": \"mmrazor.FakeQuantize\"},"
                                    "\"w_qscheme\": {\"qdtype\": \"qint8\", \"bit\": 8, \"is_symmetry\": true,"
                                    " \"is_symmetric_range\": true},"
                                    "\"a_qscheme\": {\"qdtype\": \"qint8\", \"bit\": 8, \"is_symmetry\": true,"
                                    " \"is_symmetric_range\": true}},"
                                    "\"quantizer\": {\"type\": \"mmrazor.TensorRTQuantizer\"},"
                                    "\"calibrate_with_fake_quant\": false}", &q) == RQ_OK, "%s", rq_last_error());
  ck_assert_int_eq(rq_quantizer_prepare(q, f.model, &s), RQ_OK);
  calibrate(s, &f.calib_x, 0, f.calib_x.shape[0]);
  ck_assert_int_eq(rq_session_save_trt_cache(s, cache), RQ_ERR_STATE);
  ck_assert_int_eq(rq_session_convert(s), RQ_OK);
  ck_assert_msg(rq_session_save_trt_cache(s, cache) == RQ_OK, "%s", rq_last_error());
  FILE *fp = fopen(cache, "r");
  char line[512];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, fp));
  ck_assert_str_eq(line, "TRT-8601-MinMaxCalibration\n");
  /* The graph input's amax is the largest |x| of the calibration data. */
  const float *x = f.calib_x.data;
  float amax = 0;
  for (int64_t i = 0; i < f.calib_x.shape[0] * 64; i++) amax = x[i] > amax ? x[i] : (-x[i] > amax ? -x[i] : amax);
  float expected = amax / 127.0f;
  uint32_t bits;
  memcpy(&bits, &expected, 4);
  char want[64];
  snprintf(want, sizeof want, "input: %08x\n", bits);
  bool found = false;
  int lines = 0;
  while (fgets(line, sizeof line, fp) != NULL) {
    lines++;
    found |= strcmp(line, want) == 0;
  }
  fclose(fp);
  ck_assert_msg(found, "no line '%s'", want);
  ck_assert_int_eq(lines, 3); /* the inputs of the three Gemms (the first one moved before the Flatten) */
  unlink(cache);
  rq_session_destroy(s);
  rq_quantizer_destroy(q);
  fixture_free(&f);
}
END_TEST

/* 4-bit openvino config (no fake-quant on the graph output), with or
 * without bias correction. */
static rq_quantizer *bias_quantizer(bool correct) {
  return issue6_quantizer("OpenVINOQuantizer", 4, correct ? ", \"bias_correction\": true" : ", \"bias_correction\": false");
}

/* Per-class mean of the logits [N, 10]. */
static void logit_means(rq_tensor_list *out, double *mean) {
  const DLTensor *t;
  rq_tensor_list_get(out, 0, NULL, &t);
  ck_assert_int_eq(t->shape[1], 10);
  const float *v = t->data;
  for (int c = 0; c < 10; c++) mean[c] = 0.0;
  for (int64_t i = 0; i < t->shape[0]; i++)
    for (int c = 0; c < 10; c++) mean[c] += v[i * 10 + c] / (double)t->shape[0];
}

START_TEST(bias_correction_restores_the_float_output_mean) {
  /* The last Gemm is corrected last, with every earlier correction in place,
   * and its output (the logits) has no fake-quant: over the calibration
   * data the corrected model's mean logits equal the float model's (run by
   * the executor on the original model). Without correction they do not. */
  fixture f;
  fixture_load(&f);
  rq_tensor_list *float_out;
  ck_assert_int_eq(rq_graph_run(f.model, NULL, &f.calib_x, 1, &float_out), RQ_OK);
  double want[10], got[10], plain[10];
  logit_means(float_out, want);
  rq_tensor_list_destroy(float_out);
  rq_quantizer *with = bias_quantizer(true), *without = bias_quantizer(false);
  rq_session *s, *p;
  ck_assert_int_eq(rq_quantizer_prepare(with, f.model, &s), RQ_OK);
  ck_assert_int_eq(rq_quantizer_prepare(without, f.model, &p), RQ_OK);
  calibrate(s, &f.calib_x, 0, f.calib_x.shape[0]);
  calibrate(p, &f.calib_x, 0, f.calib_x.shape[0]);
  ck_assert_msg(rq_session_convert(s) == RQ_OK, "%s", rq_last_error());
  ck_assert_int_eq(rq_session_convert(p), RQ_OK);
  rq_tensor_list *a = run(s, &f.calib_x), *b = run(p, &f.calib_x);
  logit_means(a, got);
  logit_means(b, plain);
  double worst_plain = 0.0;
  for (int c = 0; c < 10; c++) {
    ck_assert_msg(fabs(got[c] - want[c]) <= 1e-4 * (1.0 + fabs(want[c])), "class %d: %g vs float %g", c, got[c],
                  want[c]);
    worst_plain = fmax(worst_plain, fabs(plain[c] - want[c]));
  }
  ck_assert_msg(worst_plain > 1e-2, "uncorrected means already match (%g): the test shows nothing", worst_plain);

  /* A calibration table carries the corrected biases. */
  char table[] = "/tmp/rq_bc_table_XXXXXX";
  close(mkstemp(table));
  ck_assert_msg(rq_session_save_calibration(s, table) == RQ_OK, "%s", rq_last_error());
  rq_session *loaded;
  ck_assert_int_eq(rq_quantizer_prepare(with, f.model, &loaded), RQ_OK);
  ck_assert_msg(rq_session_load_calibration(loaded, table) == RQ_OK, "%s", rq_last_error());
  rq_tensor_list *c = run(loaded, &f.calib_x);
  assert_same_outputs(a, c);
  rq_tensor_list_destroy(a);
  rq_tensor_list_destroy(b);
  rq_tensor_list_destroy(c);
  rq_session_destroy(loaded);
  unlink(table);
  rq_session_destroy(s);
  rq_session_destroy(p);

  /* Only engine-fed statistics: nothing to correct with, convert refuses. */
  ck_assert_int_eq(rq_quantizer_prepare(with, f.model, &s), RQ_OK);
  ck_assert_int_eq(rq_session_observe(s, "input", &f.calib_x), RQ_OK);
  ck_assert_int_eq(rq_session_convert(s), RQ_ERR_STATE);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "bias_correction needs the calibration batches"));
  ck_assert_int_eq(s->state, RQ__SESSION_PREPARED);
  rq_session_destroy(s);
  /* Destroyed while still holding its batches: nothing leaks (ASan, valgrind). */
  ck_assert_int_eq(rq_quantizer_prepare(with, f.model, &s), RQ_OK);
  calibrate(s, &f.calib_x, 0, 64);
  rq_session_destroy(s);
  rq_quantizer_destroy(with);
  rq_quantizer_destroy(without);
  fixture_free(&f);
}
END_TEST

/* 4-bit AdaRound weights, 8-bit affine activations; extra: more top-level
 * members, each after a comma. */
static rq_quantizer *adaround_quantizer(const char *backend, int iters, double lr, const char *extra) {
  char members[512];
  snprintf(members, sizeof members, ", \"reconstruction\": {\"loss\": {\"iters\": %d}, \"lr\": %g}%s", iters, lr,
           extra);
  return qconfig_quantizer(backend, "AdaRoundFakeQuantize", 4, 8, members);
}

/* AdaRound on tests/e2e/test_adaround.py's one-layer models (Conv,
 * depthwise Conv with strides, Gemm; small enough for valgrind): every
 * rounded weight ends on its grid at one of the two neighbours of the float
 * weight, the note reports an error no higher than rounding to nearest; a
 * calibration table reproduces the model; a convert refused for want of
 * batches leaves the session able to calibrate and convert as if nothing
 * happened. (The decisions themselves are held to PyTorch by the e2e test;
 * tests/python/test_adaround.py covers a multi-layer model.) */
START_TEST(adaround_rounds_up_or_down_and_survives_a_table) {
  static const char *const models[] = {"conv", "dwconv", "gemm"};
  const char *name = models[_i];
  char path[64];
  rq_graph *model;
  rq_npy *calib;
  DLTensor x;
  snprintf(path, sizeof path, "adaround/%s.onnx", name);
  ck_assert_msg(rq_graph_load(path_of(path), &model) == RQ_OK, "%s", rq_last_error());
  snprintf(path, sizeof path, "adaround/%s_calib.npy", name);
  ck_assert_int_eq(rq_npy_load(path_of(path), &calib), RQ_OK);
  rq_npy_dltensor(calib, &x);
  rq_quantizer *q = adaround_quantizer("AcademicQuantizer", 300, 0.01, "");
  rq_session *s;
  ck_assert_int_eq(rq_quantizer_prepare(q, model, &s), RQ_OK);
  int wp = -1;
  for (int i = 0; i < s->n_points; i++)
    if (s->points[i].is_weight) wp = i;
  ck_assert_int_ge(wp, 0);
  rq__tensor *w = s->graph->values[rq__graph_find_value(s->graph, s->points[wp].edge)].init;
  float *before = malloc(w->nbytes);
  memcpy(before, w->data, w->nbytes);
  size_t notes_before = rq_session_note_count(s);
  ck_assert_msg(rq_session_calibrate(s, &x, 1) == RQ_OK, "%s", rq_last_error());
  ck_assert_msg(rq_session_convert(s) == RQ_OK, "%s", rq_last_error());

  rq_fake_quant *fq = s->fake_quants[s->points[wp].fq];
  float scale[64];
  int32_t zp[64], qmin, qmax;
  size_t count, channels = 0;
  ck_assert_int_eq(rq_fake_quant_qparams(fq, scale, zp, 64, &count), RQ_OK);
  ck_assert_int_eq(rq_fake_quant_quant_range(fq, &qmin, &qmax), RQ_OK);
  bool per_channel;
  int32_t axis;
  ck_assert_int_eq(rq_fake_quant_channel_axis(fq, &per_channel, &axis), RQ_OK);
  ck_assert(per_channel && axis == 0);
  channels = (size_t)w->dims[0];
  ck_assert_uint_eq(count, channels);
  const float *now = w->data;
  size_t per = w->numel / channels, changed = 0;
  for (size_t e = 0; e < w->numel; e++) {
    float sc = scale[e / per], lo = floorf(before[e] / sc), q_now = nearbyintf(now[e] / sc);
    ck_assert_msg(q_now * sc == now[e], "%s[%zu] = %g is off the grid", name, e, (double)now[e]);
    ck_assert_msg(q_now >= (float)qmin && q_now <= (float)qmax && (q_now == lo || q_now == lo + 1 ||
                  q_now == (float)qmin || q_now == (float)qmax),
                  "%s[%zu]: %g from %g", name, e, (double)now[e], (double)before[e]);
    changed += q_now != nearbyintf(before[e] * (1.0f / sc));
  }
  free(before);
  ck_assert_msg(changed > 0, "%s: AdaRound changed nothing", name);
  ck_assert_uint_eq(rq_session_note_count(s) - notes_before, 1);
  const char *note = rq_session_note(s, notes_before), *at = strstr(note, "error ");
  double nearest, adaptive;
  ck_assert_msg(at != NULL && sscanf(at, "error %lg rounded to nearest, %lg adaptive", &nearest, &adaptive) == 2,
                "%s", note);
  ck_assert_msg(adaptive < nearest, "%s", note);

  /* A calibration table reproduces the rounded model. */
  char table[] = "/tmp/rq_ar_table_XXXXXX";
  close(mkstemp(table));
  ck_assert_msg(rq_session_save_calibration(s, table) == RQ_OK, "%s", rq_last_error());
  rq_session *loaded, *retried;
  ck_assert_int_eq(rq_quantizer_prepare(q, model, &loaded), RQ_OK);
  ck_assert_msg(rq_session_load_calibration(loaded, table) == RQ_OK, "%s", rq_last_error());
  unlink(table);
  rq_tensor_list *a = run(s, &x), *b = run(loaded, &x);
  assert_same_outputs(a, b);
  rq_tensor_list_destroy(b);

  /* Refused without batches, then calibrated and converted as if nothing happened. */
  ck_assert_int_eq(rq_quantizer_prepare(q, model, &retried), RQ_OK);
  const char *input = model->values[model->inputs[0]].name;
  ck_assert_int_eq(rq_session_observe(retried, input, &x), RQ_OK);
  ck_assert_int_eq(rq_session_convert(retried), RQ_ERR_STATE);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "AdaRound needs the calibration batches"));
  ck_assert_int_eq(retried->state, RQ__SESSION_PREPARED);
  ck_assert_msg(rq_session_calibrate(retried, &x, 1) == RQ_OK, "%s", rq_last_error());
  ck_assert_msg(rq_session_convert(retried) == RQ_OK, "%s", rq_last_error());
  b = run(retried, &x);
  assert_same_outputs(a, b);
  rq_tensor_list_destroy(a);
  rq_tensor_list_destroy(b);
  rq_session_destroy(retried);
  rq_session_destroy(loaded);
  rq_session_destroy(s);
  rq_quantizer_destroy(q);
  rq_npy_destroy(calib);
  rq_graph_destroy(model);
}
END_TEST

/* Every allocation convert makes can fail (AdaRound, bias correction and
 * ONNX Runtime's int32 biases on the one-layer Gemm): each failure is
 * RQ_ERR_NOMEM, leaves the session calibrating with its notes as they were,
 * and a second convert gives exactly the model a session that never failed
 * gives (nothing half-rounded, corrected twice or lost). */
static long allocations_left = -1; /* -1: no limit */
static void *limited_malloc(void *ctx, size_t size) {
  (void)ctx;
  if (allocations_left == 0) return NULL;
  if (allocations_left > 0) allocations_left--;
  return malloc(size);
}
static void plain_free(void *ctx, void *ptr, size_t size) {
  (void)ctx;
  (void)size;
  free(ptr);
}

static rq_session *calibrated_gemm(rq_quantizer *q, rq_graph *model, const DLTensor *x) {
  rq_session *s;
  ck_assert_int_eq(rq_quantizer_prepare(q, model, &s), RQ_OK);
  ck_assert_msg(rq_session_calibrate(s, x, 1) == RQ_OK, "%s", rq_last_error());
  return s;
}

START_TEST(convert_failing_midway_leaves_the_session_as_it_was) {
  rq_allocator a;
  ck_assert_int_eq(rq_allocator_init(&a, sizeof a), RQ_OK);
  a.malloc = limited_malloc;
  a.realloc = NULL;
  a.free = plain_free;
  ck_assert_int_eq(rq_set_allocator(&a), RQ_OK);
  rq_graph *model;
  rq_npy *calib;
  DLTensor x;
  ck_assert_int_eq(rq_graph_load(path_of("adaround/gemm.onnx"), &model), RQ_OK);
  ck_assert_int_eq(rq_npy_load(path_of("adaround/gemm_calib.npy"), &calib), RQ_OK);
  rq_npy_dltensor(calib, &x);
  rq_quantizer *q = adaround_quantizer("ONNXRuntimeQuantizer", 50, 0.02, ", \"bias_correction\": true");
  rq_session *ref = calibrated_gemm(q, model, &x);
  ck_assert_msg(rq_session_convert(ref) == RQ_OK, "%s", rq_last_error());
  rq_tensor_list *want = run(ref, &x);
  bool converted = false;
  for (long budget = 0; !converted; budget++) {
    ck_assert_int_lt(budget, 5000);
    rq_session *s = calibrated_gemm(q, model, &x);
    size_t notes = rq_session_note_count(s);
    allocations_left = budget;
    rq_status st = rq_session_convert(s);
    allocations_left = -1;
    if (st == RQ_OK) {
      converted = true;
    } else {
      ck_assert_msg(st == RQ_ERR_NOMEM, "budget %ld: %s", budget, rq_last_error());
      ck_assert_int_eq(s->state, RQ__SESSION_PREPARED);
      ck_assert_uint_eq(rq_session_note_count(s), notes);
      ck_assert_msg(rq_session_convert(s) == RQ_OK, "budget %ld: %s", budget, rq_last_error());
    }
    rq_tensor_list *got = run(s, &x);
    assert_same_outputs(want, got);
    rq_tensor_list_destroy(got);
    rq_session_destroy(s);
  }
  rq_tensor_list_destroy(want);
  rq_session_destroy(ref);
  rq_quantizer_destroy(q);
  rq_npy_destroy(calib);
  rq_graph_destroy(model);
  ck_assert_uint_eq(rq_memory_in_use(), 0);
  ck_assert_int_eq(rq_set_allocator(NULL), RQ_OK);
}
END_TEST

START_TEST(misuse_is_refused) {
  fixture f;
  fixture_load(&f);
  rq_quantizer *q = quantizer("MinMaxObserver", "", true);
  rq_session *s;
  ck_assert_int_eq(rq_quantizer_prepare(NULL, f.model, &s), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_quantizer_prepare(q, NULL, &s), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_quantizer_prepare(q, f.model, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_quantizer_prepare(q, f.model, &s), RQ_OK);
  rq_tensor_list *out = (rq_tensor_list *)0x1;
  ck_assert_int_eq(rq_session_run(s, &f.test_x, 1, &out), RQ_ERR_STATE);
  ck_assert_ptr_null(out);
  ck_assert_int_eq(rq_session_export(s, "/tmp/never.onnx"), RQ_ERR_STATE);
  ck_assert_int_eq(rq_session_save_calibration(s, "/tmp/never.rqcal"), RQ_ERR_STATE);
  ck_assert_int_eq(rq_session_calibrate(s, NULL, 1), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_session_calibrate(s, &f.calib_x, 2), RQ_ERR_INVALID_ARG);
  /* A NaN in the data: refused by the observer, the run aborts with its status. */
  float *x = f.calib_x.data;
  float saved = x[5];
  x[5] = 0.0f / 0.0f;
  ck_assert_int_eq(rq_session_calibrate(s, &f.calib_x, 1), RQ_ERR_NONFINITE);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "edge 'input'"));
  x[5] = saved;
  ck_assert_int_eq(rq_session_convert(s), RQ_OK);
  ck_assert_int_eq(rq_session_calibrate(s, &f.calib_x, 1), RQ_ERR_STATE);
  ck_assert_uint_eq(rq_session_point_count(NULL), 0);
  ck_assert_ptr_null(rq_session_note(s, 1000));
  ck_assert_int_eq(rq_session_point_info(s, 1000, NULL, NULL, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_session_set_progress(NULL, NULL, NULL), RQ_ERR_INVALID_ARG);
  rq_session_destroy(s);
  rq_session_destroy(NULL);
  rq_quantizer_destroy(q);
  fixture_free(&f);
}
END_TEST


/* A model with control flow (tests/exec/gen_control.py's
 * subgraph_only_value: Conv + BN whose output only an If's branches read)
 * prepares, calibrates and converts; fake-quants sit on main-graph edges
 * only (the quantizer does not look inside subgraphs), and the quantized
 * model stays within a few quantization steps of ONNX Runtime's float
 * output, also once exported and reloaded. */
START_TEST(ptq_on_a_model_with_if) {
  char dir[4200], path[4400];
  snprintf(dir, sizeof dir, "%s/../exec/data/control/node/subgraph_only_value", data_dir);
  rq_graph *model;
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  ck_assert_msg(rq_graph_load(path, &model) == RQ_OK, "%s", rq_last_error());
  rq_quantizer *q = issue6_quantizer("OpenVINOQuantizer", 8, "");
  rq_session *s;
  ck_assert_msg(rq_quantizer_prepare(q, model, &s) == RQ_OK, "%s", rq_last_error());
  rq__tensor *x[2], *want[2];
  DLTensor dx[2];
  for (int set = 0; set < 2; set++) {
    snprintf(path, sizeof path, "%s/test_data_set_%d/input_0.pb", dir, set);
    ck_assert_int_eq(rq__tensor_from_proto_file(path, &x[set]), RQ_OK);
    snprintf(path, sizeof path, "%s/test_data_set_%d/output_0.pb", dir, set);
    ck_assert_int_eq(rq__tensor_from_proto_file(path, &want[set]), RQ_OK);
    dx[set] = (DLTensor){.data = x[set]->data, .device = {kDLCPU, 0}, .ndim = x[set]->ndim,
                         .dtype = {kDLFloat, 32, 1}, .shape = x[set]->dims};
    ck_assert_msg(rq_session_calibrate(s, &dx[set], 1) == RQ_OK, "%s", rq_last_error());
  }
  ck_assert_msg(rq_session_convert(s) == RQ_OK, "%s", rq_last_error());
  const rq_graph *g = rq_session_graph(s);
  ck_assert_uint_gt(rq_session_point_count(s), 0);
  for (size_t i = 0; i < rq_session_point_count(s); i++) {
    const char *edge;
    ck_assert_int_eq(rq_session_point_info(s, i, &edge, NULL, NULL), RQ_OK);
    ck_assert_msg(rq__graph_find_value(g, edge) >= 0, "point '%s' is not a main-graph edge", edge);
    ck_assert_msg(strcmp(edge, "t_out") != 0 && strcmp(edge, "e_out") != 0, "point '%s' is inside a branch", edge);
  }
  snprintf(path, sizeof path, "/tmp/rq_ptq_if_%ld.onnx", (long)getpid());
  ck_assert_msg(rq_session_export(s, path) == RQ_OK, "%s", rq_last_error());
  rq_graph *exported;
  ck_assert_msg(rq_graph_load(path, &exported) == RQ_OK, "%s", rq_last_error());
  unlink(path);
  for (int set = 0; set < 2; set++) {
    rq_tensor_list *out[2];
    ck_assert_msg(rq_session_run(s, &dx[set], 1, &out[0]) == RQ_OK, "%s", rq_last_error());
    ck_assert_msg(rq_graph_run(exported, NULL, &dx[set], 1, &out[1]) == RQ_OK, "%s", rq_last_error());
    float range = 0;
    for (size_t i = 0; i < want[set]->numel; i++) range = fmaxf(range, fabsf(((float *)want[set]->data)[i]));
    for (int k = 0; k < 2; k++) {
      const DLTensor *y;
      ck_assert_int_eq(rq_tensor_list_get(out[k], 0, NULL, &y), RQ_OK);
      ck_assert_int_eq(y->ndim, 4);
      for (size_t i = 0; i < want[set]->numel; i++)
        ck_assert_msg(fabsf(((float *)y->data)[i] - ((float *)want[set]->data)[i]) <= 0.05f * range,
                      "set %d %s [%zu]: %g vs %g", set, k ? "exported" : "session", i, ((float *)y->data)[i],
                      ((float *)want[set]->data)[i]);
      rq_tensor_list_destroy(out[k]);
    }
    rq__tensor_destroy(x[set]);
    rq__tensor_destroy(want[set]);
  }
  rq_graph_destroy(exported);
  rq_session_destroy(s);
  rq_quantizer_destroy(q);
  rq_graph_destroy(model);
}
END_TEST

int main(void) {
  const char *root = getenv("RAZORQ_SOURCE_ROOT");
  snprintf(data_dir, sizeof data_dir, "%s/tests/data", root != NULL ? root : ".");
  Suite *s = suite_create("session");
  TCase *tc = tcase_create("session");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, calibration_table_round_trips_and_is_bound_to_model_and_config);
  tcase_add_test(tc, sharded_calibration_merges_exactly);
  tcase_add_test(tc, engines_feed_observers_directly);
  tcase_add_test(tc, trt_cache_holds_amax_over_127);
  tcase_add_test(tc, bias_correction_restores_the_float_output_mean);
  tcase_add_loop_test(tc, adaround_rounds_up_or_down_and_survives_a_table, 0, 3);
  tcase_add_test(tc, convert_failing_midway_leaves_the_session_as_it_was);
  tcase_add_test(tc, misuse_is_refused);
  tcase_add_test(tc, ptq_on_a_model_with_if);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? 0 : 1;
}
