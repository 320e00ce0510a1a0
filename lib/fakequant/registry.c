/* SPDX-License-Identifier: Apache-2.0 */
/* Fake-quant classes in the shared class registry (lib/registry): the
 * built-ins are registered there first, plugins after them. */
#include "fakequant/fakequant_internal.h"
#include "registry/registry.h"

#include <string.h>

static rq_status check_class(const rq_fake_quant_class *cls, const char *where) {
  if (cls == NULL) return rq__fail(RQ_ERR_INVALID_ARG, where, "cls is NULL");
  if (cls->struct_size < offsetof(rq_fake_quant_class, forward) + sizeof cls->forward)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "struct_size %zu is too small for a class table",
                    cls->struct_size);
  if (cls->abi_major != RQ_ABI_MAJOR)
    return rq__fail(RQ_ERR_ABI, where, "class built for ABI %u, this library is ABI %u",
                    cls->abi_major, (unsigned)RQ_ABI_MAJOR);
  if (cls->name == NULL)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "class name is NULL");
  if (cls->forward == NULL)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "class '%s' has no forward", cls->name);
  return RQ_OK;
}

static rq_status add(const rq_fake_quant_class *cls, const char *where) {
  RQ_TRY(check_class(cls, where));
  return rq__registry_add(RQ_REGISTRY_FAKE_QUANT, cls->name, cls, cls->struct_size,
                          sizeof(rq_fake_quant_class), NULL, where);
}

/* Called once by the registry (see registry.h), before any plugin class. */
void rq__fake_quants_register_builtins(void);
void rq__fake_quants_register_builtins(void) {
  /* Only an internal error could fail here; the class would then be missing
   * and rq_fake_quant_create would say RQ_ERR_NOT_FOUND. */
  add(&rq__fq_fake_quantize, "rq__fake_quants_register_builtins");
  add(&rq__fq_fixed_qparams, "rq__fake_quants_register_builtins");
  add(&rq__fq_fused_moving_avg, "rq__fake_quants_register_builtins");
  add(&rq__fq_learnable, "rq__fake_quants_register_builtins");
  add(&rq__fq_adaround, "rq__fake_quants_register_builtins");
}

RQ_API rq_status rq_register_fake_quant(const rq_fake_quant_class *cls) {
  rq__registry_ensure_builtins();
  return add(cls, __func__);
}

const rq_fake_quant_class *rq__fake_quant_class_find(const char *name) {
  return rq__registry_find(RQ_REGISTRY_FAKE_QUANT, name);
}
