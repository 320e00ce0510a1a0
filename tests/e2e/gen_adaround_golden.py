#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""PyTorch 1.13 oracle for razorq's AdaRound (w_fake_quant
"mmrazor.AdaRoundFakeQuantize" plus the config's "reconstruction").

Usage: /usr/bin/python3 tests/e2e/gen_adaround_golden.py
Writes tests/data/adaround/: per fixture (conv, dwconv, gemm) a float ONNX
model with one Conv/Gemm, a calibration set (64 samples), a razorq config and,
for all of them, golden.json with what this oracle learns. test_adaround.py
holds razorq to it. Deterministic: numpy seeds for the data, one thread.

The oracle is the BRECQ / MMRazor layer-wise AdaRound (Nagel et al. 2020,
"Up or Down? Adaptive Rounding for Post-Training Quantization"), written
here with autograd from the formulas, not from razorq's C:
  s, z     per-output-channel qparams of PerChannelMinMaxObserver
           (qint8, per_channel_symmetric, [-7, 7]) on the float weight W;
  x_hat    the layer input as the quantized model sees it: the calibration
           set fake-quantized with MinMaxObserver's (quint8, affine, [0, 255])
           qparams over all 64 samples;
  V        initialised so h(V) = W/s - floor(W/s); W~ = s * (clamp(floor(W/s)
           + h(V) + z, qmin, qmax) - z), h(V) = clamp(sigmoid(V) * 1.2 - 0.1,
           0, 1);
  loss     ((y(x_hat, W~) - y(x_hat, W))**2).sum(1).mean() + round_loss,
           full batch, Adam on V, beta annealed from 20 to 2 after warm-up;
  w_int    clamp(floor(W/s) + (V >= 0) + z, qmin, qmax).
