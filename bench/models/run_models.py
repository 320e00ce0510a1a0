#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Executor speed on whole networks: razorq vs ONNX Runtime vs PyTorch eager.

Usage: /usr/bin/python3 bench/models/run_models.py MODELS_DIR
           [--razorq PATH] [--batch 8] [--iters 5] [--warmup 1] [--rounds 3]
           [--models resnet18,mobilenet_v2] [--json OUT.json]

MODELS_DIR holds the ONNX files of export_models.py (they are exported there
first when missing). In one run, for each model, with one thread everywhere
and a batch of random float32 224x224 images:
  razorq       `razorq bench --json` (rq_graph_run, --threads 1)
  ONNX Runtime ort_bench.js under node (onnxruntime-node, CPU provider,
               intraOpNumThreads 1, all graph optimizations)
  PyTorch      1.13 eager, torch.set_num_threads(1), torch.no_grad(), the
               same torchvision module with the same weights
The engines take turns for --rounds rounds of --warmup + --iters runs each,
so load from other processes hits them alike; each reports its fastest run
(the least disturbed one), both in wall time and in the process's CPU time
(all threads): with one thread per engine on a machine busy with other work,
CPU time is the fairer measure (wall time counts the waits for a core).
Prints tables of ms per batch and the ratios razorq/ORT and razorq/PyTorch
against issue 5's targets (within 2x of ORT, faster than PyTorch). Also checks once that razorq's and PyTorch's outputs
agree, so the timed work is the right work.
"""
import os

# PyTorch runs in this process: its BLAS/OpenMP pools read these when torch
# loads, and torch.set_num_threads(1) alone left a second OpenBLAS thread
# busy (process CPU time above wall time), so set them before the import.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import json
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import export_models  # noqa: E402

# One thread for every library any engine might use.
ONE_THREAD_ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


def time_razorq(razorq, model, batch, iters, warmup):
    out = subprocess.run([razorq, "bench", model, "--batch", str(batch), "--iters", str(iters),
                          "--warmup", str(warmup), "--threads", "1", "--json"],
                         check=True, capture_output=True, text=True, env=ONE_THREAD_ENV)
    r = json.loads(out.stdout)
    return r["min_ms"], r["cpu_min_ms"]


def time_ort(model, shape, iters, warmup):
    out = subprocess.run(["node", os.path.join(HERE, "ort_bench.js"), model, ",".join(map(str, shape)),
                          str(iters), str(warmup)],
                         check=True, capture_output=True, text=True, env=ONE_THREAD_ENV)
    r = json.loads(out.stdout)
    return r["min_ms"], r["cpu_min_ms"]


def time_torch(module, x, iters, warmup):
    wall, cpu = [], []
    with torch.no_grad():
        for k in range(warmup + iters):
            start, cpu_start = time.perf_counter(), time.process_time()
            module(x)
            if k >= warmup:
                wall.append((time.perf_counter() - start) * 1e3)
                cpu.append((time.process_time() - cpu_start) * 1e3)
    return min(wall), min(cpu)


def max_abs_diff_vs_torch(razorq, model_path, module, x):
    """razorq run on x vs the PyTorch module on x."""
    with tempfile.TemporaryDirectory() as tmp:
        np.save(os.path.join(tmp, "x.npy"), x.numpy())
        subprocess.run([razorq, "run", model_path, "--input", os.path.join(tmp, "x.npy"),
                        "-o", os.path.join(tmp, "y.npy")], check=True, env=ONE_THREAD_ENV)
        ours = np.load(os.path.join(tmp, "y.npy"))
    with torch.no_grad():
        theirs = module(x).numpy()
    return float(np.abs(ours - theirs).max()), float(np.abs(theirs).max())


def main():
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("models_dir")
    ap.add_argument("--razorq", default=os.path.join(ROOT, "build", "tools", "razorq"))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--iters", type=int, default=5, help="timed runs per round")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--models", default=",".join(export_models.MODELS))
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    if min(args.batch, args.iters, args.rounds) < 1 or args.warmup < 0:
        ap.error("--batch, --iters and --rounds must be positive, --warmup non-negative")
    names = args.models.split(",")
    for name in names:
        if name not in export_models.MODELS:
            ap.error(f"unknown model {name!r} (known: {', '.join(export_models.MODELS)})")
    if not os.access(args.razorq, os.X_OK):
        ap.error(f"{args.razorq} is not an executable (build razorq or pass --razorq)")
    os.makedirs(args.models_dir, exist_ok=True)
    torch.set_num_threads(1)

    shape = [args.batch, 3, 224, 224]
    results = []
    for name in names:
        path = os.path.join(args.models_dir, f"{name}.onnx")
        if not os.path.exists(path):
            export_models.export(name, args.models_dir)
        module = export_models.build(name)
        x = torch.from_numpy(np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32))
        diff, scale = max_abs_diff_vs_torch(args.razorq, path, module, x)
        timers = {"razorq": lambda: time_razorq(args.razorq, path, args.batch, args.iters, args.warmup),
                  "ort": lambda: time_ort(path, shape, args.iters, args.warmup),
                  "torch": lambda: time_torch(module, x, args.iters, args.warmup)}
        wall = {k: float("inf") for k in timers}
        cpu = {k: float("inf") for k in timers}
        for r in range(args.rounds):
            for engine, timer in timers.items():
                w, c = timer()
                wall[engine], cpu[engine] = min(wall[engine], w), min(cpu[engine], c)
            print(f"{name} round {r + 1}/{args.rounds}, best so far (wall/CPU ms): "
                  + ", ".join(f"{k} {wall[k]:.1f}/{cpu[k]:.1f}" for k in timers), file=sys.stderr)
        results.append({"model": name, "batch": args.batch, "max_abs_diff_vs_torch": diff, "max_abs_output": scale,
                        "wall_ms": wall, "cpu_ms": cpu})

    for measure in ("cpu", "wall"):
        what = "CPU time of the process" if measure == "cpu" else "wall time"
        print(f"\n{what}, ms per batch of {args.batch}x3x224x224, 1 thread, "
              f"best of {args.rounds} rounds x {args.iters} runs")
        print(f"{'model':<14}{'razorq':>10}{'ORT':>10}{'PyTorch':>10}{'razorq/ORT':>14}{'razorq/PyTorch':>18}")
        for r in results:
            t = r[f"{measure}_ms"]
            vs_ort, vs_torch = t["razorq"] / t["ort"], t["razorq"] / t["torch"]
            print(f"{r['model']:<14}{t['razorq']:>10.1f}{t['ort']:>10.1f}{t['torch']:>10.1f}"
                  f"{vs_ort:>9.2f} {'ok' if vs_ort <= 2 else 'MISS':<4}"
                  f"{vs_torch:>13.2f} {'ok' if vs_torch < 1 else 'MISS':<4}")
    print("\ntargets (issue 5): razorq/ORT <= 2 and razorq/PyTorch < 1")
    print("razorq vs PyTorch outputs, max abs diff (max abs output): "
          + ", ".join(f"{r['model']} {r['max_abs_diff_vs_torch']:.1e} ({r['max_abs_output']:.1e})" for r in results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
