#!/usr/bin/env bash
# A run directory is made under a temporary name (.benchctl-new.<ID>.XXXXXX)
# and renamed into its numbered place only once its metadata.json is on
# disk: benchctl stopped at any moment shows every numbered run directory
# with its metadata; `list` never shows a temporary one; `gc` removes those
# whose creator is gone (and says so) and keeps those still being made; a
# temporary directory's ID is never given to another run.
source "$(dirname "$0")/lib.sh"

write_config c.yaml <<'YAML'
benchmark: {name: create, output_dir: ./runs, git: {capture: false}, report: false}
stages:
  - name: one
    command: sleep 300
YAML

# benchctl frozen (SIGSTOP) at random moments of its start, then killed:
# while it is frozen, every numbered directory already has metadata.json.
trials=${BENCHCTL_CREATE_TRIALS:-20}
caught=0
for i in $(seq "$trials"); do
  "$BENCHCTL" run -c c.yaml >/dev/null 2>&1 </dev/null &
  pid=$!
  cleanup_hooks+=("kill -9 $pid 2>/dev/null")
  sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
  kill -STOP $pid 2>/dev/null || true
  for d in runs/[0-9]*; do
    [ -d "$d" ] || continue
    [ -f "$d/metadata.json" ] || fail "trial $i: $d has no metadata.json while benchctl is stopped"
  done
  ls -a runs 2>/dev/null | grep -q '^\.benchctl-new\.' && caught=$((caught + 1))
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
done
pass "$trials runs frozen at random moments: every numbered run directory had its metadata.json ($caught caught while their directory was still temporary)"

# What a benchctl killed before its run started leaves: a temporary
# directory nobody holds.  list does not show it; gc removes it; a live one
# (its owner lock held) is kept.
mkdir -p runs/.benchctl-new.500.deadXX
echo '{"status": "running"}' >runs/.benchctl-new.500.deadXX/metadata.json
run_bc list -c c.yaml
expect_rc 0 list
expect_not_in "$OUT$ERR" "benchctl-new" "list output"
expect_not_in "$OUT$ERR" "500" "list output"
# Its ID is taken: the next run gets the one after it.
write_config q.yaml <<'YAML'
benchmark: {name: quick, output_dir: ./runs, git: {capture: false}, report: false}
stages:
  - name: one
    command: "true"
YAML
run_bc run -c q.yaml
expect_rc 0 "a run next to a temporary directory"
expect_in "$(head -n1 <<<"$OUT")" "Run ID: 501" "the ID of a temporary directory is not reused"
[ -f runs/501/metadata.json ] || fail "run 501 has no metadata.json"
pass "list does not show a temporary run directory; its ID is not given again"

# A creator killed after it took its owner lock leaves the lock file; one
# killed before leaves none, and neither does a live run on a file system
# without flock: such a directory goes only once it is old.
touch runs/.benchctl-new.500.deadXX/.benchctl.lock
mkdir -p runs/.benchctl-new.700.nolockXX runs/.benchctl-new.800.freshXX
touch -d '1 hour ago' runs/.benchctl-new.700.nolockXX
mkdir -p runs/.benchctl-new.600.liveXX
# held by this shell (fd 9) as a running benchctl holds its run's lock
exec 9>runs/.benchctl-new.600.liveXX/.benchctl.lock
flock -x 9
before=$(ls -a runs | grep -c '^\.benchctl-new\.' || true)
run_bc gc -o runs
expect_rc 0 gc
expect_in "$OUT" "removed $T/runs/.benchctl-new.500.deadXX: the directory of a run killed before it started"
[ ! -e runs/.benchctl-new.500.deadXX ] || fail "gc left the dead temporary directory"
[ -d runs/.benchctl-new.600.liveXX ] || fail "gc removed a temporary directory whose creator is alive"
expect_not_in "$OUT" "new.600" "gc output"
expect_in "$OUT" "removed $T/runs/.benchctl-new.700.nolockXX" "gc of an old directory without a lock file"
[ -d runs/.benchctl-new.800.freshXX ] || fail "gc removed a fresh directory without a lock file (a live run where flock is missing)"
left=$(ls -a runs | grep '^\.benchctl-new\.' | grep -v -e 600 -e 800 || true)
[ -z "$left" ] || fail "gc left temporary directories of killed runs: $left"
exec 9>&-
run_bc gc -o runs
expect_in "$OUT" "removed $T/runs/.benchctl-new.600.liveXX" "gc once its creator is gone"
pass "gc removes temporary run directories whose creator is gone ($before before, the live one kept while held)"
