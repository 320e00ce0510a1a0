# SPDX-License-Identifier: Apache-2.0
"""Export formats beyond the default QDQ model, end to end on the shared
digits models.

Oracles: ONNX Runtime (npm onnxruntime-node) with its graph optimizations on,
so QDQ groups are fused into integer QLinearConv/QGemm kernels with the int32
biases; and a numpy reference of OpenVINO's FakeQuantize formula (OpenVINO op
spec FakeQuantize-1), since no runtime here executes org.openvinotoolkit nodes.
"""
import json
import os
import subprocess

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

import e2e_tools
from test_ptq_e2e import CALIB_X, DATA, MODELS, RAZORQ, SOURCE, TEST_X, TEST_Y, example_config, \
    fake_quant_eval, razorq


def ort_run(model, tmp_path, optimized=None, script="ort_run.js"):
    return e2e_tools.ort_run(model, TEST_X, tmp_path, optimized, script)


def initializers(model):
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


@pytest.mark.parametrize("name", MODELS)
def test_int32_bias_fused_by_onnxruntime_agrees_with_razorq(name, tmp_path):
    model = os.path.join(DATA, f"{name}.onnx")
    config = example_config(tmp_path, "onnxruntime")
    exported = tmp_path / "q.onnx"
    razorq("ptq", model, "--config", config, "--calib", CALIB_X, "-o", str(exported), "--quiet")

    q = onnx.load(str(exported))
    consts = initializers(q)
    producer = {o: n for n in q.graph.node for o in n.output}
    linear = [n for n in q.graph.node if n.op_type in ("Conv", "Gemm") and len(n.input) > 2]
    assert linear
    for node in linear:
        dq = producer[node.input[2]]
        assert dq.op_type == "DequantizeLinear"
        assert consts[dq.input[0]].dtype == np.int32 and not consts[dq.input[2]].any()

    optimized = tmp_path / "optimized.onnx"
    ort = ort_run(exported, tmp_path, optimized, script="ort_run_optimized.js")
    fused = {n.op_type for n in onnx.load(str(optimized)).graph.node}
    assert fused & {"QLinearConv", "QGemm"}, f"ONNX Runtime fused nothing: {sorted(fused)}"

    labels = np.load(TEST_Y)
    top1, rq = fake_quant_eval(model, config, tmp_path)
    agreement = (ort.argmax(1) == rq.argmax(1)).mean()
    assert agreement >= 0.998, f"ONNX Runtime (fused) agrees on {agreement:.4f} of predictions"
    assert abs((ort.argmax(1) == labels).mean() - top1) <= 0.002 + 1e-9


def openvino_fake_quantize(x, in_lo, in_hi, out_lo, out_hi, levels):
    """OpenVINO's FakeQuantize-1, as its op spec writes it."""
    x = x.astype(np.float32)
    lo, hi = np.minimum(in_lo, in_hi), np.maximum(in_lo, in_hi)
    steps = np.float32(levels - 1)
    inside = np.round((x - in_lo) / (in_hi - in_lo) * steps) / steps * (out_hi - out_lo) + out_lo
    return np.where(x <= lo, out_lo, np.where(x > hi, out_hi, inside)).astype(np.float32)


def exported_pair(name, tmp_path):
    """The QDQ and the OpenVINO export of one calibration of name."""
    model = os.path.join(DATA, f"{name}.onnx")
    config = example_config(tmp_path, "openvino")
    qdq, ov, table = tmp_path / "qdq.onnx", tmp_path / "ov.onnx", tmp_path / "t.rqcal"
    razorq("ptq", model, "-c", config, "--calib", CALIB_X, "-o", str(qdq), "--calib-table", str(table), "-q")
    razorq("ptq", model, "-c", config, "--from-table", str(table), "--format", "openvino-fq", "-o", str(ov), "-q")
    return model, config, onnx.load(str(qdq)), onnx.load(str(ov))


