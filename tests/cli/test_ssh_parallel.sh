#!/usr/bin/env bash
# SSH transport: a stage on several SSH hosts (three sshd instances),
# sequentially and with `parallel: true` (the three runs overlap in time),
# each host with one connection for the whole run.
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/sshd_lib.sh"
sshd_require
unset SSH_AUTH_SOCK
sshd_keys
for h in h1 h2 h3; do sshd_start $h; done

write_config p.yaml <<YAML
benchmark: {name: multi, output_dir: ./runs}
hosts:
  h1: $(ssh_host_yaml h1)
  h2: $(ssh_host_yaml h2)
  h3: $(ssh_host_yaml h3)
stages:
  - name: seq
    hosts: [h1, h2, h3]
    command: echo "seq on \$BENCHCTL_HOST"; sleep 0.3
  - name: par
    hosts: [h1, h2, h3]
    parallel: true
    command: |
      echo "par on \$BENCHCTL_HOST"; touch "$T/par-\$BENCHCTL_HOST.started"
      for i in \$(seq 1200); do [ -e "$T/par-h1.started" ] && [ -e "$T/par-h2.started" ] && [ -e "$T/par-h3.started" ] && break; sleep 0.05; done
      echo "par done on \$BENCHCTL_HOST"
    outputs: [{name: host, remote_path: /etc/hostname}]
YAML
run_bc run -c p.yaml
expect_rc 0 "multi-host run"
m=runs/1/metadata.json
[ "$(json $m '[(s["name"], s["host"], s["status"]) for s in j["stages"]]')" = \
  "[('seq', 'h1', 'success'), ('seq', 'h2', 'success'), ('seq', 'h3', 'success'), ('par', 'h1', 'success'), ('par', 'h2', 'success'), ('par', 'h3', 'success')]" ] ||
  fail "records: $(json $m '[(s["name"], s["host"], s["status"]) for s in j["stages"]]')"
for h in h1 h2 h3; do
  grep -q "par done on $h" "runs/1/logs/par__$h.log" || fail "log of par on $h"
  [ -s "runs/1/host__$h" ] || fail "output of par on $h not collected: $(ls runs/1)"
  [ "$(sshd_accepted $h)" = 1 ] || fail "host $h: $(sshd_accepted $h) logins, expected 1"
done
expect_in "$OUT" "[h2] par done on h2"

# interval overlap from the records' start/end times
overlap() {
  python3 - "$m" "$1" <<'PY'
import json, sys, datetime
j = json.load(open(sys.argv[1]))
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
iv = [(t(s["start_time"]), t(s["end_time"])) for s in j["stages"] if s["name"] == sys.argv[2]]
pairs = [(a, b) for i, a in enumerate(iv) for b in iv[i + 1:]]
print("overlap" if all(a[0] < b[1] and b[0] < a[1] for a, b in pairs) else
      "disjoint" if all(a[1] <= b[0] or b[1] <= a[0] for a, b in pairs) else "mixed")
print(round(max(e for _, e in iv) - min(s for s, _ in iv), 2), file=sys.stderr)
PY
}
[ "$(overlap seq 2>/dev/null)" = disjoint ] || fail "sequential stage runs overlapped"
# each parallel run waits (up to 60 s) until all three have started: run one
# after the other, the first would end before the next began
[ "$(overlap par 2>/dev/null)" = overlap ] || fail "parallel stage runs did not overlap"
# (the overlap is the behaviour; the span is only reported: a loaded
# machine can stretch it)
span=$(overlap par 2>&1 >/dev/null)
pass "3 SSH hosts: sequential runs one after the other, parallel: true overlaps them (${span} s), one login per host"

# A failure on one host of a parallel stage names that host.
write_config pf.yaml <<YAML
benchmark: {name: multifail, output_dir: ./runs-fail}
hosts:
  h1: $(ssh_host_yaml h1)
  h2: $(ssh_host_yaml h2)
  h3: $(ssh_host_yaml h3)
stages:
  - name: par
    hosts: [h1, h2, h3]
    parallel: true
    command: '[ "\$BENCHCTL_HOST" != h2 ] || exit 4'
YAML
run_bc run -c pf.yaml
expect_rc 1 "parallel stage failing on h2"
expect_in "$ERR" "stage 'par' on host 'h2' failed with exit status 4"
[ "$(json runs-fail/1/metadata.json '[s["status"] for s in j["stages"]]')" = "['success', 'failed', 'success']" ] ||
  fail "statuses: $(json runs-fail/1/metadata.json '[s["status"] for s in j["stages"]]')"
pass "a parallel stage failing on one host names it; the others succeed"
