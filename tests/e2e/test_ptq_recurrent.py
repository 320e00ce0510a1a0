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
import subprocess

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("RAZORQ_SOURCE_ROOT", os.path.join(HERE, "..", ".."))
RAZORQ = os.environ["RAZORQ_CLI"]
DATA = os.path.join(SOURCE, "tests", "data", "recurrent")
MODEL = os.path.join(DATA, "seq_rnn.onnx")
CALIB_X = os.path.join(DATA, "calib_x.npy")
TEST_X = os.path.join(DATA, "test_x.npy")
TEST_Y = os.path.join(DATA, "test_y.npy")
BACKENDS = ["openvino", "tensorrt", "native", "onnxruntime", "academic"]


def razorq(*args):
    done = subprocess.run([RAZORQ, *args], capture_output=True, text=True)
    assert done.returncode == 0, f"razorq {' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout, done.stderr


def ort_logits(model, tmp_path):
    out = tmp_path / "ort_logits.npy"
    done = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), model, TEST_X, str(out)],
                          capture_output=True, text=True, env={**os.environ, "RAZORQ_SOURCE_ROOT": SOURCE})
    assert done.returncode == 0, done.stderr
    return np.load(out)


def razorq_logits(model, tmp_path, *extra):
    logits = tmp_path / "rq_logits.npy"
    out, _ = razorq("test", model, "--data", TEST_X, "--labels", TEST_Y, "--quiet", "--json",
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
    config.write_text(razorq("config", "--example", backend)[0])
    exported = str(tmp_path / "quantized.onnx")
    _, notes = razorq("ptq", MODEL, "--config", str(config), "--calib", CALIB_X, "--batch", "32", "-o", exported)
    assert "LSTM (1 node): runs in float" in notes and "GRU (1 node): runs in float" in notes, notes

    top1, rq = razorq_logits(MODEL, tmp_path, "--config", str(config), "--calib", CALIB_X)
    ort = ort_logits(exported, tmp_path)
    agreement = (ort.argmax(1) == rq.argmax(1)).mean()
    assert agreement >= 0.99, f"ONNX Runtime agrees with razorq's fake-quant evaluation on {agreement:.4f}"
    # 8 bits keep the float model's predictions (random weights: near-ties may flip)
    assert top1 >= 0.9, top1