@pytest.mark.parametrize("name", MODELS)
def test_openvino_fake_quantize_reproduces_razorq_fake_quants(name, tmp_path):
    """Every FakeQuantize's constants, put through OpenVINO's formula, give
    razorq's fake-quantized values on that edge: for activations, the values
    ONNX Runtime computes on the test set on both sides of the QDQ export's
    Quantize/DequantizeLinear; for weights, the QDQ export's dequantized
    weight (razorq's fake-quantized weight bit for bit)."""
    _, _, qdq, ov = exported_pair(name, tmp_path)
    assert any(o.domain == "org.openvinotoolkit" for o in ov.opset_import)
    ov_consts, qdq_consts = initializers(ov), initializers(qdq)
    fq_nodes = [n for n in ov.graph.node if n.op_type == "FakeQuantize"]
    assert fq_nodes and all(n.domain == "org.openvinotoolkit" for n in fq_nodes)
    assert not any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in ov.graph.node)

    by_name = {n.name: n for n in qdq.graph.node}
    producer = {o: n for n in qdq.graph.node for o in n.output}
    probes = {}  # edge -> (float value name, fake-quantized value name) in the QDQ model
    for node in fq_nodes:
        edge = node.input[0]
        if edge in ov_consts:
            continue
        qnode = by_name[f"{edge}_QuantizeLinear"]
        x = qnode.input[0]
        if x in producer and producer[x].name == f"{edge}_Clip":
            x = producer[x].input[0]
        probes[edge] = (x, by_name[f"{edge}_DequantizeLinear"].output[0])
    outputs = {o.name for o in qdq.graph.output}
    for x, y in probes.values():
        for v in (x, y):
            if v not in outputs:
                qdq.graph.output.append(helper.make_empty_tensor_value_info(v))
                outputs.add(v)
    order = [o.name for o in qdq.graph.output]
    probe_model = tmp_path / "probes.onnx"
    onnx.save(qdq, str(probe_model))
    values = run_all_outputs(probe_model, tmp_path, len(order))

    checked = 0
    for node in fq_nodes:
        edge = node.input[0]
        levels = next(a.i for a in node.attribute if a.name == "levels")
        lo, hi, olo, ohi = (ov_consts[i] for i in node.input[1:])
        if edge in ov_consts:  # a weight
            x = ov_consts[edge]
            qw, step, z = (qdq_consts[f"{edge}_{k}"] for k in ("quantized", "scale", "zero_point"))
            step = step.reshape(lo.shape)
            expected = (qw.astype(np.float32) - z.reshape(lo.shape).astype(np.float32)) * step
        else:
            xname, yname = probes[edge]
            x, expected = values[order.index(xname)], values[order.index(yname)]
            step = qdq_consts[f"{edge}_scale"]
        got = openvino_fake_quantize(x, lo, hi, olo, ohi, levels)
        diff = np.abs(got - expected)
        # Both round half to even (OpenVINO's reference: std::nearbyint), but
        # different float expressions: a value at a rounding boundary (x / s
        # within 1e-3 of a half step; frequent after average pools, whose
        # means of quantized values land on exact halves) may land one step
        # away. Every other value must match.
        t = x / step
        at_boundary = np.abs(t - np.floor(t) - 0.5) < 1e-3
        wrong = ~((diff <= 1e-3 * step) | (at_boundary & (diff <= step * 1.001)))
        assert not wrong.any(), f"{edge}: {wrong.sum()} of {wrong.size} values differ (up to {diff.max()})"
        checked += 1
    assert checked == len(fq_nodes)


