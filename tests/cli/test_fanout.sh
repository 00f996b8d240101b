#!/usr/bin/env bash
# Fan-out on the local transport: `nodes: N` virtual nodes on one machine,
# their identities and working directories, the start barrier, per-node
# logs, records and files, the merged dataset (node/host columns, exact
# statistics against numpy), --nodes, a failing node (the others stopped),
# min_nodes, thresholds (exit 4), and Ctrl-C mid-fan-out.
source "$(dirname "$0")/lib.sh"
marker="bcfan$$"

cat >gen.py <<'PY'
import random, sys
k = int(sys.argv[1])
random.seed(k)
print("latency,status")
for i in range(50 * (k + 1)):
    print("%.3f,%s" % (random.expovariate(0.1) + k, "ok" if i % 10 else "err"))
PY
write_config f.yaml <<YAML
benchmark: {name: fan, output_dir: ./runs}
stages:
  - name: load
    nodes: 6
    prepare: echo "prepared \$BENCHCTL_NODE"; echo prep > prep.txt
    command: |
      [ -e prep.txt ] || exit 9
      [ ! -e .benchctl-release ] || echo "release FIFO left in the node's directory"
      echo "id \$BENCHCTL_NODE \$BENCHCTL_NODES \$BENCHCTL_NODE_HOST \$PWD"
      python3 "$T/gen.py" "\$BENCHCTL_NODE" > lat.csv
    outputs:
      - name: lat
        remote_path: lat.csv
        data_schema:
          columns:
            - {name: latency, type: float, thresholds: ["p95 < 1000", "max < 100000", "p75 > 0"]}
            - {name: status, type: string, success_values: [ok], thresholds: ["success_rate >= 0.85"]}
YAML
run_bc run -c f.yaml
expect_rc 0 "fan-out over 6 local nodes"
m=runs/1/metadata.json
[ "$(json $m 'sorted(s["node"] for s in j["stages"] if "node" in s)')" = "[0, 1, 2, 3, 4, 5]" ] ||
  fail "node numbers: $(json $m '[s.get("node") for s in j["stages"]]')"
[ "$(json $m 'sorted(set(s["status"] for s in j["stages"]))')" = "['success']" ] || fail "statuses"
for k in 0 1 2 3 4 5; do
  log=runs/1/logs/load/node-$k.log
  [ -s "$log" ] || fail "no log $log: $(ls -R runs/1/logs)"
  grep -q "^id $k 6 local /" "$log" || fail "node $k identity: $(cat "$log")"
  grep -q "^prepared $k" "$log" || fail "node $k prepare output"
  ! grep -q "benchctl-node" "$log" || fail "barrier lines leaked into $log"
  ! grep -q "release FIFO left" "$log" || fail "node $k: the release FIFO was still there"
  [ -s runs/1/lat/node-$k.csv ] || fail "node $k file: $(ls -R runs/1)"
  expect_in "$OUT" "[node $k@local] id $k 6 local"
done
# six distinct working directories
[ "$(grep -h '^id ' runs/1/logs/load/node-*.log | awk '{print $5}' | sort -u | wc -l)" = 6 ] ||
  fail "working directories are not distinct"
# the merged dataset: rows add up, node/host columns right, statistics exact
python3 - runs/1 <<'PY' || fail "merged dataset / statistics"
import csv, json, sys
import numpy as np
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/lat.csv")))
assert list(rows[0].keys()) == ["latency", "status", "node", "host"], rows[0].keys()
per = [list(csv.DictReader(open(f"{d}/lat/node-{k}.csv"))) for k in range(6)]
assert len(rows) == sum(len(p) for p in per) == sum(50 * (k + 1) for k in range(6)), len(rows)
i = 0
for k, p in enumerate(per):
    for r in p:
        assert rows[i]["latency"] == r["latency"] and rows[i]["node"] == str(k) and rows[i]["host"] == "local", (i, rows[i])
        i += 1
