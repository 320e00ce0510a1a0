/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the JSON configs: any bytes, as a config string, go
 * to rq_quantizer_create, rq_observer_create, rq_fake_quant_create and
 * rq_backend_config_create. Each either makes a working object or refuses
 * with a message and no object: never a crash, a leak or an out-of-bounds
 * access. Objects that are made observe and fake-quantize a small tensor
 * (odd values, a NaN), so a config that parses but leaves nonsense behind
 * is exercised too. Linked with replay_main.c, the corpus
 * (tests/fuzz/corpus/config) runs as an ordinary test without libFuzzer. */
#include <razorq/razorq.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A refusal must leave no object and say why. */
static void check_refusal(rq_status s, const void *object) {
  if (s != RQ_OK && (object != NULL || rq_last_error()[0] == '\0')) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (text == NULL) return 0;
  memcpy(text, data, size);
  text[size] = '\0';

  float values[2 * 3 * 2] = {-3.5f, 0.0f, 2.25f, 1e-30f, -0.0f, 7.0f, 0.5f, -1.0f, 100.0f, 3.0f, NAN, 1.0f};
  int64_t shape[3] = {2, 3, 2};
  DLTensor x = {.data = values, .device = {kDLCPU, 0}, .ndim = 3, .dtype = {kDLFloat, 32, 1}, .shape = shape};
  float out[12];
  DLTensor y = x;
  y.data = out;

  rq_quantizer *q = NULL;
  rq_status s = rq_quantizer_create(text, &q);
  check_refusal(s, q);
  rq_quantizer_destroy(q);

  rq_observer *obs = NULL;
  s = rq_observer_create(text, &obs);
  check_refusal(s, obs);
  if (obs != NULL) {
    (void)rq_observer_observe(obs, &x); /* may refuse the NaN: both are fine */
    float scale[3];
    int32_t zero_point[3];
    size_t count = 0;
    (void)rq_observer_qparams(obs, scale, zero_point, 3, &count);
    rq_observer_destroy(obs);
  }

  rq_fake_quant *fq = NULL;
  s = rq_fake_quant_create(text, &fq);
  check_refusal(s, fq);
  if (fq != NULL) {
    (void)rq_fake_quant_forward(fq, &x, &y);
    rq_fake_quant_destroy(fq);
  }

  rq_backend_config *backend = NULL;
  s = rq_backend_config_create(text, &backend);
  check_refusal(s, backend);
  rq_backend_config_destroy(backend);

  free(text);
  return 0;
}
