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

/* PyTorch 1.13's conv/linear fusion patterns take ReLU only (nn.ReLU,
 * F.relu): a ReLU6 (Clip) after a conv keeps its own place, sharing the
 * conv output's qparams. The other built-ins keep fusing Clip: OpenVINO
 * drops the fake-quant before a Clip anyway, and TensorRT and ONNX Runtime
 * fuse Conv+Clip themselves. */
#define FX_FUSED_ACTIVATIONS "\"fused_activations\": [\"Relu\"]"

/* MMRazor's OpenVINO and TensorRT quantizers: no fake-quant right before
 * ReLU6/Identity, right after MaxPool2d/flatten, or on the graph outputs. */
#define MMRAZOR_REDUNDANT                                                  \
  "\"no_fakequant_before\": [\"Clip\", \"Identity\"], "                    \
  "\"no_fakequant_after\": [\"MaxPool\", \"Flatten\"], "                   \
  "\"no_fakequant_on_outputs\": true"

/* A starting quantizer config per backend: MMRazor's shipped qconfigs for
 * it (configs/quantization/ptq/base/ptq_*), in razorq's JSON config format. */
#define EXAMPLE(quantizer, w_observer, a_observer, w_qscheme, a_qscheme)                     \
  "{\n"                                                                                      \
  "  \"global_qconfig\": {\n"                                                              \
  "    \"w_observer\": {\"type\": \"mmrazor." w_observer "\"},\n"                      \
  "    \"a_observer\": {\"type\": \"mmrazor." a_observer "\"},\n"                      \
  "    \"w_fake_quant\": {\"type\": \"mmrazor.FakeQuantize\"},\n"                      \
  "    \"a_fake_quant\": {\"type\": \"mmrazor.FakeQuantize\"},\n"                      \
  "    \"w_qscheme\": " w_qscheme ",\n"                                                    \
  "    \"a_qscheme\": " a_qscheme "\n"                                                     \
  "  },\n"                                                                                   \
  "  \"quantizer\": {\"type\": \"mmrazor." quantizer "\",\n"                           \
  "                \"tracer\": {\"skipped_nodes\": [], \"skipped_op_types\": []}},\n" \
  "  \"calibrate_steps\": 32,\n"                                                           \
  "  \"calibrate_batch_size\": 32\n"                                                       \
  "}\n"

#define W_SYM_RANGE "{\"qdtype\": \"qint8\", \"bit\": 8, \"is_symmetry\": true, \"is_symmetric_range\": true}"

