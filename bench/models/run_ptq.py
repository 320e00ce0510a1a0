#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Post-training quantization cost: time and calibration memory.

Usage: /usr/bin/python3 bench/models/run_ptq.py MODELS_DIR
           [--razorq PATH] [--rounds 3] [--calib-batch 8] [--skip-resnet]

Three measurements, all single-threaded (OPENBLAS/OMP threads 1,
torch.set_num_threads(1)), each the best of --rounds fresh runs, reported as
wall time and as the CPU time of the process (user + system; fairer when
other work shares the machine):

1. ResNet-18 (MODELS_DIR/resnet18.onnx from export_models.py, exported when
   missing), 32 random 224x224 calibration images in --calib-batch batches
   (default 8, so 4 steps), `razorq config --example openvino`:
   - `razorq ptq` end to end (load, prepare, calibrate, convert, write the QDQ
     ONNX), and `razorq ptq --from-table` (the same without calibrating), so
     the difference is what calibration itself costs;
   - PyTorch 1.13 FX: prepare_qat_fx with the OpenVINO-like qconfig of
     tests/e2e/gen_fx_baseline.py on the same torchvision module and weights,
     then the same batches through the fake-quantized model under no_grad.
2. `razorq ptq` wall time on each digits model of tests/data with
   digits_calib_x.npy and the openvino example config (its calibrate_steps 32
   x calibrate_batch_size 32, i.e. every one of the 297 samples).
3. Calibration memory: peak RSS (GNU time's %M of each fresh `razorq ptq`)
   on digits_cnn with 1, 32 and 512 batches of 32 samples, all read from the same
   16384-sample .npy (digits_calib_x.npy tiled with small jitter), so the
   input file is the same size in every run and any growth would be
   calibration state.
"""
import os

# PyTorch runs in this process: its BLAS/OpenMP pools read these when torch
# loads, and torch.set_num_threads(1) alone left a second OpenBLAS thread
# busy (process CPU time above wall time), so set them before the import.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import export_models  # noqa: E402

ONE_THREAD_ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
DIGITS = ("digits_cnn", "digits_mlp", "digits_dw")


def run_child(cmd):
    """Runs cmd to completion; returns (wall s, CPU s, peak RSS KiB) of that process alone.

    GNU time reports the peak RSS: a child forked straight from this Python
    process would report the parent's (torch-sized) peak as its own, since
    Linux keeps the high-water mark across exec. The CPU time comes from
    wait4 (microseconds, which covers time's reaped child; time's own is
    negligible), not from time's 10 ms resolution."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", report.name] + cmd, env=ONE_THREAD_ENV,
                                stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.read()}")
        rss = int(report.read().split()[-1])
    return wall, usage.ru_utime + usage.ru_stime, rss


def best_of(rounds, measure):
    """Element-wise minimum over rounds of a tuple-valued measurement."""
    results = [measure() for _ in range(rounds)]
    return tuple(min(r[k] for r in results) for k in range(len(results[0])))


def fx_qconfig():
    # gen_fx_baseline.py's qconfig at 8 bits: MMRazor's OpenVINO global_qconfig.
    from torch.ao.quantization import FakeQuantize, MovingAverageMinMaxObserver, PerChannelMinMaxObserver, QConfig
    return QConfig(
        weight=FakeQuantize.with_args(observer=PerChannelMinMaxObserver, quant_min=-127, quant_max=127,
                                      dtype=torch.qint8, qscheme=torch.per_channel_symmetric),
        activation=FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255,
                                          dtype=torch.quint8, qscheme=torch.per_tensor_symmetric,
                                          averaging_constant=0.1))


def time_fx(calib, batch):
    """PyTorch FX PTQ on ResNet-18: (prepare + calibrate, calibrate only) as wall and CPU seconds."""
    from torch.ao.quantization import QConfigMapping
    from torch.ao.quantization.quantize_fx import prepare_qat_fx
    model = export_models.build("resnet18")
    x = torch.from_numpy(calib)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    prepared = prepare_qat_fx(model.train(), QConfigMapping().set_global(fx_qconfig()), example_inputs=(x[:1],))
    prepared.eval()
    wall1, cpu1 = time.perf_counter(), time.process_time()
    with torch.no_grad():
        for i in range(0, len(x), batch):
            prepared(x[i:i + batch])
    wall2, cpu2 = time.perf_counter(), time.process_time()
    return wall2 - wall0, cpu2 - cpu0, wall2 - wall1, cpu2 - cpu1


