/* SPDX-License-Identifier: Apache-2.0 */
/* What the model-running fuzz targets (fuzz_exec.c, fuzz_ptq.c) share: a
 * budget allocator behind razorq's memory, and graph inputs of a model's
 * declared shapes with small deterministic values. Header-only: each target
 * is one translation unit (plus replay_main.c). */
#ifndef RQ_FUZZ_MODEL_INPUTS_H
#define RQ_FUZZ_MODEL_INPUTS_H

#include <razorq/razorq.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Past FUZZ_BUDGET bytes in use, razorq's allocations fail: a model asking
 * for a huge tensor must fail with RQ_ERR_NOMEM instead of exhausting the
 * machine. Inputs above FUZZ_MAX_INPUT elements make a model not worth
 * running (skipped). */
#define FUZZ_BUDGET ((size_t)16 << 20)
#define FUZZ_MAX_INPUT 4096
#define FUZZ_MAX_INPUTS 16

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

/* Before the first razorq allocation (rq_set_allocator refuses while memory
 * is live), hence at the top of every LLVMFuzzerTestOneInput. */
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

typedef struct model_inputs {
  size_t n;
  DLTensor t[FUZZ_MAX_INPUTS];
  int64_t shape[FUZZ_MAX_INPUTS][8];
  void *buf[FUZZ_MAX_INPUTS];
} model_inputs;

static void free_model_inputs(model_inputs *in) {
  for (size_t i = 0; i < in->n; i++) free(in->buf[i]);
  in->n = 0;
}

/* Inputs of g's declared shapes (an unknown dimension is 2, an unknown rank
 * [4]); false (nothing left allocated) when a type is not one DLPack can
 * carry or an input would exceed FUZZ_MAX_INPUT elements. The buffers are
 * the harness's own memory, outside the budget. */
static bool make_model_inputs(const rq_graph *g, model_inputs *in) {
  memset(in, 0, sizeof *in);
  size_t n = rq_graph_input_count(g);
  if (n > FUZZ_MAX_INPUTS) return false;
  for (size_t i = 0; i < n; i++) {
    rq_value_info info;
    rq_value_info_init(&info, sizeof info);
    if (rq_graph_input_info(g, i, &info) != RQ_OK) abort();
    DLDataType t;
    int ndim = info.ndim < 0 ? 1 : info.ndim;
    bool ok = dl_type_of(info.onnx_type, &t) && ndim <= 8;
    size_t count = 1;
    for (int d = 0; ok && d < ndim; d++) {
      int64_t dim = info.ndim < 0 ? 4 : info.dims[d] < 0 ? 2 : info.dims[d];
      in->shape[i][d] = dim;
      count *= (size_t)dim;
      ok = count <= FUZZ_MAX_INPUT;
    }
    if (!ok) {
      free_model_inputs(in);
      return false;
    }
    in->buf[i] = malloc(count * (t.bits / 8) + 1);
    if (in->buf[i] == NULL) abort();
    in->n = i + 1;
    fill(in->buf[i], t, count, (uint32_t)i * 7919u + 1u);
    in->t[i] = (DLTensor){.data = in->buf[i], .device = {kDLCPU, 0}, .ndim = ndim, .dtype = t, .shape = in->shape[i]};
  }
  in->n = n;
  return true;
}

#endif
