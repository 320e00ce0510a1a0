/* SPDX-License-Identifier: Apache-2.0 */
/* Internal view of an observer: the generic layer (JSON, qscheme, tensor
 * layout, non-finite policy, qparams) around a class vtable that supplies
 * only the statistic. Built-in classes use the same vtable as plugins. */
#ifndef RQ_OBSERVERS_OBSERVERS_H
#define RQ_OBSERVERS_OBSERVERS_H

#include "core/json.h"
#include "qscheme/qscheme.h"

#include <razorq/sys/plugin.h>

struct rq_observer_args {
  const json_t *config;   /* the whole config object */
  const char *where;      /* for error messages */
};

struct rq_observer {
  const rq_observer_class *cls;  /* registry-owned, lives for the process */
  rq__qscheme qs;
  rq_observer_info info;
  json_t *config;                /* the config as given (for reset and save) */
  bool ignore_nonfinite;
  size_t channels;               /* per-channel: fixed by the first batch; else 1 */
  uint64_t batches;              /* batches folded in (observe + merge) */
  void *state;                   /* cls->state_size bytes */
  float *scratch;                /* contiguous float32 copy of a batch when needed */
  size_t scratch_capacity;
};

/* rq_observer_create on an already parsed config object (borrowed; the
 * observer takes its own reference). Errors are prefixed by `where`. */
rq_status rq__observer_create_json(json_t *cfg, const char *where, rq_observer **out);

/* Fills an info from a qscheme. */
void rq__observer_info_from_qscheme(const rq__qscheme *qs, rq_observer_info *info);

/* The pass over a batch that finds its min/max and counts its NaN/Inf
 * (folded into *min, *max, *nonfinite, as the minmax kernel does), which
 * rq_observer_observe makes before the class's observe. A built-in class
 * may do its own binning in that same read of the data; the others get
 * the plain minmax kernel. */
typedef void (*rq__observer_prepass_fn)(void *state, const float *x, size_t n, float *min, float *max,
                                        uint64_t *nonfinite);
rq__observer_prepass_fn rq__observer_prepass(const rq_observer_class *cls);
void rq__histogram_prepass(void *state, const float *x, size_t n, float *min, float *max, uint64_t *nonfinite);

/* Checks on statistics read back by a class's load (the bytes may come
 * from anywhere): counts are finite, >= 0, whole and below 2^53 (exact in a
 * double); a min/max pair is finite with min <= max, or the empty pair
 * (+inf, -inf). RQ_ERR_FORMAT naming `what` otherwise. */
rq_status rq__check_loaded_counts(const double *v, size_t n, const char *what);
rq_status rq__check_loaded_range(double min, double max, const char *what);

/* Registers every built-in observer class (called once by the registry). */
void rq__observers_register_builtins(void);

/* Built-in classes, one table each (defined next to their statistic). */
extern const rq_observer_class rq__minmax_observer_class;
extern const rq_observer_class rq__moving_average_minmax_observer_class;
extern const rq_observer_class rq__per_channel_minmax_observer_class;
extern const rq_observer_class rq__moving_average_per_channel_minmax_observer_class;
extern const rq_observer_class rq__lsq_observer_class;
extern const rq_observer_class rq__lsq_per_channel_observer_class;
extern const rq_observer_class rq__histogram_observer_class;
extern const rq_observer_class rq__fixed_qparams_observer_class;
extern const rq_observer_class rq__placeholder_observer_class;
extern const rq_observer_class rq__noop_observer_class;
extern const rq_observer_class rq__recording_observer_class;
extern const rq_observer_class rq__reuse_input_observer_class;
extern const rq_observer_class rq__percentile_observer_class;
extern const rq_observer_class rq__per_channel_percentile_observer_class;
extern const rq_observer_class rq__entropy_observer_class;
extern const rq_observer_class rq__per_channel_entropy_observer_class;
extern const rq_observer_class rq__mse_observer_class;
extern const rq_observer_class rq__per_channel_mse_observer_class;

/* For RecordingObserver's accessor. */
rq_status rq__recording_get(const void *state, size_t index, float *data, size_t capacity,
                            size_t *numel, size_t *recorded_count);

/* Scalar statistics shared by the built-ins: per-channel min/max of a batch
 * ([outer, channels, inner]), skipping non-finite values; a channel with no
 * finite value keeps +inf/-inf. */
void rq__batch_minmax(const rq_observer_batch *batch, float *mins, float *maxs);

#endif
