/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the executor: any bytes that load as a model must
 * run to a result or fail with a message -- never crash, leak, read out of
 * bounds or take more memory than a fixed budget. The loader has its own
 * target (fuzz_onnx_load.c); this one reaches the op kernels, whose
 * attributes, initializers and declared shapes the fuzzer mutates.
 *
 * Every razorq allocation goes through a budget allocator (the public
 * rq_set_allocator hook): past FUZZ_BUDGET bytes it returns NULL, so a model
 * asking for a huge tensor must fail with RQ_ERR_NOMEM instead of exhausting
 * the machine. Compute is not bounded: a model may ask for a lot of it
 * (a huge dilated convolution), so run_fuzzers.sh reports a slow input
 * without failing. Graph inputs get their declared shapes (an unknown dimension
 * is 2) and small deterministic values; models whose inputs exceed
 * FUZZ_MAX_INPUT elements are skipped. So are models with a Loop: its
 * iteration count is the model's to choose, and a long loop is not a bug.
 * Linked with replay_main.c, the corpus (tests/fuzz/corpus/exec) runs as an
 * ordinary test. */
#include <razorq/razorq.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_BUDGET ((size_t)16 << 20)
#define FUZZ_MAX_INPUT 4096
#define FUZZ_MAX_INPUTS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t budget_used;

static void *budget_malloc(void *ctx, size_t size) {
  (void)ctx;
  if (size > FUZZ_BUDGET - budget_used) return NULL;
  void *p = malloc(size);
  if (p != NULL) budget_used += size;
  return p;
}

static void budget_free(void *ctx, void *ptr, size_t size) {
  (void)ctx;
  if (ptr == NULL) return;
  budget_used -= size;
  free(ptr);
}

static void install_budget(void) {
  static bool installed;
  if (installed) return;
  rq_allocator a;
  if (rq_allocator_init(&a, sizeof a) != RQ_OK) abort();
  a.malloc = budget_malloc;
  a.realloc = NULL; /* razorq then allocates, copies and frees: all counted */
  a.free = budget_free;
  if (rq_set_allocator(&a) != RQ_OK) abort();
  installed = true;
}

/* The DLPack type of an ONNX element type (0, undeclared: float). */
static bool dl_type_of(int32_t onnx_type, DLDataType *t) {
  static const struct {
    int32_t onnx;
    uint8_t code, bits;
  } types[] = {
    {0, kDLFloat, 32}, {1, kDLFloat, 32}, {2, kDLUInt, 8},   {3, kDLInt, 8},    {4, kDLUInt, 16},
    {5, kDLInt, 16},   {6, kDLInt, 32},   {7, kDLInt, 64},   {9, kDLUInt, 8},   {10, kDLFloat, 16},
    {11, kDLFloat, 64}, {12, kDLUInt, 32}, {13, kDLUInt, 64}, {16, kDLBfloat, 16},
  };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (types[i].onnx == onnx_type) {
      *t = (DLDataType){types[i].code, types[i].bits, 1};
      return true;
    }
  return false;
}

/* Small values of both signs, zeros included, that are valid in every
 * element type: indices and counts stay mostly in range, floats exact. */
static void fill(void *buf, DLDataType t, size_t n, uint32_t seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    int v = (int)(seed >> 28) - 8; /* -8 .. 7 */
    if (t.code == kDLUInt) v = v < 0 ? -v : v;
    switch (t.code * 256 + t.bits) {
      case kDLFloat * 256 + 32: ((float *)buf)[i] = (float)v * 0.25f; break;
      case kDLFloat * 256 + 64: ((double *)buf)[i] = v * 0.25; break;
      case kDLFloat * 256 + 16: ((uint16_t *)buf)[i] = (uint16_t)(v < 0 ? 0xb400 : 0x3400); break; /* -+0.25 */
      case kDLBfloat * 256 + 16: ((uint16_t *)buf)[i] = (uint16_t)(v < 0 ? 0xbe80 : 0x3e80); break;
      case kDLInt * 256 + 8: case kDLUInt * 256 + 8: ((int8_t *)buf)[i] = (int8_t)v; break;
      case kDLInt * 256 + 16: case kDLUInt * 256 + 16: ((int16_t *)buf)[i] = (int16_t)v; break;
      case kDLInt * 256 + 32: case kDLUInt * 256 + 32: ((int32_t *)buf)[i] = v; break;
      default: ((int64_t *)buf)[i] = v; break;
    }
  }
}

