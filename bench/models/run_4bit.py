#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""4-bit PTQ accuracy of built-in configs on the digits models (issue 6's
4-bit target: top-1 at least the PyTorch FX min/max baseline of
tests/e2e/fx_baseline.json on every model).

Usage: /usr/bin/python3 bench/models/run_4bit.py [--razorq PATH] [--all | --only TEXT]

Every config is `razorq config --example BACKEND` with `bit: 4` for weights
and activations, then the changes its row names. For each model it prints:
  calib-agree  share of the 297 calibration samples on which the quantized
               model predicts what the float model predicts (label-free, so
               it may be used to choose a config);
  top-1        test accuracy (500 samples) of razorq's fake-quant evaluation;
  test-agree   share of test samples predicted as the float model does.
Without --all: the rows doc/benchmarks-models.md tabulates. With --all: every
combination of backend (openvino, academic, native), weight observer
(per-channel min/max or MSE), activation observer, symmetric/affine
activations, calibrating with fake-quants on/off and bias correction on/off
(288 configs, 5 to 20 minutes), then the best rows by calibration agreement.
"""
import argparse
import itertools
import json
import os
import subprocess
import tempfile

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DATA = os.path.join(ROOT, "tests", "data")
MODELS = ["digits_cnn", "digits_mlp", "digits_dw"]
CALIB_X = os.path.join(DATA, "digits_calib_x.npy")
TEST_X, TEST_Y = os.path.join(DATA, "digits_test_x.npy"), os.path.join(DATA, "digits_test_y.npy")

A_OBSERVERS = {"MovingAverageMinMax": None, "MinMax": "MinMaxObserver", "Histogram": "HistogramObserver",
               "Entropy": "EntropyObserver", "MSE": "MSEObserver", "Percentile": "PercentileObserver"}
W_OBSERVERS = {"PerChannelMinMax": None, "PerChannelMSE": "PerChannelMSEObserver"}
# The nodes FX's patterns do not match in the models' PyTorch source (see
# tests/e2e/test_fx_parity.py): with them and the FX qconfig, the native
# backend quantizes as PyTorch FX does.
FX_UNMATCHED = {"digits_cnn": ["/b1/Relu", "/b2/Relu"], "digits_mlp": ["/net/net.0/Flatten"], "digits_dw": []}

# (label, backend, changes) for the documented table.
ROWS = [
    ("example (symmetric activations)", "openvino", {}),
    ("affine activations", "openvino", {"affine": True}),
    ("bias correction", "openvino", {"bc": True}),
    ("affine + bias correction (recommended)", "openvino", {"affine": True, "bc": True}),
    ("MSE activations", "openvino", {"a": "MSE"}),
    ("MSE activations + bias correction", "openvino", {"a": "MSE", "bc": True}),
    ("affine + MSE activations + bias correction", "openvino", {"affine": True, "a": "MSE", "bc": True}),
    ("affine + PerChannelMSE weights + bias correction", "openvino",
     {"affine": True, "w": "PerChannelMSE", "bc": True}),
    ("affine + PerChannelMSE w + Percentile a + bias correction", "openvino",
     {"affine": True, "w": "PerChannelMSE", "a": "Percentile", "bc": True}),
    ("academic example (affine)", "academic", {}),
    ("academic + bias correction", "academic", {"bc": True}),
    ("native example", "native", {}),
    ("native + bias correction", "native", {"bc": True}),
    ("native, FX's qconfig and placement (= FX)", "native", {"fx": True}),
    ("affine + AdaRound", "openvino", {"affine": True, "adaround": True}),
    ("affine + AdaRound + bias correction", "openvino", {"affine": True, "adaround": True, "bc": True}),
    ("affine + PerChannelMSE w + AdaRound + bias correction", "openvino",
     {"affine": True, "w": "PerChannelMSE", "adaround": True, "bc": True}),
]


class Razorq:
    def __init__(self, path, tmp):
        self.path, self.tmp = path, tmp

    def __call__(self, *args):
        done = subprocess.run([self.path, *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip())
        return done.stdout

    def config(self, backend, changes, model):
        cfg = json.loads(self("config", "--example", backend))
        g = cfg["global_qconfig"]
        for side in ("w_qscheme", "a_qscheme"):
            g[side]["bit"] = 4
        if changes.get("a") and A_OBSERVERS[changes["a"]]:
            g["a_observer"] = {"type": "mmrazor." + A_OBSERVERS[changes["a"]]}
            g["a_qscheme"].pop("averaging_constant", None)
        if changes.get("w") and W_OBSERVERS[changes["w"]]:
            g["w_observer"] = {"type": "mmrazor." + W_OBSERVERS[changes["w"]]}
        if changes.get("affine"):
            g["a_qscheme"]["is_symmetry"] = False
        if changes.get("fx"):
            g["a_qscheme"]["is_symmetry"] = True
            cfg["quantizer"]["tracer"]["unmatched_nodes"] = FX_UNMATCHED[model]
        if "fq" in changes:
            cfg["calibrate_with_fake_quant"] = changes["fq"]
        if changes.get("bc"):
            cfg["bias_correction"] = True
        if changes.get("adaround"):  # AdaRound's default settings (10000 iterations)
            g["w_fake_quant"] = {"type": "mmrazor.AdaRoundFakeQuantize"}
        path = os.path.join(self.tmp, "config.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        return path

    def predictions(self, model, data, config=None):
        logits = os.path.join(self.tmp, "logits.npy")
        if config is None:
            self("run", model, "-i", data, "-o", logits)
        else:
            self("test", model, "--data", data, "--labels", self.dummy_labels(data), "--config", config,
                 "--calib", CALIB_X, "--quiet", "--json", "--save-logits", logits)
        return np.load(logits).argmax(1)

    def dummy_labels(self, data):
        path = os.path.join(self.tmp, os.path.basename(data) + ".labels.npy")
        if not os.path.exists(path):
            np.save(path, np.zeros(len(np.load(data)), np.int64))
        return path


def evaluate(rq, floats, backend, changes):
    labels = np.load(TEST_Y)
    out = []
    for m in MODELS:
        config = rq.config(backend, changes, m)
        model = os.path.join(DATA, f"{m}.onnx")
        calib = rq.predictions(model, CALIB_X, config)
        test = rq.predictions(model, TEST_X, config)
        out.append(((calib == floats[m][0]).mean(), (test == labels).mean(), (test == floats[m][1]).mean()))
    return out


def line(label, result):
    cells = " | ".join(f"{c:.3f} | {t:.3f} | {a:.3f}" for c, t, a in result)
    return f"| {label} | {cells} |"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--razorq", default=os.path.join(ROOT, "build", "tools", "razorq"))
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--only", metavar="TEXT", help="only the documented rows whose label contains TEXT")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rq = Razorq(args.razorq, tmp)
        floats = {m: (rq.predictions(os.path.join(DATA, f"{m}.onnx"), CALIB_X),
                      rq.predictions(os.path.join(DATA, f"{m}.onnx"), TEST_X)) for m in MODELS}
        labels = np.load(TEST_Y)
        print("| config | " + " | ".join(f"{m} calib-agree | top-1 | test-agree" for m in MODELS) + " |")
        print("|---" * (1 + 3 * len(MODELS)) + "|")
        print(line("float", [(1.0, (floats[m][1] == labels).mean(), 1.0) for m in MODELS]))
        if not args.all:
            for label, backend, changes in ROWS:
                if args.only is None or args.only in label:
                    print(line(label, evaluate(rq, floats, backend, changes)), flush=True)
            return
        results = []
        for backend, w, a, affine, fq, bc in itertools.product(
                ["openvino", "academic", "native"], W_OBSERVERS, A_OBSERVERS, [False, True],
                [True, False], [False, True]):
            label = f"{backend} w={w} a={a}{' affine' if affine else ''}{'' if fq else ' fq-off'}{' bc' if bc else ''}"
            try:
                result = evaluate(rq, floats, backend, {"w": w, "a": a, "affine": affine, "fq": fq, "bc": bc})
            except RuntimeError as e:  # a combination the backend refuses
                print(f"{label}: {e}", flush=True)
                continue
            results.append((label, result))
            print(line(label, result), flush=True)
        print(f"\n{len(results)} configs; best by calibration agreement summed over the models:")
        for label, result in sorted(results, key=lambda r: -sum(c for c, _, _ in r[1]))[:10]:
            print(line(label, result))
        top = max(r[1][0][1] for r in results)
        print(f"highest digits_cnn top-1: {top:.3f} in", [lb for lb, r in results if r[0][1] == top])


if __name__ == "__main__":
    main()
