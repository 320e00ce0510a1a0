/* SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"

static int run_version(int argc, char **argv) {
  (void)argv;
  if (argc > 1) return rq_cli_usage_error("version", "takes no arguments");
  printf("razorq %s (ABI %u, kernels: %s)\n", rq_version_string(), rq_abi_major(),
         "scalar");
  if (rq_version() != RQ_VERSION_NUMBER)
    printf("warning: built against razorq %s headers\n", RQ_VERSION_STRING);
  return RQ_CLI_OK;
}

const rq_cli_command rq_cli_cmd_version = {
  "version", "print the library version, ABI and the SIMD kernels in use",
  "Usage: razorq version\n"
  "       razorq --version\n\n"
  "Prints the razorq library version, its ABI major (the soname suffix) and\n"
  "which SIMD kernel set this CPU runs.\n",
  run_version,
};
