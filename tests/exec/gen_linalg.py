#!/usr/bin/python3
"""Conformance-style cases for Einsum, Det, MeanVarianceNormalization and
MaxUnpool beyond the few ONNX ships, for tests/exec.

    /usr/bin/python3 tests/exec/gen_linalg.py

Each case is tests/exec/data/linalg/node/<case>/ with model.onnx and
test_data_set_0/{input,output}_K.pb, the layout of ONNX's backend test data,
so tests/conformance/conformance.c runs them (the "linalg" test in
tests/exec/meson.build). Expected outputs come from independent oracles:
numpy.einsum (torch.einsum where only PyTorch defines the equation),
numpy.linalg.det in double, MVN from its defining formula in NumPy, and
torch.nn.functional.max_unpool{1,2}d on indices from max_pool{1,2}d.
"""
import os
import shutil

import numpy as np
import torch
import torch.nn.functional as F
from onnx import helper

import case_writer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "linalg", "node")
rng = np.random.default_rng(20261127)


def save(case, op, inputs, outputs, opset, **attrs):
    """inputs/outputs: lists of numpy arrays; one node of type op."""
    names_in = [f"x{i}" for i in range(len(inputs))]
    names_out = [f"y{i}" for i in range(len(outputs))]
    node = helper.make_node(op, names_in, names_out, name=case, **attrs)
    ins, outs = list(zip(names_in, inputs)), list(zip(names_out, outputs))
    m = case_writer.make_model([node], case_writer.tensor_infos(ins), case_writer.tensor_infos(outs), name=case,
                               opset=opset, ir_version=7)
    case_writer.write_case(ROOT, case, m, ins, outs, tensor_names=False)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


# ---- Einsum: expected values in double, rounded to the inputs' type ----

def einsum(case, equation, *shapes, dtype=np.float32, oracle="numpy"):
    if np.issubdtype(dtype, np.integer):
        xs = [rng.integers(-9, 10, s).astype(dtype) for s in shapes]
    else:
        xs = [randn(*s, dtype=dtype) for s in shapes]
    if oracle == "numpy":
        y = np.einsum(equation, *[x.astype(np.float64) if x.dtype.kind == "f" else x for x in xs])
    else:  # torch: equations numpy refuses but PyTorch defines
        y = torch.einsum(equation, *[torch.from_numpy(x.astype(np.float64)) for x in xs]).numpy()
    save(case, "Einsum", xs, [np.asarray(y).astype(dtype)], 12, equation=equation)


# ---- Det ----

def det(case, a):
    a = np.asarray(a)
    save(case, "Det", [a], [np.asarray(np.linalg.det(a.astype(np.float64))).astype(a.dtype)], 11)


# ---- MVN: the formula of the op's ONNX function body ----

def mvn(case, x, axes=None, opset=13):
    ax = tuple(axes) if axes is not None else (0, 2, 3)
    x64 = x.astype(np.float64)
    mean = np.mean(x64, axis=ax, keepdims=True)
    std = np.sqrt(np.mean(x64 ** 2, axis=ax, keepdims=True) - mean ** 2)
    y = ((x64 - mean) / (std + 1e-9)).astype(np.float32)
    save(case, "MeanVarianceNormalization", [x], [y], opset, **({} if axes is None else {"axes": list(axes)}))


# ---- MaxUnpool: PyTorch's pool/unpool pair; ONNX indices span N x C ----

def maxunpool(case, x, kernel, stride, pad=0, output_size=None, opset=11):
    t = torch.from_numpy(x)
    n = x.ndim - 2
    pool = F.max_pool1d if n == 1 else F.max_pool2d
    unpool = F.max_unpool1d if n == 1 else F.max_unpool2d
    pooled, idx = pool(t, kernel, stride, pad, return_indices=True)
    y = unpool(pooled, idx, kernel, stride, pad, output_size=output_size).numpy()
    # PyTorch's indices count within one N, C plane; ONNX's within the
    # whole output tensor.
    plane = int(np.prod(y.shape[2:]))
    offsets = np.arange(x.shape[0] * x.shape[1], dtype=np.int64).reshape(x.shape[0], x.shape[1], *([1] * n)) * plane
    onnx_idx = idx.numpy().astype(np.int64) + offsets
    inputs = [pooled.numpy(), onnx_idx]
    if output_size is not None:
        inputs.append(np.array(y.shape, np.int64))
    save(case, "MaxUnpool", inputs, [y], opset, kernel_shape=[kernel] * n, strides=[stride] * n,
         **({"pads": [pad] * (2 * n)} if pad else {}))


