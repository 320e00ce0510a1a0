/* SPDX-License-Identifier: Apache-2.0 */
/* The depthwise-convolution kernel (lib/exec/depthwise.c), built once for
 * the baseline ISA and, on x86-64, once more with AVX2; ops_nn.c picks one
 * at run time. Never installed. */
#ifndef RQ_EXEC_DEPTHWISE_H
#define RQ_EXEC_DEPTHWISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One image of a 1-D/2-D depthwise convolution (1-D as H = OH = KH = 1):
 * x [C, H, W], w [M, KH, KW], bias [M] or NULL, y [M, OH, OW]; output
 * channel m reads input channel m / mult. */
typedef struct rq__dw_args {
  const float *x, *w, *bias;
  float *y;
  int64_t H, W, OH, OW, KH, KW, SH, SW, DH, DW, PH, PW;
  size_t mult;
  bool act; /* clamp every output to [lo, hi] (a folded Relu/Clip) */
  float lo, hi;
} rq__dw_args;

/* Output channels [m_begin, m_end). Same results from every variant. */
void rq__depthwise_generic(const rq__dw_args *a, size_t m_begin, size_t m_end);
void rq__depthwise_avx2(const rq__dw_args *a, size_t m_begin, size_t m_end);

#endif
