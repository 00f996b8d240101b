#!/usr/bin/env bash
# The Go tool's command lines keep working: options before the command
# (`benchctl -c FILE run`), `run -t 0` (no timeout), `h` for help, and
# $BENCHCTL_CONFIG_PATH over -c (so a stage can annotate its own run
# whatever the config file is called).
source "$(dirname "$0")/lib.sh"

write_config other.yaml <<'YAML'
benchmark: {name: go-cli, output_dir: ./store}
stages:
  - name: note
    command: '"$BENCHCTL_BIN" annotate "$BENCHCTL_RUN_ID" -m from_stage=yes'
YAML
run_bc -c other.yaml run -t 0
expect_rc 0 "benchctl -c other.yaml run -t 0"
[ -f store/1/metadata.json ] || fail "the run went to other.yaml's output_dir"
[ "$(json store/1/metadata.json 'j["custom"].get("from_stage")')" = yes ] \
  || fail "a stage annotated its own run through \$BENCHCTL_CONFIG_PATH"
pass "options before the command, -t 0, annotate from a stage of a config not named benchmark.yaml"

run_bc --config=other.yaml inspect 1
expect_rc 0 "benchctl --config=other.yaml inspect 1"
expect_in "$OUT" "from_stage = yes"
BENCHCTL_CONFIG_PATH=$T/other.yaml run_bc list
expect_rc 0 "BENCHCTL_CONFIG_PATH without -c"
expect_in "$OUT" "go-cli"
BENCHCTL_CONFIG_PATH=$T/other.yaml run_bc list -c does-not-exist.yaml
expect_rc 2 "an explicit -c wins"
expect_in "$ERR" "does-not-exist.yaml"
# Never for run: a stage's `benchctl run` must not run its own run again.
BENCHCTL_CONFIG_PATH=$T/other.yaml run_bc run
expect_rc 2 "run ignores BENCHCTL_CONFIG_PATH"
expect_in "$ERR" "benchmark.yaml"
pass "\$BENCHCTL_CONFIG_PATH names the store commands' config when -c is not given (never run's)"

run_bc h run
expect_rc 0 "h run"
expect_in "$OUT" "usage: benchctl run"
run_bc -c other.yaml
expect_rc 2 "options without a command"
expect_in "$ERR" "is not a command"
run_bc run -t -5s -c other.yaml
expect_rc 2 "a negative timeout"
expect_in "$ERR" "or 0 for none"
pass "h is help; a missing command and a bad timeout are usage errors"

# -v (the Go tool's global flag): before the command or after it, debug
# messages.
run_bc -v -c other.yaml inspect 1
expect_rc 0 "-v before the command"
run_bc run -v -c other.yaml
expect_rc 0 "run -v"
expect_in "$ERR" "debug:"
pass "-v before or after the command turns on debug messages"
