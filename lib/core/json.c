/* SPDX-License-Identifier: Apache-2.0 */
#include "core/json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *rq__json_path(char *buf, size_t size, const char *parent, const char *key) {
  if (parent == NULL || parent[0] == '\0')
    snprintf(buf, size, "%s", key);
  else
    snprintf(buf, size, "%s.%s", parent, key);
  return buf;
}

rq_status rq__json_parse_object(const char *text, const char *where, json_t **out) {
  json_error_t err;
  json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &err);
  if (root == NULL)
    return rq__fail(RQ_ERR_FORMAT, where, "invalid JSON at line %d, column %d: %s", err.line,
                    err.column, err.text);
  if (!json_is_object(root)) {
    json_decref(root);
    return rq__fail(RQ_ERR_INVALID_ARG, where, "expected a JSON object");
  }
  *out = root;
  return RQ_OK;
}

rq_status rq__json_only_keys(const json_t *obj, const char *where, const char *path,
                             const char *const *allowed) {
  const char *key;
  json_t *value;
  json_object_foreach((json_t *)obj, key, value) {
    (void)value;
    bool known = false;
    for (const char *const *a = allowed; *a != NULL; a++)
      if (strcmp(*a, key) == 0) { known = true; break; }
    if (known) continue;
    char expected[512] = "", full[256];
    size_t used = 0;
    for (const char *const *a = allowed; *a != NULL && used < sizeof expected; a++) {
      int n = snprintf(expected + used, sizeof expected - used, "%s%s", a == allowed ? "" : ", ", *a);
      if (n < 0) break;
      used += (size_t)n;
    }
    return rq__fail(RQ_ERR_INVALID_ARG, where, "%s: unknown key (expected one of: %s)",
                    rq__json_path(full, sizeof full, path, key), expected);
  }
  return RQ_OK;
}

static const char *type_name(const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE: case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
  }
  return "a value";
}

static rq_status wrong_type(const char *where, const char *path, const char *key,
                            const json_t *v, const char *expected) {
  char full[256];
  return rq__fail(RQ_ERR_INVALID_ARG, where, "%s: expected %s, got %s",
                  rq__json_path(full, sizeof full, path, key), expected, type_name(v));
}

rq_status rq__json_get_bool(const json_t *obj, const char *where, const char *path,
                            const char *key, bool *out) {
  const json_t *v = json_object_get(obj, key);
  if (v == NULL) return RQ_OK;
  if (!json_is_boolean(v)) return wrong_type(where, path, key, v, "true or false");
  *out = json_is_true(v);
  return RQ_OK;
}

rq_status rq__json_get_int(const json_t *obj, const char *where, const char *path,
                           const char *key, long long min, long long max, long long *out) {
  const json_t *v = json_object_get(obj, key);
  if (v == NULL) return RQ_OK;
  long long x;
  if (json_is_integer(v)) {
    x = json_integer_value(v);
  } else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
             fabs(json_real_value(v)) < 9e15) {
    x = (long long)json_real_value(v); /* 8.0 is a fine way to write 8 */
  } else {
    return wrong_type(where, path, key, v, "an integer");
  }
  if (x < min || x > max) {
    char full[256];
    return rq__fail(RQ_ERR_INVALID_ARG, where, "%s: %lld is outside %lld..%lld",
                    rq__json_path(full, sizeof full, path, key), x, min, max);
  }
  *out = x;
  return RQ_OK;
}

rq_status rq__json_get_number(const json_t *obj, const char *where, const char *path,
                              const char *key, double min, double max, double *out) {
  const json_t *v = json_object_get(obj, key);
  if (v == NULL) return RQ_OK;
  if (!json_is_number(v)) return wrong_type(where, path, key, v, "a number");
  double x = json_number_value(v);
  if (!(x >= min && x <= max)) {
    char full[256];
    return rq__fail(RQ_ERR_INVALID_ARG, where, "%s: %g is outside %g..%g",
                    rq__json_path(full, sizeof full, path, key), x, min, max);
  }
  *out = x;
  return RQ_OK;
}

rq_status rq__json_get_string(const json_t *obj, const char *where, const char *path,
                              const char *key, const char **out) {
  const json_t *v = json_object_get(obj, key);
  if (v == NULL) return RQ_OK;
  if (!json_is_string(v)) return wrong_type(where, path, key, v, "a string");
  *out = json_string_value(v);
  return RQ_OK;
}

rq_status rq__json_get_string_array(const json_t *obj, const char *where, const char *path,
                                    const char *key, const json_t **out) {
  const json_t *v = json_object_get(obj, key);
  *out = NULL;
  if (v == NULL) return RQ_OK;
  if (!json_is_array(v)) return wrong_type(where, path, key, v, "an array of strings");
  size_t i;
  const json_t *item;
  json_array_foreach(v, i, item) {
    if (!json_is_string(item)) {
      char full[256], indexed[300];
      rq__json_path(full, sizeof full, path, key);
      snprintf(indexed, sizeof indexed, "%s[%zu]", full, i);
      return rq__fail(RQ_ERR_INVALID_ARG, where, "%s: expected a string, got %s", indexed,
                      type_name(item));
    }
  }
  *out = v;
  return RQ_OK;
}

rq_status rq__json_get_object(const json_t *obj, const char *where, const char *path,
                              const char *key, const json_t **out) {
  const json_t *v = json_object_get(obj, key);
  *out = NULL;
  if (v == NULL) return RQ_OK;
  if (!json_is_object(v)) return wrong_type(where, path, key, v, "an object");
  *out = v;
  return RQ_OK;
}
