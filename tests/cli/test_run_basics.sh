#!/usr/bin/env bash
# What a run does and records: environment, failure semantics, cleanup,
# skips, timeouts, scripts, secrets, the config copy, per-stage records.
source "$(dirname "$0")/lib.sh"

mkdir -p sub
write_config sub/bench.yaml <<'YAML'
benchmark:
  name: basics
  output_dir: ./runs          # relative: BENCHCTL_RUN_DIR must still be absolute
hosts:
  db:
    username: bench
    password: s3cret-pass
    key_password: s3cret-phrase
cases:
  - name: small
    env: {SIZE: "1", FROM_CASE: case}
  - name: large
    env: {SIZE: "9", FROM_CASE: case}
stages:
  - name: env
    host: db
    command: |
      env | grep -E '^(BENCHCTL_|SIZE=|FROM_CASE=|EXTRA=)' | sort
      pwd
  - name: only-large
    execute_only_for: large
    command: echo large-only
  - name: skipped
    skip: true
    command: echo should-not-run
  - name: skipped-by-flag
    command: echo should-not-run-either
  - name: script
    script: scripts/hello.sh
  - name: script-noexec
    script: scripts/plain.sh
  - name: streams
    command: echo to-out; echo to-err >&2; echo again-out
  - name: cpu
    command: i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done
YAML
mkdir -p sub/scripts
printf '#!/bin/sh\necho "hello from script in $(pwd)"\n' > sub/scripts/hello.sh
chmod +x sub/scripts/hello.sh
printf 'echo "plain script, run by the shell"\n' > sub/scripts/plain.sh

run_bc run -c sub/bench.yaml -e EXTRA=1 -e FROM_CASE=cli -m owner=ci --skip skipped-by-flag
expect_rc 0 run
m=sub/runs/1/metadata.json
log() { cat "sub/runs/1/logs/$1.log"; }
E=$(log small/env)
expect_in "$E" "BENCHCTL_RUN_ID=1"
expect_in "$E" "BENCHCTL_RUN_DIR=$T/sub/runs/1"
expect_in "$E" "BENCHCTL_OUTPUT_DIR=$T/sub/runs"
expect_in "$E" "BENCHCTL_CONFIG_PATH=$T/sub/bench.yaml"
expect_in "$E" "BENCHCTL_BIN=$BENCHCTL"
expect_in "$E" "BENCHCTL_HOST=db"
expect_in "$E" "BENCHCTL_STAGE=env"
expect_in "$E" "BENCHCTL_CASE_NAME=small"
expect_in "$E" "SIZE=1"
expect_in "$E" "EXTRA=1"
expect_in "$E" "FROM_CASE=cli" "-e wins over case env"
expect_in "$E" "$T/sub" "stages run in the config's directory"
expect_in "$(log large/env)" "SIZE=9"
[ ! -e sub/runs/1/logs/small/only-large.log ] || fail "execute_only_for ran for the wrong case"
expect_in "$(log large/only-large)" "large-only"
expect_in "$(log small/script)" "hello from script in $T/sub"
expect_in "$(log small/script-noexec)" "plain script, run by the shell"
expect_in "$(log small/streams)" "to-err"
expect_not_in "$OUT" "should-not-run"
expect_in "$OUT" "to-out"
expect_in "$ERR" "to-err" "stage stderr goes to benchctl's stderr"

# Records: one per stage, case and host, with resources.
[ "$(json $m 'j["status"]')" = success ] || fail "status"
[ "$(json $m 'j["error"]')" = None ] || fail "error should be null"
[ "$(json $m 'j["custom"]')" = "{'owner': 'ci'}" ] || fail "custom"
[ "$(json $m '[s["status"] for s in j["stages"] if s["name"]=="skipped"]')" = "['skipped', 'skipped']" ] || fail "skip: true"
[ "$(json $m '[s["reason"] for s in j["stages"] if s["name"]=="skipped-by-flag"]')" = "['--skip', '--skip']" ] || fail "--skip"
[ "$(json $m '[s["status"] for s in j["stages"] if s["name"]=="only-large"]')" = "['skipped', 'success']" ] || fail "execute_only_for"
[ "$(json $m '[s["case"] for s in j["stages"] if s["name"]=="env"]')" = "['small', 'large']" ] || fail "case in records"
cpu=$(json $m '[s for s in j["stages"] if s["name"]=="cpu"][0]')
python3 - "$m" <<'PY' || fail "stage record fields"
import json, sys
j = json.load(open(sys.argv[1]))
for s in j["stages"]:
    if s["status"] != "success":
        continue
    for k in ("name", "host", "case", "start_time", "end_time", "duration_s", "exit_status",
              "user_cpu_s", "system_cpu_s", "max_rss_kb", "log", "output_bytes"):
        assert k in s, (k, s)
    assert s["exit_status"] == 0
    assert s["max_rss_kb"] > 0
