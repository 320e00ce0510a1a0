/* SPDX-License-Identifier: Apache-2.0 */
/* razorq inspect: what is in an ONNX model. */
#include "cli_util.h"

#include <string.h>

static void print_value(const char *kind, const rq_value_info *info) {
  printf("  %s %s: %s [", kind, info->name, rq_onnx_type_name(info->onnx_type));
  if (info->ndim < 0) printf("?");
  for (int d = 0; d < info->ndim; d++) {
    if (d) printf(", ");
    if (info->dims[d] >= 0) printf("%lld", (long long)info->dims[d]);
    else printf("%s", info->dim_names[d] != NULL ? info->dim_names[d] : "?");
  }
  printf("]\n");
}

static int run_inspect(int argc, char **argv) {
  const char *model_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-') return rq_cli_usage_error("inspect", "unknown option %s", argv[i]);
    if (model_path != NULL) return rq_cli_usage_error("inspect", "unexpected argument '%s'", argv[i]);
    model_path = argv[i];
  }
  if (model_path == NULL) return rq_cli_usage_error("inspect", "MODEL.onnx is required");
  rq_graph *g;
  rq_status s = rq_graph_load(model_path, &g);
  if (s != RQ_OK) return rq_cli_fail("inspect", s);
  uint64_t params = 0, fingerprint = 0;
  rq_graph_parameter_count(g, &params);
  rq_graph_fingerprint(g, &fingerprint);
  printf("%s\n", model_path);
  printf("  nodes: %zu, parameters: %llu, fingerprint: %016llx\n", rq_graph_node_count(g),
         (unsigned long long)params, (unsigned long long)fingerprint);
  for (size_t i = 0; i < rq_graph_input_count(g); i++) {
    rq_value_info info;
    rq_value_info_init(&info, sizeof info);
    rq_graph_input_info(g, i, &info);
    print_value("input", &info);
  }
  for (size_t i = 0; i < rq_graph_output_count(g); i++) {
    rq_value_info info;
    rq_value_info_init(&info, sizeof info);
    rq_graph_output_info(g, i, &info);
    print_value("output", &info);
  }
  printf("  ops:\n");
  size_t quantize_nodes = 0;
  for (size_t i = 0; i < rq_graph_op_type_count(g); i++) {
    const char *op;
    size_t count;
    rq_graph_op_type_info(g, i, &op, &count);
    printf("    %-24s %zu%s\n", op, count, rq_exec_supports_op(op) ? "" : "  (not supported by the executor)");
    if (strcmp(op, "QuantizeLinear") == 0 || strcmp(op, "DequantizeLinear") == 0) quantize_nodes += count;
  }
  if (quantize_nodes > 0) printf("  quantized: %zu QuantizeLinear/DequantizeLinear nodes\n", quantize_nodes);
  rq_graph_destroy(g);
  return RQ_CLI_OK;
}

const rq_cli_command rq_cli_cmd_inspect = {
  "inspect", "show a model's inputs, outputs, ops, parameter count and fingerprint",
  "Usage: razorq inspect MODEL.onnx\n\n"
  "Prints the model's inputs and outputs with their types and shapes (symbolic\n"
  "dimensions by name), the node and parameter counts, the op types with their\n"
  "node counts (and which ones the executor cannot run), and the model's\n"
  "fingerprint: an XXH3-64 hash of structure and weights that ignores names.\n",
  run_inspect,
};
