/* SPDX-License-Identifier: Apache-2.0 */
/* razorq test: top-1 accuracy of a model on labelled data. */
#include "cli_util.h"

#include <stdlib.h>
#include <string.h>

/* Runs batches through either the executor (a float or exported model) or a
 * quantization session (fake-quantized in process), counting top-1 hits. */
static int evaluate(const rq_graph *model, rq_session *session, const rq_cli_data *x, const DLTensor *y, size_t batch,
                    int quiet, float **all_logits, int64_t *n_classes, size_t *correct, size_t *total) {
  int64_t n = x->samples;
  rq_cli_progress bar;
  size_t batches = (size_t)((n + (int64_t)batch - 1) / (int64_t)batch);
  rq_cli_progress_start(&bar, "evaluating", batches, quiet);
  const int64_t *labels = (const int64_t *)((const char *)y->data + y->byte_offset);
  int64_t shapes[RQ_CLI_MAX_INPUTS][RQ_NPY_MAX_DIMS];
  DLTensor xb[RQ_CLI_MAX_INPUTS];
  *correct = *total = 0;
  for (size_t b = 0; b < batches; b++) {
    int64_t first = (int64_t)(b * batch), rows = (int64_t)batch;
    if (first + rows > n) rows = n - first;
    rq_cli_data_batch(x, first, rows, xb, shapes);
    rq_tensor_list *out = NULL;
    rq_status s = session != NULL ? rq_session_run(session, xb, x->n, &out) : rq_graph_run(model, NULL, xb, x->n, &out);
    if (s != RQ_OK) {
      rq_cli_progress_end(&bar);
      return rq_cli_fail("test", s);
    }
    const DLTensor *logits;
    rq_tensor_list_get(out, 0, NULL, &logits);
    if (logits->ndim != 2 || logits->shape[0] != rows || logits->dtype.code != kDLFloat || logits->dtype.bits != 32) {
      rq_tensor_list_destroy(out);
      rq_cli_progress_end(&bar);
      fprintf(stderr, "razorq test: the model's first output must be float32 [N, classes] logits\n");
      return RQ_CLI_FAILED;
    }
    int64_t classes = logits->shape[1];
    const float *l = (const float *)((const char *)logits->data + logits->byte_offset);
    if (all_logits != NULL) {
      /* Kept for --save-logits: sized once the first batch shows the class count. */
      if (*all_logits == NULL) {
        *n_classes = classes;
        *all_logits = malloc((size_t)(n * classes) * sizeof **all_logits);
        if (*all_logits == NULL) {
          rq_tensor_list_destroy(out);
          rq_cli_progress_end(&bar);
          fprintf(stderr, "razorq test: out of memory keeping the logits\n");
          return RQ_CLI_FAILED;
        }
      }
      memcpy(*all_logits + first * classes, l, (size_t)(rows * classes) * sizeof *l);
    }
    for (int64_t r = 0; r < rows; r++) {
      int64_t best = 0;
      for (int64_t c = 1; c < classes; c++)
        if (l[r * classes + c] > l[r * classes + best]) best = c;
      *correct += best == labels[first + r];
      (*total)++;
    }
    rq_tensor_list_destroy(out);
    rq_cli_progress_update(&bar, b + 1);
  }
  rq_cli_progress_end(&bar);
  return RQ_CLI_OK;
}

