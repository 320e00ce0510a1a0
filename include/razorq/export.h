/* SPDX-License-Identifier: Apache-2.0 */
/* Exporting a converted quantization session in a chosen format. */
#ifndef RAZORQ_EXPORT_H
#define RAZORQ_EXPORT_H

#include <razorq/common.h>
#include <razorq/status.h>
#include <razorq/session.h>

RQ_EXTERN_C_BEGIN

/* What the exported model is made of. The values are ABI. */
typedef enum rq_export_format {
  /* The backend config's "export.format" ("qdq" for every built-in backend). */
  RQ_EXPORT_FORMAT_BACKEND = 0,
  /* Standard QDQ ONNX: QuantizeLinear + DequantizeLinear on every quantized
   * edge, weights stored as integers behind a DequantizeLinear, int32 biases
   * where the backend asks for them ("export.int32_bias"); 9..16-bit
   * qschemes as int16/uint16 of opset 21, the model upgraded to it. What
   * rq_session_export writes for the built-in backends. */
  RQ_EXPORT_FORMAT_QDQ = 1,
  /* MMRazor's OpenVINO export: org.openvinotoolkit::FakeQuantize(x, in_lo,
   * in_hi, out_lo, out_hi) with levels = qmax - qmin + 1 on every quantized
   * edge, in_hi = (qmax - z) s, in_lo = in_hi - s (qmax - qmin), out_* =
   * in_*; weights stay float, each followed by a per-channel FakeQuantize.
   * OpenVINO reads it; ONNX Runtime and razorq's executor do not. */
  RQ_EXPORT_FORMAT_OPENVINO_FQ = 2,
} rq_export_format;

/* How QDQ stores int8 weights. The values are ABI. */
typedef enum rq_export_weight_storage {
  /* UINT8 for backends that export int32 biases ("export.int32_bias": ONNX
   * Runtime, whose fused integer kernels use them), AS_QSCHEME otherwise. */
  RQ_EXPORT_WEIGHTS_BACKEND = 0,
  /* The qscheme's own type: int8 for qint8. */
  RQ_EXPORT_WEIGHTS_AS_QSCHEME = 1,
  /* qint8 weights as uint8 with every zero point + 128: DequantizeLinear
   * gives the same values, and ONNX Runtime runs the fused QLinearConv/QGemm
   * with uint8 x uint8 kernels, whose x86 AVX2 (non-VNNI) versions do not
   * saturate the int16 pair sums that uint8 x int8 kernels do (up to 255 * 127
   * * 2 > 32767), which changes predictions. */
  RQ_EXPORT_WEIGHTS_UINT8 = 2,
} rq_export_weight_storage;

typedef struct rq_session_export_options {
  size_t struct_size; /* sizeof(rq_session_export_options) */
  rq_export_format format;
  rq_export_weight_storage weight_storage; /* QDQ only */
} rq_session_export_options;

/* Fills *options with the defaults (format RQ_EXPORT_FORMAT_BACKEND,
 * weight_storage RQ_EXPORT_WEIGHTS_BACKEND). */
RQ_API rq_status rq_session_export_options_init(rq_session_export_options *options, size_t struct_size);

/* Writes the quantized model (after rq_session_convert) to path in
 * options->format; options NULL = the defaults, which is rq_session_export.
 * An unknown format is RQ_ERR_INVALID_ARG; a qscheme the format cannot
 * express (see doc/backends.md, "Export") RQ_ERR_UNSUPPORTED naming the edge.
 * Nothing is written on error. */
RQ_API rq_status rq_session_export_with(const rq_session *session, const char *path,
                                        const rq_session_export_options *options);

RQ_EXTERN_C_END

#endif
