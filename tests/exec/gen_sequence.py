#!/usr/bin/python3
"""Conformance-style cases for sequence values and the sequence ops beyond
the few ONNX ships, for tests/exec (the "sequence" family in
tests/exec/meson.build).

    ORT_NODE=/path/to/node_modules/onnxruntime-node /usr/bin/python3 tests/exec/gen_sequence.py

Each case is tests/exec/data/sequence/node/<case>/ with model.onnx and
test_data_set_N/{input,output}_K.pb (SequenceProto for sequence values).
Oracles: where the model's inputs and outputs are tensors, ONNX Runtime
(tests/exec/ort_run.js) gives the expected outputs and a NumPy restatement
here must agree, so a wrong model cannot slip in. onnxruntime-node cannot
pass sequences in or out, so cases with sequence inputs or outputs take the
NumPy restatement alone. The torch.onnx.export case (a TorchScript list
built in a loop, and torch.split's list) takes PyTorch's eager result, and
ONNX Runtime must agree with it.

What the cases cover: SplitToSequence with split sizes, a scalar split
(last chunk shorter), no split with keepdims=0; ConcatFromSequence with
new_axis=1 and a negative axis; SequenceInsert / SequenceErase / SequenceAt
with negative positions; SequenceLength; a Loop carrying a sequence; a
sequence graph input and output; SequenceMap with a tensor input beside the
sequence; the exporter's Loop + SequenceInsert + ConcatFromSequence.
"""
import io
import os
import sys

import numpy as np
from onnx import TensorProto, helper

import case_writer

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "sequence", "node")
rng = np.random.default_rng(20261127)
F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def seq_vi(name, elem, shape=None):
    return helper.make_value_info(name, helper.make_sequence_type_proto(helper.make_tensor_type_proto(elem, shape)))


def model(nodes, inputs, outputs, inits=(), opset=16):
    return case_writer.make_model(nodes, inputs, outputs, inits, name="sequence", opset=opset, ir_version=8,
                                  full_check=True)


def same(g, w):
    return g.shape == w.shape and g.dtype == w.dtype and np.allclose(g, w, rtol=1e-5, atol=1e-6)


def save(case, m, feeds, restate, use_ort=True):
    """feeds: [(name, array or list of arrays)]; restate(feeds dict) -> the
    outputs (arrays, or lists of arrays for sequence outputs) in NumPy."""
    want = restate(dict(feeds))
    if use_ort:
        got = case_writer.ort_run(m, feeds)
        for k, (g, w) in enumerate(zip(got, want)):
            if not same(g, np.asarray(w)):
                sys.exit(f"{case}: output {k}: ONNX Runtime {g.dtype}{g.shape} vs NumPy\n{g}\n{w}")
        want = got
    case_writer.write_case(root, case, m, feeds, [(o.name, w) for o, w in zip(m.graph.output, want)])


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def split_sizes():
    """Split sizes [1, 2, 3] along axis 1, then concatenated back in reverse
    order along axis 1 (SequenceAt with negative positions)."""
    nodes = [helper.make_node("SplitToSequence", ["x", "split"], ["s"], axis=1),
             helper.make_node("SequenceAt", ["s", "m1"], ["c"]),
             helper.make_node("SequenceAt", ["s", "m2"], ["b"]),
             helper.make_node("SequenceAt", ["s", "m3"], ["a"]),
             helper.make_node("Concat", ["c", "b", "a"], ["y"], axis=1),
             helper.make_node("SequenceLength", ["s"], ["n"])]
    m = model(nodes, [vi("x", F, [2, 6])], [vi("y", F, [2, 6]), vi("n", I64, [])],
              inits=[("split", np.array([1, 2, 3], np.int64)), ("m1", np.array(-1, np.int64)),
                     ("m2", np.array(-2, np.int64)), ("m3", np.array(-3, np.int64))])
    save("split_to_sequence_sizes", m, [("x", randn(2, 6))],
         lambda f: [np.concatenate([f["x"][:, 3:], f["x"][:, 1:3], f["x"][:, :1]], axis=1), np.array(3, np.int64)])


