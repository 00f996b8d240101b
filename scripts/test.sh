#!/usr/bin/env bash
# Set everything up on a fresh Debian 12 machine and run every test with
# ctest: the style, layer and size checks, the normal build (gcc), the same tests under
# AddressSanitizer and UBSan (SKIP_SANITIZE=1 skips that pass), and a
# clang build with the same warnings as errors that runs the unit tests
# (SKIP_CLANG=1 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/check_style.sh
scripts/check_layers.sh
scripts/check_sizes.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 300
if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
  BUILD_DIR=build-asan BUILD_TYPE=Debug scripts/build.sh -DBENCHCTL_SANITIZE=ON
  # intercept_tls_get_addr=0: LeakSanitizer in GCC 12 crashes on dlopen'ed
  # libraries with thread-local storage (libcurl, libssh) otherwise.
  ASAN_OPTIONS=detect_leaks=1:intercept_tls_get_addr=0 ctest --test-dir build-asan --output-on-failure -j2 --timeout 300
fi
if [ "${SKIP_CLANG:-0}" != 1 ]; then
  CC=clang BUILD_DIR=build-clang scripts/build.sh
  ctest --test-dir build-clang --output-on-failure -j2 --timeout 300 -R '^(unit|style)\.' -E '_large$'
fi
