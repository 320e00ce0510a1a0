# SPDX-License-Identifier: Apache-2.0
"""Observers (<razorq/observer.h>) and the class registry (<razorq/sys/plugin.h>)."""
import ctypes

import numpy as np

from . import _lib
from .dlpack import DLTensor, as_dltensor_pointer

_c_void_pp = ctypes.POINTER(ctypes.c_void_p)
_c_size_p = ctypes.POINTER(ctypes.c_size_t)
_c_float_p = ctypes.POINTER(ctypes.c_float)
_c_i32_p = ctypes.POINTER(ctypes.c_int32)
_c_bool_p = ctypes.POINTER(ctypes.c_bool)

_rq_observer_create = _lib.status_function("rq_observer_create", ctypes.c_char_p, _c_void_pp)
_rq_observer_destroy = _lib.plain_function("rq_observer_destroy", None, ctypes.c_void_p)
_rq_observer_observe = _lib.status_function("rq_observer_observe", ctypes.c_void_p, ctypes.POINTER(DLTensor))
_rq_observer_reset = _lib.status_function("rq_observer_reset", ctypes.c_void_p)
_rq_observer_qparams = _lib.status_function("rq_observer_qparams", ctypes.c_void_p, _c_float_p, _c_i32_p,
                                            ctypes.c_size_t, _c_size_p)
_rq_observer_minmax = _lib.status_function("rq_observer_minmax", ctypes.c_void_p, _c_float_p, _c_float_p,
                                           ctypes.c_size_t, _c_size_p)
_rq_observer_quant_range = _lib.status_function("rq_observer_quant_range", ctypes.c_void_p, _c_i32_p, _c_i32_p)
_rq_observer_channel_axis = _lib.status_function("rq_observer_channel_axis", ctypes.c_void_p, _c_bool_p, _c_i32_p)
_rq_observer_is_symmetric = _lib.status_function("rq_observer_is_symmetric", ctypes.c_void_p, _c_bool_p)
_rq_observer_type_name = _lib.plain_function("rq_observer_type_name", ctypes.c_char_p, ctypes.c_void_p)
_rq_observer_save = _lib.status_function("rq_observer_save", ctypes.c_void_p, _c_void_pp, _c_size_p)
_rq_observer_free_saved = _lib.plain_function("rq_observer_free_saved", None, ctypes.c_void_p)
_rq_observer_load = _lib.status_function("rq_observer_load", ctypes.c_char_p, ctypes.c_size_t, _c_void_pp)
_rq_observer_merge = _lib.status_function("rq_observer_merge", ctypes.c_void_p, ctypes.c_void_p)
_rq_observer_recorded = _lib.status_function("rq_observer_recorded", ctypes.c_void_p, ctypes.c_size_t, _c_float_p,
                                             ctypes.c_size_t, _c_size_p, _c_size_p)

_rq_registry_list = _lib.status_function("rq_registry_list", ctypes.c_int, ctypes.POINTER(ctypes.c_char_p),
                                         ctypes.c_size_t, _c_size_p)
_rq_plugin_load = _lib.status_function("rq_plugin_load", ctypes.c_char_p)
_REGISTRY_OBSERVER = 1
_REGISTRY_FAKE_QUANT = 2


def _registry(kind):
    (names,) = _lib.sized_arrays(lambda names, cap, count: _rq_registry_list(kind, names, cap, count), ctypes.c_char_p)
    return [n.decode("utf-8", "replace") for n in names]


def observer_types():
    """Registered observer class names (built-ins first, then plugins)."""
    return _registry(_REGISTRY_OBSERVER)


def fake_quant_types():
    """Registered fake-quant class names (built-ins first, then plugins)."""
    return _registry(_REGISTRY_FAKE_QUANT)


def load_plugin(path):
    """Loads a razorq plugin shared object, which registers its classes."""
    _rq_plugin_load(_lib.to_c_string(path))


def qparams_arrays(fn, pointer):
    """(scale float32 ndarray, zero_point int32 ndarray) from a
    rq_*_qparams-shaped function."""
    scale, zero_point = _lib.sized_arrays(lambda s, z, cap, count: fn(pointer, s, z, cap, count),
                                          ctypes.c_float, ctypes.c_int32)
    return np.array(scale, np.float32), np.array(zero_point, np.int32)


