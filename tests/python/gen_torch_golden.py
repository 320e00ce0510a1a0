#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes tests/python/data/torch_golden.npz: PyTorch 1.13's results for the
observer and fake-quant cases of test_torch_golden.py, so the bindings are
checked against PyTorch even where torch is not installed.

Each case stores the razorq config (JSON), its inputs and what PyTorch
computed from them. Run with /usr/bin/python3 (which has torch 1.13):
    /usr/bin/python3 tests/python/gen_torch_golden.py
"""
import json
import os

import numpy as np
import torch

tq = torch.ao.quantization
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "torch_golden.npz")


def batches(rng, n, shape):
    return [(rng.standard_normal(shape) * rng.uniform(0.1, 4) + rng.uniform(-2, 2)).astype(np.float32)
            for _ in range(n)]


OBSERVERS = {
    "minmax_affine": ({"type": "MinMaxObserver"}, lambda: tq.MinMaxObserver()),
    "minmax_symmetric_qint8": ({"type": "MinMaxObserver", "dtype": "qint8", "qscheme": "per_tensor_symmetric"},
                               lambda: tq.MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric)),
    "moving_average": ({"type": "MovingAverageMinMaxObserver", "averaging_constant": 0.3},
                       lambda: tq.MovingAverageMinMaxObserver(averaging_constant=0.3)),
    "per_channel_symmetric": ({"type": "PerChannelMinMaxObserver", "ch_axis": 1, "dtype": "qint8",
                               "qscheme": "per_channel_symmetric"},
                              lambda: tq.PerChannelMinMaxObserver(ch_axis=1, dtype=torch.qint8,
                                                                  qscheme=torch.per_channel_symmetric)),
    "histogram": ({"type": "HistogramObserver"}, lambda: tq.HistogramObserver()),
}


def main():
    rng = np.random.default_rng(20261127)
    out = {}
    for name, (config, make) in OBSERVERS.items():
        xs = batches(rng, 3, (2, 3, 4, 4))
        obs = make()
        for x in xs:
            obs(torch.from_numpy(x))
        scale, zp = obs.calculate_qparams()
        p = "observer/%s/" % name
        out[p + "config"] = np.array(json.dumps(config))
        out[p + "x"] = np.stack(xs)
        out[p + "scale"] = scale.numpy().astype(np.float32).reshape(-1)
        out[p + "zero_point"] = zp.numpy().astype(np.int32).reshape(-1)
        out[p + "quant_range"] = np.array([obs.quant_min, obs.quant_max], np.int32)

    # FakeQuantize (default MovingAverageMinMaxObserver): forward steps, then
    # the straight-through backward with the observer off.
    p = "fake_quantize/"
    fq = tq.FakeQuantize()
    xs = batches(rng, 3, (2, 3, 4, 4))
    ys = [fq(torch.from_numpy(x)).detach().numpy() for x in xs]
    fq.disable_observer()
    x2 = (rng.standard_normal((2, 3, 4, 4)) * 6).astype(np.float32)
    dy = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    xt = torch.from_numpy(x2).requires_grad_()
    fq(xt).backward(torch.from_numpy(dy))
    out[p + "config"] = np.array(json.dumps({"type": "FakeQuantize"}))
    out[p + "x"], out[p + "y"] = np.stack(xs), np.stack(ys)
    out[p + "x2"], out[p + "dy"], out[p + "dx"] = x2, dy, xt.grad.numpy()

    # LearnableFakeQuantize in param_learning: PyTorch's learnable kernel with
    # MMRazor's grad_factor (use_grad_scaling).
    p = "lsq/"
    x = (rng.standard_normal((2, 3, 4, 4)) * 3).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    scale, zero_point = 0.05, 120.0
    xt = torch.from_numpy(x).requires_grad_()
    st = torch.tensor([scale], requires_grad=True)
    zt = torch.tensor([zero_point], requires_grad=True)
    yt = torch._fake_quantize_learnable_per_tensor_affine(xt, st, zt, 0, 255, 1.0 / (x.size * 255) ** 0.5)
    yt.backward(torch.from_numpy(dy))
    out[p + "config"] = np.array(json.dumps({"type": "LearnableFakeQuantize", "observer": {"type": "LSQObserver"},
                                             "zero_point_trainable": True}))
    out[p + "params"] = np.array([scale, zero_point], np.float32)
    out[p + "x"], out[p + "dy"], out[p + "y"] = x, dy, yt.detach().numpy()
    out[p + "dx"], out[p + "dscale"], out[p + "dzero_point"] = xt.grad.numpy(), st.grad.numpy(), zt.grad.numpy()

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    np.savez_compressed(OUT, **out)


if __name__ == "__main__":
    main()