static const rq__builtin_backend builtins[] = {
  {"native", "{"
   "\"name\": \"native\", \"quantizer\": \"NativeQuantizer\", "
   "\"activation\": {\"dtypes\": [\"quint8\"], \"modes\": [\"per_tensor\"], \"bits\": [1, 8]}, "
   "\"weight\": {\"dtypes\": [\"qint8\"], \"modes\": [\"per_tensor\", \"per_channel\"], \"bits\": [1, 8]}, "
   "\"ops\": {\"weighted\": [\"Conv\", \"Gemm\", \"MatMul\"], \"binary\": [\"Add\", \"Mul\"], "
   "\"concat\": [\"Concat\"], \"share_qparams\": [" SHARE_QPARAMS_OPS "]}, "
   FX_FUSED_ACTIVATIONS ", "
   "\"fixed_qparams\": " FIXED_QPARAMS_OPS ", "
   "\"export\": {\"format\": \"qdq\", \"int32_bias\": false}}",
   EXAMPLE("NativeQuantizer", "PerChannelMinMaxObserver", "MovingAverageMinMaxObserver", W_SYM_RANGE, "{\"qdtype\": \"quint8\", \"bit\": 8, \"is_symmetry\": false, \"averaging_constant\": 0.1}")},
  {"openvino", "{"
   "\"name\": \"openvino\", \"quantizer\": \"OpenVINOQuantizer\", "
   "\"activation\": {\"dtypes\": [\"quint8\"], \"modes\": [\"per_tensor\"], \"bits\": [1, 8]}, "
   "\"weight\": {\"dtypes\": [\"qint8\"], \"modes\": [\"per_tensor\", \"per_channel\"], \"bits\": [1, 8]}, "
   "\"ops\": {\"weighted\": [\"Conv\", \"Gemm\", \"MatMul\"], \"binary\": [\"Add\", \"Mul\"], "
   "\"concat\": [\"Concat\"], \"share_qparams\": [" SHARE_QPARAMS_OPS "]}, "
   MMRAZOR_REDUNDANT ", "
   "\"export\": {\"format\": \"qdq\", \"int32_bias\": false}}",
   EXAMPLE("OpenVINOQuantizer", "PerChannelMinMaxObserver", "MovingAverageMinMaxObserver", W_SYM_RANGE, "{\"qdtype\": \"quint8\", \"bit\": 8, \"is_symmetry\": true, \"averaging_constant\": 0.1}")},
  {"tensorrt", "{"
   "\"name\": \"tensorrt\", \"quantizer\": \"TensorRTQuantizer\", "
   "\"activation\": {\"dtypes\": [\"qint8\"], \"modes\": [\"per_tensor\"], \"symmetric_only\": true, "
   "\"bits\": [8, 8]}, "
   "\"weight\": {\"dtypes\": [\"qint8\"], \"modes\": [\"per_channel\"], \"symmetric_only\": true, "
   "\"bits\": [8, 8], \"ch_axis\": 0}, "
   "\"ops\": {\"weighted\": [\"Conv\", \"Gemm\", \"MatMul\"]}, "
   MMRAZOR_REDUNDANT ", "
   "\"export\": {\"format\": \"qdq\", \"int32_bias\": false}}",
   EXAMPLE("TensorRTQuantizer", "PerChannelMinMaxObserver", "MovingAverageMinMaxObserver", W_SYM_RANGE, "{\"qdtype\": \"qint8\", \"bit\": 8, \"is_symmetry\": true, \"averaging_constant\": 0.1}")},
  {"academic", "{"
   "\"name\": \"academic\", \"quantizer\": \"AcademicQuantizer\", "
   "\"activation\": {\"dtypes\": [\"quint8\", \"qint8\"], \"modes\": [\"per_tensor\", \"per_channel\"], "
   "\"bits\": [1, 16]}, "
   "\"weight\": {\"dtypes\": [\"quint8\", \"qint8\"], \"modes\": [\"per_tensor\", \"per_channel\"], "
   "\"bits\": [1, 16]}, "
   "\"ops\": {\"weighted\": [\"Conv\", \"Gemm\", \"MatMul\"]}, "
   FX_FUSED_ACTIVATIONS ", "
   "\"per_node_qconfig\": true, "
   "\"export\": {\"format\": \"qdq\", \"int32_bias\": false}}",
   EXAMPLE("AcademicQuantizer", "PerChannelMinMaxObserver", "MovingAverageMinMaxObserver", W_SYM_RANGE, "{\"qdtype\": \"quint8\", \"bit\": 8, \"is_symmetry\": false, \"averaging_constant\": 0.1}")},
  {"onnxruntime", "{"
   "\"name\": \"onnxruntime\", \"quantizer\": \"ONNXRuntimeQuantizer\", "
   "\"activation\": {\"dtypes\": [\"quint8\", \"qint8\"], \"modes\": [\"per_tensor\"], \"bits\": [1, 8]}, "
   "\"weight\": {\"dtypes\": [\"qint8\"], \"modes\": [\"per_tensor\", \"per_channel\"], \"bits\": [1, 8]}, "
   "\"ops\": {\"weighted\": [\"Conv\", \"Gemm\", \"MatMul\"], \"binary\": [\"Add\", \"Mul\"], "
   "\"concat\": [\"Concat\"], \"share_qparams\": [" SHARE_QPARAMS_OPS "]}, "
   "\"fixed_qparams\": " FIXED_QPARAMS_OPS ", "
   "\"export\": {\"format\": \"qdq\", \"int32_bias\": true}}",
   EXAMPLE("ONNXRuntimeQuantizer", "PerChannelMinMaxObserver", "MinMaxObserver", W_SYM_RANGE, "{\"qdtype\": \"quint8\", \"bit\": 8, \"is_symmetry\": false}")},
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

const rq__builtin_backend *rq__builtin_backend_find(const char *name) {
  const char *canonical = rq__backend_canonical_name(name);
  for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
    if (strcmp(builtins[i].name, canonical) == 0) return &builtins[i];
  return NULL;
}

const char *rq__backend_canonical_name(const char *name) {
  if (strncmp(name, "mmrazor.", 8) == 0) name += 8;
  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (strcmp(aliases[i].alias, name) == 0) return aliases[i].name;
  return name;
}
