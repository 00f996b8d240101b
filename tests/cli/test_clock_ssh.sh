#!/usr/bin/env bash
# Host clock offsets against a real sshd whose sessions see a clock 30 s
# ahead (libfaketime preloaded into every process sshd starts): the offset
# measured when the connection opens (over the dispatcher's channel; by
# helper commands with exec_mode: login_shell) is 30 s within its
# uncertainty, recorded per host in metadata.json and results.json (0 +/- 0
# for the controller), and applied: the host's monitor samples and its
# fan-out nodes' release times land on the controller's clock, the
# barrier's spread is computed from the corrected times, and the merged
# dataset's timestamp columns are moved onto the controller's clock.
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/sshd_lib.sh"
sshd_require
FT=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketime\.so\.1$' | head -n 1)
[ -n "$FT" ] && [ -e "$FT" ] || {
  echo "SKIP: libfaketime is not installed (apt-get install faketime; scripts/deps.sh does)"
  exit 0
}
unset SSH_AUTH_SOCK
sshd_keys
# SetEnv reaches every session's processes, not sshd itself.
sshd_start a "SetEnv LD_PRELOAD=$FT FAKETIME=+30s FAKETIME_DONT_FAKE_MONOTONIC=1"

# The injected offset is real: a command there reads a clock 30 s ahead.
before=$(date +%s)
there=$(ssh -o BatchMode=yes -o UserKnownHostsFile="$T/sshd-a/known_hosts" -i "$T/keys/id_plain" \
  -p "$(sshd_port a)" root@127.0.0.1 'date +%s' </dev/null)
after=$(date +%s)
# bracketed by the controller's clock before and after (however slow ssh is)
[ "$there" -ge $((before + 29)) ] && [ "$there" -le $((after + 31)) ] ||
  fail "the faked sshd's date is not 30 s ahead: there $there, here $before..$after"

write_config c.yaml <<YAML
benchmark: {name: clock, output_dir: ./runs, monitor: {interval: 200ms, hosts: [a, b]}}
hosts:
  a: $(ssh_host_yaml a)
  b: $(ssh_host_yaml a "exec_mode: login_shell")
  local: {}
stages:
  - name: when
    host: a
    command: 'echo "there \$(date +%s)"; sleep 1'
  - name: go
    nodes: {hosts: [a, b, local], per_host: 2}
    command: |
      echo "node \$BENCHCTL_NODE"
      printf 'ts,ms,v\n%s,%s,1\n' "\$(date +%s.%N)" "\$(date +%s%3N)" > t.csv
    outputs:
      - name: t
        remote_path: t.csv
        data_schema:
          columns:
            - {name: ts, type: timestamp, format: unix}
            - {name: ms, type: timestamp, format: unix_ms}
            - {name: v, type: integer}
