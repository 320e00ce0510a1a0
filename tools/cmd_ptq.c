/* SPDX-License-Identifier: Apache-2.0 */
/* razorq ptq: post-training quantization of an ONNX model. */
#include "cli_util.h"

#include <stdio.h>
#include <string.h>

static int run_ptq(int argc, char **argv) {
  const char *model_path = NULL, *config = NULL, *out = NULL;
  rq_cli_specs calib = {.option = "--calib"};
  const char *table_out = NULL, *trt_cache = NULL, *table_in = NULL, *format = NULL;
  size_t steps = 0, batch = 0;
  int quiet = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) { quiet = 1; continue; }
    if (a[0] == '-' && value == NULL) return rq_cli_usage_error("ptq", "%s needs a value", a);
    if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) config = argv[++i];
    else if (strcmp(a, "--calib") == 0) { if (rq_cli_specs_add("ptq", &calib, argv[++i])) return RQ_CLI_USAGE; }
    else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) out = argv[++i];
    else if (strcmp(a, "--calib-table") == 0) table_out = argv[++i];
    else if (strcmp(a, "--trt-cache") == 0) trt_cache = argv[++i];
    else if (strcmp(a, "--from-table") == 0) table_in = argv[++i];
    else if (strcmp(a, "--format") == 0) format = argv[++i];
    else if (strcmp(a, "--steps") == 0) { if (rq_cli_parse_size("ptq", a, argv[++i], &steps)) return RQ_CLI_USAGE; }
    else if (strcmp(a, "--batch") == 0) { if (rq_cli_parse_size("ptq", a, argv[++i], &batch)) return RQ_CLI_USAGE; }
    else if (a[0] == '-') return rq_cli_usage_error("ptq", "unknown option %s", a);
    else if (model_path == NULL) model_path = a;
    else return rq_cli_usage_error("ptq", "unexpected argument '%s'", a);
  }
  if (model_path == NULL || config == NULL || out == NULL)
    return rq_cli_usage_error("ptq", "MODEL.onnx, --config and -o are required");
  rq_session_export_options export_opts;
  rq_session_export_options_init(&export_opts, sizeof export_opts);
  if (format != NULL && strcmp(format, "qdq") == 0) export_opts.format = RQ_EXPORT_FORMAT_QDQ;
  else if (format != NULL && strcmp(format, "openvino-fq") == 0) export_opts.format = RQ_EXPORT_FORMAT_OPENVINO_FQ;
  else if (format != NULL) return rq_cli_usage_error("ptq", "--format %s: give qdq or openvino-fq", format);
  if ((calib.n == 0) == (table_in == NULL))
    return rq_cli_usage_error("ptq", "give --calib X.npy to calibrate, or --from-table T.rqcal to reuse a calibration");

  rq_quantizer *q;
  if (rq_cli_load_quantizer("ptq", config, &q) != RQ_CLI_OK) return RQ_CLI_FAILED;
  rq_graph *model;
  rq_status s = rq_graph_load(model_path, &model);
  if (s != RQ_OK) {
    rq_quantizer_destroy(q);
    return rq_cli_fail("ptq", s);
  }
  rq_session *session = NULL;
  int rc = RQ_CLI_OK;
  if (table_in != NULL) {
    s = rq_quantizer_prepare(q, model, &session);
    if (s == RQ_OK) s = rq_session_load_calibration(session, table_in);
    if (s != RQ_OK) rc = rq_cli_fail("ptq", s);
  } else {
    rq_cli_data data;
    rc = rq_cli_data_load("ptq", model, &calib, 1, &data);
    if (rc == RQ_CLI_OK) rc = rq_cli_quantize("ptq", q, model, &data, steps, batch, quiet, &session);
    rq_cli_data_free(&data);
  }
  rq_quantizer_destroy(q);
  rq_graph_destroy(model);
  if (rc != RQ_CLI_OK) {
    rq_session_destroy(session);
    return rc;
  }
  /* The side files first, the model last; a failure removes what this run
   * wrote, so no half set of outputs is left behind. */
  const char *written[3] = {trt_cache, table_out, out};
  int n_written = 0;
  s = RQ_OK;
  for (int k = 0; k < 3 && s == RQ_OK; k++) {
    if (written[k] == NULL) continue;
    s = k == 0 ? rq_session_save_trt_cache(session, trt_cache)
        : k == 1 ? rq_session_save_calibration(session, table_out)
                 : rq_session_export_with(session, out, &export_opts);
    if (s == RQ_OK) n_written = k + 1;
  }
  rq_session_destroy(session);
  if (s != RQ_OK) {
    rc = rq_cli_fail("ptq", s);
    for (int k = 0; k < n_written; k++)
      if (written[k] != NULL) remove(written[k]);
    return rc;
  }
  for (int k = 2; k >= 0 && !quiet; k--)
    if (written[k] != NULL) fprintf(stderr, "wrote %s\n", written[k]);
  return RQ_CLI_OK;
}

