#!/usr/bin/env bash
# Host monitoring over SSH against a real sshd: the proc sampler runs ONE
# long-lived command per host over the run's connection (one session more
# than the same run without monitoring, however many samples: the sampler's
# own channel; its stop goes through the host's dispatcher), its rows
# arrive at the interval with sane values, a sampler killed mid-run only
# warns (the run and its measurements go on), and Ctrl-C leaves no
# sampler process behind on the host.
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/sshd_lib.sh"
sshd_require
unset SSH_AUTH_SOCK
sshd_keys
sshd_start a
HOST=$(ssh_host_yaml a)
marker="bcmon$$"
wait_for() { # wait_for CMD...: up to 20 s
  for _ in $(seq 400); do "$@" && return 0; sleep 0.05; done
  return 1
}
# The sampler loops the sshd of this test runs (its process tree only: other
# tests may run samplers of their own at the same time; not the host's
# dispatcher, whose helper functions also read /proc/self/stat).
samplers() {
  local p
  for p in $(_descendants "$(sshd_pid a)"); do
    tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qE 'CLK_TCK|emit\("/proc' && echo "$p"
  done
  return 0
}
sessions() { grep -c "Starting session: command" "$T/sshd-a/sshd.log" || true; }
rows() { [ -e "$1" ] && echo $(($(wc -l <"$1") - 1)) || echo 0; }
has_rows() { [ "$(rows "$1")" -ge "$2" ]; } # has_rows CSV N

write_config plain.yaml <<YAML
benchmark: {name: monssh, output_dir: ./runs-plain}
hosts:
  a: $HOST
stages:
  - name: work
    host: a
    command: sleep 2
  - name: more
    host: a
    command: echo done
YAML
sed 's/runs-plain}/runs-mon, monitor: {interval: 200ms, hosts: [a]}}/' plain.yaml >mon.yaml

s0=$(sessions)
run_bc run -c plain.yaml
[ "$RC" = 0 ] || fail "plain run: $RC $ERR"
s1=$(sessions)
run_bc run -c mon.yaml
[ "$RC" = 0 ] || fail "monitored run: $RC $ERR"
s2=$(sessions)
[ $((s2 - s1)) = $((s1 - s0 + 1)) ] ||
  fail "monitoring should add exactly one ssh session (the sampler's own channel; its stop goes through the host's dispatcher): without $((s1 - s0)), with $((s2 - s1))"
csv=runs-mon/1/monitor/a.csv
n=$(rows "$csv")
[ "$n" -ge 4 ] || fail "only $n samples in $csv over a 2 s stage at 200ms: $(cat "$csv")"
[ ! -e runs-mon/1/monitor/local.csv ] || fail "local was sampled though hosts: [a]"
python3 - "$csv" /proc/meminfo <<'PY' || fail "insane values in $csv"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
total = [int(l.split()[1]) * 1024 for l in open(sys.argv[2]) if l.startswith("MemTotal:")][0]
ts = [float(r["timestamp"]) for r in rows]
assert all(b >= a for a, b in zip(ts, ts[1:])) and ts[-1] > ts[0], "timestamps not increasing"
busy = [float(r["cpu_user_pct"]) + float(r["cpu_system_pct"]) for r in rows[1:]]
assert all(0 <= b <= 100.0001 for b in busy), busy
mem = [float(r["mem_used_bytes"]) for r in rows]
assert all(0 < m <= total for m in mem), (mem, total)
assert all(r["load1"] != "" for r in rows)
assert all(r["sampler_cpu_pct"] != "" for r in rows[1:])
PY
[ "$(json runs-mon/1/results.json 'j["monitor"]["hosts"]["a"]["samples"]')" = "$n" ] ||
  fail "results.json counts other samples than the CSV has"
[ "$(json runs-mon/1/results.json '[s["stage"] for s in j["monitor"]["stages"]]')" = "['work', 'more']" ] ||
  fail "per-stage resources missing: $(json runs-mon/1/results.json 'j["monitor"]["stages"]')"
[ -z "$(samplers)" ] || fail "a sampler is still running after the run: $(samplers)"
pass "one ssh session streams every sample; values sane; nothing left after the run"

# --- a sampler killed mid-run: a warning, the run goes on and succeeds
write_config kill.yaml <<YAML
benchmark: {name: monkill, output_dir: ./runs-kill, monitor: {interval: 100ms, hosts: [a]}}
hosts:
  a: $HOST
stages:
  - name: wait
    host: a
    command: |
      i=0; while [ ! -e "$T/killed" ] && [ \$i -lt 400 ]; do sleep 0.05; i=\$((i+1)); done
      echo measured-$marker
YAML
"$BENCHCTL" run -c kill.yaml >kill.out 2>kill.err &
pid=$!
wait_for has_rows runs-kill/1/monitor/a.csv 2 || fail "no samples: $(cat kill.err)"
for p in $(samplers); do kill -KILL "$p"; done
# the stage ends once the loss was seen (else the run's end could stop the
# sampler first, and there would be nothing to warn about)
wait_for grep -q "monitoring stopped after" kill.err || true
touch "$T/killed"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" = 0 ] || fail "a killed sampler failed the run: exit $rc: $(cat kill.err)"
grep -q "measured-$marker" kill.out || fail "the stage's output was lost"
grep -q "host 'a': monitoring stopped after" kill.err || fail "no warning for the killed sampler: $(cat kill.err)"
check_schema "$SRC_DIR/docs/schema/results.schema.json" runs-kill/1/results.json
json runs-kill/1/results.json 'j["monitor"]["hosts"]["a"]["stopped_at"]' >/dev/null ||
  fail "the gap is not recorded"
[ -z "$(samplers)" ] || fail "sampler processes left: $(samplers)"
pass "a sampler killed mid-run warns, records when, and the run succeeds"

# --- Ctrl-C: exit 130, no sampler left on the host
write_config int.yaml <<YAML
benchmark: {name: monint, output_dir: ./runs-int, monitor: {interval: 100ms}}
hosts:
  a: $HOST
stages:
  - name: long
    host: a
    command: exec -a ${marker}-long sleep 300
  - name: here
    command: echo local
YAML
"$BENCHCTL" run -c int.yaml >int.out 2>int.err &
pid=$!
wait_for has_rows runs-int/1/monitor/a.csv 2 || fail "no remote samples: $(cat int.err)"
wait_for has_rows runs-int/1/monitor/local.csv 2 || fail "no local samples: $(cat int.err)"
[ -n "$(samplers)" ] || fail "no sampler loop found under the test's sshd"
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" = 130 ] || fail "Ctrl-C: exit $rc: $(cat int.err)"
[ -z "$(samplers)" ] || fail "Ctrl-C left sampler processes: $(samplers | xargs ps -o pid,args -p)"
[ -z "$(pgrep -f "${marker}-long" || true)" ] || fail "the stage was left running"
[ "$(json runs-int/1/results.json 'j["run"]["status"]')" = interrupted ] || fail "status"
pass "Ctrl-C stops the samplers on every host (exit 130, none left)"
