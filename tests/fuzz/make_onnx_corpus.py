#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpus for fuzz_onnx_load into tests/fuzz/corpus/onnx/.

Small models covering what the loader handles: every attribute type the IR
holds, Constant forms, BN folding, initializers in typed fields and raw_data,
symbolic dims, value_info, subgraphs (If/Loop/Scan with outer-scope
references, nested); plus a few broken ones. Deterministic.
Run: /usr/bin/python3 tests/fuzz/make_onnx_corpus.py
"""
import os

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto as TP

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "onnx")


def save(name, model, check=True):
    if check:
        onnx.checker.check_model(model)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(model.SerializeToString())


def model(nodes, inputs, outputs, inits=(), opset=13, value_info=()):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits), value_info=list(value_info))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def vi(name, dims, t=TP.FLOAT):
    return helper.make_tensor_value_info(name, t, dims)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(0)
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)

    save("conv_bn_relu.onnx", model(
        [helper.make_node("Conv", ["x", "W", "B"], ["c"], name="conv", pads=[1, 1, 1, 1],
                          strides=[1, 1], auto_pad="NOTSET", group=1),
         helper.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["n"], epsilon=1e-3),
         helper.make_node("Relu", ["n"], ["y"])],
        [vi("x", ["N", 2, 4, 4])], [vi("y", ["N", 3, 4, 4])],
        [numpy_helper.from_array(f32(3, 2, 3, 3), "W"), numpy_helper.from_array(f32(3), "B"),
         numpy_helper.from_array(f32(3), "g"), numpy_helper.from_array(f32(3), "b"),
         numpy_helper.from_array(f32(3), "m"),
         numpy_helper.from_array(np.abs(f32(3)) + 0.5, "v")]))

    # Typed-field initializers (not raw_data) of several element types.
    typed = [helper.make_tensor("i64", TP.INT64, [2], [3, -1]),
             helper.make_tensor("i32", TP.INT32, [2], [7, 8]),
             helper.make_tensor("u8", TP.UINT8, [3], [1, 2, 255]),
             helper.make_tensor("f16", TP.FLOAT16, [1], [15360]),
             helper.make_tensor("d", TP.DOUBLE, [2], [0.5, 1.5]),
             helper.make_tensor("b", TP.BOOL, [2], [1, 0]),
             helper.make_tensor("f", TP.FLOAT, [2, 2], [1.0, 2.0, 3.0, 4.0])]
    save("typed_reshape.onnx", model(
        [helper.make_node("Reshape", ["x", "i64"], ["r"]),
         helper.make_node("Gemm", ["r", "f"], ["y"], alpha=0.5, beta=1.0, transB=1)],
        [vi("x", [2, 2])], [vi("y", [2, 2])], typed))

    # Constant forms, Identity, Clip with optional inputs, Concat, Gather.
    save("constants.onnx", model(
        [helper.make_node("Constant", [], ["c1"], value_float=2.0),
         helper.make_node("Constant", [], ["c2"], value_ints=[1, 3]),
         helper.make_node("Constant", [], ["c3"], value=numpy_helper.from_array(f32(1, 3), "t")),
         helper.make_node("Mul", ["x", "c1"], ["m"]),
         helper.make_node("Identity", ["m"], ["i"]),
         helper.make_node("Reshape", ["i", "c2"], ["r"]),
         helper.make_node("Clip", ["r", "", ""], ["cl"]),
         helper.make_node("Concat", ["cl", "c3"], ["y"], axis=0)],
        [vi("x", [3])], [vi("y", [2, 3])], value_info=[vi("m", [3])]))

    # MatMul + Add(bias) + Clip, Softmax, string / floats attributes.
    save("matmul_add_clip.onnx", model(
        [helper.make_node("MatMul", ["x", "w"], ["h"]),
         helper.make_node("Add", ["h", "bias"], ["a"]),
         helper.make_node("Clip", ["a", "lo", "hi"], ["c"]),
         helper.make_node("Resize", ["c", "", "scales"], ["y"], mode="nearest",
                          coordinate_transformation_mode="asymmetric")],
        [vi("x", ["batch", 1, 2, 4])], [vi("y", ["batch", 1, 4, 8])],
        [numpy_helper.from_array(f32(4, 4), "w"), numpy_helper.from_array(f32(4), "bias"),
         numpy_helper.from_array(np.float32(0), "lo"), numpy_helper.from_array(np.float32(6), "hi"),
         numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")]))

    # Shape-inference coverage: pools, reductions, reshaping ops.
    save("shape_ops.onnx", model(
        [helper.make_node("MaxPool", ["x"], ["p"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
         helper.make_node("AveragePool", ["p"], ["a"], kernel_shape=[3, 3], auto_pad="SAME_UPPER"),
         helper.make_node("Transpose", ["a"], ["t"], perm=[0, 2, 3, 1]),
         helper.make_node("ReduceMean", ["t"], ["r"], axes=[1, 2], keepdims=0),
         helper.make_node("Unsqueeze", ["r", "ax"], ["u"]),
         helper.make_node("Squeeze", ["u", "ax"], ["s"]),
         helper.make_node("Pad", ["x", "pads"], ["pd"], mode="constant"),
         helper.make_node("GlobalAveragePool", ["pd"], ["gp"]),
         helper.make_node("Flatten", ["gp"], ["f"], axis=-1),
         helper.make_node("Gather", ["s", "idx"], ["gt"], axis=1),
         helper.make_node("Shape", ["f"], ["sh"], start=-1),
         helper.make_node("MatMul", ["gt", "gt2"], ["y"])],
        [vi("x", ["N", 3, 7, 7])], [vi("y", ["N", 2, 2])],
        [numpy_helper.from_array(np.array([1], np.int64), "ax"),
         numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads"),
         numpy_helper.from_array(np.array([[0, 1], [2, 0]], np.int64), "idx"),
         numpy_helper.from_array(f32(2, 2), "gt2")], opset=15))

    # Subgraphs: If branches and a Loop body reading main-graph values, an If
    # nested in the Loop body, a Scan; Constant nodes inside bodies.
    then_g = helper.make_graph([helper.make_node("Mul", ["x", "w"], ["t"])], "then", [], [vi("t", [2])])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e"])], "else", [], [vi("e", [2])])
    nested = helper.make_node("If", ["ci"], ["v1"], then_branch=then_g, else_branch=else_g)
    body = helper.make_graph(
        [helper.make_node("Constant", [], ["k"], value=numpy_helper.from_array(np.array(True), "k")),
         helper.make_node("And", ["ci", "k"], ["co"]), nested,
         helper.make_node("Add", ["v", "v1"], ["vo"]), helper.make_node("Identity", ["vo"], ["vs"])],
        "body", [vi("i", [], TP.INT64), vi("ci", [], TP.BOOL), vi("v", [2])],
        [vi("co", [], TP.BOOL), vi("vo", [2]), vi("vs", [2])])
    save("loop_if.onnx", model(
        [helper.make_node("Relu", ["x_in"], ["x"]),
         helper.make_node("Loop", ["m", "c", "x"], ["y", "ys"], body=body)],
        [vi("x_in", [2]), vi("m", [], TP.INT64), vi("c", [], TP.BOOL)], [vi("y", [2]), vi("ys", [None, 2])],
        [numpy_helper.from_array(f32(2), "w")], opset=16))
    scan_body = helper.make_graph([helper.make_node("Add", ["s", "xs"], ["so"]),
                                   helper.make_node("Mul", ["xs", "w"], ["ys"])], "scan_body",
                                  [vi("s", [3]), vi("xs", [3])], [vi("so", [3]), vi("ys", [3])])
    save("scan.onnx", model(
        [helper.make_node("Scan", ["s0", "x"], ["s", "y"], body=scan_body, num_scan_inputs=1,
                          scan_input_axes=[1], scan_input_directions=[1], scan_output_axes=[-1])],
        [vi("s0", [3]), vi("x", [3, 4])], [vi("s", [3]), vi("y", [3, 4])],
        [numpy_helper.from_array(f32(3), "w")], opset=16))
    save("if_dangling_outer.onnx", model(
        [helper.make_node("If", ["c"], ["y"], then_branch=helper.make_graph(
            [helper.make_node("Relu", ["ghost"], ["t"])], "then", [], [vi("t", [1])]), else_branch=else_g)],
        [vi("c", [], TP.BOOL), vi("x", [2])], [vi("y", [2])]), check=False)

    # Broken: dangling input, cycle, duplicate output, opset 5 (no checker).
    save("dangling.onnx", model([helper.make_node("Relu", ["ghost"], ["y"])], [vi("x", [1])],
                                [vi("y", [1])]), check=False)
    save("cycle.onnx", model([helper.make_node("Add", ["x", "b"], ["a"]),
                              helper.make_node("Relu", ["a"], ["b"]),
                              helper.make_node("Relu", ["b"], ["y"])],
                             [vi("x", [1])], [vi("y", [1])]), check=False)
    save("dup_output.onnx", model([helper.make_node("Relu", ["x"], ["y"]),
                                   helper.make_node("Neg", ["x"], ["y"])],
                                  [vi("x", [1])], [vi("y", [1])]), check=False)
    save("opset5.onnx", model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", [1])],
                              [vi("y", [1])], opset=5), check=False)
    big = helper.make_tensor("w", TP.FLOAT, [1], [1.0])
    big.dims[:] = [1 << 30, 1 << 30]  # declares 2^60 floats, holds one
    save("huge_dims.onnx", model([helper.make_node("Add", ["x", "w"], ["y"])], [vi("x", [1])],
                                 [vi("y", [1])], [big]), check=False)

    # Sequence and optional types: graph inputs/outputs, value_info, a Loop
    # body carrying a sequence, SequenceMap's body, Optional's TYPE_PROTO
    # attribute; and a sequence of sequences, which razorq refuses.
    seq = lambda name, t=TP.FLOAT, dims=None: helper.make_value_info(
        name, helper.make_sequence_type_proto(helper.make_tensor_type_proto(t, dims)))
    opt_seq = helper.make_value_info("o", helper.make_optional_type_proto(
        helper.make_sequence_type_proto(helper.make_tensor_type_proto(TP.FLOAT, ["n"]))))
    save("sequence_types.onnx", model(
        [helper.make_node("SequenceInsert", ["s", "x"], ["s2"]),
         helper.make_node("Optional", ["s2"], ["o"]),
         helper.make_node("Optional", [], ["e"], type=helper.make_tensor_type_proto(TP.INT64, [2])),
         helper.make_node("OptionalHasElement", ["e"], ["h"]),
         helper.make_node("ConcatFromSequence", ["s2"], ["y"], axis=0, new_axis=1)],
        [seq("s", TP.FLOAT, [2]), vi("x", [2])], [vi("y", None), opt_seq, vi("h", [], TP.BOOL)], opset=16,
        value_info=[seq("s2", TP.FLOAT, [2])]), check=False)
    body = helper.make_graph([helper.make_node("Identity", ["c"], ["c_out"]),
                              helper.make_node("SequenceInsert", ["sq", "x"], ["sq_out"])], "body",
                             [vi("i", [], TP.INT64), vi("c", [], TP.BOOL), seq("sq")],
                             [vi("c_out", [], TP.BOOL), seq("sq_out")])
    map_body = helper.make_graph([helper.make_node("Relu", ["e"], ["r"])], "map", [vi("e", None)], [vi("r", None)])
    save("sequence_loop_map.onnx", model(
        [helper.make_node("SequenceEmpty", [], ["s0"]),
         helper.make_node("Loop", ["m", "", "s0"], ["s1"], body=body),
         helper.make_node("SequenceMap", ["s1"], ["s2"], body=map_body),
         helper.make_node("ConcatFromSequence", ["s2"], ["y"], axis=0)],
        [vi("x", [1, 2]), vi("m", [], TP.INT64)], [vi("y", None)], opset=17), check=False)
    save("sequence_of_sequences.onnx", model(
        [helper.make_node("Identity", ["s"], ["y"])],
        [helper.make_value_info("s", helper.make_sequence_type_proto(helper.make_sequence_type_proto(
            helper.make_tensor_type_proto(TP.FLOAT, None))))], [vi("y", None)], opset=16), check=False)


if __name__ == "__main__":
    main()
