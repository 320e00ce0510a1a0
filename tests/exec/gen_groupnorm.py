#!/usr/bin/python3
"""Test cases for the ops opset 18 added that razorq runs:
GroupNormalization, BitwiseAnd/Or/Xor/Not and Mish (the "groupnorm"
family in tests/exec/meson.build).

    NODE_PATH=<dir with onnxruntime-node>/node_modules /usr/bin/python3 tests/exec/gen_groupnorm.py

Writes tests/exec/data/groupnorm/node/<case>/model.onnx with
test_data_set_0/input_K.pb and output_K.pb (the layout of ONNX's backend
tests, so tests/conformance's program runs them). Expected outputs come
from ONNX Runtime (tests/exec/ort_run.js); the script restates every case
with an independent implementation and stops if the two disagree:
  - GroupNormalization: PyTorch 1.13's F.group_norm with per-channel
    weight/bias = the group's scale/bias repeated over its channels (opset
    18 gives one value per group). Inputs of rank 2 to 5; num_groups 1, C
    and in between; epsilon; a large common offset (cancellation); a
    constant group (variance 0: the output is the bias); DOUBLE and FLOAT16.
    The large-offset case is the exception to ONNX Runtime as the oracle:
    its GroupNormalization-18 returns NaN there (as a float32 variance
    taken as E[x^2] - E[x]^2 would: it comes out negative), and PyTorch's
    float32 statistics are off by ~1e-2; the expected output
    is the spec computed in float64 by NumPy, checked against PyTorch to
    2e-2. Empty inputs (N, C or a spatial dimension 0) take PyTorch as the
    oracle: ONNX Runtime refuses them (the function body's Reshape fails).
  - Bitwise*: NumPy's & | ^ ~ on int8, uint8, int32, int64 with each
    type's extremes and numpy broadcasting (row, column, scalar, both ways,
    and to an empty result).
  - Mish: PyTorch's F.mish, over large positive and negative values.
The committed data was made with torch 1.13, numpy and onnxruntime-node
1.30.0; runs of the C tests need neither.
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import helper

import case_writer

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "groupnorm", "node")
rng = np.random.default_rng(20261127)


def make_model(node, inputs, out_dtype):
    """inputs: list of (name, array); one output Y of numpy dtype out_dtype.
    onnx 1.12's checker does not know opset 18, hence check=False."""
    out = helper.make_tensor_value_info(node.output[0], onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(out_dtype)],
                                        None)
    return case_writer.make_model([node], case_writer.tensor_infos(inputs), [out], name=node.op_type, opset=18,
                                  ir_version=8, check=False)


def agree(case, ort, ref, rtol, atol):
    """Stops the script when ONNX Runtime and the restatement disagree."""
    if ort.shape != ref.shape or ort.dtype != ref.dtype:
        sys.exit(f"{case}: ONNX Runtime gives {ort.dtype}{list(ort.shape)}, the reference {ref.dtype}{list(ref.shape)}")
    if not np.allclose(ort.astype(np.float64), ref.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True):
        err = np.max(np.abs(ort.astype(np.float64) - ref.astype(np.float64)))
        sys.exit(f"{case}: ONNX Runtime and the reference disagree (max abs difference {err})")


def run_case(case, node, inputs, out_dtype, ref, rtol=0.0, atol=0.0):
    model = make_model(node, inputs, out_dtype)
    (y,) = case_writer.ort_run(model, inputs)
    agree(case, y, ref, rtol, atol)
    case_writer.write_case(root, case, model, inputs, [(node.output[0], y)])


# ---- GroupNormalization: ONNX Runtime, cross-checked with PyTorch ----

def torch_group_norm(x, scale, bias, groups, eps):
    """PyTorch's group_norm, whose weight/bias are per channel: each group's
    value repeated over its C / groups channels. FLOAT16 runs in float32
    (PyTorch 1.13 has no CPU half kernel) and is rounded at the end."""
    per = x.shape[1] // groups
    compute = np.float32 if x.dtype == np.float16 else x.dtype
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a.astype(compute)))
    y = F.group_norm(t(x), groups, t(np.repeat(scale, per)), t(np.repeat(bias, per)), eps)
    return y.numpy().astype(x.dtype)


def numpy_group_norm(x, scale, bias, groups, eps):
    """The spec in float64: statistics over each image's group, then the
    group's scale and bias."""
    g = x.astype(np.float64).reshape(x.shape[0], groups, -1)
    mean, var = g.mean(-1, keepdims=True), g.var(-1, keepdims=True)
    y = (g - mean) / np.sqrt(var + np.float64(np.float32(eps))) * scale[:, None] + bias[:, None]
    return y.reshape(x.shape).astype(x.dtype)


def group_norm_case(case, x, groups, eps=None, scale=None, bias=None, oracle="ort"):
    """oracle: "ort" (checked against PyTorch), "numpy" (numpy_group_norm,
    checked against PyTorch to 2e-2) or "torch" (alone)."""
    dtype = x.dtype
    scale = rng.uniform(0.5, 2.0, groups).astype(dtype) if scale is None else scale
    bias = rng.uniform(-1.0, 1.0, groups).astype(dtype) if bias is None else bias
    attrs = {"num_groups": groups} if eps is None else {"num_groups": groups, "epsilon": eps}
    node = helper.make_node("GroupNormalization", ["X", "scale", "bias"], ["Y"], **attrs)
    inputs = [("X", x), ("scale", scale), ("bias", bias)]
    ref = torch_group_norm(x, scale, bias, groups, 1e-5 if eps is None else eps)
    if oracle != "ort":
        y = ref
        if oracle == "numpy":
            y = numpy_group_norm(x, scale, bias, groups, 1e-5 if eps is None else eps)
            agree(case, y, ref, 2e-2, 2e-2)
        case_writer.write_case(root, case, make_model(node, inputs, dtype), inputs, [("Y", y)])
        return
    # FLOAT16: ONNX Runtime normalises in half precision, PyTorch here in
    # float32; they agree to a few half-precision ulps.
    rtol, atol = {np.float32: (1e-4, 1e-5), np.float64: (1e-10, 1e-12), np.float16: (4e-3, 4e-3)}[dtype.type]
    run_case(case, node, inputs, dtype, ref, rtol, atol)


