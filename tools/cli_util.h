/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers the data-handling subcommands share. */
#ifndef RQ_TOOLS_CLI_UTIL_H
#define RQ_TOOLS_CLI_UTIL_H

#include "cli.h"

/* Reads a whole text file (NUL-terminated, malloc'd); NULL with errno set. */
char *rq_cli_read_text(const char *path);

/* A view of rows [first, first + count) of an array along axis 0. */
DLTensor rq_cli_rows(const DLTensor *all, int64_t first, int64_t count, int64_t *shape_storage);

/* A progress bar on stderr when it is a terminal (silent otherwise, or when
 * quiet): "calibrating [=====>     ] 12/32 batches". */
typedef struct rq_cli_progress {
  const char *what;
  size_t total;
  int enabled;
} rq_cli_progress;
void rq_cli_progress_start(rq_cli_progress *p, const char *what, size_t total, int quiet);
void rq_cli_progress_update(rq_cli_progress *p, size_t done);
void rq_cli_progress_end(rq_cli_progress *p);

/* Loads a quantizer config file and creates the quantizer; prints errors. */
int rq_cli_load_quantizer(const char *command, const char *path, rq_quantizer **out);

/* Loads the model, prepares it, calibrates on rows of calib (steps batches of
 * batch rows; 0 = the config's values) and converts. Prints the notes unless
 * quiet. Returns an exit code. */
int rq_cli_quantize(const char *command, const rq_quantizer *q, const rq_graph *model, const char *calib_path,
                    size_t steps, size_t batch, int quiet, rq_session **out);

/* Parses a positive integer option value. */
int rq_cli_parse_size(const char *command, const char *option, const char *text, size_t *out);

#endif
