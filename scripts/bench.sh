#!/usr/bin/env bash
# Run the benchmarks in tests/bench/ (on demand; not part of CI).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
BUILD_TYPE=Release BUILD_DIR=build-release scripts/build.sh -DBENCHCTL_BUILD_TESTS=OFF
cc -O2 -o build-release/peakrss tests/bench/peakrss.c
echo "== orchestration overhead, peak RSS, startup"
python3 tests/bench/overhead.py build-release/core/benchctl build-release/peakrss "$@"
echo "== stopping: SIGINT with background stages"
python3 tests/bench/stop_latency.py build-release/core/benchctl
echo "== readiness latency (port and file probes)"
python3 tests/bench/readiness.py build-release/core/benchctl
echo "== SSH transport (needs root: starts a throwaway sshd and user)"
if [ "$(id -u)" = 0 ]; then python3 tests/bench/ssh_bench.py build-release/core/benchctl; else echo "skipped: not root"; fi
