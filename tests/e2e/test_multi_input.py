# SPDX-License-Identifier: Apache-2.0
"""A model with two inputs through razorq ptq / test / inspect / run, with
one data file per input (--calib NAME=X.npy).

Oracles: PyTorch 1.13's MovingAverageMinMaxObserver fed the same batches
gives the scale the exported QuantizeLinear of each input must carry (so a
file bound to the wrong input, or batches cut differently, shows); the
PyTorch model's own predictions are the labels razorq test must reproduce
on the float model; ONNX Runtime runs the exported QDQ model and must agree
with razorq's executor on it."""
import os
import subprocess

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from e2e_tools import HERE, RAZORQ, SOURCE, razorq

torch = pytest.importorskip("torch")

STEPS, BATCH = 4, 16


class TwoInputs(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fa = torch.nn.Linear(16, 16)
        self.fb = torch.nn.Linear(16, 16)
        self.head = torch.nn.Linear(16, 4)

    def forward(self, a, b):
        return self.head(torch.relu(self.fa(a)) + torch.relu(self.fb(b)))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("multi_input")
    torch.manual_seed(0)
    net = TwoInputs().eval()
    rng = np.random.default_rng(3)
    data = {"a": rng.uniform(-1, 1, (96, 16)).astype(np.float32),
            "b": rng.uniform(-50, 50, (96, 16)).astype(np.float32)}
    torch.onnx.export(net, (torch.from_numpy(data["a"][:2]), torch.from_numpy(data["b"][:2])), str(d / "m.onnx"),
                      input_names=["a", "b"], output_names=["logits"], opset_version=13,
                      dynamic_axes={"a": {0: "N"}, "b": {0: "N"}, "logits": {0: "N"}})
    for name, x in data.items():
        np.save(d / f"{name}.npy", x)
    with torch.no_grad():
        labels = net(torch.from_numpy(data["a"]), torch.from_numpy(data["b"])).argmax(1).numpy().astype(np.int64)
    np.save(d / "labels.npy", labels)
    (d / "cfg.json").write_text(razorq("config", "--example", "openvino"))
    return d, data


def torch_scale(x):
    """The openvino example's activation observer (symmetric quint8,
    averaging constant 0.1) as PyTorch computes it on razorq's batches."""
    obs = torch.ao.quantization.MovingAverageMinMaxObserver(averaging_constant=0.1, dtype=torch.quint8,
                                                            qscheme=torch.per_tensor_symmetric)
    for k in range(STEPS):
        obs(torch.from_numpy(x[k * BATCH:(k + 1) * BATCH]))
    return obs.calculate_qparams()[0].item()


def test_ptq_binds_each_file_to_its_input(files, tmp_path):
    d, data = files
    out = tmp_path / "q.onnx"
    # b by name first, then a plain file that fills the remaining input a
    razorq("ptq", str(d / "m.onnx"), "--config", str(d / "cfg.json"), "--calib", f"b={d / 'b.npy'}",
           "--calib", str(d / "a.npy"), "--steps", str(STEPS), "--batch", str(BATCH), "-o", str(out), "-q")
    m = onnx.load(str(out))
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    scales = {n.input[0]: float(inits[n.input[1]]) for n in m.graph.node if n.op_type == "QuantizeLinear"}
    assert scales["a"] == pytest.approx(torch_scale(data["a"]), rel=1e-6)
    assert scales["b"] == pytest.approx(torch_scale(data["b"]), rel=1e-6)

    # The exported model runs in ONNX Runtime on both inputs, as razorq runs it.
    ort_out = tmp_path / "ort.npy"
    done = subprocess.run(["node", os.path.join(HERE, "ort_run.js"), str(out),
                           f"a={d / 'a.npy'},b={d / 'b.npy'}", str(ort_out)],
                          capture_output=True, text=True, env={**os.environ, "RAZORQ_SOURCE_ROOT": SOURCE})
    assert done.returncode == 0, done.stderr
    ours = tmp_path / "ours.npy"
    razorq("run", str(out), "--input", f"b={d / 'b.npy'}", "--input", f"a={d / 'a.npy'}", "-o", str(ours))
    np.testing.assert_allclose(np.load(ours), np.load(ort_out), rtol=1e-4, atol=1e-4)


def test_test_and_inspect_take_one_file_per_input(files):
    d, _ = files
    top1 = razorq("test", str(d / "m.onnx"), "--data", str(d / "a.npy"), "--data", str(d / "b.npy"),
                  "--labels", str(d / "labels.npy"), "--json")
    assert '"top1": 1.000000' in top1  # the float model reproduces PyTorch's own predictions
    fq = razorq("test", str(d / "m.onnx"), "--data", f"b={d / 'b.npy'}", "--data", f"a={d / 'a.npy'}",
                "--labels", str(d / "labels.npy"), "--config", str(d / "cfg.json"),
                "--calib", str(d / "a.npy"), "--calib", str(d / "b.npy"), "-q")
    assert "fake-quantized" in fq
    text = razorq("inspect", str(d / "m.onnx"), "--config", str(d / "cfg.json"),
                  "--calib", str(d / "a.npy"), "--calib", str(d / "b.npy"))
    listed = {line.split()[1] for line in text.splitlines() if line.strip().startswith("act ")}
    assert {"a", "b"} <= listed, text


def test_data_that_does_not_fit_the_inputs_is_refused(files, tmp_path):
    d, data = files
    base = [RAZORQ, "ptq", str(d / "m.onnx"), "--config", str(d / "cfg.json"), "-o", str(tmp_path / "q.onnx")]
    one = subprocess.run(base + ["--calib", str(d / "a.npy")], capture_output=True, text=True)
    assert one.returncode == 2 and "the model has 2 inputs, 1 --calib given" in one.stderr
    named = subprocess.run(base + ["--calib", f"c={d / 'a.npy'}", "--calib", str(d / "b.npy")],
                           capture_output=True, text=True)
    assert named.returncode == 2 and "no input named 'c'" in named.stderr
    twice = subprocess.run(base + ["--calib", f"a={d / 'a.npy'}", "--calib", f"a={d / 'b.npy'}"],
                           capture_output=True, text=True)
    assert twice.returncode == 2 and "input 'a' given twice" in twice.stderr
    short = tmp_path / "short.npy"
    np.save(short, data["b"][:32])
    uneven = subprocess.run(base + ["--calib", str(d / "a.npy"), "--calib", str(short)], capture_output=True, text=True)
    assert uneven.returncode == 1 and "input 'b' holds 32 samples, for input 'a' 96" in uneven.stderr
    assert not (tmp_path / "q.onnx").exists()
