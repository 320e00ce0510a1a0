#!/usr/bin/env bash
# Bounded libFuzzer sessions for every fuzz target (run-tests.sh stage 4):
# builds build-fuzz/ with clang (-fsanitize=fuzzer,address,undefined), then
# fuzzes each target for SECONDS (default 60), starting from its committed
# corpus. Any crash, leak, sanitizer report or timeout fails the run; the
# reproducer is left in build-fuzz/ as crash-*/leak-*/timeout-*.
# Usage: tests/fuzz/run_fuzzers.sh [SECONDS]
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
if ! command -v clang >/dev/null; then
  echo "fuzz: clang is not installed (./setup.sh installs it)"; exit 1
fi
if [ ! -d build-fuzz ]; then
  CC=clang meson setup build-fuzz -Dpython_tests=disabled -Dslow_tests=false >/dev/null || exit 1
fi
ninja -C build-fuzz >/dev/null || { echo "fuzz: build failed"; ninja -C build-fuzz | tail -20; exit 1; }
status=0
declare -A corpora=([onnx_load]=tests/fuzz/corpus/onnx [npy]=tests/fuzz/corpus/npy [config]=tests/fuzz/corpus/config
                     [observer_state]=tests/fuzz/corpus/observer_state
                     [calibration_file]=tests/fuzz/corpus/calibration_file
                     [exec]=tests/fuzz/corpus/exec [ptq]=tests/fuzz/corpus/exec)
# A slow input is a failure everywhere but where models run (exec, ptq): a
# model may legitimately ask for much compute; there it ends the session,
# reported.
declare -A extra=([exec]="-timeout=30 -timeout_exitcode=0" [ptq]="-timeout=30 -timeout_exitcode=0")
# fuzz_calibration_file reads tests/data/digits_mlp.onnx from here.
export RAZORQ_SOURCE_ROOT="$PWD"
for target in "${!corpora[@]}"; do
  exe=build-fuzz/tests/fuzz/fuzz_$target
  [ -x "$exe" ] || { echo "fuzz: $exe was not built (does clang link -fsanitize=fuzzer? needs libclang-rt-14-dev)"; status=1; continue; }
  # New inputs go to a scratch corpus; the committed one only seeds it.
  work=build-fuzz/corpus-$target
  mkdir -p "$work"
  echo "fuzz: $target for ${seconds}s"
  # shellcheck disable=SC2086 # extra flags are words
  if (cd build-fuzz && "../$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
        ${extra[$target]:-} -print_final_stats=1 "corpus-$target" "../${corpora[$target]}" \
        > "fuzz-$target.log" 2>&1); then
    grep -E "^stat::number_of_executed_units" "build-fuzz/fuzz-$target.log" | sed "s/^/fuzz: $target /"
    grep -E "^artifact_prefix=.*timeout-" "build-fuzz/fuzz-$target.log" | sed "s/^.*Test unit written to /fuzz: $target: a slow input (not a failure): build-fuzz\//"
  else
    echo "fuzz: $target FAILED; last lines of build-fuzz/fuzz-$target.log:"
    tail -30 "build-fuzz/fuzz-$target.log"
    status=1
  fi
done
exit $status
