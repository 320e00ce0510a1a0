/* SPDX-License-Identifier: Apache-2.0 */
/* Load-time kernel dispatch. This file is compiled WITHOUT ISA flags (like
 * xxHash's xxh_x86dispatch.c): it must run on any CPU of the architecture and
 * only decide which per-ISA row of kernels to use. The rows live in
 * kernels_<isa>.c, each compiled with its own flags into its own static library. */
#include "kernels/kernels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#  include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#  include <sys/auxv.h>
#endif

extern const struct rq__kernels rq__kernels_scalar;
#if defined(RQ_KERNELS_HAVE_SSE41)
extern const struct rq__kernels rq__kernels_sse41;
#endif
#if defined(RQ_KERNELS_HAVE_AVX2)
extern const struct rq__kernels rq__kernels_avx2;
#endif
#if defined(RQ_KERNELS_HAVE_NEON)
extern const struct rq__kernels rq__kernels_neon;
#endif

/* Does the CPU (and the OS, which must save the wide registers) support it? */
#if defined(RQ_KERNELS_HAVE_SSE41) || defined(RQ_KERNELS_HAVE_AVX2)
static inline uint64_t rq_xgetbv0(void) {
  uint32_t eax, edx;
  /* The opcode itself, so this file needs no -mxsave. */
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
  return ((uint64_t)edx << 32) | eax;
}

static inline bool rq_cpu_has_sse41(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  return (c & bit_SSE4_1) != 0;
}

static inline bool rq_cpu_has_avx2(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  bool leaf1 = (c & bit_OSXSAVE) && (c & bit_AVX) && (c & bit_FMA) && (c & bit_F16C) &&
               (c & bit_SSE4_1);
  if (!leaf1) return false;
  if ((rq_xgetbv0() & 0x6) != 0x6) return false; /* XMM and YMM state enabled by the OS */
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return (b & bit_AVX2) != 0;
}
#endif

#if defined(RQ_KERNELS_HAVE_NEON)
static bool rq_cpu_has_neon(void) {
#  if defined(__aarch64__) && defined(__linux__) && defined(HWCAP_ASIMD)
  return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
#  else
  return true; /* Advanced SIMD is part of the AArch64 base architecture */
#  endif
}
#endif

static bool rq_cpu_has_scalar(void) { return true; }

/* Every row this build has, best first. */
static const struct {
  const struct rq__kernels *row;
  bool (*supported)(void);
} rq_rows[] = {
#if defined(RQ_KERNELS_HAVE_AVX2)
  { &rq__kernels_avx2, rq_cpu_has_avx2 },
#endif
#if defined(RQ_KERNELS_HAVE_SSE41)
  { &rq__kernels_sse41, rq_cpu_has_sse41 },
#endif
#if defined(RQ_KERNELS_HAVE_NEON)
  { &rq__kernels_neon, rq_cpu_has_neon },
#endif
  { &rq__kernels_scalar, rq_cpu_has_scalar },
};
#define RQ_ROW_COUNT (sizeof rq_rows / sizeof rq_rows[0])

/* The names a user may ask for, whether or not this build has them. */
static const char *const rq_known_isas[] = { "scalar", "sse41", "avx2", "neon" };

static bool rq_isa_known(const char *isa) {
  for (size_t i = 0; i < sizeof rq_known_isas / sizeof rq_known_isas[0]; i++)
    if (strcmp(isa, rq_known_isas[i]) == 0) return true;
  return false;
}

static const struct rq__kernels *rq_best_row(void) {
  for (size_t i = 0; i < RQ_ROW_COUNT; i++)
    if (rq_rows[i].supported()) return rq_rows[i].row;
  return &rq__kernels_scalar;
}

const struct rq__kernels *rq__kernels_get(const char *isa) {
  if (isa == NULL) return NULL;
  for (size_t i = 0; i < RQ_ROW_COUNT; i++)
    if (strcmp(isa, rq_rows[i].row->isa) == 0)
      return rq_rows[i].supported() ? rq_rows[i].row : NULL;
  return NULL;
}

const char *rq__kernels_best(void) { return rq_best_row()->isa; }

static _Atomic(const struct rq__kernels *) rq_active;
static pthread_once_t rq_active_once = PTHREAD_ONCE_INIT;

static void rq_choose_row(void) {
  const struct rq__kernels *row = NULL;
  const char *env = getenv("RAZORQ_ISA");
  if (env != NULL && env[0] != '\0' && strcmp(env, "auto") != 0) row = rq__kernels_get(env);
  /* An unusable RAZORQ_ISA must not stop the library from working; the
   * automatic choice is always correct, and rq_kernel_isa() tells what runs. */
  if (row == NULL) row = rq_best_row();
  atomic_store(&rq_active, row);
}

const struct rq__kernels *rq__kernels(void) {
  pthread_once(&rq_active_once, rq_choose_row);
  return atomic_load_explicit(&rq_active, memory_order_acquire);
}

rq_status rq__kernels_force(const char *isa) {
  pthread_once(&rq_active_once, rq_choose_row);
  if (isa == NULL || strcmp(isa, "auto") == 0) {
    atomic_store(&rq_active, rq_best_row());
    return RQ_OK;
  }
  if (!rq_isa_known(isa))
    return rq__fail(RQ_ERR_INVALID_ARG, "rq_kernel_set_isa",
                    "unknown ISA \"%s\" (expected auto, scalar, sse41, avx2 or neon)", isa);
  const struct rq__kernels *row = rq__kernels_get(isa);
  if (row == NULL)
    return rq__fail(RQ_ERR_ISA, "rq_kernel_set_isa",
                    "ISA \"%s\" is not available on this CPU or in this build (best: %s)", isa,
                    rq__kernels_best());
  atomic_store(&rq_active, row);
  return RQ_OK;
}

/* ---- public API (include/razorq/cpu.h) ---- */

const char *rq_kernel_isa(void) { return rq__kernels()->isa; }

rq_status rq_kernel_set_isa(const char *isa) { return rq__kernels_force(isa); }

/* ---- element types ---- */

bool rq__elem_from_dtype(DLDataType dtype, rq__elem *out) {
  if (dtype.lanes != 1) return false;
  rq__elem elem;
  if (dtype.code == kDLFloat && dtype.bits == 32) elem = RQ__ELEM_F32;
  else if (dtype.code == kDLFloat && dtype.bits == 16) elem = RQ__ELEM_F16;
  else if (dtype.code == kDLBfloat && dtype.bits == 16) elem = RQ__ELEM_BF16;
  else return false;
  if (out) *out = elem;
  return true;
}

size_t rq__elem_size(rq__elem elem) { return elem == RQ__ELEM_F32 ? 4 : 2; }

size_t rq__qtype_size(rq__qtype qtype) { return qtype == RQ__Q_I16 ? 2 : 1; }
