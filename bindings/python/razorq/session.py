# SPDX-License-Identifier: Apache-2.0
"""Quantizers and quantization sessions (<razorq/session.h>): prepare,
calibrate, convert, export."""
import collections
import ctypes

import numpy as np

from . import _lib
from .backend import BackendConfig
from .dlpack import DLTensor, as_dltensor_pointer
from .fakequant import FakeQuant
from .graph import Graph, input_tensors, tensor_list_to_dict

_c_void_pp = ctypes.POINTER(ctypes.c_void_p)
_c_size_p = ctypes.POINTER(ctypes.c_size_t)
_c_bool_p = ctypes.POINTER(ctypes.c_bool)
_dl_p = ctypes.POINTER(DLTensor)

_rq_quantizer_create = _lib.status_function("rq_quantizer_create", ctypes.c_char_p, _c_void_pp)
_rq_quantizer_destroy = _lib.plain_function("rq_quantizer_destroy", None, ctypes.c_void_p)
_rq_quantizer_backend = _lib.plain_function("rq_quantizer_backend", ctypes.c_void_p, ctypes.c_void_p)
_rq_quantizer_prepare = _lib.status_function("rq_quantizer_prepare", ctypes.c_void_p, ctypes.c_void_p, _c_void_pp)
_rq_session_destroy = _lib.plain_function("rq_session_destroy", None, ctypes.c_void_p)
_rq_session_calibrate = _lib.status_function("rq_session_calibrate", ctypes.c_void_p, _dl_p, ctypes.c_size_t)
_rq_session_observe = _lib.status_function("rq_session_observe", ctypes.c_void_p, ctypes.c_char_p, _dl_p)
_rq_session_convert = _lib.status_function("rq_session_convert", ctypes.c_void_p)
_progress_fn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint64, ctypes.c_uint64)
_rq_session_set_progress = _lib.status_function("rq_session_set_progress", ctypes.c_void_p, _progress_fn,
                                                ctypes.c_void_p)
_rq_session_run = _lib.status_function("rq_session_run", ctypes.c_void_p, _dl_p, ctypes.c_size_t, _c_void_pp)
_path_functions = {name: _lib.status_function("rq_session_" + name, ctypes.c_void_p, ctypes.c_char_p)
                   for name in ("export", "save_calibration", "load_calibration", "save_trt_cache", "save_state",
                                "merge")}


class _ExportOptions(ctypes.Structure):
    """rq_session_export_options (<razorq/export.h>)."""
    _fields_ = [("struct_size", ctypes.c_size_t), ("format", ctypes.c_int), ("weight_storage", ctypes.c_int)]


_rq_session_export_options_init = _lib.status_function("rq_session_export_options_init",
                                                       ctypes.POINTER(_ExportOptions), ctypes.c_size_t)
_rq_session_export_with = _lib.status_function("rq_session_export_with", ctypes.c_void_p, ctypes.c_char_p,
                                               ctypes.POINTER(_ExportOptions))
EXPORT_FORMATS = {"backend": 0, "qdq": 1, "openvino-fq": 2}
WEIGHT_STORAGE = {"backend": 0, "as_qscheme": 1, "uint8": 2}
_rq_session_point_count = _lib.plain_function("rq_session_point_count", ctypes.c_size_t, ctypes.c_void_p)
_rq_session_point_info = _lib.status_function("rq_session_point_info", ctypes.c_void_p, ctypes.c_size_t,
                                              ctypes.POINTER(ctypes.c_char_p), _c_bool_p, _c_void_pp)
_rq_session_sqnr = _lib.status_function("rq_session_sqnr", ctypes.c_void_p, _dl_p, ctypes.c_size_t,
                                        ctypes.POINTER(ctypes.c_double), ctypes.c_size_t, _c_size_p)
_rq_session_note_count = _lib.plain_function("rq_session_note_count", ctypes.c_size_t, ctypes.c_void_p)
_rq_session_note = _lib.plain_function("rq_session_note", ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t)
_rq_session_graph = _lib.plain_function("rq_session_graph", ctypes.c_void_p, ctypes.c_void_p)
_rq_session_calibration_settings = _lib.status_function("rq_session_calibration_settings", ctypes.c_void_p,
                                                        _c_size_p, _c_size_p)

Point = collections.namedtuple("Point", "edge is_weight fake_quant")
Point.__doc__ = """A place that got a fake-quant: its edge (value name), whether it is a
weight, and its FakeQuant (borrowed from the session; shared between the edges
of a concat or share-qparams chain)."""


class Quantizer(_lib.Handle):
    """A quantizer (rq_quantizer) from an MMRazor-style config, a dict or JSON
    text: global_qconfig, quantizer (backend type, tracer), calibrate_steps...
    (doc/config.md)."""

    _destroy = _rq_quantizer_destroy

    def __init__(self, config):
        out = ctypes.c_void_p()
        _rq_quantizer_create(_lib.to_json(config), ctypes.byref(out))
        super().__init__(out.value)

    @property
    def backend(self):
        """The BackendConfig the quantizer targets (borrowed from it)."""
        return BackendConfig._borrow(_rq_quantizer_backend(self.pointer), self)

    def prepare(self, graph):
        """A Session for `graph` (copied, unchanged): BN folded, fake-quants
        placed, weights observed and fake-quantized."""
        out = ctypes.c_void_p()
        _rq_quantizer_prepare(self.pointer, graph.pointer, ctypes.byref(out))
        return Session(out.value)


