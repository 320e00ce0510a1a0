# SPDX-License-Identifier: Apache-2.0
"""razorq.BackendConfig, backends(), example_config(), register_backend() and
the kernel ISA switch."""
import json
import uuid

import numpy as np
import pytest

import razorq

BUILTIN = ["native", "openvino", "tensorrt", "academic", "onnxruntime"]


def test_builtins_are_listed_and_load_by_name_or_mmrazor_class():
    assert razorq.backends()[:len(BUILTIN)] == BUILTIN
    for name in BUILTIN:
        assert razorq.BackendConfig(name).name == name
    assert razorq.BackendConfig("mmrazor.OpenVINOQuantizer").name == "openvino"
    assert razorq.BackendConfig("TensorRTQuantizer").name == "tensorrt"


@pytest.mark.parametrize("name", BUILTIN)
def test_to_json_round_trips(name):
    cfg = razorq.BackendConfig(name)
    text = cfg.to_json()
    assert json.loads(text)["name"] == name
    again = razorq.BackendConfig(text)
    assert again.to_json() == text
    assert razorq.BackendConfig(cfg.to_dict()).to_json() == text


@pytest.mark.parametrize("name", BUILTIN)
def test_example_configs_make_quantizers_for_their_backend(name):
    config = razorq.example_config(name)
    assert set(config) >= {"global_qconfig", "quantizer", "calibrate_steps"}
    assert razorq.Quantizer(config).backend.name == name
    assert razorq.Quantizer(json.dumps(config)).backend.name == name


def test_register_backend_derived_from_a_builtin():
    name = "py-" + uuid.uuid4().hex[:8]
    razorq.register_backend({"name": name, "base": "openvino"})
    assert name in razorq.backends()
    cfg = razorq.BackendConfig(name)
    assert cfg.name == name
    with pytest.raises(razorq.ExistsError):
        razorq.register_backend({"name": name, "base": "openvino"})
    with pytest.raises(razorq.ExistsError):
        razorq.register_backend({"name": "openvino", "base": "openvino"})


def test_bad_definitions_name_the_key():
    with pytest.raises(razorq.InvalidArgumentError, match=r"activation\.dtypes\[0\]"):
        razorq.BackendConfig({"name": "py-bad", "base": "openvino", "activation": {"dtypes": ["int4"]}})
    with pytest.raises(razorq.NotFoundError):
        razorq.BackendConfig("no-such-backend")
    with pytest.raises(razorq.RazorqError):
        razorq.example_config("no-such-backend")


def test_kernel_isa_switch_keeps_results_bit_identical():
    original = razorq.kernel_isa()
    assert original in ("scalar", "sse41", "avx2", "neon")
    x = np.random.default_rng(0).standard_normal((64, 33)).astype(np.float32)
    try:
        results = {}
        for isa in ("scalar", "sse41", "avx2", "neon"):
            try:
                razorq.set_kernel_isa(isa)
            except razorq.IsaError:
                continue
            assert razorq.kernel_isa() == isa
            obs = razorq.Observer({"type": "PerChannelMinMaxObserver", "ch_axis": 1}).observe(x)
            results[isa] = obs.qparams()[0]
        assert "scalar" in results
        for got in results.values():
            np.testing.assert_array_equal(got, results["scalar"])
        with pytest.raises(razorq.InvalidArgumentError):
            razorq.set_kernel_isa("mmx")
    finally:
        razorq.set_kernel_isa(None)
    assert razorq.kernel_isa() == original
