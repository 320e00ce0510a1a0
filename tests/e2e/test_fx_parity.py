# SPDX-License-Identifier: Apache-2.0
"""razorq's native backend against PyTorch 1.13 FX on the same qconfig: the
same fake-quant places, the same qparams, the same predictions.

Oracle: fx_parity.json, written by gen_fx_baseline.py from the FX-prepared
models after calibration (every distinct activation fake-quant and every
weight fake-quant, and the prediction for every test sample). The qconfig
is the FX baseline's (per-channel min/max qint8 weights on the symmetric
range, moving-average min/max symmetric quint8 activations), calibrated in
batches of 32 with fake-quants on, as MMRazor's PTQLoop does.

An ONNX graph does not say which PyTorch call made a node, and FX's
patterns do: a conv followed by a functional `torch.relu` is not fused (only
nn.ReLU and F.relu are), and nn.Flatten has no pattern at all (torch.flatten
shares qparams). `quantizer.tracer.unmatched_nodes` names such nodes; these
are the ones the digits models' source (make_fixtures.py) has.
"""
import json
import os

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from e2e_tools import HERE, ort_run, razorq
from test_ptq_e2e import CALIB_X, DATA, TEST_X, TEST_Y

PARITY = json.load(open(os.path.join(HERE, "fx_parity.json")))
BASELINE = json.load(open(os.path.join(HERE, "fx_baseline.json")))
UNMATCHED = {
    "digits_cnn": ["/b1/Relu", "/b2/Relu"],  # torch.relu(bn(conv(x))) inside each residual block
    "digits_mlp": ["/net/net.0/Flatten"],     # nn.Flatten
    "digits_dw": [],
}


def fx_config(tmp_path, name, bits):
    cfg = json.loads(razorq("config", "--example", "native"))
    qconfig = cfg["global_qconfig"]
    qconfig["w_qscheme"]["bit"] = qconfig["a_qscheme"]["bit"] = bits
    qconfig["a_qscheme"]["is_symmetry"] = True
    cfg["quantizer"]["tracer"]["unmatched_nodes"] = UNMATCHED[name]
    path = tmp_path / f"fx-{name}-{bits}bit.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def exported_qparams(path):
    """The number of activation QuantizeLinear nodes (one per quantized
    edge), their sorted distinct (scale, zero point), and the per-channel
    weight scales sorted as the generator sorts them."""
    model = onnx.load(path)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    sites, activations, weights = 0, set(), []
    for node in model.graph.node:
        if node.op_type == "QuantizeLinear" and node.input[0] not in inits:
            sites += 1
            activations.add((float(inits[node.input[1]]), int(inits[node.input[2]])))
        elif node.op_type == "DequantizeLinear" and inits.get(node.input[0], np.zeros(0)).dtype == np.int8:
            weights.append(inits[node.input[1]].ravel().tolist())
    return sites, sorted(activations), sorted(weights, key=lambda w: (len(w), w))


def predictions(name, config, tmp_path):
    logits = tmp_path / "logits.npy"
    result = json.loads(razorq("test", os.path.join(DATA, f"{name}.onnx"), "--config", config, "--calib", CALIB_X,
                               "--data", TEST_X, "--labels", TEST_Y, "--quiet", "--json",
                               "--save-logits", str(logits)))
    return result["top1"], np.load(logits).argmax(1)


@pytest.mark.parametrize("bits", [8, 4])
@pytest.mark.parametrize("name", sorted(UNMATCHED))
def test_native_backend_quantizes_like_fx(name, bits, tmp_path):
    fx = PARITY[f"{name}_{bits}bit"]
    config = fx_config(tmp_path, name, bits)
    exported = str(tmp_path / "q.onnx")
    razorq("ptq", os.path.join(DATA, f"{name}.onnx"), "--config", config, "--calib", CALIB_X, "-o", exported, "-q")
    sites, activations, weights = exported_qparams(exported)

    # The same places: a quantized edge per FX fake-quant call, and one
    # scale per distinct FX fake-quant.
    assert sites == fx["activation_sites"]
    fx_activations = [(q["scale"][0], q["zero_point"][0]) for q in fx["activations"]]
    assert len(activations) == len(fx_activations)
    assert [z for _, z in activations] == [z for _, z in fx_activations]
    # The same qparams. digits_dw averages (AveragePool, ReduceMean) values
    # that lie on a quantization grid, so many sums land exactly halfway
    # between two levels, and PyTorch's float summation order and razorq's
    # round some of them apart: the fake-quants up to the first average (5 of
    # 7) are the same, those after it see slightly different extremes.
    scales, fx_scales = np.array([s for s, _ in activations]), np.array([s for s, _ in fx_activations])
    if name == "digits_dw":
        assert (np.abs(scales - fx_scales) <= 1e-6 * fx_scales).sum() >= 5
        np.testing.assert_allclose(scales, fx_scales, rtol=2e-3)
    else:
        np.testing.assert_allclose(scales, fx_scales, rtol=1e-6)
    fx_weights = [q["scale"] for q in fx["weights"]]
    assert [len(w) for w in weights] == [len(w) for w in fx_weights]
    for ours, theirs in zip(weights, fx_weights):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)

    top1, predicted = predictions(name, config, tmp_path)
    agreement = (predicted == np.array(fx["predictions"])).mean()
    if name == "digits_dw" and bits == 4:
        # 16 levels for logits spanning ~40: near ties between classes, which
        # the rounding differences above decide (measured: 95%).
        assert agreement >= 0.9, agreement
    else:
        assert agreement == 1.0, f"FX predicts otherwise on {(1 - agreement) * 500:.0f} test samples"
        assert top1 == pytest.approx(BASELINE[name][f"fx_ptq_{bits}bit"])
        # And the export deploys: ONNX Runtime predicts what razorq evaluated.
        # (Not digits_dw at 4 bits: QuantizeLinear's x/s and PyTorch's
        # x*(1/s) round the exact halves of its averages apart, doc/backends.md.)
        deployed = ort_run(exported, TEST_X, tmp_path).argmax(1)
        assert (deployed == predicted).mean() >= 0.998
