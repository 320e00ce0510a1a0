/* SPDX-License-Identifier: Apache-2.0 */
/* Where fake-quants go: the quantization plan of a graph for a backend. */
#ifndef RQ_SESSION_PLAN_H
#define RQ_SESSION_PLAN_H

#include "graph/graph.h"
#include "session/quantizer.h"

/* One place that gets a fake-quant: an activation edge or a weight. */
typedef struct rq__qpoint {
  int value;                 /* value id in the planned graph */
  bool is_weight;            /* an initializer read by a weighted op */
  int ch_axis;               /* weights: the output-channel axis */
  int share;                 /* activations sharing one fake-quant have the same share id */
  bool fixed;                /* output of a fixed-qparams op (Sigmoid, Tanh, ...) */
  float fixed_lo, fixed_hi;  /* its output range */
  const rq__qconfig *qconfig;
} rq__qpoint;

typedef struct rq__plan {
  rq__qpoint *points;        /* activations first (in value order), then weights */
  int n_points;
  int n_shares;              /* share ids are 0..n_shares-1 */
  char **notes;              /* one line per place left float, and why */
  int n_notes;
} rq__plan;

/* Plans g (already folded: BN into Conv/Gemm) for q's backend: activation
 * fake-quants around the ops the backend quantizes, weights per channel on
 * the right axis, one shared fake-quant per concat and share-qparams chain,
 * none inside fusable groups (Conv+Relu, Gemm+Add, ...), none where the
 * backend's redundancy rules say so, none at skipped nodes. */
rq_status rq__plan_build(const rq_graph *g, const rq_quantizer *q, rq__plan *out);
void rq__plan_free(rq__plan *plan);

#endif
