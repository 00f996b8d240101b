#!/usr/bin/env bash
# Fuzz the parsers for as long as asked: scripts/fuzz.sh [SECONDS] [NAME...]
# (SECONDS per harness, 300 by default; NAME: config, parse, appendmeta,
# csv, json, jsonl — all by default).  Builds build-fuzz with clang
# (libFuzzer, ASan, UBSan).  Each harness first replays its regression
# inputs (tests/fuzz/regressions/NAME), then runs from its seeds
# (tests/fuzz/seeds/NAME) and the corpus it grew before
# (build-fuzz/tests/fuzz/work/corpus-NAME).  A crash is left in
# build-fuzz/tests/fuzz/work/crash-NAME-*: add it to
# tests/fuzz/regressions/NAME/ so that it is a test case forever.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-300}
shift || true
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(config parse appendmeta csv json jsonl)
CC=clang BUILD_DIR=build-fuzz scripts/build.sh >/dev/null || { echo "fuzz.sh: the clang build failed" >&2; exit 1; }
work=build-fuzz/tests/fuzz/work
failed=0
for n in "${names[@]}"; do
  echo "== fuzz_$n for $secs s"
  if ! bash tests/fuzz/run_fuzzer.sh "build-fuzz/tests/fuzz/fuzz_$n" tests/fuzz "$n" "$secs" "$work"; then
    failed=1
  fi
done
[ $failed = 0 ] && echo "==== no crash" || { echo "==== crashes: $(ls $work/crash-* 2>/dev/null)"; exit 1; }
