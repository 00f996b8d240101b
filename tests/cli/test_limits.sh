#!/usr/bin/env bash
# Stage limits on this machine, for real: through cgroups where benchctl can
# write them (a memory hog killed with termination `memory`, a stage pinned
# to its CPUs as /proc/self/status shows, a fork bomb stopped by `pids`, a
# wall-time limit, a CPU-time limit, the whole tree killed, no cgroup left),
# then the same config with cgroups made unavailable (BENCHCTL_CGROUP_ROOT
# at an empty directory: affinity and rlimits, the run saying once per host
# what is not enforced), a private /tmp, a cleanup command after a killed
# stage, two stages at once on disjoint CPUs, and config errors with
# FILE:LINE:COL.
source "$(dirname "$0")/lib.sh"

ncpu=$(nproc)
tag="9$$"   # a sleep length no other test uses: its leftovers are ours
ours() { pgrep -f "sleep $tag" || true; }
cleanup_hooks+=('pkill -KILL -f "sleep $tag" 2>/dev/null')

# ---- config errors ---------------------------------------------------------
write_config bad.yaml <<'YAML'
benchmark:
  name: bad
  output_dir: ./runs-bad
  limits: {cpus: 'x-y'}
stages:
  - name: a
    command: 'true'
    limits: {memory: lots, walltime: 1s, pidz: 3}
  - name: bg
    command: sleep 1
    background: true
    limits: {walltime: 2s}
YAML
run_bc validate -c bad.yaml
expect_rc 2 "validate bad limits"
expect_in "$ERR" "bad.yaml:4:18: benchmark: limits: 'cpus' must be a count (2) or a list of CPUs"
expect_in "$ERR" "bad.yaml:8:22: stage 'a': limits: 'memory' must be a size"
expect_in "$ERR" "bad.yaml:8:42: unknown key 'pidz' in stage 'a': limits; valid keys: cpus, memory"
expect_in "$ERR" "bad.yaml:12:14: stage 'bg': limits: 'walltime' does not apply to background stages"
pass "limits: errors carry FILE:LINE:COL"

# ---- the config every run below uses -----------------------------------------
write_config lim.yaml <<YAML
benchmark:
  name: limits
  output_dir: ./runs
  limits: {nice: 5}