def split_scalar_seq_out():
    """A scalar split of 2 over length 5: chunks 2, 2, 1; the sequence is the
    graph output (NumPy oracle)."""
    m = model([helper.make_node("SplitToSequence", ["x", "split"], ["s"], axis=0)],
              [vi("x", F, [5, 3])], [seq_vi("s", F)], inits=[("split", np.array(2, np.int64))])
    save("split_to_sequence_scalar_split", m, [("x", randn(5, 3))],
         lambda f: [[f["x"][0:2], f["x"][2:4], f["x"][4:5]]], use_ort=False)


def split_keepdims0():
    """No split: one slice per index of axis 1, squeezed (keepdims=0); then
    stacked along a new leading axis (ConcatFromSequence new_axis=1), which
    gives x transposed."""
    nodes = [helper.make_node("SplitToSequence", ["x"], ["s"], axis=1, keepdims=0),
             helper.make_node("ConcatFromSequence", ["s"], ["y"], axis=0, new_axis=1)]
    m = model(nodes, [vi("x", F, [3, 4])], [vi("y", F, [4, 3])])
    save("split_to_sequence_keepdims0", m, [("x", randn(3, 4))], lambda f: [f["x"].T.copy()])


def concat_new_axis_negative():
    """ConcatFromSequence new_axis=1 with axis -1: stacking along a new last
    axis."""
    nodes = [helper.make_node("SequenceConstruct", ["a", "b", "c"], ["s"]),
             helper.make_node("ConcatFromSequence", ["s"], ["y"], axis=-1, new_axis=1)]
    m = model(nodes, [vi("a", F, [2, 3]), vi("b", F, [2, 3]), vi("c", F, [2, 3])], [vi("y", F, [2, 3, 3])])
    save("concat_from_sequence_new_axis", m, [("a", randn(2, 3)), ("b", randn(2, 3)), ("c", randn(2, 3))],
         lambda f: [np.stack([f["a"], f["b"], f["c"]], axis=-1)])


def insert_erase_negative():
    """[a, b, c] -> insert d at -1 -> [a, b, d, c] -> erase at -3 -> [a, d, c]
    -> erase (default: last) -> [a, d]; concatenated along axis 0, plus the
    element at -1 and the length."""
    nodes = [helper.make_node("SequenceConstruct", ["a", "b", "c"], ["s0"]),
             helper.make_node("SequenceInsert", ["s0", "d", "m1"], ["s1"]),
             helper.make_node("SequenceErase", ["s1", "m3"], ["s2"]),
             helper.make_node("SequenceErase", ["s2"], ["s3"]),
             helper.make_node("ConcatFromSequence", ["s3"], ["y"], axis=0),
             helper.make_node("SequenceAt", ["s3", "m1"], ["last"]),
             helper.make_node("SequenceLength", ["s3"], ["n"])]
    m = model(nodes, [vi(k, F, [1, 2]) for k in "abcd"],
              [vi("y", F, [2, 2]), vi("last", F, [1, 2]), vi("n", I64, [])],
              inits=[("m1", np.array(-1, np.int64)), ("m3", np.array(-3, np.int64))])
    feeds = [(k, randn(1, 2)) for k in "abcd"]
    save("sequence_insert_erase_negative", m, feeds,
         lambda f: [np.concatenate([f["a"], f["d"]]), f["d"], np.array(2, np.int64)])


