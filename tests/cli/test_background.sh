#!/usr/bin/env bash
# Background stages: run alongside, stopped after the last foreground stage
# (SIGTERM, grace, SIGKILL) as soon as they exit; probed while they run;
# early exits reported; outputs collected after they stop.
source "$(dirname "$0")/lib.sh"

marker="bcbg$$"
leftovers() { pgrep -f "$marker" || true; }
ms() { date +%s%N | cut -c1-13; }

# A monitor writing samples, a service that must be up before the work
# stage, and a stubborn process that ignores SIGTERM.  The monitor and the
# service stop only once both have had their SIGTERM (each waits for the
# other's mark): stopped one after the other, the first would wait out its
# long stop_grace and be killed (SIGKILL); stopped together, both end by
# SIGTERM at once.
write_config bg.yaml <<YAML
benchmark: {name: bg, output_dir: ./runs}
stages:
  - name: monitor
    background: true
    stop_grace: 100s
    command: |
      trap 'echo "monitor stopping"; touch monitor.term; until [ -e service.term ]; do sleep 0.02; done; exit 0' TERM
      while :; do echo "\$(date +%s%N),1" >> samples.csv; sleep 0.02; done
    outputs:
      - name: samples
        remote_path: samples.csv
  - name: service
    background: true
    stop_grace: 100s
    command: |
      trap 'touch service.term; until [ -e monitor.term ]; do sleep 0.02; done; exit 0' TERM
      (exec -a ${marker}-svc sleep 300) &
      sleep 0.3; touch service.ready; wait
    health_check: {type: command, target: test -e service.ready, interval: 20ms, timeout: 100s}
  - name: stubborn
    background: true
    stop_grace: 300ms
    command: trap '' TERM; exec -a ${marker}-stubborn bash -c "trap '' TERM; while :; do sleep 0.05; done"
  - name: work
    command: test -e service.ready && sleep 0.3 && echo worked
YAML
t0=$(ms)
run_bc run -c bg.yaml
t1=$(ms)
expect_rc 0 "run with background stages"
expect_in "$OUT" "worked"
expect_in "$OUT" "==> background monitor on local"
[ -z "$(leftovers)" ] || fail "background processes survived: $(leftovers | xargs ps -o pid,args -p)"
m=runs/1/metadata.json
expect_in "$(json $m '[(s["name"], s["status"]) for s in j["stages"]]')" "('work', 'success')"
[ "$(json $m '[s.get("stopped_by") for s in j["stages"] if s["name"]=="monitor"][0]')" = SIGTERM ] || fail "monitor stopped by SIGTERM"
[ "$(json $m '[s.get("stopped_by") for s in j["stages"] if s["name"]=="service"][0]')" = SIGTERM ] ||
  fail "service stopped by $(json $m '[s.get("stopped_by") for s in j["stages"] if s["name"]=="service"][0]'): monitor and service were not stopped together"
[ "$(json $m '[s.get("stopped_by") for s in j["stages"] if s["name"]=="stubborn"][0]')" = SIGKILL ] || fail "stubborn needed SIGKILL"
[ "$(json $m '[s["health_check"]["ready"] for s in j["stages"] if s["name"]=="service"][0]')" = True ] || fail "service probed"
[ "$(json $m '[s["health_check"]["attempts"] > 1 for s in j["stages"] if s["name"]=="service"][0]')" = True ] || fail "probe waited while the service started"
[ -s runs/1/samples.csv ] || fail "background output not collected"
expect_in "$(cat runs/1/logs/monitor.log)" "monitor stopping"
[ -e monitor.term ] && [ -e service.term ] || fail "monitor and service did not get SIGTERM"
# The stop returns when a stage's processes are gone, not after its
# stop_grace: monitor and service (100 s grace each) ended on SIGTERM, so the
# run ends long before one grace has passed.
[ $((t1 - t0)) -lt 50000 ] || fail "run took $((t1 - t0)) ms: the stop waited for the 100 s stop_grace"
pass "background stages run alongside and are stopped together, each as soon as it exits ($((t1 - t0)) ms)"

