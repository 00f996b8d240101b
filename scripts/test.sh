#!/usr/bin/env bash
# Set everything up on a fresh Debian 12 machine and run every test with
# ctest: the style, layer and size checks, the normal build (gcc), the same tests under
# AddressSanitizer and UBSan (SKIP_SANITIZE=1 skips that pass), and a
# clang build with the same warnings as errors that runs the unit tests and
# the libFuzzer harnesses for a short fixed time (SKIP_CLANG=1 skips it).
#
# Every pass runs even when an earlier one failed (only a failed build
# skips the ctest pass that needs it); the end prints a summary of each
# pass with the tests that failed in it, and the exit status is non-zero if
# anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

# Without the dependencies nothing below can run.
scripts/deps.sh || { echo "test.sh: scripts/deps.sh failed" >&2; exit 1; }

results=()   # one summary line per pass
failed=0

# step NAME CMD...: runs CMD, records NAME as passed or failed; returns
# CMD's status.
step() {
  local name=$1 rc
  shift
  echo "==> $name"
  "$@"
  rc=$?
  if [ $rc -eq 0 ]; then
    results+=("ok       $name")
  else
    results+=("FAILED   $name (exit $rc)")
    failed=1
  fi
  return $rc
}

# ctest_pass NAME BUILD_DIR [ENV=VAL...] -- CTEST_ARGS...: runs ctest in
# BUILD_DIR and records the failed tests (from ctest's LastTestsFailed.log).
ctest_pass() {
  local name=$1 dir=$2 rc log
  shift 2
  local envs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  log=$dir/Testing/Temporary/LastTestsFailed.log
  rm -f "$log"
  echo "==> $name"
  env ${envs[@]+"${envs[@]}"} ctest --test-dir "$dir" --output-on-failure "$@"
  rc=$?
  if [ $rc -eq 0 ]; then
    results+=("ok       $name")
    return 0
  fi
  failed=1
  if [ -s "$log" ]; then
    results+=("FAILED   $name: $(wc -l <"$log") test(s) failed")
    while IFS= read -r line; do results+=("           ${line#*:}"); done <"$log"
  else
    results+=("FAILED   $name (ctest exit $rc)")
  fi
  return $rc
}

skipped() { results+=("skipped  $1"); }

step "style check" scripts/check_style.sh
step "layer check" scripts/check_layers.sh
step "size check" scripts/check_sizes.sh

if step "gcc build" scripts/build.sh; then
  ctest_pass "gcc tests" build -- -j2 --timeout 300
else
  skipped "gcc tests (the build failed)"
fi

if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
  if step "asan build" env BUILD_DIR=build-asan BUILD_TYPE=Debug scripts/build.sh -DBENCHCTL_SANITIZE=ON; then
    # intercept_tls_get_addr=0: LeakSanitizer in GCC 12 crashes on dlopen'ed
    # libraries with thread-local storage (libcurl, libssh) otherwise.
    ctest_pass "asan tests" build-asan ASAN_OPTIONS=detect_leaks=1:intercept_tls_get_addr=0 -- \
      -j2 --timeout 300
  else
    skipped "asan tests (the build failed)"
  fi
else
  skipped "asan build and tests (SKIP_SANITIZE=1)"
fi

if [ "${SKIP_CLANG:-0}" != 1 ]; then
  if step "clang build" env CC=clang BUILD_DIR=build-clang scripts/build.sh; then
    # with the fuzz harnesses, each for BENCHCTL_FUZZ_SECONDS (25 s)
    ctest_pass "clang unit and fuzz tests" build-clang -- -j2 --timeout 300 -R '^(unit|style|fuzz)\.' -E '_large$'
  else
    skipped "clang unit tests (the build failed)"
  fi
else
  skipped "clang build and tests (SKIP_CLANG=1)"
fi

echo
echo "==== summary"
printf '%s\n' "${results[@]}"
if [ $failed -ne 0 ]; then
  echo "==== FAILED"
  exit 1
fi
echo "==== all passed"
