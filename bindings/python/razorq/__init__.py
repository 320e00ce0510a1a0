# SPDX-License-Identifier: Apache-2.0
"""razorq: quantize neural networks (Python bindings over librazorq via ctypes).

The library is found through $RAZORQ_LIBRARY, then next to this package, then
the system loader. Failing calls raise a RazorqError subclass carrying the C
library's detail message. See doc/python.md."""
import ctypes

from . import _lib
from .errors import (Status, RazorqError, InvalidArgumentError, OutOfMemoryError, RazorqIOError, FormatError,
                     UnsupportedError, NonFiniteError, NotFoundError, ExistsError, StateError, AbiError,
                     ChecksumError, IsaError, InternalError, CallbackError)
from .dlpack import DLTensor, TensorView, to_numpy
from . import npy
from .graph import Graph, ValueInfo, Node, supports_op, onnx_type_name
from .observer import Observer, observer_types, fake_quant_types, load_plugin
from .fakequant import FakeQuant, LearningMode, Mode
from .backend import BackendConfig, backends, example_config, register_backend
from .session import Quantizer, Session, Point
from .cpu import kernel_isa, set_kernel_isa

_rq_version = _lib.plain_function("rq_version", ctypes.c_uint)
_rq_version_string = _lib.plain_function("rq_version_string", ctypes.c_char_p)
_rq_memory_in_use = _lib.plain_function("rq_memory_in_use", ctypes.c_size_t)


def version():
    """The loaded library's version, "major.minor.patch"."""
    return _rq_version_string().decode("ascii")


def version_number():
    """The loaded library's version as major * 10000 + minor * 100 + patch."""
    return _rq_version()


def abi_major():
    """The loaded library's ABI major (its soname suffix)."""
    return _lib._rq_abi_major()


def last_error():
    """This thread's last razorq failure message ("" if none)."""
    return _lib._last_error()


def memory_in_use():
    """Bytes currently allocated by librazorq (handles not yet freed)."""
    return _rq_memory_in_use()


library_path = _lib.lib._name
__version__ = version()

__all__ = [
    "version", "version_number", "abi_major", "last_error", "memory_in_use", "library_path",
    "Status", "RazorqError", "InvalidArgumentError", "OutOfMemoryError", "RazorqIOError", "FormatError",
    "UnsupportedError", "NonFiniteError", "NotFoundError", "ExistsError", "StateError", "AbiError", "ChecksumError",
    "IsaError", "InternalError", "CallbackError",
    "DLTensor", "TensorView", "to_numpy", "npy",
    "Graph", "ValueInfo", "Node", "supports_op", "onnx_type_name",
    "Observer", "observer_types", "fake_quant_types", "load_plugin",
    "FakeQuant", "LearningMode", "Mode",
    "BackendConfig", "backends", "example_config", "register_backend",
    "Quantizer", "Session", "Point",
    "kernel_isa", "set_kernel_isa",
]