if os.path.isdir(ROOT):
    shutil.rmtree(ROOT)

einsum("einsum_implicit_matmul", "ij,jk", (3, 4), (4, 5))
einsum("einsum_implicit_transpose", "ba", (3, 4))
einsum("einsum_implicit_uppercase_order", "Bc,cA", (2, 3), (3, 4))
einsum("einsum_ellipsis_broadcast", "...ij,...jk->...ik", (2, 1, 3, 4), (5, 4, 2))
einsum("einsum_ellipsis_implicit", "...i,...i", (3, 4), (2, 1, 4))
einsum("einsum_ellipsis_middle", "i...j,j->...i", (2, 3, 4, 5), (5,))
einsum("einsum_ellipsis_three_operands", "...a,b...,...->...ab", (4, 3), (2, 1, 4), (3, 1))
einsum("einsum_ellipsis_summed", "...i->i", (2, 3, 4), oracle="torch")
einsum("einsum_diagonal", "ii->i", (4, 4))
einsum("einsum_batch_diagonal", "bii->bi", (3, 4, 4))
einsum("einsum_diagonal_contraction", "iij,jk->ik", (3, 3, 4), (4, 2))
einsum("einsum_trace", "ii", (5, 5))
einsum("einsum_three_operands", "ij,jk,kl->il", (2, 3), (3, 4), (4, 5))
einsum("einsum_three_operands_cycle", "ab,bc,ca->", (2, 3), (3, 4), (4, 2))
einsum("einsum_outer_product", "i,j->ij", (3,), (4,))
einsum("einsum_batch_matmul_transposed", "bji,bkj->bik", (2, 9, 8), (2, 7, 9))
einsum("einsum_two_letter_contraction", "abcd,cde->abe", (2, 3, 4, 5), (4, 5, 6))
einsum("einsum_broadcast_size_one", "ij,ij->ij", (3, 1), (1, 4))
einsum("einsum_scalar_output", "ij,ij->", (3, 4), (3, 4))
einsum("einsum_scalar_operand", ",ij->ij", (), (2, 3))
einsum("einsum_empty_contraction", "ij,jk->ik", (2, 0), (0, 3))
einsum("einsum_double", "bij,bjk->bik", (2, 8, 9), (2, 9, 7), dtype=np.float64)
einsum("einsum_int64", "ij,jk->ki", (3, 4), (4, 2), dtype=np.int64)
einsum("einsum_int32", "ii->", (3, 3), dtype=np.int32)

det("det_1x1", randn(1, 1))
det("det_singular", np.array([[1, 2, 3], [2, 4, 6], [1, 0, 1]], np.float32))
det("det_negative", np.array([[0, 1, 0], [1, 0, 0], [0, 0, 2]], np.float32))
det("det_batched", randn(2, 3, 4, 4))
det("det_pivoting", np.array([[1e-8, 1], [1, 1]], np.float32))
det("det_0x0", np.zeros((2, 0, 0), np.float32))
det("det_double", randn(3, 5, 5, dtype=np.float64))

mvn("mvn_default_axes", randn(2, 3, 4, 5))
mvn("mvn_axes_channel", randn(2, 3, 4, 5), axes=[1])
mvn("mvn_axes_spatial", randn(2, 3, 4, 5), axes=[2, 3])
mvn("mvn_axes_negative", randn(3, 4, 6), axes=[-1])
mvn("mvn_opset9", randn(2, 3, 2, 2), opset=9)

maxunpool("maxunpool_1d", randn(2, 2, 7), 3, 2)
maxunpool("maxunpool_2d", randn(2, 3, 6, 6), 2, 2)
maxunpool("maxunpool_2d_pads", randn(1, 2, 5, 5), 3, 2, pad=1)
maxunpool("maxunpool_2d_output_shape", randn(1, 2, 5, 5), 2, 2, output_size=[5, 5])
maxunpool("maxunpool_opset9", randn(1, 1, 4, 4), 2, 2, opset=9)

print(sorted(os.listdir(ROOT)))
