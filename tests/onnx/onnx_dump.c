/* SPDX-License-Identifier: Apache-2.0 */
/* Reads paths (one per line) on stdin and prints what razorq makes of each:
 *   MODEL <path> OK <nodes> <initializers> <inputs> <outputs> <op,op,...>
 *   VALUE <path> <dtype> <dim,dim,...|-> <name>   (shapes rq__pass_infer_shapes
 *                                                  derived, -1 = unknown)
 *   TENSOR <path> OK <dtype> <ndim> <dim,dim,...> <fnv1a64 of the bytes>
 *   MODEL|TENSOR <path> ERR <status> <message>
 *   SAVED <path> <copy>   (with RQ_DUMP_SAVE_DIR set: the model as razorq
 *                          writes it back, for the writer's checks)
 * check_testdata.py compares this with onnx's Python API. */
#include "graph/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(const void *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ ((const unsigned char *)p)[i]) * 0x100000001b3ull;
  return h;
}

static void one_line(const char *msg) {
  for (const char *c = msg; *c; c++) putchar(*c == '\n' ? ' ' : *c);
  putchar('\n');
}

int main(void) {
  char path[4096];
  const char *save_dir = getenv("RQ_DUMP_SAVE_DIR");
  int saved = 0;
  while (fgets(path, sizeof path, stdin) != NULL) {
    path[strcspn(path, "\n")] = '\0';
    size_t len = strlen(path);
    if (len > 5 && strcmp(path + len - 5, ".onnx") == 0) {
      rq_graph *g;
      rq_status s = rq_graph_load(path, &g);
      if (s != RQ_OK) {
        printf("MODEL %s ERR %s ", path, rq_status_str(s));
        one_line(rq_last_error());
        continue;
      }
      int inits = 0;
      for (int v = 0; v < g->n_values; v++) inits += g->values[v].init != NULL;
      printf("MODEL %s OK %d %d %d %d ", path, g->n_nodes, inits, g->n_inputs, g->n_outputs);
      for (int i = 0; i < g->n_nodes; i++) printf("%s%s", i ? "," : "", g->nodes[i].op_type);
      printf("%s\n", g->n_nodes ? "" : "-");
      if (save_dir != NULL) {
        char copy[4200];
        snprintf(copy, sizeof copy, "%s/%d.onnx", save_dir, saved++);
        if (rq_graph_save(g, copy) != RQ_OK) {
          fprintf(stderr, "%s: %s\n", path, rq_last_error());
          return 4;
        }
        printf("SAVED %s %s\n", path, copy);
      }
      /* Shapes inferred for node outputs the model did not declare. */
      bool *undeclared = calloc((size_t)g->n_values + 1, sizeof *undeclared);
      for (int v = 0; v < g->n_values; v++) undeclared[v] = g->values[v].shape.ndim < 0;
      if (rq__pass_infer_shapes(g, NULL) != RQ_OK) return 2;
      for (int v = 0; v < g->n_values; v++) {
        const rq__value *val = &g->values[v];
        if (!undeclared[v] || val->shape.ndim < 0) continue;
        printf("VALUE %s %d ", path, (int)val->dtype);
        for (int i = 0; i < val->shape.ndim; i++) printf("%s%lld", i ? "," : "", (long long)val->shape.dims[i]);
        printf("%s %s\n", val->shape.ndim ? "" : "-", val->name);
      }
      free(undeclared);
      rq_graph_destroy(g);
    } else {
      rq__tensor *t;
      rq_status s = rq__tensor_from_proto_file(path, &t);
      if (s != RQ_OK) {
        printf("TENSOR %s ERR %s ", path, rq_status_str(s));
        one_line(rq_last_error());
        continue;
      }
      printf("TENSOR %s OK %d %d ", path, (int)t->dtype, t->ndim);
      for (int i = 0; i < t->ndim; i++) printf("%s%lld", i ? "," : "", (long long)t->dims[i]);
      printf("%s %016llx\n", t->ndim ? "" : "-", (unsigned long long)fnv1a(t->data, t->nbytes));
      rq__tensor_destroy(t);
    }
  }
  return rq_memory_in_use() == 0 ? 0 : 3; /* everything freed */
}
