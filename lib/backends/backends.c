/* SPDX-License-Identifier: Apache-2.0 */
/* Backend configs: parsing the JSON definition (built-in or custom), queries
 * the quantizer makes, the deployability check, and the registry of custom
 * backends. */
#include "backends/backends.h"
#include "backends/builtin.h"
#include "core/json.h"
#include "graph/graph.h" /* rq__fusable_activation */

#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define WHERE "rq_backend_config_create"

static const char *const role_keys[RQ__ROLE_COUNT] = {
  [RQ__ROLE_NONE] = NULL,
  [RQ__ROLE_WEIGHTED] = "weighted",
  [RQ__ROLE_BINARY] = "binary",
  [RQ__ROLE_CONCAT] = "concat",
  [RQ__ROLE_SHARE_QPARAMS] = "share_qparams",
  [RQ__ROLE_FIXED_QPARAMS] = "fixed_qparams",
};

const char *rq__qdtype_name(rq__qdtype t) { return t == RQ__QINT8 ? "qint8" : "quint8"; }

bool rq__qdtype_parse(const char *s, rq__qdtype *out) {
  if (strcmp(s, "quint8") == 0 || strcmp(s, "torch.quint8") == 0) { *out = RQ__QUINT8; return true; }
  if (strcmp(s, "qint8") == 0 || strcmp(s, "torch.qint8") == 0) { *out = RQ__QINT8; return true; }
  return false;
}

void rq__string_list_free(rq__string_list *l) {
  for (size_t i = 0; i < l->count; i++) rq__free(l->items[i]);
  rq__free(l->items);
  l->items = NULL;
  l->count = 0;
}

static void config_free(rq_backend_config *cfg) {
  if (cfg == NULL) return;
  rq__free(cfg->name);
  rq__free(cfg->quantizer);
  for (int r = 0; r < RQ__ROLE_COUNT; r++) rq__string_list_free(&cfg->ops[r]);
  for (size_t i = 0; i < cfg->fixed_count; i++) rq__free(cfg->fixed[i].op_type);
  rq__free(cfg->fixed);
  rq__string_list_free(&cfg->fused_activations);
  rq__string_list_free(&cfg->no_fakequant_before);
  rq__string_list_free(&cfg->no_fakequant_after);
  rq__free(cfg->export_format);
  rq__free(cfg);
}

static rq_status copy_string(const char *s, char **out) {
  *out = rq__strdup(s);
  return *out != NULL ? RQ_OK : rq__nomem(WHERE, strlen(s) + 1);
}

rq_status rq__string_list_from_json(const json_t *arr, const char *where, rq__string_list *out) {
  size_t n = json_array_size(arr);
  if (n == 0) return RQ_OK;
  out->items = rq__calloc(n, sizeof *out->items);
  if (out->items == NULL) return rq__nomem(where, n * sizeof *out->items);
  for (size_t i = 0; i < n; i++) {
    const char *s = json_string_value(json_array_get(arr, i));
    out->items[i] = rq__strdup(s);
    if (out->items[i] == NULL) return rq__nomem(where, strlen(s) + 1);
    out->count = i + 1;
  }
  return RQ_OK;
}

static rq_status parse_list(const json_t *obj, const char *path, const char *key, rq__string_list *out) {
  const json_t *arr;
  RQ_TRY(rq__json_get_string_array(obj, WHERE, path, key, &arr));
  return arr == NULL ? RQ_OK : rq__string_list_from_json(arr, WHERE, out);
}

