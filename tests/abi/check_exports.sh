#!/usr/bin/env bash
# Only rq_-prefixed symbols may leave librazorq.so (internal ones are rq__*,
# hidden). Anything else exported is an accident that would become ABI.
set -euo pipefail
lib="$1"
exported=$(nm -D --defined-only "$lib" | awk '$2 != "A" {sub(/@.*/, "", $3); print $3}')
[ -n "$exported" ] || { echo "no exported symbols found in $lib"; exit 1; }
bad=$(printf '%s\n' "$exported" | grep -Ev '^rq_[a-z0-9]' || true)
internal=$(printf '%s\n' "$exported" | grep -E '^rq__' || true)
unversioned=$(nm -D --defined-only "$lib" | awk '$2 != "A" && $3 !~ /@@RAZORQ_/ {print $3}')
status=0
if [ -n "$bad$internal" ]; then
  echo "symbols exported without the public rq_ prefix (or internal rq__):"; printf '  %s\n' $bad $internal; status=1
fi
if [ -n "$unversioned" ]; then
  echo "symbols exported outside a RAZORQ_* version node:"; printf '  %s\n' $unversioned; status=1
fi
echo "$(printf '%s\n' "$exported" | wc -l) exported symbols checked"
exit $status