stages:
  - name: pinned
    command: grep Cpus_allowed_list /proc/self/status; grep -E '^[0-9]+ +' /proc/self/stat >/dev/null
    limits: {cpus: 1}
  - name: hog
    command: python3 -c "x = bytearray(200 << 20); print(len(x))"
    limits: {memory: 64M}
    continue_on_error: true
    cleanup: echo "\$BENCHCTL_STAGE_TERMINATION \$BENCHCTL_STAGE_STATUS" > hog.cleanup
  - name: bomb
    shell: sh -c
    command: 'i=0; while [ \$i -lt 60 ]; do sleep $tag & i=\$((i+1)); done; exit 0'
    limits: {pids: 10}
    continue_on_error: true
  - name: wall
    command: sleep $tag & sleep $tag
    limits: {walltime: 1s}
    continue_on_error: true
  - name: spin
    command: 'while :; do :; done'
    limits: {cputime: 1s}
    continue_on_error: true
  - name: tmp
    command: touch /tmp/bc-private-$$ && ls /tmp
    limits: {private_tmp: true, memory: 256M}
  - name: grow
    command: python3 -c "x = [b'x' * (1 << 20) for _ in range(300)]"
    limits: {memory: 128M}
    continue_on_error: true
  - name: twocpu
    shell: sh -c
    command: |
      for i in 1 2; do
        python3 -c 'import time; t = time.process_time()
      while time.process_time() - t < 0.7: pass' &
      done
      wait
    limits: {cputime: 1s}
    continue_on_error: true
  - name: rep
    shell: sh -c
    command: |
      n=\$(cat rep.count 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n > rep.count
      python3 -c "x = b'x' * (\$n * 16 << 20)"
    repeat: 3
    limits: {memory: 256M}
YAML
stage() { json "$1" "[s for s in j['stages'] if s['name'] == '$2'][0]$3"; }
not_ours_left() {
  local left
  left=$(ours)
  [ -z "$left" ] || fail "$1: processes left behind: $(ps -o pid,cmd -p "$(echo $left | tr ' ' ,)")"
}

cg_root=/sys/fs/cgroup
writable_cgroup=false
if [ "$(id -u)" = 0 ] && { [ -w "$cg_root/memory" ] || [ -w "$cg_root/cgroup.subtree_control" ]; }; then
  writable_cgroup=true
fi

# ---- with cgroups ------------------------------------------------------------
if $writable_cgroup; then
  run_bc run -c lim.yaml
  expect_rc 1 "run with cgroups (hog, bomb, wall, spin fail)"
  m=runs/1/metadata.json
  cg=$(json $m "j['stages'][0]['limits']['cgroup']")
  [ "$cg" = v1 ] || [ "$cg" = v2 ] || fail "cgroup mode: $cg"
  # pinned: its CPUs in the record are the ones the kernel gave it
  cpus=$(stage $m pinned "['limits']['cpus']")
  expect_in "$(cat runs/1/logs/pinned.log)" "Cpus_allowed_list:	$cpus" "pinned stage's log"
  [ "$(stage $m pinned "['limits']['enforced']['cpus']")" = "cgroup${cg#v}" ] ||
    fail "cpus not enforced by the cgroup: $(stage $m pinned "['limits']")"
  [ "$(stage $m pinned "['termination']")" = success ] || fail "pinned termination"
  [ "$(stage $m pinned "['limits']['enforced']['nice']")" = nice ] || fail "benchmark.limits nice"
  # hog: killed by the memory cgroup
  [ "$(stage $m hog "['termination']")" = memory ] || fail "hog: $(stage $m hog '')"
  [ "$(stage $m hog "['status']")" = failed ] || fail "hog status"
  expect_in "$(stage $m hog "['error']")" "hit its memory limit"
  [ "$(stage $m hog "['limits']['peak_memory_bytes'] <= 64 << 20")" = True ] ||
    fail "hog peak above its limit: $(stage $m hog "['limits']")"
  [ "$(cat hog.cleanup)" = "memory failed" ] || fail "cleanup after the kill: $(cat hog.cleanup)"
  [ "$(stage $m hog "['cleanup_command']['termination']")" = success ] || fail "cleanup record"
  # bomb: forks refused at 10, the rest of its tree killed
  [ "$(stage $m bomb "['termination']")" = pids ] || fail "bomb: $(stage $m bomb '')"
  [ "$(stage $m bomb "['limits']['leftover_processes_killed'] >= 5")" = True ] ||
    fail "bomb's leftovers: $(stage $m bomb "['limits']")"
  # wall: stopped at its walltime; its background child too
  [ "$(stage $m wall "['termination']")" = walltime ] || fail "wall: $(stage $m wall '')"
  [ "$(stage $m wall "['status']")" = timeout ] || fail "wall status"
  # spin: CPU time limit
  [ "$(stage $m spin "['termination']")" = cputime ] || fail "spin: $(stage $m spin '')"
  [ "$(stage $m spin "['limits']['cpu_time_s'] >= 0.5")" = True ] || fail "spin cpu time"
  # grow: its memory grows until the cgroup stops it
  [ "$(stage $m grow "['termination']")" = memory ] || fail "grow: $(stage $m grow '')"
  # twocpu: two children each under the cputime limit, together over it:
  # the whole tree is capped, not only each process
  [ "$(stage $m twocpu "['termination']")" = cputime ] || fail "twocpu: $(stage $m twocpu '')"
  [ "$(stage $m twocpu "['limits']['enforced']['cputime']")" = "cgroup${cg#v}" ] ||
    fail "twocpu: cputime not capped by the cgroup: $(stage $m twocpu "['limits']")"
  [ "$(stage $m twocpu "['limits']['cpu_time_s'] >= 1")" = True ] ||
    fail "twocpu: stopped before its limit: $(stage $m twocpu "['limits']")"
  # rep: every repetition's findings, the peak of the peaks
  [ "$(stage $m rep "['termination']")" = success ] || fail "rep: $(stage $m rep '')"
  [ "$(json $m "[r['termination'] for r in [s for s in j['stages'] if s['name'] == 'rep'][0]['limits']['runs']]")" = \
    "['success', 'success', 'success']" ] || fail "rep runs: $(stage $m rep "['limits']")"
  [ "$(json $m "(lambda l: l['peak_memory_bytes'] == max(r['peak_memory_bytes'] for r in l['runs']) and l['runs'][2]['peak_memory_bytes'] > l['runs'][0]['peak_memory_bytes'] + (16 << 20))([s for s in j['stages'] if s['name'] == 'rep'][0]['limits'])")" = True ] ||
    fail "rep: the peak is not the peak of the runs' peaks: $(stage $m rep "['limits']")"
  [ "$(json $m "(lambda l: abs(l['cpu_time_s'] - sum(r['cpu_time_s'] for r in l['runs'])) < 1e-3)([s for s in j['stages'] if s['name'] == 'rep'][0]['limits'])")" = True ] ||
    fail "rep: CPU time is not the runs' sum: $(stage $m rep "['limits']")"
  rm -f rep.count
  not_ours_left "cgroup run"
  # inspect and the HTML report show them
  run_bc inspect -c lim.yaml 1
  expect_rc 0 "inspect"
  expect_in "$OUT" "termination memory, cgroup $cg; enforced memory (cgroup${cg#v})"
  expect_in "$OUT" "termination pids"
  expect_in "$(cat runs/1/report.html)" "<h2>Limits</h2>"
  mark=$(json $m "j['run_mark']")
  left=$(find $cg_root -maxdepth 4 -name "benchctl-${mark:0:16}-*" 2>/dev/null | head -3)
  [ -z "$left" ] || fail "cgroups left behind: $left"
  pass "cgroup ($cg): memory, cpus, pids, walltime, cputime enforced; tree killed; cgroups removed"

  # A crash (benchctl, its watchdog and the wrapper killed with -9) leaves
  # the cgroup; `benchctl gc` removes it.
  write_config crash.yaml <<YAML
benchmark: {name: crash, output_dir: ./runs-crash}
stages:
  - name: long
    command: sleep $tag
    limits: {memory: 64M}
YAML
  "$BENCHCTL" run -c crash.yaml >crash.out 2>&1 &
  bp=$!
  cleanup_hooks+=("kill -9 $bp 2>/dev/null")
  sp=
  for _ in $(seq 400); do
    sp=$(pgrep -f "^sleep $tag" | head -1 || true)
    [ -n "$sp" ] && break
    sleep 0.05
  done
  [ -n "$sp" ] || fail "the limited stage never started: $(cat crash.out)"
  is_wrapper() { case "$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" in *"BC_LIM_MODE is one of"*) ;; *) return 1 ;; esac; }
  wp=$sp
  for _ in 1 2 3 4 5; do # up to the wrapper (isolate.sh)
    wp=$(ps -o ppid= -p "$wp" | tr -d ' ')
    is_wrapper "$wp" && break
  done
  is_wrapper "$wp" || fail "no wrapper above $sp"
  w=$(pgrep -P $bp -x benchctl-watch || true)
  [ -n "$w" ] && kill -9 $w
  kill -9 $bp
  wait $bp 2>/dev/null || true
  kill -9 "$wp"
  mark=$(json runs-crash/1/metadata.json "j['run_mark']")
  [ -n "$(find $cg_root -maxdepth 4 -name "benchctl-${mark:0:16}-*" | head -1)" ] ||
    fail "the crash should have left the stage's cgroup"
  run_bc gc -c crash.yaml
  expect_rc 0 "gc after a crash"
  expect_in "$OUT" "cgroups of limited stages on host 'local'"
  left=$(find $cg_root -maxdepth 4 -name "benchctl-${mark:0:16}-*" 2>/dev/null | head -3)
  [ -z "$left" ] || fail "gc left cgroups: $left"
  not_ours_left "gc"
  pass "benchctl gc removes the cgroups a crashed run left"
