#!/usr/bin/env bash
# The ssh transport's dispatcher: one login per host and run does the
# set-up (private directory, machine facts), stops and clean-up; it stops
# the run's processes and removes the private directory when benchctl dies;
# stage environments never appear on a remote command line; a connection
# attempt to a host that never answers ends at Ctrl-C.  Counts and states,
# not durations.
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/sshd_lib.sh"
sshd_require
unset SSH_AUTH_SOCK
sshd_keys
# Every rc sourcing (sshd's bash reads ~/.bashrc for each session) adds a line.
SSHD_RC="echo rc >> '$T/rc.count'" sshd_start a "LogLevel DEBUG1"
rc_count() { [ -e "$T/rc.count" ] && wc -l <"$T/rc.count" || echo 0; }
exec_count() { grep -c "request exec" "$T/sshd-a/sshd.log" || true; }

N=5
{
  echo "benchmark: {name: disp, output_dir: ./runs}"
  echo "hosts:"
  echo "  a: $(ssh_host_yaml a)"
  echo "  l: $(ssh_host_yaml a "exec_mode: login_shell")"
  echo "stages:"
  for i in $(seq $N); do
    echo "  - {name: s$i, host: \${H}, command: \"true\"}"
  done
} >tmpl.yaml
sed 's/${H}/a/' tmpl.yaml >d.yaml
sed 's/${H}/l/' tmpl.yaml >l.yaml

r0=$(rc_count) e0=$(exec_count)
run_bc run -c d.yaml
expect_rc 0 "$N stages through the dispatcher"
rc=$(( $(rc_count) - r0 )) ex=$(( $(exec_count) - e0 ))
echo "dispatcher: $N stages: $rc rc sourcings, $ex exec requests"
# one login for the dispatcher (set-up, facts, stages, clean-up), none per stage
[ "$rc" = 1 ] || fail "rc sourcings for $N stages: $rc (want 1)"
[ "$ex" = 1 ] || fail "exec requests for $N stages: $ex (want 1)"
M=runs/1/metadata.json
[ "$(json $M "sorted(j['hosts']['a']['connection'].keys())")" = "['connect_s', 'open_s', 'private_dir', 'setup_s']" ] ||
  fail "the host's connection record: $(json $M "j['hosts']['a']")"
[ "$(json $M "j['hosts']['a']['facts']['kernel']")" = "$(uname -r)" ] || fail "facts from the dispatcher"
D=$(json $M "j['hosts']['a']['connection']['private_dir']")
case $D in /tmp/benchctl.*) ;; *) fail "private_dir: $D" ;; esac
[ ! -e "$D" ] || fail "the private directory $D was removed at the end"
# The first stage's time does not hold the connection's.
[ "$(json $M "j['stages'][0]['duration_s'] < j['hosts']['a']['connection']['open_s']")" = True ] ||
  fail "the first stage's wall time includes connecting: $(json $M "(j['stages'][0]['duration_s'], j['hosts']['a']['connection'])")"
pass "one login per host and run (set-up, $N stages, clean-up), facts and connection cost in the host's record"

r0=$(rc_count) e0=$(exec_count)
run_bc run -c l.yaml
expect_rc 0 "$N stages with exec_mode: login_shell"
rc=$(( $(rc_count) - r0 )) ex=$(( $(exec_count) - e0 ))
echo "login_shell: $N stages: $rc rc sourcings, $ex exec requests"
# each stage, the private directory, the facts and the clean-up are logins
[ "$rc" = $((N + 3)) ] || fail "rc sourcings with login_shell: $rc (want $((N + 3)))"
[ "$ex" = $((N + 3)) ] || fail "exec requests with login_shell: $ex (want $((N + 3)))"
pass "exec_mode: login_shell: a login per stage and per set-up step"

# A background stage gets a channel (and login) of its own, so the
# foreground stages beside it still run through the dispatcher; its stop is
# a dispatcher script.
write_config bg.yaml <<YAML
benchmark: {name: bg, output_dir: ./bgruns}
hosts:
  a: $(ssh_host_yaml a)
stages:
  - {name: mon, host: a, background: true, command: "echo mon-up; exec sleep 300"}
  - {name: f1, host: a, command: "echo out-f1; echo err-f1 >&2"}
  - {name: f2, host: a, command: "echo out-f2"}
