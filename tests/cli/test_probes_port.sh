#!/usr/bin/env bash
# The `port` health-check probe: real listeners on 127.0.0.1 (and [::1]),
# a port that opens after a delay (from a `&` stage and from a background
# stage), a closed port, connect_timeout on a listener that never answers,
# a background service that dies before it is ready, validation errors
# with FILE:LINE:COL, and the path through a host's transport (a renamed
# copy of the local transport stands in for a remote host).
source "$(dirname "$0")/lib.sh"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
run_id() { sed -n '1s/^Run ID: //p' <<<"$OUT"; }
meta() { echo "results/$(run_id)/metadata.json"; }
hc() { json "$(meta)" "j['stages'][${2:-0}]['health_check']['$1']"; }

# A listener that binds after DELAY seconds and holds the port for 5 s.
listener() { # PORT DELAY
  echo "python3 -c 'import socket,time; time.sleep($2); s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((\"127.0.0.1\", $1)); s.listen(); time.sleep(5)'"
}

# ---- a port that opens after ~0.5 s, started with `&` -------------------
P=$(free_port)
write_config delayed.yaml <<EOF
benchmark: {name: port, output_dir: ./results}
stages:
  - name: service
    command: $(listener "$P" 0.5) &
    health_check: {type: port, target: "$P", timeout: 10s}
  - name: next
    command: echo next-stage-ran
EOF
run_bc run -c delayed.yaml
expect_rc 0 "delayed port"
expect_in "$OUT" "next-stage-ran"
[ "$(hc ready)" = True ] || fail "delayed: not ready: $(hc ready)"
[ "$(hc attempts)" -gt 1 ] || fail "delayed: expected more than one attempt, got $(hc attempts)"
[ "$(json "$(meta)" 'j["stages"][0]["health_check"]["elapsed_ms"] >= 300')" = True ] ||
  fail "delayed: elapsed_ms below 300: $(hc elapsed_ms)"
[ "$(hc where)" = local ] || fail "delayed: where is $(hc where)"
[ "$(hc type)" = port ] || fail "delayed: type not recorded"
# the default interval is the probe's (10 ms): many attempts, not a handful
[ "$(hc attempts)" -ge 10 ] || fail "delayed: only $(hc attempts) attempts; default interval too long?"
pass "a port that opens after 0.5 s (stage with &): ready after $(hc attempts) attempts, $(hc elapsed_ms) ms"

# ---- the same service as a background stage; HOST:PORT -----------------
P=$(free_port)
write_config bg.yaml <<EOF
benchmark: {name: port, output_dir: ./results}
stages:
  - name: service
    background: true
    command: exec $(listener "$P" 0.3)
    health_check: {type: port, target: "localhost:$P", timeout: 10s}
  - name: work
    command: python3 -c 'import socket; socket.create_connection(("127.0.0.1", $P), 1); print("connected")'
EOF
run_bc run -c bg.yaml
expect_rc 0 "background service"
expect_in "$OUT" "connected"
[ "$(hc ready)" = True ] || fail "background: not ready"
[ "$(hc attempts)" -gt 1 ] || fail "background: expected more than one attempt"
pass "a background stage's port (localhost:PORT): ready before the next stage starts"

# ---- IPv6 loopback: [::1]:PORT ------------------------------------------
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  P6=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0)); print(s.getsockname()[1])')
  write_config v6.yaml <<EOF
benchmark: {name: port, output_dir: ./results}
stages:
  - name: service
    background: true
    command: exec python3 -c 'import socket,time; time.sleep(0.2); s=socket.socket(socket.AF_INET6); s.bind(("::1", $P6)); s.listen(); time.sleep(5)'
    health_check: {type: port, target: "[::1]:$P6", timeout: 10s}
  - name: work
    command: "true"
EOF
  run_bc run -c v6.yaml
  expect_rc 0 "IPv6 listener"
  [ "$(hc ready)" = True ] || fail "v6: not ready"
  pass "[::1]:PORT reaches an IPv6 listener"
