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

# razorq config: every built-in backend has an example config and a definition
# that are valid JSON; the example names that backend's quantizer.
for b in $("$razorq" config --list-backends); do
  "$razorq" config --example "$b" | /usr/bin/python3 -c '
import json, sys
cfg = json.load(sys.stdin)
assert set(cfg["global_qconfig"]) == {"w_observer", "a_observer", "w_fake_quant", "a_fake_quant", "w_qscheme", "a_qscheme"}, cfg
assert cfg["quantizer"]["type"].startswith("mmrazor."), cfg' || fail "config --example $b is not a valid config"
  "$razorq" config --backend "$b" | /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["name"] == sys.argv[1], d' "$b" \
    || fail "config --backend $b is not its definition"
done
set +e
"$razorq" config --example nope >/dev/null 2>err.txt; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "no built-in backend named 'nope'" err.txt || fail "config --example nope: rc $rc, $(cat err.txt)"
echo '{"name": "vendor-x", "base": "openvino", "weight": {"bits": [4, 8]}}' > vendor.json
vendor=$("$razorq" config --backend "$PWD/vendor.json") || fail "config --backend FILE failed"
grep -q '"vendor-x"' <<<"$vendor" || fail "config --backend FILE"
echo "cli: config checked"
