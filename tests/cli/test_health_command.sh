#!/usr/bin/env bash
# The `command` health-check probe: readiness after a delay, timeouts,
# retries, interval, the probe's attempt_timeout option, the stage
# environment, and the config errors around health_check.
source "$(dirname "$0")/lib.sh"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
marker="bchc$$"
cleanup_hooks+=('for p in $(pgrep -f "$marker" || true); do kill $p 2>/dev/null; done')

# hc_config FILE STAGE COMMAND HEALTH_CHECK_LINES: a one-stage config whose
# runs go to ./results (relative to the config, i.e. $T/results).
hc_config() {
  {
    printf 'benchmark:\n  name: health\n  output_dir: ./results\nstages:\n'
    printf '  - name: %s\n    command: %s\n    health_check:\n' "$2" "$3"
    printf '%s\n' "$4" | sed 's/^/      /'
  } >"$1"
}

# The run ID printed on the first line of the last run.
run_id() { sed -n '1s/^Run ID: //p' <<<"$OUT"; }
meta() { echo "results/$(run_id)/metadata.json"; }

# ---- a file that appears after a delay ------------------------------------
# The flag appears only after the probe has failed twice (each failed attempt
# adds a line to tries), however slowly the machine starts the probe.
hc_config delayed.yaml start "(until [ -f tries ] && [ \$(wc -l < tries) -ge 2 ]; do sleep 0.02; done; touch ready.flag) &" "type: command
target: test -f ready.flag || { echo x >> tries; false; }
timeout: 100s
interval: 50ms"
run_bc run -c delayed.yaml
expect_rc 0 "delayed readiness"
m=$(meta)
[ -f ready.flag ] || fail "the stage did not run in the config file's directory"
[ "$(json "$m" 'j["status"]')" = success ] || fail "delayed: status not success"
[ "$(json "$m" 'j["stages"][0]["health_check"]["ready"]')" = True ] || fail "delayed: ready is not true"
[ "$(json "$m" 'j["stages"][0]["health_check"]["attempts"] > 2')" = True ] ||
  fail "delayed: expected the two failed attempts and a successful one, got $(json "$m" 'j["stages"][0]["health_check"]')"
# between attempts the probe waits its 50 ms interval: elapsed_ms counts them
[ "$(json "$m" 'j["stages"][0]["health_check"]["elapsed_ms"] >= 50 * (j["stages"][0]["health_check"]["attempts"] - 1)')" = True ] ||
  fail "delayed: elapsed_ms shorter than the intervals between the attempts: $(json "$m" 'j["stages"][0]["health_check"]')"
[ "$(json "$m" 'j["stages"][0]["health_check"]["type"]')" = command ] || fail "delayed: type not recorded"
[ "$(json "$m" 'j["stages"][0]["health_check"]["target"]')" = "test -f ready.flag || { echo x >> tries; false; }" ] ||
  fail "delayed: target not recorded"
pass "a target that becomes ready after failing twice: success, $(json "$m" 'j["stages"][0]["health_check"]["attempts"]') attempts"

# ---- retries: 0 and no timeout key do not fail by themselves --------------
hc_config zero.yaml start true "type: command
target: \"true\"
retries: 0"
run_bc run -c zero.yaml
expect_rc 0 "retries: 0 without timeout"
m=$(meta)
[ "$(json "$m" 'j["status"]')" = success ] || fail "retries 0: status not success"
[ "$(json "$m" 'j["stages"][0]["health_check"]["ready"]')" = True ] || fail "retries 0: not ready"
[ "$(json "$m" 'j["stages"][0]["health_check"]["attempts"]')" = 1 ] || fail "retries 0: expected 1 attempt"
pass "retries: 0 and a missing timeout are sensible defaults"

