/* SPDX-License-Identifier: Apache-2.0 */
/* Observers: collect tensor statistics and turn them into scales and zero points. */
#ifndef RAZORQ_OBSERVER_H
#define RAZORQ_OBSERVER_H

#include <razorq/common.h>
#include <razorq/status.h>

RQ_EXTERN_C_BEGIN

/* One observer instance (MinMaxObserver, HistogramObserver, ...). Opaque; a
 * handle is not thread-safe, distinct handles are (each owns its state, and
 * the class registry they share is locked). */
typedef struct rq_observer rq_observer;

/* Creates an observer from a JSON object: "type" names the class (with or
 * without the prefixes "mmrazor.", "torch.ao.quantization.",
 * "torch.quantization."), the other keys are the qscheme and the class's
 * arguments, e.g.
 *   {"type":"mmrazor.PerChannelMinMaxObserver","qdtype":"qint8","bit":8,
 *    "is_symmetry":true,"is_symmetric_range":true,"ch_axis":0}
 * The qscheme is given either MMRazor's way (qdtype, bit 1..16, is_symmetry,
 * is_symmetric_range) or PyTorch's way (dtype, qscheme, quant_min, quant_max,
 * reduce_range), not both; see doc/observers.md. Common keys: eps, ch_axis
 * (per-channel classes), ignore_nonfinite. An unknown key, a value of the
 * wrong type or out of range is RQ_ERR_INVALID_ARG naming the key; an unknown
 * type is RQ_ERR_NOT_FOUND. */
RQ_API rq_status rq_observer_create(const char *config_json, rq_observer **out);

/* Destroys the observer; NULL is a no-op. */
RQ_API void rq_observer_destroy(rq_observer *observer);

/* Feeds one tensor (float32, float16 or bfloat16 on the CPU, any strides).
 * A tensor holding NaN or Inf is refused with RQ_ERR_NONFINITE and leaves the
 * state unchanged, unless the observer was created with
 * "ignore_nonfinite": true (then those elements are skipped). An empty tensor
 * is accepted and changes nothing (as in PyTorch). Per-channel observers need
 * ndim > ch_axis and the same channel count on every call. */
RQ_API rq_status rq_observer_observe(rq_observer *observer, const DLTensor *x);

/* Forgets everything observed (back to the state right after create). */
RQ_API rq_status rq_observer_reset(rq_observer *observer);

/* Scales and zero points: one per channel for per-channel observers, else
 * one. *count receives how many there are; with capacity < *count nothing is
 * written and RQ_ERR_INVALID_ARG is returned (call with capacity 0 and NULL
 * arrays to ask for the count). Before any observation the PyTorch defaults
 * (scale 1, zero point 0, count 1) are reported. Observers without qparams
 * (Placeholder, Noop, Recording, ReuseInput) return RQ_ERR_UNSUPPORTED. */
RQ_API rq_status rq_observer_qparams(const rq_observer *observer, float *scale,
                                     int32_t *zero_point, size_t capacity, size_t *count);

/* The statistic the observer keeps as min/max (running or averaged, one per
 * channel); the PyTorch initial values +inf/-inf (count 1) before any data
 * for per-tensor observers, count 0 for per-channel ones. */
RQ_API rq_status rq_observer_minmax(const rq_observer *observer, float *min, float *max,
                                    size_t capacity, size_t *count);

/* The integer range [quant_min, quant_max] the qparams target. */
RQ_API rq_status rq_observer_quant_range(const rq_observer *observer, int32_t *quant_min,
                                         int32_t *quant_max);

/* True (1) for per-channel observers, else 0; *ch_axis receives the channel
 * axis as configured (may be negative, counted from the end) or 0. */
RQ_API rq_status rq_observer_channel_axis(const rq_observer *observer, bool *per_channel,
                                          int32_t *ch_axis);

/* True when the qscheme is symmetric (per_*_symmetric). */
RQ_API rq_status rq_observer_is_symmetric(const rq_observer *observer, bool *symmetric);

/* The canonical class name ("MinMaxObserver"); never NULL for a valid handle,
 * NULL for NULL. */
RQ_API const char *rq_observer_type_name(const rq_observer *observer);

/* Serialises the observer (class, qscheme, state) into a buffer allocated
 * with razorq's allocator; free it with rq_observer_free_saved. The format is a
 * versioned protobuf message with an xxh3-64 checksum. */
RQ_API rq_status rq_observer_save(const rq_observer *observer, void **data, size_t *size);

/* Frees a buffer returned by rq_observer_save; NULL is a no-op. */
RQ_API void rq_observer_free_saved(void *data);

/* Recreates an observer from rq_observer_save's bytes. RQ_ERR_CHECKSUM if
 * the checksum does not match, RQ_ERR_ABI for another format version,
 * RQ_ERR_FORMAT for malformed bytes, RQ_ERR_NOT_FOUND if the class is not
 * registered in this process. */
RQ_API rq_status rq_observer_load(const void *data, size_t size, rq_observer **out);

/* Folds src's statistic into dst, as if dst had also seen src's batches: exact
 * for the running min/max observers and for HistogramObserver (histograms are
 * combined on dst's grid the same way a new batch is). Moving averages are
 * order dependent: merging averages (element-wise mean of the two states,
 * weighted by the number of batches each saw), which equals neither order of
 * observation. Both must have the same class and configuration
 * (RQ_ERR_INVALID_ARG otherwise). An empty src leaves dst unchanged; an empty
 * dst copies src. */
RQ_API rq_status rq_observer_merge(rq_observer *dst, const rq_observer *src);

/* RecordingObserver only: the number of tensors recorded and, for the one at
 * `index`, its element count; with data != NULL and capacity >= that count
 * its float32 values (contiguous, row-major) are copied out. */
RQ_API rq_status rq_observer_recorded(const rq_observer *observer, size_t index, float *data,
                                      size_t capacity, size_t *numel, size_t *recorded_count);

RQ_EXTERN_C_END

#endif
