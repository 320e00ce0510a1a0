/* SPDX-License-Identifier: Apache-2.0 */
/* Quantizers and quantization sessions: prepare, calibrate, convert, export. */
#ifndef RAZORQ_SESSION_H
#define RAZORQ_SESSION_H

#include <razorq/common.h>
#include <razorq/status.h>
#include <razorq/backend.h>
#include <razorq/graph.h>
#include <razorq/exec.h>
#include <razorq/fakequant.h>

RQ_EXTERN_C_BEGIN

/* A quantizer built from a config (global_qconfig + backend). Opaque. */
typedef struct rq_quantizer rq_quantizer;
/* One model being quantized: its observers, fake-quants and calibration state. */
typedef struct rq_session rq_session;

/* Creates a quantizer from a JSON config that mirrors MMRazor's config dicts
 * (doc/config.md documents every key):
 *   {"global_qconfig": {"w_observer": {...}, "a_observer": {...},
 *                       "w_fake_quant": {...}, "a_fake_quant": {...},
 *                       "w_qscheme": {...}, "a_qscheme": {...}},
 *    "quantizer": {"type": "mmrazor.OpenVINOQuantizer",
 *                  "tracer": {"skipped_nodes": [...], "skipped_op_types": [...],
 *                             "unmatched_nodes": [...]}},
 *    "calibrate_steps": 32, "calibrate_batch_size": 32}
 * Every error names the key path ("global_qconfig.w_qscheme.bit: 17 is
 * outside 1..16"). A qconfig the backend cannot deploy is refused with
 * RQ_ERR_UNSUPPORTED naming the rule (e.g. quint8 activations for TensorRT).
 * Release with rq_quantizer_destroy. */
RQ_API rq_status rq_quantizer_create(const char *config_json, rq_quantizer **out);

/* Frees a quantizer; NULL is a no-op. Sessions it prepared stay valid. */
RQ_API void rq_quantizer_destroy(rq_quantizer *quantizer);

/* The backend config the quantizer targets (owned by the quantizer); NULL
 * (with a message) for NULL. */
RQ_API const rq_backend_config *rq_quantizer_backend(const rq_quantizer *quantizer);

/* Prepares a model for quantization: copies graph (which is not changed),
 * folds BatchNormalization into the preceding Conv/Gemm, plans where the
 * backend wants fake-quants (see doc/backends.md), creates them from the
 * config, and observes and fake-quantizes the weights. Every place left in
 * float, and why, is reported as a note (rq_session_note). The session no
 * longer needs the quantizer. Release with rq_session_destroy. */
RQ_API rq_status rq_quantizer_prepare(const rq_quantizer *quantizer, const rq_graph *graph,
                                      rq_session **out);

/* Frees a session; NULL is a no-op. */
RQ_API void rq_session_destroy(rq_session *session);

/* One calibration batch, as MMRazor's PTQLoop runs it: the model runs with
 * every fake-quant on its edge, observers on, so later layers observe
 * already-quantized inputs (with "calibrate_with_fake_quant": false, the float
 * model is observed instead, PyTorch's prepare/convert style). inputs are as
 * for rq_graph_run. RQ_ERR_STATE after rq_session_convert. */
RQ_API rq_status rq_session_calibrate(rq_session *session, const DLTensor *inputs, size_t n_inputs);

/* Lets an engine calibrate with its own kernels: feeds one computed tensor of
 * the named edge to that edge's observer. RQ_ERR_NOT_FOUND for an edge without
 * an activation fake-quant (rq_session_point_info lists them). */
RQ_API rq_status rq_session_observe(rq_session *session, const char *edge_name, const DLTensor *value);

/* Progress of a session's long steps: `done` of `total` units of the step
 * named `what` (today convert's "AdaRound": its Adam iterations over all
 * layers). Called on the thread running the step, a few hundred times per
 * step at most, the last time with done == total. */
typedef void (*rq_progress_fn)(void *user, const char *what, uint64_t done, uint64_t total);

/* Sets the session's progress callback (NULL clears it); `user` is passed
 * back to it. */
RQ_API rq_status rq_session_set_progress(rq_session *session, rq_progress_fn fn, void *user);

/* Ends calibration: every fake-quant takes the qparams of its observer's
 * statistics (PyTorch's calculate_qparams) and observers are switched off.
 * Weights whose w_fake_quant is an AdaRoundFakeQuantize then learn their
 * rounding (AdaRound, config "reconstruction"), layer by layer; with
 * "bias_correction": true, each Conv/Gemm bias is shifted by the mean
 * difference between the float and the fake-quantized model's output. Both
 * use the batches given to rq_session_calibrate, which the session keeps
 * until here (RQ_ERR_STATE when there were none). A failed convert leaves
 * the session calibrating, as it was. Idempotent. */
