#!/usr/bin/python3
"""Conformance-style cases for DFT, STFT, MelWeightMatrix (opset 17) and Unique.

    /usr/bin/python3 tests/exec/gen_signal.py

Writes tests/exec/data/signal/node/<case>/{model.onnx,test_data_set_0/*.pb},
the layout of ONNX's backend test data, which tests/conformance/conformance
runs. ONNX's own cases cover one length (10, direct sum only), real input,
axis 1 and 2, no dft_length, no onesided; STFT on one real signal; one
MelWeightMatrix; Unique on float only with every output. These add lengths
1, 5, 8, 12, 64, 65, 75, 97, 100, 130 (radix-2,
direct sum and Bluestein), inverse, onesided, zero-padding and
truncation by dft_length, rank-4 inputs, DOUBLE; STFT with and without a
window, two-sided, complex, odd frame lengths; Unique on integer types
(64-bit values beyond double's precision), slices along positive and
negative axes, first-occurrence order and every optional output omitted.

Expected outputs come from independent oracles:
  - DFT: numpy.fft.fft / ifft / rfft (float64);
  - STFT: torch.stft (PyTorch 1.13, center=False, return_complex=True);
  - Unique: numpy.unique with return_index/inverse/counts; ONNX's unsorted
    order (first occurrence) is numpy's sorted result reordered by index;
  - MelWeightMatrix: no library computes ONNX's bin arithmetic, so a NumPy
    transcription of the ONNX reference (onnx/backend/test/case/node/
    melweightmatrix.py), which reproduces ONNX's own test_melweightmatrix
    before any file is written.
"""
import os
import shutil
import zlib

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper

import case_writer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "signal", "node")
ONNX_DATA = "/usr/share/libonnx-testdata/data/node"


def rng_for(name):
    """Each case's own generator: adding a case leaves the others' data alone."""
    return np.random.default_rng(zlib.crc32(name.encode()))


def write_case(name, op, inputs, outputs, opset=17, **attrs):
    """inputs/outputs: lists of (name, array); name "" = omitted (inputs: an
    empty input slot; outputs: an optional output the node does not produce)."""
    node = helper.make_node(op, [n for n, _ in inputs], [n for n, _ in outputs], name=name, **attrs)
    inputs, outputs = [p for p in inputs if p[0]], [p for p in outputs if p[0]]
    model = case_writer.make_model([node], case_writer.tensor_infos(inputs), case_writer.tensor_infos(outputs),
                                   name=name, opset=opset, ir_version=8)
    case_writer.write_case(ROOT, name, model, inputs, outputs, tensor_names=False)


def as_pairs(z, dtype):
    """complex array -> [..., 2] real/imaginary pairs."""
    return np.stack((z.real, z.imag), axis=-1).astype(dtype)


# ---------------------------------------------------------------------- DFT

def dft_case(name, shape, complex_in=False, axis=1, inverse=0, onesided=0, dft_length=None, dtype=np.float32,
             length_type=np.int64):
    x = rng_for(name).uniform(-1, 1, shape + (2 if complex_in else 1,)).astype(dtype)
    z = x[..., 0] + 1j * x[..., 1] if complex_in else x[..., 0].astype(np.float64)
    n = dft_length if dft_length is not None else shape[axis]
    if onesided:
        y = np.fft.rfft(z, n=n, axis=axis)  # real input only
    elif inverse:
        y = np.fft.ifft(z, n=n, axis=axis)
    else:
        y = np.fft.fft(z, n=n, axis=axis)
    inputs = [("x", x)]
    if dft_length is not None:
        inputs.append(("dft_length", np.array(dft_length, length_type)))
    attrs = {"axis": axis}
    if inverse:
        attrs["inverse"] = 1
    if onesided:
        attrs["onesided"] = 1
    write_case(name, "DFT", inputs, [("y", as_pairs(y, dtype))], **attrs)


# --------------------------------------------------------------------- STFT

