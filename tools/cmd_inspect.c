/* SPDX-License-Identifier: Apache-2.0 */
/* razorq inspect: what is in an ONNX model. */
#include "cli_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void print_value(const char *role, const rq_value_info *info) {
  const char *wrap = info->kind == RQ_VALUE_SEQUENCE                                         ? "sequence of "
                     : info->kind == RQ_VALUE_OPTIONAL && info->inner_kind == RQ_VALUE_SEQUENCE ? "optional sequence of "
                     : info->kind == RQ_VALUE_OPTIONAL                                        ? "optional "
                                                                                              : "";
  printf("  %s %s: %s%s [", role, info->name, wrap, rq_onnx_type_name(info->onnx_type));
  if (info->ndim < 0) printf("?");
  for (int d = 0; d < info->ndim; d++) {
    if (d) printf(", ");
    if (info->dims[d] >= 0) printf("%lld", (long long)info->dims[d]);
    else printf("%s", info->dim_names[d] != NULL ? info->dim_names[d] : "?");
  }
  printf("]\n");
}

/* Quantizes in process and lists every fake-quant place with its qparams
 * and the SQNR between float and fake-quantized tensors on `data` (its
 * first 256 samples; the calibration data when none is given). */
static int inspect_quantized(const rq_graph *g, const char *config, const rq_cli_specs *calib_specs,
                             const rq_cli_specs *data_specs, size_t steps, size_t batch) {
  rq_quantizer *q;
  if (rq_cli_load_quantizer("inspect", config, &q) != RQ_CLI_OK) return RQ_CLI_FAILED;
  rq_session *session = NULL;
  rq_cli_data calib, data = {0};
  int rc = rq_cli_data_load("inspect", g, calib_specs, 1, &calib);
  if (rc == RQ_CLI_OK) rc = rq_cli_quantize("inspect", q, g, &calib, steps, batch, 1, &session);
  rq_quantizer_destroy(q);
  const rq_cli_data *sqnr_data = &calib;
  if (rc == RQ_CLI_OK && data_specs->n > 0) {
    rc = rq_cli_data_load("inspect", g, data_specs, 1, &data);
    sqnr_data = &data;
  }
  if (rc != RQ_CLI_OK) {
    rq_cli_data_free(&calib);
    rq_cli_data_free(&data);
    rq_session_destroy(session);
    return rc;
  }
  int64_t shapes[RQ_CLI_MAX_INPUTS][RQ_NPY_MAX_DIMS];
  DLTensor x[RQ_CLI_MAX_INPUTS];
  int64_t rows = sqnr_data->unbatched ? 1 : sqnr_data->samples > 256 ? 256 : sqnr_data->samples;
  rq_cli_data_batch(sqnr_data, 0, rows, x, shapes);
  const char *source = (data_specs->n > 0 ? data_specs : calib_specs)->items[0];
  size_t n = rq_session_point_count(session), count = 0;
  double *sqnr = malloc((n > 0 ? n : 1) * sizeof *sqnr);
  rq_status s = sqnr != NULL ? rq_session_sqnr(session, x, sqnr_data->n, sqnr, n, &count)
                              : rq_error_set(RQ_ERR_NOMEM, "out of memory");
  if (s == RQ_OK) {
    printf("  quantized places (%s backend plan, SQNR on %lld samples of %s%s):\n", "the config's", (long long)rows,
           source, sqnr_data->n > 1 ? " and the other inputs' files" : "");
    printf("    %-8s %-44s %-22s %-10s %s\n", "kind", "edge", "scale", "zero pt", "SQNR dB");
    for (size_t i = 0; i < n; i++) {
      const char *edge;
      bool is_weight;
      rq_fake_quant *fq;
      rq_session_point_info(session, i, &edge, &is_weight, &fq);
      float scale[1];
      float zp[1];
      size_t channels = 0;
      rq_fake_quant_get_params(fq, NULL, NULL, 0, &channels);
      char scale_text[32], zp_text[16];
      if (channels == 1 && rq_fake_quant_get_params(fq, scale, zp, 1, &channels) == RQ_OK) {
        snprintf(scale_text, sizeof scale_text, "%.6g", (double)scale[0]);
        snprintf(zp_text, sizeof zp_text, "%d", (int)zp[0]);
      } else {
        snprintf(scale_text, sizeof scale_text, "per-channel (%zu)", channels);
        snprintf(zp_text, sizeof zp_text, "-");
      }
      printf("    %-8s %-44s %-22s %-10s %.2f\n", is_weight ? "weight" : "act", edge, scale_text, zp_text, sqnr[i]);
    }
  }
  free(sqnr);
  rq_cli_data_free(&calib);
  rq_cli_data_free(&data);
  rq_session_destroy(session);
  return s == RQ_OK ? RQ_CLI_OK : rq_cli_fail("inspect", s);
}

