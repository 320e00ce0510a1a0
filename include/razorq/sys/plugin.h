/* SPDX-License-Identifier: Apache-2.0 */
/* For plugin authors: the vtables through which vendors register observers,
 * fake-quants and backend configs. Application code does not need this header. */
#ifndef RAZORQ_SYS_PLUGIN_H
#define RAZORQ_SYS_PLUGIN_H

#include <razorq/razorq.h>

RQ_EXTERN_C_BEGIN

RQ_EXTERN_C_END

#endif
