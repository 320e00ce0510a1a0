# SPDX-License-Identifier: Apache-2.0
"""Backend configs (<razorq/backend.h>): where a deployment target wants
quantization and in which dtypes."""
import ctypes
import json

from . import _lib

_c_void_pp = ctypes.POINTER(ctypes.c_void_p)
_c_size_p = ctypes.POINTER(ctypes.c_size_t)

_rq_backend_config_create = _lib.status_function("rq_backend_config_create", ctypes.c_char_p, _c_void_pp)
_rq_backend_config_destroy = _lib.plain_function("rq_backend_config_destroy", None, ctypes.c_void_p)
_rq_backend_config_name = _lib.plain_function("rq_backend_config_name", ctypes.c_char_p, ctypes.c_void_p)
_rq_backend_config_to_json = _lib.status_function("rq_backend_config_to_json", ctypes.c_void_p, ctypes.c_char_p,
                                                  ctypes.c_size_t, _c_size_p)
_rq_register_backend_config = _lib.status_function("rq_register_backend_config", ctypes.c_char_p)
_rq_backend_config_example = _lib.status_function("rq_backend_config_example", ctypes.c_char_p, ctypes.c_char_p,
                                                  ctypes.c_size_t, _c_size_p)
_rq_backend_config_list = _lib.status_function("rq_backend_config_list", ctypes.POINTER(ctypes.c_char_p),
                                               ctypes.c_size_t, _c_size_p)


class BackendConfig(_lib.Handle):
    """A backend config (rq_backend_config), immutable: a built-in or
    registered name ("openvino", "mmrazor.TensorRTQuantizer") or a JSON
    definition (dict or text, doc/backends.md)."""

    _destroy = _rq_backend_config_destroy

    def __init__(self, name_or_json):
        if not isinstance(name_or_json, (str, bytes)):
            name_or_json = json.dumps(name_or_json)
        out = ctypes.c_void_p()
        _rq_backend_config_create(_lib.to_c_string(name_or_json), ctypes.byref(out))
        super().__init__(out.value)

    @property
    def name(self):
        """The canonical name ("openvino")."""
        return _rq_backend_config_name(self.pointer).decode("utf-8", "replace")

    def to_json(self):
        """The complete definition as JSON text (what BackendConfig() reads)."""
        return _lib.sized_text(_rq_backend_config_to_json, self.pointer)

    def to_dict(self):
        return json.loads(self.to_json())

    def __repr__(self):
        return "<razorq.BackendConfig %s>" % (self.name if self._ptr else "closed")


def backends():
    """Names of the built-in, then the registered backends."""
    (names,) = _lib.sized_arrays(_rq_backend_config_list, ctypes.c_char_p)
    return [n.decode("utf-8", "replace") for n in names]


def example_config(backend):
    """MMRazor's shipped PTQ config for a built-in backend, as a dict to edit
    and pass to Quantizer (global_qconfig, quantizer, calibrate_steps)."""
    return json.loads(_lib.sized_text(_rq_backend_config_example, _lib.to_c_string(backend)))


def register_backend(definition):
    """Registers a custom backend definition (dict or JSON text) under its
    "name"; ExistsError if that name is taken."""
    _rq_register_backend_config(_lib.to_json(definition))
