#!/usr/bin/env bash
# run_fuzzer.sh BINARY SRC_DIR NAME SECONDS WORK_DIR: replay every
# regression input of NAME (tests/fuzz/regressions/NAME: each crash ever
# found), then fuzz for SECONDS from the seed corpus (tests/fuzz/seeds/NAME,
# read only; new inputs go to WORK_DIR/corpus-NAME).  A crash is saved as
# WORK_DIR/crash-NAME-* and fails the run: copy it into regressions/NAME.
set -euo pipefail
bin=$1 src=$2 name=$3 secs=$4 work=$5
mkdir -p "$work/corpus-$name"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
reg=$src/regressions/$name
if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
  "$bin" -runs=0 "$reg"/* >"$work/replay-$name.log" 2>&1 ||
    { cat "$work/replay-$name.log" >&2; echo "FAIL: a regression input of $name fails again" >&2; exit 1; }
  echo "replayed $(ls "$reg" | wc -l) regression input(s)"
fi
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$work/crash-$name-" -print_final_stats=1 \
  "$work/corpus-$name" "$src/seeds/$name" 2>"$work/fuzz-$name.log" || {
  tail -60 "$work/fuzz-$name.log" >&2
  echo "FAIL: fuzz_$name found a crash: $(ls "$work"/crash-"$name"-* 2>/dev/null)" >&2
  exit 1
}
grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE" "$work/fuzz-$name.log" || true
echo "fuzz_$name: $secs s, no crash"