/* ---- an exported QDQ model ---- */

/* One DequantizeLinear of a QDQ model: the float edge it stands for (a
 * QuantizeLinear's input, behind the Clip razorq writes for a narrow range;
 * for a weight, the quantized initializer), its output, and the error sums
 * for the SQNR. */
typedef struct qdq_place {
  const char *edge, *out, *kind; /* kind: "act", "weight" or "bias" (int32) */
  bool is_weight;
  DLTensor scale, zero_point; /* zero_point.data NULL when omitted */
  double signal, noise;
  float *pending;             /* the float edge's values, until the output arrives */
  size_t pending_n;
} qdq_place;

typedef struct qdq_places {
  qdq_place *items;
  size_t n;
} qdq_places;

static long node_producing(const rq_graph *g, const char *edge) {
  for (size_t n = 0; n < rq_graph_node_count(g); n++) {
    size_t n_in, n_out;
    rq_graph_node_arity(g, n, &n_in, &n_out);
    for (size_t k = 0; k < n_out; k++) {
      const char *name;
      if (rq_graph_node_output(g, n, k, &name) == RQ_OK && strcmp(name, edge) == 0) return (long)n;
    }
  }
  return -1;
}

static bool node_is(const rq_graph *g, long n, const char *op) {
  const char *op_type;
  return n >= 0 && rq_graph_node_info(g, (size_t)n, &op_type, NULL) == RQ_OK && strcmp(op_type, op) == 0;
}

static const char *input_of(const rq_graph *g, long n, size_t slot) {
  size_t n_in, n_out;
  const char *name = "";
  if (rq_graph_node_arity(g, (size_t)n, &n_in, &n_out) == RQ_OK && slot < n_in) rq_graph_node_input(g, (size_t)n, slot, &name);
  return name;
}

static int find_qdq_places(const rq_graph *g, qdq_places *out) {
  out->items = calloc(rq_graph_node_count(g) + 1, sizeof *out->items);
  out->n = 0;
  if (out->items == NULL) return RQ_CLI_FAILED;
  for (size_t n = 0; n < rq_graph_node_count(g); n++) {
    if (!node_is(g, (long)n, "DequantizeLinear")) continue;
    qdq_place *p = &out->items[out->n];
    const char *x = input_of(g, (long)n, 0);
    long q = node_producing(g, x);
    p->is_weight = !node_is(g, q, "QuantizeLinear");
    p->edge = p->is_weight ? x : input_of(g, q, 0);
    /* The Clip razorq writes before a narrow-range QuantizeLinear is named
     * "<edge>_Clip"; a model's own Clip (a ReLU6) is an edge of its own. */
    long clip = node_producing(g, p->edge);
    const char *clip_name = NULL;
    if (!p->is_weight && node_is(g, clip, "Clip") && rq_graph_node_info(g, (size_t)clip, NULL, &clip_name) == RQ_OK) {
      const char *clipped = input_of(g, clip, 0);
      size_t len = strlen(clipped);
      if (strncmp(clip_name, clipped, len) == 0 && strcmp(clip_name + len, "_Clip") == 0) p->edge = clipped;
    }
    rq_graph_node_output(g, n, 0, &p->out);
    DLTensor stored;
    p->kind = !p->is_weight ? "act"
              : rq_graph_initializer(g, x, &stored) == RQ_OK && stored.dtype.bits == 32 ? "bias"
                                                                                     : "weight";
    if (rq_graph_initializer(g, input_of(g, (long)n, 1), &p->scale) != RQ_OK) continue; /* not a constant scale */
    const char *zp = input_of(g, (long)n, 2);
    if (zp[0] == '\0' || rq_graph_initializer(g, zp, &p->zero_point) != RQ_OK) p->zero_point.data = NULL;
    out->n++;
  }
  return RQ_CLI_OK;
}

