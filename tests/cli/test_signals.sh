#!/usr/bin/env bash
# Ctrl-C, SIGTERM and --timeout: every process stops, cleanup runs,
# metadata says why, and the exit code is documented (130 / 1).
source "$(dirname "$0")/lib.sh"

marker="bcsig$$"
# Each stage leaves grandchildren behind; their command lines carry the
# marker so the process table can be checked afterwards.
write_config s.yaml <<YAML
benchmark: {name: signals, output_dir: ./runs}
stages:
  - name: daemon
    command: (exec -a ${marker}-daemon sleep 300) & echo started-daemon
  - name: long
    command: (exec -a ${marker}-a sleep 301) & (exec -a ${marker}-b sleep 302) & bash -c "exec -a ${marker}-c sleep 303"; wait
  - name: after
    command: touch after-ran
cleanup:
  - name: tidy
    command: touch cleanup-ran
YAML

leftovers() { pgrep -f "$marker" || true; }
wait_for() { # wait_for CMD...: up to 5 s
  for _ in $(seq 100); do "$@" && return 0; sleep 0.05; done
  return 1
}
started() { [ -n "$(pgrep -f "${marker}-c" || true)" ]; }

for sig in INT TERM; do
  rm -rf runs cleanup-ran after-ran
  "$BENCHCTL" run -c s.yaml >out 2>err &
  pid=$!
  wait_for started || fail "stages did not start"
  kill -"$sig" "$pid"
  set +e; wait "$pid"; rc=$?; set -e
  [ "$rc" = 130 ] || fail "SIG$sig: exit $rc, expected 130: $(cat err)"
  [ -z "$(leftovers)" ] || fail "SIG$sig left processes: $(leftovers | xargs ps -o pid,args -p)"
  [ -e cleanup-ran ] || fail "SIG$sig: cleanup did not run"
  [ ! -e after-ran ] || fail "SIG$sig: a later stage ran"
  m=runs/1/metadata.json
  [ "$(json $m 'j["status"]')" = interrupted ] || fail "SIG$sig: status"
  expect_in "$(json $m '[s["status"] for s in j["stages"]]')" "['success', 'interrupted', 'not_run', 'success']"
  [ "$(json $m 'j["end_time"] is not None')" = True ] || fail "end_time missing"
  expect_in "$(tail -n1 out)" "Results saved to: $T/runs/1"
  pass "SIG$sig stops everything, runs cleanup, exits 130"
done

# A second Ctrl-C during cleanup skips the rest of it.
write_config s2.yaml <<YAML
benchmark: {name: signals2, output_dir: ./runs2}
stages:
  - name: long
    command: exec -a ${marker}-x sleep 300
cleanup:
  - name: slow-cleanup
    command: touch slow-started; exec -a ${marker}-y sleep 300
  - name: skipped-cleanup
    command: touch should-not-exist
YAML
"$BENCHCTL" run -c s2.yaml >out 2>err &
pid=$!
wait_for pgrep -f "${marker}-x" >/dev/null || fail "stage did not start"
kill -INT "$pid"
wait_for test -e slow-started || fail "cleanup did not start"
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" = 130 ] || fail "double Ctrl-C: exit $rc"
[ ! -e should-not-exist ] || fail "the second Ctrl-C did not skip the remaining cleanup"
[ -z "$(leftovers)" ] || fail "double Ctrl-C left processes"
expect_in "$(json runs2/1/metadata.json '[s["status"] for s in j["stages"]]')" "['interrupted', 'interrupted', 'not_run']"
pass "a second Ctrl-C skips the remaining cleanup"

# --timeout: same clean stop, status timeout, exit 1; the stages' sleeps
# (300 s) do not keep it waiting.
rm -rf runs cleanup-ran
start=$(date +%s%N)
run_bc run -c s.yaml -t 700ms
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
expect_rc 1 "--timeout"
[ "$elapsed" -lt 150000 ] || fail "--timeout 700ms took ${elapsed} ms: the run waited for its stages' 300 s sleeps"
[ -z "$(leftovers)" ] || fail "--timeout left processes"
[ -e cleanup-ran ] || fail "--timeout: cleanup did not run"
m=runs/1/metadata.json
[ "$(json $m 'j["status"]')" = timeout ] || fail "status should be timeout"
expect_in "$(json $m 'j["error"]')" "--timeout"
pass "--timeout stops the run with status timeout (${elapsed} ms)"

# A run that ends normally stops what its stages left running.
write_config s3.yaml <<YAML
benchmark: {name: leftovers, output_dir: ./runs3}
stages:
  - name: starts-server
    command: (exec -a ${marker}-srv sleep 300) &
  - name: uses-it
    command: pgrep -f ${marker}-srv
YAML
run_bc run -c s3.yaml
expect_rc 0 "run with a leftover process"
[ -z "$(leftovers)" ] || fail "processes left by a stage survived the run"
pass "processes left by stages are stopped at the end of the run"

# A process left running keeps making progress: its output is drained even
# though its stage has ended (a full pipe would freeze it).
write_config s4.yaml <<YAML
benchmark: {name: leftovers, output_dir: ./runs4}
stages:
  - name: chatty-server
    command: |
      (exec -a ${marker}-chatty bash -c 'i=0; while :; do i=\$((i+1)); echo \$i > n.tmp; mv n.tmp n; echo "line \$i with padding to fill a pipe ......................................................."; done') &
  - name: observe
    command: |
      # ~100 bytes a line: a writer whose output is not drained blocks after
      # a pipe's 64 KiB (~650 lines); 3000 lines prove it is drained, at
      # whatever speed this machine runs it (bounded: 120 s).
      for i in \$(seq 1200); do b=\$(cat n 2>/dev/null || echo 0); [ "\$b" -ge 3000 ] && break; sleep 0.1; done
      echo "progress \$b"; test "\$b" -ge 3000
YAML
run_bc run -c s4.yaml
expect_rc 0 "a chatty leftover keeps running"
[ -z "$(leftovers)" ] || fail "the chatty leftover survived the run"
pass "leftover processes are drained, not frozen, and stopped at the end"

# A second Ctrl-C while the first is still stopping things skips cleanup.
write_config s5.yaml <<YAML
benchmark: {name: signals5, output_dir: ./runs5}
stages:
  - name: stubborn
    background: true
    stop_grace: 3s
    command: trap '' TERM; exec -a ${marker}-stub bash -c "trap '' TERM; while :; do sleep 0.05; done"
  - name: long
    command: exec -a ${marker}-long sleep 300
cleanup:
  - name: tidy
    command: touch tidy-ran
YAML
rm -f tidy-ran
"$BENCHCTL" run -c s5.yaml >out 2>err &
pid=$!
wait_for pgrep -f "${marker}-long" >/dev/null || fail "stage did not start"
kill -INT "$pid"
sleep 0.5
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" = 130 ] || fail "exit $rc"
[ ! -e tidy-ran ] || fail "cleanup ran after a second Ctrl-C"
[ -z "$(leftovers)" ] || fail "processes left"
expect_in "$(json runs5/1/metadata.json '[s.get("reason") for s in j["stages"] if s["name"]=="tidy"]')" "skipped by a second Ctrl-C"
pass "a second Ctrl-C during the stop skips cleanup"
