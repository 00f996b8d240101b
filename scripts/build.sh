#!/usr/bin/env bash
# Configure and build benchctl into build/ (BUILD_DIR overrides), with
# warnings as errors (BENCHCTL_WERROR, off by default for distribution
# builds; scripts/test.sh and CI build through this script).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" -DBENCHCTL_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
