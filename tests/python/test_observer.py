# SPDX-License-Identifier: Apache-2.0
"""razorq.Observer against torch.ao.quantization's observers (PyTorch 1.13):
qparams and min/max bit-identical on random data; save/load, merge, reset,
borrowed observers and the error mapping."""
import numpy as np
import pytest

import razorq

torch = pytest.importorskip("torch")
tq = torch.ao.quantization
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

# (razorq config, the PyTorch observer built from the same arguments)
CASES = {
    "minmax-affine-quint8": ({"type": "MinMaxObserver", "dtype": "quint8", "qscheme": "per_tensor_affine"},
                             lambda: tq.MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine)),
    "minmax-symmetric-qint8": ({"type": "torch.ao.quantization.MinMaxObserver", "dtype": "qint8",
                                "qscheme": "per_tensor_symmetric"},
                               lambda: tq.MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric)),
    "minmax-reduce-range": ({"type": "MinMaxObserver", "reduce_range": True},
                            lambda: tq.MinMaxObserver(reduce_range=True)),
    "moving-average": ({"type": "MovingAverageMinMaxObserver", "averaging_constant": 0.25},
                       lambda: tq.MovingAverageMinMaxObserver(averaging_constant=0.25)),
    "per-channel-symmetric": ({"type": "PerChannelMinMaxObserver", "dtype": "qint8",
                               "qscheme": "per_channel_symmetric", "ch_axis": 1},
                              lambda: tq.PerChannelMinMaxObserver(ch_axis=1, dtype=torch.qint8,
                                                                  qscheme=torch.per_channel_symmetric)),
    "per-channel-affine": ({"type": "PerChannelMinMaxObserver", "ch_axis": 0},
                           lambda: tq.PerChannelMinMaxObserver(ch_axis=0)),
}


def batches(seed, n=4, shape=(6, 5, 7)):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(shape) * rng.uniform(0.1, 4) + rng.uniform(-2, 2)).astype(np.float32)
            for _ in range(n)]


def torch_state(obs):
    scale, zp = obs.calculate_qparams()
    lo = getattr(obs, "min_val")
    hi = getattr(obs, "max_val")
    return (scale.numpy().astype(np.float32).reshape(-1), zp.numpy().astype(np.int32).reshape(-1),
            lo.numpy().reshape(-1), hi.numpy().reshape(-1))


@pytest.mark.parametrize("name", sorted(CASES))
def test_qparams_and_minmax_are_bit_identical_to_pytorch(name):
    config, make_torch = CASES[name]
    ours, theirs = razorq.Observer(config), make_torch()
    for x in batches(sorted(CASES).index(name)):
        ours.observe(x)
        theirs(torch.from_numpy(x))
    t_scale, t_zp, t_min, t_max = torch_state(theirs)
    scale, zp = ours.qparams()
    assert scale.dtype == np.float32 and zp.dtype == np.int32
    np.testing.assert_array_equal(scale, t_scale)
    np.testing.assert_array_equal(zp, t_zp)
    lo, hi = ours.minmax()
    np.testing.assert_array_equal(lo, t_min)
    np.testing.assert_array_equal(hi, t_max)
    assert ours.quant_range == (theirs.quant_min, theirs.quant_max)
    assert ours.per_channel == ("per_channel" in str(theirs.qscheme))
    assert ours.is_symmetric == ("symmetric" in str(theirs.qscheme))
    assert ours.ch_axis == getattr(theirs, "ch_axis", 0)


def test_strided_input_is_observed_like_its_contiguous_copy():
    x = batches(3, 1, (8, 9))[0]
    view = x.T[::2]
    a = razorq.Observer({"type": "PerChannelMinMaxObserver", "ch_axis": 0}).observe(view)
    b = tq.PerChannelMinMaxObserver(ch_axis=0)
    b(torch.from_numpy(np.ascontiguousarray(view)))
    np.testing.assert_array_equal(a.qparams()[0], b.calculate_qparams()[0].numpy())


def test_before_any_data_the_pytorch_defaults_are_reported():
    ours, theirs = razorq.Observer({"type": "MinMaxObserver"}), tq.MinMaxObserver()
    scale, zp = ours.qparams()
    t_scale, t_zp = theirs.calculate_qparams()
    np.testing.assert_array_equal(scale, t_scale.numpy())
    np.testing.assert_array_equal(zp, t_zp.numpy().astype(np.int32))
    lo, hi = ours.minmax()
    np.testing.assert_array_equal(lo, theirs.min_val.numpy().reshape(-1))
    np.testing.assert_array_equal(hi, theirs.max_val.numpy().reshape(-1))


def test_reset_forgets_what_was_observed():
    obs = razorq.Observer({"type": "MinMaxObserver"})
    fresh = obs.qparams(), obs.minmax()
    obs.observe(batches(1, 1)[0])
    assert obs.qparams()[0][0] != fresh[0][0][0]
    obs.reset()
    for got, want in zip(obs.qparams() + obs.minmax(), fresh[0] + fresh[1]):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", ["minmax-affine-quint8", "per-channel-symmetric"])