YAML
r0=$(rc_count) e0=$(exec_count)
run_bc run -c bg.yaml
expect_rc 0 "a background stage beside dispatcher stages"
rc=$(( $(rc_count) - r0 )) ex=$(( $(exec_count) - e0 ))
echo "background + 2 stages: $rc rc sourcings, $ex exec requests"
[ "$rc" = 2 ] || fail "rc sourcings with a background stage: $rc (want 2: dispatcher, background)"
[ "$ex" = 2 ] || fail "exec requests with a background stage: $ex (want 2)"
[ "$(sort bgruns/1/logs/f1.log)" = "$(printf 'err-f1\nout-f1')" ] || fail "f1's log: $(od -c bgruns/1/logs/f1.log)"
[ "$(json bgruns/1/metadata.json "sorted((s['name'], s['status']) for s in j['stages'])")" = "[('f1', 'success'), ('f2', 'success'), ('mon', 'success')]" ] ||
  fail "statuses: $(json bgruns/1/metadata.json "[(s['name'], s['status']) for s in j['stages']]")"
expect_in "$(cat bgruns/1/logs/mon.log)" "mon-up"
pass "a background stage on its own channel, foreground stages through the dispatcher beside it"

# A secret in a case's env is not on any command line on the host.
secret="s3cr3t-$$-$RANDOM"
write_config s.yaml <<YAML
benchmark: {name: sec, output_dir: ./sruns}
hosts:
  a: $(ssh_host_yaml a)
cases:
  - name: c
    env: {MY_SECRET: "$secret"}
stages:
  - name: look
    host: a
    command: |
      printf '%s\n' "\$MY_SECRET" > "\$BENCHCTL_HOST_TMPDIR/pat"
      n=0
      for f in /proc/[0-9]*/cmdline; do
        tr '\0' ' ' < "\$f" 2>/dev/null | grep -qF -f "\$BENCHCTL_HOST_TMPDIR/pat" && n=\$((n+1))
      done
      echo "cmdlines=\$n"
      echo "got=\$MY_SECRET"
YAML
run_bc run -c s.yaml
expect_rc 0 "a stage with a secret in its env"
expect_in "$OUT" "got=$secret"
expect_in "$OUT" "cmdlines=0"
pass "case env values reach the stage but no command line on the host"

# With a terminal (a channel with a PTY) the environment comes from a 0600
# file in the private directory: written by the dispatcher, or over SFTP
# with exec_mode: login_shell; never on the command line.
if command -v script >/dev/null; then
  for mode in dispatcher login_shell; do
    write_config tty-$mode.yaml <<YAML
benchmark: {name: tty, output_dir: ./truns-$mode}
hosts:
  a: $(ssh_host_yaml a "exec_mode: $mode")
cases:
  - name: c
    env: {MY_SECRET: "$secret"}
stages:
  - name: look
    host: a
    command: |
      printf '%s\n' "\$MY_SECRET" > "\$BENCHCTL_HOST_TMPDIR/pat"
      n=0
      for f in /proc/[0-9]*/cmdline; do
        { tr '\0' ' ' < "\$f"; } 2>/dev/null | grep -qF -f "\$BENCHCTL_HOST_TMPDIR/pat" && n=\$((n+1))
      done
      [ -t 1 ] && echo "tty cmdlines=\$n got=\$MY_SECRET"
      ls "\$BENCHCTL_HOST_TMPDIR" | grep -c '^env\.' || true
YAML
    script -qec "$BENCHCTL run -c tty-$mode.yaml" /dev/null </dev/null >tty-$mode.out 2>&1 || true
    grep -q "tty cmdlines=0 got=$secret" tty-$mode.out || fail "$mode: env on a terminal: $(cat tty-$mode.out)"
    tr -d '\r' <truns-$mode/1/logs/c/look.log | grep -qx "0" || fail "$mode: the env file stayed: $(cat truns-$mode/1/logs/c/look.log)"
  done
  pass "with a terminal, the environment arrives through a 0600 file (dispatcher or SFTP), removed at once"
fi

# kill -9 of benchctl (and of its local watchdog, which on a real remote
# host could not reach there): the dispatcher sees its channel end and
# stops the run's processes there, and removes the private directory.
marker="disp-$$-$RANDOM"
write_config k.yaml <<YAML
benchmark: {name: kill, output_dir: ./kruns}
hosts:
  a: $(ssh_host_yaml a)
stages:
  - name: long
    host: a
    command: |
      echo "\$BENCHCTL_HOST_TMPDIR" > "$T/kdir"
      setsid bash -c 'exec -a $marker-daemon sleep 300' </dev/null >/dev/null 2>&1 &
      exec -a $marker-stage sleep 300
YAML
"$BENCHCTL" run -c k.yaml >k.out 2>k.err &
pid=$!
cleanup_hooks+=("kill -9 $pid 2>/dev/null; pkill -9 -f $marker")
for _ in $(seq 600); do
  [ "$(pgrep -fc "$marker")" -ge 2 ] && [ -s "$T/kdir" ] && break
  sleep 0.1
