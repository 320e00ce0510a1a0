/* SPDX-License-Identifier: Apache-2.0 */
/* rq_quantizer: parses a quantization config (MMRazor's global_qconfig,
 * quantizer and PTQLoop keys, as JSON) with errors that name the key path,
 * and checks that the backend can deploy what it asks for. */
#include "session/quantizer.h"

#include <razorq/fakequant.h>
#include <razorq/session.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define WHERE "rq_quantizer_create"

/* MMRazor's QSchemeHandler keys; every other key of a qscheme (averaging_constant,
 * eps, bins, ...) is an observer argument and is passed on to the observer. */
static const char *const qscheme_keys[] = {"qdtype", "bit", "is_symmetry", "is_symmetric_range"};

static bool is_qscheme_key(const char *key) {
  for (size_t i = 0; i < sizeof qscheme_keys / sizeof qscheme_keys[0]; i++)
    if (strcmp(qscheme_keys[i], key) == 0) return true;
  return false;
}

static void qconfig_free(rq__qconfig *qc) {
  json_decref(qc->w_fake_quant);
  json_decref(qc->a_fake_quant);
  qc->w_fake_quant = qc->a_fake_quant = NULL;
  for (int i = 0; i < 3; i++) {
    json_decref(qc->w_parts[i]);
    json_decref(qc->a_parts[i]);
    qc->w_parts[i] = qc->a_parts[i] = NULL;
  }
}

/* Builds a complete rq_fake_quant_create() config from MMRazor's three
 * pieces: the fake quant (type + its arguments), the observer (type + its
 * arguments) and the qscheme, whose non-qscheme keys are observer arguments. */
static rq_status build_fake_quant(const json_t *fq, const json_t *observer, const json_t *qscheme,
                                  const char *path, char side, json_t **out) {
  json_t *cfg = json_deep_copy(fq), *obs = json_deep_copy(observer);
  if (cfg == NULL || obs == NULL) {
    json_decref(cfg);
    json_decref(obs);
    return rq__nomem(WHERE, 0);
  }
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)qscheme, k, v) {
    if (strcmp(k, "ch_axis") == 0 || strcmp(k, "type") == 0) {
      json_decref(cfg);
      json_decref(obs);
      return rq__fail(RQ_ERR_INVALID_ARG, WHERE,
                      "%s%s%c_qscheme.%s: not a qscheme key (ch_axis is chosen per op; the class goes in %c_observer)",
                      path, path[0] ? "." : "", side, k, side);
    }
    json_object_set(is_qscheme_key(k) ? cfg : obs, k, v);
  }
  json_object_set_new(cfg, "observer", obs);
  *out = cfg;
  return RQ_OK;
}

/* Creates the fake-quant once so that a bad class or argument fails here,
 * with the key path, rather than later at the first edge it is used on. The
 * fake-quant's message names the offending key ("averaging_constant: unknown
 * key for MinMaxObserver"); the piece holding that key completes the path. */
static rq_status probe_fake_quant(const json_t *config, json_t *const *pieces, const char *path, char side) {
  json_t *probe = json_deep_copy(config);
  if (probe == NULL) return rq__nomem(WHERE, 0);
  json_t *observer = json_object_get(probe, "observer");
  const char *type = json_string_value(json_object_get(observer, "type"));
  if (type != NULL && strstr(type, "PerChannel") != NULL && json_object_get(observer, "ch_axis") == NULL)
    json_object_set_new(observer, "ch_axis", json_integer(0)); /* chosen per op later */
  char *text = json_dumps(probe, JSON_COMPACT);
  json_decref(probe);
  if (text == NULL) return rq__nomem(WHERE, 0);
  rq_fake_quant *fq = NULL;
  rq_status st = rq_fake_quant_create(text, &fq);
  free(text);
  rq_fake_quant_destroy(fq);
  if (st == RQ_OK) return RQ_OK;
  char detail[700];
  snprintf(detail, sizeof detail, "%s", rq_last_error());
  static const char *const parts[3] = {"fake_quant", "observer", "qscheme"};
  int piece = 0; /* the fake quant's own keys unless another piece holds the key */
  for (int i = 2; i >= 0; i--) {
    const char *k;
    json_t *v;
    json_object_foreach(pieces[i], k, v) {
      char needle[160];
      snprintf(needle, sizeof needle, "%s: ", k);
      if (strstr(detail, needle) != NULL && strcmp(k, "type") != 0) piece = i;
    }
  }
  if (strstr(detail, "type: ") != NULL && strstr(detail, "observer") != NULL) piece = 1;
  return rq__fail(st, WHERE, "%s%s%c_%s: %s", path, path[0] ? "." : "", side, parts[piece], detail);
}

