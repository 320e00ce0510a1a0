#!/usr/bin/env bash
# Installs everything razorq needs to build and test (Debian 12 packages, and
# ONNX Runtime from npm for the deployment tests), then builds into build/.
# Safe to run again: installed packages and an existing build dir are reused.
set -euo pipefail
cd "$(dirname "$0")"

# Build and runtime dependencies.
build_packages=(
  build-essential meson ninja-build pkg-config
  libprotobuf-c-dev protobuf-c-compiler libonnx-dev   # ONNX I/O, generated from onnx.proto at build time
  libxxhash-dev libjansson-dev libdlpack-dev libopenblas-dev
  check                                               # C unit tests
)
# Test and development tools: golden data, conformance data, ABI and memory checks.
test_packages=(
  python3 python3-numpy python3-pytest python3-torch python3-onnx
  libonnx-testdata abigail-tools valgrind
  clang libclang-rt-14-dev                            # libFuzzer targets
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user  # NEON kernels cross-built, run under qemu-aarch64
  nodejs                                              # ONNX Runtime (onnxruntime-node) for deployment tests
)

# Only for regenerating golden data and for the benchmarks in bench/.
dev_packages=(
  python3-sklearn                                     # the shared digits fixtures' generator (tests/e2e/gen_fx_baseline.py)
  python3-torchvision                                 # ResNet-18 / MobileNetV2 for bench/models/
  time                                                # GNU time: peak RSS in bench/models/run_ptq.py
)

missing=()
for p in "${build_packages[@]}" "${test_packages[@]}" "${dev_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ONNX Runtime: its Linux CPU library ships inside the npm package, so no
# install script (and no download) is needed.
command -v npm >/dev/null || { sudo_npm=""; [ "$(id -u)" -eq 0 ] || sudo_npm="sudo"; $sudo_npm apt-get install -y -qq npm; }
if [ ! -d node_modules/onnxruntime-node ]; then
  echo "setup: installing onnxruntime-node from npm"
  # --prefix: into this checkout's node_modules even when a folder above it
  # holds a package.json (npm would otherwise install there).
  npm install --prefix "$PWD" --no-save --no-audit --no-fund --ignore-scripts onnxruntime-node >/dev/null
fi

if [ ! -d build ]; then
  meson setup build
else
  meson setup --reconfigure build >/dev/null
fi
ninja -C build
echo "setup: built into build/. Run the tests with ./run-tests.sh"
