#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the golden observer data razorq's tests compare against.

Run with Debian's /usr/bin/python3 (PyTorch 1.13):
    /usr/bin/python3 tests/golden/gen_torch.py
It rewrites tests/golden/observers.json: a few input sets (several batches
each) and, for every case, the razorq JSON config plus what PyTorch's observer
reports after each batch (min/max, scale, zero_point). The C tests read this
file; they never need torch.

MMRazor is not installed; its QSchemeHandler is a thin mapping onto PyTorch's
observer arguments, reproduced in `mmrazor_observer_kwargs` from MMRazor's
mmrazor/structures/quantization/qconfig.py (QSchemeHandler):
quant range from qdtype/bit/is_symmetric_range, qscheme from is_symmetry and
"PerChannel" in the class name, reduce_range=False. Its LSQ observers are
PyTorch's min/max observers plus 2 * mean(|x|) / sqrt(quant_max) of the latest
batch, computed here with torch ops as MMRazor does.
"""
import json
import math
import os

import numpy as np
import torch
import torch.ao.quantization.observer as tobs
import warnings

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "observers.json")


def f32_list(t):
    """float32 values as JSON numbers that parse back to the same float32."""
    return [float(v) for v in np.asarray(t, dtype=np.float32).reshape(-1)]


def make_inputs():
    rng = np.random.default_rng(20261127)
    shape = [4, 3, 5]
    sets = {}
    # mixed signs, growing range batch by batch (exercises histogram combining)
    sets["mixed"] = [rng.normal(0, s, shape).astype(np.float32) for s in (0.5, 1.7, 3.2)]
    # all positive, range moving right (one-sided distributions, min stays > 0)
    sets["positive"] = [rng.uniform(lo, lo + 2.5, shape).astype(np.float32) for lo in (0.2, 1.1, 0.7)]
    # small magnitudes inside (-1, 1): histc's int() range collapses to [0, 0]
    sets["small"] = [rng.normal(0, 0.05, shape).astype(np.float32) * k for k in (1.0, 0.3, 2.0)]
    # per-channel scales differ wildly, negative-heavy
    chan = np.array([0.01, 1.0, 40.0], dtype=np.float32).reshape(1, 3, 1)
    sets["channels"] = [(rng.normal(-0.5, 1.0, shape).astype(np.float32) * chan) for _ in range(3)]
    # float16-representable values: the C test feeds them as float16/bfloat16
    sets["half"] = [rng.normal(0.3, 2.0, shape).astype(np.float16).astype(np.float32) for _ in range(3)]
    # edge cases: all zeros, a constant, a range below eps * levels (the eps
    # floor and the zero point clamp), all negative
    sets["edge"] = [np.zeros(shape, np.float32), np.full(shape, 3.0, np.float32),
                    (rng.uniform(-1e-7, 1e-7, shape) + 2e-6).astype(np.float32),
                    -rng.uniform(0.5, 9.0, shape).astype(np.float32)]
    # PyTorch's HistogramObserver cannot take the tiny-range batch followed by
    # a wide one: _combine_histograms allocates bins * downsample_rate floats
    # (1.5 TB here). razorq integrates from prefix sums instead.
    sets["edge_hist"] = [sets["edge"][i] for i in (0, 1, 3)]
    return shape, sets


def mmrazor_range(qdtype, bit, symmetric_range):
    if qdtype == "quint8":
        return 0, 2 ** bit - 1
    qmin, qmax = -(2 ** (bit - 1)), 2 ** (bit - 1) - 1
    if symmetric_range:
        qmin += 1
    return qmin, qmax


def mmrazor_observer_kwargs(cls_name, qdtype, bit, is_symmetry, is_symmetric_range):
    per_channel = "PerChannel" in cls_name
    qmin, qmax = mmrazor_range(qdtype, bit, is_symmetric_range)
    if per_channel:
        qscheme = torch.per_channel_symmetric if is_symmetry else torch.per_channel_affine
    else:
        qscheme = torch.per_tensor_symmetric if is_symmetry else torch.per_tensor_affine
    kw = dict(dtype=getattr(torch, qdtype), quant_min=qmin, quant_max=qmax, qscheme=qscheme,
              reduce_range=False)
    if per_channel:
        kw["ch_axis"] = 0
    return kw


TORCH_CLASSES = {
    "MinMaxObserver": tobs.MinMaxObserver,
    "MovingAverageMinMaxObserver": tobs.MovingAverageMinMaxObserver,
    "PerChannelMinMaxObserver": tobs.PerChannelMinMaxObserver,
    "MovingAveragePerChannelMinMaxObserver": tobs.MovingAveragePerChannelMinMaxObserver,
    "HistogramObserver": tobs.HistogramObserver,
    "LSQObserver": tobs.MinMaxObserver,
    "LSQPerChannelObserver": tobs.PerChannelMinMaxObserver,
}


def run_case(cls_name, torch_kwargs, batches, lsq, dst_nbins=None):
    obs = TORCH_CLASSES[cls_name](**torch_kwargs)
    if dst_nbins is not None:
        obs.dst_nbins = dst_nbins  # razorq: 2^16 for int16/uint16 storage
    steps = []
    for x in batches:
        xt = torch.from_numpy(x.copy())
        obs(xt)
        scale, zp = obs.calculate_qparams()
        step = {
            "min": f32_list(obs.min_val.reshape(-1)),
            "max": f32_list(obs.max_val.reshape(-1)),
            "scale": f32_list(scale.reshape(-1)),
            "zero_point": [int(v) for v in zp.reshape(-1)],
            "quant_range": [int(obs.quant_min), int(obs.quant_max)],
        }
        if lsq:
            # MMRazor's LSQObserver(MixIn): tensor_norm of the latest batch
            if "PerChannel" in cls_name:
                ax = obs.ch_axis
                perm = list(range(xt.dim()))
                perm[ax], perm[0] = 0, ax
                norm = torch.flatten(xt.permute(perm), start_dim=1).abs().mean(1)
            else:
                norm = xt.abs().mean()
            lsq_scale = 2 * norm / math.sqrt(obs.quant_max)
            step["scale"] = f32_list(lsq_scale.reshape(-1))
        steps.append(step)
    return steps


# ---- NumPy reference of razorq's calibration observers (no PyTorch equivalent) ----
# Same definitions as lib/observers/calibration.c, written from its doc comment:
# a histogram of `bins` counts over [-R, R], R the smallest power of two above
# every max|x| seen so far; the range search on it; then PyTorch's own
# _calculate_qparams (a MinMax observer with the same qscheme) on that range.

def pow2_above(m):
    _, e = np.frexp(np.float32(m))
    return float(np.ldexp(1.0, int(e)))


def channel_view(x, ch_axis, per_channel):
    if not per_channel:
        return x.reshape(1, -1)
    return np.moveaxis(x, ch_axis, 0).reshape(x.shape[ch_axis], -1)


def quantile(h, r, q):
    bins = len(h)
    total = 0.0
    for v in h:
        total += float(v)
    target, cum, w = q * total, 0.0, 2.0 * r / bins
    for k in range(bins):
        nxt = cum + float(h[k])
        if h[k] > 0 and nxt >= target:
            return -r + w * (k + (target - cum) / float(h[k]))
        cum = nxt
    return r


def entropy_threshold(a, levels, w):
    nbins = len(a)
    if nbins <= levels:
        return w * nbins
    best, best_i = math.inf, nbins
    start = min(max(levels, 128), nbins)  # TensorRT's start_bin
    for i in range(start, nbins + 1):
        p = a[:i].copy()
        p[i - 1] += a[i:].sum()
        merged = i // levels
        q = np.zeros(i)
        for j in range(levels):
            start = j * merged
            stop = i if j == levels - 1 else start + merged
            chunk = a[start:stop]
            nz = p[start:stop] != 0
            if nz.sum():
                q[start:stop] = np.where(nz, chunk.sum() / nz.sum(), 0.0)
        # sequential float64 sums and glibc's log, in the C code's order, so
        # near-ties between thresholds resolve the same way
        psum = qsum = 0.0
        for k in range(i):
            psum += float(p[k])
            qsum += float(q[k])
        if psum <= 0 or qsum <= 0:
            continue
        kl = 0.0
        for k in range(i):
            if p[k] == 0:
                continue
            pk, qk = float(p[k]) / psum, float(q[k]) / qsum
            if qk == 0.0:
                kl = math.inf
                break
            kl += pk * math.log(pk / qk)
        if kl < best:
            best, best_i = kl, i
    return w * best_i


def torch_qparams(mm_kwargs, per_channel, lo, hi):
    cls = tobs.PerChannelMinMaxObserver if per_channel else tobs.MinMaxObserver
    obs = cls(**mm_kwargs)
    return obs._calculate_qparams(torch.tensor(np.asarray(lo, dtype=np.float32)),
                                  torch.tensor(np.asarray(hi, dtype=np.float32)))


def mse_error(mm_kwargs, per_channel, h, r, lo, hi):
    scale, zp = torch_qparams(mm_kwargs, per_channel, [lo], [hi])
    s, z = float(scale[0]), int(zp[0])
    qmin, qmax = mm_kwargs["quant_min"], mm_kwargs["quant_max"]
    bins = len(h)
    w = 2.0 * r / bins
    err = 0.0
    for k in range(bins):
        if h[k] == 0:
            continue
        c = -r + w * (k + 0.5)
        qv = min(max(float(np.rint(c / s)) + z, qmin), qmax)
        d = c - (qv - z) * s
        err += float(h[k]) * d * d
    return err


def calib_case(method, per_channel, mm_kwargs, batches, bins, param):
    ch_axis = mm_kwargs.get("ch_axis", 0)
    seen = []
    steps = []
    for x in batches:
        seen.append(channel_view(x, ch_axis, per_channel).astype(np.float32))
        data = np.concatenate(seen, axis=1)
        los, his = [], []
        mins, maxs = data.min(axis=1), data.max(axis=1)
        for c in range(data.shape[0]):
            v = data[c].astype(np.float64)
            r = pow2_above(max(abs(float(seen[0][c].min())), abs(float(seen[0][c].max()))))
            while max(abs(v.min()), abs(v.max())) >= r:
                r *= 2.0
            h = np.bincount(np.floor((v + r) / (2.0 * r) * bins).astype(np.int64), minlength=bins)
            lo, hi = np.float32(mins[c]), np.float32(maxs[c])
            if method == "Percentile":
                p = param / 100.0
                ql, qh = np.float32(quantile(h, r, 1.0 - p)), np.float32(quantile(h, r, p))
                lo, hi = max(lo, ql), min(hi, qh)
            elif method == "Entropy":
                half = bins // 2
                a = h[half:].astype(np.float64) + h[:half][::-1].astype(np.float64)
                if half > 1:
                    a[0] = a[1]  # TensorRT's zero-bin fix (pytorch-quantization: bins[0] = bins[1])
                levels = (mm_kwargs["quant_max"] - mm_kwargs["quant_min"] + 1) // 2
                t = entropy_threshold(a, max(levels, 1), r / half)
                lo, hi = max(lo, np.float32(-t)), min(hi, np.float32(t))
            else:
                lo0, hi0 = min(lo, np.float32(0)), max(hi, np.float32(0))
                best = math.inf
                for k in range(1, param + 1):
                    alpha = k / param
                    l, u = np.float32(alpha * float(lo0)), np.float32(alpha * float(hi0))
                    e = mse_error(mm_kwargs, per_channel, h, r, l, u)
                    if e < best:
                        best, lo, hi = e, l, u
            los.append(lo)
            his.append(hi)
        scale, zp = torch_qparams(mm_kwargs, per_channel, los, his)
        steps.append({"min": f32_list(mins), "max": f32_list(maxs), "scale": f32_list(scale.reshape(-1)),
                      "zero_point": [int(v) for v in zp.reshape(-1)]})
    return steps


def main():
    torch.manual_seed(0)
    shape, sets = make_inputs()
    cases = []

    minmax_family = ["MinMaxObserver", "MovingAverageMinMaxObserver", "PerChannelMinMaxObserver",
                     "MovingAveragePerChannelMinMaxObserver", "LSQObserver", "LSQPerChannelObserver"]
    # MMRazor-style qschemes: every dtype/bit/symmetry/symmetric-range combination
    for cls_name in minmax_family:
        for qdtype in ("qint8", "quint8"):
            for bit in (2, 3, 4, 8):
                for sym in (True, False):
                    for sym_range in (True, False):
                        input_name = "channels" if "PerChannel" in cls_name else (
                            "positive" if (bit == 3 and not sym) else "mixed")
                        kw = mmrazor_observer_kwargs(cls_name, qdtype, bit, sym, sym_range)
                        config = {"type": "mmrazor." + cls_name if cls_name.startswith("LSQ") else cls_name,
                                  "qdtype": qdtype, "bit": bit, "is_symmetry": sym,
                                  "is_symmetric_range": sym_range}
                        if "MovingAverage" in cls_name:
                            kw["averaging_constant"] = 0.25 if bit == 4 else 0.01
                            config["averaging_constant"] = kw["averaging_constant"]
                        cases.append({"config": config, "input": input_name,
                                      "steps": run_case(cls_name, kw, sets[input_name],
                                                        cls_name.startswith("LSQ"))})
    # PyTorch-style: default ranges, reduce_range, per-channel axis 1, eps
    for cls_name in minmax_family[:4]:
        pc = "PerChannel" in cls_name
        for dtype in ("qint8", "quint8"):
            for sym in (True, False):
                for reduce_range in (False, True):
                    if sym and reduce_range and dtype == "quint8":
                        continue  # PyTorch refuses it (tested separately)
                    qscheme = ("per_channel_" if pc else "per_tensor_") + ("symmetric" if sym else "affine")
                    kw = dict(dtype=getattr(torch, dtype), qscheme=getattr(torch, qscheme),
                              reduce_range=reduce_range)
                    config = {"type": "torch.ao.quantization." + cls_name, "dtype": "torch." + dtype,
                              "qscheme": "torch." + qscheme, "reduce_range": reduce_range}
                    input_name = "half" if not pc else "channels"
                    if pc:
                        kw["ch_axis"] = 1
                        config["ch_axis"] = 1
                    cases.append({"config": config, "input": input_name,
                                  "steps": run_case(cls_name, kw, sets[input_name], False)})
    # custom quant range and eps the PyTorch way
    for cls_name in ("MinMaxObserver", "PerChannelMinMaxObserver"):
        for sym in (True, False):
            pc = "PerChannel" in cls_name
            qscheme = ("per_channel_" if pc else "per_tensor_") + ("symmetric" if sym else "affine")
            kw = dict(dtype=torch.quint8, qscheme=getattr(torch, qscheme), quant_min=0, quant_max=15,
                      eps=1e-3)
            config = {"type": cls_name, "dtype": "quint8", "qscheme": qscheme, "quant_min": 0,
                      "quant_max": 15, "eps": 1e-3}
            cases.append({"config": config, "input": "channels" if pc else "small",
                          "steps": run_case(cls_name, kw, sets["channels" if pc else "small"], False)})

    # razorq's bits 9..16 (int16/uint16 storage). PyTorch's observers compute
    # these qparams too: quint8 does not limit a custom range, and qint32 takes
    # any signed range with qint8's formulas (zero point 0 when symmetric).
    for cls_name in ("MinMaxObserver", "PerChannelMinMaxObserver", "HistogramObserver"):
        pc = "PerChannel" in cls_name
        for qdtype in ("qint8", "quint8"):
            for bit in (9, 12, 16):
                for sym in (True, False):
                    if cls_name == "HistogramObserver" and bit != 12:
                        continue
                    sym_range = bit == 12
                    kw = mmrazor_observer_kwargs(cls_name, qdtype, bit, sym, sym_range)
                    if qdtype == "qint8":
                        kw["dtype"] = torch.qint32
                    config = {"type": cls_name, "qdtype": qdtype, "bit": bit, "is_symmetry": sym,
                              "is_symmetric_range": sym_range}
                    input_name = "channels" if pc else "mixed"
                    if cls_name == "HistogramObserver":
                        kw["bins"] = 128
                        config["bins"] = 128
                    cases.append({"config": config, "input": input_name,
                                  "steps": run_case(cls_name, kw, sets[input_name], False,
                                                    dst_nbins=2 ** 16)})

    # HistogramObserver: fewer cases (PyTorch's search is a slow Python loop)
    hist_configs = []
    for qdtype in ("qint8", "quint8"):
        for sym in (True, False):
            hist_configs.append(({"qdtype": qdtype, "bit": 8, "is_symmetry": sym, "is_symmetric_range": False},
                                 mmrazor_observer_kwargs("HistogramObserver", qdtype, 8, sym, False)))
    hist_configs.append(({"qdtype": "qint8", "bit": 4, "is_symmetry": True, "is_symmetric_range": True},
                         mmrazor_observer_kwargs("HistogramObserver", "qint8", 4, True, True)))
    hist_configs.append(({"dtype": "quint8", "qscheme": "per_tensor_affine", "reduce_range": True},
                         dict(dtype=torch.quint8, qscheme=torch.per_tensor_affine, reduce_range=True)))
    for cfg, kw in hist_configs:
        for input_name, bins in (("mixed", 2048), ("positive", 64), ("small", 256)):
            config = dict(cfg, type="HistogramObserver")
            kw2 = dict(kw)
            if bins != 2048:
                config["bins"] = bins
                kw2["bins"] = bins
            cases.append({"config": config, "input": input_name,
                          "steps": run_case("HistogramObserver", kw2, sets[input_name], False)})

    # edge inputs through the min/max family and the histogram
    for cls_name in ("MinMaxObserver", "MovingAverageMinMaxObserver", "PerChannelMinMaxObserver",
                     "HistogramObserver"):
        for qdtype, bit, sym, sym_range in (("qint8", 8, True, True), ("quint8", 8, False, False),
                                            ("quint8", 8, True, False), ("qint8", 3, False, False)):
            kw = mmrazor_observer_kwargs(cls_name, qdtype, bit, sym, sym_range)
            config = {"type": cls_name, "qdtype": qdtype, "bit": bit, "is_symmetry": sym,
                      "is_symmetric_range": sym_range}
            if cls_name == "HistogramObserver":
                kw["bins"] = 64
                config["bins"] = 64
            input_name = "edge_hist" if cls_name == "HistogramObserver" else "edge"
            cases.append({"config": config, "input": input_name,
                          "steps": run_case(cls_name, kw, sets[input_name], False)})

    # razorq's calibration observers against the NumPy reference
    for method, param_key, param, bins in (("Percentile", "percentile", 99.0, 256), ("Entropy", None, None, 512),
                                           ("MSE", "candidates", 40, 128)):
        for per_channel in (False, True):
            for qdtype, bit, sym, sym_range in (("qint8", 8, True, True), ("quint8", 8, False, False),
                                                ("qint8", 4, True, False)):
                cls_name = ("PerChannel" if per_channel else "") + method + "Observer"
                kw = mmrazor_observer_kwargs(cls_name, qdtype, bit, sym, sym_range)
                mm_kwargs = {k: v for k, v in kw.items() if k != "reduce_range"}
                config = {"type": cls_name, "qdtype": qdtype, "bit": bit, "is_symmetry": sym,
                          "is_symmetric_range": sym_range, "bins": bins}
                if param_key:
                    config[param_key] = param
                input_name = "channels" if per_channel else "mixed"
                cases.append({"config": config, "input": input_name, "numpy_reference": True,
                              "steps": calib_case(method, per_channel, mm_kwargs, sets[input_name], bins,
                                                  param)})

    # FixedQParamsObserver returns what it was given
    fq = tobs.FixedQParamsObserver(scale=1.0 / 256.0, zero_point=0, dtype=torch.quint8, quant_min=0,
                                   quant_max=255)
    s, z = fq.calculate_qparams()
    cases.append({"config": {"type": "FixedQParamsObserver", "scale": 1.0 / 256.0, "zero_point": 0},
                  "input": "mixed",
                  "steps": [{"scale": f32_list(s), "zero_point": [int(v) for v in z]}] * 3})

    doc = {
        "generator": "tests/golden/gen_torch.py",
        "torch": torch.__version__,
        "shape": shape,
        "inputs": {k: [f32_list(b) for b in v] for k, v in sets.items()},
        "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", OUT, len(cases), "cases", os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
