# SPDX-License-Identifier: Apache-2.0
"""razorq.FakeQuant against PyTorch 1.13: forward bit-identical to
torch.fake_quantize_per_{tensor,channel}_affine and to the FakeQuantize
module step by step, backward against autograd (straight-through estimator
and the LSQ gradients of the learnable fake-quant)."""
import numpy as np
import pytest

import razorq

torch = pytest.importorskip("torch")
tq = torch.ao.quantization


def data(seed, shape=(4, 3, 5, 5), scale=3.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * scale + 0.5).astype(np.float32)


def test_forward_with_fixed_params_is_torch_fake_quantize_per_tensor_affine():
    fq = razorq.FakeQuant({"type": "FakeQuantize", "observer": {"type": "MinMaxObserver"}})
    fq.set_mode(observer=False)
    assert fq.mode == (False, True, False)
    fq.params = ([0.037], [131.0])
    x = data(1)
    # Some inputs land exactly on .5 steps, where the rounding mode shows.
    x.reshape(-1)[:20] = (np.arange(20, dtype=np.float32) - 10.5) * np.float32(0.037)
    want = torch.fake_quantize_per_tensor_affine(torch.from_numpy(x), 0.037, 131, 0, 255).numpy()
    np.testing.assert_array_equal(fq.forward(x), want)


def test_forward_per_channel_is_torch_fake_quantize_per_channel_affine():
    config = {"type": "FakeQuantize", "observer": {"type": "PerChannelMinMaxObserver", "ch_axis": 1,
                                                   "dtype": "qint8", "qscheme": "per_channel_symmetric"}}
    fq = razorq.FakeQuant(config)
    x = data(2)
    y = fq.forward(x)
    scale, zp = fq.qparams()
    assert scale.shape == (3,)
    want = torch.fake_quantize_per_channel_affine(torch.from_numpy(x), torch.from_numpy(scale),
                                                  torch.from_numpy(zp), 1, -128, 127).numpy()
    np.testing.assert_array_equal(y, want)


@pytest.mark.parametrize("per_channel", [False, True], ids=["per-tensor", "per-channel"])
def test_fakequantize_module_steps_match_pytorch(per_channel):
    if per_channel:
        config = {"type": "FakeQuantize", "observer": {"type": "MovingAveragePerChannelMinMaxObserver",
                                                       "ch_axis": 0, "dtype": "qint8",
                                                       "qscheme": "per_channel_symmetric"}}
        theirs = tq.FakeQuantize(observer=tq.MovingAveragePerChannelMinMaxObserver, quant_min=-128, quant_max=127,
                                 dtype=torch.qint8, qscheme=torch.per_channel_symmetric, ch_axis=0)
    else:
        config = {"type": "FakeQuantize"}  # MovingAverageMinMaxObserver, quint8, affine
        theirs = tq.FakeQuantize()
    ours = razorq.FakeQuant(config)
    assert ours.observer.type_name.startswith("MovingAverage")
    for step in range(4):
        x = data(10 + step, scale=1.0 + step)
        np.testing.assert_array_equal(ours.forward(x), theirs(torch.from_numpy(x)).detach().numpy())
        t_scale, t_zp = theirs.calculate_qparams()
        np.testing.assert_array_equal(ours.qparams()[0], t_scale.numpy())
        np.testing.assert_array_equal(ours.qparams()[1], t_zp.numpy().astype(np.int32))
    assert ours.quant_range == (theirs.quant_min, theirs.quant_max)
    assert ours.per_channel == per_channel


def test_forward_in_place_and_into_a_strided_output():
    fq = razorq.FakeQuant({"type": "FakeQuantize"})
    x = data(3)
    want = tq.FakeQuantize()(torch.from_numpy(x)).detach().numpy()
    out = np.zeros((5, 5, 3, 4), np.float32).transpose(3, 2, 0, 1)
    assert fq.forward(x, out=out) is out
    np.testing.assert_array_equal(out, want)
    fq2 = razorq.FakeQuant({"type": "FakeQuantize"})
    fq2.forward(x, out=x)
    np.testing.assert_array_equal(x, want)


def test_backward_is_the_straight_through_estimator_of_autograd():
    ours, theirs = razorq.FakeQuant({"type": "FakeQuantize"}), tq.FakeQuantize()
    x = data(4)
    theirs(torch.from_numpy(x))  # calibrate both on the same data
    ours.forward(x)
    ours.set_mode(observer=False)
    theirs.disable_observer()
    # Values far outside the observed range get zero gradient.
    x2 = data(5, scale=6.0)
    dy = data(6, scale=1.0)
    xt = torch.from_numpy(x2).requires_grad_()
    theirs(xt).backward(torch.from_numpy(dy))
    dx, dscale, dzero_point = ours.backward(x2, dy)
    np.testing.assert_array_equal(dx, xt.grad.numpy())
    assert (dx == 0).any() and (dx != 0).any()
    # FakeQuantize learns nothing: the parameter gradients are zeros.
    np.testing.assert_array_equal(dscale, [0.0])
    np.testing.assert_array_equal(dzero_point, [0.0])