static bool has_loop(const rq_graph *g) {
  for (size_t i = 0; i < rq_graph_op_type_count(g); i++) {
    const char *op = NULL;
    size_t count;
    if (rq_graph_op_type_info(g, i, &op, &count) != RQ_OK) abort();
    if (strcmp(op, "Loop") == 0) return true;
  }
  return false;
}

/* Runs g on inputs of its declared shapes; false when they are too large
 * to bother (the model is then skipped). */
static bool run(const rq_graph *g) {
  size_t n = rq_graph_input_count(g);
  if (n > FUZZ_MAX_INPUTS) return false;
  DLTensor inputs[FUZZ_MAX_INPUTS];
  int64_t shapes[FUZZ_MAX_INPUTS][8];
  void *buffers[FUZZ_MAX_INPUTS] = {0};
  bool ok = true;
  for (size_t i = 0; i < n && ok; i++) {
    rq_value_info info;
    rq_value_info_init(&info, sizeof info);
    if (rq_graph_input_info(g, i, &info) != RQ_OK) abort();
    DLDataType t;
    int ndim = info.ndim < 0 ? 1 : info.ndim;
    ok = dl_type_of(info.onnx_type, &t) && ndim <= 8;
    size_t count = 1;
    for (int d = 0; ok && d < ndim; d++) {
      int64_t dim = info.ndim < 0 ? 4 : info.dims[d] < 0 ? 2 : info.dims[d];
      shapes[i][d] = dim;
      count *= (size_t)dim;
      ok = count <= FUZZ_MAX_INPUT;
    }
    if (!ok) break;
    buffers[i] = malloc(count * (t.bits / 8) + 1); /* the harness's own memory, outside the budget */
    if (buffers[i] == NULL) abort();
    fill(buffers[i], t, count, (uint32_t)i * 7919u + 1u);
    inputs[i] = (DLTensor){.data = buffers[i], .device = {kDLCPU, 0}, .ndim = ndim, .dtype = t,
                           .shape = shapes[i]};
  }
  if (ok) {
    rq_tensor_list *out = (rq_tensor_list *)&ok; /* must be reset */
    rq_status s = rq_graph_run(g, NULL, inputs, n, &out);
    if (getenv("FUZZ_EXEC_VERBOSE")) /* for corpus upkeep: seeds should run */
      fprintf(stderr, "fuzz_exec: %s%s%s\n", rq_status_str(s), s == RQ_OK ? "" : ": ", s == RQ_OK ? "" : rq_last_error());
    if (s == RQ_OK) {
      if (out == NULL || rq_tensor_list_count(out) != rq_graph_output_count(g)) abort();
      rq_tensor_list_destroy(out);
    } else if (out != NULL || rq_last_error()[0] == '\0') {
      abort(); /* a failure leaves no outputs and explains itself */
    }
  }
  for (size_t i = 0; i < n; i++) free(buffers[i]);
  return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  install_budget();
  size_t before = rq_memory_in_use();
  rq_graph *g = NULL;
  if (rq_graph_load_buffer(data, size, &g) != RQ_OK) {
    if (g != NULL || rq_last_error()[0] == '\0') abort();
  } else {
    if (!has_loop(g)) run(g);
    rq_graph_destroy(g);
  }
  if (rq_memory_in_use() != before) abort(); /* nothing leaks, nothing stays behind */
  return 0;
}