class Observer(_lib.Handle):
    """An observer (rq_observer): collects statistics of the tensors it sees
    and turns them into scales and zero points.

    Observer({"type": "MinMaxObserver", "dtype": "quint8", ...}) takes the JSON
    config rq_observer_create takes, as a dict or a JSON string (doc/observers.md)."""

    _destroy = _rq_observer_destroy

    def __init__(self, config):
        out = ctypes.c_void_p()
        _rq_observer_create(_lib.to_json(config), ctypes.byref(out))
        super().__init__(out.value)

    @classmethod
    def load(cls, data):
        """Recreates an observer from the bytes save() returned."""
        data = bytes(data)
        out = ctypes.c_void_p()
        _rq_observer_load(data, len(data), ctypes.byref(out))
        obj = cls.__new__(cls)
        _lib.Handle.__init__(obj, out.value)
        return obj

    def save(self):
        """Class, qscheme and state as bytes (a checksummed, versioned message)."""
        data, size = ctypes.c_void_p(), ctypes.c_size_t()
        _rq_observer_save(self.pointer, ctypes.byref(data), ctypes.byref(size))
        try:
            return ctypes.string_at(data, size.value)
        finally:
            _rq_observer_free_saved(data)

    def observe(self, x, bfloat16=False):
        """Feeds one tensor (float32/float16, or bfloat16 bits as uint16 with
        bfloat16=True; any strides). Returns self."""
        ptr, _keep = as_dltensor_pointer(x, bfloat16)
        _rq_observer_observe(self.pointer, ptr)
        return self

    def __call__(self, x):
        """Observes x and returns it, as a PyTorch observer's forward does."""
        self.observe(x)
        return x

    def reset(self):
        """Forgets everything observed."""
        _rq_observer_reset(self.pointer)

    def merge(self, other):
        """Folds `other`'s statistics into this observer (same class and config)."""
        _rq_observer_merge(self.pointer, other.pointer)

    def qparams(self):
        """(scale, zero_point): float32 and int32 arrays, one entry per channel
        for per-channel observers, else one (PyTorch's calculate_qparams)."""
        return qparams_arrays(_rq_observer_qparams, self.pointer)

    def minmax(self):
        """(min, max) float32 arrays: the statistic kept as min/max."""
        lo, hi = _lib.sized_arrays(lambda a, b, cap, count: _rq_observer_minmax(self.pointer, a, b, cap, count),
                                   ctypes.c_float, ctypes.c_float)
        return np.array(lo, np.float32), np.array(hi, np.float32)

    @property
    def quant_range(self):
        """(quant_min, quant_max) the qparams target."""
        lo, hi = ctypes.c_int32(), ctypes.c_int32()
        _rq_observer_quant_range(self.pointer, ctypes.byref(lo), ctypes.byref(hi))
        return lo.value, hi.value

    @property
    def per_channel(self):
        flag, axis = ctypes.c_bool(), ctypes.c_int32()
        _rq_observer_channel_axis(self.pointer, ctypes.byref(flag), ctypes.byref(axis))
        return flag.value

    @property
    def ch_axis(self):
        """The channel axis as configured (may be negative); 0 per tensor."""
        flag, axis = ctypes.c_bool(), ctypes.c_int32()
        _rq_observer_channel_axis(self.pointer, ctypes.byref(flag), ctypes.byref(axis))
        return axis.value

    @property
    def is_symmetric(self):
        flag = ctypes.c_bool()
        _rq_observer_is_symmetric(self.pointer, ctypes.byref(flag))
        return flag.value

    @property
    def type_name(self):
        """The canonical class name ("MinMaxObserver")."""
        return _rq_observer_type_name(self.pointer).decode("utf-8", "replace")

    def recorded(self):
        """RecordingObserver: the tensors recorded so far, as flat float32
        arrays (the C API reports element counts, not shapes)."""
        numel, count = ctypes.c_size_t(), ctypes.c_size_t()
        _rq_observer_recorded(self.pointer, 0, None, 0, ctypes.byref(numel), ctypes.byref(count))
        result = []
        for i in range(count.value):
            _rq_observer_recorded(self.pointer, i, None, 0, ctypes.byref(numel), ctypes.byref(count))
            data = np.empty(numel.value, np.float32)
            _rq_observer_recorded(self.pointer, i, data.ctypes.data_as(_c_float_p), data.size, ctypes.byref(numel),
                                  ctypes.byref(count))
            result.append(data)
        return result

    def __repr__(self):
        return "<razorq.Observer %s>" % (self.type_name if self._ptr else "closed")
