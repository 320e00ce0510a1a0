#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Calls every exported function that returns rq_status with all-NULL/zero
arguments, through ctypes on the shared library. Each must refuse with
RQ_ERR_INVALID_ARG and a detail message naming itself: a crash, RQ_OK or an
empty message fails. The function list and arities come from the public
headers (via doc/gen_api.py), so a new function is swept without editing this.

Usage: null_sweep.py LIBRARY SOURCE_ROOT
"""
import ctypes
import os
import re
import sys

# All-zero arguments that are valid calls, with the reason.
ALLOWED = {
    "rq_set_allocator": "NULL restores the C library allocator",
    "rq_error_set": "a status and no format are a complete message",
    "rq_kernel_set_isa": "NULL restores the automatic choice",
}


def main():
    lib_path, root = sys.argv[1], sys.argv[2]
    sys.path.insert(0, os.path.join(root, "doc"))
    import gen_api  # noqa: E402

    lib = ctypes.CDLL(lib_path)
    lib.rq_last_error.restype = ctypes.c_char_p
    lib.rq_error_clear.restype = None
    checked, failures = 0, []
    headers = sorted(os.path.join(d, f) for d, _, files in os.walk(gen_api.HEADERS) for f in files if f.endswith(".h"))
    for decl, _ in (d for path in headers for d in gen_api.declarations(path)):
        m = re.match(r"rq_status (rq_\w+)\((.*)\);$", decl)
        if not m:
            continue
        name, params = m.group(1), m.group(2).strip()
        if name in ALLOWED:
            continue
        params = [] if params in ("", "void") else [p.strip() for p in params.split(",")]
        if any("..." in p for p in params):
            continue
        args = []
        for p in params:
            if "*" in p:
                args.append(ctypes.c_void_p(None))
            elif re.search(r"\b(float|double)\b", p):
                args.append(ctypes.c_double(0.0) if "double" in p else ctypes.c_float(0.0))
            elif re.search(r"\b(size_t|uint64_t|int64_t)\b", p):
                args.append(ctypes.c_uint64(0))
            else:
                args.append(ctypes.c_int(0))
        fn = getattr(lib, name)
        fn.restype = ctypes.c_int
        lib.rq_error_clear()
        status = fn(*args)
        message = (lib.rq_last_error() or b"").decode()
        checked += 1
        if status != -1:
            failures.append(f"{name}({', '.join(params)}): returned {status}, expected RQ_ERR_INVALID_ARG (-1)")
        elif name not in message:
            failures.append(f"{name}: message '{message}' does not name the function")
    for f in failures:
        print("FAIL", f)
    print(f"null sweep: {checked - len(failures)} passed, {len(failures)} failed")
    return 1 if failures or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
