/* SPDX-License-Identifier: Apache-2.0 */
/* razorq run: run an ONNX model on .npy inputs. */
#include "cli_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Output names may hold '/' (ONNX exporters like "/fc/Gemm_output_0"); a file
 * name gets '_' instead. */
static void file_name_for(const char *dir, const char *edge, char *out, size_t size) {
  int n = snprintf(out, size, "%s/", dir);
  for (const char *c = edge; *c != '\0' && n >= 0 && (size_t)n + 5 < size; c++)
    out[n++] = (*c == '/' || *c == '\\' || *c == ':') ? '_' : *c;
  snprintf(out + n, size - (size_t)n, ".npy");
}

static int run_run(int argc, char **argv) {
  const char *model_path = NULL, *output = NULL, *outdir = NULL;
  rq_cli_specs specs = {.option = "--input"};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if ((strcmp(a, "--input") == 0 || strcmp(a, "-i") == 0 || strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ||
         strcmp(a, "--outdir") == 0) && i + 1 >= argc)
      return rq_cli_usage_error("run", "%s needs a value", a);
    if (strcmp(a, "--input") == 0 || strcmp(a, "-i") == 0) {
      if (rq_cli_specs_add("run", &specs, argv[++i]) != RQ_CLI_OK) return RQ_CLI_USAGE;
    } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
      output = argv[++i];
    } else if (strcmp(a, "--outdir") == 0) {
      outdir = argv[++i];
    } else if (a[0] == '-') {
      return rq_cli_usage_error("run", "unknown option %s", a);
    } else if (model_path == NULL) {
      model_path = a;
    } else {
      return rq_cli_usage_error("run", "unexpected argument '%s'", a);
    }
  }
  if (model_path == NULL) return rq_cli_usage_error("run", "MODEL.onnx is required");
  if (output != NULL && outdir != NULL) return rq_cli_usage_error("run", "give -o or --outdir, not both");

  rq_graph *g;
  rq_status s = rq_graph_load(model_path, &g);
  if (s != RQ_OK) return rq_cli_fail("run", s);
  rq_cli_data data;
  rq_tensor_list *outs = NULL;
  int rc = rq_cli_data_load("run", g, &specs, 0, &data);
  if (rc != RQ_CLI_OK) goto done;
  rc = RQ_CLI_FAILED;
  if ((s = rq_graph_run(g, NULL, data.all, data.n, &outs)) != RQ_OK) { rc = rq_cli_fail("run", s); goto done; }

  size_t n_out = rq_tensor_list_count(outs);
  if (output != NULL && n_out != 1) {
    rc = rq_cli_usage_error("run", "the model has %zu outputs: use --outdir DIR", n_out);
    goto done;
  }
  if (outdir != NULL && mkdir(outdir, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "razorq run: cannot create %s: %s\n", outdir, strerror(errno));
    goto done;
  }
  rc = RQ_CLI_OK;
  for (size_t j = 0; j < n_out && rc == RQ_CLI_OK; j++) {
    const char *name;
    const DLTensor *t;
    rq_tensor_list_get(outs, j, &name, &t);
    char path[4096];
    if (output != NULL) snprintf(path, sizeof path, "%s", output);
    else if (outdir != NULL) file_name_for(outdir, name, path, sizeof path);
    if (output != NULL || outdir != NULL) {
      if ((s = rq_npy_save(path, t)) != RQ_OK) rc = rq_cli_fail("run", s);
      continue;
    }
    /* No destination: a summary. */
    printf("%s: [", name);
    for (int d = 0; d < t->ndim; d++) printf("%s%lld", d ? ", " : "", (long long)t->shape[d]);
    printf("]");
    if (t->dtype.code == kDLFloat && t->dtype.bits == 32) {
      size_t numel = 1;
      for (int d = 0; d < t->ndim; d++) numel *= (size_t)t->shape[d];
      const float *v = (const float *)((const char *)t->data + t->byte_offset);
      printf(" float32:");
      for (size_t e = 0; e < numel && e < 8; e++) printf(" %g", (double)v[e]);
      if (numel > 8) printf(" ...");
    }
    printf("\n");
  }
done:
  rq_tensor_list_destroy(outs);
  rq_cli_data_free(&data);
  rq_graph_destroy(g);
  return rc;
}

const rq_cli_command rq_cli_cmd_run = {
  "run", "run an ONNX model on .npy inputs",
  "Usage: razorq run MODEL.onnx --input [NAME=]X.npy ... [-o Y.npy | --outdir DIR]\n\n"
  "Runs the model with razorq's reference executor.\n\n"
  "  -i, --input [NAME=]X.npy  one per graph input: NAME=FILE binds by input name,\n"
  "                            plain FILEs fill the other inputs in the model's order\n"
  "  -o, --output Y.npy        write the (single) output\n"
  "  --outdir DIR              write every output as DIR/<output name>.npy\n"
  "                            ('/' in a name becomes '_')\n"
  "Without -o or --outdir, prints each output's shape and first values.\n",
  run_run,
};
