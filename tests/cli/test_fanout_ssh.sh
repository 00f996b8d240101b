#!/usr/bin/env bash
# Fan-out over SSH: eight sshd instances on 127.0.0.2 ... 127.0.0.9, with
# several virtual nodes on each host: node numbers unique and complete,
# the start barrier releases every node (spread recorded), per-node logs
# and files, the merged dataset against numpy, one login per host; a
# failing node stops the others; Ctrl-C mid-fan-out leaves no process on
# any host.
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/sshd_lib.sh"
sshd_require
unset SSH_AUTH_SOCK
sshd_keys
marker="bcfs$$"
hosts=""
yaml=""
for i in 2 3 4 5 6 7 8 9; do
  SSHD_ADDR=127.0.0.$i sshd_start g$i
  hosts="$hosts${hosts:+, }g$i"
  yaml="$yaml  g$i: $(ssh_host_yaml g$i)
"
done

cat >gen.py <<'PY'
import random, sys
k = int(sys.argv[1])
random.seed(1000 + k)
print("latency")
for i in range(20 * (k + 1)):
    print("%.4f" % (random.lognormvariate(2, 0.5) + k))
PY

write_config s.yaml <<YAML
benchmark: {name: fanssh, output_dir: ./runs}
hosts:
$yaml
stages:
  - name: load
    nodes: {hosts: [$hosts], per_host: 3}
    command: |
      echo "id \$BENCHCTL_NODE \$BENCHCTL_NODES \$BENCHCTL_NODE_HOST \$PWD"
      python3 "$T/gen.py" "\$BENCHCTL_NODE" > lat.csv
    outputs:
      - name: lat
        remote_path: lat.csv
        data_schema:
          columns: [{name: latency, type: float, thresholds: ["p99 < 100000"]}]
YAML
run_bc run -c s.yaml
expect_rc 0 "24 nodes on 8 SSH hosts"
m=runs/1/metadata.json
[ "$(json $m 'sorted(s["node"] for s in j["stages"] if "node" in s) == list(range(24))')" = True ] ||
  fail "node numbers: $(json $m '[s.get("node") for s in j["stages"]]')"
hl=(g2 g3 g4 g5 g6 g7 g8 g9)
for k in $(seq 0 23); do
  h=${hl[$((k % 8))]}
  grep -q "^id $k 24 $h /" runs/1/logs/load/node-$k.log || fail "node $k: $(cat runs/1/logs/load/node-$k.log)"
  expect_in "$OUT" "[node $k@$h] id $k 24 $h"
done
[ "$(grep -h '^id ' runs/1/logs/load/node-*.log | awk '{print $4, $5}' | sort -u | wc -l)" = 24 ] ||
  fail "working directories are not distinct"
for i in 2 3 4 5 6 7 8 9; do
  [ "$(sshd_accepted g$i)" = 1 ] || fail "host g$i: $(sshd_accepted g$i) logins, expected 1"
done
python3 - runs/1 <<'PY' || fail "merged dataset / statistics"
import csv, json, sys
import numpy as np
d = sys.argv[1]
hosts = ["g%d" % i for i in range(2, 10)]
rows = list(csv.DictReader(open(d + "/lat.csv")))
per = [list(csv.DictReader(open(f"{d}/lat/node-{k}.csv"))) for k in range(24)]
assert len(rows) == sum(20 * (k + 1) for k in range(24)), len(rows)
i = 0
for k, p in enumerate(per):
    for r in p:
        assert rows[i]["node"] == str(k) and rows[i]["host"] == hosts[k % 8] and rows[i]["latency"] == r["latency"], rows[i]
        i += 1
v = np.concatenate([np.array([float(r["latency"]) for r in p]) for p in per])
res = json.load(open(d + "/results.json"))
merged = [o for o in res["cases"][0]["outputs"] if o.get("merged")][0]
c = merged["columns"]["latency"]
for key, want in [("mean", v.mean()), ("median", np.median(v)), ("p90", np.percentile(v, 90)),
                  ("p99", np.percentile(v, 99)), ("p999", np.percentile(v, 99.9)), ("max", v.max())]:
    assert abs(c[key] - want) <= 1e-9 * max(1, abs(want)), (key, c[key], want)
st = [s for s in res["cases"][0]["stages"] if s["host"] == "*"][0]
b = st["fanout"]["barrier"]
assert b["released"] == 24 and b["spread_ms"] >= 0 and b["median_ms"] <= b["spread_ms"], b
meta = json.load(open(d + "/metadata.json"))
assert all(s.get("released_at", 0) > 0 for s in meta["stages"] if "node" in s)
print("barrier spread %.3f ms, median %.3f ms" % (b["spread_ms"], b["median_ms"]))
PY
pass "24 nodes on 8 SSH hosts: numbers, hosts, directories, logs, merged data = numpy, one login per host"

# A failing node stops the others on every host; nothing is left.
write_config sf.yaml <<YAML
benchmark: {name: fansshfail, output_dir: ./runs-fail}
hosts:
$yaml
stages:
  - name: load
    nodes: {hosts: [$hosts], per_host: 2}
    command: |
      if [ "\$BENCHCTL_NODE" = 13 ]; then exit 3; fi
      exec -a ${marker}-n\$BENCHCTL_NODE sleep \${SLEEP:-300}
YAML
run_bc run -c sf.yaml -e SLEEP=300
expect_rc 1 "a failing node over SSH"
expect_in "$ERR" "0 of 16 nodes succeeded"
expect_in "$(json runs-fail/1/metadata.json 'j["stages"][0]["error"]')" "node 13 on host 'g7' failed"
[ -z "$(pgrep -f "$marker" || true)" ] || fail "nodes left running: $(pgrep -af "$marker")"
pass "a failing node over SSH stops the 15 others"

# Ctrl-C mid-fan-out.
sed -i 's/\[ "\$BENCHCTL_NODE" = 13 \]/false/' sf.yaml
"$BENCHCTL" run -c sf.yaml >out 2>err &
pid=$!
for _ in $(seq 600); do [ "$(pgrep -f "${marker}-n" | wc -l)" -ge 16 ] && break; sleep 0.05; done
[ "$(pgrep -f "${marker}-n" | wc -l)" -ge 16 ] || { kill -INT $pid; fail "nodes did not start: $(cat err)"; }
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" = 130 ] || fail "Ctrl-C: exit $rc: $(cat err)"
for _ in $(seq 100); do [ -z "$(pgrep -f "$marker" || true)" ] && break; sleep 0.05; done
[ -z "$(pgrep -f "$marker" || true)" ] || fail "Ctrl-C left nodes: $(pgrep -af "$marker")"
pass "Ctrl-C mid-fan-out stops every node on all 8 hosts"