YAML
run_bc run -c c.yaml
expect_rc 0 "a run on a host whose clock is 30 s ahead"
/usr/bin/python3 - runs/1 <<'PY' || fail "clock offsets or their use: $(json runs/1/metadata.json 'j["hosts"]')"
import csv, datetime, json, sys
d = sys.argv[1]
meta = json.load(open(d + "/metadata.json"))
res = json.load(open(d + "/results.json"))
def epoch(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
t0, t1 = epoch(meta["start_time"]), epoch(meta["end_time"])
for doc in (meta, res):
    for h, method in (("a", "transport"), ("b", "commands")):
        c = doc["hosts"][h]["clock"]
        assert c["method"] == method, (h, c)
        assert 0 <= c["uncertainty_ms"] < 5000, (h, c)
        # 30 s within its uncertainty, plus slack for the faked clock's own
        # jitter and a loaded machine
        assert abs(c["offset_ms"] - 30000) <= c["uncertainty_ms"] + 250, (h, c)
    assert doc["hosts"]["local"]["clock"] == {"offset_ms": 0, "uncertainty_ms": 0,
                                              "method": "controller"}, doc["hosts"]["local"]
# The faked clock is what the stage saw there ...
log = open(d + "/logs/when.log").read()
seen = int(log.split("there ")[1].split()[0])
assert 28 <= seen - t0 <= 32 + (t1 - t0), (seen, t0)
# ... and what the monitor's samples are put on the controller's clock from:
# every sample inside the run once its host's offset is taken off.  The
# sampler's ticker reads the time with bash's EPOCHREALTIME, which
# libfaketime fakes in some processes and not in others (seen on both the
# dispatcher's and the login shell's path) -- a quirk of the faking, not of
# a real host, where both are the same clock.  So a host's samples are all
# either on the faked clock, corrected (inside the run), or on the real
# clock, corrected too (inside the run moved back by the offset); never on
# the faked clock left uncorrected (30 s late).
for h in ("a", "b"):
    rows = list(csv.DictReader(open(f"{d}/monitor/{h}.csv")))
    assert len(rows) >= 3, (h, len(rows))
    ts = [float(r["timestamp"]) for r in rows]
    off = meta["hosts"][h]["clock"]["offset_ms"] / 1e3
    shifts = [sh for sh in (0, off) if all(t0 - 1 - sh <= t <= t1 + 1 - sh for t in ts)]
    assert shifts, (h, t0, t1, off, ts[:3], ts[-3:])
    sh = shifts[0]
    # the 'when' stage's span holds samples of it
    st = [s for s in meta["stages"] if s["name"] == "when"][0]
    s0, s1 = epoch(st["start_time"]) - sh, epoch(st["end_time"]) - sh
    assert any(s0 <= t <= s1 for t in ts), (h, s0, s1, ts)
# The barrier: each node released on its own clock, corrected by its host's
# offset; the spread over hosts 30 s apart is small once corrected.
nodes = [s for s in meta["stages"] if s["name"] == "go" and "node" in s]
assert len(nodes) == 6, nodes
for s in nodes:
    off = meta["hosts"][s["host"]]["clock"]["offset_ms"]
    assert abs(s["clock_offset_ms"] - off) < 0.01, (s, off)
    assert epoch(s["start_time"]) - 1 <= s["released_at"] <= epoch(s["end_time"]) + 1, s
b = [s for s in meta["stages"] if s["name"] == "go" and s.get("fanout")][0]["fanout"]["barrier"]
assert b["released"] == 6 and b["spread_ms"] < 15000, b  # 30 s apart uncorrected
# Collation: each node's file keeps its host's clock; the merged dataset's
# timestamp columns are on the controller's clock (whole ms stay whole).
merged = list(csv.DictReader(open(d + "/t.csv")))
assert len(merged) == 6, merged
for r in merged:
    raw = list(csv.DictReader(open(f"{d}/t/node-{r['node']}.csv")))[0]
    ahead = 30 if r["host"] in ("a", "b") else 0
    assert abs(float(raw["ts"]) - ahead - float(r["ts"])) < 1, (raw, r)
    assert t0 - 1 <= float(r["ts"]) <= t1 + 1, (r, t0, t1)
    assert r["ms"].isdigit() and t0 - 1 <= int(r["ms"]) / 1e3 <= t1 + 1, (r, t0, t1)
    assert len(r["ts"].split(".")[1]) == len(raw["ts"].split(".")[1]), (raw, r)
print("offsets a %.3f +/- %.3f ms, b %.3f +/- %.3f ms; barrier spread %.3f ms" % (
    meta["hosts"]["a"]["clock"]["offset_ms"], meta["hosts"]["a"]["clock"]["uncertainty_ms"],
    meta["hosts"]["b"]["clock"]["offset_ms"], meta["hosts"]["b"]["clock"]["uncertainty_ms"],
    b["spread_ms"]))
PY
pass "a host 30 s ahead: offset measured within its uncertainty, recorded, and applied to samples and releases"