static rq_status parse_tensor_rules(const json_t *root, const char *key, rq__tensor_rules *r) {
  static const char *const keys[] = {"dtypes", "modes", "symmetric_only", "bits", "ch_axis", NULL};
  const json_t *obj;
  char path[128];
  RQ_TRY(rq__json_get_object(root, WHERE, "", key, &obj));
  if (obj == NULL) return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "%s: missing (the backend must say which dtypes it takes)", key);
  RQ_TRY(rq__json_only_keys(obj, WHERE, key, keys));

  const json_t *arr;
  size_t i;
  const json_t *item;
  RQ_TRY(rq__json_get_string_array(obj, WHERE, key, "dtypes", &arr));
  if (arr == NULL || json_array_size(arr) == 0)
    return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "%s: missing or empty", rq__json_path(path, sizeof path, key, "dtypes"));
  json_array_foreach(arr, i, item) {
    rq__qdtype t;
    if (!rq__qdtype_parse(json_string_value(item), &t))
      return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "%s[%zu]: '%s' is not quint8 or qint8",
                      rq__json_path(path, sizeof path, key, "dtypes"), i, json_string_value(item));
    r->dtypes |= 1u << t;
  }

  RQ_TRY(rq__json_get_string_array(obj, WHERE, key, "modes", &arr));
  if (arr == NULL) {
    r->per_tensor = true;
  } else {
    json_array_foreach(arr, i, item) {
      const char *m = json_string_value(item);
      if (strcmp(m, "per_tensor") == 0) r->per_tensor = true;
      else if (strcmp(m, "per_channel") == 0) r->per_channel = true;
      else
        return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "%s[%zu]: '%s' is not per_tensor or per_channel",
                        rq__json_path(path, sizeof path, key, "modes"), i, m);
    }
  }
  RQ_TRY(rq__json_get_bool(obj, WHERE, key, "symmetric_only", &r->symmetric_only));

  r->min_bit = 1;
  r->max_bit = 8;
  const json_t *bits = json_object_get(obj, "bits");
  if (bits != NULL) {
    if (!json_is_array(bits) || json_array_size(bits) != 2 || !json_is_integer(json_array_get(bits, 0)) ||
        !json_is_integer(json_array_get(bits, 1)))
      return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "%s: expected [min, max] bit widths",
                      rq__json_path(path, sizeof path, key, "bits"));
    long long lo = json_integer_value(json_array_get(bits, 0));
    long long hi = json_integer_value(json_array_get(bits, 1));
    if (lo < 1 || hi > 16 || lo > hi)
      return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "%s: [%lld, %lld] is not a range within 1..16",
                      rq__json_path(path, sizeof path, key, "bits"), lo, hi);
    r->min_bit = (int)lo;
    r->max_bit = (int)hi;
  }
  /* ch_axis is PyTorch's: 0, the output channels of weights laid out
   * [out, in, ...]. razorq quantizes weights along their output channels and
   * picks the ONNX axis per op, so that is the one axis it can deploy. */
  long long axis = 0;
  RQ_TRY(rq__json_get_int(obj, WHERE, key, "ch_axis", -8, 8, &axis));
  if (axis != 0)
    return rq__fail(RQ_ERR_UNSUPPORTED, WHERE, "%s: %lld is not supported: razorq quantizes weights per output channel "
                    "(PyTorch's ch_axis 0; the ONNX axis is chosen per op: 0 for Conv and Gemm with transB, 1 for "
                    "MatMul, Gemm without transB and ConvTranspose)", rq__json_path(path, sizeof path, key, "ch_axis"),
                    axis);
  return RQ_OK;
}

static rq_status parse_fixed(const json_t *root, rq_backend_config *cfg) {
  const json_t *obj;
  RQ_TRY(rq__json_get_object(root, WHERE, "", "fixed_qparams", &obj));
  if (obj == NULL || json_object_size(obj) == 0) return RQ_OK;
  cfg->fixed = rq__calloc(json_object_size(obj), sizeof *cfg->fixed);
  if (cfg->fixed == NULL) return rq__nomem(WHERE, json_object_size(obj) * sizeof *cfg->fixed);
  const char *op;
  json_t *range;
  json_object_foreach((json_t *)obj, op, range) {
    if (!json_is_array(range) || json_array_size(range) != 2 || !json_is_number(json_array_get(range, 0)) ||
        !json_is_number(json_array_get(range, 1)) ||
        !(json_number_value(json_array_get(range, 0)) < json_number_value(json_array_get(range, 1))))
      return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "fixed_qparams.%s: expected the output range [lo, hi] with lo < hi", op);
    rq__fixed_range *f = &cfg->fixed[cfg->fixed_count];
    RQ_TRY(copy_string(op, &f->op_type));
    cfg->fixed_count++;
    f->lo = (float)json_number_value(json_array_get(range, 0));
    f->hi = (float)json_number_value(json_array_get(range, 1));
  }
  return RQ_OK;
}