v = np.concatenate([np.array([float(r["latency"]) for r in p]) for p in per])
res = json.load(open(d + "/results.json"))
outs = res["cases"][0]["outputs"]
merged = [o for o in outs if o.get("merged")]
assert len(merged) == 1, outs
c = merged[0]["columns"]["latency"]
for key, want in [("mean", v.mean()), ("median", np.median(v)), ("p95", np.percentile(v, 95)),
                  ("p99", np.percentile(v, 99)), ("min", v.min()), ("max", v.max())]:
    assert abs(c[key] - want) <= 1e-9 * max(1, abs(want)), (key, c[key], want)
assert merged[0]["rows"] == len(v)
assert merged[0]["success"][0]["rate"] == sum(r["status"] == "ok" for r in rows) / len(rows)
# per node too
nodes = sorted((o for o in outs if "node" in o), key=lambda o: o["node"])
assert [o["node"] for o in nodes] == list(range(6))
for k, o in enumerate(nodes):
    pv = np.array([float(r["latency"]) for r in per[k]])
    assert abs(o["columns"]["latency"]["p95"] - np.percentile(pv, 95)) < 1e-9 * max(1, np.percentile(pv, 95))
th = res["thresholds"]
assert [t["threshold"] for t in th] == ["p95 < 1000", "max < 100000", "p75 > 0", "success_rate >= 0.85"], th
assert all(t["passed"] for t in th), th
assert abs(th[2]["value"] - np.percentile(v, 75)) < 1e-9 * np.percentile(v, 75)
st = [s for s in res["cases"][0]["stages"] if s["host"] == "*"][0]
b = st["fanout"]["barrier"]
assert b["released"] == 6 and b["spread_ms"] >= 0 and b["start_margin_ms"] >= 50, st
# every node waited for the start time sent to all (one clock here)
meta = json.load(open("runs/1/metadata.json"))
rel = [s["released_at"] for s in meta["stages"] if "node" in s]
assert len(rel) == 6 and all(t >= b["start_at"] for t in rel), (b, rel)
PY
check_schema "$SRC_DIR/docs/schema/results.schema.json" runs/1/results.json
pass "6 local nodes: unique numbers, own directories, per-node logs/files, merged dataset = numpy"

# --nodes 2: the first two nodes only
run_bc run -c f.yaml --nodes 2
expect_rc 0 "--nodes 2"
[ "$(json runs/2/metadata.json 'sorted(s["node"] for s in j["stages"] if "node" in s)')" = "[0, 1]" ] ||
  fail "--nodes 2 ran other nodes"
[ "$(python3 -c 'import csv,sys; print(len(list(csv.reader(open(sys.argv[1])))) - 1)' runs/2/lat.csv)" = 150 ] ||
  fail "--nodes 2: merged rows"
pass "--nodes 2 runs nodes 0 and 1"

# A failing node fails the stage and stops the others at once; with
# min_nodes it is tolerated.
write_config ff.yaml <<YAML
benchmark: {name: fanfail, output_dir: ./runs-fail}
stages:
  - name: load
    nodes: 4
    command: |
      if [ "\$BENCHCTL_NODE" = 2 ]; then echo failing; exit 3; fi
      exec -a ${marker}-n\$BENCHCTL_NODE sleep \${SLEEP:-120}
  - name: after
    command: touch after-ran
YAML
run_bc run -c ff.yaml
expect_rc 1 "a failing node"
[ ! -e after-ran ] || fail "the next stage ran after a failed fan-out"
[ -z "$(pgrep -f "$marker" || true)" ] || fail "nodes left running: $(pgrep -af "$marker")"
mf=runs-fail/1/metadata.json
[ "$(json $mf '[s["status"] for s in j["stages"] if "node" in s]')" = "['failed', 'failed', 'failed', 'failed']" ] ||
  fail "node statuses: $(json $mf '[(s.get("node"), s["status"], s.get("error")) for s in j["stages"]]')"
expect_in "$(json $mf 'j["stages"][0]["error"]')" "stopped: node 2 on host 'local' failed"
expect_in "$ERR" "stage 'load': 0 of 4 nodes succeeded, 4 needed"
pass "one failing node fails the stage and stops the 3 others"

sed -i 's/    nodes: 4/    nodes: 4\n    min_nodes: 3/' ff.yaml
run_bc run -c ff.yaml -e SLEEP=0.1
expect_rc 0 "min_nodes: 3 with one failing node"
[ -e after-ran ] || fail "min_nodes: the next stage did not run"
[ "$(json runs-fail/2/metadata.json '[s["status"] for s in j["stages"] if "node" in s]')" = "['success', 'success', 'failed', 'success']" ] ||
  fail "min_nodes statuses"
