#!/usr/bin/python3
"""Conformance-style cases for what opset 18 (ONNX 1.13) changed in ops
razorq already ran, for tests/exec (the "opset18" family in
tests/exec/meson.build). Debian's ONNX test data is 1.12's (opset 17), so
these are razorq's own.

    NODE_PATH=$PWD/node_modules /usr/bin/python3 tests/exec/gen_opset18.py

Each case is tests/exec/data/opset18/node/<case>/ with model.onnx and
test_data_set_0/{input,output}_K.pb. Expected outputs come from ONNX Runtime
(tests/exec/ort_run.js); every case is also restated in NumPy here from the
operator spec and the script stops if the two disagree.

What the cases cover: the Reduce ops taking axes as an input (negative
axes, keepdims 0, noop_with_empty_axes with no axes), Split's num_outputs
(even and uneven), Pad's axes input (negative axes; constant, edge and
reflect), the max and min reductions of ScatterElements and ScatterND, and
OptionalHasElement / OptionalGetElement on a plain tensor, and LpPool /
GlobalLpPool (LpPool gained ceil_mode and dilations in opset 18; both ran
nowhere before, so older opsets are covered here too).
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

import case_writer

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "opset18", "node")
rng = np.random.default_rng(18)
F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def model(nodes, inputs, outputs, inits=(), opset=18):
    # onnx 1.12's checker knows no opset 18.
    return case_writer.make_model(nodes, inputs, outputs, inits, name="opset18", opset=opset, ir_version=8,
                                  check=False)


def save(case, m, feeds, want):
    got = case_writer.ort_run(m, feeds)
    for k, (g, w) in enumerate(zip(got, want)):
        w = np.asarray(w)
        if g.shape != w.shape or g.dtype != w.dtype or not np.allclose(g, w, rtol=1e-5, atol=1e-6):
            sys.exit(f"{case}: output {k}: ONNX Runtime {g.dtype}{g.shape} vs NumPy {w.dtype}{w.shape}\n{g}\n{w}")
    case_writer.write_case(root, case, m, feeds, [(o.name, g) for o, g in zip(m.graph.output, got)])


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


# ---- Reduce* with axes as an input ----

REDUCERS = {
    "ReduceMean": lambda x, a, k: np.mean(x, axis=a, keepdims=k),
    "ReduceMax": lambda x, a, k: np.max(x, axis=a, keepdims=k),
    "ReduceMin": lambda x, a, k: np.min(x, axis=a, keepdims=k),
    "ReduceProd": lambda x, a, k: np.prod(x, axis=a, keepdims=k),
    "ReduceSumSquare": lambda x, a, k: np.sum(x * x, axis=a, keepdims=k),
    "ReduceL1": lambda x, a, k: np.sum(np.abs(x), axis=a, keepdims=k),
    "ReduceL2": lambda x, a, k: np.sqrt(np.sum(x * x, axis=a, keepdims=k)),
    "ReduceLogSum": lambda x, a, k: np.log(np.sum(x, axis=a, keepdims=k)),
    "ReduceLogSumExp": lambda x, a, k: np.log(np.sum(np.exp(x), axis=a, keepdims=k)),
}


def reduce_cases():
    x = randn(2, 3, 4)
    positive = np.abs(x) + 0.5  # ReduceLogSum needs a positive sum
    for op, ref in REDUCERS.items():
        data = positive if op == "ReduceLogSum" else x
        for axes, keep in (([1], 1), ([-1, 0], 0)):
            m = model([helper.make_node(op, ["x", "axes"], ["y"], keepdims=keep)],
                      [vi("x", F, [2, 3, 4]), vi("axes", I64, [len(axes)])], [vi("y", F, None)])
            feeds = [("x", data), ("axes", np.array(axes, np.int64))]
            suffix = "neg_axes" if axes[0] < 0 else "axes"
            save(f"{op.lower()}_{suffix}_keepdims{keep}", m, feeds,
                 [ref(data.astype(np.float64), tuple(axes), bool(keep)).astype(np.float32)])
    # No axes: every axis, or (noop_with_empty_axes) the input unchanged.
    m = model([helper.make_node("ReduceMax", ["x"], ["y"], keepdims=0)], [vi("x", F, [2, 3, 4])], [vi("y", F, None)])
    save("reducemax_no_axes", m, [("x", x)], [np.max(x)])
    m = model([helper.make_node("ReduceMean", ["x", ""], ["y"], noop_with_empty_axes=1)],
              [vi("x", F, [2, 3, 4])], [vi("y", F, None)])
    save("reducemean_noop_empty_axes", m, [("x", x)], [x])


# ---- Split with num_outputs ----

def split_cases():
    for dim, n in ((6, 3), (7, 3), (10, 4)):
        x = randn(2, dim)
        outs = [f"y{i}" for i in range(n)]
        m = model([helper.make_node("Split", ["x"], outs, axis=1, num_outputs=n)],
                  [vi("x", F, [2, dim])], [vi(o, F, None) for o in outs])
        part = -(-dim // n)  # ceil: every part but the last
        bounds = [min(part * i, dim) for i in range(n + 1)]
        save(f"split_num_outputs_{dim}_by_{n}", m, [("x", x)],
             [x[:, bounds[i]:bounds[i + 1]] for i in range(n)])


# ---- Pad with axes ----

def pad_cases():
    x = randn(2, 3, 4)
    for mode, axes, pads in (("constant", [1, 2], [1, 0, 2, 3]), ("edge", [-1], [2, 1]),
                             ("reflect", [0, -1], [1, 2, 1, 1])):
        inputs = [vi("x", F, [2, 3, 4]), vi("pads", I64, [len(pads)]), vi("value", F, []),
                  vi("axes", I64, [len(axes)])]
        m = model([helper.make_node("Pad", ["x", "pads", "value", "axes"], ["y"], mode=mode)], inputs,
                  [vi("y", F, None)])
        width = [(0, 0)] * 3
        for k, a in enumerate(axes):
            width[a % 3] = (pads[k], pads[len(axes) + k])
        value = np.float32(0.5)
        want = np.pad(x, width, mode=mode, constant_values=value) if mode == "constant" else np.pad(x, width, mode=mode)
        save(f"pad_axes_{mode}", m, [("x", x), ("pads", np.array(pads, np.int64)), ("value", np.array(value)),
                                     ("axes", np.array(axes, np.int64))], [want])


# ---- ScatterElements / ScatterND with max and min ----

def scatter_cases():
    data = randn(3, 4)
    for red, pick in (("max", np.maximum), ("min", np.minimum)):
        # Repeated indices: every update of a place takes part.
        idx = np.array([[0, 1, 1, 3], [2, 2, 0, 0]], np.int64)
        upd = randn(2, 4)
        m = model([helper.make_node("ScatterElements", ["data", "idx", "upd"], ["y"], axis=1, reduction=red)],
                  [vi("data", F, [3, 4]), vi("idx", I64, [2, 4]), vi("upd", F, [2, 4])], [vi("y", F, [3, 4])])
        want = data.copy()
        for i in range(2):
            for j in range(4):
                want[i, idx[i, j]] = pick(want[i, idx[i, j]], upd[i, j])
        save(f"scatter_elements_{red}", m, [("data", data), ("idx", idx), ("upd", upd)], [want])

        ind = np.array([[1], [0], [1]], np.int64)
        rows = randn(3, 4)
        m = model([helper.make_node("ScatterND", ["data", "ind", "rows"], ["y"], reduction=red)],
                  [vi("data", F, [3, 4]), vi("ind", I64, [3, 1]), vi("rows", F, [3, 4])], [vi("y", F, [3, 4])])
        want = data.copy()
        for t in range(3):
            want[ind[t, 0]] = pick(want[ind[t, 0]], rows[t])
        save(f"scatter_nd_{red}", m, [("data", data), ("ind", ind), ("rows", rows)], [want])


# ---- LpPool (ceil_mode and dilations since opset 18) and GlobalLpPool ----

def lp_pool_ref(x, p, kernel, strides, pads, dilations, ceil_mode):
    """NumPy restatement: (sum over the window's inside elements of |x|^p)^(1/p)."""
    n, c, h, w = x.shape
    out = []
    for axis, size in ((0, h), (1, w)):
        span = (kernel[axis] - 1) * dilations[axis] + 1
        room = size + pads[axis] + pads[axis + 2] - span
        count = (-(-room // strides[axis]) if ceil_mode else room // strides[axis]) + 1
        if ceil_mode and (count - 1) * strides[axis] >= size + pads[axis]:
            count -= 1
        out.append(count)
    y = np.zeros((n, c, out[0], out[1]), np.float64)
    for i in range(out[0]):
        for j in range(out[1]):
            acc = np.zeros((n, c))
            for a in range(kernel[0]):
                for b in range(kernel[1]):
                    r = i * strides[0] - pads[0] + a * dilations[0]
                    q = j * strides[1] - pads[1] + b * dilations[1]
                    if 0 <= r < h and 0 <= q < w:
                        acc += np.abs(x[:, :, r, q].astype(np.float64)) ** p
            y[:, :, i, j] = acc ** (1.0 / p)
    return y.astype(np.float32)


def lp_pool_cases():
    x = randn(2, 3, 7, 6)
    for name, opset, attrs in (
            ("lppool_p2_pads", 11, dict(kernel_shape=[3, 2], strides=[2, 2], pads=[1, 0, 1, 1])),
            ("lppool_p3_ceil_mode", 18, dict(p=3, kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)),
            ("lppool_p1_dilations", 18, dict(p=1, kernel_shape=[2, 2], dilations=[2, 2], strides=[1, 2]))):
        m = model([helper.make_node("LpPool", ["x"], ["y"], **attrs)], [vi("x", F, [2, 3, 7, 6])], [vi("y", F, None)],
                  opset=opset)
        want = lp_pool_ref(x, attrs.get("p", 2), attrs["kernel_shape"], attrs.get("strides", [1, 1]),
                           attrs.get("pads", [0, 0, 0, 0]), attrs.get("dilations", [1, 1]), attrs.get("ceil_mode", 0))
        save(name, m, [("x", x)], [want])
    for p in (1, 2, 3):
        m = model([helper.make_node("GlobalLpPool", ["x"], ["y"], p=p)], [vi("x", F, [2, 3, 7, 6])],
                  [vi("y", F, None)], opset=2 if p == 2 else 18)
        want = (np.abs(x.astype(np.float64)) ** p).sum(axis=(2, 3), keepdims=True) ** (1.0 / p)
        save(f"global_lppool_p{p}", m, [("x", x)], [want.astype(np.float32)])


# ---- Optional ops on a plain tensor ----

def optional_cases():
    x = randn(2, 3)
    m = model([helper.make_node("OptionalHasElement", ["x"], ["has"]),
               helper.make_node("OptionalGetElement", ["x"], ["y"])],
              [vi("x", F, [2, 3])], [vi("has", B, []), vi("y", F, [2, 3])])
    save("optional_ops_on_tensor", m, [("x", x)], [np.array(True), x])


if __name__ == "__main__":
    case_writer.regenerate(root, reduce_cases, split_cases, pad_cases, scatter_cases, optional_cases, lp_pool_cases)