/* Fills cfg from a definition object (any "base" already merged in). */
static rq_status parse_definition(const json_t *root, rq_backend_config *cfg) {
  static const char *const keys[] = {"name", "base", "quantizer", "activation", "weight", "ops",
                                     "fused_activations", "fixed_qparams", "no_fakequant_before",
                                     "no_fakequant_after", "no_fakequant_on_outputs", "per_node_qconfig",
                                     "export", NULL};
  RQ_TRY(rq__json_only_keys(root, WHERE, "", keys));
  const char *name = NULL, *quantizer = NULL;
  RQ_TRY(rq__json_get_string(root, WHERE, "", "name", &name));
  if (name == NULL || name[0] == '\0') return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "name: missing or empty");
  RQ_TRY(copy_string(name, &cfg->name));
  RQ_TRY(rq__json_get_string(root, WHERE, "", "quantizer", &quantizer));
  RQ_TRY(copy_string(quantizer != NULL ? quantizer : name, &cfg->quantizer));
  RQ_TRY(parse_tensor_rules(root, "activation", &cfg->activation));
  RQ_TRY(parse_tensor_rules(root, "weight", &cfg->weight));

  const json_t *ops;
  RQ_TRY(rq__json_get_object(root, WHERE, "", "ops", &ops));
  if (ops != NULL) {
    static const char *const op_keys[] = {"weighted", "binary", "concat", "share_qparams", NULL};
    RQ_TRY(rq__json_only_keys(ops, WHERE, "ops", op_keys));
    for (int r = RQ__ROLE_WEIGHTED; r < RQ__ROLE_FIXED_QPARAMS; r++)
      RQ_TRY(parse_list(ops, "ops", role_keys[r], &cfg->ops[r]));
  }
  const json_t *fused;
  RQ_TRY(rq__json_get_string_array(root, WHERE, "", "fused_activations", &fused));
  if (fused != NULL) {
    RQ_TRY(rq__string_list_from_json(fused, WHERE, &cfg->fused_activations));
    for (size_t i = 0; i < cfg->fused_activations.count; i++) {
      const char *op = cfg->fused_activations.items[i];
      if (!rq__fusable_activation(op))
        return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "fused_activations: '%s' is not an activation razorq fuses with a "
                        "Conv/Gemm/MatMul (Relu, Clip)", op);
    }
  } else { /* what every backend fused before the key existed */
    static const char *const default_fused[] = {"Relu", "Clip"};
    size_t n = sizeof default_fused / sizeof *default_fused;
    cfg->fused_activations.items = rq__calloc(n, sizeof *cfg->fused_activations.items);
    if (cfg->fused_activations.items == NULL) return rq__nomem(WHERE, n * sizeof(char *));
    for (; cfg->fused_activations.count < n; cfg->fused_activations.count++)
      RQ_TRY(copy_string(default_fused[cfg->fused_activations.count],
                         &cfg->fused_activations.items[cfg->fused_activations.count]));
  }
  RQ_TRY(parse_fixed(root, cfg));
  RQ_TRY(parse_list(root, "", "no_fakequant_before", &cfg->no_fakequant_before));
  RQ_TRY(parse_list(root, "", "no_fakequant_after", &cfg->no_fakequant_after));
  RQ_TRY(rq__json_get_bool(root, WHERE, "", "no_fakequant_on_outputs", &cfg->no_fakequant_on_outputs));
  RQ_TRY(rq__json_get_bool(root, WHERE, "", "per_node_qconfig", &cfg->per_node_qconfig));

  const json_t *exp;
  const char *format = "qdq";
  RQ_TRY(rq__json_get_object(root, WHERE, "", "export", &exp));
  if (exp != NULL) {
    static const char *const exp_keys[] = {"format", "int32_bias", NULL};
    RQ_TRY(rq__json_only_keys(exp, WHERE, "export", exp_keys));
    RQ_TRY(rq__json_get_string(exp, WHERE, "export", "format", &format));
    if (strcmp(format, "qdq") != 0 && strcmp(format, "openvino-fq") != 0)
      return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "export.format: '%s' is not qdq or openvino-fq", format);
    RQ_TRY(rq__json_get_bool(exp, WHERE, "export", "int32_bias", &cfg->int32_bias));
  }
  RQ_TRY(copy_string(format, &cfg->export_format));
  return RQ_OK;
}

