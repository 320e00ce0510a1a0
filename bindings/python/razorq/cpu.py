# SPDX-License-Identifier: Apache-2.0
"""Which SIMD kernel set runs (<razorq/cpu.h>)."""
import ctypes

from . import _lib

_rq_kernel_isa = _lib.plain_function("rq_kernel_isa", ctypes.c_char_p)
_rq_kernel_set_isa = _lib.status_function("rq_kernel_set_isa", ctypes.c_char_p)


def kernel_isa():
    """The instruction set whose kernels run: "scalar", "sse41", "avx2" or "neon"."""
    return _rq_kernel_isa().decode("ascii")


def set_kernel_isa(name):
    """Switches kernels ("scalar", "sse41", "avx2", "neon"; "auto" or None for
    the automatic choice). All sets compute bit-identical results.
    IsaError when this CPU or build lacks it. Not while other threads run razorq."""
    _rq_kernel_set_isa(None if name is None else _lib.to_c_string(name))