static size_t numel(const DLTensor *t) {
  size_t n = 1;
  for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
  return n;
}

static double element(const DLTensor *t, size_t i) {
  const char *p = (const char *)t->data + t->byte_offset;
  if (t->dtype.code == kDLFloat && t->dtype.bits == 32) return ((const float *)p)[i];
  if (t->dtype.code == kDLInt && t->dtype.bits == 8) return ((const int8_t *)p)[i];
  if (t->dtype.code == kDLUInt && t->dtype.bits == 8) return ((const uint8_t *)p)[i];
  if (t->dtype.code == kDLInt && t->dtype.bits == 16) return ((const int16_t *)p)[i];
  if (t->dtype.code == kDLUInt && t->dtype.bits == 16) return ((const uint16_t *)p)[i];
  if (t->dtype.code == kDLInt && t->dtype.bits == 32) return ((const int32_t *)p)[i];
  return NAN;
}

/* The hook: a float edge's values wait for its DequantizeLinear output. */
static rq_status sqnr_hook(void *user, const char *edge, DLTensor *value) {
  qdq_places *places = user;
  if (value->dtype.code != kDLFloat || value->dtype.bits != 32) return RQ_OK;
  size_t n = numel(value);
  const float *v = (const float *)((const char *)value->data + value->byte_offset);
  for (size_t i = 0; i < places->n; i++) {
    qdq_place *p = &places->items[i];
    if (p->is_weight) continue;
    if (strcmp(p->edge, edge) == 0) {
      free(p->pending);
      p->pending = malloc((n ? n : 1) * sizeof *p->pending);
      if (p->pending == NULL) return rq_error_set(RQ_ERR_NOMEM, "razorq inspect: out of memory");
      memcpy(p->pending, v, n * sizeof *v);
      p->pending_n = n;
    }
    if (strcmp(p->out, edge) == 0 && p->pending != NULL && p->pending_n == n) {
      for (size_t k = 0; k < n; k++) {
        double d = (double)p->pending[k] - (double)v[k];
        p->signal += (double)p->pending[k] * p->pending[k];
        p->noise += d * d;
      }
      free(p->pending);
      p->pending = NULL;
    }
  }
  return RQ_OK;
}

static double sqnr_db(double signal, double noise) {
  return noise == 0.0 ? INFINITY : 10.0 * log10(signal / noise);
}

/* Lists every quantized place of an exported QDQ model; with data, the SQNR
 * between each float edge and what its QuantizeLinear/DequantizeLinear
 * pair makes of it (on the first 256 samples). */
