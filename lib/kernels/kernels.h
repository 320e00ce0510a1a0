/* SPDX-License-Identifier: Apache-2.0 */
/* The hot loops of observers and fake-quants, behind one table of function
 * pointers chosen once per process from the CPU's features (see doc/kernels.md).
 * Never installed.
 *
 * Two layers:
 *  - struct rq__kernels: raw kernels on CONTIGUOUS memory, one row per ISA
 *    (scalar reference, SSE4.1, AVX2+FMA+F16C, NEON). Every ISA returns results
 *    bit-identical to the scalar row; tests/kernels checks it.
 *  - rq__tensor_*: the same operations on DLTensors of any strides; they walk a
 *    tensor as contiguous inner runs and call the active table, so callers never
 *    care about layout or ISA. Use these unless you already hold contiguous data.
 *
 * Conventions shared by every kernel:
 *  - Reductions UPDATE caller-initialised accumulators (min = +INFINITY,
 *    max = -INFINITY, nonfinite = 0, counts = 0), so a tensor can be fed run by
 *    run or batch by batch. n == 0 leaves them unchanged.
 *  - min/max ignore NaN and +-Inf and add how many they saw to *nonfinite.
 *    A zero result is always +0.0f (the sign of zero of a min over a set is
 *    order-dependent; razorq fixes it so every ISA agrees).
 *  - fp16/bf16 inputs are widened exactly to fp32 first; outputs of an fp16/bf16
 *    fake-quant are rounded back to the input type (round to nearest even), as
 *    PyTorch does for Half/BFloat16 tensors.
 *  - fake-quant and quantize use PyTorch 1.13's formula bit for bit:
 *      inv_scale = 1.0f / scale;  q = (int64)(zero_point + nearbyintf(x * inv_scale))
 *      y = (clamp(q, qmin, qmax) - zero_point) * scale;  mask = qmin <= q <= qmax
 *    (float arithmetic, no FMA contraction; NaN or |q| >= 2^63 turn into INT64_MIN
 *    exactly as x86's float->int64 conversion does, hence y = qmin's value). */
#ifndef RQ_KERNELS_KERNELS_H
#define RQ_KERNELS_KERNELS_H

#include "core/core.h"

/* Element types a kernel reads (and, for fake-quant, writes). */
typedef enum rq__elem {
  RQ__ELEM_F32,
  RQ__ELEM_F16,  /* IEEE binary16 */
  RQ__ELEM_BF16, /* bfloat16: the upper 16 bits of an fp32 */
  RQ__ELEM_COUNT
} rq__elem;

/* Integer storage of quantized values. */
typedef enum rq__qtype {
  RQ__Q_I8,
  RQ__Q_U8,
  RQ__Q_I16,
  RQ__Q_COUNT
} rq__qtype;

/* Maps a DLPack dtype (float32/float16/bfloat16, lanes 1) to an rq__elem;
 * false for any other dtype. */
bool rq__elem_from_dtype(DLDataType dtype, rq__elem *out);
/* Bytes per element of an rq__elem / rq__qtype. */
size_t rq__elem_size(rq__elem elem);
size_t rq__qtype_size(rq__qtype qtype);

/* Exact scalar conversions (shared by the reference kernels and tests). */
float rq__f16_to_f32(uint16_t h);
float rq__bf16_to_f32(uint16_t b);
uint16_t rq__f32_to_f16(float f);  /* round to nearest even, like F16C and c10::Half */
uint16_t rq__f32_to_bf16(float f); /* round to nearest even, NaN stays NaN, like c10::BFloat16 */

/* One row of kernels. void pointers may have any alignment; float/int pointers
 * need their type's alignment (C requires it), no more. */
struct rq__kernels {
  const char *isa; /* scalar, sse41, avx2 or neon */

