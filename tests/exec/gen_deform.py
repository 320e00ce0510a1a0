#!/usr/bin/python3
"""Test cases for DeformConv (opset 19) and GroupNormalization's opset-21
form (the "deform" family in tests/exec/meson.build).

    NODE_PATH=<dir with onnxruntime-node>/node_modules /usr/bin/python3 tests/exec/gen_deform.py

Writes tests/exec/data/deform/node/<case>/model.onnx with
test_data_set_0/input_K.pb and output_K.pb (the layout of ONNX's backend
tests, run by tests/conformance's program). Expected outputs come from ONNX
Runtime (tests/exec/ort_run.js); the script restates every case
independently and stops if the two disagree:
  - DeformConv: a NumPy restatement of the spec (each tap samples X at its
    position plus its offset, linearly along each axis, corners outside X
    being 0, times the mask; then the grouped convolution sum), and for
    2-D cases with symmetric pads torchvision.ops.deform_conv2d as well.
    Zero offsets must also give F.conv2d's result. Cases: offsets of a few
    pixels (many samples partly or wholly outside X), integer offsets,
    mask, bias, group 2, offset_group 2 and 4, group and offset_group
    together, strides, dilations, asymmetric pads, a 2x3 kernel with
    kernel_shape, batch 3, an output large enough to be computed in blocks.
    1-D and 3-D inputs and an empty batch take the NumPy restatement alone
    as the oracle (ONNX Runtime 1.30's DeformConv is 2-D only).
  - GroupNormalization at opset 21: scale and bias per channel; PyTorch
    1.13's F.group_norm (whose weight and bias are per channel). Ranks 2 to
    5, stash_type 1 given and defaulted, DOUBLE with stash_type 11 and 1
    (ONNX Runtime then takes the statistics in float, as the spec's
    function body does; PyTorch and razorq in double, within 1e-6), FLOAT16.
The committed data was made with torch 1.13, torchvision 0.14, numpy and
onnxruntime-node 1.30.0; runs of the C tests need none of them.
"""
import itertools
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import helper

import case_writer

try:
    import torchvision.ops
except ImportError:  # the NumPy restatement remains the cross-check
    torchvision = None

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "deform", "node")
rng = np.random.default_rng(20261127)
# ir_version 9 came with opset 19, 10 with opset 21.
IR_VERSION = {19: 9, 21: 10}


def make_model(node, inputs, out_dtype, opset):
    """inputs: list of (name, array); one output Y of numpy dtype out_dtype.
    onnx 1.12's checker knows no opset above 17, hence check=False."""
    out = helper.make_tensor_value_info(node.output[0], onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(out_dtype)],
                                        None)
    return case_writer.make_model([node], case_writer.tensor_infos(inputs), [out], name=node.op_type, opset=opset,
                                  ir_version=IR_VERSION[opset], check=False)


def agree(case, what, got, ref, rtol, atol):
    """Stops the script when two oracles disagree."""
    if got.shape != ref.shape or got.dtype != ref.dtype:
        sys.exit(f"{case}: {what}: {got.dtype}{list(got.shape)} vs {ref.dtype}{list(ref.shape)}")
    if not np.allclose(got.astype(np.float64), ref.astype(np.float64), rtol=rtol, atol=atol):
        err = np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64)))
        sys.exit(f"{case}: {what} disagree (max abs difference {err})")


# ---- DeformConv: ONNX Runtime, cross-checked with NumPy and torchvision ----

def sample(xc, pos):
    """xc [in...] (one channel) at the fractional position pos (one value per
    axis): the linear interpolation of its 2^n grid neighbours, a neighbour
    outside xc counting as 0."""
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    total = 0.0
    for up in itertools.product((0, 1), repeat=len(pos)):
        q = lo + np.array(up)
        if np.all(q >= 0) and np.all(q < xc.shape):
            total += np.prod(np.where(up, frac, 1 - frac)) * xc[tuple(q)]
    return total


