/* SPDX-License-Identifier: Apache-2.0 */
#include "cli_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char *rq_cli_read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  while (buf != NULL) {
    size_t n = fread(buf + len, 1, cap - len - 1, f);
    len += n;
    if (n == 0) break;
    if (len + 1 == cap) {
      char *grown = realloc(buf, cap * 2);
      if (grown == NULL) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = grown;
      cap *= 2;
    }
  }
  int failed = ferror(f);
  fclose(f);
  if (buf != NULL && failed) {
    free(buf);
    errno = EIO;
    return NULL;
  }
  if (buf != NULL) buf[len] = '\0';
  return buf;
}

DLTensor rq_cli_rows(const DLTensor *all, int64_t first, int64_t count, int64_t *shape) {
  DLTensor v = *all;
  int64_t row_bytes = all->dtype.bits / 8 * all->dtype.lanes;
  for (int d = 0; d < all->ndim; d++) shape[d] = all->shape[d];
  for (int d = 1; d < all->ndim; d++) row_bytes *= all->shape[d];
  shape[0] = count;
  v.shape = shape;
  v.byte_offset = all->byte_offset + (uint64_t)(first * row_bytes);
  return v;
}

void rq_cli_progress_start(rq_cli_progress *p, const char *what, size_t total, int quiet) {
  p->what = what;
  p->total = total;
  p->enabled = !quiet && isatty(STDERR_FILENO);
  rq_cli_progress_update(p, 0);
}

void rq_cli_progress_update(rq_cli_progress *p, size_t done) {
  if (!p->enabled || p->total == 0) return;
  enum { WIDTH = 30 };
  size_t filled = done * WIDTH / p->total;
  char bar[WIDTH + 1];
  for (size_t i = 0; i < WIDTH; i++) bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
  bar[WIDTH] = '\0';
  fprintf(stderr, "\r%s [%s] %zu/%zu", p->what, bar, done, p->total);
  fflush(stderr);
}

void rq_cli_progress_end(rq_cli_progress *p) {
  if (p->enabled) fprintf(stderr, "\n");
}

int rq_cli_parse_size(const char *command, const char *option, const char *text, size_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v == 0 || text[0] == '-')
    return rq_cli_usage_error(command, "%s takes a positive integer, not '%s'", option, text);
  *out = (size_t)v;
  return RQ_CLI_OK;
}

int rq_cli_load_quantizer(const char *command, const char *path, rq_quantizer **out) {
  char *text = rq_cli_read_text(path);
  if (text == NULL) {
    fprintf(stderr, "razorq %s: cannot read config %s: %s\n", command, path, strerror(errno));
    return RQ_CLI_FAILED;
  }
  rq_status s = rq_quantizer_create(text, out);
  free(text);
  if (s != RQ_OK) {
    fprintf(stderr, "razorq %s: %s: %s\n", command, path, rq_last_error());
    return RQ_CLI_FAILED;
  }
  return RQ_CLI_OK;
}

/* A progress bar for the session's long steps (AdaRound at convert),
 * started on the first report and ended on the last. */
typedef struct step_bar {
  rq_cli_progress bar;
  int quiet, started;
} step_bar;

static void report_step(void *user, const char *what, uint64_t done, uint64_t total) {
  step_bar *b = user;
  if (!b->started) {
    rq_cli_progress_start(&b->bar, what, (size_t)total, b->quiet);
    b->started = 1;
  }
  rq_cli_progress_update(&b->bar, (size_t)done);
  if (done == total) {
    rq_cli_progress_end(&b->bar);
    b->started = 0;
  }
}

int rq_cli_specs_add(const char *command, rq_cli_specs *specs, const char *item) {
  if (specs->n == RQ_CLI_MAX_INPUTS)
    return rq_cli_usage_error(command, "at most %d %s files", RQ_CLI_MAX_INPUTS, specs->option);
  specs->items[specs->n++] = item;
  return RQ_CLI_OK;
}

void rq_cli_data_free(rq_cli_data *d) {
  for (size_t j = 0; j < RQ_CLI_MAX_INPUTS; j++) rq_npy_destroy(d->arrays[j]);
  memset(d, 0, sizeof *d);
}

static int input_index(const rq_graph *model, const char *name, size_t len) {
  for (size_t j = 0; j < rq_graph_input_count(model); j++) {
    rq_value_info info;
    rq_value_info_init(&info, sizeof info);
    rq_graph_input_info(model, j, &info);
    if (strlen(info.name) == len && strncmp(info.name, name, len) == 0) return (int)j;
  }
  return -1;
}

static int load_array(const char *command, const char *path, rq_cli_data *d, size_t j) {
  rq_status s = rq_npy_load(path, &d->arrays[j]);
  if (s != RQ_OK) return rq_cli_fail(command, s);
  rq_npy_dltensor(d->arrays[j], &d->all[j]);
  return RQ_CLI_OK;
}

/* The rows along axis 0, equal in every array; and whether every array has
 * one axis more than its input declares. */
