/* SPDX-License-Identifier: Apache-2.0 */
/* Calibration files: the table of a session's qparams (so a model is
 * calibrated once and exported many times, or its qparams handed to another
 * tool), TensorRT's calibration cache, and the whole observer state for
 * sharded calibration. Files carry the model's fingerprint and the config's
 * hash; loading one made for another model or config is refused. */
#include "session/session_internal.h"
#include "session/export.h"

#include "core/pb_alloc.h"
#include "session/calibration.pb-c.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#define FORMAT_VERSION 1


static rq_status write_file(const char *where, const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) return rq__fail(RQ_ERR_IO, where, "cannot create %s: %s", path, strerror(errno));
  bool ok = fwrite(data, 1, size, f) == size;
  ok = (fclose(f) == 0) && ok;
  if (!ok) return rq__fail(RQ_ERR_IO, where, "cannot write %s: %s", path, strerror(errno));
  return RQ_OK;
}

/* Reads a whole file (at most 1 GiB: a calibration file is far smaller). */
static rq_status read_file(const char *where, const char *path, uint8_t **data, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return rq__fail(RQ_ERR_IO, where, "cannot open %s: %s", path, strerror(errno));
  rq_status s = RQ_OK;
  long len = -1;
  if (fseek(f, 0, SEEK_END) == 0) len = ftell(f);
  if (len < 0 || fseek(f, 0, SEEK_SET) != 0) s = rq__fail(RQ_ERR_IO, where, "cannot read %s", path);
  else if (len > (1L << 30)) s = rq__fail(RQ_ERR_FORMAT, where, "%s is %ld bytes: not a calibration file", path, len);
  *data = NULL;
  if (s == RQ_OK) {
    *data = rq__malloc(len > 0 ? (size_t)len : 1);
    if (*data == NULL) s = rq__nomem(where, (size_t)len);
    else if (fread(*data, 1, (size_t)len, f) != (size_t)len) s = rq__fail(RQ_ERR_IO, where, "cannot read %s", path);
  }
  fclose(f);
  if (s != RQ_OK) {
    rq__free(*data);
    *data = NULL;
    return s;
  }
  *size = (size_t)len;
  return RQ_OK;
}

/* Wraps payload in a checksummed CalibrationFile and writes it. */
static rq_status write_wrapped(const char *where, const char *path, Razorq__CalibrationFile__Kind kind,
                               const uint8_t *payload, size_t payload_size) {
  Razorq__CalibrationFile file = RAZORQ__CALIBRATION_FILE__INIT;
  file.version = FORMAT_VERSION;
  file.kind = kind;
  file.xxh3 = XXH3_64bits(payload, payload_size);
  file.payload.data = (uint8_t *)payload;
  file.payload.len = payload_size;
  size_t size = razorq__calibration_file__get_packed_size(&file);
  uint8_t *buf = rq__malloc(size);
  if (buf == NULL) return rq__nomem(where, size);
  razorq__calibration_file__pack(&file, buf);
  rq_status s = write_file(where, path, buf, size);
  rq__free(buf);
  return s;
}

/* Reads a CalibrationFile of the given kind, checks it, returns its payload
 * (owned by *file: free with razorq__calibration_file__free_unpacked). */
static rq_status read_wrapped(const char *where, const char *path, Razorq__CalibrationFile__Kind kind,
                              Razorq__CalibrationFile **file) {
  uint8_t *data = NULL;
  size_t size = 0;
  RQ_TRY(read_file(where, path, &data, &size));
  *file = razorq__calibration_file__unpack(&rq__pb_allocator, size, data);
  rq__free(data);
  if (*file == NULL) return rq__pb_unpack_failure(where, "%s is not a razorq calibration file", path);
  rq_status s = RQ_OK;
  if ((*file)->version != FORMAT_VERSION)
    s = rq__fail(RQ_ERR_ABI, where, "%s has format version %u; this razorq reads version %d", path, (*file)->version,
                 FORMAT_VERSION);
  else if ((*file)->kind != kind)
    s = rq__fail(RQ_ERR_FORMAT, where, "%s holds a %s, not a %s", path,
                 (*file)->kind == RAZORQ__CALIBRATION_FILE__KIND__TABLE ? "calibration table" : "session state",
                 kind == RAZORQ__CALIBRATION_FILE__KIND__TABLE ? "calibration table" : "session state");
  else if (XXH3_64bits((*file)->payload.data, (*file)->payload.len) != (*file)->xxh3)
    s = rq__fail(RQ_ERR_CHECKSUM, where, "%s is corrupt (checksum mismatch)", path);
  if (s != RQ_OK) {
    razorq__calibration_file__free_unpacked(*file, &rq__pb_allocator);
    *file = NULL;
  }
  return s;
}