/* Reads one side (w_ or a_) of a qconfig. In an override every piece is
 * optional: the observer and fake quant are inherited whole, the qscheme key
 * by key (so {"a_qscheme": {"bit": 4}} changes only the bit width). */
static bool same_type(const json_t *a, const json_t *b) {
  const char *ta = json_string_value(json_object_get(a, "type")), *tb = json_string_value(json_object_get(b, "type"));
  return ta != NULL && tb != NULL && strcmp(ta, tb) == 0;
}

/* A per-node qscheme: the inherited one updated key by key with what the
 * override gives (a null removes a key). MMRazor keeps observer arguments
 * (averaging_constant) in the qscheme; an override that names another
 * observer does not inherit them, only the qscheme's own keys. */
static json_t *inherit_qscheme(const json_t *inherited, const json_t *given, bool new_observer) {
  static const char *const own[] = {"qdtype", "bit", "is_symmetry", "is_symmetric_range"};
  json_t *q = json_deep_copy(inherited);
  if (q == NULL) return NULL;
  if (new_observer) {
    json_t *kept = json_object();
    for (size_t k = 0; kept != NULL && k < sizeof own / sizeof own[0]; k++) {
      json_t *v = json_object_get(q, own[k]);
      if (v != NULL) json_object_set(kept, own[k], v);
    }
    json_decref(q);
    q = kept;
  }
  if (q != NULL && given != NULL) json_object_update(q, (json_t *)given);
  const char *key;
  json_t *value;
  void *tmp;
  json_object_foreach_safe(q, tmp, key, value) {
    if (json_is_null(value)) json_object_del(q, key);
  }
  return q;
}

