#!/usr/bin/env bash
# Installs the build into a scratch root, then builds and runs
# examples/pkgconfig-consumer using only `pkg-config --cflags --libs razorq`.
set -euo pipefail
build="$1"; example="$2"
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
meson install -C "$build" --no-rebuild --destdir "$root" --quiet >/dev/null
pcdir=$(dirname "$(find "$root" -name razorq.pc | head -n1)")
[ -f "$pcdir/razorq.pc" ] || { echo "razorq.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$root"
echo "pkg-config --cflags --libs razorq: $(pkg-config --cflags --libs razorq)"
make -s -C "$example" OUT="$root" CC="${CC:-cc}"
libdir=$(dirname "$(find "$root" -name 'librazorq.so.0' | head -n1)")
out=$(LD_LIBRARY_PATH="$libdir" "$root/consumer")
echo "$out"
# The consumer must have loaded the installed library, not one elsewhere.
# (ldd's output is captured first: grep -q closing the pipe early would make
# ldd die of SIGPIPE, and pipefail would report that as a failure.)
resolved=$(LD_LIBRARY_PATH="$libdir" ldd "$root/consumer")
grep -q "$libdir/librazorq.so.0" <<<"$resolved" \
  || { echo "consumer did not resolve the installed librazorq.so.0:"; echo "$resolved"; exit 1; }
# Installed pieces a user relies on.
for f in include/razorq/razorq.h include/razorq/version.h include/razorq/sys/plugin.h; do
  [ -n "$(find "$root" -path "*/$f")" ] || { echo "not installed: $f"; exit 1; }
done
[ -n "$(find "$root" -name 'razorq' -type f -path '*/bin/*')" ] || { echo "CLI not installed"; exit 1; }
[ -n "$(find "$root" -name 'razorq.1*')" ] || { echo "man page not installed"; exit 1; }
grep -q "RQ_ERR_INVALID_ARG: rq_allocator_init: allocator is NULL" <<<"$out"
