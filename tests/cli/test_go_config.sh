#!/usr/bin/env bash
# Go-era configs: YAML merge keys (`<<: *defaults`) work and errors in a
# merged key point where it was written; names that are only white space
# are rejected (as the Go tool rejects them); `stages: []` is a run that
# records only its metadata.
source "$(dirname "$0")/lib.sh"

write_config m.yaml <<'YAML'
benchmark: {name: merge, output_dir: ./runs}
stages:
  - &base
    name: one
    command: echo "one $GREETING"
    timeout: 30s
  - <<: *base
    name: two
    command: echo two
  - <<: [*base]
    name: three
    timeout: 5s
YAML
run_bc run -c m.yaml -e GREETING=hi
expect_rc 0 "merge keys"
expect_in "$OUT" "one hi"
expect_in "$OUT" "two"
[ "$(grep -c 'one hi' runs/1/logs/three.log)" = 1 ] || fail "three inherits base's command"
[ "$(json runs/1/metadata.json '[s["name"] for s in j["stages"]]')" = "['one', 'two', 'three']" ] \
  || fail "three stages, in order"
pass "YAML merge keys: a mapping and a list of mappings, explicit keys win"

write_config bad.yaml <<'YAML'
benchmark: {name: merge, output_dir: ./runs}
stages:
  - &base
    name: one
    command: "true"
    timout: 30s
  - <<: *base
    name: two
YAML
run_bc validate -c bad.yaml
expect_rc 2 "an unknown key inside the merged mapping"
expect_in "$ERR" "bad.yaml:6:5: unknown key 'timout' in stage"
expect_not_in "$ERR" "bad.yaml:7:" "the error points where the key was written, not at the <<"
pass "an error in a merged key points at the line where it was written"

write_config blank.yaml <<'YAML'
benchmark: {name: "  ", output_dir: ./runs}
stages:
  - name: "   "
    command: "true"
    outputs: [{name: " ", remote_path: x.csv}]
YAML
run_bc validate -c blank.yaml
expect_rc 2 "blank names"
expect_in "$ERR" "blank.yaml:1:19: benchmark: 'name' must not be only white space"
expect_in "$ERR" "blank.yaml:3:11: stage: 'name' must not be only white space"
expect_in "$ERR" "blank.yaml:5:22: output: 'name' must not be only white space"
pass "names of only white space are rejected with their positions"

write_config empty.yaml <<'YAML'
benchmark: {name: metadata-only, output_dir: ./meta}
stages: []
YAML
run_bc run -c empty.yaml -m build=42
expect_rc 0 "stages: []"
[ "$(json meta/1/metadata.json 'j["status"], j["custom"]["build"], len(j["stages"])')" = "('success', '42', 0)" ] \
  || fail "a metadata-only run"
pass "stages: [] records a run with its metadata only"

# A relative script: the config's directory first, then (as the Go tool
# resolved it) the working directory, saying so.
mkdir -p conf scripts
printf '#!/bin/sh\necho "hi from the working directory"\n' > scripts/hi.sh
chmod +x scripts/hi.sh
write_config conf/s.yaml <<'YAML'
benchmark: {name: cwd-script, output_dir: ./runs}
stages:
  - name: hi
    script: ./scripts/hi.sh
YAML
run_bc validate -c conf/s.yaml
expect_rc 0 "validate: a script found in the working directory"
expect_in "$ERR" "is not in the config's directory"
run_bc run -c conf/s.yaml
expect_rc 0 "run: a script found in the working directory"
expect_in "$OUT" "hi from the working directory"
pass "a relative script: the config's directory, else the working directory (said)"

# A stage that failed before it started collects nothing: a file at its
# output's path is an earlier run's.
echo "old,data" > stale.csv
write_config stale.yaml <<'YAML'
benchmark: {name: stale, output_dir: ./stale-runs}
stages:
  - name: never
    script: ./does-not-exist.sh
    outputs: [{name: result, remote_path: stale.csv}]
YAML
run_bc run -c stale.yaml
expect_rc 1 "a missing script"
[ ! -e stale-runs/1/result.csv ] || fail "a stale file was collected for a stage that never started"
pass "a stage that never started collects no stale file"

# benchmark.logging.time_format (v0.3.4): a Go time layout before each
# message, on stderr and in the log file; a layout without a time field is
# an error.
write_config tf.yaml <<'YAML'
benchmark:
  name: time-format
  output_dir: ./tf-runs
  logging: {time_format: "2006-01-02 15:04:05.000", path: bench.log}
stages:
  - name: s
    command: "true"
    health_check: {type: command, target: "true"}
YAML
run_bc run -c tf.yaml
expect_rc 0 "logging.time_format"
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} info: stage .s.: command check' bench.log \
  || fail "the log file's lines start with the time: $(cat bench.log)"
echo "$ERR" | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]{12} benchctl: ' || fail "stderr lines start with the time: $ERR"
sed -i 's/time_format: "2006-01-02 15:04:05.000"/time_format: "hello"/' tf.yaml
run_bc validate -c tf.yaml
expect_rc 2 "a layout without a time field"
expect_in "$ERR" "tf.yaml:4:26: benchmark.logging.time_format: 'hello' has no time field"
pass "logging.time_format stamps messages with a Go layout"
