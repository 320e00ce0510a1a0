/* SPDX-License-Identifier: Apache-2.0 */
/* The fake-quant base (PyTorch's FakeQuantizeBase): configuration, the
 * observer, the switches, argument and finiteness checks, tensor layouts and
 * the parameter arrays. What a class computes lives in its table (builtin.c
 * for the built-ins, plugins register their own). */
#include "fakequant/fakequant_internal.h"
#include "core/json.h"
#include "kernels/kernels.h"

#include <math.h>
#include <string.h>

struct rq_fake_quant {
  const rq_fake_quant_class *cls;
  void *state;
  rq_observer *observer;
  rq_fake_quant_info info;
  /* The params the forward applies; `capacity` entries allocated. */
  float *scale;
  float *zero_point;
  size_t count, capacity;
  bool channels_known; /* per channel: count is the channel count */
  /* The observer was created with "ignore_nonfinite": NaN/Inf then pass
   * through as in PyTorch instead of being refused. */
  bool allow_nonfinite;
  bool observer_on, fake_quant_on, learning_on;
};

struct rq_fake_quant_args {
  const json_t *obj;
};

/* ---- Class arguments --------------------------------------------------------------- */

RQ_API rq_status rq_fake_quant_args_number(const rq_fake_quant_args *args, const char *key,
                                           double min, double max, double *value) {
  RQ_CHECK_NOT_NULL(args);
  RQ_CHECK_NOT_NULL(key);
  RQ_CHECK_NOT_NULL(value);
  return rq__json_get_number(args->obj, "rq_fake_quant_create", "", key, min, max, value);
}

RQ_API rq_status rq_fake_quant_args_bool(const rq_fake_quant_args *args, const char *key,
                                         bool *value) {
  RQ_CHECK_NOT_NULL(args);
  RQ_CHECK_NOT_NULL(key);
  RQ_CHECK_NOT_NULL(value);
  return rq__json_get_bool(args->obj, "rq_fake_quant_create", "", key, value);
}

/* ---- Create / destroy ---------------------------------------------------------------- */

static bool is_class_param(const rq_fake_quant_class *cls, const char *key) {
  for (const char *const *p = cls->params; p && *p; ++p)
    if (strcmp(*p, key) == 0) return true;
  return false;
}

/* Makes room for n params, keeping the current ones. */
static rq_status reserve_params(rq_fake_quant *fq, size_t n, const char *where) {
  if (n <= fq->capacity) return RQ_OK;
  float *scale = rq__malloc_array(n, sizeof *scale);
  float *zero_point = rq__malloc_array(n, sizeof *zero_point);
  if (scale == NULL || zero_point == NULL) {
    rq__free(scale);
    rq__free(zero_point);
    return rq__nomem(where, 2 * n * sizeof(float));
  }
  if (fq->count) {
    memcpy(scale, fq->scale, fq->count * sizeof *scale);
    memcpy(zero_point, fq->zero_point, fq->count * sizeof *zero_point);
  }
  rq__free(fq->scale);
  rq__free(fq->zero_point);
  fq->scale = scale;
  fq->zero_point = zero_point;
  fq->capacity = n;
  return RQ_OK;
}

static rq_fake_quant_params params_view(rq_fake_quant *fq) {
  rq_fake_quant_params p = {sizeof p, fq->scale, fq->zero_point, fq->count};
  return p;
}

/* Splits the config into the class's own keys and the observer's config
 * (the "observer" object plus every other top-level key, as MMRazor passes
 * qscheme and observer kwargs through the fake-quant). */
