#!/usr/bin/env bash
# The queue daemon enforces a task's --memory: the run gets it as
# --memory-limit, every stage is held to it by the stage isolation (a
# memory cgroup, else RLIMIT_AS).  A command task that allocates more ends
# with termination `memory` (in its run's record and in `queue --json`),
# and the daemon goes on to the next task.  A stage's own larger limit is
# lowered to the task's; a smaller one is kept.  Without cgroups
# (BENCHCTL_CGROUP_ROOT in the submitter's environment) the rlimit fallback
# is used, and the run's record and log say so.  A stage's `limits: cpus`
# of a pinned task comes from the task's own CPUs.
source "$(dirname "$0")/lib.sh"
source "$SRC_DIR/tests/cli/queue_lib.sh"

hog='x = bytearray(200 << 20); print(len(x))'
stage() { json "$1" "[s for s in j['stages'] if s['name'] == '$2'][0]$3"; }
finished() { qjson "[t for t in q['finished'] if t['id'] == $1][0]$2"; }

# ---- the run option ------------------------------------------------------------
run_bc run --memory-limit 10K -c nothing.yaml
expect_rc 2 "run --memory-limit below 1M"
expect_in "$ERR" "--memory-limit: '10K' is not a size of at least 1M"

write_config caps.yaml <<'YAML'
benchmark: {name: caps, output_dir: ./runs}
stages:
  - name: big
    command: "true"
    limits: {memory: 1G}
  - name: small
    command: "true"
    limits: {memory: 32M}
  - name: none
    command: "true"
YAML

start_daemon --cpus 0 --no-pin --memory 512M
run_bc submit --memory 100K -- true
expect_rc 2 "a task's memory below 1 MiB"
expect_in "$ERR" "'memory' must be 0 (none) or at least 1 MiB"

# ---- a config task: every stage's limit is at most the task's -------------------
run_bc submit --wait --memory 64M -c caps.yaml
expect_rc 0 "config task under a memory limit"
run=$(sed -n 's/^Results saved to: //p' <<<"$OUT")
m=$run/metadata.json
[ -f "$m" ] || fail "no run record: $OUT"
for s in big:64 small:32 none:64; do
  [ "$(stage "$m" "${s%%:*}" "['limits']['asked']['memory']")" = "$(( ${s#*:} << 20 ))" ] ||
    fail "stage ${s%%:*}: asked $(stage "$m" "${s%%:*}" "['limits']")"
done
pass "a task's --memory caps every stage's limits.memory (1G -> 64M, 32M kept, none -> 64M)"

cg_root=/sys/fs/cgroup
if [ "$(id -u)" = 0 ] && { [ -w "$cg_root/memory" ] || [ -w "$cg_root/cgroup.subtree_control" ]; }; then
  # ---- with cgroups: a command task over its memory is killed -------------------
  run_bc submit --wait --memory 64M --name hog -- python3 -c "$hog"
  expect_rc 1 "a command task over its memory"
  H=$(qjson "[t['id'] for t in q['finished'] if t['name'] == 'hog'][0]")
  [ "$(finished "$H" "['state']")" = failed ] || fail "hog state: $(finished "$H" '')"
  [ "$(finished "$H" "['termination']")" = memory ] || fail "hog termination: $(finished "$H" '')"
  expect_in "$(finished "$H" "['reason']")" "stage 'command' hit its memory limit"
  m=$(finished "$H" "['run_dir']")/metadata.json
  [ "$(stage "$m" command "['termination']")" = memory ] || fail "record: $(stage "$m" command '')"
  cg=$(stage "$m" command "['limits']['cgroup']")
  [ "$(stage "$m" command "['limits']['enforced']['memory']")" = "cgroup${cg#v}" ] ||
    fail "memory not enforced by a cgroup: $(stage "$m" command "['limits']")"
  [ "$(stage "$m" command "['limits']['peak_memory_bytes'] <= 64 << 20")" = True ] ||
    fail "peak above the limit: $(stage "$m" command "['limits']")"
  # the daemon goes on: the next task runs
  run_bc submit --wait --memory 64M -- python3 -c 'print(len(bytearray(8 << 20)))'
  expect_rc 0 "the task after the killed one"
  N=$(sed -n 's/^task \([0-9]*\) succeeded$/\1/p' <<<"$OUT")
  expect_in "$(cat "$T/state/logs/$N.log")" "8388608"
  kill -0 "$DAEMON_PID" || fail "the daemon died"
  pass "a command task over its --memory ends with termination memory ($cg); the next task runs"
else
  echo "skip: no writable cgroup here (not root?): the cgroup half"
fi

# ---- without cgroups: the rlimit fallback, reported ------------------------------
mkdir -p "$T/no-cgroups"
BENCHCTL_CGROUP_ROOT="$T/no-cgroups" run_bc submit --wait --memory 64M --name fallback -- \
  python3 -c "$hog"
expect_rc 1 "a command task over its memory, without cgroups"
F=$(qjson "[t['id'] for t in q['finished'] if t['name'] == 'fallback'][0]")
[ "$(finished "$F" "['state']")" = failed ] || fail "fallback state: $(finished "$F" '')"
m=$(finished "$F" "['run_dir']")/metadata.json
[ "$(stage "$m" command "['limits']['cgroup']")" = none ] || fail "fallback: $(stage "$m" command '')"
[ "$(stage "$m" command "['limits']['enforced']['memory']")" = rlimit ] ||
  fail "fallback: $(stage "$m" command "['limits']")"
expect_in "$(cat "$T/state/logs/$F.log")" "memory limit not enforced on host local: no writable cgroup"
expect_in "$(cat "$T/state/logs/$F.log")" "MemoryError"
run_bc submit --wait -- true
expect_rc 0 "the task after the fallback one"
pass "without cgroups the task's memory is each process's address space (RLIMIT_AS), said in its log"

# ---- a pinned task's stage CPUs come from the task's --------------------------
stop_daemons; DAEMON_PIDS=()
cpu=$(python3 -c 'import os; print(max(os.sched_getaffinity(0)))')
start_daemon --cpus "$cpu" --memory 512M
write_config pin.yaml <<'YAML'
benchmark: {name: pin, output_dir: ./runs}
stages:
  - name: one
    command: grep Cpus_allowed_list /proc/self/status
    limits: {cpus: 1}
YAML
run_bc submit --wait -c pin.yaml
expect_rc 0 "a pinned config task with a stage's limits: cpus"
m=$(sed -n 's/^Results saved to: //p' <<<"$OUT")/metadata.json
[ "$(stage "$m" one "['limits']['cpus']")" = "$cpu" ] ||
  fail "the stage got CPUs $(stage "$m" one "['limits']['cpus']"), the task has $cpu"
expect_in "$(cat "$(dirname "$m")/logs/one.log")" "Cpus_allowed_list:	$cpu"
pass "a stage's limits: cpus in a task pinned to CPU $cpu gets CPU $cpu"