static int inspect_qdq(const rq_graph *g, const rq_cli_specs *data_specs) {
  qdq_places places;
  if (find_qdq_places(g, &places) != RQ_CLI_OK) {
    fprintf(stderr, "razorq inspect: out of memory\n");
    return RQ_CLI_FAILED;
  }
  int rc = RQ_CLI_OK;
  int64_t rows = 0;
  if (data_specs->n > 0 && places.n > 0) {
    rq_cli_data data;
    rc = rq_cli_data_load("inspect", g, data_specs, 1, &data);
    if (rc == RQ_CLI_OK) {
      int64_t shapes[RQ_CLI_MAX_INPUTS][RQ_NPY_MAX_DIMS];
      DLTensor x[RQ_CLI_MAX_INPUTS];
      rows = data.unbatched ? 1 : data.samples > 256 ? 256 : data.samples;
      rq_cli_data_batch(&data, 0, rows, x, shapes);
      rq_exec_options opts;
      rq_exec_options_init(&opts, sizeof opts);
      opts.hook = sqnr_hook;
      opts.hook_user = &places;
      rq_tensor_list *outs = NULL;
      rq_status s = rq_graph_run(g, &opts, x, data.n, &outs);
      rq_tensor_list_destroy(outs);
      if (s != RQ_OK) rc = rq_cli_fail("inspect", s);
    }
    rq_cli_data_free(&data);
  }
  if (rc == RQ_CLI_OK && places.n > 0) {
    if (rows)
      printf("  quantized places (QuantizeLinear/DequantizeLinear pairs, SQNR on %lld samples of %s):\n", (long long)rows,
             data_specs->items[0]);
    else
      printf("  quantized places (QuantizeLinear/DequantizeLinear pairs):\n");
    printf("    %-8s %-44s %-22s %-10s %s\n", "kind", "edge", "scale", "zero pt", rows ? "SQNR dB" : "");
    for (size_t i = 0; i < places.n; i++) {
      const qdq_place *p = &places.items[i];
      size_t channels = numel(&p->scale);
      char scale_text[48], zp_text[16], sqnr_text[16] = "";
      if (channels == 1) {
        snprintf(scale_text, sizeof scale_text, "%.6g", element(&p->scale, 0));
        snprintf(zp_text, sizeof zp_text, "%.0f", p->zero_point.data ? element(&p->zero_point, 0) : 0.0);
      } else {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t c = 0; c < channels; c++) {
          lo = fmin(lo, element(&p->scale, c));
          hi = fmax(hi, element(&p->scale, c));
        }
        snprintf(scale_text, sizeof scale_text, "%zu ch, %.3g..%.3g", channels, lo, hi);
        snprintf(zp_text, sizeof zp_text, "per-channel");
      }
      if (rows && !p->is_weight) snprintf(sqnr_text, sizeof sqnr_text, "%.2f", sqnr_db(p->signal, p->noise));
      printf("    %-8s %-44s %-22s %-10s %s\n", p->kind, p->edge, scale_text, zp_text, sqnr_text);
    }
  }
  for (size_t i = 0; i < places.n; i++) free(places.items[i].pending);
  free(places.items);
  return rc;
}

static bool has_qdq(const rq_graph *g) {
  for (size_t n = 0; n < rq_graph_node_count(g); n++)
    if (node_is(g, (long)n, "DequantizeLinear")) return true;
  return false;
}

