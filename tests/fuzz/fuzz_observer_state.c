/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for rq_observer_load, the reader of saved observer
 * state (a protobuf message wrapping the inner state with a format version
 * and an xxh3-64 checksum). Each input is loaded twice: as it is, which
 * tests the outer message and the checksum; and, when it parses as the
 * outer message, again with the version and checksum made right, so that
 * mutated inner bytes reach the inner parser and the classes' load
 * functions instead of stopping at the checksum (as PNG fuzzers skip CRCs).
 * A refusal must come with a message and no observer; a loaded observer
 * must answer for its qparams, save to bytes that load again into an
 * observer that saves the same bytes, and observe a batch. Linked with
 * replay_main.c, the corpus (tests/fuzz/corpus/observer_state) runs as an
 * ordinary test without libFuzzer. */
#include <razorq/razorq.h>

#include "core/pb_alloc.h"
#include "observers/observer_state.pb-c.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const void *data, size_t size) {
  rq_observer *obs = NULL;
  rq_status s = rq_observer_load(data, size, &obs);
  if (s != RQ_OK) {
    if (obs != NULL || rq_last_error()[0] == '\0') abort();
    return;
  }
  size_t count = 0;
  (void)rq_observer_qparams(obs, NULL, NULL, 0, &count);
  void *saved = NULL, *again = NULL;
  size_t saved_size = 0, again_size = 0;
  if (rq_observer_save(obs, &saved, &saved_size) == RQ_OK) {
    rq_observer *copy = NULL;
    if (rq_observer_load(saved, saved_size, &copy) != RQ_OK) abort(); /* its own bytes */
    if (rq_observer_save(copy, &again, &again_size) != RQ_OK) abort();
    if (again_size != saved_size || memcmp(again, saved, saved_size) != 0) abort();
    rq_observer_destroy(copy);
  }
  rq_observer_free_saved(saved);
  rq_observer_free_saved(again);
  float values[8] = {-2.0f, -0.5f, 0.0f, 0.25f, 1.0f, 3.0f, -7.5f, 4.0f};
  int64_t shape[2] = {2, 4};
  DLTensor x = {.data = values, .device = {kDLCPU, 0}, .ndim = 2, .dtype = {kDLFloat, 32, 1}, .shape = shape};
  (void)rq_observer_observe(obs, &x); /* a saved per-channel shape may not fit: refusing is fine */
  rq_observer_destroy(obs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  exercise(data, size);
  Razorq__Observers__SavedObserver *saved =
      razorq__observers__saved_observer__unpack(&rq__pb_allocator, size, data);
  if (saved == NULL) return 0;
  saved->format_version = 1;
  saved->xxh3 = XXH3_64bits(saved->state.data, saved->state.len);
  size_t fixed_size = razorq__observers__saved_observer__get_packed_size(saved);
  uint8_t *fixed = malloc(fixed_size ? fixed_size : 1);
  if (fixed != NULL) {
    razorq__observers__saved_observer__pack(saved, fixed);
    exercise(fixed, fixed_size);
    free(fixed);
  }
  razorq__observers__saved_observer__free_unpacked(saved, &rq__pb_allocator);
  return 0;
}
