/* SPDX-License-Identifier: Apache-2.0 */
/* razorq bench: time the executor on one model with random inputs. */
#include "cli_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_INPUTS = 16, MAX_RANK = 8 };

/* Parses a non-negative integer (--warmup 0 is meaningful). */
static int parse_count(const char *option, const char *text, size_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-')
    return rq_cli_usage_error("bench", "%s takes a non-negative integer, not '%s'", option, text);
  *out = (size_t)v;
  return RQ_CLI_OK;
}

/* Parses "N,C,H,W": 1..MAX_RANK positive dimensions. */
static int parse_shape(const char *text, int64_t *dims, int *ndim) {
  const char *p = text;
  *ndim = 0;
  for (;;) {
    char *end;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (errno != 0 || end == p || v <= 0 || *ndim == MAX_RANK || (*end != ',' && *end != '\0'))
      return rq_cli_usage_error("bench", "--shape takes 1 to %d positive integers separated by commas, not '%s'",
                                MAX_RANK, text);
    dims[(*ndim)++] = v;
    if (*end == '\0') return RQ_CLI_OK;
    p = end + 1;
  }
}

static double clock_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Writes s as a JSON string literal (paths and ONNX names may hold quotes). */
static void print_json_string(const char *s) {
  putchar('"');
  for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
    if (*c == '"' || *c == '\\') printf("\\%c", *c);
    else if (*c < 0x20) printf("\\u%04x", *c);
    else putchar(*c);
  }
  putchar('"');
}

typedef struct bench_input {
  const char *name;
  int ndim;
  int64_t shape[MAX_RANK];
  float *data;
} bench_input;

/* The shape input j runs with: the declared one with a symbolic batch (or
 * any batch, when --batch is given) set to `batch`; --shape replaces it. */
static int resolve_shape(const rq_graph *g, size_t j, const int64_t *forced, int forced_ndim, size_t batch,
                         int batch_given, bench_input *in) {
  rq_value_info info;
  rq_value_info_init(&info, sizeof info);
  rq_status s = rq_graph_input_info(g, j, &info);
  if (s != RQ_OK) return rq_cli_fail("bench", s);
  in->name = info.name;
  if (info.onnx_type != 0 && info.onnx_type != 1) {
    fprintf(stderr, "razorq bench: input '%s' is %s; only float32 inputs can be filled with random values\n",
            info.name, rq_onnx_type_name(info.onnx_type));
    return RQ_CLI_FAILED;
  }
  if (forced != NULL) {
    in->ndim = forced_ndim;
    memcpy(in->shape, forced, (size_t)forced_ndim * sizeof *forced);
    return RQ_CLI_OK;
  }
  if (info.ndim < 1 || info.ndim > MAX_RANK)
    return rq_cli_usage_error("bench", "input '%s' has no usable declared shape: give --shape", info.name);
  in->ndim = info.ndim;
  for (int d = 0; d < info.ndim; d++) {
    if (d == 0 && (info.dims[0] < 0 || batch_given)) {
      in->shape[0] = (int64_t)batch;
    } else if (info.dims[d] < 0) {
      return rq_cli_usage_error("bench", "input '%s' has a symbolic dimension %d (%s) besides the batch: give --shape",
                                info.name, d, info.dim_names[d] != NULL ? info.dim_names[d] : "?");
    } else {
      in->shape[d] = info.dims[d];
    }
  }
  return RQ_CLI_OK;
}

/* Uniform [-1, 1) from a fixed-seed xorshift: the same inputs every run. */
static void fill_random(float *data, size_t n, uint64_t *state) {
  for (size_t i = 0; i < n; i++) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    data[i] = (float)((double)(*state >> 11) / 9007199254740992.0 * 2.0 - 1.0);
  }
}

/* --profile: CPU time between consecutive edge-hook calls, charged to the
 * edge the second call reports (the executor calls the hook right after
 * computing an edge, in execution order). Edges are recorded in the first
 * profiled run; later runs add to the same slots in the same order. */
typedef struct edge_profile {
  char **names;
  double *ms;
  size_t count, capacity;
  size_t next;        /* hook calls so far in this run */
  double last;        /* CPU ms at the previous call (or the run's start) */
  int recording;      /* first run: append names */
  int mismatch;       /* a later run saw other edges: the profile is void */
} edge_profile;