static rq_status check_origin(const rq_session *s, const char *where, const char *path, uint64_t fingerprint,
                              uint64_t config_hash) {
  if (fingerprint != s->model_fingerprint)
    return rq__fail(RQ_ERR_INVALID_ARG, where,
                    "%s was made for another model (fingerprint %016llx, this session's model is %016llx)", path,
                    (unsigned long long)fingerprint, (unsigned long long)s->model_fingerprint);
  if (config_hash != s->config_hash)
    return rq__fail(RQ_ERR_INVALID_ARG, where,
                    "%s was made with another quantization config (hash %016llx, this session's is %016llx)", path,
                    (unsigned long long)config_hash, (unsigned long long)s->config_hash);
  return RQ_OK;
}

/* ---- calibration table ---- */

rq_status rq_session_save_calibration(const rq_session *s, const char *path) {
  RQ_CHECK_NOT_NULL(s);
  RQ_CHECK_NOT_NULL(path);
  if (s->state != RQ__SESSION_CONVERTED)
    return rq__fail(RQ_ERR_STATE, __func__, "convert the session first (rq_session_convert)");
  Razorq__CalibrationTable table = RAZORQ__CALIBRATION_TABLE__INIT;
  table.model_fingerprint = s->model_fingerprint;
  table.config_hash = s->config_hash;
  Razorq__CalibrationEntry *entries = rq__calloc((size_t)s->n_points + 1, sizeof *entries);
  Razorq__CalibrationEntry **ptrs = rq__calloc((size_t)s->n_points + 1, sizeof *ptrs);
  rq_status st = entries && ptrs ? RQ_OK : rq__nomem(__func__, 0);
  for (int i = 0; st == RQ_OK && i < s->n_points; i++) {
    const rq__session_point *p = &s->points[i];
    rq_fake_quant *fq = s->fake_quants[p->fq];
    Razorq__CalibrationEntry *e = &entries[i];
    razorq__calibration_entry__init(e);
    ptrs[i] = e;
    table.n_entries = (size_t)i + 1;
    e->edge = p->edge;
    e->is_weight = p->is_weight;
    size_t count = 0;
    st = rq_fake_quant_get_params(fq, NULL, NULL, 0, &count);
    if (st != RQ_OK) break;
    e->scale = rq__malloc_array(count, sizeof *e->scale);
    float *zp = rq__malloc_array(count, sizeof *zp);
    e->zero_point = rq__malloc_array(count, sizeof *e->zero_point);
    if (e->scale == NULL || zp == NULL || e->zero_point == NULL) {
      rq__free(zp);
      st = rq__nomem(__func__, count * 12);
      break;
    }
    st = rq_fake_quant_get_params(fq, e->scale, zp, count, &count);
    for (size_t c = 0; c < count; c++) e->zero_point[c] = (int32_t)lrintf(zp[c]);
    rq__free(zp);
    e->n_scale = e->n_zero_point = count;
    bool per_channel = false;
    int32_t axis = 0;
    if (st == RQ_OK) st = rq_fake_quant_quant_range(fq, &e->quant_min, &e->quant_max);
    if (st == RQ_OK) st = rq_fake_quant_channel_axis(fq, &per_channel, &axis);
    e->has_ch_axis = per_channel;
    e->ch_axis = axis;
  }
  table.entries = ptrs;
  /* Initializers convert changed (their values in the session's graph are
   * final after convert), so loading the table gives the same model. */
  Razorq__AdjustedInitializer *adjusted = NULL, **adjusted_ptrs = NULL;
  if (st == RQ_OK && (s->bias_correction || rq__session_uses_adaround(s))) {
    size_t cap = 2 * (size_t)s->graph->n_nodes + 1;
    adjusted = rq__calloc(cap, sizeof *adjusted);
    adjusted_ptrs = rq__calloc(cap, sizeof *adjusted_ptrs);
    if (adjusted == NULL || adjusted_ptrs == NULL) st = rq__nomem(__func__, cap);
    for (int n = 0; st == RQ_OK && n < s->graph->n_nodes; n++) {
      int values[2];
      rq__session_adjusted_at(s, n, values);
      for (int k = 0; k < 2; k++) {
        if (values[k] < 0) continue;
        const rq__tensor *init = s->graph->values[values[k]].init;
        Razorq__AdjustedInitializer *e = &adjusted[table.n_adjusted];
        razorq__adjusted_initializer__init(e);
        e->name = s->graph->values[values[k]].name;
        e->values = init->data;
        e->n_values = init->numel;
        adjusted_ptrs[table.n_adjusted++] = e;
      }
    }
    table.adjusted = adjusted_ptrs;
  }
  if (st == RQ_OK) {
    size_t size = razorq__calibration_table__get_packed_size(&table);
    uint8_t *buf = rq__malloc(size + 1);
    if (buf == NULL) {
      st = rq__nomem(__func__, size);
    } else {
      razorq__calibration_table__pack(&table, buf);
      st = write_wrapped(__func__, path, RAZORQ__CALIBRATION_FILE__KIND__TABLE, buf, size);
      rq__free(buf);
    }
  }
  for (size_t i = 0; entries != NULL && i < table.n_entries; i++) {
    rq__free(entries[i].scale);
    rq__free(entries[i].zero_point);
  }
  rq__free(entries);
  rq__free(ptrs);
  rq__free(adjusted);
  rq__free(adjusted_ptrs);
  return st;
}

