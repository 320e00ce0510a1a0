# SPDX-License-Identifier: Apache-2.0
"""razorq run / inspect on the shared digits models, against ONNX Runtime and
the onnx Python package (independent readers of the same files)."""
import json
import os
import subprocess

import numpy as np
import onnx
import pytest

from test_ptq_e2e import DATA, RAZORQ, TEST_X, TEST_Y, ort_logits, razorq

MODELS = ["digits_cnn", "digits_mlp", "digits_dw"]


@pytest.mark.parametrize("name", MODELS)
def test_run_matches_onnxruntime(name, tmp_path):
    model = os.path.join(DATA, f"{name}.onnx")
    razorq("run", model, "--input", f"input={TEST_X}", "--outdir", str(tmp_path / "out"))
    ours = np.load(tmp_path / "out" / "logits.npy")
    theirs = ort_logits(model, tmp_path)
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() <= 1e-4
    labels = np.load(TEST_Y)
    assert (ours.argmax(1) == labels).mean() == (theirs.argmax(1) == labels).mean()
    top1 = json.loads(razorq("test", model, "--data", TEST_X, "--labels", TEST_Y, "--json"))["top1"]
    assert top1 == pytest.approx((theirs.argmax(1) == labels).mean())


def test_run_single_output_and_errors(tmp_path):
    model = os.path.join(DATA, "digits_mlp.onnx")
    out = tmp_path / "y.npy"
    razorq("run", model, "-i", TEST_X, "-o", str(out))
    assert np.load(out).shape == (500, 10)
    bad = subprocess.run([RAZORQ, "run", model, "--input", f"nosuch={TEST_X}"], capture_output=True, text=True)
    assert bad.returncode == 2 and "no input named 'nosuch'" in bad.stderr
    missing = subprocess.run([RAZORQ, "run", model], capture_output=True, text=True)
    assert missing.returncode == 2 and "1 input, 0 --input given" in missing.stderr
    corrupt = tmp_path / "bad.npy"
    corrupt.write_bytes(b"\x93NUMPY\x01\x00garbage")
    broken = subprocess.run([RAZORQ, "run", model, "-i", str(corrupt)], capture_output=True, text=True)
    assert broken.returncode == 1 and broken.stderr.startswith("razorq run: ")


@pytest.mark.parametrize("name", MODELS)
def test_inspect_agrees_with_onnx(name):
    path = os.path.join(DATA, f"{name}.onnx")
    text = razorq("inspect", path)
    m = onnx.load(path)
    params = sum(int(np.prod(t.dims)) for t in m.graph.initializer)
    # Constant nodes count as parameters once folded into initializers.
    for node in m.graph.node:
        if node.op_type == "Constant":
            params += int(np.prod(node.attribute[0].t.dims))
    assert f"parameters: {params}," in text
    nodes = sum(1 for n in m.graph.node if n.op_type != "Constant")
    assert f"nodes: {nodes}," in text
    for op in {n.op_type for n in m.graph.node if n.op_type != "Constant"}:
        count = sum(1 for n in m.graph.node if n.op_type == op)
        assert f"    {op:<24} {count}" in text
    assert "input input: FLOAT [N, 1, 8, 8]" in text or "input input: FLOAT [" in text


def test_inspect_reports_qparams_and_sqnr(tmp_path):
    """The graph input's row: its scale/zero point, and an SQNR that PyTorch's
    own fake_quantize_per_tensor_affine reproduces on the same data."""
    torch = pytest.importorskip("torch")
    from test_ptq_e2e import CALIB_X, example_config
    model = os.path.join(DATA, "digits_mlp.onnx")
    text = razorq("inspect", model, "--config", example_config(tmp_path, "openvino"), "--calib", CALIB_X,
                  "--data", TEST_X)
    rows = {line.split()[1]: line.split() for line in text.splitlines() if line.strip().startswith(("act ", "weight "))}
    kind, _, scale, zero_point, sqnr = rows["input"]
    x = torch.from_numpy(np.load(TEST_X)[:256])
    xq = torch.fake_quantize_per_tensor_affine(x, float(scale), int(zero_point), 0, 255)
    expected = 10 * np.log10(float((x.double() ** 2).sum()) / float(((x - xq).double() ** 2).sum()))
    assert kind == "act" and abs(float(sqnr) - expected) < 0.05, (sqnr, expected)
    weights = [r for r in rows.values() if r[0] == "weight"]
    assert len(weights) == 3 and all(r[2] == "per-channel" for r in weights)
    assert all(20 < float(r[-1]) < 80 for r in rows.values())


def test_inspect_names_sequence_and_optional_outputs(tmp_path):
    """The kinds as the onnx package builds them into the model's TypeProtos."""
    from onnx import TensorProto, helper
    seq = helper.make_sequence_type_proto(helper.make_tensor_type_proto(TensorProto.FLOAT, None))
    g = helper.make_graph(
        [helper.make_node("SplitToSequence", ["x"], ["s"], axis=1),
         helper.make_node("Optional", ["x"], ["o"])],
        "kinds", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", 6])],
        [helper.make_value_info("s", seq),
         helper.make_value_info("o", helper.make_optional_type_proto(
             helper.make_tensor_type_proto(TensorProto.FLOAT, ["b", 6])))])
    path = tmp_path / "kinds.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 15)]), str(path))
    text = razorq("inspect", str(path))
    assert "input x: FLOAT [b, 6]" in text
    assert "output s: sequence of FLOAT [?]" in text
    assert "output o: optional FLOAT [b, 6]" in text


