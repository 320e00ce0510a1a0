/* SPDX-License-Identifier: Apache-2.0 */
/* The qconfig the session tests quantize with: issue #6's (per-channel
 * min/max qint8 symmetric weights, min/max quint8 affine activations), for
 * a backend and bit width, with optional extra top-level keys. */
#ifndef RQ_TESTS_SESSION_QCONFIG_H
#define RQ_TESTS_SESSION_QCONFIG_H

#include <razorq/razorq.h>

#include <check.h>
#include <stdio.h>

/* backend: an mmrazor quantizer name without the "mmrazor." prefix;
 * w_fake_quant: a fake-quant class name without it; extra: "" or more
 * members, each after a comma (", \"key\": value"). */
static inline rq_quantizer *qconfig_quantizer(const char *backend, const char *w_fake_quant, int w_bits,
                                              int a_bits, const char *extra) {
  char cfg[2048];
  snprintf(cfg, sizeof cfg,
           "{\"global_qconfig\": {"
           "\"w_observer\": {\"type\": \"mmrazor.PerChannelMinMaxObserver\"},"
           "\"a_observer\": {\"type\": \"mmrazor.MinMaxObserver\"},"
           "\"w_fake_quant\": {\"type\": \"mmrazor.%s\"}, \"a_fake_quant\": {\"type\": \"mmrazor.FakeQuantize\"},"
           "\"w_qscheme\": {\"qdtype\": \"qint8\", \"bit\": %d, \"is_symmetry\": true, \"is_symmetric_range\": true},"
           "\"a_qscheme\": {\"qdtype\": \"quint8\", \"bit\": %d, \"is_symmetry\": false}},"
           "\"quantizer\": {\"type\": \"mmrazor.%s\"}%s}",
           w_fake_quant, w_bits, a_bits, backend, extra);
  rq_quantizer *q;
  ck_assert_msg(rq_quantizer_create(cfg, &q) == RQ_OK, "%s", rq_last_error());
  return q;
}

/* Issue #6's qconfig at one bit width for weights and activations. */
static inline rq_quantizer *issue6_quantizer(const char *backend, int bits, const char *extra) {
  return qconfig_quantizer(backend, "FakeQuantize", bits, bits, extra);
}

#endif
