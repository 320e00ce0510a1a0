# SPDX-License-Identifier: Apache-2.0
"""End to end on a recurrent model (Conv1d -> bidirectional LSTM -> GRU ->
Linear as PyTorch 1.13 exports it; tests/e2e/gen_recurrent.py): the executor
runs it like ONNX Runtime, and razorq ptq -> QDQ ONNX -> ONNX Runtime works
for every built-in backend, the recurrent nodes staying in float.

Oracles: ONNX Runtime (npm onnxruntime-node) on the float and the exported
model; the labels are the float PyTorch model's predictions.
"""
import json
import os

import numpy as np
import pytest
from e2e_tools import SOURCE, ort_run, razorq_run

DATA = os.path.join(SOURCE, "tests", "data", "recurrent")
MODEL = os.path.join(DATA, "seq_rnn.onnx")
CALIB_X = os.path.join(DATA, "calib_x.npy")
TEST_X = os.path.join(DATA, "test_x.npy")
TEST_Y = os.path.join(DATA, "test_y.npy")
BACKENDS = ["openvino", "tensorrt", "native", "onnxruntime", "academic"]


def ort_logits(model, tmp_path):
    return ort_run(model, TEST_X, tmp_path)


def razorq_logits(model, tmp_path, *extra):
    logits = tmp_path / "rq_logits.npy"
    out, _ = razorq_run("test", model, "--data", TEST_X, "--labels", TEST_Y, "--quiet", "--json",
                    "--save-logits", str(logits), *extra)
    return json.loads(out)["top1"], np.load(logits)


def test_float_model_runs_like_onnxruntime(tmp_path):
    top1, rq = razorq_logits(MODEL, tmp_path)
    ort = ort_logits(MODEL, tmp_path)
    np.testing.assert_allclose(rq, ort, rtol=1e-4, atol=1e-5)
    assert top1 == 1.0  # the labels are the float model's predictions


@pytest.mark.parametrize("backend", BACKENDS)
def test_8bit_export_runs_in_onnxruntime_like_razorq(backend, tmp_path):
    config = tmp_path / f"{backend}.json"
    config.write_text(razorq_run("config", "--example", backend)[0])
    exported = str(tmp_path / "quantized.onnx")
    _, notes = razorq_run("ptq", MODEL, "--config", str(config), "--calib", CALIB_X, "--batch", "32", "-o", exported)
    assert "LSTM (1 node): runs in float" in notes and "GRU (1 node): runs in float" in notes, notes

    top1, rq = razorq_logits(MODEL, tmp_path, "--config", str(config), "--calib", CALIB_X)
    ort = ort_logits(exported, tmp_path)
    agreement = (ort.argmax(1) == rq.argmax(1)).mean()
    assert agreement >= 0.99, f"ONNX Runtime agrees with razorq's fake-quant evaluation on {agreement:.4f}"
    # 8 bits keep the float model's predictions (random weights: near-ties may flip)
    assert top1 >= 0.9, top1