static int run_test(int argc, char **argv) {
  const char *model_path = NULL, *labels = NULL, *config = NULL, *save_logits = NULL;
  rq_cli_specs data_specs = {.option = "--data"}, calib_specs = {.option = "--calib"};
  size_t batch = 64, steps = 0, calib_batch = 0;
  int json = 0, quiet = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--json") == 0) { json = 1; continue; }
    if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) { quiet = 1; continue; }
    if (a[0] == '-' && value == NULL) return rq_cli_usage_error("test", "%s needs a value", a);
    if (strcmp(a, "--data") == 0) { if (rq_cli_specs_add("test", &data_specs, argv[++i])) return RQ_CLI_USAGE; }
    else if (strcmp(a, "--labels") == 0) labels = argv[++i];
    else if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) config = argv[++i];
    else if (strcmp(a, "--calib") == 0) { if (rq_cli_specs_add("test", &calib_specs, argv[++i])) return RQ_CLI_USAGE; }
    else if (strcmp(a, "--save-logits") == 0) save_logits = argv[++i];
    else if (strcmp(a, "--batch") == 0) { if (rq_cli_parse_size("test", a, argv[++i], &batch)) return RQ_CLI_USAGE; }
    else if (strcmp(a, "--steps") == 0) { if (rq_cli_parse_size("test", a, argv[++i], &steps)) return RQ_CLI_USAGE; }
    else if (strcmp(a, "--calib-batch") == 0) { if (rq_cli_parse_size("test", a, argv[++i], &calib_batch)) return RQ_CLI_USAGE; }
    else if (a[0] == '-') return rq_cli_usage_error("test", "unknown option %s", a);
    else if (model_path == NULL) model_path = a;
    else return rq_cli_usage_error("test", "unexpected argument '%s'", a);
  }
  if (model_path == NULL || data_specs.n == 0 || labels == NULL)
    return rq_cli_usage_error("test", "MODEL.onnx, --data and --labels are required");
  if ((config == NULL) != (calib_specs.n == 0))
    return rq_cli_usage_error("test", "--config and --calib go together (to test the fake-quantized model)");

  int rc = RQ_CLI_FAILED;
  rq_graph *model = NULL;
  rq_quantizer *q = NULL;
  rq_session *session = NULL;
  rq_npy *ys = NULL;
  rq_cli_data calib = {0}, x = {0};
  rq_status s = rq_graph_load(model_path, &model);
  if (s != RQ_OK) return rq_cli_fail("test", s);
  if (config != NULL) {
    if (rq_cli_load_quantizer("test", config, &q) != RQ_CLI_OK) goto done;
    if ((rc = rq_cli_data_load("test", model, &calib_specs, 1, &calib)) != RQ_CLI_OK) goto done;
    if ((rc = rq_cli_quantize("test", q, model, &calib, steps, calib_batch, quiet, &session)) != RQ_CLI_OK) goto done;
    rq_cli_data_free(&calib);
  }
  if ((rc = rq_cli_data_load("test", model, &data_specs, 1, &x)) != RQ_CLI_OK) goto done;
  rc = RQ_CLI_FAILED;
  if ((s = rq_npy_load(labels, &ys)) != RQ_OK) {
    rc = rq_cli_fail("test", s);
    goto done;
  }
  DLTensor y;
  rq_npy_dltensor(ys, &y);
  if (y.ndim != 1 || y.dtype.code != kDLInt || y.dtype.bits != 64 || y.shape[0] != x.samples) {
    fprintf(stderr, "razorq test: --labels must be int64 [N] with N = the samples of --data (%lld)\n",
            (long long)x.samples);
    goto done;
  }
  size_t correct, total;
  float *logits = NULL;
  int64_t classes = 0;
  rc = evaluate(model, session, &x, &y, x.unbatched ? 1 : batch, quiet, save_logits != NULL ? &logits : NULL, &classes, &correct, &total);
  if (rc == RQ_CLI_OK && logits != NULL) {
    int64_t shape[2] = {x.samples, classes};
    DLTensor t = {.data = logits, .device = {kDLCPU, 0}, .ndim = 2, .dtype = {kDLFloat, 32, 1}, .shape = shape};
    if ((s = rq_npy_save(save_logits, &t)) != RQ_OK) rc = rq_cli_fail("test", s);
  }
  free(logits);
  if (rc == RQ_CLI_OK) {
    double top1 = total ? (double)correct / (double)total : 0.0;
    if (json)
      printf("{\"model\": \"%s\", \"fake_quantized\": %s, \"samples\": %zu, \"correct\": %zu, \"top1\": %.6f}\n",
             model_path, session != NULL ? "true" : "false", total, correct, top1);
    else
      printf("top-1: %.4f (%zu/%zu)%s\n", top1, correct, total, session != NULL ? " fake-quantized" : "");
  }
done:
  rq_cli_data_free(&calib);
  rq_cli_data_free(&x);
  rq_npy_destroy(ys);
  rq_session_destroy(session);
  rq_quantizer_destroy(q);
  rq_graph_destroy(model);
  return rc;
}

const rq_cli_command rq_cli_cmd_test = {
  "test", "measure top-1 accuracy of a float, exported or fake-quantized model",
  "Usage: razorq test MODEL.onnx --data [NAME=]X.npy ... --labels Y.npy [--batch B]\n"
  "                   [--json] [--save-logits F.npy]\n"
  "                   [--config CFG.json --calib [NAME=]C.npy ... [--steps N] [--calib-batch B]]\n\n"
  "Runs MODEL.onnx on X.npy (samples along the first axis) and prints the\n"
  "top-1 accuracy against Y.npy (int64 class labels). The model's first output\n"
  "must be [N, classes] logits. Works on float models and on exported QDQ models.\n"
  "With --config and --calib, the model is quantized in process first (as\n"
  "'razorq ptq' would) and razorq's fake-quantized model is evaluated.\n\n"
  "  --data [NAME=]X.npy inputs, one --data per model input, each with the same\n"
  "                      N samples: NAME=X.npy binds by input name, plain files\n"
  "                      fill the other inputs in the model's order\n"
  "  --labels Y.npy      int64 labels, one per sample\n"
  "  --batch B           samples per run (default 64)\n"
  "  --json              print one JSON object instead of text\n"
  "  --save-logits F.npy write the model's first output for every sample\n"
  "  -c, --config FILE   quantization config; requires --calib\n"
  "  --calib [NAME=]C.npy calibration inputs for --config, given as --data is\n"
  "  --steps N           calibration batches (default: the config's calibrate_steps)\n"
  "  --calib-batch B     calibration batch size (default: calibrate_batch_size)\n"
  "  -q, --quiet         no notes or progress bar\n",
  run_test,
};