static rq_status parse_side(const json_t *obj, const char *path, char side, const rq__qconfig *base,
                            rq__qconfig *out) {
  static const char *const parts[3] = {"fake_quant", "observer", "qscheme"};
  const json_t *given[3];
  json_t **kept = side == 'w' ? out->w_parts : out->a_parts;
  json_t *const *inherited = base == NULL ? NULL : (side == 'w' ? base->w_parts : base->a_parts);
  char key[32], full[160];
  for (int i = 0; i < 3; i++) {
    snprintf(key, sizeof key, "%c_%s", side, parts[i]);
    RQ_TRY(rq__json_get_object(obj, WHERE, path, key, &given[i]));
    rq__json_path(full, sizeof full, path, key);
    if (given[i] == NULL && inherited == NULL) return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "%s: missing", full);
    if (given[i] != NULL && i < 2) {
      const char *type = NULL;
      RQ_TRY(rq__json_get_string(given[i], WHERE, full, "type", &type));
      if (type == NULL) return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "%s.type: missing", full);
    }
    if (given[i] != NULL && i == 2) {
      const char *qdtype = NULL;
      long long bit;
      bool flag;
      rq__qdtype t;
      RQ_TRY(rq__json_get_string(given[i], WHERE, full, "qdtype", &qdtype));
      if (qdtype != NULL && !rq__qdtype_parse(qdtype, &t))
        return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "%s.qdtype: '%s' is not quint8 or qint8", full, qdtype);
      RQ_TRY(rq__json_get_int(given[i], WHERE, full, "bit", 1, 16, &bit));
      RQ_TRY(rq__json_get_bool(given[i], WHERE, full, "is_symmetry", &flag));
      RQ_TRY(rq__json_get_bool(given[i], WHERE, full, "is_symmetric_range", &flag));
    }
    bool new_observer = i == 2 && inherited != NULL && given[1] != NULL && !same_type(given[1], inherited[1]);
    if (given[i] == NULL && !new_observer) {
      kept[i] = json_incref(inherited[i]);
    } else if (i == 2 && inherited != NULL) {
      kept[i] = inherit_qscheme(inherited[i], given[i], new_observer);
    } else {
      kept[i] = json_deep_copy(given[i]);
    }
    if (kept[i] == NULL) return rq__nomem(WHERE, 0);
  }
  json_t **built = side == 'w' ? &out->w_fake_quant : &out->a_fake_quant;
  RQ_TRY(build_fake_quant(kept[0], kept[1], kept[2], path, side, built));
  RQ_TRY(probe_fake_quant(*built, kept, path, side));

  /* The summary the backend check uses, with MMRazor's defaults (quint8,
   * 8 bits, symmetric); per-channel iff the observer class says PerChannel. */
  rq__qscheme_summary *summary = side == 'w' ? &out->w : &out->a;
  const char *qdtype = json_string_value(json_object_get(kept[2], "qdtype"));
  summary->qdtype = RQ__QUINT8;
  if (qdtype != NULL) rq__qdtype_parse(qdtype, &summary->qdtype);
  json_t *bit = json_object_get(kept[2], "bit");
  summary->bit = bit != NULL ? (int)json_number_value(bit) : 8;
  json_t *sym = json_object_get(kept[2], "is_symmetry");
  summary->symmetric = sym != NULL ? json_is_true(sym) : true;
  const char *obs_type = json_string_value(json_object_get(kept[1], "type"));
  summary->per_channel = obs_type != NULL && strstr(obs_type, "PerChannel") != NULL;
  return RQ_OK;
}

static rq_status parse_qconfig(const json_t *obj, const char *path, const rq__qconfig *base,
                               const char *const *extra_keys, rq__qconfig *out) {
  const char *keys[16] = {"w_observer", "a_observer", "w_fake_quant", "a_fake_quant", "w_qscheme", "a_qscheme"};
  size_t n = 6;
  for (const char *const *k = extra_keys; k != NULL && *k != NULL && n < 15; k++) keys[n++] = *k;
  keys[n] = NULL;
  RQ_TRY(rq__json_only_keys(obj, WHERE, path, keys));
  rq_status s = parse_side(obj, path, 'w', base, out);
  if (s == RQ_OK) s = parse_side(obj, path, 'a', base, out);
  if (s != RQ_OK) qconfig_free(out);
  return s;
}

static rq_status check_deployable(const rq_quantizer *q, const rq__qconfig *qc, const char *path) {
  char where[200];
  snprintf(where, sizeof where, "%s: %s%sw_qscheme", WHERE, path, path[0] ? "." : "");
  RQ_TRY(rq__backend_check_qscheme(q->backend, true, &qc->w, where));
  snprintf(where, sizeof where, "%s: %s%sa_qscheme", WHERE, path, path[0] ? "." : "");
  return rq__backend_check_qscheme(q->backend, false, &qc->a, where);
}

static rq_status parse_list_key(const json_t *obj, const char *path, const char *key, rq__string_list *out) {
  const json_t *arr;
  RQ_TRY(rq__json_get_string_array(obj, WHERE, path, key, &arr));
  return arr == NULL ? RQ_OK : rq__string_list_from_json(arr, WHERE, out);
}

