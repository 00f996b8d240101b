#!/usr/bin/env bash
# Run the benchmarks in tests/bench/ (on demand; not part of CI).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
BUILD_TYPE=Release BUILD_DIR=build-release scripts/build.sh -DBENCHCTL_BUILD_TESTS=OFF
cc -O2 -o build-release/peakrss tests/bench/peakrss.c
echo "== orchestration overhead, peak RSS, startup"
/usr/bin/python3 tests/bench/overhead.py build-release/core/benchctl build-release/peakrss "$@"
echo "== queue daemon: submit-to-start latency (vs fork+exec), scheduling 10,000 queued tasks (vs qsort)"
cc -O2 -Icore -o build-release/sched_bench tests/bench/sched_bench.c core/daemon/sched.c core/util/util.c core/util/beneath.c -lm
/usr/bin/python3 tests/bench/queue_bench.py build-release/core/benchctl build-release/sched_bench
echo "== stopping: SIGINT with background stages"
python3 tests/bench/stop_latency.py build-release/core/benchctl
echo "== readiness latency (port and file probes)"
python3 tests/bench/readiness.py build-release/core/benchctl
echo "== host monitoring: sampler CPU (1 s, 100 ms) vs vmstat / a naive loop; stage wall time"
/usr/bin/python3 tests/bench/monitor_bench.py build-release/core/benchctl
echo "== host clock offsets: estimated vs injected (libfaketime on sshd sessions), monitor sample alignment"
if [ "$(id -u)" = 0 ]; then /usr/bin/python3 tests/bench/clock_bench.py build-release/core/benchctl
else echo "skipped: not root"; fi
echo "== SSH transport (needs root: starts a throwaway sshd and user)"
if [ "$(id -u)" = 0 ]; then python3 tests/bench/ssh_bench.py build-release/core/benchctl; else echo "skipped: not root"; fi
echo "== kill -9 of benchctl at 100 random moments (local and SSH stages): leftovers, crashed runs, gc (needs root)"
if [ "$(id -u)" = 0 ]; then /usr/bin/python3 tests/bench/crash_bench.py build-release/core/benchctl; else echo "skipped: not root"; fi
echo "== slurm transport: 50 stages in one allocation vs 50 srun allocations vs local (needs root, slurm-wlm)"
if [ "$(id -u)" = 0 ]; then /usr/bin/python3 tests/bench/slurm_bench.py build-release/core/benchctl
else echo "skipped: not root"; fi
echo "== publishing 500 results to a real Conbench server: benchctl publish vs a curl loop (needs root)"
if [ "$(id -u)" = 0 ] && [ -f ../shared/conbench/start.sh ]; then
  /usr/bin/python3 tests/bench/publish_bench.py build-release/core/benchctl ../shared/conbench
else echo "skipped: needs root and ../shared/conbench"; fi
echo "== HTML report: 1M-row output, 100 stages, 10 plots (time, size; ratio to stats ID)"
python3 tests/bench/report_bench.py build-release/core/benchctl
echo "== config loading: 10,000 to 80,000 stages (linear, not quadratic)"
python3 tests/bench/config_load.py build-release/core/benchctl ${BENCHCTL_REFERENCE:+"$BENCHCTL_REFERENCE"}
echo "== isolation: 100 stages of true with and without limits:, CV of 30 repetitions with a CPU hog, pinned away vs not"
/usr/bin/python3 tests/bench/limits_bench.py build-release/core/benchctl
echo "== statistics: 10M-row summary vs numpy, compare of 20 x 1M samples, repeat vs hyperfine"
need=()
for p in python3-numpy python3-scipy hyperfine; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else echo "skipped: install ${need[*]}"; exit 0; fi
fi
/usr/bin/python3 tests/bench/stats_bench.py build-release/core/benchctl build-release/peakrss
echo "== fan-out: sleep-1 span on 8 hosts x 4 nodes vs 1 node, barrier spread, merge of 32 x N rows vs cat + numpy"
if [ "$(id -u)" = 0 ]; then /usr/bin/python3 tests/bench/fanout_bench.py build-release/core/benchctl build-release/peakrss
else echo "skipped: not root"; fi
echo "== profiling: repeat-20 CPU-bound stage with and without perf at 99 Hz; folding and drawing 1M samples"
if command -v perf >/dev/null; then /usr/bin/python3 tests/bench/profile_bench.py build-release/core/benchctl build-release/peakrss
else echo "skipped: perf is not installed (apt-get install linux-perf)"; fi