def loop_carries_sequence():
    """A Loop carrying a sequence: iteration i appends x * i; the result is
    concatenated after the loop."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Cast", ["i"], ["fi"], to=F),
         helper.make_node("Mul", ["x", "fi"], ["xi"]),
         helper.make_node("SequenceInsert", ["seq_in", "xi"], ["seq_out"])],
        "body", [vi("i", I64, []), vi("cond_in", B, []), seq_vi("seq_in", F)],
        [vi("cond_out", B, []), seq_vi("seq_out", F)])
    nodes = [helper.make_node("SequenceEmpty", [], ["empty"], dtype=F),
             helper.make_node("Loop", ["M", "", "empty"], ["seq"], body=body),
             helper.make_node("ConcatFromSequence", ["seq"], ["y"], axis=0)]
    m = model(nodes, [vi("x", F, [1, 3]), vi("M", I64, [])], [vi("y", F, [None, 3])])
    save("loop_carries_sequence", m, [("x", randn(1, 3)), ("M", np.array(4, np.int64))],
         lambda f: [np.concatenate([f["x"] * i for i in range(int(f["M"]))])])


def sequence_input():
    """A sequence graph input (SequenceProto data): its element at 1 and its
    length (NumPy oracle)."""
    nodes = [helper.make_node("SequenceAt", ["s", "one"], ["y"]),
             helper.make_node("SequenceLength", ["s"], ["n"])]
    m = model(nodes, [seq_vi("s", F)], [vi("y", F, [3, 1]), vi("n", I64, [])],
              inits=[("one", np.array(1, np.int32))])
    items = [randn(2), randn(3, 1), randn(4)]
    save("sequence_input", m, [("s", items)], lambda f: [f["s"][1], np.array(3, np.int64)], use_ort=False)


def sequence_map_tensor():
    """SequenceMap over a sequence with a tensor input beside it: each element
    plus the tensor (NumPy oracle: the output is a sequence)."""
    body = helper.make_graph([helper.make_node("Add", ["e", "t"], ["o"])], "map_body",
                             [vi("e", F, [2]), vi("t", F, [2])], [vi("o", F, [2])])
    nodes = [helper.make_node("SplitToSequence", ["x"], ["s"], axis=0, keepdims=0),
             helper.make_node("SequenceMap", ["s", "t"], ["out"], body=body)]
    m = model(nodes, [vi("x", F, [3, 2]), vi("t", F, [2])], [seq_vi("out", F)], opset=17)
    save("sequence_map_tensor", m, [("x", randn(3, 2)), ("t", randn(2))],
         lambda f: [[f["x"][i] + f["t"] for i in range(3)]], use_ort=False)


def torch_list_loop():
    """torch.onnx.export of a TorchScript module that builds a list in a loop
    and splits into a list (Loop + SequenceInsert + ConcatFromSequence,
    SplitToSequence). Oracle: PyTorch eager, which ONNX Runtime must match."""
    import torch
    import onnx

    class ListLoop(torch.nn.Module):
        def forward(self, x):
            outs = []
            for i in range(x.size(0)):
                outs.append(torch.relu(x[i]) * 2.0 + float(i))
            parts = torch.split(x, [1, 2], dim=1)
            return torch.stack(outs), torch.cat([p * 3.0 for p in parts], dim=1)

    x = torch.from_numpy(randn(4, 3))
    f = io.BytesIO()
    torch.onnx.export(torch.jit.script(ListLoop()), (x,), f, opset_version=13, input_names=["x"],
                      output_names=["y", "z"], dynamic_axes={"x": {0: "n"}})
    m = onnx.load_from_string(f.getvalue())
    m.producer_name = case_writer.PRODUCER
    with torch.no_grad():
        want = [t.numpy() for t in ListLoop()(x)]
    save("torch_script_list_loop", m, [("x", x.numpy())], lambda _: want)


def main():
    case_writer.regenerate(root,
                           split_sizes, split_scalar_seq_out, split_keepdims0, concat_new_axis_negative,
                           insert_erase_negative, loop_carries_sequence, sequence_input, sequence_map_tensor,
                           torch_list_loop)


if __name__ == "__main__":
    main()
