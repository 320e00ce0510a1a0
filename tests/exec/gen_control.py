#!/usr/bin/python3
"""Conformance-style cases for If, Loop and Scan beyond the few ONNX ships,
for tests/exec (the "control" family in tests/exec/meson.build).

    cd /tmp && npm install --ignore-scripts onnxruntime-node
    NODE_PATH=/tmp/node_modules /usr/bin/python3 tests/exec/gen_control.py

Each case is tests/exec/data/control/node/<case>/ with model.onnx and
test_data_set_N/{input,output}_K.pb. Expected outputs come from ONNX Runtime
(tests/exec/ort_run.js); every case is also restated in NumPy here and the
script stops if the two disagree, so a wrong model cannot slip in.

What the cases cover: If whose branches read main-graph tensors (both
branches, one data set each); a Loop with scan outputs and an outer-scope
reference; an If nested in a Loop body reading a main-graph value two
levels up; Loop with M only, cond only, and zero iterations; Scan with a
reverse input, a reverse output and non-zero (and negative) axes; and a
main-graph value (behind a Conv + BatchNormalization and an Identity)
read only inside a subgraph, which tests/graph also runs through the
passes (fold constants, BN folding, dead-value removal).
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

import case_writer

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "control", "node")
rng = np.random.default_rng(20261127)
F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def const(name, array):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(array), name + "_t"))


def model(nodes, inputs, outputs, inits=(), opset=16):
    return case_writer.make_model(nodes, inputs, outputs, inits, name="control", opset=opset, ir_version=8,
                                  full_check=True)


def save(case, m, data_sets, restate):
    """data_sets: list of [(name, array)] feeds; restate(feeds dict) -> list of
    arrays, the NumPy statement of the model, checked against ONNX Runtime."""
    checked = []
    for s, feeds in enumerate(data_sets):
        got = case_writer.ort_run(m, feeds)
        want = restate(dict(feeds))
        for k, (g, w) in enumerate(zip(got, want)):
            w = np.asarray(w)
            if g.shape != w.shape or g.dtype != w.dtype or not np.allclose(g, w, rtol=1e-5, atol=1e-6):
                sys.exit(f"{case}: set {s} output {k}: ONNX Runtime {g.dtype}{g.shape} vs NumPy {w.dtype}{w.shape}\n{g}\n{w}")
        checked.append((feeds, [(o.name, g) for o, g in zip(m.graph.output, got)]))
    case_writer.write_case_sets(root, case, m, checked)


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


# ---- If: both branches read main-graph tensors (an input and a weight) ----

def if_outer():
    then_g = helper.make_graph([helper.make_node("Mul", ["x", "w"], ["t_out"])], "then", [], [vi("t_out", F, [3, 4])])
    else_g = helper.make_graph([helper.make_node("Sub", ["x", "w"], ["e_mid"]),
                                helper.make_node("Relu", ["e_mid"], ["e_out"])], "else", [], [vi("e_out", F, [3, 4])])
    w = randn(3, 4)
    m = model([helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)],
              [vi("x", F, [3, 4]), vi("c", B, [])], [vi("y", F, [3, 4])], inits=[("w", w)])
    x = randn(3, 4)
    save("if_outer_ref", m, [[("x", x), ("c", np.array(True))], [("x", x), ("c", np.array(False))]],
         lambda f: [f["x"] * w if f["c"] else np.maximum(f["x"] - w, 0)])


# ---- Loop with scan outputs and an outer-scope reference ----

def loop_scan_outer():
    body = helper.make_graph(
        [helper.make_node("Cast", ["i"], ["i_f"], to=F),
         helper.make_node("Mul", ["x", "i_f"], ["xi"]),  # x: main-graph input
         helper.make_node("Add", ["acc", "xi"], ["acc_out"]),
         helper.make_node("Identity", ["acc_out"], ["acc_out_scan"]),  # a scan output of its own
         helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("ReduceSum", ["acc_out"], ["s"], keepdims=0)],
        "body", [vi("i", I64, []), vi("cond_in", B, []), vi("acc", F, [2, 3])],
        [vi("cond_out", B, []), vi("acc_out", F, [2, 3]), vi("acc_out_scan", F, [2, 3]), vi("s", F, [])])
    m = model([helper.make_node("Loop", ["M", "c", "acc0"], ["acc_final", "accs", "sums"], body=body)],
              [vi("x", F, [2, 3]), vi("M", I64, []), vi("c", B, []), vi("acc0", F, [2, 3])],
              [vi("acc_final", F, [2, 3]), vi("accs", F, [4, 2, 3]), vi("sums", F, [4])])
    x, acc0 = randn(2, 3), randn(2, 3)

    def restate(f):
        acc, accs = f["acc0"], []
        for i in range(int(f["M"])):
            acc = acc + f["x"] * np.float32(i)
            accs.append(acc)
        return [acc, np.stack(accs), np.array([a.sum(dtype=np.float32) for a in accs], np.float32)]
    save("loop_scan_outer_ref", m, [[("x", x), ("M", np.array(4, np.int64)), ("c", np.array(True)), ("acc0", acc0)]],
         restate)


# ---- an If nested in a Loop body, its branches reading main-graph values ----

def loop_nested_if():
    then_g = helper.make_graph([helper.make_node("Add", ["v", "a"], ["t_out"])], "then", [], [vi("t_out", F, [4])])
    else_g = helper.make_graph([helper.make_node("Mul", ["v", "a"], ["e_out"])], "else", [], [vi("e_out", F, [4])])
    body = helper.make_graph(
        [const("two", np.array(2, np.int64)), const("zero", np.array(0, np.int64)),
         helper.make_node("Mod", ["i", "two"], ["r"]),
         helper.make_node("Equal", ["r", "zero"], ["even"]),
         helper.make_node("If", ["even"], ["v_out"], then_branch=then_g, else_branch=else_g),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "body", [vi("i", I64, []), vi("cond_in", B, []), vi("v", F, [4])],
        [vi("cond_out", B, []), vi("v_out", F, [4])])
    m = model([helper.make_node("Neg", ["a_in"], ["a"]),  # read only inside the nested If
               helper.make_node("Loop", ["M", "", "v0"], ["v_final"], body=body)],
              [vi("a_in", F, [4]), vi("M", I64, []), vi("v0", F, [4])], [vi("v_final", F, [4])])
    a_in, v0 = randn(4), randn(4)

    def restate(f):
        v, a = f["v0"], -f["a_in"]
        for i in range(int(f["M"])):
            v = v + a if i % 2 == 0 else v * a
        return [v]
    save("loop_nested_if", m, [[("a_in", a_in), ("M", np.array(5, np.int64)), ("v0", v0)]], restate)


# ---- Loop with M only (the body's cond output stays true) ----

def loop_m_only():
    body = helper.make_graph(
        [helper.make_node("Mul", ["v", "k"], ["v_out"]),  # k: main-graph weight
         helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Cast", ["i"], ["i_out"], to=F)],
        "body", [vi("i", I64, []), vi("cond_in", B, []), vi("v", F, [2, 2])],
        [vi("cond_out", B, []), vi("v_out", F, [2, 2]), vi("i_out", F, [])])
    k = np.array([[1.5, -0.5], [0.25, 2.0]], np.float32)
    m = model([helper.make_node("Loop", ["M", "", "v0"], ["v_final", "iters"], body=body)],
              [vi("M", I64, []), vi("v0", F, [2, 2])], [vi("v_final", F, [2, 2]), vi("iters", F, [3])],
              inits=[("k", k)])
    v0 = randn(2, 2)
    save("loop_m_only", m, [[("M", np.array(3, np.int64)), ("v0", v0)]],
         lambda f: [f["v0"] * k * k * k, np.arange(3, dtype=np.float32)])


# ---- Loop with cond only: a while loop doubling v until its sum passes a bound ----

def loop_cond_only():
    body = helper.make_graph(
        [const("two", np.array(2.0, np.float32)),
         helper.make_node("Mul", ["v", "two"], ["v_out"]),
         helper.make_node("ReduceSum", ["v_out"], ["s"], keepdims=0),
         helper.make_node("Less", ["s", "bound"], ["cond_out"])],  # bound: main-graph input
        "body", [vi("i", I64, []), vi("cond_in", B, []), vi("v", F, [3])],
        [vi("cond_out", B, []), vi("v_out", F, [3])])
    m = model([helper.make_node("Loop", ["", "c", "v0"], ["v_final"], body=body)],
              [vi("c", B, []), vi("v0", F, [3]), vi("bound", F, [])], [vi("v_final", F, [3])])
    v0 = np.array([0.5, 0.25, 1.0], np.float32)

    def restate(f):
        v, cond = f["v0"], bool(f["c"])
        while cond:
            v = v * np.float32(2)
            cond = bool(v.sum(dtype=np.float32) < f["bound"])
        return [v]
    save("loop_cond_only", m, [[("c", np.array(True)), ("v0", v0), ("bound", np.array(100.0, np.float32))],
                               [("c", np.array(False)), ("v0", v0), ("bound", np.array(100.0, np.float32))]],
         restate)


# ---- Loop that runs zero times: carried values pass through ----

def loop_zero_iterations():
    body = helper.make_graph(
        [helper.make_node("Add", ["v", "v"], ["v_out"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Neg", ["v"], ["v_scan"])],
        "body", [vi("i", I64, []), vi("cond_in", B, []), vi("v", F, [2])],
        [vi("cond_out", B, []), vi("v_out", F, [2]), vi("v_scan", F, [2])])
    m = model([helper.make_node("Loop", ["M", "c", "v0"], ["v_final", "scans"], body=body)],
              [vi("M", I64, []), vi("c", B, []), vi("v0", F, [2])], [vi("v_final", F, [2]), vi("scans", F, [None, 2])])
    v0 = randn(2)
    # No iteration: the scan output is empty, its element shape the body's declared one.
    save("loop_zero_iterations", m, [[("M", np.array(0, np.int64)), ("c", np.array(True)), ("v0", v0)],
                                     [("M", np.array(5, np.int64)), ("c", np.array(False)), ("v0", v0)]],
         lambda f: [f["v0"], np.zeros((0, 2), np.float32)])


# ---- Scan: a reverse input, a reverse output, non-zero and negative axes ----

def scan_reverse_axes():
    body = helper.make_graph(
        [const("st", np.array([0], np.int64)), const("en", np.array([1], np.int64)),
         helper.make_node("Mul", ["x1", "w"], ["x1w"]),  # w: main-graph weight
         helper.make_node("Add", ["s", "x1w"], ["s_out"]),
         helper.make_node("Slice", ["s_out", "st", "en"], ["s_out_first"]),
         helper.make_node("ReduceSum", ["x2"], ["x2sum"], keepdims=1),
         helper.make_node("Mul", ["x1", "x2sum"], ["y1"]),
         helper.make_node("Add", ["x2", "s_out_first"], ["y2"])],
        "body", [vi("s", F, [3]), vi("x1", F, [3]), vi("x2", F, [2])],
        [vi("s_out", F, [3]), vi("y1", F, [3]), vi("y2", F, [2])])
    w = randn(3)
    m = model([helper.make_node("Scan", ["s0", "x1", "x2"], ["s_final", "y1s", "y2s"], body=body, num_scan_inputs=2,
                                scan_input_axes=[1, 0], scan_input_directions=[0, 1],
                                scan_output_axes=[1, -1], scan_output_directions=[1, 0])],
              [vi("s0", F, [3]), vi("x1", F, [3, 5]), vi("x2", F, [5, 2])],
              [vi("s_final", F, [3]), vi("y1s", F, [3, 5]), vi("y2s", F, [2, 5])], inits=[("w", w)])
    s0, x1, x2 = randn(3), randn(3, 5), randn(5, 2)

    def restate(f):
        s, y1, y2 = f["s0"], [], []
        L = 5
        for t in range(L):
            a = f["x1"][:, t]
            b = f["x2"][L - 1 - t, :]
            s = s + a * w
            y1.append(a * b.sum(keepdims=True))
            y2.append(b + s[:1])
        y1s = np.stack(y1[::-1], axis=1)  # reverse output direction
        y2s = np.stack(y2, axis=-1)
        return [s, y1s, y2s]
    save("scan_reverse_axes", m, [[("s0", s0), ("x1", x1), ("x2", x2)]], restate)


# ---- a value only a subgraph reads, behind Conv + BN and an Identity ----

def subgraph_only_value():
    then_g = helper.make_graph([helper.make_node("Relu", ["z"], ["t_out"])], "then", [], [vi("t_out", F, [1, 2, 3, 3])])
    else_g = helper.make_graph([helper.make_node("Neg", ["z"], ["e_out"])], "else", [], [vi("e_out", F, [1, 2, 3, 3])])
    W, bias = randn(2, 1, 1, 1), randn(2)
    scale, beta, mean, var = randn(2), randn(2), randn(2), np.abs(randn(2)) + 0.5
    nodes = [helper.make_node("Conv", ["x", "W", "bias"], ["conv"]),
             helper.make_node("BatchNormalization", ["conv", "scale", "beta", "mean", "var"], ["bn"], epsilon=1e-5),
             helper.make_node("Identity", ["bn"], ["z"]),  # z: read by the If's branches only
             helper.make_node("ReduceSum", ["x"], ["xs"], keepdims=0),
             helper.make_node("Greater", ["xs", "zero"], ["c"]),
             helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)]
    m = model(nodes, [vi("x", F, [1, 1, 3, 3])], [vi("y", F, [1, 2, 3, 3])],
              inits=[("W", W), ("bias", bias), ("scale", scale), ("beta", beta), ("mean", mean), ("var", var),
                     ("zero", np.array(0, np.float32))])
    x = randn(1, 1, 3, 3)

    def restate(f):
        conv = f["x"] * W.reshape(1, 2, 1, 1) + bias.reshape(1, 2, 1, 1)
        z = (conv - mean.reshape(1, 2, 1, 1)) / np.sqrt(var.reshape(1, 2, 1, 1) + 1e-5) * scale.reshape(1, 2, 1, 1) \
            + beta.reshape(1, 2, 1, 1)
        return [np.maximum(z, 0) if f["x"].sum() > 0 else -z]
    save("subgraph_only_value", m, [[("x", x if x.sum() > 0 else -x)], [("x", -x if x.sum() > 0 else x)]], restate)


# ---- branches reading both x and an Identity of it: removing the Identity
#      leaves the If reading one value through two references ----

def if_identity_pair():
    then_g = helper.make_graph([helper.make_node("Add", ["x", "x_copy"], ["t_out"])], "then", [], [vi("t_out", F, [4])])
    else_g = helper.make_graph([helper.make_node("Sub", ["x_copy", "w"], ["e_out"])], "else", [], [vi("e_out", F, [4])])
    w = randn(4)
    m = model([helper.make_node("Relu", ["x_in"], ["x"]), helper.make_node("Identity", ["x"], ["x_copy"]),
               helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)],
              [vi("x_in", F, [4]), vi("c", B, [])], [vi("y", F, [4])], inits=[("w", w)])
    x = randn(4)
    save("if_identity_pair", m, [[("x_in", x), ("c", np.array(True))], [("x_in", x), ("c", np.array(False))]],
         lambda f: [2 * np.maximum(f["x_in"], 0) if f["c"] else np.maximum(f["x_in"], 0) - w])


# ---- M without cond, the body's cond output turning false early: ONNX
#      Runtime (and onnx's reference implementation) stop there, though the
#      spec's pseudo-code calls that output ignored ----

def loop_m_body_stops():
    body = helper.make_graph(
        [const("two", np.array(2, np.int64)),
         helper.make_node("Less", ["i", "two"], ["cond_out"]),
         helper.make_node("Add", ["v", "v"], ["v_out"])],
        "body", [vi("i", I64, []), vi("cond_in", B, []), vi("v", F, [2])],
        [vi("cond_out", B, []), vi("v_out", F, [2])])
    m = model([helper.make_node("Loop", ["M", "", "v0"], ["v_final"], body=body)],
              [vi("M", I64, []), vi("v0", F, [2])], [vi("v_final", F, [2])])
    v0 = randn(2)

    def restate(f):  # onnx.reference's Loop: cond = body output after every iteration
        v, i, cond = f["v0"], 0, True
        while cond and i < int(f["M"]):
            v = v + v
            cond = i < 2
            i += 1
        return [v]
    save("loop_m_body_stops", m, [[("M", np.array(10, np.int64)), ("v0", v0)]], restate)


if __name__ == "__main__":
    case_writer.regenerate(root,
                           if_outer, loop_scan_outer, loop_nested_if, loop_m_only, loop_cond_only,
                           loop_zero_iterations, scan_reverse_axes, subgraph_only_value, if_identity_pair,
                           loop_m_body_stops)
