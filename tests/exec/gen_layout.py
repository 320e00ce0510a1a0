#!/usr/bin/python3
"""Test cases for the layout ops of opset 18 (Col2Im, CenterCropPad).

    NODE_PATH=<dir with onnxruntime-node>/node_modules /usr/bin/python3 tests/exec/gen_layout.py

Writes tests/exec/data/layout/node/<case>/model.onnx with
test_data_set_0/input_K.pb and output_K.pb (the layout of ONNX's backend
tests, so tests/conformance's program runs them). Expected outputs come
from ONNX Runtime (tests/exec/ort_run.js), and the script stops unless a
second, independent oracle agrees:
  - Col2Im: a NumPy restatement of the spec (every column entry added to
    the pixel its block position and block offset name) for all cases, which
    PyTorch 1.13 must match as a transposed convolution with one-hot kernels
    (1 to 3 spatial dims) and, for 2-D images with symmetric pads, as F.fold
    (the op ONNX's Col2Im restates). Cases: 1-D, 2-D, 3-D and 4-D images,
    strides, dilations, symmetric and asymmetric pads, strides wider than the
    block (pixels no block covers stay 0), batch and channels > 1, batch 0.
    ONNX Runtime takes FLOAT only and is wrong for non-2-D images with
    dilations (see col2im_case), so the DOUBLE, FLOAT16 and those cases rest
    on NumPy and PyTorch (FLOAT16: exact sums, rounded once).
  - CenterCropPad: a NumPy restatement of the spec (crop windows start at
    floor((in - out) / 2); pads put floor((out - in) / 2) zeros first, the
    odd one last): crops, pads, both in one call, odd and even differences,
    with and without axes (negative, unordered), empty inputs and outputs,
    FLOAT, INT64 and BOOL data.
The committed data was made with torch 1.13, onnx 1.12 and
onnxruntime-node 1.30.0; runs of the C tests need none of them.
onnx 1.12's checker does not know opset 18, so models are not checked.
"""
import itertools
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from onnx import helper, mapping

import case_writer

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "layout", "node")
rng = np.random.default_rng(20261127)
OPSET = 18


def make_model(node, inputs, out_dtype):
    """inputs: list of (name, array); one output "y" of numpy dtype out_dtype."""
    y = helper.make_tensor_value_info("y", mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(out_dtype)], None)
    return case_writer.make_model([node], case_writer.tensor_infos(inputs), [y], name=node.op_type, opset=OPSET,
                                  ir_version=8, check=False)


# ---- Col2Im ----

