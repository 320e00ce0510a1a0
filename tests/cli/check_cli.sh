#!/usr/bin/env bash
# The CLI's contract: every command has complete --help, --version reports the
# library built here, and misuse exits 2 with a hint.
set -euo pipefail
razorq="$1"; expected_version="$2"
fail() { echo "FAIL: $*"; exit 1; }

out=$("$razorq" --version) || fail "--version exited non-zero"
[[ "$out" == "razorq $expected_version "* ]] || fail "--version printed '$out', expected razorq $expected_version"
[ "$("$razorq" version)" = "$out" ] || fail "'version' and '--version' differ"

help=$("$razorq" --help) || fail "--help exited non-zero"
commands=$(printf '%s\n' "$help" | awk '/^Commands:/ {on=1; next} on && /^  [a-z]/ {print $1}')
[ -n "$commands" ] || fail "--help lists no commands"
for c in $commands; do
  h=$("$razorq" "$c" --help) || fail "razorq $c --help exited non-zero"
  [[ "$h" == "Usage: razorq $c"* ]] || fail "razorq $c --help does not start with its usage line"
  [ "$("$razorq" help "$c")" = "$h" ] || fail "'razorq help $c' differs from 'razorq $c --help'"
  # Every command is in the man page.
  grep -q "^\.B $c\$\|^\.BI $c " "$(dirname "$0")/../../doc/razorq.1" || fail "razorq.1 does not document '$c'"
done

set +e
"$razorq" no-such-command >/dev/null 2>err.txt; rc=$?
set -e
[ $rc -eq 2 ] || fail "unknown command exited $rc, expected 2"
grep -q "unknown command 'no-such-command'" err.txt || fail "unknown command message missing"
set +e
"$razorq" >/dev/null 2>&1; rc=$?
set -e
[ $rc -eq 2 ] || fail "no arguments exited $rc, expected 2"
echo "cli: $(printf '%s\n' $commands | wc -l) commands checked"
