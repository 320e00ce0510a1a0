/* SPDX-License-Identifier: Apache-2.0 */
/* The smallest razorq program: built only with `pkg-config --cflags --libs razorq`
 * against an installed library, to prove the installed headers, .pc file and
 * soname work for a consumer outside the source tree. */
#include <razorq/razorq.h>
#include <stdio.h>

int main(void) {
  printf("razorq %s (ABI %u)\n", rq_version_string(), rq_abi_major());
  if (rq_version() != RQ_VERSION_NUMBER) {
    fprintf(stderr, "header/library mismatch: %u vs %u\n", rq_version(), RQ_VERSION_NUMBER);
    return 1;
  }
  /* Errors come back as a status plus a detail message. */
  rq_status s = rq_allocator_init(NULL, sizeof(rq_allocator));
  printf("%s: %s\n", rq_status_str(s), rq_last_error());
  return s == RQ_ERR_INVALID_ARG ? 0 : 1;
}
