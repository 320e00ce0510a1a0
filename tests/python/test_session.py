# SPDX-License-Identifier: Apache-2.0
"""razorq.Quantizer / Session on the shared digits model: accuracy after PTQ
within 0.2% of float, the exported QDQ model loads (and runs in ONNX Runtime
like razorq's fake-quant model), qparams of weight and input fake-quants
against torch.ao.quantization observers, calibration tables, TensorRT cache,
sharded calibration, lifetimes and errors."""
import os
import shutil
import struct
import subprocess

import numpy as np
import pytest

import razorq

SOURCE = os.environ["RAZORQ_SOURCE_ROOT"]
DATA = os.path.join(SOURCE, "tests", "data")
MLP = os.path.join(DATA, "digits_mlp.onnx")
CALIB_X = np.load(os.path.join(DATA, "digits_calib_x.npy"))
TEST_X = np.load(os.path.join(DATA, "digits_test_x.npy"))
TEST_Y = np.load(os.path.join(DATA, "digits_test_y.npy"))


def calibrate(session, x=CALIB_X):
    steps, batch = session.calibration_settings
    for i in range(min(steps, -(-len(x) // batch))):
        session.calibrate(x[i * batch:(i + 1) * batch])


def top1(outputs):
    return float((outputs["logits"].argmax(1) == TEST_Y).mean())


@pytest.fixture(scope="module")
def graph():
    return razorq.Graph.load(MLP)


@pytest.fixture(scope="module")
def converted(graph):
    session = razorq.Quantizer(razorq.example_config("openvino")).prepare(graph)
    calibrate(session)
    session.convert()
    return session


def test_ptq_accuracy_is_within_0_2_percent_of_float(graph, converted):
    float_top1 = top1(graph.run(TEST_X))
    assert float_top1 == pytest.approx(0.972)
    assert abs(top1(converted.run(TEST_X)) - float_top1) <= 0.002 + 1e-9


def test_export_writes_a_qdq_model_graph_load_reads(converted, tmp_path):
    path = tmp_path / "q.onnx"
    converted.export(path)
    exported = razorq.Graph.load(path)
    assert exported.ops["QuantizeLinear"] >= 1 and exported.ops["DequantizeLinear"] >= 3
    assert [v.name for v in exported.inputs] == ["input"]
    ours = converted.run(TEST_X)["logits"]
    assert (exported.run(TEST_X)["logits"].argmax(1) == ours.argmax(1)).mean() >= 0.998
    if shutil.which("node") and os.path.isdir(os.path.join(SOURCE, "node_modules", "onnxruntime-node")):
        np.save(tmp_path / "x.npy", TEST_X)
        done = subprocess.run(["node", os.path.join(SOURCE, "tests", "e2e", "ort_run.js"), str(path),
                               str(tmp_path / "x.npy"), str(tmp_path / "y.npy")], capture_output=True, text=True,
                              env={**os.environ, "RAZORQ_SOURCE_ROOT": SOURCE})
        assert done.returncode == 0, done.stderr
        assert (np.load(tmp_path / "y.npy").argmax(1) == ours.argmax(1)).mean() >= 0.998


def test_export_options_choose_format_and_weight_storage(converted, tmp_path):
    """openvino-fq writes OpenVINO's FakeQuantize nodes (checked with the onnx
    package, an independent reader); uint8 weight storage keeps the
    dequantized weights and so the predictions."""
    onnx = pytest.importorskip("onnx")
    converted.export(tmp_path / "fq.onnx", format="openvino-fq")
    model = onnx.load(str(tmp_path / "fq.onnx"))
    fq = [n for n in model.graph.node if n.op_type == "FakeQuantize"]
    assert fq and all(n.domain == "org.openvinotoolkit" for n in fq)
    assert any(o.domain == "org.openvinotoolkit" for o in model.opset_import)
    converted.export(tmp_path / "u8.onnx", weight_storage="uint8")
    u8 = razorq.Graph.load(tmp_path / "u8.onnx")
    ours = converted.run(TEST_X)["logits"]
    assert (u8.run(TEST_X)["logits"].argmax(1) == ours.argmax(1)).mean() >= 0.998
    with pytest.raises(ValueError):
        converted.export(tmp_path / "x.onnx", format="tflite")


def test_points_notes_and_the_prepared_graph(graph, converted):
    onnx = pytest.importorskip("onnx")
    proto = onnx.load(MLP)
    initializers = {i.name for i in proto.graph.initializer}
    points = converted.points
    assert {p.edge for p in points if p.is_weight} == {i.name for i in proto.graph.initializer
                                                      if i.name.endswith("weight")}
    assert all(p.edge not in initializers for p in points if not p.is_weight)
    assert all(isinstance(p.fake_quant, razorq.FakeQuant) and p.fake_quant.borrowed for p in points)
    assert converted.notes and all(isinstance(n, str) for n in converted.notes)
    assert converted.graph.fingerprint == graph.fingerprint  # nothing to fold in the MLP
    sqnr = converted.sqnr(TEST_X[:64])
    assert sqnr.shape == (len(points),) and (sqnr > 20).all()


def test_weight_qparams_are_pytorch_per_channel_observers_on_the_weights(converted):
    torch = pytest.importorskip("torch")
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper
    weights = {i.name: numpy_helper.to_array(i) for i in onnx.load(MLP).graph.initializer}
    for p in converted.points:
        if not p.is_weight:
            continue
        fq = p.fake_quant
        qmin, qmax = fq.quant_range
        obs = torch.ao.quantization.PerChannelMinMaxObserver(
            ch_axis=fq.ch_axis, dtype=torch.qint8, qscheme=torch.per_channel_symmetric, quant_min=qmin, quant_max=qmax)
        obs(torch.from_numpy(weights[p.edge].copy()))
        scale, zp = obs.calculate_qparams()
        np.testing.assert_array_equal(fq.qparams()[0], scale.numpy())
        np.testing.assert_array_equal(fq.qparams()[1], zp.numpy().astype(np.int32))


def test_input_qparams_are_a_pytorch_moving_average_over_the_batches(converted):
    torch = pytest.importorskip("torch")
    fq = next(p.fake_quant for p in converted.points if p.edge == "input")
    qmin, qmax = fq.quant_range
    obs = torch.ao.quantization.MovingAverageMinMaxObserver(
        averaging_constant=0.1, dtype=torch.quint8, qscheme=torch.per_tensor_symmetric, quant_min=qmin,
        quant_max=qmax)
    steps, batch = converted.calibration_settings
    for i in range(min(steps, -(-len(CALIB_X) // batch))):
        obs(torch.from_numpy(CALIB_X[i * batch:(i + 1) * batch]))
    scale, zp = obs.calculate_qparams()
    np.testing.assert_array_equal(fq.qparams()[0], scale.numpy())
    np.testing.assert_array_equal(fq.qparams()[1], zp.numpy().astype(np.int32))


def test_calibration_table_reproduces_the_session(graph, converted, tmp_path):
    table = tmp_path / "digits.rqcal"
    converted.save_calibration(table)
    fresh = razorq.Quantizer(razorq.example_config("openvino")).prepare(graph)
    fresh.load_calibration(table)
    np.testing.assert_array_equal(fresh.run(TEST_X)["logits"], converted.run(TEST_X)["logits"])
    other = razorq.Quantizer(razorq.example_config("tensorrt")).prepare(graph)
    with pytest.raises(razorq.InvalidArgumentError):
        other.load_calibration(table)
    table.write_bytes(table.read_bytes()[:-3])
    with pytest.raises((razorq.FormatError, razorq.ChecksumError)):
        razorq.Quantizer(razorq.example_config("openvino")).prepare(graph).load_calibration(table)


def test_trt_cache_holds_amax_over_127_of_each_activation_observer(graph, tmp_path):
    session = razorq.Quantizer(razorq.example_config("tensorrt")).prepare(graph)
    calibrate(session)
    session.convert()
    path = tmp_path / "trt.cache"
    session.save_trt_cache(path)
    lines = path.read_text().splitlines()
    assert lines[0].startswith("TRT-8601-")
    entries = dict(line.split(": ") for line in lines[1:])
    activations = [p for p in session.points if not p.is_weight]
    assert set(entries) == {p.edge for p in activations}
    for p in activations:
        lo, hi = p.fake_quant.observer.minmax()
        amax = np.float32(max(abs(lo[0]), abs(hi[0])))
        # amax comes back from the qparams (scale * 127.5 on the [-128, 127]
        # grid), which rounded it once: one ulp of slack.
        got = struct.unpack(">f", bytes.fromhex(entries[p.edge]))[0]
        assert abs(np.int32(np.float32(got).view(np.int32)) - (amax / np.float32(127)).view(np.int32)) <= 1


def test_trt_cache_holds_the_threshold_the_observer_chose(tmp_path):
    """With entropy calibration the cache carries the KL threshold, not the
    raw max: the scale TensorRT reads is the one razorq evaluated with."""
    graph = razorq.Graph.load(os.path.join(DATA, "digits_cnn.onnx"))
    config = razorq.example_config("tensorrt")
    config["global_qconfig"]["a_observer"] = {"type": "mmrazor.EntropyObserver"}
    del config["global_qconfig"]["a_qscheme"]["averaging_constant"]
    config["global_qconfig"]["a_qscheme"]["is_symmetric_range"] = True  # TensorRT's own [-127, 127] grid
    session = razorq.Quantizer(config).prepare(graph)
    calibrate(session)
    session.convert()
    path = tmp_path / "trt.cache"
    session.save_trt_cache(path)
    lines = path.read_text().splitlines()
    assert lines[0] == "TRT-8601-EntropyCalibration2"
    entries = dict(line.split(": ") for line in lines[1:])
    clipped = 0
    for p in session.points:
        if p.is_weight:
            continue
        scale = np.float32(p.fake_quant.qparams()[0][0])
        assert entries[p.edge] == struct.pack(">f", scale).hex()  # on [-127, 127], scale = amax / 127
        lo, hi = p.fake_quant.observer.minmax()
        clipped += scale < np.float32(max(abs(lo[0]), abs(hi[0]))) / np.float32(127)
    assert clipped > 0  # the KL search clipped some range


def test_trt_cache_refuses_edges_never_observed(graph, tmp_path):
    """Converted without calibration, the qparams are PyTorch's defaults
    (scale 1), not a calibration: no cache is made of them."""
    session = razorq.Quantizer(razorq.example_config("tensorrt")).prepare(graph)
    session.convert()
    with pytest.raises(razorq.StateError, match=r"edge '.*' was never observed"):
        session.save_trt_cache(tmp_path / "trt.cache")
    assert not (tmp_path / "trt.cache").exists()


def test_trt_cache_refuses_unsigned_activations(graph, tmp_path):
    session = razorq.Quantizer(razorq.example_config("openvino")).prepare(graph)
    calibrate(session)
    session.convert()
    with pytest.raises(razorq.UnsupportedError, match=r"is quantized to \[0, 255\] with zero point"):
        session.save_trt_cache(tmp_path / "trt.cache")
    assert not (tmp_path / "trt.cache").exists()


def test_sharded_calibration_merges_to_the_unsharded_result(graph, tmp_path):
    config = razorq.example_config("openvino")
    config["global_qconfig"]["a_observer"] = {"type": "mmrazor.MinMaxObserver"}
    del config["global_qconfig"]["a_qscheme"]["averaging_constant"]  # a MovingAverage argument
    config["calibrate_with_fake_quant"] = False  # observe the float model: order independent
    quantizer = razorq.Quantizer(config)
    whole, first, second = (quantizer.prepare(graph) for _ in range(3))
    half = len(CALIB_X) // 2
    whole.calibrate(CALIB_X)
    first.calibrate(CALIB_X[:half])
    second.calibrate(CALIB_X[half:])
    second.save_state(tmp_path / "shard.state")
    first.merge(tmp_path / "shard.state")
    for s in (whole, first):
        s.convert()
    for a, b in zip(whole.points, first.points):
        np.testing.assert_array_equal(a.fake_quant.qparams()[0], b.fake_quant.qparams()[0])
    with pytest.raises(razorq.RazorqError):
        razorq.Quantizer(razorq.example_config("tensorrt")).prepare(graph).merge(tmp_path / "shard.state")


def test_observe_feeds_the_named_edge(graph):
    config = razorq.example_config("openvino")
    config["global_qconfig"]["a_observer"] = {"type": "mmrazor.MinMaxObserver"}
    del config["global_qconfig"]["a_qscheme"]["averaging_constant"]  # a MovingAverage argument
    session = razorq.Quantizer(config).prepare(graph)
    session.observe("input", CALIB_X)
    fq = next(p.fake_quant for p in session.points if p.edge == "input")
    lo, hi = fq.observer.minmax()
    assert (lo[0], hi[0]) == (CALIB_X.min(), CALIB_X.max())
    with pytest.raises(razorq.NotFoundError):
        session.observe("no_such_edge", CALIB_X)


def test_state_rules(graph):
    session = razorq.Quantizer(razorq.example_config("openvino")).prepare(graph)
    calibrate(session)
    session.convert()
    session.convert()  # idempotent
    with pytest.raises(razorq.StateError):
        session.calibrate(CALIB_X[:8])


def test_borrowed_fake_quants_keep_the_session_alive(graph):
    session = razorq.Quantizer(razorq.example_config("openvino")).prepare(graph)
    calibrate(session)
    session.convert()
    fq = session.points[0].fake_quant
    want = fq.qparams()
    observer = fq.observer
    del session
    np.testing.assert_array_equal(fq.qparams()[0], want[0])
    assert observer.type_name
    quantizer = razorq.Quantizer(razorq.example_config("openvino"))
    backend = quantizer.backend
    del quantizer
    assert backend.name == "openvino"


def test_closing_the_session_invalidates_what_it_lent(graph):
    session = razorq.Quantizer(razorq.example_config("openvino")).prepare(graph)
    fq = session.points[0].fake_quant
    observer = fq.observer
    session.close()
    with pytest.raises(ValueError):
        fq.qparams()
    with pytest.raises(ValueError):
        observer.minmax()


def test_bad_configs_name_the_key_path(graph):
    config = razorq.example_config("openvino")
    config["global_qconfig"]["w_qscheme"]["bit"] = 17
    with pytest.raises(razorq.InvalidArgumentError, match=r"global_qconfig\.w_qscheme\.bit"):
        razorq.Quantizer(config)
    config = razorq.example_config("openvino")
    config["global_qconfig"]["a_observer"]["frobnicate"] = 1
    # Observer arguments are only checked when prepare creates the observers.
    with pytest.raises(razorq.InvalidArgumentError, match="frobnicate"):
        razorq.Quantizer(config).prepare(graph)
    config = razorq.example_config("tensorrt")
    config["global_qconfig"]["a_qscheme"]["qdtype"] = "quint8"
    with pytest.raises(razorq.UnsupportedError):
        razorq.Quantizer(config)
    with pytest.raises(razorq.FormatError):
        razorq.Quantizer("{not json")


def test_weight_sqnr_is_that_of_pytorchs_fake_quantized_weight(converted):
    torch = pytest.importorskip("torch")
    onnx = pytest.importorskip("onnx")
    from onnx import numpy_helper
    weights = {i.name: numpy_helper.to_array(i).copy() for i in onnx.load(MLP).graph.initializer}
    sqnr = converted.sqnr(TEST_X[:32])
    checked = 0
    for p, db in zip(converted.points, sqnr):
        if not p.is_weight:
            continue
        w = torch.from_numpy(weights[p.edge])
        scale, zp = p.fake_quant.qparams()
        qmin, qmax = p.fake_quant.quant_range
        wq = torch.fake_quantize_per_channel_affine(w, torch.from_numpy(scale), torch.from_numpy(zp),
                                                    p.fake_quant.ch_axis, qmin, qmax)
        w64, err = w.double(), (w - wq).double()
        assert db == pytest.approx(10 * np.log10(float((w64 ** 2).sum() / (err ** 2).sum())), rel=1e-5)
        checked += 1
    assert checked == 3


def test_node_names_the_model_does_not_have_are_refused(graph):
    """A node name in tracer.skipped_nodes, tracer.unmatched_nodes or
    qconfigs[].nodes that names no node (a typo) is an error, not a silent
    no-op; real names still work."""
    real = [n.name for n in graph.nodes if n.op_type == "Gemm"][-1]
    config = razorq.example_config("academic")
    config["quantizer"]["tracer"] = {"unmatched_nodes": [real + "x"]}
    with pytest.raises(razorq.InvalidArgumentError,
                       match=r"quantizer.tracer.unmatched_nodes: the model has no node named '" + real + "x'"):
        razorq.Quantizer(config).prepare(graph)
    config["quantizer"]["tracer"] = {"skipped_nodes": ["/fc/Gemm"]}
    with pytest.raises(razorq.InvalidArgumentError,
                       match=r"quantizer.tracer.skipped_nodes: the model has no node named '/fc/Gemm'"):
        razorq.Quantizer(config).prepare(graph)
    config["quantizer"]["tracer"] = {"skipped_nodes": [real]}
    config["quantizer"]["qconfigs"] = [{"nodes": [real[:-1]], "a_qscheme": {"bit": 4}}]
    with pytest.raises(razorq.InvalidArgumentError, match=r"quantizer.qconfigs\[0\].nodes: the model has no node named"):
        razorq.Quantizer(config).prepare(graph)
    config["quantizer"]["qconfigs"][0]["nodes"] = [real]
    session = razorq.Quantizer(config).prepare(graph)
    assert any(real in note and "skipped" in note for note in session.notes)