RQ_API rq_status rq_session_convert(rq_session *session);

/* Runs the fake-quantized model (after convert), e.g. to measure accuracy;
 * outputs as for rq_graph_run. */
RQ_API rq_status rq_session_run(rq_session *session, const DLTensor *inputs, size_t n_inputs,
                                rq_tensor_list **outputs);

/* Writes the quantized model (after convert) in the backend's export format
 * (its "export.format"; QDQ for every built-in; <razorq/export.h> chooses
 * another): QuantizeLinear +
 * DequantizeLinear on every quantized edge, weights stored as int8/uint8
 * behind a DequantizeLinear (per-channel on the right axis), ranges narrower
 * than the storage type kept exactly with a Clip before QuantizeLinear.
 * ONNX Runtime, TensorRT and OpenVINO load it. */
RQ_API rq_status rq_session_export(const rq_session *session, const char *path);

/* Writes the qparams of every fake-quant (after convert) as a calibration
 * table: a checksummed protobuf message carrying the model's fingerprint and
 * the config's hash (and the corrected biases and rounded weights, with
 * "bias_correction" and AdaRound). */
RQ_API rq_status rq_session_save_calibration(const rq_session *session, const char *path);

/* Loads a calibration table into a freshly prepared session instead of
 * calibrating, and converts it. A table made for another model or config is
 * refused (RQ_ERR_INVALID_ARG), a corrupt one with RQ_ERR_CHECKSUM or
 * RQ_ERR_FORMAT; on any error the session is unchanged. */
RQ_API rq_status rq_session_load_calibration(rq_session *session, const char *path);

/* Writes TensorRT's calibration cache (after convert, or after loading a
 * calibration table): the line "TRT-8601-MinMaxCalibration"
 * (EntropyCalibration2 with entropy observers), then "edge: xxxxxxxx" per
 * activation edge, the big-endian float32 bits of amax / 127, amax being the
 * threshold calibration chose: scale * (quant_max - quant_min) / 2 of the
 * edge's qparams (max(|min|, |max|) for min/max observers; the entropy,
 * percentile or MSE threshold for those). Every activation edge must be
 * quantized per tensor, signed and symmetric (zero point 0, as the tensorrt
 * backend does); otherwise RQ_ERR_UNSUPPORTED names the edge and nothing is
 * written. */
RQ_API rq_status rq_session_save_trt_cache(const rq_session *session, const char *path);

/* Saves every observer's statistics (before convert), so calibration can be
 * sharded over processes or machines ... */
RQ_API rq_status rq_session_save_state(const rq_session *session, const char *path);

/* ... and merged into one session before convert: exact for min/max and
 * histogram observers, an average for moving averages (see rq_observer_merge).
 * Refused for another model or config; the session is unchanged on error. */
RQ_API rq_status rq_session_merge(rq_session *session, const char *path);

/* Places that got a fake-quant: count, and for one of them its edge (value
 * name), whether it is a weight, and its fake-quant (borrowed; shared between
 * the edges of a concat or share-qparams chain). */
RQ_API size_t rq_session_point_count(const rq_session *session);
RQ_API rq_status rq_session_point_info(const rq_session *session, size_t index, const char **edge,
                                       bool *is_weight, rq_fake_quant **fake_quant);

/* Where precision goes (after convert): runs the float model and the
 * fake-quantized one on inputs and gives, for every fake-quant place in
 * rq_session_point_info order, the SQNR in dB between the float tensor on
 * that edge and the fake-quantized one (10 log10(sum x^2 / sum (x - x_q)^2);
 * error accumulates along the model). Weights: the float weight against its
 * fake-quantized copy. +inf where nothing was lost. *count receives the
 * number of places; capacity must be at least that. */
RQ_API rq_status rq_session_sqnr(rq_session *session, const DLTensor *inputs, size_t n_inputs,
                                 double *sqnr_db, size_t capacity, size_t *count);

/* Notes from prepare: each place left in float and why, BN folding. */
RQ_API size_t rq_session_note_count(const rq_session *session);
RQ_API const char *rq_session_note(const rq_session *session, size_t index);

/* The prepared float model (BN folded), owned by the session. */
RQ_API const rq_graph *rq_session_graph(const rq_session *session);

/* The config's calibrate_steps and calibrate_batch_size. */
RQ_API rq_status rq_session_calibration_settings(const rq_session *session, size_t *steps,
                                                 size_t *batch_size);

RQ_EXTERN_C_END

#endif