static int run_inspect(int argc, char **argv) {
  const char *model_path = NULL, *config = NULL;
  rq_cli_specs calib = {.option = "--calib"}, data = {.option = "--data"};
  size_t steps = 0, batch = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] == '-' && i + 1 >= argc) return rq_cli_usage_error("inspect", "%s needs a value", a);
    if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) config = argv[++i];
    else if (strcmp(a, "--calib") == 0) { if (rq_cli_specs_add("inspect", &calib, argv[++i])) return RQ_CLI_USAGE; }
    else if (strcmp(a, "--data") == 0) { if (rq_cli_specs_add("inspect", &data, argv[++i])) return RQ_CLI_USAGE; }
    else if (strcmp(a, "--steps") == 0) { if (rq_cli_parse_size("inspect", a, argv[++i], &steps)) return RQ_CLI_USAGE; }
    else if (strcmp(a, "--batch") == 0) { if (rq_cli_parse_size("inspect", a, argv[++i], &batch)) return RQ_CLI_USAGE; }
    else if (a[0] == '-') return rq_cli_usage_error("inspect", "unknown option %s", a);
    else if (model_path != NULL) return rq_cli_usage_error("inspect", "unexpected argument '%s'", a);
    else model_path = a;
  }
  if (model_path == NULL) return rq_cli_usage_error("inspect", "MODEL.onnx is required");
  if ((config == NULL) != (calib.n == 0))
    return rq_cli_usage_error("inspect", "--config and --calib go together");
  rq_graph *g;
  rq_status s = rq_graph_load(model_path, &g);
  if (s != RQ_OK) return rq_cli_fail("inspect", s);
  if (config == NULL && data.n > 0 && !has_qdq(g)) {
    rq_graph_destroy(g);
    return rq_cli_usage_error("inspect", "--data needs --config and --calib (to quantize a float model in process) "
                              "or a quantized (QDQ) model");
  }
  uint64_t params = 0, fingerprint = 0;
  rq_graph_parameter_count(g, &params);
  rq_graph_fingerprint(g, &fingerprint);
  printf("%s\n", model_path);
  printf("  nodes: %zu, parameters: %llu, fingerprint: %016llx\n", rq_graph_node_count(g),
         (unsigned long long)params, (unsigned long long)fingerprint);
  for (size_t i = 0; i < rq_graph_input_count(g); i++) {
    rq_value_info info;
    rq_value_info_init(&info, sizeof info);
    rq_graph_input_info(g, i, &info);
    print_value("input", &info);
  }
  for (size_t i = 0; i < rq_graph_output_count(g); i++) {
    rq_value_info info;
    rq_value_info_init(&info, sizeof info);
    rq_graph_output_info(g, i, &info);
    print_value("output", &info);
  }
  printf("  ops:\n");
  size_t quantize_nodes = 0;
  for (size_t i = 0; i < rq_graph_op_type_count(g); i++) {
    const char *op;
    size_t count;
    rq_graph_op_type_info(g, i, &op, &count);
    printf("    %-24s %zu%s\n", op, count, rq_exec_supports_op(op) ? "" : "  (not supported by the executor)");
    if (strcmp(op, "QuantizeLinear") == 0 || strcmp(op, "DequantizeLinear") == 0) quantize_nodes += count;
  }
  if (quantize_nodes > 0) printf("  quantized: %zu QuantizeLinear/DequantizeLinear nodes\n", quantize_nodes);
  int rc = config != NULL ? inspect_quantized(g, config, &calib, &data, steps, batch)
           : quantize_nodes > 0 ? inspect_qdq(g, &data)
                                : RQ_CLI_OK;
  rq_graph_destroy(g);
  return rc;
}

const rq_cli_command rq_cli_cmd_inspect = {
  "inspect", "show a model's inputs, outputs, ops, parameter count and fingerprint",
  "Usage: razorq inspect MODEL.onnx [--data [NAME=]D.npy ...]\n"
  "       razorq inspect MODEL.onnx --config CFG.json --calib [NAME=]X.npy ...\n"
  "                      [--data [NAME=]D.npy ...]\n"
  "                      [--steps N] [--batch B]\n\n"
  "Prints the model's inputs and outputs with their types and shapes (symbolic\n"
  "dimensions by name), the node and parameter counts, the op types with their\n"
  "node counts (and which ones the executor cannot run), and the model's\n"
  "fingerprint: an XXH3-64 hash of structure and weights that ignores names.\n\n"
  "With --config and --calib, the model is quantized in process (as 'razorq ptq'\n"
  "would) and every quantized edge and weight is listed with its scale, zero point\n"
  "and the SQNR (dB) between the float and the fake-quantized tensor on D.npy (the\n"
  "first 256 samples; default: the calibration data). A low SQNR shows where\n"
  "quantization loses precision. --calib and --data take one file per model\n"
  "input, as 'razorq ptq --calib' does.\n\n"
  "On a quantized (QDQ) model, such as 'razorq ptq' exports, every\n"
  "QuantizeLinear/DequantizeLinear place is listed with the scale and zero point\n"
  "the file holds (act: the float edge it quantizes; weight and bias: the\n"
  "stored integer tensor), and with --data the SQNR between each float edge\n"
  "and its dequantized value on the first 256 samples.\n",
  run_inspect,
};
