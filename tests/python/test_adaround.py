# SPDX-License-Identifier: Apache-2.0
"""AdaRound (w_fake_quant "mmrazor.AdaRoundFakeQuantize", config key
"reconstruction") through the public API, against a NumPy oracle that takes
only the qparams from the session: every learned weight is its float value
rounded down or up onto the weight's grid (nothing else), and, with the
quantized model's own inputs recomputed in NumPy, every layer's output
reconstruction error is below that of rounding to nearest. The learned
rounding survives a calibration table round trip; a failed convert leaves
nothing behind. (The exact rounding decisions are checked against PyTorch in
tests/e2e/test_adaround.py.)"""
import numpy as np
import pytest

import razorq

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from test_bias_correction import conv3x3, fake_quant, make_model, session_biases  # noqa: E402

LAYERS = {"Wc": "conv", "W1": "fc1", "W2": "fc2"}


def config(iters=2000, bias_correction=False, adaround=True):
    cfg = razorq.example_config("native")
    g = cfg["global_qconfig"]
    g["w_qscheme"]["bit"] = 3
    g["a_qscheme"]["bit"] = 6
    g["a_observer"] = {"type": "mmrazor.MinMaxObserver"}
    g["a_qscheme"].pop("averaging_constant", None)
    if adaround:
        g["w_fake_quant"] = {"type": "mmrazor.AdaRoundFakeQuantize"}
    cfg["reconstruction"] = {"loss": {"iters": iters}}
    cfg["bias_correction"] = bias_correction
    return cfg


def calibrated(cfg, data, batches):
    session = razorq.Quantizer(cfg).prepare(razorq.Graph.from_bytes(data))
    for x in batches:
        session.calibrate(x)
    session.convert()
    return session


def layer_inputs(weights, biases, points, batches):
    """Each layer's input in the quantized model (activation fake-quants
    recomputed in NumPy, the given weights), all batches stacked."""
    act = {p.edge: p.fake_quant for p in points if not p.is_weight}

    def edge(name, v):
        return fake_quant(v.astype(np.float32), act[name]) if name in act else v.astype(np.float32)

    out = {k: [] for k in LAYERS}
    for x in batches:
        xq = edge("x", x)
        r = edge("r", np.maximum(edge("c", conv3x3(xq, weights["Wc"], biases["bc"])), 0))
        f = edge("f", r.reshape(len(r), -1))
        hr = edge("hr", np.maximum(edge("h", f @ weights["W1"].T.astype(np.float64) + biases["b1"]), 0))
        out["Wc"].append(xq)
        out["W1"].append(f)
        out["W2"].append(hr)
    return {k: np.concatenate(v) for k, v in out.items()}


def reconstruction_error(name, x, w_rounded, w_float):
    """E ||(W~ - W) x||^2: summed over output channels, averaged over samples and positions."""
    d = (w_rounded.astype(np.float64) - w_float)
    if name == "Wc":
        y = conv3x3(x, d, np.zeros(d.shape[0]))
        return float((y ** 2).sum(axis=1).mean())
    return float(((x.astype(np.float64) @ d.T) ** 2).sum(axis=1).mean())


