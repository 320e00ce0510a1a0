# SPDX-License-Identifier: Apache-2.0
"""Fake-quants (<razorq/fakequant.h>): quantize-dequantize in float, forward and backward."""
import collections
import ctypes
import enum

import numpy as np

from . import _lib
from .dlpack import DLTensor, TensorView, as_dltensor_pointer
from .observer import Observer, qparams_arrays

_c_void_pp = ctypes.POINTER(ctypes.c_void_p)
_c_size_p = ctypes.POINTER(ctypes.c_size_t)
_c_float_p = ctypes.POINTER(ctypes.c_float)
_c_i32_p = ctypes.POINTER(ctypes.c_int32)
_c_bool_p = ctypes.POINTER(ctypes.c_bool)
_dl_p = ctypes.POINTER(DLTensor)

_rq_fake_quant_create = _lib.status_function("rq_fake_quant_create", ctypes.c_char_p, _c_void_pp)
_rq_fake_quant_destroy = _lib.plain_function("rq_fake_quant_destroy", None, ctypes.c_void_p)
_rq_fake_quant_type_name = _lib.plain_function("rq_fake_quant_type_name", ctypes.c_char_p, ctypes.c_void_p)
_rq_fake_quant_forward = _lib.status_function("rq_fake_quant_forward", ctypes.c_void_p, _dl_p, _dl_p)
_rq_fake_quant_backward = _lib.status_function("rq_fake_quant_backward", ctypes.c_void_p, _dl_p, _dl_p, _dl_p,
                                               _c_float_p, _c_float_p)
_rq_fake_quant_set_mode = _lib.status_function("rq_fake_quant_set_mode", ctypes.c_void_p, ctypes.c_bool,
                                               ctypes.c_bool)
_rq_fake_quant_get_mode = _lib.status_function("rq_fake_quant_get_mode", ctypes.c_void_p, _c_bool_p, _c_bool_p,
                                               _c_bool_p)
_rq_fake_quant_set_learning_mode = _lib.status_function("rq_fake_quant_set_learning_mode", ctypes.c_void_p,
                                                        ctypes.c_int)
_rq_fake_quant_observer = _lib.plain_function("rq_fake_quant_observer", ctypes.c_void_p, ctypes.c_void_p)
_rq_fake_quant_quant_range = _lib.status_function("rq_fake_quant_quant_range", ctypes.c_void_p, _c_i32_p, _c_i32_p)
_rq_fake_quant_channel_axis = _lib.status_function("rq_fake_quant_channel_axis", ctypes.c_void_p, _c_bool_p,
                                                   _c_i32_p)
_rq_fake_quant_qparams = _lib.status_function("rq_fake_quant_qparams", ctypes.c_void_p, _c_float_p, _c_i32_p,
                                              ctypes.c_size_t, _c_size_p)
_rq_fake_quant_get_params = _lib.status_function("rq_fake_quant_get_params", ctypes.c_void_p, _c_float_p,
                                                 _c_float_p, ctypes.c_size_t, _c_size_p)
_rq_fake_quant_set_params = _lib.status_function("rq_fake_quant_set_params", ctypes.c_void_p, _c_float_p,
                                                 _c_float_p, ctypes.c_size_t)


class LearningMode(enum.IntEnum):
    """MMRazor's LearnableFakeQuantize modes (rq_fake_quant_learning_mode)."""
    PARAM_LEARNING = 1
    STATIC_ESTIMATE = 2
    VAL = 3
    STATIC_OBSERVATION = 4


Mode = collections.namedtuple("Mode", "observer fake_quant learning")


def _float32_buffer(values):
    a = np.ascontiguousarray(values, np.float32).reshape(-1)
    return a, a.ctypes.data_as(_c_float_p)