def gen_group_norm():
    normal = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    group_norm_case("groupnorm_2d", normal(4, 6), 3)
    group_norm_case("groupnorm_3d", normal(2, 6, 7), 3)
    group_norm_case("groupnorm_4d_groups_1", normal(2, 4, 3, 5), 1)
    group_norm_case("groupnorm_4d_groups_c", normal(2, 4, 3, 5), 4)
    group_norm_case("groupnorm_4d_groups_2_epsilon", normal(3, 8, 4, 4), 2, eps=0.01)
    group_norm_case("groupnorm_5d", normal(1, 6, 2, 3, 4), 3)
    # Every value near 1000: a one-pass E[x^2] - E[x]^2 in float32 loses
    # the variance (see the docstring: NumPy float64 is the oracle here).
    group_norm_case("groupnorm_large_mean", (1000 + 0.01 * normal(2, 4, 5, 5)).astype(np.float32), 2,
                    oracle="numpy")
    # Group 1 of image 0 is constant: variance 0, so y = bias there, and a
    # large epsilon shows in the other groups.
    x = normal(2, 4, 3, 3)
    x[0, 2:4] = 1.5
    group_norm_case("groupnorm_constant_group", x, 2, eps=0.5)
    group_norm_case("groupnorm_double", rng.standard_normal((2, 6, 3, 4)), 3)
    group_norm_case("groupnorm_float16", rng.standard_normal((2, 4, 3, 3)).astype(np.float16), 2)


# ---- Bitwise*: ONNX Runtime, cross-checked with NumPy ----

def int_values(dtype, shape):
    """Random values of the whole range, with the type's minimum, maximum,
    0 and -1 (or its unsigned twin) among them."""
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    special = np.array([info.min, info.max, 0, info.max if info.min == 0 else -1], dtype)
    a.reshape(-1)[:min(a.size, special.size)] = special[:a.size]
    return a


# (A shape, B shape): same shape, a row, a column against a row, a scalar,
# and B the larger.
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 3, 1), (1, 5)), ((2, 3, 4), ()), ((4,), (2, 3, 4))]
NUMPY_BINARY = {"BitwiseAnd": np.bitwise_and, "BitwiseOr": np.bitwise_or, "BitwiseXor": np.bitwise_xor}


def gen_bitwise():
    for t, dtype in enumerate((np.int8, np.uint8, np.int32, np.int64)):
        name = np.dtype(dtype).name
        for o, (op, fn) in enumerate(NUMPY_BINARY.items()):
            sa, sb = SHAPES[(t + o) % len(SHAPES)]  # every shape pair for every op across the types
            a, b = int_values(dtype, sa), int_values(dtype, sb)
            node = helper.make_node(op, ["A", "B"], ["C"])
            run_case(f"{op.lower()}_{name}_{'x'.join(map(str, sa)) or 'scalar'}_{'x'.join(map(str, sb)) or 'scalar'}",
                     node, [("A", a), ("B", b)], dtype, fn(a, b))
        x = int_values(dtype, (2, 3, 4))
        run_case(f"bitwisenot_{name}", helper.make_node("BitwiseNot", ["X"], ["Y"]), [("X", x)], dtype, np.invert(x))


# ---- Mish: ONNX Runtime, cross-checked with PyTorch ----

def gen_mish():
    x = np.concatenate([rng.standard_normal(20) * 4, [0.0, -0.0, 30.0, -30.0, 100.0, -100.0, 1e-8]])
    for dtype in (np.float32, np.float64):
        xd = x.astype(dtype).reshape(3, 9)
        ref = F.mish(torch.from_numpy(xd)).numpy()
        rtol, atol = (1e-6, 1e-7) if dtype == np.float32 else (1e-12, 1e-13)
        run_case(f"mish_{np.dtype(dtype).name}", helper.make_node("Mish", ["X"], ["Y"]), [("X", xd)], dtype, ref,
                 rtol, atol)


# ---- empty tensors (last, so the cases above keep their random draws) ----

def gen_empty():
    empty = lambda *shape: np.zeros(shape, np.float32)
    group_norm_case("groupnorm_empty_batch", empty(0, 4, 3), 2, oracle="torch")
    group_norm_case("groupnorm_empty_spatial", empty(2, 4, 0), 2, oracle="torch")
    group_norm_case("groupnorm_no_channels", empty(2, 0, 3), 1, oracle="torch")
    a, b = np.zeros((0, 3), np.int8), int_values(np.int8, (3,))
    run_case("bitwiseand_int8_empty", helper.make_node("BitwiseAnd", ["A", "B"], ["C"]), [("A", a), ("B", b)],
             np.int8, a & b)


def main():
    case_writer.regenerate(root, gen_group_norm, gen_bitwise, gen_mish, gen_empty)


main()