static int check_samples(const char *command, const rq_graph *model, const rq_cli_specs *specs, rq_cli_data *d) {
  d->unbatched = 1;
  const char *first_name = "";
  for (size_t j = 0; j < d->n; j++) {
    rq_value_info info;
    rq_value_info_init(&info, sizeof info);
    rq_graph_input_info(model, j, &info);
    if (j == 0) first_name = info.name;
    const DLTensor *t = &d->all[j];
    if (t->ndim < 1 || t->shape[0] == 0) {
      fprintf(stderr, "razorq %s: %s for input '%s' holds no samples\n", command, specs->option, info.name);
      return RQ_CLI_FAILED;
    }
    if (j > 0 && t->shape[0] != d->samples) {
      fprintf(stderr, "razorq %s: %s for input '%s' holds %lld samples, for input '%s' %lld; every input needs one "
              "row per sample\n", command, specs->option, info.name, (long long)t->shape[0], first_name,
              (long long)d->samples);
      return RQ_CLI_FAILED;
    }
    d->samples = t->shape[0];
    d->unbatched &= info.ndim >= 0 && t->ndim == info.ndim + 1;
  }
  return RQ_CLI_OK;
}

int rq_cli_data_load(const char *command, const rq_graph *model, const rq_cli_specs *specs, int samples,
                     rq_cli_data *out) {
  rq_cli_data *d = out;
  memset(d, 0, sizeof *d);
  d->n = rq_graph_input_count(model);
  if (specs->n != d->n)
    return rq_cli_usage_error(command, "the model has %zu input%s, %zu %s given", d->n, d->n == 1 ? "" : "s",
                              specs->n, specs->option);
  int bound[RQ_CLI_MAX_INPUTS] = {0};
  for (size_t k = 0; k < specs->n; k++) {
    const char *item = specs->items[k], *eq = strchr(item, '=');
    if (eq == NULL) continue;
    int j = input_index(model, item, (size_t)(eq - item));
    if (j < 0)
      return rq_cli_usage_error(command, "%s: the model has no input named '%.*s'", specs->option,
                                (int)(eq - item), item);
    if (bound[j]) return rq_cli_usage_error(command, "%s: input '%.*s' given twice", specs->option, (int)(eq - item), item);
    bound[j] = 1;
    if (load_array(command, eq + 1, d, (size_t)j) != RQ_CLI_OK) return RQ_CLI_FAILED;
  }
  for (size_t k = 0, next = 0; k < specs->n; k++) {
    if (strchr(specs->items[k], '=') != NULL) continue;
    while (bound[next]) next++;
    bound[next] = 1;
    if (load_array(command, specs->items[k], d, next) != RQ_CLI_OK) return RQ_CLI_FAILED;
  }
  return samples ? check_samples(command, model, specs, d) : RQ_CLI_OK;
}

void rq_cli_data_batch(const rq_cli_data *d, int64_t first, int64_t count, DLTensor *views,
                       int64_t (*shapes)[RQ_NPY_MAX_DIMS]) {
  for (size_t j = 0; j < d->n; j++) {
    views[j] = rq_cli_rows(&d->all[j], first, count, shapes[j]);
    if (d->unbatched) { /* the sample itself, without its leading 1 */
      views[j].ndim--;
      views[j].shape = shapes[j] + 1;
    }
  }
}

int rq_cli_quantize(const char *command, const rq_quantizer *q, const rq_graph *model, const rq_cli_data *calib,
                    size_t steps, size_t batch, int quiet, rq_session **out) {
  *out = NULL;
  rq_session *session;
  rq_status s = rq_quantizer_prepare(q, model, &session);
  if (s != RQ_OK) return rq_cli_fail(command, s);
  if (!quiet)
    for (size_t i = 0; i < rq_session_note_count(session); i++)
      fprintf(stderr, "note: %s\n", rq_session_note(session, i));
  size_t cfg_steps, cfg_batch;
  rq_session_calibration_settings(session, &cfg_steps, &cfg_batch);
  if (steps == 0) steps = cfg_steps;
  if (batch == 0) batch = cfg_batch;
  if (calib->unbatched) batch = 1;
  size_t available = (size_t)((calib->samples + (int64_t)batch - 1) / (int64_t)batch);
  if (steps > available) steps = available;
  rq_cli_progress bar;
  rq_cli_progress_start(&bar, "calibrating", steps, quiet);
  int64_t shapes[RQ_CLI_MAX_INPUTS][RQ_NPY_MAX_DIMS];
  DLTensor x[RQ_CLI_MAX_INPUTS];
  for (size_t i = 0; i < steps && s == RQ_OK; i++) {
    int64_t first = (int64_t)(i * batch), rows = (int64_t)batch;
    if (first + rows > calib->samples) rows = calib->samples - first;
    rq_cli_data_batch(calib, first, rows, x, shapes);
    s = rq_session_calibrate(session, x, calib->n);
    rq_cli_progress_update(&bar, i + 1);
  }
  rq_cli_progress_end(&bar);
  size_t notes_before = rq_session_note_count(session);
  step_bar step = {.quiet = quiet};
  rq_session_set_progress(session, report_step, &step);
  if (s == RQ_OK) s = rq_session_convert(session);
  if (step.started) rq_cli_progress_end(&step.bar); /* a convert that failed midway */
  rq_session_set_progress(session, NULL, NULL);
  if (s != RQ_OK) {
    rq_session_destroy(session);
    return rq_cli_fail(command, s);
  }
  /* What convert did (AdaRound's reconstruction errors). */
  if (!quiet)
    for (size_t i = notes_before; i < rq_session_note_count(session); i++)
      fprintf(stderr, "note: %s\n", rq_session_note(session, i));
  if (!quiet && calib->unbatched)
    fprintf(stderr, "calibrated %zu fake-quants on %zu samples, one at a time (the model's input has no batch "
            "dimension)\n", rq_session_point_count(session), steps);
  else if (!quiet)
    fprintf(stderr, "calibrated %zu fake-quants on %zu batches of up to %zu samples\n", rq_session_point_count(session),
            steps, batch);
  *out = session;
  return RQ_CLI_OK;
}
