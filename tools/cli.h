/* SPDX-License-Identifier: Apache-2.0 */
/* The razorq command-line tool: one table of subcommands, each its own file. */
#ifndef RQ_TOOLS_CLI_H
#define RQ_TOOLS_CLI_H

#include <razorq/razorq.h>
#include <stdio.h>

typedef struct rq_cli_command {
  const char *name;
  const char *summary;              /* one line for `razorq --help` */
  const char *usage;                /* the full text of `razorq NAME --help` */
  int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
} rq_cli_command;

/* Exit codes shared by every subcommand. */
enum { RQ_CLI_OK = 0, RQ_CLI_FAILED = 1, RQ_CLI_USAGE = 2 };

/* Prints "razorq NAME: <rq_last_error()>" for a failed library call and
 * returns RQ_CLI_FAILED. */
int rq_cli_fail(const char *command, rq_status status);
/* Prints a usage error and a hint to run --help; returns RQ_CLI_USAGE. */
int rq_cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* True when argv holds -h or --help (then the caller prints its usage). */
int rq_cli_wants_help(int argc, char **argv);

/* The subcommands, defined one per file (tools/cmd_*.c). */
#define RQ_CLI_COMMANDS(X) \
  X(version)               \
  X(config)                \
  X(ptq)                   \
  X(test)                  \
  X(run)                   \
  X(inspect)               \
  X(bench)                 \
  X(help)

#define RQ_CLI_DECLARE(name) extern const rq_cli_command rq_cli_cmd_##name;
RQ_CLI_COMMANDS(RQ_CLI_DECLARE)
#undef RQ_CLI_DECLARE

/* The table, in the order of RQ_CLI_COMMANDS, NULL-terminated. */
extern const rq_cli_command *const rq_cli_table[];

#endif
