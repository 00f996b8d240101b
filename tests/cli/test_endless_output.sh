#!/usr/bin/env bash
# An output without end: a file cut at its max_size (recorded, the stage
# fails, the run goes on to its metadata), and a pipe that never ends
# stopped by -t and by Ctrl-C while it is collected.
source "$(dirname "$0")/lib.sh"

# 1. max_size: a device that never ends is cut at it.
cat >max.yaml <<'YAML'
benchmark: {name: endless, output_dir: ./runs}
stages:
  - name: produce
    command: "true"
    outputs:
      - {name: zeros, remote_path: /dev/zero, max_size: 64K}
YAML
run_bc run -c max.yaml
expect_rc 1 "max_size"
m=runs/1/metadata.json
[ "$(json $m 'j["status"]')" = failed ] || fail "status"
[ "$(json $m 'j["stages"][0]["outputs"][0]["files"][0].get("truncated")')" = True ] ||
  fail "file not marked truncated: $(json $m 'j["stages"][0]["outputs"]')"
[ "$(stat -c %s runs/1/zeros)" = 65536 ] || fail "kept $(stat -c %s runs/1/zeros) bytes, not 64K"
expect_in "$(json $m 'j["error"]')" "larger than its max_size (65536 bytes)"
pass "max_size: an endless output is cut at it, marked truncated, the stage fails"

# 2. and 3.: a pipe fed without end (by a process the stage left behind)
#    while it is collected: -t and Ctrl-C stop the copy.
cat >pipe.yaml <<YAML
benchmark: {name: endless-pipe, output_dir: ./pruns}
stages:
  - name: produce
    command: |
      rm -f $T/pipe; mkfifo $T/pipe
      (exec >$T/pipe; for i in \$(seq 100000); do echo "line \$i"; sleep 0.01; done) &
    outputs:
      - {name: stream, remote_path: $T/pipe}
  - name: after
    command: echo never
YAML
run_bc run -c pipe.yaml -t 3s
expect_rc 1 "-t during collection"
m=pruns/1/metadata.json
[ "$(json $m 'j["status"]')" = timeout ] || fail "status $(json $m 'j["status"]')"
[ "$(json $m 'j["stages"][1]["status"]')" = not_run ] || fail "the next stage ran"
[ -s pruns/1/stream ] || [ -n "$(json $m 'j["stages"][0]["outputs"][0]["error"]')" ] || fail "no trace of the copy"
pass "-t stops the collection of a pipe that never ends"

"$BENCHCTL" run -c pipe.yaml >out 2>err </dev/null &
pid=$!
cleanup_hooks+=("kill -9 $pid 2>/dev/null")
# Wait until the copy runs (the second run's directory exists, the pipe is read).
for _ in $(seq 300); do
  [ -d pruns/2 ] && [ -n "$(find pruns/2 -name 'stream*' 2>/dev/null)" ] && break
  sleep 0.1
done
[ -n "$(find pruns/2 -name 'stream*' 2>/dev/null)" ] || fail "the collection never started: $(cat err)"
kill -INT $pid
rc=0
for _ in $(seq 300); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -0 $pid 2>/dev/null && fail "Ctrl-C did not stop the collection"
wait $pid || rc=$?
[ $rc = 130 ] || fail "Ctrl-C: exit $rc, not 130: $(cat err)"
[ "$(json pruns/2/metadata.json 'j["status"]')" = interrupted ] || fail "status after Ctrl-C"
pass "Ctrl-C stops the collection of a pipe that never ends: interrupted, exit 130"
