/* SPDX-License-Identifier: Apache-2.0 */
/* rq_observer_save / rq_observer_load: the config, the counters and the
 * class's named arrays in a protobuf message, wrapped with a format version
 * and an xxh3-64 checksum of the inner bytes. */
#include "core/pb_alloc.h"
#include "observers/observers.h"

#include "observers/observer_state.pb-c.h"

#include <math.h>
#include <string.h>
#include <xxhash.h>

/* Bump on any incompatible change of observer_state.proto's meaning. */
#define RQ_OBSERVER_FORMAT_VERSION 1u

typedef struct stat_entry {
  char *name;
  double *values;
  size_t count;
} stat_entry;

struct rq_observer_stats {
  stat_entry *entries;
  size_t count, capacity;
};

static void stats_clear(rq_observer_stats *s) {
  for (size_t i = 0; i < s->count; i++) {
    rq__free(s->entries[i].name);
    rq__free(s->entries[i].values);
  }
  rq__free(s->entries);
  memset(s, 0, sizeof *s);
}

static const stat_entry *stats_find(const rq_observer_stats *s, const char *name) {
  for (size_t i = 0; i < s->count; i++)
    if (strcmp(s->entries[i].name, name) == 0) return &s->entries[i];
  return NULL;
}

rq_status rq__check_loaded_counts(const double *v, size_t n, const char *what) {
  for (size_t i = 0; i < n; i++)
    if (!(v[i] >= 0.0 && v[i] < 9007199254740992.0 && v[i] == floor(v[i])))
      return rq_error_set(RQ_ERR_FORMAT, "saved state: %s[%zu] = %g is not a count", what, i, v[i]);
  return RQ_OK;
}

rq_status rq__check_loaded_range(double min, double max, const char *what) {
  bool empty = min == INFINITY && max == -INFINITY;
  if (!empty && !(isfinite(min) && isfinite(max) && min <= max))
    return rq_error_set(RQ_ERR_FORMAT, "saved state: %s [%g, %g] is not a range", what, min, max);
  return RQ_OK;
}

rq_status rq_observer_stats_put(rq_observer_stats *stats, const char *name, const double *values,
                                size_t count) {
  RQ_CHECK_NOT_NULL(stats);
  RQ_CHECK_NOT_NULL(name);
  RQ_CHECK_ARG(count == 0 || values != NULL, "values is NULL with count %zu", count);
  RQ_CHECK_ARG(stats_find(stats, name) == NULL, "name: \"%s\" was already put", name);
  if (stats->count == stats->capacity) {
    size_t cap = stats->capacity ? 2 * stats->capacity : 4;
    stat_entry *e = rq__realloc_array(stats->entries, cap, sizeof *e);
    if (e == NULL) return rq__nomem(__func__, cap * sizeof *e);
    stats->entries = e;
    stats->capacity = cap;
  }
  stat_entry entry = {rq__strdup(name), rq__malloc_array(count ? count : 1, sizeof(double)), count};
  if (entry.name == NULL || entry.values == NULL) {
    rq__free(entry.name);
    rq__free(entry.values);
    return rq__nomem(__func__, count * sizeof(double));
  }
  if (count) memcpy(entry.values, values, count * sizeof(double));
  stats->entries[stats->count++] = entry;
  return RQ_OK;
}

rq_status rq_observer_stats_get(const rq_observer_stats *stats, const char *name, double *values,
                                size_t capacity, size_t *count) {
  RQ_CHECK_NOT_NULL(stats);
  RQ_CHECK_NOT_NULL(name);
  RQ_CHECK_NOT_NULL(count);
  const stat_entry *e = stats_find(stats, name);
  if (e == NULL) return rq__fail(RQ_ERR_NOT_FOUND, __func__, "saved state has no \"%s\"", name);
  *count = e->count;
  if (values == NULL) return RQ_OK;
  if (capacity < e->count)
    return rq__fail(RQ_ERR_INVALID_ARG, __func__, "%s: capacity %zu is less than %zu", name, capacity,
                    e->count);
  memcpy(values, e->values, e->count * sizeof(double));
  return RQ_OK;
}