class FakeQuant(_lib.Handle):
    """A fake-quant (rq_fake_quant): FakeQuantize, FixedQParamsFakeQuantize,
    FusedMovingAvgObsFakeQuantize, LearnableFakeQuantize or a plugin class.

    FakeQuant({"type": "FakeQuantize", "observer": {...}, ...}) takes the JSON
    config rq_fake_quant_create takes, as a dict or a JSON string (doc/fakequant.md)."""

    _destroy = _rq_fake_quant_destroy

    def __init__(self, config):
        out = ctypes.c_void_p()
        _rq_fake_quant_create(_lib.to_json(config), ctypes.byref(out))
        super().__init__(out.value)

    @property
    def type_name(self):
        """The class name without prefix ("FakeQuantize")."""
        return _rq_fake_quant_type_name(self.pointer).decode("utf-8", "replace")

    def forward(self, x, out=None, bfloat16=False):
        """One training/calibration step (PyTorch's forward): the observer (if
        on) sees x, then y = fake_quant(x) (if on, else a copy of x). `out`:
        a float32 array of x's shape to write into (may be x itself when x is
        float32); allocated when None. Returns it."""
        x_ptr, x_keep = as_dltensor_pointer(x, bfloat16)
        if out is None:
            out = np.empty(x_keep.shape, np.float32)
        out_view = TensorView(out)
        _rq_fake_quant_forward(self.pointer, x_ptr, out_view.pointer)
        return out

    __call__ = forward

    def backward(self, x, dy):
        """Gradients of the last forward at x for the upstream gradient dy:
        (dx, dscale, dzero_point). dx is the straight-through gradient;
        dscale/dzero_point (float32, one per scale) are the learnable
        parameters' gradients, zeros for a parameter that is not being learned."""
        x_ptr, _x_keep = as_dltensor_pointer(x)
        dy = np.asarray(dy)
        dy_ptr, _dy_keep = as_dltensor_pointer(dy)
        dx = np.empty(dy.shape, np.float32)
        n = len(self.params[0])
        dscale, dzero_point = np.zeros(n, np.float32), np.zeros(n, np.float32)
        _rq_fake_quant_backward(self.pointer, x_ptr, dy_ptr, TensorView(dx).pointer,
                                dscale.ctypes.data_as(_c_float_p), dzero_point.ctypes.data_as(_c_float_p))
        return dx, dscale, dzero_point

    @property
    def mode(self):
        """Mode(observer, fake_quant, learning): the current switches."""
        obs, fq, learn = ctypes.c_bool(), ctypes.c_bool(), ctypes.c_bool()
        _rq_fake_quant_get_mode(self.pointer, ctypes.byref(obs), ctypes.byref(fq), ctypes.byref(learn))
        return Mode(obs.value, fq.value, learn.value)

    def set_mode(self, observer=None, fake_quant=None):
        """PyTorch's enable/disable_observer and enable/disable_fake_quant;
        None keeps a switch as it is."""
        current = self.mode
        _rq_fake_quant_set_mode(self.pointer, current.observer if observer is None else bool(observer),
                                current.fake_quant if fake_quant is None else bool(fake_quant))

    def _set_learning_mode(self, mode):
        if isinstance(mode, str):
            mode = LearningMode[mode.upper()]
        _rq_fake_quant_set_learning_mode(self.pointer, int(mode))

    learning_mode = property(None, _set_learning_mode, doc="""MMRazor's mode of a LearnableFakeQuantize
        (write only: a LearningMode or its name, e.g. "param_learning"); read `mode` for the switches.""")

    @property
    def observer(self):
        """The fake-quant's observer (borrowed: keeps this fake-quant alive)."""
        return Observer._borrow(_rq_fake_quant_observer(self.pointer), self)

    @property
    def quant_range(self):
        lo, hi = ctypes.c_int32(), ctypes.c_int32()
        _rq_fake_quant_quant_range(self.pointer, ctypes.byref(lo), ctypes.byref(hi))
        return lo.value, hi.value

    @property
    def per_channel(self):
        flag, axis = ctypes.c_bool(), ctypes.c_int32()
        _rq_fake_quant_channel_axis(self.pointer, ctypes.byref(flag), ctypes.byref(axis))
        return flag.value

    @property
    def ch_axis(self):
        flag, axis = ctypes.c_bool(), ctypes.c_int32()
        _rq_fake_quant_channel_axis(self.pointer, ctypes.byref(flag), ctypes.byref(axis))
        return axis.value

    def qparams(self):
        """(scale float32, zero_point int32): PyTorch's calculate_qparams()."""
        return qparams_arrays(_rq_fake_quant_qparams, self.pointer)

    @property
    def params(self):
        """(scale, zero_point) the forward applies, both float32 arrays.
        Assign (scale, zero_point) or (scale, None) to replace them."""
        scale, zero_point = _lib.sized_arrays(
            lambda s, z, cap, count: _rq_fake_quant_get_params(self.pointer, s, z, cap, count),
            ctypes.c_float, ctypes.c_float)
        return np.array(scale, np.float32), np.array(zero_point, np.float32)

    @params.setter
    def params(self, value):
        scale, zero_point = value
        scale, scale_p = _float32_buffer(scale)
        zp_p = None
        if zero_point is not None:
            zero_point, zp_p = _float32_buffer(zero_point)
            if zero_point.size != scale.size:
                raise ValueError("%d scales but %d zero points" % (scale.size, zero_point.size))
        _rq_fake_quant_set_params(self.pointer, scale_p, zp_p, scale.size)

    def __repr__(self):
        return "<razorq.FakeQuant %s>" % (self.type_name if self._ptr else "closed")
