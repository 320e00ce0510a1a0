/* SPDX-License-Identifier: Apache-2.0 */
/* Internal view of a quantizer: the parsed config (MMRazor's global_qconfig,
 * quantizer and PTQLoop keys) and the backend it targets. */
#ifndef RQ_SESSION_QUANTIZER_H
#define RQ_SESSION_QUANTIZER_H

#include "backends/backends.h"
#include "core/json.h"

/* One qconfig: how weights and activations are fake-quantized. The JSON
 * objects are complete rq_fake_quant_create() configs, except ch_axis for
 * per-channel weights, which depends on the op and is added per weight. */
typedef struct rq__qconfig {
  json_t *w_fake_quant;
  json_t *a_fake_quant;
  /* MMRazor's pieces as given (fake_quant, observer, qscheme), kept so an
   * override can inherit what it does not restate. */
  json_t *w_parts[3], *a_parts[3];
  rq__qscheme_summary w, a;
} rq__qconfig;

/* A qconfig for the nodes named, or of the op types listed (mixed precision). */
typedef struct rq__qconfig_override {
  rq__string_list nodes, op_types;
  rq__qconfig qconfig;
} rq__qconfig_override;

/* AdaRound's settings (config "reconstruction"; adaround.c). */
typedef struct rq__adaround_options {
  long long iters;
  double weight;              /* of the rounding regulariser */
  double beta_start, beta_end; /* its annealed exponent */
  double warm_up;             /* share of iterations before the regulariser starts */
  double lr;                  /* Adam's learning rate */
} rq__adaround_options;

struct rq_quantizer {
  rq_backend_config *backend;
  rq__qconfig global;
  rq__qconfig_override *overrides;
  size_t n_overrides;
  rq__string_list skipped_nodes, skipped_op_types;
  /* Nodes quantized as PyTorch FX quantizes a call no pattern matches. */
  rq__string_list unmatched_nodes;
  rq__string_list extra_no_fakequant_before, extra_no_fakequant_after;
  long long calibrate_steps, calibrate_batch_size;
  /* PTQLoop (MMRazor): fake-quants stay on while observing, so later layers
   * see quantized inputs. false = PyTorch's prepare/convert style. */
  bool calibrate_with_fake_quant;
  /* Empirical bias correction at convert (bias_correction.c). */
  bool bias_correction;
  rq__adaround_options adaround;
  /* XXH3-64 of the config in canonical form (keys sorted, compact), so a
   * calibration file can be matched to the config that made it. */
  uint64_t config_hash;
};

/* The qconfig for a node (its override if one matches, else the global one). */
const rq__qconfig *rq__quantizer_qconfig_for(const rq_quantizer *q, const char *node_name,
                                             const char *op_type);
bool rq__string_list_has(const rq__string_list *l, const char *s);

/* Every node name the config gives (tracer.skipped_nodes, tracer.unmatched_nodes,
 * qconfigs[].nodes)
 * must name a node of the graph: a typo would otherwise change nothing,
 * silently. RQ_ERR_INVALID_ARG names the key path. */
rq_status rq__quantizer_check_node_names(const rq_quantizer *q, const rq_graph *g);

#endif
