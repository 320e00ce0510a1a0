/* SPDX-License-Identifier: Apache-2.0 */
/* Reading JSON configs with errors that name the key path
 * ("global_qconfig.w_qscheme.bit: 17 is outside 1..16"). Built on jansson. */
#ifndef RQ_CORE_JSON_H
#define RQ_CORE_JSON_H

#include "core/core.h"

#include <jansson.h>

/* Parses text into *out (an object). RQ_ERR_FORMAT with line/column on a syntax
 * error, RQ_ERR_INVALID_ARG if the document is not an object. */
rq_status rq__json_parse_object(const char *text, const char *where, json_t **out);

/* "parent.key" (or "key" when parent is empty) into buf. */
const char *rq__json_path(char *buf, size_t size, const char *parent, const char *key);

/* Every key of obj must be in the NULL-terminated `allowed`; otherwise
 * RQ_ERR_INVALID_ARG "<path>.<key>: unknown key (expected one of: ...)". */
rq_status rq__json_only_keys(const json_t *obj, const char *where, const char *path,
                             const char *const *allowed);

/* Typed getters. A missing key leaves *out at the caller's default and
 * returns RQ_OK; a key of the wrong type or out of range is an error naming it. */
rq_status rq__json_get_bool(const json_t *obj, const char *where, const char *path,
                            const char *key, bool *out);
rq_status rq__json_get_int(const json_t *obj, const char *where, const char *path,
                           const char *key, long long min, long long max, long long *out);
rq_status rq__json_get_number(const json_t *obj, const char *where, const char *path,
                              const char *key, double min, double max, double *out);
/* *out points into obj (valid while obj lives). */
rq_status rq__json_get_string(const json_t *obj, const char *where, const char *path,
                              const char *key, const char **out);
/* An array of strings; *out is NULL when the key is missing. */
rq_status rq__json_get_string_array(const json_t *obj, const char *where, const char *path,
                                    const char *key, const json_t **out);
/* An object; *out is NULL when the key is missing. */
rq_status rq__json_get_object(const json_t *obj, const char *where, const char *path,
                              const char *key, const json_t **out);

#endif
