#!/usr/bin/env bash
# SSH with a login user whose ~/.bashrc is slow and noisy (as with a
# version manager's init): runs still succeed, the private directory is
# found despite the noise, outputs come back and repetitions are measured.
# (The other SSH tests give their sshd an empty rc: they test benchctl, not
# the machine's shell set-up.)
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/sshd_lib.sh"
sshd_require
unset SSH_AUTH_SOCK
sshd_keys
SSHD_RC='sleep 0.3; echo "rc noise on stdout"; echo "rc noise on stderr" >&2' sshd_start slow
HOST=$(ssh_host_yaml slow)
[ "$(cat "$T/sshd-slow/bashrc" | head -1)" = 'sleep 0.3; echo "rc noise on stdout"; echo "rc noise on stderr" >&2' ] \
  || fail "the slow rc is in place"

write_config s.yaml <<YAML
benchmark: {name: slowrc, output_dir: ./runs}
hosts:
  h: $HOST
stages:
  - name: produce
    host: h
    command: printf 'v\n1\n2\n3\n' > "$T/v.csv"
    outputs:
      - name: v
        remote_path: $T/v.csv
        data_schema: {columns: [{name: v, type: integer}]}
  - name: measured
    host: h
    repeat: 3
    command: "true"
YAML
run_bc run -c s.yaml
expect_rc 0 "run against a host with a slow, noisy rc"
[ "$(cat runs/1/v.csv)" = "$(printf 'v\n1\n2\n3')" ] || fail "the output came back intact"
[ "$(json runs/1/results.json 'j["cases"][0]["stages"][1]["repeat"]["count"]')" = 3 ] || fail "3 repetitions measured"
# The dispatcher read the rc once when the connection opened; stages start
# from it without a login, so the rc's noise is in no stage's log.
if [ -e runs/1/logs/produce.log ]; then
  grep -q "rc noise" runs/1/logs/produce.log && fail "a stage started a login shell (rc noise in its log)"
fi
pass "a slow, noisy login rc: outputs intact, repetitions measured, no rc read per stage"

# exec_mode: login_shell: the rc runs once per stage (the login shell), not
# again in the stage's own bash: the wrapper keeps SHLVL counting.
sed "s|^  h: .*|  h: $(ssh_host_yaml slow "exec_mode: login_shell")|" s.yaml >ls.yaml
run_bc run -c ls.yaml
expect_rc 0 "exec_mode: login_shell with a slow rc"
n=$(grep -c "rc noise on stdout" runs/2/logs/produce.log)
[ "$n" = 1 ] || fail "the login rc ran $n times for one stage (want 1)"
pass "exec_mode: login_shell: one rc sourcing per stage"
