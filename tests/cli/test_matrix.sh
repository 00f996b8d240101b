#!/usr/bin/env bash
# matrix: parameter sweeps expand into cases (crossed with cases[]), each
# exported as BENCHCTL_PARAM_<NAME> and NAME, recorded in metadata, with
# outputs kept apart.
source "$(dirname "$0")/lib.sh"

write_config x.yaml <<'YAML'
benchmark: {name: sweep, output_dir: ./runs}
matrix:
  concurrency: [10, 20, 30]
  payload: [small, large]
stages:
  - name: load
    command: |
      echo "c=$concurrency p=$BENCHCTL_PARAM_PAYLOAD case=$BENCHCTL_CASE_NAME" > result.txt
    outputs:
      - name: result
        remote_path: result.txt
  - name: only-small
    execute_only_for: "concurrency=10,payload=small"
    command: echo small-only
YAML
run_bc run -c x.yaml
expect_rc 0 run
n=$(ls runs/1/cases | wc -l)
[ "$n" = 6 ] || fail "expected 6 case directories, got $n"
for c in 10 20 30; do
  for p in small large; do
    f="runs/1/cases/concurrency=$c,payload=$p/result.txt"
    [ "$(cat "$f")" = "c=$c p=$p case=concurrency=$c,payload=$p" ] || fail "$f holds $(cat "$f")"
  done
done
m=runs/1/metadata.json
[ "$(json $m '[c["parameters"] for c in j["cases"]][0]')" = "{'concurrency': '10', 'payload': 'small'}" ] || fail "parameters"
[ "$(json $m 'len(j["cases"])')" = 6 ] || fail "6 cases in metadata"
[ "$(json $m '[s["status"] for s in j["stages"] if s["name"]=="only-small"].count("success")')" = 1 ] || fail "execute_only_for a matrix case"
pass "a 2x3 matrix gives 6 labelled cases with their own outputs"

# Crossed with cases[], selectable by the case name.
write_config y.yaml <<'YAML'
benchmark: {name: sweep, output_dir: ./runs}
cases:
  - name: v1
    env: {V: one}
  - name: v2
    env: {V: two}
matrix:
  n: [1, 2]
stages:
  - name: s
    command: echo "$V $n"
YAML
run_bc run -c y.yaml --case v2
expect_rc 0 run
m=runs/2/metadata.json
[ "$(json $m '[c["name"] for c in j["cases"]]')" = "['v2,n=1', 'v2,n=2']" ] || fail "--case v2 selects its matrix cases"
expect_in "$(cat 'runs/2/logs/v2,n=2/s.log')" "two 2"

# Bad matrices.
printf 'benchmark: {name: x, output_dir: out}\nmatrix:\n  c: []\n  "bad-name": [1]\n  d: [1, 1]\nstages:\n  - name: a\n    command: "true"\n' > bad.yaml
run_bc validate -c bad.yaml
expect_rc 2 validate
expect_in "$ERR" "bad.yaml:3:6: matrix: 'c' needs at least one value"
pass "matrix crossed with cases, and its errors"