static rq_status parse_quantizer_section(const json_t *root, rq_quantizer *q) {
  static const char *const keys[] = {"type", "tracer", "extra_redundant_fakequants", "qconfigs",
                                     "backend", "global_qconfig", NULL};
  const json_t *section;
  RQ_TRY(rq__json_get_object(root, WHERE, "", "quantizer", &section));
  if (section == NULL) return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "quantizer: missing (e.g. {\"type\": \"mmrazor.OpenVINOQuantizer\"})");
  RQ_TRY(rq__json_only_keys(section, WHERE, "quantizer", keys));
  const char *type = NULL;
  const json_t *backend_def;
  RQ_TRY(rq__json_get_string(section, WHERE, "quantizer", "type", &type));
  RQ_TRY(rq__json_get_object(section, WHERE, "quantizer", "backend", &backend_def));
  if (type == NULL) return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "quantizer.type: missing");
  if (backend_def != NULL) {
    /* A custom backend inline; "type" then only names the quantizer class. */
    char *text = json_dumps(backend_def, JSON_COMPACT);
    if (text == NULL) return rq__nomem(WHERE, 0);
    rq_status s = rq_backend_config_create(text, &q->backend);
    free(text);
    if (s != RQ_OK) {
      char detail[512];
      snprintf(detail, sizeof detail, "%s", rq_last_error()); /* rq__fail overwrites the message */
      return rq__fail(s, WHERE, "quantizer.backend: %s", detail);
    }
  } else {
    rq_status s = rq_backend_config_create(type, &q->backend);
    if (s != RQ_OK) return rq__fail(s, WHERE, "quantizer.type: '%s' names no backend (built-in: "
                                     "mmrazor.NativeQuantizer, OpenVINOQuantizer, TensorRTQuantizer, "
                                     "AcademicQuantizer, ONNXRuntimeQuantizer, or a registered one)", type);
  }

  const json_t *tracer;
  RQ_TRY(rq__json_get_object(section, WHERE, "quantizer", "tracer", &tracer));
  if (tracer != NULL) {
    /* type and skipped_methods are MMRazor's torch.fx tracer settings: accepted
     * so configs port unchanged, and meaningless for an ONNX graph. */
    static const char *const tracer_keys[] = {"type", "skipped_nodes", "skipped_op_types", "skipped_methods",
                                              "skipped_module_names", "skipped_module_classes", "unmatched_nodes",
                                              NULL};
    RQ_TRY(rq__json_only_keys(tracer, WHERE, "quantizer.tracer", tracer_keys));
    RQ_TRY(parse_list_key(tracer, "quantizer.tracer", "skipped_nodes", &q->skipped_nodes));
    RQ_TRY(parse_list_key(tracer, "quantizer.tracer", "skipped_op_types", &q->skipped_op_types));
    RQ_TRY(parse_list_key(tracer, "quantizer.tracer", "unmatched_nodes", &q->unmatched_nodes));
    for (size_t i = 0; i < q->unmatched_nodes.count; i++)
      if (rq__string_list_has(&q->skipped_nodes, q->unmatched_nodes.items[i]))
        return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "quantizer.tracer.unmatched_nodes: '%s' is in skipped_nodes too "
                        "(a skipped node stays float; an unmatched one is quantized around)", q->unmatched_nodes.items[i]);
    const json_t *ignored;
    RQ_TRY(rq__json_get_string_array(tracer, WHERE, "quantizer.tracer", "skipped_methods", &ignored));
    RQ_TRY(rq__json_get_string_array(tracer, WHERE, "quantizer.tracer", "skipped_module_names", &ignored));
    RQ_TRY(rq__json_get_string_array(tracer, WHERE, "quantizer.tracer", "skipped_module_classes", &ignored));
  }
  const json_t *extra;
  RQ_TRY(rq__json_get_object(section, WHERE, "quantizer", "extra_redundant_fakequants", &extra));
  if (extra != NULL) {
    static const char *const extra_keys[] = {"before", "after", NULL};
    RQ_TRY(rq__json_only_keys(extra, WHERE, "quantizer.extra_redundant_fakequants", extra_keys));
    RQ_TRY(parse_list_key(extra, "quantizer.extra_redundant_fakequants", "before", &q->extra_no_fakequant_before));
    RQ_TRY(parse_list_key(extra, "quantizer.extra_redundant_fakequants", "after", &q->extra_no_fakequant_after));
  }

  return RQ_OK;
}

