#!/usr/bin/env bash
# Every public header must compile on its own, as strict C11 and as C++, with
# warnings as errors: users include them in any order and from C++ engines.
set -euo pipefail
cc="$1"; cxx="$2"; src_inc="$3"; build_inc="$4"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0
for h in $(cd "$src_inc" && find razorq -name '*.h' | sort); do
  printf '#include <%s>\n#include <%s>\nint main(void) { return 0; }\n' "$h" "$h" > "$tmp/t.c"
  "$cc" -std=c11 -Wall -Wextra -pedantic -Werror -fsyntax-only -I"$build_inc" -I"$src_inc" "$tmp/t.c" \
    || { echo "C: $h does not compile alone"; exit 1; }
  if [ -n "$cxx" ]; then
    cp "$tmp/t.c" "$tmp/t.cc"
    "$cxx" -std=c++11 -Wall -Wextra -pedantic -Werror -fsyntax-only -I"$build_inc" -I"$src_inc" "$tmp/t.cc" \
      || { echo "C++: $h does not compile alone"; exit 1; }
  fi
  n=$((n + 1))
done
echo "$n public headers compile alone (C11${cxx:+ and C++11}, -pedantic -Werror)"
