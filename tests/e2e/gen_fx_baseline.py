#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""PyTorch 1.13 FX PTQ baselines for the end-to-end tests (the oracle razorq's
PTQ accuracy is compared against).

Usage: /usr/bin/python3 tests/e2e/gen_fx_baseline.py SHARED_DATA_DIR
(SHARED_DATA_DIR holds the digits fixtures, their .pt state dicts and
make_fixtures.py, which needs python3-sklearn.) Writes fx_baseline.json
beside this script: float and FX-PTQ top-1 per model, at 8 and 4 bits, and
the share of test samples on which the FX-PTQ model predicts the class the
float model predicts (fx_ptq_<b>bit_float_agreement). Also writes
fx_parity.json: per model and bit width, what the FX-prepared model holds
after calibration -- the number of edges carrying an activation fake-quant,
the scale and zero point of every distinct activation fake-quant (a shared
one counted once) and of every weight fake-quant (per channel) -- and its
prediction for every test sample, so razorq's native
backend can be checked against FX's placement and numbers, not just its
accuracy (test_fx_parity.py).

The procedure is the one in the shared torch_ptq_baseline.py: MMRazor's
OpenVINO global_qconfig (weights per-channel min/max qint8 symmetric,
[-(2^(b-1)-1), 2^(b-1)-1]; activations moving-average min/max quint8
symmetric [0, 2^b-1], averaging_constant 0.1), prepare_qat_fx with the native
backend config, calibration in batches of 32 with fake-quants observing
(MMRazor's PTQLoop), observers off, top-1 on the test set.
"""
import json
import os
import sys
import warnings

import numpy as np
import torch
from torch.ao.quantization import (FakeQuantize, MovingAverageMinMaxObserver, PerChannelMinMaxObserver, QConfig,
                                   QConfigMapping)
from torch.ao.quantization.quantize_fx import prepare_qat_fx

warnings.filterwarnings("ignore")
torch.set_num_threads(1)


def baseline(models, fix, name, bits):
    m = models[name]()
    m.load_state_dict(torch.load(os.path.join(fix, f"{name}.pt")))
    m.eval()
    wq = 2 ** (bits - 1) - 1
    qc = QConfig(
        weight=FakeQuantize.with_args(observer=PerChannelMinMaxObserver, quant_min=-wq, quant_max=wq,
                                      dtype=torch.qint8, qscheme=torch.per_channel_symmetric),
        activation=FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, quant_min=0,
                                          quant_max=2 ** bits - 1, dtype=torch.quint8,
                                          qscheme=torch.per_tensor_symmetric, averaging_constant=0.1))
    cx = torch.from_numpy(np.load(os.path.join(fix, "digits_calib_x.npy")))
    tx = torch.from_numpy(np.load(os.path.join(fix, "digits_test_x.npy")))
    ty = np.load(os.path.join(fix, "digits_test_y.npy"))
    with torch.no_grad():
        float_pred = m(tx).argmax(1).numpy()
    float_acc = float((float_pred == ty).mean())
    p = prepare_qat_fx(m.train(), QConfigMapping().set_global(qc), example_inputs=(cx[:1],))
    p.eval()
    with torch.no_grad():
        for i in range(0, len(cx), 32):
            p(cx[i:i + 32])
    p.apply(torch.ao.quantization.disable_observer)
    with torch.no_grad():
        q_pred = p(tx).argmax(1).numpy()
    activations, weights = [], []
    for module_name, module in p.named_modules():  # each shared module once
        if isinstance(module, FakeQuantize):
            qparams = {"scale": module.scale.tolist(), "zero_point": module.zero_point.tolist()}
            (weights if module_name.endswith("weight_fake_quant") else activations).append(qparams)
    sites = sum(1 for node in p.graph.nodes  # edges an activation fake-quant (shared or not) sits on
                if node.op == "call_module" and isinstance(p.get_submodule(node.target), FakeQuantize))
    parity = {"activation_sites": sites, "activations": sorted(activations, key=lambda q: q["scale"]),
              "weights": sorted(weights, key=lambda q: (len(q["scale"]), q["scale"])),
              "predictions": q_pred.tolist()}
    return float_acc, float((q_pred == ty).mean()), float((q_pred == float_pred).mean()), parity


def main():
    fix = sys.argv[1]
    sys.path.insert(0, fix)
    from make_fixtures import MODELS  # noqa: E402  (the shared fixtures' model definitions)
    out, parity = {}, {}
    for name in ("digits_cnn", "digits_mlp", "digits_dw"):
        for bits in (8, 4):
            float_acc, q_acc, agreement, parity[f"{name}_{bits}bit"] = baseline(MODELS, fix, name, bits)
            out.setdefault(name, {"float": float_acc})[f"fx_ptq_{bits}bit"] = q_acc
            out[name][f"fx_ptq_{bits}bit_float_agreement"] = agreement
            print(f"{name} bits={bits} float={float_acc:.4f} fx_ptq={q_acc:.4f} agreement={agreement:.4f}")
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "fx_baseline.json"), "w") as f:
        json.dump(out, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(here, "fx_parity.json"), "w") as f:
        json.dump(parity, f, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