# A background stage that dies early fails the run (unless allow_exit),
# with its exit status and last output lines.
write_config early.yaml <<'YAML'
benchmark: {name: early, output_dir: ./runs2}
stages:
  - name: crashy
    background: true
    command: |
      echo "starting up"; echo "fatal: port in use" >&2; exit 3
  - name: work
    command: sleep 0.5
  - name: after
    command: touch after-ran
YAML
run_bc run -c early.yaml
expect_rc 1 "background stage that exits early"
m=runs2/1/metadata.json
expect_in "$(json $m 'j["error"]')" "background stage 'crashy' on host 'local' ended before the foreground stages finished: exit status 3"
expect_in "$(json $m 'j["error"]')" "fatal: port in use"
[ ! -e after-ran ] || fail "the run went on after the monitor died"
[ "$(json $m '[s["status"] for s in j["stages"] if s["name"]=="crashy"][0]')" = failed ] || fail "crashy status"

sed -i 's/    background: true/    background: true\n    allow_exit: true/' early.yaml
run_bc run -c early.yaml
expect_rc 0 "allow_exit"
[ -e after-ran ] || fail "allow_exit: the run should go on"
pass "early exits fail the run unless allow_exit"

# A background service that dies before its health check succeeds fails
# the check at once (not after the timeout), with its status and output.
write_config probe.yaml <<'YAML'
benchmark: {name: probe, output_dir: ./runs3}
stages:
  - name: service
    background: true
    command: echo "cannot bind"; exit 7
    health_check: {type: command, target: "false", timeout: 100s}
  - name: work
    command: echo never
YAML
t0=$(ms)
run_bc run -c probe.yaml
t1=$(ms)
expect_rc 1 "service dies before ready"
# (waiting for the 100 s timeout would also end in an error, but a
# "timed out" one, and not before half of it has passed)
expect_not_in "$(json runs3/1/metadata.json 'j["error"]')" "timed out"
[ $((t1 - t0)) -lt 50000 ] || fail "the check waited for its timeout ($((t1 - t0)) ms)"
expect_in "$(json runs3/1/metadata.json 'j["error"]')" "the background process ended before it was ready: exit status 7; last output: cannot bind"
expect_not_in "$OUT" "never"
pass "a service that dies before it is ready fails its check at once ($((t1 - t0)) ms)"

# Ctrl-C with background stages, while the foreground stage runs:
# everything stops, the monitor and the service together.
rm -f service.ready monitor.term service.term
sed "s/command: test -e service.ready && sleep 0.3 && echo worked/command: touch work.started; exec -a ${marker}-work sleep 300/" bg.yaml >bgint.yaml
grep -q work.started bgint.yaml || fail "bgint.yaml: the work stage was not replaced"
"$BENCHCTL" run -c bgint.yaml >out 2>err &
pid=$!
for _ in $(seq 2400); do [ -e work.started ] && break; sleep 0.05; done
[ -e work.started ] || fail "Ctrl-C: the work stage did not start: $(cat err)"
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
[ $rc = 130 ] || fail "Ctrl-C: exit $rc"
[ -z "$(leftovers)" ] || fail "Ctrl-C left background processes"
[ "$(json runs/2/metadata.json 'j["status"]')" = interrupted ] || fail "status interrupted"
[ "$(json runs/2/metadata.json '[s.get("stopped_by") for s in j["stages"] if s["name"]=="service"][0]')" = SIGTERM ] ||
  fail "Ctrl-C: monitor and service were not stopped together"
pass "Ctrl-C stops background stages"

# Validation: append_metadata on a background stage; stop_grace elsewhere.
write_config bad.yaml <<'YAML'
benchmark: {name: bad, output_dir: ./runs4}
stages:
  - name: a
    background: true
    append_metadata: true
    command: "true"
  - name: b
    stop_grace: 1s
    command: "true"
YAML
run_bc validate -c bad.yaml
expect_rc 2 "validate"
expect_in "$ERR" "bad.yaml:5:22: stage 'a': append_metadata cannot be used on a background stage"
expect_in "$ERR" "bad.yaml:8:5: stage 'b': 'stop_grace' only applies to background stages"
pass "background validation errors"