static rq_status split_config(const json_t *root, const rq_fake_quant_class *cls,
                              json_t **class_args, json_t **observer_cfg, const char *where) {
  const json_t *given = NULL;
  RQ_TRY(rq__json_get_object(root, where, "", "observer", &given));
  json_t *obs = given ? json_deep_copy(given) : json_object();
  json_t *args = json_object();
  if (obs == NULL || args == NULL) {
    json_decref(obs);
    json_decref(args);
    return rq__nomem(where, 64);
  }
  rq_status s = RQ_OK;
  if (json_object_get(obs, "type") == NULL) {
    if (cls->default_observer == NULL)
      s = rq__fail(RQ_ERR_INVALID_ARG, where, "observer: %s needs an observer object with a "
                   "\"type\"", cls->name);
    else
      json_object_set_new(obs, "type", json_string(cls->default_observer));
  }
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)root, key, value) {
    if (s != RQ_OK) break;
    if (strcmp(key, "type") == 0 || strcmp(key, "observer") == 0) continue;
    if (is_class_param(cls, key)) {
      json_object_set(args, key, value);
    } else if (json_object_get(obs, key) != NULL) {
      s = rq__fail(RQ_ERR_INVALID_ARG, where, "%s: given both at the top level and in "
                   "\"observer\"", key);
    } else {
      json_object_set(obs, key, value);
    }
  }
  if (s != RQ_OK) {
    json_decref(obs);
    json_decref(args);
    return s;
  }
  *class_args = args;
  *observer_cfg = obs;
  return RQ_OK;
}

static rq_status create_observer(json_t *cfg, rq_observer **out, const char *where) {
  char *text = json_dumps(cfg, JSON_COMPACT);
  if (text == NULL) return rq__nomem(where, 256);
  rq_status s = rq_observer_create(text, out);
  free(text); /* jansson's allocation */
  if (s != RQ_OK) {
    /* Keep the observer's message (it names the key) and say where it came from. */
    char message[512];
    snprintf(message, sizeof message, "%s", rq_last_error());
    return rq__fail(s, where, "observer: %s", message);
  }
  return RQ_OK;
}

RQ_API rq_status rq_fake_quant_create(const char *config_json, rq_fake_quant **out) {
  const char *where = __func__;
  RQ_CHECK_NOT_NULL(out);
  *out = NULL;
  RQ_CHECK_NOT_NULL(config_json);
  json_t *root = NULL;
  RQ_TRY(rq__json_parse_object(config_json, where, &root));

  json_t *class_args = NULL, *observer_cfg = NULL;
  rq_fake_quant *fq = NULL;
  const char *type = NULL;
  rq_status s = rq__json_get_string(root, where, "", "type", &type);
  if (s == RQ_OK && type == NULL) s = rq__fail(RQ_ERR_INVALID_ARG, where, "type: missing");
  const rq_fake_quant_class *cls = NULL;
  if (s == RQ_OK && (cls = rq__fake_quant_class_find(type)) == NULL)
    s = rq__fail(RQ_ERR_NOT_FOUND, where, "type: no fake-quant class '%s'", type);
  if (s == RQ_OK) s = split_config(root, cls, &class_args, &observer_cfg, where);
  if (s == RQ_OK && (fq = rq__calloc(1, sizeof *fq)) == NULL) s = rq__nomem(where, sizeof *fq);
  if (s == RQ_OK) {
    fq->cls = cls;
    fq->observer_on = fq->fake_quant_on = true;
    fq->allow_nonfinite = json_is_true(json_object_get(observer_cfg, "ignore_nonfinite"));
    s = create_observer(observer_cfg, &fq->observer, where);
  }
  if (s == RQ_OK) {
    fq->info.struct_size = sizeof fq->info;
    s = rq_observer_quant_range(fq->observer, &fq->info.quant_min, &fq->info.quant_max);
  }
  if (s == RQ_OK)
    s = rq_observer_channel_axis(fq->observer, &fq->info.per_channel, &fq->info.ch_axis);
  if (s == RQ_OK) s = rq_observer_is_symmetric(fq->observer, &fq->info.symmetric);
  if (s == RQ_OK) s = reserve_params(fq, 1, where);
  if (s == RQ_OK && cls->state_size && (fq->state = rq__calloc(1, cls->state_size)) == NULL)
    s = rq__nomem(where, cls->state_size);
  if (s == RQ_OK) {
    /* PyTorch's initial buffers: scale 1, zero point 0. */
    fq->count = 1;
    fq->scale[0] = 1.0f;
    fq->zero_point[0] = 0.0f;
    if (cls->init) {
      rq_fake_quant_args args = {class_args};
      rq_fake_quant_params p = params_view(fq);
      s = cls->init(fq->state, &fq->info, fq->observer, &args, &p);
    }
  }
  json_decref(root);
  json_decref(class_args);
  json_decref(observer_cfg);
  if (s != RQ_OK) {
    if (fq) {
      rq_observer_destroy(fq->observer);
      rq__free(fq->state);
      rq__free(fq->scale);
      rq__free(fq->zero_point);
      rq__free(fq);
    }
    return s;
  }
  *out = fq;
  return RQ_OK;
}

