#!/usr/bin/env bash
# hosts: [...] runs in order by default; parallel: true runs them at once,
# labelling terminal lines with the host and keeping one log per host.
source "$(dirname "$0")/lib.sh"

write_config p.yaml <<'YAML'
benchmark: {name: par, output_dir: ./runs}
hosts: {a: {}, b: {}, c: {}}
stages:
  - name: seq
    hosts: [a, b, c]
    command: |
      date +%s%N > "seq-$BENCHCTL_HOST.start"; sleep 0.3; date +%s%N > "seq-$BENCHCTL_HOST.end"
  - name: par
    hosts: [a, b, c]
    parallel: true
    command: |
      date +%s%N > "par-$BENCHCTL_HOST.tmp"; mv "par-$BENCHCTL_HOST.tmp" "par-$BENCHCTL_HOST.start"
      echo "hello from $BENCHCTL_HOST"
      for i in $(seq 1200); do [ -e par-a.start ] && [ -e par-b.start ] && [ -e par-c.start ] && break; sleep 0.05; done
      date +%s%N > "par-$BENCHCTL_HOST.end"; test "$BENCHCTL_HOST" != c
    continue_on_error: true
  - name: script
    hosts: [a, b]
    script: s.sh
YAML
printf 'echo "script on $BENCHCTL_HOST in $BENCHCTL_HOST_TMPDIR"\n' > s.sh
run_bc run -c p.yaml
expect_rc 1 "c fails in the parallel stage"
# sequential: each starts after the previous ended
[ "$(cat seq-b.start)" -ge "$(cat seq-a.end)" ] && [ "$(cat seq-c.start)" -ge "$(cat seq-b.end)" ] || fail "hosts: ran out of order"
# parallel: all started before any ended (each waits, up to 60 s, until all
# three have started: run one after the other, the first would end first; a
# start file appears only once its time is in it)
maxstart=$(cat par-*.start | sort -n | tail -1)
minend=$(cat par-*.end | sort -n | head -1)
[ "$maxstart" -lt "$minend" ] || fail "parallel: stages did not overlap"
for h in a b c; do
  expect_in "$OUT" "[$h] hello from $h"
  expect_in "$(cat runs/1/logs/par__$h.log)" "hello from $h"
done
m=runs/1/metadata.json
[ "$(json $m '[(s["host"], s["status"]) for s in j["stages"] if s["name"]=="par"]')" = "[('a', 'success'), ('b', 'success'), ('c', 'failed')]" ] || fail "parallel records"
expect_in "$(json $m 'j["error"]')" "stage 'par' on host 'c' failed with exit status 1"
expect_in "$(cat runs/1/logs/script__a.log)" "script on a in /tmp/benchctl."
pass "sequential by default, parallel: true overlaps, labelled and logged per host"
