/* SPDX-License-Identifier: Apache-2.0 */
/* razorq inspect: what is in an ONNX model. */
#include "cli_util.h"

#include <stdlib.h>
#include <string.h>

static void print_value(const char *role, const rq_value_info *info) {
  const char *wrap = info->kind == RQ_VALUE_SEQUENCE                                         ? "sequence of "
                     : info->kind == RQ_VALUE_OPTIONAL && info->inner_kind == RQ_VALUE_SEQUENCE ? "optional sequence of "
                     : info->kind == RQ_VALUE_OPTIONAL                                        ? "optional "
                                                                                              : "";
  printf("  %s %s: %s%s [", role, info->name, wrap, rq_onnx_type_name(info->onnx_type));
  if (info->ndim < 0) printf("?");
  for (int d = 0; d < info->ndim; d++) {
    if (d) printf(", ");
    if (info->dims[d] >= 0) printf("%lld", (long long)info->dims[d]);
    else printf("%s", info->dim_names[d] != NULL ? info->dim_names[d] : "?");
  }
  printf("]\n");
}

/* Quantizes in process and lists every fake-quant place with its qparams
 * and the SQNR between float and fake-quantized tensors on `data` (its
 * first 256 samples; the calibration data when none is given). */
static int inspect_quantized(const rq_graph *g, const char *config, const rq_cli_specs *calib_specs,
                             const rq_cli_specs *data_specs, size_t steps, size_t batch) {
  rq_quantizer *q;
  if (rq_cli_load_quantizer("inspect", config, &q) != RQ_CLI_OK) return RQ_CLI_FAILED;
  rq_session *session = NULL;
  rq_cli_data calib, data = {0};
  int rc = rq_cli_data_load("inspect", g, calib_specs, 1, &calib);
  if (rc == RQ_CLI_OK) rc = rq_cli_quantize("inspect", q, g, &calib, steps, batch, 1, &session);
  rq_quantizer_destroy(q);
  const rq_cli_data *sqnr_data = &calib;
  if (rc == RQ_CLI_OK && data_specs->n > 0) {
    rc = rq_cli_data_load("inspect", g, data_specs, 1, &data);
    sqnr_data = &data;
  }
  if (rc != RQ_CLI_OK) {
    rq_cli_data_free(&calib);
    rq_cli_data_free(&data);
    rq_session_destroy(session);
    return rc;
  }
  int64_t shapes[RQ_CLI_MAX_INPUTS][RQ_NPY_MAX_DIMS];
  DLTensor x[RQ_CLI_MAX_INPUTS];
  int64_t rows = sqnr_data->unbatched ? 1 : sqnr_data->samples > 256 ? 256 : sqnr_data->samples;
  rq_cli_data_batch(sqnr_data, 0, rows, x, shapes);
  const char *source = (data_specs->n > 0 ? data_specs : calib_specs)->items[0];
  size_t n = rq_session_point_count(session), count = 0;
  double *sqnr = malloc((n > 0 ? n : 1) * sizeof *sqnr);
  rq_status s = sqnr != NULL ? rq_session_sqnr(session, x, sqnr_data->n, sqnr, n, &count)
                              : rq_error_set(RQ_ERR_NOMEM, "out of memory");
  if (s == RQ_OK) {
    printf("  quantized places (%s backend plan, SQNR on %lld samples of %s%s):\n", "the config's", (long long)rows,
           source, sqnr_data->n > 1 ? " and the other inputs' files" : "");
    printf("    %-8s %-44s %-22s %-10s %s\n", "kind", "edge", "scale", "zero pt", "SQNR dB");
    for (size_t i = 0; i < n; i++) {
      const char *edge;
      bool is_weight;
      rq_fake_quant *fq;
      rq_session_point_info(session, i, &edge, &is_weight, &fq);
      float scale[1];
      float zp[1];
      size_t channels = 0;
      rq_fake_quant_get_params(fq, NULL, NULL, 0, &channels);
      char scale_text[32], zp_text[16];
      if (channels == 1 && rq_fake_quant_get_params(fq, scale, zp, 1, &channels) == RQ_OK) {
        snprintf(scale_text, sizeof scale_text, "%.6g", (double)scale[0]);
        snprintf(zp_text, sizeof zp_text, "%d", (int)zp[0]);
      } else {
        snprintf(scale_text, sizeof scale_text, "per-channel (%zu)", channels);
        snprintf(zp_text, sizeof zp_text, "-");
      }
      printf("    %-8s %-44s %-22s %-10s %.2f\n", is_weight ? "weight" : "act", edge, scale_text, zp_text, sqnr[i]);
    }
  }
  free(sqnr);
  rq_cli_data_free(&calib);
  rq_cli_data_free(&data);
  rq_session_destroy(session);
  return s == RQ_OK ? RQ_CLI_OK : rq_cli_fail("inspect", s);
}