def test_learned_rounding_is_up_or_down_and_beats_nearest(tmp_path):
    rng = np.random.RandomState(7)
    data, inits = make_model(rng)
    batches = [rng.randn(16, 2, 4, 4).astype(np.float32), (rng.randn(9, 2, 4, 4) + 0.5).astype(np.float32)]
    session = calibrated(config(), data, batches)
    got = session_biases(session, tmp_path)  # every initializer of the session's graph
    weights_fq = {p.edge: p.fake_quant for p in session.points if p.is_weight}
    inputs = layer_inputs(got, inits, session.points, batches)
    notes = [n for n in session.notes if n.startswith("AdaRound:")]
    assert len(notes) == 3, session.notes
    for name in LAYERS:
        fq = weights_fq[name]
        scale, zero_point = fq.params
        lo, hi = fq.quant_range
        s = scale.reshape([-1] + [1] * (inits[name].ndim - 1))
        z = zero_point.reshape(s.shape)
        floor = np.floor(inits[name] / s)
        q = np.rint(got[name] / s) + z
        # On the grid, exactly, and one of the two neighbours of W / s.
        np.testing.assert_array_equal(((q - z) * s).astype(np.float32), got[name], err_msg=name)
        down, up = np.clip(floor + z, lo, hi), np.clip(floor + 1 + z, lo, hi)
        assert np.all((q == down) | (q == up)), name
        nearest = fake_quant(inits[name], fq)
        changed = np.mean(got[name] != nearest)
        # The quantity AdaRound minimises, recomputed here: lower than nearest's.
        learned = reconstruction_error(name, inputs[name], got[name], inits[name])
        plain = reconstruction_error(name, inputs[name], nearest, inits[name])
        assert 0 < changed < 0.5, f"{name}: {changed:.2%} of weights rounded away from nearest"
        assert learned < 0.97 * plain, f"{name}: {learned} vs nearest {plain}"
        # The session's note reports the same two numbers.
        note = next(n for n in notes if f"'{LAYERS[name]}'" in n)
        reported = [float(t) for t in note.replace(",", " ").split() if t[0].isdigit()]
        np.testing.assert_allclose(reported, [plain, learned], rtol=2e-3, err_msg=note)


def test_table_round_trip_and_export_carry_the_rounding(tmp_path):
    rng = np.random.RandomState(3)
    data, inits = make_model(rng)
    x = rng.randn(20, 2, 4, 4).astype(np.float32)
    cfg = config(bias_correction=True)
    session = calibrated(cfg, data, [x])
    table = tmp_path / "t.rqcal"
    session.save_calibration(str(table))
    loaded = razorq.Quantizer(cfg).prepare(razorq.Graph.from_bytes(data))
    loaded.load_calibration(str(table))
    want, have = session_biases(session, tmp_path), session_biases(loaded, tmp_path)
    for name in ("Wc", "W1", "W2", "bc", "b1", "b2"):
        np.testing.assert_array_equal(have[name], want[name], err_msg=name)
    np.testing.assert_array_equal(loaded.run(x)["y"], session.run(x)["y"])
    # The QDQ export stores the learned integers.
    out = tmp_path / "q.onnx"
    session.export(str(out))
    model = onnx.load(str(out))
    ints = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    weights_fq = {p.edge: p.fake_quant for p in session.points if p.is_weight}
    for name in LAYERS:
        stored = ints[name + "_quantized"]
        scale, zero_point = weights_fq[name].params
        s = scale.reshape([-1] + [1] * (inits[name].ndim - 1))
        np.testing.assert_array_equal(stored.astype(np.float64),
                                      np.rint(want[name] / s) + zero_point.reshape(s.shape), err_msg=name)


def test_progress_reports_every_layer_to_the_end():
    rng = np.random.RandomState(4)
    data, _ = make_model(rng)
    session = razorq.Quantizer(config(iters=500)).prepare(razorq.Graph.from_bytes(data))
    session.calibrate(rng.randn(12, 2, 4, 4).astype(np.float32))
    seen = []
    session.convert(progress=lambda what, done, total: seen.append((what, done, total)))
    assert {what for what, _, _ in seen} == {"AdaRound"}
    assert {total for _, _, total in seen} == {3 * 500}  # three layers
    done = [d for _, d, _ in seen]
    assert done == sorted(done) and done[-1] == 1500 and 10 <= len(done) <= 300


def test_failed_convert_leaves_nothing_behind():
    rng = np.random.RandomState(5)
    data, _ = make_model(rng)
    x = rng.randn(12, 2, 4, 4).astype(np.float32)
    session = razorq.Quantizer(config()).prepare(razorq.Graph.from_bytes(data))
    session.observe("x", x)  # engine-fed statistics: no batch to learn from
    with pytest.raises(razorq.StateError, match="AdaRound needs the calibration batches"):
        session.convert()
    session.calibrate(x)
    session.convert()
    fresh = calibrated(config(), data, [x])
    np.testing.assert_array_equal(session.run(x)["y"], fresh.run(x)["y"])


