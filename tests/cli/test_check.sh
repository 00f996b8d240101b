#!/usr/bin/env bash
# benchctl check: this machine (text and --json, exit 0 or 3 as the
# verdicts say), recorded trees (BENCHCTL_CHECK_ROOT: a noisy machine
# exits 3 with every fix, a tuned one 0), every host of a config through
# its transport (a real sshd on loopback), a host that cannot be reached
# (exit 1, the others still checked), a bad config (exit 2), and the same
# verdicts in a run's metadata.json (machine and hosts) and in inspect.
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/sshd_lib.sh"
FX="$SRC_DIR/tests/fixtures/noise"
NAMES="governor turbo smt aslr load busy_processes swap swappiness thp isolated_cpus nohz_full cgroup"

# the JSON report is well formed: every check once, known verdicts, a fix
# exactly with warn, warnings counted right; prints the exit code it implies
check_report() {
  /usr/bin/python3 - "$1" "$NAMES" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
names = sys.argv[2].split()
total = 0
for h in r["hosts"]:
    if "error" in h:
        continue
    got = [c["name"] for c in h["checks"]]
    assert got == names, (h["host"], got)
    for c in h["checks"]:
        assert c["verdict"] in ("ok", "warn", "unknown", "n/a"), c
        assert ("fix" in c) == (c["verdict"] == "warn"), c
        assert c["detail"], c
    w = sum(c["verdict"] == "warn" for c in h["checks"])
    assert h["warnings"] == w and h["verdict"] == ("warn" if w else "ok"), h
    total += w
assert r["warnings"] == total, r
unreachable = sum("error" in h for h in r["hosts"])
assert r["unreachable"] == unreachable
print(1 if unreachable else 3 if total else 0)
PY
}

# ---- this machine
run_bc check
[ "$RC" -eq 0 ] || [ "$RC" -eq 3 ] || fail "check: exit $RC
$OUT
$ERR"
for n in $NAMES; do expect_in "$OUT" "$n" "check's output"; done
expect_in "$OUT" "local (local, this machine)"
expect_in "$OUT" "on 1 host"
[ "$RC" -eq 0 ] || expect_in "$OUT" "fix: " "a warning's fix"
run_bc check --json
[ "$RC" -eq 0 ] || [ "$RC" -eq 3 ] || fail "check --json: exit $RC: $ERR"
printf '%s\n' "$OUT" >local.json
want=$(check_report local.json) || fail "check --json: bad report
$OUT"
[ "$RC" -eq "$want" ] || fail "check --json exited $RC, its report says $want"
# what it read is this machine's
[ "$(json local.json '[c["value"] for c in j["hosts"][0]["checks"] if c["name"] == "aslr"][0]')" = \
  "$(cat /proc/sys/kernel/randomize_va_space)" ] || fail "aslr value is not this machine's"
pass "check on this machine: 12 checks, exit $RC as the report says"

# ---- recorded trees: a noisy machine warns everywhere, a tuned one not at all
BENCHCTL_CHECK_ROOT=$FX/noisy run_bc check
expect_rc 3 "check of a noisy machine"
for fix in "cpupower frequency-set -g performance" "intel_pstate/no_turbo" "smt/control" \
  "kernel.randomize_va_space=0" "swapoff -a" "vm.swappiness=1" "transparent_hugepage/enabled" \
  "isolcpus=" "nohz_full=" "Delegate=yes" "kill -STOP"; do
  expect_in "$OUT" "fix: " "noisy"
  expect_in "$OUT" "$fix" "noisy's fixes"
done
expect_in "$OUT" "stress_ng (4242) 90%"
expect_in "$OUT" "12 warnings on 1 host"
BENCHCTL_CHECK_ROOT=$FX/tuned run_bc check --json
expect_rc 0 "check of a tuned machine"
printf '%s\n' "$OUT" >tuned.json
[ "$(check_report tuned.json)" = 0 ] || fail "tuned: report"
[ "$(json tuned.json '[c["verdict"] for c in j["hosts"][0]["checks"]].count("ok")')" = 12 ] ||
  fail "tuned: not all ok: $OUT"
BENCHCTL_CHECK_ROOT=$T/nothing-here run_bc check
expect_rc 0 "check with nothing readable"
[ "$(grep -c '^  unknown ' <<<"$OUT")" = 12 ] || fail "nothing readable: not all unknown
$OUT"
pass "recorded trees: noisy exits 3 with 12 fixes, tuned 0, nothing readable: all unknown"

