/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the ONNX loader. Any bytes must either load into a
 * graph that is consistent (it re-serializes, reloads to the same
 * fingerprint, and survives the passes) or be refused with a message, never
 * crash, leak or over-allocate. replay_main.c turns it into an ordinary test
 * over tests/fuzz/corpus/onnx. */
#include "graph/graph.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reload(const rq_graph *g) {
  void *buf;
  size_t n;
  if (rq__graph_serialize(g, &buf, &n) != RQ_OK) abort();
  rq_graph *back = NULL;
  /* What was accepted (and possibly rewritten) must be writable and readable. */
  if (rq_graph_load_buffer(buf, n, &back) != RQ_OK) abort();
  if (rq__graph_fingerprint(back) != rq__graph_fingerprint(g)) abort();
  rq_graph_destroy(back);
  rq__free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t before = rq_memory_in_use();
  rq_graph *g = (rq_graph *)&before; /* must be reset to NULL on failure */
  rq_status s = rq_graph_load_buffer(data, size, &g);
  if (s != RQ_OK) {
    if (g != NULL || rq_last_error()[0] == '\0' || rq_memory_in_use() != before) abort();
    return 0;
  }
  /* Inspection touches every declared value. */
  for (size_t i = 0; i < rq_graph_input_count(g); i++) {
    rq_value_info info;
    rq_value_info_init(&info, sizeof info);
    if (rq_graph_input_info(g, i, &info) != RQ_OK || info.name == NULL) abort();
  }
  size_t total = 0, count;
  for (size_t i = 0; i < rq_graph_op_type_count(g); i++) {
    if (rq_graph_op_type_info(g, i, NULL, &count) != RQ_OK) abort();
    total += count;
  }
  if (total != rq_graph_node_count(g)) abort();
  check_reload(g);

  /* Passes either succeed, leaving a valid graph, or fail cleanly. */
  rq__fusion *groups = NULL;
  int n_groups = 0;
  if (rq__graph_find_fusions(g, &groups, &n_groups) == RQ_OK) rq__free(groups);
  if (rq__pass_infer_shapes(g, NULL) != RQ_OK) abort(); /* only NOMEM may fail it */
  if (rq__pass_fold_constants(g, NULL) == RQ_OK && rq__pass_fold_batchnorm(g, NULL) == RQ_OK)
    check_reload(g);
  rq_graph_destroy(g);
  if (rq_memory_in_use() != before) abort();
  return 0;
}
