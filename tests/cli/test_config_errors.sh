#!/usr/bin/env bash
# Bad configs: every problem is reported as FILE:LINE:COL, all at once,
# with exit 2, and no run directory is ever written.
source "$(dirname "$0")/lib.sh"

no_run_dir() { [ ! -e out ] || [ -z "$(ls out | grep -E '^[0-9]+$' || true)" ] || fail "a run directory was written: $(ls out)"; }

# check_bad FILE NEEDLE...: validate and run both exit 2 with every needle.
check_bad() {
  local f=$1; shift
  run_bc validate -c "$f"
  expect_rc 2 "validate $f"
  for n in "$@"; do expect_in "$ERR" "$n" "stderr of validate $f"; done
  run_bc run -c "$f"
  expect_rc 2 "run $f"
  for n in "$@"; do expect_in "$ERR" "$n" "stderr of run $f"; done
  no_run_dir
}

# Malformed YAML: position of the syntax error.
printf 'benchmark:\n  name: x\n  output_dir: [a\nstages: []\n' > syntax.yaml
check_bad syntax.yaml "syntax.yaml:4:7: invalid YAML: did not find expected ',' or ']'"

# Empty file, not a mapping.
: > empty.yaml
check_bad empty.yaml "empty.yaml:1:1: the config file is empty"
echo "- a" > list.yaml
check_bad list.yaml "list.yaml:1:1: the config file must be a mapping"

# Many errors at once, each with its position.
write_config many.yaml <<'YAML'
benchmark:
  name: many
  output_dir: ./out
  shel: bash
hosts:
  web:
    transport: local
    port: http
stages:
  - name: a
    host: nowhere
    command: echo hi
  - name: a
    command: echo again
    script: x.sh
  - name: b
    background: maybe
    health_check:
      type: command
      target: "true"
      timeout: 30x
      retries: -1
  - command: echo nameless
  - name: c
    hosts: [web, web]
    command: echo
    execute_only_for: nosuchcase
  - name: d
    command: [not, a, string]
plots:
  - name: p
    source: missing
    type: pie
YAML
check_bad many.yaml \
  "many.yaml:4:3: unknown key 'shel' in benchmark; valid keys: name, output_dir, shell, logging, git, plugin_paths, sync, report, concurrency_param, monitor, limits; did you mean 'shell'?" \
  "many.yaml:8:11: hosts.web: 'port' must be a whole number from 1 to 65535, not 'http'" \
  "many.yaml:11:11: stage 'a': unknown host 'nowhere'; defined hosts: web, local" \
  "many.yaml:13:11: duplicate stage name 'a' (first at line 10)" \
  "many.yaml:15:13: stage 'a': give either 'command' or 'script', not both" \
  "many.yaml:17:17: stage 'b': 'background' must be true or false, not 'maybe'" \
  "many.yaml:21:16: health_check: 'timeout' must be a duration such as 500ms, 30s or 1m30s, not '30x'" \
  "many.yaml:22:16: health_check: 'retries' must be a whole number >= 0, not '-1'" \
  "many.yaml:23:5: stage: missing required key 'name'" \
  "many.yaml:25:18: stage 'c': host 'web' is listed twice" \
  "many.yaml:27:23: stage 'c': execute_only_for names case 'nosuchcase', which is not in 'cases'" \
  "many.yaml:29:14: stage 'd': 'command' must be a value, not a list" \
  "many.yaml:32:13: plot 'p': source 'missing' is not the name of any stage output" \
  "many.yaml:33:11: plot: 'type' must be one of time_series, histogram, boxplot, cdf, scatter, not 'pie'"
expect_in "$ERR" "errors in many.yaml"

# Missing required sections and keys.
printf 'hosts: {}\n' > nobench.yaml
check_bad nobench.yaml "missing required section 'benchmark'" "missing required section 'stages'"
printf 'benchmark:\n  output_dir: out\nstages:\n  - name: a\n    command: "true"\n' > noname.yaml
check_bad noname.yaml "noname.yaml:2:3: benchmark: missing required key 'name'"

# Unknown top-level key, wrong types.
printf 'benchmark: {name: x, output_dir: out}\nstage: []\nstages: {a: 1}\n' > types.yaml
check_bad types.yaml "types.yaml:2:1: unknown key 'stage' in the top level" "types.yaml:3:9: stages must be a list, not a mapping"

# A plugin that is not installed: the installed ones are named.
printf 'benchmark: {name: x, output_dir: out}\nhosts:\n  h: {transport: telnet}\nstages:\n  - name: a\n    host: h\n    command: "true"\n    health_check: {type: comand, target: "true"}\n' > plugin.yaml
check_bad plugin.yaml \
  "plugin.yaml:3:18: host transport 'telnet': no host plugin named 'telnet' is installed" \
  "installed host plugins: local" \
  "plugin.yaml:8:26: health_check type 'comand': no probe plugin named 'comand' is installed" \
  "installed probe plugins: command"

