#!/usr/bin/env bash
# Runs every razorq test, the way CI does:
#   1. the whole suite on the normal build (build/, made by ./setup.sh), and
#      the NEON kernels cross-built for aarch64 and run under qemu;
#   2. the C suites again under AddressSanitizer + UndefinedBehaviorSanitizer,
#      warnings as errors (build-asan/);
#   3. the C suites under valgrind's memcheck (build/);
#   4. each fuzz target for a bounded time, when clang's libFuzzer is present.
# Ends with one line "run-tests: N passed, N failed, N skipped" over all stages.
# Usage: ./run-tests.sh [--quick]   (--quick: stage 1 only)
set -uo pipefail
cd "$(dirname "$0")"
quick=0
[ "${1:-}" = "--quick" ] && quick=1

jobs=$(nproc 2>/dev/null || echo 2)
failed_stages=()
logs=()

stage() { printf '\n=== %s ===\n' "$*"; }

# Suites that cannot run under a sanitizer or valgrind: Python loads the library
# into an uninstrumented interpreter; the ABI suite inspects the normal build.
c_only=(--no-suite python --no-suite abi)

stage "1/4 all tests (build/)"
[ -d build ] || meson setup build
if ninja -C build && meson test -C build --print-errorlogs --num-processes "$jobs"; then :; else failed_stages+=("tests"); fi
logs+=(build/meson-logs/testlog.json)

if [ $quick -eq 0 ]; then
  stage "1b/4 NEON kernels cross-built, under qemu-aarch64 (build-neon/)"
  if tests/kernels/neon/run_neon_qemu.sh build-neon; then :; else failed_stages+=("neon"); fi

  stage "2/4 C tests under ASan+UBSan, -Werror (build-asan/)"
  if [ ! -d build-asan ]; then
    meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true \
      -Dbuildtype=debug -Dpython_tests=disabled >/dev/null
  fi
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  if ninja -C build-asan && meson test -C build-asan --print-errorlogs --num-processes "$jobs" \
       "${c_only[@]}" --timeout-multiplier 4; then :; else failed_stages+=("asan"); fi
  unset ASAN_OPTIONS UBSAN_OPTIONS
  logs+=(build-asan/meson-logs/testlog.json)

  stage "3/4 C tests under valgrind (build/)"
  # Check runs tests in-process (CK_FORK=no) so valgrind sees one process per suite.
  # Suite "script": the test's program is an interpreter (python3, sh) driving a C
  # program; valgrind would check the interpreter and the dynamic loader, not razorq
  # (Python under valgrind reports ld.so's rpath handling on some machines). The
  # C code those scripts drive is covered here by the conformance and fuzz-replay suites.
  if CK_FORK=no meson test -C build --print-errorlogs --num-processes "$jobs" --logbase valgrind \
       "${c_only[@]}" --no-suite script --no-suite slow --timeout-multiplier 20 \
       --wrap='valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect'; then :
  else failed_stages+=("valgrind"); fi
  logs+=(build/meson-logs/valgrind*.json)

  stage "4/4 fuzz targets, bounded"
  if [ -x tests/fuzz/run_fuzzers.sh ]; then
    if tests/fuzz/run_fuzzers.sh "${RAZORQ_FUZZ_SECONDS:-60}"; then :; else failed_stages+=("fuzz"); fi
  else
    echo "no fuzz runner yet"
  fi
fi

# One closing line over every stage's meson log.
/usr/bin/python3 - "${logs[@]}" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"): passed += 1
        elif r == "SKIP": skipped += 1
        else: failed += 1
print(f"\nrun-tests: {passed} passed, {failed} failed, {skipped} skipped")
PY

if [ ${#failed_stages[@]} -gt 0 ]; then
  echo "run-tests: FAILED stages: ${failed_stages[*]}"
  exit 1
fi
echo "run-tests: all stages passed"
