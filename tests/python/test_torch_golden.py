# SPDX-License-Identifier: Apache-2.0
"""Observers and fake-quants against PyTorch 1.13 results committed in
data/torch_golden.npz (written by gen_torch_golden.py), so these checks run
where torch is not installed. The live-torch tests are test_observer.py and
test_fakequant.py."""
import json
import os

import numpy as np
import pytest

import razorq

GOLDEN = np.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "torch_golden.npz"))
OBSERVERS = sorted({k.split("/")[1] for k in GOLDEN.files if k.startswith("observer/")})


def golden(prefix):
    return {k[len(prefix):]: GOLDEN[k] for k in GOLDEN.files if k.startswith(prefix)}


def config(g):
    return json.loads(str(g["config"]))


def test_every_case_is_there():
    assert OBSERVERS == ["histogram", "minmax_affine", "minmax_symmetric_qint8", "moving_average",
                         "per_channel_symmetric"]


@pytest.mark.parametrize("name", OBSERVERS)
def test_observer_qparams(name):
    g = golden("observer/%s/" % name)
    obs = razorq.Observer(config(g))
    for x in g["x"]:
        obs.observe(x)
    scale, zero_point = obs.qparams()
    np.testing.assert_array_equal(scale, g["scale"])
    np.testing.assert_array_equal(zero_point, g["zero_point"])
    assert obs.quant_range == tuple(g["quant_range"])


def test_fake_quantize_forward_steps_and_straight_through_backward():
    g = golden("fake_quantize/")
    fq = razorq.FakeQuant(config(g))
    for x, y in zip(g["x"], g["y"]):
        np.testing.assert_array_equal(fq.forward(x), y)
    fq.set_mode(observer=False)
    dx, _, _ = fq.backward(g["x2"], g["dy"])
    np.testing.assert_array_equal(dx, g["dx"])


def test_learnable_fake_quant_forward_and_gradients():
    g = golden("lsq/")
    fq = razorq.FakeQuant(config(g))
    fq.learning_mode = "param_learning"
    fq.params = ([g["params"][0]], [g["params"][1]])
    np.testing.assert_array_equal(fq.forward(g["x"]), g["y"])
    dx, dscale, dzero_point = fq.backward(g["x"], g["dy"])
    np.testing.assert_array_equal(dx, g["dx"])
    # PyTorch sums the per-element terms in float in its own order; razorq in double.
    np.testing.assert_allclose(dscale, g["dscale"], rtol=1e-4)
    np.testing.assert_allclose(dzero_point, g["dzero_point"], rtol=1e-4)
