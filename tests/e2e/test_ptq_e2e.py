# SPDX-License-Identifier: Apache-2.0
"""End to end: razorq ptq -> QDQ ONNX -> ONNX Runtime, on the shared digits
models, for every built-in backend.

Oracles: ONNX Runtime (npm onnxruntime-node) running the exported model, and
PyTorch 1.13 FX PTQ accuracies (fx_baseline.json, written by
gen_fx_baseline.py). Targets from issue #6: 8-bit within 0.2% of float and at
least the FX baseline; the exported model agrees with razorq's own
fake-quant evaluation on >= 99.8% of predictions, top-1 within 0.2%; 4-bit
at least the FX min/max baseline on digits_mlp and digits_dw (digits_cnn's
4-bit baseline, above its float accuracy, is reached by reproducing FX's
quantization exactly: test_fx_parity.py; see doc/benchmarks-models.md).
"""
import json
import os
import subprocess

import numpy as np
import pytest
from e2e_tools import HERE, RAZORQ, SOURCE, ort_run, razorq

DATA = os.path.join(SOURCE, "tests", "data")
BASELINE = json.load(open(os.path.join(HERE, "fx_baseline.json")))
MODELS = ["digits_cnn", "digits_mlp", "digits_dw"]
BACKENDS = ["openvino", "tensorrt", "native", "onnxruntime", "academic"]
TEST_X = os.path.join(DATA, "digits_test_x.npy")
TEST_Y = os.path.join(DATA, "digits_test_y.npy")
CALIB_X = os.path.join(DATA, "digits_calib_x.npy")


def example_config(tmp_path, backend, bits=8):
    cfg = json.loads(razorq("config", "--example", backend))
    for side in ("w_qscheme", "a_qscheme"):
        cfg["global_qconfig"][side]["bit"] = bits
    path = tmp_path / f"{backend}-{bits}bit.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def ort_logits(model, tmp_path):
    return ort_run(model, TEST_X, tmp_path)


def fake_quant_eval(model, config, tmp_path):
    logits = tmp_path / "rq_logits.npy"
    result = json.loads(razorq("test", model, "--data", TEST_X, "--labels", TEST_Y, "--config", config,
                               "--calib", CALIB_X, "--quiet", "--json", "--save-logits", str(logits)))
    return result["top1"], np.load(logits)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", MODELS)
def test_8bit_export_runs_in_onnxruntime_like_razorq(name, backend, tmp_path):
    model = os.path.join(DATA, f"{name}.onnx")
    config = example_config(tmp_path, backend)
    exported = str(tmp_path / "quantized.onnx")
    razorq("ptq", model, "--config", config, "--calib", CALIB_X, "-o", exported, "--quiet")

    labels = np.load(TEST_Y)
    top1, rq = fake_quant_eval(model, config, tmp_path)
    assert top1 == pytest.approx((rq.argmax(1) == labels).mean())
    ort = ort_logits(exported, tmp_path)
    ort_top1 = (ort.argmax(1) == labels).mean()
    agreement = (ort.argmax(1) == rq.argmax(1)).mean()
    assert agreement >= 0.998, f"ONNX Runtime agrees on {agreement:.4f} of predictions"
    assert abs(ort_top1 - top1) <= 0.002 + 1e-9
    # razorq's executor runs the exported QDQ model too.
    exported_top1 = json.loads(razorq("test", exported, "--data", TEST_X, "--labels", TEST_Y, "--json"))["top1"]
    assert abs(exported_top1 - ort_top1) <= 0.002 + 1e-9

    float_top1 = BASELINE[name]["float"]
    assert top1 >= float_top1 - 0.002 - 1e-9, f"{top1} vs float {float_top1}"
    if backend == "openvino":  # the FX baseline's qconfig
        assert top1 >= BASELINE[name]["fx_ptq_8bit"] - 1e-9


def corrected_config(tmp_path, bits=4):
    """The 4-bit config doc/benchmarks-models.md recommends: the openvino
    example with affine activations (a symmetric quint8 grid leaves a ReLU
    output 8 of its 16 levels) and empirical bias correction."""
    cfg = json.loads(open(example_config(tmp_path, "openvino", bits=bits)).read())
    cfg["global_qconfig"]["a_qscheme"]["is_symmetry"] = False
    cfg["bias_correction"] = True
    path = tmp_path / f"openvino-{bits}bit-affine-bc.json"
    path.write_text(json.dumps(cfg))
    return str(path)


# digits_cnn is not listed: its FX baseline (0.996) is above its float top-1
# (0.992), two test images that FX's quantization noise happens to fix. The
# native backend with FX's placement reproduces it, prediction for
# prediction (test_fx_parity.py); razorq's own configs chosen without
# looking at the test set give 0.986 to 0.994 (doc/benchmarks-models.md,
# "4-bit accuracy").
@pytest.mark.parametrize("config", ["example", "affine+bias_correction"])
@pytest.mark.parametrize("name", ["digits_mlp", "digits_dw"])
def test_4bit_beats_fx_minmax_baseline(name, config, tmp_path):
    model = os.path.join(DATA, f"{name}.onnx")
    cfg = example_config(tmp_path, "openvino", bits=4) if config == "example" else corrected_config(tmp_path)
    top1, _ = fake_quant_eval(model, cfg, tmp_path)
    assert top1 >= BASELINE[name]["fx_ptq_4bit"] - 1e-9, f"{top1} < FX {BASELINE[name]['fx_ptq_4bit']}"


