# Helpers for the queue daemon tests (sourced after lib.sh): a real daemon
# per test on a socket in $T, stopped from the EXIT trap.

SOCK="$T/q.sock"
export BENCHCTL_SOCKET="$SOCK"
DAEMON_PIDS=()

stop_daemons() {
  local p
  for p in "${DAEMON_PIDS[@]+"${DAEMON_PIDS[@]}"}"; do
    kill -TERM "$p" 2>/dev/null || continue
    for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$p" 2>/dev/null || true
  done
}
cleanup_hooks+=(stop_daemons)

# start_daemon ARGS...: a daemon in the foreground (in the background of
# this shell), its log in $T/daemon.log; waits until it answers.  Sets
# DAEMON_PID.
start_daemon() {
  "$BENCHCTL" daemon --foreground --socket "$SOCK" --state "$T/state" "$@" \
    >>"$T/daemon.log" 2>&1 &
  DAEMON_PID=$!
  DAEMON_PIDS+=("$DAEMON_PID")
  for _ in $(seq 400); do
    "$BENCHCTL" queue >/dev/null 2>&1 && return 0
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon did not start: $(cat "$T/daemon.log")"
    sleep 0.05
  done
  fail "the daemon did not answer within 20 s: $(cat "$T/daemon.log")"
}

# qjson EXPR: evaluate a Python expression on `benchctl queue --json` (as q).
qjson() {
  "$BENCHCTL" queue --json | python3 -c 'import json,sys; q=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# task_state ID: the state of a task (running, pending or recently finished).
task_state() {
  qjson "[t['state'] for t in q['running']+q['pending']+q['finished'] if t['id']==$1][0]"
}

# wait_until WHAT CMD...: up to 60 s (a loaded machine) for CMD to succeed.
wait_until() {
  local what=$1; shift
  for _ in $(seq 600); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "timed out waiting for: $what"
}

# queue_idle: nothing running or pending.
queue_idle() { [ "$(qjson 'len(q["running"]) + len(q["pending"])')" = 0 ]; }

# state_is ID STATE (for wait_until: evaluated on every try).
state_is() { [ "$(task_state "$1")" = "$2" ]; }