/* ---- the registry of custom backends (built-ins are a constant table) ---- */

typedef struct registered_backend {
  char *name;
  char *json;
} registered_backend;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static registered_backend *registered;
static size_t registered_count;

/* Finds the definition text for a name; *copy is set to a copy the caller frees. */
static rq_status lookup_definition(const char *name, char **copy) {
  const char *canonical = rq__backend_canonical_name(name);
  size_t n;
  const rq__builtin_backend *b = rq__builtin_backends(&n);
  for (size_t i = 0; i < n; i++) {
    if (strcmp(b[i].name, canonical) == 0) {
      *copy = rq__strdup(b[i].json);
      return *copy != NULL ? RQ_OK : rq__nomem(WHERE, strlen(b[i].json));
    }
  }
  rq_status s = RQ_ERR_NOT_FOUND;
  pthread_mutex_lock(&registry_lock);
  for (size_t i = 0; i < registered_count; i++) {
    if (strcmp(registered[i].name, canonical) == 0) {
      *copy = rq__strdup(registered[i].json);
      s = *copy != NULL ? RQ_OK : RQ_ERR_NOMEM;
      break;
    }
  }
  pthread_mutex_unlock(&registry_lock);
  if (s == RQ_ERR_NOMEM) return rq__nomem(WHERE, 0);
  if (s == RQ_ERR_NOT_FOUND)
    return rq__fail(RQ_ERR_NOT_FOUND, WHERE,
                    "no backend named '%s' (built-in: native, openvino, tensorrt, academic, onnxruntime; "
                    "or pass a JSON definition, or register one with rq_register_backend_config)",
                    name);
  return RQ_OK;
}

/* Parses a definition; a "base" names a backend whose definition is merged
 * under this one (objects merge key by key, everything else is replaced). */
static rq_status build_from_json(const char *text, int depth, json_t **merged) {
  json_t *root;
  RQ_TRY(rq__json_parse_object(text, WHERE, &root));
  const char *base = NULL;
  rq_status s = rq__json_get_string(root, WHERE, "", "base", &base);
  if (s == RQ_OK && base != NULL) {
    char *base_text = NULL;
    json_t *base_root = NULL;
    if (depth > 8) {
      s = rq__fail(RQ_ERR_INVALID_ARG, WHERE, "base: chain of bases deeper than 8 (a cycle?)");
    } else if ((s = lookup_definition(base, &base_text)) == RQ_OK &&
               (s = build_from_json(base_text, depth + 1, &base_root)) == RQ_OK) {
      if (json_object_update_recursive(base_root, root) != 0) {
        s = rq__fail(RQ_ERR_NOMEM, WHERE, "out of memory merging base '%s'", base);
        json_decref(base_root);
      } else {
        json_object_del(base_root, "base");
        json_decref(root);
        root = base_root;
      }
    }
    rq__free(base_text);
  }
  if (s != RQ_OK) {
    json_decref(root);
    return s;
  }
  *merged = root;
  return RQ_OK;
}

