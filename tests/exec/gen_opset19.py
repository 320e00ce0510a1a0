#!/usr/bin/python3
"""Conformance-style cases for what opsets 19-21 (ONNX 1.14-1.16) changed in
ops razorq already ran, for tests/exec (the "opset19" family in
tests/exec/meson.build). Debian's ONNX test data is 1.12's (opset 17), so
these are razorq's own.

    NODE_PATH=$PWD/node_modules /usr/bin/python3 tests/exec/gen_opset19.py

Each case is tests/exec/data/opset19/node/<case>/ with model.onnx and
test_data_set_0/{input,output}_K.pb. Expected outputs come from ONNX Runtime
(tests/exec/ort_run.js); every case is also restated in NumPy here from the
operator spec and the script stops if the two disagree. BFLOAT16
QuantizeLinear / DequantizeLinear, which ONNX Runtime does not run, have
the NumPy restatement alone.

What the cases cover: AveragePool-19's dilations (with and without
count_include_pad, ceil_mode, auto_pad VALID, 1-D to 3-D; with SAME_UPPER /
SAME_LOWER ONNX Runtime 1.30 pads for the undilated kernel, against the
spec's ceil(in / stride) outputs, and razorq refuses the pair), Pad-19's wrap mode, Resize-19's
half_pixel_symmetric, ReduceMax-20 / ReduceMin-20 on BOOL (and 8-bit
integers; empty reductions too), and QuantizeLinear / DequantizeLinear: FLOAT16 and BFLOAT16
input, scale and output (19), 16-bit quantized types, blocked quantization and output_dtype
(21).
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper

import case_writer

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "opset19", "node")
rng = np.random.default_rng(19)
F, F16, I64, B = TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.INT64, TensorProto.BOOL
NP_TO_ONNX = {np.dtype(np.float32): F, np.dtype(np.float16): F16, np.dtype(np.int64): I64, np.dtype(np.bool_): B,
              np.dtype(np.int8): TensorProto.INT8, np.dtype(np.uint8): TensorProto.UINT8,
              np.dtype(np.int16): TensorProto.INT16, np.dtype(np.uint16): TensorProto.UINT16,
              np.dtype(np.int32): TensorProto.INT32}


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def model(nodes, inputs, outputs, inits=(), opset=19):
    # onnx 1.12's checker knows no opset above 17.
    return case_writer.make_model(nodes, inputs, outputs, inits, name="opset19", opset=opset, ir_version=8,
                                  check=False)


def save(case, m, feeds, want, exact=False):
    got = case_writer.ort_run(m, feeds)
    for k, (g, w) in enumerate(zip(got, want)):
        w = np.asarray(w)
        same = g.shape == w.shape and g.dtype == w.dtype
        if same and exact:
            same = np.array_equal(g, w)
        elif same:
            same = np.allclose(g.astype(np.float64), w.astype(np.float64), rtol=1e-5, atol=1e-6)
        if not same:
            sys.exit(f"{case}: output {k}: ONNX Runtime {g.dtype}{g.shape} vs NumPy {w.dtype}{w.shape}\n{g}\n{w}")
    case_writer.write_case(root, case, m, feeds, [(o.name, g) for o, g in zip(m.graph.output, got)])


def one_node(case, op, feeds, attrs, opset, out_elem, inits=(), want=None, exact=False, names=None):
    """A model of one node reading `feeds` (then `inits`), or the inputs
    `names` lists, into output y."""
    names = names or [n for n, _ in feeds] + [n for n, _ in inits]
    m = model([helper.make_node(op, names, ["y"], **attrs)],
              [vi(n, NP_TO_ONNX[a.dtype], list(a.shape)) for n, a in feeds], [vi("y", out_elem, None)], inits,
              opset=opset)
    save(case, m, feeds, [want], exact)


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


# ---- AveragePool-19: dilations ----

def avg_pool_ref(x, kernel, strides, pads, dilations, ceil_mode, include_pad):
    """NumPy restatement, any number of spatial axes: the mean of the window
    taps inside the input; with count_include_pad the divisor counts the
    taps inside the padded input instead (what ONNX's reference pads with
    zeros; only ceil_mode's last window reaches past it)."""
    n = len(kernel)
    size = x.shape[2:]
    out = []
    for i in range(n):
        span = (kernel[i] - 1) * dilations[i] + 1
        room = size[i] + pads[i] + pads[n + i] - span
        count = (-(-room // strides[i]) if ceil_mode else room // strides[i]) + 1
        if ceil_mode and (count - 1) * strides[i] >= size[i] + pads[i]:
            count -= 1
        out.append(count)
    y = np.zeros(x.shape[:2] + tuple(out), np.float64)
    for o in np.ndindex(*out):
        acc = np.zeros(x.shape[:2])
        inside = padded = 0
        for k in np.ndindex(*kernel):
            pos = [o[i] * strides[i] - pads[i] + k[i] * dilations[i] for i in range(n)]
            if all(0 <= pos[i] < size[i] for i in range(n)):
                acc += x[(slice(None), slice(None)) + tuple(pos)]
                inside += 1
            if all(pos[i] < size[i] + pads[n + i] for i in range(n)):
                padded += 1
        y[(slice(None), slice(None)) + o] = acc / (padded if include_pad else inside)
    return y.astype(np.float32)


def avg_pool_cases():
    for name, shape, attrs in (
            ("avgpool_dilations", [2, 3, 7, 6], dict(kernel_shape=[2, 2], dilations=[2, 2])),
            ("avgpool_dilations_pads", [2, 3, 7, 6],
             dict(kernel_shape=[3, 2], dilations=[2, 3], strides=[1, 2], pads=[2, 1, 1, 1])),
            ("avgpool_dilations_pads_count_include_pad", [2, 3, 7, 6],
             dict(kernel_shape=[3, 2], dilations=[2, 3], strides=[1, 2], pads=[2, 1, 1, 1], count_include_pad=1)),
            ("avgpool_dilations_ceil_mode", [1, 2, 8, 7],
             dict(kernel_shape=[2, 3], dilations=[2, 2], strides=[3, 2], pads=[1, 1, 1, 0], ceil_mode=1)),
            ("avgpool_dilations_ceil_mode_count_include_pad", [1, 2, 8, 7],
             dict(kernel_shape=[2, 3], dilations=[2, 2], strides=[3, 2], pads=[1, 1, 1, 0], ceil_mode=1,
                  count_include_pad=1)),
            ("avgpool_1d_dilations_count_include_pad", [2, 3, 9],
             dict(kernel_shape=[3], dilations=[3], strides=[2], pads=[2, 2], count_include_pad=1)),
            ("avgpool_dilations_valid", [1, 2, 7, 8],
             dict(kernel_shape=[3, 2], dilations=[2, 3], strides=[2, 1], auto_pad="VALID", count_include_pad=1)),
            ("avgpool_3d_dilations", [1, 2, 5, 6, 5],
             dict(kernel_shape=[2, 2, 2], dilations=[2, 1, 3], strides=[1, 2, 1], pads=[1, 0, 1, 1, 1, 1])),
            ("avgpool_3d_dilations_count_include_pad", [1, 2, 5, 6, 5],
             dict(kernel_shape=[2, 2, 2], dilations=[2, 1, 3], strides=[1, 2, 1], pads=[1, 0, 1, 1, 1, 1],
                  count_include_pad=1))):
        x = randn(*shape)
        n = len(shape) - 2
        strides, pads = attrs.get("strides", [1] * n), attrs.get("pads", [0] * 2 * n)
        want = avg_pool_ref(x.astype(np.float64), attrs["kernel_shape"], strides, pads, attrs["dilations"],
                            attrs.get("ceil_mode", 0), attrs.get("count_include_pad", 0))
        one_node(name, "AveragePool", [("x", x)], attrs, 19, F, want=want)


# ---- Pad-19: wrap ----

def pad_cases():
    x = randn(3, 4)
    # Pads as large as the dimension (ONNX Runtime's wrap disagrees with
    # NumPy's for larger ones, which razorq refuses).
    for name, pads in (("pad_wrap", [1, 2, 2, 1]), ("pad_wrap_whole_dim", [3, 0, 2, 4])):
        want = np.pad(x, [(pads[0], pads[2]), (pads[1], pads[3])], mode="wrap")
        one_node(name, "Pad", [("x", x), ("pads", np.array(pads, np.int64))], dict(mode="wrap"), 19, F, want=want)
    x3 = randn(2, 3, 4)
    pads = [1, 3, 2, 1]
    want = np.pad(x3, [(0, 0), (1, 2), (3, 1)], mode="wrap")
    one_node("pad_wrap_axes", "Pad", [("x", x3), ("pads", np.array(pads, np.int64)), ("value", np.float32(0)),
                                      ("axes", np.array([-2, 2], np.int64))], dict(mode="wrap"), 19, F, want=want)
    xi = rng.integers(-100, 100, (2, 5)).astype(np.int64)
    one_node("pad_wrap_int64", "Pad", [("x", xi), ("pads", np.array([0, 3, 1, 2], np.int64))], dict(mode="wrap"), 19,
             I64, want=np.pad(xi, [(0, 1), (3, 2)], mode="wrap"), exact=True)


# ---- Resize-19: half_pixel_symmetric ----

def half_pixel_symmetric(out_int, in_len, scale):
    """The source coordinate of each output index (the spec's formula)."""
    adjustment = out_int / (scale * in_len)
    offset = in_len / 2 * (1 - adjustment)
    return offset + (np.arange(out_int) + 0.5) / scale - 0.5


def cubic_weights(t, a=-0.75):
    """Keys' cubic convolution weights of the taps at floor - 1 .. floor + 2."""
    def w(d):
        d = np.abs(d)
        return np.where(d <= 1, ((a + 2) * d - (a + 3)) * d * d + 1,
                        np.where(d < 2, ((a * d - 5 * a) * d + 8 * a) * d - 4 * a, 0))
    return [w(t + 1), w(t), w(1 - t), w(2 - t)]


def resize_ref(x, scales, out, mode):
    """NumPy restatement, axis by axis: linear (the coordinate clamped to
    the input), cubic (A = -0.75, taps outside the input take the edge's
    value) or nearest round_prefer_floor."""
    y = x.astype(np.float64)
    for d in range(x.ndim):
        in_len = x.shape[d]
        xo = half_pixel_symmetric(out[d], in_len, scales[d])
        shape = [-1 if k == d else 1 for k in range(x.ndim)]
        if mode == "cubic":
            base = np.floor(xo).astype(np.int64)
            ws = cubic_weights(xo - base)
            y = sum(np.take(y, np.clip(base + k - 1, 0, in_len - 1), axis=d) * ws[k].reshape(shape)
                    for k in range(4))
        elif mode == "nearest":
            idx = np.where(xo - np.floor(xo) == 0.5, np.floor(xo), np.round(xo)).astype(np.int64)
            y = np.take(y, np.clip(idx, 0, in_len - 1), axis=d)
        else:
            c = np.clip(xo, 0, in_len - 1)
            lo = np.floor(c).astype(np.int64)
            hi = np.minimum(lo + 1, in_len - 1)
            w = (c - lo).reshape([-1 if k == d else 1 for k in range(x.ndim)])
            y = np.take(y, lo, axis=d) * (1 - w) + np.take(y, hi, axis=d) * w
    return y.astype(np.float32)


def resize_cases():
    x = randn(1, 2, 5, 7)
    for mode, scales in (("linear", [1, 1, 0.7, 1.55]), ("nearest", [1, 1, 1.9, 0.45]),
                         ("cubic", [1, 1, 1.3, 0.8])):
        out = [int(np.floor(n * s)) for n, s in zip(x.shape, scales)]
        want = resize_ref(x, scales, out, mode)
        one_node(f"resize_{mode}_half_pixel_symmetric", "Resize",
                 [("x", x), ("roi", np.zeros(0, np.float32)), ("scales", np.array(scales, np.float32))],
                 dict(mode=mode, coordinate_transformation_mode="half_pixel_symmetric"), 19, F, want=want)
    # Sizes: the adjustment is 1 and the mode is half_pixel's.
    sizes = [1, 2, 3, 10]
    scales = [o / n for o, n in zip(sizes, x.shape)]
    one_node("resize_linear_half_pixel_symmetric_sizes", "Resize",
             [("x", x), ("roi", np.zeros(0, np.float32)), ("sizes", np.array(sizes, np.int64))],
             dict(mode="linear", coordinate_transformation_mode="half_pixel_symmetric"), 19, F,
             want=resize_ref(x, scales, sizes, "linear"), names=["x", "roi", "", "sizes"])
    # keep_aspect_ratio_policy (opset 18) picks one scale for the listed
    # axes: the output rounds in * scale, so the adjustment is not 1.
    scale = min(4 / 5, 9 / 7)
    out = [1, 2, int(5 * scale + 0.5), int(7 * scale + 0.5)]
    one_node("resize_linear_half_pixel_symmetric_not_larger", "Resize",
             [("x", x), ("roi", np.zeros(0, np.float32)), ("sizes", np.array([4, 9], np.int64))],
             dict(mode="linear", coordinate_transformation_mode="half_pixel_symmetric", axes=[2, 3],
                  keep_aspect_ratio_policy="not_larger"), 19, F,
             want=resize_ref(x, [1, 1, scale, scale], out, "linear"), names=["x", "roi", "", "sizes"])


# ---- ReduceMax-20 / ReduceMin-20 on BOOL and 8-bit integers ----

def reduce_cases():
    xb = rng.random((3, 4)) < 0.3
    xb[0] = False
    xb[1] = True
    for op, ref in (("ReduceMax", np.max), ("ReduceMin", np.min)):
        for axes, keep in (([1], 1), ([0, -1], 0)):
            one_node(f"{op.lower()}_bool_{'all' if len(axes) == 2 else 'axis1'}", op,
                     [("x", xb), ("axes", np.array(axes, np.int64))], dict(keepdims=keep), 20, B,
                     want=ref(xb, axis=tuple(axes), keepdims=bool(keep)), exact=True)
        for t in (np.int8, np.uint8):
            info = np.iinfo(t)
            xi = rng.integers(info.min, info.max + 1, (2, 3, 4)).astype(t)
            one_node(f"{op.lower()}_{np.dtype(t).name}", op, [("x", xi), ("axes", np.array([1], np.int64))],
                     dict(keepdims=0), 18, NP_TO_ONNX[np.dtype(t)], want=ref(xi, axis=1), exact=True)


# ---- QuantizeLinear / DequantizeLinear ----

QRANGE = {np.int8: (-128, 127), np.uint8: (0, 255), np.int16: (-32768, 32767), np.uint16: (0, 65535)}


def expand_params(p, x_shape, axis, block):
    """Per-element scale or zero point: scalar, per axis (1-D) or blocked."""
    p = np.asarray(p)
    if p.ndim == 0 or p.size == 1 and not block:
        return np.broadcast_to(p.reshape(()), x_shape)
    if not block:
        return np.broadcast_to(p.reshape([-1 if d == axis else 1 for d in range(len(x_shape))]), x_shape)
    return np.repeat(p, block, axis=axis)[tuple(slice(0, n) for n in x_shape)]


def quantize_ref(x, scale, zp, t, axis=1, block=0):
    """round_half_even(x / scale) + zp in float (FLOAT16 widened), saturated."""
    s = expand_params(scale, x.shape, axis, block).astype(np.float32)
    z = expand_params(zp, x.shape, axis, block).astype(np.float64) if zp is not None else 0
    lo, hi = QRANGE[t]
    return np.clip(np.rint(x.astype(np.float32) / s).astype(np.float64) + z, lo, hi).astype(t)


def dequantize_ref(x, scale, zp, axis=1, block=0):
    """(x - zp) * scale in float, in the scale's type."""
    s = expand_params(scale, x.shape, axis, block)
    z = expand_params(zp, x.shape, axis, block).astype(np.int64) if zp is not None else 0
    return ((x.astype(np.int64) - z).astype(np.float32) * s.astype(np.float32)).astype(s.dtype)


def qints(t, shape):
    lo, hi = QRANGE[t]
    return rng.integers(lo, hi + 1, shape).astype(t)


def quant_cases():
    # Opset 19: FLOAT16 input and scale; DequantizeLinear's output is FLOAT16.
    x = (randn(2, 3, 4) * 20).astype(np.float16)
    scale = np.array([0.5, 0.25, 0.125], np.float16)
    zp = np.array([3, -2, 0], np.int8)
    one_node("quantizelinear_float16_per_axis", "QuantizeLinear", [("x", x)], {}, 19, TensorProto.INT8,
             inits=[("scale", scale), ("zp", zp)], want=quantize_ref(x, scale, zp, np.int8), exact=True)
    q = qints(np.uint8, (2, 3, 4))
    scale = np.float16(0.0123)
    zp = np.uint8(128)
    one_node("dequantizelinear_float16", "DequantizeLinear", [("q", q)], {}, 19, F16,
             inits=[("scale", np.array(scale)), ("zp", np.array(zp))], want=dequantize_ref(q, scale, zp), exact=True)
    # saturate concerns float8 only: accepted and ignored.
    x = randn(3, 5) * 100
    one_node("quantizelinear_saturate_ignored", "QuantizeLinear", [("x", x)], dict(saturate=1), 19,
             TensorProto.INT8, inits=[("scale", np.array(0.5, np.float32)), ("zp", np.array(1, np.int8))],
             want=quantize_ref(x, np.float32(0.5), np.int8(1), np.int8), exact=True)

    # Opset 21: 16-bit types.
    x = randn(2, 3, 4) * 3000
    for t in (np.int16, np.uint16):
        name = np.dtype(t).name
        scale = np.array([0.05, 0.5, 0.1], np.float32)
        zp = np.array([0, 100, -7 if t == np.int16 else 30000], t)
        one_node(f"quantizelinear_{name}_per_axis", "QuantizeLinear", [("x", x)], {}, 21, NP_TO_ONNX[np.dtype(t)],
                 inits=[("scale", scale), ("zp", zp)], want=quantize_ref(x, scale, zp, t), exact=True)
        q = qints(t, (2, 3, 4))
        one_node(f"dequantizelinear_{name}_per_axis", "DequantizeLinear", [("q", q)], {}, 21, F,
                 inits=[("scale", scale), ("zp", zp)], want=dequantize_ref(q, scale, zp), exact=True)
    # output_dtype without a zero point.
    one_node("quantizelinear_output_dtype_int16", "QuantizeLinear", [("x", x)],
             dict(output_dtype=TensorProto.INT16), 21, TensorProto.INT16, inits=[("scale", np.array(0.2, np.float32))],
             want=quantize_ref(x, np.float32(0.2), None, np.int16), exact=True)
    one_node("quantizelinear_output_dtype_with_zero_point", "QuantizeLinear", [("x", x)],
             dict(output_dtype=TensorProto.UINT8), 21, TensorProto.UINT8,
             inits=[("scale", np.array(20, np.float32)), ("zp", np.array(120, np.uint8))],
             want=quantize_ref(x, np.float32(20), np.uint8(120), np.uint8), exact=True)

    # Opset 21: blocked quantization (a last block shorter than block_size).
    x = randn(4, 6) * 10
    scale = (rng.random((4, 2)) * 0.2 + 0.05).astype(np.float32)
    zp = qints(np.int8, (4, 2)) // 4
    one_node("quantizelinear_blocked_axis1", "QuantizeLinear", [("x", x)], dict(axis=1, block_size=4), 21,
             TensorProto.INT8, inits=[("scale", scale), ("zp", zp)],
             want=quantize_ref(x, scale, zp, np.int8, axis=1, block=4), exact=True)
    q = qints(np.int8, (4, 6))
    one_node("dequantizelinear_blocked_axis1", "DequantizeLinear", [("q", q)], dict(axis=1, block_size=4), 21, F,
             inits=[("scale", scale), ("zp", zp)], want=dequantize_ref(q, scale, zp, axis=1, block=4), exact=True)
    x = randn(2, 5, 3) * 10
    scale = (rng.random((2, 3, 3)) * 0.2 + 0.05).astype(np.float32)
    zp = qints(np.uint8, (2, 3, 3))
    one_node("quantizelinear_blocked_axis_neg2", "QuantizeLinear", [("x", x)], dict(axis=-2, block_size=2), 21,
             TensorProto.UINT8, inits=[("scale", scale), ("zp", zp)],
             want=quantize_ref(x, scale, zp, np.uint8, axis=1, block=2), exact=True)
    q = qints(np.uint16, (2, 5, 3))
    zp16 = qints(np.uint16, (2, 3, 3))
    one_node("dequantizelinear_blocked_uint16", "DequantizeLinear", [("q", q)], dict(axis=1, block_size=2), 21, F,
             inits=[("scale", scale), ("zp", zp16)], want=dequantize_ref(q, scale, zp16, axis=1, block=2), exact=True)
    q = qints(np.int8, (6, 4))
    scale = (rng.random((2, 4)) * 0.2 + 0.05).astype(np.float16)
    one_node("dequantizelinear_blocked_axis0_float16", "DequantizeLinear", [("q", q)], dict(axis=0, block_size=3),
             21, F16, inits=[("scale", scale)], want=dequantize_ref(q, scale, None, axis=0, block=3), exact=True)



def to_bfloat16(a):
    """float32 -> BFLOAT16 (round half to even), returned as float32."""
    u = np.asarray(a, np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32)


def bfloat16_cases():
    """BFLOAT16 x / scale (opset 19). ONNX Runtime 1.30 has no BFLOAT16
    QuantizeLinear / DequantizeLinear kernel, so NumPy alone is the oracle:
    x comes in as FLOAT and a Cast makes it BFLOAT16 (the values are exact
    in it), DequantizeLinear's BFLOAT16 output is Cast back to FLOAT."""
    bf = TensorProto.BFLOAT16
    scale_vals = [0.5, 0.3984375, 0.376953125]  # 51/128 and 193/512: the products need rounding
    scale = helper.make_tensor("scale", bf, [3], scale_vals)
    x = (rng.integers(-127, 128, (2, 3, 4)) / 4).astype(np.float32)
    zp = np.array([1, -3, 0], np.int8)
    m = model([helper.make_node("Cast", ["x"], ["xb"], to=bf),
               helper.make_node("QuantizeLinear", ["xb", "scale", "zp"], ["y"])],
              [vi("x", F, [2, 3, 4])], [vi("y", TensorProto.INT8, None)],
              [("zp", zp)], opset=19)
    m.graph.initializer.append(scale)
    want = quantize_ref(x, np.array(scale_vals, np.float32), zp, np.int8)
    case_writer.write_case(root, "quantizelinear_bfloat16_per_axis", m, [("x", x)], [("y", want)])
    q = qints(np.int8, (2, 3, 4))
    m = model([helper.make_node("DequantizeLinear", ["q", "scale", "zp"], ["yb"]),
               helper.make_node("Cast", ["yb"], ["y"], to=F)],
              [vi("q", TensorProto.INT8, [2, 3, 4])], [vi("y", F, None)], [("zp", zp)], opset=19)
    m.graph.initializer.append(scale)
    want = to_bfloat16(dequantize_ref(q, np.array(scale_vals, np.float32), zp))
    case_writer.write_case(root, "dequantizelinear_bfloat16_per_axis", m, [("q", q)], [("y", want)])


def empty_reduce_cases():
    """ReduceMax / ReduceMin over an empty axis: the type's minimum /
    maximum (the spec's -inf / +inf where the type has none). ONNX Runtime
    agrees for INT8 / UINT8 and refuses BOOL, whose cases (False for Max,
    True for Min) have the spec alone as their oracle."""
    for op, pick in (("ReduceMax", 0), ("ReduceMin", 1)):
        for t in (np.int8, np.uint8, np.bool_):
            x = np.zeros((2, 0), t)
            feeds = [("x", x), ("axes", np.array([1], np.int64))]
            elem = NP_TO_ONNX[np.dtype(t)]
            want = np.full(2, (np.iinfo(t).min, np.iinfo(t).max)[pick] if t != np.bool_ else bool(pick), t)
            case = f"{op.lower()}_empty_{np.dtype(t).name}"
            if t != np.bool_:
                one_node(case, op, feeds, dict(keepdims=0), 20, elem, want=want, exact=True)
                continue
            m = model([helper.make_node(op, ["x", "axes"], ["y"], keepdims=0)],
                      [vi("x", elem, [2, 0]), vi("axes", I64, [1])], [vi("y", elem, None)], opset=20)
            case_writer.write_case(root, case, m, feeds, [("y", want)])


if __name__ == "__main__":
    case_writer.regenerate(root, avg_pool_cases, pad_cases, resize_cases, reduce_cases, quant_cases, bfloat16_cases,
                           empty_reduce_cases)
