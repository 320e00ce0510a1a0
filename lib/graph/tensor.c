/* SPDX-License-Identifier: Apache-2.0 */
/* rq__tensor: dense host tensors, and the element types the IR knows. */
#include "graph/graph.h"

#include <razorq/npy.h> /* RQ_DL_BOOL */

#include <string.h>

size_t rq__dtype_size(int32_t dtype) {
  switch (dtype) {
    case RQ__DT_FLOAT: return 4;
    case RQ__DT_UINT8: return 1;
    case RQ__DT_INT8: return 1;
    case RQ__DT_UINT16: return 2;
    case RQ__DT_INT16: return 2;
    case RQ__DT_INT32: return 4;
    case RQ__DT_INT64: return 8;
    case RQ__DT_BOOL: return 1;
    case RQ__DT_FLOAT16: return 2;
    case RQ__DT_DOUBLE: return 8;
    case RQ__DT_UINT32: return 4;
    case RQ__DT_UINT64: return 8;
    case RQ__DT_BFLOAT16: return 2;
    default: return 0;
  }
}

const char *rq__dtype_name(int32_t dtype) {
  switch (dtype) {
    case RQ__DT_UNDEFINED: return "UNDEFINED";
    case RQ__DT_FLOAT: return "FLOAT";
    case RQ__DT_UINT8: return "UINT8";
    case RQ__DT_INT8: return "INT8";
    case RQ__DT_UINT16: return "UINT16";
    case RQ__DT_INT16: return "INT16";
    case RQ__DT_INT32: return "INT32";
    case RQ__DT_INT64: return "INT64";
    case RQ__DT_STRING: return "STRING";
    case RQ__DT_BOOL: return "BOOL";
    case RQ__DT_FLOAT16: return "FLOAT16";
    case RQ__DT_DOUBLE: return "DOUBLE";
    case RQ__DT_UINT32: return "UINT32";
    case RQ__DT_UINT64: return "UINT64";
    case 14: return "COMPLEX64";
    case 15: return "COMPLEX128";
    case RQ__DT_BFLOAT16: return "BFLOAT16";
    /* Named (opsets 19 and 21 added them) so a refusal says which. */
    case 17: return "FLOAT8E4M3FN";
    case 18: return "FLOAT8E4M3FNUZ";
    case 19: return "FLOAT8E5M2";
    case 20: return "FLOAT8E5M2FNUZ";
    case 21: return "UINT4";
    case 22: return "INT4";
    default: return "?";
  }
}

rq_status rq__shape_numel(const char *what, int ndim, const int64_t *dims, size_t elem_size,
                          size_t *numel) {
  if (ndim < 0 || ndim > RQ__MAX_RANK)
    return rq__fail(RQ_ERR_UNSUPPORTED, what, "rank %d is outside 0..%d", ndim, RQ__MAX_RANK);
  /* The product of the nonzero dimensions must fit too, empty tensor or
   * not: strides are products of dimensions, and code walking an empty
   * [0, 2^61, 8] must not overflow computing them. */
  size_t n = 1;
  bool empty = false;
  for (int i = 0; i < ndim; i++) {
    if (dims[i] < 0)
      return rq__fail(RQ_ERR_FORMAT, what, "dimension %d is negative (%lld)", i, (long long)dims[i]);
    if (dims[i] == 0) {
      empty = true;
      continue;
    }
    if ((uint64_t)dims[i] > SIZE_MAX || !rq__mul_size(n, (size_t)dims[i], &n) || n > (size_t)INT64_MAX)
      return rq__fail(RQ_ERR_FORMAT, what, "element count overflows");
  }
  size_t bytes;
  if (elem_size != 0 && !rq__mul_size(n, elem_size, &bytes))
    return rq__fail(RQ_ERR_FORMAT, what, "byte size overflows");
  *numel = empty ? 0 : n;
  return RQ_OK;
}

rq_status rq__tensor_create(const char *name, int32_t dtype, int ndim, const int64_t *dims,
                            rq__tensor **out) {
  RQ_CHECK_NOT_NULL(out);
  *out = NULL;
  size_t esize = rq__dtype_size(dtype);
  if (esize == 0)
    return rq__fail(RQ_ERR_UNSUPPORTED, __func__, "tensor '%s': element type %s (%d) is not supported",
                    name ? name : "", rq__dtype_name(dtype), (int)dtype);
  RQ_CHECK_ARG(ndim == 0 || dims != NULL, "dims is NULL");
  size_t numel;
  RQ_TRY(rq__shape_numel(__func__, ndim, dims, esize, &numel));
  rq__tensor *t = rq__calloc(1, sizeof *t);
  if (t == NULL) return rq__nomem(__func__, sizeof *t);
  t->dtype = dtype;
  t->ndim = ndim;
  if (ndim > 0) memcpy(t->dims, dims, (size_t)ndim * sizeof *dims);
  t->numel = numel;
  t->nbytes = numel * esize;
  if (t->nbytes > 0) {
    t->data = rq__calloc(1, t->nbytes);
    if (t->data == NULL) {
      rq__free(t);
      return rq__nomem(__func__, numel * esize);
    }
  }
  if (name != NULL && (t->name = rq__strdup(name)) == NULL) {
    rq__tensor_destroy(t);
    return rq__nomem(__func__, strlen(name) + 1);
  }
  *out = t;
  return RQ_OK;
}

void rq__tensor_destroy(rq__tensor *t) {
  if (t == NULL) return;
  for (size_t i = 0; i < t->n_items; i++) rq__tensor_destroy(t->items[i]);
  rq__free(t->items);
  rq__free(t->name);
  rq__free(t->data);
  rq__free(t);
}

