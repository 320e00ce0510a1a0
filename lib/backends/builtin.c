/* SPDX-License-Identifier: Apache-2.0 */
/* The built-in backend configs, written in the same JSON a vendor would use
 * for a custom one: there is one parser and no special cases. Op lists follow
 * MMRazor's backend configs (mmrazor/structures/quantization/backend_config/)
 * and its quantizers' redundant-fake-quant rules, mapped from torch modules to
 * ONNX op types (nn.ReLU6 -> Clip, nn.MaxPool2d -> MaxPool, flatten -> Flatten). */
#include "backends/builtin.h"

#include <string.h>

/* Ops whose output reuses its input's qparams in PyTorch's native backend
 * config (_get_share_qparams_op_configs), as ONNX op types. */
#define SHARE_QPARAMS_OPS                                                              \
  "\"MaxPool\", \"AveragePool\", \"GlobalAveragePool\", \"GlobalMaxPool\", \"Relu\", " \
  "\"Clip\", \"Flatten\", \"Reshape\", \"Transpose\", \"Squeeze\", \"Unsqueeze\", "  \
  "\"ReduceMean\", \"Identity\", \"Pad\""

/* Output ranges of ops with fixed qparams (PyTorch: sigmoid/hardsigmoid/softmax
 * scale 1/256 over [0, 1], tanh 2/256 over [-1, 1]). */
#define FIXED_QPARAMS_OPS                                                          \
  "{\"Sigmoid\": [0.0, 1.0], \"HardSigmoid\": [0.0, 1.0], \"Softmax\": [0.0, 1.0], " \
  "\"Tanh\": [-1.0, 1.0]}"

/* MMRazor's OpenVINO and TensorRT quantizers: no fake-quant right before
 * ReLU6/Identity, right after MaxPool2d/flatten, or on the graph outputs. */
#define MMRAZOR_REDUNDANT                                                  \
  "\"no_fakequant_before\": [\"Clip\", \"Identity\"], "                    \
  "\"no_fakequant_after\": [\"MaxPool\", \"Flatten\"], "                   \
  "\"no_fakequant_on_outputs\": true"

static const rq__builtin_backend builtins[] = {
  {"native", "{"
   "\"name\": \"native\", \"quantizer\": \"NativeQuantizer\", "
   "\"activation\": {\"dtypes\": [\"quint8\"], \"modes\": [\"per_tensor\"], \"bits\": [1, 8]}, "
   "\"weight\": {\"dtypes\": [\"qint8\"], \"modes\": [\"per_tensor\", \"per_channel\"], \"bits\": [1, 8]}, "
   "\"ops\": {\"weighted\": [\"Conv\", \"Gemm\", \"MatMul\"], \"binary\": [\"Add\", \"Mul\"], "
   "\"concat\": [\"Concat\"], \"share_qparams\": [" SHARE_QPARAMS_OPS "]}, "
   "\"fixed_qparams\": " FIXED_QPARAMS_OPS ", "
   "\"export\": {\"format\": \"qdq\", \"int32_bias\": false}}"},
  {"openvino", "{"
   "\"name\": \"openvino\", \"quantizer\": \"OpenVINOQuantizer\", "
   "\"activation\": {\"dtypes\": [\"quint8\"], \"modes\": [\"per_tensor\"], \"bits\": [1, 8]}, "
   "\"weight\": {\"dtypes\": [\"qint8\"], \"modes\": [\"per_tensor\", \"per_channel\"], \"bits\": [1, 8]}, "
   "\"ops\": {\"weighted\": [\"Conv\", \"Gemm\", \"MatMul\"], \"binary\": [\"Add\", \"Mul\"], "
   "\"concat\": [\"Concat\"], \"share_qparams\": [" SHARE_QPARAMS_OPS "]}, "
   MMRAZOR_REDUNDANT ", "
   "\"export\": {\"format\": \"qdq\", \"int32_bias\": false}}"},
  {"tensorrt", "{"
   "\"name\": \"tensorrt\", \"quantizer\": \"TensorRTQuantizer\", "
   "\"activation\": {\"dtypes\": [\"qint8\"], \"modes\": [\"per_tensor\"], \"symmetric_only\": true, "
   "\"bits\": [8, 8]}, "
   "\"weight\": {\"dtypes\": [\"qint8\"], \"modes\": [\"per_channel\"], \"symmetric_only\": true, "
   "\"bits\": [8, 8], \"ch_axis\": 0}, "
   "\"ops\": {\"weighted\": [\"Conv\", \"Gemm\", \"MatMul\"]}, "
   MMRAZOR_REDUNDANT ", "
   "\"export\": {\"format\": \"qdq\", \"int32_bias\": false}}"},
  {"academic", "{"
   "\"name\": \"academic\", \"quantizer\": \"AcademicQuantizer\", "
   "\"activation\": {\"dtypes\": [\"quint8\", \"qint8\"], \"modes\": [\"per_tensor\", \"per_channel\"], "
   "\"bits\": [1, 16]}, "
   "\"weight\": {\"dtypes\": [\"quint8\", \"qint8\"], \"modes\": [\"per_tensor\", \"per_channel\"], "
   "\"bits\": [1, 16]}, "
   "\"ops\": {\"weighted\": [\"Conv\", \"Gemm\", \"MatMul\"]}, "
   "\"per_node_qconfig\": true, "
   "\"export\": {\"format\": \"qdq\", \"int32_bias\": false}}"},
  {"onnxruntime", "{"
   "\"name\": \"onnxruntime\", \"quantizer\": \"ONNXRuntimeQuantizer\", "
   "\"activation\": {\"dtypes\": [\"quint8\", \"qint8\"], \"modes\": [\"per_tensor\"], \"bits\": [1, 8]}, "
   "\"weight\": {\"dtypes\": [\"qint8\"], \"modes\": [\"per_tensor\", \"per_channel\"], \"bits\": [1, 8]}, "
   "\"ops\": {\"weighted\": [\"Conv\", \"Gemm\", \"MatMul\"], \"binary\": [\"Add\", \"Mul\"], "
   "\"concat\": [\"Concat\"], \"share_qparams\": [" SHARE_QPARAMS_OPS "]}, "
   "\"fixed_qparams\": " FIXED_QPARAMS_OPS ", "
   "\"export\": {\"format\": \"qdq\", \"int32_bias\": true}}"},
};

/* Names a config may use for a built-in: its own, MMRazor's quantizer class
 * (with or without the "mmrazor." prefix), and short aliases. */
static const struct { const char *alias, *name; } aliases[] = {
  {"NativeQuantizer", "native"},       {"TorchNativeQuantizer", "native"},
  {"OpenVINOQuantizer", "openvino"},   {"OpenvinoQuantizer", "openvino"},
  {"TensorRTQuantizer", "tensorrt"},   {"trt", "tensorrt"},
  {"AcademicQuantizer", "academic"},   {"ONNXRuntimeQuantizer", "onnxruntime"},
  {"OnnxRuntimeQuantizer", "onnxruntime"}, {"ort", "onnxruntime"},
};

const rq__builtin_backend *rq__builtin_backends(size_t *count) {
  *count = sizeof builtins / sizeof builtins[0];
  return builtins;
}

const char *rq__backend_canonical_name(const char *name) {
  if (strncmp(name, "mmrazor.", 8) == 0) name += 8;
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (strcmp(aliases[i].alias, name) == 0) return aliases[i].name;
  return name;
}