def fake_quantize_as_onnx(model):
    """model with each FakeQuantize replaced by standard ONNX ops computing
    OpenVINO's formula step by step in float32, so ONNX Runtime can run it."""
    consts = initializers(model)
    g = model.graph
    nodes = []
    for node in g.node:
        if node.op_type != "FakeQuantize":
            nodes.append(node)
            continue
        levels = next(a.i for a in node.attribute if a.name == "levels")
        x, (in_lo, in_hi, out_lo, out_hi) = node.input[0], node.input[1:]
        lo, hi = consts[in_lo], consts[in_hi]
        p = node.output[0] + "_ov"
        extra = {f"{p}_range": (hi - lo).astype(np.float32), f"{p}_steps": np.float32(levels - 1),
                 f"{p}_out_range": (consts[out_hi] - consts[out_lo]).astype(np.float32),
                 f"{p}_min": np.minimum(lo, hi), f"{p}_max": np.maximum(lo, hi)}
        g.initializer.extend(numpy_helper.from_array(np.asarray(v), k) for k, v in extra.items())
        m = helper.make_node
        nodes += [m("Sub", [x, in_lo], [f"{p}_a"]), m("Div", [f"{p}_a", f"{p}_range"], [f"{p}_b"]),
                  m("Mul", [f"{p}_b", f"{p}_steps"], [f"{p}_c"]), m("Round", [f"{p}_c"], [f"{p}_d"]),
                  m("Div", [f"{p}_d", f"{p}_steps"], [f"{p}_e"]), m("Mul", [f"{p}_e", f"{p}_out_range"], [f"{p}_f"]),
                  m("Add", [f"{p}_f", out_lo], [f"{p}_g"]),
                  m("LessOrEqual", [x, f"{p}_min"], [f"{p}_below"]), m("Greater", [x, f"{p}_max"], [f"{p}_above"]),
                  m("Where", [f"{p}_above", out_hi, f"{p}_g"], [f"{p}_h"]),
                  m("Where", [f"{p}_below", out_lo, f"{p}_h"], [node.output[0]])]
    del g.node[:]
    g.node.extend(nodes)
    kept = [o for o in model.opset_import if o.domain != "org.openvinotoolkit"]
    del model.opset_import[:]
    model.opset_import.extend(kept)
    return model


@pytest.mark.parametrize("name", MODELS)
def test_openvino_export_computes_what_razorq_evaluates(name, tmp_path):
    """The whole OpenVINO export, with FakeQuantize spelled out in standard
    ops, run by ONNX Runtime: predictions agree with razorq's fake-quant
    evaluation as the QDQ export's do (>= 99.8%)."""
    model, config, _, ov = exported_pair(name, tmp_path)
    spelled = tmp_path / "ov_standard.onnx"
    onnx.save(fake_quantize_as_onnx(ov), str(spelled))
    ort = ort_run(spelled, tmp_path)
    _, rq = fake_quant_eval(model, config, tmp_path)
    agreement = (ort.argmax(1) == rq.argmax(1)).mean()
    assert agreement >= 0.998, f"{agreement:.4f}"


def run_all_outputs(model, tmp_path, count):
    """Every graph output of model on the test set, via ONNX Runtime."""
    script = tmp_path / "all_outputs.js"
    script.write_text(
        "const path = require('path');\n"
        "const fs = require('fs');\n"
        "const ort = require(path.join(process.env.RAZORQ_SOURCE_ROOT, 'node_modules', 'onnxruntime-node'));\n"
        "(async () => {\n"
        "  const [model, input, outDir] = process.argv.slice(2);\n"
        "  const buf = fs.readFileSync(input);\n"
        "  const hl = buf.readUInt16LE(8), header = buf.toString('latin1', 10, 10 + hl);\n"
        "  const shape = /'shape':\\s*\\(([^)]*)\\)/.exec(header)[1].split(',').filter((s) => s.trim()).map(Number);\n"
        "  const data = new Float32Array(buf.buffer.slice(buf.byteOffset + 10 + hl, buf.byteOffset + buf.length));\n"
        "  const s = await ort.InferenceSession.create(model, {graphOptimizationLevel: 'disabled'});\n"
        "  const r = await s.run({[s.inputNames[0]]: new ort.Tensor('float32', data, shape)});\n"
        "  s.outputNames.forEach((n, i) => fs.writeFileSync(path.join(outDir, `${i}.bin`),\n"
        "    Buffer.from(r[n].data.buffer, r[n].data.byteOffset, r[n].data.byteLength)));\n"
        "  fs.writeFileSync(path.join(outDir, 'dims.json'), JSON.stringify(s.outputNames.map((n) => r[n].dims)));\n"
        "})().catch((e) => { console.error(e.message); process.exit(1); });\n")
    out_dir = tmp_path / "outs"
    out_dir.mkdir()
    done = subprocess.run(["node", str(script), str(model), TEST_X, str(out_dir)], capture_output=True, text=True,
                          env={**os.environ, "RAZORQ_SOURCE_ROOT": SOURCE})
    assert done.returncode == 0, done.stderr
    import json
    dims = json.loads((out_dir / "dims.json").read_text())
    assert len(dims) == count
    return [np.fromfile(out_dir / f"{i}.bin", dtype=np.float32).reshape(d) for i, d in enumerate(dims)]


