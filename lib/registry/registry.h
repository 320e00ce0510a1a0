/* SPDX-License-Identifier: Apache-2.0 */
/* The class registry shared by observers and fake-quants: fixed-capacity
 * tables in static storage (so they never hold allocator memory and never
 * move), one lock, name lookup that ignores MMRazor's and PyTorch's module
 * prefixes. Entries are never removed: plugins stay loaded. */
#ifndef RQ_REGISTRY_REGISTRY_H
#define RQ_REGISTRY_REGISTRY_H

#include "core/core.h"

#include <razorq/sys/plugin.h>

#define RQ__REGISTRY_CAPACITY 128   /* classes per kind */
#define RQ__REGISTRY_NAME_MAX 64    /* bytes of a class name, with the NUL */
#define RQ__REGISTRY_VTABLE_MAX 256 /* bytes of a stored vtable */

/* Adds a vtable under `name`: copies min(given_size, stored_size) bytes into
 * zeroed storage of stored_size bytes (the library's sizeof), so members an
 * older plugin lacks read as NULL. The stored copy's address goes to *stored
 * (may be NULL). RQ_ERR_EXISTS for a taken name. Thread-safe. `where` names
 * the public function for error messages. */
rq_status rq__registry_add(rq_registry_kind kind, const char *name, const void *vtable,
                           size_t given_size, size_t stored_size, const void **stored,
                           const char *where);

/* The stored vtable registered under name (after dropping one of the prefixes
 * "mmrazor.", "torch.ao.quantization.", "torch.quantization."), or NULL.
 * Built-ins are registered on first use. Thread-safe. */
const void *rq__registry_find(rq_registry_kind kind, const char *name);

/* Drops the module prefixes razorq accepts from a class name. */
const char *rq__registry_strip_prefix(const char *name);

/* Registers the built-in classes once (pthread_once); every registry entry
 * point calls it. Fake-quants hook in by defining
 *   void rq__fake_quants_register_builtins(void);
 * in the translation unit that defines rq_fake_quant_create (it is looked up
 * as a weak symbol so the registry links without it). */
void rq__registry_ensure_builtins(void);

#endif