def stft_case(name, batch, length, step, frame_length, window=None, onesided=1, complex_in=False,
              give_length=True):
    x = rng_for(name).uniform(-1, 1, (batch, length, 2 if complex_in else 1)).astype(np.float32)
    sig = torch.from_numpy(x[..., 0].astype(np.float64))
    if complex_in:
        sig = torch.complex(sig, torch.from_numpy(x[..., 1].astype(np.float64)))
    w = None
    if window is not None:
        w = getattr(torch, window)(frame_length, dtype=torch.float32)
    spec = torch.stft(sig, n_fft=frame_length, hop_length=step, win_length=frame_length,
                      window=None if w is None else w.double(), center=False, onesided=bool(onesided),
                      return_complex=True)  # [batch, bins, frames]
    y = as_pairs(spec.numpy().transpose(0, 2, 1), np.float32)
    inputs = [("signal", x), ("frame_step", np.array(step, np.int64)),
              ("window", w.numpy()) if w is not None else ("", None)]
    if give_length:
        inputs.append(("frame_length", np.array(frame_length, np.int64)))
    while inputs[-1][0] == "":
        inputs.pop()
    attrs = {} if onesided else {"onesided": 0}
    write_case(name, "STFT", inputs, [("y", y)], **attrs)


# ---------------------------------------------------------- MelWeightMatrix

def mel_reference(num_mel_bins, dft_length, sample_rate, lower, upper):
    """The ONNX reference's arithmetic, step for step."""
    num_spectrogram_bins = dft_length // 2 + 1
    frequency_bins = np.arange(0, num_mel_bins + 2)
    low_mel = 2595 * np.log10(1 + lower / 700)
    high_mel = 2595 * np.log10(1 + upper / 700)
    mel_step = (high_mel - low_mel) / frequency_bins.shape[0]
    frequency_bins = frequency_bins * mel_step + low_mel
    frequency_bins = 700 * (np.power(10, (frequency_bins / 2595)) - 1)
    frequency_bins = ((dft_length + 1) * frequency_bins) // sample_rate
    frequency_bins = frequency_bins.astype(int)
    out = np.zeros((num_spectrogram_bins, num_mel_bins))
    for i in range(num_mel_bins):
        left, center, right = frequency_bins[i], frequency_bins[i + 1], frequency_bins[i + 2]
        if center == left:
            out[center, i] = 1
        else:
            for j in range(left, center + 1):
                out[j, i] = float(j - left) / float(center - left)
        if right > center:
            for j in range(center, right):
                out[j, i] = float(right - j) / float(right - center)
    return out


def check_mel_reference():
    case = os.path.join(ONNX_DATA, "test_melweightmatrix", "test_data_set_0")
    if not os.path.isdir(case):
        return
    read = lambda f: numpy_helper.to_array(onnx.load_tensor(os.path.join(case, f)))
    args = [read(f"input_{k}.pb") for k in range(5)]
    np.testing.assert_array_equal(mel_reference(*args).astype(np.float32), read("output_0.pb"))


def mel_case(name, num_mel_bins, dft_length, sample_rate, lower, upper, int_type=np.int64, output_datatype=None):
    args = [np.array(num_mel_bins, int_type), np.array(dft_length, int_type), np.array(sample_rate, int_type),
            np.array(lower, np.float32), np.array(upper, np.float32)]
    out_type = np.float32 if output_datatype is None else onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[output_datatype]
    y = mel_reference(*args).astype(out_type)
    assert np.count_nonzero(y) > num_mel_bins, name  # real triangles, not just peaks
    names = ["num_mel_bins", "dft_length", "sample_rate", "lower_edge_hertz", "upper_edge_hertz"]
    attrs = {} if output_datatype is None else {"output_datatype": output_datatype}
    write_case(name, "MelWeightMatrix", list(zip(names, args)), [("y", y)], **attrs)


# ------------------------------------------------------------------- Unique

def unique_case(name, x, axis=None, sorted_=1, outputs=("Y", "indices", "inverse_indices", "counts")):
    kw = {} if axis is None else {"axis": axis}
    y, idx, inv, cnt = np.unique(x, return_index=True, return_inverse=True, return_counts=True, **kw)
    inv = inv.reshape(-1)
    if not sorted_:  # first-occurrence order
        order = np.argsort(idx, kind="stable")
        rank = np.argsort(order)
        y = np.take(y, order, axis=0 if axis is None else axis)
        idx, cnt, inv = idx[order], cnt[order], rank[inv]
    all_out = {"Y": y, "indices": idx.astype(np.int64), "inverse_indices": inv.astype(np.int64),
               "counts": cnt.astype(np.int64)}
    outs = [(k, all_out[k]) if k in outputs else ("", None)
            for k in ("Y", "indices", "inverse_indices", "counts")]
    while outs[-1][0] == "":
        outs.pop()
    write_case(name, "Unique", [("X", x)], outs, opset=11, sorted=sorted_, **kw)


shutil.rmtree(ROOT, ignore_errors=True)
check_mel_reference()

