# SPDX-License-Identifier: Apache-2.0
"""Finding librazorq and declaring its functions.

Every C function the bindings use is declared once here through
`status_function` (for functions returning rq_status: a failure raises the
matching RazorqError with rq_last_error()'s message) or `plain_function`.
Wrappers for a new C API declare their functions the same way, in their own
module:

    _rq_observer_create = status_function("rq_observer_create", c_char_p, POINTER(c_void_p))
"""
import ctypes
import json
import os

from . import errors

# The ABI major these bindings were written against (librazorq.so.<ABI>).
ABI_MAJOR = 0
_SONAME = "librazorq.so.%d" % ABI_MAJOR


def _candidates():
    """Where librazorq is looked for, in order: $RAZORQ_LIBRARY, next to the
    package (a bundled copy), then the system loader (LD_LIBRARY_PATH, ldconfig)."""
    env = os.environ.get("RAZORQ_LIBRARY")
    if env:
        # An explicit choice must not silently fall back to another copy.
        return [env], True
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [os.path.join(here, _SONAME), os.path.join(os.path.dirname(here), _SONAME)]
    return [p for p in paths if os.path.exists(p)] + [_SONAME], False


def _load():
    paths, explicit = _candidates()
    failures = []
    for path in paths:
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            failures.append("%s: %s" % (path, e))
            if explicit:
                break
    raise ImportError("razorq: cannot load librazorq (set RAZORQ_LIBRARY to its path): " + "; ".join(failures))


lib = _load()


def plain_function(name, restype, *argtypes):
    """A C function that does not return rq_status."""
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


def _check_status(status, fn, args):
    if status != 0:
        raise errors.error_for(status, _last_error())
    return status


def status_function(name, *argtypes):
    """A C function returning rq_status; calling it raises on failure."""
    fn = plain_function(name, ctypes.c_int, *argtypes)
    fn.errcheck = _check_status
    return fn


_rq_last_error = plain_function("rq_last_error", ctypes.c_char_p)
_rq_status_str = plain_function("rq_status_str", ctypes.c_char_p, ctypes.c_int)


def _last_error():
    return _rq_last_error().decode("utf-8", "replace")


def status_name(status):
    """The C name of a status code, e.g. "RQ_ERR_FORMAT"."""
    return _rq_status_str(int(status)).decode("ascii")


_rq_abi_major = plain_function("rq_abi_major", ctypes.c_uint)
if _rq_abi_major() != ABI_MAJOR:
    raise ImportError("razorq: the loaded library has ABI %d, these bindings need %d" % (_rq_abi_major(), ABI_MAJOR))


def to_c_string(value):
    """bytes for a `const char *` argument: str is UTF-8 encoded, a path-like
    is encoded as the file system does (os.fsencode)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return os.fsencode(os.fspath(value))


def to_json(config):
    """A JSON text argument: a dict/list is serialised, a str passed as is."""
    if isinstance(config, (str, bytes)):
        return to_c_string(config)
    return json.dumps(config).encode("utf-8")


def from_c_string(value):
    return None if value is None else value.decode("utf-8", "replace")


def sized_arrays(fn, *ctypes_types):
    """Calls a C function of the "capacity / *count" shape, fn(*arrays,
    capacity, &count), twice: with capacity 0 and NULL arrays to learn the
    count, then with arrays of that size. Returns the filled ctypes arrays."""
    count = ctypes.c_size_t()
    fn(*([None] * len(ctypes_types)), 0, ctypes.byref(count))
    n = count.value
    arrays = [(t * max(n, 1))() for t in ctypes_types]
    fn(*arrays, n, ctypes.byref(count))
    return [a[:n] for a in arrays]


def sized_text(fn, *args):
    """Calls a C function of the "buffer, capacity, *length" shape (text
    without the NUL in *length) and returns the text."""
    length = ctypes.c_size_t()
    fn(*args, None, 0, ctypes.byref(length))
    buf = ctypes.create_string_buffer(length.value + 1)
    fn(*args, buf, len(buf), ctypes.byref(length))
    return buf.value.decode("utf-8")


class Handle:
    """A C handle (an opaque pointer), owned or borrowed.

    Subclasses set `_destroy` to the rq_<noun>_destroy function. An owned
    handle is freed by close(), by leaving a `with` block, or when garbage
    collected. A borrowed one (`Cls._borrow(pointer, owner)`) points into an
    object owned by `owner` (a fake-quant's observer, a session's fake-quants):
    it keeps `owner` alive and never frees anything itself."""

    _destroy = None

    def __init__(self, pointer):
        self._ptr = ctypes.c_void_p(pointer)
        self._owner = None

    @classmethod
    def _borrow(cls, pointer, owner):
        obj = cls.__new__(cls)
        Handle.__init__(obj, pointer)
        obj._owner = owner
        return obj

    @property
    def borrowed(self):
        """True when another object owns the C handle (see `_borrow`)."""
        return self._owner is not None

    @property
    def pointer(self):
        if not self._ptr:
            raise ValueError("%s is closed" % type(self).__name__)
        if self._owner is not None:
            self._owner.pointer  # raises if the owner (or its owner) was closed
        return self._ptr

    def close(self):
        """Frees an owned handle now (later calls raise ValueError); for a
        borrowed one only drops this object's access."""
        if self._ptr:
            ptr, self._ptr = self._ptr, ctypes.c_void_p()
            if self._owner is None:
                type(self)._destroy(ptr)
            self._owner = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        # At interpreter exit module globals may already be gone.
        try:
            self.close()
        except Exception:
            pass