@pytest.mark.parametrize("bits", [12, 16])
@pytest.mark.parametrize("name", MODELS)
def test_16_bit_qdq_runs_in_onnxruntime_like_razorq(name, bits, tmp_path):
    """9..16-bit qschemes: int16/uint16 QuantizeLinear of opset 21 (the model
    is upgraded: digits_dw's ReduceMean takes its axes as an input there).
    ONNX Runtime runs it with graph optimizations off: with them on, 1.30
    computes the 16-bit digits_cnn export differently after the MaxPool
    (doc/backends.md)."""
    model = os.path.join(DATA, f"{name}.onnx")
    config = example_config(tmp_path, "academic", bits=bits)
    exported = tmp_path / "q16.onnx"
    razorq("ptq", model, "--config", config, "--calib", CALIB_X, "-o", str(exported), "--quiet")
    q = onnx.load(str(exported))
    assert [o.version for o in q.opset_import if o.domain in ("", "ai.onnx")] == [21]
    types = {t.data_type for t in q.graph.initializer}
    assert {onnx.TensorProto.INT16, onnx.TensorProto.UINT16} <= types
    assert not any(a.name == "axes" for n in q.graph.node if n.op_type.startswith("Reduce") for a in n.attribute)

    labels = np.load(TEST_Y)
    top1, rq = fake_quant_eval(model, config, tmp_path)
    ort = ort_run(exported, tmp_path)
    assert (ort.argmax(1) == rq.argmax(1)).mean() >= 0.998
    assert abs((ort.argmax(1) == labels).mean() - top1) <= 0.002 + 1e-9


def test_16_bit_upgrade_rewrites_what_changed_meaning(tmp_path):
    """An opset-17 model whose ops changed meaning by opset 21: DFT's axis
    became an input with another default (1 before, -2 after), the Reduce
    ops' axes an input, and Split needs num_outputs for equal parts. The
    16-bit export rewrites them; ONNX Runtime running it must compute what
    razorq's fake-quantized evaluation of the original computes (with DFT
    read on the wrong axis, or the axes dropped, the outputs would differ
    wholesale)."""
    rng = np.random.default_rng(21)
    w1 = rng.standard_normal((64, 16)).astype(np.float32) * 0.2
    w2 = rng.standard_normal((2, 10)).astype(np.float32)
    nodes = [helper.make_node("Flatten", ["input"], ["flat"], name="flatten"),
             helper.make_node("MatMul", ["flat", "w1"], ["h"], name="mm1"),
             helper.make_node("Reshape", ["h", "shape"], ["h4"], name="to_signal"),
             helper.make_node("DFT", ["h4"], ["spectrum"], name="dft"),  # axis 1 by default at opset 17
             helper.make_node("Mul", ["spectrum", "spectrum"], ["power"], name="square"),
             helper.make_node("ReduceMean", ["power"], ["energy"], name="mean", axes=[2, 3], keepdims=0),
             helper.make_node("Split", ["energy"], ["low", "high"], name="halves", axis=1),
             helper.make_node("Sub", ["low", "high"], ["contrast"], name="contrast"),
             helper.make_node("MatMul", ["contrast", "w2"], ["logits"], name="mm2")]
    g = helper.make_graph(nodes, "upgrade", [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT,
                                                                            ["N", 1, 8, 8])],
                          [helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, ["N", 10])],
                          [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"),
                           numpy_helper.from_array(np.array([-1, 4, 4, 1], np.int64), "shape")])
    model = tmp_path / "upgrade.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(model))
    config = example_config(tmp_path, "academic", bits=12)
    exported = tmp_path / "q16.onnx"
    razorq("ptq", str(model), "--config", config, "--calib", CALIB_X, "-o", str(exported), "--quiet")
    q = onnx.load(str(exported))
    dft = next(n for n in q.graph.node if n.op_type == "DFT")
    assert not dft.attribute and len(dft.input) == 3 and dft.input[1] == ""
    split = next(n for n in q.graph.node if n.op_type == "Split")
    assert [(a.name, a.i) for a in split.attribute if a.name == "num_outputs"] == [("num_outputs", 2)]
    _, rq = fake_quant_eval(str(model), config, tmp_path)
    ort = ort_run(exported, tmp_path)
    np.testing.assert_allclose(ort, rq, rtol=1e-3, atol=1e-3 * np.abs(rq).max())


