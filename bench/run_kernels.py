#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Times razorq's kernels (every ISA), a plain AVX2 read loop, NumPy and the
PyTorch 1.13 operation or observer each kernel replaces -- in one process, on
the same arrays, single-threaded -- and prints GB/s and ratios.

    /usr/bin/python3 bench/run_kernels.py --build build-<you> [--reps 5] [--markdown]

razorq's side runs through build/bench/librqbench.so (bench_kernels.c), which
calls the internal kernel rows directly. GB/s = bytes of the input tensor /
best time. Each figure is the best of --reps runs, timed in thread CPU time by default
(--clock wall for wall-clock time): on a shared machine, wall-clock time
mostly measures how long the thread waited to be scheduled.
Benchmarks are not tests: nothing here asserts a timing.
"""
import argparse
import ctypes
import os
import platform
import subprocess
import sys
import time

import numpy as np
import torch
from torch.ao.quantization import (FakeQuantize, FusedMovingAvgObsFakeQuantize, HistogramObserver,
                                   PerChannelMinMaxObserver)

ISAS = ["scalar", "sse41", "avx2"]


CLOCK = time.thread_time  # set from --clock in main()


def best_of(fn, reps):
    best = float("inf")
    for _ in range(reps):
        t0 = CLOCK()
        fn()
        best = min(best, CLOCK() - t0)
    return best


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="meson build directory (holds bench/librqbench.so)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions per measurement (best is kept)")
    ap.add_argument("--torch-reps", type=int, default=3, help="repetitions for the slow PyTorch observers")
    ap.add_argument("--numel", type=int, default=1 << 24, help="elements of the flat tensor")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--only", metavar="TEXT", default=None,
                    help="time only the rows whose name contains TEXT (e.g. histogram, min/max)")
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                    help="thread CPU time (default; robust on a shared machine) or wall-clock time")
    args = ap.parse_args()
    global CLOCK
    CLOCK = time.thread_time if args.clock == "cpu" else time.perf_counter

    torch.set_num_threads(1)
    lib = ctypes.CDLL(os.path.join(args.build, "bench", "librqbench.so"))
    os.environ.setdefault("RAZORQ_LIBRARY", os.path.join(os.path.abspath(args.build), "lib", "librazorq.so.0"))
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bindings", "python"))
    global razorq
    import razorq
    lib.rqb_time.restype = ctypes.c_double
    lib.rqb_time.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p,
                             ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                             ctypes.c_int64, ctypes.c_int64, ctypes.c_int,
                             ctypes.POINTER(ctypes.c_double)]
    lib.rqb_use_wall_clock.argtypes = [ctypes.c_int]
    lib.rqb_use_wall_clock(1 if args.clock == "wall" else 0)
    lib.rqb_histogram.restype = ctypes.c_int
    lib.rqb_histogram.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int64,
                                  ctypes.c_float, ctypes.c_float, ctypes.c_void_p, ctypes.c_int64]

    torch.manual_seed(0)
    n = args.numel
    x = torch.randn(n)                       # 16M fp32 (64 MB)
    xn = x.numpy()                           # the same memory
    x16 = x.half()
    x16n = x16.numpy()
    act = torch.randn(32, 64, 56, 56)        # NCHW activation (25.7 MB)
    actn = act.numpy()
    y = np.empty_like(xn)
    y16 = np.empty_like(x16n)
    mask = np.empty(n, np.uint8)
    reps, treps = args.reps, args.torch_reps

    def rq(op, isa, arr, outer=1, channels=1, inner=None, out=None, elem=0):
        size = arr.size
        t = lib.rqb_time(op.encode(), isa.encode(), elem, arr.ctypes.data,
                         out.ctypes.data if out is not None else None, mask.ctypes.data, size, outer,
                         channels, inner if inner is not None else size, reps, None)
        return t if t > 0 else None

    rows = []

    def wanted(name):
        return args.only is None or args.only in name

    def row(name, nbytes, read_t, isa_times, numpy_t, torch_name, torch_t, target):
        rows.append(dict(name=name, nbytes=nbytes, read=read_t, isa=isa_times, numpy=numpy_t,
                         torch_name=torch_name, torch=torch_t, target=target))

    # The read loop is the physical limit: memory bandwidth shared with other
    # processes drifts, so it is measured again after the other timings and
    # the best of all its measurements is kept (see the end of this function).
    read32 = rq("read", "avx2", xn)
    read16 = rq("read", "avx2", x16n)
    readact = rq("read", "avx2", actn)

    same_hist, identical = {}, {}  # correctness checks of the histogram and fake-quant rows
    if wanted("min/max, fp32 16M"):
        # per-tensor min/max
        row("min/max, fp32 16M", xn.nbytes, read32, {i: rq("minmax", i, xn) for i in ISAS},
            best_of(lambda: (xn.min(), xn.max()), reps), "torch.aminmax",
            best_of(lambda: torch.aminmax(x), reps), ("read", 0.85, "torch", 1.3))
    if wanted("min/max, fp16 16M"):
        # fp16 input min/max (torch.aminmax has no CPU Half kernel in 1.13)
        row("min/max, fp16 16M", x16n.nbytes, read16, {i: rq("minmax", i, x16n, elem=1) for i in ISAS},
            best_of(lambda: (x16n.min(), x16n.max()), max(1, reps // 2)), "torch.aminmax(x.float())",
            best_of(lambda: torch.aminmax(x16.float()), reps), ("read", 0.85))
    if wanted("per-channel min/max, 32x64x56x56 axis 1"):
        # per-channel NCHW along axis 1
        pc = PerChannelMinMaxObserver(ch_axis=1)
        row("per-channel min/max, 32x64x56x56 axis 1", actn.nbytes, readact,
            {i: rq("minmax_channels", i, actn, 32, 64, 56 * 56) for i in ISAS},
            best_of(lambda: (actn.min(axis=(0, 2, 3)), actn.max(axis=(0, 2, 3))), reps),
            "PerChannelMinMaxObserver.forward", best_of(lambda: pc(act), reps), ("torch", 10))
    if wanted("per-channel min/max, 512x256x3x3 weight axis 0"):
        # per-channel OIHW weight along axis 0 (outer = 1, one run per output channel)
        w = torch.randn(512, 256, 3, 3)           # 4.7 MB
        wn = w.numpy()
        pcw = PerChannelMinMaxObserver(ch_axis=0)
        row("per-channel min/max, 512x256x3x3 weight axis 0", wn.nbytes, rq("read", "avx2", wn),
            {i: rq("minmax_channels", i, wn, 1, 512, 256 * 9) for i in ISAS},
            best_of(lambda: (wn.min(axis=(1, 2, 3)), wn.max(axis=(1, 2, 3))), reps),
            "PerChannelMinMaxObserver(ch_axis=0).forward", best_of(lambda: pcw(w), reps), ("torch", 10))
    if wanted("histogram observe, 2048 bins"):
        # histogram observe, 2048 bins
        ho = HistogramObserver(bins=2048)
        ho(x)  # steady state: later batches combine with the running histogram

        def np_hist():
            lo, hi = xn.min(), xn.max()
            return np.histogram(xn, bins=2048, range=(lo, hi))
        row("histogram observe, 2048 bins, fp32 16M, steady state", xn.nbytes, read32,
            {i: rq("histogram_observe", i, xn) for i in ISAS}, best_of(np_hist, max(1, treps)),
            "HistogramObserver.forward", best_of(lambda: ho(x), treps), ("torch", 20))
        # What a user gets: razorq's own HistogramObserver through the public
        # API (rq_observer_observe: NaN/Inf check, the fused pass over the
        # range the observer will pick, the running-histogram update), in the
        # same steady state as PyTorch's row above.
        rq_obs_times = {}
        for isa in ISAS:
            razorq.set_kernel_isa(isa)
            obs = razorq.Observer({"type": "HistogramObserver", "bins": 2048})
            obs.observe(xn)
            rq_obs_times[isa] = best_of(lambda: obs.observe(xn), treps)
        razorq.set_kernel_isa(None)
        row("HistogramObserver observe (razorq's observer, public API), 2048 bins, fp32 16M, steady state",
            xn.nbytes, read32, rq_obs_times, None, "HistogramObserver.forward", best_of(lambda: ho(x), treps),
            ("torch", 20))
        row("histogram observe, 2048 bins, fp32 16M, first batch", xn.nbytes, read32,
            {i: rq("histogram_first", i, xn) for i in ISAS}, None,
            "HistogramObserver.forward (new observer)",
            best_of(lambda: HistogramObserver(bins=2048)(x), treps), ("torch", 20))
        # same histogram as torch.histc?
        lo, hi = torch.aminmax(x)
        ref = torch.histc(x, bins=2048, min=lo.item(), max=hi.item()).numpy()
        counts = np.zeros(2048, np.uint64)
        for i in ISAS:
            if lib.rqb_histogram(i.encode(), 0, xn.ctypes.data, n, lo.item(), hi.item(),
                                 counts.ctypes.data, 2048) == 0:
                same_hist[i] = bool(np.array_equal(counts.astype(np.float64), ref.astype(np.float64)))
    if wanted("fake-quant kernel, fp32 16M"):
        # pure fake-quant kernel (fixed qparams, mask written as PyTorch does)
        s_, z_ = 0.0125, 3
        inv = np.float32(1.0) / np.float32(s_)

        def np_fq():
            q = np.clip(np.rint(xn * inv) + np.float32(z_), 0, 255)
            return (q - np.float32(z_)) * np.float32(s_)
        row("fake-quant kernel, fp32 16M", xn.nbytes, read32,
            {i: rq("fake_quant", i, xn, out=y) for i in ISAS}, best_of(np_fq, reps),
            "torch.fake_quantize_per_tensor_affine",
            best_of(lambda: torch.fake_quantize_per_tensor_affine(x, s_, z_, 0, 255), reps), None)
        ref_fq = torch.fake_quantize_per_tensor_affine(x, s_, z_, 0, 255).numpy()
        for i in ISAS:
            if rq("fake_quant", i, xn, out=y) is not None:
                identical[i] = bool(np.array_equal(y.view(np.uint32), ref_fq.view(np.uint32)))
    if wanted("FakeQuantize forward (observe + fake-quant), fp32 16M"):
        # FakeQuantize.forward: observe (moving-average min/max) + qparams + fake-quant
        fq = FakeQuantize()
        fq(x)
        row("FakeQuantize forward (observe + fake-quant), fp32 16M", xn.nbytes, read32,
            {i: rq("observe_fake_quant", i, xn, out=y) for i in ISAS}, None, "FakeQuantize.forward",
            best_of(lambda: fq(x), treps), ("torch", 10))
    if wanted("fused moving-avg observe + fake-quant, fp32 16M"):
        ff = FusedMovingAvgObsFakeQuantize()
        ff(x)
        row("fused moving-avg observe + fake-quant, fp32 16M", xn.nbytes, read32,
            {i: rq("fused_moving_avg", i, xn, out=y) for i in ISAS}, None,
            "FusedMovingAvgObsFakeQuantize.forward", best_of(lambda: ff(x), treps), ("torch", 10))

    if wanted("LSQ backward, fp32 16M"):
        # LSQ fake-quant backward (dx and the scale / zero-point gradients), dy = x on both sides
        s_t, z_t = torch.tensor([0.0125]), torch.tensor([3.0])
        lsq_bwd = torch.ops.aten._fake_quantize_learnable_per_tensor_affine_backward
        row("LSQ backward, fp32 16M", xn.nbytes, read32, {i: rq("lsq_backward", i, xn, out=y) for i in ISAS},
            None, "_fake_quantize_learnable_per_tensor_affine_backward",
            best_of(lambda: lsq_bwd(x, x, s_t, z_t, 0, 255, 1.0), treps), None)

    # Second read-loop measurement; rows keep their own array's best.
    best_read = {}
    for arr, first in ((xn, read32), (x16n, read16), (actn, readact)):
        again = rq("read", "avx2", arr)
        best_read[arr.nbytes] = min(t for t in (first, again) if t is not None)
    for r in rows:
        if r["read"] is not None and r["nbytes"] in best_read:
            r["read"] = min(r["read"], best_read[r["nbytes"]])

    gbs = lambda nbytes, t: nbytes / t / 1e9 if t else None
    fmt = lambda v: f"{v:.2f}" if v is not None else "n/a"
    print(f"machine: {cpu_model()}; torch {torch.__version__}, numpy {np.__version__}; "
          f"1 thread; {args.clock} time, best of {reps} (PyTorch observers: best of {treps})")
    head = ["kernel", "read loop GB/s"] + [f"razorq {i}" for i in ISAS] + \
        ["NumPy", "PyTorch", "PyTorch op", "best/PyTorch", "best/read", "target", "met"]
    lines = []
    for r in rows:
        best_t = min((t for t in r["isa"].values() if t), default=None)
        vs_torch = r["torch"] / best_t if best_t and r["torch"] else None
        vs_read = r["read"] / best_t if best_t and r["read"] else None
        met, tgt = "", ""
        if r["target"]:
            parts, ok = [], True
            t = r["target"]
            for k in range(0, len(t), 2):
                kind, factor = t[k], t[k + 1]
                parts.append(f">= {factor} x {'read loop' if kind == 'read' else 'PyTorch'}")
                val = vs_read if kind == "read" else vs_torch
                ok = ok and val is not None and val >= factor
            tgt, met = "; ".join(parts), "yes" if ok else "NO"
        lines.append([r["name"], fmt(gbs(r["nbytes"], r["read"]))] +
                     [fmt(gbs(r["nbytes"], r["isa"].get(i))) for i in ISAS] +
                     [fmt(gbs(r["nbytes"], r["numpy"])), fmt(gbs(r["nbytes"], r["torch"])),
                      r["torch_name"], fmt(vs_torch) + "x" if vs_torch else "n/a",
                      fmt(vs_read) if vs_read else "n/a", tgt, met])
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for l in lines:
            print("| " + " | ".join(l) + " |")
    else:
        widths = [max(len(str(c)) for c in col) for col in zip(head, *lines)]
        for l in [head] + lines:
            print("  ".join(str(c).ljust(w) for c, w in zip(l, widths)))
    print(f"histogram equals torch.histc: {same_hist}")
    print(f"fake-quant bit-identical to torch.fake_quantize_per_tensor_affine: {identical}")


if __name__ == "__main__":
    main()