rq_status rq_backend_config_create(const char *name_or_json, rq_backend_config **out) {
  RQ_CHECK_NOT_NULL(out);
  *out = NULL;
  RQ_CHECK_NOT_NULL(name_or_json);
  const char *p = name_or_json;
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  RQ_CHECK_ARG(*p != '\0', "name_or_json is empty");

  char *text = NULL;
  if (*p == '{') {
    text = rq__strdup(p);
    if (text == NULL) return rq__nomem(__func__, strlen(p));
  } else {
    RQ_TRY(lookup_definition(p, &text));
  }
  json_t *root = NULL;
  rq_status s = build_from_json(text, 0, &root);
  rq__free(text);
  if (s != RQ_OK) return s;

  rq_backend_config *cfg = rq__calloc(1, sizeof *cfg);
  if (cfg == NULL) {
    json_decref(root);
    return rq__nomem(__func__, sizeof *cfg);
  }
  s = parse_definition(root, cfg);
  json_decref(root);
  if (s != RQ_OK) {
    config_free(cfg);
    return s;
  }
  *out = cfg;
  return RQ_OK;
}

void rq_backend_config_destroy(rq_backend_config *cfg) { config_free(cfg); }

const char *rq_backend_config_name(const rq_backend_config *cfg) {
  if (cfg == NULL) {
    rq__fail(RQ_ERR_INVALID_ARG, __func__, "cfg is NULL");
    return "";
  }
  return cfg->name;
}

static json_t *list_to_json(const rq__string_list *l) {
  json_t *a = json_array();
  for (size_t i = 0; a != NULL && i < l->count; i++) json_array_append_new(a, json_string(l->items[i]));
  return a;
}

static json_t *rules_to_json(const rq__tensor_rules *r, bool with_axis) {
  json_t *o = json_object(), *dtypes = json_array(), *modes = json_array();
  for (int t = 0; t < RQ__QDTYPE_COUNT; t++)
    if (r->dtypes & (1u << t)) json_array_append_new(dtypes, json_string(rq__qdtype_name((rq__qdtype)t)));
  if (r->per_tensor) json_array_append_new(modes, json_string("per_tensor"));
  if (r->per_channel) json_array_append_new(modes, json_string("per_channel"));
  json_object_set_new(o, "dtypes", dtypes);
  json_object_set_new(o, "modes", modes);
  json_object_set_new(o, "symmetric_only", json_boolean(r->symmetric_only));
  json_object_set_new(o, "bits", json_pack("[ii]", r->min_bit, r->max_bit));
  if (with_axis) json_object_set_new(o, "ch_axis", json_integer(0));
  return o;
}

rq_status rq_backend_config_to_json(const rq_backend_config *cfg, char *buffer, size_t capacity,
                                    size_t *length) {
  RQ_CHECK_NOT_NULL(cfg);
  RQ_CHECK_NOT_NULL(length);
  RQ_CHECK_ARG(buffer != NULL || capacity == 0, "buffer is NULL but capacity is %zu", capacity);
  json_t *o = json_object();
  json_object_set_new(o, "name", json_string(cfg->name));
  json_object_set_new(o, "quantizer", json_string(cfg->quantizer));
  json_object_set_new(o, "activation", rules_to_json(&cfg->activation, false));
  json_object_set_new(o, "weight", rules_to_json(&cfg->weight, true));
  json_t *ops = json_object();
  for (int r = RQ__ROLE_WEIGHTED; r < RQ__ROLE_FIXED_QPARAMS; r++)
    json_object_set_new(ops, role_keys[r], list_to_json(&cfg->ops[r]));
  json_object_set_new(o, "ops", ops);
  json_t *fixed = json_object();
  for (size_t i = 0; i < cfg->fixed_count; i++)
    json_object_set_new(fixed, cfg->fixed[i].op_type, json_pack("[ff]", (double)cfg->fixed[i].lo, (double)cfg->fixed[i].hi));
  json_object_set_new(o, "fused_activations", list_to_json(&cfg->fused_activations));
  json_object_set_new(o, "fixed_qparams", fixed);
  json_object_set_new(o, "no_fakequant_before", list_to_json(&cfg->no_fakequant_before));
  json_object_set_new(o, "no_fakequant_after", list_to_json(&cfg->no_fakequant_after));
  json_object_set_new(o, "no_fakequant_on_outputs", json_boolean(cfg->no_fakequant_on_outputs));
  json_object_set_new(o, "per_node_qconfig", json_boolean(cfg->per_node_qconfig));
  json_object_set_new(o, "export", json_pack("{s:s, s:b}", "format", cfg->export_format, "int32_bias", cfg->int32_bias));
  char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(o);
  if (text == NULL) return rq__nomem(__func__, 0);
  size_t n = strlen(text);
  *length = n;
  rq_status s = RQ_OK;
  if (capacity > n) {
    memcpy(buffer, text, n + 1);
  } else if (capacity > 0 || buffer == NULL) {
    s = capacity == 0 ? RQ_OK : rq__fail(RQ_ERR_INVALID_ARG, __func__, "capacity %zu is too small: %zu bytes needed", capacity, n + 1);
  }
  free(text); /* jansson's allocation */
  return s;
}

