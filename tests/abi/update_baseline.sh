#!/usr/bin/env bash
# Regenerates abi/librazorq.abi from a build dir (default build/). Run it when a
# release adds API, or after an intended ABI bump (see doc/abi.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build}"
ninja -C "$build" >/dev/null
abidw --headers-dir include/razorq --drop-private-types --no-corpus-path \
  --suppressions abi/opaque_handles.suppr --out-file abi/librazorq.abi "$build/lib/librazorq.so.0"
echo "wrote abi/librazorq.abi"