def test_reconstruction_settings_without_adaround_change_nothing(tmp_path):
    rng = np.random.RandomState(9)
    data, inits = make_model(rng)
    x = rng.randn(12, 2, 4, 4).astype(np.float32)
    session = calibrated(config(adaround=False), data, [x])
    got = session_biases(session, tmp_path)
    for p in session.points:
        if p.is_weight:
            np.testing.assert_array_equal(got[p.edge], inits[p.edge])  # the float graph keeps float weights
    assert not [n for n in session.notes if n.startswith("AdaRound")]


@pytest.mark.parametrize("key, value, path", [
    ("iters", 0, "reconstruction.loss.iters"),
    ("weight", -1, "reconstruction.loss.weight"),
    ("beta_range", [2, 20], "reconstruction.loss.beta_range"),
    ("warm_up", 1.5, "reconstruction.loss.warm_up"),
    ("type", "mmrazor.BRECQLoss", "reconstruction.loss.type"),
    ("bogus", 1, "reconstruction.loss.bogus"),
])
def test_bad_settings_name_the_key(key, value, path):
    cfg = config()
    cfg["reconstruction"]["loss"][key] = value
    with pytest.raises(razorq.RazorqError, match=path.replace(".", r"\.")):
        razorq.Quantizer(cfg)


def test_bad_pattern_and_lr_name_the_key():
    for key, value in (("pattern", "block"), ("lr", -1)):
        cfg = config()
        cfg["reconstruction"][key] = value
        with pytest.raises(razorq.RazorqError, match=rf"reconstruction\.{key}"):
            razorq.Quantizer(cfg)


def test_grouped_convolution(tmp_path):
    """A depthwise Conv (group = channels) learns each channel from its own
    input channel's patches."""
    rng = np.random.RandomState(13)
    w = (rng.randn(3, 1, 3, 3) * 0.5).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "W", "b"], ["y"], pads=[1, 1, 1, 1], group=3, name="dw")]
    graph = helper.make_graph(nodes, "dw", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 5, 5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 5, 5])],
                              [numpy_helper.from_array(w, "W"), numpy_helper.from_array(np.zeros(3, np.float32), "b")])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()
    x = rng.rand(24, 3, 5, 5).astype(np.float32)
    cfg = config()
    cfg["quantizer"]["type"] = "academic"
    session = calibrated(cfg, data, [x])
    got = session_biases(session, tmp_path)["W"]
    fq = next(p.fake_quant for p in session.points if p.is_weight)
    xq = fake_quant(x, next(p.fake_quant for p in session.points if p.edge == "x"))
    nearest = fake_quant(w, fq)

    def error(wr):
        d = (wr.astype(np.float64) - w)
        total = 0.0
        for c in range(3):  # channel c sees input channel c only
            y = conv3x3(xq[:, c:c + 1], d[c:c + 1], np.zeros(1))
            total += (y ** 2).sum(axis=1).mean()
        return total

    assert np.any(got != nearest)
    assert error(got) < error(nearest)


