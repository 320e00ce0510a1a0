/* SPDX-License-Identifier: Apache-2.0 */
#include "registry/registry.h"

#include "observers/observers.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdalign.h>
#include <string.h>

typedef struct registry_entry {
  char name[RQ__REGISTRY_NAME_MAX];
  alignas(max_align_t) unsigned char vtable[RQ__REGISTRY_VTABLE_MAX];
} registry_entry;

typedef struct registry_table {
  registry_entry entries[RQ__REGISTRY_CAPACITY];
  size_t count;
} registry_table;

/* Indexed by rq_registry_kind (1 and 2; slot 0 unused). */
static registry_table tables[3];
/* Recursive: a plugin's rq_plugin_init registers classes while rq_plugin_load
 * holds the lock, so loading and registering stay one atomic step. */
static pthread_mutex_t registry_lock;
static pthread_once_t lock_once = PTHREAD_ONCE_INIT;
static pthread_once_t builtins_once = PTHREAD_ONCE_INIT;

static void init_lock(void) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&registry_lock, &attr);
  pthread_mutexattr_destroy(&attr);
}

static void lock(void) {
  pthread_once(&lock_once, init_lock);
  pthread_mutex_lock(&registry_lock);
}
static void unlock(void) { pthread_mutex_unlock(&registry_lock); }

/* Weak so the registry links before (or without) the fake-quant area. */
__attribute__((weak)) void rq__fake_quants_register_builtins(void);

static void register_builtins(void) {
  rq__observers_register_builtins();
  if (rq__fake_quants_register_builtins != NULL) rq__fake_quants_register_builtins();
}

void rq__registry_ensure_builtins(void) { pthread_once(&builtins_once, register_builtins); }

const char *rq__registry_strip_prefix(const char *name) {
  static const char *const prefixes[] = {"mmrazor.", "torch.ao.quantization.", "torch.quantization."};
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
    size_t n = strlen(prefixes[i]);
    if (strncmp(name, prefixes[i], n) == 0) return name + n;
  }
  return name;
}

static bool valid_kind(rq_registry_kind kind) {
  return kind == RQ_REGISTRY_OBSERVER || kind == RQ_REGISTRY_FAKE_QUANT;
}

rq_status rq__registry_add(rq_registry_kind kind, const char *name, const void *vtable,
                           size_t given_size, size_t stored_size, const void **stored,
                           const char *where) {
  if (!valid_kind(kind)) return rq__fail(RQ_ERR_INVALID_ARG, where, "unknown registry kind %d", (int)kind);
  if (name == NULL || name[0] == '\0') return rq__fail(RQ_ERR_INVALID_ARG, where, "name is NULL or empty");
  if (strlen(name) >= RQ__REGISTRY_NAME_MAX)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "name \"%.40s...\" is longer than %d bytes", name,
                    RQ__REGISTRY_NAME_MAX - 1);
  if (rq__registry_strip_prefix(name) != name || strchr(name, '.') != NULL)
    return rq__fail(RQ_ERR_INVALID_ARG, where, "name \"%s\": register without a module prefix", name);
  if (stored_size > RQ__REGISTRY_VTABLE_MAX)
    return rq__fail(RQ_ERR_INTERNAL, where, "vtable of %zu bytes exceeds the registry slot", stored_size);
  lock();
  registry_table *t = &tables[kind];
  for (size_t i = 0; i < t->count; i++) {
    if (strcmp(t->entries[i].name, name) == 0) {
      unlock();
      return rq__fail(RQ_ERR_EXISTS, where, "a class named \"%s\" is already registered", name);
    }
  }
  if (t->count == RQ__REGISTRY_CAPACITY) {
    unlock();
    return rq__fail(RQ_ERR_NOMEM, where, "the registry holds at most %d classes per kind",
                    RQ__REGISTRY_CAPACITY);
  }
  registry_entry *e = &t->entries[t->count];
  memset(e, 0, sizeof *e);
  strcpy(e->name, name);
  memcpy(e->vtable, vtable, given_size < stored_size ? given_size : stored_size);
  if (stored != NULL) *stored = e->vtable;
  /* Publish only after the entry is complete: lookups take the lock too. */
  t->count++;
  unlock();
  return RQ_OK;
}

const void *rq__registry_find(rq_registry_kind kind, const char *name) {
  if (!valid_kind(kind) || name == NULL) return NULL;
  rq__registry_ensure_builtins();
  const char *bare = rq__registry_strip_prefix(name);
  const void *found = NULL;
  lock();
  registry_table *t = &tables[kind];
  for (size_t i = 0; i < t->count && found == NULL; i++)
    if (strcmp(t->entries[i].name, bare) == 0) found = t->entries[i].vtable;
  unlock();
  return found;
}

rq_status rq_registry_list(rq_registry_kind kind, const char **names, size_t capacity,
                           size_t *count) {
  RQ_CHECK_ARG(valid_kind(kind), "kind: %d is not an rq_registry_kind", (int)kind);
  RQ_CHECK_NOT_NULL(count);
  RQ_CHECK_ARG(capacity == 0 || names != NULL, "names is NULL with capacity %zu", capacity);
  rq__registry_ensure_builtins();
  lock();
  registry_table *t = &tables[kind];
  size_t n = t->count;
  *count = n;
  if (capacity < n && capacity != 0) {
    unlock();
    return rq__fail(RQ_ERR_INVALID_ARG, __func__, "capacity %zu is less than the %zu names", capacity, n);
  }
  if (capacity != 0)
    for (size_t i = 0; i < n; i++) names[i] = t->entries[i].name;
  unlock();
  return RQ_OK;
}

rq_status rq_plugin_load(const char *path) {
  RQ_CHECK_NOT_NULL(path);
  rq__registry_ensure_builtins();
  lock();
  /* RTLD_LOCAL: a plugin's symbols stay its own; it calls back into razorq
   * through the already-loaded librazorq. */
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) {
    const char *msg = dlerror();
    unlock();
    return rq__fail(RQ_ERR_IO, __func__, "cannot load %s: %s", path, msg ? msg : "unknown error");
  }
  const unsigned *abi = (const unsigned *)dlsym(handle, RQ_PLUGIN_ABI_SYMBOL);
  if (abi == NULL) {
    dlclose(handle);
    unlock();
    return rq__fail(RQ_ERR_ABI, __func__, "%s does not declare its ABI (RQ_PLUGIN_DECLARE_ABI)", path);
  }
  if (*abi != RQ_ABI_MAJOR) {
    unsigned got = *abi;
    dlclose(handle);
    unlock();
    return rq__fail(RQ_ERR_ABI, __func__, "%s was built for razorq ABI %u, this library is ABI %u", path,
                    got, (unsigned)RQ_ABI_MAJOR);
  }
  rq_plugin_init_fn init;
  void *sym = dlsym(handle, RQ_PLUGIN_INIT_SYMBOL);
  memcpy(&init, &sym, sizeof init); /* object -> function pointer, as POSIX allows */
  if (sym == NULL) {
    dlclose(handle);
    unlock();
    return rq__fail(RQ_ERR_NOT_FOUND, __func__, "%s exports no %s", path, RQ_PLUGIN_INIT_SYMBOL);
  }
  rq_error_clear();
  rq_status s = init(RQ_ABI_MAJOR);
  unlock();
  if (s != RQ_OK) {
    /* Classes it registered before failing stay (their code stays mapped);
     * the handle is deliberately not closed for the same reason. */
    const char *detail = rq_last_error();
    if (detail[0] == '\0') return rq__fail(s, __func__, "%s: rq_plugin_init failed", path);
    return s;
  }
  return RQ_OK;
}