# ---- a never-ready target times out -----------------------------------------
hc_config never.yaml start true "type: command
target: test -f never.flag
timeout: 500ms"
t0=$(now_ms)
run_bc run -c never.yaml
t1=$(now_ms)
expect_rc 1 "never ready"
m=$(meta)
[ "$(json "$m" 'j["status"]')" = failed ] || fail "never ready: status not failed"
err=$(json "$m" 'j["error"]')
expect_in "$err" "test -f never.flag" "error"
expect_in "$err" "timed out" "error"
attempts=$(json "$m" 'j["stages"][0]["health_check"]["attempts"]')
expect_in "$err" "after $attempts attempts" "error"
expect_in "$err" "last result: exit status 1" "error (the last completed attempt's result)"
[ "$(json "$m" 'j["stages"][0]["health_check"]["ready"]')" = False ] || fail "never ready: ready not false"
[ "$(json "$m" 'j["stages"][0]["status"]')" = failed ] || fail "never ready: stage status not failed"
expect_in "$ERR" "timed out" "stderr"
# the configured timeout ended it (the error names it, not the default 30 s),
# after waiting all of it
expect_in "$err" "(timeout 500 ms," "error"
[ "$(json "$m" '500 <= j["stages"][0]["health_check"]["elapsed_ms"]')" = True ] ||
  fail "never ready: with timeout 500ms the check lasted $(json "$m" 'j["stages"][0]["health_check"]["elapsed_ms"]') ms"
pass "a never-ready target fails after the timeout ($((t1 - t0)) ms) and says why"

# ---- retries: 2 gives up after exactly 3 attempts --------------------------
hc_config retries.yaml start true "type: command
target: test -f never.flag
timeout: 100s
retries: 2"
t0=$(now_ms)
run_bc run -c retries.yaml
t1=$(now_ms)
expect_rc 1 "retries 2"
m=$(meta)
[ "$(json "$m" 'j["stages"][0]["health_check"]["attempts"]')" = 3 ] ||
  fail "retries 2: expected 3 attempts, got $(json "$m" 'j["stages"][0]["health_check"]')"
err=$(json "$m" 'j["error"]')
expect_in "$err" "gave up" "error"
expect_in "$err" "after 3 attempts" "error"
expect_in "$err" "last result: exit status 1" "error"
[ "$(json "$m" 'j["stages"][0]["health_check"]["last_error"]')" = "exit status 1" ] || fail "retries 2: last_error"
# it did not go on until the timeout: 3 attempts, and ended long before it
[ $((t1 - t0)) -lt 50000 ] || fail "retries 2 took $((t1 - t0)) ms: it waited for the 100 s timeout"
pass "retries: 2 gives up after exactly 3 attempts ($((t1 - t0)) ms)"

# ---- interval is respected -------------------------------------------------
hc_config interval.yaml start true "type: command
target: \"false\"
timeout: 2s
interval: 50ms"
run_bc run -c interval.yaml
expect_rc 1 "interval"
m=$(meta)
attempts=$(json "$m" 'j["stages"][0]["health_check"]["attempts"]')
# at most one attempt per interval over the time the check really took
# (a loaded machine makes fewer attempts, never more)
[ "$attempts" -ge 2 ] &&
  [ "$(json "$m" 'j["stages"][0]["health_check"]["attempts"] <= j["stages"][0]["health_check"]["elapsed_ms"] / 50 + 1')" = True ] ||
  fail "interval 50ms: $attempts attempts in $(json "$m" 'j["stages"][0]["health_check"]["elapsed_ms"]') ms"
expect_in "$(json "$m" 'j["error"]')" "interval 50 ms" "error"
pass "interval: 50ms gives $attempts attempts in 2 s"

# ---- the probe's own option: attempt_timeout -------------------------------
hc_config attempt.yaml start true "type: command
target: exec -a $marker sleep 300
timeout: 5s
attempt_timeout: 200ms"
run_bc validate -c attempt.yaml
expect_rc 0 "validate attempt_timeout"
t0=$(now_ms)
run_bc run -c attempt.yaml
t1=$(now_ms)
expect_rc 1 "attempt_timeout"
m=$(meta)
err=$(json "$m" 'j["error"]')
expect_in "$err" "did not finish" "error"
expect_in "$err" "sleep 300" "error"
# an attempt that was not cut would hang until the 5 s timeout: one attempt
[ "$(json "$m" 'j["stages"][0]["health_check"]["attempts"] >= 2')" = True ] ||
  fail "attempt_timeout: each attempt should be cut at 200 ms, got $(json "$m" 'j["stages"][0]["health_check"]')"
[ -z "$(pgrep -f "$marker" || true)" ] || fail "attempt_timeout: a cut attempt is still running"
pass "attempt_timeout cuts a hanging attempt ($((t1 - t0)) ms)"

