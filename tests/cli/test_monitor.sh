#!/usr/bin/env bash
# Host monitoring on the controller: benchmark.monitor and run --monitor,
# monitor/<host>.csv (rows as samples arrive, sane values), the per-host and
# per-stage summaries in results.json (a CPU-burning and a memory-holding
# stage show inside their spans), the streamed sampler loop run locally
# (via: stream) stopped by Ctrl-C with nothing left, and bad monitor
# configs reported as FILE:LINE:COL.
source "$(dirname "$0")/lib.sh"
marker="bcmonl$$"
wait_for() { # wait_for CMD...: up to 20 s
  for _ in $(seq 400); do "$@" && return 0; sleep 0.05; done
  return 1
}
rows() { [ -e "$1" ] && echo $(($(wc -l <"$1") - 1)) || echo 0; }
has_rows() { [ "$(rows "$1")" -ge "$2" ]; }

# --- signatures in the right spans
write_config sig.yaml <<YAML
benchmark:
  name: monsig
  output_dir: ./runs
  monitor: {interval: 100ms, metrics: [cpu, memory, load]}
stages:
  - name: idle
    command: sleep 0.5
  - name: burn
    # both cores busy for 2 s (bounded by the clock)
    command: |
      for i in 1 2; do python3 -c 'import time
      t = time.time() + 2
      while time.time() < t: pass' & done; wait
  - name: hold
    # 600 MiB resident for 2 s
    command: python3 -c 'import time; b = bytearray(600 << 20); b[::4096] = b"x" * len(b[::4096]); time.sleep(2)'
YAML
run_bc run -c sig.yaml
expect_rc 0 "monitored run"
csv=runs/1/monitor/local.csv
[ "$(head -1 "$csv")" = "timestamp,cpu_user_pct,cpu_system_pct,cpu_iowait_pct,cpu_steal_pct,mem_used_bytes,mem_available_bytes,swap_used_bytes,net_rx_bps,net_tx_bps,disk_read_bps,disk_write_bps,load1,psi_cpu_pct,psi_memory_pct,psi_io_pct,sampler_cpu_pct" ] ||
  fail "CSV header: $(head -1 "$csv")"
