/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the calibration files a session reads: tables
 * (rq_session_load_calibration) and saved observer state
 * (rq_session_merge), both a CalibrationFile message (version, kind,
 * xxh3-64 of the payload) around a CalibrationTable or SessionState. Each
 * input is read as it is, then - when it parses - again with the version,
 * checksum, model fingerprint and config hash made right, so that
 * mutations reach the entries instead of stopping at those checks. Every
 * read goes to a fresh session of tests/data/digits_mlp.onnx (found
 * through RAZORQ_SOURCE_ROOT); a refusal must come with a message, a
 * success must leave a session that converts and runs. Linked with
 * replay_main.c, the corpus (tests/fuzz/corpus/calibration_file) runs as
 * an ordinary test without libFuzzer. */
#include <razorq/razorq.h>

#include "core/pb_alloc.h"
#include "session/calibration.pb-c.h"
#include "session/session_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fuzz corpus's quantizer config (make_config_corpus.py writes the seeds with it). */
static const char config[] =
    "{\"global_qconfig\": {"
    "\"w_observer\": {\"type\": \"mmrazor.PerChannelMinMaxObserver\"},"
    "\"a_observer\": {\"type\": \"mmrazor.HistogramObserver\", \"bins\": 64},"
    "\"w_fake_quant\": {\"type\": \"mmrazor.FakeQuantize\"}, \"a_fake_quant\": {\"type\": \"mmrazor.FakeQuantize\"},"
    "\"w_qscheme\": {\"qdtype\": \"qint8\", \"bit\": 8, \"is_symmetry\": true, \"is_symmetric_range\": true},"
    "\"a_qscheme\": {\"qdtype\": \"quint8\", \"bit\": 8, \"is_symmetry\": false}},"
    "\"quantizer\": {\"type\": \"mmrazor.OpenVINOQuantizer\"}}";

static rq_graph *model;
static rq_quantizer *quantizer;
static char path[64];
static float images[2 * 64];

static void setup(void) {
  if (model != NULL) return;
  const char *root = getenv("RAZORQ_SOURCE_ROOT");
  char model_path[4096];
  snprintf(model_path, sizeof model_path, "%s/tests/data/digits_mlp.onnx", root ? root : ".");
  if (rq_graph_load(model_path, &model) != RQ_OK || rq_quantizer_create(config, &quantizer) != RQ_OK) {
    fprintf(stderr, "fuzz_calibration_file: %s (set RAZORQ_SOURCE_ROOT to the source tree)\n", rq_last_error());
    abort();
  }
  snprintf(path, sizeof path, "/tmp/razorq-fuzz-calibration-%ld", (long)getpid());
  for (size_t i = 0; i < sizeof images / sizeof images[0]; i++) images[i] = (float)(i % 17) / 16.0f;
}

static void write_file(const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size)) abort();
  fclose(f);
}

/* Reads the file at `path` into a fresh session, as a table or as state. */
static void read_into_session(bool as_table) {
  rq_session *s = NULL;
  if (rq_quantizer_prepare(quantizer, model, &s) != RQ_OK) abort();
  int64_t shape[4] = {2, 1, 8, 8};
  DLTensor x = {.data = images, .device = {kDLCPU, 0}, .ndim = 4, .dtype = {kDLFloat, 32, 1}, .shape = shape};
  if (!as_table && rq_session_calibrate(s, &x, 1) != RQ_OK) abort();
  rq_status st = as_table ? rq_session_load_calibration(s, path) : rq_session_merge(s, path);
  if (st != RQ_OK) {
    if (rq_last_error()[0] == '\0') abort();
  } else {
    rq_tensor_list *out = NULL;
    if (rq_session_convert(s) != RQ_OK) abort();
    /* A loaded table may hold any valid qparams; a run must still work. */
    if (rq_session_run(s, &x, 1, &out) != RQ_OK) abort();
    rq_tensor_list_destroy(out);
  }
  rq_session_destroy(s);
}

/* The payload re-sealed for this session: fingerprint and config hash of
 * the session's model and config. Returns a malloc'd packed payload. */
static uint8_t *reseal_payload(Razorq__CalibrationFile *file, uint64_t fingerprint, uint64_t hash, size_t *size) {
  uint8_t *out = NULL;
  if (file->kind == RAZORQ__CALIBRATION_FILE__KIND__TABLE) {
    Razorq__CalibrationTable *t =
        razorq__calibration_table__unpack(&rq__pb_allocator, file->payload.len, file->payload.data);
    if (t == NULL) return NULL;
    t->model_fingerprint = fingerprint;
    t->config_hash = hash;
    *size = razorq__calibration_table__get_packed_size(t);
    if ((out = malloc(*size ? *size : 1)) != NULL) razorq__calibration_table__pack(t, out);
    razorq__calibration_table__free_unpacked(t, &rq__pb_allocator);
  } else {
    Razorq__SessionState *t = razorq__session_state__unpack(&rq__pb_allocator, file->payload.len, file->payload.data);
    if (t == NULL) return NULL;
    t->model_fingerprint = fingerprint;
    t->config_hash = hash;
    *size = razorq__session_state__get_packed_size(t);
    if ((out = malloc(*size ? *size : 1)) != NULL) razorq__session_state__pack(t, out);
    razorq__session_state__free_unpacked(t, &rq__pb_allocator);
  }
  return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  write_file(data, size);
  read_into_session(true);
  read_into_session(false);

  Razorq__CalibrationFile *file = razorq__calibration_file__unpack(&rq__pb_allocator, size, data);
  if (file == NULL) return 0;
  rq_session *probe = NULL;
  if (rq_quantizer_prepare(quantizer, model, &probe) != RQ_OK) abort();
  size_t payload_size = 0;
  uint8_t *payload = reseal_payload(file, probe->model_fingerprint, probe->config_hash, &payload_size);
  rq_session_destroy(probe);
  if (payload != NULL) {
    ProtobufCBinaryData original = file->payload;
    file->version = 1;
    file->payload.data = payload;
    file->payload.len = payload_size;
    file->xxh3 = XXH3_64bits(payload, payload_size);
    size_t sealed_size = razorq__calibration_file__get_packed_size(file);
    uint8_t *sealed = malloc(sealed_size ? sealed_size : 1);
    if (sealed != NULL) {
      razorq__calibration_file__pack(file, sealed);
      write_file(sealed, sealed_size);
      read_into_session(file->kind == RAZORQ__CALIBRATION_FILE__KIND__TABLE);
      free(sealed);
    }
    free(payload);
    file->payload = original; /* the unpacker's own, freed with the message */
  }
  razorq__calibration_file__free_unpacked(file, &rq__pb_allocator);
  return 0;
}
