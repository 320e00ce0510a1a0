/* SPDX-License-Identifier: Apache-2.0 */
/* A plugin claiming another ABI major: rq_plugin_load must refuse it without
 * calling rq_plugin_init (which would abort to make a violation visible). */
#include <razorq/sys/plugin.h>

#include <stdlib.h>

__attribute__((visibility("default"))) const unsigned rq_plugin_abi_major = RQ_ABI_MAJOR + 7;

rq_status rq_plugin_init(unsigned abi_major) {
  (void)abi_major;
  abort();
}