else
  echo "skip - no IPv6 loopback here"
fi

# ---- a closed port times out with a clear error -------------------------
P=$(free_port)
write_config closed.yaml <<EOF
benchmark: {name: port, output_dir: ./results}
stages:
  - name: service
    command: "true"
    health_check: {type: port, target: "127.0.0.1:$P", timeout: 500ms}
  - name: after
    command: touch after-ran
EOF
t0=$(now_ms)
run_bc run -c closed.yaml
t1=$(now_ms)
expect_rc 1 "closed port"
m=$(meta)
[ "$(json "$m" 'j["status"]')" = failed ] || fail "closed: status not failed"
err=$(json "$m" 'j["error"]')
expect_in "$err" "health check port '127.0.0.1:$P' on host 'local' timed out after" "error"
expect_in "$err" "last result: connection refused" "error"
expect_in "$ERR" "timed out" "stderr"
[ "$(hc last_error)" = "connection refused" ] || fail "closed: last_error is '$(hc last_error)'"
[ "$(hc ready)" = False ] || fail "closed: ready is not false"
[ ! -e after-ran ] || fail "the run went on after the check failed"
expect_hc_timeout "$m" 500
pass "a closed port fails after the timeout ($((t1 - t0)) ms): $err"

# ---- connect_timeout: a listener whose accept queue is full never answers
PF=$T/full.port
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
c = socket.create_connection(s.getsockname(), 1)   # fills the queue: later SYNs are dropped
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); __import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(280)' "$PF" &
full_pid=$!
cleanup_hooks+=("kill $full_pid 2>/dev/null")
for _ in $(seq 100); do [ -s "$PF" ] && break; sleep 0.02; done
[ -s "$PF" ] || fail "the full listener did not start"
write_config full.yaml <<EOF
benchmark: {name: port, output_dir: ./results}
stages:
  - name: service
    command: "true"
    health_check: {type: port, target: "127.0.0.1:$(cat "$PF")", timeout: 3s, connect_timeout: 200ms}
EOF
t0=$(now_ms)
run_bc run -c full.yaml
t1=$(now_ms)
expect_rc 1 "listener that never answers"
[ "$(hc last_error)" = "no answer within 200 ms (connect_timeout)" ] ||
  fail "connect_timeout: last_error is '$(hc last_error)'"
a=$(hc attempts)
# an attempt not cut by connect_timeout would hang until the check's 3 s
# timeout (one attempt); each one lasts its 200 ms (not more attempts than
# the check's real duration holds)
[ "$a" -ge 2 ] && [ "$(json "$(meta)" 'j["stages"][0]["health_check"]["attempts"] <= j["stages"][0]["health_check"]["elapsed_ms"] / 200 + 1')" = True ] ||
  fail "connect_timeout 200ms: $a attempts in $(hc elapsed_ms) ms"
expect_hc_timeout "$(meta)" 3000
pass "connect_timeout bounds one attempt ($a attempts in 3 s, run $((t1 - t0)) ms)"

# Ctrl-C while an attempt waits in connect(): benchctl stops without
# waiting for the connect_timeout (200 s).
sed -i 's/connect_timeout: 200ms/connect_timeout: 200s/; s/timeout: 3s/timeout: 250s/' full.yaml
grep -q "timeout: 250s, connect_timeout: 200s" full.yaml || fail "full.yaml: $(cat full.yaml)"
"$BENCHCTL" run -c full.yaml >/dev/null 2>int.err </dev/null &
bc_pid=$!
# wait until the attempt is in connect(): a socket in SYN-SENT to the port
syn_sent() { ss -Htn state syn-sent "dport = :$(cat "$PF")" | grep -q .; }
if command -v ss >/dev/null; then
  for _ in $(seq 2400); do syn_sent && break; sleep 0.05; done
  syn_sent || fail "Ctrl-C during connect: no connect() in progress: $(cat int.err)"
