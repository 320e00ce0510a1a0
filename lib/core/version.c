/* SPDX-License-Identifier: Apache-2.0 */
#include "core/core.h"

unsigned rq_version(void) { return RQ_VERSION_NUMBER; }
const char *rq_version_string(void) { return RQ_VERSION_STRING; }
unsigned rq_abi_major(void) { return RQ_ABI_MAJOR; }