def numpy_deform_conv(x, w, offset, b, mask, strides, dilations, pads, group, offset_group):
    """The spec, in float64, one output element at a time."""
    n = x.ndim - 2
    N, C = x.shape[:2]
    M, cg = w.shape[:2]
    kernel = w.shape[2:]
    out = tuple(offset.shape[2:])
    K = int(np.prod(kernel))
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    off = offset.astype(np.float64).reshape(N, offset_group, K, n, *out)
    msk = None if mask is None else mask.astype(np.float64).reshape(N, offset_group, K, *out)
    # cols[N, C, K, out...]: channel c's sample at tap k for each output position.
    cols = np.zeros((N, C, K) + out)
    for i, c in itertools.product(range(N), range(C)):
        og = c // (C // offset_group)
        for k, tap in enumerate(itertools.product(*map(range, kernel))):
            for o in itertools.product(*map(range, out)):
                base = np.array([o[a] * strides[a] - pads[a] + tap[a] * dilations[a] for a in range(n)], np.float64)
                pos = base + off[(i, og, k, slice(None)) + o]
                v = sample(x64[i, c], pos)
                cols[(i, c, k) + o] = v * (1.0 if msk is None else msk[(i, og, k) + o])
    y = np.zeros((N, M) + out)
    mg = M // group
    for g in range(group):
        wg = w64[g * mg:(g + 1) * mg].reshape(mg, cg * K)
        cg_cols = cols[:, g * cg:(g + 1) * cg].reshape(N, cg * K, int(np.prod(out)))
        y[:, g * mg:(g + 1) * mg] = np.einsum("mr,nrp->nmp", wg, cg_cols).reshape((N, mg) + out)
    if b is not None:
        y += b.astype(np.float64).reshape((1, M) + (1,) * n)
    return y.astype(np.float32)


def deform_conv_case(case, x, w, offset_scale=2.0, integer_offsets=False, bias=False, mask=False, strides=None,
                     dilations=None, pads=None, group=1, offset_group=1, kernel_shape_attr=False, oracle="ort",
                     restate=True):
    """oracle "ort": ONNX Runtime, checked against the NumPy restatement
    (restate=False: against torchvision alone, for cases too large for
    it) and torchvision; "numpy": the restatement alone."""
    n = x.ndim - 2
    kernel = w.shape[2:]
    strides = strides or [1] * n
    dilations = dilations or [1] * n
    pads = pads or [0] * (2 * n)
    out = [(x.shape[2 + a] + pads[a] + pads[n + a] - ((kernel[a] - 1) * dilations[a] + 1)) // strides[a] + 1
           for a in range(n)]
    K = int(np.prod(kernel))
    N = x.shape[0]
    offset = rng.uniform(-offset_scale, offset_scale, (N, offset_group * K * n, *out))
    if integer_offsets:
        offset = np.round(offset)
    offset = offset.astype(np.float32)
    inputs = [("X", x), ("W", w), ("offset", offset)]
    names = ["X", "W", "offset"]
    b = m = None
    if bias or mask:
        b = rng.standard_normal(w.shape[0]).astype(np.float32) if bias else None
        names.append("B" if bias else "")
        if bias:
            inputs.append(("B", b))
    if mask:
        m = rng.uniform(0.0, 1.0, (N, offset_group * K, *out)).astype(np.float32)
        names.append("mask")
        inputs.append(("mask", m))
    attrs = {"group": group, "offset_group": offset_group, "strides": strides, "dilations": dilations, "pads": pads}
    if kernel_shape_attr:
        attrs["kernel_shape"] = list(kernel)
    node = helper.make_node("DeformConv", names, ["Y"], **attrs)
    ref = numpy_deform_conv(x, w, offset, b, m, strides, dilations, pads, group, offset_group) if restate else None
    if torchvision is not None and n == 2 and pads[:2] == pads[2:] and x.shape[0] > 0:
        t = lambda a: None if a is None else torch.from_numpy(a)
        tv = torchvision.ops.deform_conv2d(t(x), t(offset), t(w), t(b), stride=tuple(strides), padding=tuple(pads[:2]),
                                           dilation=tuple(dilations), mask=t(m)).numpy()
        if ref is None:
            ref = tv
        else:
            agree(case, "torchvision and NumPy", tv, ref, 1e-4, 1e-5)
    if ref is None:
        sys.exit(f"{case}: needs torchvision or the NumPy restatement")
    model = make_model(node, inputs, np.float32, 19)
    y = ref
    if oracle == "ort":
        (y,) = case_writer.ort_run(model, inputs)
        agree(case, "ONNX Runtime and NumPy", y, ref, 1e-4, 1e-5)
    case_writer.write_case(root, case, model, inputs, [("Y", y)])
    return offset


