#!/usr/bin/python3
"""Conformance-style cases for opset 20 (ONNX 1.15), for tests/exec (the
"opset20" family in tests/exec/meson.build). Debian's ONNX test data is
1.12's (opset 17), so these are razorq's own.

    NODE_PATH=$PWD/node_modules /usr/bin/python3 tests/exec/gen_opset20.py

Each case is tests/exec/data/opset20/node/<case>/ with model.onnx and
test_data_set_0/{input,output}_K.pb. Expected outputs come from ONNX Runtime
(tests/exec/ort_run.js); every case is also computed by a second oracle here
and the script stops if the two disagree: PyTorch 1.13 (F.gelu,
F.grid_sample including 5-D volumes, F.affine_grid) or numpy.fft (DFT).

What the cases cover: Gelu (new; approximate none and tanh; FLOAT, DOUBLE,
FLOAT16), GridSample-20 (the renamed modes linear / cubic, nearest, every
padding mode, align_corners, and volumetric 5-D X for linear and nearest),
AffineGrid (new; 2-D and 3-D theta, align_corners, a size of 1, DOUBLE, and feeding
GridSample as a spatial transformer does) and DFT-20 (axis as an input:
omitted = -2, negative, the batch axis 0; with dft_length, onesided and
inverse; onesided inverse, the IRFFT, which opset 17 refuses).
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as tF
from onnx import TensorProto, helper

import case_writer

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "opset20", "node")
rng = np.random.default_rng(20)
F, D, H16, I64 = TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.INT64


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def model(nodes, inputs, outputs, inits=(), opset=20):
    # onnx 1.12's checker knows no opset 20.
    return case_writer.make_model(nodes, inputs, outputs, inits, name="opset20", opset=opset, ir_version=9,
                                  check=False)


def save(case, m, feeds, want, rtol=1e-5, atol=1e-6, ort=True, write_want=False):
    """ort=False: ONNX Runtime cannot run the case; want is the expected
    output as it stands. write_want: ONNX Runtime is only a cross-check
    (within rtol/atol) and want is what gets written."""
    if not ort:
        case_writer.write_case(root, case, m, feeds, [(o.name, np.asarray(w)) for o, w in zip(m.graph.output, want)])
        return
    got = case_writer.ort_run(m, feeds)
    for k, (g, w) in enumerate(zip(got, want)):
        w = np.asarray(w)
        if g.shape != w.shape or g.dtype != w.dtype or not np.allclose(g, w, rtol=rtol, atol=atol):
            sys.exit(f"{case}: output {k}: ONNX Runtime {g.dtype}{g.shape} vs reference {w.dtype}{w.shape}\n"
                     f"max abs diff {np.max(np.abs(g.astype(np.float64) - w)) if g.shape == w.shape else '-'}")
    if write_want:
        got = [np.asarray(w) for w in want]
    case_writer.write_case(root, case, m, feeds, [(o.name, g) for o, g in zip(m.graph.output, got)])


def randn(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


# ---- Gelu ----

def gelu_cases():
    x = randn(3, 4, 5, scale=3.0)
    x.flat[:4] = [0.0, -0.0, 12.0, -12.0]  # zeros and the saturated tails
    for name, attrs in (("gelu_default", {}), ("gelu_none", {"approximate": "none"}),
                        ("gelu_tanh", {"approximate": "tanh"})):
        approximate = attrs.get("approximate", "none")
        m = model([helper.make_node("Gelu", ["x"], ["y"], **attrs)], [vi("x", F, [3, 4, 5])], [vi("y", F, [3, 4, 5])])
        save(name, m, [("x", x)], [tF.gelu(torch.from_numpy(x), approximate=approximate).numpy()])
    # Other float types: PyTorch in double, rounded to the type. ONNX
    # Runtime expands Gelu into its function body, whose Erf it implements
    # for FLOAT only: approximate="none" has PyTorch as its sole oracle. The
    # body's constants are FLOAT, so its DOUBLE tanh form is off by ~1e-8,
    # and its FLOAT16 one rounds every step to FLOAT16: PyTorch's output
    # (the formula in double, rounded once) is written, ONNX Runtime's only
    # cross-checks it.
    for elem, dtype, suffix, tol in ((D, np.float64, "double", 1e-7), (H16, np.float16, "float16", 1e-3)):
        xt = x.astype(dtype)
        for approximate in ("none", "tanh"):
            m = model([helper.make_node("Gelu", ["x"], ["y"], approximate=approximate)], [vi("x", elem, [3, 4, 5])],
                      [vi("y", elem, [3, 4, 5])])
            want = tF.gelu(torch.from_numpy(xt.astype(np.float64)), approximate=approximate).numpy().astype(dtype)
            save(f"gelu_{approximate}_{suffix}", m, [("x", xt)], [want], rtol=tol, atol=tol,
                 ort=approximate == "tanh", write_want=True)


# ---- GridSample-20 ----

TORCH_MODE = {"linear": "bilinear", "nearest": "nearest", "cubic": "bicubic"}


def grid_sample_case(name, x, grid, mode, padding, align, **tol):
    attrs = dict(mode=mode, padding_mode=padding, align_corners=align)
    m = model([helper.make_node("GridSample", ["x", "grid"], ["y"], **attrs)],
              [vi("x", F, list(x.shape)), vi("grid", F, list(grid.shape))], [vi("y", F, None)])
    want = tF.grid_sample(torch.from_numpy(x), torch.from_numpy(grid), mode=TORCH_MODE[mode], padding_mode=padding,
                          align_corners=bool(align)).numpy()
    save(name, m, [("x", x), ("grid", grid)], [want], **tol)


def grid_sample_cases():
    # 2-D with opset 20's mode names; the grid reaches past [-1, 1].
    x = randn(2, 3, 5, 6)
    grid = rng.uniform(-1.3, 1.3, (2, 4, 7, 2)).astype(np.float32)
    for mode, padding, align in (("linear", "zeros", 0), ("linear", "reflection", 1), ("nearest", "border", 0),
                                 ("cubic", "zeros", 1), ("cubic", "border", 0)):
        grid_sample_case(f"gridsample_{mode}_{padding}_align{align}", x, grid, mode, padding, align, atol=1e-5)
    # Default mode (linear) with no attributes at all.
    m = model([helper.make_node("GridSample", ["x", "grid"], ["y"])],
              [vi("x", F, list(x.shape)), vi("grid", F, list(grid.shape))], [vi("y", F, None)])
    save("gridsample_default_mode", m, [("x", x), ("grid", grid)],
         [tF.grid_sample(torch.from_numpy(x), torch.from_numpy(grid), align_corners=False).numpy()], atol=1e-5)
    # Volumetric: X [N, C, D, H, W], grid [N, D_out, H_out, W_out, 3].
    xv = randn(2, 2, 4, 5, 3)
    gv = rng.uniform(-1.3, 1.3, (2, 3, 2, 4, 3)).astype(np.float32)
    for mode in ("linear", "nearest"):
        for padding in ("zeros", "border", "reflection"):
            for align in (0, 1):
                grid_sample_case(f"gridsample_volumetric_{mode}_{padding}_align{align}", xv, gv, mode, padding, align,
                                 atol=1e-5)


# ---- AffineGrid ----

def affine_grid_cases():
    for name, theta_shape, size, align in (
            ("affine_grid_2d", (2, 2, 3), [2, 3, 4, 5], 0),
            ("affine_grid_2d_align_corners", (2, 2, 3), [2, 3, 4, 5], 1),
            ("affine_grid_2d_single_row", (1, 2, 3), [1, 1, 1, 6], 0),
            ("affine_grid_3d", (2, 3, 4), [2, 1, 3, 4, 5], 0),
            ("affine_grid_3d_align_corners", (2, 3, 4), [2, 1, 3, 4, 5], 1)):
        theta = randn(*theta_shape)
        m = model([helper.make_node("AffineGrid", ["theta", "size"], ["grid"], align_corners=align)],
                  [vi("theta", F, list(theta_shape)), vi("size", I64, [len(size)])], [vi("grid", F, None)])
        want = tF.affine_grid(torch.from_numpy(theta), size, align_corners=bool(align)).numpy()
        save(name, m, [("theta", theta), ("size", np.array(size, np.int64))], [want])
    # DOUBLE theta gives a DOUBLE grid.
    theta = np.random.default_rng(2020).standard_normal((2, 3, 4))  # its own stream: the cases after keep theirs
    size = [2, 1, 2, 3, 4]
    m = model([helper.make_node("AffineGrid", ["theta", "size"], ["grid"])],
              [vi("theta", D, [2, 3, 4]), vi("size", I64, [5])], [vi("grid", D, None)])
    want = tF.affine_grid(torch.from_numpy(theta), size, align_corners=False).numpy()
    save("affine_grid_3d_double", m, [("theta", theta), ("size", np.array(size, np.int64))], [want], rtol=1e-12,
         atol=1e-12)
    # A spatial transformer: AffineGrid's grid straight into GridSample.
    x = randn(2, 3, 6, 7)
    theta = np.array([[[0.8, -0.3, 0.1], [0.3, 0.9, -0.2]], [[1.1, 0.2, 0.0], [-0.1, 0.7, 0.3]]], np.float32)
    size = np.array([2, 3, 5, 4], np.int64)
    m = model([helper.make_node("AffineGrid", ["theta", "size"], ["grid"]),
               helper.make_node("GridSample", ["x", "grid"], ["y"])],
              [vi("x", F, [2, 3, 6, 7]), vi("theta", F, [2, 2, 3]), vi("size", I64, [4])], [vi("y", F, None)])
    grid = tF.affine_grid(torch.from_numpy(theta), list(size), align_corners=False)
    want = tF.grid_sample(torch.from_numpy(x), grid, align_corners=False).numpy()
    save("affine_grid_then_gridsample", m, [("x", x), ("theta", theta), ("size", size)], [want], atol=1e-5)


# ---- DFT-20: axis as an input ----

def dft_ref(x, axis, n=None, inverse=False, onesided=False):
    """numpy.fft of [..., 1|2] along axis, back in [..., 2] float32."""
    axis %= x.ndim  # ONNX counts the trailing [1|2] dimension; c lacks it
    c = x[..., 0].astype(np.float64) + (1j * x[..., 1].astype(np.float64) if x.shape[-1] == 2 else 0)
    y = np.fft.ifft(c, n=n, axis=axis) if inverse else np.fft.fft(c, n=n, axis=axis)
    if onesided:
        y = np.take(y, range((n or c.shape[axis]) // 2 + 1), axis=axis)
    return np.stack([y.real, y.imag], axis=-1).astype(np.float32)


def dft_model(x, n, axis, **attrs):
    """A DFT-20 model of x with dft_length n and axis as inputs (omitted when
    None), and its feeds."""
    inputs = ["x", "n" if n is not None else "", "axis" if axis is not None else ""]
    while inputs[-1] == "":
        inputs.pop()
    feeds, infos = [("x", x)], [vi("x", F, list(x.shape))]
    for name, value in (("n", n), ("axis", axis)):
        if value is not None:
            feeds.append((name, np.array(value, np.int64)))
            infos.append(vi(name, I64, []))
    return model([helper.make_node("DFT", inputs, ["y"], **attrs)], infos, [vi("y", F, None)]), feeds


def dft_cases():
    real = randn(2, 5, 6, 1)
    complex_ = randn(3, 4, 8, 2)
    for name, x, axis, n, attrs in (
            ("dft_default_axis", real, None, None, {}),  # -2: the last signal axis (2)
            ("dft_axis_1_length", real, 1, 7, {}),
            ("dft_axis_neg3_onesided", real, -3, None, {"onesided": 1}),
            ("dft_axis_0_batch", complex_, 0, None, {}),
            ("dft_axis_neg2_inverse_length", complex_, -2, 5, {"inverse": 1})):
        m, feeds = dft_model(x, n, axis, **attrs)
        want = dft_ref(x, -2 if axis is None else axis, n, bool(attrs.get("inverse")), bool(attrs.get("onesided")))
        # ONNX Runtime's float sums leave ~1e-6 where the transform is
        # exactly 0 (the imaginary part of a real signal's DC bin), past the
        # conformance atol: numpy.fft's double result is written.
        save(name, m, feeds, [want], rtol=1e-4, atol=1e-5, write_want=True)


def irfft_cases():
    """onesided=1 with inverse=1 is the IRFFT since opset 20: a one-sided
    complex spectrum in, a real signal [..., n, 1] out (n = dft_length,
    default 2 (bins - 1)), as numpy.fft.irfft. Each spectrum is the rfft of
    a real signal of length n, so it is Hermitian: ONNX Runtime, which
    reads a non-Hermitian or short spectrum its own way (it uses a bin past
    n / 2 when given one, and differs from numpy when it must zero-pad
    bins), agrees with numpy on these."""
    for name, shape, axis, n in (("dft_irfft_default_length", (2, 3, 8), None, None),
                                 ("dft_irfft_axis_1_odd_length", (2, 7, 3), 1, 7),
                                 ("dft_irfft_axis_0_batch", (5, 3, 2), 0, 5)):
        signal_axis = 2 if axis is None else axis
        signal = rng.standard_normal(shape)
        spectrum = np.fft.rfft(signal, axis=signal_axis)
        x = np.stack([spectrum.real, spectrum.imag], axis=-1).astype(np.float32)
        m, feeds = dft_model(x, n, axis, inverse=1, onesided=1)
        c = x[..., 0].astype(np.float64) + 1j * x[..., 1]
        want = np.fft.irfft(c, n=n, axis=signal_axis)[..., None].astype(np.float32)
        save(name, m, feeds, [want], rtol=1e-4, atol=1e-5, write_want=True)


if __name__ == "__main__":
    case_writer.regenerate(root, gelu_cases, grid_sample_cases, affine_grid_cases, dft_cases, irfft_cases)