def conv_classifier(path, opset, middle, initializers=()):
    """Writes a small classifier of digits-shaped input: Conv (8 channels,
    output 'c', seeded weights) -> the `middle` nodes (reading 'c', ending
    in 'm') -> GlobalAveragePool -> Flatten -> Gemm -> logits."""
    rng = np.random.default_rng(opset)
    conv_w = rng.standard_normal((8, 1, 3, 3)).astype(np.float32) * 0.5
    fc_w = rng.standard_normal((10, 8)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["input", "conv_w"], ["c"], name="conv", pads=[1, 1, 1, 1]), *middle,
             helper.make_node("GlobalAveragePool", ["m"], ["p"], name="gap"),
             helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "fc_w"], ["logits"], name="fc", transB=1)]
    g = helper.make_graph(nodes, "classifier", [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT,
                                                                              ["N", 1, 8, 8])],
                          [helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, ["N", 10])],
                          [numpy_helper.from_array(conv_w, "conv_w"), numpy_helper.from_array(fc_w, "fc_w"),
                           *initializers])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)]), str(path))


def test_16_bit_upgrade_gives_group_normalization_a_scale_per_channel(tmp_path):
    """GroupNormalization-18 scales and shifts per group, 21 per channel: the
    16-bit export repeats each group's scale and bias over its channels, and
    ONNX Runtime running the opset-21 export computes what razorq's
    fake-quantized evaluation of the opset-18 original computes."""
    model = tmp_path / "gn18.onnx"
    conv_classifier(model, 18, [
        helper.make_node("GroupNormalization", ["c", "gn_scale", "gn_bias"], ["n"], name="gn", num_groups=2),
        helper.make_node("Relu", ["n"], ["m"], name="relu")],
        [numpy_helper.from_array(np.array([0.5, 2.0], np.float32), "gn_scale"),
         numpy_helper.from_array(np.array([0.25, -0.5], np.float32), "gn_bias")])
    config = example_config(tmp_path, "academic", bits=12)
    exported = tmp_path / "q16.onnx"
    razorq("ptq", str(model), "--config", config, "--calib", CALIB_X, "-o", str(exported), "--quiet")
    q = onnx.load(str(exported))
    inits = {t.name: numpy_helper.to_array(t) for t in q.graph.initializer}
    gn = next(n for n in q.graph.node if n.op_type == "GroupNormalization")
    np.testing.assert_array_equal(inits[gn.input[1]], np.repeat([0.5, 2.0], 4))
    np.testing.assert_array_equal(inits[gn.input[2]], np.repeat([0.25, -0.5], 4))
    _, rq = fake_quant_eval(str(model), config, tmp_path)
    ort = ort_run(exported, tmp_path)
    np.testing.assert_allclose(ort, rq, rtol=1e-3, atol=1e-3 * np.abs(rq).max())