[ "$(rows "$csv")" -ge 10 ] || fail "only $(rows "$csv") samples at 100ms over 4.5 s of stages"
python3 - "$csv" runs/1/metadata.json <<'PY' || fail "CSV values"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
meta = json.load(open(sys.argv[2]))
total = [int(l.split()[1]) * 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal:")][0]
ts = [float(r["timestamp"]) for r in rows]
assert all(b >= a for a, b in zip(ts, ts[1:])) and ts[-1] > ts[0], "timestamps must increase"
for r in rows[1:]:
    for k in ("cpu_user_pct", "cpu_system_pct", "cpu_iowait_pct", "cpu_steal_pct"):
        assert 0 <= float(r[k]) <= 100.0001, (k, r[k])
    assert float(r["cpu_user_pct"]) + float(r["cpu_system_pct"]) <= 100.0001
for r in rows:
    assert 0 < float(r["mem_used_bytes"]) <= total, r["mem_used_bytes"]
    assert float(r["mem_available_bytes"]) <= total
    # not asked for: empty
    assert r["net_rx_bps"] == "" and r["disk_read_bps"] == "" and r["psi_cpu_pct"] == "", r
PY
python3 - runs/1/results.json <<'PY' || fail "per-stage resources: $(json runs/1/results.json 'j["monitor"]["stages"]')"
import json, sys
m = json.load(open(sys.argv[1]))["monitor"]
assert m["interval_ms"] == 100 and m["metrics"] == "cpu,memory,load", m
h = m["hosts"]["local"]
assert h["file"] == "monitor/local.csv" and h["samples"] >= 10 and "error" not in h, h
st = {s["stage"]: s["resources"]["local"] for s in m["stages"]}
assert list(st) == ["idle", "burn", "hold"], list(st)
# two busy cores saturate this machine: some sample in the span is (nearly) all busy
assert st["burn"]["cpu_busy_pct"]["max"] >= 90, st["burn"]["cpu_busy_pct"]
# 600 MiB held: the peak in its span is far above the floor before it
grow = st["hold"]["mem_used_bytes"]["max"] - st["idle"]["mem_used_bytes"]["min"]
assert grow >= 300 << 20, grow
PY
check_schema "$SRC_DIR/docs/schema/results.schema.json" runs/1/results.json
pass "monitor/local.csv and results.json: sane values, stage signatures inside their spans"

# the timeline figure, drawn by the gnuplot plot emitter
[ "$(json runs/1/results.json 'j["monitor"]["plot"]')" = plots/monitor.png ] ||
  fail "no plot recorded: $(json runs/1/results.json 'j["monitor"]')"
[ "$(head -c 4 runs/1/plots/monitor.png | od -An -c | tr -d ' ')" = '211PNG' ] || fail "plots/monitor.png is not a PNG"
sed 's/runs}/runs-svg}/; s/metrics: \[cpu, memory, load\]}/metrics: [cpu, memory, load], plot: svg}/' sig.yaml >svg.yaml
sed -i 's/output_dir: .\/runs$/output_dir: .\/runs-svg/' svg.yaml
run_bc run -c svg.yaml --skip burn --skip hold
expect_rc 0 "svg timeline"
grep -q '<svg' runs-svg/1/plots/monitor.svg || fail "no SVG timeline: $(ls -R runs-svg)"
grep -q '>idle<' runs-svg/1/plots/monitor.svg || fail "the stage span is not labelled in the SVG"
pass "plots/monitor.<fmt>: the timeline figure with the stages labelled"

# --- off unless configured; --monitor turns it on with the defaults
write_config plain.yaml <<'YAML'
benchmark: {name: plain, output_dir: ./runs-plain}
stages:
  - name: s
    command: sleep 1
YAML
run_bc run -c plain.yaml
expect_rc 0 "plain run"
[ ! -e runs-plain/1/monitor ] || fail "monitoring ran though not configured"
[ "$(json runs-plain/1/results.json '"monitor" in j')" = False ] || fail "results.json has monitor"
run_bc run -c plain.yaml --monitor
expect_rc 0 "run --monitor"
[ "$(rows runs-plain/2/monitor/local.csv)" -ge 1 ] || fail "--monitor: no samples"
[ "$(json runs-plain/2/results.json 'j["monitor"]["interval_ms"]')" = 1000 ] || fail "--monitor default interval"
pass "off by default; --monitor samples with the defaults"

# --- a stage's `monitor:` narrows its own summary
write_config narrow.yaml <<'YAML'
benchmark: {name: narrow, output_dir: ./runs-narrow, monitor: {interval: 100ms, plot: none}}
stages:
  - name: quiet
    command: sleep 0.3
    monitor: false
  - name: memonly
    command: sleep 0.3
    monitor: {hosts: [local], metrics: [memory]}
  - name: all
    command: sleep 0.3
YAML
run_bc run -c narrow.yaml
expect_rc 0 "narrowed run"
python3 - runs-narrow/1/results.json <<'PY' || fail "stage narrowing: $(json runs-narrow/1/results.json 'j["monitor"]["stages"]')"
import json, sys
st = {s["stage"]: s["resources"] for s in json.load(open(sys.argv[1]))["monitor"]["stages"]}
assert list(st) == ["memonly", "all"], list(st)
cols = set(st["memonly"]["local"])
assert cols <= {"mem_used_bytes", "mem_available_bytes", "swap_used_bytes", "sampler_cpu_pct"}, cols
assert "mem_used_bytes" in cols
assert "cpu_busy_pct" in st["all"]["local"]
PY
pass "stage monitor: false leaves a stage out; monitor: {hosts, metrics} narrows its summary"

# --- a fanned-out stage: one summary per node, each naming its node
write_config fan.yaml <<'YAML'
benchmark: {name: fanmon, output_dir: ./runs-fan, monitor: {interval: 100ms, plot: none}}
stages:
  - name: fan
    nodes: 2
    command: sleep 0.3
YAML
run_bc run -c fan.yaml
expect_rc 0 "monitored fan-out"
python3 - runs-fan/1/results.json <<'PY' || fail "fan-out summaries: $(json runs-fan/1/results.json 'j["monitor"]["stages"]')"
import json, sys
st = [s for s in json.load(open(sys.argv[1]))["monitor"]["stages"] if "node" in s]
assert sorted(s["node"] for s in st) == [0, 1], st
PY
check_schema "$SRC_DIR/docs/schema/results.schema.json" runs-fan/1/results.json
pass "monitor + fan-out: each node's stage summary names its node"

# --- the streamed loop on this machine; Ctrl-C leaves nothing behind
write_config int.yaml <<YAML
benchmark: {name: monint, output_dir: ./runs-int, monitor: {interval: 100ms, via: stream}}
stages:
  - name: long
    command: exec -a ${marker}-long sleep 300
YAML
"$BENCHCTL" run -c int.yaml >int.out 2>int.err &
pid=$!
wait_for has_rows runs-int/1/monitor/local.csv 3 || fail "no streamed samples: $(cat int.err)"
descendants() {
  local c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do echo "$c"; descendants "$c"; done
}
loops=$(for p in $(descendants "$pid"); do
  tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qE 'CLK_TCK|proc/self/stat' && echo "$p"; done; true)
[ -n "$loops" ] || fail "no sampler loop under benchctl"
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" = 130 ] || fail "Ctrl-C: exit $rc: $(cat int.err)"
for p in $loops; do
  if tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qE 'CLK_TCK|proc/self/stat'; then fail "sampler $p survived Ctrl-C"; fi
done
[ -z "$(pgrep -f "${marker}-long" || true)" ] || fail "the stage survived"
n=$(rows runs-int/1/monitor/local.csv)
check_schema "$SRC_DIR/docs/schema/results.schema.json" runs-int/1/results.json
[ "$(json runs-int/1/results.json 'j["monitor"]["hosts"]["local"]["samples"]')" = "$n" ] ||
  fail "results.json and the CSV disagree after Ctrl-C"
pass "streamed sampler: samples arrive; Ctrl-C stops it (exit 130, nothing left, CSV kept)"

# --- bad monitor configs: FILE:LINE:COL, exit 2, no run
bad() { # bad NAME MONITOR-YAML NEEDLE
  printf 'benchmark:\n  name: bad\n  output_dir: ./runs-bad\n  monitor: %s\nstages:\n  - name: s\n    command: "true"\n' "$2" >"$1.yaml"
  run_bc validate -c "$1.yaml"
  expect_rc 2 "validate $1"
  expect_in "$ERR" "$3" "stderr of $1"
  run_bc run -c "$1.yaml"
  expect_rc 2 "run $1"
  [ ! -e runs-bad ] || fail "$1: a run directory was written"
}
bad interval '{interval: 1ms}' "interval.yaml:4:23: benchmark.monitor: 'interval' must be a duration from 10ms"
bad metric '{metrics: [cpu, gpu]}' "metric.yaml:4:28: benchmark.monitor.metrics: unknown metric 'gpu'"
bad host '{hosts: [local, db]}' "host.yaml:4:28: benchmark.monitor.hosts: unknown host 'db'"
bad key '{intervall: 1s}' "key.yaml:4:13: unknown key 'intervall' in benchmark.monitor"
bad key2 '{intervall: 1s}' "did you mean 'interval'?"
bad sampler '{sampler: nope}' "sampler.yaml:4:22: monitor sampler 'nope'"
bad via '{via: ssh}' "via.yaml:4:18: benchmark.monitor: 'via' must be one of auto, stream"
bad scalar 'sometimes' "scalar.yaml:4:12: benchmark.monitor must be a mapping"
printf 'benchmark: {name: bad, output_dir: ./runs-bad}\nstages:\n  - name: s\n    command: "true"\n    monitor: {hosts: [db], metric: [cpu]}\n' >stagemon.yaml
run_bc validate -c stagemon.yaml
expect_rc 2 "validate stagemon"
expect_in "$ERR" "stagemon.yaml:5:28: unknown key 'metric' in stage 's': monitor" "stage monitor key"
expect_in "$ERR" "stagemon.yaml:5:23: stage 's': monitor.hosts: unknown host 'db'" "stage monitor host"
pass "bad monitor configs: FILE:LINE:COL, exit 2, no run directory"
