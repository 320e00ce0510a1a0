# SPDX-License-Identifier: Apache-2.0
"""Version reporting, library discovery and the status -> exception mapping."""
import ctypes
import os
import re

import pytest

import razorq
from razorq import _lib, errors


def project_version():
    """The version meson.build declares: the oracle for what the library reports."""
    with open(os.path.join(os.environ["RAZORQ_SOURCE_ROOT"], "meson.build")) as f:
        return re.search(r"version\s*:\s*'([0-9.]+)'", f.read()).group(1)


def test_version_matches_the_project():
    assert razorq.version() == project_version()
    assert razorq.__version__ == project_version()
    major, minor, patch = (int(x) for x in project_version().split("."))
    assert razorq.version_number() == major * 10000 + minor * 100 + patch


def test_the_library_named_by_razorq_library_is_loaded():
    assert os.path.samefile(razorq.library_path, os.environ["RAZORQ_LIBRARY"])
    # The soname carries the ABI major the bindings expect.
    soname = re.search(r"librazorq\.so\.(\d+)", os.path.realpath(os.environ["RAZORQ_LIBRARY"]))
    assert int(soname.group(1)) == razorq.abi_major() == _lib.ABI_MAJOR


def test_every_status_the_library_names_has_an_exception_class():
    named = [s for s in range(-128, 1) if _lib.status_name(s) != "RQ_ERR_UNKNOWN"]
    assert named == sorted(int(s) for s in errors.Status)
    for s in errors.Status:
        assert _lib.status_name(s) == "RQ_" + s.name
        if s == errors.Status.OK:
            continue
        exc = errors.error_for(int(s), "detail")
        assert type(exc) is errors.ERROR_CLASSES[s]
        assert isinstance(exc, razorq.RazorqError)
        assert exc.status == s and exc.status_name == "RQ_" + s.name and str(exc) == "detail"


def test_an_unknown_status_still_raises_a_razorq_error():
    exc = errors.error_for(-55, "from a newer library")
    assert type(exc) is razorq.RazorqError and exc.status == -55 and exc.status_name == "RQ_ERR_UNKNOWN"


def test_a_null_argument_raises_with_the_c_detail_message():
    out = ctypes.c_void_p()
    with pytest.raises(razorq.InvalidArgumentError) as info:
        razorq.npy._rq_npy_load(None, ctypes.byref(out))
    assert str(info.value) == "rq_npy_load: path is NULL"
    assert info.value.detail == razorq.last_error()
    assert info.value.status == razorq.Status.ERR_INVALID_ARG
    assert isinstance(info.value, ValueError)


def test_errors_carry_their_builtin_bases(tmp_path):
    with pytest.raises(OSError) as info:
        razorq.npy.load(tmp_path / "missing.npy")
    assert isinstance(info.value, razorq.RazorqIOError)
    assert "cannot open" in str(info.value) and "missing.npy" in str(info.value)


def test_error_set_from_python_is_visible():
    # rq_error_set is what plugins and callbacks use; the message round-trips.
    rq_error_set = _lib.plain_function("rq_error_set", ctypes.c_int, ctypes.c_int, ctypes.c_char_p)
    assert rq_error_set(int(razorq.Status.ERR_CALLBACK), b"plugin failed") == razorq.Status.ERR_CALLBACK
    assert razorq.last_error() == "plugin failed"


def test_meson_installs_every_module_of_the_package():
    root = os.environ["RAZORQ_SOURCE_ROOT"]
    package = os.path.join(root, "bindings", "python", "razorq")
    with open(os.path.join(root, "bindings", "python", "meson.build")) as f:
        listed = set(re.findall(r"'razorq/([^']+\.py)'", f.read()))
    assert listed == {name for name in os.listdir(package) if name.endswith(".py")}