# ---- usage and config errors
run_bc check extra
expect_rc 2 "check with an argument"
run_bc check --bogus
expect_rc 2 "check --bogus"
printf 'benchmark: {name: x, output_dir: ./r}\nstages: [{name: a, command: true, host: nowhere}]\n' >bad.yaml
run_bc check -c bad.yaml
expect_rc 2 "check -c with an invalid config"
expect_in "$ERR" "bad.yaml"
run_bc check -c missing.yaml
expect_rc 2 "check -c of a missing file"
pass "usage and configuration errors exit 2"

# ---- every host of a config, an SSH host through its transport
sshd_require
unset SSH_AUTH_SOCK
sshd_keys
sshd_start a
HOST=$(ssh_host_yaml a)
DEAD=$(ssh_host_yaml a "port: $(_free_port)" "connect_timeout: 5s")
write_config s.yaml <<YAML
benchmark: {name: chk, output_dir: ./runs}
hosts:
  a: $HOST
stages:
  - name: there
    host: a
    command: echo remote
  - name: here
    command: echo local
YAML
run_bc check -c s.yaml --json
printf '%s\n' "$OUT" >ssh.json
want=$(check_report ssh.json) || fail "check -c s.yaml: bad report
$OUT
$ERR"
[ "$RC" -eq "$want" ] || fail "check -c exited $RC, its report says $want: $ERR"
[ "$(json ssh.json '" ".join(h["host"] + ":" + h["transport"] for h in j["hosts"])')" = "a:ssh local:local" ] ||
  fail "hosts checked: $(json ssh.json '[h["host"] for h in j["hosts"]]')"
[ "$(json ssh.json 'j["hosts"][0]["reachable"] and not j["hosts"][0]["controller"] and j["hosts"][1]["controller"]')" = True ] ||
  fail "ssh host entry: $OUT"
# the sshd runs on this machine: the same kernel settings were read there
for n in aslr thp smt; do
  [ "$(json ssh.json "[c['value'] for c in j['hosts'][0]['checks'] if c['name'] == '$n']")" = \
    "$(json ssh.json "[c['value'] for c in j['hosts'][1]['checks'] if c['name'] == '$n']")" ] ||
    fail "$n differs between the ssh host and this machine (the same kernel)"
done
pass "check -c: the SSH host through its transport and the controller, 12 checks each"

# ---- a host that cannot be reached: exit 1, named; the others still checked
write_config d.yaml <<YAML
benchmark: {name: chk, output_dir: ./runs}
hosts:
  gone: $DEAD
  a: $HOST
stages:
  - {name: x, host: gone, command: "true"}
  - {name: y, host: a, command: "true"}
YAML
run_bc check -c d.yaml
expect_rc 1 "check with an unreachable host"
expect_in "$ERR" "host 'gone'" "the unreachable host's message"
expect_in "$OUT" "a (ssh)" "the reachable host is still checked"
expect_in "$OUT" "1 host not checked"
[ "$(grep -c '^  [a-z/]* *governor ' <<<"$OUT")" = 2 ] || fail "not every reachable host checked
$OUT"
pass "an unreachable host: exit 1, named, the other hosts still checked"

# ---- the same assessment in a run's metadata.json, and in inspect
run_bc run -c s.yaml
expect_rc 0 "run"
m=runs/1/metadata.json
[ "$(json $m 'len(j["machine"]["noise"]["checks"])')" = 12 ] || fail "machine.noise: $(json $m 'j["machine"].get("noise")')"
[ "$(json $m 'len(j["hosts"]["a"]["facts"]["noise"]["checks"])')" = 12 ] ||
  fail "hosts.a.facts.noise: $(json $m 'j["hosts"]["a"]["facts"]')"
[ "$(json $m '[c["name"] for c in j["hosts"]["a"]["facts"]["noise"]["checks"]] == [c["name"] for c in j["machine"]["noise"]["checks"]]')" = True ] ||
  fail "the host's checks differ from the machine's"
run_bc inspect 1 -c s.yaml
expect_rc 0 "inspect"
expect_in "$OUT" "noise      this machine: "
expect_in "$OUT" "host a: "
pass "a run stores the verdicts of the controller and of the ssh host; inspect shows them"
