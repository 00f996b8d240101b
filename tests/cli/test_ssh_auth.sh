#!/usr/bin/env bash
# SSH transport: logging in (key, encrypted key, password, agent, ~ and $VAR
# in key_file) and host key checking (unknown / changed keys refused with
# the fingerprint and how to accept it, accept-new records, off warns), and
# clear failures (wrong password, connection refused), against real sshd.
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/sshd_lib.sh"
sshd_require
unset SSH_AUTH_SOCK SSH_AGENT_PID
sshd_keys
sshd_start a
PA=$SSHD_PORT

# cfg NAME HOST-YAML: a one-stage config NAME.yaml whose stage prints who it is.
cfg() {
  write_config "$1.yaml" <<YAML
benchmark: {name: $1, output_dir: ./runs-$1}
hosts:
  a: $2
stages:
  - name: whoami
    host: a
    command: echo "logged in as \$(id -un) on \$BENCHCTL_HOST"
YAML
}
meta() { echo "runs-$1/$(ls "runs-$1" | sort -n | tail -1)/metadata.json"; }
expect_failed_run() { # NAME MESSAGE...
  local n=$1; shift
  expect_rc 1 "$n"
  local m; m=$(meta "$n")
  [ "$(json "$m" 'j["status"]')" = failed ] || fail "$n: metadata status is not failed"
  local e; e=$(json "$m" 'j["stages"][0]["error"]')
  expect_in "$e" "stage 'whoami'" "$n: stage error"
  expect_in "$e" "host 'a'" "$n: stage error"
  for s in "$@"; do expect_in "$ERR" "$s" "$n: stderr"; done
}
fingerprint() { ssh-keygen -l -E sha256 -f "$1" | awk '{print $2}'; }

# --- keys
cfg key "$(ssh_host_yaml a)"
run_bc run -c key.yaml
expect_rc 0 "key login"
expect_in "$OUT" "logged in as root on a"
pass "key_file login"

cfg enc "$(ssh_host_yaml a "key_file: $T/keys/id_enc" "key_password: '$SSHD_KEY_PASS'")"
run_bc run -c enc.yaml
expect_rc 0 "encrypted key login"
expect_in "$OUT" "logged in as root"
expect_not_in "$(cat runs-enc/1/config.yaml runs-enc/1/metadata.json)" "$SSHD_KEY_PASS" "saved config"
pass "encrypted key_file with key_password (redacted in the run directory)"

cfg encnopass "$(ssh_host_yaml a "key_file: $T/keys/id_enc")"
run_bc run -c encnopass.yaml
expect_failed_run encnopass "$T/keys/id_enc" "encrypted (set key_password)"
cfg encbad "$(ssh_host_yaml a "key_file: $T/keys/id_enc" "key_password: wrong")"
run_bc run -c encbad.yaml
expect_failed_run encbad "wrong key_password"
pass "encrypted key without / with a wrong key_password: clear error"

export BC_TEST_KEYS="$T/keys"
cfg var "$(ssh_host_yaml a "key_file: '\${BC_TEST_KEYS}/id_plain'")"
run_bc run -c var.yaml
expect_rc 0 "key_file with \${VAR}"
cfg tilde "$(ssh_host_yaml a "key_file: ~/keys/id_plain")"
HOME=$T run_bc run -c tilde.yaml
expect_rc 0 "key_file with ~"
cfg unset "$(ssh_host_yaml a "key_file: \$BC_NOT_SET_ANYWHERE/id")"
run_bc run -c unset.yaml
expect_failed_run unset "BC_NOT_SET_ANYWHERE is not set"
pass "key_file expands ~ and \$VAR (an unset variable is an error)"

# --- agent: no key_file
eval "$(ssh-agent -s)" >/dev/null
cleanup_hooks+=("kill $SSH_AGENT_PID 2>/dev/null")
cfg agent "$(ssh_host_yaml a -key_file)"
run_bc run -c agent.yaml
expect_failed_run agent "authentication failed for root@127.0.0.1:$PA" "ssh agent"
ssh-add -q "$T/keys/id_plain" 2>/dev/null
run_bc run -c agent.yaml
expect_rc 0 "agent login"
expect_in "$OUT" "logged in as root"
kill "$SSH_AGENT_PID"
unset SSH_AUTH_SOCK SSH_AGENT_PID
pass "ssh agent login when no key_file is given (and a clear failure when it has no key)"

