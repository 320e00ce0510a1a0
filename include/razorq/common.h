/* SPDX-License-Identifier: Apache-2.0 */
/* Export macro and the types every razorq header shares. */
#ifndef RAZORQ_COMMON_H
#define RAZORQ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Tensors cross the API as DLPack views (Debian libdlpack-dev), so NumPy,
 * PyTorch and inference engines hand their memory over without a copy. */
#include <dlpack/dlpack.h>

#include <razorq/version.h>

#if defined(_WIN32)
#  define RQ_API __declspec(dllimport)
#elif defined(RQ_BUILDING_LIBRARY)
#  define RQ_API __attribute__((visibility("default")))
#else
#  define RQ_API
#endif

#ifdef __cplusplus
#  define RQ_EXTERN_C_BEGIN extern "C" {
#  define RQ_EXTERN_C_END }
#else
#  define RQ_EXTERN_C_BEGIN
#  define RQ_EXTERN_C_END
#endif

#endif
