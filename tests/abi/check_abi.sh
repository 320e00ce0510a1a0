#!/usr/bin/env bash
# Compares the built library's ABI with the committed baseline (abi/librazorq.abi).
# New functions and variables pass; any change to what the baseline already
# has (a signature, a struct layout, a removed symbol) fails with instructions.
set -uo pipefail
lib="$1"; baseline="$2"; headers="$3"
if ! command -v abidiff >/dev/null; then
  echo "abidiff not found: install abigail-tools (./setup.sh does)"; exit 1
fi
# The opaque handles' layouts are private: abi/opaque_handles.suppr leaves them out.
suppressions="$(dirname "$baseline")/opaque_handles.suppr"
abidiff --no-added-syms --suppressions "$suppressions" --headers-dir2 "$headers" --drop-private-types \
  "$baseline" "$lib" > abidiff.out 2>&1
rc=$?
cat abidiff.out
# abidiff's exit status is a bit field: 1 error, 2 usage, 4 ABI change, 8 incompatible change.
if [ $((rc & 3)) -ne 0 ]; then echo "abidiff failed to run (status $rc)"; exit 1; fi
if [ $((rc & 12)) -ne 0 ]; then
  cat <<MSG
ABI CHANGE: librazorq changed what $baseline already exports (see above).
If this was not meant, restore the old signature/struct layout (add a _v2 function
or a field at the end of a struct_size-versioned struct instead).
Growing a struct that carries struct_size at its end is compatible by razorq's
policy (doc/abi.md): refresh the baseline in the same commit and say so.
If an incompatible change was meant, bump the ABI on purpose: raise rq_abi_major in meson.build (the soname),
start a new version node in lib/razorq.map, note it in doc/abi.md, and refresh the
baseline with: tests/abi/update_baseline.sh build
MSG
  exit 1
fi
echo "ABI compatible with $baseline"
exit 0