else
  sleep 0.5
fi
t0=$(now_ms)
kill -INT "$bc_pid"
set +e; wait "$bc_pid"; rc=$?; set -e
t1=$(now_ms)
[ "$rc" = 130 ] || fail "Ctrl-C during connect: exit $rc ($(cat int.err))"
[ $((t1 - t0)) -lt 100000 ] || fail "Ctrl-C during connect took $((t1 - t0)) ms: it waited for connect_timeout"
kill "$full_pid" 2>/dev/null || true
pass "Ctrl-C during a hanging connect stops the run in $((t1 - t0)) ms"

# ---- a background service that dies before it is ready fails at once ---
P=$(free_port)
write_config crash.yaml <<EOF
benchmark: {name: port, output_dir: ./results}
stages:
  - name: service
    background: true
    command: |
      sleep 0.2; echo "cannot bind: address in use"; exit 7
    health_check: {type: port, target: "$P", timeout: 100s}
  - name: work
    command: echo never-printed
EOF
t0=$(now_ms)
run_bc run -c crash.yaml
t1=$(now_ms)
expect_rc 1 "service dies before ready"
err=$(json "$(meta)" 'j["error"]')
expect_not_in "$err" "timed out" "error"
[ $((t1 - t0)) -lt 50000 ] || fail "the check waited for its 100 s timeout ($((t1 - t0)) ms)"
expect_in "$err" "the background process ended before it was ready: exit status 7; last output: cannot bind: address in use" "error"
[ "$(hc ready)" = False ] || fail "crash: ready is not false"
expect_not_in "$OUT" "never-printed"
pass "a background service that exits before its port opens fails the check at once ($((t1 - t0)) ms)"

# ---- validation: FILE:LINE:COL before anything runs ---------------------
write_config bad.yaml <<'EOF'
benchmark:
  name: bad
  output_dir: ./bad-results
stages:
  - name: s1
    command: "true"
    health_check:
      type: port
      target: abc
  - name: s2
    command: "true"
    health_check:
      type: port
      target: 70000
  - name: s3
    command: "true"
    health_check:
      type: port
      target: "host:"
  - name: s4
    command: "true"
    health_check:
      type: port
      target: ::1:80
  - name: s5
    command: "true"
    health_check:
      type: port
      target: 0
  - name: s6
    command: "true"
    health_check:
      type: port
      target: "[::1]"
  - name: s7
    command: "true"
    health_check:
      type: port
      target: ":80"
  - name: s8
    command: "true"
    health_check:
      type: port
      target: "8080"
      connect_timeout: soon
EOF
run_bc validate -c bad.yaml
expect_rc 2 "validate bad port targets"
expect_in "$ERR" "bad.yaml:9:15: health_check.target 'abc': 'abc' is not a port number; expected PORT, HOST:PORT or [IPV6]:PORT"
expect_in "$ERR" "bad.yaml:14:15: health_check.target '70000': port 70000 is out of range (1-65535)"
expect_in "$ERR" "bad.yaml:19:15: health_check.target 'host:': missing port after ':'"
expect_in "$ERR" "bad.yaml:24:15: health_check.target '::1:80': an IPv6 address needs brackets, e.g. [::1]:8080"
expect_in "$ERR" "bad.yaml:29:15: health_check.target '0': port 0 is out of range (1-65535)"
expect_in "$ERR" "bad.yaml:34:15: health_check.target '[::1]': missing port after ']'"
expect_in "$ERR" "bad.yaml:39:15: health_check.target ':80': missing host before ':'"
expect_in "$ERR" "bad.yaml:45:24: "
expect_in "$ERR" "connect_timeout"
expect_in "$ERR" "8 errors in bad.yaml"
run_bc run -c bad.yaml
expect_rc 2 "run with bad port targets"
[ ! -e bad-results ] || fail "run with an invalid config created a run directory"
pass "bad port targets are reported with FILE:LINE:COL, all at once, before anything runs"