cpu = [s for s in j["stages"] if s["name"] == "cpu"][0]
assert cpu["user_cpu_s"] + cpu["system_cpu_s"] > 0.005, cpu
assert cpu["log"] is None and cpu["output_bytes"] == 0, cpu
for k in ("run_id", "benchmark_name", "start_time", "end_time", "config", "hosts", "custom",
          "status", "error", "git", "machine", "benchctl", "plugins", "stages", "cases"):
    assert k in j, k
for k in ("os", "kernel", "arch", "cpu_model", "cores", "memory_bytes"):
    assert k in j["machine"], k
assert j["benchctl"]["version"] and j["benchctl"]["peak_rss_kb"] > 0
assert [c["name"] for c in j["cases"]] == ["small", "large"]
assert all(c["status"] == "success" for c in j["cases"])
assert j["run_id"] == "1" and isinstance(j["run_id"], str)
PY
[ "$(wc -l < sub/runs/1/stages.jsonl)" = "$(json $m 'len(j["stages"])')" ] || fail "stages.jsonl has one line per record"

# Secrets never reach the disk; the config copy is otherwise as given.
if grep -rq "s3cret" sub/runs; then fail "a secret reached the run directory: $(grep -rl s3cret sub/runs)"; fi
expect_in "$(cat sub/runs/1/config.yaml)" 'password: "<redacted>"'
expect_in "$(cat sub/runs/1/config.yaml)" 'key_password: "<redacted>"'
expect_in "$(cat sub/runs/1/config.yaml)" "username: bench"
diff <(grep -v password sub/bench.yaml) <(grep -v password sub/runs/1/config.yaml) || fail "config copy differs beyond secrets"
pass "environment, cases, skips, scripts, records and secrets"

# A failing stage: exit 1, status failed, error names the stage, later
# stages recorded as not run, cleanup still runs and its failure does not
# hide the original error.
write_config fail.yaml <<'YAML'
benchmark: {name: failing, output_dir: ./runs}
stages:
  - name: first
    command: echo fine
  - name: boom
    command: echo going down >&2; exit 7
  - name: later
    command: touch later-ran
cleanup:
  - name: tidy
    command: touch cleanup-ran; exit 3
  - name: tidy2
    command: touch cleanup2-ran
YAML
run_bc run -c fail.yaml
expect_rc 1 "failing run"
expect_in "$ERR" "stage 'boom' on host 'local' failed with exit status 7"
[ -e cleanup-ran ] && [ -e cleanup2-ran ] || fail "cleanup did not run after a failure"
[ ! -e later-ran ] || fail "a stage after the failure ran"
m=runs/1/metadata.json
[ "$(json $m 'j["status"]')" = failed ] || fail "status should be failed"
expect_in "$(json $m 'j["error"]')" "stage 'boom'"
expect_in "$(json $m '[s["status"] for s in j["stages"]]')" "['success', 'failed', 'not_run', 'failed', 'success']"
[ "$(json $m '[s["exit_status"] for s in j["stages"] if s["name"]=="boom"][0]')" = 7 ] || fail "exit status recorded"
expect_in "$(tail -n1 <<<"$OUT")" "Results saved to: $T/runs/1"

# continue_on_error keeps going; a stage timeout stops only that stage.
write_config cont.yaml <<YAML
benchmark: {name: cont, output_dir: ./runs}
stages:
  - name: flaky
    command: exit 1
    continue_on_error: true
  - name: slow
    command: exec -a bcbasic$$-slow sleep 280
    timeout: 300ms
    continue_on_error: true
  - name: last
    command: echo last-ran
YAML
start=$(date +%s%N)
run_bc run -c cont.yaml
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
expect_rc 1 "run with failures and continue_on_error"
expect_in "$OUT" "last-ran"
# stopped by its timeout, not after the 280 s it would sleep (half of it
# is the bound)
[ "$elapsed" -lt 140000 ] || fail "stage timeout took ${elapsed} ms: the stage ran to its end"
m=runs/2/metadata.json
expect_in "$(json $m '[s["status"] for s in j["stages"]]')" "['failed', 'timeout', 'success']"
expect_in "$(json $m 'j["error"]')" "stage 'flaky'"
[ -z "$(pgrep -f "bcbasic$$-slow" || true)" ] || fail "stage timeout left the stage's sleep running"
expect_in "$(json $m '[s.get("error") for s in j["stages"]][1]')" "timed out after 300 ms"
pass "failure, cleanup, continue_on_error and stage timeout (${elapsed} ms)"