def test_learnable_fake_quant_gradients_follow_pytorch_lsq():
    fq = razorq.FakeQuant({"type": "LearnableFakeQuantize", "observer": {"type": "LSQObserver"},
                           "zero_point_trainable": True})
    fq.learning_mode = "param_learning"
    assert fq.mode == (False, True, True)
    scale, zero_point = 0.05, 120.0
    fq.params = ([scale], [zero_point])
    x, dy = data(7), data(8, scale=1.0)
    y = fq.forward(x)
    dx, dscale, dzp = fq.backward(x, dy)

    xt = torch.from_numpy(x).requires_grad_()
    st = torch.tensor([scale], requires_grad=True)
    zt = torch.tensor([zero_point], requires_grad=True)
    grad_factor = 1.0 / (x.size * 255) ** 0.5  # MMRazor's use_grad_scaling
    yt = torch._fake_quantize_learnable_per_tensor_affine(xt, st, zt, 0, 255, grad_factor)
    yt.backward(torch.from_numpy(dy))
    np.testing.assert_array_equal(y, yt.detach().numpy())
    np.testing.assert_array_equal(dx, xt.grad.numpy())
    # PyTorch sums the per-element terms in float in its own order; razorq in double.
    np.testing.assert_allclose(dscale, st.grad.numpy(), rtol=1e-4)
    np.testing.assert_allclose(dzp, zt.grad.numpy(), rtol=1e-4)


def test_learning_modes_set_the_documented_switches():
    fq = razorq.FakeQuant({"type": "LearnableFakeQuantize", "observer": {"type": "LSQObserver"}})
    assert fq.mode == (True, True, False)  # static estimate, the initial mode
    expected = {razorq.LearningMode.PARAM_LEARNING: (False, True, True),
                razorq.LearningMode.STATIC_ESTIMATE: (True, True, False),
                razorq.LearningMode.VAL: (False, True, False),
                razorq.LearningMode.STATIC_OBSERVATION: (True, False, False)}
    for mode, switches in expected.items():
        fq.learning_mode = mode
        assert fq.mode == switches
    with pytest.raises(razorq.UnsupportedError):
        razorq.FakeQuant({"type": "FakeQuantize"}).learning_mode = "val"


def test_params_setter_validates_through_the_library():
    fq = razorq.FakeQuant({"type": "FakeQuantize"})
    fq.params = ([0.5], [3])
    scale, zp = fq.params
    assert scale.tolist() == [0.5] and zp.tolist() == [3.0]
    fq.params = ([0.25], None)  # keeps the zero point
    assert fq.params[1].tolist() == [3.0]
    for bad in (([0.0], [0]), ([np.inf], [0]), ([0.5], [2.5]), ([0.5], [300]), ([0.5, 0.5], [0, 0])):
        with pytest.raises(razorq.InvalidArgumentError):
            fq.params = bad
    assert fq.params[0].tolist() == [0.25]


def test_disabled_fake_quant_passes_the_input_through():
    fq = razorq.FakeQuant({"type": "FakeQuantize"})
    fq.set_mode(fake_quant=False)
    x = data(9)
    np.testing.assert_array_equal(fq.forward(x), x)
    assert fq.mode.observer  # observer switch left alone


def test_borrowed_observer_keeps_its_fake_quant_alive():
    fq = razorq.FakeQuant({"type": "FakeQuantize"})
    fq.forward(data(12))
    obs = fq.observer
    assert obs.borrowed
    want = obs.minmax()
    del fq
    np.testing.assert_array_equal(obs.minmax()[0], want[0])
    obs.close()  # does not free the fake-quant's observer twice
    owner = razorq.FakeQuant({"type": "FakeQuantize"})
    obs = owner.observer
    owner.close()
    with pytest.raises(ValueError):
        obs.minmax()


def test_bad_configs_name_the_key():
    with pytest.raises(razorq.InvalidArgumentError, match="frobnicate"):
        razorq.FakeQuant({"type": "FakeQuantize", "frobnicate": 1})
    with pytest.raises(razorq.NotFoundError):
        razorq.FakeQuant({"type": "NoSuchFakeQuantize"})
    with pytest.raises(razorq.NonFiniteError):
        razorq.FakeQuant({"type": "FakeQuantize"}).forward(np.array([np.inf], np.float32))


@pytest.mark.parametrize("per_channel", [False, True], ids=["per-tensor", "per-channel"])
def test_an_empty_batch_changes_nothing_as_in_pytorch(per_channel):
    """FakeQuantize.forward on an empty tensor: PyTorch's observer returns it
    untouched, so the statistics and qparams stay those of the batch before."""
    if per_channel:
        config = {"type": "FakeQuantize", "observer": {"type": "MovingAveragePerChannelMinMaxObserver", "ch_axis": 1,
                                                       "dtype": "qint8", "qscheme": "per_channel_symmetric"}}
        theirs = tq.FakeQuantize(observer=tq.MovingAveragePerChannelMinMaxObserver, quant_min=-128, quant_max=127,
                                 dtype=torch.qint8, qscheme=torch.per_channel_symmetric, ch_axis=1)
    else:
        config = {"type": "FakeQuantize"}
        theirs = tq.FakeQuantize()
    ours = razorq.FakeQuant(config)
    x = data(30)
    ours.forward(x)
    theirs(torch.from_numpy(x))
    empty = np.empty((0, 3, 5, 5), np.float32)
    assert ours.forward(empty).shape == (0, 3, 5, 5)
    assert tuple(theirs(torch.from_numpy(empty)).shape) == (0, 3, 5, 5)
    t_scale, t_zp = theirs.calculate_qparams()
    np.testing.assert_array_equal(ours.qparams()[0], t_scale.numpy())
    np.testing.assert_array_equal(ours.qparams()[1], t_zp.numpy().astype(np.int32))
