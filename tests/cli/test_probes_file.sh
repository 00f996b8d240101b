#!/usr/bin/env bash
# The `file` health-check probe: a file that appears after a delay
# (relative paths start at the config's directory), non_empty, contains
# (including a match across the 64 KiB read-chunk boundary), messages,
# validation, and the same checks through a host's transport (a renamed
# copy of the local transport stands in for a remote host).
source "$(dirname "$0")/lib.sh"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
run_id() { sed -n '1s/^Run ID: //p' <<<"$OUT"; }
meta() { echo "cfg/results/$(run_id)/metadata.json"; }
hc() { json "$(meta)" "j['stages'][${2:-0}]['health_check']['$1']"; }

# The configs live in cfg/ and benchctl runs from $T: relative paths must
# start at the config's directory, not at benchctl's working directory.
mkdir -p cfg

# hc_config FILE COMMAND TARGET [KEYS...] (HOST in $HOST_LINES, if set)
hc_config() {
  local f=$1 cmd=$2 target=$3
  shift 3
  {
    printf 'benchmark: {name: file, output_dir: ./results, plugin_paths: [%s]}\n' "$T/fake"
    [ -n "${HOSTS:-}" ] && printf 'hosts:\n  box: {transport: fakeremote}\n'
    printf 'stages:\n  - name: service\n'
    [ -n "${HOSTS:-}" ] && printf '    host: box\n'
    printf '    command: %s\n    health_check:\n      type: file\n      target: %s\n' "$cmd" "$target"
    for k in "$@"; do printf '      %s\n' "$k"; done
  } >"cfg/$f"
}

# The checks that must fail give up after two attempts (retries: 1), not at
# a short timeout: an attempt cut by the deadline on a slow machine would
# say nothing about the target.

# Every scenario, run once on the local fast path and once through the
# transport (host_exec with test / grep -F).
scenarios() {
  local where=$1
  rm -rf cfg/data && mkdir -p cfg/data

  # a file that appears after 0.4 s, relative path
  hc_config appear.yaml "(sleep 0.4; touch data/ready.flag) &" data/ready.flag "timeout: 10s"
  run_bc run -c cfg/appear.yaml
  expect_rc 0 "$where: file appears"
  [ "$(hc attempts)" -gt 1 ] || fail "$where: appear: expected more than one attempt"
  [ "$(json "$(meta)" 'j["stages"][0]["health_check"]["elapsed_ms"] >= 300')" = True ] ||
    fail "$where: appear: elapsed_ms below 300: $(hc elapsed_ms)"
  pass "$where: a file that appears after 0.4 s (relative to the config): ready after $(hc attempts) attempts"

  # never appears: clear message
  hc_config missing.yaml '"true"' data/never.flag "retries: 1" "timeout: 100s"
  t0=$(now_ms)
  run_bc run -c cfg/missing.yaml
  t1=$(now_ms)
  expect_rc 1 "$where: missing file"
  [ "$(hc last_error)" = "data/never.flag does not exist" ] || fail "$where: missing: last_error '$(hc last_error)'"
  expect_in "$(json "$(meta)" 'j["error"]')" "health check file 'data/never.flag' on host"
  expect_in "$(json "$(meta)" 'j["error"]')" "gave up after 2 attempts"
  pass "$where: a missing file: 'does not exist' ($((t1 - t0)) ms)"

  # non_empty: created empty, filled 0.4 s later
  hc_config nonempty.yaml "(touch data/empty.txt; sleep 0.4; echo up > data/empty.txt) &" data/empty.txt \
    "non_empty: true" "timeout: 10s"
  run_bc run -c cfg/nonempty.yaml
  expect_rc 0 "$where: non_empty"
  [ "$(json "$(meta)" 'j["stages"][0]["health_check"]["elapsed_ms"] >= 300')" = True ] ||
    fail "$where: non_empty: ready before the file had content ($(hc elapsed_ms) ms)"
  : >cfg/data/always-empty.txt
  hc_config empty.yaml '"true"' data/always-empty.txt "non_empty: true" "retries: 1" "timeout: 100s"
  run_bc run -c cfg/empty.yaml
  expect_rc 1 "$where: empty file"
  [ "$(hc last_error)" = "data/always-empty.txt is empty" ] || fail "$where: empty: last_error '$(hc last_error)'"
  pass "$where: non_empty waits for content; an empty file says 'is empty'"

  # contains: a log that gets the line later; quotes and spaces survive
  hc_config log.yaml "(echo starting > 'data/my log.txt'; sleep 0.4; echo \"it's \\\"ready\\\" now\" >> 'data/my log.txt') &" \
    "\"data/my log.txt\"" "contains: \"it's \\\"ready\\\"\"" "timeout: 10s"
  run_bc run -c cfg/log.yaml
  expect_rc 0 "$where: contains"
  [ "$(hc attempts)" -gt 1 ] || fail "$where: contains: expected more than one attempt"
  hc_config nolog.yaml '"true"' "\"data/my log.txt\"" "contains: \"it's done\"" "retries: 1" "timeout: 100s"
  run_bc run -c cfg/nolog.yaml
  expect_rc 1 "$where: contains, no match"
  [ "$(hc last_error)" = "data/my log.txt does not contain 'it's done'" ] ||
    fail "$where: no match: last_error '$(hc last_error)'"
  pass "$where: contains waits for the string (quotes, spaces); 'does not contain' otherwise"

  # a match across the 64 KiB chunk boundary (local reads 64 KiB at a time)
  python3 -c 'import sys; open(sys.argv[1], "w").write("x" * (65536 - 3) + "BOUNDARY-MARK" + "y" * 100000)' \
    cfg/data/big.txt
  hc_config boundary.yaml '"true"' "$T/cfg/data/big.txt" "contains: BOUNDARY-MARK" "timeout: 2s"
  run_bc run -c cfg/boundary.yaml
  expect_rc 0 "$where: match across the chunk boundary"
  [ "$(hc attempts)" = 1 ] || fail "$where: boundary: expected 1 attempt, got $(hc attempts)"
  pass "$where: a match across the 64 KiB read boundary, absolute path"

  # contains on a directory
  hc_config dir.yaml '"true"' data "contains: x" "timeout: 2s"
  run_bc run -c cfg/dir.yaml
  expect_rc 1 "$where: directory"
  [ "$(hc last_error)" = "data is a directory" ] || fail "$where: dir: last_error '$(hc last_error)'"
  pass "$where: contains on a directory says so"
}

