#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""razorq's native backend against PyTorch 1.13 FX on torchvision networks:
the same fake-quant places and how close the qparams come.

Usage: /usr/bin/python3 bench/models/fx_parity.py MODELS_DIR [--samples N] [--batch B]

MODELS_DIR holds export_models.py's resnet18.onnx and mobilenet_v2.onnx; the
same torchvision modules with the same seeded weights (export_models.build)
are prepared with prepare_qat_fx (native BackendConfig) and the FX
baseline's 8-bit qconfig (per-channel min/max qint8 weights on the
symmetric range, moving-average min/max symmetric quint8 activations), and
both sides calibrate on the same N standard-normal images in batches of B
with fake-quants on. Printed per model: the edges carrying an activation
fake-quant (FX: its fake-quant call sites; razorq: the export's activation
QuantizeLinear nodes), the distinct activation qparams, and, when their
razorq's scales, how many equal the nearest FX scale (relative difference
<= 1e-6) and the largest relative difference to it -- once calibrating with fake-quants on
(MMRazor's PTQLoop), once with observers only. The small tests in tests/e2e/test_fx_parity.py
hold razorq to FX exactly; on these networks float rounding differs between
PyTorch's convolutions and razorq's (OpenBLAS), some values round to the
neighbouring level, and with fake-quants on that moves the extremes later
observers see a little (with observers only it cannot).
Needs Debian's python3-torchvision. A benchmark script, not a test.
"""
import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch.ao.quantization import (FakeQuantize, MovingAverageMinMaxObserver, PerChannelMinMaxObserver, QConfig,
                                   QConfigMapping)
from torch.ao.quantization.quantize_fx import prepare_qat_fx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from export_models import MODELS, build  # noqa: E402

warnings.filterwarnings("ignore")
ROOT = os.path.join(HERE, "..", "..")
QCONFIG = QConfig(
    weight=FakeQuantize.with_args(observer=PerChannelMinMaxObserver, quant_min=-127, quant_max=127,
                                  dtype=torch.qint8, qscheme=torch.per_channel_symmetric),
    activation=FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255,
                                      dtype=torch.quint8, qscheme=torch.per_tensor_symmetric,
                                      averaging_constant=0.1))


def fx_places(name, x, batch, fake_quant):
    model = prepare_qat_fx(build(name).train(), QConfigMapping().set_global(QCONFIG),
                           example_inputs=(torch.from_numpy(x[:1]),))
    model.eval()
    if not fake_quant:
        model.apply(torch.ao.quantization.disable_fake_quant)
    with torch.no_grad():
        for i in range(0, len(x), batch):
            model(torch.from_numpy(x[i:i + batch]))
    sites = sum(1 for node in model.graph.nodes
                if node.op == "call_module" and isinstance(model.get_submodule(node.target), FakeQuantize))
    distinct = {(float(m.scale), int(m.zero_point)) for n, m in model.named_modules()
                if isinstance(m, FakeQuantize) and not n.endswith("weight_fake_quant")}
    return sites, sorted(distinct)


def razorq_places(cli, model_path, calib, batch, fake_quant, tmp):
    config = json.loads(subprocess.run([cli, "config", "--example", "native"], check=True, capture_output=True,
                                       text=True).stdout)
    config["global_qconfig"]["a_qscheme"]["is_symmetry"] = True
    config["calibrate_batch_size"] = batch
    config["calibrate_with_fake_quant"] = fake_quant
    config_path, exported = os.path.join(tmp, "config.json"), os.path.join(tmp, "q.onnx")
    with open(config_path, "w") as f:
        json.dump(config, f)
    subprocess.run([cli, "ptq", model_path, "--config", config_path, "--calib", calib, "-o", exported, "-q"],
                   check=True)
    model = onnx.load(exported)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    sites, distinct = 0, set()
    for node in model.graph.node:
        if node.op_type == "QuantizeLinear" and node.input[0] not in inits:
            sites += 1
            distinct.add((float(inits[node.input[1]]), int(inits[node.input[2]])))
    return sites, sorted(distinct)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models_dir")
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--razorq", default=os.path.join(ROOT, "build", "tools", "razorq"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    x = np.random.default_rng(0).standard_normal((args.samples, 3, 224, 224)).astype(np.float32)
    print("| model | quantized edges FX / razorq | distinct qparams FX / razorq | razorq scales equal to FX's | "
          "largest relative difference |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        calib = os.path.join(tmp, "calib.npy")
        np.save(calib, x)
        for name, fake_quant in itertools.product(MODELS, [True, False]):
            fx_sites, fx = fx_places(name, x, args.batch, fake_quant)
            rq_sites, rq = razorq_places(args.razorq, os.path.join(args.models_dir, f"{name}.onnx"), calib,
                                         args.batch, fake_quant, tmp)
            # Each razorq scale against the nearest FX one.
            a, b = np.array([s for s, _ in fx]), np.array([s for s, _ in rq])
            rel = np.min(np.abs(b[:, None] - a[None, :]) / a[None, :], axis=1)
            equal, largest = f"{(rel <= 1e-6).sum()} of {len(b)}", f"{rel.max():.1e}"
            label = name + ("" if fake_quant else ", observers only")
            print(f"| {label} | {fx_sites} / {rq_sites} | {len(fx)} / {len(rq)} | {equal} | {largest} |",
                  flush=True)


if __name__ == "__main__":
    main()