  /* min/max of x[0..n) folded into *min and *max; NaN/Inf counted, not used. */
  void (*minmax[RQ__ELEM_COUNT])(const void *x, size_t n, float *min, float *max,
                                 uint64_t *nonfinite);

  /* x viewed as [outer, channels, inner] (row-major): for every c, mins[c]/maxs[c]
   * fold in x[o, c, i] over all o, i. NCHW along axis 1: outer = N, inner = H*W;
   * OIHW along axis 0: outer = 1, inner = I*H*W. No copy is made. */
  void (*minmax_channels[RQ__ELEM_COUNT])(const void *x, size_t outer, size_t channels,
                                          size_t inner, float *mins, float *maxs,
                                          uint64_t *nonfinite);

  /* torch.histc's binning over [lo, hi] (lo < hi, both finite, hi - lo finite),
   * added to counts[0..bins):
   *   skip x unless lo <= x <= hi (so NaN/Inf are skipped);
   *   b = (int64)((x - lo) / (hi - lo) * (float)bins); b == bins -> bins - 1
   * (PyTorch 1.13's _histc_cpu; float ops in this order, verified in tests). */
  void (*histogram[RQ__ELEM_COUNT])(const void *x, size_t n, float lo, float hi,
                                    uint64_t *counts, size_t bins);

  /* histogram and minmax fused in one pass: the histogram over a range the
   * caller knows in advance, plus the batch's min/max. HistogramObserver's
   * steady state: when the batch falls inside the running range, the range
   * of this batch's histogram is known before the pass; the caller checks the
   * returned min/max and, if the batch left the range, redoes the histogram
   * over the combined range. Results equal minmax + histogram bit for bit. */
  void (*minmax_histogram[RQ__ELEM_COUNT])(const void *x, size_t n, float lo, float hi,
                                           uint64_t *counts, size_t bins, float *min,
                                           float *max, uint64_t *nonfinite);

  /* Fake-quant forward, per tensor; y (same element type as x) may alias x
   * exactly; mask (1 = inside [qmin, qmax], for the STE backward) may be NULL. */
  void (*fake_quant[RQ__ELEM_COUNT])(const void *x, void *y, uint8_t *mask, size_t n,
                                     float scale, int32_t zero_point, int32_t qmin,
                                     int32_t qmax);

  /* Fake-quant forward, per channel of x viewed as [outer, channels, inner];
   * scale/zero_point have `channels` entries. */
  void (*fake_quant_channels[RQ__ELEM_COUNT])(const void *x, void *y, uint8_t *mask,
                                              size_t outer, size_t channels, size_t inner,
                                              const float *scale, const int32_t *zero_point,
                                              int32_t qmin, int32_t qmax);

  /* Straight-through estimator: dx = dy * (float)mask (PyTorch's dY * mask). */
  void (*ste_backward)(const float *dy, const uint8_t *mask, float *dx, size_t n);

  /* LSQ backward per tensor, PyTorch 1.13's
   * fake_quantize_learnable_tensor_grad_kernel_cpu per element, as its AVX2
   * build computes it (two fused multiply-adds, marked fma):
   *   xq = (int64)nearbyintf(fma(x, inv_scale, zero_point))
   *   dx = dy * (qmin <= xq <= qmax)
   *   inside:  ds = dy * fma(xq - zero_point, scale, -x) * inv_scale * grad_factor, dz = 0
   *   below:   ds = dy * (qmin - zero_point) * grad_factor,  dz = -dy * scale * grad_factor
   *   above:   ds = dy * (qmax - zero_point) * grad_factor,  dz = -dy * scale * grad_factor
   * (NaN and |xq| >= 2^63 count as below.) dx and every element's ds/dz are
   * PyTorch's bits; ds/dz are added in double into eight buckets by element
   * index (see rq__lsq_combine), and their total into *dscale and
   * *dzero_point. PyTorch sums in float in its own order: compare the sums
   * with a tolerance, not bits. */
  void (*lsq_backward)(const float *x, const float *dy, float *dx, size_t n, float scale,
                       int32_t zero_point, int32_t qmin, int32_t qmax, float grad_factor,
                       double *dscale, double *dzero_point);

