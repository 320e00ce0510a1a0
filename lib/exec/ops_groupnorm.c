/* SPDX-License-Identifier: Apache-2.0 */
/* GroupNormalization (opsets 18 and 21): X [N, C, D1, ...] has its C
 * channels cut into num_groups groups of C / num_groups consecutive
 * channels; each image's group is normalised over its channels and
 * positions together, then scaled and shifted. Opset 18 gives scale and
 * bias one value per group; opset 21 one per channel (as PyTorch's
 * group_norm weight and bias) and adds stash_type, the least precision of
 * the statistics. Both take the same path: opset 18's values are those of
 * every channel of their group.
 *
 * As LayerNormalization and InstanceNormalization (ops_nn.c), the mean and
 * variance are two passes in double, so a large mean does not cancel the
 * variance away; FLOAT16 and DOUBLE take the same arithmetic through
 * rq__elem_get. */
#include "exec/exec.h"

#include <math.h>

typedef struct groupnorm_job {
  const rq__tensor *x, *scale, *bias;
  rq__tensor *y;
  size_t groups;      /* per image */
  size_t len;         /* elements of one image's group: C / groups * D1 * ... */
  size_t run;         /* elements of one channel: D1 * ... */
  bool per_channel;   /* scale/bias hold one value per channel (opset 21) */
  double eps;
} groupnorm_job;

/* Normalises blocks [begin, end), block b = image b / groups, group
 * b % groups: len consecutive elements of X, one run per channel. Each
 * run's factor is its scale over the group's standard deviation, so a
 * per-group scale gives opset 18's arithmetic unchanged. */
static void groupnorm_chunk(void *arg, size_t begin, size_t end) {
  const groupnorm_job *j = arg;
  int32_t dt = j->x->dtype;
  size_t channels = j->len / j->run;
  for (size_t b = begin; b < end; b++) {
    size_t g = b % j->groups, off = b * j->len;
    double mean = 0, var = 0;
    if (dt == RQ__DT_FLOAT) {
      const float *xp = (const float *)j->x->data + off;
      for (size_t i = 0; i < j->len; i++) mean += xp[i];
      mean /= (double)j->len;
      for (size_t i = 0; i < j->len; i++) var += (xp[i] - mean) * (xp[i] - mean);
    } else {
      for (size_t i = 0; i < j->len; i++) mean += rq__elem_get(j->x->data, dt, off + i);
      mean /= (double)j->len;
      for (size_t i = 0; i < j->len; i++) {
        double d = rq__elem_get(j->x->data, dt, off + i) - mean;
        var += d * d;
      }
    }
    var /= (double)j->len;
    double sd = sqrt(var + j->eps);
    for (size_t ch = 0; ch < channels; ch++) {
      size_t at = j->per_channel ? g * channels + ch : g, o = off + ch * j->run;
      double k = rq__elem_get(j->scale->data, dt, at) / sd, bi = rq__elem_get(j->bias->data, dt, at);
      if (dt == RQ__DT_FLOAT) {
        const float *xp = (const float *)j->x->data + o;
        float *yp = (float *)j->y->data + o;
        for (size_t i = 0; i < j->run; i++) yp[i] = (float)((xp[i] - mean) * k + bi);
      } else {
        for (size_t i = 0; i < j->run; i++)
          rq__elem_set(j->y->data, dt, o + i, (rq__elem_get(j->x->data, dt, o + i) - mean) * k + bi);
      }
    }
  }
}

static rq_status op_group_norm(rq__op_ctx *c) {
  const rq__tensor *x, *scale, *bias;
  RQ_TRY(rq__op_need(c, 0, &x));
  RQ_TRY(rq__op_need(c, 1, &scale));
  RQ_TRY(rq__op_need(c, 2, &bias));
  if (x->dtype != RQ__DT_FLOAT && x->dtype != RQ__DT_FLOAT16 && x->dtype != RQ__DT_DOUBLE)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "element type %s is not supported (FLOAT, FLOAT16, DOUBLE are)",
                      rq__dtype_name(x->dtype));
  if (scale->dtype != x->dtype || bias->dtype != x->dtype)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scale and bias must have X's element type %s, got %s and %s",
                      rq__dtype_name(x->dtype), rq__dtype_name(scale->dtype), rq__dtype_name(bias->dtype));
  const rq__attr *groups_attr = rq__node_attr(c->node, "num_groups");
  if (groups_attr == NULL || groups_attr->type != RQ__ATTR_INT)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "attribute num_groups (an int) is missing");
  int64_t groups = groups_attr->i;
  if (x->ndim < 2) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "X must have rank 2 or more (N, C, ...), got rank %d", x->ndim);
  int64_t C = x->dims[1];
  if (groups <= 0 || C % groups != 0)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "num_groups = %lld must be positive and divide the %lld channels",
                      (long long)groups, (long long)C);
  bool per_channel = c->opset >= 21;
  int64_t values = per_channel ? C : groups;
  if (scale->ndim != 1 || scale->dims[0] != values || bias->ndim != 1 || bias->dims[0] != values)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scale and bias must have shape [%lld] (%s)", (long long)values,
                      per_channel ? "C, one value per channel from opset 21" : "num_groups");
  if (per_channel) {
    /* The statistics are taken in double, at least as precise as any
     * stash_type asks; only its value is checked. */
    int64_t stash = rq__node_attr_int(c->node, "stash_type", RQ__DT_FLOAT);
    if (stash != RQ__DT_FLOAT && stash != RQ__DT_FLOAT16 && stash != RQ__DT_DOUBLE && stash != RQ__DT_BFLOAT16)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "stash_type %lld is not a floating-point element type", (long long)stash);
  }
  rq__tensor *y;
  RQ_TRY(rq__op_output_uninit(c, 0, x->dtype, x->ndim, x->dims, &y));
  size_t blocks = (size_t)x->dims[0] * (size_t)groups;
  if (blocks == 0 || x->numel == 0) return RQ_OK; /* nothing to write; no group of 0 elements to divide by */
  groupnorm_job job = {.x = x, .scale = scale, .bias = bias, .y = y, .groups = (size_t)groups,
                       .len = x->numel / blocks, .run = x->numel / blocks / (size_t)(C / groups),
                       .per_channel = per_channel, .eps = rq__node_attr_float(c->node, "epsilon", 1e-5f)};
  rq__parallel_for(c->threads, blocks, 65536 / job.len + 1, groupnorm_chunk, &job);
  return RQ_OK;
}

const rq__op_entry rq__ops_groupnorm[] = {
  {"GroupNormalization", op_group_norm},
  {NULL, NULL},
};