const rq_cli_command rq_cli_cmd_ptq = {
  "ptq", "post-training quantization: calibrate an ONNX model, export QDQ ONNX",
  "Usage: razorq ptq MODEL.onnx --config CFG.json --calib [NAME=]X.npy ... -o OUT.onnx\n"
  "                  [--steps N] [--batch B] [--calib-table T.rqcal]\n"
  "                  [--trt-cache T.cache] [--format qdq|openvino-fq] [--quiet]\n"
  "       razorq ptq MODEL.onnx --config CFG.json --from-table T.rqcal -o OUT.onnx\n\n"
  "Quantizes a float ONNX model the way MMRazor's PTQLoop does: the backend in\n"
  "CFG.json decides where fake-quants go, the model runs on N batches of B\n"
  "samples (rows along the first axis of X.npy) with every fake-quant on and\n"
  "its observer collecting statistics, then the qparams are fixed and the model\n"
  "is written as QDQ ONNX (QuantizeLinear/DequantizeLinear) that ONNX Runtime,\n"
  "TensorRT and OpenVINO load.\n\n"
  "  -c, --config CFG.json  quantization config (see 'razorq config --example openvino'\n"
  "                         and doc/config.md)\n"
  "  --calib [NAME=]X.npy   calibration inputs, [N, ...] as the model takes them, one\n"
  "                         --calib per model input, each with the same N samples:\n"
  "                         NAME=X.npy binds by input name, plain files fill the other\n"
  "                         inputs in the model's order. A model whose inputs have no\n"
  "                         batch dimension (each X.npy has one axis more) gets the N\n"
  "                         samples one at a time\n"
  "  -o, --output OUT.onnx  where to write the quantized model\n"
  "  --steps N              calibration batches (default: the config's calibrate_steps;\n"
  "                         at most as many as the samples make)\n"
  "  --batch B              samples per batch (default: calibrate_batch_size)\n"
  "  --calib-table T.rqcal  also write the calibration table (every scale and zero\n"
  "                         point, bound to this model and config)\n"
  "  --trt-cache T.cache    also write TensorRT's calibration cache\n"
  "  --format F             qdq (QuantizeLinear/DequantizeLinear) or openvino-fq (MMRazor's\n"
  "                         OpenVINO FakeQuantize nodes); default: the backend's export.format\n"
  "  --from-table T.rqcal   reuse a calibration table instead of calibrating; a table\n"
  "                         made for another model or config is refused\n"
  "  -q, --quiet            print nothing but errors (no notes, no progress bar)\n\n"
  "Notes on stderr say which places stay float and why (skipped nodes, ops the\n"
  "backend does not quantize, redundant fake-quants removed for the backend),\n"
  "and, with AdaRound weights (doc/config.md), each layer's reconstruction\n"
  "error before and after; progress bars show calibration and AdaRound.\n",
  run_ptq,
};
