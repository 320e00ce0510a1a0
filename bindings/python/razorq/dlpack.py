# SPDX-License-Identifier: Apache-2.0
"""DLPack tensors (dlpack 0.6 layout) over NumPy arrays, without copies.

`TensorView(array)` describes a NumPy array's memory as a DLTensor that C
functions taking `const DLTensor *` read directly; `to_numpy(dltensor, owner)`
wraps a DLTensor the library filled in as a NumPy array that keeps `owner`
(the C handle that owns the memory) alive."""
import ctypes

import numpy as np

# DLDeviceType / DLDataTypeCode values from <dlpack/dlpack.h>.
KDL_CPU = 1
KDL_INT = 0
KDL_UINT = 1
KDL_FLOAT = 2
KDL_BFLOAT = 4
# DLPack 0.8's kDLBool; razorq uses it for NumPy booleans (RQ_DL_BOOL in <razorq/npy.h>).
RQ_DL_BOOL = 6


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("device", DLDevice),
        ("ndim", ctypes.c_int32),
        ("dtype", DLDataType),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)),  # in elements; NULL = C-contiguous
        ("byte_offset", ctypes.c_uint64),
    ]


_KIND_TO_CODE = {"f": KDL_FLOAT, "i": KDL_INT, "u": KDL_UINT, "b": RQ_DL_BOOL}
_CODE_TO_KIND = {v: k for k, v in _KIND_TO_CODE.items()}


def dl_dtype(dtype, bfloat16=False):
    """The DLDataType for a NumPy dtype. bfloat16=True marks a uint16 array
    as holding bfloat16 bit patterns (NumPy has no bfloat16)."""
    dtype = np.dtype(dtype)
    if bfloat16:
        if dtype != np.uint16:
            raise TypeError("bfloat16 data must be given as a uint16 view, not %s" % dtype)
        return DLDataType(KDL_BFLOAT, 16, 1)
    if dtype.kind not in _KIND_TO_CODE:
        raise TypeError("NumPy dtype %s has no DLPack equivalent razorq uses" % dtype)
    if not dtype.isnative:
        raise TypeError("dtype %s is not in native byte order; use array.astype(array.dtype.newbyteorder('='))" % dtype)
    return DLDataType(_KIND_TO_CODE[dtype.kind], dtype.itemsize * 8, 1)


def numpy_dtype(dl):
    """The NumPy dtype for a DLDataType (bfloat16 comes back as uint16)."""
    if dl.lanes != 1:
        raise TypeError("DLPack vector types (lanes=%d) have no NumPy equivalent" % dl.lanes)
    if dl.code == KDL_BFLOAT and dl.bits == 16:
        return np.dtype(np.uint16)
    kind = _CODE_TO_KIND.get(dl.code)
    if kind is None or dl.bits % 8 != 0:
        raise TypeError("DLPack type code %d bits %d has no NumPy equivalent" % (dl.code, dl.bits))
    return np.dtype("%s%d" % (kind, dl.bits // 8))


class TensorView:
    """A DLTensor over a NumPy array's memory (zero copy).

    Keeps the array alive while the view exists. Pass `view.dltensor` (or
    `view.pointer` for a `DLTensor *`) to C. Strides are given in elements, so
    every stride must be a multiple of the item size."""

    def __init__(self, array, bfloat16=False):
        if not isinstance(array, np.ndarray):
            raise TypeError("TensorView needs a numpy.ndarray, got %s" % type(array).__name__)
        dtype = dl_dtype(array.dtype, bfloat16)
        itemsize = array.dtype.itemsize
        for s in array.strides:
            if s % itemsize:
                raise ValueError("array stride %d bytes is not a multiple of its item size %d" % (s, itemsize))
        self.array = array
        self.bfloat16 = bfloat16
        ndim = array.ndim
        self._shape = (ctypes.c_int64 * max(ndim, 1))(*array.shape)
        self._strides = (ctypes.c_int64 * max(ndim, 1))(*(s // itemsize for s in array.strides))
        self.dltensor = DLTensor(
            data=array.ctypes.data,
            device=DLDevice(KDL_CPU, 0),
            ndim=ndim,
            dtype=dtype,
            shape=ctypes.cast(self._shape, ctypes.POINTER(ctypes.c_int64)),
            strides=ctypes.cast(self._strides, ctypes.POINTER(ctypes.c_int64)),
            byte_offset=0,
        )

    @property
    def pointer(self):
        return ctypes.pointer(self.dltensor)

    @property
    def shape(self):
        return tuple(self._shape[i] for i in range(self.dltensor.ndim))

    @property
    def strides(self):
        """Strides in elements."""
        return tuple(self._strides[i] for i in range(self.dltensor.ndim))


def as_dltensor_pointer(obj, bfloat16=False):
    """(pointer, keepalive) for a TensorView or a NumPy array."""
    view = obj if isinstance(obj, TensorView) else TensorView(np.asarray(obj), bfloat16)
    return view.pointer, view


class _ArrayOwner:
    """Exposes C-owned memory through NumPy's array interface; NumPy keeps it
    as the array's base, which keeps `owner` (the C handle) alive."""

    def __init__(self, interface, owner):
        self.__array_interface__ = interface
        self.owner = owner


def to_numpy(dl, owner):
    """A NumPy array over a DLTensor's CPU memory (zero copy) that keeps
    `owner` alive as long as the array (or any view of it) lives."""
    if dl.device.device_type != KDL_CPU:
        raise ValueError("DLTensor is on device type %d, not the CPU" % dl.device.device_type)
    dtype = numpy_dtype(dl.dtype)
    shape = tuple(dl.shape[i] for i in range(dl.ndim))
    strides = None
    if dl.strides:
        strides = tuple(dl.strides[i] * dtype.itemsize for i in range(dl.ndim))
    if 0 in shape:
        return np.empty(shape, dtype)
    interface = {
        "version": 3,
        "shape": shape,
        "typestr": dtype.str,
        "data": ((dl.data or 0) + dl.byte_offset, False),
        "strides": strides,
    }
    return np.asarray(_ArrayOwner(interface, owner))
