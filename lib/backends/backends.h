/* SPDX-License-Identifier: Apache-2.0 */
/* Internal view of a backend config: what the quantizer consults when it
 * decides where fake-quants go and whether a qconfig can be deployed. */
#ifndef RQ_BACKENDS_BACKENDS_H
#define RQ_BACKENDS_BACKENDS_H

#include "core/core.h"

#include <jansson.h>

/* Storage dtypes a qscheme may name (MMRazor's qdtype). */
typedef enum rq__qdtype { RQ__QUINT8 = 0, RQ__QINT8 = 1, RQ__QDTYPE_COUNT } rq__qdtype;

/* How an op type takes part in quantization. The roles mirror PyTorch's
 * BackendConfig observation types, expressed on ONNX op types. */
typedef enum rq__op_role {
  RQ__ROLE_NONE = 0,
  RQ__ROLE_WEIGHTED,      /* Conv, Gemm, MatMul: quantize activation inputs and weights; output gets its own observer */
  RQ__ROLE_BINARY,        /* Add, Mul: quantize both inputs and the output */
  RQ__ROLE_CONCAT,        /* Concat: one observer shared by every input and the output */
  RQ__ROLE_SHARE_QPARAMS, /* pools, Relu, Clip, Flatten, ...: output reuses the input's qparams */
  RQ__ROLE_FIXED_QPARAMS, /* Sigmoid, Tanh, ...: output qparams fixed by the op's output range */
  RQ__ROLE_COUNT
} rq__op_role;

/* Constraints on one tensor class (activations or weights). */
typedef struct rq__tensor_rules {
  unsigned dtypes;        /* bit mask of 1u << rq__qdtype */
  bool per_tensor;        /* per-tensor qschemes allowed */
  bool per_channel;       /* per-channel qschemes allowed */
  bool symmetric_only;    /* zero point must be 0 (TensorRT) */
  int min_bit, max_bit;   /* allowed `bit` range */
} rq__tensor_rules;

typedef struct rq__string_list {
  char **items;
  size_t count;
} rq__string_list;

bool rq__string_list_has(const rq__string_list *l, const char *s);
/* Copies a JSON array of strings (validated by the caller) into *out. */
rq_status rq__string_list_from_json(const json_t *array, const char *where, rq__string_list *out);
void rq__string_list_free(rq__string_list *l);

typedef struct rq__fixed_range {
  char *op_type;
  float lo, hi;           /* the op's output range, e.g. Sigmoid [0, 1] */
} rq__fixed_range;

struct rq_backend_config {
  char *name;             /* canonical name, e.g. "openvino" */
  char *quantizer;        /* MMRazor quantizer class, e.g. "OpenVINOQuantizer" */
  rq__tensor_rules activation, weight;
  rq__string_list ops[RQ__ROLE_COUNT];  /* ops[role]: ONNX op types with that role */
  /* Activations a weighted op fuses with (FX's conv/linear + relu patterns):
   * observed after the activation only, not between the two. */
  rq__string_list fused_activations;
  rq__fixed_range *fixed;               /* output ranges of the FIXED_QPARAMS ops */
  size_t fixed_count;
  rq__string_list no_fakequant_before;  /* a fake-quant right before these is redundant */
  rq__string_list no_fakequant_after;   /* ... right after these */
  bool no_fakequant_on_outputs;         /* ... on the graph outputs */
  bool int32_bias;                      /* export biases as int32 (scale = s_in * s_w) */
  bool per_node_qconfig;                /* per-node / per-op-type overrides allowed */
  char *export_format;                  /* "qdq" or "openvino-fq" */
};

/* The role an ONNX op type plays in this backend (RQ__ROLE_NONE if not quantized). */
rq__op_role rq__backend_op_role(const rq_backend_config *cfg, const char *op_type);
/* True if a fake-quant between `producer_op` (NULL for a graph input) and
 * `consumer_op` (NULL for a graph output) is redundant for this backend. */
bool rq__backend_fakequant_redundant(const rq_backend_config *cfg, const char *producer_op,
                                     const char *consumer_op);
/* The output range of a fixed-qparams op, false if the op has none. */
bool rq__backend_fixed_range(const rq_backend_config *cfg, const char *op_type, float *lo, float *hi);

/* A qscheme as the quantizer will use it, for the deployability check. */
typedef struct rq__qscheme_summary {
  rq__qdtype qdtype;
  int bit;
  bool symmetric;
  bool per_channel;
} rq__qscheme_summary;

/* RQ_OK if the backend can deploy this qscheme for weights (is_weight) or
 * activations; otherwise RQ_ERR_UNSUPPORTED with a message naming the rule,
 * prefixed by `where` (e.g. "global_qconfig.a_qscheme"). */
rq_status rq__backend_check_qscheme(const rq_backend_config *cfg, bool is_weight,
                                    const rq__qscheme_summary *q, const char *where);

const char *rq__qdtype_name(rq__qdtype t);
bool rq__qdtype_parse(const char *s, rq__qdtype *out);

#endif