def matmul_model(rng, shared):
    """x[N, T, 8] @ W1[8, 6] -> Relu -> @ W2[6, 5] (or, shared, a second
    MatMul reading W1 too): MatMul weights as transformer exports write them."""
    inits = {"W1": (rng.randn(8, 6) * 0.5).astype(np.float32), "W2": (rng.randn(6, 5) * 0.5).astype(np.float32)}
    nodes = [helper.make_node("MatMul", ["x", "W1"], ["h"], name="mm1"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("MatMul", ["r", "W2"], ["y"], name="mm2")]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", "T", 5])]
    if shared:
        nodes.append(helper.make_node("MatMul", ["x", "W1"], ["z"], name="mm3"))
        outputs.append(helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", "T", 6]))
    graph = helper.make_graph(nodes, "mm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "T", 8])],
                              outputs, [numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString(), inits


def test_matmul_weights_on_3d_inputs(tmp_path):
    """Every row of x[N, T, K] is one sample of the first layer's input; the
    weight's output channels are its columns (W[K, N])."""
    rng = np.random.RandomState(21)
    data, inits = matmul_model(rng, shared=False)
    x = rng.rand(10, 7, 8).astype(np.float32)
    cfg = config()
    cfg["quantizer"]["type"] = "academic"
    session = calibrated(cfg, data, [x])
    got = session_biases(session, tmp_path)["W1"]
    points = {p.edge: p.fake_quant for p in session.points}
    fq = points["W1"]
    assert fq.per_channel and fq.ch_axis == 1
    scale, _ = fq.params
    floor = np.floor(inits["W1"] / scale)
    q = np.rint(got / scale)
    assert np.all((q == floor) | (q == floor + 1))
    rows = fake_quant(x, points["x"]).reshape(-1, 8).astype(np.float64)
    nearest = fake_quant(inits["W1"], fq)

    def error(w):
        return float(((rows @ (w.astype(np.float64) - inits["W1"])) ** 2).sum(axis=1).mean())

    assert np.any(got != nearest) and error(got) < error(nearest)
    assert len([n for n in session.notes if n.startswith("AdaRound:")]) == 2


def test_shared_weight_keeps_nearest(tmp_path):
    rng = np.random.RandomState(22)
    data, inits = matmul_model(rng, shared=True)
    x = rng.rand(10, 7, 8).astype(np.float32)
    cfg = config()
    cfg["quantizer"]["type"] = "academic"
    session = calibrated(cfg, data, [x])
    got = session_biases(session, tmp_path)
    np.testing.assert_array_equal(got["W1"], inits["W1"])  # never rounded: the float graph keeps it
    notes = [n for n in session.notes if n.startswith("AdaRound:")]
    assert len(notes) == 1 and "'mm2'" in notes[0]


def test_large_images_are_summed_in_chunks():
    """A Conv whose patches of a whole batch exceed the 32 MiB chunk
    (16 channels x 3x3 x 64x64 positions = 2.4 MB per image, 30 images): the
    note's error of rounding to nearest, computed from the chunked Gram
    matrix, equals the error recomputed here from every image."""
    rng = np.random.RandomState(23)
    w = (rng.randn(4, 16, 3, 3) * 0.3).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "W"], ["y"], pads=[1, 1, 1, 1], name="big")]
    graph = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16, 64, 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4, 64, 64])],
                              [numpy_helper.from_array(w, "W")])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()
    x = rng.rand(30, 16, 64, 64).astype(np.float32)
    cfg = config(iters=20)
    cfg["quantizer"]["type"] = "academic"
    session = calibrated(cfg, data, [x])
    points = {p.edge: p.fake_quant for p in session.points}
    xq = fake_quant(x, points["x"])
    d = fake_quant(w, points["W"]).astype(np.float64) - w
    want = float((conv3x3(xq, d, np.zeros(4)) ** 2).sum(axis=1).mean())
    note = next(n for n in session.notes if n.startswith("AdaRound:"))
    reported = float(note.split("error ")[1].split()[0])
    np.testing.assert_allclose(reported, want, rtol=2e-3, err_msg=note)


def test_node_with_a_constant_input_is_left_alone(tmp_path):
    """Gemm(A_const, W) has no calibration data to learn from: its weight
    keeps rounding to nearest and convert succeeds (it used to fail asking
    the executor to watch an initializer)."""
    rng = np.random.RandomState(24)
    inits = {"A": rng.rand(3, 4).astype(np.float32), "Wc": (rng.randn(5, 4) * 0.5).astype(np.float32),
             "W": (rng.randn(5, 4) * 0.5).astype(np.float32)}
    nodes = [helper.make_node("Gemm", ["A", "Wc"], ["c"], transB=1, name="const_gemm"),
             helper.make_node("Gemm", ["x", "W"], ["h"], transB=1, name="gemm"),
             helper.make_node("Add", ["h", "c"], ["y"], name="add")]
    graph = helper.make_graph(nodes, "cg", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 5])],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()
    cfg = config()
    cfg["quantizer"]["type"] = "academic"
    session = calibrated(cfg, data, [rng.rand(3, 4).astype(np.float32)])
    notes = [n for n in session.notes if n.startswith("AdaRound:")]
    assert len(notes) == 1 and "'gemm'" in notes[0], notes
    assert np.array_equal(session_biases(session, tmp_path)["Wc"], inits["Wc"])
