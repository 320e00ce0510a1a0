/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for post-training quantization of arbitrary models: for
 * any bytes that load as a model razorq can run, prepare (with one of the
 * built-in backends' example configs, chosen by the input's size), calibrate
 * on one batch, convert and export must each succeed or fail with a
 * message, and an exported model must load and run on the same inputs: a
 * QDQ model razorq writes but cannot read back (a QuantizeLinear on an
 * integer edge, a dangling edge after a rewrite) is a bug even where no
 * sanitizer sees one. Inputs and the memory budget as in fuzz_exec.c
 * (fuzz_model_inputs.h); the corpus is fuzz_exec's. */
#include "fuzz_model_inputs.h"

#include <jansson.h>
#include <stdio.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const backends[] = {"openvino", "tensorrt", "native", "onnxruntime", "academic"};

/* A failure must explain itself. */
static bool ok(rq_status s) {
  if (s != RQ_OK && rq_last_error()[0] == '\0') abort();
  return s == RQ_OK;
}

/* The example config, with node `unmatched` (if >= 0) in
 * quantizer.tracer.unmatched_nodes: cutting fusion groups and share chains
 * at an arbitrary node must leave a plan that exports and runs. */
static rq_quantizer *quantizer_for(const rq_graph *g, const char *backend, long unmatched) {
  char config[4096];
  size_t length;
  if (rq_backend_config_example(backend, config, sizeof config, &length) != RQ_OK) abort();
  const char *op_type, *name;
  if (unmatched >= 0 && rq_graph_node_info(g, (size_t)unmatched, &op_type, &name) == RQ_OK && name != NULL) {
    json_t *root = json_loads(config, 0, NULL);
    json_t *tracer = json_object_get(json_object_get(root, "quantizer"), "tracer");
    if (tracer == NULL || json_object_set_new(tracer, "unmatched_nodes", json_pack("[s]", name)) != 0) abort();
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (text == NULL || strlen(text) >= sizeof config) abort();
    strcpy(config, text);
    free(text);
  }
  rq_quantizer *q = NULL;
  if (rq_quantizer_create(config, &q) != RQ_OK) abort(); /* the examples are valid */
  return q;
}

static void quantize(const rq_graph *g, const model_inputs *in, const char *backend, long unmatched) {
  rq_quantizer *q = quantizer_for(g, backend, unmatched);
  rq_session *s = NULL;
  char path[64];
  snprintf(path, sizeof path, "/tmp/razorq-fuzz-ptq-%ld.onnx", (long)getpid());
  bool exported_ok = ok(rq_quantizer_prepare(q, g, &s)) && ok(rq_session_calibrate(s, in->t, in->n)) &&
                     ok(rq_session_convert(s)) && ok(rq_session_export(s, path));
  if (getenv("FUZZ_VERBOSE")) /* for corpus upkeep: seeds should get through */
    fprintf(stderr, "fuzz_ptq: %s: %s\n", backend, exported_ok ? "exported" : rq_last_error());
  if (exported_ok) {
    rq_graph *exported = NULL;
    if (rq_graph_load(path, &exported) != RQ_OK) abort(); /* what razorq writes, it reads */
    rq_tensor_list *out = NULL;
    rq_status st = rq_graph_run(exported, NULL, in->t, in->n, &out);
    /* It runs wherever the float model ran, short of memory. */
    if (st != RQ_OK && st != RQ_ERR_NOMEM) {
      fprintf(stderr, "fuzz_ptq: the %s export does not run: %s\n", backend, rq_last_error());
      abort();
    }
    rq_tensor_list_destroy(out);
    rq_graph_destroy(exported);
  }
  unlink(path);
  rq_session_destroy(s);
  rq_quantizer_destroy(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  install_budget();
  size_t before = rq_memory_in_use();
  rq_graph *g = NULL;
  if (!ok(rq_graph_load_buffer(data, size, &g))) {
    if (g != NULL) abort();
  } else {
    model_inputs in;
    if (!has_loop(g) && make_model_inputs(g, &in)) {
      rq_tensor_list *out = NULL;
      if (rq_graph_run(g, NULL, in.t, in.n, &out) == RQ_OK) { /* only models that run are worth quantizing */
        rq_tensor_list_destroy(out);
        size_t n_backends = sizeof backends / sizeof backends[0], n_nodes = rq_graph_node_count(g);
        long unmatched = (size / n_backends) % 2 == 1 && n_nodes > 0 ? (long)(size / (2 * n_backends) % n_nodes) : -1;
        quantize(g, &in, backends[size % n_backends], unmatched);
      }
      free_model_inputs(&in);
    }
    rq_graph_destroy(g);
  }
  if (rq_memory_in_use() != before) abort();
  return 0;
}