@pytest.mark.parametrize("name", MODELS)
def test_4bit_agrees_with_float_at_least_as_often_as_fx(name, tmp_path):
    """Fidelity, the measure top-1 cannot give on digits_cnn: the share of test
    samples on which the 4-bit model predicts what the float model (run by
    ONNX Runtime) predicts, against FX's share in fx_baseline.json."""
    model = os.path.join(DATA, f"{name}.onnx")
    float_pred = ort_logits(model, tmp_path).argmax(1)
    _, rq = fake_quant_eval(model, corrected_config(tmp_path), tmp_path)
    agreement = (rq.argmax(1) == float_pred).mean()
    fx = BASELINE[name]["fx_ptq_4bit_float_agreement"]
    assert agreement >= fx - 1e-9, f"{agreement} < FX {fx}"


@pytest.mark.parametrize("name", MODELS)
def test_bias_corrected_export_runs_in_onnxruntime_like_razorq(name, tmp_path):
    """The corrected biases reach the exported model: ONNX Runtime predicts
    what razorq's fake-quant evaluation predicts, and the calibration table
    reproduces the export byte for byte. At 8 bits: at 4 bits ONNX Runtime
    already differs from razorq's evaluation without bias correction
    (digits_dw, openvino example config: 99.0% of predictions agree;
    QuantizeLinear's x/s and PyTorch's x*(1/s) round the exact halves of
    average pools apart, doc/backends.md)."""
    model = os.path.join(DATA, f"{name}.onnx")
    config = corrected_config(tmp_path, bits=8)
    exported, again, table = tmp_path / "q.onnx", tmp_path / "again.onnx", tmp_path / "t.rqcal"
    razorq("ptq", model, "--config", config, "--calib", CALIB_X, "-o", str(exported), "--calib-table", str(table), "-q")
    razorq("ptq", model, "--config", config, "--from-table", str(table), "-o", str(again), "-q")
    assert exported.read_bytes() == again.read_bytes()
    top1, rq = fake_quant_eval(model, config, tmp_path)
    ort = ort_logits(str(exported), tmp_path)
    assert (ort.argmax(1) == rq.argmax(1)).mean() >= 0.998
    assert abs((ort.argmax(1) == np.load(TEST_Y)).mean() - top1) <= 0.002 + 1e-9
    # The biases moved: without correction the export differs.
    cfg = json.loads(open(config).read())
    cfg["bias_correction"] = False
    (tmp_path / "plain.json").write_text(json.dumps(cfg))
    plain = tmp_path / "plain.onnx"
    razorq("ptq", model, "--config", str(tmp_path / "plain.json"), "--calib", CALIB_X, "-o", str(plain), "-q")
    assert plain.read_bytes() != exported.read_bytes()


def test_narrow_range_export_is_exact_in_onnxruntime(tmp_path):
    """3-bit weights and activations: the Clip before QuantizeLinear keeps the
    fake-quant's [qmin, qmax] in a uint8/int8 QDQ model."""
    model = os.path.join(DATA, "digits_mlp.onnx")
    config = example_config(tmp_path, "native", bits=3)
    exported = str(tmp_path / "q3.onnx")
    razorq("ptq", model, "--config", config, "--calib", CALIB_X, "-o", exported, "--quiet")
    _, rq = fake_quant_eval(model, config, tmp_path)
    ort = ort_logits(exported, tmp_path)
    assert (ort.argmax(1) == rq.argmax(1)).mean() >= 0.998