/* The table's adjusted initializers (corrected biases, rounded weights):
 * checked against the session's graph, then (write) stored into both the
 * float and the fake-quantized graph, which cannot fail once checked. */
static rq_status load_adjusted(rq_session *s, const char *path, const Razorq__CalibrationTable *table,
                                       bool write) {
  for (int pass = 0; pass < (write ? 2 : 1); pass++)
    for (size_t i = 0; i < table->n_adjusted; i++) {
      const Razorq__AdjustedInitializer *e = table->adjusted[i];
      int v = rq__graph_find_value(s->graph, e->name), vq = rq__graph_find_value(s->fq_graph, e->name);
      rq__tensor *b = v >= 0 ? s->graph->values[v].init : NULL, *bq = vq >= 0 ? s->fq_graph->values[vq].init : NULL;
      if (b == NULL || bq == NULL || b->dtype != RQ__DT_FLOAT || bq->dtype != RQ__DT_FLOAT || b->numel != e->n_values ||
          bq->numel != e->n_values)
        return rq__fail(RQ_ERR_INVALID_ARG, "rq_session_load_calibration",
                        "%s: adjusted initializer '%s' (%zu values) is not a float initializer of that size in this model",
                        path, e->name, e->n_values);
      for (size_t c = 0; pass == 0 && c < e->n_values; c++)
        if (!isfinite(e->values[c]))
          return rq__fail(RQ_ERR_FORMAT, "rq_session_load_calibration", "%s: adjusted initializer '%s' is not finite",
                          path, e->name);
      if (pass == 1) {
        memcpy(b->data, e->values, e->n_values * sizeof(float));
        memcpy(bq->data, e->values, e->n_values * sizeof(float));
      }
    }
  return RQ_OK;
}