/* Per-node / per-op-type qconfigs; parsed after the global qconfig, which
 * they inherit from. */
static rq_status parse_overrides(const json_t *section, rq_quantizer *q) {
  const json_t *qconfigs = json_object_get(section, "qconfigs");
  if (qconfigs != NULL) {
    if (!json_is_array(qconfigs))
      return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "quantizer.qconfigs: expected an array of {\"nodes\"/\"op_types\", qconfig keys}");
    if (json_array_size(qconfigs) > 0 && !q->backend->per_node_qconfig)
      return rq__fail(RQ_ERR_UNSUPPORTED, WHERE, "quantizer.qconfigs: backend %s deploys one qconfig for the whole "
                      "model; per-node qconfigs (mixed precision) need a backend with per_node_qconfig, e.g. academic",
                      q->backend->name);
    size_t n = json_array_size(qconfigs);
    q->overrides = rq__calloc(n == 0 ? 1 : n, sizeof *q->overrides);
    if (q->overrides == NULL) return rq__nomem(WHERE, n * sizeof *q->overrides);
    for (size_t i = 0; i < n; i++) {
      char path[64];
      snprintf(path, sizeof path, "quantizer.qconfigs[%zu]", i);
      const json_t *item = json_array_get(qconfigs, i);
      if (!json_is_object(item)) return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "%s: expected an object", path);
      rq__qconfig_override *o = &q->overrides[i];
      static const char *const match_keys[] = {"nodes", "op_types", NULL};
      RQ_TRY(parse_qconfig(item, path, &q->global, match_keys, &o->qconfig));
      q->n_overrides = i + 1;
      RQ_TRY(parse_list_key(item, path, "nodes", &o->nodes));
      RQ_TRY(parse_list_key(item, path, "op_types", &o->op_types));
      if (o->nodes.count == 0 && o->op_types.count == 0)
        return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "%s: names no \"nodes\" or \"op_types\" to apply to", path);
      RQ_TRY(check_deployable(q, &o->qconfig, path));
    }
  }
  return RQ_OK;
}

void rq_quantizer_destroy(rq_quantizer *q) {
  if (q == NULL) return;
  rq_backend_config_destroy(q->backend);
  qconfig_free(&q->global);
  for (size_t i = 0; i < q->n_overrides; i++) {
    qconfig_free(&q->overrides[i].qconfig);
    rq__string_list_free(&q->overrides[i].nodes);
    rq__string_list_free(&q->overrides[i].op_types);
  }
  rq__free(q->overrides);
  rq__string_list_free(&q->skipped_nodes);
  rq__string_list_free(&q->skipped_op_types);
  rq__string_list_free(&q->unmatched_nodes);
  rq__string_list_free(&q->extra_no_fakequant_before);
  rq__string_list_free(&q->extra_no_fakequant_after);
  rq__free(q);
}

/* MMRazor's PTQLoop reconstruction_cfg: {"pattern": "layer", "loss":
 * {"type": "mmrazor.AdaRoundLoss", "iters", "weight", "beta_range",
 * "warm_up"}, "lr"}; every key optional. Used by the weights whose
 * w_fake_quant is an AdaRoundFakeQuantize. */