rq_status rq_register_backend_config(const char *json) {
  RQ_CHECK_NOT_NULL(json);
  rq_backend_config *cfg;
  RQ_TRY(rq_backend_config_create(json, &cfg)); /* validates it completely */
  rq_status s = RQ_OK;
  size_t n;
  const rq__builtin_backend *b = rq__builtin_backends(&n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(b[i].name, rq__backend_canonical_name(cfg->name)) == 0)
      s = rq__fail(RQ_ERR_EXISTS, __func__, "'%s' is a built-in backend; choose another name (use \"base\": \"%s\" to derive from it)",
                   cfg->name, b[i].name);
  pthread_mutex_lock(&registry_lock);
  for (size_t i = 0; s == RQ_OK && i < registered_count; i++)
    if (strcmp(registered[i].name, cfg->name) == 0)
      s = rq__fail(RQ_ERR_EXISTS, __func__, "a backend named '%s' is already registered", cfg->name);
  if (s == RQ_OK) {
    registered_backend *grown = rq__realloc_array(registered, registered_count + 1, sizeof *registered);
    char *name = rq__strdup(cfg->name), *text = rq__strdup(json);
    if (grown != NULL) registered = grown;
    if (grown == NULL || name == NULL || text == NULL) {
      rq__free(name);
      rq__free(text);
      s = rq__nomem(__func__, strlen(json));
    } else {
      registered[registered_count].name = name;
      registered[registered_count].json = text;
      registered_count++;
    }
  }
  pthread_mutex_unlock(&registry_lock);
  config_free(cfg);
  return s;
}

rq_status rq_backend_config_example(const char *backend, char *buffer, size_t capacity, size_t *length) {
  RQ_CHECK_NOT_NULL(backend);
  RQ_CHECK_NOT_NULL(length);
  RQ_CHECK_ARG(buffer != NULL || capacity == 0, "buffer is NULL but capacity is %zu", capacity);
  const rq__builtin_backend *b = rq__builtin_backend_find(backend);
  if (b == NULL)
    return rq__fail(RQ_ERR_NOT_FOUND, __func__,
                    "no built-in backend named '%s' (native, openvino, tensorrt, academic, onnxruntime)", backend);
  size_t n = strlen(b->example);
  *length = n;
  if (capacity == 0) return RQ_OK;
  if (capacity <= n)
    return rq__fail(RQ_ERR_INVALID_ARG, __func__, "capacity %zu is too small: %zu bytes needed", capacity, n + 1);
  memcpy(buffer, b->example, n + 1);
  return RQ_OK;
}