# --- password: a throwaway user, on a server that accepts passwords
sshd_add_user
sshd_start p "PasswordAuthentication yes"
PP=$SSHD_PORT
cfg pw "{ip: 127.0.0.1, port: $PP, username: $SSHD_USER, password: '$SSHD_USER_PASS', known_hosts: $T/sshd-p/known_hosts, ssh_config: false}"
run_bc run -c pw.yaml
expect_rc 0 "password login"
expect_in "$OUT" "logged in as $SSHD_USER"
expect_not_in "$(cat runs-pw/1/config.yaml runs-pw/1/metadata.json runs-pw/1/stages.jsonl)" "$SSHD_USER_PASS" "run directory"
pass "password login (redacted in the run directory)"

cfg badpw "{ip: 127.0.0.1, port: $PP, username: $SSHD_USER, password: not-the-password, known_hosts: $T/sshd-p/known_hosts, ssh_config: false}"
run_bc run -c badpw.yaml
expect_failed_run badpw "authentication failed for $SSHD_USER@127.0.0.1:$PP" "password" "the server accepts: publickey, password"
pass "wrong password: authentication failed, exit 1, status failed"

# --- ~/.ssh/config (of the throwaway user: benchctl runs as that user)
if su -s /bin/sh "$SSHD_USER" -c "test -x '$BENCHCTL'" 2>/dev/null; then
  uh=$(getent passwd "$SSHD_USER" | cut -d: -f6)
  mkdir -p "$uh/.ssh" "$T/as-user"
  cp "$T/keys/id_plain" "$uh/.ssh/id_bench"
  cp "$T/sshd-a/known_hosts" "$uh/.ssh/bench_known_hosts"
  printf 'Host benchbox\n  HostName 127.0.0.1\n  Port %s\n  User root\n  IdentityFile ~/.ssh/id_bench\n  UserKnownHostsFile ~/.ssh/bench_known_hosts\n' "$PA" >"$uh/.ssh/config"
  chown -R "$SSHD_USER" "$uh/.ssh" "$T/as-user"
  chmod 700 "$uh/.ssh"
  chmod 600 "$uh/.ssh/"*
  write_config "$T/as-user/cfg.yaml" <<'YAML'
benchmark: {name: sshconfig, output_dir: ./runs}
hosts:
  box: {ip: benchbox}
stages:
  - name: whoami
    host: box
    command: echo "logged in as $(id -un) through ~/.ssh/config"
YAML
  chown "$SSHD_USER" "$T/as-user/cfg.yaml"
  out=$(su -s /bin/sh "$SSHD_USER" -c "cd '$T/as-user' && '$BENCHCTL' run -c cfg.yaml" 2>&1) ||
    fail "run through ~/.ssh/config failed: $out"
  expect_in "$out" "logged in as root through ~/.ssh/config"
  pass "~/.ssh/config: a Host alias as ip (HostName, Port, User, IdentityFile, UserKnownHostsFile)"
else
  echo "skip - $BENCHCTL is not reachable for the throwaway user: ~/.ssh/config not tested"
fi

# --- host keys
fp=$(fingerprint "$T/sshd-a/host_ed25519.pub")
cfg unknown "$(ssh_host_yaml a "known_hosts: $T/none/known_hosts")"
run_bc run -c unknown.yaml
expect_failed_run unknown "is not known" "$fp" "host_key_check: accept-new" "ssh-keyscan -p $PA 127.0.0.1 >> $T/none/known_hosts"
[ ! -e "$T/none/known_hosts" ] || fail "strict checking wrote a known_hosts file"
pass "unknown host key refused, showing $fp and how to accept it"

cfg acceptnew "$(ssh_host_yaml a "known_hosts: $T/kh/new_known_hosts" "host_key_check: accept-new")"
run_bc run -c acceptnew.yaml
expect_rc 0 "accept-new"
grep -q "^\[127.0.0.1\]:$PA ssh-ed25519 " "$T/kh/new_known_hosts" || fail "accept-new did not record the key: $(cat "$T/kh/new_known_hosts" 2>&1)"
cfg strictagain "$(ssh_host_yaml a "known_hosts: $T/kh/new_known_hosts")"
run_bc run -c strictagain.yaml
expect_rc 0 "strict with the recorded key"
pass "accept-new records an unknown key; strict accepts it afterwards"

