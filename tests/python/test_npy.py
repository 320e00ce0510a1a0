# SPDX-License-Identifier: Apache-2.0
"""razorq's .npy reader and writer with NumPy as the oracle: files NumPy
writes load to equal arrays, files razorq writes load in NumPy to equal
arrays (and, for NumPy's own layout, are byte-identical)."""
import gc
import io

import numpy as np
import numpy.lib.format as npformat
import pytest

import razorq

rng = np.random.default_rng(7)
DTYPES = ["f2", "f4", "f8", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "b1"]
SHAPES = [(), (0,), (5,), (3, 4), (2, 0, 3), (2, 3, 4, 5), (70, 130)]


def sample(code, shape):
    dtype = np.dtype(code)
    n = int(np.prod(shape))
    if dtype.kind == "b":
        return rng.integers(0, 2, n).astype(bool).reshape(shape)
    if dtype.kind == "f":
        a = (rng.standard_normal(n) * 1000).astype(dtype)
        a[: min(n, 3)] = np.array([np.nan, np.inf, -0.0], dtype)[: min(n, 3)]
        return a.reshape(shape)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, n, dtype=dtype, endpoint=True).reshape(shape)


def assert_same(got, want):
    assert got.dtype == want.dtype.newbyteorder("=")
    assert got.shape == want.shape
    assert got.flags.c_contiguous
    np.testing.assert_array_equal(got, want)  # NaNs in the same places compare equal


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("code", DTYPES)
def test_numpy_save_then_razorq_load(tmp_path, code, shape):
    a = sample(code, shape)
    np.save(tmp_path / "a.npy", a)
    assert_same(razorq.npy.load(tmp_path / "a.npy"), a)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("code", DTYPES)
def test_razorq_save_then_numpy_load(tmp_path, code, shape):
    a = sample(code, shape)
    razorq.npy.save(tmp_path / "r.npy", a)
    got = np.load(tmp_path / "r.npy", allow_pickle=False)
    assert_same(got, a)
    np.save(tmp_path / "n.npy", a)
    assert (tmp_path / "r.npy").read_bytes() == (tmp_path / "n.npy").read_bytes()


@pytest.mark.parametrize("code", ["f2", "f4", "f8", "i2", "u4", "i8"])
def test_big_endian_files_are_converted(tmp_path, code):
    a = sample(code, (4, 3)).astype(">" + code)
    np.save(tmp_path / "be.npy", a)
    assert_same(razorq.npy.load(tmp_path / "be.npy"), a)
    # And a big-endian array is written little-endian with the same values.
    razorq.npy.save(tmp_path / "out.npy", a)
    out = np.load(tmp_path / "out.npy")
    assert out.dtype.byteorder in ("<", "=", "|")
    np.testing.assert_array_equal(out, a)


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (1, 5), (6, 1, 2)], ids=str)
def test_fortran_order_files_are_transposed_to_c_order(tmp_path, shape):
    a = np.asfortranarray(sample("f4", shape))
    np.save(tmp_path / "f.npy", a)
    assert b"'fortran_order': True" in (tmp_path / "f.npy").read_bytes()[:128] or a.flags.c_contiguous
    assert_same(razorq.npy.load(tmp_path / "f.npy"), a)


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_format_versions(tmp_path, version):
    a = sample("i4", (3, 5))
    with open(tmp_path / "v.npy", "wb") as f:
        npformat.write_array(f, a, version=version)
    assert_same(razorq.npy.load(tmp_path / "v.npy"), a)


def test_strided_arrays_are_saved_in_c_order(tmp_path):
    base = sample("f8", (6, 7, 8))
    for a in [base.T, base[::2, ::-1, 3], np.asfortranarray(base)]:
        razorq.npy.save(tmp_path / "s.npy", a)
        assert_same(np.load(tmp_path / "s.npy"), a)


def test_load_buffer_matches_load(tmp_path):
    a = sample("u2", (9, 2))
    buf = io.BytesIO()
    np.save(buf, a)
    assert_same(razorq.npy.load_buffer(buf.getvalue()), a)
    assert_same(razorq.npy.load_buffer(bytearray(buf.getvalue())), a)


def test_loaded_array_owns_the_c_memory_until_released(tmp_path):
    gc.collect()
    before = razorq.memory_in_use()
    a = sample("f4", (100, 100))
    np.save(tmp_path / "m.npy", a)
    got = razorq.npy.load(tmp_path / "m.npy")
    assert razorq.memory_in_use() >= before + a.nbytes
    view = got[10:20]
    del got
    gc.collect()
    np.testing.assert_array_equal(view, a[10:20])  # still valid through the view
    del view
    gc.collect()
    assert razorq.memory_in_use() == before


def npy_bytes(a):
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=True)
    return buf.getvalue()


@pytest.mark.parametrize("name,data,error,fragment", [
    ("bad-magic", b"\x93NUMPX" + npy_bytes(np.zeros(3, np.float32))[6:], razorq.FormatError, "bad magic"),
    ("truncated", npy_bytes(np.zeros(30, np.float32))[:-1], razorq.FormatError, "truncated data"),
    ("header-too-long", npy_bytes(np.zeros(3))[:8] + b"\xff\xff" + npy_bytes(np.zeros(3))[10:],
     razorq.FormatError, "bad header length"),
    ("object", npy_bytes(np.array([{"a": 1}, None], dtype=object)), razorq.UnsupportedError, "object arrays"),
    ("complex", npy_bytes(np.zeros(2, np.complex64)), razorq.UnsupportedError, "'<c8' is not supported"),
    ("structured", npy_bytes(np.zeros(2, [("x", "<f4"), ("y", "<i4")])), razorq.UnsupportedError, "structured"),
    ("empty", b"", razorq.FormatError, "bad magic"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_malformed_files_raise_with_a_message(tmp_path, name, data, error, fragment):
    with pytest.raises(error, match=fragment):
        razorq.npy.load_buffer(data)
    (tmp_path / "bad.npy").write_bytes(data)
    with pytest.raises(error) as info:
        razorq.npy.load(tmp_path / "bad.npy")
    assert fragment in str(info.value) and "bad.npy" in str(info.value)


def test_unsupported_arrays_are_refused_on_save(tmp_path):
    with pytest.raises(TypeError):
        razorq.npy.save(tmp_path / "c.npy", np.zeros(2, np.complex128))
    bits = np.zeros(2, np.uint16)
    with pytest.raises(razorq.UnsupportedError, match="bfloat16"):
        razorq.npy.save(tmp_path / "b.npy", razorq.TensorView(bits, bfloat16=True))
    assert not (tmp_path / "b.npy").exists()
    with pytest.raises(razorq.RazorqIOError, match="cannot open for writing"):
        razorq.npy.save(tmp_path / "no" / "dir.npy", bits)
