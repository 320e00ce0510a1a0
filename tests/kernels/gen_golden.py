#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the PyTorch 1.13 golden files the kernel tests compare against.

Run with Debian's python3 (python3-torch):  /usr/bin/python3 tests/kernels/gen_golden.py
Every case is a set of .npy files named <case>.<field>.npy in tests/kernels/golden/;
test_kernels.c reads them, runs razorq's kernels on the inputs and compares.
Parameters of a case (scale, zero point, bins, ...) are stored as .npy too.
"""
import os
import numpy as np
import torch

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
rng = np.random.default_rng(20261127)


def save(case, field, arr):
    np.save(os.path.join(OUT, f"{case}.{field}.npy"), np.ascontiguousarray(arr))


def adversarial(n, scale):
    """Random values plus the ones that break naive kernels: ties at half a
    quantization step, zeros of both signs, subnormals, huge values."""
    x = (rng.standard_normal(n) * 3).astype(np.float32)
    k = rng.integers(-300, 300, size=n // 4)
    x[: n // 4] = ((k + 0.5) * scale).astype(np.float32)
    x[n // 4 : n // 4 + 6] = np.array([0.0, -0.0, 1e-40, -1e-40, 3e38, -3e38], np.float32)
    rng.shuffle(x)
    return x


# ---- min/max ----
for i, (n, dist) in enumerate([(1, "normal"), (1000, "normal"), (777, "uniform"), (4099, "wide")]):
    if dist == "normal":
        x = rng.standard_normal(n).astype(np.float32)
    elif dist == "uniform":
        x = rng.uniform(-5, 17, n).astype(np.float32)
    else:
        x = (rng.standard_normal(n) * 10.0 ** rng.integers(-30, 30, n)).astype(np.float32)
    mn, mx = torch.aminmax(torch.from_numpy(x))
    save(f"minmax{i}", "x", x)
    save(f"minmax{i}", "minmax", np.array([mn.item(), mx.item()], np.float32))

# fp16 input: torch widens Half to float exactly; the reduction is on the float values
x16 = (rng.standard_normal(1001) * 100).astype(np.float16)
mn, mx = torch.aminmax(torch.from_numpy(x16).float())
save("minmax_f16", "x", x16)
save("minmax_f16", "minmax", np.array([mn.item(), mx.item()], np.float32))

# per channel, NCHW along axis 1 and OIHW along axis 0
for name, shape, axis in [("channels_nchw", (3, 8, 5, 7), 1), ("channels_oihw", (6, 4, 3, 3), 0),
                          ("channels_nc", (9, 13), 1)]:
    x = rng.standard_normal(shape).astype(np.float32)
    t = torch.from_numpy(x)
    dims = [d for d in range(x.ndim) if d != axis]
    mn = torch.amin(t, dim=dims)
    mx = torch.amax(t, dim=dims)
    save(name, "x", x)
    save(name, "axis", np.array([axis], np.int32))
    save(name, "min", mn.numpy())
    save(name, "max", mx.numpy())

# ---- torch.histc ----
for i, (n, bins, lo, hi) in enumerate([(5000, 2048, None, None), (3001, 7, -1.0, 1.5),
                                       (2000, 100, -0.3, 0.7), (1, 5, None, None)]):
    x = rng.standard_normal(n).astype(np.float32)
    if lo is None:
        lo, hi = float(x.min()), float(x.max())
        if lo == hi:
            lo, hi = lo - 1, hi + 1
    # values exactly on bin edges, on lo and on hi
    edges = np.linspace(lo, hi, bins + 1, dtype=np.float32)
    m = min(len(edges), n // 2)
    x[:m] = edges[:m]
    x[-1] = np.float32(hi)
    h = torch.histc(torch.from_numpy(x), bins=bins, min=lo, max=hi)
    save(f"histc{i}", "x", x)
    save(f"histc{i}", "range", np.array([lo, hi], np.float32))
    save(f"histc{i}", "counts", h.numpy().astype(np.float64))

# ---- fake-quant per tensor (output and mask) ----
cases = [(0.1, 0, -128, 127), (0.0137, 3, 0, 255), (1e-3, -7, -128, 127), (2.5, 128, 0, 255),
         (0.02, 0, -32768, 32767), (1e-30, 0, 0, 255)]
for i, (scale, zp, qmin, qmax) in enumerate(cases):
    x = adversarial(997, scale)
    x[:3] = np.array([np.inf, -np.inf, np.nan], np.float32)
    out, mask = torch.ops.aten.fake_quantize_per_tensor_affine_cachemask(
        torch.from_numpy(x), scale, zp, qmin, qmax)
    save(f"fq{i}", "x", x)
    save(f"fq{i}", "params", np.array([scale], np.float32))
    save(f"fq{i}", "qparams", np.array([zp, qmin, qmax], np.int32))
    save(f"fq{i}", "y", out.numpy())
    save(f"fq{i}", "mask", mask.numpy().astype(np.uint8))
    if i < 3:  # fp16 tensors are fake-quantized in float and rounded back to Half
        xh = x.astype(np.float16)
        outh = torch.fake_quantize_per_tensor_affine(torch.from_numpy(xh), scale, zp, qmin, qmax)
        save(f"fqh{i}", "x", xh)
        save(f"fqh{i}", "params", np.array([scale], np.float32))
        save(f"fqh{i}", "qparams", np.array([zp, qmin, qmax], np.int32))
        save(f"fqh{i}", "y", outh.numpy())

# ---- fake-quant per channel ----
for name, shape, axis, qmin, qmax in [("fqc_nchw", (2, 4, 6, 5), 1, 0, 255),
                                      ("fqc_oihw", (5, 3, 3, 3), 0, -128, 127),
                                      ("fqc_nc", (7, 19), 1, -128, 127)]:
    c = shape[axis]
    scale = (rng.uniform(0.005, 0.2, c)).astype(np.float32)
    zp = rng.integers(qmin, qmax // 2 + 1, c).astype(np.int32)
    x = adversarial(int(np.prod(shape)), float(scale[0])).reshape(shape)
    out, mask = torch.ops.aten.fake_quantize_per_channel_affine_cachemask(
        torch.from_numpy(x), torch.from_numpy(scale), torch.from_numpy(zp), axis, qmin, qmax)
    save(name, "x", x)
    save(name, "scale", scale)
    save(name, "qparams", np.array([axis, qmin, qmax], np.int32))
    save(name, "zero_point", zp)
    save(name, "y", out.numpy())
    save(name, "mask", mask.numpy().astype(np.uint8))

# ---- quantize / dequantize ----
for i, (scale, zp, dtype) in enumerate([(0.05, 3, torch.qint8), (0.031, 130, torch.quint8),
                                        (0.001, -5, torch.qint8)]):
    x = adversarial(1003, scale)
    q = torch.quantize_per_tensor(torch.from_numpy(x), scale, zp, dtype)
    save(f"quant{i}", "x", x)
    save(f"quant{i}", "params", np.array([scale], np.float32))
    save(f"quant{i}", "zp", np.array([zp], np.int32))
    save(f"quant{i}", "q", q.int_repr().numpy().astype(np.int32))
    save(f"quant{i}", "deq", q.dequantize().numpy())

# ---- LSQ backward (per tensor) ----
for i, (scale, zp, qmin, qmax) in enumerate([(0.1, 0, -128, 127), (0.05, 10, 0, 255)]):
    x = adversarial(1001, scale)
    x = x[np.abs(x) < 1e30]  # keep the reference sums finite
    dy = rng.standard_normal(x.shape).astype(np.float32)
    xt = torch.from_numpy(x).requires_grad_(True)
    st = torch.tensor([scale], dtype=torch.float32, requires_grad=True)
    zt = torch.tensor([float(zp)], dtype=torch.float32, requires_grad=True)
    gf = 1.0 / (x.size * qmax) ** 0.5
    y = torch._fake_quantize_learnable_per_tensor_affine(xt, st, zt, qmin, qmax, gf)
    y.backward(torch.from_numpy(dy))
    save(f"lsq{i}", "x", x)
    save(f"lsq{i}", "dy", dy)
    save(f"lsq{i}", "params", np.array([scale, gf], np.float32))
    save(f"lsq{i}", "qparams", np.array([zp, qmin, qmax], np.int32))
    save(f"lsq{i}", "y", y.detach().numpy())
    save(f"lsq{i}", "dx", xt.grad.numpy())
    save(f"lsq{i}", "dscale_dzp", np.array([st.grad.item(), zt.grad.item()], np.float64))

print("wrote", len(os.listdir(OUT)), "files to", OUT)
