#!/usr/bin/env bash
# The queue daemon backfills: a 1-CPU task runs beside a 2-CPU one while a
# 4-CPU task waits for its reservation, and a long task behind the 4-CPU
# one does not starve it.  Tasks are pinned: each sees its own CPUs.
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/queue_lib.sh"

# Four CPU slots on a machine that may have only two: unpinned here (the
# pinning is checked below on a CPU this machine has).
start_daemon --cpus 0-3 --no-pin --memory 1G
# a follower: a line every time the queue changes
"$BENCHCTL" queue --follow >"$T/follow.txt" 2>&1 &
FOLLOWER=$!
cleanup_hooks+=("kill $FOLLOWER 2>/dev/null")
follower_ready() { grep -q '^ID ' "$T/follow.txt"; }
wait_until "the follower" follower_ready
trace="$T/trace"
# R (2 CPUs) runs until B has run: B must run beside it.
R=$("$BENCHCTL" submit --name R --cpus 2 --walltime 10m -- sh -c \
  "echo start R >> '$trace'; for i in \$(seq 1200); do [ -e '$T/b-done' ] && break; sleep 0.05; done; echo end R >> '$trace'")
wait_until "R to start" state_is "$R" running
# H (4 CPUs) is the head: it must wait for R.
H=$("$BENCHCTL" submit --name H --cpus 4 --walltime 10m -- sh -c "echo start H >> '$trace'; echo end H >> '$trace'")
# S (1 CPU, 2 h) would end after H could start: it must not start before H.
S=$("$BENCHCTL" submit --name S --walltime 2h -- sh -c "echo start S >> '$trace'")
# B (1 CPU, 5 m) ends before R's walltime: it backfills (its end is traced
# before R may see b-done, so the two lines cannot race).
B=$("$BENCHCTL" submit --name B --walltime 5m -- sh -c "echo start B >> '$trace'; echo end B >> '$trace'; touch '$T/b-done'")
wait_until "the queue to drain" queue_idle
got=$(tr '\n' ',' <"$trace")
[ "$got" = "start R,start B,end B,end R,start H,end H,start S," ] || fail "trace: $got"
# the task records agree: B started before R ended; S only after H started
[ "$(qjson "(lambda t: t[$B]['started_ms'] < t[$R]['ended_ms'] and t[$S]['started_ms'] >= t[$H]['started_ms'])({x['id']: x for x in q['finished']})")" = True ] ||
  fail "task times do not show the backfill"
[ "$(qjson "[(x['cpus'], x['state']) for x in q['finished'] if x['id'] in ($R, $B, $H, $S)]")" = "[(2, 'succeeded'), (4, 'succeeded'), (1, 'succeeded'), (1, 'succeeded')]" ] ||
  fail "sizes and states"
pass "a 1-CPU task backfilled beside a 2-CPU one; the 4-CPU head was not starved by a long task"
follow=$(cat "$T/follow.txt")
expect_in "$follow" "CPUs 0-3: 4 of 4 free" "queue --follow"
for ev in "submitted task $H (H) (pending); running 1, pending 1" "started task $B (B) (running) on CPUs" \
          "finished task $S (S) (succeeded); running 0, pending 0"; do
  expect_in "$follow" "$ev" "queue --follow"
done
[ "$(grep -c ' started task ' "$T/follow.txt")" = 4 ] || fail "queue --follow: $(cat "$T/follow.txt")"
kill "$FOLLOWER"
pass "queue --follow prints a line every time the queue changes"

# ---- pinning and the walltime ------------------------------------------------
stop_daemons; DAEMON_PIDS=()
rm -rf "$T/state"
cpu=$(python3 -c 'import os; print(min(os.sched_getaffinity(0)))')
start_daemon --cpus "$cpu" --memory 1G
run_bc submit --wait -- sh -c "grep Cpus_allowed_list /proc/self/status > '$T/cpus'; echo \$BENCHCTL_QUEUE_CPUS >> '$T/cpus'"
expect_rc 0 "pinned task"
[ "$(tr -s '\t ' ' ' <"$T/cpus" | tr '\n' ',')" = "Cpus_allowed_list: $cpu,$cpu," ] || fail "pinned: $(cat "$T/cpus")"
pass "a task runs pinned to the CPU it was given"

marker="bcqwall$$"
run_bc submit --wait --walltime 1s -- bash -c "exec -a $marker sleep 300"
expect_rc 1 "a task stopped at its walltime"
expect_in "$OUT" "timeout" "submit --wait at the walltime"
[ -z "$(pgrep -f "$marker" || true)" ] || fail "the walltime left a process"
run=$(sed -n 's/^Results saved to: //p' <<<"$OUT")
[ "$(json "$run/metadata.json" 'j["status"]')" = timeout ] || fail "run status at the walltime"
pass "a task is stopped at its walltime (the run says timeout; nothing left)"