RQ_API void rq_fake_quant_destroy(rq_fake_quant *fq) {
  if (fq == NULL) return;
  if (fq->cls->fini) fq->cls->fini(fq->state);
  rq_observer_destroy(fq->observer);
  rq__free(fq->state);
  rq__free(fq->scale);
  rq__free(fq->zero_point);
  rq__free(fq);
}

RQ_API const char *rq_fake_quant_type_name(const rq_fake_quant *fq) {
  return fq ? fq->cls->name : NULL;
}

/* ---- Tensors ------------------------------------------------------------------------- */

/* A tensor's validated shape facts. */
typedef struct tensor_shape {
  size_t numel;
  rq__elem elem;
  bool contiguous_f32;
} tensor_shape;

static rq_status check_tensor(const DLTensor *t, const char *name, tensor_shape *out,
                              const char *where) {
  if (t == NULL) return rq__fail(RQ_ERR_INVALID_ARG, where, "%s is NULL", name);
  if (t->device.device_type != kDLCPU)
    return rq__fail(RQ_ERR_UNSUPPORTED, where, "%s: only CPU tensors are supported", name);
  if (t->ndim < 0 || (t->ndim > 0 && t->shape == NULL))
    return rq__fail(RQ_ERR_INVALID_ARG, where, "%s: ndim %d without a shape", name, t->ndim);
  if (!rq__elem_from_dtype(t->dtype, &out->elem))
    return rq__fail(RQ_ERR_INVALID_ARG, where, "%s: dtype code %u bits %u lanes %u is not "
                    "float32, float16 or bfloat16", name, t->dtype.code, t->dtype.bits,
                    t->dtype.lanes);
  if (t->ndim > 32)
    return rq__fail(RQ_ERR_UNSUPPORTED, where, "%s: %d dimensions (at most 32)", name, t->ndim);
  if (rq__tensor_numel(t, &out->numel) != RQ_OK)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "%s: invalid shape", name);
  if (out->numel > 0 && t->data == NULL)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "%s: data is NULL", name);
  bool contiguous = true;
  if (t->strides) {
    int64_t expected = 1;
    for (int d = t->ndim - 1; d >= 0; --d) {
      if (t->shape[d] != 1 && t->strides[d] != expected) contiguous = false;
      expected *= t->shape[d];
    }
  }
  out->contiguous_f32 = contiguous && out->elem == RQ__ELEM_F32;
  return RQ_OK;
}

static bool same_shape(const DLTensor *a, const DLTensor *b) {
  if (a->ndim != b->ndim) return false;
  for (int d = 0; d < a->ndim; ++d)
    if (a->shape[d] != b->shape[d]) return false;
  return true;
}

