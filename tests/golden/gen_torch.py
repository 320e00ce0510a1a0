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