# ---- the stage environment is visible to the probe -------------------------
hc_config env.yaml my-stage true "type: command
target: test \"\$BENCHCTL_STAGE\" = my-stage && test -n \"\$BENCHCTL_RUN_ID\" && test \"\$MYVAR\" = hello
timeout: 2s"
run_bc run -c env.yaml -e MYVAR=hello
expect_rc 0 "probe sees the stage environment"
[ "$(json "$(meta)" 'j["stages"][0]["health_check"]["attempts"]')" = 1 ] || fail "env: expected 1 attempt"
hc_config env2.yaml my-stage true "type: command
target: test \"\$BENCHCTL_STAGE\" = other-stage
timeout: 300ms"
run_bc run -c env2.yaml
expect_rc 1 "probe with a wrong stage name must not be ready"
pass "the probe runs with the stage's environment"

# ---- bad input: validate exits 2 with FILE:LINE:COL, run writes nothing ----
write_config bad.yaml <<'EOF'
benchmark:
  name: bad
  output_dir: ./bad-results
stages:
  - name: s1
    command: "true"
    health_check:
      type: command
      target: "true"
      timeout: 10x
  - name: s2
    command: "true"
    health_check:
      type: command
      target: "true"
      retries: -1
  - name: s3
    command: "true"
    health_check:
      type: command
      target: "true"
      retries: abc
  - name: s4
    command: "true"
    health_check:
      type: command
      target: "true"
      interval: 0s
  - name: s5
    command: "true"
    health_check:
      type: nosuch
      target: "true"
  - name: s6
    command: "true"
    health_check:
      type: port
      target: "localhost:70000"
  - name: s7
    command: "true"
    health_check:
      type: command
      timeout: 1s
EOF
run_bc validate -c bad.yaml
expect_rc 2 "validate bad health checks"
expect_in "$ERR" "bad.yaml:10:16: " "timeout: 10x position"
expect_in "$ERR" "'10x'" "timeout: 10x"
expect_in "$ERR" "bad.yaml:16:16: " "retries: -1 position"
expect_in "$ERR" "'-1'" "retries: -1"
expect_in "$ERR" "bad.yaml:22:16: " "retries: abc position"
expect_in "$ERR" "'abc'" "retries: abc"
expect_in "$ERR" "bad.yaml:28:17: " "interval: 0s position"
expect_in "$ERR" "'interval' must be greater than 0" "interval: 0s"
expect_in "$ERR" "bad.yaml:32:13: " "type: nosuch position"
expect_in "$ERR" "installed probe plugins: command" "type: nosuch"
expect_in "$ERR" "bad.yaml:38:15: health_check.target 'localhost:70000'" "type: port, a bad port"
expect_in "$ERR" "missing required key 'target'" "missing target"
expect_in "$ERR" "7 errors in bad.yaml" "error count"
run_bc run -c bad.yaml
expect_rc 2 "run with bad health checks"
[ ! -e bad-results ] || fail "run with an invalid config created $(ls -R bad-results)"
pass "every health_check error is reported with FILE:LINE:COL, all at once"

# Each error on its own is enough to refuse the config.
i=0
for hc in "timeout: 10x" "retries: -1" "retries: abc" "interval: 0s" "type: nosuch" "type: port" "notarget"; do
  i=$((i + 1))
  case "$hc" in
    type:*) body="$hc
target: \"true\"" ;;
    notarget) body="type: command
timeout: 1s" ;;
    *) body="type: command
target: \"true\"
$hc" ;;
  esac
  {
    printf 'benchmark:\n  name: bad%d\n  output_dir: ./bad-%d\nstages:\n' $i $i
    printf '  - name: s\n    command: "true"\n    health_check:\n'
    printf '%s\n' "$body" | sed 's/^/      /'
  } >one-$i.yaml
  run_bc validate -c one-$i.yaml
  expect_rc 2 "validate '$hc'"
  expect_in "$ERR" "one-$i.yaml:" "'$hc' message"
  grep -Eq "^one-$i\.yaml:[0-9]+:[0-9]+: " <<<"$ERR" || fail "'$hc': no FILE:LINE:COL message in: $ERR"
  run_bc run -c one-$i.yaml
  expect_rc 2 "run '$hc'"
  [ ! -e bad-$i ] || fail "run '$hc' created a run directory"
done
pass "each bad health_check alone: validate and run exit 2, no run directory"