rq_status rq_observer_save(const rq_observer *obs, void **data, size_t *size) {
  RQ_CHECK_NOT_NULL(obs);
  RQ_CHECK_NOT_NULL(data);
  RQ_CHECK_NOT_NULL(size);
  if (obs->cls->save == NULL)
    return rq__fail(RQ_ERR_UNSUPPORTED, __func__, "%s cannot save its state", obs->cls->name);
  rq_observer_stats stats = {0};
  rq_error_clear();
  rq_status st = obs->cls->save(obs->state, &obs->info, &stats);
  if (st != RQ_OK) {
    if (rq_last_error()[0] == '\0') rq__fail(st, __func__, "%s: save failed", obs->cls->name);
    stats_clear(&stats);
    return st;
  }
  char *config = json_dumps(obs->config, JSON_COMPACT | JSON_SORT_KEYS);
  Razorq__Observers__ObserverStat *msgs = rq__calloc(stats.count ? stats.count : 1, sizeof *msgs);
  Razorq__Observers__ObserverStat **ptrs = rq__calloc(stats.count ? stats.count : 1, sizeof *ptrs);
  uint8_t *inner = NULL, *outer = NULL;
  if (config == NULL || msgs == NULL || ptrs == NULL) {
    st = rq__nomem(__func__, stats.count * sizeof *msgs);
    goto done;
  }
  for (size_t i = 0; i < stats.count; i++) {
    razorq__observers__observer_stat__init(&msgs[i]);
    msgs[i].name = stats.entries[i].name;
    msgs[i].n_values = stats.entries[i].count;
    msgs[i].values = stats.entries[i].values;
    ptrs[i] = &msgs[i];
  }
  Razorq__Observers__ObserverState state = RAZORQ__OBSERVERS__OBSERVER_STATE__INIT;
  state.config_json = config;
  state.channels = obs->channels;
  state.batches = obs->batches;
  state.n_stats = stats.count;
  state.stats = ptrs;
  size_t inner_size = razorq__observers__observer_state__get_packed_size(&state);
  inner = rq__malloc(inner_size ? inner_size : 1);
  if (inner == NULL) { st = rq__nomem(__func__, inner_size); goto done; }
  razorq__observers__observer_state__pack(&state, inner);
  Razorq__Observers__SavedObserver saved = RAZORQ__OBSERVERS__SAVED_OBSERVER__INIT;
  saved.format_version = RQ_OBSERVER_FORMAT_VERSION;
  saved.state.data = inner;
  saved.state.len = inner_size;
  saved.xxh3 = XXH3_64bits(inner, inner_size);
  size_t outer_size = razorq__observers__saved_observer__get_packed_size(&saved);
  outer = rq__malloc(outer_size ? outer_size : 1);
  if (outer == NULL) { st = rq__nomem(__func__, outer_size); goto done; }
  razorq__observers__saved_observer__pack(&saved, outer);
  *data = outer;
  *size = outer_size;
  outer = NULL;
done:
  free(config); /* jansson's allocation, not razorq's */
  rq__free(msgs);
  rq__free(ptrs);
  rq__free(inner);
  rq__free(outer);
  stats_clear(&stats);
  return st;
}

void rq_observer_free_saved(void *data) { rq__free(data); }

rq_status rq_observer_load(const void *data, size_t size, rq_observer **out) {
  RQ_CHECK_NOT_NULL(data);
  RQ_CHECK_NOT_NULL(out);
  RQ_CHECK_ARG(size > 0, "size is 0");
  Razorq__Observers__SavedObserver *saved = razorq__observers__saved_observer__unpack(&rq__pb_allocator, size, data);
  if (saved == NULL) return rq__pb_unpack_failure(__func__, "not a saved observer (malformed protobuf)");
  rq_status st = RQ_OK;
  Razorq__Observers__ObserverState *state = NULL;
  json_t *cfg = NULL;
  rq_observer *obs = NULL;
  rq_observer_stats stats = {0};
  if (saved->format_version != RQ_OBSERVER_FORMAT_VERSION) {
    st = rq__fail(RQ_ERR_ABI, __func__, "saved with observer format %u, this library reads %u",
                  saved->format_version, RQ_OBSERVER_FORMAT_VERSION);
    goto done;
  }
  if (XXH3_64bits(saved->state.data, saved->state.len) != saved->xxh3) {
    st = rq__fail(RQ_ERR_CHECKSUM, __func__, "checksum mismatch: the saved observer is corrupt");
    goto done;
  }
  state = razorq__observers__observer_state__unpack(&rq__pb_allocator, saved->state.len, saved->state.data);
  if (state == NULL) {
    st = rq__pb_unpack_failure(__func__, "malformed observer state");
    goto done;
  }
  st = rq__json_parse_object(state->config_json ? state->config_json : "", __func__, &cfg);
  if (st != RQ_OK) goto done;
  st = rq__observer_create_json(cfg, __func__, &obs);
  if (st != RQ_OK) goto done;
  if (obs->cls->load == NULL) {
    st = rq__fail(RQ_ERR_UNSUPPORTED, __func__, "%s cannot load a state", obs->cls->name);
    goto done;
  }
  if (obs->qs.per_channel ? state->channels > ((uint64_t)1 << 40) : state->channels != 1) {
    st = rq__fail(RQ_ERR_FORMAT, __func__, "saved state: %llu channels do not fit %s",
                  (unsigned long long)state->channels, obs->cls->name);
    goto done;
  }
  for (size_t i = 0; i < state->n_stats && st == RQ_OK; i++)
    st = rq_observer_stats_put(&stats, state->stats[i]->name ? state->stats[i]->name : "",
                               state->stats[i]->values, state->stats[i]->n_values);
  if (st != RQ_OK) goto done;
  rq_error_clear();
  st = obs->cls->load(obs->state, &obs->info, &stats);
  if (st != RQ_OK) {
    if (rq_last_error()[0] == '\0') rq__fail(st, __func__, "%s: load failed", obs->cls->name);
    goto done;
  }
  obs->channels = (size_t)state->channels;
  obs->batches = state->batches;
  *out = obs;
  obs = NULL;
done:
  rq_observer_destroy(obs);
  stats_clear(&stats);
  json_decref(cfg);
  if (state) razorq__observers__observer_state__free_unpacked(state, &rq__pb_allocator);
  razorq__observers__saved_observer__free_unpacked(saved, &rq__pb_allocator);
  return st;
}
