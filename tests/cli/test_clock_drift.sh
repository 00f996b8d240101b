#!/usr/bin/env bash
# A host clock measured again at the end of the run, by the method used at
# connect, against a real sshd whose sessions read a faked clock from a
# file (libfaketime, FAKETIME_TIMESTAMP_FILE re-read on every call): host a
# (dispatcher round trips, method transport) and host b (exec_mode:
# login_shell, timed helper commands, method commands).  A run during
# which the clock does not move records an end offset equal to the start
# one within their uncertainties and no warning; a run during which a
# stage moves the host's clock 1 s ahead records the 1 s drift
# (end_offset_ms, drift_ms, drift_ppm over drift_interval_s) and warns.
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
echo "+30" >"$T/ft.rc"
chmod 644 "$T/ft.rc"
# SetEnv reaches every session's processes, not sshd itself; each process
# reads the offset from the file, so a change reaches the next `date`.
sshd_start a "SetEnv LD_PRELOAD=$FT FAKETIME_TIMESTAMP_FILE=$T/ft.rc FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1"

for run in steady drift; do
  shift_cmd=true
  [ $run = drift ] && shift_cmd="echo +31 > $T/ft.rc"
  echo "+30" >"$T/ft.rc"
  write_config $run.yaml <<YAML
benchmark: {name: drift, output_dir: ./runs-$run}
hosts:
  a: $(ssh_host_yaml a)
  b: $(ssh_host_yaml a "exec_mode: login_shell")
stages:
  # a fan-out measures its hosts' offsets before its barrier opens (b's by
  # helper commands): both are known before the clock moves
  - name: first
    nodes: {hosts: [a, b], per_host: 1}
    command: date +%s
  - name: shift
    command: '$shift_cmd'
  - name: last
    hosts: [a, b]
    command: sleep 0.3
YAML
  run_bc run -c $run.yaml
  expect_rc 0 "the $run run"
  echo "$ERR" >$run.err
  /usr/bin/python3 - runs-$run/1 $run <<'PY' || fail "$run run: end clock: $(json runs-$run/1/metadata.json 'j["hosts"]')"
import json, sys
d, run = sys.argv[1], sys.argv[2]
meta = json.load(open(d + "/metadata.json"))
res = json.load(open(d + "/results.json"))
for doc in (meta, res):
    for h, method in (("a", "transport"), ("b", "commands")):
        c = doc["hosts"][h]["clock"]
        assert c["method"] == method, (h, c)
        assert abs(c["offset_ms"] - 30000) <= c["uncertainty_ms"] + 250, (h, c)
        want = 31000 if run == "drift" else 30000
        assert abs(c["end_offset_ms"] - want) <= c["end_uncertainty_ms"] + 250, (h, c)
        bound = c["uncertainty_ms"] + c["end_uncertainty_ms"]
        assert abs(c["drift_ms"] - (c["end_offset_ms"] - c["offset_ms"])) < 0.01, c
        if run == "steady":
            # the true offset lies within each measurement's uncertainty
            assert abs(c["drift_ms"]) <= bound, (h, c)
        else:
            assert abs(c["drift_ms"] - 1000) <= bound + 250 and c["drift_ms"] > bound, (h, c)
        assert c["drift_interval_s"] > 0, c
        ppm = c["drift_ms"] / c["drift_interval_s"] * 1e3  # both rounded to 0.001
        assert abs(c["drift_ppm"] - ppm) <= 1e-3 * abs(ppm) + 1, c
        assert c["end_cost_ms"] >= 0, c
    assert "end_offset_ms" not in doc["hosts"]["local"]["clock"], doc["hosts"]["local"]
print("%s: a %.3f -> %.3f ms (+/- %.3f, %.3f; end cost %.3f ms), b %.3f -> %.3f ms (end cost %.3f ms)" % (
    run, meta["hosts"]["a"]["clock"]["offset_ms"], meta["hosts"]["a"]["clock"]["end_offset_ms"],
    meta["hosts"]["a"]["clock"]["uncertainty_ms"], meta["hosts"]["a"]["clock"]["end_uncertainty_ms"],
    meta["hosts"]["a"]["clock"]["end_cost_ms"],
    meta["hosts"]["b"]["clock"]["offset_ms"], meta["hosts"]["b"]["clock"]["end_offset_ms"],
    meta["hosts"]["b"]["clock"]["end_cost_ms"]))
PY
done
expect_not_in "$(cat steady.err)" "its clock drifted" "a steady clock"
for h in a b; do
  expect_in "$(cat drift.err)" "host '$h': its clock drifted +" "host $h's 1 s drift warned"
done
pass "end-of-run clock: no drift recorded as none, a 1 s step recorded and warned, for both methods"
