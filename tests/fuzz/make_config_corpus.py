#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Seeds for the config and observer_state fuzz targets (committed under
tests/fuzz/corpus/; rerun by hand after a format change):
  corpus/config/          quantizer configs (`razorq config --example` for every
                          built-in backend, plus per-node overrides and
                          bias correction, unmatched nodes), observer and
                          fake-quant configs
                          of every built-in type, backend definitions;
  corpus/observer_state/  rq_observer_save bytes of observers of every
                          built-in type after two batches;
  corpus/calibration_file/ a calibration table and a saved session state of
                          tests/data/digits_mlp.onnx with fuzz_calibration_file.c's
                          config (keep the two in step).

Usage: /usr/bin/python3 tests/fuzz/make_config_corpus.py BUILD_DIR
"""
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    build = os.path.abspath(sys.argv[1])
    os.environ["RAZORQ_LIBRARY"] = os.path.join(build, "lib", "librazorq.so.0")
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
    import razorq

    cli = os.path.join(build, "tools", "razorq")
    config_dir = os.path.join(HERE, "corpus", "config")
    state_dir = os.path.join(HERE, "corpus", "observer_state")

    def write(folder, name, data):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())

    for backend in ("native", "openvino", "tensorrt", "academic", "onnxruntime"):
        example = subprocess.run([cli, "config", "--example", backend], check=True, capture_output=True,
                                 text=True).stdout
        write(config_dir, f"quantizer_{backend}.json", example)
        definition = subprocess.run([cli, "config", "--backend", backend], check=True, capture_output=True,
                                    text=True).stdout
        write(config_dir, f"backend_{backend}.json", definition)
    cfg = json.loads(subprocess.run([cli, "config", "--example", "academic"], check=True, capture_output=True,
                                    text=True).stdout)
    cfg["bias_correction"] = True
    cfg["global_qconfig"]["a_qscheme"]["bit"] = 4
    write(config_dir, "quantizer_academic_4bit_bias_correction.json", json.dumps(cfg))
    cfg["global_qconfig"]["w_fake_quant"] = {"type": "mmrazor.AdaRoundFakeQuantize"}
    cfg["reconstruction"] = {"pattern": "layer", "lr": 0.001, "loss": {
        "type": "mmrazor.AdaRoundLoss", "iters": 100, "weight": 0.01, "beta_range": [20, 2], "warm_up": 0.2}}
    write(config_dir, "quantizer_academic_4bit_adaround.json", json.dumps(cfg))
    cfg = json.loads(subprocess.run([cli, "config", "--example", "native"], check=True, capture_output=True,
                                    text=True).stdout)
    cfg["quantizer"]["tracer"]["unmatched_nodes"] = ["/b1/Relu", "/b2/Relu"]
    write(config_dir, "quantizer_native_unmatched_nodes.json", json.dumps(cfg))

    x = np.random.default_rng(7).normal(0, 2, (2, 3, 4, 4)).astype(np.float32)
    for name in razorq.observer_types():
        config = {"type": name}
        write(config_dir, f"observer_{name}.json", json.dumps(config))
        try:
            obs = razorq.Observer(config)
            obs.observe(x)
            obs.observe(x * 1.5)
            saved = bytes(obs.save())
        except razorq.RazorqError:
            continue  # needs arguments (fixed qparams) or cannot save (recording)
        write(state_dir, f"{name}.rqobs", saved)
    for name in razorq.fake_quant_types():
        write(config_dir, f"fake_quant_{name}.json", json.dumps({"type": name}))

    calib_dir = os.path.join(HERE, "corpus", "calibration_file")
    config = {"global_qconfig": {
        "w_observer": {"type": "mmrazor.PerChannelMinMaxObserver"},
        "a_observer": {"type": "mmrazor.HistogramObserver", "bins": 64},
        "w_fake_quant": {"type": "mmrazor.FakeQuantize"}, "a_fake_quant": {"type": "mmrazor.FakeQuantize"},
        "w_qscheme": {"qdtype": "qint8", "bit": 8, "is_symmetry": True, "is_symmetric_range": True},
        "a_qscheme": {"qdtype": "quint8", "bit": 8, "is_symmetry": False}},
        "quantizer": {"type": "mmrazor.OpenVINOQuantizer"}}
    graph = razorq.Graph.load(os.path.join(ROOT, "tests", "data", "digits_mlp.onnx"))
    session = razorq.Quantizer(config).prepare(graph)
    calib = np.load(os.path.join(ROOT, "tests", "data", "digits_calib_x.npy"))[:16]
    session.calibrate(calib)
    session.save_state(os.path.join(calib_dir, "state_mlp.rqcal"))
    session.convert()
    session.save_calibration(os.path.join(calib_dir, "table_mlp.rqcal"))
    # A table with adjusted initializers: AdaRound's weights, corrected biases.
    config["global_qconfig"]["w_fake_quant"] = {"type": "mmrazor.AdaRoundFakeQuantize"}
    config["reconstruction"] = {"loss": {"iters": 20}}
    config["bias_correction"] = True
    session = razorq.Quantizer(config).prepare(graph)
    session.calibrate(calib)
    session.convert()
    session.save_calibration(os.path.join(calib_dir, "table_mlp_adjusted.rqcal"))


if __name__ == "__main__":
    main()
