/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the .npy reader: any bytes must either load into a
 * consistent array or be refused with a message, never crash, leak or read
 * out of bounds. Linked with replay_main.c, the corpus (tests/fuzz/corpus/npy)
 * runs as an ordinary test without libFuzzer. */
#include <razorq/razorq.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rq_npy *npy = NULL;
  rq_status s = rq_npy_load_buffer(data, size, &npy);
  if (s != RQ_OK) {
    /* Refusals must explain themselves. */
    if (npy != NULL || rq_last_error()[0] == '\0') abort();
    return 0;
  }
  DLTensor view;
  if (rq_npy_dltensor(npy, &view) != RQ_OK) abort();
  if (view.ndim < 0 || view.ndim > RQ_NPY_MAX_DIMS || view.dtype.lanes != 1 || view.dtype.bits % 8 != 0) abort();
  size_t count = 1;
  for (int i = 0; i < view.ndim; i++) {
    if (view.shape[i] < 0) abort();
    count *= (size_t)view.shape[i];
  }
  /* The loaded data can be no larger than the input; touching every byte lets
   * the sanitizers check the handle really owns that much memory. */
  size_t nbytes = count * (view.dtype.bits / 8);
  if (nbytes > size) abort();
  volatile unsigned char sink = 0;
  for (size_t i = 0; i < nbytes; i++) sink ^= ((const unsigned char *)view.data)[i];
  (void)sink;
  rq_npy_destroy(npy);
  return 0;
}