pass "min_nodes: 3 tolerates one failing node"

# A threshold that fails: exit 4, after everything is saved.
sed -e 's/"p95 < 1000"/"p95 < 1"/' f.yaml >ft.yaml
run_bc run -c ft.yaml
expect_rc 4 "a failed threshold"
expect_in "$ERR" 'threshold "p95 < 1" failed'
[ "$(json runs/3/results.json '[t["passed"] for t in j["thresholds"]]')" = "[False, True, True, True]" ] ||
  fail "thresholds in results.json"
[ "$(json runs/3/metadata.json 'j["status"]')" = success ] || fail "metadata status"
[ -s runs/3/lat.csv ] || fail "merged data not saved"
grep -q 'thresholds</span><b><span class=st-failed>1 failed' runs/3/report.html ||
  fail "report.html's summary does not say a threshold failed"
pass "failed threshold: exit 4, results.json says which, so does report.html's summary"

# Thresholds without fan-out.
write_config t1.yaml <<YAML
benchmark: {name: thr, output_dir: ./runs-thr}
stages:
  - name: one
    command: printf 'x\n1\n2\n3\n' > x.csv
    outputs:
      - name: x
        remote_path: x.csv
        data_schema: {columns: [{name: x, type: integer, thresholds: ["max <= 3", "mean > 2"]}]}
YAML
run_bc run -c t1.yaml
expect_rc 4 "threshold without fan-out"
[ "$(json runs-thr/1/results.json '[(t["threshold"], t["value"], t["passed"]) for t in j["thresholds"]]')" = "[('max <= 3', 3, True), ('mean > 2', 2, False)]" ] ||
  fail "plain thresholds: $(json runs-thr/1/results.json 'j["thresholds"]')"
pass "thresholds without fan-out"

# A bad threshold is a config error with its position.
sed -e 's/"mean > 2"/"mean >> 2"/' t1.yaml >t2.yaml
run_bc validate t2.yaml
expect_rc 2 "bad threshold"
expect_in "$ERR" "t2.yaml:8:"
expect_in "$ERR" "threshold 'mean >> 2' does not read"
pass "bad threshold: FILE:LINE:COL"

# Thresholds on a fanned-out output that is not merged (json) would never be
# checked: a config error, not a silent pass.
write_config tj.yaml <<'YAML'
benchmark: {name: thrj, output_dir: ./runs-thrj}
stages:
  - name: load
    nodes: 2
    command: "true"
    outputs:
      - name: o
        remote_path: o.json
        data_schema: {format: json, columns: [{name: v, type: integer, thresholds: ["max < 0"]}]}
YAML
run_bc validate -c tj.yaml
expect_rc 2 "thresholds on an unmerged fan-out output"
expect_in "$ERR" "tj.yaml:9:31:"
expect_in "$ERR" "thresholds on a fanned-out stage need a csv or jsonl output"
pass "thresholds on a fanned-out json output: a config error"

# Files that are not merged (a glob: two files a node) leave the thresholds
# unchecked: a failed check (exit 4), not a silent pass.
write_config tg.yaml <<'YAML'
benchmark: {name: thrg, output_dir: ./runs-thrg}
stages:
  - name: load
    nodes: 2
    command: printf 'v\n1\n' > o1.csv; printf 'v\n2\n' > o2.csv
    outputs:
      - name: o
        remote_path: o*.csv
        data_schema: {columns: [{name: v, type: integer, thresholds: ["max < 0"]}]}
YAML
run_bc run -c tg.yaml
expect_rc 4 "thresholds over unmerged files"
expect_in "$ERR" 'threshold "max < 0" not checked'
[ "$(json runs-thrg/1/results.json '[(t["value"], t["passed"]) for t in j["thresholds"]]')" = "[(None, False)]" ] ||
  fail "unchecked threshold in results.json: $(json runs-thrg/1/results.json 'j.get("thresholds")')"
pass "thresholds over a fan-out's unmerged files: not checked, so failed (exit 4)"

