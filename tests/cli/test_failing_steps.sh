#!/usr/bin/env bash
# A failed step fails its stage: the default shell stops at the first
# failing command and at a failing pipeline element; a config's own
# `shell:` is used exactly as written; an output with a data_schema and no
# data rows is a warning, and an error with `min_rows`.
source "$(dirname "$0")/lib.sh"

# A converter crashes in the middle; the last echo succeeds.
write_config crash.yaml <<'YAML'
benchmark: {name: crash, output_dir: ./runs}
stages:
  - name: convert
    command: |
      printf 'latency_ms\n' > out.csv
      sh -c 'kill -SEGV $$'
      echo converted
    outputs:
      - name: out
        remote_path: out.csv
        data_schema:
          columns: [{name: latency_ms, type: float}]
YAML
run_bc run -c crash.yaml
expect_rc 1 "a crashing step in a multi-line command"
[ "$(json runs/1/metadata.json 'j["stages"][0]["status"]')" = failed ] || fail "stage status"
[ "$(json runs/1/metadata.json 'j["status"]')" = failed ] || fail "run status"
expect_not_in "$OUT" converted "the line after the failing step"
pass "a failing middle step fails the stage (the lines after it do not run)"

# A failing element of a pipeline.
write_config pipe.yaml <<'YAML'
benchmark: {name: pipe, output_dir: ./runs}
stages:
  - name: pipe
    command: false | cat
YAML
run_bc run -c pipe.yaml
expect_rc 1 "a failing pipeline element"
expect_in "$ERR" "failed with exit status 1"
pass "a failing pipeline element fails the stage"

# The config's own shell is used as written (the Go tool's behaviour).
write_config own.yaml <<'YAML'
benchmark: {name: own, output_dir: ./runs, shell: bash -c}
stages:
  - name: lenient
    command: |
      false
      false | cat
      echo done
  - name: per-stage
    shell: sh -c
    command: false; echo done
YAML
run_bc run -c own.yaml
expect_rc 0 "shell: bash -c keeps going"
pass "a configured shell: is used exactly as written"

# Header only: a warning without min_rows, an error with it.
write_config empty.yaml <<'YAML'
benchmark: {name: empty, output_dir: ./runs}
stages:
  - name: load
    command: printf 'latency_ms,status\n' > out.csv
    outputs:
      - name: out
        remote_path: out.csv
        data_schema:
          columns: [{name: latency_ms, type: float}, {name: status, type: string}]
YAML
run_bc run -c empty.yaml
expect_rc 0 "header-only output without min_rows"
expect_in "$ERR" "has no data rows (set data_schema.min_rows: 1"
id=$(ls runs | sort -n | tail -1)
[ "$(json runs/$id/metadata.json 'j["stages"][0]["outputs"][0]["files"][0]["validation"]["rows"]')" = 0 ] \
  || fail "rows: 0 in the file's validation"
sed -i 's/columns: \[{name: latency_ms/min_rows: 1\n          columns: [{name: latency_ms/' empty.yaml
run_bc run -c empty.yaml
expect_rc 1 "header-only output with min_rows: 1"
expect_in "$ERR" "has 0 data rows; its data_schema asks for min_rows: 1"
# Enough rows pass.
sed -i "s/command: printf 'latency_ms,status\\\\n' > out.csv/command: printf 'latency_ms,status\\\\n1.5,ok\\\\n2,ok\\\\n' > out.csv/; s/min_rows: 1/min_rows: 2/" empty.yaml
run_bc run -c empty.yaml
expect_rc 0 "two rows with min_rows: 2"
id=$(ls runs | sort -n | tail -1)
[ "$(json runs/$id/metadata.json 'j["stages"][0]["outputs"][0]["files"][0]["validation"]["rows"]')" = 2 ] \
  || fail "rows: 2 in the file's validation"
pass "no data rows: a warning by default, an error below min_rows"

# min_rows must be a whole number >= 0.
sed -i 's/min_rows: 2/min_rows: -3/' empty.yaml
run_bc validate -c empty.yaml
expect_rc 2 "min_rows: -3"
expect_in "$ERR" "empty.yaml:"
expect_in "$ERR" "'min_rows' must be a whole number >= 0"
pass "a bad min_rows is a config error with its position"