const char *rq__kind_name(int kind) {
  switch (kind) {
    case RQ__KIND_TENSOR: return "tensor";
    case RQ__KIND_SEQUENCE: return "sequence";
    case RQ__KIND_OPTIONAL: return "optional";
    default: return "?";
  }
}

rq_status rq__tensor_create_container(int kind, int32_t dtype, rq__tensor **out) {
  RQ_CHECK_NOT_NULL(out);
  *out = NULL;
  RQ_CHECK_ARG(kind == RQ__KIND_SEQUENCE || kind == RQ__KIND_OPTIONAL, "kind %d is not a container", kind);
  rq__tensor *t = rq__calloc(1, sizeof *t);
  if (t == NULL) return rq__nomem(__func__, sizeof *t);
  t->kind = kind;
  t->dtype = dtype;
  *out = t;
  return RQ_OK;
}

rq_status rq__tensor_insert_item(rq__tensor *c, size_t pos, rq__tensor *item) {
  if (c == NULL || item == NULL || c->kind == RQ__KIND_TENSOR || pos > c->n_items ||
      (c->kind == RQ__KIND_OPTIONAL && c->n_items > 0)) {
    rq__tensor_destroy(item);
    return rq__fail(RQ_ERR_INTERNAL, __func__, "no room for an item at position %zu", pos);
  }
  /* Grown one at a time: sequences stay short (a list in a model). */
  rq__tensor **grown = rq__realloc_array(c->items, c->n_items + 1, sizeof *grown);
  if (grown == NULL) {
    rq__tensor_destroy(item);
    return rq__nomem(__func__, (c->n_items + 1) * sizeof *grown);
  }
  c->items = grown;
  memmove(c->items + pos + 1, c->items + pos, (c->n_items - pos) * sizeof *c->items);
  c->items[pos] = item;
  c->n_items++;
  return RQ_OK;
}

rq_status rq__tensor_clone(const rq__tensor *src, rq__tensor **out) {
  RQ_CHECK_NOT_NULL(src);
  RQ_CHECK_NOT_NULL(out);
  if (src->kind != RQ__KIND_TENSOR) {
    RQ_TRY(rq__tensor_create_container(src->kind, src->dtype, out));
    rq_status st = rq__tensor_set_name(*out, src->name);
    for (size_t i = 0; st == RQ_OK && i < src->n_items; i++) {
      rq__tensor *item;
      st = rq__tensor_clone(src->items[i], &item);
      if (st == RQ_OK) st = rq__tensor_insert_item(*out, i, item);
    }
    if (st != RQ_OK) {
      rq__tensor_destroy(*out);
      *out = NULL;
    }
    return st;
  }
  RQ_TRY(rq__tensor_create(src->name, src->dtype, src->ndim, src->dims, out));
  if (src->nbytes > 0) memcpy((*out)->data, src->data, src->nbytes);
  return RQ_OK;
}

rq_status rq__tensor_set_name(rq__tensor *t, const char *name) {
  RQ_CHECK_NOT_NULL(t);
  char *copy = NULL;
  if (name != NULL && (copy = rq__strdup(name)) == NULL) return rq__nomem(__func__, strlen(name) + 1);
  rq__free(t->name);
  t->name = copy;
  return RQ_OK;
}

/* ONNX dtype <-> DLPack dtype. */
bool rq__dtype_to_dl(int32_t dtype, DLDataType *dl) {
  uint8_t code;
  switch (dtype) {
    case RQ__DT_FLOAT: case RQ__DT_DOUBLE: case RQ__DT_FLOAT16: code = kDLFloat; break;
    case RQ__DT_BFLOAT16: code = kDLBfloat; break;
    case RQ__DT_INT8: case RQ__DT_INT16: case RQ__DT_INT32: case RQ__DT_INT64: code = kDLInt; break;
    case RQ__DT_UINT8: case RQ__DT_UINT16: case RQ__DT_UINT32: case RQ__DT_UINT64: code = kDLUInt; break;
    case RQ__DT_BOOL: code = RQ_DL_BOOL; break;
    default: return false;
  }
  dl->code = code;
  dl->bits = (uint8_t)(rq__dtype_size(dtype) * 8);
  dl->lanes = 1;
  return true;
}

int32_t rq__dtype_from_dl(DLDataType dl) {
  if (dl.lanes != 1) return RQ__DT_UNDEFINED;
  switch (dl.code) {
    case kDLFloat:
      return dl.bits == 32 ? RQ__DT_FLOAT : dl.bits == 64 ? RQ__DT_DOUBLE
           : dl.bits == 16 ? RQ__DT_FLOAT16 : RQ__DT_UNDEFINED;
    case kDLBfloat: return dl.bits == 16 ? RQ__DT_BFLOAT16 : RQ__DT_UNDEFINED;
    case kDLInt:
      return dl.bits == 8 ? RQ__DT_INT8 : dl.bits == 16 ? RQ__DT_INT16
           : dl.bits == 32 ? RQ__DT_INT32 : dl.bits == 64 ? RQ__DT_INT64 : RQ__DT_UNDEFINED;
    case kDLUInt:
      return dl.bits == 8 ? RQ__DT_UINT8 : dl.bits == 16 ? RQ__DT_UINT16
           : dl.bits == 32 ? RQ__DT_UINT32 : dl.bits == 64 ? RQ__DT_UINT64 : RQ__DT_UNDEFINED;
    case RQ_DL_BOOL: return dl.bits == 8 ? RQ__DT_BOOL : RQ__DT_UNDEFINED;
    default: return RQ__DT_UNDEFINED;
  }
}
