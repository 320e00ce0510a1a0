# SPDX-License-Identifier: Apache-2.0
"""End to end on a detection model as PyTorch 1.13 exports it: torchvision's
SSDlite320-MobileNetV3 (random weights, seeded; exported at test time, 9 MB)
brings post-processing with an If whose branches hold NonMaxSuppression,
TopK, NonZero, GatherND and the exporter's shape plumbing.

Oracle: ONNX Runtime (npm onnxruntime-node). razorq's executor must give its
detections exactly, on the float model and on the QDQ model razorq ptq
exports (fake-quants only where the openvino backend puts them; the
post-processing stays float)."""
import os
import subprocess
import warnings

import numpy as np
import pytest
from e2e_tools import HERE, SOURCE, razorq, razorq_run

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
OUTPUTS = ("boxes", "scores", "labels")


@pytest.fixture(scope="module")
def ssd(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ssd")
    torch.manual_seed(0)
    model = torchvision.models.detection.ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None,
                                                                        num_classes=5).eval()
    x = torch.rand(3, 320, 320)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, ([x],), str(tmp / "ssd.onnx"), opset_version=13, input_names=["img"],
                          output_names=list(OUTPUTS))
    np.save(tmp / "x.npy", x.numpy())
    np.save(tmp / "calib.npy", torch.rand(3, 3, 320, 320).numpy())  # three images for an input of one
    return tmp


def ort_outputs(model, x_npy, out_dir):
    """Every output of `model` in ONNX Runtime (ort_run.js given a directory)."""
    done = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), str(model), str(x_npy), str(out_dir)],
                          capture_output=True, text=True, env={**os.environ, "RAZORQ_SOURCE_ROOT": SOURCE})
    assert done.returncode == 0, done.stderr
    return {k: np.load(out_dir / f"{k}.npy") for k in OUTPUTS}


def razorq_outputs(model, x_npy, out_dir):
    razorq("run", str(model), "-i", str(x_npy), "--outdir", str(out_dir))
    return {k: np.load(out_dir / f"{k}.npy") for k in OUTPUTS}


def assert_same_detections(ours, ort):
    for k in OUTPUTS:
        assert ours[k].shape == ort[k].shape, (k, ours[k].shape, ort[k].shape)
        np.testing.assert_allclose(ours[k], ort[k].astype(ours[k].dtype), rtol=1e-5, atol=1e-5, err_msg=k)


def test_float_detections_are_onnxruntimes(ssd):
    (ssd / "rq").mkdir()
    (ssd / "ort").mkdir()
    ours = razorq_outputs(ssd / "ssd.onnx", ssd / "x.npy", ssd / "rq")
    assert len(ours["boxes"]) > 0
    assert_same_detections(ours, ort_outputs(ssd / "ssd.onnx", ssd / "x.npy", ssd / "ort"))


def test_quantized_detections_are_onnxruntimes(ssd):
    (ssd / "cfg.json").write_text(razorq("config", "--example", "openvino"))
    _, notes = razorq_run("ptq", str(ssd / "ssd.onnx"), "--config", str(ssd / "cfg.json"), "--calib",
                          str(ssd / "calib.npy"), "-o", str(ssd / "q.onnx"))
    assert "If (1 node): runs in float" in notes, notes
    # The model takes one [3, 320, 320] image: the [3, 3, 320, 320] file is fed image by image.
    assert "on 3 samples, one at a time" in notes, notes
    (ssd / "qrq").mkdir()
    (ssd / "qort").mkdir()
    ours = razorq_outputs(ssd / "q.onnx", ssd / "x.npy", ssd / "qrq")
    assert len(ours["boxes"]) > 0
    assert_same_detections(ours, ort_outputs(ssd / "q.onnx", ssd / "x.npy", ssd / "qort"))
