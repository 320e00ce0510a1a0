/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the executor: any bytes that load as a model must
 * run to a result or fail with a message -- never crash, leak, read out of
 * bounds or take more memory than a fixed budget. The loader has its own
 * target (fuzz_onnx_load.c); this one reaches the op kernels, whose
 * attributes, initializers and declared shapes the fuzzer mutates.
 *
 * razorq's memory sits behind a budget allocator and graph inputs get their
 * declared shapes (fuzz_model_inputs.h). Compute is not bounded: a model may
 * ask for a lot of it (a huge dilated convolution), so run_fuzzers.sh
 * reports a slow input without failing; models with a Loop are skipped, as
 * their iteration count is theirs to choose. Linked with replay_main.c, the
 * corpus (tests/fuzz/corpus/exec) runs as an ordinary test. */
#include "fuzz_model_inputs.h"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(const rq_graph *g) {
  model_inputs in;
  if (!make_model_inputs(g, &in)) return;
  rq_tensor_list *out = (rq_tensor_list *)&in; /* must be reset */
  rq_status s = rq_graph_run(g, NULL, in.t, in.n, &out);
  if (getenv("FUZZ_VERBOSE")) /* for corpus upkeep: seeds should run */
    fprintf(stderr, "fuzz_exec: %s%s%s\n", rq_status_str(s), s == RQ_OK ? "" : ": ", s == RQ_OK ? "" : rq_last_error());
  if (s == RQ_OK) {
    if (out == NULL || rq_tensor_list_count(out) != rq_graph_output_count(g)) abort();
    rq_tensor_list_destroy(out);
  } else if (out != NULL || rq_last_error()[0] == '\0') {
    abort(); /* a failure leaves no outputs and explains itself */
  }
  free_model_inputs(&in);
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