static rq_status parse_reconstruction(const json_t *root, rq__adaround_options *o) {
  /* The regulariser and optimiser of AdaRound's paper and BRECQ's code, with
   * MMRazor's 10000 iterations (doc/config.md says where MMRazor's own
   * AdaRoundLoss defaults differ). */
  *o = (rq__adaround_options){.iters = 10000, .weight = 0.01, .beta_start = 20.0, .beta_end = 2.0, .warm_up = 0.2,
                              .lr = 1e-3};
  const json_t *rec = NULL, *loss = NULL, *range = NULL;
  RQ_TRY(rq__json_get_object(root, WHERE, "", "reconstruction", &rec));
  if (rec == NULL) return RQ_OK;
  static const char *const rec_keys[] = {"pattern", "loss", "lr", NULL};
  static const char *const loss_keys[] = {"type", "iters", "weight", "beta_range", "warm_up", NULL};
  RQ_TRY(rq__json_only_keys(rec, WHERE, "reconstruction", rec_keys));
  const char *pattern = "layer", *type = "AdaRoundLoss";
  RQ_TRY(rq__json_get_string(rec, WHERE, "reconstruction", "pattern", &pattern));
  if (strcmp(pattern, "layer") != 0)
    return rq__fail(RQ_ERR_UNSUPPORTED, WHERE,
                    "reconstruction.pattern: '%s' is not supported (\"layer\": each Conv/Gemm on its own)", pattern);
  RQ_TRY(rq__json_get_number(rec, WHERE, "reconstruction", "lr", 1e-9, 10.0, &o->lr));
  RQ_TRY(rq__json_get_object(rec, WHERE, "reconstruction", "loss", &loss));
  if (loss == NULL) return RQ_OK;
  RQ_TRY(rq__json_only_keys(loss, WHERE, "reconstruction.loss", loss_keys));
  RQ_TRY(rq__json_get_string(loss, WHERE, "reconstruction.loss", "type", &type));
  if (strcmp(type, "AdaRoundLoss") != 0 && strcmp(type, "mmrazor.AdaRoundLoss") != 0)
    return rq__fail(RQ_ERR_UNSUPPORTED, WHERE, "reconstruction.loss.type: '%s' is not supported (mmrazor.AdaRoundLoss)",
                    type);
  RQ_TRY(rq__json_get_int(loss, WHERE, "reconstruction.loss", "iters", 1, 10000000, &o->iters));
  RQ_TRY(rq__json_get_number(loss, WHERE, "reconstruction.loss", "weight", 0.0, 1e6, &o->weight));
  RQ_TRY(rq__json_get_number(loss, WHERE, "reconstruction.loss", "warm_up", 0.0, 0.999, &o->warm_up));
  range = json_object_get(loss, "beta_range");
  if (range != NULL) {
    double start = json_number_value(json_array_get(range, 0)), end = json_number_value(json_array_get(range, 1));
    if (!json_is_array(range) || json_array_size(range) != 2 || !json_is_number(json_array_get(range, 0)) ||
        !json_is_number(json_array_get(range, 1)) || !(end >= 1.0 && start >= end && start <= 1000.0))
      return rq__fail(RQ_ERR_INVALID_ARG, WHERE,
                      "reconstruction.loss.beta_range: expected [start, end] with 1 <= end <= start <= 1000");
    o->beta_start = start;
    o->beta_end = end;
  }
  return RQ_OK;
}

static rq_status parse_config(const json_t *root, rq_quantizer *q) {
  static const char *const keys[] = {"global_qconfig", "quantizer", "calibrate_steps", "calibrate_batch_size",
                                     "calibrate_with_fake_quant", "bias_correction", "reconstruction", NULL};
  RQ_TRY(rq__json_only_keys(root, WHERE, "", keys));
  /* The backend first: the qconfig is checked against it. */
  RQ_TRY(parse_quantizer_section(root, q));
  const json_t *global;
  RQ_TRY(rq__json_get_object(root, WHERE, "", "global_qconfig", &global));
  if (global == NULL) {
    /* MMRazor also nests it in the quantizer section. */
    RQ_TRY(rq__json_get_object(json_object_get(root, "quantizer"), WHERE, "quantizer", "global_qconfig", &global));
    if (global == NULL) return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "global_qconfig: missing");
    RQ_TRY(parse_qconfig(global, "quantizer.global_qconfig", NULL, NULL, &q->global));
    RQ_TRY(check_deployable(q, &q->global, "quantizer.global_qconfig"));
  } else {
    RQ_TRY(parse_qconfig(global, "global_qconfig", NULL, NULL, &q->global));
    RQ_TRY(check_deployable(q, &q->global, "global_qconfig"));
  }
  RQ_TRY(parse_overrides(json_object_get(root, "quantizer"), q));
  q->calibrate_steps = 32;
  q->calibrate_batch_size = 32;
  q->calibrate_with_fake_quant = true;
  RQ_TRY(rq__json_get_int(root, WHERE, "", "calibrate_steps", 1, 1000000, &q->calibrate_steps));
  RQ_TRY(rq__json_get_int(root, WHERE, "", "calibrate_batch_size", 1, 1000000, &q->calibrate_batch_size));
  RQ_TRY(rq__json_get_bool(root, WHERE, "", "calibrate_with_fake_quant", &q->calibrate_with_fake_quant));
  q->bias_correction = false;
  RQ_TRY(rq__json_get_bool(root, WHERE, "", "bias_correction", &q->bias_correction));
  return parse_reconstruction(root, &q->adaround);
}