rq_status rq_session_load_calibration(rq_session *s, const char *path) {
  RQ_CHECK_NOT_NULL(s);
  RQ_CHECK_NOT_NULL(path);
  Razorq__CalibrationFile *file;
  RQ_TRY(read_wrapped(__func__, path, RAZORQ__CALIBRATION_FILE__KIND__TABLE, &file));
  Razorq__CalibrationTable *table =
      razorq__calibration_table__unpack(&rq__pb_allocator, file->payload.len, file->payload.data);
  razorq__calibration_file__free_unpacked(file, &rq__pb_allocator);
  if (table == NULL) return rq__pb_unpack_failure(__func__, "%s: malformed calibration table", path);
  rq_status st = check_origin(s, __func__, path, table->model_fingerprint, table->config_hash);
  /* Validate every entry before changing anything, so a bad file leaves the
   * session as it was. */
  int *fq_of = rq__calloc(table->n_entries + 1, sizeof *fq_of);
  if (st == RQ_OK && fq_of == NULL) st = rq__nomem(__func__, table->n_entries);
  if (st == RQ_OK && table->n_entries != (size_t)s->n_points)
    st = rq__fail(RQ_ERR_INVALID_ARG, __func__, "%s has %zu entries, this session %d fake-quant places", path,
                  table->n_entries, s->n_points);
  for (size_t i = 0; st == RQ_OK && i < table->n_entries; i++) {
    const Razorq__CalibrationEntry *e = table->entries[i];
    int found = -1;
    for (int k = 0; k < s->n_points; k++)
      if (strcmp(s->points[k].edge, e->edge) == 0 && s->points[k].is_weight == e->is_weight) found = k;
    if (found < 0) {
      st = rq__fail(RQ_ERR_INVALID_ARG, __func__, "%s: this session has no fake-quant on '%s'", path, e->edge);
      break;
    }
    fq_of[i] = s->points[found].fq;
    if (e->n_scale == 0 || e->n_scale != e->n_zero_point) {
      st = rq__fail(RQ_ERR_FORMAT, __func__, "%s: entry '%s' has %zu scales and %zu zero points", path, e->edge,
                    e->n_scale, e->n_zero_point);
      break;
    }
    for (size_t c = 0; c < e->n_scale && st == RQ_OK; c++)
      if (!(e->scale[c] > 0.0f) || !isfinite(e->scale[c]) || e->zero_point[c] < e->quant_min ||
          e->zero_point[c] > e->quant_max)
        st = rq__fail(RQ_ERR_FORMAT, __func__, "%s: entry '%s' channel %zu: scale %g / zero point %d invalid", path,
                      e->edge, c, (double)e->scale[c], e->zero_point[c]);
  }
  if (st == RQ_OK) st = load_adjusted(s, path, table, false);
  for (size_t i = 0; st == RQ_OK && i < table->n_entries; i++) {
    const Razorq__CalibrationEntry *e = table->entries[i];
    float *zp = rq__malloc_array(e->n_zero_point, sizeof *zp);
    if (zp == NULL) { st = rq__nomem(__func__, e->n_zero_point); break; }
    for (size_t c = 0; c < e->n_zero_point; c++) zp[c] = (float)e->zero_point[c];
    st = rq_fake_quant_set_params(s->fake_quants[fq_of[i]], e->scale, zp, e->n_scale);
    rq__free(zp);
    if (st == RQ_OK) st = rq_fake_quant_set_mode(s->fake_quants[fq_of[i]], false, true);
  }
  if (st == RQ_OK) st = load_adjusted(s, path, table, true);
  rq__free(fq_of);
  razorq__calibration_table__free_unpacked(table, &rq__pb_allocator);
  if (st == RQ_OK) rq__session_drop_batches(s); /* the table's values replace a correction */
  if (st == RQ_OK) st = rq__session_quantize_biases(s);
  if (st == RQ_OK) {
    s->state = RQ__SESSION_CONVERTED;
    s->qparams_from_table = true;
  }
  return st;
}

/* ---- TensorRT's calibration cache ---- */

/* The line of one activation edge: TensorRT quantizes to [-127, 127] with
 * scale = amax / 127, amax the threshold calibration chose. It is taken from
 * the fake-quant's qparams (scale * (quant_max - quant_min) / 2 for the
 * symmetric signed grid), so it holds whatever the observer decided
 * (entropy, percentile, MSE), and also after a calibration table was
 * loaded instead of observing. */