@pytest.mark.parametrize("half", ["FLOAT16", "BFLOAT16"])
def test_half_precision_edges_are_quantized_in_float32(half, tmp_path):
    """Edges of a float16 or bfloat16 section are fake-quantized in float32
    and rounded back, and exported as Cast -> Q -> DQ -> Cast (QuantizeLinear
    takes 16-bit floats only from opset 19): ONNX Runtime running the opset-13
    export computes what razorq's evaluation computes."""
    to = getattr(onnx.TensorProto, half)
    model = tmp_path / "half.onnx"
    conv_classifier(model, 13, [
        helper.make_node("Cast", ["c"], ["c_half"], name="to_half", to=to),
        # ONNX Runtime's CPU provider has no bfloat16 Relu; Identity is a
        # share-qparams op as well.
        helper.make_node("Relu" if half == "FLOAT16" else "Identity", ["c_half"], ["r"], name="act"),
        helper.make_node("Cast", ["r"], ["m"], name="to_float", to=onnx.TensorProto.FLOAT)])
    config = example_config(tmp_path, "native")
    exported = tmp_path / "q.onnx"
    razorq("ptq", str(model), "--config", config, "--calib", CALIB_X, "-o", str(exported), "--quiet")
    q = onnx.load(str(exported))
    # Each 16-bit edge: a Cast to float32 feeds its QuantizeLinear, a Cast
    # back follows its DequantizeLinear.
    casts = {n.output[0]: n.attribute[0].i for n in q.graph.node if n.op_type == "Cast"}
    quantized = {n.input[0] for n in q.graph.node if n.op_type == "QuantizeLinear"}
    for edge in ("c_half", "r"):
        assert casts.get(f"{edge}_Cast") == onnx.TensorProto.FLOAT and f"{edge}_Cast" in quantized
        assert casts.get(f"{edge}_Cast_QuantizeLinear_DequantizeLinear_Cast") == to
    top1, rq = fake_quant_eval(str(model), config, tmp_path)
    ort = ort_run(exported, tmp_path)
    assert (ort.argmax(1) == rq.argmax(1)).mean() >= 0.998
    # A value x/s exactly halfway between two levels may round apart
    # (QuantizeLinear divides, PyTorch multiplies by 1/s): one logit in
    # thousands may move by a level.
    close = np.isclose(ort, rq, rtol=1e-2, atol=1e-2 * np.abs(rq).max())
    assert close.mean() >= 0.999, f"{(~close).sum()} of {close.size} logits differ"
    # The fake-quants on the 16-bit edges do something, and ONNX Runtime
    # computes it: razorq's evaluation is far nearer the export than the
    # float model is.
    float_out = tmp_path / "float.npy"
    razorq("run", str(model), "-i", TEST_X, "-o", str(float_out))
    assert np.abs(ort - rq).mean() < 0.25 * np.abs(np.load(float_out) - rq).mean()

    # The other ways a session fake-quantizes: OpenVINO's FakeQuantize is
    # wrapped in the same Casts; AdaRound and bias correction run; each
    # 16-bit edge has a measured SQNR.
    fq_export = tmp_path / "fq.onnx"
    razorq("ptq", str(model), "--config", config, "--calib", CALIB_X, "--format", "openvino-fq", "-o", str(fq_export),
           "--quiet")
    fq = onnx.load(str(fq_export))
    producer = {o: n for n in fq.graph.node for o in n.output}
    for n in (n for n in fq.graph.node if n.op_type == "FakeQuantize" and n.input[0] in ("c_half_Cast", "r_Cast")):
        assert producer[n.input[0]].op_type == "Cast"
        assert [c.attribute[0].i for c in fq.graph.node if c.op_type == "Cast" and c.input[0] == n.output[0]] == [to]
    assert sum(n.op_type == "FakeQuantize" and n.input[0] in ("c_half_Cast", "r_Cast") for n in fq.graph.node) == 2
    cfg = json.loads(open(config).read())
    cfg["bias_correction"] = True
    cfg["global_qconfig"]["w_fake_quant"] = {"type": "mmrazor.AdaRoundFakeQuantize"}
    cfg["reconstruction"] = {"pattern": "layer", "loss": {"type": "mmrazor.AdaRoundLoss", "iters": 50}}
    (tmp_path / "ar.json").write_text(json.dumps(cfg))
    razorq("ptq", str(model), "--config", str(tmp_path / "ar.json"), "--calib", CALIB_X, "-o",
           str(tmp_path / "ar.onnx"), "--quiet")
    report = razorq("inspect", str(model), "--config", config, "--calib", CALIB_X)
    for edge in ("c_half", "r"):
        line = next(ln for ln in report.splitlines() if ln.split()[1:2] == [edge])
        assert 20 < float(line.split()[-1]) < 80, line


def test_format_option_is_checked(tmp_path):
    model = os.path.join(DATA, "digits_mlp.onnx")
    config = example_config(tmp_path, "openvino")
    done = subprocess.run([RAZORQ, "ptq", model, "-c", config, "--calib", CALIB_X, "--format", "tflite",
                           "-o", str(tmp_path / "x.onnx")], capture_output=True, text=True)
    assert done.returncode != 0 and "--format tflite" in done.stderr
    assert not (tmp_path / "x.onnx").exists()