/* Visits every element of t in row-major logical order: calls fn(ptr, i). */
static void walk(const DLTensor *t, size_t numel, size_t elem_size,
                 void (*fn)(void *ptr, size_t i, void *ctx), void *ctx) {
  if (numel == 0) return;
  int64_t index[32] = {0};
  char *base = (char *)t->data + t->byte_offset;
  for (size_t i = 0; i < numel; ++i) {
    int64_t offset = 0, stride = 1;
    for (int d = t->ndim - 1; d >= 0; --d) {
      offset += index[d] * (t->strides ? t->strides[d] : stride);
      stride *= t->shape[d];
    }
    fn(base + offset * (int64_t)elem_size, i, ctx);
    for (int d = t->ndim - 1; d >= 0; --d) {
      if (++index[d] < t->shape[d]) break;
      index[d] = 0;
    }
  }
}

typedef struct copy_ctx {
  float *buf;
  rq__elem elem;
} copy_ctx;

static void gather_one(void *ptr, size_t i, void *ctx) {
  copy_ctx *c = ctx;
  switch (c->elem) {
  case RQ__ELEM_F16: c->buf[i] = rq__f16_to_f32(*(const uint16_t *)ptr); break;
  case RQ__ELEM_BF16: c->buf[i] = rq__bf16_to_f32(*(const uint16_t *)ptr); break;
  default: memcpy(&c->buf[i], ptr, sizeof(float)); break;
  }
}

static void scatter_one(void *ptr, size_t i, void *ctx) {
  copy_ctx *c = ctx;
  memcpy(ptr, &c->buf[i], sizeof(float));
}

/* x as contiguous float32: x's own memory when it already is, else a copy
 * (*owned set; free with rq__free). */
static rq_status gather(const DLTensor *t, const tensor_shape *sh, const float **data,
                        float **owned, const char *where) {
  *owned = NULL;
  if (sh->contiguous_f32) {
    *data = (const float *)((const char *)t->data + t->byte_offset);
    return RQ_OK;
  }
  float *buf = rq__malloc_array(sh->numel ? sh->numel : 1, sizeof *buf);
  if (buf == NULL) return rq__nomem(where, sh->numel * sizeof *buf);
  copy_ctx ctx = {buf, sh->elem};
  walk(t, sh->numel, rq__elem_size(sh->elem), gather_one, &ctx);
  *data = buf;
  *owned = buf;
  return RQ_OK;
}

static void scatter(DLTensor *t, size_t numel, const float *buf) {
  copy_ctx ctx = {(float *)buf, RQ__ELEM_F32};
  walk(t, numel, sizeof(float), scatter_one, &ctx);
}

/* [outer, channels, inner] around the channel axis (1, 1, numel per tensor). */
static rq_status layout(const rq_fake_quant *fq, const DLTensor *x, size_t numel,
                        rq_fake_quant_batch *b, const char *where) {
  b->struct_size = sizeof *b;
  b->outer = 1;
  b->channels = 1;
  b->inner = numel;
  if (!fq->info.per_channel) return RQ_OK;
  int axis = fq->info.ch_axis < 0 ? fq->info.ch_axis + x->ndim : fq->info.ch_axis;
  if (axis < 0 || axis >= x->ndim)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "x: ch_axis %d needs more than %d dimensions",
                    (int)fq->info.ch_axis, x->ndim);
  b->channels = (size_t)x->shape[axis];
  b->outer = 1;
  b->inner = 1;
  for (int d = 0; d < axis; ++d) b->outer *= (size_t)x->shape[d];
  for (int d = axis + 1; d < x->ndim; ++d) b->inner *= (size_t)x->shape[d];
  if (fq->channels_known && fq->count != b->channels)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "x: %zu channels along axis %d, the fake-quant "
                    "has %zu", b->channels, axis, fq->count);
  return RQ_OK;
}

static rq_status check_finite(const float *data, size_t n, const char *name, const char *where) {
  for (size_t i = 0; i < n; ++i)
    if (!isfinite(data[i]))
      return rq__fail(RQ_ERR_NONFINITE, where, "%s[%zu] is %s", name, i,
                      isnan(data[i]) ? "NaN" : "infinite");
  return RQ_OK;
}

