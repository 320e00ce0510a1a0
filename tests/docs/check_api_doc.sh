#!/usr/bin/env bash
# doc/api.md must be generated from the current headers, and every function
# the library exports must be documented there.
set -euo pipefail
source_root="$1"; lib="$2"
/usr/bin/python3 "$source_root/doc/gen_api.py" --check
documented=$(grep '^### `rq_' "$source_root/doc/api.md" | sed 's/^### `//; s/`$//' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '$2 == "T" {sub(/@.*/, "", $3); print $3}' | sort -u)
missing=$(comm -13 <(printf '%s\n' "$documented") <(printf '%s\n' "$exported"))
if [ -n "$missing" ]; then
  echo "exported but not declared with RQ_API in a public header (so undocumented):"
  printf '  %s\n' $missing
  exit 1
fi
echo "$(printf '%s\n' "$exported" | wc -l) exported functions, all documented"
