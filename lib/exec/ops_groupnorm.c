/* SPDX-License-Identifier: Apache-2.0 */
/* GroupNormalization (opset 18): X [N, C, D1, ...] has its C channels cut
 * into num_groups groups of C / num_groups consecutive channels; each
 * image's group is normalised over its channels and positions together,
 * then y = scale[g] * normalised + bias[g]. Opset 18 gives scale and bias
 * one value per group (opset 21 changed them to one per channel, which
 * PyTorch's weight and bias are: its group_norm with weight = scale[g]
 * repeated over the group's channels computes the same).
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
  size_t groups; /* per image */
  size_t len;    /* elements of one image's group: C / groups * D1 * ... */
  double eps;
} groupnorm_job;

/* Normalises blocks [begin, end), block b = image b / groups, group
 * b % groups: len consecutive elements of X. */
static void groupnorm_chunk(void *arg, size_t begin, size_t end) {
  const groupnorm_job *j = arg;
  int32_t dt = j->x->dtype;
  for (size_t b = begin; b < end; b++) {
    size_t g = b % j->groups, off = b * j->len;
    double sc = rq__elem_get(j->scale->data, dt, g), bi = rq__elem_get(j->bias->data, dt, g);
    double mean = 0, var = 0;
    if (dt == RQ__DT_FLOAT) {
      const float *xp = (const float *)j->x->data + off;
      float *yp = (float *)j->y->data + off;
      for (size_t i = 0; i < j->len; i++) mean += xp[i];
      mean /= (double)j->len;
      for (size_t i = 0; i < j->len; i++) var += (xp[i] - mean) * (xp[i] - mean);
      var /= (double)j->len;
      double k = sc / sqrt(var + j->eps);
      for (size_t i = 0; i < j->len; i++) yp[i] = (float)((xp[i] - mean) * k + bi);
    } else {
      for (size_t i = 0; i < j->len; i++) mean += rq__elem_get(j->x->data, dt, off + i);
      mean /= (double)j->len;
      for (size_t i = 0; i < j->len; i++) {
        double d = rq__elem_get(j->x->data, dt, off + i) - mean;
        var += d * d;
      }
      var /= (double)j->len;
      double k = sc / sqrt(var + j->eps);
      for (size_t i = 0; i < j->len; i++)
        rq__elem_set(j->y->data, dt, off + i, (rq__elem_get(j->x->data, dt, off + i) - mean) * k + bi);
    }
  }
}

static rq_status op_group_norm(rq__op_ctx *c) {
  /* Opset 21 redefined scale/bias per channel (and added stash_type): a
   * loader accepting it must not run such nodes with opset 18's meaning. */
  if (c->opset >= 21)
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "opset %lld's per-channel form is not implemented", (long long)c->opset);
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
  if (scale->ndim != 1 || scale->dims[0] != groups || bias->ndim != 1 || bias->dims[0] != groups)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "scale and bias must have shape [%lld] (num_groups)", (long long)groups);
  rq__tensor *y;
  RQ_TRY(rq__op_output_uninit(c, 0, x->dtype, x->ndim, x->dims, &y));
  size_t blocks = (size_t)x->dims[0] * (size_t)groups;
  if (blocks == 0 || x->numel == 0) return RQ_OK; /* nothing to write; no group of 0 elements to divide by */
  groupnorm_job job = {.x = x, .scale = scale, .bias = bias, .y = y, .groups = (size_t)groups,
                       .len = x->numel / blocks, .eps = rq__node_attr_float(c->node, "epsilon", 1e-5f)};
  rq__parallel_for(c->threads, blocks, 65536 / job.len + 1, groupnorm_chunk, &job);
  return RQ_OK;
}

const rq__op_entry rq__ops_groupnorm[] = {
  {"GroupNormalization", op_group_norm},
  {NULL, NULL},
};
