/* SPDX-License-Identifier: Apache-2.0 */
/* razorq: the command-line tool. Dispatches to the subcommand table. */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

#define RQ_CLI_ENTRY(name) &rq_cli_cmd_##name,
const rq_cli_command *const rq_cli_table[] = {RQ_CLI_COMMANDS(RQ_CLI_ENTRY) NULL};
#undef RQ_CLI_ENTRY

int rq_cli_fail(const char *command, rq_status status) {
  const char *detail = rq_last_error();
  fprintf(stderr, "razorq %s: %s\n", command, detail[0] ? detail : rq_status_str(status));
  return RQ_CLI_FAILED;
}

int rq_cli_usage_error(const char *command, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "razorq %s: ", command);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'razorq %s --help'.\n", command);
  return RQ_CLI_USAGE;
}

int rq_cli_wants_help(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) break;
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return 1;
  }
  return 0;
}

static void print_overview(FILE *out) {
  fprintf(out,
          "Usage: razorq COMMAND [ARGS...]\n"
          "       razorq COMMAND --help\n"
          "       razorq --version\n\n"
          "Quantize neural networks: calibrate ONNX models, export QDQ ONNX, measure accuracy.\n\n"
          "Commands:\n");
  for (const rq_cli_command *const *c = rq_cli_table; *c != NULL; c++)
    fprintf(out, "  %-10s %s\n", (*c)->name, (*c)->summary);
  fprintf(out, "\nSee razorq(1) and doc/ for configs, observers and backends.\n");
}

static const rq_cli_command *find_command(const char *name) {
  for (const rq_cli_command *const *c = rq_cli_table; *c != NULL; c++)
    if (strcmp((*c)->name, name) == 0) return *c;
  return NULL;
}

static int run_help(int argc, char **argv) {
  if (argc < 2) {
    print_overview(stdout);
    return RQ_CLI_OK;
  }
  const rq_cli_command *c = find_command(argv[1]);
  if (c == NULL) return rq_cli_usage_error("help", "unknown command '%s'", argv[1]);
  fputs(c->usage, stdout);
  return RQ_CLI_OK;
}

const rq_cli_command rq_cli_cmd_help = {
  "help", "show help for razorq or for one command",
  "Usage: razorq help [COMMAND]\n\n"
  "Without COMMAND, lists the commands; with it, prints that command's help\n"
  "(the same as 'razorq COMMAND --help').\n",
  run_help,
};

int main(int argc, char **argv) {
  if (argc < 2) {
    print_overview(stderr);
    return RQ_CLI_USAGE;
  }
  const char *name = argv[1];
  if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
    print_overview(stdout);
    return RQ_CLI_OK;
  }
  if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) name = "version";
  const rq_cli_command *c = find_command(name);
  if (c == NULL) {
    fprintf(stderr, "razorq: unknown command '%s'\nTry 'razorq --help'.\n", argv[1]);
    return RQ_CLI_USAGE;
  }
  if (rq_cli_wants_help(argc - 1, argv + 1)) {
    fputs(c->usage, stdout);
    return RQ_CLI_OK;
  }
  return c->run(argc - 1, argv + 1);
}
