# SPDX-License-Identifier: Apache-2.0
"""Integer edges never get a fake-quant: the planner knows them from the
element types shape inference gives even where shapes stay unknown, and a
model that declares an integer edge float is refused at calibration (a
QuantizeLinear on integers would give a model no runtime loads).

The models are built here with onnx.helper; the oracle for the types is the
ONNX operator spec (Shape and Gather of it are int64, ConstantOfShape has
its value's type)."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import razorq

X = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)


def model(extra_outputs=()):
    """A float MatMul beside integer shape plumbing whose Concat (a quantized
    op for OpenVINO) reads only int64 edges of unknown shape."""
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["y"], name="mm"),
        helper.make_node("Shape", ["x"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="batch", axis=0),
        helper.make_node("ConstantOfShape", ["s"], ["c"], name="ones",
                         value=numpy_helper.from_array(np.array([1], np.int64))),
        helper.make_node("Concat", ["c", "c"], ["cc"], name="join", axis=0),
        helper.make_node("Cast", ["cc"], ["z"], name="to_float", to=TensorProto.FLOAT),
    ]
    g = helper.make_graph(nodes, "integer_edges", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("n", TensorProto.INT64, None),
                           helper.make_tensor_value_info("z", TensorProto.FLOAT, None), *extra_outputs],
                          [numpy_helper.from_array(np.eye(3, dtype=np.float32), "w"),
                           numpy_helper.from_array(np.array(0, np.int64), "zero")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    return razorq.Graph.from_bytes(m.SerializeToString())


def test_integer_edges_get_no_fake_quant(tmp_path):
    session = razorq.Quantizer(razorq.example_config("openvino")).prepare(model())
    edges = {p.edge for p in session.points}
    assert "x" in edges  # the float MatMul is quantized
    assert not edges & {"s", "n", "c", "cc"}, edges
    session.calibrate(X)
    session.convert()
    out = tmp_path / "q.onnx"
    session.export(str(out))
    exported = onnx.load(str(out))
    quantized = {n.input[0] for n in exported.graph.node if n.op_type == "QuantizeLinear"}
    assert quantized and not quantized & {"s", "n", "c", "cc"}, quantized


def test_an_integer_edge_declared_float_is_refused_at_calibration():
    lie = helper.make_tensor_value_info("c", TensorProto.FLOAT, None)  # a graph output the model calls float
    session = razorq.Quantizer(razorq.example_config("openvino")).prepare(model([lie]))
    assert "c" in {p.edge for p in session.points}  # the declaration is believed at prepare
    with pytest.raises(razorq.UnsupportedError, match=r"edge 'c' has a fake-quant but carries int64 values"):
        session.calibrate(X)


def test_declared_types_of_intermediates_are_kept():
    """An If whose branches leave their outputs untyped: only the model's
    value_info says the edge is int64, so the planner must see the model's
    declarations, not just what inference finds."""
    def branch(name, value):
        out = helper.make_tensor_value_info(name, TensorProto.UNDEFINED, None)
        return helper.make_graph([helper.make_node("Constant", [], [name], value=numpy_helper.from_array(
            np.array([value, value], np.int64)))], name, [], [out])
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["y"], name="mm"),
        helper.make_node("If", ["flag"], ["k"], name="pick",
                         then_branch=branch("then_k", 2), else_branch=branch("else_k", 3)),
        helper.make_node("Add", ["k", "k"], ["kk"], name="double"),
        helper.make_node("Cast", ["kk"], ["z"], name="to_float", to=TensorProto.FLOAT),
    ]
    g = helper.make_graph(nodes, "declared_intermediate",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
                           helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(np.eye(3, dtype=np.float32), "w"),
                           numpy_helper.from_array(np.array(True), "flag")],
                          value_info=[helper.make_tensor_value_info("k", TensorProto.INT64, [2])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    session = razorq.Quantizer(razorq.example_config("openvino")).prepare(razorq.Graph.from_bytes(m.SerializeToString()))
    edges = {p.edge for p in session.points}
    assert "x" in edges and not edges & {"k", "kk"}, edges
    session.calibrate(X)
    session.convert()
    np.testing.assert_array_equal(session.run(X)["z"], np.array([4, 4], np.float32))