# DFT: both paths (power of two: radix-2; otherwise the direct sum)
dft_case("dft_length1_real", (2, 1))
dft_case("dft_length5_real", (2, 5))
dft_case("dft_length8_complex", (2, 8), complex_in=True)
dft_case("dft_length12_complex", (3, 12), complex_in=True)
dft_case("dft_length64_complex", (1, 64), complex_in=True)
dft_case("dft_inverse_length8", (2, 8), complex_in=True, inverse=1)
dft_case("dft_inverse_length5", (2, 5), complex_in=True, inverse=1)
dft_case("dft_onesided_length8", (2, 8), onesided=1)
dft_case("dft_onesided_length5", (2, 5), onesided=1)
dft_case("dft_pad_5_to_8", (2, 5), complex_in=True, dft_length=8)
dft_case("dft_truncate_12_to_5", (2, 12), dft_length=5, length_type=np.int32)
dft_case("dft_onesided_pad_6_to_10", (2, 6), onesided=1, dft_length=10)
dft_case("dft_axis2_rank4", (2, 3, 6), axis=2)
dft_case("dft_axis1_rank4_complex", (2, 5, 3), complex_in=True)
dft_case("dft_axis2_inverse_pad", (2, 3, 4), complex_in=True, axis=2, inverse=1, dft_length=8)
dft_case("dft_double", (2, 8), complex_in=True, dtype=np.float64)
# longer than the direct sum's limit (64): Bluestein
dft_case("dft_length65_complex", (1, 65), complex_in=True)
dft_case("dft_length100_real", (2, 100))
dft_case("dft_inverse_length75", (1, 75), complex_in=True, inverse=1)
dft_case("dft_onesided_length97", (1, 97), onesided=1)
dft_case("dft_pad_70_to_130", (1, 70), complex_in=True, dft_length=130)

# STFT
stft_case("stft_no_window", 2, 40, 6, 8)
stft_case("stft_hann_odd_length", 2, 37, 4, 9, window="hann_window", give_length=False)
stft_case("stft_hamming_two_sided", 1, 30, 3, 8, window="hamming_window", onesided=0)
stft_case("stft_complex_window", 1, 30, 5, 8, window="hann_window", onesided=0, complex_in=True)
stft_case("stft_complex_no_window_length6", 2, 20, 7, 6, onesided=0, complex_in=True)
stft_case("stft_hann_length80", 1, 200, 40, 80, window="hann_window")

# MelWeightMatrix
mel_case("melweightmatrix_16k", 10, 64, 16000, 20.0, 8000.0)
mel_case("melweightmatrix_odd_double", 6, 33, 22050, 100.0, 11025.0, int_type=np.int32,
         output_datatype=onnx.TensorProto.DOUBLE)

# Unique
big = np.int64(1) << 60
unique_case("unique_int64_sorted_flat", np.array([[3, -2, big + 1], [big, 3, -2], [7, big + 1, 0]], np.int64))
unique_case("unique_float_unsorted_flat", np.array([2.5, -1, 2.5, 0.25, -1, 7, 0.25, 2.5], np.float32), sorted_=0)
unique_case("unique_int32_axis0", np.array([[1, 0, 0], [2, 3, 4], [1, 0, 0], [2, 3, 5]], np.int32), axis=0)
unique_case("unique_float_unsorted_axis1_3d",
            np.array([[[1, 1], [0, 1], [2, 1], [0, 1], [1, 1]],
                      [[1, 1], [0, 1], [2, 1], [0, 1], [1, 0]]], np.float32), axis=1, sorted_=0)
unique_case("unique_int64_negative_axis", np.array([[5, 1, 5, 1], [2, 9, 2, 9], [0, 3, 0, 4]], np.int64), axis=-1)
unique_case("unique_uint8_y_only", np.array([9, 4, 4, 255, 0, 9], np.uint8), outputs=("Y",))
unique_case("unique_double_no_indices", np.array([0.5, 0.125, 0.5, 3.0], np.float64), sorted_=0,
            outputs=("Y", "inverse_indices", "counts"))
unique_case("unique_int64_no_inverse", np.array([4, 4, 1, 8, 1, 4], np.int64), outputs=("Y", "indices", "counts"))
unique_case("unique_int16_no_counts_axis0", np.array([[1, 2], [1, 2], [0, 7]], np.int16), axis=0, sorted_=0,
            outputs=("Y", "indices", "inverse_indices"))
print(sorted(os.listdir(ROOT)))