# A benchctl installed without some of its plugins (a minimal package)
# refuses configs that need them clearly, never ignoring them.
iso=$(iso_benchctl)
printf 'benchmark: {name: x, output_dir: out}\nhosts:\n  r: {ip: 10.0.0.1}\nstages:\n  - name: a\n    command: "true"\n    health_check: {type: http, target: "http://127.0.0.1:1/"}\n    outputs:\n      - {name: o, remote_path: /x.csv, data_schema: {format: csv}}\n' > later.yaml
BENCHCTL="$iso" run_bc validate -c later.yaml
expect_rc 2 "validate with a minimal install"
expect_in "$ERR" "later.yaml:3:6: host transport 'ssh': no host plugin named 'ssh' is installed"
expect_in "$ERR" "it ships with benchctl but is missing from this installation: install benchctl's host plugins or name their directory with --plugin-path"
expect_in "$ERR" "later.yaml:7:26: health_check type 'http': no probe plugin named 'http' is installed"
expect_in "$ERR" "missing from this installation: install benchctl's probe plugins"
expect_in "$ERR" "later.yaml:9:9: outputs collector 'files': no collector plugin named 'files' is installed"
expect_in "$ERR" "later.yaml:9:62: data_schema format 'csv': no validator plugin named 'csv' is installed"
expect_in "$ERR" "missing from this installation: install benchctl's validator plugins"
expect_not_in "$ERR" "not supported yet"

# The Go tool's example configs validate unchanged (at most warnings, e.g.
# for scripts of theirs that are not here).
found=0
for f in "$SRC_DIR"/../shared/compat-examples/*.yaml; do
  [ -f "$f" ] || continue
  found=$((found + 1))
  run_bc validate -c "$f"
  expect_rc 0 "validate $f (every capability it uses is built)"
  while IFS= read -r line; do
    case "$line" in
      *"missing from this installation"*|*"warning:"*|"benchctl: "*" error"*" in "*) ;;
      *) fail "unexpected complaint about $f: $line" ;;
    esac
  done <<<"$ERR"
done
[ "$found" -gt 0 ] || echo "note: ../shared/compat-examples not found; compat check skipped"

# Unwritable output_dir: clear message, exit 2.
printf 'benchmark: {name: x, output_dir: /proc/benchctl-cannot-exist}\nstages:\n  - name: a\n    command: "true"\n' > unwritable.yaml
run_bc run -c unwritable.yaml
expect_rc 2 "run with unwritable output_dir"
expect_in "$ERR" "cannot create output directory /proc/benchctl-cannot-exist"
touch afile
printf 'benchmark: {name: x, output_dir: afile/runs}\nstages:\n  - name: a\n    command: "true"\n' > notdir.yaml
run_bc run -c notdir.yaml
expect_rc 2 "run with output_dir under a file"
expect_in "$ERR" "cannot create output directory $T/afile/runs"

# Missing config file.
run_bc run -c nosuch.yaml
expect_rc 2 "missing config"
expect_in "$ERR" "nosuch.yaml: cannot read config file: No such file or directory"

# Bad flags never start a run.
printf 'benchmark: {name: x, output_dir: out}\nstages:\n  - name: a\n    command: "true"\n' > ok.yaml
for args in "-m novalue" "-m =x" "-e 1X=2" "-e NOEQ" "-t abc" "-t 0s" "--skip nosuch" "--case nosuch" "--bogus" "extra-arg"; do
  # shellcheck disable=SC2086
  run_bc run -c ok.yaml $args
  expect_rc 2 "run $args"
  no_run_dir
done
run_bc run -c ok.yaml -m novalue
expect_in "$ERR" "-m/--metadata expects KEY=VALUE, got 'novalue'"
run_bc run -c ok.yaml --case nosuch
expect_in "$ERR" "--case nosuch: no case of that name"
pass "bad configs and flags are refused with positions and exit 2"

# Names that become files in the run directory cannot escape it.
write_config names.yaml <<'YAML'
benchmark: {name: x, output_dir: out}
matrix: {}
cases:
  - name: ../../escape
stages:
  - name: a
    command: "true"
    outputs:
      - {name: ../escaped, remote_path: x.txt}
  - name: b
    background: true
    timeout: 1s
    command: "true"
YAML
check_bad names.yaml \
  "names.yaml:2:9: matrix: give at least one parameter" \
  "names.yaml:4:11: case name '../../escape' cannot be used" \
  "names.yaml:9:16: output name '../escaped' cannot be used" \
  "names.yaml:12:5: stage 'b': 'timeout' does not apply to background stages"
pass "file-naming names are checked; background stages take no timeout"
