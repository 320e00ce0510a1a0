/* SPDX-License-Identifier: Apache-2.0 */
/* Depthwise convolution computed directly (im2col + a 1-row GEMM per
 * channel would spend its time copying). Output row by output row, so the
 * row being summed stays in L1 while every kernel tap is added; padding
 * only shortens the column range of a tap, and 3-wide kernels add their
 * three (or, away from the top and bottom border, nine) taps in one pass.
 * Built once per ISA (RQ_DW_VARIANT names the function); compiled with
 * -ffp-contract=off so every variant rounds the same way. */
#include "exec/depthwise.h"

#ifndef RQ_DW_VARIANT
#define RQ_DW_VARIANT rq__depthwise_generic
#endif

/* Output positions j in [0, len) whose input position j*s + start falls in
 * [0, w): the range [*lo, *hi). */
static void valid_range(int64_t start, int64_t s, int64_t w, size_t len, size_t *lo, size_t *hi) {
  int64_t a = start >= 0 ? 0 : (-start + s - 1) / s;
  int64_t b = w - start <= 0 ? 0 : (w - start + s - 1) / s;
  if (a > (int64_t)len) a = (int64_t)len;
  if (b > (int64_t)len) b = (int64_t)len;
  if (b < a) b = a;
  *lo = (size_t)a;
  *hi = (size_t)b;
}

/* y[j] += w * x[j * s] for j in [lo, hi); unit and 2 strides get loops of
 * their own so the vectorizer sees a constant stride. */
static void axpy(float *restrict y, const float *restrict x, float w, int64_t s, size_t lo, size_t hi) {
  if (s == 1) {
    for (size_t j = lo; j < hi; j++) y[j] += w * x[j];
  } else if (s == 2) {
    for (size_t j = lo; j < hi; j++) y[j] += w * x[2 * j];
  } else {
    for (size_t j = lo; j < hi; j++) y[j] += w * x[(int64_t)j * s];
  }
}

/* y[j] += the three taps of one kernel row (x0..x2 already offset by the
 * tap), for columns where all three are inside the input. */
static void taps3(float *restrict y, const float *restrict x0, const float *restrict x1,
                  const float *restrict x2, const float *w, int64_t s, size_t lo, size_t hi) {
  float w0 = w[0], w1 = w[1], w2 = w[2];
  if (s == 1) {
    for (size_t j = lo; j < hi; j++) y[j] += w0 * x0[j] + w1 * x1[j] + w2 * x2[j];
  } else if (s == 2) {
    for (size_t j = lo; j < hi; j++) y[j] += w0 * x0[2 * j] + w1 * x1[2 * j] + w2 * x2[2 * j];
  } else {
    for (size_t j = lo; j < hi; j++) {
      int64_t o = (int64_t)j * s;
      y[j] += w0 * x0[o] + w1 * x1[o] + w2 * x2[o];
    }
  }
}

/* All nine taps of a 3x3 kernel whose three input rows are inside: r0..r2
 * point at column -PW of those rows, d is the column dilation. Sums each
 * kernel row first, then the rows in order, as taps3 on the border rows
 * does (y starts at the bias). */
static void taps9(float *restrict y, const float *restrict r0, const float *restrict r1,
                  const float *restrict r2, const float *w, int64_t s, int64_t d, size_t lo, size_t hi) {
  float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7], w8 = w[8];
  if (s == 1 && d == 1) {
    for (size_t j = lo; j < hi; j++) {
      float a = y[j] + (w0 * r0[j] + w1 * r0[j + 1] + w2 * r0[j + 2]);
      a += w3 * r1[j] + w4 * r1[j + 1] + w5 * r1[j + 2];
      y[j] = a + (w6 * r2[j] + w7 * r2[j + 1] + w8 * r2[j + 2]);
    }
  } else if (s == 2 && d == 1) {
    for (size_t j = lo; j < hi; j++) {
      float a = y[j] + (w0 * r0[2 * j] + w1 * r0[2 * j + 1] + w2 * r0[2 * j + 2]);
      a += w3 * r1[2 * j] + w4 * r1[2 * j + 1] + w5 * r1[2 * j + 2];
      y[j] = a + (w6 * r2[2 * j] + w7 * r2[2 * j + 1] + w8 * r2[2 * j + 2]);
    }
  } else {
    for (size_t j = lo; j < hi; j++) {
      int64_t o = (int64_t)j * s;
      float a = y[j] + (w0 * r0[o] + w1 * r0[o + d] + w2 * r0[o + 2 * d]);
      a += w3 * r1[o] + w4 * r1[o + d] + w5 * r1[o + 2 * d];
      y[j] = a + (w6 * r2[o] + w7 * r2[o + d] + w8 * r2[o + 2 * d]);
    }
  }
}

