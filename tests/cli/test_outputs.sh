#!/usr/bin/env bash
# outputs[] with the files collector: naming, $VAR templating, globs, cases
# and hosts kept apart, missing files, and data kept when a stage fails.
source "$(dirname "$0")/lib.sh"

write_config o.yaml <<'YAML'
benchmark: {name: outs, output_dir: ./runs}
hosts:
  a: {}
  b: {}
cases:
  - name: one
    env: {N: "1"}
  - name: two
    env: {N: "2"}
stages:
  - name: produce
    command: |
      mkdir -p work/traces
      printf 'x,y\n%s,%s\n' "$N" "$BENCHCTL_HOST" > "work/data-$N.csv"
      for i in 1 2 3; do echo "trace $i" > "work/traces/t$i.json"; done
    outputs:
      - name: data_${N}
        remote_path: work/data-$N.csv
      - name: traces
        remote_path: work/traces/t*.json
  - name: multi
    hosts: [a, b]
    command: echo "$BENCHCTL_HOST" > "work/host-$BENCHCTL_HOST.txt"
    outputs:
      - name: hostfile
        remote_path: work/host-${BENCHCTL_HOST}.txt
YAML
run_bc run -c o.yaml
expect_rc 0 run
for n in 1 2; do
  c=$([ $n = 1 ] && echo one || echo two)
  [ "$(tail -n1 runs/1/cases/$c/data_$n.csv)" = "$n,local" ] || fail "case $c data"
  [ "$(ls runs/1/cases/$c/traces | tr '\n' ' ')" = "t1.json t2.json t3.json " ] || fail "glob in case $c"
  [ "$(cat runs/1/cases/$c/hostfile__a.txt)" = a ] || fail "multi-host naming (a)"
  [ "$(cat runs/1/cases/$c/hostfile__b.txt)" = b ] || fail "multi-host naming (b)"
done
m=runs/1/metadata.json
[ "$(json $m '[f["path"] for s in j["stages"] if s["name"]=="produce" and s["case"]=="one" for o in s["outputs"] for f in o["files"]]')" = "['cases/one/data_1.csv', 'cases/one/traces/t1.json', 'cases/one/traces/t2.json', 'cases/one/traces/t3.json']" ] || fail "files recorded"
[ "$(json $m '[o["remote_path"] for s in j["stages"] if s["name"]=="produce" and s["case"]=="two" for o in s["outputs"]][0]')" = "work/data-2.csv" ] || fail "templated remote_path recorded"
pass "naming, templating, globs, cases and hosts"

# Missing file: the foreground stage fails and says which file; unset
# variables are errors, not empty paths.
write_config miss.yaml <<'YAML'
benchmark: {name: outs, output_dir: ./runs2}
stages:
  - name: forgetful
    command: "true"
    outputs:
      - name: result
        remote_path: /nonexistent/result.csv
YAML
run_bc run -c miss.yaml
expect_rc 1 "missing output"
expect_in "$ERR" "stage 'forgetful' on host 'local': output 'result' (/nonexistent/result.csv): /nonexistent/result.csv does not exist"
write_config unset.yaml <<'YAML'
benchmark: {name: outs, output_dir: ./runs3}
stages:
  - name: s
    command: "true"
    outputs:
      - name: result
        remote_path: /tmp/$BENCHCTL_NO_SUCH_VARIABLE/x.csv
YAML
run_bc run -c unset.yaml
expect_rc 1 "unset variable"
expect_in "$ERR" "output 'result': \$BENCHCTL_NO_SUCH_VARIABLE is not set"

# A failing stage: what it wrote is still collected.
write_config failing.yaml <<'YAML'
benchmark: {name: outs, output_dir: ./runs4}
stages:
  - name: partial
    command: echo "partial,1" > partial.csv; exit 2
    outputs:
      - name: partial
        remote_path: partial.csv
YAML
run_bc run -c failing.yaml
expect_rc 1 "failing stage"
[ "$(cat runs4/1/partial.csv)" = "partial,1" ] || fail "data of a failed stage was lost"
pass "missing files, unset variables, failed stages keep their data"
