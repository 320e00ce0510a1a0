# SPDX-License-Identifier: Apache-2.0
"""AdaRound end to end: razorq ptq with w_fake_quant
"mmrazor.AdaRoundFakeQuantize" on one-layer models (a Conv, a strided
depthwise Conv, a Gemm), held to the PyTorch oracle in
tests/data/adaround/golden.json (written by gen_adaround_golden.py; the
fixtures run 1000 iterations instead of the default 10000 so this stays
fast).

The exported QDQ model is read back with onnx: the activation qparams of the
layer's input, the per-channel weight scales and the integer weights. The
reconstruction loss of each rounding is computed here with numpy (float64,
im2col convolution) on x_hat, the calibration set fake-quantized with the
oracle's activation qparams; the same code reproduces the oracle's own
losses first, so it is checked against PyTorch before it judges razorq.
No torch at run time.
"""
import json
import os
import subprocess

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from test_ptq_e2e import DATA, RAZORQ, razorq

FIXTURES = os.path.join(DATA, "adaround")
GOLDEN = json.load(open(os.path.join(FIXTURES, "golden.json")))
MODELS = sorted(GOLDEN["models"])


def fixture(name, kind):
    return os.path.join(FIXTURES, GOLDEN["models"][name][kind])


def fake_quant_activation(x, scale, zero_point, qmin, qmax):
    """torch.fake_quantize_per_tensor_affine: round(x * (1 / scale)) in float32, half to even."""
    scale = np.float32(scale)
    q = np.clip(np.rint(x * (np.float32(1) / scale)) + zero_point, qmin, qmax)
    return ((q - zero_point) * scale).astype(np.float32)