static rq_status trt_line(const rq_session *s, const rq__session_point *p, char *line, size_t size) {
  const rq_fake_quant *fq = s->fake_quants[p->fq];
  float scale, zero_point;
  size_t channels = 0;
  int32_t qmin, qmax;
  RQ_TRY(rq_fake_quant_quant_range(fq, &qmin, &qmax));
  rq_status st = rq_fake_quant_get_params(fq, &scale, &zero_point, 1, &channels);
  if (st != RQ_OK || channels != 1)
    return rq__fail(RQ_ERR_UNSUPPORTED, "rq_session_save_trt_cache",
                    "edge '%s' has per-channel qparams; TensorRT's cache holds one scale per tensor", p->edge);
  if (qmin >= 0 || zero_point != 0.0f)
    return rq__fail(RQ_ERR_UNSUPPORTED, "rq_session_save_trt_cache",
                    "edge '%s' is quantized to [%d, %d] with zero point %g; TensorRT's cache holds symmetric int8 "
                    "scales (zero point 0, a signed qdtype: the tensorrt backend)", p->edge, (int)qmin, (int)qmax,
                    (double)zero_point);
  /* Unless a table gave them, qparams of an observer that saw nothing are
   * PyTorch's defaults (scale 1), not a calibration. */
  float mn, mx;
  size_t count = 0;
  const rq_observer *obs = rq_fake_quant_observer(s->fake_quants[p->fq]);
  if (!s->qparams_from_table && rq_observer_minmax(obs, &mn, &mx, 1, &count) == RQ_OK && count == 1 && !(mn <= mx))
    return rq__fail(RQ_ERR_STATE, "rq_session_save_trt_cache",
                    "edge '%s' was never observed (calibrate before convert, or load a calibration table)", p->edge);
  /* amax / 127 with one rounding: exactly the scale when the grid is [-127, 127]. */
  float trt_scale = (float)((double)scale * ((double)qmax - (double)qmin) / 254.0);
  uint32_t bits;
  memcpy(&bits, &trt_scale, sizeof bits);
  snprintf(line, size, "%s: %08x\n", p->edge, bits);
  return RQ_OK;
}

rq_status rq_session_save_trt_cache(const rq_session *s, const char *path) {
  RQ_CHECK_NOT_NULL(s);
  RQ_CHECK_NOT_NULL(path);
  if (s->state != RQ__SESSION_CONVERTED)
    return rq__fail(RQ_ERR_STATE, __func__, "convert the session first (rq_session_convert)");
  /* TensorRT reads "TRT-<version>-<calibrator>" then one line per tensor with
   * the big-endian bits of its float32 scale. Entropy observers make an
   * EntropyCalibration2 cache, everything else MinMax. */
  bool entropy = false;
  size_t len = 64;
  for (int i = 0; i < s->n_points; i++) {
    if (s->points[i].is_weight) continue;
    len += strlen(s->points[i].edge) + 16;
    if (strstr(rq_observer_type_name(rq_fake_quant_observer(s->fake_quants[s->points[i].fq])), "Entropy") != NULL)
      entropy = true;
  }
  char *text = rq__malloc(len);
  if (text == NULL) return rq__nomem(__func__, len);
  size_t at = (size_t)snprintf(text, len, "TRT-8601-%s\n", entropy ? "EntropyCalibration2" : "MinMaxCalibration");
  rq_status st = RQ_OK;
  for (int i = 0; st == RQ_OK && i < s->n_points; i++) {
    if (s->points[i].is_weight) continue;
    st = trt_line(s, &s->points[i], text + at, len - at);
    at += strlen(text + at);
  }
  if (st == RQ_OK) st = write_file(__func__, path, text, at);
  rq__free(text);
  return st;
}

/* ---- observer state, for sharded calibration ---- */

