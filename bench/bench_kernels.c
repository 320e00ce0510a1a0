/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel benchmark. Built twice from this file:
 *  - librqbench.so (a shared module): bench/run_kernels.py loads it with ctypes
 *    and times razorq's kernels on the very arrays it also hands to NumPy and
 *    PyTorch, in one process, so every ratio compares the same bytes;
 *  - bench_kernels (an executable): the same timings on its own random data,
 *    for a quick look without Python.
 * It calls the internal kernel rows directly (razorq_internal_dep), so every
 * ISA can be timed in one run. Benchmarks are not tests: nothing is asserted. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"

#if defined(__x86_64__)
#  include <immintrin.h>
#endif

/* Thread CPU time by default: on a shared machine wall-clock time mostly
 * measures how often the thread was descheduled. rqb_use_wall_clock(1) for
 * wall-clock time on a quiet machine. */
static clockid_t rqb_clock = CLOCK_THREAD_CPUTIME_ID;
void rqb_use_wall_clock(int on) { rqb_clock = on ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID; }

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(rqb_clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The physical limit: read every byte once with the widest loads, nothing else. */
#if defined(__x86_64__)
__attribute__((target("avx2"))) static float read_loop_avx2(const void *p, size_t bytes) {
  const __m256 *v = p;
  __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a;
  size_t n = bytes / sizeof(__m256), i = 0;
  for (; i + 4 <= n; i += 4) {
    a = _mm256_or_ps(a, _mm256_loadu_ps((const float *)(v + i)));
    b = _mm256_or_ps(b, _mm256_loadu_ps((const float *)(v + i + 1)));
    c = _mm256_or_ps(c, _mm256_loadu_ps((const float *)(v + i + 2)));
    d = _mm256_or_ps(d, _mm256_loadu_ps((const float *)(v + i + 3)));
  }
  a = _mm256_or_ps(_mm256_or_ps(a, b), _mm256_or_ps(c, d));
  float out[8];
  _mm256_storeu_ps(out, a);
  return out[0] + out[7];
}
#endif

/* PyTorch's affine qparams for quint8 [0, 255] (MinMaxObserver's
 * _calculate_qparams, per tensor); enough for timing the fused path. */
static void affine_qparams(float mn, float mx, float *scale, int32_t *zp) {
  float lo = mn < 0 ? mn : 0, hi = mx > 0 ? mx : 0;
  float s = (hi - lo) / 255.0f;
  if (s < 1.1920929e-07f) s = 1.1920929e-07f;
  float z = 0.0f - nearbyintf(lo / s);
  *scale = s;
  *zp = (int32_t)(z < 0 ? 0 : (z > 255 ? 255 : z));
}

/* Times one operation with one ISA's kernels; best of `reps` runs, in seconds.
 * op: minmax | minmax_channels | histogram_first | histogram_observe | fake_quant |
 *     observe_fake_quant | fused_moving_avg | lsq_backward (fp32 only; dy = x, dx
 *     into y) | read (ISA ignored).
 * elem: 0 fp32, 1 fp16, 2 bf16. x has n elements (outer*channels*inner for the
 * per-channel op); y (n elements of x's type) and mask (n bytes) receive outputs.
 * Returns -1 when the ISA is unavailable or the op unknown. */
double rqb_time(const char *op, const char *isa, int elem, const void *x, void *y,
                uint8_t *mask, int64_t n, int64_t outer, int64_t channels, int64_t inner,
                int reps, double *checksum) {
  const struct rq__kernels *k = rq__kernels_get(isa);
  bool read = strcmp(op, "read") == 0;
  if (k == NULL && !read) return -1.0;
  rq__elem e = (rq__elem)elem;
  size_t bytes = (size_t)n * rq__elem_size(e);
  static uint64_t counts[2048];
  static float mins[4096], maxs[4096];
  float running_min = INFINITY, running_max = -INFINITY;
  double best = INFINITY, sum = 0.0;
  for (int r = 0; r < reps; r++) {
    double t0 = now_seconds();
    float mn = INFINITY, mx = -INFINITY, scale;
    int32_t zp;
    uint64_t bad = 0;
    if (read) {
#if defined(__x86_64__)
      sum += read_loop_avx2(x, bytes);
#else
      return -1.0;
#endif
    } else if (strcmp(op, "minmax") == 0) {
      k->minmax[e](x, (size_t)n, &mn, &mx, &bad);
      sum += mn + mx;
    } else if (strcmp(op, "minmax_channels") == 0) {
      if (channels > 4096) return -1.0;
      for (int64_t c = 0; c < channels; c++) mins[c] = INFINITY, maxs[c] = -INFINITY;
      k->minmax_channels[e](x, (size_t)outer, (size_t)channels, (size_t)inner, mins, maxs, &bad);
      sum += mins[0] + maxs[channels - 1];
    } else if (strcmp(op, "histogram_first") == 0) {
      /* HistogramObserver's first batch: min/max first, then the histogram
       * over that range (the range depends on the whole batch). */
      k->minmax[e](x, (size_t)n, &mn, &mx, &bad);
      memset(counts, 0, sizeof counts);
      k->histogram[e](x, (size_t)n, mn, mx, counts, 2048);
      sum += (double)counts[1000];
    } else if (strcmp(op, "histogram_observe") == 0) {
      /* Its steady state: the running range is known before the pass, so
       * min/max and the histogram over the running range take one fused pass;
       * only a batch that leaves the range needs a second (histogram) pass. */
      if (running_min == INFINITY) {
        k->minmax[e](x, (size_t)n, &running_min, &running_max, &bad);
        if (!(running_min < running_max)) running_min -= 1, running_max += 1;
      }
      memset(counts, 0, sizeof counts);
      k->minmax_histogram[e](x, (size_t)n, running_min, running_max, counts, 2048, &mn, &mx, &bad);
      if (mn < running_min || mx > running_max) {
        running_min = mn < running_min ? mn : running_min;
        running_max = mx > running_max ? mx : running_max;
        memset(counts, 0, sizeof counts);
        k->histogram[e](x, (size_t)n, running_min, running_max, counts, 2048);
      }
      sum += (double)counts[1000];
    } else if (strcmp(op, "fake_quant") == 0) {
      k->fake_quant[e](x, y, mask, (size_t)n, 0.0125f, 3, 0, 255);
    } else if (strcmp(op, "observe_fake_quant") == 0 || strcmp(op, "fused_moving_avg") == 0) {
      /* FakeQuantize / FusedMovingAvgObsFakeQuantize: observe the batch,
       * compute qparams from the updated statistics, then fake-quantize with
       * them -- two passes, because the qparams depend on this batch. */
      k->minmax[e](x, (size_t)n, &mn, &mx, &bad);
      if (running_min == INFINITY) {
        running_min = mn, running_max = mx;
      } else {
        running_min = running_min + 0.01f * (mn - running_min);
        running_max = running_max + 0.01f * (mx - running_max);
      }
      affine_qparams(running_min, running_max, &scale, &zp);
      k->fake_quant[e](x, y, mask, (size_t)n, scale, zp, 0, 255);
    } else if (strcmp(op, "lsq_backward") == 0 && e == RQ__ELEM_F32) {
      /* LSQ backward; any gradient will do for timing, so dy is x itself */
      double dscale = 0.0, dzero_point = 0.0;
      k->lsq_backward(x, x, y, (size_t)n, 0.0125f, 3, 0, 255, 1.0f, &dscale, &dzero_point);
      sum += dscale + dzero_point;
    } else {
      return -1.0;
    }
    double t = now_seconds() - t0;
    if (t < best) best = t;
  }
  if (checksum) *checksum = sum;
  return best;
}

/* The histogram run_kernels.py compares with torch.histc ("same histogram"). */
int rqb_histogram(const char *isa, int elem, const void *x, int64_t n, float lo, float hi,
                  uint64_t *counts, int64_t bins) {
  const struct rq__kernels *k = rq__kernels_get(isa);
  if (k == NULL) return -1;
  memset(counts, 0, (size_t)bins * sizeof counts[0]);
  k->histogram[elem](x, (size_t)n, lo, hi, counts, (size_t)bins);
  return 0;
}

/* Standalone: times every op and ISA on random data, prints GB/s. */
#if defined(RQB_MAIN)
int main(int argc, char **argv) {
  int64_t n = argc > 1 ? atoll(argv[1]) : (int64_t)1 << 24;
  float *x = malloc((size_t)n * 4), *y = malloc((size_t)n * 4);
  uint8_t *mask = malloc((size_t)n);
  if (!x || !y || !mask) return 1;
  uint64_t s = 88172645463325252ull;
  for (int64_t i = 0; i < n; i++) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    x[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5) * 8.0f;
  }
  const char *ops[] = { "read", "minmax", "histogram_first", "histogram_observe", "fake_quant",
                        "observe_fake_quant" };
  const char *isas[] = { "scalar", "sse41", "avx2", "neon" };
  printf("%-20s %-8s %10s\n", "op", "isa", "GB/s");
  for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
    for (size_t i = 0; i < 4; i++) {
      double t = rqb_time(ops[o], isas[i], 0, x, y, mask, n, 1, 1, n, 5, NULL);
      if (t > 0) printf("%-20s %-8s %10.2f\n", ops[o], o == 0 ? "avx2" : isas[i], (double)n * 4 / t / 1e9);
      if (o == 0) break;
    }
  free(x), free(y), free(mask);
  return 0;
}
#endif
