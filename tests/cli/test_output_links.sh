#!/usr/bin/env bash
# Files plugins write into the run directory (collected outputs, plots) go
# through a fresh directory benchctl made and are moved into place after: a
# symbolic link a stage planted where such a file goes (at its name, or in
# place of its directory) is never written through.  The output or plot
# fails with a message naming the path and the link, nothing outside the run
# directory changes, and no staging directory is left behind.
source "$(dirname "$0")/lib.sh"

mkdir -p outside
echo victim >outside/victim.csv
printf 'x,y\n1,2\n2,4\n3,9\n' >data.csv
mkdir -p many
printf 'x,y\n1,2\n' >many/a.csv
printf 'x,y\n5,6\n' >many/b.csv
untouched() { # untouched WHAT: the outside directory as it was
  [ "$(cat outside/victim.csv)" = victim ] || fail "$1: outside/victim.csv was overwritten"
  [ "$(ls -A outside)" = victim.csv ] || fail "$1: written outside the run directory: $(ls -A outside)"
}
no_staging() { # no_staging RUN_DIR WHAT
  local left
  left=$(find "$1" -name '.benchctl-put.*' 2>/dev/null || true)
  [ -z "$left" ] || fail "$2: staging directories left: $left"
}

# 1. A link at a collected output's file name, planted by an earlier stage.
write_config a.yaml <<YAML
benchmark: {name: outlink, output_dir: ./a, report: false}
stages:
  - name: plant
    command: ln -s $T/outside/victim.csv "\$BENCHCTL_RUN_DIR/data.csv"
  - name: produce
    command: "true"
    outputs:
      - {name: data, remote_path: $T/data.csv}
YAML
run_bc run -c a.yaml
expect_rc 1 "a link at an output's name"
untouched "output name"
err=$(json a/1/metadata.json 'j["error"]')
expect_in "$err" "output 'data'"
expect_in "$err" "a/1/data.csv is a symbolic link (to $T/outside/victim.csv)"
expect_in "$err" "does not write through links"
[ -L a/1/data.csv ] || fail "the planted link is kept for inspection"
no_staging a/1 "output name"
pass "a link planted at a collected output's name: the output fails and says so, the target is untouched"

# 2. A link in place of a glob output's directory (the collector makes it).
write_config b.yaml <<YAML
benchmark: {name: dirlink, output_dir: ./b, report: false}
stages:
  - name: plant
    command: ln -s $T/outside "\$BENCHCTL_RUN_DIR/many"
  - name: produce
    command: "true"
    outputs:
      - {name: many, remote_path: "$T/many/*.csv"}
YAML
run_bc run -c b.yaml
expect_rc 1 "a link in place of an output directory"
untouched "output directory"
err=$(json b/1/metadata.json 'j["error"]')
expect_in "$err" "a directory on the way to $T/b/1/many/"
expect_in "$err" "is a symbolic link"
no_staging b/1 "output directory"
pass "a link planted in place of a glob output's directory: nothing written through it, the output fails and says so"

# 3. Plots: a link at the plot's name, and a link in place of plots/.
for kind in file dir; do
  if [ $kind = file ]; then
    plant="mkdir -p \"\$BENCHCTL_RUN_DIR/plots\"; ln -s $T/outside/victim.csv \"\$BENCHCTL_RUN_DIR/plots/p.png\""
  else
    plant="ln -s $T/outside \"\$BENCHCTL_RUN_DIR/plots\""
  fi
  write_config p-$kind.yaml <<YAML
benchmark: {name: plotlink, output_dir: ./p-$kind, report: false}
stages:
  - name: produce
    command: $plant
    outputs:
      - name: data
        remote_path: $T/data.csv
        data_schema: {format: csv, columns: [{name: x, type: integer}, {name: y, type: integer}]}
plots:
  - {name: p, source: data, type: scatter, x: x, y: y}
YAML
  run_bc run -c p-$kind.yaml
  expect_rc 1 "a link at plots ($kind)"
  untouched "plot $kind"
  [ -s p-$kind/1/data.csv ] || fail "plot $kind: the collected data is kept"
  err=$(json p-$kind/1/metadata.json 'j["error"]')
  expect_in "$err" "plot 'p' failed"
  expect_in "$err" "symbolic link"
  if [ $kind = file ]; then
    expect_in "$err" "plots/p.png is a symbolic link (to $T/outside/victim.csv)"
  else
    expect_in "$err" "a directory on the way to $T/p-dir/1/plots/p.png"
  fi
  no_staging p-$kind/1 "plot $kind"
done
pass "links planted at a plot's name or in place of plots/: the plot fails and says so, nothing written outside"

# The same run without links: everything lands where it always did.
write_config ok.yaml <<YAML
benchmark: {name: nolink, output_dir: ./ok, report: false}
stages:
  - name: produce
    command: "true"
    outputs:
      - name: data
        remote_path: $T/data.csv
        data_schema: {format: csv, columns: [{name: x, type: integer}, {name: y, type: integer}]}
      - {name: many, remote_path: "$T/many/*.csv"}
plots:
  - {name: p, source: data, type: scatter, x: x, y: y, options: {keep_script: true}}
YAML
run_bc run -c ok.yaml
expect_rc 0 "a run without links"
cmp -s ok/1/data.csv data.csv || fail "data.csv collected"
[ -s ok/1/many/a.csv ] && [ -s ok/1/many/b.csv ] || fail "the glob output: $(ls -R ok/1)"
[ -s ok/1/plots/p.png ] || fail "the plot: $(ls -R ok/1)"
no_staging ok/1 "no links"
pass "without links, outputs and plots land in place and no staging directory is left"