# Load cycles: a matrix over the per-node concurrency; stats shows the
# total (nodes x value) beside each cycle's merged figures.
write_config lc.yaml <<YAML
benchmark: {name: cycles, output_dir: ./runs-lc, concurrency_param: users}
matrix: {users: [10, 20]}
stages:
  - name: load
    nodes: 3
    command: printf 'latency\n%d\n%d\n' \$((users + BENCHCTL_NODE)) \$((users * 2)) > l.csv
    outputs:
      - name: l
        remote_path: l.csv
        data_schema: {columns: [{name: latency, type: integer, unit: ms}]}
YAML
run_bc run -c lc.yaml
expect_rc 0 "load cycles"
[ -s runs-lc/1/cases/users=20/l.csv ] || fail "merged file of a cycle: $(cd runs-lc/1 && find . -name '*.csv')"
run_bc stats 1 -c lc.yaml
expect_rc 0 "stats of the load cycles"
expect_in "$OUT" "total concurrency"
python3 - "$OUT" <<'PY' || fail "scaling table: $OUT"
import sys
lines = [l.split() for l in sys.argv[1].splitlines() if l.strip().startswith("users=")]
assert len(lines) == 2, lines
# case, users, total concurrency, p50, p95, p99 of the merged latency (6 rows)
assert lines[0][1:3] == ["10", "30"] and lines[1][1:3] == ["20", "60"], lines
assert lines[0][3] == "16" and lines[1][3] == "31", lines
PY
sed -i 's/concurrency_param: users/concurrency_param: user/' lc.yaml
run_bc validate lc.yaml
expect_rc 2 "concurrency_param naming no parameter"
expect_in "$ERR" "concurrency_param 'user' is not a parameter of 'matrix'"
pass "load cycles: total concurrency in the scaling table, merged statistics per cycle"

# Ctrl-C mid-fan-out: every node stopped, nothing left.
"$BENCHCTL" run -c ff.yaml -e SLEEP=300 >out 2>err &
pid=$!
for _ in $(seq 200); do [ "$(pgrep -f "${marker}-n" | wc -l)" -ge 3 ] && break; sleep 0.05; done
[ "$(pgrep -f "${marker}-n" | wc -l)" -ge 3 ] || fail "nodes did not start: $(cat err)"
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" = 130 ] || fail "Ctrl-C: exit $rc: $(cat err)"
[ -z "$(pgrep -f "$marker" || true)" ] || fail "Ctrl-C left nodes: $(pgrep -af "$marker")"
pass "Ctrl-C mid-fan-out stops every node"

# Publishing a fanned-out stage (conbench --dry-run: no server): each node's
# results carry their node, the merged dataset's none; no two share tags.
write_config pub.yaml <<YAML
benchmark: {name: fanpub, output_dir: ./runs-pub}
stages:
  - name: load
    nodes: 2
    command: python3 "$T/gen.py" "\$BENCHCTL_NODE" > lat.csv
    outputs:
      - name: lat
        remote_path: lat.csv
        data_schema: {columns: [{name: latency, type: float, unit: ms}, {name: status, type: string}]}
YAML
run_bc run -c pub.yaml
expect_rc 0 "fan-out to publish"
CONBENCH_URL=http://127.0.0.1:9 CONBENCH_PROJECT_REPOSITORY=https://github.com/example-org/r \
  CONBENCH_PROJECT_COMMIT=0123456789abcdef0123456789abcdef01234567 \
  run_bc publish 1 -c pub.yaml --to conbench --dry-run
expect_rc 0 "publish --dry-run of a fan-out"
python3 -c '
import json, sys
rs = json.loads(sys.stdin.read())
tags = [json.dumps(r["tags"], sort_keys=True) for r in rs]
assert len(tags) == len(set(tags)), tags
assert sorted(set(r["tags"].get("node", "-") for r in rs)) == ["-", "0", "1"], tags
' <<<"$OUT" || fail "fan-out results published with the same tags: $OUT"
[[ "$ERR" != *"lat.node"* ]] || fail "the merge's node column was offered to Conbench: $ERR"
pass "publishing a fan-out: every node's results and the merged ones have tags of their own"
