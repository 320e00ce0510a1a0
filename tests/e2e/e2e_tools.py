# SPDX-License-Identifier: Apache-2.0
"""What the end-to-end tests share: the razorq command-line tool, and ONNX
Runtime (npm onnxruntime-node, through ort_run.js) as the independent
runtime exported models are checked against."""
import os
import subprocess

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("RAZORQ_SOURCE_ROOT", os.path.join(HERE, "..", ".."))
RAZORQ = os.environ["RAZORQ_CLI"]


def razorq_run(*args):
    """Runs `razorq ARGS`, which must succeed; returns (stdout, stderr)."""
    done = subprocess.run([RAZORQ, *args], capture_output=True, text=True)
    assert done.returncode == 0, f"razorq {' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done.stdout, done.stderr


def razorq(*args):
    """Runs `razorq ARGS`, which must succeed; returns its stdout."""
    return razorq_run(*args)[0]


def ort_run(model, x_npy, tmp_path, optimized=None, script="ort_run.js"):
    """ONNX Runtime's first output of `model` on the .npy input x_npy (script
    ort_run_optimized.js also saves the graph ORT optimised to `optimized`)."""
    out = tmp_path / "ort_out.npy"
    args = ["node", os.path.join(HERE, script), str(model), str(x_npy), str(out)]
    if optimized is not None:
        args.append(str(optimized))
    done = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "RAZORQ_SOURCE_ROOT": SOURCE})
    assert done.returncode == 0, done.stderr
    return np.load(out)