def test_inspect_of_an_exported_qdq_model_agrees_with_onnxruntime(tmp_path):
    """razorq inspect on a QDQ export lists each QuantizeLinear/DequantizeLinear
    place with the scale and zero point the file holds (read back with the
    onnx package) and an SQNR that ONNX Runtime reproduces: the export is
    run there with each float edge and its DequantizeLinear output as extra
    graph outputs, and the SQNR computed from them in NumPy."""
    from onnx import helper, numpy_helper
    from test_ptq_e2e import CALIB_X, example_config
    from e2e_tools import HERE, SOURCE
    exported = tmp_path / "q.onnx"
    razorq("ptq", os.path.join(DATA, "digits_cnn.onnx"), "-c", example_config(tmp_path, "onnxruntime"),
           "--calib", CALIB_X, "-o", str(exported), "-q")
    x = tmp_path / "x.npy"
    np.save(x, np.load(TEST_X)[:256])
    text = razorq("inspect", str(exported), "--data", str(x))
    rows = [line.split() for line in text.splitlines() if line.strip().startswith(("act ", "weight ", "bias "))]

    m = onnx.load(str(exported))
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    dq_of = {n.input[0]: n for n in m.graph.node if n.op_type == "DequantizeLinear"}
    acts = {}
    for n in m.graph.node:
        if n.op_type == "QuantizeLinear":
            dq = dq_of[n.output[0]]
            acts[n.input[0]] = (float(inits[n.input[1]]), int(inits[n.input[2]]), dq.output[0])
    listed = {r[1]: r for r in rows if r[0] == "act"}
    assert set(listed) == set(acts)
    assert sum(r[0] in ("weight", "bias") for r in rows) == len(dq_of) - len(acts)

    probes = []
    for k, (edge, (_, _, dq_out)) in enumerate(acts.items()):
        for side, name in (("x", edge), ("y", dq_out)):
            m.graph.node.append(helper.make_node("Identity", [name], [f"probe{k}{side}"]))
            m.graph.output.append(helper.make_empty_tensor_value_info(f"probe{k}{side}"))
        probes.append(edge)
    probed = tmp_path / "probed.onnx"
    onnx.save(m, str(probed))
    outdir = tmp_path / "ort"
    outdir.mkdir()
    done = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), str(probed), str(x),
                           str(outdir)], capture_output=True, text=True, env={**os.environ, "RAZORQ_SOURCE_ROOT": SOURCE})
    assert done.returncode == 0, done.stderr
    for k, edge in enumerate(probes):
        scale, zero_point, _ = acts[edge]
        row = listed[edge]
        assert float(row[2]) == pytest.approx(scale, rel=1e-5) and int(row[3]) == zero_point
        xs = np.load(outdir / f"probe{k}x.npy").astype(np.float64)
        ys = np.load(outdir / f"probe{k}y.npy").astype(np.float64)
        noise = ((xs - ys) ** 2).sum()
        if noise == 0:
            assert row[4] == "inf"
        else:
            # Each runtime computes x itself; an element on a rounding boundary may land one
            # step apart, which moves a 2560-element edge by a few hundredths of a dB.
            assert float(row[4]) == pytest.approx(10 * np.log10((xs ** 2).sum() / noise), abs=0.1), edge


def test_inspect_keeps_a_models_own_clip_apart_from_the_quantization(tmp_path):
    """A model's ReLU6 (Clip 0..6) before a QuantizeLinear is an edge of its
    own: the SQNR of the clipped edge, as NumPy computes it, not the ReLU6's
    clipping counted as quantization error. --data on a float model without
    --config is a usage error."""
    from onnx import helper, numpy_helper
    nodes = [helper.make_node("Clip", ["x", "lo", "hi"], ["c"], name="relu6"),
             helper.make_node("QuantizeLinear", ["c", "s", "z"], ["q"], name="q"),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], name="dq")]
    scale = np.float32(6 / 255)
    g = helper.make_graph(nodes, "relu6", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", 8])],
                          [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(np.array(0, np.float32), "lo"),
                           numpy_helper.from_array(np.array(6, np.float32), "hi"),
                           numpy_helper.from_array(np.array(scale), "s"),
                           numpy_helper.from_array(np.array(0, np.uint8), "z")])
    model = tmp_path / "relu6.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(model))
    x = (np.random.default_rng(0).standard_normal((64, 8)) * 4).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    rows = [line.split() for line in razorq("inspect", str(model), "--data", str(tmp_path / "x.npy")).splitlines()
            if line.strip().startswith("act ")]
    c = np.clip(x, 0, 6).astype(np.float64)
    dq = np.clip(np.round(np.clip(x, 0, 6) / scale), 0, 255) * scale
    assert rows[0][1] == "c"
    assert float(rows[0][4]) == pytest.approx(10 * np.log10((c ** 2).sum() / ((c - dq) ** 2).sum()), abs=0.01)
    usage = subprocess.run([RAZORQ, "inspect", os.path.join(DATA, "digits_mlp.onnx"), "--data", str(tmp_path / "x.npy")],
                           capture_output=True, text=True)
    assert usage.returncode == 2 and "--data needs --config" in usage.stderr and usage.stdout == ""
