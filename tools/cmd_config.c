/* SPDX-License-Identifier: Apache-2.0 */
/* razorq config: starting configs and backend definitions. */
#include "cli_util.h"

#include <stdlib.h>
#include <string.h>

static int print_sized(const char *what, rq_status (*get)(const void *, char *, size_t, size_t *), const void *arg) {
  size_t len = 0;
  rq_status s = get(arg, NULL, 0, &len);
  if (s != RQ_OK) return rq_cli_fail(what, s);
  char *text = malloc(len + 1);
  if (text == NULL) return rq_cli_fail(what, rq_error_set(RQ_ERR_NOMEM, "out of memory"));
  s = get(arg, text, len + 1, &len);
  if (s == RQ_OK) printf("%s%s", text, len > 0 && text[len - 1] == '\n' ? "" : "\n");
  free(text);
  return s == RQ_OK ? RQ_CLI_OK : rq_cli_fail(what, s);
}

static rq_status get_example(const void *backend, char *buf, size_t cap, size_t *len) {
  return rq_backend_config_example(backend, buf, cap, len);
}
static rq_status get_definition(const void *cfg, char *buf, size_t cap, size_t *len) {
  return rq_backend_config_to_json(cfg, buf, cap, len);
}

static int show_backend(const char *spec) {
  /* A file holds a custom JSON definition; anything else is a backend name. */
  char *text = strchr(spec, '/') != NULL || strstr(spec, ".json") != NULL ? rq_cli_read_text(spec) : NULL;
  if (text == NULL && (strchr(spec, '/') != NULL || strstr(spec, ".json") != NULL)) {
    fprintf(stderr, "razorq config: cannot read %s\n", spec);
    return RQ_CLI_FAILED;
  }
  rq_backend_config *cfg;
  rq_status s = rq_backend_config_create(text != NULL ? text : spec, &cfg);
  free(text);
  if (s != RQ_OK) return rq_cli_fail("config", s);
  int rc = print_sized("config", get_definition, cfg);
  rq_backend_config_destroy(cfg);
  return rc;
}

static int run_config(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--example") == 0) return print_sized("config", get_example, argv[2]);
  if (argc == 3 && strcmp(argv[1], "--backend") == 0) return show_backend(argv[2]);
  if (argc == 2 && strcmp(argv[1], "--list-backends") == 0) {
    const char *names[64];
    size_t count;
    rq_status s = rq_backend_config_list(names, 64, &count);
    if (s != RQ_OK) return rq_cli_fail("config", s);
    for (size_t i = 0; i < count && i < 64; i++) printf("%s\n", names[i]);
    return RQ_CLI_OK;
  }
  return rq_cli_usage_error("config", "expected --example BACKEND, --backend NAME|FILE or --list-backends");
}

const rq_cli_command rq_cli_cmd_config = {
  "config", "print a starting config or a backend definition",
  "Usage: razorq config --example BACKEND\n"
  "       razorq config --backend NAME|FILE.json\n"
  "       razorq config --list-backends\n\n"
  "--example BACKEND   print a starting quantizer config (JSON) for a built-in backend:\n"
  "                    MMRazor's PTQ qconfig for it (global_qconfig, quantizer,\n"
  "                    calibrate_steps, calibrate_batch_size). Edit it and pass it to\n"
  "                    'razorq ptq --config'. See doc/config.md for every key.\n"
  "--backend NAME|FILE print the complete definition of a backend: a built-in name\n"
  "                    (native, openvino, tensorrt, academic, onnxruntime, or MMRazor's\n"
  "                    quantizer class such as mmrazor.OpenVINOQuantizer) or a custom\n"
  "                    definition in a JSON file, validated. See doc/backends.md.\n"
  "--list-backends     list the built-in backends.\n",
  run_config,
};