/* ---- Forward / backward -------------------------------------------------------------- */

/* The default update_params: the observer's qparams. */
static rq_status copy_observer_qparams(rq_fake_quant *fq, const rq_fake_quant_batch *b,
                                       const char *where) {
  size_t count = 0;
  int32_t *zp = rq__malloc_array(b->channels, sizeof *zp);
  if (zp == NULL) return rq__nomem(where, b->channels * sizeof *zp);
  rq_status s = rq_observer_qparams(fq->observer, fq->scale, zp, b->channels, &count);
  if (s == RQ_OK && count != b->channels)
    s = rq__fail(RQ_ERR_INTERNAL, where, "observer returned %zu qparams for %zu channels",
                 count, b->channels);
  if (s == RQ_OK) {
    for (size_t c = 0; c < count; ++c) fq->zero_point[c] = (float)zp[c];
    fq->count = count;
  }
  rq__free(zp);
  return s;
}

RQ_API rq_status rq_fake_quant_forward(rq_fake_quant *fq, const DLTensor *x, DLTensor *y) {
  const char *where = __func__;
  RQ_CHECK_NOT_NULL(fq);
  tensor_shape xs, ys;
  RQ_TRY(check_tensor(x, "x", &xs, where));
  RQ_TRY(check_tensor(y, "y", &ys, where));
  RQ_CHECK_ARG(ys.elem == RQ__ELEM_F32, "y must be float32");
  RQ_CHECK_ARG(same_shape(x, y), "y's shape differs from x's");
  if (xs.numel == 0) return RQ_OK; /* as PyTorch: nothing to observe, an empty result */
  rq_fake_quant_batch b;
  RQ_TRY(layout(fq, x, xs.numel, &b, where));
  if (!fq->observer_on && fq->fake_quant_on && fq->info.per_channel && !fq->channels_known &&
      fq->cls->update_params == NULL)
    return rq__fail(RQ_ERR_STATE, where, "per-channel fake-quant has no per-channel "
                    "parameters yet: observe first or set them");
  RQ_TRY(reserve_params(fq, b.channels, where));

  float *owned = NULL;
  RQ_TRY(gather(x, &xs, &b.data, &owned, where));
  rq_status s = fq->allow_nonfinite ? RQ_OK : check_finite(b.data, xs.numel, "x", where);
  bool y_direct = ys.contiguous_f32;
  float *out = y_direct ? (float *)((char *)y->data + y->byte_offset) : NULL;
  if (s == RQ_OK && !y_direct && (out = rq__malloc_array(xs.numel ? xs.numel : 1,
                                                         sizeof *out)) == NULL)
    s = rq__nomem(where, xs.numel * sizeof *out);
  if (s == RQ_OK && fq->observer_on) {
    s = rq_observer_observe(fq->observer, x);
    if (s == RQ_OK && xs.numel > 0) {
      if (fq->cls->update_params) {
        rq_fake_quant_params p = params_view(fq);
        s = fq->cls->update_params(fq->state, &fq->info, fq->observer, &b, &p);
        if (s == RQ_OK) fq->count = p.count;
      } else {
        s = copy_observer_qparams(fq, &b, where);
      }
      if (s == RQ_OK && fq->info.per_channel && fq->count == b.channels)
        fq->channels_known = true;
    }
  }
  if (s == RQ_OK && fq->fake_quant_on) {
    if (fq->info.per_channel && fq->cls->update_params == NULL && fq->count != b.channels)
      s = rq__fail(RQ_ERR_STATE, where, "per-channel fake-quant has %zu parameters, x has %zu "
                   "channels", fq->count, b.channels);
    if (s == RQ_OK) {
      rq_fake_quant_params p = params_view(fq);
      s = fq->cls->forward(fq->state, &fq->info, fq->observer, &b, &p, out);
      if (s == RQ_OK) fq->count = p.count;
      if (s == RQ_OK && fq->info.per_channel && fq->count == b.channels)
        fq->channels_known = true;
    }
  } else if (s == RQ_OK && out != b.data) {
    memmove(out, b.data, xs.numel * sizeof *out);
  }
  if (s == RQ_OK && !y_direct) scatter(y, xs.numel, out);
  if (!y_direct) rq__free(out);
  rq__free(owned);
  return s;
}

