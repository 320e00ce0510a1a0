# SPDX-License-Identifier: Apache-2.0
"""Config key "bias_correction": the biases razorq leaves after convert against
a NumPy oracle of empirical bias correction (Nagel et al. 2019, section 4.2):
layer by layer in graph order, bias += mean over the calibration batches of
(float model's output - fake-quantized model's output) per output channel,
the fake-quantized model already carrying the earlier corrections. The
oracle takes only the qparams from the session and recomputes every
fake-quant, convolution and mean itself."""
import numpy as np
import pytest

import razorq

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def make_model(rng):
    """Conv(3x3, pad 1) -> Relu -> Flatten -> Gemm -> Relu -> Gemm: both
    channel layouts (axis 1 of [N, C, H, W] and of [N, C])."""
    inits = {"Wc": rng.randn(3, 2, 3, 3) * 0.5, "bc": rng.randn(3) * 0.1,
             "W1": rng.randn(8, 3 * 4 * 4) * 0.3, "b1": rng.randn(8) * 0.1,
             "W2": rng.randn(4, 8) * 0.5, "b2": rng.randn(4) * 0.1}
    inits = {k: v.astype(np.float32) for k, v in inits.items()}
    nodes = [helper.make_node("Conv", ["x", "Wc", "bc"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("Flatten", ["r"], ["f"], axis=1, name="flatten"),
             helper.make_node("Gemm", ["f", "W1", "b1"], ["h"], transB=1, name="fc1"),
             helper.make_node("Relu", ["h"], ["hr"], name="relu1"),
             helper.make_node("Gemm", ["hr", "W2", "b2"], ["y"], transB=1, name="fc2")]
    graph = helper.make_graph(nodes, "bc", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    return model.SerializeToString(), inits


def config(bias_correction, backend="native"):
    cfg = razorq.example_config(backend)
    g = cfg["global_qconfig"]
    g["w_qscheme"]["bit"] = 3  # coarse weights: a visible bias shift
    g["a_qscheme"]["bit"] = 4
    g["a_observer"] = {"type": "mmrazor.MinMaxObserver"}
    g["a_qscheme"].pop("averaging_constant", None)
    cfg["bias_correction"] = bias_correction
    return cfg


def fake_quant(x, fq):
    """PyTorch's fake_quantize_per_{tensor,channel}_affine in float32."""
    scale, zero_point = fq.params
    lo, hi = fq.quant_range
    if fq.per_channel:
        shape = [1] * x.ndim
        shape[fq.ch_axis] = -1
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    inv = np.float32(1) / scale
    q = np.clip(np.rint(x * inv) + zero_point, lo, hi)
    return ((q - zero_point) * scale).astype(np.float32)


def conv3x3(x, w, b):
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    n, _, h, wd = x.shape
    out = np.zeros((n, w.shape[0], h, wd), np.float64)
    for i in range(3):
        for j in range(3):
            out += np.einsum("nchw,oc->nohw", xp[:, :, i:i + h, j:j + wd].astype(np.float64), w[:, :, i, j])
    return out + b[None, :, None, None]


def oracle(inits, points, batches):
    """The corrected biases {name: values}, computed in float64."""
    act = {p.edge: p.fake_quant for p in points if not p.is_weight}
    wq = {p.edge: fake_quant(inits[p.edge], p.fake_quant) for p in points if p.is_weight}

    def edge(name, v, quantized):
        return fake_quant(v.astype(np.float32), act[name]).astype(np.float64) if quantized and name in act else v

    def forward(x, biases, quantized):
        """Each corrected node's output before any fake-quant on it."""
        w = wq if quantized else inits
        x = edge("x", x, quantized)
        c_raw = conv3x3(x, w["Wc"], biases["bc"])
        r = edge("r", np.maximum(edge("c", c_raw, quantized), 0), quantized)
        f = edge("f", r.reshape(len(r), -1), quantized)
        h_raw = f @ w["W1"].T.astype(np.float64) + biases["b1"]
        hr = edge("hr", np.maximum(edge("h", h_raw, quantized), 0), quantized)
        y_raw = hr @ w["W2"].T.astype(np.float64) + biases["b2"]
        return {"bc": c_raw, "b1": h_raw, "b2": y_raw}

    def channel_mean(outputs):
        return np.concatenate([o.reshape(o.shape[0], o.shape[1], -1).transpose(1, 0, 2).reshape(o.shape[1], -1)
                               for o in outputs], axis=1).mean(axis=1)

    float_biases = {k: inits[k].astype(np.float64) for k in ("bc", "b1", "b2")}
    ref = {k: channel_mean([forward(x, float_biases, False)[k] for x in batches]) for k in float_biases}
    biases = dict(float_biases)
    for k in ("bc", "b1", "b2"):  # graph order: each layer sees the earlier corrections
        got = channel_mean([forward(x, biases, True)[k] for x in batches])
        biases[k] = biases[k] + ref[k] - got
    return biases


def session_biases(session, tmp_path):
    path = tmp_path / "prepared.onnx"
    session.graph.save(str(path))
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}


@pytest.mark.parametrize("backend", ["native", "openvino"])
def test_corrected_biases_match_numpy_oracle(backend, tmp_path):
    rng = np.random.RandomState(7)
    data, inits = make_model(rng)
    batches = [rng.randn(16, 2, 4, 4).astype(np.float32), (rng.randn(9, 2, 4, 4) + 0.5).astype(np.float32)]
    session = razorq.Quantizer(config(True, backend)).prepare(razorq.Graph.from_bytes(data))
    for x in batches:
        session.calibrate(x)
    session.convert()
    expected = oracle(inits, session.points, batches)
    got = session_biases(session, tmp_path)
    for name in ("bc", "b1", "b2"):
        shift = np.abs(expected[name] - inits[name]).max()
        assert shift > 1e-3, f"{name}: the correction should be visible ({shift})"
        np.testing.assert_allclose(got[name], expected[name], rtol=0, atol=1e-5 * max(1.0, shift), err_msg=name)


def test_off_by_default_and_table_round_trip(tmp_path):
    rng = np.random.RandomState(3)
    data, inits = make_model(rng)
    x = rng.randn(20, 2, 4, 4).astype(np.float32)
    plain = razorq.Quantizer(config(False)).prepare(razorq.Graph.from_bytes(data))
    plain.calibrate(x)
    plain.convert()
    for name, value in session_biases(plain, tmp_path).items():
        if name in ("bc", "b1", "b2"):
            np.testing.assert_array_equal(value, inits[name])

    corrected = razorq.Quantizer(config(True)).prepare(razorq.Graph.from_bytes(data))
    corrected.calibrate(x)
    corrected.convert()
    table = tmp_path / "t.rqcal"
    corrected.save_calibration(str(table))
    loaded = razorq.Quantizer(config(True)).prepare(razorq.Graph.from_bytes(data))
    loaded.load_calibration(str(table))
    want, have = session_biases(corrected, tmp_path), session_biases(loaded, tmp_path)
    for name in ("bc", "b1", "b2"):
        np.testing.assert_array_equal(have[name], want[name])
    np.testing.assert_array_equal(loaded.run(x)["y"], corrected.run(x)["y"])


def test_needs_calibration_batches():
    rng = np.random.RandomState(5)
    data, _ = make_model(rng)
    session = razorq.Quantizer(config(True)).prepare(razorq.Graph.from_bytes(data))
    x = rng.randn(8, 2, 4, 4).astype(np.float32)
    session.observe("x", x)  # engine-fed statistics: no batch to correct with
    with pytest.raises(razorq.StateError, match="bias_correction needs the calibration batches"):
        session.convert()


def test_gemm_without_transpose_and_broadcast_bias(tmp_path):
    """Gemm with transB=0 (channels on W's axis 1) is corrected like the
    oracle says; a Gemm whose bias is one broadcast value is left alone."""
    rng = np.random.RandomState(11)
    inits = {"Wa": (rng.randn(4, 6) * 0.5).astype(np.float32), "ba": (rng.randn(6) * 0.1).astype(np.float32),
             "Wb": (rng.randn(3, 6) * 0.5).astype(np.float32), "bb": np.array([0.25], np.float32)}
    nodes = [helper.make_node("Gemm", ["x", "Wa", "ba"], ["h"], name="a"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("Gemm", ["r", "Wb", "bb"], ["y"], transB=1, name="b")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()
    x = rng.randn(30, 4).astype(np.float32)
    session = razorq.Quantizer(config(True, "openvino")).prepare(razorq.Graph.from_bytes(data))
    session.calibrate(x)
    session.convert()
    points = {p.edge: p.fake_quant for p in session.points}
    xq, waq = fake_quant(x, points["x"]), fake_quant(inits["Wa"], points["Wa"])
    expected = inits["ba"] + (x.astype(np.float64) @ inits["Wa"]).mean(0) - (xq.astype(np.float64) @ waq).mean(0)
    got = session_biases(session, tmp_path)
    assert np.abs(expected - inits["ba"]).max() > 1e-3
    np.testing.assert_allclose(got["ba"], expected, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(got["bb"], inits["bb"])
