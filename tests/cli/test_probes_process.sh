#!/usr/bin/env bash
# The `process` health-check probe: a process with a unique marker in its
# argv that starts after a delay, regex, min_count, benchctl's own process
# never counting, messages, validation, and the same checks through a
# host's transport (pgrep -f, and the /proc fallback without pgrep; a
# renamed copy of the local transport stands in for a remote host).
source "$(dirname "$0")/lib.sh"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
run_id() { sed -n '1s/^Run ID: //p' <<<"$OUT"; }
meta() { echo "results/$(run_id)/metadata.json"; }
hc() { json "$(meta)" "j['stages'][${2:-0}]['health_check']['$1']"; }

# The marker never appears whole in a stage's command (the stage's own
# shell would match it): the command glues it together from two halves.
M="bcproc$$r$RANDOM"
A=${M:0:4}
B=${M:4}
leftovers() { pgrep -f "$M" || true; }
cleanup_hooks+=('for p in $(leftovers); do kill $p 2>/dev/null; done')

# start NAME DELAY: shell text that starts "sleep 30" named $M-NAME after DELAY.
start() { echo "(sleep $2; exec -a \"\$a\$b-$1\" sleep 30) &"; }

# hc_config FILE COMMAND TARGET [KEYS...]
hc_config() {
  local f=$1 cmd=$2 target=$3
  shift 3
  {
    printf 'benchmark: {name: process, output_dir: ./results, plugin_paths: [%s]}\n' "$T/fake"
    [ -n "${HOSTS:-}" ] && printf 'hosts:\n  box: {transport: fakeremote}\n'
    printf 'stages:\n  - name: service\n'
    [ -n "${HOSTS:-}" ] && printf '    host: box\n'
    printf '    command: a=%s; b=%s; %s\n    health_check:\n      type: process\n      target: "%s"\n' \
      "$A" "$B" "$cmd" "$target"
    for k in "$@"; do printf '      %s\n' "$k"; done
  } >"$f"
}

# The checks that must fail give up after a fixed number of attempts
# (retries) under a generous timeout that only bounds them: an attempt cut by
# a deadline would say nothing about the target, and on a loaded machine one
# attempt of the /proc fallback in sh (one `tr` per process) can take seconds.
scenarios() {
  local where=$1 delay=${DELAY:-0.5}

  # a process that starts after a delay longer than one attempt takes
  hc_config delayed.yaml "$(start svc "$delay")" "$M-svc" "timeout: 30s"
  run_bc run -c delayed.yaml
  expect_rc 0 "$where: delayed process"
  [ "$(hc ready)" = True ] || fail "$where: delayed: not ready"
  [ "$(hc attempts)" -gt 1 ] || fail "$where: delayed: expected more than one attempt"
  [ "$(json "$(meta)" 'j["stages"][0]["health_check"]["elapsed_ms"] >= 200')" = True ] ||
    fail "$where: delayed: ready before the process started ($(hc elapsed_ms) ms)"
  pass "$where: a process that starts after $delay s: ready after $(hc attempts) attempts, $(hc elapsed_ms) ms"

  # regex (anchored: argv is "NAME 30")
  hc_config regex.yaml "$(start svc7 0.3)" "^$M-svc[0-9] 30\$" "regex: true" "timeout: 10s"
  run_bc run -c regex.yaml
  expect_rc 0 "$where: regex"
  [ "$(json "$(meta)" 'j["stages"][0]["health_check"]["elapsed_ms"] >= 100')" = True ] ||
    fail "$where: regex: ready too early ($(hc elapsed_ms) ms)"
  # the same text as a fixed string matches nothing ('^', '[', '$' are literal)
  hc_config fixed.yaml "$(start svc7 0)" "^$M-svc[0-9] 30\$" "retries: 1" "timeout: 100s"
  run_bc run -c fixed.yaml
  expect_rc 1 "$where: regex text as a fixed string"
  [ "$(hc last_error)" = "no process whose command line contains '^$M-svc[0-9] 30\$'" ] ||
    fail "$where: fixed: last_error '$(hc last_error)'"
  pass "$where: regex: true matches an extended regex; without it the text is literal"

  # min_count: three workers at 0.2, 0.4 and 0.6 s
  hc_config three.yaml "$(start w1 0.2) $(start w2 0.4) $(start w3 0.6)" "$M-w" "min_count: 3" "timeout: 10s"
  run_bc run -c three.yaml
  expect_rc 0 "$where: min_count 3"
  [ "$(json "$(meta)" 'j["stages"][0]["health_check"]["elapsed_ms"] >= 400')" = True ] ||
    fail "$where: min_count 3: ready before the third worker ($(hc elapsed_ms) ms)"
  hc_config five.yaml "$(start w1 0) $(start w2 0) $(start w3 0)" "$M-w" "min_count: 5" \
    "retries: 3" "interval: 1s" "timeout: 300s"
  run_bc run -c five.yaml
  expect_rc 1 "$where: min_count 5 with 3 workers"
  [ "$(hc last_error)" = "3 processes whose command line contains '$M-w', min_count is 5" ] ||
    fail "$where: min_count 5: last_error '$(hc last_error)'"
  pass "$where: min_count waits for enough processes and says how many it saw"

  # nothing matches (also: the probe's own wrapper never counts)
  hc_config none.yaml '"true"' "$M-nothing" "retries: 1" "timeout: 100s"
  t0=$(now_ms)
  run_bc run -c none.yaml
  t1=$(now_ms)
  expect_rc 1 "$where: no such process"
  [ "$(hc last_error)" = "no process whose command line contains '$M-nothing'" ] ||
    fail "$where: none: last_error '$(hc last_error)'"
  expect_in "$(json "$(meta)" 'j["error"]')" "health check process '$M-nothing' on host"
  expect_in "$(json "$(meta)" 'j["error"]')" "gave up after 2 attempts"
  pass "$where: no matching process: a clear error ($((t1 - t0)) ms)"
  [ -z "$(leftovers)" ] || fail "$where: processes left running: $(leftovers)"
}