RQ_API rq_status rq_fake_quant_backward(rq_fake_quant *fq, const DLTensor *x, const DLTensor *dy,
                                        DLTensor *dx, float *dscale, float *dzero_point) {
  const char *where = __func__;
  RQ_CHECK_NOT_NULL(fq);
  tensor_shape xs, dys, dxs;
  RQ_TRY(check_tensor(x, "x", &xs, where));
  RQ_TRY(check_tensor(dy, "dy", &dys, where));
  RQ_TRY(check_tensor(dx, "dx", &dxs, where));
  RQ_CHECK_ARG(dys.elem == RQ__ELEM_F32, "dy must be float32");
  RQ_CHECK_ARG(dxs.elem == RQ__ELEM_F32, "dx must be float32");
  RQ_CHECK_ARG(same_shape(x, dy), "dy's shape differs from x's");
  RQ_CHECK_ARG(same_shape(x, dx), "dx's shape differs from x's");
  bool learnable = (fq->cls->flags & RQ_FAKE_QUANT_LEARNABLE) != 0;
  bool learn_scale = learnable && fq->learning_on && fq->fake_quant_on;
  bool learn_zp = learn_scale && fq->cls->zero_point_learnable &&
                  fq->cls->zero_point_learnable(fq->state);
  RQ_CHECK_ARG(dscale != NULL || !learn_scale, "dscale is NULL while the scale is learned");
  RQ_CHECK_ARG(dzero_point != NULL || !learn_zp,
               "dzero_point is NULL while the zero point is learned");
  rq_fake_quant_batch b;
  RQ_TRY(layout(fq, x, xs.numel, &b, where));
  if (fq->fake_quant_on && fq->info.per_channel && fq->count != b.channels)
    return rq__fail(RQ_ERR_STATE, where, "per-channel fake-quant has %zu parameters, x has %zu "
                    "channels: run forward first", fq->count, b.channels);

  float *x_owned = NULL, *dy_owned = NULL, *out = NULL;
  const float *dy_data = NULL;
  double *grads = NULL;
  rq_status s = gather(x, &xs, &b.data, &x_owned, where);
  if (s == RQ_OK) s = gather(dy, &dys, &dy_data, &dy_owned, where);
  if (s == RQ_OK && !fq->allow_nonfinite) s = check_finite(b.data, xs.numel, "x", where);
  if (s == RQ_OK && !fq->allow_nonfinite) s = check_finite(dy_data, xs.numel, "dy", where);
  /* dx is computed aside so that it may alias dy (or x) in any layout. */
  if (s == RQ_OK && (out = rq__malloc_array(xs.numel ? xs.numel : 1, sizeof *out)) == NULL)
    s = rq__nomem(where, xs.numel * sizeof *out);
  size_t count = fq->fake_quant_on ? fq->count : (fq->info.per_channel ? b.channels : 1);
  if (s == RQ_OK && (grads = rq__calloc(2 * count, sizeof *grads)) == NULL)
    s = rq__nomem(where, 2 * count * sizeof *grads);
  if (s == RQ_OK) {
    if (fq->fake_quant_on) {
      rq_fake_quant_params p = params_view(fq);
      if (fq->cls->backward)
        s = fq->cls->backward(fq->state, &fq->info, &b, &p, dy_data, out,
                              learn_scale ? grads : NULL, learn_zp ? grads + count : NULL);
      else
        s = rq__fq_fake_quantize.backward(NULL, &fq->info, &b, &p, dy_data, out, NULL, NULL);
    } else {
      memcpy(out, dy_data, xs.numel * sizeof *out);
    }
  }
  if (s == RQ_OK) {
    if (dxs.contiguous_f32)
      memcpy((char *)dx->data + dx->byte_offset, out, xs.numel * sizeof *out);
    else
      scatter(dx, xs.numel, out);
    for (size_t c = 0; c < count; ++c) {
      if (dscale) dscale[c] = (float)grads[c];
      if (dzero_point) dzero_point[c] = (float)grads[count + c];
    }
  }
  rq__free(x_owned);
  rq__free(dy_owned);
  rq__free(out);
  rq__free(grads);
  return s;
}