static rq_status profile_hook(void *user, const char *edge, DLTensor *value) {
  (void)value;
  edge_profile *p = user;
  double now = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
  if (p->recording) {
    if (p->count == p->capacity) {
      size_t cap = p->capacity ? 2 * p->capacity : 256;
      char **names = realloc(p->names, cap * sizeof *names);
      if (names != NULL) p->names = names;
      double *ms = realloc(p->ms, cap * sizeof *ms);
      if (ms != NULL) p->ms = ms;
      if (names == NULL || ms == NULL) return rq_error_set(RQ_ERR_NOMEM, "razorq bench: out of memory for --profile");
      p->capacity = cap;
    }
    if ((p->names[p->count] = strdup(edge)) == NULL)
      return rq_error_set(RQ_ERR_NOMEM, "razorq bench: out of memory for --profile");
    p->ms[p->count++] = 0;
  }
  if (p->next < p->count && strcmp(p->names[p->next], edge) == 0) p->ms[p->next] += now - p->last;
  else p->mismatch = 1;
  p->next++;
  p->last = clock_ms(CLOCK_PROCESS_CPUTIME_ID); /* the hook's own time is nobody's */
  return RQ_OK;
}

static void profile_free(edge_profile *p) {
  for (size_t k = 0; k < p->count; k++) free(p->names[k]);
  free(p->names);
  free(p->ms);
}

static int compare_edge_ms(const void *a, const void *b, void *ms) {
  double x = ((const double *)ms)[*(const size_t *)a], y = ((const double *)ms)[*(const size_t *)b];
  return (x < y) - (x > y); /* largest first */
}

/* Prints the per-op-type and top-edge tables (ms per run). Edges map to
 * nodes only when every node has one output: graph inputs come first, then
 * one edge per node in execution order; otherwise only edges are listed. */
static void print_profile(const rq_graph *g, const edge_profile *p, size_t runs, double run_ms, int json) {
  size_t n_in = rq_graph_input_count(g), n_nodes = rq_graph_node_count(g);
  int by_node = p->count == n_in + n_nodes;
  size_t *order = malloc((p->count ? p->count : 1) * sizeof *order);
  const char **types = calloc(n_nodes ? n_nodes : 1, sizeof *types);
  double *type_ms = calloc(n_nodes ? n_nodes : 1, sizeof *type_ms);
  size_t *type_nodes = calloc(n_nodes ? n_nodes : 1, sizeof *type_nodes);
  if (order == NULL || types == NULL || type_ms == NULL || type_nodes == NULL) {
    fprintf(stderr, "razorq bench: out of memory for --profile\n");
    goto done;
  }
  size_t n_types = 0;
  for (size_t k = n_in; by_node && k < p->count; k++) {
    const char *op;
    rq_graph_node_info(g, k - n_in, &op, NULL);
    size_t t = 0;
    while (t < n_types && strcmp(types[t], op) != 0) t++;
    if (t == n_types) types[n_types++] = op;
    type_ms[t] += p->ms[k] / (double)runs;
    type_nodes[t]++;
  }
  for (size_t k = 0; k < p->count; k++) order[k] = k;
  qsort_r(order, p->count, sizeof *order, compare_edge_ms, p->ms);
  size_t top = p->count < 15 ? p->count : 15;
  if (json) {
    printf(", \"profile\": {\"run_cpu_ms\": %.4f, \"op_types\": [", run_ms);
    for (size_t t = 0; t < n_types; t++) {
      printf("%s{\"op_type\": ", t ? ", " : "");
      print_json_string(types[t]);
      printf(", \"nodes\": %zu, \"ms\": %.4f}", type_nodes[t], type_ms[t]);
    }
    printf("], \"top_edges\": [");
    for (size_t k = 0; k < top; k++) {
      printf("%s{\"edge\": ", k ? ", " : "");
      print_json_string(p->names[order[k]]);
      printf(", \"ms\": %.4f}", p->ms[order[k]] / (double)runs);
    }
    printf("]}");
    goto done;
  }
  printf("profile: CPU ms per run (mean of %zu runs with an edge hook; %.3f ms per run in all)\n", runs, run_ms);
  if (by_node) {
    printf("  %-24s %6s %10s %7s\n", "op type", "nodes", "ms", "%");
    for (size_t t = 0; t < n_types; t++) {
      size_t best = t; /* selection sort: a handful of types */
      for (size_t u = t + 1; u < n_types; u++) if (type_ms[u] > type_ms[best]) best = u;
      const char *ty = types[t]; types[t] = types[best]; types[best] = ty;
      double ms = type_ms[t]; type_ms[t] = type_ms[best]; type_ms[best] = ms;
      size_t nn = type_nodes[t]; type_nodes[t] = type_nodes[best]; type_nodes[best] = nn;
      printf("  %-24s %6zu %10.3f %6.1f%%\n", types[t], type_nodes[t], type_ms[t], 100 * type_ms[t] / run_ms);
    }
  }
  printf("  slowest edges:\n");
  for (size_t k = 0; k < top; k++)
    printf("  %10.3f ms %5.1f%%  %s\n", p->ms[order[k]] / (double)runs, 100 * p->ms[order[k]] / (double)runs / run_ms,
           p->names[order[k]]);
done:
  free(order);
  free(types);
  free(type_ms);
  free(type_nodes);
}