def resnet_ptq(args, tmp, config):
    model = os.path.join(args.models_dir, "resnet18.onnx")
    if not os.path.exists(model):
        export_models.export("resnet18", args.models_dir)
    calib = np.random.default_rng(0).uniform(-1, 1, (32, 3, 224, 224)).astype(np.float32)
    calib_path = os.path.join(tmp, "resnet18_calib.npy")
    np.save(calib_path, calib)
    steps = 32 // args.calib_batch
    out, table = os.path.join(tmp, "resnet18_q.onnx"), os.path.join(tmp, "resnet18.rqcal")
    ptq = [args.razorq, "ptq", model, "--config", config, "--calib", calib_path, "--steps", str(steps),
           "--batch", str(args.calib_batch), "-o", out, "--calib-table", table, "-q"]
    from_table = [args.razorq, "ptq", model, "--config", config, "--from-table", table, "-o", out, "-q"]
    full, no_calib, fx = [float("inf")] * 3, [float("inf")] * 2, [float("inf")] * 4
    # The three take turns, so load from other work hits them alike.
    for r in range(args.rounds):
        full = [min(a, b) for a, b in zip(full, run_child(ptq))]
        no_calib = [min(a, b) for a, b in zip(no_calib, run_child(from_table)[:2])]
        fx = [min(a, b) for a, b in zip(fx, time_fx(calib, args.calib_batch))]
        print(f"resnet18 PTQ round {r + 1}/{args.rounds}: razorq {full[0]:.2f} s, FX {fx[0]:.2f} s (wall, best so far)",
              file=sys.stderr)
    print(f"\nResNet-18 PTQ, 32 random 224x224 images = {steps} steps x batch {args.calib_batch}, openvino config, "
          f"1 thread, best of {args.rounds}")
    print(f"{'':<52}{'wall s':>9}{'CPU s':>9}")
    rows = [("razorq ptq, end to end (load..write QDQ ONNX)", full[0], full[1]),
            ("razorq ptq --from-table (all but calibration)", no_calib[0], no_calib[1]),
            ("razorq calibration (difference)", full[0] - no_calib[0], full[1] - no_calib[1]),
            ("PyTorch FX prepare_qat_fx + calibration", fx[0], fx[1]),
            ("PyTorch FX calibration only", fx[2], fx[3])]
    for label, wall, cpu in rows:
        print(f"{label:<52}{wall:>9.2f}{cpu:>9.2f}")
    for what, k in (("wall", 0), ("CPU", 1)):
        ratio = full[k] / fx[k]
        print(f"razorq end to end / FX prepare+calibrate ({what}): {ratio:.2f} "
              f"({'ok' if ratio < 1 else 'MISS'}: target < 1)")


def digits_ptq(args, tmp, config):
    print(f"\nrazorq ptq on the digits models (tests/data), openvino config, digits_calib_x.npy "
          f"(297 samples, batches of 32), best of {args.rounds}")
    print(f"{'model':<14}{'wall s':>9}{'CPU s':>9}")
    calib = os.path.join(ROOT, "tests", "data", "digits_calib_x.npy")
    for name in DIGITS:
        cmd = [args.razorq, "ptq", os.path.join(ROOT, "tests", "data", f"{name}.onnx"), "--config", config,
               "--calib", calib, "-o", os.path.join(tmp, f"{name}_q.onnx"), "-q"]
        wall, cpu, _ = best_of(args.rounds, lambda: run_child(cmd))
        print(f"{name:<14}{wall:>9.3f}{cpu:>9.3f}")


def calibration_memory(args, tmp, config):
    base = np.load(os.path.join(ROOT, "tests", "data", "digits_calib_x.npy"))
    rng = np.random.default_rng(0)
    n = 512 * 32
    reps = -(-n // len(base))
    many = np.tile(base, (reps, 1, 1, 1))[:n]
    many = np.clip(many + rng.normal(0, 0.02, many.shape), 0, 1).astype(np.float32)
    path = os.path.join(tmp, "digits_calib_16384.npy")
    np.save(path, many)
    model = os.path.join(ROOT, "tests", "data", "digits_cnn.onnx")
    print(f"\nCalibration memory: razorq ptq on digits_cnn, batches of 32 from one {many.nbytes / 2**20:.1f} MiB "
          f"file of {n} samples (the CLI reads the whole file), peak RSS of the process")
    print(f"{'batches':>8}{'samples':>9}{'peak RSS MiB':>14}{'wall s':>9}{'CPU s':>9}")
    for steps in (1, 32, 512):
        cmd = [args.razorq, "ptq", model, "--config", config, "--calib", path, "--steps", str(steps),
               "--batch", "32", "-o", os.path.join(tmp, "digits_cnn_q.onnx"), "-q"]
        runs = [run_child(cmd) for _ in range(args.rounds)]
        rss = max(r[2] for r in runs) / 1024  # the most any run needed
        print(f"{steps:>8}{steps * 32:>9}{rss:>14.1f}{min(r[0] for r in runs):>9.3f}{min(r[1] for r in runs):>9.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("models_dir")
    ap.add_argument("--razorq", default=os.path.join(ROOT, "build", "tools", "razorq"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calib-batch", type=int, default=8, choices=(1, 2, 4, 8, 16, 32),
                    help="ResNet-18 calibration batch (32 images in all)")
    ap.add_argument("--skip-resnet", action="store_true", help="only the digits measurements")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be positive")
    if not os.access(args.razorq, os.X_OK):
        ap.error(f"{args.razorq} is not an executable (build razorq or pass --razorq)")
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    os.makedirs(args.models_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="razorq-bench-ptq-") as tmp:
        config = os.path.join(tmp, "openvino.json")
        with open(config, "w") as f:
            subprocess.run([args.razorq, "config", "--example", "openvino"], stdout=f, check=True)
        if not args.skip_resnet:
            resnet_ptq(args, tmp, config)
        digits_ptq(args, tmp, config)
        calibration_memory(args, tmp, config)


if __name__ == "__main__":
    main()