class Session(_lib.Handle):
    """One model being quantized (rq_session). Inputs of calibrate(), run() and
    sqnr() are given as for Graph.run: arrays in input order, one dict, or
    keywords named after the inputs."""

    _destroy = _rq_session_destroy

    def _inputs(self, args, kwargs):
        return input_tensors(_rq_session_graph(self.pointer), args, kwargs)

    def calibrate(self, *args, **kwargs):
        """One calibration batch (the model runs with fake-quants, observers on)."""
        tensors, n, _keep = self._inputs(args, kwargs)
        _rq_session_calibrate(self.pointer, tensors, n)

    def observe(self, edge, value):
        """Feeds one tensor computed elsewhere to the observer of `edge`."""
        ptr, _keep = as_dltensor_pointer(value)
        _rq_session_observe(self.pointer, _lib.to_c_string(edge), ptr)

    def convert(self, progress=None):
        """Ends calibration: fake-quants take their observers' qparams (and
        AdaRound / bias correction run, as the config says). Idempotent.
        progress(what, done, total), if given, is called during long steps
        (AdaRound's iterations)."""
        if progress is None:
            _rq_session_convert(self.pointer)
            return
        callback = _progress_fn(lambda _user, what, done, total: progress(what.decode(), done, total))
        _rq_session_set_progress(self.pointer, callback, None)
        try:
            _rq_session_convert(self.pointer)
        finally:
            _rq_session_set_progress(self.pointer, _progress_fn(), None)

    def run(self, *args, **kwargs):
        """Runs the fake-quantized model (after convert): {output name: ndarray}."""
        tensors, n, _keep = self._inputs(args, kwargs)
        out = ctypes.c_void_p()
        _rq_session_run(self.pointer, tensors, n, ctypes.byref(out))
        return tensor_list_to_dict(out.value)

    def sqnr(self, *args, **kwargs):
        """After convert: SQNR in dB per fake-quant place, as a float64 array
        in `points` order (+inf where nothing was lost)."""
        tensors, n, _keep = self._inputs(args, kwargs)
        count = _rq_session_point_count(self.pointer)
        values = np.empty(max(count, 1), np.float64)
        got = ctypes.c_size_t()
        _rq_session_sqnr(self.pointer, tensors, n, values.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
                         values.size, ctypes.byref(got))
        return values[:got.value]

    def export(self, path, format="backend", weight_storage="backend"):
        """Writes the quantized model (after convert): format "backend" (the
        backend config's export.format, QDQ for every built-in), "qdq" or
        "openvino-fq"; weight_storage "backend", "as_qscheme" or "uint8"
        (<razorq/export.h>)."""
        if format not in EXPORT_FORMATS or weight_storage not in WEIGHT_STORAGE:
            raise ValueError(f"format must be one of {sorted(EXPORT_FORMATS)} and weight_storage one of "
                             f"{sorted(WEIGHT_STORAGE)}")
        options = _ExportOptions()
        _rq_session_export_options_init(ctypes.byref(options), ctypes.sizeof(options))
        options.format = EXPORT_FORMATS[format]
        options.weight_storage = WEIGHT_STORAGE[weight_storage]
        _rq_session_export_with(self.pointer, _lib.to_c_string(path), ctypes.byref(options))

    def save_calibration(self, path):
        """Writes every fake-quant's qparams (after convert) as a calibration table."""
        _path_functions["save_calibration"](self.pointer, _lib.to_c_string(path))

    def load_calibration(self, path):
        """Loads a calibration table instead of calibrating, and converts."""
        _path_functions["load_calibration"](self.pointer, _lib.to_c_string(path))

    def save_trt_cache(self, path):
        """Writes TensorRT's calibration cache (after convert)."""
        _path_functions["save_trt_cache"](self.pointer, _lib.to_c_string(path))

    def save_state(self, path):
        """Saves every observer's statistics (before convert), for sharded calibration."""
        _path_functions["save_state"](self.pointer, _lib.to_c_string(path))

    def merge(self, path):
        """Merges a state saved by save_state (same model and config) into this session."""
        _path_functions["merge"](self.pointer, _lib.to_c_string(path))

    @property
    def points(self):
        """[Point(edge, is_weight, fake_quant)]; each FakeQuant is borrowed and
        keeps this session alive."""
        points = []
        for i in range(_rq_session_point_count(self.pointer)):
            edge, is_weight, fq = ctypes.c_char_p(), ctypes.c_bool(), ctypes.c_void_p()
            _rq_session_point_info(self.pointer, i, ctypes.byref(edge), ctypes.byref(is_weight), ctypes.byref(fq))
            points.append(Point(_lib.from_c_string(edge.value), is_weight.value, FakeQuant._borrow(fq.value, self)))
        return points

    @property
    def notes(self):
        """What prepare left in float and why, BN folding: a list of str."""
        return [_lib.from_c_string(_rq_session_note(self.pointer, i))
                for i in range(_rq_session_note_count(self.pointer))]

    @property
    def graph(self):
        """The prepared float model (BN folded), borrowed from the session."""
        return Graph._borrow(_rq_session_graph(self.pointer), self)

    @property
    def calibration_settings(self):
        """(calibrate_steps, calibrate_batch_size) from the config."""
        steps, batch = ctypes.c_size_t(), ctypes.c_size_t()
        _rq_session_calibration_settings(self.pointer, ctypes.byref(steps), ctypes.byref(batch))
        return steps.value, batch.value