def test_merge_equals_observing_both_halves(name):
    config, make_torch = CASES[name]
    data = batches(7)
    first, second, theirs = razorq.Observer(config), razorq.Observer(config), make_torch()
    for x in data[:2]:
        first.observe(x)
    for x in data[2:]:
        second.observe(x)
    for x in data:
        theirs(torch.from_numpy(x))
    first.merge(second)
    np.testing.assert_array_equal(first.qparams()[0], torch_state(theirs)[0])
    np.testing.assert_array_equal(first.qparams()[1], torch_state(theirs)[1])


def test_merge_refuses_another_configuration():
    a = razorq.Observer({"type": "MinMaxObserver"})
    b = razorq.Observer({"type": "MinMaxObserver", "dtype": "qint8"})
    with pytest.raises(razorq.InvalidArgumentError):
        a.merge(b)


def test_save_and_load_keep_class_configuration_and_state():
    obs = razorq.Observer(CASES["per-channel-symmetric"][0])
    for x in batches(11):
        obs.observe(x)
    data = obs.save()
    assert isinstance(data, bytes)
    again = razorq.Observer.load(data)
    assert again.type_name == "PerChannelMinMaxObserver"
    assert again.quant_range == obs.quant_range and again.ch_axis == 1
    for got, want in zip(again.qparams() + again.minmax(), obs.qparams() + obs.minmax()):
        np.testing.assert_array_equal(got, want)
    corrupt = bytearray(data)
    corrupt[len(corrupt) // 2] ^= 0x40
    with pytest.raises((razorq.ChecksumError, razorq.FormatError)):
        razorq.Observer.load(bytes(corrupt))


def test_float16_input_matches_pytorch_on_the_same_values():
    x = batches(5, 1)[0].astype(np.float16)
    ours, theirs = razorq.Observer({"type": "MinMaxObserver"}), tq.MinMaxObserver()
    ours.observe(x)
    theirs(torch.from_numpy(x.astype(np.float32)))
    np.testing.assert_array_equal(ours.qparams()[0], theirs.calculate_qparams()[0].numpy())


def test_recording_observer_returns_what_it_saw():
    obs = razorq.Observer({"type": "RecordingObserver"})
    assert obs.recorded() == []
    data = batches(2, 2, (3, 4))
    for x in data:
        obs.observe(x)
    got = obs.recorded()
    assert len(got) == 2
    for g, x in zip(got, data):
        np.testing.assert_array_equal(g, x.reshape(-1))
    with pytest.raises(razorq.UnsupportedError):
        obs.qparams()


def test_type_names_are_canonical():
    assert razorq.Observer({"type": "mmrazor.PerChannelMinMaxObserver"}).type_name == "PerChannelMinMaxObserver"
    assert "HistogramObserver" in razorq.observer_types()
    assert "LearnableFakeQuantize" in razorq.fake_quant_types()


@pytest.mark.parametrize("config, error, words", [
    ({"type": "MinMaxObserver", "bit": 17}, razorq.InvalidArgumentError, "bit"),
    ({"type": "MinMaxObserver", "no_such_key": 1}, razorq.InvalidArgumentError, "no_such_key"),
    ({"type": "MinMaxObserver", "eps": "small"}, razorq.InvalidArgumentError, "eps"),
    ({"type": "NoSuchObserver"}, razorq.NotFoundError, "NoSuchObserver"),
    ('{"type": "MinMaxObserver"', razorq.FormatError, ""),
])
def test_bad_configs_raise_the_mapped_error_naming_the_key(config, error, words):
    with pytest.raises(error) as e:
        razorq.Observer(config)
    assert words in str(e.value)


def test_nonfinite_input_is_refused_and_changes_nothing():
    obs = razorq.Observer({"type": "MinMaxObserver"})
    obs.observe(np.array([1.0, -2.0], np.float32))
    before = obs.qparams()
    with pytest.raises(razorq.NonFiniteError):
        obs.observe(np.array([1.0, np.nan, 5.0], np.float32))
    np.testing.assert_array_equal(obs.qparams()[0], before[0])


def test_closed_observer_raises_instead_of_crashing():
    obs = razorq.Observer({"type": "MinMaxObserver"})
    obs.close()
    with pytest.raises(ValueError):
        obs.qparams()
    with razorq.Observer({"type": "MinMaxObserver"}) as obs:
        obs.observe(np.ones(3, np.float32))
    with pytest.raises(ValueError):
        obs.minmax()


def test_calling_an_observer_returns_its_input_like_pytorch():
    x = batches(4, 1)[0]
    ours, theirs = razorq.Observer({"type": "MinMaxObserver"}), tq.MinMaxObserver()
    assert ours(x) is x
    theirs(torch.from_numpy(x))
    np.testing.assert_array_equal(ours.qparams()[0], theirs.calculate_qparams()[0].numpy())