/* Kernel widths up to this get their column ranges computed once per call. */
#define KW_CACHED 16

void RQ_DW_VARIANT(const rq__dw_args *a, size_t m_begin, size_t m_end) {
  const int64_t H = a->H, W = a->W, OH = a->OH, OW = a->OW, KH = a->KH, KW = a->KW;
  const int64_t SH = a->SH, SW = a->SW, DH = a->DH, DW = a->DW, PH = a->PH, PW = a->PW;
  /* Per tap column kw: the output columns it reaches, [lo[kw], hi[kw]). */
  size_t lo[KW_CACHED], hi[KW_CACHED];
  for (int64_t kw = 0; kw < KW && kw < KW_CACHED; kw++)
    valid_range(kw * DW - PW, SW, W, (size_t)OW, &lo[kw], &hi[kw]);
  /* 3-wide kernels: the columns all three taps reach, [lo3, hi3). */
  size_t lo3 = 0, hi3 = 0;
  bool three = KW == 3;
  if (three) { /* lo[]/hi[] are cached: KW_CACHED >= 3 */
    lo3 = lo[0] > lo[1] ? lo[0] : lo[1];
    lo3 = lo3 > lo[2] ? lo3 : lo[2];
    hi3 = hi[0] < hi[1] ? hi[0] : hi[1];
    hi3 = hi3 < hi[2] ? hi3 : hi[2];
    if (hi3 <= lo3) three = false;
  }
  for (size_t m = m_begin; m < m_end; m++) {
    const float *xc = a->x + (m / a->mult) * (size_t)(H * W), *wm = a->w + m * (size_t)(KH * KW);
    float *ym = a->y + m * (size_t)(OH * OW);
    float b = a->bias ? a->bias[m] : 0.0f;
    for (int64_t oh = 0; oh < OH; oh++) {
      float *yr = ym + oh * OW;
      for (int64_t j = 0; j < OW; j++) yr[j] = b;
      int64_t ih0 = oh * SH - PH;
      if (!three) {
        for (int64_t kh = 0; kh < KH; kh++) {
          int64_t ih = ih0 + kh * DH;
          if (ih < 0 || ih >= H) continue;
          const float *xr = xc + ih * W, *wr = wm + kh * KW;
          for (int64_t kw = 0; kw < KW; kw++) {
            size_t l, h;
            int64_t start = kw * DW - PW;
            if (kw < KW_CACHED) {
              l = lo[kw];
              h = hi[kw];
            } else {
              valid_range(start, SW, W, (size_t)OW, &l, &h);
            }
            axpy(yr, xr + start, wr[kw], SW, l, h);
          }
        }
      } else {
        if (KH == 3 && ih0 >= 0 && ih0 + 2 * DH < H) {
          const float *r0 = xc + ih0 * W - PW;
          taps9(yr, r0, r0 + DH * W, r0 + 2 * DH * W, wm, SW, DW, lo3, hi3);
        } else {
          for (int64_t kh = 0; kh < KH; kh++) {
            int64_t ih = ih0 + kh * DH;
            if (ih < 0 || ih >= H) continue;
            const float *xr = xc + ih * W - PW;
            taps3(yr, xr, xr + DW, xr + 2 * DW, wm + kh * 3, SW, lo3, hi3);
          }
        }
        /* The few border columns where a tap falls into the padding. */
        for (int64_t j = 0; j < OW; j++) {
          if ((size_t)j == lo3) j = (int64_t)hi3;
          if (j >= OW) break;
          float acc = yr[j];
          for (int64_t kh = 0; kh < KH; kh++) {
            int64_t ih = ih0 + kh * DH;
            if (ih < 0 || ih >= H) continue;
            for (int64_t kw = 0; kw < 3; kw++) {
              int64_t iw = j * SW - PW + kw * DW;
              if (iw >= 0 && iw < W) acc += wm[kh * 3 + kw] * xc[ih * W + iw];
            }
          }
          yr[j] = acc;
        }
      }
      if (a->act)
        for (int64_t j = 0; j < OW; j++) { /* op_clip's order: NaN stays NaN */
          float v = yr[j] < a->lo ? a->lo : yr[j];
          yr[j] = v > a->hi ? a->hi : v;
        }
    }
  }
}
