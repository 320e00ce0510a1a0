# SPDX-License-Identifier: Apache-2.0
"""NumPy .npy files through razorq's validated reader and writer
(see doc/npy.md). The loaded array shares memory with the C handle."""
import ctypes
import os

import numpy as np

from . import _lib
from .dlpack import DLTensor, TensorView, to_numpy

_c_void_pp = ctypes.POINTER(ctypes.c_void_p)
_rq_npy_load = _lib.status_function("rq_npy_load", ctypes.c_char_p, _c_void_pp)
_rq_npy_load_buffer = _lib.status_function("rq_npy_load_buffer", ctypes.c_void_p, ctypes.c_size_t, _c_void_pp)
_rq_npy_dltensor = _lib.status_function("rq_npy_dltensor", ctypes.c_void_p, ctypes.POINTER(DLTensor))
_rq_npy_destroy = _lib.plain_function("rq_npy_destroy", None, ctypes.c_void_p)
_rq_npy_save = _lib.status_function("rq_npy_save", ctypes.c_char_p, ctypes.POINTER(DLTensor))


class NpyHandle(_lib.Handle):
    """An rq_npy: an array loaded by razorq, owning its memory."""

    _destroy = _rq_npy_destroy

    def dltensor(self):
        view = DLTensor()
        _rq_npy_dltensor(self.pointer, ctypes.byref(view))
        return view

    def to_numpy(self):
        """The data as a NumPy array (zero copy; keeps this handle alive)."""
        return to_numpy(self.dltensor(), self)


def _path(path):
    return os.fsencode(os.fspath(path))


def load(path):
    """Reads a .npy file into a NumPy array (C order, native byte order)."""
    out = ctypes.c_void_p()
    _rq_npy_load(_path(path), ctypes.byref(out))
    return NpyHandle(out.value).to_numpy()


def load_buffer(data):
    """Reads a whole .npy file given as bytes (or any buffer)."""
    if not isinstance(data, bytes):
        data = memoryview(data).cast("B").tobytes()
    out = ctypes.c_void_p()
    _rq_npy_load_buffer(data, len(data), ctypes.byref(out))
    return NpyHandle(out.value).to_numpy()


def save(path, array):
    """Writes `array` (any layout, one of the supported dtypes) as a .npy file
    in C order, little-endian, format 1.0. A TensorView is written as is (so a
    bfloat16 view is refused with UnsupportedError)."""
    if not isinstance(array, TensorView):
        array = np.asarray(array)
        if not array.dtype.isnative:
            array = array.astype(array.dtype.newbyteorder("="))
        array = TensorView(array)
    _rq_npy_save(_path(path), array.pointer)
