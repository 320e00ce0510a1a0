#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the golden .npy files the C tests read, using NumPy itself.

Each case NAME gets NAME.npy (written by NumPy, in the format/order/byte order
under test) and NAME.raw: the same values as C-order little-endian bytes
(booleans 0/1), a second encoding that does not go through the .npy format.
cases.json lists every case with its dtype letters, shape and how it was
written. Re-run after changing the cases:  /usr/bin/python3 tests/npy/gen_npy.py
"""
import json
import os

import numpy as np
import numpy.lib.format as npformat

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data")
rng = np.random.default_rng(20261127)


def values(dtype, shape):
    """Random values covering each type's extremes (and NaN/inf for floats)."""
    want = np.dtype(dtype)
    dt = want.newbyteorder("=")  # generate natively, convert at the end
    n = int(np.prod(shape))
    if dt.kind == "b":
        a = rng.integers(0, 2, n).astype(bool)
    elif dt.kind == "f":
        a = (rng.standard_normal(n) * 100).astype(dt)
        special = np.array([np.inf, -np.inf, np.nan, -0.0, np.finfo(dt).max, np.finfo(dt).tiny], dtype=dt)
        a[: min(n, len(special))] = special[: min(n, len(special))]
    else:
        info = np.iinfo(dt)
        a = rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
        special = np.array([info.min, info.max, 0, 1], dtype=dt)
        a[: min(n, len(special))] = special[: min(n, len(special))]
    return a.astype(want).reshape(shape)


cases = []


def add(name, array, version=(1, 0), dtype_str=None):
    path = os.path.join(OUT, name + ".npy")
    with open(path, "wb") as f:
        npformat.write_array(f, array, version=version, allow_pickle=False)
    little = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"))
    with open(os.path.join(OUT, name + ".raw"), "wb") as f:
        f.write(little.tobytes(order="C"))
    cases.append({
        "name": name,
        "dtype": array.dtype.kind + str(array.dtype.itemsize),
        "shape": list(array.shape),
        "version": "%d.%d" % version,
        "fortran_order": bool(array.flags.f_contiguous and not array.flags.c_contiguous),
        "big_endian": array.dtype.byteorder == ">",
    })


def main():
    os.makedirs(OUT, exist_ok=True)
    for code in ["f2", "f4", "f8", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "b1"]:
        add(code + "_3x4", values("<" + code if code[1] != "1" else code, (3, 4)))
    for code in ["f2", "f4", "f8", "i2", "u2", "i4", "u4", "i8", "u8"]:
        add(code + "_be_2x3", values(">" + code, (2, 3)))
    add("f4_scalar", values("<f4", ()))
    add("i8_scalar", values("<i8", ()))
    add("f4_empty", values("<f4", (0,)))
    add("f4_empty_2x0x3", values("<f4", (2, 0, 3)))
    add("i4_1d", values("<i4", (7,)))
    add("f4_large", values("<f4", (40, 257)))
    add("f4_fortran_3x4x5", np.asfortranarray(values("<f4", (3, 4, 5))))
    add("i2_fortran_4x3", np.asfortranarray(values("<i2", (4, 3))))
    add("b1_fortran_2x5", np.asfortranarray(values("b1", (2, 5))))
    add("f8_be_fortran_3x2", np.asfortranarray(values(">f8", (3, 2))))
    add("f4_v2_2x3", values("<f4", (2, 3)), version=(2, 0))
    add("u1_v3_5", values("u1", (5,)), version=(3, 0))
    # The writer's oracle for strided input: NumPy's own C-order copy of a
    # transposed view of f4_fortran_3x4x5's values (axes (2, 0, 1)).
    with open(os.path.join(OUT, "f4_fortran_3x4x5.npy"), "rb") as f:
        base = npformat.read_array(f)
    add("f4_3x4x5_transposed_201", np.ascontiguousarray(base.transpose(2, 0, 1)))
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