# ---- through a host's transport (not the local fast path) ---------------
# A renamed copy of the local transport is "another host": the probe must
# then go through host_exec with bash's /dev/tcp.
CC=${CC:-cc}
if command -v "$CC" >/dev/null; then
  mkdir -p fake
  # The local transport renamed, with a remote transport's capabilities (not
  # the controller's files, processes or network): probes go through host_exec.
  sed -e 's/\.name = "local"/.name = "fakeremote"/' \
      -e 's/\.caps = LOCAL_CAPS/.caps = BC_HOST_CAP_POSIX_SHELL/' \
      "$SRC_DIR/plugins/hosts/local/local.c" >fake/fakeremote.c
  grep -q 'caps = BC_HOST_CAP_POSIX_SHELL' fake/fakeremote.c || fail "cannot make the fake transport remote"
  "$CC" -std=c11 -shared -fPIC -fvisibility=hidden -I"$SRC_DIR/sdk/include" \
    -o fake/host-fakeremote.so fake/fakeremote.c "$SRC_DIR"/sdk/helpers/*.c -lutil ||
    fail "cannot build the fake transport"
  P=$(free_port)
  P2=$(free_port)
  write_config remote.yaml <<EOF
benchmark: {name: port, output_dir: ./results, plugin_paths: [fake]}
hosts:
  box: {transport: fakeremote}
stages:
  - name: service
    host: box
    command: $(listener "$P" 0.4) &
    health_check: {type: port, target: "$P", timeout: 10s}
  - name: closed
    host: box
    command: "true"
    health_check: {type: port, target: "127.0.0.1:$P2", timeout: 400ms}
EOF
  run_bc run -c remote.yaml
  expect_rc 1 "remote: the second check must fail"
  [ "$(hc ready 0)" = True ] || fail "remote: delayed port not ready"
  [ "$(hc attempts 0)" -gt 1 ] || fail "remote: expected more than one attempt"
  [ "$(hc where 0)" = box ] || fail "remote: where is $(hc where 0)"
  [ "$(hc ready 1)" = False ] || fail "remote: closed port ready"
  [ "$(hc last_error 1)" = "connection refused" ] || fail "remote: last_error is '$(hc last_error 1)'"
  expect_in "$(json "$(meta)" 'j["error"]')" "health check port '127.0.0.1:$P2' on host 'box' timed out"
  pass "through a transport (bash /dev/tcp): a delayed port is ready, a closed one is refused"

  # A host without bash: the probe says so at once instead of timing out.
  mkdir -p nobash
  ln -sf "$(command -v sh)" nobash/sh
  write_config nobash.yaml <<EOF
benchmark: {name: port, output_dir: ./results, plugin_paths: [fake], shell: sh -c}
hosts:
  box: {transport: fakeremote}
stages:
  - name: service
    host: box
    command: ":"
    health_check: {type: port, target: "$P2", timeout: 100s}
EOF
  t0=$(now_ms)
  set +e
  PATH="$T/nobash" "$BENCHCTL" run -c nobash.yaml >"$T/.out" 2>"$T/.err" </dev/null
  RC=$?
  set -e
  t1=$(now_ms)
  OUT=$(cat "$T/.out"); ERR=$(cat "$T/.err")
  expect_rc 1 "remote host without bash"
  expect_in "$(json "$(meta)" 'j["error"]')" "host 'box' has no bash"
  [ "$(hc attempts)" = 1 ] || fail "no bash: expected 1 attempt, got $(hc attempts)"
  [ $((t1 - t0)) -lt 50000 ] || fail "no bash: took $((t1 - t0)) ms: it waited for the 100 s timeout"
  pass "a host without bash: a clear error after one attempt"
else
  echo "skip - no C compiler to build the fake transport"
fi