def gen_deform_conv():
    normal = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    deform_conv_case("deformconv_basic", normal(1, 2, 5, 5), normal(3, 2, 3, 3))
    deform_conv_case("deformconv_integer_offsets", normal(1, 2, 5, 6), normal(2, 2, 3, 3), integer_offsets=True)
    deform_conv_case("deformconv_bias_mask", normal(1, 3, 6, 5), normal(4, 3, 3, 3), bias=True, mask=True)
    deform_conv_case("deformconv_mask_no_bias", normal(1, 2, 5, 5), normal(2, 2, 2, 2), mask=True)
    deform_conv_case("deformconv_group_2", normal(1, 4, 5, 5), normal(6, 2, 3, 3), group=2, bias=True)
    deform_conv_case("deformconv_offset_group_2", normal(1, 4, 5, 5), normal(3, 4, 3, 3), offset_group=2, mask=True)
    deform_conv_case("deformconv_group_2_offset_group_4", normal(2, 8, 4, 5), normal(4, 4, 2, 3), group=2,
                     offset_group=4, bias=True, mask=True)
    deform_conv_case("deformconv_strides_dilations_pads", normal(1, 2, 8, 7), normal(3, 2, 3, 3), strides=[2, 1],
                     dilations=[1, 2], pads=[1, 2, 1, 2], bias=True)
    deform_conv_case("deformconv_asymmetric_pads", normal(1, 2, 5, 5), normal(2, 2, 3, 3), pads=[0, 1, 2, 0],
                     mask=True)
    deform_conv_case("deformconv_kernel_2x3", normal(1, 3, 6, 6), normal(2, 3, 2, 3), kernel_shape_attr=True,
                     strides=[2, 2])
    deform_conv_case("deformconv_batch_3", normal(3, 2, 4, 4), normal(2, 2, 3, 3), pads=[1, 1, 1, 1], bias=True,
                     mask=True, offset_scale=1.0)
    # Samples wholly outside X are 0: offsets of -1e6 and 1e6 (the output
    # is the bias), and pads that put every tap outside X.
    deform_conv_case("deformconv_offsets_outside", normal(1, 2, 4, 4), normal(2, 2, 2, 2), bias=True,
                     offset_scale=1e6)
    deform_conv_case("deformconv_pads_outside", normal(1, 2, 4, 4), normal(2, 2, 2, 2), bias=True,
                     offset_scale=0.0, pads=[9, 9, 9, 9], strides=[7, 7])
    # Zero offsets: an ordinary convolution (a third, independent oracle).
    x, w = normal(2, 4, 6, 5), normal(4, 2, 3, 3)
    offset = deform_conv_case("deformconv_zero_offsets", x, w, offset_scale=0.0, group=2, pads=[1, 1, 1, 1])
    assert not offset.any()
    conv = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1, groups=2).numpy()
    agree("deformconv_zero_offsets", "F.conv2d and NumPy",
          conv, numpy_deform_conv(x, w, offset, None, None, [1, 1], [1, 1], [1, 1, 1, 1], 2, 1), 1e-4, 1e-5)
    # N-D: ONNX Runtime's kernel is 2-D only; NumPy alone.
    deform_conv_case("deformconv_1d", normal(2, 2, 7), normal(3, 2, 3), pads=[1, 0], bias=True, mask=True,
                     oracle="numpy")
    deform_conv_case("deformconv_3d", normal(1, 2, 4, 3, 4), normal(2, 1, 2, 2, 2), group=2, offset_group=2,
                     offset_scale=1.5, mask=True, oracle="numpy")
    deform_conv_case("deformconv_empty_batch", normal(0, 2, 4, 4), normal(2, 2, 3, 3))


