#!/usr/bin/python3
"""Conformance-style cases for Resize-18 (ONNX 1.13): antialias, axes and
keep_aspect_ratio_policy, for tests/exec (the "resize18" family in
tests/exec/meson.build).

    cd /tmp && npm install --ignore-scripts onnxruntime-node
    NODE_PATH=/tmp/node_modules /usr/bin/python3 tests/exec/gen_resize18.py

Each case is tests/exec/data/resize18/node/<case>/ with model.onnx and
test_data_set_0/{input,output}_K.pb. Expected outputs come from ONNX Runtime
(tests/exec/ort_run.js). The script stops unless they also agree with
  - a NumPy restatement of the spec (ONNX's reference implementation,
    onnx/reference/ops/op_resize.py) for every half_pixel case: each
    output pixel weighs input pixel p by filter((p - x_orig) * s), s =
    min(scale, 1) when antialiasing, pixels past the edge repeat it (or
    are dropped with exclude_outside), weights normalized; and
  - PyTorch 1.13's F.interpolate(antialias=True, align_corners=False)
    where it defines the same thing: it is PIL's filter, i.e.
    exclude_outside=1 and, for bicubic, cubic_coeff_a=-0.5; with scales,
    scale_factor and recompute_scale_factor=False (ONNX maps coordinates
    with the given scale, not in / out), with sizes, size.
Cases: antialiased linear and cubic downscaling of NCHW with scales and
with sizes (ONNX's defaults and the torch-equivalent attributes),
antialias when upscaling (checked equal to no antialias) and when one axis
shrinks and the other grows, antialias with align_corners / asymmetric /
pytorch_half_pixel; axes subsets ([2, 3], [3], [3, 2], negative) with
scales and sizes for every mode, tf_crop_and_resize's roi over axes;
keep_aspect_ratio_policy stretch / not_larger / not_smaller (also over
all axes of a rank-2 input); nearest with axes, and nearest with
antialias=1, which the spec defines for linear and cubic only: the
expected output is ONNX Runtime's for the node without antialias (ONNX
Runtime and ONNX's reference refuse the attribute on nearest).
The committed data was made with torch 1.13 and onnxruntime-node 1.30.0;
runs of the C tests need neither.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper

import case_writer

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "resize18", "node")
rng = np.random.default_rng(20261127)


def resize_node(mode, with_roi=False, with_scales=True, **attrs):
    inputs = ["X", "roi" if with_roi else "", "scales" if with_scales else "", "" if with_scales else "sizes"]
    while inputs[-1] == "":
        inputs.pop()
    return helper.make_node("Resize", inputs, ["Y"], mode=mode, **attrs)


def run_ort(node, feeds):
    model = case_writer.make_model([node], case_writer.tensor_infos(feeds),
                                   [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
                                   name="Resize", opset=18, ir_version=8, check=False)
    (y,) = case_writer.ort_run(model, feeds)
    return model, y


# ---- the NumPy restatement of the spec (half_pixel) ----

def triangle(t):
    return np.maximum(0.0, 1.0 - np.abs(t))


def keys(t, a):
    t = np.abs(t)
    return np.where(t <= 1, ((a + 2) * t - (a + 3)) * t * t + 1,
                    np.where(t < 2, ((a * t - 5 * a) * t + 8 * a) * t - 4 * a, 0.0))


def spec_1d(x, axis, out_len, scale, mode, antialias, exclude_outside, cubic_a):
    """Resamples x along axis to out_len: output o sits at x_orig = (o + 0.5) / scale - 0.5."""
    n = x.shape[axis]
    rows = np.zeros((out_len, n))
    for o in range(out_len):
        xo = (o + 0.5) / scale - 0.5
        if mode == "nearest":  # round_prefer_floor
            p = int(np.ceil(xo - 0.5))
            rows[o, min(max(p, 0), n - 1)] = 1
            continue
        s = min(scale, 1.0) if antialias else 1.0
        half = (1 if mode == "linear" else 2) / s
        p = np.arange(int(np.floor(xo - half)), int(np.ceil(xo + half)) + 1)
        w = triangle((p - xo) * s) if mode == "linear" else keys((p - xo) * s, cubic_a)
        if exclude_outside:
            w = np.where((p < 0) | (p >= n), 0.0, w)
        if antialias or exclude_outside:  # the plain filters sum to 1 already
            w = w / w.sum()
        np.add.at(rows[o], np.clip(p, 0, n - 1), w)
    return np.moveaxis(np.tensordot(rows, np.moveaxis(x, axis, 0), axes=1), 0, axis)


def spec_resize(x, out_dims, scales, mode, antialias=0, exclude_outside=0, cubic_coeff_a=-0.75):
    y = x.astype(np.float64)
    for d in range(x.ndim):
        if out_dims[d] != x.shape[d] or scales[d] != 1:
            y = spec_1d(y, d, out_dims[d], scales[d], mode, antialias, exclude_outside, cubic_coeff_a)
    return y


def full_geometry(shape, axes, scales=None, sizes=None, policy="stretch"):
    """Output dims and per-axis scales over all dimensions, as the spec derives them."""
    r = len(shape)
    axes = [a % r for a in (axes if axes is not None else range(r))]
    if scales is not None:
        sc = [1.0] * r
        for k, a in enumerate(axes):
            sc[a] = float(scales[k])
        return [int(np.floor(shape[d] * sc[d])) for d in range(r)], sc
    out = list(shape)
    for k, a in enumerate(axes):
        out[a] = int(sizes[k])
    sc = [out[d] / shape[d] for d in range(r)]
    if policy != "stretch":
        s = (min if policy == "not_larger" else max)(sc[a] for a in axes)
        for a in axes:
            exact = s * shape[a]
            assert abs(exact - np.floor(exact) - 0.5) > 1e-3, "a rounding tie: pick other sizes"
            out[a] = int(np.floor(exact + 0.5))
            sc[a] = s
    return out, sc


def check(name, y, expected, rtol=1e-5, atol=1e-5):
    if y.shape != expected.shape or not np.allclose(y, expected, rtol=rtol, atol=atol):
        diff = np.abs(y - expected).max() if y.shape == expected.shape else (y.shape, expected.shape)
        raise SystemExit(f"{name}: ONNX Runtime and the cross-check differ ({diff})")


def case(name, mode, x, scales=None, sizes=None, axes=None, roi=None, spec=True, torch_check=None, same_as=None,
         ort_axes=None, **attrs):
    """One case: ORT is the oracle; spec=True also checks the NumPy
    restatement (half_pixel only); torch_check(x) returns PyTorch's output;
    same_as: the attributes (besides mode) of a node whose ORT output
    must equal this one's. ort_axes: the same axes, non-negative, for ONNX
    Runtime, which ignores negative axes under a keep_aspect_ratio_policy
    (onnxruntime-node 1.30 leaves the shape unchanged; the spec counts
    them from the back like every axes attribute)."""
    if axes is not None:
        attrs["axes"] = axes
    feeds = [("X", x)] + ([("roi", roi)] if roi is not None else [])
    feeds += [("scales", scales)] if scales is not None else [("sizes", sizes)]
    node = resize_node(mode, roi is not None, scales is not None, **attrs)
    model, y = run_ort(node, feeds)
    if ort_axes is not None:
        assert [a % x.ndim for a in axes] == ort_axes
        _, y = run_ort(resize_node(mode, roi is not None, scales is not None, **dict(attrs, axes=ort_axes)), feeds)
    if spec:
        dims, sc = full_geometry(x.shape, axes, scales, sizes, attrs.get("keep_aspect_ratio_policy", "stretch"))
        want = spec_resize(x, dims, sc, mode, attrs.get("antialias", 0), attrs.get("exclude_outside", 0),
                           attrs.get("cubic_coeff_a", -0.75))
        check(name + " (spec)", y, want)
    if torch_check is not None:
        check(name + " (torch)", y, torch_check(x))
    if same_as is not None:
        _, y2 = run_ort(resize_node(mode, roi is not None, scales is not None, **same_as), feeds)
        check(name + " (same as " + str(same_as) + ")", y, y2)
    case_writer.write_case(root, name, model, feeds, [("Y", y)])


def f32(*v):
    return np.array(v, np.float32)


def i64(*v):
    return np.array(v, np.int64)


def torch_interp(mode, **kw):
    tmode = {"linear": "bilinear", "cubic": "bicubic"}[mode]
    return lambda x: F.interpolate(torch.from_numpy(x), mode=tmode, antialias=True, align_corners=False,
                                   **kw).numpy()


# PIL's filters, which torch's antialias=True uses, in ONNX's terms.
TORCH_ATTRS = {"linear": {"exclude_outside": 1}, "cubic": {"exclude_outside": 1, "cubic_coeff_a": -0.5}}


def gen_antialias():
    x = rng.standard_normal((1, 2, 9, 11)).astype(np.float32)
    for mode in ("linear", "cubic"):
        t = TORCH_ATTRS[mode]
        # Downscaling with scales: ONNX's attribute defaults, and PIL's.
        case(f"aa_{mode}_down_scales", mode, x, scales=f32(1, 1, 0.5, 0.4), antialias=1)
        case(f"aa_{mode}_down_scales_torch", mode, x, scales=f32(1, 1, 0.5, 0.4), antialias=1,
             torch_check=torch_interp(mode, scale_factor=(0.5, 0.4), recompute_scale_factor=False), **t)
        case(f"aa_{mode}_down_scales_exclude", mode, x, scales=f32(1, 1, 0.3, 0.7), antialias=1, exclude_outside=1)
        # Downscaling with sizes: scale = size / in.
        case(f"aa_{mode}_down_sizes", mode, x, sizes=i64(1, 2, 4, 5), antialias=1)
        case(f"aa_{mode}_down_sizes_torch", mode, x, sizes=i64(1, 2, 2, 3), antialias=1,
             torch_check=torch_interp(mode, size=(2, 3)), **t)
        # Upscaling: the plain filter; one axis down and one up.
        case(f"aa_{mode}_up_scales", mode, x, scales=f32(1, 1, 1.5, 2.0), antialias=1, same_as={})
        case(f"aa_{mode}_up_sizes_torch", mode, x, sizes=i64(1, 2, 13, 16), antialias=1,
             torch_check=torch_interp(mode, size=(13, 16)), **t)
        case(f"aa_{mode}_down_up", mode, x, scales=f32(1, 1, 0.6, 1.7), antialias=1)
        # The filter stretches whatever the coordinate transformation. Sizes,
        # not scales: align_corners divides by the output length, which
        # ONNX's reference (and this executor) take unrounded, in * scale,
        # and ONNX Runtime rounded; with sizes the two agree.
        for ctm in ("align_corners", "asymmetric", "pytorch_half_pixel"):
            case(f"aa_{mode}_down_{ctm}", mode, x, sizes=i64(1, 2, 5, 4), antialias=1, spec=False,
                 coordinate_transformation_mode=ctm)
    # A 3-D input (N, C, L), and cubic over one axis of a 2-D one (ONNX
    # Runtime's cubic takes 2-D and 4-D inputs only).
    x3 = rng.standard_normal((2, 3, 17)).astype(np.float32)
    case("aa_linear_down_3d", "linear", x3, sizes=i64(2, 3, 5), antialias=1)
    case("aa_cubic_down_2d_axes", "cubic", x3[0], sizes=i64(6), axes=[-1], antialias=1)


def gen_axes():
    x = rng.standard_normal((2, 3, 5, 7)).astype(np.float32)
    for mode in ("nearest", "linear", "cubic"):
        case(f"axes_{mode}_23_scales", mode, x, scales=f32(0.6, 1.5), axes=[2, 3])
        case(f"axes_{mode}_3_sizes", mode, x, sizes=i64(10), axes=[3])
        case(f"axes_{mode}_32_sizes", mode, x, sizes=i64(4, 3), axes=[3, 2])
        case(f"axes_{mode}_neg_scales", mode, x, scales=f32(2.0, 0.5), axes=[-1, -2])
    case("axes_linear_neg_sizes_aa", "linear", x, sizes=i64(3), axes=[-1], antialias=1)
    case("axes_nearest_ceil_align", "nearest", x, sizes=i64(9, 4), axes=[-2, 3], spec=False,
         nearest_mode="ceil", coordinate_transformation_mode="align_corners")
    # tf_crop_and_resize: roi lists starts then ends of the listed axes only.
    x4 = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    case("axes_tf_crop_and_resize_32", "linear", x4, sizes=i64(3, 3), axes=[3, 2], roi=f32(0.6, 0.4, 0.8, 0.6),
         spec=False, coordinate_transformation_mode="tf_crop_and_resize")
    case("axes_tf_crop_and_resize_extrapolate", "linear", x, sizes=i64(4), axes=[2], roi=f32(-0.2, 1.3),
         spec=False, coordinate_transformation_mode="tf_crop_and_resize", extrapolation_value=-7.0)


def gen_policy():
    x = rng.standard_normal((1, 2, 6, 10)).astype(np.float32)
    for mode in ("nearest", "linear", "cubic"):
        for policy in ("stretch", "not_larger", "not_smaller"):
            case(f"policy_{mode}_{policy}", mode, x, sizes=i64(4, 4), axes=[2, 3], keep_aspect_ratio_policy=policy)
    case("policy_linear_not_smaller_up", "linear", x, sizes=i64(9, 12), axes=[-2, -1], ort_axes=[2, 3],
         keep_aspect_ratio_policy="not_smaller")
    case("policy_linear_not_larger_aa", "linear", x, sizes=i64(3, 4), axes=[2, 3], antialias=1,
         keep_aspect_ratio_policy="not_larger")
    # 0.5 * (6, 10) is whole: ONNX Runtime's rounded output length for
    # align_corners is then the reference's in * scale (see gen_antialias).
    case("policy_cubic_not_larger_align", "cubic", x, sizes=i64(3, 8), axes=[2, 3], spec=False,
         keep_aspect_ratio_policy="not_larger", coordinate_transformation_mode="align_corners")
    # Over every axis of a rank-2 input (no axes attribute).
    x2 = rng.standard_normal((6, 10)).astype(np.float32)
    case("policy_linear_rank2_not_smaller", "linear", x2, sizes=i64(3, 7), keep_aspect_ratio_policy="not_smaller")
    case("policy_linear_rank2_not_larger", "linear", x2, sizes=i64(3, 7), keep_aspect_ratio_policy="not_larger")


def gen_nearest():
    x = rng.standard_normal((1, 2, 5, 6)).astype(np.float32)
    case("nearest_axes_3_scales", "nearest", x, scales=f32(2.5), axes=[3])
    case("nearest_axes_23_sizes_floor", "nearest", x, sizes=i64(3, 13), axes=[2, 3], spec=False,
         nearest_mode="floor", coordinate_transformation_mode="asymmetric")
    # antialias is defined for linear and cubic; nearest ignores it.
    x_down = rng.standard_normal((1, 1, 8, 9)).astype(np.float32)
    node = resize_node("nearest", antialias=1)
    feeds = [("X", x_down), ("scales", f32(1, 1, 0.5, 0.4))]
    model = case_writer.make_model([node], case_writer.tensor_infos(feeds),
                                   [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
                                   name="Resize", opset=18, ir_version=8, check=False)
    _, y = run_ort(resize_node("nearest"), feeds)
    case_writer.write_case(root, "nearest_antialias_ignored", model, feeds, [("Y", y)])


def main():
    case_writer.regenerate(root, gen_antialias, gen_axes, gen_policy, gen_nearest)


main()
