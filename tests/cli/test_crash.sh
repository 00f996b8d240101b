#!/usr/bin/env bash
# benchctl killed with SIGKILL in the middle of a run: the processes its
# stages started on this machine (in their process group, or escaped with
# setsid) are stopped by the run's watchdog; the next command that reads
# the store shows the run as `crashed`, and says why.  A normal run stops
# a daemon its stage left behind with setsid.
source "$(dirname "$0")/lib.sh"
marker="crashtest-$$-$RANDOM"
alive() { pgrep -f "$marker" >/dev/null; }

write_config c.yaml <<YAML
benchmark: {name: crash, output_dir: ./runs}
stages:
  - name: first
    command: echo done-first
  - name: long
    command: |
      setsid bash -c 'exec -a $marker-daemon sleep 300' </dev/null >/dev/null 2>&1 &
      exec -a $marker-stage sleep 300
YAML
"$BENCHCTL" run -c c.yaml >out 2>err &
pid=$!
cleanup_hooks+=("kill -9 $pid 2>/dev/null; pkill -9 -f $marker")
# Wait until the long stage and its daemon run (state, not time).
for _ in $(seq 600); do
  [ "$(pgrep -fc "$marker")" -ge 2 ] && break
  sleep 0.1
done
[ "$(pgrep -fc "$marker")" -ge 2 ] || fail "the stage and its daemon never started: $(cat err)"
kill -9 $pid
wait $pid 2>/dev/null || true
# The watchdog stops them (SIGTERM, then SIGKILL after 2 s).
for _ in $(seq 300); do alive || break; sleep 0.1; done
if alive; then fail "left behind after kill -9: $(pgrep -fa "$marker")"; fi
# ... and removes the run's private directory on this machine
pdir=$(python3 -c 'import json,sys; print([j["private_dir"] for j in map(json.loads, open(sys.argv[1])) if j.get("controller")][0])' runs/1/.benchctl-private-dirs.jsonl) ||
  fail "the local private directory is not recorded: $(cat runs/1/.benchctl-private-dirs.jsonl 2>&1)"
for _ in $(seq 100); do [ -d "$pdir" ] || break; sleep 0.1; done
[ ! -d "$pdir" ] || fail "the run's private directory $pdir is left after kill -9"
pass "kill -9: the stage and a setsid daemon it started are stopped by the watchdog, the private directory removed"

[ "$(json runs/1/metadata.json 'j["status"]')" = running ] || fail "metadata.json says running until read"
run_bc list -c c.yaml
expect_rc 0 list
expect_in "$OUT" "crashed"
[ "$(json runs/1/metadata.json 'j["status"]')" = crashed ] || fail "list marked the run crashed"
expect_in "$(json runs/1/metadata.json 'j["error"]')" "ended without finishing"
[ "$(head -1 runs/1/stages.jsonl | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])')" = first ] \
  || fail "the finished stage is in stages.jsonl"
run_bc inspect 1 -c c.yaml
expect_in "$OUT" "crashed"
pass "the next command shows the killed run as crashed, with why"

# A normal run: the daemon its stage left with setsid is stopped at the end.
write_config d.yaml <<YAML
benchmark: {name: daemon, output_dir: ./druns}
stages:
  - name: start-daemon
    command: |
      setsid bash -c 'exec -a $marker-left sleep 300' </dev/null >/dev/null 2>&1 &
      d=\$!
      # until it has left the stage's session (then only the marker finds it)
      for i in \$(seq 600); do
        [ "\$(ps -o sid= -p \$d)" != "\$(ps -o sid= -p \$\$)" ] && break
        sleep 0.05
      done
YAML
run_bc run -c d.yaml
expect_rc 0 "a run whose stage leaves a setsid daemon"
if alive; then fail "a setsid daemon outlived the run: $(pgrep -fa "$marker")"; fi
expect_in "$ERR" "stopped 1 process the run's stages left on this machine"
[ "$(json druns/1/metadata.json 'j["status"]')" = success ] || fail "a finished run is not crashed"
run_bc list -c d.yaml
expect_not_in "$OUT" crashed "a finished run"
pass "a daemon left with setsid is stopped when the run ends"

# kill -9 at random moments (a bounded number of trials) of runs with a
# background stage, a foreground stage and a setsid daemon: after each, no
# process of the run is left once its watchdog has acted, and the next
# command shows every killed run as crashed (none stays "running").
trials=${BENCHCTL_KILL_TRIALS:-10}
km="kill9-$$-$RANDOM"
kalive() { pgrep -f "$km" >/dev/null; }
cleanup_hooks+=("pkill -9 -f $km")
write_config k.yaml <<YAML
benchmark: {name: kill9, output_dir: ./kruns}
stages:
  - name: monitor
    background: true
    command: exec -a $km-bg sleep 300
  - name: warm
    command: sleep 0.2
  - name: daemonize
    command: |
      setsid bash -c 'exec -a $km-daemon sleep 300' </dev/null >/dev/null 2>&1 &
  - name: main
    command: exec -a $km-fg sleep 300
YAML
left_total=0
for i in $(seq "$trials"); do
  "$BENCHCTL" run -c k.yaml >/dev/null 2>&1 </dev/null &
  pid=$!
  # A random moment: 0 to 1.5 s after the start (loading, the directory,
  # the first stages, or everything running).
  sleep "$((RANDOM % 2)).$((RANDOM % 10))"
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  for _ in $(seq 100); do kalive || break; sleep 0.1; done
  n=$(pgrep -fc "$km" || true)
  left_total=$((left_total + n))
  [ "$n" = 0 ] || echo "trial $i: left behind: $(pgrep -fa "$km")" >&2
  pkill -9 -f "$km" || true
done
[ "$left_total" = 0 ] || fail "processes left after kill -9: $left_total over $trials trials"
run_bc list -c k.yaml
expect_rc 0 "list after the kill trials"
running=0 crashed=0 other=0 nometa=0
for d in kruns/[0-9]*; do
  [ -d "$d" ] || continue
  # killed in the instant between the directory and its first metadata
  [ -f "$d/metadata.json" ] || { nometa=$((nometa + 1)); continue; }
  case "$(json "$d/metadata.json" 'j["status"]')" in
    running) running=$((running + 1)) ;;
    crashed) crashed=$((crashed + 1)) ;;
    *) other=$((other + 1)) ;;
  esac
done
[ "$running" = 0 ] || fail "$running killed runs still say running after list"
# A run killed before its metadata.json existed has no numbered directory
# (runstore_create); gc removes its temporary one.
[ "$nometa" = 0 ] || fail "$nometa run directories without metadata.json after kill -9"
run_bc gc -c k.yaml
expect_rc 0 "gc after the kill trials"
# (one killed in the few instructions between its mkdtemp and its lock
# file is kept for 10 minutes, like a live run on a file system without
# flock: runstore_stale_new)
tmpdirs=$(cd kruns && for t in .benchctl-new.*; do if [ -e "$t/.benchctl.lock" ]; then echo "$t"; fi; done)
[ -z "$tmpdirs" ] || fail "gc left temporary run directories: $tmpdirs"
pass "kill -9 at random moments ($trials trials): 0 processes left, $crashed runs crashed, 0 running, 0 without metadata.json"