static int run_inspect(int argc, char **argv) {
  const char *model_path = NULL, *config = NULL;
  rq_cli_specs calib = {.option = "--calib"}, data = {.option = "--data"};
  size_t steps = 0, batch = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] == '-' && i + 1 >= argc) return rq_cli_usage_error("inspect", "%s needs a value", a);
    if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) config = argv[++i];
    else if (strcmp(a, "--calib") == 0) { if (rq_cli_specs_add("inspect", &calib, argv[++i])) return RQ_CLI_USAGE; }
    else if (strcmp(a, "--data") == 0) { if (rq_cli_specs_add("inspect", &data, argv[++i])) return RQ_CLI_USAGE; }
    else if (strcmp(a, "--steps") == 0) { if (rq_cli_parse_size("inspect", a, argv[++i], &steps)) return RQ_CLI_USAGE; }
    else if (strcmp(a, "--batch") == 0) { if (rq_cli_parse_size("inspect", a, argv[++i], &batch)) return RQ_CLI_USAGE; }
    else if (a[0] == '-') return rq_cli_usage_error("inspect", "unknown option %s", a);
    else if (model_path != NULL) return rq_cli_usage_error("inspect", "unexpected argument '%s'", a);
    else model_path = a;
  }
  if (model_path == NULL) return rq_cli_usage_error("inspect", "MODEL.onnx is required");
  if ((config == NULL) != (calib.n == 0))
    return rq_cli_usage_error("inspect", "--config and --calib go together");
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
  int rc = config != NULL ? inspect_quantized(g, config, &calib, &data, steps, batch) : RQ_CLI_OK;
  rq_graph_destroy(g);
  return rc;
}

const rq_cli_command rq_cli_cmd_inspect = {
  "inspect", "show a model's inputs, outputs, ops, parameter count and fingerprint",
  "Usage: razorq inspect MODEL.onnx\n"
  "       razorq inspect MODEL.onnx --config CFG.json --calib [NAME=]X.npy ...\n"
  "                      [--data [NAME=]D.npy ...]\n"
  "                      [--steps N] [--batch B]\n\n"
  "Prints the model's inputs and outputs with their types and shapes (symbolic\n"
  "dimensions by name), the node and parameter counts, the op types with their\n"
  "node counts (and which ones the executor cannot run), and the model's\n"
  "fingerprint: an XXH3-64 hash of structure and weights that ignores names.\n\n"
  "With --config and --calib, the model is quantized in process (as 'razorq ptq'\n"
  "would) and every quantized edge and weight is listed with its scale, zero point\n"
  "and the SQNR (dB) between the float and the fake-quantized tensor on D.npy (the\n"
  "first 256 samples; default: the calibration data). A low SQNR shows where\n"
  "quantization loses precision. --calib and --data take one file per model\n"
  "input, as 'razorq ptq --calib' does.\n",
  run_inspect,
};
