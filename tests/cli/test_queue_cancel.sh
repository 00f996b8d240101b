#!/usr/bin/env bash
# The queue daemon: cancel a pending task (removed, never runs) and a
# running one (stopped like Ctrl-C: its cleanup runs, nothing is left);
# a daemon killed with SIGKILL and restarted keeps its pending tasks and
# marks the running one interrupted (its run says so too).
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/queue_lib.sh"

marker="bcqcancel$$"
leftovers() { pgrep -f "$marker" || true; }
write_config long.yaml <<YAML
benchmark: {name: long, output_dir: ./runs}
stages:
  - name: long
    command: (exec -a ${marker}-a sleep 301) & bash -c "exec -a ${marker}-b sleep 302"; wait
cleanup:
  - name: tidy
    command: touch cleanup-ran-\$BENCHCTL_QUEUE_TASK
YAML
running_marker() { [ -n "$(pgrep -f "${marker}-b" || true)" ]; }

start_daemon --cpus 0 --no-pin --memory 1G
X=$("$BENCHCTL" submit -c long.yaml -m who=test --name long)
P=$("$BENCHCTL" submit --name never -- touch "$T/never-ran")
wait_until "the long task's stage" running_marker
[ "$(task_state "$P")" = pending ] || fail "second task not pending"
run_bc cancel "$P"
expect_rc 0 "cancel pending"
expect_in "$OUT" "task $P cancelled"
[ "$(task_state "$P")" = cancelled ] || fail "pending task not cancelled"
run_bc cancel "$X"
expect_rc 0 "cancel running"
expect_in "$OUT" "task $X stopping"
wait_until "the running task to end" state_is "$X" cancelled
[ -z "$(leftovers)" ] || fail "cancel left processes: $(leftovers | xargs ps -o pid,args -p)"
[ -e "cleanup-ran-$X" ] || fail "the cancelled run's cleanup did not run"
[ ! -e "$T/never-ran" ] || fail "the cancelled pending task ran"
rid=$(qjson "[t['run_id'] for t in q['finished'] if t['id']==$X][0]")
m="runs/$rid/metadata.json"
[ "$(json "$m" 'j["status"]')" = interrupted ] || fail "cancelled run status"
[ "$(json "$m" 'j["custom"]["who"]')" = test ] || fail "run options reached the run"
[ "$(json "$m" 'j["custom"]["queue_task"]')" = "$X" ] || fail "the run names its task"
run_bc cancel "$X" 999
expect_rc 1 "cancel of ended and unknown tasks"
expect_in "$ERR" "task $X has already ended (cancelled)"
expect_in "$ERR" "999: no such task"
pass "cancel: a pending task is removed, a running one stopped like Ctrl-C (cleanup ran, nothing left)"

# ---- SIGKILL and restart ---------------------------------------------------------
rm -f cleanup-ran-*
R=$("$BENCHCTL" submit -c long.yaml --name victim)
wait_until "the victim's stage" running_marker
P1=$("$BENCHCTL" submit --name p1 -- sh -c "echo p1 >> '$T/after'")
P2=$("$BENCHCTL" submit --name p2 --priority 3 -- sh -c "echo p2 >> '$T/after'")
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
# The daemon's death stops its tasks' runs as Ctrl-C would.
no_leftovers() { [ -z "$(leftovers)" ]; }
wait_until "the victim's run to stop" no_leftovers
[ -e "cleanup-ran-$R" ] || fail "the interrupted run's cleanup did not run"
rid=$(sed -n 's/^Run ID: //p' "$T/state/logs/$R.log")
run_status_is() { [ "$(json "runs/$1/metadata.json" 'j["status"]')" = "$2" ]; }
wait_until "the victim's metadata" run_status_is "$rid" interrupted
[ ! -e "$T/after" ] || fail "a pending task ran while the daemon was dead"
# a write the SIGKILL cut short: skipped with a warning
printf '{"j":"task","task":{"id":' >>"$T/state/journal.jsonl"
start_daemon --cpus 0 --no-pin --memory 1G
expect_in "$(cat "$T/daemon.log")" "skipped a record that does not parse" "daemon log"
# compacted at the start, still private (it holds the submitters' environments)
[ "$(stat -c %a "$T/state/journal.jsonl")" = 600 ] || fail "journal mode $(stat -c %a "$T/state/journal.jsonl")"
wait_until "the pending tasks to run" queue_idle
[ "$(tr '\n' ' ' <"$T/after")" = "p2 p1 " ] || fail "after the restart: $(cat "$T/after")"
[ "$(task_state "$R")" = interrupted ] || fail "the running task is $(task_state "$R"), not interrupted"
[ "$(qjson "[t['run_id'] for t in q['finished'] if t['id']==$R][0]")" = "$rid" ] ||
  fail "the interrupted task's run ID"
expect_in "$(qjson "[t['reason'] for t in q['finished'] if t['id']==$R][0]")" "the daemon stopped while the task ran"
[ "$(json "runs/$rid/metadata.json" 'j["custom"]["queue_task"]')" = "$R" ] || fail "run names its task"
pass "SIGKILLed daemon: the run stopped cleanly, pending tasks kept (in order), running marked interrupted"

# ---- a daemon stopped with SIGTERM: running task interrupted, pending kept --------
# (and a pending task larger than the daemon it is restarted as fails, with the reason)
R2=$("$BENCHCTL" submit -c long.yaml --name r2)
wait_until "r2's stage" running_marker
P3=$("$BENCHCTL" submit --name p3 -- true)
BIG=$("$BENCHCTL" submit --name big --memory 900M -- true)
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
[ -z "$(leftovers)" ] || fail "SIGTERM to the daemon left processes"
[ -e "cleanup-ran-$R2" ] || fail "cleanup after SIGTERM"
start_daemon --cpus 0 --no-pin --memory 512M
[ "$(task_state "$BIG")" = failed ] || fail "a task larger than the daemon is $(task_state "$BIG")"
expect_in "$(qjson "[t['reason'] for t in q['finished'] if t['id']==$BIG][0]")" "the daemon now has 1 and 536870912"
wait_until "p3 to run" state_is "$P3" succeeded
[ "$(task_state "$R2")" = interrupted ] || fail "r2 is $(task_state "$R2")"
pass "SIGTERM to the daemon: running task stopped and interrupted, pending kept"
