#!/usr/bin/env bash
# Ctrl-C at the very start of `benchctl run` (the first milliseconds, while
# the config loads and the run directory is made) never leaves a run
# directory without a valid metadata.json; Ctrl-C while the plots are
# drawn records `interrupted` and exits 130.
source "$(dirname "$0")/lib.sh"

write_config c.yaml <<'YAML'
benchmark: {name: early, output_dir: ./runs}
stages:
  - name: a
    command: sleep 5
YAML
trials=30
interrupted=0
# Job control: a background job keeps SIGINT (a shell without it starts
# background jobs with SIGINT ignored).
set -m
for i in $(seq $trials); do
  "$BENCHCTL" run -c c.yaml >/dev/null 2>"err.$i" </dev/null &
  pid=$!
  # 0 to 40 ms after the start: before, during and after the directory is made.
  sleep "0.0$((RANDOM % 5))$((RANDOM % 10))"
  kill -INT $pid 2>/dev/null || true
  rc=0
  wait $pid || rc=$?
  [ $rc = 130 ] || fail "trial $i: exit $rc, not 130: $(cat err.$i)"
  interrupted=$((interrupted + 1))
done
set +m
dirs=0
for d in runs/[0-9]*; do
  [ -d "$d" ] || continue
  dirs=$((dirs + 1))
  [ -f "$d/metadata.json" ] || fail "$d has no metadata.json"
  [ "$(json "$d/metadata.json" 'j["status"]')" = interrupted ] || fail "$d: $(json "$d/metadata.json" 'j["status"]')"
done
run_bc list -c c.yaml
expect_rc 0 list
expect_not_in "$ERR" "warning" "list"
pass "Ctrl-C in the first milliseconds ($trials trials, $dirs run directories): every run directory has metadata.json (interrupted), exit 130"

# Ctrl-C while the plots are drawn: a gnuplot that says when it starts and
# takes its time.
command -v gnuplot >/dev/null || { echo "skip: gnuplot is not installed"; exit 0; }
cat >slowplot <<SH
#!/bin/sh
touch "$T/plotting"
sleep 30
exec gnuplot "\$@"
SH
chmod +x slowplot
write_config p.yaml <<YAML
benchmark: {name: plotsig, output_dir: ./pruns}
stages:
  - name: load
    command: printf 'x,y\n1,2\n2,3\n' > xy.csv
    outputs:
      - name: xy
        remote_path: xy.csv
        data_schema: {columns: [{name: x, type: integer}, {name: y, type: integer}]}
plots:
  - {name: p, source: xy, type: scatter, x: x, y: y, options: {gnuplot_path: $T/slowplot}}
YAML
set -m
"$BENCHCTL" run -c p.yaml >out 2>err </dev/null &
set +m
pid=$!
cleanup_hooks+=("kill -9 $pid 2>/dev/null; pkill -9 -f '$T/slowplot'")
for _ in $(seq 600); do [ -e plotting ] && break; sleep 0.1; done
[ -e plotting ] || fail "the plot never started: $(cat err)"
kill -INT $pid
rc=0
wait $pid || rc=$?
[ $rc = 130 ] || fail "Ctrl-C while plotting: exit $rc, not 130: $(cat err)"
m=pruns/1/metadata.json
[ "$(json $m 'j["status"]')" = interrupted ] || fail "status $(json $m 'j["status"]')"
expect_in "$(json $m 'j["error"]')" "while drawing the plots"
[ "$(json $m 'j["stages"][0]["status"]')" = success ] || fail "the stage's record"
pass "Ctrl-C while plotting: interrupted, exit 130, the data kept"
