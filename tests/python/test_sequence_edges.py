# SPDX-License-Identifier: Apache-2.0
"""Sequence edges (what PyTorch's exporter emits for list code:
SplitToSequence / ConcatFromSequence) never get a fake-quant, are never
shown to edge hooks (they have no DLTensor form), and a model with them
goes through prepare, calibrate, convert and export.

The model is built here with onnx.helper; the oracles are NumPy (the float
model is two matrix products around a split and a concatenation that undo
each other) and the ONNX operator spec (SplitToSequence's output is a
sequence, ConcatFromSequence's a tensor of the elements' type)."""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import razorq

rng = np.random.default_rng(7)
X = rng.standard_normal((8, 6)).astype(np.float32)
W1 = rng.standard_normal((6, 6)).astype(np.float32)
W2 = rng.standard_normal((6, 3)).astype(np.float32)
SEQUENCE_EDGES = {"s", "s2"}


def model():
    """x -> MatMul -> h -> SplitToSequence [2, 4] -> s -> SequenceErase(-1) +
    SequenceInsert(back) -> s2 -> ConcatFromSequence -> c -> MatMul -> y.
    No value_info: the planner must tell the sequence edges from
    undeclared float tensors by itself."""
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"], name="mm1"),
        helper.make_node("SplitToSequence", ["h", "split"], ["s"], name="split", axis=1),
        helper.make_node("SequenceAt", ["s", "last"], ["tail"], name="at"),
        helper.make_node("SequenceErase", ["s", "last"], ["s1"], name="erase"),
        helper.make_node("SequenceInsert", ["s1", "tail"], ["s2"], name="insert"),
        helper.make_node("ConcatFromSequence", ["s2"], ["c"], name="concat", axis=1),
        helper.make_node("MatMul", ["c", "w2"], ["y"], name="mm2"),
    ]
    g = helper.make_graph(nodes, "sequence_edges", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", 6])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", 3])],
                          [numpy_helper.from_array(W1, "w1"), numpy_helper.from_array(W2, "w2"),
                           numpy_helper.from_array(np.array([2, 4], np.int64), "split"),
                           numpy_helper.from_array(np.array(-1, np.int64), "last")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    return m


def test_float_run_and_hooks_skip_sequences():
    graph = razorq.Graph.from_bytes(model().SerializeToString())
    seen = []
    y = graph.run(X, hook=lambda name, a: seen.append(name))["y"]
    np.testing.assert_allclose(y, X @ W1 @ W2, rtol=1e-5, atol=1e-5)
    assert {"h", "tail", "c", "y"} <= set(seen)
    assert not set(seen) & (SEQUENCE_EDGES | {"s1"}), seen


def test_ptq_prepares_calibrates_converts_and_exports(tmp_path):
    for backend in ("openvino", "native", "tensorrt"):
        session = razorq.Quantizer(razorq.example_config(backend)).prepare(
            razorq.Graph.from_bytes(model().SerializeToString()))
        edges = {p.edge for p in session.points}
        assert "x" in edges or backend == "tensorrt", (backend, edges)
        assert not edges & (SEQUENCE_EDGES | {"s1"}), (backend, edges)
        session.calibrate(X)
        session.convert()
        fake = session.run(X)["y"]
        out = tmp_path / f"{backend}.onnx"
        session.export(str(out))
        exported = onnx.load(str(out))
        onnx.checker.check_model(exported)
        quantized = {n.input[0] for n in exported.graph.node if n.op_type == "QuantizeLinear"}
        assert quantized and not quantized & (SEQUENCE_EDGES | {"s1"}), (backend, quantized)
        assert {n.op_type for n in exported.graph.node} >= {"SplitToSequence", "ConcatFromSequence"}
        # The exported QDQ model computes what the fake-quantized one did
        # (TensorRT's export differs by a quantization step on a few elements
        # with a plain Split/Concat in place of the sequence ops too, so that
        # is not the sequences' doing), and both stay near the float model
        # (8-bit: a few percent of its range).
        y = razorq.Graph.load(str(out)).run(X)["y"]
        if backend != "tensorrt":
            np.testing.assert_array_equal(y, fake)
        assert np.abs(fake - X @ W1 @ W2).max() < 0.05 * np.abs(X @ W1 @ W2).max(), backend
        assert np.abs(y - X @ W1 @ W2).max() < 0.05 * np.abs(X @ W1 @ W2).max(), backend


def test_inputs_and_outputs_report_their_kind():
    """Declared kinds as the onnx package reads the model's TypeProtos."""
    float_seq = helper.make_sequence_type_proto(helper.make_tensor_type_proto(TensorProto.FLOAT, None))
    g = helper.make_graph(
        [helper.make_node("SplitToSequence", ["x"], ["s"], name="split", axis=1),
         helper.make_node("Optional", ["s"], ["o"], name="wrap"),
         helper.make_node("Optional", ["x"], ["ot"], name="wrap_tensor"),
         helper.make_node("Identity", ["x"], ["y"], name="copy")],
        "kinds", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", 6])],
        [helper.make_value_info("s", float_seq), helper.make_value_info("o", helper.make_optional_type_proto(float_seq)),
         helper.make_value_info("ot", helper.make_optional_type_proto(
             helper.make_tensor_type_proto(TensorProto.FLOAT, None))),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", 6])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 15)])

    def kind(type_proto):
        which = type_proto.WhichOneof("value")
        if which == "optional_type":
            return "optional sequence" if kind(type_proto.optional_type.elem_type) == "sequence" else "optional"
        return {"tensor_type": "tensor", "sequence_type": "sequence"}[which]

    graph = razorq.Graph.from_bytes(m.SerializeToString())
    assert [(v.name, v.kind) for v in graph.inputs + graph.outputs] == \
        [(v.name, kind(v.type)) for v in list(m.graph.input) + list(m.graph.output)]
    assert [v.kind for v in graph.outputs] == ["sequence", "optional sequence", "optional", "tensor"]
    assert graph.outputs[0].type_name == "FLOAT"