done
[ "$(pgrep -fc "$marker")" -ge 2 ] || fail "the remote stage never started: $(cat k.err)"
KD=$(cat "$T/kdir")
[ -d "$KD" ] || fail "private directory $KD while the stage runs"
w=$(pgrep -P $pid -x benchctl-watch || true)
[ -n "$w" ] && kill -9 $w
kill -9 $pid
wait $pid 2>/dev/null || true
for _ in $(seq 300); do
  pgrep -f "$marker" >/dev/null || [ -d "$KD" ] || break
  sleep 0.1
done
if pgrep -f "$marker" >/dev/null; then fail "left on the host after kill -9: $(pgrep -fa "$marker")"; fi
[ ! -e "$KD" ] || fail "the private directory $KD stayed after kill -9"
pass "kill -9: the dispatcher stops the run's processes on the host and removes its directory"

# When nothing could clean up (the dispatcher is killed too, as when the
# host was cut off), `benchctl gc` removes what the crashed run left, on
# this machine and on the host (through the run's saved config), once.
: >"$T/kdir"
"$BENCHCTL" run -c k.yaml >k2.out 2>k2.err &
pid=$!
cleanup_hooks+=("kill -9 $pid 2>/dev/null")
for _ in $(seq 600); do
  [ "$(pgrep -fc "$marker")" -ge 2 ] && [ -s "$T/kdir" ] && break
  sleep 0.1
done
[ "$(pgrep -fc "$marker")" -ge 2 ] || fail "the remote stage never started (2): $(cat k2.err)"
KD=$(cat "$T/kdir")
disp=""
for p in $(_descendants "$(sshd_pid a)"); do
  tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q BENCHCTL_READY && disp="$disp $p"
done
[ -n "$disp" ] || fail "no dispatcher process found under sshd a"
kill -9 $disp
w=$(pgrep -P $pid -x benchctl-watch || true)
[ -n "$w" ] && kill -9 $w
kill -9 $pid
wait $pid 2>/dev/null || true
[ -d "$KD" ] || fail "nothing should have removed $KD yet"
pgrep -f "$marker" >/dev/null || fail "nothing should have stopped the stage yet"
run_bc gc -c k.yaml
expect_rc 0 "gc after a crashed run"
expect_in "$OUT" "run 2: "
expect_in "$OUT" "removed $KD on host 'a'"
for _ in $(seq 100); do pgrep -f "$marker" >/dev/null || break; sleep 0.1; done
if pgrep -f "$marker" >/dev/null; then fail "gc left the run's processes: $(pgrep -fa "$marker")"; fi
[ ! -e "$KD" ] || fail "gc did not remove $KD"
[ "$(json kruns/2/metadata.json 'j["status"]')" = crashed ] || fail "the run is crashed"
expect_in "$(json kruns/2/metadata.json 'j["gc"]["removed"]')" "$KD"
run_bc gc -c k.yaml
expect_rc 0 "gc again"
expect_in "$OUT" "nothing to collect"
pass "benchctl gc removes a crashed run's leftovers here and on its hosts, once"

# Ctrl-C while connecting to an address that accepts but never speaks.
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
held = []
while True:
    c, _ = s.accept(); held.append(c); open(sys.argv[2], "a").write("accepted\n")
' "$T/bh.port" "$T/bh.log" &
bh=$!
cleanup_hooks+=("kill $bh 2>/dev/null")
for _ in $(seq 100); do [ -s "$T/bh.port" ] && break; sleep 0.05; done
[ -s "$T/bh.port" ] || fail "the silent listener did not start"
write_config b.yaml <<YAML
benchmark: {name: hole, output_dir: ./bruns}
hosts:
  a: $(ssh_host_yaml a "port: $(cat "$T/bh.port")" "connect_timeout: 10m")
stages:
  - {name: never, host: a, command: "true"}
YAML
"$BENCHCTL" run -c b.yaml >b.out 2>b.err &
pid=$!
cleanup_hooks+=("kill -9 $pid 2>/dev/null")
for _ in $(seq 300); do grep -q accepted "$T/bh.log" 2>/dev/null && break; sleep 0.1; done
grep -q accepted "$T/bh.log" || fail "benchctl never connected to the silent listener: $(cat b.err)"
kill -INT $pid
# Bounded generously: far below the 10-minute connect_timeout.
for _ in $(seq 600); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -0 $pid 2>/dev/null && fail "Ctrl-C did not end a run stuck connecting"
set +e; wait $pid; rc=$?; set -e
[ "$rc" = 130 ] || fail "Ctrl-C while connecting: exit $rc: $(cat b.err)"
[ "$(json $(ls -d bruns/*/metadata.json | head -1) 'j["status"]')" = interrupted ] ||
  fail "status after Ctrl-C while connecting"
pass "Ctrl-C while a host connects: interrupted, exit 130"