  /* fp32 -> integer storage with the fake-quant rounding, clamped to [qmin, qmax]
   * (which must lie inside the storage type), and back: x = (q - zero_point) * scale. */
  void (*quantize[RQ__Q_COUNT])(const float *x, void *q, size_t n, float scale,
                                int32_t zero_point, int32_t qmin, int32_t qmax);
  void (*dequantize[RQ__Q_COUNT])(const void *q, float *x, size_t n, float scale,
                                  int32_t zero_point);
};

/* The active row: chosen once (pthread_once) from cpuid+xgetbv / getauxval, or from
 * the environment variable RAZORQ_ISA=scalar|sse41|avx2|neon when set (an unknown
 * or unavailable name there falls back to automatic choice). Never NULL. */
const struct rq__kernels *rq__kernels(void);

/* The row of a named ISA, or NULL when the name is unknown or the CPU (or the
 * build) lacks it. For tests that compare every ISA with scalar. */
const struct rq__kernels *rq__kernels_get(const char *isa);

/* The best ISA this CPU supports and this build contains ("avx2", ...). */
const char *rq__kernels_best(void);

/* Makes `isa` the active row (NULL or "auto": the automatic choice again).
 * RQ_ERR_INVALID_ARG for an unknown name, RQ_ERR_ISA when the CPU lacks it.
 * Not meant to race with running kernels; tests and benchmarks use it. */
rq_status rq__kernels_force(const char *isa);

/* ---- Tensor level: any strides, any ISA (the active one). ----
 * x must be a CPU tensor (kDLCPU) of a dtype rq__elem_from_dtype accepts;
 * NULL shape with ndim 0 is a scalar. Errors: RQ_ERR_INVALID_ARG for bad
 * arguments/shapes, RQ_ERR_UNSUPPORTED for other dtypes or devices. Nothing is
 * written on error. Outputs given as plain arrays are contiguous in x's
 * logical (row-major) element order. */

/* Number of elements; RQ_ERR_INVALID_ARG on negative dims or overflow. */
rq_status rq__tensor_numel(const DLTensor *t, size_t *numel);

/* Copies the numel elements of t (esize bytes each; any strides and
 * byte_offset; ndim <= 32) to dst in row-major order. */
void rq__tensor_copy_contiguous(const DLTensor *t, size_t numel, size_t esize, void *dst);

rq_status rq__tensor_minmax(const DLTensor *x, float *min, float *max, uint64_t *nonfinite);

/* Per channel along `axis` (negative counts from the end); mins/maxs have
 * shape[axis] caller-initialised entries. */
rq_status rq__tensor_minmax_channels(const DLTensor *x, int axis, float *mins, float *maxs,
                                     uint64_t *nonfinite);

rq_status rq__tensor_histogram(const DLTensor *x, float lo, float hi, uint64_t *counts,
                               size_t bins);
/* Both in one pass (see minmax_histogram above). */
rq_status rq__tensor_minmax_histogram(const DLTensor *x, float lo, float hi, uint64_t *counts,
                                      size_t bins, float *min, float *max, uint64_t *nonfinite);

/* y: same dtype and shape as x, any strides, may be x itself. mask: NULL or
 * numel bytes. axis == RQ__PER_TENSOR: per tensor (scale[0], zero_point[0]);
 * otherwise per channel along `axis` (negative counts from the end) with
 * shape[axis] entries. qmin <= qmax and zero_point must lie within +-2^24. */
rq_status rq__tensor_fake_quant(const DLTensor *x, DLTensor *y, uint8_t *mask, int axis,
                                const float *scale, const int32_t *zero_point, int32_t qmin,
                                int32_t qmax);
#define RQ__PER_TENSOR (-1000)

#endif
