/* SPDX-License-Identifier: Apache-2.0 */
/* For plugin authors: the vtables through which vendors register observers,
 * fake-quants and backend configs. Application code does not need this header. */
#ifndef RAZORQ_SYS_PLUGIN_H
#define RAZORQ_SYS_PLUGIN_H

#include <razorq/razorq.h>

RQ_EXTERN_C_BEGIN

/* ---- What an observer class sees ------------------------------------------------ */

/* Facts about one observer instance, fixed at creation (razorq owns it). The
 * quant range and symmetry come from the qscheme; a class that supplies only
 * its statistic (min/max per channel) gets the uniform qparams of PyTorch's
 * UniformQuantizationObserverBase computed from them. */
typedef struct rq_observer_info {
  size_t struct_size;       /* sizeof(rq_observer_info) of the library */
  bool per_channel;         /* class flag RQ_OBSERVER_PER_CHANNEL */
  bool symmetric;           /* per_*_symmetric */
  bool is_signed;           /* qint8 (int8/int16 storage) rather than quint8 */
  int32_t quant_min;        /* the target integer range */
  int32_t quant_max;
  unsigned storage_bits;    /* 8, or 16 for the razorq extension bits 9..16 */
  float eps;                /* lower bound of a scale */
  bool customized_range;    /* PyTorch's has_customized_qrange: symmetric quint8
                               zero point is (qmin + qmax) // 2 rather than 128 */
} rq_observer_info;

/* PyTorch's UniformQuantizationObserverBase._calculate_qparams for n
 * channels, bit-identical to PyTorch 1.13: what a class that supplies only a
 * range gets, exported for classes that adjust it. */
RQ_API rq_status rq_observer_uniform_qparams(const rq_observer_info *info, const float *min,
                                             const float *max, size_t n, float *scale,
                                             int32_t *zero_point);

/* One batch as a class sees it: contiguous float32, laid out as
 * [outer, channels, inner] with the channel axis in the middle (per-tensor
 * observers get outer = channels = 1). When skip_nonfinite is true the
 * batch may contain NaN/Inf that the class must skip (the user asked for
 * "ignore_nonfinite"); otherwise every element is finite. */
typedef struct rq_observer_batch {
  size_t struct_size;
  const float *data;
  size_t outer, channels, inner;
  bool skip_nonfinite;
  /* min and max of the whole batch's finite values (razorq computes them
   * anyway while checking for NaN/Inf), so per-tensor classes need no pass
   * of their own; +inf/-inf when no value is finite. */
  float min, max;
} rq_observer_batch;

/* The class-specific JSON arguments of one instance (opaque). Read them in
 * `init` with the getters below; keys not listed in the class's `params`
 * never reach it (they are refused at creation). */
typedef struct rq_observer_args rq_observer_args;

/* Getters: a missing key leaves *value unchanged and returns RQ_OK; a value
 * of the wrong type or outside [min, max] is RQ_ERR_INVALID_ARG naming the key. */
RQ_API rq_status rq_observer_args_number(const rq_observer_args *args, const char *key,
                                         double min, double max, double *value);
RQ_API rq_status rq_observer_args_int(const rq_observer_args *args, const char *key,
                                      int64_t min, int64_t max, int64_t *value);
RQ_API rq_status rq_observer_args_bool(const rq_observer_args *args, const char *key,
                                       bool *value);

/* A bag of named float64 arrays through which a class saves and loads its
 * state (rq_observer_save/load wrap it in the versioned, checksummed format). */
typedef struct rq_observer_stats rq_observer_stats;
RQ_API rq_status rq_observer_stats_put(rq_observer_stats *stats, const char *name,
                                       const double *values, size_t count);
/* *count receives the array's length; values are copied when capacity
 * suffices. RQ_ERR_NOT_FOUND for a missing name. */
RQ_API rq_status rq_observer_stats_get(const rq_observer_stats *stats, const char *name,
                                       double *values, size_t capacity, size_t *count);

/* ---- The observer vtable ----------------------------------------------------------- */

/* Class flags. */
#define RQ_OBSERVER_PER_CHANNEL 0x1u /* statistic per channel (ch_axis accepted) */
#define RQ_OBSERVER_NO_QPARAMS  0x2u /* no qparams (Placeholder-like); min/max optional */

/* An observer class. Register it with rq_register_observer (the table is
 * copied, so it may live on the stack; strings and `params` must outlive the
 * process or the plugin). razorq allocates `state_size` zeroed bytes per
 * instance and passes them to every callback. Callbacks report failures by
 * returning a status after rq_error_set(). Unless noted, a member is
 * REQUIRED. Members added later go at the end; razorq reads only the first
 * struct_size bytes, so an older plugin's missing members count as NULL. */