/* ---- Modes --------------------------------------------------------------------------- */

RQ_API rq_status rq_fake_quant_set_mode(rq_fake_quant *fq, bool observer_on, bool fake_quant_on) {
  RQ_CHECK_NOT_NULL(fq);
  fq->observer_on = observer_on;
  fq->fake_quant_on = fake_quant_on;
  return RQ_OK;
}

RQ_API rq_status rq_fake_quant_get_mode(const rq_fake_quant *fq, bool *observer_on,
                                        bool *fake_quant_on, bool *learning_on) {
  RQ_CHECK_NOT_NULL(fq);
  if (observer_on) *observer_on = fq->observer_on;
  if (fake_quant_on) *fake_quant_on = fq->fake_quant_on;
  if (learning_on) *learning_on = fq->learning_on;
  return RQ_OK;
}

RQ_API rq_status rq_fake_quant_set_learning_mode(rq_fake_quant *fq,
                                                 rq_fake_quant_learning_mode mode) {
  RQ_CHECK_NOT_NULL(fq);
  bool learning, fake_quant, observer;
  switch (mode) {
  case RQ_FQ_PARAM_LEARNING: learning = true, fake_quant = true, observer = false; break;
  case RQ_FQ_STATIC_ESTIMATE: learning = false, fake_quant = true, observer = true; break;
  case RQ_FQ_VAL: learning = false, fake_quant = true, observer = false; break;
  case RQ_FQ_STATIC_OBSERVATION: learning = false, fake_quant = false, observer = true; break;
  default: return rq__fail(RQ_ERR_INVALID_ARG, __func__, "mode %d is not a learning mode",
                           (int)mode);
  }
  if (!(fq->cls->flags & RQ_FAKE_QUANT_LEARNABLE))
    return rq__fail(RQ_ERR_UNSUPPORTED, __func__, "%s has no learnable parameters",
                    fq->cls->name);
  fq->learning_on = learning;
  fq->fake_quant_on = fake_quant;
  fq->observer_on = observer;
  return RQ_OK;
}

/* ---- Accessors ----------------------------------------------------------------------- */

RQ_API rq_observer *rq_fake_quant_observer(rq_fake_quant *fq) {
  return fq ? fq->observer : NULL;
}

RQ_API rq_status rq_fake_quant_quant_range(const rq_fake_quant *fq, int32_t *quant_min,
                                           int32_t *quant_max) {
  RQ_CHECK_NOT_NULL(fq);
  RQ_CHECK_NOT_NULL(quant_min);
  RQ_CHECK_NOT_NULL(quant_max);
  *quant_min = fq->info.quant_min;
  *quant_max = fq->info.quant_max;
  return RQ_OK;
}

RQ_API rq_status rq_fake_quant_channel_axis(const rq_fake_quant *fq, bool *per_channel,
                                            int32_t *ch_axis) {
  RQ_CHECK_NOT_NULL(fq);
  RQ_CHECK_NOT_NULL(per_channel);
  RQ_CHECK_NOT_NULL(ch_axis);
  *per_channel = fq->info.per_channel;
  *ch_axis = fq->info.ch_axis;
  return RQ_OK;
}

