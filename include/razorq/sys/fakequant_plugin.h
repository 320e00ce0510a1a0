/* SPDX-License-Identifier: Apache-2.0 */
/* For plugin authors: the vtable of a fake-quant class (PyTorch's
 * FakeQuantizeBase). razorq's base does the rest: JSON parsing, the observer,
 * the observer/fake-quant/learning switches, argument and finiteness checks,
 * strided and fp16/bf16 tensors, the parameter arrays. Application code does
 * not need this header. */
#ifndef RAZORQ_SYS_FAKEQUANT_PLUGIN_H
#define RAZORQ_SYS_FAKEQUANT_PLUGIN_H

#include <razorq/razorq.h>

RQ_EXTERN_C_BEGIN

/* Facts about one instance, fixed at creation. */
typedef struct rq_fake_quant_info {
  size_t struct_size;  /* sizeof(rq_fake_quant_info) of the library */
  int32_t quant_min;   /* the observer's integer range */
  int32_t quant_max;
  bool per_channel;    /* the observer is per channel */
  bool symmetric;      /* per_*_symmetric */
  int32_t ch_axis;     /* as configured (0 per tensor) */
} rq_fake_quant_info;

/* The scale / zero point the forward applies, owned by razorq. count is 1 per
 * tensor and the channel count per channel; zero points are float so that
 * learned ones fit (integer-valued for the PyTorch classes). */
typedef struct rq_fake_quant_params {
  size_t struct_size;
  float *scale;
  float *zero_point;
  size_t count;
} rq_fake_quant_params;

/* One tensor as a class sees it: contiguous float32 [outer, channels, inner]
 * around the channel axis (outer = channels = 1 per tensor), all finite. */
typedef struct rq_fake_quant_batch {
  size_t struct_size;
  const float *data;
  size_t outer, channels, inner;
} rq_fake_quant_batch;

/* The class-specific JSON arguments of one instance (only the keys listed in
 * the class's `params` reach it). Getters: a missing key leaves *value
 * unchanged and returns RQ_OK; a wrong type or a value outside [min, max] is
 * RQ_ERR_INVALID_ARG naming the key. */
typedef struct rq_fake_quant_args rq_fake_quant_args;
RQ_API rq_status rq_fake_quant_args_number(const rq_fake_quant_args *args, const char *key,
                                           double min, double max, double *value);
RQ_API rq_status rq_fake_quant_args_bool(const rq_fake_quant_args *args, const char *key,
                                         bool *value);

/* Class flags. */
#define RQ_FAKE_QUANT_LEARNABLE 0x1u /* has learnable scale/zp: learning modes apply */

/* A fake-quant class. Register it with rq_register_fake_quant (the table is
 * copied; strings and `params` must outlive the process or the plugin).
 * razorq allocates `state_size` zeroed bytes per instance and passes them to
 * every callback. Callbacks report failures by returning a status after
 * rq_error_set() and must then leave state and params unchanged. Unless
 * noted, a member is REQUIRED. Members added later go at the end; razorq
 * reads only the first struct_size bytes, so an older plugin's missing
 * members count as NULL. */
typedef struct rq_fake_quant_class {
  size_t struct_size;          /* sizeof(rq_fake_quant_class) as the plugin saw it */
  unsigned abi_major;          /* RQ_ABI_MAJOR the plugin was compiled against */
  const char *name;            /* class name, e.g. "MyFakeQuantize"; unique */
  const char *const *params;   /* OPTIONAL: NULL-terminated class-specific JSON keys */
  uint32_t flags;              /* RQ_FAKE_QUANT_* */
  size_t state_size;           /* bytes of per-instance state (may be 0) */
  const char *default_observer; /* OPTIONAL: observer type when the config names none */

  /* OPTIONAL: check the observer and read the arguments; may set the
   * initial params (count 1). */
  rq_status (*init)(void *state, const rq_fake_quant_info *info, const rq_observer *observer,
                    const rq_fake_quant_args *args, rq_fake_quant_params *params);
  /* OPTIONAL: free what init allocated. */
  void (*fini)(void *state);
  /* OPTIONAL: after the observer saw a batch (observer on): refresh params.
   * params has room for batch->channels entries. Default: copy the
   * observer's qparams (rq_observer_qparams). */
  rq_status (*update_params)(void *state, const rq_fake_quant_info *info,
                             const rq_observer *observer, const rq_fake_quant_batch *batch,
                             rq_fake_quant_params *params);
  /* y[0..numel) = fake-quantized batch (fake-quant on). y may alias
   * batch->data. params->count equals batch->channels on entry unless the
   * class refreshes params itself (room for batch->channels entries). */
  rq_status (*forward)(void *state, const rq_fake_quant_info *info, const rq_observer *observer,
                       const rq_fake_quant_batch *batch, rq_fake_quant_params *params, float *y);
  /* OPTIONAL: gradients (fake-quant on). dx[0..numel) must be written;
   * dscale/dzero_point (params->count zeroed doubles, NULL when that
   * parameter is not being learned) accumulate the parameter gradients.
   * Default: straight-through, dx = dy where PyTorch's fake_quantize_per_*
   * mask is set (integer zero point), else 0. */
  rq_status (*backward)(void *state, const rq_fake_quant_info *info,
                        const rq_fake_quant_batch *batch, const rq_fake_quant_params *params,
                        const float *dy, float *dx, double *dscale, double *dzero_point);
  /* OPTIONAL: calculate_qparams(); `count` entries (params->count).
   * Default: the observer's qparams. */
  rq_status (*qparams)(const void *state, const rq_fake_quant_info *info,
                       const rq_observer *observer, const rq_fake_quant_params *params,
                       float *scale, int32_t *zero_point);
  /* OPTIONAL, LEARNABLE classes: whether the zero point is learned too. */
  bool (*zero_point_learnable)(const void *state);
} rq_fake_quant_class;

/* Registers a fake-quant class for rq_fake_quant_create (in the registry
 * observers share, see <razorq/sys/plugin.h>). RQ_ERR_EXISTS if the name is
 * taken, RQ_ERR_ABI if abi_major differs, RQ_ERR_INVALID_ARG for a missing
 * required member or a name with a module prefix. Thread-safe. */
RQ_API rq_status rq_register_fake_quant(const rq_fake_quant_class *cls);

/* The names are listed by rq_registry_list(RQ_REGISTRY_FAKE_QUANT, ...). */

RQ_EXTERN_C_END

#endif