HOSTS= scenarios local

# benchctl's own command line (it names this config) is never counted.
hc_config "self-$M.yaml" '"true"' "self-$M.yaml" "timeout: 300ms"
run_bc run -c "self-$M.yaml"
expect_rc 1 "benchctl's own process must not count"
[ "$(hc last_error)" = "no process whose command line contains 'self-$M.yaml'" ] ||
  fail "self: last_error '$(hc last_error)'"
pass "benchctl's own process is not counted"

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
  if command -v pgrep >/dev/null; then
    HOSTS=1 scenarios "transport (pgrep)"
  fi
  # Without pgrep on the host: the /proc scan in sh.
  mkdir -p nopgrep
  for tool in bash sh sleep tr grep; do ln -sf "$(command -v $tool)" nopgrep/$tool; done
  PATH_SAVED=$PATH
  run_bc() {
    set +e
    PATH="$T/nopgrep" "$BENCHCTL" "$@" >"$T/.out" 2>"$T/.err" </dev/null
    RC=$?
    set -e
    OUT=$(cat "$T/.out")
    ERR=$(cat "$T/.err")
  }
  # One attempt of the sh fallback forks per process: on a loaded machine
  # it can take seconds, and a check that must fail needs one whole attempt
  # to say why (a timeout only bounds how long that may take).
  HOSTS=1 DELAY=5 scenarios "transport (/proc, no pgrep)"
  PATH=$PATH_SAVED
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
      type: process
      target: "(["
      regex: true
  - name: s2
    command: "true"
    health_check:
      type: process
      target: x
      min_count: 0
  - name: s3
    command: "true"
    health_check:
      type: process
      target: x
      min_count: many
EOF
"$BENCHCTL" validate -c bad.yaml >"$T/.out" 2>"$T/.err" </dev/null && RC=0 || RC=$?
OUT=$(cat "$T/.out"); ERR=$(cat "$T/.err")
expect_rc 2 "validate bad process checks"
expect_in "$ERR" "bad.yaml:9:15: health_check.target '([': not a valid extended regular expression: "
expect_in "$ERR" "bad.yaml:16:18: health_check: 'min_count' must be a whole number from 1 to 1000000, not '0'"
expect_in "$ERR" "bad.yaml:22:18: health_check: 'min_count' must be a whole number from 1 to 1000000, not 'many'"
expect_in "$ERR" "3 errors in bad.yaml"
# "([" is a fine fixed string
sed -i '/regex: true/d' bad.yaml
"$BENCHCTL" validate -c bad.yaml >"$T/.out" 2>"$T/.err" </dev/null && RC=0 || RC=$?
ERR=$(cat "$T/.err")
expect_not_in "$ERR" "bad.yaml:9:"
pass "bad process checks are reported with FILE:LINE:COL before anything runs"