The configs set iters to 1000 (razorq's default is 10000) so the test runs
in seconds; everything else is the default (weight 0.01, beta_range [20, 2],
warm_up 0.2, lr 0.001).
"""
import json
import math
import os

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper
from torch.ao.quantization import MinMaxObserver, PerChannelMinMaxObserver

torch.set_num_threads(1)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "adaround")
SAMPLES = 64
W_QMIN, W_QMAX = -7, 7  # bit 4, is_symmetry, is_symmetric_range
A_QMIN, A_QMAX = 0, 255  # bit 8, quint8, affine
ZETA, GAMMA = 1.1, -0.1
RECONSTRUCTION = {"pattern": "layer",
                  "loss": {"type": "mmrazor.AdaRoundLoss", "iters": 1000, "weight": 0.01,
                           "beta_range": [20, 2], "warm_up": 0.2},
                  "lr": 0.001}

# One Conv or Gemm each. dwconv uses strides 2 so the strides reach the
# reconstruction too; gemm's inputs go below zero so the activation zero
# point is not 0.
FIXTURES = {
    "conv": dict(op="Conv", x=(4, 6, 6), w=(8, 4, 3, 3), attrs=dict(pads=[1, 1, 1, 1], group=1, strides=[1, 1]),
                 x_range=(0.0, 1.0), seed=1),
    "dwconv": dict(op="Conv", x=(4, 6, 6), w=(4, 1, 3, 3), attrs=dict(pads=[1, 1, 1, 1], group=4, strides=[2, 2]),
                   x_range=(0.0, 1.0), seed=7),
    "gemm": dict(op="Gemm", x=(16,), w=(8, 16), attrs=dict(transB=1), x_range=(-0.25, 1.0), seed=3),
}


def academic_config():
    """`razorq config --example academic` with AdaRound at 4-bit weights,
    min/max activations and all 64 samples calibrated."""
    return {
        "global_qconfig": {
            "w_observer": {"type": "mmrazor.PerChannelMinMaxObserver"},
            "a_observer": {"type": "mmrazor.MinMaxObserver"},
            "w_fake_quant": {"type": "mmrazor.AdaRoundFakeQuantize"},
            "a_fake_quant": {"type": "mmrazor.FakeQuantize"},
            "w_qscheme": {"qdtype": "qint8", "bit": 4, "is_symmetry": True, "is_symmetric_range": True},
            "a_qscheme": {"qdtype": "quint8", "bit": 8, "is_symmetry": False},
        },
        "quantizer": {"type": "mmrazor.AcademicQuantizer", "tracer": {"skipped_nodes": [], "skipped_op_types": []}},
        "calibrate_steps": SAMPLES // 16,
        "calibrate_batch_size": 16,
        "reconstruction": RECONSTRUCTION,
    }


def onnx_model(spec, w, b):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *spec["x"]])
    if spec["op"] == "Conv":
        a = spec["attrs"]
        out = [(n + 2 * a["pads"][0] - k) // a["strides"][0] + 1 for n, k in zip(spec["x"][1:], w.shape[2:])]
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", w.shape[0], *out])
    else:
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", w.shape[0]])
    node = helper.make_node(spec["op"], ["x", "w", "b"], ["y"], name="layer", **spec["attrs"])
    if spec["op"] == "Conv":
        node.attribute.append(helper.make_attribute("kernel_shape", list(w.shape[2:])))
    graph = helper.make_graph([node], "adaround_" + spec["op"].lower(), [x], [y],
                              initializer=[numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="razorq-tests")
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def layer_fn(spec):
    """y(x, W) of the node, without its bias (it cancels in W~ x - W x)."""
    if spec["op"] == "Gemm":
        return lambda x, w: F.linear(x, w)
    a = spec["attrs"]
    return lambda x, w: F.conv2d(x, w, stride=a["strides"], padding=a["pads"][:2], groups=a["group"])


def rec_loss(y, x_hat, w_q, w):
    return ((y(x_hat, w_q) - y(x_hat, w)) ** 2).sum(1).mean()


def h_of(v):
    return torch.clamp(torch.sigmoid(v) * (ZETA - GAMMA) + GAMMA, 0, 1)


def adaround(y, x_hat, w, s, z, rec):
    """Learns V; returns (w_int, the last iteration's soft rec_loss)."""
    cfg = rec["loss"]
    iters, weight, warm_up = cfg["iters"], cfg["weight"], cfg["warm_up"]
    beta_start, beta_end = cfg["beta_range"]
    shape = (-1,) + (1,) * (w.dim() - 1)
    s, z = s.reshape(shape), z.reshape(shape).to(torch.float32)
    w_floor = torch.floor(w / s)
    rest = w / s - w_floor
    v = (-torch.log((ZETA - GAMMA) / (rest - GAMMA) - 1)).clone().requires_grad_(True)
    opt = torch.optim.Adam([v], lr=rec["lr"])
    with torch.no_grad():
        target = y(x_hat, w)
    start_decay = warm_up * iters
    for t in range(1, iters + 1):
        if t < start_decay:
            beta = beta_start
        else:
            beta = beta_end + (beta_start - beta_end) * max(0.0, 1 - (t - start_decay) / (iters - start_decay))
        h = h_of(v)
        w_soft = (torch.clamp(w_floor + h + z, W_QMIN, W_QMAX) - z) * s
        rec_term = ((y(x_hat, w_soft) - target) ** 2).sum(1).mean()
        if t < start_decay:
            loss = rec_term
        else:
            loss = rec_term + weight * (1 - ((h - 0.5).abs() * 2) ** beta).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        w_int = torch.clamp(w_floor + (v >= 0).to(torch.float32) + z, W_QMIN, W_QMAX)
    return w_int.to(torch.int8), float(rec_term)


def oracle(name, spec):
    rng = np.random.default_rng(spec["seed"])
    w = (rng.standard_normal(spec["w"]) * 0.3).astype(np.float32)
    b = (rng.standard_normal(spec["w"][0]) * 0.1).astype(np.float32)
    lo, hi = spec["x_range"]
    calib = (lo + (hi - lo) * rng.random((SAMPLES, *spec["x"]))).astype(np.float32)

    cfg = academic_config()
    onnx.save(onnx_model(spec, w, b), os.path.join(OUT, f"{name}.onnx"))
    np.save(os.path.join(OUT, f"{name}_calib.npy"), calib)
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")

    wt, xt = torch.from_numpy(w), torch.from_numpy(calib)
    w_obs = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric,
                                     quant_min=W_QMIN, quant_max=W_QMAX)
    w_obs(wt)
    s, z = w_obs.calculate_qparams()
    a_obs = MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine, quant_min=A_QMIN, quant_max=A_QMAX)
    for batch in xt.split(cfg["calibrate_batch_size"]):
        a_obs(batch)
    a_scale, a_zp = a_obs.calculate_qparams()
    x_hat = torch.fake_quantize_per_tensor_affine(xt, float(a_scale), int(a_zp), A_QMIN, A_QMAX)

    y = layer_fn(spec)
    w_int, soft_loss = adaround(y, x_hat, wt, s, z, cfg["reconstruction"])

    shape = (-1,) + (1,) * (wt.dim() - 1)
    s_b, z_b = s.reshape(shape), z.reshape(shape)
    nearest = torch.fake_quantize_per_channel_affine(wt, s, z.to(torch.int32), 0, W_QMIN, W_QMAX)
    nearest_int = torch.round(nearest / s_b).to(torch.int64) + z_b
    floor_int = torch.clamp(torch.floor(wt / s_b) + z_b, W_QMIN, W_QMAX)
    with torch.no_grad():
        losses = {kind: float(rec_loss(y, x_hat, (q.to(torch.float32) - z_b) * s_b, wt))
                  for kind, q in (("nearest", nearest_int), ("adaround", w_int), ("floor", floor_int))}
        assert torch.equal((nearest_int - z_b) * s_b, nearest)

    # The oracle must do what AdaRound is for, inside the integer grid.
    assert int(w_int.min()) >= W_QMIN and int(w_int.max()) <= W_QMAX
    assert losses["adaround"] < losses["nearest"] < losses["floor"], losses
    assert not math.isnan(soft_loss)
    return {
        "model": f"{name}.onnx", "config": f"{name}.json", "calib": f"{name}_calib.npy",
        "op": spec["op"], "attrs": spec["attrs"],
        "weight_shape": list(w.shape),
        "w_int": w_int.flatten().tolist(),
        "w_int_nearest": nearest_int.flatten().tolist(),
        "w_scale": [float(v) for v in s],
        "w_zero_point": [int(v) for v in z],
        "act_scale": float(a_scale), "act_zero_point": int(a_zp),
        "rec_loss": losses,
        "soft_rec_loss_last_iter": soft_loss,
        "changed_from_nearest": int((w_int.to(torch.int64) != nearest_int).sum()),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    golden = {"generator": "tests/e2e/gen_adaround_golden.py", "torch": torch.__version__,
              "w_qmin": W_QMIN, "w_qmax": W_QMAX, "a_qmin": A_QMIN, "a_qmax": A_QMAX,
              "reconstruction": RECONSTRUCTION, "samples": SAMPLES, "models": {}}
    for name, spec in FIXTURES.items():
        golden["models"][name] = oracle(name, spec)
        g = golden["models"][name]
        print(f"{name}: rec_loss nearest {g['rec_loss']['nearest']:.6g} adaround {g['rec_loss']['adaround']:.6g} "
              f"floor {g['rec_loss']['floor']:.6g}; {g['changed_from_nearest']}/{len(g['w_int'])} weights "
              f"rounded away from nearest")
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