rq_status rq_backend_config_list(const char **names, size_t capacity, size_t *count) {
  RQ_CHECK_NOT_NULL(count);
  RQ_CHECK_ARG(names != NULL || capacity == 0, "names is NULL but capacity is %zu", capacity);
  size_t n;
  const rq__builtin_backend *b = rq__builtin_backends(&n);
  size_t total = 0;
  for (size_t i = 0; i < n; i++, total++)
    if (total < capacity) names[total] = b[i].name;
  pthread_mutex_lock(&registry_lock);
  /* Registered names live until the process ends (registrations are never removed). */
  for (size_t i = 0; i < registered_count; i++, total++)
    if (total < capacity) names[total] = registered[i].name;
  pthread_mutex_unlock(&registry_lock);
  *count = total;
  return RQ_OK;
}

/* ---- queries ---- */

bool rq__string_list_has(const rq__string_list *l, const char *s) {
  for (size_t i = 0; i < l->count; i++)
    if (strcmp(l->items[i], s) == 0) return true;
  return false;
}

rq__op_role rq__backend_op_role(const rq_backend_config *cfg, const char *op_type) {
  for (int r = RQ__ROLE_WEIGHTED; r < RQ__ROLE_FIXED_QPARAMS; r++)
    if (rq__string_list_has(&cfg->ops[r], op_type)) return (rq__op_role)r;
  for (size_t i = 0; i < cfg->fixed_count; i++)
    if (strcmp(cfg->fixed[i].op_type, op_type) == 0) return RQ__ROLE_FIXED_QPARAMS;
  return RQ__ROLE_NONE;
}

bool rq__backend_fakequant_redundant(const rq_backend_config *cfg, const char *producer_op,
                                     const char *consumer_op) {
  if (consumer_op == NULL) return cfg->no_fakequant_on_outputs;
  if (rq__string_list_has(&cfg->no_fakequant_before, consumer_op)) return true;
  return producer_op != NULL && rq__string_list_has(&cfg->no_fakequant_after, producer_op);
}

bool rq__backend_fixed_range(const rq_backend_config *cfg, const char *op_type, float *lo, float *hi) {
  for (size_t i = 0; i < cfg->fixed_count; i++) {
    if (strcmp(cfg->fixed[i].op_type, op_type) == 0) {
      *lo = cfg->fixed[i].lo;
      *hi = cfg->fixed[i].hi;
      return true;
    }
  }
  return false;
}

rq_status rq__backend_check_qscheme(const rq_backend_config *cfg, bool is_weight,
                                    const rq__qscheme_summary *q, const char *where) {
  const rq__tensor_rules *r = is_weight ? &cfg->weight : &cfg->activation;
  const char *what = is_weight ? "weights" : "activations";
  if (!(r->dtypes & (1u << q->qdtype)))
    return rq__fail(RQ_ERR_UNSUPPORTED, where, "qdtype: %s cannot deploy %s %s (it takes %s%s%s)", cfg->name,
                    rq__qdtype_name(q->qdtype), what, (r->dtypes & 1u) ? "quint8" : "",
                    (r->dtypes & 3u) == 3u ? " or " : "", (r->dtypes & 2u) ? "qint8" : "");
  if (q->bit < r->min_bit || q->bit > r->max_bit)
    return rq__fail(RQ_ERR_UNSUPPORTED, where, "bit: %s deploys %s of %d..%d bits, not %d", cfg->name, what,
                    r->min_bit, r->max_bit, q->bit);
  if (q->per_channel && !r->per_channel)
    return rq__fail(RQ_ERR_UNSUPPORTED, where, "%s cannot deploy per-channel %s (use a per-tensor observer)",
                    cfg->name, what);
  if (!q->per_channel && !r->per_tensor)
    return rq__fail(RQ_ERR_UNSUPPORTED, where, "%s deploys only per-channel %s (use a PerChannel observer)",
                    cfg->name, what);
  if (r->symmetric_only && !q->symmetric)
    return rq__fail(RQ_ERR_UNSUPPORTED, where, "is_symmetry: %s needs symmetric %s (zero point 0)", cfg->name, what);
  return RQ_OK;
}