typedef struct rq_observer_class {
  size_t struct_size;         /* sizeof(rq_observer_class) as the plugin saw it */
  unsigned abi_major;         /* RQ_ABI_MAJOR the plugin was compiled against */
  const char *name;           /* class name, e.g. "MyObserver"; unique */
  const char *const *params;  /* OPTIONAL: NULL-terminated class-specific JSON keys */
  uint32_t flags;             /* RQ_OBSERVER_* */
  size_t state_size;          /* bytes of per-instance state (may be 0) */

  /* OPTIONAL: set up a fresh state from the arguments (also called on reset). */
  rq_status (*init)(void *state, const rq_observer_info *info, const rq_observer_args *args);
  /* OPTIONAL: free what init/observe allocated (also called before reset). */
  void (*fini)(void *state);
  /* Fold one batch into the state. On failure the state must be unchanged. */
  rq_status (*observe)(void *state, const rq_observer_info *info, const rq_observer_batch *batch);
  /* The running min/max, `channels` values each (1 for per-tensor). Return
   * false when nothing has been observed yet. Required unless NO_QPARAMS or
   * `qparams` is given. */
  bool (*minmax)(const void *state, const rq_observer_info *info, size_t channels,
                 float *min, float *max);
  /* OPTIONAL: the range the qparams are computed from, when it differs from
   * minmax (HistogramObserver's L2 search, percentiles, ...). */
  rq_status (*range)(const void *state, const rq_observer_info *info, size_t channels,
                     float *min, float *max);
  /* OPTIONAL: compute scale/zero point directly instead of from the range. */
  rq_status (*qparams)(const void *state, const rq_observer_info *info, size_t channels,
                       float *scale, int32_t *zero_point);
  /* OPTIONAL: fold src into dst (same class and configuration). Without it
   * rq_observer_merge returns RQ_ERR_UNSUPPORTED. */
  rq_status (*merge)(void *dst, const void *src, const rq_observer_info *info, size_t channels);
  /* OPTIONAL: save / restore the state. Without them rq_observer_save returns
   * RQ_ERR_UNSUPPORTED. */
  rq_status (*save)(const void *state, const rq_observer_info *info, rq_observer_stats *out);
  rq_status (*load)(void *state, const rq_observer_info *info, const rq_observer_stats *in);
} rq_observer_class;

/* Registers an observer class for rq_observer_create. RQ_ERR_EXISTS if the
 * name is taken, RQ_ERR_ABI if abi_major differs, RQ_ERR_INVALID_ARG for a
 * missing required member. Thread-safe. */
RQ_API rq_status rq_register_observer(const rq_observer_class *cls);

/* What rq_registry_list enumerates. */
typedef enum rq_registry_kind {
  RQ_REGISTRY_OBSERVER = 1,
  RQ_REGISTRY_FAKE_QUANT = 2,
} rq_registry_kind;

/* The registered class names of one kind, in registration order (built-ins
 * first). *count receives how many there are; names (valid for the life of
 * the process) are written when capacity suffices, else RQ_ERR_INVALID_ARG
 * (pass capacity 0 and NULL to ask for the count). Thread-safe. */
RQ_API rq_status rq_registry_list(rq_registry_kind kind, const char **names, size_t capacity,
                                  size_t *count);

/* A plugin is a shared object that states the ABI it was built for with
 * RQ_PLUGIN_DECLARE_ABI (once, at file scope) and exports
 *   rq_status rq_plugin_init(unsigned abi_major);
 * which registers its classes (abi_major is the running library's).
 * rq_plugin_load dlopens `path`, refuses a plugin without the declaration or
 * built for another ABI major with RQ_ERR_ABI (before running any of its
 * code), calls rq_plugin_init and keeps the object loaded for the life of the
 * process. Thread-safe. */
#define RQ_PLUGIN_DECLARE_ABI \
  __attribute__((visibility("default"))) const unsigned rq_plugin_abi_major = RQ_ABI_MAJOR
#define RQ_PLUGIN_ABI_SYMBOL "rq_plugin_abi_major"
#define RQ_PLUGIN_INIT_SYMBOL "rq_plugin_init"
typedef rq_status (*rq_plugin_init_fn)(unsigned abi_major);
RQ_API rq_status rq_plugin_load(const char *path);

RQ_EXTERN_C_END

#include <razorq/sys/fakequant_plugin.h> /* the fake-quant vtable */

#endif
