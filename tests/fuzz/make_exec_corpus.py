#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpus for fuzz_exec into tests/fuzz/corpus/exec/.

One small runnable model per op family the fuzzer should reach: graph inputs
with concrete shapes (fuzz_exec feeds them), attributes and initializers
for libFuzzer to mutate. Every model here runs cleanly as written; the
replay test then checks the target on valid input too. Deterministic.
Run: /usr/bin/python3 tests/fuzz/make_exec_corpus.py
"""
import os

import numpy as np
from onnx import helper, numpy_helper, TensorProto as TP

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "exec")
rng = np.random.default_rng(0)


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def vi(name, dims, t=TP.FLOAT):
    return helper.make_tensor_value_info(name, t, dims)


def save(name, nodes, inputs, outputs, inits=(), opset=17):
    g = helper.make_graph(nodes, name, inputs, outputs,
                          [numpy_helper.from_array(v, k) for k, v in dict(inits).items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
        f.write(m.SerializeToString())


def node(op, ins, outs, **attrs):
    return helper.make_node(op, ins, outs, **attrs)


def main():
    os.makedirs(OUT, exist_ok=True)
    # Recurrent ops: x [seq 3, batch 2, input 4], hidden 3.
    x_seq = vi("x", [3, 2, 4])
    save("rnn", [node("RNN", ["x", "w", "r", "b"], ["y", "yh"], hidden_size=3, direction="bidirectional")],
         [x_seq], [vi("y", None), vi("yh", None)], {"w": f32(2, 3, 4), "r": f32(2, 3, 3), "b": f32(2, 6)})
    save("gru", [node("GRU", ["x", "w", "r", "b", "lens"], ["y"], hidden_size=3, linear_before_reset=1)],
         [x_seq], [vi("y", None)],
         {"w": f32(1, 9, 4), "r": f32(1, 9, 3), "b": f32(1, 18), "lens": np.array([3, 1], np.int32)})
    save("lstm", [node("LSTM", ["x", "w", "r", "b", "", "h0", "c0", "p"], ["y", "yh", "yc"], hidden_size=3,
                       clip=2.0, direction="reverse")],
         [x_seq], [vi("y", None), vi("yh", None), vi("yc", None)],
         {"w": f32(1, 12, 4), "r": f32(1, 12, 3), "b": f32(1, 24), "h0": f32(1, 2, 3), "c0": f32(1, 2, 3),
          "p": f32(1, 9)})
    # Vision ops.
    img = vi("x", [1, 2, 6, 6])
    save("roialign", [node("RoiAlign", ["x", "rois", "bi"], ["y"], output_height=2, output_width=2,
                           sampling_ratio=2, mode="max")],
         [img], [vi("y", None)], {"rois": np.array([[0, 0, 4, 4], [1, 1, 5, 3]], np.float32),
                                   "bi": np.array([0, 0], np.int64)}, opset=16)
    save("gridsample", [node("GridSample", ["x", "grid"], ["y"], mode="bicubic", padding_mode="reflection")],
         [img], [vi("y", None)], {"grid": (f32(1, 3, 3, 2) * 0.8).astype(np.float32)}, opset=16)
    save("nms", [node("NonMaxSuppression", ["boxes", "scores", "m", "iou", "st"], ["sel"], center_point_box=1)],
         [vi("boxes", [1, 6, 4]), vi("scores", [1, 2, 6])], [vi("sel", None, TP.INT64)],
         {"m": np.array([3], np.int64), "iou": np.array([0.5], np.float32), "st": np.array([0.0], np.float32)})
    # Linear algebra and normalisation.
    save("einsum", [node("Einsum", ["a", "b"], ["y"], equation="...ij,...jk->...ik")],
         [vi("a", [2, 3, 4]), vi("b", [2, 4, 5])], [vi("y", None)])
    save("einsum_diag", [node("Einsum", ["a"], ["y"], equation="bii->bi")], [vi("a", [2, 3, 3])], [vi("y", None)])
    save("det", [node("Det", ["a"], ["y"])], [vi("a", [2, 3, 3])], [vi("y", None)])
    save("mvn", [node("MeanVarianceNormalization", ["x"], ["y"], axes=[0, 2])], [img], [vi("y", None)])
    save("maxunpool", [node("MaxPool", ["x"], ["p", "i"], kernel_shape=[2, 2], strides=[2, 2]),
                       node("MaxUnpool", ["p", "i"], ["y"], kernel_shape=[2, 2], strides=[2, 2])],
         [img], [vi("y", None)])
    # Signal and set ops.
    save("dft", [node("DFT", ["x", "len"], ["y"], onesided=1)], [vi("x", [2, 6, 1])], [vi("y", None)],
         {"len": np.array(5, np.int64)})
    save("stft", [node("STFT", ["x", "step", "win"], ["y"])], [vi("x", [1, 16, 1])], [vi("y", None)],
         {"step": np.array(4, np.int64), "win": np.hanning(8).astype(np.float32)})
    save("unique", [node("Unique", ["x"], ["y", "i", "inv", "c"], axis=0, sorted=1)],
         [vi("x", [4, 3], TP.INT64)], [vi("y", None, TP.INT64), vi("i", None, TP.INT64),
                                      vi("inv", None, TP.INT64), vi("c", None, TP.INT64)])
    # Common ops whose attributes and constant inputs decide sizes and indices.
    save("conv_resize", [node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], group=2, dilations=[2, 2]),
                         node("Resize", ["c", "", "scales"], ["y"], mode="cubic")],
         [img], [vi("y", None)], {"w": f32(4, 1, 3, 3), "b": f32(4), "scales": np.array([1, 1, 1.5, 2], np.float32)})
    save("gather_slice_pad", [node("Gather", ["x", "idx"], ["g"], axis=2),
                              node("Slice", ["g", "st", "en", "ax", "sp"], ["s"]),
                              node("Pad", ["s", "pads"], ["y"], mode="reflect")],
         [img], [vi("y", None)],
         {"idx": np.array([0, -1, 2], np.int64), "st": np.array([0, 5], np.int64), "en": np.array([2, -7], np.int64),
          "ax": np.array([1, 3], np.int64), "sp": np.array([1, -2], np.int64),
          "pads": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)})
    save("topk_scatter", [node("TopK", ["x", "k"], ["v", "i"], axis=-1),
                          node("ScatterElements", ["x", "i", "v"], ["y"], axis=-1, reduction="add")],
         [vi("x", [3, 5])], [vi("y", None)], {"k": np.array([2], np.int64)})
    save("reshape_tile_expand", [node("Reshape", ["x", "shape"], ["r"]),
                                 node("Tile", ["r", "reps"], ["t"]),
                                 node("Expand", ["t", "eshape"], ["y"])],
         [vi("x", [2, 6])], [vi("y", None)],
         {"shape": np.array([3, -1], np.int64), "reps": np.array([1, 2], np.int64),
          "eshape": np.array([2, 1, 8], np.int64)})
    save("softmax_layernorm", [node("Softmax", ["x"], ["s"], axis=1),
                               node("LayerNormalization", ["s", "g", "b"], ["y"], axis=-1)],
         [vi("x", [2, 3, 4])], [vi("y", None)], {"g": f32(4), "b": f32(4)})
    save("qdq", [node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=1),
                 node("DequantizeLinear", ["q", "s", "z"], ["y"], axis=1)],
         [img], [vi("y", None)], {"s": np.array([0.1, 0.2], np.float32), "z": np.array([3, 250], np.uint8)})
    # Sequence and optional ops (positions, split sizes, axes to mutate); the
    # graph's inputs and outputs stay tensors, as rq_graph_run requires.
    save("sequence_ops", [node("SplitToSequence", ["x", "split"], ["s"], axis=1),
                          node("SequenceInsert", ["s", "x", "pos"], ["s2"]),
                          node("SequenceErase", ["s2", "epos"], ["s3"]),
                          node("SequenceAt", ["s3", "apos"], ["a"]),
                          node("ConcatFromSequence", ["s3"], ["c"], axis=1),
                          node("SequenceLength", ["s3"], ["n"]),
                          node("Optional", ["a"], ["o"]),
                          node("OptionalGetElement", ["o"], ["y"])],
         [vi("x", [2, 6])], [vi("y", None), vi("c", None), vi("n", None, TP.INT64)],
         {"split": np.array([1, 2, 3], np.int64), "pos": np.array(-1, np.int64), "epos": np.array(-3, np.int64),
          "apos": np.array(1, np.int32)})
    map_body = helper.make_graph([node("Mul", ["e", "t"], ["o"])], "map_body", [vi("e", None), vi("t", None)],
                                 [vi("o", None)])
    save("sequence_map", [node("SplitToSequence", ["x"], ["s"], axis=0, keepdims=0),
                          node("SequenceMap", ["s", "t"], ["m"], body=map_body),
                          node("ConcatFromSequence", ["m"], ["y"], axis=0, new_axis=1)],
         [vi("x", [3, 4])], [vi("y", None)], {"t": f32(4)})
    # Layout ops of opset 18: columns of 2x2 blocks folded into a 5x6 image
    # (4 x 3 block positions), then cropped and padded.
    save("layout", [node("Col2Im", ["x", "im", "bl"], ["c"], pads=[1, 0, 0, 1], strides=[1, 2], dilations=[2, 1]),
                    node("CenterCropPad", ["c", "s"], ["y"], axes=[-1, 2])],
         [vi("x", [2, 4, 12])], [vi("y", None)],
         {"im": np.array([5, 6], np.int64), "bl": np.array([2, 2], np.int64), "s": np.array([4, 7], np.int64)},
         opset=18)
    # Opsets 18-21: a deformable convolution, a normalisation and an
    # antialiased resize; blocked 16-bit Q/DQ; Gelu, AffineGrid and
    # GridSample-20 on a volume; DFT-20 with its axis input.
    save("deform_groupnorm_resize",
         [node("DeformConv", ["x", "w", "off", "b", "mask"], ["d"], pads=[1, 1, 1, 1], group=2, offset_group=2),
          node("GroupNormalization", ["d", "gs", "gb"], ["n"], num_groups=2),
          node("Resize", ["n", "", "sc"], ["y"], mode="cubic", antialias=1, axes=[2, 3])],
         [vi("x", [1, 4, 5, 5]), vi("off", [1, 36, 5, 5]), vi("mask", [1, 18, 5, 5])], [vi("y", None)],
         {"w": f32(4, 2, 3, 3), "b": f32(4), "gs": f32(4), "gb": f32(4), "sc": np.array([0.6, 0.5], np.float32)},
         opset=21)
    save("qdq_blocked", [node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=1, block_size=2),
                         node("DequantizeLinear", ["q", "s", "z"], ["y"], axis=1, block_size=2)],
         [vi("x", [3, 4])], [vi("y", None)],
         {"s": np.abs(f32(3, 2)) + 0.01, "z": np.array([[0, 3], [-2, 1], [5, 0]], np.int16)}, opset=21)
    save("gelu_affinegrid_dft",
         [node("Gelu", ["x"], ["g"], approximate="tanh"),
          node("AffineGrid", ["theta", "size"], ["grid"], align_corners=0),
          node("GridSample", ["g", "grid"], ["s"], mode="linear"),
          node("Unsqueeze", ["s", "last"], ["u"]),
          node("DFT", ["u", "", "axis"], ["y"], onesided=1)],
         [vi("x", [1, 2, 3, 4, 4]), vi("theta", [1, 3, 4])], [vi("y", None)],
         {"size": np.array([1, 2, 2, 3, 3], np.int64), "last": np.array([-1], np.int64),
          "axis": np.array(2, np.int64)}, opset=20)


if __name__ == "__main__":
    main()