static void print_shape(const bench_input *in) {
  for (int d = 0; d < in->ndim; d++) printf("%s%lld", d ? ", " : "", (long long)in->shape[d]);
}

typedef struct summary {
  double min, median, mean, max;
} summary;

/* Sorts ms in place. */
static summary summarize(double *ms, size_t n) {
  qsort(ms, n, sizeof *ms, compare_double);
  double sum = 0;
  for (size_t k = 0; k < n; k++) sum += ms[k];
  return (summary){ms[0], n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2, sum / (double)n, ms[n - 1]};
}

static void report(const char *model_path, const bench_input *ins, size_t n_in, int threads, size_t warmup,
                   double *wall_ms, double *cpu_ms, size_t iters, int json) {
  summary wall = summarize(wall_ms, iters), cpu = summarize(cpu_ms, iters);
  /* Images are the rows of the first input. */
  double images = (double)ins[0].shape[0];
  if (json) {
    printf("{\"model\": ");
    print_json_string(model_path);
    printf(", \"inputs\": [");
    for (size_t j = 0; j < n_in; j++) {
      printf("%s{\"name\": ", j ? ", " : "");
      print_json_string(ins[j].name);
      printf(", \"shape\": [");
      print_shape(&ins[j]);
      printf("]}");
    }
    /* The caller closes the object (after an optional profile). */
    printf("], \"batch\": %.0f, \"threads\": %d, \"warmup\": %zu, \"iters\": %zu, \"min_ms\": %.4f, "
           "\"median_ms\": %.4f, \"mean_ms\": %.4f, \"max_ms\": %.4f, \"images_per_s\": %.3f, "
           "\"cpu_min_ms\": %.4f, \"cpu_median_ms\": %.4f",
           images, threads, warmup, iters, wall.min, wall.median, wall.mean, wall.max, images / (wall.median / 1e3),
           cpu.min, cpu.median);
    return;
  }
  printf("model: %s\n", model_path);
  for (size_t j = 0; j < n_in; j++) {
    printf("input %s: [", ins[j].name);
    print_shape(&ins[j]);
    printf("] float32 random\n");
  }
  printf("threads: %d, warm-up runs: %zu, timed runs: %zu\n", threads, warmup, iters);
  printf("per run: min %.3f ms, median %.3f ms, mean %.3f ms, max %.3f ms\n", wall.min, wall.median, wall.mean,
         wall.max);
  printf("CPU time per run: min %.3f ms, median %.3f ms\n", cpu.min, cpu.median);
  printf("throughput: %.2f images/s (median), %.2f images/s (min)\n", images / (wall.median / 1e3),
         images / (wall.min / 1e3));
}