HOSTS= scenarios local

# ---- through a host's transport ----------------------------------------
CC=${CC:-cc}
if command -v "$CC" >/dev/null; then
  mkdir -p fake
  # The local transport renamed, with a remote transport's capabilities (not
  # the controller's files, processes or network): probes go through host_exec.
  sed -e 's/\.name = "local"/.name = "fakeremote"/' \
      -e 's/\.caps = LOCAL_CAPS/.caps = BC_HOST_CAP_POSIX_SHELL/' \
      "$SRC_DIR/plugins/hosts/local/local.c" >fake/fakeremote.c
  grep -q 'caps = BC_HOST_CAP_POSIX_SHELL' fake/fakeremote.c || fail "cannot make the fake transport remote"
  "$CC" -std=c11 -shared -fPIC -fvisibility=hidden -I"$SRC_DIR/sdk/include" \
    -o fake/host-fakeremote.so fake/fakeremote.c "$SRC_DIR"/sdk/helpers/*.c -lutil ||
    fail "cannot build the fake transport"
  HOSTS=1 scenarios "transport"
  [ "$(hc where)" = box ] || fail "transport: where is $(hc where)"
else
  echo "skip - no C compiler to build the fake transport"
fi

# ---- validation ---------------------------------------------------------
write_config bad.yaml <<'EOF'
benchmark:
  name: bad
  output_dir: ./bad-results
stages:
  - name: s1
    command: "true"
    health_check:
      type: file
      target: ""
  - name: s2
    command: "true"
    health_check:
      type: file
      target: x
      non_empty: maybe
  - name: s3
    command: "true"
    health_check:
      type: file
      target: x
      contain: y
EOF
run_bc validate -c bad.yaml
expect_rc 2 "validate bad file checks"
expect_in "$ERR" "bad.yaml:9:15: health_check: 'target' must not be empty"
expect_in "$ERR" "bad.yaml:15:18: health_check: 'non_empty' must be true or false, not 'maybe'"
expect_in "$ERR" "bad.yaml:21:7: unknown key 'contain' in health_check (probe 'file'); valid keys: type, target, timeout, retries, interval, on, non_empty, contains; did you mean 'contains'?"
expect_in "$ERR" "3 errors in bad.yaml"
pass "bad file checks are reported with FILE:LINE:COL before anything runs"