sshd_start b
PB=$SSHD_PORT
sed "s/^\[127.0.0.1\]:$PB /[127.0.0.1]:$PA /" "$T/sshd-b/known_hosts" >"$T/changed_known_hosts"
cp "$T/changed_known_hosts" "$T/changed_known_hosts.orig"
for mode in strict accept-new; do
  cfg "changed-$mode" "$(ssh_host_yaml a "known_hosts: $T/changed_known_hosts" "host_key_check: $mode")"
  run_bc run -c "changed-$mode.yaml"
  expect_failed_run "changed-$mode" "has CHANGED" "$fp" "ssh-keygen -R '[127.0.0.1]:$PA' -f $T/changed_known_hosts"
done
cmp -s "$T/changed_known_hosts" "$T/changed_known_hosts.orig" || fail "a changed key was recorded"
cfg changed-off "$(ssh_host_yaml a "known_hosts: $T/changed_known_hosts" "host_key_check: off")"
run_bc run -c changed-off.yaml
expect_rc 0 "changed key with host_key_check: off"
expect_in "$ERR" "DIFFERS"
cfg unknown-off "$(ssh_host_yaml a "known_hosts: $T/none2" "host_key_check: off")"
run_bc run -c unknown-off.yaml
expect_rc 0 "unknown key with host_key_check: off"
expect_in "$ERR" "is not verified (host_key_check: off)"
pass "changed host key refused (strict and accept-new); off connects with a warning"

# --- unreachable
sshd_stop b
cfg refused "$(ssh_host_yaml a "port: $PB")"
run_bc run -c refused.yaml
expect_failed_run refused "cannot connect to root@127.0.0.1:$PB" "onnection refused"
start=$(date +%s%N)
cfg unreach "{ip: 10.255.255.1, port: 22, username: root, connect_timeout: 1s, known_hosts: $T/x, ssh_config: false}"
run_bc run -c unreach.yaml
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
expect_failed_run unreach "cannot connect to root@10.255.255.1:22"
# Where the address swallows SYNs, connect_timeout ends the attempt, not the
# kernel's SYN retries (about 2 minutes; half of that is the bound).  Where
# it is unroutable, the connect fails at once.
[ "$elapsed" -lt 60000 ] || fail "connect_timeout 1s took $elapsed ms"
pass "connection refused / unreachable: clear message naming the host, exit 1 (${elapsed} ms)"

# The plugin without its implementation (libssh missing): validate works,
# connecting says what is missing.
mkdir -p lonely
cp "$BUILD_DIR/plugins/host-ssh.so" lonely/
cfg lonely "$(ssh_host_yaml a)"
run_bc validate -c lonely.yaml --plugin-path "$T/lonely"
expect_rc 0 "validate with the plugin alone"
run_bc run -c lonely.yaml --plugin-path "$T/lonely"
expect_failed_run lonely "the ssh transport is not usable: cannot load $T/lonely/host-ssh.d/host-ssh-impl.so" "libssh"
pass "the plugin alone validates; without its libssh implementation an SSH host fails clearly"

validate_err() {
  cfg bad "$(ssh_host_yaml a "$1")"
  run_bc validate -c bad.yaml
  expect_rc 2 "validate $1"
  expect_in "$ERR" "$2"
}
validate_err "host_key_check: maybe" "host_key_check"
validate_err "conect_timeout: 3s" "unknown key 'conect_timeout'"
pass "the ssh transport's options are validated"

# Relative key_file and known_hosts: the config's directory first, then
# (as the Go tool resolved them) the working directory.
mkdir -p cfgdir/sub
cp "$T/keys/id_plain" cfgdir/sub/mykey
chmod 600 cfgdir/sub/mykey
cp "$T/sshd-a/known_hosts" cfgdir/sub/kh
cat > cfgdir/rel.yaml <<YAML
benchmark: {name: rel, output_dir: ./runs}
hosts:
  a: {ip: 127.0.0.1, port: $(sshd_port a), username: root, key_file: sub/mykey, known_hosts: sub/kh, ssh_config: false}
stages:
  - {name: who, host: a, command: "echo relative-ok"}
YAML
run_bc run -c cfgdir/rel.yaml
expect_rc 0 "key_file and known_hosts relative to the config's directory (run from elsewhere)"
expect_in "$OUT" "relative-ok"
sed -i "s|key_file: sub/mykey, known_hosts: sub/kh|key_file: keys/id_plain, known_hosts: sshd-a/known_hosts|" cfgdir/rel.yaml
run_bc run -c cfgdir/rel.yaml
expect_rc 0 "key_file and known_hosts relative to the working directory (the Go tool's rule)"
pass "relative key_file and known_hosts: the config's directory, else the working directory"