rq_status rq_quantizer_create(const char *config_json, rq_quantizer **out) {
  RQ_CHECK_NOT_NULL(out);
  *out = NULL;
  RQ_CHECK_NOT_NULL(config_json);
  json_t *root;
  RQ_TRY(rq__json_parse_object(config_json, WHERE, &root));
  rq_quantizer *q = rq__calloc(1, sizeof *q);
  if (q == NULL) {
    json_decref(root);
    return rq__nomem(__func__, sizeof *q);
  }
  rq_status s = parse_config(root, q);
  char *canonical = s == RQ_OK ? json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
  if (canonical != NULL) {
    q->config_hash = XXH3_64bits(canonical, strlen(canonical));
    free(canonical);
  } else if (s == RQ_OK) {
    s = rq__nomem(__func__, 0);
  }
  /* The global qconfig's JSON objects copy what they keep, so the parse tree can go. */
  json_decref(root);
  if (s != RQ_OK) {
    rq_quantizer_destroy(q);
    return s;
  }
  *out = q;
  return RQ_OK;
}

const rq_backend_config *rq_quantizer_backend(const rq_quantizer *q) {
  if (q == NULL) {
    rq__fail(RQ_ERR_INVALID_ARG, __func__, "quantizer is NULL");
    return NULL;
  }
  return q->backend;
}

const rq__qconfig *rq__quantizer_qconfig_for(const rq_quantizer *q, const char *node_name, const char *op_type) {
  /* Later overrides win, so a general rule can be refined below it. */
  for (size_t i = q->n_overrides; i-- > 0;) {
    const rq__qconfig_override *o = &q->overrides[i];
    if ((node_name != NULL && rq__string_list_has(&o->nodes, node_name)) ||
        (op_type != NULL && rq__string_list_has(&o->op_types, op_type)))
      return &o->qconfig;
  }
  return &q->global;
}

static rq_status check_names(const rq__string_list *names, const rq_graph *g, const char *path) {
  for (size_t i = 0; i < names->count; i++) {
    bool found = false;
    for (size_t n = 0; n < rq_graph_node_count(g) && !found; n++) {
      const char *op_type, *name;
      found = rq_graph_node_info(g, n, &op_type, &name) == RQ_OK && name != NULL && strcmp(name, names->items[i]) == 0;
    }
    if (!found)
      return rq__fail(RQ_ERR_INVALID_ARG, WHERE, "%s: the model has no node named '%s' (razorq inspect lists the op "
                      "types; node names are the ONNX NodeProto names)", path, names->items[i]);
  }
  return RQ_OK;
}

rq_status rq__quantizer_check_node_names(const rq_quantizer *q, const rq_graph *g) {
  RQ_TRY(check_names(&q->skipped_nodes, g, "quantizer.tracer.skipped_nodes"));
  RQ_TRY(check_names(&q->unmatched_nodes, g, "quantizer.tracer.unmatched_nodes"));
  for (size_t i = 0; i < q->n_overrides; i++) {
    char path[64];
    snprintf(path, sizeof path, "quantizer.qconfigs[%zu].nodes", i);
    RQ_TRY(check_names(&q->overrides[i].nodes, g, path));
  }
  return RQ_OK;
}