else
  echo "skip: no writable cgroup here (not root?)"
fi

# ---- without cgroups: affinity and rlimits -------------------------------------
mkdir -p "$T/no-cgroups"
BENCHCTL_CGROUP_ROOT="$T/no-cgroups" run_bc run -c lim.yaml
expect_rc 1 "run without cgroups"
m=$(ls -d runs/*/metadata.json | sort -V | tail -1)
[ "$(json "$m" "j['stages'][0]['limits']['cgroup']")" = none ] || fail "fallback cgroup mode"
cpus=$(stage "$m" pinned "['limits']['cpus']")
log=$(dirname "$m")/logs/pinned.log
if command -v taskset >/dev/null; then
  expect_in "$(cat "$log")" "Cpus_allowed_list:	$cpus" "pinned stage's log (affinity)"
  [ "$(stage "$m" pinned "['limits']['enforced']['cpus']")" = affinity ] || fail "affinity"
fi
[ "$(stage "$m" hog "['limits']['enforced']['memory']")" = rlimit ] || fail "memory rlimit"
[ "$(stage "$m" hog "['status']")" = failed ] || fail "hog under RLIMIT_AS should fail"
[ "$(stage "$m" bomb "['limits']['measured']")" = "['pids']" ] || fail "pids measured only"
[ "$(stage "$m" wall "['termination']")" = walltime ] || fail "fallback walltime"
[ "$(stage "$m" spin "['termination']")" = cputime ] || fail "fallback cputime"
# grow: its allocations fail at RLIMIT_AS; its peak RSS says why
[ "$(stage "$m" grow "['termination']")" = memory ] || fail "fallback grow: $(stage "$m" grow '')"
expect_in "$(stage "$m" grow "['limits']['termination_note']")" "inferred under the rlimit fallback"
expect_in "$ERR" "stage 'grow' on host 'local' ran out of its memory limit (128.0 MiB)"
# ... but the one-shot hog never got near its limit: only `failed`
[ "$(stage "$m" hog "['termination']")" = failed ] || fail "fallback hog: $(stage "$m" hog '')"
# twocpu: without a cgroup, each process is capped, the tree only measured
[ "$(stage "$m" twocpu "['termination']")" = success ] || fail "fallback twocpu: $(stage "$m" twocpu '')"
[ "$(stage "$m" twocpu "['limits']['enforced']['cputime']")" = rlimit ] || fail "fallback twocpu rlimit"
[ "$(json "$m" "len([s for s in j['stages'] if s['name'] == 'rep'][0]['limits']['runs'])")" = 3 ] ||
  fail "fallback rep: $(stage "$m" rep "['limits']")"
# said once per host, though two stages ask for memory
[ "$(grep -c "memory limit not enforced on host local: no writable cgroup" <<<"$ERR")" = 1 ] ||
  fail "the memory warning should come once: $ERR"
expect_in "$ERR" "pids limit not enforced on host local"
not_ours_left "fallback run"
pass "no cgroups: affinity, RLIMIT_AS, RLIMIT_CPU; pids only measured; said once per host"

# ---- private /tmp ----------------------------------------------------------------
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
  [ ! -e /tmp/bc-private-$$ ] || fail "private_tmp: the stage's /tmp file is in the real /tmp"
  [ "$(stage "$m" tmp "['limits']['enforced']['private_tmp']")" = namespace ] || fail "tmp record"
  expect_in "$(cat "$(dirname "$m")/logs/tmp.log")" "bc-private-$$"
  pass "private_tmp: the stage saw its file, the host's /tmp never had it"
fi

# ---- two stages at once get disjoint CPUs ---------------------------------------
if [ "$ncpu" -ge 2 ]; then
  write_config pair.yaml <<'YAML'
benchmark: {name: pair, output_dir: ./runs-pair}
stages:
  - name: mon
    background: true
    command: grep Cpus_allowed_list /proc/self/status > mon.cpus; exec sleep 60
    limits: {cpus: 1}
  - name: fg
    command: |
      i=0; while [ ! -s mon.cpus ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done
      grep Cpus_allowed_list /proc/self/status > fg.cpus
    limits: {cpus: 1}
YAML
  run_bc run -c pair.yaml
  expect_rc 0 "pair"
  a=$(cut -f2 mon.cpus) b=$(cut -f2 fg.cpus)
  [ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ] || fail "background and foreground share CPUs: $a / $b"
  [ "$(json runs-pair/1/metadata.json "j['stages'][0]['termination']")" = killed ] ||
    fail "a stopped background stage's termination"
  pass "a background and a foreground stage on disjoint CPUs ($a, $b)"

  # fan-out nodes on one host: each node its own CPU
  write_config nodes.yaml <<'YAML'
benchmark: {name: nodes, output_dir: ./runs-nodes}
stages:
  - name: fan
    nodes: 2
    command: grep Cpus_allowed_list /proc/self/status; sleep 0.3
    limits: {cpus: 1}
YAML
  run_bc run -c nodes.yaml
  expect_rc 0 "nodes"
  got=$(json runs-nodes/1/metadata.json "sorted(s['limits']['cpus'] for s in j['stages'] if 'limits' in s)")
  [ "$(jsons "len(set(j)) == 2" <<<"${got//\'/\"}")" = True ] || fail "two nodes should get two CPUs: $got"
  for n in 0 1; do # each saw the CPU its record names
    c=$(json runs-nodes/1/metadata.json "[s for s in j['stages'] if s.get('node') == $n][0]['limits']['cpus']")
    expect_in "$(cat runs-nodes/1/logs/fan/node-$n.log)" "Cpus_allowed_list:	$c"
  done
  pass "fan-out nodes on one host get disjoint CPUs"
fi