rq_status rq_session_save_state(const rq_session *s, const char *path) {
  RQ_CHECK_NOT_NULL(s);
  RQ_CHECK_NOT_NULL(path);
  Razorq__SessionState state = RAZORQ__SESSION_STATE__INIT;
  state.model_fingerprint = s->model_fingerprint;
  state.config_hash = s->config_hash;
  state.batches_seen = s->batches_seen;
  Razorq__ObserverState *obs = rq__calloc((size_t)s->n_points + 1, sizeof *obs);
  Razorq__ObserverState **ptrs = rq__calloc((size_t)s->n_points + 1, sizeof *ptrs);
  rq_status st = obs && ptrs ? RQ_OK : rq__nomem(__func__, 0);
  /* One entry per fake-quant (shared ones once), named by its first edge. */
  for (int i = 0; st == RQ_OK && i < s->n_points; i++) {
    bool first = true;
    for (int k = 0; k < i; k++) first &= s->points[k].fq != s->points[i].fq;
    if (!first) continue;
    Razorq__ObserverState *o = &obs[state.n_observers];
    razorq__observer_state__init(o);
    o->edge = s->points[i].edge;
    void *data;
    size_t size;
    st = rq_observer_save(rq_fake_quant_observer(s->fake_quants[s->points[i].fq]), &data, &size);
    if (st != RQ_OK) break;
    o->observer.data = data;
    o->observer.len = size;
    ptrs[state.n_observers++] = o;
  }
  state.observers = ptrs;
  if (st == RQ_OK) {
    size_t size = razorq__session_state__get_packed_size(&state);
    uint8_t *buf = rq__malloc(size + 1);
    if (buf == NULL) {
      st = rq__nomem(__func__, size);
    } else {
      razorq__session_state__pack(&state, buf);
      st = write_wrapped(__func__, path, RAZORQ__CALIBRATION_FILE__KIND__STATE, buf, size);
      rq__free(buf);
    }
  }
  for (size_t i = 0; obs != NULL && i < state.n_observers; i++) rq_observer_free_saved(obs[i].observer.data);
  rq__free(obs);
  rq__free(ptrs);
  return st;
}

rq_status rq_session_merge(rq_session *s, const char *path) {
  RQ_CHECK_NOT_NULL(s);
  RQ_CHECK_NOT_NULL(path);
  if (s->state != RQ__SESSION_PREPARED)
    return rq__fail(RQ_ERR_STATE, __func__, "the session is converted; merge calibration states before converting");
  Razorq__CalibrationFile *file;
  RQ_TRY(read_wrapped(__func__, path, RAZORQ__CALIBRATION_FILE__KIND__STATE, &file));
  Razorq__SessionState *state = razorq__session_state__unpack(&rq__pb_allocator, file->payload.len, file->payload.data);
  razorq__calibration_file__free_unpacked(file, &rq__pb_allocator);
  if (state == NULL) return rq__pb_unpack_failure(__func__, "%s: malformed session state", path);
  rq_status st = check_origin(s, __func__, path, state->model_fingerprint, state->config_hash);
  /* Load everything first, then merge: a bad entry leaves the session as it was. */
  rq_observer **loaded = rq__calloc(state->n_observers + 1, sizeof *loaded);
  int *target = rq__calloc(state->n_observers + 1, sizeof *target);
  if (st == RQ_OK && (loaded == NULL || target == NULL)) st = rq__nomem(__func__, state->n_observers);
  for (size_t i = 0; st == RQ_OK && i < state->n_observers; i++) {
    const Razorq__ObserverState *o = state->observers[i];
    target[i] = -1;
    for (int k = 0; k < s->n_points; k++)
      if (strcmp(s->points[k].edge, o->edge) == 0) target[i] = s->points[k].fq;
    if (target[i] < 0) {
      st = rq__fail(RQ_ERR_INVALID_ARG, __func__, "%s: this session has no fake-quant on '%s'", path, o->edge);
      break;
    }
    st = rq_observer_load(o->observer.data, o->observer.len, &loaded[i]);
  }
  for (size_t i = 0; st == RQ_OK && i < state->n_observers; i++)
    st = rq_observer_merge(rq_fake_quant_observer(s->fake_quants[target[i]]), loaded[i]);
  if (st == RQ_OK) s->batches_seen += state->batches_seen;
  for (size_t i = 0; loaded != NULL && i < state->n_observers; i++) rq_observer_destroy(loaded[i]);
  rq__free(loaded);
  rq__free(target);
  razorq__session_state__free_unpacked(state, &rq__pb_allocator);
  return st;
}