static int run_bench(int argc, char **argv) {
  const char *model_path = NULL, *shape_text = NULL;
  size_t batch = 1, iters = 10, warmup = 2, threads = 1;
  int json = 0, batch_given = 0, profile = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--json") == 0) { json = 1; continue; }
    if (strcmp(a, "--profile") == 0) { profile = 1; continue; }
    if (a[0] == '-' && value == NULL) {
      if (strcmp(a, "--batch") && strcmp(a, "--shape") && strcmp(a, "--iters") && strcmp(a, "--warmup") &&
          strcmp(a, "--threads"))
        return rq_cli_usage_error("bench", "unknown option %s", a);
      return rq_cli_usage_error("bench", "%s needs a value", a);
    }
    if (strcmp(a, "--batch") == 0) {
      if (rq_cli_parse_size("bench", a, argv[++i], &batch)) return RQ_CLI_USAGE;
      batch_given = 1;
    } else if (strcmp(a, "--shape") == 0) {
      shape_text = argv[++i];
    } else if (strcmp(a, "--iters") == 0) {
      if (rq_cli_parse_size("bench", a, argv[++i], &iters)) return RQ_CLI_USAGE;
    } else if (strcmp(a, "--warmup") == 0) {
      if (parse_count(a, argv[++i], &warmup)) return RQ_CLI_USAGE;
    } else if (strcmp(a, "--threads") == 0) {
      if (rq_cli_parse_size("bench", a, argv[++i], &threads)) return RQ_CLI_USAGE;
      if (threads > 1024) return rq_cli_usage_error("bench", "--threads is at most 1024, not %zu", threads);
    } else if (a[0] == '-') {
      return rq_cli_usage_error("bench", "unknown option %s", a);
    } else if (model_path == NULL) {
      model_path = a;
    } else {
      return rq_cli_usage_error("bench", "unexpected argument '%s'", a);
    }
  }
  if (model_path == NULL) return rq_cli_usage_error("bench", "MODEL.onnx is required");
  if (iters > 1000000) return rq_cli_usage_error("bench", "--iters is at most 1000000, not %zu", iters);
  if (warmup > 1000000) return rq_cli_usage_error("bench", "--warmup is at most 1000000, not %zu", warmup);
  int64_t forced[MAX_RANK];
  int forced_ndim = 0;
  if (shape_text != NULL) {
    if (batch_given) return rq_cli_usage_error("bench", "give --batch or --shape, not both (N of --shape is the batch)");
    if (parse_shape(shape_text, forced, &forced_ndim)) return RQ_CLI_USAGE;
  }

  rq_graph *g;
  rq_status s = rq_graph_load(model_path, &g);
  if (s != RQ_OK) return rq_cli_fail("bench", s);
  int rc = RQ_CLI_FAILED;
  size_t n_in = rq_graph_input_count(g);
  bench_input ins[MAX_INPUTS] = {{0}};
  DLTensor tensors[MAX_INPUTS];
  double *wall_ms = NULL, *cpu_ms = NULL;
  edge_profile prof = {0};
  if (n_in == 0 || n_in > MAX_INPUTS) {
    fprintf(stderr, "razorq bench: the model has %zu inputs; bench handles 1 to %d\n", n_in, MAX_INPUTS);
    goto done;
  }
  if (shape_text != NULL && n_in != 1) {
    rc = rq_cli_usage_error("bench", "--shape needs a model with one input; this one has %zu", n_in);
    goto done;
  }
  uint64_t seed = 0x9E3779B97F4A7C15ull;
  for (size_t j = 0; j < n_in; j++) {
    if ((rc = resolve_shape(g, j, shape_text ? forced : NULL, forced_ndim, batch, batch_given, &ins[j])) != RQ_CLI_OK)
      goto done;
    rc = RQ_CLI_FAILED;
    size_t numel = 1;
    for (int d = 0; d < ins[j].ndim; d++) {
      if ((uint64_t)ins[j].shape[d] > (SIZE_MAX / sizeof(float)) / numel) {
        fprintf(stderr, "razorq bench: input '%s' is too large\n", ins[j].name);
        goto done;
      }
      numel *= (size_t)ins[j].shape[d];
    }
    if ((ins[j].data = malloc(numel * sizeof(float))) == NULL) {
      fprintf(stderr, "razorq bench: out of memory for input '%s'\n", ins[j].name);
      goto done;
    }
    fill_random(ins[j].data, numel, &seed);
    tensors[j] = (DLTensor){.data = ins[j].data, .device = {kDLCPU, 0}, .ndim = ins[j].ndim,
                            .dtype = {kDLFloat, 32, 1}, .shape = ins[j].shape};
  }
  wall_ms = malloc(iters * sizeof *wall_ms);
  cpu_ms = malloc(iters * sizeof *cpu_ms);
  if (wall_ms == NULL || cpu_ms == NULL) {
    fprintf(stderr, "razorq bench: out of memory\n");
    goto done;
  }
  rq_exec_options opts;
  rq_exec_options_init(&opts, sizeof opts);
  opts.num_threads = (int)threads;
  for (size_t k = 0; k < warmup + iters; k++) {
    rq_tensor_list *outs;
    double wall = clock_ms(CLOCK_MONOTONIC), cpu = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    s = rq_graph_run(g, &opts, tensors, n_in, &outs);
    wall = clock_ms(CLOCK_MONOTONIC) - wall;
    cpu = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu;
    if (s != RQ_OK) {
      rc = rq_cli_fail("bench", s);
      goto done;
    }
    rq_tensor_list_destroy(outs);
    if (k >= warmup) {
      wall_ms[k - warmup] = wall;
      cpu_ms[k - warmup] = cpu;
    }
  }
  report(model_path, ins, n_in, (int)threads, warmup, wall_ms, cpu_ms, iters, json);
  if (profile) {
    /* Separate runs, so the hook's cost stays out of the timings above. */
    opts.hook = profile_hook;
    opts.hook_user = &prof;
    double total = 0;
    for (size_t k = 0; k < iters; k++) {
      rq_tensor_list *outs;
      prof.next = 0;
      prof.recording = k == 0;
      double start = prof.last = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
      s = rq_graph_run(g, &opts, tensors, n_in, &outs);
      total += clock_ms(CLOCK_PROCESS_CPUTIME_ID) - start;
      if (s != RQ_OK) {
        if (json) printf("}\n");
        rc = rq_cli_fail("bench", s);
        goto done;
      }
      rq_tensor_list_destroy(outs);
      if (prof.next != prof.count) prof.mismatch = 1;
    }
    if (prof.mismatch)
      fprintf(stderr, "razorq bench: the runs computed different edges; no profile\n");
    else
      print_profile(g, &prof, iters, total / (double)iters, json);
  }
  if (json) printf("}\n");
  rc = RQ_CLI_OK;