#define CHECK_CAPACITY(a, b, capacity, count)                                            \
  do {                                                                                    \
    RQ_CHECK_NOT_NULL(count);                                                             \
    *(count) = fq->count;                                                                 \
    if ((capacity) == 0 && (a) == NULL && (b) == NULL) return RQ_OK;                      \
    RQ_CHECK_ARG((capacity) >= fq->count, "capacity %zu is less than the %zu parameters", \
                 (size_t)(capacity), fq->count);                                          \
    RQ_CHECK_NOT_NULL(a);                                                                 \
    RQ_CHECK_NOT_NULL(b);                                                                 \
  } while (0)

RQ_API rq_status rq_fake_quant_qparams(const rq_fake_quant *fq, float *scale, int32_t *zero_point,
                                       size_t capacity, size_t *count) {
  RQ_CHECK_NOT_NULL(fq);
  if (fq->cls->qparams == NULL) {
    /* PyTorch: calculate_qparams() is the observer's. */
    return rq_observer_qparams(fq->observer, scale, zero_point, capacity, count);
  }
  CHECK_CAPACITY(scale, zero_point, capacity, count);
  rq_fake_quant_params p = {sizeof p, fq->scale, fq->zero_point, fq->count};
  return fq->cls->qparams(fq->state, &fq->info, fq->observer, &p, scale, zero_point);
}

RQ_API rq_status rq_fake_quant_get_params(const rq_fake_quant *fq, float *scale, float *zero_point,
                                          size_t capacity, size_t *count) {
  RQ_CHECK_NOT_NULL(fq);
  CHECK_CAPACITY(scale, zero_point, capacity, count);
  memcpy(scale, fq->scale, fq->count * sizeof *scale);
  memcpy(zero_point, fq->zero_point, fq->count * sizeof *zero_point);
  return RQ_OK;
}

RQ_API rq_status rq_fake_quant_set_params(rq_fake_quant *fq, const float *scale,
                                          const float *zero_point, size_t count) {
  RQ_CHECK_NOT_NULL(fq);
  RQ_CHECK_NOT_NULL(scale);
  RQ_CHECK_ARG(count >= 1, "count is 0");
  RQ_CHECK_ARG(fq->info.per_channel || count == 1, "count %zu for a per-tensor fake-quant",
               count);
  RQ_CHECK_ARG(!fq->channels_known || count == fq->count,
               "count %zu differs from the %zu channels", count, fq->count);
  bool learnable = (fq->cls->flags & RQ_FAKE_QUANT_LEARNABLE) != 0;
  for (size_t c = 0; c < count; ++c) {
    RQ_CHECK_ARG(isfinite(scale[c]) && (learnable || scale[c] > 0),
                 "scale[%zu] = %g must be finite%s", c, scale[c], learnable ? "" : " and > 0");
    if (zero_point == NULL) continue;
    float z = zero_point[c];
    RQ_CHECK_ARG(isfinite(z), "zero_point[%zu] is not finite", c);
    RQ_CHECK_ARG(learnable || (z == nearbyintf(z) && z >= fq->info.quant_min &&
                               z <= fq->info.quant_max),
                 "zero_point[%zu] = %g is not an integer in [%d, %d]", c, z,
                 (int)fq->info.quant_min, (int)fq->info.quant_max);
  }
  RQ_CHECK_ARG(zero_point != NULL || count == fq->count,
               "zero_point is NULL but count %zu differs from the current %zu", count, fq->count);
  RQ_TRY(reserve_params(fq, count, __func__));
  memcpy(fq->scale, scale, count * sizeof *scale);
  if (zero_point) memcpy(fq->zero_point, zero_point, count * sizeof *zero_point);
  fq->count = count;
  if (fq->info.per_channel) fq->channels_known = true;
  return RQ_OK;
}