def im2col(x, kernel, pads, strides):
    """Patches of x [N, C, H, W] as [N, C, kh, kw, Ho, Wo] (zero padding)."""
    n, c, h, w = x.shape
    kh, kw = kernel
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    ho = (h + pads[0] + pads[2] - kh) // strides[0] + 1
    wo = (w + pads[1] + pads[3] - kw) // strides[1] + 1
    cols = np.empty((n, c, kh, kw, ho, wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = x[:, :, i:i + strides[0] * ho:strides[0], j:j + strides[1] * wo:strides[1]]
    return cols


def layer(x, w, op, attrs):
    """The node without its bias: Conv as [N, Cout, Ho, Wo], Gemm (transB) as [N, Cout]."""
    if op == "Gemm":
        return x @ w.T
    groups = attrs["group"]
    cols = im2col(x, w.shape[2:], attrs["pads"], attrs["strides"])
    n, c, kh, kw, ho, wo = cols.shape
    cols = cols.reshape(n, groups, c // groups, kh, kw, ho, wo)
    w = w.reshape(groups, w.shape[0] // groups, *w.shape[1:])
    out = np.einsum("ngckhxy,gockh->ngoxy", cols, w)
    return out.reshape(n, -1, ho, wo)


def rec_loss(g, x_hat, w_int):
    """((y(x_hat, W_q) - y(x_hat, W))**2).sum(1).mean() with W_q the
    dequantized integers; by linearity y(x_hat, W_q - W), in float64."""
    shape = (-1,) + (1,) * (len(g["weight_shape"]) - 1)
    scale = np.array(g["w_scale"], dtype=np.float32).reshape(shape)
    zero_point = np.array(g["w_zero_point"], dtype=np.float32).reshape(shape)
    w_q = ((np.asarray(w_int, dtype=np.float32).reshape(g["weight_shape"]) - zero_point) * scale).astype(np.float32)
    w = float_weight(g)
    diff = layer(x_hat.astype(np.float64), w_q.astype(np.float64) - w.astype(np.float64), g["op"], g["attrs"])
    return float((diff ** 2).sum(1).mean())


def float_weight(g):
    model = onnx.load(os.path.join(FIXTURES, g["model"]))
    node = next(n for n in model.graph.node if n.op_type == g["op"])
    return next(numpy_helper.to_array(t) for t in model.graph.initializer if t.name == node.input[1])


def x_hat(g):
    calib = np.load(os.path.join(FIXTURES, g["calib"]))
    return fake_quant_activation(calib, g["act_scale"], g["act_zero_point"], GOLDEN["a_qmin"], GOLDEN["a_qmax"])


def exported_layer(path, op):
    """What the QDQ export says about its one layer: the input's activation
    (scale, zero point), the weight's per-channel scales, zero points and
    integer weights (the initializer feeding the weight's DequantizeLinear)."""
    model = onnx.load(path)
    consts = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}
    (node,) = [n for n in model.graph.node if n.op_type == op]
    x_dq, w_dq = producer[node.input[0]], producer[node.input[1]]
    assert x_dq.op_type == "DequantizeLinear" and w_dq.op_type == "DequantizeLinear"
    axis = {a.name: helper.get_attribute_value(a) for a in w_dq.attribute}.get("axis", 1)
    assert axis == 0, "per-output-channel weight quantization"
    w_int = consts[w_dq.input[0]]
    assert w_int.dtype == np.int8
    return {"act_scale": consts[x_dq.input[1]], "act_zero_point": consts[x_dq.input[2]],
            "w_scale": consts[w_dq.input[1]], "w_zero_point": consts[w_dq.input[2]], "w_int": w_int}


def ptq(name, config, tmp_path):
    out = str(tmp_path / f"{name}_q.onnx")
    razorq("ptq", fixture(name, "model"), "--config", config, "--calib", fixture(name, "calib"), "-o", out, "--quiet")
    return out


@pytest.mark.parametrize("name", MODELS)
def test_numpy_losses_reproduce_the_oracle(name):
    """The numpy im2col layer and loss here agree with PyTorch's (golden),
    and the fixture can tell AdaRound from nearest rounding: more weights
    differ than test_adaround_rounds_like_the_oracle tolerates."""
    g = GOLDEN["models"][name]
    assert np.mean(np.array(g["w_int"]) != np.array(g["w_int_nearest"])) > 0.03
    xh = x_hat(g)
    for kind, w_int in (("nearest", g["w_int_nearest"]), ("adaround", g["w_int"])):
        assert rec_loss(g, xh, w_int) == pytest.approx(g["rec_loss"][kind], rel=1e-4), kind


@pytest.mark.parametrize("name", MODELS)
def test_adaround_rounds_like_the_oracle(name, tmp_path):
    g = GOLDEN["models"][name]
    got = exported_layer(ptq(name, fixture(name, "config"), tmp_path), g["op"])

    # (a) Both reconstructed from the same x_hat.
    assert got["act_scale"].dtype == np.float32 and got["act_scale"] == np.float32(g["act_scale"])
    assert int(got["act_zero_point"]) == g["act_zero_point"]
    # (b) The same grid.
    np.testing.assert_allclose(got["w_scale"], np.array(g["w_scale"], dtype=np.float32), rtol=1e-6)
    np.testing.assert_array_equal(got["w_zero_point"], g["w_zero_point"])
    w_int = got["w_int"].astype(np.int64).ravel()
    assert w_int.size == len(g["w_int"])
    assert w_int.min() >= GOLDEN["w_qmin"] and w_int.max() <= GOLDEN["w_qmax"]

    # (c) The same decisions, nearly: razorq sums in float32 in another order
    # (a Gram matrix of input patches, not per-sample outputs), so its Adam
    # trajectory drifts from PyTorch's and a weight whose V ends near 0 may
    # round the other way. 97% still leaves only 1 of dwconv's 36 weights.
    agreement = float((w_int == np.array(g["w_int"])).mean())
    assert agreement >= 0.97, f"{agreement:.4f} of the weights round as the oracle's do"

    # (d) As good a rounding as the oracle's, and better than rounding to nearest.
    xh = x_hat(g)
    ours, oracle, nearest = (rec_loss(g, xh, w) for w in (w_int, g["w_int"], g["w_int_nearest"]))
    assert ours <= 1.05 * oracle, f"razorq {ours:.6g} vs oracle {oracle:.6g}"
    assert ours < nearest, f"razorq {ours:.6g} vs nearest {nearest:.6g}"


@pytest.mark.parametrize("name", MODELS)
def test_without_adaround_the_weights_round_to_nearest(name, tmp_path):
    """The control: the same config with mmrazor.FakeQuantize exports the
    oracle's nearest rounding (torch.fake_quantize_per_channel_affine) exactly."""
    g = GOLDEN["models"][name]
    cfg = json.load(open(fixture(name, "config")))
    cfg["global_qconfig"]["w_fake_quant"] = {"type": "mmrazor.FakeQuantize"}
    del cfg["reconstruction"]
    path = tmp_path / "nearest.json"
    path.write_text(json.dumps(cfg))
    got = exported_layer(ptq(name, str(path), tmp_path), g["op"])
    np.testing.assert_array_equal(got["w_int"].ravel(), g["w_int_nearest"])


@pytest.mark.parametrize("key,value", [
    ("reconstruction.loss.iters", 0),
    ("reconstruction.lr", -1),
    ("reconstruction.loss.weight", -1),
    ("reconstruction.loss.warm_up", 1.5),
    ("reconstruction.loss.beta_range", [20]),
])
def test_bad_reconstruction_value_is_refused_by_key_path(key, value, tmp_path):
    cfg = json.load(open(fixture("conv", "config")))
    *parents, leaf = key.split(".")
    target = cfg
    for part in parents:
        target = target[part]
    target[leaf] = value
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(cfg))
    out = tmp_path / "never.onnx"
    done = subprocess.run([RAZORQ, "ptq", fixture("conv", "model"), "--config", str(path), "--calib",
                           fixture("conv", "calib"), "-o", str(out)], capture_output=True, text=True)
    assert done.returncode != 0
    assert key in done.stderr, done.stderr
    assert not out.exists()