def test_calibration_table_and_trt_cache(tmp_path):
    """A calibration table reproduces the export byte for byte and belongs to
    its model; the TensorRT cache has TensorRT's layout."""
    cnn, mlp = os.path.join(DATA, "digits_cnn.onnx"), os.path.join(DATA, "digits_mlp.onnx")
    config = example_config(tmp_path, "tensorrt")
    first, again = tmp_path / "a.onnx", tmp_path / "b.onnx"
    table, cache = tmp_path / "t.rqcal", tmp_path / "t.cache"
    razorq("ptq", cnn, "-c", config, "--calib", CALIB_X, "-o", str(first), "--calib-table", str(table),
           "--trt-cache", str(cache), "-q")
    again_cache = tmp_path / "again.cache"
    razorq("ptq", cnn, "-c", config, "--from-table", str(table), "-o", str(again), "--trt-cache", str(again_cache), "-q")
    assert first.read_bytes() == again.read_bytes()
    assert again_cache.read_bytes() == cache.read_bytes()  # the cache comes from the qparams, table or not
    # quint8 activations have no TensorRT scale: refused, and nothing of the run is left behind.
    native, out = example_config(tmp_path, "native"), tmp_path / "n.onnx"
    refused = subprocess.run([RAZORQ, "ptq", cnn, "-c", native, "--calib", CALIB_X, "-o", str(out),
                              "--calib-table", str(tmp_path / "n.rqcal"), "--trt-cache", str(tmp_path / "n.cache")],
                             capture_output=True, text=True)
    assert refused.returncode == 1 and "TensorRT's cache holds symmetric int8 scales" in refused.stderr
    assert not any((tmp_path / n).exists() for n in ("n.onnx", "n.rqcal", "n.cache"))
    wrong = subprocess.run([RAZORQ, "ptq", mlp, "-c", config, "--from-table", str(table), "-o", str(tmp_path / "c.onnx")],
                           capture_output=True, text=True)
    assert wrong.returncode == 1 and "made for another model" in wrong.stderr
    lines = cache.read_text().splitlines()
    assert lines[0] == "TRT-8601-MinMaxCalibration"
    entries = dict(line.split(": ") for line in lines[1:])
    # The graph input's scale: amax of the calibration data / 127, as big-endian float32 bits
    # (within one ulp: amax comes back from the [-128, 127] grid's scale, amax / 127.5).
    amax = np.float32(np.abs(np.load(CALIB_X)).max())
    got = np.frombuffer(bytes.fromhex(entries["input"]), dtype=">f4")[0]
    assert abs(int(np.float32(got).view(np.int32)) - int((amax / np.float32(127)).view(np.int32))) <= 1
    assert all(len(v) == 8 for v in entries.values())


@pytest.mark.parametrize("bits,tolerance", [(8, 0.02), (4, 0.05)])
def test_entropy_calibration_keeps_accuracy(bits, tolerance, tmp_path):
    """TensorRT-style entropy calibration on ReLU networks: within a few
    percent of float (before the zero-bin fix, digits_cnn fell to 0.54)."""
    for name in MODELS:
        cfg = json.loads(razorq("config", "--example", "openvino"))
        cfg["global_qconfig"]["a_observer"] = {"type": "mmrazor.EntropyObserver"}
        for side in ("w_qscheme", "a_qscheme"):
            cfg["global_qconfig"][side]["bit"] = bits
        cfg["global_qconfig"]["a_qscheme"].pop("averaging_constant")
        path = tmp_path / f"entropy-{bits}.json"
        path.write_text(json.dumps(cfg))
        top1, _ = fake_quant_eval(os.path.join(DATA, f"{name}.onnx"), str(path), tmp_path)
        assert top1 >= BASELINE[name]["float"] - tolerance, f"{name} {bits}-bit entropy: {top1}"


def test_integer_shape_edges_are_left_alone(tmp_path):
    """A Concat of Shape outputs (int64) next to a float Concat: only float
    edges get fake-quants, and ONNX Runtime runs the export like razorq."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.RandomState(0)
    inits = [numpy_helper.from_array(rng.randn(8, 4).astype(np.float32), "W1"),
             numpy_helper.from_array(rng.randn(3, 16).astype(np.float32), "W2"),
             numpy_helper.from_array(np.array([2, 4], dtype=np.int64), "c24"),
             numpy_helper.from_array(np.array(0, dtype=np.int64), "idx"),
             numpy_helper.from_array(np.array([0], dtype=np.int64), "ax")]
    nodes = [helper.make_node("Gemm", ["x", "W1"], ["y1"], transB=1),
             helper.make_node("Shape", ["y1"], ["s"]),
             helper.make_node("Gather", ["s", "idx"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "ax"], ["n1"]),
             helper.make_node("Concat", ["n1", "c24"], ["newshape"], axis=0),
             helper.make_node("Reshape", ["y1", "newshape"], ["r"]),
             helper.make_node("Concat", ["r", "r"], ["rr"], axis=1),
             helper.make_node("Flatten", ["rr"], ["f"], axis=1),
             helper.make_node("Gemm", ["f", "W2"], ["out"], transB=1)]
    graph = helper.make_graph(nodes, "shapes", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 3])], inits)
    model = tmp_path / "shapes.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(model))
    x = tmp_path / "x.npy"
    np.save(x, rng.rand(64, 4).astype(np.float32))
    exported = tmp_path / "q.onnx"
    razorq("ptq", str(model), "-c", example_config(tmp_path, "native"), "--calib", str(x), "-o", str(exported), "-q")
    quantized = onnx.load(str(exported))
    dq_inputs = {n.input[0] for n in quantized.graph.node if n.op_type == "QuantizeLinear"}
    assert not dq_inputs & {"s", "n", "n1", "newshape"}, dq_inputs
    razorq("run", str(exported), "-i", str(x), "-o", str(tmp_path / "ours.npy"))
    assert np.abs(np.load(tmp_path / "ours.npy") - ort_run(exported, x, tmp_path)).max() <= 1e-4