done:
  profile_free(&prof);
  free(wall_ms);
  free(cpu_ms);
  for (size_t j = 0; j < n_in && j < MAX_INPUTS; j++) free(ins[j].data);
  rq_graph_destroy(g);
  return rc;
}

const rq_cli_command rq_cli_cmd_bench = {
  "bench", "time the executor on a model with random inputs",
  "Usage: razorq bench MODEL.onnx [--batch B | --shape N,C,H,W] [--iters K]\n"
  "                    [--warmup W] [--threads T] [--profile] [--json]\n\n"
  "Runs the model with razorq's executor on random float32 inputs (uniform in\n"
  "[-1, 1), the same every run) W times untimed, then K times timed, and prints\n"
  "the min, median, mean and max wall time per run and the images per second\n"
  "(rows of the first input per median run). Each timed run is one rq_graph_run\n"
  "call: it includes copying the inputs in and allocating the outputs. The\n"
  "process's CPU time per run is printed too: on a machine busy with other work\n"
  "it is closer than the wall time to what the run costs on an idle one.\n\n"
  "  --batch B      batch size for a symbolic first dimension; given, it also\n"
  "                 replaces a fixed one (default: 1, or the declared batch)\n"
  "  --shape DIMS   the input shape, e.g. 8,3,224,224 (models with one input;\n"
  "                 needed when dimensions besides the batch are symbolic)\n"
  "  --iters K      timed runs (default 10)\n"
  "  --warmup W     untimed runs first (default 2; 0 allowed)\n"
  "  --threads T    threads for the GEMM behind Conv/Gemm/MatMul (default 1)\n"
  "  --profile      then K more runs with an edge hook: CPU time per op type\n"
  "                 (when every node has one output) and the slowest edges\n"
  "  --json         print one JSON object instead of text\n\n"
  "Timings on a shared machine vary: compare minimums of several runs.\n",
  run_bench,
};
