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

int rq_cli_quantize(const char *command, const rq_quantizer *q, const rq_graph *model, const char *calib_path,
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

  rq_npy *calib;
  s = rq_npy_load(calib_path, &calib);
  if (s != RQ_OK) {
    rq_session_destroy(session);
    fprintf(stderr, "razorq %s: %s\n", command, rq_last_error());
    return RQ_CLI_FAILED;
  }
  DLTensor all;
  rq_npy_dltensor(calib, &all);
  if (all.ndim < 1 || all.shape[0] == 0) {
    fprintf(stderr, "razorq %s: %s holds no samples\n", command, calib_path);
    rq_npy_destroy(calib);
    rq_session_destroy(session);
    return RQ_CLI_FAILED;
  }
  /* A model whose one input has no batch dimension (torchvision's detection
   * models take a single [3, H, W] image) gets the samples one at a time. */
  rq_value_info input;
  rq_value_info_init(&input, sizeof input);
  bool unbatched = rq_graph_input_count(model) == 1 && rq_graph_input_info(model, 0, &input) == RQ_OK &&
                   input.ndim >= 0 && all.ndim == input.ndim + 1;
  if (unbatched) batch = 1;
  size_t available = (size_t)((all.shape[0] + (int64_t)batch - 1) / (int64_t)batch);
  if (steps > available) steps = available;
  rq_cli_progress bar;
  rq_cli_progress_start(&bar, "calibrating", steps, quiet);
  int64_t shape[RQ_NPY_MAX_DIMS];
  for (size_t i = 0; i < steps && s == RQ_OK; i++) {
    int64_t first = (int64_t)(i * batch), rows = (int64_t)batch;
    if (first + rows > all.shape[0]) rows = all.shape[0] - first;
    DLTensor x = rq_cli_rows(&all, first, rows, shape);
    if (unbatched) { /* the sample itself, without its leading 1 */
      x.ndim--;
      x.shape = shape + 1;
    }
    s = rq_session_calibrate(session, &x, 1);
    rq_cli_progress_update(&bar, i + 1);
  }
  rq_cli_progress_end(&bar);
  rq_npy_destroy(calib);
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
  if (!quiet && unbatched)
    fprintf(stderr, "calibrated %zu fake-quants on %zu samples, one at a time (the model's input has no batch "
            "dimension)\n", rq_session_point_count(session), steps);
  else if (!quiet)
    fprintf(stderr, "calibrated %zu fake-quants on %zu batches of up to %zu samples\n", rq_session_point_count(session),
            steps, batch);
  *out = session;
  return RQ_CLI_OK;
}