# ---- GroupNormalization-21: ONNX Runtime, cross-checked with PyTorch ----

def torch_group_norm(x, scale, bias, groups, eps):
    """PyTorch's group_norm (weight and bias per channel, as opset 21's).
    FLOAT16 runs in float32 (PyTorch 1.13 has no CPU half kernel) and is
    rounded at the end."""
    compute = np.float32 if x.dtype == np.float16 else x.dtype
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a.astype(compute)))
    return F.group_norm(t(x), groups, t(scale), t(bias), eps).numpy().astype(x.dtype)


def group_norm_case(case, x, groups, eps=None, stash_type=None, tol=None):
    dtype, C = x.dtype, x.shape[1]
    scale = rng.uniform(0.5, 2.0, C).astype(dtype)
    bias = rng.uniform(-1.0, 1.0, C).astype(dtype)
    attrs = {"num_groups": groups}
    if eps is not None:
        attrs["epsilon"] = eps
    if stash_type is not None:
        attrs["stash_type"] = stash_type
    node = helper.make_node("GroupNormalization", ["X", "scale", "bias"], ["Y"], **attrs)
    inputs = [("X", x), ("scale", scale), ("bias", bias)]
    model = make_model(node, inputs, dtype, 21)
    (y,) = case_writer.ort_run(model, inputs)
    # FLOAT16: ONNX Runtime normalises in half precision, PyTorch here in
    # float32; they agree to a few half-precision ulps.
    rtol, atol = tol or {np.float32: (1e-4, 1e-5), np.float64: (1e-10, 1e-12), np.float16: (4e-3, 4e-3)}[dtype.type]
    agree(case, "ONNX Runtime and PyTorch", y, torch_group_norm(x, scale, bias, groups, 1e-5 if eps is None else eps),
          rtol, atol)
    case_writer.write_case(root, case, model, inputs, [("Y", y)])


def gen_group_norm():
    normal = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    group_norm_case("groupnorm21_2d", normal(4, 6), 3)
    group_norm_case("groupnorm21_3d_stash_float", normal(2, 6, 7), 2, stash_type=1)
    group_norm_case("groupnorm21_4d", normal(2, 8, 3, 5), 4, eps=0.01)
    group_norm_case("groupnorm21_4d_groups_1", normal(2, 4, 3, 3), 1)
    group_norm_case("groupnorm21_4d_groups_c", normal(2, 4, 3, 3), 4)
    group_norm_case("groupnorm21_5d", normal(1, 6, 2, 3, 4), 3)
    group_norm_case("groupnorm21_double_stash_double", rng.standard_normal((2, 6, 3, 4)), 3, stash_type=11)
    # The default stash_type 1 takes DOUBLE's statistics in float: ONNX
    # Runtime does, PyTorch and razorq stay in double (within 1e-6).
    group_norm_case("groupnorm21_double_stash_default", rng.standard_normal((2, 6, 3, 4)), 3, tol=(1e-6, 1e-6))
    group_norm_case("groupnorm21_float16", rng.standard_normal((2, 4, 3, 3)).astype(np.float16), 2)


def gen_blocks():
    """Last, so the cases above keep their random draws: enough output
    positions and patch rows (32 channels x 25 taps) that razorq fills its
    patch matrix in two blocks of positions, each in sampling batches
    (ONNX Runtime and torchvision only: too large for the NumPy
    restatement's speed)."""
    normal = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    deform_conv_case("deformconv_blocks", normal(1, 32, 26, 26), normal(2, 32, 5, 5), pads=[2, 2, 2, 2], bias=True,
                     restate=False)


def main():
    case_writer.regenerate(root, gen_deform_conv, gen_group_norm, gen_blocks)

main()
