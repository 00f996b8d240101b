#!/usr/bin/env bash
# Stage limits on a remote host, through the SSH transport against a real
# sshd on loopback: the same wrapper script as locally (nothing installed
# there), a pinned stage on its CPUs, a memory hog killed with termination
# `memory` where the host has a writable cgroup, its cleanup command run
# in the stage's working directory there, and no cgroup or process left.
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/sshd_lib.sh"
sshd_require
unset SSH_AUTH_SOCK
sshd_keys
sshd_start a
HOST=$(ssh_host_yaml a)
tag="8$$"
cleanup_hooks+=('pkill -KILL -f "sleep $tag" 2>/dev/null')

write_config lim.yaml <<YAML
benchmark: {name: limssh, output_dir: ./runs}
hosts:
  a: $HOST
stages:
  - name: pinned
    host: a
    command: grep Cpus_allowed_list /proc/self/status
    limits: {cpus: 1}
  - name: hog
    host: a
    command: sleep $tag & python3 -c "x = bytearray(200 << 20); print(len(x))"
    limits: {memory: 64M}
    continue_on_error: true
    cleanup: echo "\$BENCHCTL_STAGE_TERMINATION" > "$T/hog.cleanup"
  - name: rep
    host: a
    command: 'true'
    repeat: 2
    limits: {memory: 64M}
YAML
run_bc run -c lim.yaml
m=runs/1/metadata.json
stage() { json "$m" "[s for s in j['stages'] if s['name'] == '$1'][0]$2"; }
cg=$(stage pinned "['limits']['cgroup']")
cpus=$(stage pinned "['limits']['cpus']")
expect_in "$(cat runs/1/logs/pinned.log)" "Cpus_allowed_list:	$cpus" "pinned stage's log (over ssh)"
[ "$(stage pinned "['termination']")" = success ] || fail "pinned: $(stage pinned '')"
if [ "$cg" = none ]; then
  expect_rc 1 "hog under RLIMIT_AS"
  [ "$(stage hog "['limits']['enforced']['memory']")" = rlimit ] || fail "remote memory rlimit"
else
  expect_rc 1 "hog killed"
  [ "$(stage pinned "['limits']['enforced']['cpus']")" = "cgroup${cg#v}" ] || fail "remote cpuset"
  [ "$(stage hog "['termination']")" = memory ] || fail "remote hog: $(stage hog '')"
  [ "$(cat "$T/hog.cleanup")" = memory ] || fail "remote cleanup: $(cat "$T/hog.cleanup")"
  mark=$(json $m "j['run_mark']")
  left=$(find /sys/fs/cgroup -maxdepth 4 -name "benchctl-${mark:0:16}-*" 2>/dev/null | head -3)
  [ -z "$left" ] || fail "cgroups left behind by the remote stages: $left"
fi
# a repeated stage: each run's findings read back from the host at the end
[ "$(json "$m" "[r['termination'] for r in [s for s in j['stages'] if s['name'] == 'rep'][0]['limits']['runs']]")" = "['success', 'success']" ] ||
  fail "remote rep: $(stage rep "['limits']")"
[ -z "$(pgrep -f "sleep $tag" || true)" ] || fail "the hog's child survived it"
pass "limits over ssh ($cg): pinned on $cpus, hog $(stage hog "['termination']"), cleanup ran there"
