/* SPDX-License-Identifier: Apache-2.0 */
/* razorq ptq: post-training quantization of an ONNX model. */
#include "cli_util.h"

#include <string.h>

static int run_ptq(int argc, char **argv) {
  const char *model_path = NULL, *config = NULL, *calib = NULL, *out = NULL;
  size_t steps = 0, batch = 0;
  int quiet = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) { quiet = 1; continue; }
    if (a[0] == '-' && value == NULL) return rq_cli_usage_error("ptq", "%s needs a value", a);
    if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) config = argv[++i];
    else if (strcmp(a, "--calib") == 0) calib = argv[++i];
    else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) out = argv[++i];
    else if (strcmp(a, "--steps") == 0) { if (rq_cli_parse_size("ptq", a, argv[++i], &steps)) return RQ_CLI_USAGE; }
    else if (strcmp(a, "--batch") == 0) { if (rq_cli_parse_size("ptq", a, argv[++i], &batch)) return RQ_CLI_USAGE; }
    else if (a[0] == '-') return rq_cli_usage_error("ptq", "unknown option %s", a);
    else if (model_path == NULL) model_path = a;
    else return rq_cli_usage_error("ptq", "unexpected argument '%s'", a);
  }
  if (model_path == NULL || config == NULL || calib == NULL || out == NULL)
    return rq_cli_usage_error("ptq", "MODEL.onnx, --config, --calib and -o are required");

  rq_quantizer *q;
  if (rq_cli_load_quantizer("ptq", config, &q) != RQ_CLI_OK) return RQ_CLI_FAILED;
  rq_graph *model;
  rq_status s = rq_graph_load(model_path, &model);
  if (s != RQ_OK) {
    rq_quantizer_destroy(q);
    return rq_cli_fail("ptq", s);
  }
  rq_session *session;
  int rc = rq_cli_quantize("ptq", q, model, calib, steps, batch, quiet, &session);
  rq_quantizer_destroy(q);
  rq_graph_destroy(model);
  if (rc != RQ_CLI_OK) return rc;
  s = rq_session_export(session, out);
  rq_session_destroy(session);
  if (s != RQ_OK) return rq_cli_fail("ptq", s);
  if (!quiet) fprintf(stderr, "wrote %s\n", out);
  return RQ_CLI_OK;
}

const rq_cli_command rq_cli_cmd_ptq = {
  "ptq", "post-training quantization: calibrate an ONNX model, export QDQ ONNX",
  "Usage: razorq ptq MODEL.onnx --config CFG.json --calib X.npy -o OUT.onnx\n"
  "                  [--steps N] [--batch B] [--quiet]\n\n"
  "Quantizes a float ONNX model the way MMRazor's PTQLoop does: the backend in\n"
  "CFG.json decides where fake-quants go, the model runs on N batches of B\n"
  "samples from X.npy (rows along its first axis) with every fake-quant on and\n"
  "its observer collecting statistics, then the qparams are fixed and the model\n"
  "is written as QDQ ONNX (QuantizeLinear/DequantizeLinear) that ONNX Runtime,\n"
  "TensorRT and OpenVINO load.\n\n"
  "  -c, --config CFG.json  quantization config (see 'razorq config --example openvino'\n"
  "                         and doc/config.md)\n"
  "  --calib X.npy          calibration inputs, float32, [N, ...] as the model takes them\n"
  "  -o, --output OUT.onnx  where to write the quantized model\n"
  "  --steps N              calibration batches (default: the config's calibrate_steps;\n"
  "                         at most as many as X.npy holds)\n"
  "  --batch B              samples per batch (default: calibrate_batch_size)\n"
  "  -q, --quiet            print nothing but errors (no notes, no progress bar)\n\n"
  "Notes on stderr say which places stay float and why (skipped nodes, ops the\n"
  "backend does not quantize, redundant fake-quants removed for the backend).\n",
  run_ptq,
};
