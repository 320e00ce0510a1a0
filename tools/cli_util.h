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

/* Data files for a model's inputs, one .npy each, given as "[NAME=]FILE"
 * (repeatable options): NAME=FILE binds by input name, plain FILEs fill the
 * remaining inputs in the model's order. */
enum { RQ_CLI_MAX_INPUTS = 64 };
typedef struct rq_cli_specs {
  const char *option; /* "--calib", for messages */
  const char *items[RQ_CLI_MAX_INPUTS];
  size_t n;
} rq_cli_specs;
/* Adds one spec; a usage error past RQ_CLI_MAX_INPUTS. */
int rq_cli_specs_add(const char *command, rq_cli_specs *specs, const char *item);

typedef struct rq_cli_data {
  size_t n;                           /* the model's input count */
  rq_npy *arrays[RQ_CLI_MAX_INPUTS];  /* by input index */
  DLTensor all[RQ_CLI_MAX_INPUTS];
  /* With samples: the rows along axis 0, the same in every array; and
   * whether the model takes them one at a time (every array has one axis
   * more than its input declares, as torchvision's detection models take
   * a single [3, H, W] image). */
  int64_t samples;
  int unbatched;
} rq_cli_data;
/* Loads one array per model input. With samples, every array must hold
 * the same number (> 0) of rows along axis 0. Prints errors; returns an exit
 * code (the data is empty and freeable either way). */
int rq_cli_data_load(const char *command, const rq_graph *model, const rq_cli_specs *specs, int samples,
                     rq_cli_data *out);
/* Views of samples [first, first + count) of every input (count 1 and no
 * leading axis when unbatched); shapes holds their dims. */
void rq_cli_data_batch(const rq_cli_data *d, int64_t first, int64_t count, DLTensor *views,
                       int64_t (*shapes)[RQ_NPY_MAX_DIMS]);
void rq_cli_data_free(rq_cli_data *d);

/* Prepares the model, calibrates on calib (steps batches of batch samples;
 * 0 = the config's values) and converts. Prints the notes unless quiet.
 * Returns an exit code. */
int rq_cli_quantize(const char *command, const rq_quantizer *q, const rq_graph *model, const rq_cli_data *calib,
                    size_t steps, size_t batch, int quiet, rq_session **out);

/* Parses a positive integer option value. */
int rq_cli_parse_size(const char *command, const char *option, const char *text, size_t *out);

#endif