def col2im_reference(x, image, block, dilations, pads, strides):
    """The spec, restated: x [N, C * prod(block), L]; column row c * prod(block) + k
    (k the row-major block offset) at column l (the row-major block position)
    adds to pixel position * stride + offset * dilation - pad_begin, when that
    lies inside the image. Sums in float64."""
    s = len(image)
    n, ck, length = x.shape
    k_size = math.prod(block)
    positions = [(image[d] + pads[d] + pads[s + d] - dilations[d] * (block[d] - 1) - 1) // strides[d] + 1
                 for d in range(s)]
    assert math.prod(positions) == length, (positions, length)
    cols = x.astype(np.float64).reshape(n, ck // k_size, k_size, length)
    y = np.zeros((n, ck // k_size) + tuple(image), np.float64)
    for k, offset in enumerate(itertools.product(*[range(b) for b in block])):
        for l, pos in enumerate(itertools.product(*[range(p) for p in positions])):
            pixel = tuple(pos[d] * strides[d] + offset[d] * dilations[d] - pads[d] for d in range(s))
            if all(0 <= pixel[d] < image[d] for d in range(s)):
                y[(slice(None), slice(None)) + pixel] += cols[:, :, k, l]
    return y


def col2im_torch(x, image, block, dilations, pads, strides):
    """Col2Im as PyTorch's transposed convolution (1 to 3 spatial dims): the
    columns of block offset k of channel c, laid out on the grid of block
    positions, go through a one-hot kernel at offset k into channel c
    (groups = C); the unpadded result is then cut to the image (pads may
    differ at both ends, which conv_transpose cannot express)."""
    s = len(image)
    n, ck, _ = x.shape
    k_size = math.prod(block)
    c = ck // k_size
    positions = [(image[d] + pads[d] + pads[s + d] - dilations[d] * (block[d] - 1) - 1) // strides[d] + 1
                 for d in range(s)]
    weight = torch.eye(k_size, dtype=torch.float64).reshape([k_size, 1] + list(block)).repeat([c, 1] + [1] * s)
    conv_transpose = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[s - 1]
    full = conv_transpose(torch.from_numpy(x.astype(np.float64)).reshape([n, ck] + positions), weight,
                          stride=tuple(strides), dilation=tuple(dilations), groups=c)
    # full covers padded-image positions 0 .. len - 1; pixel i is padded position i + pad_begin.
    y = torch.zeros([n, c] + list(image), dtype=torch.float64)
    src, dst = [slice(None)] * 2, [slice(None)] * 2
    for d in range(s):
        length = min(full.shape[2 + d] - pads[d], image[d])
        src.append(slice(pads[d], pads[d] + length))
        dst.append(slice(0, length))
    y[tuple(dst)] = full[tuple(src)]
    return y.numpy()


def col2im_case(name, n, c, image, block, dilations=None, pads=None, strides=None, dtype=np.float32,
                ort_wrong=False):
    """ort_wrong: ONNX Runtime 1.30 folds images of other than 2 spatial
    dims wrongly when a dilation is not 1 (its Col2ImNd; see
    microsoft/onnxruntime#18156 for its N-D Col2Im trouble); the expected
    output then comes from NumPy and PyTorch alone, and the script insists
    ONNX Runtime still disagrees, so a fixed ONNX Runtime shows up here."""
    s = len(image)
    dil, pad, stride = dilations or [1] * s, pads or [0] * (2 * s), strides or [1] * s
    positions = [(image[d] + pad[d] + pad[s + d] - dil[d] * (block[d] - 1) - 1) // stride[d] + 1 for d in range(s)]
    x = rng.standard_normal((n, c * math.prod(block), math.prod(positions))).astype(dtype)
    inputs = [("input", x), ("image_shape", np.array(image, np.int64)), ("block_shape", np.array(block, np.int64))]
    attrs = {k: v for k, v in (("dilations", dilations), ("pads", pads), ("strides", strides)) if v is not None}
    node = helper.make_node("Col2Im", [n for n, _ in inputs], ["y"], **attrs)
    model = make_model(node, inputs, dtype)
    ref = col2im_reference(x, image, block, dil, pad, stride)
    if s <= 3:
        np.testing.assert_allclose(col2im_torch(x, image, block, dil, pad, stride), ref, rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name}: conv_transpose")
    if s == 2 and pad[:2] == pad[2:] and dtype != np.float16:
        folded = F.fold(torch.from_numpy(x.astype(np.float64)), tuple(image), tuple(block), dilation=tuple(dil),
                        padding=tuple(pad[:2]), stride=tuple(stride)).numpy()
        np.testing.assert_allclose(folded, ref, rtol=1e-12, atol=1e-12, err_msg=f"{name}: fold")
    y = ref.astype(dtype)
    if dtype == np.float32:  # the only type ONNX Runtime's Col2Im takes
        (ort,) = case_writer.ort_run(model, inputs)
        agrees = np.allclose(ort, ref, rtol=1e-5, atol=1e-5)
        assert agrees != ort_wrong, f"{name}: ONNX Runtime {'dis' if not agrees else ''}agrees with the references"
        if not ort_wrong:
            y = ort
    case_writer.write_case(root, f"col2im_{name}", model, inputs, [("y", y)])


def gen_col2im():
    col2im_case("2d", 1, 1, [5, 5], [2, 2])
    col2im_case("2d_batch_channels_strides", 2, 3, [7, 6], [3, 2], strides=[2, 2])
    col2im_case("2d_dilations", 1, 2, [6, 7], [2, 3], dilations=[2, 2])
    col2im_case("2d_pads", 2, 1, [5, 4], [3, 3], pads=[1, 1, 1, 1])
    col2im_case("2d_all", 2, 2, [9, 8], [3, 2], dilations=[2, 1], pads=[1, 2, 1, 2], strides=[2, 3])
    col2im_case("2d_pads_asymmetric", 2, 2, [6, 5], [2, 3], pads=[0, 2, 1, 0], strides=[1, 2])
    col2im_case("2d_stride_wider_than_block", 1, 2, [7, 7], [2, 2], strides=[3, 3])
    col2im_case("1d", 2, 2, [10], [3], pads=[1, 2], strides=[2])
    col2im_case("1d_dilations", 2, 2, [10], [3], dilations=[2], pads=[1, 2], strides=[2], ort_wrong=True)
    col2im_case("3d", 2, 2, [4, 5, 3], [2, 2, 2], pads=[0, 1, 0, 1, 0, 1], strides=[1, 2, 1])
    col2im_case("3d_dilations", 2, 2, [4, 5, 3], [2, 2, 2], dilations=[1, 1, 2], pads=[0, 1, 0, 1, 0, 1],
                strides=[1, 2, 1], ort_wrong=True)
    col2im_case("4d", 1, 2, [3, 4, 3, 3], [2, 2, 1, 2], strides=[1, 2, 1, 1], pads=[0, 0, 1, 0, 0, 0, 0, 1])
    col2im_case("2d_double", 2, 2, [9, 8], [3, 2], dilations=[2, 1], pads=[1, 2, 1, 2], strides=[2, 3],
                dtype=np.float64)
    col2im_case("2d_float16", 2, 2, [6, 5], [2, 3], pads=[0, 2, 1, 0], strides=[1, 2], dtype=np.float16)
    col2im_case("batch_zero", 0, 2, [5, 5], [2, 2])


# ---- CenterCropPad ----

def center_crop_pad_reference(x, shape, axes=None):
    """The spec, restated one axis at a time."""
    axes = range(x.ndim) if axes is None else [a % x.ndim for a in axes]
    y = x
    for a, size in zip(axes, shape):
        have = y.shape[a]
        if have >= size:
            start = (have - size) // 2
            y = np.take(y, np.arange(start, start + size), axis=a)
        else:
            widths = [(0, 0)] * y.ndim
            before = (size - have) // 2
            widths[a] = (before, size - have - before)
            y = np.pad(y, widths)
    return y


def center_crop_pad_case(name, x, shape, axes=None):
    inputs = [("input_data", x), ("shape", np.array(shape, np.int64))]
    attrs = {} if axes is None else {"axes": axes}
    node = helper.make_node("CenterCropPad", ["input_data", "shape"], ["y"], **attrs)
    model = make_model(node, inputs, x.dtype)
    (y,) = case_writer.ort_run(model, inputs)
    ref = center_crop_pad_reference(x, shape, axes)
    assert y.dtype == ref.dtype and y.shape == ref.shape and np.array_equal(y, ref), name
    case_writer.write_case(root, f"center_crop_pad_{name}", model, inputs, [("y", y)])


def gen_center_crop_pad():
    f32 = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    i64 = lambda *shape: rng.integers(-1000, 1000, shape).astype(np.int64)
    center_crop_pad_case("crop_odd", f32(5, 8), [2, 5])
    center_crop_pad_case("crop_even", f32(6, 8), [2, 4])
    center_crop_pad_case("pad_odd", f32(2, 3), [5, 6])
    center_crop_pad_case("pad_even", i64(2, 3), [4, 7])
    center_crop_pad_case("mixed_int64", i64(4, 5, 6), [7, 5, 3])
    center_crop_pad_case("1d_crop", i64(9), [4])
    center_crop_pad_case("1d_pad", f32(4), [9])
    center_crop_pad_case("axes", f32(2, 3, 7, 8), [4, 11], axes=[2, 3])
    center_crop_pad_case("axes_negative", i64(2, 5, 6), [3, 5], axes=[-1, -3])
    center_crop_pad_case("axes_unordered", f32(3, 4, 5), [2, 9], axes=[2, 0])
    center_crop_pad_case("axes_leading", f32(5, 2, 3), [2], axes=[0])
    center_crop_pad_case("unchanged", i64(3, 4), [3, 4])
    center_crop_pad_case("bool", rng.random((3, 4)) < 0.5, [6, 1])
    center_crop_pad_case("crop_to_empty", f32(3, 4), [0, 2])
    center_crop_pad_case("pad_empty", i64(0, 4), [2, 2])


def main():
    case_writer.regenerate(root, gen_col2im, gen_center_crop_pad)


main()
