#!/usr/bin/env bash
# The queue daemon: 200 tasks from 4 concurrent submitters all run exactly
# once (each a stored run), and the queue's order is priority group, then
# priority, then submission.
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/queue_lib.sh"

# ---- 200 trivial tasks, 4 submitters at once -------------------------------
start_daemon --cpus 0-3 --no-pin --memory 1G
[ "$(stat -c %a "$SOCK")" = 660 ] || fail "socket mode $(stat -c %a "$SOCK"), want 660"
subs=()
for s in 1 2 3 4; do
  (
    for i in $(seq 50); do
      "$BENCHCTL" submit --name "s$s-$i" -- sh -c "echo s$s-$i >> '$T/trace'" >>"$T/ids.$s" ||
        echo "submit s$s-$i failed" >>"$T/submit-errors"
    done
  ) &
  subs+=($!)
done
wait "${subs[@]}"
[ ! -e "$T/submit-errors" ] || fail "$(cat "$T/submit-errors")"
[ "$(cat "$T"/ids.* | sort -u | wc -l)" = 200 ] || fail "expected 200 distinct task IDs"
wait_until "200 tasks to finish" queue_idle
[ "$(wc -l <"$T/trace")" = 200 ] || fail "trace has $(wc -l <"$T/trace") lines, want 200"
[ "$(sort -u "$T/trace" | wc -l)" = 200 ] || fail "a task ran twice: $(sort "$T/trace" | uniq -d | head)"
[ "$(qjson 'sorted(set(t["state"] for t in q["finished"]))')" = "['succeeded']" ] ||
  fail "states: $(qjson 'sorted(set(t["state"] for t in q["finished"]))')"
[ "$(qjson 'len(q["finished"])')" = 200 ] || fail "finished count"
# each is a stored run, its ID recorded with the task
[ "$(ls runs | grep -c '^[0-9]*$')" = 200 ] || fail "expected 200 runs in ./runs"
[ "$(qjson 'len(set(t["run_id"] for t in q["finished"]))')" = 200 ] || fail "run IDs recorded"
t1=$(head -n1 "$T/ids.1")
rid=$(qjson "[t['run_id'] for t in q['finished'] if t['id']==$t1][0]")
[ "$(json "runs/$rid/metadata.json" 'j["custom"]["queue_task"]')" = "$t1" ] ||
  fail "run $rid does not name task $t1"
pass "200 tasks from 4 concurrent submitters ran exactly once, each a stored run"

# ---- order: group, then priority, then submission --------------------------
stop_daemons; DAEMON_PIDS=()
rm -rf "$T/state"
start_daemon --cpus 0 --memory 1G
gate="$T/gate"
blocker=$("$BENCHCTL" submit --name blocker -- sh -c "for i in \$(seq 1200); do [ -e '$gate' ] && exit 0; sleep 0.05; done; exit 1")
wait_until "the blocker to start" state_is "$blocker" running
sub() { "$BENCHCTL" submit --name "$1" "${@:2}" -- sh -c "echo $1 >> '$T/order'" >/dev/null; }
sub a
sub b --priority 5
sub c --group 1 --priority -5
sub d --priority 5
sub e
sub f --group -1 --priority 100
# pending, in scheduling order, as queue --json lists them
[ "$(qjson '[t["name"] for t in q["pending"]]')" = "['c', 'b', 'd', 'a', 'e', 'f']" ] ||
  fail "pending order: $(qjson '[t["name"] for t in q["pending"]]')"
"$BENCHCTL" queue >"$T/q.txt"
expect_in "$(cat "$T/q.txt")" "blocker" "queue listing"
touch "$gate"
wait_until "the queue to drain" queue_idle
[ "$(tr '\n' ' ' <"$T/order")" = "c b d a e f " ] || fail "ran in order $(tr '\n' ' ' <"$T/order")"
pass "tasks run by priority group, then priority, then submission order"

# ---- submit --wait: the task's exit code ------------------------------------
run_bc submit --wait -- sh -c 'exit 3'
expect_rc 1 "submit --wait of a failing command (its run failed: exit 1)"
expect_in "$OUT" "failed: benchctl run exited 1" "submit --wait"
expect_in "$OUT" "Results saved to: $T/runs/" "submit --wait"
run_bc submit --wait --name ok -- true
expect_rc 0 "submit --wait of true"
run_bc submit --cpus 2 -- true
expect_rc 2 "more CPUs than the daemon has"
expect_in "$ERR" "'cpus' must be a whole number from 1 to 1" "refusal"
run_bc submit -- 
expect_rc 2 "submit without a command"
pass "submit --wait exits with the task's result; bad submissions are refused (exit 2)"
