# SPDX-License-Identifier: Apache-2.0
"""DLTensor views of NumPy arrays: zero copy, shapes and element strides,
and the way back to NumPy."""
import ctypes

import numpy as np
import pytest

import razorq
from razorq.dlpack import KDL_BFLOAT, KDL_CPU, KDL_FLOAT, KDL_INT, KDL_UINT, RQ_DL_BOOL, TensorView, to_numpy


def element_strides(a):
    return tuple(s // a.itemsize for s in a.strides)


@pytest.mark.parametrize("array", [
    np.arange(12, dtype=np.float32).reshape(3, 4),
    np.arange(24, dtype=np.float32).reshape(2, 3, 4).transpose(2, 0, 1),
    np.arange(40, dtype=np.float16).reshape(5, 8)[1:4, ::3],
    np.arange(10, dtype=np.float32)[::-2],
    np.asfortranarray(np.ones((2, 5), np.float32)),
    np.full((), 3.5, np.float32),
    np.zeros((0, 3), np.float32),
], ids=["c", "transposed", "sliced-f16", "negative-stride", "fortran", "0-d", "empty"])
def test_view_points_at_the_array_memory(array):
    view = TensorView(array)
    t = view.dltensor
    assert t.data == array.ctypes.data
    assert t.device.device_type == KDL_CPU
    assert t.ndim == array.ndim
    assert view.shape == array.shape
    assert view.strides == element_strides(array)
    assert (t.dtype.code, t.dtype.bits, t.dtype.lanes) == (KDL_FLOAT, array.itemsize * 8, 1)
    assert t.byte_offset == 0


@pytest.mark.parametrize("dtype,code", [
    (np.int8, KDL_INT), (np.int16, KDL_INT), (np.int32, KDL_INT), (np.int64, KDL_INT),
    (np.uint8, KDL_UINT), (np.uint16, KDL_UINT), (np.uint32, KDL_UINT), (np.uint64, KDL_UINT),
    (np.float16, KDL_FLOAT), (np.float32, KDL_FLOAT), (np.float64, KDL_FLOAT), (np.bool_, RQ_DL_BOOL),
])
def test_dtype_codes(dtype, code):
    t = TensorView(np.zeros(3, dtype)).dltensor
    assert (t.dtype.code, t.dtype.bits) == (code, np.dtype(dtype).itemsize * 8)


def test_bfloat16_is_a_flagged_uint16_view():
    bits = (np.array([1.0, -2.5], np.float32).view(np.uint32) >> 16).astype(np.uint16)
    t = TensorView(bits, bfloat16=True).dltensor
    assert (t.dtype.code, t.dtype.bits) == (KDL_BFLOAT, 16)
    with pytest.raises(TypeError, match="uint16"):
        TensorView(np.zeros(2, np.float32), bfloat16=True)


def test_unrepresentable_arrays_are_refused():
    with pytest.raises(TypeError, match="byte order"):
        TensorView(np.zeros(3, ">f4"))
    with pytest.raises(TypeError):
        TensorView(np.zeros(3, np.complex64))
    odd = np.lib.stride_tricks.as_strided(np.zeros(8, np.float32), shape=(3,), strides=(6,))
    with pytest.raises(ValueError, match="multiple of its item size"):
        TensorView(odd)


def test_to_numpy_round_trips_without_copying():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4).transpose(1, 2, 0)
    view = TensorView(a)
    back = to_numpy(view.dltensor, view)
    assert back.shape == a.shape and back.dtype == a.dtype
    assert np.shares_memory(back, a)
    np.testing.assert_array_equal(back, a)
    back[0, 0, 1] = 99
    assert a[0, 0, 1] == 99


def test_to_numpy_keeps_its_owner_alive():
    class Owner:
        alive = 0

        def __init__(self):
            Owner.alive += 1

        def __del__(self):
            Owner.alive -= 1

    a = np.arange(6, dtype=np.int32)
    view = TensorView(a)
    back = to_numpy(view.dltensor, Owner())
    assert Owner.alive == 1
    sliced = back[2:]
    del back
    assert Owner.alive == 1
    np.testing.assert_array_equal(sliced, [2, 3, 4, 5])
    del sliced
    assert Owner.alive == 0


def test_strided_views_reach_c_through_a_dltensor_pointer(tmp_path):
    # The C writer reads the view's pointer/shape/strides; NumPy's reading of
    # the file is the oracle that the layout was described correctly.
    base = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    for a in [base.transpose(2, 0, 1), base[::-1, 1:3, ::2], base[1]]:
        razorq.npy.save(tmp_path / "v.npy", TensorView(a))
        np.testing.assert_array_equal(np.load(tmp_path / "v.npy"), a)
    assert ctypes.sizeof(razorq.DLTensor) == 48  # dlpack 0.6 layout on LP64
